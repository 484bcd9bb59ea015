/* Tests for the DP primitives (src/fl/dp.c) and the RDP accountant
 * (src/fl/rdp.c). Reference numbers come from scripts/rdp_reference.py, which
 * integrates the sampled Gaussian mechanism's Renyi divergence numerically
 * with mpmath (no series), and from TF Privacy's published MNIST table. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edgeai/fl.h"
#include "fl/rdp_impl.h"

static double norm2(const float *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)v[i] * v[i];
    return sqrt(s);
}

static void fill(float *v, size_t n, uint64_t seed, float scale)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        v[i] = scale * ((float)(seed >> 40) / (float)(1 << 24) - 0.5f);
    }
}

/* ---- reference values (scripts/rdp_reference.py) ---- */

typedef struct {
    double q, sigma, alpha, rdp;
} order_ref_t;
typedef struct {
    double q, sigma;
    int64_t steps;
    double delta, eps_classic, eps_improved;
} eps_ref_t;

/* clang-format off */
/* per-order RDP: q, sigma, alpha, rdp (numerical integral) */
static const order_ref_t order_ref[] = {
    {0.01, 1, 1.1000000000000001, 9.241471084686958e-05},
    {0.01, 1, 1.5, 0.00012725374332744983},
    {0.01, 1, 2, 0.00017181342207454794},
    {0.01, 1, 2.5, 0.00021757533228188047},
    {0.01, 1, 3.7000000000000002, 0.0003329356253956371},
    {0.01, 1, 8, 0.00089364390760603184},
    {0.01, 1, 10.5, 0.18833969137955361},
    {0.01, 1, 32, 11.246275937048068},
    {0.01, 1, 63, 26.820552875528229},
    {0.10000000000000001, 0.80000000000000004, 1.1000000000000001, 0.015238073389379315},
    {0.10000000000000001, 0.80000000000000004, 1.5, 0.023305046249858827},
    {0.10000000000000001, 0.80000000000000004, 2, 0.037013791056266176},
    {0.10000000000000001, 0.80000000000000004, 2.5, 0.058087571083751344},
    {0.10000000000000001, 0.80000000000000004, 3.7000000000000002, 0.22233062437262557},
    {0.10000000000000001, 0.80000000000000004, 8, 3.61865742244435},
    {0.10000000000000001, 0.80000000000000004, 10.5, 5.658166086532975},
    {0.10000000000000001, 0.80000000000000004, 32, 22.623137968522272},
    {0.10000000000000001, 0.80000000000000004, 63, 46.879026437764111},
    {0.0042666666666666669, 1.1000000000000001, 1.1000000000000001, 1.2779666371319914e-05},
    {0.0042666666666666669, 1.1000000000000001, 1.5, 1.7479784462924327e-05},
    {0.0042666666666666669, 1.1000000000000001, 2, 2.3395776009949162e-05},
    {0.0042666666666666669, 1.1000000000000001, 2.5, 2.9358070281807933e-05},
    {0.0042666666666666669, 1.1000000000000001, 3.7000000000000002, 4.3862775365084625e-05},
    {0.0042666666666666669, 1.1000000000000001, 8, 9.8341061779926009e-05},
    {0.0042666666666666669, 1.1000000000000001, 10.5, 0.00013216541130752266},
    {0.0042666666666666669, 1.1000000000000001, 32, 7.590188346210109},
    {0.0042666666666666669, 1.1000000000000001, 63, 20.488120577148464},
    {0.050000000000000003, 3, 1.1000000000000001, 0.00016073282030366746},
    {0.050000000000000003, 3, 1.5, 0.00021968351633638996},
    {0.050000000000000003, 3, 2, 0.00029375452177005492},
    {0.050000000000000003, 3, 2.5, 0.00036825532238165176},
    {0.050000000000000003, 3, 3.7000000000000002, 0.00054884131339813492},
    {0.050000000000000003, 3, 8, 0.0012176503303946179},
    {0.050000000000000003, 3, 10.5, 0.0016231666915935683},
    {0.050000000000000003, 3, 32, 0.0057787083733648057},
    {0.050000000000000003, 3, 63, 0.47700175073464984},
};
/* epsilon: q, sigma, steps, delta, classic, improved */
static const eps_ref_t eps_ref[] = {
    {0.0042666666666666669, 1.1000000000000001, 14063, 1.0000000000000001e-05, 3.0083810468337937, 2.5966555286809165}, /* orders 8.8, 8.1 */
    {0.0042666666666666669, 1.3, 3516, 1.0000000000000001e-05, 1.1922644089660936, 0.95456395314614517}, /* orders 17, 17 */
    {0.0042666666666666669, 0.69999999999999996, 10547, 1.0000000000000001e-05, 7.100551709860726, 6.3183839650479934}, /* orders 3.8, 3.8 */
    {0.10000000000000001, 1, 100, 1.0000000000000001e-05, 8.7937781038176457, 7.899255002438081}, /* orders 3.3, 3.2 */
    {0.01, 2, 1000, 9.9999999999999995e-07, 0.94412229395810165, 0.78279642359759305}, /* orders 29, 26 */
    {0.29999999999999999, 5, 50, 1.0000000000000001e-05, 2.2457439795507561, 1.9023371598407759}, /* orders 10.9, 10.2 */
};
/* N(0,1) from xoshiro256** + polar, seed 42 */
#define REF_NORMALS_SEED42 -0.72621913824478568, -0.21119691823195985, 0.22162270150359331, 0.52277168775601457, 0.46417731016247366, 0.74097889168655617, 1.4762494610184149, 0.47075911993601033
/* clang-format on */

/* ---- clipping ---- */

static void test_clip_hand(void **state)
{
    (void)state;
    float v[2] = {3, 4};
    assert_float_equal(eai_dp_clip(v, 2, 1.0f), 5.0, 1e-12);
    assert_float_equal(v[0], 0.6, 1e-6);
    assert_float_equal(v[1], 0.8, 1e-6);
    assert_true(norm2(v, 2) <= 1.0);
}

static void test_clip_scales_down(void **state)
{
    (void)state;
    enum { N = 44426 };
    static float v[N], orig[N];
    const float clips[] = {1.0f, 0.1f, 3.7f, 1e-3f};
    for (int c = 0; c < 4; c++) {
        fill(v, N, 11 + c, 2.0f);
        memcpy(orig, v, sizeof v);
        double before = norm2(orig, N);
        assert_true(before > clips[c]);
        assert_float_equal(eai_dp_clip(v, N, clips[c]), before, 1e-9 * before);
        double after = norm2(v, N);
        assert_true(after <= (double)clips[c]);
        assert_true(after >= (double)clips[c] * (1 - 1e-5));
        /* Direction kept: cosine with the original ~ 1. */
        double dot = 0;
        for (int i = 0; i < N; i++)
            dot += (double)v[i] * orig[i];
        assert_true(dot / (after * before) > 1 - 1e-9);
    }
}

static void test_clip_untouched_below(void **state)
{
    (void)state;
    float v[100], orig[100];
    fill(v, 100, 3, 0.1f);
    memcpy(orig, v, sizeof v);
    double n = norm2(v, 100);
    assert_float_equal(eai_dp_clip(v, 100, 1.0f), n, 1e-12);
    assert_memory_equal(v, orig, sizeof v);
    /* Exactly at the clip: untouched too. */
    float w[2] = {3, 4};
    eai_dp_clip(w, 2, 5.0f);
    assert_true(w[0] == 3 && w[1] == 4);
}

static void test_clip_bad(void **state)
{
    (void)state;
    float v[3] = {1, NAN, 2};
    assert_true(isnan(eai_dp_clip(v, 3, 1.0f)));
    assert_true(v[0] == 0 && v[1] == 0 && v[2] == 0); /* unbounded update: dropped */
    float w[2] = {1, 1};
    eai_dp_clip(w, 2, 0.0f);
    assert_true(w[0] == 0 && w[1] == 0);
    float z[2] = {1, 1};
    eai_dp_clip(z, 2, -1.0f);
    assert_true(z[0] == 0 && z[1] == 0);
    assert_float_equal(eai_dp_clip(NULL, 0, 1.0f), 0.0, 0);
}

/* ---- Gaussian noise ---- */

static void test_gaussian_moments(void **state)
{
    (void)state;
    enum { N = 100000 };
    static float v[N];
    const double sigma = 2.0, off = 0.5;
    for (int i = 0; i < N; i++)
        v[i] = (float)off;
    eai_dp_gaussian(v, N, sigma, 7);
    double m = 0, m2 = 0, m4 = 0;
    int in1 = 0;
    for (int i = 0; i < N; i++)
        m += v[i] - off;
    m /= N;
    for (int i = 0; i < N; i++) {
        double d = v[i] - off - m;
        m2 += d * d;
        m4 += d * d * d * d;
        in1 += fabs(v[i] - off) <= sigma;
    }
    m2 /= N;
    m4 /= N;
    /* 5 standard errors: mean sigma/sqrt(N), variance sigma^2 sqrt(2/N). */
    assert_true(fabs(m) < 5 * sigma / sqrt(N));
    assert_true(fabs(m2 - sigma * sigma) < 5 * sigma * sigma * sqrt(2.0 / N));
    /* Gaussian shape: kurtosis 3 (se sqrt(24/N)), P(|z| <= 1) = 0.682689. */
    assert_true(fabs(m4 / (m2 * m2) - 3.0) < 5 * sqrt(24.0 / N));
    double p = 0.682689492137;
    assert_true(fabs((double)in1 / N - p) < 5 * sqrt(p * (1 - p) / N));
}

static void test_gaussian_reproducible(void **state)
{
    (void)state;
    enum { N = 1001 };
    static float a[N], b[N], c[N];
    eai_dp_gaussian(a, N, 1.5, 99);
    eai_dp_gaussian(b, N, 1.5, 99);
    eai_dp_gaussian(c, N, 1.5, 100);
    assert_memory_equal(a, b, sizeof a);
    int same = 0;
    for (int i = 0; i < N; i++)
        same += a[i] == c[i];
    assert_true(same < 5);
    /* The stream itself: xoshiro256** + polar from scripts/rdp_reference.py. */
    static const double ref[8] = {REF_NORMALS_SEED42};
    float z[8] = {0};
    eai_dp_gaussian(z, 8, 1.0, 42);
    for (int i = 0; i < 8; i++)
        assert_float_equal(z[i], ref[i], 1e-6);
}

static void test_gaussian_bad_sigma(void **state)
{
    (void)state;
    float v[4] = {1, 2, 3, 4};
    eai_dp_gaussian(v, 4, 0.0, 1);
    assert_true(v[0] == 1 && v[3] == 4);
    eai_dp_gaussian(v, 4, -1.0, 1);
    for (int i = 0; i < 4; i++)
        assert_true(isnan(v[i]));
    float w[2] = {1, 2};
    eai_dp_gaussian(w, 2, NAN, 1);
    assert_true(isnan(w[0]) && isnan(w[1]));
}

/* ---- RDP accountant ---- */

static void test_rdp_order_reference(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof order_ref / sizeof *order_ref; i++) {
        const order_ref_t *r = &order_ref[i];
        double got = eai__rdp_order(r->q, r->sigma, r->alpha);
        if (!(fabs(got - r->rdp) <= 1e-7 * r->rdp))
            fail_msg("q=%g sigma=%g alpha=%g: rdp %.17g, reference %.17g", r->q, r->sigma, r->alpha,
                     got, r->rdp);
    }
}

static void test_rdp_epsilon_reference(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof eps_ref / sizeof *eps_ref; i++) {
        const eps_ref_t *r = &eps_ref[i];
        double c =
            eai__rdp_epsilon_conv(r->q, r->sigma, r->steps, r->delta, EAI__RDP_CONV_CLASSIC, NULL);
        double e = eai_rdp_epsilon(r->q, r->sigma, r->steps, r->delta);
        if (!(fabs(c - r->eps_classic) <= 1e-7 * r->eps_classic) ||
            !(fabs(e - r->eps_improved) <= 1e-7 * r->eps_improved))
            fail_msg("q=%g sigma=%g steps=%lld: eps %.12g / %.12g, reference %.12g / %.12g", r->q,
                     r->sigma, (long long)r->steps, c, e, r->eps_classic, r->eps_improved);
        assert_true(e <= c); /* the improved conversion is tighter */
    }
}

/* TF Privacy tutorials/README.md: MNIST, N = 60000, batch 256, delta 1e-5,
 * printed with two decimals by compute_dp_sgd_privacy (classic conversion). */
static void test_rdp_published_tf_privacy(void **state)
{
    (void)state;
    const double q = 256.0 / 60000;
    struct {
        double sigma;
        int epochs;
        double eps;
    } t[] = {{1.3, 15, 1.19}, {1.1, 60, 3.01}, {0.7, 45, 7.10}};
    for (int i = 0; i < 3; i++) {
        int64_t steps = (int64_t)ceil(t[i].epochs * 60000.0 / 256);
        double e = eai__rdp_epsilon_conv(q, t[i].sigma, steps, 1e-5, EAI__RDP_CONV_CLASSIC, NULL);
        if (fabs(e - t[i].eps) > 0.005)
            fail_msg("sigma %g, %d epochs: eps %.4f, published %.2f", t[i].sigma, t[i].epochs, e,
                     t[i].eps);
    }
}

static void test_rdp_q1_closed_form(void **state)
{
    (void)state;
    const double sigma = 3.0, delta = 1e-5;
    const int64_t steps = 20;
    for (int k = 0; k < EAI__RDP_N_ORDERS; k++) {
        double a = eai__rdp_order_at(k);
        assert_float_equal(eai__rdp_order(1.0, sigma, a), a / (2 * sigma * sigma), 1e-15);
    }
    /* eps = min over orders of T a / (2 s^2) + log1p(-1/a) - (log d + log a) / (a - 1). */
    double best = INFINITY;
    for (int k = 0; k < EAI__RDP_N_ORDERS; k++) {
        double a = eai__rdp_order_at(k);
        double e =
            steps * a / (2 * sigma * sigma) + log1p(-1 / a) - (log(delta) + log(a)) / (a - 1);
        if (e < best) best = e;
    }
    assert_float_equal(eai_rdp_epsilon(1.0, sigma, steps, delta), best, 1e-12);
    /* And the orders list is Opacus's: 1.1 .. 10.9, then 12 .. 63. */
    assert_float_equal(eai__rdp_order_at(0), 1.1, 1e-15);
    assert_float_equal(eai__rdp_order_at(98), 10.9, 1e-15);
    assert_float_equal(eai__rdp_order_at(99), 12, 0);
    assert_float_equal(eai__rdp_order_at(150), 63, 0);
}

static void test_rdp_monotonic(void **state)
{
    (void)state;
    double prev = 0;
    for (int64_t steps = 1; steps <= 100000; steps *= 4) {
        double e = eai_rdp_epsilon(0.05, 1.2, steps, 1e-5);
        assert_true(e > prev);
        prev = e;
    }
    prev = INFINITY;
    for (double sigma = 0.6; sigma < 20; sigma *= 1.3) {
        double e = eai_rdp_epsilon(0.05, sigma, 500, 1e-5);
        assert_true(e < prev);
        prev = e;
    }
    /* More sampling costs more privacy; smaller delta costs more epsilon. */
    assert_true(eai_rdp_epsilon(0.02, 1, 100, 1e-5) < eai_rdp_epsilon(0.2, 1, 100, 1e-5));
    assert_true(eai_rdp_epsilon(0.1, 1, 100, 1e-7) > eai_rdp_epsilon(0.1, 1, 100, 1e-5));
}

static void test_rdp_sigma_for(void **state)
{
    (void)state;
    struct {
        double q;
        int64_t steps;
        double delta, eps;
    } t[] = {{0.1, 100, 1e-5, 1.0},
             {0.1, 100, 1e-5, 8.0},
             {0.01, 5000, 1e-6, 2.0},
             {1.0, 10, 1e-5, 3.0},
             {0.3, 50, 1e-5, 0.5}};
    for (int i = 0; i < 5; i++) {
        double s = eai_rdp_sigma_for(t[i].q, t[i].steps, t[i].delta, t[i].eps);
        assert_true(s > 0 && isfinite(s));
        double e = eai_rdp_epsilon(t[i].q, s, t[i].steps, t[i].delta);
        assert_true(e <= t[i].eps);
        assert_true(e > t[i].eps * (1 - 1e-3));
        assert_true(eai_rdp_epsilon(t[i].q, s * (1 - 1e-4), t[i].steps, t[i].delta) > e);
    }
    /* Round trip from the other side: sigma -> eps -> sigma. */
    double e = eai_rdp_epsilon(0.1, 1.37, 200, 1e-5);
    assert_float_equal(eai_rdp_sigma_for(0.1, 200, 1e-5, e), 1.37, 1e-4);
}

static void test_rdp_bad_args(void **state)
{
    (void)state;
    assert_true(isnan(eai_rdp_epsilon(-0.1, 1, 10, 1e-5)));
    assert_true(isnan(eai_rdp_epsilon(1.5, 1, 10, 1e-5)));
    assert_true(isnan(eai_rdp_epsilon(0.1, -1, 10, 1e-5)));
    assert_true(isnan(eai_rdp_epsilon(0.1, 1, -1, 1e-5)));
    assert_true(isnan(eai_rdp_epsilon(0.1, 1, 10, 0)));
    assert_true(isnan(eai_rdp_epsilon(0.1, 1, 10, 1)));
    assert_true(isnan(eai_rdp_epsilon(NAN, 1, 10, 1e-5)));
    assert_true(eai_rdp_epsilon(0, 1, 10, 1e-5) == 0);
    assert_true(eai_rdp_epsilon(0.1, 1, 0, 1e-5) == 0);
    assert_true(isinf(eai_rdp_epsilon(0.1, 0, 10, 1e-5)));
    assert_true(isnan(eai_rdp_sigma_for(0.1, 10, 1e-5, 0)));
    assert_true(isnan(eai_rdp_sigma_for(0.1, 10, 1e-5, -1)));
    assert_true(eai_rdp_sigma_for(0, 10, 1e-5, 1) == 0);
    assert_true(isnan(eai__rdp_order(0.1, 1, 1.0)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clip_hand),
        cmocka_unit_test(test_clip_scales_down),
        cmocka_unit_test(test_clip_untouched_below),
        cmocka_unit_test(test_clip_bad),
        cmocka_unit_test(test_gaussian_moments),
        cmocka_unit_test(test_gaussian_reproducible),
        cmocka_unit_test(test_gaussian_bad_sigma),
        cmocka_unit_test(test_rdp_order_reference),
        cmocka_unit_test(test_rdp_epsilon_reference),
        cmocka_unit_test(test_rdp_published_tf_privacy),
        cmocka_unit_test(test_rdp_q1_closed_form),
        cmocka_unit_test(test_rdp_monotonic),
        cmocka_unit_test(test_rdp_sigma_for),
        cmocka_unit_test(test_rdp_bad_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
