/* Tests of the 'unary' op family: activations against PyTorch 1.13
 * (torch.nn.functional on x = [-3,-1,-0.25,0,0.5,2,4], generated with
 * /usr/bin/python3), the vectorised exp/tanh/sigmoid against double-precision
 * libm over a sweep, Clip in its opset 6-10 (attributes) and opset 11+ (inputs,
 * either absent) forms, integer Neg/Abs and Not.
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

static const float X7[] = {-3, -1, -0.25f, 0, 0.5f, 2, 4};

/* y = op(x) for a [n] input; attributes via the callback's caller. */
static void unary_begin(th_t *t, int opset, const char *op, eai_dtype_t dt, int n)
{
    th_begin(t, opset);
    int x = th_input(t, "x", dt, 1, (int64_t[]){n});
    int y = th_value(t, "y");
    th_node(t, op, (int[]){x}, 1, (int[]){y}, 1);
    th_output(t, y);
}

static void check_act(const char *op, int opset, const char *a1, float v1, const char *a2, float v2,
                      const float *want)
{
    th_t t;
    unary_begin(&t, opset, op, EAI_F32, 7);
    if (a1) th_attr_float(&t, a1, v1);
    if (a2) th_attr_float(&t, a2, v2);
    TH_RUN_OK(&t, ((const void *[]){X7}));
    th_assert_close(th_out_f32(&t, 0), want, 7, 1e-7f, 1e-6f);
    th_end(&t);
}

static void test_activations_match_torch(void **state)
{
    (void)state;
    check_act("Relu", 14, 0, 0, 0, 0, (const float[]){0, 0, 0, 0, 0.5f, 2, 4});
    /* F.leaky_relu(x, 0.1) */
    check_act("LeakyRelu", 16, "alpha", 0.1f, 0, 0,
              (const float[]){-0.300000012f, -0.100000001f, -0.0250000004f, 0, 0.5f, 2, 4});
    /* torch.sigmoid */
    check_act("Sigmoid", 13, 0, 0, 0, 0,
              (const float[]){0.0474258736f, 0.268941432f, 0.437823504f, 0.5f, 0.622459352f,
                              0.880797029f, 0.982013762f});
    /* np.clip(0.2x + 0.5, 0, 1): the ONNX defaults */
    check_act("HardSigmoid", 13, 0, 0, 0, 0,
              (const float[]){0, 0.300000012f, 0.449999988f, 0.5f, 0.600000024f, 0.899999976f, 1});
    /* F.hardswish */
    check_act("HardSwish", 14, 0, 0, 0, 0,
              (const float[]){0, -0.333333343f, -0.114583336f, 0, 0.291666657f, 1.66666663f, 4});
    /* torch.erf */
    check_act("Erf", 13, 0, 0, 0, 0,
              (const float[]){-0.999977887f, -0.842700779f, -0.276326388f, 0, 0.520499885f,
                              0.995322287f, 1});
    /* F.elu(alpha=1), torch.selu, F.softplus, torch.tanh, torch.exp */
    check_act("Elu", 13, 0, 0, 0, 0,
              (const float[]){-0.950212955f, -0.63212055f, -0.221199214f, 0, 0.5f, 2, 4});
    check_act("Selu", 13, 0, 0, 0, 0,
              (const float[]){-1.6705687f, -1.11133075f, -0.388890177f, 0, 0.525350511f,
                              2.10140204f, 4.20280409f});
    check_act("Softplus", 13, 0, 0, 0, 0,
              (const float[]){0.048587352f, 0.313261688f, 0.575939417f, 0.693147182f, 0.974076986f,
                              2.12692809f, 4.01814985f});
    check_act("Tanh", 13, 0, 0, 0, 0,
              (const float[]){-0.995054781f, -0.761594176f, -0.244918659f, 0, 0.462117165f,
                              0.964027584f, 0.999329329f});
    check_act("Exp", 13, 0, 0, 0, 0,
              (const float[]){0.0497870669f, 0.36787945f, 0.778800786f, 1, 1.64872122f, 7.38905621f,
                              54.5981522f});
}

/* The branch-free expf/tanhf and sigmoid against double libm on 4001 points
 * in [-20, 20] plus the tails: within 4 float ulps (relative 5e-7). */
static void test_fast_math_accuracy_sweep(void **state)
{
    (void)state;
    enum { N = 4001 + 6 };
    static float x[N];
    for (int i = 0; i < 4001; i++)
        x[i] = -20.0f + (float)i * 0.01f;
    const float tails[] = {-87.0f, -80.0f, 60.0f, 88.0f, 1e-6f, -3e-5f};
    memcpy(x + 4001, tails, sizeof tails);
    static const char *const ops[] = {"Exp", "Tanh", "Sigmoid", "Erf"};
    for (int k = 0; k < 4; k++) {
        th_t t;
        unary_begin(&t, 13, ops[k], EAI_F32, N);
        TH_RUN_OK(&t, ((const void *[]){x}));
        const float *y = th_out_f32(&t, 0);
        for (int i = 0; i < N; i++) {
            double xd = x[i], want;
            switch (k) {
            case 0:
                want = exp(xd);
                break;
            case 1:
                want = tanh(xd);
                break;
            case 2:
                want = 1.0 / (1.0 + exp(-xd));
                break;
            default:
                want = erf(xd);
                break;
            }
            double err = fabs((double)y[i] - want);
            if (!(err <= 5e-7 * fabs(want) + 1e-30))
                fail_msg("%s(%.9g): got %.9g, want %.9g", ops[k], xd, (double)y[i], want);
        }
        th_end(&t);
    }
    /* limits: exp overflows to inf and underflows to 0, NaN stays NaN */
    const float lim[] = {100.0f, -100.0f, NAN};
    th_t t;
    unary_begin(&t, 13, "Exp", EAI_F32, 3);
    TH_RUN_OK(&t, ((const void *[]){lim}));
    assert_true(isinf(th_out_f32(&t, 0)[0]));
    assert_true(th_out_f32(&t, 0)[1] == 0.0f);
    assert_true(isnan(th_out_f32(&t, 0)[2]));
    th_end(&t);
}

static void test_clip_opset11_inputs_either_absent(void **state)
{
    (void)state;
    const float lo[] = {-0.5f}, hi[] = {1};
    /* min only (max absent) */
    th_t t;
    th_begin(&t, 11);
    int x = th_input(&t, "x", EAI_F32, 1, (int64_t[]){7});
    int vmin = th_const(&t, "min", EAI_F32, 0, NULL, lo);
    int y = th_value(&t, "y");
    th_node(&t, "Clip", (int[]){x, vmin}, 2, (int[]){y}, 1);
    th_output(&t, y);
    TH_RUN_OK(&t, ((const void *[]){X7}));
    th_assert_close(th_out_f32(&t, 0), (const float[]){-0.5f, -0.5f, -0.25f, 0, 0.5f, 2, 4}, 7, 0,
                    0);
    th_end(&t);
    /* max only, min given as the empty name (absent) */
    th_begin(&t, 13);
    x = th_input(&t, "x", EAI_F32, 1, (int64_t[]){7});
    int vmax = th_const(&t, "max", EAI_F32, 0, NULL, hi);
    y = th_value(&t, "y");
    th_node(&t, "Clip", (int[]){x, th_value(&t, ""), vmax}, 3, (int[]){y}, 1);
    th_output(&t, y);
    TH_RUN_OK(&t, ((const void *[]){X7}));
    th_assert_close(th_out_f32(&t, 0), (const float[]){-3, -1, -0.25f, 0, 0.5f, 1, 1}, 7, 0, 0);
    th_end(&t);
    /* bounds as runtime inputs */
    th_begin(&t, 13);
    x = th_input(&t, "x", EAI_F32, 1, (int64_t[]){7});
    vmin = th_input(&t, "min", EAI_F32, 0, NULL);
    vmax = th_input(&t, "max", EAI_F32, 0, NULL);
    y = th_value(&t, "y");
    th_node(&t, "Clip", (int[]){x, vmin, vmax}, 3, (int[]){y}, 1);
    th_output(&t, y);
    TH_RUN_OK(&t, ((const void *[]){X7, lo, hi}));
    th_assert_close(th_out_f32(&t, 0), (const float[]){-0.5f, -0.5f, -0.25f, 0, 0.5f, 1, 1}, 7, 0,
                    0);
    th_end(&t);
}

static void test_clip_opset6_attributes_and_int64(void **state)
{
    (void)state;
    th_t t;
    unary_begin(&t, 10, "Clip", EAI_F32, 7);
    th_attr_float(&t, "min", 0);
    th_attr_float(&t, "max", 3);
    TH_RUN_OK(&t, ((const void *[]){X7}));
    th_assert_close(th_out_f32(&t, 0), (const float[]){0, 0, 0, 0, 0.5f, 2, 3}, 7, 0, 0);
    th_end(&t);
    /* Relu6 written as Clip(0, 6) on int64 (opset 12+) */
    const int64_t xi[] = {-9, 3, 7, INT64_MAX}, lo[] = {0}, hi[] = {6};
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_I64, 1, (int64_t[]){4});
    int vmin = th_const(&t, "min", EAI_I64, 0, NULL, lo);
    int vmax = th_const(&t, "max", EAI_I64, 0, NULL, hi);
    int y = th_value(&t, "y");
    th_node(&t, "Clip", (int[]){x, vmin, vmax}, 3, (int[]){y}, 1);
    th_output(&t, y);
    TH_RUN_OK(&t, ((const void *[]){xi}));
    const int64_t *yi = th_out_i64(&t, 0);
    assert_int_equal(yi[0], 0);
    assert_int_equal(yi[1], 3);
    assert_int_equal(yi[2], 6);
    assert_int_equal(yi[3], 6);
    th_end(&t);
}

static void test_integer_neg_abs_and_not(void **state)
{
    (void)state;
    const int64_t a[] = {5, -3, 0, INT64_MIN};
    th_t t;
    unary_begin(&t, 13, "Neg", EAI_I64, 4);
    TH_RUN_OK(&t, ((const void *[]){a}));
    const int64_t *y = th_out_i64(&t, 0);
    assert_int_equal(y[0], -5);
    assert_int_equal(y[1], 3);
    assert_int_equal(y[2], 0);
    assert_true(y[3] == INT64_MIN); /* wraps, as two's complement, without UB */
    th_end(&t);
    const int32_t b[] = {-7, 7};
    unary_begin(&t, 13, "Abs", EAI_I32, 2);
    TH_RUN_OK(&t, ((const void *[]){b}));
    const int32_t *yb = (const int32_t *)th_out_f32(&t, 0);
    assert_int_equal(yb[0], 7);
    assert_int_equal(yb[1], 7);
    th_end(&t);
    const uint8_t c[] = {0, 1, 1, 0};
    unary_begin(&t, 13, "Not", EAI_BOOL, 4);
    TH_RUN_OK(&t, ((const void *[]){c}));
    const uint8_t *yc = (const uint8_t *)th_out_f32(&t, 0);
    assert_int_equal(yc[0], 1);
    assert_int_equal(yc[1], 0);
    assert_int_equal(yc[2], 0);
    assert_int_equal(yc[3], 1);
    th_end(&t);
}

static void test_math_functions(void **state)
{
    (void)state;
    const float x[] = {0.25f, 1, 2.5f, 9};
    /* by hand: sqrt, 1/x, floor, ceil, log(1) = 0 */
    th_t t;
    unary_begin(&t, 13, "Sqrt", EAI_F32, 4);
    TH_RUN_OK(&t, ((const void *[]){x}));
    th_assert_close(th_out_f32(&t, 0), (const float[]){0.5f, 1, 1.58113885f, 3}, 4, 0, 1e-7f);
    th_end(&t);
    unary_begin(&t, 13, "Reciprocal", EAI_F32, 4);
    TH_RUN_OK(&t, ((const void *[]){x}));
    th_assert_close(th_out_f32(&t, 0), (const float[]){4, 1, 0.4f, 1.0f / 9}, 4, 0, 1e-7f);
    th_end(&t);
    const float r[] = {-1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 2.7f};
    unary_begin(&t, 13, "Floor", EAI_F32, 6);
    TH_RUN_OK(&t, ((const void *[]){r}));
    th_assert_close(th_out_f32(&t, 0), (const float[]){-2, -1, 0, 1, 2, 2}, 6, 0, 0);
    th_end(&t);
    unary_begin(&t, 13, "Ceil", EAI_F32, 6);
    TH_RUN_OK(&t, ((const void *[]){r}));
    th_assert_close(th_out_f32(&t, 0), (const float[]){-1, 0, 1, 2, 3, 3}, 6, 0, 0);
    th_end(&t);
    /* Round (opset 11) rounds halves to even, like np.round */
    unary_begin(&t, 13, "Round", EAI_F32, 6);
    TH_RUN_OK(&t, ((const void *[]){r}));
    th_assert_close(th_out_f32(&t, 0), (const float[]){-2, -0.0f, 0, 2, 2, 3}, 6, 0, 0);
    th_end(&t);
}

static void test_error_dtype_names_supported_list(void **state)
{
    (void)state;
    th_t t;
    unary_begin(&t, 13, "Sigmoid", EAI_I64, 3);
    th_assert_error(&t, EAI_E_UNSUPPORTED,
                    "(Sigmoid): input X has dtype int64, supported: float32");
    th_end(&t);
    /* Clip-11's min must be a scalar */
    const float lo[] = {0, 1};
    th_begin(&t, 11);
    int x = th_input(&t, "x", EAI_F32, 1, (int64_t[]){2});
    int vmin = th_const(&t, "min", EAI_F32, 1, (int64_t[]){2}, lo);
    int y = th_value(&t, "y");
    th_node(&t, "Clip", (int[]){x, vmin}, 2, (int[]){y}, 1);
    th_output(&t, y);
    th_assert_error(&t, EAI_E_FORMAT, "min must be a scalar, it has 2 elements");
    th_end(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_activations_match_torch),
        cmocka_unit_test(test_fast_math_accuracy_sweep),
        cmocka_unit_test(test_clip_opset11_inputs_either_absent),
        cmocka_unit_test(test_clip_opset6_attributes_and_int64),
        cmocka_unit_test(test_integer_neg_abs_and_not),
        cmocka_unit_test(test_math_functions),
        cmocka_unit_test(test_error_dtype_names_supported_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
