/* Tests of the 'pool' op family: MaxPool, AveragePool, GlobalAveragePool,
 * GlobalMaxPool.
 *
 * X comes from fill() (quarter-integers); the *_want arrays were computed by
 * PyTorch 1.13 (float64) or numpy via /usr/bin/python3 from the same fill
 * formula (x = fill(7, 3, 11) unless noted); the expression is in the comment
 * above each array.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/harness.h"
#include "runtime/harness_assert.h"

/* maxpool_ceil_want, shape [1, 1, 3, 3]: maxpool k2 s2 pads 1 ceil_mode: torch drops the window
 * starting in the right pad: F.max_pool2d(x, 2, 2, padding=1, ceil_mode=True) */
static const float maxpool_ceil_want[9] = {-0.5, 1.25, 1, 0.5, 1.25, 0.25, 1, 0.5, 1.25};
/* maxpool_dil_want, shape [1, 2, 6, 4]: maxpool dilation [2,1], kernel [2,3], strides [1,2], pads
 * 1: F.max_pool2d(x, (2,3), (1,2), padding=1, dilation=(2,1)) */
static const float maxpool_dil_want[48] = {
    0.75, 0.5,  1.25, 1.25, 1.25, 1.25, 1,   0,    0.75, 1.25, 1.25, 1.25, 1,    1,    0.75, 1.25,
    0.5,  1.25, 1,    1,    0.75, 0.75, 0.5, 1.25, 0,    0.75, 0.5,  0.5,  1.25, 1.25, 1.25, 1,
    0,    0.75, 1.25, 0.5,  1.25, 1,    1,   0.75, 1.25, 1.25, 1.25, 0.25, 1,    0.75, 0.75, 0.5};
/* maxpool_idx_want, shape [1, 2, 2, 2]: MaxPool k2 s2 with Indices, x = fill(7,3,41) (distinct
 * values): y, i = F.max_pool2d(x, 2, 2, return_indices=True); Indices add the plane offset 20*c
 * (onnxruntime), column-major ones are w*4 + h */
static const float maxpool_idx_want[8] = {4.5, 1, 4.75, 5, 1.75, 3.75, -1.25, 2.25};
static const int64_t maxpool_idx_rowmajor[8] = {5, 3, 11, 17, 21, 28, 31, 33};
static const int64_t maxpool_idx_colmajor[8] = {1, 12, 6, 11, 24, 33, 26, 34};
/* avgpool_cip0_want, shape [1, 1, 4, 4]: avgpool k3 s2 pads 1 ceil_mode, count_include_pad 0 and 1:
 * F.avg_pool2d(x, 3, 2, padding=1, ceil_mode=True, count_include_pad=False) */
static const float avgpool_cip0_want[16] = {
    0.125,         0,     -0.166666667, -0.25,       0.291666667, -0.138888889, 0,
    -0.0833333333, -0.25, -0.222222222, 0.222222222, 0.75,        -0.75,        -0.416666667,
    0.333333333,   0.25};
/* avgpool_cip1_want, shape [1, 1, 4, 4]: avgpool k3 s2 pads 1 ceil_mode, count_include_pad 0 and 1:
 * F.avg_pool2d(x, 3, 2, padding=1, ceil_mode=True, count_include_pad=True) */
static const float avgpool_cip1_want[16] = {
    0.0555555556, 0,     -0.111111111,  -0.0833333333, 0.194444444,
    -0.138888889, 0,     -0.0416666667, -0.166666667,  -0.222222222,
    0.222222222,  0.375, -0.25,         -0.208333333,  0.166666667,
    0.0625};
/* avgpool_same_upper_want, shape [5, 5]: AveragePool k2 s1 on 5x5 (odd total pad 1, at the end for
 * UPPER, start for LOWER), pads excluded: numpy nanmean over windows of x padded with NaN */
static const float avgpool_same_upper_want[25] = {
    -0.0625, 0.3125, 0,       -0.3125, -0.125, -0.25, 0.125,  0.5,   -0.5,
    -1,      0.25,   -0.0625, 0.3125,  0,      -0.5,  0.0625, -0.25, 0.125,
    0.5,     0,      -0.375,  0,       0.375,  0.75,  0.25};
/* avgpool_same_lower_want, shape [5, 5]: AveragePool k2 s1 on 5x5 (odd total pad 1, at the end for
 * UPPER, start for LOWER), pads excluded: numpy nanmean over windows of x padded with NaN */
static const float avgpool_same_lower_want[25] = {
    -0.5,    0.375, 0.75,   -0.25,  0.125, -0.25, -0.0625, 0.3125, 0,
    -0.3125, 0.25,  -0.25,  0.125,  0.5,   -0.5,  0.75,    0.25,   -0.0625,
    0.3125,  0,     -0.125, 0.0625, -0.25, 0.125, 0.5};
/* maxpool_1d_want, shape [1, 2, 4]: 1-D maxpool k3 s2 pads [1,1]: F.max_pool1d(x, 3, 2, padding=1)
 */
static const float maxpool_1d_want[8] = {1.25, 1.25, 1, 0.75, -0.25, 0.5, 1.25, 1};
/* avgpool_3d_want, shape [1, 1, 2, 2, 2]: 3-D avgpool k2 s [1,2,2]: F.avg_pool3d(x, 2, (1,2,2)) */
static const float avgpool_3d_want[8] = {0,       0.0625,  -0.09375, -0.03125,
                                         -0.1875, 0.21875, 0.0625,   -0.21875};
/* gavg_want, shape [2, 3, 1, 1]: global pools, x [2,3,5,7]: x.mean(dim=(2,3), keepdim=True) */
static const float gavg_want[6] = {0.0214285714,   -0.0142857143, 0.0285714286,
                                   -0.00714285714, -0.0428571429, 0};
/* gmax_want, shape [2, 3, 1, 1]: global pools, x [2,3,5,7]: x.amax(dim=(2,3), keepdim=True) */
static const float gmax_want[6] = {1.25, 1.25, 1.25, 1.25, 1.25, 1.25};

/* X (input, fill(a, b, m)) -> op -> Y (+ Indices when `indices`). Returns
 * X's data for finish(); attributes go on the node in between. */
static float *build(th_t *t, const char *op, int rank, const int64_t *xd, int a, int b, int m,
                    bool indices)
{
    float *x = th_fill(th_numel(xd, rank), a, b, m);
    int xi = th_input(t, "x", EAI_F32, rank, xd);
    int y = th_value(t, "y"), i = indices ? th_value(t, "i") : -1;
    th_node(t, op, (int[]){xi}, 1, (int[]){y, i}, indices ? 2 : 1);
    th_output(t, y);
    if (indices) th_output(t, i);
    return x;
}

static void finish(th_t *t, float *x, int rank, const int64_t *yd, const float *want)
{
    TH_RUN_OK(t, ((const void *[]){x}));
    free(x);
    th_assert_dims(t, 0, rank, yd);
    th_assert_close(th_out_f32(t, 0), want, th_numel(yd, rank), 1e-6f, 1e-6f);
}

static void test_maxpool_ceil_mode_drops_window_in_right_pad(void **state)
{
    (void)state;
    /* 5 + 2 pads, k2 s2: ceil gives 4 windows but the 4th would start at 6,
     * inside the right padding only, so there are 3 */
    th_t t;
    th_begin(&t, 12);
    float *x = build(&t, "MaxPool", 4, (int64_t[]){1, 1, 5, 5}, 7, 3, 11, false);
    th_attr_ints(&t, "kernel_shape", (int64_t[]){2, 2}, 2);
    th_attr_ints(&t, "strides", (int64_t[]){2, 2}, 2);
    th_attr_ints(&t, "pads", (int64_t[]){1, 1, 1, 1}, 4);
    th_attr_int(&t, "ceil_mode", 1);
    finish(&t, x, 4, (int64_t[]){1, 1, 3, 3}, maxpool_ceil_want);
    th_end(&t);
}

static void test_maxpool_dilation_strides(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 12);
    float *x = build(&t, "MaxPool", 4, (int64_t[]){1, 2, 6, 7}, 7, 3, 11, false);
    th_attr_ints(&t, "kernel_shape", (int64_t[]){2, 3}, 2);
    th_attr_ints(&t, "strides", (int64_t[]){1, 2}, 2);
    th_attr_ints(&t, "dilations", (int64_t[]){2, 1}, 2);
    th_attr_ints(&t, "pads", (int64_t[]){1, 1, 1, 1}, 4);
    finish(&t, x, 4, (int64_t[]){1, 2, 6, 4}, maxpool_dil_want);
    th_end(&t);
}

static void test_maxpool_indices(void **state)
{
    (void)state;
    for (int order = 0; order < 2; order++) {
        th_t t;
        th_begin(&t, 12);
        float *x = build(&t, "MaxPool", 4, (int64_t[]){1, 2, 4, 5}, 7, 3, 41, true);
        th_attr_ints(&t, "kernel_shape", (int64_t[]){2, 2}, 2);
        th_attr_ints(&t, "strides", (int64_t[]){2, 2}, 2);
        th_attr_int(&t, "storage_order", order);
        finish(&t, x, 4, (int64_t[]){1, 2, 2, 2}, maxpool_idx_want);
        const int64_t *want = order ? maxpool_idx_colmajor : maxpool_idx_rowmajor;
        const int64_t *got = th_out_i64(&t, 1);
        for (int i = 0; i < 8; i++)
            if (got[i] != want[i])
                fail_msg("storage_order %d: index %d: got %lld, want %lld", order, i,
                         (long long)got[i], (long long)want[i]);
        th_end(&t);
    }
}

static void test_maxpool_uint8(void **state)
{
    (void)state;
    /* by hand: 2x2 windows of a 4x4 ramp; the max is each window's last */
    th_t t;
    th_begin(&t, 12);
    uint8_t x[16];
    for (int i = 0; i < 16; i++)
        x[i] = (uint8_t)(i * 16 + 3);
    int xi = th_input(&t, "x", EAI_U8, 4, (int64_t[]){1, 1, 4, 4});
    int y = th_value(&t, "y");
    th_node(&t, "MaxPool", (int[]){xi}, 1, (int[]){y}, 1);
    th_attr_ints(&t, "kernel_shape", (int64_t[]){2, 2}, 2);
    th_attr_ints(&t, "strides", (int64_t[]){2, 2}, 2);
    th_output(&t, y);
    TH_RUN_OK(&t, ((const void *[]){x}));
    const uint8_t *got = (const uint8_t *)th_out_f32(&t, 0);
    const uint8_t want[4] = {5 * 16 + 3, 7 * 16 + 3, 13 * 16 + 3, 15 * 16 + 3};
    assert_memory_equal(got, want, 4);
    th_end(&t);
}

static void test_avgpool_count_include_pad_ceil(void **state)
{
    (void)state;
    /* the last window starts at 5 of 6 and reaches past the 1 end pad:
     * count_include_pad counts 2 taps per dim there, not 3 */
    const float *want[] = {avgpool_cip0_want, avgpool_cip1_want};
    for (int cip = 0; cip < 2; cip++) {
        th_t t;
        th_begin(&t, 11);
        float *x = build(&t, "AveragePool", 4, (int64_t[]){1, 1, 6, 6}, 7, 3, 11, false);
        th_attr_ints(&t, "kernel_shape", (int64_t[]){3, 3}, 2);
        th_attr_ints(&t, "strides", (int64_t[]){2, 2}, 2);
        th_attr_ints(&t, "pads", (int64_t[]){1, 1, 1, 1}, 4);
        th_attr_int(&t, "ceil_mode", 1);
        th_attr_int(&t, "count_include_pad", cip);
        finish(&t, x, 4, (int64_t[]){1, 1, 4, 4}, want[cip]);
        th_end(&t);
    }
}

static void test_avgpool_same_upper_lower(void **state)
{
    (void)state;
    const char *modes[] = {"SAME_UPPER", "SAME_LOWER"};
    const float *want[] = {avgpool_same_upper_want, avgpool_same_lower_want};
    for (int i = 0; i < 2; i++) {
        th_t t;
        th_begin(&t, 11);
        float *x = build(&t, "AveragePool", 4, (int64_t[]){1, 1, 5, 5}, 7, 3, 11, false);
        th_attr_ints(&t, "kernel_shape", (int64_t[]){2, 2}, 2);
        th_attr_string(&t, "auto_pad", modes[i]);
        finish(&t, x, 4, (int64_t[]){1, 1, 5, 5}, want[i]);
        th_end(&t);
    }
}

static void test_maxpool_1d_avgpool_3d(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 12);
    float *x = build(&t, "MaxPool", 3, (int64_t[]){1, 2, 8}, 7, 3, 11, false);
    th_attr_ints(&t, "kernel_shape", (int64_t[]){3}, 1);
    th_attr_ints(&t, "strides", (int64_t[]){2}, 1);
    th_attr_ints(&t, "pads", (int64_t[]){1, 1}, 2);
    finish(&t, x, 3, (int64_t[]){1, 2, 4}, maxpool_1d_want);
    th_end(&t);

    th_begin(&t, 11);
    x = build(&t, "AveragePool", 5, (int64_t[]){1, 1, 3, 4, 4}, 7, 3, 11, false);
    th_attr_ints(&t, "kernel_shape", (int64_t[]){2, 2, 2}, 3);
    th_attr_ints(&t, "strides", (int64_t[]){1, 2, 2}, 3);
    finish(&t, x, 5, (int64_t[]){1, 1, 2, 2, 2}, avgpool_3d_want);
    th_end(&t);
}

static void test_global_pools(void **state)
{
    (void)state;
    const char *ops[] = {"GlobalAveragePool", "GlobalMaxPool"};
    const float *want[] = {gavg_want, gmax_want};
    for (int i = 0; i < 2; i++) {
        th_t t;
        th_begin(&t, 13);
        float *x = build(&t, ops[i], 4, (int64_t[]){2, 3, 5, 7}, 7, 3, 11, false);
        finish(&t, x, 4, (int64_t[]){2, 3, 1, 1}, want[i]);
        th_end(&t);
    }
}

static void test_pool_errors(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 12);
    float *x = build(&t, "MaxPool", 4, (int64_t[]){1, 1, 5, 5}, 7, 3, 11, false);
    th_assert_error(&t, EAI_E_FORMAT, "attribute kernel_shape is required");
    th_end(&t);
    free(x);

    th_begin(&t, 12);
    x = build(&t, "AveragePool", 4, (int64_t[]){1, 1, 5, 5}, 7, 3, 11, false);
    th_attr_ints(&t, "kernel_shape", (int64_t[]){2, 2}, 2);
    th_attr_ints(&t, "pads", (int64_t[]){2, 0, 0, 0}, 4);
    th_assert_error(&t, EAI_E_FORMAT, "are not smaller than the (dilated) kernel 2");
    th_end(&t);
    free(x);

    th_begin(&t, 12);
    x = build(&t, "MaxPool", 4, (int64_t[]){1, 1, 5, 5}, 7, 3, 11, false);
    th_attr_ints(&t, "kernel_shape", (int64_t[]){2, 2}, 2);
    th_attr_string(&t, "auto_pad", "SAME");
    th_assert_error(&t, EAI_E_FORMAT, "auto_pad 'SAME' is not one of");
    th_end(&t);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_maxpool_ceil_mode_drops_window_in_right_pad),
        cmocka_unit_test(test_maxpool_dilation_strides),
        cmocka_unit_test(test_maxpool_indices),
        cmocka_unit_test(test_maxpool_uint8),
        cmocka_unit_test(test_avgpool_count_include_pad_ceil),
        cmocka_unit_test(test_avgpool_same_upper_lower),
        cmocka_unit_test(test_maxpool_1d_avgpool_3d),
        cmocka_unit_test(test_global_pools),
        cmocka_unit_test(test_pool_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
