/* XNNPACK family 'copy': the layout pass's ToNHWC / ToNCHW (edgeai's own
 * blocked transpose on XNNPACK's pthreadpool), Concat and Split of 4-byte elements as strided row
 * copies (one copy_nc_x32 per input or output: rows = the product of the
 * dims before the axis, row length = the product from the axis on), and
 * Resize in bilinear mode on the middle axes of a rank-4 tensor (NHWC, as
 * the layout pass leaves it); nearest mode is nearest.c's gather.
 *
 * Resize coordinate modes map onto XNNPACK's flags: half_pixel (and
 * pytorch_half_pixel with outputs > 1) is XNNPACK's default, align_corners
 * XNN_FLAG_ALIGN_CORNERS, asymmetric XNN_FLAG_TENSORFLOW_LEGACY_MODE.
 * XNNPACK uses in/out as the scale, ONNX the given scale: only exact
 * scales (out == in * scale) are taken.
 */
#include "runtime/xnnpack/xnn_impl.h"

static bool x32(eai_dtype_t t)
{
    return eai_dtype_size(t) == 4;
}

static int norm_axis(const eai__opctx_t *c, int rank, int64_t def)
{
    const eai__attr_t *a = eai__node_attr(c->node, "axis");
    int64_t axis = a && a->type == EAI__A_INT ? a->i : def;
    if (axis < 0) axis += rank;
    return axis < 0 || axis >= rank ? -1 : (int)axis;
}

static int64_t prod(const eai__shape_t *s, int from, int to)
{
    int64_t p = 1;
    for (int i = from; i < to; i++)
        p *= s->d[i];
    return p;
}

/* ---- Concat ---- */

static bool concat_supports(const eai__opctx_t *c)
{
    const eai__shape_t *y = &c->out[0].shape;
    if (!x32(c->out[0].dtype) || y->rank < 1 || norm_axis(c, y->rank, 0) < 0) return false;
    for (int i = 0; i < c->n_in; i++)
        if (!eai__has_in(c, i) || !x32(c->in[i].dtype) || eai__shape_numel(&c->in[i].shape) == 0)
            return false;
    return eai__shape_numel(y) > 0;
}

static eai_status_t concat_prepare(eai__opctx_t *c, eai__xnn_node_t *st)
{
    const eai__shape_t *y = &c->out[0].shape;
    const int axis = norm_axis(c, y->rank, 0);
    const size_t rows = (size_t)prod(y, 0, axis), out_row = (size_t)prod(y, axis, y->rank);
    size_t off = 0;
    for (int i = 0; i < c->n_in; i++) {
        const size_t row = (size_t)prod(&c->in[i].shape, axis, y->rank);
        xnn_operator_t op = NULL;
        enum xnn_status s = xnn_create_copy_nc_x32(row, row, out_row, EAI__XNN_FLAGS, &op);
        EAI_TRY(eai__xnn_push(c, st, s, op, "create copy"));
        s = xnn_setup_copy_nc_x32(op, rows, c->in[i].data, (uint32_t *)c->out[0].data + off,
                                  st->tp);
        EAI_TRY(eai__xnn_check(c, s, "setup copy"));
        off += row;
    }
    return EAI_OK;
}

/* ---- Split ---- */

static bool split_supports(const eai__opctx_t *c)
{
    const eai__shape_t *x = &c->in[0].shape;
    if (!x32(c->in[0].dtype) || x->rank < 1 || norm_axis(c, x->rank, 0) < 0) return false;
    for (int k = 0; k < c->n_out; k++)
        if (!eai__has_out(c, k) || eai__shape_numel(&c->out[k].shape) == 0) return false;
    return true;
}

static eai_status_t split_prepare(eai__opctx_t *c, eai__xnn_node_t *st)
{
    const eai__shape_t *x = &c->in[0].shape;
    const int axis = norm_axis(c, x->rank, 0);
    const size_t rows = (size_t)prod(x, 0, axis), in_row = (size_t)prod(x, axis, x->rank);
    size_t off = 0;
    for (int k = 0; k < c->n_out; k++) {
        const size_t row = (size_t)prod(&c->out[k].shape, axis, x->rank);
        xnn_operator_t op = NULL;
        enum xnn_status s = xnn_create_copy_nc_x32(row, in_row, row, EAI__XNN_FLAGS, &op);
        EAI_TRY(eai__xnn_push(c, st, s, op, "create copy"));
        s = xnn_setup_copy_nc_x32(op, rows, (const uint32_t *)c->in[0].data + off, c->out[k].data,
                                  st->tp);
        EAI_TRY(eai__xnn_check(c, s, "setup copy"));
        off += row;
    }
    return EAI_OK;
}

/* ---- Resize (bilinear, NHWC) ---- */

static bool resize_flags(const eai__opctx_t *c, uint32_t *flags)
{
    const eai__attr_t *a = eai__node_attr(c->node, "mode");
    if (!a || a->type != EAI__A_STRING || strcmp(a->s, "linear") != 0) return false;
    if (eai__node_attr(c->node, "axes")) return false;
    const eai__attr_t *aa = eai__node_attr(c->node, "antialias");
    if (aa && (aa->type != EAI__A_INT || aa->i != 0)) return false;
    const eai__attr_t *kp = eai__node_attr(c->node, "keep_aspect_ratio_policy");
    if (kp && (kp->type != EAI__A_STRING || strcmp(kp->s, "stretch") != 0)) return false;
    const eai__shape_t *y = &c->out[0].shape;
    *flags = 0;
    if (c->opset < 11) {
        *flags = XNN_FLAG_TENSORFLOW_LEGACY_MODE; /* Resize-10: asymmetric */
        return true;
    }
    const eai__attr_t *ct = eai__node_attr(c->node, "coordinate_transformation_mode");
    const char *m = ct && ct->type == EAI__A_STRING ? ct->s : "half_pixel";
    if (strcmp(m, "half_pixel") == 0) return true;
    if (strcmp(m, "pytorch_half_pixel") == 0) return y->d[1] > 1 && y->d[2] > 1;
    if (strcmp(m, "align_corners") == 0) {
        *flags = XNN_FLAG_ALIGN_CORNERS;
        return true;
    }
    if (strcmp(m, "asymmetric") == 0) {
        *flags = XNN_FLAG_TENSORFLOW_LEGACY_MODE;
        return true;
    }
    return false;
}

static bool resize_supports(const eai__opctx_t *c)
{
    if (strcmp(c->node->op, "Resize") != 0 || c->opset < 10) return false;
    const eai__shape_t *x = &c->in[0].shape, *y = &c->out[0].shape;
    if (c->in[0].dtype != EAI_F32 || x->rank != 4 || eai__shape_numel(x) == 0 ||
        eai__shape_numel(y) == 0)
        return false;
    if (x->d[0] != y->d[0] || x->d[3] != y->d[3]) return false;
    uint32_t flags;
    if (!resize_flags(c, &flags)) return false;
    /* scales, when given, must be exactly out / in on the resized axes */
    const int si = c->opset < 11 ? 1 : 2;
    if (eai__has_in(c, si) && eai__shape_numel(&c->in[si].shape) > 0) {
        if (c->in[si].dtype != EAI_F32 || eai__shape_numel(&c->in[si].shape) != 4 ||
            !c->in[si].data)
            return false;
        const float *s = c->in[si].data;
        for (int i = 0; i < 4; i++)
            if ((double)x->d[i] * (double)s[i] != (double)y->d[i]) return false;
    }
    return x->d[1] < (1 << 24) && x->d[2] < (1 << 24) && y->d[1] < (1 << 24) && y->d[2] < (1 << 24);
}

static eai_status_t resize_prepare(eai__opctx_t *c, eai__xnn_node_t *st)
{
    const eai__shape_t *x = &c->in[0].shape, *y = &c->out[0].shape;
    uint32_t flags = 0;
    resize_flags(c, &flags);
    const size_t ch = (size_t)x->d[3];
    xnn_operator_t op = NULL;
    enum xnn_status s =
        xnn_create_resize_bilinear2d_nhwc_f32(ch, ch, ch, flags | EAI__XNN_FLAGS, &op);
    EAI_TRY(eai__xnn_push(c, st, s, op, "create resize"));
    s = xnn_setup_resize_bilinear2d_nhwc_f32(op, (size_t)x->d[0], (size_t)x->d[1], (size_t)x->d[2],
                                             (size_t)y->d[1], (size_t)y->d[2], c->in[0].data,
                                             c->out[0].data, st->tp);
    return eai__xnn_check(c, s, "setup resize");
}

/* ---- ToNHWC / ToNCHW: the layout pass's border transposes, on the same
 * pthreadpool as the rest of the graph (edgeai's blocked kernel, nhwc.c) ---- */

static bool relayout_supports(const eai__opctx_t *c)
{
    return c->in[0].shape.rank == 4 && eai_dtype_size(c->in[0].dtype) > 0;
}

typedef struct relayout {
    eai__nhwc_tr_t tr;
    int64_t n_blocks;
} relayout_t;

static void relayout_blocks(void *ctx, size_t begin, size_t count)
{
    const relayout_t *r = ctx;
    eai__nhwc_tr_run(&r->tr, (int64_t)begin, (int64_t)(begin + count));
}

static void relayout_step(const void *arg, pthreadpool_t tp)
{
    const relayout_t *r = arg;
    pthreadpool_parallelize_1d_tile_1d(tp, relayout_blocks, (void *)r, (size_t)r->n_blocks, 1,
                                       EAI__XNN_PT_FLAGS);
}

static eai_status_t relayout_prepare(eai__opctx_t *c, eai__xnn_node_t *st)
{
    const eai__shape_t *x = &c->in[0].shape;
    const bool to_nhwc = strcmp(c->node->op, "ToNHWC") == 0;
    relayout_t r;
    r.n_blocks = eai__nhwc_tr_plan(
        &r.tr, c->out[0].data, c->in[0].data, x->d[0], to_nhwc ? x->d[1] : x->d[1] * x->d[2],
        to_nhwc ? x->d[2] * x->d[3] : x->d[3], eai_dtype_size(c->in[0].dtype));
    void *arg;
    EAI_TRY(eai__xnn_buffer(c, st, sizeof r, &r, &arg));
    return eai__xnn_push_fn(c, st, relayout_step, arg);
}

const eai__xnn_op_t eai__xnn_ops_copy[] = {
    {EAI__NHWC_DOMAIN, "ToNHWC", relayout_supports, relayout_prepare, NULL},
    {EAI__NHWC_DOMAIN, "ToNCHW", relayout_supports, relayout_prepare, NULL},
    {"", "Concat", concat_supports, concat_prepare, NULL},
    {"", "Split", split_supports, split_prepare, NULL},
    {"", "Resize", resize_supports, resize_prepare, NULL},
    {"", "Resize", eai__xnn_nearest_supports, eai__xnn_nearest_prepare, NULL},
    {"", "Upsample", eai__xnn_nearest_supports, eai__xnn_nearest_prepare, NULL},
    {0},
};
