/* Training kernels Gemm, MatMul, Conv, MaxPool, AveragePool and
 * GlobalAveragePool: central-difference gradient checks of every input at
 * the prepared batch and a smaller one, forward against the inference
 * runtime (ref backend) on the same single-node graph, and bad inputs
 * rejected at prepare with a message naming the node.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "train/top_test.h"

/* ---- Gemm / MatMul ---- */

typedef struct gemm_case {
    int ta, tb;
    float alpha, beta;
    int c_rank; /* -1: no C; 0: scalar; 1: [N]; 2: [1, N] */
} gemm_case_t;

static void run_gemm(const gemm_case_t *gc)
{
    const int64_t m = 3, k = 5, nn = 4;
    tt_t t;
    tt_begin(&t, 13);
    int64_t ad[2] = {gc->ta ? k : m, gc->ta ? m : k}, bd[2] = {gc->tb ? nn : k, gc->tb ? k : nn};
    int x = th_input(&t.th, "a", EAI_F32, 2, ad);
    int b = tt_weight(&t, "b", 2, bd);
    int in[3] = {x, b, -1}, n_in = 2;
    if (gc->c_rank >= 0) {
        int64_t cd[2] = {gc->c_rank == 2 ? 1 : nn, nn};
        in[2] = tt_weight(&t, "c", gc->c_rank, gc->c_rank == 2 ? cd : cd + 1);
        n_in = 3;
    }
    int y = th_value(&t.th, "y");
    th_node(&t.th, "Gemm", in, n_in, (int[]){y}, 1);
    th_attr_int(&t.th, "transA", gc->ta);
    th_attr_int(&t.th, "transB", gc->tb);
    th_attr_float(&t.th, "alpha", gc->alpha);
    th_attr_float(&t.th, "beta", gc->beta);
    th_output(&t.th, y);
    tt_prepare_ok(&t);
    if (!gc->ta) tt_gradcheck(&t, 2); /* dim 0 is the batch only without transA */
    tt_gradcheck(&t, ad[0]);
    tt_ref(&t, 1e-5, 1e-5);
    tt_end(&t);
}

static void test_gemm(void **state)
{
    static const gemm_case_t cases[] = {
        {0, 0, 1.0f, 1.0f, 1},  {0, 1, 0.5f, 2.0f, 2},  {1, 0, 1.5f, 1.0f, 0},
        {1, 1, 1.0f, 0.5f, -1}, {0, 0, 1.0f, 1.0f, -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_gemm(&cases[i]);
}

static void run_matmul(int ra, const int64_t *ad, int rb, const int64_t *bd, bool small_batch)
{
    tt_t t;
    tt_begin(&t, 13);
    int x = th_input(&t.th, "a", EAI_F32, ra, ad);
    int b = tt_weight(&t, "b", rb, bd);
    int y = th_value(&t.th, "y");
    th_node(&t.th, "MatMul", (int[]){x, b}, 2, (int[]){y}, 1);
    th_output(&t.th, y);
    tt_prepare_ok(&t);
    if (small_batch) tt_gradcheck(&t, ad[0] - 1);
    tt_gradcheck(&t, ad[0]);
    tt_ref(&t, 1e-5, 1e-5);
    tt_end(&t);
}

static void test_matmul(void **state)
{
    run_matmul(2, (int64_t[]){3, 5}, 2, (int64_t[]){5, 4}, true);
    run_matmul(3, (int64_t[]){3, 2, 5}, 2, (int64_t[]){5, 4}, true);     /* batch folds into M */
    run_matmul(3, (int64_t[]){2, 3, 4}, 3, (int64_t[]){2, 4, 5}, false); /* batched */
    run_matmul(3, (int64_t[]){1, 3, 4}, 3, (int64_t[]){2, 4, 5}, false); /* A broadcast */
    run_matmul(3, (int64_t[]){3, 2, 4}, 3, (int64_t[]){1, 4, 2}, true);  /* B batch 1 */
}

/* ---- Conv ---- */

typedef struct conv_case {
    int64_t x[4], w[4];
    bool bias;
    int group;
    int64_t strides[2], dil[2], pads[4];
    const char *auto_pad; /* NULL: pads */
} conv_case_t;

static void build_conv(tt_t *t, const conv_case_t *cc)
{
    int x = th_input(&t->th, "x", EAI_F32, 4, cc->x);
    int w = tt_weight_scaled(t, "w", 4, cc->w, 0.5f);
    int in[3] = {x, w, -1};
    if (cc->bias) in[2] = tt_weight(t, "b", 1, (int64_t[]){cc->w[0]});
    int y = th_value(&t->th, "y");
    th_node(&t->th, "Conv", in, cc->bias ? 3 : 2, (int[]){y}, 1);
    if (cc->group != 1) th_attr_int(&t->th, "group", cc->group);
    if (cc->strides[0]) th_attr_ints(&t->th, "strides", cc->strides, 2);
    if (cc->dil[0]) th_attr_ints(&t->th, "dilations", cc->dil, 2);
    if (cc->auto_pad)
        th_attr_string(&t->th, "auto_pad", cc->auto_pad);
    else
        th_attr_ints(&t->th, "pads", cc->pads, 4);
    th_attr_ints(&t->th, "kernel_shape", cc->w + 2, 2);
    th_output(&t->th, y);
}

static const conv_case_t CONV_CASES[] = {
    {{3, 2, 6, 5}, {4, 2, 3, 3}, true, 1, {0}, {0}, {1, 1, 1, 1}, NULL},
    {{3, 3, 7, 6}, {2, 3, 3, 2}, false, 1, {2, 2}, {0}, {1, 0, 2, 1}, NULL},
    {{2, 2, 7, 7}, {3, 2, 3, 3}, true, 1, {1, 2}, {2, 2}, {2, 2, 2, 2}, NULL},
    {{2, 4, 5, 5}, {6, 2, 3, 3}, true, 2, {0}, {0}, {1, 1, 1, 1}, NULL},
    {{3, 3, 6, 6}, {6, 1, 3, 3}, true, 3, {2, 2}, {0}, {1, 1, 1, 1}, NULL}, /* depthwise x2 */
    {{2, 1, 6, 5}, {2, 1, 3, 2}, false, 1, {2, 1}, {0}, {0}, "SAME_UPPER"},
    {{2, 1, 6, 5}, {2, 1, 3, 2}, true, 1, {2, 1}, {0}, {0}, "SAME_LOWER"},
    {{2, 2, 5, 5}, {2, 2, 2, 2}, false, 1, {2, 2}, {0}, {0}, "VALID"},
    {{3, 4, 3, 3}, {2, 4, 1, 1}, true, 1, {0}, {0}, {0, 0, 0, 0}, NULL}, /* 1x1 */
    /* Plain windows (stride 1, no pads, one group) take the direct kernels
     * where the CPU has AVX2+FMA: output rows of 8 + a masked tail of 2,
     * an odd row count, odd taps, 7 channels (blocks of 6 + 1) and more
     * samples than the dW kernel takes at once (8). */
    {{10, 1, 13, 12}, {7, 1, 3, 3}, true, 1, {0}, {0}, {0, 0, 0, 0}, NULL},
    /* rows of 8 + 8 + 2, 13 channels (6 + 6 + 1), no bias */
    {{3, 3, 9, 20}, {13, 3, 2, 3}, false, 1, {0}, {0}, {0, 0, 0, 0}, NULL},
};

static void test_conv(void **state)
{
    for (size_t i = 0; i < sizeof CONV_CASES / sizeof CONV_CASES[0]; i++) {
        tt_t t;
        tt_begin(&t, 13);
        build_conv(&t, &CONV_CASES[i]);
        tt_prepare_ok(&t);
        tt_gradcheck(&t, CONV_CASES[i].x[0] - 1);
        tt_gradcheck(&t, CONV_CASES[i].x[0]);
        tt_ref(&t, 1e-5, 1e-5);
        tt_end(&t);
    }
}

/* A scratch holding one or two samples forces the chunked paths (a chunk of
 * 1 writes the output in place; 2 + 1 goes through tmp and a remainder). */
static void test_conv_small_scratch(void **state)
{
    for (size_t i = 0; i < sizeof CONV_CASES / sizeof CONV_CASES[0]; i++)
        for (int per = 1; per <= 2; per++) {
            const conv_case_t *cc = &CONV_CASES[i];
            tt_t t;
            tt_begin(&t, 13);
            build_conv(&t, cc);
            tt_prepare_ok(&t);
            /* per-sample need: (K + M/group) * OH * OW floats (prepare asked
             * for the whole batch, plus a fixed part: room for a thread's
             * partial dW and, with the direct kernels, their dW partials;
             * kept, as it does not depend on the chunk) */
            const eai__shape_t *y = &t.out[0]->shape;
            size_t k = (size_t)(cc->w[1] * cc->w[2] * cc->w[3]);
            size_t need = (k + (size_t)(cc->w[0] / cc->group)) * (size_t)(y->d[2] * y->d[3]) * 4;
            assert_true(t.c.scratch_bytes >= need * (size_t)cc->x[0]);
            size_t fixed = t.c.scratch_bytes - need * (size_t)cc->x[0];
            t.c.scratch_bytes = need * (size_t)per + fixed;
            tt_gradcheck(&t, cc->x[0]);
            tt_ref(&t, 1e-5, 1e-5);
            tt_end(&t);
        }
}

/* ---- pools ---- */

/* Input values a random permutation of a grid 0.05 apart, so no two window
 * elements tie within the finite-difference step. */
static void distinct_input(tt_t *t)
{
    eai__tval_t *x = t->in[0];
    int64_t n = eai__shape_numel(&x->shape);
    for (int64_t i = 0; i < n; i++)
        x->data[i] = (float)(i - n / 2) * 0.05f;
    uint64_t s = 5;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)((tt_rand(&s) * 0.5f + 0.5f) * (float)(i + 1)) % (i + 1);
        float tmp = x->data[i];
        x->data[i] = x->data[j], x->data[j] = tmp;
    }
}

typedef struct pool_case {
    const char *op;
    int64_t x[4], k[2], strides[2], pads[4], dil[2];
    int ceil_mode, include_pad;
} pool_case_t;

static void test_pools(void **state)
{
    static const pool_case_t cases[] = {
        {"MaxPool", {3, 2, 6, 6}, {2, 2}, {2, 2}, {0}, {0}, 0, 0},
        {"MaxPool", {2, 3, 7, 7}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {0}, 0, 0},
        {"MaxPool", {2, 1, 6, 6}, {3, 3}, {2, 2}, {0}, {0}, 1, 0},
        {"MaxPool", {2, 2, 7, 6}, {2, 2}, {1, 2}, {1, 0, 0, 1}, {2, 2}, 0, 0},
        {"AveragePool", {3, 2, 6, 6}, {2, 2}, {2, 2}, {0}, {0}, 0, 0},
        {"AveragePool", {2, 2, 7, 7}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {0}, 0, 0},
        {"AveragePool", {2, 2, 7, 7}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {0}, 0, 1},
        {"AveragePool", {2, 1, 6, 6}, {3, 3}, {2, 2}, {0}, {0}, 1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const pool_case_t *pc = &cases[i];
        tt_t t;
        tt_begin(&t, 13);
        int x = th_input(&t.th, "x", EAI_F32, 4, pc->x);
        int y = th_value(&t.th, "y");
        th_node(&t.th, pc->op, (int[]){x}, 1, (int[]){y}, 1);
        th_attr_ints(&t.th, "kernel_shape", pc->k, 2);
        th_attr_ints(&t.th, "strides", pc->strides, 2);
        th_attr_ints(&t.th, "pads", pc->pads, 4);
        if (pc->dil[0]) th_attr_ints(&t.th, "dilations", pc->dil, 2);
        if (pc->ceil_mode) th_attr_int(&t.th, "ceil_mode", 1);
        if (pc->include_pad) th_attr_int(&t.th, "count_include_pad", 1);
        th_output(&t.th, y);
        tt_prepare_ok(&t);
        distinct_input(&t);
        tt_gradcheck(&t, pc->x[0] - 1);
        tt_gradcheck(&t, pc->x[0]);
        tt_ref(&t, 1e-6, 1e-6);
        tt_end(&t);
    }
}

static void test_global_avgpool(void **state)
{
    tt_t t;
    tt_begin(&t, 13);
    int x = th_input(&t.th, "x", EAI_F32, 4, (int64_t[]){3, 4, 3, 5});
    int y = th_value(&t.th, "y");
    th_node(&t.th, "GlobalAveragePool", (int[]){x}, 1, (int[]){y}, 1);
    th_output(&t.th, y);
    tt_prepare_ok(&t);
    tt_gradcheck(&t, 2);
    tt_gradcheck(&t, 3);
    tt_ref(&t, 1e-6, 1e-6);
    tt_end(&t);
}

/* Hand-computed: a 2x2 max pool routes each gradient to its window's max. */
static void test_maxpool_routes_gradient(void **state)
{
    tt_t t;
    tt_begin(&t, 13);
    int x = th_input(&t.th, "x", EAI_F32, 4, (int64_t[]){1, 1, 2, 4});
    int y = th_value(&t.th, "y");
    th_node(&t.th, "MaxPool", (int[]){x}, 1, (int[]){y}, 1);
    th_attr_ints(&t.th, "kernel_shape", (int64_t[]){2, 2}, 2);
    th_attr_ints(&t.th, "strides", (int64_t[]){2, 2}, 2);
    th_output(&t.th, y);
    tt_prepare_ok(&t);
    static const float xin[8] = {1, 5, -1, -2, 3, 2, -3, -0.5f};
    memcpy(t.in[0]->data, xin, sizeof xin);
    tt_forward(&t);
    assert_float_equal(t.out[0]->data[0], 5.0f, 0.0f);
    assert_float_equal(t.out[0]->data[1], -0.5f, 0.0f);
    t.out[0]->grad[0] = 10.0f, t.out[0]->grad[1] = 20.0f;
    memset(t.in[0]->grad, 0, 8 * sizeof(float));
    assert_int_equal(t.n.op->backward(&t.n, &t.c), EAI_OK);
    static const float want[8] = {0, 10, 0, 0, 0, 0, 0, 20};
    for (int i = 0; i < 8; i++)
        assert_float_equal(t.in[0]->grad[i], want[i], 0.0f);
    tt_end(&t);
}

/* ---- bad inputs ---- */

static void test_bad_inputs(void **state)
{
    tt_t t;
    /* Gemm: A of rank 3 */
    tt_begin(&t, 13);
    int x = th_input(&t.th, "a", EAI_F32, 3, (int64_t[]){2, 3, 4});
    int b = tt_weight(&t, "b", 2, (int64_t[]){4, 2});
    int y = th_value(&t.th, "y");
    th_node(&t.th, "Gemm", (int[]){x, b}, 2, (int[]){y}, 1);
    tt_prepare_fails(&t, EAI_E_FORMAT, "rank 2");
    tt_end(&t);
    /* MatMul: inner dimensions differ */
    tt_begin(&t, 13);
    x = th_input(&t.th, "a", EAI_F32, 2, (int64_t[]){2, 3});
    b = tt_weight(&t, "b", 2, (int64_t[]){4, 2});
    y = th_value(&t.th, "y");
    th_node(&t.th, "MatMul", (int[]){x, b}, 2, (int[]){y}, 1);
    tt_prepare_fails(&t, EAI_E_FORMAT, "inner dimensions");
    tt_end(&t);
    /* Conv: group 3 with 4 input channels */
    tt_begin(&t, 13);
    x = th_input(&t.th, "x", EAI_F32, 4, (int64_t[]){1, 4, 5, 5});
    b = tt_weight(&t, "w", 4, (int64_t[]){3, 1, 3, 3});
    y = th_value(&t.th, "y");
    th_node(&t.th, "Conv", (int[]){x, b}, 2, (int[]){y}, 1);
    th_attr_int(&t.th, "group", 3);
    tt_prepare_fails(&t, EAI_E_FORMAT, "group 3");
    tt_end(&t);
    /* Conv: 1-D input */
    tt_begin(&t, 13);
    x = th_input(&t.th, "x", EAI_F32, 3, (int64_t[]){1, 2, 5});
    b = tt_weight(&t, "w", 3, (int64_t[]){3, 2, 3});
    y = th_value(&t.th, "y");
    th_node(&t.th, "Conv", (int[]){x, b}, 2, (int[]){y}, 1);
    tt_prepare_fails(&t, EAI_E_UNSUPPORTED, "rank 3");
    tt_end(&t);
    /* Conv: 3 pads */
    tt_begin(&t, 13);
    x = th_input(&t.th, "x", EAI_F32, 4, (int64_t[]){1, 2, 5, 5});
    b = tt_weight(&t, "w", 4, (int64_t[]){3, 2, 3, 3});
    y = th_value(&t.th, "y");
    th_node(&t.th, "Conv", (int[]){x, b}, 2, (int[]){y}, 1);
    th_attr_ints(&t.th, "pads", (int64_t[]){1, 1, 1}, 3);
    tt_prepare_fails(&t, EAI_E_UNSUPPORTED, "pads");
    tt_end(&t);
    /* Conv: kernel larger than the padded input */
    tt_begin(&t, 13);
    x = th_input(&t.th, "x", EAI_F32, 4, (int64_t[]){1, 2, 2, 2});
    b = tt_weight(&t, "w", 4, (int64_t[]){3, 2, 3, 3});
    y = th_value(&t.th, "y");
    th_node(&t.th, "Conv", (int[]){x, b}, 2, (int[]){y}, 1);
    tt_prepare_fails(&t, EAI_E_FORMAT, "does not fit");
    tt_end(&t);
    /* MaxPool: no kernel_shape; AveragePool: bad auto_pad */
    tt_begin(&t, 13);
    x = th_input(&t.th, "x", EAI_F32, 4, (int64_t[]){1, 2, 4, 4});
    y = th_value(&t.th, "y");
    th_node(&t.th, "MaxPool", (int[]){x}, 1, (int[]){y}, 1);
    tt_prepare_fails(&t, EAI_E_FORMAT, "kernel_shape");
    tt_end(&t);
    tt_begin(&t, 13);
    x = th_input(&t.th, "x", EAI_F32, 4, (int64_t[]){1, 2, 4, 4});
    y = th_value(&t.th, "y");
    th_node(&t.th, "AveragePool", (int[]){x}, 1, (int[]){y}, 1);
    th_attr_ints(&t.th, "kernel_shape", (int64_t[]){2, 2}, 2);
    th_attr_string(&t.th, "auto_pad", "SAME_MIDDLE");
    tt_prepare_fails(&t, EAI_E_UNSUPPORTED, "SAME_MIDDLE");
    tt_end(&t);
    /* GlobalAveragePool: rank 2 */
    tt_begin(&t, 13);
    x = th_input(&t.th, "x", EAI_F32, 2, (int64_t[]){1, 2});
    y = th_value(&t.th, "y");
    th_node(&t.th, "GlobalAveragePool", (int[]){x}, 1, (int[]){y}, 1);
    tt_prepare_fails(&t, EAI_E_FORMAT, "rank 2");
    tt_end(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm),
        cmocka_unit_test(test_matmul),
        cmocka_unit_test(test_conv),
        cmocka_unit_test(test_conv_small_scratch),
        cmocka_unit_test(test_pools),
        cmocka_unit_test(test_global_avgpool),
        cmocka_unit_test(test_maxpool_routes_gradient),
        cmocka_unit_test(test_bad_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
