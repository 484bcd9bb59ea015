/* The quantized op family (src/runtime/ref/quant*.c) against naive
 * references written here: plain loops in double precision, rounding half to
 * even (nearbyint), saturating. Shapes cover the kernel paths: 1x1 (the
 * transposed pack), 3x3 with pads/strides/dilations (the general pack),
 * depthwise (direct loop, stride 1 and 2), grouped, odd sizes, and uint8 /
 * weight zero points (the plain path). The fast paths round the requantised
 * value from a float product, so they may differ from the double reference
 * by one step at exact ties: at most 1, and on at most 1% of the outputs.
 * QuantizeLinear/DequantizeLinear/QLinearConv/QLinearMatMul/ConvInteger/
 * MatMulInteger are also checked by the ONNX conformance cases. */
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

static uint32_t rng = 12345;

static int rnd(int lo, int hi)
{
    rng = rng * 1664525u + 1013904223u;
    return lo + (int)((rng >> 8) % (uint32_t)(hi - lo + 1));
}

static int sat(double v, bool s8)
{
    long r = lrint(nearbyint(v));
    const long lo = s8 ? -128 : 0, hi = s8 ? 127 : 255;
    return (int)(r < lo ? lo : r > hi ? hi : r);
}

/* Last node of the harness graph moves to `domain`. */
static void set_domain(th_t *t, const char *domain)
{
    eai__node_t *n = &t->g.nodes[t->g.n_nodes - 1];
    free(n->domain);
    n->domain = strdup(domain);
}

static int scalar_f(th_t *t, const char *name, float v)
{
    return th_const(t, name, EAI_F32, 0, NULL, &v);
}

static int scalar_zp(th_t *t, const char *name, int v, bool s8)
{
    int8_t i = (int8_t)v;
    uint8_t u = (uint8_t)v;
    return th_const(t, name, s8 ? EAI_I8 : EAI_U8, 0, NULL, s8 ? (void *)&i : (void *)&u);
}

/* Compares 8-bit outputs: |diff| <= 1 everywhere, and exact on >= 99%. */
static void assert_q8_close(const void *got, const int *want, int64_t n, bool s8)
{
    int64_t off = 0;
    for (int64_t i = 0; i < n; i++) {
        const int g = s8 ? ((const int8_t *)got)[i] : ((const uint8_t *)got)[i];
        const int d = abs(g - want[i]);
        if (d > 1) fail_msg("element %lld: got %d, expected %d", (long long)i, g, want[i]);
        off += d != 0;
    }
    if (off * 100 > n) fail_msg("%lld of %lld elements off by one", (long long)off, (long long)n);
}

/* ---- QLinearConv ---- */

typedef struct conv_case {
    int n, c, h, w, m, kh, kw, sh, sw, ph, pw, dh, dw, group;
    bool s8, wzp; /* int8 activations; weight zero points non-zero (uint8 W) */
} conv_case_t;

static void run_qconv(const conv_case_t *k, eai_threadpool_t *pool)
{
    const int cg = k->c / k->group, mg = k->m / k->group;
    const int oh = (k->h + 2 * k->ph - ((k->kh - 1) * k->dh + 1)) / k->sh + 1;
    const int ow = (k->w + 2 * k->pw - ((k->kw - 1) * k->dw + 1)) / k->sw + 1;
    const int64_t nx = (int64_t)k->n * k->c * k->h * k->w, nw = (int64_t)k->m * cg * k->kh * k->kw;
    const int64_t ny = (int64_t)k->n * k->m * oh * ow;
    uint8_t *x = malloc((size_t)nx), *w = malloc((size_t)nw);
    int32_t *b = malloc((size_t)k->m * sizeof(int32_t));
    float *ws = malloc((size_t)k->m * sizeof(float));
    uint8_t *wz = malloc((size_t)k->m);
    int *want = malloc((size_t)ny * sizeof(int));
    const bool ws8 = !k->wzp;
    for (int64_t i = 0; i < nx; i++)
        x[i] = (uint8_t)(k->s8 ? rnd(-128, 127) : rnd(0, 255));
    for (int64_t i = 0; i < nw; i++)
        w[i] = (uint8_t)(ws8 ? rnd(-127, 127) : rnd(0, 255));
    for (int i = 0; i < k->m; i++) {
        b[i] = rnd(-5000, 5000);
        ws[i] = 0.002f + 0.001f * (float)rnd(0, 10);
        wz[i] = (uint8_t)(k->wzp ? rnd(100, 150) : 0);
    }
    const float xs = 0.02f, ys = 0.35f;
    const int xz = k->s8 ? 3 : 130, yz = k->s8 ? -7 : 120;
    for (int n = 0; n < k->n; n++)
        for (int m = 0; m < k->m; m++)
            for (int y = 0; y < oh; y++)
                for (int xo = 0; xo < ow; xo++) {
                    int64_t acc = 0;
                    const int gi = m / mg;
                    for (int ci = 0; ci < cg; ci++)
                        for (int a = 0; a < k->kh; a++)
                            for (int bb = 0; bb < k->kw; bb++) {
                                const int ih = y * k->sh - k->ph + a * k->dh;
                                const int iw = xo * k->sw - k->pw + bb * k->dw;
                                if (ih < 0 || ih >= k->h || iw < 0 || iw >= k->w) continue;
                                const int64_t xi =
                                    (((int64_t)n * k->c + gi * cg + ci) * k->h + ih) * k->w + iw;
                                const int xv = k->s8 ? (int8_t)x[xi] : x[xi];
                                const int64_t wi =
                                    (((int64_t)m * cg + ci) * k->kh + a) * k->kw + bb;
                                const int wv = ws8 ? (int8_t)w[wi] : w[wi];
                                acc += (int64_t)(xv - xz) * (wv - wz[m]);
                            }
                    want[(((int64_t)n * k->m + m) * oh + y) * ow + xo] =
                        sat((double)(acc + b[m]) * xs * ws[m] / ys + yz, k->s8);
                }
    th_t t;
    th_begin(&t, 13);
    const eai_dtype_t xdt = k->s8 ? EAI_I8 : EAI_U8, wdt = ws8 ? EAI_I8 : EAI_U8;
    int in[9];
    in[0] = th_input(&t, "x", xdt, 4, (int64_t[]){k->n, k->c, k->h, k->w});
    in[1] = scalar_f(&t, "xs", xs);
    in[2] = scalar_zp(&t, "xz", xz, k->s8);
    in[3] = th_const(&t, "w", wdt, 4, (int64_t[]){k->m, cg, k->kh, k->kw}, w);
    in[4] = th_const(&t, "ws", EAI_F32, 1, (int64_t[]){k->m}, ws);
    in[5] = th_const(&t, "wz", wdt, 1, (int64_t[]){k->m}, wz);
    in[6] = scalar_f(&t, "ys", ys);
    in[7] = scalar_zp(&t, "yz", yz, k->s8);
    in[8] = th_const(&t, "b", EAI_I32, 1, (int64_t[]){k->m}, b);
    int y = th_value(&t, "y");
    th_node(&t, "QLinearConv", in, 9, &y, 1);
    th_attr_ints(&t, "strides", (int64_t[]){k->sh, k->sw}, 2);
    th_attr_ints(&t, "pads", (int64_t[]){k->ph, k->pw, k->ph, k->pw}, 4);
    th_attr_ints(&t, "dilations", (int64_t[]){k->dh, k->dw}, 2);
    th_attr_int(&t, "group", k->group);
    th_output(&t, y);
    if (!pool) {
        assert_int_equal(th_run(&t, (const void *[]){x}), EAI_OK);
        th_assert_dims(&t, 0, 4, (int64_t[]){k->n, k->m, oh, ow});
        assert_q8_close(t.out_data[0], want, ny, k->s8);
    } else {
        assert_int_equal(th_prepare(&t), EAI_OK);
        eai_session_opts_t o = {.pool = pool};
        eai_session_t *s;
        assert_int_equal(eai_session_create(t.model, &o, &s), EAI_OK);
        assert_int_equal(eai_session_set_input(s, 0, x, (size_t)nx), EAI_OK);
        assert_int_equal(eai_session_invoke(s), EAI_OK);
        const void *got;
        assert_int_equal(eai_session_get_output(s, 0, &got, NULL), EAI_OK);
        assert_q8_close(got, want, ny, k->s8);
        eai_session_destroy(s);
    }
    th_end(&t);
    free(x), free(w), free(b), free(ws), free(wz), free(want);
}

static const conv_case_t conv_cases[] = {
    /* n  c   h   w   m  kh kw sh sw ph pw dh dw grp  s8    wzp */
    {1, 16, 9, 7, 24, 1, 1, 1, 1, 0, 0, 1, 1, 1, true, false},    /* 1x1: transposed pack */
    {2, 5, 11, 10, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, true, false},    /* 3x3 pad 1, odd C/M */
    {1, 8, 13, 9, 12, 3, 3, 2, 2, 1, 1, 1, 1, 1, true, false},    /* stride 2 */
    {1, 6, 10, 10, 6, 3, 3, 1, 1, 2, 2, 2, 2, 1, true, false},    /* dilation 2 */
    {1, 8, 12, 12, 8, 3, 3, 1, 1, 1, 1, 1, 1, 2, true, false},    /* 2 groups */
    {1, 10, 15, 13, 10, 3, 3, 1, 1, 1, 1, 1, 1, 10, true, false}, /* depthwise s1 */
    {2, 9, 14, 11, 9, 3, 3, 2, 2, 1, 1, 1, 1, 9, true, false},    /* depthwise s2 */
    {1, 4, 9, 9, 4, 5, 5, 2, 2, 2, 2, 1, 1, 4, false, false},     /* depthwise 5x5 uint8 x */
    {1, 3, 8, 8, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, false, true},      /* uint8, weight zero points */
    {1, 200, 3, 3, 70, 1, 1, 1, 1, 0, 0, 1, 1, 1, true, false},   /* K > 64, M tail */
};

static void test_qlinearconv(void **state)
{
    for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++)
        run_qconv(&conv_cases[i], NULL);
}

/* The portable dot-product path, which AVX512-VNNI machines skip. */
static void test_qlinearconv_portable(void **state)
{
    setenv("EAI_QCONV_NO_VNNI", "1", 1);
    for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++)
        run_qconv(&conv_cases[i], NULL);
    unsetenv("EAI_QCONV_NO_VNNI");
}

/* Two threads split tiles and planes; the answer must not change. */
static void test_qlinearconv_threads(void **state)
{
    eai_threadpool_t *pool;
    assert_int_equal(eai_threadpool_create(2, &pool), EAI_OK);
    run_qconv(&conv_cases[1], pool);
    run_qconv(&conv_cases[6], pool);
    run_qconv(&conv_cases[9], pool);
    eai_threadpool_destroy(pool);
}

/* ---- QGemm (com.microsoft) ---- */

static void run_qgemm(int M, int N, int K, bool quant_out)
{
    int8_t *a = malloc((size_t)(M * K)), *b = malloc((size_t)(N * K));
    int32_t *c = malloc((size_t)N * sizeof(int32_t));
    float *bs = malloc((size_t)N * sizeof(float));
    int8_t *bz = calloc((size_t)N, 1);
    for (int i = 0; i < M * K; i++)
        a[i] = (int8_t)rnd(-128, 127);
    for (int i = 0; i < N * K; i++)
        b[i] = (int8_t)rnd(-127, 127);
    for (int i = 0; i < N; i++) {
        c[i] = rnd(-3000, 3000);
        bs[i] = 0.001f * (float)rnd(1, 9);
    }
    const float as = 0.05f, ys = 0.4f;
    const int az = -11, yz = 5;
    th_t t;
    th_begin(&t, 13);
    int in[9];
    in[0] = th_input(&t, "a", EAI_I8, 2, (int64_t[]){M, K});
    in[1] = scalar_f(&t, "as", as);
    in[2] = scalar_zp(&t, "az", az, true);
    in[3] = th_const(&t, "b", EAI_I8, 2, (int64_t[]){N, K}, b);
    in[4] = th_const(&t, "bs", EAI_F32, 1, (int64_t[]){N}, bs);
    in[5] = th_const(&t, "bz", EAI_I8, 1, (int64_t[]){N}, bz);
    in[6] = th_const(&t, "c", EAI_I32, 1, (int64_t[]){N}, c);
    in[7] = scalar_f(&t, "ys", ys);
    in[8] = scalar_zp(&t, "yz", yz, true);
    int y = th_value(&t, "y");
    th_node(&t, "QGemm", in, quant_out ? 9 : 7, &y, 1);
    set_domain(&t, "com.microsoft");
    th_attr_int(&t, "transB", 1);
    th_attr_float(&t, "alpha", 0.5f);
    th_output(&t, y);
    assert_int_equal(th_run(&t, (const void *[]){a}), EAI_OK);
    int *want = malloc((size_t)(M * N) * sizeof(int));
    float *wantf = malloc((size_t)(M * N) * sizeof(float));
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            int64_t acc = c[n];
            for (int k = 0; k < K; k++)
                acc += (int64_t)(a[m * K + k] - az) * b[n * K + k];
            const double real = 0.5 * as * bs[n] * (double)acc;
            want[m * N + n] = sat(real / ys + yz, true);
            wantf[m * N + n] = (float)real;
        }
    if (quant_out)
        assert_q8_close(t.out_data[0], want, M * N, true);
    else
        th_assert_close(th_out_f32(&t, 0), wantf, M * N, 1e-4f, 1e-5f);
    th_end(&t);
    free(a), free(b), free(c), free(bs), free(bz), free(want), free(wantf);
}

static void test_qgemm(void **state)
{
    run_qgemm(1, 10, 96, false); /* classifier, float logits */
    run_qgemm(3, 37, 70, true);
    run_qgemm(5, 4, 3, true);
}

/* ---- QLinearAdd / QLinearMul with broadcast ---- */

static void run_qbinary(const char *op, bool mul)
{
    const int64_t ad[4] = {2, 3, 4, 5}, bd[4] = {1, 3, 1, 1};
    int8_t a[120], b[3];
    for (int i = 0; i < 120; i++)
        a[i] = (int8_t)rnd(-128, 127);
    for (int i = 0; i < 3; i++)
        b[i] = (int8_t)rnd(-128, 127);
    /* scales whose ratios are not simple fractions: few exact ties */
    const float as = 0.031f, bs = 0.047f, cs = mul ? 0.213f : 0.061f;
    const int az = 4, bz = -9, cz = -20;
    th_t t;
    th_begin(&t, 13);
    int in[8];
    in[0] = th_input(&t, "a", EAI_I8, 4, ad);
    in[1] = scalar_f(&t, "as", as);
    in[2] = scalar_zp(&t, "az", az, true);
    in[3] = th_input(&t, "b", EAI_I8, 4, bd);
    in[4] = scalar_f(&t, "bs", bs);
    in[5] = scalar_zp(&t, "bz", bz, true);
    in[6] = scalar_f(&t, "cs", cs);
    in[7] = scalar_zp(&t, "cz", cz, true);
    int y = th_value(&t, "y");
    th_node(&t, op, in, 8, &y, 1);
    set_domain(&t, "com.microsoft");
    th_output(&t, y);
    assert_int_equal(th_run(&t, (const void *[]){a, b}), EAI_OK);
    int want[120];
    for (int i = 0; i < 120; i++) {
        const double ra = (a[i] - az) * (double)as, rb = (b[(i / 20) % 3] - bz) * (double)bs;
        want[i] = sat((mul ? ra * rb : ra + rb) / cs + cz, true);
    }
    th_assert_dims(&t, 0, 4, ad);
    assert_q8_close(t.out_data[0], want, 120, true);
    th_end(&t);
}

static void test_qlinear_add_mul(void **state)
{
    run_qbinary("QLinearAdd", false);
    run_qbinary("QLinearMul", true);
}

/* ---- QLinearGlobalAveragePool, QLinearConcat, QLinearLut ---- */

static void test_qlinear_gap(void **state)
{
    uint8_t x[2 * 3 * 7];
    for (int i = 0; i < 42; i++)
        x[i] = (uint8_t)rnd(0, 255);
    th_t t;
    th_begin(&t, 13);
    int in[5];
    in[0] = th_input(&t, "x", EAI_U8, 4, (int64_t[]){2, 3, 7, 1});
    in[1] = scalar_f(&t, "xs", 0.1f);
    in[2] = scalar_zp(&t, "xz", 128, false);
    in[3] = scalar_f(&t, "ys", 0.07f);
    in[4] = scalar_zp(&t, "yz", 100, false);
    int y = th_value(&t, "y");
    th_node(&t, "QLinearGlobalAveragePool", in, 5, &y, 1);
    set_domain(&t, "com.microsoft");
    th_attr_int(&t, "channels_last", 0);
    th_output(&t, y);
    assert_int_equal(th_run(&t, (const void *[]){x}), EAI_OK);
    int want[6];
    for (int p = 0; p < 6; p++) {
        double s = 0;
        for (int i = 0; i < 7; i++)
            s += (x[p * 7 + i] - 128) * 0.1;
        want[p] = sat(s / 7 / 0.07 + 100, false);
    }
    th_assert_dims(&t, 0, 4, (int64_t[]){2, 3, 1, 1});
    assert_q8_close(t.out_data[0], want, 6, false);
    th_end(&t);
}

static void test_qlinear_concat(void **state)
{
    int8_t a[2 * 2 * 3], b[2 * 1 * 3];
    for (int i = 0; i < 12; i++)
        a[i] = (int8_t)rnd(-128, 127);
    for (int i = 0; i < 6; i++)
        b[i] = (int8_t)rnd(-128, 127);
    th_t t;
    th_begin(&t, 13);
    int in[8];
    in[0] = scalar_f(&t, "ys", 0.1f);
    in[1] = scalar_zp(&t, "yz", 2, true);
    in[2] = th_input(&t, "a", EAI_I8, 3, (int64_t[]){2, 2, 3});
    in[3] = scalar_f(&t, "as", 0.1f); /* same parameters: copied */
    in[4] = scalar_zp(&t, "az", 2, true);
    in[5] = th_input(&t, "b", EAI_I8, 3, (int64_t[]){2, 1, 3});
    in[6] = scalar_f(&t, "bs", 0.25f);
    in[7] = scalar_zp(&t, "bz", -3, true);
    int y = th_value(&t, "y");
    th_node(&t, "QLinearConcat", in, 8, &y, 1);
    set_domain(&t, "com.microsoft");
    th_attr_int(&t, "axis", 1);
    th_output(&t, y);
    assert_int_equal(th_run(&t, (const void *[]){a, b}), EAI_OK);
    int want[18];
    for (int n = 0; n < 2; n++)
        for (int c = 0; c < 3; c++)
            for (int k = 0; k < 3; k++)
                want[(n * 3 + c) * 3 + k] =
                    c < 2 ? a[(n * 2 + c) * 3 + k] : sat((b[n * 3 + k] + 3) * 0.25 / 0.1 + 2, true);
    th_assert_dims(&t, 0, 3, (int64_t[]){2, 3, 3});
    assert_q8_close(t.out_data[0], want, 18, true);
    th_end(&t);
}

/* 293 elements: the 64-wide vector path and the scalar tail both run. */
static void test_qlinear_lut(void **state)
{
    int8_t table[256], x[293];
    for (int i = 0; i < 256; i++)
        table[i] = (int8_t)(255 - i - 128); /* reverses the codes */
    for (int i = 0; i < 293; i++)
        x[i] = (int8_t)((i * 7) % 256 - 128);
    th_t t;
    th_begin(&t, 13);
    int in[2];
    in[0] = th_input(&t, "x", EAI_I8, 1, (int64_t[]){293});
    in[1] = th_const(&t, "t", EAI_I8, 1, (int64_t[]){256}, table);
    int y = th_value(&t, "y");
    th_node(&t, "QLinearLut", in, 2, &y, 1);
    set_domain(&t, "com.edgeai");
    th_output(&t, y);
    assert_int_equal(th_run(&t, (const void *[]){x}), EAI_OK);
    const int8_t *got = t.out_data[0];
    for (int i = 0; i < 293; i++)
        assert_int_equal(got[i], -1 - x[i]); /* code v -> table[v + 128] = -1 - v */
    th_end(&t);
}

/* Per-axis QuantizeLinear (opset 13), values worked out by hand: scales
 * 0.5 and 2 on axis 1, zero points 1 and -2; 1.25 / 0.5 = 2.5 rounds to 2
 * (ties to even), -300 saturates. */
static void test_quantize_per_axis(void **state)
{
    const float x[4] = {1.25f, -3.0f, 5.0f, -300.0f};
    const float s[2] = {0.5f, 2.0f};
    const int8_t z[2] = {1, -2};
    th_t t;
    th_begin(&t, 13);
    int in[3];
    in[0] = th_input(&t, "x", EAI_F32, 2, (int64_t[]){2, 2});
    in[1] = th_const(&t, "s", EAI_F32, 1, (int64_t[]){2}, s);
    in[2] = th_const(&t, "z", EAI_I8, 1, (int64_t[]){2}, z);
    int y = th_value(&t, "y");
    th_node(&t, "QuantizeLinear", in, 3, &y, 1);
    th_attr_int(&t, "axis", 1);
    th_output(&t, y);
    assert_int_equal(th_run(&t, (const void *[]){x}), EAI_OK);
    const int8_t *got = t.out_data[0];
    /* 1.25/0.5=2.5->2, +1 = 3; -3/2=-1.5->-2, -2 = -4; 5/0.5=10, +1 = 11;
     * -300/2=-150, -2 -> saturates at -128 */
    assert_int_equal(got[0], 3);
    assert_int_equal(got[1], -4);
    assert_int_equal(got[2], 11);
    assert_int_equal(got[3], -128);
    th_end(&t);
}

static void test_bad_params(void **state)
{
    th_t t;
    th_begin(&t, 13);
    int in[3];
    in[0] = th_input(&t, "x", EAI_F32, 2, (int64_t[]){2, 3});
    in[1] = th_const(&t, "s", EAI_F32, 1, (int64_t[]){2}, (float[]){1, 2});
    in[2] = th_const(&t, "z", EAI_I8, 1, (int64_t[]){2}, (int8_t[]){0, 0});
    int y = th_value(&t, "y");
    th_node(&t, "QuantizeLinear", in, 3, &y, 1);
    th_attr_int(&t, "axis", 1); /* axis 1 has 3 channels, the scale 2 values */
    th_output(&t, y);
    th_assert_error(&t, EAI_E_FORMAT, "scale");
    th_end(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qlinearconv),         cmocka_unit_test(test_qlinearconv_portable),
        cmocka_unit_test(test_qlinearconv_threads), cmocka_unit_test(test_qgemm),
        cmocka_unit_test(test_qlinear_add_mul),     cmocka_unit_test(test_qlinear_gap),
        cmocka_unit_test(test_qlinear_concat),      cmocka_unit_test(test_qlinear_lut),
        cmocka_unit_test(test_quantize_per_axis),   cmocka_unit_test(test_bad_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
