/* Loading models: ONNX files, compiled .eai plans (edgeai build), TFLite
 * flatbuffers and TF.js graph models (model.json).
 *
 *   eai_model_t *m;
 *   if (eai_model_load("mobilenet_v2.onnx", NULL, &m) != EAI_OK)
 *       fprintf(stderr, "%s\n", eai_last_error());
 *   printf("%d inputs\n", eai_model_n_inputs(m));
 *   eai_model_destroy(m);
 *
 * Loading parses the file, checks the graph (cycles, dangling edges, unknown
 * ops, attributes and types) and infers every shape with symbolic dimensions
 * bound to 1, so a model that loads will also create a session.
 */
#ifndef EDGEAI_MODEL_H
#define EDGEAI_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgeai/status.h"
#include "edgeai/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eai_model eai_model_t;

/* Allocation hook (lua_Alloc style): realloc(ptr, size) semantics; size 0 frees.
 * Zero-init (fn NULL) means libc. */
typedef struct eai_allocator {
    void *(*fn)(void *ctx, void *ptr, size_t size);
    void *ctx;
} eai_allocator_t;

typedef struct eai_model_opts {
    eai_allocator_t alloc; /* zero: libc */
    /* Value for every symbolic dimension (e.g. batch) when the model is checked
     * at load time; 0 means 1. Sessions choose their own. */
    int64_t default_dim;
    /* Skip the graph passes run at load (constant folding, BN folding,
     * activation fusion, ...): run the graph exactly as the file says. */
    bool no_optimize;
} eai_model_opts_t;

/* Loads an ONNX model from `path` (borrowed for the call). `opts` may be NULL.
 * Returns EAI_E_IO (unreadable), EAI_E_FORMAT (not a valid ONNX protobuf, broken
 * graph), EAI_E_UNSUPPORTED (op, attribute, dtype or opset edgeai cannot run),
 * EAI_E_NOMEM. On failure *out is untouched. */
EAI_API eai_status_t eai_model_load(const char *path, const eai_model_opts_t *opts,
                                    eai_model_t **out);

/* Same, from `n_bytes` bytes at `data` (copied where needed; borrowed for the
 * call). `name` labels error messages (may be NULL). */
EAI_API eai_status_t eai_model_load_memory(const void *data, size_t n_bytes, const char *name,
                                           const eai_model_opts_t *opts, eai_model_t **out);

/* Frees the model. Accepts NULL. Sessions created from it must be gone first. */
EAI_API void eai_model_destroy(eai_model_t *m);

/* Graph inputs (initializers excluded) and outputs. Symbolic dims read as -1.
 * Returned names are borrowed from the model. Index out of range: EAI_E_INVALID. */
EAI_API int eai_model_n_inputs(const eai_model_t *m);
EAI_API int eai_model_n_outputs(const eai_model_t *m);
EAI_API eai_status_t eai_model_input_info(const eai_model_t *m, int i, eai_tensor_info_t *out);
EAI_API eai_status_t eai_model_output_info(const eai_model_t *m, int i, eai_tensor_info_t *out);

/* Summary numbers, computed with symbolic dims bound to opts.default_dim. */
typedef struct eai_model_stats {
    int n_nodes;          /* nodes in the graph as loaded */
    int64_t n_params;     /* elements in floating-point initializers */
    int64_t macs;         /* multiply-accumulates of Conv, ConvTranspose, Gemm, MatMul */
    int opset;            /* default-domain opset */
    const char *producer; /* borrowed; "" if absent */
} eai_model_stats_t;
EAI_API void eai_model_get_stats(const eai_model_t *m, eai_model_stats_t *out);

/* Op histogram: calls fn(op, count, user) once per distinct op type, in order of
 * first appearance. `op` is valid during the callback only. */
EAI_API void eai_model_op_histogram(const eai_model_t *m,
                                    void (*fn)(const char *op, int count, void *user), void *user);

#ifdef __cplusplus
}
#endif
#endif
