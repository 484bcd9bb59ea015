/* Serving overhead and throughput of `edgeai serve` (in-process server,
 * loopback, libcurl keep-alive clients).
 *
 *   (a) p50/p99 of one HTTP+JSON infer (request body prepared once; the
 *       client parses the response) minus p50/p99 of eai_session_invoke on
 *       the same model and input, at low load (one client);
 *   (b) requests/s with C concurrent clients, dynamic batching off and on.
 *
 * Build:
 *   built with the project: build/bench/bench_serve_load
 * Run: build/bench/bench_serve_load MODEL.onnx [REQUESTS=500] [CLIENTS=8]
 * (the model's first input must be FP32 with a dynamic or size-1 batch dim).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "edgeai/kserve.h"
#include "edgeai/model.h"
#include "edgeai/serve.h"
#include "edgeai/session.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, int n, double p)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    int i = (int)(p * (n - 1) + 0.5);
    return v[i];
}

typedef struct {
    char *p;
    size_t n, cap;
} buf_t;

static size_t on_data(char *d, size_t sz, size_t nm, void *u)
{
    buf_t *b = u;
    size_t k = sz * nm;
    if (b->n + k + 1 > b->cap) {
        size_t c = (b->n + k + 1) * 2;
        char *q = realloc(b->p, c);
        if (!q) return 0;
        b->p = q;
        b->cap = c;
    }
    memcpy(b->p + b->n, d, k);
    b->n += k;
    b->p[b->n] = 0;
    return k;
}

typedef struct {
    const char *url, *body;
    size_t body_n;
    int n;
    double *lat; /* may be NULL */
    int fails;
} client_t;

static void *client_main(void *arg)
{
    client_t *c = arg;
    CURL *h = curl_easy_init();
    buf_t b = {0};
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body_n);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    for (int i = 0; i < c->n; i++) {
        b.n = 0;
        double t0 = now_s();
        long code = 0;
        eai_kserve_msg_t r;
        bool ok = curl_easy_perform(h) == CURLE_OK &&
                  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code == 200 &&
                  eai_kserve_parse_response(b.p, b.n, NULL, &r) == EAI_OK;
        if (ok) eai_kserve_msg_free(&r);
        if (c->lat) c->lat[i] = now_s() - t0;
        c->fails += !ok;
    }
    free(b.p);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    return NULL;
}

static double throughput(const char *path, int max_batch, int clients, int per_client,
                         const char *body, size_t body_n)
{
    eai_serve_model_t m = {.name = "m", .path = path};
    eai_server_opts_t o = {
        .models = &m, .n_models = 1, .max_batch = max_batch, .max_delay_us = 500, .quiet = true};
    eai_server_t *s;
    if (eai_server_create(&o, &s) != EAI_OK || eai_server_start(s) != EAI_OK) {
        fprintf(stderr, "server: %s\n", eai_last_error());
        exit(1);
    }
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v2/models/m/infer", eai_server_port(s));
    client_t *cs = calloc((size_t)clients, sizeof *cs);
    pthread_t *th = calloc((size_t)clients, sizeof *th);
    double t0 = now_s();
    for (int i = 0; i < clients; i++) {
        cs[i] = (client_t){.url = url, .body = body, .body_n = body_n, .n = per_client};
        pthread_create(&th[i], NULL, client_main, &cs[i]);
    }
    int fails = 0;
    for (int i = 0; i < clients; i++) {
        pthread_join(th[i], NULL);
        fails += cs[i].fails;
    }
    double dt = now_s() - t0;
    if (fails) fprintf(stderr, "%d failed requests\n", fails);
    free(cs);
    free(th);
    eai_server_destroy(s);
    return clients * per_client / dt;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL [REQUESTS] [CLIENTS]\n", argv[0]);
        return 2;
    }
    const char *path = argv[1];
    int n = argc > 2 ? atoi(argv[2]) : 500, clients = argc > 3 ? atoi(argv[3]) : 8;
    if (n < 10 || clients < 1) return 2;
    curl_global_init(CURL_GLOBAL_DEFAULT);

    /* in-process reference */
    eai_model_t *model;
    eai_session_t *sess;
    eai_session_opts_t so = {.batch = 1};
    if (eai_model_load(path, NULL, &model) != EAI_OK ||
        eai_session_create(model, &so, &sess) != EAI_OK) {
        fprintf(stderr, "%s\n", eai_last_error());
        return 1;
    }
    eai_tensor_info_t in;
    eai_session_input_info(sess, 0, &in);
    size_t numel = (size_t)eai_tensor_info_numel(&in);
    float *x = malloc(numel * sizeof *x);
    uint32_t seed = 1;
    for (size_t i = 0; i < numel; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)(seed >> 8) / 16777216.0f;
    }
    double *lat = malloc((size_t)n * sizeof *lat);
    for (int i = 0; i < n + 20; i++) {
        double t0 = now_s();
        eai_session_set_input(sess, 0, x, numel * sizeof *x);
        eai_session_invoke(sess);
        if (i >= 20) lat[i - 20] = now_s() - t0;
    }
    double inv50 = pct(lat, n, 0.5), inv99 = pct(lat, n, 0.99);

    eai_kserve_tensor_t t = {.name = (char *)in.name,
                             .dtype = EAI_F32,
                             .rank = in.rank,
                             .data = x,
                             .n_bytes = numel * sizeof *x};
    memcpy(t.dims, in.dims, sizeof t.dims);
    eai_kserve_msg_t rq = {.n_tensors = 1, .tensors = &t};
    char *body;
    size_t body_n;
    eai_kserve_write_request(&rq, &body, &body_n);

    /* (a) one client, batching off */
    eai_serve_model_t m = {.name = "m", .path = path};
    eai_server_opts_t o = {.models = &m, .n_models = 1, .quiet = true};
    eai_server_t *s;
    if (eai_server_create(&o, &s) != EAI_OK || eai_server_start(s) != EAI_OK) {
        fprintf(stderr, "server: %s\n", eai_last_error());
        return 1;
    }
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v2/models/m/infer", eai_server_port(s));
    double *hl = malloc((size_t)(n + 20) * sizeof *hl);
    client_t c = {.url = url, .body = body, .body_n = body_n, .n = n + 20, .lat = hl};
    client_main(&c);
    eai_server_destroy(s);
    double h50 = pct(hl + 20, n, 0.5), h99 = pct(hl + 20, n, 0.99);
    printf("model %s, request body %zu bytes, %d requests\n", path, body_n, n);
    printf("invoke in-process   p50 %8.3f ms  p99 %8.3f ms\n", inv50 * 1e3, inv99 * 1e3);
    printf("HTTP+JSON infer     p50 %8.3f ms  p99 %8.3f ms  (%d failed)\n", h50 * 1e3, h99 * 1e3,
           c.fails);
    printf("overhead            p50 %8.3f ms  p99 %8.3f ms\n", (h50 - inv50) * 1e3,
           (h99 - inv99) * 1e3);

    /* (b) throughput */
    int per = n / clients > 5 ? n / clients : 5;
    double off = throughput(path, 1, clients, per, body, body_n);
    double on = throughput(path, clients, clients, per, body, body_n);
    printf("%d clients x %d requests: batching off %8.1f req/s, on (max_batch %d, 500 us) "
           "%8.1f req/s\n",
           clients, per, off, clients, on);
    free(body);
    free(hl);
    free(lat);
    free(x);
    eai_session_destroy(sess);
    eai_model_destroy(model);
    curl_global_cleanup();
    return 0;
}
