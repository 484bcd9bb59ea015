/* Tests for Shamir secret sharing over GF(2^8) (src/fl/shamir.c): field
 * arithmetic against hand values, every t-subset of n shares rebuilds the
 * secret, t - 1 shares carry no information, bad share sets fail cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "edgeai/status.h"
#include "fl/shamir.h"

static int setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

static void test_gf256(void **state)
{
    (void)state;
    /* FIPS-197 Sec. 4.2: {57} x {83} = {c1}, {57} x {13} = {fe}. */
    assert_int_equal(eai__gf256_mul(0x57, 0x83), 0xc1);
    assert_int_equal(eai__gf256_mul(0x57, 0x13), 0xfe);
    assert_int_equal(eai__gf256_mul(0x57, 0x02), 0xae);
    assert_int_equal(eai__gf256_mul(0xae, 0x02), 0x47);
    assert_int_equal(eai__gf256_mul(0, 0x57), 0);
    /* FIPS-197 Sec. 5.1.1 (S-box input): {53}^-1 = {ca}. */
    assert_int_equal(eai__gf256_inv(0x53), 0xca);
    for (int a = 1; a < 256; a++)
        assert_int_equal(eai__gf256_mul((uint8_t)a, eai__gf256_inv((uint8_t)a)), 1);
}

/* Visits every k-subset of 0..n-1 (in idx), calling check for each. */
static int visit(int *idx, int k, int n, int pos, int start,
                 void (*check)(const int *, int, void *), void *ctx)
{
    if (pos == k) {
        check(idx, k, ctx);
        return 1;
    }
    int c = 0;
    for (int i = start; i < n; i++) {
        idx[pos] = i;
        c += visit(idx, k, n, pos + 1, i + 1, check, ctx);
    }
    return c;
}

typedef struct {
    const uint8_t *shares, *secret;
    size_t len;
    int t;
    bool expect_equal;
    int n_equal;
} ctx_t;

static void check_subset(const int *idx, int k, void *p)
{
    ctx_t *c = p;
    uint8_t xs[255];
    const uint8_t *ys[255];
    for (int i = 0; i < k; i++) {
        xs[i] = (uint8_t)(idx[i] + 1);
        ys[i] = c->shares + (size_t)idx[i] * c->len;
    }
    uint8_t out[100];
    assert_int_equal(eai__shamir_combine(xs, ys, k, c->t, c->len, out), EAI_OK);
    if (c->expect_equal) assert_memory_equal(out, c->secret, c->len);
    c->n_equal += memcmp(out, c->secret, c->len) == 0;
}

static void test_any_t_of_n(void **state)
{
    (void)state;
    const struct {
        int t, n;
        size_t len;
    } cases[] = {{3, 5, 32}, {1, 4, 32}, {5, 5, 32}, {4, 9, 33}, {2, 3, 70}};
    for (int ci = 0; ci < 5; ci++) {
        uint8_t secret[100], shares[9 * 100], seed[32] = {(uint8_t)ci};
        randombytes_buf(secret, sizeof secret);
        int t = cases[ci].t, n = cases[ci].n;
        size_t len = cases[ci].len;
        assert_int_equal(eai__shamir_split(secret, len, t, n, seed, shares), EAI_OK);
        ctx_t c = {shares, secret, len, t, true, 0};
        int idx[9];
        int visited = visit(idx, t, n, 0, 0, check_subset, &c);
        assert_int_equal(c.n_equal, visited);
        /* More than t shares also rebuild (the first t are used). */
        visit(idx, n, n, 0, 0, check_subset, &c);
        /* t - 1 shares with a lowered threshold give a different value. */
        if (t > 1) {
            ctx_t w = {shares, secret, len, t - 1, false, 0};
            visit(idx, t - 1, n, 0, 0, check_subset, &w);
            assert_int_equal(w.n_equal, 0);
        }
    }
}

static void test_seeded_and_random(void **state)
{
    (void)state;
    uint8_t secret[32] = "edgeai secagg shamir test secret", a[5 * 32], b[5 * 32], c[5 * 32];
    uint8_t seed[32] = {7};
    assert_int_equal(eai__shamir_split(secret, 32, 3, 5, seed, a), EAI_OK);
    assert_int_equal(eai__shamir_split(secret, 32, 3, 5, seed, b), EAI_OK);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(eai__shamir_split(secret, 32, 3, 5, NULL, c), EAI_OK);
    assert_memory_not_equal(a, c, sizeof a);
    /* t = 1: every share is the secret itself (degree-0 polynomial). */
    assert_int_equal(eai__shamir_split(secret, 32, 1, 5, NULL, c), EAI_OK);
    for (int j = 0; j < 5; j++)
        assert_memory_equal(c + 32 * j, secret, 32);
}

/* Any t - 1 shares are uniform whatever the secret: the byte histogram of
 * shares 1 and 2 of a 3-of-5 split of an all-zero secret and of an all-0xff
 * secret are both uniform (chi-square, 255 dof) and alike. */
static void test_t_minus_1_shares_hide(void **state)
{
    (void)state;
    enum { LEN = 8192 };
    static uint8_t s0[LEN], s1[LEN], sh0[5 * LEN], sh1[5 * LEN];
    memset(s0, 0, LEN);
    memset(s1, 0xff, LEN);
    uint8_t k0[32] = {1}, k1[32] = {2};
    assert_int_equal(eai__shamir_split(s0, LEN, 3, 5, k0, sh0), EAI_OK);
    assert_int_equal(eai__shamir_split(s1, LEN, 3, 5, k1, sh1), EAI_OK);
    double h0[256] = {0}, h1[256] = {0};
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < LEN; i++) {
            h0[sh0[j * LEN + i]]++;
            h1[sh1[j * LEN + i]]++;
        }
    double e = 2.0 * LEN / 256, c0 = 0, c1 = 0, c01 = 0;
    for (int b = 0; b < 256; b++) {
        c0 += (h0[b] - e) * (h0[b] - e) / e;
        c1 += (h1[b] - e) * (h1[b] - e) / e;
        c01 += (h0[b] - h1[b]) * (h0[b] - h1[b]) / (h0[b] + h1[b]);
    }
    /* chi2(255): mean 255, sd 22.6; 7 sd above the mean. */
    assert_true(c0 < 255 + 7 * 22.6);
    assert_true(c1 < 255 + 7 * 22.6);
    assert_true(c01 < 255 + 7 * 22.6);
}

static void test_bad_counts(void **state)
{
    (void)state;
    uint8_t secret[32] = {1}, shares[256 * 32];
    assert_int_equal(eai__shamir_split(secret, 32, 0, 5, NULL, shares), EAI_E_INVALID);
    assert_int_equal(eai__shamir_split(secret, 32, 6, 5, NULL, shares), EAI_E_INVALID);
    assert_int_equal(eai__shamir_split(secret, 32, 2, 256, NULL, shares), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "255"));
    assert_int_equal(eai__shamir_split(secret, 32, 2, 0, NULL, shares), EAI_E_INVALID);
    assert_int_equal(eai__shamir_split(NULL, 32, 2, 3, NULL, shares), EAI_E_INVALID);

    assert_int_equal(eai__shamir_split(secret, 32, 3, 5, NULL, shares), EAI_OK);
    uint8_t xs[3] = {1, 2, 3}, out[32];
    const uint8_t *ys[3] = {shares, shares + 32, shares + 64};
    assert_int_equal(eai__shamir_combine(xs, ys, 2, 3, 32, out), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "threshold is 3"));
    assert_int_equal(eai__shamir_combine(xs, ys, 3, 0, 32, out), EAI_E_INVALID);
    uint8_t dup[3] = {1, 2, 2};
    assert_int_equal(eai__shamir_combine(dup, ys, 3, 3, 32, out), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "both have x = 2"));
    uint8_t zero[3] = {0, 2, 3};
    assert_int_equal(eai__shamir_combine(zero, ys, 3, 3, 32, out), EAI_E_INVALID);
    assert_int_equal(eai__shamir_combine(xs, ys, 3, 3, 32, out), EAI_OK);
    assert_memory_equal(out, secret, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gf256),
        cmocka_unit_test(test_any_t_of_n),
        cmocka_unit_test(test_seeded_and_random),
        cmocka_unit_test(test_t_minus_1_shares_hide),
        cmocka_unit_test(test_bad_counts),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
