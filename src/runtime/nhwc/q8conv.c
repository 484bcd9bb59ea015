/* INT8 NHWC convolutions (q8conv_impl.h): weight packing, the portable C
 * kernels and the AVX512-VNNI ones.
 *
 * Dense packing: [block of 64 output channels][tap][c rounded to 4 / 4]
 * [64 channels][4 bytes], zeros past c and m: one vpdpbusd multiplies 4
 * input channels of one pixel (broadcast) by 16 output channels' weights.
 * A tile is MR pixels x up to 64 channels: 24 accumulators. Padded taps
 * read `zero` (a pixel of the input zero point), so they add nothing once
 * the compensation is applied; the 1..3 bytes read past a pixel's c
 * channels meet zero weights.
 *
 * Depthwise packing: [block of 16 channels][tap pair][16 lanes] int32 lanes
 * holding two int16 weights (taps 2p and 2p+1; 0 past the last tap): one
 * vpdpwssd adds two taps of 16 channels.
 *
 * Requantisation (both kernels, both paths): v = (float)(acc) * mult,
 * clamped to [-128 - zy, 127 - zy], rounded half to even, plus zy: the
 * formula of eai__q_requant_row, so the outputs match the ref QLinearConv
 * bit for bit.
 */
#include "runtime/nhwc/q8conv_impl.h"

#include <string.h>

#include "core/core_impl.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define Q8C_X86 1
#define VNNI    __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#endif

#define MR EAI__Q8C_MR
#define NB EAI__Q8C_NB

bool eai__q8c_simd_available(void)
{
#if Q8C_X86
    /* __builtin_cpu_supports also checks the OS saves the zmm registers */
    return __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl");
#else
    return false;
#endif
}

static int64_t round_up(int64_t v, int64_t m)
{
    return (v + m - 1) / m * m;
}

/* Dense convs with few input channels (the stem's 3) merge the kw taps of
 * a kernel row into one packed tap of kw * c contiguous bytes, read from a
 * copy of the input padded left and right with the zero point: a third of
 * the per-tap pointer work, and 4-byte groups not mostly padding. */
static bool rowtap_of(const eai__q8c_geom_t *g)
{
    return !g->depthwise && g->kw > 1 && g->dw == 1 && g->c * g->kw <= 64;
}

/* Padded input width of the row-tap copy. */
static int64_t padded_w(const eai__q8c_geom_t *g)
{
    const int64_t need = (g->ow - 1) * g->sw + g->kw;
    return need > g->pl + g->iw ? need : g->pl + g->iw;
}

/* Packed taps and bytes per packed tap (a multiple of 4). */
static void packing(const eai__q8c_geom_t *g, int64_t *n_pt, int64_t *kc)
{
    const bool rt = rowtap_of(g);
    *n_pt = rt ? g->kh : g->kh * g->kw;
    *kc = round_up(rt ? g->kw * g->c : g->c, 4);
}

/* Sizes of the packed arrays, each rounded to 64 bytes; *xp the row-tap
 * copy (0 when not used). */
static void sizes(const eai__q8c_geom_t *g, size_t *w, size_t *per_ch, size_t *zero, size_t *xp)
{
    const int64_t taps = g->kh * g->kw;
    *xp = 0;
    if (g->depthwise) {
        const int64_t mp = round_up(g->m, 16);
        *w = (size_t)(mp / 16 * ((taps + 1) / 2) * 64);
        *per_ch = EAI_ALIGN_UP((size_t)mp * 4, 64);
        *zero = EAI_ALIGN_UP((size_t)mp, 64) + 64;
    } else {
        int64_t n_pt, kc;
        packing(g, &n_pt, &kc);
        const int64_t mp = round_up(g->m, NB);
        *w = (size_t)(mp / NB * n_pt * kc * NB);
        *per_ch = EAI_ALIGN_UP((size_t)mp * 4, 64);
        *zero = EAI_ALIGN_UP((size_t)kc, 64) + 64;
        if (rowtap_of(g)) *xp = EAI_ALIGN_UP((size_t)(g->n * g->ih * padded_w(g) * g->c), 64) + 64;
    }
    *w = EAI_ALIGN_UP(*w, 64);
}

size_t eai__q8c_mem_bytes(const eai__q8c_geom_t *g)
{
    size_t w, pc, z, xp;
    sizes(g, &w, &pc, &z, &xp);
    return w + 2 * pc + z + xp;
}

/* Outputs o in [0, n_out) whose taps o * s - p + [0, span] all lie in
 * [0, n_in): [*lo, *hi). */
static void interior(int64_t n_in, int64_t n_out, int64_t s, int64_t p, int64_t span, int64_t *lo,
                     int64_t *hi)
{
    int64_t l = (p + s - 1) / s, h = n_in - 1 - span + p < 0 ? 0 : (n_in - 1 - span + p) / s + 1;
    if (h > n_out) h = n_out;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* Offset in a dense block of the weight of tap t (ky * kw + kx), input
 * channel ci, for output channel 0 of the block (+ 4 per channel). */
static inline int64_t wpos(const eai__q8c_t *k, int64_t t, int64_t ci)
{
    const eai__q8c_geom_t *g = &k->g;
    const int64_t pt = k->xp ? t / g->kw : t, b = k->xp ? (t % g->kw) * g->c + ci : ci;
    return ((pt * k->kc + b) / 4 * NB) * 4 + b % 4;
}

void eai__q8c_begin(const eai__q8c_t *k)
{
    const eai__q8c_geom_t *g = &k->g;
    if (!k->xp) return;
    const size_t row = (size_t)(g->iw * g->c);
    for (int64_t r = 0; r < g->n * g->ih; r++)
        memcpy(k->xp + (r * k->iwp + g->pl) * g->c, k->x + r * g->iw * g->c, row);
}

void eai__q8c_init(eai__q8c_t *k, const eai__q8c_geom_t *g, const int8_t *w, const int32_t *bias,
                   const float *wscale, float sx, int8_t zx, float sy, int8_t zy, const int8_t *x,
                   int8_t *y, bool simd, void *mem)
{
    size_t wb, pc, zb, xpb;
    sizes(g, &wb, &pc, &zb, &xpb);
    memset(k, 0, sizeof *k);
    k->g = *g;
    k->taps = g->kh * g->kw;
    k->x = x;
    k->y = y;
    k->zy = zy;
    k->simd = simd;
    char *p = mem;
    memset(p, 0, wb + 2 * pc);
    k->w = (int8_t *)p;
    k->bias = (int32_t *)(void *)(p + wb);
    k->mult = (float *)(void *)(p + wb + pc);
    k->zero = (int8_t *)(p + wb + 2 * pc);
    memset(k->zero, zx, zb);
    if (xpb) { /* the padding columns keep the zero point; begin copies the rest */
        k->xp = (int8_t *)(p + wb + 2 * pc + zb);
        k->iwp = padded_w(g);
        memset(k->xp, zx, xpb);
    }
    const int64_t taps = k->taps;
    k->gemm = !g->depthwise && taps == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0 &&
              g->oh == g->ih && g->ow == g->iw;
    /* output rows / columns whose whole window lies inside the image */
    interior(g->ih, g->oh, g->sh, g->pt, (g->kh - 1) * g->dh, &k->oy_lo, &k->oy_hi);
    interior(g->iw, g->ow, g->sw, g->pl, (g->kw - 1) * g->dw, &k->ox_lo, &k->ox_hi);
    for (int64_t t = 0; t < taps && t < EAI__Q8C_MAX_TAPS; t++)
        k->off[t] = ((t / g->kw) * g->dh * g->iw + (t % g->kw) * g->dw) * g->c;
    for (int64_t m = 0; m < g->m; m++)
        k->mult[m] = sx * wscale[m] / sy; /* the ref kernel's order of operations */
    if (g->depthwise) {
        k->mp = round_up(g->m, 16);
        k->n_blk = k->mp / 16;
        k->n_tile = g->n * g->oh;
        const int64_t tp = (taps + 1) / 2;
        int32_t *pw = (int32_t *)(void *)k->w;
        for (int64_t m = 0; m < g->m; m++) {
            const int8_t *wm = w + m * taps;
            int32_t sum = 0;
            for (int64_t t = 0; t < taps; t++)
                sum += wm[t];
            for (int64_t q = 0; q < tp; q++) {
                const uint32_t lo = (uint16_t)(int16_t)wm[2 * q];
                const uint32_t hi = 2 * q + 1 < taps ? (uint16_t)(int16_t)wm[2 * q + 1] : 0;
                pw[((m / 16) * tp + q) * 16 + m % 16] = (int32_t)(lo | hi << 16);
            }
            /* sum w * (x - zx) = sum w * x - zx * sum w */
            k->bias[m] = (bias ? bias[m] : 0) - (int32_t)zx * sum;
        }
        return;
    }
    packing(g, &k->n_pt, &k->kc);
    k->mp = round_up(g->m, NB);
    k->n_blk = k->mp / NB;
    k->n_tile = (g->n * g->oh * g->ow + MR - 1) / MR;
    for (int64_t m = 0; m < g->m; m++) {
        int8_t *blk = k->w + (m / NB) * k->n_pt * k->kc * NB;
        int32_t sum = 0;
        for (int64_t ci = 0; ci < g->c; ci++)
            for (int64_t t = 0; t < taps; t++) {
                const int8_t v = w[(m * g->c + ci) * taps + t];
                sum += v;
                blk[wpos(k, t, ci) + m % NB * 4] = v;
            }
        /* the kernels read x + 128 (XOR 0x80 makes int8 uint8 for vpdpbusd):
         * sum w * (x - zx) = sum w * (x + 128) - (zx + 128) * sum w */
        k->bias[m] = (bias ? bias[m] : 0) - ((int32_t)zx + 128) * sum;
    }
}

int64_t eai__q8c_n_tasks(const eai__q8c_t *k)
{
    return k->g.depthwise ? k->n_tile : k->n_blk * k->n_tile;
}

/* Input pixel of tap (ky, kx) for an output pixel whose window starts at
 * (iy0, ix0) in image n, or the zero-point pixel when it is padding. */
static inline const int8_t *tap_ptr(const eai__q8c_t *k, int64_t n, int64_t iy0, int64_t ix0,
                                    int64_t ky, int64_t kx)
{
    const eai__q8c_geom_t *g = &k->g;
    const int64_t iy = iy0 + ky * g->dh, ix = ix0 + kx * g->dw;
    if ((uint64_t)iy >= (uint64_t)g->ih || (uint64_t)ix >= (uint64_t)g->iw) return k->zero;
    return k->x + ((n * g->ih + iy) * g->iw + ix) * g->c;
}

/* The requantisation both paths share (see the file comment). */
static inline int8_t requant1(int32_t acc, float mult, int32_t zy)
{
    const float lo = (float)(-128 - zy), hi = (float)(127 - zy);
    float v = (float)acc * mult;
    v = v < lo ? lo : v > hi ? hi : v;
    return (int8_t)((int32_t)((v + 12582912.0f) - 12582912.0f) + zy);
}

/* Window origin of output pixel p (flattened n, oy, ox). */
static inline void origin(const eai__q8c_geom_t *g, int64_t p, int64_t *n, int64_t *iy0,
                          int64_t *ix0)
{
    const int64_t ox = p % g->ow, t = p / g->ow;
    *n = t / g->oh;
    *iy0 = (t % g->oh) * g->sh - g->pt;
    *ix0 = ox * g->sw - g->pl;
}

/* Window origins of the MR pixels from p0 (one division, then steps);
 * rows past the last pixel (mr) repeat it: computed, never stored. */
static inline void origins(const eai__q8c_geom_t *g, int64_t p0, int mr, int64_t *rn, int64_t *riy,
                           int64_t *rix)
{
    int64_t ox = p0 % g->ow, t = p0 / g->ow;
    int64_t oy = t % g->oh, n = t / g->oh;
    for (int r = 0; r < MR; r++) {
        rn[r] = n;
        riy[r] = oy * g->sh - g->pt;
        rix[r] = ox * g->sw - g->pl;
        if (r + 1 < mr && ++ox == g->ow) {
            ox = 0;
            if (++oy == g->oh) oy = 0, n++;
        }
    }
}

/* ---- portable C ---- */

static void dense_tile_c(const eai__q8c_t *k, int64_t blk, int64_t tile)
{
    const eai__q8c_geom_t *g = &k->g;
    const int64_t np = g->n * g->oh * g->ow, m0 = blk * NB;
    const int64_t mn = g->m - m0 < NB ? g->m - m0 : NB;
    const int8_t *wb = k->w + blk * k->n_pt * k->kc * NB;
    for (int64_t p = tile * MR; p < np && p < (tile + 1) * MR; p++) {
        int64_t n, iy0, ix0;
        origin(g, p, &n, &iy0, &ix0);
        int8_t *yo = k->yf ? NULL : k->y + p * g->m + m0;
        for (int64_t j = 0; j < mn; j++) {
            int32_t acc = k->bias[m0 + j];
            for (int64_t t = 0; t < k->taps; t++) {
                const int8_t *a = tap_ptr(k, n, iy0, ix0, t / g->kw, t % g->kw);
                for (int64_t ci = 0; ci < g->c; ci++)
                    acc += (int32_t)wb[wpos(k, t, ci) + j * 4] * (int32_t)(a[ci] + 128);
            }
            if (k->yf)
                k->yf[p * g->m + m0 + j] = (float)acc * k->mult[m0 + j];
            else
                yo[j] = requant1(acc, k->mult[m0 + j], k->zy);
        }
    }
}

static void dw_row_c(const eai__q8c_t *k, int64_t row)
{
    const eai__q8c_geom_t *g = &k->g;
    const int64_t n = row / g->oh, iy0 = (row % g->oh) * g->sh - g->pt, tp = (k->taps + 1) / 2;
    const int32_t *pw = (const int32_t *)(const void *)k->w;
    for (int64_t ox = 0; ox < g->ow; ox++) {
        const int64_t ix0 = ox * g->sw - g->pl;
        int8_t *yo = k->y + (row * g->ow + ox) * g->m;
        for (int64_t m = 0; m < g->m; m++) {
            int32_t acc = k->bias[m];
            for (int64_t t = 0; t < k->taps; t++) {
                const int32_t lane = pw[((m / 16) * tp + t / 2) * 16 + m % 16];
                const int16_t wt = (int16_t)(uint16_t)((uint32_t)lane >> (t % 2 ? 16 : 0));
                acc += wt * tap_ptr(k, n, iy0, ix0, t / g->kw, t % g->kw)[m];
            }
            yo[m] = requant1(acc, k->mult[m], k->zy);
        }
    }
}

/* ---- AVX512-VNNI ---- */

#if Q8C_X86
/* 16 int32 sums -> 16 int8 outputs of channels [m0, m0 + 16) (masked). */
VNNI static inline void requant16(__m512i acc, const float *mult, __m512 lo, __m512 hi, __m512i zy,
                                  int8_t *y, __mmask16 mask)
{
    __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_loadu_ps(mult));
    v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
    /* cvtps rounds half to even (the default MXCSR mode), as requant1 */
    const __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(v), zy);
    _mm_mask_storeu_epi8(y, mask, _mm512_cvtepi32_epi8(q));
}

static inline __mmask16 lanes(int64_t n)
{
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
}

/* One dense tile with NZ (1..4) 16-channel column vectors: the compiler
 * keeps the MR x NZ accumulators in registers when NZ is a constant. */
VNNI static inline __attribute__((always_inline)) void
dense_tile_vnni_n(const eai__q8c_t *k, int64_t blk, int64_t tile, const int NZ)
{
    const eai__q8c_geom_t *g = &k->g;
    const int64_t np = g->n * g->oh * g->ow, p0 = tile * MR, m0 = blk * NB;
    const int mr = np - p0 < MR ? (int)(np - p0) : MR;
    int64_t rn[MR], riy[MR], rix[MR];
    if (!k->gemm) origins(g, p0, mr, rn, riy, rix);
    __m512i acc[MR][4];
#pragma GCC unroll 4
    for (int j = 0; j < NZ; j++) {
        const __m512i b = _mm512_loadu_si512(k->bias + m0 + 16 * j);
#pragma GCC unroll 6
        for (int r = 0; r < MR; r++)
            acc[r][j] = b;
    }
    const __m512i flip = _mm512_set1_epi32((int)0x80808080u);
    const int8_t *wp = k->w + blk * k->n_pt * k->kc * NB;
    const int64_t kc = k->kc;
    for (int64_t ky = 0; ky < g->kh; ky++)
        for (int64_t kx = 0; kx < (k->xp ? 1 : g->kw); kx++) {
            const int8_t *a[MR];
            if (k->gemm) { /* 1x1, stride 1, no padding: rows of the input */
#pragma GCC unroll 6
                for (int r = 0; r < MR; r++)
                    a[r] = k->x + (p0 + (r < mr ? r : mr - 1)) * g->c;
            } else if (k->xp) { /* a kernel row of the padded copy */
#pragma GCC unroll 6
                for (int r = 0; r < MR; r++) {
                    const int64_t iy = riy[r] + ky * g->dh;
                    a[r] = (uint64_t)iy >= (uint64_t)g->ih
                               ? k->zero
                               : k->xp + ((rn[r] * g->ih + iy) * k->iwp + rix[r] + g->pl) * g->c;
                }
            } else {
#pragma GCC unroll 6
                for (int r = 0; r < MR; r++)
                    a[r] = tap_ptr(k, rn[r], riy[r], rix[r], ky, kx);
            }
            for (int64_t q = 0; q < kc; q += 4, wp += 4 * NB) {
                __m512i w[4];
#pragma GCC unroll 4
                for (int j = 0; j < NZ; j++)
                    w[j] = _mm512_load_si512(wp + 64 * j);
#pragma GCC unroll 6
                for (int r = 0; r < MR; r++) {
                    int32_t v;
                    memcpy(&v, a[r] + q, 4);
                    const __m512i av = _mm512_xor_si512(_mm512_set1_epi32(v), flip);
#pragma GCC unroll 4
                    for (int j = 0; j < NZ; j++)
                        acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], av, w[j]);
                }
            }
        }
    const __m512 lo = _mm512_set1_ps((float)(-128 - k->zy)),
                 hi = _mm512_set1_ps((float)(127 - k->zy));
    const __m512i zy = _mm512_set1_epi32(k->zy);
    if (k->yf) {
        for (int j = 0; j < NZ; j++) {
            const __mmask16 mask = lanes(g->m - m0 - 16 * j);
            const __m512 mu = _mm512_loadu_ps(k->mult + m0 + 16 * j);
            for (int r = 0; r < mr; r++)
                _mm512_mask_storeu_ps(k->yf + (p0 + r) * g->m + m0 + 16 * j, mask,
                                      _mm512_mul_ps(_mm512_cvtepi32_ps(acc[r][j]), mu));
        }
        return;
    }
#pragma GCC unroll 4
    for (int j = 0; j < NZ; j++) {
        const __mmask16 mask = lanes(g->m - m0 - 16 * j);
        for (int r = 0; r < mr; r++)
            requant16(acc[r][j], k->mult + m0 + 16 * j, lo, hi, zy,
                      k->y + (p0 + r) * g->m + m0 + 16 * j, mask);
    }
}

VNNI static void dense_tile_vnni(const eai__q8c_t *k, int64_t blk, int64_t tile)
{
    const int64_t left = k->g.m - blk * NB;
    if (left > 48)
        dense_tile_vnni_n(k, blk, tile, 4);
    else if (left > 32)
        dense_tile_vnni_n(k, blk, tile, 3);
    else if (left > 16)
        dense_tile_vnni_n(k, blk, tile, 2);
    else
        dense_tile_vnni_n(k, blk, tile, 1);
}

/* Tap pointers of one output pixel: up to this many taps run here (7x7);
 * larger kernels take the portable path. */
#define DW_MAX_TAPS EAI__Q8C_MAX_TAPS

VNNI static void dw_row_vnni(const eai__q8c_t *k, int64_t row)
{
    const eai__q8c_geom_t *g = &k->g;
    const int64_t n = row / g->oh, iy0 = (row % g->oh) * g->sh - g->pt, tp = (k->taps + 1) / 2;
    const __m512 lo = _mm512_set1_ps((float)(-128 - k->zy)),
                 hi = _mm512_set1_ps((float)(127 - k->zy));
    const __m512i zy = _mm512_set1_epi32(k->zy);
    const int8_t *a[DW_MAX_TAPS + 1];
    a[k->taps] = k->zero; /* the odd tap's partner: weight 0 */
    const int64_t oy = row % g->oh;
    const bool inner_row = oy >= k->oy_lo && oy < k->oy_hi;
    for (int64_t ox = 0; ox < g->ow; ox++) {
        const int64_t ix0 = ox * g->sw - g->pl;
        if (inner_row && ox >= k->ox_lo && ox < k->ox_hi) {
            const int8_t *base = k->x + ((n * g->ih + iy0) * g->iw + ix0) * g->c;
            for (int64_t t = 0; t < k->taps; t++)
                a[t] = base + k->off[t];
        } else {
            for (int64_t t = 0; t < k->taps; t++)
                a[t] = tap_ptr(k, n, iy0, ix0, t / g->kw, t % g->kw);
        }
        int8_t *yo = k->y + (row * g->ow + ox) * g->m;
        const __m512i *wp = (const __m512i *)(const void *)k->w;
        for (int64_t cb = 0; cb < k->n_blk; cb++, wp += tp) {
            __m512i acc = _mm512_loadu_si512(k->bias + cb * 16);
            for (int64_t q = 0; q < tp; q++) {
                /* 16 bytes from each pixel: past c they meet zero weights */
                const __m512i xa = _mm512_cvtepi8_epi32(
                    _mm_loadu_si128((const __m128i *)(const void *)(a[2 * q] + cb * 16)));
                const __m512i xb = _mm512_cvtepi8_epi32(
                    _mm_loadu_si128((const __m128i *)(const void *)(a[2 * q + 1] + cb * 16)));
                /* int16 pairs: tap 2q in the low half, tap 2q + 1 in the high */
                const __m512i x2 =
                    _mm512_mask_blend_epi16(0xAAAAAAAAu, xa, _mm512_slli_epi32(xb, 16));
                acc = _mm512_dpwssd_epi32(acc, x2, _mm512_load_si512(wp + q));
            }
            requant16(acc, k->mult + cb * 16, lo, hi, zy, yo + cb * 16, lanes(g->m - cb * 16));
        }
    }
}
#endif

void eai__q8c_run(const eai__q8c_t *k, int64_t begin, int64_t end)
{
    for (int64_t t = begin; t < end; t++) {
        if (k->g.depthwise) {
#if Q8C_X86
            if (k->simd && k->taps <= DW_MAX_TAPS) {
                dw_row_vnni(k, t);
                continue;
            }
#endif
            dw_row_c(k, t);
            continue;
        }
        /* blocks outer: consecutive tasks share a block's weights in cache */
        const int64_t blk = t / k->n_tile, tile = t % k->n_tile;
#if Q8C_X86
        if (k->simd) {
            dense_tile_vnni(k, blk, tile);
            continue;
        }
#endif
        dense_tile_c(k, blk, tile);
    }
}
