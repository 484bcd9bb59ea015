/* XNNPACK family 'conv': the NHWC twins of Conv / FusedConv (any groups,
 * depthwise included, dilations, asymmetric pads, auto_pad), MaxPool,
 * AveragePool and GlobalAveragePool, 2-D float32. The same geometry checks
 * answer the layout pass (on the NCHW node) and supports (on its twin), so
 * a node is laid out NHWC only when XNNPACK will run it.
 *
 * ONNX weights are OIHW; XNNPACK's convolution wants [groups][Mg][KH][KW][Cg]
 * (OHWI), which for a depthwise conv is [C][KH][KW][1]: one transpose into a
 * temporary, which XNNPACK packs (copies) at create.
 */
#include <math.h>
#include <stdlib.h>

#include "runtime/nhwc/f32dw_impl.h"
#include "runtime/xnnpack/xnn_impl.h"

/* 2-D geometry with explicit pads (SAME resolved, ceil_mode folded into
 * extra bottom/right padding). Shapes are NCHW. */
typedef struct geom {
    int64_t n, c, h, w, m, oh, ow;
    int64_t kh, kw, sh, sw, dh, dw;
    int64_t pt, pl, pb, pr;
    int64_t group;
} geom_t;

static bool ints2(const eai__opctx_t *c, const char *name, int64_t def, int64_t *v, int want)
{
    const eai__attr_t *a = eai__node_attr(c->node, name);
    if (!a) {
        for (int i = 0; i < want; i++)
            v[i] = def;
        return true;
    }
    if (a->type != EAI__A_INTS || a->n != want) return false;
    for (int i = 0; i < want; i++)
        v[i] = a->ints[i];
    return true;
}

static const char *str_attr(const eai__opctx_t *c, const char *name, const char *def)
{
    const eai__attr_t *a = eai__node_attr(c->node, name);
    return a && a->type == EAI__A_STRING ? a->s : def;
}

static int64_t int_attr(const eai__opctx_t *c, const char *name, int64_t def)
{
    const eai__attr_t *a = eai__node_attr(c->node, name);
    return a && a->type == EAI__A_INT ? a->i : def;
}

/* Strides, dilations, pads and auto_pad for kernel (kh, kw), then pads
 * widened at the end so XNNPACK's floor-mode output matches (oh, ow). */
static bool spatial(const eai__opctx_t *c, geom_t *g)
{
    int64_t s[2], d[2], p[4];
    if (!ints2(c, "strides", 1, s, 2) || !ints2(c, "dilations", 1, d, 2) ||
        !ints2(c, "pads", 0, p, 4))
        return false;
    g->sh = s[0], g->sw = s[1], g->dh = d[0], g->dw = d[1];
    const char *ap = str_attr(c, "auto_pad", "NOTSET");
    const int64_t ekh = (g->kh - 1) * g->dh + 1, ekw = (g->kw - 1) * g->dw + 1;
    if (strcmp(ap, "SAME_UPPER") == 0 || strcmp(ap, "SAME_LOWER") == 0) {
        const bool upper = ap[5] == 'U';
        int64_t th = (g->oh - 1) * g->sh + ekh - g->h, tw = (g->ow - 1) * g->sw + ekw - g->w;
        if (th < 0) th = 0;
        if (tw < 0) tw = 0;
        g->pt = upper ? th / 2 : th - th / 2;
        g->pl = upper ? tw / 2 : tw - tw / 2;
        g->pb = th - g->pt;
        g->pr = tw - g->pl;
    } else if (strcmp(ap, "VALID") == 0) {
        g->pt = g->pl = g->pb = g->pr = 0;
    } else if (strcmp(ap, "NOTSET") == 0) {
        g->pt = p[0], g->pl = p[1], g->pb = p[2], g->pr = p[3];
    } else {
        return false;
    }
    int64_t need_b = (g->oh - 1) * g->sh + ekh - g->h - g->pt;
    int64_t need_r = (g->ow - 1) * g->sw + ekw - g->w - g->pl;
    if (need_b > g->pb) g->pb = need_b;
    if (need_r > g->pr) g->pr = need_r;
    for (int i = 0; i < 2; i++)
        if (s[i] < 1 || d[i] < 1 || s[i] > UINT32_MAX || d[i] > UINT32_MAX) return false;
    if (g->pt < 0 || g->pl < 0 || g->pb < 0 || g->pr < 0) return false;
    if (g->pt > 65535 || g->pl > 65535 || g->pb > 65535 || g->pr > 65535) return false;
    /* what XNNPACK will compute must be what infer promised */
    return (g->h + g->pt + g->pb - ekh) / g->sh + 1 == g->oh &&
           (g->w + g->pl + g->pr - ekw) / g->sw + 1 == g->ow;
}

static void dims(geom_t *g, const eai__shape_t *x, const eai__shape_t *y)
{
    g->n = x->d[0], g->c = x->d[1], g->h = x->d[2], g->w = x->d[3];
    g->m = y->d[1], g->oh = y->d[2], g->ow = y->d[3];
}

static bool is_fused(const eai__opctx_t *c)
{
    return strcmp(c->node->op, "FusedConv") == 0;
}

/* Conv / FusedConv on NCHW shapes x, y. */
static bool conv_geom(const eai__opctx_t *c, const eai__shape_t *x, const eai__shape_t *y,
                      geom_t *g)
{
    if (x->rank != 4 || y->rank != 4 || c->n_in < 2 || !eai__xnn_const_f32(c, 1)) return false;
    if (c->in[0].dtype != EAI_F32 || c->out[0].dtype != EAI_F32) return false;
    if (eai__has_in(c, 2) && !eai__xnn_const_f32(c, 2)) return false;
    const eai__shape_t *w = &c->in[1].shape;
    if (w->rank != 4) return false;
    dims(g, x, y);
    g->group = int_attr(c, "group", 1);
    g->kh = w->d[2], g->kw = w->d[3];
    if (g->group < 1 || g->c % g->group || g->m % g->group || w->d[1] * g->group != g->c ||
        w->d[0] != g->m)
        return false;
    if (eai__shape_numel(x) == 0 || eai__shape_numel(y) == 0) return false;
    if (!spatial(c, g)) return false;
    if (is_fused(c)) {
        eai__act_t a;
        if (eai__act_from_node(c->g, c->node, &a) != EAI_OK || !eai__xnn_act_ok(&a)) return false;
    }
    return true;
}

/* MaxPool (float32, no Indices) / AveragePool on NCHW shapes x, y. */
static bool pool_geom(const eai__opctx_t *c, const eai__shape_t *x, const eai__shape_t *y,
                      bool is_max, geom_t *g)
{
    if (x->rank != 4 || y->rank != 4 || c->in[0].dtype != EAI_F32) return false;
    if (c->n_out > 1 && c->node->out[1] >= 0) return false; /* Indices */
    if (eai__shape_numel(x) == 0 || eai__shape_numel(y) == 0) return false;
    dims(g, x, y);
    int64_t k[2];
    const eai__attr_t *ka = eai__node_attr(c->node, "kernel_shape");
    if (!ka || !ints2(c, "kernel_shape", 1, k, 2)) return false;
    g->kh = k[0], g->kw = k[1];
    if (g->kh < 1 || g->kw < 1 || g->kh * g->kw == 1) return false; /* XNNPACK: 1x1 pool */
    if (!spatial(c, g)) return false;
    if (is_max) return true;
    if (g->dh != 1 || g->dw != 1) return false;
    /* XNNPACK averages over the taps inside the input (count_include_pad=0) */
    if (int_attr(c, "count_include_pad", 0) && (g->pt || g->pl || g->pb || g->pr)) return false;
    return true;
}

static bool gap_ok(const eai__opctx_t *c, const eai__shape_t *x)
{
    return x->rank == 4 && c->in[0].dtype == EAI_F32 && eai__shape_numel(x) > 0;
}

bool eai__xnn_conv_wants_nhwc(const eai__opctx_t *c)
{
    const char *op = c->node->op, *dom = c->node->domain;
    const bool onnx = !dom[0] || strcmp(dom, "ai.onnx") == 0;
    const eai__shape_t *x = &c->in[0].shape, *y = &c->out[0].shape;
    geom_t g;
    if (onnx && strcmp(op, "Conv") == 0) return conv_geom(c, x, y, &g);
    if (strcmp(dom, "com.edgeai") == 0 && strcmp(op, "FusedConv") == 0)
        return conv_geom(c, x, y, &g);
    if (onnx && strcmp(op, "MaxPool") == 0) return pool_geom(c, x, y, true, &g);
    if (onnx && strcmp(op, "AveragePool") == 0) return pool_geom(c, x, y, false, &g);
    if (onnx && strcmp(op, "GlobalAveragePool") == 0) return gap_ok(c, x);
    return false;
}

/* The NCHW shapes of an NHWC twin. */
static void twin_shapes(const eai__opctx_t *c, eai__shape_t *x, eai__shape_t *y)
{
    eai__nhwc_to_nchw_shape(&c->in[0].shape, x);
    eai__nhwc_to_nchw_shape(&c->out[0].shape, y);
}

/* ---- Conv / FusedConv ---- */

static bool conv_supports(const eai__opctx_t *c)
{
    eai__shape_t x, y;
    geom_t g;
    twin_shapes(c, &x, &y);
    return conv_geom(c, &x, &y, &g);
}

static bool use_winograd(const geom_t *g)
{
    const eai__xnn_wino_geom_t wg = {g->n, g->c, g->h, g->w, g->m, g->oh, g->ow, g->pt, g->pl};
    return eai__xnn_winograd_ok(&wg, g->kh, g->kw, g->sh, g->sw, g->dh, g->dw, g->group);
}

/* The activation's scratch comes after the conv (SiLU), Winograd's during
 * it: they share. */
static size_t conv_scratch(const eai__opctx_t *c)
{
    eai__act_t a = {0};
    if (is_fused(c) && eai__act_from_node(c->g, c->node, &a) != EAI_OK) return 0;
    size_t bytes = eai__xnn_act_scratch(&a, eai__shape_numel(&c->out[0].shape));
    eai__shape_t x, y;
    geom_t g;
    twin_shapes(c, &x, &y);
    if (conv_geom(c, &x, &y, &g) && use_winograd(&g)) {
        size_t w =
            eai__xnn_winograd_scratch(g.n, g.c, g.m, g.oh, g.ow, eai_threadpool_size(c->pool));
        if (w > bytes) bytes = w;
    }
    return bytes;
}

/* Large weights over few output pixels. XNNPACK (2022) computes a tile of
 * mr output pixels against every output channel before the next tile, so
 * weights larger than L2 stream from L3 once per tile (resnet18's layer4:
 * 9.4 MB, 7 tiles of 49 pixels, 1.9 ms a conv against ONNX Runtime's 1.4).
 * Cutting the output channels into slices whose weights fit in L2, one
 * operator each, reads every weight once for all tiles; the slices also run
 * side by side on the pool, a whole slice per thread. Where edgeai's GEMM
 * runs, its indirect product (pointwise.c) takes these convs instead. */
#define SLICE_W_BYTES (256 * 1024) /* a slice's weights: half of a small (512 KB) L2 */
#define SLICE_MIN_W   (2 * SLICE_W_BYTES)
#define SLICE_NR      16 /* channels are sliced in blocks of XNNPACK's widest nr */

/* How many slices conv `g` (weights OHWI, wbytes) is cut into: 0 for none.
 * Only ungrouped convs whose weights pass SLICE_MIN_W; a multiple of the
 * session's threads, at most one slice per SLICE_NR channels. */
static int slice_count(const geom_t *g, size_t wbytes, pthreadpool_t tp)
{
    if (g->group != 1 || wbytes < SLICE_MIN_W) return 0;
    const int64_t blocks = (g->m + SLICE_NR - 1) / SLICE_NR;
    const int64_t th = tp ? (int64_t)pthreadpool_get_threads_count(tp) : 1;
    int64_t n = (int64_t)((wbytes + SLICE_W_BYTES - 1) / SLICE_W_BYTES);
    n = (n + th - 1) / th * th;
    if (n > blocks) n = blocks;
    return n < 2 ? 0 : (int)n;
}

static eai_status_t conv_push_slices(eai__opctx_t *c, eai__xnn_node_t *st, const geom_t *g, int n,
                                     const float *wt, const float *bias, float lo, float hi)
{
    eai__xnn_parts_t *p;
    EAI_TRY(eai__xnn_parts_new(c, st, n, &p));
    const int64_t blocks = (g->m + SLICE_NR - 1) / SLICE_NR, per_o = g->c * g->kh * g->kw;
    for (int i = 0; i < n; i++) {
        const int64_t o0 = blocks * i / n * SLICE_NR;
        int64_t o1 = blocks * (i + 1) / n * SLICE_NR;
        if (o1 > g->m) o1 = g->m;
        xnn_operator_t op = NULL;
        enum xnn_status s = xnn_create_convolution2d_nhwc_f32(
            (uint32_t)g->pt, (uint32_t)g->pr, (uint32_t)g->pb, (uint32_t)g->pl, (uint32_t)g->kh,
            (uint32_t)g->kw, (uint32_t)g->sh, (uint32_t)g->sw, (uint32_t)g->dh, (uint32_t)g->dw, 1,
            (size_t)g->c, (size_t)(o1 - o0), (size_t)g->c, (size_t)g->m, wt + o0 * per_o,
            bias ? bias + o0 : NULL, lo, hi, EAI__XNN_FLAGS, &op);
        EAI_TRY(eai__xnn_parts_add(c, st, p, s, op, "create convolution slice"));
        EAI_TRY(eai__xnn_check(c,
                               xnn_setup_convolution2d_nhwc_f32(op, (size_t)g->n, (size_t)g->h,
                                                                (size_t)g->w, c->in[0].data,
                                                                (float *)c->out[0].data + o0, NULL),
                               "setup convolution slice"));
    }
    return eai__xnn_push_parts(c, st, p);
}

/* Depthwise convolutions (one filter per channel) on edgeai's kernel
 * (runtime/nhwc/f32dw.c) where it runs; EAI_XNN_NO_DW=1 keeps XNNPACK's. */
static bool dw_ok(const geom_t *g)
{
    return g->group == g->c && g->m == g->c && g->group > 1 && eai__dwf32_available() &&
           !getenv("EAI_XNN_NO_DW");
}

static void dw_range(void *ctx, size_t begin, size_t count)
{
    eai__dwf32_rows(ctx, (int64_t)begin, (int64_t)count);
}

static void dw_step(const void *arg, pthreadpool_t tp)
{
    const eai__dwf32_t *d = arg;
    const int64_t rows = d->n * d->oh;
    const size_t nth = tp ? pthreadpool_get_threads_count(tp) : 1;
    if (nth <= 1 || rows < 2) {
        eai__dwf32_rows(d, 0, rows);
        return;
    }
    const size_t tile = (size_t)rows / (4 * nth);
    pthreadpool_parallelize_1d_tile_1d(tp, dw_range, (void *)(uintptr_t)d, (size_t)rows,
                                       tile ? tile : 1, EAI__XNN_PT_FLAGS);
}

static eai_status_t dw_prepare(eai__opctx_t *c, eai__xnn_node_t *st, const geom_t *g, float lo,
                               float hi, bool hswish)
{
    void *wp, *arg;
    EAI_TRY(eai__xnn_buffer(c, st, eai__dwf32_pack_bytes(g->c, g->kh, g->kw), NULL, &wp));
    eai__dwf32_pack(c->in[1].data, eai__has_in(c, 2) ? c->in[2].data : NULL, g->c, g->kh, g->kw,
                    wp);
    const eai__dwf32_t d = {c->in[0].data, c->out[0].data, wp,    g->n,  g->h,  g->w,  g->c,
                            g->oh,         g->ow,          g->kh, g->kw, g->sh, g->sw, g->dh,
                            g->dw,         g->pt,          g->pl, lo,    hi,    hswish};
    EAI_TRY(eai__xnn_buffer(c, st, sizeof d, &d, &arg));
    return eai__xnn_push_fn(c, st, dw_step, arg);
}

static eai_status_t conv_prepare(eai__opctx_t *c, eai__xnn_node_t *st)
{
    eai__shape_t x, y;
    geom_t g;
    twin_shapes(c, &x, &y);
    if (EAI_NEVER(!conv_geom(c, &x, &y, &g)))
        return eai__op_fail(c, EAI_E_STATE, "xnnpack: conv geometry changed");
    eai__act_t a = {0};
    if (is_fused(c)) EAI_TRY(eai__act_from_node(c->g, c->node, &a));
    float lo, hi;
    eai__xnn_act_clamp(&a, &lo, &hi);
    /* edgeai's kernels apply a HardSwish as they store; rest is what is left
     * for separate operators after them */
    const bool hs = a.kind == EAI__ACT_HARDSWISH;
    eai__act_t rest = a;
    if (hs) rest.kind = EAI__ACT_NONE;
    if (use_winograd(&g)) {
        const eai__xnn_wino_geom_t wg = {g.n, g.c, g.h, g.w, g.m, g.oh, g.ow, g.pt, g.pl};
        EAI_TRY(eai__xnn_winograd_prepare(c, st, &wg, lo, hi));
        return eai__xnn_act_push(c, st, &a, c->out[0].data, eai__shape_numel(&c->out[0].shape));
    }
    if (eai__xnn_pointwise_ok(g.kh, g.kw, g.sh, g.sw, g.pt + g.pl + g.pb + g.pr, g.group)) {
        EAI_TRY(eai__xnn_pointwise_prepare(c, st, g.n * g.oh * g.ow, g.c, g.m, lo, hi, hs));
        return eai__xnn_act_push(c, st, &rest, c->out[0].data, eai__shape_numel(&c->out[0].shape));
    }
    if (dw_ok(&g)) {
        EAI_TRY(dw_prepare(c, st, &g, lo, hi, hs));
        return eai__xnn_act_push(c, st, &rest, c->out[0].data, eai__shape_numel(&c->out[0].shape));
    }
    const int64_t cg = g.c / g.group, mg = g.m / g.group, khw = g.kh * g.kw;
    const size_t wn = (size_t)(g.m * cg * khw);
    float *wt = eai__alloc_aligned(&st->alloc, wn * sizeof(float) + EAI__READ_PAD);
    if (!wt) return eai__op_fail(c, EAI_E_NOMEM, "out of memory");
    const float *w = c->in[1].data;
    for (int64_t o = 0; o < g.m; o++)
        for (int64_t i = 0; i < cg; i++)
            for (int64_t k = 0; k < khw; k++)
                wt[(o * khw + k) * cg + i] = w[(o * cg + i) * khw + k];
    const eai__xnn_igemm_geom_t ig = {g.n,  g.c,  g.h,  g.w,  g.m,  g.oh, g.ow, g.kh,
                                      g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl};
    if (eai__xnn_igemm_ok(&ig, g.group)) {
        eai_status_t r = eai__xnn_igemm_prepare(c, st, &ig, wt, lo, hi, hs);
        eai__free_aligned(&st->alloc, wt);
        EAI_TRY(r);
        return eai__xnn_act_push(c, st, &rest, c->out[0].data, eai__shape_numel(&c->out[0].shape));
    }
    const float *bias = eai__has_in(c, 2) ? c->in[2].data : NULL;
    const int slices = slice_count(&g, wn * sizeof(float), st->tp);
    if (slices) {
        eai_status_t r = conv_push_slices(c, st, &g, slices, wt, bias, lo, hi);
        eai__free_aligned(&st->alloc, wt);
        EAI_TRY(r);
        st->bytes += (wn + (size_t)g.m) * sizeof(float);
        return eai__xnn_act_push(c, st, &a, c->out[0].data, eai__shape_numel(&c->out[0].shape));
    }
    xnn_operator_t op = NULL;
    enum xnn_status s = xnn_create_convolution2d_nhwc_f32(
        (uint32_t)g.pt, (uint32_t)g.pr, (uint32_t)g.pb, (uint32_t)g.pl, (uint32_t)g.kh,
        (uint32_t)g.kw, (uint32_t)g.sh, (uint32_t)g.sw, (uint32_t)g.dh, (uint32_t)g.dw,
        (uint32_t)g.group, (size_t)cg, (size_t)mg, (size_t)g.c, (size_t)g.m, wt, bias, lo, hi,
        EAI__XNN_FLAGS, &op);
    eai__free_aligned(&st->alloc, wt);
    EAI_TRY(eai__xnn_push(c, st, s, op, "create convolution"));
    st->bytes += (wn + (size_t)g.m) * sizeof(float);
    EAI_TRY(
        eai__xnn_check(c,
                       xnn_setup_convolution2d_nhwc_f32(op, (size_t)g.n, (size_t)g.h, (size_t)g.w,
                                                        c->in[0].data, c->out[0].data, st->tp),
                       "setup convolution"));
    return eai__xnn_act_push(c, st, &a, c->out[0].data, eai__shape_numel(&c->out[0].shape));
}

/* ---- pools ---- */

static bool maxpool_supports(const eai__opctx_t *c)
{
    eai__shape_t x, y;
    geom_t g;
    twin_shapes(c, &x, &y);
    return pool_geom(c, &x, &y, true, &g);
}

static bool avgpool_supports(const eai__opctx_t *c)
{
    eai__shape_t x, y;
    geom_t g;
    twin_shapes(c, &x, &y);
    return pool_geom(c, &x, &y, false, &g);
}

static eai_status_t pool_prepare(eai__opctx_t *c, eai__xnn_node_t *st, bool is_max)
{
    eai__shape_t x, y;
    geom_t g;
    twin_shapes(c, &x, &y);
    if (EAI_NEVER(!pool_geom(c, &x, &y, is_max, &g)))
        return eai__op_fail(c, EAI_E_STATE, "xnnpack: pool geometry changed");
    xnn_operator_t op = NULL;
    enum xnn_status s;
    if (is_max) {
        s = xnn_create_max_pooling2d_nhwc_f32(
            (uint32_t)g.pt, (uint32_t)g.pr, (uint32_t)g.pb, (uint32_t)g.pl, (uint32_t)g.kh,
            (uint32_t)g.kw, (uint32_t)g.sh, (uint32_t)g.sw, (uint32_t)g.dh, (uint32_t)g.dw,
            (size_t)g.c, (size_t)g.c, (size_t)g.c, -INFINITY, INFINITY, EAI__XNN_FLAGS, &op);
        EAI_TRY(eai__xnn_push(c, st, s, op, "create max pooling"));
        s = xnn_setup_max_pooling2d_nhwc_f32(op, (size_t)g.n, (size_t)g.h, (size_t)g.w,
                                             c->in[0].data, c->out[0].data, st->tp);
    } else {
        s = xnn_create_average_pooling2d_nhwc_f32(
            (uint32_t)g.pt, (uint32_t)g.pr, (uint32_t)g.pb, (uint32_t)g.pl, (uint32_t)g.kh,
            (uint32_t)g.kw, (uint32_t)g.sh, (uint32_t)g.sw, (size_t)g.c, (size_t)g.c, (size_t)g.c,
            -INFINITY, INFINITY, EAI__XNN_FLAGS, &op);
        EAI_TRY(eai__xnn_push(c, st, s, op, "create average pooling"));
        s = xnn_setup_average_pooling2d_nhwc_f32(op, (size_t)g.n, (size_t)g.h, (size_t)g.w,
                                                 c->in[0].data, c->out[0].data, st->tp);
    }
    return eai__xnn_check(c, s, "setup pooling");
}

static eai_status_t maxpool_prepare(eai__opctx_t *c, eai__xnn_node_t *st)
{
    return pool_prepare(c, st, true);
}

static eai_status_t avgpool_prepare(eai__opctx_t *c, eai__xnn_node_t *st)
{
    return pool_prepare(c, st, false);
}

static bool gap_supports(const eai__opctx_t *c)
{
    return gap_ok(c, &c->in[0].shape);
}

static eai_status_t gap_prepare(eai__opctx_t *c, eai__xnn_node_t *st)
{
    const eai__shape_t *x = &c->in[0].shape; /* NHWC */
    const size_t ch = (size_t)x->d[3];
    xnn_operator_t op = NULL;
    enum xnn_status s = xnn_create_global_average_pooling_nwc_f32(ch, ch, ch, -INFINITY, INFINITY,
                                                                  EAI__XNN_FLAGS, &op);
    EAI_TRY(eai__xnn_push(c, st, s, op, "create global average pooling"));
    s = xnn_setup_global_average_pooling_nwc_f32(op, (size_t)x->d[0], (size_t)(x->d[1] * x->d[2]),
                                                 c->in[0].data, c->out[0].data, st->tp);
    return eai__xnn_check(c, s, "setup global average pooling");
}

const eai__xnn_op_t eai__xnn_ops_conv[] = {
    {EAI__NHWC_DOMAIN, "Conv", conv_supports, conv_prepare, conv_scratch},
    {EAI__NHWC_DOMAIN, "FusedConv", conv_supports, conv_prepare, conv_scratch},
    {EAI__NHWC_DOMAIN, "MaxPool", maxpool_supports, maxpool_prepare, NULL},
    {EAI__NHWC_DOMAIN, "AveragePool", avgpool_supports, avgpool_prepare, NULL},
    {EAI__NHWC_DOMAIN, "GlobalAveragePool", gap_supports, gap_prepare, NULL},
    {0},
};
