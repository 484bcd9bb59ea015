/* Op family 'resize' (ref backend): Resize (opsets 10-19) and Upsample
 * (opsets 7-9), modes nearest (any dtype) and linear (float32, any rank).
 * Eval first maps every output coordinate of every axis to input indices and
 * weights (a table in scratch), so the inner loops only gather; 4-D NCHW
 * bilinear on the last two axes has its own loop, split by planes.
 */
#include <assert.h>
#include <math.h>

#include "runtime/ref/layout_impl.h"

enum { RS_NEAREST, RS_LINEAR };
enum {
    CT_HALF_PIXEL,
    CT_HALF_PIXEL_SYMMETRIC,
    CT_PYTORCH_HALF_PIXEL,
    CT_ALIGN_CORNERS,
    CT_ASYMMETRIC,
    CT_TF_HALF_PIXEL_FOR_NN,
    CT_TF_CROP_AND_RESIZE,
};
enum { NM_ROUND_PREFER_FLOOR, NM_ROUND_PREFER_CEIL, NM_FLOOR, NM_CEIL };

typedef struct resize_params {
    int mode, coord, nearest;
    float extrapolation;
    double scale[EAI_MAX_RANK]; /* used by the coordinate transforms */
    double roi[2 * EAI_MAX_RANK];
} resize_params_t;
static_assert(sizeof(resize_params_t) <= EAI__PARAMS_BYTES, "params");

/* One output coordinate of one axis: input neighbours and the weight of i1. */
typedef struct rs_tap {
    int64_t i0, i1;
    float w;
    int outside; /* tf_crop_and_resize: extrapolation_value */
} rs_tap_t;

static int pick(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

static eai_status_t read_attrs(eai__opctx_t *c, resize_params_t *p)
{
    static const char *const modes[] = {"nearest", "linear"};
    static const char *const coords[] = {
        "half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
        "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"};
    static const char *const nearests[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
                                           "ceil"};
    const bool is_resize = strcmp(c->node->op, "Resize") == 0;
    const char *s;
    EAI_TRY(eai__op_string(c, "mode", "nearest", &s));
    p->mode = pick(s, modes, 2);
    if (p->mode < 0 && strcmp(s, "bilinear") == 0 && !is_resize)
        p->mode = RS_LINEAR; /* Upsample-7 spelling */
    if (p->mode < 0)
        return eai__op_fail(c, EAI_E_UNSUPPORTED,
                            "mode '%s' is not supported (nearest and linear are)", s);
    /* Resize-10 and Upsample use x / scale and floor for nearest */
    p->coord = CT_ASYMMETRIC;
    p->nearest = NM_FLOOR;
    if (is_resize && c->opset >= 11) {
        EAI_TRY(eai__op_string(c, "coordinate_transformation_mode", "half_pixel", &s));
        p->coord = pick(s, coords, 7);
        if (p->coord < 0 || (p->coord == CT_HALF_PIXEL_SYMMETRIC && c->opset < 19))
            return eai__op_fail(c, EAI_E_UNSUPPORTED,
                                "coordinate_transformation_mode '%s' is not supported", s);
        EAI_TRY(eai__op_string(c, "nearest_mode", "round_prefer_floor", &s));
        p->nearest = pick(s, nearests, 4);
        if (p->nearest < 0)
            return eai__op_fail(c, EAI_E_UNSUPPORTED,
                                "nearest_mode '%s' is not one of round_prefer_floor, "
                                "round_prefer_ceil, floor, ceil",
                                s);
        EAI_TRY(eai__op_float(c, "extrapolation_value", 0.0f, &p->extrapolation));
    }
    return EAI_OK;
}

/* Reads a float input that may be absent or empty; *n = -1 then. */
static eai_status_t opt_floats(eai__opctx_t *c, int idx, float *v, int cap, int *n)
{
    *n = -1;
    if (!eai__has_in(c, idx) || eai__shape_numel(&c->in[idx].shape) == 0) return EAI_OK;
    return eai__op_const_floats(c, idx, v, cap, n);
}

static eai_status_t resize_infer(eai__opctx_t *c)
{
    resize_params_t *p = c->params;
    const eai__tview_t *x = &c->in[0];
    const int r = x->shape.rank;
    if (eai_dtype_size(x->dtype) == 0)
        return eai__op_fail(c, EAI_E_UNSUPPORTED, "dtype %s is not supported",
                            eai_dtype_name(x->dtype));
    EAI_TRY(read_attrs(c, p));
    if (p->mode == RS_LINEAR && x->dtype != EAI_F32)
        return eai__op_fail(c, EAI_E_UNSUPPORTED, "linear mode supports float32, not %s",
                            eai_dtype_name(x->dtype));
    const bool is_resize = strcmp(c->node->op, "Resize") == 0;
    const int scales_in = is_resize && c->opset >= 11 ? 2 : 1;
    /* axes (Resize-18): scales, sizes and roi then cover only those axes */
    int64_t axes[EAI_MAX_RANK];
    int na = -1;
    if (is_resize && c->opset >= 18) EAI_TRY(eai__op_ints(c, "axes", axes, EAI_MAX_RANK, &na));
    if (na < 0) {
        na = r;
        for (int k = 0; k < r; k++)
            axes[k] = k;
    }
    int ax[EAI_MAX_RANK];
    for (int i = 0; i < na; i++)
        EAI_TRY(eai__op_axis(c, axes[i], r, &ax[i]));
    float scales[EAI_MAX_RANK], roi[2 * EAI_MAX_RANK];
    int64_t sizes[EAI_MAX_RANK];
    int ns = -1, nz = -1, nr = -1;
    if (!is_resize && c->opset < 9) {
        const eai__attr_t *a = eai__node_attr(c->node, "scales");
        if (!a || a->type != EAI__A_FLOATS || a->n > EAI_MAX_RANK)
            return eai__op_fail(c, EAI_E_FORMAT, "attribute 'scales' (floats) is required");
        ns = a->n;
        memcpy(scales, a->floats, sizeof(float) * (size_t)ns);
    } else {
        EAI_TRY(opt_floats(c, scales_in, scales, EAI_MAX_RANK, &ns));
    }
    if (is_resize && c->opset >= 11) {
        if (eai__has_in(c, 3) && eai__shape_numel(&c->in[3].shape) > 0)
            EAI_TRY(eai__op_const_ints(c, 3, sizes, EAI_MAX_RANK, &nz));
        if (p->coord == CT_TF_CROP_AND_RESIZE)
            EAI_TRY(opt_floats(c, 1, roi, 2 * EAI_MAX_RANK, &nr));
    }
    if ((ns >= 0) == (nz >= 0))
        return eai__op_fail(c, EAI_E_INVALID, "exactly one of 'scales' and 'sizes' must be given");
    if ((ns >= 0 && ns != na) || (nz >= 0 && nz != na))
        return eai__op_fail(c, EAI_E_INVALID, "%s has %d values, expected %d",
                            ns >= 0 ? "scales" : "sizes", ns >= 0 ? ns : nz, na);
    if (nr >= 0 && nr != 2 * na)
        return eai__op_fail(c, EAI_E_INVALID, "roi has %d values, expected %d", nr, 2 * na);
    eai__shape_t out = x->shape;
    for (int k = 0; k < r; k++) {
        p->scale[k] = 1.0;
        p->roi[k] = 0.0;
        p->roi[k + r] = 1.0;
    }
    for (int i = 0; i < na; i++) {
        if (nr >= 0) {
            p->roi[ax[i]] = roi[i];
            p->roi[ax[i] + r] = roi[i + na];
        }
        if (ns >= 0 && !(scales[i] > 0))
            return eai__op_fail(c, EAI_E_INVALID, "scales[%d] = %g must be positive", i,
                                (double)scales[i]);
        if (nz >= 0 && sizes[i] < 0)
            return eai__op_fail(c, EAI_E_INVALID, "sizes[%d] = %lld is negative", i,
                                (long long)sizes[i]);
    }
    const char *policy = "stretch";
    if (is_resize && c->opset >= 18)
        EAI_TRY(eai__op_string(c, "keep_aspect_ratio_policy", "stretch", &policy));
    const bool stretch = strcmp(policy, "stretch") == 0;
    if (nz >= 0 && !stretch) {
        /* Resize-18: one scale for the listed axes, the smallest (not_larger)
         * or largest (not_smaller) of sizes / input dims */
        const bool larger = strcmp(policy, "not_smaller") == 0;
        if (!larger && strcmp(policy, "not_larger") != 0)
            return eai__op_fail(c, EAI_E_UNSUPPORTED,
                                "keep_aspect_ratio_policy '%s' is not one of stretch, "
                                "not_larger, not_smaller",
                                policy);
        double s = larger ? 0.0 : INFINITY;
        for (int i = 0; i < na; i++) {
            const double q = (double)sizes[i] / (double)x->shape.d[ax[i]];
            s = larger ? (q > s ? q : s) : (q < s ? q : s);
        }
        for (int i = 0; i < na; i++) {
            p->scale[ax[i]] = s;
            out.d[ax[i]] = (int64_t)floor(s * (double)x->shape.d[ax[i]] + 0.5);
        }
    } else {
        for (int i = 0; i < na; i++) {
            const int k = ax[i];
            const double in = (double)x->shape.d[k];
            if (nz >= 0) {
                out.d[k] = sizes[i];
                p->scale[k] = in > 0 ? (double)sizes[i] / in : 1.0;
            } else {
                /* output_dimension = floor(input_dimension * (roi_end - roi_start) * scale) */
                const double span =
                    p->coord == CT_TF_CROP_AND_RESIZE ? p->roi[k + r] - p->roi[k] : 1.0;
                out.d[k] = (int64_t)floor(in * span * (double)scales[i]);
                p->scale[k] = scales[i];
            }
        }
    }
    int64_t antialias = 0;
    if (is_resize && c->opset >= 18) EAI_TRY(eai__op_int(c, "antialias", 0, &antialias));
    for (int k = 0; k < r; k++) {
        if (antialias && p->mode == RS_LINEAR && p->scale[k] < 1.0)
            return eai__op_fail(c, EAI_E_UNSUPPORTED,
                                "antialias = 1 when downsampling is not supported");
        if (out.d[k] > 0 && x->shape.d[k] == 0)
            return eai__op_fail(c, EAI_E_INVALID, "cannot resize the empty axis %d to %lld", k,
                                (long long)out.d[k]);
    }
    c->scratch_bytes = 0;
    for (int k = 0; k < r; k++)
        c->scratch_bytes += (size_t)out.d[k] * sizeof(rs_tap_t);
    c->out[0].dtype = x->dtype;
    c->out[0].shape = out;
    return EAI_OK;
}

/* Input coordinate of output coordinate o on one axis (ONNX Resize-19 text;
 * align_corners uses scale * in for the output length as the ONNX reference
 * implementation does, which differs from the integer length only when
 * scale * in is not whole). */
static double source_coord(const resize_params_t *p, int k, int r, double o, int64_t in,
                           int64_t out)
{
    const double s = p->scale[k], len = (double)in;
    switch (p->coord) {
    case CT_HALF_PIXEL:
        return (o + 0.5) / s - 0.5;
    case CT_HALF_PIXEL_SYMMETRIC: {
        const double adj = (double)out / (s * len), center = len / 2;
        return center * (1 - adj) + (o + 0.5) / s - 0.5;
    }
    case CT_PYTORCH_HALF_PIXEL:
        return out > 1 ? (o + 0.5) / s - 0.5 : 0.0;
    case CT_ALIGN_CORNERS: {
        const double lo = s * len;
        return lo == 1.0 ? 0.0 : o * (len - 1) / (lo - 1);
    }
    case CT_TF_HALF_PIXEL_FOR_NN:
        return (o + 0.5) / s;
    case CT_TF_CROP_AND_RESIZE: {
        const double a = p->roi[k], b = p->roi[k + r];
        return out > 1 ? a * (len - 1) + o * (b - a) * (len - 1) / (double)(out - 1)
                       : 0.5 * (a + b) * (len - 1);
    }
    default: /* asymmetric */
        return o / s;
    }
}

static int64_t nearest_index(int mode, double x)
{
    const double f = floor(x);
    switch (mode) {
    case NM_FLOOR:
        return (int64_t)f;
    case NM_CEIL:
        return (int64_t)ceil(x);
    case NM_ROUND_PREFER_CEIL:
        return (int64_t)(x - f == 0.5 ? f + 1 : round(x));
    default:
        return (int64_t)(x - f == 0.5 ? f : round(x));
    }
}

/* Fills the taps of every axis; returns the per-axis tables in `tab`. */
static void build_taps(const resize_params_t *p, const eai__shape_t *is, const eai__shape_t *os,
                       rs_tap_t *buf, rs_tap_t **tab)
{
    const int r = is->rank;
    for (int k = 0; k < r; k++) {
        tab[k] = buf;
        const int64_t in = is->d[k], out = os->d[k];
        for (int64_t o = 0; o < out; o++) {
            rs_tap_t *t = &buf[o];
            double x = source_coord(p, k, r, (double)o, in, out);
            t->outside = p->coord == CT_TF_CROP_AND_RESIZE && (x < 0 || x > (double)(in - 1));
            if (x != x) x = 0;
            if (p->mode == RS_NEAREST) {
                int64_t i = nearest_index(p->nearest, x);
                i = i < 0 ? 0 : (i > in - 1 ? in - 1 : i);
                t->i0 = t->i1 = i;
                t->w = 0;
            } else {
                x = x < 0 ? 0 : (x > (double)(in - 1) ? (double)(in - 1) : x);
                t->i0 = (int64_t)x;
                t->i1 = t->i0 + 1 < in ? t->i0 + 1 : in - 1;
                t->w = (float)(x - (double)t->i0);
            }
        }
        buf += out;
    }
}

/* An axis whose taps are the identity needs no interpolation. */
static bool identity_axis(const rs_tap_t *t, int64_t in, int64_t out)
{
    if (in != out) return false;
    for (int64_t o = 0; o < out; o++)
        if (t[o].i0 != o || (t[o].w != 0 && t[o].i1 != o) || t[o].outside) return false;
    return true;
}

typedef struct bilinear {
    const float *in;
    float *out;
    const rs_tap_t *ty, *tx;
    int64_t H, W, OH, OW;
} bilinear_t;

static void bilinear_planes(void *ctx, int64_t begin, int64_t end)
{
    const bilinear_t *b = ctx;
    for (int64_t pl = begin; pl < end; pl++) {
        const float *in = b->in + pl * b->H * b->W;
        float *out = b->out + pl * b->OH * b->OW;
        for (int64_t oy = 0; oy < b->OH; oy++) {
            const rs_tap_t *ty = &b->ty[oy];
            const float *r0 = in + ty->i0 * b->W, *r1 = in + ty->i1 * b->W;
            for (int64_t ox = 0; ox < b->OW; ox++) {
                const rs_tap_t *tx = &b->tx[ox];
                const float top = r0[tx->i0] + (r0[tx->i1] - r0[tx->i0]) * tx->w;
                const float bot = r1[tx->i0] + (r1[tx->i1] - r1[tx->i0]) * tx->w;
                out[oy * b->OW + ox] = top + (bot - top) * ty->w;
            }
        }
    }
}

static eai_status_t resize_eval(eai__opctx_t *c)
{
    const resize_params_t *p = c->params;
    const eai__shape_t *is = &c->in[0].shape, *os = &c->out[0].shape;
    const int r = is->rank;
    const size_t es = eai_dtype_size(c->in[0].dtype);
    const int64_t n = eai__shape_numel(os);
    if (n == 0) return EAI_OK;
    if (r == 0) {
        memcpy(c->out[0].data, c->in[0].data, es);
        return EAI_OK;
    }
    rs_tap_t *tab[EAI_MAX_RANK];
    build_taps(p, is, os, c->scratch, tab);
    int64_t ist[EAI_MAX_RANK];
    eai__layout_strides(is, ist);
    bool active[EAI_MAX_RANK];
    for (int k = 0; k < r; k++)
        active[k] = !identity_axis(tab[k], is->d[k], os->d[k]);
    bool outer_active = false;
    for (int k = 0; k < r - 2; k++)
        outer_active |= active[k];
    if (p->mode == RS_LINEAR && r >= 2 && !outer_active && p->coord != CT_TF_CROP_AND_RESIZE) {
        bilinear_t b = {c->in[0].data, c->out[0].data, tab[r - 2],   tab[r - 1],
                        is->d[r - 2],  is->d[r - 1],   os->d[r - 2], os->d[r - 1]};
        eai__parallel_for(c->pool, n / (b.OH * b.OW), bilinear_planes, &b);
        return EAI_OK;
    }
    uint8_t extra[16];
    eai__layout_put_f64(c->in[0].dtype, extra, p->extrapolation);
    const uint8_t *in = c->in[0].data;
    uint8_t *out = c->out[0].data;
    int64_t idx[EAI_MAX_RANK] = {0};
    const int64_t W = os->d[r - 1];
    const rs_tap_t *tw = tab[r - 1];
    for (int64_t row = 0; row < n / W; row++) {
        /* outer axes: corners of the active ones, base offset of the rest */
        int64_t base = 0;
        bool outside = false;
        int act[EAI_MAX_RANK], na = 0;
        for (int k = 0; k < r - 1; k++) {
            const rs_tap_t *t = &tab[k][idx[k]];
            outside |= t->outside != 0;
            base += t->i0 * ist[k];
            if (p->mode == RS_LINEAR && active[k]) act[na++] = k;
        }
        for (int64_t o = 0; o < W; o++, out += es) {
            const rs_tap_t *t = &tw[o];
            if (outside || t->outside) {
                memcpy(out, extra, es);
            } else if (p->mode == RS_NEAREST) {
                memcpy(out, in + (base + t->i0) * (int64_t)es, es);
            } else {
                const float *f = (const float *)(const void *)in;
                float acc = 0;
                for (int m = 0; m < (1 << na); m++) {
                    int64_t off = base;
                    float w = 1;
                    for (int j = 0; j < na; j++) {
                        const rs_tap_t *tj = &tab[act[j]][idx[act[j]]];
                        if (m >> j & 1) {
                            off += (tj->i1 - tj->i0) * ist[act[j]];
                            w *= tj->w;
                        } else {
                            w *= 1 - tj->w;
                        }
                    }
                    acc += w * (f[off + t->i0] + (f[off + t->i1] - f[off + t->i0]) * t->w);
                }
                memcpy(out, &acc, sizeof acc);
            }
        }
        for (int k = r - 2; k >= 0; k--) {
            if (++idx[k] < os->d[k]) break;
            idx[k] = 0;
        }
    }
    return EAI_OK;
}

const eai__op_def_t eai__ref_ops_resize[] = {
    {"Resize", 0, 1, 4, 1, 1, resize_infer, resize_eval},
    {"Upsample", 0, 1, 2, 1, 1, resize_infer, resize_eval},
    {0},
};
