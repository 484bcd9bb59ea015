/* .eai plans, the good path: a saved plan loads into the same graph and gives
 * bit-identical outputs to the model it was saved from (and PyTorch's
 * reference outputs from the fixture files); float32 weights are used in
 * place in the mapping; an FP16 plan is about half the size, computes what
 * the built model computed, and stays close to FP32. Plus CRC-32C against
 * its check value, atomic saves and failing allocations. */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "edgeai/edgeai.h"
#include "plan/plan_impl.h"

#define MODELS EAI_SOURCE_DIR "/models/"

static char tmpdir[64];

static void check(eai_status_t st, const char *what)
{
    if (st != EAI_OK) fail_msg("%s: %s: %s", what, eai_status_str(st), eai_last_error());
}

static void tmp_path(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", tmpdir, name);
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* Output 0 of one invoke on `in` (batch = in's first dim), copied. */
static float *run(const eai_model_t *m, const eai_npy_t *in, size_t *n)
{
    eai_session_opts_t o = {.batch = in->rank ? in->dims[0] : 1};
    eai_session_t *s;
    check(eai_session_create(m, &o, &s), "session");
    check(eai_session_set_input(s, 0, in->data, in->n_bytes), "set_input");
    check(eai_session_invoke(s), "invoke");
    const void *y;
    eai_tensor_info_t info;
    check(eai_session_get_output(s, 0, &y, &info), "get_output");
    assert_int_equal(info.dtype, EAI_F32);
    *n = (size_t)eai_tensor_info_numel(&info);
    float *copy = malloc(*n * sizeof(float) + 1);
    assert_non_null(copy);
    memcpy(copy, y, *n * sizeof(float));
    eai_session_destroy(s);
    return copy;
}

static double max_abs(const float *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(a[i]));
    return m;
}

static double max_err(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

static void test_crc32c(void **state)
{
    /* the CRC-32C check value (RFC 3720 B.4 / the "catalogue of CRCs") */
    assert_int_equal(eai__crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(eai__crc32c_sw(0, "123456789", 9), 0xE3069283u);
    /* RFC 3720 B.4: 32 bytes of zeros */
    uint8_t z[32] = {0};
    assert_int_equal(eai__crc32c(0, z, 32), 0x8A9136AAu);
    /* hardware and table paths agree at every length and alignment, and
     * chaining equals one pass */
    uint8_t buf[1100];
    uint32_t seed = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        seed = seed * 1664525u + 1013904223u;
        buf[i] = (uint8_t)(seed >> 24);
    }
    for (size_t off = 0; off < 9; off++)
        for (size_t len = 0; len < 1000; len += 7) {
            uint32_t hw = eai__crc32c(0, buf + off, len), sw = eai__crc32c_sw(0, buf + off, len);
            assert_int_equal(hw, sw);
            size_t cut = len / 3;
            assert_int_equal(
                eai__crc32c(eai__crc32c(0, buf + off, cut), buf + off + cut, len - cut), hw);
        }
}

/* The load-time half -> float conversion equals eai_f16_to_f32 on all 65536
 * inputs (NaNs compared by bits), from unaligned bytes too. */
static void test_half_to_float(void **state)
{
    uint8_t *src = malloc(2 * 65536 + 1);
    float *dst = malloc(65536 * sizeof(float));
    assert_non_null(src);
    assert_non_null(dst);
    for (uint32_t h = 0; h < 65536; h++) {
        src[1 + 2 * h] = (uint8_t)h;
        src[2 + 2 * h] = (uint8_t)(h >> 8);
    }
    eai__plan_half_to_float(dst, src + 1, 65536);
    for (uint32_t h = 0; h < 65536; h++) {
        float want = eai_f16_to_f32((uint16_t)h);
        uint32_t a, b;
        memcpy(&a, &dst[h], 4);
        memcpy(&b, &want, 4);
        if (a != b) fail_msg("half 0x%04x: got 0x%08x, want 0x%08x", h, a, b);
    }
    free(src);
    free(dst);
}

/* Saves `src` as a plan, loads it back from the file (mmap) and from memory
 * (copy), and compares the three: same inputs/outputs, bit-identical output. */
static void roundtrip(const char *onnx, const char *input, const char *expected)
{
    eai_model_t *m, *pf, *pm;
    check(eai_model_load(onnx, NULL, &m), onnx);
    char plan[256];
    tmp_path(plan, sizeof plan, "rt.eai");
    check(eai_model_save(m, plan), "save");
    check(eai_model_load(plan, NULL, &pf), "load plan");
    void *bytes;
    size_t n_bytes;
    check(eai__read_file(NULL, plan, &bytes, &n_bytes), "read plan");
    check(eai_model_load_memory(bytes, n_bytes, "rt.eai", NULL, &pm), "load plan from memory");
    eai__free_aligned(NULL, bytes);

    assert_int_equal(eai_model_n_inputs(pf), eai_model_n_inputs(m));
    assert_int_equal(eai_model_n_outputs(pf), eai_model_n_outputs(m));
    for (int i = 0; i < eai_model_n_inputs(m) + eai_model_n_outputs(m); i++) {
        eai_tensor_info_t a, b;
        bool in = i < eai_model_n_inputs(m);
        int k = in ? i : i - eai_model_n_inputs(m);
        check(in ? eai_model_input_info(m, k, &a) : eai_model_output_info(m, k, &a), "info");
        check(in ? eai_model_input_info(pf, k, &b) : eai_model_output_info(pf, k, &b), "info");
        assert_string_equal(a.name, b.name);
        assert_int_equal(a.dtype, b.dtype);
        assert_int_equal(a.rank, b.rank);
        for (int d = 0; d < a.rank; d++)
            assert_int_equal(a.dims[d], b.dims[d]); /* symbolic dims stay symbolic (-1) */
    }
    eai_model_stats_t sa, sb;
    eai_model_get_stats(m, &sa);
    eai_model_get_stats(pf, &sb);
    assert_int_equal(sa.n_nodes, sb.n_nodes);
    assert_int_equal(sa.n_params, sb.n_params);
    assert_int_equal(sa.macs, sb.macs);
    assert_int_equal(sa.opset, sb.opset);
    assert_string_equal(sa.producer, sb.producer);

    eai_npy_t x, want;
    check(eai_npy_read(input, &x), input);
    check(eai_npy_read(expected, &want), expected);
    size_t n0, n1, n2;
    float *y0 = run(m, &x, &n0), *y1 = run(pf, &x, &n1), *y2 = run(pm, &x, &n2);
    assert_int_equal(n0, n1);
    assert_int_equal(n0, n2);
    assert_int_equal(n0 * sizeof(float), want.n_bytes);
    /* same graph, same kernels: the same bits */
    assert_memory_equal(y0, y1, n0 * sizeof(float));
    assert_memory_equal(y0, y2, n0 * sizeof(float));
    /* and PyTorch's output, with the zoo test's tolerance */
    double err = max_err(y1, want.data, n1), tol = 1e-4 * max_abs(want.data, n1);
    if (err > tol) fail_msg("%s: plan output off PyTorch's by %g (> %g)", onnx, err, tol);
    free(y0);
    free(y1);
    free(y2);
    eai_npy_free(&x);
    eai_npy_free(&want);
    eai_model_destroy(pm);
    eai_model_destroy(pf);
    eai_model_destroy(m);
}

static void test_roundtrip_mlp(void **state)
{
    roundtrip(MODELS "mlp.onnx", MODELS "mlp.input.npy", MODELS "mlp.output.npy");
    roundtrip(MODELS "mlp.onnx", MODELS "mlp_b4.input.npy", MODELS "mlp_b4.output.npy");
}

static void test_roundtrip_cnn(void **state)
{
    roundtrip(MODELS "cnn_small.onnx", MODELS "cnn_small.input.npy", MODELS "cnn_small.output.npy");
}

static void test_roundtrip_fashion(void **state)
{
    roundtrip(MODELS "fashion/fashion_cnn.onnx", MODELS "fashion/test_batch.npy",
              MODELS "fashion/torch_logits.npy");
}

/* float32 weights of a mapped plan are used in place: 64-byte aligned
 * pointers into the mapping, not owned; a plan loaded from memory owns
 * copies. */
static void test_zero_copy(void **state)
{
    eai_model_t *m, *p, *pm;
    check(eai_model_load(MODELS "fashion/fashion_cnn.onnx", NULL, &m), "load");
    char plan[256];
    tmp_path(plan, sizeof plan, "zc.eai");
    check(eai_model_save(m, plan), "save");
    check(eai_model_load(plan, NULL, &p), "load plan");
    assert_non_null(p->map);
    assert_int_equal((long long)p->map_bytes, file_size(plan));
    const uint8_t *lo = p->map, *hi = lo + p->map_bytes;
    int n_const = 0;
    int64_t const_bytes = 0;
    for (int i = 0; i < p->g.n_values; i++) {
        const eai__value_t *v = &p->g.values[i];
        if (v->kind != EAI__V_CONST || eai__shape_numel(&v->shape) == 0) continue;
        const uint8_t *d = v->data;
        if (v->owns_data || d < lo || d >= hi)
            fail_msg("constant '%s' is not in the mapping", v->name);
        assert_int_equal((uintptr_t)d % 64, 0);
        n_const++;
        const_bytes += eai__shape_numel(&v->shape) * (int64_t)eai_dtype_size(v->dtype);
    }
    assert_true(n_const >= 8);                                  /* 4 layers: weights and biases */
    assert_true(const_bytes > 200000);                          /* 54,778 float32 parameters */
    assert_true((long long)p->map_bytes < const_bytes + 16384); /* little besides weights */

    void *bytes;
    size_t n_bytes;
    check(eai__read_file(NULL, plan, &bytes, &n_bytes), "read");
    check(eai_model_load_memory(bytes, n_bytes, "zc.eai", NULL, &pm), "load memory");
    eai__free_aligned(NULL, bytes); /* the model must not borrow the buffer */
    assert_null(pm->map);
    for (int i = 0; i < pm->g.n_values; i++)
        if (pm->g.values[i].kind == EAI__V_CONST) assert_true(pm->g.values[i].owns_data);
    eai_npy_t x;
    check(eai_npy_read(MODELS "fashion/test_batch.npy", &x), "batch");
    size_t n0, n1;
    float *y0 = run(p, &x, &n0), *y1 = run(pm, &x, &n1);
    assert_memory_equal(y0, y1, n0 * sizeof(float));
    free(y0);
    free(y1);
    eai_npy_free(&x);
    eai_model_destroy(pm);
    eai_model_destroy(p);
    eai_model_destroy(m);
}

static int argmax(const float *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

/* FP16: the plan is about half the FP32 plan; the built model (source
 * destroyed first) computes exactly what its reloaded plan computes; the
 * error against FP32 is small and the classes agree. */
static void test_fp16(void **state)
{
    eai_model_t *m, *b, *p32, *p16;
    check(eai_model_load(MODELS "fashion/fashion_cnn.onnx", NULL, &m), "load");
    char f32[256], f16[256];
    tmp_path(f32, sizeof f32, "f32.eai");
    tmp_path(f16, sizeof f16, "f16.eai");
    check(eai_model_save(m, f32), "save fp32");
    eai_build_opts_t o = {.fp16 = true};
    eai_build_report_t rep;
    check(eai_build(m, &o, &b, &rep), "build fp16");
    eai_model_destroy(m); /* the built model must not borrow from it */
    check(eai_model_save(b, f16), "save fp16");
    long long s32 = file_size(f32), s16 = file_size(f16);
    if (!(s16 <= 0.55 * s32)) fail_msg("fp16 plan %lld bytes, fp32 plan %lld", s16, s32);
    assert_true(s16 >= 0.45 * s32);
    check(eai_model_load(f32, NULL, &p32), "load fp32 plan");
    check(eai_model_load(f16, NULL, &p16), "load fp16 plan");
    assert_true(p16->fp16_weights);
    assert_false(p32->fp16_weights);

    eai_npy_t x, ref;
    check(eai_npy_read(MODELS "fashion/test_batch.npy", &x), "batch");
    check(eai_npy_read(MODELS "fashion/torch_logits.npy", &ref), "logits");
    size_t nb, n16, n32;
    float *yb = run(b, &x, &nb), *y16 = run(p16, &x, &n16), *y32 = run(p32, &x, &n32);
    assert_memory_equal(yb, y16, nb * sizeof(float));
    /* half weights: relative precision 2^-11 per weight. Over a 4-layer net
     * the logits move by well under 1% of their range (measured: see
     * docs/eai-format.md), never more than 2%. */
    double err = max_err(y16, y32, n32), range = max_abs(y32, n32);
    if (err > 0.02 * range) fail_msg("fp16 max abs err %g, logits range %g", err, range);
    assert_true(err > 0); /* the weights really changed */
    int agree = 0, rows = (int)(n32 / 10);
    for (int r = 0; r < rows; r++)
        agree += argmax(y16 + r * 10, 10) == argmax((const float *)ref.data + r * 10, 10);
    if (agree < rows - 2) fail_msg("fp16 top-1 agrees with PyTorch on %d of %d", agree, rows);
    free(yb);
    free(y16);
    free(y32);
    eai_npy_free(&x);
    eai_npy_free(&ref);
    eai_model_destroy(p16);
    eai_model_destroy(p32);
    eai_model_destroy(b);
}

static int count_tmp_files(const char *prefix)
{
    DIR *d = opendir(tmpdir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0 && strstr(e->d_name, ".tmp.");
    closedir(d);
    return n;
}

/* A failed save leaves the old file as it was and no temporary behind. */
static void test_save_errors(void **state)
{
    eai_model_t *a, *b;
    check(eai_model_load(MODELS "mlp.onnx", NULL, &a), "mlp");
    check(eai_model_load(MODELS "cnn_small.onnx", NULL, &b), "cnn");
    assert_int_equal(eai_model_save(NULL, "x.eai"), EAI_E_INVALID);
    assert_int_equal(eai_model_save(a, NULL), EAI_E_INVALID);
    assert_int_equal(eai_model_save(a, "/nonexistent-dir/x.eai"), EAI_E_IO);
    assert_non_null(strstr(eai_last_error(), "/nonexistent-dir/x.eai"));
    char path[256];
    tmp_path(path, sizeof path, "atomic.eai");
    check(eai_model_save(a, path), "save a");
    void *want;
    size_t n_want;
    check(eai__read_file(NULL, path, &want, &n_want), "read a");
    int n_fail = 0;
    for (long k = 1; k < 200; k++) {
        eai__test_fail_alloc(k);
        eai_status_t st = eai_model_save(b, path);
        eai__test_fail_alloc(0);
        if (st == EAI_OK) break;
        assert_int_equal(st, EAI_E_NOMEM);
        n_fail++;
        void *got;
        size_t n_got;
        check(eai__read_file(NULL, path, &got, &n_got), "read back");
        assert_int_equal(n_got, n_want);
        assert_memory_equal(got, want, n_want);
        eai__free_aligned(NULL, got);
        assert_int_equal(count_tmp_files("atomic.eai"), 0);
    }
    assert_true(n_fail > 3);
    eai_model_t *p;
    check(eai_model_load(path, NULL, &p), "load b's plan");
    assert_int_equal(eai_model_n_inputs(p), 1);
    eai_model_destroy(p);
    eai__free_aligned(NULL, want);
    eai_model_destroy(a);
    eai_model_destroy(b);
}

/* Every allocation of plan loading (file and memory), saving and building
 * fails in turn: each gives EAI_E_NOMEM, never a crash or a leak (ASan). */
static void test_oom(void **state)
{
    eai_model_t *m;
    check(eai_model_load(MODELS "cnn_small.onnx", NULL, &m), "cnn");
    char plan[256];
    tmp_path(plan, sizeof plan, "oom.eai");
    check(eai_model_save(m, plan), "save");
    void *bytes;
    size_t n_bytes;
    check(eai__read_file(NULL, plan, &bytes, &n_bytes), "read");
    for (int mode = 0; mode < 3; mode++) {
        int n_ok = 0;
        long k;
        for (k = 1; k < 2000 && n_ok < 3; k++) {
            eai__test_fail_alloc(k);
            eai_model_t *p = NULL;
            eai_status_t st;
            if (mode == 0)
                st = eai_model_load(plan, NULL, &p);
            else if (mode == 1)
                st = eai_model_load_memory(bytes, n_bytes, "oom.eai", NULL, &p);
            else
                st = eai_build(m, &(eai_build_opts_t){.fp16 = true}, &p, NULL);
            eai__test_fail_alloc(0);
            if (st == EAI_OK)
                n_ok++;
            else if (st != EAI_E_NOMEM)
                fail_msg("mode %d, allocation %ld: want EAI_E_NOMEM, got %s: %s", mode, k,
                         eai_status_str(st), eai_last_error());
            else
                assert_null(p);
            eai_model_destroy(p);
        }
        assert_true(n_ok > 0);
        assert_true(k > 10);
    }
    eai__free_aligned(NULL, bytes);
    eai_model_destroy(m);
}

static int setup(void **state)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/eai_plan_rt_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
            unlink(p);
        }
    if (d) closedir(d);
    rmdir(tmpdir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test(test_half_to_float),
        cmocka_unit_test(test_roundtrip_mlp),
        cmocka_unit_test(test_roundtrip_cnn),
        cmocka_unit_test(test_roundtrip_fashion),
        cmocka_unit_test(test_zero_copy),
        cmocka_unit_test(test_fp16),
        cmocka_unit_test(test_save_errors),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
