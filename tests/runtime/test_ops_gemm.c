/* Tests of the 'gemm' op family: eai__sgemm, MatMul and Gemm.
 *
 * Inputs of the fixed cases come from fill() (quarter-integers, so sums are
 * exact): A = fill(7, 3, 11), B = fill(5, 1, 7), C = fill(3, 2, 5); the *_want
 * arrays were computed by PyTorch 1.13 (float64) via /usr/bin/python3 with the
 * expression in the comment above each. eai__sgemm and the threaded MatMul
 * paths are checked against a naive triple loop (double accumulation) here.
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
#include "runtime/op_impl.h"

/* gemm_tt_want, shape [3, 5]: Gemm transA, transB, alpha 0.5, beta 2, C [N]: 0.5 * a.T @ b.T + 2 *
 * c */
static const float gemm_tt_want[15] = {-0.125,   -0.6875,  0.8125, -0.84375, 1.09375,
                                       0.09375,  -1.34375, 0.8125, -0.1875,  0.875,
                                       -0.03125, -0.96875, 0.8125, -0.5625,  1};
/* gemm_colc_want, shape [3, 5]: Gemm C [M,1], no transposes: a @ b + c */
static const float gemm_colc_want[15] = {0.25,    -0.75,   -0.4375, 1.625,   0.1875,
                                         -0.1875, 1.1875,  -0.9375, -1.3125, -0.375,
                                         -0.75,   -0.4375, 1.1875,  -0.25,   -0.375};
/* matmul_bcast_want, shape [2, 3, 3, 5]: MatMul broadcast batch: [2,1,3,4] x [3,4,5]: a @ b */
static const float matmul_bcast_want[90] = {
    0.25,   -0.75,   -0.4375, 1.625,   0.1875,  0.3125, 1.6875, -0.4375, -0.8125, 0.125,
    -1,     -0.6875, 0.9375,  -0.5,    -0.625,  -0.5,   0.25,   -0.75,   -0.4375, 1.625,
    -0.625, 0.3125,  1.6875,  -0.4375, -0.8125, 1.3125, -1,     -0.6875, 0.9375,  -0.5,
    -0.375, -0.5,    0.25,    -0.75,   -0.4375, -0.25,  -0.625, 0.3125,  1.6875,  -0.4375,
    0.5625, 1.3125,  -1,      -0.6875, 0.9375,  0.4375, 1.75,   -0.4375, -0.875,  0,
    -0.875, -0.625,  0.9375,  -0.5625, -0.75,   1.9375, -0.25,  -1.125,  -0.25,   1.9375,
    -0.875, 0.4375,  1.75,    -0.4375, -0.875,  1.0625, -0.875, -0.625,  0.9375,  -0.5625,
    -1.125, 1.9375,  -0.25,   -1.125,  -0.25,   0,      -0.875, 0.4375,  1.75,    -0.4375,
    0.8125, 1.0625,  -0.875,  -0.625,  0.9375,  -1.125, -1.125, 1.9375,  -0.25,   -1.125};
/* matmul_a1d_want, shape [2, 3]: 1-D A: [4] x [2,4,3]; 1-D B: [2,3,4] x [4]; 1-D x 1-D: a @ b */
static const float matmul_a1d_want[6] = {-0.25, -1.25, 1.25, 0.875, -0.125, -0.25};
/* matmul_b1d_want, shape [2, 3]: 1-D A: [4] x [2,4,3]; 1-D B: [2,3,4] x [4]; 1-D x 1-D: a @ b */
static const float matmul_b1d_want[6] = {1.4375, -0.9375, -0.5625, -0.875, -0.5, 0.5625};
/* matmul_dot_want, shape [1]: 1-D A: [4] x [2,4,3]; 1-D B: [2,3,4] x [4]; 1-D x 1-D: (a @
 * b).reshape(1) */
static const float matmul_dot_want[1] = {1.4375};

/* ---- Gemm ---- */

static void gemm_case(int opset, const int64_t *ad, const int64_t *bd, int c_rank,
                      const int64_t *cd, int ta, int tb, float alpha, float beta, const float *want,
                      int64_t m, int64_t n, float c_sign)
{
    th_t t;
    th_begin(&t, opset);
    float *a = th_fill(ad[0] * ad[1], 7, 3, 11), *b = th_fill(bd[0] * bd[1], 5, 1, 7);
    /* without C (c_rank -1) these are the [M, 1] C of gemm_colc_want */
    float *c = th_fill(c_rank >= 0 ? th_numel(cd, c_rank) : m, 3, 2, 5);
    int ai = th_input(&t, "a", EAI_F32, 2, ad);
    int bi = th_const(&t, "b", EAI_F32, 2, bd, b);
    int ci = c_rank >= 0 ? th_const(&t, "c", EAI_F32, c_rank, cd, c) : -1;
    int y = th_value(&t, "y");
    th_node(&t, "Gemm", (int[]){ai, bi, ci}, c_rank >= 0 ? 3 : 2, (int[]){y}, 1);
    th_attr_int(&t, "transA", ta);
    th_attr_int(&t, "transB", tb);
    th_attr_float(&t, "alpha", alpha);
    th_attr_float(&t, "beta", beta);
    th_output(&t, y);
    TH_RUN_OK(&t, ((const void *[]){a}));
    th_assert_dims(&t, 0, 2, (int64_t[]){m, n});
    float *w = malloc((size_t)(m * n) * sizeof(float));
    /* c_sign -1: the case without C checks want - C (C [M, 1]) */
    for (int64_t i = 0; i < m * n; i++)
        w[i] = want[i] + (c_sign < 0 ? -c[i / n] : 0.0f);
    th_assert_close(th_out_f32(&t, 0), w, m * n, 1e-6f, 1e-6f);
    th_end(&t);
    free(a);
    free(b);
    free(c);
    free(w);
}

static void test_gemm_transposes_vector_c(void **state)
{
    (void)state;
    gemm_case(13, (int64_t[]){4, 3}, (int64_t[]){5, 4}, 1, (int64_t[]){5}, 1, 1, 0.5f, 2.0f,
              gemm_tt_want, 3, 5, 1);
}

static void test_gemm_column_c(void **state)
{
    (void)state;
    gemm_case(11, (int64_t[]){3, 4}, (int64_t[]){4, 5}, 2, (int64_t[]){3, 1}, 0, 0, 1.0f, 1.0f,
              gemm_colc_want, 3, 5, 1);
}

static void test_gemm_no_c(void **state)
{
    (void)state;
    gemm_case(13, (int64_t[]){3, 4}, (int64_t[]){4, 5}, -1, NULL, 0, 0, 1.0f, 1.0f, gemm_colc_want,
              3, 5, -1);
}

static void test_gemm_errors(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    int a = th_input(&t, "a", EAI_F32, 2, (int64_t[]){3, 4});
    int b = th_input(&t, "b", EAI_F32, 2, (int64_t[]){4, 5});
    int c = th_input(&t, "c", EAI_F32, 2, (int64_t[]){2, 5});
    int y = th_value(&t, "y");
    th_node(&t, "Gemm", (int[]){a, b, c}, 3, (int[]){y}, 1);
    th_output(&t, y);
    th_assert_error(&t, EAI_E_FORMAT, "C's shape does not broadcast to [3,5] (dim 0 is 2)");
    th_end(&t);

    th_begin(&t, 13);
    a = th_input(&t, "a", EAI_F32, 2, (int64_t[]){3, 4});
    b = th_input(&t, "b", EAI_F32, 2, (int64_t[]){4, 5});
    y = th_value(&t, "y");
    th_node(&t, "Gemm", (int[]){a, b}, 2, (int[]){y}, 1);
    th_attr_int(&t, "transB", 1);
    th_output(&t, y);
    th_assert_error(&t, EAI_E_FORMAT, "inner dimensions differ");
    th_end(&t);
}

/* ---- MatMul ---- */

static void matmul_case(int ra, const int64_t *ad, int rb, const int64_t *bd, int ry,
                        const int64_t *yd, const float *want)
{
    th_t t;
    th_begin(&t, 13);
    float *a = th_fill(th_numel(ad, ra), 7, 3, 11), *b = th_fill(th_numel(bd, rb), 5, 1, 7);
    int ai = th_input(&t, "a", EAI_F32, ra, ad);
    int bi = th_input(&t, "b", EAI_F32, rb, bd);
    int y = th_value(&t, "y");
    th_node(&t, "MatMul", (int[]){ai, bi}, 2, (int[]){y}, 1);
    th_output(&t, y);
    TH_RUN_OK(&t, ((const void *[]){a, b}));
    th_assert_dims(&t, 0, ry, yd);
    th_assert_close(th_out_f32(&t, 0), want, th_numel(yd, ry), 1e-6f, 1e-6f);
    th_end(&t);
    free(a);
    free(b);
}

static void test_matmul_broadcast_batch(void **state)
{
    (void)state;
    matmul_case(4, (int64_t[]){2, 1, 3, 4}, 3, (int64_t[]){3, 4, 5}, 4, (int64_t[]){2, 3, 3, 5},
                matmul_bcast_want);
}

static void test_matmul_1d_operands(void **state)
{
    (void)state;
    matmul_case(1, (int64_t[]){4}, 3, (int64_t[]){2, 4, 3}, 2, (int64_t[]){2, 3}, matmul_a1d_want);
    matmul_case(3, (int64_t[]){2, 3, 4}, 1, (int64_t[]){4}, 2, (int64_t[]){2, 3}, matmul_b1d_want);
    matmul_case(1, (int64_t[]){4}, 1, (int64_t[]){4}, 0, NULL, matmul_dot_want);
}

static void naive_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                       const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                       float *c, int64_t ldc)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t p = 0; p < k; p++)
                s += (double)(ta ? a[p * lda + i] : a[i * lda + p]) *
                     (tb ? b[j * ldb + p] : b[p * ldb + j]);
            c[i * ldc + j] = (float)(alpha * s + (beta == 0.0f ? 0.0 : beta * c[i * ldc + j]));
        }
}

static void test_matmul_threads_vs_naive(void **state)
{
    (void)state;
    /* folded batch (B has none), broadcast batch, many small products */
    const int64_t shapes[][2][4] = {
        {{4, 64, 80, 0}, {80, 48, 0, 0}},
        {{3, 2, 33, 17}, {2, 17, 29, 0}},
        {{16, 5, 7, 0}, {16, 7, 9, 0}},
    };
    const int ranks[][2] = {{3, 2}, {4, 3}, {3, 3}};
    eai_threadpool_t *pool;
    assert_int_equal(eai_threadpool_create(2, &pool), EAI_OK);
    for (int s = 0; s < 3; s++) {
        const int ra = ranks[s][0], rb = ranks[s][1];
        const int64_t *ad = shapes[s][0], *bd = shapes[s][1];
        const int64_t m = ad[ra - 2], k = ad[ra - 1], n = bd[rb - 1];
        float *a = th_randv(th_numel(ad, ra), 11), *b = th_randv(th_numel(bd, rb), 12);
        /* reference: batch dims broadcast by hand (B's batch is the last
         * rb - 2 dims of A's) */
        const int64_t na = th_numel(ad, ra - 2), nbb = th_numel(bd, rb - 2);
        float *want = malloc((size_t)(na * m * n) * sizeof(float));
        for (int64_t i = 0; i < na; i++)
            naive_gemm(false, false, m, n, k, 1.0f, a + i * m * k, k, b + (i % nbb) * k * n, n,
                       0.0f, want + i * m * n, n);
        for (int p = 0; p < 2; p++) {
            th_t t;
            th_begin(&t, 13);
            int ai = th_input(&t, "a", EAI_F32, ra, ad);
            int bi = th_input(&t, "b", EAI_F32, rb, bd);
            int y = th_value(&t, "y");
            th_node(&t, "MatMul", (int[]){ai, bi}, 2, (int[]){y}, 1);
            th_output(&t, y);
            eai_status_t st = th_run_pool(&t, p ? pool : NULL, (const void *[]){a, b});
            if (st != EAI_OK) fail_msg("run: %s: %s", eai_status_str(st), eai_last_error());
            th_assert_close(th_out_f32(&t, 0), want, na * m * n, 1e-5f, 1e-5f);
            th_end(&t);
        }
        free(a);
        free(b);
        free(want);
    }
    eai_threadpool_destroy(pool);
}

static void test_matmul_errors(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    int a = th_input(&t, "a", EAI_F32, 3, (int64_t[]){2, 3, 4});
    int b = th_input(&t, "b", EAI_F32, 2, (int64_t[]){5, 6});
    int y = th_value(&t, "y");
    th_node(&t, "MatMul", (int[]){a, b}, 2, (int[]){y}, 1);
    th_output(&t, y);
    th_assert_error(&t, EAI_E_FORMAT, "inner dimensions differ: A has K=4 (last dim), B has K=5");
    th_end(&t);

    th_begin(&t, 13);
    a = th_input(&t, "a", EAI_F32, 3, (int64_t[]){2, 3, 4});
    b = th_input(&t, "b", EAI_F32, 3, (int64_t[]){3, 4, 6});
    y = th_value(&t, "y");
    th_node(&t, "MatMul", (int[]){a, b}, 2, (int[]){y}, 1);
    th_output(&t, y);
    th_assert_error(&t, EAI_E_INVALID, "cannot broadcast");
    th_end(&t);
}

/* ---- eai__sgemm against the naive loop ---- */

static void test_sgemm_vs_naive(void **state)
{
    (void)state;
    const int64_t sizes[] = {1, 7, 33, 130};
    const float ab[][2] = {{1.0f, 0.0f}, {0.5f, 1.0f}, {-1.5f, -0.25f}};
    eai_threadpool_t *pool;
    assert_int_equal(eai_threadpool_create(2, &pool), EAI_OK);
    int cnt = 0;
    for (int im = 0; im < 4; im++)
        for (int in = 0; in < 4; in++)
            for (int ik = 0; ik < 4; ik++)
                for (int tr = 0; tr < 4; tr++) {
                    const int64_t m = sizes[im], n = sizes[in], k = sizes[ik];
                    const bool ta = tr & 1, tb = tr & 2;
                    /* leading dims larger than the rows, to catch stride bugs */
                    const int64_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 2;
                    const float alpha = ab[cnt % 3][0], beta = ab[cnt % 3][1];
                    cnt++;
                    float *a = th_randv((ta ? k : m) * lda, (uint32_t)cnt);
                    float *b = th_randv((tb ? n : k) * ldb, (uint32_t)cnt + 100);
                    float *c0 = th_randv(m * ldc, (uint32_t)cnt + 200);
                    float *want = malloc((size_t)(m * ldc) * sizeof(float));
                    float *got = malloc((size_t)(m * ldc) * sizeof(float));
                    memcpy(want, c0, (size_t)(m * ldc) * sizeof(float));
                    naive_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc);
                    for (int p = 0; p < 2; p++) {
                        memcpy(got, c0, (size_t)(m * ldc) * sizeof(float));
                        eai__sgemm(p ? pool : NULL, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta,
                                   got, ldc);
                        /* padding columns of C (j >= n) must be untouched */
                        for (int64_t i = 0; i < m * ldc; i++) {
                            float tol = 1e-5f * (float)k;
                            if (!(fabsf(got[i] - want[i]) <= tol * (1.0f + fabsf(want[i]))))
                                fail_msg("M=%lld N=%lld K=%lld ta=%d tb=%d pool=%d: C[%lld] = %g, "
                                         "want %g",
                                         (long long)m, (long long)n, (long long)k, ta, tb, p,
                                         (long long)i, (double)got[i], (double)want[i]);
                        }
                    }
                    free(a);
                    free(b);
                    free(c0);
                    free(want);
                    free(got);
                }
    eai_threadpool_destroy(pool);
}

static void test_sgemm_beta0_ignores_nan(void **state)
{
    (void)state;
    /* BLAS convention: beta 0 overwrites C, so NaN garbage in C is not read */
    float a[2 * 3] = {1, 2, 3, 4, 5, 6}, b[3 * 2] = {1, 0, 0, 1, 1, 1};
    float c[4] = {NAN, NAN, NAN, NAN};
    eai__sgemm(NULL, false, false, 2, 2, 3, 1.0f, a, 3, b, 2, 0.0f, c, 2);
    /* by hand: [1 2 3; 4 5 6] * [1 0; 0 1; 1 1] */
    th_assert_close(c, (const float[]){4, 5, 10, 11}, 4, 0.0f, 0.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm_transposes_vector_c),
        cmocka_unit_test(test_gemm_column_c),
        cmocka_unit_test(test_gemm_no_c),
        cmocka_unit_test(test_gemm_errors),
        cmocka_unit_test(test_matmul_broadcast_batch),
        cmocka_unit_test(test_matmul_1d_operands),
        cmocka_unit_test(test_matmul_threads_vs_naive),
        cmocka_unit_test(test_matmul_errors),
        cmocka_unit_test(test_sgemm_vs_naive),
        cmocka_unit_test(test_sgemm_beta0_ignores_nan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
