/* One intersection for one round of `edgeai demo`: SUMO runs the scenario
 * under edgeai's max-pressure controller; every simulation step the count
 * hook plays the device (the camera path of eai_trafcam: render, detect,
 * track, count; the classifier on tracked crops through the hybrid router)
 * and the gateway (the device's count message off the transport into the
 * controller's observation). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "demo.h"

#define SLOTS 1024 /* track id -> last classified frame, direct-mapped */

typedef struct site_ctx {
    const demo_site_cfg_t *cfg;
    demo_site_t *site;
    demo_site_round_t *out;
    eai_router_t *router;
    eai_trafcam_t *cam;
    char topic[96];
    struct {
        int id;
        int64_t frame;
    } slot[SLOTS];
    float crop[DEMO_CROP_N];
    demo_lat_t cls_frame, cls, gw, cloud;
    double frame_cls_ms; /* classification time spent on the current frame */
    eai_image_t snap;    /* the annotated frame for the report */
    double next_live;
    uint8_t *msg;
    size_t msg_cap;
    bool frame_written;
} site_ctx_t;

/* The true class of the rendered object under `b` (IoU >= 0.5), or -1. */
static int truth_class(eai_box_t b, const eai_scene_truth_t *truth, int n)
{
    float best = 0.5f;
    int cls = -1;
    for (int i = 0; i < n; i++) {
        float iou = eai_box_iou(b, truth[i].box);
        if (iou >= best) {
            best = iou;
            cls = truth[i].cls;
        }
    }
    return cls;
}

/* Classifies one tracked box through the router and files the crop. */
static eai_status_t classify(site_ctx_t *c, const eai_image_t *frame, const eai_track_t *t,
                             eai_box_t b, const eai_scene_truth_t *truth, int n_truth)
{
    if (b.x1 < 0) b.x1 = 0;
    if (b.y1 < 0) b.y1 = 0;
    if (b.x2 > (float)frame->width) b.x2 = (float)frame->width;
    if (b.y2 > (float)frame->height) b.y2 = (float)frame->height;
    if (b.y2 - b.y1 < 12 || b.x2 - b.x1 < 6) return EAI_OK; /* too small to say anything */
    eai_preproc_t pp = {.width = DEMO_CROP, .height = DEMO_CROP};
    EAI_TRY(eai_preprocess_crop(frame, b, &pp, c->crop, NULL));
    eai_route_result_t r;
    EAI_TRY(eai_router_infer(c->router, c->crop, DEMO_CROP_N, &r));
    demo_site_round_t *o = c->out;
    o->n_cls++;
    o->n_edge += r.tier == EAI_ROUTE_EDGE;
    o->n_cloud += r.tier == EAI_ROUTE_CLOUD;
    o->n_fallback += r.tier == EAI_ROUTE_EDGE_FALLBACK;
    o->bytes_to_cloud += r.bytes_sent;
    demo_lat_push(&c->cls, (double)r.edge_us / 1000.0);
    if (r.tier == EAI_ROUTE_CLOUD) demo_lat_push(&c->cloud, (double)r.cloud_us / 1000.0);
    c->frame_cls_ms += (double)r.edge_us / 1000.0;
    int tc = truth_class(b, truth, n_truth);
    if (tc >= 0) {
        o->n_truth++;
        o->edge_correct += r.edge_cls == tc;
        o->final_correct += r.cls == tc;
    }
    /* Even track ids feed training with the cloud's label (what a deployed
     * site would have); odd ids are held out with the true class, to judge
     * the federated models on vehicles no client trained on. */
    if (t->id % 2 == 0 && r.tier == EAI_ROUTE_CLOUD && r.cloud_cls >= 0) {
        demo_crops_push(&c->site->train, c->crop, r.cloud_cls);
        o->n_train++;
    } else if (t->id % 2 == 1 && tc >= 0) {
        demo_crops_push(&c->site->eval, c->crop, tc);
        o->n_eval++;
    }
    return EAI_OK;
}

/* Draws the tracks with their ids and classes on a copy of the frame and
 * writes it (once per run). */
static void snapshot(site_ctx_t *c, const eai_trafcam_frame_t *f)
{
    const eai_image_t *im = f->image;
    if (eai_image_alloc(&c->snap, im->width, im->height, 3) != EAI_OK) return;
    memcpy(c->snap.data, im->data, (size_t)im->width * im->height * 3);
    for (int i = 0; i < f->n_tracks; i++) {
        const eai_track_t *t = &f->tracks[i];
        eai_rgb_t col = eai_color_for(t->id);
        eai_draw_rect(&c->snap, t->box, col, 2);
        char lab[48];
        snprintf(lab, sizeof lab, "%d %s", t->id, eai_scene_class_name(t->cls));
        eai_draw_text(&c->snap, (int)t->box.x1, (int)t->box.y1 - 9, lab, (eai_rgb_t){0, 0, 0}, &col,
                      1);
    }
    char head[96];
    snprintf(head, sizeof head, "%s t=%.0fs tracks %d", c->site->name, f->t_s, f->n_tracks);
    eai_draw_text(&c->snap, 6, 6, head, (eai_rgb_t){255, 255, 255}, &(eai_rgb_t){0, 0, 0}, 2);
    if (eai_image_save_png(&c->snap, c->cfg->frame_png) == EAI_OK)
        snprintf(c->site->frame_png, sizeof c->site->frame_png, "%s", c->cfg->frame_png);
    c->frame_written = true;
}

/* Every camera frame: the edge classifier on tracks not classified in the
 * last cls_every frames. */
static eai_status_t on_frame(void *user, const eai_trafcam_frame_t *f)
{
    site_ctx_t *c = user;
    /* Counting uses both poles; classification only the first one's tracks,
     * so one vehicle never lands in both the training and the held-out
     * store under two trackers' ids. */
    if (f->view != 0) return EAI_OK;
    c->frame_cls_ms = 0;
    for (int i = 0; i < f->n_tracks; i++) {
        const eai_track_t *t = &f->tracks[i];
        int k = t->id % SLOTS;
        if (c->slot[k].id == t->id && f->frame_index - c->slot[k].frame < c->cfg->cls_every)
            continue;
        c->slot[k].id = t->id;
        c->slot[k].frame = f->frame_index;
        /* the matched detection's box: the Kalman box lags turning vehicles */
        eai_box_t b = t->det >= 0 && t->det < f->n_dets ? f->dets[t->det].box : t->box;
        EAI_TRY(classify(c, f->image, t, b, f->truth, f->n_truth));
    }
    demo_lat_push(&c->cls_frame, c->frame_cls_ms);
    if (c->cfg->frame_png && !c->frame_written && f->t_s >= 60 && f->n_tracks >= 4) snapshot(c, f);
    return EAI_OK;
}

/* Counts message, device -> gateway: "EACN", n, t_s, then n x (arrivals,
 * departures, queue). Little-endian host layout: both ends are this
 * process or this machine's build. */
#define MSG_HEAD 16

static size_t encode(uint8_t *b, int n, double t_s, const int *arr, const int *dep, const double *q)
{
    memcpy(b, "EACN", 4);
    uint32_t nn = (uint32_t)n;
    memcpy(b + 4, &nn, 4);
    memcpy(b + 8, &t_s, 8);
    size_t o = MSG_HEAD;
    for (int l = 0; l < n; l++) {
        int32_t a = arr[l], d = dep[l];
        memcpy(b + o, &a, 4);
        memcpy(b + o + 4, &d, 4);
        memcpy(b + o + 8, &q[l], 8);
        o += 16;
    }
    return o;
}

static eai_status_t decode(const eai_transport_msg_t *m, int n, double t_s, int *arr, int *dep,
                           double *q)
{
    uint32_t nn;
    double tt;
    if (m->n_bytes != MSG_HEAD + 16u * (size_t)n || memcmp(m->payload, "EACN", 4))
        return eai_fail(EAI_E_FORMAT, "demo: counts message of %zu bytes on %s", m->n_bytes,
                        m->topic);
    memcpy(&nn, m->payload + 4, 4);
    memcpy(&tt, m->payload + 8, 8);
    if (nn != (uint32_t)n || tt != t_s)
        return eai_fail(EAI_E_FORMAT,
                        "demo: counts message for %u lanes at %.1f s, expected %d at %.1f", nn, tt,
                        n, t_s);
    for (int l = 0; l < n; l++) {
        int32_t a, d;
        memcpy(&a, m->payload + MSG_HEAD + 16 * l, 4);
        memcpy(&d, m->payload + MSG_HEAD + 16 * l + 4, 4);
        memcpy(&q[l], m->payload + MSG_HEAD + 16 * l + 8, 8);
        arr[l] = a;
        dep[l] = d;
    }
    return EAI_OK;
}

static void live_line(site_ctx_t *c, const eai_tl_model_t *m, const eai_tl_controller_t *ctl,
                      double t_s)
{
    eai_trafcam_stats_t st;
    eai_trafcam_approach_stats_t ap[16];
    int n_ap = 0;
    if (eai_trafcam_stats(c->cam, &st, ap, 16, &n_ap) != EAI_OK) return;
    long cam = 0, det = 0;
    for (int i = 0; i < n_ap && i < 16; i++)
        cam += ap[i].cam_departures, det += ap[i].det_departures;
    const demo_site_round_t *o = c->out;
    char plan[160] = " (first cycle)";
    int n_cycles = 0;
    const eai_tl_estimate_t *e = ctl ? eai_tl_controller_estimates(ctl, &n_cycles) : NULL;
    if (n_cycles == 0) e = NULL; /* no cycle closed yet: nothing to show */
    size_t k = 0;
    if (e) plan[0] = 0;
    for (int a = 0; e && a < m->n_approaches && k + 24 < sizeof plan; a++)
        k += (size_t)snprintf(plan + k, sizeof plan - k, " %s %.0f%%/%.0fs", m->approaches[a].edge,
                              100 * e[a].green_ratio, e[a].queue_last_s);
    printf("[%s r%d %4.0fs] frames %ld det %.1fms | counts cam %ld det %ld | crops %lld "
           "offload %.0f%% | green/wait:%s\n",
           c->site->name, c->cfg->round + 1, t_s, st.frames, st.detect.p50_ms, cam, det,
           (long long)o->n_cls,
           o->n_cls ? 100.0 * (double)(o->n_cloud + o->n_fallback) / o->n_cls : 0.0, plan);
    fflush(stdout);
}

/* Every SUMO step, for the light: the device (camera path), then the
 * device's count message over the transport to the gateway, whose copy is
 * what the controller sees. */
static eai_status_t hook(void *user, eai_traci_t *t, const eai_tl_model_t *m,
                         const eai_tl_controller_t *ctl, double t_s, int *arr, int *dep,
                         double *queue)
{
    site_ctx_t *c = user;
    EAI_TRY(eai_trafcam_hook(c->cam, t, m, ctl, t_s, arr, dep, queue));
    size_t need = MSG_HEAD + 16u * (size_t)m->n_in;
    if (need > c->msg_cap) {
        uint8_t *b = realloc(c->msg, need); /* first step only: lanes are fixed */
        if (!b) return eai_fail(EAI_E_NOMEM, "demo: out of memory");
        c->msg = b;
        c->msg_cap = need;
    }
    size_t len = encode(c->msg, m->n_in, t_s, arr, dep, queue);
    double t0 = cli_now();
    EAI_TRY(eai_transport_publish(c->cfg->dev, c->topic, c->msg, len, 1, false));
    eai_transport_msg_t msg;
    eai_status_t st = eai_transport_recv(c->cfg->gw, 5000, &msg);
    if (st == EAI_E_TIMEOUT)
        return eai_fail(st, "demo: %s: the gateway got no counts within 5 s", c->site->name);
    EAI_TRY(st);
    EAI_TRY(decode(&msg, m->n_in, t_s, arr, dep, queue));
    demo_lat_push(&c->gw, (cli_now() - t0) * 1000.0);
    if (c->cfg->live_every_s > 0 && t_s >= c->next_live) {
        live_line(c, m, ctl, t_s);
        c->next_live += c->cfg->live_every_s;
    }
    return EAI_OK;
}

static void fill_out(site_ctx_t *c, const eai_traffic_report_t *rep, double wall_s)
{
    demo_site_round_t *o = c->out;
    o->mean_wait_s = rep->mean_wait_s;
    o->mean_trip_s = rep->mean_trip_s;
    o->throughput_vph = rep->throughput_vph;
    o->departed = rep->departed;
    o->arrived = rep->arrived;
    o->teleports = rep->teleports;
    o->emergency_brakes = rep->emergency_brakes;
    o->max_queue = rep->max_queue;
    o->worst_movement_wait_s = rep->worst_movement_wait_s;
    o->sim_s = rep->sim_s;
    double est = 0, n_est = 0;
    for (int i = 0; i < rep->n_approaches; i++)
        if (rep->approaches[i].est_queue_s >= 0) {
            est += rep->approaches[i].est_queue_s * (double)rep->approaches[i].count;
            n_est += (double)rep->approaches[i].count;
        }
    o->est_wait_s = n_est > 0 ? est / n_est : -1;
    eai_trafcam_stats_t st;
    eai_trafcam_approach_stats_t ap[64];
    int n_ap = 0;
    if (eai_trafcam_stats(c->cam, &st, ap, 64, &n_ap) == EAI_OK) {
        for (int i = 0; i < n_ap && i < 64; i++) {
            o->cam_count += ap[i].cam_departures;
            o->det_count += ap[i].det_departures;
        }
        o->frames = st.frames;
        o->det_p50 = st.detect.p50_ms;
        o->det_p99 = st.detect.p99_ms;
        o->trk_p50 = st.track.p50_ms;
        double cls50 = demo_lat_pct(&c->cls_frame, 0.5), cls99 = demo_lat_pct(&c->cls_frame, 0.99);
        o->cls_p50 = demo_lat_pct(&c->cls, 0.5);
        /* the device's compute per frame, as the sum of its stages' percentiles
         * (an upper bound for p99); rendering is the simulated sensor, not counted */
        o->dev_p50 = st.detect.p50_ms + st.track.p50_ms + st.count.p50_ms + (cls50 > 0 ? cls50 : 0);
        o->dev_p99 = st.detect.p99_ms + st.track.p99_ms + st.count.p99_ms + (cls99 > 0 ? cls99 : 0);
    }
    double dec_ms = rep->decision_us_per_step / 1000.0;
    o->gw_p50 = demo_lat_pct(&c->gw, 0.5) + dec_ms;
    o->gw_p99 = demo_lat_pct(&c->gw, 0.99) + dec_ms;
    o->cloud_p50 = demo_lat_pct(&c->cloud, 0.5);
    o->cloud_p99 = demo_lat_pct(&c->cloud, 0.99);
    o->wall_s = wall_s;
}

eai_status_t demo_site_run(const demo_site_cfg_t *cfg, demo_site_t *site, demo_site_round_t *out)
{
    memset(out, 0, sizeof *out);
    double w0 = cli_now();
    site_ctx_t *c = calloc(1, sizeof *c);
    if (!c) return eai_fail(EAI_E_NOMEM, "demo: out of memory");
    c->cfg = cfg;
    c->site = site;
    c->out = out;
    c->next_live = cfg->live_every_s;
    snprintf(c->topic, sizeof c->topic, "edgeai/demo/%s/counts", site->name);
    eai_traffic_report_t *rep = NULL;
    eai_status_t st = eai_transport_subscribe(cfg->gw, c->topic, 1);
    eai_router_opts_t ro = {.edge_path = cfg->edge_model,
                            .cloud_url = cfg->cloud_url,
                            .cloud_model = cfg->cloud_model,
                            .threshold = cfg->threshold,
                            .calib_path = cfg->calib,
                            .timeout_ms = 1000};
    if (st == EAI_OK) st = eai_router_create(&ro, &c->router);
    eai_trafcam_opts_t co = {.detector_path = cfg->det_model,
                             .threads = cfg->threads,
                             .fps = cfg->fps,
                             .seed = (uint64_t)cfg->seed,
                             .control = true};
    if (st == EAI_OK) st = eai_trafcam_create(&co, &c->cam);
    if (st == EAI_OK) {
        eai_trafcam_set_frame_cb(c->cam, on_frame, c);
        eai_traffic_run_opts_t o = {.scenario = cfg->scenario_path,
                                    .controller = EAI_TRAFFIC_MAXPRESSURE,
                                    .minutes = cfg->minutes,
                                    .set_seed = true,
                                    .seed = cfg->seed,
                                    .count_hook = hook,
                                    .count_user = c};
        st = eai_traffic_run(&o, &rep);
    }
    if (st == EAI_OK) fill_out(c, rep, cli_now() - w0);
    eai_traffic_report_destroy(rep);
    eai_trafcam_destroy(c->cam);
    eai_router_destroy(c->router);
    demo_lat_free(&c->cls_frame);
    demo_lat_free(&c->cls);
    demo_lat_free(&c->gw);
    demo_lat_free(&c->cloud);
    eai_image_free(&c->snap);
    free(c->msg);
    free(c);
    return st;
}
