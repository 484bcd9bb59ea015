/* The tracker object: configuration defaults, preallocation, input checks
 * and reporting shared by the three trackers; the xyah Kalman filter of
 * DeepSORT (also used by ByteTrack). Per-kind association lives in sort.c,
 * bytetrack.c and deepsort.c. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "track/track_impl.h"

/* DeepSORT / ByteTrack Kalman noise: standard deviations proportional to the
 * box height (nwojke/deep_sort kalman_filter.py). */
#define STD_POS (1.0 / 20)
#define STD_VEL (1.0 / 160)

static const char *kind_names[] = {"sort", "bytetrack", "deepsort"};

const char *eai_tracker_kind_name(eai_tracker_kind_t kind)
{
    return (unsigned)kind < 3 ? kind_names[kind] : "?";
}

eai_status_t eai_tracker_kind_parse(const char *name, eai_tracker_kind_t *out)
{
    for (int i = 0; name && i < 3; i++)
        if (!strcmp(name, kind_names[i])) {
            *out = (eai_tracker_kind_t)i;
            return EAI_OK;
        }
    return eai_fail(EAI_E_INVALID, "tracker '%s': expected sort, bytetrack or deepsort",
                    name ? name : "(null)");
}

static float fdef(float v, float d)
{
    return v > 0 ? v : v < 0 ? 0.0f : d;
}

static eai_status_t fill_defaults(eai_tracker_kind_t kind, eai_tracker_cfg_t *c)
{
    static const int n_init[] = {3, 2, 3}, max_age[] = {1, 30, 30};
    static const float iou[] = {0.3f, 0.2f, 0.3f};
    if (c->max_tracks < 0 || c->max_dets < 0 || c->n_init < 0 || c->max_age < 0 || c->budget < 0 ||
        c->emb_dim < 0)
        return eai_fail(EAI_E_INVALID, "tracker: negative count in the configuration");
    if (!c->max_tracks) c->max_tracks = 256;
    if (!c->max_dets) c->max_dets = 512;
    if (!c->n_init) c->n_init = n_init[kind];
    if (!c->max_age) c->max_age = max_age[kind];
    c->iou_thresh = fdef(c->iou_thresh, iou[kind]);
    c->min_score = c->min_score < 0 ? 0 : c->min_score;
    c->high_thresh = fdef(c->high_thresh, 0.5f);
    c->low_thresh = fdef(c->low_thresh, 0.1f);
    c->new_track_thresh = fdef(c->new_track_thresh, c->high_thresh + 0.1f);
    c->second_iou = fdef(c->second_iou, 0.5f);
    if (!c->budget) c->budget = 100;
    c->max_cosine = fdef(c->max_cosine, 0.2f);
    c->gate_chi2 = fdef(c->gate_chi2, 9.4877f);
    if (c->max_tracks > 1 << 16 || c->max_dets > 1 << 16)
        return eai_fail(EAI_E_INVALID, "tracker: max_tracks %d / max_dets %d above 65536",
                        c->max_tracks, c->max_dets);
    if (c->iou_thresh > 1 || c->second_iou > 1 || c->max_cosine > 2)
        return eai_fail(EAI_E_INVALID, "tracker: IoU threshold above 1 or max_cosine above 2");
    if (c->low_thresh > c->high_thresh)
        return eai_fail(EAI_E_INVALID, "tracker: low_thresh %g above high_thresh %g",
                        (double)c->low_thresh, (double)c->high_thresh);
    if (c->output != EAI_TRACK_OUT_ACTIVE && c->output != EAI_TRACK_OUT_ALL)
        return eai_fail(EAI_E_INVALID, "tracker: unknown output mode %d", (int)c->output);
    if (kind == EAI_TRACKER_DEEPSORT) {
        if (c->emb_dim <= 0)
            return eai_fail(EAI_E_INVALID,
                            "deepsort: cfg.emb_dim must give the embedding length (e.g. 128)");
        if ((int64_t)c->max_tracks * c->budget * c->emb_dim > ((int64_t)1 << 28))
            return eai_fail(EAI_E_INVALID,
                            "deepsort: gallery of %d tracks x %d x %d floats is too large",
                            c->max_tracks, c->budget, c->emb_dim);
    }
    return EAI_OK;
}

void eai_tracker_destroy(eai_tracker_t *t)
{
    if (!t) return;
    const eai_allocator_t *a = &t->cfg.alloc;
    eai__free(a, t->trk);
    eai__free(a, t->removed);
    eai__free(a, t->cost);
    eai__free(a, t->costd);
    eai__free(a, t->work);
    eai__free(a, t->row_match);
    eai__free(a, t->col_match);
    eai__free(a, t->idx_a);
    eai__free(a, t->idx_b);
    eai__free(a, t->idx_c);
    eai__free(a, t->idx_d);
    eai__free(a, t->det_used);
    eai__free(a, t->det_box);
    eai__free(a, t->det_ok);
    eai__free(a, t->gallery);
    eai__free(a, t->gal_free);
    eai__free(a, t->det_emb);
    eai__free(a, t->det_has_emb);
    eai_allocator_t keep = *a;
    eai__free(&keep, t);
}

eai_status_t eai_tracker_create(eai_tracker_kind_t kind, const eai_tracker_cfg_t *cfg,
                                eai_tracker_t **out)
{
    if (!out) return eai_fail(EAI_E_INVALID, "eai_tracker_create: NULL out");
    if ((unsigned)kind > EAI_TRACKER_DEEPSORT)
        return eai_fail(EAI_E_INVALID, "eai_tracker_create: unknown tracker kind %d", (int)kind);
    eai_tracker_cfg_t c;
    if (cfg)
        c = *cfg;
    else
        memset(&c, 0, sizeof c);
    EAI_TRY(fill_defaults(kind, &c));
    eai_tracker_t *t = eai__calloc(&c.alloc, 1, sizeof *t);
    if (!t) return eai_fail(EAI_E_NOMEM, "tracker: out of memory");
    t->kind = kind;
    t->cfg = c;
    const eai_allocator_t *a = &t->cfg.alloc;
    size_t nt = (size_t)c.max_tracks, nd = (size_t)c.max_dets, nm = nt > nd ? nt : nd;
    t->trk = eai__calloc(a, nt, sizeof *t->trk);
    t->removed = eai__calloc(a, nt, sizeof *t->removed);
    t->cost = eai__calloc(a, nt * nd, sizeof *t->cost);
    t->costd = eai__calloc(a, nt * nd, sizeof *t->costd);
    t->work = eai__alloc(a, eai__assign_work_bytes(c.max_tracks, c.max_dets));
    t->row_match = eai__calloc(a, nm, sizeof(int));
    t->col_match = eai__calloc(a, nm, sizeof(int));
    t->idx_a = eai__calloc(a, nm, sizeof(int));
    t->idx_b = eai__calloc(a, nm, sizeof(int));
    t->idx_c = eai__calloc(a, nm, sizeof(int));
    t->idx_d = eai__calloc(a, nm, sizeof(int));
    t->det_used = eai__calloc(a, nd, 1);
    t->det_box = eai__calloc(a, nd, sizeof *t->det_box);
    t->det_ok = eai__calloc(a, nd, sizeof *t->det_ok);
    bool ok = t->trk && t->removed && t->cost && t->costd && t->work && t->row_match &&
              t->col_match && t->idx_a && t->idx_b && t->idx_c && t->idx_d && t->det_used &&
              t->det_box && t->det_ok;
    if (ok && kind == EAI_TRACKER_DEEPSORT) {
        size_t e = (size_t)c.emb_dim;
        t->gallery = eai__alloc(a, nt * (size_t)c.budget * e * sizeof(float));
        t->gal_free = eai__calloc(a, nt, sizeof(int));
        t->det_emb = eai__calloc(a, nd * e, sizeof(float));
        t->det_has_emb = eai__calloc(a, nd, sizeof(bool));
        ok = t->gallery && t->gal_free && t->det_emb && t->det_has_emb;
        /* touch every page now: first-touch page faults would land in
         * update() as tracks fill their galleries */
        if (ok) memset(t->gallery, 0, nt * (size_t)c.budget * e * sizeof(float));
    }
    if (!ok) {
        eai_tracker_destroy(t);
        return eai_fail(EAI_E_NOMEM, "tracker: out of memory for %d tracks x %d detections",
                        c.max_tracks, c.max_dets);
    }
    eai_tracker_reset(t);
    *out = t;
    return EAI_OK;
}

void eai_tracker_reset(eai_tracker_t *t)
{
    if (!t) return;
    t->n_trk = 0;
    t->n_removed = 0;
    t->next_id = 1;
    t->frame = 0;
    t->n_frames = 0;
    t->started = false;
    t->n_gal_free = 0;
    if (t->gal_free)
        for (int i = t->cfg.max_tracks - 1; i >= 0; i--)
            t->gal_free[t->n_gal_free++] = i;
}

/* ---- boxes and Kalman ---- */

void eai__trk_box_to_xyah(eai_box_t b, double z[4])
{
    double w = (double)b.x2 - b.x1, h = (double)b.y2 - b.y1;
    z[0] = b.x1 + w / 2, z[1] = b.y1 + h / 2, z[2] = w / h, z[3] = h;
}

eai_box_t eai__trk_xyah_box(const trk_t *t)
{
    double h = t->kf[3].p, w = t->kf[2].p * h, cx = t->kf[0].p, cy = t->kf[1].p;
    return (eai_box_t){(float)(cx - w / 2), (float)(cy - h / 2), (float)(cx + w / 2),
                       (float)(cy + h / 2)};
}

void eai__trk_box_to_xysr(eai_box_t b, double z[4])
{
    double w = (double)b.x2 - b.x1, h = (double)b.y2 - b.y1;
    z[0] = b.x1 + w / 2, z[1] = b.y1 + h / 2, z[2] = w * h, z[3] = w / h;
}

eai_box_t eai__trk_xysr_box(const trk_t *t)
{
    double s = t->kf[2].p, r = t->kf[3].p;
    double w = sqrt(s * r), h = s / w, cx = t->kf[0].p, cy = t->kf[1].p;
    return (eai_box_t){(float)(cx - w / 2), (float)(cy - h / 2), (float)(cx + w / 2),
                       (float)(cy + h / 2)};
}

void eai__kf_xyah_init(trk_t *k, eai_box_t b)
{
    double z[4];
    eai__trk_box_to_xyah(b, z);
    double h = z[3], sp = 2 * STD_POS * h, sv = 10 * STD_VEL * h;
    kf_init(&k->kf[0], z[0], sp * sp, sv * sv);
    kf_init(&k->kf[1], z[1], sp * sp, sv * sv);
    kf_init(&k->kf[2], z[2], 1e-2 * 1e-2, 1e-5 * 1e-5);
    kf_init(&k->kf[3], z[3], sp * sp, sv * sv);
}

void eai__kf_xyah_predict(trk_t *k)
{
    double h = k->kf[3].p, sp = STD_POS * h, sv = STD_VEL * h;
    kf_predict(&k->kf[0], sp * sp, sv * sv);
    kf_predict(&k->kf[1], sp * sp, sv * sv);
    kf_predict(&k->kf[2], 1e-2 * 1e-2, 1e-5 * 1e-5);
    kf_predict(&k->kf[3], sp * sp, sv * sv);
}

/* Measurement noise of the projection (kalman_filter.py project()). */
static void xyah_r(const trk_t *k, double r[4])
{
    double h = k->kf[3].p, sp = STD_POS * h;
    r[0] = r[1] = r[3] = sp * sp;
    r[2] = 1e-1 * 1e-1;
}

void eai__kf_xyah_update(trk_t *k, eai_box_t b)
{
    double z[4], r[4];
    eai__trk_box_to_xyah(b, z);
    xyah_r(k, r);
    for (int i = 0; i < 4; i++)
        kf_update(&k->kf[i], z[i], r[i]);
}

double eai__kf_xyah_gate(const trk_t *k, eai_box_t b)
{
    double z[4], r[4], d = 0;
    eai__trk_box_to_xyah(b, z);
    xyah_r(k, r);
    for (int i = 0; i < 4; i++) { /* S is diagonal: see kf_chan_t */
        double y = z[i] - k->kf[i].p;
        d += y * y / (k->kf[i].a + r[i]);
    }
    return d;
}

/* ---- track list ---- */

trk_t *eai__trk_new(eai_tracker_t *t)
{
    if (t->n_trk >= t->cfg.max_tracks) return NULL;
    if (t->kind == EAI_TRACKER_DEEPSORT && t->n_gal_free <= 0) return NULL;
    trk_t *k = &t->trk[t->n_trk++];
    memset(k, 0, sizeof *k);
    k->id = t->next_id++;
    k->det = -1;
    k->start_frame = k->last_frame = t->frame;
    k->gal = t->kind == EAI_TRACKER_DEEPSORT ? t->gal_free[--t->n_gal_free] : -1;
    return k;
}

void eai__trk_compact(eai_tracker_t *t)
{
    int w = 0;
    for (int i = 0; i < t->n_trk; i++) {
        trk_t *k = &t->trk[i];
        if (k->state == EAI_TRACK_REMOVED) {
            if (t->n_removed < t->cfg.max_tracks) t->removed[t->n_removed++] = *k;
            if (k->gal >= 0) t->gal_free[t->n_gal_free++] = k->gal;
            continue;
        }
        if (w != i) t->trk[w] = *k;
        w++;
    }
    t->n_trk = w;
}

void eai__trk_solve(eai_tracker_t *t, int n_rows, int n_cols, float limit)
{
    size_t n = (size_t)n_rows * (size_t)n_cols;
    for (size_t i = 0; i < n; i++)
        t->costd[i] = t->cost[i];
    eai__assign_d(t->costd, n_rows, n_cols, (double)limit, t->row_match, t->col_match, t->work);
}

/* ---- update ---- */

static bool box_ok(eai_box_t b)
{
    return isfinite(b.x1) && isfinite(b.y1) && isfinite(b.x2) && isfinite(b.y2) && b.x2 > b.x1 &&
           b.y2 > b.y1;
}

static void report(const trk_t *k, eai_track_t *o, eai_tracker_kind_t kind)
{
    o->id = k->id;
    o->box = kind == EAI_TRACKER_SORT ? eai__trk_xysr_box(k) : eai__trk_xyah_box(k);
    o->score = k->score;
    o->cls = k->cls;
    o->state = k->state;
    o->det = k->det;
    o->hits = k->hits;
    o->age = k->age;
    o->time_since_update = k->tsu;
}

eai_status_t eai_tracker_update(eai_tracker_t *t, int frame, const eai_det_t *dets, int n,
                                eai_track_t *out, int cap, int *n_out)
{
    if (!t || !n_out || (n > 0 && !dets) || (cap > 0 && !out) || cap < 0)
        return eai_fail(EAI_E_INVALID, "eai_tracker_update: NULL argument or negative cap");
    if (n < 0 || n > t->cfg.max_dets)
        return eai_fail(EAI_E_INVALID, "tracker: %d detections, the tracker takes 0..%d (max_dets)",
                        n, t->cfg.max_dets);
    if (t->started && frame != t->frame + 1)
        return eai_fail(EAI_E_INVALID,
                        "tracker: frame %d after frame %d (pass skipped frames with n = 0)", frame,
                        t->frame);
    const int ed = t->cfg.emb_dim;
    for (int i = 0; i < n && t->kind == EAI_TRACKER_DEEPSORT; i++)
        if (dets[i].emb && dets[i].emb_dim != ed)
            return eai_fail(EAI_E_INVALID,
                            "deepsort: detection %d has a %d-float embedding, "
                            "the tracker was created for %d",
                            i, dets[i].emb_dim, ed);
    t->started = true;
    t->frame = frame;
    t->n_frames++;
    t->n_removed = 0;
    for (int i = 0; i < n; i++) {
        t->det_box[i] = dets[i].box;
        t->det_ok[i] = box_ok(dets[i].box) && isfinite(dets[i].score);
        t->det_used[i] = 0;
    }
    for (int i = 0; i < t->n_trk; i++)
        t->trk[i].det = -1;
    if (t->kind == EAI_TRACKER_SORT)
        eai__sort_update(t, dets, n);
    else if (t->kind == EAI_TRACKER_BYTETRACK)
        eai__byte_update(t, dets, n);
    else
        eai__deep_update(t, dets, n);
    eai__trk_compact(t);

    int m = 0;
    bool all = t->cfg.output == EAI_TRACK_OUT_ALL;
    /* live tracks are in id order; removed ones are merged in by id */
    int ri = 0;
    for (int i = 0; i <= t->n_trk; i++) {
        while (all && ri < t->n_removed && (i == t->n_trk || t->removed[ri].id < t->trk[i].id)) {
            if (m < cap) report(&t->removed[ri], &out[m], t->kind);
            m++, ri++;
        }
        if (i == t->n_trk) break;
        const trk_t *k = &t->trk[i];
        if (!all && !(k->state == EAI_TRACK_CONFIRMED && k->det >= 0)) continue;
        if (m < cap) report(k, &out[m], t->kind);
        m++;
    }
    *n_out = m;
    return EAI_OK;
}
