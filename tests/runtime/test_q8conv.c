/* The INT8 NHWC convolution kernels (src/runtime/nhwc/q8conv.c):
 *   - two hand-computed cases (dense and depthwise 3x3, stride 2, padding,
 *     ties rounded to even);
 *   - a table of odd shapes (channels not multiples of 16 or 64, 1x1
 *     spatial, strides, dilations, asymmetric padding, 5x5 and 7x7
 *     depthwise): the portable C path against a naive loop written here
 *     from the documented formula, bit for bit; the AVX512-VNNI path against
 *     the C path, bit for bit (both compute exact int32 sums and the same
 *     float requantisation), when the CPU has VNNI; tasks run in reverse
 *     order one at a time (as threads may) give the same bytes;
 *   - through a session: QLinearConv on the xnnpack backend (which runs
 *     these kernels on VNNI CPUs) with 1 and 2 threads equals the ref
 *     backend's QLinearConv byte for byte. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/harness.h"
#include "runtime/harness_assert.h"
#include "runtime/nhwc/q8conv_impl.h"
#include "runtime/runtime_impl.h"

#define PAD 64 /* kernels may read this far past a buffer, as in the arena */

static uint32_t rng = 777;

static int rnd(int lo, int hi)
{
    rng = rng * 1664525u + 1013904223u;
    return lo + (int)((rng >> 8) % (uint32_t)(hi - lo + 1));
}

typedef struct qcase {
    int n, c, h, w, m, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw;
    bool dwise;
} qcase_t;

static void geom_of(const qcase_t *q, eai__q8c_geom_t *g)
{
    memset(g, 0, sizeof *g);
    g->n = q->n, g->ih = q->h, g->iw = q->w, g->c = q->c, g->m = q->dwise ? q->c : q->m;
    g->kh = q->kh, g->kw = q->kw, g->sh = q->sh, g->sw = q->sw, g->dh = q->dh, g->dw = q->dw;
    g->pt = q->pt, g->pl = q->pl, g->depthwise = q->dwise;
    g->oh = (q->h + q->pt + q->pb - ((q->kh - 1) * q->dh + 1)) / q->sh + 1;
    g->ow = (q->w + q->pl + q->pr - ((q->kw - 1) * q->dw + 1)) / q->sw + 1;
}

/* Everything one kernel run needs, with its own memory. */
typedef struct qrun {
    eai__q8c_geom_t g;
    int8_t *x, *w, *y;
    int32_t *bias;
    float *ws, sx, sy;
    int8_t zx, zy;
    int64_t nx, ny, nw;
} qrun_t;

static void qrun_alloc(qrun_t *r, const eai__q8c_geom_t *g)
{
    memset(r, 0, sizeof *r);
    r->g = *g;
    r->nx = g->n * g->ih * g->iw * g->c;
    r->ny = g->n * g->oh * g->ow * g->m;
    r->nw = g->m * (g->depthwise ? 1 : g->c) * g->kh * g->kw;
    r->x = calloc((size_t)r->nx + PAD, 1);
    r->w = calloc((size_t)r->nw + PAD, 1);
    r->y = calloc((size_t)r->ny + PAD, 1);
    r->bias = calloc((size_t)g->m, sizeof(int32_t));
    r->ws = calloc((size_t)g->m, sizeof(float));
    assert_true(r->x && r->w && r->y && r->bias && r->ws);
}

static void qrun_free(qrun_t *r)
{
    free(r->x), free(r->w), free(r->y), free(r->bias), free(r->ws);
}

/* Runs the kernel (simd or not) into r->y; tasks in reverse order when
 * `reverse`. */
static void qrun_kernel(qrun_t *r, bool simd, bool reverse)
{
    const size_t bytes = eai__q8c_mem_bytes(&r->g);
    void *mem = aligned_alloc(64, EAI_ALIGN_UP(bytes, 64));
    assert_non_null(mem);
    eai__q8c_t k;
    memset(r->y, 0x55, (size_t)r->ny);
    eai__q8c_init(&k, &r->g, r->w, r->bias, r->ws, r->sx, r->zx, r->sy, r->zy, r->x, r->y, simd,
                  mem);
    const int64_t n = eai__q8c_n_tasks(&k);
    eai__q8c_begin(&k);
    if (reverse)
        for (int64_t t = n - 1; t >= 0; t--)
            eai__q8c_run(&k, t, t + 1);
    else
        eai__q8c_run(&k, 0, n);
    free(mem);
}

/* The naive NHWC convolution with the documented requantisation. */
static int8_t naive_at(const qrun_t *r, int64_t n, int64_t oy, int64_t ox, int64_t m)
{
    const eai__q8c_geom_t *g = &r->g;
    int64_t acc = r->bias[m];
    const int64_t cg = g->depthwise ? 1 : g->c;
    for (int64_t ci = 0; ci < cg; ci++)
        for (int64_t ky = 0; ky < g->kh; ky++)
            for (int64_t kx = 0; kx < g->kw; kx++) {
                const int64_t iy = oy * g->sh - g->pt + ky * g->dh;
                const int64_t ix = ox * g->sw - g->pl + kx * g->dw;
                if (iy < 0 || iy >= g->ih || ix < 0 || ix >= g->iw) continue;
                const int64_t ch = g->depthwise ? m : ci;
                const int xv = r->x[((n * g->ih + iy) * g->iw + ix) * g->c + ch];
                const int wv = r->w[((m * cg + ci) * g->kh + ky) * g->kw + kx];
                acc += (int64_t)wv * (xv - r->zx);
            }
    const float mult = r->sx * r->ws[m] / r->sy;
    float v = nearbyintf((float)(int32_t)acc * mult) + (float)r->zy;
    v = v < -128 ? -128 : v > 127 ? 127 : v;
    return (int8_t)v;
}

static void assert_naive(const qrun_t *r)
{
    const eai__q8c_geom_t *g = &r->g;
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t oy = 0; oy < g->oh; oy++)
            for (int64_t ox = 0; ox < g->ow; ox++)
                for (int64_t m = 0; m < g->m; m++) {
                    const int8_t want = naive_at(r, n, oy, ox, m);
                    const int8_t got = r->y[((n * g->oh + oy) * g->ow + ox) * g->m + m];
                    if (got != want)
                        fail_msg("n %lld y %lld x %lld m %lld: got %d, expected %d", (long long)n,
                                 (long long)oy, (long long)ox, (long long)m, got, want);
                }
}

/* ---- hand-computed ---- */

/* x is the 3x3 image 1..9 (zero point 1, so x - zx = 0..8), 3x3 kernel,
 * stride 2, padding 1: the four outputs see the corner 2x2 blocks, whose
 * sums of x - zx are 8, 12, 20, 24. */
static void hand_case(bool simd)
{
    /* dense, 2 output channels: all-ones weights with bias 1, all -1 with
     * bias -1; mult = 1 * 1 / 2: 9/2, 13/2, 21/2, 25/2 are ties, rounded to
     * even (4, 6, 10, 12), then zy = -3 */
    const qcase_t q = {1, 1, 3, 3, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false};
    eai__q8c_geom_t g;
    geom_of(&q, &g);
    assert_int_equal(g.oh, 2);
    assert_int_equal(g.ow, 2);
    qrun_t r;
    qrun_alloc(&r, &g);
    for (int i = 0; i < 9; i++)
        r.x[i] = (int8_t)(i + 1), r.w[i] = 1, r.w[9 + i] = -1;
    r.bias[0] = 1, r.bias[1] = -1;
    r.ws[0] = r.ws[1] = 1;
    r.sx = 1, r.sy = 2, r.zx = 1, r.zy = -3;
    qrun_kernel(&r, simd, false);
    const int8_t want[8] = {1, -7, 3, -9, 7, -13, 9, -15}; /* [y][x][m] */
    assert_memory_equal(r.y, want, 8);
    qrun_free(&r);

    /* depthwise, 2 channels of the same image: channel 0 all-ones weights
     * and bias 1 (as above), channel 1 only the centre tap, weight 2, bias
     * 0: 2 * (x - zx) at the centres (0,0), (0,2), (2,0), (2,2) = 0, 4, 12,
     * 16, halved: 0, 2, 6, 8, then zy = -3 */
    const qcase_t d = {1, 2, 3, 3, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true};
    geom_of(&d, &g);
    qrun_alloc(&r, &g);
    for (int i = 0; i < 9; i++)
        r.x[2 * i] = r.x[2 * i + 1] = (int8_t)(i + 1), r.w[i] = 1;
    r.w[9 + 4] = 2;
    r.bias[0] = 1;
    r.ws[0] = r.ws[1] = 1;
    r.sx = 1, r.sy = 2, r.zx = 1, r.zy = -3;
    qrun_kernel(&r, simd, false);
    const int8_t want_dw[8] = {1, -3, 3, -1, 7, 3, 9, 5};
    assert_memory_equal(r.y, want_dw, 8);
    qrun_free(&r);
}

static void test_hand_c(void **state)
{
    (void)state;
    hand_case(false);
}

static void test_hand_simd(void **state)
{
    (void)state;
    if (!eai__q8c_simd_available()) skip();
    hand_case(true);
}

/* ---- shape table ---- */

static const qcase_t cases[] = {
    /* n  c    h   w   m   kh kw sh sw pt pl pb pr dh dw dwise */
    {1, 16, 9, 7, 24, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, false},  /* 1x1 GEMM */
    {1, 37, 5, 3, 70, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, false},  /* odd C, 2 blocks, tail 6 */
    {1, 240, 1, 1, 61, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, false}, /* 1x1 spatial (SE) */
    {2, 5, 11, 10, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false},  /* 3x3 pad 1, batch 2 */
    {1, 3, 17, 17, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false}, /* stem: C 3, stride 2 */
    {1, 8, 13, 9, 130, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1, false}, /* asymmetric pads, 3 blocks */
    {1, 24, 9, 9, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false},  /* per-tap 3x3 (c * kw > 64) */
    {1, 6, 10, 10, 6, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, false},  /* dilation 2 */
    {1, 20, 9, 9, 33, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, false},  /* 1x1 stride 2 */
    {1, 10, 15, 13, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true}, /* depthwise s1 */
    {2, 19, 14, 11, 19, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true}, /* depthwise s2, batch 2 */
    {1, 40, 9, 8, 40, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, true},   /* 5x5 */
    {1, 17, 1, 1, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true},   /* 1x1 spatial, all padding */
    {1, 16, 8, 8, 16, 7, 7, 1, 1, 3, 3, 3, 3, 1, 1, true},   /* 7x7 */
    {1, 33, 12, 12, 33, 3, 3, 2, 1, 0, 1, 1, 1, 1, 2, true}, /* mixed strides, dilation */
    {1, 12, 6, 6, 12, 9, 9, 1, 1, 4, 4, 4, 4, 1, 1, true},   /* 9x9: portable path only */
    {1, 3, 20, 19, 24, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false}, /* row taps: stem, odd width */
    {2, 5, 9, 11, 17, 5, 5, 1, 2, 2, 1, 2, 3, 2, 1, false},  /* row taps: 5x5, dil h 2 */
    {1, 4, 7, 7, 8, 3, 3, 3, 3, 0, 2, 2, 0, 1, 1, false},    /* row taps: stride 3 pads */
    /* depthwise blocks of 64 channels, rows in groups of 4, chunks of columns */
    {1, 64, 6, 7, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true},     /* one whole block */
    {1, 144, 5, 9, 144, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true},   /* 2 blocks + tail 16 */
    {1, 72, 11, 10, 72, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, true},   /* 5x5 s2, tail 8 */
    {1, 24, 3, 230, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true},   /* 3 chunks of columns */
    {1, 40, 4, 233, 40, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true},   /* chunks at stride 2 */
    {1, 70, 9, 120, 70, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, true},   /* dilation 2, chunks */
    {1, 20, 10, 11, 20, 3, 5, 1, 2, 1, 2, 1, 2, 1, 1, true},   /* 3x5: generic kernel */
    {1, 130, 10, 10, 130, 8, 8, 1, 1, 3, 3, 4, 4, 1, 1, true}, /* 8x8: two full groups */
    {1, 9, 7, 7, 9, 4, 1, 1, 1, 0, 0, 0, 0, 1, 1, true},       /* 4x1, no padding */
};

static void fill(qrun_t *r)
{
    for (int64_t i = 0; i < r->nx; i++)
        r->x[i] = (int8_t)rnd(-128, 127);
    for (int64_t i = 0; i < r->nw; i++)
        r->w[i] = (int8_t)rnd(-127, 127);
    const int64_t taps = r->nw / r->g.m;
    for (int64_t m = 0; m < r->g.m; m++) {
        r->bias[m] = rnd(-3000, 3000);
        /* outputs spread over the int8 range: the sums have a deviation of
         * about 5400 sqrt(taps), the multiplier is 0.0078 ws */
        r->ws[m] = (0.5f + 0.1f * (float)rnd(0, 10)) / (float)sqrt((double)taps);
    }
    r->sx = 0.05f, r->sy = 6.4f, r->zx = 3, r->zy = -7;
}

static void test_table(void **state)
{
    (void)state;
    const bool simd = eai__q8c_simd_available();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        eai__q8c_geom_t g;
        geom_of(&cases[i], &g);
        qrun_t r;
        qrun_alloc(&r, &g);
        fill(&r);
        qrun_kernel(&r, false, false);
        assert_naive(&r);
        /* both extremes of the output range are reached: the check is not
         * vacuous (saturation included) */
        int lo = 127, hi = -128;
        for (int64_t j = 0; j < r.ny; j++)
            lo = r.y[j] < lo ? r.y[j] : lo, hi = r.y[j] > hi ? r.y[j] : hi;
        if (r.ny > 200) assert_true(hi - lo > 100);
        int8_t *c_out = malloc((size_t)r.ny);
        assert_non_null(c_out);
        memcpy(c_out, r.y, (size_t)r.ny);
        qrun_kernel(&r, false, true);
        assert_memory_equal(r.y, c_out, (size_t)r.ny);
        if (simd) {
            qrun_kernel(&r, true, false);
            assert_memory_equal(r.y, c_out, (size_t)r.ny);
            qrun_kernel(&r, true, true);
            assert_memory_equal(r.y, c_out, (size_t)r.ny);
        }
        free(c_out);
        qrun_free(&r);
    }
}

/* ---- through a session: xnnpack backend vs ref ---- */

static int scalar_f(th_t *t, const char *name, float v)
{
    return th_const(t, name, EAI_F32, 0, NULL, &v);
}

static int scalar_i8(th_t *t, const char *name, int v)
{
    int8_t i = (int8_t)v;
    return th_const(t, name, EAI_I8, 0, NULL, &i);
}

static bool have_backend(const char *name)
{
    for (const char *const *n = eai_backend_names(); *n; n++)
        if (strcmp(*n, name) == 0) return true;
    return false;
}

/* QLinearConv (NCHW, as PTQ writes it) on int8 x [1, c, h, w]. */
static void session_case(int c, int h, int w, int m, int k, int s, int p, int group,
                         eai_threadpool_t *pool)
{
    const int cg = c / group;
    const int64_t nx = (int64_t)c * h * w, nw = (int64_t)m * cg * k * k;
    int8_t *x = malloc((size_t)nx), *wt = malloc((size_t)nw);
    int32_t *b = malloc((size_t)m * sizeof *b);
    float *ws = malloc((size_t)m * sizeof *ws);
    assert_true(x && wt && b && ws);
    for (int64_t i = 0; i < nx; i++)
        x[i] = (int8_t)rnd(-128, 127);
    for (int64_t i = 0; i < nw; i++)
        wt[i] = (int8_t)rnd(-127, 127);
    for (int i = 0; i < m; i++) {
        b[i] = rnd(-2000, 2000);
        ws[i] = (0.5f + 0.1f * (float)rnd(0, 10)) / (float)(k * sqrt((double)cg));
    }
    th_t t;
    th_begin(&t, 13);
    int in[9];
    in[0] = th_input(&t, "x", EAI_I8, 4, (int64_t[]){1, c, h, w});
    in[1] = scalar_f(&t, "xs", 0.05f);
    in[2] = scalar_i8(&t, "xz", -5);
    in[3] = th_const(&t, "w", EAI_I8, 4, (int64_t[]){m, cg, k, k}, wt);
    in[4] = th_const(&t, "ws", EAI_F32, 1, (int64_t[]){m}, ws);
    int8_t *wz = calloc((size_t)m, 1);
    assert_non_null(wz);
    in[5] = th_const(&t, "wz", EAI_I8, 1, (int64_t[]){m}, wz);
    free(wz);
    in[6] = scalar_f(&t, "ys", 6.4f);
    in[7] = scalar_i8(&t, "yz", 9);
    in[8] = th_const(&t, "b", EAI_I32, 1, (int64_t[]){m}, b);
    int y = th_value(&t, "y");
    th_node(&t, "QLinearConv", in, 9, &y, 1);
    th_attr_ints(&t, "strides", (int64_t[]){s, s}, 2);
    th_attr_ints(&t, "pads", (int64_t[]){p, p, p, p}, 4);
    th_attr_int(&t, "group", group);
    th_output(&t, y);
    eai_model_t *model;
    if (eai__model_from_graph(&t.g, &model) != EAI_OK) fail_msg("%s", eai_last_error());
    const void *out[2];
    eai_session_t *ss[2];
    const char *be[2] = {"ref", "xnnpack"};
    for (int i = 0; i < 2; i++) {
        eai_session_opts_t o = {.backend = be[i], .pool = i ? pool : NULL};
        if (eai_session_create(model, &o, &ss[i]) != EAI_OK) fail_msg("%s", eai_last_error());
        assert_int_equal(eai_session_set_input(ss[i], 0, x, (size_t)nx), EAI_OK);
        assert_int_equal(eai_session_invoke(ss[i]), EAI_OK);
        assert_int_equal(eai_session_get_output(ss[i], 0, &out[i], NULL), EAI_OK);
    }
    assert_true(eai__session_n_on(ss[1], "xnnpack") >= 1);
    const int oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1;
    const size_t ny = (size_t)m * oh * ow;
    if (eai__q8c_simd_available()) {
        assert_memory_equal(out[0], out[1], ny); /* q8conv: the ref formula exactly */
    } else {
        /* XNNPACK's own kernels: its requantisation may round differently */
        for (size_t i = 0; i < ny; i++)
            assert_true(abs(((const int8_t *)out[0])[i] - ((const int8_t *)out[1])[i]) <= 1);
    }
    for (int i = 0; i < 2; i++)
        eai_session_destroy(ss[i]);
    t.model = model; /* th_end destroys it */
    th_end(&t);
    free(x), free(wt), free(b), free(ws);
}

static void test_session_vs_ref(void **state)
{
    (void)state;
    if (!have_backend("xnnpack")) skip();
    eai_threadpool_t *pool;
    assert_int_equal(eai_threadpool_create(2, &pool), EAI_OK);
    for (int th = 0; th < 2; th++) {
        eai_threadpool_t *p = th ? pool : NULL;
        session_case(24, 20, 18, 40, 1, 1, 0, 1, p);  /* pointwise */
        session_case(3, 33, 31, 16, 3, 2, 1, 1, p);   /* stem */
        session_case(48, 15, 15, 48, 3, 1, 1, 48, p); /* depthwise */
        session_case(72, 14, 14, 72, 5, 2, 2, 72, p); /* depthwise 5x5 s2 */
        session_case(64, 7, 7, 100, 3, 1, 1, 1, p);   /* 3x3, M tail */
    }
    eai_threadpool_destroy(pool);
}

/* QGemm with a float output (the logits PTQ writes): [m, k] x [n, k]^T,
 * alpha 0.5; on VNNI CPUs the xnnpack backend runs it on the dense kernel
 * with float stores, which must give the ref kernel's floats exactly. */
static void qgemm_case(int m, int k, int n, eai_threadpool_t *pool)
{
    int8_t *a = malloc((size_t)m * k), *b = malloc((size_t)n * k), *bz = calloc((size_t)n, 1);
    int32_t *bias = malloc((size_t)n * sizeof *bias);
    float *bs = malloc((size_t)n * sizeof *bs);
    assert_true(a && b && bz && bias && bs);
    for (int i = 0; i < m * k; i++)
        a[i] = (int8_t)rnd(-128, 127);
    for (int i = 0; i < n * k; i++)
        b[i] = (int8_t)rnd(-127, 127);
    for (int i = 0; i < n; i++)
        bias[i] = rnd(-9000, 9000), bs[i] = 0.001f * (float)rnd(1, 9);
    th_t t;
    th_begin(&t, 13);
    int in[7];
    in[0] = th_input(&t, "a", EAI_I8, 2, (int64_t[]){m, k});
    in[1] = scalar_f(&t, "as", 0.03f);
    in[2] = scalar_i8(&t, "az", 11);
    in[3] = th_const(&t, "b", EAI_I8, 2, (int64_t[]){n, k}, b);
    in[4] = th_const(&t, "bs", EAI_F32, 1, (int64_t[]){n}, bs);
    in[5] = th_const(&t, "bz", EAI_I8, 1, (int64_t[]){n}, bz);
    in[6] = th_const(&t, "c", EAI_I32, 1, (int64_t[]){n}, bias);
    int y = th_value(&t, "y");
    th_node(&t, "QGemm", in, 7, &y, 1);
    eai__node_t *nd = &t.g.nodes[t.g.n_nodes - 1];
    free(nd->domain);
    nd->domain = strdup("com.microsoft");
    th_attr_int(&t, "transB", 1);
    th_attr_float(&t, "alpha", 0.5f);
    th_output(&t, y);
    if (eai__model_from_graph(&t.g, &t.model) != EAI_OK) fail_msg("%s", eai_last_error());
    const float *out[2];
    eai_session_t *ss[2];
    const char *be[2] = {"ref", "xnnpack"};
    for (int i = 0; i < 2; i++) {
        eai_session_opts_t o = {.backend = be[i], .pool = i ? pool : NULL};
        if (eai_session_create(t.model, &o, &ss[i]) != EAI_OK) fail_msg("%s", eai_last_error());
        assert_int_equal(eai_session_set_input(ss[i], 0, a, (size_t)m * k), EAI_OK);
        assert_int_equal(eai_session_invoke(ss[i]), EAI_OK);
        assert_int_equal(eai_session_get_output(ss[i], 0, (const void **)&out[i], NULL), EAI_OK);
    }
    if (eai__q8c_simd_available()) assert_int_equal(eai__session_n_on(ss[1], "xnnpack"), 1);
    /* and one value by hand: row 0, column 0 */
    int64_t acc = bias[0];
    for (int i = 0; i < k; i++)
        acc += (int64_t)b[i] * (a[i] - 11);
    assert_float_equal(out[0][0], (float)acc * (0.5f * 0.03f * bs[0]), 1e-6 * fabs((double)acc));
    for (int i = 0; i < m * n; i++)
        if (out[0][i] != out[1][i])
            fail_msg("logit %d: ref %g, xnnpack %g", i, out[0][i], out[1][i]);
    for (int i = 0; i < 2; i++)
        eai_session_destroy(ss[i]);
    th_end(&t);
    free(a), free(b), free(bz), free(bias), free(bs);
}

static void test_qgemm_float_vs_ref(void **state)
{
    (void)state;
    if (!have_backend("xnnpack")) skip();
    eai_threadpool_t *pool;
    assert_int_equal(eai_threadpool_create(2, &pool), EAI_OK);
    qgemm_case(1, 1280, 1000, NULL); /* a classifier */
    qgemm_case(1, 1280, 1000, pool);
    qgemm_case(3, 37, 21, pool); /* odd sizes */
    eai_threadpool_destroy(pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_c),
        cmocka_unit_test(test_hand_simd),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_session_vs_ref),
        cmocka_unit_test(test_qgemm_float_vs_ref),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
