/* The sequencer's clearance rules without SUMO: the foe-aware hold (a newly
 * green signal waits while a conflicting vehicle is still in the junction
 * box and a vehicle arrives at speed on its lane), its cap, and the yellow
 * a protected green gets before it turns permissive; the junction-box part
 * of the model (copy, bad input). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "edgeai/traffic.h"
#include "traffic/traffic_impl.h"

#include "ctl_fixture.h"

/* Max-pressure with a queue only on e: stage 1 is chosen at t = 5, yellow
 * for t = 5..7, and (no all-red) the green would start at t = 8. */
static void start(drive_t *d, const eai_tl_model_t *m, double hold_s)
{
    eai_tl_opts_t o = {.min_green_s = 5, .yellow_s = 3, .all_red_s = -1, .clear_hold_s = hold_s};
    assert_int_equal(eai_tl_controller_create(m, EAI_TL_MAXPRESSURE, &o, &d->c), EAI_OK);
    d->q[2] = 5;
    for (int k = 0; k < 8; k++) {
        eai_tl_out_t out = tick(d);
        assert_string_equal(out.state, k < 5 ? "Ggr" : "yyr");
    }
}

static void test_hold_until_box_clear(void **state)
{
    (void)state;
    eai_tl_model_t *m = cross(true);
    assert_int_equal(m->n_box, 4);
    assert_string_equal(m->box[2].id, ":J_4_0");
    assert_int_equal(m->box_signal[2], 1);
    assert_int_equal(m->conflict[1 * 3 + 2], 1);
    assert_int_equal(m->conflict[0 * 3 + 1], 0);
    /* a left turner still past its waiting point, a car at speed on e */
    drive_t d = {.box = {0, 0, 1, 0}, .arriving = {0, 0, 1}};
    start(&d, m, 3);
    eai_tl_out_t out = tick(&d); /* t = 8: green stage 1, e held red */
    assert_int_equal(out.mode, EAI_TL_GREEN);
    assert_int_equal(out.stage, 1);
    assert_string_equal(out.state, "rrr");
    out = tick(&d); /* t = 9: still in the box */
    assert_string_equal(out.state, "rrr");
    assert_false(out.changed);
    d.box[2] = 0; /* cleared */
    out = tick(&d);
    assert_string_equal(out.state, "rrG");
    assert_true(out.changed);
    eai_tl_controller_destroy(d.c);
    eai_tl_model_destroy(m);
}

static void test_hold_cap_and_no_hold(void **state)
{
    (void)state;
    eai_tl_model_t *m = cross(true);
    /* never clears: released when the green has lasted clear_hold_s (2 s) */
    drive_t d = {.box = {1, 0, 0, 0}, .arriving = {0, 0, 2}};
    start(&d, m, 2);
    const char *want[] = {"rrr", "rrr", "rrG", "rrG"};
    for (int k = 0; k < 4; k++)
        assert_string_equal(tick(&d).state, want[k]);
    eai_tl_controller_destroy(d.c);

    /* nobody arriving at speed on e, only a late through vehicle (signal 0
     * was 'G') in the box: the queue starts at once */
    drive_t n = {.box = {1, 0, 0, 0}, .arriving = {3, 3, 0}};
    start(&n, m, 3);
    assert_string_equal(tick(&n).state, "rrG");
    eai_tl_controller_destroy(n.c);

    /* only e's own box lane occupied: no conflict, no hold */
    drive_t o = {.box = {0, 0, 0, 2}, .arriving = {0, 0, 1}};
    start(&o, m, 3);
    assert_string_equal(tick(&o).state, "rrG");
    eai_tl_controller_destroy(o.c);

    /* box occupancy unknown, or the hold switched off */
    drive_t u = {.no_box = true, .arriving = {0, 0, 1}};
    start(&u, m, 3);
    assert_string_equal(tick(&u).state, "rrG");
    eai_tl_controller_destroy(u.c);
    drive_t off = {.box = {1, 1, 1, 0}, .arriving = {0, 0, 1}};
    start(&off, m, -1);
    assert_string_equal(tick(&off).state, "rrG");
    eai_tl_controller_destroy(off.c);
    eai_tl_model_destroy(m);
}

/* A left turner stranded in the box (signal 1 was permissive 'g' in the
 * stage that ended) holds e for turner_hold_s (default 1 s) even with
 * nothing at speed on e: once e's queue streams, the turner would take a
 * gap in front of a car at speed (SUMO's emergency braking). The minimum
 * green counts from the release. */
static void test_hold_stranded_turner(void **state)
{
    (void)state;
    eai_tl_model_t *m = cross(true);
    drive_t d = {.box = {0, 1, 0, 0}, .arriving = {0, 0, 0}};
    start(&d, m, 6);
    eai_tl_out_t out = tick(&d); /* t = 8: green stage 1, e held */
    assert_int_equal(out.stage, 1);
    assert_string_equal(out.state, "rrr");
    d.q[0] = 9, d.q[2] = 0; /* n wants the green back at once */
    /* t = 9: released after 1 s though the turner is still there; the
     * minimum green (5 s) runs from here: t = 9..13 green, yellow at 14 */
    const char *want[] = {"rrG", "rrG", "rrG", "rrG", "rrG", "rry"};
    for (int k = 0; k < 6; k++)
        assert_string_equal(tick(&d).state, want[k]);
    eai_tl_controller_destroy(d.c);

    /* the turner on the second box lane (past its waiting point), 2 s */
    eai_tl_opts_t o = {
        .min_green_s = 5, .yellow_s = 3, .all_red_s = -1, .clear_hold_s = 6, .turner_hold_s = 2};
    drive_t t = {.box = {0, 0, 1, 0}};
    assert_int_equal(eai_tl_controller_create(m, EAI_TL_MAXPRESSURE, &o, &t.c), EAI_OK);
    t.q[2] = 5;
    for (int k = 0; k < 8; k++)
        tick(&t);
    assert_string_equal(tick(&t).state, "rrr");
    assert_string_equal(tick(&t).state, "rrr");
    assert_string_equal(tick(&t).state, "rrG");
    eai_tl_controller_destroy(t.c);

    /* switched off (negative): e starts at once */
    o.turner_hold_s = -1;
    drive_t f = {.box = {0, 1, 0, 0}};
    assert_int_equal(eai_tl_controller_create(m, EAI_TL_MAXPRESSURE, &o, &f.c), EAI_OK);
    f.q[2] = 5;
    for (int k = 0; k < 8; k++)
        tick(&f);
    assert_string_equal(tick(&f).state, "rrG");
    eai_tl_controller_destroy(f.c);

    /* the predicate by hand: stage 0 "Ggr" to stage 1 "rrG" */
    int box[4] = {0, 1, 0, 0};
    assert_true(eai__tl_turner_stranded(m, "Ggr", "rrG", 2, box));
    assert_false(eai__tl_turner_stranded(m, "Ggr", "rrG", 0, box)); /* not turning green */
    assert_false(eai__tl_turner_stranded(m, "GGr", "rrG", 2, box)); /* was protected */
    assert_false(eai__tl_turner_stranded(m, "Ggr", "rgG", 2, box)); /* still green */
    box[1] = 0;
    assert_false(eai__tl_turner_stranded(m, "Ggr", "rrG", 2, box));
    assert_false(eai__tl_turner_stranded(m, "Ggr", "rrG", 2, NULL));
    eai_tl_model_destroy(m);
}

/* Webster leaves the turner hold off unless asked: the first green of
 * stage 1 with a turner in the box and e standing starts at once. */
static void test_turner_hold_webster_default(void **state)
{
    (void)state;
    eai_tl_model_t *m = cross(true);
    for (int ask = 0; ask < 2; ask++) {
        eai_tl_opts_t o = {.yellow_s = 3, .all_red_s = -1, .turner_hold_s = ask ? 1 : 0};
        drive_t d = {.box = {0, 1, 0, 0}, .q = {1, 0, 1}};
        assert_int_equal(eai_tl_controller_create(m, EAI_TL_WEBSTER, &o, &d.c), EAI_OK);
        eai_tl_out_t out = tick(&d);
        for (int k = 0; k < 200 && !(out.mode == EAI_TL_GREEN && out.stage == 1); k++)
            out = tick(&d);
        assert_int_equal(out.stage, 1);
        assert_string_equal(out.state, ask ? "rrr" : "rrG");
        eai_tl_controller_destroy(d.c);
    }
    eai_tl_model_destroy(m);
}

/* Signal 0 protected in stage 0, permissive in stage 1: it gets a yellow
 * and the all-red like an ending green, then turns 'g'. An upgrade ('g' to
 * 'G') stays green throughout. */
static void test_protected_to_permissive_clears(void **state)
{
    (void)state;
    static const eai_tl_link_desc_t links[] = {
        {.signal = 0, .from_lane = "a_0"},
        {.signal = 1, .from_lane = "b_0"},
    };
    static const eai_tl_phase_desc_t ph[] = {
        {"Gr", 20, 0, 0}, {"yr", 3, 0, 0}, {"gG", 20, 0, 0}, {"gy", 3, 0, 0}};
    eai_tl_model_desc_t md = {
        .tls_id = "P", .n_links = 2, .links = links, .n_phases = 4, .phases = ph};
    eai_tl_model_t *m = NULL;
    assert_int_equal(eai_tl_model_build(&md, NULL, &m), EAI_OK);
    eai_tl_opts_t o = {.min_green_s = 5, .yellow_s = 2, .all_red_s = 1};
    eai_tl_controller_t *c = NULL;
    assert_int_equal(eai_tl_controller_create(m, EAI_TL_MAXPRESSURE, &o, &c), EAI_OK);
    double q[2] = {0, 6};
    const char *want[] = {"Gr", "Gr", "Gr", "Gr", "Gr", "yr", "yr", "rr", "gG",
                          "gG", "gG", "gG", "gG", "gy", "gy", "gr", "Gr"};
    for (int k = 0; k < 17; k++) {
        if (k == 8) q[0] = 9, q[1] = 0; /* then back to stage 0 at t = 13 */
        eai_tl_obs_t ob = {.t_s = k, .dt_s = 1, .queue = q};
        eai_tl_out_t out;
        assert_int_equal(eai_tl_controller_step(c, &ob, &out), EAI_OK);
        assert_string_equal(out.state, want[k]);
    }
    eai_tl_controller_destroy(c);
    eai_tl_model_destroy(m);
}

static void test_box_bad(void **state)
{
    (void)state;
    eai_tl_link_desc_t l = {.signal = 0, .from_lane = "a_0"};
    eai_tl_phase_desc_t p[1] = {{"Gr", 10, 0, 0}};
    const char *box[] = {":X_0_0"};
    int sig[] = {2};
    eai_tl_model_desc_t d = {.tls_id = "X",
                             .n_links = 1,
                             .links = &l,
                             .n_phases = 1,
                             .phases = p,
                             .n_box = 1,
                             .box_lanes = box,
                             .box_signal = sig};
    eai_tl_model_t *m = NULL;
    assert_int_equal(eai_tl_model_build(&d, NULL, &m), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "box lane 0"));
    assert_null(m);
    sig[0] = 1;
    d.box_lanes = NULL;
    assert_int_equal(eai_tl_model_build(&d, NULL, &m), EAI_E_INVALID);
    d.box_lanes = box;
    assert_int_equal(eai_tl_model_build(&d, NULL, &m), EAI_OK);
    assert_int_equal(m->n_box, 1);
    assert_null(m->conflict);
    eai_tl_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hold_until_box_clear),
        cmocka_unit_test(test_hold_cap_and_no_hold),
        cmocka_unit_test(test_hold_stranded_turner),
        cmocka_unit_test(test_turner_hold_webster_default),
        cmocka_unit_test(test_protected_to_permissive_clears),
        cmocka_unit_test(test_box_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
