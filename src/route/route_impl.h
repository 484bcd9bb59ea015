/* Internals of the edge-cloud router: the circuit breaker as a pure state
 * machine. Time is always passed in (microseconds), so a test drives every
 * transition with made-up timestamps. */
#ifndef EAI_ROUTE_IMPL_H
#define EAI_ROUTE_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "edgeai/router.h"

typedef struct eai__breaker {
    eai_breaker_state_t state;
    int max_failures;    /* consecutive failures that open it (>= 1) */
    int64_t cooldown_us; /* OPEN -> HALF_OPEN after this long */
    int n_failures;      /* consecutive failures so far */
    int64_t opened_at;   /* when it last opened */
    bool probe_out;      /* HALF_OPEN: the one probe has been let through */
    int64_t n_transitions;
    eai_breaker_log_fn log;
    void *user;
} eai__breaker_t;

void eai__breaker_init(eai__breaker_t *b, int max_failures, int64_t cooldown_us,
                       eai_breaker_log_fn log, void *user);
/* May a cloud request go out at `now`? CLOSED: yes. OPEN: no until the
 * cool-down has passed, then it turns HALF_OPEN and lets one probe through.
 * HALF_OPEN: only the one probe (until its outcome is reported). */
bool eai__breaker_allow(eai__breaker_t *b, int64_t now);
/* Outcome of a request that allow() let through. `why` names the failure
 * (borrowed for the call; may be NULL). */
void eai__breaker_success(eai__breaker_t *b, int64_t now);
void eai__breaker_failure(eai__breaker_t *b, int64_t now, const char *why);

#endif
