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

#endif
