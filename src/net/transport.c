/* The transport interface: argument checks, the receive queue shared by the
 * inproc and MQTT transports, and MQTT topic matching (3.1.1 §4.7). The
 * transports only implement publish/subscribe/flush/disconnect. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "net/net_impl.h"

/* ---- messages and the bounded queue ---- */

eai__msg_t *eai__msg_new(const eai_allocator_t *a, const char *topic, const void *data, size_t n,
                         int qos, bool retain)
{
    size_t tl = strlen(topic) + 1;
    size_t off = EAI_ALIGN_UP(sizeof(eai__msg_t) + tl, 8);
    if (n > SIZE_MAX - off) return NULL;
    eai__msg_t *m = eai__alloc(a, off + n);
    if (!m) return NULL;
    m->next = NULL;
    m->topic = (char *)(m + 1);
    memcpy(m->topic, topic, tl);
    m->payload = n ? (uint8_t *)m + off : NULL;
    if (n) memcpy(m->payload, data, n);
    m->n_bytes = n;
    m->qos = qos;
    m->retain = retain;
    return m;
}

void eai__deadline(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int64_t eai__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

eai_status_t eai__msgq_init(eai__msgq_t *q, size_t max_n, size_t max_bytes,
                            const eai_allocator_t *a)
{
    memset(q, 0, sizeof *q);
    q->max_n = max_n;
    q->max_bytes = max_bytes;
    q->alloc = a;
    if (pthread_mutex_init(&q->mu, NULL)) return eai_fail(EAI_E_NOMEM, "transport: mutex init");
    if (pthread_cond_init(&q->cv_data, NULL)) {
        pthread_mutex_destroy(&q->mu);
        return eai_fail(EAI_E_NOMEM, "transport: condition init");
    }
    if (pthread_cond_init(&q->cv_space, NULL)) {
        pthread_cond_destroy(&q->cv_data);
        pthread_mutex_destroy(&q->mu);
        return eai_fail(EAI_E_NOMEM, "transport: condition init");
    }
    return EAI_OK;
}

void eai__msgq_free(eai__msgq_t *q)
{
    for (eai__msg_t *m = q->head, *nx; m; m = nx) {
        nx = m->next;
        eai__free(q->alloc, m);
    }
    pthread_cond_destroy(&q->cv_space);
    pthread_cond_destroy(&q->cv_data);
    pthread_mutex_destroy(&q->mu);
}

static bool has_room(const eai__msgq_t *q, size_t n)
{
    if (q->n == 0) return true;
    return q->n < q->max_n && n <= q->max_bytes - q->n_bytes;
}

eai_status_t eai__msgq_push(eai__msgq_t *q, eai__msg_t *m, int wait_ms)
{
    struct timespec dl;
    if (wait_ms > 0) eai__deadline(&dl, wait_ms);
    pthread_mutex_lock(&q->mu);
    while (!q->closed && !has_room(q, m->n_bytes)) {
        int rc = 0;
        if (wait_ms == 0)
            rc = ETIMEDOUT;
        else if (wait_ms < 0)
            pthread_cond_wait(&q->cv_space, &q->mu);
        else
            rc = pthread_cond_timedwait(&q->cv_space, &q->mu, &dl);
        if (rc == ETIMEDOUT && !has_room(q, m->n_bytes) && !q->closed) {
            pthread_mutex_unlock(&q->mu);
            return eai_fail(EAI_E_TIMEOUT,
                            "transport: receive queue full (%zu messages, %zu bytes) after %d ms",
                            q->n, q->n_bytes, wait_ms);
        }
    }
    if (q->closed) {
        pthread_mutex_unlock(&q->mu);
        return eai_fail(EAI_E_STATE, "transport: receive queue closed");
    }
    m->next = NULL;
    if (q->tail)
        q->tail->next = m;
    else
        q->head = m;
    q->tail = m;
    q->n++;
    q->n_bytes += m->n_bytes;
    pthread_cond_signal(&q->cv_data);
    pthread_mutex_unlock(&q->mu);
    return EAI_OK;
}

eai_status_t eai__msgq_pop(eai__msgq_t *q, int wait_ms, eai__msg_t **out)
{
    struct timespec dl;
    if (wait_ms > 0) eai__deadline(&dl, wait_ms);
    pthread_mutex_lock(&q->mu);
    while (!q->head && !q->closed && wait_ms != 0) {
        if (wait_ms < 0)
            pthread_cond_wait(&q->cv_data, &q->mu);
        else if (pthread_cond_timedwait(&q->cv_data, &q->mu, &dl) == ETIMEDOUT)
            break;
    }
    eai__msg_t *m = q->head;
    if (m) {
        q->head = m->next;
        if (!q->head) q->tail = NULL;
        q->n--;
        q->n_bytes -= m->n_bytes;
        pthread_cond_broadcast(&q->cv_space);
    }
    pthread_mutex_unlock(&q->mu);
    if (!m) return eai_fail(EAI_E_TIMEOUT, "transport: no message within %d ms", wait_ms);
    *out = m;
    return EAI_OK;
}

void eai__msgq_close(eai__msgq_t *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = true;
    pthread_cond_broadcast(&q->cv_data);
    pthread_cond_broadcast(&q->cv_space);
    pthread_mutex_unlock(&q->mu);
}

/* ---- the interface ---- */

void eai__transport_opts_defaults(const eai_transport_opts_t *in, eai_transport_opts_t *o)
{
    if (in)
        *o = *in;
    else
        memset(o, 0, sizeof *o);
    if (o->keepalive_s <= 0) o->keepalive_s = 30;
    if (o->connect_timeout_ms <= 0) o->connect_timeout_ms = 5000;
    if (o->op_timeout_ms <= 0) o->op_timeout_ms = 5000;
    if (o->reconnect_min_s <= 0) o->reconnect_min_s = 1;
    if (o->reconnect_max_s < o->reconnect_min_s) o->reconnect_max_s = 8;
    if (o->max_queue == 0) o->max_queue = 4096;
    if (o->max_queue_bytes == 0) o->max_queue_bytes = (size_t)256 << 20;
}

eai_status_t eai__transport_base_init(eai_transport_t *t, const eai__transport_vt_t *vt,
                                      const eai_transport_opts_t *o)
{
    t->vt = vt;
    t->alloc = o->alloc;
    t->cur = NULL;
    t->op_timeout_ms = o->op_timeout_ms;
    t->disconnected = false;
    return eai__msgq_init(&t->q, o->max_queue, o->max_queue_bytes, &t->alloc);
}

eai_status_t eai_transport_publish(eai_transport_t *t, const char *topic, const void *data,
                                   size_t n, int qos, bool retain)
{
    if (!t || !topic) return eai_fail(EAI_E_INVALID, "transport publish: NULL handle or topic");
    if (!eai_topic_name_valid(topic))
        return eai_fail(EAI_E_INVALID,
                        "transport publish: invalid topic \"%s\" (empty, wildcard or too long)",
                        topic);
    if (qos < 0 || qos > 1)
        return eai_fail(EAI_E_INVALID, "transport publish: qos %d (expected 0 or 1)", qos);
    if (n && !data) return eai_fail(EAI_E_INVALID, "transport publish: NULL data, %zu bytes", n);
    if (n > (size_t)268435455 - 65536)
        return eai_fail(EAI_E_INVALID, "transport publish: %zu bytes exceed MQTT's 256 MiB", n);
    if (t->disconnected) return eai_fail(EAI_E_STATE, "transport publish: disconnected");
    return t->vt->publish(t, topic, data, n, qos, retain);
}

eai_status_t eai_transport_subscribe(eai_transport_t *t, const char *filter, int qos)
{
    if (!t || !filter) return eai_fail(EAI_E_INVALID, "transport subscribe: NULL handle or filter");
    if (!eai_topic_filter_valid(filter))
        return eai_fail(EAI_E_INVALID, "transport subscribe: invalid topic filter \"%s\"", filter);
    if (qos < 0 || qos > 1)
        return eai_fail(EAI_E_INVALID, "transport subscribe: qos %d (expected 0 or 1)", qos);
    if (t->disconnected) return eai_fail(EAI_E_STATE, "transport subscribe: disconnected");
    return t->vt->subscribe(t, filter, qos);
}

eai_status_t eai_transport_recv(eai_transport_t *t, int timeout_ms, eai_transport_msg_t *out)
{
    if (!t || !out) return eai_fail(EAI_E_INVALID, "transport recv: NULL argument");
    eai__free(&t->alloc, t->cur);
    t->cur = NULL;
    eai__msg_t *m;
    EAI_TRY(eai__msgq_pop(&t->q, timeout_ms, &m));
    t->cur = m;
    out->topic = m->topic;
    out->payload = m->payload;
    out->n_bytes = m->n_bytes;
    out->qos = m->qos;
    out->retain = m->retain;
    return EAI_OK;
}

eai_status_t eai_transport_flush(eai_transport_t *t, int timeout_ms)
{
    if (!t) return eai_fail(EAI_E_INVALID, "transport flush: NULL handle");
    return t->vt->flush(t, timeout_ms);
}

eai_status_t eai_transport_disconnect(eai_transport_t *t)
{
    if (!t) return eai_fail(EAI_E_INVALID, "transport disconnect: NULL handle");
    if (t->disconnected) return EAI_OK;
    eai_status_t st = t->vt->disconnect(t);
    t->disconnected = true;
    return st;
}

bool eai_transport_connected(const eai_transport_t *t)
{
    return t && !t->disconnected && t->vt->connected(t);
}

uint64_t eai_transport_dropped(const eai_transport_t *t)
{
    if (!t) return 0;
    pthread_mutex_lock((pthread_mutex_t *)&t->q.mu);
    uint64_t d = t->q.dropped;
    pthread_mutex_unlock((pthread_mutex_t *)&t->q.mu);
    return d;
}

void eai_transport_destroy(eai_transport_t *t)
{
    if (!t) return;
    eai__msgq_close(&t->q);
    t->vt->destroy(t); /* stops producers before the queue goes */
    eai__free(&t->alloc, t->cur);
    eai__msgq_free(&t->q);
    eai_allocator_t a = t->alloc;
    eai__free(&a, t);
}

/* ---- topics (MQTT 3.1.1 §4.7) ---- */

bool eai_topic_name_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 65535) return false;
    return strpbrk(s, "+#") == NULL;
}

bool eai_topic_filter_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 65535) return false;
    for (size_t i = 0; i < n; i++) {
        bool starts = i == 0 || s[i - 1] == '/';
        bool ends = i + 1 == n || s[i + 1] == '/';
        if (s[i] == '+' && !(starts && ends)) return false;
        if (s[i] == '#' && !(starts && i + 1 == n)) return false;
    }
    return true;
}

bool eai_topic_match(const char *f, const char *t)
{
    if (!f || !t) return false;
    /* §4.7.2: wildcards at the first level never match '$' topics */
    if (t[0] == '$' && (f[0] == '+' || f[0] == '#')) return false;
    for (;;) {
        if (f[0] == '#' && f[1] == '\0') return true; /* also matches the parent level */
        if (f[0] == '+' && (f[1] == '/' || f[1] == '\0')) {
            while (*t && *t != '/')
                t++;
            f++;
        } else {
            while (*f && *f != '/' && *f == *t) {
                f++;
                t++;
            }
            if ((*f && *f != '/') || (*t && *t != '/')) return false;
        }
        /* both at a level end */
        if (*f == '\0' && *t == '\0') return true;
        if (*f == '\0' || *t == '\0') {
            /* "a/#" matches "a": filter has "/#" left, topic ended */
            return *t == '\0' && f[0] == '/' && f[1] == '#' && f[2] == '\0';
        }
        f++;
        t++;
    }
}
