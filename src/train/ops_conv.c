/* Training kernel for 2-D Conv (NCHW, groups incl. depthwise, strides, pads,
 * auto_pad, dilations, optional bias) by im2col + GEMM.
 *
 * A chunk of nb samples is unrolled at once into col [K x nb*OHW] (K =
 * C/groups * kh * kw, column s*OHW + p), so each group costs one GEMM per
 * chunk rather than one per sample: for the small layers of edge CNNs the
 * per-call and threading overheads of BLAS otherwise dominate. The GEMM
 * result [M/groups x nb*OHW] goes through tmp and is scattered to NCHW.
 * Backward reuses col: dW += dY col^T, then dcol = W^T dY and col2im.
 *
 * Plain windows (stride 1, dilation 1, no padding) in one group, where
 * the CPU has AVX2+FMA, skip im2col for the forward pass and dW: the direct
 * kernels of ops_conv_direct.c compute them from the input as it lies
 * (on the NIID-Bench CNN in a third to a half of the time of im2col +
 * GEMM, whose copies outweigh the multiply-adds at these sizes); dX stays
 * a GEMM and col2im. Their dW lane partials take the head of each thread's scratch.
 *
 * With several threads the batch is split: each thread unrolls and
 * multiplies its own samples in its own scratch slice (one BLAS thread
 * each), dX goes straight to its samples, and dW/db are summed per thread
 * and then added in thread order (deterministic; 1 vs N threads differ only
 * by that summation order).
 *
 * Scratch slice of a thread: [direct dW partials][partial dW, db when the
 * backward is split][col | tmp chunk area].
 */
#include <string.h>

#include "train/ops_impl.h"

/* Floats of col per chunk we aim for: big enough for GEMMs that thread
 * well, small enough to stay a modest share of the trainer's memory. */
#define COL_BUDGET ((int64_t)1 << 21)

typedef struct conv_state {
    eai__twin_t w;
    int c, m, groups, cg, mg, k; /* k = cg * kh * kw */
    int64_t hw, ohw;
    bool plain;    /* stride 1, dilation 1, no padding: every window row inside the plane */
    bool direct;   /* plain, one group, and the CPU runs ops_conv_direct.c's kernels */
    int nb;        /* samples per chunk the requested scratch holds */
    int32_t *offs; /* direct: offset of tap r = (ci, ki, kj) in a sample (k entries) */
} conv_state_t;

/* Largest tap count the direct kernels take (offs lives in the state). */
#define DIRECT_MAX_K 65536
/* Largest sample input (floats, 256 KiB) the direct kernels take. */
#define DIRECT_MAX_INPUT ((int64_t)1 << 16)

/* Floats at the start of every thread's scratch slice that hold the direct
 * weight-gradient kernel's lane partials (m*k*8), 0 without it. */
static int64_t head_floats(const conv_state_t *s)
{
    return s->direct ? (int64_t)EAI_ALIGN_UP((size_t)s->m * (size_t)s->k * 8, 16) : 0;
}

/* Floats at the start of each thread's scratch slice that hold its partial
 * weight and bias gradients when backward is split over threads. */
static int64_t part_floats(const conv_state_t *s)
{
    return (int64_t)EAI_ALIGN_UP((size_t)s->m * (size_t)s->k + (size_t)s->m, 16);
}

static eai_status_t conv_infer(eai__tnode_t *n)
{
    const conv_state_t *s = n->state;
    const eai__shape_t *x = &n->in[0]->shape;
    if (x->rank != 4 || x->d[1] != s->c || x->d[2] != s->w.ih || x->d[3] != s->w.iw)
        return eai__top_fail(n, EAI_E_FORMAT,
                             "input must be [N, %d, %d, %d] as prepared (rank %d given)", s->c,
                             s->w.ih, s->w.iw, x->rank);
    eai__shape_t *y = &n->out[0]->shape;
    y->rank = 4, y->d[0] = x->d[0], y->d[1] = s->m, y->d[2] = s->w.oh, y->d[3] = s->w.ow;
    return EAI_OK;
}

static eai_status_t conv_prepare(eai__tnode_t *n, const eai_allocator_t *a, size_t *scratch)
{
    EAI_TRY(eai__top_check_io(n, 2, 3, 2));
    const eai__shape_t *x = &n->in[0]->shape, *wt = &n->in[1]->shape;
    if (x->rank != 4)
        return eai__top_fail(n, EAI_E_UNSUPPORTED, "input has rank %d; only 2-D Conv (rank 4)",
                             x->rank);
    if (wt->rank != 4)
        return eai__top_fail(n, EAI_E_FORMAT, "weight has rank %d, expected 4", wt->rank);
    int64_t groups;
    EAI_TRY(eai__attr_int(n->g, n->node, "group", 1, &groups));
    int64_t c = x->d[1], m = wt->d[0];
    if (groups < 1 || c % groups || m % groups || wt->d[1] * groups != c)
        return eai__top_fail(n, EAI_E_FORMAT,
                             "group %lld does not fit %lld input channels and weight [%lld, %lld, "
                             "...]",
                             (long long)groups, (long long)c, (long long)m, (long long)wt->d[1]);
    int64_t ks[EAI_MAX_RANK];
    int nks;
    EAI_TRY(eai__attr_ints(n->g, n->node, "kernel_shape", ks, EAI_MAX_RANK, &nks));
    if (nks >= 0 && (nks != 2 || ks[0] != wt->d[2] || ks[1] != wt->d[3]))
        return eai__top_fail(n, EAI_E_FORMAT, "kernel_shape does not match the weight");
    if (eai__top_has(n, 2)) {
        const eai__shape_t *b = &n->in[2]->shape;
        if (b->rank != 1 || b->d[0] != m)
            return eai__top_fail(n, EAI_E_FORMAT, "bias must be [%lld]", (long long)m);
    } else if (n->n_in == 3 && n->in[2]) {
        return eai__top_fail(n, EAI_E_UNSUPPORTED, "bias is not a float tensor");
    }
    if (x->d[2] > (1 << 20) || x->d[3] > (1 << 20) || wt->d[2] > 4096 || wt->d[3] > 4096 ||
        c > (1 << 20) || m > (1 << 20))
        return eai__top_fail(n, EAI_E_UNSUPPORTED, "dimensions too large");
    int64_t taps = wt->d[1] * wt->d[2] * wt->d[3];
    bool room = groups == 1 && taps <= DIRECT_MAX_K; /* offs follows the state */
    EAI_TRY(
        eai__top_state(n, a, sizeof(conv_state_t) + (room ? (size_t)taps * sizeof(int32_t) : 0)));
    conv_state_t *s = n->state;
    EAI_TRY(eai__top_window(n, (int)x->d[2], (int)x->d[3], (int)wt->d[2], (int)wt->d[3], true,
                            false, &s->w));
    s->c = (int)c, s->m = (int)m, s->groups = (int)groups;
    s->cg = (int)(c / groups), s->mg = (int)(m / groups);
    s->k = s->cg * s->w.kh * s->w.kw;
    s->hw = (int64_t)s->w.ih * s->w.iw;
    s->ohw = (int64_t)s->w.oh * s->w.ow;
    s->plain = s->w.sh == 1 && s->w.sw == 1 && s->w.dh == 1 && s->w.dw == 1 && !s->w.pt &&
               !s->w.pl && !s->w.pb && !s->w.pr;
    /* direct where a sample's input stays in cache while every block of
     * output channels rereads it (edge-sized maps); im2col + GEMM else */
    s->direct = room && s->plain && s->k == taps && c * s->hw <= DIRECT_MAX_INPUT &&
                eai__conv_direct_available();
    if (s->direct) {
        s->offs = (int32_t *)(void *)(s + 1);
        for (int ci = 0, r = 0; ci < s->c; ci++)
            for (int ki = 0; ki < s->w.kh; ki++)
                for (int kj = 0; kj < s->w.kw; kj++)
                    s->offs[r++] = (int32_t)(ci * s->hw + (int64_t)ki * s->w.iw + kj);
    }
    int64_t batch = x->d[0] > 0 ? x->d[0] : 1;
    int64_t nb = COL_BUDGET / ((int64_t)s->k * s->ohw);
    nb = nb < 1 ? 1 : nb > batch ? batch : nb;
    s->nb = (int)nb;
    /* + room for the partial dW and db of a thread when backward is split */
    *scratch =
        (size_t)(nb * s->ohw * (s->k + s->mg) + head_floats(s) + part_floats(s)) * sizeof(float);
    return conv_infer(n);
}

/* Valid output columns [lo, hi) for kernel column offset `off` = pad - kj*dil:
 * those with 0 <= ow*stride - off < iw. */
static void valid_range(int off, int stride, int iw, int ow, int *lo, int *hi)
{
    int l = off > 0 ? (off + stride - 1) / stride : 0;
    int h = iw - 1 + off < 0 ? 0 : (iw - 1 + off) / stride + 1;
    h = h > ow ? ow : h;
    *lo = l < h ? l : h;
    *hi = h;
}

/* Copies n floats (tens: a libc memcpy call per row costs more than the
 * copy) in fixed 8-float blocks the compiler inlines. */
static inline void copy_short(float *restrict d, const float *restrict src, int n)
{
    int j = 0;
    for (; j + 8 <= n; j += 8)
        memcpy(d + j, src + j, 8 * sizeof(float));
    for (; j < n; j++)
        d[j] = src[j];
}

/* Unrolls one input plane into K/cg rows of col (row stride ld), starting at
 * the sample's column; add = true folds col back into the plane (col2im). */
static void unroll(const eai__twin_t *w, float *x, float *col, int64_t ld, bool add)
{
    for (int ki = 0; ki < w->kh; ki++)
        for (int kj = 0; kj < w->kw; kj++) {
            float *row = col + (int64_t)(ki * w->kw + kj) * ld;
            int off = w->pl - kj * w->dw, lo, hi;
            valid_range(off, w->sw, w->iw, w->ow, &lo, &hi);
            for (int oh = 0; oh < w->oh; oh++) {
                float *d = row + (int64_t)oh * w->ow;
                int ih = oh * w->sh - w->pt + ki * w->dh;
                if (ih < 0 || ih >= w->ih) {
                    if (!add) memset(d, 0, (size_t)w->ow * sizeof(float));
                    continue;
                }
                float *xr = x + (int64_t)ih * w->iw; /* xr[ow * sw - off] is in the row */
                if (add) {
                    if (w->sw == 1)
                        for (int ow = lo; ow < hi; ow++)
                            xr[ow - off] += d[ow];
                    else
                        for (int ow = lo; ow < hi; ow++)
                            xr[ow * w->sw - off] += d[ow];
                    continue;
                }
                for (int ow = 0; ow < lo; ow++)
                    d[ow] = 0.0f;
                if (w->sw == 1)
                    copy_short(d + lo, xr + lo - off, hi - lo);
                else
                    for (int ow = lo; ow < hi; ow++)
                        d[ow] = xr[ow * w->sw - off];
                for (int ow = hi; ow < w->ow; ow++)
                    d[ow] = 0.0f;
            }
        }
}

/* unroll for plain windows, where no row needs clipping: the general
 * loop's per-row bounds work cost as much as the copy itself. (An AVX2
 * build of this loop measured no faster: the copy is bound by col's
 * memory traffic, not by instructions.) */
static void unroll_plain(const eai__twin_t *w, float *x, float *col, int64_t ld, bool add)
{
    for (int ki = 0; ki < w->kh; ki++)
        for (int kj = 0; kj < w->kw; kj++) {
            float *row = col + (int64_t)(ki * w->kw + kj) * ld;
            float *xr = x + (int64_t)ki * w->iw + kj;
            for (int oh = 0; oh < w->oh; oh++, row += w->ow, xr += w->iw)
                if (add)
                    for (int ow = 0; ow < w->ow; ow++)
                        xr[ow] += row[ow];
                else
                    copy_short(row, xr, w->ow);
        }
}

/* col for samples [s0, s0+nb) and group g (add: fold col into dx instead). */
static void im2col(const conv_state_t *s, float *x, int64_t s0, int nb, int g, float *col, bool add)
{
    int64_t ld = (int64_t)nb * s->ohw;
    int kk = s->w.kh * s->w.kw;
    for (int i = 0; i < nb; i++)
        for (int ci = 0; ci < s->cg; ci++) {
            float *plane = x + ((s0 + i) * s->c + (int64_t)g * s->cg + ci) * s->hw;
            float *c0 = col + (int64_t)ci * kk * ld + i * s->ohw;
            if (s->plain)
                unroll_plain(&s->w, plane, c0, ld, add);
            else
                unroll(&s->w, plane, c0, ld, add);
        }
}

/* Samples per chunk: as many as `bytes` of scratch hold (the trainer's
 * scratch is sized for the largest node, so it may exceed what prepare
 * asked for: bigger GEMMs, no cost). */
static eai_status_t chunk_of(const eai__tnode_t *n, size_t bytes, int *chunk)
{
    const conv_state_t *s = n->state;
    size_t per = (size_t)(s->ohw * (s->k + s->mg)) * sizeof(float);
    size_t nb = bytes / per;
    if (nb < 1)
        return eai__top_fail(n, EAI_E_INVALID, "scratch of %zu bytes is below the %zu needed",
                             bytes, per);
    /* ...but no more than keeps col within a typical L2 (512 KiB): im2col
     * writes col and the GEMM reads it straight back, which is memory-bound
     * once col spills (3.7 MB for a 5x5 conv on 28x28 at batch 64). */
    size_t l2 = ((size_t)512 << 10) / ((size_t)(s->ohw * s->k) * sizeof(float));
    if (l2 < 1) l2 = 1;
    if (nb > l2) nb = l2;
    *chunk = nb > (size_t)INT32_MAX ? INT32_MAX : (int)nb;
    return EAI_OK;
}

/* A forward or backward pass split over the batch: with nth = 1 the whole
 * batch in chunk1-sample chunks through slice 0 (the single-thread path,
 * unchanged by threading); with nth > 1 thread ith takes its share of the
 * samples in chunkn-sample chunks through its own slice, after the partial
 * gradients that backward keeps there. */
typedef struct conv_job {
    const eai__tnode_t *n;
    const eai__tctx_t *c;
    int64_t batch;
    int chunk1, chunkn;
} conv_job_t;

static void range_of(const conv_job_t *j, int ith, int nth, int64_t *lo, int64_t *hi, float **col,
                     int *chunk)
{
    int64_t head = head_floats(j->n->state);
    if (nth == 1) {
        *lo = 0, *hi = j->batch, *col = j->c->scratch + head, *chunk = j->chunk1;
        return;
    }
    eai__train_split(j->batch, ith, nth, 1, lo, hi);
    *col = eai__train_scratch(j->c, ith) + head + part_floats(j->n->state);
    *chunk = j->chunkn;
}

/* chunks: whether the pass goes through im2col chunks (not for the direct
 * forward, nor a direct backward without dX), which must fit the scratch. */
static eai_status_t make_job(eai__tnode_t *n, eai__tctx_t *c, bool chunks, conv_job_t *j)
{
    const conv_state_t *s = n->state;
    j->n = n, j->c = c, j->batch = n->in[0]->shape.d[0];
    j->chunk1 = j->chunkn = 1;
    if (!chunks) return EAI_OK;
    size_t head = (size_t)head_floats(s) * sizeof(float);
    size_t part = (size_t)part_floats(s) * sizeof(float);
    size_t bytes = c->scratch && c->scratch_bytes > head ? c->scratch_bytes - head : 0;
    EAI_TRY(chunk_of(n, bytes, &j->chunk1));
    j->chunkn = j->chunk1;
    if (c->threads > 1) EAI_TRY(chunk_of(n, bytes > part ? bytes - part : 0, &j->chunkn));
    return EAI_OK;
}

/* Multiply-adds of one GEMM pass over the batch: what a split must pay for. */
static int64_t job_work(const conv_job_t *j)
{
    const conv_state_t *s = j->n->state;
    return j->batch * s->ohw * s->k * s->mg * s->groups;
}

static void forward_task(void *p, int ith, int nth)
{
    const conv_job_t *j = p;
    const eai__tnode_t *n = j->n;
    const conv_state_t *s = n->state;
    float *x = n->in[0]->data, *wt = n->in[1]->data, *y = n->out[0]->data;
    const float *bias = eai__top_has(n, 2) ? n->in[2]->data : NULL;
    int64_t lo, hi;
    float *col;
    int chunk;
    range_of(j, ith, nth, &lo, &hi, &col, &chunk);
    if (s->direct) {
        eai__conv_direct_fwd(&s->w, s->m, s->k, s->offs, s->c * s->hw, x, wt, bias, y, lo, hi);
        return;
    }
    for (int64_t s0 = lo; s0 < hi; s0 += chunk) {
        int nb = (int)(hi - s0 < chunk ? hi - s0 : chunk);
        int64_t ld = (int64_t)nb * s->ohw;
        float *tmp = col + (int64_t)s->k * ld;
        for (int g = 0; g < s->groups; g++) {
            im2col(s, x, s0, nb, g, col, false);
            const float *wg = wt + (int64_t)g * s->mg * s->k;
            if (nb == 1) { /* the sample's output block is already [mg x ohw] */
                float *yg = y + (s0 * s->m + (int64_t)g * s->mg) * s->ohw;
                eai__train_gemm(false, false, s->mg, (int)ld, s->k, 1.0f, wg, s->k, col, (int)ld,
                                0.0f, yg, (int)s->ohw);
                if (bias)
                    for (int mi = 0; mi < s->mg; mi++) {
                        float b = bias[g * s->mg + mi], *yr = yg + mi * s->ohw;
                        for (int64_t q = 0; q < s->ohw; q++)
                            yr[q] += b;
                    }
                continue;
            }
            eai__train_gemm(false, false, s->mg, (int)ld, s->k, 1.0f, wg, s->k, col, (int)ld, 0.0f,
                            tmp, (int)ld);
            for (int i = 0; i < nb; i++)
                for (int mi = 0; mi < s->mg; mi++) {
                    int oc = g * s->mg + mi;
                    float b = bias ? bias[oc] : 0.0f;
                    const float *src = tmp + mi * ld + i * s->ohw;
                    float *dst = y + ((s0 + i) * s->m + oc) * s->ohw;
                    for (int64_t q = 0; q < s->ohw; q++)
                        dst[q] = src[q] + b;
                }
        }
    }
}

static eai_status_t conv_forward(eai__tnode_t *n, eai__tctx_t *c)
{
    const conv_state_t *s = n->state;
    conv_job_t j;
    EAI_TRY(make_job(n, c, !s->direct, &j));
    eai__train_par(c, job_work(&j), forward_task, &j);
    return EAI_OK;
}

/* Sum of n floats in 8 interleaved partial sums, then pairwise: a plain
 * running sum neither vectorizes nor pipelines (each add waits for the
 * last), and was a third of the first conv's backward. */
static float sum_f32(const float *x, int64_t n)
{
    float l[8] = {0};
    int64_t q = 0;
    for (; q + 8 <= n; q += 8)
        for (int k = 0; k < 8; k++)
            l[k] += x[q + k];
    float acc = ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7]));
    for (; q < n; q++)
        acc += x[q];
    return acc;
}

/* Backward over samples [lo, hi): dW and db accumulate into dw/db (the
 * parameter gradients with nth = 1, the thread's partials otherwise), dX
 * straight into its samples' planes, which no other share touches. */
static void backward_task(void *p, int ith, int nth)
{
    const conv_job_t *j = p;
    const eai__tnode_t *n = j->n;
    const conv_state_t *s = n->state;
    const float *dy = n->out[0]->grad;
    float *x = n->in[0]->data, *wt = n->in[1]->data;
    float *dx = n->in[0]->grad, *dw = n->in[1]->grad;
    float *db = eai__top_has(n, 2) ? n->in[2]->grad : NULL;
    int64_t lo, hi;
    float *col;
    int chunk;
    range_of(j, ith, nth, &lo, &hi, &col, &chunk);
    float *head = eai__train_scratch(j->c, ith);
    if (nth > 1) {
        float *part = head + head_floats(s);
        memset(part, 0, (size_t)part_floats(s) * sizeof(float));
        dw = dw ? part : NULL;
        db = db ? part + (int64_t)s->m * s->k : NULL;
    }
    if (db)
        for (int64_t i = lo; i < hi; i++)
            for (int oc = 0; oc < s->m; oc++)
                db[oc] += sum_f32(dy + (i * s->m + oc) * s->ohw, s->ohw);
    if (dw && s->direct) {
        eai__conv_direct_dw(&s->w, s->m, s->k, s->offs, s->c * s->hw, x, dy, head, dw, lo, hi);
        dw = NULL; /* done: the chunks below only compute dX */
    }
    if (!dx && !dw) return;
    for (int64_t s0 = lo; s0 < hi; s0 += chunk) {
        int nb = (int)(hi - s0 < chunk ? hi - s0 : chunk);
        int64_t ld = (int64_t)nb * s->ohw;
        float *tmp = col + (int64_t)s->k * ld;
        for (int g = 0; g < s->groups; g++) {
            /* dY of this group and chunk as [mg x nb*ohw], as the GEMMs want it */
            const float *dyg = tmp;
            int ldy = (int)ld;
            if (nb == 1) {
                dyg = dy + (s0 * s->m + (int64_t)g * s->mg) * s->ohw;
            } else {
                for (int mi = 0; mi < s->mg; mi++)
                    for (int i = 0; i < nb; i++)
                        memcpy(tmp + mi * ld + i * s->ohw,
                               dy + ((s0 + i) * s->m + g * s->mg + mi) * s->ohw,
                               (size_t)s->ohw * sizeof(float));
            }
            if (dw) {
                im2col(s, x, s0, nb, g, col, false);
                eai__train_gemm(false, true, s->mg, s->k, (int)ld, 1.0f, dyg, ldy, col, (int)ld,
                                1.0f, dw + (int64_t)g * s->mg * s->k, s->k);
            }
            if (dx) {
                eai__train_gemm(true, false, s->k, (int)ld, s->mg, 1.0f,
                                wt + (int64_t)g * s->mg * s->k, s->k, dyg, ldy, 0.0f, col, (int)ld);
                im2col(s, dx, s0, nb, g, col, true);
            }
        }
    }
}

/* dst[i] += p_0[i] + p_1[i] + ... in thread order: the same sum whatever
 * order the threads finished in. */
static void reduce_parts(const eai__tctx_t *c, int nth, int64_t off, int64_t count, float *dst)
{
    for (int64_t i = 0; i < count; i++) {
        float acc = eai__train_scratch(c, 0)[off + i];
        for (int t = 1; t < nth; t++)
            acc += eai__train_scratch(c, t)[off + i];
        dst[i] += acc;
    }
}

static eai_status_t conv_backward(eai__tnode_t *n, eai__tctx_t *c)
{
    const conv_state_t *s = n->state;
    if (!n->out[0]->grad) return EAI_OK;
    float *dw = n->in[1]->grad, *db = eai__top_has(n, 2) ? n->in[2]->grad : NULL;
    if (!n->in[0]->grad && !dw && !db) return EAI_OK;
    conv_job_t j;
    EAI_TRY(make_job(n, c, !s->direct || n->in[0]->grad, &j));
    /* dX and dW are two GEMMs the size of forward's */
    int nth = eai__train_par(c, 2 * job_work(&j), backward_task, &j);
    if (nth > 1) {
        int64_t mk = (int64_t)s->m * s->k;
        int64_t head = head_floats(s);
        if (dw) reduce_parts(c, nth, head, mk, dw);
        if (db) reduce_parts(c, nth, head + mk, s->m, db);
    }
    return EAI_OK;
}

EAI__TOP_SAFE_PREPARE(conv_prepare)
const eai__top_t eai__top_conv = {"Conv",        conv_prepare_safe, conv_infer, conv_forward,
                                  conv_backward, eai__top_release,  0};
