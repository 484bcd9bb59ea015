/* Private to the camera path (trafcam*.c): the trafcam, its per-light
 * cameras and the table of SUMO vehicles near them. */
#ifndef EAI_TRAFCAM_IMPL_H
#define EAI_TRAFCAM_IMPL_H

#include "edgeai/trafcam.h"
#include "edgeai/vision.h"

#define TC_HIST_BINS 1024 /* latency histogram: 1 us .. ~600 s in 2% steps */
#define TC_MAX_DETS  256
#define TC_VCAP      4096 /* vehicles near the cameras at once (hash table: 2x slots) */

typedef struct tc_hist {
    long bins[TC_HIST_BINS];
    long n;
    double sum_ms;
} tc_hist_t;

void eai__tc_hist_add(tc_hist_t *h, double ms);
eai_trafcam_latency_t eai__tc_hist_get(const tc_hist_t *h);

/* A SUMO vehicle near some camera: positions of the last two steps. */
typedef struct tc_veh {
    char id[EAI_TL_ID_MAX];
    uint64_t h;                    /* 0: empty slot */
    int num;                       /* scene object id, 1.. */
    float len, wid;                /* metres */
    int cls;                       /* eai_scene_class_t */
    bool have_static;              /* len, wid, cls read */
    double px, py, pa, cx, cy, ca; /* previous / current front position and angle */
    long prev_step, cur_step, ang_step;
} tc_veh_t;

/* One pole camera of a light, counting the approaches it sees best. */
typedef struct tc_view {
    eai_scene_t *scene;
    eai_scene_camera_t camera;
    eai_tracker_t *trk;
    eai_trafcam_counter_t *cnt, *tcnt; /* camera tracks / true positions */
    int n_lanes;
    int *lane_map;                    /* counter lane -> model in-lane */
    eai_trafcam_lane_t *lanes;        /* counter lanes */
    int *arr, *dep, *q, *tarr, *tdep; /* per counter lane, one frame */
    eai_det_t *dets;
    eai_track_t *tracks;
    int *tid, *tlane, *truth_id;
    float *tx, *ty, *truth_x, *truth_y;
    eai_scene_truth_t *truth;
    eai_image_t frame;
    int64_t frame_index;
    int trk_frame;
} tc_view_t;

#define TC_MAX_VIEWS 2

/* The cameras of one controlled light. */
typedef struct tc_cam {
    char tls[EAI_TL_ID_MAX];
    int n_in, n_ap;
    double jx, jy; /* junction centre, net coordinates */
    double last_t;
    eai_trafcam_lane_t *lanes; /* per in-lane, world frame */
    int *lane_view;            /* per in-lane: the view counting it */
    /* per approach */
    char (*edge)[EAI_TL_ID_MAX];
    int *arm;
    long *cam_dep, *det_dep, *cam_arr, *det_arr, *truth_dep;
    double *cam_q, *det_q;
    /* per in-lane, summed over a step's frames (q: the last frame's) */
    int *arr, *dep, *q, *tarr, *tdep;
    /* vehicles drawn this step */
    int *vidx;
    float *vdist;
    eai_scene_object_t *objs;
    tc_view_t views[TC_MAX_VIEWS];
    int n_views;
    long n_steps;
} tc_cam_t;

struct eai_trafcam {
    eai_trafcam_opts_t o;
    eai_allocator_t a;
    char *det_path;
    eai_tracker_kind_t tkind;
    eai_detector_t *det;
    eai_trafcam_frame_fn cb;
    void *cb_user;
    tc_cam_t **cams;
    int n_cams;
    /* vehicle table (open addressing, 2 x TC_VCAP slots, rebuilt through
     * `spare` when tombstones pile up) */
    tc_veh_t *veh, *spare;
    int n_veh_used, next_num;
    long step;      /* fetches so far */
    double fetch_t; /* sim time of the last fetch */
    char *ids;      /* copied vehicle ids of one step */
    size_t ids_cap;
    long steps, frames, truth_boxes;
    tc_hist_t h_read, h_render, h_detect, h_track, h_count;
};

/* Builds a light's camera from TraCI (lane shapes and widths, junction
 * position) and allocates all its buffers. */
eai_status_t eai__tc_cam_create(eai_trafcam_t *tc, eai_traci_t *t, const eai_tl_model_t *m,
                                tc_cam_t **out);
void eai__tc_cam_destroy(eai_trafcam_t *tc, tc_cam_t *c);

/* Reads every vehicle's position once for this sim time (positions beyond
 * every camera's radius are not kept). */
eai_status_t eai__tc_fetch(eai_trafcam_t *tc, eai_traci_t *t, double t_s);
/* Vehicles of the current step within the camera's radius, nearest first,
 * at most max_vehicles, into c->vidx; reads angles and static data as
 * needed. */
eai_status_t eai__tc_gather(eai_trafcam_t *tc, eai_traci_t *t, tc_cam_t *c, int *n);

#endif
