/* Tests for secure aggregation (src/fl/secagg.c): the unmasked sum equals the
 * plain sum within the quantisation bound with and without dropouts, a
 * masked vector looks uniform whatever the input, the server never holds an
 * input or an unopened share in the clear, and bad input fails cleanly. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "edgeai/secagg.h"
#include "fl/secagg_impl.h"

long eai__test_fail_alloc(long n); /* src/core/alloc.c */

static void fill(float *v, size_t n, uint64_t seed, double amp)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        v[i] = (float)(amp * (2.0 * (double)(seed >> 11) * 0x1p-53 - 1.0));
    }
}

/* n clients of len values in [-amp, amp]; runs eai_secagg_sum and compares
 * with the exact sum over survivors. */
static void run_sum(int n, int t, size_t len, const bool *dropped, uint64_t seed, double amp)
{
    float **x = calloc((size_t)n, sizeof *x), *sum = calloc(len, sizeof *sum);
    double *ref = calloc(len, sizeof *ref);
    for (int i = 0; i < n; i++) {
        x[i] = malloc(len * sizeof(float));
        fill(x[i], len, 1000 + i, amp);
        if (dropped && dropped[i]) continue;
        for (size_t k = 0; k < len; k++)
            ref[k] += x[i][k];
    }
    eai_secagg_opts_t o = {.threshold = t, .range = 4.0, .frac_bits = 16};
    eai_secagg_report_t rep;
    eai_status_t st = eai_secagg_sum((const float *const *)x, n, len, dropped, &o, seed, sum, &rep);
    if (st != EAI_OK) fail_msg("secagg_sum: %s: %s", eai_status_str(st), eai_last_error());
    int n_drop = 0;
    for (int i = 0; i < n; i++)
        n_drop += dropped && dropped[i];
    assert_int_equal(rep.n_clients, n);
    assert_int_equal(rep.n_dropped, n_drop);
    int m = n - n_drop;
    /* The bound by hand: m roundings of 2^-17 plus the float cast. */
    assert_float_equal(rep.max_quant_error, m * 0x1p-17 + m * 4.0 * 0x1p-24, 1e-15);
    double worst = 0;
    for (size_t k = 0; k < len; k++)
        worst = fmax(worst, fabs(sum[k] - ref[k]));
    if (!(worst <= rep.max_quant_error))
        fail_msg("max |sum - exact| = %g > bound %g", worst, rep.max_quant_error);
    /* A masking bug leaves values of order 2^32 / 2^16; rounding alone is tiny. */
    assert_true(worst < 1e-3);
    /* Bytes: keys 64, n-1 boxes of 88, the vector, one 32-byte share per client. */
    assert_int_equal(rep.bytes_per_client, 64 + (size_t)(n - 1) * 88 + 4 * len + (size_t)n * 32);
    for (int i = 0; i < n; i++)
        free(x[i]);
    free(x);
    free(sum);
    free(ref);
}

static void test_sum_no_dropouts(void **state)
{
    (void)state;
    run_sum(5, 3, 1000, NULL, 1, 4.0);
    run_sum(2, 2, 17, NULL, 2, 1.0);
    run_sum(1, 1, 5, NULL, 3, 1.0);
}

static void test_sum_dropouts(void **state)
{
    (void)state;
    bool one[5] = {false, true, false, false, false};
    run_sum(5, 3, 1000, one, 4, 4.0);
    bool two[5] = {true, false, false, true, false};
    run_sum(5, 3, 1000, two, 5, 4.0);
    bool last[5] = {false, false, false, true, true};
    run_sum(5, 3, 333, last, 6, 4.0);
}

static void test_too_many_dropouts(void **state)
{
    (void)state;
    float a[4] = {0}, *x[5] = {a, a, a, a, a}, sum[4];
    bool three[5] = {true, false, true, false, true};
    eai_secagg_opts_t o = {.threshold = 3};
    assert_int_equal(eai_secagg_sum((const float *const *)x, 5, 4, three, &o, 9, sum, NULL),
                     EAI_E_UNAVAILABLE);
    assert_non_null(strstr(eai_last_error(), "threshold is 3"));
}

/* Rounds 0 and 1 between n internal clients and a server. */
static void setup_round(eai__sa_params_t *p, eai__sa_client_t *cl, eai__sa_server_t *srv, int n,
                        int t, size_t len, uint64_t seed)
{
    eai_secagg_opts_t o = {.threshold = t, .range = 4.0, .frac_bits = 16};
    assert_int_equal(eai__sa_params_init(p, n, len, &o, seed), EAI_OK);
    assert_int_equal(eai__sa_server_init(srv, p), EAI_OK);
    uint8_t *msg = malloc((size_t)n * EAI__SA_SHARE_CT);
    for (int u = 0; u < n; u++) {
        assert_int_equal(eai__sa_client_init(&cl[u], p, u), EAI_OK);
        eai__sa_client_advertise(&cl[u], msg);
        eai__sa_server_advertise(srv, u, msg);
    }
    for (int u = 0; u < n; u++)
        assert_int_equal(eai__sa_client_set_peers(&cl[u], srv->keys, srv->advertised), EAI_OK);
    for (int u = 0; u < n; u++) {
        assert_int_equal(eai__sa_client_share(&cl[u], msg), EAI_OK);
        eai__sa_server_share(srv, u, msg);
    }
    for (int v = 0; v < n; v++)
        for (int u = 0; u < n; u++)
            if (u != v)
                assert_int_equal(
                    eai__sa_client_receive(&cl[v], u, eai__sa_server_mailbox(srv, u, v)), EAI_OK);
    free(msg);
}

static double chi2_uniform_bytes(const uint32_t *y, size_t len)
{
    double h[256] = {0};
    const uint8_t *b = (const uint8_t *)y;
    for (size_t i = 0; i < 4 * len; i++)
        h[b[i]]++;
    double e = 4.0 * len / 256, c = 0;
    for (int k = 0; k < 256; k++)
        c += (h[k] - e) * (h[k] - e) / e;
    return c;
}

/* y_i's bytes are uniform and uncorrelated with x_i, for very different x_i. */
static void test_masked_input_uniform(void **state)
{
    (void)state;
    enum { N = 3, LEN = 8192 };
    static float x[LEN];
    static uint32_t y[LEN];
    for (int kind = 0; kind < 3; kind++) {
        if (kind == 0) memset(x, 0, sizeof x);
        if (kind == 1)
            for (int i = 0; i < LEN; i++)
                x[i] = 4.0f; /* the largest input allowed */
        if (kind == 2) fill(x, LEN, 77, 4.0);
        eai__sa_params_t p;
        eai__sa_client_t cl[N];
        eai__sa_server_t srv;
        setup_round(&p, cl, &srv, N, 2, LEN, 100 + kind);
        assert_int_equal(eai__sa_client_mask(&cl[0], x, y), EAI_OK);
        double c = chi2_uniform_bytes(y, LEN);
        /* chi2 with 255 dof: mean 255, sd 22.6. */
        if (!(c < 255 + 7 * 22.6)) fail_msg("input kind %d: chi2 %g", kind, c);
        /* Correlation of y (as signed) with x. */
        double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
        for (int i = 0; i < LEN; i++) {
            double a = x[i], b = (double)(int32_t)y[i];
            sx += a, sy += b, sxx += a * a, syy += b * b, sxy += a * b;
        }
        double vx = sxx - sx * sx / LEN, vy = syy - sy * sy / LEN;
        if (vx > 0) assert_true(fabs((sxy - sx * sy / LEN) / sqrt(vx * vy)) < 6 / sqrt(LEN));
        /* Not one quantised value in the clear (2^-32 chance per word). */
        int same = 0;
        for (int i = 0; i < LEN; i++)
            same += y[i] == eai__sa_quantise(x[i], 16);
        assert_true(same <= 2);
        for (int u = 0; u < N; u++)
            eai__sa_client_free(&cl[u]);
        eai__sa_server_free(&srv);
    }
}

/* Over many protocol instances, the first masked word's distribution does
 * not depend on x: x = 0 and x = 4 (the two extremes of the quantised range
 * apart by 2^18) give the same top-byte histogram. */
static void test_masked_distribution_independent_of_x(void **state)
{
    (void)state;
    enum { RUNS = 1500 };
    double h[2][16] = {{0}};
    for (int r = 0; r < RUNS; r++)
        for (int k = 0; k < 2; k++) {
            eai__sa_params_t p;
            eai__sa_client_t cl[2];
            eai__sa_server_t srv;
            setup_round(&p, cl, &srv, 2, 2, 1, 5000 + (uint64_t)r);
            float x = k ? 4.0f : 0.0f;
            uint32_t y;
            assert_int_equal(eai__sa_client_mask(&cl[0], &x, &y), EAI_OK);
            h[k][y >> 28]++;
            eai__sa_client_free(&cl[0]);
            eai__sa_client_free(&cl[1]);
            eai__sa_server_free(&srv);
        }
    /* Two-sample chi-square, 15 dof (mean 15, sd 5.5), and each vs uniform. */
    double c = 0, c0 = 0, e = RUNS / 16.0;
    for (int b = 0; b < 16; b++) {
        c += (h[0][b] - h[1][b]) * (h[0][b] - h[1][b]) / (h[0][b] + h[1][b]);
        c0 += (h[0][b] - e) * (h[0][b] - e) / e;
    }
    assert_true(c < 15 + 7 * 5.5);
    assert_true(c0 < 15 + 7 * 5.5);
}

/* The server's state through a round with one dropout: its running sum never
 * equals an input, its mailbox never shows a share in the clear, and it gets
 * b shares of survivors and key shares of the dropped, never both. */
static void test_server_never_sees_inputs(void **state)
{
    (void)state;
    enum { N = 5, T = 3, LEN = 512 };
    static float x[N][LEN];
    static uint32_t y[LEN];
    eai__sa_params_t p;
    eai__sa_client_t cl[N];
    eai__sa_server_t srv;
    setup_round(&p, cl, &srv, N, T, LEN, 42);
    /* Shares are opaque in the mailbox. */
    for (int u = 0; u < N; u++)
        for (int v = 0; v < N; v++) {
            if (u == v) continue;
            const uint8_t *ct = eai__sa_server_mailbox(&srv, u, v);
            for (size_t o = 0; o + EAI__SA_KEY <= EAI__SA_SHARE_CT; o++) {
                assert_memory_not_equal(ct + o, cl[v].share_s + u * EAI__SA_KEY, EAI__SA_KEY);
                assert_memory_not_equal(ct + o, cl[v].share_b + u * EAI__SA_KEY, EAI__SA_KEY);
            }
        }
    bool drop[N] = {false, false, true, false, false};
    for (int u = 0; u < N; u++) {
        fill(x[u], LEN, 300 + u, 3.0);
        if (drop[u]) continue;
        assert_int_equal(eai__sa_client_mask(&cl[u], x[u], y), EAI_OK);
        assert_int_equal(eai__sa_server_masked(&srv, u, y), EAI_OK);
        for (int w = 0; w < N; w++) {
            int same = 0;
            for (int i = 0; i < LEN; i++)
                same += srv.acc[i] == eai__sa_quantise(x[w][i], 16);
            assert_true(same <= 2);
        }
    }
    assert_int_equal(eai__sa_server_masked(&srv, 0, y), EAI_E_STATE); /* twice */
    uint8_t out[N * EAI__SA_KEY];
    for (int v = 0; v < N; v++) {
        if (drop[v]) continue;
        assert_int_equal(eai__sa_client_unmask(&cl[v], srv.masked, out), EAI_OK);
        assert_int_equal(eai__sa_server_unmask(&srv, v, out), EAI_OK);
        for (int u = 0; u < N; u++) {
            const uint8_t *want = drop[u] ? cl[v].share_s : cl[v].share_b;
            const uint8_t *never = drop[u] ? cl[v].share_b : cl[v].share_s;
            assert_memory_equal(out + u * EAI__SA_KEY, want + u * EAI__SA_KEY, EAI__SA_KEY);
            assert_memory_not_equal(out + u * EAI__SA_KEY, never + u * EAI__SA_KEY, EAI__SA_KEY);
        }
    }
    static float sum[LEN];
    eai_secagg_report_t rep;
    assert_int_equal(eai__sa_server_finish(&srv, sum, &rep), EAI_OK);
    for (int i = 0; i < LEN; i++) {
        double ref = 0;
        for (int u = 0; u < N; u++)
            ref += drop[u] ? 0 : x[u][i];
        assert_true(fabs(sum[i] - ref) <= rep.max_quant_error);
    }
    for (int u = 0; u < N; u++)
        eai__sa_client_free(&cl[u]);
    eai__sa_server_free(&srv);
}

static void test_tampered_share(void **state)
{
    (void)state;
    eai__sa_params_t p;
    eai__sa_client_t cl[3];
    eai__sa_server_t srv;
    setup_round(&p, cl, &srv, 3, 2, 8, 11);
    uint8_t ct[EAI__SA_SHARE_CT];
    memcpy(ct, eai__sa_server_mailbox(&srv, 0, 1), sizeof ct);
    ct[20] ^= 1;
    assert_int_equal(eai__sa_client_receive(&cl[1], 0, ct), EAI_E_FORMAT);
    assert_non_null(strstr(eai_last_error(), "fails authentication"));
    /* Relayed to the wrong recipient: also rejected. */
    assert_int_equal(eai__sa_client_receive(&cl[2], 0, eai__sa_server_mailbox(&srv, 0, 1)),
                     EAI_E_FORMAT);
    assert_int_equal(eai__sa_client_receive(&cl[2], 2, ct), EAI_E_FORMAT);
    /* Too few survivors: clients refuse to unmask, the server refuses to finish. */
    bool masked[3] = {true, false, false};
    uint8_t out[3 * EAI__SA_KEY];
    assert_int_equal(eai__sa_client_unmask(&cl[0], masked, out), EAI_E_UNAVAILABLE);
    float sum[8];
    assert_int_equal(eai__sa_server_finish(&srv, sum, NULL), EAI_E_UNAVAILABLE);
    for (int u = 0; u < 3; u++)
        eai__sa_client_free(&cl[u]);
    eai__sa_server_free(&srv);
}

static void test_out_of_range(void **state)
{
    (void)state;
    float a[3] = {0.5f, -2.0f, 1.0f}, b[3] = {0.0f, 2.01f, 0.0f}, c[3] = {0, NAN, 0}, sum[3];
    const float *x[3] = {a, b, a};
    eai_secagg_opts_t o = {.range = 2.0};
    assert_int_equal(eai_secagg_sum(x, 3, 3, NULL, &o, 1, sum, NULL), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "x[1] = 2.01"));
    x[1] = c;
    assert_int_equal(eai_secagg_sum(x, 3, 3, NULL, &o, 1, sum, NULL), EAI_E_INVALID);
    /* The out-of-range client dropped: fine, its input is never used. */
    x[1] = b;
    bool drop[3] = {false, true, false};
    assert_int_equal(eai_secagg_sum(x, 3, 3, drop, &o, 1, sum, NULL), EAI_OK);
    assert_float_equal(sum[1], -4.0, 1e-4);
    /* Exactly at the range is allowed. */
    x[1] = a;
    assert_int_equal(eai_secagg_sum(x, 3, 3, NULL, &o, 1, sum, NULL), EAI_OK);
}

static void test_bad_args(void **state)
{
    (void)state;
    float a[2] = {0}, sum[2];
    const float *x[256];
    for (int i = 0; i < 256; i++)
        x[i] = a;
    eai_secagg_opts_t o = {0};
    assert_int_equal(eai_secagg_sum(NULL, 3, 2, NULL, &o, 1, sum, NULL), EAI_E_INVALID);
    assert_int_equal(eai_secagg_sum(x, 3, 2, NULL, &o, 1, NULL, NULL), EAI_E_INVALID);
    assert_int_equal(eai_secagg_sum(x, 0, 2, NULL, &o, 1, sum, NULL), EAI_E_INVALID);
    assert_int_equal(eai_secagg_sum(x, 256, 2, NULL, &o, 1, sum, NULL), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "GF(256)"));
    o.threshold = 4;
    assert_int_equal(eai_secagg_sum(x, 3, 2, NULL, &o, 1, sum, NULL), EAI_E_INVALID);
    o = (eai_secagg_opts_t){.frac_bits = 31};
    assert_int_equal(eai_secagg_sum(x, 3, 2, NULL, &o, 1, sum, NULL), EAI_E_INVALID);
    o = (eai_secagg_opts_t){.range = -1};
    assert_int_equal(eai_secagg_sum(x, 3, 2, NULL, &o, 1, sum, NULL), EAI_E_INVALID);
    /* The modulus must hold n * range * 2^frac_bits: 10 * 4096 * 2^16 = 2^31.3. */
    o = (eai_secagg_opts_t){.range = 4096};
    assert_int_equal(eai_secagg_sum(x, 10, 2, NULL, &o, 1, sum, NULL), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "overflows the 2^32 modulus"));
    o.frac_bits = 8; /* 10 * 4096 * 2^8 fits */
    assert_int_equal(eai_secagg_sum(x, 10, 2, NULL, &o, 1, sum, NULL), EAI_OK);
    /* A surviving client without input. */
    const float *y[3] = {a, NULL, a};
    assert_int_equal(eai_secagg_sum(y, 3, 2, NULL, NULL, 1, sum, NULL), EAI_E_INVALID);
}

static void test_reproducible(void **state)
{
    (void)state;
    enum { N = 4, LEN = 300 };
    static float xs[N][LEN], s1[LEN], s2[LEN], s3[LEN];
    const float *x[N];
    for (int i = 0; i < N; i++) {
        fill(xs[i], LEN, 50 + i, 10.0);
        x[i] = xs[i];
    }
    bool drop[N] = {false, false, true, false};
    assert_int_equal(eai_secagg_sum(x, N, LEN, drop, NULL, 123, s1, NULL), EAI_OK);
    assert_int_equal(eai_secagg_sum(x, N, LEN, drop, NULL, 123, s2, NULL), EAI_OK);
    assert_memory_equal(s1, s2, sizeof s1);
    /* OS randomness: different keys, the same sum (masks cancel exactly). */
    assert_int_equal(eai_secagg_sum(x, N, LEN, drop, NULL, 0, s3, NULL), EAI_OK);
    assert_memory_equal(s1, s3, sizeof s1);
    eai__sa_params_t p;
    eai__sa_client_t a, b, c;
    assert_int_equal(eai__sa_params_init(&p, 2, 1, NULL, 0), EAI_OK);
    eai__sa_client_init(&a, &p, 0);
    eai__sa_client_init(&b, &p, 0);
    assert_memory_not_equal(a.s_pk, b.s_pk, EAI__SA_KEY);
    p.seed = 5;
    eai__sa_client_init(&c, &p, 0);
    eai__sa_client_free(&a);
    eai__sa_client_init(&a, &p, 0);
    assert_memory_equal(a.s_pk, c.s_pk, EAI__SA_KEY);
    assert_memory_equal(a.b, c.b, EAI__SA_KEY);
    eai__sa_client_free(&a);
    eai__sa_client_free(&b);
    eai__sa_client_free(&c);
}

/* Every allocation failing in turn: EAI_E_NOMEM, nothing leaked (ASan). */
static void test_oom(void **state)
{
    (void)state;
    float a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, sum[8];
    const float *x[4] = {a, a, a, a};
    bool drop[4] = {false, true, false, false};
    eai_status_t st = EAI_E_NOMEM;
    long k = 1;
    for (; st == EAI_E_NOMEM && k < 1000; k++) {
        eai__test_fail_alloc(k);
        st = eai_secagg_sum(x, 4, 8, drop, NULL, 3, sum, NULL);
        eai__test_fail_alloc(0);
        if (st != EAI_OK && st != EAI_E_NOMEM)
            fail_msg("allocation %ld failing gave %s", k, eai_status_str(st));
    }
    assert_int_equal(st, EAI_OK);
    assert_true(k > 5); /* the failures were real */
    assert_float_equal(sum[7], 24.0, 1e-4);
}

/* The simulator's size: 10 clients x 44,426 floats (the simple CNN). Prints
 * the time for docs/privacy.md; no timing assert. */
static void test_cnn_sized(void **state)
{
    (void)state;
    enum { N = 10, LEN = 44426 };
    float **x = malloc(N * sizeof *x), *sum = malloc(LEN * sizeof *sum);
    double *ref = calloc(LEN, sizeof *ref);
    bool drop[N] = {false};
    drop[3] = drop[7] = true;
    for (int i = 0; i < N; i++) {
        x[i] = malloc(LEN * sizeof(float));
        fill(x[i], LEN, 900 + i, 1.0);
        if (!drop[i])
            for (int k = 0; k < LEN; k++)
                ref[k] += x[i][k];
    }
    eai_secagg_report_t rep;
    struct timespec t0, t1;
    double best = 1e9;
    for (int rep_i = 0; rep_i < 3; rep_i++) {
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_int_equal(
            eai_secagg_sum((const float *const *)x, N, LEN, drop, NULL, 7 + rep_i, sum, &rep),
            EAI_OK);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
        best = s < best ? s : best;
    }
    for (int k = 0; k < LEN; k++)
        assert_true(fabs(sum[k] - ref[k]) <= rep.max_quant_error);
    printf("secagg: n=%d len=%d dropped=2: best of 3 %.1f ms, %zu bytes/client, bound %.3g\n", N,
           LEN, best * 1e3, rep.bytes_per_client, rep.max_quant_error);
    for (int i = 0; i < N; i++)
        free(x[i]);
    free(x);
    free(sum);
    free(ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sum_no_dropouts),
        cmocka_unit_test(test_sum_dropouts),
        cmocka_unit_test(test_too_many_dropouts),
        cmocka_unit_test(test_masked_input_uniform),
        cmocka_unit_test(test_masked_distribution_independent_of_x),
        cmocka_unit_test(test_server_never_sees_inputs),
        cmocka_unit_test(test_tampered_share),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_oom),
        cmocka_unit_test(test_cnn_sized),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
