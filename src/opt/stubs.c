/* Placeholders for the graph passes not written yet: each reports no
 * rewrites. Delete an entry when its pass lands in its own file. */
#include "opt/opt_impl.h"

eai_status_t eai__opt_fold_constants(eai__graph_t *g, int *n)
{
    if (n) *n = 0;
    return EAI_OK;
}

eai_status_t eai__opt_remove_identity(eai__graph_t *g, int *n)
{
    if (n) *n = 0;
    return EAI_OK;
}

eai_status_t eai__opt_fold_bn(eai__graph_t *g, int *n)
{
    if (n) *n = 0;
    return EAI_OK;
}

eai_status_t eai__opt_fuse_act(eai__graph_t *g, int *n)
{
    if (n) *n = 0;
    return EAI_OK;
}

eai_status_t eai__opt_dce(eai__graph_t *g, int *n)
{
    if (n) *n = 0;
    return EAI_OK;
}
