/* Message transports: publish/subscribe with MQTT semantics behind one
 * interface, so federated learning (and anything else) runs the same code in
 * one process or across machines.
 *
 *   eai_bus_t *bus;                                   // in-process "broker"
 *   eai_transport_t *a, *b;
 *   EAI_TRY(eai_bus_create(NULL, &bus));
 *   EAI_TRY(eai_transport_inproc(bus, &(eai_transport_opts_t){.client_id = "a"}, &a));
 *   // or: eai_transport_mqtt("127.0.0.1", 1883, &opts, &a)  (libmosquitto)
 *   EAI_TRY(eai_transport_subscribe(a, "edgeai/fl/+/model/#", 1));
 *   EAI_TRY(eai_transport_publish(b, "edgeai/fl/run1/model/m", buf, n, 1, true));
 *   eai_transport_msg_t m;
 *   if (eai_transport_recv(a, 1000, &m) == EAI_OK) use(m.topic, m.payload, m.n_bytes);
 *   eai_transport_disconnect(a);   // clean: the last will is NOT published
 *   eai_transport_destroy(a);      // without disconnect: the will IS published
 *
 * Semantics (both transports, MQTT 3.1.1): topic filters with '+' (one level)
 * and '#' (the rest, last level only); '$' topics are not matched by a
 * leading wildcard; a publisher subscribed to its own topic receives its own
 * messages; a retained message (retain true) is kept per topic and delivered
 * to every later subscriber (with retain set), an empty retained payload
 * deletes it; QoS 1 means at least once (duplicates possible, never lost),
 * QoS 0 at most once. Each handle owns a bounded receive queue; recv takes
 * from it in arrival order.
 *
 * Threads: a handle is single-threaded (one thread calls publish, subscribe,
 * recv). Different handles may be used from different threads. The MQTT
 * transport runs libmosquitto's network thread (mosquitto_loop_start) inside
 * the handle; that thread only fills the receive queue.
 */
#ifndef EDGEAI_TRANSPORT_H
#define EDGEAI_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgeai/model.h"
#include "edgeai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eai_transport eai_transport_t;
typedef struct eai_bus eai_bus_t;

/* Options shared by both transports; zero-init means the defaults. */
typedef struct eai_transport_opts {
    /* Unique per live client. MQTT: required when clean_session is false
     * (the broker keeps the session under this id). Copied. */
    const char *client_id;
    /* Last will: published by the broker (or the bus) when this client goes
     * away without eai_transport_disconnect (crash, kill, lost network, or
     * destroy without disconnect). NULL topic: no will. Copied. */
    const char *will_topic;
    const void *will_payload;
    size_t will_bytes;
    int will_qos;
    bool will_retain;
    /* MQTT: false (default) asks the broker to keep the session (subscriptions
     * and undelivered QoS 1 messages) across disconnects and broker restarts
     * (the broker needs persistence for the latter). */
    bool clean_session;
    int keepalive_s;        /* MQTT: 0 means 30 */
    int connect_timeout_ms; /* create waits this long for the broker; 0 means 5000 */
    int op_timeout_ms;      /* subscribe waits for SUBACK, publish for queue room; 0: 5000 */
    int reconnect_min_s, reconnect_max_s; /* MQTT backoff (doubling); 0 means 1, 8 */
    size_t max_queue;                     /* receive queue, messages; 0 means 4096 */
    size_t max_queue_bytes;               /* receive queue, payload bytes; 0 means 256 MiB */
    eai_allocator_t alloc;                /* zero: libc */
} eai_transport_opts_t;

/* A received message. topic and payload are borrowed from the handle until
 * its next recv or destroy. */
typedef struct eai_transport_msg {
    const char *topic;
    const uint8_t *payload; /* 8-byte aligned; NULL when n_bytes is 0 */
    size_t n_bytes;
    int qos;
    bool retain; /* delivered from the retained store (a late subscriber) */
} eai_transport_msg_t;

/* ---- in-process bus ---- */

/* A bus connects inproc endpoints of one process; it keeps the retained
 * messages. `alloc` may be NULL. Thread-safe. */
EAI_API eai_status_t eai_bus_create(const eai_allocator_t *alloc, eai_bus_t **out);
/* Every endpoint must be destroyed first (EAI_NEVER-checked). Accepts NULL. */
EAI_API void eai_bus_destroy(eai_bus_t *b);

/* An endpoint on `bus` (must outlive it). `o` may be NULL. EAI_E_INVALID,
 * EAI_E_NOMEM. */
EAI_API eai_status_t eai_transport_inproc(eai_bus_t *bus, const eai_transport_opts_t *o,
                                          eai_transport_t **out);

/* ---- MQTT (libmosquitto, MQTT 3.1.1) ---- */

/* Connects to the broker at host:port and starts the network thread, which
 * reconnects with doubling backoff when the connection drops; QoS 1 messages
 * published meanwhile are kept by libmosquitto and sent after reconnection.
 * Waits up to o->connect_timeout_ms for the first CONNACK: EAI_E_UNAVAILABLE
 * (unreachable or refused, with the reason), EAI_E_INVALID (clean_session
 * false without client_id, bad port), EAI_E_NOMEM. */
EAI_API eai_status_t eai_transport_mqtt(const char *host, int port, const eai_transport_opts_t *o,
                                        eai_transport_t **out);

/* ---- common ---- */

/* Publishes n bytes at data (copied) on `topic` (no wildcards) at qos 0 or 1.
 * inproc: delivered to matching endpoints before return; QoS 1 waits up to
 * op_timeout_ms for room in a full receiver queue (EAI_E_TIMEOUT), QoS 0
 * drops. MQTT: queued in libmosquitto (also while disconnected, for QoS 1);
 * eai_transport_flush waits for the broker's acknowledgements.
 * EAI_E_INVALID (topic, qos), EAI_E_UNAVAILABLE (QoS 0 while disconnected),
 * EAI_E_NOMEM. */
EAI_API eai_status_t eai_transport_publish(eai_transport_t *t, const char *topic, const void *data,
                                           size_t n, int qos, bool retain);
/* Subscribes to `filter` (copied) at qos 0/1. MQTT waits for the SUBACK (up
 * to op_timeout_ms: EAI_E_TIMEOUT); while disconnected the subscription is
 * sent at reconnection. Matching retained messages are queued first.
 * EAI_E_INVALID for a malformed filter. */
EAI_API eai_status_t eai_transport_subscribe(eai_transport_t *t, const char *filter, int qos);
/* Next message, waiting up to timeout_ms (0: poll, < 0: forever). EAI_OK with
 * *out filled, or EAI_E_TIMEOUT. The previous message's memory is released. */
EAI_API eai_status_t eai_transport_recv(eai_transport_t *t, int timeout_ms,
                                        eai_transport_msg_t *out);
/* Waits until every QoS 1 message published so far is acknowledged by the
 * broker (inproc: immediately). EAI_E_TIMEOUT. */
EAI_API eai_status_t eai_transport_flush(eai_transport_t *t, int timeout_ms);
/* Clean disconnect: the will is discarded. Publish/subscribe then return
 * EAI_E_STATE; recv still drains the queue. */
EAI_API eai_status_t eai_transport_disconnect(eai_transport_t *t);
/* MQTT: whether the connection is up now; inproc: until disconnect. */
EAI_API bool eai_transport_connected(const eai_transport_t *t);
/* Messages dropped (QoS 0 to a full queue). */
EAI_API uint64_t eai_transport_dropped(const eai_transport_t *t);
/* Without a prior disconnect this is an abnormal end: the will is published
 * (MQTT: the socket is closed without DISCONNECT and the broker publishes
 * it). Accepts NULL. */
EAI_API void eai_transport_destroy(eai_transport_t *t);

/* MQTT topic matching (3.1.1 §4.7): whether `topic` matches `filter`. */
EAI_API bool eai_topic_match(const char *filter, const char *topic);
/* Whether `s` is a valid filter (wildcards only as whole levels, '#' last) or
 * a valid topic name (no wildcards); non-empty, at most 65535 bytes. */
EAI_API bool eai_topic_filter_valid(const char *s);
EAI_API bool eai_topic_name_valid(const char *s);

#ifdef __cplusplus
}
#endif

#endif
