/* Synthetic road scenes with true identities: a fixed pole camera over a
 * signalised 4-way intersection, vehicles (car, bus/truck, motorbike/bike)
 * and pedestrians drawn as shaded boxes with per-identity colours, stripes
 * and proportions, and per-frame ground truth (id, class, pixel box,
 * occlusion-aware visibility). Everything follows from the seed.
 *
 *   eai_scene_config_t cfg = {.seed = 7, .width = 640, .height = 480};
 *   eai_scene_t *s;
 *   EAI_TRY(eai_scene_create(&cfg, &s));
 *   eai_image_t frame = {0};                      // filled by render (allocated once)
 *   eai_scene_truth_t gt[256];
 *   for (int f = 0; f < 100; f++) {
 *       EAI_TRY(eai_scene_step(s));               // advance 1/fps seconds
 *       EAI_TRY(eai_scene_render(s, &frame));     // RGB pixels + truth of this frame
 *       int n;
 *       EAI_TRY(eai_scene_truth(s, gt, 256, &n));
 *   }
 *   eai_image_free(&frame);
 *   eai_scene_destroy(s);
 *
 * External objects (e.g. SUMO vehicles, issue 7/8): create a scene with a
 * negative density (no built-in traffic), convert each vehicle with
 * eai_scene_object_from_sumo and call eai_scene_render_objects per frame.
 *
 * World frame: metres, x east, y north, z up, origin at the junction centre
 * (the crossing point of the two road centre lines). Arms: 0 south, 1 east,
 * 2 north, 3 west (counter-clockwise). Right-hand traffic.
 *
 * Camera model (pinhole, no distortion): position (x, y, z); yaw = the
 * direction of view in the ground plane (degrees CCW from +x); pitch = tilt
 * below the horizon (degrees, > 0 looks down); hfov = horizontal field of
 * view. With forward f = (cos yaw cos pitch, sin yaw cos pitch, -sin pitch),
 * right r = (sin yaw, -cos yaw, 0), up u = r x f and d = P - C:
 *   focal  = (width / 2) / tan(hfov / 2)           (square pixels)
 *   u_px   = width / 2  + focal * (d.r) / (d.f)
 *   v_px   = height / 2 - focal * (d.u) / (d.f)
 * Pixel coordinates are continuous: pixel (i, j) covers [i, i+1) x [j, j+1).
 */
#ifndef EDGEAI_SCENE_H
#define EDGEAI_SCENE_H

#include <stdbool.h>
#include <stdint.h>

#include "edgeai/detect.h"
#include "edgeai/image.h"
#include "edgeai/model.h" /* eai_allocator_t */
#include "edgeai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Object classes. The detector trained on these scenes (models/scene/)
 * uses the same indices; MOTChallenge gt.txt writes class + 1. */
typedef enum eai_scene_class {
    EAI_SCENE_CAR = 0,    /* passenger cars, vans, SUVs */
    EAI_SCENE_TRUCK = 1,  /* buses and trucks */
    EAI_SCENE_BIKE = 2,   /* motorbikes and bicycles, with rider */
    EAI_SCENE_PERSON = 3, /* pedestrians (on the sidewalks) */
    EAI_SCENE_N_CLASSES = 4
} eai_scene_class_t;

/* "car", "truck", "bike", "person"; "?" out of range. Static. */
EAI_API const char *eai_scene_class_name(int cls);

/* ---------------------------------------------------------------- camera */

typedef struct eai_scene_camera {
    float x, y, z;   /* position, metres, world frame (z = height above the road) */
    float yaw_deg;   /* direction of view, degrees CCW from +x (east) */
    float pitch_deg; /* tilt below the horizon, degrees, in (0, 90) */
    float hfov_deg;  /* horizontal field of view, degrees, in (10, 150) */
    int width, height;
} eai_scene_camera_t;

/* The default pole camera for a width x height frame: 10 m up on the
 * south-west corner (-16, -16), looking at the junction centre (yaw 45,
 * pitch 28, hfov 75), so all four approaches and their stop lines are in
 * view, the near ones large, the far ones small. */
EAI_API eai_scene_camera_t eai_scene_camera_default(int width, int height);

/* World point (metres) -> pixel (u, v) and camera depth (metres along the
 * view axis; may be NULL). EAI_E_INVALID if the camera is malformed or the
 * point lies less than 0.05 m in front of the camera (not projectable).
 * Thread-safe. */
EAI_API eai_status_t eai_scene_project(const eai_scene_camera_t *cam, float x, float y, float z,
                                       float *u, float *v, float *depth);

/* Pixel (u, v) -> the world point where its ray meets the horizontal plane
 * at height z (z = 0: the road). EAI_E_INVALID if the camera is malformed or
 * the ray does not hit the plane in front of the camera (e.g. sky pixels).
 * Thread-safe. */
EAI_API eai_status_t eai_scene_unproject(const eai_scene_camera_t *cam, float u, float v, float z,
                                         float *x, float *y);

/* ---------------------------------------------------------------- scene */

typedef struct eai_scene eai_scene_t;

/* Plain data; zero-init gives the defaults in brackets. */
typedef struct eai_scene_config {
    uint64_t seed;     /* everything (traffic, looks, noise) follows from it */
    int width, height; /* frame size [640 x 480]; 64..4096 each */
    float fps;         /* frames per second of eai_scene_step [10]; 1..120 */
    /* Built-in traffic: mean vehicle arrivals per approach per minute is
     * 6 x density [1.0]; values up to 10. Negative: no built-in traffic
     * (only eai_scene_render_objects is useful then). */
    float density;
    int lanes;        /* lanes per direction on every arm [1]; 1..3 */
    float lane_width; /* metres [3.5]; 2.5..5 (SUMO's default is 3.2) */
    float noise;      /* pixel noise, std in 0..255 units [2.5]; negative: none */
    float lighting;   /* relative amplitude of the slow brightness drift [0.12]; negative: none */
    float warmup_s;   /* simulated seconds before the first frame [30]; negative: none */
    float cycle_s;    /* signal cycle (4 split phases, one arm green at a time) [48]; 20..240 */
    bool no_pedestrians;
    bool no_static;                   /* no signal poles / tree (static occluders) */
    int max_objects;                  /* objects per frame, built-in or external [128]; 1..1024 */
    const eai_scene_camera_t *camera; /* copied; NULL: eai_scene_camera_default(width, height) */
    const eai_allocator_t *alloc;     /* NULL: libc */
} eai_scene_config_t;

/* Validates the configuration (every range above: EAI_E_INVALID naming the
 * field and its range), allocates every buffer (background, depth and id
 * buffers, object tables), draws the static background and runs the warm-up.
 * No allocation happens afterwards except the first eai_scene_render into an
 * empty frame. EAI_E_NOMEM. */
EAI_API eai_status_t eai_scene_create(const eai_scene_config_t *cfg, eai_scene_t **out);
/* Accepts NULL. */
EAI_API void eai_scene_destroy(eai_scene_t *s);

/* Advances the built-in traffic by 1/fps seconds: arrivals (Poisson per
 * approach), car following with stops and queues at the stop line under a
 * split-phase signal, turns (straight/left/right), pedestrians on the
 * sidewalks; objects that leave the world are removed. EAI_E_STATE when
 * created with a negative density. Allocates nothing. */
EAI_API eai_status_t eai_scene_step(eai_scene_t *s);

/* Draws the built-in objects at the current time into `frame` (caller's
 * image: allocated with eai_image_alloc on the first call or when its size
 * differs from the scene's, reused afterwards; free it with eai_image_free)
 * and records this frame's ground truth. The frame index used for noise and
 * lighting is the number of eai_scene_step calls. EAI_E_INVALID (NULL
 * arguments), EAI_E_NOMEM (first allocation). */
EAI_API eai_status_t eai_scene_render(eai_scene_t *s, eai_image_t *frame);

/* One object to draw in external mode. Plain data. */
typedef struct eai_scene_object {
    int id;                /* >= 0; reported back in the truth */
    eai_scene_class_t cls; /* shape family */
    float x, y;            /* centre of the footprint, metres, world frame */
    float heading;         /* direction of travel, radians CCW from +x (east) */
    float length, width;   /* footprint, metres; <= 0: a size drawn from `look` */
    float height;          /* metres; <= 0: from `look` */
    /* Appearance seed: colour, stripes, cabin proportions derive from it, so
     * the same look gives the same appearance in every frame. */
    uint32_t look;
    uint32_t rgb; /* body colour 0xRRGGBB when use_rgb, else from look */
    bool use_rgb;
} eai_scene_object_t;

/* Draws `objs[0..n)` (borrowed for the call) over the scene's background
 * with the scene's camera, lighting and noise of frame `frame_index` (>= 0),
 * into `frame` as eai_scene_render does, and records the truth (ids are the
 * objects' ids; `approach` is -1). Objects entirely outside the view are
 * skipped. EAI_E_INVALID (n < 0 or > max_objects, negative id, class out of
 * range, non-finite numbers), EAI_E_NOMEM (first allocation). */
EAI_API eai_status_t eai_scene_render_objects(eai_scene_t *s, const eai_scene_object_t *objs, int n,
                                              int64_t frame_index, eai_image_t *frame);

/* Ground truth of one object in the last rendered frame. */
typedef struct eai_scene_truth {
    int id;  /* built-in: 1, 2, ... in order of appearance; external: the object's id */
    int cls; /* eai_scene_class_t */
    /* Tight pixel box of the whole object as if unoccluded (every pixel its
     * faces cover), clipped to the frame. Occluded parts are included, as in
     * MOTChallenge ground truth. */
    eai_box_t box;
    /* Unoccluded pixels / pixels the object covers in the frame when drawn
     * alone, in [0, 1]. Static occluders (poles, tree) count as occluders. */
    float visibility;
    int n_pixels;  /* pixels covered when drawn alone (in the frame) */
    float x, y;    /* footprint centre, metres, world frame */
    float heading; /* radians CCW from +x */
    float speed;   /* m/s (external: 0) */
    int approach;  /* arm it came from (0 S, 1 E, 2 N, 3 W); -1: pedestrian / external */
    int exit_arm;  /* arm it leaves by; -1 as above */
    bool crossed;  /* has passed its stop line (counting ground truth) */
} eai_scene_truth_t;

/* Truth of every object with at least one pixel in the last rendered frame,
 * in drawing-table order, at most `cap` into `out` (*n of them; *n is the
 * full count even when larger than cap). EAI_E_STATE before the first
 * render, EAI_E_INVALID (NULL arguments). */
EAI_API eai_status_t eai_scene_truth(const eai_scene_t *s, eai_scene_truth_t *out, int cap, int *n);

/* The scene's camera (copied out). */
EAI_API eai_scene_camera_t eai_scene_get_camera(const eai_scene_t *s);
/* Number of eai_scene_step calls so far, and the simulated time (seconds,
 * warm-up excluded). */
EAI_API int64_t eai_scene_frame_index(const eai_scene_t *s);
EAI_API double eai_scene_time(const eai_scene_t *s);
/* The arm whose signal is green now (0..3), or -1 during yellow/all-red. */
EAI_API int eai_scene_green_arm(const eai_scene_t *s);
/* Vehicles that have crossed the stop line of each arm since creation
 * (warm-up excluded): the built-in counting ground truth. counts[4]. */
EAI_API void eai_scene_crossings(const eai_scene_t *s, int64_t counts[4]);

/* ---------------------------------------------------------------- SUMO */

/* SUMO vClass -> class: "truck", "bus", "coach", "trailer" -> TRUCK;
 * "motorcycle", "moped", "bicycle" -> BIKE; "pedestrian" -> PERSON;
 * anything else ("passenger", "delivery" vans, NULL) -> CAR. */
EAI_API eai_scene_class_t eai_scene_class_from_sumo(const char *vclass);

/* Converts a SUMO vehicle into a scene object, for a junction whose centre
 * is (jx, jy) in SUMO network coordinates (metres, x east, y north, as
 * TraCI's junction position returns): the world frame is SUMO's shifted by
 * (-jx, -jy). SUMO's position (TraCI VAR_POSITION) is the front bumper
 * centre and its angle (VAR_ANGLE) is degrees clockwise from north; the
 * object gets the footprint centre (front minus length/2 along the heading)
 * and heading = radians(90 - angle). `look` is derived from `id` and
 * `look_seed`. The painted road matches SUMO's geometry when the scene's
 * lanes and lane_width are the network's (netgenerate: --default.lanes,
 * --default.lanewidth). */
EAI_API eai_scene_object_t eai_scene_object_from_sumo(int id, eai_scene_class_t cls, double sumo_x,
                                                      double sumo_y, double angle_deg,
                                                      double length, double width, double jx,
                                                      double jy, uint32_t look_seed);

#ifdef __cplusplus
}
#endif
#endif
