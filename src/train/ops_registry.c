/* The training op table (name -> forward/backward kernels), the trainer's
 * random generator, the one GEMM entry point (OpenBLAS), and helpers the
 * ops_*.c files share: messages naming the node, window geometry.
 */
#include <cblas.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "train/ops_impl.h"

/* Sorted by nothing in particular: the table is short and looked up once per
 * node at trainer creation. */
static const eai__top_t *const OPS[] = {
    &eai__top_gemm,      &eai__top_matmul,   &eai__top_conv,    &eai__top_maxpool,
    &eai__top_avgpool,   &eai__top_gavgpool, &eai__top_relu,    &eai__top_leakyrelu,
    &eai__top_sigmoid,   &eai__top_tanh,     &eai__top_softmax, &eai__top_logsoftmax,
    &eai__top_flatten,   &eai__top_reshape,  &eai__top_concat,  &eai__top_transpose,
    &eai__top_identity,  &eai__top_add,      &eai__top_sub,     &eai__top_mul,
    &eai__top_batchnorm, &eai__top_dropout,
};

const eai__top_t *eai__top_find(const char *name)
{
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++)
        if (strcmp(OPS[i]->name, name) == 0) return OPS[i];
    return NULL;
}

void eai__top_foreach(void (*fn)(const char *name, void *user), void *user)
{
    for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++)
        fn(OPS[i]->name, user);
}

/* splitmix64 on state[0]: needs one word of state whatever the caller
 * allocated, and passes BigCrush, which is plenty for Dropout masks. */
float eai__train_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (float)(z >> 40) * (1.0f / 16777216.0f); /* 24 bits: exactly representable, < 1 */
}

/* Below this much work a dispatch (waking a worker: microseconds, more on a
 * loaded machine) costs more than the second thread saves. */
#define PAR_MIN_WORK ((int64_t)1 << 15)

int eai__train_par(const eai__tctx_t *c, int64_t work, eai_task_fn fn, void *ctx)
{
    if (!c->pool || c->threads < 2 || work < PAR_MIN_WORK) {
        fn(ctx, 0, 1);
        return 1;
    }
    eai_threadpool_run(c->pool, fn, ctx);
    return c->threads;
}

void eai__train_gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a,
                     int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        /* BLAS leaves C alone only for beta 1; do the scaling ourselves. */
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                c[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[(size_t)i * ldc + j];
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

eai_status_t eai__top_fail(const eai__tnode_t *n, eai_status_t st, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return eai_fail(st, "%s: node %d '%s' (%s): %s", n->g && n->g->label ? n->g->label : "train",
                    n->g ? eai__node_index(n->g, n->node) : -1, n->node->name, n->node->op, msg);
}

eai_status_t eai__top_check_io(const eai__tnode_t *n, int min_in, int max_in, int n_req)
{
    if (n->n_in < min_in || n->n_in > max_in)
        return eai__top_fail(n, EAI_E_FORMAT, "has %d inputs, expected %d to %d", n->n_in, min_in,
                             max_in);
    if (n->n_out < 1 || !n->out[0]) return eai__top_fail(n, EAI_E_FORMAT, "has no output");
    for (int i = 0; i < n_req; i++) {
        if (!n->in[i]) return eai__top_fail(n, EAI_E_FORMAT, "input %d is missing", i);
        if (!n->in[i]->data)
            return eai__top_fail(n, EAI_E_UNSUPPORTED, "input %d ('%s') is not a float tensor", i,
                                 n->in[i]->v ? n->in[i]->v->name : "?");
    }
    return EAI_OK;
}

eai_status_t eai__top_state(eai__tnode_t *n, const eai_allocator_t *a, size_t bytes)
{
    n->state = eai__calloc(a, 1, bytes ? bytes : 1);
    if (!n->state) return eai__top_fail(n, EAI_E_NOMEM, "out of memory for op state");
    return EAI_OK;
}

void eai__top_release(eai__tnode_t *n, const eai_allocator_t *a)
{
    eai__free(a, n->state);
    n->state = NULL;
}

/* A 2-value INTS attribute with every value >= lo (default `def`). */
static eai_status_t pair(const eai__tnode_t *n, const char *name, int def, int lo, int *v)
{
    int64_t vals[EAI_MAX_RANK];
    int cnt;
    EAI_TRY(eai__attr_ints(n->g, n->node, name, vals, EAI_MAX_RANK, &cnt));
    if (cnt < 0) {
        v[0] = v[1] = def;
        return EAI_OK;
    }
    if (cnt != 2)
        return eai__top_fail(n, EAI_E_UNSUPPORTED, "'%s' has %d values, expected 2 (2-D)", name,
                             cnt);
    for (int i = 0; i < 2; i++) {
        if (vals[i] < lo || vals[i] > (1 << 20))
            return eai__top_fail(n, EAI_E_FORMAT, "'%s'[%d] = %lld is out of range", name, i,
                                 (long long)vals[i]);
        v[i] = (int)vals[i];
    }
    return EAI_OK;
}

static int out_size(int in, int pb, int pe, int k, int s, int d, bool ceil_mode)
{
    int span = in + pb + pe - ((k - 1) * d + 1);
    if (span < 0) return 0;
    int o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    /* PyTorch's rule: the last window must start inside the input or the
     * leading pad, never in the trailing pad alone. */
    if (ceil_mode && (o - 1) * s >= in + pb) o--;
    return o;
}

eai_status_t eai__top_window(const eai__tnode_t *n, int ih, int iw, int kh, int kw, bool allow_dil,
                             bool allow_ceil, eai__twin_t *w)
{
    memset(w, 0, sizeof *w);
    w->ih = ih, w->iw = iw, w->kh = kh, w->kw = kw;
    int s[2], d[2] = {1, 1};
    EAI_TRY(pair(n, "strides", 1, 1, s));
    if (allow_dil) {
        EAI_TRY(pair(n, "dilations", 1, 1, d));
    } else if (eai__node_attr(n->node, "dilations")) {
        int64_t vals[EAI_MAX_RANK];
        int cnt;
        EAI_TRY(eai__attr_ints(n->g, n->node, "dilations", vals, EAI_MAX_RANK, &cnt));
        for (int i = 0; i < cnt; i++)
            if (vals[i] != 1) return eai__top_fail(n, EAI_E_UNSUPPORTED, "dilations other than 1");
    }
    w->sh = s[0], w->sw = s[1], w->dh = d[0], w->dw = d[1];
    int64_t ceil_mode = 0;
    EAI_TRY(eai__attr_int(n->g, n->node, "ceil_mode", 0, &ceil_mode));
    if (ceil_mode != 0 && (!allow_ceil || ceil_mode != 1))
        return eai__top_fail(n, EAI_E_UNSUPPORTED, "ceil_mode %lld", (long long)ceil_mode);
    const char *ap;
    EAI_TRY(eai__attr_string(n->g, n->node, "auto_pad", "NOTSET", &ap));
    if (strcmp(ap, "NOTSET") == 0) {
        int64_t p[EAI_MAX_RANK] = {0};
        int cnt;
        EAI_TRY(eai__attr_ints(n->g, n->node, "pads", p, EAI_MAX_RANK, &cnt));
        if (cnt >= 0 && cnt != 4)
            return eai__top_fail(n, EAI_E_UNSUPPORTED, "'pads' has %d values, expected 4 (2-D)",
                                 cnt);
        for (int i = 0; i < 4; i++)
            if (p[i] < 0 || p[i] > (1 << 20))
                return eai__top_fail(n, EAI_E_FORMAT, "'pads'[%d] = %lld is out of range", i,
                                     (long long)p[i]);
        w->pt = (int)p[0], w->pl = (int)p[1], w->pb = (int)p[2], w->pr = (int)p[3];
        w->oh = out_size(ih, w->pt, w->pb, kh, w->sh, w->dh, ceil_mode);
        w->ow = out_size(iw, w->pl, w->pr, kw, w->sw, w->dw, ceil_mode);
    } else if (strcmp(ap, "VALID") == 0) {
        w->oh = out_size(ih, 0, 0, kh, w->sh, w->dh, ceil_mode);
        w->ow = out_size(iw, 0, 0, kw, w->sw, w->dw, ceil_mode);
    } else if (strcmp(ap, "SAME_UPPER") == 0 || strcmp(ap, "SAME_LOWER") == 0) {
        /* ONNX: output = ceil(in / stride); the odd pad goes at the end
         * (UPPER) or the beginning (LOWER). */
        bool upper = ap[5] == 'U';
        w->oh = (ih + w->sh - 1) / w->sh;
        w->ow = (iw + w->sw - 1) / w->sw;
        int th = (w->oh - 1) * w->sh + (kh - 1) * w->dh + 1 - ih;
        int tw = (w->ow - 1) * w->sw + (kw - 1) * w->dw + 1 - iw;
        th = th > 0 ? th : 0;
        tw = tw > 0 ? tw : 0;
        w->pt = upper ? th / 2 : th - th / 2;
        w->pb = th - w->pt;
        w->pl = upper ? tw / 2 : tw - tw / 2;
        w->pr = tw - w->pl;
    } else {
        return eai__top_fail(n, EAI_E_UNSUPPORTED, "auto_pad '%s'", ap);
    }
    if (w->oh <= 0 || w->ow <= 0)
        return eai__top_fail(n, EAI_E_FORMAT,
                             "window %dx%d (dilated) does not fit the %dx%d input with its pads",
                             kh, kw, ih, iw);
    return EAI_OK;
}
