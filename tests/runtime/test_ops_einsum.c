/* Tests of the 'einsum' op family: matmul patterns (sgemm route), implicit
 * output, trace and diagonal, reductions, outer product, '...' broadcasting,
 * three operands, int64, and equation / shape errors.
 * Inputs are fill(shape, off)[i] = float32(((i*0.25 - 1.5 + off) mod 3.7) - 1.2)
 * (numpy's mod: result has the divisor's sign). Expected arrays from numpy 1.24
 * via /usr/bin/python3: np.einsum(eq, *[x.astype(np.float64) for x in inputs]),
 * printed with %.9g.
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

#define RUN_OK(t, in)                                                                              \
    do {                                                                                           \
        eai_status_t st_ = th_run((t), (in));                                                      \
        if (st_ != EAI_OK) fail_msg("th_run: %s: %s", eai_status_str(st_), eai_last_error());      \
    } while (0)

#define MAX_IN 3

static float BUF[MAX_IN][64];

static void fill(float *x, int n, double off)
{
    for (int i = 0; i < n; i++) {
        double v = fmod(i * 0.25 - 1.5 + off, 3.7);
        if (v < 0) v += 3.7;
        x[i] = (float)(v - 1.2);
    }
}

static void assert_near(const float *got, const float *want, int n)
{
    for (int i = 0; i < n; i++)
        if (!(fabsf(got[i] - want[i]) <= 1e-5f + 1e-5f * fabsf(want[i])))
            fail_msg("element %d: got %.9g, want %.9g", i, (double)got[i], (double)want[i]);
}

/* Runs Einsum(eq) on n_in float inputs filled with offsets 0, 1, 2 and checks
 * the output's dims and values. */
static void check(const char *eq, int n_in, const int *ranks, const int64_t dims[][4], int out_rank,
                  const int64_t *out_dims, const float *want)
{
    th_t t;
    th_begin(&t, 13);
    int in[MAX_IN];
    const void *data[MAX_IN];
    for (int i = 0; i < n_in; i++) {
        char name[8];
        snprintf(name, sizeof name, "x%d", i);
        in[i] = th_input(&t, name, EAI_F32, ranks[i], dims[i]);
        int64_t n = 1;
        for (int k = 0; k < ranks[i]; k++)
            n *= dims[i][k];
        assert_true(n <= 64);
        fill(BUF[i], (int)n, i);
        data[i] = BUF[i];
    }
    int y = th_value(&t, "y");
    th_node(&t, "Einsum", in, n_in, (int[]){y}, 1);
    th_attr_string(&t, "equation", eq);
    th_output(&t, y);
    RUN_OK(&t, data);
    const eai_tensor_info_t *info = th_out_info(&t, 0);
    assert_int_equal(info->rank, out_rank);
    int64_t n = 1;
    for (int k = 0; k < out_rank; k++) {
        assert_int_equal(info->dims[k], out_dims[k]);
        n *= out_dims[k];
    }
    assert_near(th_out_f32(&t, 0), want, (int)n);
    th_end(&t);
}

static const float MM[] = {1.57500003, 2.51250003, -0.250000034, 0.687499941,
                           2.77500005, 4.27500005, -0.700000063, 0.799999915};

static void test_matmul(void **state)
{
    (void)state;
    check("ij,jk->ik", 2, (int[]){2, 2}, (const int64_t[][4]){{2, 3}, {3, 4}}, 2, (int64_t[]){2, 4},
          MM);
    /* implicit output: j appears twice, so "ik" */
    check("ij,jk", 2, (int[]){2, 2}, (const int64_t[][4]){{2, 3}, {3, 4}}, 2, (int64_t[]){2, 4},
          MM);
    /* output in (N, M) order: the sgemm route computes C^T = B^T A^T */
    static const float want_t[] = {1.57500003,   2.77500005,   2.51250003,  4.27500005,
                                   -0.250000034, -0.700000063, 0.687499941, 0.799999915};
    check("ij,jk->ki", 2, (int[]){2, 2}, (const int64_t[][4]){{2, 3}, {3, 4}}, 2, (int64_t[]){4, 2},
          want_t);
}

static void test_batched(void **state)
{
    (void)state;
    static const float want[] = {1.57500003,  2.51250003,   -0.250000034, 0.687499941,
                                 2.77500005,  4.27500005,   -0.700000063, 0.799999915,
                                 -3.46499993, -0.662500051, -1.37500006,  -2.08750006,
                                 -1.06499996, -0.474999962, -0.624999959, -0.774999957};
    check("bij,bjk->bik", 2, (int[]){3, 3}, (const int64_t[][4]){{2, 2, 3}, {2, 3, 4}}, 3,
          (int64_t[]){2, 2, 4}, want);
    /* b and i both only in A and the output: merged into one M of 4 */
    static const float want_m[] = {1.57500003,   2.51250003,   -0.250000034, 0.687499941,
                                   2.77500005,   4.27500005,   -0.700000063, 0.799999915,
                                   -1.94500012,  -2.65750013,  1.07000012,   0.357500077,
                                   -0.744999976, -0.894999973, 0.62000001,   0.469999981};
    check("bij,jk->bik", 2, (int[]){3, 2}, (const int64_t[][4]){{2, 2, 3}, {3, 4}}, 3,
          (int64_t[]){2, 2, 4}, want_m);
}

static void test_transposed(void **state)
{
    (void)state;
    /* attention scores: Q K^T per batch and head */
    static const float want[] = {1.34999995,  -1.47499998, 4.02499996,   9.52499974,  -1.62499994,
                                 11.4050001,  -2.21999994, -0.119999944, 1.97999984,  3.70999994,
                                 -2.21999994, 0.734999974, -0.56500001,  -1.86499991, -0.944999965,
                                 0.244999968, 2.94500003,  5.6449998,    -1.64500005, 1.05499996,
                                 0.144999978, 6.84499997,  13.5449993,   -4.54499996, 2.15499992,
                                 -1.06499998, -1.46499996, -1.86499975,  -0.785,      -1.18499997};
    check("bhid,bhjd->bhij", 2, (int[]){4, 4}, (const int64_t[][4]){{1, 2, 3, 4}, {1, 2, 5, 4}}, 4,
          (int64_t[]){1, 2, 3, 5}, want);
}

static void test_trace_diag_sum(void **state)
{
    (void)state;
    check("ii->", 1, (int[]){2}, (const int64_t[][4]){{3, 3}}, 0, NULL, (float[]){2.30000001f});
    check("ii", 1, (int[]){2}, (const int64_t[][4]){{3, 3}}, 0, NULL, (float[]){2.30000001f});
    check("ii->i", 1, (int[]){2}, (const int64_t[][4]){{3, 3}}, 1, (int64_t[]){3},
          (float[]){1, 2, -0.699999988f});
    check(" i j -> j ", 1, (int[]){2}, (const int64_t[][4]){{2, 3}}, 1, (int64_t[]){3},
          (float[]){2.75f, 3.25f, 3.75f});
}

static void test_outer(void **state)
{
    (void)state;
    static const float want[] = {2,   2.25,   -1.20000005, -0.949999988,
                                 2.5, 2.8125, -1.50000006, -1.18749999,
                                 3,   3.375,  -1.80000007, -1.42499998};
    check("i,j->ij", 2, (int[]){1, 1}, (const int64_t[][4]){{3}, {4}}, 2, (int64_t[]){3, 4}, want);
}

static void test_ellipsis_broadcast(void **state)
{
    (void)state;
    /* batch dims [2,1] and [3] broadcast to [2,3] */
    static const float want[] = {
        1.57500003,   2.51250003,   -0.250000034, 0.687499941,  2.77500005,   4.27500005,
        -0.700000063, 0.799999915,  3.57499988,   -0.112500027, 0.824999984,  1.76249997,
        5.97499981,   0.0749999508, 1.57499997,   3.07499995,   0.950000018,  1.88750002,
        2.82499987,   3.76249991,   1.77500004,   3.27500004,   4.7749998,    6.27499986,
        -1.94500012,  -2.65750013,  1.07000012,   0.357500077,  -0.744999976, -0.894999973,
        0.62000001,   0.469999981,  -3.46499993,  -0.662500051, -1.37500006,  -2.08750006,
        -1.06499996,  -0.474999962, -0.624999959, -0.774999957, -1.47000006,  -2.18250006,
        -2.89499996,  -3.60749998,  -0.645000015, -0.795000013, -0.944999986, -1.09499998};
    check("...ij,...jk->...ik", 2, (int[]){4, 3}, (const int64_t[][4]){{2, 1, 2, 3}, {3, 3, 4}}, 4,
          (int64_t[]){2, 3, 2, 4}, want);
}

static void test_three_operands(void **state)
{
    (void)state;
    check("ij,jk,kl->il", 3, (int[]){2, 2, 2}, (const int64_t[][4]){{2, 3}, {3, 4}, {4, 2}}, 2,
          (int64_t[]){2, 2}, (float[]){-1.13000007f, 0.00124989172f, -2.36750011f, -0.580000154f});
}

/* A larger attention-shaped product through the sgemm route (threads split the
 * batches), against a plain loop written here. */
static void test_gemm_route_vs_loop(void **state)
{
    (void)state;
    enum { B = 3, H = 4, I = 9, J = 7, D = 16 };
    static float q[B * H * I * D], k[B * H * J * D], want[B * H * I * J];
    fill(q, B * H * I * D, 0);
    fill(k, B * H * J * D, 1);
    for (int bh = 0; bh < B * H; bh++)
        for (int i = 0; i < I; i++)
            for (int j = 0; j < J; j++) {
                double s = 0;
                for (int d = 0; d < D; d++)
                    s += (double)q[(bh * I + i) * D + d] * k[(bh * J + j) * D + d];
                want[(bh * I + i) * J + j] = (float)s;
            }
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "q", EAI_F32, 4, (int64_t[]){B, H, I, D});
    int w = th_input(&t, "k", EAI_F32, 4, (int64_t[]){B, H, J, D});
    int y = th_value(&t, "y");
    th_node(&t, "Einsum", (int[]){x, w}, 2, (int[]){y}, 1);
    th_attr_string(&t, "equation", "B G I D, B G J D -> B G I J");
    th_output(&t, y);
    RUN_OK(&t, ((const void *[]){q, k}));
    assert_near(th_out_f32(&t, 0), want, B * H * I * J);
    th_end(&t);
}

static void test_int64(void **state)
{
    (void)state;
    /* np.einsum('ij,j->i', arange(6).reshape(2,3) - 2, [3, -1, 2]) = [-5, 7] */
    static const int64_t a[] = {-2, -1, 0, 1, 2, 3}, b[] = {3, -1, 2};
    th_t t;
    th_begin(&t, 12);
    int x = th_input(&t, "a", EAI_I64, 2, (int64_t[]){2, 3});
    int v = th_input(&t, "b", EAI_I64, 1, (int64_t[]){3});
    int y = th_value(&t, "y");
    th_node(&t, "Einsum", (int[]){x, v}, 2, (int[]){y}, 1);
    th_attr_string(&t, "equation", "ij,j->i");
    th_output(&t, y);
    RUN_OK(&t, ((const void *[]){a, b}));
    const int64_t *out = th_out_i64(&t, 0);
    assert_int_equal(out[0], -5);
    assert_int_equal(out[1], 7);
    th_end(&t);
}

static void assert_error(const char *eq, int n_in, const int *ranks, const int64_t dims[][4],
                         const char *needle)
{
    th_t t;
    th_begin(&t, 13);
    int in[MAX_IN];
    for (int i = 0; i < n_in; i++) {
        char name[8];
        snprintf(name, sizeof name, "x%d", i);
        in[i] = th_input(&t, name, EAI_F32, ranks[i], dims[i]);
    }
    int y = th_value(&t, "y");
    th_node(&t, "Einsum", in, n_in, (int[]){y}, 1);
    th_attr_string(&t, "equation", eq);
    th_output(&t, y);
    eai_status_t st = th_prepare(&t);
    if (st != EAI_E_INVALID || !strstr(eai_last_error(), needle))
        fail_msg("%s: got %s '%s', want E_INVALID containing '%s'", eq, eai_status_str(st),
                 eai_last_error(), needle);
    th_end(&t);
}

static void test_errors(void **state)
{
    (void)state;
    assert_error("ij,jk->ik", 2, (int[]){2, 2}, (const int64_t[][4]){{2, 3}, {4, 5}},
                 "label 'j' has size 3 in input 0 but 4 in input 1");
    assert_error("ijk->i", 1, (int[]){2}, (const int64_t[][4]){{2, 3}},
                 "term 0 has 3 labels but input 0 has rank 2");
    assert_error("ij,jk->ik", 1, (int[]){2}, (const int64_t[][4]){{2, 3}},
                 "has 2 input terms but the node has 1 inputs");
    assert_error("i#j->i", 1, (int[]){2}, (const int64_t[][4]){{2, 3}},
                 "character '#' is not a letter");
    assert_error("ij->ix", 1, (int[]){2}, (const int64_t[][4]){{2, 3}},
                 "output label 'x' is in no input");
    assert_error("ij->ii", 1, (int[]){2}, (const int64_t[][4]){{2, 3}},
                 "output label 'i' appears twice");
    assert_error("i..j->ij", 1, (int[]){2}, (const int64_t[][4]){{2, 3}}, "'.' outside '...'");
    assert_error("...i,...i->...i", 2, (int[]){2, 2}, (const int64_t[][4]){{2, 3}, {4, 3}},
                 "'...' dims do not broadcast");
    assert_error("...ij->ij", 1, (int[]){3}, (const int64_t[][4]){{5, 2, 3}},
                 "the output has no '...'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matmul),         cmocka_unit_test(test_batched),
        cmocka_unit_test(test_transposed),     cmocka_unit_test(test_trace_diag_sum),
        cmocka_unit_test(test_outer),          cmocka_unit_test(test_ellipsis_broadcast),
        cmocka_unit_test(test_three_operands), cmocka_unit_test(test_gemm_route_vs_loop),
        cmocka_unit_test(test_int64),          cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
