/* edgeai's own float GEMM (runtime/nhwc/f32gemm.c) as steps of this
 * backend: the pointwise (1x1, stride 1, unpadded, ungrouped) convolutions,
 * which on NHWC data are one product [pixels][C] x [C][M], the other
 * ungrouped convolutions as indirect products, and Winograd's per-tap
 * products. Where the CPU lacks AVX-512F, callers keep XNNPACK's
 * operators. */
#include <stdlib.h>
#include <string.h>

#include "runtime/xnnpack/xnn_impl.h"

static void sgemm_range(void *ctx, size_t begin, size_t count)
{
    eai__sgemm_run(ctx, (int64_t)begin, (int64_t)(begin + count));
}

void eai__xnn_sgemm_run(const eai__sgemm_t *g, pthreadpool_t tp)
{
    const int64_t n = eai__sgemm_n_tasks(g);
    const size_t nth = tp ? pthreadpool_get_threads_count(tp) : 1;
    if (nth <= 1 || n < 2) {
        eai__sgemm_run(g, 0, n);
        return;
    }
    /* tasks go panel by panel, so a contiguous range keeps its panels' weights
     * in its core's L2; a few ranges per thread let the pool even out */
    const size_t tile = (size_t)n / (4 * nth);
    pthreadpool_parallelize_1d_tile_1d(tp, sgemm_range, (void *)(uintptr_t)g, (size_t)n,
                                       tile ? tile : 1, EAI__XNN_PT_FLAGS);
}

/* Packs w [n][k] and bias [n] (NULL: zeros) into a node buffer. */
static eai_status_t sgemm_pack(const eai__opctx_t *c, eai__xnn_node_t *st, const float *w,
                               const float *bias, int64_t k, int64_t n, const float **out)
{
    void *bp;
    EAI_TRY(eai__xnn_buffer(c, st, eai__sgemm_pack_bytes(k, n), NULL, &bp));
    eai__sgemm_pack(w, bias, k, n, bp);
    *out = bp;
    return EAI_OK;
}

static void pointwise_step(const void *arg, pthreadpool_t tp)
{
    eai__xnn_sgemm_run(arg, tp);
}

bool eai__xnn_sgemm_ok(void)
{
    if (getenv("EAI_XNN_NO_SGEMM")) return false; /* A/B against XNNPACK's GEMM */
    return eai__sgemm_available();
}

bool eai__xnn_pointwise_ok(int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t pads,
                           int64_t group)
{
    return kh == 1 && kw == 1 && sh == 1 && sw == 1 && pads == 0 && group == 1 &&
           eai__xnn_sgemm_ok();
}

eai_status_t eai__xnn_pointwise_prepare(eai__opctx_t *c, eai__xnn_node_t *st, int64_t pixels,
                                        int64_t ci, int64_t co, float lo, float hi, bool hswish)
{
    const float *bp;
    EAI_TRY(
        sgemm_pack(c, st, c->in[1].data, eai__has_in(c, 2) ? c->in[2].data : NULL, ci, co, &bp));
    eai__sgemm_t g;
    eai__sgemm_init(&g, pixels, ci, co, c->in[0].data, (size_t)ci, c->out[0].data, (size_t)co, bp,
                    lo, hi);
    g.hswish = hswish;
    void *arg;
    EAI_TRY(eai__xnn_buffer(c, st, sizeof g, &g, &arg));
    return eai__xnn_push_fn(c, st, pointwise_step, arg);
}

/* Pointers per tap and output pixel past which XNNPACK keeps the conv: the
 * indirection buffer is 8 bytes per tap and pixel (4 M pointers: 32 MB). */
#define IGEMM_MAX_POINTERS ((int64_t)4 << 20)
/* Patch products (few input channels) copy PATCH_ROWS output pixels' patches
 * at a time into a buffer on the task's stack, of at most PATCH_MAX_K floats
 * per pixel. */
#define PATCH_MAX_K    1024
#define PATCH_MAX_ROWS 48

static bool patch_mode(const eai__xnn_igemm_geom_t *g)
{
    return g->c < 16;
}

bool eai__xnn_igemm_ok(const eai__xnn_igemm_geom_t *g, int64_t group)
{
    if (group != 1 || !eai__xnn_sgemm_ok() || getenv("EAI_XNN_NO_IGEMM")) return false;
    /* Few output channels: most of the 32-wide panel would be padding
     * (yolo's 3 -> 8 stem: 6.1 ms against XNNPACK's 3.3). */
    if (g->m < 32) return false;
    const int64_t taps = g->kh * g->kw, pixels = g->n * g->oh * g->ow;
    /* Short patches: the copy costs about as much as the product saves
     * (mobilenet_v2's 3x3 stem, 27 floats a patch: 0.42 ms against
     * XNNPACK's 0.32; resnet18's 7x7, 147 floats: 1.82 against 2.05). */
    if (patch_mode(g)) return taps * g->c >= 64 && taps * g->c <= PATCH_MAX_K;
    return taps <= IGEMM_MAX_POINTERS / pixels;
}

/* ---- indirect products: many input channels ---- */

static eai_status_t indirect_prepare(eai__opctx_t *c, eai__xnn_node_t *st,
                                     const eai__xnn_igemm_geom_t *g, const float *bp, float lo,
                                     float hi, bool hswish)
{
    const int64_t taps = g->kh * g->kw, pixels = g->n * g->oh * g->ow;
    void *zero, *ind;
    EAI_TRY(eai__xnn_buffer(c, st, (size_t)g->c * sizeof(float), NULL, &zero));
    EAI_TRY(eai__xnn_buffer(c, st, (size_t)(taps * pixels) * sizeof(float *), NULL, &ind));
    /* ind[t][pixel]: the input pixel under tap t, or the zeros; the arena
     * never moves, so the pointers hold for the session's life */
    const float **p = ind;
    const float *x = c->in[0].data;
    for (int64_t ky = 0; ky < g->kh; ky++)
        for (int64_t kx = 0; kx < g->kw; kx++)
            for (int64_t b = 0; b < g->n; b++)
                for (int64_t oy = 0; oy < g->oh; oy++)
                    for (int64_t ox = 0; ox < g->ow; ox++) {
                        const int64_t iy = oy * g->sh - g->pt + ky * g->dh;
                        const int64_t ix = ox * g->sw - g->pl + kx * g->dw;
                        const bool in = iy >= 0 && iy < g->h && ix >= 0 && ix < g->w;
                        *p++ = in ? x + ((b * g->h + iy) * g->w + ix) * g->c : zero;
                    }
    eai__sgemm_t sg;
    eai__sgemm_init_indirect(&sg, pixels, g->m, taps, g->c, ind, c->out[0].data, (size_t)g->m, bp,
                             lo, hi);
    sg.hswish = hswish;
    void *arg;
    EAI_TRY(eai__xnn_buffer(c, st, sizeof sg, &sg, &arg));
    return eai__xnn_push_fn(c, st, pointwise_step, arg);
}

/* ---- patch products: few input channels (the stems) ---- */

/* With a handful of channels per tap, indirection costs a pointer per few
 * FMAs (resnet18's 7x7 stem: 3 channels a tap). Instead each task copies
 * its pixels' patches, kh x kw x c floats each, into a row-major buffer and
 * runs the plain product on it; every panel of the task reuses the copy. */
typedef struct patch {
    eai__xnn_igemm_geom_t g;
    const float *x;
    float *y;
    const float *bp;
    float lo, hi;
    bool hswish;
    int64_t pixels, k, rows; /* rows: pixels per task */
} patch_t;

/* Copies (src) or zeroes (src NULL) n floats into d, and may write up to 15
 * floats past d + n (the patch buffer is filled in order and padded at its
 * end, so they are overwritten or never read). The patch runs are short (3
 * to 21 floats in the stems): a call to memcpy costs more than the copy,
 * and a masked store (measured on Zen 5: 30% of the gather's time in one
 * instruction) more than a whole one. Patch products only run where the
 * GEMM does, that is with AVX-512F; the plain version keeps other targets
 * compiling. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define PATCH_TARGET __attribute__((target("avx512f")))
PATCH_TARGET static inline __attribute__((always_inline)) void copy_run(float *d, const float *src,
                                                                        int64_t n, const float *end)
{
    for (; n >= 16; n -= 16, d += 16, src = src ? src + 16 : NULL)
        _mm512_storeu_ps(d, src ? _mm512_loadu_ps(src) : _mm512_setzero_ps());
    if (n) {
        const __mmask16 m = (__mmask16)((1u << n) - 1);
        __m512 v = _mm512_setzero_ps();
        if (src) v = src + 16 <= end ? _mm512_loadu_ps(src) : _mm512_maskz_loadu_ps(m, src);
        _mm512_storeu_ps(d, v);
    }
}
#else
#define PATCH_TARGET
static inline void copy_run(float *d, const float *src, int64_t n, const float *end)
{
    (void)end;
    if (src)
        memcpy(d, src, (size_t)n * sizeof(float));
    else
        memset(d, 0, (size_t)n * sizeof(float));
}
#endif

PATCH_TARGET static void patch_rows(const patch_t *a, int64_t p0, int64_t np, float *buf)
{
    const eai__xnn_igemm_geom_t *g = &a->g;
    const int64_t run = g->kw * g->c;                    /* one kernel row of a patch */
    const float *end = a->x + g->n * g->h * g->w * g->c; /* whole loads stop here */
    for (int64_t r = 0; r < np; r++) {
        const int64_t p = p0 + r, ox = p % g->ow, oy = p / g->ow % g->oh, b = p / (g->ow * g->oh);
        const int64_t ix0 = ox * g->sw - g->pl;
        const bool whole_row = g->dw == 1 && ix0 >= 0 && ix0 + g->kw <= g->w;
        float *d = buf + r * a->k;
        for (int64_t ky = 0; ky < g->kh; ky++, d += run) {
            const int64_t iy = oy * g->sh - g->pt + ky * g->dh;
            if (iy < 0 || iy >= g->h) {
                copy_run(d, NULL, run, end);
                continue;
            }
            const float *src = a->x + ((b * g->h + iy) * g->w) * g->c;
            if (whole_row) {
                copy_run(d, src + ix0 * g->c, run, end);
                continue;
            }
            for (int64_t kx = 0; kx < g->kw; kx++) {
                const int64_t ix = ix0 + kx * g->dw;
                copy_run(d + kx * g->c, ix >= 0 && ix < g->w ? src + ix * g->c : NULL, g->c, end);
            }
        }
    }
}

static void patch_task(void *ctx, size_t t)
{
    const patch_t *a = ctx;
    /* rows * k <= PATCH_MAX_ROWS * PATCH_MAX_K / 2 (patch_prepare), + copy_run's overrun */
    float buf[PATCH_MAX_ROWS * PATCH_MAX_K / 2 + 16];
    const int64_t p0 = (int64_t)t * a->rows;
    const int64_t np = a->pixels - p0 < a->rows ? a->pixels - p0 : a->rows;
    patch_rows(a, p0, np, buf);
    eai__sgemm_t sg;
    eai__sgemm_init(&sg, np, a->k, a->g.m, buf, (size_t)a->k, a->y + p0 * a->g.m, (size_t)a->g.m,
                    a->bp, a->lo, a->hi);
    sg.hswish = a->hswish;
    eai__sgemm_run(&sg, 0, eai__sgemm_n_tasks(&sg));
}

static void patch_step(const void *arg, pthreadpool_t tp)
{
    const patch_t *a = arg;
    const size_t tasks = (size_t)((a->pixels + a->rows - 1) / a->rows);
    if (tp && pthreadpool_get_threads_count(tp) > 1)
        pthreadpool_parallelize_1d(tp, patch_task, (void *)a, tasks, EAI__XNN_PT_FLAGS);
    else
        for (size_t t = 0; t < tasks; t++)
            patch_task((void *)a, t);
}

static eai_status_t patch_prepare(eai__opctx_t *c, eai__xnn_node_t *st,
                                  const eai__xnn_igemm_geom_t *g, const float *bp, float lo,
                                  float hi, bool hswish)
{
    patch_t a = {.g = *g,
                 .x = c->in[0].data,
                 .y = c->out[0].data,
                 .bp = bp,
                 .lo = lo,
                 .hi = hi,
                 .hswish = hswish};
    a.pixels = g->n * g->oh * g->ow;
    a.k = g->kh * g->kw * g->c;
    /* whole register tiles, as many as the buffer holds, up to 4 */
    int64_t tiles = (PATCH_MAX_ROWS * PATCH_MAX_K / 2) / (a.k * EAI__SG_MR);
    if (tiles > PATCH_MAX_ROWS / EAI__SG_MR) tiles = PATCH_MAX_ROWS / EAI__SG_MR;
    if (EAI_NEVER(tiles < 1)) return eai__op_fail(c, EAI_E_STATE, "xnnpack: patch too large");
    a.rows = tiles * EAI__SG_MR;
    void *arg;
    EAI_TRY(eai__xnn_buffer(c, st, sizeof a, &a, &arg));
    return eai__xnn_push_fn(c, st, patch_step, arg);
}

eai_status_t eai__xnn_igemm_prepare(eai__opctx_t *c, eai__xnn_node_t *st,
                                    const eai__xnn_igemm_geom_t *g, const float *w, float lo,
                                    float hi, bool hswish)
{
    const float *bp;
    EAI_TRY(sgemm_pack(c, st, w, eai__has_in(c, 2) ? c->in[2].data : NULL, g->kh * g->kw * g->c,
                       g->m, &bp));
    return patch_mode(g) ? patch_prepare(c, st, g, bp, lo, hi, hswish)
                         : indirect_prepare(c, st, g, bp, lo, hi, hswish);
}
