/* Training internals: the contract between the trainer (engine.c: tape,
 * parameters, losses, optimizers) and the per-op forward/backward kernels
 * (ops_*.c). Private to src/train.
 *
 * The trainer turns every graph value into a tval. Activations own buffers
 * sized for the largest batch; parameters point into the flat state and
 * gradient vectors; non-float constants (Reshape shapes, axes) point at the
 * graph's data and have no gradient. Every node gets a tnode whose op is
 * looked up by name with eai__top_find.
 *
 * Per step the engine: sets the input's shape (dim 0 = batch n), calls
 * infer+forward on every node in order, seeds the loss gradient, zeroes the
 * other activation grads, and calls backward in reverse order. backward
 * ACCUMULATES (+=) into in[i]->grad for every input whose grad is non-NULL
 * (NULL: no gradient needed, e.g. the data input or a frozen parameter), so
 * values consumed twice work.
 */
#ifndef EAI_TRAIN_IMPL_H
#define EAI_TRAIN_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgeai/threadpool.h"
#include "edgeai/train.h"
#include "model/graph.h"

typedef struct eai__tval {
    const eai__value_t *v; /* the graph value (name, dtype, const data) */
    eai__shape_t shape;    /* concrete shape for the current batch */
    float *data;           /* F32 values (activations, parameters); NULL for non-float consts */
    float *grad;           /* same size as data, or NULL: no gradient flows here */
    size_t cap;            /* floats allocated for data (and grad) */
    bool is_param;         /* data/grad live in the flat state/gradient vectors */
} eai__tval_t;

typedef struct eai__tctx {
    eai_threadpool_t *pool; /* may be NULL: the caller's thread only */
    int threads;            /* eai_threadpool_size(pool) */
    bool training;          /* step (true) or eval (false): BN, Dropout */
    uint64_t *rng;          /* xoshiro-style state for Dropout (eai__train_rand) */
    /* Scratch: `threads` slices of scratch_bytes (= max over nodes of what
     * prepare asked for), scratch_stride bytes apart; slice 0 at scratch.
     * A kernel running as share ith of a job uses slice ith only. */
    float *scratch;
    size_t scratch_bytes, scratch_stride;
} eai__tctx_t;

struct eai__top;

typedef struct eai__tnode {
    const eai__graph_t *g;
    const eai__node_t *node;
    const struct eai__top *op;
    int n_in, n_out;
    eai__tval_t **in; /* NULL entries for absent optional inputs */
    eai__tval_t **out;
    void *state; /* op-private: parsed attributes, saved masks/indices/stats */
} eai__tnode_t;

typedef struct eai__top {
    const char *name; /* ONNX op type, default domain */
    /* Parses attributes into n->state (allocated with a), checks inputs,
     * and reports the scratch this node needs at the largest batch
     * (in[0]->shape holds it when prepare runs). Errors name the node. */
    eai_status_t (*prepare)(eai__tnode_t *n, const eai_allocator_t *a, size_t *scratch_bytes);
    /* Sets out[i]->shape from the inputs' current shapes (batch may be
     * smaller than at prepare). Never allocates. */
    eai_status_t (*infer)(eai__tnode_t *n);
    /* Computes outputs; in training mode saves what backward needs in state
     * (sized at prepare for the largest batch: no allocation here). */
    eai_status_t (*forward)(eai__tnode_t *n, eai__tctx_t *c);
    /* Accumulates input gradients from out[i]->grad. */
    eai_status_t (*backward)(eai__tnode_t *n, eai__tctx_t *c);
    /* Frees n->state. May be NULL. */
    void (*release)(eai__tnode_t *n, const eai_allocator_t *a);
    /* Indices of inputs that are parameters updated by the optimizer only
     * (e.g. BN running mean/var are updated by forward, never by gradients):
     * bit i set = input i is a buffer, not trainable. */
    unsigned buffer_inputs;
} eai__top_t;

/* The op table (ops_registry.c); NULL when `name` has no gradient. */
const eai__top_t *eai__top_find(const char *name);
/* Calls fn for every trainable op name (docs, `edgeai ops --train`). */
void eai__top_foreach(void (*fn)(const char *name, void *user), void *user);

/* Uniform float in [0, 1) from the trainer's generator (splitmix/xoshiro). */
float eai__train_rand(uint64_t *state);

/* Runs fn(ctx, ith, nth) on every thread of c's pool when `work` (about
 * the floats an op touches or its multiply-adds) is worth a dispatch and the
 * pool has more than one thread; otherwise once, fn(ctx, 0, 1), on the
 * caller. Returns the nth it used. The choice depends only on work and the
 * pool size, so a given thread count always splits the same way. */
int eai__train_par(const eai__tctx_t *c, int64_t work, eai_task_fn fn, void *ctx);

/* Share ith of nth of [0, n): [*lo, *hi), with inner boundaries rounded to
 * multiples of `align` (>= 1) so split GEMMs keep whole SIMD panels. */
static inline void eai__train_split(int64_t n, int ith, int nth, int64_t align, int64_t *lo,
                                    int64_t *hi)
{
    int64_t units = (n + align - 1) / align;
    int64_t a = units * ith / nth * align, b = units * (ith + 1) / nth * align;
    *lo = a < n ? a : n;
    *hi = ith == nth - 1 || b > n ? n : b;
}

/* Slice ith of the per-thread scratch. */
static inline float *eai__train_scratch(const eai__tctx_t *c, int ith)
{
    return (float *)(void *)((char *)c->scratch + (size_t)ith * c->scratch_stride);
}

/* C[m x n] (+)= A[m x k] * B[k x n], row-major, with optional transposes,
 * through OpenBLAS (cblas_sgemm). beta 0 overwrites, 1 accumulates. */
void eai__train_gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a,
                     int lda, const float *b, int ldb, float beta, float *c, int ldc);

#endif
