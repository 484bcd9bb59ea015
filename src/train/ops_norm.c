/* Training kernels for BatchNormalization and Dropout, the two ops whose
 * behaviour depends on step (training) vs eval.
 *
 * BatchNormalization in a step normalises with the batch mean and biased
 * variance and updates the running statistics in place (PyTorch's rule:
 * running = momentum * running + (1 - momentum) * batch, the variance taken
 * unbiased); in eval it uses the running statistics. Inputs 3 and 4 are
 * buffers. Dropout keeps each element with probability 1 - ratio and scales
 * it by 1 / (1 - ratio) (inverted dropout); the mask is saved for backward.
 */
#include <math.h>

#include "train/ops_impl.h"

typedef struct bn_state {
    float eps, momentum;
    int64_t c;
    bool batch_stats;     /* the last forward normalised with batch statistics */
    float *mean, *invstd; /* per channel, as the last forward used them */
} bn_state_t;

static eai_status_t bn_infer(eai__tnode_t *n)
{
    const bn_state_t *s = n->state;
    const eai__shape_t *x = &n->in[0]->shape;
    if (x->rank < 2 || x->d[1] != s->c)
        return eai__top_fail(n, EAI_E_FORMAT, "input must be [N, %lld, ...] (rank %d given)",
                             (long long)s->c, x->rank);
    n->out[0]->shape = *x;
    return EAI_OK;
}

static eai_status_t bn_prepare(eai__tnode_t *n, const eai_allocator_t *a, size_t *scratch)
{
    EAI_TRY(eai__top_check_io(n, 5, 5, 5));
    if (n->n_out > 1 && (n->out[1] || (n->n_out > 2 && n->out[2])))
        return eai__top_fail(n, EAI_E_UNSUPPORTED,
                             "the running_mean/running_var outputs are not supported");
    const eai__shape_t *x = &n->in[0]->shape;
    if (x->rank < 2)
        return eai__top_fail(n, EAI_E_FORMAT, "input has rank %d, expected at least 2", x->rank);
    int64_t c = x->d[1];
    for (int i = 1; i < 5; i++) {
        const eai__shape_t *p = &n->in[i]->shape;
        if (p->rank != 1 || p->d[0] != c)
            return eai__top_fail(n, EAI_E_FORMAT, "input %d must be [%lld]", i, (long long)c);
    }
    float eps, mom;
    EAI_TRY(eai__attr_float(n->g, n->node, "epsilon", 1e-5f, &eps));
    EAI_TRY(eai__attr_float(n->g, n->node, "momentum", 0.9f, &mom));
    if (!(eps >= 0.0f) || !(mom >= 0.0f && mom <= 1.0f))
        return eai__top_fail(n, EAI_E_FORMAT, "epsilon %g / momentum %g out of range", eps, mom);
    EAI_TRY(eai__top_state(n, a, sizeof(bn_state_t) + 2 * (size_t)c * sizeof(float)));
    bn_state_t *s = n->state;
    s->eps = eps, s->momentum = mom, s->c = c;
    s->mean = (float *)(s + 1);
    s->invstd = s->mean + c;
    *scratch = 0;
    return bn_infer(n);
}

static eai_status_t bn_forward(eai__tnode_t *n, eai__tctx_t *ctx)
{
    bn_state_t *s = n->state;
    const eai__shape_t *xs = &n->in[0]->shape;
    int64_t batch = xs->d[0], hw = 1, m;
    for (int i = 2; i < xs->rank; i++)
        hw *= xs->d[i];
    m = batch * hw;
    const float *x = n->in[0]->data, *scale = n->in[1]->data, *bias = n->in[2]->data;
    float *rmean = n->in[3]->data, *rvar = n->in[4]->data, *y = n->out[0]->data;
    s->batch_stats = ctx->training;
    for (int64_t c = 0; c < s->c; c++) {
        float mean, invstd;
        if (ctx->training && m > 0) {
            /* two passes in double: the variance of activations with a large
             * mean loses everything to cancellation in one float pass */
            double sum = 0.0, sq = 0.0;
            for (int64_t b = 0; b < batch; b++) {
                const float *xp = x + (b * s->c + c) * hw;
                for (int64_t i = 0; i < hw; i++)
                    sum += xp[i];
            }
            double mu = sum / (double)m;
            for (int64_t b = 0; b < batch; b++) {
                const float *xp = x + (b * s->c + c) * hw;
                for (int64_t i = 0; i < hw; i++)
                    sq += (xp[i] - mu) * (xp[i] - mu);
            }
            double var = sq / (double)m;
            mean = (float)mu;
            invstd = (float)(1.0 / sqrt(var + s->eps));
            double unbiased = m > 1 ? var * (double)m / (double)(m - 1) : var;
            rmean[c] = s->momentum * rmean[c] + (1.0f - s->momentum) * mean;
            rvar[c] = s->momentum * rvar[c] + (1.0f - s->momentum) * (float)unbiased;
        } else {
            mean = rmean[c];
            invstd = 1.0f / sqrtf(rvar[c] + s->eps);
        }
        s->mean[c] = mean, s->invstd[c] = invstd;
        float k = scale[c] * invstd, b0 = bias[c] - mean * k;
        for (int64_t b = 0; b < batch; b++) {
            const float *xp = x + (b * s->c + c) * hw;
            float *yp = y + (b * s->c + c) * hw;
            for (int64_t i = 0; i < hw; i++)
                yp[i] = xp[i] * k + b0;
        }
    }
    return EAI_OK;
}

static eai_status_t bn_backward(eai__tnode_t *n, eai__tctx_t *ctx)
{
    const bn_state_t *s = n->state;
    const float *dy = n->out[0]->grad;
    if (!dy) return EAI_OK;
    const eai__shape_t *xs = &n->in[0]->shape;
    int64_t batch = xs->d[0], hw = 1;
    for (int i = 2; i < xs->rank; i++)
        hw *= xs->d[i];
    double m = (double)(batch * hw);
    const float *x = n->in[0]->data, *scale = n->in[1]->data;
    float *dx = n->in[0]->grad, *dscale = n->in[1]->grad, *dbias = n->in[2]->grad;
    for (int64_t c = 0; c < s->c; c++) {
        float mean = s->mean[c], invstd = s->invstd[c];
        double sdy = 0.0, sdyx = 0.0; /* sum(dy), sum(dy * xhat) */
        for (int64_t b = 0; b < batch; b++) {
            const float *xp = x + (b * s->c + c) * hw, *dp = dy + (b * s->c + c) * hw;
            for (int64_t i = 0; i < hw; i++) {
                sdy += dp[i];
                sdyx += dp[i] * (xp[i] - mean) * invstd;
            }
        }
        if (dscale) dscale[c] += (float)sdyx;
        if (dbias) dbias[c] += (float)sdy;
        if (!dx) continue;
        float k = scale[c] * invstd;
        /* batch statistics: dx = k (dy - mean(dy) - xhat mean(dy xhat));
         * running statistics are constants: dx = k dy */
        float mdy = s->batch_stats && m > 0 ? (float)(sdy / m) : 0.0f;
        float mdyx = s->batch_stats && m > 0 ? (float)(sdyx / m) : 0.0f;
        for (int64_t b = 0; b < batch; b++) {
            const float *xp = x + (b * s->c + c) * hw, *dp = dy + (b * s->c + c) * hw;
            float *gp = dx + (b * s->c + c) * hw;
            for (int64_t i = 0; i < hw; i++)
                gp[i] += k * (dp[i] - mdy - (xp[i] - mean) * invstd * mdyx);
        }
    }
    return EAI_OK;
}

EAI__TOP_SAFE_PREPARE(bn_prepare)
const eai__top_t eai__top_batchnorm = {"BatchNormalization", bn_prepare_safe, bn_infer,
                                       bn_forward,           bn_backward,     eai__top_release,
                                       (1u << 3) | (1u << 4)};

/* ---- Dropout (ratio: attribute before opset 12, optional input 1 after;
 * input 2, training_mode, is ignored: the trainer's step/eval decides) ---- */

typedef struct drop_state {
    float ratio;
    int64_t cap; /* mask floats (largest batch) */
    bool active; /* the last forward dropped (a step) */
    float *mask; /* 0 or 1 / (1 - ratio) per element */
} drop_state_t;

static eai_status_t drop_infer(eai__tnode_t *n)
{
    const drop_state_t *s = n->state;
    if (eai__shape_numel(&n->in[0]->shape) > s->cap)
        return eai__top_fail(n, EAI_E_INVALID, "input is larger than prepared");
    n->out[0]->shape = n->in[0]->shape;
    if (n->n_out > 1 && n->out[1]) n->out[1]->shape = n->in[0]->shape;
    return EAI_OK;
}

static eai_status_t drop_ratio(const eai__tnode_t *n, float *ratio)
{
    const eai__tval_t *r = n->n_in > 1 ? n->in[1] : NULL;
    if (r && r->data)
        *ratio = r->data[0];
    else if (r && r->v && r->v->kind == EAI__V_CONST && r->v->dtype == EAI_F32 && r->v->data)
        *ratio = *(const float *)r->v->data;
    else if (r)
        return eai__top_fail(n, EAI_E_UNSUPPORTED, "ratio must be a constant float");
    if (!(*ratio >= 0.0f && *ratio < 1.0f))
        return eai__top_fail(n, EAI_E_FORMAT, "ratio %g is outside [0, 1)", *ratio);
    return EAI_OK;
}

static eai_status_t drop_prepare(eai__tnode_t *n, const eai_allocator_t *a, size_t *scratch)
{
    EAI_TRY(eai__top_check_io(n, 1, 3, 1));
    float ratio;
    EAI_TRY(eai__attr_float(n->g, n->node, "ratio", 0.5f, &ratio));
    EAI_TRY(drop_ratio(n, &ratio));
    int64_t cap = eai__shape_numel(&n->in[0]->shape);
    EAI_TRY(eai__top_state(n, a, sizeof(drop_state_t) + (size_t)cap * sizeof(float)));
    drop_state_t *s = n->state;
    s->ratio = ratio, s->cap = cap;
    s->mask = (float *)(s + 1);
    *scratch = 0;
    return drop_infer(n);
}

static eai_status_t drop_forward(eai__tnode_t *n, eai__tctx_t *ctx)
{
    drop_state_t *s = n->state;
    EAI_TRY(drop_ratio(n, &s->ratio)); /* an input ratio may have changed */
    int64_t e = eai__shape_numel(&n->in[0]->shape);
    const float *x = n->in[0]->data;
    float *y = n->out[0]->data;
    s->active = ctx->training && s->ratio > 0.0f;
    if (!s->active) {
        for (int64_t i = 0; i < e; i++)
            y[i] = x[i];
    } else {
        float keep = 1.0f / (1.0f - s->ratio);
        for (int64_t i = 0; i < e; i++) {
            s->mask[i] = eai__train_rand(ctx->rng) >= s->ratio ? keep : 0.0f;
            y[i] = x[i] * s->mask[i];
        }
    }
    if (n->n_out > 1 && n->out[1] && n->out[1]->data)
        for (int64_t i = 0; i < e; i++)
            n->out[1]->data[i] = !s->active || s->mask[i] != 0.0f ? 1.0f : 0.0f;
    return EAI_OK;
}

static eai_status_t drop_backward(eai__tnode_t *n, eai__tctx_t *ctx)
{
    const drop_state_t *s = n->state;
    const float *dy = n->out[0]->grad;
    float *dx = n->in[0]->grad;
    if (!dy || !dx) return EAI_OK;
    int64_t e = eai__shape_numel(&n->in[0]->shape);
    if (s->active)
        for (int64_t i = 0; i < e; i++)
            dx[i] += dy[i] * s->mask[i];
    else
        for (int64_t i = 0; i < e; i++)
            dx[i] += dy[i];
    return EAI_OK;
}

/* The ratio input (bit 1) is a constant of the model, never trained. */
EAI__TOP_SAFE_PREPARE(drop_prepare)
const eai__top_t eai__top_dropout = {"Dropout",     drop_prepare_safe, drop_infer, drop_forward,
                                     drop_backward, eai__top_release,  1u << 1};
