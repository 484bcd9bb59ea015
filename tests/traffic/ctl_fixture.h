/* Shared by the sequencer tests that need no SUMO (test_ctl_hold.c,
 * test_ctl_allred.c): a one-junction model with a junction box and a
 * conflict matrix, and a driver that steps a controller one second at a
 * time on given queues, box occupancy and arrivals. Include after cmocka.h. */
#ifndef EAI_TESTS_TRAFFIC_CTL_FIXTURE_H
#define EAI_TESTS_TRAFFIC_CTL_FIXTURE_H

#include <stdbool.h>

#include "edgeai/traffic.h"

/* Signals: 0 n through, 1 n left, 2 e through.
 * In-lanes: n_0, n_1, e_0. Box lanes: 0 ":J_0_0" (signal 0), 1 ":J_1_0" and
 * 2 ":J_4_0" (signal 1), 3 ":J_2_0" (signal 2). Both n movements cross e's. */
static inline eai_tl_model_t *cross(bool with_conflict)
{
    static const eai_tl_link_desc_t links[] = {
        {.signal = 0, .from_lane = "n_0", .to_lane = "s_0", .dir = 's'},
        {.signal = 1, .from_lane = "n_1", .to_lane = "e_0", .dir = 'l'},
        {.signal = 2, .from_lane = "e_0", .to_lane = "w_0", .dir = 's'},
    };
    static const eai_tl_phase_desc_t ph[] = {
        {"Ggr", 30, 0, 0}, {"yyr", 3, 0, 0}, {"rrG", 30, 0, 0}, {"rry", 3, 0, 0}};
    static const char *const box[] = {":J_0_0", ":J_1_0", ":J_4_0", ":J_2_0"};
    static const int box_signal[] = {0, 1, 1, 2};
    static const uint8_t conflict[9] = {0, 0, 1, /**/ 0, 0, 1, /**/ 1, 1, 0};
    eai_tl_model_desc_t d = {.tls_id = "J",
                             .n_links = 3,
                             .links = links,
                             .n_phases = 4,
                             .phases = ph,
                             .n_box = 4,
                             .box_lanes = box,
                             .box_signal = box_signal,
                             .conflict = with_conflict ? conflict : NULL};
    eai_tl_model_t *m = NULL;
    assert_int_equal(eai_tl_model_build(&d, NULL, &m), EAI_OK);
    return m;
}

typedef struct drive {
    eai_tl_controller_t *c;
    double q[3];
    int box[4], arriving[3];
    bool no_box;
    double t;
} drive_t;

static inline eai_tl_out_t tick(drive_t *d)
{
    eai_tl_obs_t o = {.t_s = d->t,
                      .dt_s = 1,
                      .queue = d->q,
                      .box_veh = d->no_box ? NULL : d->box,
                      .arriving = d->arriving};
    eai_tl_out_t out;
    assert_int_equal(eai_tl_controller_step(d->c, &o, &out), EAI_OK);
    d->t += 1;
    return out;
}

#endif
