/* XNNPACK backend vs ref: Conv (groups, depthwise, dilations, asymmetric
 * pads, auto_pad, no bias), FusedConv with every activation, MaxPool,
 * AveragePool (count_include_pad, ceil_mode), GlobalAveragePool; convs with
 * large weights, whose output channels run as slices. The graphs
 * are NCHW; the session lays them out NHWC, so each case also exercises the
 * layout pass and the boundary Transposes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "runtime/xnn_cmp.h"

typedef struct conv_case {
    int n, c, h, w, m, kh, kw, group, sh, sw, dh, dw, pt, pl, pb, pr;
    const char *auto_pad; /* NULL: explicit pads */
    bool bias;
} conv_case_t;

static const conv_case_t conv_cases[] = {
    /* n  c   h   w   m  kh kw  g sh sw dh dw pt pl pb pr */
    {1, 3, 17, 19, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NULL, true},
    {2, 4, 9, 11, 6, 3, 3, 2, 2, 1, 1, 2, 0, 1, 2, 1, NULL, true},   /* groups, dilation */
    {1, 8, 12, 37, 8, 3, 3, 8, 1, 1, 1, 1, 1, 1, 1, 1, NULL, true},  /* depthwise */
    {1, 4, 9, 9, 8, 5, 5, 4, 2, 2, 1, 1, 2, 2, 2, 2, NULL, true},    /* depthwise x2 */
    {1, 3, 1, 40, 3, 1, 5, 3, 1, 3, 1, 2, 0, 4, 0, 1, NULL, true},   /* wide stride/dilation */
    {1, 16, 7, 9, 24, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, NULL, true},  /* 1x1 */
    {2, 6, 7, 9, 12, 1, 1, 3, 1, 1, 1, 1, 0, 0, 0, 0, NULL, false},  /* grouped 1x1 */
    {1, 8, 9, 9, 4, 1, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, NULL, true},    /* 1x1 stride 2 */
    {1, 3, 64, 64, 16, 7, 7, 1, 2, 2, 1, 1, 3, 3, 3, 3, NULL, true}, /* 7x7 s2 stem */
    {1, 160, 9, 9, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NULL, true},
    {1, 32, 15, 15, 32, 3, 3, 32, 2, 2, 1, 1, 0, 0, 1, 1, NULL, true}, /* TF-style pads */
    {1, 5, 13, 10, 7, 3, 3, 1, 2, 2, 1, 1, 0, 0, 0, 0, "SAME_UPPER", true},
    {1, 5, 13, 10, 5, 4, 4, 5, 2, 2, 1, 1, 0, 0, 0, 0, "SAME_LOWER", true},
    {1, 5, 13, 10, 7, 3, 2, 1, 3, 2, 1, 1, 0, 0, 0, 0, "VALID", false},
    {1, 1, 5, 5, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NULL, true}, /* one channel */
    {3, 7, 6, 6, 9, 2, 2, 1, 1, 1, 3, 3, 2, 0, 0, 2, NULL, true}, /* dilation 3 */
    /* 3x3 stride 1 with >= 64 channels each way: Winograd F(2x2, 3x3) */
    {1, 64, 14, 14, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NULL, true},
    {2, 64, 13, 11, 72, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NULL, true}, /* odd: edge tiles */
    {1, 96, 9, 10, 65, 3, 3, 1, 1, 1, 1, 1, 0, 1, 1, 0, NULL, false}, /* asymmetric pads */
    {1, 70, 7, 8, 64, 3, 3, 1, 1, 1, 1, 1, 0, 0, 0, 0, NULL, true},   /* no padding */
    {1, 64, 5, 6, 64, 3, 3, 1, 1, 1, 1, 1, 2, 2, 2, 2, NULL, true},   /* pads of 2 */
    {1, 64, 1, 1, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NULL, true},   /* one pixel */
    {1, 64, 6, 9, 64, 3, 3, 1, 1, 1, 1, 1, 0, 0, 0, 0, "SAME_UPPER", true},
    {1, 130, 7, 7, 100, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NULL, true}, /* tails of 64 */
    {1, 512, 7, 7, 512, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NULL, true}, /* direct: few tiles */
    {1, 64, 60, 60, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NULL, true}, /* 4 (2) chunks */
    {1, 64, 45, 45, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NULL, true}, /* spare chunk rows */
    {3, 64, 25, 25, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, NULL, true}, /* chunks span images */
    /* weights >= 512 KB: indirect products, or (the second pass, without
     * edgeai's GEMM) output channels cut into slices, one operator each */
    {1, 320, 7, 7, 1000, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, NULL, true}, /* 1x1: GEMM (or slices) */
    {1, 256, 9, 9, 200, 3, 3, 1, 2, 2, 1, 1, 1, 1, 1, 1, NULL, false}, /* stride 2, no bias */
    {2, 300, 5, 6, 130, 3, 3, 1, 1, 1, 1, 1, 0, 1, 2, 1, NULL, true},  /* batch 2, pads */
    /* pointwise on edgeai's GEMM: 70 pixels in row tiles of 12 and 11, 70
     * channels in panels of 32, 32 and 6 */
    {2, 100, 5, 7, 70, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, NULL, true},
    /* indirect products (>= 16 input, >= 32 output channels): row tiles of
     * 8 and 7 across images, dilation, uneven pads, a partial panel */
    {3, 20, 7, 9, 48, 3, 3, 1, 1, 1, 2, 2, 2, 1, 1, 2, NULL, true},
    {1, 16, 11, 6, 32, 5, 3, 1, 2, 1, 1, 1, 2, 0, 1, 1, NULL, false},
    /* patch products (few input channels, >= 64 floats a patch): a 7x7
     * stem with 40 outputs (panels of 32 and 8), dilation with pads on
     * one side, the largest patch (960 floats) */
    {1, 3, 30, 26, 40, 7, 7, 1, 2, 2, 1, 1, 3, 3, 3, 3, NULL, true},
    {2, 5, 17, 13, 33, 4, 4, 1, 1, 2, 2, 1, 1, 2, 0, 3, NULL, true},
    {1, 15, 9, 10, 32, 8, 8, 1, 1, 1, 1, 1, 4, 3, 3, 4, NULL, false},
    /* depthwise on edgeai's kernel: rows wide enough for groups of 8 with
     * an overlapping last group, channel tails (8, 1, 40 of a 64 block),
     * stride 2, 5x5, dilation, pads past half the kernel, batch 2 */
    {1, 24, 9, 29, 24, 3, 3, 24, 1, 1, 1, 1, 1, 1, 1, 1, NULL, true},
    {2, 17, 11, 40, 17, 3, 3, 17, 2, 2, 1, 1, 0, 1, 1, 0, NULL, true},
    {1, 40, 13, 21, 40, 5, 5, 40, 1, 1, 1, 1, 2, 2, 2, 2, NULL, false},
    {1, 104, 7, 7, 104, 5, 5, 104, 1, 1, 1, 1, 2, 2, 2, 2, NULL, true},
    {1, 16, 10, 30, 16, 3, 3, 16, 1, 1, 2, 3, 4, 4, 3, 2, NULL, true},
    {1, 9, 4, 5, 9, 3, 3, 9, 1, 1, 1, 1, 3, 3, 3, 3, NULL, true},
};

static void build_conv(th_t *t, const conv_case_t *k, const char *op, const char *act,
                       const float *params, int n_params)
{
    const int64_t xd[4] = {k->n, k->c, k->h, k->w};
    const int64_t wd[4] = {k->m, k->c / k->group, k->kh, k->kw};
    float *w = th_randv(th_numel(wd, 4), 2), *b = th_randv(k->m, 3);
    th_begin(t, 13);
    int x = th_input(t, "x", EAI_F32, 4, xd);
    int wi = th_const(t, "w", EAI_F32, 4, wd, w);
    int bi = k->bias ? th_const(t, "b", EAI_F32, 1, (int64_t[]){k->m}, b) : -1;
    int y = th_value(t, "y");
    th_node(t, op, (int[]){x, wi, bi}, k->bias ? 3 : 2, (int[]){y}, 1);
    th_attr_ints(t, "strides", (int64_t[]){k->sh, k->sw}, 2);
    th_attr_ints(t, "dilations", (int64_t[]){k->dh, k->dw}, 2);
    if (k->auto_pad)
        th_attr_string(t, "auto_pad", k->auto_pad);
    else
        th_attr_ints(t, "pads", (int64_t[]){k->pt, k->pl, k->pb, k->pr}, 4);
    th_attr_int(t, "group", k->group);
    if (act) {
        xc_domain(t, "com.edgeai");
        th_attr_string(t, "activation", act);
        if (n_params) th_attr_floats(t, "activation_params", params, n_params);
    }
    th_output(t, y);
    free(w);
    free(b);
}

static void run_conv_table(void)
{
    eai_threadpool_t *pool;
    assert_int_equal(eai_threadpool_create(2, &pool), EAI_OK);
    for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++) {
        for (int p = 0; p < 2; p++) {
            th_t t;
            build_conv(&t, &conv_cases[i], "Conv", NULL, NULL, 0);
            xc_compare(&t, 1, 1e-4f, p ? pool : NULL);
            th_end(&t);
        }
    }
    eai_threadpool_destroy(pool);
}

static void test_conv_table(void **state)
{
    (void)state;
    XC_REQUIRE_XNNPACK();
    /* the second pass keeps XNNPACK's GEMM where edgeai's would run (the
     * path of CPUs without AVX-512F) */
    for (int pass = 0; pass < 2; pass++) {
        if (pass) setenv("EAI_XNN_NO_SGEMM", "1", 1);
        run_conv_table();
    }
    unsetenv("EAI_XNN_NO_SGEMM");
}

static void test_fused_conv_activations(void **state)
{
    (void)state;
    XC_REQUIRE_XNNPACK();
    static const struct {
        const char *act;
        float p[2];
        int n;
    } acts[] = {
        {"Relu", {0}, 0},
        {"Clip", {0.0f, 6.0f}, 2},
        {"Clip", {-0.5f, 0.25f}, 2},
        {"LeakyRelu", {0.1f}, 1},
        {"HardSwish", {0}, 0},
        {"Sigmoid", {0}, 0},
        {"SiLU", {0}, 0},
        {"HardSigmoid", {0.2f, 0.5f}, 2},
    };
    /* grouped, depthwise, Winograd (3x3 stride 1, >= 16 channels), slices,
     * pointwise, indirect, patch, depthwise (stride 1, 5x5) */
    const conv_case_t *cs[] = {&conv_cases[1],  &conv_cases[2],  &conv_cases[17],
                               &conv_cases[29], &conv_cases[31], &conv_cases[32],
                               &conv_cases[34], &conv_cases[37], &conv_cases[39]};
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        for (size_t d = 0; d < sizeof cs / sizeof cs[0]; d++) {
            th_t t;
            build_conv(&t, cs[d], "FusedConv", acts[i].act, acts[i].p, acts[i].n);
            xc_compare(&t, 1, 1e-4f, NULL);
            th_end(&t);
        }
    }
}

/* FusedConv with Tanh (no float XNNPACK op here) still runs, on ref, with
 * its NHWC twin left NCHW. */
static void test_fused_conv_tanh_falls_back(void **state)
{
    (void)state;
    XC_REQUIRE_XNNPACK();
    th_t t;
    build_conv(&t, &conv_cases[0], "FusedConv", "Tanh", NULL, 0);
    assert_int_equal(xc_compare(&t, 0, 1e-5f, NULL), 0);
    th_end(&t);
}

typedef struct pool_case {
    int n, c, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, ceil, cip;
    const char *auto_pad;
} pool_case_t;

static const pool_case_t pool_cases[] = {
    /* n c  h  w kh kw sh sw dh dw pt pl pb pr ceil cip */
    {1, 3, 8, 8, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, NULL},
    {2, 5, 11, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0, NULL},
    {1, 4, 10, 13, 3, 2, 2, 3, 1, 1, 1, 0, 0, 1, 1, 0, NULL}, /* ceil_mode */
    {1, 6, 20, 20, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 0, 0, NULL}, /* SPPF */
    {1, 3, 9, 9, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1, NULL},   /* ceil, cip, no pads */
    {1, 3, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, NULL},   /* cip with pads */
    {1, 2, 7, 6, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, "SAME_UPPER"},
    {1, 2, 7, 6, 2, 3, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, "SAME_LOWER"},
};

static void build_pool(th_t *t, const pool_case_t *k, const char *op, bool dilate)
{
    th_begin(t, 13);
    int x = th_input(t, "x", EAI_F32, 4, (int64_t[]){k->n, k->c, k->h, k->w});
    int y = th_value(t, "y");
    th_node(t, op, &x, 1, &y, 1);
    th_attr_ints(t, "kernel_shape", (int64_t[]){k->kh, k->kw}, 2);
    th_attr_ints(t, "strides", (int64_t[]){k->sh, k->sw}, 2);
    if (k->auto_pad)
        th_attr_string(t, "auto_pad", k->auto_pad);
    else
        th_attr_ints(t, "pads", (int64_t[]){k->pt, k->pl, k->pb, k->pr}, 4);
    th_attr_int(t, "ceil_mode", k->ceil);
    if (strcmp(op, "AveragePool") == 0) th_attr_int(t, "count_include_pad", k->cip);
    if (dilate) th_attr_ints(t, "dilations", (int64_t[]){2, 2}, 2);
    th_output(t, y);
}

static void test_pools(void **state)
{
    (void)state;
    XC_REQUIRE_XNNPACK();
    eai_threadpool_t *pool;
    assert_int_equal(eai_threadpool_create(2, &pool), EAI_OK);
    for (size_t i = 0; i < sizeof pool_cases / sizeof pool_cases[0]; i++) {
        const pool_case_t *k = &pool_cases[i];
        th_t t;
        build_pool(&t, k, "MaxPool", false);
        xc_compare(&t, 1, 0.0f, i % 2 ? pool : NULL); /* max is exact */
        th_end(&t);
        build_pool(&t, k, "AveragePool", false);
        /* count_include_pad with padding stays on ref: XNNPACK counts only taps inside */
        const bool cip_pads = k->cip && (k->pt || k->pl || k->pb || k->pr);
        int n = xc_compare(&t, cip_pads ? 0 : 1, 1e-5f, i % 2 ? pool : NULL);
        if (cip_pads) assert_int_equal(n, 0);
        th_end(&t);
    }
    /* dilated max pooling */
    th_t t;
    build_pool(&t, &pool_cases[1], "MaxPool", true);
    xc_compare(&t, 1, 0.0f, NULL);
    th_end(&t);
    eai_threadpool_destroy(pool);
}

static void test_global_average_pool(void **state)
{
    (void)state;
    XC_REQUIRE_XNNPACK();
    const int64_t shapes[][4] = {{1, 7, 5, 3}, {2, 33, 7, 7}, {1, 1280, 1, 1}, {1, 3, 1, 9}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        th_t t;
        th_begin(&t, 13);
        int x = th_input(&t, "x", EAI_F32, 4, shapes[i]);
        int y = th_value(&t, "y");
        th_node(&t, "GlobalAveragePool", &x, 1, &y, 1);
        th_output(&t, y);
        xc_compare(&t, 1, 1e-5f, NULL);
        th_end(&t);
    }
}

/* MaxPool with its Indices output stays NCHW on ref. */
static void test_maxpool_indices_stays_ref(void **state)
{
    (void)state;
    XC_REQUIRE_XNNPACK();
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){1, 2, 6, 6});
    int y = th_value(&t, "y"), idx = th_value(&t, "i");
    th_node(&t, "MaxPool", &x, 1, (int[]){y, idx}, 2);
    th_attr_ints(&t, "kernel_shape", (int64_t[]){2, 2}, 2);
    th_attr_ints(&t, "strides", (int64_t[]){2, 2}, 2);
    th_output(&t, y);
    assert_int_equal(th_prepare(&t), EAI_OK);
    assert_int_equal(eai__session_n_on(t.sess, "xnnpack"), 0);
    th_end(&t);
}

int main(void)
{
    /* th_prepare / th_run_pool sessions run on this backend */
    setenv("EAI_TEST_BACKEND", "xnnpack", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_table),
        cmocka_unit_test(test_fused_conv_activations),
        cmocka_unit_test(test_fused_conv_tanh_falls_back),
        cmocka_unit_test(test_pools),
        cmocka_unit_test(test_global_average_pool),
        cmocka_unit_test(test_maxpool_indices_stays_ref),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
