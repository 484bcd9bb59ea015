/* Activation fusion (src/opt/fuse_act.c) and the fused kernels
 * (src/runtime/ref/fused.c, conv.c, gemm.c): every activation after each
 * Conv kernel kind (1x1, depthwise, im2col, K above one GEMM block) and
 * after Gemm (GEMM and GEMV paths), SiLU and HardSwish written as Mul, and
 * the cases that must not fuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "opt_check.h"

#define TOL 1e-6

typedef struct act_case {
    const char *op;
    int opset;
    const char *want; /* activation attribute expected */
    int n_params;
    float p[2]; /* expected activation_params */
} act_case_t;

static const act_case_t acts[] = {
    {"Relu", 13, "Relu", 0, {0, 0}},
    {"Clip", 13, "Clip", 2, {0.0f, 6.0f}}, /* min, max inputs */
    {"Clip", 6, "Clip", 2, {-1.0f, 1.5f}}, /* attributes */
    {"LeakyRelu", 13, "LeakyRelu", 1, {0.1f, 0}},
    {"HardSigmoid", 13, "HardSigmoid", 2, {0.3f, 0.4f}},
    {"HardSwish", 14, "HardSwish", 0, {0, 0}},
    {"Sigmoid", 13, "Sigmoid", 0, {0, 0}},
    {"Tanh", 13, "Tanh", 0, {0, 0}},
};
#define N_ACTS ((int)(sizeof acts / sizeof acts[0]))

/* The activation node of case a reading `in`, writing "y". */
static int add_act(th_t *t, const act_case_t *a, int in)
{
    int y = th_value(t, "y");
    if (strcmp(a->op, "Clip") == 0 && a->opset >= 11) {
        int lo = oc_scalar(t, "lo", a->p[0]), hi = oc_scalar(t, "hi", a->p[1]);
        th_node(t, "Clip", (int[]){in, lo, hi}, 3, &y, 1);
        return y;
    }
    th_node(t, a->op, &in, 1, &y, 1);
    if (strcmp(a->op, "Clip") == 0) {
        th_attr_float(t, "min", a->p[0]);
        th_attr_float(t, "max", a->p[1]);
    } else if (strcmp(a->op, "LeakyRelu") == 0) {
        th_attr_float(t, "alpha", a->p[0]);
    } else if (strcmp(a->op, "HardSigmoid") == 0) {
        th_attr_float(t, "alpha", a->p[0]);
        th_attr_float(t, "beta", a->p[1]);
    }
    return y;
}

static void check_fused(const oc_t *o, const char *op, const char *act, int n_params,
                        const float *p)
{
    const eai__node_t *n = oc_node(o, op);
    assert_string_equal(n->domain, "com.edgeai");
    const eai__attr_t *a = eai__node_attr(n, "activation");
    assert_non_null(a);
    assert_int_equal(a->type, EAI__A_STRING);
    assert_string_equal(a->s, act);
    a = eai__node_attr(n, "activation_params");
    if (!n_params) {
        assert_null(a);
        return;
    }
    assert_non_null(a);
    assert_int_equal(a->n, n_params);
    for (int i = 0; i < n_params; i++)
        assert_float_equal(a->floats[i], p[i], 0);
}

/* Conv geometry picking each kernel kind of conv.c. */
typedef struct conv_case {
    int64_t c, m, group, k, stride, h, w;
} conv_case_t;

static const conv_case_t convs[] = {
    {8, 12, 1, 1, 1, 5, 7},   /* 1x1: one GEMM, partial tiles */
    {6, 6, 6, 3, 1, 9, 21},   /* depthwise, padded rows of 4 */
    {6, 12, 6, 3, 2, 11, 13}, /* depthwise stride 2, multiplier 2 */
    {3, 10, 1, 3, 1, 6, 9},   /* im2col */
    {40, 20, 1, 3, 1, 8, 8},  /* im2col, K = 360 > one K block */
    {4, 6, 2, 3, 2, 7, 7},    /* grouped */
};

static void conv_act(const conv_case_t *cc, const act_case_t *a)
{
    th_t t;
    th_begin(&t, a->opset);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){-1, cc->c, cc->h, cc->w});
    int w = oc_const_rand(&t, "w", 4, (int64_t[]){cc->m, cc->c / cc->group, cc->k, cc->k}, 5, -0.5f,
                          0.5f);
    int b = oc_const_rand(&t, "b", 1, (int64_t[]){cc->m}, 6, -1, 1);
    int cv = th_value(&t, "cv");
    th_node(&t, "Conv", (int[]){x, w, b}, 3, &cv, 1);
    th_attr_int(&t, "group", cc->group);
    th_attr_ints(&t, "strides", (int64_t[]){cc->stride, cc->stride}, 2);
    int64_t p = cc->k / 2;
    th_attr_ints(&t, "pads", (int64_t[]){p, p, p, p}, 4);
    th_output(&t, add_act(&t, a, cv));
    oc_t o;
    oc_apply(&t, eai__opt_fuse_act, &o);
    assert_int_equal(o.n, 1);
    assert_int_equal(oc_nodes(&o), 1);
    check_fused(&o, "FusedConv", a->want, a->n_params, a->p);
    assert_string_equal(oc_out_name(&o, oc_node(&o, "FusedConv"), 0), "y");
    oc_equiv(&t, &o, TOL);
    oc_end(&t, &o);
}

static void test_conv_every_act(void **state)
{
    for (size_t c = 0; c < sizeof convs / sizeof convs[0]; c++)
        for (int a = 0; a < N_ACTS; a++)
            conv_act(&convs[c], &acts[a]);
}

/* Gemm [M, K] x [K, N] (+C) + act: M 1 and N 1 take the GEMV paths. */
static void gemm_act(int64_t m, int64_t k, int64_t n, bool trans_b, const act_case_t *a)
{
    th_t t;
    th_begin(&t, a->opset);
    int x = th_input(&t, "x", EAI_F32, 2, (int64_t[]){m, k});
    int b =
        oc_const_rand(&t, "B", 2, trans_b ? (int64_t[]){n, k} : (int64_t[]){k, n}, 3, -0.3f, 0.3f);
    int c = oc_const_rand(&t, "C", 1, (int64_t[]){n}, 4, -1, 1);
    int g = th_value(&t, "g");
    th_node(&t, "Gemm", (int[]){x, b, c}, 3, &g, 1);
    th_attr_int(&t, "transB", trans_b);
    th_attr_float(&t, "alpha", 0.75f);
    th_output(&t, add_act(&t, a, g));
    oc_t o;
    oc_apply(&t, eai__opt_fuse_act, &o);
    assert_int_equal(o.n, 1);
    check_fused(&o, "FusedGemm", a->want, a->n_params, a->p);
    oc_equiv(&t, &o, TOL);
    oc_end(&t, &o);
}

static void test_gemm_every_act(void **state)
{
    for (int a = 0; a < N_ACTS; a++) {
        gemm_act(9, 300, 37, false, &acts[a]); /* partial tiles, two K blocks */
        gemm_act(1, 50, 20, true, &acts[a]);   /* M = 1 */
        gemm_act(6, 50, 1, false, &acts[a]);   /* N = 1 */
    }
}

/* x * Sigmoid(x) -> SiLU, either order; x * HardSigmoid(1/6, 1/2)(x) ->
 * HardSwish; HardSigmoid with other constants is not HardSwish. */
static void gated(const char *gate, float alpha, bool swap, const char *want)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){-1, 3, 6, 6});
    int w = oc_const_rand(&t, "w", 4, (int64_t[]){5, 3, 3, 3}, 5, -0.5f, 0.5f);
    int cv = th_value(&t, "cv"), s = th_value(&t, "s"), y = th_value(&t, "y");
    th_node(&t, "Conv", (int[]){x, w}, 2, &cv, 1);
    th_node(&t, gate, &cv, 1, &s, 1);
    if (alpha) {
        th_attr_float(&t, "alpha", alpha);
        th_attr_float(&t, "beta", 0.5f);
    }
    th_node(&t, "Mul", swap ? (int[]){s, cv} : (int[]){cv, s}, 2, &y, 1);
    th_output(&t, y);
    oc_t o;
    oc_apply(&t, eai__opt_fuse_act, &o);
    if (want) {
        assert_int_equal(o.n, 1);
        assert_int_equal(oc_nodes(&o), 1);
        check_fused(&o, "FusedConv", want, 0, NULL);
        assert_string_equal(oc_out_name(&o, oc_node(&o, "FusedConv"), 0), "y");
    } else {
        assert_int_equal(o.n, 0);
        assert_int_equal(oc_nodes(&o), 3);
    }
    oc_equiv(&t, &o, TOL);
    oc_end(&t, &o);
}

static void test_gated(void **state)
{
    gated("Sigmoid", 0, false, "SiLU");
    gated("Sigmoid", 0, true, "SiLU");
    gated("HardSigmoid", 1.0f / 6.0f, false, "HardSwish");
    gated("HardSigmoid", 1.0f / 6.0f, true, "HardSwish");
    gated("HardSigmoid", 0.2f, false, NULL);
}

/* Not fused: Conv output read twice, Conv output a graph output, Clip with
 * a bound that is a graph input, a Sigmoid read by the Mul and by another
 * node, MatMul producers. */
static void test_negative(void **state)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){-1, 3, 6, 6});
    int lo = th_input(&t, "lo", EAI_F32, 0, NULL);
    int w = oc_const_rand(&t, "w", 4, (int64_t[]){5, 3, 3, 3}, 5, -0.5f, 0.5f);
    int c[4], r[6];
    for (int i = 0; i < 4; i++) {
        char nm[8];
        snprintf(nm, sizeof nm, "c%d", i);
        c[i] = th_value(&t, nm);
        th_node(&t, "Conv", (int[]){x, w}, 2, &c[i], 1);
    }
    for (int i = 0; i < 6; i++) {
        char nm[8];
        snprintf(nm, sizeof nm, "r%d", i);
        r[i] = th_value(&t, nm);
    }
    th_node(&t, "Relu", &c[0], 1, &r[0], 1); /* c0 read twice */
    th_node(&t, "Neg", &c[0], 1, &r[1], 1);
    th_node(&t, "Relu", &c[1], 1, &r[2], 1); /* c1 is an output */
    th_output(&t, c[1]);
    th_node(&t, "Clip", (int[]){c[2], lo}, 2, &r[3], 1);
    th_node(&t, "Sigmoid", &c[3], 1, &r[4], 1); /* sigmoid read twice */
    th_node(&t, "Mul", (int[]){c[3], r[4]}, 2, &r[5], 1);
    for (int i = 0; i < 6; i++)
        th_output(&t, r[i]);
    int x2 = th_input(&t, "x2", EAI_F32, 2, (int64_t[]){-1, 3});
    int mw = oc_const_rand(&t, "mw", 2, (int64_t[]){3, 4}, 2, -1, 1);
    int mm = th_value(&t, "mm"), mr = th_value(&t, "mr");
    th_node(&t, "MatMul", (int[]){x2, mw}, 2, &mm, 1);
    th_node(&t, "Relu", &mm, 1, &mr, 1);
    th_output(&t, mr);
    oc_t o;
    oc_apply(&t, eai__opt_fuse_act, &o);
    assert_int_equal(o.n, 0);
    assert_int_equal(oc_count(&o, "FusedConv"), 0);
    oc_equiv(&t, &o, 0);
    oc_end(&t, &o);
}

/* A second run finds nothing: FusedConv takes no second activation. */
static void test_idempotent(void **state)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){-1, 3, 6, 6});
    int w = oc_const_rand(&t, "w", 4, (int64_t[]){5, 3, 3, 3}, 5, -0.5f, 0.5f);
    int cv = th_value(&t, "cv"), r = th_value(&t, "r"), y = th_value(&t, "y");
    th_node(&t, "Conv", (int[]){x, w}, 2, &cv, 1);
    th_node(&t, "Relu", &cv, 1, &r, 1);
    th_node(&t, "Sigmoid", &r, 1, &y, 1);
    th_output(&t, y);
    oc_t o;
    oc_apply(&t, eai__opt_fuse_act, &o);
    assert_int_equal(o.n, 1);
    int n = -1;
    assert_int_equal(eai__opt_fuse_act(&o.after, &n), EAI_OK);
    assert_int_equal(n, 0);
    assert_int_equal(oc_count(&o, "Sigmoid"), 1);
    oc_equiv(&t, &o, TOL);
    oc_end(&t, &o);
}

/* Bad fused nodes are load errors with the node named, not crashes. */
static void test_bad_fused_node(void **state)
{
    static const struct {
        const char *act;
        int n_params;
    } bad[] = {{"Bogus", 0}, {"Clip", 1}, {"Relu", 2}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        th_t t;
        th_begin(&t, 13);
        int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){1, 3, 6, 6});
        int w = oc_const_rand(&t, "w", 4, (int64_t[]){5, 3, 3, 3}, 5, -0.5f, 0.5f);
        int y = th_value(&t, "y");
        assert_int_equal(eai__graph_add_node(&t.g, "f", "FusedConv", "com.edgeai", (int[]){x, w}, 2,
                                             &y, 1, NULL),
                         EAI_OK);
        th_attr_string(&t, "activation", bad[i].act);
        if (bad[i].n_params)
            th_attr_floats(&t, "activation_params", (float[]){0, 1}, bad[i].n_params);
        th_output(&t, y);
        assert_int_equal(th_prepare(&t), EAI_E_FORMAT);
        assert_non_null(strstr(eai_last_error(), "'f' (FusedConv)"));
        th_end(&t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_every_act), cmocka_unit_test(test_gemm_every_act),
        cmocka_unit_test(test_gated),          cmocka_unit_test(test_negative),
        cmocka_unit_test(test_idempotent),     cmocka_unit_test(test_bad_fused_node),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
