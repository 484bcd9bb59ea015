/* Activation fusion: Conv or Gemm followed by an activation becomes one
 * FusedConv / FusedGemm node of the "com.edgeai" domain (the ONNX op's
 * attributes plus `activation` and `activation_params`, see
 * src/runtime/ref/act_impl.h), whose kernel applies the activation to each
 * output tile as it is written.
 *
 * Patterns (x the Conv/Gemm output, read only by the pattern, not a graph
 * output; the last node's output name survives):
 *   Relu(x), LeakyRelu(x), HardSigmoid(x), HardSwish(x), Sigmoid(x), Tanh(x)
 *   Clip(x, min, max)       bounds constant inputs (opset >= 11) or
 *                           attributes (before), absent = -inf / +inf
 *   Mul(x, Sigmoid(x))      -> SiLU, either operand order
 *   Mul(x, HardSigmoid(x))  -> HardSwish when alpha = 1/6, beta = 1/2 (how
 *                           PyTorch exports Hardswish before opset 14)
 */
#include "opt/opt_util.h"
#include "runtime/ref/act_impl.h"

/* A float attribute with the op's default; false if present with another type. */
static bool attr_f(const eai__node_t *n, const char *name, float def, float *out)
{
    const eai__attr_t *a = eai__node_attr(n, name);
    *out = def;
    if (!a) return true;
    if (a->type == EAI__A_FLOAT)
        *out = a->f;
    else if (a->type == EAI__A_INT)
        *out = (float)a->i;
    else
        return false;
    return true;
}

/* A Clip bound: absent, or a float32 constant scalar. */
static bool clip_bound(const eai__graph_t *g, const eai__node_t *n, int k, float def, float *out)
{
    *out = def;
    if (k >= n->n_in || n->in[k] < 0) return true;
    const float *v = eai__opt_const_f32(g, n->in[k]);
    if (!v || eai__shape_numel(&g->values[n->in[k]].shape) != 1) return false;
    *out = v[0];
    return true;
}

/* The activation node `a` computes, reading only its input 0; false if it is
 * not one the fused ops take (or its parameters are not constant). */
static bool act_of(const eai__graph_t *g, const eai__node_t *a, eai__act_t *act)
{
    memset(act, 0, sizeof *act);
    if (a->n_in < 1 || a->n_out != 1 || a->out[0] < 0 || a->in[0] < 0) return false;
    if (a->domain[0] && strcmp(a->domain, "ai.onnx") != 0) return false;
    int kind = eai__act_kind_of(a->op);
    if (kind < 0 || kind == EAI__ACT_SILU) return false; /* SiLU is no ONNX op */
    act->kind = (eai__act_kind_t)kind;
    if (kind == EAI__ACT_CLIP) {
        if (g->opset >= 11)
            return a->n_in <= 3 && clip_bound(g, a, 1, -INFINITY, &act->p0) &&
                   clip_bound(g, a, 2, INFINITY, &act->p1);
        return a->n_in == 1 && attr_f(a, "min", -INFINITY, &act->p0) &&
               attr_f(a, "max", INFINITY, &act->p1);
    }
    if (a->n_in != 1) return false;
    if (kind == EAI__ACT_LEAKYRELU) return attr_f(a, "alpha", 0.01f, &act->p0);
    if (kind == EAI__ACT_HARDSIGMOID)
        return attr_f(a, "alpha", 0.2f, &act->p0) && attr_f(a, "beta", 0.5f, &act->p1);
    return true;
}

/* Node index of x's producer if it is a Conv or Gemm that can take an
 * activation; else -1. */
static int fusable_producer(const eai__graph_t *g, const bool *dead, int x)
{
    int p = g->values[x].producer;
    if (p < 0 || p >= g->n_nodes || dead[p]) return -1;
    const eai__node_t *n = &g->nodes[p];
    if (n->n_out != 1 || !(eai__opt_is(n, "Conv") || eai__opt_is(n, "Gemm"))) return -1;
    if (eai__node_attr(n, "activation")) return -1; /* would clash with ours */
    return p;
}

/* Node p becomes Fused<op> writing `out`. Allocations first: on failure p is
 * unchanged but may carry the new attributes (ignored by Conv/Gemm). */
static eai_status_t fuse(eai__graph_t *g, int p, const eai__act_t *act, int out)
{
    const int np = eai__act_n_params(act->kind);
    const float params[2] = {act->p0, act->p1};
    EAI_TRY(eai__node_set_string(g, p, "activation", eai__act_name(act->kind)));
    if (np) EAI_TRY(eai__node_set_floats(g, p, "activation_params", params, np));
    eai__node_t *n = &g->nodes[p];
    EAI_TRY(eai__opt_set_op(g, n, strcmp(n->op, "Conv") == 0 ? "FusedConv" : "FusedGemm",
                            EAI__DOMAIN_FUSED));
    n->out[0] = out;
    return EAI_OK;
}

/* Mul(x, f(x)) with f Sigmoid or HardSigmoid(1/6, 1/2) read only by the Mul:
 * the activation (SiLU / HardSwish), x, and f's node index; else false. */
static bool gated(const eai__graph_t *g, const int *uses, const eai__node_t *m, eai__act_t *act,
                  int *x, int *fi)
{
    if (!eai__opt_is(m, "Mul") || m->n_in != 2 || m->n_out != 1 || m->out[0] < 0) return false;
    for (int k = 0; k < 2; k++) {
        const int s = m->in[k], xv = m->in[1 - k];
        if (s < 0 || xv < 0 || s == xv || !eai__opt_single_use(g, uses, s)) continue;
        const int f = g->values[s].producer;
        if (f < 0 || f >= g->n_nodes) continue;
        const eai__node_t *fn = &g->nodes[f];
        eai__act_t fa;
        if (!act_of(g, fn, &fa) || fn->in[0] != xv) continue;
        if (fa.kind == EAI__ACT_SIGMOID) {
            act->kind = EAI__ACT_SILU;
        } else if (fa.kind == EAI__ACT_HARDSIGMOID && fa.p0 == 1.0f / 6.0f && fa.p1 == 0.5f) {
            act->kind = EAI__ACT_HARDSWISH;
        } else {
            continue;
        }
        act->p0 = act->p1 = 0.0f;
        /* x feeds exactly f and the Mul */
        if (g->values[xv].kind != EAI__V_ACT || g->values[xv].is_output || uses[xv] != 2)
            return false;
        *x = xv;
        *fi = f;
        return true;
    }
    return false;
}

static eai_status_t run(eai__graph_t *g, const int *uses, bool *dead, int *n)
{
    int count = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        if (dead[i]) continue;
        const eai__node_t *a = &g->nodes[i];
        eai__act_t act;
        int x, f = -1;
        if (gated(g, uses, a, &act, &x, &f)) {
            if (dead[f]) continue;
        } else if (act_of(g, a, &act)) {
            x = a->in[0];
            if (!eai__opt_single_use(g, uses, x)) continue;
        } else {
            continue;
        }
        const int p = fusable_producer(g, dead, x);
        if (p < 0) continue;
        EAI_TRY(fuse(g, p, &act, a->out[0]));
        dead[i] = true;
        if (f >= 0) dead[f] = true;
        count++;
    }
    if (count) EAI_TRY(eai__graph_remove_nodes(g, dead));
    *n = count;
    return EAI_OK;
}

eai_status_t eai__opt_fuse_act(eai__graph_t *g, int *n)
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
