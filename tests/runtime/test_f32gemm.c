/* edgeai's float GEMM (src/runtime/nhwc/f32gemm.c) against a plain loop in
 * double precision, on shapes that hit every edge: rows 1 to 12 per tile
 * and tiles of unequal height, panels of 1 to 32 columns (masked stores),
 * strides wider than the rows (lda > k, ldc > n, as Winograd's and a conv's
 * buffers have), clamps, no bias; tasks run in reverse order one at a time
 * (as threads may) give the same bits; nothing outside C changes. Skipped
 * where the CPU lacks AVX-512F (the backends then keep XNNPACK's GEMM). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/nhwc/f32gemm_impl.h"

static uint32_t rng = 12345;

static float rndf(void)
{
    rng = rng * 1664525u + 1013904223u;
    return (float)((rng >> 8) & 0xFFFF) / 32768.0f - 1.0f;
}

typedef struct gcase {
    int m, k, n, lda_pad, ldc_pad;
    bool bias;
    float lo, hi;
} gcase_t;

#define SENTINEL 1234.5f

static void check(const gcase_t *q)
{
    const size_t lda = (size_t)(q->k + q->lda_pad), ldc = (size_t)(q->n + q->ldc_pad);
    float *a = malloc((size_t)q->m * lda * sizeof(float));
    float *w = malloc((size_t)(q->n * q->k) * sizeof(float));
    float *bias = malloc((size_t)q->n * sizeof(float));
    float *c = malloc((size_t)q->m * ldc * sizeof(float));
    float *c2 = malloc((size_t)q->m * ldc * sizeof(float));
    float *bp = aligned_alloc(64, eai__sgemm_pack_bytes(q->k, q->n));
    assert_non_null(a), assert_non_null(w), assert_non_null(bias);
    assert_non_null(c), assert_non_null(c2), assert_non_null(bp);
    for (size_t i = 0; i < (size_t)q->m * lda; i++)
        a[i] = rndf();
    for (int i = 0; i < q->n * q->k; i++)
        w[i] = rndf();
    for (int i = 0; i < q->n; i++)
        bias[i] = rndf();
    for (size_t i = 0; i < (size_t)q->m * ldc; i++)
        c[i] = c2[i] = SENTINEL;
    eai__sgemm_pack(w, q->bias ? bias : NULL, q->k, q->n, bp);
    eai__sgemm_t g, g2;
    eai__sgemm_init(&g, q->m, q->k, q->n, a, lda, c, ldc, bp, q->lo, q->hi);
    eai__sgemm_init(&g2, q->m, q->k, q->n, a, lda, c2, ldc, bp, q->lo, q->hi);
    const int64_t nt = eai__sgemm_n_tasks(&g);
    eai__sgemm_run(&g, 0, nt);
    for (int64_t t = nt - 1; t >= 0; t--)
        eai__sgemm_run(&g2, t, t + 1);
    for (int i = 0; i < q->m; i++) {
        for (size_t j = 0; j < ldc; j++) {
            const float got = c[(size_t)i * ldc + j];
            if (j >= (size_t)q->n) { /* past the row: untouched */
                assert_true(got == SENTINEL);
                continue;
            }
            double want = q->bias ? bias[j] : 0.0, mag = fabs(want);
            for (int kk = 0; kk < q->k; kk++) {
                const double p = (double)a[(size_t)i * lda + kk] * w[j * (size_t)q->k + kk];
                want += p;
                mag += fabs(p);
            }
            want = want < q->lo ? q->lo : want > q->hi ? q->hi : want;
            if (fabs(got - want) > 1e-5 * (mag + 1.0)) {
                fail_msg("m %d k %d n %d: c[%d][%zu] = %g, want %g", q->m, q->k, q->n, i, j,
                         (double)got, want);
            }
            assert_true(memcmp(&got, &c2[(size_t)i * ldc + j], sizeof got) == 0);
        }
    }
    free(a), free(w), free(bias), free(c), free(c2), free(bp);
}

static void test_shapes(void **state)
{
    (void)state;
    if (!eai__sgemm_available()) skip();
    static const gcase_t cases[] = {
        {1, 1, 1, 0, 0, true, -INFINITY, INFINITY},
        {12, 8, 32, 0, 0, true, -INFINITY, INFINITY},   /* one full tile */
        {13, 17, 33, 3, 5, false, -INFINITY, INFINITY}, /* 7 + 6 rows, 32 + 1 columns */
        {49, 96, 24, 0, 0, true, -INFINITY, INFINITY},  /* 10, 10, 10, 10, 9; one 24-wide panel */
        {70, 100, 70, 4, 2, true, 0.0f, 6.0f},          /* Relu6 clamp */
        {25, 3, 48, 0, 0, true, -0.25f, 0.25f},         /* k below a vector */
        {11, 40, 16, 1, 0, false, -INFINITY, INFINITY}, /* exactly one half panel */
        {144, 33, 65, 0, 7, true, -INFINITY, INFINITY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check(&cases[i]);
    /* every row count a tile can have, against every panel width */
    for (int m = 1; m <= 25; m++)
        for (int n = 1; n <= 40; n += 3) {
            const gcase_t q = {m, 5 + m % 7, n, m % 3, n % 2, m % 2 == 0, -INFINITY, INFINITY};
            check(&q);
        }
}

static void test_empty(void **state)
{
    (void)state;
    eai__sgemm_t g;
    float bp[64] = {0};
    eai__sgemm_init(&g, 0, 4, 4, NULL, 4, NULL, 4, bp, -INFINITY, INFINITY);
    assert_int_equal(eai__sgemm_n_tasks(&g), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
