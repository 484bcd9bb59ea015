/* Secure aggregation across processes for `edgeai fl server/client
 * --secure-agg`: the SecAgg party objects (edgeai/secagg.h) driven by FL wire
 * frames (EAI_FLMSG_SA_*, edgeai/flmsg.h) over MQTT. The one idea: a client's
 * update leaves it only masked; the server sums masked inputs, relays
 * encrypted share boxes it cannot open, and for each client asks the
 * survivors for exactly one of its two secrets (the self-mask seed if its
 * input arrived, the mask key if it dropped), so it learns the sum and
 * nothing else. Each phase ends when every expected client answered or is
 * known dead (its last will), or after --round-timeout seconds. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "edgeai/secagg.h"
#include "fl/fl_impl.h" /* DP-FedAvg's row and model steps, bit for bit the simulator's */
#include "fl_net.h"

/* Publishes data[0..total) as frames of h->type, QoS 1, not retained; only
 * SA_MASKED may need several chunks. */
static eai_status_t publish_bytes(eai_transport_t *t, const char *topic, const eai_flmsg_hdr_t *h,
                                  const uint8_t *data, size_t total, size_t chunk)
{
    if (h->type != EAI_FLMSG_SA_MASKED || chunk == 0) chunk = EAI_FLMSG_MAX_CHUNK;
    const uint32_t nc = eai_flmsg_chunk_count(total, chunk);
    if (nc == 0) return eai_fail(EAI_E_INVALID, "fl secagg: %zu bytes exceed the format", total);
    const size_t cap = EAI_FLMSG_HEADER_BYTES + (total < chunk ? total : chunk);
    uint8_t *buf = malloc(cap);
    if (!buf) return eai_fail(EAI_E_NOMEM, "fl secagg: out of memory");
    eai_status_t st = EAI_OK;
    for (uint32_t i = 0; i < nc && st == EAI_OK; i++) {
        size_t len;
        st = eai_flmsg_encode(h, data, total, chunk, i, buf, cap, &len);
        if (st == EAI_OK) st = eai_transport_publish(t, topic, buf, len, 1, false);
    }
    free(buf);
    return st;
}

static eai_status_t publish_table(eai_transport_t *t, const char *topic, uint8_t type,
                                  uint32_t round, uint32_t client, uint32_t attempt, int n,
                                  unsigned index, const bool *present, const uint8_t *rows)
{
    size_t cap = eai_flmsg_sa_bytes(type, n, (size_t)n), len;
    uint8_t *pl = malloc(cap ? cap : 1);
    if (!pl) return eai_fail(EAI_E_NOMEM, "fl secagg: out of memory");
    eai_status_t st = eai_flmsg_sa_pack(type, attempt, n, index, present, rows, pl, cap, &len);
    eai_flmsg_hdr_t h = {.type = type, .round = round, .client = client, .sender = client};
    if (st == EAI_OK) st = publish_bytes(t, topic, &h, pl, len, 0);
    free(pl);
    return st;
}

/* ---------------------------------------------------------------- client */

enum { CL_IDLE, CL_ADVERTISED, CL_SHARED, CL_MASKED, CL_DONE };

struct fl_sa_client {
    const net_opts_t *o;
    eai_secagg_client_t *sc; /* NULL when no attempt is in progress */
    uint32_t round, attempt;
    int n, idx, phase;
    size_t len;
    float *row;     /* len: the weighted delta and its weight */
    uint32_t *y;    /* len: the masked row */
    uint8_t *rows;  /* n * EAI_SECAGG_BOX_BYTES: keys, boxes or shares, dense */
    uint8_t *rows2; /* the same size: the boxes this client writes */
    bool *flags, *flags2;
    int64_t n_samples, steps;
    double loss;
    char topic[256]; /* update/<id> */
};

eai_status_t fl_sa_client_create(const net_opts_t *o, fl_sa_client_t **out)
{
    fl_sa_client_t *c = calloc(1, sizeof *c);
    if (!c) return eai_fail(EAI_E_NOMEM, "fl client: out of memory");
    c->o = o;
    char what[64];
    snprintf(what, sizeof what, "update/%d", o->id);
    fl_topic(c->topic, sizeof c->topic, o->run, what);
    *out = c;
    return EAI_OK;
}

static void client_abort(fl_sa_client_t *c)
{
    eai_secagg_client_destroy(c->sc); /* wipes the secrets */
    c->sc = NULL;
    c->phase = CL_IDLE;
}

/* The buffers sized by the round's vector length and party count. */
static void client_free_buffers(fl_sa_client_t *c)
{
    free(c->row);
    free(c->y);
    free(c->rows);
    free(c->rows2);
    free(c->flags);
    free(c->flags2);
}

void fl_sa_client_destroy(fl_sa_client_t *c)
{
    if (!c) return;
    client_abort(c);
    client_free_buffers(c);
    free(c);
}

/* --crash-after: die like a killed process (no DISCONNECT, so the broker
 * publishes the last will) once the phase's message is at the broker. */
static void maybe_crash(fl_sa_client_t *c, eai_transport_t *t, const char *phase)
{
    if (!c->o->crash_after || strcmp(c->o->crash_after, phase) != 0) return;
    eai_transport_flush(t, 10000);
    printf("fl client %d: --crash-after %s: killing myself\n", c->o->id, phase);
    fflush(stdout);
    raise(SIGKILL);
}

eai_status_t fl_sa_client_start(fl_sa_client_t *c, eai_transport_t *t, const manifest_t *m,
                                const float *g, const eai_fl_update_t *up, int64_t n_max, size_t np)
{
    client_abort(c);
    int idx = -1;
    for (uint32_t i = 0; i < m->n_sampled; i++)
        if (m->ids[i] == (uint32_t)c->o->id) idx = (int)i;
    if (idx < 0) return eai_fail(EAI_E_STATE, "fl client %d: not sampled", c->o->id);
    const int n = (int)m->n_sampled;
    const size_t len = np + 1;
    if (len != c->len || n != c->n) {
        client_free_buffers(c);
        c->row = malloc(len * sizeof *c->row);
        c->y = malloc(len * sizeof *c->y);
        c->rows = malloc((size_t)n * EAI_SECAGG_BOX_BYTES);
        c->rows2 = malloc((size_t)n * EAI_SECAGG_BOX_BYTES);
        c->flags = malloc((size_t)n * sizeof(bool));
        c->flags2 = malloc((size_t)n * sizeof(bool));
        c->len = len;
        c->n = n;
        if (!c->row || !c->y || !c->rows || !c->rows2 || !c->flags || !c->flags2) {
            c->len = 0;
            return eai_fail(EAI_E_NOMEM, "fl client: out of memory for secure aggregation");
        }
    }
    /* the simulator's private row (src/fl/hier.c): w (x_i - x) with
     * w = n_i / n_max, or with DP the delta clipped to L2 norm clip and
     * w = 1 (the server cannot clip a masked vector, so the client does),
     * clamped to the fixed-point range */
    const double w = m->dp ? 1.0 : (double)up->n_samples / (double)(n_max > 0 ? n_max : 1);
    const float r = m->sa_range;
    if (m->dp)
        eai__fl_dp_row(g, up->params, np, (double)m->dp_clip, c->row);
    else
        for (size_t j = 0; j < np; j++)
            c->row[j] = (float)(w * ((double)up->params[j] - (double)g[j]));
    for (size_t j = 0; j < np; j++)
        c->row[j] = fmaxf(-r, fminf(r, c->row[j]));
    c->row[np] = (float)w;
    c->n_samples = up->n_samples;
    c->steps = up->local_steps;
    c->loss = isfinite(up->train_loss) ? up->train_loss : 0;
    c->round = m->round;
    c->attempt = m->attempt;
    c->idx = idx;
    eai_secagg_opts_t so = {.threshold = (int)m->sa_threshold,
                            .range = (double)m->sa_range,
                            .frac_bits = (int)m->sa_frac_bits};
    /* seed 0: keys from the OS; the sum does not depend on them */
    EAI_TRY(eai_secagg_client_create(idx, n, len, &so, 0, &c->sc));
    EAI_TRY(eai_secagg_client_advertise(c->sc, c->rows + (size_t)idx * EAI_SECAGG_ADV_BYTES));
    memset(c->flags, 0, (size_t)n * sizeof(bool));
    c->flags[idx] = true;
    EAI_TRY(publish_table(t, c->topic, EAI_FLMSG_SA_ADVERTISE, c->round, (uint32_t)c->o->id,
                          c->attempt, n, (unsigned)idx, c->flags, c->rows));
    c->phase = CL_ADVERTISED;
    maybe_crash(c, t, "advertise");
    return EAI_OK;
}

/* A protocol error of this attempt: reported, the attempt abandoned (the
 * server will see this client as dropped); not fatal to the process. */
static eai_status_t client_drop(fl_sa_client_t *c, const char *what)
{
    fprintf(stderr, "fl client %d: round %u attempt %u: secure aggregation %s: %s\n", c->o->id,
            c->round + 1, c->attempt, what, eai_last_error());
    client_abort(c);
    return EAI_OK;
}

static eai_status_t on_peers(fl_sa_client_t *c, eai_transport_t *t, const eai_flmsg_sa_t *sa)
{
    eai_flmsg_sa_unpack(sa, c->flags, c->rows);
    if (eai_secagg_client_share(c->sc, c->rows, c->flags, c->rows2, c->flags2) != EAI_OK)
        return client_drop(c, "share");
    EAI_TRY(publish_table(t, c->topic, EAI_FLMSG_SA_SHARES, c->round, (uint32_t)c->o->id,
                          c->attempt, c->n, (unsigned)c->idx, c->flags2, c->rows2));
    c->phase = CL_SHARED;
    maybe_crash(c, t, "shares");
    return EAI_OK;
}

static eai_status_t on_bundle(fl_sa_client_t *c, eai_transport_t *t, const eai_flmsg_sa_t *sa)
{
    eai_flmsg_sa_unpack(sa, c->flags, c->rows);
    for (int u = 0; u < c->n; u++)
        if (c->flags[u] && eai_secagg_client_receive(
                               c->sc, u, c->rows + (size_t)u * EAI_SECAGG_BOX_BYTES) != EAI_OK)
            return client_drop(c, "receive");
    if (eai_secagg_client_mask(c->sc, c->row, c->y) != EAI_OK) return client_drop(c, "mask");
    const size_t total = eai_flmsg_sa_bytes(EAI_FLMSG_SA_MASKED, c->n, c->len);
    uint8_t *pl = malloc(total);
    if (!pl) return eai_fail(EAI_E_NOMEM, "fl client: out of memory");
    size_t nb;
    eai_status_t st =
        eai_flmsg_sa_pack_masked(c->attempt, c->n, (unsigned)c->idx, c->y, c->len, pl, total, &nb);
    eai_flmsg_hdr_t h = {.type = EAI_FLMSG_SA_MASKED,
                         .round = c->round,
                         .client = (uint32_t)c->o->id,
                         .sender = (uint32_t)c->o->id,
                         .n_samples = c->n_samples,
                         .local_steps = c->steps,
                         .train_loss = c->loss};
    if (st == EAI_OK) st = publish_bytes(t, c->topic, &h, pl, nb, (size_t)c->o->chunk);
    free(pl);
    EAI_TRY(st);
    c->phase = CL_MASKED;
    maybe_crash(c, t, "masked");
    return EAI_OK;
}

static eai_status_t on_unmask_req(fl_sa_client_t *c, eai_transport_t *t, const eai_flmsg_sa_t *sa)
{
    eai_flmsg_sa_unpack(sa, c->flags, NULL);
    if (eai_secagg_client_unmask(c->sc, c->flags, c->rows, c->flags2) != EAI_OK)
        return client_drop(c, "unmask");
    int k = 0, alive = 0;
    for (int u = 0; u < c->n; u++) {
        k += c->flags2[u];
        alive += c->flags[u];
    }
    EAI_TRY(publish_table(t, c->topic, EAI_FLMSG_SA_UNMASK, c->round, (uint32_t)c->o->id,
                          c->attempt, c->n, (unsigned)c->idx, c->flags2, c->rows));
    c->phase = CL_DONE;
    printf("fl client %d: round %u: secure aggregation: masked input and %d shares sent, %d of "
           "%d alive\n",
           c->o->id, c->round + 1, k, alive, c->n);
    fflush(stdout);
    return EAI_OK;
}

eai_status_t fl_sa_client_on_frame(fl_sa_client_t *c, eai_transport_t *t, const uint8_t *frame,
                                   size_t n)
{
    eai_flmsg_hdr_t h;
    const uint8_t *pl;
    if (eai_flmsg_decode(frame, n, &h, &pl) != EAI_OK) {
        fprintf(stderr, "fl client %d: secure aggregation frame: %s\n", c->o->id, eai_last_error());
        return EAI_OK;
    }
    eai_flmsg_sa_t sa;
    if (h.type == EAI_FLMSG_SA_MASKED ||
        eai_flmsg_sa_parse(h.type, pl, h.chunk_bytes, &sa) != EAI_OK)
        return EAI_OK; /* not a table addressed to clients (decode checked tables) */
    /* another round's or attempt's message, or one for a step already taken
     * (QoS 1 redelivery): nothing to do */
    if (!c->sc || h.round != c->round || sa.attempt != c->attempt) return EAI_OK;
    if (sa.n != (unsigned)c->n) {
        eai_fail(EAI_E_FORMAT, "%s for %u parties, the manifest has %d",
                 eai_flmsg_type_name(h.type), sa.n, c->n);
        return client_drop(c, "message");
    }
    switch (h.type) {
    case EAI_FLMSG_SA_PEERS:
        return c->phase == CL_ADVERTISED ? on_peers(c, t, &sa) : EAI_OK;
    case EAI_FLMSG_SA_BUNDLE:
        return c->phase == CL_SHARED && sa.index == (unsigned)c->idx ? on_bundle(c, t, &sa)
                                                                     : EAI_OK;
    case EAI_FLMSG_SA_UNMASK_REQ:
        return c->phase == CL_MASKED ? on_unmask_req(c, t, &sa) : EAI_OK;
    default:
        return EAI_OK;
    }
}

/* ---------------------------------------------------------------- server */

enum { PH_KEYS, PH_SHARES, PH_MASKED, PH_UNMASK, N_PH };

typedef struct srv {
    eai_transport_t *t;
    const net_opts_t *o;
    const manifest_t *m;
    eai_secagg_server_t *ss;
    eai_flmsg_asm_t *as;
    int n;
    size_t len;
    int *idx_of;   /* o->clients: party index of client k, or -1 */
    bool *offline; /* o->clients */
    bool *got[N_PH];
    int64_t *ns, *steps;
    double *loss;
    uint32_t *y;
    uint8_t *rows; /* n * EAI_SECAGG_BOX_BYTES */
    bool *flags;
    char status_prefix[256];
} srv_t;

static void srv_handle(srv_t *S, const eai_transport_msg_t *msg)
{
    const size_t sp = strlen(S->status_prefix);
    if (!strncmp(msg->topic, S->status_prefix, sp)) {
        long k = strtol(msg->topic + sp, NULL, 10);
        if (k < 0 || k >= S->o->clients) return;
        const bool off = msg->n_bytes == 7 && !memcmp(msg->payload, "offline", 7);
        if (off && !S->offline[k]) printf("fl server: client %ld went offline\n", k);
        S->offline[k] = off; /* anything else there is the client's JOIN */
        return;
    }
    eai_flmsg_msg_t fm;
    bool done;
    if (eai_flmsg_asm_add(S->as, msg->payload, msg->n_bytes, &fm, &done) != EAI_OK) {
        fprintf(stderr, "fl server: %s: %s\n", msg->topic, eai_last_error());
        return;
    }
    if (!done) return;
    const eai_flmsg_hdr_t *h = &fm.hdr;
    if (h->type == EAI_FLMSG_UPDATE_CHUNK) {
        fprintf(stderr,
                "fl server: plain update of client %u refused: this run uses secure "
                "aggregation\n",
                h->client);
        return;
    }
    if (h->round != S->m->round || h->client >= (uint32_t)S->o->clients) return;
    const int idx = S->idx_of[h->client];
    eai_flmsg_sa_t sa;
    if (idx < 0 || eai_flmsg_sa_parse(h->type, fm.data, fm.n_bytes, &sa) != EAI_OK ||
        sa.attempt != S->m->attempt)
        return; /* not sampled, not SecAgg, or an earlier attempt's */
    eai_status_t st = EAI_OK;
    int ph = -1;
    if (sa.n != (unsigned)S->n || sa.index != (unsigned)idx) {
        st = eai_fail(EAI_E_FORMAT, "%u parties, index %u (expected %d, %d)", sa.n, sa.index, S->n,
                      idx);
    } else if (h->type == EAI_FLMSG_SA_ADVERTISE) {
        ph = PH_KEYS;
        st = sa.n_rows == 1 && sa.present[idx]
                 ? eai_secagg_server_advertise(S->ss, idx, sa.rows)
                 : eai_fail(EAI_E_FORMAT, "keys table must hold the sender's row only");
    } else if (h->type == EAI_FLMSG_SA_SHARES) {
        ph = PH_SHARES;
        eai_flmsg_sa_unpack(&sa, S->flags, S->rows);
        st = eai_secagg_server_share(S->ss, idx, S->rows, S->flags);
    } else if (h->type == EAI_FLMSG_SA_MASKED) {
        ph = PH_MASKED;
        if (sa.n_words != S->len) {
            st = eai_fail(EAI_E_FORMAT, "masked input of %zu words, expected %zu", sa.n_words,
                          S->len);
        } else {
            eai_flmsg_sa_get_words(&sa, S->y);
            st = eai_secagg_server_masked(S->ss, idx, S->y);
            S->ns[idx] = h->n_samples;
            S->steps[idx] = h->local_steps;
            S->loss[idx] = h->train_loss;
        }
    } else if (h->type == EAI_FLMSG_SA_UNMASK) {
        ph = PH_UNMASK;
        eai_flmsg_sa_unpack(&sa, S->flags, S->rows);
        st = eai_secagg_server_unmask(S->ss, idx, S->rows, S->flags);
    } else {
        return;
    }
    if (st != EAI_OK)
        fprintf(stderr, "fl server: %s of client %u refused: %s\n", eai_flmsg_type_name(h->type),
                h->client, eai_last_error());
    else if (ph >= 0)
        S->got[ph][idx] = true;
}

/* Waits until every party in expect sent phase ph's message or is offline,
 * or the round timeout (from now) passes. */
static void srv_wait(srv_t *S, int ph, const bool *expect)
{
    const double t0 = cli_now(), limit = S->o->round_timeout;
    for (;;) {
        bool all = true;
        for (int i = 0; i < S->n && all; i++)
            all = !expect[i] || S->got[ph][i] || S->offline[S->m->ids[i]];
        if (all || (limit > 0 && cli_now() - t0 > limit)) return;
        eai_transport_msg_t msg;
        if (eai_transport_recv(S->t, 200, &msg) == EAI_OK) srv_handle(S, &msg);
    }
}

static eai_status_t srv_phases(srv_t *S, const float *g, size_t np, double dp_sigma, float *x,
                               fl_sa_result_t *res)
{
    const int n = S->n;
    const uint32_t B = EAI_FLMSG_BROADCAST;
    char all_topic[256], tp[256], what[64];
    fl_topic(all_topic, sizeof all_topic, S->o->run, "secagg/all");
    for (int i = 0; i < n; i++)
        S->flags[i] = true;
    srv_wait(S, PH_KEYS, S->flags); /* includes local training */
    /* round 0 -> 1: the keys table */
    EAI_TRY(eai_secagg_server_peers(S->ss, S->rows, S->flags));
    EAI_TRY(publish_table(S->t, all_topic, EAI_FLMSG_SA_PEERS, S->m->round, B, S->m->attempt, n,
                          EAI_FLMSG_SA_NOINDEX, S->flags, S->rows));
    srv_wait(S, PH_SHARES, S->got[PH_KEYS]);
    /* round 1 -> 2: each client's bundle of boxes addressed to it */
    for (int v = 0; v < n; v++) {
        if (!S->got[PH_SHARES][v]) continue;
        EAI_TRY(eai_secagg_server_mailbox(S->ss, v, S->rows, S->flags));
        snprintf(what, sizeof what, "secagg/%u", S->m->ids[v]);
        fl_topic(tp, sizeof tp, S->o->run, what);
        EAI_TRY(publish_table(S->t, tp, EAI_FLMSG_SA_BUNDLE, S->m->round, S->m->ids[v],
                              S->m->attempt, n, (unsigned)v, S->flags, S->rows));
    }
    int n_shared = 0;
    eai_secagg_server_counts(S->ss, NULL, &n_shared, NULL, NULL);
    if (n_shared < eai_secagg_server_threshold(S->ss))
        return eai_fail(EAI_E_UNAVAILABLE, "secagg: %d of %d clients sent shares, threshold %d",
                        n_shared, n, eai_secagg_server_threshold(S->ss));
    srv_wait(S, PH_MASKED, S->got[PH_SHARES]);
    /* round 2 -> 3: the survivors; from here on no input is added */
    EAI_TRY(eai_secagg_server_survivors(S->ss, S->flags));
    int alive = 0;
    for (int i = 0; i < n; i++)
        alive += S->flags[i];
    if (S->o->quorum > 0 && alive < S->o->quorum)
        return eai_fail(EAI_E_UNAVAILABLE, "secagg: %d masked inputs, quorum is %d", alive,
                        S->o->quorum);
    EAI_TRY(publish_table(S->t, all_topic, EAI_FLMSG_SA_UNMASK_REQ, S->m->round, B, S->m->attempt,
                          n, EAI_FLMSG_SA_NOINDEX, S->flags, NULL));
    bool *alive_set = S->got[PH_MASKED];
    srv_wait(S, PH_UNMASK, alive_set);
    float *sum = malloc(S->len * sizeof *sum);
    if (!sum) return eai_fail(EAI_E_NOMEM, "fl server: out of memory");
    eai_status_t st = eai_secagg_server_finish(S->ss, sum, NULL);
    if (st == EAI_OK && S->m->dp) {
        /* the simulator's private_submit (src/fl/hier.c) with DP: the fixed
         * denominator is the sampled count (dropped clients are zero rows),
         * the noise seed that of the flat node 0 for this round and attempt */
        eai__fl_dp_model(g, sum, np, n, dp_sigma, (double)S->m->dp_clip,
                         eai__fl_dp_noise_seed(S->m->seed, S->m->round, 0, S->m->attempt), x);
    } else if (st == EAI_OK) {
        /* the simulator's private_submit (src/fl/hier.c), operation for operation */
        const double wsum = sum[np] > 0 ? (double)sum[np] : 1.0;
        for (size_t j = 0; j < np; j++)
            x[j] = (float)((double)sum[j] / wsum);
        for (size_t j = 0; j < np; j++)
            x[j] = (float)((double)g[j] + (double)x[j]);
    }
    if (st == EAI_OK) {
        *res = (fl_sa_result_t){.n_alive = alive, .n_dropped = n - alive};
        eai_secagg_server_counts(S->ss, NULL, NULL, NULL, &res->n_unmasked);
        double loss = 0;
        for (int i = 0; i < n; i++) {
            if (!alive_set[i]) continue;
            res->n_samples += S->ns[i];
            res->local_steps += S->steps[i];
            loss += S->loss[i];
        }
        res->local_steps /= alive > 0 ? alive : 1;
        res->mean_loss = alive > 0 ? loss / alive : 0;
    }
    free(sum);
    return st;
}

eai_status_t fl_sa_server_round(eai_transport_t *t, const net_opts_t *o, const manifest_t *m,
                                const float *global, size_t np, double dp_sigma, bool *offline,
                                float *x, fl_sa_result_t *res)
{
    if (m->dp && (!(dp_sigma > 0) || !isfinite(dp_sigma)))
        return eai_fail(EAI_E_INVALID, "fl secagg: DP with noise multiplier %g", dp_sigma);
    srv_t S = {.t = t, .o = o, .m = m, .n = (int)m->n_sampled, .len = np + 1, .offline = offline};
    fl_topic(S.status_prefix, sizeof S.status_prefix, o->run, "status/");
    const size_t n = (size_t)S.n;
    eai_secagg_opts_t so = {.threshold = (int)m->sa_threshold,
                            .range = (double)m->sa_range,
                            .frac_bits = (int)m->sa_frac_bits};
    /* every sampled client's masked input may be in flight at once, plus
     * its small tables: a frame refused for room would be lost */
    const uint64_t per = (uint64_t)S.len * 4 + S.len / 8 + 64 + n * (EAI_SECAGG_BOX_BYTES + 2);
    eai_flmsg_asm_opts_t ao = {.max_partial = S.n + 8, .max_bytes = (n + 8) * per};
    eai_status_t st = eai_secagg_server_create(S.n, S.len, &so, &S.ss);
    if (st == EAI_OK) st = eai_flmsg_asm_create(&ao, &S.as);
    if (st == EAI_OK) {
        S.idx_of = malloc((size_t)o->clients * sizeof *S.idx_of);
        for (int p = 0; p < N_PH; p++)
            S.got[p] = calloc(n, sizeof(bool));
        S.ns = calloc(n, sizeof *S.ns);
        S.steps = calloc(n, sizeof *S.steps);
        S.loss = calloc(n, sizeof *S.loss);
        S.y = malloc(S.len * sizeof *S.y);
        S.rows = malloc(n * EAI_SECAGG_BOX_BYTES);
        S.flags = malloc(n * sizeof(bool));
        bool ok = S.idx_of && S.ns && S.steps && S.loss && S.y && S.rows && S.flags;
        for (int p = 0; p < N_PH; p++)
            ok = ok && S.got[p];
        if (!ok) st = eai_fail(EAI_E_NOMEM, "fl server: out of memory for secure aggregation");
    }
    if (st == EAI_OK) {
        for (int k = 0; k < o->clients; k++)
            S.idx_of[k] = -1;
        for (int i = 0; i < S.n; i++)
            if (m->ids[i] < (uint32_t)o->clients) S.idx_of[m->ids[i]] = i;
        st = srv_phases(&S, global, np, dp_sigma, x, res);
    }
    eai_secagg_server_destroy(S.ss);
    eai_flmsg_asm_destroy(S.as);
    free(S.idx_of);
    for (int p = 0; p < N_PH; p++)
        free(S.got[p]);
    free(S.ns);
    free(S.steps);
    free(S.loss);
    free(S.y);
    free(S.rows);
    free(S.flags);
    return st;
}
