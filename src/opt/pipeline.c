/* The default pass pipeline (load time and eai_build). Order matters:
 * folding first (shape arithmetic and dead producers go), DCE so no dead
 * reader blocks a single-use pattern, identities out of the way of the
 * Conv -> BN -> activation chains, then BN before activations (the BN sits
 * between Conv and Relu), and DCE for what the rewrites left behind. */
#include "opt/opt_impl.h"

eai_status_t eai__opt_default(eai__graph_t *g, eai_build_report_t *rep)
{
    int n_const = 0, n_dead0 = 0, n_id = 0, n_bn = 0, n_act = 0, n_dead = 0;
    EAI_TRY(eai__opt_fold_constants(g, &n_const));
    EAI_TRY(eai__opt_dce(g, &n_dead0));
    EAI_TRY(eai__opt_remove_identity(g, &n_id));
    EAI_TRY(eai__opt_fold_bn(g, &n_bn));
    EAI_TRY(eai__opt_fuse_act(g, &n_act));
    EAI_TRY(eai__opt_dce(g, &n_dead));
    if (rep) {
        rep->consts_folded += n_const;
        rep->bn_folded += n_bn;
        rep->act_fused += n_act;
        rep->nodes_removed += n_dead0 + n_id + n_dead;
    }
    return EAI_OK;
}
