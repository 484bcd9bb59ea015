/* `edgeai bench MODEL`: warm-up, N timed invokes on seeded random inputs,
 * min/p50/p99 latency, inferences/s, peak RSS and arena bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples. */
static double percentile(const double *v, int n, double q)
{
    int k = (int)(q * n + 0.999999) - 1;
    if (k < 0) k = 0;
    if (k >= n) k = n - 1;
    return v[k];
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

int cmd_bench(int argc, char **argv)
{
    const char *path = NULL, *backend = NULL;
    long threads = 1, runs = 50, warmup = 5, batch = 1;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0) {
            printf("usage: edgeai bench MODEL [--threads N] [--runs N] [--warmup N] [--batch N]\n"
                   "                    [--backend NAME] [--json]\n\n"
                   "Times eai_session_invoke on random inputs (seed 1): latency min/p50/p99 in "
                   "ms,\ninferences/s, peak RSS of the process and planned arena bytes.\n");
            return 0;
        } else if (strcmp(a, "--threads") == 0) {
            if (!cli_parse_int("bench", a, ++i < argc ? argv[i] : NULL, 1, 256, &threads)) return 2;
        } else if (strcmp(a, "--runs") == 0) {
            if (!cli_parse_int("bench", a, ++i < argc ? argv[i] : NULL, 1, 1000000, &runs))
                return 2;
        } else if (strcmp(a, "--warmup") == 0) {
            if (!cli_parse_int("bench", a, ++i < argc ? argv[i] : NULL, 0, 1000000, &warmup))
                return 2;
        } else if (strcmp(a, "--batch") == 0) {
            if (!cli_parse_int("bench", a, ++i < argc ? argv[i] : NULL, 1, 1 << 20, &batch))
                return 2;
        } else if (strcmp(a, "--backend") == 0) {
            if (++i >= argc) return cli_fail_usage("bench", "--backend needs a value");
            backend = argv[i];
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (a[0] == '-') {
            return cli_fail_usage("bench", "unknown option '%s'", a);
        } else if (path) {
            return cli_fail_usage("bench", "one model at a time");
        } else {
            path = a;
        }
    }
    if (!path) return cli_fail_usage("bench", "usage: edgeai bench MODEL [options]");
    double t0 = cli_now();
    eai_model_t *m = NULL;
    eai_session_t *s = NULL;
    eai_threadpool_t *pool = NULL;
    double *lat = NULL;
    void **inputs = NULL;
    int rc = 1;
    if (eai_model_load(path, NULL, &m) != EAI_OK) goto fail;
    if (threads > 1 && eai_threadpool_create((int)threads, &pool) != EAI_OK) goto fail;
    eai_session_opts_t o = {.backend = backend, .pool = pool, .batch = batch};
    if (eai_session_create(m, &o, &s) != EAI_OK) goto fail;
    int n_in = eai_session_n_inputs(s);
    inputs = calloc((size_t)n_in + 1, sizeof *inputs);
    lat = calloc((size_t)runs, sizeof *lat);
    if (!inputs || !lat) {
        eai_fail(EAI_E_NOMEM, "out of memory");
        goto fail;
    }
    uint64_t seed = 1;
    for (int i = 0; i < n_in; i++) {
        eai_tensor_info_t t;
        eai_session_input_info(s, i, &t);
        int64_t n = eai_tensor_info_numel(&t);
        size_t bytes = (size_t)n * eai_dtype_size(t.dtype);
        inputs[i] = malloc(bytes ? bytes : 1);
        if (!inputs[i]) {
            eai_fail(EAI_E_NOMEM, "out of memory");
            goto fail;
        }
        fill_random(inputs[i], t.dtype, n, &seed);
        if (eai_session_set_input(s, i, inputs[i], bytes) != EAI_OK) goto fail;
    }
    double first = 0;
    for (long r = 0; r < warmup + runs; r++) {
        double a = cli_now();
        if (eai_session_invoke(s) != EAI_OK) goto fail;
        double b = cli_now();
        if (r == 0) first = b - t0;
        if (r >= warmup) lat[r - warmup] = (b - a) * 1e3;
    }
    qsort(lat, (size_t)runs, sizeof *lat, cmp_double);
    double sum = 0;
    for (long r = 0; r < runs; r++)
        sum += lat[r];
    double p50 = percentile(lat, (int)runs, 0.5), p99 = percentile(lat, (int)runs, 0.99);
    int64_t rss = cli_peak_rss();
    if (json) {
        printf("{\"model\": \"%s\", \"backend\": \"%s\", \"threads\": %ld, \"batch\": %ld, "
               "\"runs\": %ld, \"warmup\": %ld, \"min_ms\": %.4f, \"p50_ms\": %.4f, "
               "\"p99_ms\": %.4f, \"mean_ms\": %.4f, \"ips\": %.2f, \"first_result_ms\": %.3f, "
               "\"peak_rss_bytes\": %lld, \"arena_bytes\": %zu}\n",
               path, eai_session_backend(s), threads, batch, runs, warmup, lat[0], p50, p99,
               sum / (double)runs, 1e3 * (double)batch / (sum / (double)runs), first * 1e3,
               (long long)rss, eai_session_arena_bytes(s));
    } else {
        printf("model        %s (backend %s, %ld thread%s, batch %ld)\n", path,
               eai_session_backend(s), threads, threads > 1 ? "s" : "", batch);
        printf("latency ms   min %.3f  p50 %.3f  p99 %.3f  (%ld runs after %ld warm-up)\n", lat[0],
               p50, p99, runs, warmup);
        printf("throughput   %.1f inferences/s\n", 1e3 * (double)batch / (sum / (double)runs));
        printf("first result %.1f ms after start (load + plan + first invoke)\n", first * 1e3);
        printf("peak RSS     %.1f MiB\n", (double)rss / (1 << 20));
        printf("arena        %.2f MiB\n", (double)eai_session_arena_bytes(s) / (1 << 20));
    }
    rc = 0;
fail:
    if (rc) cli_fail_status("bench");
    if (inputs)
        for (int i = 0; s && i < eai_session_n_inputs(s); i++)
            free(inputs[i]);
    free(inputs);
    free(lat);
    eai_session_destroy(s);
    eai_threadpool_destroy(pool);
    eai_model_destroy(m);
    return rc;
}
