/* The trainer object shared by engine.c (graph, tape, losses), optim.c
 * (optimizers, schedules) and fit.c (epochs over a data set). Private to
 * src/train.
 *
 * State layout: one flat float vector `state` of n_state floats holding every
 * parameter tensor (trainable ones first, n_train floats, in initializer
 * order; then frozen parameters and buffers such as BN running statistics);
 * `grads` has n_train floats, one per trainable float. */
#ifndef EAI_TRAINER_IMPL_H
#define EAI_TRAINER_IMPL_H

#include "train/train_impl.h"

typedef struct eai__tparam {
    const char *name; /* borrowed from the graph */
    int value;        /* graph value index */
    size_t offset, count;
    bool trainable;
} eai__tparam_t;

/* Optimizer state (optim.c). m1: momentum buffer (SGD) or first moment
 * (Adam); m2: second moment (Adam only, NULL otherwise). */
typedef struct eai__optim {
    eai_optim_opts_t o; /* defaults resolved */
    float *m1, *m2;
    int64_t t; /* updates done since the last reset */
} eai__optim_t;

struct eai_trainer {
    eai_allocator_t alloc;
    eai_model_t *owned; /* loaded by eai_trainer_load, else NULL */
    const eai__graph_t *g;
    eai_loss_t loss;
    int batch;

    eai__tval_t *vals;   /* one per graph value */
    eai__tval_t **links; /* in/out pointer arrays of every tnode */
    eai__tnode_t *nodes;
    int n_nodes; /* nodes run per step (a folded Softmax excluded) */
    bool softmax_folded;
    int in_val, out_val, logit_val;  /* graph input, graph output, loss input */
    int64_t sample_numel, out_numel; /* per sample */

    float *state, *grads;
    size_t n_state, n_train;
    eai__tparam_t *params;
    int n_params;

    eai__optim_t opt;
    eai__tctx_t ctx;
    eai_threadpool_t *own_pool; /* made for opts.threads > 1 without opts.pool */
    uint64_t rng[4];

    eai_grad_hook_fn hook;
    void *hook_user;
    void (*progress)(const eai_fit_progress_t *p, void *user);
    void *progress_user;

    /* fit/evaluate batch buffers (batch samples, labels or targets) */
    float *xbuf;
    void *ybuf;

    /* the ONNX file the trainer was loaded from (save_onnx rewrites it) */
    void *onnx;
    size_t onnx_bytes;
};

/* optim.c */
eai_status_t eai__optim_init(eai_trainer_t *t, const eai_optim_opts_t *o);
void eai__optim_free(eai_trainer_t *t);
/* Learning rate of the next update (schedule and warmup applied). */
float eai__optim_lr(const eai_trainer_t *t);
/* One update of state[0..n_train) from grads. */
void eai__optim_update(eai_trainer_t *t);

#endif
