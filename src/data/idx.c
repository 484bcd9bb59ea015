/* IDX files (LeCun's MNIST format, also Fashion-MNIST's): a 4-byte magic
 * 0x00 0x00 TYPE RANK, RANK big-endian uint32 dims, then the elements row-major.
 * Files may be gzipped (zlib reads plain files through the same calls). The
 * header is checked against the bytes present before anything is allocated:
 * a plain file's size must match exactly, a gzip file's ISIZE trailer (the
 * uncompressed size mod 2^32, RFC 1952 §2.3.1) must agree. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "data/data_impl.h"

#define IDX_UBYTE    0x08
#define IDX_MAX_RANK 4
#define CHUNK        (1 << 16)

typedef struct idx {
    gzFile f;
    const char *path;
    int type, rank;
    int64_t dims[IDX_MAX_RANK];
    int64_t n_elems;
} idx_t;

static int type_size(int t)
{
    switch (t) {
    case 0x08: /* unsigned byte */
    case 0x09:
        return 1; /* signed byte */
    case 0x0B:
        return 2; /* short */
    case 0x0C:    /* int */
    case 0x0D:
        return 4; /* float */
    case 0x0E:
        return 8; /* double */
    default:
        return 0;
    }
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Size on disk, whether gzipped, and for gzip the ISIZE trailer. */
static eai_status_t probe(const char *path, const char *pkg, int64_t *size, bool *gz,
                          uint32_t *isize)
{
    FILE *f = fopen(path, "rb");
    if (!f) return eai__fail_missing(path, errno, pkg);
    struct stat st;
    unsigned char m[4] = {0};
    eai_status_t ret = EAI_OK;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        ret = eai_fail(EAI_E_IO, "%s: not a regular file", path);
        goto done;
    }
    *size = (int64_t)st.st_size;
    *gz = *size >= 18 && fread(m, 1, 2, f) == 2 && m[0] == 0x1f && m[1] == 0x8b;
    if (*gz) {
        if (fseek(f, -4, SEEK_END) != 0 || fread(m, 1, 4, f) != 4) {
            ret = eai_fail(EAI_E_IO, "%s: cannot read the gzip trailer", path);
            goto done;
        }
        *isize = (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 | (uint32_t)m[3] << 24;
    }
done:
    fclose(f);
    return ret;
}

static eai_status_t read_exact(idx_t *x, void *buf, size_t n, const char *what)
{
    size_t got = 0;
    while (got < n) {
        unsigned want = (unsigned)(n - got > CHUNK ? CHUNK : n - got);
        int r = gzread(x->f, (char *)buf + got, want);
        if (r <= 0) {
            int zerr = 0;
            const char *msg = gzerror(x->f, &zerr);
            if (r < 0 || zerr < 0)
                return eai_fail(EAI_E_FORMAT, "%s: corrupt data in %s (%s)", x->path, what, msg);
            return eai_fail(EAI_E_FORMAT, "%s: truncated in %s (%zu of %zu bytes)", x->path, what,
                            got, n);
        }
        got += (size_t)r;
    }
    return EAI_OK;
}

static void idx_close(idx_t *x)
{
    if (x->f) gzclose(x->f);
    x->f = NULL;
}

/* Opens `path` and checks its header against the file's size. */
static eai_status_t idx_open(const char *path, const char *pkg, idx_t *x)
{
    memset(x, 0, sizeof *x);
    x->path = path;
    int64_t size = 0;
    bool gz = false;
    uint32_t isize = 0;
    EAI_TRY(probe(path, pkg, &size, &gz, &isize));
    x->f = gzopen(path, "rb");
    if (!x->f) return eai__fail_missing(path, errno, pkg);
    gzbuffer(x->f, 1 << 17);
    unsigned char h[4 + 4 * IDX_MAX_RANK];
    eai_status_t st = read_exact(x, h, 4, "the magic number");
    if (st != EAI_OK) goto fail;
    x->type = h[2];
    x->rank = h[3];
    if (h[0] != 0 || h[1] != 0 || type_size(x->type) == 0) {
        st = eai_fail(EAI_E_FORMAT,
                      "%s: not an IDX file (magic %02x %02x %02x %02x; expected 00 00 TYPE RANK)",
                      path, h[0], h[1], h[2], h[3]);
        goto fail;
    }
    if (x->rank < 1 || x->rank > IDX_MAX_RANK) {
        st =
            eai_fail(EAI_E_FORMAT, "%s: IDX rank %d (expected 1..%d)", path, x->rank, IDX_MAX_RANK);
        goto fail;
    }
    if ((st = read_exact(x, h + 4, 4 * (size_t)x->rank, "the dims")) != EAI_OK) goto fail;
    int64_t n = 1, bytes;
    for (int i = 0; i < x->rank; i++) {
        uint32_t d = be32(h + 4 + 4 * i);
        /* The format stores dims as 32-bit ints: anything above INT32_MAX is garbage. */
        if (d > INT32_MAX || !eai__mul_ok(n, d, &n)) {
            st = eai_fail(EAI_E_FORMAT, "%s: IDX dim %d is %u (too large)", path, i, d);
            goto fail;
        }
        x->dims[i] = d;
    }
    int64_t header = 4 + 4 * (int64_t)x->rank;
    if (!eai__mul_ok(n, type_size(x->type), &bytes) || bytes > EAI_MAX_TENSOR_BYTES) {
        st = eai_fail(EAI_E_FORMAT, "%s: IDX dims give %lld elements (too large)", path,
                      (long long)n);
        goto fail;
    }
    x->n_elems = n;
    if (!gz && size != header + bytes) {
        st = eai_fail(EAI_E_FORMAT, "%s: header says %lld bytes of data, file has %lld", path,
                      (long long)bytes, (long long)(size - header));
        goto fail;
    }
    if (gz && isize != (uint32_t)(header + bytes)) {
        st = eai_fail(EAI_E_FORMAT,
                      "%s: header says %lld bytes, the gzip trailer %u (truncated or corrupt)",
                      path, (long long)(header + bytes), isize);
        goto fail;
    }
    return EAI_OK;
fail:
    idx_close(x);
    return st;
}

/* Reads n ubyte images of `per` pixels into ds->x through the pixel LUT. */
static eai_status_t read_images(idx_t *x, eai_dataset_t *ds, const eai_dataset_opts_t *o,
                                unsigned char *buf)
{
    float lut[256];
    eai__pixel_lut(o, lut);
    int64_t total = ds->n * ds->numel, done = 0;
    while (done < total) {
        size_t want = (size_t)(total - done > CHUNK ? CHUNK : total - done);
        EAI_TRY(read_exact(x, buf, want, "the images"));
        float *dst = ds->x + done;
        for (size_t i = 0; i < want; i++)
            dst[i] = lut[buf[i]];
        done += (int64_t)want;
    }
    return EAI_OK;
}

static eai_status_t read_labels(const char *path, const char *pkg, eai_dataset_t *ds,
                                int64_t n_images, unsigned char *buf)
{
    idx_t x;
    EAI_TRY(idx_open(path, pkg, &x));
    eai_status_t st = EAI_OK;
    if (x.type != IDX_UBYTE || x.rank != 1)
        st = eai_fail(EAI_E_UNSUPPORTED,
                      "%s: labels must be unsigned bytes of rank 1 "
                      "(IDX type 0x%02x, rank %d)",
                      path, x.type, x.rank);
    else if (x.dims[0] != n_images)
        st = eai_fail(EAI_E_FORMAT, "%s: %lld labels for %lld images", path, (long long)x.dims[0],
                      (long long)n_images);
    for (int64_t done = 0; st == EAI_OK && done < ds->n;) {
        size_t want = (size_t)(ds->n - done > CHUNK ? CHUNK : ds->n - done);
        st = read_exact(&x, buf, want, "the labels");
        for (size_t i = 0; st == EAI_OK && i < want; i++)
            ds->y[done + (int64_t)i] = buf[i];
        done += (int64_t)want;
    }
    idx_close(&x);
    return st;
}

/* "x/train-images-idx3-ubyte.gz" -> "x/train-labels-idx1-ubyte.gz" when the
 * name follows MNIST's convention and that file exists. */
static bool guess_labels(const char *images, char *out, size_t cap)
{
    const char *base = strrchr(images, '/');
    base = base ? base + 1 : images;
    const char *at = strstr(base, "images-idx3");
    if (!at || strlen(images) + 1 > cap) return false;
    size_t pre = (size_t)(at - images);
    snprintf(out, cap, "%.*slabels-idx1%s", (int)pre, images, at + strlen("images-idx3"));
    FILE *f = fopen(out, "rb");
    if (f) fclose(f);
    return f != NULL;
}

eai_status_t eai__idx_load(const char *images, const char *labels, const char *pkg,
                           const eai_dataset_opts_t *o, const char *spec, eai_dataset_t **out)
{
    char guessed[4096];
    if (!labels && guess_labels(images, guessed, sizeof guessed)) labels = guessed;
    idx_t x;
    EAI_TRY(idx_open(images, pkg, &x));
    eai_status_t st = EAI_OK;
    int64_t dims[3] = {1, 0, 0};
    int rank = 0;
    if (x.type != IDX_UBYTE) {
        st = eai_fail(EAI_E_UNSUPPORTED, "%s: images must be unsigned bytes (IDX type 0x%02x)",
                      images, x.type);
    } else if (x.rank == 3) { /* [N, H, W] -> [1, H, W] */
        rank = 3;
        dims[1] = x.dims[1];
        dims[2] = x.dims[2];
    } else if (x.rank == 2) { /* [N, D] -> [D] */
        rank = 1;
        dims[0] = x.dims[1];
    } else {
        st =
            eai_fail(EAI_E_UNSUPPORTED, "%s: images must have rank 2 or 3, not %d", images, x.rank);
    }
    if (st == EAI_OK)
        for (int i = 0; i < rank; i++)
            if (dims[i] == 0) st = eai_fail(EAI_E_FORMAT, "%s: an image dim is 0", images);
    if (st != EAI_OK) {
        idx_close(&x);
        return st;
    }
    int64_t n = x.dims[0];
    if (o->max_samples > 0 && o->max_samples < n) n = o->max_samples;
    eai_dataset_t *ds = NULL;
    unsigned char *buf = eai__alloc(&o->alloc, CHUNK);
    if (!buf)
        st = eai_fail(EAI_E_NOMEM, "%s: out of memory", images);
    else
        st = eai__dataset_new(&o->alloc, spec, n, rank, dims, &ds);
    if (st == EAI_OK) st = read_images(&x, ds, o, buf);
    idx_close(&x);
    if (st == EAI_OK) {
        if (labels) {
            st = read_labels(labels, pkg, ds, x.dims[0], buf);
            if (st == EAI_OK) st = eai__dataset_count_classes(ds, labels);
        } else { /* unlabelled: one class */
            memset(ds->y, 0, (size_t)n * sizeof(int32_t));
            ds->n_classes = 1;
        }
    }
    eai__free(&o->alloc, buf);
    if (st != EAI_OK) {
        eai_dataset_destroy(ds);
        return st;
    }
    *out = ds;
    return EAI_OK;
}
