/* The circuit breaker (Nygard, "Release It!"): CLOSED counts consecutive
 * failures, OPEN refuses until a cool-down passes, HALF_OPEN lets exactly one
 * probe through whose outcome decides. No clock inside: callers pass `now`. */
#include "route/route_impl.h"

#include <stddef.h>

static void move(eai__breaker_t *b, eai_breaker_state_t to, int64_t now, const char *why)
{
    eai_breaker_event_t ev = {
        .from = b->state, .to = to, .t_us = now, .n_failures = b->n_failures, .reason = why};
    b->state = to;
    b->n_transitions++;
    if (b->log) b->log(b->user, &ev);
}

void eai__breaker_init(eai__breaker_t *b, int max_failures, int64_t cooldown_us,
                       eai_breaker_log_fn log, void *user)
{
    *b = (eai__breaker_t){
        .state = EAI_BREAKER_CLOSED,
        .max_failures = max_failures < 1 ? 1 : max_failures,
        .cooldown_us = cooldown_us < 0 ? 0 : cooldown_us,
        .log = log,
        .user = user,
    };
}

bool eai__breaker_allow(eai__breaker_t *b, int64_t now)
{
    switch (b->state) {
    case EAI_BREAKER_CLOSED:
        return true;
    case EAI_BREAKER_OPEN:
        if (now - b->opened_at < b->cooldown_us) return false;
        move(b, EAI_BREAKER_HALF_OPEN, now, "cool-down over");
        b->probe_out = true;
        return true;
    case EAI_BREAKER_HALF_OPEN:
        /* A probe whose outcome never came (caller gave up) must not wedge the
         * breaker: after another cool-down let a new probe out. */
        if (!b->probe_out || now - b->opened_at >= 2 * b->cooldown_us) {
            b->probe_out = true;
            return true;
        }
        return false;
    }
    return false;
}

void eai__breaker_success(eai__breaker_t *b, int64_t now)
{
    b->n_failures = 0;
    b->probe_out = false;
    if (b->state != EAI_BREAKER_CLOSED) move(b, EAI_BREAKER_CLOSED, now, "probe succeeded");
}

void eai__breaker_failure(eai__breaker_t *b, int64_t now, const char *why)
{
    b->n_failures++;
    b->probe_out = false;
    if (b->state == EAI_BREAKER_HALF_OPEN ||
        (b->state == EAI_BREAKER_CLOSED && b->n_failures >= b->max_failures)) {
        b->opened_at = now;
        move(b, EAI_BREAKER_OPEN, now, why ? why : "cloud failed");
    }
}

const char *eai_breaker_state_name(eai_breaker_state_t s)
{
    switch (s) {
    case EAI_BREAKER_CLOSED:
        return "closed";
    case EAI_BREAKER_OPEN:
        return "open";
    case EAI_BREAKER_HALF_OPEN:
        return "half_open";
    }
    return "unknown";
}

const char *eai_route_tier_name(eai_route_tier_t t)
{
    switch (t) {
    case EAI_ROUTE_EDGE:
        return "edge";
    case EAI_ROUTE_CLOUD:
        return "cloud";
    case EAI_ROUTE_EDGE_FALLBACK:
        return "edge_fallback";
    }
    return "unknown";
}
