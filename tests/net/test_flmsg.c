/* FL wire format: exact header bytes, round trips of float vectors of several
 * sizes (0, one chunk, not a multiple of the chunk), chunks out of order and
 * duplicated, every malformed header field -> EAI_E_FORMAT, inconsistent
 * chunks, and the reassembler's memory caps. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/core_impl.h"
#include "edgeai/flmsg.h"
#include "plan/plan_impl.h"

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void wr64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
/* after editing a header field, make the header CRC valid again so the
 * decoder reaches the field's own check */
static void fix_hcrc(uint8_t *f)
{
    wr32(f + 76, eai__crc32c(0, f, 76));
}

static void test_header_bytes(void **state)
{
    const float v[2] = {1.0f, -2.0f};
    eai_flmsg_hdr_t h = {.type = EAI_FLMSG_UPDATE_CHUNK,
                         .round = 7,
                         .client = 0x0102,
                         .sender = 9,
                         .n_samples = 600,
                         .local_steps = 19,
                         .train_loss = 0.5};
    uint8_t f[128];
    size_t n = 0;
    assert_int_equal(eai_flmsg_encode_floats(&h, v, 2, 0, 0, f, sizeof f, &n), EAI_OK);
    assert_int_equal(n, 88);
    static const uint8_t want[76] = {
        'E',  'A', 'F', 'L', 1,    0,    3,    0,                 /* magic, version, type, flags */
        7,    0,   0,   0,   0x02, 0x01, 0,    0,    9,  0, 0, 0, /* round, client, sender */
        0,    0,   0,   0,   1,    0,    0,    0,    0,  0, 4, 0, /* index 0, count 1, stride 256
                                                                     KiB */
        8,    0,   0,   0,   0,    0,    0,    0,    8,  0, 0, 0, /* total 8, chunk 8 */
        0,    0,   0,   0,                                        /* payload CRC, checked below */
        0x58, 2,   0,   0,   0,    0,    0,    0,    19, 0, 0, 0, 0,
        0,    0,   0,                                /* n_samples 600, steps 19 */
        0,    0,   0,   0,   0,    0,    0xe0, 0x3f, /* 0.5 as binary64 */
        0,    0,   0,   0};                          /* reserved */
    for (int i = 0; i < 76; i++) {
        if (i >= 44 && i < 48) continue;
        if (f[i] != want[i]) fail_msg("header byte %d: %02x, expected %02x", i, f[i], want[i]);
    }
    /* payload: 1.0f = 00 00 80 3f, -2.0f = 00 00 00 c0 (little-endian) */
    static const uint8_t pl[8] = {0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0};
    assert_memory_equal(f + 80, pl, 8);
    /* CRC-32C check value of the standard: "123456789" -> e3069283 */
    assert_int_equal(eai__crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(rd32(f + 44), eai__crc32c(0, pl, 8));
    assert_int_equal(rd32(f + 76), eai__crc32c(0, f, 76));
}

/* Encodes v in chunks of `chunk` bytes, offers them in order[] (indices may
 * repeat), and checks the result equals v exactly. */
static void roundtrip(size_t n, size_t chunk, const uint32_t *order, int n_order)
{
    float *v = malloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = (float)i * 0.25f - 3.0f;
    uint32_t count = eai_flmsg_chunk_count((uint64_t)n * 4, chunk);
    size_t c = chunk ? chunk : EAI_FLMSG_DEFAULT_CHUNK;
    assert_int_equal(count, n ? (n * 4 + c - 1) / c : 1);
    eai_flmsg_asm_t *a;
    assert_int_equal(eai_flmsg_asm_create(NULL, &a), EAI_OK);
    size_t cap = EAI_FLMSG_HEADER_BYTES + c;
    uint8_t *f = malloc(cap);
    eai_flmsg_hdr_t h = {.type = EAI_FLMSG_MODEL_CHUNK,
                         .round = 3,
                         .client = EAI_FLMSG_BROADCAST,
                         .sender = 0,
                         .n_samples = 42};
    int completions = 0;
    uint32_t seq_default[64];
    if (!order) {
        for (uint32_t i = 0; i < count; i++)
            seq_default[i] = count - 1 - i; /* reversed */
        order = seq_default;
        n_order = (int)count;
    }
    for (int k = 0; k < n_order; k++) {
        size_t len;
        assert_int_equal(eai_flmsg_encode_floats(&h, v, n, chunk, order[k], f, cap, &len), EAI_OK);
        eai_flmsg_msg_t m;
        bool done;
        assert_int_equal(eai_flmsg_asm_add(a, f, len, &m, &done), EAI_OK);
        if (done) {
            completions++;
            assert_int_equal(m.n_bytes, n * 4);
            assert_int_equal(m.hdr.round, 3);
            assert_int_equal(m.hdr.client, EAI_FLMSG_BROADCAST);
            assert_int_equal(m.hdr.n_samples, 42);
            float *back = malloc((n ? n : 1) * sizeof *back);
            eai_flmsg_get_floats(m.data, n, back);
            for (size_t i = 0; i < n; i++)
                assert_true(back[i] == (float)i * 0.25f - 3.0f);
            free(back);
        }
    }
    assert_int_equal(completions, 1);
    eai_flmsg_asm_stats_t st;
    eai_flmsg_asm_stats(a, &st);
    assert_int_equal(st.n_partial, 0);
    assert_int_equal(st.buffered_bytes, 0);
    assert_int_equal(st.duplicates, (uint64_t)n_order - count);
    eai_flmsg_asm_destroy(a);
    free(f);
    free(v);
}

static void test_roundtrip_sizes(void **state)
{
    roundtrip(0, 16, NULL, 0);     /* empty vector: one empty chunk */
    roundtrip(1, 16, NULL, 0);     /* smaller than a chunk */
    roundtrip(4, 16, NULL, 0);     /* exactly one chunk */
    roundtrip(5, 16, NULL, 0);     /* 16 + 4 */
    roundtrip(37, 16, NULL, 0);    /* 10 chunks, last of 4 bytes */
    roundtrip(100000, 0, NULL, 0); /* default 256 KiB: 400000 bytes -> 2 chunks */
    roundtrip(65536, 0, NULL, 0);  /* exactly the default chunk */
}

static void test_out_of_order_and_duplicates(void **state)
{
    /* 5 floats in 8-byte chunks: 3 chunks; duplicates before completion and
     * after it (a QoS 1 redelivery) are ignored */
    static const uint32_t order[] = {2, 2, 0, 2, 1, 0, 1};
    roundtrip(5, 8, order, 7);
}

static size_t valid_frame(uint8_t *f, size_t cap)
{
    static const float v[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    eai_flmsg_hdr_t h = {.type = EAI_FLMSG_UPDATE_CHUNK, .round = 1, .client = 2, .sender = 2};
    size_t n;
    /* chunk 1 of 3 (16-byte stride): 16 payload bytes */
    assert_int_equal(eai_flmsg_encode_floats(&h, v, 10, 16, 1, f, cap, &n), EAI_OK);
    return n;
}

static void expect_format(const uint8_t *f, size_t n, const char *what)
{
    eai_flmsg_hdr_t h;
    const uint8_t *p;
    eai_status_t st = eai_flmsg_decode(f, n, &h, &p);
    if (st != EAI_E_FORMAT)
        fail_msg("%s: status %s, expected EAI_E_FORMAT", what, eai_status_str(st));
    if (!strstr(eai_last_error(), "flmsg")) fail_msg("%s: message \"%s\"", what, eai_last_error());
    assert_null(p);
}

static void test_malformed_fields(void **state)
{
    uint8_t good[256], f[256];
    size_t n = valid_frame(good, sizeof good);
    assert_int_equal(n, 96);
    eai_flmsg_hdr_t h;
    const uint8_t *p;
    assert_int_equal(eai_flmsg_decode(good, n, &h, &p), EAI_OK);
    assert_int_equal(h.chunk_index, 1);
    assert_int_equal(h.chunk_count, 3);
    assert_ptr_equal(p, good + 80);

#define MUT(what, code, fix)                                                                       \
    do {                                                                                           \
        memcpy(f, good, n);                                                                        \
        code;                                                                                      \
        if (fix) fix_hcrc(f);                                                                      \
        expect_format(f, n, what);                                                                 \
    } while (0)
    MUT("magic", f[0] = 'X', 1);
    MUT("version", f[4] = 2, 1);
    MUT("header crc", f[8] ^= 1, 0);
    MUT("type 0", f[6] = 0, 1);
    MUT("type 15", f[6] = 15, 1);
    MUT("control type with 3 chunks", f[6] = EAI_FLMSG_JOIN, 1);
    MUT("flags", f[7] = 1, 1);
    MUT("reserved", f[72] = 1, 1);
    MUT("chunk index = count", wr32(f + 20, 3), 1);
    MUT("overlong count", wr32(f + 24, 4), 1);
    MUT("short count", wr32(f + 24, 2), 1);
    MUT("count 0", wr32(f + 24, 0), 1);
    MUT("stride 0", wr32(f + 28, 0), 1);
    MUT("stride not whole floats", wr32(f + 28, 18), 1);
    MUT("stride over max", wr32(f + 28, EAI_FLMSG_MAX_CHUNK + 4), 1);
    MUT("total over max", wr64(f + 32, EAI_FLMSG_MAX_TOTAL + 4), 1);
    MUT("total not whole floats", wr64(f + 32, 42), 1);
    MUT("chunk bytes", wr32(f + 40, 12), 1);
    MUT("payload crc", f[44] ^= 1, 1);
    MUT("payload byte", f[85] ^= 0x10, 0);
    MUT("n_samples < 0", wr64(f + 48, (uint64_t)-1), 1);
    MUT("local_steps < 0", wr64(f + 56, (uint64_t)-5), 1);
    MUT("loss NaN", wr64(f + 64, 0x7ff8000000000000ull), 1);
    MUT("loss inf", wr64(f + 64, 0x7ff0000000000000ull), 1);
#undef MUT
    memcpy(f, good, n);
    expect_format(f, n - 1, "truncated payload");
    f[n] = 0;
    expect_format(f, n + 1, "extra byte");
    expect_format(f, 79, "shorter than the header");
    expect_format(f, 0, "empty");
    assert_int_equal(eai_flmsg_decode(NULL, 0, &h, &p), EAI_E_INVALID);

    /* the reassembler reports the same and keeps nothing */
    eai_flmsg_asm_t *a;
    assert_int_equal(eai_flmsg_asm_create(NULL, &a), EAI_OK);
    eai_flmsg_msg_t m;
    bool done = true;
    memcpy(f, good, n);
    f[90] ^= 0xff;
    assert_int_equal(eai_flmsg_asm_add(a, f, n, &m, &done), EAI_E_FORMAT);
    assert_false(done);
    eai_flmsg_asm_stats_t st;
    eai_flmsg_asm_stats(a, &st);
    assert_int_equal(st.rejected, 1);
    assert_int_equal(st.n_partial, 0);
    eai_flmsg_asm_destroy(a);
}

static void test_encode_bad_args(void **state)
{
    uint8_t f[256];
    size_t n;
    float v[4] = {0};
    eai_flmsg_hdr_t h = {.type = EAI_FLMSG_UPDATE_CHUNK};
    assert_int_equal(eai_flmsg_encode_floats(&h, v, 4, 16, 1, f, sizeof f, &n), EAI_E_INVALID);
    assert_int_equal(eai_flmsg_encode_floats(&h, v, 4, 6, 0, f, sizeof f, &n), EAI_E_INVALID);
    assert_int_equal(eai_flmsg_encode_floats(&h, v, 4, 16, 0, f, 90, &n), EAI_E_INVALID);
    h.n_samples = -1;
    assert_int_equal(eai_flmsg_encode_floats(&h, v, 4, 16, 0, f, sizeof f, &n), EAI_E_INVALID);
    h.n_samples = 0;
    h.train_loss = NAN;
    assert_int_equal(eai_flmsg_encode_floats(&h, v, 4, 16, 0, f, sizeof f, &n), EAI_E_INVALID);
    h.train_loss = 0;
    h.type = 15;
    assert_int_equal(eai_flmsg_encode_floats(&h, v, 4, 16, 0, f, sizeof f, &n), EAI_E_INVALID);
    h.type = EAI_FLMSG_ROUND_OPEN; /* control messages are one chunk */
    assert_int_equal(eai_flmsg_encode(&h, v, 16, 8, 0, f, sizeof f, &n), EAI_E_INVALID);
    assert_int_equal(eai_flmsg_encode(&h, v, 16, 0, 0, f, sizeof f, &n), EAI_OK);
    assert_int_equal(n, 96);
}

static void test_mixed_frames(void **state)
{
    float v[12] = {0};
    uint8_t f[256];
    size_t n;
    eai_flmsg_asm_t *a;
    eai_flmsg_msg_t m;
    bool done;
    assert_int_equal(eai_flmsg_asm_create(NULL, &a), EAI_OK);
    eai_flmsg_hdr_t h = {
        .type = EAI_FLMSG_UPDATE_CHUNK, .round = 4, .client = 1, .sender = 1, .n_samples = 10};
    assert_int_equal(eai_flmsg_encode_floats(&h, v, 12, 16, 0, f, sizeof f, &n), EAI_OK);
    assert_int_equal(eai_flmsg_asm_add(a, f, n, &m, &done), EAI_OK);
    assert_false(done);
    /* same (type, round, client) but another total */
    assert_int_equal(eai_flmsg_encode_floats(&h, v, 8, 16, 1, f, sizeof f, &n), EAI_OK);
    assert_int_equal(eai_flmsg_asm_add(a, f, n, &m, &done), EAI_E_FORMAT);
    assert_non_null(strstr(eai_last_error(), "disagrees"));
    /* another stride */
    assert_int_equal(eai_flmsg_encode_floats(&h, v, 12, 32, 1, f, sizeof f, &n), EAI_OK);
    assert_int_equal(eai_flmsg_asm_add(a, f, n, &m, &done), EAI_E_FORMAT);
    /* another n_samples */
    h.n_samples = 11;
    assert_int_equal(eai_flmsg_encode_floats(&h, v, 12, 16, 1, f, sizeof f, &n), EAI_OK);
    assert_int_equal(eai_flmsg_asm_add(a, f, n, &m, &done), EAI_E_FORMAT);
    /* another sender */
    h.n_samples = 10;
    h.sender = 5;
    assert_int_equal(eai_flmsg_encode_floats(&h, v, 12, 16, 1, f, sizeof f, &n), EAI_OK);
    assert_int_equal(eai_flmsg_asm_add(a, f, n, &m, &done), EAI_E_FORMAT);
    /* the consistent rest still completes */
    h.sender = 1;
    for (uint32_t i = 1; i < 3; i++) {
        assert_int_equal(eai_flmsg_encode_floats(&h, v, 12, 16, i, f, sizeof f, &n), EAI_OK);
        assert_int_equal(eai_flmsg_asm_add(a, f, n, &m, &done), EAI_OK);
    }
    assert_true(done);
    assert_int_equal(m.n_bytes, 48);
    eai_flmsg_asm_destroy(a);
}

static void test_memory_caps(void **state)
{
    float v[64] = {0};
    uint8_t f[256];
    size_t n;
    eai_flmsg_msg_t m;
    bool done;
    eai_flmsg_asm_t *a;
    eai_flmsg_asm_opts_t o = {.max_partial = 2, .max_bytes = 600};
    assert_int_equal(eai_flmsg_asm_create(&o, &a), EAI_OK);
    eai_flmsg_hdr_t h = {.type = EAI_FLMSG_UPDATE_CHUNK, .round = 1};
    /* two partial messages of 256 bytes (+1 bitmap byte) each fit */
    for (uint32_t c = 0; c < 2; c++) {
        h.client = h.sender = c;
        assert_int_equal(eai_flmsg_encode_floats(&h, v, 64, 64, 0, f, sizeof f, &n), EAI_OK);
        assert_int_equal(eai_flmsg_asm_add(a, f, n, &m, &done), EAI_OK);
    }
    eai_flmsg_asm_stats_t st;
    eai_flmsg_asm_stats(a, &st);
    assert_int_equal(st.n_partial, 2);
    assert_int_equal(st.buffered_bytes, 2 * (256 + 1));
    /* a third is refused (slots) */
    h.client = h.sender = 2;
    assert_int_equal(eai_flmsg_encode_floats(&h, v, 64, 64, 0, f, sizeof f, &n), EAI_OK);
    assert_int_equal(eai_flmsg_asm_add(a, f, n, &m, &done), EAI_E_NOMEM);
    assert_non_null(strstr(eai_last_error(), "max_partial"));
    /* a closed round's stragglers can be dropped, then it fits */
    assert_int_equal(eai_flmsg_asm_drop_before(a, 1), 0);
    assert_int_equal(eai_flmsg_asm_drop_before(a, 2), 2);
    assert_int_equal(eai_flmsg_asm_add(a, f, n, &m, &done), EAI_OK);
    /* a message larger than the byte cap is refused up front */
    h.round = 2;
    h.client = h.sender = 3;
    float big[200] = {0};
    assert_int_equal(eai_flmsg_encode_floats(&h, big, 200, 64, 0, f, sizeof f, &n), EAI_OK);
    assert_int_equal(eai_flmsg_asm_add(a, f, n, &m, &done), EAI_E_NOMEM);
    assert_non_null(strstr(eai_last_error(), "cap"));
    eai_flmsg_asm_stats(a, &st);
    assert_int_equal(st.n_partial, 1);
    assert_int_equal(st.buffered_bytes, 257);
    eai_flmsg_asm_destroy(a);
}

/* Every allocation of create and add fails in turn: EAI_E_NOMEM, no leak
 * (checked under ASan), and the same frames then succeed. */
static void test_oom(void **state)
{
    float v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t f[2][256];
    size_t n[2];
    eai_flmsg_hdr_t h = {.type = EAI_FLMSG_UPDATE_CHUNK, .round = 1, .client = 1, .sender = 1};
    for (uint32_t i = 0; i < 2; i++)
        assert_int_equal(eai_flmsg_encode_floats(&h, v, 8, 16, i, f[i], 256, &n[i]), EAI_OK);
    for (long k = 1; k < 20; k++) {
        eai__test_fail_alloc(k);
        eai_flmsg_asm_t *a = NULL;
        eai_status_t st = eai_flmsg_asm_create(NULL, &a);
        bool done = false;
        eai_flmsg_msg_t m;
        for (int i = 0; i < 2 && st == EAI_OK; i++)
            st = eai_flmsg_asm_add(a, f[i], n[i], &m, &done);
        long used = eai__test_fail_alloc(0);
        eai_flmsg_asm_destroy(a);
        if (st == EAI_OK) {
            assert_true(done);
            assert_true(used < k); /* no allocation left to fail */
            return;
        }
        assert_int_equal(st, EAI_E_NOMEM);
    }
    fail_msg("more than 19 allocations");
}

/* Frames written by fuzz/gen_flmsg_corpus.py (an independent Python encoder
 * of the documented layout) decode to the values it encoded. */
static void feed_file(const char *name, eai_flmsg_asm_t *a, int *n_done, eai_flmsg_msg_t *last,
                      float *vals, size_t n_vals)
{
    char path[512];
    snprintf(path, sizeof path, EAI_SOURCE_DIR "/fuzz/corpus/flmsg/%s", name);
    FILE *fp = fopen(path, "rb");
    if (!fp) fail_msg("%s missing (run fuzz/gen_flmsg_corpus.py)", path);
    uint8_t buf[4096];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    assert_true(n > 1 && buf[0] == 0);
    for (size_t off = 1; off + 2 <= n;) {
        size_t len = (size_t)buf[off] | (size_t)buf[off + 1] << 8;
        off += 2;
        assert_true(off + len <= n);
        bool done;
        eai_status_t st = eai_flmsg_asm_add(a, buf + off, len, last, &done);
        if (st != EAI_OK) fail_msg("%s: %s", name, eai_last_error());
        if (done) {
            (*n_done)++;
            if (vals && last->n_bytes == n_vals * 4) eai_flmsg_get_floats(last->data, n_vals, vals);
        }
        off += len;
    }
}

static void test_python_corpus(void **state)
{
    eai_flmsg_asm_t *a;
    assert_int_equal(eai_flmsg_asm_create(NULL, &a), EAI_OK);
    int n_done = 0;
    eai_flmsg_msg_t m;
    float v[40];
    feed_file("update_dups", a, &n_done, &m, v, 40);
    assert_int_equal(n_done, 1);
    assert_int_equal(m.hdr.type, EAI_FLMSG_UPDATE_CHUNK);
    assert_int_equal(m.hdr.round, 3);
    assert_int_equal(m.hdr.client, 2);
    assert_int_equal(m.hdr.n_samples, 600);
    assert_int_equal(m.hdr.local_steps, 19);
    assert_true(m.hdr.train_loss == 0.75);
    assert_int_equal(m.hdr.chunk_count, 5);
    for (int i = 0; i < 40; i++)
        assert_true(v[i] == 0.25f * (float)i - 1.0f);
    n_done = 0;
    feed_file("control", a, &n_done, &m, NULL, 0);
    assert_int_equal(n_done, 5);
    assert_int_equal(m.hdr.type, EAI_FLMSG_MODEL_MANIFEST);
    assert_int_equal(m.n_bytes, 16);
    eai_flmsg_asm_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_bytes),
        cmocka_unit_test(test_roundtrip_sizes),
        cmocka_unit_test(test_out_of_order_and_duplicates),
        cmocka_unit_test(test_malformed_fields),
        cmocka_unit_test(test_encode_bad_args),
        cmocka_unit_test(test_mixed_frames),
        cmocka_unit_test(test_memory_caps),
        cmocka_unit_test(test_oom),
        cmocka_unit_test(test_python_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
