/* .eai plans, the bad path: every byte of a real plan is cut off or flipped
 * in turn, and each case must fail with its own sentence (truncated, header
 * CRC, table CRC, section CRC naming the section, version, nonzero padding).
 * Then plans with valid CRCs but hostile contents (what the fuzzer crafts):
 * counts, indices, cycles, unknown sections; and a seeded mutation loop. The
 * sanitizer build (EAI_SANITIZE) turns any out-of-bounds read into a failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "edgeai/edgeai.h"
#include "plan/plan_impl.h"

#define MODELS EAI_SOURCE_DIR "/models/"

typedef struct plan {
    uint8_t *p;
    size_t n;
} plan_t;

static void check(eai_status_t st, const char *what)
{
    if (st != EAI_OK) fail_msg("%s: %s: %s", what, eai_status_str(st), eai_last_error());
}

/* A real plan's bytes: `model` saved through a temporary file. */
static plan_t make_plan(const char *model, bool fp16)
{
    eai_model_t *m, *b = NULL;
    check(eai_model_load(model, NULL, &m), model);
    if (fp16) check(eai_build(m, &(eai_build_opts_t){.fp16 = true}, &b, NULL), "build");
    char path[] = "/tmp/eai_plan_corrupt_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    check(eai_model_save(b ? b : m, path), "save");
    void *d;
    size_t n;
    check(eai__read_file(NULL, path, &d, &n), "read");
    unlink(path);
    plan_t p = {malloc(n), n};
    assert_non_null(p.p);
    memcpy(p.p, d, n);
    eai__free_aligned(NULL, d);
    eai_model_destroy(b);
    eai_model_destroy(m);
    return p;
}

/* Loads bytes as "plan.eai"; returns the status and leaves the message. */
static eai_status_t load(const uint8_t *p, size_t n)
{
    eai_model_t *m = NULL;
    eai_status_t st = eai_model_load_memory(p, n, "plan.eai", NULL, &m);
    if (st == EAI_OK) {
        assert_non_null(m);
        eai_model_destroy(m);
    } else {
        assert_null(m);
    }
    return st;
}

static void expect(const uint8_t *p, size_t n, const char *needle, const char *what, long at)
{
    eai_status_t st = load(p, n);
    if (st == EAI_OK) fail_msg("%s at %ld: loaded", what, at);
    if (!strstr(eai_last_error(), needle) || !strstr(eai_last_error(), "plan.eai"))
        fail_msg("%s at %ld: '%s' does not say '%s'", what, at, eai_last_error(), needle);
}

/* Recomputes every CRC, so a test edit reaches the graph decoder. */
static void fix_crcs(uint8_t *p, size_t n)
{
    uint32_t n_sec = eai__le32(p + 20);
    uint8_t *t = p + EAI__PLAN_HEADER_BYTES;
    for (uint32_t i = 0; i < n_sec; i++) {
        uint8_t *e = t + i * EAI__PLAN_SECTION_BYTES;
        uint64_t off = eai__le64(e + 8), size = eai__le64(e + 16);
        if (off <= n && size <= n - off) eai__put_le32(e + 24, eai__crc32c(0, p + off, size));
    }
    eai__put_le32(p + 40, eai__crc32c(0, t, n_sec * EAI__PLAN_SECTION_BYTES));
    eai__put_le32(p + 60, eai__crc32c(0, p, 60));
}

/* Offset and size of the section of `type`. */
static void find_section(const plan_t *pl, uint32_t type, size_t *off, size_t *size)
{
    uint32_t n_sec = eai__le32(pl->p + 20);
    for (uint32_t i = 0; i < n_sec; i++) {
        const uint8_t *e = pl->p + EAI__PLAN_HEADER_BYTES + i * EAI__PLAN_SECTION_BYTES;
        if (eai__le32(e) == type) {
            *off = (size_t)eai__le64(e + 8);
            *size = (size_t)eai__le64(e + 16);
            return;
        }
    }
    fail_msg("no section of type %u", type);
}

static void test_truncated(void **state)
{
    plan_t pl = make_plan(MODELS "mlp.onnx", false);
    assert_true(pl.n > 1000);
    assert_int_equal(load(pl.p, pl.n), EAI_OK);
    /* every length: a plan cut anywhere says "truncated"; under 4 bytes the
     * file is not recognisable as a plan and fails as ONNX */
    for (size_t k = 0; k < pl.n; k++) {
        if (k < 4)
            assert_int_not_equal(load(pl.p, k), EAI_OK);
        else
            expect(pl.p, k, "truncated", "truncated", (long)k);
    }
    /* and through a real file, where the loader maps what is there */
    char path[] = "/tmp/eai_plan_trunc_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    size_t cuts[] = {4, 40, 63, 64, 100, pl.n / 2, pl.n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(pl.p, 1, cuts[i], f), cuts[i]);
        fclose(f);
        eai_model_t *m = NULL;
        assert_int_equal(eai_model_load(path, NULL, &m), EAI_E_FORMAT);
        assert_null(m);
        if (!strstr(eai_last_error(), "truncated"))
            fail_msg("file cut at %zu: '%s'", cuts[i], eai_last_error());
    }
    unlink(path);
    /* appended bytes are reported too */
    uint8_t *big = malloc(pl.n + 3);
    memcpy(big, pl.p, pl.n);
    memset(big + pl.n, 0, 3);
    expect(big, pl.n + 3, "header says", "appended", 0);
    free(big);
    free(pl.p);
}

/* Flipping any single byte past the magic is caught, by the check that owns
 * that byte. */
static void test_every_byte_flipped(void **state)
{
    for (int fp16 = 0; fp16 < 2; fp16++) {
        plan_t pl = make_plan(fp16 ? MODELS "cnn_small.onnx" : MODELS "mlp.onnx", fp16);
        uint32_t n_sec = eai__le32(pl.p + 20);
        size_t table_end = EAI__PLAN_HEADER_BYTES + n_sec * EAI__PLAN_SECTION_BYTES;
        size_t stride = pl.n > 20000 ? 7 : 1; /* cnn_small: a sample of bytes */
        for (size_t i = EAI__PLAN_MAGIC_BYTES; i < pl.n; i += (i < table_end ? 1 : stride)) {
            char needle[64];
            if (i < 12) {
                snprintf(needle, sizeof needle, "format version");
            } else if (i < EAI__PLAN_HEADER_BYTES) {
                snprintf(needle, sizeof needle, "header CRC mismatch");
            } else if (i < table_end) {
                snprintf(needle, sizeof needle, "section table CRC mismatch");
            } else {
                snprintf(needle, sizeof needle, "nonzero byte");
                for (uint32_t s = 0; s < n_sec; s++) {
                    const uint8_t *e = pl.p + EAI__PLAN_HEADER_BYTES + s * EAI__PLAN_SECTION_BYTES;
                    uint64_t off = eai__le64(e + 8), size = eai__le64(e + 16);
                    char nb[16];
                    if (i >= off && i < off + size)
                        snprintf(needle, sizeof needle, "section '%s' CRC mismatch",
                                 eai__plan_section_name(eai__le32(e), nb, sizeof nb));
                }
            }
            uint8_t keep = pl.p[i];
            pl.p[i] ^= (uint8_t)(1u << (i % 8));
            expect(pl.p, pl.n, needle, "flip", (long)i);
            pl.p[i] = keep;
        }
        free(pl.p);
    }
}

static void test_version_magic_flags(void **state)
{
    plan_t pl = make_plan(MODELS "mlp.onnx", false);
    /* a newer format, header CRC valid: the version message, exactly */
    eai__put_le32(pl.p + 8, 3);
    fix_crcs(pl.p, pl.n);
    expect(pl.p, pl.n, "plan.eai: format version 3, this build reads 1", "version", 3);
    assert_int_equal(load(pl.p, pl.n), EAI_E_UNSUPPORTED);
    eai__put_le32(pl.p + 8, 1);
    /* unknown header flags */
    eai__put_le32(pl.p + 16, 0x80);
    fix_crcs(pl.p, pl.n);
    expect(pl.p, pl.n, "unknown header flags", "flags", 0);
    eai__put_le32(pl.p + 16, 0);
    fix_crcs(pl.p, pl.n);
    assert_int_equal(load(pl.p, pl.n), EAI_OK);
    /* an unknown section type: skipped when optional, refused when required */
    uint8_t *e = pl.p + EAI__PLAN_HEADER_BYTES; /* the meta section's entry */
    eai__put_le32(e, 77);
    eai__put_le32(e + 4, 0);
    fix_crcs(pl.p, pl.n);
    expect(pl.p, pl.n, "no 'meta' section", "meta renamed", 0);
    eai__put_le32(e + 4, EAI__PLAN_S_REQUIRED);
    fix_crcs(pl.p, pl.n);
    expect(pl.p, pl.n, "required section type 77", "unknown required", 0);
    eai__put_le32(e, EAI__PLAN_META);
    fix_crcs(pl.p, pl.n);
    assert_int_equal(load(pl.p, pl.n), EAI_OK);
    /* the magic: the reader itself says so (through the loader a file with a
     * wrong magic is not a plan and goes to the ONNX importer) */
    pl.p[1] ^= 0x20;
    eai_model_t m;
    memset(&m, 0, sizeof m);
    check(eai__graph_init(&m.g, NULL, "plan.eai"), "init");
    assert_int_equal(eai__plan_load_memory(&m, pl.p, pl.n), EAI_E_FORMAT);
    assert_non_null(strstr(eai_last_error(), "plan.eai: not an edgeai plan (bad magic)"));
    eai__graph_free(&m.g);
    assert_int_not_equal(load(pl.p, pl.n), EAI_OK);
    free(pl.p);
}

/* Saves a hand-made (unfinished) graph, so its defects reach the reader. */
static plan_t save_graph(eai__graph_t *g)
{
    eai_model_t *m = calloc(1, sizeof *m);
    assert_non_null(m);
    m->g = *g;
    m->g.names.alloc = &m->g.alloc;
    char path[] = "/tmp/eai_plan_graph_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    check(eai_model_save(m, path), "save");
    void *d;
    size_t n;
    check(eai__read_file(NULL, path, &d, &n), "read");
    unlink(path);
    plan_t p = {malloc(n), n};
    memcpy(p.p, d, n);
    eai__free_aligned(NULL, d);
    eai__graph_free(&m->g);
    free(m);
    return p;
}

/* in -> Relu -> a; Add(a, b) -> b' ...: two nodes feeding each other. */
static void small_graph(eai__graph_t *g, bool cycle)
{
    check(eai__graph_init(g, NULL, "hand"), "init");
    g->opset = 13;
    int in, a, b;
    check(eai__graph_value(g, "in", &in), "v");
    check(eai__graph_value(g, "a", &a), "v");
    check(eai__graph_value(g, "b", &b), "v");
    g->values[in].kind = EAI__V_INPUT;
    g->values[in].dtype = EAI_F32;
    g->values[in].shape = (eai__shape_t){.rank = 1, .d = {4}};
    check(eai__graph_add_node(g, "r", "Relu", "", (int[]){cycle ? b : in}, 1, &a, 1, NULL), "n");
    check(eai__graph_add_node(g, "s", "Relu", "", &a, 1, &b, 1, NULL), "n");
    g->inputs = calloc(1, sizeof(int));
    g->outputs = calloc(1, sizeof(int));
    g->inputs[0] = in;
    g->outputs[0] = b;
    g->n_inputs = g->n_outputs = 1;
}

static void test_hostile_graphs(void **state)
{
    eai__graph_t g;
    small_graph(&g, false);
    /* a constant nothing uses is left out of the plan (INT8 graphs keep
     * their float weights unused) */
    int junk;
    float *jd = eai__alloc_aligned(NULL, 4096 * sizeof(float));
    assert_non_null(jd);
    memset(jd, 0, 4096 * sizeof(float));
    check(eai__graph_add_const(&g, "junk", EAI_F32, &(eai__shape_t){.rank = 1, .d = {4096}}, jd,
                               &junk),
          "const");
    plan_t ok = save_graph(&g);
    assert_true(ok.n < 2048);
    eai_model_t *m;
    check(eai_model_load_memory(ok.p, ok.n, "plan.eai", NULL, &m), "load");
    assert_int_equal(m->g.n_values, 3);
    assert_int_equal(eai__strmap_get(&m->g.names, "junk"), -1);
    assert_int_equal(eai__strmap_get(&m->g.names, "b"), m->g.outputs[0]);
    eai_model_destroy(m);
    free(ok.p);

    small_graph(&g, true);
    plan_t cyc = save_graph(&g);
    expect(cyc.p, cyc.n, "cycle", "cycle", 0);
    free(cyc.p);

    small_graph(&g, false);
    g.nodes[1].in[0] = 1000;
    plan_t oob = save_graph(&g);
    expect(oob.p, oob.n, "value index out of range", "index", 1000);
    free(oob.p);

    small_graph(&g, false);
    g.outputs[0] = -5;
    plan_t out = save_graph(&g);
    expect(out.p, out.n, "graph input/output index out of range", "output", -5);
    free(out.p);

    /* counts that would overflow or ask for huge buffers */
    plan_t pl = make_plan(MODELS "mlp.onnx", false);
    size_t go, gn, so, sn;
    find_section(&pl, EAI__PLAN_GRAPH, &go, &gn);
    find_section(&pl, EAI__PLAN_STRINGS, &so, &sn);
    uint8_t *copy = malloc(pl.n);
    const struct {
        size_t at;
        uint32_t v;
        const char *needle;
    } edits[] = {
        {go + 0, 99, "opset"},
        {go + 4, 0xfffffff0u, "string id out of range"},
        {go + 8, 0x7fffffffu, "counts exceed the section"},
        {go + 12, 0xffffffffu, "counts exceed the section"},
        {go + 16, 0x40000000u, "counts exceed the section"},
        {so, 0xffffffffu, "section 'strings' is malformed"},
        {so + 4, 0xfffffff0u, "string 0 is malformed"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        memcpy(copy, pl.p, pl.n);
        eai__put_le32(copy + edits[i].at, edits[i].v);
        fix_crcs(copy, pl.n);
        expect(copy, pl.n, edits[i].needle, "edit", (long)i);
    }
    /* seeded mutations of the graph and strings sections with valid CRCs:
     * any status, never a crash (the sanitizers check the reads) */
    uint64_t seed = 42;
    int n_ok = 0;
    for (int it = 0; it < 3000; it++) {
        memcpy(copy, pl.p, pl.n);
        int flips = 1 + it % 4;
        for (int f = 0; f < flips; f++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            size_t at = (seed >> 33) % (gn + sn);
            at = at < gn ? go + at : so + (at - gn);
            copy[at] = (uint8_t)(seed >> 8);
        }
        fix_crcs(copy, pl.n);
        n_ok += load(copy, pl.n) == EAI_OK;
    }
    assert_true(n_ok < 3000); /* the mutations do reach the checks */
    free(copy);
    free(pl.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_every_byte_flipped),
        cmocka_unit_test(test_version_magic_flags),
        cmocka_unit_test(test_hostile_graphs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
