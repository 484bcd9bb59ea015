/* Op family 'layout' (ref backend): ops that move bytes without arithmetic,
 * Concat, Split, Slice, Gather, GatherElements, Transpose, Pad (Expand and
 * Tile, which also use the strided copy, live in shape.c).
 * They are dtype-generic (any dtype with a size) and most reduce to one N-d
 * strided copy, eai__layout_copy_nd(), which merges contiguous runs first.
 */
#include <assert.h>
#include <stdlib.h>

#include "runtime/ref/layout_impl.h"

/* ---- shared helpers ---- */

static eai_status_t check_sized(const eai__opctx_t *c, int i)
{
    if (eai_dtype_size(c->in[i].dtype) == 0)
        return eai__op_fail(c, EAI_E_UNSUPPORTED, "input %d has dtype %s, which is not supported",
                            i, eai_dtype_name(c->in[i].dtype));
    return EAI_OK;
}

static int64_t prod(const int64_t *d, int from, int to)
{
    int64_t n = 1;
    for (int i = from; i < to; i++)
        n *= d[i];
    return n;
}

void eai__layout_fill(void *dst, int64_t n, const void *val, size_t es)
{
    switch (es) {
    case 1:
        memset(dst, *(const uint8_t *)val, (size_t)n);
        break;
#define FILL(T)                                                                                    \
    {                                                                                              \
        T v, *d = dst;                                                                             \
        memcpy(&v, val, sizeof v);                                                                 \
        for (int64_t i = 0; i < n; i++)                                                            \
            d[i] = v;                                                                              \
    }                                                                                              \
    break;
    case 2:
        FILL(uint16_t)
    case 4:
        FILL(uint32_t)
    case 8:
        FILL(uint64_t)
#undef FILL
    default:
        for (int64_t i = 0; i < n; i++)
            memcpy((uint8_t *)dst + i * (int64_t)es, val, es);
    }
}

/* One innermost run of the strided copy. */
static void copy_row(uint8_t *d, int64_t ds, const uint8_t *s, int64_t ss, int64_t n, size_t es)
{
    const int64_t e = (int64_t)es;
    if (ds == e && ss == e) {
        memcpy(d, s, (size_t)(n * e));
        return;
    }
    if (ds == e && ss == 0) {
        eai__layout_fill(d, n, s, es);
        return;
    }
#define ROW(T)                                                                                     \
    {                                                                                              \
        T *dp = (T *)(void *)d;                                                                    \
        const T *sp = (const T *)(const void *)s;                                                  \
        const int64_t di = ds / e, si = ss / e;                                                    \
        for (int64_t i = 0; i < n; i++)                                                            \
            dp[i * di] = sp[i * si];                                                               \
    }                                                                                              \
    break;
    switch (es) {
    case 1:
        ROW(uint8_t)
    case 2:
        ROW(uint16_t)
    case 4:
        ROW(uint32_t)
    case 8:
        ROW(uint64_t)
    default:
        for (int64_t i = 0; i < n; i++)
            memcpy(d + i * ds, s + i * ss, es);
    }
#undef ROW
}

void eai__layout_copy_nd(void *dst, const int64_t *dst_strides, const void *src,
                         const int64_t *src_strides, int rank, const int64_t *dims, size_t es)
{
    int64_t d[EAI__LAYOUT_MAX_RANK], ds[EAI__LAYOUT_MAX_RANK], ss[EAI__LAYOUT_MAX_RANK];
    int r = 0;
    for (int i = 0; i < rank; i++) {
        if (dims[i] == 0) return;
        if (dims[i] == 1) continue;
        if (r > 0 && ds[r - 1] == dst_strides[i] * dims[i] &&
            ss[r - 1] == src_strides[i] * dims[i]) {
            d[r - 1] *= dims[i];
            ds[r - 1] = dst_strides[i];
            ss[r - 1] = src_strides[i];
        } else {
            d[r] = dims[i];
            ds[r] = dst_strides[i];
            ss[r] = src_strides[i];
            r++;
        }
    }
    if (r == 0) {
        memcpy(dst, src, es);
        return;
    }
    int64_t idx[EAI__LAYOUT_MAX_RANK] = {0};
    uint8_t *dp = dst;
    const uint8_t *sp = src;
    for (;;) {
        copy_row(dp, ds[r - 1], sp, ss[r - 1], d[r - 1], es);
        int k = r - 2;
        for (; k >= 0; k--) {
            dp += ds[k];
            sp += ss[k];
            if (++idx[k] < d[k]) break;
            dp -= ds[k] * d[k];
            sp -= ss[k] * d[k];
            idx[k] = 0;
        }
        if (k < 0) return;
    }
}

typedef struct axis_params {
    int axis;
} axis_params_t;
static_assert(sizeof(axis_params_t) <= EAI__PARAMS_BYTES, "params");

/* ---- Concat (ONNX Concat-4..13: axis required; Concat-1 defaulted to 1) ---- */

static eai_status_t concat_infer(eai__opctx_t *c)
{
    axis_params_t *p = c->params;
    const eai__tview_t *a = &c->in[0];
    EAI_TRY(check_sized(c, 0));
    if (a->shape.rank < 1)
        return eai__op_fail(c, EAI_E_INVALID, "cannot concatenate scalars (input 0 has rank 0)");
    int64_t axis;
    if (c->opset >= 4 && !eai__node_attr(c->node, "axis"))
        return eai__op_fail(c, EAI_E_FORMAT, "attribute 'axis' is required");
    EAI_TRY(eai__op_int(c, "axis", 1, &axis));
    EAI_TRY(eai__op_axis(c, axis, a->shape.rank, &p->axis));
    eai__shape_t out = a->shape;
    out.d[p->axis] = 0;
    for (int i = 0; i < c->n_in; i++) {
        const eai__tview_t *b = &c->in[i];
        if (b->dtype != a->dtype)
            return eai__op_fail(c, EAI_E_INVALID, "input %d has dtype %s, input 0 has %s", i,
                                eai_dtype_name(b->dtype), eai_dtype_name(a->dtype));
        if (b->shape.rank != a->shape.rank)
            return eai__op_fail(c, EAI_E_INVALID, "input %d has rank %d, input 0 has rank %d", i,
                                b->shape.rank, a->shape.rank);
        for (int k = 0; k < a->shape.rank; k++)
            if (k != p->axis && b->shape.d[k] != a->shape.d[k])
                return eai__op_fail(c, EAI_E_INVALID,
                                    "input %d has dim %lld on axis %d, input 0 has %lld", i,
                                    (long long)b->shape.d[k], k, (long long)a->shape.d[k]);
        out.d[p->axis] += b->shape.d[p->axis];
    }
    c->out[0].dtype = a->dtype;
    c->out[0].shape = out;
    return EAI_OK;
}

static eai_status_t concat_eval(eai__opctx_t *c)
{
    const axis_params_t *p = c->params;
    const eai__shape_t *os = &c->out[0].shape;
    const size_t es = eai_dtype_size(c->out[0].dtype);
    const int64_t outer = prod(os->d, 0, p->axis);
    const int64_t inner = prod(os->d, p->axis + 1, os->rank) * (int64_t)es;
    const int64_t orow = os->d[p->axis] * inner;
    uint8_t *out = c->out[0].data;
    int64_t off = 0;
    for (int i = 0; i < c->n_in; i++) {
        const int64_t row = c->in[i].shape.d[p->axis] * inner;
        const uint8_t *in = c->in[i].data;
        if (row > 0)
            for (int64_t o = 0; o < outer; o++)
                memcpy(out + o * orow + off, in + o * row, (size_t)row);
        off += row;
    }
    return EAI_OK;
}

/* ---- Split (split: attribute before opset 13, input from 13; num_outputs
 * attribute from opset 18, where the last chunk may be smaller) ---- */

#define SPLIT_MAX 256

static eai_status_t split_infer(eai__opctx_t *c)
{
    axis_params_t *p = c->params;
    const eai__tview_t *a = &c->in[0];
    EAI_TRY(check_sized(c, 0));
    int64_t axis;
    EAI_TRY(eai__op_int(c, "axis", 0, &axis));
    EAI_TRY(eai__op_axis(c, axis, a->shape.rank, &p->axis));
    const int64_t dim = a->shape.d[p->axis];
    if (c->n_out > SPLIT_MAX)
        return eai__op_fail(c, EAI_E_UNSUPPORTED, "%d outputs, at most %d supported", c->n_out,
                            SPLIT_MAX);
    int64_t split[SPLIT_MAX];
    int n = -1;
    if (c->opset >= 13) {
        if (eai__has_in(c, 1)) EAI_TRY(eai__op_const_ints(c, 1, split, SPLIT_MAX, &n));
    } else {
        EAI_TRY(eai__op_ints(c, "split", split, SPLIT_MAX, &n));
    }
    int64_t num_outputs = 0;
    if (c->opset >= 18) EAI_TRY(eai__op_int(c, "num_outputs", 0, &num_outputs));
    if (n >= 0 && num_outputs > 0)
        return eai__op_fail(c, EAI_E_INVALID, "both 'split' and 'num_outputs' are given");
    if (n >= 0) {
        if (n != c->n_out)
            return eai__op_fail(c, EAI_E_INVALID, "'split' has %d values for %d outputs", n,
                                c->n_out);
        int64_t sum = 0;
        for (int i = 0; i < n; i++) {
            if (split[i] < 0)
                return eai__op_fail(c, EAI_E_INVALID, "split[%d] = %lld is negative", i,
                                    (long long)split[i]);
            sum += split[i];
        }
        if (sum != dim)
            return eai__op_fail(c, EAI_E_INVALID,
                                "'split' sums to %lld but axis %d has %lld elements",
                                (long long)sum, p->axis, (long long)dim);
    } else if (num_outputs > 0) {
        if (num_outputs != c->n_out)
            return eai__op_fail(c, EAI_E_INVALID, "num_outputs = %lld but the node has %d outputs",
                                (long long)num_outputs, c->n_out);
        const int64_t chunk = (dim + num_outputs - 1) / num_outputs;
        for (int i = 0; i < c->n_out; i++) {
            int64_t left = dim - chunk * i;
            split[i] = left < 0 ? 0 : (left < chunk ? left : chunk);
        }
    } else {
        if (dim % c->n_out != 0)
            return eai__op_fail(c, EAI_E_INVALID,
                                "axis %d has %lld elements, not divisible into %d equal outputs",
                                p->axis, (long long)dim, c->n_out);
        for (int i = 0; i < c->n_out; i++)
            split[i] = dim / c->n_out;
    }
    for (int i = 0; i < c->n_out; i++) {
        c->out[i].dtype = a->dtype;
        c->out[i].shape = a->shape;
        c->out[i].shape.d[p->axis] = split[i];
    }
    return EAI_OK;
}

static eai_status_t split_eval(eai__opctx_t *c)
{
    const axis_params_t *p = c->params;
    const eai__shape_t *is = &c->in[0].shape;
    const size_t es = eai_dtype_size(c->in[0].dtype);
    const int64_t outer = prod(is->d, 0, p->axis);
    const int64_t inner = prod(is->d, p->axis + 1, is->rank) * (int64_t)es;
    const int64_t irow = is->d[p->axis] * inner;
    const uint8_t *in = c->in[0].data;
    int64_t off = 0;
    for (int i = 0; i < c->n_out; i++) {
        const int64_t row = c->out[i].shape.d[p->axis] * inner;
        uint8_t *out = c->out[i].data;
        if (row > 0 && out)
            for (int64_t o = 0; o < outer; o++)
                memcpy(out + o * row, in + o * irow + off, (size_t)row);
        off += row;
    }
    return EAI_OK;
}

/* ---- Slice (attributes before opset 10; inputs starts, ends, axes, steps
 * from 10). Starts/ends clamp as in numpy (ONNX Slice-13). ---- */

typedef struct slice_params {
    int64_t start[EAI_MAX_RANK], step[EAI_MAX_RANK];
} slice_params_t;
static_assert(sizeof(slice_params_t) <= EAI__PARAMS_BYTES, "params");

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

static eai_status_t slice_infer(eai__opctx_t *c)
{
    slice_params_t *p = c->params;
    const eai__tview_t *a = &c->in[0];
    const int r = a->shape.rank;
    EAI_TRY(check_sized(c, 0));
    int64_t starts[EAI_MAX_RANK], ends[EAI_MAX_RANK], axes[EAI_MAX_RANK], steps[EAI_MAX_RANK];
    int ns, ne, na = -1, nst = -1;
    if (c->opset < 10) {
        EAI_TRY(eai__op_ints(c, "starts", starts, EAI_MAX_RANK, &ns));
        EAI_TRY(eai__op_ints(c, "ends", ends, EAI_MAX_RANK, &ne));
        EAI_TRY(eai__op_ints(c, "axes", axes, EAI_MAX_RANK, &na));
        if (ns < 0 || ne < 0)
            return eai__op_fail(c, EAI_E_FORMAT, "attributes 'starts' and 'ends' are required");
    } else {
        if (!eai__has_in(c, 1) || !eai__has_in(c, 2))
            return eai__op_fail(c, EAI_E_FORMAT, "inputs 'starts' and 'ends' are required");
        EAI_TRY(eai__op_const_ints(c, 1, starts, EAI_MAX_RANK, &ns));
        EAI_TRY(eai__op_const_ints(c, 2, ends, EAI_MAX_RANK, &ne));
        if (eai__has_in(c, 3)) EAI_TRY(eai__op_const_ints(c, 3, axes, EAI_MAX_RANK, &na));
        if (eai__has_in(c, 4)) EAI_TRY(eai__op_const_ints(c, 4, steps, EAI_MAX_RANK, &nst));
    }
    if (ne != ns || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
        return eai__op_fail(c, EAI_E_INVALID,
                            "starts, ends, axes and steps have different lengths (%d, %d, %d, %d)",
                            ns, ne, na, nst);
    if (ns > r) return eai__op_fail(c, EAI_E_INVALID, "%d starts for an input of rank %d", ns, r);
    eai__shape_t out = a->shape;
    bool seen[EAI_MAX_RANK] = {0};
    for (int k = 0; k < r; k++) {
        p->start[k] = 0;
        p->step[k] = 1;
    }
    for (int i = 0; i < ns; i++) {
        int ax = i;
        if (na >= 0) EAI_TRY(eai__op_axis(c, axes[i], r, &ax));
        if (seen[ax]) return eai__op_fail(c, EAI_E_INVALID, "axis %d is sliced twice", ax);
        seen[ax] = true;
        const int64_t d = a->shape.d[ax], step = nst >= 0 ? steps[i] : 1;
        if (step == 0) return eai__op_fail(c, EAI_E_INVALID, "steps[%d] is 0", i);
        int64_t s = starts[i], e = ends[i], n;
        if (s < 0) s += d;
        if (e < 0) e += d;
        /* counts written as 1 + (span - 1) / |step| so INT64 extremes cannot overflow */
        if (d == 0) {
            n = 0;
        } else if (step > 0) {
            s = clamp64(s, 0, d);
            e = clamp64(e, 0, d);
            n = e > s ? 1 + (e - s - 1) / step : 0;
        } else {
            s = clamp64(s, 0, d - 1);
            e = clamp64(e, -1, d - 1);
            n = s > e ? 1 + (s - e - 1) / -(step < -INT64_MAX ? -INT64_MAX : step) : 0;
        }
        p->start[ax] = n > 0 ? s : 0;
        p->step[ax] = n > 1 ? step : 1;
        out.d[ax] = n;
    }
    c->out[0].dtype = a->dtype;
    c->out[0].shape = out;
    return EAI_OK;
}

static eai_status_t slice_eval(eai__opctx_t *c)
{
    const slice_params_t *p = c->params;
    const eai__shape_t *is = &c->in[0].shape, *os = &c->out[0].shape;
    const size_t es = eai_dtype_size(c->in[0].dtype);
    int64_t ist[EAI_MAX_RANK], ost[EAI_MAX_RANK], sst[EAI_MAX_RANK];
    eai__layout_byte_strides(is, es, ist);
    eai__layout_byte_strides(os, es, ost);
    int64_t off = 0;
    for (int k = 0; k < is->rank; k++) {
        off += p->start[k] * ist[k];
        sst[k] = p->step[k] * ist[k];
    }
    if (eai__shape_numel(os) > 0)
        eai__layout_copy_nd(c->out[0].data, ost, (const uint8_t *)c->in[0].data + off, sst,
                            os->rank, os->d, es);
    return EAI_OK;
}

/* ---- Gather / GatherElements: indices are data, so bounds are checked in
 * eval too (they may not be constant). Negative indices count from the end. */

static eai_status_t check_indices(const eai__opctx_t *c, const eai__tview_t *ix, int64_t dim)
{
    const int64_t n = eai__shape_numel(&ix->shape);
    for (int64_t i = 0; i < n; i++) {
        const int64_t v =
            ix->dtype == EAI_I64 ? ((const int64_t *)ix->data)[i] : ((const int32_t *)ix->data)[i];
        if (v < -dim || v >= dim)
            return eai__op_fail(c, EAI_E_INVALID, "index %lld out of range [-%lld, %lld)",
                                (long long)v, (long long)dim, (long long)dim);
    }
    return EAI_OK;
}

static inline int64_t index_at(const eai__tview_t *ix, int64_t i, int64_t dim)
{
    const int64_t v =
        ix->dtype == EAI_I64 ? ((const int64_t *)ix->data)[i] : ((const int32_t *)ix->data)[i];
    return v < 0 ? v + dim : v;
}

static eai_status_t gather_common(eai__opctx_t *c)
{
    static const eai_dtype_t idx_types[] = {EAI_I64, EAI_I32, 0};
    axis_params_t *p = c->params;
    EAI_TRY(check_sized(c, 0));
    EAI_TRY(eai__op_dtype(c, 1, idx_types));
    if (c->in[0].shape.rank < 1) return eai__op_fail(c, EAI_E_INVALID, "data must have rank >= 1");
    int64_t axis;
    EAI_TRY(eai__op_int(c, "axis", 0, &axis));
    EAI_TRY(eai__op_axis(c, axis, c->in[0].shape.rank, &p->axis));
    if (c->in[1].data) EAI_TRY(check_indices(c, &c->in[1], c->in[0].shape.d[p->axis]));
    return EAI_OK;
}

static eai_status_t gather_infer(eai__opctx_t *c)
{
    EAI_TRY(gather_common(c));
    const axis_params_t *p = c->params;
    const eai__shape_t *ds = &c->in[0].shape, *is = &c->in[1].shape;
    if (ds->rank - 1 + is->rank > EAI_MAX_RANK)
        return eai__op_fail(c, EAI_E_UNSUPPORTED, "output rank %d exceeds %d",
                            ds->rank - 1 + is->rank, EAI_MAX_RANK);
    eai__shape_t out = {0};
    for (int k = 0; k < p->axis; k++)
        out.d[out.rank++] = ds->d[k];
    for (int k = 0; k < is->rank; k++)
        out.d[out.rank++] = is->d[k];
    for (int k = p->axis + 1; k < ds->rank; k++)
        out.d[out.rank++] = ds->d[k];
    c->out[0].dtype = c->in[0].dtype;
    c->out[0].shape = out;
    return EAI_OK;
}

static eai_status_t gather_eval(eai__opctx_t *c)
{
    const axis_params_t *p = c->params;
    const eai__shape_t *ds = &c->in[0].shape;
    const size_t es = eai_dtype_size(c->in[0].dtype);
    const int64_t dim = ds->d[p->axis];
    EAI_TRY(check_indices(c, &c->in[1], dim));
    const int64_t outer = prod(ds->d, 0, p->axis);
    const int64_t inner = prod(ds->d, p->axis + 1, ds->rank) * (int64_t)es;
    const int64_t n = eai__shape_numel(&c->in[1].shape);
    const uint8_t *in = c->in[0].data;
    uint8_t *out = c->out[0].data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < n; j++) {
            memcpy(out, in + (o * dim + index_at(&c->in[1], j, dim)) * inner, (size_t)inner);
            out += inner;
        }
    return EAI_OK;
}

static eai_status_t gather_elements_infer(eai__opctx_t *c)
{
    EAI_TRY(gather_common(c));
    const axis_params_t *p = c->params;
    const eai__shape_t *ds = &c->in[0].shape, *is = &c->in[1].shape;
    if (is->rank != ds->rank)
        return eai__op_fail(c, EAI_E_INVALID, "indices have rank %d, data has rank %d", is->rank,
                            ds->rank);
    for (int k = 0; k < ds->rank; k++)
        if (k != p->axis && is->d[k] > ds->d[k])
            return eai__op_fail(c, EAI_E_INVALID, "indices dim %d is %lld, data has only %lld", k,
                                (long long)is->d[k], (long long)ds->d[k]);
    c->out[0].dtype = c->in[0].dtype;
    c->out[0].shape = *is;
    return EAI_OK;
}

static eai_status_t gather_elements_eval(eai__opctx_t *c)
{
    const axis_params_t *p = c->params;
    const eai__shape_t *ds = &c->in[0].shape, *is = &c->in[1].shape;
    const size_t es = eai_dtype_size(c->in[0].dtype);
    const int64_t dim = ds->d[p->axis], n = eai__shape_numel(is);
    EAI_TRY(check_indices(c, &c->in[1], dim));
    int64_t dst[EAI_MAX_RANK], idx[EAI_MAX_RANK] = {0};
    eai__layout_strides(ds, dst);
    const uint8_t *in = c->in[0].data;
    uint8_t *out = c->out[0].data;
    int64_t base = 0; /* data offset of idx with idx[axis] taken as 0 */
    for (int64_t i = 0; i < n; i++) {
        const int64_t src = base + index_at(&c->in[1], i, dim) * dst[p->axis];
        memcpy(out + i * (int64_t)es, in + src * (int64_t)es, es);
        for (int k = is->rank - 1; k >= 0; k--) {
            if (k != p->axis) base += dst[k];
            if (++idx[k] < is->d[k]) break;
            if (k != p->axis) base -= dst[k] * is->d[k];
            idx[k] = 0;
        }
    }
    return EAI_OK;
}

/* ---- Transpose (perm defaults to reversed axes) ---- */

typedef struct transpose_params {
    int perm[EAI_MAX_RANK];
} transpose_params_t;
static_assert(sizeof(transpose_params_t) <= EAI__PARAMS_BYTES, "params");

static eai_status_t transpose_infer(eai__opctx_t *c)
{
    transpose_params_t *p = c->params;
    const eai__shape_t *is = &c->in[0].shape;
    EAI_TRY(check_sized(c, 0));
    int64_t perm[EAI_MAX_RANK];
    int n;
    EAI_TRY(eai__op_ints(c, "perm", perm, EAI_MAX_RANK, &n));
    if (n < 0) {
        n = is->rank;
        for (int i = 0; i < n; i++)
            perm[i] = n - 1 - i;
    }
    if (n != is->rank)
        return eai__op_fail(c, EAI_E_INVALID, "perm has %d values for an input of rank %d", n,
                            is->rank);
    bool seen[EAI_MAX_RANK] = {0};
    c->out[0].shape.rank = n;
    for (int i = 0; i < n; i++) {
        if (perm[i] < 0 || perm[i] >= n || seen[perm[i]])
            return eai__op_fail(c, EAI_E_INVALID, "perm is not a permutation of 0..%d", n - 1);
        seen[perm[i]] = true;
        p->perm[i] = (int)perm[i];
        c->out[0].shape.d[i] = is->d[perm[i]];
    }
    c->out[0].dtype = c->in[0].dtype;
    return EAI_OK;
}

/* Batched 2-D transpose out[b][j][i] = in[b][i][j] of R x C matrices, in
 * 32 x 32 tiles so both sides stay in cache (NCHW <-> NHWC, last-two swap). */
typedef struct tr2d {
    uint8_t *out;
    const uint8_t *in;
    int64_t R, C, n_tiles_r;
    size_t es;
} tr2d_t;

#define TILE 32

static void tr2d_range(void *ctx, int64_t begin, int64_t end)
{
    const tr2d_t *t = ctx;
    const int64_t R = t->R, C = t->C;
    for (int64_t w = begin; w < end; w++) {
        const int64_t b = w / t->n_tiles_r, i0 = (w % t->n_tiles_r) * TILE;
        const int64_t i1 = i0 + TILE < R ? i0 + TILE : R;
        const uint8_t *in = t->in + b * R * C * (int64_t)t->es;
        uint8_t *out = t->out + b * R * C * (int64_t)t->es;
        for (int64_t j0 = 0; j0 < C; j0 += TILE) {
            const int64_t j1 = j0 + TILE < C ? j0 + TILE : C;
#define TR(T)                                                                                      \
    {                                                                                              \
        const T *s = (const T *)(const void *)in;                                                  \
        T *d = (T *)(void *)out;                                                                   \
        for (int64_t j = j0; j < j1; j++)                                                          \
            for (int64_t i = i0; i < i1; i++)                                                      \
                d[j * R + i] = s[i * C + j];                                                       \
    }                                                                                              \
    break;
            switch (t->es) {
            case 1:
                TR(uint8_t)
            case 2:
                TR(uint16_t)
            case 4:
                TR(uint32_t)
            case 8:
                TR(uint64_t)
            default:
                for (int64_t j = j0; j < j1; j++)
                    for (int64_t i = i0; i < i1; i++)
                        memcpy(out + (j * R + i) * (int64_t)t->es,
                               in + (i * C + j) * (int64_t)t->es, t->es);
            }
#undef TR
        }
    }
}

static eai_status_t transpose_eval(eai__opctx_t *c)
{
    const transpose_params_t *p = c->params;
    const eai__shape_t *is = &c->in[0].shape;
    const size_t es = eai_dtype_size(c->in[0].dtype);
    if (eai__shape_numel(is) == 0) return EAI_OK;
    /* Drop unit axes, then merge output-adjacent axes that are also adjacent
     * in the input: (0,2,3,1) on NCHW becomes (0,2,1) on (N, C, HW). */
    int map[EAI_MAX_RANK], kept = 0;
    int64_t d1[EAI_MAX_RANK];
    for (int k = 0; k < is->rank; k++) {
        map[k] = is->d[k] == 1 ? -1 : kept;
        if (is->d[k] != 1) d1[kept++] = is->d[k];
    }
    int p1[EAI_MAX_RANK], n1 = 0;
    for (int j = 0; j < is->rank; j++)
        if (map[p->perm[j]] >= 0) p1[n1++] = map[p->perm[j]];
    /* groups over output order; group g covers input axes first[g].. */
    int first[EAI_MAX_RANK], ng = 0;
    int64_t gd[EAI_MAX_RANK];
    for (int j = 0; j < n1; j++) {
        if (j > 0 && p1[j] == p1[j - 1] + 1) {
            gd[ng - 1] *= d1[p1[j]];
        } else {
            first[ng] = p1[j];
            gd[ng++] = d1[p1[j]];
        }
    }
    /* reduced input: groups sorted by first input axis; rank of each */
    int rk[EAI_MAX_RANK];
    int64_t rd[EAI_MAX_RANK];
    for (int g = 0; g < ng; g++) {
        rk[g] = 0;
        for (int h = 0; h < ng; h++)
            rk[g] += first[h] < first[g];
        rd[rk[g]] = gd[g];
    }
    if (ng <= 1 || (ng == 2 && rk[0] == 0)) {
        memcpy(c->out[0].data, c->in[0].data, (size_t)eai__shape_numel(is) * es);
        return EAI_OK;
    }
    if ((ng == 2 && rk[0] == 1) || (ng == 3 && rk[0] == 0 && rk[1] == 2)) {
        tr2d_t t = {c->out[0].data, c->in[0].data, 0, 0, 0, es};
        const int64_t batch = ng == 3 ? rd[0] : 1;
        t.R = rd[ng - 2];
        t.C = rd[ng - 1];
        t.n_tiles_r = (t.R + TILE - 1) / TILE;
        eai__parallel_for(c->pool, batch * t.n_tiles_r, tr2d_range, &t);
        return EAI_OK;
    }
    int64_t rst[EAI_MAX_RANK], dst[EAI_MAX_RANK], sst[EAI_MAX_RANK], st = (int64_t)es;
    for (int k = ng - 1; k >= 0; k--) {
        rst[k] = st;
        st *= rd[k];
    }
    st = (int64_t)es;
    for (int g = ng - 1; g >= 0; g--) {
        dst[g] = st;
        st *= gd[g];
        sst[g] = rst[rk[g]];
    }
    eai__layout_copy_nd(c->out[0].data, dst, c->in[0].data, sst, ng, gd, es);
    return EAI_OK;
}

/* ---- Pad (pads/value attributes before opset 11; pads, constant_value
 * inputs from 11; axes input from 18; 'wrap' from 19). Negative pads crop:
 * each axis is cropped first, then padded, as ONNX Pad-18 describes. ---- */

enum { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP };

typedef struct pad_params {
    int64_t lo[EAI_MAX_RANK];   /* positive pad before each axis */
    int64_t crop[EAI_MAX_RANK]; /* elements cropped at the start of each axis */
    int64_t len[EAI_MAX_RANK];  /* input elements kept on each axis */
    int mode;
    bool value_attr;   /* opset < 11: value from the attribute, in `value` */
    uint8_t value[16]; /* the pad element, in the data dtype */
} pad_params_t;
static_assert(sizeof(pad_params_t) <= EAI__PARAMS_BYTES, "params");

static eai_status_t pad_infer(eai__opctx_t *c)
{
    pad_params_t *p = c->params;
    const eai__tview_t *a = &c->in[0];
    const int r = a->shape.rank;
    EAI_TRY(check_sized(c, 0));
    const char *mode;
    EAI_TRY(eai__op_string(c, "mode", "constant", &mode));
    if (strcmp(mode, "constant") == 0)
        p->mode = PAD_CONSTANT;
    else if (strcmp(mode, "reflect") == 0)
        p->mode = PAD_REFLECT;
    else if (strcmp(mode, "edge") == 0)
        p->mode = PAD_EDGE;
    else if (strcmp(mode, "wrap") == 0 && c->opset >= 19)
        p->mode = PAD_WRAP;
    else
        return eai__op_fail(c, EAI_E_UNSUPPORTED,
                            "mode '%s' is not one of constant, reflect, edge%s", mode,
                            c->opset >= 19 ? ", wrap" : "");
    int64_t pads[2 * EAI_MAX_RANK], axes[EAI_MAX_RANK];
    int n, na = -1;
    if (c->opset < 11) {
        EAI_TRY(eai__op_ints(c, c->opset < 2 ? "paddings" : "pads", pads, 2 * EAI_MAX_RANK, &n));
        if (n < 0) return eai__op_fail(c, EAI_E_FORMAT, "attribute 'pads' is required");
        float v;
        EAI_TRY(eai__op_float(c, "value", 0.0f, &v));
        if (!eai__layout_is_float(a->dtype) && v != 0.0f)
            return eai__op_fail(c, EAI_E_UNSUPPORTED, "value %g for dtype %s", (double)v,
                                eai_dtype_name(a->dtype));
        eai__layout_put_f64(a->dtype, p->value, v);
        p->value_attr = true;
    } else {
        if (!eai__has_in(c, 1)) return eai__op_fail(c, EAI_E_FORMAT, "input 'pads' is required");
        EAI_TRY(eai__op_const_ints(c, 1, pads, 2 * EAI_MAX_RANK, &n));
        if (eai__has_in(c, 2) && c->in[2].dtype != a->dtype)
            return eai__op_fail(c, EAI_E_INVALID, "constant_value has dtype %s, data has %s",
                                eai_dtype_name(c->in[2].dtype), eai_dtype_name(a->dtype));
        if (eai__has_in(c, 3)) EAI_TRY(eai__op_const_ints(c, 3, axes, EAI_MAX_RANK, &na));
    }
    int64_t full[2 * EAI_MAX_RANK] = {0};
    if (na >= 0) {
        if (n != 2 * na)
            return eai__op_fail(c, EAI_E_INVALID, "pads has %d values for %d axes", n, na);
        for (int i = 0; i < na; i++) {
            int ax;
            EAI_TRY(eai__op_axis(c, axes[i], r, &ax));
            full[ax] = pads[i];
            full[ax + r] = pads[i + na];
        }
    } else {
        if (n != 2 * r)
            return eai__op_fail(c, EAI_E_INVALID, "pads has %d values, expected %d for rank %d", n,
                                2 * r, r);
        memcpy(full, pads, sizeof(int64_t) * (size_t)n);
    }
    eai__shape_t out = a->shape;
    for (int k = 0; k < r; k++) {
        const int64_t lo = full[k], hi = full[k + r], d = a->shape.d[k];
        p->lo[k] = lo > 0 ? lo : 0;
        p->crop[k] = lo < 0 ? -lo : 0;
        p->len[k] = d - p->crop[k] - (hi < 0 ? -hi : 0);
        if (p->len[k] < 0)
            return eai__op_fail(c, EAI_E_INVALID, "pads %lld, %lld crop more than axis %d's %lld",
                                (long long)lo, (long long)hi, k, (long long)d);
        out.d[k] = d + lo + hi;
        if (p->len[k] == 0 && out.d[k] > 0 && p->mode != PAD_CONSTANT)
            return eai__op_fail(c, EAI_E_INVALID, "mode '%s' cannot pad the empty axis %d", mode,
                                k);
    }
    c->out[0].dtype = a->dtype;
    c->out[0].shape = out;
    return EAI_OK;
}

/* Input index for padded coordinate i (relative to the kept range of len
 * elements), or -1 for the constant. */
static int64_t pad_map(int64_t i, int64_t len, int mode)
{
    if (i >= 0 && i < len) return i;
    switch (mode) {
    case PAD_EDGE:
        return i < 0 ? 0 : len - 1;
    case PAD_REFLECT: {
        if (len == 1) return 0;
        const int64_t period = 2 * (len - 1);
        i %= period;
        if (i < 0) i += period;
        return i < len ? i : period - i;
    }
    case PAD_WRAP:
        i %= len;
        return i < 0 ? i + len : i;
    default:
        return -1;
    }
}

static eai_status_t pad_eval(eai__opctx_t *c)
{
    const pad_params_t *p = c->params;
    const eai__shape_t *is = &c->in[0].shape, *os = &c->out[0].shape;
    const size_t es = eai_dtype_size(c->in[0].dtype);
    const int64_t e = (int64_t)es, n = eai__shape_numel(os);
    uint8_t zero[16] = {0};
    const uint8_t *val = zero;
    if (p->value_attr)
        val = p->value;
    else if (eai__has_in(c, 2) && eai__shape_numel(&c->in[2].shape) > 0)
        val = c->in[2].data;
    if (n == 0) return EAI_OK;
    const int r = os->rank;
    if (r == 0) {
        memcpy(c->out[0].data, c->in[0].data, es);
        return EAI_OK;
    }
    int64_t ist[EAI_MAX_RANK], idx[EAI_MAX_RANK] = {0};
    eai__layout_strides(is, ist);
    const uint8_t *in = c->in[0].data;
    uint8_t *out = c->out[0].data;
    const int last = r - 1;
    const int64_t W = os->d[last], lo = p->lo[last], len = p->len[last];
    /* the middle of every row is a straight copy */
    const int64_t m0 = lo < W ? lo : W, m1 = lo + len < W ? lo + len : W;
    for (int64_t row = 0; row < n / W; row++, out += W * e) {
        int64_t off = 0;
        bool fill = false;
        for (int k = 0; k < last; k++) {
            const int64_t i = pad_map(idx[k] - p->lo[k], p->len[k], p->mode);
            if (i < 0) fill = true;
            off += (i + p->crop[k]) * ist[k];
        }
        if (fill) {
            eai__layout_fill(out, W, val, es);
        } else {
            const uint8_t *src = in + (off + p->crop[last]) * e;
            for (int64_t o = 0; o < m0; o++) {
                const int64_t i = pad_map(o - lo, len, p->mode);
                memcpy(out + o * e, i < 0 ? val : src + i * e, es);
            }
            if (m1 > m0) memcpy(out + m0 * e, src + (m0 - lo) * e, (size_t)((m1 - m0) * e));
            for (int64_t o = m1 > m0 ? m1 : m0; o < W; o++) {
                const int64_t i = pad_map(o - lo, len, p->mode);
                memcpy(out + o * e, i < 0 ? val : src + i * e, es);
            }
        }
        for (int k = last - 1; k >= 0; k--) {
            if (++idx[k] < os->d[k]) break;
            idx[k] = 0;
        }
    }
    return EAI_OK;
}

const eai__op_def_t eai__ref_ops_layout[] = {
    {"Concat", 0, 1, -1, 1, 1, concat_infer, concat_eval},
    {"Split", 0, 1, 2, 1, -1, split_infer, split_eval},
    {"Slice", 0, 1, 5, 1, 1, slice_infer, slice_eval},
    {"Gather", 0, 2, 2, 1, 1, gather_infer, gather_eval},
    {"GatherElements", 0, 2, 2, 1, 1, gather_elements_infer, gather_elements_eval},
    {"Transpose", 0, 1, 1, 1, 1, transpose_infer, transpose_eval},
    {"Pad", 0, 1, 4, 1, 1, pad_infer, pad_eval},
    {0},
};
