/* NumPy .npy reader and writer (format: numpy/lib/format.py, NEP 1, versions
 * 1.0-3.0). A file is "\x93NUMPY", a version, a little-endian header length, a
 * Python dict literal {'descr', 'fortran_order', 'shape'} and raw C-order data.
 * Everything in it is untrusted: the dict goes through a small tokenizer and every
 * size is overflow-checked against the bytes actually present before any allocation. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core_impl.h"
#include "edgeai/npy.h"

#define MAGIC     "\x93NUMPY"
#define MAGIC_LEN 6
/* NumPy itself refuses headers over 10000 bytes by default (max_header_size,
 * numpy 1.24); a rank <= 8 header is under 300. Anything above this is an attack
 * or garbage, and would otherwise let a v2 length field ask for 4 GiB. */
#define MAX_HEADER_BYTES (1u << 20)

/* What the header says, checked. */
typedef struct header {
    eai_dtype_t dtype;
    size_t elem_bytes;
    bool swap; /* data is in the other byte order than this machine's */
    int rank;  /* may exceed EAI_MAX_RANK while parsing; only dims[0..7] stored */
    int64_t dims[EAI_MAX_RANK];
    size_t data_bytes;
} header_t;

/* Cursor over the header text (not NUL-terminated). */
typedef struct lexer {
    const char *p, *end;
    const char *label;
} lexer_t;

static bool host_is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char c;
    memcpy(&c, &one, 1);
    return c == 1;
}

static void skip_ws(lexer_t *lx)
{
    while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\n' || *lx->p == '\r'))
        lx->p++;
}

/* Skips whitespace and consumes `c` if it is next. */
static bool accept(lexer_t *lx, char c)
{
    skip_ws(lx);
    if (lx->p < lx->end && *lx->p == c) {
        lx->p++;
        return true;
    }
    return false;
}

/* A short description of what the cursor is on, for messages. */
static const char *where(const lexer_t *lx, char *buf, size_t cap)
{
    if (lx->p >= lx->end) return "the end of the header";
    size_t n = 0;
    for (const char *q = lx->p; q < lx->end && n + 1 < cap && n < 12; q++)
        buf[n++] = (*q >= 0x20 && *q < 0x7f) ? *q : '?';
    buf[n] = '\0';
    return buf;
}

static eai_status_t syntax(const lexer_t *lx, const char *expected)
{
    char buf[16];
    char ctx[32];
    const char *w = where(lx, buf, sizeof buf);
    if (lx->p < lx->end)
        snprintf(ctx, sizeof ctx, "'%s'", w);
    else
        snprintf(ctx, sizeof ctx, "%s", w);
    return eai_fail(EAI_E_FORMAT, "%s: .npy header: expected %s at %s", lx->label, expected, ctx);
}

/* A Python string literal in single or double quotes. Stores up to cap-1 bytes
 * and the full length in *len (so a truncated copy never matches a key). */
static eai_status_t lex_string(lexer_t *lx, char *buf, size_t cap, size_t *len)
{
    skip_ws(lx);
    if (lx->p >= lx->end || (*lx->p != '\'' && *lx->p != '"')) return syntax(lx, "a quoted string");
    char q = *lx->p++;
    size_t n = 0;
    while (lx->p < lx->end && *lx->p != q) {
        char c = *lx->p++;
        if (c == '\\') { /* keep the escaped byte; only keys and dtypes matter */
            if (lx->p >= lx->end) break;
            c = *lx->p++;
        }
        if (n + 1 < cap) buf[n] = c;
        n++;
    }
    if (lx->p >= lx->end)
        return eai_fail(EAI_E_FORMAT, "%s: .npy header: unterminated string", lx->label);
    lx->p++;
    buf[n < cap ? n : cap - 1] = '\0';
    *len = n;
    return EAI_OK;
}

static bool is_ident(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* The Python word `w` (True, False) not followed by more identifier characters. */
static bool accept_word(lexer_t *lx, const char *w)
{
    skip_ws(lx);
    size_t n = strlen(w);
    if ((size_t)(lx->end - lx->p) < n || memcmp(lx->p, w, n) != 0) return false;
    if (lx->p + n < lx->end && is_ident(lx->p[n])) return false;
    lx->p += n;
    return true;
}

/* A decimal dimension. Python 2 era numpy wrote longs as "3L"; accept the suffix. */
static eai_status_t lex_dim(lexer_t *lx, int64_t *v)
{
    skip_ws(lx);
    bool neg = false;
    if (lx->p < lx->end && (*lx->p == '-' || *lx->p == '+')) neg = *lx->p++ == '-';
    if (lx->p >= lx->end || *lx->p < '0' || *lx->p > '9')
        return syntax(lx, "a dimension (non-negative integer)");
    int64_t x = 0;
    while (lx->p < lx->end && *lx->p >= '0' && *lx->p <= '9') {
        if (!eai__mul_ok(x, 10, &x) || !eai__add_ok(x, *lx->p - '0', &x))
            return eai_fail(EAI_E_FORMAT,
                            "%s: .npy header: a dimension in 'shape' is too "
                            "large for 64 bits",
                            lx->label);
        lx->p++;
    }
    if (lx->p < lx->end && (*lx->p == 'L' || *lx->p == 'l')) lx->p++;
    if (neg && x != 0)
        return eai_fail(EAI_E_FORMAT, "%s: .npy header: 'shape' has negative dimension -%lld",
                        lx->label, (long long)x);
    *v = x;
    return EAI_OK;
}

/* 'shape': a tuple of dimensions: (), (3,), (2, 3), (2, 3,). "(3)" is the
 * integer 3 in Python, not a tuple, and numpy rejects it too. */
static eai_status_t parse_shape(lexer_t *lx, header_t *h)
{
    if (!accept(lx, '(')) return syntax(lx, "'(' starting the 'shape' tuple");
    h->rank = 0;
    bool trailing_comma = false;
    while (!accept(lx, ')')) {
        if (h->rank > 0 && !trailing_comma) return syntax(lx, "',' or ')' in 'shape'");
        int64_t d = 0;
        EAI_TRY(lex_dim(lx, &d));
        if (h->rank < EAI_MAX_RANK) h->dims[h->rank] = d;
        h->rank++; /* bounded by the header length; only the count matters past 8 */
        trailing_comma = accept(lx, ',');
    }
    if (h->rank == 1 && !trailing_comma)
        return eai_fail(EAI_E_FORMAT,
                        "%s: .npy header: 'shape' (%lld) is not a tuple "
                        "(a 1-D shape is written (%lld,))",
                        lx->label, (long long)h->dims[0], (long long)h->dims[0]);
    return EAI_OK;
}

/* Type strings as numpy's dtype.str writes them: byte order (<, >, |, =),
 * kind, size in bytes. */
static eai_status_t parse_descr(const char *s, size_t len, const char *label, header_t *h)
{
    const char *t = s;
    char order = '=';
    if (len > 0 && memchr("<>|=", *t, 4)) {
        order = *t++;
        len--;
    }
    bool well_formed = len >= 2 && ((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z'));
    for (size_t i = 1; well_formed && i < len; i++)
        well_formed = t[i] >= '0' && t[i] <= '9';
    if (!well_formed)
        return eai_fail(EAI_E_FORMAT,
                        "%s: .npy header: 'descr' '%s' is not a NumPy type string "
                        "such as '<f4'",
                        label, s);
    static const struct {
        const char *code;
        eai_dtype_t dtype;
    } types[] = {
        {"f4", EAI_F32}, {"f2", EAI_F16}, {"f8", EAI_F64}, {"i8", EAI_I64}, {"i4", EAI_I32},
        {"i2", EAI_I16}, {"i1", EAI_I8},  {"u1", EAI_U8},  {"u2", EAI_U16}, {"b1", EAI_BOOL},
    };
    h->dtype = EAI_DTYPE_UNDEFINED;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (len == 2 && memcmp(t, types[i].code, 2) == 0) h->dtype = types[i].dtype;
    if (h->dtype == EAI_DTYPE_UNDEFINED)
        return eai_fail(EAI_E_UNSUPPORTED,
                        "%s: .npy dtype '%s' is not supported (edgeai reads "
                        "f2, f4, f8, i1, i2, i4, i8, u1, u2 and b1)",
                        label, s);
    h->elem_bytes = eai_dtype_size(h->dtype);
    /* '|' (not applicable) and '=' (native) carry no swap; numpy writes '|' for
     * 1-byte types only, but np.dtype('|f4') also means native. */
    bool little = host_is_little_endian();
    h->swap = h->elem_bytes > 1 && ((order == '<' && !little) || (order == '>' && little));
    return EAI_OK;
}

static void format_shape(const header_t *h, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "(");
    int shown = h->rank < EAI_MAX_RANK ? h->rank : EAI_MAX_RANK;
    for (int i = 0; i < shown && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, i ? ", %lld" : "%lld", (long long)h->dims[i]);
    if (n < cap)
        snprintf(buf + n, cap - n, "%s)", h->rank == 1 ? "," : (h->rank > shown ? ", ..." : ""));
}

enum { KEY_DESCR = 1, KEY_FORTRAN = 2, KEY_SHAPE = 4 };

static eai_status_t parse_entry(lexer_t *lx, unsigned *seen, header_t *h)
{
    char key[32];
    size_t klen;
    EAI_TRY(lex_string(lx, key, sizeof key, &klen));
    unsigned k = klen == 5 && !strcmp(key, "descr")            ? KEY_DESCR
                 : klen == 13 && !strcmp(key, "fortran_order") ? KEY_FORTRAN
                 : klen == 5 && !strcmp(key, "shape")          ? KEY_SHAPE
                                                               : 0;
    if (!k)
        return eai_fail(EAI_E_FORMAT,
                        "%s: .npy header: unexpected key '%s' (the header holds "
                        "exactly 'descr', 'fortran_order' and 'shape')",
                        lx->label, key);
    if (*seen & k)
        return eai_fail(EAI_E_FORMAT, "%s: .npy header: key '%s' appears twice", lx->label, key);
    *seen |= k;
    if (!accept(lx, ':')) return syntax(lx, "':' after a key");
    if (k == KEY_SHAPE) return parse_shape(lx, h);
    if (k == KEY_FORTRAN) {
        if (accept_word(lx, "False")) return EAI_OK;
        if (accept_word(lx, "True"))
            return eai_fail(EAI_E_UNSUPPORTED,
                            "%s: .npy array is in Fortran order "
                            "(fortran_order: True); edgeai reads C order only (save it with "
                            "np.ascontiguousarray)",
                            lx->label);
        return syntax(lx, "True or False for 'fortran_order'");
    }
    skip_ws(lx);
    if (lx->p < lx->end && *lx->p == '[')
        return eai_fail(EAI_E_UNSUPPORTED,
                        "%s: .npy array has a structured dtype (a 'descr' "
                        "list); edgeai reads plain numeric arrays only",
                        lx->label);
    char descr[32];
    size_t dlen;
    EAI_TRY(lex_string(lx, descr, sizeof descr, &dlen));
    if (dlen >= sizeof descr)
        return eai_fail(EAI_E_FORMAT,
                        "%s: .npy header: 'descr' of %zu characters is not a "
                        "NumPy type string",
                        lx->label, dlen);
    return parse_descr(descr, dlen, lx->label, h);
}

/* The header dict: keys in any order, whitespace anywhere, an optional trailing
 * comma, then only the padding (spaces, a final newline) numpy appends. */
static eai_status_t parse_header(const char *text, size_t len, const char *label, header_t *h)
{
    memset(h, 0, sizeof *h);
    lexer_t lx = {text, text + len, label};
    if (!accept(&lx, '{')) return syntax(&lx, "'{' starting the header dict");
    unsigned seen = 0;
    for (;;) {
        if (accept(&lx, '}')) break;
        EAI_TRY(parse_entry(&lx, &seen, h));
        if (accept(&lx, '}')) break;
        if (!accept(&lx, ',')) return syntax(&lx, "',' or '}' after a value");
    }
    skip_ws(&lx);
    if (lx.p != lx.end) return syntax(&lx, "only padding after the header dict");
    static const char *names[] = {"descr", "fortran_order", "shape"};
    for (int i = 0; i < 3; i++)
        if (!(seen & (1u << i)))
            return eai_fail(EAI_E_FORMAT, "%s: .npy header has no '%s' key", label, names[i]);
    char shape[256];
    format_shape(h, shape, sizeof shape);
    if (h->rank > EAI_MAX_RANK)
        return eai_fail(EAI_E_UNSUPPORTED,
                        "%s: .npy array has rank %d %s; edgeai supports at "
                        "most %d",
                        label, h->rank, shape, EAI_MAX_RANK);
    int64_t n = 1;
    for (int i = 0; i < h->rank; i++)
        if (!eai__mul_ok(n, h->dims[i], &n))
            return eai_fail(EAI_E_FORMAT,
                            "%s: .npy shape %s has more elements than fit in 64 "
                            "bits",
                            label, shape);
    int64_t bytes;
    if (!eai__mul_ok(n, (int64_t)h->elem_bytes, &bytes) || (uint64_t)bytes > SIZE_MAX)
        return eai_fail(EAI_E_FORMAT,
                        "%s: .npy shape %s of %s needs more bytes than fit in "
                        "memory",
                        label, shape, eai_dtype_name(h->dtype));
    h->data_bytes = (size_t)bytes;
    return EAI_OK;
}

/* The 8 bytes of magic and version: sets the width of the header length field. */
static eai_status_t parse_magic(const unsigned char *b, size_t n, const char *label,
                                size_t *len_bytes)
{
    if (n == 0) /* before memcmp: b may be NULL */
        return eai_fail(EAI_E_FORMAT, "%s: .npy file is empty", label);
    if (memcmp(b, MAGIC, n < MAGIC_LEN ? n : MAGIC_LEN) != 0)
        return eai_fail(EAI_E_FORMAT,
                        "%s: not an .npy file (it does not start with "
                        "\\x93NUMPY)",
                        label);
    if (n < 8)
        return eai_fail(EAI_E_FORMAT,
                        "%s: .npy file is truncated: %zu bytes, shorter than "
                        "the preamble",
                        label, n);
    int major = b[6], minor = b[7];
    if (major < 1 || major > 3 || minor != 0)
        return eai_fail(EAI_E_UNSUPPORTED,
                        "%s: .npy format version %d.%d is not supported "
                        "(edgeai reads 1.0, 2.0 and 3.0)",
                        label, major, minor);
    *len_bytes = major == 1 ? 2 : 4;
    return EAI_OK;
}

static eai_status_t parse_header_len(const unsigned char *b, size_t n, size_t len_bytes,
                                     const char *label, size_t *hlen)
{
    if (n < len_bytes)
        return eai_fail(EAI_E_FORMAT, "%s: .npy file is truncated inside the header length", label);
    uint32_t v = 0;
    for (size_t i = len_bytes; i-- > 0;)
        v = v << 8 | b[i];
    if (v > MAX_HEADER_BYTES)
        return eai_fail(EAI_E_FORMAT,
                        "%s: .npy header length %lu is implausibly large (over "
                        "%u bytes)",
                        label, (unsigned long)v, MAX_HEADER_BYTES);
    *hlen = v;
    return EAI_OK;
}

static eai_status_t size_mismatch(const header_t *h, size_t have, const char *label)
{
    char shape[256];
    format_shape(h, shape, sizeof shape);
    if (have < h->data_bytes)
        return eai_fail(EAI_E_FORMAT,
                        "%s: .npy data is truncated: shape %s of %s needs %zu "
                        "bytes, the file has %zu",
                        label, shape, eai_dtype_name(h->dtype), h->data_bytes, have);
    return eai_fail(EAI_E_FORMAT,
                    "%s: .npy file has %zu bytes after the data of shape %s of %s "
                    "(%zu bytes); the header does not describe the file",
                    label, have - h->data_bytes, shape, eai_dtype_name(h->dtype), h->data_bytes);
}

/* Converts the raw data in place to native order and canonical bools. */
static void fix_data(const header_t *h, unsigned char *p)
{
    size_t w = h->elem_bytes, n = h->data_bytes / (w ? w : 1);
    if (h->swap) {
        for (size_t i = 0; i < n; i++, p += w)
            for (size_t a = 0, b = w - 1; a < b; a++, b--) {
                unsigned char t = p[a];
                p[a] = p[b];
                p[b] = t;
            }
    } else if (h->dtype == EAI_BOOL) {
        for (size_t i = 0; i < n; i++)
            p[i] = p[i] != 0; /* numpy reads any nonzero byte as True */
    }
}

static void fill_out(const header_t *h, void *data, eai_npy_t *out)
{
    out->dtype = h->dtype;
    out->rank = h->rank;
    for (int i = 0; i < h->rank; i++)
        out->dims[i] = h->dims[i];
    out->data = data;
    out->n_bytes = h->data_bytes;
}

eai_status_t eai_npy_parse(const void *buf, size_t n, const char *label, eai_npy_t *out)
{
    if (!out) return eai_fail(EAI_E_INVALID, "eai_npy_parse: out is NULL");
    memset(out, 0, sizeof *out);
    if (!label) label = "npy buffer";
    if (!buf && n) return eai_fail(EAI_E_INVALID, "eai_npy_parse: %s: buffer is NULL", label);
    const unsigned char *b = buf;
    size_t len_bytes, hlen;
    EAI_TRY(parse_magic(b, n < 8 ? n : 8, label, &len_bytes));
    EAI_TRY(parse_header_len(b + 8, n - 8, len_bytes, label, &hlen));
    size_t off = 8 + len_bytes;
    if (hlen > n - off)
        return eai_fail(EAI_E_FORMAT,
                        "%s: .npy header is truncated: its length field says %zu "
                        "bytes, %zu follow",
                        label, hlen, n - off);
    header_t h;
    EAI_TRY(parse_header((const char *)b + off, hlen, label, &h));
    off += hlen;
    if (n - off != h.data_bytes) return size_mismatch(&h, n - off, label);
    unsigned char *data = eai__alloc(NULL, h.data_bytes);
    if (!data)
        return eai_fail(EAI_E_NOMEM, "%s: out of memory for %zu bytes of .npy data", label,
                        h.data_bytes);
    if (h.data_bytes) memcpy(data, b + off, h.data_bytes);
    fix_data(&h, data);
    fill_out(&h, data, out);
    return EAI_OK;
}

/* fread that tells a short file (FORMAT, with `what`) from a failing read (IO). */
static eai_status_t read_exact(FILE *f, void *dst, size_t n, const char *path, const char *what)
{
    size_t got = n ? fread(dst, 1, n, f) : 0;
    if (got == n) return EAI_OK;
    if (ferror(f)) return eai_fail(EAI_E_IO, "%s: read error: %s", path, strerror(errno));
    return eai_fail(EAI_E_FORMAT, "%s: .npy file is truncated inside the %s (%zu of %zu bytes)",
                    path, what, got, n);
}

/* Streams the file: the header first, then the data straight into its final
 * buffer, so a file is never held twice. */
static eai_status_t read_stream(FILE *f, const char *path, bool sized, size_t file_bytes,
                                eai_npy_t *out)
{
    unsigned char pre[12];
    size_t got = fread(pre, 1, 8, f);
    if (ferror(f)) return eai_fail(EAI_E_IO, "%s: read error: %s", path, strerror(errno));
    size_t len_bytes, hlen;
    EAI_TRY(parse_magic(pre, got, path, &len_bytes));
    got = fread(pre + 8, 1, len_bytes, f);
    if (ferror(f)) return eai_fail(EAI_E_IO, "%s: read error: %s", path, strerror(errno));
    EAI_TRY(parse_header_len(pre + 8, got, len_bytes, path, &hlen));
    size_t off = 8 + len_bytes;
    if (sized && hlen > file_bytes - off)
        return eai_fail(EAI_E_FORMAT,
                        "%s: .npy header is truncated: its length field says %zu "
                        "bytes, %zu follow",
                        path, hlen, file_bytes - off);
    char *text = eai__alloc(NULL, hlen);
    if (!text)
        return eai_fail(EAI_E_NOMEM, "%s: out of memory for a %zu-byte .npy header", path, hlen);
    header_t h;
    eai_status_t st = read_exact(f, text, hlen, path, "header");
    if (st == EAI_OK) st = parse_header(text, hlen, path, &h);
    eai__free(NULL, text);
    if (st != EAI_OK) return st;
    off += hlen;
    /* Known size: reject before allocating what a lying header asks for. */
    if (sized && file_bytes - off != h.data_bytes) return size_mismatch(&h, file_bytes - off, path);
    unsigned char *data = eai__alloc(NULL, h.data_bytes);
    if (!data)
        return eai_fail(EAI_E_NOMEM, "%s: out of memory for %zu bytes of .npy data", path,
                        h.data_bytes);
    st = read_exact(f, data, h.data_bytes, path, "data");
    if (st == EAI_OK && fgetc(f) != EOF)
        st = eai_fail(EAI_E_FORMAT,
                      "%s: .npy file continues after the %zu bytes of data its "
                      "header describes",
                      path, h.data_bytes);
    if (st != EAI_OK) {
        eai__free(NULL, data);
        return st;
    }
    fix_data(&h, data);
    fill_out(&h, data, out);
    return EAI_OK;
}

eai_status_t eai_npy_read(const char *path, eai_npy_t *out)
{
    if (!out) return eai_fail(EAI_E_INVALID, "eai_npy_read: out is NULL");
    memset(out, 0, sizeof *out);
    if (!path) return eai_fail(EAI_E_INVALID, "eai_npy_read: path is NULL");
    FILE *f = fopen(path, "rb");
    if (!f) return eai_fail(EAI_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    bool sized = false;
    if (fstat(fileno(f), &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            fclose(f);
            return eai_fail(EAI_E_IO, "%s: is a directory, not an .npy file", path);
        }
        sized = S_ISREG(st.st_mode) && st.st_size >= 0;
    }
    eai_status_t s = read_stream(f, path, sized, sized ? (size_t)st.st_size : 0, out);
    fclose(f);
    return s;
}

void eai_npy_free(eai_npy_t *a)
{
    if (!a) return;
    eai__free(NULL, a->data);
    memset(a, 0, sizeof *a);
}

static const char *descr_of(eai_dtype_t t)
{
    bool le = host_is_little_endian();
    switch (t) {
    case EAI_F32:
        return le ? "<f4" : ">f4";
    case EAI_F16:
        return le ? "<f2" : ">f2";
    case EAI_F64:
        return le ? "<f8" : ">f8";
    case EAI_I64:
        return le ? "<i8" : ">i8";
    case EAI_I32:
        return le ? "<i4" : ">i4";
    case EAI_I16:
        return le ? "<i2" : ">i2";
    case EAI_U16:
        return le ? "<u2" : ">u2";
    case EAI_I8:
        return "|i1";
    case EAI_U8:
        return "|u1";
    case EAI_BOOL:
        return "|b1";
    default:
        return NULL;
    }
}

/* The preamble and padded header numpy's write_array produces: the dict, spaces
 * so that the data starts at a multiple of 64 bytes, then '\n'. */
static size_t build_header(char *buf, size_t cap, const char *descr, int rank, const int64_t *dims)
{
    char dict[512];
    size_t n = (size_t)snprintf(dict, sizeof dict,
                                "{'descr': '%s', 'fortran_order': False, "
                                "'shape': (",
                                descr);
    for (int i = 0; i < rank; i++)
        n += (size_t)snprintf(dict + n, sizeof dict - n, i ? ", %lld" : "%lld", (long long)dims[i]);
    n += (size_t)snprintf(dict + n, sizeof dict - n, "%s), }", rank == 1 ? "," : "");
    /* v1.0 holds header lengths up to 65535; v2.0 (4-byte length) beyond. A
     * rank <= 8 dict is far below that, but keep the rule numpy follows. */
    size_t pre = 10;
    size_t total = EAI_ALIGN_UP(pre + n + 1, 64);
    if (total - pre > 65535) {
        pre = 12;
        total = EAI_ALIGN_UP(pre + n + 1, 64);
    }
    if (total > cap) return 0;
    size_t hlen = total - pre;
    memcpy(buf, MAGIC, MAGIC_LEN);
    buf[6] = pre == 10 ? 1 : 2;
    buf[7] = 0;
    for (size_t i = 0; i < pre - 8; i++)
        buf[8 + i] = (char)(hlen >> (8 * i) & 0xff);
    memcpy(buf + pre, dict, n);
    memset(buf + pre + n, ' ', total - pre - n - 1);
    buf[total - 1] = '\n';
    return total;
}

eai_status_t eai_npy_write(const char *path, eai_dtype_t dtype, int rank, const int64_t *dims,
                           const void *data)
{
    if (!path) return eai_fail(EAI_E_INVALID, "eai_npy_write: path is NULL");
    const char *descr = descr_of(dtype);
    if (!descr)
        return eai_fail(EAI_E_INVALID, "%s: cannot write dtype %d (%s) to .npy", path, (int)dtype,
                        eai_dtype_name(dtype));
    if (rank < 0 || rank > EAI_MAX_RANK)
        return eai_fail(EAI_E_INVALID, "%s: rank %d is outside 0..%d", path, rank, EAI_MAX_RANK);
    if (rank > 0 && !dims)
        return eai_fail(EAI_E_INVALID, "%s: dims is NULL for rank %d", path, rank);
    int64_t n = (int64_t)eai_dtype_size(dtype);
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0)
            return eai_fail(EAI_E_INVALID, "%s: dimension %d is negative (%lld)", path, i,
                            (long long)dims[i]);
        if (!eai__mul_ok(n, dims[i], &n))
            return eai_fail(EAI_E_INVALID, "%s: tensor size overflows 64 bits", path);
    }
    if ((uint64_t)n > SIZE_MAX)
        return eai_fail(EAI_E_INVALID, "%s: tensor of %lld bytes does not fit in memory", path,
                        (long long)n);
    size_t n_bytes = (size_t)n;
    if (n_bytes && !data)
        return eai_fail(EAI_E_INVALID, "%s: data is NULL for %zu bytes", path, n_bytes);
    char hdr[1024];
    size_t hdr_bytes = build_header(hdr, sizeof hdr, descr, rank, dims);
    if (EAI_NEVER(hdr_bytes == 0))
        return eai_fail(EAI_E_INVALID, "%s: .npy header does not fit", path);

    eai__afile_t f;
    EAI_TRY(eai__afile_open(&f, NULL, path));
    int err = 0;
    if (!eai__write_all(f.fd, hdr, hdr_bytes) || (n_bytes && !eai__write_all(f.fd, data, n_bytes)))
        err = errno;
    return eai__afile_commit(&f, err);
}
