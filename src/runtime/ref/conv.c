/* Op family 'conv' (ref backend): Conv (this file) and ConvTranspose
 * (conv_transpose.c), float32 NCHW, 1-D to 3-D, groups, dilations, pads and
 * auto_pad (ONNX Conv-11, ConvTranspose-11).
 *
 * Infer picks one kernel per node: a 1x1 stride-1 unpadded conv is one GEMM
 * on the image as it lies; a depthwise 1-D/2-D conv is a direct loop over
 * output rows in SSE/NEON, AVX2 or AVX-512 vectors (picked per call); the
 * rest lowers column tiles of the image into c->scratch (im2col) and
 * multiplies them with eai__sgemm, each thread its own tiles. Geometry is
 * normalised to three spatial dims (conv_impl.h), so one loop nest serves
 * every rank. FusedConv (fused.c) is this Conv with an activation applied
 * to each output block as it is finished: in the GEMM's panels, after each
 * depthwise row block.
 */
#include "runtime/ref/conv_impl.h"

/* ---- attributes shared with ConvTranspose ---- */

eai_status_t eai__conv_bias(eai__opctx_t *c, int64_t m, bool *has_bias)
{
    *has_bias = eai__has_in(c, 2);
    if (!*has_bias) return EAI_OK;
    EAI_TRY(eai__op_f32(c, 2));
    const eai__shape_t *b = &c->in[2].shape;
    if (b->rank != 1 || b->d[0] != m)
        return eai__op_fail(c, EAI_E_FORMAT,
                            "B must be 1-D with %lld values (one per output channel), it has "
                            "rank %d and %lld values",
                            (long long)m, b->rank, (long long)eai__shape_numel(b));
    return EAI_OK;
}

eai_status_t eai__conv_parse(eai__opctx_t *c, eai__conv_geom_t *g)
{
    EAI_TRY(eai__op_f32(c, 0));
    EAI_TRY(eai__op_f32(c, 1));
    const eai__shape_t *x = &c->in[0].shape, *w = &c->in[1].shape;
    if (x->rank < 3 || x->rank > 5)
        return eai__op_fail(c, EAI_E_UNSUPPORTED,
                            "X has rank %d; 1-D to 3-D convolutions (rank 3 to 5) are supported",
                            x->rank);
    if (w->rank != x->rank)
        return eai__op_fail(c, EAI_E_FORMAT, "W has rank %d but X has rank %d; they must match",
                            w->rank, x->rank);
    memset(g, 0, sizeof *g);
    const int nsp = x->rank - 2, off = EAI__CONV_SP - nsp;
    g->nsp = nsp;
    for (int i = 0; i < EAI__CONV_SP; i++)
        g->in[i] = g->out[i] = g->k[i] = g->s[i] = g->d[i] = 1;
    g->n = x->d[0];
    g->c = x->d[1];
    EAI_TRY(eai__op_int(c, "group", 1, &g->group));
    if (g->group < 1)
        return eai__op_fail(c, EAI_E_FORMAT, "group is %lld, expected >= 1", (long long)g->group);

    int64_t v[2 * EAI__CONV_SP];
    int n;
    /* kernel_shape is optional (inferred from W); when given it must agree */
    EAI_TRY(eai__op_ints(c, "kernel_shape", v, EAI__CONV_SP, &n));
    if (n >= 0 && n != nsp)
        return eai__op_fail(c, EAI_E_FORMAT, "kernel_shape has %d values, expected %d", n, nsp);
    for (int i = 0; i < nsp; i++) {
        if (n >= 0 && v[i] != w->d[2 + i])
            return eai__op_fail(c, EAI_E_FORMAT,
                                "kernel_shape[%d] is %lld but W's spatial dim %d is %lld", i,
                                (long long)v[i], i, (long long)w->d[2 + i]);
        if (w->d[2 + i] < 1)
            return eai__op_fail(c, EAI_E_FORMAT, "W's spatial dim %d is %lld, expected >= 1", i,
                                (long long)w->d[2 + i]);
        g->k[off + i] = w->d[2 + i];
        g->in[off + i] = x->d[2 + i];
    }
    EAI_TRY(eai__op_dims_attr(c, "strides", nsp, false, 1, 1, v));
    memcpy(g->s + off, v, sizeof(int64_t) * (size_t)nsp);
    EAI_TRY(eai__op_dims_attr(c, "dilations", nsp, false, 1, 1, v));
    memcpy(g->d + off, v, sizeof(int64_t) * (size_t)nsp);
    EAI_TRY(eai__op_dims_attr(c, "pads", 2 * nsp, false, 0, 0, v));
    for (int i = 0; i < nsp; i++) {
        g->pb[off + i] = v[i];
        g->pe[off + i] = v[nsp + i];
    }
    /* Bounds far above any real model keep the shape arithmetic in int64
     * (a fuzzer found huge group/dilation/pad attributes overflowing it). */
    const int64_t lim = (int64_t)1 << 31;
    if (g->group > lim)
        return eai__op_fail(c, EAI_E_FORMAT, "group %lld is out of range", (long long)g->group);
    for (int i = off; i < EAI__CONV_SP; i++)
        if (g->s[i] > lim || g->d[i] > (1 << 16) || g->pb[i] > lim || g->pe[i] > lim)
            return eai__op_fail(
                c, EAI_E_FORMAT, "stride %lld, dilation %lld or pads %lld/%lld out of range",
                (long long)g->s[i], (long long)g->d[i], (long long)g->pb[i], (long long)g->pe[i]);
    const char *ap;
    EAI_TRY(eai__op_string(c, "auto_pad", "NOTSET", &ap));
    if (strcmp(ap, "NOTSET") == 0)
        g->auto_pad = EAI__AUTOPAD_NOTSET;
    else if (strcmp(ap, "SAME_UPPER") == 0)
        g->auto_pad = EAI__AUTOPAD_SAME_UPPER;
    else if (strcmp(ap, "SAME_LOWER") == 0)
        g->auto_pad = EAI__AUTOPAD_SAME_LOWER;
    else if (strcmp(ap, "VALID") == 0)
        g->auto_pad = EAI__AUTOPAD_VALID;
    else
        return eai__op_fail(c, EAI_E_FORMAT,
                            "auto_pad '%s' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID",
                            ap);
    return EAI_OK;
}

/* ---- Conv ---- */

typedef enum conv_kind {
    CONV_1X1 = 1,   /* y_g[Mg, HW] = w_g[Mg, Cg] * x_g[Cg, HW] */
    CONV_DEPTHWISE, /* one input plane per output plane, direct loop */
    CONV_IM2COL,    /* column tiles of the lowered image times w_g */
} conv_kind_t;

typedef struct conv_params {
    eai__conv_geom_t g;
    conv_kind_t kind;
    bool has_bias;
    eai__act_t act; /* FusedConv's activation (NONE for Conv) */
} conv_params_t;
_Static_assert(sizeof(conv_params_t) <= EAI__PARAMS_BYTES, "conv params");

eai_status_t eai__conv_infer_act(eai__opctx_t *c, const eai__act_t *act)
{
    conv_params_t *p = c->params;
    if (act) p->act = *act;
    eai__conv_geom_t *g = &p->g;
    EAI_TRY(eai__conv_parse(c, g));
    const eai__shape_t *w = &c->in[1].shape;
    g->m = w->d[0];
    if (g->c % g->group != 0 || w->d[1] != g->c / g->group) /* no overflowing product */
        return eai__op_fail(c, EAI_E_FORMAT,
                            "X has %lld channels but W expects %lld (%lld per group x group %lld)",
                            (long long)g->c, (long long)(w->d[1] * g->group), (long long)w->d[1],
                            (long long)g->group);
    if (g->m % g->group != 0)
        return eai__op_fail(c, EAI_E_FORMAT,
                            "W has %lld output channels, not a multiple of group %lld",
                            (long long)g->m, (long long)g->group);
    EAI_TRY(eai__conv_bias(c, g->m, &p->has_bias));

    /* Conv-11 output shape: explicit pads floor((in + pads - ek) / s) + 1;
     * SAME_* ceil(in / s) with the odd pad at the end (UPPER) or start (LOWER) */
    const int off = EAI__CONV_SP - g->nsp;
    eai__shape_t *o = &c->out[0].shape;
    o->rank = 2 + g->nsp;
    o->d[0] = g->n;
    o->d[1] = g->m;
    for (int i = off; i < EAI__CONV_SP; i++) {
        const int64_t ek = (g->k[i] - 1) * g->d[i] + 1;
        if (g->auto_pad == EAI__AUTOPAD_SAME_UPPER || g->auto_pad == EAI__AUTOPAD_SAME_LOWER) {
            g->out[i] = (g->in[i] + g->s[i] - 1) / g->s[i];
            int64_t total = (g->out[i] - 1) * g->s[i] + ek - g->in[i];
            if (total < 0) total = 0;
            g->pb[i] = g->auto_pad == EAI__AUTOPAD_SAME_UPPER ? total / 2 : total - total / 2;
            g->pe[i] = total - g->pb[i];
        } else {
            if (g->auto_pad == EAI__AUTOPAD_VALID) g->pb[i] = g->pe[i] = 0;
            const int64_t padded = g->in[i] + g->pb[i] + g->pe[i];
            if (padded < ek)
                return eai__op_fail(c, EAI_E_FORMAT,
                                    "spatial dim %d: padded input %lld is smaller than the "
                                    "dilated kernel %lld",
                                    i - off, (long long)padded, (long long)ek);
            g->out[i] = (padded - ek) / g->s[i] + 1;
        }
        o->d[2 + i - off] = g->out[i];
    }
    c->out[0].dtype = EAI_F32;

    bool unit = true, nopad = true;
    for (int i = 0; i < EAI__CONV_SP; i++) {
        unit &= g->k[i] == 1 && g->s[i] == 1;
        nopad &= g->pb[i] == 0 && g->pe[i] == 0;
    }
    const int64_t cg = g->c / g->group;
    if (unit && nopad) {
        p->kind = CONV_1X1;
    } else if (cg == 1 && g->nsp <= 2) {
        p->kind = CONV_DEPTHWISE;
    } else {
        p->kind = CONV_IM2COL;
        const int64_t rows = cg * g->k[0] * g->k[1] * g->k[2];
        const int64_t cols = g->out[0] * g->out[1] * g->out[2];
        /* the whole lowered image if it fits the cap, else tiles of >= 64
         * columns (fewer if the image has fewer) */
        size_t full = (size_t)rows * (size_t)cols * sizeof(float);
        size_t min_tile = (size_t)rows * (size_t)(cols < 64 ? cols : 64) * sizeof(float);
        c->scratch_bytes = full <= EAI__CONV_SCRATCH_CAP      ? full
                           : min_tile > EAI__CONV_SCRATCH_CAP ? min_tile
                                                              : EAI__CONV_SCRATCH_CAP;
    }
    return EAI_OK;
}

static eai_status_t conv_infer(eai__opctx_t *c)
{
    return eai__conv_infer_act(c, NULL);
}

/* d[i] = s[2 * i]: the stride-2 convs' lowering. GCC vectorizes this gather
 * (loads + shuffles) only with its dynamic/-O3 cost model, which the build
 * may not pass; clang does at -O2. */
#if defined(__GNUC__) && !defined(__clang__)
#define OPT_VECTORIZE __attribute__((optimize("O3")))
#else
#define OPT_VECTORIZE
#endif
OPT_VECTORIZE static void copy_stride2(float *restrict d, const float *restrict s, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        d[i] = s[2 * i];
}

/* Lowers rows [r0, r1) of the image-group xg (Cg planes) for output
 * positions [p0, p0 + nt): col[r * nt + j] is the input under kernel tap r
 * for output position p0 + j, 0 in the padding. */
static void im2col(const eai__conv_geom_t *g, const float *xg, float *col, int64_t p0, int64_t nt,
                   int64_t r0, int64_t r1)
{
    const int64_t isz = g->in[0] * g->in[1] * g->in[2];
    const int64_t kp = g->k[0] * g->k[1] * g->k[2];
    const int64_t o1 = g->out[1], o2 = g->out[2];
    for (int64_t r = r0; r < r1; r++) {
        const int64_t ci = r / kp, kk = r % kp;
        const int64_t kd = kk / (g->k[1] * g->k[2]), kh = (kk / g->k[2]) % g->k[1],
                      kw = kk % g->k[2];
        const float *xc = xg + ci * isz;
        float *dst = col + r * nt;
        /* valid output columns for this tap, independent of the row */
        int64_t lo, hi;
        const int64_t woff = kw * g->d[2] - g->pb[2];
        eai__conv_valid(g->in[2], o2, g->s[2], woff, &lo, &hi);
        int64_t p = p0, od = p0 / (o1 * o2), oh = (p0 / o2) % o1, ow = p0 % o2;
        while (p < p0 + nt) {
            int64_t seg = o2 - ow < p0 + nt - p ? o2 - ow : p0 + nt - p;
            const int64_t id = od * g->s[0] - g->pb[0] + kd * g->d[0];
            const int64_t ih = oh * g->s[1] - g->pb[1] + kh * g->d[1];
            if (id < 0 || id >= g->in[0] || ih < 0 || ih >= g->in[1]) {
                memset(dst, 0, (size_t)seg * sizeof(float));
            } else {
                /* dst[q - ow] for output column q in [ow, end): zeros, then
                 * the taps inside the row [a, b), then zeros */
                const float *row = xc + (id * g->in[1] + ih) * g->in[2];
                const int64_t end = ow + seg;
                const int64_t a = lo < ow ? ow : lo > end ? end : lo;
                const int64_t b = hi > end ? end : hi < a ? a : hi;
                for (int64_t q = ow; q < a; q++)
                    dst[q - ow] = 0.0f;
                if (g->s[2] == 1) {
                    memcpy(dst + (a - ow), row + a + woff, (size_t)(b - a) * sizeof(float));
                } else if (g->s[2] == 2) {
                    copy_stride2(dst + (a - ow), row + 2 * a + woff, b - a);
                } else {
                    for (int64_t q = a; q < b; q++)
                        dst[q - ow] = row[q * g->s[2] + woff];
                }
                for (int64_t q = b; q < end; q++)
                    dst[q - ow] = 0.0f;
            }
            dst += seg;
            p += seg;
            ow = 0;
            if (++oh == o1) oh = 0, od++;
        }
    }
}

/* Per-thread im2col tile: measured flat from 128 KiB to 4 MiB on the 7x7
 * stem and 3x3 layers; half an L2 keeps the GEMM's packing reads close. */
#define TILE_BYTES ((size_t)512 << 10)

/* One output row of a depthwise plane: y[ow] = bias + the taps of kernel
 * rows [kh0, kh1) (those inside the input) at input row ih0 + kh * d1. */
typedef struct dw_args {
    const eai__conv_geom_t *g;
    const float *xp, *wp; /* input plane, kernel */
    float bias;
    int64_t ih0, kh0, kh1;
    /* interior columns: every kw tap inside the input, and for stride 2 the
     * float after the last tap too (the even-lane loads read it) */
    int64_t lo, hi;
} dw_args_t;
typedef void (*dw_row_fn)(const dw_args_t *a, float *yr);
/* Four output rows (stride ldy) from input row a->ih0 on, for padded planes
 * whose every tap is inside (lo = 0, hi = out[2]): four independent sums
 * hide the add latency that one 8- or 16-wide row chunk waits on. */
typedef void (*dw_rows4_fn)(const dw_args_t *a, float *yr, int64_t ldy);

typedef struct conv_job {
    const conv_params_t *p;
    const eai__act_t *act; /* NULL: none */
    const float *x, *w, *bias;
    float *y, *scratch;
    int64_t rows, isz, osz, cg, mg;
    /* per-thread tiles: units are (image, group, tile) triples */
    int64_t tile, n_tiles;
    dw_row_fn dw_row; /* depthwise: the widest kernels the CPU runs */
    dw_rows4_fn dw_rows4;
    /* serial tiles: the one being lowered */
    const float *xg;
    int64_t p0, nt;
} conv_job_t;

static void im2col_rows(void *ctx, int64_t r0, int64_t r1)
{
    const conv_job_t *j = ctx;
    im2col(&j->p->g, j->xg, j->scratch, j->p0, j->nt, r0, r1);
}

/* One tile of lowered columns times W_g, bias added by the GEMM. `pool` is
 * for the GEMM. */
static void conv_tile(const conv_job_t *j, eai_threadpool_t *pool, const float *col, int64_t n,
                      int64_t gi, int64_t p0, int64_t nt)
{
    const eai__conv_geom_t *g = &j->p->g;
    float *yg = j->y + (n * g->m + gi * j->mg) * j->osz;
    eai__sgemm_act(pool, false, false, j->mg, nt, j->rows, 1.0f, j->w + gi * j->mg * j->rows,
                   j->rows, col, nt, 0.0f, j->bias ? j->bias + gi * j->mg : NULL, j->act, yg + p0,
                   j->osz);
}

static void conv_tiles_task(void *ctx, int ith, int nth)
{
    const conv_job_t *j = ctx;
    const eai__conv_geom_t *g = &j->p->g;
    const int64_t units = g->n * g->group * j->n_tiles;
    float *col = j->scratch + ith * j->rows * j->tile;
    for (int64_t u = units * ith / nth; u < units * (ith + 1) / nth; u++) {
        const int64_t t = u % j->n_tiles, ng = u / j->n_tiles;
        const int64_t n = ng / g->group, gi = ng % g->group;
        const int64_t p0 = t * j->tile, nt = j->osz - p0 < j->tile ? j->osz - p0 : j->tile;
        im2col(g, j->x + (n * g->c + gi * j->cg) * j->isz, col, p0, nt, 0, j->rows);
        conv_tile(j, NULL, col, n, gi, p0, nt);
    }
}

static eai_status_t conv_im2col(eai__opctx_t *c, conv_job_t *j)
{
    const eai__conv_geom_t *g = &j->p->g;
    const int nth = eai_threadpool_size(c->pool);
    const int64_t cap = (int64_t)(c->scratch_bytes / sizeof(float));
    /* Enough columns for every thread to lower and multiply its own tile
     * (no hand-off between the two steps): split the columns, in tiles
     * small enough that the GEMM packs them from L2. Else lower tile by
     * tile with the rows split, and let the GEMM split its rows. */
    int64_t tile = cap / ((int64_t)nth * j->rows);
    const int64_t l2 = (int64_t)(TILE_BYTES / sizeof(float)) / j->rows;
    if (tile > l2) tile = l2;
    tile = tile / 32 * 32;
    const int64_t want = j->osz < 64 ? j->osz : 64;
    if (tile >= want) {
        int64_t t = (j->osz + tile - 1) / tile;
        if (g->n * g->group < nth) {
            /* too few images: cut each into a multiple of nth tiles */
            int64_t per = (nth + g->n * g->group - 1) / (g->n * g->group);
            t = (t + per - 1) / per * per;
        }
        j->tile = (j->osz + t - 1) / t;
        j->tile = (j->tile + 15) / 16 * 16;
        if (j->tile > tile) j->tile = tile;
        j->n_tiles = (j->osz + j->tile - 1) / j->tile;
        if (g->n * g->group * j->n_tiles >= nth) {
            eai_threadpool_run(c->pool, conv_tiles_task, j);
            return EAI_OK;
        }
    }
    tile = cap / j->rows;
    if (tile > j->osz) tile = j->osz;
    if (EAI_NEVER(tile < 1))
        return eai__op_fail(c, EAI_E_STATE, "scratch of %zu bytes is too small", c->scratch_bytes);
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t gi = 0; gi < g->group; gi++)
            for (int64_t p0 = 0; p0 < j->osz; p0 += tile) {
                j->xg = j->x + (n * g->c + gi * j->cg) * j->isz;
                j->p0 = p0;
                j->nt = j->osz - p0 < tile ? j->osz - p0 : tile;
                eai__parallel_for(c->pool, j->rows, im2col_rows, j);
                conv_tile(j, c->pool, j->scratch, n, gi, p0, j->nt);
            }
    return EAI_OK;
}

/* Output column ow of a depthwise row, checking each tap (edges). */
static float dw_one(const dw_args_t *a, int64_t ow)
{
    const eai__conv_geom_t *g = a->g;
    const int64_t k2 = g->k[2], in2 = g->in[2];
    float acc = a->bias;
    for (int64_t kh = a->kh0; kh < a->kh1; kh++) {
        const float *xr = a->xp + (a->ih0 + kh * g->d[1]) * in2;
        for (int64_t kw = 0; kw < k2; kw++) {
            const int64_t iw = ow * g->s[2] - g->pb[2] + kw * g->d[2];
            if (iw >= 0 && iw < in2) acc += a->wp[kh * k2 + kw] * xr[iw];
        }
    }
    return acc;
}

/* Columns [from, hi) of the interior, then the edges, tap by tap. */
static void dw_rest(const dw_args_t *a, float *yr, int64_t from)
{
    for (int64_t ow = from; ow < a->hi; ow++)
        yr[ow] = dw_one(a, ow);
    for (int64_t ow = 0; ow < a->lo; ow++)
        yr[ow] = dw_one(a, ow);
    for (int64_t ow = a->hi > a->lo ? a->hi : a->lo; ow < a->g->out[2]; ow++)
        yr[ow] = dw_one(a, ow);
}

static void dw_row_scalar(const dw_args_t *a, float *yr)
{
    dw_rest(a, yr, a->lo);
}

static void dw_rows4_scalar(const dw_args_t *a, float *yr, int64_t ldy)
{
    dw_args_t b = *a;
    for (int r = 0; r < 4; r++, b.ih0 += a->g->s[1])
        dw_row_scalar(&b, yr + r * ldy);
}

#if defined(__GNUC__)
/* GCC/clang generic vectors (SSE and NEON; AVX2 and AVX-512 below): GCC's
 * auto-vectorizer keeps a 16-float accumulator array partly in scalar
 * registers or on the stack here, explicit vectors stay in registers. The
 * interior of a row goes in chunks of four accumulators of W lanes (W if
 * narrower); the last chunk overlaps the one before, which is harmless as
 * outputs are written, not accumulated. */
#define DW_VEC 1
#if defined(__clang__)
#define EVEN4(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6)
#define EVEN8(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14)
#define EVEN16(a, b)                                                                               \
    __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
#else
typedef int v4i __attribute__((vector_size(16)));
typedef int v8i __attribute__((vector_size(32)));
typedef int v16i __attribute__((vector_size(64)));
#define EVEN4(a, b) __builtin_shuffle(a, b, (v4i){0, 2, 4, 6})
#define EVEN8(a, b) __builtin_shuffle(a, b, (v8i){0, 2, 4, 6, 8, 10, 12, 14})
#define EVEN16(a, b)                                                                               \
    __builtin_shuffle(a, b, (v16i){0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30})
#endif
typedef float v4f __attribute__((vector_size(16)));

/* BODY once per tap with q the tap's input under output column ow. */
#define DW_TAPS(VT, BODY)                                                                          \
    for (int64_t kh = a->kh0; kh < a->kh1; kh++) {                                                 \
        const float *xr = a->xp + (a->ih0 + kh * g->d[1]) * g->in[2] + ow * s2 - g->pb[2];         \
        for (int64_t kw = 0; kw < g->k[2]; kw++) {                                                 \
            const float *q = xr + kw * g->d[2];                                                    \
            const VT wv = (VT){0} + a->wp[kh * g->k[2] + kw];                                      \
            BODY;                                                                                  \
        }                                                                                          \
    }

/* dw_row_SFX and dw_rows4_SFX for vectors VT of W floats; SMALL is the
 * narrower ISA's suffix, for rows with fewer than W interior columns. */
#define DEFINE_DW(SFX, VT, W, ATTR, EVEN, SMALL)                                                   \
    ATTR static inline VT dw_ld_##SFX(const float *p)                                              \
    {                                                                                              \
        VT v;                                                                                      \
        memcpy(&v, p, sizeof v);                                                                   \
        return v;                                                                                  \
    }                                                                                              \
    ATTR static inline VT dw_ld2_##SFX(const float *p) /* p[0], p[2], ... p[2W - 2] */             \
    {                                                                                              \
        return EVEN(dw_ld_##SFX(p), dw_ld_##SFX(p + (W)));                                         \
    }                                                                                              \
    ATTR static void dw_big_##SFX(const dw_args_t *a, float *yr, int64_t ow)                       \
    {                                                                                              \
        const eai__conv_geom_t *g = a->g;                                                          \
        const int64_t s2 = g->s[2];                                                                \
        VT a0 = (VT){0} + a->bias, a1 = a0, a2 = a0, a3 = a0;                                      \
        if (s2 == 1) {                                                                             \
            DW_TAPS(VT, a0 += wv * dw_ld_##SFX(q); a1 += wv * dw_ld_##SFX(q + (W));                \
                    a2 += wv * dw_ld_##SFX(q + 2 * (W)); a3 += wv * dw_ld_##SFX(q + 3 * (W)))      \
        } else {                                                                                   \
            DW_TAPS(VT, a0 += wv * dw_ld2_##SFX(q); a1 += wv * dw_ld2_##SFX(q + 2 * (W));          \
                    a2 += wv * dw_ld2_##SFX(q + 4 * (W)); a3 += wv * dw_ld2_##SFX(q + 6 * (W)))    \
        }                                                                                          \
        memcpy(yr + ow, &a0, sizeof a0);                                                           \
        memcpy(yr + ow + (W), &a1, sizeof a1);                                                     \
        memcpy(yr + ow + 2 * (W), &a2, sizeof a2);                                                 \
        memcpy(yr + ow + 3 * (W), &a3, sizeof a3);                                                 \
    }                                                                                              \
    ATTR static void dw_vec_##SFX(const dw_args_t *a, float *yr, int64_t ow)                       \
    {                                                                                              \
        const eai__conv_geom_t *g = a->g;                                                          \
        const int64_t s2 = g->s[2];                                                                \
        VT acc = (VT){0} + a->bias;                                                                \
        if (s2 == 1) {                                                                             \
            DW_TAPS(VT, acc += wv * dw_ld_##SFX(q))                                                \
        } else {                                                                                   \
            DW_TAPS(VT, acc += wv * dw_ld2_##SFX(q))                                               \
        }                                                                                          \
        memcpy(yr + ow, &acc, sizeof acc);                                                         \
    }                                                                                              \
    ATTR static void dw_vec4r_##SFX(const dw_args_t *a, float *yr, int64_t ldy, int64_t ow)        \
    {                                                                                              \
        const eai__conv_geom_t *g = a->g;                                                          \
        const int64_t s2 = g->s[2], rs = g->s[1] * g->in[2];                                       \
        VT r0 = (VT){0} + a->bias, r1 = r0, r2 = r0, r3 = r0;                                      \
        if (s2 == 1) {                                                                             \
            DW_TAPS(VT, r0 += wv * dw_ld_##SFX(q); r1 += wv * dw_ld_##SFX(q + rs);                 \
                    r2 += wv * dw_ld_##SFX(q + 2 * rs); r3 += wv * dw_ld_##SFX(q + 3 * rs))        \
        } else {                                                                                   \
            DW_TAPS(VT, r0 += wv * dw_ld2_##SFX(q); r1 += wv * dw_ld2_##SFX(q + rs);               \
                    r2 += wv * dw_ld2_##SFX(q + 2 * rs); r3 += wv * dw_ld2_##SFX(q + 3 * rs))      \
        }                                                                                          \
        memcpy(yr + ow, &r0, sizeof r0);                                                           \
        memcpy(yr + ldy + ow, &r1, sizeof r1);                                                     \
        memcpy(yr + 2 * ldy + ow, &r2, sizeof r2);                                                 \
        memcpy(yr + 3 * ldy + ow, &r3, sizeof r3);                                                 \
    }                                                                                              \
    ATTR static void dw_rows4_##SFX(const dw_args_t *a, float *yr, int64_t ldy)                    \
    {                                                                                              \
        const int64_t o2 = a->g->out[2];                                                           \
        if (a->g->s[2] > 2 || o2 < (W)) {                                                          \
            dw_rows4_##SMALL(a, yr, ldy);                                                          \
            return;                                                                                \
        }                                                                                          \
        for (int64_t ow = 0; ow < o2; ow += (W))                                                   \
            dw_vec4r_##SFX(a, yr, ldy, ow + (W) <= o2 ? ow : o2 - (W));                            \
    }                                                                                              \
    ATTR static void dw_row_##SFX(const dw_args_t *a, float *yr)                                   \
    {                                                                                              \
        const int64_t lo = a->lo, hi = a->hi;                                                      \
        if (a->g->s[2] > 2 || hi - lo < (W)) {                                                     \
            dw_row_##SMALL(a, yr);                                                                 \
            return;                                                                                \
        }                                                                                          \
        if (hi - lo >= 4 * (W))                                                                    \
            for (int64_t ow = lo; ow < hi; ow += 4 * (W))                                          \
                dw_big_##SFX(a, yr, ow + 4 * (W) <= hi ? ow : hi - 4 * (W));                       \
        else                                                                                       \
            for (int64_t ow = lo; ow < hi; ow += (W))                                              \
                dw_vec_##SFX(a, yr, ow + (W) <= hi ? ow : hi - (W));                               \
        dw_rest(a, yr, hi);                                                                        \
    }

DEFINE_DW(v4, v4f, 4, , EVEN4, scalar)
#if defined(__x86_64__) || defined(__i386__)
#define DW_X86 1
typedef float v8f __attribute__((vector_size(32)));
typedef float v16f __attribute__((vector_size(64)));
DEFINE_DW(v8, v8f, 8, __attribute__((target("avx2"))), EVEN8, v4)
DEFINE_DW(v16, v16f, 16, __attribute__((target("avx512f"))), EVEN16, v8)
#endif
#endif

/* The widest depthwise kernels this CPU runs. */
static void pick_dw(conv_job_t *j)
{
#if defined(DW_X86) && !defined(EAI_CONV_NO_AVX2)
#if !defined(EAI_CONV_NO_AVX512)
    if (__builtin_cpu_supports("avx512f")) {
        j->dw_row = dw_row_v16;
        j->dw_rows4 = dw_rows4_v16;
        return;
    }
#endif
    if (__builtin_cpu_supports("avx2")) {
        j->dw_row = dw_row_v8;
        j->dw_rows4 = dw_rows4_v8;
        return;
    }
#endif
#if defined(DW_VEC)
    j->dw_row = dw_row_v4;
    j->dw_rows4 = dw_rows4_v4;
#else
    j->dw_row = dw_row_scalar;
    j->dw_rows4 = dw_rows4_scalar;
#endif
}

/* Planes up to this many floats, padding included, are first copied into a
 * zero-padded buffer on the stack (16 KiB): then every output is interior,
 * which is what the 7x7 to 56x56 planes of MobileNets need. */
#define DW_PAD_FLOATS 4096

/* Depthwise planes [b, e) of n * M: output plane (n, m) reads input plane
 * (n, m / multiplier) with its own kernel. */
static void depthwise_planes(void *ctx, int64_t b, int64_t e)
{
    const conv_job_t *j = ctx;
    const eai__conv_geom_t *g = &j->p->g;
    /* +1 column: the stride-2 loads read one float past the last tap */
    const int64_t ph = g->in[1] + g->pb[1] + g->pe[1], pw = g->in[2] + g->pb[2] + g->pe[2] + 1;
    const bool use_pad = ph * pw <= DW_PAD_FLOATS;
    _Alignas(64) float pad[DW_PAD_FLOATS];
    eai__conv_geom_t gp = *g;
    if (use_pad) {
        gp.in[1] = ph;
        gp.in[2] = pw;
        gp.pb[1] = gp.pb[2] = gp.pe[1] = gp.pe[2] = 0;
    }
    dw_args_t a = {.g = use_pad ? &gp : g};
    eai__conv_valid(a.g->in[2] - (g->k[2] - 1) * g->d[2] - (g->s[2] == 2), g->out[2], g->s[2],
                    -a.g->pb[2], &a.lo, &a.hi);
    for (int64_t pl = b; pl < e; pl++) {
        const int64_t n = pl / g->m, m = pl % g->m;
        a.xp = j->x + (n * g->c + m / j->mg) * j->isz;
        a.wp = j->w + m * g->k[1] * g->k[2];
        a.bias = j->bias ? j->bias[m] : 0.0f;
        if (use_pad) {
            memset(pad, 0, (size_t)(ph * pw) * sizeof(float));
            for (int64_t r = 0; r < g->in[1]; r++)
                memcpy(pad + (r + g->pb[1]) * pw + g->pb[2], a.xp + r * g->in[2],
                       (size_t)g->in[2] * sizeof(float));
            a.xp = pad;
        }
        int64_t oh = 0;
        float *yp = j->y + pl * j->osz;
        if (use_pad && a.lo == 0 && a.hi == g->out[2]) {
            /* padded: every kernel row is inside for every output row */
            a.kh0 = 0;
            a.kh1 = g->k[1];
            for (; oh + 4 <= g->out[1]; oh += 4) {
                a.ih0 = oh * g->s[1];
                j->dw_rows4(&a, yp + oh * g->out[2], g->out[2]);
                if (j->act) eai__act_apply(j->act, yp + oh * g->out[2], 4 * g->out[2]);
            }
        }
        for (; oh < g->out[1]; oh++) {
            a.ih0 = oh * g->s[1] - a.g->pb[1];
            eai__conv_valid(a.g->in[1], g->k[1], g->d[1], a.ih0, &a.kh0, &a.kh1);
            j->dw_row(&a, yp + oh * g->out[2]);
            if (j->act) eai__act_apply(j->act, yp + oh * g->out[2], g->out[2]);
        }
    }
}

eai_status_t eai__conv_eval(eai__opctx_t *c)
{
    const conv_params_t *p = c->params;
    const eai__conv_geom_t *g = &p->g;
    conv_job_t j = {
        .p = p,
        .act = p->act.kind != EAI__ACT_NONE ? &p->act : NULL,
        .x = c->in[0].data,
        .w = c->in[1].data,
        .bias = p->has_bias ? c->in[2].data : NULL,
        .y = c->out[0].data,
        .scratch = c->scratch,
        .isz = g->in[0] * g->in[1] * g->in[2],
        .osz = g->out[0] * g->out[1] * g->out[2],
        .cg = g->c / g->group,
        .mg = g->m / g->group,
    };
    j.rows = j.cg * g->k[0] * g->k[1] * g->k[2];
    if (g->n == 0 || j.osz == 0 || g->m == 0) return EAI_OK;
    switch (p->kind) {
    case CONV_1X1:
        for (int64_t n = 0; n < g->n; n++)
            for (int64_t gi = 0; gi < g->group; gi++)
                conv_tile(&j, c->pool, j.x + (n * g->c + gi * j.cg) * j.isz, n, gi, 0, j.osz);
        return EAI_OK;
    case CONV_DEPTHWISE:
        pick_dw(&j);
        eai__parallel_for(c->pool, g->n * g->m, depthwise_planes, &j);
        return EAI_OK;
    case CONV_IM2COL:
        return conv_im2col(c, &j);
    }
    return eai__op_fail(c, EAI_E_STATE, "unknown conv kind %d", (int)p->kind);
}

const eai__op_def_t eai__ref_ops_conv[] = {
    {"Conv", 0, 2, 3, 1, 1, conv_infer, eai__conv_eval},
    {"ConvTranspose", 0, 2, 3, 1, 1, eai__conv_transpose_infer, eai__conv_transpose_eval},
    {0},
};
