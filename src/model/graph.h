/* The graph IR shared by the importers (ONNX, later TF.js and TFLite) and the
 * runtime. Values are tensors (inputs, constants, activations); nodes refer to
 * values by index, -1 standing for an absent optional input. After
 * eai__graph_finish() nodes are in topological order.
 */
#ifndef EAI_GRAPH_H
#define EAI_GRAPH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/core_impl.h"
#include "edgeai/model.h"
#include "edgeai/tensor.h"

typedef struct eai__shape {
    int rank;
    int64_t d[EAI_MAX_RANK]; /* -1: symbolic / unknown */
} eai__shape_t;

static inline int64_t eai__shape_numel(const eai__shape_t *s)
{
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++)
        n *= s->d[i];
    return n;
}

typedef enum eai__vkind {
    EAI__V_ACT = 0, /* produced by a node */
    EAI__V_INPUT,   /* graph input, set by the caller */
    EAI__V_CONST,   /* initializer, Constant node, or folded */
} eai__vkind_t;

typedef struct eai__value {
    char *name;
    eai_dtype_t dtype;
    eai__shape_t shape;
    char *sym[EAI_MAX_RANK]; /* dim_param names of graph inputs (owned), else NULL */
    eai__vkind_t kind;
    void *data;     /* CONST: bytes in dtype, C order */
    bool owns_data; /* data allocated by the graph (eai__free_aligned) */
    bool is_output;
    int producer; /* node index or -1 */
} eai__value_t;

typedef enum eai__atype {
    EAI__A_FLOAT = 1,
    EAI__A_INT,
    EAI__A_STRING,
    EAI__A_TENSOR,
    EAI__A_FLOATS,
    EAI__A_INTS,
    EAI__A_STRINGS,
    EAI__A_OTHER, /* graphs, sparse tensors: kept so ops can reject them by name */
} eai__atype_t;

typedef struct eai__attr {
    char *name;
    eai__atype_t type;
    int64_t i;
    float f;
    char *s;       /* STRING */
    int n;         /* FLOATS/INTS/STRINGS count */
    int64_t *ints; /* INTS */
    float *floats; /* FLOATS */
    int tensor;    /* TENSOR: value index of a CONST */
} eai__attr_t;

typedef struct eai__node {
    char *name; /* never NULL ("" when the file has none) */
    char *op;
    char *domain; /* "" for the default ONNX domain */
    int n_in, n_out;
    int *in, *out;
    int n_attr;
    eai__attr_t *attr;
} eai__node_t;

typedef struct eai__graph {
    eai_allocator_t alloc;
    char *label; /* file name for messages */
    int n_values, cap_values;
    eai__value_t *values;
    int n_nodes, cap_nodes;
    eai__node_t *nodes;
    int n_inputs, n_outputs;
    int *inputs, *outputs; /* value indices */
    int opset;             /* default-domain opset */
    char *producer;
    eai__strmap_t names; /* value name -> index */
} eai__graph_t;

eai_status_t eai__graph_init(eai__graph_t *g, const eai_allocator_t *a, const char *label);
void eai__graph_free(eai__graph_t *g);

/* Index of the value called name, creating an ACT value if absent. */
eai_status_t eai__graph_value(eai__graph_t *g, const char *name, int *out);
/* Adds a CONST value. `data` is adopted (must come from eai__alloc_aligned). */
eai_status_t eai__graph_add_const(eai__graph_t *g, const char *name, eai_dtype_t dt,
                                  const eai__shape_t *shape, void *data, int *out);
/* Appends a node; names are copied; in/out are copied. */
eai_status_t eai__graph_add_node(eai__graph_t *g, const char *name, const char *op,
                                 const char *domain, const int *in, int n_in, const int *out,
                                 int n_out, eai__node_t **node);
/* Checks structure (every consumed value produced once, no cycles, outputs
 * produced) and sorts nodes topologically. EAI_E_FORMAT with a message. */
eai_status_t eai__graph_finish(eai__graph_t *g);

/* Appends a deep copy of `a` to node index `node` (name, strings, lists copied;
 * a TENSOR attribute's value index is kept). */
eai_status_t eai__node_add_attr(eai__graph_t *g, int node, const eai__attr_t *a);

/* Attribute lookup: NULL when absent. */
const eai__attr_t *eai__node_attr(const eai__node_t *n, const char *name);
/* Typed getters with defaults; a present attribute of the wrong type is an
 * error naming the node. */
eai_status_t eai__attr_int(const eai__graph_t *g, const eai__node_t *n, const char *name,
                           int64_t def, int64_t *out);
eai_status_t eai__attr_float(const eai__graph_t *g, const eai__node_t *n, const char *name,
                             float def, float *out);
/* INTS: *n_out = -1 when absent; at most `cap` values copied (more: error). */
eai_status_t eai__attr_ints(const eai__graph_t *g, const eai__node_t *n, const char *name,
                            int64_t *vals, int cap, int *n_out);
/* STRING: *out = def when absent; borrowed from the graph. */
eai_status_t eai__attr_string(const eai__graph_t *g, const eai__node_t *n, const char *name,
                              const char *def, const char **out);

/* Index of node n in g (for messages). */
static inline int eai__node_index(const eai__graph_t *g, const eai__node_t *n)
{
    return (int)(n - g->nodes);
}

/* ONNX import into an initialised graph (src/model/onnx_import.c). */
eai_status_t eai__onnx_import(eai__graph_t *g, const void *data, size_t n_bytes);

/* TF.js graph model import (src/model/tfjs_import.c): json_path is the
 * model.json; the weight shards it lists are read from the same folder. */
eai_status_t eai__tfjs_import(eai__graph_t *g, const char *json_path);

/* TFLite flatbuffer import (src/model/tflite_import.c): every offset is
 * bounds-checked; NHWC tensors become NCHW values where ops need it. */
eai_status_t eai__tflite_import(eai__graph_t *g, const void *data, size_t n_bytes);
/* Whether the bytes carry TFLite's "TFL3" file identifier. */
bool eai__tflite_probe(const void *data, size_t n_bytes);

/* Decodes a serialized ONNX TensorProto (as the conformance data's .pb files
 * hold) into dtype, shape and a 64-byte aligned buffer (eai__free_aligned). */
eai_status_t eai__onnx_tensor_decode(const eai_allocator_t *a, const void *buf, size_t n,
                                     const char *label, eai_dtype_t *dtype, eai__shape_t *shape,
                                     void **data);

#endif
