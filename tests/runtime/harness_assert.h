/* Assertions and data generators shared by the single-op tests
 * (tests/runtime/test_ops_*.c). Include after <cmocka.h> and
 * "runtime/harness.h":
 *
 *   TH_RUN_OK(&t, ((const void *[]){x}));
 *   th_assert_dims(&t, 0, 2, (int64_t[]){2, 3});
 *   th_assert_close(th_out_f32(&t, 0), want, 6, 1e-6f, 1e-6f);
 *
 * Everything is static inline so that a test file that uses only part of it
 * compiles without unused-function warnings.
 *
 * Tolerance rule (one for all files): element i passes when
 *     |got[i] - want[i]| <= atol + rtol * |want[i]|
 * (numpy.isclose's rule), evaluated in double so that the float rounding of
 * the difference or the bound cannot let an element through; a NaN on either
 * side fails. Each test passes the atol/rtol its arithmetic warrants: a
 * "tol * (1 + |want|)" check is atol = rtol = tol. */
#ifndef EAI_TEST_HARNESS_ASSERT_H
#define EAI_TEST_HARNESS_ASSERT_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/harness.h"

/* th_run that must succeed; on failure names the status and the message. */
#define TH_RUN_OK(t, in)                                                                           \
    do {                                                                                           \
        eai_status_t th_st_ = th_run((t), (in));                                                   \
        if (th_st_ != EAI_OK)                                                                      \
            fail_msg("th_run: %s: %s", eai_status_str(th_st_), eai_last_error());                  \
    } while (0)

/* Output i has exactly this rank and these dims. */
static inline void th_assert_dims(th_t *t, int i, int rank, const int64_t *dims)
{
    const eai_tensor_info_t *info = th_out_info(t, i);
    assert_int_equal(info->rank, rank);
    for (int k = 0; k < rank; k++)
        if (info->dims[k] != dims[k])
            fail_msg("dim %d: got %lld, want %lld", k, (long long)info->dims[k],
                     (long long)dims[k]);
}

/* th_prepare (load + session create) fails with exactly `want` and a message
 * containing `needle`. */
static inline void th_assert_error(th_t *t, eai_status_t want, const char *needle)
{
    eai_status_t st = th_prepare(t);
    if (st != want || !strstr(eai_last_error(), needle))
        fail_msg("got %s '%s', want %s containing '%s'", eai_status_str(st), eai_last_error(),
                 eai_status_str(want), needle);
}

/* th_run (through invoke) fails with exactly `want` and a message containing
 * `needle`: errors that only the data reveals. */
static inline void th_assert_run_error(th_t *t, const void *const *in, eai_status_t want,
                                       const char *needle)
{
    eai_status_t st = th_run(t, in);
    if (st != want || !strstr(eai_last_error(), needle))
        fail_msg("got %s '%s', want %s containing '%s'", eai_status_str(st), eai_last_error(),
                 eai_status_str(want), needle);
}

/* Bit-for-bit float equality (with ==: -0 equals 0, NaN never passes). */
static inline void th_assert_f32_exact(const float *got, const float *want, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (got[i] != want[i])
            fail_msg("element %lld: got %.9g, want %.9g", (long long)i, (double)got[i],
                     (double)want[i]);
}

static inline void th_assert_i64(const int64_t *got, const int64_t *want, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (got[i] != want[i])
            fail_msg("element %lld: got %lld, want %lld", (long long)i, (long long)got[i],
                     (long long)want[i]);
}

/* |got - want| <= atol + rtol * |want| per element (see the top comment). */
static inline void th_assert_close(const float *got, const float *want, int64_t n, float atol,
                                   float rtol)
{
    for (int64_t i = 0; i < n; i++) {
        double g = got[i], w = want[i];
        if (!(fabs(g - w) <= (double)atol + (double)rtol * fabs(w)))
            fail_msg("element %lld: got %.9g, want %.9g (atol %g, rtol %g)", (long long)i, g, w,
                     (double)atol, (double)rtol);
    }
}

static inline int64_t th_numel(const int64_t *dims, int rank)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    return n;
}

/* ((i * a + b) % m - m / 2) * 0.25, as gen.py's fill(): quarter-integers, so
 * sums of products stay exact in float. malloc'd; the caller frees. */
static inline float *th_fill(int64_t n, int a, int b, int m)
{
    float *v = malloc((size_t)n * sizeof(float));
    assert_non_null(v);
    for (int64_t i = 0; i < n; i++)
        v[i] = (float)(((i * a + b) % m) - m / 2) * 0.25f;
    return v;
}

/* Uniform in [-1, 1) from a 32-bit LCG (Numerical Recipes constants), so
 * runs are reproducible. malloc'd; the caller frees. */
static inline float *th_randv(int64_t n, uint32_t seed)
{
    float *v = malloc((size_t)n * sizeof(float));
    assert_non_null(v);
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        v[i] = (float)(seed >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
    }
    return v;
}

/* tests/runtime/harness.c's model constructor (src/runtime/model.c) */
eai_status_t eai__model_from_graph(eai__graph_t *g, eai_model_t **out);

/* th_run, but the session (made on first use) runs on `pool` (th_run makes
 * one without a pool). */
static inline eai_status_t th_run_pool(th_t *t, eai_threadpool_t *pool, const void *const *in)
{
    if (!t->model) EAI_TRY(eai__model_from_graph(&t->g, &t->model));
    eai_session_opts_t o = {.pool = pool, .backend = th_backend()};
    if (!t->sess) EAI_TRY(eai_session_create(t->model, &o, &t->sess));
    return th_run(t, in);
}

#endif
