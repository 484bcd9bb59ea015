/* `edgeai train MODEL.onnx --data SPEC -o OUT.onnx`: trains an ONNX model on
 * a data set (edgeai/dataset.h specs) with the on-device trainer, prints one
 * line per epoch (and a live progress line on a TTY), writes the trained
 * model as ONNX and, on request, the per-epoch figures as JSON and every
 * step's loss as CSV (what scripts/train_reference.py compares against). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define MAX_FROZEN 64

typedef struct train_args {
    const char *model, *data, *test, *out, *json, *step_log;
    long epochs, batch, threads, warmup, step_size, max_samples;
    unsigned long long seed;
    bool no_shuffle, quiet;
    float mean, std;
    const char *frozen[MAX_FROZEN];
    int n_frozen;
    eai_trainer_opts_t o;
} train_args_t;

static void usage(void)
{
    printf(
        "usage: edgeai train MODEL.onnx --data SPEC [--test SPEC] -o OUT.onnx\n"
        "         [--epochs N] [--batch B] [--lr X] [--optim sgd|adam|adamw] [--momentum M]\n"
        "         [--nesterov] [--wd W] [--sched const|step|cosine|exp] [--step-size N]\n"
        "         [--gamma G] [--warmup N] [--min-lr X] [--freeze NAME[*]]... [--loss xent|mse]\n"
        "         [--threads N] [--seed S] [--no-shuffle] [--max-samples N] [--mean M]\n"
        "         [--std S] [--json FILE] [--step-log FILE] [--quiet]\n\n"
        "SPEC is a data set (fashion-mnist:train, npy:X.npy,Y.npy, idx:..., folder:DIR, ...).\n"
        "Defaults: 1 epoch, batch 32, SGD lr 0.01, constant schedule, shuffled each epoch\n"
        "with --seed (0). --freeze keeps an initializer (or every one starting with the\n"
        "prefix before '*') fixed. --json writes per-epoch figures, --step-log every\n"
        "step's loss (epoch,step,n,loss). --max-samples keeps the first N samples of\n"
        "--data and --test.\n");
}

static bool parse_float(const char *cmd, const char *opt, const char *s, float lo, float *out)
{
    char *end;
    if (!s) {
        cli_fail_usage(cmd, "%s needs a value", opt);
        return false;
    }
    float v = strtof(s, &end);
    if (*s == '\0' || *end != '\0' || !(v >= lo) || v != v || v > 1e30f) {
        cli_fail_usage(cmd, "%s: '%s' is not a number >= %g", opt, s, lo);
        return false;
    }
    *out = v;
    return true;
}

static bool pick(const char *cmd, const char *opt, const char *s, const char *const *names, int n,
                 int *out)
{
    for (int i = 0; s && i < n; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return true;
        }
    cli_fail_usage(cmd, "%s: '%s' is not one of the choices (see --help)", opt, s ? s : "");
    return false;
}

/* 0: parsed; -1: --help; else the exit status of a usage error. */
static int parse_args(int argc, char **argv, train_args_t *a)
{
    const char *cmd = argv[0];
    memset(a, 0, sizeof *a);
    a->epochs = 1;
    a->batch = 32;
    a->threads = 1;
    a->std = 1;
    a->o.optim.lr = 0.01f;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true, takes = true;
        int k;
        long l;
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            usage();
            return -1;
        } else if (strcmp(s, "--data") == 0) {
            a->data = v;
        } else if (strcmp(s, "--test") == 0) {
            a->test = v;
        } else if (strcmp(s, "-o") == 0 || strcmp(s, "--output") == 0) {
            a->out = v;
        } else if (strcmp(s, "--json") == 0) {
            a->json = v;
        } else if (strcmp(s, "--step-log") == 0) {
            a->step_log = v;
        } else if (strcmp(s, "--epochs") == 0) {
            ok = cli_parse_int(cmd, s, v, 0, 100000, &a->epochs);
        } else if (strcmp(s, "--batch") == 0) {
            ok = cli_parse_int(cmd, s, v, 1, 1 << 20, &a->batch);
        } else if (strcmp(s, "--threads") == 0) {
            ok = cli_parse_int(cmd, s, v, 1, 1024, &a->threads);
        } else if (strcmp(s, "--warmup") == 0) {
            ok = cli_parse_int(cmd, s, v, 0, 1L << 40, &a->warmup);
        } else if (strcmp(s, "--step-size") == 0) {
            ok = cli_parse_int(cmd, s, v, 1, 1L << 40, &a->step_size);
        } else if (strcmp(s, "--max-samples") == 0) {
            ok = cli_parse_int(cmd, s, v, 1, 1L << 40, &a->max_samples);
        } else if (strcmp(s, "--seed") == 0) {
            ok = cli_parse_int(cmd, s, v, 0, 0x7fffffffffffffffL, &l);
            a->seed = (unsigned long long)l;
        } else if (strcmp(s, "--lr") == 0) {
            ok = parse_float(cmd, s, v, 1e-12f, &a->o.optim.lr);
        } else if (strcmp(s, "--momentum") == 0) {
            ok = parse_float(cmd, s, v, 0, &a->o.optim.momentum);
        } else if (strcmp(s, "--wd") == 0) {
            ok = parse_float(cmd, s, v, 0, &a->o.optim.weight_decay);
        } else if (strcmp(s, "--gamma") == 0) {
            ok = parse_float(cmd, s, v, 1e-12f, &a->o.optim.gamma);
        } else if (strcmp(s, "--min-lr") == 0) {
            ok = parse_float(cmd, s, v, 0, &a->o.optim.min_lr);
        } else if (strcmp(s, "--mean") == 0) {
            ok = parse_float(cmd, s, v, -1e30f, &a->mean);
        } else if (strcmp(s, "--std") == 0) {
            ok = parse_float(cmd, s, v, 1e-12f, &a->std);
        } else if (strcmp(s, "--optim") == 0) {
            ok = pick(cmd, s, v, (const char *const[]){"sgd", "adam", "adamw"}, 3, &k);
            a->o.optim.kind = (eai_optim_kind_t)k;
        } else if (strcmp(s, "--sched") == 0) {
            ok = pick(cmd, s, v, (const char *const[]){"const", "step", "cosine", "exp"}, 4, &k);
            a->o.optim.sched = (eai_lr_sched_t)k;
        } else if (strcmp(s, "--loss") == 0) {
            ok = pick(cmd, s, v, (const char *const[]){"xent", "mse"}, 2, &k);
            a->o.loss = (eai_loss_t)k;
        } else if (strcmp(s, "--freeze") == 0) {
            if (a->n_frozen == MAX_FROZEN)
                return cli_fail_usage(cmd, "at most %d --freeze options", MAX_FROZEN);
            a->frozen[a->n_frozen++] = v;
        } else {
            takes = false;
            if (strcmp(s, "--nesterov") == 0)
                a->o.optim.nesterov = true;
            else if (strcmp(s, "--no-shuffle") == 0)
                a->no_shuffle = true;
            else if (strcmp(s, "--quiet") == 0 || strcmp(s, "-q") == 0)
                a->quiet = true;
            else if (s[0] == '-')
                return cli_fail_usage(cmd, "unknown option '%s' (see --help)", s);
            else if (a->model)
                return cli_fail_usage(cmd, "more than one model: '%s' and '%s'", a->model, s);
            else
                a->model = s;
        }
        if (!ok) return 2;
        if (takes) {
            if (!v) return cli_fail_usage(cmd, "%s needs a value", s);
            i++;
        }
    }
    if (!a->model) return cli_fail_usage(cmd, "no model given (see --help)");
    if (!a->data) return cli_fail_usage(cmd, "--data SPEC is required");
    if (!a->out) return cli_fail_usage(cmd, "-o OUT.onnx is required");
    if (a->o.optim.nesterov && a->o.optim.momentum <= 0)
        return cli_fail_usage(cmd, "--nesterov needs --momentum > 0");
    if (a->o.optim.momentum >= 1) return cli_fail_usage(cmd, "--momentum must be below 1");
    if (a->o.optim.sched == EAI_LR_STEP && !a->step_size)
        return cli_fail_usage(cmd, "--sched step needs --step-size N (optimizer steps)");
    a->o.batch = (int)a->batch;
    a->o.threads = (int)a->threads;
    a->o.seed = a->seed;
    a->o.frozen = a->frozen;
    a->o.n_frozen = a->n_frozen;
    a->o.optim.warmup_steps = a->warmup;
    a->o.optim.step_size = a->step_size;
    return 0;
}

typedef struct epoch_row {
    double loss, acc, test_loss, test_acc, seconds, samples_per_s;
} epoch_row_t;

static bool write_json(const train_args_t *a, const epoch_row_t *rows, int n, int64_t n_train,
                       int64_t n_test)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", a->model);
    cJSON_AddStringToObject(root, "data", a->data);
    if (a->test) cJSON_AddStringToObject(root, "test", a->test);
    cJSON_AddStringToObject(root, "output", a->out);
    cJSON_AddNumberToObject(root, "samples", (double)n_train);
    if (a->test) cJSON_AddNumberToObject(root, "test_samples", (double)n_test);
    cJSON_AddNumberToObject(root, "batch", (double)a->batch);
    cJSON_AddNumberToObject(root, "lr", a->o.optim.lr);
    cJSON_AddNumberToObject(root, "threads", (double)a->threads);
    cJSON *arr = cJSON_AddArrayToObject(root, "epochs");
    for (int i = 0; i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "epoch", i + 1);
        cJSON_AddNumberToObject(e, "train_loss", rows[i].loss);
        if (a->o.loss == EAI_LOSS_XENT) cJSON_AddNumberToObject(e, "train_acc", rows[i].acc);
        if (a->test) {
            cJSON_AddNumberToObject(e, "test_loss", rows[i].test_loss);
            if (a->o.loss == EAI_LOSS_XENT)
                cJSON_AddNumberToObject(e, "test_acc", rows[i].test_acc);
        }
        cJSON_AddNumberToObject(e, "seconds", rows[i].seconds);
        cJSON_AddNumberToObject(e, "samples_per_s", rows[i].samples_per_s);
        cJSON_AddItemToArray(arr, e);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return false;
    FILE *f = fopen(a->json, "w");
    bool ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0) ok = false;
    free(text);
    return ok;
}

/* One epoch through the trainer's public API: the batch order is the
 * permutation eai_trainer_fit would use (eai_shuffle_i32 with seed + epoch)
 * unless --no-shuffle. */
static int run_epoch(const train_args_t *a, eai_trainer_t *t, const eai_dataset_t *ds,
                     int32_t *order, int64_t n, float *x, int32_t *y, int e, FILE *log,
                     epoch_row_t *row)
{
    bool tty = !a->quiet && isatty(fileno(stderr));
    int64_t steps = (n + a->batch - 1) / a->batch, seen = 0, correct = 0;
    double sum = 0, t0 = cli_now(), shown = 0;
    if (!a->no_shuffle) eai_shuffle_i32(order, n, a->seed + (uint64_t)e);
    for (int64_t k = 0; k < steps; k++) {
        int b = (int)(n - k * a->batch < a->batch ? n - k * a->batch : a->batch);
        eai_step_result_t r;
        if (eai_dataset_gather(ds, order + k * a->batch, b, x, y) != EAI_OK ||
            eai_trainer_step(t, x, y, b, &r) != EAI_OK) {
            if (tty) fputc('\n', stderr);
            return cli_fail_status("train");
        }
        sum += r.loss * b;
        correct += r.correct;
        seen += b;
        if (log) fprintf(log, "%d,%lld,%d,%.9g\n", e + 1, (long long)(k + 1), b, r.loss);
        double now = cli_now();
        if (tty && (now - shown > 0.1 || k + 1 == steps)) {
            shown = now;
            fprintf(stderr, "\repoch %d/%ld  step %lld/%lld  loss %.4f  acc %.4f  %.0f samples/s ",
                    e + 1, a->epochs, (long long)(k + 1), (long long)steps, sum / seen,
                    (double)correct / seen, seen / (now - t0 + 1e-9));
        }
    }
    if (tty) fputs("\r\033[K", stderr);
    row->seconds = cli_now() - t0;
    row->loss = seen ? sum / seen : 0;
    row->acc = seen ? (double)correct / seen : 0;
    row->samples_per_s = row->seconds > 0 ? seen / row->seconds : 0;
    return 0;
}

int cmd_train(int argc, char **argv)
{
    const char *cmd = argv[0];
    train_args_t a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc;
    eai_dataset_opts_t dopts = {.mean = a.mean, .std = a.std, .max_samples = a.max_samples};
    eai_dataset_t *ds = NULL, *test = NULL;
    eai_trainer_t *t = NULL;
    int32_t *order = NULL, *y = NULL;
    float *x = NULL;
    epoch_row_t *rows = NULL;
    FILE *log = NULL;
    rc = 1;
    if (eai_dataset_load(a.data, &dopts, &ds) != EAI_OK) goto fail_status;
    if (a.test && eai_dataset_load(a.test, &dopts, &test) != EAI_OK) goto fail_status;
    int64_t n = eai_dataset_n(ds);
    if (n < 1) {
        rc = cli_fail_usage(cmd, "%s holds no samples", a.data);
        goto done;
    }
    int64_t steps = (n + a.batch - 1) / a.batch;
    if (a.o.optim.sched == EAI_LR_COSINE && !a.o.optim.total_steps)
        a.o.optim.total_steps = a.epochs * steps; /* cosine over the whole run */
    if (eai_trainer_load(a.model, &a.o, &t) != EAI_OK) goto fail_status;
    /* checks that the samples fit the model's input (and labels its output)
     * before any step reads them: an evaluation of zero samples */
    int32_t none = 0;
    if (eai_trainer_evaluate(t, ds, &none, 0, NULL) != EAI_OK ||
        (test && eai_trainer_evaluate(t, test, &none, 0, NULL) != EAI_OK))
        goto fail_status;
    int64_t numel = eai_dataset_sample_numel(ds);
    order = malloc((size_t)n * sizeof *order);
    x = malloc((size_t)(a.batch * numel) * sizeof *x);
    y = malloc((size_t)a.batch * sizeof *y);
    rows = calloc((size_t)(a.epochs ? a.epochs : 1), sizeof *rows);
    if (!order || !x || !y || !rows) {
        rc = cli_fail_usage(cmd, "out of memory");
        goto done;
    }
    if (a.o.loss == EAI_LOSS_MSE) {
        rc = cli_fail_usage(cmd, "--loss mse needs float targets; data sets carry labels "
                                 "(use the C API, eai_trainer_step)");
        goto done;
    }
    for (int64_t i = 0; i < n; i++)
        order[i] = (int32_t)i;
    if (a.step_log && !(log = fopen(a.step_log, "w"))) {
        rc = cli_fail_usage(cmd, "cannot write %s", a.step_log);
        goto done;
    }
    if (log) fprintf(log, "epoch,step,n,loss\n");
    if (!a.quiet)
        printf("train %s: %lld samples, %lld steps/epoch, batch %ld, %ld thread%s\n", a.model,
               (long long)n, (long long)steps, a.batch, a.threads, a.threads == 1 ? "" : "s");
    for (int e = 0; e < a.epochs; e++) {
        epoch_row_t *r = &rows[e];
        if ((rc = run_epoch(&a, t, ds, order, n, x, y, e, log, r)) != 0) goto done;
        rc = 1;
        eai_train_stats_t ts = {0};
        if (test && eai_trainer_evaluate(t, test, NULL, 0, &ts) != EAI_OK) goto fail_status;
        r->test_loss = ts.loss;
        r->test_acc = ts.accuracy;
        if (!a.quiet) {
            printf("epoch %d/%ld  train loss %.4f acc %.4f", e + 1, a.epochs, r->loss, r->acc);
            if (test) printf("  test loss %.4f acc %.4f", r->test_loss, r->test_acc);
            printf("  %.1f s  %.0f samples/s\n", r->seconds, r->samples_per_s);
            fflush(stdout);
        }
    }
    if (eai_trainer_save_onnx(t, a.out) != EAI_OK) goto fail_status;
    if (a.json && !write_json(&a, rows, (int)a.epochs, n, test ? eai_dataset_n(test) : 0)) {
        rc = cli_fail_usage(cmd, "cannot write %s", a.json);
        goto done;
    }
    if (!a.quiet) printf("wrote %s\n", a.out);
    rc = 0;
    goto done;
fail_status:
    rc = cli_fail_status(cmd);
done:
    if (log && fclose(log) != 0 && rc == 0) rc = cli_fail_usage(cmd, "cannot write %s", a.step_log);
    free(rows);
    free(order);
    free(x);
    free(y);
    eai_trainer_destroy(t);
    eai_dataset_destroy(test);
    eai_dataset_destroy(ds);
    return rc;
}
