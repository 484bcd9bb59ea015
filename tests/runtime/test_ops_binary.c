/* Tests of the 'binary' op family: broadcasting arithmetic, int64 shape
 * arithmetic (folded), comparisons, logic, Where, Pow, PRelu, Mod and the
 * variadic Max/Min/Sum/Mean. Expected arrays come from numpy 1.24 via
 * /usr/bin/python3 (expression in a comment next to each), integer division
 * and the big threaded case from hand or a naive loop in the test.
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

/* The float results here are one correctly rounded operation, so they match
 * numpy's to the last bit or two. th_assert_close with atol = rtol = F32_TOL
 * allows 5e-7 * (1 + |want|), which is never more than the 1e-6 * max(1, |want|)
 * these tests allowed before the helpers were shared. */
#define F32_TOL 5e-7f

static void assert_u8(const void *got_, const uint8_t *want, int n)
{
    const uint8_t *got = got_;
    for (int i = 0; i < n; i++)
        if (got[i] != want[i]) fail_msg("element %d: got %d, want %d", i, got[i], want[i]);
}

/* One node of op with inputs of the given dtypes/shapes; returns output. */
static int node2(th_t *t, const char *op, eai_dtype_t da, int ra, const int64_t *sa, eai_dtype_t db,
                 int rb, const int64_t *sb)
{
    int a = th_input(t, "a", da, ra, sa);
    int b = th_input(t, "b", db, rb, sb);
    int y = th_value(t, "y");
    th_node(t, op, (int[]){a, b}, 2, (int[]){y}, 1);
    th_output(t, y);
    return y;
}

static void test_add_bcast_3d_with_2d(void **state)
{
    (void)state;
    /* a = arange(24)*0.5-3 as [2,3,4]; b = [[1],[-2],[10]]; a + b */
    float a[24];
    for (int i = 0; i < 24; i++)
        a[i] = (float)i * 0.5f - 3;
    const float b[] = {1, -2, 10};
    th_t t;
    th_begin(&t, 13);
    node2(&t, "Add", EAI_F32, 3, (int64_t[]){2, 3, 4}, EAI_F32, 2, (int64_t[]){3, 1});
    TH_RUN_OK(&t, ((const void *[]){a, b}));
    th_assert_dims(&t, 0, 3, (int64_t[]){2, 3, 4});
    th_assert_close(th_out_f32(&t, 0), (const float[]){-2, -1.5f, -1, -0.5f, -3, -2.5f, -2, -1.5f,
                                                       11, 11.5f, 12, 12.5f, 4,  4.5f,  5,  5.5f,
                                                       3,  3.5f,  4,  4.5f,  17, 17.5f, 18, 18.5f},
                    24, F32_TOL, F32_TOL);
    th_end(&t);
}

static void test_mul_by_one_element_and_rank0(void **state)
{
    (void)state;
    const float a[] = {1, 2, 3, 4, 5, 6}, two5[] = {2.5f}, m1[] = {-1};
    th_t t;
    th_begin(&t, 13);
    node2(&t, "Mul", EAI_F32, 2, (int64_t[]){2, 3}, EAI_F32, 1, (int64_t[]){1});
    TH_RUN_OK(&t, ((const void *[]){a, two5}));
    th_assert_dims(&t, 0, 2, (int64_t[]){2, 3});
    th_assert_close(th_out_f32(&t, 0), (const float[]){2.5f, 5, 7.5f, 10, 12.5f, 15}, 6, F32_TOL,
                    F32_TOL);
    th_end(&t);

    /* rank-0 on the left: scalar - tensor */
    th_begin(&t, 13);
    node2(&t, "Sub", EAI_F32, 0, NULL, EAI_F32, 2, (int64_t[]){2, 3});
    TH_RUN_OK(&t, ((const void *[]){m1, a}));
    th_assert_dims(&t, 0, 2, (int64_t[]){2, 3});
    th_assert_close(th_out_f32(&t, 0), (const float[]){-2, -3, -4, -5, -6, -7}, 6, F32_TOL,
                    F32_TOL);
    th_end(&t);

    /* rank 0 op rank 0 stays rank 0 */
    th_begin(&t, 13);
    node2(&t, "Add", EAI_F32, 0, NULL, EAI_F32, 0, NULL);
    TH_RUN_OK(&t, ((const void *[]){two5, m1}));
    th_assert_dims(&t, 0, 0, NULL);
    th_assert_close(th_out_f32(&t, 0), (const float[]){1.5f}, 1, F32_TOL, F32_TOL);
    th_end(&t);
}

static void test_div_per_channel(void **state)
{
    (void)state;
    /* x = arange(24) as [2,3,2,2]; s = [1,2,4] as [3,1,1]; x / s */
    float x[24];
    for (int i = 0; i < 24; i++)
        x[i] = (float)i;
    const float s[] = {1, 2, 4};
    th_t t;
    th_begin(&t, 13);
    node2(&t, "Div", EAI_F32, 4, (int64_t[]){2, 3, 2, 2}, EAI_F32, 3, (int64_t[]){3, 1, 1});
    TH_RUN_OK(&t, ((const void *[]){x, s}));
    th_assert_close(th_out_f32(&t, 0),
                    (const float[]){0,  1,  2,  3,  2, 2.5f, 3, 3.5f, 2, 2.25f, 2.5f, 2.75f,
                                    12, 13, 14, 15, 8, 8.5f, 9, 9.5f, 5, 5.25f, 5.5f, 5.75f},
                    24, F32_TOL, F32_TOL);
    th_end(&t);
}

static void test_both_sides_broadcast(void **state)
{
    (void)state;
    /* [3,1] * [1,4] -> [3,4]: (arange(3)+1)[:,None] * [10,20,30,40] */
    const float a[] = {1, 2, 3}, b[] = {10, 20, 30, 40};
    th_t t;
    th_begin(&t, 13);
    node2(&t, "Mul", EAI_F32, 2, (int64_t[]){3, 1}, EAI_F32, 2, (int64_t[]){1, 4});
    TH_RUN_OK(&t, ((const void *[]){a, b}));
    th_assert_dims(&t, 0, 2, (int64_t[]){3, 4});
    th_assert_close(th_out_f32(&t, 0),
                    (const float[]){10, 20, 30, 40, 20, 40, 60, 80, 30, 60, 90, 120}, 12, F32_TOL,
                    F32_TOL);
    th_end(&t);
}

static void test_generic_nd_broadcast(void **state)
{
    (void)state;
    /* a = arange(30) as [2,3,1,5]; b = -arange(12) as [3,4,1]; a - b is
     * [2,3,4,5] = a[n,c,0,w] + 4c + h (checked by that formula) */
    float a[30], b[12];
    for (int i = 0; i < 30; i++)
        a[i] = (float)i;
    for (int i = 0; i < 12; i++)
        b[i] = -(float)i;
    th_t t;
    th_begin(&t, 13);
    node2(&t, "Sub", EAI_F32, 4, (int64_t[]){2, 3, 1, 5}, EAI_F32, 3, (int64_t[]){3, 4, 1});
    TH_RUN_OK(&t, ((const void *[]){a, b}));
    th_assert_dims(&t, 0, 4, (int64_t[]){2, 3, 4, 5});
    const float *y = th_out_f32(&t, 0);
    for (int n = 0; n < 2; n++)
        for (int ch = 0; ch < 3; ch++)
            for (int h = 0; h < 4; h++)
                for (int w = 0; w < 5; w++) {
                    float want = a[(n * 3 + ch) * 5 + w] - b[ch * 4 + h];
                    float got = y[((n * 3 + ch) * 4 + h) * 5 + w];
                    if (got != want)
                        fail_msg("[%d,%d,%d,%d]: got %g want %g", n, ch, h, w, (double)got,
                                 (double)want);
                }
    /* spot values from numpy: (a - b).ravel()[[0, 24, 119]] */
    th_assert_close(&y[0], (const float[]){0}, 1, F32_TOL, F32_TOL);
    th_assert_close(&y[24], (const float[]){13}, 1, F32_TOL, F32_TOL);
    th_assert_close(&y[119], (const float[]){40}, 1, F32_TOL, F32_TOL);
    th_end(&t);
}

static void test_int64_shape_arithmetic_folded(void **state)
{
    (void)state;
    /* constants only: folded at load. Div truncates toward zero like C
     * (7/2=3, -7/2=-3, 9/-4=-2), by hand. */
    const int64_t a[] = {7, -7, 9}, b[] = {2, 2, -4}, k[] = {10};
    th_t t;
    th_begin(&t, 13);
    int va = th_const(&t, "a", EAI_I64, 1, (int64_t[]){3}, a);
    int vb = th_const(&t, "b", EAI_I64, 1, (int64_t[]){3}, b);
    int vk = th_const(&t, "k", EAI_I64, 0, NULL, k);
    int q = th_value(&t, "q"), m = th_value(&t, "m"), s = th_value(&t, "s"), d = th_value(&t, "d");
    th_node(&t, "Div", (int[]){va, vb}, 2, (int[]){q}, 1);
    th_node(&t, "Mul", (int[]){q, vk}, 2, (int[]){m}, 1);
    th_node(&t, "Add", (int[]){m, va}, 2, (int[]){s}, 1);
    th_node(&t, "Sub", (int[]){vk, s}, 2, (int[]){d}, 1);
    th_output(&t, q);
    th_output(&t, d);
    TH_RUN_OK(&t, NULL);
    th_assert_i64(th_out_i64(&t, 0), (const int64_t[]){3, -3, -2}, 3);
    /* d = 10 - (q*10 + a) = {10-37, 10-(-37), 10-(-11)} */
    th_assert_i64(th_out_i64(&t, 1), (const int64_t[]){-27, 47, 21}, 3);
    th_end(&t);
}

static void test_int32_div_truncates_and_div_by_zero(void **state)
{
    (void)state;
    const int32_t a[] = {5, -6, 7, 1}, b[] = {2, 4, 0, -1};
    th_t t;
    th_begin(&t, 13);
    node2(&t, "Div", EAI_I32, 1, (int64_t[]){4}, EAI_I32, 1, (int64_t[]){4});
    TH_RUN_OK(&t, ((const void *[]){a, b}));
    const int32_t *y = (const int32_t *)th_out_f32(&t, 0);
    /* 5/2=2, -6/4=-1 (truncation), x/0 is defined as 0 here rather than a trap */
    assert_int_equal(y[0], 2);
    assert_int_equal(y[1], -1);
    assert_int_equal(y[2], 0);
    assert_int_equal(y[3], -1);
    th_end(&t);
}

static void test_comparisons_give_bool(void **state)
{
    (void)state;
    /* a = [[1,2,3],[4,5,6]], b = [2,5,5]: a < b, a >= b, a == b */
    const float a[] = {1, 2, 3, 4, 5, 6}, b[] = {2, 5, 5};
    static const char *const ops[] = {"Less", "GreaterOrEqual", "Equal"};
    static const uint8_t want[3][6] = {{1, 1, 1, 0, 0, 0}, {0, 0, 0, 1, 1, 1}, {0, 0, 0, 0, 1, 0}};
    for (int k = 0; k < 3; k++) {
        th_t t;
        th_begin(&t, 13);
        node2(&t, ops[k], EAI_F32, 2, (int64_t[]){2, 3}, EAI_F32, 1, (int64_t[]){3});
        TH_RUN_OK(&t, ((const void *[]){a, b}));
        assert_int_equal(th_out_info(&t, 0)->dtype, EAI_BOOL);
        assert_u8(th_out_f32(&t, 0), want[k], 6);
        th_end(&t);
    }
    /* int64 Greater against a scalar */
    const int64_t ia[] = {-1, 0, 3}, ib[] = {0};
    th_t t;
    th_begin(&t, 13);
    node2(&t, "Greater", EAI_I64, 1, (int64_t[]){3}, EAI_I64, 0, NULL);
    TH_RUN_OK(&t, ((const void *[]){ia, ib}));
    assert_u8(th_out_f32(&t, 0), (const uint8_t[]){0, 0, 1}, 3);
    th_end(&t);
}

static void test_logic(void **state)
{
    (void)state;
    const uint8_t a[] = {0, 0, 1, 1}, b[] = {0, 1, 0, 1};
    static const char *const ops[] = {"And", "Or", "Xor"};
    static const uint8_t want[3][4] = {{0, 0, 0, 1}, {0, 1, 1, 1}, {0, 1, 1, 0}};
    for (int k = 0; k < 3; k++) {
        th_t t;
        th_begin(&t, 13);
        node2(&t, ops[k], EAI_BOOL, 1, (int64_t[]){4}, EAI_BOOL, 1, (int64_t[]){4});
        TH_RUN_OK(&t, ((const void *[]){a, b}));
        assert_u8(th_out_f32(&t, 0), want[k], 4);
        th_end(&t);
    }
}

static void test_where_three_way_broadcast_int64(void **state)
{
    (void)state;
    /* np.where([[True],[False]], [[1,2,3]], np.int64(-9)) */
    const uint8_t cond[] = {1, 0};
    const int64_t x[] = {1, 2, 3}, y[] = {-9};
    th_t t;
    th_begin(&t, 16);
    int c = th_input(&t, "c", EAI_BOOL, 2, (int64_t[]){2, 1});
    int vx = th_input(&t, "x", EAI_I64, 2, (int64_t[]){1, 3});
    int vy = th_input(&t, "y", EAI_I64, 0, NULL);
    int o = th_value(&t, "o");
    th_node(&t, "Where", (int[]){c, vx, vy}, 3, (int[]){o}, 1);
    th_output(&t, o);
    TH_RUN_OK(&t, ((const void *[]){cond, x, y}));
    th_assert_dims(&t, 0, 2, (int64_t[]){2, 3});
    th_assert_i64(th_out_i64(&t, 0), (const int64_t[]){1, 2, 3, -9, -9, -9}, 6);
    th_end(&t);
}

static void test_where_float_same_shape(void **state)
{
    (void)state;
    const uint8_t cond[] = {1, 0, 0, 1, 1};
    const float x[] = {1, 2, 3, 4, 5}, y[] = {-1, -2, -3, -4, -5};
    th_t t;
    th_begin(&t, 13);
    int c = th_input(&t, "c", EAI_BOOL, 1, (int64_t[]){5});
    int vx = th_input(&t, "x", EAI_F32, 1, (int64_t[]){5});
    int vy = th_input(&t, "y", EAI_F32, 1, (int64_t[]){5});
    int o = th_value(&t, "o");
    th_node(&t, "Where", (int[]){c, vx, vy}, 3, (int[]){o}, 1);
    th_output(&t, o);
    TH_RUN_OK(&t, ((const void *[]){cond, x, y}));
    th_assert_close(th_out_f32(&t, 0), (const float[]){1, -2, -3, 4, 5}, 5, F32_TOL, F32_TOL);
    th_end(&t);
}

static void test_pow(void **state)
{
    (void)state;
    /* np.power([2,-3,0.5,10], [3,2,-1,0]) with an int64 exponent */
    const float base[] = {2, -3, 0.5f, 10};
    const int64_t ex[] = {3, 2, -1, 0};
    th_t t;
    th_begin(&t, 13);
    node2(&t, "Pow", EAI_F32, 1, (int64_t[]){4}, EAI_I64, 1, (int64_t[]){4});
    TH_RUN_OK(&t, ((const void *[]){base, ex}));
    th_assert_close(th_out_f32(&t, 0), (const float[]){8, 9, 2, 1}, 4, F32_TOL, F32_TOL);
    th_end(&t);

    /* scalar exponents: 2 (the x*x fast path) and 0.5 on |x|:
     * b = [1.5,-2,0.1,3]; b**2 and abs(b)**0.5 in float32 */
    const float b[] = {1.5f, -2, 0.1f, 3}, ab[] = {1.5f, 2, 0.1f, 3}, two[] = {2}, half[] = {0.5f};
    th_begin(&t, 13);
    node2(&t, "Pow", EAI_F32, 1, (int64_t[]){4}, EAI_F32, 0, NULL);
    TH_RUN_OK(&t, ((const void *[]){b, two}));
    th_assert_close(th_out_f32(&t, 0), (const float[]){2.25f, 4, 0.0100000007f, 9}, 4, F32_TOL,
                    F32_TOL);
    th_end(&t);
    th_begin(&t, 13);
    node2(&t, "Pow", EAI_F32, 1, (int64_t[]){4}, EAI_F32, 0, NULL);
    TH_RUN_OK(&t, ((const void *[]){ab, half}));
    th_assert_close(th_out_f32(&t, 0),
                    (const float[]){1.22474492f, 1.41421354f, 0.316227764f, 1.73205078f}, 4,
                    F32_TOL, F32_TOL);
    th_end(&t);

    /* integer base (Pow-12): the result keeps the base's type; by hand */
    const int64_t ib[] = {2, 3, -2}, ie[] = {10, 3, 3};
    th_begin(&t, 13);
    node2(&t, "Pow", EAI_I64, 1, (int64_t[]){3}, EAI_I64, 1, (int64_t[]){3});
    TH_RUN_OK(&t, ((const void *[]){ib, ie}));
    th_assert_i64(th_out_i64(&t, 0), (const int64_t[]){1024, 27, -8}, 3);
    th_end(&t);
}

static void test_prelu_per_channel_slope(void **state)
{
    (void)state;
    /* np.where(x < 0, x * slope, x), slope [2,1,1] against x [1,2,2,2] */
    const float x[] = {-2, -0.5f, 0, 1.5f, 3, -4, 5, -6}, slope[] = {0.1f, 2};
    th_t t;
    th_begin(&t, 13);
    node2(&t, "PRelu", EAI_F32, 4, (int64_t[]){1, 2, 2, 2}, EAI_F32, 3, (int64_t[]){2, 1, 1});
    TH_RUN_OK(&t, ((const void *[]){x, slope}));
    th_assert_close(th_out_f32(&t, 0),
                    (const float[]){-0.200000003f, -0.0500000007f, 0, 1.5f, 3, -8, 5, -12}, 8,
                    F32_TOL, F32_TOL);
    th_end(&t);
}

static void test_variadic_max_min_sum_mean(void **state)
{
    (void)state;
    /* a=[1.5,-2,3], b=[[2],[-1]], d=[0.25]: np.maximum/minimum folds, a+b+d, (a+b+d)/3 */
    const float a[] = {1.5f, -2, 3}, b[] = {2, -1}, d[] = {0.25f};
    static const char *const ops[] = {"Max", "Min", "Sum", "Mean"};
    static const float want[4][6] = {
        {2, 2, 3, 1.5f, 0.25f, 3},
        {0.25f, -2, 0.25f, -1, -2, -1},
        {3.75f, 0.25f, 5.25f, 0.75f, -2.75f, 2.25f},
        {1.25f, 0.0833333358f, 1.75f, 0.25f, -0.916666687f, 0.75f},
    };
    for (int k = 0; k < 4; k++) {
        th_t t;
        th_begin(&t, 13);
        int va = th_input(&t, "a", EAI_F32, 1, (int64_t[]){3});
        int vb = th_input(&t, "b", EAI_F32, 2, (int64_t[]){2, 1});
        int vd = th_input(&t, "d", EAI_F32, 1, (int64_t[]){1});
        int o = th_value(&t, "o");
        th_node(&t, ops[k], (int[]){va, vb, vd}, 3, (int[]){o}, 1);
        th_output(&t, o);
        TH_RUN_OK(&t, ((const void *[]){a, b, d}));
        th_assert_dims(&t, 0, 2, (int64_t[]){2, 3});
        th_assert_close(th_out_f32(&t, 0), want[k], 6, F32_TOL, F32_TOL);
        th_end(&t);
    }
    /* one input: a copy */
    th_t t;
    th_begin(&t, 13);
    int va = th_input(&t, "a", EAI_F32, 1, (int64_t[]){3});
    int o = th_value(&t, "o");
    th_node(&t, "Max", (int[]){va}, 1, (int[]){o}, 1);
    th_output(&t, o);
    TH_RUN_OK(&t, ((const void *[]){a}));
    th_assert_close(th_out_f32(&t, 0), a, 3, F32_TOL, F32_TOL);
    th_end(&t);
}

static void test_mod(void **state)
{
    (void)state;
    /* np.mod([7,-7,7,-7,5,0], [3,3,-3,-3,5,4]): sign of the divisor */
    const int64_t m[] = {7, -7, 7, -7, 5, 0}, n[] = {3, 3, -3, -3, 5, 4};
    th_t t;
    th_begin(&t, 13);
    node2(&t, "Mod", EAI_I64, 1, (int64_t[]){6}, EAI_I64, 1, (int64_t[]){6});
    TH_RUN_OK(&t, ((const void *[]){m, n}));
    th_assert_i64(th_out_i64(&t, 0), (const int64_t[]){1, 2, -2, -1, 0, 0}, 6);
    th_end(&t);
    /* fmod=1: np.fmod([5.5,-5.5,5.5], [2,2,-2]): sign of the dividend */
    const float x[] = {5.5f, -5.5f, 5.5f}, y[] = {2, 2, -2};
    th_begin(&t, 13);
    node2(&t, "Mod", EAI_F32, 1, (int64_t[]){3}, EAI_F32, 1, (int64_t[]){3});
    th_attr_int(&t, "fmod", 1);
    TH_RUN_OK(&t, ((const void *[]){x, y}));
    th_assert_close(th_out_f32(&t, 0), (const float[]){1.5f, -1.5f, 1.5f}, 3, F32_TOL, F32_TOL);
    th_end(&t);
}

static void test_big_broadcast_threaded(void **state)
{
    (void)state;
    /* [3,200,300] + [200,1] with a 4-thread pool: 180000 elements take the
     * parallel path; checked against a naive loop */
    enum { N = 3, H = 200, W = 300 };
    float *a = malloc(sizeof(float) * N * H * W), *b = malloc(sizeof(float) * H);
    for (int i = 0; i < N * H * W; i++)
        a[i] = (float)(i % 977) * 0.25f;
    for (int i = 0; i < H; i++)
        b[i] = (float)i - 100;
    eai_threadpool_t *tp;
    assert_int_equal(eai_threadpool_create(4, &tp), EAI_OK);
    th_t t;
    th_begin(&t, 13);
    node2(&t, "Add", EAI_F32, 3, (int64_t[]){N, H, W}, EAI_F32, 2, (int64_t[]){H, 1});
    assert_int_equal(th_prepare(&t), EAI_OK);
    eai_session_destroy(t.sess);
    eai_session_opts_t o = {.pool = tp};
    assert_int_equal(eai_session_create(t.model, &o, &t.sess), EAI_OK);
    TH_RUN_OK(&t, ((const void *[]){a, b}));
    const float *y = th_out_f32(&t, 0);
    for (int n = 0; n < N; n++)
        for (int h = 0; h < H; h++)
            for (int w = 0; w < W; w++) {
                int i = (n * H + h) * W + w;
                if (y[i] != a[i] + b[h])
                    fail_msg("[%d,%d,%d]: got %g want %g", n, h, w, (double)y[i],
                             (double)(a[i] + b[h]));
            }
    th_end(&t);
    eai_threadpool_destroy(tp);
    free(a);
    free(b);
}

static void test_error_incompatible_shapes_names_both(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    node2(&t, "Add", EAI_F32, 2, (int64_t[]){2, 3}, EAI_F32, 1, (int64_t[]){4});
    th_assert_error(&t, EAI_E_INVALID, "cannot broadcast shapes [2,3] and [4]");
    assert_non_null(strstr(eai_last_error(), "(Add)"));
    th_end(&t);
}

static void test_error_mixed_dtypes(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    node2(&t, "Mul", EAI_F32, 1, (int64_t[]){2}, EAI_I64, 1, (int64_t[]){2});
    th_assert_error(&t, EAI_E_FORMAT, "input 1 has dtype int64, input 0 has float32");
    th_end(&t);
    /* Where's condition must be bool */
    th_begin(&t, 13);
    int c = th_input(&t, "c", EAI_F32, 1, (int64_t[]){2});
    int x = th_input(&t, "x", EAI_F32, 1, (int64_t[]){2});
    int o = th_value(&t, "o");
    th_node(&t, "Where", (int[]){c, x, x}, 3, (int[]){o}, 1);
    th_output(&t, o);
    th_assert_error(&t, EAI_E_UNSUPPORTED, "has dtype float32, expected bool");
    th_end(&t);
}

static void test_error_prelu_slope_must_fit_x(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    node2(&t, "PRelu", EAI_F32, 2, (int64_t[]){1, 3}, EAI_F32, 2, (int64_t[]){2, 3});
    th_assert_error(&t, EAI_E_INVALID, "does not broadcast to X");
    th_end(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_bcast_3d_with_2d),
        cmocka_unit_test(test_mul_by_one_element_and_rank0),
        cmocka_unit_test(test_div_per_channel),
        cmocka_unit_test(test_both_sides_broadcast),
        cmocka_unit_test(test_generic_nd_broadcast),
        cmocka_unit_test(test_int64_shape_arithmetic_folded),
        cmocka_unit_test(test_int32_div_truncates_and_div_by_zero),
        cmocka_unit_test(test_comparisons_give_bool),
        cmocka_unit_test(test_logic),
        cmocka_unit_test(test_where_three_way_broadcast_int64),
        cmocka_unit_test(test_where_float_same_shape),
        cmocka_unit_test(test_pow),
        cmocka_unit_test(test_prelu_per_channel_slope),
        cmocka_unit_test(test_variadic_max_min_sum_mean),
        cmocka_unit_test(test_mod),
        cmocka_unit_test(test_big_broadcast_threaded),
        cmocka_unit_test(test_error_incompatible_shapes_names_both),
        cmocka_unit_test(test_error_mixed_dtypes),
        cmocka_unit_test(test_error_prelu_slope_must_fit_x),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
