/* MOTChallenge text: parser (from memory, so the fuzzer reaches it without
 * files), loader and writer. The parser copies each line into a bounded
 * buffer so strtod never reads past the caller's bytes. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgeai/mot.h"
#include "track/track_impl.h"

#define MAX_LINE   1024
#define MAX_FRAME  10000000
#define MAX_FIELDS 10

/* Splits `line` at commas and blanks; returns the field count, or
 * MAX_FIELDS + 1 when there are more. */
static int split(char *line, char **f)
{
    int n = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p) break;
        if (n == MAX_FIELDS) return MAX_FIELDS + 1;
        f[n++] = p;
        while (*p && *p != ',' && *p != ' ' && *p != '\t')
            p++;
        while (*p == ' ' || *p == '\t')
            *p++ = 0;
        if (*p == ',') {
            *p++ = 0;
            /* "1,,2": an empty field is an error; a trailing comma is not
             * (TrackEval drops an empty last field too) */
            char *q = p;
            while (*q == ' ' || *q == '\t')
                q++;
            if (*q == ',') return -1;
        }
    }
    return n;
}

static eai_status_t num(const char *s, long line, int col, double *v)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || *end)
        return eai_fail(EAI_E_FORMAT, "line %ld: column %d: '%.32s' is not a number", line, col, s);
    if (!isfinite(d))
        return eai_fail(EAI_E_FORMAT, "line %ld: column %d: '%.32s' is not finite", line, col, s);
    *v = d;
    return EAI_OK;
}

static eai_status_t parse_line(char *buf, long line, eai_mot_row_t *r)
{
    char *f[MAX_FIELDS];
    int n = split(buf, f);
    if (n < 0) return eai_fail(EAI_E_FORMAT, "line %ld: empty field", line);
    if (n < 7 || n > MAX_FIELDS)
        return eai_fail(EAI_E_FORMAT,
                        "line %ld: %s%d fields, expected 7 to 10 "
                        "(frame,id,x,y,w,h,conf[,class,visibility[,z]])",
                        line, n > MAX_FIELDS ? "more than " : "", n > MAX_FIELDS ? MAX_FIELDS : n);
    double v[MAX_FIELDS];
    for (int i = 0; i < n; i++)
        EAI_TRY(num(f[i], line, i + 1, &v[i]));
    if (v[0] != floor(v[0]) || v[0] < 1 || v[0] > MAX_FRAME)
        return eai_fail(EAI_E_FORMAT, "line %ld: frame %.32s is not an integer in 1..%d", line,
                        f[0], MAX_FRAME);
    if (v[1] != floor(v[1]) || v[1] < -1 || v[1] > INT32_MAX)
        return eai_fail(EAI_E_FORMAT, "line %ld: id %.32s is not an integer >= -1", line, f[1]);
    if (v[4] < 0 || v[5] < 0)
        return eai_fail(EAI_E_FORMAT, "line %ld: negative width or height (%g x %g)", line, v[4],
                        v[5]);
    if (n >= 8 && fabs(v[7]) > 1e9)
        return eai_fail(EAI_E_FORMAT, "line %ld: class %.32s out of range", line, f[7]);
    r->frame = (int)v[0];
    r->id = (int)v[1];
    r->x = v[2], r->y = v[3], r->w = v[4], r->h = v[5];
    r->conf = v[6];
    r->cls = n >= 8 ? (int)v[7] : -1;
    r->vis = n >= 9 ? v[8] : -1;
    return EAI_OK;
}

typedef struct {
    int frame, idx;
} key_t_;

static int key_cmp(const void *a, const void *b)
{
    const key_t_ *x = a, *y = b;
    if (x->frame != y->frame) return x->frame < y->frame ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Stable sort by frame; files are usually sorted already. */
static eai_status_t sort_rows(eai_mot_t *m)
{
    bool sorted = true;
    for (int i = 1; i < m->n_rows && sorted; i++)
        sorted = m->rows[i - 1].frame <= m->rows[i].frame;
    if (sorted) return EAI_OK;
    key_t_ *k = eai__calloc(&m->alloc, (size_t)m->n_rows, sizeof *k);
    eai_mot_row_t *r = eai__calloc(&m->alloc, (size_t)m->n_rows, sizeof *r);
    if (!k || !r) {
        eai__free(&m->alloc, k);
        eai__free(&m->alloc, r);
        return eai_fail(EAI_E_NOMEM, "mot: out of memory sorting %d rows", m->n_rows);
    }
    for (int i = 0; i < m->n_rows; i++)
        k[i].frame = m->rows[i].frame, k[i].idx = i;
    qsort(k, (size_t)m->n_rows, sizeof *k, key_cmp);
    for (int i = 0; i < m->n_rows; i++)
        r[i] = m->rows[k[i].idx];
    eai__free(&m->alloc, m->rows);
    eai__free(&m->alloc, k);
    m->rows = r;
    return EAI_OK;
}

eai_status_t eai_mot_parse(const char *text, size_t n, const eai_allocator_t *alloc, eai_mot_t *out)
{
    if (!out || (!text && n)) return eai_fail(EAI_E_INVALID, "eai_mot_parse: NULL argument");
    eai_mot_t m;
    memset(&m, 0, sizeof m);
    if (alloc) m.alloc = *alloc;
    int cap = 0;
    char buf[MAX_LINE + 1];
    long line = 0;
    size_t i = 0;
    eai_status_t st = EAI_OK;
    while (i < n) {
        line++;
        size_t s = i;
        while (i < n && text[i] != '\n')
            i++;
        size_t len = i - s;
        if (i < n) i++; /* the '\n' */
        if (len && text[s + len - 1] == '\r') len--;
        if (len > MAX_LINE) {
            st = eai_fail(EAI_E_FORMAT, "line %ld: longer than %d characters", line, MAX_LINE);
            break;
        }
        memcpy(buf, text + s, len);
        buf[len] = 0;
        if (memchr(buf, 0, len)) {
            st = eai_fail(EAI_E_FORMAT, "line %ld: NUL byte", line);
            break;
        }
        size_t k = strspn(buf, " \t");
        if (!buf[k] || buf[k] == '#') continue;
        if (m.n_rows == cap) {
            if (cap >= (1 << 26)) {
                st = eai_fail(EAI_E_FORMAT, "line %ld: more than %d rows", line, 1 << 26);
                break;
            }
            int nc = cap ? cap * 2 : 256;
            eai_mot_row_t *r = eai__realloc(&m.alloc, m.rows, (size_t)nc * sizeof *r);
            if (!r) {
                st = eai_fail(EAI_E_NOMEM, "mot: out of memory at line %ld", line);
                break;
            }
            m.rows = r, cap = nc;
        }
        eai_mot_row_t *r = &m.rows[m.n_rows];
        if ((st = parse_line(buf, line, r)) != EAI_OK) break;
        if (r->frame > m.max_frame) m.max_frame = r->frame;
        m.n_rows++;
    }
    if (st == EAI_OK) st = sort_rows(&m);
    if (st != EAI_OK) {
        eai__free(&m.alloc, m.rows);
        return st;
    }
    *out = m;
    return EAI_OK;
}

eai_status_t eai_mot_load(const char *path, const eai_allocator_t *alloc, eai_mot_t *out)
{
    if (!path || !out) return eai_fail(EAI_E_INVALID, "eai_mot_load: NULL argument");
    void *data;
    size_t n;
    EAI_TRY(eai__read_file(alloc, path, &data, &n));
    eai_status_t st = eai_mot_parse(data, n, alloc, out);
    eai__free_aligned(alloc, data);
    if (st != EAI_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", eai_last_error());
        return eai_fail(st, "%s: %s", path, msg);
    }
    return EAI_OK;
}

void eai_mot_free(eai_mot_t *m)
{
    if (!m) return;
    eai__free(&m->alloc, m->rows);
    m->rows = NULL;
    m->n_rows = 0;
    m->max_frame = 0;
}

int eai_mot_frame_rows(const eai_mot_t *m, int frame, int *first)
{
    int lo = 0, hi = m->n_rows;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (m->rows[mid].frame < frame)
            lo = mid + 1;
        else
            hi = mid;
    }
    int e = lo;
    while (e < m->n_rows && m->rows[e].frame == frame)
        e++;
    if (first) *first = lo;
    return e - lo;
}

eai_box_t eai_mot_row_box(const eai_mot_row_t *r)
{
    return (eai_box_t){(float)r->x, (float)r->y, (float)(r->x + r->w), (float)(r->y + r->h)};
}

static int format_row(char *b, size_t n, const eai_mot_row_t *r)
{
    return snprintf(b, n, "%d,%d,%.3f,%.3f,%.3f,%.3f,%.6g,%d,%.6g,-1\n", r->frame, r->id, r->x,
                    r->y, r->w, r->h, r->conf, r->cls, r->vis);
}

int eai_mot_write_row(FILE *f, const eai_mot_row_t *r)
{
    char b[256];
    int k = format_row(b, sizeof b, r);
    if (k < 0 || (size_t)k >= sizeof b) {
        errno = EINVAL;
        return 0;
    }
    return fwrite(b, 1, (size_t)k, f) == (size_t)k;
}

eai_status_t eai_mot_save(const char *path, const eai_mot_row_t *rows, int n)
{
    if (!path || (n > 0 && !rows) || n < 0)
        return eai_fail(EAI_E_INVALID, "eai_mot_save: NULL argument or negative count");
    size_t cap = (size_t)n * 96 + 1, len = 0;
    char *buf = eai__alloc(NULL, cap);
    if (!buf) return eai_fail(EAI_E_NOMEM, "mot: out of memory writing %d rows", n);
    for (int i = 0; i < n; i++) {
        char b[256];
        int k = format_row(b, sizeof b, &rows[i]);
        if (k < 0 || (size_t)k >= sizeof b) {
            eai__free(NULL, buf);
            return eai_fail(EAI_E_INVALID, "%s: row %d does not fit a line", path, i);
        }
        if (len + (size_t)k > cap) {
            size_t nc = (len + (size_t)k) * 2;
            char *p = eai__realloc(NULL, buf, nc);
            if (!p) {
                eai__free(NULL, buf);
                return eai_fail(EAI_E_NOMEM, "mot: out of memory writing %d rows", n);
            }
            buf = p, cap = nc;
        }
        memcpy(buf + len, b, (size_t)k);
        len += (size_t)k;
    }
    eai_status_t st = eai__write_file_atomic(NULL, path, buf, len);
    eai__free(NULL, buf);
    return st;
}
