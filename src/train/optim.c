/* Optimizers and learning-rate schedules, written to match PyTorch's
 * torch.optim.SGD / Adam / AdamW update rules float for float (same order of
 * operations), so a reference run can be compared step by step. */
#include <math.h>

#include "train/trainer_impl.h"

static const double PI = 3.14159265358979323846;

eai_status_t eai__optim_init(eai_trainer_t *t, const eai_optim_opts_t *in)
{
    eai_optim_opts_t o = *in;
    const char *label = t->g->label;
    if (o.lr == 0) o.lr = 0.01f;
    if (o.beta1 == 0) o.beta1 = 0.9f;
    if (o.beta2 == 0) o.beta2 = 0.999f;
    if (o.eps == 0) o.eps = 1e-8f;
    if (o.gamma == 0) o.gamma = o.sched == EAI_LR_EXP ? 0.99f : 0.1f;
    if (o.kind != EAI_OPT_SGD && o.kind != EAI_OPT_ADAM && o.kind != EAI_OPT_ADAMW)
        return eai_fail(EAI_E_INVALID, "%s: unknown optimizer %d", label, (int)o.kind);
    if (!(o.lr > 0) || !isfinite(o.lr))
        return eai_fail(EAI_E_INVALID, "%s: learning rate %g must be positive", label, o.lr);
    if (o.momentum < 0 || o.momentum >= 1 || o.weight_decay < 0)
        return eai_fail(EAI_E_INVALID, "%s: momentum %g must be in [0, 1) and weight decay %g >= 0",
                        label, o.momentum, o.weight_decay);
    if (o.nesterov && o.momentum <= 0)
        return eai_fail(EAI_E_INVALID, "%s: Nesterov momentum needs momentum > 0", label);
    if (o.beta1 < 0 || o.beta1 >= 1 || o.beta2 < 0 || o.beta2 >= 1 || !(o.eps > 0))
        return eai_fail(EAI_E_INVALID, "%s: Adam needs betas in [0, 1) and eps > 0", label);
    switch (o.sched) {
    case EAI_LR_CONST:
        break;
    case EAI_LR_STEP:
        if (o.step_size <= 0)
            return eai_fail(EAI_E_INVALID, "%s: step schedule needs step_size > 0", label);
        break;
    case EAI_LR_COSINE:
        if (o.total_steps <= o.warmup_steps)
            return eai_fail(EAI_E_INVALID,
                            "%s: cosine schedule needs total_steps (%lld) > warmup_steps (%lld)",
                            label, (long long)o.total_steps, (long long)o.warmup_steps);
        break;
    case EAI_LR_EXP:
        break;
    default:
        return eai_fail(EAI_E_INVALID, "%s: unknown schedule %d", label, (int)o.sched);
    }
    if (o.warmup_steps < 0 || o.gamma <= 0 || o.min_lr < 0)
        return eai_fail(EAI_E_INVALID, "%s: warmup_steps, gamma and min_lr must not be negative",
                        label);
    t->opt.o = o;
    size_t n = t->n_train ? t->n_train : 1;
    bool need_m1 = o.kind != EAI_OPT_SGD || o.momentum > 0;
    if (need_m1) {
        t->opt.m1 = eai__calloc(&t->alloc, n, sizeof(float));
        if (!t->opt.m1) return eai_fail(EAI_E_NOMEM, "%s: out of memory", label);
    }
    if (o.kind != EAI_OPT_SGD) {
        t->opt.m2 = eai__calloc(&t->alloc, n, sizeof(float));
        if (!t->opt.m2) return eai_fail(EAI_E_NOMEM, "%s: out of memory", label);
    }
    t->opt.t = 0;
    return EAI_OK;
}

void eai__optim_free(eai_trainer_t *t)
{
    eai__free(&t->alloc, t->opt.m1);
    eai__free(&t->alloc, t->opt.m2);
    t->opt.m1 = t->opt.m2 = NULL;
}

/* Linear warmup from lr/warmup to lr over the first warmup_steps updates,
 * then the schedule, counted from the end of warmup. */
float eai__optim_lr(const eai_trainer_t *t)
{
    const eai_optim_opts_t *o = &t->opt.o;
    int64_t s = t->opt.t;
    if (s < o->warmup_steps) return o->lr * (float)(s + 1) / (float)o->warmup_steps;
    s -= o->warmup_steps;
    switch (o->sched) {
    case EAI_LR_STEP:
        return (float)(o->lr * pow(o->gamma, (double)(s / o->step_size)));
    case EAI_LR_COSINE: {
        int64_t span = o->total_steps - o->warmup_steps;
        if (s > span) s = span;
        return (float)(o->min_lr +
                       (o->lr - o->min_lr) * (1 + cos(PI * (double)s / (double)span)) / 2);
    }
    case EAI_LR_EXP:
        return (float)(o->lr * pow(o->gamma, (double)s));
    default:
        return o->lr;
    }
}

/* torch.optim.SGD (dampening 0): d = g + wd*w; b = m*b + d (b = d on the
 * first step, the same as starting from b = 0); d = nesterov ? d + m*b : b;
 * w -= lr*d. */
static void sgd(eai_trainer_t *t, float lr)
{
    const eai_optim_opts_t *o = &t->opt.o;
    float *w = t->state, *g = t->grads, *b = t->opt.m1;
    float wd = o->weight_decay, m = o->momentum;
    for (size_t i = 0; i < t->n_train; i++) {
        float d = g[i];
        if (wd != 0) d += wd * w[i];
        if (m != 0) {
            b[i] = m * b[i] + d;
            d = o->nesterov ? d + m * b[i] : b[i];
        }
        w[i] -= lr * d;
    }
}

/* torch.optim.Adam / AdamW (amsgrad off): AdamW first decays w *= 1 - lr*wd,
 * Adam adds wd*w to g; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
 * w -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps). */
static void adam(eai_trainer_t *t, float lr, bool decoupled)
{
    const eai_optim_opts_t *o = &t->opt.o;
    float *w = t->state, *g = t->grads, *m = t->opt.m1, *v = t->opt.m2;
    double step = (double)t->opt.t + 1;
    float b1 = o->beta1, b2 = o->beta2, wd = o->weight_decay;
    /* PyTorch forms these scalars in double and rounds them once */
    float bc2_sqrt = (float)sqrt(1 - pow(b2, step));
    float step_size = (float)((double)lr / (1 - pow(b1, step)));
    float decay = (float)(1 - (double)lr * wd);
    for (size_t i = 0; i < t->n_train; i++) {
        float d = g[i];
        if (decoupled)
            w[i] *= decay;
        else if (wd != 0)
            d += wd * w[i];
        m[i] = b1 * m[i] + (1 - b1) * d;
        v[i] = b2 * v[i] + (1 - b2) * d * d;
        float denom = sqrtf(v[i]) / bc2_sqrt + o->eps;
        w[i] -= step_size * m[i] / denom;
    }
}

void eai__optim_update(eai_trainer_t *t)
{
    float lr = eai__optim_lr(t);
    switch (t->opt.o.kind) {
    case EAI_OPT_ADAM:
        adam(t, lr, false);
        break;
    case EAI_OPT_ADAMW:
        adam(t, lr, true);
        break;
    default:
        sgd(t, lr);
        break;
    }
    t->opt.t++;
}

void eai_trainer_reset_optim(eai_trainer_t *t)
{
    size_t n = t->n_train * sizeof(float);
    if (t->opt.m1 && n) memset(t->opt.m1, 0, n);
    if (t->opt.m2 && n) memset(t->opt.m2, 0, n);
    t->opt.t = 0;
}

void eai_trainer_set_lr(eai_trainer_t *t, float lr)
{
    if (lr > 0 && isfinite(lr)) t->opt.o.lr = lr;
}
