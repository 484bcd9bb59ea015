/* Federated learning internals shared by strategy.c, server.c, sim.c and
 * hier.c: a seeded generator and the server hooks the simulator's hierarchy
 * needs. Private to src/fl. */
#ifndef EAI_FL_IMPL_H
#define EAI_FL_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "edgeai/fl.h"

/* splitmix64 (Steele et al. 2014): one 64-bit state, good enough to seed
 * sampling and dropout and identical on every platform. */
static inline uint64_t eai__fl_mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A seed derived from (seed, a, b, c): the same triple always gives the same
 * stream, different triples independent ones. */
static inline uint64_t eai__fl_seed(uint64_t seed, uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t s = seed;
    uint64_t h = eai__fl_mix(&s);
    s = h ^ (a * 0xD1B54A32D192ED03ull);
    h = eai__fl_mix(&s);
    s = h ^ (b * 0xABC98388FB8FAC03ull);
    h = eai__fl_mix(&s);
    s = h ^ (c * 0x8CB92BA72F3D8DD7ull);
    return eai__fl_mix(&s);
}

/* Uniform double in [0, 1). */
static inline double eai__fl_uniform(uint64_t *s)
{
    return (double)(eai__fl_mix(s) >> 11) * 0x1.0p-53;
}

/* Replaces the server's global model (hierarchy: a gateway receiving the
 * cloud's model). Not allowed while a round is open (EAI_E_STATE). */
eai_status_t eai__fl_server_set_global(eai_fl_server_t *s, const float *global);
/* Clients sampled per round: ceil(fraction * n_clients), at least
 * min_clients, at most n_clients. */
int eai__fl_server_n_sample(const eai_fl_server_t *s);

/* DP-FedAvg's two steps, shared by the simulator's private path and the
 * server's DP mode so both compute the same bits. row = clip(x - g) to L2
 * norm clip; x = g + sum / m + N(0, (sigma clip / m)^2) from `seed`. */
void eai__fl_dp_row(const float *g, const float *x, size_t n, double clip, float *row);
void eai__fl_dp_model(const float *g, const float *sum, size_t n, int m, double sigma, double clip,
                      uint64_t seed, float *x);
/* The noise seed of round `round`, attempt `attempt` at aggregation node
 * `node` (0 when flat). */
static inline uint64_t eai__fl_dp_noise_seed(uint64_t seed, uint32_t round, uint32_t node,
                                             uint32_t attempt)
{
    return eai__fl_seed(seed, 0x4e4f4953 /* NOIS */, round, (uint64_t)node * 1024 + attempt);
}

/* Extra state a checkpoint carries for the code driving the server (the
 * simulator's SCAFFOLD c_i): `fn` is called while the checkpoint is written
 * after a completed round and sets *data (valid until its next call) and *n.
 * Checkpoints with extra bytes are version 2; without, version 1 as before. */
typedef eai_status_t (*eai__fl_ckpt_extra_fn)(void *user, const void **data, size_t *n);
void eai__fl_server_set_ckpt_extra(eai_fl_server_t *s, eai__fl_ckpt_extra_fn fn, void *user);
/* The extra bytes of the checkpoint resumed from (borrowed from s); NULL and
 * *n = 0 when none. */
const void *eai__fl_server_ckpt_extra(const eai_fl_server_t *s, size_t *n);

#endif
