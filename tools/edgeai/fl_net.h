/* Shared by `edgeai fl server` (cmd_fl_net.c) and `edgeai fl client`
 * (cmd_fl_client.c): the manifest and options, little-endian helpers,
 * topic names, option parsing and the MQTT connection. */
#ifndef EDGEAI_CLI_FL_NET_H
#define EDGEAI_CLI_FL_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "edgeai/fl.h"
#include "edgeai/flmsg.h"
#include "edgeai/transport.h"

#define MANIFEST_FIXED 48

/* Manifest payload, little-endian: final u32, n_params u32, epochs u32,
 * batch u32, algo u32, lr f32, mu f32, momentum f32, seed u64, attempt u32,
 * n_sampled u32, then n_sampled u32 client ids; SCAFFOLD only: n_prev u32
 * and the n_prev ids whose updates round - 1 aggregated; secure aggregation
 * only: the 16-byte block tag "SAGG" u32, threshold u32, frac_bits u32,
 * range f32 (the sampled client at position i is SecAgg party i); secure
 * aggregation with DP only, after it: the 12-byte block tag "SADP" u32,
 * weighting u32 (FL_DP_WEIGHT_UNIT, the one rule defined), clip f32 (finite,
 * > 0). Each optional block ends the manifest when present, and its tag is
 * larger than any count or client id, so a reader strips them from the end;
 * a reader built before the DP block rejects such a manifest (its tail is
 * neither a SecAgg block nor a valid id list) instead of sending an unclipped
 * update. */
#define MANIFEST_SA_TAG   0x47474153u
#define MANIFEST_SA_BYTES 16
#define MANIFEST_DP_TAG   0x50444153u
#define MANIFEST_DP_BYTES 12
#define FL_SA_RANGE       16.0 /* as the simulator's private path (src/fl/hier.c) */
/* DP weighting rule: each row is the client's delta clipped to the manifest's
 * L2 norm, with weight 1 (McMahan et al. 2018's fixed-denominator estimator,
 * as the simulator's private_row) */
#define FL_DP_WEIGHT_UNIT 1u

typedef struct manifest {
    uint32_t round, final, n_params, epochs, batch, algo, attempt, n_sampled, n_prev;
    float lr, mu, momentum;
    uint64_t seed;
    uint32_t *ids;  /* n_sampled */
    uint32_t *prev; /* n_prev */
    bool has_prev;
    bool secagg; /* the SAGG block: the round runs SecAgg */
    uint32_t sa_threshold, sa_frac_bits;
    float sa_range;
    bool dp; /* the SADP block (with secagg only): clients clip their own rows */
    uint32_t dp_weight;
    float dp_clip;
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
    bool secure_agg;         /* server: run rounds through SecAgg (fl_secagg_net.c) */
    const char *crash_after; /* client, testing: SIGKILL itself after sending this SecAgg
                                message (advertise | shares | masked) */
} net_opts_t;

static inline void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void putf(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put32(p, u);
}
static inline float getf(const uint8_t *p)
{
    uint32_t u = get32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline void fl_topic(char *buf, size_t n, const char *run, const char *what)
{
    snprintf(buf, n, "edgeai/fl/%s/%s", run, what);
}

/* Options shared by server and client; returns 0 when parsed, else the exit
 * code. */
int fl_net_parse(const char *cmd, int argc, char **argv, net_opts_t *o, void (*usage)(void));
/* Connects to o->host:o->port as `id` with last will "offline" on `will`
 * (NULL: none). */
eai_status_t fl_net_connect(const net_opts_t *o, const char *id, const char *will,
                            eai_transport_t **t);

/* ---- secure aggregation over MQTT (fl_secagg_net.c) ----
 * Topics under edgeai/fl/<run>/: clients send their SecAgg messages on
 * update/<k> like updates; the server answers on secagg/all (keys table,
 * survivors) and secagg/<k> (client k's bundle of share boxes), QoS 1, not
 * retained. */

/* The server's side of one round attempt, after the manifest and model are
 * out: collects keys, relays shares, sums masked inputs and unmasks. On
 * success writes the round's model to x (np floats: the global plus the
 * weighted mean delta, exactly as the simulator's private path; with m->dp,
 * the global plus the sum of the clipped deltas over the n_sampled, noised
 * with N(0, (dp_sigma clip / n_sampled)^2) from the simulator's noise seed
 * of this round and attempt) and the survivors' counts. EAI_E_UNAVAILABLE
 * (with the reason): too few clients got through some phase; the caller
 * retries the round. offline[k] (o->clients) tracks wills and JOINs across
 * rounds. */
typedef struct fl_sa_result {
    int n_alive, n_dropped, n_unmasked;
    int64_t n_samples, local_steps; /* sum, and mean over survivors */
    double mean_loss;
} fl_sa_result_t;
eai_status_t fl_sa_server_round(eai_transport_t *t, const net_opts_t *o, const manifest_t *m,
                                const float *global, size_t np, double dp_sigma, bool *offline,
                                float *x, fl_sa_result_t *res);

/* The client's side: one round attempt at a time. */
typedef struct fl_sa_client fl_sa_client_t;
eai_status_t fl_sa_client_create(const net_opts_t *o, fl_sa_client_t **out);
void fl_sa_client_destroy(fl_sa_client_t *c);
/* After local training for manifest m: x = the weighted delta row (np + 1
 * floats, weight n_samples / n_max last) from the global g, or with m->dp the
 * delta clipped to L2 norm m->dp_clip with weight 1; advertises keys. */
eai_status_t fl_sa_client_start(fl_sa_client_t *c, eai_transport_t *t, const manifest_t *m,
                                const float *g, const eai_fl_update_t *up, int64_t n_max,
                                size_t np);
/* A frame from secagg/all or secagg/<own id>: advances the protocol. Stale
 * or malformed messages are reported on stderr and ignored (EAI_OK); errors
 * are transport or memory failures. */
eai_status_t fl_sa_client_on_frame(fl_sa_client_t *c, eai_transport_t *t, const uint8_t *frame,
                                   size_t n);

#endif
