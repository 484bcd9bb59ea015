/* Activation memory planning: every non-constant value gets an offset in one
 * arena. Two values may share bytes when their lifetimes (defining kernel to
 * last reading kernel) do not overlap. Placement is greedy by decreasing size
 * into the lowest gap that fits (the TFLM / ggml-alloc idea).
 *
 * Views: the output of a Reshape, Flatten, Squeeze, Unsqueeze or Identity
 * takes its input's bytes when the view is the input's last reader (one
 * block lives where two lived one after the other) and the arena does not
 * grow for it, so the node's copy becomes nothing (copy_eval skips equal
 * pointers). A YOLO head's reshapes
 * of 1.6M-float tensors were 0.4 ms of copies. (Sharing with an input that
 * has later readers would be safe too, values being written once, but the
 * longer joint lifetime grew yolo_tiny_640's arena from 21 to 25 MiB.) */
#include <stdlib.h>
#include <string.h>

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

static bool is_view(const eai__node_t *n)
{
    static const char *const ops[] = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity"};
    if (n->domain[0] || n->n_in < 1 || n->n_out < 1 || n->in[0] < 0 || n->out[0] < 0) return false;
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (strcmp(n->op, ops[i]) == 0) return true;
    return false;
}

static size_t value_bytes(const eai__rvalue_t *r)
{
    return (size_t)eai__shape_numel(&r->shape) * eai_dtype_size(r->dtype);
}

/* Views tried one at a time, at most (session creation stays fast). */
#define MAX_VIEW_TRIES 32

typedef struct view {
    int in, out;
} view_t;

/* The view nodes whose output may share their input's bytes: the input is
 * planned here (not constant, not a graph input), has the output's byte
 * size, and the view is its last reader. Returns how many (vw[0..n)). */
static int find_views(const eai__pass_t *p, view_t *vw)
{
    const eai__graph_t *g = p->g;
    const eai__rvalue_t *vals = p->vals;
    int n = 0;
    for (int k = 0; k < p->n_kernels; k++) {
        const eai__node_t *nd = &g->nodes[p->kernels[k].node];
        if (!is_view(nd)) continue;
        const int a = nd->in[0], b = nd->out[0];
        const eai__rvalue_t *ra = &vals[a], *rb = &vals[b];
        if (ra->is_const || rb->is_const || !ra->known || !rb->known || ra->def < 0 ||
            g->values[a].kind == EAI__V_INPUT || value_bytes(ra) != value_bytes(rb) ||
            rb->def != k || ra->last != k)
            continue;
        vw[n++] = (view_t){a, b};
    }
    return n;
}

/* Lifetimes and roots (root[v]: the value whose bytes v shares, -1: its
 * own) with the views marked `on`: a root lives as long as its views. */
static void apply_views(eai__pass_t *p, const view_t *vw, int n, const bool *on, const int *last0,
                        int *root)
{
    eai__rvalue_t *vals = p->vals;
    for (int v = 0; v < p->g->n_values; v++)
        root[v] = -1, vals[v].last = last0[v];
    for (int i = 0; i < n; i++) {
        if (!on[i]) continue;
        int a = vw[i].in;
        while (root[a] >= 0)
            a = root[a];
        root[vw[i].out] = a;
        if (vals[vw[i].out].last > vals[a].last) vals[a].last = vals[vw[i].out].last;
    }
}

/* Places every planned value that is not a view (root -1) greedily; views
 * take their root's offset. Returns the arena's size. */
static size_t place(eai__pass_t *p, const int *root, item_t *items, span_t *spans)
{
    const eai__graph_t *g = p->g;
    eai__rvalue_t *vals = p->vals;
    int n_items = 0;
    for (int v = 0; v < g->n_values; v++) {
        eai__rvalue_t *r = &vals[v];
        bool needed = g->values[v].kind == EAI__V_INPUT || (r->def >= 0 && !r->is_const);
        if (!needed || !r->known || r->is_const || root[v] >= 0) continue;
        size_t bytes = value_bytes(r);
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
    for (int v = 0; v < g->n_values; v++) {
        int a = v;
        while (root[a] >= 0)
            a = root[a];
        if (a != v) vals[v].offset = vals[a].offset;
    }
    return total;
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

    const size_t nv = (size_t)g->n_values + 1;
    item_t *items = eai__calloc(&p->alloc, nv, sizeof *items);
    span_t *spans = eai__calloc(&p->alloc, nv, sizeof *spans);
    int *root = eai__calloc(&p->alloc, nv, sizeof *root);
    int *last = eai__calloc(&p->alloc, nv, sizeof *last);
    view_t *vw = eai__calloc(&p->alloc, nv, sizeof *vw);
    bool *on = eai__calloc(&p->alloc, nv, sizeof *on);
    size_t total = 0;
    if (items && spans && root && last && vw && on) {
        /* All views, unless the greedy packing then comes out larger than
         * with none (it is not monotone: yolo_tiny_640's INT8 plan took 25
         * MiB with all its views, 21 without); then one at a time, each
         * kept if the arena does not grow. Views save copies, never memory. */
        for (int v = 0; v < g->n_values; v++)
            last[v] = vals[v].last;
        const int n_views = find_views(p, vw);
        apply_views(p, vw, n_views, on, last, root);
        size_t best = place(p, root, items, spans);
        for (int i = 0; i < n_views; i++)
            on[i] = true;
        apply_views(p, vw, n_views, on, last, root);
        if (place(p, root, items, spans) > best) { /* all at once grew it: one by one */
            for (int i = 0; i < n_views; i++)
                on[i] = false;
            /* each try is a whole placement (quadratic in values): a graph
             * with many views keeps its copies rather than a slow create */
            for (int i = 0; i < n_views && n_views <= MAX_VIEW_TRIES; i++) {
                on[i] = true;
                apply_views(p, vw, n_views, on, last, root);
                const size_t t = place(p, root, items, spans);
                if (t <= best)
                    best = t;
                else
                    on[i] = false;
            }
        }
        apply_views(p, vw, n_views, on, last, root);
        total = place(p, root, items, spans);
    }
    const bool ok = items && spans && root && last && vw && on;
    eai__free(&p->alloc, items);
    eai__free(&p->alloc, spans);
    eai__free(&p->alloc, root);
    eai__free(&p->alloc, last);
    eai__free(&p->alloc, vw);
    eai__free(&p->alloc, on);
    if (!ok) return eai_fail(EAI_E_NOMEM, "%s: out of memory planning the arena", g->label);
    *arena_bytes = total;
    return EAI_OK;
}
