/* ONNX's own single-operator conformance cases (Debian libonnx-testdata,
 * /usr/share/libonnx-testdata/data/node/<case>/model.onnx + test_data_set_N).
 *
 * A case whose model edgeai rejects with EAI_E_UNSUPPORTED (an op, dtype or
 * attribute we do not run) is counted as unsupported, never as passed. A case
 * that loads must produce the reference outputs (rtol 1e-3, atol 1e-5, the
 * tolerances of ONNX's backend test runner): a wrong answer fails the test.
 * The per-op table goes to stdout and to <build>/onnx_conformance.txt. */
#include <dirent.h>
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

#define DATA_DIR "/usr/share/libonnx-testdata/data/node"

typedef struct op_row {
    char op[64];
    int pass, fail, unsupported;
} op_row_t;

static op_row_t rows[512];
static int n_rows;

static op_row_t *row_for(const char *op)
{
    for (int i = 0; i < n_rows; i++)
        if (strcmp(rows[i].op, op) == 0)
            return &rows[i];
    if (n_rows == 512)
        return &rows[511];
    snprintf(rows[n_rows].op, sizeof rows[n_rows].op, "%s", op);
    return &rows[n_rows++];
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static eai_status_t load_pb(const char *path, eai_dtype_t *dt, eai__shape_t *shape, void **data)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return eai_fail(EAI_E_IO, "%s: cannot open", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    eai_status_t st = got == (size_t)n
                          ? eai__onnx_tensor_decode(NULL, buf, (size_t)n, path, dt, shape, data)
                          : eai_fail(EAI_E_IO, "%s: short read", path);
    free(buf);
    return st;
}

static bool close_enough(eai_dtype_t dt, const void *got, const void *want, int64_t n,
                         char *why, size_t why_n)
{
    for (int64_t i = 0; i < n; i++) {
        double g, w;
        switch (dt) {
        case EAI_F32: g = ((const float *)got)[i]; w = ((const float *)want)[i]; break;
        case EAI_F64: g = ((const double *)got)[i]; w = ((const double *)want)[i]; break;
        case EAI_F16:
            g = eai_f16_to_f32(((const uint16_t *)got)[i]);
            w = eai_f16_to_f32(((const uint16_t *)want)[i]);
            break;
        case EAI_I64: g = (double)((const int64_t *)got)[i]; w = (double)((const int64_t *)want)[i]; break;
        case EAI_I32: g = ((const int32_t *)got)[i]; w = ((const int32_t *)want)[i]; break;
        case EAI_I16: g = ((const int16_t *)got)[i]; w = ((const int16_t *)want)[i]; break;
        case EAI_I8: g = ((const int8_t *)got)[i]; w = ((const int8_t *)want)[i]; break;
        default: g = ((const uint8_t *)got)[i]; w = ((const uint8_t *)want)[i]; break;
        }
        if (isnan(w) && isnan(g))
            continue;
        if (isinf(w) && g == w)
            continue;
        if (!(fabs(g - w) <= 1e-5 + 1e-3 * fabs(w))) {
            snprintf(why, why_n, "element %lld: got %.7g, want %.7g", (long long)i, g, w);
            return false;
        }
    }
    return true;
}

/* Runs every test_data_set of one case. Returns 1 pass, 0 fail, -1 unsupported. */
static int run_case(const char *dir, char *why, size_t why_n, char *op, size_t op_n)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    eai_model_t *m;
    eai_status_t st = eai_model_load(path, NULL, &m);
    snprintf(op, op_n, "(rejected early)");
    {
        /* name the case by its op: the first node of the raw graph */
        eai__graph_t g;
        eai__graph_init(&g, NULL, "x");
        FILE *f = fopen(path, "rb");
        if (f) {
            fseek(f, 0, SEEK_END);
            long n = ftell(f);
            fseek(f, 0, SEEK_SET);
            void *buf = malloc((size_t)n + 1);
            if (fread(buf, 1, (size_t)n, f) == (size_t)n &&
                eai__onnx_import(&g, buf, (size_t)n) == EAI_OK && g.n_nodes > 0)
                snprintf(op, op_n, "%s", g.n_nodes == 1 ? g.nodes[0].op : "(expanded)");
            else if (g.n_nodes > 0)
                snprintf(op, op_n, "%s", g.nodes[0].op);
            free(buf);
            fclose(f);
        }
        eai__graph_free(&g);
    }
    if (st != EAI_OK) {
        snprintf(why, why_n, "%s", eai_last_error());
        return st == EAI_E_UNSUPPORTED ? -1 : 0;
    }
    int result = 1;
    for (int set = 0; result == 1; set++) {
        char sdir[1200];
        snprintf(sdir, sizeof sdir, "%s/test_data_set_%d", dir, set);
        DIR *d = opendir(sdir);
        if (!d)
            break;
        closedir(d);
        eai_session_t *s;
        /* inputs may carry a batch different from 1 in symbolic dims: bind from data */
        eai_dtype_t dt;
        eai__shape_t shape;
        void *data;
        int64_t batch = 1;
        snprintf(path, sizeof path, "%s/input_0.pb", sdir);
        if (eai_model_n_inputs(m) > 0 && load_pb(path, &dt, &shape, &data) == EAI_OK) {
            eai_tensor_info_t ti;
            eai_model_input_info(m, 0, &ti);
            for (int k = 0; k < ti.rank && k < shape.rank; k++)
                if (ti.dims[k] < 0)
                    batch = shape.d[k];
            eai__free_aligned(NULL, data);
        }
        eai_session_opts_t o = {.batch = batch};
        st = eai_session_create(m, &o, &s);
        if (st != EAI_OK) {
            snprintf(why, why_n, "%s", eai_last_error());
            result = st == EAI_E_UNSUPPORTED ? -1 : 0;
            break;
        }
        for (int i = 0; i < eai_session_n_inputs(s) && st == EAI_OK; i++) {
            snprintf(path, sizeof path, "%s/input_%d.pb", sdir, i);
            st = load_pb(path, &dt, &shape, &data);
            if (st == EAI_OK) {
                size_t bytes = (size_t)eai__shape_numel(&shape) * eai_dtype_size(dt);
                st = eai_session_set_input(s, i, data, bytes);
                eai__free_aligned(NULL, data);
            }
        }
        if (st == EAI_OK)
            st = eai_session_invoke(s);
        if (st != EAI_OK) {
            snprintf(why, why_n, "%s", eai_last_error());
            result = 0;
        }
        for (int i = 0; result == 1 && i < eai_session_n_outputs(s); i++) {
            snprintf(path, sizeof path, "%s/output_%d.pb", sdir, i);
            if (load_pb(path, &dt, &shape, &data) != EAI_OK) {
                snprintf(why, why_n, "%s", eai_last_error());
                result = 0;
                break;
            }
            const void *got;
            eai_tensor_info_t info;
            eai_session_get_output(s, i, &got, &info);
            bool same = info.dtype == dt && info.rank == shape.rank;
            for (int k = 0; same && k < shape.rank; k++)
                same = info.dims[k] == shape.d[k];
            if (!same) {
                snprintf(why, why_n, "output %d: dtype/shape %s rank %d differs from %s rank %d",
                         i, eai_dtype_name(info.dtype), info.rank, eai_dtype_name(dt),
                         shape.rank);
                result = 0;
            } else if (!close_enough(dt, got, data, eai__shape_numel(&shape), why, why_n)) {
                result = 0;
            }
            eai__free_aligned(NULL, data);
        }
        eai_session_destroy(s);
    }
    eai_model_destroy(m);
    return result;
}

static void test_conformance(void **state)
{
    DIR *d = opendir(DATA_DIR);
    if (!d)
        fail_msg("%s missing: install libonnx-testdata (scripts/install-deps.sh)", DATA_DIR);
    char **names = NULL;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, "test_", 5) == 0) {
            names = realloc(names, (size_t)(n + 1) * sizeof *names);
            names[n++] = strdup(e->d_name);
        }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, by_name);
    int total_fail = 0, total_pass = 0, total_unsup = 0;
    const char *only = getenv("EAI_CONFORMANCE_ONLY"); /* substring filter for debugging */
    bool verbose = getenv("EAI_CONFORMANCE_VERBOSE") != NULL;
    for (int i = 0; i < n; i++) {
        if (only && !strstr(names[i], only))
            continue;
        char dir[1024], why[1024] = "", op[64];
        snprintf(dir, sizeof dir, "%s/%s", DATA_DIR, names[i]);
        int r = run_case(dir, why, sizeof why, op, sizeof op);
        op_row_t *row = row_for(op);
        if (r > 0) {
            row->pass++;
            total_pass++;
        } else if (r < 0) {
            row->unsupported++;
            total_unsup++;
            if (verbose)
                printf("unsupported %s: %s\n", names[i], why);
        } else {
            row->fail++;
            total_fail++;
            printf("FAIL %s: %s\n", names[i], why);
        }
    }
    FILE *rep = fopen(EAI_BINARY_DIR "/onnx_conformance.txt", "w");
    printf("\n%-28s %6s %6s %12s\n", "op", "pass", "fail", "unsupported");
    if (rep)
        fprintf(rep, "%-28s %6s %6s %12s\n", "op", "pass", "fail", "unsupported");
    for (int i = 0; i < n_rows; i++) {
        if (rows[i].pass + rows[i].fail == 0)
            continue; /* ops we do not implement at all: omitted from the table */
        printf("%-28s %6d %6d %12d\n", rows[i].op, rows[i].pass, rows[i].fail,
               rows[i].unsupported);
        if (rep)
            fprintf(rep, "%-28s %6d %6d %12d\n", rows[i].op, rows[i].pass, rows[i].fail,
                    rows[i].unsupported);
    }
    printf("cases: %d passed, %d failed, %d unsupported (of %d)\n", total_pass, total_fail,
           total_unsup, n);
    if (rep) {
        fprintf(rep, "cases: %d passed, %d failed, %d unsupported (of %d)\n", total_pass,
                total_fail, total_unsup, n);
        fclose(rep);
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    assert_int_equal(total_fail, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_conformance)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
