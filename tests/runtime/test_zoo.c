/* Whole models against PyTorch: every model in a manifest written by
 * scripts/make_test_models.py is loaded, run once on the ref backend (2
 * threads) and compared with PyTorch's own output for the same input:
 * max abs error <= 1e-4 * max |expected|. All expected values come from the
 * fixture files. Every model is run; the test fails listing each failing one.
 *
 *   models/manifest.txt        the small committed fixtures (mlp, cnn_small...)
 *   $EAI_ZOO_DIR/manifest.txt  the generated torchvision zoo (default
 *                              <build>/zoo, made by `make models`)
 * EAI_ZOO_ONLY=name1,name2 runs only those models, EAI_ZOO_THREADS=n sets the
 * pool size (default 2; 1: no pool), both for debugging. EAI_ZOO_BACKEND=name
 * runs the models on another backend (e.g. xnnpack) with the same tolerance.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "edgeai/edgeai.h"

#define TOL_REL    1e-4
#define MAX_IO     8
#define PATH_BYTES 4096
#define FAIL_BYTES 16384

typedef struct zoo {
    eai_threadpool_t *pool;
} zoo_t;

/* The failures of one manifest, one line each. */
typedef struct report {
    char text[FAIL_BYTES];
    size_t len;
    int n_run, n_fail;
} report_t;

static void report_add(report_t *r, const char *fmt, ...) EAI_PRINTF(2, 3);
static void report_add(report_t *r, const char *fmt, ...)
{
    if (r->len + 1 >= sizeof r->text) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->text + r->len, sizeof r->text - r->len, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    size_t room = sizeof r->text - r->len - 1;
    r->len += (size_t)n < room ? (size_t)n : room; /* truncated, still terminated */
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* `<dir>/<name>.<kind>.npy` for i = 0, `<dir>/<name>.<kind><i>.npy` after. */
static void npy_path(char *buf, const char *dir, const char *name, const char *kind, int i)
{
    if (i == 0)
        snprintf(buf, PATH_BYTES, "%s/%s.%s.npy", dir, name, kind);
    else
        snprintf(buf, PATH_BYTES, "%s/%s.%s%d.npy", dir, name, kind, i);
}

static int selected(const char *name)
{
    const char *only = getenv("EAI_ZOO_ONLY");
    if (!only || !only[0]) return 1;
    size_t n = strlen(name);
    for (const char *p = only; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0) return 1;
        p += len + (end != NULL);
    }
    return 0;
}

static int same_dims(const eai_tensor_info_t *t, const eai_npy_t *a)
{
    if (t->rank != a->rank) return 0;
    for (int d = 0; d < t->rank; d++)
        if (t->dims[d] != a->dims[d]) return 0;
    return 1;
}

static void dims_str(char *buf, size_t n, int rank, const int64_t *dims)
{
    size_t len = 0;
    buf[0] = 0;
    for (int d = 0; d < rank && len + 1 < n; d++) {
        int w = snprintf(buf + len, n - len, d ? "x%lld" : "%lld", (long long)dims[d]);
        if (w < 0) break;
        len += (size_t)w;
    }
    if (rank == 0) snprintf(buf, n, "scalar");
}

/* Max abs error of `got` against `ref` (NaN counts as infinite) and max |ref|. */
static void compare(const float *got, const float *ref, int64_t n, double *max_err, double *max_ref)
{
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - (double)ref[i]);
        if (!(e <= *max_err)) *max_err = isnan(e) ? INFINITY : e;
        if (fabs((double)ref[i]) > *max_ref) *max_ref = fabs((double)ref[i]);
    }
}

/* Runs one manifest entry. Returns NULL when it matches PyTorch, else a reason
 * (static or in `why`). Prints the result line. */
static const char *run_model(const zoo_t *z, const char *dir, const char *name,
                             const char *onnx_file, char *why, size_t why_n)
{
    char path[PATH_BYTES];
    eai_npy_t in[MAX_IO] = {{0}}, ref = {0};
    eai_model_t *m = NULL;
    eai_session_t *s = NULL;
    const char *res = NULL;
    int n_in = 0;
    double max_err = 0, max_ref = 0, t_prep = 0, t_run = 0;
    eai_status_t st;

#define STEP_FAIL(...)                                                                             \
    do {                                                                                           \
        snprintf(why, why_n, __VA_ARGS__);                                                         \
        res = why;                                                                                 \
        goto done;                                                                                 \
    } while (0)
#define STEP(call, what)                                                                           \
    do {                                                                                           \
        if ((st = (call)) != EAI_OK)                                                               \
            STEP_FAIL("%s: %s: %s", what, eai_status_str(st), eai_last_error());                   \
    } while (0)

    double t0 = now_ms();
    snprintf(path, sizeof path, "%s/%s", dir, onnx_file);
    STEP(eai_model_load(path, NULL, &m), "load");
    n_in = eai_model_n_inputs(m);
    if (n_in < 1 || n_in > MAX_IO) STEP_FAIL("model has %d inputs", n_in);
    for (int i = 0; i < n_in; i++) {
        npy_path(path, dir, name, "input", i);
        STEP(eai_npy_read(path, &in[i]), "read input");
    }
    /* A symbolic batch dim (mlp's 'N') takes the input file's batch. */
    eai_tensor_info_t mi;
    STEP(eai_model_input_info(m, 0, &mi), "input info");
    const char *backend = getenv("EAI_ZOO_BACKEND");
    eai_session_opts_t o = {.backend = backend && *backend ? backend : "ref", .pool = z->pool};
    if (mi.rank > 0 && mi.dims[0] < 0 && in[0].rank > 0) o.batch = in[0].dims[0];
    STEP(eai_session_create(m, &o, &s), "session");
    for (int i = 0; i < n_in; i++) {
        eai_tensor_info_t t;
        STEP(eai_session_input_info(s, i, &t), "input info");
        if (t.dtype != in[i].dtype || !same_dims(&t, &in[i])) {
            char a[128], b[128];
            dims_str(a, sizeof a, t.rank, t.dims);
            dims_str(b, sizeof b, in[i].rank, in[i].dims);
            STEP_FAIL("input %d is %s %s, file has %s %s", i, eai_dtype_name(t.dtype), a,
                      eai_dtype_name(in[i].dtype), b);
        }
        STEP(eai_session_set_input(s, i, in[i].data, in[i].n_bytes), "set input");
    }
    double t1 = now_ms();
    t_prep = t1 - t0;
    STEP(eai_session_invoke(s), "invoke");
    t_run = now_ms() - t1;

    int n_out = eai_session_n_outputs(s);
    for (int i = 0; i < n_out; i++) {
        const void *got;
        eai_tensor_info_t t;
        npy_path(path, dir, name, "output", i);
        eai_npy_free(&ref);
        STEP(eai_npy_read(path, &ref), "read expected output");
        STEP(eai_session_get_output(s, i, &got, &t), "get output");
        if (t.dtype != EAI_F32 || ref.dtype != EAI_F32 || !same_dims(&t, &ref)) {
            char a[128], b[128];
            dims_str(a, sizeof a, t.rank, t.dims);
            dims_str(b, sizeof b, ref.rank, ref.dims);
            STEP_FAIL("output %d is %s %s, PyTorch's is %s %s", i, eai_dtype_name(t.dtype), a,
                      eai_dtype_name(ref.dtype), b);
        }
        compare(got, ref.data, eai_tensor_info_numel(&t), &max_err, &max_ref);
    }
    /* One more expected file than outputs means the graph lost an output. */
    npy_path(path, dir, name, "output", n_out);
    FILE *extra = fopen(path, "rb");
    if (extra) {
        fclose(extra);
        STEP_FAIL("session has %d outputs but %s.output%d.npy exists", n_out, name, n_out);
    }
    if (!(max_ref > 0)) STEP_FAIL("expected output is all zeros: fixture is useless");
    if (!(max_err <= TOL_REL * max_ref))
        STEP_FAIL("max abs err %.3g > tol %.3g (max|y| %.3g)", max_err, TOL_REL * max_ref, max_ref);

done:
    if (res)
        printf("%-22s FAIL  %s\n", name, res);
    else
        printf("%-22s ok    max err %9.3g  tol %9.3g  invoke %9.1f ms  (load+create %.0f ms)\n",
               name, max_err, TOL_REL * max_ref, t_run, t_prep);
    fflush(stdout);
    eai_session_destroy(s);
    eai_model_destroy(m);
    for (int i = 0; i < MAX_IO; i++)
        eai_npy_free(&in[i]);
    eai_npy_free(&ref);
    return res;
#undef STEP
#undef STEP_FAIL
}

/* Runs every entry of `<dir>/manifest.txt`. Returns 0 if there is no manifest. */
static int run_manifest(const zoo_t *z, const char *dir, report_t *r)
{
    char path[PATH_BYTES], line[4096], why[1024];
    snprintf(path, sizeof path, "%s/manifest.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    printf("models from %s\n", path);
    int n_not_exported = 0;
    double t0 = now_ms();
    while (fgets(line, sizeof line, f)) {
        char name[256], onnx_file[512];
        if (line[0] == '#') {
            /* "# skip NAME: why" / "# fail NAME: why": not exported, said once. */
            if (strncmp(line, "# skip ", 7) == 0 || strncmp(line, "# fail ", 7) == 0) {
                n_not_exported++;
                printf("  (not exported) %s", line + 2);
            }
            continue;
        }
        if (sscanf(line, "%255s %511s", name, onnx_file) != 2) continue;
        if (!selected(name)) continue;
        r->n_run++;
        const char *res = run_model(z, dir, name, onnx_file, why, sizeof why);
        if (res) {
            r->n_fail++;
            report_add(r, "  %s: %s\n", name, res);
        }
    }
    fclose(f);
    printf("%d models run, %d failed, %d not exported, %.1f s\n", r->n_run, r->n_fail,
           n_not_exported, (now_ms() - t0) / 1e3);
    return 1;
}

static void check_report(const report_t *r, const char *dir)
{
    if (r->n_fail)
        fail_msg("%d of %d models in %s differ from PyTorch or fail to run:\n%s", r->n_fail,
                 r->n_run, dir, r->text);
}

/* Reports are static: fail_msg() longjmps out of the test, so nothing may be
 * left to free after it. */
static report_t fixtures_report, zoo_report;

static void test_fixtures(void **state)
{
    const char *dir = EAI_SOURCE_DIR "/models";
    report_t *r = &fixtures_report;
    if (!run_manifest(*state, dir, r))
        fail_msg("%s/manifest.txt is missing (committed fixtures; regenerate with "
                 "/usr/bin/python3 scripts/make_test_models.py --fixtures)",
                 dir);
    /* Unless filtered: at least mlp, mlp_b4, cnn_small. */
    if (!getenv("EAI_ZOO_ONLY")) assert_true(r->n_run >= 3);
    check_report(r, dir);
}

static void test_zoo(void **state)
{
    const char *env = getenv("EAI_ZOO_DIR");
    const char *dir = env && env[0] ? env : EAI_BINARY_DIR "/zoo";
    report_t *r = &zoo_report;
    if (!run_manifest(*state, dir, r))
        fail_msg("%s/manifest.txt is missing: run `make models` (or /usr/bin/python3 "
                 "scripts/make_test_models.py --out %s) to generate the zoo",
                 dir, dir);
    if (!getenv("EAI_ZOO_ONLY") && r->n_run == 0) fail_msg("%s/manifest.txt lists no models", dir);
    check_report(r, dir);
}

static int setup(void **state)
{
    static zoo_t z;
    const char *env = getenv("EAI_ZOO_THREADS");
    int n = env && env[0] ? atoi(env) : 2;
    if (n <= 1) { /* the caller's thread only: no pool */
        *state = &z;
        return 0;
    }
    eai_status_t st = eai_threadpool_create(n, &z.pool);
    if (st != EAI_OK) {
        fprintf(stderr, "threadpool: %s: %s\n", eai_status_str(st), eai_last_error());
        return -1;
    }
    *state = &z;
    return 0;
}

static int teardown(void **state)
{
    zoo_t *z = *state;
    eai_threadpool_destroy(z->pool);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures),
        cmocka_unit_test(test_zoo),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
