/* Importing an already-quantized model in ONNX QDQ form
 * (tests/quant/fixtures/qdq_small.onnx, made by scripts/make_qdq_fixture.py:
 * QuantizeLinear/DequantizeLinear pairs around Conv, Relu, MaxPool, Add,
 * GlobalAveragePool, Gemm, with int8 per-channel weights): edgeai must give
 * the logits numpy computed from the same graph, on every backend. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "edgeai/edgeai.h"

#define FIX EAI_SOURCE_DIR "/tests/quant/fixtures/"

static void check(eai_status_t st, const char *what)
{
    if (st != EAI_OK) fail_msg("%s: %s: %s", what, eai_status_str(st), eai_last_error());
}

static void run_on(const char *backend, const eai_model_opts_t *mo)
{
    eai_model_t *m;
    check(eai_model_load(FIX "qdq_small.onnx", mo, &m), "qdq_small.onnx");
    eai_npy_t x, want;
    check(eai_npy_read(FIX "qdq_small.input.npy", &x), "input");
    check(eai_npy_read(FIX "qdq_small.output.npy", &want), "output");
    eai_session_opts_t o = {.backend = backend};
    eai_session_t *s;
    check(eai_session_create(m, &o, &s), "session");
    check(eai_session_set_input(s, 0, x.data, x.n_bytes), "set input");
    check(eai_session_invoke(s), "invoke");
    const float *y;
    eai_tensor_info_t info;
    check(eai_session_get_output(s, 0, (const void **)&y, &info), "output");
    assert_int_equal(eai_tensor_info_numel(&info), 5);
    const float *w = want.data;
    /* float math between the Q/DQ pairs: only summation order differs */
    for (int i = 0; i < 5; i++)
        if (fabsf(y[i] - w[i]) > 1e-4f)
            fail_msg("%s: logit %d is %g, numpy says %g", backend ? backend : "default", i, y[i],
                     w[i]);
    eai_session_destroy(s);
    eai_npy_free(&x);
    eai_npy_free(&want);
    eai_model_destroy(m);
}

static void test_qdq_import(void **state)
{
    run_on("ref", NULL);
    run_on(NULL, NULL);
    /* as the file says, without the load-time passes (DQ of the weights
     * then runs in invoke instead of being folded) */
    eai_model_opts_t raw = {.no_optimize = true};
    run_on("ref", &raw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_qdq_import)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
