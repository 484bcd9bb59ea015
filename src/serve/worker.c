/* Served models: loading, request checks, the per-model queue and its worker
 * threads. A session is single-threaded, so each worker owns its sessions
 * (one per batch size seen, small LRU); HTTP threads only queue requests and
 * wait. With dynamic batching a worker takes the oldest request, then gathers
 * queued requests until max_batch rows or max_delay_us, concatenates their
 * inputs along axis 0, runs one invoke and splits the outputs back. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core_impl.h"
#include "serve/serve_impl.h"

#define N_CACHE 8

const double eai__srv_lat_le[SRV_N_LAT] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                           0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};
const int eai__srv_batch_le[SRV_N_BATCH] = {1, 2, 4, 8, 16, 32, 64, 128};

struct srv_worker {
    srv_model_t *m;
    pthread_t th;
    bool started;
    struct {
        int64_t batch;
        uint64_t used;
        eai_session_t *s;
    } cache[N_CACHE];
    uint64_t tick;
    void **stage; /* per input: concatenation buffer for a gathered batch */
    size_t *stage_cap;
    srv_req_t **gather; /* max_batch slots */
};

int64_t eai__srv_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct timespec deadline_in(int64_t ns)
{
    int64_t t = eai__srv_now_ns() + ns;
    struct timespec ts = {(time_t)(t / 1000000000), (long)(t % 1000000000)};
    return ts;
}

static eai_status_t get_session(srv_worker_t *w, int64_t batch, eai_session_t **out)
{
    int lru = 0;
    for (int i = 0; i < N_CACHE; i++) {
        if (w->cache[i].s && w->cache[i].batch == batch) {
            w->cache[i].used = ++w->tick;
            *out = w->cache[i].s;
            return EAI_OK;
        }
        if (!w->cache[i].s || (w->cache[lru].s && w->cache[i].used < w->cache[lru].used)) lru = i;
    }
    eai_session_opts_t so = {.backend = w->m->backend, .batch = batch};
    eai_session_t *s;
    pthread_mutex_lock(&w->m->create_mu);
    eai_status_t st = eai_session_create(w->m->model, &so, &s);
    pthread_mutex_unlock(&w->m->create_mu);
    if (st != EAI_OK) return st;
    eai_session_destroy(w->cache[lru].s);
    w->cache[lru].s = s;
    w->cache[lru].batch = batch;
    w->cache[lru].used = ++w->tick;
    *out = s;
    return EAI_OK;
}

static void finish_all(srv_req_t **rs, int n, int http, const char *msg)
{
    for (int i = 0; i < n; i++) {
        rs[i]->http = http;
        snprintf(rs[i]->err, sizeof rs[i]->err, "%s", msg);
    }
}

/* Runs n gathered requests (total rows B) as one invoke; fills each one's
 * http/err/outs. */
static void run_batch(srv_worker_t *w, srv_req_t **rs, int n, int64_t B)
{
    srv_model_t *m = w->m;
    eai_session_t *s;
    eai_status_t st = get_session(w, B, &s);
    if (st != EAI_OK) {
        finish_all(rs, n, 500, eai_last_error());
        return;
    }
    for (int i = 0; i < m->n_in && st == EAI_OK; i++) {
        eai_tensor_info_t info;
        eai_session_input_info(s, i, &info);
        size_t bytes = (size_t)eai_tensor_info_numel(&info) * eai_dtype_size(info.dtype);
        if (n == 1) {
            st = eai_session_set_input(s, i, rs[0]->in_data[i], bytes);
            continue;
        }
        if (w->stage_cap[i] < bytes) {
            void *p = realloc(w->stage[i], bytes);
            if (!p) {
                st =
                    eai_fail(EAI_E_NOMEM, "serve: out of memory for a batch of %lld", (long long)B);
                break;
            }
            w->stage[i] = p;
            w->stage_cap[i] = bytes;
        }
        size_t row = bytes / (size_t)B, off = 0;
        for (int r = 0; r < n; r++) {
            memcpy((char *)w->stage[i] + off, rs[r]->in_data[i], row * (size_t)rs[r]->batch);
            off += row * (size_t)rs[r]->batch;
        }
        st = eai_session_set_input(s, i, w->stage[i], bytes);
    }
    if (st == EAI_OK) st = eai_session_invoke(s);
    if (st != EAI_OK) {
        /* data-dependent errors (an index out of range) are the client's */
        finish_all(rs, n, st == EAI_E_INVALID ? 400 : 500, eai_last_error());
        return;
    }
    for (int r = 0; r < n; r++) {
        rs[r]->outs = calloc((size_t)m->n_out, sizeof *rs[r]->outs);
        if (!rs[r]->outs) {
            finish_all(rs + r, 1, 500, "serve: out of memory for outputs");
            continue;
        }
        rs[r]->http = 200;
    }
    for (int o = 0; o < m->n_out; o++) {
        const void *data;
        eai_tensor_info_t info;
        eai_session_get_output(s, o, &data, &info);
        size_t bytes = (size_t)eai_tensor_info_numel(&info) * eai_dtype_size(info.dtype);
        size_t row = n == 1 ? bytes : bytes / (size_t)B, off = 0;
        for (int r = 0; r < n; r++) {
            size_t nb = n == 1 ? bytes : row * (size_t)rs[r]->batch;
            eai_kserve_tensor_t *t = rs[r]->outs ? &rs[r]->outs[o] : NULL;
            if (t && rs[r]->http == 200) {
                t->name = (char *)m->out[o].name;
                t->dtype = info.dtype;
                t->rank = info.rank;
                memcpy(t->dims, info.dims, sizeof t->dims);
                if (n > 1) t->dims[0] = rs[r]->batch;
                t->n_bytes = nb;
                t->data = malloc(nb ? nb : 1);
                if (!t->data) {
                    rs[r]->http = 500;
                    snprintf(rs[r]->err, sizeof rs[r]->err, "serve: out of memory for outputs");
                } else {
                    memcpy(t->data, (const char *)data + off, nb);
                }
            }
            off += nb;
        }
    }
}

static void record_batch(srv_model_t *m, int64_t B)
{
    int k = 0;
    while (k < SRV_N_BATCH && B > eai__srv_batch_le[k])
        k++;
    m->batch_bucket[k]++;
    m->batch_sum += (uint64_t)B;
    m->batch_count++;
}

/* Moves queued requests that fit into the batch; under mu. */
static void take_fitting(srv_model_t *m, srv_req_t **g, int *n, int64_t *B)
{
    srv_req_t **pp = &m->head, *prev = NULL;
    while (*pp && *B < m->max_batch && *n < m->max_batch) {
        srv_req_t *r = *pp;
        if (*B + r->batch <= m->max_batch) {
            *pp = r->next;
            if (m->tail == r) m->tail = prev;
            r->next = NULL;
            r->state = REQ_RUNNING;
            m->queued--;
            g[(*n)++] = r;
            *B += r->batch;
        } else {
            prev = r;
            pp = &r->next;
        }
    }
}

static void *worker_main(void *arg)
{
    srv_worker_t *w = arg;
    srv_model_t *m = w->m;
    pthread_mutex_lock(&m->mu);
    for (;;) {
        while (!m->head && !m->stopping)
            pthread_cond_wait(&m->cv_work, &m->mu);
        if (!m->head) break;
        int n = 0;
        int64_t B = 0;
        srv_req_t *first = m->head;
        m->head = first->next;
        if (!m->head) m->tail = NULL;
        first->next = NULL;
        first->state = REQ_RUNNING;
        m->queued--;
        w->gather[n++] = first;
        B = first->batch;
        if (m->batching && B < m->max_batch) {
            struct timespec dl = deadline_in(m->max_delay_us * 1000);
            for (;;) {
                take_fitting(m, w->gather, &n, &B);
                if (B >= m->max_batch || n >= m->max_batch || m->stopping) break;
                if (pthread_cond_timedwait(&m->cv_work, &m->mu, &dl) == ETIMEDOUT) {
                    take_fitting(m, w->gather, &n, &B);
                    break;
                }
            }
        }
        pthread_mutex_unlock(&m->mu);
        run_batch(w, w->gather, n, B);
        pthread_mutex_lock(&m->mu);
        record_batch(m, B);
        for (int i = 0; i < n; i++) {
            w->gather[i]->state = REQ_DONE;
            pthread_cond_signal(&w->gather[i]->cv);
        }
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

int eai__srv_model_run(srv_model_t *m, srv_req_t *r, int timeout_ms)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int e = pthread_cond_init(&r->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (e) {
        snprintf(r->err, sizeof r->err, "serve: cannot create a condition variable");
        return r->http = 500;
    }
    struct timespec dl = deadline_in((int64_t)timeout_ms * 1000000);
    pthread_mutex_lock(&m->mu);
    if (m->stopping) {
        pthread_mutex_unlock(&m->mu);
        pthread_cond_destroy(&r->cv);
        snprintf(r->err, sizeof r->err, "model \"%s\" is shutting down", m->name);
        return r->http = 503;
    }
    r->state = REQ_QUEUED;
    r->next = NULL;
    if (m->tail)
        m->tail->next = r;
    else
        m->head = r;
    m->tail = r;
    if ((uint64_t)++m->queued > m->queue_peak) m->queue_peak = (uint64_t)m->queued;
    pthread_cond_broadcast(&m->cv_work);
    while (r->state != REQ_DONE) {
        if (r->state == REQ_QUEUED && pthread_cond_timedwait(&r->cv, &m->mu, &dl) == ETIMEDOUT &&
            r->state == REQ_QUEUED) {
            /* still queued: take it back out; a running one is always waited for */
            srv_req_t **pp = &m->head, *prev = NULL;
            while (*pp && *pp != r) {
                prev = *pp;
                pp = &(*pp)->next;
            }
            if (*pp) *pp = r->next;
            if (m->tail == r) m->tail = prev;
            m->queued--;
            r->state = REQ_DONE;
            r->http = 503;
            snprintf(r->err, sizeof r->err,
                     "model \"%s\": request timed out after %d ms in the queue", m->name,
                     timeout_ms);
        } else if (r->state == REQ_RUNNING) {
            pthread_cond_wait(&r->cv, &m->mu);
        }
    }
    pthread_mutex_unlock(&m->mu);
    pthread_cond_destroy(&r->cv);
    return r->http;
}

void eai__srv_req_free_outs(const srv_model_t *m, srv_req_t *r)
{
    if (!r->outs) return;
    for (int i = 0; i < m->n_out; i++)
        free(r->outs[i].data);
    free(r->outs);
    r->outs = NULL;
}

int eai__srv_model_check(const srv_model_t *m, const eai_kserve_msg_t *msg, srv_req_t *r, char *err,
                         size_t n_err)
{
    int64_t bound = -1; /* the one value all symbolic dims take */
    for (int t = 0; t < msg->n_tensors; t++) {
        bool known = false;
        for (int i = 0; i < m->n_in; i++)
            known |= strcmp(m->in[i].name, msg->tensors[t].name) == 0;
        if (!known) {
            snprintf(err, n_err, "model \"%s\" has no input \"%s\"", m->name, msg->tensors[t].name);
            return 400;
        }
    }
    for (int i = 0; i < m->n_in; i++) {
        const eai_tensor_info_t *mi = &m->in[i];
        const eai_kserve_tensor_t *t = NULL;
        for (int k = 0; k < msg->n_tensors && !t; k++)
            if (strcmp(msg->tensors[k].name, mi->name) == 0) t = &msg->tensors[k];
        if (!t) {
            snprintf(err, n_err, "input \"%s\" is missing", mi->name);
            return 400;
        }
        if (t->dtype != mi->dtype) {
            const char *want = eai_kserve_dtype_name(mi->dtype);
            snprintf(err, n_err, "input \"%s\": datatype %s, expected %s", mi->name,
                     eai_kserve_dtype_name(t->dtype), want ? want : eai_dtype_name(mi->dtype));
            return 400;
        }
        if (t->rank != mi->rank) {
            snprintf(err, n_err, "input \"%s\": rank %d, expected %d", mi->name, t->rank, mi->rank);
            return 400;
        }
        for (int d = 0; d < mi->rank; d++) {
            if (mi->dims[d] >= 0 && t->dims[d] != mi->dims[d]) {
                snprintf(err, n_err, "input \"%s\": shape[%d] is %lld, expected %lld", mi->name, d,
                         (long long)t->dims[d], (long long)mi->dims[d]);
                return 400;
            }
            if (mi->dims[d] < 0) {
                if (t->dims[d] < 1 || (bound >= 0 && t->dims[d] != bound)) {
                    snprintf(err, n_err,
                             "input \"%s\": shape[%d] is %lld, expected %lld (every dynamic "
                             "dimension takes one value)",
                             mi->name, d, (long long)t->dims[d],
                             (long long)(bound < 0 ? 1 : bound));
                    return 400;
                }
                bound = t->dims[d];
            }
        }
        r->in_data[i] = t->data;
    }
    for (int q = 0; q < msg->n_requested; q++) {
        bool known = false;
        for (int o = 0; o < m->n_out; o++)
            known |= strcmp(m->out[o].name, msg->requested[q]) == 0;
        if (!known) {
            snprintf(err, n_err, "model \"%s\" has no output \"%s\"", m->name, msg->requested[q]);
            return 400;
        }
    }
    r->batch = bound < 0 ? 1 : bound;
    return 0;
}

/* Batching needs every input to have a dynamic first dimension and no other
 * dynamic one, and every output's first dimension to follow the batch. */
static bool can_batch(srv_model_t *m)
{
    for (int i = 0; i < m->n_in; i++) {
        if (m->in[i].rank < 1 || m->in[i].dims[0] >= 0) return false;
        for (int d = 1; d < m->in[i].rank; d++)
            if (m->in[i].dims[d] < 0) return false;
    }
    for (int64_t b = 1; b <= 3; b += 2) {
        eai_session_opts_t so = {.backend = m->backend, .batch = b};
        eai_session_t *s;
        if (eai_session_create(m->model, &so, &s) != EAI_OK) return false;
        bool ok = true;
        for (int o = 0; o < m->n_out && ok; o++) {
            eai_tensor_info_t info;
            ok = eai_session_output_info(s, o, &info) == EAI_OK && info.rank >= 1 &&
                 info.dims[0] == b;
        }
        eai_session_destroy(s);
        if (!ok) return false;
    }
    return true;
}

eai_status_t eai__srv_model_init(srv_model_t *m, const eai_serve_model_t *spec,
                                 const eai_server_opts_t *o)
{
    m->name = eai__strdup(NULL, spec->name);
    m->path = eai__strdup(NULL, spec->path);
    m->backend = o->backend;
    if (!m->name || !m->path) return eai_fail(EAI_E_NOMEM, "serve: out of memory");
    EAI_TRY(eai_model_load(spec->path, NULL, &m->model));
    m->n_in = eai_model_n_inputs(m->model);
    m->n_out = eai_model_n_outputs(m->model);
    m->in = calloc((size_t)m->n_in + 1, sizeof *m->in);
    m->out = calloc((size_t)m->n_out + 1, sizeof *m->out);
    if (!m->in || !m->out) return eai_fail(EAI_E_NOMEM, "serve: out of memory");
    for (int i = 0; i < m->n_in; i++)
        EAI_TRY(eai_model_input_info(m->model, i, &m->in[i]));
    for (int i = 0; i < m->n_out; i++)
        EAI_TRY(eai_model_output_info(m->model, i, &m->out[i]));
    int mb = spec->max_batch > 0 ? spec->max_batch : o->max_batch;
    m->max_batch = mb < 1 ? 1 : mb;
    m->max_delay_us = spec->max_delay_us > 0 ? spec->max_delay_us
                      : o->max_delay_us > 0  ? o->max_delay_us
                                             : 1000;
    if (m->max_batch > 1) {
        m->batching = can_batch(m);
        if (!m->batching && !o->quiet)
            fprintf(stderr,
                    "edgeai serve: model \"%s\": no symbolic batch dimension, dynamic batching "
                    "is off\n",
                    m->name);
    }
    if (!m->batching) m->max_batch = 1;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&m->mu, NULL);
    pthread_mutex_init(&m->create_mu, NULL);
    pthread_cond_init(&m->cv_work, &ca);
    pthread_condattr_destroy(&ca);
    int nw = o->instances > 0 ? o->instances : 1;
    m->workers = calloc((size_t)nw, sizeof *m->workers);
    if (!m->workers) return eai_fail(EAI_E_NOMEM, "serve: out of memory");
    for (int i = 0; i < nw; i++) {
        srv_worker_t *w = &m->workers[i];
        w->m = m;
        m->n_workers = i + 1;
        w->stage = calloc((size_t)m->n_in + 1, sizeof *w->stage);
        w->stage_cap = calloc((size_t)m->n_in + 1, sizeof *w->stage_cap);
        w->gather = calloc((size_t)m->max_batch, sizeof *w->gather);
        if (!w->stage || !w->stage_cap || !w->gather)
            return eai_fail(EAI_E_NOMEM, "serve: out of memory");
        if (pthread_create(&w->th, NULL, worker_main, w) != 0)
            return eai_fail(EAI_E_NOMEM, "serve: cannot start a worker thread");
        w->started = true;
    }
    return EAI_OK;
}

void eai__srv_model_fini(srv_model_t *m)
{
    if (m->workers) {
        pthread_mutex_lock(&m->mu);
        m->stopping = true;
        pthread_cond_broadcast(&m->cv_work);
        pthread_mutex_unlock(&m->mu);
        for (int i = 0; i < m->n_workers; i++) {
            srv_worker_t *w = &m->workers[i];
            if (w->started) pthread_join(w->th, NULL);
            for (int k = 0; k < N_CACHE; k++)
                eai_session_destroy(w->cache[k].s);
            for (int k = 0; w->stage && k < m->n_in; k++)
                free(w->stage[k]);
            free(w->stage);
            free(w->stage_cap);
            free(w->gather);
        }
        free(m->workers);
        pthread_cond_destroy(&m->cv_work);
        pthread_mutex_destroy(&m->mu);
        pthread_mutex_destroy(&m->create_mu);
    }
    free(m->in);
    free(m->out);
    eai_model_destroy(m->model);
    free(m->name);
    free(m->path);
    memset(m, 0, sizeof *m);
}
