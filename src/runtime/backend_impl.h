/* The backend vtable. A session asks its preferred backend whether it runs a
 * node (after shapes are known); nodes it declines run on `ref`. Internal:
 * backends live under src/runtime/<name>/ and are listed in backend.c. */
#ifndef EAI_BACKEND_IMPL_H
#define EAI_BACKEND_IMPL_H

#include "runtime/op_impl.h"

typedef struct eai__backend {
    const char *name;
    /* Whether this backend runs node `c` (shapes, dtypes and params already
     * inferred) of op `op`. */
    bool (*supports)(const eai__opctx_t *c, const eai__op_def_t *op);
    /* Optional: build per-node state (packed weights...) at session creation.
     * *bytes receives the state's size for eai_session_const_bytes. */
    eai_status_t (*prepare)(eai__opctx_t *c, const eai__op_def_t *op, void **state, size_t *bytes);
    /* Runs the node; never allocates. */
    eai_status_t (*eval)(eai__opctx_t *c, const eai__op_def_t *op, void *state);
    void (*release)(void *state);
} eai__backend_t;

/* Backend by name; NULL if not compiled in. "" or NULL: the default. */
const eai__backend_t *eai__backend_find(const char *name);
extern const eai__backend_t eai__backend_ref;

#endif
