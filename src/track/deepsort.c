/* DeepSORT (Wojke et al., ICIP 2017), following nwojke/deep_sort: every
 * track is predicted (xyah Kalman); confirmed tracks are matched by a
 * cascade over time since update (1, 2, ..., max_age) on the smallest
 * cosine distance between the detection's embedding and the track's gallery
 * of its last `budget` embeddings, pairs beyond the Mahalanobis gate (chi^2
 * 0.95, 4 dof) or max_cosine excluded; then tentative tracks and tracks
 * missed for exactly one frame are matched by IoU. Tentative tracks that
 * miss are removed. Detections without an embedding take part in the IoU
 * stage only. The gate is computed first, so cosine distances are only
 * computed for gated pairs. */
#include <math.h>
#include <string.h>

#include "track/track_impl.h"

static float dot(const float *a, const float *b, int n)
{
    /* 8 partial sums: vectorises without -ffast-math */
    float s[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            s[k] += a[i + k] * b[i + k];
    float r = 0;
    for (; i < n; i++)
        r += a[i] * b[i];
    for (int k = 0; k < 8; k++)
        r += s[k];
    return r;
}

static float *gal_row(eai_tracker_t *t, const trk_t *k, int i)
{
    size_t e = (size_t)t->cfg.emb_dim;
    return t->gallery + ((size_t)k->gal * (size_t)t->cfg.budget + (size_t)i) * e;
}

static void gal_push(eai_tracker_t *t, trk_t *k, int j)
{
    if (!t->det_has_emb[j]) return;
    memcpy(gal_row(t, k, k->gal_head), t->det_emb + (size_t)j * (size_t)t->cfg.emb_dim,
           sizeof(float) * (size_t)t->cfg.emb_dim);
    k->gal_head = (k->gal_head + 1) % t->cfg.budget;
    if (k->n_gal < t->cfg.budget) k->n_gal++;
}

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
    gal_push(t, k, j);
}

void eai__deep_update(eai_tracker_t *t, const eai_det_t *dets, int n)
{
    const eai_tracker_cfg_t *c = &t->cfg;
    const int ed = c->emb_dim;
    const float inf = INFINITY;
    int *rows = t->idx_a, *cols = t->idx_b, *ucols = t->idx_c, nc = 0;
    for (int j = 0; j < n; j++) {
        t->det_has_emb[j] = false;
        if (!t->det_ok[j] || dets[j].score < c->min_score) {
            t->det_used[j] = 1; /* never matched, never starts a track */
            continue;
        }
        if (!dets[j].emb) continue;
        float *e = t->det_emb + (size_t)j * (size_t)ed;
        double ss = 0;
        for (int i = 0; i < ed; i++)
            ss += (double)dets[j].emb[i] * dets[j].emb[i];
        if (!(ss > 0) || !isfinite(ss)) continue;
        float inv = (float)(1.0 / sqrt(ss));
        for (int i = 0; i < ed; i++)
            e[i] = dets[j].emb[i] * inv;
        t->det_has_emb[j] = true;
    }
    for (int i = 0; i < t->n_trk; i++) {
        trk_t *k = &t->trk[i];
        eai__kf_xyah_predict(k);
        k->age++;
        k->tsu++;
    }

    /* matching cascade: confirmed (and lost) tracks, youngest miss first */
    for (int level = 0; level < c->max_age; level++) {
        nc = 0;
        for (int j = 0; j < n; j++)
            if (!t->det_used[j] && t->det_has_emb[j]) cols[nc++] = j;
        if (!nc) break;
        int nr = 0;
        for (int i = 0; i < t->n_trk; i++) {
            const trk_t *k = &t->trk[i];
            if ((k->state == EAI_TRACK_CONFIRMED || k->state == EAI_TRACK_LOST) &&
                k->tsu == 1 + level)
                rows[nr++] = i;
        }
        if (!nr) continue;
        for (int a = 0; a < nr; a++) {
            trk_t *k = &t->trk[rows[a]];
            float *row = t->cost + (size_t)a * (size_t)nc;
            for (int b = 0; b < nc; b++) {
                int j = cols[b];
                row[b] = inf;
                if (!(eai__kf_xyah_gate(k, t->det_box[j]) <= c->gate_chi2)) continue;
                const float *e = t->det_emb + (size_t)j * (size_t)ed;
                float best = inf;
                for (int g = 0; g < k->n_gal; g++) {
                    float d = 1.0f - dot(gal_row(t, k, g), e, ed);
                    if (d < best) best = d;
                }
                if (best <= c->max_cosine) row[b] = best;
            }
        }
        eai__trk_solve(t, nr, nc, c->max_cosine + 1e-5f);
        for (int a = 0; a < nr; a++)
            if (t->row_match[a] >= 0) {
                int j = cols[t->row_match[a]];
                correct(t, &t->trk[rows[a]], &dets[j], j);
            }
    }

    /* IoU stage: tentative tracks and confirmed ones missed only this frame */
    int nr = 0;
    for (int i = 0; i < t->n_trk; i++) {
        const trk_t *k = &t->trk[i];
        if (k->tsu > 0 && (k->state == EAI_TRACK_TENTATIVE || k->tsu == 1)) rows[nr++] = i;
    }
    nc = 0;
    for (int j = 0; j < n; j++)
        if (!t->det_used[j]) ucols[nc++] = j;
    const float thr = c->iou_thresh;
    for (int a = 0; a < nr; a++) {
        eai_box_t tb = eai__trk_xyah_box(&t->trk[rows[a]]);
        float *row = t->cost + (size_t)a * (size_t)nc;
        for (int b = 0; b < nc; b++) {
            float iou = eai_box_iou(tb, t->det_box[ucols[b]]);
            row[b] = iou >= thr ? 1.0f - iou : inf;
        }
    }
    eai__trk_solve(t, nr, nc, 1.0f - thr + 1e-5f);
    for (int a = 0; a < nr; a++)
        if (t->row_match[a] >= 0) {
            int j = ucols[t->row_match[a]];
            correct(t, &t->trk[rows[a]], &dets[j], j);
        }

    /* lifecycle */
    for (int i = 0; i < t->n_trk; i++) {
        trk_t *k = &t->trk[i];
        if (k->tsu == 0) {
            if (k->state == EAI_TRACK_LOST ||
                (k->state == EAI_TRACK_TENTATIVE && k->hits >= c->n_init))
                k->state = EAI_TRACK_CONFIRMED;
        } else if (k->state == EAI_TRACK_TENTATIVE || k->tsu > c->max_age) {
            k->state = EAI_TRACK_REMOVED;
        } else {
            k->state = EAI_TRACK_LOST;
        }
    }
    for (int j = 0; j < n; j++) {
        if (t->det_used[j]) continue;
        trk_t *k = eai__trk_new(t);
        if (!k) break;
        eai__kf_xyah_init(k, t->det_box[j]);
        k->hits = 1;
        k->det = j;
        k->score = dets[j].score;
        k->cls = dets[j].cls;
        k->state = c->n_init <= 1 ? EAI_TRACK_CONFIRMED : EAI_TRACK_TENTATIVE;
        t->det_used[j] = 1;
        gal_push(t, k, j);
    }
}
