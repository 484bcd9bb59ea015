/* Tests of the 'conv' op family: Conv and ConvTranspose.
 *
 * Inputs come from fill() (quarter-integers, so every sum is exact in float);
 * the *_want arrays were computed by PyTorch 1.13 (float64) via /usr/bin/python3
 * from the same fill formula, with F.conv2d/conv1d/conv3d/conv_transpose*d
 * (asymmetric ONNX pads as an F.pad before, or a crop after for
 * ConvTranspose; the expression is in the comment above each array). The
 * table tests compare against the naive loops below on random data, with and
 * without a 2-thread pool, to reach the tiled and threaded paths.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/harness.h"
#include "runtime/harness_assert.h"

/* conv_asym_want, shape [1, 3, 3, 5]: A: asymmetric pads [t=1,l=0,b=2,r=1], strides [2,1], bias:
 * F.conv2d(F.pad(x, (0,1,1,2)), w, b, stride=(2,1)) */
static const float conv_asym_want[45] = {
    -1.9375, -1.0625, 1.1875,  -2.0625, 1.125,   -0.5,   1.3125,  -3.0625, 2.875,
    -0.625,  0.75,    -1.9375, 0.875,   1.625,   0.75,   -0.1875, -0.8125, -0.75,
    -0.6875, -0.125,  -0.1875, -2.1875, -0.0625, 2.0625, -2.4375, -3.0625, 0.625,
    0.1875,  -3,      1.75,    2.8125,  -1.0625, -0.125, 1.5,     -1,      -2.125,
    -0.0625, 2,       -1.4375, 1.8125,  0.9375,  1.375,  -2.3125, 0.1875,  1.8125};
/* conv_dil_want, shape [1, 2, 5, 4]: B: dilation [2,2], pads [1,2,1,2], strides [1,2]: F.conv2d(x,
 * w, None, stride=(1,2), padding=(1,2), dilation=(2,2)) */
static const float conv_dil_want[40] = {
    -0.5,   -0.6875, 1.1875, -0.0625, 0.5625,  1.75,   -0.125,  -1.125,  1.125,   -4.125,
    0.875,  0.75,    0.3125, 1.6875,  1.1875,  -2.875, 1,       -0.8125, -0.8125, 0.8125,
    0.4375, 1.5,     0,      -0.8125, -0.25,   -2.625, 0.8125,  1.5625,  -0.0625, 2.1875,
    0.8125, -1.375,  0.125,  -2.625,  -0.5625, 1.1875, -1.5625, 1,       1.125,   -0.6875};
/* conv_group2_want, shape [1, 6, 4, 4]: C: group 2 with 4 channels, pads 1: F.conv2d(x, w, None,
 * padding=1, groups=2) */
static const float conv_group2_want[96] = {
    0.5625, -2.5,   -0.25,   0.4375,  -0.875, 0.5625,  -1.0625, 0,       -0.25,   -1.125,
    0,      0.375,  -1.1875, -2.4375, 2.4375, -1.0625, -0.3125, -0.1875, -0.125,  -1,
    -0.375, 2.125,  -3.3125, 0.9375,  0.3125, -3.8125, 3.125,   -0.5625, -0.125,  -0.1875,
    1.4375, 0.75,   -0.3125, 1.25,    -2.625, 0.1875,  0.5625,  -1.5625, 1.875,   0.125,
    1.3125, 0.5,    1.875,   -0.625,  1.375,  -1,      -2.625,  1.6875,  -1.6875, 1.25,
    -0.375, 0.4375, 0.0625,  -1.5625, 0.4375, 2.375,   -2.5625, 0.9375,  0.875,   -2.4375,
    0.1875, 1.375,  -0.0625, 0.5,     0.125,  -0.1875, -0.25,   1.6875,  -0.8125, -2.5625,
    1.125,  -0.625, -0.5,    0.5,     2.125,  0.125,   -0.25,   -0.5625, 1.3125,  0.1875,
    -0.25,  -2.5,   0.75,    0.75,    0.0625, 1.6875,  0.5,     -0.5625, 1.125,   -1.6875,
    -0.125, 0.9375, -1.125,  -0.75,   2.6875, -1};
/* conv_dw_want, shape [1, 6, 3, 3]: D: depthwise multiplier 2, strides 2, pads 1, bias: F.conv2d(x,
 * w, b, stride=2, padding=1, groups=3) */
static const float conv_dw_want[54] = {
    0.25,    -1.4375, 0.0625,  -1.375,  1.375,   -0.1875, 1.9375,  0.3125,  -1.0625,
    -0.875,  0,       -1.375,  0.75,    -1.5625, 0.375,   -1,      -1.1875, 0.375,
    -0.5,    -0.8125, 0.5,     -0.5625, 3.8125,  0.75,    1.625,   -0.625,  -0.875,
    -0.1875, 0.375,   -0.9375, -0.4375, -1.6875, -0.375,  -1.3125, 0.25,    0.25,
    -0.0625, -0.8125, 2.8125,  0.3125,  4.0625,  -0.9375, 1.25,    -0.125,  -0.1875,
    0.25,    0,       -0.6875, 0.5,     -2.0625, 0.3125,  -1.125,  0.375,   0.625};
/* conv_same_upper_want, shape [1, 1, 3, 5]: F: auto_pad SAME_UPPER / SAME_LOWER, odd total pads: x
 * [1,1,6,5], w [1,1,3,2], strides [2,1]: F.conv2d(F.pad(x, (0,1,0,1)), w, stride=(2,1)) */
static const float conv_same_upper_want[15] = {0.8125, 0.125,  -1.25,  0.8125, -0.25,
                                               0.8125, 0.8125, 0.125,  -1.25,  0.125,
                                               0.5625, -0.375, 1.4375, -0.875, 0.0625};
/* conv_same_lower_want, shape [1, 1, 3, 5]: F: auto_pad SAME_UPPER / SAME_LOWER, odd total pads: x
 * [1,1,6,5], w [1,1,3,2], strides [2,1]: F.conv2d(F.pad(x, (1,0,1,0)), w, stride=(2,1)) */
static const float conv_same_lower_want[15] = {0.125,  -0.9375, 1.375, -0.4375, -0.875,
                                               0.375,  -1.25,   0.125, 0.8125,  -1.25,
                                               0.6875, 0.125,   -1.25, 0.125,   0.8125};
/* conv_1d_want, shape [1, 3, 4]: G: 1-D, strides 2, pads [2,1], dilations 2: F.conv1d(F.pad(x,
 * (2,1)), w, stride=2, dilation=2) */
static const float conv_1d_want[12] = {0.375,   1.5,   0.8125,  -2.625, 1.125,  0.25,
                                       -2.1875, 0.875, -0.3125, -1.875, 0.0625, 1.3125};
/* conv_3d_want, shape [1, 2, 5, 2, 2]: H: 3-D, pads 1, strides [1,2,2], bias: F.conv3d(x, w, b,
 * stride=(1,2,2), padding=1) */
static const float conv_3d_want[40] = {
    -0.0625, -0.5,   -0.125,  -0.625,  -1.25,   -0.5,    -2.6875, 0.9375, 0.1875,  1.4375,
    -1.5625, 0.6875, -0.4375, -0.0625, 3.6875,  -0.25,   -0.4375, 1,      -1.25,   1.125,
    0.9375,  -1.125, -2.0625, -0.4375, -0.625,  -1.875,  2,       2.3125, -3.4375, 2.25,
    0,       1.3125, 1.3125,  -1.875,  -1.3125, -3.8125, -0.75,   -1.125, -0.375,  -0.625};
/* conv_1x1_want, shape [1, 4, 2, 3]: I: 1x1 with bias: F.conv2d(x, w, b) */
static const float conv_1x1_want[24] = {-0.1875, 0,       -0.5,    -0.3125, -0.125, -0.625,
                                        1,       -1.25,   -0.75,   1.125,   -1.125, -0.625,
                                        1.6875,  0.0625,  -0.1875, 1.625,   0,      -0.25,
                                        -1.0625, -0.3125, 0.4375,  -0.875,  -0.125, 0.625};
/* convt_asym_want, shape [1, 3, 7, 6]: J1: ConvTranspose strides 2, pads [1,0,0,1] (crop),
 * output_padding [1,0], bias: full[:, :, 1:, :full.shape[3]-1] */
static const float convt_asym_want[126] = {
    -0.1875, 0.6875, 0.5,    -1.0625, 0.0625,  -0.0625, -0.25,   -0.9375, 0.75,   0,       0.875,
    0.25,    0.5,    0.25,   -1.5,    -0.8125, 0.125,   0.1875,  1.125,   -0.875, -0.9375, 0.0625,
    0.5625,  0.3125, 0.5,    0.5,     -1.4375, -0.5625, 0.1875,  0.4375,  0.5,    0.5,     -1.25,
    -0.375,  0.0625, 0.125,  0,       0,       0,       0,       0,       0,      0.1875,  -1.125,
    0,       -0.25,  -0.625, -0.75,   0.5,     -1.0625, 0.6875,  0,       -1.625, -1,      -1.8125,
    0.125,   0.1875, -0.375, -0.4375, -0.875,  -1.1875, 0.75,    1.3125,  -0.25,  -1.6875, -1.25,
    -1.75,   0,      0.375,  -0.5,    -0.25,   -1,      -1.75,   0,       0.5625, -0.3125, -0.375,
    -1.3125, -0.5,   -0.5,   -0.5,    -0.5,    -0.5,    -0.5,    0.5,     0.5,    -1.4375, 0.9375,
    0.8125,  0.6875, 0.3125, -0.375,  0.5625,  -0.5,    0.625,   0.75,    0.625,  -0.9375, 0.5,
    0.875,   0.6875, 0.625,  1.25,    -0.75,   -1.3125, -0.1875, 0.8125,  1.0625, 0.75,    -1,
    0.375,   0.8125, 0.5625, 0.5625,  0.75,    0.75,    -1.1875, -0.3125, 0.4375, 0.6875,  0.25,
    0.25,    0.25,   0.25,   0.25,    0.25};
/* convt_group_want, shape [1, 2, 4, 6]: J2: ConvTranspose group 2, dilations [2,1], strides [1,2]:
 * F.conv_transpose2d(x, w, None, stride=(1,2), dilation=(2,1), groups=2) */
static const float convt_group_want[48] = {
    1,      -0.875, -1.1875, 1.3125, 0.0625, 0.0625,  1.3125,  -1.1875, -0.875,  1,
    0.375,  -0.25,  -0.125,  0.625,  0.3125, -0.6875, 0.0625,  0.0625,  -0.1875, 0.8125,
    0.25,   -0.5,   0,       0.25,   1.3125, 0.3125,  0.0625,  0.0625,  -1.1875, -0.1875,
    1,      0.25,   -0.25,   0,      -0.125, -0.25,   -0.6875, -0.375,  0.0625,  -0.375,
    0.8125, -0.375, -0.5,    -0.375, 0.25,   -0.375,  -0.375,  1.6875};
/* convt_1d_outshape_want, shape [1, 2, 8]: J3: ConvTranspose 1-D, output_shape [8] with strides 2
 * (natural 7: total -1, pad at end): F.pad(full, (0,1)) */
static const float convt_1d_outshape_want[16] = {0.25,   -0.375,  -0.75, 0.9375, 0.1875,  0.1875,
                                                 0.0625, 0,       0.125, 0.375,  -0.5625, -0.9375,
                                                 0.5625, -0.1875, 0.125, 0};

/* Builds X (input) -> op(X, W [, B]) -> Y with W = fill(5, 1, 7) and
 * B = fill(3, 2, 5) as constants; returns X's data, fill(7, 3, 11), for
 * finish() (attributes go on the node in between). */
static float *build(th_t *t, const char *op, int rank, const int64_t *xd, const int64_t *wd,
                    int64_t nb)
{
    float *x = th_fill(th_numel(xd, rank), 7, 3, 11), *w = th_fill(th_numel(wd, rank), 5, 1, 7);
    float *b = th_fill(nb, 3, 2, 5);
    int xi = th_input(t, "x", EAI_F32, rank, xd);
    int wi = th_const(t, "w", EAI_F32, rank, wd, w);
    int bi = nb ? th_const(t, "b", EAI_F32, 1, (int64_t[]){nb}, b) : -1;
    int y = th_value(t, "y");
    th_node(t, op, (int[]){xi, wi, bi}, nb ? 3 : 2, (int[]){y}, 1);
    th_output(t, y);
    free(w);
    free(b);
    return x;
}

static void finish(th_t *t, float *x, int rank, const int64_t *yd, const float *want)
{
    TH_RUN_OK(t, ((const void *[]){x}));
    free(x);
    th_assert_dims(t, 0, rank, yd);
    th_assert_close(th_out_f32(t, 0), want, th_numel(yd, rank), 1e-6f, 1e-6f);
    th_end(t);
}

static void test_conv_asymmetric_pads_strides_bias(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    float *x = build(&t, "Conv", 4, (int64_t[]){1, 2, 5, 6}, (int64_t[]){3, 2, 3, 3}, 3);
    th_attr_ints(&t, "pads", (int64_t[]){1, 0, 2, 1}, 4);
    th_attr_ints(&t, "strides", (int64_t[]){2, 1}, 2);
    th_attr_ints(&t, "kernel_shape", (int64_t[]){3, 3}, 2);
    finish(&t, x, 4, (int64_t[]){1, 3, 3, 5}, conv_asym_want);
}

static void test_conv_dilation(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 11);
    float *x = build(&t, "Conv", 4, (int64_t[]){1, 1, 7, 7}, (int64_t[]){2, 1, 3, 3}, 0);
    th_attr_ints(&t, "pads", (int64_t[]){1, 2, 1, 2}, 4);
    th_attr_ints(&t, "strides", (int64_t[]){1, 2}, 2);
    th_attr_ints(&t, "dilations", (int64_t[]){2, 2}, 2);
    finish(&t, x, 4, (int64_t[]){1, 2, 5, 4}, conv_dil_want);
}

static void test_conv_group2(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    float *x = build(&t, "Conv", 4, (int64_t[]){1, 4, 4, 4}, (int64_t[]){6, 2, 3, 3}, 0);
    th_attr_ints(&t, "pads", (int64_t[]){1, 1, 1, 1}, 4);
    th_attr_int(&t, "group", 2);
    finish(&t, x, 4, (int64_t[]){1, 6, 4, 4}, conv_group2_want);
}

static void test_conv_depthwise_multiplier(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    float *x = build(&t, "Conv", 4, (int64_t[]){1, 3, 5, 5}, (int64_t[]){6, 1, 3, 3}, 6);
    th_attr_ints(&t, "pads", (int64_t[]){1, 1, 1, 1}, 4);
    th_attr_ints(&t, "strides", (int64_t[]){2, 2}, 2);
    th_attr_int(&t, "group", 3);
    finish(&t, x, 4, (int64_t[]){1, 6, 3, 3}, conv_dw_want);
}

static void test_conv_same_upper_lower(void **state)
{
    (void)state;
    /* total padding is odd in both dims: UPPER puts the extra at the end,
     * LOWER at the start */
    const char *modes[] = {"SAME_UPPER", "SAME_LOWER"};
    const float *want[] = {conv_same_upper_want, conv_same_lower_want};
    for (int i = 0; i < 2; i++) {
        th_t t;
        th_begin(&t, 13);
        float *x = build(&t, "Conv", 4, (int64_t[]){1, 1, 6, 5}, (int64_t[]){1, 1, 3, 2}, 0);
        th_attr_string(&t, "auto_pad", modes[i]);
        th_attr_ints(&t, "strides", (int64_t[]){2, 1}, 2);
        finish(&t, x, 4, (int64_t[]){1, 1, 3, 5}, want[i]);
    }
}

static void test_conv_1d(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    float *x = build(&t, "Conv", 3, (int64_t[]){1, 2, 9}, (int64_t[]){3, 2, 3}, 0);
    th_attr_ints(&t, "pads", (int64_t[]){2, 1}, 2);
    th_attr_ints(&t, "strides", (int64_t[]){2}, 1);
    th_attr_ints(&t, "dilations", (int64_t[]){2}, 1);
    finish(&t, x, 3, (int64_t[]){1, 3, 4}, conv_1d_want);
}

static void test_conv_3d(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    float *x = build(&t, "Conv", 5, (int64_t[]){1, 2, 4, 4, 4}, (int64_t[]){2, 2, 2, 3, 3}, 2);
    th_attr_ints(&t, "pads", (int64_t[]){1, 1, 1, 1, 1, 1}, 6);
    th_attr_ints(&t, "strides", (int64_t[]){1, 2, 2}, 3);
    finish(&t, x, 5, (int64_t[]){1, 2, 5, 2, 2}, conv_3d_want);
}

static void test_conv_1x1_bias(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    float *x = build(&t, "Conv", 4, (int64_t[]){1, 3, 2, 3}, (int64_t[]){4, 3, 1, 1}, 4);
    finish(&t, x, 4, (int64_t[]){1, 4, 2, 3}, conv_1x1_want);
}

static void test_convtranspose_asym_pads_output_padding(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    float *x = build(&t, "ConvTranspose", 4, (int64_t[]){1, 2, 3, 3}, (int64_t[]){2, 3, 3, 3}, 3);
    th_attr_ints(&t, "strides", (int64_t[]){2, 2}, 2);
    th_attr_ints(&t, "pads", (int64_t[]){1, 0, 0, 1}, 4);
    th_attr_ints(&t, "output_padding", (int64_t[]){1, 0}, 2);
    finish(&t, x, 4, (int64_t[]){1, 3, 7, 6}, convt_asym_want);
}

static void test_convtranspose_group_dilation(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    float *x = build(&t, "ConvTranspose", 4, (int64_t[]){1, 4, 2, 3}, (int64_t[]){4, 1, 2, 2}, 0);
    th_attr_ints(&t, "strides", (int64_t[]){1, 2}, 2);
    th_attr_ints(&t, "dilations", (int64_t[]){2, 1}, 2);
    th_attr_int(&t, "group", 2);
    finish(&t, x, 4, (int64_t[]){1, 2, 4, 6}, convt_group_want);
}

static void test_convtranspose_1d_output_shape(void **state)
{
    (void)state;
    /* natural length 7, output_shape 8: total padding -1 splits (floor) as
     * 0 before, -1 after, i.e. one extra zero at the end */
    th_t t;
    th_begin(&t, 13);
    float *x = build(&t, "ConvTranspose", 3, (int64_t[]){1, 1, 3}, (int64_t[]){1, 2, 3}, 0);
    th_attr_ints(&t, "strides", (int64_t[]){2}, 1);
    th_attr_ints(&t, "output_shape", (int64_t[]){8}, 1);
    finish(&t, x, 3, (int64_t[]){1, 2, 8}, convt_1d_outshape_want);
}

/* ---- errors ---- */

static void error_case(const char *attr, const char *sval, const int64_t *ival, int n,
                       const int64_t *wd, eai_status_t want, const char *needle)
{
    th_t t;
    th_begin(&t, 13);
    float w[64] = {0};
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){1, 2, 5, 5});
    int wi = th_const(&t, "w", EAI_F32, 4, wd, w);
    int y = th_value(&t, "y");
    th_node(&t, "Conv", (int[]){x, wi}, 2, (int[]){y}, 1);
    if (sval) th_attr_string(&t, attr, sval);
    if (ival) th_attr_ints(&t, attr, ival, n);
    th_output(&t, y);
    th_assert_error(&t, want, needle);
    th_end(&t);
}

static void test_conv_errors(void **state)
{
    (void)state;
    const int64_t w_ok[] = {1, 2, 3, 3};
    error_case("auto_pad", "FOO", NULL, 0, w_ok, EAI_E_FORMAT,
               "auto_pad 'FOO' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
    error_case("kernel_shape", NULL, (int64_t[]){3, 2}, 2, w_ok, EAI_E_FORMAT,
               "kernel_shape[1] is 2 but W's spatial dim 1 is 3");
    error_case("strides", NULL, (int64_t[]){1}, 1, w_ok, EAI_E_FORMAT,
               "strides has 1 values, expected 2");
    error_case("pads", NULL, (int64_t[]){0, 0, -1, 0}, 4, w_ok, EAI_E_FORMAT,
               "pads[2] is -1, expected >= 0");
    error_case(NULL, NULL, NULL, 0, (int64_t[]){1, 3, 3, 3}, EAI_E_FORMAT,
               "X has 2 channels but W expects 3");
    error_case(NULL, NULL, NULL, 0, (int64_t[]){1, 2, 7, 3}, EAI_E_FORMAT,
               "padded input 5 is smaller than the dilated kernel 7");
}

/* ---- table against naive loops, with and without threads ---- */

typedef struct conv_case {
    int n, c, h, w, m, kh, kw, group, sh, sw, dh, dw, pt, pl, pb, pr;
} conv_case_t;

static void naive_conv(const conv_case_t *k, const float *x, const float *w, const float *b,
                       float *y, int oh, int ow)
{
    const int cg = k->c / k->group, mg = k->m / k->group;
    for (int n = 0; n < k->n; n++)
        for (int m = 0; m < k->m; m++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++) {
                    double s = b[m];
                    int g = m / mg;
                    for (int ci = 0; ci < cg; ci++)
                        for (int u = 0; u < k->kh; u++)
                            for (int v = 0; v < k->kw; v++) {
                                int ih = i * k->sh - k->pt + u * k->dh;
                                int iw = j * k->sw - k->pl + v * k->dw;
                                if (ih < 0 || ih >= k->h || iw < 0 || iw >= k->w) continue;
                                s += (double)x[((n * k->c + g * cg + ci) * k->h + ih) * k->w + iw] *
                                     w[((m * cg + ci) * k->kh + u) * k->kw + v];
                            }
                    y[((n * k->m + m) * oh + i) * ow + j] = (float)s;
                }
}

static void naive_convt(const conv_case_t *k, const float *x, const float *w, const float *b,
                        float *y, int oh, int ow)
{
    const int cg = k->c / k->group, mg = k->m / k->group;
    for (int n = 0; n < k->n; n++)
        for (int m = 0; m < k->m; m++)
            for (int i = 0; i < oh * ow; i++)
                y[(n * k->m + m) * oh * ow + i] = b[m];
    for (int n = 0; n < k->n; n++)
        for (int ci = 0; ci < k->c; ci++)
            for (int i = 0; i < k->h; i++)
                for (int j = 0; j < k->w; j++)
                    for (int mo = 0; mo < mg; mo++)
                        for (int u = 0; u < k->kh; u++)
                            for (int v = 0; v < k->kw; v++) {
                                int o0 = i * k->sh - k->pt + u * k->dh;
                                int o1 = j * k->sw - k->pl + v * k->dw;
                                if (o0 < 0 || o0 >= oh || o1 < 0 || o1 >= ow) continue;
                                int m = ci / cg * mg + mo;
                                y[((n * k->m + m) * oh + o0) * ow + o1] +=
                                    x[((n * k->c + ci) * k->h + i) * k->w + j] *
                                    w[((ci * mg + mo) * k->kh + u) * k->kw + v];
                            }
}

static void run_case(const conv_case_t *k, bool transpose, eai_threadpool_t *pool)
{
    int oh, ow;
    if (!transpose) {
        oh = (k->h + k->pt + k->pb - ((k->kh - 1) * k->dh + 1)) / k->sh + 1;
        ow = (k->w + k->pl + k->pr - ((k->kw - 1) * k->dw + 1)) / k->sw + 1;
    } else {
        oh = k->sh * (k->h - 1) + (k->kh - 1) * k->dh + 1 - k->pt - k->pb;
        ow = k->sw * (k->w - 1) + (k->kw - 1) * k->dw + 1 - k->pl - k->pr;
    }
    const int64_t xd[4] = {k->n, k->c, k->h, k->w};
    const int64_t wd[4] = {transpose ? k->c : k->m, transpose ? k->m / k->group : k->c / k->group,
                           k->kh, k->kw};
    const int64_t yd[4] = {k->n, k->m, oh, ow};
    float *x = th_randv(th_numel(xd, 4), 1), *w = th_randv(th_numel(wd, 4), 2),
          *b = th_randv(k->m, 3);
    float *want = malloc((size_t)th_numel(yd, 4) * sizeof(float));
    if (transpose)
        naive_convt(k, x, w, b, want, oh, ow);
    else
        naive_conv(k, x, w, b, want, oh, ow);
    th_t t;
    th_begin(&t, 13);
    int xi = th_input(&t, "x", EAI_F32, 4, xd);
    int wi = th_const(&t, "w", EAI_F32, 4, wd, w);
    int bi = th_const(&t, "b", EAI_F32, 1, (int64_t[]){k->m}, b);
    int y = th_value(&t, "y");
    th_node(&t, transpose ? "ConvTranspose" : "Conv", (int[]){xi, wi, bi}, 3, (int[]){y}, 1);
    th_attr_ints(&t, "strides", (int64_t[]){k->sh, k->sw}, 2);
    th_attr_ints(&t, "dilations", (int64_t[]){k->dh, k->dw}, 2);
    th_attr_ints(&t, "pads", (int64_t[]){k->pt, k->pl, k->pb, k->pr}, 4);
    th_attr_int(&t, "group", k->group);
    th_output(&t, y);
    eai_status_t st = th_run_pool(&t, pool, (const void *[]){x});
    if (st != EAI_OK) fail_msg("run: %s: %s", eai_status_str(st), eai_last_error());
    th_assert_dims(&t, 0, 4, yd);
    th_assert_close(th_out_f32(&t, 0), want, th_numel(yd, 4), 2e-5f, 2e-5f);
    th_end(&t);
    free(x);
    free(w);
    free(b);
    free(want);
}

static const conv_case_t cases[] = {
    /* n  c    h    w    m  kh kw g  sh sw dh dw pt pl pb pr */
    {1, 3, 17, 19, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    /* im2col */
    {2, 4, 9, 11, 6, 3, 3, 2, 2, 1, 1, 2, 0, 1, 2, 1},     /* groups, strides, dilation */
    {1, 8, 12, 37, 8, 3, 3, 8, 1, 1, 1, 1, 1, 1, 1, 1},    /* depthwise, vector path */
    {1, 4, 9, 9, 8, 5, 5, 4, 2, 2, 1, 1, 2, 2, 2, 2},      /* depthwise x2, stride 2 */
    {1, 3, 1, 40, 3, 1, 5, 3, 1, 3, 1, 2, 0, 4, 0, 1},     /* depthwise, wide stride/dilation */
    {1, 4, 10, 75, 4, 3, 3, 4, 2, 2, 1, 1, 1, 1, 1, 1},    /* depthwise stride 2, vector path */
    {1, 2, 5, 80, 2, 3, 3, 2, 1, 2, 1, 2, 1, 2, 1, 2},     /* depthwise stride 2, dilation 2 */
    {1, 2, 40, 130, 2, 3, 3, 2, 2, 2, 1, 1, 1, 1, 1, 1},   /* depthwise, plane too big to pad */
    {1, 2, 70, 70, 4, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1},    /* depthwise x2, no padded copy */
    {1, 2, 6, 12, 2, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1},     /* depthwise, 12-wide rows */
    {1, 2, 6, 24, 2, 3, 3, 2, 2, 2, 1, 1, 1, 1, 1, 1},     /* same, stride 2 */
    {1, 16, 7, 9, 24, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},    /* 1x1 as GEMM */
    {2, 6, 7, 9, 12, 1, 1, 3, 1, 1, 1, 1, 0, 0, 0, 0},     /* grouped 1x1 */
    {1, 8, 9, 9, 4, 1, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0},      /* 1x1 stride 2: im2col */
    {1, 16, 130, 130, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, /* > scratch cap: tiles */
    {1, 3, 64, 64, 16, 7, 7, 1, 2, 2, 1, 1, 3, 3, 3, 3},   /* 7x7 stride 2 stem */
    {1, 160, 9, 9, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   /* few columns, many rows */
    {1, 2048, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   /* one 64-column tile > cap */
    {1, 4, 5, 5, 2, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1},      /* one output channel per group: GEMV */
    {1, 3, 3, 3, 5, 3, 3, 1, 1, 1, 1, 1, 0, 0, 0, 0},      /* 1x1 output: GEMV */
};

static const conv_case_t tcases[] = {
    {1, 2, 3, 3, 3, 3, 3, 1, 2, 2, 1, 1, 1, 0, 0, 1},
    {2, 4, 7, 6, 6, 3, 3, 2, 2, 1, 1, 2, 1, 0, 0, 1},
    {1, 8, 40, 40, 4, 4, 4, 1, 2, 2, 1, 1, 1, 1, 1, 1},
};

static void test_conv_table(void **state)
{
    (void)state;
    eai_threadpool_t *pool;
    assert_int_equal(eai_threadpool_create(2, &pool), EAI_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_case(&cases[i], false, NULL);
        run_case(&cases[i], false, pool);
    }
    for (size_t i = 0; i < sizeof tcases / sizeof tcases[0]; i++) {
        run_case(&tcases[i], true, NULL);
        run_case(&tcases[i], true, pool);
    }
    eai_threadpool_destroy(pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_asymmetric_pads_strides_bias),
        cmocka_unit_test(test_conv_dilation),
        cmocka_unit_test(test_conv_group2),
        cmocka_unit_test(test_conv_depthwise_multiplier),
        cmocka_unit_test(test_conv_same_upper_lower),
        cmocka_unit_test(test_conv_1d),
        cmocka_unit_test(test_conv_3d),
        cmocka_unit_test(test_conv_1x1_bias),
        cmocka_unit_test(test_convtranspose_asym_pads_output_padding),
        cmocka_unit_test(test_convtranspose_group_dilation),
        cmocka_unit_test(test_convtranspose_1d_output_shape),
        cmocka_unit_test(test_conv_errors),
        cmocka_unit_test(test_conv_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
