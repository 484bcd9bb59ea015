/* Temperature scaling: the fit recovers a known temperature from synthetic
 * logits, ECE and NLL match hand-computed values, the calibration file
 * round-trips, and bad inputs fail with a message. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "edgeai/router.h"

static uint64_t rng_state;
static double uniform(void) /* splitmix64 -> [0, 1) */
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}
static double normal(void)
{
    double u = uniform(), v = uniform();
    return sqrt(-2 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

/* n rows of k logits ~ N(0, 3^2); labels drawn from softmax(z / t_true). */
static void synth(float *z, int32_t *y, int n, int k, double t_true, uint64_t seed)
{
    rng_state = seed;
    for (int i = 0; i < n; i++) {
        double p[16], s = 0, m = -1e300;
        for (int j = 0; j < k; j++) {
            z[i * k + j] = (float)(3 * normal());
            if (z[i * k + j] > m) m = z[i * k + j];
        }
        for (int j = 0; j < k; j++)
            s += p[j] = exp((z[i * k + j] - m) / t_true);
        double u = uniform() * s, c = 0;
        y[i] = (int32_t)(k - 1);
        for (int j = 0; j < k; j++)
            if ((c += p[j]) > u) {
                y[i] = j;
                break;
            }
    }
}

static void check_fit(double t_true, uint64_t seed)
{
    enum { N = 20000, K = 5 };
    float *z = malloc(sizeof(float) * N * K);
    int32_t *y = malloc(sizeof(int32_t) * N);
    synth(z, y, N, K, t_true, seed);
    float t = 0;
    assert_int_equal(eai_calib_fit_temperature(z, y, N, K, &t), EAI_OK);
    /* Maximum likelihood on 20k samples: within 5% of the truth. */
    assert_true(fabs(t - t_true) < 0.05 * t_true);
    /* And it is a minimum of the NLL: neighbours are no better. */
    double f0, fl, fh;
    assert_int_equal(eai_calib_nll(z, y, N, K, t, &f0), EAI_OK);
    assert_int_equal(eai_calib_nll(z, y, N, K, t * 0.97f, &fl), EAI_OK);
    assert_int_equal(eai_calib_nll(z, y, N, K, t * 1.03f, &fh), EAI_OK);
    assert_true(f0 <= fl && f0 <= fh);
    /* Calibrating a miscalibrated model must lower ECE. */
    float e1, et;
    assert_int_equal(eai_calib_ece(z, y, N, K, 1.0f, 15, &e1), EAI_OK);
    assert_int_equal(eai_calib_ece(z, y, N, K, t, 15, &et), EAI_OK);
    assert_true(et < e1);
    assert_true(et < 0.02f);
    free(z);
    free(y);
}

static void test_fit_t2(void **state)
{
    (void)state;
    check_fit(2.0, 11);
}

static void test_fit_t_half(void **state)
{
    (void)state;
    check_fit(0.5, 12);
}

/* Two samples, k = 2, T = 1: p = 0.75 (class 1, label 1: right) and
 * p = 0.9 (class 0, label 1: wrong). */
static const float tiny_z[4] = {0.0f, 1.0986123f /* ln 3 */, 2.1972246f /* ln 9 */, 0.0f};
static const int32_t tiny_y[2] = {1, 1};

static void test_ece_by_hand(void **state)
{
    (void)state;
    float e;
    /* 15 bins: 0.75 falls in (0.733, 0.8], 0.9 in (0.867, 0.933]:
     * 1/2 * |1 - 0.75| + 1/2 * |0 - 0.9| = 0.575. */
    assert_int_equal(eai_calib_ece(tiny_z, tiny_y, 2, 2, 1.0f, 15, &e), EAI_OK);
    assert_float_equal(e, 0.575f, 1e-5f);
    /* 0 bins means 15. */
    assert_int_equal(eai_calib_ece(tiny_z, tiny_y, 2, 2, 1.0f, 0, &e), EAI_OK);
    assert_float_equal(e, 0.575f, 1e-5f);
    /* One bin: |1/2 - (0.75 + 0.9)/2| = 0.325. */
    assert_int_equal(eai_calib_ece(tiny_z, tiny_y, 2, 2, 1.0f, 1, &e), EAI_OK);
    assert_float_equal(e, 0.325f, 1e-5f);
    /* T = 2 halves the logits: p = sqrt3/(1+sqrt3) = 0.63397, p = 3/4 = 0.75,
     * both in (0.6, 0.8] with 5 bins: |1/2 - 0.691987| = 0.191987. */
    assert_int_equal(eai_calib_ece(tiny_z, tiny_y, 2, 2, 2.0f, 5, &e), EAI_OK);
    assert_float_equal(e, 0.191987f, 1e-5f);
    double nll;
    assert_int_equal(eai_calib_nll(tiny_z, tiny_y, 2, 2, 1.0f, &nll), EAI_OK);
    assert_true(fabs(nll - (-log(0.75) - log(0.1)) / 2) < 1e-6);
}

static void test_bad_inputs(void **state)
{
    (void)state;
    float t = 7, e;
    int32_t bad_y[2] = {1, 2};
    float nan_z[4] = {0, NAN, 1, 0};
    assert_int_equal(eai_calib_fit_temperature(tiny_z, bad_y, 2, 2, &t), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "label 1 is 2"));
    assert_true(t == 7); /* untouched on failure */
    assert_int_equal(eai_calib_fit_temperature(tiny_z, tiny_y, 0, 2, &t), EAI_E_INVALID);
    assert_int_equal(eai_calib_fit_temperature(tiny_z, tiny_y, 2, 1, &t), EAI_E_INVALID);
    assert_int_equal(eai_calib_fit_temperature(nan_z, tiny_y, 2, 2, &t), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "not finite"));
    assert_int_equal(eai_calib_fit_temperature(NULL, tiny_y, 2, 2, &t), EAI_E_INVALID);
    assert_int_equal(eai_calib_ece(tiny_z, tiny_y, 2, 2, 0.0f, 15, &e), EAI_E_INVALID);
    assert_int_equal(eai_calib_ece(tiny_z, tiny_y, 2, 2, 1.0f, -3, &e), EAI_E_INVALID);
}

static void write_text(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(s, f);
    fclose(f);
}

static void test_file_roundtrip(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/tmp/eai_calib_%d.json", (int)getpid());
    assert_int_equal(eai_calib_save(path, 1.8765432f, 0.1f, 0.02f, 5000), EAI_OK);
    float t = 0;
    assert_int_equal(eai_calib_load(path, &t), EAI_OK);
    assert_true(t == 1.8765432f); /* %.9g round-trips a float exactly */
    FILE *f = fopen(path, "r");
    char buf[256] = {0};
    assert_true(fread(buf, 1, sizeof buf - 1, f) > 0);
    fclose(f);
    assert_non_null(strstr(buf, "\"ece_before\": 0.1"));
    assert_non_null(strstr(buf, "\"n\": 5000"));

    const char *bad[] = {"{\"temperature\": -1}", "{\"temp\": 2}", "not json",
                         "{\"temperature\": \"2\"}", "{\"temperature\": 0}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_text(path, bad[i]);
        t = 5;
        assert_int_equal(eai_calib_load(path, &t), EAI_E_FORMAT);
        assert_true(t == 5);
        assert_non_null(strstr(eai_last_error(), path));
    }
    remove(path);
    assert_int_equal(eai_calib_load(path, &t), EAI_E_IO);
    assert_int_equal(eai_calib_save("/nonexistent/dir/x.json", 1, 0, 0, 1), EAI_E_IO);
    assert_int_equal(eai_calib_save(path, -1, 0, 0, 1), EAI_E_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit_t2),         cmocka_unit_test(test_fit_t_half),
        cmocka_unit_test(test_ece_by_hand),    cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_file_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
