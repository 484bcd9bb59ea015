/* Signal controllers without SUMO: Webster's formulas against hand-computed
 * values, the clearance sequence step by step, max-pressure's choice and
 * margin, the max-wait guard, Webster's re-plan from counted flows, the
 * queue and Webster estimates, passage counting, and bad input. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "edgeai/traffic.h"

/* Two one-lane approaches, n (signal 0) and e (signal 1), two stages. */
static eai_tl_model_t *toy2(void)
{
    static const eai_tl_link_desc_t links[] = {
        {.signal = 0, .from_lane = "n_0", .to_lane = "s_0", .dir = 's'},
        {.signal = 1, .from_lane = "e_0", .to_lane = "w_0", .dir = 's'},
    };
    static const eai_tl_phase_desc_t ph[] = {
        {"Gr", 30, 0, 0}, {"yr", 3, 0, 0}, {"rG", 30, 0, 0}, {"ry", 4, 0, 0}};
    eai_tl_model_desc_t d = {
        .tls_id = "J", .n_links = 2, .links = links, .n_phases = 4, .phases = ph};
    eai_tl_model_t *m = NULL;
    assert_int_equal(eai_tl_model_build(&d, NULL, &m), EAI_OK);
    return m;
}

/* Three lanes a, b, c; stage 0 gives a priority and b permissive green. */
static eai_tl_model_t *toy3(void)
{
    static const eai_tl_link_desc_t links[] = {
        {.signal = 0, .from_lane = "a_0"},
        {.signal = 1, .from_lane = "b_0"},
        {.signal = 2, .from_lane = "c_0"},
    };
    static const eai_tl_phase_desc_t ph[] = {{"Ggr", 20, 5, 40}, {"ygr", 3, 0, 0},
                                             {"rGr", 20, 0, 0},  {"ryr", 3, 0, 0},
                                             {"rrG", 20, 0, 0},  {"rry", 3, 0, 0}};
    eai_tl_model_desc_t d = {
        .tls_id = "K", .n_links = 3, .links = links, .n_phases = 6, .phases = ph};
    eai_tl_model_t *m = NULL;
    assert_int_equal(eai_tl_model_build(&d, NULL, &m), EAI_OK);
    return m;
}

static void test_webster_formulas(void **state)
{
    (void)state;
    double y[2] = {0.3, 0.2}, g[2];
    /* C0 = (1.5*10 + 5) / (1 - 0.5) = 40; g = y/Y * (40 - 10) */
    assert_float_equal(eai_tl_webster_plan(y, 2, 10, 30, 120, g), 40.0, 1e-9);
    assert_float_equal(g[0], 18.0, 1e-9);
    assert_float_equal(g[1], 12.0, 1e-9);
    assert_float_equal(eai_tl_webster_plan(y, 2, 10, 50, 120, g), 50.0, 1e-9); /* clamped */
    assert_float_equal(g[0], 24.0, 1e-9);
    double sat[2] = {0.6, 0.4};
    assert_float_equal(eai_tl_webster_plan(sat, 2, 10, 30, 120, NULL), 120.0, 1e-9);
    double none[3] = {0, 0, 0}, g3[3];
    assert_float_equal(eai_tl_webster_plan(none, 3, 12, 30, 120, g3), 30.0, 1e-9);
    assert_float_equal(g3[2], 6.0, 1e-9);
    /* c=60 g=30 q=0.1 s=0.5: 9.375 + 1.3333 - 0.19124 */
    assert_float_equal(eai_tl_webster_delay(60, 30, 0.1, 0.5), 10.5170985, 1e-6);
    assert_float_equal(eai_tl_webster_delay(60, 30, 0, 0.5), 7.5, 1e-9);
    assert_true(eai_tl_webster_delay(60, 0, 0.1, 0.5) > 0);
    assert_true(isfinite(eai_tl_webster_delay(60, 30, 5.0, 0.5)));
}

static void test_model(void **state)
{
    (void)state;
    eai_tl_model_t *m = toy3();
    assert_int_equal(m->n_stages, 3);
    assert_int_equal(m->n_in, 3);
    assert_int_equal(m->n_approaches, 3);
    assert_string_equal(m->in[1].edge, "b");
    assert_float_equal(m->yellow_s, 3.0, 0);
    assert_int_equal(m->serves[0 * 3 + 0], 2);
    assert_int_equal(m->serves[0 * 3 + 1], 1);
    assert_int_equal(m->serves[0 * 3 + 2], 0);
    assert_int_equal(m->serves[2 * 3 + 2], 2);
    assert_float_equal(m->stages[0].min_s, 5.0, 0);
    assert_float_equal(m->stages[1].max_s, 20.0, 0);
    assert_int_equal(eai_tl_model_in_lane(m, "c_0"), 2);
    assert_int_equal(eai_tl_model_in_lane(m, "zz"), -1);
    eai_tl_model_destroy(m);
}

static void test_model_bad(void **state)
{
    (void)state;
    eai_tl_model_t *m = NULL;
    eai_tl_link_desc_t l = {.signal = 0, .from_lane = "a_0"};
    eai_tl_phase_desc_t p[2] = {{"Gr", 10, 0, 0}, {"G", 10, 0, 0}};
    eai_tl_model_desc_t d = {.tls_id = "X", .n_links = 1, .links = &l, .n_phases = 2, .phases = p};
    assert_int_equal(eai_tl_model_build(&d, NULL, &m), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "phase 1"));
    p[1].state = "rx";
    assert_int_equal(eai_tl_model_build(&d, NULL, &m), EAI_E_INVALID);
    p[1].state = "rr";
    p[0].state = "yr";
    assert_int_equal(eai_tl_model_build(&d, NULL, &m), EAI_E_UNSUPPORTED);
    p[0].state = "Gr";
    l.signal = 2;
    assert_int_equal(eai_tl_model_build(&d, NULL, &m), EAI_E_INVALID);
    assert_null(m);
    assert_int_equal(eai_tl_model_build(NULL, NULL, &m), EAI_E_INVALID);
}

/* Drives a controller: obs at t = 0, 1, 2, ... with constant queues. */
typedef struct drive {
    eai_tl_controller_t *c;
    double q[4];
    int arr[4], dep[4];
    double t;
} drive_t;

static eai_tl_out_t tick(drive_t *d)
{
    eai_tl_obs_t o = {
        .t_s = d->t, .dt_s = 1, .queue = d->q, .arrivals = d->arr, .departures = d->dep};
    eai_tl_out_t out;
    assert_int_equal(eai_tl_controller_step(d->c, &o, &out), EAI_OK);
    d->t += 1;
    return out;
}

static void test_clearance_sequence(void **state)
{
    (void)state;
    eai_tl_model_t *m = toy2();
    eai_tl_opts_t o = {.min_green_s = 5, .yellow_s = 3, .all_red_s = 2};
    drive_t d = {.q = {0, 5}};
    assert_int_equal(eai_tl_controller_create(m, EAI_TL_MAXPRESSURE, &o, &d.c), EAI_OK);
    assert_string_equal(eai_tl_controller_name(d.c), "maxpressure");
    const char *want[] = {"Gr", "Gr", "Gr", "Gr", "Gr", "yr", "yr", "yr",
                          "rr", "rr", "rG", "rG", "rG", "rG", "rG"};
    for (int k = 0; k < 15; k++) {
        eai_tl_out_t out = tick(&d);
        assert_string_equal(out.state, want[k]);
        assert_int_equal(out.changed, k == 0 || k == 5 || k == 8 || k == 10);
        if (k == 5) assert_int_equal(out.mode, EAI_TL_YELLOW), assert_int_equal(out.stage, 1);
        if (k == 8) assert_int_equal(out.mode, EAI_TL_ALL_RED);
        if (k == 10) assert_int_equal(out.mode, EAI_TL_GREEN);
    }
    eai_tl_controller_destroy(d.c);
    eai_tl_model_destroy(m);
}

static void test_maxpressure_choice(void **state)
{
    (void)state;
    eai_tl_model_t *m = toy3();
    eai_tl_opts_t o = {
        .min_green_s = 5, .yellow_s = 3, .all_red_s = 1, .pressure_weight_wait = 0.05};
    /* at t=5, b and c have waited 5 s (permissive green is not service):
     * S0 = a + (b + 0.25)/2 = 3.125, S1 = 6.25, S2 = 5 + 0.25 */
    drive_t d = {.q = {0, 6, 5}};
    assert_int_equal(eai_tl_controller_create(m, EAI_TL_MAXPRESSURE, &o, &d.c), EAI_OK);
    eai_tl_out_t out;
    for (int k = 0; k < 5; k++)
        out = tick(&d);
    assert_string_equal(out.state, "Ggr");
    out = tick(&d);
    assert_int_equal(out.stage, 1);
    assert_string_equal(out.state, "ygr"); /* b stays green: served by both */
    for (int k = 0; k < 3; k++)
        out = tick(&d);
    assert_string_equal(out.state, "rgr");
    out = tick(&d);
    assert_string_equal(out.state, "rGr");
    eai_tl_controller_destroy(d.c);

    /* S0 = 3 + 3.125 vs S1 = 6.25: not more than the margin (1): hold */
    drive_t h = {.q = {3, 6, 5}};
    assert_int_equal(eai_tl_controller_create(m, EAI_TL_MAXPRESSURE, &o, &h.c), EAI_OK);
    for (int k = 0; k < 10; k++)
        out = tick(&h);
    assert_string_equal(out.state, "Ggr");
    eai_tl_controller_destroy(h.c);
    eai_tl_model_destroy(m);
}

static void test_max_wait_guard(void **state)
{
    (void)state;
    eai_tl_model_t *m = toy2();
    /* n always outweighs e; only the guard can serve e, when it has waited 30 s */
    eai_tl_opts_t o = {.min_green_s = 5, .max_green_s = 1000, .max_wait_s = 30, .yellow_s = 3};
    drive_t d = {.q = {10, 1}};
    assert_int_equal(eai_tl_controller_create(m, EAI_TL_MAXPRESSURE, &o, &d.c), EAI_OK);
    eai_tl_out_t out;
    for (int k = 0; k < 30; k++) {
        out = tick(&d);
        assert_string_equal(out.state, "Gr");
    }
    out = tick(&d); /* t = 30: e has waited 30 s */
    assert_true(out.forced);
    assert_string_equal(out.state, "yr");
    assert_int_equal(out.stage, 1);
    eai_tl_controller_destroy(d.c);

    /* max green forces a change too */
    o.max_wait_s = 1000;
    o.max_green_s = 12;
    assert_int_equal(eai_tl_controller_create(m, EAI_TL_MAXPRESSURE, &o, &d.c), EAI_OK);
    d.t = 0;
    for (int k = 0; k < 12; k++)
        out = tick(&d);
    assert_string_equal(out.state, "Gr");
    out = tick(&d);
    assert_string_equal(out.state, "yr");
    assert_true(out.forced);
    eai_tl_controller_destroy(d.c);
    eai_tl_model_destroy(m);
}

static void test_webster_plan_and_estimates(void **state)
{
    (void)state;
    eai_tl_model_t *m = toy2();
    eai_tl_opts_t o = {.yellow_s = 3, .all_red_s = 2, .replan_cycles = 1, .min_cycle_s = 20};
    drive_t d = {0};
    assert_int_equal(eai_tl_controller_create(m, EAI_TL_WEBSTER, &o, &d.c), EAI_OK);
    /* initial 300 veh/h per lane: y = 1/6 each, L = 2 * 5, C0 = 20 / (2/3) = 30 */
    const double *g = NULL;
    assert_float_equal(eai_tl_controller_plan(d.c, &g), 30.0, 1e-9);
    assert_float_equal(g[0], 10.0, 1e-9);
    assert_float_equal(g[1], 10.0, 1e-9);
    eai_tl_out_t out;
    int n_cycles = -1;
    for (int k = 0; k <= 30; k++) {
        /* n: 2 halting, arrivals every 8 s, departures every 10 s; e: arrivals every 12 s */
        d.q[0] = 2;
        d.arr[0] = k > 0 && k % 8 == 0;
        d.dep[0] = k > 0 && k % 10 == 0;
        d.arr[1] = k > 0 && k % 12 == 0;
        out = tick(&d);
        if (k == 10) assert_string_equal(out.state, "yr");
        if (k == 13) assert_string_equal(out.state, "rr");
        if (k == 15) assert_string_equal(out.state, "rG");
        if (k == 25) assert_string_equal(out.state, "ry");
        if (k < 30) assert_false(out.cycle_done);
    }
    assert_true(out.cycle_done); /* back to stage 0 at t = 30 */
    assert_string_equal(out.state, "Gr");
    const eai_tl_estimate_t *e = eai_tl_controller_estimates(d.c, &n_cycles);
    assert_int_equal(n_cycles, 1);
    /* queue model: 2 vehicles * 30 s / 3 departures */
    assert_float_equal(e[0].queue_last_s, 20.0, 1e-9);
    assert_int_equal(e[0].departures, 3);
    assert_int_equal(e[0].arrivals, 3);
    assert_float_equal(e[1].queue_last_s, -1.0, 0);
    /* Webster: C 30, n green 10 + yellow 3 - 2 lost = 11, q 3/30, s 0.5 */
    assert_float_equal(e[0].webster_last_s, 9.8755206, 1e-6);
    assert_float_equal(e[0].green_ratio, 11.0 / 30.0, 1e-9);
    /* re-plan on 3/30 s = 360 and 2/30 s = 240 veh/h: y .2 and .1333, C0 = 20 / (2/3) */
    assert_float_equal(eai_tl_controller_plan(d.c, &g), 30.0, 1e-9);
    assert_float_equal(g[0], 12.0, 1e-9);
    assert_float_equal(g[1], 8.0, 1e-9);
    eai_tl_controller_destroy(d.c);
    eai_tl_model_destroy(m);
}

static void test_bad_step(void **state)
{
    (void)state;
    eai_tl_model_t *m = toy2();
    eai_tl_controller_t *c = NULL;
    assert_int_equal(eai_tl_controller_create(m, (eai_tl_kind_t)9, NULL, &c), EAI_E_INVALID);
    eai_tl_opts_t bad = {.min_green_s = -1};
    assert_int_equal(eai_tl_controller_create(m, EAI_TL_WEBSTER, &bad, &c), EAI_E_INVALID);
    assert_int_equal(eai_tl_controller_create(m, EAI_TL_WEBSTER, NULL, &c), EAI_OK);
    eai_tl_obs_t o = {.t_s = 0, .dt_s = 1};
    eai_tl_out_t out;
    assert_int_equal(eai_tl_controller_step(c, &o, &out), EAI_E_INVALID);
    double q[2] = {0, 0};
    o.queue = q;
    o.dt_s = 0;
    assert_int_equal(eai_tl_controller_step(c, &o, &out), EAI_E_INVALID);
    eai_tl_controller_destroy(c);
    eai_tl_controller_destroy(NULL);
    eai_tl_model_destroy(m);
}

static void test_idcount(void **state)
{
    (void)state;
    eai_tl_idcount_t *c = NULL;
    assert_int_equal(eai_tl_idcount_create(2, 4, NULL, &c), EAI_OK);
    const char *s1[] = {"a", "b"}, *s2[] = {"b", "c"}, *s5[] = {"p", "q", "r", "s", "t"};
    int a, d;
    assert_int_equal(eai_tl_idcount_update(c, 0, s1, 2, &a, &d), EAI_OK);
    assert_int_equal(a, 2), assert_int_equal(d, 0);
    assert_int_equal(eai_tl_idcount_update(c, 0, s2, 2, &a, &d), EAI_OK);
    assert_int_equal(a, 1), assert_int_equal(d, 1);
    /* a slow vehicle standing on the detector for many steps counts once */
    for (int k = 0; k < 5; k++) {
        assert_int_equal(eai_tl_idcount_update(c, 0, s2, 2, &a, &d), EAI_OK);
        assert_int_equal(a, 0), assert_int_equal(d, 0);
    }
    assert_int_equal(eai_tl_idcount_update(c, 0, NULL, 0, &a, &d), EAI_OK);
    assert_int_equal(a, 0), assert_int_equal(d, 2);
    assert_int_equal(eai_tl_idcount_total(c, 0), 3);
    /* capacity: the fifth id is dropped and counted as overflow */
    assert_int_equal(eai_tl_idcount_update(c, 1, s5, 5, &a, &d), EAI_OK);
    assert_int_equal(a, 4);
    assert_int_equal(eai_tl_idcount_overflow(c), 1);
    /* tagged: a lane change is neither arrival nor departure */
    int arr[2] = {0}, dep[2] = {0}, t0[] = {0}, t1[] = {1};
    const char *v[] = {"v"};
    assert_int_equal(eai_tl_idcount_update(c, 1, NULL, 0, NULL, NULL), EAI_OK);
    assert_int_equal(eai_tl_idcount_update_tagged(c, 1, v, t0, 1, 2, arr, dep), EAI_OK);
    assert_int_equal(eai_tl_idcount_update_tagged(c, 1, v, t1, 1, 2, arr, dep), EAI_OK);
    assert_int_equal(eai_tl_idcount_update_tagged(c, 1, NULL, NULL, 0, 2, arr, dep), EAI_OK);
    assert_int_equal(arr[0], 1), assert_int_equal(arr[1], 0);
    assert_int_equal(dep[0], 0), assert_int_equal(dep[1], 1);
    /* bad input */
    assert_int_equal(eai_tl_idcount_update(c, 2, s1, 2, &a, &d), EAI_E_INVALID);
    assert_int_equal(eai_tl_idcount_update_tagged(c, 0, v, t1, 1, 1, arr, dep), EAI_E_INVALID);
    eai_tl_idcount_destroy(c);
    assert_int_equal(eai_tl_idcount_create(0, 4, NULL, &c), EAI_E_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_webster_formulas),
        cmocka_unit_test(test_model),
        cmocka_unit_test(test_model_bad),
        cmocka_unit_test(test_clearance_sequence),
        cmocka_unit_test(test_maxpressure_choice),
        cmocka_unit_test(test_max_wait_guard),
        cmocka_unit_test(test_webster_plan_and_estimates),
        cmocka_unit_test(test_bad_step),
        cmocka_unit_test(test_idcount),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
