/* The camera path's view of SUMO: a light's counting geometry from its lane
 * shapes, the camera pose, and the table of vehicles near the cameras
 * (positions of the last two steps, for interpolated frames). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_impl.h"
#include "traffic/trafcam_impl.h"

#define SHAPE_CAP 64

/* ---- camera -------------------------------------------------------------- */

static void view_free(const eai_allocator_t *a, tc_view_t *v)
{
    eai_scene_destroy(v->scene);
    eai_tracker_destroy(v->trk);
    eai_trafcam_counter_destroy(v->cnt);
    eai_trafcam_counter_destroy(v->tcnt);
    eai_image_free(&v->frame);
    void *p[] = {v->lane_map, v->lanes, v->arr,     v->dep,     v->q,     v->tarr,
                 v->tdep,     v->dets,  v->tracks,  v->tid,     v->tlane, v->truth_id,
                 v->tx,       v->ty,    v->truth_x, v->truth_y, v->truth};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
        eai__free(a, p[i]);
    memset(v, 0, sizeof *v);
}

void eai__tc_cam_destroy(eai_trafcam_t *tc, tc_cam_t *c)
{
    if (!c) return;
    const eai_allocator_t *a = &tc->a;
    for (int v = 0; v < TC_MAX_VIEWS; v++)
        view_free(a, &c->views[v]);
    void *p[] = {c->lanes,   c->lane_view, c->edge,  c->arm,   c->cam_dep, c->det_dep, c->cam_arr,
                 c->det_arr, c->truth_dep, c->cam_q, c->det_q, c->arr,     c->dep,     c->q,
                 c->tarr,    c->tdep,      c->vidx,  c->vdist, c->objs};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
        eai__free(a, p[i]);
    eai__free(a, c);
}

static eai_status_t alloc_bufs(eai_trafcam_t *tc, tc_cam_t *c)
{
    const eai_allocator_t *a = &tc->a;
    size_t ni = (size_t)c->n_in, na = (size_t)(c->n_ap > 0 ? c->n_ap : 1);
    c->lanes = eai__calloc(a, ni, sizeof *c->lanes);
    c->lane_view = eai__calloc(a, ni, sizeof(int));
    c->edge = eai__calloc(a, na, sizeof *c->edge);
    c->arm = eai__calloc(a, na, sizeof *c->arm);
    c->cam_dep = eai__calloc(a, na, sizeof(long));
    c->det_dep = eai__calloc(a, na, sizeof(long));
    c->cam_arr = eai__calloc(a, na, sizeof(long));
    c->det_arr = eai__calloc(a, na, sizeof(long));
    c->truth_dep = eai__calloc(a, na, sizeof(long));
    c->cam_q = eai__calloc(a, na, sizeof(double));
    c->det_q = eai__calloc(a, na, sizeof(double));
    c->arr = eai__calloc(a, ni, sizeof(int));
    c->dep = eai__calloc(a, ni, sizeof(int));
    c->q = eai__calloc(a, ni, sizeof(int));
    c->tarr = eai__calloc(a, ni, sizeof(int));
    c->tdep = eai__calloc(a, ni, sizeof(int));
    c->vidx = eai__calloc(a, 2 * TC_VCAP, sizeof(int));
    c->vdist = eai__calloc(a, 2 * TC_VCAP, sizeof(float));
    c->objs = eai__calloc(a, (size_t)tc->o.max_vehicles, sizeof *c->objs);
    if (!c->lanes || !c->lane_view || !c->edge || !c->arm || !c->cam_dep || !c->det_dep ||
        !c->cam_arr || !c->det_arr || !c->truth_dep || !c->cam_q || !c->det_q || !c->arr ||
        !c->dep || !c->q || !c->tarr || !c->tdep || !c->vidx || !c->vdist || !c->objs)
        return eai_fail(EAI_E_NOMEM, "trafcam: out of memory");
    return EAI_OK;
}

static eai_status_t view_alloc(eai_trafcam_t *tc, tc_view_t *v, int n_lanes)
{
    const eai_allocator_t *a = &tc->a;
    size_t nl = (size_t)n_lanes, nv = (size_t)tc->o.max_vehicles, nd = TC_MAX_DETS;
    v->lane_map = eai__calloc(a, nl, sizeof(int));
    v->lanes = eai__calloc(a, nl, sizeof *v->lanes);
    v->arr = eai__calloc(a, nl, sizeof(int));
    v->dep = eai__calloc(a, nl, sizeof(int));
    v->q = eai__calloc(a, nl, sizeof(int));
    v->tarr = eai__calloc(a, nl, sizeof(int));
    v->tdep = eai__calloc(a, nl, sizeof(int));
    v->dets = eai__calloc(a, nd, sizeof *v->dets);
    v->tracks = eai__calloc(a, nd, sizeof *v->tracks);
    v->tid = eai__calloc(a, nd, sizeof(int));
    v->tlane = eai__calloc(a, nd, sizeof(int));
    v->tx = eai__calloc(a, nd, sizeof(float));
    v->ty = eai__calloc(a, nd, sizeof(float));
    v->truth = eai__calloc(a, nv, sizeof *v->truth);
    v->truth_id = eai__calloc(a, nv, sizeof(int));
    v->truth_x = eai__calloc(a, nv, sizeof(float));
    v->truth_y = eai__calloc(a, nv, sizeof(float));
    if (!v->lane_map || !v->lanes || !v->arr || !v->dep || !v->q || !v->tarr || !v->tdep ||
        !v->dets || !v->tracks || !v->tid || !v->tlane || !v->tx || !v->ty || !v->truth ||
        !v->truth_id || !v->truth_x || !v->truth_y)
        return eai_fail(EAI_E_NOMEM, "trafcam: out of memory");
    return EAI_OK;
}

/* Stop point and direction of every in-lane from its shape (net frame). */
static eai_status_t lane_geometry(eai_traci_t *t, const eai_tl_model_t *m, tc_cam_t *c)
{
    double xy[2 * SHAPE_CAP];
    for (int l = 0; l < m->n_in; l++) {
        int n;
        double w;
        EAI_TRY(eai_traci_lane_shape(t, m->in[l].id, xy, SHAPE_CAP, &n));
        EAI_TRY(eai_traci_lane_width(t, m->in[l].id, &w));
        if (n < 2 || n > SHAPE_CAP)
            return eai_fail(EAI_E_UNSUPPORTED, "trafcam: lane %s has a shape of %d points",
                            m->in[l].id, n);
        double x1 = xy[2 * n - 2], y1 = xy[2 * n - 1], x0 = xy[2 * n - 4], y0 = xy[2 * n - 3];
        double d = hypot(x1 - x0, y1 - y0);
        if (!(d > 1e-6) || !(w > 0))
            return eai_fail(EAI_E_UNSUPPORTED, "trafcam: lane %s: degenerate last segment",
                            m->in[l].id);
        eai_trafcam_lane_t *L = &c->lanes[l];
        L->px = (float)x1, L->py = (float)y1; /* net frame until the centre is known */
        L->ux = (float)((x1 - x0) / d), L->uy = (float)((y1 - y0) / d);
        L->width_m = (float)w;
        L->approach = m->in[l].approach;
    }
    return EAI_OK;
}

/* Arm a lane comes from: its travel direction reversed. */
static int arm_of(const eai_trafcam_lane_t *L)
{
    if (fabsf(L->ux) >= fabsf(L->uy)) return L->ux < 0 ? 1 : 3; /* westbound from E, else W */
    return L->uy > 0 ? 0 : 2;                                   /* northbound from S, else N */
}

/* How much of lane l's zone camera `cam` sees: sample points on its centre
 * line (every 2 m) that project inside the frame. */
static int lane_seen(const eai_scene_camera_t *cam, const eai_trafcam_lane_t *L, float zone)
{
    int n = 0;
    for (float al = 0; al <= zone; al += 2.0f) {
        float u, v, x = L->px - al * L->ux, y = L->py - al * L->uy;
        if (eai_scene_project(cam, x, y, 0.0f, &u, &v, NULL) == EAI_OK && u >= 0 &&
            u < (float)cam->width && v >= 0 && v < (float)cam->height)
            n++;
    }
    return n;
}

static eai_status_t view_create(eai_trafcam_t *tc, tc_cam_t *c, tc_view_t *v, int vi,
                                const eai_scene_config_t *base)
{
    int n = 0;
    for (int l = 0; l < c->n_in; l++)
        n += c->lane_view[l] == vi;
    EAI_TRY(view_alloc(tc, v, n));
    v->n_lanes = n;
    for (int l = 0, k = 0; l < c->n_in; l++)
        if (c->lane_view[l] == vi) v->lane_map[k] = l, v->lanes[k++] = c->lanes[l];
    eai_scene_config_t sc = *base;
    sc.camera = &v->camera;
    sc.seed = tc->o.seed + (uint64_t)vi;
    eai_tracker_cfg_t tcfg = {.max_dets = TC_MAX_DETS, .alloc = tc->a};
    if (tc->tkind == EAI_TRACKER_DEEPSORT) tcfg.emb_dim = 64; /* no embeddings: IoU stage only */
    eai_trafcam_counter_opts_t co = {.zone_m = tc->o.zone_m,
                                     .near_m = tc->o.near_m,
                                     .halt_mps = tc->o.halt_mps,
                                     .fps = tc->o.fps,
                                     .alloc = tc->a};
    EAI_TRY(eai_scene_create(&sc, &v->scene));
    EAI_TRY(eai_tracker_create(tc->tkind, &tcfg, &v->trk));
    EAI_TRY(eai_trafcam_counter_create(v->lanes, n, &co, &v->cnt));
    EAI_TRY(eai_trafcam_counter_create(v->lanes, n, &co, &v->tcnt));
    return eai_image_alloc(&v->frame, tc->o.width, tc->o.height, 3);
}

/* Poses, lane assignment to views, scenes, trackers, counters. */
static eai_status_t setup_views(eai_trafcam_t *tc, tc_cam_t *c, const eai_tl_model_t *m)
{
    float half = 0, wsum = 0;
    int lanes_per_ap = 1;
    for (int l = 0; l < m->n_in; l++) {
        const eai_trafcam_lane_t *L = &c->lanes[l];
        float lat = fabsf(L->px * L->uy - L->py * L->ux) + 0.5f * L->width_m;
        if (lat > half) half = lat;
        wsum += L->width_m;
    }
    for (int a = 0; a < m->n_approaches; a++)
        if (m->approaches[a].n_lanes > lanes_per_ap) lanes_per_ap = m->approaches[a].n_lanes;
    /* The scene's default pose frames a one-lane 3.5 m road; wider roads
     * push the pole out and up by the same factor (same view angles). A
     * corner pole sees the far approaches whole but only the first metres
     * of the near ones, so the opposite corner gets a second pole. */
    float k = (16.0f + (half > 3.5f ? half - 3.5f : 0.0f)) / 16.0f;
    eai_scene_camera_t pose[TC_MAX_VIEWS];
    pose[0] = eai_scene_camera_default(tc->o.width, tc->o.height);
    pose[0].x *= k, pose[0].y *= k, pose[0].z *= k;
    pose[1] = pose[0];
    pose[1].x = -pose[0].x, pose[1].y = -pose[0].y, pose[1].yaw_deg = pose[0].yaw_deg + 180.0f;
    int nv = tc->o.views;
    for (int a = 0; a < m->n_approaches; a++) {
        int best = 0, best_n = -1;
        for (int vi = 0; vi < nv; vi++) {
            int seen = 0;
            for (int l = 0; l < m->n_in; l++)
                if (c->lanes[l].approach == a)
                    seen += lane_seen(&pose[vi], &c->lanes[l], tc->o.zone_m);
            if (seen > best_n) best = vi, best_n = seen;
        }
        for (int l = 0; l < m->n_in; l++)
            if (c->lanes[l].approach == a) c->lane_view[l] = best;
    }
    float lw = wsum / (float)m->n_in;
    eai_scene_config_t sc = {.width = tc->o.width,
                             .height = tc->o.height,
                             .fps = tc->o.fps < 1 ? 1 : tc->o.fps,
                             .density = -1,
                             .lanes = lanes_per_ap > 3 ? 3 : lanes_per_ap,
                             .lane_width = lw < 2.5f ? 2.5f
                                           : lw > 5  ? 5
                                                     : lw,
                             .warmup_s = -1,
                             .no_pedestrians = true,
                             .max_objects = tc->o.max_vehicles,
                             .alloc = &tc->a};
    for (int vi = 0; vi < nv; vi++) {
        int n = 0;
        for (int l = 0; l < m->n_in; l++)
            n += c->lane_view[l] == vi;
        if (!n) continue; /* sees nothing best: no camera there */
        tc_view_t *v = &c->views[c->n_views];
        v->camera = pose[vi];
        for (int l = 0; l < m->n_in; l++)
            if (c->lane_view[l] == vi) c->lane_view[l] = c->n_views;
        EAI_TRY(view_create(tc, c, v, c->n_views, &sc));
        c->n_views++;
    }
    return EAI_OK;
}

eai_status_t eai__tc_cam_create(eai_trafcam_t *tc, eai_traci_t *t, const eai_tl_model_t *m,
                                tc_cam_t **out)
{
    if (m->n_in < 1)
        return eai_fail(EAI_E_UNSUPPORTED, "trafcam: light %s has no lanes", m->tls_id);
    tc_cam_t *c = eai__calloc(&tc->a, 1, sizeof *c);
    if (!c) return eai_fail(EAI_E_NOMEM, "trafcam: out of memory");
    memcpy(c->tls, m->tls_id, sizeof c->tls);
    c->n_in = m->n_in, c->n_ap = m->n_approaches;
    eai_status_t st = alloc_bufs(tc, c);
    if (st == EAI_OK) st = lane_geometry(t, m, c);
    if (st == EAI_OK && eai_traci_junction_position(t, m->tls_id, &c->jx, &c->jy) != EAI_OK) {
        if (!eai_traci_ok(t)) st = EAI_E_UNAVAILABLE; /* transport gone: its message stands */
        /* no junction of the light's id: the centre of the stop points */
        c->jx = c->jy = 0;
        for (int l = 0; l < m->n_in; l++)
            c->jx += c->lanes[l].px / m->n_in, c->jy += c->lanes[l].py / m->n_in;
    }
    if (st == EAI_OK) {
        for (int l = 0; l < m->n_in; l++)
            c->lanes[l].px -= (float)c->jx, c->lanes[l].py -= (float)c->jy;
        for (int a = 0; a < m->n_approaches; a++) {
            memcpy(c->edge[a], m->approaches[a].edge, sizeof c->edge[a]);
            c->arm[a] = -1;
            for (int l = 0; l < m->n_in; l++)
                if (c->lanes[l].approach == a) c->arm[a] = arm_of(&c->lanes[l]);
        }
        st = setup_views(tc, c, m);
    }
    if (st != EAI_OK) {
        eai__tc_cam_destroy(tc, c);
        return st;
    }
    *out = c;
    return EAI_OK;
}

/* ---- vehicle table ----------------------------------------------------- */

static uint64_t hash_id(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h ? h : 1;
}

#define TOMB  ((uint64_t)-1)
#define SLOTS (2 * TC_VCAP)

static tc_veh_t *lookup(tc_veh_t *tab, const char *id, uint64_t h, bool insert)
{
    tc_veh_t *tomb = NULL;
    for (size_t i = h & (SLOTS - 1), k = 0; k < SLOTS; k++, i = (i + 1) & (SLOTS - 1)) {
        tc_veh_t *v = &tab[i];
        if (v->h == 0) {
            if (!insert) return NULL;
            return tomb ? tomb : v;
        }
        if (v->h == TOMB) {
            if (!tomb) tomb = v;
        } else if (v->h == h && strcmp(v->id, id) == 0)
            return v;
    }
    return insert ? tomb : NULL;
}

/* Drops vehicles not seen last step and rebuilds without tombstones. */
static void compact(eai_trafcam_t *tc)
{
    memset(tc->spare, 0, SLOTS * sizeof *tc->spare);
    int n = 0;
    for (size_t i = 0; i < SLOTS; i++) {
        tc_veh_t *v = &tc->veh[i];
        if (v->h == 0 || v->h == TOMB || v->cur_step < tc->step - 1) continue;
        *lookup(tc->spare, v->id, v->h, true) = *v;
        n++;
    }
    tc_veh_t *x = tc->veh;
    tc->veh = tc->spare, tc->spare = x;
    tc->n_veh_used = n;
}

static bool near_a_camera(const eai_trafcam_t *tc, double x, double y)
{
    double r = tc->o.radius_m;
    for (int i = 0; i < tc->n_cams; i++) {
        double dx = x - tc->cams[i]->jx, dy = y - tc->cams[i]->jy;
        if (dx * dx + dy * dy <= r * r) return true;
    }
    return false;
}

/* Vehicle reads go through TraCI subscriptions: SUMO appends the id list and
 * every subscribed vehicle's position and angle to each step's reply, so a
 * step costs one round trip per newly seen vehicle instead of one per
 * vehicle and variable. The values are SUMO's for the same step, as the
 * getters' would be. */
static const int VEH_VARS[] = {EAI_TRACI_VAR_POSITION, EAI_TRACI_VAR_ANGLE, EAI_TRACI_VAR_LENGTH,
                               EAI_TRACI_VAR_WIDTH, EAI_TRACI_VAR_VEHICLECLASS};
#define N_VEH_VARS ((int)(sizeof VEH_VARS / sizeof VEH_VARS[0]))
static const int ID_LIST[] = {EAI_TRACI_VAR_ID_LIST};
#define SUB_VEH EAI_TRACI_SUB_VEHICLE

eai_status_t eai__tc_fetch(eai_trafcam_t *tc, eai_traci_t *t, double t_s)
{
    eai_traci_strlist_t ids;
    if (!eai_traci_sub_has(t, SUB_VEH, ""))
        EAI_TRY(eai_traci_subscribe(t, SUB_VEH, "", ID_LIST, 1));
    EAI_TRY(eai_traci_sub_strlist(t, SUB_VEH, "", EAI_TRACI_VAR_ID_LIST, &ids));
    /* copy: subscribing a new vehicle below adds to the results table */
    size_t need = 0;
    for (int i = 0; i < ids.n; i++)
        need += strlen(ids.items[i]) + 1;
    if (need > tc->ids_cap) {
        size_t cap = need * 2;
        char *p = eai__realloc(&tc->a, tc->ids, cap);
        if (!p) return eai_fail(EAI_E_NOMEM, "trafcam: out of memory");
        tc->ids = p, tc->ids_cap = cap;
    }
    char *w = tc->ids;
    for (int i = 0; i < ids.n; i++) {
        size_t l = strlen(ids.items[i]) + 1;
        memcpy(w, ids.items[i], l);
        w += l;
    }
    int n = ids.n;
    tc->step++;
    tc->fetch_t = t_s;
    if (tc->n_veh_used > TC_VCAP) compact(tc);
    const char *id = tc->ids;
    for (int i = 0; i < n; i++, id += strlen(id) + 1) {
        if (strlen(id) >= EAI_TL_ID_MAX) continue; /* such ids are rejected everywhere else */
        double x, y;
        /* a vehicle SUMO did not report last step is new: subscribe it (the
         * reply carries its current values) */
        if (!eai_traci_sub_has(t, SUB_VEH, id))
            EAI_TRY(eai_traci_subscribe(t, SUB_VEH, id, VEH_VARS, N_VEH_VARS));
        EAI_TRY(eai_traci_sub_pos2d(t, SUB_VEH, id, EAI_TRACI_VAR_POSITION, &x, &y));
        uint64_t h = hash_id(id);
        tc_veh_t *v = lookup(tc->veh, id, h, false);
        if (!near_a_camera(tc, x, y)) {
            if (v) v->h = TOMB; /* left the view: forget it */
            continue;
        }
        if (!v) {
            if (tc->n_veh_used >= TC_VCAP) compact(tc);
            if (tc->n_veh_used >= TC_VCAP) continue; /* more than TC_VCAP nearby: not drawn */
            v = lookup(tc->veh, id, h, true);
            memset(v, 0, sizeof *v);
            snprintf(v->id, sizeof v->id, "%s", id);
            v->h = h;
            v->num = ++tc->next_num;
            v->prev_step = v->cur_step = v->ang_step = -10;
            tc->n_veh_used++;
        }
        /* the previous position is usable when it and its angle are last step's */
        if (v->cur_step == tc->step - 1 && v->ang_step == v->cur_step) {
            v->px = v->cx, v->py = v->cy, v->pa = v->ca, v->prev_step = v->cur_step;
        } else {
            v->prev_step = -10;
        }
        v->cx = x, v->cy = y, v->cur_step = tc->step;
    }
    return EAI_OK;
}

static eai_status_t read_static(eai_traci_t *t, tc_veh_t *v)
{
    double len, wid;
    const char *vc;
    /* subscribed with the position (a few bytes a step instead of three
     * round trips per vehicle); the getters if the results lack them */
    eai_status_t st = eai_traci_sub_double(t, SUB_VEH, v->id, EAI_TRACI_VAR_LENGTH, &len);
    if (st == EAI_OK) st = eai_traci_sub_double(t, SUB_VEH, v->id, EAI_TRACI_VAR_WIDTH, &wid);
    if (st == EAI_OK) st = eai_traci_sub_string(t, SUB_VEH, v->id, EAI_TRACI_VAR_VEHICLECLASS, &vc);
    if (st == EAI_E_UNAVAILABLE) {
        EAI_TRY(eai_traci_veh_length(t, v->id, &len));
        EAI_TRY(eai_traci_veh_width(t, v->id, &wid));
        st = eai_traci_veh_vclass(t, v->id, &vc);
    }
    EAI_TRY(st);
    v->len = (float)len, v->wid = (float)wid;
    v->cls = (int)eai_scene_class_from_sumo(vc);
    v->have_static = true;
    return EAI_OK;
}

eai_status_t eai__tc_gather(eai_trafcam_t *tc, eai_traci_t *t, tc_cam_t *c, int *n_out)
{
    int n = 0;
    double r2 = (double)tc->o.radius_m * tc->o.radius_m;
    for (int i = 0; i < SLOTS; i++) {
        tc_veh_t *v = &tc->veh[i];
        if (v->h == 0 || v->h == TOMB || v->cur_step != tc->step) continue;
        double dx = v->cx - c->jx, dy = v->cy - c->jy, d2 = dx * dx + dy * dy;
        if (d2 > r2) continue;
        c->vidx[n] = i;
        c->vdist[n++] = (float)d2;
    }
    /* nearest first when over the limit: insertion sort of indices by
     * distance (n is small; no qsort context pointer needed) */
    if (n > tc->o.max_vehicles) {
        for (int i = 1; i < n; i++) {
            int vi = c->vidx[i];
            float d = c->vdist[i];
            int j = i - 1;
            while (j >= 0 && c->vdist[j] > d) {
                c->vidx[j + 1] = c->vidx[j], c->vdist[j + 1] = c->vdist[j];
                j--;
            }
            c->vidx[j + 1] = vi, c->vdist[j + 1] = d;
        }
        n = tc->o.max_vehicles;
    }
    for (int i = 0; i < n; i++) {
        tc_veh_t *v = &tc->veh[c->vidx[i]];
        if (!v->have_static) EAI_TRY(read_static(t, v));
        if (v->ang_step != tc->step) {
            double a;
            eai_status_t st = eai_traci_sub_double(t, SUB_VEH, v->id, EAI_TRACI_VAR_ANGLE, &a);
            if (st == EAI_E_UNAVAILABLE) st = eai_traci_veh_angle(t, v->id, &a); /* not fetched */
            EAI_TRY(st);
            v->ca = a;
            v->ang_step = tc->step;
        }
    }
    *n_out = n;
    return EAI_OK;
}
