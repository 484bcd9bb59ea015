/* Internal to src/net: the transport vtable, the bounded message queue both
 * transports deliver into, and the handle layout they share. */
#ifndef EAI_NET_IMPL_H
#define EAI_NET_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core_impl.h"
#include "edgeai/transport.h"

/* One queued message in one block: header, topic, then the payload at an
 * 8-byte aligned offset. */
typedef struct eai__msg {
    struct eai__msg *next;
    char *topic;
    uint8_t *payload;
    size_t n_bytes;
    int qos;
    bool retain;
} eai__msg_t;

eai__msg_t *eai__msg_new(const eai_allocator_t *a, const char *topic, const void *data, size_t n,
                         int qos, bool retain);

/* Bounded FIFO (messages and bytes), mutex + condition variables; safe
 * between one producer thread and one consumer thread (or several). A
 * single message larger than max_bytes is admitted into an empty queue. */
typedef struct eai__msgq {
    pthread_mutex_t mu;
    pthread_cond_t cv_data, cv_space;
    eai__msg_t *head, *tail;
    size_t n, n_bytes, max_n, max_bytes;
    bool closed;
    uint64_t dropped;
    const eai_allocator_t *alloc;
} eai__msgq_t;

eai_status_t eai__msgq_init(eai__msgq_t *q, size_t max_n, size_t max_bytes,
                            const eai_allocator_t *a);
void eai__msgq_free(eai__msgq_t *q);
/* Takes ownership of m on EAI_OK. wait_ms: how long to wait for room (< 0
 * forever, until closed). EAI_E_TIMEOUT when still full; EAI_E_STATE closed. */
eai_status_t eai__msgq_push(eai__msgq_t *q, eai__msg_t *m, int wait_ms);
/* EAI_OK with *out (caller frees with eai__free) or EAI_E_TIMEOUT. */
eai_status_t eai__msgq_pop(eai__msgq_t *q, int wait_ms, eai__msg_t **out);
/* Wakes every waiter; later pushes fail with EAI_E_STATE. */
void eai__msgq_close(eai__msgq_t *q);
/* Absolute CLOCK_REALTIME deadline ms from now (for pthread_cond_timedwait). */
void eai__deadline(struct timespec *ts, int ms);
/* Monotonic milliseconds. */
int64_t eai__now_ms(void);

typedef struct eai__transport_vt {
    eai_status_t (*publish)(eai_transport_t *t, const char *topic, const void *data, size_t n,
                            int qos, bool retain);
    eai_status_t (*subscribe)(eai_transport_t *t, const char *filter, int qos);
    eai_status_t (*flush)(eai_transport_t *t, int timeout_ms);
    eai_status_t (*disconnect)(eai_transport_t *t);
    bool (*connected)(const eai_transport_t *t);
    void (*destroy)(eai_transport_t *t); /* frees the subclass state, not the base */
} eai__transport_vt_t;

/* Base of every transport handle; the subclass struct begins with it. */
struct eai_transport {
    const eai__transport_vt_t *vt;
    eai_allocator_t alloc;
    eai__msgq_t q;
    eai__msg_t *cur; /* last message returned by recv */
    int op_timeout_ms;
    bool disconnected;
};

/* Fills defaults into a copy of the options. */
void eai__transport_opts_defaults(const eai_transport_opts_t *in, eai_transport_opts_t *out);
eai_status_t eai__transport_base_init(eai_transport_t *t, const eai__transport_vt_t *vt,
                                      const eai_transport_opts_t *o);

#endif
