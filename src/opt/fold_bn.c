/* BatchNormalization (inference) folded into the Conv, ConvTranspose or
 * Gemm before it. With a = gamma / sqrt(var + eps) per output channel c:
 *
 *   Conv           W'[c, ...]  = W[c, ...] * a[c]       b'[c] = (b[c] - mean[c]) * a[c] + beta[c]
 *   ConvTranspose  W'[i, j, ...] = W[i, j, ...] * a[c]  (c = group(i) * M/g + j; b' as Conv)
 *   Gemm (BN over Y's axis 1 = N)  B' scaled per column n (per row with transB),
 *                  C'[n] = a[n] * (beta_g * C[n] - mean[n]) + beta[n], beta_g := 1
 *
 * Conditions: the producer's output is read only by the BN and is not a graph
 * output; W/B and the four BN vectors are float32 constants with one value per
 * output channel; training_mode 0, spatial 1, the BN's extra outputs unused.
 * New weights are new constants (fresh names): the old ones may be shared or
 * live in a read-only mapping, so they are never written. The BN's output
 * name survives (the producer writes it).
 */
#include <math.h>
#include <stdio.h>

#include "opt/opt_util.h"

typedef struct bn_vecs {
    const float *gamma, *beta, *mean, *var;
    float eps;
    int64_t ch;
} bn_vecs_t;

/* The BN's vectors and attributes if it can be folded at all. */
static bool bn_ok(const eai__graph_t *g, const eai__node_t *bn, const int *uses, bn_vecs_t *v)
{
    if (bn->n_in != 5 || bn->n_out < 1 || bn->out[0] < 0 || bn->in[0] < 0) return false;
    for (int k = 1; k < bn->n_out; k++)
        if (bn->out[k] >= 0 && (uses[bn->out[k]] || g->values[bn->out[k]].is_output)) return false;
    const eai__attr_t *a;
    if ((a = eai__node_attr(bn, "training_mode")) && (a->type != EAI__A_INT || a->i != 0))
        return false;
    if ((a = eai__node_attr(bn, "spatial")) && (a->type != EAI__A_INT || a->i != 1)) return false;
    v->eps = 1e-5f;
    if ((a = eai__node_attr(bn, "epsilon"))) {
        if (a->type != EAI__A_FLOAT) return false;
        v->eps = a->f;
    }
    const float **vec[4] = {&v->gamma, &v->beta, &v->mean, &v->var};
    v->ch = -1;
    for (int k = 0; k < 4; k++) {
        int id = bn->in[k + 1];
        if (!(*vec[k] = eai__opt_const_f32(g, id)) || g->values[id].shape.rank != 1) return false;
        if (v->ch < 0) v->ch = g->values[id].shape.d[0];
        if (g->values[id].shape.d[0] != v->ch) return false;
    }
    return v->ch > 0;
}

/* New bias of `m` values: (b - mean) * a + beta (b NULL: 0); scale[] = a. */
static float *fold_bias(const eai__graph_t *g, const bn_vecs_t *v, const float *b, float b_mul,
                        float *scale)
{
    float *nb = eai__alloc_aligned(&g->alloc, (size_t)v->ch * sizeof(float));
    if (!nb) return NULL;
    for (int64_t c = 0; c < v->ch; c++) {
        /* the float formula of the BN kernel (norm.c), so both agree to rounding */
        scale[c] = v->gamma[c] / sqrtf(v->var[c] + v->eps);
        nb[c] = (b ? b[c] * b_mul : 0.0f) * scale[c] + (v->beta[c] - v->mean[c] * scale[c]);
    }
    return nb;
}

typedef enum { P_CONV, P_CONVT, P_GEMM } prod_kind_t;

/* Folds BN `bn` into node `pi`; *done false when the shapes don't fit. */
static eai_status_t fold_one(eai__graph_t *g, int pi, prod_kind_t kind, const bn_vecs_t *v,
                             int bn_out, bool *done)
{
    *done = false;
    eai__node_t *p = &g->nodes[pi];
    if (p->n_in < 2 || p->n_out != 1) return EAI_OK;
    const int wi = p->in[1], bi = p->n_in > 2 ? p->in[2] : -1;
    const float *w = eai__opt_const_f32(g, wi);
    if (!w) return EAI_OK;
    const eai__shape_t ws = g->values[wi].shape;
    const int64_t wn = eai__shape_numel(&ws);
    int64_t group = 1, ch, per_row = 1, rows;
    bool trans_b = false;
    float beta_g = 1.0f;
    const eai__attr_t *a;
    if (kind == P_GEMM) {
        if (ws.rank != 2) return EAI_OK;
        if ((a = eai__node_attr(p, "transB"))) {
            if (a->type != EAI__A_INT) return EAI_OK;
            trans_b = a->i != 0;
        }
        if ((a = eai__node_attr(p, "beta"))) {
            if (a->type != EAI__A_FLOAT) return EAI_OK;
            beta_g = a->f;
        }
        ch = trans_b ? ws.d[0] : ws.d[1];
    } else {
        if (ws.rank < 3 || ws.rank > 5) return EAI_OK;
        if ((a = eai__node_attr(p, "group"))) {
            if (a->type != EAI__A_INT || a->i < 1) return EAI_OK;
            group = a->i;
        }
        for (int d = 2; d < ws.rank; d++)
            per_row *= ws.d[d];
        if (kind == P_CONVT && ws.d[0] % group != 0) return EAI_OK;
        ch = kind == P_CONV ? ws.d[0] : ws.d[1] * group;
    }
    if (ch != v->ch || wn <= 0) return EAI_OK;
    const float *b = NULL;
    if (bi >= 0) {
        b = eai__opt_const_f32(g, bi);
        if (!b) return EAI_OK;
        const eai__shape_t *bs = &g->values[bi].shape;
        /* Gemm's C may be [N] or [1, N]; other broadcasts are left alone */
        bool vec = (bs->rank == 1 && bs->d[0] == ch) ||
                   (kind == P_GEMM && bs->rank == 2 && bs->d[0] == 1 && bs->d[1] == ch);
        if (!vec) return EAI_OK;
    }
    if (kind == P_GEMM && !b) beta_g = 0.0f;

    float *scale = eai__alloc_aligned(&g->alloc, (size_t)ch * sizeof(float));
    float *nw = eai__alloc_aligned(&g->alloc, (size_t)wn * sizeof(float));
    float *nb = scale && nw ? fold_bias(g, v, b, kind == P_GEMM ? beta_g : 1.0f, scale) : NULL;
    int *nin = p->n_in < 3 ? eai__realloc(&g->alloc, p->in, 3 * sizeof(int)) : p->in;
    if (nin) p->in = nin; /* grown (or kept): still valid with the old count */
    if (!scale || !nw || !nb || !nin) {
        eai__free_aligned(&g->alloc, scale);
        eai__free_aligned(&g->alloc, nw);
        eai__free_aligned(&g->alloc, nb);
        return eai_fail(EAI_E_NOMEM, "%s: out of memory folding BatchNormalization", g->label);
    }
    rows = wn / per_row;
    if (kind == P_GEMM) {
        for (int64_t r = 0; r < ws.d[0]; r++)
            for (int64_t c = 0; c < ws.d[1]; c++)
                nw[r * ws.d[1] + c] = w[r * ws.d[1] + c] * scale[trans_b ? r : c];
    } else {
        /* rows of `per_row` kernel taps: Conv W is [M, C/g, k...] (row r feeds
         * channel r / (C/g)); ConvTranspose W is [C, M/g, k...] (row r is input
         * channel r / (M/g) of group r / (M/g) / (C/g), output j = r % (M/g)) */
        const int64_t mg = kind == P_CONVT ? ws.d[1] : 1, cg = ws.d[0] / group;
        for (int64_t r = 0; r < rows; r++) {
            int64_t c = kind == P_CONV ? r / ws.d[1] : (r / mg / cg) * mg + r % mg;
            for (int64_t k = 0; k < per_row; k++)
                nw[r * per_row + k] = w[r * per_row + k] * scale[c];
        }
    }
    eai__free_aligned(&g->alloc, scale);
    char base[200];
    snprintf(base, sizeof base, "%.180s_bn", g->values[wi].name);
    int nwi, nbi;
    eai__shape_t bs = {.rank = 1, .d = {ch}};
    eai_status_t st = eai__opt_add_f32(g, base, &ws, nw, &nwi);
    if (st != EAI_OK) {
        eai__free_aligned(&g->alloc, nb);
        return st;
    }
    snprintf(base, sizeof base, "%.180s_bn_bias",
             g->nodes[pi].name[0] ? g->nodes[pi].name : "fold");
    EAI_TRY(eai__opt_add_f32(g, base, &bs, nb, &nbi));
    if (kind == P_GEMM) EAI_TRY(eai__node_set_float(g, pi, "beta", 1.0f));
    p = &g->nodes[pi];
    p->in[1] = nwi;
    p->in[2] = nbi;
    if (p->n_in < 3) p->n_in = 3;
    p->out[0] = bn_out;
    *done = true;
    return EAI_OK;
}

static eai_status_t run(eai__graph_t *g, const int *uses, bool *dead, int *n)
{
    int count = 0;
    const int n_nodes = g->n_nodes;
    for (int i = 0; i < n_nodes; i++) {
        const eai__node_t *bn = &g->nodes[i];
        bn_vecs_t v;
        if (!eai__opt_is(bn, "BatchNormalization") || !bn_ok(g, bn, uses, &v)) continue;
        const int x = bn->in[0];
        if (!eai__opt_single_use(g, uses, x)) continue;
        const int pi = g->values[x].producer;
        if (pi < 0 || pi >= n_nodes || dead[pi]) continue;
        const eai__node_t *p = &g->nodes[pi];
        prod_kind_t kind;
        if (eai__opt_is(p, "Conv"))
            kind = P_CONV;
        else if (eai__opt_is(p, "ConvTranspose"))
            kind = P_CONVT;
        else if (eai__opt_is(p, "Gemm"))
            kind = P_GEMM;
        else
            continue;
        bool done;
        EAI_TRY(fold_one(g, pi, kind, &v, bn->out[0], &done));
        if (!done) continue;
        dead[i] = true;
        count++;
    }
    if (count) EAI_TRY(eai__graph_remove_nodes(g, dead));
    *n = count;
    return EAI_OK;
}

eai_status_t eai__opt_fold_bn(eai__graph_t *g, int *n)
{
    if (n) *n = 0;
    int *uses = NULL;
    EAI_TRY(eai__graph_use_counts(g, &uses));
    bool *dead = eai__calloc(&g->alloc, (size_t)g->n_nodes + 1, sizeof(bool));
    int count = 0;
    eai_status_t st =
        dead ? run(g, uses, dead, &count) : eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    eai__free(&g->alloc, dead);
    eai__free(&g->alloc, uses);
    if (n && st == EAI_OK) *n = count;
    return st;
}
