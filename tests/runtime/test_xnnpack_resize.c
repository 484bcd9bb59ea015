/* Resize / Upsample in mode nearest on the XNNPACK backend's gather step
 * (src/runtime/xnnpack/nearest.c) against the ref kernel: outputs must be
 * equal bit for bit (a gather copies bytes), on float32 and on int8
 * tensors (between QuantizeLinear and DequantizeLinear), NHWC-like and
 * NCHW-like shapes, every coordinate transform that is a gather, up- and
 * downsampling, 1 and 2 threads. tf_crop_and_resize (extrapolation) must
 * stay on ref. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "runtime/xnn_cmp.h"

typedef struct ncase {
    int rank;
    int64_t in[4], out[4];
    const char *coord;   /* NULL: the default (half_pixel) */
    const char *nearest; /* NULL: the default (round_prefer_floor) */
    bool sizes;          /* give sizes instead of scales */
    bool int8;           /* QuantizeLinear -> Resize -> DequantizeLinear */
    bool on_xnn;         /* the Resize must run on xnnpack */
} ncase_t;

static void run_case(const ncase_t *k, eai_threadpool_t *pool)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, k->rank, k->in);
    int src = x;
    const float qs = 0.02f;
    const int8_t qz = 3;
    int S = 0, Z = 0;
    if (k->int8) {
        S = th_const(&t, "qs", EAI_F32, 0, NULL, &qs);
        Z = th_const(&t, "qz", EAI_I8, 0, NULL, &qz);
        src = th_value(&t, "xq");
        th_node(&t, "QuantizeLinear", (int[]){x, S, Z}, 3, &src, 1);
    }
    int roi = th_value(&t, ""), sc = th_value(&t, ""), sz = th_value(&t, "");
    if (k->sizes) {
        sz = th_const(&t, "sizes", EAI_I64, 1, (int64_t[]){k->rank}, k->out);
    } else {
        float s[4];
        for (int d = 0; d < k->rank; d++)
            s[d] = (float)k->out[d] / (float)k->in[d];
        sc = th_const(&t, "scales", EAI_F32, 1, (int64_t[]){k->rank}, s);
    }
    if (k->coord && strcmp(k->coord, "tf_crop_and_resize") == 0) {
        float r[8];
        for (int d = 0; d < k->rank; d++) {
            r[d] = 0.1f;
            r[k->rank + d] = 0.8f;
        }
        roi = th_const(&t, "roi", EAI_F32, 1, (int64_t[]){2 * k->rank}, r);
    }
    int y = th_value(&t, "y");
    th_node(&t, "Resize", (int[]){src, roi, sc, sz}, 4, &y, 1);
    th_attr_string(&t, "mode", "nearest");
    if (k->coord) th_attr_string(&t, "coordinate_transformation_mode", k->coord);
    if (k->nearest) th_attr_string(&t, "nearest_mode", k->nearest);
    int out = y;
    if (k->int8) {
        out = th_value(&t, "yf");
        th_node(&t, "DequantizeLinear", (int[]){y, S, Z}, 3, &out, 1);
    }
    th_output(&t, out);
    /* exact: atol = rtol = 0 */
    const int n = xc_compare_tol(&t, 0, 0.0f, 0.0f, pool);
    const int others = k->int8 ? 2 : 0; /* Quantize and Dequantize */
    if (k->on_xnn)
        assert_int_equal(n, others + 1);
    else
        assert_true(n <= others);
    th_end(&t);
}

static const ncase_t cases[] = {
    /* the YOLO neck: NHWC 2x upsample, defaults */
    {4, {1, 5, 7, 16}, {1, 10, 14, 16}, NULL, NULL, false, false, true},
    {4, {2, 6, 4, 5}, {2, 3, 2, 5}, "asymmetric", "floor", false, false, true},
    {4, {1, 5, 7, 3}, {1, 9, 4, 3}, "align_corners", "round_prefer_ceil", true, false, true},
    {4, {1, 5, 7, 3}, {1, 15, 21, 3}, "asymmetric", "round_prefer_floor", false, false, true},
    {4, {1, 5, 7, 3}, {1, 11, 6, 3}, "tf_half_pixel_for_nn", "ceil", true, false, true},
    {4, {1, 5, 7, 3}, {1, 10, 13, 3}, "pytorch_half_pixel", NULL, true, false, true},
    /* NCHW: W resized, one element per gather */
    {4, {1, 3, 5, 7}, {1, 3, 10, 14}, NULL, NULL, false, false, true},
    {3, {4, 5, 6}, {4, 10, 3}, "asymmetric", NULL, false, false, true},
    /* int8: block copies (NHWC) and single bytes (NCHW) */
    {4, {1, 20, 20, 32}, {1, 40, 40, 32}, NULL, NULL, false, true, true},
    {4, {1, 3, 6, 5}, {1, 3, 12, 10}, NULL, NULL, false, true, true},
    /* tf_crop_and_resize may extrapolate: ref only */
    {4, {1, 5, 7, 3}, {1, 10, 14, 3}, "tf_crop_and_resize", NULL, true, false, false},
};

static void test_nearest_1_thread(void **state)
{
    (void)state;
    XC_REQUIRE_XNNPACK();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i], NULL);
}

static void test_nearest_2_threads(void **state)
{
    (void)state;
    XC_REQUIRE_XNNPACK();
    eai_threadpool_t *pool;
    assert_int_equal(eai_threadpool_create(2, &pool), EAI_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i], pool);
    /* large enough for several ranges of rows per thread */
    const ncase_t big[] = {
        {4, {1, 40, 40, 64}, {1, 80, 80, 64}, NULL, NULL, false, false, true},
        {4, {1, 40, 40, 64}, {1, 80, 80, 64}, NULL, NULL, false, true, true},
    };
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
        run_case(&big[i], pool);
    eai_threadpool_destroy(pool);
}

/* Upsample (opset 9: scales as an input, nearest by default). */
static void test_upsample(void **state)
{
    (void)state;
    XC_REQUIRE_XNNPACK();
    th_t t;
    th_begin(&t, 9);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){1, 2, 3, 4});
    const float s[4] = {1, 1, 2, 3};
    int sc = th_const(&t, "scales", EAI_F32, 1, (int64_t[]){4}, s);
    int y = th_value(&t, "y");
    th_node(&t, "Upsample", (int[]){x, sc}, 2, &y, 1);
    th_output(&t, y);
    assert_int_equal(xc_compare_tol(&t, 1, 0.0f, 0.0f, NULL), 1);
    th_end(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nearest_1_thread),
        cmocka_unit_test(test_nearest_2_threads),
        cmocka_unit_test(test_upsample),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
