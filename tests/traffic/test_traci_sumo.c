/* TraCI against the real sumo: a 4-way signalised junction built at test time
 * with netconvert (N, S, E, W arms of 200 m, one lane each, 13.9 m/s), fixed
 * flows, an E2 detector on NC_0 and two induction loops on WC_0. Checks
 * vehicles, speeds, the traffic-light program, set-and-read-back, the
 * extended-length path, SUMO's error strings, a killed sumo, a sumo that
 * fails to start, and prints the per-call cost (informational). Skips when
 * sumo or netconvert is missing. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "edgeai/traci.h"

#include "sumo_fixture.h"

static sumo_fixture_t g_fx;
static char g_longid[301];

/* Fixed flows on the shared junction, an E2 detector on NC_0, two
 * induction loops on WC_0, and a broken network for the start failure. */
static int setup(void **state)
{
    (void)state;
    /* the fixture's four 5 s flows plus one vehicle with a 300-byte id: its commands and replies
     * need TraCI's extended length form */
    memset(g_longid, 'v', 300);
    g_longid[300] = 0;
    char routes[2048];
    snprintf(routes, sizeof routes,
             "<routes>\n" SUMO_FIXTURE_FLOWS_5S
             "  <vehicle id=\"%s\" type=\"car\" depart=\"1\"><route edges=\"NC CS\"/></vehicle>\n"
             "</routes>\n",
             g_longid);
    int rc = sumo_fixture_setup(
        &g_fx, "eai-traci", routes,
        "<additional>\n"
        "  <laneAreaDetector id=\"e2N\" lane=\"NC_0\" pos=\"90\" endPos=\"-1\" "
        "freq=\"60\" file=\"NUL\"/>\n"
        "  <inductionLoop id=\"e1W\" lane=\"WC_0\" pos=\"100\" freq=\"60\" file=\"NUL\"/>\n"
        "  <inductionLoop id=\"e1Wstop\" lane=\"WC_0\" pos=\"190\" freq=\"60\" "
        "file=\"NUL\"/>\n"
        "</additional>\n");
    if (rc == 0 && g_fx.dir[0])
        sumo_fixture_write(&g_fx, "bad.net.xml", "<net>this is not a network\n");
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    return sumo_fixture_teardown(&g_fx);
}

static void end_live(void)
{
    sumo_fixture_end(&g_fx);
}

static eai_sumo_t *start(eai_sumo_opts_t *o)
{
    return sumo_fixture_start(&g_fx, o, 42);
}

#define OK(x)                                                                                      \
    do {                                                                                           \
        eai_status_t st_ = (x);                                                                    \
        if (st_ != EAI_OK) fail_msg("%s: %s", #x, eai_last_error());                               \
    } while (0)

static void test_vehicles(void **state)
{
    (void)state;
    eai_sumo_t *s = start(&(eai_sumo_opts_t){0});
    eai_traci_t *t = eai_sumo_traci(s);
    int api;
    const char *ident;
    OK(eai_traci_get_version(t, &api, &ident));
    assert_true(api >= 20);
    assert_non_null(strstr(ident, "SUMO"));
    double dt;
    OK(eai_traci_sim_delta_t(t, &dt));
    assert_true(dt == 1.0);
    int departed = 0, arrived = 0, max_running = 0;
    for (int k = 0; k < 100; k++) {
        OK(eai_traci_step(t, 0));
        int n;
        OK(eai_traci_sim_departed_number(t, &n));
        departed += n;
        OK(eai_traci_sim_arrived_number(t, &n));
        arrived += n;
        eai_traci_strlist_t ids;
        OK(eai_traci_veh_ids(t, &ids));
        if (ids.n > max_running) max_running = ids.n;
        char id[320];
        for (int i = 0; i < ids.n && i < 4; i++) {
            snprintf(id, sizeof id, "%s", ids.items[i]); /* next call invalidates items */
            double v, x, y, ang, w, acc, len, wid;
            const char *lane, *road, *type;
            OK(eai_traci_veh_speed(t, id, &v));
            assert_true(v >= 0 && v <= 20.01);
            OK(eai_traci_veh_position(t, id, &x, &y));
            /* netconvert shifts the net so that it starts at 0: x, y in [0, 400] */
            assert_true(x >= -1 && x <= 401 && y >= -1 && y <= 401);
            OK(eai_traci_veh_angle(t, id, &ang));
            assert_true(ang >= 0 && ang < 360);
            OK(eai_traci_veh_waiting_time(t, id, &w));
            OK(eai_traci_veh_accumulated_waiting_time(t, id, &acc));
            assert_true(w >= 0 && acc >= w - 1e-9);
            OK(eai_traci_veh_length(t, id, &len));
            OK(eai_traci_veh_width(t, id, &wid));
            assert_true(len == 5.0 && wid == 1.8);
            OK(eai_traci_veh_type(t, id, &type));
            assert_string_equal(type, "car");
            OK(eai_traci_veh_road(t, id, &road));
            char road_copy[64];
            snprintf(road_copy, sizeof road_copy, "%s", road);
            OK(eai_traci_veh_lane(t, id, &lane));
            /* a lane id is its edge id + "_" + index */
            assert_int_equal(strncmp(lane, road_copy, strlen(road_copy)), 0);
            /* flow vehicles are "<flow>.<n>" */
            assert_true(strchr(id, '.') || id[0] == 'v');
        }
    }
    double now;
    OK(eai_traci_sim_time(t, &now));
    assert_true(now == 100.0);
    /* 4 flows, period 5 s, begin 0: departures at 0, 5, ..., 95 = 20 each,
     * plus the long-id vehicle */
    assert_int_equal(departed, 81);
    assert_true(arrived > 0 && arrived < 81);
    assert_true(max_running > 4);
    int n;
    OK(eai_traci_sim_min_expected(t, &n));
    assert_int_equal(n, 81 - arrived);
    OK(eai_traci_sim_teleport_starting_number(t, &n));
    assert_int_equal(n, 0);
    OK(eai_traci_sim_colliding_number(t, &n));
    assert_int_equal(n, 0);
    OK(eai_traci_sim_emergency_stopping_number(t, &n));
    assert_int_equal(n, 0);

    /* lanes and edges */
    double len, vmax, wt;
    OK(eai_traci_lane_length(t, "NC_0", &len));
    assert_true(len > 185 && len < 200); /* 200 m minus the junction */
    OK(eai_traci_lane_max_speed(t, "NC_0", &vmax));
    assert_true(vmax == 13.9);
    const char *edge;
    OK(eai_traci_lane_edge(t, "NC_0", &edge));
    assert_string_equal(edge, "NC");
    OK(eai_traci_lane_waiting_time(t, "NC_0", &wt));
    assert_true(wt >= 0);
    OK(eai_traci_edge_waiting_time(t, "NC", &wt));
    assert_true(wt >= 0);
    eai_traci_lane_links_t ll;
    OK(eai_traci_lane_links(t, "NC_0", &ll));
    assert_int_equal(ll.n, 3); /* straight, left, right; no turnaround */
    int dirs = 0;
    for (int i = 0; i < ll.n; i++) {
        dirs |= ll.items[i].dir == 's'   ? 1
                : ll.items[i].dir == 'l' ? 2
                : ll.items[i].dir == 'r' ? 4
                                         : 8;
        assert_true(ll.items[i].to_lane[0] == 'C'); /* CS_0, CE_0, CW_0 */
        assert_true(ll.items[i].length > 0);
    }
    assert_int_equal(dirs, 7);
    eai_traci_strlist_t lanes;
    OK(eai_traci_lane_ids(t, &lanes));
    assert_true(lanes.n >= 8);
    int code = -1;
    OK(eai_sumo_stop(s, &code));
    assert_int_equal(code, 0);
    assert_int_equal(eai_sumo_pid(s), -1);
    end_live();
}

static void test_traffic_light(void **state)
{
    (void)state;
    eai_sumo_t *s = start(&(eai_sumo_opts_t){0});
    eai_traci_t *t = eai_sumo_traci(s);
    eai_traci_strlist_t ids;
    OK(eai_traci_tls_ids(t, &ids));
    assert_int_equal(ids.n, 1);
    assert_string_equal(ids.items[0], "C");
    OK(eai_traci_step(t, 10));
    const char *st;
    OK(eai_traci_tls_get_state(t, "C", &st));
    /* 4 arms x (straight, left, right) = 12 signals, one per link */
    assert_int_equal(strlen(st), 12);
    eai_traci_links_t links;
    OK(eai_traci_tls_controlled_links(t, "C", &links));
    assert_int_equal(links.n_signals, 12);
    assert_int_equal(links.n, 12);
    char from[12][16];
    for (int i = 0; i < links.n; i++) {
        assert_int_equal(links.items[i].signal, i);
        snprintf(from[i], sizeof from[i], "%s", links.items[i].from_lane);
        assert_true(links.items[i].via_lane[0] == ':'); /* internal junction lane */
    }
    eai_traci_strlist_t cl;
    OK(eai_traci_tls_controlled_lanes(t, "C", &cl));
    assert_int_equal(cl.n, 12);
    for (int i = 0; i < 12; i++)
        assert_string_equal(cl.items[i], from[i]);

    eai_traci_logics_t lg;
    OK(eai_traci_tls_get_logics(t, "C", &lg));
    assert_int_equal(lg.n, 1);
    assert_string_equal(lg.items[0].program_id, "0");
    assert_int_equal(lg.items[0].type, 0); /* static */
    assert_int_equal(lg.items[0].n_phases, 4);
    /* netconvert's default plan: 42 s green, 3 s yellow, for 13.9 m/s roads */
    const double dur[4] = {42, 3, 42, 3};
    for (int p = 0; p < 4; p++) {
        assert_true(lg.items[0].phases[p].duration == dur[p]);
        assert_int_equal(strlen(lg.items[0].phases[p].state), 12);
    }
    assert_non_null(strchr(lg.items[0].phases[1].state, 'y'));
    char phase2[16];
    snprintf(phase2, sizeof phase2, "%s", lg.items[0].phases[2].state);

    /* set phase 2, read it back */
    OK(eai_traci_tls_set_phase(t, "C", 2));
    int ph;
    OK(eai_traci_tls_get_phase(t, "C", &ph));
    assert_int_equal(ph, 2);
    OK(eai_traci_tls_get_state(t, "C", &st));
    assert_string_equal(st, phase2);
    double now, sw, pd;
    OK(eai_traci_tls_set_phase_duration(t, "C", 5));
    OK(eai_traci_sim_time(t, &now));
    OK(eai_traci_tls_next_switch(t, "C", &sw));
    assert_true(sw == now + 5);
    OK(eai_traci_tls_get_phase_duration(t, "C", &pd));
    /* the program's duration of phase 2, not the remaining time just set */
    if (pd != 42) fail_msg("phase duration %g", pd);
    OK(eai_traci_step(t, now + 6));
    OK(eai_traci_tls_get_phase(t, "C", &ph));
    assert_int_equal(ph, 3);

    /* direct state */
    OK(eai_traci_tls_set_state(t, "C", "GrGrGrGrGrGr"));
    OK(eai_traci_tls_get_state(t, "C", &st));
    assert_string_equal(st, "GrGrGrGrGrGr");
    OK(eai_traci_step(t, 0));
    OK(eai_traci_tls_get_state(t, "C", &st));
    assert_string_equal(st, "GrGrGrGrGrGr");
    /* wrong length: SUMO 1.15 would quit; the client refuses it first */
    assert_int_equal(eai_traci_tls_set_state(t, "C", "GGG"), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "has 3 signals, the light has 12"));
    assert_true(eai_traci_ok(t));
    /* a phase out of range: SUMO's own sentence, the link survives */
    assert_int_equal(eai_traci_tls_set_phase(t, "C", 99), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "not in the allowed range"));
    assert_true(eai_traci_ok(t));
    OK(eai_traci_tls_set_program(t, "C", "0"));
    const char *prog;
    OK(eai_traci_tls_get_program(t, "C", &prog));
    assert_string_equal(prog, "0");

    /* a 10-phase program is > 255 bytes: extended length on the way out,
     * and the two-program definition comes back extended too */
    eai_traci_phase_t phases[10];
    const char *states[2] = {"GGGrrrGGGrrr", "rrrGGGrrrGGG"};
    for (int p = 0; p < 10; p++)
        phases[p] = (eai_traci_phase_t){
            .duration = 10 + p, .min_dur = 5, .max_dur = 50, .state = states[p % 2], .name = "p"};
    eai_traci_logic_t mine = {
        .program_id = "eai", .type = 0, .current_phase = 3, .n_phases = 10, .phases = phases};
    OK(eai_traci_tls_set_logic(t, "C", &mine));
    OK(eai_traci_tls_get_program(t, "C", &prog));
    assert_string_equal(prog, "eai");
    OK(eai_traci_tls_get_phase(t, "C", &ph));
    assert_int_equal(ph, 3);
    OK(eai_traci_tls_get_logics(t, "C", &lg));
    /* "0" from the net, "online" made by set_state, and ours */
    assert_int_equal(lg.n, 3);
    const eai_traci_logic_t *got = NULL;
    for (int i = 0; i < lg.n; i++)
        if (strcmp(lg.items[i].program_id, "eai") == 0) got = &lg.items[i];
    assert_non_null(got);
    assert_int_equal(got->n_phases, 10);
    for (int p = 0; p < 10; p++) {
        assert_true(got->phases[p].duration == 10 + p);
        assert_true(got->phases[p].min_dur == 5 && got->phases[p].max_dur == 50);
        assert_string_equal(got->phases[p].state, states[p % 2]);
    }

    /* unknown id: SUMO's sentence names it */
    assert_int_equal(eai_traci_tls_get_state(t, "nope", &st), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "'nope'"));
    assert_non_null(strstr(eai_last_error(), "not known"));
    /* the vehicle with a 300-byte id (departed at 1 s, still on NC or CS):
     * extended command out, extended reply back */
    double v;
    const char *road;
    OK(eai_traci_veh_speed(t, g_longid, &v));
    assert_true(v >= 0 && v <= 20.01);
    OK(eai_traci_veh_road(t, g_longid, &road));
    assert_true(strcmp(road, "NC") == 0 || strcmp(road, "CS") == 0 || road[0] == ':');
    OK(eai_traci_step(t, 0));
    end_live();
}

static void test_detectors(void **state)
{
    (void)state;
    eai_sumo_t *s = start(&(eai_sumo_opts_t){0});
    eai_traci_t *t = eai_sumo_traci(s);
    eai_traci_strlist_t ids;
    OK(eai_traci_e2_ids(t, &ids));
    assert_int_equal(ids.n, 1);
    assert_string_equal(ids.items[0], "e2N");
    const char *lane;
    OK(eai_traci_e2_lane(t, "e2N", &lane));
    assert_string_equal(lane, "NC_0");
    double l2, lane_len;
    OK(eai_traci_e2_length(t, "e2N", &l2));
    OK(eai_traci_lane_length(t, "NC_0", &lane_len));
    /* pos 90 to endPos -1, i.e. 1 m before the lane end */
    if (!(fabs(l2 - (lane_len - 1 - 90)) < 0.01)) fail_msg("e2 length %g, lane %g", l2, lane_len);
    OK(eai_traci_e1_ids(t, &ids));
    assert_int_equal(ids.n, 2);

    /* passages at e1W (mid-lane, free flow) and e1Wstop (at the stop line,
     * where vehicles wait for red) from vehicle-id changes */
    char last[2][64] = {"", ""};
    int passages[2] = {0, 0}, count_sum[2] = {0, 0}, e2_max = 0, e2_halt_max = 0;
    const char *loops[2] = {"e1W", "e1Wstop"};
    for (int k = 0; k < 150; k++) {
        OK(eai_traci_step(t, 0));
        for (int d = 0; d < 2; d++) {
            int n;
            OK(eai_traci_e1_vehicle_number(t, loops[d], &n));
            count_sum[d] += n;
            eai_traci_strlist_t v;
            OK(eai_traci_e1_vehicle_ids(t, loops[d], &v));
            assert_int_equal(v.n, n);
            for (int i = 0; i < v.n; i++)
                if (strcmp(v.items[i], last[d]) != 0) {
                    passages[d]++;
                    snprintf(last[d], sizeof last[d], "%s", v.items[i]);
                }
        }
        int n, h;
        OK(eai_traci_e2_vehicle_number(t, "e2N", &n));
        OK(eai_traci_e2_halting_number(t, "e2N", &h));
        eai_traci_strlist_t v;
        OK(eai_traci_e2_vehicle_ids(t, "e2N", &v));
        assert_int_equal(v.n, n);
        assert_true(h <= n);
        double jam;
        OK(eai_traci_e2_jam_length_m(t, "e2N", &jam));
        assert_true(jam >= 0 && jam <= l2 + 5);
        if (n > e2_max) e2_max = n;
        if (h > e2_halt_max) e2_halt_max = h;
    }
    /* every one of the 20 "we" vehicles passes both loops by t = 150 */
    assert_int_equal(passages[0], 20);
    assert_int_equal(passages[1], 20);
    /* raw counts exceed passages: a vehicle covers a loop for several steps,
     * and at the stop line far more (the point of counting by id) */
    assert_true(count_sum[0] >= passages[0]);
    assert_true(count_sum[1] > count_sum[0]);
    assert_true(e2_max >= 1);
    assert_true(e2_halt_max >= 1); /* 42 s of red queues north-south traffic */
    end_live();
}

static void test_killed_sumo(void **state)
{
    (void)state;
    eai_sumo_t *s = start(&(eai_sumo_opts_t){0});
    eai_traci_t *t = eai_sumo_traci(s);
    OK(eai_traci_step(t, 5));
    assert_int_equal(kill(eai_sumo_pid(s), SIGKILL), 0);
    eai_status_t st = EAI_OK;
    for (int k = 0; k < 5 && st == EAI_OK; k++)
        st = eai_traci_step(t, 0);
    assert_int_equal(st, EAI_E_UNAVAILABLE);
    assert_non_null(strstr(eai_last_error(), "killed by signal 9"));
    assert_int_equal(eai_traci_step(t, 0), EAI_E_STATE);
    int code = 0;
    OK(eai_sumo_stop(s, &code));
    assert_int_equal(code, 128 + 9);
    end_live();
    /* reaped: no child of ours is left */
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

static void test_start_failure_and_outputs(void **state)
{
    (void)state;
    if (!g_fx.dir[0]) skip();
    char net[300], trip[300];
    snprintf(net, sizeof net, "%s/bad.net.xml", g_fx.dir);
    eai_sumo_t *s = NULL;
    eai_status_t st = eai_sumo_start(&(eai_sumo_opts_t){.net_file = net}, &s);
    assert_int_equal(st, EAI_E_UNAVAILABLE);
    assert_null(s);
    /* sumo's own "Error:" line is quoted */
    assert_non_null(strstr(eai_last_error(), "Error:"));
    assert_non_null(strstr(eai_last_error(), "exited with status 1"));
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    /* a binary that does not exist is named, and nothing is left running */
    st = eai_sumo_start(&(eai_sumo_opts_t){.net_file = net, .binary = "/nonexistent/sumo"}, &s);
    assert_int_equal(st, EAI_E_UNAVAILABLE);
    assert_null(s);
    assert_non_null(strstr(eai_last_error(), "sumo: /nonexistent/sumo: not installed"));
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);

    /* outputs are written on close: run to the end, stop, read tripinfo */
    snprintf(trip, sizeof trip, "%s/trip.xml", g_fx.dir);
    const char *extra[] = {"--time-to-teleport", "-1"};
    s = start(&(eai_sumo_opts_t){.tripinfo_output = trip,
                                 .extra_args = extra,
                                 .n_extra_args = 2,
                                 .step_length = 0.5,
                                 .end = 400});
    eai_traci_t *t = eai_sumo_traci(s);
    double dt;
    OK(eai_traci_sim_delta_t(t, &dt));
    assert_true(dt == 0.5);
    int left = 1, steps = 0;
    while (left > 0 && steps < 2000) {
        OK(eai_traci_step(t, 0));
        OK(eai_traci_sim_min_expected(t, &left));
        steps++;
    }
    assert_int_equal(left, 0);
    int code = -1;
    OK(eai_sumo_stop(s, &code));
    assert_int_equal(code, 0);
    FILE *f = fopen(trip, "r");
    assert_non_null(f);
    char line[512];
    int trips = 0;
    while (fgets(line, sizeof line, f))
        trips += strstr(line, "<tripinfo ") != NULL;
    fclose(f);
    assert_int_equal(trips, 81);
    end_live();
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec * 1e-3;
}

/* Informational: median cost of a step and of typed getters (no assert). */
static void test_cost(void **state)
{
    (void)state;
    eai_sumo_t *s = start(&(eai_sumo_opts_t){0});
    eai_traci_t *t = eai_sumo_traci(s);
    enum { N = 200 };
    static double step[N], get_d[N], get_sl[N], get_st[N];
    for (int k = 0; k < N; k++) {
        double t0 = now_us();
        OK(eai_traci_step(t, 0));
        double t1 = now_us();
        int n;
        OK(eai_traci_e2_vehicle_number(t, "e2N", &n));
        double t2 = now_us();
        eai_traci_strlist_t ids;
        OK(eai_traci_veh_ids(t, &ids));
        double t3 = now_us();
        const char *st;
        OK(eai_traci_tls_get_state(t, "C", &st));
        double t4 = now_us();
        step[k] = t1 - t0, get_d[k] = t2 - t1, get_sl[k] = t3 - t2, get_st[k] = t4 - t3;
    }
    qsort(step, N, sizeof(double), cmp_d);
    qsort(get_d, N, sizeof(double), cmp_d);
    qsort(get_sl, N, sizeof(double), cmp_d);
    qsort(get_st, N, sizeof(double), cmp_d);
    print_message("traci cost, median of %d (us): simulationStep %.1f, e2 vehicle number %.1f, "
                  "vehicle id list %.1f, tls state %.1f\n",
                  N, step[N / 2], get_d[N / 2], get_sl[N / 2], get_st[N / 2]);
    end_live();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vehicles),
        cmocka_unit_test(test_traffic_light),
        cmocka_unit_test(test_detectors),
        cmocka_unit_test(test_killed_sumo),
        cmocka_unit_test(test_start_failure_and_outputs),
        cmocka_unit_test(test_cost),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
