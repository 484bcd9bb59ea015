/* Image -> float tensor: stretch, letterbox and crop all reduce to one
 * sampler that maps a source rectangle (float, source pixels) onto a
 * destination rectangle (integer, tensor pixels) and pads the rest. The
 * eai_xform_t of each call is the inverse of that mapping. */
#include <math.h>
#include <string.h>

#include "edgeai/vision.h"

/* Source rect (sx0, sy0, sw, sh) -> destination rect (dx0, dy0, dw, dh). */
typedef struct sample_map {
    float sx0, sy0, sw, sh;
    int dx0, dy0, dw, dh;
} sample_map_t;

static eai_status_t check_args(const eai_image_t *img, const eai_preproc_t *p, const float *out,
                               const char *what)
{
    if (!img || !img->data || img->width <= 0 || img->height <= 0 ||
        (img->channels != 3 && img->channels != 1))
        return eai_fail(EAI_E_INVALID, "%s: need an RGB (or gray) image with pixels", what);
    if (!p || !out || p->width <= 0 || p->height <= 0 || p->width > 16384 || p->height > 16384)
        return eai_fail(EAI_E_INVALID, "%s: bad tensor size %dx%d", what, p ? p->width : 0,
                        p ? p->height : 0);
    return EAI_OK;
}

/* Where a sw x sh region lands in the tensor (whole tensor, or centred with
 * the aspect kept). */
static void fit_rect(const eai_preproc_t *p, float sw, float sh, sample_map_t *m)
{
    if (p->fit == EAI_FIT_LETTERBOX) {
        float r = fminf((float)p->width / sw, (float)p->height / sh);
        int nw = (int)lroundf(sw * r), nh = (int)lroundf(sh * r);
        if (nw < 1) nw = 1;
        if (nh < 1) nh = 1;
        if (nw > p->width) nw = p->width;
        if (nh > p->height) nh = p->height;
        m->dw = nw;
        m->dh = nh;
        m->dx0 = (p->width - nw) / 2;
        m->dy0 = (p->height - nh) / 2;
    } else {
        m->dx0 = m->dy0 = 0;
        m->dw = p->width;
        m->dh = p->height;
    }
}

static void make_xform(const eai_image_t *img, const sample_map_t *m, eai_xform_t *xf)
{
    if (!xf) return;
    xf->scale_x = (float)m->dw / m->sw;
    xf->scale_y = (float)m->dh / m->sh;
    xf->off_x = (float)m->dx0 - m->sx0 * xf->scale_x;
    xf->off_y = (float)m->dy0 - m->sy0 * xf->scale_y;
    xf->src_w = img->width;
    xf->src_h = img->height;
}

/* Source coordinate of destination index d along one axis, per resize mode. */
static inline float src_coord(eai_resize_t mode, float s0, float ratio, int d)
{
    if (mode == EAI_RESIZE_BILINEAR_TF) return s0 + (float)d * ratio;
    if (mode == EAI_RESIZE_NEAREST) return s0 + ((float)d + 0.5f) * ratio;
    return s0 + ((float)d + 0.5f) * ratio - 0.5f;
}

static inline int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void run_sampler(const eai_image_t *img, const eai_preproc_t *p, const sample_map_t *m,
                        float *out)
{
    const int W = img->width, H = img->height, C = img->channels;
    const int TW = p->width, TH = p->height;
    const size_t plane = (size_t)TW * (size_t)TH;
    float a[3], b[3];
    float scale = p->scale != 0.0f ? p->scale : 1.0f / 255.0f;
    for (int c = 0; c < 3; c++) {
        float sd = p->std[c] != 0.0f ? p->std[c] : 1.0f;
        a[c] = scale / sd;
        b[c] = -p->mean[c] / sd;
    }
    /* output channel k reads source channel ch[k] */
    int ch[3] = {0, 1, 2};
    if (p->bgr) ch[0] = 2, ch[2] = 0;
    if (C == 1) ch[0] = ch[1] = ch[2] = 0;
    float padv[3];
    for (int k = 0; k < 3; k++)
        padv[k] = p->pad * a[k] + b[k];
    const float rx = m->sw / (float)m->dw, ry = m->sh / (float)m->dh;
    const bool nchw = p->layout == EAI_LAYOUT_NCHW;
    for (int ty = 0; ty < TH; ty++) {
        int dy = ty - m->dy0;
        bool row_in = dy >= 0 && dy < m->dh;
        int y0 = 0, y1 = 0;
        float wy = 0;
        if (row_in) {
            float fy = src_coord(p->resize, m->sy0, ry, dy);
            if (p->resize == EAI_RESIZE_NEAREST) {
                y0 = y1 = clampi((int)floorf(fy), 0, H - 1);
            } else {
                float fl = floorf(fy);
                wy = fy - fl;
                y0 = clampi((int)fl, 0, H - 1);
                y1 = clampi((int)fl + 1, 0, H - 1);
            }
        }
        const uint8_t *r0 = img->data + (size_t)y0 * W * C, *r1 = img->data + (size_t)y1 * W * C;
        for (int tx = 0; tx < TW; tx++) {
            int dx = tx - m->dx0;
            float v[3];
            if (!row_in || dx < 0 || dx >= m->dw) {
                v[0] = padv[0], v[1] = padv[1], v[2] = padv[2];
            } else {
                float fx = src_coord(p->resize, m->sx0, rx, dx);
                if (p->resize == EAI_RESIZE_NEAREST) {
                    int x = clampi((int)floorf(fx), 0, W - 1);
                    for (int k = 0; k < 3; k++)
                        v[k] = (float)r0[x * C + ch[k]] * a[k] + b[k];
                } else {
                    float fl = floorf(fx), wx = fx - fl;
                    int x0 = clampi((int)fl, 0, W - 1), x1 = clampi((int)fl + 1, 0, W - 1);
                    for (int k = 0; k < 3; k++) {
                        int c = ch[k];
                        float top = (float)r0[x0 * C + c] +
                                    ((float)r0[x1 * C + c] - (float)r0[x0 * C + c]) * wx;
                        float bot = (float)r1[x0 * C + c] +
                                    ((float)r1[x1 * C + c] - (float)r1[x0 * C + c]) * wx;
                        v[k] = (top + (bot - top) * wy) * a[k] + b[k];
                    }
                }
            }
            size_t pix = (size_t)ty * TW + (size_t)tx;
            if (nchw) {
                out[pix] = v[0];
                out[plane + pix] = v[1];
                out[2 * plane + pix] = v[2];
            } else {
                out[pix * 3] = v[0];
                out[pix * 3 + 1] = v[1];
                out[pix * 3 + 2] = v[2];
            }
        }
    }
}

eai_status_t eai_preprocess(const eai_image_t *img, const eai_preproc_t *p, float *out,
                            eai_xform_t *xf)
{
    EAI_TRY(check_args(img, p, out, "preprocess"));
    sample_map_t m = {0, 0, (float)img->width, (float)img->height, 0, 0, 0, 0};
    fit_rect(p, m.sw, m.sh, &m);
    run_sampler(img, p, &m, out);
    make_xform(img, &m, xf);
    return EAI_OK;
}

eai_status_t eai_preprocess_crop(const eai_image_t *img, eai_box_t box, const eai_preproc_t *p,
                                 float *out, eai_xform_t *xf)
{
    EAI_TRY(check_args(img, p, out, "preprocess_crop"));
    float bw = box.x2 - box.x1, bh = box.y2 - box.y1;
    if (!(bw > 0.0f && bh > 0.0f) || !isfinite(bw) || !isfinite(bh))
        return eai_fail(EAI_E_INVALID, "preprocess_crop: empty box [%g, %g, %g, %g]",
                        (double)box.x1, (double)box.y1, (double)box.x2, (double)box.y2);
    sample_map_t m = {box.x1, box.y1, bw, bh, 0, 0, 0, 0};
    fit_rect(p, bw, bh, &m);
    run_sampler(img, p, &m, out);
    make_xform(img, &m, xf);
    return EAI_OK;
}

/* Clips to [0, hi] unless hi <= 0 (size unknown). */
static float clip(float v, int hi)
{
    if (hi <= 0) return v;
    return v < 0.0f ? 0.0f : v > (float)hi ? (float)hi : v;
}

eai_box_t eai_xform_box(const eai_xform_t *xf, eai_box_t b)
{
    eai_box_t r;
    r.x1 = clip((b.x1 - xf->off_x) / xf->scale_x, xf->src_w);
    r.y1 = clip((b.y1 - xf->off_y) / xf->scale_y, xf->src_h);
    r.x2 = clip((b.x2 - xf->off_x) / xf->scale_x, xf->src_w);
    r.y2 = clip((b.y2 - xf->off_y) / xf->scale_y, xf->src_h);
    return r;
}

void eai_xform_dets(const eai_xform_t *xf, eai_det_t *dets, int n)
{
    for (int i = 0; i < n; i++)
        dets[i].box = eai_xform_box(xf, dets[i].box);
}
