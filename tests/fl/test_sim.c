/* The simulator end to end on a Fashion-MNIST subset (3,000 train / 1,000
 * test, 5 clients, 3 rounds of 1 epoch) with the NIID-Bench CNN: the model
 * must learn (well above chance and above its first round), a 2-gateway
 * hierarchy and 30% dropout must complete, and a checkpointed run resumes.
 * Skips when the dataset package (dataset-fashion-mnist) or model is absent. */
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

#include "edgeai/fl.h"

#define MODEL EAI_SOURCE_DIR "/models/train/cnn_fmnist.onnx"

typedef struct log {
    int n;
    eai_fl_sim_round_t r[16];
} log_t;

static void on_round(const eai_fl_sim_round_t *r, void *user)
{
    log_t *l = user;
    if (l->n < 16) l->r[l->n++] = *r;
}

static bool have_data(void)
{
    const char *d = getenv("EAI_FASHION_MNIST_DIR");
    char p[512];
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte.gz",
             d ? d : "/usr/share/datasets/fashion-mnist");
    return access(p, R_OK) == 0 && access(MODEL, R_OK) == 0;
}

static eai_fl_sim_opts_t base(log_t *l)
{
    return (eai_fl_sim_opts_t){
        .model = MODEL,
        .partition = {.kind = EAI_PART_IID, .n_clients = 5, .seed = 1},
        .rounds = 3,
        .epochs = 1,
        .batch = 32,
        /* Adam: this CNN sits on a plateau for the first ~50 SGD steps, longer
         * than the whole test; local Adam state is reset every round */
        .optim = {.kind = EAI_OPT_ADAM, .lr = 0.002f},
        .seed = 1,
        .on_round = on_round,
        .user = l,
        .max_train_samples = 3000,
        .max_test_samples = 1000,
    };
}

static void test_flat_learns(void **st)
{
    (void)st;
    if (!have_data()) skip();
    log_t l = {0};
    eai_fl_sim_opts_t o = base(&l);
    o.local_baseline = true;
    eai_fl_sim_result_t res;
    if (eai_fl_simulate(&o, &res) != EAI_OK) fail_msg("%s", eai_last_error());
    assert_int_equal(res.rounds, 3);
    assert_int_equal(l.n, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(l.r[i].round, i);
        assert_int_equal(l.r[i].n_participants, 5);
        assert_true(l.r[i].train_loss > 0 && isfinite(l.r[i].train_loss));
    }
    printf("flat: %.3f %.3f %.3f, local-only mean %.3f\n", l.r[0].test_acc, l.r[1].test_acc,
           l.r[2].test_acc, res.local_mean_acc);
    assert_true(res.final_acc == l.r[2].test_acc);
    assert_true(res.final_acc > 0.5);                    /* chance is 0.1 */
    assert_true(res.final_acc > l.r[0].test_acc + 0.01); /* and it kept learning */
    assert_true(res.local_mean_acc > 0.1 && res.local_mean_acc <= 1);
    assert_true(res.peak_rss_kb > 0);
}

static void test_hier_and_dropout(void **st)
{
    (void)st;
    if (!have_data()) skip();
    log_t l = {0};
    eai_fl_sim_opts_t o = base(&l);
    o.partition.n_clients = 6;
    o.n_tiers = 1;
    o.fanout[0] = 2;
    o.every[0] = 2;
    eai_fl_sim_result_t res;
    if (eai_fl_simulate(&o, &res) != EAI_OK) fail_msg("%s", eai_last_error());
    printf("2 gateways: %.3f %.3f %.3f\n", l.r[0].test_acc, l.r[1].test_acc, l.r[2].test_acc);
    assert_int_equal(res.rounds, 3);
    assert_int_equal(l.r[0].n_participants, 6); /* both gateways' clients */
    assert_true(res.final_acc > 0.4);

    log_t d = {0};
    o = base(&d);
    o.dropout = 0.3f;
    if (eai_fl_simulate(&o, &res) != EAI_OK) fail_msg("%s", eai_last_error());
    int dropped = 0;
    for (int i = 0; i < d.n; i++) {
        dropped += d.r[i].n_dropped;
        assert_true(d.r[i].n_participants >= 1);
    }
    printf("dropout 0.3: %d dropped, final %.3f\n", dropped, res.final_acc);
    assert_int_equal(res.rounds, 3);
    assert_true(dropped > 0);
    assert_true(res.final_acc > 0.4);
}

static void test_algorithms_run(void **st)
{
    (void)st;
    if (!have_data()) skip();
    /* one round each: the client hooks and strategies on a real model */
    const eai_fl_algo_t algos[] = {EAI_FL_FEDPROX, EAI_FL_SCAFFOLD, EAI_FL_FEDNOVA, EAI_FL_FEDADAM};
    for (size_t i = 0; i < sizeof algos / sizeof algos[0]; i++) {
        log_t l = {0};
        eai_fl_sim_opts_t o = base(&l);
        o.rounds = 1;
        o.max_train_samples = 1500;
        o.server.strategy.algo = algos[i];
        o.server.strategy.mu = 0.1f;
        eai_fl_sim_result_t res;
        if (eai_fl_simulate(&o, &res) != EAI_OK)
            fail_msg("%s: %s", eai_fl_algo_name(algos[i]), eai_last_error());
        printf("%s: %.3f\n", eai_fl_algo_name(algos[i]), res.final_acc);
        assert_true(res.final_acc > 0.15);
    }
}

static void test_privacy(void **st)
{
    (void)st;
    if (!have_data()) skip();
    /* secure aggregation computes the same weighted mean up to fixed-point
     * rounding, so one round lands on (nearly) the same model */
    log_t a = {0}, b = {0}, c = {0};
    eai_fl_sim_opts_t o = base(&a);
    o.rounds = 1;
    eai_fl_sim_result_t plain, sec, dp;
    if (eai_fl_simulate(&o, &plain) != EAI_OK) fail_msg("%s", eai_last_error());
    o.user = &b;
    o.secure_agg = true;
    if (eai_fl_simulate(&o, &sec) != EAI_OK) fail_msg("%s", eai_last_error());
    printf("plain %.4f (loss %.5f), secure aggregation %.4f (loss %.5f)\n", plain.final_acc,
           a.r[0].test_loss, sec.final_acc, b.r[0].test_loss);
    assert_true(fabs(plain.final_acc - sec.final_acc) <= 0.01);
    assert_true(fabs(a.r[0].test_loss - b.r[0].test_loss) < 0.01);
    assert_true(a.r[0].epsilon == 0 && plain.epsilon == 0);

    /* DP-FedAvg: epsilon grows each round and ends at most at the target */
    o = base(&c);
    o.rounds = 2;
    o.max_train_samples = 1000;
    o.dp_epsilon = 8;
    o.dp_clip = 1;
    o.secure_agg = true;
    if (eai_fl_simulate(&o, &dp) != EAI_OK) fail_msg("%s", eai_last_error());
    printf("DP eps %.3f %.3f, acc %.3f\n", c.r[0].epsilon, c.r[1].epsilon, dp.final_acc);
    assert_int_equal(c.n, 2);
    assert_true(c.r[0].epsilon > 0 && c.r[0].epsilon < c.r[1].epsilon);
    assert_true(c.r[1].epsilon <= 8.0 * 1.001);
    assert_true(dp.epsilon == c.r[1].epsilon);
    assert_true(isfinite(c.r[1].test_loss));
}

static void test_resume(void **st)
{
    (void)st;
    if (!have_data()) skip();
    char path[] = "/tmp/eai_fl_sim_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path); /* the server creates it */
    log_t l = {0};
    eai_fl_sim_opts_t o = base(&l);
    o.max_train_samples = 1000;
    o.rounds = 2;
    o.server.checkpoint = path;
    eai_fl_sim_result_t res;
    if (eai_fl_simulate(&o, &res) != EAI_OK) fail_msg("%s", eai_last_error());
    assert_int_equal(res.rounds, 2);
    o.rounds = 3; /* continues at round 2 */
    log_t m = {0};
    o.user = &m;
    if (eai_fl_simulate(&o, &res) != EAI_OK) fail_msg("%s", eai_last_error());
    assert_int_equal(res.rounds, 1);
    assert_int_equal(m.n, 1);
    assert_int_equal(m.r[0].round, 2);
    unlink(path);
}

static void test_bad_options(void **st)
{
    (void)st;
    log_t l = {0};
    eai_fl_sim_opts_t o = base(&l);
    eai_fl_sim_result_t res;
    o.rounds = 0;
    assert_int_equal(eai_fl_simulate(&o, &res), EAI_E_INVALID);
    o = base(&l);
    o.dropout = 1.0f;
    assert_int_equal(eai_fl_simulate(&o, &res), EAI_E_INVALID);
    o = base(&l);
    o.server.strategy.algo = EAI_FL_SCAFFOLD;
    o.secure_agg = true;
    assert_int_equal(eai_fl_simulate(&o, &res), EAI_E_UNSUPPORTED);
    o = base(&l);
    o.n_tiers = 1;
    o.fanout[0] = 9; /* more gateways than clients */
    assert_int_equal(eai_fl_simulate(&o, &res), EAI_E_INVALID);
    o = base(&l);
    o.model = "/nonexistent/model.onnx";
    assert_int_not_equal(eai_fl_simulate(&o, &res), EAI_OK);
    assert_int_equal(eai_fl_simulate(NULL, &res), EAI_E_INVALID);
    assert_int_equal(l.n, 0); /* a failed call never calls back */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_options),      cmocka_unit_test(test_flat_learns),
        cmocka_unit_test(test_hier_and_dropout), cmocka_unit_test(test_algorithms_run),
        cmocka_unit_test(test_privacy),          cmocka_unit_test(test_resume),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
