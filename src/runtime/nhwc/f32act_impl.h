/* Private: the output step edgeai's float kernels (f32gemm.c, f32dw.c)
 * share: the clamp of a fused Relu / Clip, then a fused HardSwish, in
 * registers as the tile is stored (a separate pass over the output would
 * cost a pool hand-off and a trip through memory per node). AVX-512F,
 * x86-64 only, like the kernels. */
#ifndef EAI_F32ACT_IMPL_H
#define EAI_F32ACT_IMPL_H

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#include <stdbool.h>

/* clamp(v, lo, hi), then v * clamp(v / 6 + 1/2, 0, 1) when hs (ONNX's
 * HardSwish). */
__attribute__((target("avx512f"), always_inline)) static inline __m512
eai__f32_finish(__m512 v, __m512 lo, __m512 hi, bool hs)
{
    v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
    if (!hs) return v;
    const __m512 t = _mm512_fmadd_ps(v, _mm512_set1_ps(1.0f / 6.0f), _mm512_set1_ps(0.5f));
    return _mm512_mul_ps(
        v, _mm512_min_ps(_mm512_max_ps(t, _mm512_setzero_ps()), _mm512_set1_ps(1.0f)));
}
#endif

#endif
