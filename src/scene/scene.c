/* The scene object: configuration checks, buffers allocated once, the
 * per-frame render (background copy, shadows, static occluders, objects,
 * then one pass that counts visible pixels and applies lighting and noise)
 * and the ground truth read back from the same buffers. */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "core/core_impl.h"
#include "scene_impl.h"

#define MAX_ROUTES (4 * 3 * 3 + 16)

static eai_status_t check_range(const char *name, double v, double lo, double hi)
{
    if (!(v >= lo && v <= hi))
        return eai_fail(EAI_E_INVALID, "eai_scene_create: %s = %g is outside %g..%g", name, v, lo,
                        hi);
    return EAI_OK;
}

static eai_status_t resolve_config(const eai_scene_config_t *in, eai_scene_config_t *c)
{
    *c = *in;
    if (!c->width) c->width = 640;
    if (!c->height) c->height = 480;
    EAI_TRY(check_range("width", c->width, 64, 4096));
    EAI_TRY(check_range("height", c->height, 64, 4096));
    if (c->fps == 0) c->fps = 10;
    EAI_TRY(check_range("fps", c->fps, 1, 120));
    if (isnan(c->density)) return eai_fail(EAI_E_INVALID, "eai_scene_create: density is NaN");
    if (c->density == 0) c->density = 1;
    if (c->density > 0) EAI_TRY(check_range("density", c->density, 0.01, 10));
    if (!c->lanes) c->lanes = 1;
    EAI_TRY(check_range("lanes", c->lanes, 1, 3));
    if (c->lane_width == 0) c->lane_width = 3.5f;
    EAI_TRY(check_range("lane_width", c->lane_width, 2.5, 5));
    if (c->noise == 0) c->noise = 2.5f;
    if (c->noise < 0) c->noise = 0;
    EAI_TRY(check_range("noise", c->noise, 0, 50));
    if (c->lighting == 0) c->lighting = 0.12f;
    if (c->lighting < 0) c->lighting = 0;
    EAI_TRY(check_range("lighting", c->lighting, 0, 0.5));
    if (c->warmup_s == 0) c->warmup_s = 30;
    if (c->warmup_s < 0) c->warmup_s = 0;
    EAI_TRY(check_range("warmup_s", c->warmup_s, 0, 3600));
    if (c->cycle_s == 0) c->cycle_s = 48;
    EAI_TRY(check_range("cycle_s", c->cycle_s, 20, 240));
    if (!c->max_objects) c->max_objects = 128;
    EAI_TRY(check_range("max_objects", c->max_objects, 1, 1024));
    return EAI_OK;
}

eai_status_t eai_scene_create(const eai_scene_config_t *cfg, eai_scene_t **out)
{
    if (!cfg || !out) return eai_fail(EAI_E_INVALID, "eai_scene_create: NULL argument");
    eai_scene_config_t c;
    EAI_TRY(resolve_config(cfg, &c));
    eai_scene_camera_t cam = c.camera ? *c.camera : eai_scene_camera_default(c.width, c.height);
    if (!cam.width && !cam.height) cam.width = c.width, cam.height = c.height;
    if (cam.width != c.width || cam.height != c.height)
        return eai_fail(EAI_E_INVALID, "eai_scene_create: camera size %dx%d differs from %dx%d",
                        cam.width, cam.height, c.width, c.height);
    scn_cam_t k;
    EAI_TRY(eai__scene_cam_init(&k, &cam));
    eai_scene_t *s = eai__calloc(cfg->alloc, 1, sizeof *s);
    if (!s) return eai_fail(EAI_E_NOMEM, "eai_scene_create: out of memory");
    if (cfg->alloc) s->alloc = *cfg->alloc;
    c.camera = NULL; /* copied into s->cam; the caller's pointer need not outlive */
    c.alloc = NULL;
    s->cfg = c;
    s->cam = k;
    s->w = c.width;
    s->h = c.height;
    s->road_half = (float)c.lanes * c.lane_width;
    s->stop_d = s->road_half + 4.0f;
    size_t npx = (size_t)s->w * (size_t)s->h, m = (size_t)c.max_objects;
    const eai_allocator_t *A = &s->alloc;
    s->bg = eai__alloc(A, npx * 3);
    s->zbuf = eai__alloc(A, npx * sizeof *s->zbuf);
    s->idbuf = eai__alloc(A, npx * sizeof *s->idbuf);
    s->stamp = eai__calloc(A, npx, sizeof *s->stamp);
    s->routes = eai__calloc(A, MAX_ROUTES, sizeof *s->routes);
    s->agents = eai__calloc(A, m, sizeof *s->agents);
    s->items = eai__calloc(A, m, sizeof *s->items);
    s->cov = eai__calloc(A, m, sizeof *s->cov);
    if (!s->bg || !s->zbuf || !s->idbuf || !s->stamp || !s->routes || !s->agents || !s->items ||
        !s->cov) {
        eai_scene_destroy(s);
        return eai_fail(EAI_E_NOMEM, "eai_scene_create: out of memory for a %dx%d scene", c.width,
                        c.height);
    }
    s->rng = c.seed ^ 0x5DEECE66Dull;
    s->next_id = 1;
    eai__scene_routes_build(s);
    eai__scene_background(s);
    if (c.density > 0) {
        float dt = 1.0f / c.fps;
        for (double t = 0; t < c.warmup_s; t += dt)
            eai__scene_sim_step(s, dt);
    }
    s->warm = true;
    *out = s;
    return EAI_OK;
}

void eai_scene_destroy(eai_scene_t *s)
{
    if (!s) return;
    eai_allocator_t a = s->alloc;
    eai__free(&a, s->bg);
    eai__free(&a, s->zbuf);
    eai__free(&a, s->idbuf);
    eai__free(&a, s->stamp);
    eai__free(&a, s->routes);
    eai__free(&a, s->agents);
    eai__free(&a, s->items);
    eai__free(&a, s->cov);
    eai__free(&a, s);
}

eai_status_t eai_scene_step(eai_scene_t *s)
{
    if (!s) return eai_fail(EAI_E_INVALID, "eai_scene_step: NULL scene");
    if (s->cfg.density < 0)
        return eai_fail(EAI_E_STATE, "eai_scene_step: scene was created without built-in traffic "
                                     "(negative density); use eai_scene_render_objects");
    float dt = 1.0f / s->cfg.fps;
    eai__scene_sim_step(s, dt);
    s->t += dt;
    s->frame++;
    return EAI_OK;
}

static eai_status_t render_items(eai_scene_t *s, int64_t frame_index, double t_signal,
                                 eai_image_t *frame)
{
    if (!(frame->data && frame->width == s->w && frame->height == s->h && frame->channels == 3))
        EAI_TRY(eai_image_alloc(frame, s->w, s->h, 3));
    size_t npx = (size_t)s->w * (size_t)s->h;
    memcpy(frame->data, s->bg, npx * 3);
    s->img = frame->data;
    eai__scene_raster_begin(s);
    for (int i = 0; i < s->n_items; i++)
        eai__scene_draw_shadow(s, s->img, &s->items[i]);
    eai__scene_draw_static(s, t_signal);
    for (int i = 0; i < s->n_items; i++) {
        const scn_item_t *it = &s->items[i];
        scn_cov_t *cv = &s->cov[i];
        if (++s->stamp_ctr == 0) { /* wrapped: old stamps could collide */
            memset(s->stamp, 0, npx * sizeof *s->stamp);
            s->stamp_ctr = 1;
        }
        *cv = (scn_cov_t){s->stamp_ctr, 0, 0, INT_MAX, INT_MAX, -1, -1};
        scn_shape_t sh;
        eai__scene_shape(it, &sh);
        eai__scene_draw_shape(s, &sh, it->x, it->y, it->heading, (uint16_t)i);
    }
    /* lighting: two slow sinusoids with seeded phases; noise: triangular per
     * channel, seeded by (seed, frame) so any frame renders the same alone */
    uint64_t ph = s->cfg.seed * 0xD1B54A32D192ED03ull + 77;
    float p1 = scn_unif(&ph) * 6.2831853f, p2 = scn_unif(&ph) * 6.2831853f;
    double tf = (double)frame_index / s->cfg.fps;
    float gain = 1.0f + s->cfg.lighting * (0.6f * (float)sin(6.2831853 * tf / 37.0 + p1) +
                                           0.4f * (float)sin(6.2831853 * tf / 11.3 + p2));
    float ns = s->cfg.noise / 0.4082f / 1024.0f;
    uint64_t st = s->cfg.seed ^ ((uint64_t)frame_index * 0x9E3779B97F4A7C15ull) ^ 0xA5A5ull;
    uint8_t *px = s->img;
    for (size_t p = 0; p < npx; p++, px += 3) {
        uint16_t id = s->idbuf[p];
        if (id < s->n_items) s->cov[id].n_vis++;
        uint64_t r = ns > 0 ? scn_next(&st) : 0;
        for (int c = 0; c < 3; c++) {
            float nz = ns > 0 ? ((float)((r >> (20 * c)) & 1023) +
                                 (float)((r >> (20 * c + 10)) & 1023) - 1023.0f) *
                                    ns
                              : 0.0f;
            float v = (float)px[c] * gain + nz + 0.5f;
            px[c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
    s->img = NULL;
    s->rendered = true;
    return EAI_OK;
}

eai_status_t eai_scene_render(eai_scene_t *s, eai_image_t *frame)
{
    if (!s || !frame) return eai_fail(EAI_E_INVALID, "eai_scene_render: NULL argument");
    s->n_items = 0;
    for (int i = 0; i < s->cfg.max_objects; i++) {
        const scn_agent_t *a = &s->agents[i];
        if (!a->active) continue;
        const scn_route_t *r = &s->routes[a->route];
        s->items[s->n_items++] = (scn_item_t){.id = a->id,
                                              .cls = a->cls,
                                              .x = a->x,
                                              .y = a->y,
                                              .heading = a->heading,
                                              .len = a->len,
                                              .wid = a->wid,
                                              .hgt = a->hgt,
                                              .speed = a->v,
                                              .look = a->look,
                                              .crossed = a->crossed,
                                              .approach = r->arm,
                                              .exit_arm = r->exit_arm};
    }
    return render_items(s, s->frame, s->sim_t, frame);
}

eai_status_t eai_scene_render_objects(eai_scene_t *s, const eai_scene_object_t *objs, int n,
                                      int64_t frame_index, eai_image_t *frame)
{
    if (!s || !frame || (n > 0 && !objs))
        return eai_fail(EAI_E_INVALID, "eai_scene_render_objects: NULL argument");
    if (n < 0 || n > s->cfg.max_objects)
        return eai_fail(EAI_E_INVALID, "eai_scene_render_objects: %d objects (max_objects is %d)",
                        n, s->cfg.max_objects);
    if (frame_index < 0)
        return eai_fail(EAI_E_INVALID, "eai_scene_render_objects: negative frame index");
    for (int i = 0; i < n; i++) {
        const eai_scene_object_t *o = &objs[i];
        if (o->id < 0 || (int)o->cls < 0 || o->cls >= EAI_SCENE_N_CLASSES)
            return eai_fail(EAI_E_INVALID, "eai_scene_render_objects: object %d: id %d class %d", i,
                            o->id, (int)o->cls);
        if (!(isfinite(o->x) && isfinite(o->y) && isfinite(o->heading) && isfinite(o->length) &&
              isfinite(o->width) && isfinite(o->height) && o->length < 50 && o->width < 10 &&
              o->height < 10))
            return eai_fail(EAI_E_INVALID,
                            "eai_scene_render_objects: object %d (id %d): non-finite or "
                            "implausible position/size",
                            i, o->id);
    }
    s->n_items = 0;
    for (int i = 0; i < n; i++) {
        const eai_scene_object_t *o = &objs[i];
        float len, wid, hgt;
        eai__scene_default_size(o->cls, o->look, &len, &wid, &hgt);
        s->items[s->n_items++] = (scn_item_t){.id = o->id,
                                              .cls = o->cls,
                                              .x = o->x,
                                              .y = o->y,
                                              .heading = o->heading,
                                              .len = o->length > 0 ? o->length : len,
                                              .wid = o->width > 0 ? o->width : wid,
                                              .hgt = o->height > 0 ? o->height : hgt,
                                              .look = o->look,
                                              .rgb = o->rgb,
                                              .use_rgb = o->use_rgb,
                                              .approach = -1,
                                              .exit_arm = -1};
    }
    return render_items(s, frame_index, (double)frame_index / s->cfg.fps, frame);
}

eai_status_t eai_scene_truth(const eai_scene_t *s, eai_scene_truth_t *out, int cap, int *n)
{
    if (!s || !n || (cap > 0 && !out))
        return eai_fail(EAI_E_INVALID, "eai_scene_truth: NULL argument");
    if (!s->rendered) return eai_fail(EAI_E_STATE, "eai_scene_truth: nothing rendered yet");
    int k = 0;
    for (int i = 0; i < s->n_items; i++) {
        const scn_cov_t *cv = &s->cov[i];
        if (cv->n_pix <= 0) continue;
        if (k < cap) {
            const scn_item_t *it = &s->items[i];
            eai_scene_truth_t *t = &out[k];
            memset(t, 0, sizeof *t); /* padding too: callers may compare bytes */
            t->id = it->id;
            t->cls = it->cls;
            t->box =
                (eai_box_t){(float)cv->x0, (float)cv->y0, (float)cv->x1 + 1, (float)cv->y1 + 1};
            t->visibility = (float)cv->n_vis / (float)cv->n_pix;
            t->n_pixels = cv->n_pix;
            t->x = it->x;
            t->y = it->y;
            t->heading = it->heading;
            t->speed = it->speed;
            t->approach = it->approach;
            t->exit_arm = it->exit_arm;
            t->crossed = it->crossed;
        }
        k++;
    }
    *n = k;
    return EAI_OK;
}

eai_scene_camera_t eai_scene_get_camera(const eai_scene_t *s)
{
    return s->cam.c;
}

int64_t eai_scene_frame_index(const eai_scene_t *s)
{
    return s->frame;
}

double eai_scene_time(const eai_scene_t *s)
{
    return s->t;
}

int eai_scene_green_arm(const eai_scene_t *s)
{
    return eai__scene_green(s, s->sim_t, NULL);
}

void eai_scene_crossings(const eai_scene_t *s, int64_t counts[4])
{
    for (int i = 0; i < 4; i++)
        counts[i] = s->crossings[i];
}
