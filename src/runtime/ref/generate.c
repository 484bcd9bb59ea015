/* Op family 'generate' (ref backend): ops that make or convert values rather
 * than move them, Cast, CastLike, ConstantOfShape, Range, EyeLike, NonZero,
 * GatherND and ScatterND (index-tuple addressing), plus the scalar dtype
 * conversions the byte-moving families share (layout_impl.h). Constant is
 * not an op here: the importer turns it into a CONST value.
 */
#include <assert.h>
#include <math.h>

#include "runtime/ref/layout_impl.h"

/* ---- scalar conversions ---- */

/* float -> integer truncates toward zero (ONNX Cast-13); out-of-range values
 * are undefined in the spec, we saturate, and NaN gives 0. */
static inline int64_t d2i64(double x)
{
    if (x != x) return 0;
    if (x >= 9223372036854775807.0) return INT64_MAX;
    if (x <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)x;
}

double eai__layout_get_f64(eai_dtype_t dt, const void *p, int64_t i)
{
    switch (dt) {
    case EAI_F32:
        return ((const float *)p)[i];
    case EAI_F16:
        return eai_f16_to_f32(((const uint16_t *)p)[i]);
    case EAI_F64:
        return ((const double *)p)[i];
    default:
        return (double)eai__layout_get_i64(dt, p, i);
    }
}

int64_t eai__layout_get_i64(eai_dtype_t dt, const void *p, int64_t i)
{
    switch (dt) {
    case EAI_I64:
        return ((const int64_t *)p)[i];
    case EAI_I32:
        return ((const int32_t *)p)[i];
    case EAI_I16:
        return ((const int16_t *)p)[i];
    case EAI_U16:
        return ((const uint16_t *)p)[i];
    case EAI_I8:
        return ((const int8_t *)p)[i];
    case EAI_U8:
        return ((const uint8_t *)p)[i];
    case EAI_BOOL:
        return ((const uint8_t *)p)[i] != 0;
    case EAI_F32:
    case EAI_F16:
    case EAI_F64:
        return d2i64(eai__layout_get_f64(dt, p, i));
    default:
        return 0;
    }
}

/* Stores n values from a double (from_f) or int64 buffer into dst[0..n) of
 * dtype dt. Integer narrowing wraps, as C's conversion does on every target
 * we build for (and as numpy and PyTorch do). */
static void store_block(eai_dtype_t dt, void *dst, const double *f, const int64_t *q, int64_t n)
{
#define ST(T, EXPR_F, EXPR_Q)                                                                      \
    {                                                                                              \
        T *d = dst;                                                                                \
        if (f)                                                                                     \
            for (int64_t i = 0; i < n; i++)                                                        \
                d[i] = EXPR_F;                                                                     \
        else                                                                                       \
            for (int64_t i = 0; i < n; i++)                                                        \
                d[i] = EXPR_Q;                                                                     \
    }                                                                                              \
    break;
    switch (dt) {
    case EAI_F32:
        ST(float, (float)f[i], (float)q[i])
    case EAI_F64:
        ST(double, f[i], (double)q[i])
    case EAI_F16:
        ST(uint16_t, eai_f32_to_f16((float)f[i]), eai_f32_to_f16((float)q[i]))
    case EAI_BOOL:
        ST(uint8_t, f[i] != 0.0, q[i] != 0)
    case EAI_I64:
        ST(int64_t, d2i64(f[i]), q[i])
    case EAI_I32:
        ST(int32_t, (int32_t)d2i64(f[i]), (int32_t)q[i])
    case EAI_I16:
        ST(int16_t, (int16_t)d2i64(f[i]), (int16_t)q[i])
    case EAI_U16:
        ST(uint16_t, (uint16_t)d2i64(f[i]), (uint16_t)q[i])
    case EAI_I8:
        ST(int8_t, (int8_t)d2i64(f[i]), (int8_t)q[i])
    case EAI_U8:
        ST(uint8_t, (uint8_t)d2i64(f[i]), (uint8_t)q[i])
    default:
        break;
    }
#undef ST
}

void eai__layout_put_f64(eai_dtype_t dt, void *out, double v)
{
    store_block(dt, out, &v, NULL, 1);
}

/* ---- Cast (to: attribute), CastLike (opset 15: dtype of input 1) ---- */

typedef struct cast_params {
    eai_dtype_t to;
} cast_params_t;
static_assert(sizeof(cast_params_t) <= EAI__PARAMS_BYTES, "params");

static eai_status_t check_numeric(const eai__opctx_t *c, eai_dtype_t dt, const char *what)
{
    if (eai_dtype_size(dt) == 0)
        return eai__op_fail(c, EAI_E_UNSUPPORTED, "%s dtype %s (%d) is not supported", what,
                            eai_dtype_name(dt), (int)dt);
    return EAI_OK;
}

static eai_status_t cast_finish(eai__opctx_t *c, eai_dtype_t to)
{
    cast_params_t *p = c->params;
    EAI_TRY(check_numeric(c, c->in[0].dtype, "input"));
    EAI_TRY(check_numeric(c, to, "target"));
    p->to = to;
    c->out[0].dtype = to;
    c->out[0].shape = c->in[0].shape;
    return EAI_OK;
}

static eai_status_t cast_infer(eai__opctx_t *c)
{
    int64_t to;
    if (!eai__node_attr(c->node, "to"))
        return eai__op_fail(c, EAI_E_FORMAT, "attribute 'to' is required");
    EAI_TRY(eai__op_int(c, "to", 0, &to));
    if (to <= 0 || to > 64)
        return eai__op_fail(c, EAI_E_FORMAT, "'to' = %lld is not a dtype", (long long)to);
    return cast_finish(c, (eai_dtype_t)to);
}

static eai_status_t castlike_infer(eai__opctx_t *c)
{
    return cast_finish(c, c->in[1].dtype);
}

static eai_status_t cast_eval(eai__opctx_t *c)
{
    const cast_params_t *p = c->params;
    const eai_dtype_t from = c->in[0].dtype;
    const int64_t n = eai__shape_numel(&c->in[0].shape);
    const size_t os = eai_dtype_size(p->to);
    if (from == p->to) {
        memcpy(c->out[0].data, c->in[0].data, (size_t)n * os);
        return EAI_OK;
    }
    /* through a small stack block: floats as double, integers as int64 (so
     * int64 <-> int32 stays exact) */
    enum { BLK = 256 };
    double f[BLK];
    int64_t q[BLK];
    const bool fl = eai__layout_is_float(from);
    uint8_t *out = c->out[0].data;
    for (int64_t b = 0; b < n; b += BLK) {
        const int64_t m = n - b < BLK ? n - b : BLK;
        if (fl) {
            for (int64_t i = 0; i < m; i++)
                f[i] = eai__layout_get_f64(from, c->in[0].data, b + i);
        } else {
            for (int64_t i = 0; i < m; i++)
                q[i] = eai__layout_get_i64(from, c->in[0].data, b + i);
        }
        store_block(p->to, out + b * (int64_t)os, fl ? f : NULL, fl ? NULL : q, m);
    }
    return EAI_OK;
}

/* ---- ConstantOfShape (value: one-element tensor attribute, default float 0) ---- */

typedef struct fill_params {
    uint8_t value[16];
} fill_params_t;
static_assert(sizeof(fill_params_t) <= EAI__PARAMS_BYTES, "params");

static eai_status_t read_shape_input(eai__opctx_t *c, int idx, eai__shape_t *s)
{
    static const eai_dtype_t ok[] = {EAI_I64, 0};
    EAI_TRY(eai__op_dtype(c, idx, ok));
    if (c->in[idx].shape.rank > 1)
        return eai__op_fail(c, EAI_E_INVALID, "shape input has rank %d, expected 1",
                            c->in[idx].shape.rank);
    EAI_TRY(eai__op_const_ints(c, idx, s->d, EAI_MAX_RANK, &s->rank));
    for (int k = 0; k < s->rank; k++)
        if (s->d[k] < 0)
            return eai__op_fail(c, EAI_E_INVALID, "shape[%d] = %lld is negative", k,
                                (long long)s->d[k]);
    return EAI_OK;
}

static eai_status_t constant_of_shape_infer(eai__opctx_t *c)
{
    fill_params_t *p = c->params;
    eai__shape_t s = {0};
    EAI_TRY(read_shape_input(c, 0, &s));
    eai_dtype_t dt = EAI_F32;
    const eai__attr_t *a = eai__node_attr(c->node, "value");
    if (a) {
        if (a->type != EAI__A_TENSOR || a->tensor < 0 || a->tensor >= c->g->n_values)
            return eai__op_fail(c, EAI_E_FORMAT, "attribute 'value' must be a tensor");
        const eai__value_t *v = &c->g->values[a->tensor];
        dt = v->dtype;
        const size_t es = eai_dtype_size(dt);
        if (es == 0 || es > sizeof p->value)
            return eai__op_fail(c, EAI_E_UNSUPPORTED, "value has unsupported dtype %s",
                                eai_dtype_name(dt));
        if (eai__shape_numel(&v->shape) != 1 || !v->data)
            return eai__op_fail(c, EAI_E_INVALID, "value must have exactly one element, has %lld",
                                (long long)eai__shape_numel(&v->shape));
        memcpy(p->value, v->data, es);
    }
    c->out[0].dtype = dt;
    c->out[0].shape = s;
    return EAI_OK;
}

static eai_status_t fill_eval(eai__opctx_t *c)
{
    const fill_params_t *p = c->params;
    eai__layout_fill(c->out[0].data, eai__shape_numel(&c->out[0].shape), p->value,
                     eai_dtype_size(c->out[0].dtype));
    return EAI_OK;
}

/* ---- Range (opset 11): n = max(ceil((limit - start) / delta), 0) ---- */

typedef struct range_params {
    double f_start, f_delta;
    int64_t i_start, i_delta;
} range_params_t;
static_assert(sizeof(range_params_t) <= EAI__PARAMS_BYTES, "params");

static eai_status_t range_infer(eai__opctx_t *c)
{
    static const eai_dtype_t ok[] = {EAI_F32, EAI_F64, EAI_I16, EAI_I32, EAI_I64, 0};
    static const char *names[] = {"start", "limit", "delta"};
    range_params_t *p = c->params;
    const eai_dtype_t dt = c->in[0].dtype;
    for (int i = 0; i < 3; i++) {
        EAI_TRY(eai__op_dtype(c, i, ok));
        if (c->in[i].dtype != dt)
            return eai__op_fail(c, EAI_E_INVALID, "%s has dtype %s, start has %s", names[i],
                                eai_dtype_name(c->in[i].dtype), eai_dtype_name(dt));
        if (eai__shape_numel(&c->in[i].shape) != 1)
            return eai__op_fail(c, EAI_E_INVALID, "%s must be a scalar", names[i]);
        if (!c->in[i].data)
            return eai__op_fail(c, EAI_E_UNSUPPORTED,
                                "%s must be constant: the output length depends on it", names[i]);
    }
    int64_t n;
    if (eai__layout_is_float(dt)) {
        const double s = eai__layout_get_f64(dt, c->in[0].data, 0);
        const double l = eai__layout_get_f64(dt, c->in[1].data, 0);
        const double d = eai__layout_get_f64(dt, c->in[2].data, 0);
        const double len = ceil((l - s) / d);
        if (d == 0 || !(len < 9.0e15))
            return eai__op_fail(c, EAI_E_INVALID, "start %g, limit %g, delta %g give no length", s,
                                l, d);
        n = len > 0 ? (int64_t)len : 0;
        p->f_start = s;
        p->f_delta = d;
    } else {
        const int64_t s = eai__layout_get_i64(dt, c->in[0].data, 0);
        const int64_t l = eai__layout_get_i64(dt, c->in[1].data, 0);
        const int64_t d = eai__layout_get_i64(dt, c->in[2].data, 0);
        int64_t diff;
        if (d == 0 || __builtin_sub_overflow(l, s, &diff))
            return eai__op_fail(c, EAI_E_INVALID,
                                "start %lld, limit %lld, delta %lld give no length", (long long)s,
                                (long long)l, (long long)d);
        /* ceil(diff / d) without overflow when the signs agree, else empty */
        if (d > 0 && diff > 0)
            n = 1 + (diff - 1) / d;
        else if (d < 0 && diff < 0)
            n = 1 + (diff + 1) / d;
        else
            n = 0;
        p->i_start = s;
        p->i_delta = d;
    }
    c->out[0].dtype = dt;
    c->out[0].shape.rank = 1;
    c->out[0].shape.d[0] = n;
    return EAI_OK;
}

static eai_status_t range_eval(eai__opctx_t *c)
{
    const range_params_t *p = c->params;
    const int64_t n = c->out[0].shape.d[0];
    void *out = c->out[0].data;
    switch (c->out[0].dtype) {
    case EAI_F32: {
        /* in float, as numpy.arange fills a float32 range */
        const float s = (float)p->f_start, d = (float)p->f_delta;
        for (int64_t i = 0; i < n; i++)
            ((float *)out)[i] = s + (float)i * d;
        break;
    }
    case EAI_F64:
        for (int64_t i = 0; i < n; i++)
            ((double *)out)[i] = p->f_start + (double)i * p->f_delta;
        break;
    case EAI_I64:
        for (int64_t i = 0; i < n; i++)
            ((int64_t *)out)[i] = p->i_start + i * p->i_delta;
        break;
    case EAI_I32:
        for (int64_t i = 0; i < n; i++)
            ((int32_t *)out)[i] = (int32_t)(p->i_start + i * p->i_delta);
        break;
    default:
        for (int64_t i = 0; i < n; i++)
            ((int16_t *)out)[i] = (int16_t)(p->i_start + i * p->i_delta);
        break;
    }
    return EAI_OK;
}

/* ---- EyeLike (dtype attribute or the input's; k: diagonal offset) ---- */

typedef struct eye_params {
    int64_t k;
} eye_params_t;
static_assert(sizeof(eye_params_t) <= EAI__PARAMS_BYTES, "params");

static eai_status_t eyelike_infer(eai__opctx_t *c)
{
    eye_params_t *p = c->params;
    if (c->in[0].shape.rank != 2)
        return eai__op_fail(c, EAI_E_INVALID, "input has rank %d, expected 2", c->in[0].shape.rank);
    int64_t dt;
    EAI_TRY(eai__op_int(c, "dtype", c->in[0].dtype, &dt));
    EAI_TRY(check_numeric(c, (eai_dtype_t)dt, "output"));
    EAI_TRY(eai__op_int(c, "k", 0, &p->k));
    c->out[0].dtype = (eai_dtype_t)dt;
    c->out[0].shape = c->in[0].shape;
    return EAI_OK;
}

static eai_status_t eyelike_eval(eai__opctx_t *c)
{
    const eye_params_t *p = c->params;
    const eai_dtype_t dt = c->out[0].dtype;
    const size_t es = eai_dtype_size(dt);
    const int64_t R = c->out[0].shape.d[0], C = c->out[0].shape.d[1];
    uint8_t *out = c->out[0].data;
    memset(out, 0, (size_t)(R * C) * es); /* zero is all-zero bytes in every dtype */
    uint8_t one[16];
    eai__layout_put_f64(dt, one, 1.0);
    for (int64_t i = 0; i < R; i++) {
        const int64_t j = i + p->k;
        if (j >= 0 && j < C) memcpy(out + (i * C + j) * (int64_t)es, one, es);
    }
    return EAI_OK;
}

/* ---- NonZero: the output shape [rank, nnz] depends on the values, so only
 * a constant input (folded at load) has a static shape. ---- */

static int64_t count_nonzero(const eai__tview_t *t)
{
    const int64_t n = eai__shape_numel(&t->shape);
    int64_t nnz = 0;
    for (int64_t i = 0; i < n; i++)
        nnz += eai__layout_get_f64(t->dtype, t->data, i) != 0.0;
    return nnz;
}

static eai_status_t nonzero_infer(eai__opctx_t *c)
{
    EAI_TRY(check_numeric(c, c->in[0].dtype, "input"));
    if (!c->in[0].data)
        return eai__op_fail(c, EAI_E_UNSUPPORTED,
                            "the output shape depends on the input values; only a constant "
                            "input is supported");
    c->out[0].dtype = EAI_I64;
    c->out[0].shape.rank = 2;
    /* a scalar is treated as one element of rank 1, as numpy did */
    c->out[0].shape.d[0] = c->in[0].shape.rank > 0 ? c->in[0].shape.rank : 1;
    c->out[0].shape.d[1] = count_nonzero(&c->in[0]);
    return EAI_OK;
}

static eai_status_t nonzero_eval(eai__opctx_t *c)
{
    const eai__tview_t *t = &c->in[0];
    const int64_t n = eai__shape_numel(&t->shape), nnz = c->out[0].shape.d[1];
    const int r = t->shape.rank;
    if (count_nonzero(t) != nnz)
        return eai__op_fail(c, EAI_E_INVALID, "input changed: %lld nonzero, %lld at load",
                            (long long)count_nonzero(t), (long long)nnz);
    int64_t *out = c->out[0].data, j = 0, idx[EAI_MAX_RANK] = {0};
    for (int64_t i = 0; i < n; i++) {
        if (eai__layout_get_f64(t->dtype, t->data, i) != 0.0) {
            for (int k = 0; k < r; k++)
                out[k * nnz + j] = idx[k];
            if (r == 0) out[j] = 0;
            j++;
        }
        for (int k = r - 1; k >= 0; k--) {
            if (++idx[k] < t->shape.d[k]) break;
            idx[k] = 0;
        }
    }
    return EAI_OK;
}

/* ---- GatherND (batch_dims from opset 12) and ScatterND (reduction from
 * opset 16): index tuples are the last axis of `indices`, which is data, so
 * every tuple is bounds-checked in eval. ---- */

typedef struct nd_params {
    int batch_dims;
    int reduction; /* ScatterND: 0 none, 1 add, 2 mul, 3 max, 4 min */
} nd_params_t;
static_assert(sizeof(nd_params_t) <= EAI__PARAMS_BYTES, "params");

static eai_status_t nd_common(eai__opctx_t *c, int b)
{
    static const eai_dtype_t idx_types[] = {EAI_I64, EAI_I32, 0};
    EAI_TRY(check_numeric(c, c->in[0].dtype, "data"));
    EAI_TRY(eai__op_dtype(c, 1, idx_types));
    const eai__shape_t *ds = &c->in[0].shape, *is = &c->in[1].shape;
    if (is->rank < 1 || b >= is->rank || b > ds->rank)
        return eai__op_fail(c, EAI_E_INVALID, "indices have rank %d, need more than batch_dims %d",
                            is->rank, b);
    const int64_t k = is->d[is->rank - 1];
    if (k < 1 || k > ds->rank - b)
        return eai__op_fail(c, EAI_E_INVALID,
                            "index tuples have %lld entries, data has %d indexable axes",
                            (long long)k, ds->rank - b);
    for (int i = 0; i < b; i++)
        if (is->d[i] != ds->d[i])
            return eai__op_fail(c, EAI_E_INVALID, "batch dim %d is %lld in indices, %lld in data",
                                i, (long long)is->d[i], (long long)ds->d[i]);
    return EAI_OK;
}

/* Element offset (within one batch of data) of tuple t, or -1 out of range. */
static int64_t nd_offset(const eai__opctx_t *c, int b, int64_t t, int64_t *bad, int64_t *dim)
{
    const eai__shape_t *ds = &c->in[0].shape, *is = &c->in[1].shape;
    const int k = (int)is->d[is->rank - 1];
    int64_t off = 0;
    for (int j = 0; j < k; j++) {
        const int64_t n = ds->d[b + j];
        int64_t v = eai__layout_get_i64(c->in[1].dtype, c->in[1].data, t * k + j);
        if (v < -n || v >= n) {
            *bad = v;
            *dim = n;
            return -1;
        }
        off = off * n + (v < 0 ? v + n : v);
    }
    for (int j = b + k; j < ds->rank; j++)
        off *= ds->d[j];
    return off;
}

static eai_status_t gathernd_infer(eai__opctx_t *c)
{
    nd_params_t *p = c->params;
    int64_t b = 0;
    if (c->opset >= 12) EAI_TRY(eai__op_int(c, "batch_dims", 0, &b));
    if (b < 0 || b >= EAI_MAX_RANK)
        return eai__op_fail(c, EAI_E_INVALID, "batch_dims %lld is out of range", (long long)b);
    EAI_TRY(nd_common(c, (int)b));
    p->batch_dims = (int)b;
    const eai__shape_t *ds = &c->in[0].shape, *is = &c->in[1].shape;
    const int k = (int)is->d[is->rank - 1];
    eai__shape_t out = {0};
    if (is->rank - 1 + ds->rank - (int)b - k > EAI_MAX_RANK)
        return eai__op_fail(c, EAI_E_UNSUPPORTED, "output rank exceeds %d", EAI_MAX_RANK);
    for (int i = 0; i < is->rank - 1; i++)
        out.d[out.rank++] = is->d[i];
    for (int i = (int)b + k; i < ds->rank; i++)
        out.d[out.rank++] = ds->d[i];
    c->out[0].dtype = c->in[0].dtype;
    c->out[0].shape = out;
    return EAI_OK;
}

static eai_status_t gathernd_eval(eai__opctx_t *c)
{
    const nd_params_t *p = c->params;
    const int b = p->batch_dims;
    const eai__shape_t *ds = &c->in[0].shape, *is = &c->in[1].shape;
    const int64_t es = (int64_t)eai_dtype_size(c->in[0].dtype);
    int64_t nb = 1, per = 1, slice = 1, bstride = 1;
    for (int i = 0; i < b; i++)
        nb *= ds->d[i];
    for (int i = b; i < is->rank - 1; i++)
        per *= is->d[i];
    for (int i = b + (int)is->d[is->rank - 1]; i < ds->rank; i++)
        slice *= ds->d[i];
    for (int i = b; i < ds->rank; i++)
        bstride *= ds->d[i];
    const uint8_t *in = c->in[0].data;
    uint8_t *out = c->out[0].data;
    for (int64_t bi = 0; bi < nb; bi++)
        for (int64_t t = 0; t < per; t++) {
            int64_t bad, dim;
            const int64_t off = nd_offset(c, b, bi * per + t, &bad, &dim);
            if (off < 0)
                return eai__op_fail(c, EAI_E_INVALID, "index %lld out of range [-%lld, %lld)",
                                    (long long)bad, (long long)dim, (long long)dim);
            memcpy(out, in + (bi * bstride + off) * es, (size_t)(slice * es));
            out += slice * es;
        }
    return EAI_OK;
}

static eai_status_t scatternd_infer(eai__opctx_t *c)
{
    static const char *const reds[] = {"none", "add", "mul", "max", "min"};
    nd_params_t *p = c->params;
    EAI_TRY(nd_common(c, 0));
    const char *red = "none";
    if (c->opset >= 16) EAI_TRY(eai__op_string(c, "reduction", "none", &red));
    p->reduction = -1;
    for (int i = 0; i < 5; i++)
        if (strcmp(red, reds[i]) == 0 && (i < 3 || c->opset >= 18)) p->reduction = i;
    if (p->reduction < 0)
        return eai__op_fail(c, EAI_E_UNSUPPORTED, "reduction '%s' is not supported", red);
    const eai__shape_t *ds = &c->in[0].shape, *is = &c->in[1].shape, *us = &c->in[2].shape;
    if (c->in[2].dtype != c->in[0].dtype)
        return eai__op_fail(c, EAI_E_INVALID, "updates have dtype %s, data has %s",
                            eai_dtype_name(c->in[2].dtype), eai_dtype_name(c->in[0].dtype));
    /* updates.shape = indices.shape[:-1] + data.shape[k:] */
    const int k = (int)is->d[is->rank - 1];
    bool ok = us->rank == is->rank - 1 + ds->rank - k;
    for (int i = 0; ok && i < us->rank; i++)
        ok = us->d[i] == (i < is->rank - 1 ? is->d[i] : ds->d[k + i - (is->rank - 1)]);
    if (!ok)
        return eai__op_fail(c, EAI_E_INVALID,
                            "updates shape does not match indices.shape[:-1] + data.shape[%d:]", k);
    c->out[0].dtype = c->in[0].dtype;
    c->out[0].shape = *ds;
    return EAI_OK;
}

static eai_status_t scatternd_eval(eai__opctx_t *c)
{
    const nd_params_t *p = c->params;
    const eai__shape_t *ds = &c->in[0].shape, *is = &c->in[1].shape;
    const eai_dtype_t dt = c->in[0].dtype;
    const int64_t es = (int64_t)eai_dtype_size(dt);
    int64_t per = 1, slice = 1;
    for (int i = 0; i < is->rank - 1; i++)
        per *= is->d[i];
    for (int i = (int)is->d[is->rank - 1]; i < ds->rank; i++)
        slice *= ds->d[i];
    uint8_t *out = c->out[0].data;
    const uint8_t *upd = c->in[2].data;
    if (out != c->in[0].data) memcpy(out, c->in[0].data, (size_t)(eai__shape_numel(ds) * es));
    for (int64_t t = 0; t < per; t++) {
        int64_t bad, dim;
        const int64_t off = nd_offset(c, 0, t, &bad, &dim);
        if (off < 0)
            return eai__op_fail(c, EAI_E_INVALID, "index %lld out of range [-%lld, %lld)",
                                (long long)bad, (long long)dim, (long long)dim);
        uint8_t *dst = out + off * es;
        const uint8_t *src = upd + t * slice * es;
        if (p->reduction == 0) {
            memcpy(dst, src, (size_t)(slice * es));
            continue;
        }
        for (int64_t i = 0; i < slice; i++) {
            /* through double for floats, int64 for integers */
            if (eai__layout_is_float(dt)) {
                const double a = eai__layout_get_f64(dt, dst, i),
                             v = eai__layout_get_f64(dt, src, i);
                const double r = p->reduction == 1   ? a + v
                                 : p->reduction == 2 ? a * v
                                 : p->reduction == 3 ? (v > a ? v : a)
                                                     : (v < a ? v : a);
                store_block(dt, dst + i * es, &r, NULL, 1);
            } else {
                const int64_t a = eai__layout_get_i64(dt, dst, i),
                              v = eai__layout_get_i64(dt, src, i);
                const int64_t r = p->reduction == 1   ? a + v
                                  : p->reduction == 2 ? a * v
                                  : p->reduction == 3 ? (v > a ? v : a)
                                                      : (v < a ? v : a);
                store_block(dt, dst + i * es, NULL, &r, 1);
            }
        }
    }
    return EAI_OK;
}

const eai__op_def_t eai__ref_ops_generate[] = {
    {"Cast", 0, 1, 1, 1, 1, cast_infer, cast_eval},
    {"CastLike", 0, 2, 2, 1, 1, castlike_infer, cast_eval},
    {"ConstantOfShape", 0, 1, 1, 1, 1, constant_of_shape_infer, fill_eval},
    {"Range", 0, 3, 3, 1, 1, range_infer, range_eval},
    {"EyeLike", 0, 1, 1, 1, 1, eyelike_infer, eyelike_eval},
    {"NonZero", 0, 1, 1, 1, 1, nonzero_infer, nonzero_eval},
    {"GatherND", 0, 2, 2, 1, 1, gathernd_infer, gathernd_eval},
    {"ScatterND", 0, 3, 3, 1, 1, scatternd_infer, scatternd_eval},
    {0},
};
