/* XNNPACK family 'gemm': Gemm / FusedGemm / MatMul with constant float32
 * weights as XNNPACK's fully connected operator (packed once at session
 * creation). Gemm's alpha is folded into a scaled copy of B, beta times a
 * per-column C into the bias; B [K,N] (transB 0, and MatMul) is passed with
 * XNN_FLAG_TRANSPOSE_WEIGHTS. Row-broadcast C ([M,N] or [M,1]) and transA
 * stay on ref.
 */
#include "runtime/xnnpack/xnn_impl.h"

typedef struct fc {
    int64_t batch, k, n;
    bool trans_b; /* B is [N,K] */
    float alpha, beta;
    int c_idx;   /* bias input or -1 */
    int64_t c_n; /* its numel: 1 or N */
    eai__act_t act;
} fc_t;

static float fattr(const eai__opctx_t *c, const char *name, float def)
{
    const eai__attr_t *a = eai__node_attr(c->node, name);
    return a && a->type == EAI__A_FLOAT ? a->f : def;
}

static int64_t iattr(const eai__opctx_t *c, const char *name, int64_t def)
{
    const eai__attr_t *a = eai__node_attr(c->node, name);
    return a && a->type == EAI__A_INT ? a->i : def;
}

static bool fc_parse(const eai__opctx_t *c, fc_t *f)
{
    memset(f, 0, sizeof *f);
    f->c_idx = -1;
    f->alpha = f->beta = 1.0f;
    if (c->n_in < 2 || c->in[0].dtype != EAI_F32 || c->out[0].dtype != EAI_F32 ||
        !eai__xnn_const_f32(c, 1) || c->in[1].shape.rank != 2)
        return false;
    if (c->node->in[0] >= 0 && c->g->values[c->node->in[0]].kind == EAI__V_CONST) return false;
    const eai__shape_t *a = &c->in[0].shape, *b = &c->in[1].shape;
    if (eai__shape_numel(a) == 0 || eai__shape_numel(&c->out[0].shape) == 0) return false;
    const bool matmul = strcmp(c->node->op, "MatMul") == 0;
    if (matmul) {
        if (a->rank < 1) return false;
        f->k = b->d[0];
        f->n = b->d[1];
        if (a->d[a->rank - 1] != f->k) return false;
        f->batch = eai__shape_numel(a) / f->k;
        return true;
    }
    if (a->rank != 2 || iattr(c, "transA", 0) != 0) return false;
    f->trans_b = iattr(c, "transB", 0) != 0;
    f->alpha = fattr(c, "alpha", 1.0f);
    f->beta = fattr(c, "beta", 1.0f);
    f->batch = a->d[0];
    f->k = a->d[1];
    f->n = f->trans_b ? b->d[0] : b->d[1];
    if ((f->trans_b ? b->d[1] : b->d[0]) != f->k) return false;
    if (eai__has_in(c, 2) && f->beta != 0.0f) {
        if (!eai__xnn_const_f32(c, 2)) return false;
        const eai__shape_t *cs = &c->in[2].shape;
        f->c_n = eai__shape_numel(cs);
        bool per_col = cs->rank >= 1 && cs->d[cs->rank - 1] == f->n && f->c_n == f->n;
        if (f->c_n != 1 && !per_col) return false;
        f->c_idx = 2;
    }
    if (strcmp(c->node->op, "FusedGemm") == 0) {
        if (eai__act_from_node(c->g, c->node, &f->act) != EAI_OK || !eai__xnn_act_ok(&f->act))
            return false;
    }
    return true;
}

static bool fc_supports(const eai__opctx_t *c)
{
    fc_t f;
    return fc_parse(c, &f);
}

static size_t fc_scratch(const eai__opctx_t *c)
{
    fc_t f;
    if (!fc_parse(c, &f)) return 0;
    return eai__xnn_act_scratch(&f.act, eai__shape_numel(&c->out[0].shape));
}

static eai_status_t fc_prepare(eai__opctx_t *c, eai__xnn_node_t *st)
{
    fc_t f;
    if (EAI_NEVER(!fc_parse(c, &f)))
        return eai__op_fail(c, EAI_E_STATE, "xnnpack: gemm parameters changed");
    const size_t wn = (size_t)(f.k * f.n);
    const float *w = c->in[1].data;
    float *ws = NULL, *bias = NULL;
    eai_status_t r = EAI_OK;
    if (f.alpha != 1.0f) { /* a scaled temporary: XNNPACK packs its own copy */
        ws = eai__alloc_aligned(&st->alloc, wn * sizeof(float));
        if (!ws) return eai__op_fail(c, EAI_E_NOMEM, "out of memory");
        for (size_t i = 0; i < wn; i++)
            ws[i] = f.alpha * w[i];
        w = ws;
    }
    if (f.c_idx >= 0) {
        bias = eai__alloc_aligned(&st->alloc, (size_t)f.n * sizeof(float));
        if (!bias) r = eai__op_fail(c, EAI_E_NOMEM, "out of memory");
        const float *cv = c->in[f.c_idx].data;
        for (int64_t j = 0; bias && j < f.n; j++)
            bias[j] = f.beta * cv[f.c_n == 1 ? 0 : j];
    }
    float lo, hi;
    eai__xnn_act_clamp(&f.act, &lo, &hi);
    xnn_operator_t op = NULL;
    if (r == EAI_OK) {
        enum xnn_status s = xnn_create_fully_connected_nc_f32(
            (size_t)f.k, (size_t)f.n, (size_t)f.k, (size_t)f.n, w, bias, lo, hi,
            (f.trans_b ? 0 : XNN_FLAG_TRANSPOSE_WEIGHTS) | EAI__XNN_FLAGS, &op);
        r = eai__xnn_push(c, st, s, op, "create fully connected");
    }
    eai__free_aligned(&st->alloc, ws);
    eai__free_aligned(&st->alloc, bias);
    EAI_TRY(r);
    st->bytes += (wn + (size_t)f.n) * sizeof(float);
    EAI_TRY(eai__xnn_check(c,
                           xnn_setup_fully_connected_nc_f32(op, (size_t)f.batch, c->in[0].data,
                                                            c->out[0].data, st->tp),
                           "setup fully connected"));
    return eai__xnn_act_push(c, st, &f.act, c->out[0].data, eai__shape_numel(&c->out[0].shape));
}

const eai__xnn_op_t eai__xnn_ops_gemm[] = {
    {"", "Gemm", fc_supports, fc_prepare, fc_scratch},
    {"", "MatMul", fc_supports, fc_prepare, fc_scratch},
    {"com.edgeai", "FusedGemm", fc_supports, fc_prepare, fc_scratch},
    {0},
};
