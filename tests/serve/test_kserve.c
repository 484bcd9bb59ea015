/* KServe v2 JSON: round trips per datatype, nested data, exact floats,
 * malformed bodies (status + a message naming the tensor/field), limits. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edgeai/kserve.h"

static eai_status_t parse(const char *s, eai_kserve_msg_t *m)
{
    return eai_kserve_parse_request(s, strlen(s), NULL, m);
}

static void test_dtype_names(void **st)
{
    (void)st;
    eai_dtype_t t;
    assert_int_equal(eai_kserve_dtype_parse("FP32", &t), EAI_OK);
    assert_int_equal(t, EAI_F32);
    assert_int_equal(eai_kserve_dtype_parse("INT64", &t), EAI_OK);
    assert_int_equal(t, EAI_I64);
    assert_string_equal(eai_kserve_dtype_name(EAI_BOOL), "BOOL");
    assert_string_equal(eai_kserve_dtype_name(EAI_F16), "FP16");
    assert_int_equal(eai_kserve_dtype_parse("BYTES", &t), EAI_E_UNSUPPORTED);
    assert_int_equal(eai_kserve_dtype_parse("fp32", &t), EAI_E_FORMAT);
    assert_null(eai_kserve_dtype_name(EAI_DTYPE_UNDEFINED));
}

static void test_parse_basic_nested(void **st)
{
    (void)st;
    eai_kserve_msg_t m;
    const char *body = "{\"id\":\"42\",\"inputs\":[{\"name\":\"x\",\"shape\":[2,3],"
                       "\"datatype\":\"FP32\",\"data\":[[1,2.5,-3],[4,5,6e-3]]}],"
                       "\"outputs\":[{\"name\":\"y\"},{\"name\":\"z\",\"parameters\":{}}]}";
    assert_int_equal(parse(body, &m), EAI_OK);
    assert_string_equal(m.id, "42");
    assert_int_equal(m.n_tensors, 1);
    assert_string_equal(m.tensors[0].name, "x");
    assert_int_equal(m.tensors[0].rank, 2);
    assert_int_equal(m.tensors[0].dims[0], 2);
    assert_int_equal(m.tensors[0].dims[1], 3);
    assert_int_equal(m.tensors[0].n_bytes, 24);
    const float *f = m.tensors[0].data;
    const float want[6] = {1, 2.5f, -3, 4, 5, 6e-3f};
    for (int i = 0; i < 6; i++)
        assert_true(f[i] == want[i]);
    assert_int_equal(m.n_requested, 2);
    assert_string_equal(m.requested[0], "y");
    assert_string_equal(m.requested[1], "z");
    eai_kserve_msg_free(&m);
    /* deeper nesting [[[..]]] and a scalar (rank 0) tensor */
    body = "{\"inputs\":[{\"name\":\"a\",\"shape\":[2,1,2],\"datatype\":\"INT32\","
           "\"data\":[[[1,-2]],[[3,2147483647]]]},"
           "{\"name\":\"s\",\"shape\":[],\"datatype\":\"INT64\",\"data\":[7]}]}";
    assert_int_equal(parse(body, &m), EAI_OK);
    const int32_t *a = m.tensors[0].data;
    assert_int_equal(a[0], 1);
    assert_int_equal(a[1], -2);
    assert_int_equal(a[3], 2147483647);
    assert_int_equal(m.tensors[1].rank, 0);
    assert_int_equal(*(const int64_t *)m.tensors[1].data, 7);
    assert_null(m.id);
    assert_int_equal(m.n_requested, 0);
    eai_kserve_msg_free(&m);
}

/* Writes a request with one tensor of each dtype, parses it back and checks
 * every byte. */
static void test_round_trip_all_dtypes(void **st)
{
    (void)st;
    uint8_t b[3] = {1, 0, 1};
    uint8_t u8[3] = {0, 128, 255};
    int8_t i8[3] = {-128, 0, 127};
    uint16_t u16[3] = {0, 1, 65535};
    int16_t i16[3] = {-32768, 5, 32767};
    int32_t i32[3] = {INT32_MIN, 0, INT32_MAX};
    int64_t i64[3] = {-((int64_t)1 << 53), 123456789012LL, (int64_t)1 << 53};
    uint16_t f16[3] = {eai_f32_to_f16(1.5f), eai_f32_to_f16(-0.333f), eai_f32_to_f16(65504.f)};
    float f32[3] = {0.1f, -3.4028235e38f, 1.17549435e-38f};
    double f64[3] = {0.1, 1.0 / 3.0, -2.2250738585072014e-308};
    struct {
        eai_dtype_t t;
        void *p;
        size_t n;
    } k[] = {{EAI_BOOL, b, sizeof b},    {EAI_U8, u8, sizeof u8},    {EAI_I8, i8, sizeof i8},
             {EAI_U16, u16, sizeof u16}, {EAI_I16, i16, sizeof i16}, {EAI_I32, i32, sizeof i32},
             {EAI_I64, i64, sizeof i64}, {EAI_F16, f16, sizeof f16}, {EAI_F32, f32, sizeof f32},
             {EAI_F64, f64, sizeof f64}};
    enum { N = sizeof k / sizeof k[0] };
    eai_kserve_tensor_t ts[N];
    char names[N][8];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "t%d", i);
        ts[i] = (eai_kserve_tensor_t){.name = names[i],
                                      .dtype = k[i].t,
                                      .rank = 2,
                                      .dims = {1, 3},
                                      .data = k[i].p,
                                      .n_bytes = k[i].n};
    }
    char *req0 = "out\"q";
    eai_kserve_msg_t m = {
        .id = "r\"1\n", .n_tensors = N, .tensors = ts, .n_requested = 1, .requested = &req0};
    char *body;
    size_t n;
    assert_int_equal(eai_kserve_write_request(&m, &body, &n), EAI_OK);
    assert_int_equal(strlen(body), n);
    eai_kserve_msg_t r;
    assert_int_equal(eai_kserve_parse_request(body, n, NULL, &r), EAI_OK);
    assert_string_equal(r.id, "r\"1\n");
    assert_int_equal(r.n_requested, 1);
    assert_string_equal(r.requested[0], "out\"q");
    assert_int_equal(r.n_tensors, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(r.tensors[i].dtype, k[i].t);
        assert_int_equal(r.tensors[i].n_bytes, k[i].n);
        assert_memory_equal(r.tensors[i].data, k[i].p, k[i].n);
    }
    eai_kserve_msg_free(&r);
    free(body);
    /* same tensors as a response */
    m.model_name = "mlp";
    m.model_version = "1";
    assert_int_equal(eai_kserve_write_response(&m, &body, &n), EAI_OK);
    assert_int_equal(eai_kserve_parse_response(body, n, NULL, &r), EAI_OK);
    assert_string_equal(r.model_name, "mlp");
    assert_string_equal(r.model_version, "1");
    for (int i = 0; i < N; i++)
        assert_memory_equal(r.tensors[i].data, k[i].p, k[i].n);
    eai_kserve_msg_free(&r);
    free(body);
}

/* Every float32 bit pattern family (random, subnormal, extremes, inf, nan)
 * comes back bit-exact (NaN as NaN). */
static void test_exact_float_round_trip(void **st)
{
    (void)st;
    enum { N = 4096 };
    float *x = malloc(N * sizeof *x);
    uint32_t s = 12345;
    for (int i = 0; i < N; i++) {
        s = s * 1664525u + 1013904223u;
        uint32_t bits = s;
        if ((bits & 0x7f800000u) == 0x7f800000u) bits &= ~0x00800000u; /* keep finite */
        memcpy(&x[i], &bits, 4);
    }
    x[0] = INFINITY;
    x[1] = -INFINITY;
    x[2] = 1e-45f;
    x[3] = -0.0f;
    x[4] = NAN;
    eai_kserve_tensor_t t = {.name = "x",
                             .dtype = EAI_F32,
                             .rank = 1,
                             .dims = {N},
                             .data = x,
                             .n_bytes = N * sizeof(float)};
    eai_kserve_msg_t m = {.model_name = "m", .n_tensors = 1, .tensors = &t};
    char *body;
    size_t n;
    assert_int_equal(eai_kserve_write_response(&m, &body, &n), EAI_OK);
    eai_kserve_msg_t r;
    assert_int_equal(eai_kserve_parse_response(body, n, NULL, &r), EAI_OK);
    const float *y = r.tensors[0].data;
    assert_true(isnan(y[4]));
    for (int i = 0; i < N; i++)
        if (i != 4) assert_memory_equal(&y[i], &x[i], 4);
    eai_kserve_msg_free(&r);
    free(body);
    free(x);
}

static void expect_fail(const char *body, eai_status_t want, const char *needle)
{
    eai_kserve_msg_t m;
    memset(&m, 0x5a, sizeof m);
    eai_status_t got = parse(body, &m);
    if (got != want || !strstr(eai_last_error(), needle))
        fail_msg("body %s: got %s \"%s\", want %s containing \"%s\"", body, eai_status_str(got),
                 eai_last_error(), eai_status_str(want), needle);
    assert_null(m.tensors);
    assert_null(m.id);
    assert_int_equal(m.n_tensors, 0);
}

static void test_malformed(void **st)
{
    (void)st;
    expect_fail("", EAI_E_FORMAT, "malformed JSON");
    expect_fail("{\"inputs\":[", EAI_E_FORMAT, "malformed JSON");
    expect_fail("[1,2]", EAI_E_FORMAT, "not a JSON object");
    expect_fail("{}", EAI_E_FORMAT, "\"inputs\"");
    expect_fail("{\"inputs\":{}}", EAI_E_FORMAT, "\"inputs\"");
    expect_fail("{\"id\":5,\"inputs\":[]}", EAI_E_FORMAT, "\"id\"");
    expect_fail("{\"inputs\":[3]}", EAI_E_FORMAT, "inputs[0]");
    expect_fail("{\"inputs\":[{\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}", EAI_E_FORMAT,
                "\"name\"");
    expect_fail("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"data\":[1]}]}", EAI_E_FORMAT,
                "\"x\": \"datatype\"");
    expect_fail("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"F32\",\"data\":[1]}]}",
                EAI_E_FORMAT, "\"x\": datatype \"F32\"");
    expect_fail("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"BYTES\","
                "\"data\":[\"a\"]}]}",
                EAI_E_UNSUPPORTED, "\"x\"");
    expect_fail("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"data\":[1]}]}", EAI_E_FORMAT,
                "\"x\": \"shape\"");
    expect_fail("{\"inputs\":[{\"name\":\"x\",\"shape\":[-1],\"datatype\":\"FP32\",\"data\":[1]}]}",
                EAI_E_FORMAT, "\"x\": shape[0]");
    expect_fail(
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[1.5],\"datatype\":\"FP32\",\"data\":[1]}]}",
        EAI_E_FORMAT, "shape[0]");
    expect_fail("{\"inputs\":[{\"name\":\"x\",\"shape\":[1,1,1,1,1,1,1,1,1],\"datatype\":\"FP32\","
                "\"data\":[1]}]}",
                EAI_E_FORMAT, "rank 9");
    expect_fail("{\"inputs\":[{\"name\":\"x\",\"shape\":[3],\"datatype\":\"FP32\"}]}", EAI_E_FORMAT,
                "\"x\": \"data\" is missing");
    expect_fail(
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[3],\"datatype\":\"FP32\",\"data\":[1,2]}]}",
        EAI_E_FORMAT, "\"x\": \"data\" has 2 values, shape says 3");
    expect_fail(
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1,2]}]}",
        EAI_E_FORMAT, "\"x\": \"data\" has more values");
    expect_fail("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\","
                "\"data\":[\"1\"]}]}",
                EAI_E_FORMAT, "\"x\": data[0] is not a number");
    expect_fail("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\","
                "\"data\":\"abc\"}]}",
                EAI_E_FORMAT, "\"x\": \"data\" is not an array");
    expect_fail("{\"inputs\":[{\"name\":\"b\",\"shape\":[2],\"datatype\":\"UINT8\","
                "\"data\":[1,256]}]}",
                EAI_E_FORMAT, "\"b\": data[1] = 256 is out of range for UINT8");
    expect_fail("{\"inputs\":[{\"name\":\"b\",\"shape\":[1],\"datatype\":\"INT8\","
                "\"data\":[-129]}]}",
                EAI_E_FORMAT, "out of range for INT8");
    expect_fail("{\"inputs\":[{\"name\":\"b\",\"shape\":[1],\"datatype\":\"INT32\","
                "\"data\":[1.5]}]}",
                EAI_E_FORMAT, "\"b\": data[0]");
    expect_fail("{\"inputs\":[{\"name\":\"b\",\"shape\":[1],\"datatype\":\"INT64\","
                "\"data\":[1e19]}]}",
                EAI_E_FORMAT, "out of range for INT64");
    expect_fail("{\"inputs\":[{\"name\":\"b\",\"shape\":[1],\"datatype\":\"FP32\","
                "\"data\":[1e39]}]}",
                EAI_E_FORMAT, "out of range for FP32");
    expect_fail("{\"inputs\":[{\"name\":\"b\",\"shape\":[1],\"datatype\":\"BOOL\","
                "\"data\":[2]}]}",
                EAI_E_FORMAT, "\"b\": data[0] is not a boolean");
    expect_fail("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]},"
                "{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}",
                EAI_E_FORMAT, "\"x\" appears twice");
    expect_fail("{\"inputs\":[],\"outputs\":[{\"nam\":\"y\"}]}", EAI_E_FORMAT, "outputs[0]");
    expect_fail("{\"inputs\":[],\"outputs\":7}", EAI_E_FORMAT, "\"outputs\"");
    /* deep nesting is bounded, not a stack overflow */
    char deep[4200];
    size_t k = 0;
    k += (size_t)sprintf(deep, "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\","
                               "\"data\":");
    for (int i = 0; i < 1500; i++)
        deep[k++] = '[';
    deep[k] = 0;
    expect_fail(deep, EAI_E_FORMAT, "");
    /* responses */
    eai_kserve_msg_t m;
    const char *e = "{\"error\":\"model \\\"x\\\" is not ready\"}";
    assert_int_equal(eai_kserve_parse_response(e, strlen(e), NULL, &m), EAI_E_UNAVAILABLE);
    assert_string_equal(eai_last_error(), "model \"x\" is not ready");
    assert_null(m.tensors);
    e = "{\"model_name\":\"m\"}";
    assert_int_equal(eai_kserve_parse_response(e, strlen(e), NULL, &m), EAI_E_FORMAT);
    assert_non_null(strstr(eai_last_error(), "\"outputs\""));
    /* the body length is honoured (no NUL needed, trailing bytes ignored) */
    const char *ok = "{\"inputs\":[]}GARBAGE";
    assert_int_equal(eai_kserve_parse_request(ok, 13, NULL, &m), EAI_OK);
    eai_kserve_msg_free(&m);
}

static void test_limits(void **st)
{
    (void)st;
    eai_kserve_msg_t m;
    const char *body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[4],\"datatype\":\"FP32\","
                       "\"data\":[1,2,3,4]},{\"name\":\"y\",\"shape\":[1],\"datatype\":\"FP32\","
                       "\"data\":[1]}]}";
    eai_kserve_limits_t l = {.max_body_bytes = 10};
    assert_int_equal(eai_kserve_parse_request(body, strlen(body), &l, &m), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "exceeds the limit"));
    l = (eai_kserve_limits_t){.max_tensors = 1};
    assert_int_equal(eai_kserve_parse_request(body, strlen(body), &l, &m), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "limit 1"));
    l = (eai_kserve_limits_t){.max_elements = 3};
    assert_int_equal(eai_kserve_parse_request(body, strlen(body), &l, &m), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "\"x\": more than 3 elements"));
    l = (eai_kserve_limits_t){.max_elements = 4};
    assert_int_equal(eai_kserve_parse_request(body, strlen(body), &l, &m), EAI_OK);
    eai_kserve_msg_free(&m);
    /* a huge claimed shape is rejected before any allocation */
    const char *huge = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1000000,1000000,1000000],"
                       "\"datatype\":\"FP32\",\"data\":[]}]}";
    assert_int_equal(parse(huge, &m), EAI_E_INVALID);
}

static void test_write_error(void **st)
{
    (void)st;
    char *b;
    size_t n;
    assert_int_equal(eai_kserve_write_error("bad \"x\"\\\n", &b, &n), EAI_OK);
    assert_string_equal(b, "{\"error\":\"bad \\\"x\\\"\\\\\\u000a\"}");
    assert_int_equal(n, strlen(b));
    eai_kserve_msg_t m;
    assert_int_equal(eai_kserve_parse_response(b, n, NULL, &m), EAI_E_UNAVAILABLE);
    assert_string_equal(eai_last_error(), "bad \"x\"\\\n");
    free(b);
    /* a tensor whose byte count disagrees with its shape is refused */
    float x[2] = {1, 2};
    eai_kserve_tensor_t t = {
        .name = "x", .dtype = EAI_F32, .rank = 1, .dims = {3}, .data = x, .n_bytes = sizeof x};
    eai_kserve_msg_t w = {.n_tensors = 1, .tensors = &t};
    assert_int_equal(eai_kserve_write_request(&w, &b, &n), EAI_E_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dtype_names),
        cmocka_unit_test(test_parse_basic_nested),
        cmocka_unit_test(test_round_trip_all_dtypes),
        cmocka_unit_test(test_exact_float_round_trip),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_write_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
