/* TF.js importer: TF ops -> ONNX ops (opset 13 semantics) on the IR, for the
 * ops that do not care about layout: elementwise math keeps its inputs'
 * layout tag, shape ops (Reshape, slicing, gathers) work on TF's own layout.
 * Convolutions, pooling, resizing and the other layout-aware ops are in
 * tfjs_ops_nn.c. Each mapping follows what TF.js's CPU backend computes
 * (e.g. integer Div is floor division there).
 */
#include <stdio.h>

#include "model/tfjs_ops_impl.h"

const tfj_lay_t *eai__tfjs_cur(const tfj_port_t *p)
{
    return p->v >= 0 ? &p->lay : NULL;
}

eai_dtype_t eai__tfjs_out_dt(const tfj_t *s, int ni)
{
    eai_dtype_t dt = EAI_DTYPE_UNDEFINED;
    if (eai__tfjs_attr_type(s, ni, "T", EAI_DTYPE_UNDEFINED, &dt) != EAI_OK ||
        dt == EAI_DTYPE_UNDEFINED)
        dt = s->nodes[ni].n_in ? eai__tfjs_in(s, ni, 0)->dt : EAI_DTYPE_UNDEFINED;
    return dt;
}

eai_status_t eai__tfjs_need_inputs(const tfj_t *s, int ni, int lo, int hi)
{
    int n = s->nodes[ni].n_in;
    if (n < lo || (hi >= 0 && n > hi))
        return eai__tfjs_fail(s, ni, EAI_E_FORMAT, "has %d inputs, expected %d%s", n, lo,
                              hi == lo ? "" : " or more");
    return EAI_OK;
}

/* The layout an elementwise op over inputs [lo, hi) runs in: the tag its
 * laid-out activations share, or plain as soon as an activation is plain
 * (its rank is unknown here) or tags disagree in rank. */
void eai__tfjs_common_lay(const tfj_t *s, int ni, int lo, int hi, tfj_lay_t *L)
{
    bool plain = false;
    L->rank = 0;
    for (int k = lo; k < hi; k++) {
        const tfj_port_t *p = eai__tfjs_in(s, ni, k);
        if (p->c || p->v < 0) continue;
        if (eai__perm_plain(&p->lay))
            plain = true;
        else if (L->rank == 0)
            *L = p->lay;
        else if (p->lay.rank != L->rank)
            plain = true;
    }
    for (int k = lo; k < hi && !plain; k++) {
        const tfj_port_t *p = eai__tfjs_in(s, ni, k);
        if (p->c && p->c->shape.rank > L->rank) plain = true;
    }
    if (plain) L->rank = 0;
}

eai_status_t eai__tfjs_scalar(tfj_t *s, int ni, eai_dtype_t dt, double v, int *out)
{
    union {
        float f;
        int32_t i;
        int64_t l;
        uint8_t b;
    } u;
    if (dt == EAI_I32)
        u.i = (int32_t)v;
    else if (dt == EAI_I64)
        u.l = (int64_t)v;
    else if (dt == EAI_BOOL)
        u.b = v != 0;
    else {
        u.f = (float)v;
        dt = EAI_F32;
    }
    return eai__tfjs_new_const(s, ni, "k", false, dt, 0, NULL, &u, out);
}

eai_status_t eai__tfjs_activation(tfj_t *s, int ni, const char *act, int x, const tfj_lay_t *L,
                                  int alpha_in, int port, int *out)
{
    if (strcmp(act, "Relu6") == 0) {
        int in[3] = {x, -1, -1};
        EAI_TRY(eai__tfjs_scalar(s, ni, EAI_F32, 0, &in[1]));
        EAI_TRY(eai__tfjs_scalar(s, ni, EAI_F32, 6, &in[2]));
        return eai__tfjs_emit1(s, ni, "Clip", in, 3, port, L, out);
    }
    if (strcmp(act, "Relu") == 0 || strcmp(act, "Sigmoid") == 0 || strcmp(act, "Tanh") == 0 ||
        strcmp(act, "Elu") == 0)
        return eai__tfjs_emit1(s, ni, act, &x, 1, port, L, out);
    if (strcmp(act, "LeakyRelu") == 0) {
        float alpha;
        EAI_TRY(eai__tfjs_attr_float(s, ni, "leakyrelu_alpha", 0.2f, &alpha));
        EAI_TRY(eai__tfjs_emit1(s, ni, "LeakyRelu", &x, 1, port, L, out));
        return eai__tfjs_set_float(s, "alpha", alpha);
    }
    if (strcmp(act, "Prelu") == 0 && alpha_in >= 0 && alpha_in < s->nodes[ni].n_in) {
        int in[2] = {x, -1};
        EAI_TRY(eai__tfjs_in_value(s, ni, alpha_in, L, &in[1]));
        return eai__tfjs_emit1(s, ni, "PRelu", in, 2, port, L, out);
    }
    return eai__tfjs_fail(s, ni, EAI_E_UNSUPPORTED, "fused activation '%s' is not supported", act);
}

/* ---- pass-through, unary ---- */

eai_status_t eai__tfjs_alias(tfj_t *s, int ni)
{
    EAI_TRY(eai__tfjs_need_inputs(s, ni, 1, -1));
    const tfj_port_t *src = eai__tfjs_in(s, ni, 0);
    tfj_port_t *dst = &s->nodes[ni].ports[0];
    const char *out_name = dst->out_name;
    *dst = *src;
    dst->node = src->node; /* constants keep their own name */
    dst->out_name = out_name;
    return EAI_OK;
}

static eai_status_t map_identity(tfj_t *s, int ni, const char *onnx)
{
    return eai__tfjs_alias(s, ni);
}

static eai_status_t map_unary(tfj_t *s, int ni, const char *onnx)
{
    EAI_TRY(eai__tfjs_need_inputs(s, ni, 1, 1));
    const tfj_port_t *p = eai__tfjs_in(s, ni, 0);
    const tfj_lay_t *L = eai__tfjs_cur(p);
    const char *op = s->nodes[ni].op;
    eai_dtype_t dt = eai__tfjs_out_dt(s, ni);
    int x, y;
    EAI_TRY(eai__tfjs_in_value(s, ni, 0, L, &x));
    if (strcmp(op, "Relu6") == 0 || strcmp(op, "LeakyRelu") == 0) {
        if (strcmp(op, "LeakyRelu") == 0) {
            float alpha;
            EAI_TRY(eai__tfjs_attr_float(s, ni, "alpha", 0.2f, &alpha));
            EAI_TRY(eai__tfjs_emit1(s, ni, "LeakyRelu", &x, 1, 0, L, &y));
            EAI_TRY(eai__tfjs_set_float(s, "alpha", alpha));
        } else {
            EAI_TRY(eai__tfjs_activation(s, ni, op, x, L, -1, 0, &y));
        }
    } else if (strcmp(op, "Square") == 0) {
        int in[2] = {x, x};
        EAI_TRY(eai__tfjs_emit1(s, ni, "Mul", in, 2, 0, L, &y));
    } else if (strcmp(op, "Rsqrt") == 0) {
        int r;
        EAI_TRY(eai__tfjs_emit1(s, ni, "Sqrt", &x, 1, -1, L, &r));
        EAI_TRY(eai__tfjs_emit1(s, ni, "Reciprocal", &r, 1, 0, L, &y));
    } else if (strcmp(op, "Cast") == 0) {
        EAI_TRY(eai__tfjs_attr_type(s, ni, "DstT", EAI_F32, &dt));
        if (dt == p->dt && p->dt != EAI_DTYPE_UNDEFINED) /* int16 -> int32 is a no-op here */
            return eai__tfjs_alias(s, ni);
        EAI_TRY(eai__tfjs_emit1(s, ni, "Cast", &x, 1, 0, L, &y));
        EAI_TRY(eai__tfjs_set_int(s, "to", dt));
    } else {
        EAI_TRY(eai__tfjs_emit1(s, ni, onnx, &x, 1, 0, L, &y));
        if (strcmp(op, "LogicalNot") == 0) dt = EAI_BOOL;
    }
    return eai__tfjs_set_port(s, ni, 0, y, L, dt);
}

/* ---- elementwise with broadcasting ---- */

static eai_status_t floor_div(tfj_t *s, int ni, int a, int b, eai_dtype_t dt, const tfj_lay_t *L,
                              int port, int *out)
{
    int t[2];
    if (dt == EAI_F32) {
        EAI_TRY(eai__tfjs_emit1(s, ni, "Div", (int[]){a, b}, 2, -1, L, &t[0]));
        return eai__tfjs_emit1(s, ni, "Floor", t, 1, port, L, out);
    }
    /* integers: (a - floormod(a, b)) / b divides exactly, so ONNX's truncating
     * Div gives the floor (Mod with fmod=0 takes the divisor's sign, opset 10) */
    EAI_TRY(eai__tfjs_emit1(s, ni, "Mod", (int[]){a, b}, 2, -1, L, &t[0]));
    EAI_TRY(eai__tfjs_set_int(s, "fmod", 0));
    EAI_TRY(eai__tfjs_emit1(s, ni, "Sub", (int[]){a, t[0]}, 2, -1, L, &t[1]));
    return eai__tfjs_emit1(s, ni, "Div", (int[]){t[1], b}, 2, port, L, out);
}

static eai_status_t map_binary(tfj_t *s, int ni, const char *onnx)
{
    EAI_TRY(eai__tfjs_need_inputs(s, ni, 2, 2));
    const char *op = s->nodes[ni].op;
    eai_dtype_t dt = eai__tfjs_out_dt(s, ni);
    tfj_lay_t L;
    eai__tfjs_common_lay(s, ni, 0, 2, &L);
    int in[2], y, t;
    EAI_TRY(eai__tfjs_in_value(s, ni, 0, &L, &in[0]));
    if (strcmp(op, "BiasAdd") == 0) {
        char fmt[16];
        EAI_TRY(eai__tfjs_attr_str(s, ni, "data_format", "NHWC", fmt, sizeof fmt));
        tfj_port_t *b = eai__tfjs_in(s, ni, 1);
        if (strcmp(fmt, "NCHW") == 0) { /* bias on dim 1: [C] -> [C,1,1] for rank 4 */
            if (!b->c || b->c->shape.rank != 1 || !eai__perm_plain(&L))
                return eai__tfjs_fail(s, ni, EAI_E_UNSUPPORTED,
                                      "NCHW BiasAdd needs a constant "
                                      "1-D bias on a plain input");
            int64_t dims[3] = {b->c->shape.d[0], 1, 1};
            EAI_TRY(
                eai__tfjs_new_const(s, ni, "bias", true, b->c->dt, 3, dims, b->c->data, &in[1]));
            EAI_TRY(eai__tfjs_emit1(s, ni, "Add", in, 2, 0, &L, &y));
            return eai__tfjs_set_port(s, ni, 0, y, &L, dt);
        }
    }
    EAI_TRY(eai__tfjs_in_value(s, ni, 1, &L, &in[1]));
    if (strcmp(op, "FloorDiv") == 0 ||
        (strcmp(op, "Div") == 0 && dt != EAI_F32 && dt != EAI_DTYPE_UNDEFINED)) {
        EAI_TRY(floor_div(s, ni, in[0], in[1], dt, &L, 0, &y));
    } else if (strcmp(op, "FloorMod") == 0 && dt != EAI_F32) {
        EAI_TRY(eai__tfjs_emit1(s, ni, "Mod", in, 2, 0, &L, &y));
        EAI_TRY(eai__tfjs_set_int(s, "fmod", 0));
    } else if (strcmp(op, "FloorMod") == 0) { /* a - floor(a / b) * b */
        int q, m;
        EAI_TRY(floor_div(s, ni, in[0], in[1], dt, &L, -1, &q));
        EAI_TRY(eai__tfjs_emit1(s, ni, "Mul", (int[]){q, in[1]}, 2, -1, &L, &m));
        EAI_TRY(eai__tfjs_emit1(s, ni, "Sub", (int[]){in[0], m}, 2, 0, &L, &y));
    } else if (strcmp(op, "SquaredDifference") == 0) {
        EAI_TRY(eai__tfjs_emit1(s, ni, "Sub", in, 2, -1, &L, &t));
        EAI_TRY(eai__tfjs_emit1(s, ni, "Mul", (int[]){t, t}, 2, 0, &L, &y));
    } else if (strcmp(op, "NotEqual") == 0) {
        EAI_TRY(eai__tfjs_emit1(s, ni, "Equal", in, 2, -1, &L, &t));
        EAI_TRY(eai__tfjs_emit1(s, ni, "Not", &t, 1, 0, &L, &y));
    } else {
        EAI_TRY(eai__tfjs_emit1(s, ni, onnx, in, 2, 0, &L, &y));
    }
    static const char *const cmp[] = {"Equal", "NotEqual",  "Greater",    "GreaterEqual",
                                      "Less",  "LessEqual", "LogicalAnd", "LogicalOr"};
    for (size_t i = 0; i < sizeof cmp / sizeof cmp[0]; i++)
        if (strcmp(op, cmp[i]) == 0) dt = EAI_BOOL;
    return eai__tfjs_set_port(s, ni, 0, y, &L, dt);
}

static eai_status_t map_addn(tfj_t *s, int ni, const char *onnx)
{
    EAI_TRY(eai__tfjs_need_inputs(s, ni, 1, -1));
    int n = s->nodes[ni].n_in, acc, x;
    tfj_lay_t L;
    eai__tfjs_common_lay(s, ni, 0, n, &L);
    EAI_TRY(eai__tfjs_in_value(s, ni, 0, &L, &acc));
    if (n == 1) return eai__tfjs_alias(s, ni);
    for (int k = 1; k < n; k++) {
        EAI_TRY(eai__tfjs_in_value(s, ni, k, &L, &x));
        EAI_TRY(eai__tfjs_emit1(s, ni, "Add", (int[]){acc, x}, 2, k == n - 1 ? 0 : -1, &L, &acc));
    }
    return eai__tfjs_set_port(s, ni, 0, acc, &L, eai__tfjs_out_dt(s, ni));
}

static eai_status_t map_select(tfj_t *s, int ni, const char *onnx)
{
    EAI_TRY(eai__tfjs_need_inputs(s, ni, 3, 3));
    tfj_lay_t L;
    eai__tfjs_common_lay(s, ni, 0, 3, &L);
    int in[3], y;
    for (int k = 0; k < 3; k++)
        EAI_TRY(eai__tfjs_in_value(s, ni, k, &L, &in[k]));
    EAI_TRY(eai__tfjs_emit1(s, ni, "Where", in, 3, 0, &L, &y));
    return eai__tfjs_set_port(s, ni, 0, y, &L, eai__tfjs_out_dt(s, ni));
}

static eai_status_t map_clip(tfj_t *s, int ni, const char *onnx)
{
    EAI_TRY(eai__tfjs_need_inputs(s, ni, 3, 3));
    tfj_lay_t L;
    eai__tfjs_common_lay(s, ni, 0, 3, &L);
    int in[3], y, t;
    for (int k = 0; k < 3; k++)
        EAI_TRY(eai__tfjs_in_value(s, ni, k, k ? NULL : &L, &in[k]));
    const tfj_port_t *lo = eai__tfjs_in(s, ni, 1), *hi = eai__tfjs_in(s, ni, 2);
    if (lo->c && hi->c && lo->c->shape.rank == 0 && hi->c->shape.rank == 0) {
        EAI_TRY(eai__tfjs_emit1(s, ni, "Clip", in, 3, 0, &L, &y));
    } else { /* tensor bounds broadcast: min(max(x, lo), hi) */
        EAI_TRY(eai__tfjs_in_value(s, ni, 1, &L, &in[1]));
        EAI_TRY(eai__tfjs_in_value(s, ni, 2, &L, &in[2]));
        EAI_TRY(eai__tfjs_emit1(s, ni, "Max", in, 2, -1, &L, &t));
        EAI_TRY(eai__tfjs_emit1(s, ni, "Min", (int[]){t, in[2]}, 2, 0, &L, &y));
    }
    return eai__tfjs_set_port(s, ni, 0, y, &L, eai__tfjs_out_dt(s, ni));
}

/* ---- shape ops, in TF's layout ---- */

/* Input k as an int64 IR value (constant re-typed, activation cast). */
eai_status_t eai__tfjs_in_i64(tfj_t *s, int ni, int k, int *v)
{
    const tfj_port_t *p = eai__tfjs_in(s, ni, k);
    if (p->c) {
        int64_t vals[64];
        int n;
        if (eai__shape_numel(&p->c->shape) <= 64) {
            EAI_TRY(eai__tfjs_in_ints(s, ni, k, vals, 64, &n));
            return eai__tfjs_i64_const(s, ni, "i", n, vals, p->c->shape.rank == 0, v);
        }
    }
    int x;
    EAI_TRY(eai__tfjs_in_value(s, ni, k, NULL, &x));
    if (p->dt == EAI_I64) {
        *v = x;
        return EAI_OK;
    }
    EAI_TRY(eai__tfjs_emit1(s, ni, "Cast", &x, 1, -1, NULL, v));
    return eai__tfjs_set_int(s, "to", EAI_I64);
}

static eai_status_t map_reshape(tfj_t *s, int ni, const char *onnx)
{
    EAI_TRY(eai__tfjs_need_inputs(s, ni, 2, 2));
    int in[2], y;
    const tfj_port_t *shp = eai__tfjs_in(s, ni, 1);
    if (shp->c) { /* ONNX reads 0 as "copy the dim"; TF means an empty dim */
        int64_t v[EAI_MAX_RANK + 1];
        int n;
        EAI_TRY(eai__tfjs_in_ints(s, ni, 1, v, EAI_MAX_RANK, &n));
        for (int i = 0; i < n; i++)
            if (v[i] == 0)
                return eai__tfjs_fail(s, ni, EAI_E_UNSUPPORTED, "reshape to an empty dim");
    }
    EAI_TRY(eai__tfjs_in_value(s, ni, 0, NULL, &in[0]));
    EAI_TRY(eai__tfjs_in_i64(s, ni, 1, &in[1]));
    EAI_TRY(eai__tfjs_emit1(s, ni, "Reshape", in, 2, 0, NULL, &y));
    return eai__tfjs_set_port(s, ni, 0, y, NULL, eai__tfjs_out_dt(s, ni));
}

static eai_status_t map_squeeze(tfj_t *s, int ni, const char *onnx)
{
    EAI_TRY(eai__tfjs_need_inputs(s, ni, 1, 1));
    int64_t axes[EAI_MAX_RANK];
    int n, in[2] = {-1, -1}, y;
    EAI_TRY(eai__tfjs_attr_ints(s, ni, "squeeze_dims", axes, EAI_MAX_RANK, &n));
    if (n < 0) EAI_TRY(eai__tfjs_attr_ints(s, ni, "axis", axes, EAI_MAX_RANK, &n));
    EAI_TRY(eai__tfjs_in_value(s, ni, 0, NULL, &in[0]));
    if (n > 0) EAI_TRY(eai__tfjs_i64_const(s, ni, "axes", n, axes, false, &in[1]));
    EAI_TRY(eai__tfjs_emit1(s, ni, "Squeeze", in, n > 0 ? 2 : 1, 0, NULL, &y));
    return eai__tfjs_set_port(s, ni, 0, y, NULL, eai__tfjs_out_dt(s, ni));
}

static eai_status_t map_expand_dims(tfj_t *s, int ni, const char *onnx)
{
    EAI_TRY(eai__tfjs_need_inputs(s, ni, 2, 2));
    int64_t axis[1];
    int n, in[2], y;
    EAI_TRY(eai__tfjs_in_ints(s, ni, 1, axis, 1, &n));
    if (n != 1) return eai__tfjs_fail(s, ni, EAI_E_FORMAT, "needs one axis");
    EAI_TRY(eai__tfjs_in_value(s, ni, 0, NULL, &in[0]));
    EAI_TRY(eai__tfjs_i64_const(s, ni, "axes", 1, axis, false, &in[1]));
    EAI_TRY(eai__tfjs_emit1(s, ni, "Unsqueeze", in, 2, 0, NULL, &y));
    return eai__tfjs_set_port(s, ni, 0, y, NULL, eai__tfjs_out_dt(s, ni));
}

/* TF StridedSlice: a spec of n entries (begin/end/strides plus bit masks per
 * entry) -> Slice on the sliced axes, Squeeze for shrink_axis entries and
 * Unsqueeze for new_axis ones. An ellipsis is supported as the last entry
 * (it then only covers axes left alone). */
static eai_status_t map_strided_slice(tfj_t *s, int ni, const char *onnx)
{
    EAI_TRY(eai__tfjs_need_inputs(s, ni, 4, 4));
    int64_t b[EAI_MAX_RANK], e[EAI_MAX_RANK], st[EAI_MAX_RANK];
    int nb, ne, ns;
    EAI_TRY(eai__tfjs_in_ints(s, ni, 1, b, EAI_MAX_RANK, &nb));
    EAI_TRY(eai__tfjs_in_ints(s, ni, 2, e, EAI_MAX_RANK, &ne));
    EAI_TRY(eai__tfjs_in_ints(s, ni, 3, st, EAI_MAX_RANK, &ns));
    if (nb != ne || nb != ns)
        return eai__tfjs_fail(s, ni, EAI_E_FORMAT, "begin, end and strides differ in length");
    int64_t bm, em, elm, nam, sam;
    EAI_TRY(eai__tfjs_attr_int(s, ni, "begin_mask", 0, &bm));
    EAI_TRY(eai__tfjs_attr_int(s, ni, "end_mask", 0, &em));
    EAI_TRY(eai__tfjs_attr_int(s, ni, "ellipsis_mask", 0, &elm));
    EAI_TRY(eai__tfjs_attr_int(s, ni, "new_axis_mask", 0, &nam));
    EAI_TRY(eai__tfjs_attr_int(s, ni, "shrink_axis_mask", 0, &sam));
    if (elm && (elm != (int64_t)1 << (nb - 1) || (nam & elm) || (sam & elm)))
        return eai__tfjs_fail(s, ni, EAI_E_UNSUPPORTED,
                              "an ellipsis is supported only as the last slice entry");
    int64_t starts[EAI_MAX_RANK], ends[EAI_MAX_RANK], axes[EAI_MAX_RANK], steps[EAI_MAX_RANK];
    int64_t sq[EAI_MAX_RANK], unsq[EAI_MAX_RANK];
    int n_sl = 0, n_sq = 0, n_unsq = 0, in_axis = 0, out_axis = 0;
    for (int i = 0; i < nb; i++) {
        if (elm >> i & 1) break;
        if (nam >> i & 1) { /* a new dim of size 1 here in the output */
            unsq[n_unsq++] = out_axis++;
            continue;
        }
        if (st[i] == 0) return eai__tfjs_fail(s, ni, EAI_E_FORMAT, "stride 0");
        int64_t lo = b[i], hi = e[i], step = st[i];
        if (sam >> i & 1) { /* one index; -1 means the last */
            step = 1;
            hi = lo == -1 ? INT64_MAX : lo + 1;
            sq[n_sq++] = in_axis;
        } else {
            if (bm >> i & 1) lo = step > 0 ? 0 : INT64_MAX;
            if (em >> i & 1) hi = step > 0 ? INT64_MAX : INT64_MIN;
            out_axis++;
        }
        if (!(lo == 0 && hi == INT64_MAX && step == 1)) {
            starts[n_sl] = lo;
            ends[n_sl] = hi;
            steps[n_sl] = step;
            axes[n_sl++] = in_axis;
        }
        in_axis++;
    }
    int x, y, t;
    EAI_TRY(eai__tfjs_in_value(s, ni, 0, NULL, &x));
    y = x;
    int stages = (n_sl > 0) + (n_sq > 0) + (n_unsq > 0);
    if (stages == 0) return eai__tfjs_alias(s, ni);
    if (n_sl) {
        int in[5] = {x};
        EAI_TRY(eai__tfjs_i64_const(s, ni, "starts", n_sl, starts, false, &in[1]));
        EAI_TRY(eai__tfjs_i64_const(s, ni, "ends", n_sl, ends, false, &in[2]));
        EAI_TRY(eai__tfjs_i64_const(s, ni, "axes", n_sl, axes, false, &in[3]));
        EAI_TRY(eai__tfjs_i64_const(s, ni, "steps", n_sl, steps, false, &in[4]));
        EAI_TRY(eai__tfjs_emit1(s, ni, "Slice", in, 5, --stages ? -1 : 0, NULL, &y));
    }
    if (n_sq) {
        EAI_TRY(eai__tfjs_i64_const(s, ni, "axes", n_sq, sq, false, &t));
        EAI_TRY(eai__tfjs_emit1(s, ni, "Squeeze", (int[]){y, t}, 2, --stages ? -1 : 0, NULL, &y));
    }
    if (n_unsq) {
        EAI_TRY(eai__tfjs_i64_const(s, ni, "axes", n_unsq, unsq, false, &t));
        EAI_TRY(eai__tfjs_emit1(s, ni, "Unsqueeze", (int[]){y, t}, 2, 0, NULL, &y));
    }
    return eai__tfjs_set_port(s, ni, 0, y, NULL, eai__tfjs_out_dt(s, ni));
}

/* TF Slice(x, begin, size): size -1 runs to the end. */
static eai_status_t map_slice(tfj_t *s, int ni, const char *onnx)
{
    EAI_TRY(eai__tfjs_need_inputs(s, ni, 3, 3));
    int64_t b[EAI_MAX_RANK], sz[EAI_MAX_RANK], e[EAI_MAX_RANK], axes[EAI_MAX_RANK];
    int nb, ns, in[4], y;
    EAI_TRY(eai__tfjs_in_ints(s, ni, 1, b, EAI_MAX_RANK, &nb));
    EAI_TRY(eai__tfjs_in_ints(s, ni, 2, sz, EAI_MAX_RANK, &ns));
    if (nb != ns) return eai__tfjs_fail(s, ni, EAI_E_FORMAT, "begin and size differ in length");
    for (int i = 0; i < nb; i++) {
        e[i] = sz[i] < 0 ? INT64_MAX : b[i] + sz[i];
        axes[i] = i;
    }
    EAI_TRY(eai__tfjs_in_value(s, ni, 0, NULL, &in[0]));
    EAI_TRY(eai__tfjs_i64_const(s, ni, "starts", nb, b, false, &in[1]));
    EAI_TRY(eai__tfjs_i64_const(s, ni, "ends", nb, e, false, &in[2]));
    EAI_TRY(eai__tfjs_i64_const(s, ni, "axes", nb, axes, false, &in[3]));
    EAI_TRY(eai__tfjs_emit1(s, ni, "Slice", in, 4, 0, NULL, &y));
    return eai__tfjs_set_port(s, ni, 0, y, NULL, eai__tfjs_out_dt(s, ni));
}

static eai_status_t map_gather(tfj_t *s, int ni, const char *onnx)
{
    bool v2 = strcmp(s->nodes[ni].op, "GatherV2") == 0;
    EAI_TRY(eai__tfjs_need_inputs(s, ni, v2 ? 3 : 2, v2 ? 3 : 2));
    int64_t axis = 0, bd;
    int n, in[2], y;
    if (v2) EAI_TRY(eai__tfjs_in_ints(s, ni, 2, &axis, 1, &n));
    EAI_TRY(eai__tfjs_attr_int(s, ni, "batch_dims", 0, &bd));
    if (bd != 0)
        return eai__tfjs_fail(s, ni, EAI_E_UNSUPPORTED, "batch_dims %lld (only 0)", (long long)bd);
    EAI_TRY(eai__tfjs_in_value(s, ni, 0, NULL, &in[0]));
    EAI_TRY(eai__tfjs_in_value(s, ni, 1, NULL, &in[1]));
    EAI_TRY(eai__tfjs_emit1(s, ni, "Gather", in, 2, 0, NULL, &y));
    EAI_TRY(eai__tfjs_set_int(s, "axis", axis));
    eai_dtype_t dt;
    EAI_TRY(eai__tfjs_attr_type(s, ni, "Tparams", eai__tfjs_out_dt(s, ni), &dt));
    return eai__tfjs_set_port(s, ni, 0, y, NULL, dt);
}

static eai_status_t map_tile(tfj_t *s, int ni, const char *onnx)
{
    EAI_TRY(eai__tfjs_need_inputs(s, ni, 2, 2));
    int in[2], y;
    EAI_TRY(eai__tfjs_in_value(s, ni, 0, NULL, &in[0]));
    EAI_TRY(eai__tfjs_in_i64(s, ni, 1, &in[1]));
    EAI_TRY(eai__tfjs_emit1(s, ni, "Tile", in, 2, 0, NULL, &y));
    return eai__tfjs_set_port(s, ni, 0, y, NULL, eai__tfjs_out_dt(s, ni));
}

/* Shape of a laid-out tensor: Shape of the IR value, gathered back into TF
 * order, so no Transpose has to run just to be measured. */
static eai_status_t map_shape(tfj_t *s, int ni, const char *onnx)
{
    EAI_TRY(eai__tfjs_need_inputs(s, ni, 1, 1));
    const tfj_port_t *p = eai__tfjs_in(s, ni, 0);
    const tfj_lay_t *L = eai__tfjs_cur(p);
    eai_dtype_t dt;
    EAI_TRY(eai__tfjs_attr_type(s, ni, "out_type", EAI_I32, &dt));
    int x, y;
    EAI_TRY(eai__tfjs_in_value(s, ni, 0, L, &x));
    bool cast = dt != EAI_I64, gather = !eai__perm_plain(L);
    EAI_TRY(eai__tfjs_emit1(s, ni, "Shape", &x, 1, cast || gather ? -1 : 0, NULL, &y));
    if (gather) {
        int64_t idx[EAI_MAX_RANK];
        for (int i = 0; i < L->rank; i++)
            idx[L->p[i]] = i;
        int g;
        EAI_TRY(eai__tfjs_i64_const(s, ni, "perm", L->rank, idx, false, &g));
        EAI_TRY(eai__tfjs_emit1(s, ni, "Gather", (int[]){y, g}, 2, cast ? -1 : 0, NULL, &y));
        EAI_TRY(eai__tfjs_set_int(s, "axis", 0));
    }
    if (cast) {
        EAI_TRY(eai__tfjs_emit1(s, ni, "Cast", &y, 1, 0, NULL, &y));
        EAI_TRY(eai__tfjs_set_int(s, "to", dt));
    }
    return eai__tfjs_set_port(s, ni, 0, y, NULL, dt);
}

/* Pack (tf.stack): Unsqueeze each input at axis, Concat. All-constant packs
 * on axis 0 (shape arithmetic) are folded here. */
static eai_status_t map_pack(tfj_t *s, int ni, const char *onnx)
{
    EAI_TRY(eai__tfjs_need_inputs(s, ni, 1, -1));
    int n = s->nodes[ni].n_in;
    int64_t axis;
    EAI_TRY(eai__tfjs_attr_int(s, ni, "axis", 0, &axis));
    const tfj_port_t *p0 = eai__tfjs_in(s, ni, 0);
    bool fold = axis == 0 && p0->c;
    for (int k = 0; k < n && fold; k++) {
        const tfj_port_t *p = eai__tfjs_in(s, ni, k);
        fold = p->c && p->c->dt == p0->c->dt && p->c->shape.rank == p0->c->shape.rank &&
               p0->c->shape.rank < EAI_MAX_RANK &&
               memcmp(p->c->shape.d, p0->c->shape.d, sizeof(int64_t) * p0->c->shape.rank) == 0;
    }
    if (fold) {
        eai__shape_t sh = {.rank = p0->c->shape.rank + 1, .d = {n}};
        memcpy(sh.d + 1, p0->c->shape.d, sizeof(int64_t) * p0->c->shape.rank);
        tfj_const_t *c;
        EAI_TRY(eai__tfjs_new_tconst(s, ni, p0->c->dt, &sh, &c));
        size_t bytes = (size_t)eai__shape_numel(&p0->c->shape) * eai_dtype_size(c->dt);
        for (int k = 0; k < n; k++)
            memcpy((char *)c->data + k * bytes, eai__tfjs_in(s, ni, k)->c->data, bytes);
        s->nodes[ni].ports[0].c = c;
        s->nodes[ni].ports[0].dt = c->dt;
        return EAI_OK;
    }
    int ax, *parts = eai__calloc(&s->g->alloc, (size_t)n, sizeof(int)), y = -1;
    if (!parts) return eai__tfjs_fail(s, ni, EAI_E_NOMEM, "out of memory");
    eai_status_t st = eai__tfjs_i64_const(s, ni, "axes", 1, &axis, false, &ax);
    for (int k = 0; k < n && st == EAI_OK; k++) {
        int x;
        st = eai__tfjs_in_value(s, ni, k, NULL, &x);
        if (st == EAI_OK)
            st = eai__tfjs_emit1(s, ni, "Unsqueeze", (int[]){x, ax}, 2, -1, NULL, &parts[k]);
    }
    if (st == EAI_OK) st = eai__tfjs_emit1(s, ni, "Concat", parts, n, 0, NULL, &y);
    if (st == EAI_OK) st = eai__tfjs_set_int(s, "axis", axis);
    eai__free(&s->g->alloc, parts);
    EAI_TRY(st);
    return eai__tfjs_set_port(s, ni, 0, y, NULL, eai__tfjs_out_dt(s, ni));
}

static eai_status_t map_unpack(tfj_t *s, int ni, const char *onnx)
{
    EAI_TRY(eai__tfjs_need_inputs(s, ni, 1, 1));
    int64_t axis;
    EAI_TRY(eai__tfjs_attr_int(s, ni, "axis", 0, &axis));
    int n = s->nodes[ni].n_ports, x, ax, outs[64];
    if (n > 64) return eai__tfjs_fail(s, ni, EAI_E_UNSUPPORTED, "more than 64 outputs");
    EAI_TRY(eai__tfjs_in_value(s, ni, 0, NULL, &x));
    for (int k = 0; k < n; k++)
        EAI_TRY(eai__tfjs_new_act(s, ni, -1, NULL, &outs[k]));
    EAI_TRY(eai__tfjs_emit(s, ni, "Split", &x, 1, outs, n));
    EAI_TRY(eai__tfjs_set_int(s, "axis", axis));
    EAI_TRY(eai__tfjs_i64_const(s, ni, "axes", 1, &axis, false, &ax));
    for (int k = 0; k < n; k++) {
        int y;
        EAI_TRY(eai__tfjs_emit1(s, ni, "Squeeze", (int[]){outs[k], ax}, 2, k, NULL, &y));
        EAI_TRY(eai__tfjs_set_port(s, ni, k, y, NULL, eai__tfjs_out_dt(s, ni)));
    }
    return EAI_OK;
}

/* SparseToDense on constants (converters leave it in shape arithmetic). */
static eai_status_t map_sparse_to_dense(tfj_t *s, int ni, const char *onnx)
{
    EAI_TRY(eai__tfjs_need_inputs(s, ni, 4, 4));
    const tfj_const_t *idx, *shp, *val, *def;
    EAI_TRY(eai__tfjs_in_const(s, ni, 0, &idx));
    EAI_TRY(eai__tfjs_in_const(s, ni, 1, &shp));
    EAI_TRY(eai__tfjs_in_const(s, ni, 2, &val));
    EAI_TRY(eai__tfjs_in_const(s, ni, 3, &def));
    int64_t dims[EAI_MAX_RANK];
    int r;
    EAI_TRY(eai__tfjs_in_ints(s, ni, 1, dims, EAI_MAX_RANK, &r));
    eai__shape_t sh = {.rank = r};
    int64_t numel = 1;
    for (int i = 0; i < r; i++) {
        if (dims[i] < 0 || !eai__mul_ok(numel, dims[i], &numel) || numel > (1 << 24))
            return eai__tfjs_fail(s, ni, EAI_E_FORMAT, "bad output shape");
        sh.d[i] = dims[i];
    }
    if (val->dt != def->dt || eai__shape_numel(&def->shape) != 1 ||
        (idx->dt != EAI_I32 && idx->dt != EAI_I64))
        return eai__tfjs_fail(s, ni, EAI_E_FORMAT, "inconsistent inputs");
    tfj_const_t *c;
    EAI_TRY(eai__tfjs_new_tconst(s, ni, val->dt, &sh, &c));
    size_t es = eai_dtype_size(c->dt);
    for (int64_t i = 0; i < numel; i++)
        memcpy((char *)c->data + i * es, def->data, es);
    int64_t n_idx = idx->shape.rank ? idx->shape.d[0] : 1;
    int64_t per = idx->shape.rank > 1 ? idx->shape.d[1] : 1;
    if (per != r && !(per == 1 && r == 1))
        return eai__tfjs_fail(s, ni, EAI_E_FORMAT, "indices do not match the rank");
    for (int64_t i = 0; i < n_idx; i++) {
        int64_t off = 0;
        for (int64_t d = 0; d < per; d++) {
            int64_t q = idx->dt == EAI_I32 ? ((int32_t *)idx->data)[i * per + d]
                                           : ((int64_t *)idx->data)[i * per + d];
            if (q < 0 || q >= sh.d[d])
                return eai__tfjs_fail(s, ni, EAI_E_FORMAT, "index out of range");
            off = off * sh.d[d] + q;
        }
        const char *src =
            (const char *)val->data + (eai__shape_numel(&val->shape) == 1 ? 0 : (size_t)i * es);
        memcpy((char *)c->data + off * es, src, es);
    }
    s->nodes[ni].ports[0].c = c;
    s->nodes[ni].ports[0].dt = c->dt;
    return EAI_OK;
}

static eai_status_t map_fill(tfj_t *s, int ni, const char *onnx)
{
    EAI_TRY(eai__tfjs_need_inputs(s, ni, 2, 2));
    const tfj_const_t *val;
    int64_t dims[EAI_MAX_RANK];
    int r;
    EAI_TRY(eai__tfjs_in_ints(s, ni, 0, dims, EAI_MAX_RANK, &r));
    EAI_TRY(eai__tfjs_in_const(s, ni, 1, &val));
    eai__shape_t sh = {.rank = r};
    int64_t numel = 1;
    for (int i = 0; i < r; i++) {
        if (dims[i] < 0 || !eai__mul_ok(numel, dims[i], &numel) || numel > (1 << 26))
            return eai__tfjs_fail(s, ni, EAI_E_FORMAT, "bad shape");
        sh.d[i] = dims[i];
    }
    tfj_const_t *c;
    EAI_TRY(eai__tfjs_new_tconst(s, ni, val->dt, &sh, &c));
    size_t es = eai_dtype_size(c->dt);
    for (int64_t i = 0; i < numel; i++)
        memcpy((char *)c->data + i * es, val->data, es);
    s->nodes[ni].ports[0].c = c;
    s->nodes[ni].ports[0].dt = c->dt;
    return EAI_OK;
}

/* ---- the table ---- */

static const tfj_map_t table[] = {
    {"Identity", map_identity, NULL},
    {"StopGradient", map_identity, NULL},
    {"Snapshot", map_identity, NULL},
    {"EnsureShape", map_identity, NULL},
    {"Relu", map_unary, "Relu"},
    {"Relu6", map_unary, "Clip"},
    {"LeakyRelu", map_unary, "LeakyRelu"},
    {"Elu", map_unary, "Elu"},
    {"Selu", map_unary, "Selu"},
    {"Sigmoid", map_unary, "Sigmoid"},
    {"Tanh", map_unary, "Tanh"},
    {"Softplus", map_unary, "Softplus"},
    {"Exp", map_unary, "Exp"},
    {"Log", map_unary, "Log"},
    {"Sqrt", map_unary, "Sqrt"},
    {"Rsqrt", map_unary, NULL},
    {"Square", map_unary, NULL},
    {"Neg", map_unary, "Neg"},
    {"Abs", map_unary, "Abs"},
    {"Sign", map_unary, "Sign"},
    {"Floor", map_unary, "Floor"},
    {"Ceil", map_unary, "Ceil"},
    {"Round", map_unary, "Round"},
    {"Reciprocal", map_unary, "Reciprocal"},
    {"Inv", map_unary, "Reciprocal"},
    {"Erf", map_unary, "Erf"},
    {"Sin", map_unary, "Sin"},
    {"Cos", map_unary, "Cos"},
    {"LogicalNot", map_unary, "Not"},
    {"Cast", map_unary, NULL},
    {"Add", map_binary, "Add"},
    {"AddV2", map_binary, "Add"},
    {"BiasAdd", map_binary, "Add"},
    {"Sub", map_binary, "Sub"},
    {"Mul", map_binary, "Mul"},
    {"RealDiv", map_binary, "Div"},
    {"Div", map_binary, "Div"},
    {"FloorDiv", map_binary, NULL},
    {"FloorMod", map_binary, NULL},
    {"Maximum", map_binary, "Max"},
    {"Minimum", map_binary, "Min"},
    {"Pow", map_binary, "Pow"},
    {"SquaredDifference", map_binary, NULL},
    {"Prelu", map_binary, "PRelu"},
    {"Equal", map_binary, "Equal"},
    {"NotEqual", map_binary, NULL},
    {"Greater", map_binary, "Greater"},
    {"GreaterEqual", map_binary, "GreaterOrEqual"},
    {"Less", map_binary, "Less"},
    {"LessEqual", map_binary, "LessOrEqual"},
    {"LogicalAnd", map_binary, "And"},
    {"LogicalOr", map_binary, "Or"},
    {"AddN", map_addn, NULL},
    {"Select", map_select, NULL},
    {"SelectV2", map_select, NULL},
    {"ClipByValue", map_clip, NULL},
    {"Reshape", map_reshape, NULL},
    {"Squeeze", map_squeeze, NULL},
    {"ExpandDims", map_expand_dims, NULL},
    {"StridedSlice", map_strided_slice, NULL},
    {"Slice", map_slice, NULL},
    {"GatherV2", map_gather, NULL},
    {"Gather", map_gather, NULL},
    {"Tile", map_tile, NULL},
    {"Shape", map_shape, NULL},
    {"Pack", map_pack, NULL},
    {"Unpack", map_unpack, NULL},
    {"SparseToDense", map_sparse_to_dense, NULL},
    {"Fill", map_fill, NULL},
    {NULL, NULL, NULL},
};

int eai__tfjs_n_ports(const tfj_t *s, int ni)
{
    const char *op = s->nodes[ni].op;
    int64_t n = 1;
    if (strcmp(op, "Split") == 0 || strcmp(op, "SplitV") == 0)
        (void)eai__tfjs_attr_int(s, ni, "num_split", 1, &n);
    else if (strcmp(op, "Unpack") == 0)
        (void)eai__tfjs_attr_int(s, ni, "num", 1, &n);
    else if (strcmp(op, "TopKV2") == 0)
        n = 2;
    else if (strncmp(op, "FusedBatchNorm", 14) == 0)
        n = 6;
    return n >= 1 && n <= 4096 ? (int)n : 1;
}

eai_status_t eai__tfjs_map_node(tfj_t *s, int ni)
{
    const char *op = s->nodes[ni].op;
    for (const tfj_map_t *m = table; m->tf; m++)
        if (strcmp(m->tf, op) == 0) return m->fn(s, ni, m->onnx);
    for (const tfj_map_t *m = eai__tfjs_nn_ops; m->tf; m++)
        if (strcmp(m->tf, op) == 0) return m->fn(s, ni, m->onnx);
    return eai__tfjs_fail(s, ni, EAI_E_UNSUPPORTED,
                          "TF op %s is not supported by the TF.js "
                          "importer",
                          op);
}
