/* Webster's cycle by numeric minimisation of the delay formula, against a
 * reference computed independently (Python, the same formula on a 0.5 s
 * grid): y = {0.3, 0.2}, q = {0.15, 0.1} veh/s, L = 10 s -> 38.5 s (C0 of
 * the closed form: 40 s), total delay 3.38978 veh-s/s. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "edgeai/traffic.h"
#include "traffic/traffic_impl.h"

static double total(const double *y, const double *q, double c, double lost)
{
    double Y = y[0] + y[1], t = 0;
    for (int i = 0; i < 2; i++)
        t += q[i] * eai_tl_webster_delay(c, y[i] / Y * (c - lost), q[i], q[i] / y[i]);
    return t;
}

static void test_min_delay_cycle(void **state)
{
    (void)state;
    double y[2] = {0.3, 0.2}, q[2] = {0.15, 0.1}, g[2];
    double c = eai_tl_webster_plan_min_delay(y, q, 2, 10, 30, 120, g);
    assert_float_equal(c, 38.5, 1e-9);
    assert_float_equal(total(y, q, c, 10), 3.3897807, 1e-6);
    assert_true(total(y, q, c, 10) < total(y, q, 40, 10)); /* better than C0 */
    assert_float_equal(g[0], 0.6 * 28.5, 1e-9);
    assert_float_equal(g[1], 0.4 * 28.5, 1e-9);
    /* bounds: the optimum below min_c gives min_c; saturation gives max_c */
    assert_float_equal(eai_tl_webster_plan_min_delay(y, q, 2, 10, 60, 120, NULL), 60.0, 1e-9);
    double ys[2] = {0.6, 0.4};
    assert_float_equal(eai_tl_webster_plan_min_delay(ys, q, 2, 10, 30, 90, NULL), 90.0, 1e-9);
    /* no flow: min_c, equal splits */
    double z[2] = {0, 0};
    assert_float_equal(eai_tl_webster_plan_min_delay(z, z, 2, 10, 30, 90, g), 30.0, 1e-9);
    assert_float_equal(g[1], 10.0, 1e-9);
}

/* Webster's flow measure per lane: arrivals 30, 6 of them left under a
 * permissive green, queue grew 2 -> 5: 30 - 6 + 3 = 27. A shrinking queue
 * lowers it, never below 0: 3 - 5 + (1 - 4) = -5 -> 0. */
static void test_lane_demand(void **state)
{
    (void)state;
    assert_float_equal(eai__tl_lane_demand(30, 6, 2, 5), 27.0, 1e-12);
    assert_float_equal(eai__tl_lane_demand(30, 0, 5, 2), 27.0, 1e-12);
    assert_float_equal(eai__tl_lane_demand(3, 5, 4, 1), 0.0, 1e-12);
}

/* Smoothing across re-plans: weight 1 - exp(-window / tau), at least
 * 1 / (n_prev + 1). 300 s window, tau 300: 1 - e^-1 = 0.6321206 ->
 * 100 + 0.6321206 * 100. 60 s window: 1 - e^-0.2 = 0.1812692, which beats
 * 1/10 after 9 plans (118.12692) but not 1/2 after 1 (150). */
static void test_smooth(void **state)
{
    (void)state;
    assert_float_equal(eai__tl_smooth(100, 200, 300, 300, 0), 200.0, 1e-12);
    assert_float_equal(eai__tl_smooth(100, 200, 300, 300, 5), 163.2120559, 1e-6);
    assert_float_equal(eai__tl_smooth(100, 200, 60, 300, 9), 118.1269247, 1e-6);
    assert_float_equal(eai__tl_smooth(100, 200, 60, 300, 1), 150.0, 1e-12);
    /* tau 0: no memory */
    assert_float_equal(eai__tl_smooth(100, 200, 60, 0, 9), 200.0, 1e-12);
}

/* Measured saturation flow: 30 departures in 72 s of saturated green =
 * 1500 veh/h; under 60 s measured, or no departure: the fallback. */
static void test_sat_flow(void **state)
{
    (void)state;
    assert_float_equal(eai__tl_sat_flow(30, 72, 1800), 1500.0, 1e-9);
    assert_float_equal(eai__tl_sat_flow(20, 50, 1800), 1800.0, 1e-12);
    assert_float_equal(eai__tl_sat_flow(0, 100, 1700), 1700.0, 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_min_delay_cycle),
        cmocka_unit_test(test_lane_demand),
        cmocka_unit_test(test_smooth),
        cmocka_unit_test(test_sat_flow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
