/* `edgeai traffic run`: one SUMO scenario under one signal controller
 * (edgeai's webster / maxpressure, or SUMO's own static / actuated /
 * delay_based programs), printing SUMO's measured waits, throughput, safety
 * counts, the per-approach wait estimates and the controller's cost. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "edgeai/trafcam.h"
#include "edgeai/traffic.h"

#define MAX_TLS 64

static int usage(void)
{
    fprintf(stderr,
            "usage: edgeai traffic run --scenario FILE.sumocfg --controller "
            "webster|maxpressure|sumo-static|sumo-actuated|sumo-delay\n"
            "         [--tls ID ...] [--minutes 60] [--seed N] [--json FILE] [--work-dir DIR]\n"
            "         [--min-green S] [--max-green S] [--all-red S] [--max-wait S]\n"
            "         [--clear-hold S] [--turner-hold S] [--all-red-always]\n"
            "         [--detector-length M]\n"
            "         [--camera [DETECTOR.onnx]] [--camera-fps N] [--camera-measure-only]\n"
            "         [--camera-tracker sort|bytetrack|deepsort] [--camera-threads N]\n"
            "         [--camera-size WxH]\n"
            "  --camera: counts from rendered camera frames (detector default\n"
            "  models/scene/scene_det.onnx; 5 frames per simulated second, positions\n"
            "  interpolated between SUMO steps) replace the SUMO-detector counts the\n"
            "  controller sees; --camera-measure-only keeps the detector counts and only\n"
            "  compares.\n"
            "  --all-red 0 drops the all-red phase; --clear-hold S caps how long a newly\n"
            "  green signal waits for crossing foes still in the junction (default 6, 0 off);\n"
            "  the all-red runs only when that hold would act, unless --all-red-always.\n"
            "  --turner-hold S holds a newly green signal up to S while a left turner\n"
            "  from the previous stage still stands in the box in its path (default 1 for\n"
            "  maxpressure, off for webster; 0 off).\n");
    return 2;
}

static bool parse_pos(const char *opt, const char *s, double *out)
{
    char *e;
    double v = strtod(s, &e);
    if (e == s || *e || !(v > 0) || v > 1e6) {
        cli_fail_usage("traffic", "%s: '%s' is not a positive number", opt, s);
        return false;
    }
    *out = v;
    return true;
}

static cJSON *to_json(const eai_traffic_report_t *r, const eai_traffic_run_opts_t *o)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "scenario", o->scenario);
    cJSON_AddStringToObject(j, "controller", r->controller);
    if (o->set_seed) cJSON_AddNumberToObject(j, "seed", (double)o->seed);
    cJSON_AddNumberToObject(j, "sim_s", r->sim_s);
    cJSON_AddNumberToObject(j, "n_tls", r->n_tls);
    cJSON_AddNumberToObject(j, "departed", (double)r->departed);
    cJSON_AddNumberToObject(j, "arrived", (double)r->arrived);
    cJSON_AddNumberToObject(j, "running_end", (double)r->running_end);
    cJSON_AddNumberToObject(j, "waiting_insert_end", (double)r->waiting_insert_end);
    cJSON_AddNumberToObject(j, "mean_wait_s", r->mean_wait_s);
    cJSON_AddNumberToObject(j, "mean_trip_s", r->mean_trip_s);
    cJSON_AddNumberToObject(j, "mean_depart_delay_s", r->mean_depart_delay_s);
    cJSON_AddNumberToObject(j, "throughput_vph", r->throughput_vph);
    cJSON_AddNumberToObject(j, "max_queue", r->max_queue);
    cJSON_AddNumberToObject(j, "worst_movement_wait_s", r->worst_movement_wait_s);
    cJSON_AddStringToObject(j, "worst_movement", r->worst_movement);
    cJSON_AddNumberToObject(j, "teleports", (double)r->teleports);
    cJSON_AddNumberToObject(j, "emergency_brakes", (double)r->emergency_brakes);
    cJSON_AddNumberToObject(j, "emergency_stops", (double)r->emergency_stops);
    cJSON_AddNumberToObject(j, "collisions", (double)r->collisions);
    cJSON_AddNumberToObject(j, "decision_us_per_step", r->decision_us_per_step);
    cJSON_AddNumberToObject(j, "observe_us_per_step", r->observe_us_per_step);
    cJSON_AddNumberToObject(j, "sumo_step_us", r->sumo_step_us);
    cJSON *a = cJSON_AddArrayToObject(j, "approaches");
    for (int i = 0; i < r->n_approaches; i++) {
        const eai_traffic_approach_report_t *x = &r->approaches[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "tls", x->tls);
        cJSON_AddStringToObject(e, "edge", x->edge);
        cJSON_AddNumberToObject(e, "count", (double)x->count);
        cJSON_AddNumberToObject(e, "est_queue_s", x->est_queue_s);
        cJSON_AddNumberToObject(e, "est_webster_s", x->est_webster_s);
        cJSON_AddNumberToObject(e, "meas_wait_s", x->meas_wait_s);
        cJSON_AddNumberToObject(e, "meas_left", (double)x->meas_left);
        cJSON_AddItemToArray(a, e);
    }
    return j;
}

#define MAX_AP 256

typedef struct cam_out {
    eai_trafcam_stats_t st;
    eai_trafcam_approach_stats_t ap[MAX_AP];
    int n_ap;
    bool control;
    float fps;
} cam_out_t;

static void lat_json(cJSON *j, const char *name, eai_trafcam_latency_t l)
{
    cJSON *e = cJSON_AddObjectToObject(j, name);
    cJSON_AddNumberToObject(e, "p50_ms", l.p50_ms);
    cJSON_AddNumberToObject(e, "p99_ms", l.p99_ms);
    cJSON_AddNumberToObject(e, "mean_ms", l.mean_ms);
    cJSON_AddNumberToObject(e, "n", (double)l.n);
}

static void cam_json(cJSON *j, const cam_out_t *c)
{
    cJSON *o = cJSON_AddObjectToObject(j, "camera");
    cJSON_AddBoolToObject(o, "control", c->control);
    cJSON_AddNumberToObject(o, "fps", c->fps);
    cJSON_AddNumberToObject(o, "n_cameras", c->st.n_cameras);
    cJSON_AddNumberToObject(o, "n_views", c->st.n_views);
    cJSON_AddNumberToObject(o, "steps", (double)c->st.steps);
    cJSON_AddNumberToObject(o, "frames", (double)c->st.frames);
    cJSON_AddNumberToObject(o, "truth_boxes", (double)c->st.truth_boxes);
    cJSON_AddNumberToObject(o, "total_rel_error", c->st.total_rel_error);
    cJSON *lat = cJSON_AddObjectToObject(o, "latency");
    lat_json(lat, "read", c->st.read);
    lat_json(lat, "render", c->st.render);
    lat_json(lat, "detect", c->st.detect);
    lat_json(lat, "track", c->st.track);
    lat_json(lat, "count", c->st.count);
    cJSON *a = cJSON_AddArrayToObject(o, "approaches");
    for (int i = 0; i < c->n_ap && i < MAX_AP; i++) {
        const eai_trafcam_approach_stats_t *x = &c->ap[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "tls", x->tls);
        cJSON_AddStringToObject(e, "edge", x->edge);
        cJSON_AddNumberToObject(e, "arm", x->arm);
        cJSON_AddNumberToObject(e, "cam_departures", (double)x->cam_departures);
        cJSON_AddNumberToObject(e, "det_departures", (double)x->det_departures);
        cJSON_AddNumberToObject(e, "truth_departures", (double)x->truth_departures);
        cJSON_AddNumberToObject(e, "rel_error", x->rel_error);
        cJSON_AddNumberToObject(e, "cam_arrivals", (double)x->cam_arrivals);
        cJSON_AddNumberToObject(e, "det_arrivals", (double)x->det_arrivals);
        cJSON_AddNumberToObject(e, "cam_queue_mean", x->cam_queue_mean);
        cJSON_AddNumberToObject(e, "det_queue_mean", x->det_queue_mean);
        cJSON_AddItemToArray(a, e);
    }
}

static void cam_print(const cam_out_t *c)
{
    const eai_trafcam_stats_t *s = &c->st;
    printf("camera (%s, %g fps): %d light(s), %d view(s), %ld frames, %ld rendered vehicle boxes\n",
           c->control ? "counts control the lights" : "measure only", (double)c->fps, s->n_cameras,
           s->n_views, s->frames, s->truth_boxes);
    printf("  departures: |camera - detector| / detector = %.3f over all approaches\n",
           s->total_rel_error);
    printf("  %-10s %-10s %4s %8s %8s %8s %7s %8s %8s %7s %7s\n", "light", "approach", "arm",
           "cam_dep", "det_dep", "true_dep", "rel_err", "cam_arr", "det_arr", "cam_q", "det_q");
    static const char *arms[] = {"S", "E", "N", "W"};
    for (int i = 0; i < c->n_ap && i < MAX_AP; i++) {
        const eai_trafcam_approach_stats_t *x = &c->ap[i];
        printf("  %-10s %-10s %4s %8ld %8ld %8ld %+7.3f %8ld %8ld %7.2f %7.2f\n", x->tls, x->edge,
               x->arm >= 0 && x->arm < 4 ? arms[x->arm] : "?", x->cam_departures, x->det_departures,
               x->truth_departures, x->rel_error, x->cam_arrivals, x->det_arrivals,
               x->cam_queue_mean, x->det_queue_mean);
    }
    const eai_trafcam_latency_t *l[] = {&s->read, &s->render, &s->detect, &s->track, &s->count};
    const char *nm[] = {"read (per step)", "render", "detect", "track", "count"};
    printf("  latency ms        p50      p99     mean\n");
    for (int i = 0; i < 5; i++)
        printf("  %-15s %8.3f %8.3f %8.3f\n", nm[i], l[i]->p50_ms, l[i]->p99_ms, l[i]->mean_ms);
}

static void print_report(const eai_traffic_report_t *r)
{
    printf("controller %s: %d light(s), %.0f s simulated\n", r->controller, r->n_tls, r->sim_s);
    printf("  vehicles: departed %ld, arrived %ld (%.0f veh/h), running %ld, not inserted %ld\n",
           r->departed, r->arrived, r->throughput_vph, r->running_end, r->waiting_insert_end);
    printf("  mean wait %.1f s, mean trip %.1f s, depart delay %.1f s, max queue %d veh\n",
           r->mean_wait_s, r->mean_trip_s, r->mean_depart_delay_s, r->max_queue);
    printf("  worst movement %s: %.1f s mean wait\n",
           r->worst_movement[0] ? r->worst_movement : "-", r->worst_movement_wait_s);
    printf("  teleports %ld, emergency braking %ld, emergency stops %ld, collisions %ld\n",
           r->teleports, r->emergency_brakes, r->emergency_stops, r->collisions);
    printf("  per step: decision %.2f us, detector reads %.1f us, SUMO step %.1f us\n",
           r->decision_us_per_step, r->observe_us_per_step, r->sumo_step_us);
    printf("  %-10s %-14s %7s %10s %10s %10s\n", "light", "approach", "count", "est_queue",
           "est_webst", "measured");
    for (int i = 0; i < r->n_approaches; i++) {
        const eai_traffic_approach_report_t *x = &r->approaches[i];
        printf("  %-10s %-14s %7ld %10.1f %10.1f %10.1f\n", x->tls, x->edge, x->count,
               x->est_queue_s, x->est_webster_s, x->meas_wait_s);
    }
}

static int traffic_run(int argc, char **argv)
{
    eai_traffic_run_opts_t o = {0};
    const char *tls[MAX_TLS];
    const char *json = NULL;
    bool have_ctl = false, camera = false, measure_only = false;
    eai_trafcam_opts_t co = {.detector_path = "models/scene/scene_det.onnx"};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) return usage();
        if (strcmp(a, "--camera") == 0) { /* optional value */
            camera = true;
            if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) co.detector_path = argv[++i];
            continue;
        }
        if (strcmp(a, "--camera-measure-only") == 0) {
            camera = measure_only = true;
            continue;
        }
        if (strcmp(a, "--all-red-always") == 0) {
            o.tl.all_red_always = true;
            continue;
        }
        if (i + 1 >= argc) return cli_fail_usage("traffic", "%s needs a value", a);
        const char *v = argv[++i];
        long n;
        if (strcmp(a, "--scenario") == 0) {
            o.scenario = v;
        } else if (strcmp(a, "--tls") == 0) {
            if (o.n_tls == MAX_TLS) return cli_fail_usage("traffic", "more than %d --tls", MAX_TLS);
            tls[o.n_tls++] = v;
        } else if (strcmp(a, "--controller") == 0) {
            if (!eai_traffic_ctl_parse(v, &o.controller))
                return cli_fail_usage("traffic",
                                      "unknown controller '%s' (webster, maxpressure, "
                                      "sumo-static, sumo-actuated, sumo-delay)",
                                      v);
            have_ctl = true;
        } else if (strcmp(a, "--minutes") == 0) {
            if (!parse_pos(a, v, &o.minutes)) return 2;
        } else if (strcmp(a, "--seed") == 0) {
            if (!cli_parse_int("traffic", a, v, 0, 2147483647L, &n)) return 2;
            o.set_seed = true;
            o.seed = n;
        } else if (strcmp(a, "--json") == 0) {
            json = v;
        } else if (strcmp(a, "--work-dir") == 0) {
            o.work_dir = v;
        } else if (strcmp(a, "--min-green") == 0) {
            if (!parse_pos(a, v, &o.tl.min_green_s)) return 2;
        } else if (strcmp(a, "--max-green") == 0) {
            if (!parse_pos(a, v, &o.tl.max_green_s)) return 2;
        } else if (strcmp(a, "--all-red") == 0) {
            /* 0 in the options means the default; the flag's 0 means none */
            if (!cli_parse_real("traffic", a, v, 0, 60, &o.tl.all_red_s)) return 2;
            if (o.tl.all_red_s == 0) o.tl.all_red_s = -1;
        } else if (strcmp(a, "--turner-hold") == 0) {
            if (!cli_parse_real("traffic", a, v, 0, 60, &o.tl.turner_hold_s)) return 2;
            if (o.tl.turner_hold_s == 0) o.tl.turner_hold_s = -1;
        } else if (strcmp(a, "--clear-hold") == 0) {
            if (!cli_parse_real("traffic", a, v, 0, 60, &o.tl.clear_hold_s)) return 2;
            if (o.tl.clear_hold_s == 0) o.tl.clear_hold_s = -1;
        } else if (strcmp(a, "--max-wait") == 0) {
            if (!parse_pos(a, v, &o.tl.max_wait_s)) return 2;
        } else if (strcmp(a, "--detector-length") == 0) {
            if (!parse_pos(a, v, &o.detector_length_m)) return 2;
        } else if (strcmp(a, "--camera-fps") == 0) {
            double f;
            if (!parse_pos(a, v, &f)) return 2;
            co.fps = (float)f;
            camera = true;
        } else if (strcmp(a, "--camera-tracker") == 0) {
            co.tracker = v;
            camera = true;
        } else if (strcmp(a, "--camera-threads") == 0) {
            if (!cli_parse_int("traffic", a, v, 1, 64, &n)) return 2;
            co.threads = (int)n;
            camera = true;
        } else if (strcmp(a, "--camera-size") == 0) {
            int w, h;
            char tail;
            if (sscanf(v, "%dx%d%c", &w, &h, &tail) != 2)
                return cli_fail_usage("traffic", "--camera-size: '%s' is not WxH", v);
            co.width = w, co.height = h;
            camera = true;
        } else {
            return cli_fail_usage("traffic", "unknown option %s", a);
        }
    }
    if (!o.scenario) return cli_fail_usage("traffic", "run needs --scenario FILE.sumocfg");
    if (!have_ctl) return cli_fail_usage("traffic", "run needs --controller");
    o.tls_ids = tls;
    eai_trafcam_t *cam = NULL;
    cam_out_t *co_out = NULL;
    if (camera) {
        co.control = !measure_only;
        co_out = calloc(1, sizeof *co_out);
        if (!co_out) return cli_fail_usage("traffic", "out of memory");
        if (eai_trafcam_create(&co, &cam) != EAI_OK) {
            free(co_out);
            return cli_fail_status("traffic");
        }
        o.count_hook = eai_trafcam_hook;
        o.count_user = cam;
    }
    eai_traffic_report_t *r = NULL;
    if (eai_traffic_run(&o, &r) != EAI_OK) {
        int rc = cli_fail_status("traffic");
        eai_trafcam_destroy(cam);
        free(co_out);
        return rc;
    }
    print_report(r);
    if (cam) {
        eai_trafcam_stats(cam, &co_out->st, co_out->ap, MAX_AP, &co_out->n_ap);
        co_out->control = co.control;
        co_out->fps = co.fps > 0 ? co.fps : 5;
        cam_print(co_out);
        eai_trafcam_destroy(cam);
    }
    int rc = 0;
    if (json) {
        cJSON *j = to_json(r, &o);
        if (j && co_out) cam_json(j, co_out);
        char *txt = j ? cJSON_Print(j) : NULL;
        FILE *f = txt ? fopen(json, "w") : NULL;
        if (!f || fputs(txt, f) < 0 || fputc('\n', f) < 0) {
            fprintf(stderr, "edgeai traffic: cannot write %s\n", json);
            rc = 1;
        }
        if (f && fclose(f) != 0 && rc == 0) {
            fprintf(stderr, "edgeai traffic: cannot write %s\n", json);
            rc = 1;
        }
        free(txt);
        cJSON_Delete(j);
    }
    eai_traffic_report_destroy(r);
    free(co_out);
    return rc;
}

int cmd_traffic(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) return usage();
    if (strcmp(argv[1], "run") == 0) return traffic_run(argc, argv);
    return cli_fail_usage("traffic", "unknown subcommand '%s' (run)", argv[1]);
}
