/* Multi-object trackers: SORT, ByteTrack and DeepSORT behind one interface.
 *
 *   eai_tracker_cfg_t cfg = {0};                 // zero: the paper defaults below
 *   eai_tracker_t *t;
 *   EAI_TRY(eai_tracker_create(EAI_TRACKER_BYTETRACK, &cfg, &t));
 *   for (int f = 1; f <= n_frames; f++) {
 *       eai_track_t out[256];
 *       int n_out;
 *       EAI_TRY(eai_tracker_update(t, f, dets[f], n_dets[f], out, 256, &n_out));
 *       for (int i = 0; i < n_out; i++)          // confirmed tracks matched this frame
 *           printf("%d id %d det %d\n", f, out[i].id, out[i].det);
 *   }
 *   eai_tracker_destroy(t);
 *
 * Boxes are eai_box_t (x1,y1,x2,y2 in frame pixels, include/edgeai/detect.h).
 * Every tracker keeps a Kalman filter per track with a constant-velocity model
 * in box space (SORT: centre, area, aspect ratio; ByteTrack and DeepSORT:
 * centre, aspect ratio, height, as in their reference code) and associates by
 * an optimal rectangular assignment with a cost ceiling (docs/track.md).
 * All memory is allocated by eai_tracker_create, sized by cfg.max_tracks and
 * cfg.max_dets: eai_tracker_update never allocates.
 */
#ifndef EDGEAI_TRACK_H
#define EDGEAI_TRACK_H

#include <stdbool.h>
#include <stdint.h>

#include "edgeai/detect.h"
#include "edgeai/model.h"
#include "edgeai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum eai_tracker_kind {
    /* Bewley et al. 2016 (abewley/sort): IoU association, Kalman on
     * (cx, cy, area, aspect); a track is output once it has n_init
     * consecutive hits (or during the first n_init frames). */
    EAI_TRACKER_SORT = 0,
    /* Zhang et al. 2022 (ifzhang/ByteTrack): detections split by score;
     * high ones matched first (IoU fused with score), low ones (>=
     * low_thresh) matched to the remaining tracks in a second round; new
     * tracks only from unmatched high detections >= new_track_thresh. */
    EAI_TRACKER_BYTETRACK,
    /* Wojke et al. 2017 (nwojke/deep_sort): cosine distance between the
     * detection's embedding (eai_det_t.emb) and a per-track gallery of
     * the last `budget` embeddings, gated by the Mahalanobis distance of the
     * Kalman prediction; matching cascade by track age, then IoU for
     * tentative and just-missed tracks. */
    EAI_TRACKER_DEEPSORT,
} eai_tracker_kind_t;

/* Track lifecycle. TENTATIVE -> CONFIRMED after n_init hits (a tentative
 * track that misses is removed, as in DeepSORT and ByteTrack; SORT keeps it
 * but does not report it). CONFIRMED -> LOST on a frame without a match;
 * LOST -> CONFIRMED when matched again; LOST -> REMOVED after more than
 * max_age frames without a match. A removed id is never reused. */
typedef enum eai_track_state {
    EAI_TRACK_TENTATIVE = 0,
    EAI_TRACK_CONFIRMED,
    EAI_TRACK_LOST,
    EAI_TRACK_REMOVED,
} eai_track_state_t;

/* Which tracks eai_tracker_update reports. */
typedef enum eai_track_output {
    /* Confirmed tracks matched to a detection this frame (what the
     * reference implementations write to MOT result files). */
    EAI_TRACK_OUT_ACTIVE = 0,
    /* Every live track (tentative, confirmed, lost, with the predicted box
     * for unmatched ones) plus, once, each track removed this frame with
     * state EAI_TRACK_REMOVED (so a caller can release per-id state). */
    EAI_TRACK_OUT_ALL,
} eai_track_output_t;

/* Tracker settings. Plain data; zero-init gives the defaults in brackets,
 * which are those of each paper's reference code ([SORT / ByteTrack /
 * DeepSORT] where they differ). A negative float means "use 0" where 0
 * would otherwise select the default. */
typedef struct eai_tracker_cfg {
    int max_tracks;   /* live tracks kept at most [256]; when full, new ones are dropped */
    int max_dets;     /* detections per update at most [512]; more: EAI_E_INVALID */
    int n_init;       /* hits to confirm [3 / 2 / 3] (ByteTrack: created, then matched once) */
    int max_age;      /* frames without a match before removal [1 / 30 / 30] */
    float iou_thresh; /* minimum IoU of a match [0.3 / 0.2 / 0.3]: SORT, DeepSORT's IoU
                         stage (max_iou_distance 0.7), ByteTrack's first round
                         (match_thresh 0.8 on 1 - IoU*score) */
    float min_score;  /* SORT and DeepSORT ignore detections below this [0] */
    /* ByteTrack */
    float high_thresh;      /* high/low split (track_thresh) [0.5] */
    float low_thresh;       /* low detections below are dropped [0.1] */
    float new_track_thresh; /* unmatched high detections start tracks from here [0.6] */
    float second_iou;       /* minimum IoU in the second round [0.5] */
    bool no_fuse_score;     /* true: first-round cost is 1 - IoU (ByteTrack's MOT20
                               setting); default multiplies the IoU by the score */
    /* DeepSORT */
    int emb_dim;      /* embedding length; required (> 0) for DEEPSORT */
    int budget;       /* gallery size per track (nn_budget) [100] */
    float max_cosine; /* cosine distance above which no match [0.2] */
    float gate_chi2;  /* Mahalanobis gate, chi-square 0.95 with 4 dof [9.4877] */
    eai_track_output_t output;
    eai_allocator_t alloc; /* zero: libc */
} eai_tracker_cfg_t;

/* One reported track. */
typedef struct eai_track {
    int id;        /* >= 1, unique over the tracker's life */
    eai_box_t box; /* Kalman state after this frame's update (prediction if unmatched) */
    float score;   /* score of the last matched detection */
    int cls;       /* class of the last matched detection (-1 unknown) */
    eai_track_state_t state;
    int det;               /* index into this frame's `dets` of the matched detection, or -1 */
    int hits;              /* frames matched so far */
    int age;               /* frames since creation */
    int time_since_update; /* 0 when matched this frame */
} eai_track_t;

typedef struct eai_tracker eai_tracker_t;

/* Creates a tracker. `cfg` may be NULL (defaults); it is copied.
 * Statuses: EAI_E_INVALID (unknown kind, negative or inconsistent settings,
 * DEEPSORT with emb_dim <= 0), EAI_E_NOMEM. */
EAI_API eai_status_t eai_tracker_create(eai_tracker_kind_t kind, const eai_tracker_cfg_t *cfg,
                                        eai_tracker_t **out);

/* Accepts NULL. */
EAI_API void eai_tracker_destroy(eai_tracker_t *t);

/* Advances one frame: predicts every track, associates `dets` (n of them,
 * borrowed for the call, embeddings included), updates, starts and removes
 * tracks, then writes the reported tracks (cfg.output) into out[0..cap),
 * sorted by id, and their count into *n_out. `frame` is the caller's frame
 * number; it must increase by exactly 1 each call (a skipped frame should be
 * passed as an update with n = 0) and is only checked, not used otherwise.
 * Detections with a non-finite box or x2 <= x1 / y2 <= y1 are ignored.
 * DEEPSORT: a detection with emb == NULL (or emb_dim 0) skips the appearance
 * cascade and can only match in the IoU stage (documented fallback); one with
 * emb_dim != cfg.emb_dim is EAI_E_INVALID.
 * Statuses: EAI_E_INVALID (NULL pointers, n < 0 or > max_dets, frame out of
 * order, bad emb_dim), EAI_E_NOMEM never (nothing is allocated). When more
 * than `cap` tracks are to be reported, the first `cap` (by id) are written,
 * *n_out is the full count and the call still returns EAI_OK; the tracker's
 * state is complete either way. On an error the tracker is unchanged.
 * Not thread-safe: one thread per tracker. */
EAI_API eai_status_t eai_tracker_update(eai_tracker_t *t, int frame, const eai_det_t *dets, int n,
                                        eai_track_t *out, int cap, int *n_out);

/* Drops every track and restarts ids at 1 and frames at any number. */
EAI_API void eai_tracker_reset(eai_tracker_t *t);

/* "sort", "bytetrack", "deepsort". */
EAI_API const char *eai_tracker_kind_name(eai_tracker_kind_t kind);
/* Parses the names above (case-sensitive); EAI_E_INVALID otherwise. */
EAI_API eai_status_t eai_tracker_kind_parse(const char *name, eai_tracker_kind_t *out);

/* ---------------------------------------------------------------- building blocks
 * Exposed for tests, benchmarks and callers that assemble their own tracker. */

/* Solves the rectangular assignment problem with a cost ceiling: chooses
 * pairs (i, j) of rows and columns, each used at most once, only where
 * cost[i*cols + j] < limit (NaN and +inf never match), that minimise
 * sum(cost - limit) over chosen pairs, i.e. an optimal partial assignment
 * where leaving a row or column unmatched costs limit/2. Exact: the
 * Hungarian method (shortest augmenting paths with potentials) on each
 * connected component of the gated graph. row_match[i] gets j or -1,
 * col_match[j] gets i or -1 (either may be NULL). `work` must hold
 * eai_assign_work_bytes(rows, cols) bytes (8-byte aligned); borrowed.
 * EAI_E_INVALID for negative sizes or NULL cost with rows*cols > 0. */
EAI_API size_t eai_assign_work_bytes(int rows, int cols);
EAI_API eai_status_t eai_assign(const float *cost, int rows, int cols, float limit, int *row_match,
                                int *col_match, void *work);

#ifdef __cplusplus
}
#endif
#endif
