/* Client drift on heterogeneous quadratics, without the trainer: client i
 * minimises f_i(w) = 1/2 |A_i w - b_i|^2 by K local gradient steps (a loop
 * in this file), the server aggregates with the library. The targets are
 * worked out independently of the library:
 *  - the optimum of (1/n) sum f_i: w* = (sum A_i^T A_i)^-1 sum A_i^T b_i;
 *  - for diagonal A_i, FedAvg's fixed point per coordinate: K steps map x to
 *    y_i = u_i + r_i (x - u_i), u_i = b_i / a_i, r_i = (1 - lr a_i^2)^K, so
 *    x = mean y_i gives x = sum (1 - r_i) u_i / sum (1 - r_i) != w*.
 * FedAvg must land on the biased point, SCAFFOLD on w*. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "edgeai/fl.h"

#define K  10
#define LR 0.1f

typedef struct {
    double a[2][2], b[2];
} quad_t;

/* Runs `rounds` rounds of full participation; returns the final model. */
static void run(eai_fl_algo_t algo, const quad_t *q, int n, int rounds, double out[2])
{
    eai_fl_server_opts_t o = {.n_clients = n, .strategy = {.algo = algo}};
    const float init[2] = {0, 0};
    eai_fl_server_t *s;
    assert_int_equal(eai_fl_server_create(&o, init, 2, 2, &s), EAI_OK);
    float ci[8][2] = {{0}}, y[8][2], dc[8][2];
    uint32_t ids[8];
    int m;
    for (int r = 0; r < rounds; r++) {
        assert_int_equal(eai_fl_server_begin_round(s, ids, &m), EAI_OK);
        assert_int_equal(m, n);
        const float *x = eai_fl_server_global(s);
        const float *c = eai_fl_strategy_control(eai_fl_server_strategy(s));
        for (int i = 0; i < n; i++) {
            const quad_t *Q = &q[ids[i]];
            float *ciw = ci[ids[i]];
            y[i][0] = x[0], y[i][1] = x[1];
            for (int k = 0; k < K; k++) {
                double res[2], g[2];
                for (int a = 0; a < 2; a++)
                    res[a] = Q->a[a][0] * y[i][0] + Q->a[a][1] * y[i][1] - Q->b[a];
                for (int j = 0; j < 2; j++) {
                    g[j] = Q->a[0][j] * res[0] + Q->a[1][j] * res[1]; /* A^T (A y - b) */
                    if (c) g[j] += c[j] - ciw[j];
                }
                for (int j = 0; j < 2; j++)
                    y[i][j] -= LR * (float)g[j];
            }
            if (c) /* option II: c_i+ = c_i - c + (x - y) / (K lr) */
                for (int j = 0; j < 2; j++) {
                    float cin = ciw[j] - c[j] + (x[j] - y[i][j]) / (K * LR);
                    dc[i][j] = cin - ciw[j];
                    ciw[j] = cin;
                }
            eai_fl_update_t u = {.round = (uint32_t)r,
                                 .client = ids[i],
                                 .n_samples = 1,
                                 .local_steps = K,
                                 .params = y[i],
                                 .control_delta = c ? dc[i] : NULL};
            assert_int_equal(eai_fl_server_submit(s, &u), EAI_OK);
        }
        assert_int_equal(eai_fl_server_finish_round(s, NULL), EAI_OK);
    }
    out[0] = eai_fl_server_global(s)[0];
    out[1] = eai_fl_server_global(s)[1];
    eai_fl_server_destroy(s);
}

static void optimum(const quad_t *q, int n, double w[2])
{
    double H[2][2] = {{0}}, g[2] = {0};
    for (int i = 0; i < n; i++)
        for (int a = 0; a < 2; a++) {
            for (int b = 0; b < 2; b++)
                for (int k = 0; k < 2; k++)
                    H[a][b] += q[i].a[k][a] * q[i].a[k][b];
            for (int k = 0; k < 2; k++)
                g[a] += q[i].a[k][a] * q[i].b[k];
        }
    const double det = H[0][0] * H[1][1] - H[0][1] * H[1][0];
    w[0] = (H[1][1] * g[0] - H[0][1] * g[1]) / det;
    w[1] = (-H[1][0] * g[0] + H[0][0] * g[1]) / det;
}

static void test_diagonal(void **st)
{
    (void)st;
    /* coordinate 0: a = (2, 1), u = (1, 0); coordinate 1: a = (1, 3), u = (0, 1) */
    const quad_t q[2] = {{{{2, 0}, {0, 1}}, {2, 0}}, {{{1, 0}, {0, 3}}, {0, 3}}};
    double ws[2];
    optimum(q, 2, ws);
    assert_true(fabs(ws[0] - 0.8) < 1e-12 && fabs(ws[1] - 0.9) < 1e-12); /* by hand: 4/5, 9/10 */

    double fa[2], sc[2], want[2];
    const double r00 = pow(1 - LR * 4.0, K), r01 = pow(1 - LR * 1.0, K);
    const double r10 = pow(1 - LR * 1.0, K), r11 = pow(1 - LR * 9.0, K);
    want[0] = ((1 - r00) * 1 + (1 - r01) * 0) / ((1 - r00) + (1 - r01));
    want[1] = ((1 - r10) * 0 + (1 - r11) * 1) / ((1 - r10) + (1 - r11));
    run(EAI_FL_FEDAVG, q, 2, 200, fa);
    assert_true(fabs(fa[0] - want[0]) < 1e-4 && fabs(fa[1] - want[1]) < 1e-4);
    assert_true(fabs(fa[0] - ws[0]) > 0.1); /* the drift is real: ~0.2 here */

    run(EAI_FL_SCAFFOLD, q, 2, 200, sc);
    if (fabs(sc[0] - ws[0]) > 1e-4 || fabs(sc[1] - ws[1]) > 1e-4)
        fail_msg("SCAFFOLD ended at (%g, %g), optimum (%g, %g)", sc[0], sc[1], ws[0], ws[1]);
}

static void test_coupled(void **st)
{
    (void)st;
    /* three clients, one with off-diagonal terms: no closed form for FedAvg,
     * but the optimum is a 2x2 solve */
    const quad_t q[3] = {
        {{{2, 0}, {0, 1}}, {2, 0}}, {{{1, 0}, {0, 3}}, {0, 3}}, {{{1, 1}, {0, 0.5}}, {-1, 1}}};
    double ws[2], fa[2], sc[2];
    optimum(q, 3, ws);
    run(EAI_FL_FEDAVG, q, 3, 300, fa);
    run(EAI_FL_SCAFFOLD, q, 3, 300, sc);
    const double efa = hypot(fa[0] - ws[0], fa[1] - ws[1]);
    const double esc = hypot(sc[0] - ws[0], sc[1] - ws[1]);
    if (esc > 1e-4 || efa < 0.05)
        fail_msg("optimum (%g, %g): FedAvg (%g, %g) error %g, SCAFFOLD (%g, %g) error %g", ws[0],
                 ws[1], fa[0], fa[1], efa, sc[0], sc[1], esc);
    /* FedNova with equal local steps is FedAvg: same biased point */
    double fn[2];
    run(EAI_FL_FEDNOVA, q, 3, 300, fn);
    assert_true(fabs(fn[0] - fa[0]) < 1e-5 && fabs(fn[1] - fa[1]) < 1e-5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diagonal),
        cmocka_unit_test(test_coupled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
