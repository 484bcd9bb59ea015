/* XNNPACK backend vs ref: unary ops, binary ops with broadcasting (constant
 * operands included), PRelu, Softmax, Gemm / FusedGemm / MatMul, Concat,
 * Split, bilinear Resize, and a small network end to end on 2 threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "runtime/xnn_cmp.h"

static void test_unary(void **state)
{
    (void)state;
    XC_REQUIRE_XNNPACK();
    static const char *const ops[] = {"Relu",      "Sigmoid", "HardSwish", "HardSigmoid",
                                      "LeakyRelu", "Elu",     "Abs",       "Neg",
                                      "Floor",     "Ceil",    "Round"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        th_t t;
        th_begin(&t, 13);
        /* 1001: odd tail; 70007 (every other op): large, split into parts */
        int x =
            th_input(&t, "x", EAI_F32, 3, i % 2 ? (int64_t[]){7, 13, 11} : (int64_t[]){7, 73, 137});
        int y = th_value(&t, "y");
        th_node(&t, ops[i], &x, 1, &y, 1);
        if (strcmp(ops[i], "LeakyRelu") == 0) th_attr_float(&t, "alpha", 0.3f);
        if (strcmp(ops[i], "Elu") == 0) th_attr_float(&t, "alpha", 0.7f);
        if (strcmp(ops[i], "HardSigmoid") == 0) {
            th_attr_float(&t, "alpha", 0.25f);
            th_attr_float(&t, "beta", 0.4f);
        }
        th_output(&t, y);
        xc_compare(&t, 1, 2e-6f, NULL);
        th_end(&t);
    }
    /* Sqrt on non-negative inputs: Abs then Sqrt, both on xnnpack */
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 1, (int64_t[]){1037});
    int a = th_value(&t, "a"), y = th_value(&t, "y");
    th_node(&t, "Abs", &x, 1, &a, 1);
    th_node(&t, "Sqrt", &a, 1, &y, 1);
    th_output(&t, y);
    assert_int_equal(xc_compare(&t, 2, 2e-6f, NULL), 2);
    th_end(&t);
}

/* Clip's bounds as inputs (opset 11+) and as attributes (opset 6). */
static void test_clip(void **state)
{
    (void)state;
    XC_REQUIRE_XNNPACK();
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 2, (int64_t[]){33, 17});
    int lo = th_const(&t, "lo", EAI_F32, 0, NULL, (float[]){-0.25f});
    int hi = th_const(&t, "hi", EAI_F32, 0, NULL, (float[]){0.5f});
    int y = th_value(&t, "y"), z = th_value(&t, "z");
    th_node(&t, "Clip", (int[]){x, lo, hi}, 3, &y, 1);
    th_node(&t, "Clip", (int[]){y, th_value(&t, ""), hi}, 3, &z, 1); /* max only */
    th_output(&t, z);
    assert_int_equal(xc_compare(&t, 2, 0.0f, NULL), 2);
    th_end(&t);

    th_begin(&t, 6);
    x = th_input(&t, "x", EAI_F32, 2, (int64_t[]){5, 9});
    y = th_value(&t, "y");
    th_node(&t, "Clip", &x, 1, &y, 1);
    th_attr_float(&t, "min", -0.1f);
    th_attr_float(&t, "max", 0.3f);
    th_output(&t, y);
    assert_int_equal(xc_compare(&t, 1, 0.0f, NULL), 1);
    th_end(&t);
}

typedef struct bcase {
    int ra;
    int64_t a[6];
    int rb;
    int64_t b[6];
    bool b_const;
} bcase_t;

static const bcase_t bcases[] = {
    {4, {2, 3, 4, 5}, 4, {2, 3, 4, 5}, false},
    {4, {2, 3, 4, 5}, 1, {5}, true},
    {4, {2, 3, 4, 5}, 3, {3, 1, 1}, true},
    {4, {2, 1, 4, 1}, 4, {1, 3, 1, 5}, false},
    {1, {1}, 3, {4, 7, 9}, false},
    {6, {2, 1, 3, 2, 1, 3}, 5, {2, 3, 1, 4, 3}, false},
    {2, {1, 1001}, 2, {1, 1001}, true},
    {2, {64, 1025}, 2, {64, 1025}, false}, /* large: split into parts */
    {3, {7, 97, 101}, 0, {0}, true},       /* large with a scalar constant */
};

static void test_binary(void **state)
{
    (void)state;
    XC_REQUIRE_XNNPACK();
    static const char *const ops[] = {"Add", "Sub", "Mul", "Div", "Max", "Min", "Sum"};
    eai_threadpool_t *pool;
    assert_int_equal(eai_threadpool_create(2, &pool), EAI_OK);
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++)
        for (size_t i = 0; i < sizeof bcases / sizeof bcases[0]; i++) {
            const bcase_t *k = &bcases[i];
            th_t t;
            th_begin(&t, 13);
            int a = th_input(&t, "a", EAI_F32, k->ra, k->a), b;
            if (k->b_const) {
                float *bv = th_randv(th_numel(k->b, k->rb), 9);
                for (int64_t j = 0; j < th_numel(k->b, k->rb); j++)
                    bv[j] += bv[j] >= 0 ? 0.5f : -0.5f; /* away from 0 for Div */
                b = th_const(&t, "b", EAI_F32, k->rb, k->b, bv);
                free(bv);
            } else {
                b = th_input(&t, "b", EAI_F32, k->rb, k->b);
            }
            int y = th_value(&t, "y");
            /* swap operands for every other case: broadcasting on either side */
            th_node(&t, ops[o], i % 2 ? (int[]){b, a} : (int[]){a, b}, 2, &y, 1);
            th_output(&t, y);
            /* Div by random inputs near 0 is ill-conditioned: relative only */
            xc_compare_tol(&t, 1, strcmp(ops[o], "Div") ? 1e-6f : 0.0f, 1e-6f, i % 2 ? pool : NULL);
            th_end(&t);
        }
    eai_threadpool_destroy(pool);
}

static void test_prelu(void **state)
{
    (void)state;
    XC_REQUIRE_XNNPACK();
    const int64_t slope_dims[][2] = {{1, 6}, {1, 1}};
    for (int i = 0; i < 2; i++) {
        th_t t;
        th_begin(&t, 13);
        int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){2, 5, 7, 6});
        float *sv = th_randv(slope_dims[i][1], 4);
        int s = th_const(&t, "s", EAI_F32, 1, &slope_dims[i][1], sv);
        free(sv);
        int y = th_value(&t, "y");
        th_node(&t, "PRelu", (int[]){x, s}, 2, &y, 1);
        th_output(&t, y);
        xc_compare(&t, 1, 1e-6f, NULL);
        th_end(&t);
    }
}

static void test_softmax(void **state)
{
    (void)state;
    XC_REQUIRE_XNNPACK();
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 2, (int64_t[]){3, 1000});
    int y = th_value(&t, "y");
    th_node(&t, "Softmax", &x, 1, &y, 1);
    th_output(&t, y);
    xc_compare(&t, 1, 1e-6f, NULL);
    th_end(&t);
    /* opset 11: axis 1 flattens [2,3,4] to [2,12] */
    th_begin(&t, 11);
    x = th_input(&t, "x", EAI_F32, 3, (int64_t[]){2, 3, 4});
    y = th_value(&t, "y");
    th_node(&t, "Softmax", &x, 1, &y, 1);
    th_attr_int(&t, "axis", 1);
    th_output(&t, y);
    xc_compare(&t, 1, 1e-6f, NULL);
    th_end(&t);
    /* opset 13 over a middle axis stays on ref */
    th_begin(&t, 13);
    x = th_input(&t, "x", EAI_F32, 3, (int64_t[]){2, 3, 4});
    y = th_value(&t, "y");
    th_node(&t, "Softmax", &x, 1, &y, 1);
    th_attr_int(&t, "axis", 1);
    th_output(&t, y);
    assert_int_equal(xc_compare(&t, 0, 1e-6f, NULL), 0);
    th_end(&t);
}

typedef struct gcase {
    const char *op;
    int64_t m, k, n;
    int trans_b;
    float alpha, beta;
    int c_rank; /* 0: none, 1: [N], 2: [1,N], 3: scalar */
    const char *act;
} gcase_t;

static void test_gemm(void **state)
{
    (void)state;
    XC_REQUIRE_XNNPACK();
    static const gcase_t cases[] = {
        {"Gemm", 5, 7, 9, 0, 1.0f, 1.0f, 1, NULL},
        {"Gemm", 1, 1280, 1000, 1, 1.0f, 1.0f, 1, NULL},
        {"Gemm", 3, 17, 4, 1, 0.5f, 2.0f, 2, NULL},
        {"Gemm", 4, 8, 5, 0, 1.0f, 0.5f, 3, NULL},
        {"Gemm", 2, 6, 3, 1, 1.0f, 1.0f, 0, NULL},
        {"FusedGemm", 3, 16, 8, 1, 1.0f, 1.0f, 1, "Relu"},
        {"FusedGemm", 3, 16, 8, 0, 1.0f, 1.0f, 1, "HardSwish"},
        {"FusedGemm", 3, 16, 8, 1, 1.0f, 1.0f, 1, "SiLU"},
        {"MatMul", 6, 10, 7, 0, 1.0f, 1.0f, 0, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const gcase_t *k = &cases[i];
        th_t t;
        th_begin(&t, 13);
        const bool mm = strcmp(k->op, "MatMul") == 0;
        int a = mm ? th_input(&t, "a", EAI_F32, 3, (int64_t[]){2, k->m, k->k})
                   : th_input(&t, "a", EAI_F32, 2, (int64_t[]){k->m, k->k});
        int64_t bd[2] = {k->trans_b ? k->n : k->k, k->trans_b ? k->k : k->n};
        float *bv = th_randv(k->k * k->n, 5), *cv = th_randv(k->n, 6);
        int b = th_const(&t, "b", EAI_F32, 2, bd, bv);
        int in[3] = {a, b, -1}, n_in = 2;
        if (k->c_rank == 1) in[2] = th_const(&t, "c", EAI_F32, 1, (int64_t[]){k->n}, cv);
        if (k->c_rank == 2) in[2] = th_const(&t, "c", EAI_F32, 2, (int64_t[]){1, k->n}, cv);
        if (k->c_rank == 3) in[2] = th_const(&t, "c", EAI_F32, 0, NULL, cv);
        if (k->c_rank) n_in = 3;
        free(bv);
        free(cv);
        int y = th_value(&t, "y");
        th_node(&t, k->op, in, n_in, &y, 1);
        if (!mm) {
            th_attr_int(&t, "transB", k->trans_b);
            th_attr_float(&t, "alpha", k->alpha);
            th_attr_float(&t, "beta", k->beta);
        }
        if (k->act) {
            xc_domain(&t, "com.edgeai");
            th_attr_string(&t, "activation", k->act);
        }
        th_output(&t, y);
        xc_compare(&t, 1, 1e-4f, NULL);
        th_end(&t);
    }
}

static void test_concat_split(void **state)
{
    (void)state;
    XC_REQUIRE_XNNPACK();
    for (int axis = -3; axis < 3; axis++) {
        th_t t;
        th_begin(&t, 13);
        int64_t d0[3] = {3, 5, 7}, d1[3] = {3, 5, 7};
        int ax = axis < 0 ? axis + 3 : axis;
        d1[ax] = 2;
        int a = th_input(&t, "a", EAI_F32, 3, d0), b = th_input(&t, "b", EAI_F32, 3, d1);
        float *cv = th_randv(th_numel(d1, 3), 8);
        int c = th_const(&t, "c", EAI_F32, 3, d1, cv); /* a constant input too */
        free(cv);
        int y = th_value(&t, "y");
        th_node(&t, "Concat", (int[]){a, b, c}, 3, &y, 1);
        th_attr_int(&t, "axis", axis);
        int64_t sizes[3] = {1, 3, 3};
        sizes[0] = d0[ax] + 2 * d1[ax] - 6;
        int s = th_const(&t, "s", EAI_I64, 1, (int64_t[]){3}, sizes);
        int o0 = th_value(&t, "o0"), o1 = th_value(&t, "o1"), o2 = th_value(&t, "o2");
        th_node(&t, "Split", (int[]){y, s}, 2, (int[]){o0, o1, o2}, 3);
        th_attr_int(&t, "axis", axis);
        th_output(&t, o0);
        th_output(&t, o1);
        th_output(&t, o2);
        assert_int_equal(xc_compare(&t, 2, 0.0f, NULL), 2);
        th_end(&t);
    }
}

typedef struct rcase {
    int64_t in[4], out[4];
    const char *mode; /* coordinate_transformation_mode */
    bool sizes;
    bool xnn; /* expected on xnnpack */
} rcase_t;

static void test_resize_bilinear(void **state)
{
    (void)state;
    XC_REQUIRE_XNNPACK();
    static const rcase_t cases[] = {
        {{1, 5, 7, 3}, {1, 10, 14, 3}, "half_pixel", false, true},
        {{2, 6, 4, 5}, {2, 3, 2, 5}, "half_pixel", false, true},
        {{1, 5, 7, 3}, {1, 9, 4, 3}, "align_corners", true, true},
        {{1, 5, 7, 3}, {1, 15, 21, 3}, "asymmetric", false, true},
        {{1, 5, 7, 3}, {1, 10, 14, 3}, "pytorch_half_pixel", false, true},
        {{1, 5, 7, 3}, {1, 8, 11, 3}, "half_pixel", true, true},
        {{1, 5, 7, 3}, {1, 1, 14, 3}, "pytorch_half_pixel", true, false},
        {{1, 3, 5, 7}, {1, 3, 10, 14}, "half_pixel", false, false}, /* NCHW: W resized */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const rcase_t *k = &cases[i];
        th_t t;
        th_begin(&t, 13);
        int x = th_input(&t, "x", EAI_F32, 4, k->in);
        int roi = th_value(&t, ""), sc = th_value(&t, ""), sz = th_value(&t, "");
        if (k->sizes) {
            sz = th_const(&t, "sizes", EAI_I64, 1, (int64_t[]){4}, k->out);
        } else {
            float s[4];
            for (int d = 0; d < 4; d++)
                s[d] = (float)k->out[d] / (float)k->in[d];
            sc = th_const(&t, "scales", EAI_F32, 1, (int64_t[]){4}, s);
        }
        int y = th_value(&t, "y");
        th_node(&t, "Resize", (int[]){x, roi, sc, sz}, 4, &y, 1);
        th_attr_string(&t, "mode", "linear");
        th_attr_string(&t, "coordinate_transformation_mode", k->mode);
        th_output(&t, y);
        int n = xc_compare(&t, k->xnn, 2e-6f, NULL);
        assert_int_equal(n, k->xnn);
        th_end(&t);
    }
}

/* Conv -> Relu -> depthwise Conv (+ residual Add) -> MaxPool -> Concat with a
 * 1x1 branch -> PRelu (per-channel slope) -> GlobalAveragePool -> Flatten ->
 * Gemm -> Softmax, on a 2-thread pool: every node but Flatten on xnnpack. */
static void test_small_net(void **state)
{
    (void)state;
    XC_REQUIRE_XNNPACK();
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){1, 3, 33, 31});
    float *w1 = th_randv(16 * 3 * 9, 11), *w2 = th_randv(16 * 9, 12), *w3 = th_randv(8 * 16, 13);
    float *sl = th_randv(24, 14), *fw = th_randv(24 * 10, 15), *fb = th_randv(10, 16);
    int W1 = th_const(&t, "w1", EAI_F32, 4, (int64_t[]){16, 3, 3, 3}, w1);
    int W2 = th_const(&t, "w2", EAI_F32, 4, (int64_t[]){16, 1, 3, 3}, w2);
    int W3 = th_const(&t, "w3", EAI_F32, 4, (int64_t[]){8, 16, 1, 1}, w3);
    int SL = th_const(&t, "slope", EAI_F32, 3, (int64_t[]){24, 1, 1}, sl);
    int FW = th_const(&t, "fw", EAI_F32, 2, (int64_t[]){24, 10}, fw);
    int FB = th_const(&t, "fb", EAI_F32, 1, (int64_t[]){10}, fb);
    int c1 = th_value(&t, "c1"), r1 = th_value(&t, "r1"), c2 = th_value(&t, "c2");
    int a1 = th_value(&t, "a1"), p1 = th_value(&t, "p1"), c3 = th_value(&t, "c3");
    int cat = th_value(&t, "cat"), pr = th_value(&t, "pr"), g = th_value(&t, "g");
    int f = th_value(&t, "f"), fc = th_value(&t, "fc"), y = th_value(&t, "y");
    th_node(&t, "Conv", (int[]){x, W1}, 2, &c1, 1);
    th_attr_ints(&t, "pads", (int64_t[]){1, 1, 1, 1}, 4);
    th_attr_ints(&t, "strides", (int64_t[]){2, 2}, 2);
    th_node(&t, "Relu", &c1, 1, &r1, 1);
    th_node(&t, "Conv", (int[]){r1, W2}, 2, &c2, 1);
    th_attr_ints(&t, "pads", (int64_t[]){1, 1, 1, 1}, 4);
    th_attr_int(&t, "group", 16);
    th_node(&t, "Add", (int[]){c2, r1}, 2, &a1, 1);
    th_node(&t, "MaxPool", &a1, 1, &p1, 1);
    th_attr_ints(&t, "kernel_shape", (int64_t[]){3, 3}, 2);
    th_attr_ints(&t, "strides", (int64_t[]){2, 2}, 2);
    th_attr_ints(&t, "pads", (int64_t[]){1, 1, 1, 1}, 4);
    th_node(&t, "Conv", (int[]){p1, W3}, 2, &c3, 1);
    th_node(&t, "Concat", (int[]){p1, c3}, 2, &cat, 1);
    th_attr_int(&t, "axis", 1);
    th_node(&t, "PRelu", (int[]){cat, SL}, 2, &pr, 1);
    th_node(&t, "GlobalAveragePool", &pr, 1, &g, 1);
    th_node(&t, "Flatten", &g, 1, &f, 1);
    th_node(&t, "Gemm", (int[]){f, FW, FB}, 3, &fc, 1);
    th_node(&t, "Softmax", &fc, 1, &y, 1);
    th_output(&t, y);
    eai_threadpool_t *pool;
    assert_int_equal(eai_threadpool_create(2, &pool), EAI_OK);
    /* the 12 nodes and the input ToNHWC: all but Flatten */
    assert_int_equal(xc_compare(&t, 12, 1e-5f, pool), 12);
    th_end(&t);
    eai_threadpool_destroy(pool);
    free(w1);
    free(w2);
    free(w3);
    free(sl);
    free(fw);
    free(fb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unary),        cmocka_unit_test(test_clip),
        cmocka_unit_test(test_binary),       cmocka_unit_test(test_prelu),
        cmocka_unit_test(test_softmax),      cmocka_unit_test(test_gemm),
        cmocka_unit_test(test_concat_split), cmocka_unit_test(test_resize_bilinear),
        cmocka_unit_test(test_small_net),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
