/* Tests for the secure-aggregation frames of the FL wire format (types
 * 8..14, edgeai/flmsg.h): exact bytes of a table against the documented
 * layout, round trips, a chunked masked input through the reassembler, and
 * every malformed table refused by parse, decode and encode alike. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "edgeai/flmsg.h"

uint32_t eai__crc32c(uint32_t crc, const void *p, size_t n); /* src/core */

static void test_table_bytes(void **state)
{
    (void)state;
    /* 3 parties, rows for 0 and 2 of an SA_UNMASK (32-byte rows), from index 1 */
    uint8_t rows[3 * 32], out[256];
    for (int i = 0; i < 96; i++)
        rows[i] = (uint8_t)i;
    bool present[3] = {true, false, true};
    size_t n;
    assert_int_equal(eai_flmsg_sa_row_bytes(EAI_FLMSG_SA_UNMASK), 32);
    assert_int_equal(eai_flmsg_sa_bytes(EAI_FLMSG_SA_UNMASK, 3, 2), 8 + 3 + 64);
    assert_int_equal(eai_flmsg_sa_pack(EAI_FLMSG_SA_UNMASK, 0x01020304, 3, 1, present, rows, out,
                                       sizeof out, &n),
                     EAI_OK);
    assert_int_equal(n, 75);
    const uint8_t head[11] = {4, 3, 2, 1, 3, 0, 1, 0, 1, 0, 1};
    assert_memory_equal(out, head, 11);
    assert_memory_equal(out + 11, rows, 32);      /* row 0 */
    assert_memory_equal(out + 43, rows + 64, 32); /* row 2 */
    eai_flmsg_sa_t m;
    assert_int_equal(eai_flmsg_sa_parse(EAI_FLMSG_SA_UNMASK, out, n, &m), EAI_OK);
    assert_int_equal(m.attempt, 0x01020304);
    assert_int_equal(m.n, 3);
    assert_int_equal(m.index, 1);
    assert_int_equal(m.n_rows, 2);
    uint8_t back[96];
    bool p2[3];
    memset(back, 0xee, sizeof back);
    eai_flmsg_sa_unpack(&m, p2, back);
    assert_true(p2[0] && !p2[1] && p2[2]);
    assert_memory_equal(back, rows, 32);
    assert_memory_equal(back + 64, rows + 64, 32);
    for (int i = 32; i < 64; i++)
        assert_int_equal(back[i], 0);
}

static void expect_bad(int type, const uint8_t *p, size_t n, const char *what)
{
    eai_flmsg_sa_t m;
    if (eai_flmsg_sa_parse(type, p, n, &m) != EAI_E_FORMAT) fail_msg("parse accepted: %s", what);
    /* a one-chunk frame carrying it fails decode, and encode refuses it */
    eai_flmsg_hdr_t h = {.type = (uint8_t)type};
    uint8_t f[512];
    size_t nf;
    if (eai_flmsg_encode(&h, p, n, 0, 0, f, sizeof f, &nf) != EAI_E_INVALID)
        fail_msg("encode accepted: %s", what);
}

static void test_bad_tables(void **state)
{
    (void)state;
    uint8_t keys[2 * 64] = {0}, p[256];
    bool both[2] = {true, true};
    size_t n;
    assert_int_equal(eai_flmsg_sa_pack(EAI_FLMSG_SA_PEERS, 1, 2, EAI_FLMSG_SA_NOINDEX, both, keys,
                                       p, sizeof p, &n),
                     EAI_OK);
    assert_int_equal(n, 8 + 2 + 128);
    uint8_t b[256];
#define BAD(what, code, len)                                                                       \
    do {                                                                                           \
        memcpy(b, p, n);                                                                           \
        code;                                                                                      \
        expect_bad(EAI_FLMSG_SA_PEERS, b, len, what);                                              \
    } while (0)
    BAD("short head", (void)0, 7);
    BAD("empty", (void)0, 0);
    BAD("truncated row", (void)0, n - 1);
    BAD("extra byte", b[n] = 0, n + 1);
    BAD("n = 0", b[4] = 0, n);
    BAD("n = 256", (b[4] = 0, b[5] = 1), n);
    BAD("broadcast with an index", b[6] = 0, n);
    BAD("presence 2", b[8] = 2, n);
    BAD("presence 0 but row there", b[9] = 0, n);
#undef BAD
    expect_bad(EAI_FLMSG_UPDATE_CHUNK + 0, p, n, "not an SA type") /* parse only */;
    /* a client table must name a party below n */
    bool one[2] = {false, true};
    assert_int_equal(eai_flmsg_sa_pack(EAI_FLMSG_SA_ADVERTISE, 0, 2, 2, one, keys, p, sizeof p, &n),
                     EAI_E_INVALID);
    assert_int_equal(eai_flmsg_sa_pack(EAI_FLMSG_SA_ADVERTISE, 0, 2, 1, one, keys, p, 10, &n),
                     EAI_E_INVALID); /* cap */
    assert_int_equal(eai_flmsg_sa_pack(EAI_FLMSG_SA_MASKED, 0, 2, 1, one, keys, p, sizeof p, &n),
                     EAI_E_INVALID); /* not a table */
    assert_int_equal(eai_flmsg_sa_pack(EAI_FLMSG_SA_ADVERTISE, 0, 2, 1, one, keys, p, sizeof p, &n),
                     EAI_OK);
    p[6] = 2; /* index = n */
    expect_bad(EAI_FLMSG_SA_ADVERTISE, p, n, "index = n");
    /* decode of a frame whose CRCs are right but whose table is short */
    eai_flmsg_hdr_t h = {.type = EAI_FLMSG_SA_ADVERTISE};
    uint8_t f[256];
    size_t nf;
    p[6] = 1;
    assert_int_equal(eai_flmsg_encode(&h, p, n, 0, 0, f, sizeof f, &nf), EAI_OK);
    f[EAI_FLMSG_HEADER_BYTES + 4] = 3; /* n = 3: the table is now too short */
    const uint32_t pc = eai__crc32c(0, f + EAI_FLMSG_HEADER_BYTES, nf - EAI_FLMSG_HEADER_BYTES);
    for (int i = 0; i < 4; i++)
        f[44 + i] = (uint8_t)(pc >> (8 * i));
    const uint32_t hc = eai__crc32c(0, f, 76);
    for (int i = 0; i < 4; i++)
        f[76 + i] = (uint8_t)(hc >> (8 * i));
    eai_flmsg_hdr_t d;
    const uint8_t *pl;
    assert_int_equal(eai_flmsg_decode(f, nf, &d, &pl), EAI_E_FORMAT);
    assert_null(pl);
    assert_int_equal(d.type, 0);
}

static void test_masked_chunked(void **state)
{
    (void)state;
    uint32_t y[50], back[50];
    for (int i = 0; i < 50; i++)
        y[i] = 0x9e3779b9u * (uint32_t)(i + 1);
    uint8_t pl[8 + 200], f[EAI_FLMSG_HEADER_BYTES + 64];
    size_t n, nf;
    assert_int_equal(eai_flmsg_sa_pack_masked(2, 4, 3, y, 50, pl, sizeof pl, &n), EAI_OK);
    assert_int_equal(n, 208);
    assert_int_equal(pl[8], (uint8_t)y[0]); /* little-endian words after the head */
    assert_int_equal(pl[11], (uint8_t)(y[0] >> 24));
    eai_flmsg_hdr_t h = {.type = EAI_FLMSG_SA_MASKED,
                         .round = 5,
                         .client = 9,
                         .sender = 9,
                         .n_samples = 500,
                         .local_steps = 16,
                         .train_loss = 1.5};
    assert_int_equal(eai_flmsg_encode(&h, pl, n, 30, 0, f, sizeof f, &nf), EAI_E_INVALID);
    const uint32_t nc = eai_flmsg_chunk_count(n, 64);
    assert_int_equal(nc, 4);
    eai_flmsg_asm_t *a;
    assert_int_equal(eai_flmsg_asm_create(NULL, &a), EAI_OK);
    eai_flmsg_msg_t m;
    bool done = false;
    for (uint32_t i = nc; i-- > 0;) { /* out of order */
        assert_int_equal(eai_flmsg_encode(&h, pl, n, 64, i, f, sizeof f, &nf), EAI_OK);
        assert_int_equal(eai_flmsg_asm_add(a, f, nf, &m, &done), EAI_OK);
        assert_int_equal(done, i == 0);
    }
    eai_flmsg_sa_t sa;
    assert_int_equal(eai_flmsg_sa_parse(m.hdr.type, m.data, m.n_bytes, &sa), EAI_OK);
    assert_int_equal(sa.attempt, 2);
    assert_int_equal(sa.n, 4);
    assert_int_equal(sa.index, 3);
    assert_int_equal(sa.n_words, 50);
    assert_null(sa.present);
    eai_flmsg_sa_get_words(&sa, back);
    assert_memory_equal(back, y, sizeof y);
    assert_int_equal(m.hdr.n_samples, 500);
    eai_flmsg_asm_destroy(a);
    /* bad: words not whole, head short, index = n */
    eai_flmsg_sa_t bad;
    assert_int_equal(eai_flmsg_sa_parse(EAI_FLMSG_SA_MASKED, pl, 10, &bad), EAI_E_FORMAT);
    assert_int_equal(eai_flmsg_sa_parse(EAI_FLMSG_SA_MASKED, pl, 4, &bad), EAI_E_FORMAT);
    pl[6] = 4;
    assert_int_equal(eai_flmsg_sa_parse(EAI_FLMSG_SA_MASKED, pl, n, &bad), EAI_E_FORMAT);
    assert_int_equal(eai_flmsg_sa_pack_masked(0, 4, 4, y, 50, pl, sizeof pl, &n), EAI_E_INVALID);
    assert_int_equal(eai_flmsg_sa_pack_masked(0, 4, 0, y, 50, pl, 100, &n), EAI_E_INVALID);
    /* an SA_MASKED message shorter than its head is refused on the wire too */
    assert_int_equal(eai_flmsg_encode(&h, pl, 4, 0, 0, f, sizeof f, &nf), EAI_E_INVALID);
    assert_string_equal(eai_flmsg_type_name(EAI_FLMSG_SA_MASKED), "sa_masked");
    assert_string_equal(eai_flmsg_type_name(15), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_bytes),
        cmocka_unit_test(test_bad_tables),
        cmocka_unit_test(test_masked_chunked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
