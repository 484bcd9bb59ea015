/* End to end on the bundled demo classifier (models/fashion/, trained by
 * scripts/train_fashion.py on real Fashion-MNIST): 256 test images through
 * edgeai must give PyTorch's logits (max abs error <= 1e-4 * max |ref|), the
 * same top-1 class for every image, and therefore the same accuracy against
 * the true labels. The expected values all come from the fixture files. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edgeai/edgeai.h"

#define DIR     EAI_SOURCE_DIR "/models/fashion/"
#define BATCH   256
#define CLASSES 10

typedef struct fixture {
    eai_model_t *model;
    eai_session_t *sess;
    eai_npy_t batch, labels, ref;
} fixture_t;

static void check(eai_status_t st, const char *what)
{
    if (st != EAI_OK) fail_msg("%s: %s: %s", what, eai_status_str(st), eai_last_error());
}

static void check_dims(const eai_npy_t *a, eai_dtype_t dt, int rank, const int64_t *dims,
                       const char *name)
{
    if (a->dtype != dt || a->rank != rank)
        fail_msg("%s: %s rank %d, expected %s rank %d", name, eai_dtype_name(a->dtype), a->rank,
                 eai_dtype_name(dt), rank);
    for (int d = 0; d < rank; d++)
        if (a->dims[d] != dims[d])
            fail_msg("%s: dim %d is %lld, expected %lld", name, d, (long long)a->dims[d],
                     (long long)dims[d]);
}

static int argmax(const float *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    check(eai_npy_read(DIR "test_batch.npy", &f->batch), "test_batch.npy");
    check(eai_npy_read(DIR "test_labels.npy", &f->labels), "test_labels.npy");
    check(eai_npy_read(DIR "torch_logits.npy", &f->ref), "torch_logits.npy");
    check_dims(&f->batch, EAI_F32, 4, (const int64_t[]){BATCH, 1, 28, 28}, "test_batch.npy");
    check_dims(&f->labels, EAI_I64, 1, (const int64_t[]){BATCH}, "test_labels.npy");
    check_dims(&f->ref, EAI_F32, 2, (const int64_t[]){BATCH, CLASSES}, "torch_logits.npy");
    check(eai_model_load(DIR "fashion_cnn.onnx", NULL, &f->model), "fashion_cnn.onnx");
    eai_session_opts_t o = {.batch = BATCH};
    check(eai_session_create(f->model, &o, &f->sess), "session (batch 256)");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    if (!f) return 0;
    eai_session_destroy(f->sess);
    eai_model_destroy(f->model);
    eai_npy_free(&f->batch);
    eai_npy_free(&f->labels);
    eai_npy_free(&f->ref);
    free(f);
    return 0;
}

/* Runs the 256-image batch; returns the session's logits [256, 10]. */
static const float *run_batch(fixture_t *f)
{
    check(eai_session_set_input(f->sess, 0, f->batch.data, f->batch.n_bytes), "set_input");
    check(eai_session_invoke(f->sess), "invoke");
    const void *out;
    eai_tensor_info_t info;
    check(eai_session_get_output(f->sess, 0, &out, &info), "get_output");
    assert_int_equal(info.dtype, EAI_F32);
    assert_int_equal(info.rank, 2);
    assert_int_equal(info.dims[0], BATCH);
    assert_int_equal(info.dims[1], CLASSES);
    return out;
}

static void test_io_shapes(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(eai_session_n_inputs(f->sess), 1);
    assert_int_equal(eai_session_n_outputs(f->sess), 1);
    eai_tensor_info_t in, out;
    check(eai_session_input_info(f->sess, 0, &in), "input_info");
    check(eai_session_output_info(f->sess, 0, &out), "output_info");
    assert_string_equal(in.name, "image");
    assert_string_equal(out.name, "logits");
    assert_int_equal(in.rank, 4);
    assert_int_equal(in.dims[0], BATCH); /* the dynamic batch bound by the session */
    assert_int_equal(in.dims[1], 1);
    assert_int_equal(in.dims[2], 28);
    assert_int_equal(in.dims[3], 28);
    /* The model itself keeps N symbolic (-1). */
    eai_tensor_info_t min;
    check(eai_model_input_info(f->model, 0, &min), "model input_info");
    assert_int_equal(min.dims[0], -1);
}

static void test_logits_match_torch(void **state)
{
    fixture_t *f = *state;
    const float *got = run_batch(f);
    const float *ref = f->ref.data;
    float max_ref = 0, max_err = 0;
    int worst = 0;
    for (int i = 0; i < BATCH * CLASSES; i++) {
        max_ref = fmaxf(max_ref, fabsf(ref[i]));
        float e = fabsf(got[i] - ref[i]);
        if (!(e <= max_err)) { /* NaN counts as the worst */
            max_err = isnan(e) ? INFINITY : e;
            worst = i;
        }
    }
    printf("logits: max |ref| %.4f, max abs err %.3g at image %d class %d (%.6f vs %.6f)\n",
           max_ref, max_err, worst / CLASSES, worst % CLASSES, got[worst], ref[worst]);
    assert_true(max_ref > 0);
    if (!(max_err <= 1e-4f * max_ref))
        fail_msg("max abs err %g > 1e-4 * max|ref| = %g", max_err, 1e-4 * max_ref);
}

static void test_top1_and_accuracy(void **state)
{
    fixture_t *f = *state;
    const float *got = run_batch(f);
    const float *ref = f->ref.data;
    const int64_t *y = f->labels.data;
    int agree = 0, ours = 0, torch = 0;
    for (int i = 0; i < BATCH; i++) {
        int a = argmax(got + i * CLASSES, CLASSES), b = argmax(ref + i * CLASSES, CLASSES);
        if (a != b)
            printf("image %d: edgeai says %d, PyTorch %d (label %lld)\n", i, a, b, (long long)y[i]);
        agree += a == b;
        ours += a == y[i];
        torch += b == y[i];
    }
    printf("top-1: %d/%d agree with PyTorch; accuracy edgeai %d/%d, PyTorch %d/%d\n", agree, BATCH,
           ours, BATCH, torch, BATCH);
    assert_int_equal(agree, BATCH);
    assert_int_equal(ours, torch);
    /* A sanity floor that catches a fixture/label mix-up: the model scores
     * ~90% on the full test set (models/fashion/README.md). */
    assert_true(torch > BATCH * 8 / 10);
}

/* The same model at batch 1 (another session on the same model) gives row k
 * of the batched result: batching must not change a single image's answer. */
static void test_batch1_matches_rows(void **state)
{
    fixture_t *f = *state;
    eai_session_t *s1;
    eai_session_opts_t o = {.batch = 1};
    check(eai_session_create(f->model, &o, &s1), "session (batch 1)");
    const float *ref = f->ref.data;
    const size_t img_bytes = 28 * 28 * sizeof(float);
    const int picks[] = {0, 1, 77, 255};
    for (size_t k = 0; k < sizeof picks / sizeof picks[0]; k++) {
        int i = picks[k];
        check(eai_session_set_input(s1, 0, (const char *)f->batch.data + (size_t)i * img_bytes,
                                    img_bytes),
              "set_input (batch 1)");
        check(eai_session_invoke(s1), "invoke (batch 1)");
        const void *out;
        eai_tensor_info_t info;
        check(eai_session_get_output(s1, 0, &out, &info), "get_output (batch 1)");
        assert_int_equal(info.dims[0], 1);
        float max_ref = 0;
        for (int c = 0; c < CLASSES; c++)
            max_ref = fmaxf(max_ref, fabsf(ref[i * CLASSES + c]));
        for (int c = 0; c < CLASSES; c++) {
            float e = fabsf(((const float *)out)[c] - ref[i * CLASSES + c]);
            if (!(e <= 1e-4f * max_ref)) /* also catches NaN */
                fail_msg("image %d class %d at batch 1: abs err %g > %g", i, c, e, 1e-4 * max_ref);
        }
    }
    eai_session_destroy(s1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_io_shapes),
        cmocka_unit_test(test_logits_match_torch),
        cmocka_unit_test(test_top1_and_accuracy),
        cmocka_unit_test(test_batch1_matches_rows),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
