/* Shared by the XNNPACK backend tests (tests/runtime/test_xnnpack*.c): run a
 * harness graph on ref and on xnnpack with the same random inputs and compare
 * every output, checking that XNNPACK really ran the nodes (a silent
 * fallback to ref would make the comparison vacuous).
 *
 *   th_t t; th_begin(&t, 13); ... th_output(&t, y);
 *   xc_compare(&t, 1, 1e-4f, NULL);   // >= 1 kernel on xnnpack, atol = rtol = 1e-4
 *   th_end(&t);
 *
 * Include after <cmocka.h>. Tests skip when XNNPACK is not compiled in. */
#ifndef EAI_TEST_XNN_CMP_H
#define EAI_TEST_XNN_CMP_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/backend_impl.h"
#include "runtime/harness.h"
#include "runtime/harness_assert.h"

static inline bool xc_have_xnnpack(void)
{
    for (const char *const *n = eai_backend_names(); *n; n++)
        if (strcmp(*n, "xnnpack") == 0) return true;
    return false;
}

/* Skips the calling cmocka test when XNNPACK is not compiled in. */
#define XC_REQUIRE_XNNPACK()                                                                       \
    do {                                                                                           \
        if (!xc_have_xnnpack()) skip();                                                            \
    } while (0)

/* Sets the last node's domain (th_node makes default-domain nodes). */
static inline void xc_domain(th_t *t, const char *domain)
{
    eai__node_t *n = &t->g.nodes[t->g.n_nodes - 1];
    free(n->domain);
    n->domain = strdup(domain);
    assert_non_null(n->domain);
}

static inline eai_session_t *xc_session(th_t *t, const char *backend, eai_threadpool_t *pool,
                                        void **inputs, int seed)
{
    eai_session_opts_t o = {.backend = backend, .pool = pool};
    eai_session_t *s;
    eai_status_t st = eai_session_create(t->model, &o, &s);
    if (st != EAI_OK) fail_msg("%s session: %s: %s", backend, eai_status_str(st), eai_last_error());
    for (int i = 0; i < eai_session_n_inputs(s); i++) {
        eai_tensor_info_t info;
        assert_int_equal(eai_session_input_info(s, i, &info), EAI_OK);
        const int64_t n = eai_tensor_info_numel(&info);
        if (!inputs[i]) {
            assert_int_equal(info.dtype, EAI_F32);
            inputs[i] = th_randv(n, (uint32_t)(seed * 31 + i));
        }
        assert_int_equal(eai_session_set_input(s, i, inputs[i], (size_t)n * sizeof(float)), EAI_OK);
    }
    return s;
}

/* Runs t on ref and on xnnpack (with `pool`, may be NULL) with the same
 * random float inputs; every output must agree within atol + rtol * |ref|,
 * and at least `min_xnn` kernels must have run on xnnpack. The xnnpack
 * session is invoked twice: the second run must repeat the first exactly.
 * Returns the number of kernels that ran on xnnpack. */
static inline int xc_compare_tol(th_t *t, int min_xnn, float atol, float rtol,
                                 eai_threadpool_t *pool)
{
    if (!t->model) {
        eai_status_t st = eai__model_from_graph(&t->g, &t->model);
        if (st != EAI_OK) fail_msg("model: %s: %s", eai_status_str(st), eai_last_error());
    }
    void *inputs[8] = {0};
    eai_session_t *sr = xc_session(t, "ref", NULL, inputs, 7);
    eai_session_t *sx = xc_session(t, "xnnpack", pool, inputs, 7);
    assert_int_equal(eai_session_invoke(sr), EAI_OK);
    eai_status_t st = eai_session_invoke(sx);
    if (st != EAI_OK) fail_msg("xnnpack invoke: %s: %s", eai_status_str(st), eai_last_error());
    const int n_xnn = eai__session_n_on(sx, "xnnpack");
    if (n_xnn < min_xnn)
        fail_msg("%d kernels ran on xnnpack, expected at least %d", n_xnn, min_xnn);
    for (int o = 0; o < eai_session_n_outputs(sr); o++) {
        const float *a, *b;
        eai_tensor_info_t ia, ib;
        assert_int_equal(eai_session_get_output(sr, o, (const void **)&a, &ia), EAI_OK);
        assert_int_equal(eai_session_get_output(sx, o, (const void **)&b, &ib), EAI_OK);
        assert_int_equal(ia.rank, ib.rank);
        for (int d = 0; d < ia.rank; d++)
            assert_int_equal(ia.dims[d], ib.dims[d]);
        const int64_t n = eai_tensor_info_numel(&ia);
        float *first = malloc((size_t)n * sizeof(float) + 1);
        assert_non_null(first);
        memcpy(first, b, (size_t)n * sizeof(float));
        th_assert_close(b, a, n, atol, rtol);
        assert_int_equal(eai_session_invoke(sx), EAI_OK);
        assert_int_equal(eai_session_get_output(sx, o, (const void **)&b, NULL), EAI_OK);
        th_assert_f32_exact(b, first, n);
        free(first);
    }
    eai_session_destroy(sr);
    eai_session_destroy(sx);
    for (int i = 0; i < 8; i++)
        free(inputs[i]);
    return n_xnn;
}

static inline int xc_compare(th_t *t, int min_xnn, float tol, eai_threadpool_t *pool)
{
    return xc_compare_tol(t, min_xnn, tol, tol, pool);
}

#endif
