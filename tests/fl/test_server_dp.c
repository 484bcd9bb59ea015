/* The server's DP mode (eai_fl_server_opts_t.dp_*): each update's delta is
 * clipped, the sum divided by the number SAMPLED (a client that never
 * answers still counts: the fixed-denominator estimator), and seeded
 * Gaussian noise of std sigma * clip / m added; epsilon grows by round as
 * the RDP accountant says. Expected models are computed by hand here from
 * the definitions (the noise drawn with the public eai_dp_gaussian on the
 * documented seed). Bad options: SCAFFOLD/FedNova with DP, no rounds. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "edgeai/fl.h"
#include "fl/fl_impl.h"

#define NP 4

static void test_dp_round(void **state)
{
    (void)state;
    const float g0[NP] = {1, 1, 1, 1};
    eai_fl_server_opts_t o = {.n_clients = 3,
                              .quorum = 2,
                              .seed = 5,
                              .dp_epsilon = 4,
                              .dp_delta = 1e-5,
                              .dp_clip = 1,
                              .dp_rounds = 3};
    eai_fl_server_t *s;
    assert_int_equal(eai_fl_server_create(&o, g0, NP, NP, &s), EAI_OK);
    const double sigma = eai_fl_server_dp_sigma(s);
    /* q = 3 / 3: the accountant's sigma for 3 full-batch rounds at (4, 1e-5) */
    assert_true(fabs(sigma - eai_rdp_sigma_for(1.0, 3, 1e-5, 4)) <= 1e-12 * sigma);
    assert_true(eai_fl_server_dp_epsilon(s) == 0);
    uint32_t ids[3];
    int m;
    assert_int_equal(eai_fl_server_begin_round(s, ids, &m), EAI_OK);
    assert_int_equal(m, 3);
    /* client 2: delta (3, 4, 0, 0), norm 5, clipped to 1; client 0: delta
     * (0, 0, 0.3, 0.4), norm 0.5, kept; client 1 never answers */
    const float x2[NP] = {4, 5, 1, 1}, x0[NP] = {1, 1, 1.3f, 1.4f};
    eai_fl_update_t u2 = {.round = 0, .client = 2, .n_samples = 10, .params = x2};
    eai_fl_update_t u0 = {.round = 0, .client = 0, .n_samples = 99, .params = x0};
    assert_int_equal(eai_fl_server_submit(s, &u2), EAI_OK);
    assert_int_equal(eai_fl_server_submit(s, &u0), EAI_OK);
    eai_fl_round_report_t rep;
    assert_int_equal(eai_fl_server_finish_round(s, &rep), EAI_OK);
    /* mean over the 3 sampled (not the 2 that answered), unweighted */
    const double mean[NP] = {0.6 / 3, 0.8 / 3, (1.3f - 1.0) / 3, (1.4f - 1.0) / 3};
    float noise[NP] = {0};
    eai_dp_gaussian(noise, NP, sigma * 1.0 / 3, eai__fl_dp_noise_seed(5, 0, 0, 0));
    const float *g = eai_fl_server_global(s);
    double dev = 0;
    for (int j = 0; j < NP; j++) {
        const double want = 1.0 + mean[j] + noise[j];
        if (fabs(g[j] - want) > 2e-6) fail_msg("param %d: %.9g, expected %.9g", j, g[j], want);
        dev += fabs(g[j] - (1.0 + mean[j]));
    }
    assert_true(dev > 1e-3); /* the noise is there */
    const double e1 = eai_fl_server_dp_epsilon(s);
    assert_true(fabs(e1 - eai_rdp_epsilon(1.0, sigma, 1, 1e-5)) <= 1e-12 * e1);
    assert_true(e1 > 0 && e1 < 4);
    eai_fl_server_destroy(s);
}

static void test_dp_bad_options(void **state)
{
    (void)state;
    const float g0[NP] = {0};
    eai_fl_server_t *s = NULL;
    eai_fl_server_opts_t o = {.n_clients = 3, .dp_epsilon = 1, .dp_rounds = 2};
    o.strategy.algo = EAI_FL_SCAFFOLD;
    assert_int_equal(eai_fl_server_create(&o, g0, NP, NP, &s), EAI_E_UNSUPPORTED);
    assert_non_null(strstr(eai_last_error(), "scaffold"));
    o.strategy.algo = EAI_FL_FEDNOVA;
    assert_int_equal(eai_fl_server_create(&o, g0, NP, NP, &s), EAI_E_UNSUPPORTED);
    o.strategy.algo = EAI_FL_FEDAVG;
    o.dp_rounds = 0;
    assert_int_equal(eai_fl_server_create(&o, g0, NP, NP, &s), EAI_E_INVALID);
    o.dp_rounds = 2;
    o.dp_delta = 1.5;
    assert_int_equal(eai_fl_server_create(&o, g0, NP, NP, &s), EAI_E_INVALID);
    o.dp_delta = 0;
    o.dp_epsilon = -1;
    assert_int_equal(eai_fl_server_create(&o, g0, NP, NP, &s), EAI_E_INVALID);
    assert_null(s);
    /* without DP both accessors say 0 */
    o.dp_epsilon = 0;
    assert_int_equal(eai_fl_server_create(&o, g0, NP, NP, &s), EAI_OK);
    assert_true(eai_fl_server_dp_sigma(s) == 0 && eai_fl_server_dp_epsilon(s) == 0);
    eai_fl_server_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dp_round),
        cmocka_unit_test(test_dp_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
