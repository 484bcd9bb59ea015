/* `edgeai fl client`: one federated client over MQTT (see cmd_fl_net.c for
 * the topics and the wire format): it waits for each round's manifest and
 * model, trains on its own partition when sampled, and sends its update
 * (with --secure-agg on the server: only its masked form, fl_secagg_net.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fl_net.h"

/* ---------------------------------------------------------------- client */

static void client_usage(void)
{
    printf("usage: edgeai fl client --mqtt HOST:PORT --id K --model M.onnx --clients N "
           "[options]\n"
           "  --run NAME             topic namespace (default)\n"
           "  --data SPEC            training set (fashion-mnist:train)\n"
           "  --partition KIND       iid | shards[:K] | dirichlet[:A] | one-label (iid)\n"
           "  --seed S               partition seed; must match the server's (0)\n"
           "  --max-samples N        use the first N training samples\n"
           "  --threads N            trainer threads (1)\n"
           "  --chunk BYTES          wire chunk size (262144)\n"
           "  --idle-timeout S       give up after S seconds without a message (600)\n"
           "  --crash-after PHASE    testing: SIGKILL itself after sending its SecAgg\n"
           "                         advertise | shares | masked message\n"
           "Training settings (epochs, batch, lr, momentum, strategy) come from the server.\n");
}

static bool decode_manifest(const uint8_t *frame, size_t n, manifest_t *m, uint32_t *ids_buf,
                            uint32_t *prev_buf, uint32_t max_ids)
{
    eai_flmsg_hdr_t h;
    const uint8_t *pl;
    if (eai_flmsg_decode(frame, n, &h, &pl) != EAI_OK || h.type != EAI_FLMSG_MODEL_MANIFEST ||
        h.total_bytes < MANIFEST_FIXED)
        return false;
    m->round = h.round;
    m->final = get32(pl);
    m->n_params = get32(pl + 4);
    m->epochs = get32(pl + 8);
    m->batch = get32(pl + 12);
    m->algo = get32(pl + 16);
    m->lr = getf(pl + 20);
    m->mu = getf(pl + 24);
    m->momentum = getf(pl + 28);
    m->seed = (uint64_t)get32(pl + 32) | (uint64_t)get32(pl + 36) << 32;
    m->attempt = get32(pl + 40);
    m->n_sampled = get32(pl + 44);
    const uint64_t base = MANIFEST_FIXED + 4 * (uint64_t)m->n_sampled;
    if (m->n_sampled > max_ids || h.total_bytes < base) return false;
    uint64_t end = h.total_bytes;
    /* the DP block, then the SecAgg block, end the manifest; their tags are
     * no valid id or count */
    m->dp =
        end >= base + MANIFEST_DP_BYTES && get32(pl + end - MANIFEST_DP_BYTES) == MANIFEST_DP_TAG;
    if (m->dp) {
        const uint8_t *q = pl + end - MANIFEST_DP_BYTES;
        m->dp_weight = get32(q + 4);
        m->dp_clip = getf(q + 8);
        /* a rule this client does not know, or a clip that bounds nothing:
         * sending anything would break the DP guarantee */
        if (m->dp_weight != FL_DP_WEIGHT_UNIT || !isfinite(m->dp_clip) || !(m->dp_clip > 0))
            return false;
        end -= MANIFEST_DP_BYTES;
    }
    m->secagg =
        end >= base + MANIFEST_SA_BYTES && get32(pl + end - MANIFEST_SA_BYTES) == MANIFEST_SA_TAG;
    if (m->secagg) {
        const uint8_t *q = pl + end - MANIFEST_SA_BYTES;
        m->sa_threshold = get32(q + 4);
        m->sa_frac_bits = get32(q + 8);
        m->sa_range = getf(q + 12);
        end -= MANIFEST_SA_BYTES;
    }
    if (m->dp && !m->secagg) return false; /* clients clip only for secure aggregation */
    m->has_prev = end > base;
    m->n_prev = 0;
    if (m->has_prev) {
        if (end < base + 4) return false;
        m->n_prev = get32(pl + base);
        if (m->n_prev > max_ids || end != base + 4 + 4 * (uint64_t)m->n_prev) return false;
        for (uint32_t i = 0; i < m->n_prev; i++)
            prev_buf[i] = get32(pl + base + 4 + 4 * i);
    }
    for (uint32_t i = 0; i < m->n_sampled; i++)
        ids_buf[i] = get32(pl + MANIFEST_FIXED + 4 * i);
    m->ids = ids_buf;
    m->prev = prev_buf;
    return true;
}

typedef struct client_state {
    const net_opts_t *o;
    eai_dataset_t *ds;
    eai_partition_t *part;
    eai_trainer_t *tr;
    eai_fl_client_t *cl;
    float *model; /* the latest complete global model, model_n floats, then ctl_n */
    size_t np, nt, model_n, ctl_n, model_cap;
    int64_t model_round; /* -1: none */
    /* SCAFFOLD: c_i as of the last round that aggregated this client (zero
     * at start, as a restarted client begins), the c_i+ of the update in
     * flight, its round (-1: none), and the update sent (np + nt floats) */
    float *ci, *ci_pending, *cat;
    int64_t pending_round;
    /* secure aggregation: the protocol state, and the largest client's
     * sample count (weights n_i / n_max, as the simulator) */
    fl_sa_client_t *sa;
    int64_t n_max;
} client_state_t;

/* First manifest: the trainer with the server's settings (as the simulator
 * builds its trainer) and this client's partition. */
static eai_status_t client_setup(client_state_t *c, const manifest_t *m)
{
    const net_opts_t *o = c->o;
    eai_trainer_opts_t to = {.batch = (int)m->batch,
                             .loss = EAI_LOSS_XENT,
                             .optim = {.lr = m->lr, .momentum = m->momentum},
                             .threads = o->threads,
                             .seed = m->seed};
    EAI_TRY(eai_trainer_load(o->model, &to, &c->tr));
    c->np = eai_trainer_n_params(c->tr);
    if (c->np != m->n_params)
        return eai_fail(EAI_E_INVALID, "fl client: %s has %zu parameters, the server's %u",
                        o->model, c->np, m->n_params);
    const int32_t *idx;
    int64_t n;
    EAI_TRY(eai_partition_client(c->part, o->id, &idx, &n));
    c->nt = eai_trainer_n_trainable(c->tr);
    for (int k = 0; k < o->clients; k++) {
        const int32_t *ki;
        int64_t kn;
        EAI_TRY(eai_partition_client(c->part, k, &ki, &kn));
        if (kn > c->n_max) c->n_max = kn;
    }
    if (m->algo == EAI_FL_SCAFFOLD) {
        c->ci = calloc(c->nt ? c->nt : 1, sizeof(float));
        c->ci_pending = calloc(c->nt ? c->nt : 1, sizeof(float));
        c->cat = malloc((c->np + c->nt) * sizeof(float));
        if (!c->ci || !c->ci_pending || !c->cat)
            return eai_fail(EAI_E_NOMEM, "fl client: out of memory for control variates");
    }
    return eai_fl_client_create(c->tr, c->ds, idx, n, (uint32_t)o->id, &c->cl);
}

/* SCAFFOLD: a manifest of a later round than the update in flight settles
 * it: c_i+ becomes c_i if the server aggregated it (the simulator commits
 * exactly then), else c_i stays. */
static void client_settle(client_state_t *c, const manifest_t *m)
{
    if (!c->ci || c->pending_round < 0 || (int64_t)m->round <= c->pending_round) return;
    bool taken = false;
    if ((int64_t)m->round == c->pending_round + 1 && m->has_prev)
        for (uint32_t i = 0; i < m->n_prev; i++)
            taken |= m->prev[i] == (uint32_t)c->o->id;
    if (taken) memcpy(c->ci, c->ci_pending, c->nt * sizeof(float));
    c->pending_round = -1;
}

static eai_status_t client_train(client_state_t *c, eai_transport_t *t, const manifest_t *m,
                                 uint8_t *buf, size_t cap)
{
    const net_opts_t *o = c->o;
    const double t0 = cli_now();
    const bool scaffold = m->algo == EAI_FL_SCAFFOLD;
    EAI_TRY(eai_fl_client_update_global_model(c->cl, c->model));
    /* a retried round trains again from the committed c_i */
    if (scaffold) EAI_TRY(eai_fl_client_set_control(c->cl, c->ci));
    eai_fl_round_cfg_t cfg = {.round = m->round,
                              .algo = (eai_fl_algo_t)m->algo,
                              .epochs = (int)m->epochs,
                              .batch = (int)m->batch,
                              .lr = m->lr,
                              .mu = m->mu,
                              .seed = m->seed,
                              .momentum = m->momentum,
                              .server_control = scaffold ? c->model + c->model_n : NULL};
    eai_fl_update_t up;
    EAI_TRY(eai_fl_client_local_training(c->cl, &cfg, &up));
    if (m->secagg) { /* the update leaves only masked */
        if (!c->sa) EAI_TRY(fl_sa_client_create(o, &c->sa));
        EAI_TRY(fl_sa_client_start(c->sa, t, m, c->model, &up, c->n_max, c->np));
        printf("fl client %d: round %u: %lld samples, loss %.4f, %.1f s; secure aggregation "
               "keys sent\n",
               o->id, m->round + 1, (long long)up.n_samples, up.train_loss, cli_now() - t0);
        fflush(stdout);
        return EAI_OK;
    }
    eai_flmsg_hdr_t h = {.type = EAI_FLMSG_UPDATE_CHUNK,
                         .round = m->round,
                         .client = (uint32_t)o->id,
                         .sender = (uint32_t)o->id,
                         .n_samples = up.n_samples,
                         .local_steps = up.local_steps,
                         .train_loss = isfinite(up.train_loss) ? up.train_loss : 0};
    const float *v = up.params;
    size_t n = c->np;
    if (scaffold) {
        memcpy(c->ci_pending, eai_fl_client_control(c->cl), c->nt * sizeof(float));
        c->pending_round = m->round;
        memcpy(c->cat, up.params, c->np * sizeof(float));
        memcpy(c->cat + c->np, up.control_delta, c->nt * sizeof(float));
        h.flags = EAI_FLMSG_FLAG_BLOCK2;
        h.n_block2 = (uint32_t)c->nt;
        v = c->cat;
        n = c->np + c->nt;
    }
    char tp[256], what[64];
    snprintf(what, sizeof what, "update/%d", o->id);
    fl_topic(tp, sizeof tp, o->run, what);
    EAI_TRY(cli_fl_publish_floats(t, tp, false, &h, v, n, (size_t)o->chunk, buf, cap));
    printf("fl client %d: round %u: %lld samples, loss %.4f, %.1f s\n", o->id, m->round + 1,
           (long long)up.n_samples, up.train_loss, cli_now() - t0);
    fflush(stdout);
    return EAI_OK;
}

static int client_run(const net_opts_t *o)
{
    client_state_t c = {.o = o, .model_round = -1, .pending_round = -1};
    eai_transport_t *t = NULL;
    eai_flmsg_asm_t *as = NULL;
    uint8_t *buf = NULL;
    uint32_t *ids = NULL, *prev = NULL;
    int rc = 1;
    eai_dataset_opts_t dso = {.max_samples = o->max_samples};
    if (eai_dataset_load(o->data, &dso, &c.ds) != EAI_OK) goto done;
    eai_partition_opts_t po = {0};
    if (eai_partition_parse(o->partition, &po) != EAI_OK) goto done;
    po.n_clients = o->clients;
    po.seed = o->seed;
    if (eai_partition_create(c.ds, &po, &c.part) != EAI_OK) goto done;
    char id[128], will[256], what[64], tp[256];
    snprintf(id, sizeof id, "edgeai-fl-%s-client-%d", o->run, o->id);
    snprintf(what, sizeof what, "status/%d", o->id);
    fl_topic(will, sizeof will, o->run, what);
    if (fl_net_connect(o, id, will, &t) != EAI_OK) goto done;
    fl_topic(tp, sizeof tp, o->run, "model/#");
    if (eai_transport_subscribe(t, tp, 1) != EAI_OK) goto done;
    /* SecAgg tables for all and for this client only (cheap when unused) */
    char sa_prefix[256];
    fl_topic(sa_prefix, sizeof sa_prefix, o->run, "secagg/");
    fl_topic(tp, sizeof tp, o->run, "secagg/all");
    if (eai_transport_subscribe(t, tp, 1) != EAI_OK) goto done;
    snprintf(what, sizeof what, "secagg/%d", o->id);
    fl_topic(tp, sizeof tp, o->run, what);
    if (eai_transport_subscribe(t, tp, 1) != EAI_OK) goto done;
    const size_t cap = EAI_FLMSG_HEADER_BYTES + (size_t)o->chunk;
    buf = malloc(cap);
    ids = malloc((size_t)o->clients * sizeof *ids);
    prev = malloc((size_t)o->clients * sizeof *prev);
    if (!buf || !ids || !prev || eai_flmsg_asm_create(NULL, &as) != EAI_OK) {
        eai_fail(EAI_E_NOMEM, "fl client: out of memory");
        goto done;
    }
    eai_flmsg_hdr_t jh = {
        .type = EAI_FLMSG_JOIN, .client = (uint32_t)o->id, .sender = (uint32_t)o->id};
    size_t len;
    if (eai_flmsg_encode(&jh, NULL, 0, 0, 0, buf, cap, &len) != EAI_OK ||
        eai_transport_publish(t, will, buf, len, 1, false) != EAI_OK)
        goto done;
    char manifest_topic[256];
    fl_topic(manifest_topic, sizeof manifest_topic, o->run, "model/manifest");
    manifest_t m = {0};
    bool have_manifest = false;
    int64_t done_round = -1, done_attempt = -1;
    double idle_since = cli_now();
    for (;;) {
        eai_transport_msg_t msg;
        if (eai_transport_recv(t, 500, &msg) != EAI_OK) {
            if (cli_now() - idle_since > o->idle_timeout) {
                eai_fail(EAI_E_TIMEOUT, "fl client: nothing from the server for %.0f s",
                         o->idle_timeout);
                goto done;
            }
            continue;
        }
        idle_since = cli_now();
        if (!strcmp(msg.topic, manifest_topic)) {
            manifest_t nm;
            if (!decode_manifest(msg.payload, msg.n_bytes, &nm, ids, prev, (uint32_t)o->clients)) {
                fprintf(stderr, "fl client %d: bad manifest ignored\n", o->id);
                continue;
            }
            m = nm;
            have_manifest = true;
            if (m.final) break;
            if (!c.tr && client_setup(&c, &m) != EAI_OK) goto done;
            client_settle(&c, &m);
        } else if (!strncmp(msg.topic, sa_prefix, strlen(sa_prefix))) {
            if (c.sa && fl_sa_client_on_frame(c.sa, t, msg.payload, msg.n_bytes) != EAI_OK)
                goto done;
            continue;
        } else {
            eai_flmsg_msg_t fm;
            bool complete;
            if (eai_flmsg_asm_add(as, msg.payload, msg.n_bytes, &fm, &complete) != EAI_OK) {
                fprintf(stderr, "fl client %d: %s: %s\n", o->id, msg.topic, eai_last_error());
                continue;
            }
            /* retained chunks can come before the first manifest: keep them */
            if (complete && fm.hdr.type == EAI_FLMSG_MODEL_CHUNK &&
                (int64_t)fm.hdr.round >= c.model_round) {
                if (fm.n_bytes / 4 > c.model_cap) {
                    float *nm = realloc(c.model, fm.n_bytes);
                    if (!nm) {
                        eai_fail(EAI_E_NOMEM, "fl client: out of memory");
                        goto done;
                    }
                    c.model = nm;
                    c.model_cap = fm.n_bytes / 4;
                }
                c.ctl_n = fm.hdr.n_block2;
                c.model_n = fm.n_bytes / 4 - c.ctl_n;
                eai_flmsg_get_floats(fm.data, fm.n_bytes / 4, c.model);
                c.model_round = fm.hdr.round;
                eai_flmsg_asm_drop_before(as, fm.hdr.round);
            }
        }
        if (!have_manifest || !c.tr || m.round != c.model_round || c.model_n != c.np ||
            (m.algo == EAI_FL_SCAFFOLD && c.ctl_n != c.nt) ||
            ((int64_t)m.round == done_round && (int64_t)m.attempt == done_attempt))
            continue;
        done_round = m.round;
        done_attempt = m.attempt;
        bool sampled = false;
        for (uint32_t i = 0; i < m.n_sampled; i++)
            sampled |= m.ids[i] == (uint32_t)o->id;
        if (sampled && client_train(&c, t, &m, buf, cap) != EAI_OK) goto done;
    }
    printf("fl client %d: the server finished the run\n", o->id);
    eai_transport_flush(t, 10000);
    eai_transport_disconnect(t);
    rc = 0;
done:
    if (rc) cli_fail_status("fl client");
    free(buf);
    free(ids);
    free(prev);
    free(c.model);
    free(c.ci);
    free(c.ci_pending);
    free(c.cat);
    eai_flmsg_asm_destroy(as);
    eai_transport_destroy(t);
    eai_fl_client_destroy(c.cl);
    fl_sa_client_destroy(c.sa);
    eai_trainer_destroy(c.tr);
    eai_partition_destroy(c.part);
    eai_dataset_destroy(c.ds);
    return rc;
}

int cmd_fl_client(int argc, char **argv)
{
    net_opts_t o = {.run = "default",
                    .id = -1,
                    .chunk = EAI_FLMSG_DEFAULT_CHUNK,
                    .data = "fashion-mnist:train",
                    .partition = "iid",
                    .idle_timeout = 600};
    int r = fl_net_parse("fl client", argc, argv, &o, client_usage);
    if (r) return r < 0 ? 0 : r;
    if (o.id < 0 || o.id >= o.clients)
        return cli_fail_usage("fl client", "needs --id K in [0, %d)", o.clients);
    return client_run(&o);
}
