/* Private to the quantized op family (quant*.c): quantization parameters
 * (scale, zero point) read from op inputs, the int8 dot-product kernel the
 * QLinear ops share, and the infer/eval entry points the family table in
 * quant.c lists.
 *
 * Scales and zero points are ordinary inputs in ONNX (the conformance cases
 * feed them at run time), so infer checks their dtypes and sizes and eval
 * reads their values on every invoke; deriving multipliers from them costs
 * one pass over the output channels.
 */
#ifndef EAI_REF_QUANT_IMPL_H
#define EAI_REF_QUANT_IMPL_H

#include "runtime/op_impl.h"
#include "runtime/ref/conv_impl.h"

/* Requires input `scale` to be float32 with 1 value, or (axis_len > 0) with
 * axis_len values, and input `zp` (optional, may be -1) to be of dtype `zdt`
 * with as many values. `what` names the tensor in messages. */
eai_status_t eai__q_check_params(const eai__opctx_t *c, int scale, int zp, eai_dtype_t zdt,
                                 int64_t axis_len, const char *what);
/* Requires input i to be int8 or uint8. */
eai_status_t eai__q_check_8bit(const eai__opctx_t *c, int i);

/* Value k of a scale input (the only value when it has one). */
static inline float eai__q_scale(const eai__tview_t *t, int64_t k)
{
    const float *s = t->data;
    return eai__shape_numel(&t->shape) == 1 ? s[0] : s[k];
}
/* Value k of a zero-point input (int8, uint8 or int32); 0 when absent. */
static inline int32_t eai__q_zp(const eai__tview_t *t, int64_t k)
{
    if (t->dtype == EAI_DTYPE_UNDEFINED || !t->data) return 0;
    if (eai__shape_numel(&t->shape) == 1) k = 0;
    switch (t->dtype) {
    case EAI_I8:
        return ((const int8_t *)t->data)[k];
    case EAI_U8:
        return ((const uint8_t *)t->data)[k];
    case EAI_I32:
        return ((const int32_t *)t->data)[k];
    default:
        return 0;
    }
}

/* Saturating conversion of a rounded value to the 8-bit type's range. */
static inline int32_t eai__q_clamp(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* x86 builds compile the hot loops once more for AVX2 and AVX-512BW and
 * pick one at load time (GCC ifunc); elsewhere the plain C is all there is. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define EAI_Q_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define EAI_Q_CLONES
#endif

/* Round to nearest even for |v| < 2^22 in the default rounding mode, in a
 * form every SIMD level vectorises (rintf needs SSE4.1 to). */
static inline float eai__q_round(float v)
{
    return (v + 12582912.0f) - 12582912.0f;
}

/* acc[i * ldc + j] = sum_k w[i * ldw + k] * x[j * ldx + k] for i < m, j < n:
 * int8 weights times uint8 activations, int32 sums. The dot products run
 * along k, which GCC vectorises (vpdpbusd with AVX512-VNNI, widening
 * multiplies elsewhere); x86 variants are picked per call. */
void eai__q_dot_u8s8(int64_t m, int64_t n, int64_t k, const int8_t *w, int64_t ldw,
                     const uint8_t *x, int64_t ldx, int32_t *acc, int64_t ldc);

/* Requantises one int32 accumulator row: y[j] = clamp(lrint((acc[j] + add)
 * * mult) + zp) for the output type (int8 when is_signed, else uint8). */
void eai__q_requant_row(const int32_t *acc, int64_t n, int32_t add, float mult, int32_t zp,
                        bool is_signed, void *y);

/* QLinearConv / ConvInteger params as infer parses them (also read by the
 * XNNPACK mapping, src/runtime/xnnpack/xnn_q8.c, for the geometry). */
typedef struct eai__qconv_params {
    eai__conv_geom_t g;   /* pads resolved (auto_pad applied) */
    int ix, iw, ixz, iwz; /* input indices of X, W and their zero points */
    bool integer;         /* ConvInteger: int32 output, no scales */
    bool depthwise;
    int64_t K, Kp;         /* taps per output (Cg * kernel volume), padded row length */
    size_t hdr, per_th;    /* scratch: header (row sums, multipliers), per-thread bytes */
    int64_t dw_hp, dw_wph; /* depthwise: padded rows, columns per stride phase */
} eai__qconv_params_t;
_Static_assert(sizeof(eai__qconv_params_t) <= EAI__PARAMS_BYTES, "qconv params");

eai_status_t eai__q_conv_infer(eai__opctx_t *c);
eai_status_t eai__q_conv_eval(eai__opctx_t *c);
eai_status_t eai__q_convint_infer(eai__opctx_t *c);
eai_status_t eai__q_convint_eval(eai__opctx_t *c);
eai_status_t eai__q_matmul_infer(eai__opctx_t *c);
eai_status_t eai__q_matmul_eval(eai__opctx_t *c);
eai_status_t eai__q_matmulint_infer(eai__opctx_t *c);
eai_status_t eai__q_matmulint_eval(eai__opctx_t *c);
eai_status_t eai__q_gemm_infer(eai__opctx_t *c);
eai_status_t eai__q_gemm_eval(eai__opctx_t *c);
eai_status_t eai__q_add_infer(eai__opctx_t *c);
eai_status_t eai__q_add_eval(eai__opctx_t *c);
eai_status_t eai__q_mul_eval(eai__opctx_t *c);
eai_status_t eai__q_gap_infer(eai__opctx_t *c);
eai_status_t eai__q_gap_eval(eai__opctx_t *c);
eai_status_t eai__q_concat_infer(eai__opctx_t *c);
eai_status_t eai__q_concat_eval(eai__opctx_t *c);
eai_status_t eai__q_lut_infer(eai__opctx_t *c);
eai_status_t eai__q_lut_eval(eai__opctx_t *c);

#endif
