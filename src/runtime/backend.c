/* Backend registry and the ref backend, which runs every registered op with
 * its own portable kernels. The default backend is the first compiled in:
 * xnnpack where the build found it, else ref. */
#include <string.h>

#include "edgeai/session.h"
#include "runtime/backend_impl.h"

static bool ref_supports(const eai__opctx_t *c, const eai__op_def_t *op)
{
    return op->eval != NULL;
}

static eai_status_t ref_eval(eai__opctx_t *c, const eai__op_def_t *op, void *state)
{
    return op->eval(c);
}

const eai__backend_t eai__backend_ref = {
    .name = "ref",
    .supports = ref_supports,
    .eval = ref_eval,
};

static const eai__backend_t *const backends[] = {
#ifdef EAI_HAVE_XNNPACK
    &eai__backend_xnnpack,
#endif
    &eai__backend_ref,
};
static const char *const backend_names[] = {
#ifdef EAI_HAVE_XNNPACK
    "xnnpack",
#endif
    "ref",
    NULL,
};

const eai__backend_t *eai__backend_find(const char *name)
{
    if (!name || !name[0]) return backends[0];
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
        if (strcmp(backends[i]->name, name) == 0) return backends[i];
    return NULL;
}

const char *const *eai_backend_names(void)
{
    return backend_names;
}
