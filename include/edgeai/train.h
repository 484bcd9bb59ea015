/* On-device training: a trainer derived from an ONNX inference graph.
 *
 *   eai_trainer_opts_t o = {.batch = 64, .loss = EAI_LOSS_XENT,
 *                           .optim = {.kind = EAI_OPT_SGD, .lr = 0.01f, .momentum = 0.9f}};
 *   eai_trainer_t *t;
 *   EAI_TRY(eai_trainer_load("cnn.onnx", &o, &t));
 *   eai_train_stats_t st;
 *   EAI_TRY(eai_trainer_fit(t, train_ds, NULL, 0, 1, 42, &st));   // one epoch
 *   EAI_TRY(eai_trainer_save_onnx(t, "cnn_trained.onnx"));
 *   eai_trainer_destroy(t);
 *
 * Floating-point initializers become parameters; the graph's first input is
 * the sample batch (its first axis is the batch), its first output the
 * prediction (logits for cross-entropy; a trailing Softmax is folded into the
 * loss). BatchNormalization runs in training mode during steps (batch
 * statistics, running statistics updated) and in inference mode in eval;
 * Dropout is active only in steps.
 *
 * All model state lives in one flat float vector, trainable parameters first
 * (n_trainable floats, in initializer order), then frozen parameters and
 * buffers (BN running mean/var): that vector is what federated learning sends.
 * GEMM-heavy work (Conv via im2col, Gemm, MatMul) goes through OpenBLAS,
 * which the trainer keeps single-threaded: with opts.threads > 1 (or a pool)
 * the kernels split their own work (Conv, Gemm over the batch, Relu and the
 * pools over elements) on an eai_threadpool, which is faster than OpenBLAS's
 * threads on the small GEMMs of edge CNNs. Results are deterministic for a
 * given thread count; Conv's weight and bias gradients are summed per thread
 * and then in thread order, so 1 and N threads differ by float rounding only.
 */
#ifndef EDGEAI_TRAIN_H
#define EDGEAI_TRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgeai/dataset.h"
#include "edgeai/model.h"
#include "edgeai/status.h"
#include "edgeai/threadpool.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum eai_loss {
    EAI_LOSS_XENT = 0, /* softmax cross-entropy on logits, int32 labels; mean over batch */
    EAI_LOSS_MSE,      /* mean squared error against float targets shaped like the output */
} eai_loss_t;

typedef enum eai_optim_kind {
    EAI_OPT_SGD = 0, /* momentum (PyTorch's form: v = m*v + g; w -= lr*v), L2 weight decay */
    EAI_OPT_ADAM,    /* L2 weight decay added to the gradient */
    EAI_OPT_ADAMW,   /* decoupled weight decay */
} eai_optim_kind_t;

typedef enum eai_lr_sched {
    EAI_LR_CONST = 0,
    EAI_LR_STEP,   /* lr * gamma^(floor(step / step_size)) */
    EAI_LR_COSINE, /* cosine from lr to min_lr over total_steps */
    EAI_LR_EXP,    /* lr * gamma^step */
} eai_lr_sched_t;

typedef struct eai_optim_opts {
    eai_optim_kind_t kind;
    float lr;                /* 0 means 0.01 */
    float momentum;          /* SGD */
    bool nesterov;           /* SGD */
    float weight_decay;      /* see kind */
    float beta1, beta2, eps; /* Adam; 0 means 0.9, 0.999, 1e-8 */
    eai_lr_sched_t sched;
    int64_t step_size, total_steps, warmup_steps; /* optimizer steps */
    float gamma, min_lr;
} eai_optim_opts_t;

/* Called after backward, before the optimizer update, with the flat trainable
 * parameters and their gradients (n = n_trainable floats); may change grads.
 * FedProx adds mu * (w - w_global), SCAFFOLD adds c - c_i here. */
typedef void (*eai_grad_hook_fn)(void *user, const float *params, float *grads, size_t n);

typedef struct eai_trainer_opts {
    int batch; /* largest batch a step takes; 0 means 32 */
    eai_loss_t loss;
    eai_optim_opts_t optim;
    /* Initializers kept fixed: exact names or prefixes ending in '*'. */
    const char *const *frozen;
    int n_frozen;
    int threads;           /* kernel threads; 0 or 1: the caller's; n > 1: own pool of n */
    uint64_t seed;         /* Dropout masks */
    eai_allocator_t alloc; /* zero: libc */
    /* Borrowed, must outlive the trainer; overrides threads. The trainer
     * runs one job at a time on it, from the thread that calls step/fit. */
    eai_threadpool_t *pool;
} eai_trainer_opts_t;

typedef struct eai_trainer eai_trainer_t;

/* Loads `path` (ONNX; borrowed for the call) without the inference passes and
 * derives the training graph. EAI_E_UNSUPPORTED names the first node whose op
 * has no gradient; EAI_E_IO / EAI_E_FORMAT as eai_model_load. */
EAI_API eai_status_t eai_trainer_load(const char *path, const eai_trainer_opts_t *opts,
                                      eai_trainer_t **out);
/* Same from a loaded model, which must have been loaded with no_optimize
 * (EAI_E_INVALID otherwise) and must outlive the trainer. */
EAI_API eai_status_t eai_trainer_create(const eai_model_t *m, const eai_trainer_opts_t *opts,
                                        eai_trainer_t **out);
EAI_API void eai_trainer_destroy(eai_trainer_t *t);

typedef struct eai_step_result {
    double loss;     /* mean over the batch */
    int64_t correct; /* XENT: argmax == label count; MSE: 0 */
    int64_t n;       /* samples */
} eai_step_result_t;

/* One optimisation step on n (1..batch) samples: x holds n samples (float32,
 * the input's shape without batch), y n int32 labels (XENT) or n outputs'
 * worth of float targets (MSE). Never allocates. */
EAI_API eai_status_t eai_trainer_step(eai_trainer_t *t, const float *x, const void *y, int n,
                                      eai_step_result_t *res);
/* Forward only, inference mode, no update; `out` (may be NULL) receives the
 * n predictions (the first output, n * output numel floats). */
EAI_API eai_status_t eai_trainer_eval(eai_trainer_t *t, const float *x, const void *y, int n,
                                      eai_step_result_t *res, float *out);

typedef struct eai_train_stats {
    double loss;     /* mean over samples */
    double accuracy; /* XENT: fraction correct; else 0 */
    int64_t n_samples, n_steps;
    double seconds;
} eai_train_stats_t;

typedef struct eai_fit_progress {
    int epoch, epochs;
    int64_t step, steps_per_epoch;
    double loss, accuracy; /* running means over this epoch so far */
} eai_fit_progress_t;

/* Trains `epochs` passes over ds's samples idx[0..n) (idx NULL: all), shuffled
 * with `seed` each epoch, in batches of opts.batch (the last one smaller).
 * `st` (may be NULL) gets the last epoch's figures. */
EAI_API eai_status_t eai_trainer_fit(eai_trainer_t *t, const eai_dataset_t *ds, const int32_t *idx,
                                     int64_t n, int epochs, uint64_t seed, eai_train_stats_t *st);
/* Evaluates on ds's samples idx[0..n) (idx NULL: all). */
EAI_API eai_status_t eai_trainer_evaluate(eai_trainer_t *t, const eai_dataset_t *ds,
                                          const int32_t *idx, int64_t n, eai_train_stats_t *st);
/* Progress of fit (per step; may be NULL). Called on the caller's thread. */
EAI_API void eai_trainer_set_progress(eai_trainer_t *t,
                                      void (*fn)(const eai_fit_progress_t *p, void *user),
                                      void *user);

/* ---- flat state (what federated learning exchanges) ---- */
EAI_API size_t eai_trainer_n_params(const eai_trainer_t *t);    /* whole state */
EAI_API size_t eai_trainer_n_trainable(const eai_trainer_t *t); /* its prefix */
/* Borrowed pointer to the live state (valid while t lives; writes take effect). */
EAI_API float *eai_trainer_params(eai_trainer_t *t);
EAI_API void eai_trainer_get_params(const eai_trainer_t *t, float *dst);
EAI_API void eai_trainer_set_params(eai_trainer_t *t, const float *src);
/* Tensor i of the state: its initializer name, offset and count in floats. */
typedef struct eai_param_info {
    const char *name; /* borrowed */
    size_t offset, count;
    bool trainable;
} eai_param_info_t;
EAI_API int eai_trainer_n_tensors(const eai_trainer_t *t);
EAI_API eai_status_t eai_trainer_tensor_info(const eai_trainer_t *t, int i, eai_param_info_t *out);

/* Forgets optimizer state (momentum, Adam moments) and the schedule's step. */
EAI_API void eai_trainer_reset_optim(eai_trainer_t *t);
/* Changes the learning rate (the schedule's base). */
EAI_API void eai_trainer_set_lr(eai_trainer_t *t, float lr);
EAI_API void eai_trainer_set_grad_hook(eai_trainer_t *t, eai_grad_hook_fn fn, void *user);

/* Writes the model with the current parameters as ONNX (the imported graph,
 * initializers replaced), atomically: a failed write leaves `path` as it was. */
EAI_API eai_status_t eai_trainer_save_onnx(const eai_trainer_t *t, const char *path);

#ifdef __cplusplus
}
#endif

#endif
