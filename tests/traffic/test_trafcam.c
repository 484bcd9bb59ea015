/* The camera path's counting geometry on hand-made tracks (no SUMO, no
 * detector): zone membership, arrivals, stop-line departures (seen past the
 * line, or vanished near it), broken tracks, re-found ids, queues; and bad
 * options of eai_trafcam_create / the hook. Expected counts are worked out
 * by hand in the comments from the rules in edgeai/trafcam.h. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "edgeai/trafcam.h"

/* The north approach of scripts/make_scenarios.sh's junction, in the world
 * frame (SUMO minus the junction centre): southbound lanes at x = -1.6 and
 * -4.8, stop line at y = 13.6, 3.2 m wide. Lane 2: the east approach,
 * westbound at y = 1.6, stop line at x = 13.6. */
static const eai_trafcam_lane_t LANES[3] = {
    {.px = -1.6f, .py = 13.6f, .ux = 0, .uy = -1, .width_m = 3.2f, .approach = 0},
    {.px = -4.8f, .py = 13.6f, .ux = 0, .uy = -1, .width_m = 3.2f, .approach = 0},
    {.px = 13.6f, .py = 1.6f, .ux = -1, .uy = 0, .width_m = 3.2f, .approach = 1},
};

static eai_trafcam_counter_t *make(void)
{
    eai_trafcam_counter_opts_t o = {.zone_m = 40, .near_m = 8, .halt_mps = 1.5f, .fps = 5};
    eai_trafcam_counter_t *c = NULL;
    assert_int_equal(eai_trafcam_counter_create(LANES, 3, &o, &c), EAI_OK);
    return c;
}

/* One frame with at most one track; id 0 means no track this frame. */
static void frame1(eai_trafcam_counter_t *c, int id, float x, float y, int *arr, int *dep, int *q,
                   int *lane)
{
    int ids[1] = {id};
    float xs[1] = {x}, ys[1] = {y};
    assert_int_equal(eai_trafcam_counter_frame(c, ids, xs, ys, id ? 1 : 0, arr, dep, q, lane),
                     EAI_OK);
}

static void test_zone_lookup(void **state)
{
    (void)state;
    eai_trafcam_counter_t *c = make();
    float al = -1;
    /* on lane 0's centre line 6.4 m upstream of the stop line */
    assert_int_equal(eai_trafcam_counter_lane(c, -1.6f, 20.0f, &al), 0);
    assert_float_equal(al, 6.4f, 1e-4f);
    /* 46.4 m upstream: beyond the 40 m zone */
    assert_int_equal(eai_trafcam_counter_lane(c, -1.6f, 60.0f, NULL), -1);
    /* 3.6 m past the stop line: inside the junction */
    assert_int_equal(eai_trafcam_counter_lane(c, -1.6f, 10.0f, NULL), -1);
    /* x = 1.0: 2.6 m from lane 0's centre (> 1.6): the outgoing side */
    assert_int_equal(eai_trafcam_counter_lane(c, 1.0f, 20.0f, NULL), -1);
    /* x = -3.3: 1.7 m from lane 0, 1.5 m from lane 1 */
    assert_int_equal(eai_trafcam_counter_lane(c, -3.3f, 20.0f, NULL), 1);
    /* the east approach: 10 m east of its stop line */
    assert_int_equal(eai_trafcam_counter_lane(c, 23.6f, 1.0f, &al), 2);
    assert_float_equal(al, 10.0f, 1e-4f);
    eai_trafcam_counter_destroy(c);
}

/* A car drives south on lane 0 at 2 m per frame (10 m/s) from 35 m upstream:
 * frame k (0-based) is at along = 35 - 2k; it arrives on frame 0 and is
 * first past the stop line at k = 18 (along -1). */
static void test_drive_through(void **state)
{
    (void)state;
    eai_trafcam_counter_t *c = make();
    int arr[3] = {0}, dep[3] = {0}, q[3], lane[1];
    for (int k = 0; k < 25; k++) {
        frame1(c, 7, -1.6f, 13.6f + 35.0f - 2.0f * (float)k, arr, dep, q, lane);
        assert_int_equal(arr[0], 1);
        assert_int_equal(dep[0], k >= 18 ? 1 : 0);
        assert_int_equal(lane[0], k < 18 ? 0 : -1);
        assert_int_equal(q[0], 0); /* 10 m/s: never queued */
    }
    assert_int_equal(arr[1] + arr[2] + dep[1] + dep[2], 0);
    /* leaving the view afterwards counts nothing more */
    for (int k = 0; k < 100; k++)
        frame1(c, 0, 0, 0, arr, dep, NULL, NULL);
    assert_int_equal(arr[0], 1);
    assert_int_equal(dep[0], 1);
    eai_trafcam_counter_destroy(c);
}

/* Standing at along 5: the first frame has no speed yet (not queued), the
 * second measures 0 m/s (queued). */
static void test_queue(void **state)
{
    (void)state;
    eai_trafcam_counter_t *c = make();
    int arr[3] = {0}, dep[3] = {0}, q[3];
    frame1(c, 3, -4.8f, 18.6f, arr, dep, q, NULL);
    assert_int_equal(q[1], 0);
    for (int k = 0; k < 5; k++) {
        frame1(c, 3, -4.8f, 18.6f, arr, dep, q, NULL);
        assert_int_equal(q[1], 1);
        assert_int_equal(q[0] + q[2], 0);
    }
    assert_int_equal(arr[1], 1);
    eai_trafcam_counter_destroy(c);
}

/* Vanishing near the stop line (along 3, e.g. hidden by a pole as it
 * crosses): last seen on frame 2; gone after 1 s (5 frames) at frame 7; no
 * new id takes it up within 2 s of frame 2's sighting, so the departure is
 * counted when (frame - 2) / 5 > 2, i.e. on frame 13. */
static void test_vanish_near_stop_line(void **state)
{
    (void)state;
    eai_trafcam_counter_t *c = make();
    int arr[3] = {0}, dep[3] = {0};
    frame1(c, 9, -1.6f, 16.6f, arr, dep, NULL, NULL); /* frame 1 */
    frame1(c, 9, -1.6f, 16.6f, arr, dep, NULL, NULL); /* frame 2 */
    for (int f = 3; f <= 20; f++) {
        frame1(c, 0, 0, 0, arr, dep, NULL, NULL);
        assert_int_equal(dep[0], f >= 13 ? 1 : 0);
    }
    assert_int_equal(arr[0], 1);
    eai_trafcam_counter_destroy(c);
}

/* Vanishing 20 m upstream is not a departure; a new id showing up 1 m from
 * there 1.6 s later is the same vehicle: no second arrival, and its crossing
 * is counted once. */
static void test_broken_track(void **state)
{
    (void)state;
    eai_trafcam_counter_t *c = make();
    int arr[3] = {0}, dep[3] = {0};
    for (int k = 0; k < 3; k++)
        frame1(c, 1, -1.6f, 33.6f, arr, dep, NULL, NULL); /* frames 1-3, along 20 */
    for (int k = 0; k < 5; k++)
        frame1(c, 0, 0, 0, arr, dep, NULL, NULL); /* frames 4-8 */
    assert_int_equal(arr[0], 1);
    frame1(c, 2, -1.6f, 32.6f, arr, dep, NULL, NULL); /* frame 9: 1.2 s after frame 3 */
    assert_int_equal(arr[0], 1);
    for (int k = 1; k <= 12; k++) /* drives on at 2 m per frame, past the line at along -1.4 */
        frame1(c, 2, -1.6f, 32.6f - 2.0f * (float)k, arr, dep, NULL, NULL);
    assert_int_equal(dep[0], 1);
    for (int k = 0; k < 30; k++)
        frame1(c, 0, 0, 0, arr, dep, NULL, NULL);
    assert_int_equal(arr[0], 1);
    assert_int_equal(dep[0], 1);
    /* a new id far from every lost track is a new vehicle */
    frame1(c, 5, 23.6f, 1.6f, arr, dep, NULL, NULL);
    assert_int_equal(arr[2], 1);
    eai_trafcam_counter_destroy(c);
}

/* The tracker finds the same id again after 1.4 s (ByteTrack keeps lost
 * tracks): the loss is undone, the crossing counted once. */
static void test_refound_id(void **state)
{
    (void)state;
    eai_trafcam_counter_t *c = make();
    int arr[3] = {0}, dep[3] = {0};
    frame1(c, 4, -1.6f, 17.6f, arr, dep, NULL, NULL); /* along 4: near the line */
    for (int k = 0; k < 7; k++)
        frame1(c, 0, 0, 0, arr, dep, NULL, NULL);
    frame1(c, 4, -1.6f, 15.6f, arr, dep, NULL, NULL); /* back, along 2 */
    for (int k = 0; k < 20; k++)
        frame1(c, 0, 0, 0, arr, dep, NULL, NULL);
    /* lost again at along 2: one departure in all, one arrival */
    assert_int_equal(dep[0], 1);
    assert_int_equal(arr[0], 1);
    eai_trafcam_counter_destroy(c);
}

/* Several ids in one frame; an id first seen inside the junction is never an
 * arrival; each id's lane is reported. */
static void test_many_ids(void **state)
{
    (void)state;
    eai_trafcam_counter_t *c = make();
    int arr[3] = {0}, dep[3] = {0}, q[3], lane[4];
    int ids[4] = {10, 11, 12, 13};
    float x[4] = {-1.6f, -4.8f, 23.6f, 0.0f}, y[4] = {30.0f, 30.0f, 1.6f, 0.0f};
    assert_int_equal(eai_trafcam_counter_frame(c, ids, x, y, 4, arr, dep, q, lane), EAI_OK);
    assert_int_equal(arr[0], 1);
    assert_int_equal(arr[1], 1);
    assert_int_equal(arr[2], 1);
    assert_int_equal(lane[0], 0);
    assert_int_equal(lane[1], 1);
    assert_int_equal(lane[2], 2);
    assert_int_equal(lane[3], -1);
    eai_trafcam_counter_destroy(c);
}

static void test_counter_bad(void **state)
{
    (void)state;
    eai_trafcam_counter_t *c = NULL;
    assert_int_equal(eai_trafcam_counter_create(LANES, 0, NULL, &c), EAI_E_INVALID);
    eai_trafcam_lane_t bad = LANES[0];
    bad.width_m = 0;
    assert_int_equal(eai_trafcam_counter_create(&bad, 1, NULL, &c), EAI_E_INVALID);
    bad = LANES[0];
    bad.ux = 1; /* |u| = sqrt(2) */
    assert_int_equal(eai_trafcam_counter_create(&bad, 1, NULL, &c), EAI_E_INVALID);
    eai_trafcam_counter_opts_t o = {.zone_m = -1};
    assert_int_equal(eai_trafcam_counter_create(LANES, 1, &o, &c), EAI_E_INVALID);
    assert_null(c);
    assert_int_equal(eai_trafcam_counter_create(LANES, 1, NULL, &c), EAI_OK);
    int arr[1], dep[1];
    assert_int_equal(eai_trafcam_counter_frame(c, NULL, NULL, NULL, 1, arr, dep, NULL, NULL),
                     EAI_E_INVALID);
    assert_int_equal(eai_trafcam_counter_frame(c, NULL, NULL, NULL, -1, arr, dep, NULL, NULL),
                     EAI_E_INVALID);
    assert_int_equal(eai_trafcam_counter_frame(c, NULL, NULL, NULL, 0, NULL, dep, NULL, NULL),
                     EAI_E_INVALID);
    /* non-finite points are ignored, not counted */
    int ids[1] = {1};
    float nx[1] = {NAN}, ny[1] = {20};
    arr[0] = dep[0] = 0;
    assert_int_equal(eai_trafcam_counter_frame(c, ids, nx, ny, 1, arr, dep, NULL, NULL), EAI_OK);
    assert_int_equal(arr[0], 0);
    eai_trafcam_counter_destroy(c);
    eai_trafcam_counter_destroy(NULL);
}

static void test_create_bad(void **state)
{
    (void)state;
    eai_trafcam_t *t = NULL;
    assert_int_equal(eai_trafcam_create(NULL, &t), EAI_E_INVALID);
    eai_trafcam_opts_t o = {0};
    assert_int_equal(eai_trafcam_create(&o, &t), EAI_E_INVALID); /* no detector */
    o.detector_path = "models/scene/scene_det.onnx";
    o.fps = 100;
    assert_int_equal(eai_trafcam_create(&o, &t), EAI_E_INVALID);
    o.fps = 0;
    o.tracker = "kalman";
    assert_int_equal(eai_trafcam_create(&o, &t), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "kalman"));
    o.tracker = NULL;
    o.views = 3;
    assert_int_equal(eai_trafcam_create(&o, &t), EAI_E_INVALID);
    o.views = 0;
    o.width = 10;
    assert_int_equal(eai_trafcam_create(&o, &t), EAI_E_INVALID);
    o.width = 0;
    o.detector_path = "/nonexistent/det.onnx";
    assert_int_not_equal(eai_trafcam_create(&o, &t), EAI_OK);
    assert_null(t);
    eai_trafcam_destroy(NULL);
}

/* The real detector loads; a fresh trafcam has empty stats; the hook
 * rejects NULL arguments without touching the arrays. */
static void test_fresh(void **state)
{
    (void)state;
    eai_trafcam_opts_t o = {.detector_path = "models/scene/scene_det.onnx"};
    eai_trafcam_t *t = NULL;
    if (eai_trafcam_create(&o, &t) != EAI_OK) {
        print_message("no models/scene/scene_det.onnx here (run from the repo root): %s\n",
                      eai_last_error());
        skip();
    }
    eai_trafcam_stats_t st;
    int n = -1;
    assert_int_equal(eai_trafcam_stats(t, &st, NULL, 0, &n), EAI_OK);
    assert_int_equal(n, 0);
    assert_int_equal(st.frames, 0);
    assert_int_equal(st.render.n, 0);
    assert_int_equal(eai_trafcam_stats(t, NULL, NULL, 0, NULL), EAI_E_INVALID);
    int arr[1] = {5}, dep[1] = {6};
    double q[1] = {7};
    assert_int_equal(eai_trafcam_hook(t, NULL, NULL, NULL, 1.0, arr, dep, q), EAI_E_INVALID);
    assert_int_equal(arr[0], 5);
    assert_int_equal(dep[0], 6);
    eai_trafcam_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zone_lookup),  cmocka_unit_test(test_drive_through),
        cmocka_unit_test(test_queue),        cmocka_unit_test(test_vanish_near_stop_line),
        cmocka_unit_test(test_broken_track), cmocka_unit_test(test_refound_id),
        cmocka_unit_test(test_many_ids),     cmocka_unit_test(test_counter_bad),
        cmocka_unit_test(test_create_bad),   cmocka_unit_test(test_fresh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
