/* The HTTP front end of `edgeai serve`: libmicrohttpd daemon, routing, body
 * limits, KServe v2 handlers. Inference itself happens on the model workers
 * (worker.c); /metrics is rendered by metrics.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "core/core_impl.h"
#include "edgeai/edgeai.h"
#include "serve/serve_impl.h"

#define DEF_MAX_BODY ((size_t)64 << 20)

struct eai_server {
    eai_server_opts_t o;
    char *host;
    srv_model_t *models;
    int n_models;
    struct MHD_Daemon *d;
    int port;
    atomic_bool ready;
    pthread_mutex_t mu; /* global counters */
    uint64_t http_class[6];
};

/* Renders /metrics; in metrics.c. */
char *eai__srv_metrics_text(srv_model_t *models, int n_models, const uint64_t http_class[6],
                            pthread_mutex_t *mu, size_t *n);

enum { R_NONE, R_LIVE, R_READY, R_META, R_MODEL, R_MODEL_READY, R_INFER, R_METRICS };

typedef struct conn {
    int route;
    srv_model_t *m;
    char *buf;
    size_t n, cap;
    bool too_big;
    int64_t t0;
} conn_t;

static srv_model_t *find_model(eai_server_t *s, const char *name, size_t len)
{
    for (int i = 0; i < s->n_models; i++)
        if (strlen(s->models[i].name) == len && memcmp(s->models[i].name, name, len) == 0)
            return &s->models[i];
    return NULL;
}

static void count(eai_server_t *s, srv_model_t *m, unsigned code)
{
    unsigned k = code / 100 < 6 ? code / 100 : 5;
    pthread_mutex_lock(&s->mu);
    s->http_class[k]++;
    pthread_mutex_unlock(&s->mu);
    if (m) {
        pthread_mutex_lock(&m->mu);
        m->req_class[k]++;
        pthread_mutex_unlock(&m->mu);
    }
}

#define HDR_IHCL "Inference-Header-Content-Length"

/* Queues `body` (malloc'ed, taken) with `code`; `ihcl` > 0 is the JSON
 * length of a body with binary tensor data after it. */
static enum MHD_Result reply_ex(eai_server_t *s, struct MHD_Connection *c, srv_model_t *m,
                                unsigned code, char *body, size_t n, const char *ctype, size_t ihcl)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(n, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (ihcl) {
        char v[32];
        snprintf(v, sizeof v, "%zu", ihcl);
        MHD_add_response_header(r, HDR_IHCL, v);
    }
    if (code == 405) /* only the infer route is POST, and only it counts per model */
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, m ? "POST" : "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    count(s, m, code);
    return ret;
}

static enum MHD_Result reply(eai_server_t *s, struct MHD_Connection *c, srv_model_t *m,
                             unsigned code, char *body, size_t n, const char *ctype)
{
    return reply_ex(s, c, m, code, body, n, ctype, 0);
}

static enum MHD_Result reply_json(eai_server_t *s, struct MHD_Connection *c, srv_model_t *m,
                                  unsigned code, const char *json)
{
    size_t n = strlen(json);
    char *b = malloc(n + 1);
    if (!b) return MHD_NO;
    memcpy(b, json, n + 1);
    return reply(s, c, m, code, b, n, "application/json");
}

static enum MHD_Result reply_err(eai_server_t *s, struct MHD_Connection *c, srv_model_t *m,
                                 unsigned code, const char *method, const char *url,
                                 const char *fmt, ...) EAI_PRINTF(7, 8);
static enum MHD_Result reply_err(eai_server_t *s, struct MHD_Connection *c, srv_model_t *m,
                                 unsigned code, const char *method, const char *url,
                                 const char *fmt, ...)
{
    char msg[SRV_ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!s->o.quiet) fprintf(stderr, "edgeai serve: %u %s %.200s: %s\n", code, method, url, msg);
    char *b;
    size_t n;
    if (eai_kserve_write_error(msg, &b, &n) != EAI_OK) return MHD_NO;
    return reply(s, c, m, code, b, n, "application/json");
}

/* Appends a JSON-escaped string (names are restricted at create, but
 * tensor names come from model files). */
static void put_jstr(char **p, size_t *left, const char *str)
{
    int k = snprintf(*p, *left, "\"");
    for (const char *q = str; *q && k >= 0 && (size_t)k < *left; q++) {
        if (*q == '"' || *q == '\\')
            k += snprintf(*p + k, *left - (size_t)k, "\\%c", *q);
        else if ((unsigned char)*q < 0x20)
            k += snprintf(*p + k, *left - (size_t)k, "\\u%04x", (unsigned char)*q);
        else
            k += snprintf(*p + k, *left - (size_t)k, "%c", *q);
    }
    if (k >= 0 && (size_t)k < *left) k += snprintf(*p + k, *left - (size_t)k, "\"");
    if (k < 0 || (size_t)k >= *left) k = (int)*left;
    *p += k;
    *left -= (size_t)k;
}

static void put_tensor_meta(char **p, size_t *left, const eai_tensor_info_t *t)
{
    int k = snprintf(*p, *left, "{\"name\":");
    *p += k, *left -= (size_t)k;
    put_jstr(p, left, t->name);
    const char *dn = eai_kserve_dtype_name(t->dtype);
    k = snprintf(*p, *left, ",\"datatype\":\"%s\",\"shape\":[", dn ? dn : "UNKNOWN");
    for (int d = 0; d < t->rank && k >= 0 && (size_t)k < *left; d++)
        k += snprintf(*p + k, *left - (size_t)k, d ? ",%lld" : "%lld", (long long)t->dims[d]);
    if (k >= 0 && (size_t)k < *left) k += snprintf(*p + k, *left - (size_t)k, "]}");
    if (k < 0 || (size_t)k >= *left) k = (int)*left;
    *p += k, *left -= (size_t)k;
}

static enum MHD_Result model_meta(eai_server_t *s, struct MHD_Connection *c, srv_model_t *m)
{
    size_t cap = 1024 + (size_t)(m->n_in + m->n_out) * (256 + 24 * EAI_MAX_RANK) + strlen(m->name);
    char *b = malloc(cap), *p = b;
    if (!b) return MHD_NO;
    size_t left = cap;
    int k = snprintf(p, left, "{\"name\":");
    p += k, left -= (size_t)k;
    put_jstr(&p, &left, m->name);
    k = snprintf(p, left, ",\"versions\":[\"1\"],\"platform\":\"edgeai\",\"inputs\":[");
    p += k, left -= (size_t)k;
    for (int i = 0; i < m->n_in; i++) {
        if (i && left > 1) *p++ = ',', left--;
        put_tensor_meta(&p, &left, &m->in[i]);
    }
    k = snprintf(p, left, "],\"outputs\":[");
    p += k, left -= (size_t)k;
    for (int i = 0; i < m->n_out; i++) {
        if (i && left > 1) *p++ = ',', left--;
        put_tensor_meta(&p, &left, &m->out[i]);
    }
    k = snprintf(p, left, "],\"parameters\":{\"dynamic_batching\":%s,\"max_batch_size\":%d}}",
                 m->batching ? "true" : "false", m->max_batch);
    p += k < 0 || (size_t)k >= left ? left - 1 : (size_t)k;
    return reply(s, c, NULL, 200, b, (size_t)(p - b), "application/json");
}

static enum MHD_Result do_infer(eai_server_t *s, struct MHD_Connection *c, conn_t *cn,
                                const char *method, const char *url)
{
    srv_model_t *m = cn->m;
    eai_kserve_limits_t lim = {.max_body_bytes = s->o.max_body_bytes};
    /* binary tensor data: the header says where the JSON ends */
    size_t ihcl = 0;
    const char *hv = MHD_lookup_connection_value(c, MHD_HEADER_KIND, HDR_IHCL);
    if (hv) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(hv, &end, 10);
        if (errno || end == hv || *end || hv[0] == '-' || v > cn->n)
            return reply_err(s, c, m, 400, method, url,
                             HDR_IHCL " \"%.40s\" is not a length within the %zu-byte body", hv,
                             cn->n);
        ihcl = (size_t)v;
    }
    eai_kserve_msg_t msg;
    eai_status_t st = eai_kserve_parse_request_ex(cn->buf ? cn->buf : "", cn->n, ihcl, &lim, &msg);
    if (st != EAI_OK)
        return reply_err(s, c, m, st == EAI_E_NOMEM ? 500 : 400, method, url, "%s",
                         eai_last_error());
    srv_req_t r;
    memset(&r, 0, sizeof r);
    const void *in_data[64];
    const void **ind = m->n_in <= 64 ? in_data : calloc((size_t)m->n_in, sizeof *ind);
    if (!ind) {
        eai_kserve_msg_free(&msg);
        return reply_err(s, c, m, 500, method, url, "serve: out of memory");
    }
    r.in_data = ind;
    char err[SRV_ERR_LEN];
    int code = eai__srv_model_check(m, &msg, &r, err, sizeof err);
    if (code == 0) {
        int to = s->o.request_timeout_ms > 0 ? s->o.request_timeout_ms : 30000;
        code = eai__srv_model_run(m, &r, to);
        if (code != 200) snprintf(err, sizeof err, "%s", r.err);
    }
    enum MHD_Result ret;
    if (code != 200) {
        ret = reply_err(s, c, m, (unsigned)code, method, url, "%s", err);
    } else {
        /* the "outputs" field selects (and orders) the outputs returned,
         * and each may ask for binary data */
        eai_kserve_tensor_t sel[64];
        eai_kserve_msg_t out = {.id = msg.id, .model_name = m->name, .model_version = "1"};
        if (msg.n_requested > 0) {
            out.tensors = sel;
            for (int q = 0; q < msg.n_requested && q < 64; q++)
                for (int o = 0; o < m->n_out; o++)
                    if (strcmp(m->out[o].name, msg.requested[q]) == 0) {
                        sel[out.n_tensors] = r.outs[o];
                        sel[out.n_tensors++].binary = msg.binary_output || msg.requested_binary[q];
                    }
        } else {
            out.tensors = r.outs;
            out.n_tensors = m->n_out;
            for (int o = 0; o < m->n_out; o++)
                r.outs[o].binary = msg.binary_output;
        }
        char *b;
        size_t n, hl = 0;
        if (eai_kserve_write_response_ex(&out, &b, &n, &hl) != EAI_OK) {
            ret = reply_err(s, c, m, 500, method, url, "%s", eai_last_error());
        } else {
            double dt = (double)(eai__srv_now_ns() - cn->t0) * 1e-9;
            pthread_mutex_lock(&m->mu);
            int k = 0;
            while (k < SRV_N_LAT && dt > eai__srv_lat_le[k])
                k++;
            m->lat_bucket[k]++;
            m->lat_sum += dt;
            m->lat_count++;
            pthread_mutex_unlock(&m->mu);
            ret = reply_ex(s, c, m, 200, b, n, hl ? "application/octet-stream" : "application/json",
                           hl);
        }
    }
    eai__srv_req_free_outs(m, &r);
    if (ind != in_data) free(ind);
    eai_kserve_msg_free(&msg);
    return ret;
}

static int route(eai_server_t *s, const char *url, srv_model_t **m)
{
    *m = NULL;
    if (strcmp(url, "/v2/health/live") == 0) return R_LIVE;
    if (strcmp(url, "/v2/health/ready") == 0) return R_READY;
    if (strcmp(url, "/v2") == 0 || strcmp(url, "/v2/") == 0) return R_META;
    if (strcmp(url, "/metrics") == 0) return R_METRICS;
    const char *pre = "/v2/models/";
    if (strncmp(url, pre, strlen(pre)) != 0) return R_NONE;
    const char *name = url + strlen(pre), *slash = strchr(name, '/');
    size_t len = slash ? (size_t)(slash - name) : strlen(name);
    *m = find_model(s, name, len);
    if (!slash) return R_MODEL;
    if (strcmp(slash, "/ready") == 0) return R_MODEL_READY;
    if (strcmp(slash, "/infer") == 0) return R_INFER;
    return R_NONE;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    eai_server_t *s = cls;
    conn_t *cn = *con_cls;
    if (!cn) {
        cn = calloc(1, sizeof *cn);
        if (!cn) return MHD_NO;
        *con_cls = cn;
        cn->t0 = eai__srv_now_ns();
        cn->route = route(s, url, &cn->m);
        bool is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
        bool is_post = strcmp(method, "POST") == 0;
        if (cn->route == R_NONE)
            return reply_err(s, c, NULL, 404, method, url, "no such endpoint: %.200s", url);
        if (cn->route >= R_MODEL && cn->route <= R_INFER && !cn->m)
            return reply_err(s, c, NULL, 404, method, url, "unknown model in %.200s", url);
        if (cn->route == R_INFER ? !is_post : !is_get)
            return reply_err(s, c, cn->route == R_INFER ? cn->m : NULL, 405, method, url,
                             "method %s not allowed on %.200s", method, url);
        if (cn->route == R_INFER) {
            const char *cl =
                MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
            size_t lim = s->o.max_body_bytes ? s->o.max_body_bytes : DEF_MAX_BODY;
            if (cl && strtoull(cl, NULL, 10) > lim)
                /* answer before reading the body: MHD then closes the connection */
                return reply_err(s, c, cn->m, 413, method, url,
                                 "body of %s bytes exceeds the limit of %zu", cl, lim);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        size_t lim = s->o.max_body_bytes ? s->o.max_body_bytes : DEF_MAX_BODY;
        if (!cn->too_big && cn->n + *upload_size > lim) {
            cn->too_big = true;
            free(cn->buf);
            cn->buf = NULL;
        }
        if (!cn->too_big) {
            if (cn->n + *upload_size + 1 > cn->cap) {
                size_t nc = cn->cap ? cn->cap : 4096;
                while (nc < cn->n + *upload_size + 1)
                    nc *= 2;
                char *nb = realloc(cn->buf, nc);
                if (!nb) return MHD_NO;
                cn->buf = nb;
                cn->cap = nc;
            }
            memcpy(cn->buf + cn->n, upload, *upload_size);
            cn->n += *upload_size;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    srv_model_t *m = cn->m;
    switch (cn->route) {
    case R_LIVE:
        return reply_json(s, c, NULL, 200, "{\"live\":true}");
    case R_READY:
        if (!atomic_load(&s->ready))
            return reply_err(s, c, NULL, 503, method, url, "server is not ready");
        return reply_json(s, c, NULL, 200, "{\"ready\":true}");
    case R_META:
        return reply_json(s, c, NULL, 200,
                          "{\"name\":\"edgeai\",\"version\":\"" EAI_VERSION_STRING
                          "\",\"extensions\":[\"binary_tensor_data\"]}");
    case R_METRICS: {
        size_t n;
        char *b = eai__srv_metrics_text(s->models, s->n_models, s->http_class, &s->mu, &n);
        if (!b) return reply_err(s, c, NULL, 500, method, url, "serve: out of memory");
        return reply(s, c, NULL, 200, b, n, "text/plain; version=0.0.4");
    }
    case R_MODEL:
        return model_meta(s, c, m);
    case R_MODEL_READY:
        if (!atomic_load(&s->ready))
            return reply_err(s, c, NULL, 503, method, url, "model \"%s\" is not ready", m->name);
        return reply_json(s, c, NULL, 200, "{\"ready\":true}");
    case R_INFER:
        if (cn->too_big) {
            size_t lim = s->o.max_body_bytes ? s->o.max_body_bytes : DEF_MAX_BODY;
            return reply_err(s, c, m, 413, method, url, "body exceeds the limit of %zu bytes", lim);
        }
        if (!atomic_load(&s->ready))
            return reply_err(s, c, m, 503, method, url, "model \"%s\" is not ready", m->name);
        return do_infer(s, c, cn, method, url);
    default:
        return reply_err(s, c, NULL, 404, method, url, "no such endpoint");
    }
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    conn_t *cn = *con_cls;
    if (cn) {
        free(cn->buf);
        free(cn);
        *con_cls = NULL;
    }
}

static bool name_ok(const char *n)
{
    if (!n || !*n) return false;
    for (const char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.'))
            return false;
    return true;
}

eai_status_t eai_server_create(const eai_server_opts_t *opts, eai_server_t **out)
{
    if (!opts || !out) return eai_fail(EAI_E_INVALID, "serve: NULL argument");
    if (opts->n_models < 1 || !opts->models)
        return eai_fail(EAI_E_INVALID, "serve: no models to serve");
    if (opts->port < 0 || opts->port > 65535)
        return eai_fail(EAI_E_INVALID, "serve: port %d out of range", opts->port);
    for (int i = 0; i < opts->n_models; i++) {
        if (!name_ok(opts->models[i].name) || !opts->models[i].path)
            return eai_fail(EAI_E_INVALID,
                            "serve: model %d: name \"%s\" must be [A-Za-z0-9_.-]+ with a path", i,
                            opts->models[i].name ? opts->models[i].name : "");
        for (int j = 0; j < i; j++)
            if (strcmp(opts->models[i].name, opts->models[j].name) == 0)
                return eai_fail(EAI_E_INVALID, "serve: model name \"%s\" given twice",
                                opts->models[i].name);
    }
    struct sockaddr_in sa;
    const char *host = opts->host ? opts->host : "127.0.0.1";
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return eai_fail(EAI_E_INVALID, "serve: host \"%s\" is not an IPv4 address", host);
    eai_server_t *s = calloc(1, sizeof *s);
    if (!s) return eai_fail(EAI_E_NOMEM, "serve: out of memory");
    s->o = *opts;
    s->o.models = NULL;
    s->host = eai__strdup(NULL, host);
    s->models = calloc((size_t)opts->n_models, sizeof *s->models);
    pthread_mutex_init(&s->mu, NULL);
    if (!s->host || !s->models) {
        eai_server_destroy(s);
        return eai_fail(EAI_E_NOMEM, "serve: out of memory");
    }
    for (int i = 0; i < opts->n_models; i++) {
        s->n_models = i + 1;
        eai_status_t st = eai__srv_model_init(&s->models[i], &opts->models[i], &s->o);
        if (st != EAI_OK) {
            char msg[SRV_ERR_LEN];
            snprintf(msg, sizeof msg, "%s", eai_last_error());
            eai_server_destroy(s);
            return eai_fail(st, "serve: model \"%s\": %s", opts->models[i].name, msg);
        }
    }
    *out = s;
    return EAI_OK;
}

eai_status_t eai_server_start(eai_server_t *s)
{
    if (!s) return eai_fail(EAI_E_INVALID, "serve: NULL server");
    if (s->d) return eai_fail(EAI_E_STATE, "serve: already started");
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)s->o.port);
    inet_pton(AF_INET, s->host, &sa.sin_addr);
    int to_ms = s->o.request_timeout_ms > 0 ? s->o.request_timeout_ms : 30000;
    unsigned to_s = (unsigned)((to_ms + 999) / 1000);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (s->o.threads > 0)
        flags |= MHD_USE_AUTO;
    else
        flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
    if (s->o.quiet) flags &= ~(unsigned)MHD_USE_ERROR_LOG;
    struct MHD_OptionItem ops[] = {
        {MHD_OPTION_SOCK_ADDR, 0, &sa},
        {MHD_OPTION_CONNECTION_TIMEOUT, to_s, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, 1024, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL},
        {s->o.threads > 0 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
         s->o.threads > 0 ? s->o.threads : 0, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    atomic_store(&s->ready, true);
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_ARRAY, ops,
                            MHD_OPTION_END);
    if (!s->d) {
        atomic_store(&s->ready, false);
        return eai_fail(EAI_E_IO, "serve: cannot listen on %s:%d", s->host, s->o.port);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : s->o.port;
    if (!s->o.quiet)
        fprintf(stderr, "edgeai serve: started on http://%s:%d (%d models)\n", s->host, s->port,
                s->n_models);
    return EAI_OK;
}

int eai_server_port(const eai_server_t *s)
{
    return s && s->d ? s->port : 0;
}

void eai_server_stop(eai_server_t *s)
{
    if (!s || !s->d) return;
    atomic_store(&s->ready, false);
    /* waits for connection threads; their inferences finish on the workers */
    MHD_stop_daemon(s->d);
    s->d = NULL;
    if (!s->o.quiet) fprintf(stderr, "edgeai serve: stopped (port %d)\n", s->port);
    s->port = 0;
}

void eai_server_destroy(eai_server_t *s)
{
    if (!s) return;
    eai_server_stop(s);
    for (int i = 0; i < s->n_models; i++)
        eai__srv_model_fini(&s->models[i]);
    free(s->models);
    free(s->host);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

bool eai_server_model_batching(const eai_server_t *s, const char *name)
{
    if (!s || !name) return false;
    srv_model_t *m = find_model((eai_server_t *)s, name, strlen(name));
    return m && m->batching;
}
