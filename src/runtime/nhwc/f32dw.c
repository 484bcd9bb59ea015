/* edgeai's float depthwise convolution (see f32dw_impl.h for why). Packed
 * weights: taps (kh * kw, row-major) rows of cp = c rounded up to 16
 * floats (zeros past c), then the bias, cp floats. */
#include "runtime/nhwc/f32dw_impl.h"

#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define DW_X86 1
#include <immintrin.h>

#include "runtime/nhwc/f32act_impl.h"
#endif

#define DW_LANES 16

static int64_t padded(int64_t c)
{
    return (c + DW_LANES - 1) / DW_LANES * DW_LANES;
}

size_t eai__dwf32_pack_bytes(int64_t c, int64_t kh, int64_t kw)
{
    const size_t bytes = (size_t)(padded(c) * (kh * kw + 1)) * sizeof(float);
    return (bytes + 63) & ~(size_t)63;
}

void eai__dwf32_pack(const float *w, const float *bias, int64_t c, int64_t kh, int64_t kw,
                     float *dst)
{
    const int64_t cp = padded(c), taps = kh * kw;
    memset(dst, 0, eai__dwf32_pack_bytes(c, kh, kw));
    for (int64_t ch = 0; ch < c; ch++)
        for (int64_t t = 0; t < taps; t++)
            dst[t * cp + ch] = w[ch * taps + t];
    if (bias) memcpy(dst + taps * cp, bias, (size_t)c * sizeof(float));
}

/* The taps k in [k0, k1) whose input coordinate i0 + k * d lies in [0, n). */
static void valid_taps(int64_t i0, int64_t d, int64_t n, int64_t k, int64_t *k0, int64_t *k1)
{
    int64_t a = 0, b = k;
    if (i0 < 0) a = (-i0 + d - 1) / d;
    if (i0 + (b - 1) * d >= n) b = n - i0 <= 0 ? 0 : (n - i0 + d - 1) / d;
    if (b < a) b = a;
    *k0 = a, *k1 = b;
}

#if defined(DW_X86)

bool eai__dwf32_available(void)
{
    return __builtin_cpu_supports("avx512f");
}

#define DW_TARGET __attribute__((target("avx512f")))
/* full unrolling is what keeps the group's accumulators in registers */
#define DW_UNROLL _Pragma("GCC unroll 8")

/* One output pixel, all channels: ny x nx taps of the (clipped) window, x
 * and wp at its first tap. DW_BLOCKS channel blocks at a time, each its own
 * accumulator, so the FMAs of a tap are independent (one block's taps form
 * a chain at the FMA latency: 25 taps of a 5x5 filter, 100 cycles); blocks
 * past the channels have empty masks and neither load nor store. */
#define DW_BLOCKS 4

static inline __mmask16 lane_mask(int64_t left)
{
    return left >= DW_LANES ? (__mmask16)0xFFFF
           : left <= 0      ? (__mmask16)0
                            : (__mmask16)((1u << left) - 1);
}

DW_TARGET static void pixel(const eai__dwf32_t *d, const float *x, const float *wp,
                            const float *bias, int64_t cp, int64_t ny, int64_t nx, float *y)
{
    const int64_t c = d->c;
    const size_t xrow = (size_t)(d->dh * d->w * c), xcol = (size_t)(d->dw * c);
    const __m512 vlo = _mm512_set1_ps(d->lo), vhi = _mm512_set1_ps(d->hi);
    for (int64_t c0 = 0; c0 < c; c0 += DW_BLOCKS * DW_LANES) {
        __mmask16 m[DW_BLOCKS];
        __m512 acc[DW_BLOCKS];
        const bool whole = c0 + DW_BLOCKS * DW_LANES <= c;
        DW_UNROLL
        for (int j = 0; j < DW_BLOCKS; j++) {
            m[j] = lane_mask(c - c0 - j * DW_LANES);
            acc[j] = _mm512_maskz_loadu_ps(m[j], bias + c0 + j * DW_LANES);
        }
        for (int64_t ky = 0; ky < ny; ky++) {
            const float *xr = x + (size_t)ky * xrow + c0;
            const float *wr = wp + ky * d->kw * cp + c0;
            if (whole) { /* masked loads cost more (measured on Zen 5) */
                for (int64_t kx = 0; kx < nx; kx++) {
                    DW_UNROLL
                    for (int j = 0; j < DW_BLOCKS; j++)
                        acc[j] =
                            _mm512_fmadd_ps(_mm512_loadu_ps(xr + (size_t)kx * xcol + j * DW_LANES),
                                            _mm512_loadu_ps(wr + kx * cp + j * DW_LANES), acc[j]);
                }
                continue;
            }
            for (int64_t kx = 0; kx < nx; kx++) {
                DW_UNROLL
                for (int j = 0; j < DW_BLOCKS; j++)
                    acc[j] = _mm512_fmadd_ps(
                        _mm512_maskz_loadu_ps(m[j], xr + (size_t)kx * xcol + j * DW_LANES),
                        _mm512_maskz_loadu_ps(m[j], wr + kx * cp + j * DW_LANES), acc[j]);
            }
        }
        DW_UNROLL
        for (int j = 0; j < DW_BLOCKS; j++)
            _mm512_mask_storeu_ps(y + c0 + j * DW_LANES, m[j],
                                  eai__f32_finish(acc[j], vlo, vhi, d->hswish));
    }
}

/* DW_GROUP interior output pixels of one row at once (their windows all
 * whole across, ny rows tall): one accumulator each per channel block, so
 * the FMAs of a tap are independent (one pixel's taps form a chain at the
 * FMA latency) and each tap's weights are loaded once for the group. */
#define DW_GROUP 8

/* A group's outputs for one channel block (y at the block of its first
 * pixel): clamped, HardSwished if fused, masked on a channel tail. */
DW_TARGET static inline __attribute__((always_inline)) void group_store(const eai__dwf32_t *d,
                                                                        const __m512 *acc, float *y,
                                                                        bool whole, __mmask16 m,
                                                                        __m512 vlo, __m512 vhi)
{
    DW_UNROLL
    for (int p = 0; p < DW_GROUP; p++) {
        const __m512 v = eai__f32_finish(acc[p], vlo, vhi, d->hswish);
        if (whole)
            _mm512_storeu_ps(y + p * d->c, v);
        else
            _mm512_mask_storeu_ps(y + p * d->c, m, v);
    }
}

DW_TARGET static void group(const eai__dwf32_t *d, const float *x, const float *wp,
                            const float *bias, int64_t cp, int64_t ny, float *y)
{
    const int64_t c = d->c, nx = d->kw;
    const size_t xrow = (size_t)(d->dh * d->w * c), xcol = (size_t)(d->dw * c);
    const size_t xpix = (size_t)(d->sw * c); /* between the group's pixels */
    const __m512 vlo = _mm512_set1_ps(d->lo), vhi = _mm512_set1_ps(d->hi);
    for (int64_t c0 = 0; c0 < c; c0 += DW_LANES) {
        const bool whole = c0 + DW_LANES <= c;
        const __mmask16 m = whole ? (__mmask16)0xFFFF : (__mmask16)((1u << (c - c0)) - 1);
        __m512 acc[DW_GROUP];
        const __m512 b = _mm512_loadu_ps(bias + c0);
        DW_UNROLL
        for (int p = 0; p < DW_GROUP; p++)
            acc[p] = b;
        for (int64_t ky = 0; ky < ny; ky++) {
            const float *xr = x + (size_t)ky * xrow + c0;
            const float *wr = wp + ky * d->kw * cp + c0;
            for (int64_t kx = 0; kx < nx; kx++) {
                const __m512 wv = _mm512_loadu_ps(wr + kx * cp);
                const float *xp = xr + (size_t)kx * xcol;
                if (whole) {
                    DW_UNROLL
                    for (int p = 0; p < DW_GROUP; p++)
                        acc[p] = _mm512_fmadd_ps(_mm512_loadu_ps(xp + p * xpix), wv, acc[p]);
                } else {
                    DW_UNROLL
                    for (int p = 0; p < DW_GROUP; p++)
                        acc[p] =
                            _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, xp + p * xpix), wv, acc[p]);
                }
            }
        }
        group_store(d, acc, y + c0, whole, m, vlo, vhi);
    }
}

/* The group for common shapes (kernel width KW, stride S, no dilation
 * across), all constants: the input columns the group's windows cover,
 * S * (DW_GROUP - 1) + KW of them, are each loaded once per kernel row and
 * used by every pixel whose window holds them (3x3 stride 1: 10 loads for
 * 24 FMAs, against 24), with the row's KW weights in registers. Used for
 * stride 1 only: at stride 2 it measured slower than the plain group (64
 * channels 3x3 at 112x112: 0.10-0.12 ms against 0.086). */
DW_TARGET static inline __attribute__((always_inline)) void
group_fixed(const eai__dwf32_t *d, const float *x, const float *wp, const float *bias, int64_t cp,
            int64_t ny, float *y, const int KW, const int S)
{
    const int64_t c = d->c;
    const size_t xrow = (size_t)(d->dh * d->w * c);
    const __m512 vlo = _mm512_set1_ps(d->lo), vhi = _mm512_set1_ps(d->hi);
    for (int64_t c0 = 0; c0 < c; c0 += DW_LANES) {
        const bool whole = c0 + DW_LANES <= c;
        const __mmask16 m = whole ? (__mmask16)0xFFFF : (__mmask16)((1u << (c - c0)) - 1);
        __m512 acc[DW_GROUP];
        const __m512 b = _mm512_loadu_ps(bias + c0);
        DW_UNROLL
        for (int p = 0; p < DW_GROUP; p++)
            acc[p] = b;
        for (int64_t ky = 0; ky < ny; ky++) {
            const float *xr = x + (size_t)ky * xrow + c0;
            const float *wr = wp + ky * d->kw * cp + c0;
            __m512 wv[5];
            DW_UNROLL
            for (int kx = 0; kx < KW; kx++)
                wv[kx] = _mm512_loadu_ps(wr + kx * cp);
            _Pragma("GCC unroll 24") for (int j = 0; j < S * (DW_GROUP - 1) + KW; j++)
            {
                const __m512 xv = whole ? _mm512_loadu_ps(xr + (size_t)j * c)
                                        : _mm512_maskz_loadu_ps(m, xr + (size_t)j * c);
                DW_UNROLL
                for (int kx = 0; kx < KW; kx++) {
                    const int p = (j - kx) / S;
                    if (j >= kx && (j - kx) % S == 0 && p < DW_GROUP)
                        acc[p] = _mm512_fmadd_ps(xv, wv[kx], acc[p]);
                }
            }
        }
        group_store(d, acc, y + c0, whole, m, vlo, vhi);
    }
}

DW_TARGET static void group_3s1(const eai__dwf32_t *d, const float *x, const float *wp,
                                const float *bias, int64_t cp, int64_t ny, float *y)
{
    group_fixed(d, x, wp, bias, cp, ny, y, 3, 1);
}

DW_TARGET static void group_5s1(const eai__dwf32_t *d, const float *x, const float *wp,
                                const float *bias, int64_t cp, int64_t ny, float *y)
{
    group_fixed(d, x, wp, bias, cp, ny, y, 5, 1);
}

typedef void (*group_fn)(const eai__dwf32_t *, const float *, const float *, const float *, int64_t,
                         int64_t, float *);

static group_fn pick_group(const eai__dwf32_t *d)
{
    if (d->dw == 1 && d->kw == 3 && d->sw == 1) return group_3s1;
    if (d->dw == 1 && d->kw == 5 && d->sw == 1) return group_5s1;
    return group;
}

void eai__dwf32_rows(const eai__dwf32_t *d, int64_t row0, int64_t rows)
{
    const int64_t cp = padded(d->c), taps = d->kh * d->kw;
    const float *bias = d->wp + taps * cp;
    const group_fn grp = pick_group(d);
    for (int64_t r = row0; r < row0 + rows; r++) {
        const int64_t b = r / d->oh, oy = r % d->oh;
        const int64_t iy0 = oy * d->sh - d->pt;
        int64_t ky0, ky1;
        valid_taps(iy0, d->dh, d->h, d->kh, &ky0, &ky1);
        const float *xb = d->x + (size_t)(b * d->h * d->w * d->c);
        float *yr = d->y + (size_t)(r * d->ow * d->c);
        /* interior pixels [i0, i1): windows whole across */
        int64_t i0 = d->pl > 0 ? (d->pl + d->sw - 1) / d->sw : 0;
        int64_t i1 = (d->w - 1 - (d->kw - 1) * d->dw + d->pl) / d->sw + 1;
        if (d->w - 1 - (d->kw - 1) * d->dw + d->pl < 0) i1 = 0;
        if (i1 > d->ow) i1 = d->ow;
        if (i0 > i1) i0 = i1;
        for (int64_t ox = 0; ox < d->ow;) {
            const int64_t ix0 = ox * d->sw - d->pl;
            int64_t kx0, kx1;
            valid_taps(ix0, d->dw, d->w, d->kw, &kx0, &kx1);
            const float *x = xb, *wp = d->wp;
            if (ky1 > ky0 && kx1 > kx0) { /* else the bias alone (all taps on the padding) */
                x += ((iy0 + ky0 * d->dh) * d->w + ix0 + kx0 * d->dw) * d->c;
                wp += (ky0 * d->kw + kx0) * cp;
            }
            if (ky1 > ky0 && ox >= i0 && i1 - i0 >= DW_GROUP && ox < i1) {
                /* the last group ends at i1, overlapping the one before:
                 * its pixels are computed twice, to the same bytes */
                const int64_t g0 = ox + DW_GROUP <= i1 ? ox : i1 - DW_GROUP;
                x += (g0 - ox) * d->sw * d->c;
                grp(d, x, wp, bias, cp, ky1 - ky0, yr + g0 * d->c);
                ox = g0 + DW_GROUP;
                continue;
            }
            pixel(d, x, wp, bias, cp, ky1 - ky0, kx1 - kx0, yr + ox * d->c);
            ox++;
        }
    }
}

#else

bool eai__dwf32_available(void)
{
    return false;
}

void eai__dwf32_rows(const eai__dwf32_t *d, int64_t row0, int64_t rows)
{
    (void)d, (void)row0, (void)rows; /* never called: eai__dwf32_available() is false */
    (void)valid_taps;
}

#endif
