/* Activation memory planning: every non-constant value gets an offset in one
 * arena. Two values may share bytes when their lifetimes (defining kernel to
 * last reading kernel) do not overlap. Placement is greedy by decreasing size
 * into the lowest gap that fits (the TFLM / ggml-alloc idea). */
#include <stdlib.h>

#include "runtime/runtime_impl.h"

typedef struct item {
    int v;
    size_t bytes;
} item_t;

static int by_size_desc(const void *a, const void *b)
{
    const item_t *x = a, *y = b;
    if (x->bytes != y->bytes) return x->bytes < y->bytes ? 1 : -1;
    return x->v - y->v; /* deterministic */
}

typedef struct span {
    size_t lo, hi;
} span_t;

static int by_lo(const void *a, const void *b)
{
    const span_t *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

eai_status_t eai__plan_arena(eai__pass_t *p, size_t *arena_bytes)
{
    const eai__graph_t *g = p->g;
    eai__rvalue_t *vals = p->vals;
    for (int k = 0; k < p->n_kernels; k++) {
        const eai__node_t *n = &g->nodes[p->kernels[k].node];
        for (int i = 0; i < n->n_in; i++)
            if (n->in[i] >= 0 && !vals[n->in[i]].is_const) vals[n->in[i]].last = k;
        for (int i = 0; i < n->n_out; i++)
            if (n->out[i] >= 0) {
                vals[n->out[i]].def = k;
                if (vals[n->out[i]].last < k) vals[n->out[i]].last = k;
            }
    }
    /* inputs stay intact for the whole invoke, so a caller may invoke again
     * without setting them again (as TFLite's planner keeps them) */
    for (int i = 0; i < g->n_inputs; i++) {
        eai__rvalue_t *r = &vals[g->inputs[i]];
        r->def = -1;
        r->last = p->n_kernels;
    }
    for (int i = 0; i < g->n_outputs; i++)
        vals[g->outputs[i]].last = p->n_kernels; /* read after invoke */

    item_t *items = eai__calloc(&p->alloc, (size_t)g->n_values + 1, sizeof *items);
    span_t *spans = eai__calloc(&p->alloc, (size_t)g->n_values + 1, sizeof *spans);
    if (!items || !spans) {
        eai__free(&p->alloc, items);
        eai__free(&p->alloc, spans);
        return eai_fail(EAI_E_NOMEM, "%s: out of memory planning the arena", g->label);
    }
    int n_items = 0;
    for (int v = 0; v < g->n_values; v++) {
        eai__rvalue_t *r = &vals[v];
        bool needed = g->values[v].kind == EAI__V_INPUT || (r->def >= 0 && !r->is_const);
        if (!needed || !r->known || r->is_const) continue;
        size_t bytes = (size_t)eai__shape_numel(&r->shape) * eai_dtype_size(r->dtype);
        items[n_items].v = v;
        items[n_items].bytes = EAI_ALIGN_UP(bytes ? bytes : 1, EAI_ALIGN);
        n_items++;
    }
    qsort(items, (size_t)n_items, sizeof *items, by_size_desc);
    size_t total = 0;
    for (int i = 0; i < n_items; i++) {
        eai__rvalue_t *r = &vals[items[i].v];
        int n_spans = 0;
        for (int j = 0; j < i; j++) {
            eai__rvalue_t *q = &vals[items[j].v];
            if (q->def <= r->last && r->def <= q->last) {
                spans[n_spans].lo = (size_t)q->offset;
                spans[n_spans].hi = (size_t)q->offset + items[j].bytes;
                n_spans++;
            }
        }
        qsort(spans, (size_t)n_spans, sizeof *spans, by_lo);
        size_t off = 0;
        for (int s = 0; s < n_spans; s++) {
            if (spans[s].lo >= off + items[i].bytes) break; /* the gap before this span fits */
            if (spans[s].hi > off) off = spans[s].hi;
        }
        r->offset = (int64_t)off;
        if (off + items[i].bytes > total) total = off + items[i].bytes;
    }
    eai__free(&p->alloc, items);
    eai__free(&p->alloc, spans);
    *arena_bytes = total;
    return EAI_OK;
}
