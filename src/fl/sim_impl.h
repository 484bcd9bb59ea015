/* The in-process simulator's state, shared by sim.c (rounds, evaluation,
 * local baseline) and hier.c (gateways, tier syncs, private aggregation).
 * Private to src/fl.
 *
 * Memory model: the data sets once, the partition's index lists (4 bytes a
 * sample), ONE trainer shared by every virtual client, and per aggregation
 * node (one when flat, one per gateway) a server holding at most m sampled
 * updates (m * n_params floats). A client exists only while it trains. */
#ifndef EAI_FL_SIM_IMPL_H
#define EAI_FL_SIM_IMPL_H

#include "edgeai/fl.h"

struct eai__fl_sim;

typedef struct eai__fl_node {
    struct eai__fl_sim *S; /* back pointer for the checkpoint hook */
    eai_fl_server_t *srv;
    int base, n;     /* global client ids base .. base + n - 1 */
    int64_t samples; /* sum of its clients' sample counts */
    char *ckpt;      /* its checkpoint path (owned) or NULL */
} eai__fl_node_t;

typedef struct eai__fl_sim {
    const eai_fl_sim_opts_t *o;
    eai_dataset_t *train, *test;
    eai_partition_t *part;
    eai_trainer_t *t;
    size_t np, nt;
    eai_fl_algo_t algo;
    float lr;
    int epochs;
    float *init;  /* np: the model's initial weights (local baseline) */
    float *model; /* np: the model evaluated (flat: the global; hier: the cloud's view) */
    double *dacc; /* np: double accumulator for tier averages */
    eai__fl_node_t *nodes;
    int n_nodes, max_sampled;
    uint32_t *ids; /* sampled ids of the node being run */
    /* SCAFFOLD: c_i per client, allocated when a client first finishes a
     * round (n_trainable floats each; never-sampled clients cost a pointer),
     * and the round's pending c_i+ (max_sampled rows) committed only when
     * the server accepts the round. */
    float **ci;
    float *ci_pending;
    uint32_t *ci_pending_id;
    int n_pending;  /* rows of ci_pending of the round being closed */
    uint8_t *ckbuf; /* the c_i serialised for a node's checkpoint */
    size_t ckbuf_cap;
    /* secure aggregation / DP: one row of np + 1 floats per sampled client */
    bool private_agg;
    float *prow, *psum, *zero;
    const float **pptr;
    bool *pdrop;
    int64_t n_max; /* largest client: weights n_i / n_max stay in secagg's range */
    double sigma, dp_clip;
    int64_t dp_rounds_done;
} eai__fl_sim_t;

/* Runs one round on node nd until the server accepts it (retrying rounds that
 * miss the quorum); adds to the round's participant, dropout and loss counts. */
eai_status_t eai__fl_node_round(eai__fl_sim_t *S, eai__fl_node_t *nd, int *n_part, int *n_drop,
                                double *loss_sum);
/* HierFAVG: tier syncs due after round r (0-based), and the cloud's view of
 * the model (sample-weighted mean of gateway models) into S->model. */
eai_status_t eai__fl_tier_sync(eai__fl_sim_t *S, uint32_t r);
void eai__fl_cloud_view(eai__fl_sim_t *S);

#endif
