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
 * Depthwise: a depthwise conv has no sum over channels, so vpdpbusd needs
 * its four bytes from four taps. The VNNI kernel loads 64 channels of one
 * input column from four kernel rows (a row group) and interleaves them
 * with in-lane byte and word unpacks: four vectors whose dwords hold the
 * four rows of one channel, channels in "lane order" (dw_lane). Each such
 * column is built once per output row and used by every output pixel whose
 * window covers it (kw of them at stride 1), instead of once per tap. The
 * weights, bias and multipliers are packed in lane order, and the
 * requantisation's in-lane packs (32 -> 16 -> 8 bits) undo the order, so
 * the bytes leave in channel order. Packing: [block of 64 channels]
 * [row group][kx][64 channels in lane order][4 rows], zeros past kh and m.
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

#define MR  EAI__Q8C_MR
#define NB  EAI__Q8C_NB
#define DB  EAI__Q8C_DB
#define RG  EAI__Q8C_DW_RG
#define NRG EAI__Q8C_DW_NRG
/* Depthwise SIMD: kernel columns it takes; input columns per chunk of
 * output pixels (its scratch: NRG x DW_COLS x 256 bytes on the stack). */
#define DW_MAXKW 8
#define DW_COLS  96

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
    *xp = 0;
    if (g->depthwise) {
        const int64_t mp = round_up(g->m, DB), nrg = (g->kh + RG - 1) / RG;
        *w = (size_t)(mp / DB * nrg * g->kw * DB * RG);
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

/* Offset in a dense block of the weight of tap t (ky * kw + kx), input
 * channel ci, for output channel 0 of the block (+ 4 per channel). */
static inline int64_t wpos(const eai__q8c_t *k, int64_t t, int64_t ci)
{
    const eai__q8c_geom_t *g = &k->g;
    const int64_t pt = k->xp ? t / g->kw : t, b = k->xp ? (t % g->kw) * g->c + ci : ci;
    return ((pt * k->kc + b) / 4 * NB) * 4 + b % 4;
}

/* Depthwise lane order: channel q of a 64-channel block sits in vector
 * q % 16 / 4, 128-bit lane q / 16, dword q % 4 (what dw_column's unpacks
 * produce). Returns the position of channel m's bias and multiplier. */
static inline int64_t dw_lane(int64_t m)
{
    const int64_t q = m % DB;
    return m - q + (q % 16 / 4) * 16 + (q / 16) * 4 + q % 4;
}

/* Byte of the depthwise weight of channel m at kernel row ky, column kx. */
static inline int64_t dw_wpos(const eai__q8c_t *k, int64_t m, int64_t ky, int64_t kx)
{
    const int64_t set = ((m / DB * k->n_rg + ky / RG) * k->g.kw + kx) * DB * RG;
    return set + (dw_lane(m) % DB) * RG + ky % RG;
}

void eai__q8c_begin(const eai__q8c_t *k)
{
    const eai__q8c_geom_t *g = &k->g;
    if (!k->xp) return;
    const size_t row = (size_t)(g->iw * g->c);
    for (int64_t r = 0; r < g->n * g->ih; r++) {
        int8_t *d = k->xp + (r * k->iwp + g->pl) * g->c;
        const int8_t *src = k->x + r * g->iw * g->c;
        if (k->xflip) /* the VNNI kernel's uint8 form, made once here */
            for (size_t i = 0; i < row; i++)
                d[i] = (int8_t)(src[i] ^ (int8_t)0x80);
        else
            memcpy(d, src, row);
    }
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
    /* the SIMD row-tap kernel reads the padded copy and `zero` already
     * shifted to uint8 (begin XORs while copying), not once per use */
    k->xflip = simd && rowtap_of(g);
    memset(k->zero, k->xflip ? zx ^ (int8_t)0x80 : zx, zb);
    if (xpb) { /* the padding columns keep the zero point; begin copies the rest */
        k->xp = (int8_t *)(p + wb + 2 * pc + zb);
        k->iwp = padded_w(g);
        memset(k->xp, k->xflip ? zx ^ (int8_t)0x80 : zx, xpb);
    }
    const int64_t taps = k->taps;
    k->gemm = !g->depthwise && taps == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0 &&
              g->oh == g->ih && g->ow == g->iw;
    for (int64_t m = 0; m < g->m; m++) /* the ref kernel's order of operations */
        k->mult[g->depthwise ? dw_lane(m) : m] = sx * wscale[m] / sy;
    if (g->depthwise) {
        k->mp = round_up(g->m, DB);
        k->n_blk = k->mp / DB;
        k->n_rg = (g->kh + RG - 1) / RG;
        k->n_tile = g->n * g->oh;
        for (int64_t m = 0; m < g->m; m++) {
            const int8_t *wm = w + m * taps;
            int32_t sum = 0;
            for (int64_t t = 0; t < taps; t++) {
                sum += wm[t];
                k->w[dw_wpos(k, m, t / g->kw, t % g->kw)] = wm[t];
            }
            /* both paths read x + 128, as dense: see below */
            k->bias[dw_lane(m)] = (bias ? bias[m] : 0) - ((int32_t)zx + 128) * sum;
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
    const int64_t n = row / g->oh, iy0 = (row % g->oh) * g->sh - g->pt;
    for (int64_t ox = 0; ox < g->ow; ox++) {
        const int64_t ix0 = ox * g->sw - g->pl;
        int8_t *yo = k->y + (row * g->ow + ox) * g->m;
        for (int64_t m = 0; m < g->m; m++) {
            int32_t acc = k->bias[dw_lane(m)];
            for (int64_t ky = 0; ky < g->kh; ky++)
                for (int64_t kx = 0; kx < g->kw; kx++)
                    acc += (int32_t)k->w[dw_wpos(k, m, ky, kx)] *
                           (int32_t)(tap_ptr(k, n, iy0, ix0, ky, kx)[m] + 128);
            yo[m] = requant1(acc, k->mult[dw_lane(m)], k->zy);
        }
    }
}

/* ---- AVX512-VNNI ---- */

#if Q8C_X86
/* 64 int32 sums (acc[0..nz), the rest taken as 0) -> 64 int8 outputs
 * (masked). The float part does only the upper clamp (which also keeps
 * cvtps in range); the saturating packs 32 -> 16 -> 8 do the lower one:
 * the same bytes as requant1. The packs work within 128-bit lanes, so
 * sums in depthwise lane order leave in channel order; sums in channel
 * order (natural, dense) are put back in order by one dword permute. */
VNNI static inline __attribute__((always_inline)) void requant64(const __m512i *acc, const int nz,
                                                                 const float *mult, __m512 hi,
                                                                 __m512i zy16, const bool natural,
                                                                 int8_t *y, __mmask64 mask)
{
    __m512i r[4];
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++)
        r[j] = j < nz
                   ? _mm512_cvtps_epi32(_mm512_min_ps(
                         _mm512_mul_ps(_mm512_cvtepi32_ps(acc[j]), _mm512_loadu_ps(mult + 16 * j)),
                         hi))
                   : _mm512_setzero_si512();
    const __m512i a = _mm512_adds_epi16(_mm512_packs_epi32(r[0], r[1]), zy16);
    const __m512i b = _mm512_adds_epi16(_mm512_packs_epi32(r[2], r[3]), zy16);
    __m512i o = _mm512_packs_epi16(a, b);
    /* natural: dword 4 l + g came from vector g's lane l, channels 16 g + 4 l */
    if (natural)
        o = _mm512_permutexvar_epi32(
            _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0), o);
    _mm512_mask_storeu_epi8(y, mask, o);
}

static inline __mmask64 bytes_mask(int64_t n)
{
    return n >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << n) - 1;
}

/* One dense tile with NZ (1..4) 16-channel column vectors: the compiler
 * keeps the MR x NZ accumulators in registers when NZ is a constant. */
VNNI static inline __attribute__((always_inline)) void
dense_tile_vnni_n(const eai__q8c_t *k, int64_t blk, int64_t tile, const int NZ, const bool FLIP)
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
                    const __m512i av =
                        FLIP ? _mm512_xor_si512(_mm512_set1_epi32(v), flip) : _mm512_set1_epi32(v);
#pragma GCC unroll 4
                    for (int j = 0; j < NZ; j++)
                        acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], av, w[j]);
                }
            }
        }
    if (k->yf) {
        for (int j = 0; j < NZ; j++) {
            const __mmask16 mask = (__mmask16)bytes_mask(g->m - m0 - 16 * j);
            const __m512 mu = _mm512_loadu_ps(k->mult + m0 + 16 * j);
            for (int r = 0; r < mr; r++)
                _mm512_mask_storeu_ps(k->yf + (p0 + r) * g->m + m0 + 16 * j, mask,
                                      _mm512_mul_ps(_mm512_cvtepi32_ps(acc[r][j]), mu));
        }
        return;
    }
    const __m512 hi = _mm512_set1_ps((float)(127 - k->zy));
    const __m512i zy16 = _mm512_set1_epi16((short)k->zy);
    const __mmask64 mask = bytes_mask(g->m - m0);
    for (int r = 0; r < mr; r++)
        requant64(acc[r], NZ, k->mult + m0, hi, zy16, true, k->y + (p0 + r) * g->m + m0, mask);
}

VNNI static void dense_tile_vnni(const eai__q8c_t *k, int64_t blk, int64_t tile)
{
    const int64_t left = k->g.m - blk * NB;
    const bool flip = !k->xflip;
    if (left > 48)
        dense_tile_vnni_n(k, blk, tile, 4, flip);
    else if (left > 32)
        dense_tile_vnni_n(k, blk, tile, 3, flip);
    else if (left > 16)
        dense_tile_vnni_n(k, blk, tile, 2, flip);
    else if (flip)
        dense_tile_vnni_n(k, blk, tile, 1, true);
    else /* the stem's 16 channels over a pre-shifted copy */
        dense_tile_vnni_n(k, blk, tile, 1, false);
}

/* The interleaved column of one 64-channel block at input column ix: row
 * b of the group read at r[b] + ix * st[b] (st 0: padding, the zero-point
 * pixel), shifted to uint8; out[j] dword i of lane l is channel
 * 16 l + 4 j + i, its bytes rows 0..3. */
VNNI static inline void dw_column(const int8_t *const r[RG], const int64_t st[RG], int64_t ix,
                                  __m512i flip, __m512i *out)
{
    __m512i v[RG];
#pragma GCC unroll 4
    for (int b = 0; b < RG; b++)
        v[b] = _mm512_xor_si512(_mm512_loadu_si512(r[b] + ix * st[b]), flip);
    const __m512i lo01 = _mm512_unpacklo_epi8(v[0], v[1]), hi01 = _mm512_unpackhi_epi8(v[0], v[1]);
    const __m512i lo23 = _mm512_unpacklo_epi8(v[2], v[3]), hi23 = _mm512_unpackhi_epi8(v[2], v[3]);
    _mm512_store_si512(out + 0, _mm512_unpacklo_epi16(lo01, lo23));
    _mm512_store_si512(out + 1, _mm512_unpackhi_epi16(lo01, lo23));
    _mm512_store_si512(out + 2, _mm512_unpacklo_epi16(hi01, hi23));
    _mm512_store_si512(out + 3, _mm512_unpackhi_epi16(hi01, hi23));
}

/* One output row of one 64-channel block. KW and NG (kernel columns, row
 * groups) are constants where inlined for the common kernels, so the
 * weights stay in registers. scr: NRG x DW_COLS columns of 4 vectors. */
VNNI static inline __attribute__((always_inline)) void dw_block_vnni_n(const eai__q8c_t *k,
                                                                       int64_t row, int64_t cb,
                                                                       __m512i *scr, const int KW,
                                                                       const int NG)
{
    const eai__q8c_geom_t *g = &k->g;
    const int64_t n = row / g->oh, iy0 = (row % g->oh) * g->sh - g->pt;
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    const __m512i padv = _mm512_set1_epi8((char)(k->zero[0] ^ 0x80));
    const int8_t *rp[NRG][RG];
    int64_t st[NRG][RG];
    for (int q = 0; q < NG; q++)
        for (int b = 0; b < RG; b++) {
            const int64_t ky = q * RG + b, iy = iy0 + ky * g->dh;
            const bool in = ky < g->kh && (uint64_t)iy < (uint64_t)g->ih;
            rp[q][b] = in ? k->x + (n * g->ih + iy) * g->iw * g->c + cb * DB : k->zero + cb * DB;
            st[q][b] = in ? g->c : 0;
        }
    __m512i wl[NRG][DW_MAXKW][4];
    const __m512i *wb = (const __m512i *)(const void *)(k->w + cb * NG * KW * DB * RG);
    for (int q = 0; q < NG; q++)
        for (int kx = 0; kx < KW; kx++)
            for (int j = 0; j < 4; j++)
                wl[q][kx][j] = _mm512_load_si512(wb + (q * KW + kx) * 4 + j);
    __m512i bias[4];
    for (int j = 0; j < 4; j++)
        bias[j] = _mm512_loadu_si512(k->bias + cb * DB + 16 * j);
    const __m512 hi = _mm512_set1_ps((float)(127 - k->zy));
    const __m512i zy16 = _mm512_set1_epi16((short)k->zy);
    const __mmask64 mask = bytes_mask(g->m - cb * DB);
    const int64_t span = (KW - 1) * g->dw + 1, oxc = (DW_COLS - span) / g->sw + 1;
    for (int64_t ox0 = 0; ox0 < g->ow; ox0 += oxc) {
        const int64_t ox1 = ox0 + oxc < g->ow ? ox0 + oxc : g->ow;
        const int64_t ixs = ox0 * g->sw - g->pl, ncol = (ox1 - 1 - ox0) * g->sw + span;
        for (int q = 0; q < NG; q++)
            for (int64_t col = 0; col < ncol; col++) {
                __m512i *o = scr + (q * DW_COLS + col) * 4;
                const int64_t ix = ixs + col;
                if ((uint64_t)ix < (uint64_t)g->iw) {
                    dw_column(rp[q], st[q], ix, flip, o);
                } else {
                    for (int j = 0; j < 4; j++)
                        _mm512_store_si512(o + j, padv);
                }
            }
        for (int64_t ox = ox0; ox < ox1; ox++) {
            __m512i acc[4] = {bias[0], bias[1], bias[2], bias[3]};
            const __m512i *c0 = scr + (ox - ox0) * g->sw * 4;
            for (int q = 0; q < NG; q++)
                for (int kx = 0; kx < KW; kx++) {
                    const __m512i *cv = c0 + (q * DW_COLS + kx * g->dw) * 4;
#pragma GCC unroll 4
                    for (int j = 0; j < 4; j++)
                        acc[j] =
                            _mm512_dpbusd_epi32(acc[j], _mm512_load_si512(cv + j), wl[q][kx][j]);
                }
            requant64(acc, 4, k->mult + cb * DB, hi, zy16, false,
                      k->y + (row * g->ow + ox) * g->m + cb * DB, mask);
        }
    }
}

/* Whether the VNNI depthwise kernel takes this geometry. */
static bool dw_simd_fits(const eai__q8c_geom_t *g)
{
    return g->kh <= NRG * RG && g->kw <= DW_MAXKW && (g->kw - 1) * g->dw + 1 <= DW_COLS;
}

VNNI static void dw_row_vnni(const eai__q8c_t *k, int64_t row)
{
    __m512i scr[NRG * DW_COLS * 4];
    const int64_t kw = k->g.kw, nrg = k->n_rg;
    for (int64_t cb = 0; cb < k->n_blk; cb++) {
        if (kw == 3 && nrg == 1)
            dw_block_vnni_n(k, row, cb, scr, 3, 1);
        else if (kw == 5 && nrg == 2)
            dw_block_vnni_n(k, row, cb, scr, 5, 2);
        else
            dw_block_vnni_n(k, row, cb, scr, (int)kw, (int)nrg);
    }
}
#endif

void eai__q8c_run(const eai__q8c_t *k, int64_t begin, int64_t end)
{
    for (int64_t t = begin; t < end; t++) {
        if (k->g.depthwise) {
#if Q8C_X86
            if (k->simd && dw_simd_fits(&k->g)) {
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
