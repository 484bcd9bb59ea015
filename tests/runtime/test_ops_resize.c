/* Tests of the 'resize' op family (Resize, Upsample). Expected arrays were
 * computed with torch 1.13 torch.nn.functional.interpolate via
 * /usr/bin/python3 on x = arange(1, 13).reshape(1, 1, 3, 4) ** 1.5:
 *   nearest (torch 'nearest')              == ONNX asymmetric + floor
 *   nearest-exact                          == ONNX half_pixel + round_prefer_ceil
 *   bilinear align_corners=False / True    == ONNX half_pixel / align_corners
 * The one case torch has no mode for (half_pixel + round_prefer_floor on a
 * tie) is worked out by hand in its comment.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/harness.h"
#include "runtime/harness_assert.h"

/* arange(1, 13) ** 1.5 (float32, as torch prints it to 7 digits) */
static const float X[12] = {1.0f,        2.8284271f,  5.1961522f,  8.0f,
                            11.1803398f, 14.6969385f, 18.5202599f, 22.6274166f,
                            27.0f,       31.622776f,  36.482872f,  41.5692177f};

enum { BY_SCALES, BY_SIZES };

/* Resize of X [1,1,3,4] to (oh, ow), by scales (s_h, s_w) or by sizes. */
static void run_resize(const char *mode, const char *coord, const char *nearest, int by, float sh,
                       float sw, int64_t oh, int64_t ow, const float *want)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){1, 1, 3, 4});
    int roi = th_value(&t, "");
    int sc = by == BY_SCALES
                 ? th_const(&t, "sc", EAI_F32, 1, (int64_t[]){4}, (const float[]){1, 1, sh, sw})
                 : th_value(&t, "");
    int sz = by == BY_SIZES
                 ? th_const(&t, "sz", EAI_I64, 1, (int64_t[]){4}, (const int64_t[]){1, 1, oh, ow})
                 : th_value(&t, "");
    int y = th_value(&t, "y");
    th_node(&t, "Resize", (int[]){x, roi, sc, sz}, 4, (int[]){y}, 1);
    th_attr_string(&t, "mode", mode);
    if (coord) th_attr_string(&t, "coordinate_transformation_mode", coord);
    if (nearest) th_attr_string(&t, "nearest_mode", nearest);
    th_output(&t, y);
    TH_RUN_OK(&t, ((const void *[]){X}));
    const eai_tensor_info_t *info = th_out_info(&t, 0);
    assert_int_equal(info->rank, 4);
    assert_int_equal(info->dims[2], oh);
    assert_int_equal(info->dims[3], ow);
    th_assert_close(th_out_f32(&t, 0), want, (int)(oh * ow), 1e-5f, 1e-5f);
    th_end(&t);
}

static const float NEAREST_UP2[48] = {
    1,         1,         2.828427f, 2.828427f, 5.196152f, 5.196152f, 8,         8,
    1,         1,         2.828427f, 2.828427f, 5.196152f, 5.196152f, 8,         8,
    11.18034f, 11.18034f, 14.69694f, 14.69694f, 18.52026f, 18.52026f, 22.62742f, 22.62742f,
    11.18034f, 11.18034f, 14.69694f, 14.69694f, 18.52026f, 18.52026f, 22.62742f, 22.62742f,
    27,        27,        31.62278f, 31.62278f, 36.48287f, 36.48287f, 41.56922f, 41.56922f,
    27,        27,        31.62278f, 31.62278f, 36.48287f, 36.48287f, 41.56922f, 41.56922f};

static void test_nearest_asymmetric_vs_half_pixel(void **state)
{
    (void)state;
    /* x2 upsampling: both transforms agree (no ties) */
    run_resize("nearest", "asymmetric", "floor", BY_SCALES, 2, 2, 6, 8, NEAREST_UP2);
    run_resize("nearest", NULL, NULL, BY_SCALES, 2, 2, 6, 8, NEAREST_UP2);
    /* sizes (2, 3): F.interpolate(x, size=(2, 3), mode='nearest') */
    run_resize("nearest", "asymmetric", "floor", BY_SIZES, 0, 0, 2, 3,
               (const float[]){1, 2.828427f, 5.196152f, 11.18034f, 14.69694f, 18.52026f});
    /* mode='nearest-exact' */
    run_resize("nearest", "half_pixel", "round_prefer_ceil", BY_SIZES, 0, 0, 2, 3,
               (const float[]){1, 5.196152f, 8, 27, 36.48287f, 41.56922f});
    /* default round_prefer_floor: column 1 maps to (1 + 0.5) / 0.75 - 0.5 = 1.5,
     * a tie that now goes to 1 (x[.,1]); rows 0.25 -> 0 and 1.75 -> 2 */
    run_resize("nearest", NULL, NULL, BY_SIZES, 0, 0, 2, 3,
               (const float[]){1, 2.828427f, 8, 27, 31.62278f, 41.56922f});
}

static void test_linear_align_corners_vs_half_pixel(void **state)
{
    (void)state;
    /* F.interpolate(x, size=(5, 7), mode='bilinear', align_corners=False) */
    run_resize("linear", NULL, NULL, BY_SIZES, 0, 0, 5, 7,
               (const float[]){1,         1.65301f,  2.697825f, 4.01229f,  5.396428f, 6.998626f,
                               8,         5.072136f, 5.966313f, 7.396996f, 9.050815f, 10.76331f,
                               12.66341f, 13.85097f, 11.18034f, 12.43627f, 14.44575f, 16.6086f,
                               18.81363f, 21.16058f, 22.62742f, 20.67214f, 22.1651f,  24.55385f,
                               27.07514f, 29.63316f, 32.31583f, 33.9925f,  27,        28.65099f,
                               31.29258f, 34.05283f, 36.84618f, 39.75267f, 41.56922f});
    /* align_corners=True */
    run_resize("linear", "align_corners", NULL, BY_SIZES, 0, 0, 5, 7,
               (const float[]){1,         1.914214f, 2.828427f, 4.01229f,  5.196152f, 6.598076f,
                               8,         6.09017f,  7.426426f, 8.762683f, 10.31044f, 11.85821f,
                               13.58596f, 15.31371f, 11.18034f, 12.93864f, 14.69694f, 16.6086f,
                               18.52026f, 20.57384f, 22.62742f, 19.09017f, 21.12501f, 23.15986f,
                               25.33071f, 27.50157f, 29.79994f, 32.09832f, 27,        29.31139f,
                               31.62278f, 34.05283f, 36.48287f, 39.02605f, 41.56922f});
    /* scale_factor=2, align_corners=False */
    run_resize("linear", "half_pixel", NULL, BY_SCALES, 2, 2, 6, 8,
               (const float[]){1,         1.457107f, 2.37132f,  3.420358f, 4.604221f, 5.897114f,
                               7.299038f, 8,         3.545085f, 4.107702f, 5.232937f, 6.478461f,
                               7.844273f, 9.309598f, 10.87444f, 11.65685f, 8.635255f, 9.408894f,
                               10.95617f, 12.59467f, 14.32438f, 16.13457f, 18.02523f, 18.97056f,
                               15.13525f, 16.08354f, 17.98011f, 19.94903f, 21.99028f, 24.0989f,
                               26.27488f, 27.36287f, 23.04509f, 24.13164f, 26.30476f, 28.54154f,
                               30.84199f, 33.20261f, 35.62338f, 36.83377f, 27,        28.15569f,
                               30.46708f, 32.8378f,  35.26785f, 37.75446f, 40.29763f, 41.56922f});
    /* downsampling to (2, 2), align_corners=False */
    run_resize("linear", NULL, NULL, BY_SIZES, 0, 0, 2, 2,
               (const float[]){4.67032f, 10.09202f, 25.2182f, 34.41299f});
}

static void test_linear_general_rank(void **state)
{
    (void)state;
    /* 1-D linear (general path): [0, 10] x2 half_pixel -> coords -0.25, 0.25,
     * 0.75, 1.25 clamped to [0, 1] -> [0, 2.5, 7.5, 10] */
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 1, (int64_t[]){2});
    int sc = th_const(&t, "sc", EAI_F32, 1, (int64_t[]){1}, (const float[]){2});
    int y = th_value(&t, "y");
    th_node(&t, "Resize", (int[]){x, th_value(&t, ""), sc}, 3, (int[]){y}, 1);
    th_attr_string(&t, "mode", "linear");
    th_output(&t, y);
    TH_RUN_OK(&t, ((const void *[]){(const float[]){0, 10}}));
    th_assert_close(th_out_f32(&t, 0), (const float[]){0, 2.5f, 7.5f, 10}, 4, 1e-6f, 1e-6f);
    th_end(&t);
}

static void test_linear_3d_general_path(void **state)
{
    (void)state;
    /* Three resized axes take the general N-d path. x = arange(1, 25) ** 1.5
     * as [1, 1, 2, 3, 4] -> sizes [1, 1, 3, 5, 6]:
     * F.interpolate(x, size=(3, 5, 6), mode='trilinear', align_corners=False) */
    static const float want[90] = {
        1.0f,      1.914214f, 3.223048f, 4.801531f, 6.598076f, 8.0f,      5.072136f, 6.323984f,
        8.067492f, 10.03413f, 12.18838f, 13.85097f, 11.18034f, 12.93864f, 15.33416f, 17.88304f,
        20.57384f, 22.62742f, 20.67214f, 22.76229f, 25.59334f, 28.55693f, 31.64516f, 33.9925f,
        27.0f,     29.31139f, 32.43279f, 35.67286f, 39.02605f, 41.56922f, 23.93608f, 25.77095f,
        28.27909f, 30.97218f, 33.82273f, 36.0f,     30.61628f, 32.69633f, 35.52284f, 38.50868f,
        41.63458f, 44.01403f, 40.63657f, 43.0844f,  46.38847f, 49.81343f, 53.35237f, 56.03507f,
        53.22486f, 55.94067f, 59.59772f, 63.36272f, 67.23071f, 70.15745f, 61.61705f, 64.51151f,
        68.40388f, 72.39558f, 76.48293f, 79.57236f, 46.87217f, 49.62768f, 53.33512f, 57.14282f,
        61.04737f, 64.0f,     56.16042f, 59.06868f, 62.97819f, 66.98322f, 71.08078f, 74.17709f,
        70.0928f,  73.23016f, 77.44279f, 81.74382f, 86.1309f,  89.44272f, 85.77757f, 89.11903f,
        93.6021f,  98.1685f,  102.8162f, 106.3224f, 96.23409f, 99.71162f, 104.375f,  109.1183f,
        113.9398f, 117.5755f};
    float x24[24];
    for (int i = 0; i < 24; i++)
        x24[i] = powf((float)(i + 1), 1.5f);
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 5, (int64_t[]){1, 1, 2, 3, 4});
    int sz = th_const(&t, "sz", EAI_I64, 1, (int64_t[]){5}, (const int64_t[]){1, 1, 3, 5, 6});
    int y = th_value(&t, "y");
    th_node(&t, "Resize", (int[]){x, th_value(&t, ""), th_value(&t, ""), sz}, 4, (int[]){y}, 1);
    th_attr_string(&t, "mode", "linear");
    th_output(&t, y);
    TH_RUN_OK(&t, ((const void *[]){x24}));
    th_assert_close(th_out_f32(&t, 0), want, 90, 1e-5f, 1e-5f);
    th_end(&t);
}

static void test_upsample_opset9_uint8(void **state)
{
    (void)state;
    /* Upsample-9 nearest: out[i] = in[floor(i / 2)] on each axis, any dtype */
    th_t t;
    th_begin(&t, 9);
    const uint8_t a[] = {1, 2, 3, 4};
    int x = th_input(&t, "x", EAI_U8, 4, (int64_t[]){1, 1, 2, 2});
    int sc = th_const(&t, "sc", EAI_F32, 1, (int64_t[]){4}, (const float[]){1, 1, 2, 2});
    int y = th_value(&t, "y");
    th_node(&t, "Upsample", (int[]){x, sc}, 2, (int[]){y}, 1);
    th_output(&t, y);
    TH_RUN_OK(&t, ((const void *[]){a}));
    assert_memory_equal(t.out_data[0],
                        ((const uint8_t[]){1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}), 16);
    th_end(&t);
}

static void test_resize_errors(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){1, 1, 3, 4});
    int sc = th_const(&t, "sc", EAI_F32, 1, (int64_t[]){4}, (const float[]){1, 1, 2, 2});
    int y = th_value(&t, "y");
    th_node(&t, "Resize", (int[]){x, th_value(&t, ""), sc}, 3, (int[]){y}, 1);
    th_attr_string(&t, "mode", "cubic");
    th_output(&t, y);
    th_assert_error(&t, EAI_E_UNSUPPORTED, "mode 'cubic' is not supported");
    th_end(&t);

    /* both scales and sizes */
    th_begin(&t, 13);
    x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){1, 1, 3, 4});
    sc = th_const(&t, "sc", EAI_F32, 1, (int64_t[]){4}, (const float[]){1, 1, 2, 2});
    int sz = th_const(&t, "sz", EAI_I64, 1, (int64_t[]){4}, (const int64_t[]){1, 1, 6, 8});
    y = th_value(&t, "y");
    th_node(&t, "Resize", (int[]){x, th_value(&t, ""), sc, sz}, 4, (int[]){y}, 1);
    th_output(&t, y);
    th_assert_error(&t, EAI_E_INVALID, "exactly one of 'scales' and 'sizes'");
    th_end(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nearest_asymmetric_vs_half_pixel),
        cmocka_unit_test(test_linear_align_corners_vs_half_pixel),
        cmocka_unit_test(test_linear_general_rank),
        cmocka_unit_test(test_linear_3d_general_path),
        cmocka_unit_test(test_upsample_opset9_uint8),
        cmocka_unit_test(test_resize_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
