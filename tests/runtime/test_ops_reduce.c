/* Tests of the 'reduce' and 'softmax' op families: axes as attribute and as
 * input, negative axes, keepdims both ways, noop_with_empty_axes, ArgMax/
 * ArgMin with select_last_index, and Softmax's opset 11 vs 13 axis meaning.
 * Expected arrays from numpy 1.24 / PyTorch 1.13 via /usr/bin/python3 (the
 * expression is in a comment next to each) on
 * x = (arange(24)*0.5 - 4).reshape(2,3,4).
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

static float X[24];

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < 24; i++)
        X[i] = (float)i * 0.5f - 4;
    return 0;
}

/* op over x [2,3,4]; axes as attribute (n_axes >= 0), as a constant input
 * (axes_input), or absent (n_axes < 0). keepdims < 0: left at default. */
static void reduce_begin(th_t *t, int opset, const char *op, const int64_t *axes, int n_axes,
                         bool axes_input, int keepdims)
{
    th_begin(t, opset);
    int x = th_input(t, "x", EAI_F32, 3, (int64_t[]){2, 3, 4});
    int y = th_value(t, "y");
    if (axes_input) {
        int a = th_const(t, "axes", EAI_I64, 1, (int64_t[]){n_axes}, axes);
        th_node(t, op, (int[]){x, a}, 2, (int[]){y}, 1);
    } else {
        th_node(t, op, (int[]){x}, 1, (int[]){y}, 1);
        if (n_axes >= 0) th_attr_ints(t, "axes", axes, n_axes);
    }
    if (keepdims >= 0) th_attr_int(t, "keepdims", keepdims);
    th_output(t, y);
}

static void test_mean_negative_axis_keepdims_default(void **state)
{
    (void)state;
    /* np.mean(x, axis=-1, keepdims=True) */
    th_t t;
    reduce_begin(&t, 13, "ReduceMean", (int64_t[]){-1}, 1, false, -1);
    TH_RUN_OK(&t, ((const void *[]){X}));
    th_assert_dims(&t, 0, 3, (int64_t[]){2, 3, 1});
    th_assert_close(th_out_f32(&t, 0), (const float[]){-3.25f, -1.25f, 0.75f, 2.75f, 4.75f, 6.75f},
                    6, 1e-7f, 1e-6f);
    th_end(&t);
}

static void test_sum_axes_input_opset13_no_keepdims(void **state)
{
    (void)state;
    /* np.sum(x, axis=(0,2)); ReduceSum-13 takes axes as an input */
    th_t t;
    reduce_begin(&t, 13, "ReduceSum", (int64_t[]){0, -1}, 2, true, 0);
    TH_RUN_OK(&t, ((const void *[]){X}));
    th_assert_dims(&t, 0, 1, (int64_t[]){3});
    th_assert_close(th_out_f32(&t, 0), (const float[]){-2, 14, 30}, 3, 1e-7f, 1e-6f);
    th_end(&t);
    /* the same axes as an attribute at opset 11 */
    reduce_begin(&t, 11, "ReduceSum", (int64_t[]){0, 2}, 2, false, 0);
    TH_RUN_OK(&t, ((const void *[]){X}));
    th_assert_close(th_out_f32(&t, 0), (const float[]){-2, 14, 30}, 3, 1e-7f, 1e-6f);
    th_end(&t);
}

static void test_max_middle_axis_opset18_input(void **state)
{
    (void)state;
    /* np.max(x, axis=1, keepdims=True): a vertical reduce */
    th_t t;
    reduce_begin(&t, 18, "ReduceMax", (int64_t[]){1}, 1, true, 1);
    TH_RUN_OK(&t, ((const void *[]){X}));
    th_assert_dims(&t, 0, 3, (int64_t[]){2, 1, 4});
    th_assert_close(th_out_f32(&t, 0), (const float[]){0, 0.5f, 1, 1.5f, 6, 6.5f, 7, 7.5f}, 8,
                    1e-7f, 1e-6f);
    th_end(&t);
}

static void test_no_axes_reduces_all_or_noop(void **state)
{
    (void)state;
    /* np.min(x) with keepdims: [1,1,1] */
    th_t t;
    reduce_begin(&t, 13, "ReduceMin", NULL, -1, false, 1);
    TH_RUN_OK(&t, ((const void *[]){X}));
    th_assert_dims(&t, 0, 3, (int64_t[]){1, 1, 1});
    th_assert_close(th_out_f32(&t, 0), (const float[]){-4}, 1, 1e-7f, 1e-6f);
    th_end(&t);
    /* noop_with_empty_axes=1 and no axes: Identity */
    reduce_begin(&t, 13, "ReduceSum", NULL, -1, false, -1);
    th_attr_int(&t, "noop_with_empty_axes", 1);
    TH_RUN_OK(&t, ((const void *[]){X}));
    th_assert_dims(&t, 0, 3, (int64_t[]){2, 3, 4});
    th_assert_close(th_out_f32(&t, 0), X, 24, 1e-7f, 1e-6f);
    th_end(&t);
}

static void test_prod_l2_sumsquare_logsumexp(void **state)
{
    (void)state;
    th_t t;
    /* np.sqrt(np.sum(x*x, axis=1)) */
    reduce_begin(&t, 13, "ReduceL2", (int64_t[]){1}, 1, false, 0);
    TH_RUN_OK(&t, ((const void *[]){X}));
    th_assert_close(th_out_f32(&t, 0),
                    (const float[]){4.47213602f, 3.84057283f, 3.31662488f, 2.95804f, 7.48331499f,
                                    8.29156208f, 9.11043358f, 9.93730354f},
                    8, 1e-7f, 1e-6f);
    th_end(&t);
    /* np.sum(x*x, axis=0) */
    reduce_begin(&t, 13, "ReduceSumSquare", (int64_t[]){0}, 1, false, 0);
    TH_RUN_OK(&t, ((const void *[]){X}));
    th_assert_close(
        th_out_f32(&t, 0),
        (const float[]){20, 18.5f, 18, 18.5f, 20, 22.5f, 26, 30.5f, 36, 42.5f, 50, 58.5f}, 12,
        1e-7f, 1e-6f);
    th_end(&t);
    /* torch.logsumexp(x, dim=2) (horizontal) and dim=0 (vertical) */
    reduce_begin(&t, 13, "ReduceLogSumExp", (int64_t[]){2}, 1, false, 0);
    TH_RUN_OK(&t, ((const void *[]){X}));
    th_assert_close(th_out_f32(&t, 0),
                    (const float[]){-1.71266127f, 0.287338674f, 2.28733873f, 4.28733873f,
                                    6.28733873f, 8.28733826f},
                    6, 1e-7f, 1e-6f);
    th_end(&t);
    reduce_begin(&t, 13, "ReduceLogSumExp", (int64_t[]){0}, 1, false, 0);
    TH_RUN_OK(&t, ((const void *[]){X}));
    th_assert_close(th_out_f32(&t, 0),
                    (const float[]){2.00247574f, 2.50247574f, 3.00247574f, 3.50247574f, 4.00247574f,
                                    4.50247574f, 5.00247574f, 5.50247574f, 6.00247574f, 6.50247574f,
                                    7.00247574f, 7.50247574f},
                    12, 1e-7f, 1e-6f);
    th_end(&t);
    /* np.prod(x[:, :, :2], axis=1) on a [2,3,2] input */
    const float y[] = {-4, -3.5f, -2, -1.5f, 0, 0.5f, 2, 2.5f, 4, 4.5f, 6, 6.5f};
    th_begin(&t, 13);
    int vx = th_input(&t, "x", EAI_F32, 3, (int64_t[]){2, 3, 2});
    int vy = th_value(&t, "y");
    th_node(&t, "ReduceProd", (int[]){vx}, 1, (int[]){vy}, 1);
    th_attr_ints(&t, "axes", (int64_t[]){-2}, 1);
    th_attr_int(&t, "keepdims", 0);
    th_output(&t, vy);
    TH_RUN_OK(&t, ((const void *[]){y}));
    th_assert_dims(&t, 0, 2, (int64_t[]){2, 2});
    th_assert_close(th_out_f32(&t, 0), (const float[]){0, 2.625f, 48, 73.125f}, 4, 1e-7f, 1e-6f);
    th_end(&t);
}

static void test_int64_reduce_prod_folded(void **state)
{
    (void)state;
    /* shape arithmetic: ReduceProd of a constant shape, by hand 2*3*7 */
    const int64_t shape[] = {2, 3, 7};
    th_t t;
    th_begin(&t, 13);
    int s = th_const(&t, "s", EAI_I64, 1, (int64_t[]){3}, shape);
    int y = th_value(&t, "y");
    th_node(&t, "ReduceProd", (int[]){s}, 1, (int[]){y}, 1);
    th_attr_int(&t, "keepdims", 0);
    th_output(&t, y);
    TH_RUN_OK(&t, NULL);
    th_assert_dims(&t, 0, 0, NULL);
    assert_int_equal(th_out_i64(&t, 0)[0], 42);
    th_end(&t);
}

static void test_argmax_argmin(void **state)
{
    (void)state;
    /* a = [[3,1,3,2],[0,5,5,-1],[7,7,7,7]]: np.argmax(a, 1) gives the first
     * index; the last one is 3 - np.argmax(a[:, ::-1], 1) */
    const float a[] = {3, 1, 3, 2, 0, 5, 5, -1, 7, 7, 7, 7};
    for (int last = 0; last < 2; last++) {
        th_t t;
        th_begin(&t, 13);
        int x = th_input(&t, "x", EAI_F32, 2, (int64_t[]){3, 4});
        int y = th_value(&t, "y");
        th_node(&t, "ArgMax", (int[]){x}, 1, (int[]){y}, 1);
        th_attr_int(&t, "axis", -1);
        th_attr_int(&t, "keepdims", 0);
        th_attr_int(&t, "select_last_index", last);
        th_output(&t, y);
        TH_RUN_OK(&t, ((const void *[]){a}));
        assert_int_equal(th_out_info(&t, 0)->dtype, EAI_I64);
        th_assert_dims(&t, 0, 1, (int64_t[]){3});
        th_assert_i64(th_out_i64(&t, 0),
                      last ? (const int64_t[]){2, 2, 3} : (const int64_t[]){0, 1, 0}, 3);
        th_end(&t);
    }
    /* np.argmin(a, 0) with keepdims (default) -> [1,4] */
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 2, (int64_t[]){3, 4});
    int y = th_value(&t, "y");
    th_node(&t, "ArgMin", (int[]){x}, 1, (int[]){y}, 1);
    th_output(&t, y);
    TH_RUN_OK(&t, ((const void *[]){a}));
    th_assert_dims(&t, 0, 2, (int64_t[]){1, 4});
    th_assert_i64(th_out_i64(&t, 0), (const int64_t[]){1, 0, 0, 1}, 4);
    th_end(&t);
}

static void test_reduce_errors(void **state)
{
    (void)state;
    th_t t;
    reduce_begin(&t, 13, "ReduceMean", (int64_t[]){1, -2}, 2, false, -1);
    th_assert_error(&t, EAI_E_FORMAT, "(ReduceMean): axis 1 appears twice in axes");
    th_end(&t);
    reduce_begin(&t, 13, "ReduceMean", (int64_t[]){3}, 1, false, -1);
    th_assert_error(&t, EAI_E_FORMAT, "axis 3 is out of range for rank 3");
    th_end(&t);
    /* axes as a runtime input: the output shape would depend on data */
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 3, (int64_t[]){2, 3, 4});
    int a = th_input(&t, "axes", EAI_I64, 1, (int64_t[]){1});
    int y = th_value(&t, "y");
    th_node(&t, "ReduceSum", (int[]){x, a}, 2, (int[]){y}, 1);
    th_output(&t, y);
    th_assert_error(&t, EAI_E_UNSUPPORTED, "input 1 ('axes') must be constant");
    th_end(&t);
}

/* ---- Softmax / LogSoftmax ---- */

/* s = (arange(12)*0.3 - 1).reshape(2,3,2) */
static const float S[] = {-1,   -0.699999988f, -0.399999976f, -0.0999999642f, 0.200000048f,
                          0.5f, 0.800000072f,  1.10000014f,   1.4000001f,     1.70000005f,
                          2,    2.30000019f};

static void softmax_run(th_t *t, int opset, const char *op, int64_t axis, bool set_axis)
{
    th_begin(t, opset);
    int x = th_input(t, "x", EAI_F32, 3, (int64_t[]){2, 3, 2});
    int y = th_value(t, "y");
    th_node(t, op, (int[]){x}, 1, (int[]){y}, 1);
    if (set_axis) th_attr_int(t, "axis", axis);
    th_output(t, y);
    TH_RUN_OK(t, ((const void *[]){S}));
}

static void test_softmax_opset11_vs_13_axis1(void **state)
{
    (void)state;
    th_t t;
    /* opset 13: torch.softmax(s, dim=1), only dim 1 normalised */
    softmax_run(&t, 13, "Softmax", 1, true);
    th_assert_close(th_out_f32(&t, 0),
                    (const float[]){0.162807152f, 0.162807152f, 0.296653986f, 0.296654016f,
                                    0.540538847f, 0.540538847f, 0.162807167f, 0.162807167f,
                                    0.296654016f, 0.296653986f, 0.540538847f, 0.540538847f},
                    12, 1e-7f, 1e-6f);
    th_end(&t);
    /* opset 11, same attribute: coerced to [2, 6]:
     * torch.softmax(s.reshape(2,6), dim=1) */
    softmax_run(&t, 11, "Softmax", 1, true);
    th_assert_dims(&t, 0, 3, (int64_t[]){2, 3, 2});
    th_assert_close(th_out_f32(&t, 0),
                    (const float[]){0.0692838132f, 0.0935233533f, 0.126243338f, 0.170410678f,
                                    0.230030358f, 0.31050849f, 0.0692838058f, 0.0935233608f,
                                    0.126243338f, 0.170410663f, 0.230030328f, 0.310508519f},
                    12, 1e-7f, 1e-6f);
    th_end(&t);
}

static void test_logsoftmax_default_axes(void **state)
{
    (void)state;
    th_t t;
    /* opset 13 default axis -1: torch.log_softmax(s, dim=-1) */
    softmax_run(&t, 13, "LogSoftmax", 0, false);
    th_assert_close(th_out_f32(&t, 0),
                    (const float[]){-0.854355276f, -0.554355264f, -0.854355276f, -0.554355264f,
                                    -0.854355216f, -0.554355264f, -0.854355276f, -0.554355204f,
                                    -0.854355216f, -0.554355264f, -0.854355335f, -0.554355145f},
                    12, 1e-7f, 1e-6f);
    th_end(&t);
    /* opset 11 default axis 1, coerced: torch.log_softmax(s.reshape(2,6), 1) */
    softmax_run(&t, 11, "LogSoftmax", 0, false);
    th_assert_close(th_out_f32(&t, 0),
                    (const float[]){-2.66954398f, -2.36954403f, -2.06954384f, -1.76954389f,
                                    -1.46954393f, -1.16954398f, -2.66954422f, -2.36954403f,
                                    -2.06954408f, -1.76954412f, -1.46954417f, -1.16954398f},
                    12, 1e-7f, 1e-6f);
    th_end(&t);
}

static void test_softmax_large_inputs_stable(void **state)
{
    (void)state;
    /* torch.softmax([1000,1001,1002,-1000], 0): no overflow */
    const float x[] = {1000, 1001, 1002, -1000};
    th_t t;
    th_begin(&t, 13);
    int vx = th_input(&t, "x", EAI_F32, 1, (int64_t[]){4});
    int y = th_value(&t, "y");
    th_node(&t, "Softmax", (int[]){vx}, 1, (int[]){y}, 1);
    th_output(&t, y);
    TH_RUN_OK(&t, ((const void *[]){x}));
    th_assert_close(th_out_f32(&t, 0),
                    (const float[]){0.0900305733f, 0.244728476f, 0.665240943f, 0}, 4, 1e-7f, 1e-6f);
    th_end(&t);
}

static void test_softmax_error_axis(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 2, (int64_t[]){2, 3});
    int y = th_value(&t, "y");
    th_node(&t, "Softmax", (int[]){x}, 1, (int[]){y}, 1);
    th_attr_int(&t, "axis", -3);
    th_output(&t, y);
    th_assert_error(&t, EAI_E_FORMAT, "(Softmax): axis -3 is out of range for rank 2");
    th_end(&t);
}

/* Replaces the harness's session by one on a thread pool. */
static void use_pool(th_t *t, eai_threadpool_t *tp)
{
    assert_int_equal(th_prepare(t), EAI_OK);
    eai_session_destroy(t->sess);
    eai_session_opts_t o = {.pool = tp};
    assert_int_equal(eai_session_create(t->model, &o, &t->sess), EAI_OK);
}

/* x [16,128,64] (131072 elements, past the threading threshold) on a
 * 4-thread pool: ReduceMean over axis 1 (vertical), ReduceMax over axis 2
 * (horizontal), Softmax over axis 1 (column chunks) and -1 (rows), each
 * against a naive double-precision loop here. */
static void test_big_threaded_against_naive(void **state)
{
    (void)state;
    enum { A = 16, B = 128, C = 64 };
    float *x = malloc(sizeof(float) * A * B * C);
    for (int i = 0; i < A * B * C; i++)
        x[i] = (float)((i * 7919) % 1013) * 0.01f - 5;
    eai_threadpool_t *tp;
    assert_int_equal(eai_threadpool_create(4, &tp), EAI_OK);
    static const char *const ops[] = {"ReduceMean", "ReduceMax", "Softmax", "Softmax"};
    static const int64_t axis[] = {1, 2, 1, -1};
    for (int k = 0; k < 4; k++) {
        th_t t;
        th_begin(&t, 13);
        int vx = th_input(&t, "x", EAI_F32, 3, (int64_t[]){A, B, C});
        int y = th_value(&t, "y");
        th_node(&t, ops[k], (int[]){vx}, 1, (int[]){y}, 1);
        if (k < 2) {
            th_attr_ints(&t, "axes", &axis[k], 1);
            th_attr_int(&t, "keepdims", 0);
        } else {
            th_attr_int(&t, "axis", axis[k]);
        }
        th_output(&t, y);
        use_pool(&t, tp);
        TH_RUN_OK(&t, ((const void *[]){x}));
        const float *got = th_out_f32(&t, 0);
        for (int a = 0; a < A; a++) {
            if (k == 0) {
                for (int c = 0; c < C; c++) {
                    double s = 0;
                    for (int b = 0; b < B; b++)
                        s += x[(a * B + b) * C + c];
                    float want = (float)(s / B);
                    if (!(fabsf(got[a * C + c] - want) <= 1e-5f))
                        fail_msg("mean [%d,%d]: got %g want %g", a, c, (double)got[a * C + c],
                                 (double)want);
                }
            } else if (k == 1) {
                for (int b = 0; b < B; b++) {
                    float m = -INFINITY;
                    for (int c = 0; c < C; c++)
                        m = fmaxf(m, x[(a * B + b) * C + c]);
                    assert_true(got[a * B + b] == m);
                }
            } else {
                /* softmax along dim 1 (stride C) or dim 2 (stride 1) */
                int n = k == 2 ? B : C, m = k == 2 ? C : B;
                int64_t step = k == 2 ? C : 1, other = k == 2 ? 1 : C;
                for (int j = 0; j < m; j++) {
                    const float *xr = x + (int64_t)a * B * C + j * other;
                    const float *yr = got + (int64_t)a * B * C + j * other;
                    double mx = -INFINITY, s = 0;
                    for (int i = 0; i < n; i++)
                        mx = fmax(mx, xr[i * step]);
                    for (int i = 0; i < n; i++)
                        s += exp(xr[i * step] - mx);
                    for (int i = 0; i < n; i++) {
                        double want = exp(xr[i * step] - mx) / s;
                        if (!(fabs(yr[i * step] - want) <= 1e-6 * want + 1e-9))
                            fail_msg("softmax axis %d [%d,%d,%d]: got %g want %g", (int)axis[k], a,
                                     j, i, (double)yr[i * step], want);
                    }
                }
            }
        }
        th_end(&t);
    }
    eai_threadpool_destroy(tp);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mean_negative_axis_keepdims_default),
        cmocka_unit_test(test_sum_axes_input_opset13_no_keepdims),
        cmocka_unit_test(test_max_middle_axis_opset18_input),
        cmocka_unit_test(test_no_axes_reduces_all_or_noop),
        cmocka_unit_test(test_prod_l2_sumsquare_logsumexp),
        cmocka_unit_test(test_int64_reduce_prod_folded),
        cmocka_unit_test(test_argmax_argmin),
        cmocka_unit_test(test_reduce_errors),
        cmocka_unit_test(test_softmax_opset11_vs_13_axis1),
        cmocka_unit_test(test_logsoftmax_default_axes),
        cmocka_unit_test(test_softmax_large_inputs_stable),
        cmocka_unit_test(test_softmax_error_axis),
        cmocka_unit_test(test_big_threaded_against_naive),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
