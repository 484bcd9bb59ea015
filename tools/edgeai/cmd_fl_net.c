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
 * DP: the server clips, sums and noises (eai_fl_server_opts_t.dp_*). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "edgeai/flmsg.h"
#include "edgeai/transport.h"

#define MANIFEST_FIXED 48

/* Manifest payload, little-endian: final u32, n_params u32, epochs u32,
 * batch u32, algo u32, lr f32, mu f32, momentum f32, seed u64, attempt u32,
 * n_sampled u32, then n_sampled u32 client ids; SCAFFOLD only: n_prev u32
 * and the n_prev ids whose updates round - 1 aggregated. */
typedef struct manifest {
    uint32_t round, final, n_params, epochs, batch, algo, attempt, n_sampled, n_prev;
    float lr, mu, momentum;
    uint64_t seed;
    uint32_t *ids;  /* n_sampled */
    uint32_t *prev; /* n_prev */
    bool has_prev;
} manifest_t;

typedef struct net_opts {
    const char *host, *run, *model, *out, *data, *partition, *test;
    int port, clients, rounds, epochs, batch, quorum, threads, id;
    double fraction, lr, momentum, mu, server_lr, round_timeout, idle_timeout;
    double dp_epsilon, dp_delta, dp_clip;
    long max_samples, chunk;
    uint64_t seed;
    eai_fl_algo_t algo;
    const char *checkpoint;
} net_opts_t;

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void putf(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put32(p, u);
}
static float getf(const uint8_t *p)
{
    uint32_t u = get32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void topic(char *buf, size_t n, const char *run, const char *what)
{
    snprintf(buf, n, "edgeai/fl/%s/%s", run, what);
}

static bool parse_double(const char *cmd, const char *opt, const char *s, double lo, double hi,
                         double *out)
{
    char *end;
    double v = s ? strtod(s, &end) : 0;
    if (!s || *s == '\0' || *end != '\0' || !(v >= lo && v <= hi)) {
        cli_fail_usage(cmd, "%s: '%s' is not a number in [%g, %g]", opt, s ? s : "", lo, hi);
        return false;
    }
    *out = v;
    return true;
}

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

/* Options shared by server and client; returns 0 when parsed, else the exit code. */
static int parse(const char *cmd, int argc, char **argv, net_opts_t *o, void (*usage)(void))
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
            if (!parse_double(cmd, a, NEXT(), 1e-9, 1, &o->fraction)) return 2;
        } else if (!strcmp(a, "--lr")) {
            if (!parse_double(cmd, a, NEXT(), 1e-12, 1e6, &o->lr)) return 2;
        } else if (!strcmp(a, "--momentum")) {
            if (!parse_double(cmd, a, NEXT(), 0, 0.999999, &o->momentum)) return 2;
        } else if (!strcmp(a, "--mu")) {
            if (!parse_double(cmd, a, NEXT(), 1e-12, 1e6, &o->mu)) return 2;
        } else if (!strcmp(a, "--server-lr")) {
            if (!parse_double(cmd, a, NEXT(), 1e-12, 1e6, &o->server_lr)) return 2;
        } else if (!strcmp(a, "--dp-epsilon")) {
            if (!parse_double(cmd, a, NEXT(), 1e-6, 1e6, &o->dp_epsilon)) return 2;
        } else if (!strcmp(a, "--dp-delta")) {
            if (!parse_double(cmd, a, NEXT(), 1e-300, 0.5, &o->dp_delta)) return 2;
        } else if (!strcmp(a, "--dp-clip")) {
            if (!parse_double(cmd, a, NEXT(), 1e-9, 1e9, &o->dp_clip)) return 2;
        } else if (!strcmp(a, "--round-timeout")) {
            if (!parse_double(cmd, a, NEXT(), 0, 1e7, &d)) return 2;
            o->round_timeout = d;
        } else if (!strcmp(a, "--idle-timeout")) {
            if (!parse_double(cmd, a, NEXT(), 1, 1e7, &d)) return 2;
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

static eai_status_t connect_mqtt(const net_opts_t *o, const char *id, const char *will,
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
           "                         the server clips and adds the noise, prints epsilon per "
           "round\n"
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
        topic(tp, sizeof tp, o->run, "model/chunk");
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
    size_t pl_n =
        MANIFEST_FIXED + 4 * (size_t)m->n_sampled + (m->has_prev ? 4 + 4 * (size_t)m->n_prev : 0);
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
    h.type = EAI_FLMSG_MODEL_MANIFEST;
    size_t len;
    eai_status_t st = eai_flmsg_encode(&h, pl, pl_n, EAI_FLMSG_MAX_CHUNK, 0, buf, cap, &len);
    free(pl);
    EAI_TRY(st);
    topic(tp, sizeof tp, o->run, "model/manifest");
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
    float *cat = NULL;
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
                               .quorum = o->quorum,
                               .round_timeout_s = o->round_timeout,
                               .seed = o->seed,
                               .checkpoint = o->checkpoint,
                               .dp_epsilon = (float)o->dp_epsilon,
                               .dp_delta = o->dp_delta,
                               .dp_clip = (float)o->dp_clip,
                               .dp_rounds = o->rounds};
    if (eai_fl_server_create(&so, init, np, nt, &srv) != EAI_OK) goto done;
    const bool scaffold = o->algo == EAI_FL_SCAFFOLD;
    char id[128], tp[256], status_prefix[256];
    snprintf(id, sizeof id, "edgeai-fl-%s-server", o->run);
    if (connect_mqtt(o, id, NULL, &t) != EAI_OK) goto done;
    topic(tp, sizeof tp, o->run, "update/+");
    if (eai_transport_subscribe(t, tp, 1) != EAI_OK) goto done;
    topic(tp, sizeof tp, o->run, "status/+");
    if (eai_transport_subscribe(t, tp, 1) != EAI_OK) goto done;
    topic(status_prefix, sizeof status_prefix, o->run, "status/");
    const size_t man = MANIFEST_FIXED + 8 * (size_t)o->clients + 4;
    const size_t cap = EAI_FLMSG_HEADER_BYTES + ((size_t)o->chunk > man ? (size_t)o->chunk : man);
    buf = malloc(cap);
    ids = malloc((size_t)o->clients * sizeof *ids);
    prev = malloc((size_t)o->clients * sizeof *prev);
    accepted = calloc((size_t)o->clients, 1);
    cat = scaffold ? malloc((np + nt) * sizeof *cat) : NULL;
    if (!buf || !ids || !prev || !accepted || (scaffold && !cat)) {
        eai_fail(EAI_E_NOMEM, "fl server: out of memory");
        goto done;
    }
    printf("fl server: %s, %d clients, %s, %d rounds, broker %s:%d, run %s\n", o->model, o->clients,
           eai_fl_algo_name(o->algo), o->rounds, o->host, o->port, o->run);
    if (o->dp_epsilon > 0)
        printf("fl server: DP to epsilon %g at delta %g, clip %g, noise multiplier %.6f\n",
               o->dp_epsilon, o->dp_delta > 0 ? o->dp_delta : 1e-5,
               o->dp_clip > 0 ? o->dp_clip : 1.0, eai_fl_server_dp_sigma(srv));
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
                    .has_prev = scaffold};
    uint32_t attempt = 0;
    while (eai_fl_server_round(srv) < (uint32_t)o->rounds) {
        const double t0 = cli_now();
        int n = 0;
        if (eai_fl_server_begin_round(srv, ids, &n) != EAI_OK) goto done;
        m.round = eai_fl_server_round(srv);
        m.attempt = attempt;
        m.n_sampled = (uint32_t)n;
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
        for (;;) {
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
        printf("round %3u/%d  updates %d/%d (rejected %d)  train loss %.4f", rep.round + 1,
               o->rounds, rep.n_accepted, rep.n_sampled, rep.n_rejected, rep.mean_train_loss);
        if (o->dp_epsilon > 0) printf("  eps %.6f", eai_fl_server_dp_epsilon(srv));
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
    int r = parse("fl server", argc, argv, &o, server_usage);
    if (r) return r < 0 ? 0 : r;
    if (!o.rounds) return cli_fail_usage("fl server", "needs --rounds R");
    if (o.lr == 0) o.lr = 0.01;
    if (o.epochs == 0) o.epochs = 1;
    return server_run(&o);
}

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
    m->has_prev = h.total_bytes > base;
    m->n_prev = 0;
    if (m->has_prev) {
        if (h.total_bytes < base + 4) return false;
        m->n_prev = get32(pl + base);
        if (m->n_prev > max_ids || h.total_bytes != base + 4 + 4 * (uint64_t)m->n_prev)
            return false;
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
    topic(tp, sizeof tp, o->run, what);
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
    topic(will, sizeof will, o->run, what);
    if (connect_mqtt(o, id, will, &t) != EAI_OK) goto done;
    topic(tp, sizeof tp, o->run, "model/#");
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
    topic(manifest_topic, sizeof manifest_topic, o->run, "model/manifest");
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
    int r = parse("fl client", argc, argv, &o, client_usage);
    if (r) return r < 0 ? 0 : r;
    if (o.id < 0 || o.id >= o.clients)
        return cli_fail_usage("fl client", "needs --id K in [0, %d)", o.clients);
    return client_run(&o);
}
