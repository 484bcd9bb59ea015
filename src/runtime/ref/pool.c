/* Op family 'pool' (ref backend): MaxPool (opset 8-12: dilations, ceil_mode,
 * storage_order, the optional Indices output, int8/uint8), AveragePool
 * (opset 7-19: count_include_pad, ceil_mode, dilations), GlobalAveragePool
 * and GlobalMaxPool; NCHW, 1-D to 3-D.
 *
 * Geometry is normalised to three spatial dims like conv's; each output
 * element walks only the taps that fall inside the input, so padding costs
 * nothing and never needs a sentinel value.
 */
#include <float.h>

#include "runtime/op_impl.h"

#define SP 3 /* spatial dims after normalisation (leading ones have size 1) */

typedef struct pool_params {
    int nsp;
    int64_t planes; /* N * C */
    int64_t in[SP], out[SP], k[SP], s[SP], d[SP], pb[SP], pe[SP];
    bool count_include_pad;
    bool col_major;   /* storage_order 1: Indices count the first spatial dim fastest */
    bool has_indices; /* MaxPool's optional second output */
    eai_dtype_t dtype;
} pool_params_t;
_Static_assert(sizeof(pool_params_t) <= EAI__PARAMS_BYTES, "pool params");

static eai_status_t pool_infer(eai__opctx_t *c, bool is_max)
{
    static const eai_dtype_t max_types[] = {EAI_F32, EAI_U8, EAI_I8, 0};
    if (is_max)
        EAI_TRY(eai__op_dtype(c, 0, max_types));
    else
        EAI_TRY(eai__op_f32(c, 0));
    const eai__shape_t *x = &c->in[0].shape;
    if (x->rank < 3 || x->rank > 5)
        return eai__op_fail(c, EAI_E_UNSUPPORTED,
                            "X has rank %d; 1-D to 3-D pooling (rank 3 to 5) is supported",
                            x->rank);
    pool_params_t *p = c->params;
    const int nsp = x->rank - 2, off = SP - nsp;
    p->nsp = nsp;
    p->dtype = c->in[0].dtype;
    p->planes = x->d[0] * x->d[1];
    for (int i = 0; i < SP; i++) {
        p->in[i] = p->out[i] = p->k[i] = p->s[i] = p->d[i] = 1;
        p->pb[i] = p->pe[i] = 0;
    }
    int64_t v[2 * SP];
    EAI_TRY(eai__op_dims_attr(c, "kernel_shape", nsp, true, 1, 1, v));
    memcpy(p->k + off, v, sizeof(int64_t) * (size_t)nsp);
    EAI_TRY(eai__op_dims_attr(c, "strides", nsp, false, 1, 1, v));
    memcpy(p->s + off, v, sizeof(int64_t) * (size_t)nsp);
    EAI_TRY(eai__op_dims_attr(c, "dilations", nsp, false, 1, 1, v));
    memcpy(p->d + off, v, sizeof(int64_t) * (size_t)nsp);
    EAI_TRY(eai__op_dims_attr(c, "pads", 2 * nsp, false, 0, 0, v));
    for (int i = 0; i < nsp; i++) {
        p->pb[off + i] = v[i];
        p->pe[off + i] = v[nsp + i];
        p->in[off + i] = x->d[2 + i];
    }
    int64_t ceil_mode, cip = 0, order = 0;
    EAI_TRY(eai__op_int(c, "ceil_mode", 0, &ceil_mode));
    if (!is_max) EAI_TRY(eai__op_int(c, "count_include_pad", 0, &cip));
    if (is_max) EAI_TRY(eai__op_int(c, "storage_order", 0, &order));
    if (order != 0 && order != 1)
        return eai__op_fail(c, EAI_E_FORMAT, "storage_order is %lld, expected 0 or 1",
                            (long long)order);
    p->count_include_pad = cip != 0;
    p->col_major = order == 1;
    const char *ap;
    EAI_TRY(eai__op_string(c, "auto_pad", "NOTSET", &ap));
    const bool upper = strcmp(ap, "SAME_UPPER") == 0, lower = strcmp(ap, "SAME_LOWER") == 0;
    const bool valid = strcmp(ap, "VALID") == 0;
    if (!upper && !lower && !valid && strcmp(ap, "NOTSET") != 0)
        return eai__op_fail(c, EAI_E_FORMAT,
                            "auto_pad '%s' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID",
                            ap);

    eai__shape_t *o = &c->out[0].shape;
    o->rank = x->rank;
    o->d[0] = x->d[0];
    o->d[1] = x->d[1];
    for (int i = off; i < SP; i++) {
        const int64_t ek = (p->k[i] - 1) * p->d[i] + 1;
        if (upper || lower) {
            /* same output as input / stride; the odd pad at the end (UPPER)
             * or start (LOWER) */
            p->out[i] = (p->in[i] + p->s[i] - 1) / p->s[i];
            int64_t total = (p->out[i] - 1) * p->s[i] + ek - p->in[i];
            if (total < 0) total = 0;
            p->pb[i] = upper ? total / 2 : total - total / 2;
            p->pe[i] = total - p->pb[i];
        } else {
            if (valid) p->pb[i] = p->pe[i] = 0;
            if (p->pb[i] >= ek || p->pe[i] >= ek)
                return eai__op_fail(c, EAI_E_FORMAT,
                                    "pads %lld/%lld of spatial dim %d are not smaller than the "
                                    "(dilated) kernel %lld",
                                    (long long)p->pb[i], (long long)p->pe[i], i - off,
                                    (long long)ek);
            const int64_t span = p->in[i] + p->pb[i] + p->pe[i] - ek;
            if (span < 0)
                return eai__op_fail(c, EAI_E_FORMAT,
                                    "spatial dim %d: padded input %lld is smaller than the "
                                    "kernel %lld",
                                    i - off, (long long)(span + ek), (long long)ek);
            p->out[i] = (ceil_mode ? (span + p->s[i] - 1) / p->s[i] : span / p->s[i]) + 1;
            /* ceil_mode: the last window must start inside the input or its
             * left padding (as in PyTorch and onnxruntime) */
            if (ceil_mode && (p->out[i] - 1) * p->s[i] >= p->in[i] + p->pb[i]) p->out[i]--;
        }
        o->d[2 + i - off] = p->out[i];
    }
    c->out[0].dtype = p->dtype;
    if (c->n_out > 1 && c->node->out[1] >= 0) {
        p->has_indices = true;
        c->out[1].dtype = EAI_I64;
        c->out[1].shape = *o;
    }
    return EAI_OK;
}

static eai_status_t maxpool_infer(eai__opctx_t *c)
{
    return pool_infer(c, true);
}

static eai_status_t avgpool_infer(eai__opctx_t *c)
{
    return pool_infer(c, false);
}

/* Taps t in [0, k) of a window starting at `start` with dilation d that fall
 * in [lo_lim, hi_lim): [*t0, *t1). */
static void taps(int64_t start, int64_t k, int64_t d, int64_t lo_lim, int64_t hi_lim, int64_t *t0,
                 int64_t *t1)
{
    int64_t a = start >= lo_lim ? 0 : (lo_lim - start + d - 1) / d;
    int64_t b = hi_lim - 1 - start < 0 ? 0 : (hi_lim - 1 - start) / d + 1;
    if (b > k) b = k;
    if (a > b) a = b;
    *t0 = a;
    *t1 = b;
}

typedef struct pool_job {
    const pool_params_t *p;
    const void *x;
    void *y;
    int64_t *idx;
} pool_job_t;

/* The window loops shared by every pooling kernel: for each output element
 * of the planes [b, e), WINDOW_BODY runs once per tap inside the input with
 * `in_off` its offset in the plane. */
#define POOL_LOOPS(INIT, WINDOW_BODY, FINISH)                                                      \
    const pool_params_t *p = j->p;                                                                 \
    const int64_t isz = p->in[0] * p->in[1] * p->in[2];                                            \
    const int64_t osz = p->out[0] * p->out[1] * p->out[2];                                         \
    for (int64_t pl = b; pl < e; pl++) {                                                           \
        int64_t oi = pl * osz;                                                                     \
        for (int64_t o0 = 0; o0 < p->out[0]; o0++) {                                               \
            int64_t a0, z0, st0 = o0 * p->s[0] - p->pb[0];                                         \
            taps(st0, p->k[0], p->d[0], 0, p->in[0], &a0, &z0);                                    \
            for (int64_t o1 = 0; o1 < p->out[1]; o1++) {                                           \
                int64_t a1, z1, st1 = o1 * p->s[1] - p->pb[1];                                     \
                taps(st1, p->k[1], p->d[1], 0, p->in[1], &a1, &z1);                                \
                for (int64_t o2 = 0; o2 < p->out[2]; o2++, oi++) {                                 \
                    int64_t a2, z2, st2 = o2 * p->s[2] - p->pb[2];                                 \
                    taps(st2, p->k[2], p->d[2], 0, p->in[2], &a2, &z2);                            \
                    INIT;                                                                          \
                    for (int64_t t0 = a0; t0 < z0; t0++)                                           \
                        for (int64_t t1 = a1; t1 < z1; t1++)                                       \
                            for (int64_t t2 = a2; t2 < z2; t2++) {                                 \
                                const int64_t i0 = st0 + t0 * p->d[0];                             \
                                const int64_t i1 = st1 + t1 * p->d[1];                             \
                                const int64_t i2 = st2 + t2 * p->d[2];                             \
                                const int64_t in_off = (i0 * p->in[1] + i1) * p->in[2] + i2;       \
                                WINDOW_BODY;                                                       \
                            }                                                                      \
                    FINISH;                                                                        \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

/* ONNX Indices: offsets into the whole X (batch and channel included), row-
 * major, or with the spatial dims reversed for storage_order 1. */
#define MAX_INDEX (pl * isz + (p->col_major ? (i2 * p->in[1] + i1) * p->in[0] + i0 : in_off))

#define DEFINE_MAXPOOL(name, T, LOWEST)                                                            \
    static void name(void *ctx, int64_t b, int64_t e)                                              \
    {                                                                                              \
        const pool_job_t *j = ctx;                                                                 \
        const T *x = j->x;                                                                         \
        T *y = j->y;                                                                               \
        POOL_LOOPS(                                                                                \
            T best = LOWEST; int64_t arg = -1, const T v = x[pl * isz + in_off];                   \
            if (arg < 0 || v > best) {                                                             \
                best = v;                                                                          \
                arg = MAX_INDEX;                                                                   \
            },                                                                                     \
            y[oi] = best;                                                                          \
            if (j->idx) j->idx[oi] = arg < 0 ? 0 : arg)                                            \
    }

DEFINE_MAXPOOL(maxpool_f32, float, -FLT_MAX)
DEFINE_MAXPOOL(maxpool_u8, uint8_t, 0)
DEFINE_MAXPOOL(maxpool_i8, int8_t, INT8_MIN)

/* The divisor of one average window. count_include_pad counts the taps
 * inside the padded input (as PyTorch and onnxruntime do: with ceil_mode a
 * window may reach past the end padding, and those taps never count). */
static float avg_of(const pool_params_t *p, float sum, int64_t st0, int64_t st1, int64_t st2,
                    int64_t n_in)
{
    int64_t n = n_in;
    if (p->count_include_pad) {
        const int64_t st[SP] = {st0, st1, st2};
        n = 1;
        for (int i = 0; i < SP; i++) {
            int64_t a, z;
            taps(st[i], p->k[i], p->d[i], -p->pb[i], p->in[i] + p->pe[i], &a, &z);
            n *= z - a;
        }
    }
    return n > 0 ? sum / (float)n : 0.0f;
}

static void avgpool_f32(void *ctx, int64_t b, int64_t e)
{
    const pool_job_t *j = ctx;
    const float *x = j->x;
    float *y = j->y;
    POOL_LOOPS(float sum = 0.0f, sum += x[pl * isz + in_off],
               y[oi] = avg_of(p, sum, st0, st1, st2, (z0 - a0) * (z1 - a1) * (z2 - a2)))
}

static eai_status_t maxpool_eval(eai__opctx_t *c)
{
    const pool_params_t *p = c->params;
    pool_job_t j = {p, c->in[0].data, c->out[0].data, p->has_indices ? c->out[1].data : NULL};
    eai__range_fn fn = p->dtype == EAI_U8   ? maxpool_u8
                       : p->dtype == EAI_I8 ? maxpool_i8
                                            : maxpool_f32;
    eai__parallel_for(c->pool, p->planes, fn, &j);
    return EAI_OK;
}

static eai_status_t avgpool_eval(eai__opctx_t *c)
{
    const pool_params_t *p = c->params;
    pool_job_t j = {p, c->in[0].data, c->out[0].data, NULL};
    eai__parallel_for(c->pool, p->planes, avgpool_f32, &j);
    return EAI_OK;
}

/* ---- GlobalAveragePool, GlobalMaxPool (opset 1) ---- */

typedef struct gpool_params {
    int64_t planes, size; /* N * C planes of `size` elements */
} gpool_params_t;

static eai_status_t gpool_infer(eai__opctx_t *c)
{
    EAI_TRY(eai__op_f32(c, 0));
    const eai__shape_t *x = &c->in[0].shape;
    if (x->rank < 3)
        return eai__op_fail(c, EAI_E_FORMAT, "X has rank %d, expected N x C x D1 ... (>= 3)",
                            x->rank);
    gpool_params_t *p = c->params;
    p->planes = x->d[0] * x->d[1];
    p->size = 1;
    eai__shape_t *o = &c->out[0].shape;
    *o = *x;
    for (int i = 2; i < x->rank; i++) {
        p->size *= x->d[i];
        o->d[i] = 1;
    }
    c->out[0].dtype = EAI_F32;
    return EAI_OK;
}

typedef struct gpool_job {
    const gpool_params_t *p;
    const float *x;
    float *y;
} gpool_job_t;

#define LANES 16

static void gavg_planes(void *ctx, int64_t b, int64_t e)
{
    const gpool_job_t *j = ctx;
    const int64_t n = j->p->size;
    for (int64_t pl = b; pl < e; pl++) {
        const float *x = j->x + pl * n;
        /* LANES partial sums: vectorized without reassociation flags */
        float acc[LANES] = {0};
        int64_t i = 0;
        for (; i + LANES <= n; i += LANES)
            for (int l = 0; l < LANES; l++)
                acc[l] += x[i + l];
        float s = 0.0f;
        for (; i < n; i++)
            s += x[i];
        for (int l = 0; l < LANES; l++)
            s += acc[l];
        j->y[pl] = n > 0 ? s / (float)n : 0.0f;
    }
}

static void gmax_planes(void *ctx, int64_t b, int64_t e)
{
    const gpool_job_t *j = ctx;
    const int64_t n = j->p->size;
    for (int64_t pl = b; pl < e; pl++) {
        const float *x = j->x + pl * n;
        float acc[LANES];
        for (int l = 0; l < LANES; l++)
            acc[l] = -INFINITY;
        int64_t i = 0;
        for (; i + LANES <= n; i += LANES)
            for (int l = 0; l < LANES; l++)
                acc[l] = x[i + l] > acc[l] ? x[i + l] : acc[l];
        float m = -INFINITY;
        for (; i < n; i++)
            m = x[i] > m ? x[i] : m;
        for (int l = 0; l < LANES; l++)
            m = acc[l] > m ? acc[l] : m;
        j->y[pl] = m;
    }
}

static eai_status_t gavg_eval(eai__opctx_t *c)
{
    gpool_job_t j = {c->params, c->in[0].data, c->out[0].data};
    eai__parallel_for(c->pool, j.p->planes, gavg_planes, &j);
    return EAI_OK;
}

static eai_status_t gmax_eval(eai__opctx_t *c)
{
    gpool_job_t j = {c->params, c->in[0].data, c->out[0].data};
    eai__parallel_for(c->pool, j.p->planes, gmax_planes, &j);
    return EAI_OK;
}

const eai__op_def_t eai__ref_ops_pool[] = {
    {"MaxPool", 0, 1, 1, 1, 2, maxpool_infer, maxpool_eval},
    {"AveragePool", 0, 1, 1, 1, 1, avgpool_infer, avgpool_eval},
    {"GlobalAveragePool", 0, 1, 1, 1, 1, gpool_infer, gavg_eval},
    {"GlobalMaxPool", 0, 1, 1, 1, 1, gpool_infer, gmax_eval},
    {0},
};
