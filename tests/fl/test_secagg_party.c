/* Tests for the one-party-per-object SecAgg API (src/fl/secagg_party.c) with
 * every message carried through the FL wire codec (EAI_FLMSG_SA_* tables,
 * edgeai/flmsg.h), as `edgeai fl server/client --secure-agg` do: the server's
 * sum equals the exact sum of the survivors' inputs (computed here in
 * double) within the quantisation bound, with clients dropping after
 * sharing and after masking; a masked vector does not show its input; and
 * bad, duplicate, late or short messages fail with the documented status. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edgeai/flmsg.h"
#include "edgeai/secagg.h"

#define N   5
#define LEN 257

static void fill(float *v, size_t n, uint64_t seed, double amp)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        v[i] = (float)(amp * (2.0 * (double)(seed >> 11) * 0x1p-53 - 1.0));
    }
}

/* Packs a dense table into a frame, decodes it and unpacks it again: what
 * crosses the wire. */
static void wire(int type, int n, unsigned index, bool *present, uint8_t *rows)
{
    uint8_t pl[8 + N + N * EAI_SECAGG_BOX_BYTES], frame[EAI_FLMSG_HEADER_BYTES + sizeof pl];
    size_t np, nf;
    assert_int_equal(eai_flmsg_sa_pack(type, 7, n, index, present, rows, pl, sizeof pl, &np),
                     EAI_OK);
    eai_flmsg_hdr_t h = {.type = (uint8_t)type, .round = 3, .client = 1, .sender = 1};
    assert_int_equal(eai_flmsg_encode(&h, pl, np, 0, 0, frame, sizeof frame, &nf), EAI_OK);
    eai_flmsg_hdr_t d;
    const uint8_t *p;
    assert_int_equal(eai_flmsg_decode(frame, nf, &d, &p), EAI_OK);
    eai_flmsg_sa_t sa;
    assert_int_equal(eai_flmsg_sa_parse(d.type, p, d.chunk_bytes, &sa), EAI_OK);
    assert_int_equal(sa.attempt, 7);
    assert_int_equal(sa.n, n);
    assert_int_equal(sa.index, index);
    eai_flmsg_sa_unpack(&sa, present, rows);
}

/* One round among N clients: drop_share[u] stops u after sharing (no masked
 * input), drop_mask[u] after masking (no unmasking answer). Returns the
 * server's status of finish; sum and rep filled on success. */
static eai_status_t round_trip(const bool *drop_share, const bool *drop_mask, float x[N][LEN],
                               float *sum, eai_secagg_report_t *rep)
{
    eai_secagg_opts_t o = {.threshold = 3, .range = 4.0, .frac_bits = 16};
    eai_secagg_client_t *c[N];
    eai_secagg_server_t *s;
    assert_int_equal(eai_secagg_server_create(N, LEN, &o, &s), EAI_OK);
    assert_int_equal(eai_secagg_server_threshold(s), 3);
    static uint8_t rows[N * EAI_SECAGG_BOX_BYTES], mine[N][N * EAI_SECAGG_BOX_BYTES];
    bool present[N], addressed[N][N];
    for (int u = 0; u < N; u++) {
        assert_int_equal(eai_secagg_client_create(u, N, LEN, &o, 0, &c[u]), EAI_OK);
        memset(present, 0, sizeof present);
        present[u] = true;
        assert_int_equal(eai_secagg_client_advertise(c[u], rows + u * EAI_SECAGG_ADV_BYTES),
                         EAI_OK);
        wire(EAI_FLMSG_SA_ADVERTISE, N, (unsigned)u, present, rows);
        assert_int_equal(eai_secagg_server_advertise(s, u, rows + u * EAI_SECAGG_ADV_BYTES),
                         EAI_OK);
    }
    assert_int_equal(eai_secagg_server_peers(s, rows, present), EAI_OK);
    wire(EAI_FLMSG_SA_PEERS, N, EAI_FLMSG_SA_NOINDEX, present, rows);
    for (int u = 0; u < N; u++) {
        assert_int_equal(eai_secagg_client_share(c[u], rows, present, mine[u], addressed[u]),
                         EAI_OK);
        for (int v = 0; v < N; v++)
            assert_int_equal(addressed[u][v], v != u);
    }
    for (int u = 0; u < N; u++) {
        wire(EAI_FLMSG_SA_SHARES, N, (unsigned)u, addressed[u], mine[u]);
        assert_int_equal(eai_secagg_server_share(s, u, mine[u], addressed[u]), EAI_OK);
    }
    for (int v = 0; v < N; v++) {
        assert_int_equal(eai_secagg_server_mailbox(s, v, rows, present), EAI_OK);
        wire(EAI_FLMSG_SA_BUNDLE, N, (unsigned)v, present, rows);
        for (int u = 0; u < N; u++) {
            assert_int_equal(present[u], u != v);
            if (present[u])
                assert_int_equal(
                    eai_secagg_client_receive(c[v], u, rows + u * EAI_SECAGG_BOX_BYTES), EAI_OK);
        }
    }
    uint32_t y[LEN];
    for (int u = 0; u < N; u++) {
        if (drop_share && drop_share[u]) continue;
        assert_int_equal(eai_secagg_client_mask(c[u], x[u], y), EAI_OK);
        assert_int_equal(eai_secagg_server_masked(s, u, y), EAI_OK);
    }
    bool alive[N];
    eai_status_t st = eai_secagg_server_survivors(s, alive);
    if (st == EAI_OK) {
        wire(EAI_FLMSG_SA_UNMASK_REQ, N, EAI_FLMSG_SA_NOINDEX, alive, NULL);
        for (int v = 0; v < N; v++) {
            assert_int_equal(alive[v], !(drop_share && drop_share[v]));
            if (!alive[v] || (drop_mask && drop_mask[v])) continue;
            assert_int_equal(eai_secagg_client_unmask(c[v], alive, rows, present), EAI_OK);
            wire(EAI_FLMSG_SA_UNMASK, N, (unsigned)v, present, rows);
            assert_int_equal(eai_secagg_server_unmask(s, v, rows, present), EAI_OK);
        }
        st = eai_secagg_server_finish(s, sum, rep);
    }
    for (int u = 0; u < N; u++)
        eai_secagg_client_destroy(c[u]);
    eai_secagg_server_destroy(s);
    return st;
}

static float X[N][LEN];

static void check_sum(const bool *drop_share, const bool *drop_mask)
{
    for (int u = 0; u < N; u++)
        fill(X[u], LEN, 100 + (uint64_t)u, 3.9);
    float sum[LEN];
    eai_secagg_report_t rep;
    assert_int_equal(round_trip(drop_share, drop_mask, X, sum, &rep), EAI_OK);
    int m = 0;
    for (int u = 0; u < N; u++)
        m += !(drop_share && drop_share[u]);
    assert_int_equal(rep.n_dropped, N - m);
    /* by hand: m roundings of half a step (2^-17) plus the float cast */
    assert_true(fabs(rep.max_quant_error - (m * 0x1p-17 + m * 4.0 * 0x1p-24)) < 1e-15);
    double worst = 0;
    for (size_t i = 0; i < LEN; i++) {
        double ref = 0;
        for (int u = 0; u < N; u++)
            if (!(drop_share && drop_share[u])) ref += X[u][i];
        worst = fmax(worst, fabs((double)sum[i] - ref));
    }
    if (!(worst <= rep.max_quant_error))
        fail_msg("max |sum - exact| = %g > bound %g", worst, rep.max_quant_error);
}

static void test_sum_all_survive(void **state)
{
    (void)state;
    check_sum(NULL, NULL);
}

static void test_sum_dropouts(void **state)
{
    (void)state;
    /* 1 drops after sharing (pairwise masks removed from others' shares of
     * its key); 3 after masking (still summed: self mask from shares) */
    const bool ds[N] = {false, true, false, false, false};
    const bool dm[N] = {false, false, false, true, false};
    check_sum(ds, dm);
    const bool ds2[N] = {true, false, false, false, true};
    check_sum(ds2, NULL);
}

static void test_too_few(void **state)
{
    (void)state;
    const bool ds[N] = {true, true, true, false, false}; /* 2 alive < t = 3 */
    float sum[LEN];
    assert_int_equal(round_trip(ds, NULL, X, sum, NULL), EAI_E_UNAVAILABLE);
    const bool dm[N] = {false, true, true, true, false}; /* 5 alive, 2 answer */
    assert_int_equal(round_trip(NULL, dm, X, sum, NULL), EAI_E_UNAVAILABLE);
}

/* Fraction of words equal to the plain fixed-point input: a masked vector
 * is a uniform-looking word per value, so about 2^-32 per word. */
static void test_masked_not_revealing(void **state)
{
    (void)state;
    eai_secagg_opts_t o = {.threshold = 2, .range = 4.0, .frac_bits = 16};
    eai_secagg_client_t *c[2];
    uint8_t keys[2 * EAI_SECAGG_ADV_BYTES], box[2][2 * EAI_SECAGG_BOX_BYTES];
    bool adv[2] = {true, true};
    for (int u = 0; u < 2; u++) {
        assert_int_equal(eai_secagg_client_create(u, 2, LEN, &o, 42, &c[u]), EAI_OK);
        assert_int_equal(eai_secagg_client_advertise(c[u], keys + u * EAI_SECAGG_ADV_BYTES),
                         EAI_OK);
    }
    for (int u = 0; u < 2; u++)
        assert_int_equal(eai_secagg_client_share(c[u], keys, adv, box[u], NULL), EAI_OK);
    assert_int_equal(eai_secagg_client_receive(c[0], 1, box[1] + 0 * EAI_SECAGG_BOX_BYTES), EAI_OK);
    float x[LEN];
    uint32_t y[LEN];
    for (size_t i = 0; i < LEN; i++)
        x[i] = (float)(i % 7) * 0.25f; /* structured: 0, 0.25, ..., 1.5 */
    assert_int_equal(eai_secagg_client_mask(c[0], x, y), EAI_OK);
    int same = 0, small = 0;
    for (size_t i = 0; i < LEN; i++) {
        const uint32_t q = (uint32_t)(int32_t)lrint((double)x[i] * 65536.0);
        same += y[i] == q;
        small += y[i] < (1u << 20) || y[i] > 0xfff00000u; /* |value| < 16 in fixed point */
    }
    assert_int_equal(same, 0);
    /* inputs all lie within +-2^20 of 0; masked words should land there with
     * probability 2^-11 each, so a handful at most */
    assert_true(small <= 3);
    eai_secagg_client_destroy(c[0]);
    eai_secagg_client_destroy(c[1]);
}

static void test_bad_messages(void **state)
{
    (void)state;
    eai_secagg_opts_t o = {.threshold = 2};
    eai_secagg_client_t *c[3], *bad;
    eai_secagg_server_t *s;
    assert_int_equal(eai_secagg_client_create(3, 3, 4, &o, 1, &bad), EAI_E_INVALID);
    assert_int_equal(eai_secagg_client_create(0, 300, 4, &o, 1, &bad), EAI_E_INVALID);
    assert_int_equal(eai_secagg_client_create(0, 3, 4, &o, 1, NULL), EAI_E_INVALID);
    assert_int_equal(eai_secagg_server_create(3, 4, &o, &s), EAI_OK);
    uint8_t keys[3 * EAI_SECAGG_ADV_BYTES], boxes[3][3 * EAI_SECAGG_BOX_BYTES];
    uint8_t shares[3 * EAI_SECAGG_SHARE_BYTES];
    bool adv[3], from[3], alive[3], present[3] = {false, false, false};
    float x[4] = {1, -1, 0.5f, 2}, sum[4];
    uint32_t y[4];
    for (int u = 0; u < 3; u++) {
        assert_int_equal(eai_secagg_client_create(u, 3, 4, &o, 9, &c[u]), EAI_OK);
        assert_int_equal(eai_secagg_client_mask(c[u], x, y), EAI_E_STATE); /* before share */
        assert_int_equal(eai_secagg_client_advertise(c[u], keys + u * EAI_SECAGG_ADV_BYTES),
                         EAI_OK);
        assert_int_equal(eai_secagg_client_advertise(c[u], keys), EAI_E_STATE);
    }
    assert_int_equal(eai_secagg_server_advertise(s, 3, keys), EAI_E_INVALID);
    assert_int_equal(eai_secagg_server_advertise(s, -1, keys), EAI_E_INVALID);
    assert_int_equal(eai_secagg_server_peers(s, keys, adv), EAI_E_UNAVAILABLE); /* 0 < t */
    assert_int_equal(eai_secagg_server_advertise(s, 0, keys), EAI_OK);
    assert_int_equal(eai_secagg_server_advertise(s, 0, keys), EAI_E_STATE); /* duplicate */
    assert_int_equal(eai_secagg_server_advertise(s, 1, keys + EAI_SECAGG_ADV_BYTES), EAI_OK);
    assert_int_equal(eai_secagg_server_advertise(s, 2, keys + 2 * EAI_SECAGG_ADV_BYTES), EAI_OK);
    assert_int_equal(eai_secagg_server_masked(s, 0, y), EAI_E_STATE); /* too early */
    assert_int_equal(eai_secagg_server_peers(s, keys, adv), EAI_OK);
    assert_int_equal(eai_secagg_server_advertise(s, 1, keys), EAI_E_STATE); /* late */
    for (int u = 0; u < 3; u++)
        assert_int_equal(eai_secagg_client_share(c[u], keys, adv, boxes[u], from), EAI_OK);
    assert_int_equal(eai_secagg_client_share(c[0], keys, adv, boxes[0], from), EAI_E_STATE);
    bool wrong[3] = {false, false, true}; /* omits client 1 */
    assert_int_equal(eai_secagg_server_share(s, 0, boxes[0], wrong), EAI_E_FORMAT);
    for (int u = 0; u < 3; u++)
        assert_int_equal(eai_secagg_server_share(s, u, boxes[u], NULL), EAI_OK);
    assert_int_equal(eai_secagg_server_share(s, 1, boxes[1], NULL), EAI_E_STATE); /* duplicate */
    uint8_t mb[3 * EAI_SECAGG_BOX_BYTES];
    assert_int_equal(eai_secagg_server_mailbox(s, 0, mb, from), EAI_OK);
    /* a tampered box, a box from itself, from outside, then the real one twice */
    uint8_t t[EAI_SECAGG_BOX_BYTES];
    memcpy(t, mb + 1 * EAI_SECAGG_BOX_BYTES, sizeof t);
    t[20] ^= 1;
    assert_int_equal(eai_secagg_client_receive(c[0], 1, t), EAI_E_FORMAT);
    assert_int_equal(eai_secagg_client_receive(c[0], 0, mb), EAI_E_FORMAT);
    assert_int_equal(eai_secagg_client_receive(c[0], 5, mb), EAI_E_INVALID);
    assert_int_equal(eai_secagg_client_receive(c[0], 2, mb + EAI_SECAGG_BOX_BYTES), EAI_E_FORMAT);
    assert_int_equal(eai_secagg_client_receive(c[0], 1, mb + EAI_SECAGG_BOX_BYTES), EAI_OK);
    assert_int_equal(eai_secagg_client_receive(c[0], 1, mb + EAI_SECAGG_BOX_BYTES), EAI_E_STATE);
    assert_int_equal(eai_secagg_client_receive(c[0], 2, mb + 2 * EAI_SECAGG_BOX_BYTES), EAI_OK);
    for (int v = 1; v < 3; v++) {
        assert_int_equal(eai_secagg_server_mailbox(s, v, mb, from), EAI_OK);
        for (int u = 0; u < 3; u++)
            if (from[u])
                assert_int_equal(eai_secagg_client_receive(c[v], u, mb + u * EAI_SECAGG_BOX_BYTES),
                                 EAI_OK);
    }
    assert_int_equal(eai_secagg_server_share(s, 2, boxes[2], NULL), EAI_E_STATE); /* closed */
    float big[4] = {1, 100, 0, 0}; /* |x| > range 16 */
    assert_int_equal(eai_secagg_client_mask(c[0], big, y), EAI_E_INVALID);
    assert_int_equal(eai_secagg_client_mask(c[0], x, y), EAI_OK);
    assert_int_equal(eai_secagg_client_mask(c[0], x, y), EAI_E_STATE);
    assert_int_equal(eai_secagg_server_masked(s, 0, y), EAI_OK);
    assert_int_equal(eai_secagg_server_masked(s, 0, y), EAI_E_STATE); /* duplicate */
    assert_int_equal(eai_secagg_client_mask(c[1], x, y), EAI_OK);
    assert_int_equal(eai_secagg_server_masked(s, 1, y), EAI_OK);
    assert_int_equal(eai_secagg_server_finish(s, sum, NULL), EAI_E_STATE); /* no survivors yet */
    assert_int_equal(eai_secagg_server_survivors(s, alive), EAI_OK);
    assert_int_equal(eai_secagg_client_mask(c[2], x, y), EAI_OK);
    assert_int_equal(eai_secagg_server_masked(s, 2, y), EAI_E_STATE); /* after survivors */
    assert_false(alive[2]);
    /* client 2 is not alive: it must not answer */
    assert_int_equal(eai_secagg_client_unmask(c[2], alive, shares, present), EAI_E_STATE);
    assert_int_equal(eai_secagg_server_unmask(s, 2, shares, present), EAI_E_STATE);
    assert_int_equal(eai_secagg_client_unmask(c[0], alive, shares, present), EAI_OK);
    assert_int_equal(eai_secagg_client_unmask(c[0], alive, shares, present), EAI_E_STATE);
    assert_int_equal(eai_secagg_server_finish(s, sum, NULL), EAI_E_UNAVAILABLE); /* 0 < t */
    assert_int_equal(eai_secagg_server_unmask(s, 0, shares, present), EAI_OK);
    assert_int_equal(eai_secagg_server_unmask(s, 0, shares, present), EAI_E_STATE);
    assert_int_equal(eai_secagg_server_finish(s, sum, NULL), EAI_E_UNAVAILABLE); /* 1 < t */
    assert_int_equal(eai_secagg_client_unmask(c[1], alive, shares, present), EAI_OK);
    assert_int_equal(eai_secagg_server_unmask(s, 1, shares, present), EAI_OK);
    eai_secagg_report_t rep;
    assert_int_equal(eai_secagg_server_finish(s, sum, &rep), EAI_OK);
    assert_int_equal(rep.n_dropped, 1);
    for (int i = 0; i < 4; i++)
        assert_true(fabs(sum[i] - 2.0 * x[i]) <= rep.max_quant_error);
    assert_int_equal(eai_secagg_server_finish(s, sum, NULL), EAI_E_STATE);
    for (int u = 0; u < 3; u++)
        eai_secagg_client_destroy(c[u]);
    eai_secagg_server_destroy(s);
    eai_secagg_client_destroy(NULL);
    eai_secagg_server_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sum_all_survive), cmocka_unit_test(test_sum_dropouts),
        cmocka_unit_test(test_too_few),         cmocka_unit_test(test_masked_not_revealing),
        cmocka_unit_test(test_bad_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
