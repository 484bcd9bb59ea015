/* The trainer engine: one SGD step on a tiny Gemm model against numbers
 * computed by PyTorch (autograd in float64, torch.optim for the optimizers;
 * the script that printed them is in the comment of each table), learning on
 * a seeded synthetic problem, save/load round trip, frozen parameters, short
 * batches, allocation failures, allocation-free steps and bad input. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "edgeai/edgeai.h"
#include "runtime/harness.h"

#define TINY_MLP EAI_SOURCE_DIR "/models/train/mlp_tiny.onnx"
#define CNN_BN   EAI_SOURCE_DIR "/models/train/cnn_bn.onnx"
#define CNN      EAI_SOURCE_DIR "/models/train/cnn_fmnist.onnx"

/* ---- a counting (and optionally failing) allocator ---- */
typedef struct counter {
    long calls;   /* allocations (and reallocs) made */
    long live;    /* blocks not yet freed */
    long fail_at; /* the fail_at-th allocation fails (0: none) */
} counter_t;

static void *count_fn(void *ctx, void *p, size_t n)
{
    counter_t *c = ctx;
    if (n == 0) {
        if (p) c->live--;
        free(p);
        return NULL;
    }
    c->calls++;
    if (c->fail_at && c->calls == c->fail_at) return NULL;
    void *q = realloc(p, n);
    if (q && !p) c->live++;
    return q;
}

/* ---- the tiny Gemm model: y = x W^T + b, x [N,3], W [2,3], b [2] ---- */
static const float W0[6] = {0.1f, 0.2f, 0.3f, -0.1f, 0.0f, 0.1f};
static const float B0[2] = {0.0f, 0.5f};
static const float X2[6] = {1, 2, 3, -1, 0.5f, 2};
static const int32_t Y2[2] = {0, 1};

static void tiny_model(th_t *h)
{
    th_begin(h, 13);
    int x = th_input(h, "x", EAI_F32, 2, (int64_t[]){-1, 3});
    int w = th_const(h, "W", EAI_F32, 2, (int64_t[]){2, 3}, W0);
    int b = th_const(h, "b", EAI_F32, 1, (int64_t[]){2}, B0);
    int y = th_value(h, "y");
    th_node(h, "Gemm", (int[]){x, w, b}, 3, (int[]){y}, 1);
    th_attr_int(h, "transB", 1);
    th_output(h, y);
    assert_int_equal(th_prepare(h), EAI_OK);
}

static void assert_close(const float *got, const double *want, int n, double tol)
{
    for (int i = 0; i < n; i++) {
        double d = fabs(got[i] - want[i]);
        if (d > tol * (1 + fabs(want[i])))
            fail_msg("element %d: got %.9g, expected %.9g", i, (double)got[i], want[i]);
    }
}

/* torch: cross_entropy(x @ W.T + b, y), one SGD step lr 0.1 (float64) */
static void test_sgd_step_xent(void **state)
{
    (void)state;
    th_t h;
    tiny_model(&h);
    eai_trainer_opts_t o = {.batch = 4, .optim = {.lr = 0.1f}};
    eai_trainer_t *t;
    assert_int_equal(eai_trainer_create(h.model, &o, &t), EAI_OK);
    assert_int_equal(eai_trainer_n_params(t), 8);
    assert_int_equal(eai_trainer_n_trainable(t), 8);
    eai_param_info_t pi;
    assert_int_equal(eai_trainer_tensor_info(t, 1, &pi), EAI_OK);
    assert_string_equal(pi.name, "b");
    assert_int_equal(pi.offset, 6);
    eai_step_result_t r;
    assert_int_equal(eai_trainer_step(t, X2, Y2, 2, &r), EAI_OK);
    assert_float_equal(r.loss, 0.500662459, 1e-6);
    assert_int_equal(r.n, 2);
    /* logits [1.4, 0.7] (label 0: right) and [0.2, 0.8] (label 1: right) */
    assert_int_equal(r.correct, 2);
    static const double want[8] = {0.139098912,   0.221927073,  0.304755234,    -0.139098912,
                                   -0.0219270727, 0.0952447661, -0.00591768874, 0.505917689};
    assert_close(eai_trainer_params(t), want, 8, 1e-6);
    eai_trainer_destroy(t);
    th_end(&h);
}

/* torch: mse_loss(x @ W.T + b, [[1, 0], [0.5, -1]]), SGD lr 0.1 */
static void test_sgd_step_mse(void **state)
{
    (void)state;
    th_t h;
    tiny_model(&h);
    eai_trainer_opts_t o = {.batch = 2, .loss = EAI_LOSS_MSE, .optim = {.lr = 0.1f}};
    eai_trainer_t *t;
    assert_int_equal(eai_trainer_create(h.model, &o, &t), EAI_OK);
    static const float tgt[4] = {1, 0, 0.5f, -1};
    eai_step_result_t r;
    assert_int_equal(eai_trainer_step(t, X2, tgt, 2, &r), EAI_OK);
    assert_float_equal(r.loss, 0.975, 1e-6);
    static const double want[8] = {0.085, 0.1575, 0.23, -0.045, -0.115, -0.185, -0.025, 0.375};
    assert_close(eai_trainer_params(t), want, 8, 1e-6);
    eai_trainer_destroy(t);
    th_end(&h);
}

/* The hook replaces the gradients by fixed ones, so the update is the
 * optimizer alone: three steps with g1, g2, g1 from w0 = [W0, B0]. */
static const float G1[8] = {0.5f, -1, 0.25f, 2, -0.5f, 0.1f, 1, -2};
static const float G2[8] = {-0.3f, 0.2f, 0.1f, -1, 0.4f, 0.0f, 0.5f, 0.3f};

static void fixed_grads(void *user, const float *params, float *grads, size_t n)
{
    (void)params;
    int *k = user;
    memcpy(grads, (*k)++ % 2 ? G2 : G1, n * sizeof(float));
}

static void run_optim(const eai_optim_opts_t *opt, const double *want)
{
    th_t h;
    tiny_model(&h);
    eai_trainer_opts_t o = {.batch = 2, .optim = *opt};
    eai_trainer_t *t;
    assert_int_equal(eai_trainer_create(h.model, &o, &t), EAI_OK);
    int k = 0;
    eai_trainer_set_grad_hook(t, fixed_grads, &k);
    for (int i = 0; i < 3; i++)
        assert_int_equal(eai_trainer_step(t, X2, Y2, 2, NULL), EAI_OK);
    assert_int_equal(k, 3);
    assert_close(eai_trainer_params(t), want, 8, 2e-6);
    /* reset_optim forgets the moments: the same three steps from here move
     * the weights by what three first steps would */
    eai_trainer_destroy(t);
    th_end(&h);
}

/* torch.optim values (float32), printed by:
 *   p = Parameter(w0); o = SGD([p], lr=0.1, momentum=0.9, nesterov=True,
 *   weight_decay=0.01); for g in (g1, g2, g1): p.grad = g; o.step() */
static void test_sgd_nesterov(void **state)
{
    (void)state;
    eai_optim_opts_t o = {
        .kind = EAI_OPT_SGD, .lr = 0.1f, .momentum = 0.9f, .nesterov = true, .weight_decay = 0.01f};
    static const double want[8] = {-0.0860472396, 0.677136064,  0.137307867, -0.894299209,
                                   0.158179834,   0.0459094048, -0.66819036, 1.48053253};
    run_optim(&o, want);
}

static void test_sgd_momentum(void **state)
{
    (void)state;
    eai_optim_opts_t o = {.kind = EAI_OPT_SGD, .lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.01f};
    static const double want[8] = {-0.0289005674, 0.531519055,  0.186673433,  -0.650779665,
                                   0.109350048,   0.0623774752, -0.465570092, 1.18146765};
    run_optim(&o, want);
}

/* Adam(lr=0.01, weight_decay=0.1) and AdamW(lr=0.01, weight_decay=0.1) */
static void test_adam(void **state)
{
    (void)state;
    eai_optim_opts_t o = {.kind = EAI_OPT_ADAM, .lr = 0.01f, .weight_decay = 0.1f};
    static const double want[8] = {0.0824409202, 0.222069219,  0.271240145,   -0.118353948,
                                   0.0148421172, 0.0742206201, -0.0289468132, 0.522663236};
    run_optim(&o, want);
}

static void test_adamw(void **state)
{
    (void)state;
    eai_optim_opts_t o = {.kind = EAI_OPT_ADAMW, .lr = 0.01f, .weight_decay = 0.1f};
    static const double want[8] = {0.0825235173, 0.221779749,  0.270707369,   -0.118135825,
                                   0.0148482947, 0.0748463795, -0.0289220903, 0.521525681};
    run_optim(&o, want);
}

/* Plain SGD with every gradient 1: each step moves W[0] by -lr(step), which
 * exposes the schedule. */
static void ones(void *user, const float *params, float *grads, size_t n)
{
    (void)user;
    (void)params;
    for (size_t i = 0; i < n; i++)
        grads[i] = 1;
}

static void check_schedule(const eai_optim_opts_t *opt, const double *lrs, int n)
{
    th_t h;
    tiny_model(&h);
    eai_trainer_opts_t o = {.batch = 2, .optim = *opt};
    eai_trainer_t *t;
    assert_int_equal(eai_trainer_create(h.model, &o, &t), EAI_OK);
    eai_trainer_set_grad_hook(t, ones, NULL);
    for (int i = 0; i < n; i++) {
        float before = eai_trainer_params(t)[0];
        assert_int_equal(eai_trainer_step(t, X2, Y2, 2, NULL), EAI_OK);
        double lr = before - eai_trainer_params(t)[0];
        if (fabs(lr - lrs[i]) > 1e-6) fail_msg("step %d: lr %.8g, expected %.8g", i, lr, lrs[i]);
    }
    eai_trainer_destroy(t);
    th_end(&h);
}

static void test_schedules(void **state)
{
    (void)state;
    /* step: 0.1 * 0.5^floor(s / 2) */
    eai_optim_opts_t st = {.lr = 0.1f, .sched = EAI_LR_STEP, .step_size = 2, .gamma = 0.5f};
    check_schedule(&st, (double[]){0.1, 0.1, 0.05, 0.05, 0.025}, 5);
    /* exp: 0.1 * 0.5^s */
    eai_optim_opts_t ex = {.lr = 0.1f, .sched = EAI_LR_EXP, .gamma = 0.5f};
    check_schedule(&ex, (double[]){0.1, 0.05, 0.025}, 3);
    /* warmup 2 (0.05, 0.1), then cosine over the 4 remaining steps from 0.1
     * to 0.02: 0.02 + 0.08 * (1 + cos(pi * s / 4)) / 2 */
    eai_optim_opts_t co = {
        .lr = 0.1f, .sched = EAI_LR_COSINE, .total_steps = 6, .warmup_steps = 2, .min_lr = 0.02f};
    check_schedule(&co, (double[]){0.05, 0.1, 0.1, 0.0882842712, 0.06, 0.0317157288, 0.02, 0.02},
                   8);
}

/* Four Gaussian blobs in 16-D (seeded): mlp_tiny must learn them. */
static uint64_t rng_state = 12345;
static double urand(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}
static double nrand(void)
{
    double u = urand(), v = urand();
    return sqrt(-2 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

#define N_SYN 256
static float syn_x[N_SYN * 16];
static int32_t syn_y[N_SYN];

static void make_blobs(void)
{
    float centers[4][16];
    rng_state = 12345;
    for (int c = 0; c < 4; c++)
        for (int k = 0; k < 16; k++)
            centers[c][k] = (float)(1.5 * nrand());
    for (int i = 0; i < N_SYN; i++) {
        syn_y[i] = i % 4;
        for (int k = 0; k < 16; k++)
            syn_x[i * 16 + k] = centers[i % 4][k] + (float)nrand();
    }
}

static void test_learns(void **state)
{
    (void)state;
    make_blobs();
    eai_trainer_opts_t o = {.batch = 32, .optim = {.lr = 0.05f, .momentum = 0.9f}};
    eai_trainer_t *t;
    assert_int_equal(eai_trainer_load(TINY_MLP, &o, &t), EAI_OK);
    eai_step_result_t r0, r;
    assert_int_equal(eai_trainer_eval(t, syn_x, syn_y, 32, &r0, NULL), EAI_OK);
    for (int epoch = 0; epoch < 5; epoch++)
        for (int b = 0; b < N_SYN / 32; b++)
            assert_int_equal(eai_trainer_step(t, syn_x + b * 32 * 16, syn_y + b * 32, 32, &r),
                             EAI_OK);
    assert_int_equal(eai_trainer_eval(t, syn_x, syn_y, 32, &r, NULL), EAI_OK);
    printf("  blobs: loss %.4f -> %.4f, accuracy %lld/32 -> %lld/32\n", r0.loss, r.loss,
           (long long)r0.correct, (long long)r.correct);
    assert_true(r.loss < 0.5 * r0.loss);
    assert_true(r.correct >= 30);
    eai_trainer_destroy(t);
}

static void count_progress(const eai_fit_progress_t *p, void *user)
{
    int *calls = user;
    (*calls)++;
    assert_true(p->step >= 1 && p->step <= p->steps_per_epoch);
    assert_true(p->accuracy >= 0 && p->accuracy <= 1);
}

/* fit over a data set: 250 samples in batches of 32 (the last one 26) */
static void test_fit(void **state)
{
    (void)state;
    make_blobs();
    eai_tensor_info_t si = {.dtype = EAI_F32, .rank = 1, .dims = {16}};
    eai_dataset_t *ds;
    assert_int_equal(eai_dataset_from_memory(syn_x, syn_y, 250, &si, 4, NULL, &ds), EAI_OK);
    eai_trainer_opts_t o = {.batch = 32, .optim = {.lr = 0.05f, .momentum = 0.9f}};
    eai_trainer_t *t;
    assert_int_equal(eai_trainer_load(TINY_MLP, &o, &t), EAI_OK);
    int calls = 0;
    eai_trainer_set_progress(t, count_progress, &calls);
    eai_train_stats_t st0, st;
    assert_int_equal(eai_trainer_evaluate(t, ds, NULL, 0, &st0), EAI_OK);
    assert_int_equal(st0.n_samples, 250);
    assert_int_equal(eai_trainer_fit(t, ds, NULL, 0, 3, 1, &st), EAI_OK);
    assert_int_equal(calls, 3 * 8);
    assert_int_equal(st.n_samples, 250);
    assert_int_equal(st.n_steps, 8);
    assert_true(st.seconds >= 0);
    eai_train_stats_t ev;
    assert_int_equal(eai_trainer_evaluate(t, ds, NULL, 0, &ev), EAI_OK);
    printf("  fit: loss %.4f -> %.4f, accuracy %.3f\n", st0.loss, ev.loss, ev.accuracy);
    assert_true(ev.loss < 0.5 * st0.loss);
    assert_true(ev.accuracy > 0.9);
    /* a subset by index; an index out of range is an error, not a crash */
    int32_t idx[3] = {5, 9, 2}, bad[2] = {1, 250};
    assert_int_equal(eai_trainer_evaluate(t, ds, idx, 3, &ev), EAI_OK);
    assert_int_equal(ev.n_samples, 3);
    assert_int_equal(eai_trainer_fit(t, ds, bad, 2, 1, 0, NULL), EAI_E_INVALID);
    /* samples that do not fit the model's input */
    eai_tensor_info_t si8 = {.dtype = EAI_F32, .rank = 1, .dims = {8}};
    eai_dataset_t *ds8;
    assert_int_equal(eai_dataset_from_memory(syn_x, syn_y, 10, &si8, 4, NULL, &ds8), EAI_OK);
    assert_int_equal(eai_trainer_fit(t, ds8, NULL, 0, 1, 0, NULL), EAI_E_INVALID);
    eai_dataset_destroy(ds8);
    eai_dataset_destroy(ds);
    eai_trainer_destroy(t);
}

/* save_onnx, then the inference runtime on the file gives what eval gives */
static void check_roundtrip(const char *path, int64_t in_numel, int64_t out_numel)
{
    eai_trainer_opts_t o = {.batch = 4, .optim = {.lr = 0.05f, .momentum = 0.9f}};
    eai_trainer_t *t;
    assert_int_equal(eai_trainer_load(path, &o, &t), EAI_OK);
    float x[4 * 784], out[4 * 10];
    rng_state = 7;
    for (int64_t i = 0; i < 4 * in_numel; i++)
        x[i] = (float)nrand();
    int32_t y[4] = {1, 3, 0, 2};
    for (int s = 0; s < 3; s++)
        assert_int_equal(eai_trainer_step(t, x, y, 4, NULL), EAI_OK);
    assert_int_equal(eai_trainer_eval(t, x, y, 4, NULL, out), EAI_OK);
    char tmp[64];
    snprintf(tmp, sizeof tmp, "/tmp/eai_train_rt_%d.onnx", (int)getpid());
    assert_int_equal(eai_trainer_save_onnx(t, tmp), EAI_OK);
    eai_model_t *m;
    assert_int_equal(eai_model_load(tmp, NULL, &m), EAI_OK);
    eai_session_opts_t so = {.batch = 4};
    eai_session_t *s;
    assert_int_equal(eai_session_create(m, &so, &s), EAI_OK);
    assert_int_equal(eai_session_set_input(s, 0, x, (size_t)(4 * in_numel) * 4), EAI_OK);
    assert_int_equal(eai_session_invoke(s), EAI_OK);
    const void *got;
    assert_int_equal(eai_session_get_output(s, 0, &got, NULL), EAI_OK);
    double worst = 0;
    for (int64_t i = 0; i < 4 * out_numel; i++) {
        double d = fabs(((const float *)got)[i] - out[i]) / (1 + fabs(out[i]));
        worst = d > worst ? d : worst;
    }
    printf("  %s: saved model vs eval: max rel diff %.3g\n", strrchr(path, '/') + 1, worst);
    assert_true(worst < 1e-4);
    eai_session_destroy(s);
    eai_model_destroy(m);
    unlink(tmp);
    /* the untrained file gives different outputs: the file really changed */
    assert_int_equal(eai_model_load(path, NULL, &m), EAI_OK);
    assert_int_equal(eai_session_create(m, &so, &s), EAI_OK);
    assert_int_equal(eai_session_set_input(s, 0, x, (size_t)(4 * in_numel) * 4), EAI_OK);
    assert_int_equal(eai_session_invoke(s), EAI_OK);
    assert_int_equal(eai_session_get_output(s, 0, &got, NULL), EAI_OK);
    assert_true(fabs(((const float *)got)[0] - out[0]) > 1e-6);
    eai_session_destroy(s);
    eai_model_destroy(m);
    eai_trainer_destroy(t);
}

static void test_save_roundtrip(void **state)
{
    (void)state;
    check_roundtrip(TINY_MLP, 16, 4);
    check_roundtrip(CNN, 784, 10);
    check_roundtrip(CNN_BN, 144, 10); /* BN running stats and Dropout off in eval */
}

/* BN: running statistics are buffers (after the trainable prefix), updated
 * by training steps; the Dropout ratio scalar is not state. */
static void test_bn_buffers(void **state)
{
    (void)state;
    eai_trainer_opts_t o = {.batch = 8, .optim = {.lr = 0.01f}};
    eai_trainer_t *t;
    assert_int_equal(eai_trainer_load(CNN_BN, &o, &t), EAI_OK);
    size_t n = eai_trainer_n_params(t), nt = eai_trainer_n_trainable(t);
    /* conv1 4*9+4, bn1 4+4, conv2 8*4*9+8, bn2 8+8, fc 80+10; buffers 2*(4+8) */
    assert_int_equal(nt, 40 + 8 + 296 + 16 + 90);
    assert_int_equal(n, nt + 24);
    for (int i = 0; i < eai_trainer_n_tensors(t); i++) {
        eai_param_info_t pi;
        assert_int_equal(eai_trainer_tensor_info(t, i, &pi), EAI_OK);
        assert_true(pi.trainable == (pi.offset < nt));
    }
    float *before = malloc(n * sizeof(float));
    eai_trainer_get_params(t, before);
    float x[8 * 144];
    int32_t y[8];
    rng_state = 3;
    for (int i = 0; i < 8 * 144; i++)
        x[i] = (float)nrand();
    for (int i = 0; i < 8; i++)
        y[i] = i % 10;
    assert_int_equal(eai_trainer_step(t, x, y, 8, NULL), EAI_OK);
    const float *after = eai_trainer_params(t);
    int changed = 0;
    for (size_t i = nt; i < n; i++)
        changed += after[i] != before[i];
    assert_true(changed > 20); /* running mean/var moved */
    free(before);
    eai_trainer_destroy(t);
}

static void test_frozen(void **state)
{
    (void)state;
    make_blobs();
    const char *frozen[] = {"fc1.*"};
    eai_trainer_opts_t o = {.batch = 16, .frozen = frozen, .n_frozen = 1, .optim = {.lr = 0.1f}};
    eai_trainer_t *t;
    assert_int_equal(eai_trainer_load(TINY_MLP, &o, &t), EAI_OK);
    size_t n = eai_trainer_n_params(t), nt = eai_trainer_n_trainable(t);
    assert_int_equal(n, 16 * 32 + 32 + 32 * 4 + 4);
    assert_int_equal(nt, 32 * 4 + 4);
    float *before = malloc(n * sizeof(float));
    eai_trainer_get_params(t, before);
    for (int s = 0; s < 4; s++)
        assert_int_equal(eai_trainer_step(t, syn_x + s * 16 * 16, syn_y + s * 16, 16, NULL),
                         EAI_OK);
    const float *after = eai_trainer_params(t);
    assert_memory_equal(after + nt, before + nt, (n - nt) * sizeof(float));
    assert_memory_not_equal(after, before, nt * sizeof(float));
    for (int i = 0; i < eai_trainer_n_tensors(t); i++) {
        eai_param_info_t pi;
        assert_int_equal(eai_trainer_tensor_info(t, i, &pi), EAI_OK);
        assert_true(pi.trainable == (strncmp(pi.name, "fc1.", 4) != 0));
    }
    free(before);
    eai_trainer_destroy(t);
}

/* A step on 3 samples of a batch-8 trainer equals a step of a batch-3 one. */
static void test_short_batch(void **state)
{
    (void)state;
    make_blobs();
    eai_trainer_opts_t o8 = {.batch = 8, .optim = {.lr = 0.1f, .momentum = 0.5f}};
    eai_trainer_opts_t o3 = o8;
    o3.batch = 3;
    eai_trainer_t *a, *b;
    assert_int_equal(eai_trainer_load(TINY_MLP, &o8, &a), EAI_OK);
    assert_int_equal(eai_trainer_load(TINY_MLP, &o3, &b), EAI_OK);
    eai_step_result_t ra, rb;
    for (int s = 0; s < 2; s++) {
        assert_int_equal(eai_trainer_step(a, syn_x + s * 8 * 16, syn_y + s * 8, 8, &ra), EAI_OK);
        assert_int_equal(eai_trainer_step(b, syn_x + s * 8 * 16, syn_y + s * 8, 3, &rb), EAI_OK);
    }
    /* re-sync a's weights to b's path: both now take the same 3-sample step */
    eai_trainer_set_params(a, eai_trainer_params(b));
    eai_trainer_reset_optim(a);
    eai_trainer_reset_optim(b);
    assert_int_equal(eai_trainer_step(a, syn_x, syn_y, 3, &ra), EAI_OK);
    assert_int_equal(eai_trainer_step(b, syn_x, syn_y, 3, &rb), EAI_OK);
    assert_int_equal(ra.n, 3);
    assert_float_equal(ra.loss, rb.loss, 1e-6);
    size_t n = eai_trainer_n_params(a);
    for (size_t i = 0; i < n; i++)
        assert_float_equal(eai_trainer_params(a)[i], eai_trainer_params(b)[i], 1e-6);
    eai_trainer_destroy(a);
    eai_trainer_destroy(b);
}

static void test_step_no_alloc(void **state)
{
    (void)state;
    counter_t c = {0};
    eai_trainer_opts_t o = {
        .batch = 8, .optim = {.kind = EAI_OPT_ADAM, .lr = 0.001f}, .alloc = {count_fn, &c}};
    eai_trainer_t *t;
    assert_int_equal(eai_trainer_load(CNN_BN, &o, &t), EAI_OK);
    float x[8 * 144] = {0};
    int32_t y[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    for (int i = 0; i < 8 * 144; i++)
        x[i] = (float)((i * 37) % 11) / 11.0f;
    long calls = c.calls;
    assert_true(calls > 0);
    for (int s = 0; s < 3; s++) {
        assert_int_equal(eai_trainer_step(t, x, y, 8 - s, NULL), EAI_OK);
        assert_int_equal(eai_trainer_eval(t, x, y, 5, NULL, NULL), EAI_OK);
    }
    assert_int_equal(c.calls, calls);
    eai_trainer_destroy(t);
    assert_int_equal(c.live, 0);
}

/* Every allocation of create fails in turn: EAI_E_NOMEM, nothing leaked. */
static void test_create_oom(void **state)
{
    (void)state;
    eai_model_opts_t mo = {.no_optimize = true};
    const char *models[] = {CNN_BN, TINY_MLP};
    for (int m = 0; m < 2; m++) {
        eai_model_t *model;
        assert_int_equal(eai_model_load(models[m], &mo, &model), EAI_OK);
        int failures = 0;
        for (long k = 1;; k++) {
            counter_t c = {.fail_at = k};
            eai_trainer_opts_t o = {
                .batch = 4, .optim = {.kind = EAI_OPT_ADAM}, .alloc = {count_fn, &c}};
            eai_trainer_t *t = NULL;
            eai_status_t st = eai_trainer_create(model, &o, &t);
            if (st == EAI_OK) {
                eai_trainer_destroy(t);
                assert_int_equal(c.live, 0);
                break;
            }
            assert_int_equal(st, EAI_E_NOMEM);
            assert_int_equal(c.live, 0);
            failures++;
        }
        assert_true(failures > 5);
        eai_model_destroy(model);
    }
}

/* An op without a gradient: the error names the node. */
static void test_unsupported(void **state)
{
    (void)state;
    th_t h;
    th_begin(&h, 13);
    int x = th_input(&h, "x", EAI_F32, 2, (int64_t[]){-1, 3});
    int w = th_const(&h, "W", EAI_F32, 2, (int64_t[]){2, 3}, W0);
    int y = th_value(&h, "y"), z = th_value(&h, "z");
    th_node(&h, "Gemm", (int[]){x, w}, 2, (int[]){y}, 1);
    th_attr_int(&h, "transB", 1);
    th_node(&h, "Exp", (int[]){y}, 1, (int[]){z}, 1);
    th_output(&h, z);
    assert_int_equal(th_prepare(&h), EAI_OK);
    eai_trainer_t *t = NULL;
    assert_int_equal(eai_trainer_create(h.model, NULL, &t), EAI_E_UNSUPPORTED);
    assert_null(t);
    printf("  %s\n", eai_last_error());
    assert_non_null(strstr(eai_last_error(), "(Exp)"));
    assert_non_null(strstr(eai_last_error(), "node 1"));
    th_end(&h);
}

static void test_bad_input(void **state)
{
    (void)state;
    th_t h;
    tiny_model(&h);
    eai_trainer_t *t;
    eai_trainer_opts_t bad = {.optim = {.lr = -1}};
    assert_int_equal(eai_trainer_create(h.model, &bad, &t), EAI_E_INVALID);
    eai_trainer_opts_t bad2 = {.optim = {.sched = EAI_LR_COSINE}};
    assert_int_equal(eai_trainer_create(h.model, &bad2, &t), EAI_E_INVALID);
    eai_trainer_opts_t bad3 = {.loss = (eai_loss_t)7};
    assert_int_equal(eai_trainer_create(h.model, &bad3, &t), EAI_E_INVALID);
    assert_int_equal(eai_trainer_create(NULL, NULL, &t), EAI_E_INVALID);
    assert_int_equal(eai_trainer_load("/nonexistent.onnx", NULL, &t), EAI_E_IO);
    eai_trainer_opts_t o = {.batch = 2};
    assert_int_equal(eai_trainer_create(h.model, &o, &t), EAI_OK);
    assert_int_equal(eai_trainer_step(t, X2, Y2, 3, NULL), EAI_E_INVALID);
    assert_int_equal(eai_trainer_step(t, X2, Y2, 0, NULL), EAI_E_INVALID);
    assert_int_equal(eai_trainer_step(t, X2, NULL, 2, NULL), EAI_E_INVALID);
    int32_t bad_y[2] = {0, 2};
    assert_int_equal(eai_trainer_step(t, X2, bad_y, 2, NULL), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "label 2"));
    eai_param_info_t pi;
    assert_int_equal(eai_trainer_tensor_info(t, 2, &pi), EAI_E_INVALID);
    /* created from a model, not a file: nothing to rewrite */
    assert_int_equal(eai_trainer_save_onnx(t, "/tmp/eai_never.onnx"), EAI_E_UNSUPPORTED);
    eai_trainer_destroy(t);
    eai_trainer_destroy(NULL);
    th_end(&h);
    /* a failed save leaves the target as it was */
    eai_trainer_t *m;
    assert_int_equal(eai_trainer_load(TINY_MLP, NULL, &m), EAI_OK);
    assert_int_equal(eai_trainer_save_onnx(m, "/nonexistent-dir/x.onnx"), EAI_E_IO);
    eai_trainer_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgd_step_xent), cmocka_unit_test(test_sgd_step_mse),
        cmocka_unit_test(test_sgd_nesterov),  cmocka_unit_test(test_sgd_momentum),
        cmocka_unit_test(test_adam),          cmocka_unit_test(test_adamw),
        cmocka_unit_test(test_schedules),     cmocka_unit_test(test_learns),
        cmocka_unit_test(test_fit),           cmocka_unit_test(test_save_roundtrip),
        cmocka_unit_test(test_bn_buffers),    cmocka_unit_test(test_frozen),
        cmocka_unit_test(test_short_batch),   cmocka_unit_test(test_step_no_alloc),
        cmocka_unit_test(test_create_oom),    cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
