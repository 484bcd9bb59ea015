/* Private to src/scene: the scene object, its traffic agents and the
 * z-buffered box rasteriser. One idea: every object is a few shaded boxes
 * (plus flat decals on their faces) drawn through one depth buffer and one id
 * buffer, so occlusion and ground truth come from the same pixels. */
#ifndef EAI_SCENE_IMPL_H
#define EAI_SCENE_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "edgeai/scene.h"

#define SCN_MAX_PARTS  5
#define SCN_MAX_DECALS 10
#define SCN_ROUTE_PTS  40
#define SCN_ID_NONE    0xFFFFu /* background pixel in the id buffer */
#define SCN_ID_STATIC  0xFFFEu /* pole, signal head, tree */
#define SCN_ID_SHADOW  0xFFFDu /* background already darkened by a shadow */
#define SCN_WORLD_LEN  120.0f  /* arms end (spawn / exit) this far from the centre */
#define SCN_PED_LEN    45.0f

/* splitmix64: tiny, seedable, good enough for looks and noise */
static inline uint64_t scn_next(uint64_t *st)
{
    uint64_t z = (*st += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static inline float scn_unif(uint64_t *st)
{
    return (float)(scn_next(st) >> 40) * (1.0f / 16777216.0f);
}
static inline float scn_range(uint64_t *st, float lo, float hi)
{
    return lo + (hi - lo) * scn_unif(st);
}

/* The camera with its derived axes (world frame). */
typedef struct scn_cam {
    eai_scene_camera_t c;
    float f[3], r[3], u[3]; /* forward, right, up */
    float focal, cx, cy;
} scn_cam_t;

eai_status_t eai__scene_cam_init(scn_cam_t *k, const eai_scene_camera_t *c);
/* World point -> camera coordinates (x right, y up, z forward). */
static inline void scn_to_cam(const scn_cam_t *k, const float p[3], float out[3])
{
    float d[3] = {p[0] - k->c.x, p[1] - k->c.y, p[2] - k->c.z};
    out[0] = d[0] * k->r[0] + d[1] * k->r[1] + d[2] * k->r[2];
    out[1] = d[0] * k->u[0] + d[1] * k->u[1] + d[2] * k->u[2];
    out[2] = d[0] * k->f[0] + d[1] * k->f[1] + d[2] * k->f[2];
}

/* One box of an object, in the object's frame: x forward, y left, z up. */
typedef struct scn_part {
    float x0, x1, y0, y1, z0, z1;
    uint8_t rgb[3];
} scn_part_t;

/* A flat rectangle on one face of a part. Faces: 0 front (+x), 1 back (-x),
 * 2 left (+y), 3 right (-y), 4 top. (a0, a1) runs along the face's
 * horizontal axis in object metres (x for sides, y for front/back), (b0, b1)
 * is the height range, for the top face (a: x, b: y). */
typedef struct scn_decal {
    uint8_t part, face;
    float a0, a1, b0, b1;
    uint8_t rgb[3];
} scn_decal_t;

typedef struct scn_shape {
    int n_parts, n_decals;
    scn_part_t part[SCN_MAX_PARTS];
    scn_decal_t decal[SCN_MAX_DECALS];
} scn_shape_t;

/* One thing to draw this frame (from an agent or an external object). */
typedef struct scn_item {
    int id, cls;
    float x, y, heading, len, wid, hgt, speed;
    uint32_t look, rgb;
    bool use_rgb, crossed;
    int approach, exit_arm;
} scn_item_t;

/* Sizes drawn from the look (used when the caller gives none). */
void eai__scene_default_size(int cls, uint32_t look, float *len, float *wid, float *hgt);
/* Builds the boxes and decals of an item (sizes already resolved). */
void eai__scene_shape(const scn_item_t *it, scn_shape_t *sh);

/* A drivable (or walkable) path: a polyline with cumulative length. */
typedef struct scn_route {
    int n;
    float px[SCN_ROUTE_PTS], py[SCN_ROUTE_PTS], cs[SCN_ROUTE_PTS];
    float len, stop_s;             /* stop line position along the route; < 0: none */
    int arm, exit_arm, lane, move; /* move: 0 straight, 1 right, 2 left, 3 walk */
} scn_route_t;

/* A simulated road user. */
typedef struct scn_agent {
    bool active, crossed, is_ped;
    int id, cls, route;
    float s, v, v0, lat; /* lat: sideways offset (pedestrians) */
    float len, wid, hgt;
    uint32_t look;
    float x, y, heading;
} scn_agent_t;

/* Per drawn slot: coverage bookkeeping of the last frame. */
typedef struct scn_cov {
    uint32_t stamp;
    int n_pix, n_vis;
    int x0, y0, x1, y1;
} scn_cov_t;

struct eai_scene {
    eai_scene_config_t cfg;
    eai_allocator_t alloc;
    bool has_alloc;
    scn_cam_t cam;
    int w, h;
    float road_half, stop_d; /* half road width; stop line distance from the centre */
    uint8_t *bg;             /* w*h*3 static background */
    float *zbuf;             /* w*h inverse depth (0: infinitely far) */
    uint16_t *idbuf;         /* w*h slot of the front-most object */
    uint32_t *stamp;         /* w*h last slot stamp (coverage counting) */
    uint32_t stamp_ctr;
    uint8_t *img; /* the frame being drawn (borrowed during a render) */
    /* traffic */
    uint64_t rng;
    int n_routes;
    scn_route_t *routes;
    scn_agent_t *agents;
    int next_id;
    int pending[4];
    double t;      /* simulated seconds since the first frame */
    double sim_t;  /* including warm-up (drives the signal) */
    int64_t frame; /* eai_scene_step calls */
    int64_t crossings[4];
    bool warm; /* warm-up done: crossings count from now */
    /* the drawn frame */
    scn_item_t *items;
    scn_cov_t *cov;
    int n_items;
    bool rendered;
};

/* Routes for the configured lanes (vehicles then pedestrians). */
eai_status_t eai__scene_routes_build(eai_scene_t *s);
/* Position and heading at arc length `sd` along route r. */
void eai__scene_route_at(const scn_route_t *r, float sd, float *x, float *y, float *heading);
/* Traffic step of dt seconds. */
void eai__scene_sim_step(eai_scene_t *s, float dt);
/* Signal at time t: the green arm or -1; *yellow_arm (may be NULL) gets the
 * arm showing yellow or -1. */
int eai__scene_green(const eai_scene_t *s, double t, int *yellow_arm);

/* Rasteriser. Clears the depth/id buffers, then draws boxes. `slot` indexes
 * s->cov, or SCN_ID_STATIC (no coverage counting). */
void eai__scene_raster_begin(eai_scene_t *s);
void eai__scene_draw_shape(eai_scene_t *s, const scn_shape_t *sh, float x, float y, float heading,
                           uint16_t slot);
void eai__scene_draw_shadow(eai_scene_t *s, uint8_t *img, const scn_item_t *it);
/* Background (sky, road, markings), drawn once at create. */
void eai__scene_background(eai_scene_t *s);
/* Poles, signal heads (showing the current lights) and a tree. */
void eai__scene_draw_static(eai_scene_t *s, double t);

#endif
