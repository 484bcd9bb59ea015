/* Constant folding into the graph: nodes the shape pass evaluates at load
 * (all inputs constant, or Shape/Size of a known shape) become initializers.
 *
 * The one idea: the result must hold for every batch. The probe runs the
 * shape pass with symbolic dims bound to 1 and to 2; a value is baked only if
 * it is constant in both runs with the same dtype, shape and bytes. So
 * Shape(x)[1:] (channels, spatial size) folds, Shape(x)[0] (the batch) does
 * not. When the second run fails (a graph that only works for one batch),
 * only values computed from initializers alone are baked.
 *
 * Baked values keep their names (graph outputs survive); the producers are
 * removed here, nodes upstream of them that nothing else reads are left to
 * DCE (a node whose outputs are all baked is removed directly).
 */
#include <stdio.h>

#include "opt/opt_util.h"

/* pure[v]: computed from initializers alone, whatever the inputs' shapes */
static eai_status_t pure_values(const eai__graph_t *g, bool **out)
{
    bool *pure = eai__calloc(&g->alloc, (size_t)g->n_values + 1, sizeof(bool));
    if (!pure) return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    for (int v = 0; v < g->n_values; v++)
        pure[v] = g->values[v].kind == EAI__V_CONST;
    for (int i = 0; i < g->n_nodes; i++) { /* topological order */
        const eai__node_t *n = &g->nodes[i];
        const eai__op_def_t *op = eai__op_find(n->domain, n->op);
        bool ok = op && !(op->flags & EAI__OP_SHAPE_ONLY);
        for (int k = 0; k < n->n_in && ok; k++)
            ok = n->in[k] < 0 || pure[n->in[k]];
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0) pure[n->out[k]] = ok;
    }
    *out = pure;
    return EAI_OK;
}

/* Whether ACT value v is the same constant for every batch. */
static bool foldable(const eai__graph_t *g, const eai__opt_probe_t *p, const bool *pure, int v)
{
    if (g->values[v].kind != EAI__V_ACT || !p->ok[0]) return false;
    const eai__rvalue_t *a = &p->run[0].vals[v];
    if (!a->is_const || !a->data) return false;
    if (!p->has_sym) return true;
    if (!p->ok[1]) return pure[v];
    const eai__rvalue_t *b = &p->run[1].vals[v];
    if (!b->is_const || !b->data || a->dtype != b->dtype || a->shape.rank != b->shape.rank)
        return false;
    for (int d = 0; d < a->shape.rank; d++)
        if (a->shape.d[d] != b->shape.d[d]) return false;
    size_t bytes = (size_t)eai__shape_numel(&a->shape) * eai_dtype_size(a->dtype);
    return memcmp(a->data, b->data, bytes) == 0;
}

typedef struct fold {
    eai__graph_t *g;
    eai__opt_probe_t probe;
    bool *pure, *fold; /* per value */
    bool *dead;        /* per node: every output folded */
    bool *kept_use;    /* per value: read by a node that stays */
    void **bytes;      /* per value: the baked copy, before it is committed */
    int n_values;      /* size of the per-value arrays */
} fold_t;

static void fold_free(fold_t *f)
{
    const eai_allocator_t *a = &f->g->alloc;
    if (f->bytes)
        for (int v = 0; v < f->n_values; v++)
            eai__free_aligned(a, f->bytes[v]);
    eai__free(a, f->bytes);
    eai__free(a, f->pure);
    eai__free(a, f->fold);
    eai__free(a, f->dead);
    eai__free(a, f->kept_use);
    eai__opt_probe_free(&f->probe);
}

/* Copies run 0's bytes of every value that must be baked (an output, or
 * read by a node that stays). Nothing in the graph changes yet, so running
 * out of memory here leaves it as it was. */
static eai_status_t copy_baked(fold_t *f, int *n_baked)
{
    eai__graph_t *g = f->g;
    *n_baked = 0;
    for (int v = 0; v < g->n_values; v++) {
        if (!f->fold[v] || !(g->values[v].is_output || f->kept_use[v])) continue;
        const eai__rvalue_t *r = &f->probe.run[0].vals[v];
        size_t bytes = (size_t)eai__shape_numel(&r->shape) * eai_dtype_size(r->dtype);
        f->bytes[v] = eai__alloc_aligned(&g->alloc, bytes ? bytes : 1);
        if (!f->bytes[v]) return eai_fail(EAI_E_NOMEM, "%s: out of memory folding", g->label);
        memcpy(f->bytes[v], r->data, bytes);
        (*n_baked)++;
    }
    return EAI_OK;
}

/* Bakes value v: in place when its producer goes (the name stays), else as
 * a new initializer its readers switch to (not for graph outputs, whose
 * producer must stay). */
static eai_status_t bake(fold_t *f, int v, int *n_new)
{
    eai__graph_t *g = f->g;
    const eai__rvalue_t *r = &f->probe.run[0].vals[v];
    void *data = f->bytes[v];
    f->bytes[v] = NULL;
    int prod = g->values[v].producer;
    if (prod >= 0 && f->dead[prod]) {
        eai__value_t *val = &g->values[v];
        val->kind = EAI__V_CONST;
        val->dtype = r->dtype;
        val->shape = r->shape;
        val->data = data;
        val->owns_data = true;
        return EAI_OK;
    }
    if (g->values[v].is_output) {
        eai__free_aligned(&g->alloc, data);
        return EAI_OK;
    }
    char base[200];
    snprintf(base, sizeof base, "%.180s_folded", g->values[v].name);
    char name[256];
    eai__graph_fresh_name(g, base, name, sizeof name);
    int c;
    EAI_TRY(eai__graph_add_const(g, name, r->dtype, &r->shape, data, &c));
    eai__graph_replace_uses(g, v, c);
    (*n_new)++;
    return EAI_OK;
}

static eai_status_t run(fold_t *f, int *n)
{
    eai__graph_t *g = f->g;
    EAI_TRY(eai__opt_probe(g, &f->probe));
    if (!f->probe.ok[0]) return EAI_OK; /* the load's own shape pass reports why */
    EAI_TRY(pure_values(g, &f->pure));
    f->n_values = g->n_values;
    f->fold = eai__calloc(&g->alloc, (size_t)g->n_values + 1, sizeof(bool));
    f->kept_use = eai__calloc(&g->alloc, (size_t)g->n_values + 1, sizeof(bool));
    f->bytes = eai__calloc(&g->alloc, (size_t)g->n_values + 1, sizeof(void *));
    f->dead = eai__calloc(&g->alloc, (size_t)g->n_nodes + 1, sizeof(bool));
    if (!f->fold || !f->kept_use || !f->bytes || !f->dead)
        return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    for (int v = 0; v < g->n_values; v++)
        f->fold[v] = foldable(g, &f->probe, f->pure, v);
    int n_dead = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const eai__node_t *nd = &g->nodes[i];
        bool all = false;
        for (int k = 0; k < nd->n_out; k++) {
            if (nd->out[k] < 0) continue;
            all = f->fold[nd->out[k]];
            if (!all) break;
        }
        f->dead[i] = all;
        n_dead += all;
    }
    for (int i = 0; i < g->n_nodes; i++)
        if (!f->dead[i])
            for (int k = 0; k < g->nodes[i].n_in; k++)
                if (g->nodes[i].in[k] >= 0) f->kept_use[g->nodes[i].in[k]] = true;
    int n_baked;
    EAI_TRY(copy_baked(f, &n_baked));
    if (!n_dead && !n_baked) return EAI_OK;
    int n_new = 0;
    for (int v = 0; v < f->n_values; v++) /* bake() may append values */
        if (f->bytes[v]) EAI_TRY(bake(f, v, &n_new));
    EAI_TRY(eai__graph_remove_nodes(g, f->dead)); /* re-finishes even with none dead */
    *n = n_dead + n_new;
    return EAI_OK;
}

eai_status_t eai__opt_fold_constants(eai__graph_t *g, int *n)
{
    int count = 0;
    fold_t f = {.g = g};
    eai_status_t st = run(&f, &count);
    fold_free(&f);
    if (n) *n = st == EAI_OK ? count : 0;
    return st;
}
