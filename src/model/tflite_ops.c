/* TFLite importer: one mapping per builtin operator, into ONNX ops with
 * opset-13 semantics. Options tables follow schema.fbs field order (cited at
 * each reader). Convolutions and pools take NCHW and tag their outputs
 * [0,3,1,2]; SAME padding becomes explicit, possibly asymmetric pads computed
 * from the static shapes (TF puts the odd pixel after); fused activations
 * become a following Relu/Clip/Tanh, which the graph passes fuse back.
 * Quantized tensors are dequantized on input and quantized on output (ONNX
 * QDQ form); reshape and transpose keep the stored type when input and
 * output share their quantization.
 */
#include <math.h>

#include "model/tflite_impl.h"

/* BuiltinOptions union type ids (position in schema.fbs' union, 1-based). */
enum {
    OPT_CONV = 1,
    OPT_DW = 2,
    OPT_POOL = 5,
    OPT_FC = 8,
    OPT_SOFTMAX = 9,
    OPT_CONCAT = 10,
    OPT_ADD = 11,
    OPT_RESHAPE = 17,
    OPT_MUL = 21,
    OPT_PAD = 22,
    OPT_TRANSPOSE = 26,
    OPT_REDUCER = 27,
    OPT_SUB = 28,
    OPT_DIV = 29,
    OPT_DEQUANTIZE = 38,
    OPT_MAXMIN = 39,
    OPT_PADV2 = 43,
    OPT_LEAKY_RELU = 75,
    OPT_QUANTIZE = 89,
    OPT_HARD_SWISH = 91,
};

/* ---- options ---- */

static int32_t opt_i32(tfl_t *s, int idx, int32_t def, eai_status_t *st)
{
    int32_t v = def;
    if (*st == EAI_OK && s->has_opt && !eai__tfl_fb_scalar(&s->fb, &s->opt, idx, 4, &def, &v))
        *st = eai__tfl_op_fail(s, EAI_E_FORMAT, "options: %s", s->fb.why);
    return v;
}

static int opt_u8(tfl_t *s, int idx, uint8_t def, eai_status_t *st)
{
    uint8_t v = def;
    if (*st == EAI_OK && s->has_opt && !eai__tfl_fb_scalar(&s->fb, &s->opt, idx, 1, &def, &v))
        *st = eai__tfl_op_fail(s, EAI_E_FORMAT, "options: %s", s->fb.why);
    return v;
}

static float opt_f32(tfl_t *s, int idx, float def, eai_status_t *st)
{
    float v = def;
    if (*st == EAI_OK && s->has_opt && !eai__tfl_fb_scalar(&s->fb, &s->opt, idx, 4, &def, &v))
        *st = eai__tfl_op_fail(s, EAI_E_FORMAT, "options: %s", s->fb.why);
    return v;
}

/* ---- shared pieces ---- */

static const tfl_lay_t *cur_lay(const tfl_t *s, int ti)
{
    return s->t[ti].v >= 0 ? &s->t[ti].lay : NULL;
}

static tfl_tensor_t *in_t(tfl_t *s, int k)
{
    return &s->t[s->in[k]];
}

static tfl_tensor_t *out_t(tfl_t *s, int k)
{
    return &s->t[s->out[k]];
}

static bool same_quant(const tfl_tensor_t *a, const tfl_tensor_t *b)
{
    if (a->dt != b->dt || a->q.n != b->q.n) return false;
    for (int i = 0; i < a->q.n; i++)
        if (a->q.scale[i] != b->q.scale[i] || a->q.zp[i] != b->q.zp[i]) return false;
    return true;
}

static eai_status_t need_rank(tfl_t *s, const tfl_tensor_t *t, const char *what, int rank)
{
    if (t->shape.rank != rank)
        return eai__tfl_op_fail(s, EAI_E_FORMAT, "%s '%s' has rank %d, expected %d", what, t->name,
                                t->shape.rank, rank);
    return EAI_OK;
}

/* TFLite ActivationFunctionType applied to x. */
static eai_status_t fused(tfl_t *s, int act, int x, bool last, const tfl_lay_t *lay, int *out)
{
    int in[3] = {x, -1, -1};
    switch (act) {
    case 0:
        *out = x;
        return EAI_OK;
    case 1:
        return eai__tfl_step(s, "Relu", in, 1, last, lay, out);
    case 2: /* RELU_N1_TO_1 */
    case 3: /* RELU6 */
        EAI_TRY(eai__tfl_f32_scalar(s, act == 2 ? -1.0f : 0.0f, &in[1]));
        EAI_TRY(eai__tfl_f32_scalar(s, act == 2 ? 1.0f : 6.0f, &in[2]));
        return eai__tfl_step(s, "Clip", in, 3, last, lay, out);
    case 4: /* TANH */
    case 5: /* SIGN_BIT */
        /* TFLite's conv, pool, FC and elementwise kernels only clamp
         * (CalculateActivationRange) and silently skip these: neither
         * reading would be sure to match, so refuse. */
        return eai__tfl_op_fail(s, EAI_E_UNSUPPORTED,
                                "fused activation %s is not supported (TFLite ignores it here)",
                                act == 4 ? "TANH" : "SIGN_BIT");
    default:
        return eai__tfl_op_fail(s, EAI_E_FORMAT, "fused activation %d is unknown", act);
    }
}

/* TF padding along one dim: SAME pads so out = ceil(in / stride), the odd
 * pixel after; VALID pads nothing, out = ceil((in - span + 1) / stride). */
static eai_status_t spatial(tfl_t *s, int padding, int64_t in, int64_t k, int64_t stride,
                            int64_t dil, int64_t *before, int64_t *after, int64_t *out)
{
    if (stride < 1 || dil < 1 || k < 1 || in < 1 || k > (1 << 20) || dil > (1 << 20) ||
        stride > (1 << 20))
        return eai__tfl_op_fail(s, EAI_E_FORMAT,
                                "bad window: size %lld, kernel %lld, stride %lld, dilation %lld",
                                (long long)in, (long long)k, (long long)stride, (long long)dil);
    int64_t span = (k - 1) * dil + 1;
    if (padding == 0) {
        *out = (in + stride - 1) / stride;
        int64_t total = (*out - 1) * stride + span - in;
        if (total < 0) total = 0;
        *before = total / 2;
        *after = total - *before;
    } else if (padding == 1) {
        if (span > in)
            return eai__tfl_op_fail(s, EAI_E_FORMAT, "VALID window of %lld is larger than %lld",
                                    (long long)span, (long long)in);
        *out = (in - span + stride) / stride;
        *before = *after = 0;
    } else {
        return eai__tfl_op_fail(s, EAI_E_FORMAT, "padding %d is neither SAME nor VALID", padding);
    }
    return EAI_OK;
}

/* Pads, strides, dilations and kernel of a 2-D window op on NHWC input x
 * whose NHWC output must have spatial size as declared. */
typedef struct win {
    int64_t pads[4], strides[2], dil[2], kernel[2];
} win_t;

static eai_status_t window(tfl_t *s, int padding, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                           int64_t dh, int64_t dw, win_t *w)
{
    const tfl_tensor_t *x = in_t(s, 0), *y = out_t(s, 0);
    int64_t oh, ow;
    EAI_TRY(need_rank(s, x, "input", 4));
    EAI_TRY(need_rank(s, y, "output", 4));
    EAI_TRY(spatial(s, padding, x->shape.d[1], kh, sh, dh, &w->pads[0], &w->pads[2], &oh));
    EAI_TRY(spatial(s, padding, x->shape.d[2], kw, sw, dw, &w->pads[1], &w->pads[3], &ow));
    if (y->shape.d[1] != oh || y->shape.d[2] != ow || y->shape.d[0] != x->shape.d[0])
        return eai__tfl_op_fail(
            s, EAI_E_FORMAT, "output '%s' is %lldx%lld, the window gives %lldx%lld", y->name,
            (long long)y->shape.d[1], (long long)y->shape.d[2], (long long)oh, (long long)ow);
    *w = (win_t){.pads = {w->pads[0], w->pads[1], w->pads[2], w->pads[3]},
                 .strides = {sh, sw},
                 .dil = {dh, dw},
                 .kernel = {kh, kw}};
    return EAI_OK;
}

/* ---- convolutions, pools, fully connected ---- */

static eai_status_t map_conv(tfl_t *s, const char *onnx)
{
    (void)onnx;
    bool dw = s->code == 4;
    eai_status_t st = EAI_OK;
    /* Conv2DOptions{padding, stride_w, stride_h, fused_activation_function,
     * dilation_w_factor = 1, dilation_h_factor = 1}; DepthwiseConv2DOptions
     * has depth_multiplier after stride_h. */
    int padding = opt_u8(s, 0, 0, &st);
    int64_t sw = opt_i32(s, 1, 0, &st), sh = opt_i32(s, 2, 0, &st);
    int act = opt_u8(s, dw ? 4 : 3, 0, &st);
    int64_t dil_w = opt_i32(s, dw ? 5 : 4, 1, &st), dil_h = opt_i32(s, dw ? 6 : 5, 1, &st);
    EAI_TRY(st);
    tfl_tensor_t *x = NULL, *w = NULL;
    EAI_TRY(eai__tfl_in_tensor(s, 0, &x));
    EAI_TRY(eai__tfl_in_tensor(s, 1, &w));
    EAI_TRY(need_rank(s, x, "input", 4));
    EAI_TRY(need_rank(s, w, "filter", 4));
    int64_t c = x->shape.d[3], o, group;
    const tfl_tensor_t *y = out_t(s, 0);
    EAI_TRY(need_rank(s, y, "output", 4));
    if (dw) { /* filter [1, kh, kw, c * multiplier] */
        o = w->shape.d[3];
        if (w->shape.d[0] != 1 || c < 1 || o % c != 0)
            return eai__tfl_op_fail(s, EAI_E_FORMAT,
                                    "depthwise filter [%lld,%lld,%lld,%lld] does not fit %lld "
                                    "input channels",
                                    (long long)w->shape.d[0], (long long)w->shape.d[1],
                                    (long long)w->shape.d[2], (long long)o, (long long)c);
        group = c;
    } else { /* filter [o, kh, kw, c / groups] */
        o = w->shape.d[0];
        int64_t ci = w->shape.d[3];
        if (ci < 1 || c < ci || c % ci != 0 || o % (c / ci) != 0)
            return eai__tfl_op_fail(s, EAI_E_FORMAT,
                                    "filter with %lld input channels does not fit %lld (or %lld "
                                    "outputs do not split into the groups)",
                                    (long long)ci, (long long)c, (long long)o);
        group = c / ci;
    }
    if (y->shape.d[3] != o)
        return eai__tfl_op_fail(s, EAI_E_FORMAT, "output has %lld channels, the filter %lld",
                                (long long)y->shape.d[3], (long long)o);
    win_t win;
    EAI_TRY(window(s, padding, w->shape.d[1], w->shape.d[2], sh, sw, dil_h, dil_w, &win));
    /* OHWI -> OIHW is the NCHW tag itself; depthwise [1,kh,kw,cm] -> [cm,1,kh,kw] */
    static const tfl_lay_t dw_lay = {4, {3, 0, 1, 2}};
    int in[3], n_in = 2;
    EAI_TRY(eai__tfl_in_value(s, 0, &eai__perm_nchw, true, &in[0]));
    EAI_TRY(eai__tfl_in_value(s, 1, dw ? &dw_lay : &eai__perm_nchw, true, &in[1]));
    if (tfl_in_index(s, 2) >= 0) {
        tfl_tensor_t *b = in_t(s, 2);
        if (b->shape.rank != 1 || b->shape.d[0] != o)
            return eai__tfl_op_fail(s, EAI_E_FORMAT, "bias '%s' must be [%lld]", b->name,
                                    (long long)o);
        EAI_TRY(eai__tfl_in_value(s, 2, NULL, true, &in[n_in++]));
    }
    int v;
    EAI_TRY(eai__tfl_step(s, "Conv", in, n_in, act == 0, &eai__perm_nchw, &v));
    EAI_TRY(eai__tfl_set_ints(s, "kernel_shape", win.kernel, 2));
    EAI_TRY(eai__tfl_set_ints(s, "strides", win.strides, 2));
    EAI_TRY(eai__tfl_set_ints(s, "dilations", win.dil, 2));
    EAI_TRY(eai__tfl_set_ints(s, "pads", win.pads, 4));
    EAI_TRY(eai__tfl_set_int(s, "group", group));
    EAI_TRY(fused(s, act, v, true, &eai__perm_nchw, &v));
    return eai__tfl_set_out(s, 0, v, &eai__perm_nchw);
}

static eai_status_t map_pool(tfl_t *s, const char *onnx)
{
    eai_status_t st = EAI_OK;
    /* Pool2DOptions{padding, stride_w, stride_h, filter_width, filter_height,
     * fused_activation_function} */
    int padding = opt_u8(s, 0, 0, &st);
    int64_t sw = opt_i32(s, 1, 0, &st), sh = opt_i32(s, 2, 0, &st);
    int64_t kw = opt_i32(s, 3, 0, &st), kh = opt_i32(s, 4, 0, &st);
    int act = opt_u8(s, 5, 0, &st);
    EAI_TRY(st);
    win_t win;
    EAI_TRY(window(s, padding, kh, kw, sh, sw, 1, 1, &win));
    if (out_t(s, 0)->shape.d[3] != in_t(s, 0)->shape.d[3])
        return eai__tfl_op_fail(s, EAI_E_FORMAT, "pooling changes the channel count");
    int x, v;
    EAI_TRY(eai__tfl_in_value(s, 0, &eai__perm_nchw, true, &x));
    EAI_TRY(eai__tfl_step(s, onnx, &x, 1, act == 0, &eai__perm_nchw, &v));
    EAI_TRY(eai__tfl_set_ints(s, "kernel_shape", win.kernel, 2));
    EAI_TRY(eai__tfl_set_ints(s, "strides", win.strides, 2));
    EAI_TRY(eai__tfl_set_ints(s, "pads", win.pads, 4));
    /* TFLite averages over the pixels inside the image only */
    if (onnx[0] == 'A') EAI_TRY(eai__tfl_set_int(s, "count_include_pad", 0));
    EAI_TRY(fused(s, act, v, true, &eai__perm_nchw, &v));
    return eai__tfl_set_out(s, 0, v, &eai__perm_nchw);
}

/* v reshaped to `sh` (a new value; last as for eai__tfl_step). */
static eai_status_t reshape(tfl_t *s, int v, const eai__shape_t *sh, int last, int *out)
{
    int64_t dims[EAI_MAX_RANK];
    for (int i = 0; i < sh->rank; i++) {
        if (sh->d[i] == 0) /* ONNX Reshape would read 0 as "copy this dim" */
            return eai__tfl_op_fail(s, EAI_E_UNSUPPORTED, "reshape to a shape with a 0 dim");
        dims[i] = sh->d[i];
    }
    int in[2] = {v};
    EAI_TRY(eai__tfl_i64_const(s, dims, sh->rank, &in[1]));
    return eai__tfl_step(s, "Reshape", in, 2, last, NULL, out);
}

static eai_status_t map_fc(tfl_t *s, const char *onnx)
{
    (void)onnx;
    eai_status_t st = EAI_OK;
    /* FullyConnectedOptions{fused_activation_function, weights_format,
     * keep_num_dims, asymmetric_quantize_inputs} */
    int act = opt_u8(s, 0, 0, &st), format = opt_u8(s, 1, 0, &st);
    EAI_TRY(st);
    if (format != 0)
        return eai__tfl_op_fail(s, EAI_E_UNSUPPORTED, "shuffled weights (format %d)", format);
    if (s->n_out != 1) return eai__tfl_op_fail(s, EAI_E_UNSUPPORTED, "%d outputs", s->n_out);
    tfl_tensor_t *x = NULL, *w = NULL;
    EAI_TRY(eai__tfl_in_tensor(s, 0, &x));
    EAI_TRY(eai__tfl_in_tensor(s, 1, &w));
    EAI_TRY(need_rank(s, w, "weights", 2));
    int64_t o = w->shape.d[0], k = w->shape.d[1], n = eai__shape_numel(&x->shape);
    if (k < 1 || n % k != 0)
        return eai__tfl_op_fail(s, EAI_E_FORMAT, "input of %lld values is not rows of %lld",
                                (long long)n, (long long)k);
    const tfl_tensor_t *y = out_t(s, 0);
    int64_t rows = n / k;
    if (eai__shape_numel(&y->shape) != rows * o)
        return eai__tfl_op_fail(s, EAI_E_FORMAT, "output '%s' does not hold %lld x %lld values",
                                y->name, (long long)rows, (long long)o);
    int in[3], n_in = 2;
    EAI_TRY(eai__tfl_in_value(s, 0, NULL, true, &in[0]));
    eai__shape_t rk = {.rank = 2, .d = {rows, k}};
    if (x->shape.rank != 2 || x->shape.d[0] != rows) EAI_TRY(reshape(s, in[0], &rk, 0, &in[0]));
    EAI_TRY(eai__tfl_in_value(s, 1, NULL, true, &in[1]));
    if (tfl_in_index(s, 2) >= 0) {
        tfl_tensor_t *b = in_t(s, 2);
        if (eai__shape_numel(&b->shape) != o)
            return eai__tfl_op_fail(s, EAI_E_FORMAT, "bias '%s' must hold %lld values", b->name,
                                    (long long)o);
        EAI_TRY(eai__tfl_in_value(s, 2, NULL, true, &in[n_in]));
        if (b->shape.rank != 1) {
            eai__shape_t bs = {.rank = 1, .d = {o}};
            EAI_TRY(reshape(s, in[n_in], &bs, 0, &in[n_in]));
        }
        n_in++;
    }
    bool resh = y->shape.rank != 2 || y->shape.d[0] != rows;
    int v;
    EAI_TRY(eai__tfl_step(s, "Gemm", in, n_in, act == 0 && !resh, NULL, &v));
    EAI_TRY(eai__tfl_set_int(s, "transB", 1));
    EAI_TRY(fused(s, act, v, !resh, NULL, &v));
    if (resh) EAI_TRY(reshape(s, v, &y->shape, 1, &v));
    return eai__tfl_set_out(s, 0, v, NULL);
}

/* ---- elementwise ---- */

/* The layout shared by inputs [0, n): the first computed input of the
 * output's rank, unless a computed input has another rank (then plain). */
static void common_lay(tfl_t *s, int n, tfl_lay_t *L)
{
    int r = out_t(s, 0)->shape.rank;
    bool found = false;
    *L = (tfl_lay_t){0};
    for (int k = 0; k < n; k++) {
        int ti = tfl_in_index(s, k);
        if (ti < 0 || s->t[ti].v < 0) continue;
        if (s->t[ti].shape.rank != r) {
            *L = (tfl_lay_t){0};
            return;
        }
        if (!found) *L = s->t[ti].lay;
        found = true;
    }
}

static eai_status_t map_binary(tfl_t *s, const char *onnx)
{
    eai_status_t st = EAI_OK;
    /* Add/Sub/Mul/DivOptions all start with fused_activation_function;
     * Maximum/Minimum have none. */
    int act = s->code == 55 || s->code == 57 ? 0 : opt_u8(s, 0, 0, &st);
    EAI_TRY(st);
    if (s->n_in != 2) return eai__tfl_op_fail(s, EAI_E_FORMAT, "%d inputs, expected 2", s->n_in);
    tfl_lay_t L;
    common_lay(s, 2, &L);
    int in[2], v;
    for (int k = 0; k < 2; k++)
        EAI_TRY(eai__tfl_in_value(s, k, &L, true, &in[k]));
    EAI_TRY(eai__tfl_step(s, onnx, in, 2, act == 0, &L, &v));
    EAI_TRY(fused(s, act, v, true, &L, &v));
    return eai__tfl_set_out(s, 0, v, &L);
}

static eai_status_t map_concat(tfl_t *s, const char *onnx)
{
    (void)onnx;
    eai_status_t st = EAI_OK;
    /* ConcatenationOptions{axis, fused_activation_function} */
    int axis = opt_i32(s, 0, 0, &st), act = opt_u8(s, 1, 0, &st);
    EAI_TRY(st);
    int r = out_t(s, 0)->shape.rank;
    if (axis < 0) axis += r;
    if (axis < 0 || axis >= r)
        return eai__tfl_op_fail(s, EAI_E_FORMAT, "axis %d for rank %d", axis, r);
    for (int k = 0; k < s->n_in; k++) {
        tfl_tensor_t *t = NULL;
        EAI_TRY(eai__tfl_in_tensor(s, k, &t));
        EAI_TRY(need_rank(s, t, "input", r));
    }
    tfl_lay_t L;
    common_lay(s, s->n_in, &L);
    int *in = eai__calloc(&s->g->alloc, (size_t)s->n_in + 1, sizeof(int)), v;
    if (!in) return eai_fail(EAI_E_NOMEM, "%s: out of memory", s->label);
    for (int k = 0; k < s->n_in && st == EAI_OK; k++)
        st = eai__tfl_in_value(s, k, &L, true, &in[k]);
    if (st == EAI_OK) st = eai__tfl_step(s, "Concat", in, s->n_in, act == 0, &L, &v);
    eai__free(&s->g->alloc, in);
    EAI_TRY(st);
    EAI_TRY(eai__tfl_set_int(s, "axis", eai__perm_find(&L, axis)));
    EAI_TRY(fused(s, act, v, true, &L, &v));
    return eai__tfl_set_out(s, 0, v, &L);
}

/* Unary ops and the standalone activations: the input's layout carries. */
static eai_status_t map_unary(tfl_t *s, const char *onnx)
{
    eai_status_t st = EAI_OK;
    tfl_tensor_t *x = NULL;
    EAI_TRY(eai__tfl_in_tensor(s, 0, &x));
    const tfl_lay_t *L = cur_lay(s, s->in[0]);
    int in[3], v;
    EAI_TRY(eai__tfl_in_value(s, 0, L, true, &in[0]));
    if (s->code == 21 || s->code == 20) { /* RELU6, RELU_N1_TO_1 */
        EAI_TRY(fused(s, s->code == 21 ? 3 : 2, in[0], true, L, &v));
        return eai__tfl_set_out(s, 0, v, L);
    }
    EAI_TRY(eai__tfl_step(s, onnx, in, 1, 1, L, &v));
    if (s->code == 98) { /* LeakyReluOptions{alpha} */
        float alpha = opt_f32(s, 0, 0.0f, &st);
        EAI_TRY(st);
        EAI_TRY(eai__tfl_set_float(s, "alpha", alpha));
    }
    return eai__tfl_set_out(s, 0, v, L);
}

static eai_status_t map_softmax(tfl_t *s, const char *onnx)
{
    (void)onnx;
    eai_status_t st = EAI_OK;
    float beta = opt_f32(s, 0, 0.0f, &st); /* SoftmaxOptions{beta} */
    EAI_TRY(st);
    tfl_tensor_t *x = NULL;
    EAI_TRY(eai__tfl_in_tensor(s, 0, &x));
    if (x->shape.rank < 1) return eai__tfl_op_fail(s, EAI_E_FORMAT, "softmax of a scalar");
    const tfl_lay_t *L = cur_lay(s, s->in[0]);
    int in[2], v;
    EAI_TRY(eai__tfl_in_value(s, 0, L, true, &in[0]));
    if (beta != 1.0f) {
        EAI_TRY(eai__tfl_f32_scalar(s, beta, &in[1]));
        EAI_TRY(eai__tfl_step(s, "Mul", in, 2, 0, L, &in[0]));
    }
    EAI_TRY(eai__tfl_step(s, "Softmax", in, 1, 1, L, &v));
    EAI_TRY(eai__tfl_set_int(s, "axis", eai__perm_find(L, x->shape.rank - 1)));
    return eai__tfl_set_out(s, 0, v, L);
}

/* ---- quantization ---- */

static eai_status_t map_dequantize(tfl_t *s, const char *onnx)
{
    (void)onnx;
    tfl_tensor_t *x = NULL, *y = out_t(s, 0);
    EAI_TRY(eai__tfl_in_tensor(s, 0, &x));
    if (y->dt != EAI_F32 || eai__shape_numel(&x->shape) != eai__shape_numel(&y->shape))
        return eai__tfl_op_fail(s, EAI_E_FORMAT, "output '%s' must be FLOAT32 of the input's size",
                                y->name);
    if (x->dt == EAI_F16 && x->v < 0) {
        /* float16 weights (the fp16 models' DEQUANTIZE): widened here, once */
        int64_t n = eai__shape_numel(&x->shape);
        float *f = eai__alloc(&s->g->alloc, (size_t)n * 4 + 1);
        if (!f) return eai_fail(EAI_E_NOMEM, "%s: out of memory", s->label);
        for (int64_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, x->data + 2 * i, 2);
            f[i] = eai_f16_to_f32(h);
        }
        return eai__tfl_const_out(s, 0, f);
    }
    if (!eai__tfl_is_quant(x) && x->dt != EAI_F16)
        return eai__tfl_op_fail(s, EAI_E_FORMAT, "input '%s' (%s) is not quantized", x->name,
                                eai__tfl_type_str(x->type));
    const tfl_lay_t *L = cur_lay(s, s->in[0]);
    int v;
    EAI_TRY(eai__tfl_in_value(s, 0, L, true, &v));
    return eai__tfl_set_out(s, 0, v, L);
}

static eai_status_t map_quantize(tfl_t *s, const char *onnx)
{
    (void)onnx;
    if (!eai__tfl_is_quant(out_t(s, 0)))
        return eai__tfl_op_fail(s, EAI_E_FORMAT, "output '%s' is not quantized", out_t(s, 0)->name);
    const tfl_lay_t *L = cur_lay(s, s->in[0]);
    int v;
    EAI_TRY(eai__tfl_in_value(s, 0, L, true, &v));
    return eai__tfl_set_out(s, 0, v, L);
}

/* ---- shapes and layouts ---- */

static eai_status_t map_reshape(tfl_t *s, const char *onnx)
{
    (void)onnx;
    tfl_tensor_t *x = NULL, *y = out_t(s, 0);
    EAI_TRY(eai__tfl_in_tensor(s, 0, &x));
    /* The static output shape is what TFLite's Prepare computes from the
     * shape input or options; check it holds the input's values. */
    if (eai__shape_numel(&x->shape) != eai__shape_numel(&y->shape))
        return eai__tfl_op_fail(s, EAI_E_FORMAT, "reshape of %lld values into '%s' of %lld",
                                (long long)eai__shape_numel(&x->shape), y->name,
                                (long long)eai__shape_numel(&y->shape));
    bool stored = same_quant(x, y);
    int v;
    EAI_TRY(eai__tfl_in_value(s, 0, NULL, !stored, &v));
    EAI_TRY(reshape(s, v, &y->shape, stored ? 2 : 1, &v));
    return stored ? eai__tfl_alias_out(s, 0, v, NULL) : eai__tfl_set_out(s, 0, v, NULL);
}

static eai_status_t map_transpose(tfl_t *s, const char *onnx)
{
    (void)onnx;
    tfl_tensor_t *x = NULL, *y = out_t(s, 0);
    EAI_TRY(eai__tfl_in_tensor(s, 0, &x));
    int64_t perm[EAI_MAX_RANK];
    int n, r = x->shape.rank, inv[EAI_MAX_RANK];
    EAI_TRY(eai__tfl_in_ints(s, 1, perm, EAI_MAX_RANK, &n));
    bool seen[EAI_MAX_RANK] = {false};
    if (n != r || y->shape.rank != r)
        return eai__tfl_op_fail(s, EAI_E_FORMAT, "perm of %d entries for rank %d", n, r);
    for (int i = 0; i < r; i++) {
        if (perm[i] < 0 || perm[i] >= r || seen[perm[i]])
            return eai__tfl_op_fail(s, EAI_E_FORMAT, "perm is not a permutation");
        seen[perm[i]] = true;
        inv[perm[i]] = i;
        if (y->shape.d[i] != x->shape.d[perm[i]])
            return eai__tfl_op_fail(s, EAI_E_FORMAT, "output '%s' does not have the permuted shape",
                                    y->name);
    }
    /* IR = Transpose(x, L) and y = Transpose(x, perm), so IR holds y under
     * L'[i] = inv[L[i]]: a change of tag, no node (constants go through the
     * same path and are permuted when a consumer takes them). */
    const tfl_lay_t *L = cur_lay(s, s->in[0]);
    tfl_lay_t out = {.rank = r};
    for (int i = 0; i < r; i++)
        out.p[i] = inv[eai__perm_plain(L) ? i : L->p[i]];
    bool stored = same_quant(x, y) && x->v >= 0;
    int v;
    if (x->v < 0) { /* a constant: the permuted copy is the output */
        tfl_lay_t p = {.rank = r};
        for (int i = 0; i < r; i++)
            p.p[i] = (int)perm[i];
        EAI_TRY(eai__tfl_tensor_value(s, s->in[0], &p, !same_quant(x, y), &v));
        return same_quant(x, y) ? eai__tfl_alias_out(s, 0, v, NULL)
                                : eai__tfl_set_out(s, 0, v, NULL);
    }
    EAI_TRY(eai__tfl_in_value(s, 0, L, !stored, &v));
    return stored ? eai__tfl_alias_out(s, 0, v, &out) : eai__tfl_set_out(s, 0, v, &out);
}

static eai_status_t map_pad(tfl_t *s, const char *onnx)
{
    (void)onnx;
    tfl_tensor_t *x = NULL;
    EAI_TRY(eai__tfl_in_tensor(s, 0, &x));
    int r = x->shape.rank, n;
    int64_t p[2 * EAI_MAX_RANK], pads[2 * EAI_MAX_RANK];
    EAI_TRY(eai__tfl_in_ints(s, 1, p, 2 * EAI_MAX_RANK, &n));
    if (n != 2 * r || out_t(s, 0)->shape.rank != r)
        return eai__tfl_op_fail(s, EAI_E_FORMAT, "%d paddings for rank %d", n, r);
    const tfl_lay_t *L = cur_lay(s, s->in[0]);
    for (int i = 0; i < r; i++) { /* paddings [r, 2] in TFLite axes; pads in IR axes */
        int a = eai__perm_plain(L) ? i : L->p[i];
        pads[i] = p[2 * a];
        pads[r + i] = p[2 * a + 1];
        if (pads[i] < 0 || pads[r + i] < 0)
            return eai__tfl_op_fail(s, EAI_E_UNSUPPORTED, "negative padding");
        if (out_t(s, 0)->shape.d[a] != x->shape.d[a] + pads[i] + pads[r + i])
            return eai__tfl_op_fail(s, EAI_E_FORMAT, "output shape does not match the paddings");
    }
    int in[3], n_in = 2, v;
    EAI_TRY(eai__tfl_in_value(s, 0, L, true, &in[0]));
    EAI_TRY(eai__tfl_i64_const(s, pads, 2 * r, &in[1]));
    if (tfl_in_index(s, 2) >= 0) { /* PADV2's constant value, a real number here */
        tfl_tensor_t *c = in_t(s, 2);
        if (eai__shape_numel(&c->shape) != 1)
            return eai__tfl_op_fail(s, EAI_E_FORMAT, "pad value must be one number");
        EAI_TRY(eai__tfl_in_value(s, 2, NULL, true, &in[2]));
        if (c->shape.rank != 0) {
            int64_t none = 0;
            int sh;
            EAI_TRY(eai__tfl_i64_const(s, &none, 0, &sh));
            int rin[2] = {in[2], sh};
            EAI_TRY(eai__tfl_step(s, "Reshape", rin, 2, 0, NULL, &in[2]));
        }
        n_in = 3;
    }
    EAI_TRY(eai__tfl_step(s, "Pad", in, n_in, 1, L, &v));
    return eai__tfl_set_out(s, 0, v, L);
}

static eai_status_t map_mean(tfl_t *s, const char *onnx)
{
    (void)onnx;
    eai_status_t st = EAI_OK;
    int keep = opt_u8(s, 0, 0, &st); /* ReducerOptions{keep_dims} */
    EAI_TRY(st);
    tfl_tensor_t *x = NULL;
    EAI_TRY(eai__tfl_in_tensor(s, 0, &x));
    int r = x->shape.rank, n;
    int64_t ax[EAI_MAX_RANK], ir[EAI_MAX_RANK];
    bool red[EAI_MAX_RANK] = {false};
    EAI_TRY(eai__tfl_in_ints(s, 1, ax, EAI_MAX_RANK, &n));
    const tfl_lay_t *L = cur_lay(s, s->in[0]);
    int n_red = 0;
    for (int i = 0; i < n; i++) {
        int64_t a = ax[i] < 0 ? ax[i] + r : ax[i];
        if (a < 0 || a >= r)
            return eai__tfl_op_fail(s, EAI_E_FORMAT, "axis %lld", (long long)ax[i]);
        if (red[a]) continue;
        red[a] = true;
        ir[n_red++] = eai__perm_find(L, (int)a);
    }
    if (out_t(s, 0)->shape.rank != (keep ? r : r - n_red))
        return eai__tfl_op_fail(s, EAI_E_FORMAT, "output rank does not match keep_dims");
    /* without keep_dims the kept axes close up: renumber the tag */
    tfl_lay_t out = {0};
    if (keep || eai__perm_plain(L)) {
        out = L ? *L : out;
    } else {
        int newidx[EAI_MAX_RANK], m = 0;
        for (int a = 0; a < r; a++)
            newidx[a] = red[a] ? -1 : m++;
        for (int i = 0; i < r; i++)
            if (!red[L->p[i]]) out.p[out.rank++] = newidx[L->p[i]];
    }
    int x_v, v;
    EAI_TRY(eai__tfl_in_value(s, 0, L, true, &x_v));
    EAI_TRY(eai__tfl_step(s, "ReduceMean", &x_v, 1, 1, &out, &v));
    EAI_TRY(eai__tfl_set_ints(s, "axes", ir, n_red));
    EAI_TRY(eai__tfl_set_int(s, "keepdims", keep));
    return eai__tfl_set_out(s, 0, v, &out);
}

/* ---- the table ---- */

typedef struct op_map {
    int code, opt;
    int min_in, max_in; /* max -1: no limit */
    eai_status_t (*fn)(tfl_t *s, const char *onnx);
    const char *onnx;
} op_map_t;

static const op_map_t ops[] = {
    {0, OPT_ADD, 2, 2, map_binary, "Add"},
    {1, OPT_POOL, 1, 1, map_pool, "AveragePool"},
    {2, OPT_CONCAT, 1, -1, map_concat, NULL},
    {3, OPT_CONV, 2, 3, map_conv, NULL},
    {4, OPT_DW, 2, 3, map_conv, NULL},
    {6, OPT_DEQUANTIZE, 1, 1, map_dequantize, NULL},
    {9, OPT_FC, 2, 3, map_fc, NULL},
    {14, 0, 1, 1, map_unary, "Sigmoid"},
    {17, OPT_POOL, 1, 1, map_pool, "MaxPool"},
    {18, OPT_MUL, 2, 2, map_binary, "Mul"},
    {19, 0, 1, 1, map_unary, "Relu"},
    {20, 0, 1, 1, map_unary, NULL},
    {21, 0, 1, 1, map_unary, NULL},
    {22, OPT_RESHAPE, 1, 2, map_reshape, NULL},
    {25, OPT_SOFTMAX, 1, 1, map_softmax, NULL},
    {28, 0, 1, 1, map_unary, "Tanh"},
    {34, OPT_PAD, 2, 2, map_pad, NULL},
    {39, OPT_TRANSPOSE, 2, 2, map_transpose, NULL},
    {40, OPT_REDUCER, 2, 2, map_mean, NULL},
    {41, OPT_SUB, 2, 2, map_binary, "Sub"},
    {42, OPT_DIV, 2, 2, map_binary, "Div"},
    {55, OPT_MAXMIN, 2, 2, map_binary, "Max"},
    {57, OPT_MAXMIN, 2, 2, map_binary, "Min"},
    {60, OPT_PADV2, 2, 3, map_pad, NULL},
    {98, OPT_LEAKY_RELU, 1, 1, map_unary, "LeakyRelu"},
    {114, OPT_QUANTIZE, 1, 1, map_quantize, NULL},
    {117, OPT_HARD_SWISH, 1, 1, map_unary, "HardSwish"},
};

eai_status_t eai__tfl_map_op(tfl_t *s)
{
    const op_map_t *m = NULL;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (ops[i].code == s->code) m = &ops[i];
    if (!m)
        return eai__tfl_op_fail(s, EAI_E_UNSUPPORTED,
                                "builtin operator %d is not supported by the TFLite importer",
                                s->code);
    if (s->n_in < m->min_in || (m->max_in >= 0 && s->n_in > m->max_in))
        return eai__tfl_op_fail(s, EAI_E_FORMAT, "%d inputs, expected %d to %d", s->n_in, m->min_in,
                                m->max_in < 0 ? TFL_MAX_IO : m->max_in);
    for (int k = 0; k < m->min_in; k++)
        if (s->in[k] < 0) return eai__tfl_op_fail(s, EAI_E_FORMAT, "input %d is required", k);
    if (s->n_out != 1) return eai__tfl_op_fail(s, EAI_E_FORMAT, "%d outputs, expected 1", s->n_out);
    /* a union of another type would be read with the wrong field order */
    if (s->has_opt && s->opt_type != m->opt)
        return eai__tfl_op_fail(s, EAI_E_FORMAT, "options of union type %d, expected %d",
                                s->opt_type, m->opt);
    return m->fn(s, m->onnx);
}
