/* The camera path's TraCI getters and hook against the real sumo: a 4-way
 * signalised junction built at test time (arms of 200 m, one lane each,
 * nodes at +-200 so netconvert shifts everything by (200, 200)), a car flow
 * and a truck flow. Checks lane shape and width, junction position, vehicle
 * class, a bad lane id, and that the hook renders fps frames per step per
 * view at interpolated times, with the detector arrays left alone when
 * measuring. Skips when sumo or netconvert is missing. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edgeai/trafcam.h"

#include "sumo_fixture.h"

static sumo_fixture_t g_fx;

/* a car flow and a truck flow on the shared junction */
static int setup(void **state)
{
    (void)state;
    return sumo_fixture_setup(
        &g_fx, "eai-trafcam",
        "<routes>\n"
        "  <vType id=\"car\" length=\"4.5\" width=\"1.8\" maxSpeed=\"20\"/>\n"
        "  <vType id=\"lorry\" vClass=\"truck\" length=\"10\" width=\"2.5\"/>\n"
        "  <flow id=\"ns\" type=\"car\" from=\"NC\" to=\"CS\" begin=\"0\" "
        "end=\"100\" period=\"4\"/>\n"
        "  <flow id=\"we\" type=\"lorry\" from=\"WC\" to=\"CE\" begin=\"0\" "
        "end=\"100\" period=\"9\"/>\n"
        "</routes>\n",
        NULL);
}

static int teardown(void **state)
{
    (void)state;
    return sumo_fixture_teardown(&g_fx);
}

static eai_traci_t *start(void)
{
    return eai_sumo_traci(sumo_fixture_start(&g_fx, NULL, 1));
}

static void test_getters(void **state)
{
    (void)state;
    eai_traci_t *t = start();
    double x, y;
    assert_int_equal(eai_traci_junction_position(t, "C", &x, &y), EAI_OK);
    assert_float_equal(x, 200.0, 1e-6);
    assert_float_equal(y, 200.0, 1e-6);
    eai_traci_strlist_t j;
    assert_int_equal(eai_traci_junction_ids(t, &j), EAI_OK);
    assert_true(j.n >= 5); /* C, N, S, E, W (+ internal junctions) */
    double w;
    assert_int_equal(eai_traci_lane_width(t, "NC_0", &w), EAI_OK);
    assert_float_equal(w, 3.2, 1e-9); /* SUMO's default lane width */
    /* NC_0: southbound, 1.6 m west of the road's centre line (x = 198.4),
     * from the N node (y = 400) to a stop line a few metres north of C */
    double xy[16];
    int n = 0;
    assert_int_equal(eai_traci_lane_shape(t, "NC_0", xy, 8, &n), EAI_OK);
    assert_int_equal(n, 2);
    assert_float_equal(xy[0], 198.4, 1e-6);
    assert_float_equal(xy[1], 400.0, 1e-6);
    assert_float_equal(xy[2], 198.4, 1e-6);
    assert_true(xy[3] > 200.0 && xy[3] < 215.0);
    /* cap 0: only the count */
    n = 0;
    assert_int_equal(eai_traci_lane_shape(t, "WC_0", NULL, 0, &n), EAI_OK);
    assert_int_equal(n, 2);
    /* unknown lane: SUMO's error, the connection stays usable */
    assert_int_equal(eai_traci_lane_shape(t, "nosuch_0", xy, 8, &n), EAI_E_INVALID);
    assert_true(eai_traci_ok(t));
    assert_int_equal(eai_traci_lane_shape(t, "NC_0", NULL, 8, &n), EAI_E_INVALID);
    assert_int_equal(eai_traci_junction_position(t, "nosuch", &x, &y), EAI_E_INVALID);
    assert_true(eai_traci_ok(t));
    /* vehicle classes: the car flow has the default, the lorry type truck */
    assert_int_equal(eai_traci_step(t, 2), EAI_OK);
    const char *vc;
    assert_int_equal(eai_traci_veh_vclass(t, "ns.0", &vc), EAI_OK);
    assert_string_equal(vc, "passenger");
    assert_int_equal(eai_traci_veh_vclass(t, "we.0", &vc), EAI_OK);
    assert_string_equal(vc, "truck");
}

typedef struct seen {
    int frames[2];
    double t[16];
    int n_t;
    int max_truth;
} seen_t;

static eai_status_t on_frame(void *user, const eai_trafcam_frame_t *f)
{
    seen_t *s = user;
    if (f->view >= 0 && f->view < 2) s->frames[f->view]++;
    if (f->view == 0 && s->n_t < 16) s->t[s->n_t++] = f->t_s;
    if (f->n_truth > s->max_truth) s->max_truth = f->n_truth;
    assert_non_null(f->image);
    assert_int_equal(f->image->width, 320);
    return EAI_OK;
}

/* After 15 s (the first cars are near the junction), five 1 s steps at
 * 4 fps, two views: 5 x 4 x 2 frames; the first step's frames at t = 15.25,
 * 15.5, 15.75, 16 (interpolated between SUMO's t = 15 and t = 16); measuring
 * leaves the detector arrays as they were. */
static void test_hook(void **state)
{
    (void)state;
    eai_trafcam_opts_t o = {
        .detector_path = "models/scene/scene_det.onnx", .fps = 4, .width = 320, .height = 240};
    eai_trafcam_t *cam = NULL;
    if (eai_trafcam_create(&o, &cam) != EAI_OK) {
        print_message("no detector (run from the repo root): %s\n", eai_last_error());
        skip();
    }
    eai_traci_t *t = start();
    eai_tl_model_t *m = NULL;
    assert_int_equal(eai_tl_model_from_traci(t, "C", NULL, &m), EAI_OK);
    seen_t s = {0};
    eai_trafcam_set_frame_cb(cam, on_frame, &s);
    int arr[16] = {0}, dep[16] = {0};
    double q[16] = {0};
    assert_true(m->n_in <= 16);
    assert_int_equal(eai_traci_step(t, 15), EAI_OK);
    for (int k = 16; k <= 20; k++) {
        assert_int_equal(eai_traci_step(t, 0), EAI_OK);
        for (int l = 0; l < m->n_in; l++)
            arr[l] = 1, dep[l] = 2, q[l] = 3;
        assert_int_equal(eai_trafcam_hook(cam, t, m, NULL, (double)k, arr, dep, q), EAI_OK);
        for (int l = 0; l < m->n_in; l++) {
            assert_int_equal(arr[l], 1);
            assert_int_equal(dep[l], 2);
            assert_float_equal(q[l], 3.0, 0);
        }
    }
    /* the same time again is refused */
    assert_int_equal(eai_trafcam_hook(cam, t, m, NULL, 20.0, arr, dep, q), EAI_E_INVALID);
    assert_int_equal(s.frames[0], 20);
    assert_int_equal(s.frames[1], 20);
    assert_float_equal(s.t[0], 15.25, 1e-9);
    assert_float_equal(s.t[3], 16.0, 1e-9);
    assert_float_equal(s.t[4], 16.25, 1e-9);
    assert_true(s.max_truth >= 1); /* vehicles were drawn */
    eai_trafcam_stats_t st;
    eai_trafcam_approach_stats_t ap[8];
    int n_ap = 0;
    assert_int_equal(eai_trafcam_stats(cam, &st, ap, 8, &n_ap), EAI_OK);
    assert_int_equal(st.n_cameras, 1);
    assert_int_equal(st.n_views, 2);
    assert_int_equal(st.frames, 40);
    assert_int_equal(n_ap, m->n_approaches);
    for (int a = 0; a < n_ap; a++) {
        /* 5 steps x 2 departures per lane of the approach (one lane each) */
        assert_int_equal(ap[a].det_departures, 10);
        int want = !strcmp(ap[a].edge, "SC")   ? 0
                   : !strcmp(ap[a].edge, "EC") ? 1
                   : !strcmp(ap[a].edge, "NC") ? 2
                                               : 3;
        assert_int_equal(ap[a].arm, want);
    }
    eai_tl_model_destroy(m);
    eai_trafcam_destroy(cam);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_getters),
        cmocka_unit_test(test_hook),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
