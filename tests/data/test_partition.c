/* Tests for the partitioners on synthetic label sets shaped like MNIST
 * (60,000 samples, 6,000 per class): every index exactly once, the sizes each
 * scheme promises, FedAvg's two-shards-per-client property, Dirichlet skew
 * against a chi-square bound, min_samples, one label per client, and bad
 * options. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edgeai/edgeai.h"

/* n samples of one float (its index); label of sample i from `label(i)`. */
static eai_dataset_t *make_ds(int64_t n, int n_classes, int32_t (*label)(int64_t, int))
{
    float *x = malloc((size_t)n * sizeof *x);
    int32_t *y = malloc((size_t)n * sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    for (int64_t i = 0; i < n; i++) {
        x[i] = (float)i;
        y[i] = label(i, n_classes);
    }
    eai_tensor_info_t s = {.name = "synthetic", .dtype = EAI_F32, .rank = 1, .dims = {1}};
    eai_dataset_t *ds;
    assert_int_equal(eai_dataset_from_memory(x, y, n, &s, n_classes, NULL, &ds), EAI_OK);
    free(x);
    free(y);
    return ds;
}

/* Interleaved labels, so sorting by label is real work. */
static int32_t mod_label(int64_t i, int nc)
{
    return (int32_t)(i % nc);
}

/* Unequal classes: class c has about (c + 1) / 55 of the samples. */
static int32_t skew_label(int64_t i, int nc)
{
    (void)nc;
    int64_t r = (i * 7919) % 55; /* 7919 is prime to 55: interleaved residues */
    int c = 0;
    for (int64_t end = 1; r >= end; end += c + 1)
        c++; /* class c owns c + 1 of the 55 residues */
    return c;
}

/* Every index in [0, n) is held by exactly one client or dropped; returns the
 * number held. */
static int64_t check_cover(const eai_partition_t *p, int64_t n)
{
    char *seen = calloc((size_t)n, 1);
    assert_non_null(seen);
    int64_t held = 0;
    for (int k = 0; k < eai_partition_n_clients(p); k++) {
        const int32_t *idx;
        int64_t m;
        assert_int_equal(eai_partition_client(p, k, &idx, &m), EAI_OK);
        for (int64_t i = 0; i < m; i++) {
            assert_true(idx[i] >= 0 && idx[i] < n);
            assert_int_equal(seen[idx[i]], 0);
            seen[idx[i]] = 1;
        }
        held += m;
    }
    assert_int_equal(held + eai_partition_n_dropped(p), n);
    free(seen);
    return held;
}

static int n_labels(const eai_partition_t *p, const eai_dataset_t *ds, int k, int64_t *hist)
{
    assert_int_equal(eai_partition_histogram(p, ds, k, hist), EAI_OK);
    int l = 0;
    for (int c = 0; c < eai_dataset_n_classes(ds); c++)
        l += hist[c] > 0;
    return l;
}

static void test_iid(void **state)
{
    (void)state;
    eai_dataset_t *ds = make_ds(60000, 10, mod_label);
    eai_partition_t *p;
    eai_partition_opts_t o = {.kind = EAI_PART_IID, .n_clients = 100, .seed = 3};
    assert_int_equal(eai_partition_create(ds, &o, &p), EAI_OK);
    assert_int_equal(check_cover(p, 60000), 60000);
    /* Reference: client k holds positions [600k, 600k + 600) of the seeded shuffle. */
    static int32_t ref[60000];
    for (int i = 0; i < 60000; i++)
        ref[i] = i;
    eai_shuffle_i32(ref, 60000, 3);
    for (int k = 0; k < 100; k++) {
        const int32_t *idx;
        int64_t m;
        eai_partition_client(p, k, &idx, &m);
        assert_int_equal(m, 600);
        assert_memory_equal(idx, ref + 600 * k, 600 * sizeof *idx);
    }
    eai_partition_destroy(p);
    eai_dataset_destroy(ds);
    /* 1003 samples over 10 clients: 100 each, 3 dropped. */
    ds = make_ds(1003, 10, mod_label);
    o.n_clients = 10;
    assert_int_equal(eai_partition_create(ds, &o, &p), EAI_OK);
    assert_int_equal(check_cover(p, 1003), 1000);
    assert_int_equal(eai_partition_n_dropped(p), 3);
    eai_partition_destroy(p);
    eai_dataset_destroy(ds);
}

static void test_shards(void **state)
{
    (void)state;
    /* FedAvg's MNIST setting: 100 clients x 2 shards of 300. With 6,000 per
     * class no shard straddles two labels, so every client sees <= 2 labels. */
    eai_dataset_t *ds = make_ds(60000, 10, mod_label);
    const int32_t *y = eai_dataset_labels(ds);
    eai_partition_t *p;
    eai_partition_opts_t o = {.kind = EAI_PART_SHARDS, .n_clients = 100, .seed = 1};
    assert_int_equal(eai_partition_create(ds, &o, &p), EAI_OK);
    assert_int_equal(check_cover(p, 60000), 60000);
    assert_int_equal(eai_partition_n_dropped(p), 0);
    int64_t hist[10];
    int two = 0;
    for (int k = 0; k < 100; k++) {
        const int32_t *idx;
        int64_t m;
        eai_partition_client(p, k, &idx, &m);
        assert_int_equal(m, 600);
        for (int s = 0; s < 2; s++) /* each shard is one label */
            for (int i = 1; i < 300; i++)
                assert_int_equal(y[idx[300 * s + i]], y[idx[300 * s]]);
        int l = n_labels(p, ds, k, hist);
        assert_true(l >= 1 && l <= 2);
        two += l == 2;
    }
    assert_true(two > 50); /* pairs of distinct shards mostly differ in label */
    eai_partition_destroy(p);
    /* Same seed, same split; another seed, another split. */
    eai_partition_t *p2, *p3;
    assert_int_equal(eai_partition_create(ds, &o, &p2), EAI_OK);
    o.seed = 2;
    assert_int_equal(eai_partition_create(ds, &o, &p3), EAI_OK);
    const int32_t *a, *b, *c;
    int64_t na, nb, nc;
    eai_partition_create(
        ds, &(eai_partition_opts_t){.kind = EAI_PART_SHARDS, .n_clients = 100, .seed = 1}, &p);
    eai_partition_client(p, 5, &a, &na);
    eai_partition_client(p2, 5, &b, &nb);
    eai_partition_client(p3, 5, &c, &nc);
    assert_memory_equal(a, b, (size_t)na * sizeof *a);
    assert_true(memcmp(a, c, (size_t)na * sizeof *a) != 0);
    eai_partition_destroy(p);
    eai_partition_destroy(p2);
    eai_partition_destroy(p3);
    eai_dataset_destroy(ds);

    /* Unequal classes and a remainder: shards straddle label boundaries, so a
     * client may see up to 4 labels, but most still see <= 2. */
    ds = make_ds(60007, 10, skew_label);
    o = (eai_partition_opts_t){.kind = EAI_PART_SHARDS, .n_clients = 100, .seed = 9};
    assert_int_equal(eai_partition_create(ds, &o, &p), EAI_OK);
    assert_int_equal(eai_partition_n_dropped(p), 7);
    assert_int_equal(check_cover(p, 60007), 60000);
    int at_most_two = 0;
    for (int k = 0; k < 100; k++) {
        int l = n_labels(p, ds, k, hist);
        assert_true(l >= 1 && l <= 4);
        at_most_two += l <= 2;
    }
    assert_true(at_most_two >= 80);
    eai_partition_destroy(p);
    /* Three shards per client. */
    o.shards_per_client = 3;
    o.n_clients = 20;
    assert_int_equal(eai_partition_create(ds, &o, &p), EAI_OK);
    const int32_t *idx;
    int64_t m;
    eai_partition_client(p, 19, &idx, &m);
    assert_int_equal(m, 3 * (60007 / 60));
    eai_partition_destroy(p);
    eai_dataset_destroy(ds);
}

/* Sum over clients and classes of (observed - expected)^2 / expected, where
 * expected is the client's size times the class's global share; per client. */
static double chi2(const eai_partition_t *p, const eai_dataset_t *ds, int k)
{
    int nc = eai_dataset_n_classes(ds);
    int64_t hist[16], n = eai_dataset_n(ds), tot[16] = {0}, m = 0;
    for (int64_t i = 0; i < n; i++)
        tot[eai_dataset_labels(ds)[i]]++;
    eai_partition_histogram(p, ds, k, hist);
    for (int c = 0; c < nc; c++)
        m += hist[c];
    double s = 0;
    for (int c = 0; c < nc; c++) {
        double e = (double)m * (double)tot[c] / (double)n;
        s += ((double)hist[c] - e) * ((double)hist[c] - e) / e;
    }
    return s;
}

static void test_dirichlet(void **state)
{
    (void)state;
    eai_dataset_t *ds = make_ds(60000, 10, mod_label);
    eai_partition_t *p, *q;
    eai_partition_opts_t o = {
        .kind = EAI_PART_DIRICHLET, .n_clients = 10, .seed = 5, .alpha = 0.1f};
    assert_int_equal(eai_partition_create(ds, &o, &p), EAI_OK);
    assert_int_equal(check_cover(p, 60000), 60000);
    assert_int_equal(eai_partition_create(ds, &o, &q), EAI_OK);
    for (int k = 0; k < 10; k++) { /* seeded: identical */
        const int32_t *a, *b;
        int64_t na, nb;
        eai_partition_client(p, k, &a, &na);
        eai_partition_client(q, k, &b, &nb);
        assert_int_equal(na, nb);
        assert_memory_equal(a, b, (size_t)na * sizeof *a);
        assert_true(na >= 10); /* default min_samples */
    }
    eai_partition_destroy(q);
    /* alpha 0.1: skewed. Each client's label histogram is far from the global
     * one (chi-square in the thousands; an IID client of 6,000 has ~9, the
     * degrees of freedom) and concentrated: its top label holds most of it. */
    double mean_chi = 0, mean_top = 0;
    for (int k = 0; k < 10; k++) {
        int64_t h[10], m = 0, top = 0;
        eai_partition_histogram(p, ds, k, h);
        for (int c = 0; c < 10; c++) {
            m += h[c];
            top = h[c] > top ? h[c] : top;
        }
        mean_chi += chi2(p, ds, k) / 10;
        mean_top += (double)top / (double)m / 10;
    }
    assert_true(mean_chi > 1000);
    assert_true(mean_top > 0.4);
    eai_partition_destroy(p);
    /* alpha 10^4: near IID. Shares per class are 0.1 +- 0.001, so a client's
     * counts are 600 +- 6 per class and its chi-square about 0.5; alpha 1
     * would give thousands. 30 (the 99.95% point of chi-square(9), what even
     * multinomial sampling would stay under) bounds every client. */
    o.alpha = 1e4f;
    o.seed = 6;
    assert_int_equal(eai_partition_create(ds, &o, &p), EAI_OK);
    assert_int_equal(check_cover(p, 60000), 60000);
    for (int k = 0; k < 10; k++) {
        double c = chi2(p, ds, k);
        assert_true(c < 30.0);
        const int32_t *idx;
        int64_t m;
        eai_partition_client(p, k, &idx, &m);
        assert_true(m > 5000 && m < 7000);
    }
    eai_partition_destroy(p);
    /* min_samples respected even at tiny alpha (many redraws). */
    o = (eai_partition_opts_t){.kind = EAI_PART_DIRICHLET,
                               .n_clients = 20,
                               .seed = 11,
                               .alpha = 0.05f,
                               .min_samples = 200};
    assert_int_equal(eai_partition_create(ds, &o, &p), EAI_OK);
    check_cover(p, 60000);
    for (int k = 0; k < 20; k++) {
        const int32_t *idx;
        int64_t m;
        eai_partition_client(p, k, &idx, &m);
        assert_true(m >= 200);
    }
    eai_partition_destroy(p);
    /* Impossible min_samples: a clear error, not a hang. */
    o.min_samples = 4000;
    assert_int_equal(eai_partition_create(ds, &o, &p), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "min_samples"));
    o.min_samples = 0;
    o.alpha = -1;
    assert_int_equal(eai_partition_create(ds, &o, &p), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "alpha"));
    eai_dataset_destroy(ds);
}

static void test_one_label(void **state)
{
    (void)state;
    eai_dataset_t *ds = make_ds(60000, 10, mod_label);
    eai_partition_t *p;
    eai_partition_opts_t o = {.kind = EAI_PART_ONE_LABEL, .n_clients = 20, .seed = 2};
    assert_int_equal(eai_partition_create(ds, &o, &p), EAI_OK);
    assert_int_equal(check_cover(p, 60000), 60000);
    int64_t hist[10];
    for (int k = 0; k < 20; k++) {
        assert_int_equal(n_labels(p, ds, k, hist), 1);
        assert_int_equal(hist[k % 10], 3000); /* two clients per label */
    }
    eai_partition_destroy(p);
    /* 4 clients: labels 0..3 only; the other six classes are dropped. */
    o.n_clients = 4;
    assert_int_equal(eai_partition_create(ds, &o, &p), EAI_OK);
    assert_int_equal(check_cover(p, 60000), 24000);
    assert_int_equal(eai_partition_n_dropped(p), 36000);
    for (int k = 0; k < 4; k++) {
        assert_int_equal(n_labels(p, ds, k, hist), 1);
        assert_int_equal(hist[k], 6000);
    }
    eai_partition_destroy(p);
    eai_dataset_destroy(ds);
    /* More clients for a label than it has samples. */
    ds = make_ds(30, 10, mod_label);
    o.n_clients = 30;
    assert_int_equal(eai_partition_create(ds, &o, &p), EAI_OK);
    check_cover(p, 30);
    eai_partition_destroy(p);
    eai_dataset_destroy(ds);
    ds = make_ds(55, 10, skew_label); /* label 0 has 1 sample, but 2 of 20 clients */
    o.n_clients = 20;
    assert_int_equal(eai_partition_create(ds, &o, &p), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "label"));
    eai_dataset_destroy(ds);
}

static void test_bad_options(void **state)
{
    (void)state;
    eai_dataset_t *ds = make_ds(100, 10, mod_label);
    eai_partition_t *p = NULL;
    eai_partition_opts_t o = {.kind = EAI_PART_IID, .n_clients = 0};
    assert_int_equal(eai_partition_create(ds, &o, &p), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "n_clients"));
    o.n_clients = 101;
    assert_int_equal(eai_partition_create(ds, &o, &p), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "101 clients for 100 samples"));
    o.n_clients = -3;
    assert_int_equal(eai_partition_create(ds, &o, &p), EAI_E_INVALID);
    o = (eai_partition_opts_t){.kind = EAI_PART_SHARDS, .n_clients = 60};
    assert_int_equal(eai_partition_create(ds, &o, &p), EAI_E_INVALID); /* 120 shards */
    assert_non_null(strstr(eai_last_error(), "shards"));
    o = (eai_partition_opts_t){.kind = (eai_partition_kind_t)9, .n_clients = 2};
    assert_int_equal(eai_partition_create(ds, &o, &p), EAI_E_INVALID);
    assert_int_equal(eai_partition_create(NULL, &o, &p), EAI_E_INVALID);
    assert_null(p);
    /* Client and histogram lookups out of range. */
    o = (eai_partition_opts_t){.kind = EAI_PART_IID, .n_clients = 2};
    assert_int_equal(eai_partition_create(ds, &o, &p), EAI_OK);
    const int32_t *idx;
    int64_t m, hist[10];
    assert_int_equal(eai_partition_client(p, 2, &idx, &m), EAI_E_INVALID);
    assert_int_equal(eai_partition_client(p, -1, &idx, &m), EAI_E_INVALID);
    assert_int_equal(eai_partition_histogram(p, ds, 5, hist), EAI_E_INVALID);
    eai_dataset_t *small = make_ds(10, 10, mod_label);
    assert_int_equal(eai_partition_histogram(p, small, 0, hist), EAI_E_INVALID);
    eai_dataset_destroy(small);
    eai_partition_destroy(p);
    eai_partition_destroy(NULL);
    eai_dataset_destroy(ds);
}

static void test_parse(void **state)
{
    (void)state;
    eai_partition_opts_t o = {.n_clients = 7};
    assert_int_equal(eai_partition_parse("iid", &o), EAI_OK);
    assert_int_equal(o.kind, EAI_PART_IID);
    assert_int_equal(o.n_clients, 7); /* other fields kept */
    assert_int_equal(eai_partition_parse("one-label", &o), EAI_OK);
    assert_int_equal(o.kind, EAI_PART_ONE_LABEL);
    assert_int_equal(eai_partition_parse("shards", &o), EAI_OK);
    assert_int_equal(o.kind, EAI_PART_SHARDS);
    assert_int_equal(eai_partition_parse("shards:3", &o), EAI_OK);
    assert_int_equal(o.shards_per_client, 3);
    assert_int_equal(eai_partition_parse("dirichlet", &o), EAI_OK);
    assert_int_equal(o.kind, EAI_PART_DIRICHLET);
    assert_int_equal(eai_partition_parse("dirichlet:0.3", &o), EAI_OK);
    assert_float_equal(o.alpha, 0.3f, 1e-7);
    const char *bad[] = {"",
                         "IID",
                         "iid:2",
                         "dirichlet:",
                         "dirichlet:-1",
                         "dirichlet:0",
                         "dirichlet:abc",
                         "dirichlet:nan",
                         "shards:0",
                         "shards:x",
                         "fedavg"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(eai_partition_parse(bad[i], &o), EAI_E_INVALID);
        assert_true(strlen(eai_last_error()) > 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iid),         cmocka_unit_test(test_shards),
        cmocka_unit_test(test_dirichlet),   cmocka_unit_test(test_one_label),
        cmocka_unit_test(test_bad_options), cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
