/* The edge camera path of a signalised junction (issue 7, reused by
 * `edgeai demo`): SUMO's vehicles are rendered as a pole camera would see
 * them (edgeai/scene.h), a vehicle detector (edgeai/vision.h) and a tracker
 * (edgeai/track.h) run on every frame, and tracked boxes are counted per
 * approach lane: arrivals into the approach zone in view, departures over the
 * stop line, and the queue (slow tracks in the zone). The counts can replace
 * the SUMO-detector counts the signal controller sees, or only be measured
 * against them.
 *
 *   eai_trafcam_opts_t co = {.detector_path = "models/scene/scene_det.onnx",
 *                            .control = true};
 *   eai_trafcam_t *cam;
 *   EAI_TRY(eai_trafcam_create(&co, &cam));
 *   eai_traffic_run_opts_t ro = {.scenario = "x.sumocfg",
 *                                .controller = EAI_TRAFFIC_MAXPRESSURE,
 *                                .count_hook = eai_trafcam_hook, .count_user = cam};
 *   eai_traffic_report_t *rep;
 *   EAI_TRY(eai_traffic_run(&ro, &rep));
 *   eai_trafcam_stats_t st;
 *   eai_trafcam_approach_stats_t ap[64];
 *   int n_ap;
 *   EAI_TRY(eai_trafcam_stats(cam, &st, ap, 64, &n_ap));
 *   eai_traffic_report_destroy(rep);
 *   eai_trafcam_destroy(cam);
 *
 * Cameras: created lazily on the first hook call for a light (scenes,
 * trackers and buffers are allocated then; nothing is allocated per step or
 * frame afterwards). They look at the junction whose id is the light's id
 * (TraCI junction position; if the light has no such junction, the centre of
 * its lanes' stop lines). A pole on one corner sees the two far approaches
 * whole but only the first metres of the two near ones, so by default a light
 * has two poles ("views"): the scene's default pose (scene.h: south-west
 * corner looking at the centre) and its mirror on the north-east corner,
 * both moved out and up by the factor (16 m + road half width - 3.5 m) / 16 m
 * (same view angles over a wider road). Each approach is counted by the
 * view that sees most of its zone (the other view ignores it).
 *
 * Frames: a SUMO step of dt seconds yields round(fps * dt) frames (fps 5 and
 * the 1 s steps of scripts/make_scenarios.sh: 5 frames per step). Frame k of
 * the step (k = 1..n) shows every vehicle within `radius_m` of the junction
 * at the position linearly interpolated between the previous and the current
 * SUMO step (heading along the shorter arc); a vehicle new this step is drawn
 * at its current position. Appearance: scene.h's external objects with
 * SUMO's length and width, the class from the vehicle class
 * (eai_scene_class_from_sumo) and a look (colour, decals) derived from the
 * vehicle's id and the seed, so a vehicle looks the same in every frame.
 *
 * Counting geometry (per in-lane of the light, from SUMO's lane shape): the
 * stop point P (the shape's last point), the travel direction u of its last
 * segment and the lane width w. A ground point G lies in lane l's approach
 * zone when along = (P - G).u is in [0, zone_m] and |lateral| <= w/2. A
 * track's ground point is the image point at the box's horizontal centre,
 * `ground_frac` of the box height above its bottom edge, unprojected onto the
 * road (eai_scene_unproject): seen from above at an angle, a vehicle's
 * footprint centre lies inside the box, not at its bottom edge, which is the
 * nearest corner (0.3 put 93% of tracked boxes in their true lane on the
 * asymmetric scenario; the bottom edge itself, 45%).
 *  - arrival: the first frame a track id is in some lane's zone (on that
 *    lane), unless a track lost within the last 2 s lay within 6 m of it in
 *    the same approach (a broken track is not a new vehicle);
 *  - departure: a track last in lane l's zone is seen past the stop line
 *    (along < 0, within the junction), or vanishes while within `near_m` of
 *    the stop line; at most once per track id;
 *  - queue: tracks in lane l's zone whose smoothed ground speed is below
 *    `halt_mps`.
 * Counts of a step are the sums over its frames. The same geometry applied
 * to the true footprint centres of the rendered vehicles gives the
 * "truth crossings" of eai_trafcam_stats (what a perfect detector and
 * tracker would count from this camera).
 *
 * Threads: a trafcam is single-threaded; different trafcams may run in
 * different threads at the same time (each has its own detector session,
 * scenes and trackers; no globals).
 */
#ifndef EDGEAI_TRAFCAM_H
#define EDGEAI_TRAFCAM_H

#include <stdbool.h>
#include <stdint.h>

#include "edgeai/detect.h"
#include "edgeai/image.h"
#include "edgeai/model.h"
#include "edgeai/scene.h"
#include "edgeai/status.h"
#include "edgeai/track.h"
#include "edgeai/traffic.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eai_trafcam eai_trafcam_t;

/* Options; plain data, zero-init means the defaults in brackets. */
typedef struct eai_trafcam_opts {
    const char *detector_path; /* vehicle detector (required; e.g.
                                  "models/scene/scene_det.onnx"); copied */
    const char *backend;       /* detector session backend; NULL: best */
    int threads;               /* detector threads [1: the caller's thread] */
    float conf;                /* detector confidence kept [0.3] */
    float fps;                 /* frames per simulated second [5]; 0.5..30 */
    int width, height;         /* frame size [640 x 480] */
    const char *tracker;       /* "sort", "bytetrack", "deepsort" (IoU only) [bytetrack] */
    uint64_t seed;             /* vehicle looks, pixel noise */
    /* true: the hook overwrites the controller's arrivals, departures and
     * queue with the camera's; false: it only measures (arrays untouched). */
    bool control;
    float zone_m;          /* approach zone length upstream of the stop line [40] */
    float near_m;          /* a track vanishing this close to the stop line departed [8] */
    float halt_mps;        /* queue: slower than this [1.5] */
    float ground_shift_m;  /* further push of the ground point away from the camera [0] */
    float radius_m;        /* vehicles drawn: within this of the junction centre [90] */
    int max_vehicles;      /* drawn per frame at most [256]; nearest first */
    eai_allocator_t alloc; /* zero: libc */
    float ground_frac;     /* ground point height in the box, from the bottom [0.3]; < 0: 0 */
    int views;             /* poles per light [2]: 1 = the south-west pole only */
} eai_trafcam_opts_t;

/* Validates the options (EAI_E_INVALID naming the field: fps, sizes, zone,
 * unknown tracker), loads the detector (its statuses: EAI_E_IO,
 * EAI_E_FORMAT, EAI_E_UNSUPPORTED), EAI_E_NOMEM. `o` copied. Free with
 * eai_trafcam_destroy. */
EAI_API eai_status_t eai_trafcam_create(const eai_trafcam_opts_t *o, eai_trafcam_t **out);

/* Accepts NULL. */
EAI_API void eai_trafcam_destroy(eai_trafcam_t *cam);

/* eai_traffic_count_fn: pass as eai_traffic_run_opts_t.count_hook with the
 * trafcam as count_user. Reads the vehicles near the light's junction through
 * `t` (positions and angles every step; length, width and class once per
 * vehicle), renders, detects, tracks and counts the step's frames, records
 * the detector counts it was given (arrivals, departures, queue: m->n_in
 * entries each) and, when opts.control, overwrites them with the camera's.
 * The first call for a light creates its camera (SUMO lane shapes and widths,
 * junction position). A step that repeats or goes back in time (t_s not after
 * the last one) is EAI_E_INVALID. Statuses: TraCI's, the detector's,
 * EAI_E_NOMEM (first call per light), the frame callback's. */
EAI_API eai_status_t eai_trafcam_hook(void *cam, eai_traci_t *t, const eai_tl_model_t *m,
                                      const eai_tl_controller_t *c, double t_s, int *arrivals,
                                      int *departures, double *queue);

/* What the frame callback sees; every pointer is borrowed and valid only
 * during the callback. */
typedef struct eai_trafcam_frame {
    const char *tls_id;
    int view;            /* which pole of the light (0, 1) */
    int64_t frame_index; /* per view, from 1 */
    double t_s;          /* simulated time of this frame (interpolated) */
    const eai_image_t *image;
    const eai_scene_camera_t *camera;
    const eai_det_t *dets; /* the detector's output, frame pixels */
    int n_dets;
    const eai_track_t *tracks; /* confirmed tracks matched this frame */
    int n_tracks;
    /* per track: index into the light's model->in of the lane whose zone it
     * is in, or -1 (outside every zone) */
    const int *track_lane;
    const eai_scene_truth_t *truth; /* rendered vehicles (truth ids = vehicle numbers) */
    int n_truth;
} eai_trafcam_frame_t;

/* Return non-EAI_OK (after eai_fail) to stop: the hook returns it. */
typedef eai_status_t (*eai_trafcam_frame_fn)(void *user, const eai_trafcam_frame_t *f);

/* Called for every frame after counting (NULL: none). `user` must outlive
 * the calls. */
EAI_API void eai_trafcam_set_frame_cb(eai_trafcam_t *cam, eai_trafcam_frame_fn fn, void *user);

/* Per approach (one SUMO incoming edge of one light). */
typedef struct eai_trafcam_approach_stats {
    char tls[EAI_TL_ID_MAX], edge[EAI_TL_ID_MAX];
    int arm;                               /* scene arm: 0 S, 1 E, 2 N, 3 W (from the geometry) */
    long cam_departures, det_departures;   /* stop-line passages: camera / SUMO detectors */
    long cam_arrivals, det_arrivals;       /* passages into the zone (camera's zone is shorter) */
    long truth_departures;                 /* the geometry on true positions of rendered vehicles */
    double rel_error;                      /* (cam - det) / det departures; 0 when det is 0 */
    double cam_queue_mean, det_queue_mean; /* mean halting vehicles per step */
} eai_trafcam_approach_stats_t;

/* Wall time of one stage per frame (count: per step), milliseconds. */
typedef struct eai_trafcam_latency {
    double p50_ms, p99_ms, mean_ms;
    long n;
} eai_trafcam_latency_t;

typedef struct eai_trafcam_stats {
    int n_cameras;                /* lights with cameras */
    long steps, frames;           /* frames: rendered and detected, over all views */
    long truth_boxes;             /* rendered vehicles summed over frames */
    eai_trafcam_latency_t read;   /* TraCI vehicle reads, per step and camera */
    eai_trafcam_latency_t render; /* per frame */
    eai_trafcam_latency_t detect; /* per frame */
    eai_trafcam_latency_t track;  /* per frame */
    eai_trafcam_latency_t count;  /* per frame */
    double total_rel_error;       /* sum |cam - det| / sum det over approaches (departures) */
    int n_views;                  /* poles over all lights */
} eai_trafcam_stats_t;

/* Totals so far. Approaches (light order of first hook call, then model
 * approach order) go to ap[0..cap) (ap may be NULL with cap 0); *n_ap (may be
 * NULL) gets the full count. Percentiles come from a log-spaced histogram
 * (2% bins). EAI_E_INVALID (NULL cam or st). */
EAI_API eai_status_t eai_trafcam_stats(const eai_trafcam_t *cam, eai_trafcam_stats_t *st,
                                       eai_trafcam_approach_stats_t *ap, int cap, int *n_ap);

/* ---- building blocks (exposed for tests and other camera sources) ------ */

/* One incoming lane's counting geometry, world metres (the camera's frame:
 * SUMO coordinates minus the junction centre). */
typedef struct eai_trafcam_lane {
    float px, py;  /* stop point (end of the lane shape) */
    float ux, uy;  /* unit travel direction at the stop line */
    float width_m; /* lane width */
    int approach;  /* model approach index */
} eai_trafcam_lane_t;

/* Counter over lanes from ground points of tracked ids; the counting rules
 * above. Allocation at create only. */
typedef struct eai_trafcam_counter eai_trafcam_counter_t;

typedef struct eai_trafcam_counter_opts {
    float zone_m, near_m, halt_mps; /* as eai_trafcam_opts_t [40, 8, 1.5] */
    float fps;                      /* frames per second [5] (speeds, 2 s broken-track window) */
    int max_ids;                    /* live ids kept [512] */
    eai_allocator_t alloc;
} eai_trafcam_counter_opts_t;

/* `lanes` (n_lanes, copied; at least 1, widths > 0, unit directions).
 * EAI_E_INVALID, EAI_E_NOMEM. */
EAI_API eai_status_t eai_trafcam_counter_create(const eai_trafcam_lane_t *lanes, int n_lanes,
                                                const eai_trafcam_counter_opts_t *o,
                                                eai_trafcam_counter_t **out);
EAI_API void eai_trafcam_counter_destroy(eai_trafcam_counter_t *c);

/* Lane whose zone holds (x, y), or -1; *along (may be NULL) gets the
 * distance upstream of that lane's stop line. Pure geometry. */
EAI_API int eai_trafcam_counter_lane(const eai_trafcam_counter_t *c, float x, float y,
                                     float *along);

/* One frame: ids[i] (> 0, unique) seen at ground points (x[i], y[i]).
 * Increments arr/dep (n_lanes entries each; not cleared) and writes the
 * frame's queue per lane (halting tracks) into queue (may be NULL) and each
 * id's lane into lane_of (may be NULL; -1 outside). Ids absent from a frame
 * are lost (the vanishing rule applies). EAI_E_INVALID (n < 0, NULL arrays
 * with n > 0). More than max_ids live ids: the extra are ignored. */
EAI_API eai_status_t eai_trafcam_counter_frame(eai_trafcam_counter_t *c, const int *ids,
                                               const float *x, const float *y, int n, int *arr,
                                               int *dep, int *queue, int *lane_of);

#ifdef __cplusplus
}
#endif
#endif
