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

/* An indirect product: row r's tap t reads kc floats at ind[t * m + r],
 * each a random row of a source buffer or a shared zero row (padding). */
static void check_indirect(int m, int taps, int kc, int n, float lo, float hi)
{
    const int src_rows = 7, k = taps * kc;
    float *src = malloc((size_t)(src_rows * kc) * sizeof(float));
    float *zero = calloc((size_t)kc, sizeof(float));
    const float **ind = malloc((size_t)(taps * m) * sizeof(float *));
    float *w = malloc((size_t)(n * k) * sizeof(float));
    float *c = malloc((size_t)(m * (n + 1)) * sizeof(float));
    float *c2 = malloc((size_t)(m * (n + 1)) * sizeof(float));
    float *bp = aligned_alloc(64, eai__sgemm_pack_bytes(k, n));
    assert_non_null(src), assert_non_null(zero), assert_non_null(ind), assert_non_null(w);
    assert_non_null(c), assert_non_null(c2), assert_non_null(bp);
    for (int i = 0; i < src_rows * kc; i++)
        src[i] = rndf();
    for (int i = 0; i < taps * m; i++) {
        rng = rng * 1664525u + 1013904223u;
        const int r = (int)((rng >> 8) % (src_rows + 1));
        ind[i] = r == src_rows ? zero : src + r * kc;
    }
    for (int i = 0; i < n * k; i++)
        w[i] = rndf();
    const size_t ldc = (size_t)n + 1;
    for (size_t i = 0; i < (size_t)m * ldc; i++)
        c[i] = c2[i] = SENTINEL;
    eai__sgemm_pack(w, NULL, k, n, bp);
    eai__sgemm_t g, g2;
    eai__sgemm_init_indirect(&g, m, n, taps, kc, ind, c, ldc, bp, lo, hi);
    eai__sgemm_init_indirect(&g2, m, n, taps, kc, ind, c2, ldc, bp, lo, hi);
    const int64_t nt = eai__sgemm_n_tasks(&g);
    eai__sgemm_run(&g, 0, nt);
    for (int64_t t = nt - 1; t >= 0; t--)
        eai__sgemm_run(&g2, t, t + 1);
    for (int i = 0; i < m; i++) {
        assert_true(c[(size_t)i * ldc + (size_t)n] == SENTINEL);
        for (int j = 0; j < n; j++) {
            double want = 0.0, mag = 0.0;
            for (int t = 0; t < taps; t++)
                for (int kk = 0; kk < kc; kk++) {
                    const double p = (double)ind[t * m + i][kk] * w[(size_t)j * k + t * kc + kk];
                    want += p;
                    mag += fabs(p);
                }
            want = want < lo ? lo : want > hi ? hi : want;
            const float got = c[(size_t)i * ldc + j];
            if (fabs(got - want) > 1e-5 * (mag + 1.0))
                fail_msg("indirect m %d taps %d kc %d n %d: c[%d][%d] = %g, want %g", m, taps, kc,
                         n, i, j, (double)got, want);
            assert_true(memcmp(&got, &c2[(size_t)i * ldc + j], sizeof got) == 0);
        }
    }
    free(src), free(zero), free(ind), free(w), free(c), free(c2), free(bp);
}

static void test_indirect(void **state)
{
    (void)state;
    if (!eai__sgemm_available()) skip();
    /* every row count a tile of at most EAI__SG_IMR rows can have */
    for (int m = 1; m <= 2 * EAI__SG_IMR + 3; m++)
        check_indirect(m, 1 + m % 9, 1 + m % 5, 8 + 3 * m, -INFINITY, INFINITY);
    check_indirect(49, 9, 64, 40, 0.0f, 6.0f); /* resnet's 7x7 maps, clamped */
    check_indirect(30, 49, 3, 64, -INFINITY, INFINITY);
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
        cmocka_unit_test(test_indirect),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
