/* Training kernels for the activations: Relu, LeakyRelu, Sigmoid, Tanh
 * (elementwise; backward reads the saved output where the derivative is a
 * function of it) and Softmax / LogSoftmax over one axis. Relu, the
 * common one, splits its elements over threads; the others run on the
 * caller's thread.
 */
#include <math.h>

#include "train/ops_impl.h"

typedef struct act_state {
    float alpha;               /* LeakyRelu */
    int64_t outer, dim, inner; /* Softmax: the axis' extent and the strides around it */
    int axis;
    bool flatten; /* opset < 13: the axis and everything after form one row */
} act_state_t;

static eai_status_t same_infer(eai__tnode_t *n)
{
    n->out[0]->shape = n->in[0]->shape;
    return EAI_OK;
}

static eai_status_t act_prepare(eai__tnode_t *n, const eai_allocator_t *a, size_t *scratch)
{
    EAI_TRY(eai__top_check_io(n, 1, 1, 1));
    EAI_TRY(eai__top_state(n, a, sizeof(act_state_t)));
    act_state_t *s = n->state;
    EAI_TRY(eai__attr_float(n->g, n->node, "alpha", 0.01f, &s->alpha));
    *scratch = 0;
    return same_infer(n);
}

static inline int64_t numel(const eai__tnode_t *n)
{
    return eai__shape_numel(&n->in[0]->shape);
}

static void relu_forward_task(void *p, int ith, int nth)
{
    const eai__tnode_t *n = p;
    int64_t lo, hi;
    eai__train_split(numel(n), ith, nth, 16, &lo, &hi);
    const float *restrict x = n->in[0]->data;
    float *restrict y = n->out[0]->data;
    for (int64_t i = lo; i < hi; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

static eai_status_t relu_forward(eai__tnode_t *n, eai__tctx_t *c)
{
    eai__train_par(c, numel(n), relu_forward_task, n);
    return EAI_OK;
}

static void relu_backward_task(void *p, int ith, int nth)
{
    const eai__tnode_t *n = p;
    int64_t lo, hi;
    eai__train_split(numel(n), ith, nth, 16, &lo, &hi);
    const float *restrict y = n->out[0]->data, *restrict dy = n->out[0]->grad;
    float *restrict dx = n->in[0]->grad;
    /* dy is loaded unconditionally so the loop if-converts and vectorizes
     * (a conditional load may fault, which blocks GCC's vectorizer). */
    for (int64_t i = lo; i < hi; i++) {
        float g = dy[i];
        dx[i] += y[i] > 0.0f ? g : 0.0f;
    }
}

static eai_status_t relu_backward(eai__tnode_t *n, eai__tctx_t *c)
{
    if (!n->out[0]->grad || !n->in[0]->grad) return EAI_OK;
    eai__train_par(c, numel(n), relu_backward_task, n);
    return EAI_OK;
}

static eai_status_t leaky_forward(eai__tnode_t *n, eai__tctx_t *c)
{
    const act_state_t *s = n->state;
    const float *x = n->in[0]->data;
    float *y = n->out[0]->data;
    for (int64_t i = 0, e = numel(n); i < e; i++)
        y[i] = x[i] > 0.0f ? x[i] : s->alpha * x[i];
    return EAI_OK;
}

static eai_status_t leaky_backward(eai__tnode_t *n, eai__tctx_t *c)
{
    const act_state_t *s = n->state;
    const float *restrict x = n->in[0]->data, *restrict dy = n->out[0]->grad;
    float *restrict dx = n->in[0]->grad;
    if (!dy || !dx) return EAI_OK;
    for (int64_t i = 0, e = numel(n); i < e; i++) {
        float g = dy[i];
        dx[i] += x[i] > 0.0f ? g : s->alpha * g;
    }
    return EAI_OK;
}

static eai_status_t sigmoid_forward(eai__tnode_t *n, eai__tctx_t *c)
{
    const float *x = n->in[0]->data;
    float *y = n->out[0]->data;
    for (int64_t i = 0, e = numel(n); i < e; i++)
        y[i] = 1.0f / (1.0f + expf(-x[i]));
    return EAI_OK;
}

static eai_status_t sigmoid_backward(eai__tnode_t *n, eai__tctx_t *c)
{
    const float *y = n->out[0]->data, *dy = n->out[0]->grad;
    float *dx = n->in[0]->grad;
    if (!dy || !dx) return EAI_OK;
    for (int64_t i = 0, e = numel(n); i < e; i++)
        dx[i] += dy[i] * y[i] * (1.0f - y[i]);
    return EAI_OK;
}

static eai_status_t tanh_forward(eai__tnode_t *n, eai__tctx_t *c)
{
    const float *x = n->in[0]->data;
    float *y = n->out[0]->data;
    for (int64_t i = 0, e = numel(n); i < e; i++)
        y[i] = tanhf(x[i]);
    return EAI_OK;
}

static eai_status_t tanh_backward(eai__tnode_t *n, eai__tctx_t *c)
{
    const float *y = n->out[0]->data, *dy = n->out[0]->grad;
    float *dx = n->in[0]->grad;
    if (!dy || !dx) return EAI_OK;
    for (int64_t i = 0, e = numel(n); i < e; i++)
        dx[i] += dy[i] * (1.0f - y[i] * y[i]);
    return EAI_OK;
}

EAI__TOP_SAFE_PREPARE(act_prepare)
const eai__top_t eai__top_relu = {"Relu",        act_prepare_safe, same_infer, relu_forward,
                                  relu_backward, eai__top_release, 0};
const eai__top_t eai__top_leakyrelu = {"LeakyRelu",    act_prepare_safe, same_infer, leaky_forward,
                                       leaky_backward, eai__top_release, 0};
const eai__top_t eai__top_sigmoid = {
    "Sigmoid",        act_prepare_safe, same_infer, sigmoid_forward,
    sigmoid_backward, eai__top_release, 0};
const eai__top_t eai__top_tanh = {"Tanh",        act_prepare_safe, same_infer, tanh_forward,
                                  tanh_backward, eai__top_release, 0};

/* ---- Softmax / LogSoftmax (opset 13: one axis, default -1; before 13 the
 * input is flattened to 2-D at `axis`, default 1) ---- */

static eai_status_t softmax_infer(eai__tnode_t *n)
{
    act_state_t *s = n->state;
    const eai__shape_t *x = &n->in[0]->shape;
    int axis = s->axis < 0 ? s->axis + x->rank : s->axis;
    if (axis < 0 || axis >= x->rank)
        return eai__top_fail(n, EAI_E_FORMAT, "axis %d out of range for rank %d", s->axis, x->rank);
    s->outer = s->dim = s->inner = 1;
    for (int i = 0; i < x->rank; i++) {
        if (i < axis)
            s->outer *= x->d[i];
        else if (i == axis || s->flatten)
            s->dim *= x->d[i];
        else
            s->inner *= x->d[i];
    }
    n->out[0]->shape = *x;
    return EAI_OK;
}

static eai_status_t softmax_prepare(eai__tnode_t *n, const eai_allocator_t *a, size_t *scratch)
{
    EAI_TRY(eai__top_check_io(n, 1, 1, 1));
    EAI_TRY(eai__top_state(n, a, sizeof(act_state_t)));
    act_state_t *s = n->state;
    bool old = n->g->opset > 0 && n->g->opset < 13;
    int64_t axis;
    EAI_TRY(eai__attr_int(n->g, n->node, "axis", old ? 1 : -1, &axis));
    if (axis < -EAI_MAX_RANK || axis >= EAI_MAX_RANK)
        return eai__top_fail(n, EAI_E_FORMAT, "axis %lld out of range", (long long)axis);
    s->axis = (int)axis, s->flatten = old;
    *scratch = 0;
    return softmax_infer(n);
}

static eai_status_t softmax_run(eai__tnode_t *n, bool log_out)
{
    const act_state_t *s = n->state;
    const float *x = n->in[0]->data;
    float *y = n->out[0]->data;
    int64_t in = s->inner;
    for (int64_t o = 0; o < s->outer; o++)
        for (int64_t j = 0; j < in; j++) {
            const float *xr = x + o * s->dim * in + j;
            float *yr = y + o * s->dim * in + j;
            float mx = xr[0];
            for (int64_t k = 1; k < s->dim; k++)
                mx = xr[k * in] > mx ? xr[k * in] : mx;
            double sum = 0.0;
            for (int64_t k = 0; k < s->dim; k++)
                sum += expf(xr[k * in] - mx);
            float lse = mx + (float)log(sum), inv = (float)(1.0 / sum);
            for (int64_t k = 0; k < s->dim; k++)
                yr[k * in] = log_out ? xr[k * in] - lse : expf(xr[k * in] - mx) * inv;
        }
    return EAI_OK;
}

static eai_status_t softmax_back(eai__tnode_t *n, bool log_out)
{
    const act_state_t *s = n->state;
    const float *y = n->out[0]->data, *dy = n->out[0]->grad;
    float *dx = n->in[0]->grad;
    if (!dy || !dx) return EAI_OK;
    int64_t in = s->inner;
    for (int64_t o = 0; o < s->outer; o++)
        for (int64_t j = 0; j < in; j++) {
            int64_t base = o * s->dim * in + j;
            double acc = 0.0;
            /* softmax: dx = y (dy - sum(dy y)); log: dx = dy - exp(y) sum(dy) */
            for (int64_t k = 0; k < s->dim; k++)
                acc += log_out ? dy[base + k * in] : dy[base + k * in] * y[base + k * in];
            float t = (float)acc;
            for (int64_t k = 0; k < s->dim; k++) {
                int64_t i = base + k * in;
                dx[i] += log_out ? dy[i] - expf(y[i]) * t : y[i] * (dy[i] - t);
            }
        }
    return EAI_OK;
}

static eai_status_t softmax_forward(eai__tnode_t *n, eai__tctx_t *c)
{
    return softmax_run(n, false);
}
static eai_status_t softmax_backward(eai__tnode_t *n, eai__tctx_t *c)
{
    return softmax_back(n, false);
}
static eai_status_t logsoftmax_forward(eai__tnode_t *n, eai__tctx_t *c)
{
    return softmax_run(n, true);
}
static eai_status_t logsoftmax_backward(eai__tnode_t *n, eai__tctx_t *c)
{
    return softmax_back(n, true);
}

EAI__TOP_SAFE_PREPARE(softmax_prepare)
const eai__top_t eai__top_softmax = {"Softmax",
                                     softmax_prepare_safe,
                                     softmax_infer,
                                     softmax_forward,
                                     softmax_backward,
                                     eai__top_release,
                                     0};
const eai__top_t eai__top_logsoftmax = {"LogSoftmax",
                                        softmax_prepare_safe,
                                        softmax_infer,
                                        logsoftmax_forward,
                                        logsoftmax_backward,
                                        eai__top_release,
                                        0};
