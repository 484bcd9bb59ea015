/* TFLite import: the committed fixtures in models/tflite (written by
 * scripts/make_tflite_fixtures.py, expected outputs from numpy; the same
 * fixtures agree with TFLite itself in tests/it/test_tflite_objectron.sh)
 * run through eai_model_load and a session; the layout tags leave only the
 * Transposes element order needs; malformed files (bad_models.txt lists the
 * status and sentence each must give), every truncation and every flipped
 * byte of a valid file fail cleanly; every allocation failing in turn gives
 * EAI_E_NOMEM. The objectron detector is tested against TFLite in the
 * integration test. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edgeai/edgeai.h"
#include "model/graph.h"

long eai__test_fail_alloc(long n); /* src/core/alloc.c */

#define FIX "models/tflite/"

static void *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s (run from the source root)", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc((size_t)len + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return buf;
}

/* Runs fixture `name` on its input; every output must match
 * name.output<k>.npy within tol. */
static void check_fixture(const char *name, int n_out, float tol)
{
    char path[256];
    snprintf(path, sizeof path, FIX "%s.tflite", name);
    eai_model_t *m;
    eai_status_t st = eai_model_load(path, NULL, &m);
    if (st != EAI_OK) fail_msg("%s: %s", path, eai_last_error());
    assert_int_equal(eai_model_n_outputs(m), n_out);
    eai_session_t *s;
    assert_int_equal(eai_session_create(m, &(eai_session_opts_t){.backend = "ref"}, &s), EAI_OK);
    eai_npy_t in;
    snprintf(path, sizeof path, FIX "%s.input.npy", name);
    assert_int_equal(eai_npy_read(path, &in), EAI_OK);
    assert_int_equal(eai_session_set_input(s, 0, in.data, in.n_bytes), EAI_OK);
    assert_int_equal(eai_session_invoke(s), EAI_OK);
    for (int k = 0; k < n_out; k++) {
        const float *got;
        eai_tensor_info_t info;
        eai_npy_t want;
        snprintf(path, sizeof path, FIX "%s.output%d.npy", name, k);
        assert_int_equal(eai_npy_read(path, &want), EAI_OK);
        assert_int_equal(eai_session_get_output(s, k, (const void **)&got, &info), EAI_OK);
        assert_int_equal(info.dtype, EAI_F32);
        assert_int_equal(info.rank, want.rank);
        for (int d = 0; d < want.rank; d++)
            assert_int_equal(info.dims[d], want.dims[d]);
        const float *w = want.data;
        double maxd = 0;
        for (size_t i = 0; i < want.n_bytes / 4; i++)
            maxd = fmax(maxd, fabs((double)got[i] - w[i]));
        print_message("  %s output %d '%s': max |diff| %.3g\n", name, k, info.name, maxd);
        if (!(maxd <= tol)) fail_msg("%s output %d: max |diff| %g > %g", name, k, maxd, tol);
        eai_npy_free(&want);
    }
    eai_npy_free(&in);
    eai_session_destroy(s);
    eai_model_destroy(m);
}

static void test_float_fixtures(void **state)
{
    (void)state;
    check_fixture("mobile_fp32", 2, 1e-5f);
    check_fixture("ops_fp32", 4, 1e-5f);
    check_fixture("mobile_fp16", 1, 1e-5f);
}

/* Whether this build runs the quantized fixtures (the ref backend's
 * QuantizeLinear/DequantizeLinear landed separately); says why not. */
static bool quant_runs(void)
{
    eai_model_t *m;
    if (eai_model_load(FIX "mobile_int8.tflite", NULL, &m) == EAI_OK) {
        eai_model_destroy(m);
        return true;
    }
    if (!strstr(eai_last_error(), "QuantizeLinear") && !strstr(eai_last_error(), "Dequantize"))
        fail_msg("mobile_int8: %s", eai_last_error());
    print_message("  skipped: %s\n", eai_last_error());
    return false;
}

static void test_quantized_fixtures(void **state)
{
    (void)state;
    if (!quant_runs()) skip();
    /* one step of the output scale (8/255): the reference rounds the same
     * float QDQ arithmetic, so only ties may differ */
    check_fixture("mobile_int8", 1, 0.0315f);
    check_fixture("mobile_uint8", 1, 0.0315f);
}

/* ---- structure of the imported graphs ---- */

typedef struct counts {
    int transpose, dq, q, conv;
} counts_t;

static void count_ops(const char *op, int count, void *user)
{
    counts_t *c = user;
    if (strcmp(op, "Transpose") == 0) c->transpose = count;
    if (strcmp(op, "DequantizeLinear") == 0) c->dq = count;
    if (strcmp(op, "QuantizeLinear") == 0) c->q = count;
    if (strcmp(op, "Conv") == 0) c->conv = count;
}

static counts_t imported_ops(const char *file)
{
    counts_t c = {0};
    eai__graph_t g;
    size_t n;
    void *data = read_all(file, &n);
    assert_int_equal(eai__graph_init(&g, NULL, file), EAI_OK);
    eai_status_t st = eai__tflite_import(&g, data, n);
    if (st != EAI_OK) fail_msg("%s: %s", file, eai_last_error());
    for (int i = 0; i < g.n_nodes; i++) {
        const char *op = g.nodes[i].op;
        c.transpose += strcmp(op, "Transpose") == 0;
        c.dq += strcmp(op, "DequantizeLinear") == 0;
        c.q += strcmp(op, "QuantizeLinear") == 0;
        c.conv += strcmp(op, "Conv") == 0;
        /* per-channel weights keep their axis through the OHWI -> OIHW and
         * [1,kh,kw,c] -> [c,1,kh,kw] relayouts: axis 0 either way */
        if (strcmp(op, "DequantizeLinear") == 0 &&
            eai__shape_numel(&g.values[g.nodes[i].in[1]].shape) > 1) {
            const eai__attr_t *a = eai__node_attr(&g.nodes[i], "axis");
            assert_non_null(a);
            int64_t want_dim = g.values[g.nodes[i].in[1]].shape.d[0];
            assert_int_equal(g.values[g.nodes[i].in[0]].shape.d[a->i], want_dim);
        }
    }
    eai__graph_free(&g);
    free(data);
    return c;
}

static void test_layout_and_qdq(void **state)
{
    (void)state;
    /* input, the concat before RESHAPE, the NHWC output 'gate' */
    counts_t c = imported_ops(FIX "mobile_fp32.tflite");
    assert_int_equal(c.transpose, 3);
    assert_int_equal(c.conv, 3);
    /* input and the 'leaky' output; MEAN and TRANSPOSE(p, NCHW) need none */
    c = imported_ops(FIX "ops_fp32.tflite");
    assert_int_equal(c.transpose, 2);
    /* fp16 weights folded at import: no DequantizeLinear, no Cast */
    c = imported_ops(FIX "mobile_fp16.tflite");
    assert_int_equal(c.dq, 0);
    /* int8: QUANTIZE, then each op's quantized output (conv, dw, add, pool,
     * fc; reshape keeps int8) */
    c = imported_ops(FIX "mobile_int8.tflite");
    assert_int_equal(c.q, 6);
    assert_true(c.dq >= 9); /* 3 weights, 3 biases, activations */
    /* the same counts through the public histogram (no optimisation) */
    eai_model_t *m;
    if (eai_model_load(FIX "ops_fp32.tflite", &(eai_model_opts_t){.no_optimize = true}, &m) ==
        EAI_OK) {
        counts_t h = {0};
        eai_model_op_histogram(m, count_ops, &h);
        assert_int_equal(h.transpose, 2);
        eai_model_destroy(m);
    }
}

/* ---- malformed files ---- */

static eai_status_t status_of(const char *name)
{
    if (strcmp(name, "EAI_E_FORMAT") == 0) return EAI_E_FORMAT;
    if (strcmp(name, "EAI_E_UNSUPPORTED") == 0) return EAI_E_UNSUPPORTED;
    fail_msg("unknown status %s in bad_models.txt", name);
    return EAI_OK;
}

static void test_bad_models(void **state)
{
    (void)state;
    FILE *f = fopen(FIX "bad_models.txt", "r");
    assert_non_null(f);
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        line[strcspn(line, "\n")] = 0;
        char file[128], status[64];
        int used;
        assert_int_equal(sscanf(line, "%127s %63s %n", file, status, &used), 2);
        const char *needle = line + used;
        char path[256];
        snprintf(path, sizeof path, FIX "%s", file);
        eai_model_t *m = NULL;
        eai_status_t st = eai_model_load(path, NULL, &m);
        print_message("  %s -> %s: %s\n", file, eai_status_str(st), eai_last_error());
        assert_null(m);
        assert_int_equal(st, status_of(status));
        if (!strstr(eai_last_error(), needle)) fail_msg("%s: message lacks \"%s\"", file, needle);
        n++;
    }
    fclose(f);
    assert_true(n >= 15);
}

/* Every prefix of a valid file fails with a format error (no crash, no
 * leak under ASan); every byte flipped in turn gives some status. */
static void test_truncations_and_flips(void **state)
{
    (void)state;
    size_t n;
    uint8_t *data = read_all(FIX "mobile_fp16.tflite", &n);
    uint8_t *copy = malloc(n);
    assert_non_null(copy);
    for (size_t len = 0; len < n; len++) {
        memcpy(copy, data, len);
        eai_model_t *m = NULL;
        eai_status_t st = eai_model_load_memory(copy, len, "cut.tflite", NULL, &m);
        if (st == EAI_OK) fail_msg("a %zu-byte prefix of %zu loaded", len, n);
        /* short prefixes are not recognised as TFLite at all (ONNX decode) */
        if (len >= 8 && st != EAI_E_FORMAT)
            fail_msg("prefix %zu: %s: %s", len, eai_status_str(st), eai_last_error());
    }
    int loaded = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(copy, data, n);
        copy[i] ^= 0xff;
        eai_model_t *m = NULL;
        if (eai_model_load_memory(copy, n, "flip.tflite", NULL, &m) == EAI_OK) {
            loaded++; /* a weight byte: still a valid model */
            eai_model_destroy(m);
        } else {
            assert_null(m);
            assert_true(strlen(eai_last_error()) > 0);
        }
    }
    print_message("  %d of %zu single-byte flips still load (weights, names)\n", loaded, n);
    free(copy);
    free(data);
}

/* Every allocation of import + load fails in turn: a clean EAI_E_NOMEM. */
static void oom_loop(const char *file)
{
    int n_ok = 0;
    for (long k = 1; k < 5000 && n_ok < 3; k++) {
        eai__test_fail_alloc(k);
        eai_model_t *m = NULL;
        eai_status_t st = eai_model_load(file, NULL, &m);
        eai__test_fail_alloc(0);
        if (st == EAI_OK)
            n_ok++; /* past the last allocation */
        else if (st != EAI_E_NOMEM)
            fail_msg("%s: allocation %ld: want EAI_E_NOMEM, got %s: %s", file, k,
                     eai_status_str(st), eai_last_error());
        eai_model_destroy(m);
    }
    assert_int_equal(n_ok, 3);
}

static void test_out_of_memory(void **state)
{
    (void)state;
    oom_loop(FIX "mobile_fp32.tflite");
    oom_loop(FIX "ops_fp32.tflite");
    if (quant_runs()) oom_loop(FIX "mobile_int8.tflite");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float_fixtures),        cmocka_unit_test(test_quantized_fixtures),
        cmocka_unit_test(test_layout_and_qdq),        cmocka_unit_test(test_bad_models),
        cmocka_unit_test(test_truncations_and_flips), cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
