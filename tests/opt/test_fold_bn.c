/* BatchNormalization folding (src/opt/fold_bn.c): Conv of every rank and
 * group count, with and without bias, ConvTranspose with groups, Gemm with
 * transB 0/1, C present or not, alpha/beta; the folded graph must compute
 * the same outputs. Negative cases: non-constant statistics, a Conv output
 * read twice or being a graph output, training mode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "opt_check.h"

#define TOL 2e-5

/* The four BN vectors (var > 0) and the BN node reading `in`, writing "y". */
static int add_bn(th_t *t, int in, int64_t ch, const char *tag, uint64_t seed)
{
    char nm[4][32];
    static const char *const what[4] = {"gamma", "beta", "mean", "var"};
    int v[4];
    for (int k = 0; k < 4; k++) {
        snprintf(nm[k], sizeof nm[k], "%s_%s", tag, what[k]);
        v[k] =
            oc_const_rand(t, nm[k], 1, (int64_t[]){ch}, seed + (uint64_t)k, k == 3 ? 0.1f : -2, 2);
    }
    char yn[32];
    snprintf(yn, sizeof yn, "%s_y", tag);
    int y = th_value(t, yn);
    th_node(t, "BatchNormalization", (int[]){in, v[0], v[1], v[2], v[3]}, 5, &y, 1);
    th_attr_float(t, "epsilon", 1e-3f);
    return y;
}

/* x [N, C, 5, 6, 7 (by rank)] -> Conv(W, [b], group) -> BN -> output */
static void conv_bn(int rank, int64_t c, int64_t m, int64_t group, bool bias, bool transpose)
{
    th_t t;
    th_begin(&t, 13);
    int64_t xd[5] = {-1, c, 5, 6, 7}, wd[5] = {m, c / group, 3, 2, 3};
    if (transpose) {
        wd[0] = c;
        wd[1] = m / group;
    }
    int x = th_input(&t, "x", EAI_F32, rank, xd);
    int w = oc_const_rand(&t, "w", rank, wd, 11, -1, 1);
    int b = bias ? oc_const_rand(&t, "b", 1, (int64_t[]){m}, 12, -1, 1) : -1;
    int cv = th_value(&t, "conv");
    th_node(&t, transpose ? "ConvTranspose" : "Conv", (int[]){x, w, b}, bias ? 3 : 2, &cv, 1);
    th_attr_int(&t, "group", group);
    if (rank == 4) th_attr_ints(&t, "pads", (int64_t[]){1, 0, 1, 1}, 4);
    if (transpose && rank == 4) th_attr_ints(&t, "strides", (int64_t[]){2, 1}, 2);
    int y = add_bn(&t, cv, m, "bn", 20);
    th_output(&t, y);
    oc_t o;
    oc_apply(&t, eai__opt_fold_bn, &o);
    assert_int_equal(o.n, 1);
    assert_int_equal(oc_count(&o, "BatchNormalization"), 0);
    const eai__node_t *n = oc_node(&o, transpose ? "ConvTranspose" : "Conv");
    assert_int_equal(n->n_in, 3);
    assert_string_equal(oc_out_name(&o, n, 0), "bn_y");
    oc_equiv(&t, &o, TOL);
    oc_end(&t, &o);
}

static void test_conv(void **state)
{
    conv_bn(4, 4, 6, 1, true, false);  /* 2-D, bias */
    conv_bn(4, 4, 6, 1, false, false); /* 2-D, no bias */
    conv_bn(4, 4, 6, 2, true, false);  /* grouped */
    conv_bn(4, 4, 8, 4, false, false); /* depthwise, multiplier 2 */
    conv_bn(3, 3, 5, 1, true, false);  /* 1-D */
    conv_bn(5, 2, 3, 1, false, false); /* 3-D */
}

static void test_conv_transpose(void **state)
{
    conv_bn(4, 4, 6, 1, true, true);
    conv_bn(4, 4, 6, 2, false, true); /* groups: W [C, M/g, ...] */
    conv_bn(3, 3, 4, 1, false, true);
}

/* x [N, K] -> Gemm(B, [C]) -> BN over N's axis 1 */
static void gemm_bn(bool trans_b, int c_kind, float alpha, float beta)
{
    th_t t;
    th_begin(&t, 13);
    const int64_t k = 7, n = 5;
    int x = th_input(&t, "x", EAI_F32, 2, (int64_t[]){-1, k});
    int b = oc_const_rand(&t, "B", 2, trans_b ? (int64_t[]){n, k} : (int64_t[]){k, n}, 3, -1, 1);
    int c = c_kind == 0   ? -1
            : c_kind == 1 ? oc_const_rand(&t, "C", 1, (int64_t[]){n}, 4, -1, 1)
                          : oc_const_rand(&t, "C", 2, (int64_t[]){1, n}, 4, -1, 1);
    int g = th_value(&t, "g");
    th_node(&t, "Gemm", (int[]){x, b, c}, c >= 0 ? 3 : 2, &g, 1);
    th_attr_int(&t, "transB", trans_b);
    th_attr_float(&t, "alpha", alpha);
    th_attr_float(&t, "beta", beta);
    int y = add_bn(&t, g, n, "bn", 30);
    th_output(&t, y);
    oc_t o;
    oc_apply(&t, eai__opt_fold_bn, &o);
    assert_int_equal(o.n, 1);
    assert_int_equal(oc_nodes(&o), 1);
    oc_equiv(&t, &o, TOL);
    oc_end(&t, &o);
}

static void test_gemm(void **state)
{
    gemm_bn(false, 1, 1.0f, 1.0f);
    gemm_bn(true, 1, 1.0f, 1.0f);
    gemm_bn(true, 0, 0.5f, 1.0f);
    gemm_bn(false, 2, 1.5f, -0.75f);
    gemm_bn(true, 1, 1.0f, 0.0f);
}

/* Two Convs sharing W, each with its own BN: each gets its own folded W,
 * the shared one is untouched (oc_apply checks). */
static void test_shared_weights(void **state)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){-1, 3, 5, 5});
    int w = oc_const_rand(&t, "w", 4, (int64_t[]){4, 3, 3, 3}, 1, -1, 1);
    int c1 = th_value(&t, "c1"), c2 = th_value(&t, "c2");
    th_node(&t, "Conv", (int[]){x, w}, 2, &c1, 1);
    th_node(&t, "Conv", (int[]){x, w}, 2, &c2, 1);
    th_output(&t, add_bn(&t, c1, 4, "p", 40));
    th_output(&t, add_bn(&t, c2, 4, "q", 50));
    oc_t o;
    oc_apply(&t, eai__opt_fold_bn, &o);
    assert_int_equal(o.n, 2);
    assert_int_equal(oc_count(&o, "Conv"), 2);
    assert_int_not_equal(o.after.nodes[0].in[1], o.after.nodes[1].in[1]);
    oc_equiv(&t, &o, TOL);
    oc_end(&t, &o);
}

/* Not folded: mean is a graph input; Conv output read twice; Conv output is
 * a graph output; BN after a MatMul. */
static void test_negative(void **state)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){-1, 3, 5, 5});
    int mean = th_input(&t, "mean", EAI_F32, 1, (int64_t[]){4});
    int w = oc_const_rand(&t, "w", 4, (int64_t[]){4, 3, 3, 3}, 1, -1, 1);
    int c1 = th_value(&t, "c1"), c2 = th_value(&t, "c2"), c3 = th_value(&t, "c3");
    th_node(&t, "Conv", (int[]){x, w}, 2, &c1, 1);
    th_node(&t, "Conv", (int[]){x, w}, 2, &c2, 1);
    th_node(&t, "Conv", (int[]){x, w}, 2, &c3, 1);
    /* 1: non-constant mean */
    int y1 = add_bn(&t, c1, 4, "a", 60);
    t.g.nodes[t.g.n_nodes - 1].in[3] = mean;
    th_output(&t, y1);
    /* 2: c2 also read by a Relu */
    th_output(&t, add_bn(&t, c2, 4, "b", 70));
    int r = th_value(&t, "r");
    th_node(&t, "Relu", &c2, 1, &r, 1);
    th_output(&t, r);
    /* 3: c3 is a graph output */
    th_output(&t, add_bn(&t, c3, 4, "c", 80));
    th_output(&t, c3);
    /* 4: MatMul producer */
    int x2 = th_input(&t, "x2", EAI_F32, 2, (int64_t[]){-1, 3});
    int mw = oc_const_rand(&t, "mw", 2, (int64_t[]){3, 4}, 2, -1, 1);
    int mm = th_value(&t, "mm");
    th_node(&t, "MatMul", (int[]){x2, mw}, 2, &mm, 1);
    th_output(&t, add_bn(&t, mm, 4, "d", 90));
    oc_t o;
    oc_apply(&t, eai__opt_fold_bn, &o);
    assert_int_equal(o.n, 0);
    assert_int_equal(oc_count(&o, "BatchNormalization"), 4);
    oc_equiv(&t, &o, 0);
    oc_end(&t, &o);
}

/* training_mode = 1 is never folded (structure only: the runtime rejects it). */
static void test_training_mode(void **state)
{
    th_t t;
    th_begin(&t, 15);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){1, 3, 5, 5});
    int w = oc_const_rand(&t, "w", 4, (int64_t[]){4, 3, 3, 3}, 1, -1, 1);
    int c = th_value(&t, "c");
    th_node(&t, "Conv", (int[]){x, w}, 2, &c, 1);
    th_output(&t, add_bn(&t, c, 4, "a", 60));
    th_attr_int(&t, "training_mode", 1);
    assert_int_equal(eai__graph_finish(&t.g), EAI_OK);
    int n = -1;
    assert_int_equal(eai__opt_fold_bn(&t.g, &n), EAI_OK);
    assert_int_equal(n, 0);
    assert_int_equal(t.g.n_nodes, 2);
    th_end(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv),     cmocka_unit_test(test_conv_transpose),
        cmocka_unit_test(test_gemm),     cmocka_unit_test(test_shared_weights),
        cmocka_unit_test(test_negative), cmocka_unit_test(test_training_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
