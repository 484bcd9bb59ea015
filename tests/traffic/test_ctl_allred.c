/* All-red on demand without SUMO: after a yellow the all-red runs only when
 * the clearance hold would hold a newly green signal (a crossing foe in the
 * box and a vehicle at speed on the signal's lane); otherwise the next green
 * starts at once. Every change gets it when asked to (all_red_always), when
 * the hold is off or when the box is unknown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ctl_fixture.h"
#include "edgeai/traffic.h"
#include "traffic/traffic_impl.h"

static void test_needed_cases(void **state)
{
    (void)state;
    eai_tl_model_t *m = cross(true);
    const char *ns = "Ggr", *ew = "rrG";
    /* a left turner past its waiting point, a car at speed on e: needed */
    int box[4] = {0, 0, 1, 0}, arr[3] = {0, 0, 1};
    assert_true(eai__tl_all_red_needed(m, ns, ew, box, arr));
    /* the n through car still crossing: needed too */
    int box_t[4] = {1, 0, 0, 0};
    assert_true(eai__tl_all_red_needed(m, ns, ew, box_t, arr));
    /* nobody at speed on e (the queue starts from the stop line): not needed */
    int slow[3] = {4, 2, 0};
    assert_false(eai__tl_all_red_needed(m, ns, ew, box, slow));
    /* only e's own box lane occupied: no foe, not needed */
    int own[4] = {0, 0, 0, 3};
    assert_false(eai__tl_all_red_needed(m, ns, ew, own, arr));
    /* box empty: not needed */
    int empty[4] = {0};
    assert_false(eai__tl_all_red_needed(m, ns, ew, empty, arr));
    /* occupancy unknown: always needed; arrivals unknown count as at speed */
    assert_true(eai__tl_all_red_needed(m, ns, ew, NULL, arr));
    assert_true(eai__tl_all_red_needed(m, ns, ew, box, NULL));
    /* e's car going back to n: its conflict with signal 0 and 1 */
    int box_e[4] = {0, 0, 0, 1}, arr_n[3] = {1, 0, 0};
    assert_true(eai__tl_all_red_needed(m, ew, ns, box_e, arr_n));
    eai_tl_model_destroy(m);
    /* no conflict matrix: always needed */
    m = cross(false);
    assert_true(eai__tl_all_red_needed(m, ns, ew, empty, arr));
    eai_tl_model_destroy(m);
}

/* Max-pressure with a queue only on e, yellow 3 s, all-red 2 s: stage 1 is
 * chosen at t = 5 and yellow shows for t = 5..7; the step at t = 8 either
 * starts the all-red (t = 8, 9; green at 10) or the green itself. */
static void run(drive_t *d, const eai_tl_model_t *m, const eai_tl_opts_t *o,
                const char *const *want, int n)
{
    assert_int_equal(eai_tl_controller_create(m, EAI_TL_MAXPRESSURE, o, &d->c), EAI_OK);
    d->q[2] = 5;
    for (int k = 0; k < n; k++) {
        eai_tl_out_t out = tick(d);
        assert_string_equal(out.state, want[k]);
        if (k == 8)
            assert_int_equal(out.mode, strcmp(want[8], "rrG") == 0 ? EAI_TL_GREEN : EAI_TL_ALL_RED);
    }
    eai_tl_controller_destroy(d->c);
}

static void test_sequence(void **state)
{
    (void)state;
    eai_tl_model_t *m = cross(true);
    eai_tl_opts_t o = {.min_green_s = 5, .yellow_s = 3, .all_red_s = 2, .clear_hold_s = 6};
    static const char *const skip[] = {"Ggr", "Ggr", "Ggr", "Ggr", "Ggr", "yyr",
                                       "yyr", "yyr", "rrG", "rrG", "rrG"};
    static const char *const full[] = {"Ggr", "Ggr", "Ggr", "Ggr", "Ggr", "yyr",
                                       "yyr", "yyr", "rrr", "rrr", "rrG"};
    /* box empty at the end of the yellow: straight to green */
    drive_t a = {.arriving = {0, 0, 1}};
    run(&a, m, &o, skip, 11);
    /* a foe in the box and a car at speed on e: the 2 s all-red runs */
    drive_t b = {.box = {0, 0, 1, 0}, .arriving = {0, 0, 1}};
    static const char *const held[] = {"Ggr", "Ggr", "Ggr", "Ggr", "Ggr", "yyr",
                                       "yyr", "yyr", "rrr", "rrr", "rrr"};
    run(&b, m, &o, held, 11); /* still there at t = 10: the hold keeps e red */
    drive_t b2 = {.box = {0, 0, 1, 0}, .arriving = {0, 0, 1}};
    assert_int_equal(eai_tl_controller_create(m, EAI_TL_MAXPRESSURE, &o, &b2.c), EAI_OK);
    b2.q[2] = 5;
    for (int k = 0; k < 9; k++)
        tick(&b2);
    b2.box[2] = 0; /* cleared during the all-red: green on time at t = 10 */
    assert_string_equal(tick(&b2).state, "rrr");
    assert_string_equal(tick(&b2).state, "rrG");
    eai_tl_controller_destroy(b2.c);
    /* the same foe but e's queue standing: no all-red; the foe is a
     * stranded turner (signal 1 was 'g'), so e alone waits 1 s
     * (turner_hold_s) */
    drive_t c = {.box = {0, 0, 1, 0}, .arriving = {0, 0, 0}};
    assert_int_equal(eai_tl_controller_create(m, EAI_TL_MAXPRESSURE, &o, &c.c), EAI_OK);
    c.q[2] = 5;
    for (int k = 0; k < 8; k++)
        assert_string_equal(tick(&c).state, skip[k]);
    eai_tl_out_t held8 = tick(&c); /* t = 8: green, e held */
    assert_int_equal(held8.mode, EAI_TL_GREEN);
    assert_string_equal(held8.state, "rrr");
    assert_string_equal(tick(&c).state, "rrG");
    eai_tl_controller_destroy(c.c);
    /* a late through vehicle (signal 0 was 'G') and e standing: neither */
    drive_t c2 = {.box = {1, 0, 0, 0}, .arriving = {0, 0, 0}};
    run(&c2, m, &o, skip, 11);
    /* all_red_always, the hold off, or the box unknown: every change */
    eai_tl_opts_t always = o;
    always.all_red_always = true;
    drive_t d = {.arriving = {0, 0, 1}};
    run(&d, m, &always, full, 11);
    eai_tl_opts_t nohold = o;
    nohold.clear_hold_s = -1;
    drive_t e = {.arriving = {0, 0, 1}};
    run(&e, m, &nohold, full, 11);
    drive_t f = {.no_box = true, .arriving = {0, 0, 1}};
    run(&f, m, &o, full, 11);
    /* all-red off stays off */
    eai_tl_opts_t off = o;
    off.all_red_s = -1;
    drive_t g = {.box = {0, 0, 1, 0}, .arriving = {0, 0, 1}};
    static const char *const none[] = {"Ggr", "Ggr", "Ggr", "Ggr", "Ggr", "yyr",
                                       "yyr", "yyr", "rrr", "rrr", "rrr"};
    run(&g, m, &off, none, 8); /* green at t = 8 (held): checked below */
    drive_t g2 = {.box = {0, 0, 1, 0}, .arriving = {0, 0, 1}};
    assert_int_equal(eai_tl_controller_create(m, EAI_TL_MAXPRESSURE, &off, &g2.c), EAI_OK);
    g2.q[2] = 5;
    for (int k = 0; k < 8; k++)
        tick(&g2);
    eai_tl_out_t out = tick(&g2);
    assert_int_equal(out.mode, EAI_TL_GREEN);
    assert_string_equal(out.state, "rrr");
    eai_tl_controller_destroy(g2.c);
    eai_tl_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_needed_cases),
        cmocka_unit_test(test_sequence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
