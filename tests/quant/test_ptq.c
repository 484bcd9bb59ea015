/* INT8 post-training quantization end to end, on models with real trained
 * weights and real images:
 *   - models/fashion/fashion_cnn.onnx (trained by scripts/train_fashion.py),
 *     calibrated on 200 Fashion-MNIST *training* images
 *     (tests/quant/fixtures/fashion_calib.npy, scripts/make_quant_fixtures.py)
 *     and evaluated by eai_build on 1000 held-out *test* images
 *     (tests/quant/fixtures/fashion_eval.npy): top-1 agreement with FP32
 *     >= 99% (min-max and percentile calibration; entropy, measured weaker on
 *     these small models, >= 97%);
 *   - tests/quant/fixtures/fashion_mbnet.onnx (MobileNet-style blocks:
 *     depthwise, residual Add, HardSwish, squeeze-excite; trained by
 *     scripts/train_quant_mobilenet.py), same sets, same bar;
 * plus the input-set loaders against PyTorch-made fixtures and the range
 * methods on histograms whose answers are known. */
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

#include "edgeai/edgeai.h"
#include "quant/quant_impl.h"

#define FASHION EAI_SOURCE_DIR "/models/fashion/"
#define FIX     EAI_SOURCE_DIR "/tests/quant/fixtures/"

static void check(eai_status_t st, const char *what)
{
    if (st != EAI_OK) fail_msg("%s: %s: %s", what, eai_status_str(st), eai_last_error());
}

static eai_build_opts_t fashion_opts(void)
{
    eai_build_opts_t o = {
        .int8 = true, .calib = FIX "fashion_calib.npy", .eval = FIX "fashion_eval.npy"};
    for (int c = 0; c < 3; c++)
        o.mean[c] = 0.2860f, o.std[c] = 0.3530f;
    return o;
}

static void count_op(const char *op, int n, void *user)
{
    if (strcmp(op, "QLinearConv") == 0) *(int *)user += n;
}

/* Builds `model` INT8 and checks the report; returns the built model. */
static eai_model_t *build_int8(const char *model, const eai_build_opts_t *o, double min_agree,
                               eai_build_report_t *rep)
{
    eai_model_t *m, *b;
    check(eai_model_load(model, NULL, &m), model);
    check(eai_build(m, o, &b, rep), "eai_build --int8");
    eai_model_destroy(m);
    print_message("%s: %d nodes quantized; %d eval inputs: top-1 agreement %.2f%%, max abs err "
                  "%.4g, mean abs err %.4g\n",
                  model, rep->quantized_nodes, rep->n_eval, 100 * rep->top1_agree, rep->max_abs_err,
                  rep->mean_abs_err);
    assert_int_equal(rep->n_eval, 1000);
    assert_true(rep->quantized_nodes > 0);
    int n_qconv = 0;
    eai_model_op_histogram(b, count_op, &n_qconv);
    assert_true(n_qconv > 0);
    if (rep->top1_agree < min_agree)
        fail_msg("top-1 agreement %.4f < %.2f", rep->top1_agree, min_agree);
    return b;
}

static void test_fashion_cnn_int8(void **state)
{
    eai_build_opts_t o = fashion_opts();
    eai_build_report_t rep;
    eai_model_t *b = build_int8(FASHION "fashion_cnn.onnx", &o, 0.99, &rep);
    /* the logits are O(10): a mean error this small means the int8 model
     * tracks the float one, not just its argmax */
    assert_true(rep.mean_abs_err < 0.2);
    /* the plan round-trips: saved, mapped back, same outputs */
    char path[] = "/tmp/eai_quant_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    check(eai_model_save(b, path), "save");
    eai_model_t *r;
    check(eai_model_load(path, NULL, &r), "reload");
    eai_npy_t x;
    check(eai_npy_read(FASHION "test_batch.npy", &x), "test_batch.npy");
    eai_session_t *s1, *s2;
    check(eai_session_create(b, NULL, &s1), "session");
    check(eai_session_create(r, NULL, &s2), "session (reloaded)");
    const size_t one = 28 * 28 * sizeof(float);
    check(eai_session_set_input(s1, 0, x.data, one), "input");
    check(eai_session_set_input(s2, 0, x.data, one), "input");
    check(eai_session_invoke(s1), "invoke");
    check(eai_session_invoke(s2), "invoke (reloaded)");
    const float *y1, *y2;
    check(eai_session_get_output(s1, 0, (const void **)&y1, NULL), "output");
    check(eai_session_get_output(s2, 0, (const void **)&y2, NULL), "output");
    assert_memory_equal(y1, y2, 10 * sizeof(float));
    eai_session_destroy(s1);
    eai_session_destroy(s2);
    eai_npy_free(&x);
    eai_model_destroy(r);
    eai_model_destroy(b);
    unlink(path);
}

/* The clipping methods on the same data: percentile reaches the same bar;
 * entropy (KL) clips harder and is held to the 97% it was measured above. */
static void test_fashion_cnn_methods(void **state)
{
    const eai_calib_method_t methods[] = {EAI_CALIB_PERCENTILE, EAI_CALIB_ENTROPY};
    const double bar[] = {0.99, 0.97};
    for (int i = 0; i < 2; i++) {
        eai_build_opts_t o = fashion_opts();
        o.calib_method = methods[i];
        eai_build_report_t rep;
        eai_model_destroy(build_int8(FASHION "fashion_cnn.onnx", &o, bar[i], &rep));
        eai_model_destroy(build_int8(FIX "fashion_mbnet.onnx", &o, bar[i], &rep));
    }
}

static void test_fashion_mbnet_int8(void **state)
{
    if (access(FIX "fashion_mbnet.onnx", R_OK) != 0)
        fail_msg("%s missing: run scripts/train_quant_mobilenet.py", FIX "fashion_mbnet.onnx");
    eai_build_opts_t o = fashion_opts();
    eai_build_report_t rep;
    eai_model_destroy(build_int8(FIX "fashion_mbnet.onnx", &o, 0.99, &rep));
}

/* ---- input sets ---- */

static void test_inputset_npy_pixels(void **state)
{
    eai_model_t *m;
    check(eai_model_load(FASHION "fashion_cnn.onnx", NULL, &m), "model");
    eai_build_opts_t o = fashion_opts();
    eai__inputset_t s;
    check(eai__inputset_load(m, FIX "fashion_calib.npy", 7, &o, &s), "calib set");
    assert_int_equal(s.n, 7);
    assert_int_equal(s.n_inputs, 1);
    assert_int_equal(s.bytes[0], 28 * 28 * sizeof(float));
    eai_npy_t raw;
    check(eai_npy_read(FIX "fashion_calib.npy", &raw), "raw");
    const uint8_t *px = raw.data;
    const float *f = s.data[6]; /* sample 6 = image 6 of the stack */
    for (int i = 0; i < 28 * 28; i++)
        assert_float_equal(f[i], ((float)px[6 * 784 + i] / 255.0f - 0.2860f) / 0.3530f, 1e-6);
    assert_non_null(strstr(s.source[6], "fashion_calib.npy[6]"));
    eai_npy_free(&raw);
    eai__inputset_free(&s);
    eai_model_destroy(m);
}

/* A folder of PNGs: samples/0000_ankle_boot.png is test image 0, which
 * PyTorch normalised into test_batch.npy[0]. */
static void test_inputset_images(void **state)
{
    eai_model_t *m;
    check(eai_model_load(FASHION "fashion_cnn.onnx", NULL, &m), "model");
    eai_build_opts_t o = fashion_opts();
    eai__inputset_t s;
    check(eai__inputset_load(m, FASHION "samples", 0, &o, &s), "samples folder");
    assert_int_equal(s.n, 10);
    assert_non_null(strstr(s.source[0], "0000_ankle_boot.png"));
    eai_npy_t ref;
    check(eai_npy_read(FASHION "test_batch.npy", &ref), "test_batch.npy");
    const float *a = s.data[0], *b = ref.data;
    for (int i = 0; i < 28 * 28; i++)
        assert_float_equal(a[i], b[i], 1e-5);
    eai_npy_free(&ref);
    eai__inputset_free(&s);
    eai_model_destroy(m);
}

static void test_inputset_errors(void **state)
{
    eai_model_t *m;
    check(eai_model_load(FASHION "fashion_cnn.onnx", NULL, &m), "model");
    eai__inputset_t s;
    assert_int_equal(eai__inputset_load(m, FIX "nope", 0, NULL, &s), EAI_E_IO);
    assert_non_null(strstr(eai_last_error(), "nope"));
    /* a list naming a file of the wrong size: the message names list and line */
    char list[] = "/tmp/eai_list_XXXXXX";
    int fd = mkstemp(list);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "# calibration\n%s\n", FASHION "torch_logits.npy");
    fclose(f);
    assert_int_equal(eai__inputset_load(m, list, 0, NULL, &s), EAI_E_FORMAT);
    assert_non_null(strstr(eai_last_error(), ":2:"));
    unlink(list);
    eai_model_destroy(m);
}

static void test_inputset_random(void **state)
{
    eai_model_t *m;
    check(eai_model_load(FASHION "fashion_cnn.onnx", NULL, &m), "model");
    eai__inputset_t a, b;
    check(eai__inputset_random(m, 3, 42, &a), "random");
    check(eai__inputset_random(m, 3, 42, &b), "random again");
    assert_memory_equal(a.data[2], b.data[2], a.bytes[0]);
    double sum = 0, sq = 0;
    const float *x = a.data[0];
    for (int i = 0; i < 784; i++)
        sum += x[i], sq += (double)x[i] * x[i];
    assert_true(fabs(sum / 784) < 0.15 && fabs(sq / 784 - 1) < 0.2); /* ~N(0, 1) */
    eai__inputset_free(&a);
    eai__inputset_free(&b);
    eai_model_destroy(m);
}

/* ---- range methods ---- */

static void test_ranges(void **state)
{
    eai__qrange_t r = eai__calib_minmax(0.5f, 3.0f);
    assert_true(r.valid && r.lo == 0.0f && r.hi == 3.0f); /* zero always inside */
    /* uniform magnitudes over [0, 8) in 8 bins: the 50th percentile is 4 */
    uint32_t h[8] = {10, 10, 10, 10, 10, 10, 10, 10};
    assert_float_equal(eai__calib_percentile(h, 8, 8, 50.0), 4.0f, 1e-6);
    assert_float_equal(eai__calib_percentile(h, 8, 8, 100.0), 8.0f, 1e-6);
    /* entropy: a bulk over the first 200 of 2048 bins plus one far outlier:
     * the threshold clips the outlier but keeps the bulk */
    static uint32_t g[2048];
    for (int b = 0; b < 2048; b++)
        g[b] = b < 200 ? 1000 - 4 * b : 0;
    g[2047] = 1;
    const float t = eai__calib_entropy(g, 2048, 10, 128);
    print_message("entropy threshold %g (bulk ends at %g, outlier at 10)\n", t, 200 * 10.0 / 2048);
    assert_true(t < 5.0f && t > 0.9f * 200 * 10.0f / 2048);
    /* a uniform distribution has nothing to clip */
    for (int b = 0; b < 2048; b++)
        g[b] = 100;
    assert_true(eai__calib_entropy(g, 2048, 10, 128) > 9.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inputset_npy_pixels),
        cmocka_unit_test(test_inputset_images),
        cmocka_unit_test(test_inputset_errors),
        cmocka_unit_test(test_inputset_random),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_fashion_cnn_int8),
        cmocka_unit_test(test_fashion_cnn_methods),
        cmocka_unit_test(test_fashion_mbnet_int8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
