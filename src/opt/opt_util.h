/* Private helpers of the graph passes (src/opt): what a pass may assume
 * whatever the batch (a "probe" runs the shape pass with the symbolic dims
 * bound to 1 and to 2; a fact holds if it holds in both runs), and small
 * node tests.
 */
#ifndef EAI_OPT_UTIL_H
#define EAI_OPT_UTIL_H

#include "opt/opt_impl.h"
#include "runtime/runtime_impl.h"

/* The shape pass run with every symbolic dim bound to 1 (run[0]) and, when
 * the graph has symbolic dims, to 2 (run[1]). A run that fails (an op the
 * runtime rejects, shapes that only work for one batch) is just missing:
 * passes then assume less. */
typedef struct eai__opt_probe {
    eai__pass_t run[2];
    bool ok[2];
    bool has_sym; /* some graph input has a symbolic dim */
} eai__opt_probe_t;

/* Runs the probe. Only EAI_E_NOMEM is returned as an error; free with
 * eai__opt_probe_free in every case. */
eai_status_t eai__opt_probe(const eai__graph_t *g, eai__opt_probe_t *p);
void eai__opt_probe_free(eai__opt_probe_t *p);
/* Node n is op `op` of the default ONNX domain. */
bool eai__opt_is(const eai__node_t *n, const char *op);
/* Value v is a float32 CONST with data (NULL otherwise). */
const float *eai__opt_const_f32(const eai__graph_t *g, int v);
/* Value v (>= 0) is an activation read by exactly one node input and not a
 * graph output: a producer may be rewritten through it. `uses` from
 * eai__graph_use_counts. */
bool eai__opt_single_use(const eai__graph_t *g, const int *uses, int v);
/* Adds a float32 CONST named after `base` (fresh name) holding `data`
 * (adopted: from eai__alloc_aligned, freed on failure). */
eai_status_t eai__opt_add_f32(eai__graph_t *g, const char *base, const eai__shape_t *shape,
                              float *data, int *out);
/* Replaces node n's op and domain (copied). */
eai_status_t eai__opt_set_op(eai__graph_t *g, eai__node_t *n, const char *op, const char *domain);

#endif
