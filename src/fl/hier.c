/* One simulated round at one aggregation node (the flat server, or a tier-0
 * gateway), the private aggregation path (secure aggregation and DP-FedAvg),
 * and HierFAVG's periodic tier syncs (Liu et al., ICC 2020). */
#include <math.h>
#include <string.h>

#include "core/core_impl.h"
#include "edgeai/secagg.h"
#include "fl/fl_impl.h"
#include "fl/sim_impl.h"

#define MAX_RETRIES  100
#define SECAGG_RANGE 16.0

/* Trains client gid from the node's global model; *up borrows from *cl. */
static eai_status_t train_client(eai__fl_sim_t *S, eai__fl_node_t *nd, uint32_t local,
                                 uint32_t round, eai_fl_client_t **cl, eai_fl_update_t *up)
{
    const int gid = nd->base + (int)local;
    const int32_t *idx;
    int64_t n;
    EAI_TRY(eai_partition_client(S->part, gid, &idx, &n));
    EAI_TRY(eai_fl_client_create(S->t, S->train, idx, n, (uint32_t)gid, cl));
    const eai_fl_strategy_t *strat = eai_fl_server_strategy(nd->srv);
    if (S->ci && S->ci[gid]) EAI_TRY(eai_fl_client_set_control(*cl, S->ci[gid]));
    EAI_TRY(eai_fl_client_update_global_model(*cl, eai_fl_server_global(nd->srv)));
    eai_fl_round_cfg_t cfg = {.round = round,
                              .algo = S->algo,
                              .epochs = S->epochs,
                              .batch = S->o->batch,
                              .lr = S->lr,
                              .mu = S->o->server.strategy.mu,
                              .server_control = eai_fl_strategy_control(strat),
                              .seed = S->o->seed,
                              .momentum = S->o->optim.momentum};
    EAI_TRY(eai_fl_client_local_training(*cl, &cfg, up));
    up->client = local; /* the node's server numbers its clients from 0 */
    return EAI_OK;
}

/* Row i of the private path: w_i * (x_i - x) then w_i, where DP clips the
 * delta and uses w_i = 1 (McMahan et al. 2018's fixed-denominator estimator)
 * and secure aggregation alone uses w_i = n_i / n_max. */
static void private_row(eai__fl_sim_t *S, const float *g, const eai_fl_update_t *up, float *row)
{
    const size_t np = S->np;
    const bool dp = S->o->dp_epsilon > 0;
    const double w = dp ? 1.0 : (double)up->n_samples / (double)S->n_max;
    if (dp)
        eai__fl_dp_row(g, up->params, np, S->dp_clip, row);
    else
        for (size_t j = 0; j < np; j++)
            row[j] = (float)(w * ((double)up->params[j] - (double)g[j]));
    if (S->o->secure_agg) /* secagg's fixed point only holds |x| <= range */
        for (size_t j = 0; j < np; j++)
            row[j] = fmaxf(-(float)SECAGG_RANGE, fminf((float)SECAGG_RANGE, row[j]));
    row[np] = (float)w;
}

/* Sums the rows (through the protocol when secure_agg), turns the sum into
 * the round's model and submits it as one update: the server's strategy then
 * sees only the aggregate, which is all the server may learn. */
static eai_status_t private_submit(eai__fl_sim_t *S, eai__fl_node_t *nd, int m, int got,
                                   uint32_t round, uint32_t attempt, uint32_t first,
                                   int64_t n_samples, int64_t steps)
{
    const size_t np = S->np, len = np + 1;
    if (S->o->secure_agg) {
        for (int i = 0; i < m; i++)
            S->pptr[i] = S->pdrop[i] ? S->zero : S->prow + (size_t)i * len;
        eai_secagg_opts_t so = {.range = SECAGG_RANGE};
        eai_secagg_report_t rep;
        uint64_t seed = eai__fl_seed(S->o->seed, 0x53414747 /* SAGG */, round, attempt) | 1;
        EAI_TRY(eai_secagg_sum(S->pptr, m, len, S->pdrop, &so, seed, S->psum, &rep));
    } else {
        memset(S->psum, 0, len * sizeof(float));
        for (int i = 0; i < m; i++)
            if (!S->pdrop[i])
                for (size_t j = 0; j < len; j++)
                    S->psum[j] += S->prow[(size_t)i * len + j];
    }
    const float *g = eai_fl_server_global(nd->srv);
    float *x = S->prow; /* row 0 is free now: reuse it for the model */
    if (S->o->dp_epsilon > 0) {
        eai__fl_dp_model(
            g, S->psum, np, m, S->sigma, S->dp_clip,
            eai__fl_dp_noise_seed(S->o->seed, round, (uint32_t)(nd - S->nodes), attempt), x);
    } else {
        const double wsum = S->psum[np] > 0 ? (double)S->psum[np] : 1.0;
        for (size_t j = 0; j < np; j++)
            x[j] = (float)((double)S->psum[j] / wsum);
        for (size_t j = 0; j < np; j++)
            x[j] = (float)((double)g[j] + (double)x[j]);
    }
    eai_fl_update_t up = {.round = round,
                          .client = first,
                          .n_samples = n_samples,
                          .local_steps = steps / (got > 0 ? got : 1),
                          .params = x,
                          .n_params = np};
    return eai_fl_server_submit(nd->srv, &up);
}

eai_status_t eai__fl_node_round(eai__fl_sim_t *S, eai__fl_node_t *nd, int *n_part, int *n_drop,
                                double *loss_sum)
{
    const eai_fl_sim_opts_t *o = S->o;
    const size_t len = S->np + 1;
    const int quorum = o->server.quorum > 0 ? o->server.quorum : 1;
    for (uint32_t attempt = 0;; attempt++) {
        int m;
        EAI_TRY(eai_fl_server_begin_round(nd->srv, S->ids, &m));
        const uint32_t round = eai_fl_server_round(nd->srv);
        int got = 0, n_pending = 0;
        int64_t n_samples = 0, steps = 0;
        double loss = 0;
        eai_status_t st = EAI_OK;
        for (int i = 0; i < m && st == EAI_OK; i++) {
            const uint32_t local = S->ids[i];
            const int gid = nd->base + (int)local;
            uint64_t rng = eai__fl_seed(o->seed, 0x44524f50 /* DROP */,
                                        (uint64_t)round << 16 | attempt, (uint64_t)gid);
            if (S->private_agg) S->pdrop[i] = false;
            if (o->dropout > 0 && eai__fl_uniform(&rng) < o->dropout) {
                (*n_drop)++;
                if (S->private_agg) S->pdrop[i] = true;
                continue; /* its update never arrives */
            }
            eai_fl_client_t *cl = NULL;
            eai_fl_update_t up;
            st = train_client(S, nd, local, round, &cl, &up);
            if (st == EAI_OK) {
                if (S->private_agg)
                    private_row(S, eai_fl_server_global(nd->srv), &up, S->prow + (size_t)i * len);
                else
                    st = eai_fl_server_submit(nd->srv, &up);
            }
            if (st == EAI_OK && S->ci) {
                memcpy(S->ci_pending + (size_t)n_pending * S->nt, eai_fl_client_control(cl),
                       S->nt * sizeof(float));
                S->ci_pending_id[n_pending++] = (uint32_t)gid;
            }
            if (st == EAI_OK) {
                got++;
                loss += up.train_loss;
                n_samples += up.n_samples;
                steps += up.local_steps;
            }
            eai_fl_client_destroy(cl);
        }
        if (st == EAI_OK && S->private_agg && got >= quorum) {
            st = private_submit(S, nd, m, got, round, attempt, S->ids[0], n_samples, steps);
            if (st == EAI_E_UNAVAILABLE) st = EAI_OK; /* too few survivors: a failed round */
        }
        /* a hard failure (trainer, allocation) ends the simulation without
         * aggregating, and so without checkpointing, a partial round */
        if (st != EAI_OK && st != EAI_E_UNAVAILABLE) return st;
        eai_fl_round_report_t rep;
        S->n_pending = n_pending; /* the checkpoint written by finish_round holds them */
        if (st == EAI_OK && got < quorum)
            st = EAI_E_UNAVAILABLE; /* the server would say so too; no need to ask */
        eai_status_t fin = eai_fl_server_finish_round(nd->srv, &rep);
        if (st == EAI_OK) st = fin;
        if (st == EAI_OK) {
            for (int k = 0; k < n_pending; k++) {
                const uint32_t gid = S->ci_pending_id[k];
                if (!S->ci[gid]) S->ci[gid] = eai__alloc(NULL, S->nt * sizeof(float));
                if (!S->ci[gid]) return eai_fail(EAI_E_NOMEM, "fl sim: out of memory for c_i");
                memcpy(S->ci[gid], S->ci_pending + (size_t)k * S->nt, S->nt * sizeof(float));
            }
            S->n_pending = 0;
            *n_part += got;
            *loss_sum += loss;
            return EAI_OK;
        }
        if (st != EAI_E_UNAVAILABLE) return st;
        if (attempt + 1 >= MAX_RETRIES)
            return eai_fail(EAI_E_UNAVAILABLE,
                            "fl sim: round %u failed %d times in a row (no "
                            "quorum; dropout %.2f too high?)",
                            round, MAX_RETRIES, (double)o->dropout);
    }
}

/* S->model = sample-weighted mean of the models of the gateways under node
 * `parent` of tier `tier` (tier n_tiers: the cloud; tier -1: all). */
static void mean_of(eai__fl_sim_t *S, int tier, int parent)
{
    const eai_fl_sim_opts_t *o = S->o;
    double total = 0;
    memset(S->dacc, 0, S->np * sizeof *S->dacc);
    for (int g = 0; g < S->n_nodes; g++) {
        if (tier >= 0) {
            int p = tier < o->n_tiers ? (int)((int64_t)g * o->fanout[tier] / o->fanout[0]) : 0;
            if (p != parent) continue;
        }
        const float *x = eai_fl_server_global(S->nodes[g].srv);
        const double w = (double)S->nodes[g].samples;
        total += w;
        for (size_t j = 0; j < S->np; j++)
            S->dacc[j] += w * (double)x[j];
    }
    for (size_t j = 0; j < S->np; j++)
        S->model[j] = (float)(S->dacc[j] / total);
}

void eai__fl_cloud_view(eai__fl_sim_t *S)
{
    if (S->n_nodes == 1) {
        memcpy(S->model, eai_fl_server_global(S->nodes[0].srv), S->np * sizeof(float));
        return;
    }
    mean_of(S, -1, 0);
}

eai_status_t eai__fl_tier_sync(eai__fl_sim_t *S, uint32_t r)
{
    const eai_fl_sim_opts_t *o = S->o;
    for (int i = 0; i < o->n_tiers; i++) {
        const int every = o->every[i] > 0 ? o->every[i] : 2;
        if ((r + 1) % (uint32_t)every != 0) continue;
        /* tier i's models go up to tier i + 1 (the cloud above the last) */
        const int n_par = i + 1 < o->n_tiers ? o->fanout[i + 1] : 1;
        for (int p = 0; p < n_par; p++) {
            mean_of(S, i + 1, p);
            for (int g = 0; g < S->n_nodes; g++) {
                int pg =
                    i + 1 < o->n_tiers ? (int)((int64_t)g * o->fanout[i + 1] / o->fanout[0]) : 0;
                if (pg == p) EAI_TRY(eai__fl_server_set_global(S->nodes[g].srv, S->model));
            }
        }
    }
    return EAI_OK;
}
