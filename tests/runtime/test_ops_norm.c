/* Tests of the 'norm' op family: BatchNormalization against values computed
 * by hand, InstanceNormalization and LayerNormalization (with its Mean and
 * InvStdDev outputs) against PyTorch 1.13 (F.instance_norm, F.layer_norm;
 * generated with /usr/bin/python3, expressions in comments), and the
 * rejection of training-mode BatchNormalization.
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

/* BatchNormalization of x [1,2,1,2] = {1,2 | 3,5} with scale {2, 0.5},
 * B {0.1, -1}, mean {1, 4}, var {4, 0.25}. */
static void bn_graph(th_t *t, int opset, float eps)
{
    static const float scale[] = {2, 0.5f}, bias[] = {0.1f, -1}, mean[] = {1, 4},
                       var[] = {4, 0.25f};
    th_begin(t, opset);
    int x = th_input(t, "x", EAI_F32, 4, (int64_t[]){1, 2, 1, 2});
    int s = th_const(t, "scale", EAI_F32, 1, (int64_t[]){2}, scale);
    int b = th_const(t, "B", EAI_F32, 1, (int64_t[]){2}, bias);
    int m = th_const(t, "mean", EAI_F32, 1, (int64_t[]){2}, mean);
    int v = th_const(t, "var", EAI_F32, 1, (int64_t[]){2}, var);
    int y = th_value(t, "y");
    th_node(t, "BatchNormalization", (int[]){x, s, b, m, v}, 5, (int[]){y}, 1);
    th_attr_float(t, "epsilon", eps);
    th_output(t, y);
}

static void test_batchnorm_by_hand(void **state)
{
    (void)state;
    const float x[] = {1, 2, 3, 5};
    /* epsilon 0: channel 0: (x-1)/2*2 + 0.1 -> 0.1, 1.1;
     *            channel 1: (x-4)/0.5*0.5 - 1 -> -2, 0 */
    th_t t;
    bn_graph(&t, 15, 0.0f);
    TH_RUN_OK(&t, ((const void *[]){x}));
    th_assert_dims(&t, 0, 4, (int64_t[]){1, 2, 1, 2});
    th_assert_close(th_out_f32(&t, 0), (const float[]){0.1f, 1.1f, -2, 0}, 4, 1e-6f, 1e-6f);
    th_end(&t);
    /* epsilon 0.75 on opset 9: channel 0 divides by sqrt(4.75), channel 1 by
     * sqrt(1) = 1: y1 = (x-4)*0.5 - 1 -> -1.5, -0.5 (exact); y0 by formula */
    bn_graph(&t, 9, 0.75f);
    TH_RUN_OK(&t, ((const void *[]){x}));
    float k = 2.0f / sqrtf(4.75f);
    th_assert_close(th_out_f32(&t, 0), (const float[]){0.1f, k + 0.1f, -1.5f, -0.5f}, 4, 1e-6f,
                    1e-6f);
    th_end(&t);
}

static void test_batchnorm_training_rejected(void **state)
{
    (void)state;
    th_t t;
    bn_graph(&t, 15, 1e-5f);
    th_attr_int(&t, "training_mode", 1);
    th_assert_error(&t, EAI_E_UNSUPPORTED,
                    "(BatchNormalization): training_mode=1 is not supported");
    th_end(&t);
    /* scale of the wrong length */
    static const float three[] = {1, 2, 3}, two[] = {1, 2};
    th_begin(&t, 15);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){1, 2, 1, 2});
    int s = th_const(&t, "scale", EAI_F32, 1, (int64_t[]){3}, three);
    int b = th_const(&t, "B", EAI_F32, 1, (int64_t[]){2}, two);
    int y = th_value(&t, "y");
    th_node(&t, "BatchNormalization", (int[]){x, s, b, b, b}, 5, (int[]){y}, 1);
    th_output(&t, y);
    th_assert_error(&t, EAI_E_INVALID, "scale has 3 elements, expected 2");
    th_end(&t);
}

/* x [1,2,2,4]: channel 0 = arange(8)*0.75-5, channel 1 = 0.1*(arange(8,16)*0.75-5)**2 */
static const float XN[] = {-5,           -4.25f,       -3.5f,      -2.75f,
                           -2,           -1.25f,       -0.5f,      0.25f,
                           0.100000001f, 0.306250006f, 0.625f,     1.05624998f,
                           1.60000002f,  2.25625014f,  3.0250001f, 3.90625f};

static void test_instancenorm_matches_torch(void **state)
{
    (void)state;
    /* F.instance_norm(x, weight=[1.5,-0.5], bias=[0.25,2], eps=1e-3) */
    static const float scale[] = {1.5f, -0.5f}, bias[] = {0.25f, 2};
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){1, 2, 2, 4});
    int s = th_const(&t, "scale", EAI_F32, 1, (int64_t[]){2}, scale);
    int b = th_const(&t, "B", EAI_F32, 1, (int64_t[]){2}, bias);
    int y = th_value(&t, "y");
    th_node(&t, "InstanceNormalization", (int[]){x, s, b}, 3, (int[]){y}, 1);
    th_attr_float(&t, "epsilon", 1e-3f);
    th_output(&t, y);
    TH_RUN_OK(&t, ((const void *[]){XN}));
    th_assert_close(th_out_f32(&t, 0),
                    (const float[]){-2.04089999f, -1.38635707f, -0.731814265f, -0.0772714019f,
                                    0.577271461f, 1.23181438f, 1.88635719f, 2.54089999f,
                                    2.59299684f, 2.51196623f, 2.38673711f, 2.21730947f, 2.00368333f,
                                    1.74585855f, 1.44383538f, 1.09761369f},
                    16, 2e-6f, 2e-6f);
    th_end(&t);
}

static void test_layernorm_axis_minus2_with_stats(void **state)
{
    (void)state;
    /* F.layer_norm(x, (2,4), weight=linspace(0.5,2,8), bias=linspace(-1,1,8));
     * Mean/InvStdDev: x.reshape(2,8).mean(1), 1/sqrt(var(1)+1e-5) in float64 */
    static const float scale[] = {0.5f,        0.714285731f, 0.928571403f, 1.14285719f,
                                  1.35714281f, 1.57142854f,  1.78571427f,  2},
                       bias[] = {-1,           -0.714285731f, -0.428571433f, -0.142857149f,
                                 0.142857149f, 0.428571433f,  0.714285731f,  1};
    th_t t;
    th_begin(&t, 17);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){1, 2, 2, 4});
    int s = th_const(&t, "scale", EAI_F32, 2, (int64_t[]){2, 4}, scale);
    int b = th_const(&t, "B", EAI_F32, 2, (int64_t[]){2, 4}, bias);
    int y = th_value(&t, "y"), m = th_value(&t, "mean"), inv = th_value(&t, "inv");
    th_node(&t, "LayerNormalization", (int[]){x, s, b}, 3, (int[]){y, m, inv}, 3);
    th_attr_int(&t, "axis", -2);
    th_output(&t, y);
    th_output(&t, m);
    th_output(&t, inv);
    TH_RUN_OK(&t, ((const void *[]){XN}));
    th_assert_close(th_out_f32(&t, 0),
                    (const float[]){-1.7637614f, -1.4936341f, -1.03646314f, -0.39224866f,
                                    0.439009458f, 1.45731115f, 2.66265631f, 4.05504513f,
                                    -1.59317803f, -1.44588959f, -1.14701688f, -0.639716208f,
                                    0.132856786f, 1.2275461f, 2.70119548f, 4.61064911f},
                    16, 2e-6f, 2e-6f);
    th_assert_dims(&t, 1, 4, (int64_t[]){1, 2, 1, 1});
    th_assert_close(th_out_f32(&t, 1), (const float[]){-2.375f, 1.60937503f}, 2, 1e-6f, 1e-6f);
    th_assert_close(th_out_f32(&t, 2), (const float[]){0.581913389f, 0.785991646f}, 2, 1e-6f,
                    1e-6f);
    th_end(&t);
}

static void test_layernorm_scalar_scale_no_bias(void **state)
{
    (void)state;
    /* by hand, x = {1,-1 | 3,5}, axis -1, eps 0:
     * row 0 mean 0, std 1 -> {1,-1}; row 1 mean 4, std 1 -> {-1,1}; times 3 */
    const float x[] = {1, -1, 3, 5}, three[] = {3};
    th_t t;
    th_begin(&t, 17);
    int vx = th_input(&t, "x", EAI_F32, 2, (int64_t[]){2, 2});
    int s = th_const(&t, "scale", EAI_F32, 1, (int64_t[]){1}, three);
    int y = th_value(&t, "y");
    th_node(&t, "LayerNormalization", (int[]){vx, s}, 2, (int[]){y}, 1);
    th_attr_float(&t, "epsilon", 0);
    th_output(&t, y);
    TH_RUN_OK(&t, ((const void *[]){x}));
    th_assert_close(th_out_f32(&t, 0), (const float[]){3, -3, -3, 3}, 4, 1e-6f, 1e-6f);
    th_end(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batchnorm_by_hand),
        cmocka_unit_test(test_batchnorm_training_rejected),
        cmocka_unit_test(test_instancenorm_matches_torch),
        cmocka_unit_test(test_layernorm_axis_minus2_with_stats),
        cmocka_unit_test(test_layernorm_scalar_scale_no_bias),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
