/* In-process transport: endpoints on one bus deliver to each other by copying
 * into the receivers' bounded queues, with the MQTT behaviour the rest of
 * edgeai relies on (wildcards, retained messages, last will), so code tested
 * here runs unchanged over a broker. One bus mutex orders publishes, so every
 * receiver sees the messages of one publisher in publish order. */
#include <string.h>

#include "edgeai/log.h"
#include "net/net_impl.h"

typedef struct sub {
    struct sub *next;
    int qos;
    char filter[]; /* NUL-terminated */
} sub_t;

typedef struct endpoint endpoint_t;

struct eai_bus {
    pthread_mutex_t mu;
    eai_allocator_t alloc;
    endpoint_t *eps;      /* live endpoints */
    eai__msg_t *retained; /* one per topic */
};

struct endpoint {
    eai_transport_t base; /* first: the handle is an endpoint */
    eai_bus_t *bus;
    endpoint_t *next;
    sub_t *subs;
    eai__msg_t *will; /* NULL: none */
    char *id;
};

/* Delivers m (copied) to every endpoint with a matching subscription; called
 * with the bus locked. QoS is the minimum of publish and subscription. */
static eai_status_t deliver(eai_bus_t *b, const char *topic, const void *data, size_t n, int qos,
                            int wait_ms)
{
    eai_status_t st = EAI_OK;
    for (endpoint_t *e = b->eps; e; e = e->next) {
        int best = -1;
        for (sub_t *s = e->subs; s; s = s->next)
            if (eai_topic_match(s->filter, topic) && s->qos > best) best = s->qos;
        if (best < 0) continue;
        int q = qos < best ? qos : best;
        eai__msg_t *m = eai__msg_new(&e->base.alloc, topic, data, n, q, false);
        if (!m) return eai_fail(EAI_E_NOMEM, "inproc: %zu-byte message to %s", n, e->id);
        eai_status_t s = eai__msgq_push(&e->base.q, m, q == 0 ? 0 : wait_ms);
        if (s != EAI_OK) {
            eai__free(&e->base.alloc, m);
            if (q == 0) {
                pthread_mutex_lock(&e->base.q.mu);
                e->base.q.dropped++;
                pthread_mutex_unlock(&e->base.q.mu);
                continue;
            }
            /* keep delivering to the others; report the first failure */
            if (st == EAI_OK) st = eai_fail(s, "inproc: endpoint %s: %s", e->id, eai_last_error());
        }
    }
    return st;
}

/* Replaces (or with n == 0 deletes) the retained message of `topic`. */
static eai_status_t retain_store(eai_bus_t *b, const char *topic, const void *data, size_t n,
                                 int qos)
{
    eai__msg_t **pp = &b->retained;
    while (*pp && strcmp((*pp)->topic, topic) != 0)
        pp = &(*pp)->next;
    eai__msg_t *m = NULL;
    if (n) {
        m = eai__msg_new(&b->alloc, topic, data, n, qos, true);
        if (!m) return eai_fail(EAI_E_NOMEM, "inproc: retained %zu bytes on %s", n, topic);
    }
    if (*pp) {
        eai__msg_t *old = *pp;
        *pp = old->next;
        eai__free(&b->alloc, old);
    }
    if (m) {
        m->next = b->retained;
        b->retained = m;
    }
    return EAI_OK;
}

static eai_status_t bus_publish(eai_bus_t *b, const char *topic, const void *data, size_t n,
                                int qos, bool retain, int wait_ms)
{
    pthread_mutex_lock(&b->mu);
    eai_status_t st = retain ? retain_store(b, topic, data, n, qos) : EAI_OK;
    if (st == EAI_OK) st = deliver(b, topic, data, n, qos, wait_ms);
    pthread_mutex_unlock(&b->mu);
    return st;
}

static eai_status_t ip_publish(eai_transport_t *t, const char *topic, const void *data, size_t n,
                               int qos, bool retain)
{
    endpoint_t *e = (endpoint_t *)t;
    return bus_publish(e->bus, topic, data, n, qos, retain, t->op_timeout_ms);
}

static eai_status_t ip_subscribe(eai_transport_t *t, const char *filter, int qos)
{
    endpoint_t *e = (endpoint_t *)t;
    eai_bus_t *b = e->bus;
    size_t fl = strlen(filter) + 1;
    pthread_mutex_lock(&b->mu);
    sub_t *s = e->subs;
    while (s && strcmp(s->filter, filter) != 0)
        s = s->next;
    if (s) {
        s->qos = qos; /* §3.8.4: a repeated subscription replaces the old one */
    } else {
        s = eai__alloc(&t->alloc, sizeof *s + fl);
        if (!s) {
            pthread_mutex_unlock(&b->mu);
            return eai_fail(EAI_E_NOMEM, "inproc: subscription %s", filter);
        }
        memcpy(s->filter, filter, fl);
        s->qos = qos;
        s->next = e->subs;
        e->subs = s;
    }
    /* §3.3.1.3: matching retained messages go to the new subscriber */
    eai_status_t st = EAI_OK;
    for (eai__msg_t *r = b->retained; r && st == EAI_OK; r = r->next) {
        if (!eai_topic_match(filter, r->topic)) continue;
        int q = r->qos < qos ? r->qos : qos;
        eai__msg_t *m = eai__msg_new(&t->alloc, r->topic, r->payload, r->n_bytes, q, true);
        if (!m) {
            st = eai_fail(EAI_E_NOMEM, "inproc: retained message %s", r->topic);
            break;
        }
        st = eai__msgq_push(&t->q, m, 0);
        if (st != EAI_OK) {
            eai__free(&t->alloc, m);
            st = eai_fail(EAI_E_UNAVAILABLE, "inproc: %s: queue full for retained %s", e->id,
                          r->topic);
        }
    }
    pthread_mutex_unlock(&b->mu);
    return st;
}

static eai_status_t ip_flush(eai_transport_t *t, int timeout_ms)
{
    return EAI_OK; /* delivery is synchronous */
}

static eai_status_t ip_disconnect(eai_transport_t *t)
{
    endpoint_t *e = (endpoint_t *)t;
    eai__free(&t->alloc, e->will);
    e->will = NULL;
    return EAI_OK;
}

static bool ip_connected(const eai_transport_t *t)
{
    return true;
}

static void ip_destroy(eai_transport_t *t)
{
    endpoint_t *e = (endpoint_t *)t;
    eai_bus_t *b = e->bus;
    pthread_mutex_lock(&b->mu);
    for (endpoint_t **pp = &b->eps; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            break;
        }
    pthread_mutex_unlock(&b->mu);
    if (e->will) {
        /* abnormal end: the bus publishes the will like a broker would; a
         * receiver with a full queue cannot block a dying client for long */
        eai__msg_t *w = e->will;
        if (bus_publish(b, w->topic, w->payload, w->n_bytes, w->qos, w->retain, 100) != EAI_OK)
            eai__log(EAI_LOG_WARN, "inproc: %s: last will on %s not delivered to every subscriber",
                     e->id, w->topic);
        eai__free(&t->alloc, w);
    }
    for (sub_t *s = e->subs, *nx; s; s = nx) {
        nx = s->next;
        eai__free(&t->alloc, s);
    }
    eai__free(&t->alloc, e->id);
}

static const eai__transport_vt_t inproc_vt = {
    ip_publish, ip_subscribe, ip_flush, ip_disconnect, ip_connected, ip_destroy,
};

eai_status_t eai_bus_create(const eai_allocator_t *alloc, eai_bus_t **out)
{
    if (!out) return eai_fail(EAI_E_INVALID, "eai_bus_create: NULL out");
    eai_bus_t *b = eai__calloc(alloc, 1, sizeof *b);
    if (!b) return eai_fail(EAI_E_NOMEM, "eai_bus_create: out of memory");
    if (alloc) b->alloc = *alloc;
    if (pthread_mutex_init(&b->mu, NULL)) {
        eai__free(alloc, b);
        return eai_fail(EAI_E_NOMEM, "eai_bus_create: mutex init");
    }
    *out = b;
    return EAI_OK;
}

void eai_bus_destroy(eai_bus_t *b)
{
    if (!b) return;
    if (EAI_NEVER(b->eps != NULL))
        eai__log(EAI_LOG_WARN, "inproc: bus destroyed with live endpoints (%s first)", b->eps->id);
    for (eai__msg_t *m = b->retained, *nx; m; m = nx) {
        nx = m->next;
        eai__free(&b->alloc, m);
    }
    pthread_mutex_destroy(&b->mu);
    eai_allocator_t a = b->alloc;
    eai__free(&a, b);
}

eai_status_t eai_transport_inproc(eai_bus_t *bus, const eai_transport_opts_t *opts,
                                  eai_transport_t **out)
{
    if (!bus || !out) return eai_fail(EAI_E_INVALID, "eai_transport_inproc: NULL bus or out");
    eai_transport_opts_t o;
    eai__transport_opts_defaults(opts, &o);
    if (o.will_topic && !eai_topic_name_valid(o.will_topic))
        return eai_fail(EAI_E_INVALID, "inproc: invalid will topic \"%s\"", o.will_topic);
    if (o.will_qos < 0 || o.will_qos > 1)
        return eai_fail(EAI_E_INVALID, "inproc: will qos %d (expected 0 or 1)", o.will_qos);
    endpoint_t *e = eai__calloc(&o.alloc, 1, sizeof *e);
    if (!e) return eai_fail(EAI_E_NOMEM, "inproc: out of memory");
    eai_status_t st = eai__transport_base_init(&e->base, &inproc_vt, &o);
    if (st != EAI_OK) {
        eai__free(&o.alloc, e);
        return st;
    }
    e->bus = bus;
    e->id = eai__strdup(&o.alloc, o.client_id ? o.client_id : "inproc");
    if (o.will_topic)
        e->will = eai__msg_new(&o.alloc, o.will_topic, o.will_payload, o.will_bytes, o.will_qos,
                               o.will_retain);
    if (!e->id || (o.will_topic && !e->will)) {
        eai__free(&o.alloc, e->will);
        eai__free(&o.alloc, e->id);
        eai__msgq_free(&e->base.q);
        eai__free(&o.alloc, e);
        return eai_fail(EAI_E_NOMEM, "inproc: out of memory");
    }
    pthread_mutex_lock(&bus->mu);
    e->next = bus->eps;
    bus->eps = e;
    pthread_mutex_unlock(&bus->mu);
    *out = &e->base;
    return EAI_OK;
}
