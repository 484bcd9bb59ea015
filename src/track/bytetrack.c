/* ByteTrack (Zhang et al., ECCV 2022), following ifzhang/ByteTrack's
 * byte_tracker.py: confirmed and lost tracks are predicted and matched to
 * high-score detections (cost 1 - IoU * score, limit 0.8); the still
 * unmatched confirmed tracks to low-score detections (1 - IoU, limit 0.5);
 * tentative tracks to the leftover high ones (limit 0.7); new tracks from
 * leftover high detections >= new_track_thresh; lost tracks removed after
 * max_age frames; a confirmed/lost pair with IoU > 0.85 keeps the older.
 * As in the reference, tentative tracks are not predicted, a lost track's
 * height velocity is zeroed before its prediction, and tracks started on
 * the first frame are confirmed at once. IoU is continuous (x2 - x1), not
 * the +1 pixel convention of the cython_bbox the reference calls. */
#include <math.h>

#include "track/track_impl.h"

/* byte_tracker.py: match_thresh for unconfirmed tracks */
#define UNCONFIRMED_LIMIT 0.7f

static void correct(eai_tracker_t *t, trk_t *k, const eai_det_t *d, int j)
{
    eai__kf_xyah_update(k, t->det_box[j]);
    k->tsu = 0;
    k->hits++;
    k->det = j;
    k->score = d->score;
    k->cls = d->cls;
    k->last_frame = t->frame;
    t->det_used[j] = 1;
}

/* Fills t->cost for rows (track indices) x cols (detection indices). */
static void iou_cost(eai_tracker_t *t, const eai_det_t *dets, const int *rows, int nr,
                     const int *cols, int nc, bool fuse)
{
    for (int a = 0; a < nr; a++) {
        eai_box_t tb = eai__trk_xyah_box(&t->trk[rows[a]]);
        float *row = t->cost + (size_t)a * (size_t)nc;
        for (int b = 0; b < nc; b++) {
            float iou = eai_box_iou(tb, t->det_box[cols[b]]);
            row[b] = 1.0f - (fuse ? iou * dets[cols[b]].score : iou);
        }
    }
}

void eai__byte_update(eai_tracker_t *t, const eai_det_t *dets, int n)
{
    const eai_tracker_cfg_t *c = &t->cfg;
    int *pool = t->idx_a, *high = t->idx_b, *low = t->idx_c, *tmp = t->idx_d;
    int np = 0, nh = 0, nl = 0;
    const bool fuse = !c->no_fuse_score;
    for (int j = 0; j < n; j++) {
        if (!t->det_ok[j]) continue;
        float s = dets[j].score;
        if (s > c->high_thresh)
            high[nh++] = j;
        else if (s > c->low_thresh)
            low[nl++] = j;
    }
    for (int i = 0; i < t->n_trk; i++) {
        trk_t *k = &t->trk[i];
        k->age++;
        k->tsu++;
        if (k->state == EAI_TRACK_TENTATIVE) continue;
        if (k->state == EAI_TRACK_LOST) k->kf[3].v = 0;
        eai__kf_xyah_predict(k);
        pool[np++] = i;
    }

    /* 1: confirmed + lost vs high */
    iou_cost(t, dets, pool, np, high, nh, fuse);
    eai__trk_solve(t, np, nh, 1.0f - c->iou_thresh);
    int nrest = 0;
    for (int a = 0; a < np; a++) {
        trk_t *k = &t->trk[pool[a]];
        int b = t->row_match[a];
        if (b >= 0) {
            correct(t, k, &dets[high[b]], high[b]);
            k->state = EAI_TRACK_CONFIRMED; /* tracked, or lost and re-found */
        } else if (k->state == EAI_TRACK_CONFIRMED) {
            tmp[nrest++] = pool[a];
        }
    }
    /* 2: the remaining confirmed vs low */
    iou_cost(t, dets, tmp, nrest, low, nl, false);
    eai__trk_solve(t, nrest, nl, 1.0f - c->second_iou);
    for (int a = 0; a < nrest; a++) {
        trk_t *k = &t->trk[tmp[a]];
        int b = t->row_match[a];
        if (b >= 0)
            correct(t, k, &dets[low[b]], low[b]);
        else
            k->state = EAI_TRACK_LOST;
    }
    /* 3: tentative vs the leftover high */
    int nu = 0, nhl = 0;
    for (int i = 0; i < t->n_trk; i++)
        if (t->trk[i].state == EAI_TRACK_TENTATIVE && t->trk[i].tsu > 0) pool[nu++] = i;
    for (int b = 0; b < nh; b++)
        if (!t->det_used[high[b]]) high[nhl++] = high[b];
    iou_cost(t, dets, pool, nu, high, nhl, fuse);
    eai__trk_solve(t, nu, nhl, UNCONFIRMED_LIMIT);
    for (int a = 0; a < nu; a++) {
        trk_t *k = &t->trk[pool[a]];
        int b = t->row_match[a];
        if (b < 0) {
            k->state = EAI_TRACK_REMOVED;
            continue;
        }
        correct(t, k, &dets[high[b]], high[b]);
        if (k->hits >= c->n_init) k->state = EAI_TRACK_CONFIRMED;
    }
    /* 4: new tracks */
    for (int b = 0; b < nhl; b++) {
        int j = high[b];
        if (t->det_used[j] || dets[j].score < c->new_track_thresh) continue;
        trk_t *k = eai__trk_new(t);
        if (!k) break;
        eai__kf_xyah_init(k, t->det_box[j]);
        k->hits = 1;
        k->det = j;
        k->score = dets[j].score;
        k->cls = dets[j].cls;
        k->state = (t->n_frames == 1 || c->n_init <= 1) ? EAI_TRACK_CONFIRMED : EAI_TRACK_TENTATIVE;
        t->det_used[j] = 1;
    }
    /* 5: expire lost tracks, then drop duplicates (remove_duplicate_stracks) */
    for (int i = 0; i < t->n_trk; i++) {
        trk_t *k = &t->trk[i];
        if (k->state == EAI_TRACK_LOST && k->tsu > c->max_age) k->state = EAI_TRACK_REMOVED;
    }
    for (int i = 0; i < t->n_trk; i++)
        t->trk[i].dup = false;
    for (int i = 0; i < t->n_trk; i++) {
        trk_t *p = &t->trk[i];
        if (p->state != EAI_TRACK_CONFIRMED && p->state != EAI_TRACK_TENTATIVE) continue;
        eai_box_t pb = eai__trk_xyah_box(p);
        for (int q = 0; q < t->n_trk; q++) {
            trk_t *l = &t->trk[q];
            if (l->state != EAI_TRACK_LOST) continue;
            if (1.0f - eai_box_iou(pb, eai__trk_xyah_box(l)) >= 0.15f) continue;
            int tp = p->last_frame - p->start_frame, tq = l->last_frame - l->start_frame;
            /* all pairs are judged before anything is dropped, as the reference does */
            if (tp > tq)
                l->dup = true;
            else
                p->dup = true;
        }
    }
    for (int i = 0; i < t->n_trk; i++)
        if (t->trk[i].dup) t->trk[i].state = EAI_TRACK_REMOVED;
}
