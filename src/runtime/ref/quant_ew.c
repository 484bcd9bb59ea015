/* Op family 'quant' (ref backend): the elementwise and pooling ops of the
 * INT8 graph form: com.microsoft QLinearAdd, QLinearMul (numpy broadcast),
 * QLinearGlobalAveragePool (NCHW or channels_last), QLinearConcat, and
 * com.edgeai QLinearLut (any 8-bit -> 8-bit function as a 256-entry table).
 *
 * Each computes in float from the dequantised operands and rounds once, to
 * nearest even, as ONNX Runtime's reference kernels do.
 */
#include "runtime/ref/quant_impl.h"

static void store8(void *y, bool s8, int64_t i, float v, int32_t zp)
{
    const float lo = (float)((s8 ? -128 : 0) - zp), hi = (float)((s8 ? 127 : 255) - zp);
    v = v < lo ? lo : v > hi ? hi : v;
    v = eai__q_round(v);
    if (s8)
        ((int8_t *)y)[i] = (int8_t)((int32_t)v + zp);
    else
        ((uint8_t *)y)[i] = (uint8_t)((int32_t)v + zp);
}

static inline int32_t load8(const void *p, bool s8, int64_t i)
{
    return s8 ? ((const int8_t *)p)[i] : ((const uint8_t *)p)[i];
}

/* ---- QLinearAdd / QLinearMul ---- */

typedef struct qbin_params {
    eai__shape_t out;
    int64_t sa[EAI_MAX_RANK], sb[EAI_MAX_RANK];
    bool same; /* equal shapes: one flat loop */
} qbin_params_t;
_Static_assert(sizeof(qbin_params_t) <= EAI__PARAMS_BYTES, "qbin params");

eai_status_t eai__q_add_infer(eai__opctx_t *c)
{
    /* A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp */
    qbin_params_t *p = c->params;
    EAI_TRY(eai__q_check_8bit(c, 0));
    if (c->in[3].dtype != c->in[0].dtype)
        return eai__op_fail(c, EAI_E_FORMAT, "A is %s but B is %s; they must match",
                            eai_dtype_name(c->in[0].dtype), eai_dtype_name(c->in[3].dtype));
    EAI_TRY(eai__q_check_params(c, 1, 2, c->in[0].dtype, 0, "A"));
    EAI_TRY(eai__q_check_params(c, 4, 5, c->in[0].dtype, 0, "B"));
    EAI_TRY(eai__q_check_params(c, 6, 7, c->in[0].dtype, 0, "C"));
    EAI_TRY(eai__op_broadcast(c, &c->in[0].shape, &c->in[3].shape, &p->out));
    eai__bcast_strides(&c->in[0].shape, &p->out, p->sa);
    eai__bcast_strides(&c->in[3].shape, &p->out, p->sb);
    p->same = c->in[0].shape.rank == c->in[3].shape.rank;
    for (int i = 0; p->same && i < c->in[0].shape.rank; i++)
        p->same = c->in[0].shape.d[i] == c->in[3].shape.d[i];
    c->out[0].dtype = c->in[0].dtype;
    c->out[0].shape = p->out;
    return EAI_OK;
}

/* The int8 rows, with A's and B's steps 0 or 1 spelled out so each loop
 * has unit strides and vectorises; math as store8's. */
#define QBIN_LOOP(EXPR)                                                                            \
    for (int64_t k = 0; k < n; k++) {                                                              \
        float v = (EXPR);                                                                          \
        v = v < lo ? lo : v > hi ? hi : v;                                                         \
        y[k] = (int8_t)((int32_t)eai__q_round(v) + zc);                                            \
    }
EAI_Q_CLONES static void qbin_i8(const int8_t *restrict a, int64_t ia, const int8_t *restrict b,
                                 int64_t ib, int8_t *restrict y, int64_t n, bool mul, float fa,
                                 float fb, float fm, int32_t za, int32_t zb, int32_t zc)
{
    const float lo = (float)(-128 - zc), hi = (float)(127 - zc);
    if (mul) {
        if (ia && ib) {
            QBIN_LOOP((float)((a[k] - za) * (b[k] - zb)) * fm)
        } else if (ia) {
            const float bv = (float)(b[0] - zb) * fm;
            QBIN_LOOP((float)(a[k] - za) * bv)
        } else if (ib) {
            const float av = (float)(a[0] - za) * fm;
            QBIN_LOOP((float)(b[k] - zb) * av)
        } else {
            QBIN_LOOP((float)((a[0] - za) * (b[0] - zb)) * fm)
        }
    } else {
        if (ia && ib) {
            QBIN_LOOP((float)(a[k] - za) * fa + (float)(b[k] - zb) * fb)
        } else if (ia) {
            const float bv = (float)(b[0] - zb) * fb;
            QBIN_LOOP((float)(a[k] - za) * fa + bv)
        } else if (ib) {
            const float av = (float)(a[0] - za) * fa;
            QBIN_LOOP(av + (float)(b[k] - zb) * fb)
        } else {
            QBIN_LOOP((float)(a[0] - za) * fa + (float)(b[0] - zb) * fb)
        }
    }
}
#undef QBIN_LOOP

static eai_status_t qbin_eval(eai__opctx_t *c, bool mul)
{
    const qbin_params_t *p = c->params;
    const bool s8 = c->in[0].dtype == EAI_I8;
    const float sa = eai__q_scale(&c->in[1], 0), sb = eai__q_scale(&c->in[4], 0);
    const float sc = eai__q_scale(&c->in[6], 0);
    const int32_t za = eai__q_zp(&c->in[2], 0), zb = eai__q_zp(&c->in[5], 0);
    const int32_t zc = eai__has_in(c, 7) ? eai__q_zp(&c->in[7], 0) : 0;
    const float fa = sa / sc, fb = sb / sc, fm = sa * sb / sc;
    const void *a = c->in[0].data, *b = c->in[3].data;
    void *y = c->out[0].data;
    const int r = p->out.rank;
    const int64_t total = eai__shape_numel(&p->out);
    const int64_t ia = p->same ? 1 : (r ? p->sa[r - 1] : 0);
    const int64_t ib = p->same ? 1 : (r ? p->sb[r - 1] : 0);
    /* the innermost run: trailing dims along which each operand is either
     * contiguous (step 1) or constant (step 0), e.g. all of H x W for an
     * SE block's [N, C, 1, 1] scale */
    int64_t run = r ? p->out.d[r - 1] : 1;
    int lead = r - 1; /* dims [0, lead) walk the runs */
    while (!p->same && lead > 0 && p->sa[lead - 1] == ia * run && p->sb[lead - 1] == ib * run)
        run *= p->out.d[--lead];
    if (p->same) run = total, lead = 0;
    for (int64_t base = 0; base < total && run > 0; base += run) {
        /* offsets of this run in A and B */
        int64_t oa = base, ob = base;
        if (!p->same) {
            oa = ob = 0;
            int64_t rem = base / run;
            for (int d = lead - 1; d >= 0; d--) {
                const int64_t i = rem % p->out.d[d];
                rem /= p->out.d[d];
                oa += i * p->sa[d];
                ob += i * p->sb[d];
            }
        }
        if (s8) {
            qbin_i8((const int8_t *)a + oa, ia, (const int8_t *)b + ob, ib, (int8_t *)y + base, run,
                    mul, fa, fb, fm, za, zb, zc);
        } else if (mul) {
            for (int64_t k = 0; k < run; k++)
                store8(
                    y, s8, base + k,
                    (float)((load8(a, s8, oa + k * ia) - za) * (load8(b, s8, ob + k * ib) - zb)) *
                        fm,
                    zc);
        } else {
            for (int64_t k = 0; k < run; k++)
                store8(y, s8, base + k,
                       (float)(load8(a, s8, oa + k * ia) - za) * fa +
                           (float)(load8(b, s8, ob + k * ib) - zb) * fb,
                       zc);
        }
    }
    return EAI_OK;
}

eai_status_t eai__q_add_eval(eai__opctx_t *c)
{
    return qbin_eval(c, false);
}

eai_status_t eai__q_mul_eval(eai__opctx_t *c)
{
    return qbin_eval(c, true);
}

/* ---- QLinearGlobalAveragePool ---- */

typedef struct qgap_params {
    int64_t n, ch, hw;
    bool channels_last;
} qgap_params_t;
_Static_assert(sizeof(qgap_params_t) <= EAI__PARAMS_BYTES, "qgap params");

eai_status_t eai__q_gap_infer(eai__opctx_t *c)
{
    /* X, x_scale, x_zp, y_scale, y_zp */
    qgap_params_t *p = c->params;
    EAI_TRY(eai__q_check_8bit(c, 0));
    EAI_TRY(eai__q_check_params(c, 1, 2, c->in[0].dtype, 0, "x"));
    EAI_TRY(eai__q_check_params(c, 3, 4, c->in[0].dtype, 0, "y"));
    int64_t cl;
    EAI_TRY(eai__op_int(c, "channels_last", 0, &cl));
    p->channels_last = cl != 0;
    const eai__shape_t *x = &c->in[0].shape;
    if (x->rank < 3) return eai__op_fail(c, EAI_E_FORMAT, "X has rank %d, expected >= 3", x->rank);
    p->n = x->d[0];
    p->ch = p->channels_last ? x->d[x->rank - 1] : x->d[1];
    p->hw = eai__shape_numel(x) / (p->n * p->ch > 0 ? p->n * p->ch : 1);
    c->out[0].dtype = c->in[0].dtype;
    eai__shape_t *o = &c->out[0].shape;
    *o = *x;
    for (int i = p->channels_last ? 1 : 2; i < (p->channels_last ? x->rank - 1 : x->rank); i++)
        o->d[i] = 1;
    return EAI_OK;
}

eai_status_t eai__q_gap_eval(eai__opctx_t *c)
{
    const qgap_params_t *p = c->params;
    const bool s8 = c->in[0].dtype == EAI_I8;
    const float f = eai__q_scale(&c->in[1], 0) / (eai__q_scale(&c->in[3], 0) * (float)p->hw);
    const int32_t zx = eai__q_zp(&c->in[2], 0), zy = eai__q_zp(&c->in[4], 0);
    const void *x = c->in[0].data;
    for (int64_t n = 0; n < p->n; n++)
        for (int64_t ch = 0; ch < p->ch; ch++) {
            int32_t s = 0;
            if (p->channels_last) {
                for (int64_t i = 0; i < p->hw; i++)
                    s += load8(x, s8, (n * p->hw + i) * p->ch + ch);
            } else if (s8) {
                const int8_t *xp = (const int8_t *)x + (n * p->ch + ch) * p->hw;
                for (int64_t i = 0; i < p->hw; i++)
                    s += xp[i];
            } else {
                const uint8_t *xp = (const uint8_t *)x + (n * p->ch + ch) * p->hw;
                for (int64_t i = 0; i < p->hw; i++)
                    s += xp[i];
            }
            store8(c->out[0].data, s8, n * p->ch + ch, (float)(s - zx * (int32_t)p->hw) * f, zy);
        }
    return EAI_OK;
}

/* ---- QLinearConcat: Y_scale, Y_zp, then (X, X_scale, X_zp) per input ---- */

typedef struct qcat_params {
    int axis;
    int64_t outer, inner_out; /* outer blocks; elements per block of Y */
} qcat_params_t;
_Static_assert(sizeof(qcat_params_t) <= EAI__PARAMS_BYTES, "qcat params");

eai_status_t eai__q_concat_infer(eai__opctx_t *c)
{
    qcat_params_t *p = c->params;
    if ((c->n_in - 2) % 3 != 0)
        return eai__op_fail(c, EAI_E_FORMAT,
                            "%d inputs; expected Y_scale, Y_zero_point and triples of (X, "
                            "X_scale, X_zero_point)",
                            c->n_in);
    EAI_TRY(eai__q_check_8bit(c, 2));
    const eai_dtype_t dt = c->in[2].dtype;
    EAI_TRY(eai__q_check_params(c, 0, 1, dt, 0, "Y"));
    const eai__shape_t *x0 = &c->in[2].shape;
    int64_t a;
    EAI_TRY(eai__op_int(c, "axis", 0, &a));
    EAI_TRY(eai__op_axis(c, a, x0->rank, &p->axis));
    eai__shape_t o = *x0;
    o.d[p->axis] = 0;
    for (int i = 2; i < c->n_in; i += 3) {
        const eai__shape_t *x = &c->in[i].shape;
        if (c->in[i].dtype != dt || x->rank != x0->rank)
            return eai__op_fail(c, EAI_E_FORMAT, "input %d is %s rank %d; expected %s rank %d", i,
                                eai_dtype_name(c->in[i].dtype), x->rank, eai_dtype_name(dt),
                                x0->rank);
        for (int d = 0; d < x->rank; d++)
            if (d != p->axis && x->d[d] != x0->d[d])
                return eai__op_fail(c, EAI_E_FORMAT, "input %d: dim %d is %lld, expected %lld", i,
                                    d, (long long)x->d[d], (long long)x0->d[d]);
        EAI_TRY(eai__q_check_params(c, i + 1, i + 2, dt, 0, "X"));
        o.d[p->axis] += x->d[p->axis];
    }
    p->outer = 1;
    for (int d = 0; d < p->axis; d++)
        p->outer *= o.d[d];
    p->inner_out = p->outer ? eai__shape_numel(&o) / p->outer : 0;
    c->out[0].dtype = dt;
    c->out[0].shape = o;
    return EAI_OK;
}

/* y = requantised x, int8 to int8 (vectorises). */
EAI_Q_CLONES static void requant_i8(const int8_t *restrict x, int64_t n, int32_t zx, float f,
                                    int32_t zy, int8_t *restrict y)
{
    const float lo = (float)(-128 - zy), hi = (float)(127 - zy);
    for (int64_t k = 0; k < n; k++) {
        float v = (float)(x[k] - zx) * f;
        v = v < lo ? lo : v > hi ? hi : v;
        y[k] = (int8_t)((int32_t)eai__q_round(v) + zy);
    }
}

eai_status_t eai__q_concat_eval(eai__opctx_t *c)
{
    const qcat_params_t *p = c->params;
    const bool s8 = c->in[2].dtype == EAI_I8;
    const float sy = eai__q_scale(&c->in[0], 0);
    const int32_t zy = eai__q_zp(&c->in[1], 0);
    int64_t at = 0; /* offset of this input's block inside each Y block */
    for (int i = 2; i < c->n_in; i += 3) {
        const int64_t blk = p->outer ? eai__shape_numel(&c->in[i].shape) / p->outer : 0;
        const float sx = eai__q_scale(&c->in[i + 1], 0);
        const int32_t zx = eai__q_zp(&c->in[i + 2], 0);
        const float f = sx / sy;
        for (int64_t o = 0; o < p->outer; o++) {
            const int64_t src = o * blk, dst = o * p->inner_out + at;
            if (sx == sy && zx == zy) {
                memcpy((uint8_t *)c->out[0].data + dst, (const uint8_t *)c->in[i].data + src,
                       (size_t)blk);
            } else if (s8) {
                requant_i8((const int8_t *)c->in[i].data + src, blk, zx, f, zy,
                           (int8_t *)c->out[0].data + dst);
            } else {
                for (int64_t k = 0; k < blk; k++)
                    store8(c->out[0].data, s8, dst + k,
                           (float)(load8(c->in[i].data, s8, src + k) - zx) * f, zy);
            }
        }
        at += blk;
    }
    return EAI_OK;
}

/* ---- QLinearLut (com.edgeai): Y = table[X - type minimum] ---- */

eai_status_t eai__q_lut_infer(eai__opctx_t *c)
{
    EAI_TRY(eai__q_check_8bit(c, 0));
    EAI_TRY(eai__q_check_8bit(c, 1));
    if (c->in[1].shape.rank != 1 || c->in[1].shape.d[0] != 256)
        return eai__op_fail(c, EAI_E_FORMAT, "the table must be 1-D with 256 values");
    c->out[0].dtype = c->in[1].dtype;
    c->out[0].shape = c->in[0].shape;
    return EAI_OK;
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
/* 64 lookups per step: vpermi2b picks from 128 table bytes by the low 7
 * index bits, once for each half of the table; the index's top bit picks
 * the half. Returns how many elements it did (a multiple of 64). */
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static int64_t
lut_vbmi(const uint8_t *x, int64_t n, const uint8_t *t, uint8_t flip, uint8_t *y)
{
    const __m512i t0 = _mm512_loadu_si512(t), t1 = _mm512_loadu_si512(t + 64);
    const __m512i t2 = _mm512_loadu_si512(t + 128), t3 = _mm512_loadu_si512(t + 192);
    const __m512i f = _mm512_set1_epi8((char)flip);
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const __m512i idx = _mm512_xor_si512(_mm512_loadu_si512(x + i), f);
        const __m512i lo = _mm512_permutex2var_epi8(t0, idx, t1);
        const __m512i hi = _mm512_permutex2var_epi8(t2, idx, t3);
        _mm512_storeu_si512(y + i, _mm512_mask_blend_epi8(_mm512_movepi8_mask(idx), lo, hi));
    }
    return i;
}
#endif

eai_status_t eai__q_lut_eval(eai__opctx_t *c)
{
    const int64_t n = eai__shape_numel(&c->in[0].shape);
    const uint8_t *x = c->in[0].data, *t = c->in[1].data;
    uint8_t *y = c->out[0].data;
    /* int8 code v sits at table[v + 128]: flipping the sign bit of the byte
     * is that index */
    const uint8_t flip = c->in[0].dtype == EAI_I8 ? 0x80 : 0;
    int64_t i = 0;
#if defined(__GNUC__) && defined(__x86_64__)
    if (__builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512bw"))
        i = lut_vbmi(x, n, t, flip, y);
#endif
    for (; i < n; i++)
        y[i] = t[x[i] ^ flip];
    return EAI_OK;
}
