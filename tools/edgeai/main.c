/* `edgeai`: the command-line entry point; dispatches to one file per
 * subcommand. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"info", cmd_info, "MODEL                      inputs, outputs, ops, params, MACs, arena"},
    {"run", cmd_run, "MODEL -i [NAME=]FILE.npy -o DIR   run once, write outputs as .npy"},
    {"ops", cmd_ops, "                           the ONNX ops this build runs"},
    {"bench", cmd_bench, "MODEL [--threads N] [--runs N]   latency min/p50/p99, RSS, arena"},
    {"build", cmd_build, "MODEL -o OUT.eai [--fp16] [--int8 --calib DIR]  compiled plan"},
    {"train", cmd_train, "MODEL.onnx --data SPEC --epochs N -o OUT.onnx   train on device"},
    {"data", cmd_data, "SPEC [--partition KIND --clients N]   data set and client splits"},
    {"fl", cmd_fl, "simulate|server|client ...    federated learning"},
    {"serve", cmd_serve, "--model NAME=PATH ... --port N   KServe v2 inference server"},
    {"calibrate", cmd_calibrate, "MODEL --data SPEC            fit the confidence temperature"},
    {"route", cmd_route, "--edge MODEL --cloud URL --data SPEC   edge-cloud cascade"},
    {"track", cmd_track, "run|eval ...                 multi-object tracking, MOT metrics"},
    {"pipeline", cmd_pipeline, "--detector D --source PATH   detect -> classify -> track"},
    {"scene", cmd_scene, "render ...                   synthetic road scenes with ground truth"},
    {"traffic", cmd_traffic, "run --scenario F.sumocfg     signal control against SUMO"},
    {"topo", cmd_topo, "compare --config topo.json   tiers and the architecture comparison"},
    {"node", cmd_node, "--config T.json --name X --mqtt H:P   one topology node over MQTT"},
    {"demo", cmd_demo, "[--sites N] [--mqtt]          every tier at once: SUMO, camera, cloud, FL"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: edgeai <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n`edgeai <command> --help` describes a command's options.\n");
}

int cli_fail_status(const char *cmd)
{
    fprintf(stderr, "edgeai %s: %s\n", cmd, eai_last_error());
    return 1;
}

bool cli_parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    if (!s) return false;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || v < lo || v > hi) return false;
    *out = v;
    return true;
}

bool cli_parse_real(const char *cmd, const char *opt, const char *s, double lo, double hi,
                    double *out)
{
    if (!s) {
        cli_fail_usage(cmd, "%s needs a value", opt);
        return false;
    }
    if (!cli_parse_double(s, lo, hi, out)) {
        cli_fail_usage(cmd, "%s: '%s' is not a number in [%g, %g]", opt, s, lo, hi);
        return false;
    }
    return true;
}

int cli_fail_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "edgeai %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return 2;
}

bool cli_parse_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    if (!s) {
        cli_fail_usage(cmd, "%s needs a value", opt);
        return false;
    }
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
        cli_fail_usage(cmd, "%s: '%s' is not an integer in [%ld, %ld]", opt, s, lo, hi);
        return false;
    }
    *out = v;
    return true;
}

int64_t cli_peak_rss(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (int64_t)ru.ru_maxrss * 1024; /* Linux reports KiB */
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void cli_format_dims(const eai_tensor_info_t *t, char *buf, size_t n)
{
    size_t off = 0;
    buf[0] = '\0';
    if (t->rank == 0) {
        snprintf(buf, n, "scalar");
        return;
    }
    for (int i = 0; i < t->rank && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, i ? "x%lld" : "%lld", (long long)t->dims[i]);
}

bool cli_parse_floats(const char *s, float *v, int n)
{
    if (!s) return false;
    for (int i = 0; i < n; i++) {
        char *end;
        v[i] = strtof(s, &end);
        if (end == s || !isfinite(v[i])) return false;
        if (i < n - 1 ? *end != ',' : *end != '\0') return false;
        s = end + 1;
    }
    return true;
}

eai_status_t cli_npy_fits(const char *path, const eai_npy_t *a, const eai_tensor_info_t *t,
                          const char *hint)
{
    bool same = a->dtype == t->dtype && a->rank == t->rank;
    for (int d = 0; same && d < a->rank; d++)
        same = a->dims[d] == t->dims[d];
    if (same) return EAI_OK;
    char want[128], got[128];
    eai_tensor_info_t ai = {.dtype = a->dtype, .rank = a->rank};
    memcpy(ai.dims, a->dims, sizeof a->dims);
    cli_format_dims(t, want, sizeof want);
    cli_format_dims(&ai, got, sizeof got);
    return eai_fail(EAI_E_INVALID, "%s: is %s %s, input '%s' takes %s %s%s", path,
                    eai_dtype_name(a->dtype), got, t->name, eai_dtype_name(t->dtype), want,
                    hint ? hint : "");
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("edgeai %s\n", EAI_VERSION_STRING);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "edgeai: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
