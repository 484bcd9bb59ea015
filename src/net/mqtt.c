/* MQTT transport over libmosquitto (MQTT 3.1.1). libmosquitto's own network
 * thread (mosquitto_loop_start) owns the socket: it reconnects with doubling
 * backoff, resends unacknowledged QoS 1 publishes after a reconnection
 * (clean session false keeps them on the broker too), and moves incoming
 * messages into the handle's bounded queue. When that queue is full the
 * network thread waits for room: the broker then holds the rest, so nothing
 * acknowledged is ever dropped. */
#include <errno.h>
#include <mosquitto.h>
#include <string.h>

#include "net/net_impl.h"

typedef struct msub {
    struct msub *next;
    int qos, mid;
    bool acked;
    char filter[];
} msub_t;

typedef struct mqtt {
    eai_transport_t base; /* first */
    struct mosquitto *mosq;
    pthread_mutex_t mu; /* guards everything below; never held across libmosquitto calls */
    pthread_cond_t cv;
    bool connected, loop_started;
    int connack_rc;        /* last CONNACK return code (MQTT 3.1.1 §3.2.2.3); -1: none yet */
    int64_t outstanding;   /* QoS 1 publishes not yet acknowledged */
    uint8_t pending[8192]; /* bit per message id: published, awaiting PUBACK */
    uint8_t early[8192];   /* PUBACK seen before mosquitto_publish returned the id */
    msub_t *subs;
    int early_sub[16]; /* SUBACK ids seen before mosquitto_subscribe returned them */
    unsigned n_early_sub;
    char host[256];
    int port;
} mqtt_t;

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static void lib_init(void)
{
    mosquitto_lib_init(); /* library-wide, once per process; never cleaned up */
}

static bool bit_get(const uint8_t *b, int i)
{
    return (b[i >> 3] >> (i & 7)) & 1;
}
static void bit_set(uint8_t *b, int i, bool v)
{
    if (v)
        b[i >> 3] |= (uint8_t)(1u << (i & 7));
    else
        b[i >> 3] &= (uint8_t) ~(1u << (i & 7));
}

/* Subscribes every filter the broker may not know: all of them when the
 * session is new, else only those never acknowledged. Network thread. */
static void resubscribe(mqtt_t *m, bool session_present)
{
    pthread_mutex_lock(&m->mu);
    for (msub_t *s = m->subs; s; s = s->next) {
        if (session_present && s->acked) continue;
        s->acked = false;
        int mid = 0;
        if (mosquitto_subscribe(m->mosq, &mid, s->filter, s->qos) == MOSQ_ERR_SUCCESS) s->mid = mid;
    }
    pthread_mutex_unlock(&m->mu);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags)
{
    mqtt_t *m = obj;
    pthread_mutex_lock(&m->mu);
    m->connack_rc = rc;
    m->connected = rc == 0;
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
    if (rc == 0) resubscribe(m, flags & 1);
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
    mqtt_t *m = obj;
    pthread_mutex_lock(&m->mu);
    m->connected = false;
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid)
{
    mqtt_t *m = obj;
    if (mid < 0 || mid > 65535) return;
    pthread_mutex_lock(&m->mu);
    if (bit_get(m->pending, mid)) {
        bit_set(m->pending, mid, false);
        m->outstanding--;
        pthread_cond_broadcast(&m->cv);
    } else {
        bit_set(m->early, mid, true);
    }
    pthread_mutex_unlock(&m->mu);
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n, const int *granted)
{
    mqtt_t *m = obj;
    bool ok = n >= 1 && granted[0] != 0x80, found = false;
    pthread_mutex_lock(&m->mu);
    for (msub_t *s = m->subs; s; s = s->next)
        if (s->mid == mid) {
            s->acked = ok;
            found = true;
        }
    if (!found && ok) m->early_sub[m->n_early_sub++ % 16] = mid;
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
    mqtt_t *m = obj;
    if (!msg->topic || msg->payloadlen < 0) return;
    eai__msg_t *e = eai__msg_new(&m->base.alloc, msg->topic, msg->payload, (size_t)msg->payloadlen,
                                 msg->qos, msg->retain);
    if (!e || eai__msgq_push(&m->base.q, e, -1) != EAI_OK) {
        /* out of memory, or the handle is closing */
        eai__free(&m->base.alloc, e);
        pthread_mutex_lock(&m->base.q.mu);
        m->base.q.dropped++;
        pthread_mutex_unlock(&m->base.q.mu);
    }
}

static const char *connack_text(int rc)
{
    if (rc < 0) return "no answer: connection refused or host unreachable";
    return mosquitto_connack_string(rc);
}

static eai_status_t mq_publish(eai_transport_t *t, const char *topic, const void *data, size_t n,
                               int qos, bool retain)
{
    mqtt_t *m = (mqtt_t *)t;
    int mid = 0;
    int rc = mosquitto_publish(m->mosq, &mid, topic, (int)n, data, qos, retain);
    /* QoS 1: once the id is assigned the message sits in libmosquitto's queue
     * and is (re)sent when a connection is up, whatever the immediate send
     * said; only argument and memory errors come before that. */
    bool queued =
        rc == MOSQ_ERR_SUCCESS ||
        (qos == 1 && (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_ERRNO));
    if (!queued) {
        eai_status_t st =
            rc == MOSQ_ERR_NOMEM ? EAI_E_NOMEM
            : (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_ERRNO)
                ? EAI_E_UNAVAILABLE
                : EAI_E_INVALID;
        return eai_fail(st, "mqtt %s:%d: publish %s (%zu bytes, qos %d): %s", m->host, m->port,
                        topic, n, qos, mosquitto_strerror(rc));
    }
    if (qos == 1 && mid >= 0 && mid <= 65535) {
        pthread_mutex_lock(&m->mu);
        if (bit_get(m->early, mid)) {
            bit_set(m->early, mid, false);
        } else {
            bit_set(m->pending, mid, true);
            m->outstanding++;
        }
        pthread_mutex_unlock(&m->mu);
    }
    return EAI_OK;
}

static eai_status_t mq_subscribe(eai_transport_t *t, const char *filter, int qos)
{
    mqtt_t *m = (mqtt_t *)t;
    pthread_mutex_lock(&m->mu);
    msub_t *s = m->subs;
    while (s && strcmp(s->filter, filter) != 0)
        s = s->next;
    if (!s) {
        size_t fl = strlen(filter) + 1;
        s = eai__alloc(&t->alloc, sizeof *s + fl);
        if (!s) {
            pthread_mutex_unlock(&m->mu);
            return eai_fail(EAI_E_NOMEM, "mqtt: subscription %s", filter);
        }
        memcpy(s->filter, filter, fl);
        s->next = m->subs;
        m->subs = s;
    }
    s->qos = qos;
    s->acked = false;
    s->mid = -1;
    pthread_mutex_unlock(&m->mu);

    int mid = 0;
    int rc = mosquitto_subscribe(m->mosq, &mid, filter, qos);
    if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_ERRNO)
        return EAI_OK; /* on_connect subscribes it (s->acked is false) */
    if (rc != MOSQ_ERR_SUCCESS)
        return eai_fail(rc == MOSQ_ERR_NOMEM ? EAI_E_NOMEM : EAI_E_INVALID,
                        "mqtt %s:%d: subscribe %s: %s", m->host, m->port, filter,
                        mosquitto_strerror(rc));
    struct timespec dl;
    eai__deadline(&dl, t->op_timeout_ms);
    pthread_mutex_lock(&m->mu);
    if (s->mid == -1) s->mid = mid;
    for (unsigned i = 0; i < 16 && i < m->n_early_sub; i++)
        if (m->early_sub[i] == mid) {
            s->acked = true;
            m->early_sub[i] = -1;
        }
    int wrc = 0;
    while (!s->acked && m->connected && wrc != ETIMEDOUT)
        wrc = pthread_cond_timedwait(&m->cv, &m->mu, &dl);
    bool ok = s->acked || !m->connected; /* lost connection: resent at reconnection */
    pthread_mutex_unlock(&m->mu);
    if (!ok)
        return eai_fail(EAI_E_TIMEOUT, "mqtt %s:%d: no SUBACK for %s within %d ms", m->host,
                        m->port, filter, t->op_timeout_ms);
    return EAI_OK;
}

static eai_status_t mq_flush(eai_transport_t *t, int timeout_ms)
{
    mqtt_t *m = (mqtt_t *)t;
    struct timespec dl;
    eai__deadline(&dl, timeout_ms > 0 ? timeout_ms : 0);
    pthread_mutex_lock(&m->mu);
    int rc = 0;
    while (m->outstanding > 0 && rc != ETIMEDOUT) {
        if (timeout_ms < 0)
            pthread_cond_wait(&m->cv, &m->mu);
        else
            rc = pthread_cond_timedwait(&m->cv, &m->mu, &dl);
    }
    int64_t left = m->outstanding;
    pthread_mutex_unlock(&m->mu);
    if (left > 0)
        return eai_fail(EAI_E_TIMEOUT,
                        "mqtt %s:%d: %lld QoS 1 messages not acknowledged within %d ms", m->host,
                        m->port, (long long)left, timeout_ms);
    return EAI_OK;
}

static eai_status_t mq_disconnect(eai_transport_t *t)
{
    mqtt_t *m = (mqtt_t *)t;
    int rc = mosquitto_disconnect(m->mosq); /* DISCONNECT: the broker discards the will */
    if (m->loop_started) mosquitto_loop_stop(m->mosq, rc != MOSQ_ERR_SUCCESS);
    m->loop_started = false;
    pthread_mutex_lock(&m->mu);
    m->connected = false;
    pthread_mutex_unlock(&m->mu);
    if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN)
        return eai_fail(EAI_E_IO, "mqtt %s:%d: disconnect: %s", m->host, m->port,
                        mosquitto_strerror(rc));
    return EAI_OK;
}

static bool mq_connected(const eai_transport_t *t)
{
    mqtt_t *m = (mqtt_t *)t;
    pthread_mutex_lock(&m->mu);
    bool c = m->connected;
    pthread_mutex_unlock(&m->mu);
    return c;
}

static void mq_destroy(eai_transport_t *t)
{
    mqtt_t *m = (mqtt_t *)t;
    if (m->mosq) {
        /* Stopping the thread without DISCONNECT and closing the socket is an
         * abnormal end for the broker, which then publishes the will (MQTT
         * 3.1.1 §3.1.2.5). The queue is closed already, so the thread is not
         * parked in on_message. */
        if (m->loop_started) mosquitto_loop_stop(m->mosq, true);
        mosquitto_destroy(m->mosq);
    }
    for (msub_t *s = m->subs, *nx; s; s = nx) {
        nx = s->next;
        eai__free(&t->alloc, s);
    }
    pthread_cond_destroy(&m->cv);
    pthread_mutex_destroy(&m->mu);
}

static const eai__transport_vt_t mqtt_vt = {
    mq_publish, mq_subscribe, mq_flush, mq_disconnect, mq_connected, mq_destroy,
};

eai_status_t eai_transport_mqtt(const char *host, int port, const eai_transport_opts_t *opts,
                                eai_transport_t **out)
{
    if (!host || !out) return eai_fail(EAI_E_INVALID, "eai_transport_mqtt: NULL host or out");
    if (port <= 0 || port > 65535) return eai_fail(EAI_E_INVALID, "mqtt: port %d", port);
    if (strlen(host) >= 256) return eai_fail(EAI_E_INVALID, "mqtt: host name too long");
    eai_transport_opts_t o;
    eai__transport_opts_defaults(opts, &o);
    if (!o.clean_session && (!o.client_id || !o.client_id[0]))
        return eai_fail(EAI_E_INVALID, "mqtt: a persistent session (clean_session false) needs "
                                       "a client id");
    if (o.client_id && strlen(o.client_id) > 65535)
        return eai_fail(EAI_E_INVALID, "mqtt: client id too long");
    if (o.will_topic && !eai_topic_name_valid(o.will_topic))
        return eai_fail(EAI_E_INVALID, "mqtt: invalid will topic \"%s\"", o.will_topic);
    if (o.will_qos < 0 || o.will_qos > 1 || o.will_bytes > (size_t)268435455)
        return eai_fail(EAI_E_INVALID, "mqtt: will qos %d or %zu bytes out of range", o.will_qos,
                        o.will_bytes);
    pthread_once(&lib_once, lib_init);

    mqtt_t *m = eai__calloc(&o.alloc, 1, sizeof *m);
    if (!m) return eai_fail(EAI_E_NOMEM, "mqtt: out of memory");
    eai_status_t st = eai__transport_base_init(&m->base, &mqtt_vt, &o);
    if (st != EAI_OK) {
        eai__free(&o.alloc, m);
        return st;
    }
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    strcpy(m->host, host);
    m->port = port;
    m->connack_rc = -1;
    eai_transport_t *t = &m->base;

    m->mosq = mosquitto_new(o.client_id, o.clean_session, m);
    if (!m->mosq) {
        st = eai_fail(errno == EINVAL ? EAI_E_INVALID : EAI_E_NOMEM, "mqtt: mosquitto_new: %s",
                      strerror(errno));
        goto fail;
    }
    mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_int_option(m->mosq, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_reconnect_delay_set(m->mosq, (unsigned)o.reconnect_min_s, (unsigned)o.reconnect_max_s,
                                  true);
    mosquitto_connect_with_flags_callback_set(m->mosq, on_connect);
    mosquitto_disconnect_callback_set(m->mosq, on_disconnect);
    mosquitto_publish_callback_set(m->mosq, on_publish);
    mosquitto_subscribe_callback_set(m->mosq, on_subscribe);
    mosquitto_message_callback_set(m->mosq, on_message);
    if (o.will_topic) {
        int rc = mosquitto_will_set(m->mosq, o.will_topic, (int)o.will_bytes, o.will_payload,
                                    o.will_qos, o.will_retain);
        if (rc != MOSQ_ERR_SUCCESS) {
            st = eai_fail(EAI_E_INVALID, "mqtt: will on %s: %s", o.will_topic,
                          mosquitto_strerror(rc));
            goto fail;
        }
    }
    /* A refused first attempt is not final: the network thread retries with
     * backoff until connect_timeout_ms. */
    int rc = mosquitto_connect_async(m->mosq, host, port, o.keepalive_s);
    if (rc == MOSQ_ERR_INVAL || rc == MOSQ_ERR_EAI) {
        st = eai_fail(EAI_E_UNAVAILABLE, "mqtt %s:%d: connect: %s", host, port,
                      rc == MOSQ_ERR_EAI ? "host name not resolved" : mosquitto_strerror(rc));
        goto fail;
    }
    rc = mosquitto_loop_start(m->mosq);
    if (rc != MOSQ_ERR_SUCCESS) {
        st = eai_fail(EAI_E_NOMEM, "mqtt: network thread: %s", mosquitto_strerror(rc));
        goto fail;
    }
    m->loop_started = true;

    struct timespec dl;
    eai__deadline(&dl, o.connect_timeout_ms);
    pthread_mutex_lock(&m->mu);
    int wrc = 0;
    while (!m->connected && wrc != ETIMEDOUT)
        wrc = pthread_cond_timedwait(&m->cv, &m->mu, &dl);
    bool up = m->connected;
    int why = m->connack_rc;
    pthread_mutex_unlock(&m->mu);
    if (!up) {
        st = eai_fail(EAI_E_UNAVAILABLE, "mqtt %s:%d: not connected within %d ms (%s)", host, port,
                      o.connect_timeout_ms, connack_text(why));
        goto fail;
    }
    *out = t;
    return EAI_OK;

fail:
    eai__msgq_close(&t->q);
    mq_destroy(t);
    eai__msgq_free(&t->q);
    eai__free(&o.alloc, m);
    return st;
}
