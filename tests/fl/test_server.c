/* The server's round protocol: seeded sampling, submit checks (each rejected
 * update counted with its reason), quorum, arrival-order independence, and
 * checkpoints (resume is bit-exact, damage is EAI_E_FORMAT). Updates are
 * synthetic: client k moves the model by a fixed pseudo-random vector. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/core_impl.h"
#include "edgeai/fl.h"

#define NP 37
#define NT 30

static float init[NP];

static float hashf(uint32_t a, uint32_t b, uint32_t c)
{
    uint32_t h = a * 2654435761u ^ b * 40503u ^ c * 2246822519u;
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    return (float)(h % 20001) / 10000.0f - 1.0f; /* [-1, 1] */
}

/* Client k's update for round r from global g. */
static void update_for(const float *g, uint32_t k, uint32_t r, float *x, eai_fl_update_t *u)
{
    for (int j = 0; j < NP; j++)
        x[j] = g[j] + 0.1f * hashf(k, r, (uint32_t)j);
    *u = (eai_fl_update_t){.round = r,
                           .client = k,
                           .n_samples = 10 + k,
                           .local_steps = 3,
                           .params = x,
                           .train_loss = 1.0 + k};
}

static eai_fl_server_t *make(eai_fl_server_opts_t o)
{
    eai_fl_server_t *s = NULL;
    assert_int_equal(eai_fl_server_create(&o, init, NP, NT, &s), EAI_OK);
    return s;
}

static void test_sampling(void **st)
{
    (void)st;
    eai_fl_server_opts_t o = {.n_clients = 10, .fraction = 0.3f, .seed = 7};
    eai_fl_server_t *a = make(o), *b = make(o);
    uint32_t ia[100], ib[100], first[3];
    int na, nb, differ = 0;
    for (int r = 0; r < 10; r++) {
        assert_int_equal(eai_fl_server_begin_round(a, ia, &na), EAI_OK);
        assert_int_equal(eai_fl_server_begin_round(b, ib, &nb), EAI_OK);
        assert_int_equal(na, 3); /* ceil(0.3 * 10) */
        assert_int_equal(nb, 3);
        assert_memory_equal(ia, ib, sizeof(uint32_t) * 3);
        for (int i = 0; i < na; i++) {
            assert_true(ia[i] < 10);
            if (i) assert_true(ia[i] > ia[i - 1]); /* ascending, distinct */
        }
        if (r == 0)
            memcpy(first, ia, sizeof first);
        else
            differ += memcmp(first, ia, sizeof first) != 0;
        /* everyone answers so the rounds advance */
        float x[3][NP];
        for (int i = 0; i < na; i++) {
            eai_fl_update_t u;
            update_for(eai_fl_server_global(a), ia[i], (uint32_t)r, x[i], &u);
            assert_int_equal(eai_fl_server_submit(a, &u), EAI_OK);
            assert_int_equal(eai_fl_server_submit(b, &u), EAI_OK);
        }
        assert_int_equal(eai_fl_server_finish_round(a, NULL), EAI_OK);
        assert_int_equal(eai_fl_server_finish_round(b, NULL), EAI_OK);
    }
    assert_true(differ > 0); /* the sample changes with the round */
    eai_fl_server_destroy(a);
    eai_fl_server_destroy(b);

    /* 0.1f * 100 is 10.0000001 in float: still 10 clients */
    eai_fl_server_t *c = make((eai_fl_server_opts_t){.n_clients = 100, .fraction = 0.1f});
    assert_int_equal(eai_fl_server_begin_round(c, ia, &na), EAI_OK);
    assert_int_equal(na, 10);
    eai_fl_server_destroy(c);
    /* min_clients wins over a small fraction; fraction 0 means everyone */
    c = make((eai_fl_server_opts_t){.n_clients = 10, .fraction = 0.1f, .min_clients = 4});
    assert_int_equal(eai_fl_server_begin_round(c, ia, &na), EAI_OK);
    assert_int_equal(na, 4);
    assert_int_equal(eai_fl_server_begin_round(c, ia, &na), EAI_E_STATE); /* already open */
    eai_fl_server_destroy(c);
    c = make((eai_fl_server_opts_t){.n_clients = 6});
    assert_int_equal(eai_fl_server_begin_round(c, ia, &na), EAI_OK);
    assert_int_equal(na, 6);
    eai_fl_server_destroy(c);
}

static void test_rejections(void **st)
{
    (void)st;
    eai_fl_server_t *s = make((eai_fl_server_opts_t){.n_clients = 8, .fraction = 0.5f, .seed = 3});
    uint32_t ids[8];
    int n;
    float x[NP], y[NP];
    eai_fl_update_t u;
    update_for(init, 0, 0, x, &u);
    assert_int_equal(eai_fl_server_submit(s, &u), EAI_E_STATE); /* no round open: 1 */
    assert_int_equal(eai_fl_server_begin_round(s, ids, &n), EAI_OK);
    assert_int_equal(n, 4);
    uint32_t other = 0; /* a client not in the sample */
    for (uint32_t k = 0; k < 8; k++) {
        bool in = false;
        for (int i = 0; i < n; i++)
            in |= ids[i] == k;
        if (!in) other = k;
    }
    update_for(init, ids[0], 0, x, &u);
    assert_int_equal(eai_fl_server_submit(s, &u), EAI_OK);
    assert_int_equal(eai_fl_server_submit(s, &u), EAI_E_STATE); /* duplicate: 2 */
    assert_non_null(strstr(eai_last_error(), "duplicate"));
    update_for(init, other, 0, y, &u);
    assert_int_equal(eai_fl_server_submit(s, &u), EAI_E_INVALID); /* unsampled: 3 */
    assert_non_null(strstr(eai_last_error(), "not sampled"));
    update_for(init, 99, 0, y, &u);
    assert_int_equal(eai_fl_server_submit(s, &u), EAI_E_INVALID); /* unknown id: 4 */
    update_for(init, ids[1], 0, y, &u);
    u.n_params = NP - 1;
    assert_int_equal(eai_fl_server_submit(s, &u), EAI_E_INVALID); /* wrong size: 5 */
    assert_non_null(strstr(eai_last_error(), "size"));
    u.n_params = NP;
    y[3] = NAN;
    assert_int_equal(eai_fl_server_submit(s, &u), EAI_E_INVALID); /* non-finite: 6 */
    update_for(init, ids[1], 1, y, &u);
    assert_int_equal(eai_fl_server_submit(s, &u), EAI_E_STATE); /* future round: 7 */
    update_for(init, ids[1], 0, y, &u);
    u.n_samples = 0;
    assert_int_equal(eai_fl_server_submit(s, &u), EAI_E_INVALID); /* no samples: 8 */
    u.n_samples = 5;
    assert_int_equal(eai_fl_server_submit(s, &u), EAI_OK); /* the fixed one is fine */
    assert_int_equal(eai_fl_server_n_received(s), 2);
    assert_false(eai_fl_server_quorum(s)); /* quorum 0: all 4 sampled */
    float before[NP];
    memcpy(before, eai_fl_server_global(s), sizeof before);
    eai_fl_round_report_t rep;
    assert_int_equal(eai_fl_server_finish_round(s, &rep), EAI_E_UNAVAILABLE);
    assert_memory_equal(before, eai_fl_server_global(s), sizeof before);
    assert_int_equal(eai_fl_server_round(s), 0);
    assert_int_equal(rep.n_rejected, 8);
    assert_int_equal(rep.n_accepted, 2);
    assert_int_equal(eai_fl_server_finish_round(s, &rep), EAI_E_STATE); /* closed */

    /* the retry samples again; everyone answers; then a late update */
    assert_int_equal(eai_fl_server_begin_round(s, ids, &n), EAI_OK);
    float xs[4][NP];
    for (int i = 0; i < n; i++) {
        update_for(init, ids[i], 0, xs[i], &u);
        assert_int_equal(eai_fl_server_submit(s, &u), EAI_OK);
    }
    assert_true(eai_fl_server_quorum(s));
    assert_int_equal(eai_fl_server_finish_round(s, &rep), EAI_OK);
    assert_int_equal(rep.n_accepted, 4);
    assert_int_equal(rep.n_rejected, 0);
    assert_int_equal(rep.n_sampled, 4);
    assert_int_equal(eai_fl_server_round(s), 1);
    assert_int_equal(eai_fl_server_begin_round(s, ids, &n), EAI_OK);
    update_for(init, ids[0], 0, x, &u);
    assert_int_equal(eai_fl_server_submit(s, &u), EAI_E_STATE);
    assert_non_null(strstr(eai_last_error(), "late"));
    eai_fl_server_destroy(s);

    eai_fl_server_opts_t bad = {.n_clients = 0};
    eai_fl_server_t *t = NULL;
    assert_int_equal(eai_fl_server_create(&bad, init, NP, NT, &t), EAI_E_INVALID);
    bad = (eai_fl_server_opts_t){.n_clients = 4, .fraction = 1.5f};
    assert_int_equal(eai_fl_server_create(&bad, init, NP, NT, &t), EAI_E_INVALID);
    assert_null(t);
}

static void test_quorum(void **st)
{
    (void)st;
    eai_fl_server_t *s = make((eai_fl_server_opts_t){.n_clients = 5, .quorum = 3});
    uint32_t ids[5];
    int n;
    float x[5][NP];
    eai_fl_update_t u;
    assert_int_equal(eai_fl_server_begin_round(s, ids, &n), EAI_OK);
    for (int i = 0; i < 3; i++) {
        assert_false(eai_fl_server_quorum(s));
        update_for(init, ids[i], 0, x[i], &u);
        assert_int_equal(eai_fl_server_submit(s, &u), EAI_OK);
    }
    assert_true(eai_fl_server_quorum(s));
    eai_fl_round_report_t rep;
    assert_int_equal(eai_fl_server_finish_round(s, &rep), EAI_OK);
    assert_int_equal(rep.n_accepted, 3);
    assert_int_equal(rep.n_sampled, 5);
    /* mean train loss over the three: (1 + 2 + 3) / 3 with clients 0, 1, 2 */
    assert_true(fabs(rep.mean_train_loss - 2.0) < 1e-12);
    eai_fl_server_destroy(s);
}

static void test_order_independent(void **st)
{
    (void)st;
    eai_fl_server_opts_t o = {.n_clients = 6, .strategy = {.algo = EAI_FL_FEDADAM}};
    eai_fl_server_t *a = make(o), *b = make(o);
    uint32_t ids[6];
    int n;
    float x[6][NP];
    eai_fl_update_t u[6];
    assert_int_equal(eai_fl_server_begin_round(a, ids, &n), EAI_OK);
    assert_int_equal(eai_fl_server_begin_round(b, ids, &n), EAI_OK);
    for (int i = 0; i < n; i++)
        update_for(init, ids[i], 0, x[i], &u[i]);
    const int order[6] = {4, 1, 5, 0, 3, 2};
    for (int i = 0; i < n; i++) {
        assert_int_equal(eai_fl_server_submit(a, &u[i]), EAI_OK);
        assert_int_equal(eai_fl_server_submit(b, &u[order[i]]), EAI_OK);
    }
    assert_int_equal(eai_fl_server_finish_round(a, NULL), EAI_OK);
    assert_int_equal(eai_fl_server_finish_round(b, NULL), EAI_OK);
    assert_memory_equal(eai_fl_server_global(a), eai_fl_server_global(b), sizeof(float) * NP);
    /* and the model moved */
    assert_true(memcmp(eai_fl_server_global(a), init, sizeof init) != 0);
    eai_fl_server_destroy(a);
    eai_fl_server_destroy(b);
}

static void run_rounds(eai_fl_server_t *s, int k)
{
    uint32_t ids[10];
    int n;
    float x[10][NP];
    for (int r = 0; r < k; r++) {
        assert_int_equal(eai_fl_server_begin_round(s, ids, &n), EAI_OK);
        const uint32_t round = eai_fl_server_round(s);
        for (int i = 0; i < n; i++) {
            eai_fl_update_t u;
            update_for(eai_fl_server_global(s), ids[i], round, x[i], &u);
            assert_int_equal(eai_fl_server_submit(s, &u), EAI_OK);
        }
        assert_int_equal(eai_fl_server_finish_round(s, NULL), EAI_OK);
    }
}

static char dir[64];

static void test_checkpoint_resume(void **st)
{
    (void)st;
    char path[128];
    snprintf(path, sizeof path, "%s/resume.ckpt", dir);
    eai_fl_server_opts_t o = {.n_clients = 10,
                              .fraction = 0.4f,
                              .seed = 11,
                              .strategy = {.algo = EAI_FL_FEDADAM, .server_lr = 0.05f}};
    eai_fl_server_t *a = make(o);
    run_rounds(a, 4);
    o.checkpoint = path;
    eai_fl_server_t *b = make(o);
    run_rounds(b, 2);
    eai_fl_server_destroy(b);
    static float other[NP]; /* ignored when resuming */
    for (int j = 0; j < NP; j++)
        other[j] = 5;
    assert_int_equal(eai_fl_server_create(&o, other, NP, NT, &b), EAI_OK);
    assert_int_equal(eai_fl_server_round(b), 2);
    run_rounds(b, 2);
    assert_int_equal(eai_fl_server_round(b), 4);
    assert_memory_equal(eai_fl_server_global(a), eai_fl_server_global(b), sizeof(float) * NP);
    const eai_fl_strategy_t *sa = eai_fl_server_strategy(a), *sb = eai_fl_server_strategy(b);
    assert_int_equal(eai_fl_strategy_state_floats(sa), 2 * NT);
    assert_memory_equal(eai_fl_strategy_state((eai_fl_strategy_t *)sa),
                        eai_fl_strategy_state((eai_fl_strategy_t *)sb), sizeof(float) * 2 * NT);
    eai_fl_server_destroy(a);
    eai_fl_server_destroy(b);

    /* a checkpoint for another model size is refused, not half-loaded */
    eai_fl_server_t *c = NULL;
    assert_int_equal(eai_fl_server_create(&o, init, NP - 1, NT, &c), EAI_E_INVALID);
    assert_null(c);
    unlink(path);
}

static void write_bytes(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

static void test_checkpoint_damage(void **st)
{
    (void)st;
    char path[128];
    snprintf(path, sizeof path, "%s/damage.ckpt", dir);
    eai_fl_server_opts_t o = {.n_clients = 4, .seed = 1, .checkpoint = path};
    eai_fl_server_t *s = make(o);
    run_rounds(s, 1);
    eai_fl_server_destroy(s);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_int_equal(n, 48 + NP * 4 + 4);

    unsigned char bad[4096];
    memcpy(bad, buf, n);
    bad[60] ^= 0x10; /* a flipped bit in the weights */
    write_bytes(path, bad, n);
    s = NULL;
    assert_int_equal(eai_fl_server_create(&o, init, NP, NT, &s), EAI_E_FORMAT);
    assert_non_null(strstr(eai_last_error(), "CRC"));
    assert_null(s);
    write_bytes(path, buf, n - 7); /* truncated */
    assert_int_equal(eai_fl_server_create(&o, init, NP, NT, &s), EAI_E_FORMAT);
    assert_non_null(strstr(eai_last_error(), "truncated"));
    write_bytes(path, "hello", 5);
    assert_int_equal(eai_fl_server_create(&o, init, NP, NT, &s), EAI_E_FORMAT);
    write_bytes(path, "", 0);
    assert_int_equal(eai_fl_server_create(&o, init, NP, NT, &s), EAI_E_FORMAT);
    memcpy(bad, buf, n);
    bad[8] = 9; /* a future version */
    write_bytes(path, bad, n);
    assert_int_equal(eai_fl_server_create(&o, init, NP, NT, &s), EAI_E_FORMAT);
    assert_non_null(strstr(eai_last_error(), "version"));
    /* the intact file still loads */
    write_bytes(path, buf, n);
    assert_int_equal(eai_fl_server_create(&o, init, NP, NT, &s), EAI_OK);
    assert_int_equal(eai_fl_server_round(s), 1);
    eai_fl_server_destroy(s);
    unlink(path);
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_not_equal(access(tmp, F_OK), 0); /* no temp file left behind */
}

/* Every allocation of create fails in turn: EAI_E_NOMEM, nothing leaked
 * (ASan), never a half-made server. */
static void test_oom(void **st)
{
    (void)st;
    eai_fl_server_opts_t o = {.n_clients = 5,
                              .checkpoint = "/nonexistent-dir/x.ckpt",
                              .strategy = {.algo = EAI_FL_SCAFFOLD}};
    bool finished = false;
    for (long k = 1; k < 100 && !finished; k++) {
        eai__test_fail_alloc(k);
        eai_fl_server_t *s = NULL;
        eai_status_t rc = eai_fl_server_create(&o, init, NP, NT, &s);
        long used = eai__test_fail_alloc(0);
        if (rc == EAI_OK) {
            finished = used < k; /* succeeded without reaching the failing one */
            eai_fl_server_destroy(s);
        } else {
            assert_int_equal(rc, EAI_E_NOMEM);
            assert_null(s);
        }
    }
    assert_true(finished);
}

int main(void)
{
    for (int j = 0; j < NP; j++)
        init[j] = hashf(1000, 1000, (uint32_t)j);
    snprintf(dir, sizeof dir, "/tmp/eai_fl_server_XXXXXX");
    if (!mkdtemp(dir)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sampling),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_quorum),
        cmocka_unit_test(test_order_independent),
        cmocka_unit_test(test_checkpoint_resume),
        cmocka_unit_test(test_checkpoint_damage),
        cmocka_unit_test(test_oom),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(dir);
    return rc;
}
