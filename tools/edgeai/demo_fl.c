/* One federated round of `edgeai demo`: the regional server publishes the
 * global edge classifier as eai_flmsg frames, every site with crops trains
 * it on what its cloud labelled (eai_fl_client, edgeai's own trainer),
 * sends the new weights back the same way, and the server averages them
 * (FedAvg weighted by sample counts). Every byte crosses the transport the
 * demo runs on (in-process bus or MQTT), so the figures include the wire. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "demo.h"

#define T_MODEL  "edgeai/demo/fl/model"
#define T_UPDATE "edgeai/demo/fl/update"
#define WAIT_MS  20000 /* per message; generous for a loaded machine over MQTT */

struct demo_fl {
    eai_trainer_t *tr;
    eai_fl_server_t *srv;
    eai_transport_t *server, *clients[DEMO_MAX_SITES];
    eai_flmsg_asm_t *srv_asm, *cli_asm[DEMO_MAX_SITES]; /* one per receiver: frames of one
                                                          message reach every client */
    int n_sites, epochs;
    float lr;
    uint64_t seed;
    size_t np, nt;
    float *global, *start, *scratch;
    uint8_t *buf;
    size_t cap;
};

void demo_fl_destroy(demo_fl_t *f)
{
    if (!f) return;
    eai_trainer_destroy(f->tr);
    eai_fl_server_destroy(f->srv);
    eai_flmsg_asm_destroy(f->srv_asm);
    for (int i = 0; i < DEMO_MAX_SITES; i++)
        eai_flmsg_asm_destroy(f->cli_asm[i]);
    free(f->global);
    free(f->start);
    free(f->scratch);
    free(f->buf);
    free(f);
}

eai_status_t demo_fl_create(const char *edge_model, int n_sites, eai_transport_t *server,
                            eai_transport_t *const *clients, int epochs, float lr, uint64_t seed,
                            demo_fl_t **out)
{
    *out = NULL;
    if (n_sites < 1 || n_sites > DEMO_MAX_SITES)
        return eai_fail(EAI_E_INVALID, "demo: %d sites (1..%d)", n_sites, DEMO_MAX_SITES);
    demo_fl_t *f = calloc(1, sizeof *f);
    if (!f) return eai_fail(EAI_E_NOMEM, "demo: out of memory");
    f->server = server;
    for (int i = 0; i < n_sites; i++)
        f->clients[i] = clients[i];
    f->n_sites = n_sites;
    f->epochs = epochs;
    f->lr = lr;
    f->seed = seed;
    eai_trainer_opts_t to = {.batch = 32, .optim = {.kind = EAI_OPT_ADAM, .lr = lr}, .seed = seed};
    eai_status_t st = eai_trainer_load(edge_model, &to, &f->tr);
    if (st != EAI_OK) goto fail;
    f->np = eai_trainer_n_params(f->tr);
    f->nt = eai_trainer_n_trainable(f->tr);
    f->global = malloc(f->np * sizeof(float));
    f->start = malloc(f->np * sizeof(float));
    f->scratch = malloc(f->np * sizeof(float));
    f->cap = EAI_FLMSG_HEADER_BYTES + (size_t)(256u << 10);
    f->buf = malloc(f->cap);
    if (!f->global || !f->start || !f->scratch || !f->buf) {
        st = eai_fail(EAI_E_NOMEM, "demo: out of memory");
        goto fail;
    }
    eai_trainer_get_params(f->tr, f->global);
    eai_fl_server_opts_t so = {
        .strategy = {.algo = EAI_FL_FEDAVG}, .n_clients = n_sites, .quorum = 1, .seed = seed};
    st = eai_fl_server_create(&so, f->global, f->np, f->nt, &f->srv);
    if (st == EAI_OK) st = eai_flmsg_asm_create(NULL, &f->srv_asm);
    if (st == EAI_OK) st = eai_transport_subscribe(server, T_UPDATE, 1);
    for (int i = 0; st == EAI_OK && i < n_sites; i++) {
        st = eai_flmsg_asm_create(NULL, &f->cli_asm[i]);
        if (st == EAI_OK) st = eai_transport_subscribe(clients[i], T_MODEL, 1);
    }
    if (st != EAI_OK) goto fail;
    *out = f;
    return EAI_OK;
fail:
    demo_fl_destroy(f);
    return st;
}

/* Waits on `t` for one complete flmsg message of `type` and `round` (other
 * frames are dropped: a late frame of an earlier round, say). */
static eai_status_t recv_msg(eai_transport_t *t, eai_flmsg_asm_t *as, int type, uint32_t round,
                             eai_flmsg_msg_t *m)
{
    for (;;) {
        eai_transport_msg_t msg;
        eai_status_t st = eai_transport_recv(t, WAIT_MS, &msg);
        if (st == EAI_E_TIMEOUT)
            return eai_fail(EAI_E_TIMEOUT, "demo: no %s frame of round %u within %d ms",
                            eai_flmsg_type_name(type), round, WAIT_MS);
        EAI_TRY(st);
        bool done = false;
        if (eai_flmsg_asm_add(as, msg.payload, msg.n_bytes, m, &done) != EAI_OK) continue;
        if (done && m->hdr.type == type && m->hdr.round == round) return EAI_OK;
    }
}

/* Accuracy of the trainer's current parameters on the held-out crops. */
static eai_status_t eval_acc(demo_fl_t *f, const eai_dataset_t *ev, double *acc)
{
    *acc = -1;
    if (!ev) return EAI_OK;
    eai_train_stats_t st;
    EAI_TRY(eai_trainer_evaluate(f->tr, ev, NULL, eai_dataset_n(ev), &st));
    *acc = st.accuracy;
    return EAI_OK;
}

static eai_status_t dataset_of(const float *x, const int32_t *y, int64_t n, eai_dataset_t **out)
{
    eai_tensor_info_t s = {.dtype = EAI_F32, .rank = 3, .dims = {3, DEMO_CROP, DEMO_CROP}};
    return eai_dataset_from_memory(x, y, n, &s, 4, NULL, out);
}

/* The sites' held-out crops pooled (measurement only: no client trains on
 * them). NULL when there are none. */
static eai_status_t pooled_eval(const demo_site_t *sites, int n, eai_dataset_t **out)
{
    *out = NULL;
    int64_t total = 0;
    for (int i = 0; i < n; i++)
        total += sites[i].eval.n;
    if (total == 0) return EAI_OK;
    float *x = malloc((size_t)total * DEMO_CROP_N * sizeof(float));
    int32_t *y = malloc((size_t)total * sizeof(int32_t));
    eai_status_t st = EAI_OK;
    if (!x || !y)
        st = eai_fail(EAI_E_NOMEM, "demo: out of memory (%lld eval crops)", (long long)total);
    int64_t k = 0;
    for (int i = 0; st == EAI_OK && i < n; i++) {
        memcpy(x + k * DEMO_CROP_N, sites[i].eval.x,
               (size_t)sites[i].eval.n * DEMO_CROP_N * sizeof(float));
        memcpy(y + k, sites[i].eval.y, (size_t)sites[i].eval.n * sizeof(int32_t));
        k += sites[i].eval.n;
    }
    if (st == EAI_OK) st = dataset_of(x, y, total, out);
    free(x);
    free(y);
    return st;
}

/* Client i: the global model from the wire, local training, the update on
 * the wire. */
static eai_status_t client_round(demo_fl_t *f, demo_site_t *s, int i, uint32_t round,
                                 const eai_dataset_t *ev, demo_fl_round_t *rep, double *acc_sum)
{
    eai_flmsg_msg_t m;
    EAI_TRY(recv_msg(f->clients[i], f->cli_asm[i], EAI_FLMSG_MODEL_CHUNK, round, &m));
    if (m.n_bytes != f->np * 4)
        return eai_fail(EAI_E_FORMAT, "demo: global model of %zu bytes, expected %zu", m.n_bytes,
                        f->np * 4);
    eai_flmsg_get_floats(m.data, f->np, f->scratch);
    eai_dataset_t *ds = NULL;
    eai_fl_client_t *c = NULL;
    int32_t *idx = malloc((size_t)s->train.n * sizeof(int32_t));
    if (!idx) return eai_fail(EAI_E_NOMEM, "demo: out of memory");
    for (int64_t k = 0; k < s->train.n; k++)
        idx[k] = (int32_t)k;
    eai_status_t st = dataset_of(s->train.x, s->train.y, s->train.n, &ds);
    if (st == EAI_OK) st = eai_fl_client_create(f->tr, ds, idx, s->train.n, (uint32_t)i, &c);
    if (st == EAI_OK) st = eai_fl_client_update_global_model(c, f->scratch);
    eai_fl_update_t up = {0};
    eai_fl_round_cfg_t rc = {.round = round,
                             .algo = EAI_FL_FEDAVG,
                             .epochs = f->epochs,
                             .batch = 32,
                             .lr = f->lr,
                             .seed = f->seed + 7919u * round};
    if (st == EAI_OK) st = eai_fl_client_local_training(c, &rc, &up);
    if (st == EAI_OK) {
        /* the client's own model, judged alone: the seed's "local" figure */
        eai_trainer_set_params(f->tr, up.params);
        double acc;
        st = eval_acc(f, ev, &acc);
        if (acc >= 0) *acc_sum += acc;
    }
    if (st == EAI_OK) {
        eai_flmsg_hdr_t h = {.type = EAI_FLMSG_UPDATE_CHUNK,
                             .round = round,
                             .client = (uint32_t)i,
                             .sender = (uint32_t)i,
                             .n_samples = up.n_samples,
                             .local_steps = up.local_steps,
                             .train_loss = up.train_loss};
        st = cli_fl_publish_floats(f->clients[i], T_UPDATE, false, &h, up.params, f->np, 0, f->buf,
                                   f->cap);
        rep->bytes_up += (int64_t)(f->np * 4 + EAI_FLMSG_HEADER_BYTES);
        rep->n_samples += up.n_samples;
        rep->train_loss += up.train_loss * (double)up.n_samples;
    }
    eai_fl_client_destroy(c);
    eai_dataset_destroy(ds);
    free(idx);
    return st;
}

/* Federated temperature scaling: every site fits T for the new global
 * model on its own cloud-labelled crops (their logits never leave the
 * site), the server averages the temperatures weighted by crop counts.
 * Without it the router would judge the new model with the old model's T. */
static eai_status_t fed_calibrate(demo_fl_t *f, const demo_site_t *sites, int n_sites,
                                  const char *out_calib, demo_fl_round_t *rep)
{
    double sum = 0, n_sum = 0;
    float *logits = NULL;
    size_t cap = 0;
    eai_status_t st = EAI_OK;
    for (int i = 0; st == EAI_OK && i < n_sites; i++) {
        const demo_crops_t *c = &sites[i].train;
        if (c->n < 20) continue; /* too few to fit a temperature */
        if ((size_t)c->n * 4 > cap) {
            free(logits);
            cap = (size_t)c->n * 4;
            logits = malloc(cap * sizeof(float));
            if (!logits) st = eai_fail(EAI_E_NOMEM, "demo: out of memory");
        }
        for (int64_t k = 0; st == EAI_OK && k < c->n; k += 32) {
            int nb = (int)(c->n - k < 32 ? c->n - k : 32);
            eai_step_result_t r;
            st = eai_trainer_eval(f->tr, c->x + k * DEMO_CROP_N, c->y + k, nb, &r, logits + k * 4);
        }
        float t = 1;
        if (st == EAI_OK) st = eai_calib_fit_temperature(logits, c->y, c->n, 4, &t);
        if (st == EAI_OK) sum += (double)t * (double)c->n, n_sum += (double)c->n;
    }
    free(logits);
    EAI_TRY(st);
    rep->temperature = n_sum > 0 ? sum / n_sum : 1.0;
    return eai_calib_save(out_calib, (float)rep->temperature, -1, -1, (int64_t)n_sum);
}

eai_status_t demo_fl_round(demo_fl_t *f, demo_site_t *sites, int n_sites, int round,
                           const char *out_model, const char *out_calib, demo_fl_round_t *rep)
{
    memset(rep, 0, sizeof *rep);
    rep->round = round;
    double t0 = cli_now();
    int with_data = 0;
    for (int i = 0; i < n_sites; i++)
        with_data += sites[i].train.n > 0;
    if (with_data == 0) { /* nothing labelled anywhere yet: the model stays */
        eai_trainer_set_params(f->tr, eai_fl_server_global(f->srv));
        EAI_TRY(eai_trainer_save_onnx(f->tr, out_model));
        return out_calib ? fed_calibrate(f, sites, n_sites, out_calib, rep) : EAI_OK;
    }
    eai_dataset_t *ev = NULL;
    EAI_TRY(pooled_eval(sites, n_sites, &ev));
    rep->n_eval = ev ? eai_dataset_n(ev) : 0;
    uint32_t ids[DEMO_MAX_SITES];
    int n_ids = 0;
    eai_status_t st = eai_fl_server_begin_round(f->srv, ids, &n_ids);
    uint32_t r = eai_fl_server_round(f->srv);
    memcpy(f->start, eai_fl_server_global(f->srv), f->np * sizeof(float));
    eai_trainer_set_params(f->tr, f->start);
    if (st == EAI_OK) st = eval_acc(f, ev, &rep->start_acc);
    if (st == EAI_OK) {
        eai_flmsg_hdr_t h = {
            .type = EAI_FLMSG_MODEL_CHUNK, .round = r, .client = EAI_FLMSG_BROADCAST};
        st = cli_fl_publish_floats(f->server, T_MODEL, false, &h, f->start, f->np, 0, f->buf,
                                   f->cap);
        rep->bytes_down = (int64_t)(f->np * 4 + EAI_FLMSG_HEADER_BYTES) * n_sites;
    }
    double acc_sum = 0;
    for (int i = 0; st == EAI_OK && i < n_sites; i++) {
        if (sites[i].train.n == 0) {
            /* nothing labelled here yet: take the model off the wire, send nothing */
            eai_flmsg_msg_t m;
            st = recv_msg(f->clients[i], f->cli_asm[i], EAI_FLMSG_MODEL_CHUNK, r, &m);
            continue;
        }
        st = client_round(f, &sites[i], i, r, ev, rep, &acc_sum);
        if (st == EAI_OK) rep->n_clients++;
    }
    /* the server side: every update off the wire, then the average */
    for (int k = 0; st == EAI_OK && k < rep->n_clients; k++) {
        eai_flmsg_msg_t m;
        st = recv_msg(f->server, f->srv_asm, EAI_FLMSG_UPDATE_CHUNK, r, &m);
        if (st != EAI_OK) break;
        eai_fl_update_t up = {.round = m.hdr.round,
                              .client = m.hdr.client,
                              .n_samples = m.hdr.n_samples,
                              .local_steps = m.hdr.local_steps,
                              .params = (const float *)(const void *)m.data,
                              .train_loss = m.hdr.train_loss,
                              .n_params = m.n_bytes / 4};
        st = eai_fl_server_submit(f->srv, &up);
    }
    if (st == EAI_OK && rep->n_clients > 0) {
        eai_fl_round_report_t fr;
        st = eai_fl_server_finish_round(f->srv, &fr);
    }
    if (st == EAI_OK) {
        eai_trainer_set_params(f->tr, eai_fl_server_global(f->srv));
        st = eval_acc(f, ev, &rep->global_acc);
    }
    if (st == EAI_OK) st = eai_trainer_save_onnx(f->tr, out_model);
    if (st == EAI_OK && out_calib) st = fed_calibrate(f, sites, n_sites, out_calib, rep);
    rep->local_mean_acc = rep->n_clients && ev ? acc_sum / rep->n_clients : -1;
    if (rep->n_samples > 0) rep->train_loss /= (double)rep->n_samples;
    rep->seconds = cli_now() - t0;
    eai_dataset_destroy(ev);
    return st;
}
