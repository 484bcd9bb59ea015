/* Private to the layout pass (layout.c drives it, layout_sink.c holds the
 * rules that move layout-agnostic nodes to NHWC). */
#ifndef EAI_LAYOUT_IMPL_H
#define EAI_LAYOUT_IMPL_H

#include "opt/opt_impl.h"

typedef struct eai__lay {
    eai__graph_t *g;
    int n_vals;          /* values before the pass: the arrays below cover these */
    bool *known;         /* shape inferred (batch bound to 1) */
    eai__shape_t *shape; /* NCHW shapes */
    int *nhwc;           /* value -> its NHWC twin, -1 if none yet */
    bool *drop;          /* original nodes the rules made redundant */
} eai__lay_t;

/* Whether original value v is known to have rank 4. */
bool eai__lay_is4(const eai__lay_t *L, int v);
/* The NHWC twin of value v, made by a Transpose on first use. */
eai_status_t eai__lay_twin_of(eai__lay_t *L, int v, int *out);
/* A fresh ACT value named after value `like`. */
eai_status_t eai__lay_new_value(eai__lay_t *L, int like, int *out);
/* Node `node` writes NHWC twins of its outputs; Transposes rebuild them. */
eai_status_t eai__lay_twin_outputs(eai__lay_t *L, int node);
eai_status_t eai__lay_set_domain(eai__lay_t *L, int node, const char *domain);

/* Moves node `node` to NHWC if it is layout-agnostic (possibly after
 * remapping attributes or constants) and every activation it reads already
 * has a twin; otherwise leaves it. (layout_sink.c) */
eai_status_t eai__lay_sink(eai__lay_t *L, int node);

#endif
