/* `edgeai calibrate MODEL --data SPEC [--max N] [-o FILE]`: runs the model on
 * a seeded random subset of a labelled data set, fits the softmax
 * temperature (edgeai/router.h), prints the expected calibration error
 * before and after, and writes MODEL.calib.json for `edgeai route`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "edgeai/router.h"

typedef struct cal_args {
    const char *model, *data, *out, *backend;
    long max, seed;
    float mean, std;
} cal_args_t;

static void usage(void)
{
    printf("usage: edgeai calibrate MODEL --data SPEC [--max N] [--seed S] [--mean M] [--std S]\n"
           "                        [--backend NAME] [-o FILE]\n\n"
           "Fits the temperature T of softmax(logits / T) on N samples (default 5000) drawn\n"
           "at random (seed S) from SPEC; use a split the model was not trained on.\n"
           "Prints NLL and ECE (15 bins) before and after and writes FILE (default\n"
           "MODEL without extension + .calib.json).\n");
}

static int parse(int argc, char **argv, cal_args_t *a)
{
    *a = (cal_args_t){.max = 5000, .seed = 1, .std = 1};
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--help") == 0) {
            usage();
            return -1;
        }
        if (o[0] != '-') {
            if (a->model) return cli_fail_usage(argv[0], "one MODEL only ('%s')", o);
            a->model = o;
            continue;
        }
        if (!v) return cli_fail_usage(argv[0], "%s needs a value", o);
        i++;
        if (strcmp(o, "--data") == 0) {
            a->data = v;
        } else if (strcmp(o, "-o") == 0 || strcmp(o, "--output") == 0) {
            a->out = v;
        } else if (strcmp(o, "--backend") == 0) {
            a->backend = v;
        } else if (strcmp(o, "--max") == 0) {
            if (!cli_parse_int(argv[0], o, v, 2, 100000000, &a->max)) return 2;
        } else if (strcmp(o, "--seed") == 0) {
            if (!cli_parse_int(argv[0], o, v, 0, 0x7fffffff, &a->seed)) return 2;
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
    if (!a->model) return cli_fail_usage(argv[0], "missing MODEL");
    if (!a->data) return cli_fail_usage(argv[0], "missing --data SPEC");
    return 0;
}

/* MODEL.onnx -> MODEL.calib.json (extension after the last '/' dropped). */
static char *default_out(const char *model)
{
    size_t n = strlen(model);
    const char *slash = strrchr(model, '/'), *dot = strrchr(model, '.');
    if (dot && (!slash || dot > slash + 1)) n = (size_t)(dot - model);
    char *s = malloc(n + 12);
    if (s) snprintf(s, n + 12, "%.*s.calib.json", (int)n, model);
    return s;
}

/* Logits of samples idx[0..n) into logits (n * k). */
static eai_status_t run_model(const cal_args_t *a, eai_dataset_t *ds, const int32_t *idx, int64_t n,
                              float **logits, int *k)
{
    eai_model_t *m = NULL;
    eai_session_t *s = NULL;
    eai_session_opts_t so = {.backend = a->backend};
    EAI_TRY(eai_model_load(a->model, NULL, &m));
    eai_status_t st = eai_session_create(m, &so, &s);
    eai_tensor_info_t ii, oi;
    if (st == EAI_OK) st = eai_session_input_info(s, 0, &ii);
    if (st == EAI_OK) st = eai_session_output_info(s, 0, &oi);
    if (st == EAI_OK && eai_tensor_info_numel(&ii) != eai_dataset_sample_numel(ds))
        st = eai_fail(EAI_E_INVALID, "model input '%s' takes %lld floats, a sample has %lld",
                      ii.name, (long long)eai_tensor_info_numel(&ii),
                      (long long)eai_dataset_sample_numel(ds));
    if (st == EAI_OK && (oi.dtype != EAI_F32 || eai_tensor_info_numel(&oi) < 2))
        st = eai_fail(EAI_E_INVALID, "model output '%s' is not float32 logits", oi.name);
    if (st == EAI_OK) {
        *k = (int)eai_tensor_info_numel(&oi);
        *logits = malloc((size_t)n * (size_t)*k * sizeof(float));
        if (!*logits) st = eai_fail(EAI_E_NOMEM, "out of memory");
    }
    size_t in_bytes = (size_t)eai_dataset_sample_numel(ds) * sizeof(float);
    for (int64_t i = 0; st == EAI_OK && i < n; i++) {
        const float *out;
        st = eai_session_set_input(s, 0, eai_dataset_x(ds, idx[i]), in_bytes);
        if (st == EAI_OK) st = eai_session_invoke(s);
        if (st == EAI_OK) st = eai_session_get_output(s, 0, (const void **)&out, NULL);
        if (st == EAI_OK) memcpy(*logits + i * *k, out, (size_t)*k * sizeof(float));
    }
    eai_session_destroy(s);
    eai_model_destroy(m);
    return st;
}

int cmd_calibrate(int argc, char **argv)
{
    cal_args_t a;
    int rc = parse(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc;
    eai_dataset_opts_t dopts = {.mean = a.mean, .std = a.std};
    eai_dataset_t *ds = NULL;
    if (eai_dataset_load(a.data, &dopts, &ds) != EAI_OK) return cli_fail_status(argv[0]);
    int64_t n_all = eai_dataset_n(ds), n = a.max < n_all ? a.max : n_all;
    int32_t *idx = malloc((size_t)n_all * sizeof(int32_t));
    int32_t *y = malloc((size_t)n * sizeof(int32_t));
    float *logits = NULL;
    char *out = a.out ? NULL : default_out(a.model);
    int k = 0;
    eai_status_t st = idx && y && (a.out || out) ? EAI_OK : eai_fail(EAI_E_NOMEM, "out of memory");
    if (st == EAI_OK) {
        for (int64_t i = 0; i < n_all; i++)
            idx[i] = (int32_t)i;
        eai_shuffle_i32(idx, n_all, (uint64_t)a.seed);
        for (int64_t i = 0; i < n; i++)
            y[i] = eai_dataset_labels(ds)[idx[i]];
        st = run_model(&a, ds, idx, n, &logits, &k);
    }
    float t = 1, ece0 = 0, ece1 = 0;
    double nll0 = 0, nll1 = 0;
    int64_t correct = 0;
    if (st == EAI_OK) st = eai_calib_fit_temperature(logits, y, n, k, &t);
    if (st == EAI_OK) st = eai_calib_ece(logits, y, n, k, 1.0f, 15, &ece0);
    if (st == EAI_OK) st = eai_calib_ece(logits, y, n, k, t, 15, &ece1);
    if (st == EAI_OK) st = eai_calib_nll(logits, y, n, k, 1.0f, &nll0);
    if (st == EAI_OK) st = eai_calib_nll(logits, y, n, k, t, &nll1);
    if (st == EAI_OK) st = eai_calib_save(a.out ? a.out : out, t, ece0, ece1, n);
    if (st == EAI_OK) {
        for (int64_t i = 0; i < n; i++) {
            int am = 0;
            for (int j = 1; j < k; j++)
                if (logits[i * k + j] > logits[i * k + am]) am = j;
            correct += am == y[i];
        }
        printf("samples      %lld of %lld (seed %ld)\n", (long long)n, (long long)n_all, a.seed);
        printf("accuracy     %.4f\n", (double)correct / (double)n);
        printf("temperature  %.4f\n", (double)t);
        printf("nll          %.4f -> %.4f\n", nll0, nll1);
        printf("ece (15 bins) %.4f -> %.4f\n", (double)ece0, (double)ece1);
        printf("wrote        %s\n", a.out ? a.out : out);
    }
    free(idx);
    free(y);
    free(logits);
    free(out);
    eai_dataset_destroy(ds);
    return st == EAI_OK ? 0 : cli_fail_status(argv[0]);
}
