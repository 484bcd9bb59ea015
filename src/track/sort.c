/* SORT (Bewley et al., ICIP 2016), following abewley/sort's sort.py: Kalman
 * on [cx, cy, area, aspect] (+ velocities of the first three) with
 * filterpy's noise (R = diag(1, 1, 10, 10), P0 = 10 / 1e4, Q = 1 / 0.01 /
 * 1e-4), IoU association, a track reported while matched with a streak of
 * n_init hits or during the first n_init frames, removed after max_age
 * misses. The one deliberate difference: association solves the gated
 * problem (pairs with IoU >= iou_thresh only) instead of an unconstrained
 * max-IoU assignment filtered afterwards, so a valid pair is never lost to an
 * invalid one (docs/track.md). */
#include <math.h>

#include "track/track_impl.h"

static void sort_init(trk_t *k, eai_box_t b)
{
    double z[4];
    eai__trk_box_to_xysr(b, z);
    kf_init(&k->kf[0], z[0], 10, 1e4);
    kf_init(&k->kf[1], z[1], 10, 1e4);
    kf_init(&k->kf[2], z[2], 10, 1e4);
    kf_init(&k->kf[3], z[3], 10, 0); /* the aspect ratio has no velocity */
}

static void sort_predict(trk_t *k)
{
    if (k->kf[2].p + k->kf[2].v <= 0) k->kf[2].v = 0; /* area must not go negative */
    kf_predict(&k->kf[0], 1, 0.01);
    kf_predict(&k->kf[1], 1, 0.01);
    kf_predict(&k->kf[2], 1, 1e-4);
    kf_predict(&k->kf[3], 1, 0);
}

static void sort_correct(trk_t *k, eai_box_t b)
{
    double z[4];
    eai__trk_box_to_xysr(b, z);
    kf_update(&k->kf[0], z[0], 1);
    kf_update(&k->kf[1], z[1], 1);
    kf_update(&k->kf[2], z[2], 10);
    kf_update(&k->kf[3], z[3], 10);
}

void eai__sort_update(eai_tracker_t *t, const eai_det_t *dets, int n)
{
    const eai_tracker_cfg_t *c = &t->cfg;
    int *rows = t->idx_a, *cols = t->idx_b, nr = 0, nc = 0;
    for (int i = 0; i < t->n_trk; i++) {
        trk_t *k = &t->trk[i];
        sort_predict(k);
        k->age++;
        if (k->tsu > 0) k->hit_streak = 0;
        k->tsu++;
        /* sort.py drops a track whose predicted box is NaN (area * aspect < 0) */
        if (!(k->kf[2].p > 0 && k->kf[3].p > 0) || !isfinite(k->kf[0].p) || !isfinite(k->kf[1].p)) {
            k->state = EAI_TRACK_REMOVED;
            continue;
        }
        rows[nr++] = i;
    }
    for (int j = 0; j < n; j++)
        if (t->det_ok[j] && dets[j].score >= c->min_score) cols[nc++] = j;

    const float inf = INFINITY, thr = c->iou_thresh;
    for (int a = 0; a < nr; a++) {
        eai_box_t tb = eai__trk_xysr_box(&t->trk[rows[a]]);
        float *row = t->cost + (size_t)a * (size_t)nc;
        for (int b = 0; b < nc; b++) {
            float iou = eai_box_iou(tb, t->det_box[cols[b]]);
            row[b] = iou >= thr ? 1.0f - iou : inf;
        }
    }
    eai__trk_solve(t, nr, nc, 1.0f - thr + 1e-6f);
    for (int a = 0; a < nr; a++) {
        int b = t->row_match[a];
        if (b < 0) continue;
        trk_t *k = &t->trk[rows[a]];
        int j = cols[b];
        sort_correct(k, t->det_box[j]);
        k->tsu = 0;
        k->hits++;
        k->hit_streak++;
        k->det = j;
        k->score = dets[j].score;
        k->cls = dets[j].cls;
        k->last_frame = t->frame;
        t->det_used[j] = 1;
    }
    for (int b = 0; b < nc; b++) {
        int j = cols[b];
        if (t->det_used[j]) continue;
        trk_t *k = eai__trk_new(t);
        if (!k) break; /* max_tracks live: the detection starts nothing */
        sort_init(k, t->det_box[j]);
        k->det = j;
        k->score = dets[j].score;
        k->cls = dets[j].cls;
        t->det_used[j] = 1;
    }
    for (int i = 0; i < t->n_trk; i++) {
        trk_t *k = &t->trk[i];
        if (k->state == EAI_TRACK_REMOVED) continue;
        if (k->tsu == 0) {
            bool rep = k->hit_streak >= c->n_init || t->n_frames <= c->n_init;
            k->state = rep ? EAI_TRACK_CONFIRMED : EAI_TRACK_TENTATIVE;
            if (rep) k->was_confirmed = true;
        } else {
            k->state = k->was_confirmed ? EAI_TRACK_LOST : EAI_TRACK_TENTATIVE;
        }
        if (k->tsu > c->max_age) k->state = EAI_TRACK_REMOVED;
    }
}
