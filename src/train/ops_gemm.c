/* Training kernels for Gemm and MatMul: every product is one (or, for
 * batched MatMul, one per batch) eai__train_gemm call, forward and backward.
 * Gemm splits its products over threads by rows of Y (forward, dA) and
 * columns of Y (dB, dC), which leaves every sum as it was; MatMul runs on
 * the caller's thread.
 * Y = alpha * op(A) op(B) + beta * C gives dop(A) = alpha dY op(B)^T and
 * dop(B) = alpha op(A)^T dY; the transposes fold into the BLAS flags.
 */
#include "train/ops_impl.h"

typedef struct gemm_state {
    bool ta, tb;
    float alpha, beta;
    int m, n, k;
    int64_t c_rs, c_cs; /* C's strides over Y's rows and columns (0: broadcast) */
} gemm_state_t;

static eai_status_t gemm_infer(eai__tnode_t *n)
{
    gemm_state_t *s = n->state;
    const eai__shape_t *a = &n->in[0]->shape, *b = &n->in[1]->shape;
    if (a->rank != 2 || b->rank != 2)
        return eai__top_fail(n, EAI_E_FORMAT, "A and B must have rank 2, got %d and %d", a->rank,
                             b->rank);
    int64_t m = s->ta ? a->d[1] : a->d[0], ka = s->ta ? a->d[0] : a->d[1];
    int64_t kb = s->tb ? b->d[1] : b->d[0], nn = s->tb ? b->d[0] : b->d[1];
    if (ka != kb)
        return eai__top_fail(n, EAI_E_FORMAT, "inner dimensions differ: %lld vs %lld",
                             (long long)ka, (long long)kb);
    if (m > INT32_MAX || nn > INT32_MAX || ka > INT32_MAX)
        return eai__top_fail(n, EAI_E_UNSUPPORTED, "dimensions too large");
    s->m = (int)m, s->n = (int)nn, s->k = (int)ka;
    s->c_rs = s->c_cs = 0;
    if (eai__top_has(n, 2)) {
        const eai__shape_t *c = &n->in[2]->shape;
        int64_t cr = 1, cc = 1;
        if (c->rank == 1)
            cc = c->d[0];
        else if (c->rank == 2)
            cr = c->d[0], cc = c->d[1];
        else if (c->rank != 0)
            return eai__top_fail(n, EAI_E_FORMAT, "C has rank %d, expected 0 to 2", c->rank);
        if ((cr != 1 && cr != m) || (cc != 1 && cc != nn))
            return eai__top_fail(n, EAI_E_FORMAT,
                                 "C [%lld x %lld] does not broadcast to [%lld x %lld]",
                                 (long long)cr, (long long)cc, (long long)m, (long long)nn);
        s->c_cs = cc == 1 ? 0 : 1;
        s->c_rs = cr == 1 ? 0 : cc;
    }
    eai__shape_t *y = &n->out[0]->shape;
    y->rank = 2, y->d[0] = m, y->d[1] = nn;
    return EAI_OK;
}

static eai_status_t gemm_prepare(eai__tnode_t *n, const eai_allocator_t *a, size_t *scratch)
{
    EAI_TRY(eai__top_check_io(n, 2, 3, 2));
    int64_t ta, tb;
    float alpha, beta;
    EAI_TRY(eai__attr_int(n->g, n->node, "transA", 0, &ta));
    EAI_TRY(eai__attr_int(n->g, n->node, "transB", 0, &tb));
    EAI_TRY(eai__attr_float(n->g, n->node, "alpha", 1.0f, &alpha));
    EAI_TRY(eai__attr_float(n->g, n->node, "beta", 1.0f, &beta));
    if ((ta != 0 && ta != 1) || (tb != 0 && tb != 1))
        return eai__top_fail(n, EAI_E_FORMAT, "transA/transB must be 0 or 1");
    if (n->n_in == 3 && n->in[2] && !n->in[2]->data)
        return eai__top_fail(n, EAI_E_UNSUPPORTED, "C is not a float tensor");
    EAI_TRY(eai__top_state(n, a, sizeof(gemm_state_t)));
    gemm_state_t *s = n->state;
    s->ta = ta, s->tb = tb, s->alpha = alpha, s->beta = beta;
    *scratch = 0;
    return gemm_infer(n);
}

/* Forward share: rows [i0, i1) of Y (samples, when A is the batch). */
static void gemm_forward_task(void *p, int ith, int nth)
{
    const eai__tnode_t *n = p;
    const gemm_state_t *s = n->state;
    int64_t i0, i1;
    eai__train_split(s->m, ith, nth, 8, &i0, &i1);
    if (i1 <= i0) return;
    float *y = n->out[0]->data;
    float beta = 0.0f;
    if (eai__top_has(n, 2) && s->beta != 0.0f) {
        const float *cd = n->in[2]->data;
        for (int64_t i = i0; i < i1; i++)
            for (int j = 0; j < s->n; j++)
                y[(size_t)i * s->n + j] = s->beta * cd[i * s->c_rs + j * s->c_cs];
        beta = 1.0f;
    }
    int lda = s->ta ? s->m : s->k;
    const float *a = n->in[0]->data + (s->ta ? i0 : i0 * lda);
    eai__train_gemm(s->ta, s->tb, (int)(i1 - i0), s->n, s->k, s->alpha, a, lda, n->in[1]->data,
                    s->tb ? s->k : s->n, beta, y + i0 * s->n, s->n);
}

static eai_status_t gemm_forward(eai__tnode_t *n, eai__tctx_t *c)
{
    const gemm_state_t *s = n->state;
    eai__train_par(c, (int64_t)s->m * s->n * s->k, gemm_forward_task, n);
    return EAI_OK;
}

/* Backward share: rows [i0, i1) of dA's rows (or columns, transA), columns
 * [j0, j1) of dB's (or rows, transB) and of dC. Each output element is the
 * same sum in the same order as unsplit, so the split changes no result. */
static void gemm_backward_task(void *p, int ith, int nth)
{
    const eai__tnode_t *n = p;
    const gemm_state_t *s = n->state;
    const float *dy = n->out[0]->grad, *A = n->in[0]->data, *B = n->in[1]->data;
    int m = s->m, nn = s->n, k = s->k, lda = s->ta ? m : k, ldb = s->tb ? k : nn;
    int64_t i0, i1, j0, j1;
    eai__train_split(m, ith, nth, 8, &i0, &i1);
    eai__train_split(nn, ith, nth, 8, &j0, &j1);
    int mi = (int)(i1 - i0), nj = (int)(j1 - j0);
    float *da = n->in[0]->grad, *db = n->in[1]->grad;
    if (da && mi > 0) {
        if (!s->ta) /* dA[m,k] = alpha dY op(B)^T */
            eai__train_gemm(false, !s->tb, mi, k, nn, s->alpha, dy + i0 * nn, nn, B, ldb, 1.0f,
                            da + i0 * k, k);
        else /* dA[k,m] = alpha op(B) dY^T */
            eai__train_gemm(s->tb, true, k, mi, nn, s->alpha, B, ldb, dy + i0 * nn, nn, 1.0f,
                            da + i0, m);
    }
    if (db && nj > 0) {
        if (!s->tb) /* dB[k,n] = alpha op(A)^T dY */
            eai__train_gemm(!s->ta, false, k, nj, m, s->alpha, A, lda, dy + j0, nn, 1.0f, db + j0,
                            nn);
        else /* dB[n,k] = alpha dY^T op(A) */
            eai__train_gemm(true, s->ta, nj, k, m, s->alpha, dy + j0, nn, A, lda, 1.0f, db + j0 * k,
                            k);
    }
    if (eai__top_has(n, 2) && n->in[2]->grad) {
        /* a C broadcast along Y's columns sums whole rows: one thread only */
        if (s->c_cs == 0) j0 = 0, j1 = ith == 0 ? nn : 0;
        float *dc = n->in[2]->grad;
        for (int i = 0; i < m; i++)
            for (int64_t j = j0; j < j1; j++)
                dc[i * s->c_rs + j * s->c_cs] += s->beta * dy[(size_t)i * nn + j];
    }
}

static eai_status_t gemm_backward(eai__tnode_t *n, eai__tctx_t *c)
{
    const gemm_state_t *s = n->state;
    if (!n->out[0]->grad) return EAI_OK;
    eai__train_par(c, 2 * (int64_t)s->m * s->n * s->k, gemm_backward_task, n);
    return EAI_OK;
}

EAI__TOP_SAFE_PREPARE(gemm_prepare)
const eai__top_t eai__top_gemm = {"Gemm",        gemm_prepare_safe, gemm_infer, gemm_forward,
                                  gemm_backward, eai__top_release,  0};

/* ---- MatMul: A [..., M, K] x B [K, N] (A's leading dims fold into M), or
 * A [b..., M, K] x B [b..., K, N] with equal batch dims or one side's all 1. */

typedef struct matmul_state {
    int m, n, k;
    int64_t batch;      /* number of products */
    int64_t a_bs, b_bs; /* per-product strides in floats (0: broadcast) */
} matmul_state_t;

static eai_status_t matmul_infer(eai__tnode_t *n)
{
    matmul_state_t *s = n->state;
    const eai__shape_t *a = &n->in[0]->shape, *b = &n->in[1]->shape;
    if (a->rank < 2 || b->rank < 2)
        return eai__top_fail(n, EAI_E_UNSUPPORTED, "inputs of rank %d and %d (1-D not supported)",
                             a->rank, b->rank);
    int64_t m = a->d[a->rank - 2], k = a->d[a->rank - 1], kb = b->d[b->rank - 2],
            nn = b->d[b->rank - 1];
    if (k != kb)
        return eai__top_fail(n, EAI_E_FORMAT, "inner dimensions differ: %lld vs %lld", (long long)k,
                             (long long)kb);
    eai__shape_t *y = &n->out[0]->shape;
    int64_t ba = 1, bb = 1;
    for (int i = 0; i < a->rank - 2; i++)
        ba *= a->d[i];
    for (int i = 0; i < b->rank - 2; i++)
        bb *= b->d[i];
    if (b->rank == 2 || bb == 1) {
        if (b->rank > a->rank)
            return eai__top_fail(n, EAI_E_UNSUPPORTED, "B has a higher rank than A");
        /* A's batch folds into the rows: one GEMM. */
        *y = *a;
        y->d[y->rank - 1] = nn;
        s->batch = 1, s->a_bs = s->b_bs = 0;
        m *= ba;
    } else {
        if (a->rank != b->rank)
            return eai__top_fail(n, EAI_E_UNSUPPORTED, "batched inputs of ranks %d and %d", a->rank,
                                 b->rank);
        bool same = true;
        for (int i = 0; i < a->rank - 2; i++)
            same = same && a->d[i] == b->d[i];
        if (!same && ba != 1)
            return eai__top_fail(n, EAI_E_UNSUPPORTED,
                                 "batch dimensions must be equal or all 1 on one side");
        *y = *b;
        y->d[y->rank - 2] = m;
        s->batch = bb, s->a_bs = ba == 1 ? 0 : m * k, s->b_bs = k * nn;
    }
    if (m > INT32_MAX || nn > INT32_MAX || k > INT32_MAX)
        return eai__top_fail(n, EAI_E_UNSUPPORTED, "dimensions too large");
    s->m = (int)m, s->n = (int)nn, s->k = (int)k;
    return EAI_OK;
}

static eai_status_t matmul_prepare(eai__tnode_t *n, const eai_allocator_t *a, size_t *scratch)
{
    EAI_TRY(eai__top_check_io(n, 2, 2, 2));
    EAI_TRY(eai__top_state(n, a, sizeof(matmul_state_t)));
    *scratch = 0;
    return matmul_infer(n);
}

static eai_status_t matmul_forward(eai__tnode_t *n, eai__tctx_t *c)
{
    const matmul_state_t *s = n->state;
    for (int64_t i = 0; i < s->batch; i++)
        eai__train_gemm(false, false, s->m, s->n, s->k, 1.0f, n->in[0]->data + i * s->a_bs, s->k,
                        n->in[1]->data + i * s->b_bs, s->n, 0.0f,
                        n->out[0]->data + i * (int64_t)s->m * s->n, s->n);
    return EAI_OK;
}

static eai_status_t matmul_backward(eai__tnode_t *n, eai__tctx_t *c)
{
    const matmul_state_t *s = n->state;
    const float *dy = n->out[0]->grad;
    if (!dy) return EAI_OK;
    for (int64_t i = 0; i < s->batch; i++) {
        const float *dyi = dy + i * (int64_t)s->m * s->n;
        if (n->in[0]->grad) /* dA = dY B^T (summed when A is broadcast) */
            eai__train_gemm(false, true, s->m, s->k, s->n, 1.0f, dyi, s->n,
                            n->in[1]->data + i * s->b_bs, s->n, 1.0f, n->in[0]->grad + i * s->a_bs,
                            s->k);
        if (n->in[1]->grad) /* dB = A^T dY */
            eai__train_gemm(true, false, s->k, s->n, s->m, 1.0f, n->in[0]->data + i * s->a_bs, s->k,
                            dyi, s->n, 1.0f, n->in[1]->grad + i * s->b_bs, s->n);
    }
    return EAI_OK;
}

EAI__TOP_SAFE_PREPARE(matmul_prepare)
const eai__top_t eai__top_matmul = {
    "MatMul", matmul_prepare_safe, matmul_infer, matmul_forward, matmul_backward, eai__top_release,
    0};
