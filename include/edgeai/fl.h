/* Federated learning: clients train locally and send updates, a server
 * aggregates them into the global model with a strategy, round after round.
 *
 * The seed's node, in edgeai:
 *   eai_fl_client_t *c;                       // wraps a trainer and its data
 *   EAI_TRY(eai_fl_client_create(trainer, train_ds, idx, n, id, &c));
 *   EAI_TRY(eai_fl_client_update_global_model(c, global));
 *   eai_fl_update_t up;
 *   EAI_TRY(eai_fl_client_local_training(c, &round_cfg, &up));   // returns the weights
 *
 * The server is transport-agnostic: whoever moves the bytes (the in-process
 * simulator, the MQTT server) calls sample -> submit... -> finish_round.
 * Aggregation sorts accepted updates by client id first, so the result does
 * not depend on arrival order: any transport computes the same model.
 *
 * All vectors are a trainer's flat state (see edgeai/train.h): n_params
 * floats, of which the first n_trainable are trainable.
 */
#ifndef EDGEAI_FL_H
#define EDGEAI_FL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgeai/dataset.h"
#include "edgeai/status.h"
#include "edgeai/train.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum eai_fl_algo {
    EAI_FL_FEDAVG = 0,
    EAI_FL_FEDPROX, /* clients add mu/2 |w - w_global|^2 */
    EAI_FL_FEDADAM, /* server-side Adam on the averaged delta (Reddi et al. 2021) */
    EAI_FL_FEDYOGI,
    EAI_FL_FEDADAGRAD,
    EAI_FL_SCAFFOLD, /* control variates (Karimireddy et al. 2020), option II */
    EAI_FL_FEDNOVA,  /* normalised averaging by local steps (Wang et al. 2020) */
} eai_fl_algo_t;

/* "fedavg", "fedprox", "fedadam", "fedyogi", "fedadagrad", "scaffold", "fednova". */
EAI_API eai_status_t eai_fl_algo_parse(const char *s, eai_fl_algo_t *out);
EAI_API const char *eai_fl_algo_name(eai_fl_algo_t a);

typedef struct eai_fl_strategy_opts {
    eai_fl_algo_t algo;
    float mu;                /* FEDPROX; 0 means 0.01 */
    float server_lr;         /* eta; 0 means 1 (FedAvg family) or 0.01 (FedAdam/Yogi/Adagrad) */
    float beta1, beta2, tau; /* adaptive; 0 means 0.9, 0.99, 1e-3 */
    int population;          /* SCAFFOLD: N, all clients (c += |S|/N mean dc); 0: |S| */
    float local_momentum;    /* FEDNOVA: the clients' SGD momentum rho (a_i's norm); 0: plain SGD */
} eai_fl_strategy_opts_t;

/* What a client sends back after a round. */
typedef struct eai_fl_update {
    uint32_t round, client;
    int64_t n_samples;          /* aggregation weight */
    int64_t local_steps;        /* optimizer steps taken (FedNova's tau_i) */
    const float *params;        /* the client's new state, n_params floats */
    const float *control_delta; /* SCAFFOLD: c_i+ - c_i, n_trainable floats; else NULL */
    double train_loss, train_acc;
    size_t n_params; /* floats in params as received (transports); 0: the receiver's n_params */
} eai_fl_update_t;

typedef struct eai_fl_strategy eai_fl_strategy_t;

EAI_API eai_status_t eai_fl_strategy_create(const eai_fl_strategy_opts_t *o, size_t n_params,
                                            size_t n_trainable, eai_fl_strategy_t **out);
EAI_API void eai_fl_strategy_destroy(eai_fl_strategy_t *s);
/* Replaces global[0..n_params) by the aggregate of u[0..n) (n >= 1), in the
 * order given. Buffers (after n_trainable) are sample-weighted averages for
 * every algorithm. Never allocates. */
EAI_API eai_status_t eai_fl_strategy_aggregate(eai_fl_strategy_t *s, float *global,
                                               const eai_fl_update_t *u, int n);
/* SCAFFOLD's server control variate c (n_trainable floats); NULL otherwise. */
EAI_API const float *eai_fl_strategy_control(const eai_fl_strategy_t *s);
/* Strategy state (adaptive moments, control variate) for checkpoints. */
EAI_API size_t eai_fl_strategy_state_floats(const eai_fl_strategy_t *s);
EAI_API float *eai_fl_strategy_state(eai_fl_strategy_t *s);

/* ---- client ---- */

typedef struct eai_fl_round_cfg {
    uint32_t round;
    eai_fl_algo_t algo;
    int epochs;                  /* local epochs E */
    int batch;                   /* B; 0: the trainer's */
    float lr;                    /* 0: the trainer's */
    float mu;                    /* FEDPROX */
    const float *server_control; /* SCAFFOLD c (n_trainable), borrowed for the call */
    uint64_t seed;               /* shuffling; combine with round and client id */
    /* The local SGD momentum m. SCAFFOLD estimates the mean gradient as the
     * displacement over K * lr / (1 - m): the corrections ride through
     * momentum like gradients, so dividing by K * lr alone overestimates c_i
     * by 1 / (1 - m) and the feedback diverges. */
    float momentum;
} eai_fl_round_cfg_t;

typedef struct eai_fl_client eai_fl_client_t;

/* A client training `t` (borrowed; may be shared by many clients used one at
 * a time, as the simulator does) on ds's samples idx[0..n) (borrowed). */
EAI_API eai_status_t eai_fl_client_create(eai_trainer_t *t, const eai_dataset_t *ds,
                                          const int32_t *idx, int64_t n, uint32_t id,
                                          eai_fl_client_t **out);
EAI_API void eai_fl_client_destroy(eai_fl_client_t *c);
/* Sets the client's model to the global state (n_params floats, copied). */
EAI_API eai_status_t eai_fl_client_update_global_model(eai_fl_client_t *c, const float *global);
/* Trains from the last global model; `out`'s vectors are borrowed from the
 * client until its next call. The optimizer state is reset each round. */
EAI_API eai_status_t eai_fl_client_local_training(eai_fl_client_t *c, const eai_fl_round_cfg_t *cfg,
                                                  eai_fl_update_t *out);
/* SCAFFOLD's c_i lives with the client; these move it in and out so that a
 * simulator keeps only sampled clients in memory (n_trainable floats). */
EAI_API eai_status_t eai_fl_client_set_control(eai_fl_client_t *c, const float *ci);
EAI_API const float *eai_fl_client_control(const eai_fl_client_t *c); /* NULL if none yet */

/* ---- server ---- */

typedef struct eai_fl_server_opts {
    eai_fl_strategy_opts_t strategy;
    int n_clients;          /* population */
    float fraction;         /* sampled per round; 0 means 1 */
    int min_clients;        /* at least this many sampled; 0 means 1 */
    int quorum;             /* a round closes with >= quorum updates; 0: all sampled */
    double round_timeout_s; /* transports close a round after this; 0: none */
    uint64_t seed;          /* client sampling */
    /* Checkpoint file written atomically after every completed round; NULL:
     * none. eai_fl_server_create resumes from it when it exists. */
    const char *checkpoint;
    /* User-level DP (DP-FedAvg, McMahan et al. 2018) inside the server, for
     * transports that hand it every client's update: each accepted update's
     * delta from the global model is clipped to L2 norm dp_clip (0: 1), the
     * clipped deltas summed in client-id order and divided by the number
     * sampled m, and N(0, (sigma dp_clip / m)^2) noise added (seeded by seed,
     * round and attempt), sigma the smallest noise multiplier that keeps
     * dp_rounds rounds within (dp_epsilon, dp_delta (0: 1e-5)) by the RDP
     * accountant at q = m / n_clients. This is eai_fl_simulate's DP path bit
     * for bit. dp_epsilon 0: off. Not with SCAFFOLD or FedNova. */
    float dp_epsilon;
    double dp_delta;
    float dp_clip;
    int dp_rounds;
} eai_fl_server_opts_t;

typedef struct eai_fl_server eai_fl_server_t;

typedef struct eai_fl_round_report {
    uint32_t round;
    int n_sampled, n_accepted, n_rejected; /* duplicates, late, unknown, bad size */
    double mean_train_loss, mean_train_acc;
} eai_fl_round_report_t;

/* init: the starting global state (copied). Resumes from opts->checkpoint if
 * that file exists (then init is ignored; the round number continues). */
EAI_API eai_status_t eai_fl_server_create(const eai_fl_server_opts_t *o, const float *init,
                                          size_t n_params, size_t n_trainable,
                                          eai_fl_server_t **out);
EAI_API void eai_fl_server_destroy(eai_fl_server_t *s);
EAI_API uint32_t eai_fl_server_round(const eai_fl_server_t *s); /* next round to run, from 0 */
EAI_API const float *eai_fl_server_global(const eai_fl_server_t *s);
EAI_API const eai_fl_strategy_t *eai_fl_server_strategy(const eai_fl_server_t *s);
/* Opens the round: ids[0..*n) = the sampled clients (seeded by seed and
 * round; ids must hold n_clients). EAI_E_STATE if a round is open. */
EAI_API eai_status_t eai_fl_server_begin_round(eai_fl_server_t *s, uint32_t *ids, int *n);
/* Offers an update (copied). Wrong round, unsampled client, duplicate or
 * wrong size: EAI_E_STATE / EAI_E_INVALID with the reason, counted as
 * rejected, the round unaffected. */
EAI_API eai_status_t eai_fl_server_submit(eai_fl_server_t *s, const eai_fl_update_t *u);
EAI_API int eai_fl_server_n_received(const eai_fl_server_t *s);
EAI_API bool eai_fl_server_quorum(const eai_fl_server_t *s);
/* Closes the round: aggregates (sorted by client id), checkpoints, advances.
 * Below quorum: EAI_E_UNAVAILABLE, global unchanged, the round is retried. */
EAI_API eai_status_t eai_fl_server_finish_round(eai_fl_server_t *s, eai_fl_round_report_t *rep);

/* DP (opts.dp_epsilon > 0): the noise multiplier in use, and the epsilon
 * spent by the rounds completed so far (at opts.dp_delta). 0 without DP. */
EAI_API double eai_fl_server_dp_sigma(const eai_fl_server_t *s);
EAI_API double eai_fl_server_dp_epsilon(const eai_fl_server_t *s);

/* ---- simulation (in-process transport) ---- */

typedef struct eai_fl_sim_round {
    uint32_t round;
    double test_acc, test_loss; /* global model on the test set */
    double train_loss;          /* mean over participants */
    int n_participants, n_dropped;
    double seconds;
    double epsilon; /* DP spent so far (0 without DP) */
} eai_fl_sim_round_t;

typedef struct eai_fl_sim_opts {
    const char *model;              /* ONNX file trained from its initial weights */
    const char *train_data;         /* dataset spec, default "fashion-mnist:train" */
    const char *test_data;          /* default "fashion-mnist:test" */
    eai_partition_opts_t partition; /* n_clients taken from here */
    eai_fl_server_opts_t server;    /* n_clients copied from partition */
    int rounds, epochs, batch;
    eai_optim_opts_t optim;
    /* Hierarchy (HierFAVG): n_tiers aggregation tiers below the top, fanout[i]
     * nodes at tier i (clients spread evenly), tier i aggregates its children
     * every every[i] rounds. n_tiers 0: flat. */
    int n_tiers;
    int fanout[4], every[4];
    float dropout; /* probability a sampled client fails mid-round */
    bool secure_agg;
    float dp_epsilon;    /* > 0: user-level DP to this epsilon at dp_delta */
    double dp_delta;     /* 0 means 1e-5 */
    float dp_clip;       /* 0 means 1 */
    bool local_baseline; /* also train each client alone for the same budget and report mean acc */
    int threads;
    uint64_t seed;
    void (*on_round)(const eai_fl_sim_round_t *r, void *user);
    void *user;
    int64_t max_train_samples, max_test_samples; /* first N samples of each; 0: all */
    const char *out_model; /* non-NULL: the final global model is written there as ONNX */
} eai_fl_sim_opts_t;

typedef struct eai_fl_sim_result {
    int rounds;
    double final_acc, best_acc;
    double local_mean_acc; /* local_baseline: mean test acc of purely local models; -1 otherwise */
    double epsilon;        /* final DP epsilon (0 without DP) */
    double seconds;
    int64_t peak_rss_kb;
} eai_fl_sim_result_t;

EAI_API eai_status_t eai_fl_simulate(const eai_fl_sim_opts_t *o, eai_fl_sim_result_t *res);

/* ---- privacy ---- */

/* Scales v[0..n) so its L2 norm is at most clip; returns the norm before. */
EAI_API double eai_dp_clip(float *v, size_t n, float clip);
/* Adds N(0, sigma^2) to v[0..n), seeded (reproducible). */
EAI_API void eai_dp_gaussian(float *v, size_t n, double sigma, uint64_t seed);
/* Renyi-DP accountant for the subsampled Gaussian mechanism: epsilon after
 * `steps` compositions at sampling rate q and noise multiplier sigma, at delta. */
EAI_API double eai_rdp_epsilon(double q, double sigma, int64_t steps, double delta);
/* Smallest noise multiplier reaching `epsilon` (bisection on the above). */
EAI_API double eai_rdp_sigma_for(double q, int64_t steps, double delta, double epsilon);

#ifdef __cplusplus
}
#endif

#endif
