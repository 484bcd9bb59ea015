/* The KServe v2 server in-process on a free loopback port, driven with
 * libcurl: every endpoint and error code, concurrent requests with batching
 * on and off against eai_session run directly, body limits, a stalled client,
 * metrics. */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "edgeai/kserve.h"
#include "edgeai/model.h"
#include "edgeai/serve.h"
#include "edgeai/session.h"

#define MLP     "models/train/mlp_tiny.onnx" /* input [N,16] -> output [N,4] */
#define FASHION "models/fashion/fashion_cnn.onnx"
#define FIXED   "models/cnn_small.onnx" /* input 1x3x32x32: no batch dim */

typedef struct {
    char *p;
    size_t n;
} buf_t;

static size_t on_data(char *d, size_t sz, size_t nm, void *u)
{
    buf_t *b = u;
    char *q = realloc(b->p, b->n + sz * nm + 1);
    if (!q) return 0;
    memcpy(q + b->n, d, sz * nm);
    b->p = q;
    b->n += sz * nm;
    b->p[b->n] = 0;
    return sz * nm;
}

/* One request; returns the HTTP status (0 on a transport error) and the body
 * (free it). */
static long http(int port, const char *method, const char *path, const char *body, size_t n,
                 char **out)
{
    CURL *c = curl_easy_init();
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    buf_t b = {calloc(1, 1), 0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
    }
    long code = 0;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (out)
        *out = b.p;
    else
        free(b.p);
    return code;
}

static long get(int port, const char *path, char **out)
{
    return http(port, "GET", path, NULL, 0, out);
}

static long post(int port, const char *path, const char *body, char **out)
{
    return http(port, "POST", path, body, strlen(body), out);
}

static eai_server_t *start(const eai_server_opts_t *o)
{
    eai_server_t *s;
    if (eai_server_create(o, &s) != EAI_OK) fail_msg("create: %s", eai_last_error());
    if (eai_server_start(s) != EAI_OK) fail_msg("start: %s", eai_last_error());
    assert_true(eai_server_port(s) > 0);
    return s;
}

static float frand(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)(*s >> 8) / 16777216.0f * 2.0f - 1.0f;
}

/* Reference: the model run directly with eai_session at this batch. */
static void reference(const char *path, const float *x, int64_t batch, float *y, size_t n_y)
{
    eai_model_t *m;
    assert_int_equal(eai_model_load(path, NULL, &m), EAI_OK);
    eai_session_opts_t so = {.batch = batch};
    eai_session_t *s;
    assert_int_equal(eai_session_create(m, &so, &s), EAI_OK);
    eai_tensor_info_t ii;
    eai_session_input_info(s, 0, &ii);
    assert_int_equal(eai_session_set_input(s, 0, x, (size_t)eai_tensor_info_numel(&ii) * 4),
                     EAI_OK);
    assert_int_equal(eai_session_invoke(s), EAI_OK);
    const void *d;
    eai_tensor_info_t oi;
    assert_int_equal(eai_session_get_output(s, 0, &d, &oi), EAI_OK);
    assert_int_equal((size_t)eai_tensor_info_numel(&oi), n_y);
    memcpy(y, d, n_y * sizeof *y);
    eai_session_destroy(s);
    eai_model_destroy(m);
}

static char *mlp_request(const char *id, const float *x, int64_t batch)
{
    eai_kserve_tensor_t t = {.name = "input",
                             .dtype = EAI_F32,
                             .rank = 2,
                             .dims = {batch, 16},
                             .data = (void *)x,
                             .n_bytes = (size_t)batch * 16 * 4};
    eai_kserve_msg_t m = {.id = (char *)id, .n_tensors = 1, .tensors = &t};
    char *b;
    assert_int_equal(eai_kserve_write_request(&m, &b, NULL), EAI_OK);
    return b;
}

static void check_close(const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fabsf(a[i] - b[i]) > 1e-5f * (1 + fabsf(b[i])))
            fail_msg("element %zu: %.9g vs reference %.9g", i, a[i], b[i]);
}

static void test_endpoints_and_errors(void **st)
{
    (void)st;
    eai_serve_model_t ms[] = {{.name = "mlp", .path = MLP}, {.name = "fixed", .path = FIXED}};
    eai_server_opts_t o = {
        .models = ms, .n_models = 2, .max_batch = 4, .quiet = true, .max_body_bytes = 100000};
    eai_server_t *s = start(&o);
    int p = eai_server_port(s);
    assert_true(eai_server_model_batching(s, "mlp"));
    assert_false(eai_server_model_batching(s, "fixed")); /* no symbolic batch dim */
    char *b;
    assert_int_equal(get(p, "/v2/health/live", &b), 200);
    assert_non_null(strstr(b, "\"live\":true"));
    free(b);
    assert_int_equal(get(p, "/v2/health/ready", NULL), 200);
    assert_int_equal(get(p, "/v2", &b), 200);
    assert_non_null(strstr(b, "\"name\":\"edgeai\""));
    free(b);
    assert_int_equal(get(p, "/v2/models/mlp", &b), 200);
    assert_non_null(strstr(b, "\"platform\":\"edgeai\""));
    assert_non_null(strstr(b, "{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[-1,16]}"));
    assert_non_null(strstr(b, "{\"name\":\"output\",\"datatype\":\"FP32\",\"shape\":[-1,4]}"));
    free(b);
    assert_int_equal(get(p, "/v2/models/fixed", &b), 200);
    assert_non_null(strstr(b, "\"shape\":[1,3,32,32]"));
    free(b);
    assert_int_equal(get(p, "/v2/models/mlp/ready", NULL), 200);
    /* 404s */
    assert_int_equal(get(p, "/v2/models/nope", &b), 404);
    assert_non_null(strstr(b, "\"error\":"));
    free(b);
    assert_int_equal(get(p, "/v2/models/nope/ready", NULL), 404);
    assert_int_equal(post(p, "/v2/models/nope/infer", "{}", NULL), 404);
    assert_int_equal(get(p, "/v3/foo", NULL), 404);
    assert_int_equal(get(p, "/v2/models/mlp/explain", NULL), 404);
    /* 405s */
    assert_int_equal(get(p, "/v2/models/mlp/infer", &b), 405);
    assert_non_null(strstr(b, "not allowed"));
    free(b);
    assert_int_equal(post(p, "/v2/health/live", "{}", NULL), 405);
    assert_int_equal(http(p, "DELETE", "/v2/models/mlp", NULL, 0, NULL), 405);
    /* 400s, each naming what is wrong */
    struct {
        const char *body, *needle;
    } bad[] = {
        {"{not json", "malformed JSON"},
        {"{\"inputs\":[]}", "input \\\"input\\\" is missing"},
        {"{\"inputs\":[{\"name\":\"input\",\"shape\":[1,15],\"datatype\":\"FP32\",\"data\":["
         "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}]}",
         "shape[1] is 15, expected 16"},
        {"{\"inputs\":[{\"name\":\"input\",\"shape\":[16],\"datatype\":\"FP32\",\"data\":["
         "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}]}",
         "rank 1, expected 2"},
        {"{\"inputs\":[{\"name\":\"input\",\"shape\":[1,16],\"datatype\":\"INT32\",\"data\":["
         "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}]}",
         "datatype INT32, expected FP32"},
        {"{\"inputs\":[{\"name\":\"input\",\"shape\":[1,16],\"datatype\":\"FP32\",\"data\":[1]}]}",
         "has 1 values, shape says 16"},
        {"{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}",
         "no input \\\"x\\\""},
        {"{\"inputs\":[{\"name\":\"input\",\"shape\":[1,16],\"datatype\":\"FP32\",\"data\":["
         "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}],\"outputs\":[{\"name\":\"zz\"}]}",
         "no output \\\"zz\\\""},
        {"{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1],\"datatype\":\"BYTES\",\"data\":[\"a\"]}"
         "]}",
         "not supported"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long code = post(p, "/v2/models/mlp/infer", bad[i].body, &b);
        if (code != 400 || !strstr(b, bad[i].needle))
            fail_msg("case %zu: %ld %s (want 400 with %s)", i, code, b, bad[i].needle);
        free(b);
    }
    /* 413: Content-Length over the limit is refused before the body is read */
    size_t big = 200000;
    char *huge = malloc(big + 1);
    memset(huge, ' ', big);
    huge[big] = 0;
    assert_int_equal(http(p, "POST", "/v2/models/mlp/infer", huge, big, &b), 413);
    assert_non_null(strstr(b, "exceeds the limit"));
    free(b);
    free(huge);
    /* the server is fine afterwards: a real inference on the fixed model */
    float *x = malloc(3 * 32 * 32 * sizeof *x), y[10], ref[10];
    uint32_t seed = 7;
    for (int i = 0; i < 3 * 32 * 32; i++)
        x[i] = frand(&seed);
    eai_kserve_tensor_t t = {.name = "input",
                             .dtype = EAI_F32,
                             .rank = 4,
                             .dims = {1, 3, 32, 32},
                             .data = x,
                             .n_bytes = 3 * 32 * 32 * 4};
    eai_kserve_msg_t rq = {.id = "fx", .n_tensors = 1, .tensors = &t};
    char *req;
    size_t n;
    assert_int_equal(eai_kserve_write_request(&rq, &req, &n), EAI_OK);
    assert_int_equal(http(p, "POST", "/v2/models/fixed/infer", req, n, &b), 200);
    eai_kserve_msg_t resp;
    assert_int_equal(eai_kserve_parse_response(b, strlen(b), NULL, &resp), EAI_OK);
    assert_string_equal(resp.id, "fx");
    assert_string_equal(resp.model_name, "fixed");
    assert_int_equal(resp.n_tensors, 1);
    assert_int_equal(resp.tensors[0].n_bytes, sizeof y);
    memcpy(y, resp.tensors[0].data, sizeof y);
    reference(FIXED, x, 1, ref, 10);
    check_close(y, ref, 10);
    eai_kserve_msg_free(&resp);
    free(b);
    free(req);
    free(x);
    /* metrics moved */
    assert_int_equal(get(p, "/metrics", &b), 200);
    if (!strstr(b, "edgeai_model_requests_total{model=\"mlp\",code=\"4xx\"} 11\n"))
        fail_msg("%s", b);
    assert_non_null(strstr(b, "edgeai_model_requests_total{model=\"fixed\",code=\"2xx\"} 1\n"));
    assert_non_null(strstr(b, "edgeai_inference_duration_seconds_count{model=\"fixed\"} 1\n"));
    assert_non_null(
        strstr(b, "edgeai_inference_duration_seconds_bucket{model=\"fixed\",le=\"+Inf\"} 1\n"));
    assert_non_null(strstr(b, "edgeai_batch_size_sum{model=\"fixed\"} 1\n"));
    assert_non_null(strstr(b, "# TYPE edgeai_inference_duration_seconds histogram"));
    free(b);
    /* after stop the port no longer answers; destroy is clean */
    eai_server_stop(s);
    assert_int_equal(get(p, "/v2/health/live", NULL), 0);
    eai_server_destroy(s);
}

typedef struct {
    int port, id, n_req;
    const char *model;
    int fails;
} client_t;

/* Each client sends batch-1 and batch-2 requests with its own inputs and
 * checks every answer against eai_session run directly. */
static void *client_main(void *arg)
{
    client_t *c = arg;
    for (int k = 0; k < c->n_req; k++) {
        int64_t batch = 1 + (k + c->id) % 2;
        float x[2 * 16], ref[2 * 4];
        uint32_t seed = (uint32_t)(c->id * 1000 + k + 1);
        for (int i = 0; i < 2 * 16; i++)
            x[i] = frand(&seed);
        char id[32], path[64];
        snprintf(id, sizeof id, "c%d-%d", c->id, k);
        snprintf(path, sizeof path, "/v2/models/%s/infer", c->model);
        char *req = mlp_request(id, x, batch), *b = NULL;
        long code = post(c->port, path, req, &b);
        eai_kserve_msg_t r;
        bool ok = code == 200 && eai_kserve_parse_response(b, strlen(b), NULL, &r) == EAI_OK;
        if (ok) {
            ok = r.id && strcmp(r.id, id) == 0 && r.n_tensors == 1 && r.tensors[0].rank == 2 &&
                 r.tensors[0].dims[0] == batch && r.tensors[0].dims[1] == 4;
            if (ok) {
                reference(MLP, x, batch, ref, (size_t)batch * 4);
                const float *y = r.tensors[0].data;
                for (int i = 0; i < batch * 4; i++)
                    ok &= fabsf(y[i] - ref[i]) <= 1e-5f * (1 + fabsf(ref[i]));
            }
            eai_kserve_msg_free(&r);
        }
        if (!ok) {
            fprintf(stderr, "client %d req %d: %ld %s\n", c->id, k, code, b ? b : "");
            c->fails++;
        }
        free(req);
        free(b);
    }
    return NULL;
}

static uint64_t metric(const char *text, const char *name)
{
    const char *p = strstr(text, name);
    return p ? strtoull(p + strlen(name), NULL, 10) : UINT64_MAX;
}

static void run_concurrent(int max_batch, int threads)
{
    eai_serve_model_t ms[] = {{.name = "mlp", .path = MLP}};
    eai_server_opts_t o = {.models = ms,
                           .n_models = 1,
                           .max_batch = max_batch,
                           .max_delay_us = 20000,
                           .threads = threads,
                           .quiet = true};
    eai_server_t *s = start(&o);
    enum { NC = 8, NR = 6 };
    client_t cs[NC];
    pthread_t th[NC];
    for (int i = 0; i < NC; i++) {
        cs[i] = (client_t){.port = eai_server_port(s), .id = i, .n_req = NR, .model = "mlp"};
        pthread_create(&th[i], NULL, client_main, &cs[i]);
    }
    for (int i = 0; i < NC; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(cs[i].fails, 0);
    }
    char *b;
    assert_int_equal(get(eai_server_port(s), "/metrics", &b), 200);
    uint64_t rows = metric(b, "edgeai_batch_size_sum{model=\"mlp\"} ");
    uint64_t invokes = metric(b, "edgeai_batch_size_count{model=\"mlp\"} ");
    uint64_t ok = metric(b, "edgeai_model_requests_total{model=\"mlp\",code=\"2xx\"} ");
    /* half the requests are batch 2 (k + id odd) */
    assert_int_equal(ok, NC * NR);
    assert_int_equal(rows, NC * NR / 2 * 3);
    if (max_batch > 1)
        assert_true(invokes < (uint64_t)(NC * NR)); /* some requests shared an invoke */
    else
        assert_int_equal(invokes, NC * NR);
    print_message("max_batch %d threads %d: %llu requests in %llu invokes\n", max_batch, threads,
                  (unsigned long long)ok, (unsigned long long)invokes);
    free(b);
    eai_server_destroy(s);
}

static void test_concurrent_batching_off(void **st)
{
    (void)st;
    run_concurrent(1, 0);
}

static void test_concurrent_batching_on(void **st)
{
    (void)st;
    run_concurrent(8, 0);
}

static void test_concurrent_pool_mode(void **st)
{
    (void)st;
    run_concurrent(4, 4);
}

/* A client that sends half a request and stalls must not block others;
 * hostile bodies get 4xx and leave the server running. */
static void test_slow_and_hostile_clients(void **st)
{
    (void)st;
    eai_serve_model_t ms[] = {{.name = "mlp", .path = MLP}};
    eai_server_opts_t o = {.models = ms,
                           .n_models = 1,
                           .quiet = true,
                           .max_body_bytes = 4096,
                           .request_timeout_ms = 2000};
    eai_server_t *s = start(&o);
    int p = eai_server_port(s);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    const char *half = "POST /v2/models/mlp/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n"
                       "\r\n{\"inputs\":[{\"na";
    assert_true(write(fd, half, strlen(half)) > 0);
    float x[16] = {0};
    char *req = mlp_request("q", x, 1), *b;
    assert_int_equal(post(p, "/v2/models/mlp/infer", req, &b), 200);
    assert_non_null(strstr(b, "\"id\":\"q\""));
    free(b);
    /* a chunked body (no Content-Length) over the limit: read, then 413 */
    CURL *c = curl_easy_init();
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v2/models/mlp/infer", p);
    struct curl_slist *h = curl_slist_append(NULL, "Transfer-Encoding: chunked");
    char *big = malloc(10000);
    memset(big, '[', 10000);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, big);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 10000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    buf_t sink = {calloc(1, 1), 0};
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    long code = 0;
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    assert_int_equal(code, 413);
    free(sink.p);
    free(big);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    /* garbage and deep nesting under the limit */
    char deep[3000];
    memset(deep, '[', sizeof deep - 1);
    deep[sizeof deep - 1] = 0;
    assert_int_equal(post(p, "/v2/models/mlp/infer", deep, NULL), 400);
    uint32_t seed = 99;
    char junk[512];
    for (int r = 0; r < 20; r++) {
        for (size_t i = 0; i < sizeof junk; i++)
            junk[i] = (char)(frand(&seed) * 127);
        code = http(p, "POST", "/v2/models/mlp/infer", junk, sizeof junk, NULL);
        assert_true(code == 400);
    }
    /* the stalled connection is dropped by the server's timeout (2 s) */
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char rb[64];
    ssize_t got = read(fd, rb, sizeof rb);
    assert_true(got <= 0); /* closed (0) rather than answered */
    close(fd);
    assert_int_equal(post(p, "/v2/models/mlp/infer", req, NULL), 200);
    free(req);
    eai_server_destroy(s);
}

static void test_fashion_batch_and_outputs(void **st)
{
    (void)st;
    eai_serve_model_t ms[] = {{.name = "fashion", .path = FASHION, .max_batch = 4}};
    eai_server_opts_t o = {.models = ms, .n_models = 1, .quiet = true};
    eai_server_t *s = start(&o);
    assert_true(eai_server_model_batching(s, "fashion"));
    enum { B = 3, N = 28 * 28 };
    float *x = malloc(B * N * sizeof *x), y[B * 10];
    uint32_t seed = 3;
    for (int i = 0; i < B * N; i++)
        x[i] = (frand(&seed) + 1) / 2;
    eai_kserve_tensor_t t = {.name = "image",
                             .dtype = EAI_F32,
                             .rank = 4,
                             .dims = {B, 1, 28, 28},
                             .data = x,
                             .n_bytes = B * N * 4};
    char *want = "logits";
    eai_kserve_msg_t rq = {.n_tensors = 1, .tensors = &t, .n_requested = 1, .requested = &want};
    char *req, *b;
    size_t n;
    assert_int_equal(eai_kserve_write_request(&rq, &req, &n), EAI_OK);
    assert_int_equal(http(eai_server_port(s), "POST", "/v2/models/fashion/infer", req, n, &b), 200);
    eai_kserve_msg_t r;
    assert_int_equal(eai_kserve_parse_response(b, strlen(b), NULL, &r), EAI_OK);
    assert_null(r.id);
    assert_int_equal(r.n_tensors, 1);
    assert_string_equal(r.tensors[0].name, "logits");
    assert_int_equal(r.tensors[0].dims[0], B);
    reference(FASHION, x, B, y, B * 10);
    check_close(r.tensors[0].data, y, B * 10);
    eai_kserve_msg_free(&r);
    free(b);
    free(req);
    free(x);
    eai_server_destroy(s);
}

/* Collects the Inference-Header-Content-Length response header. */
static size_t on_header(char *d, size_t sz, size_t nm, void *u)
{
    const char *k = "Inference-Header-Content-Length:";
    if (sz * nm > strlen(k) && strncasecmp(d, k, strlen(k)) == 0)
        *(long *)u = strtol(d + strlen(k), NULL, 10);
    return sz * nm;
}

/* POSTs a body whose JSON is `ihcl` bytes long (binary tensor data after). */
static long post_binary(int port, const char *path, const char *body, size_t n, const char *ihcl,
                        buf_t *out, long *resp_ihcl)
{
    CURL *c = curl_easy_init();
    char url[512], hdr[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    snprintf(hdr, sizeof hdr, "Inference-Header-Content-Length: %s", ihcl);
    *out = (buf_t){calloc(1, 1), 0};
    *resp_ihcl = -1;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, resp_ihcl);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/octet-stream");
    h = curl_slist_append(h, hdr);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
    long code = 0;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return code;
}

/* Triton's binary tensor data over HTTP: binary in, binary out, the same
 * numbers as eai_session; a JSON-only output when not asked; bad lengths. */
static void test_binary_tensor_data(void **st)
{
    (void)st;
    eai_serve_model_t ms[] = {{.name = "mlp", .path = MLP}};
    eai_server_opts_t o = {.models = ms, .n_models = 1, .quiet = true};
    eai_server_t *s = start(&o);
    int p = eai_server_port(s);
    char *b;
    assert_int_equal(get(p, "/v2", &b), 200);
    assert_non_null(strstr(b, "\"binary_tensor_data\""));
    free(b);
    enum { B = 2 };
    float x[B * 16], y[B * 4];
    uint32_t seed = 11;
    for (int i = 0; i < B * 16; i++)
        x[i] = frand(&seed);
    reference(MLP, x, B, y, B * 4);
    eai_kserve_tensor_t t = {.name = "input",
                             .dtype = EAI_F32,
                             .rank = 2,
                             .dims = {B, 16},
                             .data = x,
                             .n_bytes = sizeof x,
                             .binary = true};
    for (int want_bin = 0; want_bin < 2; want_bin++) {
        eai_kserve_msg_t rq = {
            .id = "bin", .n_tensors = 1, .tensors = &t, .binary_output = want_bin};
        char *req, hl_s[32];
        size_t n, hl;
        assert_int_equal(eai_kserve_write_request_ex(&rq, &req, &n, &hl), EAI_OK);
        assert_int_equal(n - hl, sizeof x);
        snprintf(hl_s, sizeof hl_s, "%zu", hl);
        buf_t out;
        long rhl;
        assert_int_equal(post_binary(p, "/v2/models/mlp/infer", req, n, hl_s, &out, &rhl), 200);
        eai_kserve_msg_t r;
        if (want_bin) {
            assert_true(rhl > 0 && (size_t)rhl + sizeof y == out.n);
        } else {
            assert_int_equal(rhl, -1); /* plain JSON answer: no header */
            rhl = 0;
        }
        assert_int_equal(eai_kserve_parse_response_ex(out.p, out.n, (size_t)rhl, NULL, &r), EAI_OK);
        assert_int_equal(r.tensors[0].binary, want_bin);
        check_close(r.tensors[0].data, y, B * 4);
        eai_kserve_msg_free(&r);
        free(out.p);
        /* a header length that is not a number or runs past the body: 400 */
        const char *bad[] = {"abc", "-5", "999999999"};
        for (int k = 0; k < 3; k++) {
            assert_int_equal(post_binary(p, "/v2/models/mlp/infer", req, n, bad[k], &out, &rhl),
                             400);
            assert_non_null(strstr(out.p, "Inference-Header-Content-Length"));
            free(out.p);
        }
        free(req);
    }
    eai_server_destroy(s);
}

static void test_bad_options(void **st)
{
    (void)st;
    eai_server_t *s;
    eai_serve_model_t ms[] = {{.name = "a b", .path = MLP}};
    eai_server_opts_t o = {.models = ms, .n_models = 1, .quiet = true};
    assert_int_equal(eai_server_create(&o, &s), EAI_E_INVALID);
    ms[0].name = "m";
    ms[0].path = "/nonexistent.onnx";
    assert_int_equal(eai_server_create(&o, &s), EAI_E_IO);
    assert_non_null(strstr(eai_last_error(), "\"m\""));
    ms[0].path = MLP;
    o.host = "localhost:80";
    assert_int_equal(eai_server_create(&o, &s), EAI_E_INVALID);
    o.n_models = 0;
    assert_int_equal(eai_server_create(&o, &s), EAI_E_INVALID);
    eai_server_destroy(NULL);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_endpoints_and_errors),
        cmocka_unit_test(test_fashion_batch_and_outputs),
        cmocka_unit_test(test_concurrent_batching_off),
        cmocka_unit_test(test_concurrent_batching_on),
        cmocka_unit_test(test_concurrent_pool_mode),
        cmocka_unit_test(test_slow_and_hostile_clients),
        cmocka_unit_test(test_binary_tensor_data),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
