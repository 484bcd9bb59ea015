/* A local mosquitto broker for tests and single-machine runs: started on
 * 127.0.0.1 on a free port with a minimal configuration, persistence in a
 * private temporary folder (so a restart keeps sessions and QoS 1 messages).
 *
 *   eai_broker_t *b;
 *   if (eai_broker_start(NULL, &b) == EAI_E_UNAVAILABLE) skip();  // no mosquitto
 *   eai_transport_mqtt("127.0.0.1", eai_broker_port(b), &opts, &t);
 *   eai_broker_restart(b);   // SIGTERM, wait, start again on the same port
 *   eai_broker_destroy(b);   // SIGTERM (SIGKILL after a timeout), folder removed
 */
#ifndef EDGEAI_BROKER_H
#define EDGEAI_BROKER_H

#include "edgeai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eai_broker eai_broker_t;

typedef struct eai_broker_opts {
    /* mosquitto executable; NULL: $EAI_MOSQUITTO when set (then only that),
     * else mosquitto on PATH, /usr/sbin/mosquitto, /usr/local/sbin/mosquitto. */
    const char *exe;
    int port;             /* 0: a free port chosen by the kernel */
    int start_timeout_ms; /* wait for the port to accept; 0 means 5000 */
    int stop_timeout_ms;  /* SIGTERM, then SIGKILL after this; 0 means 5000 */
    /* Lines appended verbatim to the generated mosquitto.conf (copied; NULL:
     * none), e.g. a `connection` section bridging topics to a parent tier's
     * broker. A line mosquitto rejects makes start fail with its log tail. */
    const char *extra_conf;
} eai_broker_opts_t;

/* Starts mosquitto (posix_spawn, output to <dir>/mosquitto.log) and waits
 * until 127.0.0.1:port accepts connections. EAI_E_UNAVAILABLE when the
 * executable is not found (tests skip on this), EAI_E_IO (temp folder,
 * spawn, the broker exited or never listened: the log tail is in the
 * message), EAI_E_NOMEM. */
EAI_API eai_status_t eai_broker_start(const eai_broker_opts_t *o, eai_broker_t **out);
EAI_API int eai_broker_port(const eai_broker_t *b);
/* The broker's process id (0 while stopped). */
EAI_API int eai_broker_pid(const eai_broker_t *b);
/* Stops the broker (SIGTERM: it saves its persistence file) and waits. */
EAI_API eai_status_t eai_broker_stop(eai_broker_t *b);
/* Starts it again on the same port with the same persistence folder. */
EAI_API eai_status_t eai_broker_restart(eai_broker_t *b);
/* Stops it if running and removes its folder. Accepts NULL. */
EAI_API void eai_broker_destroy(eai_broker_t *b);

#ifdef __cplusplus
}
#endif

#endif
