/* The edge-cloud cascade: the edge session always runs; an unconfident answer
 * is sent to the cloud as a KServe v2 JSON request over one kept-alive libcurl
 * handle, guarded by per-attempt timeouts, bounded retries and the circuit
 * breaker, so a slow or dead cloud costs at most a bounded wait per request
 * and, once the breaker opens, nothing at all. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "core/core_impl.h"
#include "edgeai/kserve.h"
#include "edgeai/session.h"
#include "route/route_impl.h"

#define MAX_RESPONSE_BYTES ((size_t)16 << 20)

struct eai_router {
    eai_model_t *own_model; /* loaded from edge_path; NULL when borrowed */
    const eai_model_t *model;
    eai_session_t *sess;
    int in_idx, out_idx;
    eai_tensor_info_t in_info;
    int64_t in_numel;
    float threshold, temperature;
    int timeout_ms, retries, backoff_ms;
    char *url, *cloud_in, *cloud_out;
    CURL *curl;
    struct curl_slist *headers;
    char *resp; /* response body, grown as needed, capped at MAX_RESPONSE_BYTES */
    size_t resp_n, resp_cap;
    bool resp_overflow;
    bool json_wire;
    long resp_ihcl; /* the response's Inference-Header-Content-Length; -1: none */
    uint64_t next_id;
    int64_t (*clock_us)(void *);
    void *clock_user;
    eai__breaker_t breaker;
    char err[256]; /* last cloud error sentence, for the breaker log */
};

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t mono_clock(void *u)
{
    (void)u;
    return mono_us();
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Largest softmax(v / t) probability and its index (stable: max subtracted). */
static void top1(const float *v, int64_t k, float t, int *cls, float *conf)
{
    int64_t am = 0;
    for (int64_t j = 1; j < k; j++)
        if (v[j] > v[am]) am = j;
    double s = 0, inv_t = 1.0 / t;
    for (int64_t j = 0; j < k; j++)
        s += exp(((double)v[j] - v[am]) * inv_t);
    *cls = (int)am;
    *conf = (float)(1.0 / s);
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *user)
{
    eai_router_t *r = user;
    size_t n = size * nmemb;
    if (r->resp_n + n + 1 > MAX_RESPONSE_BYTES) {
        r->resp_overflow = true;
        return 0; /* makes libcurl fail the transfer with CURLE_WRITE_ERROR */
    }
    if (r->resp_n + n + 1 > r->resp_cap) {
        size_t cap = r->resp_cap ? r->resp_cap : 4096;
        while (cap < r->resp_n + n + 1)
            cap *= 2;
        char *q = eai__realloc(NULL, r->resp, cap);
        if (!q) return 0;
        r->resp = q;
        r->resp_cap = cap;
    }
    memcpy(r->resp + r->resp_n, p, n);
    r->resp_n += n;
    r->resp[r->resp_n] = '\0';
    return n;
}

static char *dup_or(const char *s, const char *def)
{
    return eai__strdup(NULL, s ? s : def);
}

/* Picks the Inference-Header-Content-Length out of the response headers. */
static size_t on_header(char *p, size_t size, size_t nmemb, void *user)
{
    eai_router_t *r = user;
    size_t n = size * nmemb;
    static const char k[] = "Inference-Header-Content-Length:";
    if (n > sizeof k - 1 && strncasecmp(p, k, sizeof k - 1) == 0) {
        char v[32];
        size_t m = n - (sizeof k - 1) < sizeof v - 1 ? n - (sizeof k - 1) : sizeof v - 1;
        memcpy(v, p + sizeof k - 1, m);
        v[m] = 0;
        char *end;
        long x = strtol(v, &end, 10);
        r->resp_ihcl = end != v && x >= 0 ? x : -2; /* -2: present but unreadable */
    }
    return n;
}

static eai_status_t resolve_io(eai_router_t *r, const eai_router_opts_t *o)
{
    if (eai_session_n_inputs(r->sess) < 1 || eai_session_n_outputs(r->sess) < 1)
        return eai_fail(EAI_E_INVALID, "router: edge model has no input or output");
    r->in_idx = o->input_name ? eai_session_input_index(r->sess, o->input_name) : 0;
    r->out_idx = o->output_name ? eai_session_output_index(r->sess, o->output_name) : 0;
    if (r->in_idx < 0)
        return eai_fail(EAI_E_INVALID, "router: edge model has no input '%s'", o->input_name);
    if (r->out_idx < 0)
        return eai_fail(EAI_E_INVALID, "router: edge model has no output '%s'", o->output_name);
    EAI_TRY(eai_session_input_info(r->sess, r->in_idx, &r->in_info));
    if (r->in_info.dtype != EAI_F32)
        return eai_fail(EAI_E_INVALID, "router: edge input '%s' is %s, expected float32",
                        r->in_info.name, eai_dtype_name(r->in_info.dtype));
    r->in_numel = eai_tensor_info_numel(&r->in_info);
    eai_tensor_info_t oi;
    EAI_TRY(eai_session_output_info(r->sess, r->out_idx, &oi));
    if (oi.dtype != EAI_F32 || eai_tensor_info_numel(&oi) < 2)
        return eai_fail(EAI_E_INVALID,
                        "router: edge output '%s' must be float32 logits of >= 2 "
                        "classes",
                        oi.name);
    r->cloud_in = dup_or(o->cloud_input_name, r->in_info.name);
    r->cloud_out = dup_or(o->cloud_output_name, oi.name);
    if (!r->cloud_in || !r->cloud_out) return eai_fail(EAI_E_NOMEM, "router: out of memory");
    return EAI_OK;
}

static eai_status_t open_cloud(eai_router_t *r, const eai_router_opts_t *o)
{
    if (!o->cloud_url) return EAI_OK;
    const char *base = o->cloud_url, *name = o->cloud_model ? o->cloud_model : "cloud";
    if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0)
        return eai_fail(EAI_E_INVALID, "router: cloud URL '%s' must start with http://", base);
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    size_t n = bl + strlen(name) + 32;
    r->url = eai__alloc(NULL, n);
    if (!r->url) return eai_fail(EAI_E_NOMEM, "router: out of memory");
    snprintf(r->url, n, "%.*s/v2/models/%s/infer", (int)bl, base, name);
    r->curl = curl_easy_init();
    /* "Expect:" off: for bodies over 1 KiB libcurl would otherwise wait up
     * to a second for a "100 Continue" the server may never send. */
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    if (h) r->headers = h;
    h = h ? curl_slist_append(r->headers, "Expect:") : NULL;
    if (!r->curl || !h) return eai_fail(EAI_E_NOMEM, "router: cannot create an HTTP handle");
    r->headers = h;
    CURL *c = r->curl;
    curl_easy_setopt(c, CURLOPT_URL, r->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    /* No signals: a timeout must not rely on SIGALRM in a threaded host. */
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)r->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)r->timeout_ms);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, ""); /* loopback/LAN cloud: ignore *_proxy env */
    return EAI_OK;
}

eai_status_t eai_router_create(const eai_router_opts_t *opts, eai_router_t **out)
{
    if (!opts || !out) return eai_fail(EAI_E_INVALID, "router: NULL opts or out");
    const eai_router_opts_t *o = opts;
    if (!o->edge_model && !o->edge_path)
        return eai_fail(EAI_E_INVALID, "router: no edge model (edge_model or edge_path)");
    if (o->temperature < 0 || !isfinite(o->temperature))
        return eai_fail(EAI_E_INVALID, "router: temperature %g, expected > 0",
                        (double)o->temperature);
    if (o->timeout_ms < 0 || o->backoff_ms < 0 || o->breaker_failures < 0 ||
        o->breaker_cooldown_ms < 0)
        return eai_fail(EAI_E_INVALID, "router: negative timeout, backoff or breaker setting");
    eai_router_t *r = eai__calloc(NULL, 1, sizeof *r);
    if (!r) return eai_fail(EAI_E_NOMEM, "router: out of memory");
    r->threshold = o->threshold == 0 ? 0.85f : o->threshold;
    r->temperature = o->temperature > 0 ? o->temperature : 1.0f;
    r->timeout_ms = o->timeout_ms ? o->timeout_ms : 200;
    r->json_wire = o->json_wire;
    r->retries = o->retries == 0 ? 1 : o->retries < 0 ? 0 : o->retries;
    r->backoff_ms = o->backoff_ms ? o->backoff_ms : 10;
    r->clock_us = o->clock_us ? o->clock_us : mono_clock;
    r->clock_user = o->clock_user;
    eai__breaker_init(&r->breaker, o->breaker_failures ? o->breaker_failures : 3,
                      (int64_t)(o->breaker_cooldown_ms ? o->breaker_cooldown_ms : 1000) * 1000,
                      o->on_breaker, o->user);
    eai_status_t st = EAI_OK;
    if (o->temperature == 0 && o->calib_path) st = eai_calib_load(o->calib_path, &r->temperature);
    if (st == EAI_OK && !o->edge_model) st = eai_model_load(o->edge_path, NULL, &r->own_model);
    if (st == EAI_OK) {
        r->model = o->edge_model ? o->edge_model : r->own_model;
        eai_session_opts_t so = {.backend = o->backend};
        st = eai_session_create(r->model, &so, &r->sess);
    }
    if (st == EAI_OK) st = resolve_io(r, o);
    if (st == EAI_OK) st = open_cloud(r, o);
    if (st != EAI_OK) {
        eai_router_destroy(r);
        return st;
    }
    *out = r;
    return EAI_OK;
}

void eai_router_destroy(eai_router_t *r)
{
    if (!r) return;
    if (r->curl) curl_easy_cleanup(r->curl);
    curl_slist_free_all(r->headers);
    eai_session_destroy(r->sess);
    eai_model_destroy(r->own_model);
    eai__free(NULL, r->url);
    eai__free(NULL, r->cloud_in);
    eai__free(NULL, r->cloud_out);
    eai__free(NULL, r->resp);
    eai__free(NULL, r);
}

/* Reads the class and confidence out of a parsed response. */
static eai_status_t read_answer(const eai_router_t *r, const eai_kserve_msg_t *m, int *cls,
                                float *conf)
{
    const eai_kserve_tensor_t *t = NULL;
    for (int i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].name && strcmp(m->tensors[i].name, r->cloud_out) == 0) t = &m->tensors[i];
    if (!t && m->n_tensors == 1) t = &m->tensors[0];
    if (!t)
        return eai_fail(EAI_E_FORMAT, "router: cloud response has no output '%s'", r->cloud_out);
    int64_t k = 1;
    for (int d = 0; d < t->rank; d++)
        k *= t->dims[d];
    if (k < 2 || (t->dtype != EAI_F32 && t->dtype != EAI_F64))
        return eai_fail(EAI_E_FORMAT,
                        "router: cloud output '%s' must be FP32/FP64 logits of >= 2 "
                        "classes",
                        r->cloud_out);
    if (t->dtype == EAI_F32) {
        top1(t->data, k, 1.0f, cls, conf);
        return EAI_OK;
    }
    const double *v = t->data;
    int64_t am = 0;
    for (int64_t j = 1; j < k; j++)
        if (v[j] > v[am]) am = j;
    double s = 0;
    for (int64_t j = 0; j < k; j++)
        s += exp(v[j] - v[am]);
    *cls = (int)am;
    *conf = (float)(1.0 / s);
    return EAI_OK;
}

/* One HTTP attempt. *retryable says whether trying again could help.
 * `hdrs` are this request's headers. */
static eai_status_t attempt(eai_router_t *r, const char *body, size_t n,
                            const struct curl_slist *hdrs, eai_route_result_t *res, bool *retryable)
{
    CURL *c = r->curl;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    r->resp_n = 0;
    r->resp_overflow = false;
    r->resp_ihcl = -1;
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
    CURLcode cc = curl_easy_perform(c);
    res->cloud_attempts++;
    long req_hdr = 0, resp_hdr = 0;
    curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &req_hdr);
    curl_easy_getinfo(c, CURLINFO_HEADER_SIZE, &resp_hdr);
    /* REQUEST_SIZE counts what was sent, the body included; 0 if the
     * connection never opened. */
    res->bytes_sent += req_hdr;
    res->bytes_received += resp_hdr + (int64_t)r->resp_n;
    *retryable = true;
    if (cc != CURLE_OK) {
        eai_status_t st = cc == CURLE_OPERATION_TIMEDOUT ? EAI_E_TIMEOUT : EAI_E_UNAVAILABLE;
        if (r->resp_overflow) {
            *retryable = false;
            return eai_fail(EAI_E_FORMAT, "router: cloud response over %zu bytes",
                            MAX_RESPONSE_BYTES);
        }
        return eai_fail(st, "router: cloud %s: %s", r->url, curl_easy_strerror(cc));
    }
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    eai_kserve_msg_t m;
    eai_status_t st;
    if (r->resp_ihcl < -1 || (r->resp_ihcl >= 0 && (size_t)r->resp_ihcl > r->resp_n))
        st = eai_fail(EAI_E_FORMAT, "router: cloud sent a bad Inference-Header-Content-Length");
    else
        st = eai_kserve_parse_response_ex(r->resp ? r->resp : "", r->resp_n,
                                          r->resp_ihcl > 0 ? (size_t)r->resp_ihcl : 0, NULL, &m);
    if (code != 200) {
        /* 4xx: our request is wrong (model name, shape); retrying cannot fix it. */
        *retryable = code >= 500;
        char sentence[160];
        snprintf(sentence, sizeof sentence, "%s", st == EAI_E_UNAVAILABLE ? eai_last_error() : "");
        if (st == EAI_OK) eai_kserve_msg_free(&m);
        return eai_fail(EAI_E_UNAVAILABLE, "router: cloud %s: HTTP %ld %s", r->url, code, sentence);
    }
    if (st != EAI_OK) {
        *retryable = false;
        return st;
    }
    int cls = -1;
    float conf = 0;
    st = read_answer(r, &m, &cls, &conf);
    eai_kserve_msg_free(&m);
    if (st != EAI_OK) {
        *retryable = false;
        return st;
    }
    res->cloud_cls = cls;
    res->confidence = conf;
    return EAI_OK;
}

/* Asks the cloud with up to `retries` retries (exponential backoff). */
static eai_status_t ask_cloud(eai_router_t *r, const float *x, int retries, eai_route_result_t *res)
{
    if (!r->curl) return eai_fail(EAI_E_UNAVAILABLE, "router: no cloud configured");
    char id[24];
    snprintf(id, sizeof id, "%llu", (unsigned long long)++r->next_id);
    eai_kserve_tensor_t t = {
        .name = r->cloud_in,
        .dtype = EAI_F32,
        .rank = r->in_info.rank,
        .data = (void *)x, /* only read by the writer */
        .n_bytes = (size_t)r->in_numel * sizeof(float),
    };
    memcpy(t.dims, r->in_info.dims, sizeof t.dims);
    char *requested[1] = {r->cloud_out};
    bool want_bin[1] = {!r->json_wire};
    t.binary = !r->json_wire;
    eai_kserve_msg_t m = {.id = id,
                          .n_tensors = 1,
                          .tensors = &t,
                          .n_requested = 1,
                          .requested = requested,
                          .requested_binary = want_bin};
    char *body;
    size_t n, hl = 0;
    int64_t t0 = mono_us();
    EAI_TRY(eai_kserve_write_request_ex(&m, &body, &n, &hl));
    /* the JSON length differs with the id's digits: one header list per call
     * (a cloud call allocates its body anyway) */
    struct curl_slist *hdrs = r->headers, *extra = NULL;
    if (hl) {
        char line[80];
        snprintf(line, sizeof line, "Inference-Header-Content-Length: %zu", hl);
        const char *lines[] = {"Content-Type: application/octet-stream", "Expect:", line};
        for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
            struct curl_slist *nx = curl_slist_append(extra, lines[i]);
            if (!nx) {
                curl_slist_free_all(extra);
                free(body);
                return eai_fail(EAI_E_NOMEM, "router: out of memory");
            }
            extra = nx;
        }
        hdrs = extra;
    }
    eai_status_t st = EAI_OK;
    for (int i = 0; i <= retries; i++) {
        if (i > 0) sleep_ms(r->backoff_ms << (i - 1 < 20 ? i - 1 : 20));
        bool retryable;
        st = attempt(r, body, n, hdrs, res, &retryable);
        if (st == EAI_OK || !retryable) break;
    }
    curl_slist_free_all(extra);
    free(body); /* the codec's buffer: plain free, as kserve.h says */
    res->cloud_us = mono_us() - t0;
    res->cloud_status = st;
    if (st != EAI_OK) snprintf(r->err, sizeof r->err, "%s", eai_last_error());
    return st;
}

static eai_status_t check_x(const eai_router_t *r, const float *x, int64_t n,
                            const eai_route_result_t *res)
{
    if (!x || !res) return eai_fail(EAI_E_INVALID, "router: NULL input or result");
    if (n != r->in_numel)
        return eai_fail(EAI_E_INVALID,
                        "router: input has %lld floats, the edge model's '%s' "
                        "takes %lld",
                        (long long)n, r->in_info.name, (long long)r->in_numel);
    return EAI_OK;
}

static void reset(eai_route_result_t *res, const eai_router_t *r)
{
    *res = (eai_route_result_t){.cloud_cls = -1, .edge_cls = -1, .breaker = r->breaker.state};
}

eai_status_t eai_router_infer(eai_router_t *r, const float *x, int64_t n, eai_route_result_t *res)
{
    if (!r) return eai_fail(EAI_E_INVALID, "router: NULL router");
    EAI_TRY(check_x(r, x, n, res));
    reset(res, r);
    int64_t t0 = mono_us();
    EAI_TRY(eai_session_set_input(r->sess, r->in_idx, x, (size_t)n * sizeof(float)));
    EAI_TRY(eai_session_invoke(r->sess));
    const float *logits;
    eai_tensor_info_t oi;
    EAI_TRY(eai_session_get_output(r->sess, r->out_idx, (const void **)&logits, &oi));
    top1(logits, eai_tensor_info_numel(&oi), r->temperature, &res->edge_cls, &res->edge_confidence);
    res->edge_us = mono_us() - t0;
    res->tier = EAI_ROUTE_EDGE;
    res->cls = res->edge_cls;
    res->confidence = res->edge_confidence;
    if (r->threshold < 0 || res->edge_confidence >= r->threshold) return EAI_OK;

    /* Unconfident: the cloud, if configured and the breaker lets us. */
    res->tier = EAI_ROUTE_EDGE_FALLBACK;
    if (!r->curl || !eai__breaker_allow(&r->breaker, r->clock_us(r->clock_user))) {
        res->cloud_status = r->curl ? EAI_E_UNAVAILABLE : EAI_OK;
        res->breaker = r->breaker.state;
        return EAI_OK;
    }
    /* A half-open probe gets one attempt: it is a test, not a rescue. */
    int retries = r->breaker.state == EAI_BREAKER_HALF_OPEN ? 0 : r->retries;
    eai_route_result_t cloud = *res;
    eai_status_t st = ask_cloud(r, x, retries, &cloud);
    int64_t now = r->clock_us(r->clock_user);
    *res = cloud;
    if (st == EAI_OK) {
        eai__breaker_success(&r->breaker, now);
        res->tier = EAI_ROUTE_CLOUD;
        res->cls = res->cloud_cls;
    } else {
        eai__breaker_failure(&r->breaker, now, r->err);
        res->cls = res->edge_cls;
        res->confidence = res->edge_confidence;
    }
    res->breaker = r->breaker.state;
    eai_clear_error(); /* a cloud failure is reported in res, not as an error */
    return EAI_OK;
}

eai_status_t eai_router_cloud_only(eai_router_t *r, const float *x, int64_t n,
                                   eai_route_result_t *res)
{
    if (!r) return eai_fail(EAI_E_INVALID, "router: NULL router");
    EAI_TRY(check_x(r, x, n, res));
    reset(res, r);
    EAI_TRY(ask_cloud(r, x, 0, res));
    res->tier = EAI_ROUTE_CLOUD;
    res->cls = res->cloud_cls;
    return EAI_OK;
}

eai_breaker_state_t eai_router_breaker_state(const eai_router_t *r)
{
    return r ? r->breaker.state : EAI_BREAKER_CLOSED;
}

float eai_router_temperature(const eai_router_t *r)
{
    return r ? r->temperature : 0;
}

float eai_router_threshold(const eai_router_t *r)
{
    return r ? r->threshold : 0;
}
