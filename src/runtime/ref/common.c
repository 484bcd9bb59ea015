/* Helpers shared by the ref op families (declared in runtime/op_impl.h):
 * node-prefixed failures, axis and constant-input parsing, dtype checks,
 * numpy broadcasting and a contiguous-range parallel_for over the pool.
 * Everything here runs in infer except eai__bcast_strides and
 * eai__parallel_for, which eval uses and which therefore never allocate.
 */
#include <stdio.h>

#include "runtime/op_impl.h"

/* Longest message body an op writes; the prefix is added around it. */
#define MSG_BYTES 512

eai_status_t eai__op_fail(const eai__opctx_t *c, eai_status_t st, const char *fmt, ...)
{
    char msg[MSG_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *label = c->g && c->g->label ? c->g->label : "model";
    return eai_fail(st, "%s: node %d '%s' (%s): %s", label, eai__node_index(c->g, c->node),
                    c->node->name ? c->node->name : "", c->node->op, msg);
}

/* Name of the value bound to input i, for messages ("" when absent). */
static const char *in_name(const eai__opctx_t *c, int i)
{
    if (i >= c->node->n_in || c->node->in[i] < 0) return "";
    const char *n = c->g->values[c->node->in[i]].name;
    return n ? n : "";
}

eai_status_t eai__op_axis(const eai__opctx_t *c, int64_t axis, int rank, int *out)
{
    /* ONNX accepts axis in [-r, r-1] and counts negative axes from the back */
    if (axis < -(int64_t)rank || axis >= rank)
        return eai__op_fail(c, EAI_E_FORMAT,
                            "axis %lld is out of range for rank %d (expected %d..%d)",
                            (long long)axis, rank, -rank, rank - 1);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return EAI_OK;
}

/* Common checks of a constant data input read by infer: present, constant,
 * rank 0 or 1, at most cap values. */
static eai_status_t const_vector(const eai__opctx_t *c, int idx, int cap, int64_t *n)
{
    if (!eai__has_in(c, idx))
        return eai__op_fail(c, EAI_E_FORMAT, "input %d is required here but absent", idx);
    const eai__tview_t *t = &c->in[idx];
    if (!t->data)
        return eai__op_fail(c, EAI_E_UNSUPPORTED,
                            "input %d ('%s') must be constant (an initializer or computable "
                            "from constants), it is a runtime value",
                            idx, in_name(c, idx));
    if (t->shape.rank > 1)
        return eai__op_fail(c, EAI_E_FORMAT,
                            "input %d ('%s') has rank %d, expected a scalar or 1-D", idx,
                            in_name(c, idx), t->shape.rank);
    *n = eai__shape_numel(&t->shape);
    if (*n > cap)
        return eai__op_fail(c, EAI_E_INVALID,
                            "input %d ('%s') has %lld values, at most %d supported", idx,
                            in_name(c, idx), (long long)*n, cap);
    return EAI_OK;
}

eai_status_t eai__op_const_ints(const eai__opctx_t *c, int idx, int64_t *vals, int cap, int *n)
{
    int64_t cnt;
    EAI_TRY(const_vector(c, idx, cap, &cnt));
    const eai__tview_t *t = &c->in[idx];
    if (t->dtype == EAI_I64) {
        const int64_t *p = t->data;
        for (int64_t i = 0; i < cnt; i++)
            vals[i] = p[i];
    } else if (t->dtype == EAI_I32) {
        const int32_t *p = t->data;
        for (int64_t i = 0; i < cnt; i++)
            vals[i] = p[i];
    } else {
        return eai__op_fail(c, EAI_E_FORMAT,
                            "input %d ('%s') has dtype %s, expected int64 or int32", idx,
                            in_name(c, idx), eai_dtype_name(t->dtype));
    }
    *n = (int)cnt;
    return EAI_OK;
}

eai_status_t eai__op_const_floats(const eai__opctx_t *c, int idx, float *vals, int cap, int *n)
{
    int64_t cnt;
    EAI_TRY(const_vector(c, idx, cap, &cnt));
    const eai__tview_t *t = &c->in[idx];
    if (t->dtype == EAI_F32) {
        const float *p = t->data;
        for (int64_t i = 0; i < cnt; i++)
            vals[i] = p[i];
    } else if (t->dtype == EAI_F16) {
        const uint16_t *p = t->data;
        for (int64_t i = 0; i < cnt; i++)
            vals[i] = eai_f16_to_f32(p[i]);
    } else if (t->dtype == EAI_F64) {
        const double *p = t->data;
        for (int64_t i = 0; i < cnt; i++)
            vals[i] = (float)p[i];
    } else {
        return eai__op_fail(c, EAI_E_FORMAT,
                            "input %d ('%s') has dtype %s, expected float32, float16 or float64",
                            idx, in_name(c, idx), eai_dtype_name(t->dtype));
    }
    *n = (int)cnt;
    return EAI_OK;
}

eai_status_t eai__op_dtype(const eai__opctx_t *c, int i, const eai_dtype_t *ok)
{
    if (i >= c->n_in)
        return eai__op_fail(c, EAI_E_FORMAT, "input %d is missing (%d inputs)", i, c->n_in);
    eai_dtype_t dt = c->in[i].dtype;
    for (const eai_dtype_t *p = ok; *p; p++)
        if (*p == dt) return EAI_OK;
    /* list the accepted types so the reader knows what would work */
    char list[128];
    size_t len = 0;
    list[0] = '\0';
    for (const eai_dtype_t *p = ok; *p && len < sizeof list; p++) {
        int w = snprintf(list + len, sizeof list - len, "%s%s", p == ok ? "" : ", ",
                         eai_dtype_name(*p));
        if (w < 0) break;
        len += (size_t)w;
    }
    return eai__op_fail(c, EAI_E_UNSUPPORTED, "input %d ('%s') has dtype %s, expected %s", i,
                        in_name(c, i), eai_dtype_name(dt), list);
}

eai_status_t eai__op_f32(const eai__opctx_t *c, int i)
{
    static const eai_dtype_t f32[] = {EAI_F32, 0};
    return eai__op_dtype(c, i, f32);
}

/* "[2,3,4]" into buf. */
static const char *shape_str(const eai__shape_t *s, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    len += (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < s->rank && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%lld", i ? "," : "", (long long)s->d[i]);
    if (len < cap) snprintf(buf + len, cap - len, "]");
    return buf;
}

eai_status_t eai__op_broadcast(const eai__opctx_t *c, const eai__shape_t *a, const eai__shape_t *b,
                               eai__shape_t *out)
{
    /* ONNX multidirectional broadcasting (Broadcasting.md): align from the
     * right; each pair of dims must be equal or one of them 1. */
    int rank = a->rank > b->rank ? a->rank : b->rank;
    eai__shape_t r = {.rank = rank};
    for (int i = 0; i < rank; i++) {
        int ia = i - (rank - a->rank), ib = i - (rank - b->rank);
        int64_t da = ia >= 0 ? a->d[ia] : 1, db = ib >= 0 ? b->d[ib] : 1;
        int64_t d;
        if (da == db || db == 1)
            d = da;
        else if (da == 1)
            d = db;
        else if (da < 0 || db < 0) /* unknown against known: the known one wins */
            d = da < 0 ? db : da;
        else {
            char sa[160], sb[160];
            return eai__op_fail(c, EAI_E_INVALID,
                                "cannot broadcast shapes %s and %s (dim %d: %lld vs %lld)",
                                shape_str(a, sa, sizeof sa), shape_str(b, sb, sizeof sb), i,
                                (long long)da, (long long)db);
        }
        r.d[i] = d;
    }
    *out = r;
    return EAI_OK;
}

void eai__bcast_strides(const eai__shape_t *in, const eai__shape_t *out, int64_t *strides)
{
    int off = out->rank - in->rank;
    int64_t s = 1;
    for (int i = out->rank - 1; i >= 0; i--) {
        int j = i - off;
        if (j < 0) {
            strides[i] = 0;
            continue;
        }
        strides[i] = (in->d[j] == 1 && out->d[i] != 1) ? 0 : s;
        s *= in->d[j];
    }
}

typedef struct pfor {
    eai__range_fn fn;
    void *ctx;
    int64_t n;
} pfor_t;

static void pfor_task(void *ctx, int ith, int nth)
{
    const pfor_t *p = ctx;
    /* contiguous chunks keep each thread's memory streams sequential */
    int64_t begin = p->n * ith / nth, end = p->n * (ith + 1) / nth;
    if (begin < end) p->fn(p->ctx, begin, end);
}

void eai__parallel_for(eai_threadpool_t *pool, int64_t n, eai__range_fn fn, void *ctx)
{
    if (n <= 0) return;
    /* Items may be heavy (a conv output channel) or light (one float): the
     * caller knows which, so "small" here only means nothing to split. Cheap
     * per-item callers pass n in blocks or call fn directly below a size. */
    if (!pool || n < 2 || eai_threadpool_size(pool) <= 1) {
        fn(ctx, 0, n);
        return;
    }
    pfor_t p = {fn, ctx, n};
    eai_threadpool_run(pool, pfor_task, &p);
}

eai_status_t eai__op_dims_attr(const eai__opctx_t *c, const char *name, int want, bool required,
                               int64_t def, int64_t min, int64_t *out)
{
    int64_t v[2 * EAI_MAX_RANK];
    int n;
    EAI_TRY(eai__op_ints(c, name, v, 2 * EAI_MAX_RANK, &n));
    if (n < 0) {
        if (required) return eai__op_fail(c, EAI_E_FORMAT, "attribute %s is required", name);
        for (int i = 0; i < want; i++)
            out[i] = def;
        return EAI_OK;
    }
    if (n != want)
        return eai__op_fail(c, EAI_E_FORMAT, "%s has %d values, expected %d", name, n, want);
    for (int i = 0; i < n; i++) {
        if (v[i] < min)
            return eai__op_fail(c, EAI_E_FORMAT, "%s[%d] is %lld, expected >= %lld", name, i,
                                (long long)v[i], (long long)min);
        out[i] = v[i];
    }
    return EAI_OK;
}
