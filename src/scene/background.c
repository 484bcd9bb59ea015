/* The static world: sky, grass, sidewalks, asphalt with lane markings, stop
 * lines and zebra crossings, computed once per pixel (2x2 supersampled) by
 * casting the pixel's ray onto the road plane; plus the signal poles (whose
 * lamps show the current phase) and a tree, drawn each frame as occluders.
 * Textures are hashes of world coordinates, so they stay put under the
 * perspective. */
#include <math.h>

#include "scene_impl.h"

static float hash2(int32_t x, int32_t y, uint32_t salt)
{
    uint32_t h = (uint32_t)x * 374761393u + (uint32_t)y * 668265263u + salt * 2246822519u;
    h = (h ^ (h >> 13)) * 1274126177u;
    h ^= h >> 16;
    return (float)(h & 0xFFFFFF) / 16777216.0f;
}

/* Value noise in [0,1) at cell size `cell` metres. */
static float vnoise(float x, float y, float cell, uint32_t salt)
{
    float fx = x / cell, fy = y / cell;
    float x0 = floorf(fx), y0 = floorf(fy), tx = fx - x0, ty = fy - y0;
    int32_t ix = (int32_t)x0, iy = (int32_t)y0;
    float a = hash2(ix, iy, salt), b = hash2(ix + 1, iy, salt), c = hash2(ix, iy + 1, salt),
          d = hash2(ix + 1, iy + 1, salt);
    tx = tx * tx * (3 - 2 * tx);
    ty = ty * ty * (3 - 2 * ty);
    return (a + (b - a) * tx) + ((c + (d - c) * tx) - (a + (b - a) * tx)) * ty;
}

/* Road colour at world (x, y); the scene's arms run along the axes. */
static void ground(const eai_scene_t *s, float x, float y, float out[3])
{
    float W = s->road_half, S = s->stop_d, lw = s->cfg.lane_width;
    float ax = fabsf(x), ay = fabsf(y);
    bool ns = ax < W, ew = ay < W; /* on the N-S road / E-W road */
    float n1 = vnoise(x, y, 0.35f, 1), n2 = vnoise(x, y, 3.0f, 2);
    if (ns || ew) {
        float g = 70.0f + 14.0f * n1 + 10.0f * n2;
        out[0] = g, out[1] = g + 1, out[2] = g + 4;
        bool mark = false, yellow = false;
        /* along-road coordinate t (distance from centre) and across c */
        if (ns && !ew) {
            float t = ay, c = (y < 0) ? x : -x;                         /* c > 0: inbound half */
            if (t > S + 0.4f && fabsf(c) < 0.08f) mark = yellow = true; /* centre line */
            for (int k = 1; k < s->cfg.lanes; k++)
                if (t > S + 0.4f && fabsf(fabsf(c) - k * lw) < 0.07f && fmodf(t, 6.0f) < 3.0f)
                    mark = true;
            if (c > 0 && t >= S && t < S + 0.4f) mark = true; /* stop line */
            if (t > W + 0.5f && t < S - 0.5f && fmodf(c + 50.0f, 1.0f) < 0.5f) mark = true;
        } else if (ew && !ns) {
            float t = ax, c = (x > 0) ? y : -y;
            if (t > S + 0.4f && fabsf(c) < 0.08f) mark = yellow = true;
            for (int k = 1; k < s->cfg.lanes; k++)
                if (t > S + 0.4f && fabsf(fabsf(c) - k * lw) < 0.07f && fmodf(t, 6.0f) < 3.0f)
                    mark = true;
            if (c > 0 && t >= S && t < S + 0.4f) mark = true;
            if (t > W + 0.5f && t < S - 0.5f && fmodf(c + 50.0f, 1.0f) < 0.5f) mark = true;
        }
        if (mark) {
            float wear = 0.75f + 0.25f * n1;
            float m[3] = {225, 225, 220};
            if (yellow) m[0] = 220, m[1] = 180, m[2] = 40;
            for (int i = 0; i < 3; i++)
                out[i] = out[i] + (m[i] - out[i]) * wear;
        }
        return;
    }
    if (ax < W + 3.5f || ay < W + 3.5f) { /* sidewalk with tile joints */
        float g = 150.0f + 10.0f * n1 - 8.0f * n2;
        bool joint = fmodf(ax + 100.0f, 1.5f) < 0.06f || fmodf(ay + 100.0f, 1.5f) < 0.06f;
        if (ax < W + 0.25f || ay < W + 0.25f) g = 185.0f; /* kerb */
        if (joint) g -= 35.0f;
        out[0] = g, out[1] = g - 2, out[2] = g - 6;
        return;
    }
    out[0] = 62.0f + 25.0f * n1 + 15.0f * n2; /* grass */
    out[1] = 105.0f + 30.0f * n1 + 10.0f * n2;
    out[2] = 48.0f + 15.0f * n1;
}

void eai__scene_background(eai_scene_t *s)
{
    const scn_cam_t *k = &s->cam;
    const float haze[3] = {175, 185, 195};
    for (int j = 0; j < s->h; j++)
        for (int i = 0; i < s->w; i++) {
            float acc[3] = {0, 0, 0};
            for (int sub = 0; sub < 4; sub++) {
                float u = (float)i + 0.25f + 0.5f * (float)(sub & 1);
                float v = (float)j + 0.25f + 0.5f * (float)(sub >> 1);
                float xn = (u - k->cx) / k->focal, yn = -(v - k->cy) / k->focal, dir[3], c[3];
                for (int a = 0; a < 3; a++)
                    dir[a] = k->f[a] + xn * k->r[a] + yn * k->u[a];
                float t = dir[2] < -1e-6f ? -k->c.z / dir[2] : -1.0f;
                if (t <= 0) { /* sky: brighter towards the horizon */
                    float e = dir[2] / sqrtf(dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]);
                    c[0] = 160 - 90 * e, c[1] = 190 - 70 * e, c[2] = 225 - 30 * e;
                } else {
                    float x = k->c.x + t * dir[0], y = k->c.y + t * dir[1];
                    ground(s, x, y, c);
                    float dist = sqrtf((x - k->c.x) * (x - k->c.x) + (y - k->c.y) * (y - k->c.y));
                    float f = 1.0f - expf(-dist / 350.0f); /* aerial haze */
                    for (int a = 0; a < 3; a++)
                        c[a] += (haze[a] - c[a]) * f;
                }
                for (int a = 0; a < 3; a++)
                    acc[a] += c[a];
            }
            uint8_t *px = s->bg + 3 * ((size_t)j * (size_t)s->w + (size_t)i);
            for (int a = 0; a < 3; a++) {
                float v = acc[a] * 0.25f + 0.5f;
                px[a] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
}

void eai__scene_draw_static(eai_scene_t *s, double t)
{
    if (s->cfg.no_static) return;
    int yellow = -1;
    int green = eai__scene_green(s, t, &yellow);
    float W = s->road_half;
    static const uint8_t pole[3] = {75, 78, 82}, headc[3] = {28, 28, 30};
    for (int a = 0; a < 4; a++) {
        /* near-side pole on the right of approach a, head facing it */
        float ang = (float)a * 1.5707963f, ca = cosf(ang), sa = sinf(ang);
        float px = W + 1.0f, py = -(W + 1.0f);
        float wx = px * ca - py * sa, wy = px * sa + py * ca;
        scn_shape_t sh = {0};
        sh.part[0] = (scn_part_t){-0.09f, 0.09f, -0.09f, 0.09f, 0.0f, 4.8f, {0}};
        sh.part[1] = (scn_part_t){-0.17f, 0.17f, -0.17f, 0.17f, 3.8f, 4.75f, {0}};
        for (int c = 0; c < 3; c++)
            sh.part[0].rgb[c] = pole[c], sh.part[1].rgb[c] = headc[c];
        sh.n_parts = 2;
        bool on_green = green == a, on_yellow = yellow == a;
        bool on_red = !on_green && !on_yellow;
        const float zs[3] = {4.45f, 4.2f, 3.95f};
        const uint8_t lit[3][3] = {{255, 40, 30}, {255, 190, 20}, {40, 255, 90}};
        const bool on[3] = {on_red, on_yellow, on_green};
        for (int l = 0; l < 3; l++) {
            scn_decal_t *d = &sh.decal[sh.n_decals++];
            *d = (scn_decal_t){1, 0, -0.1f, 0.1f, zs[l], zs[l] + 0.2f, {0}};
            for (int c = 0; c < 3; c++)
                d->rgb[c] = on[l] ? lit[l][c] : (uint8_t)(lit[l][c] / 5);
        }
        /* the head's front (+x) looks down the approach: arm 0 is south */
        eai__scene_draw_shape(s, &sh, wx, wy, ang - 1.5707963f, SCN_ID_STATIC);
    }
    scn_shape_t tree = {0};
    tree.part[0] = (scn_part_t){-0.2f, 0.2f, -0.2f, 0.2f, 0.0f, 2.6f, {95, 70, 45}};
    tree.part[1] = (scn_part_t){-1.8f, 1.8f, -1.8f, 1.8f, 2.4f, 5.8f, {55, 100, 45}};
    tree.n_parts = 2;
    tree.decal[0] = (scn_decal_t){1, 4, -1.2f, 0.3f, -0.9f, 1.4f, {70, 125, 55}};
    tree.decal[1] = (scn_decal_t){1, 3, -1.0f, 1.4f, 3.0f, 4.6f, {40, 80, 35}};
    tree.decal[2] = (scn_decal_t){1, 1, -1.4f, 0.6f, 3.3f, 5.2f, {45, 85, 38}};
    tree.n_decals = 3;
    eai__scene_draw_shape(s, &tree, -(W + 5.5f), 18.0f, 0.3f, SCN_ID_STATIC);
}
