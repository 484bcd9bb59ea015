/* Helpers shared by the graph passes (opt_util.h). The probe is how a pass
 * learns shapes without baking in a batch size: anything it uses must be the
 * same with the symbolic dims bound to 1 and to 2. */
#include "opt/opt_util.h"

eai_status_t eai__opt_probe(const eai__graph_t *g, eai__opt_probe_t *p)
{
    memset(p, 0, sizeof *p);
    for (int i = 0; i < g->n_inputs; i++) {
        const eai__value_t *v = &g->values[g->inputs[i]];
        for (int d = 0; d < v->shape.rank; d++)
            p->has_sym |= v->shape.d[d] < 0;
    }
    for (int r = 0; r < (p->has_sym ? 2 : 1); r++) {
        eai_status_t st = eai__pass_run(&p->run[r], g, &g->alloc, r + 1);
        p->ok[r] = st == EAI_OK;
        if (!p->ok[r]) eai__pass_free(&p->run[r]); /* also owed on failure */
        if (st == EAI_E_NOMEM) return st;
    }
    return EAI_OK;
}

void eai__opt_probe_free(eai__opt_probe_t *p)
{
    for (int r = 0; r < 2; r++)
        if (p->ok[r]) eai__pass_free(&p->run[r]);
    memset(p, 0, sizeof *p);
}

bool eai__opt_is(const eai__node_t *n, const char *op)
{
    return (!n->domain[0] || strcmp(n->domain, "ai.onnx") == 0) && strcmp(n->op, op) == 0;
}

const float *eai__opt_const_f32(const eai__graph_t *g, int v)
{
    if (v < 0 || v >= g->n_values) return NULL;
    const eai__value_t *val = &g->values[v];
    if (val->kind != EAI__V_CONST || val->dtype != EAI_F32 || !val->data) return NULL;
    return val->data;
}

bool eai__opt_single_use(const eai__graph_t *g, const int *uses, int v)
{
    return v >= 0 && v < g->n_values && g->values[v].kind == EAI__V_ACT &&
           !g->values[v].is_output && uses[v] == 1;
}

eai_status_t eai__opt_add_f32(eai__graph_t *g, const char *base, const eai__shape_t *shape,
                              float *data, int *out)
{
    char name[256];
    eai__graph_fresh_name(g, base, name, sizeof name);
    return eai__graph_add_const(g, name, EAI_F32, shape, data, out);
}

eai_status_t eai__opt_set_op(eai__graph_t *g, eai__node_t *n, const char *op, const char *domain)
{
    char *o = eai__strdup(&g->alloc, op), *d = eai__strdup(&g->alloc, domain);
    if (!o || !d) {
        eai__free(&g->alloc, o);
        eai__free(&g->alloc, d);
        return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    }
    eai__free(&g->alloc, n->op);
    eai__free(&g->alloc, n->domain);
    n->op = o;
    n->domain = d;
    return EAI_OK;
}
