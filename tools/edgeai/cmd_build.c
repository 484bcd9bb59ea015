/* `edgeai build MODEL -o OUT.eai`: loads the model exactly as the file says
 * (no load-time passes, so the report counts what the build does), builds it
 * (passes, layout, INT8, FP16) and saves a .eai plan; prints what changed,
 * the sizes and the accuracy against the FP32 original. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

typedef struct build_args {
    const char *path, *out, *calib, *eval, *backend;
    bool fp16, int8, json;
    eai_calib_method_t method;
    float percentile;
    long calib_max;
    float mean[3], std[3];
} build_args_t;

static void usage(void)
{
    printf("usage: edgeai build MODEL -o OUT.eai [--fp16] [--backend NAME] [--json]\n"
           "                    [--int8 --calib DIR_OR_LIST [--calib-method "
           "minmax|percentile|entropy]\n"
           "                            [--percentile P] [--calib-max N]]\n"
           "                    [--eval DIR_OR_LIST] [--mean a,b,c --std a,b,c]\n\n"
           "Optimizes MODEL (constant folding, BN folding, activation fusion, dead code),\n"
           "lays it out for --backend, and writes a compiled plan that `edgeai run/bench/info`\n"
           "and eai_model_load map without copying the weights.\n"
           "  --fp16         store float weights as half (plan about half the size)\n"
           "  --int8         post-training static quantization, calibrated on --calib\n"
           "                 (a folder of .npy/.png/.jpg files or a text file listing them)\n"
           "  --eval         inputs for the accuracy report (default: the calibration set,\n"
           "                 else random inputs)\n"
           "  --mean/--std   image normalisation for --calib/--eval images\n"
           "  --json         the report as one JSON object\n");
}

static bool takes_value(const char *o)
{
    static const char *const opts[] = {"-o",        "--out",          "--calib",      "--eval",
                                       "--backend", "--calib-method", "--percentile", "--calib-max",
                                       "--mean",    "--std"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        if (strcmp(o, opts[i]) == 0) return true;
    return false;
}

static int parse_args(int argc, char **argv, build_args_t *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            usage();
            return -1;
        } else if (strcmp(o, "--fp16") == 0) {
            a->fp16 = true;
            takes = false;
        } else if (strcmp(o, "--int8") == 0) {
            a->int8 = true;
            takes = false;
        } else if (strcmp(o, "--json") == 0) {
            a->json = true;
            takes = false;
        } else if (takes_value(o) && !val) {
            return cli_fail_usage("build", "%s needs a value", o);
        } else if (strcmp(o, "-o") == 0 || strcmp(o, "--out") == 0) {
            a->out = val;
        } else if (strcmp(o, "--calib") == 0) {
            a->calib = val;
        } else if (strcmp(o, "--eval") == 0) {
            a->eval = val;
        } else if (strcmp(o, "--backend") == 0) {
            a->backend = val;
        } else if (strcmp(o, "--calib-method") == 0) {
            if (strcmp(val, "minmax") == 0)
                a->method = EAI_CALIB_MINMAX;
            else if (strcmp(val, "percentile") == 0)
                a->method = EAI_CALIB_PERCENTILE;
            else if (strcmp(val, "entropy") == 0)
                a->method = EAI_CALIB_ENTROPY;
            else
                return cli_fail_usage("build",
                                      "--calib-method: '%s' is not minmax, percentile "
                                      "or entropy",
                                      val);
        } else if (strcmp(o, "--percentile") == 0) {
            char *end;
            a->percentile = strtof(val, &end);
            if (end == val || *end || !(a->percentile > 0 && a->percentile <= 100))
                return cli_fail_usage("build", "--percentile: '%s' is not a number in (0, 100]",
                                      val);
        } else if (strcmp(o, "--calib-max") == 0) {
            if (!cli_parse_int("build", o, val, 1, 1000000, &a->calib_max)) return 2;
        } else if (strcmp(o, "--mean") == 0 || strcmp(o, "--std") == 0) {
            if (!cli_parse_floats(val, o[2] == 'm' ? a->mean : a->std, 3))
                return cli_fail_usage("build", "%s takes three numbers a,b,c", o);
        } else if (o[0] == '-') {
            return cli_fail_usage("build", "unknown option '%s'", o);
        } else if (a->path) {
            return cli_fail_usage("build", "one model at a time ('%s' and '%s')", a->path, o);
        } else {
            a->path = o;
            takes = false;
        }
        if (takes) i++;
    }
    if (!a->path) return cli_fail_usage("build", "usage: edgeai build MODEL -o OUT.eai [options]");
    if (!a->out) return cli_fail_usage("build", "give -o OUT.eai (where to write the plan)");
    if (a->int8 && !a->calib)
        return cli_fail_usage("build", "--int8 needs --calib DIR_OR_LIST (calibration inputs)");
    if (!a->int8 && (a->calib || a->calib_max || a->percentile || a->method))
        return cli_fail_usage("build", "--calib, --calib-method, --percentile and --calib-max "
                                       "go with --int8");
    if (a->percentile && a->method != EAI_CALIB_PERCENTILE)
        return cli_fail_usage("build", "--percentile goes with --calib-method percentile");
    return 0;
}

/* Progress of long stages on stderr: a line updated in place on a terminal,
 * otherwise about ten lines per stage. */
static void progress(const char *stage, int done, int total, void *user)
{
    bool tty = *(bool *)user;
    int step = total > 10 ? total / 10 : 1;
    if (tty)
        fprintf(stderr, "\redgeai build: %s %d/%d%s", stage, done, total,
                done == total ? "\n" : "");
    else if (done == total || done % step == 0)
        fprintf(stderr, "edgeai build: %s %d/%d\n", stage, done, total);
}

static long long file_bytes(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 32)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static double kib(long long b)
{
    return (double)b / 1024.0;
}

static const char *eval_source(const build_args_t *a)
{
    return a->eval ? a->eval : a->calib ? "calibration set" : "random inputs";
}

static void print_text(const build_args_t *a, const eai_build_report_t *r, long long src,
                       long long plan, const double t[3])
{
    printf("model        %s (%.1f KiB)\n", a->path, kib(src));
    printf("plan         %s (%.1f KiB, %.3fx the model file)\n", a->out, kib(plan),
           src > 0 ? (double)plan / (double)src : 0.0);
    printf("weights      %s\n", a->fp16 ? "fp16 (stored as half, computed in float32: no FP16 "
                                          "kernels on this host)"
                                        : "fp32");
    printf("backend      %s\n", a->backend ? a->backend : "any");
    printf("nodes        %d -> %d\n", r->nodes_before, r->nodes_after);
    printf("passes       constants folded %d, BN folded %d, activations fused %d, nodes removed "
           "%d, layout transposes %d\n",
           r->consts_folded, r->bn_folded, r->act_fused, r->nodes_removed, r->layout_transposes);
    if (a->int8) printf("int8         %d nodes quantized\n", r->quantized_nodes);
    if (r->n_eval > 0) {
        printf("accuracy     vs the FP32 original on %d input%s (%s): max abs err %.3g, mean abs "
               "err %.3g",
               r->n_eval, r->n_eval == 1 ? "" : "s", eval_source(a), r->max_abs_err,
               r->mean_abs_err);
        if (r->top1_agree >= 0)
            printf(", top-1 agreement %.1f%%\n", r->top1_agree * 100);
        else
            printf("\n");
    } else {
        printf("accuracy     not computed (no inputs: see the warning above)\n");
    }
    printf("time         load %.3f s, build %.3f s, save %.3f s\n", t[0], t[1], t[2]);
}

static void print_json(const build_args_t *a, const eai_build_report_t *r, long long src,
                       long long plan, const double t[3])
{
    printf("{\"model\": ");
    json_str(a->path);
    printf(", \"plan\": ");
    json_str(a->out);
    printf(", \"model_bytes\": %lld, \"plan_bytes\": %lld, \"ratio\": %.4f", src, plan,
           src > 0 ? (double)plan / (double)src : 0.0);
    printf(", \"fp16\": %s, \"int8\": %s, \"backend\": ", a->fp16 ? "true" : "false",
           a->int8 ? "true" : "false");
    json_str(a->backend ? a->backend : "");
    printf(", \"nodes_before\": %d, \"nodes_after\": %d", r->nodes_before, r->nodes_after);
    printf(", \"passes\": {\"consts_folded\": %d, \"bn_folded\": %d, \"act_fused\": %d, "
           "\"nodes_removed\": %d, \"layout_transposes\": %d}",
           r->consts_folded, r->bn_folded, r->act_fused, r->nodes_removed, r->layout_transposes);
    printf(", \"quantized_nodes\": %d", r->quantized_nodes);
    printf(", \"eval\": {\"n\": %d, \"source\": ", r->n_eval);
    json_str(eval_source(a));
    if (r->n_eval > 0)
        printf(", \"max_abs_err\": %.6g, \"mean_abs_err\": %.6g, \"top1_agree\": %.6g}",
               r->max_abs_err, r->mean_abs_err, r->top1_agree);
    else
        printf("}");
    printf(", \"seconds\": {\"load\": %.4f, \"build\": %.4f, \"save\": %.4f}}\n", t[0], t[1], t[2]);
}

/* Fails before a long build when the plan could not be written anyway. */
static bool out_dir_ok(const char *out)
{
    char dir[4096];
    const char *slash = strrchr(out, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == out ? 1 : (int)(slash - out), out);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "edgeai build: %s: the folder '%s' does not exist\n", out, dir);
        return false;
    }
    if (access(dir, W_OK) != 0) {
        fprintf(stderr, "edgeai build: %s: the folder '%s' is not writable\n", out, dir);
        return false;
    }
    return true;
}

int cmd_build(int argc, char **argv)
{
    build_args_t a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc;
    if (!out_dir_ok(a.out)) return 1;
    bool tty = isatty(2);
    eai_build_opts_t o = {
        .backend = a.backend,
        .fp16 = a.fp16,
        .int8 = a.int8,
        .calib = a.calib,
        .calib_method = a.method,
        .percentile = a.percentile,
        .calib_max = (int)a.calib_max,
        .eval = a.eval,
        .progress = progress,
        .user = &tty,
    };
    memcpy(o.mean, a.mean, sizeof o.mean);
    memcpy(o.std, a.std, sizeof o.std);
    double t[3], t0 = cli_now();
    eai_model_opts_t mo = {.no_optimize = true};
    eai_model_t *m, *b;
    if (eai_model_load(a.path, &mo, &m) != EAI_OK) return cli_fail_status("build");
    t[0] = cli_now() - t0;
    eai_build_report_t r;
    t0 = cli_now();
    if (eai_build(m, &o, &b, &r) != EAI_OK) {
        eai_model_destroy(m);
        return cli_fail_status("build");
    }
    t[1] = cli_now() - t0;
    eai_model_destroy(m);
    t0 = cli_now();
    eai_status_t st = eai_model_save(b, a.out);
    t[2] = cli_now() - t0;
    eai_model_destroy(b);
    if (st != EAI_OK) return cli_fail_status("build");
    long long src = file_bytes(a.path), plan = file_bytes(a.out);
    if (a.json)
        print_json(&a, &r, src, plan, t);
    else
        print_text(&a, &r, src, plan, t);
    return 0;
}
