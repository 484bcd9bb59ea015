/* Private helpers of the elementwise op families (unary, binary, reduce,
 * softmax, norm): a vectorisable expf, and a parallel_for over element
 * blocks that stays on the caller's thread for small tensors.
 * Kernels are plain loops over contiguous data written so the compiler
 * auto-vectorises them (no intrinsics: the same code serves x86 and NEON).
 */
#ifndef EAI_ELEMENTWISE_IMPL_H
#define EAI_ELEMENTWISE_IMPL_H

#include "runtime/op_impl.h"

/* GCC 12 at -O2 uses the "very cheap" vectoriser cost model, which skips any
 * loop of unknown trip count, i.e. every kernel here; the dynamic model is what
 * -O3 uses. no-trapping-math lets it turn `x < 0 ? a : b` into a vector select
 * (edgeai never reads FP exception flags). clang does both at -O2 already.
 * Build flags for src/runtime/ref could replace this (adding -fno-math-errno,
 * which only works on the command line and would let sqrtf vectorise). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic", "no-trapping-math")
#endif

/* Elements per parallel_for item, and the size below which threads cost more
 * than they save (a memory-bound loop does ~1-4 elements/ns per core). */
#define EW_BLOCK   4096
#define EW_PAR_MIN 65536

static inline float ew_bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
static inline uint32_t ew_f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* expf to ~2 ulp (Cephes polynomial after Cody-Waite range reduction),
 * branch-free so loops calling it vectorise. Rounding uses the 1.5*2^23 trick
 * instead of rintf, which needs SSE4.1 to vectorise. Inputs below -87.33
 * give 0 (no denormals), above 88.72 give +inf; NaN propagates. */
static inline float ew_expf(float x)
{
    const float hi = 88.3762626647949f, lo = -87.3365447504019f;
    float xc = x > hi ? hi : x;
    xc = xc < lo ? lo : xc;
    const float magic = 12582912.0f; /* 1.5 * 2^23 */
    float t = xc * 1.44269504088896341f + magic;
    float n = t - magic;
    int32_t ni = (int32_t)(ew_f32_bits(t) - ew_f32_bits(magic));
    float r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    float y = p * ew_bits_f32((uint32_t)(ni + 127) << 23);
    y = x > 88.7228391f ? INFINITY : y;
    return x < lo ? 0.0f : y;
}

/* tanhf to ~2 ulp, branch-free (Cephes tanhf: odd polynomial for
 * |x| < 0.625, 1 - 2/(e^2|x| + 1) above, where there is no cancellation). */
static inline float ew_tanhf(float x)
{
    float ax = x < 0 ? -x : x;
    float e = ew_expf(2.0f * ax);
    float big = 1.0f - 2.0f / (e + 1.0f);
    big = x < 0 ? -big : big;
    float z = x * x;
    float s = -5.70498872745e-3f;
    s = s * z + 2.06390887954e-2f;
    s = s * z - 5.37397155531e-2f;
    s = s * z + 1.33314422036e-1f;
    s = s * z - 3.33332819422e-1f;
    float small = s * z * x + x;
    return ax < 0.625f ? small : big;
}

/* Runs fn over [0, n) elements: inline below EW_PAR_MIN, else in EW_BLOCK
 * blocks across the pool. */
typedef struct ew_par {
    eai__range_fn fn;
    void *ctx;
    int64_t n;
} ew_par_t;

static inline void ew_par_blocks(void *ctx, int64_t b0, int64_t b1)
{
    const ew_par_t *p = ctx;
    int64_t e1 = b1 * EW_BLOCK;
    p->fn(p->ctx, b0 * EW_BLOCK, e1 < p->n ? e1 : p->n);
}

static inline void ew_parallel(eai_threadpool_t *pool, int64_t n, eai__range_fn fn, void *ctx)
{
    if (n <= 0) return;
    if (!pool || n < EW_PAR_MIN) {
        fn(ctx, 0, n);
        return;
    }
    ew_par_t p = {fn, ctx, n};
    eai__parallel_for(pool, (n + EW_BLOCK - 1) / EW_BLOCK, ew_par_blocks, &p);
}

/* Same for work items that each cost about `cost` elements of work (rows,
 * channels): inline when the whole job is small. */
static inline void ew_parallel_items(eai_threadpool_t *pool, int64_t n_items, int64_t cost,
                                     eai__range_fn fn, void *ctx)
{
    if (n_items <= 0) return;
    if (!pool || n_items * (cost > 0 ? cost : 1) < EW_PAR_MIN) {
        fn(ctx, 0, n_items);
        return;
    }
    eai__parallel_for(pool, n_items, fn, ctx);
}

/* sum of exp(x[i] - m) over a row, in 8 lanes (the max-shifted second pass
 * of softmax and LogSumExp); reads x only, so callers may run in place */
static inline float ew_sum_exp(const float *x, int64_t n, float m)
{
    float acc[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            acc[j] += ew_expf(x[i + j] - m);
    for (; i < n; i++)
        acc[0] += ew_expf(x[i] - m);
    float s = 0;
    for (int j = 0; j < 8; j++)
        s += acc[j];
    return s;
}

#endif
