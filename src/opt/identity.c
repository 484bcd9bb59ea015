/* Removal of nodes whose output equals their input: Identity, Dropout in
 * inference (mask unused, training_mode absent or a constant false), Cast to
 * the input's dtype, and Reshape / Flatten / Squeeze / Unsqueeze whose output
 * shape is the input's for every batch (the probe's two runs agree).
 *
 * Readers of the output read the input instead. When the output is a graph
 * output its name must survive: the input's producer then writes the output
 * directly (unless the input is a graph input, an initializer or itself a
 * graph output, where the node stays).
 */
#include "opt/opt_util.h"

/* A constant that reads as false / zero (Dropout's training_mode). */
static bool const_false(const eai__graph_t *g, int v)
{
    const eai__value_t *val = &g->values[v];
    if (val->kind != EAI__V_CONST || !val->data || eai__shape_numel(&val->shape) != 1) return false;
    size_t es = eai_dtype_size(val->dtype);
    if (es == 0 || es > 8) return false;
    static const unsigned char zero[8] = {0};
    return memcmp(val->data, zero, es) == 0; /* 0, 0.0, false */
}

static bool is_reshape_like(const eai__node_t *nd)
{
    return eai__opt_is(nd, "Reshape") || eai__opt_is(nd, "Flatten") || eai__opt_is(nd, "Squeeze") ||
           eai__opt_is(nd, "Unsqueeze");
}

/* Whether input 0 and output 0 of nd have the same dtype (and shape) in
 * every probe run: with the batch bound to 1 and to 2 (a dtype does not
 * depend on the batch: one run is enough). */
static bool same_in_out(const eai__opt_probe_t *p, const eai__node_t *nd, bool shape)
{
    const int runs = shape && p->has_sym ? 2 : 1;
    if (!p->ok[0] || (runs == 2 && !p->ok[1])) return false;
    for (int r = 0; r < runs; r++) {
        const eai__rvalue_t *a = &p->run[r].vals[nd->in[0]], *b = &p->run[r].vals[nd->out[0]];
        if (!a->known || !b->known || a->dtype != b->dtype) return false;
        if (!shape) continue;
        if (a->shape.rank != b->shape.rank) return false;
        for (int d = 0; d < a->shape.rank; d++)
            if (a->shape.d[d] != b->shape.d[d]) return false;
    }
    return true;
}

/* Whether node nd copies input 0 to output 0 unchanged. */
static bool is_noop(const eai__graph_t *g, const eai__node_t *nd, const int *uses,
                    const eai__opt_probe_t *p)
{
    if (nd->n_in < 1 || nd->n_out < 1 || nd->in[0] < 0 || nd->out[0] < 0) return false;
    for (int k = 1; k < nd->n_out; k++)
        if (nd->out[k] >= 0 && (uses[nd->out[k]] || g->values[nd->out[k]].is_output)) return false;
    if (eai__opt_is(nd, "Identity")) return nd->n_in == 1 && nd->n_out == 1;
    if (eai__opt_is(nd, "Dropout"))
        return nd->n_in < 3 || nd->in[2] < 0 || const_false(g, nd->in[2]);
    if (!p || nd->n_out != 1) return false;
    if (eai__opt_is(nd, "Cast")) return same_in_out(p, nd, false);
    return is_reshape_like(nd) && same_in_out(p, nd, true);
}

static eai_status_t run(eai__graph_t *g, int *uses, bool *dead, eai__opt_probe_t *p, int *n)
{
    bool need_probe = false;
    for (int i = 0; i < g->n_nodes; i++)
        need_probe |= eai__opt_is(&g->nodes[i], "Cast") || is_reshape_like(&g->nodes[i]);
    if (need_probe) EAI_TRY(eai__opt_probe(g, p));
    int count = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        eai__node_t *nd = &g->nodes[i];
        if (!is_noop(g, nd, uses, need_probe ? p : NULL)) continue;
        const int u = nd->in[0], v = nd->out[0];
        if (u == v) continue;
        if (!g->values[v].is_output) {
            eai__graph_replace_uses(g, v, u);
            uses[u] += uses[v];
            dead[i] = true;
            count++;
            continue;
        }
        /* v is a graph output: the producer of u writes v instead */
        const eai__value_t *uv = &g->values[u];
        const int prod = uv->producer;
        if (uv->kind != EAI__V_ACT || uv->is_output || prod < 0 || prod >= g->n_nodes || dead[prod])
            continue;
        eai__node_t *pn = &g->nodes[prod];
        int k = 0;
        while (k < pn->n_out && pn->out[k] != u)
            k++;
        if (EAI_NEVER(k == pn->n_out)) continue;
        pn->out[k] = v;
        eai__graph_replace_uses(g, u, v);
        uses[v] += uses[u];
        g->values[v].producer = prod;
        g->values[u].producer = -1;
        dead[i] = true;
        count++;
    }
    if (count) EAI_TRY(eai__graph_remove_nodes(g, dead));
    *n = count;
    return EAI_OK;
}

eai_status_t eai__opt_remove_identity(eai__graph_t *g, int *n)
{
    if (n) *n = 0;
    int *uses = NULL;
    EAI_TRY(eai__graph_use_counts(g, &uses));
    bool *dead = eai__calloc(&g->alloc, (size_t)g->n_nodes + 1, sizeof(bool));
    eai__opt_probe_t p = {0};
    int count = 0;
    eai_status_t st = dead ? run(g, uses, dead, &p, &count)
                           : eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    eai__opt_probe_free(&p);
    eai__free(&g->alloc, dead);
    eai__free(&g->alloc, uses);
    if (n && st == EAI_OK) *n = count;
    return st;
}
