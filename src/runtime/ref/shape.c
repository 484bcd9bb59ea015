/* Op family 'shape' (ref backend): ops that change only a tensor's shape or
 * read it, Reshape, Flatten, Squeeze, Unsqueeze, Shape, Size, Identity,
 * Dropout (inference), plus the broadcasting copies Expand and Tile. They run
 * during constant folding of PyTorch's shape sub-graphs (Shape -> Gather ->
 * Unsqueeze -> Concat -> Reshape), so every dtype with a size works, int64
 * included.
 */
#include <assert.h>
#include <stdio.h>

#include "runtime/ref/layout_impl.h"

static eai_status_t check_sized(const eai__opctx_t *c, int i)
{
    if (eai_dtype_size(c->in[i].dtype) == 0)
        return eai__op_fail(c, EAI_E_UNSUPPORTED, "input %d has dtype %s, which is not supported",
                            i, eai_dtype_name(c->in[i].dtype));
    return EAI_OK;
}

/* Output 0 gets input 0's bytes (a no-op when the planner aliased them). */
static eai_status_t copy_eval(eai__opctx_t *c)
{
    const size_t n = (size_t)eai__shape_numel(&c->in[0].shape) * eai_dtype_size(c->in[0].dtype);
    if (n > 0 && c->out[0].data != c->in[0].data) memcpy(c->out[0].data, c->in[0].data, n);
    return EAI_OK;
}

/* "[2, 3, -1]" for messages. */
static const char *shape_str(const int64_t *d, int n, char *buf, size_t cap)
{
    size_t k = 0;
    k += (size_t)snprintf(buf + k, cap - k, "[");
    for (int i = 0; i < n && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, i ? ", %lld" : "%lld", (long long)d[i]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
    return buf;
}

/* ---- Reshape (shape: attribute before opset 5, constant input from 5;
 * 0 copies the input dim unless allowzero = 1, opset 14; one -1 inferred) ---- */

static eai_status_t reshape_infer(eai__opctx_t *c)
{
    const eai__shape_t *is = &c->in[0].shape;
    EAI_TRY(check_sized(c, 0));
    int64_t shape[EAI_MAX_RANK];
    int n;
    if (c->opset < 5) {
        EAI_TRY(eai__op_ints(c, "shape", shape, EAI_MAX_RANK, &n));
        if (n < 0) return eai__op_fail(c, EAI_E_FORMAT, "attribute 'shape' is required");
    } else {
        if (!eai__has_in(c, 1)) return eai__op_fail(c, EAI_E_FORMAT, "input 'shape' is required");
        EAI_TRY(eai__op_const_ints(c, 1, shape, EAI_MAX_RANK, &n));
    }
    int64_t allowzero = 0;
    if (c->opset >= 14) EAI_TRY(eai__op_int(c, "allowzero", 0, &allowzero));
    char b1[160], b2[160];
    eai__shape_t out = {.rank = n};
    int infer_at = -1;
    int64_t known = 1;
    for (int i = 0; i < n; i++) {
        int64_t d = shape[i];
        if (d == 0 && !allowzero) {
            if (i >= is->rank)
                return eai__op_fail(c, EAI_E_INVALID,
                                    "shape %s copies dim %d but the input %s has rank %d",
                                    shape_str(shape, n, b1, sizeof b1), i,
                                    shape_str(is->d, is->rank, b2, sizeof b2), is->rank);
            d = is->d[i];
        }
        if (d == -1) {
            if (infer_at >= 0)
                return eai__op_fail(c, EAI_E_INVALID, "shape %s has more than one -1",
                                    shape_str(shape, n, b1, sizeof b1));
            infer_at = i;
            continue;
        }
        if (d < 0)
            return eai__op_fail(c, EAI_E_INVALID, "shape %s has the negative dim %lld",
                                shape_str(shape, n, b1, sizeof b1), (long long)d);
        out.d[i] = d;
        if (!eai__mul_ok(known, d, &known))
            return eai__op_fail(c, EAI_E_INVALID, "shape %s overflows",
                                shape_str(shape, n, b1, sizeof b1));
    }
    const int64_t numel = eai__shape_numel(is);
    if (infer_at >= 0) {
        if (allowzero && known == 0)
            return eai__op_fail(c, EAI_E_INVALID, "shape %s has both 0 and -1 with allowzero",
                                shape_str(shape, n, b1, sizeof b1));
        if (known == 0 || numel % known != 0)
            return eai__op_fail(c, EAI_E_INVALID,
                                "cannot reshape %lld elements %s into %s: %lld is not a multiple "
                                "of %lld",
                                (long long)numel, shape_str(is->d, is->rank, b2, sizeof b2),
                                shape_str(shape, n, b1, sizeof b1), (long long)numel,
                                (long long)known);
        out.d[infer_at] = numel / known;
        known = numel;
    }
    if (known != numel)
        return eai__op_fail(c, EAI_E_INVALID,
                            "cannot reshape %lld elements %s into %s (%lld elements)",
                            (long long)numel, shape_str(is->d, is->rank, b2, sizeof b2),
                            shape_str(shape, n, b1, sizeof b1), (long long)known);
    c->out[0].dtype = c->in[0].dtype;
    c->out[0].shape = out;
    return EAI_OK;
}

/* ---- Flatten (axis in [-r, r], default 1) ---- */

static eai_status_t flatten_infer(eai__opctx_t *c)
{
    const eai__shape_t *is = &c->in[0].shape;
    EAI_TRY(check_sized(c, 0));
    int64_t axis;
    EAI_TRY(eai__op_int(c, "axis", 1, &axis));
    if (axis < -is->rank || axis > is->rank)
        return eai__op_fail(c, EAI_E_INVALID, "axis %lld is out of range [%d, %d]", (long long)axis,
                            -is->rank, is->rank);
    if (axis < 0) axis += is->rank;
    int64_t a = 1, b = 1;
    for (int k = 0; k < is->rank; k++)
        *(k < axis ? &a : &b) *= is->d[k];
    c->out[0].dtype = c->in[0].dtype;
    c->out[0].shape = (eai__shape_t){.rank = 2, .d = {a, b}};
    return EAI_OK;
}

/* ---- Squeeze / Unsqueeze (axes: attribute before opset 13, input from 13) ---- */

static eai_status_t read_axes(eai__opctx_t *c, int64_t *axes, int *n)
{
    *n = -1;
    if (c->opset < 13) return eai__op_ints(c, "axes", axes, EAI_MAX_RANK, n);
    if (eai__has_in(c, 1)) return eai__op_const_ints(c, 1, axes, EAI_MAX_RANK, n);
    return EAI_OK;
}

static eai_status_t squeeze_infer(eai__opctx_t *c)
{
    const eai__shape_t *is = &c->in[0].shape;
    EAI_TRY(check_sized(c, 0));
    int64_t axes[EAI_MAX_RANK];
    int n;
    EAI_TRY(read_axes(c, axes, &n));
    bool drop[EAI_MAX_RANK] = {0};
    if (n < 0) { /* no axes: every 1-dim goes */
        for (int k = 0; k < is->rank; k++)
            drop[k] = is->d[k] == 1;
    }
    for (int i = 0; i < n; i++) {
        int ax;
        EAI_TRY(eai__op_axis(c, axes[i], is->rank, &ax));
        if (is->d[ax] != 1)
            return eai__op_fail(c, EAI_E_INVALID, "cannot squeeze axis %d of size %lld", ax,
                                (long long)is->d[ax]);
        drop[ax] = true;
    }
    eai__shape_t out = {0};
    for (int k = 0; k < is->rank; k++)
        if (!drop[k]) out.d[out.rank++] = is->d[k];
    c->out[0].dtype = c->in[0].dtype;
    c->out[0].shape = out;
    return EAI_OK;
}

static eai_status_t unsqueeze_infer(eai__opctx_t *c)
{
    const eai__shape_t *is = &c->in[0].shape;
    EAI_TRY(check_sized(c, 0));
    int64_t axes[EAI_MAX_RANK];
    int n;
    EAI_TRY(read_axes(c, axes, &n));
    if (n < 0) return eai__op_fail(c, EAI_E_FORMAT, "axes are required");
    const int r = is->rank + n;
    if (r > EAI_MAX_RANK)
        return eai__op_fail(c, EAI_E_UNSUPPORTED, "output rank %d exceeds %d", r, EAI_MAX_RANK);
    bool ins[EAI_MAX_RANK] = {0};
    for (int i = 0; i < n; i++) {
        int ax; /* axes index the output (ONNX Unsqueeze-13) */
        EAI_TRY(eai__op_axis(c, axes[i], r, &ax));
        if (ins[ax]) return eai__op_fail(c, EAI_E_INVALID, "axis %d is repeated", ax);
        ins[ax] = true;
    }
    eai__shape_t out = {.rank = r};
    for (int k = 0, j = 0; k < r; k++)
        out.d[k] = ins[k] ? 1 : is->d[j++];
    c->out[0].dtype = c->in[0].dtype;
    c->out[0].shape = out;
    return EAI_OK;
}

/* ---- Shape (start/end from opset 15, clamped), Size ---- */

typedef struct shape_params {
    int start;
} shape_params_t;
static_assert(sizeof(shape_params_t) <= EAI__PARAMS_BYTES, "params");

static eai_status_t shape_infer(eai__opctx_t *c)
{
    shape_params_t *p = c->params;
    const int r = c->in[0].shape.rank;
    int64_t start = 0, end = r;
    if (c->opset >= 15) {
        EAI_TRY(eai__op_int(c, "start", 0, &start));
        EAI_TRY(eai__op_int(c, "end", r, &end));
    }
    if (start < 0) start += r;
    if (end < 0) end += r;
    start = start < 0 ? 0 : (start > r ? r : start);
    end = end < 0 ? 0 : (end > r ? r : end);
    p->start = (int)start;
    c->out[0].dtype = EAI_I64;
    c->out[0].shape = (eai__shape_t){.rank = 1, .d = {end > start ? end - start : 0}};
    return EAI_OK;
}

static eai_status_t shape_eval(eai__opctx_t *c)
{
    const shape_params_t *p = c->params;
    int64_t *out = c->out[0].data;
    for (int64_t i = 0; i < c->out[0].shape.d[0]; i++)
        out[i] = c->in[0].shape.d[p->start + i];
    return EAI_OK;
}

static eai_status_t size_infer(eai__opctx_t *c)
{
    c->out[0].dtype = EAI_I64;
    c->out[0].shape = (eai__shape_t){0};
    return EAI_OK;
}

static eai_status_t size_eval(eai__opctx_t *c)
{
    *(int64_t *)c->out[0].data = eai__shape_numel(&c->in[0].shape);
    return EAI_OK;
}

/* ---- Identity, Dropout (inference only: output = input, mask all true) ---- */

static eai_status_t identity_infer(eai__opctx_t *c)
{
    EAI_TRY(check_sized(c, 0));
    c->out[0].dtype = c->in[0].dtype;
    c->out[0].shape = c->in[0].shape;
    return EAI_OK;
}

static eai_status_t dropout_infer(eai__opctx_t *c)
{
    EAI_TRY(identity_infer(c));
    /* training_mode (Dropout-12 input 2) would drop at random: only a
     * constant false, or a ratio of 0, keeps the output equal to the input */
    if (eai__has_in(c, 2)) {
        if (!c->in[2].data)
            return eai__op_fail(c, EAI_E_UNSUPPORTED, "training_mode must be constant");
        if (eai__layout_get_i64(c->in[2].dtype, c->in[2].data, 0) != 0) {
            double ratio = 0.5;
            if (eai__has_in(c, 1)) {
                if (!c->in[1].data || !eai__layout_is_float(c->in[1].dtype))
                    return eai__op_fail(c, EAI_E_UNSUPPORTED,
                                        "training mode needs a constant float ratio");
                ratio = eai__layout_get_f64(c->in[1].dtype, c->in[1].data, 0);
            }
            if (ratio != 0.0)
                return eai__op_fail(c, EAI_E_UNSUPPORTED,
                                    "training_mode = true (random dropout, ratio %g) is not "
                                    "supported; export the model in eval mode",
                                    ratio);
        }
    }
    if (c->n_out > 1) {
        /* the mask is bool from Dropout-10, of the input's type before (infer
         * sees every output as undefined, so the count decides) */
        c->out[1].dtype = c->opset >= 10 ? EAI_BOOL : c->in[0].dtype;
        c->out[1].shape = c->in[0].shape;
    }
    return EAI_OK;
}

static eai_status_t dropout_eval(eai__opctx_t *c)
{
    EAI_TRY(copy_eval(c));
    if (eai__has_out(c, 1)) {
        const eai_dtype_t dt = c->out[1].dtype;
        uint8_t one[16];
        eai__layout_put_f64(dt, one, 1.0);
        eai__layout_fill(c->out[1].data, eai__shape_numel(&c->out[1].shape), one,
                         eai_dtype_size(dt));
    }
    return EAI_OK;
}

/* ---- Expand (bidirectional broadcast with the shape input) and Tile ---- */

static eai_status_t expand_infer(eai__opctx_t *c)
{
    EAI_TRY(check_sized(c, 0));
    eai__shape_t target = {0};
    EAI_TRY(eai__op_const_ints(c, 1, target.d, EAI_MAX_RANK, &target.rank));
    for (int k = 0; k < target.rank; k++)
        if (target.d[k] < 0)
            return eai__op_fail(c, EAI_E_INVALID, "shape[%d] = %lld is negative", k,
                                (long long)target.d[k]);
    EAI_TRY(eai__op_broadcast(c, &c->in[0].shape, &target, &c->out[0].shape));
    c->out[0].dtype = c->in[0].dtype;
    return EAI_OK;
}

static eai_status_t expand_eval(eai__opctx_t *c)
{
    const eai__shape_t *os = &c->out[0].shape;
    const size_t es = eai_dtype_size(c->in[0].dtype);
    int64_t sst[EAI_MAX_RANK], dst[EAI_MAX_RANK];
    eai__bcast_strides(&c->in[0].shape, os, sst);
    for (int k = 0; k < os->rank; k++)
        sst[k] *= (int64_t)es;
    eai__layout_byte_strides(os, es, dst);
    if (eai__shape_numel(os) > 0)
        eai__layout_copy_nd(c->out[0].data, dst, c->in[0].data, sst, os->rank, os->d, es);
    return EAI_OK;
}

static eai_status_t tile_infer(eai__opctx_t *c)
{
    EAI_TRY(check_sized(c, 0));
    const eai__shape_t *is = &c->in[0].shape;
    int64_t rep[EAI_MAX_RANK];
    int n;
    EAI_TRY(eai__op_const_ints(c, 1, rep, EAI_MAX_RANK, &n));
    if (n != is->rank)
        return eai__op_fail(c, EAI_E_INVALID, "repeats has %d values for an input of rank %d", n,
                            is->rank);
    c->out[0].shape = *is;
    for (int k = 0; k < n; k++) {
        if (rep[k] < 0)
            return eai__op_fail(c, EAI_E_INVALID, "repeats[%d] = %lld is negative", k,
                                (long long)rep[k]);
        if (!eai__mul_ok(is->d[k], rep[k], &c->out[0].shape.d[k]))
            return eai__op_fail(c, EAI_E_INVALID, "output dim %d overflows", k);
    }
    c->out[0].dtype = c->in[0].dtype;
    return EAI_OK;
}

static eai_status_t tile_eval(eai__opctx_t *c)
{
    const eai__shape_t *is = &c->in[0].shape, *os = &c->out[0].shape;
    const size_t es = eai_dtype_size(c->in[0].dtype);
    if (eai__shape_numel(os) == 0) return EAI_OK;
    /* output axis k seen as (repeat, dim): the repeat axis has source stride 0 */
    int64_t ist[EAI_MAX_RANK], ost[EAI_MAX_RANK];
    int64_t dims[EAI__LAYOUT_MAX_RANK], dst[EAI__LAYOUT_MAX_RANK], sst[EAI__LAYOUT_MAX_RANK];
    eai__layout_byte_strides(is, es, ist);
    eai__layout_byte_strides(os, es, ost);
    for (int k = 0; k < is->rank; k++) {
        dims[2 * k] = os->d[k] / is->d[k];
        dims[2 * k + 1] = is->d[k];
        dst[2 * k] = ost[k] * is->d[k];
        dst[2 * k + 1] = ost[k];
        sst[2 * k] = 0;
        sst[2 * k + 1] = ist[k];
    }
    eai__layout_copy_nd(c->out[0].data, dst, c->in[0].data, sst, 2 * is->rank, dims, es);
    return EAI_OK;
}

const eai__op_def_t eai__ref_ops_shape[] = {
    {"Reshape", 0, 1, 2, 1, 1, reshape_infer, copy_eval},
    {"Flatten", 0, 1, 1, 1, 1, flatten_infer, copy_eval},
    {"Squeeze", 0, 1, 2, 1, 1, squeeze_infer, copy_eval},
    {"Unsqueeze", 0, 1, 2, 1, 1, unsqueeze_infer, copy_eval},
    {"Shape", EAI__OP_SHAPE_ONLY, 1, 1, 1, 1, shape_infer, shape_eval},
    {"Size", EAI__OP_SHAPE_ONLY, 1, 1, 1, 1, size_infer, size_eval},
    {"Identity", 0, 1, 1, 1, 1, identity_infer, copy_eval},
    {"Dropout", 0, 1, 3, 1, 2, dropout_infer, dropout_eval},
    {"Expand", 0, 2, 2, 1, 1, expand_infer, expand_eval},
    {"Tile", 0, 2, 2, 1, 1, tile_infer, tile_eval},
    {0},
};
