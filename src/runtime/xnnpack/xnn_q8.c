/* XNNPACK family 'q8': the INT8 graph form (docs/quantization.md) on
 * XNNPACK's QS8/QC8 operators, so chains of int8 ops run without leaving
 * int8:
 *   QLinearConv (NHWC twin)      convolution2d_nhwc_qc8 (per-channel weights;
 *                                 depthwise and grouped too)
 *   MaxPool int8 (NHWC twin)     max_pooling2d_nhwc_s8
 *   QLinearGlobalAveragePool     global_average_pooling_nwc_qs8 (NHWC twin,
 *                                 or channels_last=1)
 *   QLinearAdd / QLinearMul      add_nd_qs8 / multiply_nd_qs8 (broadcast)
 *   QGemm (int8 out)             a 1x1 convolution_qc8 over [M, 1, 1, K]
 *                                 (fully_connected has no per-channel QC8)
 *   QGemm (float out, VNNI only) the q8conv dense kernel, float stores
 *   QuantizeLinear / Dequantize  convert_nc_f32_qs8 / convert_nc_qs8_f32
 * On x86 CPUs with AVX512-VNNI, dense (group 1) and depthwise QLinearConvs
 * run on edgeai's own NHWC kernels instead (src/runtime/nhwc/q8conv.c:
 * vpdpbusd, which this XNNPACK snapshot does not use) as a step on the
 * same pthreadpool; elsewhere (ARM: XNNPACK's dot-product kernels) they
 * stay on XNNPACK.
 * Only int8 activations with int8 weights of zero point 0 map; anything
 * else (uint8, weight zero points, float-output QGemm without VNNI) stays
 * on ref. QLinearLut and QLinearConcat run the ref kernels as steps here,
 * large requantising concats cut into parts across the session's threads.
 * Each supports() also checks the scale ratios XNNPACK accepts, so an
 * unusual model falls back instead of failing.
 */
#include <math.h>
#include <stdlib.h>

#include "runtime/nhwc/q8conv_impl.h"
#include "runtime/ref/quant_impl.h"
#include "runtime/xnnpack/xnn_impl.h"

static bool is_i8(const eai__opctx_t *c, int i)
{
    return i < c->n_in && c->node->in[i] >= 0 && c->in[i].dtype == EAI_I8;
}

/* A scale / zero-point input that is one constant value. */
static bool scalar_const(const eai__opctx_t *c, int i)
{
    return i < c->n_in && c->node->in[i] >= 0 && c->in[i].data &&
           c->g->values[c->node->in[i]].kind == EAI__V_CONST &&
           eai__shape_numel(&c->in[i].shape) == 1;
}

static bool const_input(const eai__opctx_t *c, int i)
{
    return i < c->n_in && c->node->in[i] >= 0 && c->in[i].data &&
           c->g->values[c->node->in[i]].kind == EAI__V_CONST;
}

static float scale_of(const eai__opctx_t *c, int i)
{
    return eai__q_scale(&c->in[i], 0);
}

static int8_t zp_of(const eai__opctx_t *c, int i)
{
    return (int8_t)eai__q_zp(&c->in[i], 0);
}

/* ---- QLinearConv (and QGemm as a 1x1 conv) ---- */

/* The int8 weight tensor at input iw has zero points 0 and per-channel
 * requantisation scales XNNPACK accepts: [2^-32, 256). */
static bool qc8_weights_ok(const eai__opctx_t *c, int ixs, int iw, int iws, int iwz, int iys,
                           int64_t m, float extra)
{
    if (!const_input(c, iw) || c->in[iw].dtype != EAI_I8 || !const_input(c, iws)) return false;
    if (iwz >= 0 && iwz < c->n_in && c->node->in[iwz] >= 0) {
        if (!const_input(c, iwz) || c->in[iwz].dtype != EAI_I8) return false;
        for (int64_t k = 0; k < eai__shape_numel(&c->in[iwz].shape); k++)
            if (eai__q_zp(&c->in[iwz], k) != 0) return false;
    }
    const float sx = scale_of(c, ixs), sy = scale_of(c, iys);
    for (int64_t k = 0; k < m; k++) {
        const float r = sx * extra * eai__q_scale(&c->in[iws], k) / sy;
        if (!(r >= 0x1.0p-32f && r < 256.0f)) return false;
    }
    return true;
}

static bool qconv_ok(const eai__opctx_t *c, const eai__qconv_params_t *p)
{
    const eai__conv_geom_t *g = &p->g;
    if (p->integer || g->nsp != 2 || !is_i8(c, 0) || !is_i8(c, 7) || c->out[0].dtype != EAI_I8)
        return false;
    if (!scalar_const(c, 1) || !scalar_const(c, 2) || !scalar_const(c, 6) || !scalar_const(c, 7))
        return false;
    if (eai__has_in(c, 8) && !const_input(c, 8)) return false;
    for (int i = 1; i < 3; i++)
        if (g->pb[i] < 0 || g->pe[i] < 0 || g->pb[i] > 65535 || g->pe[i] > 65535) return false;
    return qc8_weights_ok(c, 1, 3, 4, 5, 6, g->m, 1.0f);
}

/* The NCHW QLinearConv node (layout pass) and its NHWC twin (supports)
 * parse to the same params: the twin's are behind the NHWC header. */
static const eai__qconv_params_t *qconv_params(const eai__opctx_t *c)
{
    const bool twin = strcmp(c->node->domain, EAI__NHWC_DOMAIN) == 0;
    return twin ? eai__nhwc_inner_params(c) : c->params;
}

static bool qconv_supports(const eai__opctx_t *c)
{
    return qconv_ok(c, qconv_params(c));
}

/* One QC8 convolution; W is [M][Cg][KH][KW] (OIHW) and XNNPACK wants
 * [groups][Mg][KH][KW][Cg]; for a 1x1 these are the same. */
static eai_status_t push_qc8(eai__opctx_t *c, eai__xnn_node_t *st, const eai__conv_geom_t *g,
                             const int8_t *w, const float *wscale, float scale_mult,
                             const int32_t *bias, int8_t zx, float sx, int8_t zy, float sy,
                             const int8_t *x, int8_t *y, size_t batch)
{
    const int64_t cg = g->c / g->group, mg = g->m / g->group, khw = g->k[1] * g->k[2];
    const size_t wn = (size_t)(g->m * cg * khw);
    int8_t *wt = eai__alloc_aligned(&st->alloc, wn + EAI__READ_PAD);
    float *ws = eai__alloc_aligned(&st->alloc, (size_t)g->m * sizeof(float) + EAI__READ_PAD);
    if (!wt || !ws) {
        eai__free_aligned(&st->alloc, wt);
        eai__free_aligned(&st->alloc, ws);
        return eai__op_fail(c, EAI_E_NOMEM, "out of memory");
    }
    for (int64_t o = 0; o < g->m; o++) {
        ws[o] = wscale[o] * scale_mult;
        for (int64_t i = 0; i < cg; i++)
            for (int64_t k = 0; k < khw; k++)
                wt[(o * khw + k) * cg + i] = w[(o * cg + i) * khw + k];
    }
    xnn_operator_t op = NULL;
    enum xnn_status s = xnn_create_convolution2d_nhwc_qc8(
        (uint32_t)g->pb[1], (uint32_t)g->pe[2], (uint32_t)g->pe[1], (uint32_t)g->pb[2],
        (uint32_t)g->k[1], (uint32_t)g->k[2], (uint32_t)g->s[1], (uint32_t)g->s[2],
        (uint32_t)g->d[1], (uint32_t)g->d[2], (uint32_t)g->group, (size_t)cg, (size_t)mg,
        (size_t)g->c, (size_t)g->m, zx, sx, ws, wt, bias, zy, sy, INT8_MIN, INT8_MAX, 0, &op);
    eai__free_aligned(&st->alloc, wt);
    eai__free_aligned(&st->alloc, ws);
    EAI_TRY(eai__xnn_push(c, st, s, op, "create convolution (qc8)"));
    st->bytes += wn + (size_t)g->m * (sizeof(int32_t) + sizeof(float));
    return eai__xnn_check(c,
                          xnn_setup_convolution2d_nhwc_qc8(op, batch, (size_t)g->in[1],
                                                           (size_t)g->in[2], x, y, st->tp),
                          "setup convolution (qc8)");
}

/* Per-channel scales as an array (a per-tensor scale repeated). */
static eai_status_t wscales(eai__opctx_t *c, eai__xnn_node_t *st, int iws, int64_t m, float **out)
{
    void *b;
    EAI_TRY(eai__xnn_buffer(c, st, (size_t)m * sizeof(float), NULL, &b));
    float *w = b;
    for (int64_t k = 0; k < m; k++)
        w[k] = eai__q_scale(&c->in[iws], k);
    *out = w;
    return EAI_OK;
}

/* The geometry of a 2-D QLinearConv the q8conv kernels run (group 1, or
 * depthwise with multiplier 1 and at most 7x7 taps); false otherwise. */
static bool q8c_geom(const eai__qconv_params_t *p, eai__q8c_geom_t *q)
{
    const eai__conv_geom_t *g = &p->g;
    if (g->nsp != 2) return false;
    memset(q, 0, sizeof *q);
    q->depthwise = g->group > 1;
    if (q->depthwise && (g->group != g->c || g->m != g->c || g->k[1] * g->k[2] > 49)) return false;
    q->n = g->n;
    q->ih = g->in[1];
    q->iw = g->in[2];
    q->c = g->c;
    q->oh = g->out[1];
    q->ow = g->out[2];
    q->m = g->m;
    q->kh = g->k[1];
    q->kw = g->k[2];
    q->sh = g->s[1];
    q->sw = g->s[2];
    q->dh = g->d[1];
    q->dw = g->d[2];
    q->pt = g->pb[1];
    q->pl = g->pb[2];
    return q->n * q->oh * q->ow > 0 && q->m > 0 && q->c > 0;
}

static void q8c_range(void *arg, size_t begin, size_t count)
{
    eai__q8c_run(arg, (int64_t)begin, (int64_t)(begin + count));
}

/* Runs a q8conv kernel; on a pool, ranges of about 1/8 of a thread's share
 * (tasks are small: MR pixels x 64 channels, or one output row). */
static void q8c_step(const void *arg, pthreadpool_t tp)
{
    const eai__q8c_t *k = arg;
    const int64_t n = eai__q8c_n_tasks(k);
    eai__q8c_begin(k);
    const size_t nth = tp ? pthreadpool_get_threads_count(tp) : 1;
    if (nth <= 1 || n < 2) {
        eai__q8c_run(k, 0, n);
        return;
    }
    size_t tile = (size_t)n / (8 * nth);
    pthreadpool_parallelize_1d_tile_1d(tp, q8c_range, (void *)(uintptr_t)k, (size_t)n,
                                       tile ? tile : 1, EAI__XNN_PT_FLAGS);
}

static eai_status_t q8c_prepare(eai__opctx_t *c, eai__xnn_node_t *st, const eai__q8c_geom_t *q)
{
    void *kb, *mem;
    EAI_TRY(eai__xnn_buffer(c, st, sizeof(eai__q8c_t), NULL, &kb));
    EAI_TRY(eai__xnn_buffer(c, st, eai__q8c_mem_bytes(q), NULL, &mem));
    float *ws;
    EAI_TRY(wscales(c, st, 4, q->m, &ws));
    eai__q8c_init(kb, q, c->in[3].data, eai__has_in(c, 8) ? c->in[8].data : NULL, ws,
                  scale_of(c, 1), zp_of(c, 2), scale_of(c, 6), zp_of(c, 7), c->in[0].data,
                  c->out[0].data, true, mem);
    return eai__xnn_push_fn(c, st, q8c_step, kb);
}

static eai_status_t qconv_prepare(eai__opctx_t *c, eai__xnn_node_t *st)
{
    const eai__qconv_params_t *p = qconv_params(c);
    if (EAI_NEVER(!qconv_ok(c, p)))
        return eai__op_fail(c, EAI_E_STATE, "xnnpack: QLinearConv no longer maps");
    eai__q8c_geom_t q;
    if (eai__q8c_simd_available() && q8c_geom(p, &q)) return q8c_prepare(c, st, &q);
    float *ws;
    EAI_TRY(wscales(c, st, 4, p->g.m, &ws));
    return push_qc8(c, st, &p->g, c->in[3].data, ws, 1.0f, eai__has_in(c, 8) ? c->in[8].data : NULL,
                    zp_of(c, 2), scale_of(c, 1), zp_of(c, 7), scale_of(c, 6), c->in[0].data,
                    c->out[0].data, (size_t)p->g.n);
}

/* QGemm with transB=1, transA=0, int8 in and out: [M, K] rows are M
 * one-pixel images of K channels. */
static bool qgemm_ok(const eai__opctx_t *c)
{
    const eai__attr_t *ta = eai__node_attr(c->node, "transA");
    const eai__attr_t *tb = eai__node_attr(c->node, "transB");
    if ((ta && ta->i != 0) || !tb || tb->i != 1) return false;
    if (!is_i8(c, 0) || !eai__has_in(c, 7) || !is_i8(c, 8) || c->out[0].dtype != EAI_I8)
        return false;
    if (!scalar_const(c, 1) || !scalar_const(c, 2) || !scalar_const(c, 7) || !scalar_const(c, 8))
        return false;
    if (c->in[0].shape.rank != 2 || c->in[3].shape.rank != 2) return false;
    const int64_t n = c->in[3].shape.d[0];
    if (eai__has_in(c, 6) &&
        (!const_input(c, 6) || c->in[6].shape.rank != 1 || c->in[6].shape.d[0] != n))
        return false;
    const eai__attr_t *al = eai__node_attr(c->node, "alpha");
    const float alpha = al && al->type == EAI__A_FLOAT ? al->f : 1.0f;
    return alpha > 0 && qc8_weights_ok(c, 1, 3, 4, 5, 7, n, alpha);
}

/* QGemm with a float output (the classifier's logits, no y_scale):
 * [M, K] x [N, K]^T on the q8conv dense kernel as M one-pixel rows, when
 * it runs on this CPU (else ref, which computes the same). */
static bool qgemm_f32_ok(const eai__opctx_t *c)
{
    const eai__attr_t *ta = eai__node_attr(c->node, "transA");
    const eai__attr_t *tb = eai__node_attr(c->node, "transB");
    if ((ta && ta->i != 0) || !tb || tb->i != 1 || eai__has_in(c, 7)) return false;
    if (!eai__q8c_simd_available() || !is_i8(c, 0) || c->out[0].dtype != EAI_F32) return false;
    if (!scalar_const(c, 1) || !scalar_const(c, 2) || !const_input(c, 4)) return false;
    if (c->in[0].shape.rank != 2 || c->in[3].shape.rank != 2 || !const_input(c, 3) ||
        c->in[3].dtype != EAI_I8)
        return false;
    const int64_t n = c->in[3].shape.d[0];
    if (eai__shape_numel(&c->in[4].shape) != 1 && eai__shape_numel(&c->in[4].shape) != n)
        return false;
    if (eai__has_in(c, 5)) {
        if (!const_input(c, 5) || c->in[5].dtype != EAI_I8) return false;
        for (int64_t k = 0; k < eai__shape_numel(&c->in[5].shape); k++)
            if (eai__q_zp(&c->in[5], k) != 0) return false;
    }
    if (eai__has_in(c, 6) && (!const_input(c, 6) || c->in[6].dtype != EAI_I32 ||
                              c->in[6].shape.rank != 1 || c->in[6].shape.d[0] != n))
        return false;
    const eai__attr_t *al = eai__node_attr(c->node, "alpha");
    return !al || al->type != EAI__A_FLOAT || al->f > 0;
}

static eai_status_t qgemm_f32_prepare(eai__opctx_t *c, eai__xnn_node_t *st)
{
    const eai__attr_t *al = eai__node_attr(c->node, "alpha");
    const float alpha = al && al->type == EAI__A_FLOAT ? al->f : 1.0f;
    eai__q8c_geom_t q;
    memset(&q, 0, sizeof q);
    q.n = 1;
    q.ih = q.oh = c->in[0].shape.d[0];
    q.iw = q.ow = 1;
    q.c = c->in[0].shape.d[1];
    q.m = c->in[3].shape.d[0];
    q.kh = q.kw = q.sh = q.sw = q.dh = q.dw = 1;
    void *kb, *mem;
    EAI_TRY(eai__xnn_buffer(c, st, sizeof(eai__q8c_t), NULL, &kb));
    EAI_TRY(eai__xnn_buffer(c, st, eai__q8c_mem_bytes(&q), NULL, &mem));
    float *ws;
    EAI_TRY(wscales(c, st, 4, q.m, &ws));
    /* the ref kernel's multiplier: alpha * s_a * s_b[n] / 1 */
    eai__q8c_init(kb, &q, c->in[3].data, eai__has_in(c, 6) ? c->in[6].data : NULL, ws,
                  alpha * scale_of(c, 1), zp_of(c, 2), 1.0f, 0, c->in[0].data, NULL, true, mem);
    ((eai__q8c_t *)kb)->yf = c->out[0].data;
    return eai__xnn_push_fn(c, st, q8c_step, kb);
}

static bool qgemm_any_ok(const eai__opctx_t *c)
{
    return qgemm_ok(c) || qgemm_f32_ok(c);
}

static eai_status_t qgemm_prepare(eai__opctx_t *c, eai__xnn_node_t *st)
{
    if (!qgemm_ok(c) && qgemm_f32_ok(c)) return qgemm_f32_prepare(c, st);
    if (EAI_NEVER(!qgemm_ok(c)))
        return eai__op_fail(c, EAI_E_STATE, "xnnpack: QGemm no longer maps");
    const eai__attr_t *al = eai__node_attr(c->node, "alpha");
    const float alpha = al && al->type == EAI__A_FLOAT ? al->f : 1.0f;
    eai__conv_geom_t g;
    memset(&g, 0, sizeof g);
    g.nsp = 2;
    g.n = c->in[0].shape.d[0];
    g.c = c->in[0].shape.d[1];
    g.m = c->in[3].shape.d[0];
    g.group = 1;
    for (int i = 0; i < EAI__CONV_SP; i++)
        g.in[i] = g.out[i] = g.k[i] = g.s[i] = g.d[i] = 1;
    float *ws;
    EAI_TRY(wscales(c, st, 4, g.m, &ws));
    return push_qc8(c, st, &g, c->in[3].data, ws, alpha, eai__has_in(c, 6) ? c->in[6].data : NULL,
                    zp_of(c, 2), scale_of(c, 1), zp_of(c, 8), scale_of(c, 7), c->in[0].data,
                    c->out[0].data, (size_t)g.n);
}

/* ---- int8 MaxPool (NHWC twin) ---- */

static bool ints_attr(const eai__opctx_t *c, const char *name, int64_t def, int64_t *v, int n)
{
    const eai__attr_t *a = eai__node_attr(c->node, name);
    for (int i = 0; i < n; i++)
        v[i] = def;
    if (!a) return true;
    if (a->type != EAI__A_INTS || a->n != n) return false;
    memcpy(v, a->ints, sizeof(int64_t) * (size_t)n);
    return true;
}

/* NCHW x/y shapes of the node (twin or not). */
static void nchw_shapes(const eai__opctx_t *c, eai__shape_t *x, eai__shape_t *y)
{
    if (strcmp(c->node->domain, EAI__NHWC_DOMAIN) == 0) {
        eai__nhwc_to_nchw_shape(&c->in[0].shape, x);
        eai__nhwc_to_nchw_shape(&c->out[0].shape, y);
    } else {
        *x = c->in[0].shape;
        *y = c->out[0].shape;
    }
}

typedef struct pool2 {
    int64_t k[2], s[2], d[2], p[4]; /* pads top, left, bottom, right */
} pool2_t;

static bool maxpool_ok(const eai__opctx_t *c, pool2_t *q)
{
    if (c->in[0].dtype != EAI_I8 || (c->n_out > 1 && c->node->out[1] >= 0)) return false;
    eai__shape_t x, y;
    nchw_shapes(c, &x, &y);
    if (x.rank != 4 || y.rank != 4 || eai__shape_numel(&y) == 0) return false;
    const eai__attr_t *ap = eai__node_attr(c->node, "auto_pad");
    if (ap && (ap->type != EAI__A_STRING || strcmp(ap->s, "NOTSET") != 0)) return false;
    if (!eai__node_attr(c->node, "kernel_shape") || !ints_attr(c, "kernel_shape", 1, q->k, 2) ||
        !ints_attr(c, "strides", 1, q->s, 2) || !ints_attr(c, "dilations", 1, q->d, 2) ||
        !ints_attr(c, "pads", 0, q->p, 4))
        return false;
    if (q->k[0] * q->k[1] <= 1) return false; /* XNNPACK rejects 1x1 pools */
    /* ceil_mode: widen the bottom/right pads until floor mode gives y */
    for (int i = 0; i < 2; i++) {
        if (q->s[i] < 1 || q->d[i] < 1 || q->p[i] < 0 || q->p[i + 2] < 0) return false;
        const int64_t ek = (q->k[i] - 1) * q->d[i] + 1;
        const int64_t need = (y.d[2 + i] - 1) * q->s[i] + ek - x.d[2 + i] - q->p[i];
        if (need > q->p[i + 2]) q->p[i + 2] = need;
        if ((x.d[2 + i] + q->p[i] + q->p[i + 2] - ek) / q->s[i] + 1 != y.d[2 + i]) return false;
    }
    return true;
}

static bool maxpool_supports(const eai__opctx_t *c)
{
    pool2_t q;
    return maxpool_ok(c, &q);
}

static eai_status_t maxpool_prepare(eai__opctx_t *c, eai__xnn_node_t *st)
{
    pool2_t q;
    if (EAI_NEVER(!maxpool_ok(c, &q)))
        return eai__op_fail(c, EAI_E_STATE, "xnnpack: MaxPool no longer maps");
    const eai__shape_t *x = &c->in[0].shape; /* NHWC */
    const size_t ch = (size_t)x->d[3];
    xnn_operator_t op = NULL;
    enum xnn_status s = xnn_create_max_pooling2d_nhwc_s8(
        (uint32_t)q.p[0], (uint32_t)q.p[3], (uint32_t)q.p[2], (uint32_t)q.p[1], (uint32_t)q.k[0],
        (uint32_t)q.k[1], (uint32_t)q.s[0], (uint32_t)q.s[1], (uint32_t)q.d[0], (uint32_t)q.d[1],
        ch, ch, ch, INT8_MIN, INT8_MAX, 0, &op);
    EAI_TRY(eai__xnn_push(c, st, s, op, "create max pooling (s8)"));
    return eai__xnn_check(c,
                          xnn_setup_max_pooling2d_nhwc_s8(op, (size_t)x->d[0], (size_t)x->d[1],
                                                          (size_t)x->d[2], c->in[0].data,
                                                          c->out[0].data, st->tp),
                          "setup max pooling (s8)");
}

/* ---- QLinearGlobalAveragePool ---- */

static bool gap_ok(const eai__opctx_t *c)
{
    const bool twin = strcmp(c->node->domain, EAI__NHWC_DOMAIN) == 0;
    const eai__attr_t *cl = eai__node_attr(c->node, "channels_last");
    const bool nhwc = twin ? !(cl && cl->i) : (cl && cl->i);
    if (!nhwc || !is_i8(c, 0) || c->in[0].shape.rank != 4) return false;
    if (!scalar_const(c, 1) || !scalar_const(c, 2) || !scalar_const(c, 3) || !scalar_const(c, 4))
        return false;
    const float r = scale_of(c, 1) / scale_of(c, 3);
    return r >= 0x1.0p-8f && r < 0x1.0p+8f;
}

static eai_status_t gap_prepare(eai__opctx_t *c, eai__xnn_node_t *st)
{
    const eai__shape_t *x = &c->in[0].shape; /* NHWC */
    const size_t ch = (size_t)x->d[3];
    xnn_operator_t op = NULL;
    enum xnn_status s = xnn_create_global_average_pooling_nwc_qs8(
        ch, ch, ch, zp_of(c, 2), scale_of(c, 1), zp_of(c, 4), scale_of(c, 3), INT8_MIN, INT8_MAX, 0,
        &op);
    EAI_TRY(eai__xnn_push(c, st, s, op, "create global average pooling (qs8)"));
    return eai__xnn_check(
        c,
        xnn_setup_global_average_pooling_nwc_qs8(op, (size_t)x->d[0], (size_t)(x->d[1] * x->d[2]),
                                                 c->in[0].data, c->out[0].data, st->tp),
        "setup global average pooling (qs8)");
}

/* ---- QLinearAdd / QLinearMul ---- */

static bool binary_ok(const eai__opctx_t *c, bool mul)
{
    if (!is_i8(c, 0) || !is_i8(c, 3) || c->out[0].dtype != EAI_I8) return false;
    for (int i = 1; i < 8; i++)
        if (i != 3 && !scalar_const(c, i)) return false;
    if (c->in[0].shape.rank > XNN_MAX_TENSOR_DIMS || c->in[3].shape.rank > XNN_MAX_TENSOR_DIMS)
        return false;
    const float sa = scale_of(c, 1), sb = scale_of(c, 4), sy = scale_of(c, 6);
    if (mul) {
        const float r = sa * sb / sy;
        return r >= 0x1.0p-16f && r < 0x1.0p+8f;
    }
    const float ra = sa / sy, rb = sb / sy;
    return ra >= 0x1.0p-10f && ra < 0x1.0p+8f && rb >= 0x1.0p-10f && rb < 0x1.0p+8f;
}

static bool add_supports(const eai__opctx_t *c)
{
    return binary_ok(c, false);
}

static bool mul_supports(const eai__opctx_t *c)
{
    return binary_ok(c, true);
}

static eai_status_t binary_prepare(eai__opctx_t *c, eai__xnn_node_t *st, bool mul)
{
    size_t da[XNN_MAX_TENSOR_DIMS], db[XNN_MAX_TENSOR_DIMS];
    const eai__shape_t *a = &c->in[0].shape, *b = &c->in[3].shape;
    for (int i = 0; i < a->rank; i++)
        da[i] = (size_t)a->d[i];
    for (int i = 0; i < b->rank; i++)
        db[i] = (size_t)b->d[i];
    xnn_operator_t op = NULL;
    enum xnn_status s;
    if (mul) {
        s = xnn_create_multiply_nd_qs8(zp_of(c, 2), scale_of(c, 1), zp_of(c, 5), scale_of(c, 4),
                                       zp_of(c, 7), scale_of(c, 6), INT8_MIN, INT8_MAX, 0, &op);
        EAI_TRY(eai__xnn_push(c, st, s, op, "create multiply (qs8)"));
        s = xnn_setup_multiply_nd_qs8(op, (size_t)a->rank, da, (size_t)b->rank, db, c->in[0].data,
                                      c->in[3].data, c->out[0].data, st->tp);
    } else {
        s = xnn_create_add_nd_qs8(zp_of(c, 2), scale_of(c, 1), zp_of(c, 5), scale_of(c, 4),
                                  zp_of(c, 7), scale_of(c, 6), INT8_MIN, INT8_MAX, 0, &op);
        EAI_TRY(eai__xnn_push(c, st, s, op, "create add (qs8)"));
        s = xnn_setup_add_nd_qs8(op, (size_t)a->rank, da, (size_t)b->rank, db, c->in[0].data,
                                 c->in[3].data, c->out[0].data, st->tp);
    }
    return eai__xnn_check(c, s, mul ? "setup multiply (qs8)" : "setup add (qs8)");
}

static eai_status_t add_prepare(eai__opctx_t *c, eai__xnn_node_t *st)
{
    return binary_prepare(c, st, false);
}

static eai_status_t mul_prepare(eai__opctx_t *c, eai__xnn_node_t *st)
{
    return binary_prepare(c, st, true);
}

/* ---- QuantizeLinear / DequantizeLinear (per tensor, int8) ---- */

static bool convert_ok(const eai__opctx_t *c, bool quantize)
{
    if (!scalar_const(c, 1) || (c->n_in > 2 && c->node->in[2] >= 0 && !scalar_const(c, 2)))
        return false;
    if (quantize)
        return c->in[0].dtype == EAI_F32 && c->out[0].dtype == EAI_I8 && scale_of(c, 1) > 0 &&
               isnormal(scale_of(c, 1));
    return c->in[0].dtype == EAI_I8 && c->out[0].dtype == EAI_F32;
}

static bool quantize_supports(const eai__opctx_t *c)
{
    return convert_ok(c, true);
}

static bool dequantize_supports(const eai__opctx_t *c)
{
    return convert_ok(c, false);
}

static eai_status_t convert_prepare(eai__opctx_t *c, eai__xnn_node_t *st, bool quantize)
{
    const size_t n = (size_t)eai__shape_numel(&c->in[0].shape);
    const int8_t zp = c->n_in > 2 && c->node->in[2] >= 0 ? zp_of(c, 2) : 0;
    xnn_operator_t op = NULL;
    enum xnn_status s;
    if (quantize) {
        s = xnn_create_convert_nc_f32_qs8(n, n, n, scale_of(c, 1), zp, INT8_MIN, INT8_MAX, 0, &op);
        EAI_TRY(eai__xnn_push(c, st, s, op, "create convert (f32 -> qs8)"));
        s = xnn_setup_convert_nc_f32_qs8(op, 1, c->in[0].data, c->out[0].data, st->tp);
    } else {
        s = xnn_create_convert_nc_qs8_f32(n, n, n, scale_of(c, 1), zp, 0, &op);
        EAI_TRY(eai__xnn_push(c, st, s, op, "create convert (qs8 -> f32)"));
        s = xnn_setup_convert_nc_qs8_f32(op, 1, c->in[0].data, c->out[0].data, st->tp);
    }
    return eai__xnn_check(c, s, "setup convert");
}

static eai_status_t quantize_prepare(eai__opctx_t *c, eai__xnn_node_t *st)
{
    return convert_prepare(c, st, true);
}

static eai_status_t dequantize_prepare(eai__opctx_t *c, eai__xnn_node_t *st)
{
    return convert_prepare(c, st, false);
}

/* ---- QLinearLut, QLinearConcat: the ref kernels as steps ---- */

/* Both are byte lookups / copies. As steps of this backend they run
 * between XNNPACK operators; left to ref, the session would send the pool
 * to sleep before each large one (its idle hook) and wake it again after,
 * which on 2 threads cost more than the lookups (mobilenet_v3's and YOLO's
 * activations are QLinearLut). On a pool, a large concat that requantises
 * is cut at prepare into parts along the outermost axis before the concat
 * axis that has more than one index, each part a copy of the node's
 * context with sub-shapes and offset pointers and its own params from the
 * op's infer; the ref kernel runs on each part, so the bytes written are
 * the same as one call's. */
#define REF_PARTS_MAX 8
#define REF_IN_MAX    32
/* Outputs from which a requantising concat is cut (about 30 us of work). */
#define REF_MIN_OUTPUTS 65536

typedef struct ref_part {
    _Alignas(64) unsigned char params[EAI__PARAMS_BYTES];
    eai__opctx_t c;
    eai__tview_t in[REF_IN_MAX], out[1];
} ref_part_t;

typedef struct ref_step_arg {
    const eai__opctx_t *c; /* the session's kernel context: stable, final */
    eai_status_t (*eval)(eai__opctx_t *c);
    int n_parts; /* 0: run c whole */
    ref_part_t *parts;
} ref_step_arg_t;

static void ref_part_run(void *arg, size_t i)
{
    const ref_step_arg_t *a = arg;
    (void)a->eval(&a->parts[i].c); /* checked at infer: cannot fail */
}

static void ref_step(const void *arg, pthreadpool_t tp)
{
    const ref_step_arg_t *a = arg;
    if (a->n_parts == 0) {
        eai__opctx_t c = *a->c;
        c.pool = NULL;
        (void)a->eval(&c); /* checked at infer: cannot fail on a planned node */
        return;
    }
    pthreadpool_parallelize_1d(tp, ref_part_run, (void *)(uintptr_t)a, (size_t)a->n_parts,
                               EAI__XNN_PT_FLAGS);
}

static bool lut_supports(const eai__opctx_t *c)
{
    return c->scratch_bytes == 0 && c->n_out == 1;
}

/* Whether a concat input's scale or zero point differs from the output's. */
static bool requantises(const eai__opctx_t *c)
{
    for (int i = 2; i + 2 < c->n_in; i += 3)
        if (scale_of(c, i + 1) != scale_of(c, 0) || zp_of(c, i + 2) != zp_of(c, 1)) return true;
    return false;
}

/* Whether concat input i is a tensor that parts cut (the others, scales
 * and zero points, are shared). */
static bool is_cut(int i)
{
    return i >= 2 && (i - 2) % 3 == 0;
}

/* Cuts view v to indices [lo, hi) of axis k. */
static void cut_view(eai__tview_t *v, int k, int64_t lo, int64_t hi)
{
    const size_t es = eai_dtype_size(v->dtype);
    int64_t inner = 1;
    for (int d = k + 1; d < v->shape.rank; d++)
        inner *= v->shape.d[d];
    v->data = (uint8_t *)v->data + (size_t)(lo * inner) * es;
    v->shape.d[k] = hi - lo;
}

static eai_status_t push_ref(eai__opctx_t *c, eai__xnn_node_t *st,
                             eai_status_t (*infer)(eai__opctx_t *c),
                             eai_status_t (*eval)(eai__opctx_t *c), bool concat)
{
    const eai__shape_t *y = &c->out[0].shape;
    const int nth = st->tp ? (int)pthreadpool_get_threads_count(st->tp) : 1;
    /* the axis to cut and its length */
    int k = -1;
    int64_t len = 1;
    if (concat) {
        const eai__attr_t *ax = eai__node_attr(c->node, "axis");
        int64_t a = ax && ax->type == EAI__A_INT ? ax->i : 0;
        if (a < 0) a += y->rank;
        for (int d = 0; d < a && d < y->rank; d++)
            if (y->d[d] > 1) {
                k = d;
                len = y->d[d];
                break;
            }
    }
    /* Only requantising concats are worth the threads: a LUT (VBMI) or a
     * copy does ~10 bytes a nanosecond, less than waking a worker costs.
     * EAI_XNN_REF_WHOLE=1: always one call (A/B benchmarks). */
    const char *whole = getenv("EAI_XNN_REF_WHOLE");
    int n_parts = nth > 1 && concat && requantises(c) && eai__shape_numel(y) >= REF_MIN_OUTPUTS &&
                          c->n_in <= REF_IN_MAX && !(whole && whole[0] == '1')
                      ? 2 * nth
                      : 0;
    if (n_parts > REF_PARTS_MAX) n_parts = REF_PARTS_MAX;
    if (n_parts > len) n_parts = len < 2 ? 0 : (int)len;
    const size_t bytes = sizeof(ref_step_arg_t) + 64 + (size_t)n_parts * sizeof(ref_part_t);
    void *b;
    EAI_TRY(eai__xnn_buffer(c, st, bytes, NULL, &b));
    ref_step_arg_t *a = b;
    a->c = c;
    a->eval = eval;
    a->n_parts = n_parts;
    a->parts = (ref_part_t *)(void *)EAI_ALIGN_UP((uintptr_t)(a + 1), 64);
    for (int p = 0; p < n_parts; p++) {
        ref_part_t *rp = &a->parts[p];
        const int64_t lo = len * p / n_parts, hi = len * (p + 1) / n_parts;
        memcpy(rp->in, c->in, sizeof(eai__tview_t) * (size_t)c->n_in);
        rp->out[0] = c->out[0];
        for (int i = 0; i < c->n_in; i++)
            if (is_cut(i) && eai__has_in(c, i)) cut_view(&rp->in[i], k, lo, hi);
        cut_view(&rp->out[0], k, lo, hi);
        rp->c = *c;
        rp->c.in = rp->in;
        rp->c.out = rp->out;
        rp->c.n_out = 1;
        rp->c.params = rp->params;
        rp->c.scratch = NULL;
        rp->c.pool = NULL;
        const eai__shape_t want = rp->out[0].shape;
        EAI_TRY(infer(&rp->c));
        bool same = want.rank == rp->out[0].shape.rank;
        for (int d = 0; same && d < want.rank; d++)
            same = want.d[d] == rp->out[0].shape.d[d];
        if (EAI_NEVER(!same))
            return eai__op_fail(c, EAI_E_STATE, "xnnpack: a part's shape does not add up");
    }
    return eai__xnn_push_fn(c, st, ref_step, a);
}

static eai_status_t lut_prepare(eai__opctx_t *c, eai__xnn_node_t *st)
{
    return push_ref(c, st, eai__q_lut_infer, eai__q_lut_eval, false);
}

static eai_status_t concat_prepare(eai__opctx_t *c, eai__xnn_node_t *st)
{
    return push_ref(c, st, eai__q_concat_infer, eai__q_concat_eval, true);
}

/* ---- layout and table ---- */

bool eai__xnn_q8_wants_nhwc(const eai__opctx_t *c)
{
    const char *op = c->node->op, *dom = c->node->domain;
    if (dom[0] && strcmp(dom, "ai.onnx") != 0 && strcmp(dom, "com.microsoft") != 0) return false;
    if (strcmp(op, "QLinearConv") == 0) return qconv_ok(c, c->params);
    if (strcmp(op, "MaxPool") == 0) return maxpool_supports(c);
    if (strcmp(op, "QLinearGlobalAveragePool") == 0) {
        const eai__attr_t *cl = eai__node_attr(c->node, "channels_last");
        return !(cl && cl->i) && is_i8(c, 0) && c->in[0].shape.rank == 4;
    }
    return false;
}

const eai__xnn_op_t eai__xnn_ops_q8[] = {
    {EAI__NHWC_DOMAIN, "QLinearConv", qconv_supports, qconv_prepare, NULL},
    {EAI__NHWC_DOMAIN, "MaxPool", maxpool_supports, maxpool_prepare, NULL},
    {EAI__NHWC_DOMAIN, "QLinearGlobalAveragePool", gap_ok, gap_prepare, NULL},
    {"com.microsoft", "QLinearGlobalAveragePool", gap_ok, gap_prepare, NULL},
    {"com.microsoft", "QLinearAdd", add_supports, add_prepare, NULL},
    {"com.microsoft", "QLinearMul", mul_supports, mul_prepare, NULL},
    {"com.microsoft", "QGemm", qgemm_any_ok, qgemm_prepare, NULL},
    {"com.microsoft", "QLinearConcat", lut_supports, concat_prepare, NULL},
    {"com.edgeai", "QLinearLut", lut_supports, lut_prepare, NULL},
    {"", "QuantizeLinear", quantize_supports, quantize_prepare, NULL},
    {"", "DequantizeLinear", dequantize_supports, dequantize_prepare, NULL},
    {0},
};
