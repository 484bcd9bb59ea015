/* /metrics in the Prometheus text exposition format (version 0.0.4). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/serve_impl.h"

typedef struct {
    char *p;
    size_t n, cap;
    bool oom;
} mbuf_t;

static void put(mbuf_t *b, const char *fmt, ...) EAI_PRINTF(2, 3);
static void put(mbuf_t *b, const char *fmt, ...)
{
    for (int tries = 0; tries < 2 && !b->oom; tries++) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = true;
            return;
        }
        if ((size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        size_t nc = b->cap * 2 + (size_t)k + 1;
        char *q = realloc(b->p, nc);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = nc;
    }
}

static const char *k_class[6] = {"", "1xx", "2xx", "3xx", "4xx", "5xx"};

char *eai__srv_metrics_text(srv_model_t *models, int n_models, const uint64_t http_class[6],
                            pthread_mutex_t *mu, size_t *n);
char *eai__srv_metrics_text(srv_model_t *models, int n_models, const uint64_t http_class[6],
                            pthread_mutex_t *mu, size_t *n)
{
    mbuf_t b = {malloc(4096), 0, 4096, false};
    if (!b.p) return NULL;
    put(&b, "# HELP edgeai_http_requests_total HTTP requests answered, by status class.\n"
            "# TYPE edgeai_http_requests_total counter\n");
    pthread_mutex_lock(mu);
    for (int k = 1; k < 6; k++)
        put(&b, "edgeai_http_requests_total{code=\"%s\"} %llu\n", k_class[k],
            (unsigned long long)http_class[k]);
    pthread_mutex_unlock(mu);
    put(&b, "# HELP edgeai_model_requests_total Requests to /v2/models/{model}/infer, by "
            "status class.\n# TYPE edgeai_model_requests_total counter\n");
    for (int i = 0; i < n_models; i++) {
        srv_model_t *m = &models[i];
        pthread_mutex_lock(&m->mu);
        for (int k = 1; k < 6; k++)
            put(&b, "edgeai_model_requests_total{model=\"%s\",code=\"%s\"} %llu\n", m->name,
                k_class[k], (unsigned long long)m->req_class[k]);
        pthread_mutex_unlock(&m->mu);
    }
    put(&b, "# HELP edgeai_inference_duration_seconds Successful infer requests, body "
            "received to response ready (parse, queue, batch, run, serialise).\n"
            "# TYPE edgeai_inference_duration_seconds histogram\n");
    for (int i = 0; i < n_models; i++) {
        srv_model_t *m = &models[i];
        pthread_mutex_lock(&m->mu);
        uint64_t cum = 0;
        for (int k = 0; k <= SRV_N_LAT; k++) {
            cum += m->lat_bucket[k];
            if (k < SRV_N_LAT)
                put(&b, "edgeai_inference_duration_seconds_bucket{model=\"%s\",le=\"%g\"} %llu\n",
                    m->name, eai__srv_lat_le[k], (unsigned long long)cum);
            else
                put(&b, "edgeai_inference_duration_seconds_bucket{model=\"%s\",le=\"+Inf\"} %llu\n",
                    m->name, (unsigned long long)cum);
        }
        put(&b, "edgeai_inference_duration_seconds_sum{model=\"%s\"} %.9g\n", m->name, m->lat_sum);
        put(&b, "edgeai_inference_duration_seconds_count{model=\"%s\"} %llu\n", m->name,
            (unsigned long long)m->lat_count);
        pthread_mutex_unlock(&m->mu);
    }
    put(&b, "# HELP edgeai_batch_size Rows per invoke (requests gathered by dynamic "
            "batching).\n# TYPE edgeai_batch_size histogram\n");
    for (int i = 0; i < n_models; i++) {
        srv_model_t *m = &models[i];
        pthread_mutex_lock(&m->mu);
        uint64_t cum = 0;
        for (int k = 0; k <= SRV_N_BATCH; k++) {
            cum += m->batch_bucket[k];
            if (k < SRV_N_BATCH)
                put(&b, "edgeai_batch_size_bucket{model=\"%s\",le=\"%d\"} %llu\n", m->name,
                    eai__srv_batch_le[k], (unsigned long long)cum);
            else
                put(&b, "edgeai_batch_size_bucket{model=\"%s\",le=\"+Inf\"} %llu\n", m->name,
                    (unsigned long long)cum);
        }
        put(&b, "edgeai_batch_size_sum{model=\"%s\"} %llu\n", m->name,
            (unsigned long long)m->batch_sum);
        put(&b, "edgeai_batch_size_count{model=\"%s\"} %llu\n", m->name,
            (unsigned long long)m->batch_count);
        pthread_mutex_unlock(&m->mu);
    }
    put(&b, "# HELP edgeai_queue_depth Requests waiting for a worker now.\n"
            "# TYPE edgeai_queue_depth gauge\n");
    for (int i = 0; i < n_models; i++) {
        pthread_mutex_lock(&models[i].mu);
        put(&b, "edgeai_queue_depth{model=\"%s\"} %d\n", models[i].name, models[i].queued);
        pthread_mutex_unlock(&models[i].mu);
    }
    put(&b, "# HELP edgeai_queue_depth_peak Most requests waiting at once since start.\n"
            "# TYPE edgeai_queue_depth_peak gauge\n");
    for (int i = 0; i < n_models; i++) {
        pthread_mutex_lock(&models[i].mu);
        put(&b, "edgeai_queue_depth_peak{model=\"%s\"} %llu\n", models[i].name,
            (unsigned long long)models[i].queue_peak);
        pthread_mutex_unlock(&models[i].mu);
    }
    put(&b, "# HELP edgeai_model_max_batch Dynamic batching limit (1: off).\n"
            "# TYPE edgeai_model_max_batch gauge\n");
    for (int i = 0; i < n_models; i++)
        put(&b, "edgeai_model_max_batch{model=\"%s\"} %d\n", models[i].name, models[i].max_batch);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    *n = b.n;
    return b.p;
}
