/* `edgeai fl server` and `edgeai fl client`: federated learning across
 * processes over MQTT (edgeai/transport.h) in the FL wire format
 * (edgeai/flmsg.h). The server is eai_fl_server_* behind a broker; clients
 * are eai_fl_client_* with their own trainer and data partition. Topics, under
 * edgeai/fl/<run>/:
 *   model/manifest   retained: the round, its attempt, the sampled ids, the
 *                    training settings, "final" when the run is over
 *   model/chunk/<i>  retained: the global model's chunks for that round
 *   update/<k>       client k's update chunks (QoS 1)
 *   status/<k>       client k's JOIN; its last will ("offline") when it dies
 * With the same seed, clients and participants the result equals
 * `edgeai fl simulate`: the server aggregates in client-id order.
 * SCAFFOLD: the model chunks carry the server control c as a second float
 * block (flmsg version 2), updates carry c_i+ - c_i the same way, and the
 * manifest lists the clients whose updates the previous round accepted, so
 * each client commits its new c_i exactly when the simulator would.
 * DP: the server clips, sums and noises (eai_fl_server_opts_t.dp_*).
 * --secure-agg: rounds run SecAgg (fl_secagg_net.c); the server gets only
 * the masked inputs and their sum, as the simulator's private path does.
 * Both: the server cannot clip a masked vector, so the manifest tells the
 * clients the clip norm and each masks its clipped delta (weight 1); the
 * server noises the unmasked sum and keeps the RDP account itself. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "edgeai/flmsg.h"
#include "edgeai/transport.h"
#include "fl/fl_impl.h" /* eai__fl_server_n_sample: the sampling rate the accountant needs */
#include "fl_net.h"

static bool parse_hostport(const char *cmd, const char *s, net_opts_t *o)
{
    static char host[256];
    const char *colon = s ? strrchr(s, ':') : NULL;
    long port;
    if (!colon || colon == s || (size_t)(colon - s) >= sizeof host ||
        !cli_parse_int(cmd, "--mqtt port", colon + 1, 1, 65535, &port)) {
        cli_fail_usage(cmd, "--mqtt: '%s' is not HOST:PORT", s ? s : "");
        return false;
    }
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    o->host = host;
    o->port = (int)port;
    return true;
}

int fl_net_parse(const char *cmd, int argc, char **argv, net_opts_t *o, void (*usage)(void))
{
    long v;
    double d;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
#define NEXT() (i++, val)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage();
            return -1;
        } else if (!strcmp(a, "--mqtt")) {
            if (!parse_hostport(cmd, NEXT(), o)) return 2;
        } else if (!strcmp(a, "--run")) {
            if (!(o->run = NEXT()) || strpbrk(o->run, "/+#") || !o->run[0])
                return cli_fail_usage(cmd, "--run needs a name without '/', '+' or '#'");
        } else if (!strcmp(a, "--model")) {
            if (!(o->model = NEXT())) return cli_fail_usage(cmd, "--model needs a file");
        } else if (!strcmp(a, "--out")) {
            if (!(o->out = NEXT())) return cli_fail_usage(cmd, "--out needs a file");
        } else if (!strcmp(a, "--checkpoint")) {
            if (!(o->checkpoint = NEXT())) return cli_fail_usage(cmd, "--checkpoint needs a file");
        } else if (!strcmp(a, "--data")) {
            if (!(o->data = NEXT())) return cli_fail_usage(cmd, "--data needs a spec");
        } else if (!strcmp(a, "--test")) {
            if (!(o->test = NEXT())) return cli_fail_usage(cmd, "--test needs a spec");
        } else if (!strcmp(a, "--partition")) {
            if (!(o->partition = NEXT())) return cli_fail_usage(cmd, "--partition needs a kind");
        } else if (!strcmp(a, "--strategy")) {
            if (eai_fl_algo_parse(val, &o->algo) != EAI_OK) return cli_fail_status(cmd);
            i++;
        } else if (!strcmp(a, "--clients")) {
            if (!cli_parse_int(cmd, a, NEXT(), 1, 1000000, &v)) return 2;
            o->clients = (int)v;
        } else if (!strcmp(a, "--id")) {
            if (!cli_parse_int(cmd, a, NEXT(), 0, 999999, &v)) return 2;
            o->id = (int)v;
        } else if (!strcmp(a, "--rounds")) {
            if (!cli_parse_int(cmd, a, NEXT(), 1, 1000000, &v)) return 2;
            o->rounds = (int)v;
        } else if (!strcmp(a, "--epochs")) {
            if (!cli_parse_int(cmd, a, NEXT(), 1, 100000, &v)) return 2;
            o->epochs = (int)v;
        } else if (!strcmp(a, "--batch")) {
            if (!cli_parse_int(cmd, a, NEXT(), 1, 1 << 20, &v)) return 2;
            o->batch = (int)v;
        } else if (!strcmp(a, "--quorum")) {
            if (!cli_parse_int(cmd, a, NEXT(), 1, 1000000, &v)) return 2;
            o->quorum = (int)v;
        } else if (!strcmp(a, "--threads")) {
            if (!cli_parse_int(cmd, a, NEXT(), 1, 1024, &v)) return 2;
            o->threads = (int)v;
        } else if (!strcmp(a, "--seed")) {
            if (!cli_parse_int(cmd, a, NEXT(), 0, INT32_MAX, &v)) return 2;
            o->seed = (uint64_t)v;
        } else if (!strcmp(a, "--max-samples")) {
            if (!cli_parse_int(cmd, a, NEXT(), 1, INT32_MAX, &o->max_samples)) return 2;
        } else if (!strcmp(a, "--chunk")) {
            if (!cli_parse_int(cmd, a, NEXT(), 1024, EAI_FLMSG_MAX_CHUNK, &o->chunk)) return 2;
            if (o->chunk % 4) return cli_fail_usage(cmd, "--chunk must be a multiple of 4");
        } else if (!strcmp(a, "--fraction")) {
            if (!cli_parse_real(cmd, a, NEXT(), 1e-9, 1, &o->fraction)) return 2;
        } else if (!strcmp(a, "--lr")) {
            if (!cli_parse_real(cmd, a, NEXT(), 1e-12, 1e6, &o->lr)) return 2;
        } else if (!strcmp(a, "--momentum")) {
            if (!cli_parse_real(cmd, a, NEXT(), 0, 0.999999, &o->momentum)) return 2;
        } else if (!strcmp(a, "--mu")) {
            if (!cli_parse_real(cmd, a, NEXT(), 1e-12, 1e6, &o->mu)) return 2;
        } else if (!strcmp(a, "--server-lr")) {
            if (!cli_parse_real(cmd, a, NEXT(), 1e-12, 1e6, &o->server_lr)) return 2;
        } else if (!strcmp(a, "--dp-epsilon")) {
            if (!cli_parse_real(cmd, a, NEXT(), 1e-6, 1e6, &o->dp_epsilon)) return 2;
        } else if (!strcmp(a, "--dp-delta")) {
            if (!cli_parse_real(cmd, a, NEXT(), 1e-300, 0.5, &o->dp_delta)) return 2;
        } else if (!strcmp(a, "--dp-clip")) {
            if (!cli_parse_real(cmd, a, NEXT(), 1e-9, 1e9, &o->dp_clip)) return 2;
        } else if (!strcmp(a, "--secure-agg")) {
            o->secure_agg = true;
        } else if (!strcmp(a, "--crash-after")) {
            if (!(o->crash_after = NEXT()) ||
                (strcmp(o->crash_after, "advertise") && strcmp(o->crash_after, "shares") &&
                 strcmp(o->crash_after, "masked")))
                return cli_fail_usage(cmd, "--crash-after needs advertise, shares or masked");
        } else if (!strcmp(a, "--round-timeout")) {
            if (!cli_parse_real(cmd, a, NEXT(), 0, 1e7, &d)) return 2;
            o->round_timeout = d;
        } else if (!strcmp(a, "--idle-timeout")) {
            if (!cli_parse_real(cmd, a, NEXT(), 1, 1e7, &d)) return 2;
            o->idle_timeout = d;
        } else {
            return cli_fail_usage(cmd, "unknown option '%s' (see --help)", a);
        }
#undef NEXT
    }
    if (!o->host) return cli_fail_usage(cmd, "needs --mqtt HOST:PORT");
    if (!o->model) return cli_fail_usage(cmd, "needs --model M.onnx");
    if (!o->clients) return cli_fail_usage(cmd, "needs --clients N");
    return 0;
}

eai_status_t fl_net_connect(const net_opts_t *o, const char *id, const char *will,
                            eai_transport_t **t)
{
    eai_transport_opts_t to = {.client_id = id,
                               .will_topic = will,
                               .will_payload = "offline",
                               .will_bytes = will ? 7 : 0,
                               .will_qos = 1,
                               .connect_timeout_ms = 10000,
                               .op_timeout_ms = 10000};
    return eai_transport_mqtt(o->host, o->port, &to, t);
}

eai_status_t cli_fl_publish_floats(eai_transport_t *t, const char *base, bool per_chunk,
                                   const eai_flmsg_hdr_t *h, const float *v, size_t n, size_t chunk,
                                   uint8_t *buf, size_t cap)
{
    uint32_t nc = eai_flmsg_chunk_count((uint64_t)n * 4, chunk);
    if (nc == 0) return eai_fail(EAI_E_INVALID, "fl: %zu floats exceed the wire format", n);
    for (uint32_t i = 0; i < nc; i++) {
        size_t len;
        EAI_TRY(eai_flmsg_encode_floats(h, v, n, chunk, i, buf, cap, &len));
        char tp[256];
        if (per_chunk)
            snprintf(tp, sizeof tp, "%s/%u", base, i);
        else
            snprintf(tp, sizeof tp, "%s", base);
        EAI_TRY(eai_transport_publish(t, tp, buf, len, 1, per_chunk));
    }
    return EAI_OK;
}

/* ---------------------------------------------------------------- server */

static void server_usage(void)
{
    printf("usage: edgeai fl server --mqtt HOST:PORT --model M.onnx --clients N --rounds R "
           "[options]\n"
           "  --run NAME             topic namespace edgeai/fl/NAME/ (default)\n"
           "  --fraction F           clients sampled per round (1)\n"
           "  --strategy S           fedavg | fedprox | fedadam | fedyogi | fedadagrad | "
           "scaffold |\n"
           "                         fednova (fedavg)\n"
           "  --dp-epsilon E         DP-FedAvg to (E, --dp-delta D (1e-5)), clip --dp-clip C "
           "(1);\n"
           "                         the server clips (with --secure-agg: each client clips "
           "its\n"
           "                         own update) and adds the noise, prints epsilon per round\n"
           "  --secure-agg           secure aggregation (SecAgg): the server sees only masked\n"
           "                         updates and their sum; tolerates clients dropping\n"
           "  --quorum K             a round closes with K updates (all sampled)\n"
           "  --round-timeout S      close a round after S seconds if it has its quorum (none)\n"
           "  --epochs E --batch B   client training settings sent with each round (1, 32)\n"
           "  --lr X --momentum M    client SGD (0.01, 0)\n"
           "  --mu MU --server-lr X  FedProx weight, server step\n"
           "  --checkpoint FILE      save after every round; resume from it\n"
           "  --out FINAL.onnx       write the final global model\n"
           "  --test SPEC            evaluate the global model after every round\n"
           "  --max-samples N        use the first N test samples\n"
           "  --chunk BYTES          wire chunk size (262144)\n"
           "  --seed S               client sampling and training seed (0)\n");
}

/* The round's model: global[0..np), and with SCAFFOLD the control
 * ctl[0..nt) as a second block (joined in cat, np + nt floats). */
static eai_status_t publish_round(eai_transport_t *t, const net_opts_t *o, const manifest_t *m,
                                  const float *global, size_t np, const float *ctl, size_t nt,
                                  float *cat, uint8_t *buf, size_t cap)
{
    char tp[256];
    eai_flmsg_hdr_t h = {.type = EAI_FLMSG_MODEL_CHUNK,
                         .round = m->round,
                         .client = EAI_FLMSG_BROADCAST,
                         .sender = EAI_FLMSG_BROADCAST};
    if (!m->final) {
        fl_topic(tp, sizeof tp, o->run, "model/chunk");
        size_t n = np;
        if (ctl && nt) {
            memcpy(cat, global, np * sizeof(float));
            memcpy(cat + np, ctl, nt * sizeof(float));
            h.flags = EAI_FLMSG_FLAG_BLOCK2;
            h.n_block2 = (uint32_t)nt;
            global = cat;
            n = np + nt;
        }
        EAI_TRY(cli_fl_publish_floats(t, tp, true, &h, global, n, (size_t)o->chunk, buf, cap));
        h.flags = 0;
        h.n_block2 = 0;
    }
    const size_t dp_n = m->secagg && m->dp ? MANIFEST_DP_BYTES : 0;
    size_t pl_n = MANIFEST_FIXED + 4 * (size_t)m->n_sampled +
                  (m->has_prev ? 4 + 4 * (size_t)m->n_prev : 0) +
                  (m->secagg ? MANIFEST_SA_BYTES : 0) + dp_n;
    uint8_t *pl = calloc(1, pl_n);
    if (!pl) return eai_fail(EAI_E_NOMEM, "fl server: out of memory");
    put32(pl, m->final);
    put32(pl + 4, m->n_params);
    put32(pl + 8, m->epochs);
    put32(pl + 12, m->batch);
    put32(pl + 16, m->algo);
    putf(pl + 20, m->lr);
    putf(pl + 24, m->mu);
    putf(pl + 28, m->momentum);
    put32(pl + 32, (uint32_t)m->seed);
    put32(pl + 36, (uint32_t)(m->seed >> 32));
    put32(pl + 40, m->attempt);
    put32(pl + 44, m->n_sampled);
    for (uint32_t i = 0; i < m->n_sampled; i++)
        put32(pl + MANIFEST_FIXED + 4 * i, m->ids[i]);
    if (m->has_prev) {
        uint8_t *q = pl + MANIFEST_FIXED + 4 * (size_t)m->n_sampled;
        put32(q, m->n_prev);
        for (uint32_t i = 0; i < m->n_prev; i++)
            put32(q + 4 + 4 * i, m->prev[i]);
    }
    if (m->secagg) {
        uint8_t *q = pl + pl_n - dp_n - MANIFEST_SA_BYTES;
        put32(q, MANIFEST_SA_TAG);
        put32(q + 4, m->sa_threshold);
        put32(q + 8, m->sa_frac_bits);
        putf(q + 12, m->sa_range);
    }
    if (dp_n) { /* after the SecAgg block: what a client needs to clip its own row */
        uint8_t *q = pl + pl_n - MANIFEST_DP_BYTES;
        put32(q, MANIFEST_DP_TAG);
        put32(q + 4, m->dp_weight);
        putf(q + 8, m->dp_clip);
    }
    h.type = EAI_FLMSG_MODEL_MANIFEST;
    size_t len;
    eai_status_t st = eai_flmsg_encode(&h, pl, pl_n, EAI_FLMSG_MAX_CHUNK, 0, buf, cap, &len);
    free(pl);
    EAI_TRY(st);
    fl_topic(tp, sizeof tp, o->run, "model/manifest");
    EAI_TRY(eai_transport_publish(t, tp, buf, len, 1, true));
    return eai_transport_flush(t, 60000);
}

/* Handles one message during a round: update frames go to the reassembler
 * and, complete, to the server; wills are reported. */
static void server_handle(const eai_transport_msg_t *msg, eai_flmsg_asm_t *as, eai_fl_server_t *srv,
                          const char *status_prefix, size_t nt, uint8_t *accepted, int n_clients)
{
    if (!strncmp(msg->topic, status_prefix, strlen(status_prefix))) {
        if (msg->n_bytes == 7 && !memcmp(msg->payload, "offline", 7))
            printf("fl server: client %s went offline\n", msg->topic + strlen(status_prefix));
        return;
    }
    eai_flmsg_msg_t m;
    bool done;
    if (eai_flmsg_asm_add(as, msg->payload, msg->n_bytes, &m, &done) != EAI_OK) {
        fprintf(stderr, "fl server: %s: %s\n", msg->topic, eai_last_error());
        return;
    }
    if (!done || m.hdr.type != EAI_FLMSG_UPDATE_CHUNK) return;
    const float *v = (const float *)(const void *)m.data;
    const size_t n_all = m.n_bytes / 4, n_ctl = m.hdr.n_block2;
    if (n_ctl && n_ctl != nt) {
        fprintf(stderr,
                "fl server: update of client %u rejected: control block of %zu floats, "
                "expected %zu\n",
                m.hdr.client, n_ctl, nt);
        return;
    }
    eai_fl_update_t up = {.round = m.hdr.round,
                          .client = m.hdr.client,
                          .n_samples = m.hdr.n_samples,
                          .local_steps = m.hdr.local_steps,
                          .params = v,
                          .control_delta = n_ctl ? v + (n_all - n_ctl) : NULL,
                          .train_loss = m.hdr.train_loss,
                          .n_params = n_all - n_ctl};
    if (eai_fl_server_submit(srv, &up) != EAI_OK)
        fprintf(stderr, "fl server: update of client %u rejected: %s\n", up.client,
                eai_last_error());
    else if (up.client < (uint32_t)n_clients)
        accepted[up.client] = 1;
}

static int server_run(const net_opts_t *o)
{
    /* the simulator's trainer settings, so --test reports what it reports */
    eai_trainer_opts_t tro = {.batch = o->batch,
                              .loss = EAI_LOSS_XENT,
                              .optim = {.lr = (float)o->lr, .momentum = (float)o->momentum},
                              .threads = 1,
                              .seed = o->seed};
    eai_dataset_t *test = NULL;
    eai_trainer_t *tr = NULL;
    eai_fl_server_t *srv = NULL;
    eai_transport_t *t = NULL;
    eai_flmsg_asm_t *as = NULL;
    uint8_t *buf = NULL, *accepted = NULL;
    uint32_t *ids = NULL, *prev = NULL;
    float *cat = NULL, *sa_x = NULL;
    bool *offline = NULL;
    int rc = 1;
    if (eai_trainer_load(o->model, &tro, &tr) != EAI_OK) goto done;
    eai_dataset_opts_t dso = {.max_samples = o->max_samples};
    if (o->test && eai_dataset_load(o->test, &dso, &test) != EAI_OK) goto done;
    const size_t np = eai_trainer_n_params(tr), nt = eai_trainer_n_trainable(tr);
    float *init = eai_trainer_params(tr);
    eai_fl_server_opts_t so = {.strategy = {.algo = o->algo,
                                            .mu = (float)o->mu,
                                            .server_lr = (float)o->server_lr,
                                            .population = o->clients,
                                            .local_momentum = (float)o->momentum},
                               .n_clients = o->clients,
                               .fraction = (float)o->fraction,
                               /* secure aggregation submits one aggregate per round */
                               .quorum = o->secure_agg ? 1 : o->quorum,
                               .round_timeout_s = o->round_timeout,
                               .seed = o->seed,
                               .checkpoint = o->checkpoint,
                               /* with SecAgg the server gets one pre-summed update:
                                * the noise and the account are done here instead */
                               .dp_epsilon = o->secure_agg ? 0.0f : (float)o->dp_epsilon,
                               .dp_delta = o->dp_delta,
                               .dp_clip = (float)o->dp_clip,
                               .dp_rounds = o->rounds};
    if (eai_fl_server_create(&so, init, np, nt, &srv) != EAI_OK) goto done;
    const bool scaffold = o->algo == EAI_FL_SCAFFOLD;
    const bool sa_dp = o->secure_agg && o->dp_epsilon > 0;
    /* SecAgg + DP: the noise multiplier and sampling rate eai_fl_server
     * would use (src/fl/server.c), so the run is the simulator's bit for bit */
    const double dp_delta = o->dp_delta > 0 ? o->dp_delta : 1e-5;
    const double dp_q = (double)eai__fl_server_n_sample(srv) / o->clients;
    double dp_sigma = eai_fl_server_dp_sigma(srv);
    if (sa_dp) {
        dp_sigma = eai_rdp_sigma_for(dp_q, o->rounds, dp_delta, (double)(float)o->dp_epsilon);
        if (!(dp_sigma > 0) || !isfinite(dp_sigma)) {
            eai_fail(EAI_E_INVALID,
                     "fl server: no noise multiplier reaches epsilon %g at delta %g over %d "
                     "rounds (q %.3f)",
                     o->dp_epsilon, dp_delta, o->rounds, dp_q);
            goto done;
        }
    }
    char id[128], tp[256], status_prefix[256];
    snprintf(id, sizeof id, "edgeai-fl-%s-server", o->run);
    if (fl_net_connect(o, id, NULL, &t) != EAI_OK) goto done;
    fl_topic(tp, sizeof tp, o->run, "update/+");
    if (eai_transport_subscribe(t, tp, 1) != EAI_OK) goto done;
    fl_topic(tp, sizeof tp, o->run, "status/+");
    if (eai_transport_subscribe(t, tp, 1) != EAI_OK) goto done;
    fl_topic(status_prefix, sizeof status_prefix, o->run, "status/");
    const size_t man =
        MANIFEST_FIXED + 8 * (size_t)o->clients + 4 + MANIFEST_SA_BYTES + MANIFEST_DP_BYTES;
    const size_t cap = EAI_FLMSG_HEADER_BYTES + ((size_t)o->chunk > man ? (size_t)o->chunk : man);
    buf = malloc(cap);
    ids = malloc((size_t)o->clients * sizeof *ids);
    prev = malloc((size_t)o->clients * sizeof *prev);
    accepted = calloc((size_t)o->clients, 1);
    cat = scaffold ? malloc((np + nt) * sizeof *cat) : NULL;
    sa_x = o->secure_agg ? malloc(np * sizeof *sa_x) : NULL;
    offline = calloc((size_t)o->clients, sizeof *offline);
    if (!buf || !ids || !prev || !accepted || (scaffold && !cat) || (o->secure_agg && !sa_x) ||
        !offline) {
        eai_fail(EAI_E_NOMEM, "fl server: out of memory");
        goto done;
    }
    printf("fl server: %s, %d clients, %s, %d rounds, broker %s:%d, run %s\n", o->model, o->clients,
           eai_fl_algo_name(o->algo), o->rounds, o->host, o->port, o->run);
    if (o->dp_epsilon > 0)
        printf("fl server: DP to epsilon %g at delta %g, clip %g, noise multiplier %.6f\n",
               o->dp_epsilon, o->dp_delta > 0 ? o->dp_delta : 1e-5,
               o->dp_clip > 0 ? o->dp_clip : 1.0, dp_sigma);
    if (sa_dp)
        printf("fl server: DP with secure aggregation: clients clip their updates to %g before "
               "masking; the server noises the unmasked sum\n",
               (double)(o->dp_clip > 0 ? (float)o->dp_clip : 1.0f));
    manifest_t m = {.n_params = (uint32_t)np,
                    .epochs = (uint32_t)o->epochs,
                    .batch = (uint32_t)o->batch,
                    .algo = (uint32_t)o->algo,
                    .lr = (float)o->lr,
                    .mu = (float)o->mu,
                    .momentum = (float)o->momentum,
                    .seed = o->seed,
                    .ids = ids,
                    .prev = prev,
                    .has_prev = scaffold,
                    .secagg = o->secure_agg,
                    .sa_frac_bits = 16,
                    .sa_range = (float)FL_SA_RANGE,
                    .dp = sa_dp,
                    .dp_weight = FL_DP_WEIGHT_UNIT,
                    .dp_clip = o->dp_clip > 0 ? (float)o->dp_clip : 1.0f};
    uint32_t attempt = 0;
    while (eai_fl_server_round(srv) < (uint32_t)o->rounds) {
        const double t0 = cli_now();
        int n = 0;
        if (eai_fl_server_begin_round(srv, ids, &n) != EAI_OK) goto done;
        m.round = eai_fl_server_round(srv);
        m.attempt = attempt;
        m.n_sampled = (uint32_t)n;
        m.sa_threshold = (uint32_t)(n / 2 + 1); /* eai_secagg_opts_t's default, stated */
        /* a fresh reassembler per attempt: a retried round's updates are new
         * messages, not duplicates of the failed attempt's */
        eai_flmsg_asm_destroy(as);
        as = NULL;
        /* room for every sampled client's update at once (SCAFFOLD's
         * carry c_i+ - c_i too): a frame refused for lack of room would be
         * lost (the broker saw it acknowledged) */
        const size_t nup = scaffold ? np + nt : np;
        eai_flmsg_asm_opts_t ao = {.max_partial = n < 1       ? 1
                                                  : n > 65536 ? 65536
                                                              : n,
                                   .max_bytes =
                                       (uint64_t)(n > 0 ? n : 1) * (nup * 4 + nup / 8 + 64)};
        if (eai_flmsg_asm_create(&ao, &as) != EAI_OK) goto done;
        memset(accepted, 0, (size_t)o->clients);
        const float *ctl = eai_fl_strategy_control(eai_fl_server_strategy(srv));
        if (publish_round(t, o, &m, eai_fl_server_global(srv), np, ctl, nt, cat, buf, cap) !=
            EAI_OK)
            goto done;
        fl_sa_result_t sar = {0};
        if (o->secure_agg) {
            eai_status_t sst = fl_sa_server_round(t, o, &m, eai_fl_server_global(srv), np,
                                                  sa_dp ? dp_sigma : 0, offline, sa_x, &sar);
            if (sst == EAI_OK) {
                eai_fl_update_t up = {.round = m.round,
                                      .client = ids[0],
                                      .n_samples = sar.n_samples,
                                      .local_steps = sar.local_steps,
                                      .params = sa_x,
                                      .n_params = np};
                sst = eai_fl_server_submit(srv, &up);
            }
            if (sst != EAI_OK && sst != EAI_E_UNAVAILABLE) goto done;
            if (sst != EAI_OK)
                printf("round %3u/%d  secure aggregation: %s\n", m.round + 1, o->rounds,
                       eai_last_error());
        }
        for (; !o->secure_agg;) {
            if (eai_fl_server_n_received(srv) >= n) break;
            if (o->round_timeout > 0 && cli_now() - t0 > o->round_timeout) break;
            eai_transport_msg_t msg;
            if (eai_transport_recv(t, 200, &msg) == EAI_OK)
                server_handle(&msg, as, srv, status_prefix, nt, accepted, o->clients);
        }
        eai_fl_round_report_t rep;
        eai_status_t st = eai_fl_server_finish_round(srv, &rep);
        if (st == EAI_E_UNAVAILABLE) {
            printf("round %3u/%d  %s; retrying\n", m.round + 1, o->rounds, eai_last_error());
            attempt++;
            continue;
        }
        if (st != EAI_OK) goto done;
        attempt = 0;
        /* the clients whose c_i the server's c now includes */
        m.n_prev = 0;
        for (int k = 0; k < o->clients; k++)
            if (accepted[k]) prev[m.n_prev++] = (uint32_t)k;
        if (o->secure_agg)
            printf("round %3u/%d  secagg masked %d/%d (dropped %d, unmasked by %d)  train loss "
                   "%.4f",
                   rep.round + 1, o->rounds, sar.n_alive, rep.n_sampled, sar.n_dropped,
                   sar.n_unmasked, sar.mean_loss);
        else
            printf("round %3u/%d  updates %d/%d (rejected %d)  train loss %.4f", rep.round + 1,
                   o->rounds, rep.n_accepted, rep.n_sampled, rep.n_rejected, rep.mean_train_loss);
        if (sa_dp) /* the server's accountant, over the rounds completed */
            printf("  eps %.6f",
                   eai_rdp_epsilon(dp_q, dp_sigma, (int64_t)eai_fl_server_round(srv), dp_delta));
        else if (o->dp_epsilon > 0)
            printf("  eps %.6f", eai_fl_server_dp_epsilon(srv));
        printf("  %.1f s\n", cli_now() - t0);
        if (test) {
            /* the trainer only evaluates here; its own training state is unused */
            eai_train_stats_t ts;
            eai_trainer_set_params(tr, eai_fl_server_global(srv));
            if (eai_trainer_evaluate(tr, test, NULL, 0, &ts) != EAI_OK) goto done;
            printf("round %3u/%d  test loss %.17g  test acc %.17g\n", rep.round + 1, o->rounds,
                   ts.loss, ts.accuracy);
        }
        fflush(stdout);
    }
    m.final = 1;
    m.round = eai_fl_server_round(srv);
    m.n_sampled = 0;
    if (publish_round(t, o, &m, NULL, np, NULL, 0, NULL, buf, cap) != EAI_OK) goto done;
    if (o->out) {
        eai_trainer_set_params(tr, eai_fl_server_global(srv));
        if (eai_trainer_save_onnx(tr, o->out) != EAI_OK) goto done;
        printf("fl server: wrote %s\n", o->out);
    }
    eai_transport_disconnect(t);
    rc = 0;
done:
    if (rc) cli_fail_status("fl server");
    free(buf);
    free(ids);
    free(prev);
    free(accepted);
    free(cat);
    free(sa_x);
    free(offline);
    eai_flmsg_asm_destroy(as);
    eai_transport_destroy(t);
    eai_fl_server_destroy(srv);
    eai_trainer_destroy(tr);
    eai_dataset_destroy(test);
    return rc;
}

int cmd_fl_server(int argc, char **argv)
{
    net_opts_t o = {.run = "default", .chunk = EAI_FLMSG_DEFAULT_CHUNK};
    int r = fl_net_parse("fl server", argc, argv, &o, server_usage);
    if (r) return r < 0 ? 0 : r;
    if (!o.rounds) return cli_fail_usage("fl server", "needs --rounds R");
    if (o.lr == 0) o.lr = 0.01;
    if (o.secure_agg && (o.algo == EAI_FL_SCAFFOLD || o.algo == EAI_FL_FEDNOVA))
        return cli_fail_usage("fl server",
                              "--secure-agg: %s needs each client's update; secure aggregation "
                              "gives the server only their sum (use fedavg, fedprox or "
                              "fedadam/yogi/adagrad)",
                              eai_fl_algo_name(o.algo));

    if (o.epochs == 0) o.epochs = 1;
    return server_run(&o);
}
