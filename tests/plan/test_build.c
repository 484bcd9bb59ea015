/* eai_build: argument checks, the built model's independence from its source
 * (a mapped plan, unmapped right after the build), the report's node counts,
 * and the accuracy comparison checked against errors this test computes
 * itself from the two models' outputs. */
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

#include "build/build_impl.h"
#include "edgeai/edgeai.h"

#define FASHION EAI_SOURCE_DIR "/models/fashion/"

static void check(eai_status_t st, const char *what)
{
    if (st != EAI_OK) fail_msg("%s: %s: %s", what, eai_status_str(st), eai_last_error());
}

/* Output 0 for `n` samples of 1x1x28x28 starting at sample `first`. */
static float *run(const eai_model_t *m, const eai_npy_t *batch, int first, int n)
{
    size_t sample = 28 * 28 * sizeof(float);
    eai_session_opts_t o = {.batch = n};
    eai_session_t *s;
    check(eai_session_create(m, &o, &s), "session");
    check(eai_session_set_input(s, 0, (const char *)batch->data + (size_t)first * sample,
                                (size_t)n * sample),
          "set_input");
    check(eai_session_invoke(s), "invoke");
    const void *y;
    eai_tensor_info_t info;
    check(eai_session_get_output(s, 0, &y, &info), "output");
    float *copy = malloc((size_t)n * 10 * sizeof(float));
    assert_non_null(copy);
    memcpy(copy, y, (size_t)n * 10 * sizeof(float));
    eai_session_destroy(s);
    return copy;
}

static void test_bad_args(void **state)
{
    eai_model_t *m, *b = (eai_model_t *)&b;
    check(eai_model_load(FASHION "fashion_cnn.onnx", NULL, &m), "load");
    assert_int_equal(eai_build(NULL, NULL, &b, NULL), EAI_E_INVALID);
    assert_int_equal(eai_build(m, NULL, NULL, NULL), EAI_E_INVALID);
    assert_int_equal(eai_build(m, &(eai_build_opts_t){.backend = "nope"}, &b, NULL), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "unknown backend 'nope' (compiled in: "));
    assert_non_null(strstr(eai_last_error(), "ref"));
    assert_int_equal(eai_build(m, &(eai_build_opts_t){.int8 = true}, &b, NULL), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "calibration"));
    /* a calibration folder that is not there: an error naming it (whether
     * quantization is implemented or not), and *out untouched */
    eai_status_t st =
        eai_build(m, &(eai_build_opts_t){.int8 = true, .calib = "/nonexistent/calib"}, &b, NULL);
    assert_int_not_equal(st, EAI_OK);
    assert_non_null(strstr(eai_last_error(), "/nonexistent/calib"));
    assert_ptr_equal(b, (eai_model_t *)&b);
    eai_model_destroy(m);
}

/* The source is a mapped plan, destroyed (unmapped) before the built model
 * runs: a built model borrowing weights would read freed pages. */
static void test_independent_of_source(void **state)
{
    eai_model_t *onnx, *src, *b;
    eai_model_opts_t raw = {.no_optimize = true};
    check(eai_model_load(FASHION "fashion_cnn.onnx", &raw, &onnx), "load");
    char path[] = "/tmp/eai_build_src_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    check(eai_model_save(onnx, path), "save");
    check(eai_model_load(path, NULL, &src), "load plan");
    unlink(path);
    assert_non_null(src->map);
    eai_npy_t x;
    check(eai_npy_read(FASHION "test_batch.npy", &x), "batch");
    float *want = run(src, &x, 0, 16);
    eai_build_report_t rep;
    check(eai_build(src, NULL, &b, &rep), "build");
    eai_model_destroy(src);
    eai_model_destroy(onnx);
    for (int i = 0; i < b->g.n_values; i++)
        if (b->g.values[i].kind == EAI__V_CONST) assert_true(b->g.values[i].owns_data);
    float *got = run(b, &x, 0, 16);
    for (int i = 0; i < 160; i++)
        assert_float_equal(got[i], want[i], 1e-5 * (1 + fabs(want[i])));
    /* the report's node counts describe the two graphs */
    assert_int_equal(rep.nodes_before, 10); /* fashion_cnn.onnx as exported */
    assert_int_equal(rep.nodes_after, b->g.n_nodes);
    assert_true(rep.nodes_after <= rep.nodes_before);
    assert_false(b->fp16_weights);
    free(want);
    free(got);
    eai_npy_free(&x);
    eai_model_destroy(b);
}

static void progress(const char *stage, int done, int total, void *user)
{
    int *calls = user;
    assert_string_equal(stage, "evaluate");
    assert_true(done >= 1 && done <= total);
    calls[0]++;
    calls[1] = done;
}

/* eai__build_compare on 5 real samples: its numbers equal the errors this
 * test computes from the two models' own outputs. */
static void test_compare(void **state)
{
    eai_model_t *m, *b;
    check(eai_model_load(FASHION "fashion_cnn.onnx", NULL, &m), "load");
    check(eai_build(m, &(eai_build_opts_t){.fp16 = true}, &b, NULL), "build");
    eai_npy_t x;
    check(eai_npy_read(FASHION "test_batch.npy", &x), "batch");
    enum { N = 5 };
    void *data[N];
    size_t bytes[1] = {28 * 28 * sizeof(float)};
    for (int s = 0; s < N; s++)
        data[s] = (char *)x.data + (size_t)(40 + s) * bytes[0];
    eai__inputset_t set = {.n = N, .n_inputs = 1, .data = data, .bytes = bytes};
    int calls[2] = {0, 0};
    eai_build_opts_t o = {.progress = progress, .user = calls};
    eai_build_report_t rep;
    memset(&rep, 0, sizeof rep);
    check(eai__build_compare(m, b, NULL, &set, &o, &rep), "compare");
    assert_int_equal(calls[0], N);
    assert_int_equal(calls[1], N);

    float *ya = run(m, &x, 40, N), *yb = run(b, &x, 40, N);
    double max = 0, sum = 0;
    int agree = 0;
    for (int r = 0; r < N; r++) {
        int ia = 0, ib = 0;
        for (int k = 0; k < 10; k++) {
            double e = fabs((double)ya[r * 10 + k] - yb[r * 10 + k]);
            max = fmax(max, e);
            sum += e;
            if (ya[r * 10 + k] > ya[r * 10 + ia]) ia = k;
            if (yb[r * 10 + k] > yb[r * 10 + ib]) ib = k;
        }
        agree += ia == ib;
    }
    assert_int_equal(rep.n_eval, N);
    assert_true(max > 0); /* half weights do change the logits */
    assert_float_equal(rep.max_abs_err, max, 1e-6 * max);
    assert_float_equal(rep.mean_abs_err, sum / (N * 10), 1e-6 * max);
    assert_float_equal(rep.top1_agree, (double)agree / N, 1e-12);

    /* a sample set that does not fit the model */
    set.n_inputs = 2;
    assert_int_equal(eai__build_compare(m, b, NULL, &set, NULL, &rep), EAI_E_INVALID);
    free(ya);
    free(yb);
    eai_npy_free(&x);
    eai_model_destroy(b);
    eai_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_independent_of_source),
        cmocka_unit_test(test_compare),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
