/* The backend vtable. A session asks its preferred backend whether it runs a
 * node (after shapes are known); nodes it declines run on `ref`. Internal:
 * backends live under src/runtime/<name>/ and are listed in backend.c.
 *
 * Life cycle in eai_session_create:
 *   session_init (once)          per-session state: thread pool, handles
 *   layout pass, if wants_nhwc   the session's graph clone gets NHWC nodes
 *   supports + scratch (per node) pick the backend, size the shared scratch
 *   prepare (per node)           pack weights, fix every pointer (arena,
 *                                scratch and constants are final by now)
 * invoke: begin, eval per node (never allocates), end (or idle); destroy:
 * release per node, then session_fini. A CUDA backend or an NPU delegate plugs in the same way.
 */
#ifndef EAI_BACKEND_IMPL_H
#define EAI_BACKEND_IMPL_H

#include "edgeai/session.h"
#include "runtime/op_impl.h"

typedef struct eai__backend {
    const char *name;
    /* Optional: per-session state (*ctx, released by session_fini), given to
     * prepare. `pool` is the session's pool (may be NULL: caller's thread);
     * `alloc` its allocator. */
    eai_status_t (*session_init)(eai_threadpool_t *pool, const eai_allocator_t *alloc, void **ctx);
    void (*session_fini)(void *ctx);
    /* Optional: whether this node (NCHW, shapes inferred) would run in NHWC
     * on this backend, i.e. the layout pass (src/opt/layout.c) should turn it
     * into its "com.edgeai.nhwc" twin. NULL: the backend wants no layout. */
    bool (*wants_nhwc)(const eai__opctx_t *c, const eai__op_def_t *op);
    /* Whether this backend runs node `c` (shapes, dtypes and params already
     * inferred) of op `op`. */
    bool (*supports)(const eai__opctx_t *c, const eai__op_def_t *op);
    /* Optional: bytes of the session's shared scratch this backend's eval
     * (or prepare) of a supported node uses; NULL: none. c->scratch_bytes
     * (the ref kernel's request) is not reserved for supported nodes. */
    size_t (*scratch)(const eai__opctx_t *c, const eai__op_def_t *op);
    /* Optional: build per-node state (packed weights...) at session creation
     * with every data pointer of `c` final. `ctx` is session_init's state.
     * *bytes receives the state's size for eai_session_const_bytes. */
    eai_status_t (*prepare)(eai__opctx_t *c, const eai__op_def_t *op, void *ctx, void **state,
                            size_t *bytes);
    /* Runs the node; never allocates. */
    eai_status_t (*eval)(eai__opctx_t *c, const eai__op_def_t *op, void *state);
    void (*release)(void *state);
    /* Optional: called with session_init's state when the backend has no
     * work for a while: at the end of every invoke, and before a large node
     * that runs on ref (which uses the session's eai_threadpool), so a pool
     * of the backend's own can stop spinning and leave the cores to it. */
    void (*idle)(void *ctx);
    /* Optional: called with session_init's state at the start of every
     * invoke, and at its end (end replaces idle there). */
    void (*begin)(void *ctx);
    void (*end)(void *ctx);
} eai__backend_t;

/* Backend by name; NULL if not compiled in. "" or NULL: the default (the
 * first of xnnpack, ref that is compiled in). */
const eai__backend_t *eai__backend_find(const char *name);
extern const eai__backend_t eai__backend_ref;
#ifdef EAI_HAVE_XNNPACK
extern const eai__backend_t eai__backend_xnnpack;
#endif

/* Kernels of session `s` that run on the backend called `name` (tests and
 * diagnostics; session.c). */
int eai__session_n_on(const eai_session_t *s, const char *name);
/* Profiling: invoke that adds each kernel's wall time in ms to ms[k]
 * (eai_session_n_kernels entries; inputs must be set); kernel k's node,
 * backend name and context (shapes), each out-pointer may be NULL. */
eai_status_t eai__session_invoke_timed(eai_session_t *s, double *ms);
const eai__node_t *eai__session_kernel(const eai_session_t *s, int k, const char **backend,
                                       const eai__opctx_t **ctx);

/* Bytes every buffer a kernel reads must stay readable past its end:
 * XNNPACK's vector loads may read XNN_EXTRA_BYTES (16) beyond an input. The
 * arena, the scratch and constants handed to such kernels are padded. */
#define EAI__READ_PAD 64

#endif
