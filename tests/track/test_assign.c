/* The gated assignment solver: hand cases, then random small matrices
 * against exhaustive enumeration of every partial matching. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edgeai/track.h"

static int solve(const float *c, int r, int k, float limit, int *rm, int *cm)
{
    static char work[1 << 20];
    assert_true(eai_assign_work_bytes(r, k) <= sizeof work);
    return eai_assign(c, r, k, limit, rm, cm, work);
}

static void test_hand(void **s)
{
    (void)s;
    int rm[4], cm[4];
    /* 2x2: the diagonal costs 1 + 1, the cross 0.5 + 3: diagonal wins */
    const float a[] = {1, 0.5f, 3, 1};
    assert_int_equal(solve(a, 2, 2, 10, rm, cm), EAI_OK);
    assert_int_equal(rm[0], 0);
    assert_int_equal(rm[1], 1);
    /* 2x3 rectangular: row 0 -> col 2 (0.1), row 1 -> col 0 (0.2) */
    const float b[] = {0.9f, 0.8f, 0.1f, 0.2f, 0.7f, 0.3f};
    assert_int_equal(solve(b, 2, 3, 1, rm, cm), EAI_OK);
    assert_int_equal(rm[0], 2);
    assert_int_equal(rm[1], 0);
    assert_int_equal(cm[1], -1);
    /* SORT's trap, as costs 1 - IoU with IoU >= 0.3 only (limit 0.7):
     * IoU t0-d0 0.35, t0-d1 0.29, t1-d0 0.29, t1-d1 0. An unconstrained
     * max-IoU assignment takes the cross (0.58 > 0.35) and then drops both
     * pairs; the gated problem keeps t0-d0. */
    const float c[] = {0.65f, 0.71f, 0.71f, 1.0f};
    assert_int_equal(solve(c, 2, 2, 0.7f, rm, cm), EAI_OK);
    assert_int_equal(rm[0], 0);
    assert_int_equal(rm[1], -1);
    assert_int_equal(cm[1], -1);
    /* NaN and +inf never match; a cost equal to the limit does not either */
    const float d[] = {NAN, INFINITY, 0.5f, 0.4f};
    assert_int_equal(solve(d, 2, 2, 0.5f, rm, cm), EAI_OK);
    assert_int_equal(rm[0], -1);
    assert_int_equal(rm[1], 1);
    /* Leaving both unmatched costs the limit: pairing at 0.9 + 0.9 loses to
     * one pair at 0.1 with limit 1 (0.1 - 1 < 2 * (0.9 - 1)) */
    const float e[] = {0.1f, 0.9f, 0.9f, 5};
    assert_int_equal(solve(e, 2, 2, 1, rm, cm), EAI_OK);
    assert_int_equal(rm[0], 0);
    assert_int_equal(rm[1], -1);
    /* empty sides */
    assert_int_equal(solve(NULL, 0, 3, 1, rm, cm), EAI_OK);
    assert_int_equal(cm[2], -1);
    assert_int_equal(eai_assign(a, -1, 2, 1, rm, cm, NULL), EAI_E_INVALID);
    assert_int_equal(eai_assign(NULL, 2, 2, 1, rm, cm, NULL), EAI_E_INVALID);
}

static uint32_t rng = 12345;
static uint32_t next(void)
{
    rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
    return rng;
}

/* Best value of sum(cost - limit) over partial matchings, by recursion. */
static double brute(const float *c, int r, int k, float limit, int row, unsigned used)
{
    if (row == r) return 0;
    double best = brute(c, r, k, limit, row + 1, used); /* row unmatched */
    for (int j = 0; j < k; j++) {
        if (used & (1u << j)) continue;
        float v = c[row * k + j];
        if (!(v < limit)) continue;
        double t = (v - limit) + brute(c, r, k, limit, row + 1, used | (1u << j));
        if (t < best) best = t;
    }
    return best;
}

static void test_random_vs_brute(void **s)
{
    (void)s;
    float c[7 * 7];
    int rm[7], cm[7];
    for (int trial = 0; trial < 3000; trial++) {
        int r = 1 + (int)(next() % 7), k = 1 + (int)(next() % 7);
        float limit = 0.2f + (float)(next() % 80) / 100.0f;
        for (int i = 0; i < r * k; i++) {
            uint32_t u = next();
            c[i] = (u % 5 == 0) ? INFINITY : (float)(u % 1000) / 1000.0f;
        }
        assert_int_equal(solve(c, r, k, limit, rm, cm), EAI_OK);
        double got = 0;
        unsigned seen = 0;
        for (int i = 0; i < r; i++) {
            if (rm[i] < 0) continue;
            assert_true(rm[i] < k);
            assert_false(seen & (1u << rm[i]));
            seen |= 1u << rm[i];
            assert_int_equal(cm[rm[i]], i);
            assert_true(c[i * k + rm[i]] < limit);
            got += c[i * k + rm[i]] - limit;
        }
        double want = brute(c, r, k, limit, 0, 0);
        if (fabs(got - want) > 1e-5) {
            fprintf(stderr, "trial %d: %dx%d got %f want %f\n", trial, r, k, got, want);
            fail();
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand),
        cmocka_unit_test(test_random_vs_brute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
