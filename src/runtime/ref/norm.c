/* Op family 'norm' (ref backend): BatchNormalization (inference),
 * InstanceNormalization and LayerNormalization (opset 17).
 *
 * BatchNormalization folds its four vectors into y = x * a[c] + b[c] once per
 * eval (O(C) into scratch) so the per-element loop is one multiply-add. The
 * other two compute mean and variance per row in two passes (mean first,
 * then squared deviations), which stays accurate when |mean| >> stddev.
 */
#include "runtime/ref/elementwise_impl.h"

/* ---- shared row statistics ---- */

static float row_sum(const float *x, int64_t n)
{
    float acc[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            acc[j] += x[i + j];
    for (; i < n; i++)
        acc[0] += x[i];
    float s = 0;
    for (int j = 0; j < 8; j++)
        s += acc[j];
    return s;
}

static float row_sqdev(const float *x, int64_t n, float mean)
{
    float acc[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) {
            float d = x[i + j] - mean;
            acc[j] += d * d;
        }
    for (; i < n; i++) {
        float d = x[i] - mean;
        acc[0] += d * d;
    }
    float s = 0;
    for (int j = 0; j < 8; j++)
        s += acc[j];
    return s;
}

/* Whether the node asks for output i (infer: c->out[i] is not filled yet). */
static bool wants_out(const eai__opctx_t *c, int i)
{
    return i < c->node->n_out && c->node->out[i] >= 0;
}

/* Checks that input i is a float32 vector of c elements (any shape whose
 * element count is c, as exporters write [C] or [C,1,1]). */
static eai_status_t check_vec(eai__opctx_t *c, int i, const char *what, int64_t n)
{
    EAI_TRY(eai__op_f32(c, i));
    int64_t m = eai__shape_numel(&c->in[i].shape);
    if (m != n)
        return eai__op_fail(c, EAI_E_INVALID, "%s has %lld elements, expected %lld (channels)",
                            what, (long long)m, (long long)n);
    return EAI_OK;
}

/* ---- BatchNormalization (opset 6-15, inference only) ---- */

typedef struct bnparams {
    float eps;
    int64_t n, ch, plane; /* X as [N, C, plane] */
} bnparams_t;
_Static_assert(sizeof(bnparams_t) <= EAI__PARAMS_BYTES, "bnparams_t too big");

static eai_status_t bn_infer(eai__opctx_t *c)
{
    bnparams_t *p = c->params;
    EAI_TRY(eai__op_f32(c, 0));
    const eai__shape_t *x = &c->in[0].shape;
    if (x->rank < 2)
        return eai__op_fail(c, EAI_E_INVALID, "X has rank %d, expected at least 2 (N, C, ...)",
                            x->rank);
    int64_t training, spatial;
    EAI_TRY(eai__op_int(c, "training_mode", 0, &training));
    EAI_TRY(eai__op_int(c, "spatial", 1, &spatial));
    if (training)
        return eai__op_fail(c, EAI_E_UNSUPPORTED,
                            "training_mode=1 is not supported (inference runtime); export the "
                            "model in eval mode");
    /* opset < 9: spatial=0 meant per-activation statistics of shape [C, D...] */
    if (!spatial)
        return eai__op_fail(c, EAI_E_UNSUPPORTED,
                            "spatial=0 (per-activation statistics) is not "
                            "supported");
    for (int i = 1; i < c->n_out; i++)
        if (wants_out(c, i))
            return eai__op_fail(c, EAI_E_UNSUPPORTED,
                                "output %d (running statistics of training) is not supported", i);
    p->ch = x->d[1];
    static const char *const names[] = {"", "scale", "B", "input_mean", "input_var"};
    for (int i = 1; i < 5; i++)
        EAI_TRY(check_vec(c, i, names[i], p->ch));
    EAI_TRY(eai__op_float(c, "epsilon", 1e-5f, &p->eps));
    p->n = x->d[0];
    p->plane = 1;
    for (int i = 2; i < x->rank; i++)
        p->plane *= x->d[i];
    c->scratch_bytes = 2 * (size_t)p->ch * sizeof(float);
    c->out[0].dtype = EAI_F32;
    c->out[0].shape = *x;
    return EAI_OK;
}

typedef struct bnrun {
    const bnparams_t *p;
    const float *x, *a, *b;
    float *y;
} bnrun_t;

/* units: (n, c) planes */
static void bn_planes(void *ctx, int64_t b, int64_t e)
{
    const bnrun_t *r = ctx;
    int64_t hw = r->p->plane;
    for (int64_t u = b; u < e; u++) {
        int64_t ch = u % r->p->ch;
        const float ka = r->a[ch], kb = r->b[ch];
        const float *x = r->x + u * hw;
        float *y = r->y + u * hw;
        for (int64_t i = 0; i < hw; i++)
            y[i] = x[i] * ka + kb;
    }
}

static eai_status_t bn_eval(eai__opctx_t *c)
{
    const bnparams_t *p = c->params;
    const float *scale = c->in[1].data, *bias = c->in[2].data;
    const float *mean = c->in[3].data, *var = c->in[4].data;
    float *a = c->scratch, *b = a + p->ch;
    for (int64_t i = 0; i < p->ch; i++) {
        a[i] = scale[i] / sqrtf(var[i] + p->eps);
        b[i] = bias[i] - mean[i] * a[i];
    }
    bnrun_t r = {p, c->in[0].data, a, b, c->out[0].data};
    ew_parallel_items(c->pool, p->n * p->ch, p->plane, bn_planes, &r);
    return EAI_OK;
}

/* ---- InstanceNormalization (opset 6) ---- */

typedef struct inparams {
    float eps;
    int64_t ch, plane, n_planes;
} inparams_t;
_Static_assert(sizeof(inparams_t) <= EAI__PARAMS_BYTES, "inparams_t too big");

static eai_status_t in_infer(eai__opctx_t *c)
{
    inparams_t *p = c->params;
    EAI_TRY(eai__op_f32(c, 0));
    const eai__shape_t *x = &c->in[0].shape;
    if (x->rank < 3)
        return eai__op_fail(c, EAI_E_INVALID, "X has rank %d, expected at least 3 (N, C, D...)",
                            x->rank);
    p->ch = x->d[1];
    EAI_TRY(check_vec(c, 1, "scale", p->ch));
    EAI_TRY(check_vec(c, 2, "B", p->ch));
    EAI_TRY(eai__op_float(c, "epsilon", 1e-5f, &p->eps));
    p->plane = 1;
    for (int i = 2; i < x->rank; i++)
        p->plane *= x->d[i];
    p->n_planes = x->d[0] * p->ch;
    c->out[0].dtype = EAI_F32;
    c->out[0].shape = *x;
    return EAI_OK;
}

typedef struct inrun {
    const inparams_t *p;
    const float *x, *scale, *bias;
    float *y;
} inrun_t;

static void in_planes(void *ctx, int64_t b, int64_t e)
{
    const inrun_t *r = ctx;
    int64_t n = r->p->plane;
    for (int64_t u = b; u < e; u++) {
        int64_t ch = u % r->p->ch;
        const float *x = r->x + u * n;
        float *y = r->y + u * n;
        float mean = n ? row_sum(x, n) / (float)n : 0.0f;
        float var = n ? row_sqdev(x, n, mean) / (float)n : 0.0f;
        float k = r->scale[ch] / sqrtf(var + r->p->eps);
        float off = r->bias[ch] - mean * k;
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] * k + off;
    }
}

static eai_status_t in_eval(eai__opctx_t *c)
{
    const inparams_t *p = c->params;
    inrun_t r = {p, c->in[0].data, c->in[1].data, c->in[2].data, c->out[0].data};
    ew_parallel_items(c->pool, p->n_planes, 2 * p->plane, in_planes, &r);
    return EAI_OK;
}

/* ---- LayerNormalization (opset 17) ---- */

typedef struct lnparams {
    float eps;
    int64_t rows, len; /* X as [rows, len], len = prod(d[axis:]) */
    bool scale_scalar, bias_scalar;
} lnparams_t;
_Static_assert(sizeof(lnparams_t) <= EAI__PARAMS_BYTES, "lnparams_t too big");

/* Scale and B broadcast unidirectionally to X.shape[axis:]; the dense and
 * the scalar cases are the ones exporters write. */
static eai_status_t ln_param(eai__opctx_t *c, int i, const eai__shape_t *norm, bool *scalar)
{
    EAI_TRY(eai__op_f32(c, i));
    const char *what = i == 1 ? "Scale" : "B";
    eai__shape_t s;
    EAI_TRY(eai__op_broadcast(c, norm, &c->in[i].shape, &s));
    bool same = s.rank == norm->rank;
    for (int d = 0; same && d < s.rank; d++)
        same = s.d[d] == norm->d[d];
    int64_t n = eai__shape_numel(&c->in[i].shape);
    if (!same)
        return eai__op_fail(c, EAI_E_INVALID, "%s (rank %d) does not broadcast to X.shape[axis:]",
                            what, c->in[i].shape.rank);
    if (n != 1 && n != eai__shape_numel(norm))
        return eai__op_fail(c, EAI_E_UNSUPPORTED,
                            "%s broadcasts along part of the normalised dims; only a full or a "
                            "scalar %s is supported",
                            what, what);
    *scalar = n == 1 && eai__shape_numel(norm) != 1;
    return EAI_OK;
}

static eai_status_t ln_infer(eai__opctx_t *c)
{
    lnparams_t *p = c->params;
    EAI_TRY(eai__op_f32(c, 0));
    const eai__shape_t *x = &c->in[0].shape;
    int64_t axis, stash;
    EAI_TRY(eai__op_int(c, "axis", -1, &axis));
    EAI_TRY(eai__op_int(c, "stash_type", 1, &stash));
    EAI_TRY(eai__op_float(c, "epsilon", 1e-5f, &p->eps));
    if (stash != 1)
        return eai__op_fail(c, EAI_E_UNSUPPORTED, "stash_type %lld (only 1, float32, is supported)",
                            (long long)stash);
    int ax;
    EAI_TRY(eai__op_axis(c, axis, x->rank, &ax));
    eai__shape_t norm = {.rank = x->rank - ax};
    p->rows = p->len = 1;
    for (int i = 0; i < x->rank; i++) {
        if (i < ax)
            p->rows *= x->d[i];
        else
            p->len *= (norm.d[i - ax] = x->d[i]);
    }
    EAI_TRY(ln_param(c, 1, &norm, &p->scale_scalar));
    if (eai__has_in(c, 2)) EAI_TRY(ln_param(c, 2, &norm, &p->bias_scalar));
    c->out[0].dtype = EAI_F32;
    c->out[0].shape = *x;
    /* Mean and InvStdDev: X.shape[:axis] followed by ones */
    eai__shape_t st = *x;
    for (int i = ax; i < x->rank; i++)
        st.d[i] = 1;
    for (int i = 1; i < 3; i++)
        if (wants_out(c, i)) {
            c->out[i].dtype = EAI_F32;
            c->out[i].shape = st;
        }
    return EAI_OK;
}

typedef struct lnrun {
    const lnparams_t *p;
    const float *x, *scale, *bias; /* bias may be NULL */
    float *y, *mean, *inv;         /* mean/inv may be NULL */
} lnrun_t;

static void ln_rows(void *ctx, int64_t b, int64_t e)
{
    const lnrun_t *r = ctx;
    const lnparams_t *p = r->p;
    int64_t n = p->len;
    for (int64_t u = b; u < e; u++) {
        const float *x = r->x + u * n;
        float *y = r->y + u * n;
        float mean = n ? row_sum(x, n) / (float)n : 0.0f;
        float var = n ? row_sqdev(x, n, mean) / (float)n : 0.0f;
        float inv = 1.0f / sqrtf(var + p->eps);
        if (r->mean) r->mean[u] = mean;
        if (r->inv) r->inv[u] = inv;
        if (p->scale_scalar) {
            float k = r->scale[0] * inv;
            for (int64_t i = 0; i < n; i++)
                y[i] = (x[i] - mean) * k;
        } else {
            const float *s = r->scale;
            for (int64_t i = 0; i < n; i++)
                y[i] = (x[i] - mean) * inv * s[i];
        }
        if (!r->bias) continue;
        if (p->bias_scalar) {
            float bb = r->bias[0];
            for (int64_t i = 0; i < n; i++)
                y[i] += bb;
        } else {
            const float *bv = r->bias;
            for (int64_t i = 0; i < n; i++)
                y[i] += bv[i];
        }
    }
}

static eai_status_t ln_eval(eai__opctx_t *c)
{
    const lnparams_t *p = c->params;
    lnrun_t r = {p,
                 c->in[0].data,
                 c->in[1].data,
                 eai__has_in(c, 2) ? c->in[2].data : NULL,
                 c->out[0].data,
                 eai__has_out(c, 1) ? c->out[1].data : NULL,
                 eai__has_out(c, 2) ? c->out[2].data : NULL};
    ew_parallel_items(c->pool, p->rows, 3 * p->len, ln_rows, &r);
    return EAI_OK;
}

const eai__op_def_t eai__ref_ops_norm[] = {
    {"BatchNormalization", 0, 5, 5, 1, 5, bn_infer, bn_eval},
    {"InstanceNormalization", 0, 3, 3, 1, 1, in_infer, in_eval},
    {"LayerNormalization", 0, 2, 3, 1, 3, ln_infer, ln_eval},
    {0},
};
