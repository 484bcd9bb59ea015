/* The circuit breaker's state machine, driven with made-up timestamps: every
 * transition, its log event and the probe rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "route/route_impl.h"

typedef struct log_rec {
    int n;
    eai_breaker_event_t ev[16];
} log_rec_t;

static void rec(void *user, const eai_breaker_event_t *ev)
{
    log_rec_t *l = user;
    if (l->n < 16) {
        l->ev[l->n] = *ev;
        l->ev[l->n].reason = NULL; /* valid during the callback only */
    }
    l->n++;
}

static void test_closed_to_open_after_k(void **state)
{
    (void)state;
    log_rec_t l = {0};
    eai__breaker_t b;
    eai__breaker_init(&b, 3, 1000000, rec, &l);
    assert_int_equal(b.state, EAI_BREAKER_CLOSED);
    assert_true(eai__breaker_allow(&b, 0));
    eai__breaker_failure(&b, 10, "x");
    eai__breaker_failure(&b, 20, "x");
    assert_int_equal(b.state, EAI_BREAKER_CLOSED);
    assert_int_equal(l.n, 0);
    /* A success in between resets the count: 2 more failures do not open it. */
    eai__breaker_success(&b, 25);
    eai__breaker_failure(&b, 30, "x");
    eai__breaker_failure(&b, 40, "x");
    assert_int_equal(b.state, EAI_BREAKER_CLOSED);
    eai__breaker_failure(&b, 50, "x");
    assert_int_equal(b.state, EAI_BREAKER_OPEN);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.ev[0].from, EAI_BREAKER_CLOSED);
    assert_int_equal(l.ev[0].to, EAI_BREAKER_OPEN);
    assert_int_equal(l.ev[0].t_us, 50);
    assert_int_equal(l.ev[0].n_failures, 3);
}

static void test_open_half_open_closed(void **state)
{
    (void)state;
    log_rec_t l = {0};
    eai__breaker_t b;
    eai__breaker_init(&b, 1, 1000, rec, &l);
    eai__breaker_failure(&b, 5000, "down");
    assert_int_equal(b.state, EAI_BREAKER_OPEN);
    /* Refused during the whole cool-down, [5000, 6000). */
    assert_false(eai__breaker_allow(&b, 5000));
    assert_false(eai__breaker_allow(&b, 5999));
    assert_int_equal(b.state, EAI_BREAKER_OPEN);
    /* At 6000 one probe goes out; a second caller is refused meanwhile. */
    assert_true(eai__breaker_allow(&b, 6000));
    assert_int_equal(b.state, EAI_BREAKER_HALF_OPEN);
    assert_false(eai__breaker_allow(&b, 6001));
    eai__breaker_success(&b, 6100);
    assert_int_equal(b.state, EAI_BREAKER_CLOSED);
    assert_int_equal(b.n_failures, 0);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.ev[1].from, EAI_BREAKER_OPEN);
    assert_int_equal(l.ev[1].to, EAI_BREAKER_HALF_OPEN);
    assert_int_equal(l.ev[1].t_us, 6000);
    assert_int_equal(l.ev[2].from, EAI_BREAKER_HALF_OPEN);
    assert_int_equal(l.ev[2].to, EAI_BREAKER_CLOSED);
    assert_int_equal(l.ev[2].t_us, 6100);
    assert_true(eai__breaker_allow(&b, 6101));
}

static void test_failed_probe_reopens(void **state)
{
    (void)state;
    log_rec_t l = {0};
    eai__breaker_t b;
    eai__breaker_init(&b, 2, 1000, rec, &l);
    eai__breaker_failure(&b, 0, "a");
    eai__breaker_failure(&b, 1, "b");
    assert_int_equal(b.state, EAI_BREAKER_OPEN);
    assert_true(eai__breaker_allow(&b, 1001));
    eai__breaker_failure(&b, 1050, "probe");
    /* One failed probe re-opens at once (not after K), and the cool-down
     * restarts from the probe's failure. */
    assert_int_equal(b.state, EAI_BREAKER_OPEN);
    assert_false(eai__breaker_allow(&b, 2049));
    assert_true(eai__breaker_allow(&b, 2050));
    assert_int_equal(b.state, EAI_BREAKER_HALF_OPEN);
    eai__breaker_success(&b, 2060);
    assert_int_equal(b.state, EAI_BREAKER_CLOSED);
    const eai_breaker_state_t want[][2] = {
        {EAI_BREAKER_CLOSED, EAI_BREAKER_OPEN},      {EAI_BREAKER_OPEN, EAI_BREAKER_HALF_OPEN},
        {EAI_BREAKER_HALF_OPEN, EAI_BREAKER_OPEN},   {EAI_BREAKER_OPEN, EAI_BREAKER_HALF_OPEN},
        {EAI_BREAKER_HALF_OPEN, EAI_BREAKER_CLOSED},
    };
    assert_int_equal(l.n, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(l.ev[i].from, want[i][0]);
        assert_int_equal(l.ev[i].to, want[i][1]);
    }
    assert_int_equal(l.ev[2].t_us, 1050);
}

static void test_lost_probe_does_not_wedge(void **state)
{
    (void)state;
    eai__breaker_t b;
    eai__breaker_init(&b, 1, 100, NULL, NULL); /* NULL log is allowed */
    eai__breaker_failure(&b, 0, NULL);
    assert_true(eai__breaker_allow(&b, 100));
    /* The probe's outcome never arrives; after two cool-downs from the
     * opening another probe may go. */
    assert_false(eai__breaker_allow(&b, 150));
    assert_true(eai__breaker_allow(&b, 200));
}

static void test_bad_settings_clamped(void **state)
{
    (void)state;
    eai__breaker_t b;
    eai__breaker_init(&b, 0, -5, NULL, NULL);
    assert_int_equal(b.max_failures, 1);
    assert_int_equal(b.cooldown_us, 0);
    eai__breaker_failure(&b, 7, NULL);
    assert_int_equal(b.state, EAI_BREAKER_OPEN);
    assert_true(eai__breaker_allow(&b, 7)); /* zero cool-down: probe at once */
    assert_string_equal(eai_breaker_state_name(EAI_BREAKER_HALF_OPEN), "half_open");
    assert_string_equal(eai_route_tier_name(EAI_ROUTE_EDGE_FALLBACK), "edge_fallback");
    assert_string_equal(eai_breaker_state_name((eai_breaker_state_t)42), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closed_to_open_after_k),
        cmocka_unit_test(test_open_half_open_closed),
        cmocka_unit_test(test_failed_probe_reopens),
        cmocka_unit_test(test_lost_probe_does_not_wedge),
        cmocka_unit_test(test_bad_settings_clamped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
