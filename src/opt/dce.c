/* Dead-node elimination: a node stays if one of its outputs is a graph
 * output or is read by a node that stays (one walk backwards over the sorted
 * nodes). ONNX inference ops have no side effects, so nothing else counts.
 *
 * Afterwards initializers that nothing reads any more (the weights BN folding
 * replaced, the inputs of folded sub-graphs) release their bytes: the value
 * slot stays, turned into an unreferenced activation, so indices held
 * elsewhere remain valid and no stale weights are counted or saved.
 */
#include "opt/opt_util.h"

/* Releases CONST values read by no node input, TENSOR attribute, graph
 * input or output. */
static void release_unused(eai__graph_t *g, bool *used)
{
    memset(used, 0, (size_t)g->n_values * sizeof(bool));
    for (int i = 0; i < g->n_nodes; i++) {
        const eai__node_t *n = &g->nodes[i];
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0) used[n->in[k]] = true;
        for (int a = 0; a < n->n_attr; a++)
            if (n->attr[a].type == EAI__A_TENSOR && n->attr[a].tensor >= 0 &&
                n->attr[a].tensor < g->n_values)
                used[n->attr[a].tensor] = true;
    }
    for (int i = 0; i < g->n_inputs; i++)
        used[g->inputs[i]] = true;
    for (int i = 0; i < g->n_outputs; i++)
        used[g->outputs[i]] = true;
    for (int v = 0; v < g->n_values; v++) {
        eai__value_t *val = &g->values[v];
        if (used[v] || val->kind != EAI__V_CONST) continue;
        if (val->owns_data) eai__free_aligned(&g->alloc, val->data);
        val->data = NULL;
        val->owns_data = false;
        val->kind = EAI__V_ACT;
        val->shape.rank = 0;
        val->producer = -1;
    }
}

eai_status_t eai__opt_dce(eai__graph_t *g, int *n)
{
    if (n) *n = 0;
    bool *live = eai__calloc(&g->alloc, (size_t)g->n_values + 1, sizeof(bool));
    bool *dead = eai__calloc(&g->alloc, (size_t)g->n_nodes + 1, sizeof(bool));
    if (!live || !dead) {
        eai__free(&g->alloc, live);
        eai__free(&g->alloc, dead);
        return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    }
    for (int i = 0; i < g->n_outputs; i++)
        live[g->outputs[i]] = true;
    int count = 0;
    for (int i = g->n_nodes - 1; i >= 0; i--) { /* consumers come after producers */
        const eai__node_t *nd = &g->nodes[i];
        bool keep = false;
        for (int k = 0; k < nd->n_out && !keep; k++)
            keep = nd->out[k] >= 0 && live[nd->out[k]];
        if (!keep) {
            dead[i] = true;
            count++;
            continue;
        }
        for (int k = 0; k < nd->n_in; k++)
            if (nd->in[k] >= 0) live[nd->in[k]] = true;
    }
    eai_status_t st = count ? eai__graph_remove_nodes(g, dead) : EAI_OK;
    if (st == EAI_OK) release_unused(g, live); /* live reused as scratch */
    eai__free(&g->alloc, live);
    eai__free(&g->alloc, dead);
    if (n && st == EAI_OK) *n = count;
    return st;
}
