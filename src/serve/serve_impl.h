/* Internal to src/serve: served models, their request queues and batching
 * workers (worker.c), and the HTTP front end (server.c, metrics.c). */
#ifndef EAI_SERVE_IMPL_H
#define EAI_SERVE_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "edgeai/kserve.h"
#include "edgeai/model.h"
#include "edgeai/serve.h"
#include "edgeai/session.h"

#define SRV_ERR_LEN 512
#define SRV_N_LAT   14 /* latency histogram buckets (without +Inf) */
#define SRV_N_BATCH 8  /* batch-size histogram buckets (without +Inf) */

extern const double eai__srv_lat_le[SRV_N_LAT];
extern const int eai__srv_batch_le[SRV_N_BATCH];

enum { REQ_QUEUED, REQ_RUNNING, REQ_DONE };

/* One inference request travelling from an HTTP thread to a worker. */
typedef struct srv_req {
    struct srv_req *next;
    const void **in_data; /* per model input, borrowed from the parsed message */
    int64_t batch;        /* value of the symbolic dims (1 when none) */
    int state;            /* REQ_*, under the model's mutex */
    pthread_cond_t cv;    /* signalled at REQ_DONE */
    /* results, written by the worker before REQ_DONE */
    int http; /* 200 or the error status */
    char err[SRV_ERR_LEN];
    eai_kserve_tensor_t *outs; /* n_out tensors, names borrowed from the model */
} srv_req_t;

typedef struct srv_worker srv_worker_t;

typedef struct srv_model {
    char *name, *path;
    eai_model_t *model;
    int n_in, n_out;
    eai_tensor_info_t *in, *out; /* as loaded: symbolic dims are -1 */
    bool batching;
    int max_batch;
    int64_t max_delay_us;
    const char *backend;

    pthread_mutex_t mu; /* queue, states, metrics */
    pthread_cond_t cv_work;
    srv_req_t *head, *tail;
    int queued;
    bool stopping;
    int n_workers;
    srv_worker_t *workers;
    pthread_mutex_t create_mu; /* session creation reads the shared model */

    /* metrics, under mu */
    uint64_t req_class[6]; /* [1..5]: 1xx..5xx */
    uint64_t lat_bucket[SRV_N_LAT + 1];
    double lat_sum;
    uint64_t lat_count;
    uint64_t batch_bucket[SRV_N_BATCH + 1];
    uint64_t batch_sum, batch_count;
    uint64_t queue_peak;
} srv_model_t;

/* Loads the model, decides batching, starts the workers. `quiet` silences
 * the "batching off" note. */
eai_status_t eai__srv_model_init(srv_model_t *m, const eai_serve_model_t *spec,
                                 const eai_server_opts_t *o);
void eai__srv_model_fini(srv_model_t *m);

/* Checks a parsed request against the model (names, dtypes, ranks, fixed
 * dims, one value for the symbolic dims) and fills r->in_data / r->batch.
 * Returns 0 on success, else 400 with a sentence in err. */
int eai__srv_model_check(const srv_model_t *m, const eai_kserve_msg_t *msg, srv_req_t *r, char *err,
                         size_t n_err);

/* Queues r, waits for a worker to finish it (at most timeout_ms in the
 * queue: then 503). Returns r->http. */
int eai__srv_model_run(srv_model_t *m, srv_req_t *r, int timeout_ms);
/* Frees r->outs. */
void eai__srv_req_free_outs(const srv_model_t *m, srv_req_t *r);

int64_t eai__srv_now_ns(void);

/* Binary tensor data is little-endian on the wire: on a big-endian host this
 * swaps each `es`-byte element of data in place; on little-endian it does
 * nothing. */
void eai__kserve_le(void *data, size_t n_bytes, size_t es);

#endif
