/* TF.js importer: the layout-aware TF ops. Convolutions, pooling, resizing,
 * batch norm and depth<->space run on NCHW IR values (an NHWC input gets a
 * Transpose unless its producer already made it NCHW) and tag their output
 * NCHW; pads, concats, reductions, splits, softmax and TopK map their axes
 * through whatever tag their input has; TF Transposes only change the tag.
 */
#include <stdio.h>

#include "model/tfjs_ops_impl.h"

/* The window of a conv or pool node, in H, W order. */
typedef struct win {
    bool nchw, same;
    int64_t k[2], st[2], dil[2];
    int64_t pads[4]; /* top, left, bottom, right */
} win_t;

static eai_status_t read_window(tfj_t *s, int ni, bool pool, win_t *w)
{
    char fmt[16], pad[16];
    int64_t st[8], dil[8], ks[8], ep[16];
    int nst, ndil, nks, nep;
    EAI_TRY(eai__tfjs_attr_str(s, ni, "data_format", "NHWC", fmt, sizeof fmt));
    EAI_TRY(eai__tfjs_attr_str(s, ni, "padding", "VALID", pad, sizeof pad));
    EAI_TRY(eai__tfjs_attr_ints(s, ni, "strides", st, 8, &nst));
    EAI_TRY(eai__tfjs_attr_ints(s, ni, "dilations", dil, 8, &ndil));
    EAI_TRY(eai__tfjs_attr_ints(s, ni, "ksize", ks, 8, &nks));
    EAI_TRY(eai__tfjs_attr_ints(s, ni, "explicit_paddings", ep, 16, &nep));
    if (strcmp(fmt, "NHWC") != 0 && strcmp(fmt, "NCHW") != 0)
        return eai__tfjs_fail(s, ni, EAI_E_UNSUPPORTED, "data_format '%s' (NHWC or NCHW)", fmt);
    w->nchw = strcmp(fmt, "NCHW") == 0;
    int h = w->nchw ? 2 : 1, c = w->nchw ? 1 : 3;
    if (nst != 4 || st[0] != 1 || st[c] != 1 || st[h] < 1 || st[h + 1] < 1)
        return eai__tfjs_fail(s, ni, EAI_E_FORMAT,
                              "strides must be 4 values, 1 on batch and "
                              "channels");
    if (ndil > 0 && (ndil != 4 || dil[0] != 1 || dil[c] != 1 || dil[h] < 1 || dil[h + 1] < 1))
        return eai__tfjs_fail(s, ni, EAI_E_FORMAT, "bad dilations");
    if (pool && (nks != 4 || ks[0] != 1 || ks[c] != 1 || ks[h] < 1 || ks[h + 1] < 1))
        return eai__tfjs_fail(s, ni, EAI_E_FORMAT,
                              "ksize must be 4 values, 1 on batch and "
                              "channels");
    for (int i = 0; i < 2; i++) {
        w->st[i] = st[h + i];
        w->dil[i] = ndil > 0 ? dil[h + i] : 1;
        w->k[i] = pool ? ks[h + i] : 0;
    }
    memset(w->pads, 0, sizeof w->pads);
    w->same = strcmp(pad, "SAME") == 0;
    if (strcmp(pad, "EXPLICIT") == 0) {
        if (nep != 8)
            return eai__tfjs_fail(s, ni, EAI_E_FORMAT, "explicit_paddings needs 8 values");
        w->pads[0] = ep[2 * h];
        w->pads[2] = ep[2 * h + 1];
        w->pads[1] = ep[2 * h + 2];
        w->pads[3] = ep[2 * h + 3];
    } else if (!w->same && strcmp(pad, "VALID") != 0) {
        return eai__tfjs_fail(s, ni, EAI_E_UNSUPPORTED, "padding '%s'", pad);
    }
    return EAI_OK;
}

/* TF SAME pads total = max((ceil(in/s)-1)*s + (k-1)*d+1 - in, 0), the extra
 * one at the end: ONNX auto_pad SAME_UPPER (Conv/MaxPool/AveragePool since
 * opset 1) computes exactly that once the input size is known. */
static eai_status_t set_window(tfj_t *s, const win_t *w, bool conv)
{
    EAI_TRY(eai__tfjs_set_ints(s, "kernel_shape", w->k, 2));
    EAI_TRY(eai__tfjs_set_ints(s, "strides", w->st, 2));
    if (conv) EAI_TRY(eai__tfjs_set_ints(s, "dilations", w->dil, 2));
    if (w->same) return eai__tfjs_set_str(s, "auto_pad", "SAME_UPPER");
    return eai__tfjs_set_ints(s, "pads", w->pads, 4);
}

static const tfj_lay_t *nn_lay(const win_t *w)
{
    return w->nchw ? NULL : &eai__perm_nchw;
}

/* Conv2D, DepthwiseConv2dNative and their _Fused forms (BiasAdd, then an
 * activation). HWIO weights become OIHW; depthwise [kh,kw,C,M] becomes
 * [C*M,1,kh,kw] with group C (output channel c*M+m in both). */
static eai_status_t map_conv(tfj_t *s, int ni, const char *onnx)
{
    EAI_TRY(eai__tfjs_need_inputs(s, ni, 2, -1));
    const char *op = s->nodes[ni].op;
    bool dw = strstr(op, "Depthwise") != NULL, fused = strncmp(op, "Fused", 5) == 0 || op[0] == '_';
    win_t w;
    EAI_TRY(read_window(s, ni, false, &w));
    const tfj_port_t *wp = eai__tfjs_in(s, ni, 1);
    int in[3] = {-1, -1, -1}, y;
    EAI_TRY(eai__tfjs_in_value(s, ni, 0, nn_lay(&w), &in[0]));
    if (wp->c && wp->c->shape.rank == 4 && wp->c->dt == EAI_F32) {
        const eai__shape_t *ws = &wp->c->shape;
        static const int perm_conv[4] = {3, 2, 0, 1}, perm_dw[4] = {2, 3, 0, 1};
        int64_t dims[4] = {ws->d[3], ws->d[2], ws->d[0], ws->d[1]};
        if (dw) {
            dims[0] = ws->d[2] * ws->d[3];
            dims[1] = 1;
        }
        float *buf = eai__alloc_aligned(&s->g->alloc, (size_t)eai__shape_numel(ws) * 4 + 8);
        if (!buf) return eai__tfjs_fail(s, ni, EAI_E_NOMEM, "out of memory");
        eai__permute(wp->c->data, 4, ws, dw ? perm_dw : perm_conv, buf);
        eai_status_t st =
            eai__tfjs_new_const(s, ni, dw ? "dw" : "oihw", true, EAI_F32, 4, dims, buf, &in[1]);
        eai__free_aligned(&s->g->alloc, buf);
        EAI_TRY(st);
        w.k[0] = ws->d[0];
        w.k[1] = ws->d[1];
    } else {
        return eai__tfjs_fail(s, ni, EAI_E_UNSUPPORTED,
                              "the filter must be a constant float32 tensor of rank 4");
    }
    char f0[32] = "", f1[32] = "";
    int n_fused = 0;
    if (fused) {
        EAI_TRY(eai__tfjs_attr_strs(s, ni, "fused_ops", 0, f0, sizeof f0, &n_fused));
        EAI_TRY(eai__tfjs_attr_strs(s, ni, "fused_ops", 1, f1, sizeof f1, &n_fused));
        if (n_fused > 2 || (n_fused >= 1 && strcmp(f0, "BiasAdd") != 0))
            return eai__tfjs_fail(s, ni, EAI_E_UNSUPPORTED,
                                  "fused_ops [%s%s%s%s] (BiasAdd then "
                                  "an activation)",
                                  f0, n_fused > 1 ? ", " : "", f1, n_fused > 2 ? ", ..." : "");
        if (n_fused >= 1) {
            EAI_TRY(eai__tfjs_need_inputs(s, ni, 3, -1));
            EAI_TRY(eai__tfjs_in_value(s, ni, 2, NULL, &in[2]));
        }
    }
    const tfj_lay_t *L = nn_lay(&w);
    EAI_TRY(eai__tfjs_emit1(s, ni, "Conv", in, n_fused ? 3 : 2, n_fused > 1 ? -1 : 0, L, &y));
    EAI_TRY(set_window(s, &w, true));
    if (dw) EAI_TRY(eai__tfjs_set_int(s, "group", wp->c->shape.d[2]));
    if (n_fused > 1) EAI_TRY(eai__tfjs_activation(s, ni, f1, y, L, 3, 0, &y));
    return eai__tfjs_set_port(s, ni, 0, y, L, EAI_F32);
}

static eai_status_t map_pool(tfj_t *s, int ni, const char *onnx)
{
    EAI_TRY(eai__tfjs_need_inputs(s, ni, 1, 1));
    win_t w;
    EAI_TRY(read_window(s, ni, true, &w));
    int x, y;
    EAI_TRY(eai__tfjs_in_value(s, ni, 0, nn_lay(&w), &x));
    EAI_TRY(eai__tfjs_emit1(s, ni, onnx, &x, 1, 0, nn_lay(&w), &y));
    EAI_TRY(set_window(s, &w, false));
    if (strcmp(onnx, "AveragePool") == 0) /* TF averages over the valid pixels only */
        EAI_TRY(eai__tfjs_set_int(s, "count_include_pad", 0));
    return eai__tfjs_set_port(s, ni, 0, y, nn_lay(&w), eai__tfjs_out_dt(s, ni));
}

/* ResizeBilinear / ResizeNearestNeighbor(x, [h, w]) -> Resize(x, sizes) with
 * sizes = Concat(Shape(x)[0:2], [h, w]), which the shape pass folds. The
 * coordinate mode follows TF's align_corners / half_pixel_centers. */
static eai_status_t map_resize(tfj_t *s, int ni, const char *onnx)
{
    EAI_TRY(eai__tfjs_need_inputs(s, ni, 2, 2));
    bool ac, hp, nearest = strcmp(onnx, "nearest") == 0;
    EAI_TRY(eai__tfjs_attr_bool(s, ni, "align_corners", false, &ac));
    EAI_TRY(eai__tfjs_attr_bool(s, ni, "half_pixel_centers", false, &hp));
    int x, shp, nc, hw, sizes, y;
    EAI_TRY(eai__tfjs_in_value(s, ni, 0, &eai__perm_nchw, &x));
    EAI_TRY(eai__tfjs_emit1(s, ni, "Shape", &x, 1, -1, NULL, &shp));
    int sl[4] = {shp};
    EAI_TRY(eai__tfjs_i64_const(s, ni, "starts", 1, (int64_t[]){0}, false, &sl[1]));
    EAI_TRY(eai__tfjs_i64_const(s, ni, "ends", 1, (int64_t[]){2}, false, &sl[2]));
    EAI_TRY(eai__tfjs_i64_const(s, ni, "axes", 1, (int64_t[]){0}, false, &sl[3]));
    EAI_TRY(eai__tfjs_emit1(s, ni, "Slice", sl, 4, -1, NULL, &nc));
    EAI_TRY(eai__tfjs_in_i64(s, ni, 1, &hw));
    EAI_TRY(eai__tfjs_emit1(s, ni, "Concat", (int[]){nc, hw}, 2, -1, NULL, &sizes));
    EAI_TRY(eai__tfjs_set_int(s, "axis", 0));
    EAI_TRY(eai__tfjs_emit1(s, ni, "Resize", (int[]){x, -1, -1, sizes}, 4, 0, &eai__perm_nchw, &y));
    EAI_TRY(eai__tfjs_set_str(s, "mode", nearest ? "nearest" : "linear"));
    const char *ctm = ac   ? "align_corners"
                      : hp ? (nearest ? "tf_half_pixel_for_nn" : "half_pixel")
                           : "asymmetric";
    EAI_TRY(eai__tfjs_set_str(s, "coordinate_transformation_mode", ctm));
    if (nearest) /* TF: round() with align_corners, else floor() */
        EAI_TRY(eai__tfjs_set_str(s, "nearest_mode", ac ? "round_prefer_ceil" : "floor"));
    return eai__tfjs_set_port(s, ni, 0, y, &eai__perm_nchw, eai__tfjs_out_dt(s, ni));
}

/* The input's layout if it has `rank` dims, else plain. */
static tfj_lay_t input_lay(const tfj_t *s, int ni, int k, int rank)
{
    const tfj_port_t *p = eai__tfjs_in(s, ni, k);
    tfj_lay_t L = {0};
    if (p->v >= 0 && p->lay.rank == rank) L = p->lay;
    return L;
}

static eai_status_t map_pad(tfj_t *s, int ni, const char *onnx)
{
    bool v2 = strcmp(s->nodes[ni].op, "PadV2") == 0;
    EAI_TRY(eai__tfjs_need_inputs(s, ni, 2, v2 ? 3 : 2));
    int64_t pd[2 * EAI_MAX_RANK], pads[2 * EAI_MAX_RANK];
    int n, in[3] = {-1, -1, -1}, y;
    EAI_TRY(eai__tfjs_in_ints(s, ni, 1, pd, 2 * EAI_MAX_RANK, &n));
    if (n % 2) return eai__tfjs_fail(s, ni, EAI_E_FORMAT, "paddings must be [rank, 2]");
    int r = n / 2;
    tfj_lay_t L = input_lay(s, ni, 0, r);
    for (int i = 0; i < r; i++) { /* ONNX: all begins, then all ends */
        int t = eai__perm_plain(&L) ? i : L.p[i];
        pads[i] = pd[2 * t];
        pads[r + i] = pd[2 * t + 1];
    }
    EAI_TRY(eai__tfjs_in_value(s, ni, 0, &L, &in[0]));
    EAI_TRY(eai__tfjs_i64_const(s, ni, "pads", n, pads, false, &in[1]));
    if (v2) EAI_TRY(eai__tfjs_in_value(s, ni, 2, NULL, &in[2]));
    EAI_TRY(eai__tfjs_emit1(s, ni, "Pad", in, v2 ? 3 : 2, 0, &L, &y));
    if (strcmp(s->nodes[ni].op, "MirrorPad") == 0) {
        char mode[16];
        EAI_TRY(eai__tfjs_attr_str(s, ni, "mode", "REFLECT", mode, sizeof mode));
        if (strcmp(mode, "REFLECT") != 0)
            return eai__tfjs_fail(s, ni, EAI_E_UNSUPPORTED, "MirrorPad mode %s (REFLECT only)",
                                  mode);
        EAI_TRY(eai__tfjs_set_str(s, "mode", "reflect"));
    }
    return eai__tfjs_set_port(s, ni, 0, y, &L, eai__tfjs_out_dt(s, ni));
}

/* ConcatV2(values..., axis) and Concat(axis, values...). */
static eai_status_t map_concat(tfj_t *s, int ni, const char *onnx)
{
    EAI_TRY(eai__tfjs_need_inputs(s, ni, 2, -1));
    int n = s->nodes[ni].n_in - 1, lo = strcmp(s->nodes[ni].op, "Concat") == 0;
    int64_t axis;
    int na, y;
    EAI_TRY(eai__tfjs_in_ints(s, ni, lo ? 0 : n, &axis, 1, &na));
    tfj_lay_t L;
    eai__tfjs_common_lay(s, ni, lo, lo + n, &L);
    if (!eai__perm_plain(&L)) axis = eai__perm_find(&L, (int)(axis < 0 ? axis + L.rank : axis));
    int *in = eai__calloc(&s->g->alloc, (size_t)n, sizeof(int));
    if (!in) return eai__tfjs_fail(s, ni, EAI_E_NOMEM, "out of memory");
    eai_status_t st = EAI_OK;
    for (int k = 0; k < n && st == EAI_OK; k++)
        st = eai__tfjs_in_value(s, ni, lo + k, &L, &in[k]);
    if (st == EAI_OK) st = eai__tfjs_emit1(s, ni, "Concat", in, n, 0, &L, &y);
    eai__free(&s->g->alloc, in);
    EAI_TRY(st);
    EAI_TRY(eai__tfjs_set_int(s, "axis", axis));
    return eai__tfjs_set_port(s, ni, 0, y, &L, eai__tfjs_out_dt(s, ni));
}

/* Axes of a tagged input -> IR axes (sorted), and the tag left once they are
 * removed (keep_dims false). */
static void reduce_axes(const tfj_lay_t *L, const int64_t *ax, int n, int64_t *ir, tfj_lay_t *out)
{
    bool gone[EAI_MAX_RANK] = {false};
    for (int i = 0; i < n; i++)
        gone[ax[i] < 0 ? ax[i] + L->rank : ax[i]] = true;
    int m = 0;
    for (int i = 0; i < L->rank; i++)
        if (gone[L->p[i]]) ir[m++] = i;
    out->rank = 0;
    for (int i = 0; i < L->rank; i++) {
        if (gone[L->p[i]]) continue;
        int rank_of = 0; /* position of TF dim L->p[i] among the kept TF dims */
        for (int t = 0; t < L->p[i]; t++)
            rank_of += !gone[t];
        out->p[out->rank++] = rank_of;
    }
    eai__perm_norm(out);
}

/* Mean, Sum, Max, Min, Prod (axes input, keep_dims) and ArgMax/ArgMin. */
static eai_status_t map_reduce(tfj_t *s, int ni, const char *onnx)
{
    EAI_TRY(eai__tfjs_need_inputs(s, ni, 2, 2));
    bool arg = strncmp(onnx, "Arg", 3) == 0, keep = false;
    int64_t ax[EAI_MAX_RANK], ir[EAI_MAX_RANK];
    int n, x, y;
    EAI_TRY(eai__tfjs_in_ints(s, ni, 1, ax, EAI_MAX_RANK, &n));
    if (!arg) EAI_TRY(eai__tfjs_attr_bool(s, ni, "keep_dims", false, &keep));
    if (n == 0 && !arg) /* TF reduces nothing; ONNX would reduce everything */
        return eai__tfjs_alias(s, ni);
    const tfj_port_t *p = eai__tfjs_in(s, ni, 0);
    tfj_lay_t L = p->v >= 0 ? p->lay : (tfj_lay_t){0}, outL = {0};
    for (int i = 0; i < n && !eai__perm_plain(&L); i++)
        if (ax[i] < -L.rank || ax[i] >= L.rank)
            return eai__tfjs_fail(s, ni, EAI_E_FORMAT, "axis %lld out of range for rank %d",
                                  (long long)ax[i], L.rank);
    if (eai__perm_plain(&L))
        memcpy(ir, ax, sizeof(int64_t) * (size_t)n);
    else
        reduce_axes(&L, ax, n, ir, keep ? &(tfj_lay_t){0} : &outL);
    if (keep) outL = L;
    EAI_TRY(eai__tfjs_in_value(s, ni, 0, &L, &x));
    eai_dtype_t dt = eai__tfjs_out_dt(s, ni);
    if (arg) {
        if (n != 1) return eai__tfjs_fail(s, ni, EAI_E_FORMAT, "needs one axis");
        EAI_TRY(eai__tfjs_attr_type(s, ni, "output_type", EAI_I64, &dt));
        EAI_TRY(eai__tfjs_emit1(s, ni, onnx, &x, 1, dt == EAI_I64 ? 0 : -1, &outL, &y));
        EAI_TRY(eai__tfjs_set_int(s, "axis", ir[0]));
        EAI_TRY(eai__tfjs_set_int(s, "keepdims", 0));
        if (dt != EAI_I64) {
            EAI_TRY(eai__tfjs_emit1(s, ni, "Cast", &y, 1, 0, &outL, &y));
            EAI_TRY(eai__tfjs_set_int(s, "to", dt));
        }
    } else if (strcmp(onnx, "ReduceSum") == 0) { /* axes is an input from opset 13 */
        int a;
        EAI_TRY(eai__tfjs_i64_const(s, ni, "axes", n, ir, false, &a));
        EAI_TRY(eai__tfjs_emit1(s, ni, onnx, (int[]){x, a}, 2, 0, &outL, &y));
        EAI_TRY(eai__tfjs_set_int(s, "keepdims", keep));
    } else {
        EAI_TRY(eai__tfjs_emit1(s, ni, onnx, &x, 1, 0, &outL, &y));
        EAI_TRY(eai__tfjs_set_ints(s, "axes", ir, n));
        EAI_TRY(eai__tfjs_set_int(s, "keepdims", keep));
    }
    return eai__tfjs_set_port(s, ni, 0, y, &outL, dt);
}

/* Transpose only changes the tag: with IR = Transpose(x, L) and
 * y = Transpose(x, P), IR = Transpose(y, L') for L'[i] = P^-1[L[i]]. */
static eai_status_t map_transpose(tfj_t *s, int ni, const char *onnx)
{
    EAI_TRY(eai__tfjs_need_inputs(s, ni, 2, 2));
    int64_t perm[EAI_MAX_RANK];
    int n;
    EAI_TRY(eai__tfjs_in_ints(s, ni, 1, perm, EAI_MAX_RANK, &n));
    int pinv[EAI_MAX_RANK];
    bool seen[EAI_MAX_RANK] = {false};
    for (int i = 0; i < n; i++) {
        if (perm[i] < 0 || perm[i] >= n || seen[perm[i]])
            return eai__tfjs_fail(s, ni, EAI_E_FORMAT, "perm is not a permutation");
        seen[perm[i]] = true;
        pinv[perm[i]] = i;
    }
    const tfj_port_t *p = eai__tfjs_in(s, ni, 0);
    tfj_port_t *out = &s->nodes[ni].ports[0];
    if (p->c) { /* fold: weights are sometimes stored transposed */
        if (p->c->shape.rank != n)
            return eai__tfjs_fail(s, ni, EAI_E_FORMAT, "perm has %d entries for rank %d", n,
                                  p->c->shape.rank);
        eai__shape_t sh = {.rank = n};
        int pi[EAI_MAX_RANK];
        for (int i = 0; i < n; i++)
            sh.d[i] = p->c->shape.d[perm[i]], pi[i] = (int)perm[i];
        tfj_const_t *c;
        EAI_TRY(eai__tfjs_new_tconst(s, ni, p->c->dt, &sh, &c));
        eai__permute(p->c->data, eai_dtype_size(c->dt), &p->c->shape, pi, c->data);
        out->c = c;
        out->dt = c->dt;
        return EAI_OK;
    }
    if (!eai__perm_plain(&p->lay) && p->lay.rank != n)
        return eai__tfjs_fail(s, ni, EAI_E_FORMAT, "perm has %d entries for rank %d", n,
                              p->lay.rank);
    tfj_lay_t L = {.rank = n};
    for (int i = 0; i < n; i++)
        L.p[i] = pinv[eai__perm_plain(&p->lay) ? i : p->lay.p[i]];
    return eai__tfjs_set_port(s, ni, 0, p->v, &L, p->dt);
}

/* Split(axis, x) in equal parts; SplitV(x, sizes, axis). */
static eai_status_t map_split(tfj_t *s, int ni, const char *onnx)
{
    bool v = strcmp(s->nodes[ni].op, "SplitV") == 0;
    EAI_TRY(eai__tfjs_need_inputs(s, ni, v ? 3 : 2, v ? 3 : 2));
    int n = s->nodes[ni].n_ports, na, x, in[2] = {-1, -1}, outs[64];
    int64_t axis, sizes[64];
    if (n > 64) return eai__tfjs_fail(s, ni, EAI_E_UNSUPPORTED, "more than 64 outputs");
    EAI_TRY(eai__tfjs_in_ints(s, ni, v ? 2 : 0, &axis, 1, &na));
    const tfj_port_t *p = eai__tfjs_in(s, ni, v ? 0 : 1);
    tfj_lay_t L = p->v >= 0 ? p->lay : (tfj_lay_t){0};
    if (!eai__perm_plain(&L)) axis = eai__perm_find(&L, (int)(axis < 0 ? axis + L.rank : axis));
    EAI_TRY(eai__tfjs_in_value(s, ni, v ? 0 : 1, &L, &x));
    in[0] = x;
    if (v) {
        int ns;
        EAI_TRY(eai__tfjs_in_ints(s, ni, 1, sizes, 64, &ns));
        if (ns != n) return eai__tfjs_fail(s, ni, EAI_E_FORMAT, "%d sizes for %d outputs", ns, n);
        for (int i = 0; i < ns; i++)
            if (sizes[i] < 0)
                return eai__tfjs_fail(s, ni, EAI_E_UNSUPPORTED, "size -1 in size_splits");
        EAI_TRY(eai__tfjs_i64_const(s, ni, "split", ns, sizes, false, &in[1]));
    }
    for (int k = 0; k < n; k++)
        EAI_TRY(eai__tfjs_new_act(s, ni, k, &L, &outs[k]));
    EAI_TRY(eai__tfjs_emit(s, ni, "Split", in, v ? 2 : 1, outs, n));
    EAI_TRY(eai__tfjs_set_int(s, "axis", axis));
    for (int k = 0; k < n; k++)
        EAI_TRY(eai__tfjs_set_port(s, ni, k, outs[k], &L, eai__tfjs_out_dt(s, ni)));
    return EAI_OK;
}

/* Softmax/LogSoftmax over TF's last axis; TopKV2 on the last axis. */
static eai_status_t map_last_axis(tfj_t *s, int ni, const char *onnx)
{
    bool topk = strcmp(onnx, "TopK") == 0;
    EAI_TRY(eai__tfjs_need_inputs(s, ni, topk ? 2 : 1, topk ? 2 : 1));
    const tfj_port_t *p = eai__tfjs_in(s, ni, 0);
    tfj_lay_t L = p->v >= 0 ? p->lay : (tfj_lay_t){0};
    int64_t axis = eai__perm_plain(&L) ? -1 : eai__perm_find(&L, L.rank - 1);
    int in[2], y, idx;
    EAI_TRY(eai__tfjs_in_value(s, ni, 0, &L, &in[0]));
    if (!topk) {
        EAI_TRY(eai__tfjs_emit1(s, ni, onnx, in, 1, 0, &L, &y));
        EAI_TRY(eai__tfjs_set_int(s, "axis", axis));
        return eai__tfjs_set_port(s, ni, 0, y, &L, eai__tfjs_out_dt(s, ni));
    }
    int64_t k;
    int nk;
    EAI_TRY(eai__tfjs_in_ints(s, ni, 1, &k, 1, &nk));
    EAI_TRY(eai__tfjs_i64_const(s, ni, "k", 1, &k, false, &in[1]));
    EAI_TRY(eai__tfjs_new_act(s, ni, 0, &L, &y));
    EAI_TRY(eai__tfjs_new_act(s, ni, -1, &L, &idx));
    EAI_TRY(eai__tfjs_emit(s, ni, "TopK", in, 2, (int[]){y, idx}, 2));
    EAI_TRY(eai__tfjs_set_int(s, "axis", axis));
    EAI_TRY(eai__tfjs_set_int(s, "largest", 1));
    EAI_TRY(eai__tfjs_set_int(s, "sorted", 1)); /* TF.js always sorts */
    EAI_TRY(eai__tfjs_set_port(s, ni, 0, y, &L, eai__tfjs_out_dt(s, ni)));
    EAI_TRY(eai__tfjs_emit1(s, ni, "Cast", &idx, 1, 1, &L, &idx)); /* TF indices are int32 */
    EAI_TRY(eai__tfjs_set_int(s, "to", EAI_I32));
    return eai__tfjs_set_port(s, ni, 1, idx, &L, EAI_I32);
}

static eai_status_t map_batchnorm(tfj_t *s, int ni, const char *onnx)
{
    EAI_TRY(eai__tfjs_need_inputs(s, ni, 5, 5));
    bool training;
    float eps;
    char fmt[16];
    EAI_TRY(eai__tfjs_attr_bool(s, ni, "is_training", false, &training));
    EAI_TRY(eai__tfjs_attr_float(s, ni, "epsilon", 0.0001f, &eps));
    EAI_TRY(eai__tfjs_attr_str(s, ni, "data_format", "NHWC", fmt, sizeof fmt));
    if (training) return eai__tfjs_fail(s, ni, EAI_E_UNSUPPORTED, "is_training (inference only)");
    const tfj_lay_t *L = strcmp(fmt, "NCHW") == 0 ? NULL : &eai__perm_nchw;
    int in[5], y;
    EAI_TRY(eai__tfjs_in_value(s, ni, 0, L, &in[0]));
    for (int k = 1; k < 5; k++)
        EAI_TRY(eai__tfjs_in_value(s, ni, k, NULL, &in[k]));
    EAI_TRY(eai__tfjs_emit1(s, ni, "BatchNormalization", in, 5, 0, L, &y));
    EAI_TRY(eai__tfjs_set_float(s, "epsilon", eps));
    return eai__tfjs_set_port(s, ni, 0, y, L, EAI_F32);
}

/* Input k, its last two dims swapped when `swap`: constants at import, a
 * 2-D activation by a Transpose. */
static eai_status_t matmul_operand(tfj_t *s, int ni, int k, bool swap, bool batch, int *v)
{
    const tfj_port_t *p = eai__tfjs_in(s, ni, k);
    if (!swap) return eai__tfjs_in_value(s, ni, k, NULL, v);
    if (p->c && p->c->shape.rank >= 2) {
        int r = p->c->shape.rank, perm[EAI_MAX_RANK];
        int64_t dims[EAI_MAX_RANK];
        for (int i = 0; i < r; i++)
            perm[i] = i;
        perm[r - 2] = r - 1;
        perm[r - 1] = r - 2;
        for (int i = 0; i < r; i++)
            dims[i] = p->c->shape.d[perm[i]];
        void *buf = eai__alloc_aligned(
            &s->g->alloc, (size_t)eai__shape_numel(&p->c->shape) * eai_dtype_size(p->c->dt) + 8);
        if (!buf) return eai__tfjs_fail(s, ni, EAI_E_NOMEM, "out of memory");
        eai__permute(p->c->data, eai_dtype_size(p->c->dt), &p->c->shape, perm, buf);
        eai_status_t st = eai__tfjs_new_const(s, ni, "t", true, p->c->dt, r, dims, buf, v);
        eai__free_aligned(&s->g->alloc, buf);
        return st;
    }
    if (batch) return eai__tfjs_fail(s, ni, EAI_E_UNSUPPORTED, "adjoint of a non-constant operand");
    int x;
    EAI_TRY(eai__tfjs_in_value(s, ni, k, NULL, &x));
    EAI_TRY(eai__tfjs_emit1(s, ni, "Transpose", &x, 1, -1, NULL, v));
    return eai__tfjs_set_ints(s, "perm", (int64_t[]){1, 0}, 2);
}

static eai_status_t map_matmul(tfj_t *s, int ni, const char *onnx)
{
    EAI_TRY(eai__tfjs_need_inputs(s, ni, 2, -1));
    const char *op = s->nodes[ni].op;
    bool batch = strncmp(op, "BatchMatMul", 11) == 0, ta, tb;
    EAI_TRY(eai__tfjs_attr_bool(s, ni, batch ? "adj_x" : "transpose_a", false, &ta));
    EAI_TRY(eai__tfjs_attr_bool(s, ni, batch ? "adj_y" : "transpose_b", false, &tb));
    int in[2], y;
    EAI_TRY(matmul_operand(s, ni, 0, ta, batch, &in[0]));
    EAI_TRY(matmul_operand(s, ni, 1, tb, batch, &in[1]));
    char f0[32] = "", f1[32] = "";
    int n_fused = 0;
    if (op[0] == '_') {
        EAI_TRY(eai__tfjs_attr_strs(s, ni, "fused_ops", 0, f0, sizeof f0, &n_fused));
        EAI_TRY(eai__tfjs_attr_strs(s, ni, "fused_ops", 1, f1, sizeof f1, &n_fused));
        if (n_fused > 2 || (n_fused >= 1 && strcmp(f0, "BiasAdd") != 0))
            return eai__tfjs_fail(s, ni, EAI_E_UNSUPPORTED,
                                  "fused_ops (BiasAdd then an "
                                  "activation)");
    }
    EAI_TRY(eai__tfjs_emit1(s, ni, "MatMul", in, 2, n_fused ? -1 : 0, NULL, &y));
    if (n_fused >= 1) {
        int b;
        EAI_TRY(eai__tfjs_need_inputs(s, ni, 3, -1));
        EAI_TRY(eai__tfjs_in_value(s, ni, 2, NULL, &b));
        EAI_TRY(eai__tfjs_emit1(s, ni, "Add", (int[]){y, b}, 2, n_fused > 1 ? -1 : 0, NULL, &y));
    }
    if (n_fused > 1) EAI_TRY(eai__tfjs_activation(s, ni, f1, y, NULL, 3, 0, &y));
    return eai__tfjs_set_port(s, ni, 0, y, NULL, EAI_F32);
}

/* TF's NHWC DepthToSpace order is ONNX's DCR mode (opset 11) on NCHW. */
static eai_status_t map_depth_space(tfj_t *s, int ni, const char *onnx)
{
    EAI_TRY(eai__tfjs_need_inputs(s, ni, 1, 1));
    int64_t bs;
    char fmt[16];
    EAI_TRY(eai__tfjs_attr_int(s, ni, "block_size", 0, &bs));
    EAI_TRY(eai__tfjs_attr_str(s, ni, "data_format", "NHWC", fmt, sizeof fmt));
    if (strcmp(fmt, "NHWC") != 0 || bs < 2)
        return eai__tfjs_fail(s, ni, EAI_E_UNSUPPORTED, "needs NHWC and block_size >= 2");
    int x, y;
    EAI_TRY(eai__tfjs_in_value(s, ni, 0, &eai__perm_nchw, &x));
    EAI_TRY(eai__tfjs_emit1(s, ni, onnx, &x, 1, 0, &eai__perm_nchw, &y));
    EAI_TRY(eai__tfjs_set_int(s, "blocksize", bs));
    if (strcmp(onnx, "DepthToSpace") == 0) EAI_TRY(eai__tfjs_set_str(s, "mode", "DCR"));
    return eai__tfjs_set_port(s, ni, 0, y, &eai__perm_nchw, eai__tfjs_out_dt(s, ni));
}

const tfj_map_t eai__tfjs_nn_ops[] = {
    {"Conv2D", map_conv, NULL},
    {"_FusedConv2D", map_conv, NULL},
    {"DepthwiseConv2dNative", map_conv, NULL},
    {"DepthwiseConv2d", map_conv, NULL},
    {"FusedDepthwiseConv2dNative", map_conv, NULL},
    {"MaxPool", map_pool, "MaxPool"},
    {"AvgPool", map_pool, "AveragePool"},
    {"ResizeBilinear", map_resize, "linear"},
    {"ResizeNearestNeighbor", map_resize, "nearest"},
    {"Pad", map_pad, NULL},
    {"PadV2", map_pad, NULL},
    {"MirrorPad", map_pad, NULL},
    {"ConcatV2", map_concat, NULL},
    {"Concat", map_concat, NULL},
    {"Mean", map_reduce, "ReduceMean"},
    {"Sum", map_reduce, "ReduceSum"},
    {"Max", map_reduce, "ReduceMax"},
    {"Min", map_reduce, "ReduceMin"},
    {"Prod", map_reduce, "ReduceProd"},
    {"ArgMax", map_reduce, "ArgMax"},
    {"ArgMin", map_reduce, "ArgMin"},
    {"Transpose", map_transpose, NULL},
    {"Split", map_split, NULL},
    {"SplitV", map_split, NULL},
    {"Softmax", map_last_axis, "Softmax"},
    {"LogSoftmax", map_last_axis, "LogSoftmax"},
    {"TopKV2", map_last_axis, "TopK"},
    {"FusedBatchNorm", map_batchnorm, NULL},
    {"FusedBatchNormV3", map_batchnorm, NULL},
    {"MatMul", map_matmul, NULL},
    {"_FusedMatMul", map_matmul, NULL},
    {"BatchMatMul", map_matmul, NULL},
    {"BatchMatMulV2", map_matmul, NULL},
    {"DepthToSpace", map_depth_space, "DepthToSpace"},
    {"SpaceToDepth", map_depth_space, "SpaceToDepth"},
    {NULL, NULL, NULL},
};
