/* Graph IR construction, validation and topological sort. Importers add
 * values and nodes in any order; eai__graph_finish() checks that every edge
 * has exactly one producer and orders nodes so each runs after its inputs. */
#include <stdio.h>

#include "model/graph_edit.h"

eai_status_t eai__graph_init(eai__graph_t *g, const eai_allocator_t *a, const char *label)
{
    memset(g, 0, sizeof *g);
    if (a) g->alloc = *a;
    g->label = eai__strdup(&g->alloc, label ? label : "model");
    g->producer = eai__strdup(&g->alloc, "");
    if (!g->label || !g->producer) {
        eai__graph_free(g);
        return eai_fail(EAI_E_NOMEM, "out of memory");
    }
    eai_status_t st = eai__strmap_init(&g->names, &g->alloc, 64);
    if (st != EAI_OK) eai__graph_free(g);
    return st;
}

void eai__node_free(eai__graph_t *g, eai__node_t *n)
{
    eai__free(&g->alloc, n->name);
    eai__free(&g->alloc, n->op);
    eai__free(&g->alloc, n->domain);
    eai__free(&g->alloc, n->in);
    eai__free(&g->alloc, n->out);
    for (int i = 0; i < n->n_attr; i++) {
        eai__attr_t *a = &n->attr[i];
        eai__free(&g->alloc, a->name);
        eai__free(&g->alloc, a->s);
        eai__free(&g->alloc, a->ints);
        eai__free(&g->alloc, a->floats);
    }
    eai__free(&g->alloc, n->attr);
}

void eai__graph_free(eai__graph_t *g)
{
    for (int i = 0; i < g->n_nodes; i++)
        eai__node_free(g, &g->nodes[i]);
    for (int i = 0; i < g->n_values; i++) {
        eai__value_t *v = &g->values[i];
        eai__free(&g->alloc, v->name);
        for (int d = 0; d < EAI_MAX_RANK; d++)
            eai__free(&g->alloc, v->sym[d]);
        if (v->owns_data) eai__free_aligned(&g->alloc, v->data);
    }
    eai__free(&g->alloc, g->nodes);
    eai__free(&g->alloc, g->values);
    eai__free(&g->alloc, g->inputs);
    eai__free(&g->alloc, g->outputs);
    eai__free(&g->alloc, g->label);
    eai__free(&g->alloc, g->producer);
    eai__strmap_free(&g->names);
    memset(g, 0, sizeof *g);
}

static eai_status_t new_value(eai__graph_t *g, const char *name, int *out)
{
    if (g->n_values == g->cap_values) {
        int cap = g->cap_values ? g->cap_values * 2 : 64;
        eai__value_t *v = eai__realloc(&g->alloc, g->values, (size_t)cap * sizeof *v);
        if (!v) return eai_fail(EAI_E_NOMEM, "%s: out of memory for %d values", g->label, cap);
        g->values = v;
        g->cap_values = cap;
    }
    eai__value_t *v = &g->values[g->n_values];
    memset(v, 0, sizeof *v);
    v->producer = -1;
    v->name = eai__strdup(&g->alloc, name);
    if (!v->name) return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    /* the map borrows the value's own copy of the name */
    eai_status_t st = eai__strmap_put(&g->names, v->name, g->n_values);
    if (st != EAI_OK) {
        eai__free(&g->alloc, v->name);
        return st;
    }
    *out = g->n_values++;
    return EAI_OK;
}

eai_status_t eai__graph_value(eai__graph_t *g, const char *name, int *out)
{
    int i = eai__strmap_get(&g->names, name);
    if (i >= 0) {
        *out = i;
        return EAI_OK;
    }
    return new_value(g, name, out);
}

eai_status_t eai__graph_add_const(eai__graph_t *g, const char *name, eai_dtype_t dt,
                                  const eai__shape_t *shape, void *data, int *out)
{
    int i;
    eai_status_t st = eai__graph_value(g, name, &i);
    if (st != EAI_OK) {
        eai__free_aligned(&g->alloc, data);
        return st;
    }
    eai__value_t *v = &g->values[i];
    if (v->owns_data) /* a later initializer of the same name replaces it */
        eai__free_aligned(&g->alloc, v->data);
    v->kind = EAI__V_CONST;
    v->dtype = dt;
    v->shape = *shape;
    v->data = data;
    v->owns_data = true;
    *out = i;
    return EAI_OK;
}

eai_status_t eai__graph_add_node(eai__graph_t *g, const char *name, const char *op,
                                 const char *domain, const int *in, int n_in, const int *out,
                                 int n_out, eai__node_t **node)
{
    if (g->n_nodes == g->cap_nodes) {
        int cap = g->cap_nodes ? g->cap_nodes * 2 : 64;
        eai__node_t *ns = eai__realloc(&g->alloc, g->nodes, (size_t)cap * sizeof *ns);
        if (!ns) return eai_fail(EAI_E_NOMEM, "%s: out of memory for %d nodes", g->label, cap);
        g->nodes = ns;
        g->cap_nodes = cap;
    }
    eai__node_t *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->name = eai__strdup(&g->alloc, name ? name : "");
    n->op = eai__strdup(&g->alloc, op);
    n->domain = eai__strdup(&g->alloc, domain ? domain : "");
    n->in = eai__calloc(&g->alloc, (size_t)(n_in ? n_in : 1), sizeof(int));
    n->out = eai__calloc(&g->alloc, (size_t)(n_out ? n_out : 1), sizeof(int));
    if (!n->name || !n->op || !n->domain || !n->in || !n->out) {
        eai__node_free(g, n);
        return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    }
    if (n_in) memcpy(n->in, in, (size_t)n_in * sizeof(int));
    if (n_out) memcpy(n->out, out, (size_t)n_out * sizeof(int));
    n->n_in = n_in;
    n->n_out = n_out;
    g->n_nodes++;
    if (node) *node = n;
    return EAI_OK;
}

/* Kahn's algorithm. Also the one place that rejects dangling edges, values
 * with two producers and cycles, naming the offender. */
eai_status_t eai__graph_finish(eai__graph_t *g)
{
    eai_status_t st = EAI_OK;
    int *indeg = eai__calloc(&g->alloc, (size_t)g->n_nodes + 1, sizeof(int));
    int *order = eai__calloc(&g->alloc, (size_t)g->n_nodes + 1, sizeof(int));
    /* consumers as a CSR list per value */
    int *cstart = eai__calloc(&g->alloc, (size_t)g->n_values + 1, sizeof(int));
    int n_edges = 0;
    for (int i = 0; i < g->n_nodes; i++)
        n_edges += g->nodes[i].n_in;
    int *clist = eai__calloc(&g->alloc, (size_t)n_edges + 1, sizeof(int));
    int *cfill = eai__calloc(&g->alloc, (size_t)g->n_values + 1, sizeof(int));
    if (!indeg || !order || !cstart || !clist || !cfill) {
        st = eai_fail(EAI_E_NOMEM, "%s: out of memory sorting %d nodes", g->label, g->n_nodes);
        goto done;
    }
    for (int v = 0; v < g->n_values; v++)
        g->values[v].producer = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        eai__node_t *n = &g->nodes[i];
        for (int k = 0; k < n->n_out; k++) {
            int v = n->out[k];
            if (v < 0) continue;
            eai__value_t *val = &g->values[v];
            if (val->kind != EAI__V_ACT || val->producer >= 0) {
                st = eai_fail(EAI_E_FORMAT,
                              "%s: node %d '%s' (%s): output '%s' is already produced by %s",
                              g->label, i, n->name, n->op, val->name,
                              val->kind == EAI__V_INPUT   ? "a graph input"
                              : val->kind == EAI__V_CONST ? "an initializer"
                                                          : "another node");
                goto done;
            }
            val->producer = i;
        }
    }
    for (int i = 0; i < g->n_nodes; i++) {
        eai__node_t *n = &g->nodes[i];
        for (int k = 0; k < n->n_in; k++) {
            int v = n->in[k];
            if (v < 0) continue;
            eai__value_t *val = &g->values[v];
            if (val->kind == EAI__V_ACT && val->producer < 0) {
                st = eai_fail(EAI_E_FORMAT,
                              "%s: node %d '%s' (%s): input '%s' is not produced by any node, "
                              "initializer or graph input",
                              g->label, i, n->name, n->op, val->name);
                goto done;
            }
            if (val->kind == EAI__V_ACT) {
                indeg[i]++;
                cstart[v + 1]++;
            }
        }
    }
    for (int i = 0; i < g->n_outputs; i++) {
        eai__value_t *val = &g->values[g->outputs[i]];
        if (val->kind == EAI__V_ACT && val->producer < 0) {
            st = eai_fail(EAI_E_FORMAT, "%s: graph output '%s' is not produced by any node",
                          g->label, val->name);
            goto done;
        }
    }
    for (int v = 0; v < g->n_values; v++)
        cstart[v + 1] += cstart[v];
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_in; k++) {
            int v = g->nodes[i].in[k];
            if (v >= 0 && g->values[v].kind == EAI__V_ACT) clist[cstart[v] + cfill[v]++] = i;
        }
    int head = 0, tail = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (indeg[i] == 0) order[tail++] = i;
    while (head < tail) {
        eai__node_t *n = &g->nodes[order[head++]];
        for (int k = 0; k < n->n_out; k++) {
            int v = n->out[k];
            if (v < 0) continue;
            for (int c = cstart[v]; c < cstart[v + 1]; c++)
                if (--indeg[clist[c]] == 0) order[tail++] = clist[c];
        }
    }
    if (tail != g->n_nodes) {
        int bad = 0;
        while (bad < g->n_nodes && indeg[bad] == 0)
            bad++;
        st = eai_fail(EAI_E_FORMAT, "%s: the graph has a cycle through node %d '%s' (%s)", g->label,
                      bad, g->nodes[bad].name, g->nodes[bad].op);
        goto done;
    }
    /* permute nodes into topological order (indeg reused as scratch copy) */
    eai__node_t *sorted = eai__calloc(&g->alloc, (size_t)g->n_nodes + 1, sizeof *sorted);
    if (!sorted) {
        st = eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
        goto done;
    }
    for (int i = 0; i < g->n_nodes; i++)
        sorted[i] = g->nodes[order[i]];
    if (g->n_nodes) /* a graph may have no nodes (input wired to output) */
        memcpy(g->nodes, sorted, (size_t)g->n_nodes * sizeof *sorted);
    eai__free(&g->alloc, sorted);
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_out; k++)
            if (g->nodes[i].out[k] >= 0) g->values[g->nodes[i].out[k]].producer = i;
done:
    eai__free(&g->alloc, indeg);
    eai__free(&g->alloc, order);
    eai__free(&g->alloc, cstart);
    eai__free(&g->alloc, clist);
    eai__free(&g->alloc, cfill);
    return st;
}

const eai__attr_t *eai__node_attr(const eai__node_t *n, const char *name)
{
    for (int i = 0; i < n->n_attr; i++)
        if (strcmp(n->attr[i].name, name) == 0) return &n->attr[i];
    return NULL;
}

static eai_status_t wrong_type(const eai__graph_t *g, const eai__node_t *n, const char *name,
                               const char *want)
{
    return eai_fail(EAI_E_FORMAT, "%s: node %d '%s' (%s): attribute '%s' must be %s", g->label,
                    eai__node_index(g, n), n->name, n->op, name, want);
}

eai_status_t eai__attr_int(const eai__graph_t *g, const eai__node_t *n, const char *name,
                           int64_t def, int64_t *out)
{
    const eai__attr_t *a = eai__node_attr(n, name);
    if (!a) {
        *out = def;
        return EAI_OK;
    }
    if (a->type != EAI__A_INT) return wrong_type(g, n, name, "an int");
    *out = a->i;
    return EAI_OK;
}

eai_status_t eai__attr_float(const eai__graph_t *g, const eai__node_t *n, const char *name,
                             float def, float *out)
{
    const eai__attr_t *a = eai__node_attr(n, name);
    if (!a) {
        *out = def;
        return EAI_OK;
    }
    if (a->type == EAI__A_INT) /* some exporters write integral floats as ints */
        *out = (float)a->i;
    else if (a->type == EAI__A_FLOAT)
        *out = a->f;
    else
        return wrong_type(g, n, name, "a float");
    return EAI_OK;
}

eai_status_t eai__attr_ints(const eai__graph_t *g, const eai__node_t *n, const char *name,
                            int64_t *vals, int cap, int *n_out)
{
    const eai__attr_t *a = eai__node_attr(n, name);
    if (!a) {
        *n_out = -1;
        return EAI_OK;
    }
    if (a->type != EAI__A_INTS) return wrong_type(g, n, name, "a list of ints");
    if (a->n > cap)
        return eai_fail(EAI_E_UNSUPPORTED,
                        "%s: node %d '%s' (%s): attribute '%s' has %d values, at most %d "
                        "supported",
                        g->label, eai__node_index(g, n), n->name, n->op, name, a->n, cap);
    for (int i = 0; i < a->n; i++)
        vals[i] = a->ints[i];
    *n_out = a->n;
    return EAI_OK;
}

eai_status_t eai__attr_string(const eai__graph_t *g, const eai__node_t *n, const char *name,
                              const char *def, const char **out)
{
    const eai__attr_t *a = eai__node_attr(n, name);
    if (!a) {
        *out = def;
        return EAI_OK;
    }
    if (a->type != EAI__A_STRING) return wrong_type(g, n, name, "a string");
    *out = a->s;
    return EAI_OK;
}

eai_status_t eai__node_add_attr(eai__graph_t *g, int node, const eai__attr_t *a)
{
    eai__node_t *n = &g->nodes[node];
    eai__attr_t *arr = eai__realloc(&g->alloc, n->attr, (size_t)(n->n_attr + 1) * sizeof *arr);
    if (!arr) return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    n->attr = arr;
    eai__attr_t *d = &arr[n->n_attr];
    memset(d, 0, sizeof *d);
    d->type = a->type;
    d->i = a->i;
    d->f = a->f;
    d->n = a->n;
    d->tensor = a->tensor;
    d->name = eai__strdup(&g->alloc, a->name);
    bool ok = d->name != NULL;
    if (ok && a->s) ok = (d->s = eai__strdup(&g->alloc, a->s)) != NULL;
    if (ok && a->ints && a->n > 0) {
        d->ints = eai__alloc(&g->alloc, (size_t)a->n * sizeof(int64_t));
        ok = d->ints != NULL;
        if (ok) memcpy(d->ints, a->ints, (size_t)a->n * sizeof(int64_t));
    }
    if (ok && a->floats && a->n > 0) {
        d->floats = eai__alloc(&g->alloc, (size_t)a->n * sizeof(float));
        ok = d->floats != NULL;
        if (ok) memcpy(d->floats, a->floats, (size_t)a->n * sizeof(float));
    }
    if (!ok) {
        eai__free(&g->alloc, d->name);
        eai__free(&g->alloc, d->s);
        eai__free(&g->alloc, d->ints);
        eai__free(&g->alloc, d->floats);
        return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    }
    n->n_attr++;
    return EAI_OK;
}
