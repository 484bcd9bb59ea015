/* TF.js graph-model import: tiny model.json + .bin fixtures written by the
 * test into a temp folder, run through the real load checks and session.
 * Expected outputs were computed with numpy (/usr/bin/python3), padding by
 * TF's SAME rule written out by hand (see each test). Malformed files must
 * give a clear status and sentence. The real detectors are checked against
 * TF.js itself in tests/it/test_tfjs_detectors.sh. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "edgeai/edgeai.h"
#include "model/graph.h"

/* Declared in graph.h once the lead wires it; repeated here on purpose. */
eai_status_t eai__tfjs_import(eai__graph_t *g, const char *json_path);
eai_status_t eai__model_from_graph(eai__graph_t *g, eai_model_t **out);
long eai__test_fail_alloc(long n); /* src/core/alloc.c */

static char dir[64];

static void path_of(char *buf, size_t n, const char *file)
{
    snprintf(buf, n, "%s/%s", dir, file);
}

static void write_file(const char *file, const void *data, size_t n)
{
    char p[256];
    path_of(p, sizeof p, file);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void write_text(const char *file, const char *text)
{
    write_file(file, text, strlen(text));
}

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/eai_tfjs_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    static const char *files[] = {"m.json", "a.bin", "b.bin", "c.bin", "bad.json"};
    char p[256];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        path_of(p, sizeof p, files[i]);
        remove(p);
    }
    rmdir(dir);
    return 0;
}

/* Imports dir/file; on success the model adopts the graph. */
static eai_status_t load(const char *file, eai_model_t **m)
{
    char p[256];
    path_of(p, sizeof p, file);
    /* static: eai__model_from_graph copies the graph, but its name map keeps
     * pointing at this struct's allocator (zeroed again after the copy) */
    static eai__graph_t g;
    eai_status_t st = eai__graph_init(&g, NULL, file);
    if (st != EAI_OK) return st;
    st = eai__tfjs_import(&g, p);
    if (st != EAI_OK) {
        eai__graph_free(&g);
        return st;
    }
    return eai__model_from_graph(&g, m);
}

static void expect_fail(const char *file, eai_status_t want, const char *needle)
{
    eai_model_t *m = NULL;
    eai_status_t st = load(file, &m);
    if (st == EAI_OK) eai_model_destroy(m);
    print_message("  -> %s: %s\n", eai_status_str(st), eai_last_error());
    assert_int_equal(st, want);
    assert_non_null(strstr(eai_last_error(), needle));
}

static void expect_close(const float *got, const float *want, int n, float tol)
{
    for (int i = 0; i < n; i++)
        if (fabsf(got[i] - want[i]) > tol)
            fail_msg("element %d: got %.6f, want %.6f", i, got[i], want[i]);
}

/* ---- model A: quantized weights, SAME padding, fused conv ---- */

/* x [1,4,4,1] -> _FusedConv2D(3x3, stride 2, SAME, BiasAdd + Relu) -> Mul(m).
 * w uint8-quantized (scale 0.5, min -1), b float16, m uint16 (0.25, 1). The
 * weights straddle the two shards a.bin | b.bin. */
static const char model_a[] =
    "{\"format\":\"graph-model\",\"convertedBy\":\"test_tfjs.c\",\"modelTopology\":{\"node\":["
    "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"},"
    "\"shape\":{\"shape\":{\"dim\":[{\"size\":\"1\"},{\"size\":\"4\"},{\"size\":\"4\"},"
    "{\"size\":\"1\"}]}}}},"
    "{\"name\":\"w\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"}}},"
    "{\"name\":\"b\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"}}},"
    "{\"name\":\"m\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"}}},"
    "{\"name\":\"conv\",\"op\":\"_FusedConv2D\",\"input\":[\"x\",\"w\",\"b\",\"^m\"],"
    "\"attr\":{\"T\":{\"type\":\"DT_FLOAT\"},\"strides\":{\"list\":{\"i\":[\"1\",\"2\",\"2\","
    "\"1\"]}},\"padding\":{\"s\":\"U0FNRQ==\"},\"data_format\":{\"s\":\"TkhXQw==\"},"
    "\"dilations\":{\"list\":{\"i\":[\"1\",\"1\",\"1\",\"1\"]}},\"num_args\":{\"i\":\"1\"},"
    "\"fused_ops\":{\"list\":{\"s\":[\"Qmlhc0FkZA==\",\"UmVsdQ==\"]}}}},"
    "{\"name\":\"out\",\"op\":\"Mul\",\"input\":[\"conv\",\"m\"],"
    "\"attr\":{\"T\":{\"type\":\"DT_FLOAT\"}}}],\"versions\":{\"producer\":1}},"
    "\"signature\":{\"outputs\":{\"out:0\":{\"name\":\"out:0\"}}},"
    "\"weightsManifest\":[{\"paths\":[\"a.bin\",\"b.bin\"],\"weights\":["
    "{\"name\":\"w\",\"shape\":[3,3,1,%s],\"dtype\":\"float32\","
    "\"quantization\":{\"dtype\":\"%s\",\"scale\":0.5,\"min\":-1}},"
    "{\"name\":\"b\",\"shape\":[2],\"dtype\":\"float32\","
    "\"quantization\":{\"dtype\":\"float16\",\"original_dtype\":\"float32\"}},"
    "{\"name\":\"m\",\"shape\":[2],\"dtype\":\"float32\","
    "\"quantization\":{\"dtype\":\"uint16\",\"scale\":0.25,\"min\":1}}]}]}";

static void write_model_a(const char *cout, const char *qdtype, size_t cut_b)
{
    char json[4096];
    snprintf(json, sizeof json, model_a, cout, qdtype);
    write_text("m.json", json);
    uint8_t bin[26];
    for (int i = 0; i < 18; i++) /* q[kh][kw][0][o] = ((kh*3+kw)*2+o) % 9 */
        bin[i] = (uint8_t)(i % 9);
    const uint16_t b16[2] = {0x3800, 0xbc00}; /* float16 0.5, -1.0 */
    const uint16_t m16[2] = {2, 6};           /* 2*0.25+1 = 1.5, 6*0.25+1 = 2.5 */
    memcpy(bin + 18, b16, 4);
    memcpy(bin + 22, m16, 4);
    write_file("a.bin", bin, 10);
    write_file("b.bin", bin + 10, 16 - cut_b);
}

static void test_quantized_same_conv(void **state)
{
    write_model_a("2", "uint8", 0);
    eai_model_t *m;
    assert_int_equal(load("m.json", &m), EAI_OK);
    eai_session_t *s;
    assert_int_equal(eai_session_create(m, &(eai_session_opts_t){0}, &s), EAI_OK);
    float x[16];
    for (int i = 0; i < 16; i++)
        x[i] = (float)(i + 1);
    assert_int_equal(eai_session_set_input(s, 0, x, sizeof x), EAI_OK);
    assert_int_equal(eai_session_invoke(s), EAI_OK);
    const void *out;
    eai_tensor_info_t info;
    assert_int_equal(eai_session_get_output(s, 0, &out, &info), EAI_OK);
    assert_string_equal(info.name, "out");
    assert_int_equal(info.rank, 4);
    assert_int_equal(info.dims[1], 2);
    assert_int_equal(info.dims[3], 2);
    /* numpy: TF SAME for in 4, k 3, stride 2 pads total max((2-1)*2+3-4, 0) = 1,
     * 0 before and 1 after; padding 1 before would give 37.5, 65, 67.5, ... */
    static const float want[8] = {111.0f, 181.25f, 88.5f, 110.0f, 94.5f, 86.25f, 101.25f, 52.5f};
    expect_close(out, want, 8, 1e-4f);
    eai_session_destroy(s);
    eai_model_destroy(m);

    /* every allocation of import + load + session create fails in turn:
     * a clean EAI_E_NOMEM each time (leak-free under ASan) */
    int n_ok = 0;
    for (long k = 1; k < 2000 && n_ok < 3; k++) {
        eai__test_fail_alloc(k);
        eai_model_t *m2 = NULL;
        eai_session_t *s2 = NULL;
        eai_status_t st = load("m.json", &m2);
        if (st == EAI_OK) st = eai_session_create(m2, &(eai_session_opts_t){0}, &s2);
        eai__test_fail_alloc(0);
        if (st == EAI_OK)
            n_ok++; /* past the last allocation */
        else if (st != EAI_E_NOMEM)
            fail_msg("allocation %ld: want EAI_E_NOMEM, got %s: %s", k, eai_status_str(st),
                     eai_last_error());
        eai_session_destroy(s2);
        eai_model_destroy(m2);
    }
    assert_int_equal(n_ok, 3);
}

/* ---- model B: NCHW tags carried through Pad, Mean, Transpose, Concat ---- */

/* x [1,3,4,2] -> Conv2D 1x1 VALID (c) -> Pad [[0,0],[1,0],[0,1],[0,0]] (p);
 * mean = Mean(p, [1,2]); t = Transpose(p, [0,3,1,2]); s = t[:, 1:3, :, ::2]
 * (StridedSlice, begin/end masks 0b1101); cat = ConcatV2(c, c, -1). Weights
 * in two manifest groups (a.bin, c.bin). */
static const char model_b[] =
    "{\"format\":\"graph-model\",\"modelTopology\":{\"node\":["
    "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"},"
    "\"shape\":{\"shape\":{\"dim\":[{\"size\":\"1\"},{\"size\":\"3\"},{\"size\":\"4\"},"
    "{\"size\":\"2\"}]}}}},"
    "{\"name\":\"wc\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"}}},"
    "{\"name\":\"c\",\"op\":\"Conv2D\",\"input\":[\"x\",\"wc\"],\"attr\":{\"strides\":"
    "{\"list\":{\"i\":[\"1\",\"1\",\"1\",\"1\"]}},\"padding\":{\"s\":\"VkFMSUQ=\"},"
    "\"dilations\":{\"list\":{\"i\":[\"1\",\"1\",\"1\",\"1\"]}}}},"
    "{\"name\":\"pads\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"DT_INT32\"}}},"
    "{\"name\":\"p\",\"op\":\"Pad\",\"input\":[\"c\",\"pads\"]},"
    "{\"name\":\"axes\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"DT_INT32\"}}},"
    "{\"name\":\"mean\",\"op\":\"Mean\",\"input\":[\"p\",\"axes\"],"
    "\"attr\":{\"keep_dims\":{\"b\":false}}},"
    "{\"name\":\"perm\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"DT_INT32\"}}},"
    "{\"name\":\"t\",\"op\":\"Transpose\",\"input\":[\"p\",\"perm\"]},"
    "{\"name\":\"sb\",\"op\":\"Const\"},{\"name\":\"se\",\"op\":\"Const\"},"
    "{\"name\":\"ss\",\"op\":\"Const\"},"
    "{\"name\":\"s\",\"op\":\"StridedSlice\",\"input\":[\"t\",\"sb\",\"se\",\"ss\"],"
    "\"attr\":{\"begin_mask\":{\"i\":\"13\"},\"end_mask\":{\"i\":\"13\"}}},"
    "{\"name\":\"ax\",\"op\":\"Const\"},"
    "{\"name\":\"cat\",\"op\":\"ConcatV2\",\"input\":[\"c\",\"c\",\"ax\"],"
    "\"attr\":{\"N\":{\"i\":\"2\"}}}],\"versions\":{\"producer\":1}},"
    "\"signature\":{\"inputs\":{\"x:0\":{\"name\":\"x:0\"}},\"outputs\":{\"mean:0\":"
    "{\"name\":\"mean:0\"},\"s:0\":{\"name\":\"s:0\"},\"cat:0\":{\"name\":\"cat:0\"}}},"
    "\"weightsManifest\":[{\"paths\":[\"a.bin\"],\"weights\":["
    "{\"name\":\"wc\",\"shape\":[1,1,2,3],\"dtype\":\"float32\"}]},"
    "{\"paths\":[\"c.bin\"],\"weights\":["
    "{\"name\":\"pads\",\"shape\":[4,2],\"dtype\":\"int32\"},"
    "{\"name\":\"axes\",\"shape\":[2],\"dtype\":\"int32\"},"
    "{\"name\":\"perm\",\"shape\":[4],\"dtype\":\"int32\"},"
    "{\"name\":\"sb\",\"shape\":[4],\"dtype\":\"int32\"},"
    "{\"name\":\"se\",\"shape\":[4],\"dtype\":\"int32\"},"
    "{\"name\":\"ss\",\"shape\":[4],\"dtype\":\"int32\"},"
    "{\"name\":\"ax\",\"shape\":[],\"dtype\":\"int32\"}]}]}";

static void count_op(const char *op, int count, void *user)
{
    if (strcmp(op, "Transpose") == 0) *(int *)user = count;
}

static void test_layout_propagation(void **state)
{
    write_text("m.json", model_b);
    const float wc[6] = {1, -1, 0.5f, 2, 0.25f, -1};
    write_file("a.bin", wc, sizeof wc);
    const int32_t ints[] = {0, 0, 1, 0, 0, 1, 0, 0,             /* pads */
                            1, 2,                               /* axes */
                            0, 3, 1, 2,                         /* perm */
                            0, 1, 0, 0, 0, 3, 0, 0, 1, 1, 1, 2, /* begin, end, strides */
                            -1};
    write_file("c.bin", ints, sizeof ints);
    eai_model_t *m;
    assert_int_equal(load("m.json", &m), EAI_OK);
    /* one Transpose into NCHW for the conv, one back for `cat`; none for the
     * Pad, Mean and TF Transpose in between */
    int n_transpose = -1;
    eai_model_op_histogram(m, count_op, &n_transpose);
    assert_int_equal(n_transpose, 2);
    eai_session_t *s;
    assert_int_equal(eai_session_create(m, &(eai_session_opts_t){0}, &s), EAI_OK);
    float x[24];
    for (int i = 0; i < 24; i++)
        x[i] = (float)(i - 10) / 4;
    assert_int_equal(eai_session_set_input(s, 0, x, sizeof x), EAI_OK);
    assert_int_equal(eai_session_invoke(s), EAI_OK);
    /* numpy: c = einsum('nhwi,io->nhwo'), p = pad, mean over (1,2), s =
     * p.transpose(0,3,1,2)[:, 1:3, :, ::2], cat = concatenate([c, c], -1) */
    static const float want_mean[3] = {0.75f, -0.075f, -0.225f};
    static const float want_s[24] = {
        0, 0, 0, 1.9375f, 1.1875f, 0, 0.4375f, -0.3125f, 0, -1.0625f, -1.8125f, 0,
        0, 0, 0, 1.0f,    0.5f,    0, 0,       -0.5f,    0, -1.0f,    -1.5f,    0};
    static const float want_cat_row0[12] = {-7.0f, 1.9375f, 1.0f,  -7.0f, 1.9375f, 1.0f,
                                            -5.5f, 1.5625f, 0.75f, -5.5f, 1.5625f, 0.75f};
    static const int64_t dims_s[4] = {1, 2, 4, 3}, dims_cat[4] = {1, 3, 4, 6};
    const void *out;
    eai_tensor_info_t info;
    assert_int_equal(eai_session_get_output(s, eai_session_output_index(s, "mean"), &out, &info),
                     EAI_OK);
    assert_int_equal(info.rank, 2);
    expect_close(out, want_mean, 3, 1e-5f);
    assert_int_equal(eai_session_get_output(s, eai_session_output_index(s, "s"), &out, &info),
                     EAI_OK);
    assert_memory_equal(info.dims, dims_s, sizeof dims_s);
    expect_close(out, want_s, 24, 1e-5f);
    assert_int_equal(eai_session_get_output(s, eai_session_output_index(s, "cat"), &out, &info),
                     EAI_OK);
    assert_memory_equal(info.dims, dims_cat, sizeof dims_cat);
    expect_close(out, want_cat_row0, 12, 1e-5f);
    eai_session_destroy(s);
    eai_model_destroy(m);
}

/* ---- model C: integer floor division (TF.js floors, ONNX Div truncates) ---- */

static void test_int_floor_div_mod(void **state)
{
    write_text("m.json",
               "{\"modelTopology\":{\"node\":["
               "{\"name\":\"xi\",\"op\":\"Placeholder\",\"attr\":{\"dtype\":{\"type\":"
               "\"DT_INT32\"},\"shape\":{\"shape\":{\"dim\":[{\"size\":\"4\"}]}}}},"
               "{\"name\":\"k\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"DT_INT32\"}}},"
               "{\"name\":\"fd\",\"op\":\"FloorDiv\",\"input\":[\"xi\",\"k\"],"
               "\"attr\":{\"T\":{\"type\":\"DT_INT32\"}}},"
               "{\"name\":\"fm\",\"op\":\"FloorMod\",\"input\":[\"xi\",\"k\"],"
               "\"attr\":{\"T\":{\"type\":\"DT_INT32\"}}}],\"versions\":{}},"
               "\"weightsManifest\":[{\"paths\":[\"a.bin\"],\"weights\":["
               "{\"name\":\"k\",\"shape\":[],\"dtype\":\"int32\"}]}]}");
    const int32_t k = 3;
    write_file("a.bin", &k, 4);
    eai_model_t *m;
    assert_int_equal(load("m.json", &m), EAI_OK);
    eai_session_t *s;
    assert_int_equal(eai_session_create(m, &(eai_session_opts_t){0}, &s), EAI_OK);
    const int32_t x[4] = {-7, 7, -8, 0};
    assert_int_equal(eai_session_set_input(s, 0, x, sizeof x), EAI_OK);
    assert_int_equal(eai_session_invoke(s), EAI_OK);
    /* by hand: floor(-7/3) = -3, -7 - 3*(-3) = 2; 7 -> 2, 1; -8 -> -3, 1 */
    static const int32_t want_fd[4] = {-3, 2, -3, 0}, want_fm[4] = {2, 1, 1, 0};
    const void *out;
    eai_tensor_info_t info;
    assert_int_equal(eai_session_get_output(s, eai_session_output_index(s, "fd"), &out, &info),
                     EAI_OK);
    assert_int_equal(info.dtype, EAI_I32);
    assert_memory_equal(out, want_fd, sizeof want_fd);
    assert_int_equal(eai_session_get_output(s, eai_session_output_index(s, "fm"), &out, &info),
                     EAI_OK);
    assert_memory_equal(out, want_fm, sizeof want_fm);
    eai_session_destroy(s);
    eai_model_destroy(m);
}

/* ---- malformed files ---- */

static void test_malformed_json(void **state)
{
    write_text("bad.json", "{\"modelTopology\": {\"node\": [\n  {\"name\": \"x\",, }]}}");
    expect_fail("bad.json", EAI_E_FORMAT, "not valid JSON (parse error at byte");
    write_text("bad.json", "{\"modelTopology\": {\"node\": 3}}");
    expect_fail("bad.json", EAI_E_FORMAT, "modelTopology.node must be an array");
    write_text("bad.json", "{\"format\": \"layers-model\", \"modelTopology\": {}}");
    expect_fail("bad.json", EAI_E_UNSUPPORTED, "format 'layers-model'");
}

static void test_missing_shard(void **state)
{
    write_model_a("2", "uint8", 0);
    char p[256];
    path_of(p, sizeof p, "b.bin");
    remove(p);
    expect_fail("m.json", EAI_E_IO, "b.bin: cannot open");
}

static void test_short_shard(void **state)
{
    write_model_a("2", "uint8", 3);
    expect_fail("m.json", EAI_E_FORMAT, "weight 'm' needs bytes from offset 22");
}

static void test_bad_manifest(void **state)
{
    write_model_a("-2", "uint8", 0); /* a negative dimension */
    expect_fail("m.json", EAI_E_FORMAT, "weight 'w': bad or huge shape");
    write_model_a("99999999999", "uint8", 0); /* needs far more bytes than the shards */
    expect_fail("m.json", EAI_E_FORMAT, "weight 'w' needs bytes from offset 0");
    write_model_a("2", "int4", 0);
    expect_fail("m.json", EAI_E_UNSUPPORTED, "quantization 'int4'");
    write_text("bad.json", "{\"modelTopology\":{\"node\":[]},\"weightsManifest\":"
                           "[{\"paths\":[\"../a.bin\"],\"weights\":[]}]}");
    expect_fail("bad.json", EAI_E_FORMAT, "must be a relative path without '..'");
}

static void test_bad_graph(void **state)
{
    write_text("bad.json", "{\"modelTopology\":{\"node\":["
                           "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"shape\":{\"shape\":"
                           "{\"dim\":[{\"size\":\"2\"}]}}}},"
                           "{\"name\":\"y\",\"op\":\"Frobnicate\",\"input\":[\"x\"]}]}}");
    expect_fail("bad.json", EAI_E_UNSUPPORTED,
                "'y' (Frobnicate): TF op Frobnicate is not "
                "supported");
    write_text("bad.json", "{\"modelTopology\":{\"node\":["
                           "{\"name\":\"y\",\"op\":\"Relu\",\"input\":[\"nope:0\"]}]}}");
    expect_fail("bad.json", EAI_E_FORMAT, "node 'y': input 'nope:0' names no node");
    write_text("bad.json", "{\"modelTopology\":{\"node\":["
                           "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"shape\":{\"shape\":"
                           "{\"dim\":[{\"size\":\"2\"}]}}}},"
                           "{\"name\":\"y\",\"op\":\"Relu\",\"input\":[\"x:3\"]}]}}");
    expect_fail("bad.json", EAI_E_FORMAT, "reads output 3 of 'x'");
    write_text("bad.json", "{\"modelTopology\":{\"node\":["
                           "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"shape\":{\"shape\":"
                           "{\"dim\":[{\"size\":\"2\"}]}}}},"
                           "{\"name\":\"w\",\"op\":\"Const\"},"
                           "{\"name\":\"y\",\"op\":\"Add\",\"input\":[\"x\",\"w\"]}]}}");
    expect_fail("bad.json", EAI_E_FORMAT, "'w' (Const): no weight of this name");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantized_same_conv), cmocka_unit_test(test_layout_propagation),
        cmocka_unit_test(test_int_floor_div_mod),   cmocka_unit_test(test_malformed_json),
        cmocka_unit_test(test_missing_shard),       cmocka_unit_test(test_short_shard),
        cmocka_unit_test(test_bad_manifest),        cmocka_unit_test(test_bad_graph),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
