/* Op family 'quant' (ref backend): QLinearConv and ConvInteger (ONNX opset
 * 10), NCHW, 1-D to 3-D, groups, per-channel weight scales and zero points.
 *
 * Fast path (int8 weights with zero points 0, as edgeai's PTQ writes them):
 * depthwise convs run a direct int32 loop per plane; every other conv packs
 * tiles of output positions as rows of K uint8 taps (im2col transposed) and
 * takes dot products with the weight rows (eai__q_dot_u8s8), 16 output
 * channels at a time, requantising straight from the accumulators. The
 * padding is filled with the input's zero point, so it adds exactly nothing.
 * Other cases (uint8 weights, weight zero points) take a plain loop.
 */
#include "runtime/ref/conv_impl.h"
#include "runtime/ref/quant_impl.h"

#include <stdlib.h>

#define PT      64 /* output positions per packed tile */
#define MB      16 /* output channels per accumulator block */
#define SLOTS   16 /* threads' packing buffers reserved in scratch (at most) */
#define SCR_CAP ((size_t)8 << 20)

/* Rows of the padded plane and columns of each stride phase, enough for
 * every tap of every output (pads beyond the input read zeros). */
static void dw_dims(const eai__conv_geom_t *g, int64_t *hp, int64_t *wph)
{
    const int64_t need_h = (g->out[1] - 1) * g->s[1] + (g->k[1] - 1) * g->d[1] + 1;
    const int64_t need_w = (g->out[2] - 1) * g->s[2] + (g->k[2] - 1) * g->d[2] + 1;
    const int64_t h = g->in[1] + g->pb[1], w = g->in[2] + g->pb[2];
    *hp = need_h > h ? need_h : h;
    const int64_t wp = need_w > w ? need_w : w;
    *wph = (wp + g->s[2] - 1) / g->s[2];
}

/* Geometry through the float Conv parser (it reads only X's and W's shapes
 * and the attributes), then Conv-11's output shape rule. */
static eai_status_t qconv_geom(eai__opctx_t *c, eai__qconv_params_t *p)
{
    eai__opctx_t t = *c;
    eai__tview_t xw[2] = {c->in[p->ix], c->in[p->iw]};
    xw[0].dtype = xw[1].dtype = EAI_F32;
    t.in = xw;
    t.n_in = 2;
    eai__conv_geom_t *g = &p->g;
    EAI_TRY(eai__conv_parse(&t, g));
    const eai__shape_t *w = &c->in[p->iw].shape;
    g->m = w->d[0];
    if (g->c != w->d[1] * g->group || g->m % g->group != 0)
        return eai__op_fail(c, EAI_E_FORMAT,
                            "X has %lld channels and W is [%lld, %lld, ...] with group %lld; "
                            "they do not match",
                            (long long)g->c, (long long)g->m, (long long)w->d[1],
                            (long long)g->group);
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
    const int64_t cg = g->c / g->group, mg = g->m / g->group;
    p->K = cg * g->k[0] * g->k[1] * g->k[2];
    p->Kp = (int64_t)EAI_ALIGN_UP((size_t)p->K, 16);
    p->depthwise = cg == 1 && mg == 1 && g->nsp <= 2;
    p->hdr = EAI_ALIGN_UP((size_t)g->m * 8, 64);
    const size_t pack = (size_t)(PT * p->Kp) + (size_t)(MB * PT) * sizeof(int32_t);
    if (p->depthwise) {
        /* the padded plane, split into stride phases, as int16, plus one
         * accumulator row */
        dw_dims(g, &p->dw_hp, &p->dw_wph);
        p->per_th = EAI_ALIGN_UP((size_t)(g->s[2] * p->dw_hp * p->dw_wph) * sizeof(int16_t), 64) +
                    EAI_ALIGN_UP((size_t)(g->out[1] * g->out[2]) * sizeof(int32_t), 64);
    } else {
        p->per_th = EAI_ALIGN_UP(pack, 64);
    }
    size_t all = p->per_th * SLOTS;
    if (all > SCR_CAP) all = SCR_CAP > p->per_th ? SCR_CAP / p->per_th * p->per_th : p->per_th;
    c->scratch_bytes = p->hdr + all;
    return EAI_OK;
}

eai_status_t eai__q_conv_infer(eai__opctx_t *c)
{
    /* x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B */
    eai__qconv_params_t *p = c->params;
    p->ix = 0, p->iw = 3, p->ixz = 2, p->iwz = 5;
    EAI_TRY(eai__q_check_8bit(c, 0));
    EAI_TRY(eai__q_check_8bit(c, 3));
    EAI_TRY(eai__q_check_8bit(c, 7));
    EAI_TRY(qconv_geom(c, p));
    EAI_TRY(eai__q_check_params(c, 1, 2, c->in[0].dtype, 0, "x"));
    EAI_TRY(eai__q_check_params(c, 4, 5, c->in[3].dtype, p->g.m, "w"));
    EAI_TRY(eai__q_check_params(c, 6, 7, c->in[7].dtype, 0, "y"));
    if (eai__has_in(c, 8)) {
        const eai__shape_t *b = &c->in[8].shape;
        if (c->in[8].dtype != EAI_I32 || b->rank != 1 || b->d[0] != p->g.m)
            return eai__op_fail(c, EAI_E_FORMAT,
                                "B must be int32 with one value per output channel (%lld); it "
                                "is %s with %lld values",
                                (long long)p->g.m, eai_dtype_name(c->in[8].dtype),
                                (long long)eai__shape_numel(b));
    }
    c->out[0].dtype = c->in[7].dtype;
    return EAI_OK;
}

eai_status_t eai__q_convint_infer(eai__opctx_t *c)
{
    /* x, w, x_zero_point, w_zero_point */
    eai__qconv_params_t *p = c->params;
    p->ix = 0, p->iw = 1, p->ixz = 2, p->iwz = 3;
    p->integer = true;
    EAI_TRY(eai__q_check_8bit(c, 0));
    EAI_TRY(eai__q_check_8bit(c, 1));
    EAI_TRY(qconv_geom(c, p));
    if (eai__has_in(c, 2) &&
        (c->in[2].dtype != c->in[0].dtype || eai__shape_numel(&c->in[2].shape) != 1))
        return eai__op_fail(c, EAI_E_FORMAT, "x_zero_point must be one value of X's type");
    if (eai__has_in(c, 3)) {
        const int64_t n = eai__shape_numel(&c->in[3].shape);
        if (c->in[3].dtype != c->in[1].dtype || (n != 1 && n != p->g.m))
            return eai__op_fail(c, EAI_E_FORMAT,
                                "w_zero_point must be of W's type, one value or one per output "
                                "channel");
    }
    c->out[0].dtype = EAI_I32;
    return EAI_OK;
}

typedef struct qconv_job {
    const eai__qconv_params_t *p;
    const eai__opctx_t *c;
    const int32_t *rowsum; /* per output channel: sum of its weights */
    const float *mult;     /* x_scale * w_scale[m] / y_scale */
    const int32_t *bias;   /* or NULL */
    uint8_t flip;          /* 0x80 turns int8 X into uint8 */
    int32_t off;           /* uint8 code of X's real zero */
    int32_t zy;
    bool s8;
    bool vnni; /* x86 AVX512-VNNI: the interleaved pack and qconv_vnni_block */
    int nth;   /* threads that have a scratch slot */
} qconv_job_t;

static inline int32_t load8(const void *p, eai_dtype_t dt, int64_t i)
{
    return dt == EAI_I8 ? ((const int8_t *)p)[i] : ((const uint8_t *)p)[i];
}

/* Packs output positions [p0, p0 + nt) of image-group xg, padding with the
 * zero code. Two layouts: nt rows of K uint8 taps (row stride Kp), the dot
 * kernel's; or (il4) groups of 4 taps per position, [K/4][PT][4] with K and
 * the positions padded to 4 and PT, VNNI's (vpdpbusd sums 4 bytes a lane). */
static void pack_tile(const qconv_job_t *j, const uint8_t *xg, uint8_t *pk, int64_t p0, int64_t nt,
                      bool il4)
{
    const eai__conv_geom_t *g = &j->p->g;
    const int64_t Kp = j->p->Kp, K = j->p->K, isz = g->in[0] * g->in[1] * g->in[2];
    const int64_t kvol = g->k[0] * g->k[1] * g->k[2], cg = g->c / g->group;
    const int64_t o1 = g->out[1], o2 = g->out[2];
    const uint8_t flip = j->flip, pad = (uint8_t)j->off;
#define IDX(t, r) (il4 ? (((r) >> 2) * PT + (t)) * 4 + ((r)&3) : (t)*Kp + (r))
    if (il4) {
        /* the padding taps and positions: any value works (their weights
         * are 0, their outputs unread), the zero code keeps them defined */
        const int64_t k4 = (K + 3) / 4 * 4;
        for (int64_t r = K; r < k4; r++)
            for (int64_t t = 0; t < PT; t++)
                pk[IDX(t, r)] = pad;
        for (int64_t r = 0; r < K && nt < PT; r++)
            for (int64_t t = nt; t < PT; t++)
                pk[IDX(t, r)] = pad;
    }
    if (kvol == 1 && g->s[0] == 1 && g->s[1] == 1 && g->s[2] == 1 && g->pb[0] == 0 &&
        g->pb[1] == 0 && g->pb[2] == 0) {
        /* 1x1 stride 1: a transpose of [Cg, positions] */
        if (il4) {
            int64_t ci = 0;
            for (; ci + 4 <= cg; ci += 4) {
                const uint8_t *s0 = xg + ci * isz + p0, *s1 = s0 + isz, *s2 = s1 + isz,
                              *s3 = s2 + isz;
                uint8_t *d = pk + (ci >> 2) * PT * 4;
                for (int64_t t = 0; t < nt; t++) {
                    d[4 * t] = s0[t] ^ flip;
                    d[4 * t + 1] = s1[t] ^ flip;
                    d[4 * t + 2] = s2[t] ^ flip;
                    d[4 * t + 3] = s3[t] ^ flip;
                }
            }
            for (; ci < cg; ci++) {
                const uint8_t *src = xg + ci * isz + p0;
                for (int64_t t = 0; t < nt; t++)
                    pk[IDX(t, ci)] = src[t] ^ flip;
            }
            return;
        }
        for (int64_t ci = 0; ci < cg; ci++) {
            const uint8_t *src = xg + ci * isz + p0;
            for (int64_t t = 0; t < nt; t++)
                pk[t * Kp + ci] = src[t] ^ flip;
        }
        return;
    }
    /* one tap row at a time, in output-row segments: the taps inside the
     * input are a strided copy, the rest the zero code (as conv.c's im2col) */
    const int64_t step = il4 ? 4 : Kp;
    for (int64_t r = 0; r < K; r++) {
        const int64_t ci = r / kvol, kk = r % kvol;
        const int64_t kd = kk / (g->k[1] * g->k[2]), kh = (kk / g->k[2]) % g->k[1],
                      kw = kk % g->k[2];
        const uint8_t *xc = xg + ci * isz;
        const int64_t woff = kw * g->d[2] - g->pb[2], sw = g->s[2];
        int64_t lo, hi;
        eai__conv_valid(g->in[2], o2, sw, woff, &lo, &hi);
        int64_t od = p0 / (o1 * o2), oh = (p0 / o2) % o1, ow = p0 % o2;
        for (int64_t t = 0; t < nt;) {
            const int64_t seg = o2 - ow < nt - t ? o2 - ow : nt - t, end = ow + seg;
            const int64_t id = od * g->s[0] - g->pb[0] + kd * g->d[0];
            const int64_t ih = oh * g->s[1] - g->pb[1] + kh * g->d[1];
            uint8_t *d = pk + IDX(t, r); /* d[(q - ow) * step]: output column q */
            if (id < 0 || id >= g->in[0] || ih < 0 || ih >= g->in[1]) {
                for (int64_t q = ow; q < end; q++)
                    d[(q - ow) * step] = pad;
            } else {
                const uint8_t *row = xc + (id * g->in[1] + ih) * g->in[2] + woff;
                const int64_t a = lo < ow ? ow : lo > end ? end : lo;
                const int64_t b = hi > end ? end : hi < a ? a : hi;
                for (int64_t q = ow; q < a; q++)
                    d[(q - ow) * step] = pad;
                for (int64_t q = a; q < b; q++)
                    d[(q - ow) * step] = row[q * sw] ^ flip;
                for (int64_t q = b; q < end; q++)
                    d[(q - ow) * step] = pad;
            }
            t += seg;
            ow = 0;
            if (++oh == o1) oh = 0, od++;
        }
    }
#undef IDX
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define QCONV_VNNI 1

/* Four bytes of a weight row from tap 4 * k4 on (zeros past the row's end,
 * so the padding taps add nothing). */
static inline int32_t w4(const int8_t *w, int64_t k4, int64_t K)
{
    int32_t v = 0;
    const int64_t n = K - 4 * k4;
    memcpy(&v, w + 4 * k4, (size_t)(n < 4 ? n : 4));
    return v;
}

/* acc[i][t] = sum_k w[i][k] * x[t][k] for i < mb (<= MB), t < PT, from the
 * [K/4][PT][4] pack: 4 rows x 64 positions (16 zmm accumulators) per pass,
 * one vpdpbusd per row and 16 positions per 4 taps. */
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static void
qconv_vnni_block(const int8_t *w, int64_t K, int64_t mb, const uint8_t *pk, int32_t *acc)
{
    _Static_assert(PT == 64, "the kernel covers 64 positions with 4 vectors");
    const int64_t k4n = (K + 3) / 4, k4full = K / 4;
    for (int64_t i0 = 0; i0 < mb; i0 += 4) {
        const int64_t rows = mb - i0 < 4 ? mb - i0 : 4;
        __m512i a[4][4];
        for (int i = 0; i < 4; i++)
            for (int v = 0; v < 4; v++)
                a[i][v] = _mm512_setzero_si512();
        const int8_t *wr[4];
        for (int i = 0; i < 4; i++)
            wr[i] = w + (i0 + (i < rows ? i : 0)) * K;
        for (int64_t k4 = 0; k4 < k4n; k4++) {
            const uint8_t *xp = pk + k4 * PT * 4;
            const __m512i x0 = _mm512_loadu_si512(xp), x1 = _mm512_loadu_si512(xp + 64),
                          x2 = _mm512_loadu_si512(xp + 128), x3 = _mm512_loadu_si512(xp + 192);
            for (int i = 0; i < 4; i++) {
                int32_t wv;
                if (k4 < k4full)
                    memcpy(&wv, wr[i] + 4 * k4, 4);
                else
                    wv = w4(wr[i], k4, K);
                const __m512i b = _mm512_set1_epi32(wv);
                a[i][0] = _mm512_dpbusd_epi32(a[i][0], x0, b);
                a[i][1] = _mm512_dpbusd_epi32(a[i][1], x1, b);
                a[i][2] = _mm512_dpbusd_epi32(a[i][2], x2, b);
                a[i][3] = _mm512_dpbusd_epi32(a[i][3], x3, b);
            }
        }
        for (int64_t i = 0; i < rows; i++)
            for (int v = 0; v < 4; v++)
                _mm512_storeu_si512(acc + (i0 + i) * PT + 16 * v, a[i][v]);
    }
}

static bool have_vnni(void)
{
    return __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw");
}
#else
#define QCONV_VNNI 0
#endif

/* One thread's share of the packed path: units are (image, group, tile). */
static void qconv_tiles(void *ctx, int ith, int nth)
{
    const qconv_job_t *j = ctx;
    if (ith >= j->nth) return;
    nth = j->nth;
    const eai__qconv_params_t *p = j->p;
    const eai__conv_geom_t *g = &p->g;
    const eai__opctx_t *c = j->c;
    const int64_t isz = g->in[0] * g->in[1] * g->in[2], osz = g->out[0] * g->out[1] * g->out[2];
    const int64_t cg = g->c / g->group, mg = g->m / g->group;
    const int64_t n_tiles = (osz + PT - 1) / PT, units = g->n * g->group * n_tiles;
    uint8_t *pk = (uint8_t *)c->scratch + p->hdr + (size_t)ith * p->per_th;
    int32_t *acc = (int32_t *)(pk + PT * p->Kp);
    const int8_t *w = c->in[p->iw].data;
    const uint8_t *x = c->in[p->ix].data;
    const bool il4 = j->vnni;
    /* accumulator rows: PT apart for the VNNI block, nt for the dot kernel */
    for (int64_t u = units * ith / nth; u < units * (ith + 1) / nth; u++) {
        const int64_t t = u % n_tiles, ng = u / n_tiles, n = ng / g->group, gi = ng % g->group;
        const int64_t p0 = t * PT, nt = osz - p0 < PT ? osz - p0 : PT, lda = il4 ? PT : nt;
        pack_tile(j, x + (n * g->c + gi * cg) * isz, pk, p0, nt, il4);
        for (int64_t m0 = 0; m0 < mg; m0 += MB) {
            const int64_t mb = mg - m0 < MB ? mg - m0 : MB, m = gi * mg + m0;
#if QCONV_VNNI
            if (il4)
                qconv_vnni_block(w + m * p->K, p->K, mb, pk, acc);
            else
#endif
                eai__q_dot_u8s8(mb, nt, p->K, w + m * p->K, p->K, pk, p->Kp, acc, nt);
            for (int64_t i = 0; i < mb; i++) {
                const int64_t mi = m + i;
                uint8_t *y = (uint8_t *)c->out[0].data + ((n * g->m + mi) * osz + p0);
                if (p->integer) {
                    int32_t *yi = (int32_t *)c->out[0].data + ((n * g->m + mi) * osz + p0);
                    for (int64_t q = 0; q < nt; q++)
                        yi[q] = acc[i * lda + q] - j->off * j->rowsum[mi];
                } else {
                    const int32_t add = (j->bias ? j->bias[mi] : 0) - j->off * j->rowsum[mi];
                    eai__q_requant_row(acc + i * lda, nt, add, j->mult[mi], j->zy, j->s8, y);
                }
            }
        }
    }
}

/* Stride phases of one padded plane: ph[p][r][c] = x[r - pt][c * s + p -
 * pl] - zx (0 in the padding), int16. A tap at column offset o of output
 * column c then reads phase o % s at column c + o / s: contiguous, whatever
 * the stride. */
EAI_Q_CLONES static void dw_phases(int16_t *restrict ph, const uint8_t *restrict xp, bool s8,
                                   int16_t zx, const eai__conv_geom_t *g, int64_t hp, int64_t wph)
{
    const int64_t s = g->s[2], pt = g->pb[1], pl = g->pb[2], ih = g->in[1], iw = g->in[2];
    memset(ph, 0, (size_t)(s * hp * wph) * sizeof(int16_t));
    for (int64_t p = 0; p < s; p++) {
        /* phase columns c whose input column c * s + p - pl is inside */
        int64_t lo = pl - p > 0 ? (pl - p + s - 1) / s : 0;
        int64_t hi = (iw - 1 + pl - p) / s + 1;
        if (iw - 1 + pl - p < 0) hi = 0;
        if (hi > wph) hi = wph;
        for (int64_t r = 0; r < ih && lo < hi; r++) {
            const uint8_t *row = xp + r * iw + p - pl;
            int16_t *d = ph + (p * hp + r + pt) * wph;
            if (s8)
                for (int64_t c = lo; c < hi; c++)
                    d[c] = (int16_t)((int16_t)(int8_t)row[c * s] - zx);
            else
                for (int64_t c = lo; c < hi; c++)
                    d[c] = (int16_t)((int16_t)row[c * s] - zx);
        }
    }
}

/* acc[o] (+)= sum of 9 taps w[t] * r[t][o] for o < n: one pass per output
 * row and 9 taps, so the sum stays in registers. The product of an int8
 * weight and an int16 (x - zx) fits int16 (|127 * 255| < 2^15): 16-bit
 * multiplies, widened once into the int32 sum. Unused taps have weight 0. */
EAI_Q_CLONES static void dw_row9(int32_t *restrict acc, const int16_t *const *r, const int16_t *w,
                                 int64_t n, bool add)
{
    const int16_t *restrict r0 = r[0], *restrict r1 = r[1], *restrict r2 = r[2];
    const int16_t *restrict r3 = r[3], *restrict r4 = r[4], *restrict r5 = r[5];
    const int16_t *restrict r6 = r[6], *restrict r7 = r[7], *restrict r8 = r[8];
    const int16_t w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6],
                  w7 = w[7], w8 = w[8];
    if (!add)
        for (int64_t o = 0; o < n; o++)
            acc[o] = 0;
    for (int64_t o = 0; o < n; o++) {
        int32_t s = (int16_t)(w0 * r0[o]) + (int16_t)(w1 * r1[o]) + (int16_t)(w2 * r2[o]);
        s += (int16_t)(w3 * r3[o]) + (int16_t)(w4 * r4[o]) + (int16_t)(w5 * r5[o]);
        s += (int16_t)(w6 * r6[o]) + (int16_t)(w7 * r7[o]) + (int16_t)(w8 * r8[o]);
        acc[o] += s;
    }
}

/* Depthwise planes (one input and one output channel per group): each
 * plane is padded and split into stride phases once, then every output row
 * is KH x KW contiguous multiply-adds. */
static void qconv_dw(void *ctx, int ith, int nth)
{
    const qconv_job_t *j = ctx;
    if (ith >= j->nth) return;
    nth = j->nth;
    const eai__qconv_params_t *p = j->p;
    const eai__conv_geom_t *g = &p->g;
    const eai__opctx_t *c = j->c;
    const bool s8 = c->in[p->ix].dtype == EAI_I8;
    const int64_t ih_n = g->in[1], iw_n = g->in[2], oh_n = g->out[1], ow_n = g->out[2];
    const int64_t kh_n = g->k[1], kw_n = g->k[2], planes = g->n * g->c, st = g->s[2];
    const int64_t hp = p->dw_hp, wph = p->dw_wph;
    const int16_t zx = (int16_t)(j->off - (j->flip ? 128 : 0));
    int16_t *ph = (int16_t *)((uint8_t *)c->scratch + p->hdr + (size_t)ith * p->per_th);
    int32_t *plane =
        (int32_t *)((uint8_t *)ph + EAI_ALIGN_UP((size_t)(st * hp * wph) * sizeof(int16_t), 64));
    for (int64_t pl = planes * ith / nth; pl < planes * (ith + 1) / nth; pl++) {
        const int64_t ch = pl % g->c;
        const int8_t *wk = (const int8_t *)c->in[p->iw].data + ch * kh_n * kw_n;
        const uint8_t *xp = (const uint8_t *)c->in[p->ix].data + pl * ih_n * iw_n;
        uint8_t *yp = (uint8_t *)c->out[0].data + pl * oh_n * ow_n;
        dw_phases(ph, xp, s8, zx, g, hp, wph);
        for (int64_t oh = 0; oh < oh_n; oh++) {
            int32_t *acc = plane + oh * ow_n;
            /* the taps in groups of 9 (3x3 is one group, 5x5 three) */
            const int16_t *rows[9];
            int16_t wt[9];
            int nt = 0;
            bool add = false;
            for (int64_t kh = 0; kh < kh_n; kh++) {
                const int64_t r = oh * g->s[1] + kh * g->d[1];
                for (int64_t kw = 0; kw < kw_n; kw++) {
                    const int64_t o = kw * g->d[2];
                    rows[nt] = ph + ((o % st) * hp + r) * wph + o / st;
                    wt[nt++] = wk[kh * kw_n + kw];
                    const bool last = kh == kh_n - 1 && kw == kw_n - 1;
                    if (nt == 9 || last) {
                        for (int t = nt; t < 9; t++)
                            rows[t] = rows[0], wt[t] = 0;
                        dw_row9(acc, rows, wt, ow_n, add);
                        add = true;
                        nt = 0;
                    }
                }
            }
        }
        /* one requantisation per plane: short rows (7, 14) would spend
         * their time in the vector loop's remainder */
        if (p->integer)
            memcpy((int32_t *)c->out[0].data + pl * oh_n * ow_n, plane,
                   (size_t)(oh_n * ow_n) * sizeof(int32_t));
        else
            eai__q_requant_row(plane, oh_n * ow_n, j->bias ? j->bias[ch] : 0, j->mult[ch], j->zy,
                               j->s8, yp);
    }
}

/* Any zero points, any 8-bit types: one output at a time. */
static void qconv_plain(const qconv_job_t *j)
{
    const eai__qconv_params_t *p = j->p;
    const eai__conv_geom_t *g = &p->g;
    const eai__opctx_t *c = j->c;
    const eai_dtype_t xdt = c->in[p->ix].dtype, wdt = c->in[p->iw].dtype;
    const int32_t zx = eai__has_in(c, p->ixz) ? eai__q_zp(&c->in[p->ixz], 0) : 0;
    const int64_t isz = g->in[0] * g->in[1] * g->in[2], osz = g->out[0] * g->out[1] * g->out[2];
    const int64_t cg = g->c / g->group, mg = g->m / g->group, kvol = g->k[0] * g->k[1] * g->k[2];
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t m = 0; m < g->m; m++) {
            const int32_t zw = eai__has_in(c, p->iwz) ? eai__q_zp(&c->in[p->iwz], m) : 0;
            const int64_t gi = m / mg;
            for (int64_t o = 0; o < osz; o++) {
                const int64_t od = o / (g->out[1] * g->out[2]), oh = (o / g->out[2]) % g->out[1],
                              ow = o % g->out[2];
                int32_t s = 0;
                for (int64_t r = 0; r < cg * kvol; r++) {
                    const int64_t ci = r / kvol, kk = r % kvol;
                    const int64_t id = od * g->s[0] - g->pb[0] + kk / (g->k[1] * g->k[2]) * g->d[0];
                    const int64_t ih = oh * g->s[1] - g->pb[1] + (kk / g->k[2]) % g->k[1] * g->d[1];
                    const int64_t iw = ow * g->s[2] - g->pb[2] + kk % g->k[2] * g->d[2];
                    if (id < 0 || id >= g->in[0] || ih < 0 || ih >= g->in[1] || iw < 0 ||
                        iw >= g->in[2])
                        continue;
                    const int64_t xi =
                        (n * g->c + gi * cg + ci) * isz + (id * g->in[1] + ih) * g->in[2] + iw;
                    s += (load8(c->in[p->ix].data, xdt, xi) - zx) *
                         (load8(c->in[p->iw].data, wdt, m * cg * kvol + r) - zw);
                }
                const int64_t yi = (n * g->m + m) * osz + o;
                if (p->integer)
                    ((int32_t *)c->out[0].data)[yi] = s;
                else
                    eai__q_requant_row(&s, 1, j->bias ? j->bias[m] : 0, j->mult[m], j->zy, j->s8,
                                       (uint8_t *)c->out[0].data + yi);
            }
        }
}

static eai_status_t qconv_run(eai__opctx_t *c)
{
    const eai__qconv_params_t *p = c->params;
    const eai__conv_geom_t *g = &p->g;
    const eai_dtype_t xdt = c->in[p->ix].dtype;
    int32_t *rowsum = c->scratch;
    float *mult = (float *)(rowsum + g->m);
    qconv_job_t j = {.p = p, .c = c, .rowsum = rowsum, .mult = mult};
    j.flip = xdt == EAI_I8 ? 0x80 : 0;
    j.off = (eai__has_in(c, p->ixz) ? eai__q_zp(&c->in[p->ixz], 0) : 0) + j.flip;
    if (!p->integer) {
        const float sx = eai__q_scale(&c->in[1], 0), sy = eai__q_scale(&c->in[6], 0);
        for (int64_t m = 0; m < g->m; m++)
            mult[m] = sx * eai__q_scale(&c->in[4], m) / sy;
        j.zy = eai__q_zp(&c->in[7], 0);
        j.s8 = c->out[0].dtype == EAI_I8;
        j.bias = eai__has_in(c, 8) ? c->in[8].data : NULL;
    }
    bool fast = c->in[p->iw].dtype == EAI_I8;
    if (fast && eai__has_in(c, p->iwz))
        for (int64_t m = 0; m < eai__shape_numel(&c->in[p->iwz].shape); m++)
            fast &= eai__q_zp(&c->in[p->iwz], m) == 0;
    if (!fast) {
        qconv_plain(&j);
        return EAI_OK;
    }
    const int8_t *w = c->in[p->iw].data;
    for (int64_t m = 0; m < g->m; m++) {
        int32_t s = 0;
        for (int64_t k = 0; k < p->K; k++)
            s += w[m * p->K + k];
        rowsum[m] = s;
    }
#if QCONV_VNNI
    j.vnni = have_vnni() && !getenv("EAI_QCONV_NO_VNNI");
#endif
    const int slots = (int)((c->scratch_bytes - p->hdr) / p->per_th);
    const int nth = eai_threadpool_size(c->pool);
    j.nth = nth < slots ? nth : slots;
    if (p->depthwise) {
        /* the direct loop subtracts the zero point per tap: no row sums */
        eai_threadpool_run(j.nth > 1 ? c->pool : NULL, qconv_dw, &j);
    } else {
        eai_threadpool_run(j.nth > 1 ? c->pool : NULL, qconv_tiles, &j);
    }
    return EAI_OK;
}

eai_status_t eai__q_conv_eval(eai__opctx_t *c)
{
    return qconv_run(c);
}

eai_status_t eai__q_convint_eval(eai__opctx_t *c)
{
    return qconv_run(c);
}
