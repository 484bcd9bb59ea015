/* The rasteriser: convex polygons (box faces, decals, shadows) clipped at the
 * near plane and filled through a depth buffer of 1/z, which is affine in
 * screen space for a planar face. Each object pixel also stamps a per-pixel
 * counter so the pixels an object would cover alone are counted whatever
 * hides them: the visibility in the truth is visible / alone. */
#include <math.h>
#include <string.h>

#include "scene_impl.h"

enum { MODE_OBJ, MODE_STATIC, MODE_SHADOW };

static const float SUN[3] = {0.3846f, -0.2885f, 0.8766f}; /* normalised (0.4, -0.3, 0.85) */

void eai__scene_raster_begin(eai_scene_t *s)
{
    size_t n = (size_t)s->w * (size_t)s->h;
    memset(s->zbuf, 0, n * sizeof *s->zbuf);
    memset(s->idbuf, 0xFF, n * sizeof *s->idbuf); /* SCN_ID_NONE */
}

/* Fills polygon `pc` (n camera-space vertices, convex, n <= 4) lying in the
 * plane with camera-space normal `nc`. */
static void fill_poly(eai_scene_t *s, uint8_t *img, float pc[][3], int n, const float nc[3],
                      const uint8_t rgb[3], int mode, uint16_t slot)
{
    const float zn = 0.05f;
    float clip[10][3];
    int m = 0;
    /* Sutherland-Hodgman against z >= zn */
    for (int i = 0; i < n; i++) {
        const float *a = pc[i], *b = pc[(i + 1) % n];
        bool ina = a[2] >= zn, inb = b[2] >= zn;
        if (ina) memcpy(clip[m++], a, sizeof clip[0]);
        if (ina != inb) {
            float t = (zn - a[2]) / (b[2] - a[2]);
            for (int k = 0; k < 3; k++)
                clip[m][k] = a[k] + t * (b[k] - a[k]);
            m++;
        }
    }
    if (m < 3) return;
    const scn_cam_t *k = &s->cam;
    float pu[10], pv[10], vmin = 1e30f, vmax = -1e30f;
    for (int i = 0; i < m; i++) {
        pu[i] = k->cx + k->focal * clip[i][0] / clip[i][2];
        pv[i] = k->cy - k->focal * clip[i][1] / clip[i][2];
        vmin = fminf(vmin, pv[i]);
        vmax = fmaxf(vmax, pv[i]);
    }
    float d = nc[0] * clip[0][0] + nc[1] * clip[0][1] + nc[2] * clip[0][2];
    if (fabsf(d) < 1e-6f) return; /* seen edge-on */
    /* 1/z = A u + B v + C */
    float A = nc[0] / (k->focal * d), B = -nc[1] / (k->focal * d);
    float C = nc[2] / d - A * k->cx - B * k->cy;
    int j0 = (int)ceilf(vmin - 0.5f), j1 = (int)ceilf(vmax - 0.5f) - 1;
    if (j0 < 0) j0 = 0;
    if (j1 > s->h - 1) j1 = s->h - 1;
    scn_cov_t *cv = (mode == MODE_OBJ) ? &s->cov[slot] : NULL;
    for (int j = j0; j <= j1; j++) {
        float yc = (float)j + 0.5f, xl = 1e30f, xr = -1e30f;
        for (int i = 0; i < m; i++) {
            float ya = pv[i], yb = pv[(i + 1) % m];
            if ((yc >= ya && yc < yb) || (yc >= yb && yc < ya)) {
                float x = pu[i] + (yc - ya) * (pu[(i + 1) % m] - pu[i]) / (yb - ya);
                xl = fminf(xl, x);
                xr = fmaxf(xr, x);
            }
        }
        if (!(xr > xl)) continue;
        int i0 = (int)ceilf(xl - 0.5f), i1 = (int)ceilf(xr - 0.5f) - 1;
        if (i0 < 0) i0 = 0;
        if (i1 > s->w - 1) i1 = s->w - 1;
        size_t row = (size_t)j * (size_t)s->w;
        for (int i = i0; i <= i1; i++) {
            size_t p = row + (size_t)i;
            uint8_t *px = img + 3 * p;
            if (mode == MODE_SHADOW) {
                if (s->idbuf[p] == SCN_ID_NONE) {
                    s->idbuf[p] = SCN_ID_SHADOW;
                    for (int c = 0; c < 3; c++)
                        px[c] = (uint8_t)(px[c] * 0.55f);
                }
                continue;
            }
            if (cv && s->stamp[p] != cv->stamp) {
                s->stamp[p] = cv->stamp;
                cv->n_pix++;
                if (i < cv->x0) cv->x0 = i;
                if (i > cv->x1) cv->x1 = i;
                if (j < cv->y0) cv->y0 = j;
                if (j > cv->y1) cv->y1 = j;
            }
            float iz = A * ((float)i + 0.5f) + B * yc + C;
            if (iz > s->zbuf[p]) {
                s->zbuf[p] = iz;
                s->idbuf[p] = mode == MODE_OBJ ? slot : SCN_ID_STATIC;
                px[0] = rgb[0];
                px[1] = rgb[1];
                px[2] = rgb[2];
            }
        }
    }
}

/* The 4 local corners of rectangle (a0..a1) x (b0..b1) on `face` of part
 * `p`, pushed `eps` metres outwards; normal in nl. */
static void face_quad(const scn_part_t *p, int face, float a0, float a1, float b0, float b1,
                      float eps, float q[4][3], float nl[3])
{
    float as[4] = {a0, a1, a1, a0}, bs[4] = {b0, b0, b1, b1};
    nl[0] = nl[1] = nl[2] = 0;
    for (int i = 0; i < 4; i++) {
        switch (face) {
        case 0:
            q[i][0] = p->x1 + eps, q[i][1] = as[i], q[i][2] = bs[i];
            break;
        case 1:
            q[i][0] = p->x0 - eps, q[i][1] = as[i], q[i][2] = bs[i];
            break;
        case 2:
            q[i][0] = as[i], q[i][1] = p->y1 + eps, q[i][2] = bs[i];
            break;
        case 3:
            q[i][0] = as[i], q[i][1] = p->y0 - eps, q[i][2] = bs[i];
            break;
        default:
            q[i][0] = as[i], q[i][1] = bs[i], q[i][2] = p->z1 + eps;
        }
    }
    int axis = face < 2 ? 0 : face < 4 ? 1 : 2;
    nl[axis] = (face == 1 || face == 3) ? -1.0f : 1.0f;
}

static float clampf(float v, float lo, float hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

void eai__scene_draw_shape(eai_scene_t *s, const scn_shape_t *sh, float x, float y, float heading,
                           uint16_t slot)
{
    float ch = cosf(heading), sn = sinf(heading);
    int mode = slot == SCN_ID_STATIC ? MODE_STATIC : MODE_OBJ;
    const scn_cam_t *k = &s->cam;
    for (int pi = 0; pi < sh->n_parts; pi++) {
        const scn_part_t *p = &sh->part[pi];
        for (int face = 0; face < 5; face++) {
            float q[4][3], nl[3];
            float fa0 = face < 2 ? p->y0 : p->x0, fa1 = face < 2 ? p->y1 : p->x1;
            float fb0 = face < 4 ? p->z0 : p->y0, fb1 = face < 4 ? p->z1 : p->y1;
            face_quad(p, face, fa0, fa1, fb0, fb1, 0.0f, q, nl);
            float nw[3] = {nl[0] * ch - nl[1] * sn, nl[0] * sn + nl[1] * ch, nl[2]};
            float pw[3] = {x + q[0][0] * ch - q[0][1] * sn, y + q[0][0] * sn + q[0][1] * ch,
                           q[0][2]};
            float tocam =
                nw[0] * (k->c.x - pw[0]) + nw[1] * (k->c.y - pw[1]) + nw[2] * (k->c.z - pw[2]);
            if (tocam <= 0) continue; /* back face */
            float shade =
                0.5f + 0.55f * fmaxf(0.0f, nw[0] * SUN[0] + nw[1] * SUN[1] + nw[2] * SUN[2]);
            float nc[3] = {nw[0] * k->r[0] + nw[1] * k->r[1] + nw[2] * k->r[2],
                           nw[0] * k->u[0] + nw[1] * k->u[1] + nw[2] * k->u[2],
                           nw[0] * k->f[0] + nw[1] * k->f[1] + nw[2] * k->f[2]};
            /* the face itself, then the decals on it */
            for (int di = -1; di < sh->n_decals; di++) {
                const uint8_t *rgb = p->rgb;
                float eps = 0.0f;
                if (di >= 0) {
                    const scn_decal_t *dc = &sh->decal[di];
                    if (dc->part != pi || dc->face != face) continue;
                    float a0 = clampf(dc->a0, fa0, fa1), a1 = clampf(dc->a1, fa0, fa1);
                    float b0 = clampf(dc->b0, fb0, fb1), b1 = clampf(dc->b1, fb0, fb1);
                    if (!(a1 > a0 && b1 > b0)) continue;
                    eps = 0.015f;
                    face_quad(p, face, a0, a1, b0, b1, eps, q, nl);
                    rgb = dc->rgb;
                }
                float pc[4][3];
                for (int i = 0; i < 4; i++) {
                    float w3[3] = {x + q[i][0] * ch - q[i][1] * sn, y + q[i][0] * sn + q[i][1] * ch,
                                   q[i][2]};
                    scn_to_cam(k, w3, pc[i]);
                }
                uint8_t c[3];
                for (int j = 0; j < 3; j++)
                    c[j] = (uint8_t)fminf(255.0f, (float)rgb[j] * shade);
                fill_poly(s, s->img, pc, 4, nc, c, mode, slot);
            }
        }
    }
}

/* Convex hull (gift wrapping) of n <= 8 ground points, into hull; count. */
static int hull2d(const float (*pt)[2], int n, float (*hull)[2])
{
    int start = 0, m = 0;
    for (int i = 1; i < n; i++)
        if (pt[i][0] < pt[start][0] || (pt[i][0] == pt[start][0] && pt[i][1] < pt[start][1]))
            start = i;
    int cur = start;
    do {
        hull[m][0] = pt[cur][0], hull[m][1] = pt[cur][1];
        if (++m >= 8) break;
        int nxt = (cur + 1) % n;
        for (int i = 0; i < n; i++) {
            float cr = (pt[nxt][0] - pt[cur][0]) * (pt[i][1] - pt[cur][1]) -
                       (pt[nxt][1] - pt[cur][1]) * (pt[i][0] - pt[cur][0]);
            if (cr < 0) nxt = i;
        }
        cur = nxt;
    } while (cur != start);
    return m;
}

void eai__scene_draw_shadow(eai_scene_t *s, uint8_t *img, const scn_item_t *it)
{
    float ch = cosf(it->heading), sn = sinf(it->heading);
    float hl = it->len / 2, hw = it->wid / 2;
    /* where the sun puts the top of the object on the road, softened: a
     * full-height shadow of a bus would darken half the junction */
    float ox = -SUN[0] / SUN[2] * it->hgt * 0.6f, oy = -SUN[1] / SUN[2] * it->hgt * 0.6f;
    float pt[8][2], hull[8][2];
    const float cx[4] = {hl, -hl, -hl, hl}, cy[4] = {hw, hw, -hw, -hw};
    for (int i = 0; i < 4; i++) {
        pt[i][0] = it->x + cx[i] * ch - cy[i] * sn;
        pt[i][1] = it->y + cx[i] * sn + cy[i] * ch;
        pt[i + 4][0] = pt[i][0] + ox;
        pt[i + 4][1] = pt[i][1] + oy;
    }
    int m = hull2d((const float(*)[2])pt, 8, hull);
    /* fill_poly takes at most 4 vertices per call: fan the hull */
    const float up[3] = {0, 0, 1};
    float nc[3];
    const scn_cam_t *k = &s->cam;
    nc[0] = up[0] * k->r[0] + up[1] * k->r[1] + up[2] * k->r[2];
    nc[1] = up[0] * k->u[0] + up[1] * k->u[1] + up[2] * k->u[2];
    nc[2] = up[0] * k->f[0] + up[1] * k->f[1] + up[2] * k->f[2];
    const uint8_t none[3] = {0, 0, 0};
    for (int i = 1; i + 1 < m; i++) {
        float tri[3][3], w0[3] = {hull[0][0], hull[0][1], 0.01f},
                         w1[3] = {hull[i][0], hull[i][1], 0.01f},
                         w2[3] = {hull[i + 1][0], hull[i + 1][1], 0.01f};
        scn_to_cam(k, w0, tri[0]);
        scn_to_cam(k, w1, tri[1]);
        scn_to_cam(k, w2, tri[2]);
        fill_poly(s, img, tri, 3, nc, none, MODE_SHADOW, 0);
    }
}
