/* FL wire format version 2: a float message with a second block (SCAFFOLD's
 * control variate beside the model, or c_i+ - c_i beside an update). The
 * bytes of a v2 frame against the documented layout, a chunked round trip,
 * v1 and v2 messages reassembled side by side, every new field's bad value
 * (decode: EAI_E_FORMAT, encode: EAI_E_INVALID), and frames written by the
 * independent Python encoder (fuzz/gen_flmsg_corpus.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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
static void fix_hcrc(uint8_t *f)
{
    wr32(f + 76, eai__crc32c(0, f, 76));
}

static const eai_flmsg_hdr_t upd = {.type = EAI_FLMSG_UPDATE_CHUNK,
                                    .flags = EAI_FLMSG_FLAG_BLOCK2,
                                    .n_block2 = 2,
                                    .round = 5,
                                    .client = 3,
                                    .sender = 3,
                                    .n_samples = 40,
                                    .local_steps = 2};

static void test_v2_bytes(void **state)
{
    (void)state;
    const float v[3] = {1.0f, 0.5f, -2.0f}; /* params {1}, control {0.5, -2} */
    uint8_t f[128];
    size_t n;
    assert_int_equal(eai_flmsg_encode_floats(&upd, v, 3, 0, 0, f, sizeof f, &n), EAI_OK);
    assert_int_equal(n, 92);
    assert_memory_equal(f, "EAFL", 4);
    assert_int_equal(f[4] | f[5] << 8, 2); /* version 2 */
    assert_int_equal(f[6], EAI_FLMSG_UPDATE_CHUNK);
    assert_int_equal(f[7], 1);         /* flags: second block */
    assert_int_equal(rd32(f + 72), 2); /* n_block2 */
    assert_int_equal(rd32(f + 32), 12);
    static const uint8_t pl[12] = {0, 0, 0x80, 0x3f, 0, 0, 0, 0x3f, 0, 0, 0, 0xc0};
    assert_memory_equal(f + 80, pl, 12);
    assert_int_equal(rd32(f + 44), eai__crc32c(0, pl, 12));
    assert_int_equal(rd32(f + 76), eai__crc32c(0, f, 76));
    eai_flmsg_hdr_t h;
    const uint8_t *p;
    assert_int_equal(eai_flmsg_decode(f, n, &h, &p), EAI_OK);
    assert_int_equal(h.version, 2);
    assert_int_equal(h.flags, EAI_FLMSG_FLAG_BLOCK2);
    assert_int_equal(h.n_block2, 2);

    /* without the flag the same call writes version 1, as before */
    eai_flmsg_hdr_t h1 = upd;
    h1.flags = 0;
    h1.n_block2 = 77; /* ignored without the flag */
    assert_int_equal(eai_flmsg_encode_floats(&h1, v, 3, 0, 0, f, sizeof f, &n), EAI_OK);
    assert_int_equal(f[4], 1);
    assert_int_equal(f[7], 0);
    assert_int_equal(rd32(f + 72), 0);
    assert_int_equal(eai_flmsg_decode(f, n, &h, &p), EAI_OK);
    assert_int_equal(h.n_block2, 0);
}

/* 37 params + 30 control floats in 32-byte chunks, offered in reverse with
 * a v1 message of the same client's other round in between. */
static void test_chunked_roundtrip(void **state)
{
    (void)state;
    float v[67], got[67];
    for (int i = 0; i < 67; i++)
        v[i] = (float)i * 0.125f - 3.0f;
    eai_flmsg_hdr_t h = upd;
    h.n_block2 = 30;
    const uint32_t nc = eai_flmsg_chunk_count(67 * 4, 32);
    assert_int_equal(nc, 9);
    uint8_t fr[9][80 + 32], one[80 + 8];
    size_t len[9], n1;
    for (uint32_t i = 0; i < nc; i++)
        assert_int_equal(eai_flmsg_encode_floats(&h, v, 67, 32, i, fr[i], sizeof fr[i], &len[i]),
                         EAI_OK);
    eai_flmsg_hdr_t h1 = {.type = EAI_FLMSG_UPDATE_CHUNK, .round = 6, .client = 3, .sender = 3};
    assert_int_equal(eai_flmsg_encode_floats(&h1, v, 2, 32, 0, one, sizeof one, &n1), EAI_OK);
    eai_flmsg_asm_t *a;
    assert_int_equal(eai_flmsg_asm_create(NULL, &a), EAI_OK);
    eai_flmsg_msg_t m;
    bool done;
    int n_done = 0;
    for (int i = (int)nc - 1; i >= 0; i--) {
        assert_int_equal(eai_flmsg_asm_add(a, fr[i], len[i], &m, &done), EAI_OK);
        if (done) {
            n_done++;
            assert_int_equal(i, 0);
            assert_int_equal(m.hdr.n_block2, 30);
            assert_int_equal(m.hdr.flags, EAI_FLMSG_FLAG_BLOCK2);
            assert_int_equal(m.n_bytes, 67 * 4);
            eai_flmsg_get_floats(m.data, 67, got);
            assert_memory_equal(got, v, sizeof v);
        }
        if (i == 4) {
            assert_int_equal(eai_flmsg_asm_add(a, one, n1, &m, &done), EAI_OK);
            assert_true(done);
            assert_int_equal(m.hdr.n_block2, 0);
        }
    }
    assert_int_equal(n_done, 1);

    /* a chunk claiming another second-block size than its message's */
    h.round = 9;
    for (uint32_t i = 0; i < 2; i++)
        assert_int_equal(eai_flmsg_encode_floats(&h, v, 67, 32, i, fr[i], sizeof fr[i], &len[i]),
                         EAI_OK);
    wr32(fr[1] + 72, 29);
    fix_hcrc(fr[1]);
    assert_int_equal(eai_flmsg_asm_add(a, fr[0], len[0], &m, &done), EAI_OK);
    assert_false(done);
    assert_int_equal(eai_flmsg_asm_add(a, fr[1], len[1], &m, &done), EAI_E_FORMAT);
    assert_true(strstr(eai_last_error(), "disagrees") != NULL);
    eai_flmsg_asm_destroy(a);
}

static void expect_format(const uint8_t *f, size_t n, const char *what)
{
    eai_flmsg_hdr_t h;
    const uint8_t *p;
    eai_status_t st = eai_flmsg_decode(f, n, &h, &p);
    if (st != EAI_E_FORMAT) fail_msg("%s: status %d, expected EAI_E_FORMAT", what, st);
    if (!strstr(eai_last_error(), "flmsg")) fail_msg("%s: message '%s'", what, eai_last_error());
}

static void test_bad_v2(void **state)
{
    (void)state;
    const float v[3] = {1, 2, 3};
    uint8_t good[128], f[128];
    size_t n;
    assert_int_equal(eai_flmsg_encode_floats(&upd, v, 3, 0, 0, good, sizeof good, &n), EAI_OK);
#define MUT(what, code)                                                                            \
    do {                                                                                           \
        memcpy(f, good, n);                                                                        \
        code;                                                                                      \
        fix_hcrc(f);                                                                               \
        expect_format(f, n, what);                                                                 \
    } while (0)
    MUT("v2 without the flag", f[7] = 0);
    MUT("v2 with another flag", f[7] = 3);
    MUT("v2 with an empty second block", wr32(f + 72, 0));
    MUT("second block longer than the message", wr32(f + 72, 4));
    MUT("v1 with the flag", f[4] = 1);
    MUT("v1 with n_block2", (f[4] = 1, f[7] = 0));
    MUT("version 3", f[4] = 3);
#undef MUT
    /* a second block on a control message */
    eai_flmsg_hdr_t j = {.type = EAI_FLMSG_JOIN};
    assert_int_equal(eai_flmsg_encode(&j, NULL, 0, 0, 0, f, sizeof f, &n), EAI_OK);
    f[4] = 2;
    f[7] = 1;
    wr32(f + 72, 1);
    fix_hcrc(f);
    expect_format(f, n, "join with a second block");

    /* the encoder refuses what the decoder would */
    eai_flmsg_hdr_t h = upd;
    h.flags = 2;
    assert_int_equal(eai_flmsg_encode_floats(&h, v, 3, 0, 0, f, sizeof f, &n), EAI_E_INVALID);
    h = upd;
    h.n_block2 = 0;
    assert_int_equal(eai_flmsg_encode_floats(&h, v, 3, 0, 0, f, sizeof f, &n), EAI_E_INVALID);
    h.n_block2 = 4;
    assert_int_equal(eai_flmsg_encode_floats(&h, v, 3, 0, 0, f, sizeof f, &n), EAI_E_INVALID);
    h = upd;
    h.type = EAI_FLMSG_MODEL_MANIFEST;
    assert_int_equal(eai_flmsg_encode(&h, v, 12, 0, 0, f, sizeof f, &n), EAI_E_INVALID);
    assert_true(strstr(eai_last_error(), "second block") != NULL);
}

/* fuzz/gen_flmsg_corpus.py's version-2 files decode to the values it wrote. */
static void test_python_v2(void **state)
{
    (void)state;
    static const char *const files[] = {"update_block2", "model_block2_fixcrc",
                                        "v1_v2_interleaved"};
    static const int want_done[] = {1, 1, 2};
    for (int k = 0; k < 3; k++) {
        char path[512];
        snprintf(path, sizeof path, EAI_SOURCE_DIR "/fuzz/corpus/flmsg/%s", files[k]);
        FILE *fp = fopen(path, "rb");
        if (!fp) fail_msg("%s missing (run fuzz/gen_flmsg_corpus.py)", path);
        static uint8_t buf[8192];
        size_t n = fread(buf, 1, sizeof buf, fp);
        fclose(fp);
        eai_flmsg_asm_t *a;
        assert_int_equal(eai_flmsg_asm_create(NULL, &a), EAI_OK);
        int n_done = 0;
        for (size_t off = 1; off + 2 <= n;) {
            size_t len = (size_t)buf[off] | (size_t)buf[off + 1] << 8;
            off += 2;
            assert_true(off + len <= n);
            eai_flmsg_msg_t m;
            bool done;
            if (eai_flmsg_asm_add(a, buf + off, len, &m, &done) != EAI_OK)
                fail_msg("%s: %s", files[k], eai_last_error());
            off += len;
            if (!done) continue;
            n_done++;
            float v[67];
            const size_t nf = m.n_bytes / 4;
            assert_true(nf <= 67);
            eai_flmsg_get_floats(m.data, nf, v);
            for (size_t i = 0; i < nf; i++)
                assert_true(v[i] == 0.25f * (float)i - 1.0f);
            if (m.hdr.type == EAI_FLMSG_MODEL_CHUNK) {
                assert_int_equal(nf, 67);
                assert_int_equal(m.hdr.n_block2, 30);
                assert_int_equal(m.hdr.version, 2);
            } else if (k == 0) {
                assert_int_equal(nf, 40);
                assert_int_equal(m.hdr.n_block2, 12);
                assert_int_equal(m.hdr.n_samples, 300);
                assert_true(m.hdr.train_loss == 0.5);
            } else {
                assert_int_equal(m.hdr.n_block2, 0); /* the v1 update */
                assert_int_equal(m.hdr.version, 1);
            }
        }
        assert_int_equal(n_done, want_done[k]);
        eai_flmsg_asm_destroy(a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v2_bytes),
        cmocka_unit_test(test_chunked_roundtrip),
        cmocka_unit_test(test_bad_v2),
        cmocka_unit_test(test_python_v2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
