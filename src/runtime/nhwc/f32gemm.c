/* edgeai's float GEMM with a 12 x 32 AVX-512 register tile (see
 * f32gemm_impl.h for why). Layout of the packed weights: n_panels panels of
 * [k][32] floats (columns past n are zeros), then the bias, n_panels * 32
 * floats. */
#include "runtime/nhwc/f32gemm_impl.h"

#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SG_X86 1
#include <immintrin.h>

#include "runtime/nhwc/f32act_impl.h"
#endif

size_t eai__sgemm_pack_bytes(int64_t k, int64_t n)
{
    const size_t panels = (size_t)((n + EAI__SG_NR - 1) / EAI__SG_NR);
    const size_t bytes = panels * EAI__SG_NR * (size_t)(k + 1) * sizeof(float);
    return (bytes + 63) & ~(size_t)63;
}

void eai__sgemm_pack(const float *w, const float *bias, int64_t k, int64_t n, float *dst)
{
    const int64_t panels = (n + EAI__SG_NR - 1) / EAI__SG_NR;
    memset(dst, 0, eai__sgemm_pack_bytes(k, n));
    for (int64_t p = 0; p < panels; p++) {
        float *d = dst + p * EAI__SG_NR * k;
        const int64_t j0 = p * EAI__SG_NR;
        const int64_t nj = n - j0 < EAI__SG_NR ? n - j0 : EAI__SG_NR;
        for (int64_t kk = 0; kk < k; kk++)
            for (int64_t j = 0; j < nj; j++)
                d[kk * EAI__SG_NR + j] = w[(j0 + j) * k + kk];
    }
    if (bias) memcpy(dst + panels * EAI__SG_NR * k, bias, (size_t)n * sizeof(float));
}

/* Row tiles: as few as 12-row tiles need, of near-equal height (49 pixels:
 * 10, 10, 10, 10, 9 rather than 12, 12, 12, 12, 1, whose last tile would
 * cost a whole pass over the panel for one row). */
static void row_tiles(eai__sgemm_t *g, int64_t m, int64_t max_mr)
{
    g->row_tiles = m > 0 ? (m + max_mr - 1) / max_mr : 0;
    if (g->row_tiles) {
        g->mr = (m + g->row_tiles - 1) / g->row_tiles;
        /* tiles of mr rows first, then of mr - 1: long * mr + (t - long) * (mr - 1) = m */
        g->long_tiles = m - g->row_tiles * (g->mr - 1);
    }
}

void eai__sgemm_init(eai__sgemm_t *g, int64_t m, int64_t k, int64_t n, const float *a, size_t lda,
                     float *c, size_t ldc, const float *bp, float lo, float hi)
{
    memset(g, 0, sizeof *g);
    g->m = m, g->k = k, g->n = n;
    g->a = a, g->lda = lda, g->c = c, g->ldc = ldc, g->bp = bp;
    g->lo = lo, g->hi = hi;
    g->n_panels = (n + EAI__SG_NR - 1) / EAI__SG_NR;
    row_tiles(g, m, EAI__SG_MR);
}

void eai__sgemm_init_indirect(eai__sgemm_t *g, int64_t m, int64_t n, int64_t taps, int64_t kc,
                              const float *const *ind, float *c, size_t ldc, const float *bp,
                              float lo, float hi)
{
    eai__sgemm_init(g, m, taps * kc, n, NULL, 0, c, ldc, bp, lo, hi);
    g->ind = ind, g->taps = taps, g->kc = kc;
    row_tiles(g, m, EAI__SG_IMR);
}

int64_t eai__sgemm_n_tasks(const eai__sgemm_t *g)
{
    return g->row_tiles * g->n_panels;
}

#if defined(SG_X86)

bool eai__sgemm_available(void)
{
    return __builtin_cpu_supports("avx512f");
}

#define SG_TARGET __attribute__((target("avx512f")))
#define SG_INLINE __attribute__((always_inline)) inline
/* full unrolling is what keeps acc0/acc1 in registers */
#define SG_UNROLL _Pragma("GCC unroll 12")

/* Both tiles' first and last steps: every row's accumulators start at the
 * bias; rows are stored clamped (and HardSwished) under the panel's masks.
 * Inlined with constant mr and nv, so the arrays stay in registers. */
SG_TARGET static SG_INLINE void tile_start(const int mr, const int nv, const float *bias,
                                           __m512 *acc0, __m512 *acc1)
{
    const __m512 bi0 = _mm512_loadu_ps(bias);
    const __m512 bi1 = nv > 1 ? _mm512_loadu_ps(bias + 16) : _mm512_setzero_ps();
    SG_UNROLL
    for (int i = 0; i < mr; i++) {
        acc0[i] = bi0;
        acc1[i] = bi1;
    }
}

SG_TARGET static SG_INLINE void tile_store(const int mr, const int nv, const __m512 *acc0,
                                           const __m512 *acc1, float *c, size_t ldc, __mmask16 m0,
                                           __mmask16 m1, float lo, float hi, bool hs)
{
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    SG_UNROLL
    for (int i = 0; i < mr; i++) {
        float *ci = c + (size_t)i * ldc;
        _mm512_mask_storeu_ps(ci, m0, eai__f32_finish(acc0[i], vlo, vhi, hs));
        if (nv > 1) _mm512_mask_storeu_ps(ci + 16, m1, eai__f32_finish(acc1[i], vlo, vhi, hs));
    }
}

/* One register tile: rows [0, mr) of A against one panel, nv halves (of 16
 * columns) live, stored under masks m0 / m1. mr and nv are constants in
 * every caller, so the loops unroll and the accumulators stay in registers.
 * Rows are addressed as base + (0, 1, 2) * lda from four bases, which keeps
 * 12 rows within 6 general registers. */
SG_TARGET static SG_INLINE void tile(const int mr, const int nv, int64_t k, const float *restrict a,
                                     size_t lda, const float *restrict b,
                                     const float *restrict bias, float *restrict c, size_t ldc,
                                     __mmask16 m0, __mmask16 m1, float lo, float hi, bool hs)
{
    __m512 acc0[EAI__SG_MR], acc1[EAI__SG_MR];
    tile_start(mr, nv, bias, acc0, acc1);
    const float *p0 = a, *p3 = a + 3 * lda, *p6 = a + 6 * lda, *p9 = a + 9 * lda;
    const size_t l1 = lda, l2 = 2 * lda;
    for (int64_t kk = 0; kk < k; kk++) {
        const __m512 b0 = _mm512_loadu_ps(b);
        const __m512 b1 = nv > 1 ? _mm512_loadu_ps(b + 16) : b0;
        b += EAI__SG_NR;
        SG_UNROLL
        for (int i = 0; i < mr; i++) {
            const float *base = i < 3 ? p0 : i < 6 ? p3 : i < 9 ? p6 : p9;
            const size_t off = i % 3 == 0 ? 0 : i % 3 == 1 ? l1 : l2;
            const __m512 av = _mm512_set1_ps(base[off]);
            acc0[i] = _mm512_fmadd_ps(av, b0, acc0[i]);
            if (nv > 1) acc1[i] = _mm512_fmadd_ps(av, b1, acc1[i]);
        }
        p0++, p3++, p6++, p9++;
    }
    tile_store(mr, nv, acc0, acc1, c, ldc, m0, m1, lo, hi, hs);
}

#define SG_CASE(MR)                                                                                \
    case MR:                                                                                       \
        if (nv > 1)                                                                                \
            tile(MR, 2, k, a, lda, b, bias, c, ldc, m0, m1, lo, hi, hs);                           \
        else                                                                                       \
            tile(MR, 1, k, a, lda, b, bias, c, ldc, m0, m1, lo, hi, hs);                           \
        break;

SG_TARGET static void tile_any(int mr, int nv, int64_t k, const float *a, size_t lda,
                               const float *b, const float *bias, float *c, size_t ldc,
                               __mmask16 m0, __mmask16 m1, float lo, float hi, bool hs)
{
    switch (mr) {
        SG_CASE(1)
        SG_CASE(2)
        SG_CASE(3)
        SG_CASE(4)
        SG_CASE(5)
        SG_CASE(6)
        SG_CASE(7)
        SG_CASE(8)
        SG_CASE(9)
        SG_CASE(10)
        SG_CASE(11)
        SG_CASE(12)
    default:
        break;
    }
}

/* The indirect tile: as `tile`, but row i's values for tap t come from
 * ind[t * istride + i] (each row its own pointer, reloaded per tap). */
SG_TARGET static SG_INLINE void itile(const int mr, const int nv, int64_t taps, int64_t kc,
                                      const float *const *restrict ind, size_t istride,
                                      const float *restrict b, const float *restrict bias,
                                      float *restrict c, size_t ldc, __mmask16 m0, __mmask16 m1,
                                      float lo, float hi, bool hs)
{
    __m512 acc0[EAI__SG_IMR], acc1[EAI__SG_IMR];
    tile_start(mr, nv, bias, acc0, acc1);
    for (int64_t t = 0; t < taps; t++, ind += istride) {
        const float *p[EAI__SG_IMR];
        SG_UNROLL
        for (int i = 0; i < mr; i++)
            p[i] = ind[i];
        for (int64_t kk = 0; kk < kc; kk++) {
            const __m512 b0 = _mm512_loadu_ps(b);
            const __m512 b1 = nv > 1 ? _mm512_loadu_ps(b + 16) : b0;
            b += EAI__SG_NR;
            SG_UNROLL
            for (int i = 0; i < mr; i++) {
                const __m512 av = _mm512_set1_ps(p[i][kk]);
                acc0[i] = _mm512_fmadd_ps(av, b0, acc0[i]);
                if (nv > 1) acc1[i] = _mm512_fmadd_ps(av, b1, acc1[i]);
            }
        }
    }
    tile_store(mr, nv, acc0, acc1, c, ldc, m0, m1, lo, hi, hs);
}

#define SG_ICASE(MR)                                                                               \
    case MR:                                                                                       \
        if (nv > 1)                                                                                \
            itile(MR, 2, taps, kc, ind, istride, b, bias, c, ldc, m0, m1, lo, hi, hs);             \
        else                                                                                       \
            itile(MR, 1, taps, kc, ind, istride, b, bias, c, ldc, m0, m1, lo, hi, hs);             \
        break;

_Static_assert(EAI__SG_IMR == 8, "itile_any has a case per row count");

SG_TARGET static void itile_any(int mr, int nv, int64_t taps, int64_t kc, const float *const *ind,
                                size_t istride, const float *b, const float *bias, float *c,
                                size_t ldc, __mmask16 m0, __mmask16 m1, float lo, float hi, bool hs)
{
    switch (mr) {
        SG_ICASE(1)
        SG_ICASE(2)
        SG_ICASE(3)
        SG_ICASE(4)
        SG_ICASE(5)
        SG_ICASE(6)
        SG_ICASE(7)
        SG_ICASE(8)
    default:
        break;
    }
}

void eai__sgemm_run(const eai__sgemm_t *g, int64_t begin, int64_t end)
{
    const int64_t kp = g->k * EAI__SG_NR;
    const float *bias0 = g->bp + g->n_panels * kp;
    for (int64_t t = begin; t < end; t++) {
        /* panels outer: one panel's weights stay in L2 while its row tiles
         * pass (the input of a pointwise conv is read once per panel) */
        const int64_t p = t / g->row_tiles, r = t % g->row_tiles;
        const int64_t row0 = r < g->long_tiles
                                 ? r * g->mr
                                 : g->long_tiles * g->mr + (r - g->long_tiles) * (g->mr - 1);
        const int mr = (int)(r < g->long_tiles ? g->mr : g->mr - 1);
        const int64_t j0 = p * EAI__SG_NR;
        const int64_t w = g->n - j0 < EAI__SG_NR ? g->n - j0 : EAI__SG_NR;
        const int nv = w > 16 ? 2 : 1;
        const __mmask16 m0 = w >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << w) - 1);
        const __mmask16 m1 = w >= 32  ? (__mmask16)0xFFFF
                             : w > 16 ? (__mmask16)((1u << (w - 16)) - 1)
                                      : 0;
        if (g->ind)
            itile_any(mr, nv, g->taps, g->kc, g->ind + row0, (size_t)g->m, g->bp + p * kp,
                      bias0 + j0, g->c + (size_t)row0 * g->ldc + j0, g->ldc, m0, m1, g->lo, g->hi,
                      g->hswish);
        else
            tile_any(mr, nv, g->k, g->a + (size_t)row0 * g->lda, g->lda, g->bp + p * kp, bias0 + j0,
                     g->c + (size_t)row0 * g->ldc + j0, g->ldc, m0, m1, g->lo, g->hi, g->hswish);
    }
}

#else

bool eai__sgemm_available(void)
{
    return false;
}

void eai__sgemm_run(const eai__sgemm_t *g, int64_t begin, int64_t end)
{
    (void)g, (void)begin, (void)end; /* never called: eai__sgemm_available() is false */
}

#endif
