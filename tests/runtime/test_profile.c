/* The per-kernel profile (eai_session_opts_t.profile): every kernel of a
 * real model gets a non-negative time, the times sum to no more than the
 * invokes' wall time, op types and backends are named, reset zeroes it, and
 * a session without the option refuses to report one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "edgeai/edgeai.h"

#define MODEL "models/cnn_small.onnx"

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* A session of MODEL on `backend` ("" = default) with all inputs set to a
 * fixed ramp. */
static eai_session_t *open_session(eai_model_t **m, const char *backend, bool profile)
{
    assert_int_equal(eai_model_load(MODEL, NULL, m), EAI_OK);
    eai_session_opts_t o = {.backend = backend, .profile = profile};
    eai_session_t *s = NULL;
    assert_int_equal(eai_session_create(*m, &o, &s), EAI_OK);
    for (int i = 0; i < eai_session_n_inputs(s); i++) {
        eai_tensor_info_t t;
        assert_int_equal(eai_session_input_info(s, i, &t), EAI_OK);
        assert_int_equal(t.dtype, EAI_F32);
        const int64_t n = eai_tensor_info_numel(&t);
        float *x = malloc((size_t)n * sizeof *x);
        assert_non_null(x);
        for (int64_t k = 0; k < n; k++)
            x[k] = (float)(k % 17) / 8.0f - 1.0f;
        assert_int_equal(eai_session_set_input(s, i, x, (size_t)n * sizeof *x), EAI_OK);
        free(x);
    }
    return s;
}

static void check_profile(const char *backend)
{
    eai_model_t *m;
    eai_session_t *s = open_session(&m, backend, true);
    assert_int_equal(eai_session_profile_runs(s), 0);
    const int runs = 5;
    const double t0 = now_ms();
    for (int r = 0; r < runs; r++)
        assert_int_equal(eai_session_invoke(s), EAI_OK);
    const double wall = now_ms() - t0;
    assert_int_equal(eai_session_profile_runs(s), runs);
    const int nk = eai_session_n_kernels(s);
    assert_true(nk > 0);
    double sum = 0;
    int n_conv = 0;
    for (int k = 0; k < nk; k++) {
        eai_kernel_profile_t p;
        assert_int_equal(eai_session_profile(s, k, &p), EAI_OK);
        assert_true(p.ms >= 0);
        assert_non_null(p.op);
        assert_true(strlen(p.op) > 0);
        assert_non_null(p.domain);
        assert_non_null(p.name);
        assert_non_null(p.backend);
        assert_true(strcmp(p.backend, "ref") == 0 || strcmp(p.backend, "xnnpack") == 0);
        n_conv += strstr(p.op, "Conv") != NULL;
        sum += p.ms;
    }
    /* cnn_small has convolutions; the timed kernels ran inside the invokes */
    assert_true(n_conv > 0);
    assert_true(sum > 0);
    assert_true(sum <= wall);
    eai_session_profile_reset(s);
    assert_int_equal(eai_session_profile_runs(s), 0);
    eai_kernel_profile_t p;
    assert_int_equal(eai_session_profile(s, 0, &p), EAI_OK);
    assert_true(p.ms == 0);
    /* bad input: out-of-range kernel index */
    assert_int_equal(eai_session_profile(s, nk, &p), EAI_E_INVALID);
    assert_int_equal(eai_session_profile(s, -1, &p), EAI_E_INVALID);
    eai_session_destroy(s);
    eai_model_destroy(m);
}

static void test_profile_ref(void **state)
{
    (void)state;
    check_profile("ref");
}

static void test_profile_default_backend(void **state)
{
    (void)state;
    check_profile("");
}

static void test_profile_off(void **state)
{
    (void)state;
    eai_model_t *m;
    eai_session_t *s = open_session(&m, "ref", false);
    assert_int_equal(eai_session_invoke(s), EAI_OK);
    eai_kernel_profile_t p;
    assert_int_equal(eai_session_profile(s, 0, &p), EAI_E_STATE);
    assert_int_equal(eai_session_profile_runs(s), 0);
    eai_session_profile_reset(s); /* a no-op, not a crash */
    eai_session_destroy(s);
    eai_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_ref),
        cmocka_unit_test(test_profile_default_backend),
        cmocka_unit_test(test_profile_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
