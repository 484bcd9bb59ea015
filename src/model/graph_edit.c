/* Editing finished graphs: the small set of operations every rewrite pass
 * needs (use counts, rewiring, removal, fresh names, attribute setters, a
 * clone for per-session rewrites). Passes edit, then call
 * eai__graph_finish (directly or through eai__graph_remove_nodes) so the
 * node order and producers are valid again. */
#include <stdio.h>

#include "model/graph_edit.h"

eai_status_t eai__graph_use_counts(const eai__graph_t *g, int **counts)
{
    int *c = eai__calloc(&g->alloc, (size_t)g->n_values + 1, sizeof(int));
    if (!c) return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_in; k++)
            if (g->nodes[i].in[k] >= 0) c[g->nodes[i].in[k]]++;
    for (int i = 0; i < g->n_outputs; i++)
        c[g->outputs[i]]++;
    *counts = c;
    return EAI_OK;
}

void eai__graph_replace_uses(eai__graph_t *g, int from, int to)
{
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_in; k++)
            if (g->nodes[i].in[k] == from) g->nodes[i].in[k] = to;
}

eai_status_t eai__graph_remove_nodes(eai__graph_t *g, const bool *dead)
{
    int w = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        if (dead[i]) {
            eai__node_free(g, &g->nodes[i]);
            continue;
        }
        if (w != i) g->nodes[w] = g->nodes[i];
        w++;
    }
    g->n_nodes = w;
    return eai__graph_finish(g);
}

void eai__graph_fresh_name(const eai__graph_t *g, const char *base, char *buf, size_t n)
{
    snprintf(buf, n, "%s", base);
    for (int k = 1; eai__strmap_get(&g->names, buf) >= 0; k++)
        snprintf(buf, n, "%.*s_%d", (int)(n > 16 ? n - 16 : 0), base, k);
}

/* Removes attribute `name` from node `node` if present. */
static void drop_attr(eai__graph_t *g, int node, const char *name)
{
    eai__node_t *nd = &g->nodes[node];
    for (int i = 0; i < nd->n_attr; i++) {
        eai__attr_t *a = &nd->attr[i];
        if (strcmp(a->name, name) != 0) continue;
        eai__free(&g->alloc, a->name);
        eai__free(&g->alloc, a->s);
        eai__free(&g->alloc, a->ints);
        eai__free(&g->alloc, a->floats);
        memmove(a, a + 1, (size_t)(nd->n_attr - i - 1) * sizeof *a);
        nd->n_attr--;
        return;
    }
}

static eai_status_t set_attr(eai__graph_t *g, int node, const eai__attr_t *a)
{
    drop_attr(g, node, a->name);
    return eai__node_add_attr(g, node, a);
}

eai_status_t eai__node_set_int(eai__graph_t *g, int node, const char *name, int64_t v)
{
    eai__attr_t a = {.name = (char *)name, .type = EAI__A_INT, .i = v};
    return set_attr(g, node, &a);
}

eai_status_t eai__node_set_float(eai__graph_t *g, int node, const char *name, float v)
{
    eai__attr_t a = {.name = (char *)name, .type = EAI__A_FLOAT, .f = v};
    return set_attr(g, node, &a);
}

eai_status_t eai__node_set_string(eai__graph_t *g, int node, const char *name, const char *v)
{
    eai__attr_t a = {.name = (char *)name, .type = EAI__A_STRING, .s = (char *)v};
    return set_attr(g, node, &a);
}

eai_status_t eai__node_set_floats(eai__graph_t *g, int node, const char *name, const float *v,
                                  int count)
{
    eai__attr_t a = {.name = (char *)name, .type = EAI__A_FLOATS, .n = count, .floats = (float *)v};
    return set_attr(g, node, &a);
}

eai_status_t eai__node_set_ints(eai__graph_t *g, int node, const char *name, const int64_t *v,
                                int count)
{
    eai__attr_t a = {.name = (char *)name, .type = EAI__A_INTS, .n = count, .ints = (int64_t *)v};
    return set_attr(g, node, &a);
}

eai_status_t eai__graph_clone(eai__graph_t *dst, const eai__graph_t *src)
{
    EAI_TRY(eai__graph_init(dst, &src->alloc, src->label));
    eai_status_t st = EAI_OK;
    eai__free(&dst->alloc, dst->producer);
    dst->producer = eai__strdup(&dst->alloc, src->producer);
    if (!dst->producer) st = eai_fail(EAI_E_NOMEM, "%s: out of memory", src->label);
    dst->opset = src->opset;
    for (int v = 0; v < src->n_values && st == EAI_OK; v++) {
        int id;
        st = eai__graph_value(dst, src->values[v].name, &id);
        if (st != EAI_OK) break;
        if (id != v) {
            st = eai_fail(EAI_E_FORMAT, "%s: duplicate value name '%s'", src->label,
                          src->values[v].name);
            break;
        }
        eai__value_t *d = &dst->values[v];
        const eai__value_t *s = &src->values[v];
        d->dtype = s->dtype;
        d->shape = s->shape;
        d->kind = s->kind;
        d->data = s->data;
        d->owns_data = false;
        d->is_output = s->is_output;
        d->producer = s->producer;
        for (int k = 0; k < EAI_MAX_RANK && st == EAI_OK; k++)
            if (s->sym[k] && !(d->sym[k] = eai__strdup(&dst->alloc, s->sym[k])))
                st = eai_fail(EAI_E_NOMEM, "%s: out of memory", src->label);
    }
    for (int i = 0; i < src->n_nodes && st == EAI_OK; i++) {
        const eai__node_t *n = &src->nodes[i];
        st = eai__graph_add_node(dst, n->name, n->op, n->domain, n->in, n->n_in, n->out, n->n_out,
                                 NULL);
        for (int a = 0; a < n->n_attr && st == EAI_OK; a++)
            st = eai__node_add_attr(dst, i, &n->attr[a]);
    }
    if (st == EAI_OK) {
        dst->inputs = eai__calloc(&dst->alloc, (size_t)src->n_inputs + 1, sizeof(int));
        dst->outputs = eai__calloc(&dst->alloc, (size_t)src->n_outputs + 1, sizeof(int));
        if (!dst->inputs || !dst->outputs)
            st = eai_fail(EAI_E_NOMEM, "%s: out of memory", src->label);
    }
    if (st == EAI_OK) {
        /* a graph may have no inputs (all constant): src->inputs is NULL */
        if (src->n_inputs) memcpy(dst->inputs, src->inputs, (size_t)src->n_inputs * sizeof(int));
        if (src->n_outputs)
            memcpy(dst->outputs, src->outputs, (size_t)src->n_outputs * sizeof(int));
        dst->n_inputs = src->n_inputs;
        dst->n_outputs = src->n_outputs;
    }
    if (st != EAI_OK) eai__graph_free(dst);
    return st;
}
