/* The interpreter: set input, invoke, get output (the TFLite workflow).
 *
 *   eai_session_opts_t o = {0};            // zero: ref backend, caller's thread, batch 1
 *   eai_session_t *s;
 *   EAI_TRY(eai_session_create(model, &o, &s));
 *   EAI_TRY(eai_session_set_input(s, 0, pixels, n_bytes));
 *   EAI_TRY(eai_session_invoke(s));
 *   const float *logits; eai_tensor_info_t info;
 *   EAI_TRY(eai_session_get_output(s, 0, (const void **)&logits, &info));
 *   eai_session_destroy(s);
 *
 * Creation binds symbolic dimensions, infers all shapes, folds constant
 * sub-graphs, picks a backend per node and plans every intermediate tensor
 * into one arena. invoke() never allocates. A session is single-threaded;
 * different sessions may run concurrently (sharing a pool needs external
 * serialisation, as eai_threadpool_run is one job at a time).
 */
#ifndef EDGEAI_SESSION_H
#define EDGEAI_SESSION_H

#include <stddef.h>

#include "edgeai/model.h"
#include "edgeai/threadpool.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eai_session eai_session_t;

typedef struct eai_session_opts {
    /* Preferred backend by name ("ref"); NULL or "" means the best available.
     * Nodes the backend cannot run fall back to "ref". */
    const char *backend;
    /* Pool for the heavy kernels; borrowed, must outlive the session. NULL:
     * everything runs on the caller's thread. */
    eai_threadpool_t *pool;
    /* Value bound to every symbolic input dimension; 0 means 1. */
    int64_t batch;
    eai_allocator_t alloc; /* zero: libc */
    /* true: every invoke adds each kernel's wall time to the session's
     * profile (eai_session_profile). false (zero) costs nothing. */
    bool profile;
} eai_session_opts_t;

/* Creates a session. `m` must outlive it; `opts` may be NULL and is copied.
 * EAI_E_INVALID (unknown backend), EAI_E_UNSUPPORTED / EAI_E_FORMAT (shape
 * inference fails for this batch), EAI_E_NOMEM. */
EAI_API eai_status_t eai_session_create(const eai_model_t *m, const eai_session_opts_t *opts,
                                        eai_session_t **out);
EAI_API void eai_session_destroy(eai_session_t *s);

EAI_API int eai_session_n_inputs(const eai_session_t *s);
EAI_API int eai_session_n_outputs(const eai_session_t *s);
/* Concrete shapes for this session. Names are borrowed from the model. */
EAI_API eai_status_t eai_session_input_info(const eai_session_t *s, int i, eai_tensor_info_t *out);
EAI_API eai_status_t eai_session_output_info(const eai_session_t *s, int i, eai_tensor_info_t *out);
/* Index of the input/output called `name`, or -1. */
EAI_API int eai_session_input_index(const eai_session_t *s, const char *name);
EAI_API int eai_session_output_index(const eai_session_t *s, const char *name);

/* Copies `n_bytes` from `data` (borrowed for the call) into input `i`.
 * n_bytes must equal the input's size exactly: EAI_E_INVALID otherwise. */
EAI_API eai_status_t eai_session_set_input(eai_session_t *s, int i, const void *data,
                                           size_t n_bytes);

/* Runs the graph. EAI_E_STATE if an input was never set; EAI_E_INVALID for a
 * data-dependent error (e.g. a Gather index out of range), naming the node. */
EAI_API eai_status_t eai_session_invoke(eai_session_t *s);

/* Output `i` of the last invoke: *data points into the session (valid until
 * the next invoke or destroy); `info` (may be NULL) gets its shape. */
EAI_API eai_status_t eai_session_get_output(const eai_session_t *s, int i, const void **data,
                                            eai_tensor_info_t *info);

/* Bytes of the activation arena planned for this session. */
EAI_API size_t eai_session_arena_bytes(const eai_session_t *s);
/* Bytes of constants created by folding and kernel preparation (packed weights). */
EAI_API size_t eai_session_const_bytes(const eai_session_t *s);
/* Nodes that run per invoke, and how many of them run on the ref fallback. */
EAI_API int eai_session_n_kernels(const eai_session_t *s);
/* Backend the session prefers ("ref"). */
EAI_API const char *eai_session_backend(const eai_session_t *s);

/* One kernel's profile entry (sessions created with opts.profile). The
 * strings are borrowed from the session (valid until destroy). */
typedef struct eai_kernel_profile {
    const char *op;      /* op type: "Conv", "QLinearConv", "ToNHWC" */
    const char *domain;  /* "" (ONNX), "com.microsoft", "com.edgeai.nhwc", ... */
    const char *name;    /* node name ("" when the model has none) */
    const char *backend; /* backend that runs it: "xnnpack", "ref" */
    double ms;           /* wall time summed over the profiled invokes */
} eai_kernel_profile_t;

/* Entry of kernel k (0 <= k < eai_session_n_kernels, in run order).
 * EAI_E_STATE when the session was created without opts.profile,
 * EAI_E_INVALID for k out of range. The times sum to at most the invokes'
 * wall time (the rest is the walk between kernels). */
EAI_API eai_status_t eai_session_profile(const eai_session_t *s, int k, eai_kernel_profile_t *out);
/* Invokes profiled since creation or the last reset (0 without opts.profile). */
EAI_API int64_t eai_session_profile_runs(const eai_session_t *s);
/* Zeroes the profile (e.g. after warm-up runs). No-op without opts.profile. */
EAI_API void eai_session_profile_reset(eai_session_t *s);

/* Calls fn(op, user) for every ONNX op the ref backend runs (default domain),
 * in registry order. `op` is a static string. */
EAI_API void eai_op_foreach(void (*fn)(const char *op, void *user), void *user);

/* Names of the compiled-in backends, NULL-terminated. */
EAI_API const char *const *eai_backend_names(void);

#ifdef __cplusplus
}
#endif
#endif
