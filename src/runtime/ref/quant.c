/* Op family 'quant' (ref backend): the ONNX quantization ops and the
 * com.microsoft / com.edgeai QLinear ops that the INT8 graph form uses
 * (docs/quantization.md). This file: QuantizeLinear and DequantizeLinear
 * (opset 10 per-tensor, opset 13 per-axis), DynamicQuantizeLinear, the
 * parameter checks every QLinear op shares, and the family table.
 *
 * Rounding is to nearest, ties to even (ONNX QuantizeLinear), done with
 * eai__q_round after clamping, which vectorises.
 */
#include "runtime/ref/quant_impl.h"

/* ---- shared checks ---- */

eai_status_t eai__q_check_8bit(const eai__opctx_t *c, int i)
{
    static const eai_dtype_t ok[] = {EAI_I8, EAI_U8, 0};
    return eai__op_dtype(c, i, ok);
}

eai_status_t eai__q_check_params(const eai__opctx_t *c, int scale, int zp, eai_dtype_t zdt,
                                 int64_t axis_len, const char *what)
{
    if (!eai__has_in(c, scale))
        return eai__op_fail(c, EAI_E_FORMAT, "%s's scale (input %d) is required", what, scale);
    const eai__tview_t *s = &c->in[scale];
    if (s->dtype != EAI_F32)
        return eai__op_fail(c, EAI_E_UNSUPPORTED, "%s's scale is %s, expected float32", what,
                            eai_dtype_name(s->dtype));
    const int64_t n = eai__shape_numel(&s->shape);
    if (s->shape.rank > 1 || (n != 1 && (axis_len <= 0 || n != axis_len)))
        return eai__op_fail(
            c, EAI_E_FORMAT, "%s's scale has rank %d and %lld values; expected a scalar%s", what,
            s->shape.rank, (long long)n, axis_len > 0 ? " or one value per channel" : "");
    if (zp < 0 || !eai__has_in(c, zp)) return EAI_OK;
    const eai__tview_t *z = &c->in[zp];
    if (z->dtype != zdt)
        return eai__op_fail(c, EAI_E_FORMAT, "%s's zero point is %s, expected %s", what,
                            eai_dtype_name(z->dtype), eai_dtype_name(zdt));
    if (z->shape.rank > 1 || eai__shape_numel(&z->shape) != n)
        return eai__op_fail(c, EAI_E_FORMAT,
                            "%s's zero point has %lld values but its scale has %lld", what,
                            (long long)eai__shape_numel(&z->shape), (long long)n);
    return EAI_OK;
}

/* ---- QuantizeLinear / DequantizeLinear ---- */

typedef struct qdq_params {
    int64_t outer, ch, inner; /* per-axis split of the element count (ch 1: per tensor) */
    eai_dtype_t out;
} qdq_params_t;
_Static_assert(sizeof(qdq_params_t) <= EAI__PARAMS_BYTES, "qdq params");

/* Splits x's shape around the quantization axis when the scale has more than
 * one value (opset 13 `axis`, default 1; opset 10 is per tensor only). */
static eai_status_t qdq_axis(eai__opctx_t *c, qdq_params_t *p)
{
    const eai__shape_t *x = &c->in[0].shape;
    const int64_t ns = eai__shape_numel(&c->in[1].shape);
    p->outer = eai__shape_numel(x);
    p->ch = p->inner = 1;
    int64_t axis_len = 0;
    if (ns != 1 || c->in[1].shape.rank == 1) {
        if (c->opset < 13 && ns != 1)
            return eai__op_fail(c, EAI_E_FORMAT,
                                "per-axis scales need opset 13 (the model has opset %d)", c->opset);
        if (ns != 1) {
            int64_t a;
            int axis;
            EAI_TRY(eai__op_int(c, "axis", 1, &a));
            EAI_TRY(eai__op_axis(c, a, x->rank, &axis));
            axis_len = x->d[axis];
            p->outer = p->inner = 1;
            for (int i = 0; i < axis; i++)
                p->outer *= x->d[i];
            for (int i = axis + 1; i < x->rank; i++)
                p->inner *= x->d[i];
            p->ch = axis_len;
        }
    }
    return eai__q_check_params(c, 1, -1, EAI_DTYPE_UNDEFINED, axis_len, "x");
}

static eai_status_t quantize_infer(eai__opctx_t *c)
{
    static const eai_dtype_t in_types[] = {EAI_F32, EAI_I32, 0};
    EAI_TRY(eai__op_dtype(c, 0, in_types));
    qdq_params_t *p = c->params;
    EAI_TRY(qdq_axis(c, p));
    p->out = eai__has_in(c, 2) ? c->in[2].dtype : EAI_U8;
    if (p->out != EAI_U8 && p->out != EAI_I8)
        return eai__op_fail(c, EAI_E_UNSUPPORTED, "y_zero_point is %s; int8 and uint8 supported",
                            eai_dtype_name(p->out));
    EAI_TRY(eai__q_check_params(c, 1, 2, p->out, p->ch > 1 ? p->ch : 0, "y"));
    c->out[0].dtype = p->out;
    c->out[0].shape = c->in[0].shape;
    return EAI_OK;
}

/* The common case (float to int8, the INT8 graph's input), vectorised. */
EAI_Q_CLONES static void quantize_f32_s8(const float *x, int64_t n, float s, float lo, float hi,
                                         int32_t zp, int8_t *y)
{
    for (int64_t k = 0; k < n; k++) {
        float v = x[k] / s;
        v = v < lo ? lo : v > hi ? hi : v;
        y[k] = (int8_t)((int32_t)eai__q_round(v) + zp);
    }
}

static eai_status_t quantize_eval(eai__opctx_t *c)
{
    const qdq_params_t *p = c->params;
    const bool s8 = p->out == EAI_I8;
    const int32_t lo = s8 ? -128 : 0, hi = s8 ? 127 : 255;
    const float *xf = c->in[0].dtype == EAI_F32 ? c->in[0].data : NULL;
    const int32_t *xi = c->in[0].data;
    int64_t i = 0;
    for (int64_t o = 0; o < p->outer; o++)
        for (int64_t ch = 0; ch < p->ch; ch++) {
            const float s = eai__q_scale(&c->in[1], ch);
            const int32_t zp = eai__has_in(c, 2) ? eai__q_zp(&c->in[2], ch) : 0;
            if (!(s > 0.0f) && !(s < 0.0f))
                return eai__op_fail(c, EAI_E_INVALID, "y_scale is %g; it must be non-zero", s);
            /* x / s as the spec writes it (not x * (1/s)), so ties land
             * where the reference puts them; clamped before rounding, which
             * changes nothing as the bounds are integers */
            const float flo = (float)(lo - zp), fhi = (float)(hi - zp);
            if (xf && s8)
                quantize_f32_s8(xf + i, p->inner, s, flo, fhi, zp, (int8_t *)c->out[0].data + i);
            else
                for (int64_t k = 0; k < p->inner; k++) {
                    float v = (xf ? xf[i + k] : (float)xi[i + k]) / s;
                    v = v < flo ? flo : v > fhi ? fhi : v;
                    const int32_t r = (int32_t)eai__q_round(v) + zp;
                    if (s8)
                        ((int8_t *)c->out[0].data)[i + k] = (int8_t)r;
                    else
                        ((uint8_t *)c->out[0].data)[i + k] = (uint8_t)r;
                }
            i += p->inner;
        }
    return EAI_OK;
}

static eai_status_t dequantize_infer(eai__opctx_t *c)
{
    static const eai_dtype_t in_types[] = {EAI_I8, EAI_U8, EAI_I32, 0};
    EAI_TRY(eai__op_dtype(c, 0, in_types));
    qdq_params_t *p = c->params;
    EAI_TRY(qdq_axis(c, p));
    EAI_TRY(eai__q_check_params(c, 1, 2, c->in[0].dtype, p->ch > 1 ? p->ch : 0, "x"));
    c->out[0].dtype = EAI_F32;
    c->out[0].shape = c->in[0].shape;
    return EAI_OK;
}

static eai_status_t dequantize_eval(eai__opctx_t *c)
{
    const qdq_params_t *p = c->params;
    const eai_dtype_t dt = c->in[0].dtype;
    float *y = c->out[0].data;
    int64_t i = 0;
    for (int64_t o = 0; o < p->outer; o++)
        for (int64_t ch = 0; ch < p->ch; ch++, i += p->inner) {
            const float s = eai__q_scale(&c->in[1], ch);
            const int32_t zp = eai__has_in(c, 2) ? eai__q_zp(&c->in[2], ch) : 0;
            if (dt == EAI_I8) {
                const int8_t *x = (const int8_t *)c->in[0].data + i;
                for (int64_t k = 0; k < p->inner; k++)
                    y[i + k] = (float)((int32_t)x[k] - zp) * s;
            } else if (dt == EAI_U8) {
                const uint8_t *x = (const uint8_t *)c->in[0].data + i;
                for (int64_t k = 0; k < p->inner; k++)
                    y[i + k] = (float)((int32_t)x[k] - zp) * s;
            } else {
                const int32_t *x = (const int32_t *)c->in[0].data + i;
                for (int64_t k = 0; k < p->inner; k++)
                    y[i + k] = (float)((int64_t)x[k] - zp) * s;
            }
        }
    return EAI_OK;
}

/* ---- DynamicQuantizeLinear (opset 11): uint8, range always includes 0 ---- */

static eai_status_t dynq_infer(eai__opctx_t *c)
{
    EAI_TRY(eai__op_f32(c, 0));
    c->out[0].dtype = EAI_U8;
    c->out[0].shape = c->in[0].shape;
    for (int i = 1; i < 3; i++)
        if (eai__has_out(c, i)) c->out[i].shape.rank = 0;
    c->out[1].dtype = EAI_F32;
    c->out[2].dtype = EAI_U8;
    return EAI_OK;
}

static eai_status_t dynq_eval(eai__opctx_t *c)
{
    const float *x = c->in[0].data;
    const int64_t n = eai__shape_numel(&c->in[0].shape);
    float lo = 0.0f, hi = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    const float s = (hi - lo) / 255.0f;
    /* zero point = saturate(round(-min / scale)); an all-zero input has
     * scale 0 and every value quantises to 0 */
    const int32_t zp = s > 0.0f ? eai__q_clamp((int32_t)rintf(-lo / s), 0, 255) : 0;
    uint8_t *y = c->out[0].data;
    for (int64_t i = 0; i < n; i++)
        y[i] = s > 0.0f ? (uint8_t)eai__q_clamp((int32_t)rintf(x[i] / s) + zp, 0, 255) : 0;
    if (eai__has_out(c, 1)) *(float *)c->out[1].data = s;
    if (eai__has_out(c, 2)) *(uint8_t *)c->out[2].data = (uint8_t)zp;
    return EAI_OK;
}

/* Default-domain ops and the com.microsoft / com.edgeai ones in one table:
 * their names do not collide (eai__op_find accepts those domains). */
const eai__op_def_t eai__ref_ops_quant[] = {
    {"QuantizeLinear", 0, 2, 3, 1, 1, quantize_infer, quantize_eval},
    {"DequantizeLinear", 0, 2, 3, 1, 1, dequantize_infer, dequantize_eval},
    {"DynamicQuantizeLinear", 0, 1, 1, 1, 3, dynq_infer, dynq_eval},
    {"QLinearConv", 0, 8, 9, 1, 1, eai__q_conv_infer, eai__q_conv_eval},
    {"ConvInteger", 0, 2, 4, 1, 1, eai__q_convint_infer, eai__q_convint_eval},
    {"QLinearMatMul", 0, 8, 8, 1, 1, eai__q_matmul_infer, eai__q_matmul_eval},
    {"MatMulInteger", 0, 2, 4, 1, 1, eai__q_matmulint_infer, eai__q_matmulint_eval},
    /* com.microsoft (ONNX Runtime contrib ops, as its quantizer emits them) */
    {"QGemm", 0, 6, 9, 1, 1, eai__q_gemm_infer, eai__q_gemm_eval},
    {"QLinearAdd", 0, 7, 8, 1, 1, eai__q_add_infer, eai__q_add_eval},
    {"QLinearMul", 0, 7, 8, 1, 1, eai__q_add_infer, eai__q_mul_eval},
    {"QLinearGlobalAveragePool", 0, 5, 5, 1, 1, eai__q_gap_infer, eai__q_gap_eval},
    {"QLinearConcat", 0, 5, -1, 1, 1, eai__q_concat_infer, eai__q_concat_eval},
    /* com.edgeai: any 8-bit -> 8-bit elementwise function as a 256-entry table */
    {"QLinearLut", 0, 2, 2, 1, 1, eai__q_lut_infer, eai__q_lut_eval},
    {0},
};
