/* `edgeai bench MODEL`: warm-up, N timed invokes on seeded random inputs (or
 * given .npy files), min/p50/p99 latency, inferences/s, peak RSS and arena
 * bytes, plus the start-up split (load, session, first invoke) and the
 * CLOCK_MONOTONIC time of the first result, so a parent process can measure
 * spawn-to-first-result without counting teardown (bench/issue3.py). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define MAX_INPUTS 16

typedef struct bench_opts {
    const char *path, *backend;
    const char *in_name[MAX_INPUTS], *in_file[MAX_INPUTS];
    size_t in_name_len[MAX_INPUTS];
    int n_in;
    long threads, runs, warmup, batch;
    bool json, profile;
} bench_opts_t;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* CPU time of the whole process in ms: on a loaded machine, a 1-thread
 * run's CPU time per invoke is steadier than its wall time. */
static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* Nearest-rank percentile of sorted samples. */
static double percentile(const double *v, int n, double q)
{
    int k = (int)(q * n + 0.999999) - 1;
    if (k < 0) k = 0;
    if (k >= n) k = n - 1;
    return v[k];
}

/* CLOCK_MONOTONIC in integer nanoseconds: the clock Python's
 * time.monotonic_ns() and Node's process.hrtime.bigint() read on Linux, so
 * stamps compare across processes. */
static long long mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void fill_random(void *data, eai_dtype_t dt, int64_t n, uint64_t *seed)
{
    for (int64_t i = 0; i < n; i++) {
        *seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(*seed >> 11) / 9007199254740992.0; /* [0,1) */
        switch (dt) {
        case EAI_F32:
            ((float *)data)[i] = (float)(u * 2 - 1);
            break;
        case EAI_F16:
            ((uint16_t *)data)[i] = eai_f32_to_f16((float)(u * 2 - 1));
            break;
        case EAI_I64:
            ((int64_t *)data)[i] = 0;
            break;
        case EAI_I32:
            ((int32_t *)data)[i] = 0;
            break;
        case EAI_F64:
            ((double *)data)[i] = u * 2 - 1;
            break;
        case EAI_BOOL:
            ((uint8_t *)data)[i] = u < 0.5;
            break;
        case EAI_U8:
        case EAI_I8:
            ((uint8_t *)data)[i] = (uint8_t)(u * 255);
            break;
        default: /* other integer widths: zeros, a valid value of every type */
            memset((char *)data + (size_t)i * eai_dtype_size(dt), 0, eai_dtype_size(dt));
            break;
        }
    }
}

static void usage(void)
{
    printf("usage: edgeai bench MODEL [--threads N] [--runs N] [--warmup N] [--batch N]\n"
           "                    [-i [NAME=]FILE.npy ...] [--backend NAME] [--cold] [--json]\n"
           "                    [--profile]\n\n"
           "Times eai_session_invoke: latency min/p50/p99 in ms, process CPU time per\n"
           "invoke (p50), inferences/s, peak RSS of the process, planned arena bytes, and\n"
           "the start-up split (load, session, first invoke). Inputs are seeded random\n"
           "values (seed 1), or the .npy files given with -i (matched by NAME, else in\n"
           "order; same dtype and shape).\n"
           "--cold is --runs 1 --warmup 0: one result, then exit (cold-start timing;\n"
           "first_result_monotonic_ns in the JSON is CLOCK_MONOTONIC at that result).\n"
           "--profile times every kernel of the timed runs: a table by op type and backend\n"
           "(ms per inference, %% of the mean latency, kernels) and the 10 slowest nodes\n"
           "(with --json: \"profile\", \"profile_top\" and every kernel in order in\n"
           "\"profile_nodes\"). Latencies then include the timer calls.\n\n"
           "backends:");
    for (const char *const *b = eai_backend_names(); b && *b; b++)
        printf(" %s", *b);
    printf("\n");
}

/* Returns 0 to go on, -1 after --help, else the exit status of a usage error. */
static int parse_args(int argc, char **argv, bench_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->threads = 1;
    o->runs = 50;
    o->warmup = 5;
    o->batch = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            return -1;
        } else if (strcmp(a, "--threads") == 0) {
            if (!cli_parse_int("bench", a, val, 1, 256, &o->threads)) return 2;
            i++;
        } else if (strcmp(a, "--runs") == 0) {
            if (!cli_parse_int("bench", a, val, 1, 1000000, &o->runs)) return 2;
            i++;
        } else if (strcmp(a, "--warmup") == 0) {
            if (!cli_parse_int("bench", a, val, 0, 1000000, &o->warmup)) return 2;
            i++;
        } else if (strcmp(a, "--batch") == 0) {
            if (!cli_parse_int("bench", a, val, 1, 1 << 20, &o->batch)) return 2;
            i++;
        } else if (strcmp(a, "--cold") == 0) {
            o->runs = 1;
            o->warmup = 0;
        } else if (strcmp(a, "-i") == 0 || strcmp(a, "--input") == 0) {
            if (!val) return cli_fail_usage("bench", "%s needs [NAME=]FILE.npy", a);
            if (o->n_in == MAX_INPUTS)
                return cli_fail_usage("bench", "at most %d inputs", MAX_INPUTS);
            /* NAME=FILE keeps pointers into argv: no copy to free. */
            const char *eq = strchr(val, '=');
            o->in_name[o->n_in] = eq ? val : NULL;
            o->in_name_len[o->n_in] = eq ? (size_t)(eq - val) : 0;
            o->in_file[o->n_in] = eq ? eq + 1 : val;
            o->n_in++;
            i++;
        } else if (strcmp(a, "--backend") == 0) {
            if (!val) return cli_fail_usage("bench", "--backend needs a value");
            o->backend = val;
            i++;
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--profile") == 0) {
            o->profile = true;
        } else if (a[0] == '-') {
            return cli_fail_usage("bench", "unknown option '%s'", a);
        } else if (o->path) {
            return cli_fail_usage("bench", "one model at a time");
        } else {
            o->path = a;
        }
    }
    if (!o->path) return cli_fail_usage("bench", "usage: edgeai bench MODEL [options]");
    return 0;
}

/* Index of the session input that -i number k names, or -1 (message set). */
static int input_index(eai_session_t *s, const bench_opts_t *o, int k, int *next)
{
    int idx;
    if (o->in_name[k]) {
        char name[256];
        size_t n = o->in_name_len[k] < sizeof name - 1 ? o->in_name_len[k] : sizeof name - 1;
        memcpy(name, o->in_name[k], n);
        name[n] = '\0';
        idx = eai_session_input_index(s, name);
        if (idx < 0)
            eai_fail(EAI_E_INVALID, "%s: the model has no input named '%s'", o->in_file[k], name);
        return idx;
    }
    idx = (*next)++;
    if (idx >= eai_session_n_inputs(s)) {
        eai_fail(EAI_E_INVALID, "%s: the model has only %d input(s)", o->in_file[k],
                 eai_session_n_inputs(s));
        return -1;
    }
    return idx;
}

/* Sets every input: the -i files where given, seeded random values for the
 * rest. `bufs` (n_inputs entries) receives the buffers to free. */
static eai_status_t set_inputs(eai_session_t *s, const bench_opts_t *o, void **bufs)
{
    int n_in = eai_session_n_inputs(s), next = 0;
    bool *given = calloc((size_t)n_in + 1, sizeof *given);
    if (!given) return eai_fail(EAI_E_NOMEM, "out of memory");
    eai_status_t st = EAI_OK;
    for (int k = 0; k < o->n_in && st == EAI_OK; k++) {
        int idx = input_index(s, o, k, &next);
        if (idx < 0) {
            st = EAI_E_INVALID;
            break;
        }
        eai_npy_t a;
        if ((st = eai_npy_read(o->in_file[k], &a)) != EAI_OK) break;
        eai_tensor_info_t t;
        eai_session_input_info(s, idx, &t);
        if ((st = cli_npy_fits(o->in_file[k], &a, &t, NULL)) == EAI_OK) {
            st = eai_session_set_input(s, idx, a.data, a.n_bytes);
            given[idx] = true;
        }
        eai_npy_free(&a);
    }
    uint64_t seed = 1;
    for (int i = 0; i < n_in && st == EAI_OK; i++) {
        if (given[i]) continue;
        eai_tensor_info_t t;
        eai_session_input_info(s, i, &t);
        int64_t n = eai_tensor_info_numel(&t);
        size_t bytes = (size_t)n * eai_dtype_size(t.dtype);
        bufs[i] = malloc(bytes ? bytes : 1);
        if (!bufs[i]) {
            st = eai_fail(EAI_E_NOMEM, "out of memory");
            break;
        }
        fill_random(bufs[i], t.dtype, n, &seed);
        st = eai_session_set_input(s, i, bufs[i], bytes);
    }
    free(given);
    return st;
}

/* JSON string body: the model path may hold quotes or backslashes. */
static void print_json_str(const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 32)
            printf("\\u%04x", (unsigned char)*s);
        else
            putchar(*s);
    }
}

/* "QLinearConv", or "QLinearConv/nhwc" for a layout twin: the same op on
 * NHWC data is worth its own row. */
static void op_label(const eai_kernel_profile_t *p, char *buf, size_t n)
{
    const char *dom = p->domain;
    if (strcmp(dom, "com.edgeai.nhwc") == 0)
        snprintf(buf, n, "%s/nhwc", p->op);
    else
        snprintf(buf, n, "%s", p->op);
}

typedef struct prof_row {
    char op[64];
    const char *backend, *name;
    double ms;
    int count;
} prof_row_t;

static int cmp_row_ms(const void *a, const void *b)
{
    const double x = ((const prof_row_t *)a)->ms, y = ((const prof_row_t *)b)->ms;
    return x > y ? -1 : x < y;
}

/* `, "key": [{"name", "op", "backend", "ms"}, ...]` for rows[0..n). */
static void print_json_nodes(const char *key, const prof_row_t *rows, int n)
{
    printf("], \"%s\": [", key);
    for (int k = 0; k < n; k++) {
        printf("%s{\"name\": \"", k ? ", " : "");
        print_json_str(rows[k].name);
        printf("\", \"op\": \"%s\", \"backend\": \"%s\", \"ms\": %.4f}", rows[k].op,
               rows[k].backend, rows[k].ms);
    }
}

/* The --profile tables: per (op type, backend) and the 10 slowest nodes, in
 * ms per inference and % of the mean latency `mean_ms`. */
static eai_status_t print_profile(const eai_session_t *s, double mean_ms, bool json)
{
    const int nk = eai_session_n_kernels(s);
    const double runs = (double)eai_session_profile_runs(s);
    prof_row_t *node = calloc((size_t)nk + 1, sizeof *node);
    prof_row_t *type = calloc((size_t)nk + 1, sizeof *type);
    prof_row_t *order = calloc((size_t)nk + 1, sizeof *order);
    if (!node || !type || !order) {
        free(node);
        free(type);
        free(order);
        return eai_fail(EAI_E_NOMEM, "out of memory");
    }
    int nt = 0;
    double total = 0;
    for (int k = 0; k < nk; k++) {
        eai_kernel_profile_t p;
        eai_status_t st = eai_session_profile(s, k, &p);
        if (st != EAI_OK) {
            free(node);
            free(type);
            free(order);
            return st;
        }
        prof_row_t *r = &node[k];
        op_label(&p, r->op, sizeof r->op);
        r->backend = p.backend;
        r->name = p.name;
        r->ms = runs > 0 ? p.ms / runs : 0;
        r->count = 1;
        total += r->ms;
        int t = 0;
        while (t < nt && !(strcmp(type[t].op, r->op) == 0 && type[t].backend == r->backend))
            t++;
        if (t == nt) {
            type[nt] = *r;
            type[nt++].ms = 0;
            type[t].count = 0;
        }
        type[t].ms += r->ms;
        type[t].count++;
    }
    if (json) memcpy(order, node, (size_t)nk * sizeof *node);
    qsort(type, (size_t)nt, sizeof *type, cmp_row_ms);
    qsort(node, (size_t)nk, sizeof *node, cmp_row_ms);
    const double pct = mean_ms > 0 ? 100.0 / mean_ms : 0;
    const int top = nk < 10 ? nk : 10;
    if (json) {
        printf(", \"profile_runs\": %.0f, \"profile_kernel_ms\": %.4f, \"profile\": [", runs,
               total);
        for (int t = 0; t < nt; t++)
            printf("%s{\"op\": \"%s\", \"backend\": \"%s\", \"ms\": %.4f, \"count\": %d}",
                   t ? ", " : "", type[t].op, type[t].backend, type[t].ms, type[t].count);
        /* every kernel in execution order, for side-by-side comparisons */
        print_json_nodes("profile_nodes", order, nk);
        print_json_nodes("profile_top", node, top);
        printf("]}\n");
    } else {
        printf("\nprofile      %.0f runs; kernels %.3f ms of the mean %.3f ms per inference\n",
               runs, total, mean_ms);
        printf("%-32s %-8s %9s %6s %6s\n", "op", "backend", "ms", "%", "count");
        for (int t = 0; t < nt; t++)
            printf("%-32s %-8s %9.3f %6.1f %6d\n", type[t].op, type[t].backend, type[t].ms,
                   type[t].ms * pct, type[t].count);
        printf("\nslowest nodes\n%-32s %-8s %9s %6s  %s\n", "op", "backend", "ms", "%", "name");
        for (int k = 0; k < top; k++)
            printf("%-32s %-8s %9.3f %6.1f  %s\n", node[k].op, node[k].backend, node[k].ms,
                   node[k].ms * pct, node[k].name);
    }
    free(node);
    free(type);
    free(order);
    return EAI_OK;
}

int cmd_bench(int argc, char **argv)
{
    bench_opts_t o;
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    double t0 = cli_now();
    eai_model_t *m = NULL;
    eai_session_t *s = NULL;
    eai_threadpool_t *pool = NULL;
    double *lat = NULL, *cpu = NULL;
    void **inputs = NULL;
    rc = 1;
    if (eai_model_load(o.path, NULL, &m) != EAI_OK) goto fail;
    double t_load = cli_now();
    if (o.threads > 1 && eai_threadpool_create((int)o.threads, &pool) != EAI_OK) goto fail;
    eai_session_opts_t so = {
        .backend = o.backend, .pool = pool, .batch = o.batch, .profile = o.profile};
    if (eai_session_create(m, &so, &s) != EAI_OK) goto fail;
    double t_session = cli_now();
    int n_in = eai_session_n_inputs(s);
    inputs = calloc((size_t)n_in + 1, sizeof *inputs);
    lat = calloc((size_t)o.runs, sizeof *lat);
    cpu = calloc((size_t)o.runs, sizeof *cpu);
    if (!inputs || !lat || !cpu) {
        eai_fail(EAI_E_NOMEM, "out of memory");
        goto fail;
    }
    if (set_inputs(s, &o, inputs) != EAI_OK) goto fail;
    double first = 0, first_invoke = 0;
    long long first_ns = 0;
    for (long r = 0; r < o.warmup + o.runs; r++) {
        const double ca = cpu_ms();
        double a = cli_now();
        if (eai_session_invoke(s) != EAI_OK) goto fail;
        double b = cli_now();
        if (r >= o.warmup) cpu[r - o.warmup] = cpu_ms() - ca;
        if (r == 0) {
            first_ns = mono_ns();
            first = b - t0;
            first_invoke = b - a;
        }
        if (r >= o.warmup) lat[r - o.warmup] = (b - a) * 1e3;
        if (r + 1 == o.warmup) eai_session_profile_reset(s); /* profile the timed runs */
    }
    qsort(lat, (size_t)o.runs, sizeof *lat, cmp_double);
    qsort(cpu, (size_t)o.runs, sizeof *cpu, cmp_double);
    double sum = 0;
    for (long r = 0; r < o.runs; r++)
        sum += lat[r];
    int n = (int)o.runs;
    double p50 = percentile(lat, n, 0.5), p99 = percentile(lat, n, 0.99);
    const double cpu50 = percentile(cpu, n, 0.5);
    double mean = sum / (double)o.runs, ips = 1e3 * (double)o.batch / mean;
    int64_t rss = cli_peak_rss();
    if (o.json) {
        printf("{\"model\": \"");
        print_json_str(o.path);
        printf("\", \"backend\": \"%s\", \"threads\": %ld, \"batch\": %ld, \"runs\": %ld, "
               "\"warmup\": %ld, \"input\": \"%s\", \"min_ms\": %.4f, \"p50_ms\": %.4f, "
               "\"p99_ms\": %.4f, \"cpu_p50_ms\": %.4f, \"mean_ms\": %.4f, \"ips\": %.2f, "
               "\"load_ms\": %.3f, "
               "\"session_ms\": %.3f, \"first_invoke_ms\": %.3f, \"first_result_ms\": %.3f, "
               "\"first_result_monotonic_ns\": %lld, \"peak_rss_bytes\": %lld, "
               "\"arena_bytes\": %zu, \"version\": \"%s\"",
               eai_session_backend(s), o.threads, o.batch, o.runs, o.warmup,
               o.n_in ? "npy" : "random", lat[0], p50, p99, cpu50, mean, ips, (t_load - t0) * 1e3,
               (t_session - t_load) * 1e3, first_invoke * 1e3, first * 1e3, first_ns,
               (long long)rss, eai_session_arena_bytes(s), EAI_VERSION_STRING);
        /* --profile appends its array before the closing brace */
        if (!o.profile) printf("}\n");
    } else {
        printf("model        %s (backend %s, %ld thread%s, batch %ld)\n", o.path,
               eai_session_backend(s), o.threads, o.threads > 1 ? "s" : "", o.batch);
        printf("latency ms   min %.3f  p50 %.3f  p99 %.3f  (%ld runs after %ld warm-up)\n", lat[0],
               p50, p99, o.runs, o.warmup);
        printf("cpu time ms  p50 %.3f  (all the process's threads, spinning ones included)\n",
               cpu50);
        printf("throughput   %.1f inferences/s\n", ips);
        printf("first result %.1f ms after start (load %.1f + session %.1f + first invoke %.1f)\n",
               first * 1e3, (t_load - t0) * 1e3, (t_session - t_load) * 1e3, first_invoke * 1e3);
        printf("peak RSS     %.1f MiB\n", (double)rss / (1 << 20));
        printf("arena        %.2f MiB\n", (double)eai_session_arena_bytes(s) / (1 << 20));
    }
    if (o.profile && print_profile(s, mean, o.json) != EAI_OK) goto fail;
    rc = 0;
fail:
    if (rc) cli_fail_status("bench");
    if (inputs)
        for (int i = 0; s && i < eai_session_n_inputs(s); i++)
            free(inputs[i]);
    free(inputs);
    free(lat);
    free(cpu);
    eai_session_destroy(s);
    eai_threadpool_destroy(pool);
    eai_model_destroy(m);
    return rc;
}
