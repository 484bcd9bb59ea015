/* Image folders in torchvision's ImageFolder layout: DIR/<class>/<image>.png|jpg.
 * Classes are the sub-folders sorted by name (byte order, so label numbers do
 * not depend on the locale); images within a class are sorted too, so the
 * sample order is the same on every machine. Each image is resized (bilinear,
 * eai_image_to_tensor) and stored CHW, one or three channels. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "data/data_impl.h"
#include "edgeai/image.h"

/* A growable list of owned strings. */
typedef struct names {
    char **v;
    size_t n, cap;
    const eai_allocator_t *a;
} names_t;

static void names_free(names_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        eai__free(l->a, l->v[i]);
    eai__free(l->a, l->v);
    memset(l, 0, sizeof *l);
}

static eai_status_t names_push(names_t *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        char **v = eai__realloc(l->a, l->v, cap * sizeof *v);
        if (!v) return eai_fail(EAI_E_NOMEM, "folder: out of memory listing files");
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n] = eai__strdup(l->a, s)))
        return eai_fail(EAI_E_NOMEM, "folder: out of memory listing files");
    l->n++;
    return EAI_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_image(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot &&
           (!strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"));
}

/* Names in `dir` (not starting with '.') that are folders (want_dirs) or image
 * files, sorted. */
static eai_status_t list_dir(const char *dir, bool want_dirs, names_t *out)
{
    DIR *d = opendir(dir);
    if (!d) return eai_fail(EAI_E_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    struct dirent *e;
    char p[4096];
    eai_status_t st = EAI_OK;
    while (st == EAI_OK && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p) continue;
        struct stat sb;
        if (stat(p, &sb) != 0) continue;
        bool ok = want_dirs ? S_ISDIR(sb.st_mode) : (S_ISREG(sb.st_mode) && is_image(e->d_name));
        if (ok) st = names_push(out, e->d_name);
    }
    closedir(d);
    if (st == EAI_OK && out->n) qsort(out->v, out->n, sizeof *out->v, cmp_str);
    return st;
}

/* Decodes `path` into dst (C x H x W), gray or RGB, scaled by o. */
static eai_status_t load_one(const char *path, const eai_dataset_opts_t *o, int h, int w, bool gray,
                             float *rgb, float *dst)
{
    eai_image_t img;
    EAI_TRY(eai_image_load(path, &img));
    float s = o->std == 0.0f ? 1.0f : o->std;
    float mean[3] = {o->mean, o->mean, o->mean}, std[3] = {s, s, s};
    eai_status_t st = eai_image_to_tensor(&img, h, w, gray ? NULL : mean, gray ? NULL : std,
                                          EAI_LAYOUT_NCHW, gray ? rgb : dst);
    eai_image_free(&img);
    if (st != EAI_OK || !gray) return st;
    /* ITU-R BT.601 luma, the weights PIL's convert("L") uses. */
    size_t hw = (size_t)h * (size_t)w;
    for (size_t i = 0; i < hw; i++) {
        float g = 0.299f * rgb[i] + 0.587f * rgb[hw + i] + 0.114f * rgb[2 * hw + i];
        dst[i] = eai__pixel_scale(o, g);
    }
    return EAI_OK;
}

eai_status_t eai__folder_load(const char *dir, const eai_dataset_opts_t *o, const char *spec,
                              eai_dataset_t **out)
{
    const eai_allocator_t *a = &o->alloc;
    names_t classes = {.a = a}, files = {.a = a}, sub = {.a = a};
    int32_t *labels = NULL;
    float *rgb = NULL;
    eai_dataset_t *ds = NULL;
    char p[4096];
    eai_status_t st = list_dir(dir, true, &classes);
    if (st == EAI_OK && classes.n == 0)
        st = eai_fail(EAI_E_FORMAT, "%s: no class folders (expected DIR/<class>/<image>.png)", dir);
    /* Every image path with its class, in order. */
    size_t lab_cap = 0;
    for (size_t c = 0; st == EAI_OK && c < classes.n; c++) {
        snprintf(p, sizeof p, "%s/%s", dir, classes.v[c]);
        st = list_dir(p, false, &sub);
        for (size_t i = 0; st == EAI_OK && i < sub.n; i++) {
            char fp[4096];
            if (snprintf(fp, sizeof fp, "%s/%s", p, sub.v[i]) >= (int)sizeof fp) {
                st = eai_fail(EAI_E_INVALID, "%s: path too long", p);
                break;
            }
            if (files.n == lab_cap) {
                lab_cap = lab_cap ? 2 * lab_cap : 64;
                int32_t *l = eai__realloc(a, labels, lab_cap * sizeof *l);
                if (!l) {
                    st = eai_fail(EAI_E_NOMEM, "%s: out of memory", dir);
                    break;
                }
                labels = l;
            }
            labels[files.n] = (int32_t)c;
            st = names_push(&files, fp);
        }
        names_free(&sub);
        sub.a = a;
    }
    if (st == EAI_OK && files.n == 0)
        st = eai_fail(EAI_E_FORMAT, "%s: no .png or .jpg images under its class folders", dir);
    int h = o->height, w = o->width;
    if (st == EAI_OK && (h == 0 || w == 0)) { /* first image's size */
        eai_image_t img;
        st = eai_image_load(files.v[0], &img);
        if (st == EAI_OK) {
            if (h == 0) h = img.height;
            if (w == 0) w = img.width;
            eai_image_free(&img);
        }
    }
    int ch = o->grayscale ? 1 : 3;
    int64_t n = (int64_t)files.n;
    if (o->max_samples > 0 && o->max_samples < n) n = o->max_samples;
    if (st == EAI_OK) {
        int64_t dims[3] = {ch, h, w};
        st = eai__dataset_new(a, spec, n, 3, dims, &ds);
    }
    if (st == EAI_OK && o->grayscale) {
        rgb = eai__alloc(a, (size_t)3 * (size_t)h * (size_t)w * sizeof(float));
        if (!rgb) st = eai_fail(EAI_E_NOMEM, "%s: out of memory", dir);
    }
    for (int64_t i = 0; st == EAI_OK && i < n; i++) {
        st = load_one(files.v[i], o, h, w, o->grayscale, rgb, ds->x + i * ds->numel);
        ds->y[i] = labels[i];
    }
    eai__free(a, rgb);
    eai__free(a, labels);
    names_free(&files);
    int n_classes = (int)classes.n;
    names_free(&classes);
    if (st != EAI_OK) {
        eai_dataset_destroy(ds);
        return st;
    }
    ds->n_classes = n_classes;
    *out = ds;
    return EAI_OK;
}
