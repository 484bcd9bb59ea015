/* eai_fl_simulate: federated learning in one process. Virtual clients share
 * one trainer and take turns on it; the server API runs exactly as it would
 * behind a network transport (sampling, submit checks, aggregation,
 * checkpoints). The layout of memory is described in sim_impl.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/core_impl.h"
#include "fl/fl_impl.h"
#include "fl/sim_impl.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static eai_status_t check_opts(const eai_fl_sim_opts_t *o)
{
    if (!o->model) return eai_fail(EAI_E_INVALID, "fl sim: no model");
    if (o->rounds < 1 || o->epochs < 0 || o->batch < 0)
        return eai_fail(EAI_E_INVALID, "fl sim: rounds %d must be >= 1, epochs and batch >= 0",
                        o->rounds);
    if (o->partition.n_clients < 1)
        return eai_fail(EAI_E_INVALID, "fl sim: partition.n_clients %d must be >= 1",
                        o->partition.n_clients);
    if (!(o->dropout >= 0 && o->dropout < 1))
        return eai_fail(EAI_E_INVALID, "fl sim: dropout %g must be in [0, 1)", (double)o->dropout);
    if (o->dp_epsilon < 0 || o->dp_delta < 0 || o->dp_delta >= 1 || o->dp_clip < 0)
        return eai_fail(EAI_E_INVALID, "fl sim: dp_epsilon, dp_clip >= 0 and dp_delta in [0, 1)");
    if (o->n_tiers < 0 || o->n_tiers > 4)
        return eai_fail(EAI_E_INVALID, "fl sim: n_tiers %d must be in [0, 4]", o->n_tiers);
    for (int i = 0; i < o->n_tiers; i++) {
        if (o->fanout[i] < 1 || (i > 0 && o->fanout[i] > o->fanout[i - 1]) || o->every[i] < 0)
            return eai_fail(EAI_E_INVALID,
                            "fl sim: tier %d: fanout %d must be >= 1 and at most "
                            "the tier below's, every >= 0",
                            i, o->fanout[i]);
    }
    if (o->n_tiers > 0 && o->fanout[0] > o->partition.n_clients)
        return eai_fail(EAI_E_INVALID, "fl sim: %d gateways for %d clients", o->fanout[0],
                        o->partition.n_clients);
    const eai_fl_algo_t a = o->server.strategy.algo;
    if ((o->secure_agg || o->dp_epsilon > 0) && (a == EAI_FL_SCAFFOLD || a == EAI_FL_FEDNOVA))
        return eai_fail(EAI_E_UNSUPPORTED,
                        "fl sim: %s needs each client's update; secure "
                        "aggregation and DP give the server only their sum (use fedavg, fedprox "
                        "or fedadam/yogi/adagrad)",
                        eai_fl_algo_name(a));
    return EAI_OK;
}

/* SCAFFOLD's c_i in node nd's checkpoint: u32 count, then per client with a
 * c_i (ascending id) u32 id and n_trainable f32, the round being closed's
 * pending values included (the checkpoint is written only when it closes). */
static eai_status_t ckpt_extra(void *user, const void **data, size_t *n)
{
    eai__fl_node_t *nd = user;
    eai__fl_sim_t *S = nd->S;
    const size_t row = 4 + S->nt * sizeof(float);
    const size_t need = 4 + (size_t)nd->n * row;
    if (need > S->ckbuf_cap) {
        uint8_t *b = eai__alloc(NULL, need);
        if (!b) return eai_fail(EAI_E_NOMEM, "fl sim: out of memory for the c_i checkpoint");
        eai__free(NULL, S->ckbuf);
        S->ckbuf = b;
        S->ckbuf_cap = need;
    }
    uint32_t count = 0;
    size_t off = 4;
    for (int k = 0; k < nd->n; k++) {
        const uint32_t gid = (uint32_t)(nd->base + k);
        const float *ci = S->ci[gid];
        for (int p = 0; p < S->n_pending; p++)
            if (S->ci_pending_id[p] == gid) ci = S->ci_pending + (size_t)p * S->nt;
        if (!ci) continue;
        memcpy(S->ckbuf + off, &gid, 4);
        memcpy(S->ckbuf + off + 4, ci, S->nt * sizeof(float));
        off += row;
        count++;
    }
    memcpy(S->ckbuf, &count, 4);
    *data = S->ckbuf;
    *n = off;
    return EAI_OK;
}

/* Restores the c_i a resumed node's checkpoint holds. */
static eai_status_t ckpt_restore_ci(eai__fl_sim_t *S, eai__fl_node_t *nd)
{
    size_t n;
    const uint8_t *b = eai__fl_server_ckpt_extra(nd->srv, &n);
    if (!b) {
        if (eai_fl_server_round(nd->srv) > 0)
            return eai_fail(EAI_E_FORMAT,
                            "fl sim: the SCAFFOLD checkpoint has no client control variates "
                            "(written by an older build): resuming would reset every c_i");
        return EAI_OK;
    }
    const size_t row = 4 + S->nt * sizeof(float);
    uint32_t count;
    if (n < 4) return eai_fail(EAI_E_FORMAT, "fl sim: checkpoint c_i block of %zu bytes", n);
    memcpy(&count, b, 4);
    if (count > (uint32_t)nd->n || n != 4 + (size_t)count * row)
        return eai_fail(EAI_E_FORMAT,
                        "fl sim: checkpoint c_i block: %u clients in %zu bytes (node of %d "
                        "clients, %zu floats each)",
                        count, n, nd->n, S->nt);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t gid;
        memcpy(&gid, b + 4 + i * row, 4);
        if (gid < (uint32_t)nd->base || gid >= (uint32_t)(nd->base + nd->n) || S->ci[gid])
            return eai_fail(EAI_E_FORMAT, "fl sim: checkpoint c_i block: client %u out of place",
                            gid);
        S->ci[gid] = eai__alloc(NULL, (S->nt ? S->nt : 1) * sizeof(float));
        if (!S->ci[gid]) return eai_fail(EAI_E_NOMEM, "fl sim: out of memory for c_i");
        memcpy(S->ci[gid], b + 4 + i * row + 4, S->nt * sizeof(float));
    }
    return EAI_OK;
}

static eai_status_t make_nodes(eai__fl_sim_t *S)
{
    const eai_fl_sim_opts_t *o = S->o;
    const int N = o->partition.n_clients, G = o->n_tiers > 0 ? o->fanout[0] : 1;
    S->nodes = eai__calloc(NULL, (size_t)G, sizeof *S->nodes);
    if (!S->nodes) return eai_fail(EAI_E_NOMEM, "fl sim: out of memory");
    S->n_nodes = G;
    for (int g = 0; g < G; g++) {
        eai__fl_node_t *nd = &S->nodes[g];
        nd->S = S;
        nd->base = (int)((int64_t)g * N / G);
        nd->n = (int)((int64_t)(g + 1) * N / G) - nd->base;
        for (int k = 0; k < nd->n; k++) {
            const int32_t *idx;
            int64_t n;
            EAI_TRY(eai_partition_client(S->part, nd->base + k, &idx, &n));
            nd->samples += n;
            if (n > S->n_max) S->n_max = n;
        }
        eai_fl_server_opts_t so = o->server;
        so.n_clients = nd->n;
        so.strategy.population = nd->n;
        if (so.strategy.algo == EAI_FL_FEDNOVA && so.strategy.local_momentum == 0 &&
            o->optim.kind == EAI_OPT_SGD)
            so.strategy.local_momentum = o->optim.momentum;
        /* the simulator closes a round with whatever arrived unless told */
        if (so.quorum == 0) so.quorum = 1;
        if (o->server.checkpoint && G > 1) {
            size_t len = strlen(o->server.checkpoint) + 16;
            nd->ckpt = eai__alloc(NULL, len);
            if (!nd->ckpt) return eai_fail(EAI_E_NOMEM, "fl sim: out of memory");
            snprintf(nd->ckpt, len, "%s.g%d", o->server.checkpoint, g);
            so.checkpoint = nd->ckpt;
        }
        EAI_TRY(eai_fl_server_create(&so, S->init, S->np, S->nt, &nd->srv));
        const int m = eai__fl_server_n_sample(nd->srv);
        if (m > S->max_sampled) S->max_sampled = m;
    }
    return EAI_OK;
}

static eai_status_t setup(eai__fl_sim_t *S)
{
    const eai_fl_sim_opts_t *o = S->o;
    eai_dataset_opts_t dtr = {.max_samples = o->max_train_samples};
    eai_dataset_opts_t dte = {.max_samples = o->max_test_samples};
    EAI_TRY(
        eai_dataset_load(o->train_data ? o->train_data : "fashion-mnist:train", &dtr, &S->train));
    EAI_TRY(eai_dataset_load(o->test_data ? o->test_data : "fashion-mnist:test", &dte, &S->test));
    EAI_TRY(eai_partition_create(S->train, &o->partition, &S->part));
    eai_trainer_opts_t to = {.batch = o->batch,
                             .loss = EAI_LOSS_XENT,
                             .optim = o->optim,
                             .threads = o->threads,
                             .seed = o->seed};
    EAI_TRY(eai_trainer_load(o->model, &to, &S->t));
    S->np = eai_trainer_n_params(S->t);
    S->nt = eai_trainer_n_trainable(S->t);
    S->algo = o->server.strategy.algo;
    S->lr = o->optim.lr > 0 ? o->optim.lr : 0.01f;
    S->epochs = o->epochs > 0 ? o->epochs : 1;
    S->init = eai__alloc(NULL, S->np * sizeof(float));
    S->model = eai__alloc(NULL, S->np * sizeof(float));
    S->dacc = eai__alloc(NULL, S->np * sizeof(double));
    S->ids = eai__alloc(NULL, (size_t)o->partition.n_clients * sizeof(uint32_t));
    if (!S->init || !S->model || !S->dacc || !S->ids)
        return eai_fail(EAI_E_NOMEM, "fl sim: out of memory for %zu params", S->np);
    eai_trainer_get_params(S->t, S->init);
    EAI_TRY(make_nodes(S));

    const size_t m = (size_t)S->max_sampled;
    if (S->algo == EAI_FL_SCAFFOLD) {
        S->ci = eai__calloc(NULL, (size_t)o->partition.n_clients, sizeof *S->ci);
        S->ci_pending = eai__alloc(NULL, m * (S->nt ? S->nt : 1) * sizeof(float));
        S->ci_pending_id = eai__alloc(NULL, m * sizeof(uint32_t));
        if (!S->ci || !S->ci_pending || !S->ci_pending_id)
            return eai_fail(EAI_E_NOMEM, "fl sim: out of memory for control variates");
        /* c_i ride in the checkpoint so a resumed run is the uninterrupted one */
        for (int g = 0; g < S->n_nodes && o->server.checkpoint; g++) {
            EAI_TRY(ckpt_restore_ci(S, &S->nodes[g]));
            eai__fl_server_set_ckpt_extra(S->nodes[g].srv, ckpt_extra, &S->nodes[g]);
        }
    }
    S->private_agg = o->secure_agg || o->dp_epsilon > 0;
    if (S->private_agg) {
        const size_t len = S->np + 1;
        S->prow = eai__alloc(NULL, m * len * sizeof(float));
        S->psum = eai__alloc(NULL, len * sizeof(float));
        S->zero = eai__calloc(NULL, len, sizeof(float));
        S->pptr = eai__calloc(NULL, m, sizeof *S->pptr);
        S->pdrop = eai__calloc(NULL, m, sizeof *S->pdrop);
        if (!S->prow || !S->psum || !S->zero || !S->pptr || !S->pdrop)
            return eai_fail(EAI_E_NOMEM, "fl sim: out of memory for private aggregation");
    }
    if (o->dp_epsilon > 0) {
        /* the largest per-node sampling rate bounds every user's */
        double q = 0;
        for (int g = 0; g < S->n_nodes; g++) {
            double qg = (double)eai__fl_server_n_sample(S->nodes[g].srv) / S->nodes[g].n;
            if (qg > q) q = qg;
        }
        const double delta = o->dp_delta > 0 ? o->dp_delta : 1e-5;
        S->dp_clip = o->dp_clip > 0 ? o->dp_clip : 1.0;
        S->sigma = eai_rdp_sigma_for(q, o->rounds, delta, o->dp_epsilon);
        if (!(S->sigma > 0) || !isfinite(S->sigma))
            return eai_fail(EAI_E_INVALID,
                            "fl sim: no noise multiplier reaches epsilon %g at "
                            "delta %g over %d rounds (q %.3f)",
                            (double)o->dp_epsilon, delta, o->rounds, q);
    }
    return EAI_OK;
}

static void teardown(eai__fl_sim_t *S)
{
    for (int g = 0; g < S->n_nodes; g++) {
        eai_fl_server_destroy(S->nodes[g].srv);
        eai__free(NULL, S->nodes[g].ckpt);
    }
    eai__free(NULL, S->nodes);
    if (S->ci)
        for (int k = 0; k < S->o->partition.n_clients; k++)
            eai__free(NULL, S->ci[k]);
    eai__free(NULL, S->ci);
    eai__free(NULL, S->ci_pending);
    eai__free(NULL, S->ci_pending_id);
    eai__free(NULL, S->ckbuf);
    eai__free(NULL, S->prow);
    eai__free(NULL, S->psum);
    eai__free(NULL, S->zero);
    eai__free(NULL, S->pptr);
    eai__free(NULL, S->pdrop);
    eai__free(NULL, S->init);
    eai__free(NULL, S->model);
    eai__free(NULL, S->dacc);
    eai__free(NULL, S->ids);
    eai_trainer_destroy(S->t);
    eai_partition_destroy(S->part);
    eai_dataset_destroy(S->train);
    eai_dataset_destroy(S->test);
}

static eai_status_t evaluate(eai__fl_sim_t *S, const float *model, eai_train_stats_t *st)
{
    eai_trainer_set_params(S->t, model);
    return eai_trainer_evaluate(S->t, S->test, NULL, 0, st);
}

/* Each client alone from the same initial weights, for as many local epochs
 * as it trains on average during the federated run: ceil(rounds * fraction)
 * * epochs (at least `epochs`). Local data is all a local model ever sees, so
 * more epochs mostly overfit it (and at 100 clients x 50 rounds the full
 * rounds * epochs budget costs more than the federated run itself). Returns
 * the mean of their accuracies on the shared test set. */
static eai_status_t local_baseline(eai__fl_sim_t *S, double *mean_acc)
{
    const int N = S->o->partition.n_clients;
    const float frac = S->o->server.fraction > 0 ? S->o->server.fraction : 1.0f;
    int local_epochs = (int)ceil((double)S->o->rounds * frac - 1e-9) * S->epochs;
    if (local_epochs < S->epochs) local_epochs = S->epochs;
    double sum = 0;
    for (int k = 0; k < N; k++) {
        const int32_t *idx;
        int64_t n;
        EAI_TRY(eai_partition_client(S->part, k, &idx, &n));
        eai_trainer_set_params(S->t, S->init);
        eai_trainer_reset_optim(S->t);
        eai_trainer_set_lr(S->t, S->lr);
        eai_trainer_set_grad_hook(S->t, NULL, NULL);
        if (n > 0)
            EAI_TRY(eai_trainer_fit(S->t, S->train, idx, n, local_epochs,
                                    eai__fl_seed(S->o->seed, 0x4c4f43 /* LOC */, (uint64_t)k, 0),
                                    NULL));
        eai_train_stats_t st;
        EAI_TRY(eai_trainer_evaluate(S->t, S->test, NULL, 0, &st));
        sum += st.accuracy;
    }
    *mean_acc = sum / N;
    return EAI_OK;
}

static eai_status_t run(eai__fl_sim_t *S, eai_fl_sim_result_t *res)
{
    const eai_fl_sim_opts_t *o = S->o;
    const double delta = o->dp_delta > 0 ? o->dp_delta : 1e-5;
    const uint32_t start = eai_fl_server_round(S->nodes[0].srv);
    for (int g = 1; g < S->n_nodes; g++)
        if (eai_fl_server_round(S->nodes[g].srv) != start)
            return eai_fail(EAI_E_FORMAT,
                            "fl sim: gateway checkpoints disagree (round %u vs "
                            "%u): resume needs all of %s.g*",
                            start, eai_fl_server_round(S->nodes[g].srv), o->server.checkpoint);
    /* A gateway checkpoints in finish_round, before the tier sync that may
     * follow: its file holds the pre-sync model. The sync is a pure function
     * of those, so redoing it puts a resumed run where the uninterrupted one
     * was. */
    if (start > 0 && o->n_tiers > 0) EAI_TRY(eai__fl_tier_sync(S, start - 1));
    double q = 0;
    if (o->dp_epsilon > 0)
        for (int g = 0; g < S->n_nodes; g++) {
            double qg = (double)eai__fl_server_n_sample(S->nodes[g].srv) / S->nodes[g].n;
            if (qg > q) q = qg;
        }
    res->best_acc = 0;
    for (uint32_t r = start; r < (uint32_t)o->rounds; r++) {
        const double t0 = now_s();
        int n_part = 0, n_drop = 0;
        double loss = 0;
        for (int g = 0; g < S->n_nodes; g++)
            EAI_TRY(eai__fl_node_round(S, &S->nodes[g], &n_part, &n_drop, &loss));
        EAI_TRY(eai__fl_tier_sync(S, r));
        eai__fl_cloud_view(S);
        eai_train_stats_t st;
        EAI_TRY(evaluate(S, S->model, &st));
        eai_fl_sim_round_t rr = {.round = r,
                                 .test_acc = st.accuracy,
                                 .test_loss = st.loss,
                                 .train_loss = n_part ? loss / n_part : 0,
                                 .n_participants = n_part,
                                 .n_dropped = n_drop,
                                 .seconds = now_s() - t0};
        if (o->dp_epsilon > 0) rr.epsilon = eai_rdp_epsilon(q, S->sigma, (int64_t)r + 1, delta);
        res->rounds++;
        res->final_acc = st.accuracy;
        if (st.accuracy > res->best_acc) res->best_acc = st.accuracy;
        res->epsilon = rr.epsilon;
        if (o->on_round) o->on_round(&rr, o->user);
    }
    if (res->rounds == 0) { /* resumed after the last round: report the model */
        eai__fl_cloud_view(S);
        eai_train_stats_t st;
        EAI_TRY(evaluate(S, S->model, &st));
        res->final_acc = res->best_acc = st.accuracy;
    }
    if (o->out_model) {
        eai_trainer_set_params(S->t, S->model);
        EAI_TRY(eai_trainer_save_onnx(S->t, o->out_model));
    }
    if (o->local_baseline) EAI_TRY(local_baseline(S, &res->local_mean_acc));
    return EAI_OK;
}

eai_status_t eai_fl_simulate(const eai_fl_sim_opts_t *o, eai_fl_sim_result_t *res)
{
    if (!o || !res) return eai_fail(EAI_E_INVALID, "fl sim: NULL argument");
    EAI_TRY(check_opts(o));
    const double t0 = now_s();
    eai_fl_sim_result_t r = {.local_mean_acc = -1};
    eai__fl_sim_t S = {.o = o};
    eai_status_t st = setup(&S);
    if (st == EAI_OK) st = run(&S, &r);
    teardown(&S);
    if (st != EAI_OK) return st;
    r.seconds = now_s() - t0;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) r.peak_rss_kb = ru.ru_maxrss;
    *res = r;
    return EAI_OK;
}
