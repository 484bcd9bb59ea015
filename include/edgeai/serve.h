/* The cloud tier: a KServe v2 / Open Inference Protocol REST server (the API
 * of NVIDIA Triton and KServe) over libmicrohttpd.
 *
 *   eai_serve_model_t m = {.name = "fashion", .path = "fashion_cnn.onnx"};
 *   eai_server_opts_t o = {.models = &m, .n_models = 1, .max_batch = 8,
 *                          .max_delay_us = 2000};
 *   eai_server_t *s;
 *   EAI_TRY(eai_server_create(&o, &s));       // loads every model
 *   EAI_TRY(eai_server_start(s));             // binds and serves
 *   printf("port %d\n", eai_server_port(s));
 *   ...
 *   eai_server_destroy(s);                    // stops and frees
 *
 * Endpoints: GET /v2/health/live, /v2/health/ready, /v2, /v2/models/{name},
 * /v2/models/{name}/ready, /metrics; POST /v2/models/{name}/infer. See
 * docs/serve.md. Each model has `instances` worker threads that own its
 * sessions; with dynamic batching, concurrent requests are gathered along the
 * batch axis (the model's symbolic first dimension) and run as one invoke.
 */
#ifndef EDGEAI_SERVE_H
#define EDGEAI_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgeai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eai_server eai_server_t;

/* One served model. Strings are copied at create. */
typedef struct eai_serve_model {
    const char *name; /* URL name: [A-Za-z0-9_.-]+ */
    const char *path; /* .onnx or .eai (anything eai_model_load reads) */
    /* Dynamic batching for this model; 0 means the server-wide value.
     * max_batch 1 turns batching off. */
    int max_batch;
    int64_t max_delay_us;
} eai_serve_model_t;

typedef struct eai_server_opts {
    const char *host; /* IPv4 literal to bind; NULL means 127.0.0.1 (loopback only) */
    int port;         /* 0: pick a free port (see eai_server_port) */
    /* 0: one thread per connection (a waiting inference never blocks other
     * connections); N > 0: a pool of N polling threads. */
    int threads;
    const eai_serve_model_t *models; /* borrowed for create */
    int n_models;
    size_t max_body_bytes;  /* 0 means 64 MiB; larger bodies get 413 */
    int max_batch;          /* server-wide default; 0 or 1: no batching */
    int64_t max_delay_us;   /* 0 means 1000 us when batching */
    int instances;          /* worker threads (session owners) per model; 0 means 1 */
    int request_timeout_ms; /* queue wait and idle connection limit; 0 means 30 s */
    const char *backend;    /* session backend; NULL: best available */
    bool quiet;             /* no log lines on stderr */
} eai_server_opts_t;

/* Loads every model and prepares the workers; binds nothing yet.
 * EAI_E_INVALID (bad options, duplicate names), model load errors. */
EAI_API eai_status_t eai_server_create(const eai_server_opts_t *opts, eai_server_t **out);
/* Binds host:port and starts serving. EAI_E_IO when the port cannot be bound,
 * EAI_E_STATE if already started. */
EAI_API eai_status_t eai_server_start(eai_server_t *s);
/* Bound port after start (the chosen one when opts.port was 0); 0 before. */
EAI_API int eai_server_port(const eai_server_t *s);
/* Stops accepting, finishes requests in flight, joins every thread.
 * Idempotent; the server can be started again. */
EAI_API void eai_server_stop(eai_server_t *s);
/* Stops (if needed) and frees. Accepts NULL. */
EAI_API void eai_server_destroy(eai_server_t *s);

/* Whether batching is on for model `name` (false for an unknown name, or a
 * model without a symbolic batch dimension). */
EAI_API bool eai_server_model_batching(const eai_server_t *s, const char *name);

#ifdef __cplusplus
}
#endif
#endif
