/* Direct (no im2col) Conv forward and weight-gradient kernels for plain
 * windows (stride 1, dilation 1, no padding, one group) in AVX2+FMA, used
 * by ops_conv.c when the CPU runs them.
 *
 * Why: for the small convolutions of edge CNNs (the NIID-Bench CNN: 5x5
 * kernels over 1 and 6 channels) im2col writes a column matrix 25-150 times
 * the input that the GEMM then packs again; both copies cost more than the
 * multiply-adds. Here output rows are computed in 8-float vectors straight
 * from the input, for blocks of up to 6 output channels and 2 rows (2 taps
 * for dW), so that 12 accumulators stay in registers and the FMAs, not the
 * loads, set the pace (the tap's offsets in a sample are precomputed:
 * offs[r] for tap r = (ci, ki, kj)). Row tails use masked loads and stores
 * (no reads past the row's valid part, so none past the tensor).
 *
 * dW keeps one 8-lane partial sum per weight (acc, m*k*8 floats) across the
 * samples and reduces the lanes pairwise at the end: a fixed order, so the
 * result depends only on the samples given, not on timing. Other CPUs and
 * compilers: available() is false and ops_conv.c uses im2col + GEMM.
 */
#include <string.h>

#include "train/ops_impl.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

bool eai__conv_direct_available(void)
{
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

#define ATTR __attribute__((target("avx2,fma")))
/* The per-channel loops must unroll so that the accumulators live in
 * registers (an array indexed in a loop stays in memory). */
#if defined(__clang__)
#define UNROLL _Pragma("unroll")
#else
#define UNROLL _Pragma("GCC unroll 8")
#endif

/* Lane mask for the first n (1..8) lanes. */
ATTR static inline __m256i lanes(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* Output tile: RR rows (oh, oh+1, ...) x 8 columns (n valid) x MB channels:
 * y[j] = bias[j] + sum_r w[j*k + r] * x[offs[r]]. Each tap costs RR input
 * loads and MB weight broadcasts for RR*MB FMAs (RR 2, MB 6: 12 of the 16
 * registers accumulate and the FMAs, not the loads, set the pace). */
#define FWD_BODY(MB, RR, LOAD, STORE)                                                              \
    for (int64_t r = 0; r < k; r++) {                                                              \
        __m256 xv[RR];                                                                             \
        UNROLL for (int i = 0; i < RR; i++) xv[i] = LOAD(x + offs[r] + i * iw);                    \
        UNROLL for (int j = 0; j < MB; j++)                                                        \
        {                                                                                          \
            __m256 wv = _mm256_broadcast_ss(w + j * k + r);                                        \
            UNROLL for (int i = 0; i < RR; i++) acc[i][j] = _mm256_fmadd_ps(wv, xv[i], acc[i][j]); \
        }                                                                                          \
    }                                                                                              \
    UNROLL for (int i = 0; i < RR; i++) UNROLL for (int j = 0; j < MB; j++)                        \
        STORE(y + j * ohw + i * ow, acc[i][j]);

#define LOADU(p)     _mm256_loadu_ps(p)
#define STOREU(p, v) _mm256_storeu_ps(p, v)
#define LOADM(p)     _mm256_maskload_ps(p, mask)
#define STOREM(p, v) _mm256_maskstore_ps(p, mask, v)

#define DEFINE_FWD(MB, RR)                                                                         \
    ATTR static void fwd_##MB##_##RR(const float *x, int64_t iw, const float *w, int64_t k,        \
                                     const int32_t *offs, const float *bias, float *y, int64_t ow, \
                                     int64_t ohw, int n)                                           \
    {                                                                                              \
        __m256 acc[RR][MB];                                                                        \
        UNROLL for (int i = 0; i < RR; i++) UNROLL for (int j = 0; j < MB; j++) acc[i][j] =        \
            _mm256_set1_ps(bias ? bias[j] : 0.0f);                                                 \
        if (n == 8) {                                                                              \
            FWD_BODY(MB, RR, LOADU, STOREU)                                                        \
        } else {                                                                                   \
            __m256i mask = lanes(n);                                                               \
            FWD_BODY(MB, RR, LOADM, STOREM)                                                        \
        }                                                                                          \
    }

/* dW lane partials of MB channels and RB taps [r0, r0+RB), over ns samples
 * (x_stride and dy_stride floats apart): acc[(j*k + r)*8 + lane] +=
 * dy[j] * x[offs[r]] over every output row. Per row piece: MB dY loads and
 * RB input loads for MB*RB FMAs; the partials stay in registers across the
 * samples (a call per sample spent as long on acc and the call as on the
 * FMAs for an 8x8 output). */
#define DW_BODY(MB, RB, LOAD)                                                                      \
    {                                                                                              \
        __m256 xv[RB];                                                                             \
        UNROLL for (int t = 0; t < RB; t++) xv[t] = LOAD(xr + offs[r0 + t] + ow);                  \
        UNROLL for (int j = 0; j < MB; j++)                                                        \
        {                                                                                          \
            __m256 dv = LOAD(dr + j * ohw + ow);                                                   \
            UNROLL for (int t = 0; t < RB; t++) a[t][j] = _mm256_fmadd_ps(dv, xv[t], a[t][j]);     \
        }                                                                                          \
    }

#define DEFINE_DW(MB, RB)                                                                          \
    ATTR static void dw_##MB##_##RB(const eai__twin_t *g, const float *x, int64_t x_stride,        \
                                    const float *dy, int64_t dy_stride, int ns, int64_t k,         \
                                    const int32_t *offs, int64_t r0, int64_t ohw, float *acc)      \
    {                                                                                              \
        int tail = g->ow % 8;                                                                      \
        __m256i mask = lanes(tail ? tail : 8);                                                     \
        __m256 a[RB][MB];                                                                          \
        UNROLL for (int t = 0; t < RB; t++) UNROLL for (int j = 0; j < MB; j++) a[t][j] =          \
            _mm256_setzero_ps();                                                                   \
        for (int i = 0; i < ns; i++)                                                               \
            for (int oh = 0; oh < g->oh; oh++) {                                                   \
                const float *xr = x + i * x_stride + (int64_t)oh * g->iw;                          \
                const float *dr = dy + i * dy_stride + (int64_t)oh * g->ow;                        \
                int ow = 0;                                                                        \
                for (; ow + 8 <= g->ow; ow += 8)                                                   \
                    DW_BODY(MB, RB, LOADU)                                                         \
                if (tail) DW_BODY(MB, RB, LOADM)                                                   \
            }                                                                                      \
        UNROLL for (int t = 0; t < RB; t++) UNROLL for (int j = 0; j < MB; j++)                    \
        {                                                                                          \
            float *p = acc + (j * k + r0 + t) * 8;                                                 \
            _mm256_storeu_ps(p, _mm256_add_ps(_mm256_loadu_ps(p), a[t][j]));                       \
        }                                                                                          \
    }

#define MB_MAX         6
#define DW_SAMPLES     8
#define DEFINE_ALL(MB) DEFINE_FWD(MB, 1) DEFINE_FWD(MB, 2) DEFINE_DW(MB, 1) DEFINE_DW(MB, 2)
DEFINE_ALL(1)
DEFINE_ALL(2)
DEFINE_ALL(3)
DEFINE_ALL(4)
DEFINE_ALL(5)
DEFINE_ALL(6)

typedef void (*fwd_fn)(const float *, int64_t, const float *, int64_t, const int32_t *,
                       const float *, float *, int64_t, int64_t, int);
typedef void (*dw_fn)(const eai__twin_t *, const float *, int64_t, const float *, int64_t, int,
                      int64_t, const int32_t *, int64_t, int64_t, float *);
/* [rows or taps - 1][channels] */
static const fwd_fn FWD[2][MB_MAX + 1] = {
    {NULL, fwd_1_1, fwd_2_1, fwd_3_1, fwd_4_1, fwd_5_1, fwd_6_1},
    {NULL, fwd_1_2, fwd_2_2, fwd_3_2, fwd_4_2, fwd_5_2, fwd_6_2}};
static const dw_fn DW[2][MB_MAX + 1] = {{NULL, dw_1_1, dw_2_1, dw_3_1, dw_4_1, dw_5_1, dw_6_1},
                                        {NULL, dw_1_2, dw_2_2, dw_3_2, dw_4_2, dw_5_2, dw_6_2}};

void eai__conv_direct_fwd(const eai__twin_t *g, int m, int64_t k, const int32_t *offs,
                          int64_t x_stride, const float *x, const float *w, const float *bias,
                          float *y, int64_t n0, int64_t n1)
{
    int64_t ohw = (int64_t)g->oh * g->ow;
    for (int64_t i = n0; i < n1; i++) {
        const float *xs = x + i * x_stride;
        float *ys = y + i * m * ohw;
        for (int m0 = 0; m0 < m; m0 += MB_MAX) {
            int mb = m - m0 < MB_MAX ? m - m0 : MB_MAX;
            const float *wb = w + (int64_t)m0 * k, *bb = bias ? bias + m0 : NULL;
            for (int oh = 0; oh < g->oh; oh += 2) {
                int rr = g->oh - oh < 2 ? 1 : 2;
                for (int ow = 0; ow < g->ow; ow += 8)
                    FWD[rr - 1][mb](xs + (int64_t)oh * g->iw + ow, g->iw, wb, k, offs, bb,
                                    ys + m0 * ohw + (int64_t)oh * g->ow + ow, g->ow, ohw,
                                    g->ow - ow < 8 ? g->ow - ow : 8);
            }
        }
    }
}

void eai__conv_direct_dw(const eai__twin_t *g, int m, int64_t k, const int32_t *offs,
                         int64_t x_stride, const float *x, const float *dy, float *acc, float *dw,
                         int64_t n0, int64_t n1)
{
    int64_t ohw = (int64_t)g->oh * g->ow;
    memset(acc, 0, (size_t)(m * k * 8) * sizeof(float));
    /* DW_SAMPLES samples at a time: their x and dY stay in L2 across the taps */
    for (int64_t i = n0; i < n1; i += DW_SAMPLES) {
        int ns = (int)(n1 - i < DW_SAMPLES ? n1 - i : DW_SAMPLES);
        for (int m0 = 0; m0 < m; m0 += MB_MAX) {
            int mb = m - m0 < MB_MAX ? m - m0 : MB_MAX;
            for (int64_t r = 0; r < k; r += 2)
                DW[k - r < 2 ? 0 : 1][mb](g, x + i * x_stride, x_stride, dy + (i * m + m0) * ohw,
                                          m * ohw, ns, k, offs, r, ohw, acc + m0 * k * 8);
        }
    }
    for (int64_t q = 0; q < m * k; q++) {
        const float *l = acc + q * 8;
        dw[q] += ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7]));
    }
}

#else

bool eai__conv_direct_available(void)
{
    return false;
}

void eai__conv_direct_fwd(const eai__twin_t *g, int m, int64_t k, const int32_t *offs,
                          int64_t x_stride, const float *x, const float *w, const float *bias,
                          float *y, int64_t n0, int64_t n1)
{
}

void eai__conv_direct_dw(const eai__twin_t *g, int m, int64_t k, const int32_t *offs,
                         int64_t x_stride, const float *x, const float *dy, float *acc, float *dw,
                         int64_t n0, int64_t n1)
{
}

#endif
