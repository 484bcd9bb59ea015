/* NHWC layout pass. A backend that computes in NHWC (xnnpack) says through
 * wants_nhwc which nodes it would run; those become their "com.edgeai.nhwc"
 * twins (src/runtime/nhwc), which read and write NHWC activations. The pass
 * walks the sorted graph once and keeps, for every NCHW value, its NHWC twin
 * if one exists:
 *   - a twin's input without an NHWC twin gets one ToNHWC (a Transpose
 *     0,2,3,1), shared by all its NHWC readers;
 *   - a twin's output becomes a new NHWC value, and a ToNCHW (Transpose
 *     0,3,1,2) rebuilds the NCHW value for readers that still want it;
 *   - layout-agnostic nodes (elementwise, Concat, Split, Resize, Softmax...)
 *     whose activations all have twins move to NHWC too, with their
 *     constants, axes and scales permuted (layout_sink.c), so Transposes sink
 *     through them;
 *   - Reshape/Flatten of a value whose NCHW and NHWC bytes are the same
 *     (C == 1 or H == W == 1, e.g. after GlobalAveragePool) read the twin.
 * Layout changes that end up unread are dropped, so inverse pairs never
 * survive: a MobileNet or ResNet runs NHWC end to end with one ToNHWC at the
 * input. *n counts the layout changes left.
 */
#include <stdio.h>

#include "opt/layout_impl.h"
#include "runtime/backend_impl.h"
#include "runtime/runtime_impl.h"

eai_status_t eai__lay_new_value(eai__lay_t *L, int like, int *out)
{
    char name[256];
    char base[200];
    snprintf(base, sizeof base, "%.180s_nhwc", L->g->values[like].name);
    eai__graph_fresh_name(L->g, base, name, sizeof name);
    return eai__graph_value(L->g, name, out);
}

/* A layout change: ToNHWC or ToNCHW (src/runtime/nhwc/nhwc.c), the
 * Transposes (0,2,3,1) and (0,3,1,2). */
static eai_status_t add_relayout(eai__lay_t *L, int from, int to, const char *op)
{
    eai__graph_t *g = L->g;
    char name[256];
    snprintf(name, sizeof name, "%.200s_%s", g->values[from].name, op);
    return eai__graph_add_node(g, name, op, EAI__DOMAIN_NHWC, &from, 1, &to, 1, NULL);
}

eai_status_t eai__lay_twin_of(eai__lay_t *L, int v, int *out)
{
    if (L->nhwc[v] < 0) {
        int t;
        EAI_TRY(eai__lay_new_value(L, v, &t));
        EAI_TRY(add_relayout(L, v, t, "ToNHWC"));
        L->nhwc[v] = t;
    }
    *out = L->nhwc[v];
    return EAI_OK;
}

eai_status_t eai__lay_twin_outputs(eai__lay_t *L, int node)
{
    eai__graph_t *g = L->g;
    for (int k = 0; k < g->nodes[node].n_out; k++) {
        int y = g->nodes[node].out[k];
        if (y < 0) continue;
        int t;
        EAI_TRY(eai__lay_new_value(L, y, &t));
        g->nodes[node].out[k] = t;
        EAI_TRY(add_relayout(L, t, y, "ToNCHW"));
        L->nhwc[y] = t;
    }
    return EAI_OK;
}

eai_status_t eai__lay_set_domain(eai__lay_t *L, int node, const char *domain)
{
    eai__graph_t *g = L->g;
    char *d = eai__strdup(&g->alloc, domain);
    if (!d) return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    eai__free(&g->alloc, g->nodes[node].domain);
    g->nodes[node].domain = d;
    return EAI_OK;
}

bool eai__lay_is4(const eai__lay_t *L, int v)
{
    return v >= 0 && v < L->n_vals && L->known[v] && L->shape[v].rank == 4;
}

/* An NHWC-bound node: input 0 through its twin, output 0 a new twin. */
static eai_status_t convert_bound(eai__lay_t *L, int node)
{
    int xn;
    EAI_TRY(eai__lay_twin_of(L, L->g->nodes[node].in[0], &xn));
    L->g->nodes[node].in[0] = xn;
    EAI_TRY(eai__lay_set_domain(L, node, EAI__DOMAIN_NHWC));
    return eai__lay_twin_outputs(L, node);
}

/* Shapes and the backend's wishes, from one shape pass with symbolic dims
 * bound to 1 (a plan is laid out once for every batch size). */
static eai_status_t survey(eai__lay_t *L, const eai__backend_t *be, bool *want, int *n_want)
{
    eai__graph_t *g = L->g;
    eai__pass_t p;
    eai_status_t st = eai__pass_run(&p, g, &g->alloc, 1);
    *n_want = 0;
    if (st == EAI_OK) {
        for (int v = 0; v < g->n_values; v++) {
            L->known[v] = p.vals[v].known;
            L->shape[v] = p.vals[v].shape;
        }
        for (int k = 0; k < p.n_kernels; k++) {
            eai__kernel_t *kr = &p.kernels[k];
            if (strcmp(g->nodes[kr->node].domain, EAI__DOMAIN_NHWC) == 0) continue;
            if (be->wants_nhwc(&kr->ctx, kr->op) && eai__lay_is4(L, g->nodes[kr->node].in[0]) &&
                g->nodes[kr->node].n_out >= 1 && eai__lay_is4(L, g->nodes[kr->node].out[0])) {
                want[kr->node] = true;
                (*n_want)++;
            }
        }
    }
    eai__pass_free(&p);
    return st;
}

/* Drops the layout changes this pass added (nodes from `first` on) that nobody
 * reads; counts the rest into *n. */
static eai_status_t prune(eai__graph_t *g, int first, const bool *drop, int *n)
{
    int *uses;
    EAI_TRY(eai__graph_use_counts(g, &uses));
    bool *dead = eai__calloc(&g->alloc, (size_t)g->n_nodes + 1, sizeof(bool));
    if (!dead) {
        eai__free(&g->alloc, uses);
        return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    }
    for (int i = 0; i < first; i++) /* dropped nodes read nothing any more */
        for (int k = 0; drop[i] && k < g->nodes[i].n_in; k++)
            if (g->nodes[i].in[k] >= 0) uses[g->nodes[i].in[k]]--;
    int kept = 0;
    for (int i = first; i < g->n_nodes; i++) {
        if (uses[g->nodes[i].out[0]] == 0)
            dead[i] = true;
        else
            kept++;
    }
    for (int i = 0; i < first; i++) /* dropped by the sinking rules */
        dead[i] = drop[i];
    eai_status_t st = eai__graph_remove_nodes(g, dead);
    eai__free(&g->alloc, uses);
    eai__free(&g->alloc, dead);
    if (st == EAI_OK && n) *n = kept;
    return st;
}

eai_status_t eai__opt_layout(eai__graph_t *g, const struct eai__backend *be, int *n)
{
    if (n) *n = 0;
    if (!be || !be->wants_nhwc || g->n_nodes == 0) return EAI_OK;
    eai__lay_t L = {.g = g, .n_vals = g->n_values};
    const int n_nodes0 = g->n_nodes;
    eai_status_t st = EAI_OK;
    bool *want = eai__calloc(&g->alloc, (size_t)n_nodes0 + 1, sizeof(bool));
    L.drop = eai__calloc(&g->alloc, (size_t)n_nodes0 + 1, sizeof(bool));
    L.known = eai__calloc(&g->alloc, (size_t)L.n_vals + 1, sizeof(bool));
    L.shape = eai__calloc(&g->alloc, (size_t)L.n_vals + 1, sizeof(eai__shape_t));
    L.nhwc = eai__calloc(&g->alloc, (size_t)L.n_vals + 1, sizeof(int));
    if (!want || !L.drop || !L.known || !L.shape || !L.nhwc) {
        st = eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
        goto done;
    }
    for (int v = 0; v < L.n_vals; v++)
        L.nhwc[v] = -1;
    int n_want = 0;
    st = survey(&L, be, want, &n_want);
    if (st != EAI_OK || n_want == 0) goto done;
    for (int i = 0; i < n_nodes0 && st == EAI_OK; i++) {
        if (want[i])
            st = convert_bound(&L, i);
        else
            st = eai__lay_sink(&L, i);
    }
    if (st == EAI_OK) st = prune(g, n_nodes0, L.drop, n);
done:
    eai__free(&g->alloc, want);
    eai__free(&g->alloc, L.drop);
    eai__free(&g->alloc, L.known);
    eai__free(&g->alloc, L.shape);
    eai__free(&g->alloc, L.nhwc);
    return st;
}
