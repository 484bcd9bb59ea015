/* Editing a finished graph: what the graph passes (src/opt) and the layout
 * and quantization rewrites need on top of graph.h's construction calls. */
#ifndef EAI_GRAPH_EDIT_H
#define EAI_GRAPH_EDIT_H

#include "model/graph.h"

/* Frees a node's storage (not the slot in g->nodes). */
void eai__node_free(eai__graph_t *g, eai__node_t *n);
/* Uses of each value by node inputs plus graph outputs (counts[n_values]). */
eai_status_t eai__graph_use_counts(const eai__graph_t *g, int **counts);
/* Every node input reading `from` reads `to` instead (graph outputs keep
 * their values). */
void eai__graph_replace_uses(eai__graph_t *g, int from, int to);
/* Removes the nodes with dead[i] set, then re-finishes the graph. */
eai_status_t eai__graph_remove_nodes(eai__graph_t *g, const bool *dead);
/* A value name not yet in the graph: "<base>", "<base>_1", ... (buf >= 256). */
void eai__graph_fresh_name(const eai__graph_t *g, const char *base, char *buf, size_t n);
/* Sets (replaces or adds) a node attribute. */
eai_status_t eai__node_set_int(eai__graph_t *g, int node, const char *name, int64_t v);
eai_status_t eai__node_set_float(eai__graph_t *g, int node, const char *name, float v);
eai_status_t eai__node_set_string(eai__graph_t *g, int node, const char *name, const char *v);
eai_status_t eai__node_set_floats(eai__graph_t *g, int node, const char *name, const float *v,
                                  int count);
eai_status_t eai__node_set_ints(eai__graph_t *g, int node, const char *name, const int64_t *v,
                                int count);
/* Deep copy of a graph; CONST data is borrowed (owns_data false), so `src`
 * must outlive `dst`. */
eai_status_t eai__graph_clone(eai__graph_t *dst, const eai__graph_t *src);

#endif
