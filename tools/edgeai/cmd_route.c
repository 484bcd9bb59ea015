/* `edgeai route --edge SMALL --cloud URL --data SPEC`: routes every sample of
 * a labelled data set through the edge-cloud cascade (edgeai/router.h) and
 * reports accuracy, offload, latency percentiles, bytes and failures.
 * --sweep asks both tiers once per sample and writes the accuracy-vs-offload
 * curve over thresholds 0..1 (CSV and PNG) instead. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "edgeai/router.h"

#define SWEEP_STEPS 100 /* thresholds 0, 0.01, .., 1 */

typedef struct route_args {
    const char *edge, *cloud, *cloud_model, *data, *json, *csv, *plot, *calib, *log, *backend;
    const char *cloud_in, *cloud_out;
    float threshold, temperature, mean, std;
    bool sweep, quiet, json_wire;
    long timeout_ms, max, retries, backoff_ms, fails, cooldown_ms, interval_ms;
} route_args_t;

static void usage(void)
{
    printf("usage: edgeai route --edge MODEL --cloud URL [--cloud-model NAME] --data SPEC\n"
           "                    [--threshold T | --sweep] [--timeout-ms N] [--max N]\n"
           "                    [--json FILE] [--csv FILE] [--plot FILE.png]\n"
           "                    [--temperature T | --calib FILE] [--retries N] [--backoff-ms N]\n"
           "                    [--breaker-failures K] [--breaker-cooldown-ms N] [--mean M] [--std "
           "S]\n"
           "                    [--cloud-input NAME] [--cloud-output NAME] [--interval-ms N]\n"
           "                    [--backend NAME] [--wire binary|json] [--log FILE] [--quiet]\n\n"
           "Routes each sample: the edge answers when its calibrated confidence >= T (default\n"
           "0.85), else the cloud (KServe v2 at URL/v2/models/NAME/infer) does; when the cloud\n"
           "fails or the breaker is open the edge answers anyway (edge_fallback). --csv writes\n"
           "one row per sample; with --sweep it writes the curve (threshold,offload,accuracy)\n"
           "and --plot draws it (x: offload 0..1, y: accuracy). The calibration file defaults\n"
           "to MODEL.calib.json when it exists. Breaker transitions go to stderr or --log.\n"
           "--interval-ms paces the samples (a camera at 1000/N fps) instead of back to back.\n"
           "--backend picks the edge session's backend. --wire binary (default) sends the input\n"
           "and gets the logits as binary tensor data (Triton's extension); json sends plain\n"
           "KServe v2 JSON, for servers without the extension.\n");
}

static int parse(int argc, char **argv, route_args_t *a)
{
    *a = (route_args_t){.threshold = 0.85f,
                        .std = 1,
                        .timeout_ms = 200,
                        .retries = 1,
                        .backoff_ms = 10,
                        .fails = 3,
                        .cooldown_ms = 1000};
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--help") == 0) {
            usage();
            return -1;
        }
        if (strcmp(o, "--sweep") == 0) {
            a->sweep = true;
            continue;
        }
        if (strcmp(o, "--quiet") == 0) {
            a->quiet = true;
            continue;
        }
        if (!v) return cli_fail_usage(argv[0], "%s needs a value", o);
        i++;
        const char **str = strcmp(o, "--edge") == 0           ? &a->edge
                           : strcmp(o, "--cloud") == 0        ? &a->cloud
                           : strcmp(o, "--cloud-model") == 0  ? &a->cloud_model
                           : strcmp(o, "--data") == 0         ? &a->data
                           : strcmp(o, "--json") == 0         ? &a->json
                           : strcmp(o, "--csv") == 0          ? &a->csv
                           : strcmp(o, "--plot") == 0         ? &a->plot
                           : strcmp(o, "--calib") == 0        ? &a->calib
                           : strcmp(o, "--log") == 0          ? &a->log
                           : strcmp(o, "--backend") == 0      ? &a->backend
                           : strcmp(o, "--cloud-input") == 0  ? &a->cloud_in
                           : strcmp(o, "--cloud-output") == 0 ? &a->cloud_out
                                                              : NULL;
        long *num = strcmp(o, "--timeout-ms") == 0            ? &a->timeout_ms
                    : strcmp(o, "--max") == 0                 ? &a->max
                    : strcmp(o, "--retries") == 0             ? &a->retries
                    : strcmp(o, "--backoff-ms") == 0          ? &a->backoff_ms
                    : strcmp(o, "--breaker-failures") == 0    ? &a->fails
                    : strcmp(o, "--breaker-cooldown-ms") == 0 ? &a->cooldown_ms
                    : strcmp(o, "--interval-ms") == 0         ? &a->interval_ms
                                                              : NULL;
        if (str) {
            *str = v;
        } else if (num) {
            long lo = strcmp(o, "--retries") == 0 || strcmp(o, "--interval-ms") == 0 ? 0 : 1;
            if (!cli_parse_int(argv[0], o, v, lo, 100000000, num)) return 2;
        } else if (strcmp(o, "--wire") == 0) {
            if (strcmp(v, "binary") != 0 && strcmp(v, "json") != 0)
                return cli_fail_usage(argv[0], "--wire: '%s', expected binary or json", v);
            a->json_wire = strcmp(v, "json") == 0;
        } else if (strcmp(o, "--threshold") == 0) {
            if (!cli_parse_floats(v, &a->threshold, 1) || a->threshold < 0 || a->threshold > 1)
                return cli_fail_usage(argv[0], "--threshold: '%s', expected 0..1", v);
        } else if (strcmp(o, "--temperature") == 0) {
            if (!cli_parse_floats(v, &a->temperature, 1) || !(a->temperature > 0))
                return cli_fail_usage(argv[0], "--temperature: '%s', expected > 0", v);
        } else if (strcmp(o, "--mean") == 0) {
            if (!cli_parse_floats(v, &a->mean, 1))
                return cli_fail_usage(argv[0], "--mean: '%s'", v);
        } else if (strcmp(o, "--std") == 0) {
            if (!cli_parse_floats(v, &a->std, 1) || !(a->std > 0))
                return cli_fail_usage(argv[0], "--std: '%s', expected > 0", v);
        } else {
            return cli_fail_usage(argv[0], "unknown option %s", o);
        }
    }
    if (!a->edge) return cli_fail_usage(argv[0], "missing --edge MODEL");
    if (!a->cloud) return cli_fail_usage(argv[0], "missing --cloud URL");
    if (!a->data) return cli_fail_usage(argv[0], "missing --data SPEC");
    if (a->plot && !a->sweep) return cli_fail_usage(argv[0], "--plot needs --sweep");
    return 0;
}

static void on_breaker(void *user, const eai_breaker_event_t *ev)
{
    FILE *f = user;
    fprintf(f, "breaker: %s -> %s at t=%.6f s (%d consecutive failures): %s\n",
            eai_breaker_state_name(ev->from), eai_breaker_state_name(ev->to),
            (double)ev->t_us / 1e6, ev->n_failures, ev->reason ? ev->reason : "");
    fflush(f);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of v[0..n) (sorts v); 0 when empty. */
static double pct(int64_t *v, int64_t n, double p)
{
    if (n == 0) return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    int64_t r = (int64_t)ceil(p / 100.0 * (double)n);
    return (double)v[r < 1 ? 0 : r - 1];
}

/* The default calibration file (MODEL.calib.json) when it exists. */
static char *find_calib(const char *model)
{
    size_t n = strlen(model);
    const char *slash = strrchr(model, '/'), *dot = strrchr(model, '.');
    if (dot && (!slash || dot > slash + 1)) n = (size_t)(dot - model);
    char *s = malloc(n + 12);
    if (!s) return NULL;
    snprintf(s, n + 12, "%.*s.calib.json", (int)n, model);
    FILE *f = fopen(s, "r");
    if (f) {
        fclose(f);
        return s;
    }
    free(s);
    return NULL;
}

typedef struct totals {
    int64_t n, correct, n_edge, n_cloud, n_fallback, n_failures, n_attempts, errors;
    int64_t bytes_sent, bytes_received, n_breaker_skips;
    int64_t *edge_us, *cloud_us, *total_us;
    int64_t n_cloud_us;
} totals_t;

static void report(const route_args_t *a, const totals_t *t, float temperature, FILE *js)
{
    double n = t->n ? (double)t->n : 1;
    int64_t *e = t->edge_us, *c = t->cloud_us, *o = t->total_us;
    double e50 = pct(e, t->n, 50), e99 = pct(e, t->n, 99), c50 = pct(c, t->n_cloud_us, 50),
           c99 = pct(c, t->n_cloud_us, 99), o50 = pct(o, t->n, 50), o99 = pct(o, t->n, 99);
    double acc = (double)t->correct / n, off = (double)(t->n_cloud + t->n_fallback) / n;
    if (!a->quiet) {
        printf("samples        %lld   threshold %.3f   temperature %.4f\n", (long long)t->n,
               (double)a->threshold, (double)temperature);
        printf("accuracy       %.4f\n", acc);
        printf("offload        %.4f (%lld wanted the cloud; %lld answered by it)\n", off,
               (long long)(t->n_cloud + t->n_fallback), (long long)t->n_cloud);
        printf("answers        edge %lld  cloud %lld  edge_fallback %lld  failed %lld\n",
               (long long)t->n_edge, (long long)t->n_cloud, (long long)t->n_fallback,
               (long long)t->errors);
        printf("cloud failures %lld requests failed (%lld HTTP attempts); %lld skipped by the "
               "open breaker\n",
               (long long)t->n_failures, (long long)t->n_attempts, (long long)t->n_breaker_skips);
        printf("latency us     edge p50 %.0f p99 %.0f | cloud p50 %.0f p99 %.0f | overall p50 %.0f "
               "p99 %.0f\n",
               e50, e99, c50, c99, o50, o99);
        printf("bytes          sent %lld  received %lld\n", (long long)t->bytes_sent,
               (long long)t->bytes_received);
    }
    if (js)
        fprintf(js,
                "{\"samples\": %lld, \"threshold\": %.6g, \"temperature\": %.6g, \"accuracy\": "
                "%.6f, \"offload\": %.6f, \"edge\": %lld, \"cloud\": %lld, \"edge_fallback\": "
                "%lld, \"failed_answers\": %lld, \"cloud_failures\": %lld, \"cloud_attempts\": "
                "%lld, \"breaker_skips\": %lld, \"edge_us_p50\": %.0f, \"edge_us_p99\": %.0f, "
                "\"cloud_us_p50\": %.0f, \"cloud_us_p99\": %.0f, \"overall_us_p50\": %.0f, "
                "\"overall_us_p99\": %.0f, \"bytes_sent\": %lld, \"bytes_received\": %lld}\n",
                (long long)t->n, (double)a->threshold, (double)temperature, acc, off,
                (long long)t->n_edge, (long long)t->n_cloud, (long long)t->n_fallback,
                (long long)t->errors, (long long)t->n_failures, (long long)t->n_attempts,
                (long long)t->n_breaker_skips, e50, e99, c50, c99, o50, o99,
                (long long)t->bytes_sent, (long long)t->bytes_received);
}

static eai_status_t route_all(const route_args_t *a, eai_router_t *r, eai_dataset_t *ds, int64_t n,
                              totals_t *t, FILE *csv)
{
    const int32_t *y = eai_dataset_labels(ds);
    int64_t k = eai_dataset_sample_numel(ds);
    if (csv)
        fprintf(csv, "index,label,tier,class,confidence,edge_class,edge_confidence,"
                     "cloud_class,edge_us,cloud_us,bytes_sent,bytes_received,breaker\n");
    double next = cli_now();
    for (int64_t i = 0; i < n; i++) {
        eai_route_result_t res;
        if (a->interval_ms > 0) { /* fixed-rate arrivals: wait for this sample's slot */
            next += (double)a->interval_ms / 1000;
            double wait = next - cli_now();
            if (wait > 0) {
                struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
                nanosleep(&ts, NULL);
            }
        }
        double t0 = cli_now();
        if (eai_router_infer(r, eai_dataset_x(ds, i), k, &res) != EAI_OK) {
            t->errors++;
            fprintf(stderr, "edgeai route: sample %lld: %s\n", (long long)i, eai_last_error());
            continue;
        }
        t->total_us[t->n] = (int64_t)((cli_now() - t0) * 1e6);
        t->edge_us[t->n] = res.edge_us;
        t->n++;
        t->correct += res.cls == y[i];
        t->n_edge += res.tier == EAI_ROUTE_EDGE;
        t->n_cloud += res.tier == EAI_ROUTE_CLOUD;
        t->n_fallback += res.tier == EAI_ROUTE_EDGE_FALLBACK;
        t->n_failures += res.cloud_attempts > 0 && res.cloud_status != EAI_OK;
        t->n_breaker_skips += res.tier == EAI_ROUTE_EDGE_FALLBACK && res.cloud_attempts == 0;
        t->n_attempts += res.cloud_attempts;
        if (res.cloud_attempts > 0) t->cloud_us[t->n_cloud_us++] = res.cloud_us;
        t->bytes_sent += res.bytes_sent;
        t->bytes_received += res.bytes_received;
        if (csv)
            fprintf(csv, "%lld,%d,%s,%d,%.6f,%d,%.6f,%d,%lld,%lld,%lld,%lld,%s\n", (long long)i,
                    (int)y[i], eai_route_tier_name(res.tier), res.cls, (double)res.confidence,
                    res.edge_cls, (double)res.edge_confidence, res.cloud_cls,
                    (long long)res.edge_us, (long long)res.cloud_us, (long long)res.bytes_sent,
                    (long long)res.bytes_received, eai_breaker_state_name(res.breaker));
    }
    return t->errors ? eai_fail(EAI_E_STATE, "%lld samples got no answer", (long long)t->errors)
                     : EAI_OK;
}

/* Both tiers once per sample, then the curve over thresholds. A sample whose
 * cloud call fails keeps the edge answer (what the router would return). */
static eai_status_t sweep(const route_args_t *a, eai_router_t *r, eai_dataset_t *ds, int64_t n,
                          FILE *csv)
{
    const int32_t *y = eai_dataset_labels(ds);
    int64_t k = eai_dataset_sample_numel(ds), fails = 0, bytes = 0;
    float *conf = malloc((size_t)n * sizeof(float));
    char *edge_ok = malloc((size_t)n), *cloud_ok = malloc((size_t)n);
    double *xs = malloc(sizeof(double) * 2 * (SWEEP_STEPS + 1)), *ys = xs + SWEEP_STEPS + 1;
    eai_status_t st =
        conf && edge_ok && cloud_ok && xs ? EAI_OK : eai_fail(EAI_E_NOMEM, "out of memory");
    for (int64_t i = 0; st == EAI_OK && i < n; i++) {
        eai_route_result_t e, c;
        const float *x = eai_dataset_x(ds, i);
        st = eai_router_infer(r, x, k, &e); /* threshold < 0: edge only */
        if (st != EAI_OK) break;
        conf[i] = e.edge_confidence;
        edge_ok[i] = e.edge_cls == y[i];
        if (eai_router_cloud_only(r, x, k, &c) == EAI_OK) {
            cloud_ok[i] = c.cloud_cls == y[i];
        } else {
            fails++;
            cloud_ok[i] = edge_ok[i];
        }
        bytes += c.bytes_sent;
    }
    if (st == EAI_OK) {
        if (csv) fprintf(csv, "threshold,offload,accuracy\n");
        for (int s = 0; s <= SWEEP_STEPS; s++) {
            double th = (double)s / SWEEP_STEPS;
            int64_t off = 0, ok = 0;
            for (int64_t i = 0; i < n; i++) {
                /* The last point is cloud-only (the router's threshold > 1):
                 * a confidence that rounds to exactly 1.0f stays below it. */
                bool to_cloud = s == SWEEP_STEPS || conf[i] < th;
                off += to_cloud;
                ok += to_cloud ? cloud_ok[i] : edge_ok[i];
            }
            xs[s] = (double)off / (double)n;
            ys[s] = (double)ok / (double)n;
            if (csv) fprintf(csv, "%.2f,%.6f,%.6f\n", th, xs[s], ys[s]);
        }
        if (!a->quiet)
            printf("sweep: %lld samples, edge-only accuracy %.4f (threshold 0), cloud-only %.4f "
                   "(threshold 1), %lld cloud failures, %lld bytes sent\n",
                   (long long)n, ys[0], ys[SWEEP_STEPS], (long long)fails, (long long)bytes);
        if (a->plot) {
            eai_plot_opts_t po = {.x_min = 0,
                                  .x_max = 1,
                                  .y_min = ys[0] < ys[SWEEP_STEPS] ? ys[0] : ys[SWEEP_STEPS],
                                  .title = "HYBRID ACCURACY VS OFFLOAD",
                                  .x_label = "FRACTION OF SAMPLES SENT TO THE CLOUD",
                                  .y_label = "ACCURACY"};
            po.y_min = floor(po.y_min * 20 - 1) / 20;
            po.y_max = 1;
            if (po.y_min < 0) po.y_min = 0;
            st = eai_plot_line_png(a->plot, xs, ys, SWEEP_STEPS + 1, &po);
        }
    }
    free(conf);
    free(edge_ok);
    free(cloud_ok);
    free(xs);
    return st;
}

int cmd_route(int argc, char **argv)
{
    route_args_t a;
    int rc = parse(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc;
    FILE *logf = a.log ? fopen(a.log, "a") : stderr;
    if (!logf) return cli_fail_usage(argv[0], "cannot open --log %s", a.log);
    char *calib = !a.calib && a.temperature == 0 ? find_calib(a.edge) : NULL;
    eai_router_opts_t ro = {
        .edge_path = a.edge,
        .backend = a.backend,
        .json_wire = a.json_wire,
        .cloud_url = a.cloud,
        .cloud_model = a.cloud_model,
        .cloud_input_name = a.cloud_in,
        .cloud_output_name = a.cloud_out,
        /* 0 is a legal threshold here (never offload) but means "default" in opts. */
        .threshold = a.sweep || a.threshold == 0 ? -1.0f : a.threshold,
        .temperature = a.temperature,
        .calib_path = a.calib ? a.calib : calib,
        .timeout_ms = (int)a.timeout_ms,
        .retries = a.retries == 0 ? -1 : (int)a.retries,
        .backoff_ms = (int)a.backoff_ms,
        .breaker_failures = (int)a.fails,
        .breaker_cooldown_ms = (int)a.cooldown_ms,
        .on_breaker = on_breaker,
        .user = logf,
    };
    eai_dataset_opts_t dopts = {.mean = a.mean, .std = a.std, .max_samples = a.max};
    eai_dataset_t *ds = NULL;
    eai_router_t *r = NULL;
    FILE *csv = NULL, *js = NULL;
    totals_t t = {0};
    eai_status_t st = eai_dataset_load(a.data, &dopts, &ds);
    if (st == EAI_OK) st = eai_router_create(&ro, &r);
    int64_t n = st == EAI_OK ? eai_dataset_n(ds) : 0;
    if (st == EAI_OK && a.csv && !(csv = fopen(a.csv, "w")))
        st = eai_fail(EAI_E_IO, "cannot write %s", a.csv);
    if (st == EAI_OK && a.json && !(js = fopen(a.json, "w")))
        st = eai_fail(EAI_E_IO, "cannot write %s", a.json);
    if (st == EAI_OK && !a.quiet && calib) printf("calibration    %s\n", calib);
    if (st == EAI_OK && a.sweep) {
        st = sweep(&a, r, ds, n, csv);
    } else if (st == EAI_OK) {
        t.edge_us = malloc(sizeof(int64_t) * 3 * (size_t)(n ? n : 1));
        t.cloud_us = t.edge_us + n;
        t.total_us = t.cloud_us + n;
        st = t.edge_us ? route_all(&a, r, ds, n, &t, csv) : eai_fail(EAI_E_NOMEM, "out of memory");
        if (t.edge_us) report(&a, &t, eai_router_temperature(r), js);
    }
    int ret = st == EAI_OK ? 0 : cli_fail_status(argv[0]);
    if (csv && fclose(csv) != 0 && ret == 0)
        ret = cli_fail_usage(argv[0], "cannot write %s", a.csv);
    if (js) fclose(js);
    if (logf != stderr) fclose(logf);
    free(t.edge_us);
    free(calib);
    eai_router_destroy(r);
    eai_dataset_destroy(ds);
    return ret;
}
