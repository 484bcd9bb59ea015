/* Binary tensor data (Triton's extension of KServe v2): hand-built bodies
 * with known little-endian bytes, round trips that keep INT64 beyond 2^53
 * exact, the output flags, and every malformed shape of a binary body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edgeai/kserve.h"

/* JSON header + raw bytes in one buffer; returns its length. */
static size_t body_of(char *dst, const char *json, const uint8_t *bin, size_t n_bin)
{
    size_t h = strlen(json);
    memcpy(dst, json, h);
    memcpy(dst + h, bin, n_bin);
    return h + n_bin;
}

static void test_hand_built_fp32(void **st)
{
    (void)st;
    /* 1.5f = 0x3fc00000, -2.0f = 0xc0000000, little-endian on the wire */
    const uint8_t bin[] = {0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0xc0};
    const char *json = "{\"id\":\"b1\",\"parameters\":{\"binary_data_output\":true},\"inputs\":[{"
                       "\"name\":\"x\",\"shape\":[1,2],\"datatype\":\"FP32\",\"parameters\":{"
                       "\"binary_data_size\":8}}],\"outputs\":[{\"name\":\"y\",\"parameters\":{"
                       "\"binary_data\":true}},{\"name\":\"z\"}]}";
    char body[512];
    size_t n = body_of(body, json, bin, sizeof bin);
    eai_kserve_msg_t m;
    assert_int_equal(eai_kserve_parse_request_ex(body, n, strlen(json), NULL, &m), EAI_OK);
    assert_int_equal(m.n_tensors, 1);
    assert_true(m.tensors[0].binary);
    assert_int_equal(m.tensors[0].n_bytes, 8);
    const float *x = m.tensors[0].data;
    assert_true(x[0] == 1.5f && x[1] == -2.0f);
    assert_true(m.binary_output);
    assert_int_equal(m.n_requested, 2);
    assert_true(m.requested_binary[0]);
    assert_false(m.requested_binary[1]);
    eai_kserve_msg_free(&m);
}

static void test_round_trip_exact_int64(void **st)
{
    (void)st;
    /* 2^53 + 1 and INT64_MIN cannot survive a trip through double */
    int64_t big[3] = {9007199254740993LL, INT64_MIN, -1};
    uint8_t flags[4] = {1, 0, 1, 1};
    float f[2] = {0.1f, -3.25e-7f};
    eai_kserve_tensor_t t[3] = {
        {.name = "ids",
         .dtype = EAI_I64,
         .rank = 1,
         .dims = {3},
         .data = big,
         .n_bytes = sizeof big,
         .binary = true},
        {.name = "mask",
         .dtype = EAI_BOOL,
         .rank = 2,
         .dims = {2, 2},
         .data = flags,
         .n_bytes = sizeof flags,
         .binary = true},
        {.name = "f", .dtype = EAI_F32, .rank = 1, .dims = {2}, .data = f, .n_bytes = sizeof f},
    };
    char *req_names[1] = {"out"};
    bool req_bin[1] = {true};
    eai_kserve_msg_t m = {.id = "rt",
                          .n_tensors = 3,
                          .tensors = t,
                          .n_requested = 1,
                          .requested = req_names,
                          .requested_binary = req_bin};
    char *body;
    size_t n, hl;
    assert_int_equal(eai_kserve_write_request_ex(&m, &body, &n, &hl), EAI_OK);
    assert_true(hl > 0 && hl + sizeof big + sizeof flags == n);
    /* the JSON part alone parses as JSON and names the sizes */
    assert_non_null(strstr(body, "\"binary_data_size\":24"));
    assert_non_null(strstr(body, "\"binary_data\":true"));
    eai_kserve_msg_t r;
    assert_int_equal(eai_kserve_parse_request_ex(body, n, hl, NULL, &r), EAI_OK);
    assert_int_equal(r.n_tensors, 3);
    assert_memory_equal(r.tensors[0].data, big, sizeof big);
    assert_memory_equal(r.tensors[1].data, flags, sizeof flags);
    assert_memory_equal(r.tensors[2].data, f, sizeof f);
    assert_true(r.tensors[0].binary && r.tensors[1].binary && !r.tensors[2].binary);
    assert_true(r.requested_binary[0]);
    eai_kserve_msg_free(&r);
    free(body);

    /* the plain writer ignores the flags: all JSON, and the 2^53+1 value is
     * refused on the way back in rather than rounded */
    assert_int_equal(eai_kserve_write_request(&m, &body, &n), EAI_OK);
    assert_null(strstr(body, "binary_data_size"));
    assert_int_equal(eai_kserve_parse_request(body, n, NULL, &r), EAI_E_FORMAT);
    assert_non_null(strstr(eai_last_error(), "2^53"));
    free(body);
}

static void test_response_binary(void **st)
{
    (void)st;
    float y[3] = {1, 2, 3};
    eai_kserve_tensor_t t = {.name = "y",
                             .dtype = EAI_F32,
                             .rank = 1,
                             .dims = {3},
                             .data = y,
                             .n_bytes = sizeof y,
                             .binary = true};
    eai_kserve_msg_t m = {.model_name = "m", .n_tensors = 1, .tensors = &t};
    char *body;
    size_t n, hl;
    assert_int_equal(eai_kserve_write_response_ex(&m, &body, &n, &hl), EAI_OK);
    assert_int_equal(n - hl, sizeof y);
    eai_kserve_msg_t r;
    assert_int_equal(eai_kserve_parse_response_ex(body, n, hl, NULL, &r), EAI_OK);
    assert_memory_equal(r.tensors[0].data, y, sizeof y);
    eai_kserve_msg_free(&r);
    free(body);
    /* no binary tensor: header length 0, body is plain JSON */
    t.binary = false;
    assert_int_equal(eai_kserve_write_response_ex(&m, &body, &n, &hl), EAI_OK);
    assert_int_equal(hl, 0);
    assert_non_null(strstr(body, "\"data\":[1,2,3]"));
    free(body);
}

static void expect_bad(const char *json, const uint8_t *bin, size_t n_bin, size_t hl_delta,
                       const char *needle)
{
    char body[1024];
    size_t n = body_of(body, json, bin, n_bin);
    size_t hl = strlen(json) + hl_delta;
    eai_kserve_msg_t m;
    eai_status_t st = eai_kserve_parse_request_ex(body, n, hl, NULL, &m);
    if (st != EAI_E_FORMAT) fail_msg("%s: status %d, want EAI_E_FORMAT", json, st);
    if (!strstr(eai_last_error(), needle))
        fail_msg("%s: message \"%s\" lacks \"%s\"", json, eai_last_error(), needle);
    assert_int_equal(m.n_tensors, 0); /* failure leaves nothing owned */
}

static void test_malformed_binary(void **st)
{
    (void)st;
    const uint8_t b8[8] = {0}, two[2] = {2, 0};
    const char *x8 = "{\"inputs\":[{\"name\":\"x\",\"shape\":[2],\"datatype\":\"FP32\","
                     "\"parameters\":{\"binary_data_size\":8}}]}";
    /* truncated: 4 of 8 bytes */
    expect_bad(x8, b8, 4, 0, "ends 4 bytes into its 8");
    /* trailing bytes no tensor claims */
    expect_bad("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\","
               "\"parameters\":{\"binary_data_size\":4}}]}",
               b8, 8, 0, "no input claims");
    /* size disagrees with shape x dtype */
    expect_bad("{\"inputs\":[{\"name\":\"x\",\"shape\":[3],\"datatype\":\"FP32\","
               "\"parameters\":{\"binary_data_size\":8}}]}",
               b8, 8, 0, "shape and datatype say 12");
    /* both data and binary */
    expect_bad("{\"inputs\":[{\"name\":\"x\",\"shape\":[2],\"datatype\":\"FP32\",\"data\":[1,2],"
               "\"parameters\":{\"binary_data_size\":8}}]}",
               b8, 8, 0, "both");
    /* a negative / fractional size */
    expect_bad("{\"inputs\":[{\"name\":\"x\",\"shape\":[2],\"datatype\":\"FP32\","
               "\"parameters\":{\"binary_data_size\":-8}}]}",
               b8, 8, 0, "non-negative integer");
    /* BOOL bytes other than 0/1 */
    expect_bad("{\"inputs\":[{\"name\":\"x\",\"shape\":[2],\"datatype\":\"BOOL\","
               "\"parameters\":{\"binary_data_size\":2}}]}",
               two, 2, 0, "must be 0 or 1");
    /* parameters of the wrong type */
    expect_bad("{\"inputs\":[{\"name\":\"x\",\"shape\":[2],\"datatype\":\"FP32\","
               "\"parameters\":7}]}",
               b8, 8, 0, "not an object");
    expect_bad("{\"parameters\":{\"binary_data_output\":1},\"inputs\":[]}", b8, 0, 0,
               "not a boolean");
    /* binary bytes but no inputs at all */
    expect_bad("{\"inputs\":[]}", b8, 8, 0, "no inputs");
    /* header length past the body */
    expect_bad(x8, b8, 8, 100, "exceeds the body");
    /* binary_data_size without a header length (plain JSON parse) */
    eai_kserve_msg_t m;
    assert_int_equal(eai_kserve_parse_request(x8, strlen(x8), NULL, &m), EAI_E_FORMAT);
    assert_non_null(strstr(eai_last_error(), "Inference-Header-Content-Length"));
    /* a header length that cuts the JSON short is malformed JSON */
    char body[512];
    size_t n = body_of(body, x8, b8, 8);
    assert_int_equal(eai_kserve_parse_request_ex(body, n, 10, NULL, &m), EAI_E_FORMAT);
    /* NULL header_len out-parameter */
    char *b;
    size_t bn;
    eai_kserve_msg_t e = {0};
    assert_int_equal(eai_kserve_write_request_ex(&e, &b, &bn, NULL), EAI_E_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_built_fp32),
        cmocka_unit_test(test_round_trip_exact_int64),
        cmocka_unit_test(test_response_binary),
        cmocka_unit_test(test_malformed_binary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
