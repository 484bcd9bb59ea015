/* Input sets for calibration and the accuracy report: a folder or a list
 * file of .npy / image files (or one such file), shaped and typed for the
 * model's inputs; or reproducible random samples.
 *
 * A .npy holds one sample, or N samples stacked on a leading axis
 * ([N, ...] where the model takes [1, ...]). A uint8 .npy for a float input
 * holds raw pixels, normalised like an image ((v / 255 - mean) / std), so a
 * calibration set can be stored four times smaller than as floats.
 */
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "edgeai/image.h"
#include "edgeai/npy.h"
#include "quant/quant_impl.h"

typedef struct target {
    eai_tensor_info_t info[8];
    int64_t numel[8];
    int n_inputs;
    /* image geometry of input 0 (when it is rank 4 with 1 or 3 channels) */
    int h, w, ch;
    eai_layout_t layout;
    float mean[3], std[3];
} target_t;

static bool has_ext(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    if (n < e) return false;
    for (size_t i = 0; i < e; i++)
        if (tolower((unsigned char)path[n - e + i]) != ext[i]) return false;
    return true;
}

static bool is_image(const char *p)
{
    return has_ext(p, ".png") || has_ext(p, ".jpg") || has_ext(p, ".jpeg") || has_ext(p, ".bmp") ||
           has_ext(p, ".ppm");
}

static eai_status_t target_init(const eai_model_t *m, const eai_build_opts_t *o, target_t *t)
{
    memset(t, 0, sizeof *t);
    t->n_inputs = eai_model_n_inputs(m);
    if (t->n_inputs < 1 || t->n_inputs > 8)
        return eai_fail(EAI_E_UNSUPPORTED, "%s: input sets need a model with 1 to 8 inputs (%d)",
                        m->g.label, t->n_inputs);
    for (int i = 0; i < t->n_inputs; i++) {
        EAI_TRY(eai_model_input_info(m, i, &t->info[i]));
        eai_tensor_info_t *ti = &t->info[i];
        for (int d = 0; d < ti->rank; d++)
            if (ti->dims[d] < 1) ti->dims[d] = 1; /* symbolic dims (batch) bind to 1 */
        t->numel[i] = eai_tensor_info_numel(ti);
        if (eai_dtype_size(ti->dtype) == 0)
            return eai_fail(EAI_E_UNSUPPORTED, "%s: input '%s' has dtype %s", m->g.label, ti->name,
                            eai_dtype_name(ti->dtype));
    }
    const eai_tensor_info_t *x = &t->info[0];
    if (x->rank == 4 && (x->dims[1] == 1 || x->dims[1] == 3)) {
        t->layout = EAI_LAYOUT_NCHW;
        t->ch = (int)x->dims[1], t->h = (int)x->dims[2], t->w = (int)x->dims[3];
    } else if (x->rank == 4 && (x->dims[3] == 1 || x->dims[3] == 3)) {
        t->layout = EAI_LAYOUT_NHWC;
        t->ch = (int)x->dims[3], t->h = (int)x->dims[1], t->w = (int)x->dims[2];
    }
    for (int c = 0; c < 3; c++) {
        t->mean[c] = o ? o->mean[c] : 0.0f;
        t->std[c] = o && o->std[c] != 0.0f ? o->std[c] : 1.0f;
    }
    return EAI_OK;
}

static eai_status_t set_init(eai__inputset_t *s, int n_inputs)
{
    memset(s, 0, sizeof *s);
    s->n_inputs = n_inputs;
    s->bytes = eai__calloc(&s->alloc, (size_t)n_inputs, sizeof(size_t));
    return s->bytes ? EAI_OK : eai_fail(EAI_E_NOMEM, "input set: out of memory");
}

/* Appends one sample: n_inputs fresh aligned buffers whose pointers land in
 * *bufs. `source` is copied. */
static eai_status_t set_push(eai__inputset_t *s, const target_t *t, const char *source, void **bufs)
{
    void **d =
        eai__realloc(&s->alloc, s->data, (size_t)(s->n + 1) * (size_t)s->n_inputs * sizeof *d);
    if (!d) return eai_fail(EAI_E_NOMEM, "input set: out of memory");
    s->data = d;
    char **src = eai__realloc(&s->alloc, s->source, (size_t)(s->n + 1) * sizeof *src);
    if (!src) return eai_fail(EAI_E_NOMEM, "input set: out of memory");
    s->source = src;
    src[s->n] = eai__strdup(&s->alloc, source);
    bool ok = src[s->n] != NULL;
    for (int i = 0; i < s->n_inputs; i++) {
        s->bytes[i] = (size_t)t->numel[i] * eai_dtype_size(t->info[i].dtype);
        d[s->n * s->n_inputs + i] = ok ? eai__alloc_aligned(&s->alloc, s->bytes[i] + 1) : NULL;
        ok &= d[s->n * s->n_inputs + i] != NULL;
        bufs[i] = d[s->n * s->n_inputs + i];
    }
    s->n++; /* counted even when partial, so eai__inputset_free releases it */
    return ok ? EAI_OK : eai_fail(EAI_E_NOMEM, "input set: out of memory");
}

void eai__inputset_free(eai__inputset_t *s)
{
    if (!s) return;
    for (int k = 0; s->data && k < s->n * s->n_inputs; k++)
        eai__free_aligned(&s->alloc, s->data[k]);
    for (int k = 0; s->source && k < s->n; k++)
        eai__free(&s->alloc, s->source[k]);
    eai__free(&s->alloc, s->data);
    eai__free(&s->alloc, s->source);
    eai__free(&s->alloc, s->bytes);
    memset(s, 0, sizeof *s);
}

/* Channel of element i of input 0 (for per-channel mean/std). */
static int chan_of(const target_t *t, int64_t i)
{
    if (t->ch != 3) return 0;
    return t->layout == EAI_LAYOUT_NCHW ? (int)(i / ((int64_t)t->h * t->w) % 3) : (int)(i % 3);
}

/* Samples from one .npy: converted to the input's dtype (float from
 * float16/float64, raw uint8 pixels normalised). */
static eai_status_t load_npy(eai__inputset_t *s, const target_t *t, const char *path, int max)
{
    if (t->n_inputs != 1)
        return eai_fail(EAI_E_UNSUPPORTED,
                        "%s: .npy input sets need a single-input model (this one has %d)", path,
                        t->n_inputs);
    eai_npy_t a;
    EAI_TRY(eai_npy_read(path, &a));
    const eai_tensor_info_t *ti = &t->info[0];
    int64_t numel = 1;
    for (int d = 0; d < a.rank; d++)
        numel *= a.dims[d];
    const int64_t per = t->numel[0];
    eai_status_t st = EAI_OK;
    const bool pixels = ti->dtype == EAI_F32 && a.dtype == EAI_U8;
    const bool conv = ti->dtype == EAI_F32 && (a.dtype == EAI_F16 || a.dtype == EAI_F64);
    if (a.dtype != ti->dtype && !pixels && !conv)
        st = eai_fail(EAI_E_FORMAT, "%s: %s data for input '%s' of type %s", path,
                      eai_dtype_name(a.dtype), ti->name, eai_dtype_name(ti->dtype));
    else if (per == 0 || numel % per != 0 || (numel != per && a.dims[0] != numel / per))
        st = eai_fail(EAI_E_FORMAT,
                      "%s: %lld elements; input '%s' takes %lld per sample (one sample, or "
                      "N stacked on the first axis)",
                      path, (long long)numel, ti->name, (long long)per);
    const int64_t n = per ? numel / per : 0;
    char label[1100];
    for (int64_t k = 0; k < n && st == EAI_OK && (max <= 0 || s->n < max); k++) {
        void *buf;
        if (n > 1)
            snprintf(label, sizeof label, "%s[%lld]", path, (long long)k);
        else
            snprintf(label, sizeof label, "%s", path);
        st = set_push(s, t, label, &buf);
        if (st != EAI_OK) break;
        if (pixels) {
            const uint8_t *p = (const uint8_t *)a.data + k * per;
            float *f = buf;
            for (int64_t i = 0; i < per; i++) {
                const int c = chan_of(t, i);
                f[i] = ((float)p[i] / 255.0f - t->mean[c]) / t->std[c];
            }
        } else if (a.dtype == EAI_F16) {
            const uint16_t *p = (const uint16_t *)a.data + k * per;
            for (int64_t i = 0; i < per; i++)
                ((float *)buf)[i] = eai_f16_to_f32(p[i]);
        } else if (a.dtype == EAI_F64 && ti->dtype == EAI_F32) {
            const double *p = (const double *)a.data + k * per;
            for (int64_t i = 0; i < per; i++)
                ((float *)buf)[i] = (float)p[i];
        } else {
            memcpy(buf, (const uint8_t *)a.data + k * s->bytes[0], s->bytes[0]);
        }
    }
    eai_npy_free(&a);
    return st;
}

/* One image resized to the input and normalised; gray inputs average the
 * three normalised channels (computed with the first mean/std). */
static eai_status_t load_image(eai__inputset_t *s, const target_t *t, const char *path)
{
    if (t->n_inputs != 1 || t->ch == 0 || t->info[0].dtype != EAI_F32)
        return eai_fail(EAI_E_UNSUPPORTED,
                        "%s: images need a model with one float32 input of shape [1, C, H, W] "
                        "or [1, H, W, C] with C 1 or 3",
                        path);
    eai_image_t img;
    EAI_TRY(eai_image_load(path, &img));
    void *buf;
    eai_status_t st = set_push(s, t, path, &buf);
    if (st == EAI_OK && t->ch == 3) {
        st = eai_image_to_tensor(&img, t->h, t->w, t->mean, t->std, t->layout, buf);
    } else if (st == EAI_OK) {
        const size_t plane = (size_t)t->h * (size_t)t->w;
        float *rgb = eai__alloc(&s->alloc, plane * 3 * sizeof(float));
        const float m1[3] = {t->mean[0], t->mean[0], t->mean[0]};
        const float s1[3] = {t->std[0], t->std[0], t->std[0]};
        if (!rgb)
            st = eai_fail(EAI_E_NOMEM, "%s: out of memory", path);
        else
            st = eai_image_to_tensor(&img, t->h, t->w, m1, s1, EAI_LAYOUT_NCHW, rgb);
        float *g = buf;
        for (size_t i = 0; st == EAI_OK && i < plane; i++)
            g[i] = (rgb[i] + rgb[plane + i] + rgb[2 * plane + i]) / 3.0f;
        eai__free(&s->alloc, rgb);
    }
    eai_image_free(&img);
    return st;
}

static eai_status_t load_file(eai__inputset_t *s, const target_t *t, const char *path, int max)
{
    if (has_ext(path, ".npy")) return load_npy(s, t, path, max);
    if (is_image(path)) return load_image(s, t, path);
    return eai_fail(EAI_E_FORMAT, "%s: not a .npy, .png, .jpg, .bmp or .ppm file", path);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every .npy/image file of a folder, in name order (reproducible sets). */
static eai_status_t load_dir(eai__inputset_t *s, const target_t *t, const char *dir, int max)
{
    DIR *d = opendir(dir);
    if (!d) return eai_fail(EAI_E_IO, "%s: cannot open the folder", dir);
    char **names = NULL;
    int n = 0, cap = 0;
    eai_status_t st = EAI_OK;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.' || !(has_ext(e->d_name, ".npy") || is_image(e->d_name))) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = eai__realloc(&s->alloc, names, (size_t)cap * sizeof *nn);
            if (!nn) {
                st = eai_fail(EAI_E_NOMEM, "%s: out of memory", dir);
                break;
            }
            names = nn;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        names[n] = eai__alloc(&s->alloc, len);
        if (!names[n]) {
            st = eai_fail(EAI_E_NOMEM, "%s: out of memory", dir);
            break;
        }
        snprintf(names[n], len, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (st == EAI_OK && n == 0)
        st = eai_fail(EAI_E_INVALID, "%s: no .npy, .png or .jpg files in the folder", dir);
    if (st == EAI_OK) qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 0; i < n && st == EAI_OK && (max <= 0 || s->n < max); i++)
        st = load_file(s, t, names[i], max);
    for (int i = 0; i < n; i++)
        eai__free(&s->alloc, names[i]);
    eai__free(&s->alloc, names);
    return st;
}

/* A text file with one path per line (relative paths are relative to the
 * list's folder; blank lines and '#' comments skipped). */
static eai_status_t load_list(eai__inputset_t *s, const target_t *t, const char *list, int max)
{
    FILE *f = fopen(list, "r");
    if (!f) return eai_fail(EAI_E_IO, "%s: cannot open the list", list);
    const char *slash = strrchr(list, '/');
    const int dlen = slash ? (int)(slash - list) : 0;
    char line[1024], path[2100];
    eai_status_t st = EAI_OK;
    int lineno = 0, files = 0;
    while (st == EAI_OK && (max <= 0 || s->n < max) && fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        while (n && isspace((unsigned char)line[n - 1]))
            line[--n] = 0;
        const char *p = line;
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p || *p == '#') continue;
        if (*p == '/' || !slash)
            snprintf(path, sizeof path, "%s", p);
        else
            snprintf(path, sizeof path, "%.*s/%s", dlen, list, p);
        st = load_file(s, t, path, max);
        if (st != EAI_OK) {
            char why[512];
            snprintf(why, sizeof why, "%s", eai_last_error());
            st = eai_fail(st, "%s:%d: %s", list, lineno, why);
        }
        files++;
    }
    fclose(f);
    if (st == EAI_OK && files == 0) st = eai_fail(EAI_E_INVALID, "%s: lists no files", list);
    return st;
}

eai_status_t eai__inputset_load(const eai_model_t *m, const char *spec, int max,
                                const eai_build_opts_t *o, eai__inputset_t *out)
{
    if (!m || !spec || !spec[0] || !out)
        return eai_fail(EAI_E_INVALID, "input set: model and a path are required");
    target_t t;
    EAI_TRY(target_init(m, o, &t));
    eai__inputset_t s;
    EAI_TRY(set_init(&s, t.n_inputs));
    struct stat sb;
    eai_status_t st;
    if (stat(spec, &sb) != 0)
        st = eai_fail(EAI_E_IO, "%s: no such file or folder", spec);
    else if (S_ISDIR(sb.st_mode))
        st = load_dir(&s, &t, spec, max);
    else if (has_ext(spec, ".npy") || is_image(spec))
        st = load_file(&s, &t, spec, max);
    else
        st = load_list(&s, &t, spec, max);
    if (st != EAI_OK) {
        eai__inputset_free(&s);
        return st;
    }
    *out = s;
    return EAI_OK;
}

/* splitmix64: a tiny, well-mixed generator; Box-Muller turns pairs of its
 * uniforms into normal samples. */
static uint64_t next_u64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double uniform01(uint64_t *x)
{
    return ((double)(next_u64(x) >> 11) + 0.5) / 9007199254740992.0; /* (0, 1) */
}

eai_status_t eai__inputset_random(const eai_model_t *m, int n, uint64_t seed, eai__inputset_t *out)
{
    if (!m || !out || n < 1)
        return eai_fail(EAI_E_INVALID, "random input set: model and n >= 1 required");
    target_t t;
    EAI_TRY(target_init(m, NULL, &t));
    eai__inputset_t s;
    EAI_TRY(set_init(&s, t.n_inputs));
    uint64_t x = seed;
    eai_status_t st = EAI_OK;
    for (int k = 0; k < n && st == EAI_OK; k++) {
        void *bufs[8];
        char label[32];
        snprintf(label, sizeof label, "random[%d]", k);
        st = set_push(&s, &t, label, bufs);
        for (int i = 0; i < t.n_inputs && st == EAI_OK; i++) {
            /* float inputs: N(0, 1); other types: zeros (indices, masks) */
            memset(bufs[i], 0, s.bytes[i]);
            if (t.info[i].dtype != EAI_F32) continue;
            float *f = bufs[i];
            for (int64_t e = 0; e < t.numel[i]; e++) {
                const double u = uniform01(&x), v = uniform01(&x);
                f[e] = (float)(sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v));
            }
        }
    }
    if (st != EAI_OK) {
        eai__inputset_free(&s);
        return st;
    }
    *out = s;
    return EAI_OK;
}
