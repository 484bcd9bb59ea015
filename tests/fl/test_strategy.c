/* Strategies against numbers worked out by hand on 3-float models (2
 * trainable + 1 buffer) and two clients with 1 and 3 samples (p = 1/4, 3/4):
 *   global {1, 2 | 10}, client A {3, 2 | 20} (delta {2, 0}), B {1, 6 | 40}
 *   (delta {0, 4}); weighted mean delta D = {0.5, 3}; buffer 35. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/core_impl.h"
#include "edgeai/fl.h"

static const float dA[2] = {2, 0}, dB[2] = {0, 4};

/* Two updates that move g by dA / dB (buffers 20 / 40). */
static void make_updates(const float *g, float *xa, float *xb, eai_fl_update_t *u)
{
    xa[0] = g[0] + dA[0], xa[1] = g[1] + dA[1], xa[2] = 20;
    xb[0] = g[0] + dB[0], xb[1] = g[1] + dB[1], xb[2] = 40;
    u[0] = (eai_fl_update_t){.client = 0, .n_samples = 1, .local_steps = 2, .params = xa};
    u[1] = (eai_fl_update_t){.client = 1, .n_samples = 3, .local_steps = 6, .params = xb};
}

static eai_fl_strategy_t *make(eai_fl_strategy_opts_t o)
{
    eai_fl_strategy_t *s = NULL;
    assert_int_equal(eai_fl_strategy_create(&o, 3, 2, &s), EAI_OK);
    return s;
}

static void near(double got, double want)
{
    if (fabs(got - want) > 1e-5 * (1 + fabs(want))) fail_msg("got %.9g, want %.9g", got, want);
}

static void test_fedavg(void **st)
{
    (void)st;
    eai_fl_strategy_t *s = make((eai_fl_strategy_opts_t){.algo = EAI_FL_FEDAVG});
    float g[3] = {1, 2, 10}, xa[3], xb[3];
    eai_fl_update_t u[2];
    make_updates(g, xa, xb, u);
    eai__test_fail_alloc(0);
    assert_int_equal(eai_fl_strategy_aggregate(s, g, u, 2), EAI_OK);
    assert_int_equal(eai__test_fail_alloc(0), 0); /* "never allocates" */
    near(g[0], 0.25 * 3 + 0.75 * 1);
    near(g[1], 0.25 * 2 + 0.75 * 6);
    near(g[2], 0.25 * 20 + 0.75 * 40);
    assert_null(eai_fl_strategy_control(s));
    assert_int_equal(eai_fl_strategy_state_floats(s), 0);
    eai_fl_strategy_destroy(s);

    /* server_lr 0.5: halfway from g to the mean; FedProx aggregates the same */
    s = make((eai_fl_strategy_opts_t){.algo = EAI_FL_FEDPROX, .server_lr = 0.5f});
    float h[3] = {1, 2, 10};
    make_updates(h, xa, xb, u);
    assert_int_equal(eai_fl_strategy_aggregate(s, h, u, 2), EAI_OK);
    near(h[0], 1.25);
    near(h[1], 3.5);
    near(h[2], 35);
    eai_fl_strategy_destroy(s);
}

/* Two rounds of each adaptive optimizer with the same D = {0.5, 3}: eta 0.1,
 * beta1 0.9, beta2 0.99, tau 1e-3, m0 = 0, v0 = tau^2 = 1e-6. */
static void adaptive(eai_fl_algo_t algo, const double v1[2], const double v2[2])
{
    eai_fl_strategy_t *s = make((eai_fl_strategy_opts_t){.algo = algo, .server_lr = 0.1f});
    assert_int_equal(eai_fl_strategy_state_floats(s), 4);
    const double D[2] = {0.5, 3};
    float g[3] = {1, 2, 10}, xa[3], xb[3];
    eai_fl_update_t u[2];
    double want[2] = {1, 2};
    for (int r = 0; r < 2; r++) {
        make_updates(g, xa, xb, u);
        assert_int_equal(eai_fl_strategy_aggregate(s, g, u, 2), EAI_OK);
        const float *m = eai_fl_strategy_state(s), *v = m + 2;
        const double mf = r == 0 ? 0.1 : 0.9 * 0.1 + 0.1; /* m1 = 0.1 D, m2 = 0.19 D */
        for (int j = 0; j < 2; j++) {
            const double vj = r == 0 ? v1[j] : v2[j];
            near(m[j], mf * D[j]);
            near(v[j], vj);
            want[j] += 0.1 * mf * D[j] / (sqrt(vj) + 1e-3);
            near(g[j], want[j]);
        }
        near(g[2], 35);
    }
    eai_fl_strategy_destroy(s);
}

static void test_fedadam(void **st)
{
    (void)st;
    /* v1 = 0.99 v0 + 0.01 D^2, v2 = 0.99 v1 + 0.01 D^2 */
    const double v1[2] = {0.99e-6 + 0.01 * 0.25, 0.99e-6 + 0.01 * 9};
    const double v2[2] = {0.99 * v1[0] + 0.01 * 0.25, 0.99 * v1[1] + 0.01 * 9};
    adaptive(EAI_FL_FEDADAM, v1, v2);
}

static void test_fedyogi(void **st)
{
    (void)st;
    /* v < D^2 both rounds: v - 0.01 D^2 sign(v - D^2) = v + 0.01 D^2 */
    const double v1[2] = {1e-6 + 0.01 * 0.25, 1e-6 + 0.01 * 9};
    const double v2[2] = {1e-6 + 0.02 * 0.25, 1e-6 + 0.02 * 9};
    adaptive(EAI_FL_FEDYOGI, v1, v2);
}

static void test_fedadagrad(void **st)
{
    (void)st;
    const double v1[2] = {1e-6 + 0.25, 1e-6 + 9};
    const double v2[2] = {1e-6 + 0.5, 1e-6 + 18};
    adaptive(EAI_FL_FEDADAGRAD, v1, v2);
}

static void test_scaffold(void **st)
{
    (void)st;
    eai_fl_strategy_t *s = make((eai_fl_strategy_opts_t){.algo = EAI_FL_SCAFFOLD, .population = 4});
    float g[3] = {1, 2, 10}, xa[3], xb[3];
    const float dca[2] = {1, -1}, dcb[2] = {3, 5};
    eai_fl_update_t u[2];
    make_updates(g, xa, xb, u);
    u[0].control_delta = dca;
    u[1].control_delta = dcb;
    assert_int_equal(eai_fl_strategy_aggregate(s, g, u, 2), EAI_OK);
    /* x += plain mean of deltas (not sample-weighted) */
    near(g[0], 1 + (2 + 0) / 2.0);
    near(g[1], 2 + (0 + 4) / 2.0);
    near(g[2], 35); /* buffers stay sample-weighted */
    /* c += |S|/N mean dc = (1/4) (dca + dcb) */
    const float *c = eai_fl_strategy_control(s);
    assert_non_null(c);
    near(c[0], (1 + 3) / 4.0);
    near(c[1], (-1 + 5) / 4.0);
    /* a missing control_delta is refused before anything changes */
    u[1].control_delta = NULL;
    float before = g[0];
    assert_int_equal(eai_fl_strategy_aggregate(s, g, u, 2), EAI_E_INVALID);
    assert_true(g[0] == before);
    eai_fl_strategy_destroy(s);

    /* population 0: N = |S|, so c += mean dc */
    s = make((eai_fl_strategy_opts_t){.algo = EAI_FL_SCAFFOLD});
    float h[3] = {1, 2, 10};
    make_updates(h, xa, xb, u);
    u[0].control_delta = dca;
    u[1].control_delta = dcb;
    assert_int_equal(eai_fl_strategy_aggregate(s, h, u, 2), EAI_OK);
    near(eai_fl_strategy_control(s)[0], 2);
    near(eai_fl_strategy_control(s)[1], 2);
    eai_fl_strategy_destroy(s);
}

static void test_fednova(void **st)
{
    (void)st;
    /* tau_A = 2, tau_B = 6: d_A = {1, 0}, d_B = {0, 4/6}; tau_eff = 0.25*2 +
     * 0.75*6 = 5; x = g + 5 * (0.25 d_A + 0.75 d_B) = {1 + 1.25, 2 + 2.5} */
    eai_fl_strategy_t *s = make((eai_fl_strategy_opts_t){.algo = EAI_FL_FEDNOVA});
    float g[3] = {1, 2, 10}, xa[3], xb[3];
    eai_fl_update_t u[2];
    make_updates(g, xa, xb, u);
    assert_int_equal(eai_fl_strategy_aggregate(s, g, u, 2), EAI_OK);
    near(g[0], 2.25);
    near(g[1], 4.5);
    near(g[2], 35);
    /* equal local steps: FedNova is FedAvg */
    float h[3] = {1, 2, 10};
    make_updates(h, xa, xb, u);
    u[0].local_steps = u[1].local_steps = 7;
    assert_int_equal(eai_fl_strategy_aggregate(s, h, u, 2), EAI_OK);
    near(h[0], 1.5);
    near(h[1], 5);
    u[0].local_steps = 0;
    assert_int_equal(eai_fl_strategy_aggregate(s, h, u, 2), EAI_E_INVALID);
    eai_fl_strategy_destroy(s);

    /* momentum rho 0.5: |a|_1 = sum_{k=1..tau} (1 - rho^k) / (1 - rho):
     * tau 2: (0.5 + 0.75) / 0.5 = 2.5; tau 6: 2 * (6 - (1 - 1/64)) = 10.03125 */
    s = make((eai_fl_strategy_opts_t){.algo = EAI_FL_FEDNOVA, .local_momentum = 0.5f});
    float k[3] = {1, 2, 10};
    make_updates(k, xa, xb, u);
    assert_int_equal(eai_fl_strategy_aggregate(s, k, u, 2), EAI_OK);
    const double teff = 0.25 * 2.5 + 0.75 * 10.03125;
    near(k[0], 1 + teff * 0.25 * 2 / 2.5);
    near(k[1], 2 + teff * 0.75 * 4 / 10.03125);
    eai_fl_strategy_destroy(s);
}

static void test_parse_and_bad_input(void **st)
{
    (void)st;
    const char *names[] = {"fedavg",     "fedprox",  "fedadam", "fedyogi",
                           "fedadagrad", "scaffold", "fednova"};
    for (int i = 0; i < 7; i++) {
        eai_fl_algo_t a;
        assert_int_equal(eai_fl_algo_parse(names[i], &a), EAI_OK);
        assert_int_equal(a, i);
        assert_string_equal(eai_fl_algo_name(a), names[i]);
    }
    eai_fl_algo_t a;
    assert_int_equal(eai_fl_algo_parse("fedfoo", &a), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "fedfoo"));
    assert_int_equal(eai_fl_algo_parse(NULL, &a), EAI_E_INVALID);
    assert_string_equal(eai_fl_algo_name((eai_fl_algo_t)42), "unknown");

    eai_fl_strategy_t *s = NULL;
    eai_fl_strategy_opts_t bad = {.algo = EAI_FL_FEDADAM, .beta1 = 1.0f};
    assert_int_equal(eai_fl_strategy_create(&bad, 3, 2, &s), EAI_E_INVALID);
    assert_int_equal(eai_fl_strategy_create(NULL, 3, 4, &s), EAI_E_INVALID);
    assert_int_equal(eai_fl_strategy_create(NULL, 0, 0, &s), EAI_E_INVALID);
    assert_null(s);

    s = make((eai_fl_strategy_opts_t){0});
    float g[3] = {1, 2, 10}, xa[3], xb[3];
    eai_fl_update_t u[2];
    make_updates(g, xa, xb, u);
    assert_int_equal(eai_fl_strategy_aggregate(s, g, u, 0), EAI_E_INVALID);
    u[1].n_params = 5;
    assert_int_equal(eai_fl_strategy_aggregate(s, g, u, 2), EAI_E_INVALID);
    u[1].n_params = 0;
    u[1].n_samples = 0;
    assert_int_equal(eai_fl_strategy_aggregate(s, g, u, 2), EAI_E_INVALID);
    u[1].n_samples = 3;
    u[0].params = NULL;
    assert_int_equal(eai_fl_strategy_aggregate(s, g, u, 2), EAI_E_INVALID);
    assert_true(g[0] == 1 && g[1] == 2 && g[2] == 10);
    eai_fl_strategy_destroy(s);
    eai_fl_strategy_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fedavg),
        cmocka_unit_test(test_fedadam),
        cmocka_unit_test(test_fedyogi),
        cmocka_unit_test(test_fedadagrad),
        cmocka_unit_test(test_scaffold),
        cmocka_unit_test(test_fednova),
        cmocka_unit_test(test_parse_and_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
