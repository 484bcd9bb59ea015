/* A federated client: one round of local training on a (possibly shared)
 * trainer, with FedProx's proximal term or SCAFFOLD's control variates added
 * to the gradients through the trainer's grad hook. The client owns only its
 * copy of the global model, its result and SCAFFOLD's c_i, so a simulator can
 * create one per sampled client and drop it after the round. */
#include <string.h>

#include "core/core_impl.h"
#include "fl/fl_impl.h"

struct eai_fl_client {
    eai_trainer_t *t; /* borrowed */
    const eai_dataset_t *ds;
    const int32_t *idx;
    int64_t n;
    uint32_t id;
    size_t n_params, n_trainable;
    bool have_global;
    float *global; /* n_params: the model the round started from */
    float *params; /* n_params: the result handed out in the update */
    float *ci;     /* n_trainable: SCAFFOLD c_i, NULL until set or first trained */
    float *dc;     /* n_trainable: c_i+ - c_i */
    float *corr;   /* n_trainable: c - c_i during training */
    float mu;      /* FedProx during training */
};

eai_status_t eai_fl_client_create(eai_trainer_t *t, const eai_dataset_t *ds, const int32_t *idx,
                                  int64_t n, uint32_t id, eai_fl_client_t **out)
{
    if (!t || !ds || !out || n < 0 || (n > 0 && !idx))
        return eai_fail(EAI_E_INVALID, "fl client %u: needs a trainer, a data set and indices", id);
    if (n == 0) return eai_fail(EAI_E_INVALID, "fl client %u: has no samples", id);
    const int64_t n_ds = eai_dataset_n(ds);
    for (int64_t i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= n_ds)
            return eai_fail(EAI_E_INVALID, "fl client %u: sample index %d out of range [0, %lld)",
                            id, idx[i], (long long)n_ds);
    eai_fl_client_t *c = eai__calloc(NULL, 1, sizeof *c);
    if (!c) return eai_fail(EAI_E_NOMEM, "fl client: out of memory");
    c->t = t;
    c->ds = ds;
    c->idx = idx;
    c->n = n;
    c->id = id;
    c->n_params = eai_trainer_n_params(t);
    c->n_trainable = eai_trainer_n_trainable(t);
    c->global = eai__alloc(NULL, c->n_params * sizeof(float));
    c->params = eai__alloc(NULL, c->n_params * sizeof(float));
    if (!c->global || !c->params) {
        eai_fl_client_destroy(c);
        return eai_fail(EAI_E_NOMEM, "fl client %u: out of memory for %zu params", id, c->n_params);
    }
    *out = c;
    return EAI_OK;
}

void eai_fl_client_destroy(eai_fl_client_t *c)
{
    if (!c) return;
    eai__free(NULL, c->global);
    eai__free(NULL, c->params);
    eai__free(NULL, c->ci);
    eai__free(NULL, c->dc);
    eai__free(NULL, c->corr);
    eai__free(NULL, c);
}

eai_status_t eai_fl_client_update_global_model(eai_fl_client_t *c, const float *global)
{
    if (!c || !global) return eai_fail(EAI_E_INVALID, "fl client: update_global_model: NULL");
    memcpy(c->global, global, c->n_params * sizeof(float));
    c->have_global = true;
    return EAI_OK;
}

static eai_status_t alloc_scaffold(eai_fl_client_t *c)
{
    const size_t nt = c->n_trainable ? c->n_trainable : 1;
    if (!c->ci) c->ci = eai__calloc(NULL, nt, sizeof(float));
    if (!c->dc) c->dc = eai__calloc(NULL, nt, sizeof(float));
    if (!c->corr) c->corr = eai__calloc(NULL, nt, sizeof(float));
    if (!c->ci || !c->dc || !c->corr)
        return eai_fail(EAI_E_NOMEM, "fl client %u: out of memory for control variates", c->id);
    return EAI_OK;
}

eai_status_t eai_fl_client_set_control(eai_fl_client_t *c, const float *ci)
{
    if (!c || !ci) return eai_fail(EAI_E_INVALID, "fl client: set_control: NULL");
    EAI_TRY(alloc_scaffold(c));
    memcpy(c->ci, ci, c->n_trainable * sizeof(float));
    return EAI_OK;
}

const float *eai_fl_client_control(const eai_fl_client_t *c)
{
    return c ? c->ci : NULL;
}

/* FedProx (Li et al. 2020, eq. 2): the gradient of mu/2 |w - w_global|^2. */
static void prox_hook(void *user, const float *w, float *g, size_t n)
{
    const eai_fl_client_t *c = user;
    const float mu = c->mu, *wg = c->global;
    for (size_t j = 0; j < n; j++)
        g[j] += mu * (w[j] - wg[j]);
}

/* SCAFFOLD (Karimireddy et al. 2020, Alg. 1 line 10): g + c - c_i. */
static void scaffold_hook(void *user, const float *w, float *g, size_t n)
{
    const float *corr = ((const eai_fl_client_t *)user)->corr;
    (void)w;
    for (size_t j = 0; j < n; j++)
        g[j] += corr[j];
}

eai_status_t eai_fl_client_local_training(eai_fl_client_t *c, const eai_fl_round_cfg_t *cfg,
                                          eai_fl_update_t *out)
{
    if (!c || !cfg || !out) return eai_fail(EAI_E_INVALID, "fl client: local_training: NULL");
    if (!c->have_global)
        return eai_fail(EAI_E_STATE,
                        "fl client %u: no global model yet "
                        "(eai_fl_client_update_global_model)",
                        c->id);
    if (cfg->epochs < 1 || cfg->lr < 0 || cfg->mu < 0)
        return eai_fail(EAI_E_INVALID, "fl client %u: epochs %d must be >= 1, lr and mu >= 0",
                        c->id, cfg->epochs);
    if (eai_trainer_n_params(c->t) != c->n_params)
        return eai_fail(EAI_E_STATE, "fl client %u: trainer changed size", c->id);
    const size_t nt = c->n_trainable;
    const bool scaffold = cfg->algo == EAI_FL_SCAFFOLD;
    if (scaffold) {
        /* option II divides by K * lr, so it must know the rate in use */
        if (cfg->lr <= 0)
            return eai_fail(EAI_E_INVALID, "fl client %u: SCAFFOLD needs cfg->lr > 0", c->id);
        if (!cfg->server_control)
            return eai_fail(EAI_E_INVALID, "fl client %u: SCAFFOLD needs the server control",
                            c->id);
        EAI_TRY(alloc_scaffold(c));
        for (size_t j = 0; j < nt; j++)
            c->corr[j] = cfg->server_control[j] - c->ci[j];
    }

    eai_trainer_set_params(c->t, c->global);
    eai_trainer_reset_optim(c->t);
    if (cfg->lr > 0) eai_trainer_set_lr(c->t, cfg->lr);
    if (cfg->algo == EAI_FL_FEDPROX) {
        c->mu = cfg->mu > 0 ? cfg->mu : 0.01f;
        eai_trainer_set_grad_hook(c->t, prox_hook, c);
    } else if (scaffold) {
        eai_trainer_set_grad_hook(c->t, scaffold_hook, c);
    } else {
        eai_trainer_set_grad_hook(c->t, NULL, NULL);
    }
    /* one epoch per fit call so local_steps is an exact count of steps */
    eai_train_stats_t st = {0};
    int64_t steps = 0;
    eai_status_t rc = EAI_OK;
    for (int e = 0; e < cfg->epochs && rc == EAI_OK; e++) {
        rc = eai_trainer_fit(c->t, c->ds, c->idx, c->n, 1,
                             eai__fl_seed(cfg->seed, cfg->round, c->id, (uint64_t)e), &st);
        steps += st.n_steps;
    }
    /* the trainer is shared: never leave a hook pointing at this client */
    eai_trainer_set_grad_hook(c->t, NULL, NULL);
    if (rc != EAI_OK) return rc;
    eai_trainer_get_params(c->t, c->params);

    if (scaffold) {
        /* option II: c_i+ = c_i - c + (x - y_i) / (K lr / (1 - momentum)) */
        const double m = cfg->momentum > 0 && cfg->momentum < 1 ? cfg->momentum : 0.0;
        const double klr = (double)(steps > 0 ? steps : 1) * (double)cfg->lr / (1.0 - m);
        for (size_t j = 0; j < nt; j++) {
            const double cin = (double)c->ci[j] - (double)cfg->server_control[j] +
                               ((double)c->global[j] - (double)c->params[j]) / klr;
            c->dc[j] = (float)(cin - (double)c->ci[j]);
            c->ci[j] = (float)cin;
        }
    }
    *out = (eai_fl_update_t){.round = cfg->round,
                             .client = c->id,
                             .n_samples = c->n,
                             .local_steps = steps,
                             .params = c->params,
                             .control_delta = scaffold ? c->dc : NULL,
                             .train_loss = st.loss,
                             .train_acc = st.accuracy,
                             .n_params = c->n_params};
    return EAI_OK;
}
