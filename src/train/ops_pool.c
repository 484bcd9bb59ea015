/* Training kernels for MaxPool (2-D; forward saves each output's argmax as
 * an offset in its input plane, backward scatters through it), AveragePool
 * (2-D, count_include_pad, ceil_mode) and GlobalAveragePool (any rank >= 3).
 * MaxPool and AveragePool split their planes over threads.
 */
#include <float.h>
#include <string.h>

#include "train/ops_impl.h"

typedef struct pool_state {
    eai__twin_t w;
    int64_t c, max_out; /* channels; output floats at the prepared batch */
    bool include_pad;
    int32_t *idx; /* MaxPool: argmax per output, max_out entries (-1: none) */
} pool_state_t;

static eai_status_t pool_infer(eai__tnode_t *n)
{
    const pool_state_t *s = n->state;
    const eai__shape_t *x = &n->in[0]->shape;
    if (x->rank != 4 || x->d[1] != s->c || x->d[2] != s->w.ih || x->d[3] != s->w.iw)
        return eai__top_fail(n, EAI_E_FORMAT,
                             "input must be [N, %lld, %d, %d] as prepared (rank %d given)",
                             (long long)s->c, s->w.ih, s->w.iw, x->rank);
    if (x->d[0] * s->c * s->w.oh * s->w.ow > s->max_out)
        return eai__top_fail(n, EAI_E_INVALID, "batch %lld is larger than prepared",
                             (long long)x->d[0]);
    eai__shape_t *y = &n->out[0]->shape;
    *y = *x;
    y->d[2] = s->w.oh, y->d[3] = s->w.ow;
    return EAI_OK;
}

static eai_status_t pool_prepare(eai__tnode_t *n, const eai_allocator_t *a, bool is_max)
{
    EAI_TRY(eai__top_check_io(n, 1, 1, 1));
    if (n->n_out > 1 && n->out[1])
        return eai__top_fail(n, EAI_E_UNSUPPORTED, "the Indices output is not supported");
    const eai__shape_t *x = &n->in[0]->shape;
    if (x->rank != 4)
        return eai__top_fail(n, EAI_E_UNSUPPORTED, "input has rank %d; only 2-D pooling (rank 4)",
                             x->rank);
    int64_t ks[EAI_MAX_RANK];
    int nks;
    EAI_TRY(eai__attr_ints(n->g, n->node, "kernel_shape", ks, EAI_MAX_RANK, &nks));
    if (nks != 2 || ks[0] < 1 || ks[1] < 1 || ks[0] > 4096 || ks[1] > 4096)
        return eai__top_fail(n, EAI_E_FORMAT, "needs a 2-value kernel_shape of positive sizes");
    if (x->d[2] > (1 << 20) || x->d[3] > (1 << 20))
        return eai__top_fail(n, EAI_E_UNSUPPORTED, "dimensions too large");
    int64_t cip = 0;
    if (!is_max) EAI_TRY(eai__attr_int(n->g, n->node, "count_include_pad", 0, &cip));
    if (eai__node_attr(n->node, "storage_order")) {
        int64_t so;
        EAI_TRY(eai__attr_int(n->g, n->node, "storage_order", 0, &so));
        if (so != 0)
            return eai__top_fail(n, EAI_E_UNSUPPORTED, "storage_order %lld", (long long)so);
    }
    eai__twin_t w;
    EAI_TRY(
        eai__top_window(n, (int)x->d[2], (int)x->d[3], (int)ks[0], (int)ks[1], is_max, true, &w));
    int64_t batch = x->d[0] > 0 ? x->d[0] : 1;
    int64_t max_out = batch * x->d[1] * w.oh * w.ow;
    size_t bytes = sizeof(pool_state_t) + (is_max ? (size_t)max_out * sizeof(int32_t) : 0);
    if (w.ih * (int64_t)w.iw > INT32_MAX)
        return eai__top_fail(n, EAI_E_UNSUPPORTED, "input plane too large");
    EAI_TRY(eai__top_state(n, a, bytes));
    pool_state_t *s = n->state;
    s->w = w, s->c = x->d[1], s->max_out = max_out, s->include_pad = cip != 0;
    s->idx = is_max ? (int32_t *)(s + 1) : NULL;
    return pool_infer(n);
}

static eai_status_t maxpool_prepare(eai__tnode_t *n, const eai_allocator_t *a, size_t *scratch)
{
    *scratch = 0;
    return pool_prepare(n, a, true);
}

static eai_status_t avgpool_prepare(eai__tnode_t *n, const eai_allocator_t *a, size_t *scratch)
{
    *scratch = 0;
    return pool_prepare(n, a, false);
}

/* Pools work plane by plane ([n, c] pairs), each plane's input, output,
 * indices and gradients disjoint from the others': threads take contiguous
 * runs of planes, which changes no result. */
typedef void (*planes_fn)(const eai__tnode_t *n, int64_t p0, int64_t p1);

typedef struct planes_job {
    const eai__tnode_t *n;
    planes_fn fn;
    int64_t planes;
} planes_job_t;

static void planes_task(void *p, int ith, int nth)
{
    const planes_job_t *j = p;
    int64_t lo, hi;
    eai__train_split(j->planes, ith, nth, 1, &lo, &hi);
    if (hi > lo) j->fn(j->n, lo, hi);
}

static eai_status_t run_planes(eai__tnode_t *n, eai__tctx_t *c, planes_fn fn)
{
    const pool_state_t *s = n->state;
    planes_job_t j = {n, fn, n->in[0]->shape.d[0] * s->c};
    int64_t work = j.planes * ((int64_t)s->w.ih * s->w.iw + (int64_t)s->w.oh * s->w.ow);
    eai__train_par(c, work, planes_task, &j);
    return EAI_OK;
}

/* One output row of the 2x2 stride-2 window, every window inside the plane:
 * rows r0 and r1 of the input, argmax offsets from `base` (the offset of
 * r0[0] in the plane). A branch-free tournament whose ties keep the earlier
 * element, so it picks the first maximum in window order as the general
 * loop does; written so that GCC vectorizes it (selects, no branches, no
 * aliasing). */
static void max2x2_row(const float *restrict r0, const float *restrict r1, float *restrict y,
                       int32_t *restrict idx, int n, int32_t base, int32_t iw)
{
    for (int ow = 0; ow < n; ow++) {
        float a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1];
        float m1 = b > a ? b : a, m2 = d > c ? d : c;
        int32_t i1 = b > a ? 1 : 0, i2 = d > c ? iw + 1 : iw;
        y[ow] = m2 > m1 ? m2 : m1;
        idx[ow] = base + 2 * ow + (m2 > m1 ? i2 : i1);
    }
}

static void maxpool_forward_planes(const eai__tnode_t *n, int64_t p0, int64_t p1)
{
    const pool_state_t *s = n->state;
    const eai__twin_t *w = &s->w;
    int64_t hw = (int64_t)w->ih * w->iw;
    int64_t ohw = (int64_t)w->oh * w->ow;
    /* The common 2x2 stride-2 window without padding or dilation: every
     * window lies inside the plane, so no bounds checks (3x faster here). */
    const bool k2s2 = w->kh == 2 && w->kw == 2 && w->sh == 2 && w->sw == 2 && w->pt == 0 &&
                      w->pl == 0 && w->dh == 1 && w->dw == 1 && 2 * w->oh <= w->ih &&
                      2 * w->ow <= w->iw;
    for (int64_t p = p0; p < p1; p++) {
        const float *x = n->in[0]->data + p * hw;
        float *y = n->out[0]->data + p * ohw;
        int32_t *idx = s->idx + p * ohw;
        if (k2s2) {
            for (int oh = 0; oh < w->oh; oh++) {
                const float *r0 = x + (int64_t)(2 * oh) * w->iw;
                max2x2_row(r0, r0 + w->iw, y + (int64_t)oh * w->ow, idx + (int64_t)oh * w->ow,
                           w->ow, 2 * oh * w->iw, w->iw);
            }
            continue;
        }
        for (int oh = 0; oh < w->oh; oh++)
            for (int ow = 0; ow < w->ow; ow++) {
                float best = -FLT_MAX;
                int32_t bi = -1;
                for (int ki = 0; ki < w->kh; ki++) {
                    int ih = oh * w->sh - w->pt + ki * w->dh;
                    if (ih < 0 || ih >= w->ih) continue;
                    for (int kj = 0; kj < w->kw; kj++) {
                        int iw = ow * w->sw - w->pl + kj * w->dw;
                        if (iw < 0 || iw >= w->iw) continue;
                        float v = x[ih * w->iw + iw];
                        if (bi < 0 || v > best) best = v, bi = ih * w->iw + iw;
                    }
                }
                y[oh * w->ow + ow] = bi < 0 ? 0.0f : best;
                idx[oh * w->ow + ow] = bi;
            }
    }
}

static void maxpool_backward_planes(const eai__tnode_t *n, int64_t p0, int64_t p1)
{
    const pool_state_t *s = n->state;
    const float *dy = n->out[0]->grad;
    float *dx = n->in[0]->grad;
    int64_t hw = (int64_t)s->w.ih * s->w.iw;
    int64_t ohw = (int64_t)s->w.oh * s->w.ow;
    for (int64_t p = p0; p < p1; p++) {
        const int32_t *idx = s->idx + p * ohw;
        const float *d = dy + p * ohw;
        float *g = dx + p * hw;
        for (int64_t i = 0; i < ohw; i++)
            if (idx[i] >= 0) g[idx[i]] += d[i];
    }
}

/* Window rows/cols clipped to the input, and the divisor (PyTorch's rule:
 * with count_include_pad the window is clipped to the padded extent only). */
static void avg_window(const pool_state_t *s, int oh, int ow, int *h0, int *h1, int *w0, int *w1,
                       float *inv)
{
    const eai__twin_t *w = &s->w;
    int hs = oh * w->sh - w->pt, ws = ow * w->sw - w->pl;
    int he = hs + w->kh, we = ws + w->kw;
    int hp = he < w->ih + w->pb ? he : w->ih + w->pb, wp = we < w->iw + w->pr ? we : w->iw + w->pr;
    int padded = (hp - hs) * (wp - ws);
    *h0 = hs < 0 ? 0 : hs, *w0 = ws < 0 ? 0 : ws;
    *h1 = he > w->ih ? w->ih : he, *w1 = we > w->iw ? w->iw : we;
    int cnt = s->include_pad ? padded : (*h1 - *h0) * (*w1 - *w0);
    *inv = cnt > 0 ? 1.0f / (float)cnt : 0.0f;
}

static void avgpool_forward_planes(const eai__tnode_t *n, int64_t p0, int64_t p1)
{
    const pool_state_t *s = n->state;
    const eai__twin_t *w = &s->w;
    int64_t hw = (int64_t)w->ih * w->iw;
    int64_t ohw = (int64_t)w->oh * w->ow;
    for (int64_t p = p0; p < p1; p++) {
        const float *x = n->in[0]->data + p * hw;
        float *y = n->out[0]->data + p * ohw;
        for (int oh = 0; oh < w->oh; oh++)
            for (int ow = 0; ow < w->ow; ow++) {
                int h0, h1, w0, w1;
                float inv, acc = 0.0f;
                avg_window(s, oh, ow, &h0, &h1, &w0, &w1, &inv);
                for (int ih = h0; ih < h1; ih++)
                    for (int iw = w0; iw < w1; iw++)
                        acc += x[ih * w->iw + iw];
                y[oh * w->ow + ow] = acc * inv;
            }
    }
}

static void avgpool_backward_planes(const eai__tnode_t *n, int64_t p0, int64_t p1)
{
    const pool_state_t *s = n->state;
    const eai__twin_t *w = &s->w;
    const float *dy = n->out[0]->grad;
    float *dx = n->in[0]->grad;
    int64_t hw = (int64_t)w->ih * w->iw;
    int64_t ohw = (int64_t)w->oh * w->ow;
    for (int64_t p = p0; p < p1; p++) {
        float *g = dx + p * hw;
        const float *d = dy + p * ohw;
        for (int oh = 0; oh < w->oh; oh++)
            for (int ow = 0; ow < w->ow; ow++) {
                int h0, h1, w0, w1;
                float inv;
                avg_window(s, oh, ow, &h0, &h1, &w0, &w1, &inv);
                float v = d[oh * w->ow + ow] * inv;
                for (int ih = h0; ih < h1; ih++)
                    for (int iw = w0; iw < w1; iw++)
                        g[ih * w->iw + iw] += v;
            }
    }
}

static eai_status_t maxpool_forward(eai__tnode_t *n, eai__tctx_t *c)
{
    return run_planes(n, c, maxpool_forward_planes);
}

static eai_status_t maxpool_backward(eai__tnode_t *n, eai__tctx_t *c)
{
    if (!n->out[0]->grad || !n->in[0]->grad) return EAI_OK;
    return run_planes(n, c, maxpool_backward_planes);
}

static eai_status_t avgpool_forward(eai__tnode_t *n, eai__tctx_t *c)
{
    return run_planes(n, c, avgpool_forward_planes);
}

static eai_status_t avgpool_backward(eai__tnode_t *n, eai__tctx_t *c)
{
    if (!n->out[0]->grad || !n->in[0]->grad) return EAI_OK;
    return run_planes(n, c, avgpool_backward_planes);
}

EAI__TOP_SAFE_PREPARE(maxpool_prepare)
const eai__top_t eai__top_maxpool = {
    "MaxPool",        maxpool_prepare_safe, pool_infer, maxpool_forward,
    maxpool_backward, eai__top_release,     0};
EAI__TOP_SAFE_PREPARE(avgpool_prepare)
const eai__top_t eai__top_avgpool = {
    "AveragePool",    avgpool_prepare_safe, pool_infer, avgpool_forward,
    avgpool_backward, eai__top_release,     0};

/* ---- GlobalAveragePool: [N, C, d...] -> [N, C, 1...] ---- */

static eai_status_t gap_infer(eai__tnode_t *n)
{
    const eai__shape_t *x = &n->in[0]->shape;
    if (x->rank < 3)
        return eai__top_fail(n, EAI_E_FORMAT, "input has rank %d, expected at least 3", x->rank);
    eai__shape_t *y = &n->out[0]->shape;
    *y = *x;
    for (int i = 2; i < x->rank; i++)
        y->d[i] = 1;
    return EAI_OK;
}

static eai_status_t gap_prepare(eai__tnode_t *n, const eai_allocator_t *a, size_t *scratch)
{
    EAI_TRY(eai__top_check_io(n, 1, 1, 1));
    *scratch = 0;
    return gap_infer(n);
}

static eai_status_t gap_forward(eai__tnode_t *n, eai__tctx_t *c)
{
    const eai__shape_t *x = &n->in[0]->shape;
    int64_t planes = x->d[0] * x->d[1], hw = eai__shape_numel(x) / (planes ? planes : 1);
    float inv = hw ? 1.0f / (float)hw : 0.0f;
    for (int64_t p = 0; p < planes; p++) {
        const float *xp = n->in[0]->data + p * hw;
        float acc = 0.0f;
        for (int64_t i = 0; i < hw; i++)
            acc += xp[i];
        n->out[0]->data[p] = acc * inv;
    }
    return EAI_OK;
}

static eai_status_t gap_backward(eai__tnode_t *n, eai__tctx_t *c)
{
    const eai__shape_t *x = &n->in[0]->shape;
    const float *dy = n->out[0]->grad;
    float *dx = n->in[0]->grad;
    if (!dy || !dx) return EAI_OK;
    int64_t planes = x->d[0] * x->d[1], hw = eai__shape_numel(x) / (planes ? planes : 1);
    float inv = hw ? 1.0f / (float)hw : 0.0f;
    for (int64_t p = 0; p < planes; p++) {
        float v = dy[p] * inv, *g = dx + p * hw;
        for (int64_t i = 0; i < hw; i++)
            g[i] += v;
    }
    return EAI_OK;
}

const eai__top_t eai__top_gavgpool = {"GlobalAveragePool", gap_prepare, gap_infer, gap_forward,
                                      gap_backward,        NULL,        0};
