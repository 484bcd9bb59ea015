/* The XNNPACK backend's run-time thread choice: each invoke, and within a
 * pool invoke each node set up for the pool, times itself with the pool and
 * on the caller's thread and takes the faster way (eai__xnn_pick_way, used
 * at both levels). The policy is checked on made-up times; the outputs must
 * be the same bytes whichever way each invoke and node ran (the probes
 * alternate both), and the same as a one-thread session's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "runtime/xnn_cmp.h"
#include "runtime/xnnpack/xnn_impl.h"

static void fill(eai__xnn_times_t *r, int64_t inline_ns, int64_t pool_ns)
{
    for (int i = 0; i < EAI__XNN_RECENT; i++)
        r->ns[0][i] = inline_ns + i, r->ns[1][i] = pool_ns + i;
}

static void test_pick_way_policy(void **state)
{
    (void)state;
    eai__xnn_times_t r;
    fill(&r, 1000, 600);
    /* probing: caller's thread, pool, caller's thread, ... */
    for (uint32_t k = 0; k < 2 * EAI__XNN_PROBE; k++)
        assert_int_equal(eai__xnn_pick_way(k, &r), (int)(k & 1));
    /* the pool is faster: taken, except on the exploring eval */
    int explored = 0;
    for (uint32_t k = 2 * EAI__XNN_PROBE; k < 2 * EAI__XNN_PROBE + 3 * EAI__XNN_EXPLORE; k++) {
        const int w = eai__xnn_pick_way(k, &r);
        if (k % EAI__XNN_EXPLORE == EAI__XNN_EXPLORE - 1) {
            assert_int_equal(w, 0);
            explored++;
        } else {
            assert_int_equal(w, 1);
        }
    }
    assert_int_equal(explored, 3);
    /* the caller's thread is faster */
    fill(&r, 500, 900);
    assert_int_equal(eai__xnn_pick_way(40, &r), 0);
    assert_int_equal(eai__xnn_pick_way(63, &r), 1);
    /* a tie, or the caller's thread faster by less than a quarter, keeps
     * the pool; a quarter faster takes the caller's thread */
    fill(&r, 700, 700);
    assert_int_equal(eai__xnn_pick_way(40, &r), 1);
    fill(&r, 760, 1000);
    assert_int_equal(eai__xnn_pick_way(40, &r), 1);
    fill(&r, 740, 1000);
    assert_int_equal(eai__xnn_pick_way(40, &r), 0);
    /* the minimum of the recent times decides, not one stall: the pool's
     * ring holds one 50 ms stall and otherwise beats the caller's thread */
    fill(&r, 1000, 600);
    r.ns[1][2] = 50000000;
    assert_int_equal(eai__xnn_pick_way(40, &r), 1);
    /* a pool that became slow on every recent eval loses */
    for (int i = 0; i < EAI__XNN_RECENT; i++)
        r.ns[1][i] = 5000;
    assert_int_equal(eai__xnn_pick_way(40, &r), 0);
}

/* A 3x3 convolution of ~57M multiply-adds (well above the size where the
 * backend gives a node the pool) followed by a 1x1 one. */
static void build(th_t *t)
{
    const int64_t xd[4] = {1, 32, 56, 56}, w1d[4] = {64, 32, 3, 3}, w2d[4] = {48, 64, 1, 1};
    float *w1 = th_randv(th_numel(w1d, 4), 2), *w2 = th_randv(th_numel(w2d, 4), 3);
    th_begin(t, 13);
    int x = th_input(t, "x", EAI_F32, 4, xd);
    int a = th_const(t, "w1", EAI_F32, 4, w1d, w1);
    int b = th_const(t, "w2", EAI_F32, 4, w2d, w2);
    int h = th_value(t, "h"), y = th_value(t, "y");
    th_node(t, "Conv", (int[]){x, a}, 2, (int[]){h}, 1);
    th_attr_ints(t, "pads", (int64_t[]){1, 1, 1, 1}, 4);
    th_node(t, "Conv", (int[]){h, b}, 2, (int[]){y}, 1);
    th_output(t, y);
    free(w1);
    free(w2);
}

static void test_same_bytes_either_way(void **state)
{
    (void)state;
    XC_REQUIRE_XNNPACK();
    th_t t;
    build(&t);
    eai_status_t st = eai__model_from_graph(&t.g, &t.model);
    if (st != EAI_OK) fail_msg("model: %s: %s", eai_status_str(st), eai_last_error());
    eai_threadpool_t *pool;
    assert_int_equal(eai_threadpool_create(2, &pool), EAI_OK);
    void *inputs[8] = {0};
    eai_session_t *s1 = xc_session(&t, "xnnpack", NULL, inputs, 5);
    eai_session_t *s2 = xc_session(&t, "xnnpack", pool, inputs, 5);
    assert_int_equal(eai_session_invoke(s1), EAI_OK);
    assert_true(eai__session_n_on(s1, "xnnpack") >= 2);
    const float *want, *got;
    eai_tensor_info_t info;
    assert_int_equal(eai_session_get_output(s1, 0, (const void **)&want, &info), EAI_OK);
    const int64_t n = eai_tensor_info_numel(&info);
    assert_int_equal(n, 48 * 56 * 56);
    /* through the probes (both ways alternate) and one exploring invoke */
    for (int k = 0; k < 2 * EAI__XNN_PROBE + EAI__XNN_EXPLORE; k++) {
        assert_int_equal(eai_session_invoke(s2), EAI_OK);
        assert_int_equal(eai_session_get_output(s2, 0, (const void **)&got, NULL), EAI_OK);
        th_assert_f32_exact(got, want, n);
    }
    eai_session_destroy(s1);
    eai_session_destroy(s2);
    eai_threadpool_destroy(pool);
    free(inputs[0]);
    th_end(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pick_way_policy),
        cmocka_unit_test(test_same_bytes_either_way),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
