/* `edgeai run MODEL -i [NAME=]FILE.npy ... -o OUTDIR`: one inference; each
 * output is written as OUTDIR/<output name>.npy. `--image` feeds a JPEG/PNG
 * (resized and normalised) to the first input; `--top K` prints the K largest
 * values of the first output with optional labels. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#define MAX_INPUTS 16

typedef struct run_opts {
    const char *path, *outdir, *image, *labels, *backend;
    const char *in_name[MAX_INPUTS], *in_file[MAX_INPUTS];
    int n_in;
    int size_h, size_w;
    float mean[3], std[3];
    bool nhwc, gray;
    long top, threads, batch;
} run_opts_t;

static void usage(void)
{
    printf("usage: edgeai run MODEL [-i [NAME=]FILE.npy ...] [-o OUTDIR]\n"
           "                  [--image FILE --size HxW [--mean a,b,c] [--std a,b,c] [--nhwc] "
           "[--gray]]\n"
           "                  [--top K [--labels FILE]] [--threads N] [--batch N]\n\n"
           "Inputs are matched by NAME, else in order. --image feeds the first input\n"
           "(pixels scaled to [0,1], then (v - mean) / std; --gray averages RGB into one\n"
           "channel normalised with the first mean/std). Outputs are written as\n"
           "OUTDIR/<output name>.npy; --top prints the K best scores of output 0.\n");
}

static int parse_args(int argc, char **argv, run_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->std[0] = o->std[1] = o->std[2] = 1.0f;
    o->threads = 1;
    o->batch = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0) {
            usage();
            return -1;
        } else if (strcmp(a, "-i") == 0 || strcmp(a, "--input") == 0) {
            if (!val) return cli_fail_usage("run", "%s needs [NAME=]FILE.npy", a);
            if (o->n_in == MAX_INPUTS)
                return cli_fail_usage("run", "at most %d inputs", MAX_INPUTS);
            const char *eq = strchr(val, '=');
            o->in_name[o->n_in] = NULL;
            o->in_file[o->n_in] = val;
            if (eq) {
                char *name = strndup(val, (size_t)(eq - val));
                if (!name) return cli_fail_usage("run", "out of memory");
                o->in_name[o->n_in] = name;
                o->in_file[o->n_in] = eq + 1;
            }
            o->n_in++;
            i++;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--out") == 0) {
            if (!val) return cli_fail_usage("run", "%s needs a folder", a);
            o->outdir = val;
            i++;
        } else if (strcmp(a, "--image") == 0) {
            if (!val) return cli_fail_usage("run", "--image needs a file");
            o->image = val;
            i++;
        } else if (strcmp(a, "--size") == 0) {
            if (!val || sscanf(val, "%dx%d", &o->size_h, &o->size_w) != 2 || o->size_h <= 0 ||
                o->size_w <= 0 || o->size_h > 16384 || o->size_w > 16384)
                return cli_fail_usage("run", "--size takes HxW, e.g. 224x224");
            i++;
        } else if (strcmp(a, "--mean") == 0 || strcmp(a, "--std") == 0) {
            if (!val || !cli_parse_floats(val, a[2] == 'm' ? o->mean : o->std, 3))
                return cli_fail_usage("run", "%s takes three numbers a,b,c", a);
            i++;
        } else if (strcmp(a, "--nhwc") == 0) {
            o->nhwc = true;
        } else if (strcmp(a, "--gray") == 0) {
            o->gray = true;
        } else if (strcmp(a, "--top") == 0) {
            if (!cli_parse_int("run", a, val, 1, 1000, &o->top)) return 2;
            i++;
        } else if (strcmp(a, "--labels") == 0) {
            if (!val) return cli_fail_usage("run", "--labels needs a file");
            o->labels = val;
            i++;
        } else if (strcmp(a, "--threads") == 0) {
            if (!cli_parse_int("run", a, val, 1, 256, &o->threads)) return 2;
            i++;
        } else if (strcmp(a, "--batch") == 0) {
            if (!cli_parse_int("run", a, val, 1, 1 << 20, &o->batch)) return 2;
            i++;
        } else if (strcmp(a, "--backend") == 0) {
            if (!val) return cli_fail_usage("run", "--backend needs a name");
            o->backend = val;
            i++;
        } else if (a[0] == '-') {
            return cli_fail_usage("run", "unknown option '%s'", a);
        } else if (o->path) {
            return cli_fail_usage("run", "one model at a time ('%s' and '%s')", o->path, a);
        } else {
            o->path = a;
        }
    }
    if (!o->path) return cli_fail_usage("run", "usage: edgeai run MODEL [-i FILE.npy] [-o OUTDIR]");
    if (!o->outdir && !o->top)
        return cli_fail_usage("run", "give -o OUTDIR (to write outputs) or --top K");
    if (o->image && o->size_h == 0) return cli_fail_usage("run", "--image needs --size HxW");
    return 0;
}

/* Output names may hold '/' or ':': keep file names inside OUTDIR. */
static void safe_name(const char *name, char *buf, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; name[i] && j + 1 < n; i++) {
        char c = name[i];
        buf[j++] = (c == '/' || c == '\\' || c == ':' || (unsigned char)c < 32) ? '_' : c;
    }
    buf[j] = '\0';
    if (j == 0 || strcmp(buf, ".") == 0 || strcmp(buf, "..") == 0) snprintf(buf, n, "output");
}

static int set_inputs(eai_session_t *s, const run_opts_t *o)
{
    int next = 0;
    if (o->image) {
        eai_tensor_info_t t;
        if (eai_session_n_inputs(s) < 1)
            return eai_fail(EAI_E_INVALID, "--image: the model has no inputs"), 1;
        eai_session_input_info(s, 0, &t);
        int chans = o->gray ? 1 : 3;
        int64_t want = (int64_t)o->size_h * o->size_w * chans;
        if (t.dtype != EAI_F32 || eai_tensor_info_numel(&t) != want)
            return eai_fail(EAI_E_INVALID,
                            "--image: input '%s' is %s with %lld elements; a %dx%d %s image "
                            "gives %lld floats",
                            t.name, eai_dtype_name(t.dtype), (long long)eai_tensor_info_numel(&t),
                            o->size_h, o->size_w, o->gray ? "gray" : "RGB", (long long)want),
                   1;
        eai_image_t img;
        if (eai_image_load(o->image, &img) != EAI_OK) return 1;
        size_t plane = (size_t)o->size_h * (size_t)o->size_w;
        float *buf = malloc(plane * 3 * sizeof(float));
        eai_status_t st = EAI_OK;
        if (!buf)
            st = eai_fail(EAI_E_NOMEM, "out of memory");
        else if (o->gray) {
            /* one plane: mean of R, G, B in [0,1], then the first mean/std */
            st = eai_image_to_tensor(&img, o->size_h, o->size_w, NULL, NULL, EAI_LAYOUT_NCHW, buf);
            for (size_t i = 0; i < plane; i++)
                buf[i] = ((buf[i] + buf[plane + i] + buf[2 * plane + i]) / 3.0f - o->mean[0]) /
                         o->std[0];
        } else {
            st = eai_image_to_tensor(&img, o->size_h, o->size_w, o->mean, o->std,
                                     o->nhwc ? EAI_LAYOUT_NHWC : EAI_LAYOUT_NCHW, buf);
        }
        eai_image_free(&img);
        if (st == EAI_OK) st = eai_session_set_input(s, 0, buf, (size_t)want * sizeof(float));
        free(buf);
        if (st != EAI_OK) return 1;
        next = 1;
    }
    for (int k = 0; k < o->n_in; k++) {
        int idx = o->in_name[k] ? eai_session_input_index(s, o->in_name[k]) : next++;
        if (idx < 0 || idx >= eai_session_n_inputs(s))
            return eai_fail(EAI_E_INVALID, "%s: the model has no input %s%s", o->in_file[k],
                            o->in_name[k] ? "named " : "number ",
                            o->in_name[k] ? o->in_name[k] : "(too many -i)"),
                   1;
        eai_npy_t a;
        if (eai_npy_read(o->in_file[k], &a) != EAI_OK) return 1;
        eai_tensor_info_t t;
        eai_session_input_info(s, idx, &t);
        if (cli_npy_fits(o->in_file[k], &a, &t, " (use --batch for a symbolic batch)") != EAI_OK) {
            eai_npy_free(&a);
            return 1;
        }
        eai_status_t st = eai_session_set_input(s, idx, a.data, a.n_bytes);
        eai_npy_free(&a);
        if (st != EAI_OK) return 1;
    }
    return 0;
}

static void print_top(const eai_session_t *s, const run_opts_t *o)
{
    const void *data;
    eai_tensor_info_t t;
    eai_session_get_output(s, 0, &data, &t);
    if (t.dtype != EAI_F32) return;
    const float *v = data;
    if (t.rank > 1 && t.dims[0] == 0) return; /* empty batch: nothing to rank */
    int64_t n = eai_tensor_info_numel(&t) / (t.rank > 1 ? t.dims[0] : 1); /* first batch row */
    char **labels = NULL;
    int n_labels = 0;
    FILE *f = o->labels ? fopen(o->labels, "r") : NULL;
    if (o->labels && !f)
        fprintf(stderr, "edgeai run: %s: cannot open labels: %s\n", o->labels, strerror(errno));
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\r\n")] = '\0';
            char **nl = realloc(labels, (size_t)(n_labels + 1) * sizeof *nl);
            if (!nl) break;
            labels = nl;
            labels[n_labels++] = strdup(line);
        }
        fclose(f);
    }
    bool *used = calloc((size_t)n, 1);
    for (long k = 0; k < o->top && k < n && used; k++) {
        int64_t best = -1;
        for (int64_t i = 0; i < n; i++)
            if (!used[i] && (best < 0 || v[i] > v[best])) best = i;
        used[best] = true;
        printf("  #%ld  class %-5lld score %9.4f  %s\n", k + 1, (long long)best, v[best],
               best < n_labels ? labels[best] : "");
    }
    free(used);
    for (int i = 0; i < n_labels; i++)
        free(labels[i]);
    free(labels);
}

int cmd_run(int argc, char **argv)
{
    run_opts_t o;
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    eai_model_t *m = NULL;
    eai_session_t *s = NULL;
    eai_threadpool_t *pool = NULL;
    rc = 1;
    if (eai_model_load(o.path, NULL, &m) != EAI_OK) goto done;
    if (o.threads > 1 && eai_threadpool_create((int)o.threads, &pool) != EAI_OK) goto done;
    eai_session_opts_t so = {.backend = o.backend, .pool = pool, .batch = o.batch};
    if (eai_session_create(m, &so, &s) != EAI_OK) goto done;
    if (set_inputs(s, &o) != 0) goto done;
    double t0 = cli_now();
    if (eai_session_invoke(s) != EAI_OK) goto done;
    double ms = (cli_now() - t0) * 1e3;
    if (o.outdir) {
        if (mkdir(o.outdir, 0777) != 0 && errno != EEXIST) {
            eai_fail(EAI_E_IO, "%s: cannot create folder: %s", o.outdir, strerror(errno));
            goto done;
        }
        for (int i = 0; i < eai_session_n_outputs(s); i++) {
            const void *data;
            eai_tensor_info_t t;
            eai_session_get_output(s, i, &data, &t);
            char name[256], path[4096];
            safe_name(t.name, name, sizeof name);
            snprintf(path, sizeof path, "%s/%s.npy", o.outdir, name);
            if (eai_npy_write(path, t.dtype, t.rank, t.dims, data) != EAI_OK) goto done;
            char dims[128];
            cli_format_dims(&t, dims, sizeof dims);
            printf("wrote %s (%s %s)\n", path, eai_dtype_name(t.dtype), dims);
        }
    }
    if (o.top) print_top(s, &o);
    printf("latency %.3f ms (one invoke, %ld thread%s, backend %s)\n", ms, o.threads,
           o.threads > 1 ? "s" : "", eai_session_backend(s));
    rc = 0;
done:
    if (rc) cli_fail_status("run");
    for (int k = 0; k < o.n_in; k++)
        free((char *)o.in_name[k]);
    eai_session_destroy(s);
    eai_threadpool_destroy(pool);
    eai_model_destroy(m);
    return rc;
}
