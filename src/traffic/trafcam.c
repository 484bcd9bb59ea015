/* The camera path's per-step work (edgeai/trafcam.h): interpolated frames of
 * the vehicles near a light, detection, tracking and counting, and the
 * comparison with the SUMO-detector counts the runner passes in. */
#include <math.h>
#include <string.h>
#include <time.h>

#include "core/core_impl.h"
#include "traffic/trafcam_impl.h"

#define HIST_LO_MS 1e-3
#define HIST_STEP  1.02

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- latency histogram --------------------------------------------------- */

void eai__tc_hist_add(tc_hist_t *h, double ms)
{
    int b = ms > HIST_LO_MS ? (int)(log(ms / HIST_LO_MS) / log(HIST_STEP)) : 0;
    if (b >= TC_HIST_BINS) b = TC_HIST_BINS - 1;
    h->bins[b]++;
    h->n++;
    h->sum_ms += ms;
}

static double hist_q(const tc_hist_t *h, double q)
{
    long want = (long)ceil(q * (double)h->n), acc = 0;
    if (want < 1) want = 1;
    for (int b = 0; b < TC_HIST_BINS; b++) {
        acc += h->bins[b];
        /* bin centre (geometric) */
        if (acc >= want) return HIST_LO_MS * pow(HIST_STEP, b + 0.5);
    }
    return 0;
}

eai_trafcam_latency_t eai__tc_hist_get(const tc_hist_t *h)
{
    eai_trafcam_latency_t l = {0};
    if (!h->n) return l;
    l.n = h->n;
    l.mean_ms = h->sum_ms / (double)h->n;
    l.p50_ms = hist_q(h, 0.50);
    l.p99_ms = hist_q(h, 0.99);
    return l;
}

/* ---- create / destroy --------------------------------------------------- */

static float fdef(float v, float d)
{
    return v > 0 ? v : d;
}

eai_status_t eai_trafcam_create(const eai_trafcam_opts_t *o, eai_trafcam_t **out)
{
    if (!o || !out) return eai_fail(EAI_E_INVALID, "trafcam: NULL options");
    if (!o->detector_path || !*o->detector_path)
        return eai_fail(EAI_E_INVALID, "trafcam: detector_path is required (e.g. "
                                       "models/scene/scene_det.onnx)");
    eai_trafcam_opts_t c = *o;
    c.fps = fdef(c.fps, 5);
    c.width = c.width > 0 ? c.width : 640;
    c.height = c.height > 0 ? c.height : 480;
    c.conf = fdef(c.conf, 0.3f);
    c.zone_m = fdef(c.zone_m, 40);
    c.near_m = fdef(c.near_m, 8);
    c.halt_mps = fdef(c.halt_mps, 1.5f);
    c.ground_shift_m = c.ground_shift_m < 0 ? 0 : c.ground_shift_m;
    c.ground_frac = o->ground_frac == 0 ? 0.3f : c.ground_frac < 0 ? 0 : c.ground_frac;
    c.radius_m = fdef(c.radius_m, 90);
    c.max_vehicles = c.max_vehicles > 0 ? c.max_vehicles : 256;
    c.views = c.views > 0 ? c.views : 2;
    if (o->views < 0 || c.views > TC_MAX_VIEWS)
        return eai_fail(EAI_E_INVALID, "trafcam: views %d is outside 0..%d", o->views,
                        TC_MAX_VIEWS);
    if (!(c.fps >= 0.5f && c.fps <= 30) || !isfinite(o->fps))
        return eai_fail(EAI_E_INVALID, "trafcam: fps %g is outside 0.5..30", (double)o->fps);
    if (c.width < 64 || c.height < 64 || c.width > 4096 || c.height > 4096 || o->width < 0 ||
        o->height < 0)
        return eai_fail(EAI_E_INVALID, "trafcam: frame size %dx%d is outside 64..4096", o->width,
                        o->height);
    if (o->conf < 0 || c.conf > 1 || o->zone_m < 0 || o->near_m < 0 || o->halt_mps < 0 ||
        o->radius_m < 0 || !isfinite(c.zone_m) || !isfinite(c.near_m) || !isfinite(c.halt_mps) ||
        !isfinite(c.radius_m) || !isfinite(c.ground_shift_m) || !(c.ground_frac <= 1) ||
        c.zone_m > 1000 || c.radius_m > 5000)
        return eai_fail(EAI_E_INVALID, "trafcam: conf must be in [0, 1]; zone_m, near_m, "
                                       "halt_mps and radius_m must be finite and >= 0");
    if (o->max_vehicles < 0 || c.max_vehicles > 1024)
        return eai_fail(EAI_E_INVALID, "trafcam: max_vehicles %d is outside 0..1024",
                        o->max_vehicles);
    if (o->threads < 0) return eai_fail(EAI_E_INVALID, "trafcam: threads %d < 0", o->threads);
    eai_tracker_kind_t tk = EAI_TRACKER_BYTETRACK;
    if (o->tracker && eai_tracker_kind_parse(o->tracker, &tk) != EAI_OK)
        return eai_fail(EAI_E_INVALID, "trafcam: unknown tracker '%s' (sort, bytetrack, deepsort)",
                        o->tracker);
    eai_allocator_t a = o->alloc;
    eai_trafcam_t *tc = eai__calloc(&a, 1, sizeof *tc);
    if (!tc) return eai_fail(EAI_E_NOMEM, "trafcam: out of memory");
    tc->a = a;
    tc->o = c;
    tc->tkind = tk;
    tc->fetch_t = -1e300;
    tc->det_path = eai__strdup(&a, o->detector_path);
    tc->veh = eai__calloc(&a, 2 * TC_VCAP, sizeof *tc->veh);
    tc->spare = eai__calloc(&a, 2 * TC_VCAP, sizeof *tc->spare);
    if (!tc->det_path || !tc->veh || !tc->spare) {
        eai_trafcam_destroy(tc);
        return eai_fail(EAI_E_NOMEM, "trafcam: out of memory");
    }
    tc->o.detector_path = tc->det_path;
    tc->o.tracker = NULL; /* borrowed: do not keep */
    tc->o.backend = NULL;
    eai_detector_opts_t d = {.model_path = tc->det_path,
                             .backend = o->backend,
                             .threads = o->threads,
                             .decode = {.conf = c.conf}};
    eai_status_t st = eai_detector_create(&d, &tc->det);
    if (st != EAI_OK) {
        eai_trafcam_destroy(tc);
        return st;
    }
    *out = tc;
    return EAI_OK;
}

void eai_trafcam_destroy(eai_trafcam_t *tc)
{
    if (!tc) return;
    eai_allocator_t a = tc->a;
    for (int i = 0; i < tc->n_cams; i++)
        eai__tc_cam_destroy(tc, tc->cams[i]);
    eai__free(&a, tc->cams);
    eai_detector_destroy(tc->det);
    eai__free(&a, tc->det_path);
    eai__free(&a, tc->veh);
    eai__free(&a, tc->spare);
    eai__free(&a, tc->ids);
    eai__free(&a, tc);
}

void eai_trafcam_set_frame_cb(eai_trafcam_t *tc, eai_trafcam_frame_fn fn, void *user)
{
    if (!tc) return;
    tc->cb = fn;
    tc->cb_user = user;
}

/* ---- one step ------------------------------------------------------------ */

static double lerp_angle(double a0, double a1, double t)
{
    double d = fmod(a1 - a0 + 540.0, 360.0) - 180.0; /* shorter arc */
    return a0 + d * t;
}

/* Ground point of a box: a point inside it near the bottom, on the road
 * (see trafcam.h), optionally pushed away from the camera. */
static void ground_point(const eai_scene_camera_t *cam, eai_box_t b, float frac, float shift,
                         float *x, float *y)
{
    float gx, gy;
    float v = b.y2 - frac * (b.y2 - b.y1);
    if (eai_scene_unproject(cam, 0.5f * (b.x1 + b.x2), v, 0.0f, &gx, &gy) != EAI_OK) {
        *x = *y = NAN; /* above the horizon: not on the road */
        return;
    }
    float dx = gx - cam->x, dy = gy - cam->y, d = hypotf(dx, dy);
    if (d > 1e-3f) gx += shift * dx / d, gy += shift * dy / d;
    *x = gx, *y = gy;
}

static eai_status_t view_frame(eai_trafcam_t *tc, tc_cam_t *c, int vi, int n_veh, double t_frame)
{
    tc_view_t *v = &c->views[vi];
    double t0 = now_ms();
    v->frame_index++;
    EAI_TRY(eai_scene_render_objects(v->scene, c->objs, n_veh, v->frame_index, &v->frame));
    int n_truth = 0;
    EAI_TRY(eai_scene_truth(v->scene, v->truth, tc->o.max_vehicles, &n_truth));
    if (n_truth > tc->o.max_vehicles) n_truth = tc->o.max_vehicles;
    double t1 = now_ms();
    int n_det = 0;
    EAI_TRY(eai_detector_run(tc->det, &v->frame, v->dets, TC_MAX_DETS, &n_det));
    /* vehicles only: the scene draws no pedestrians here */
    int k = 0;
    for (int i = 0; i < n_det; i++)
        if (v->dets[i].cls != EAI_SCENE_PERSON) v->dets[k++] = v->dets[i];
    n_det = k;
    double t2 = now_ms();
    int n_trk = 0;
    EAI_TRY(
        eai_tracker_update(v->trk, ++v->trk_frame, v->dets, n_det, v->tracks, TC_MAX_DETS, &n_trk));
    if (n_trk > TC_MAX_DETS) n_trk = TC_MAX_DETS;
    double t3 = now_ms();
    for (int i = 0; i < n_trk; i++) {
        v->tid[i] = v->tracks[i].id;
        ground_point(&v->camera, v->tracks[i].box, tc->o.ground_frac, tc->o.ground_shift_m,
                     &v->tx[i], &v->ty[i]);
    }
    EAI_TRY(eai_trafcam_counter_frame(v->cnt, v->tid, v->tx, v->ty, n_trk, v->arr, v->dep, v->q,
                                      v->tlane));
    for (int i = 0; i < n_truth; i++) {
        v->truth_id[i] = v->truth[i].id;
        v->truth_x[i] = v->truth[i].x, v->truth_y[i] = v->truth[i].y;
    }
    memset(v->tarr, 0, (size_t)v->n_lanes * sizeof *v->tarr);
    memset(v->tdep, 0, (size_t)v->n_lanes * sizeof *v->tdep);
    EAI_TRY(eai_trafcam_counter_frame(v->tcnt, v->truth_id, v->truth_x, v->truth_y, n_truth,
                                      v->tarr, v->tdep, NULL, NULL));
    for (int l = 0; l < v->n_lanes; l++) {
        int ml = v->lane_map[l];
        c->arr[ml] += v->arr[l], c->dep[ml] += v->dep[l], c->q[ml] = v->q[l];
        c->tarr[ml] += v->tarr[l], c->tdep[ml] += v->tdep[l];
        v->arr[l] = v->dep[l] = 0;
    }
    for (int i = 0; i < n_trk; i++)
        v->tlane[i] = v->tlane[i] >= 0 ? v->lane_map[v->tlane[i]] : -1;
    double t4 = now_ms();
    eai__tc_hist_add(&tc->h_render, t1 - t0);
    eai__tc_hist_add(&tc->h_detect, t2 - t1);
    eai__tc_hist_add(&tc->h_track, t3 - t2);
    eai__tc_hist_add(&tc->h_count, t4 - t3);
    tc->frames++;
    tc->truth_boxes += n_truth;
    if (!tc->cb) return EAI_OK;
    eai_trafcam_frame_t f = {.tls_id = c->tls,
                             .view = vi,
                             .frame_index = v->frame_index,
                             .t_s = t_frame,
                             .image = &v->frame,
                             .camera = &v->camera,
                             .dets = v->dets,
                             .n_dets = n_det,
                             .tracks = v->tracks,
                             .n_tracks = n_trk,
                             .track_lane = v->tlane,
                             .truth = v->truth,
                             .n_truth = n_truth};
    return tc->cb(tc->cb_user, &f);
}

static eai_status_t one_frame(eai_trafcam_t *tc, tc_cam_t *c, const int n_veh, double alpha,
                              double t_frame)
{
    const long step = tc->step;
    for (int i = 0; i < n_veh; i++) {
        const tc_veh_t *v = &tc->veh[c->vidx[i]];
        double x = v->cx, y = v->cy, ang = v->ca;
        if (v->prev_step == step - 1) {
            x = v->px + (v->cx - v->px) * alpha;
            y = v->py + (v->cy - v->py) * alpha;
            ang = lerp_angle(v->pa, v->ca, alpha);
        }
        c->objs[i] = eai_scene_object_from_sumo(v->num, (eai_scene_class_t)v->cls, x, y, ang,
                                                v->len, v->wid, c->jx, c->jy, (uint32_t)tc->o.seed);
    }
    for (int vi = 0; vi < c->n_views; vi++)
        EAI_TRY(view_frame(tc, c, vi, n_veh, t_frame));
    return EAI_OK;
}

static tc_cam_t *find_cam(eai_trafcam_t *tc, const char *tls)
{
    for (int i = 0; i < tc->n_cams; i++)
        if (strcmp(tc->cams[i]->tls, tls) == 0) return tc->cams[i];
    return NULL;
}

static eai_status_t add_cam(eai_trafcam_t *tc, eai_traci_t *t, const eai_tl_model_t *m,
                            tc_cam_t **out)
{
    tc_cam_t **p = eai__realloc(&tc->a, tc->cams, (size_t)(tc->n_cams + 1) * sizeof *p);
    if (!p) return eai_fail(EAI_E_NOMEM, "trafcam: out of memory");
    tc->cams = p;
    EAI_TRY(eai__tc_cam_create(tc, t, m, &p[tc->n_cams]));
    *out = p[tc->n_cams++];
    return EAI_OK;
}

eai_status_t eai_trafcam_hook(void *user, eai_traci_t *t, const eai_tl_model_t *m,
                              const eai_tl_controller_t *ctl, double t_s, int *arrivals,
                              int *departures, double *queue)
{
    (void)ctl;
    eai_trafcam_t *tc = user;
    if (!tc || !t || !m || !arrivals || !departures || !queue || !isfinite(t_s))
        return eai_fail(EAI_E_INVALID, "trafcam hook: NULL argument");
    tc_cam_t *c = find_cam(tc, m->tls_id);
    if (!c) {
        EAI_TRY(add_cam(tc, t, m, &c));
        double dt;
        EAI_TRY(eai_traci_sim_delta_t(t, &dt));
        c->last_t = t_s - (dt > 0 ? dt : 1);
    }
    if (c->n_in != m->n_in)
        return eai_fail(EAI_E_INVALID, "trafcam hook: light %s now has %d lanes, had %d", m->tls_id,
                        m->n_in, c->n_in);
    if (!(t_s > c->last_t))
        return eai_fail(EAI_E_INVALID, "trafcam hook: light %s: time %g is not after %g", m->tls_id,
                        t_s, c->last_t);
    double dt = t_s - c->last_t, t_prev = c->last_t;
    c->last_t = t_s;
    double r0 = now_ms();
    if (tc->fetch_t != t_s) EAI_TRY(eai__tc_fetch(tc, t, t_s));
    int n_veh = 0;
    EAI_TRY(eai__tc_gather(tc, t, c, &n_veh));
    eai__tc_hist_add(&tc->h_read, now_ms() - r0);
    int n_frames = (int)lround(tc->o.fps * dt);
    if (n_frames < 1) n_frames = 1;
    memset(c->arr, 0, (size_t)c->n_in * sizeof *c->arr);
    memset(c->dep, 0, (size_t)c->n_in * sizeof *c->dep);
    memset(c->tarr, 0, (size_t)c->n_in * sizeof *c->tarr);
    memset(c->tdep, 0, (size_t)c->n_in * sizeof *c->tdep);
    memset(c->q, 0, (size_t)c->n_in * sizeof *c->q);
    for (int k = 1; k <= n_frames; k++) {
        double al = (double)k / n_frames;
        EAI_TRY(one_frame(tc, c, n_veh, al, t_prev + dt * al));
    }
    tc->steps++;
    c->n_steps++;
    for (int l = 0; l < c->n_in; l++) {
        int a = m->in[l].approach;
        if (a < 0 || a >= c->n_ap) continue;
        c->det_dep[a] += departures[l];
        c->det_arr[a] += arrivals[l];
        c->det_q[a] += queue[l];
        c->cam_dep[a] += c->dep[l];
        c->cam_arr[a] += c->arr[l];
        c->cam_q[a] += c->q[l];
        c->truth_dep[a] += c->tdep[l];
        if (!tc->o.control) continue;
        arrivals[l] = c->arr[l];
        departures[l] = c->dep[l];
        queue[l] = c->q[l];
    }
    return EAI_OK;
}

/* ---- stats --------------------------------------------------------------- */

eai_status_t eai_trafcam_stats(const eai_trafcam_t *tc, eai_trafcam_stats_t *st,
                               eai_trafcam_approach_stats_t *ap, int cap, int *n_ap)
{
    if (!tc || !st || cap < 0 || (cap > 0 && !ap))
        return eai_fail(EAI_E_INVALID, "trafcam stats: NULL argument");
    memset(st, 0, sizeof *st);
    st->n_cameras = tc->n_cams;
    for (int i = 0; i < tc->n_cams; i++)
        st->n_views += tc->cams[i]->n_views;
    st->steps = tc->steps;
    st->frames = tc->frames;
    st->truth_boxes = tc->truth_boxes;
    st->read = eai__tc_hist_get(&tc->h_read);
    st->render = eai__tc_hist_get(&tc->h_render);
    st->detect = eai__tc_hist_get(&tc->h_detect);
    st->track = eai__tc_hist_get(&tc->h_track);
    st->count = eai__tc_hist_get(&tc->h_count);
    int k = 0;
    double abs_err = 0, det = 0;
    for (int i = 0; i < tc->n_cams; i++) {
        const tc_cam_t *c = tc->cams[i];
        for (int a = 0; a < c->n_ap; a++, k++) {
            abs_err += fabs((double)(c->cam_dep[a] - c->det_dep[a]));
            det += (double)c->det_dep[a];
            if (k >= cap) continue;
            eai_trafcam_approach_stats_t *x = &ap[k];
            memset(x, 0, sizeof *x);
            memcpy(x->tls, c->tls, sizeof x->tls);
            memcpy(x->edge, c->edge[a], sizeof x->edge);
            x->arm = c->arm[a];
            x->cam_departures = c->cam_dep[a];
            x->det_departures = c->det_dep[a];
            x->cam_arrivals = c->cam_arr[a];
            x->det_arrivals = c->det_arr[a];
            x->truth_departures = c->truth_dep[a];
            x->rel_error =
                c->det_dep[a] ? (double)(c->cam_dep[a] - c->det_dep[a]) / (double)c->det_dep[a] : 0;
            x->cam_queue_mean = c->n_steps ? c->cam_q[a] / (double)c->n_steps : 0;
            x->det_queue_mean = c->n_steps ? c->det_q[a] / (double)c->n_steps : 0;
        }
    }
    st->total_rel_error = det > 0 ? abs_err / det : 0;
    if (n_ap) *n_ap = k;
    return EAI_OK;
}
