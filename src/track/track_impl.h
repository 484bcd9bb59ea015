/* Private to src/track: the assignment solver in double precision, the
 * Kalman filter channels and the tracker object shared by sort.c,
 * bytetrack.c and deepsort.c. */
#ifndef EAI_TRACK_IMPL_H
#define EAI_TRACK_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/core_impl.h"
#include "edgeai/track.h"

/* ---- assignment (assign.c) ---- */

/* Bytes of work for eai__assign_d on rows x cols. */
size_t eai__assign_work_bytes(int rows, int cols);
/* Same contract as eai_assign, on doubles (the evaluator needs them: HOTA's
 * scores are products of small ratios). */
void eai__assign_d(const double *cost, int rows, int cols, double limit, int *row_match,
                   int *col_match, void *work);

/* ---- Kalman filter (kalman.c) ----
 * Every filter here has a constant-velocity model with diagonal process
 * and measurement noise, starts from a diagonal covariance, and measures
 * positions only. Then each measured quantity q and its velocity form an
 * independent 2-state filter: the full 8x8 (or 7x7) covariance stays block
 * diagonal with 2x2 blocks [[var(q), cov(q,dq)], [cov(q,dq), var(dq)]]
 * exactly (the off-block terms are sums of products with zeros). So one
 * channel per quantity gives the same numbers as the matrix form of the
 * reference code, at a fraction of the cost. */
typedef struct kf_chan {
    double p, v;    /* position and velocity */
    double a, b, c; /* covariance [[a, b], [b, c]] */
} kf_chan_t;

static inline void kf_init(kf_chan_t *k, double z, double var_p, double var_v)
{
    k->p = z, k->v = 0, k->a = var_p, k->b = 0, k->c = var_v;
}

/* x = F x, P = F P F' + diag(qp, qv), F = [[1, 1], [0, 1]] */
static inline void kf_predict(kf_chan_t *k, double qp, double qv)
{
    k->p += k->v;
    double a = k->a + 2 * k->b + k->c + qp, b = k->b + k->c;
    k->a = a, k->b = b, k->c += qv;
}

/* Measurement z of the position with noise variance r:
 * K = P H' / S, x += K (z - p), P -= K S K'. */
static inline void kf_update(kf_chan_t *k, double z, double r)
{
    double s = k->a + r, y = z - k->p;
    double k1 = k->a / s, k2 = k->b / s;
    k->p += k1 * y, k->v += k2 * y;
    double a = k->a - k1 * k->a, b = k->b - k1 * k->b, c = k->c - k2 * k->b;
    k->a = a, k->b = b, k->c = c;
}

/* ---- tracker ---- */

/* One track. Kalman channels: SORT [cx, cy, area, aspect w/h] (aspect has
 * no velocity: v, b, c stay 0); ByteTrack and DeepSORT [cx, cy, aspect, h]. */
typedef struct trk {
    int id;
    kf_chan_t kf[4];
    eai_track_state_t state;
    int hits;       /* DeepSORT hits / ByteTrack tracklet length / SORT hits */
    int hit_streak; /* SORT: consecutive matches */
    int age;        /* frames since creation */
    int tsu;        /* time since update */
    int start_frame, last_frame;
    int det; /* matched detection this frame, or -1 */
    float score;
    int cls;
    int gal;   /* DeepSORT gallery slot */
    int n_gal; /* embeddings stored in the gallery (<= budget) */
    int gal_head;
    bool dup;           /* ByteTrack: duplicate of another track this frame */
    bool was_confirmed; /* SORT: has been reported once (LOST vs TENTATIVE when missed) */
} trk_t;

struct eai_tracker {
    eai_tracker_kind_t kind;
    eai_tracker_cfg_t cfg;
    int frame, next_id;
    int n_frames; /* updates since create / reset */
    bool started;
    trk_t *trk; /* live tracks in creation (= id) order, [0, n_trk) */
    int n_trk;
    trk_t *removed; /* tracks removed this update (for EAI_TRACK_OUT_ALL) */
    int n_removed;
    /* scratch sized at create */
    float *cost;   /* max_tracks x max_dets */
    double *costd; /* same, double, for the solver */
    void *work;    /* eai__assign_d work */
    int *row_match, *col_match;
    int *idx_a, *idx_b, *idx_c, *idx_d; /* index lists, max(max_tracks, max_dets) each */
    unsigned char *det_used;            /* max_dets */
    eai_box_t *det_box;                 /* sanitised boxes, max_dets */
    bool *det_ok;                       /* box valid */
    /* DeepSORT */
    float *gallery; /* max_tracks slots x budget x emb_dim, unit vectors */
    int *gal_free;  /* free slot stack */
    int n_gal_free;
    float *det_emb; /* max_dets x emb_dim, normalised copies */
    bool *det_has_emb;
};

/* Box <-> Kalman measurement conversions. */
void eai__trk_box_to_xyah(eai_box_t b, double z[4]);
eai_box_t eai__trk_xyah_box(const trk_t *t);
void eai__trk_box_to_xysr(eai_box_t b, double z[4]);
eai_box_t eai__trk_xysr_box(const trk_t *t);

/* Gated optimal assignment of the listed tracks (t->idx rows) to the
 * listed detections: cost already in t->cost (n_rows x n_cols, row-major);
 * writes row_match/col_match. */
void eai__trk_solve(eai_tracker_t *t, int n_rows, int n_cols, float limit);

/* Appends a track (ids in order); returns NULL when max_tracks is full. */
trk_t *eai__trk_new(eai_tracker_t *t);
/* Drops tracks with state REMOVED, keeping order (copies them to
 * t->removed for reporting; returns their gallery slots). */
void eai__trk_compact(eai_tracker_t *t);

/* DeepSORT Kalman (also ByteTrack): xyah with height-scaled noise. */
void eai__kf_xyah_init(trk_t *k, eai_box_t b);
void eai__kf_xyah_predict(trk_t *k);
void eai__kf_xyah_update(trk_t *k, eai_box_t b);
/* Squared Mahalanobis distance of a box from the projected state. */
double eai__kf_xyah_gate(const trk_t *k, eai_box_t b);

/* Per-kind updates (after input checks; t->frame already advanced). */
void eai__sort_update(eai_tracker_t *t, const eai_det_t *dets, int n);
void eai__byte_update(eai_tracker_t *t, const eai_det_t *dets, int n);
void eai__deep_update(eai_tracker_t *t, const eai_det_t *dets, int n);

#endif
