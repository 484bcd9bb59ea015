/* The trainer on several threads: kernels split over the batch (Conv, Gemm,
 * Relu, the pools) must give what the single-thread path gives, up to the
 * summation order of Conv's weight and bias gradients (summed per thread,
 * then in thread order), and the same bits on every run with the same
 * thread count.
 *
 * The single-thread path is the reference: it is the one the gradient
 * checks (test_grad_*.c) and the PyTorch step tables (test_trainer.c) test.
 *
 * Tolerance: a reordered float sum of n terms moves by at most about
 * n * eps * sum|terms|, a loose bound over the ~10^4 terms of a conv weight
 * gradient; rounding errors in practice add up like a random walk,
 * sqrt(n) * eps ~ 100 eps. We allow 1e-5 of the tensor's largest magnitude
 * (~80 eps); what this split gives is ~5e-7 (4 eps). A real split bug (a
 * sample dropped or counted twice, a race on a partial) moves gradients by
 * ~1/batch = 2e-2 of that scale or more, far outside it
 * (test_tolerance_catches_a_dropped_sample checks that the test can fail).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edgeai/edgeai.h"
#include "runtime/harness.h"

#define CNN     EAI_SOURCE_DIR "/models/train/cnn_fmnist.onnx"
#define BATCH   64
#define REL_TOL 1e-5

static uint64_t rng = 99;
static float urand(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rng >> 40) * (1.0 / 16777216.0));
}

/* ---- captured gradients (the hook runs after backward) ---- */
typedef struct grabbed {
    float *g;
    size_t n;
} grabbed_t;

static void grab(void *user, const float *params, float *grads, size_t n)
{
    (void)params;
    grabbed_t *gb = user;
    gb->n = n;
    memcpy(gb->g, grads, n * sizeof(float));
}

/* Per tensor: max |a - b| <= REL_TOL * max |a| (plus a floor for all-zero
 * tensors). Returns the worst ratio seen so the caller can assert either way. */
static double worst_ratio(const eai_trainer_t *t, const float *a, const float *b, bool trainable)
{
    double worst = 0;
    for (int i = 0; i < eai_trainer_n_tensors(t); i++) {
        eai_param_info_t pi;
        assert_int_equal(eai_trainer_tensor_info(t, i, &pi), EAI_OK);
        if (trainable && !pi.trainable) continue;
        double scale = 0, diff = 0;
        for (size_t k = pi.offset; k < pi.offset + pi.count; k++) {
            scale = fmax(scale, fabs(a[k]));
            diff = fmax(diff, fabs((double)a[k] - b[k]));
        }
        double r = diff / (scale > 1e-20 ? scale : 1e-20);
        if (r > worst) worst = r;
    }
    return worst;
}

static float xs[BATCH * 784];
static int32_t ys[BATCH];

static void make_data(void)
{
    rng = 99;
    for (int i = 0; i < BATCH * 784; i++)
        xs[i] = urand();
    for (int i = 0; i < BATCH; i++)
        ys[i] = i % 10;
}

static eai_trainer_t *load_cnn(int threads, eai_threadpool_t *pool)
{
    eai_trainer_opts_t o = {
        .batch = BATCH, .optim = {.lr = 0.05f, .momentum = 0.9f}, .threads = threads, .pool = pool};
    eai_trainer_t *t;
    assert_int_equal(eai_trainer_load(CNN, &o, &t), EAI_OK);
    return t;
}

/* One step's gradients at 1 and 2 threads, full and odd batches (an odd
 * count splits unevenly, 1 sample leaves a thread empty). */
static void test_grads_1_vs_2(void **state)
{
    (void)state;
    make_data();
    eai_trainer_t *t1 = load_cnn(1, NULL), *t2 = load_cnn(2, NULL);
    size_t n = eai_trainer_n_trainable(t1);
    grabbed_t g1 = {malloc(n * sizeof(float)), 0}, g2 = {malloc(n * sizeof(float)), 0};
    eai_trainer_set_grad_hook(t1, grab, &g1);
    eai_trainer_set_grad_hook(t2, grab, &g2);
    const int counts[] = {BATCH, 37, 1};
    for (int c = 0; c < 3; c++) {
        eai_trainer_set_params(t2, eai_trainer_params(t1));
        eai_step_result_t r1, r2;
        assert_int_equal(eai_trainer_step(t1, xs, ys, counts[c], &r1), EAI_OK);
        assert_int_equal(eai_trainer_step(t2, xs, ys, counts[c], &r2), EAI_OK);
        assert_int_equal(g1.n, n);
        assert_int_equal(g2.n, n);
        /* the forward pass splits without changing any sum */
        assert_float_equal(r1.loss, r2.loss, 1e-6 * fabs(r1.loss));
        assert_int_equal(r1.correct, r2.correct);
        double w = worst_ratio(t1, g1.g, g2.g, true);
        print_message("batch %d: worst |g1-g2| / max|g1| = %.3g\n", counts[c], w);
        assert_true(w <= REL_TOL);
    }
    free(g1.g);
    free(g2.g);
    eai_trainer_destroy(t1);
    eai_trainer_destroy(t2);
}

/* Weights after a few SGD-momentum steps stay within the tolerance. */
static void test_steps_1_vs_2(void **state)
{
    (void)state;
    make_data();
    eai_trainer_t *t1 = load_cnn(1, NULL), *t2 = load_cnn(2, NULL);
    for (int s = 0; s < 4; s++) {
        assert_int_equal(eai_trainer_step(t1, xs, ys, BATCH - 7 * s, NULL), EAI_OK);
        assert_int_equal(eai_trainer_step(t2, xs, ys, BATCH - 7 * s, NULL), EAI_OK);
    }
    double w = worst_ratio(t1, eai_trainer_params(t1), eai_trainer_params(t2), false);
    print_message("after 4 steps: worst |w1-w2| / max|w1| = %.3g\n", w);
    assert_true(w <= REL_TOL);
    float o1[BATCH * 10], o2[BATCH * 10];
    assert_int_equal(eai_trainer_eval(t1, xs, ys, BATCH, NULL, o1), EAI_OK);
    assert_int_equal(eai_trainer_eval(t2, xs, ys, BATCH, NULL, o2), EAI_OK);
    for (int i = 0; i < BATCH * 10; i++)
        assert_float_equal(o1[i], o2[i], 1e-4);
    eai_trainer_destroy(t1);
    eai_trainer_destroy(t2);
}

/* Same thread count, same bits: the partial sums are added in thread order,
 * not in the order threads finish. A borrowed pool of 2 and the trainer's
 * own pool of 2 are the same split. */
static void run_steps(eai_trainer_t *t, float *out)
{
    for (int s = 0; s < 5; s++)
        assert_int_equal(eai_trainer_step(t, xs, ys, BATCH - 5 * s, NULL), EAI_OK);
    eai_trainer_get_params(t, out);
}

static void test_deterministic(void **state)
{
    (void)state;
    make_data();
    eai_trainer_t *a = load_cnn(2, NULL), *b = load_cnn(2, NULL);
    eai_threadpool_t *pool;
    assert_int_equal(eai_threadpool_create(2, &pool), EAI_OK);
    eai_trainer_t *c = load_cnn(7, pool); /* the pool overrides threads */
    size_t n = eai_trainer_n_params(a);
    float *pa = malloc(n * sizeof(float)), *pb = malloc(n * sizeof(float)),
          *pc = malloc(n * sizeof(float));
    run_steps(a, pa);
    run_steps(b, pb);
    run_steps(c, pc);
    assert_memory_equal(pa, pb, n * sizeof(float));
    assert_memory_equal(pa, pc, n * sizeof(float));
    /* and a second run on the same trainer from the same start */
    eai_trainer_t *d = load_cnn(2, NULL);
    run_steps(d, pb);
    eai_trainer_destroy(d);
    d = load_cnn(2, NULL);
    run_steps(d, pc);
    assert_memory_equal(pb, pc, n * sizeof(float));
    eai_trainer_destroy(d);
    free(pa);
    free(pb);
    free(pc);
    eai_trainer_destroy(a);
    eai_trainer_destroy(b);
    eai_trainer_destroy(c);
    eai_threadpool_destroy(pool);
}

/* The tolerance can fail: a batch with one sample left out (the others
 * identical) is a different gradient by far more than REL_TOL. */
static void test_tolerance_catches_a_dropped_sample(void **state)
{
    (void)state;
    make_data();
    eai_trainer_t *t1 = load_cnn(1, NULL), *t2 = load_cnn(2, NULL);
    size_t n = eai_trainer_n_trainable(t1);
    grabbed_t g1 = {malloc(n * sizeof(float)), 0}, g2 = {malloc(n * sizeof(float)), 0};
    eai_trainer_set_grad_hook(t1, grab, &g1);
    eai_trainer_set_grad_hook(t2, grab, &g2);
    assert_int_equal(eai_trainer_step(t1, xs, ys, BATCH, NULL), EAI_OK);
    assert_int_equal(eai_trainer_step(t2, xs, ys, BATCH - 1, NULL), EAI_OK);
    /* mean over 63 vs 64 samples: rescale so only the missing sample differs */
    for (size_t i = 0; i < n; i++)
        g2.g[i] *= (float)(BATCH - 1) / BATCH;
    double w = worst_ratio(t1, g1.g, g2.g, true);
    print_message("one sample dropped: worst ratio %.3g\n", w);
    assert_true(w > 100 * REL_TOL);
    free(g1.g);
    free(g2.g);
    eai_trainer_destroy(t1);
    eai_trainer_destroy(t2);
}

/* A net with what the CNN lacks: grouped, strided, padded Conv without
 * bias, AveragePool, a Gemm whose C is [1, n]. */
static void odd_model(th_t *h)
{
    static float w1[8 * 2 * 3 * 3], b1[8], w2[4 * 8 * 3 * 3], fw[5 * 64], fc[5];
    rng = 5;
    for (size_t i = 0; i < sizeof w1 / 4; i++)
        w1[i] = urand() - 0.5f;
    for (size_t i = 0; i < sizeof b1 / 4; i++)
        b1[i] = urand() - 0.5f;
    for (size_t i = 0; i < sizeof w2 / 4; i++)
        w2[i] = (urand() - 0.5f) * 0.5f;
    for (size_t i = 0; i < sizeof fw / 4; i++)
        fw[i] = (urand() - 0.5f) * 0.3f;
    for (size_t i = 0; i < sizeof fc / 4; i++)
        fc[i] = urand() - 0.5f;
    th_begin(h, 13);
    int x = th_input(h, "x", EAI_F32, 4, (int64_t[]){-1, 4, 16, 16});
    int cw1 = th_const(h, "w1", EAI_F32, 4, (int64_t[]){8, 2, 3, 3}, w1);
    int cb1 = th_const(h, "b1", EAI_F32, 1, (int64_t[]){8}, b1);
    int cw2 = th_const(h, "w2", EAI_F32, 4, (int64_t[]){4, 8, 3, 3}, w2);
    int cfw = th_const(h, "fw", EAI_F32, 2, (int64_t[]){5, 64}, fw);
    int cfc = th_const(h, "fc", EAI_F32, 2, (int64_t[]){1, 5}, fc);
    int y1 = th_value(h, "y1"), r1 = th_value(h, "r1"), p1 = th_value(h, "p1");
    int y2 = th_value(h, "y2"), p2 = th_value(h, "p2"), f = th_value(h, "f");
    int out = th_value(h, "out");
    th_node(h, "Conv", (int[]){x, cw1, cb1}, 3, (int[]){y1}, 1); /* [N,8,16,16] */
    th_attr_int(h, "group", 2);
    th_attr_ints(h, "pads", (int64_t[]){1, 1, 1, 1}, 4);
    th_node(h, "Relu", (int[]){y1}, 1, (int[]){r1}, 1);
    th_node(h, "AveragePool", (int[]){r1}, 1, (int[]){p1}, 1); /* [N,8,8,8] */
    th_attr_ints(h, "kernel_shape", (int64_t[]){2, 2}, 2);
    th_attr_ints(h, "strides", (int64_t[]){2, 2}, 2);
    th_node(h, "Conv", (int[]){p1, cw2}, 2, (int[]){y2}, 1); /* [N,4,8,8] */
    th_attr_ints(h, "pads", (int64_t[]){1, 1, 1, 1}, 4);
    th_node(h, "MaxPool", (int[]){y2}, 1, (int[]){p2}, 1); /* [N,4,4,4] */
    th_attr_ints(h, "kernel_shape", (int64_t[]){2, 2}, 2);
    th_attr_ints(h, "strides", (int64_t[]){2, 2}, 2);
    th_node(h, "Flatten", (int[]){p2}, 1, (int[]){f}, 1);
    th_node(h, "Gemm", (int[]){f, cfw, cfc}, 3, (int[]){out}, 1);
    th_attr_int(h, "transB", 1);
    th_output(h, out);
    assert_int_equal(th_prepare(h), EAI_OK);
}

static void test_odd_model(void **state)
{
    (void)state;
    th_t h;
    odd_model(&h);
    enum { NB = 48 };
    static float x[NB * 4 * 16 * 16];
    static int32_t y[NB];
    rng = 17;
    for (size_t i = 0; i < sizeof x / 4; i++)
        x[i] = urand();
    for (int i = 0; i < NB; i++)
        y[i] = i % 5;
    eai_trainer_t *t[3];
    const int th[3] = {1, 2, 3};
    for (int k = 0; k < 3; k++) {
        eai_trainer_opts_t o = {.batch = NB, .optim = {.lr = 0.05f}, .threads = th[k]};
        assert_int_equal(eai_trainer_create(h.model, &o, &t[k]), EAI_OK);
    }
    size_t n = eai_trainer_n_trainable(t[0]);
    grabbed_t g[3];
    for (int k = 0; k < 3; k++) {
        g[k].g = malloc(n * sizeof(float));
        eai_trainer_set_grad_hook(t[k], grab, &g[k]);
        assert_int_equal(eai_trainer_step(t[k], x, y, NB - 1, NULL), EAI_OK);
    }
    for (int k = 1; k < 3; k++) {
        double w = worst_ratio(t[0], g[0].g, g[k].g, true);
        print_message("odd model, %d threads: worst ratio %.3g\n", th[k], w);
        assert_true(w <= REL_TOL);
    }
    for (int k = 0; k < 3; k++) {
        free(g[k].g);
        eai_trainer_destroy(t[k]);
    }
    th_end(&h);
}

static void test_bad_threads(void **state)
{
    (void)state;
    eai_trainer_t *t = NULL;
    eai_trainer_opts_t o = {.batch = 4, .threads = -2};
    assert_int_equal(eai_trainer_load(CNN, &o, &t), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "threads"));
    assert_null(t);
    o.threads = 100000; /* more than a pool takes */
    assert_int_equal(eai_trainer_load(CNN, &o, &t), EAI_E_INVALID);
    assert_null(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grads_1_vs_2),
        cmocka_unit_test(test_steps_1_vs_2),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_tolerance_catches_a_dropped_sample),
        cmocka_unit_test(test_odd_model),
        cmocka_unit_test(test_bad_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
