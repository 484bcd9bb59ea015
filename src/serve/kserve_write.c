/* KServe v2 bodies, the writing half: done by hand into a growing buffer
 * because a tensor of a million floats would otherwise become a million
 * cJSON nodes. Tensors flagged binary go after the JSON as raw little-endian
 * bytes (Triton's binary tensor data extension). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_impl.h"
#include "serve/serve_impl.h"

/* ---- writing ---- */

typedef struct {
    char *p;
    size_t n, cap;
    bool oom;
} sbuf_t;

static void sb_reserve(sbuf_t *b, size_t extra)
{
    if (b->oom) return;
    if (b->n + extra + 1 <= b->cap) return;
    size_t c = b->cap ? b->cap : 256;
    while (c < b->n + extra + 1) {
        if (c > SIZE_MAX / 2) {
            b->oom = true;
            return;
        }
        c *= 2;
    }
    char *q = realloc(b->p, c);
    if (!q) {
        b->oom = true;
        return;
    }
    b->p = q;
    b->cap = c;
}

static void sb_put(sbuf_t *b, const char *s, size_t n)
{
    sb_reserve(b, n);
    if (b->oom) return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void sb_str(sbuf_t *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static void sb_printf(sbuf_t *b, const char *fmt, ...) EAI_PRINTF(2, 3);
static void sb_printf(sbuf_t *b, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k > 0) sb_put(b, tmp, (size_t)k < sizeof tmp ? (size_t)k : sizeof tmp - 1);
}

/* JSON string with escaping of quotes, backslashes and control bytes. */
static void sb_jstr(sbuf_t *b, const char *s)
{
    sb_put(b, "\"", 1);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') {
            char e[2] = {'\\', (char)*c};
            sb_put(b, e, 2);
        } else if (*c < 0x20) {
            sb_printf(b, "\\u%04x", *c);
        } else {
            sb_put(b, (const char *)c, 1);
        }
    }
    sb_put(b, "\"", 1);
}

static void sb_double(sbuf_t *b, double d, int digits)
{
    if (isnan(d))
        sb_str(b, "null");
    else if (isinf(d))
        sb_str(b, d > 0 ? "1e999" : "-1e999"); /* parses back to +-inf in cJSON and Python */
    else
        sb_printf(b, "%.*g", digits, d);
}

/* `bin`: write binary_data_size instead of data (the bytes follow later). */
static eai_status_t write_tensor(sbuf_t *b, const eai_kserve_tensor_t *t, bool bin)
{
    const char *dn = eai_kserve_dtype_name(t->dtype);
    if (!dn)
        return eai_fail(EAI_E_UNSUPPORTED, "kserve: tensor \"%s\": dtype %s has no KServe name",
                        t->name ? t->name : "", eai_dtype_name(t->dtype));
    int64_t numel = 1;
    for (int i = 0; i < t->rank; i++)
        numel *= t->dims[i];
    if (t->rank < 0 || t->rank > EAI_MAX_RANK || numel < 0 ||
        (size_t)numel * eai_dtype_size(t->dtype) != t->n_bytes || (numel && !t->data))
        return eai_fail(EAI_E_INVALID, "kserve: tensor \"%s\": shape does not match %zu bytes",
                        t->name ? t->name : "", t->n_bytes);
    sb_str(b, "{\"name\":");
    sb_jstr(b, t->name ? t->name : "");
    sb_str(b, ",\"datatype\":\"");
    sb_str(b, dn);
    sb_str(b, "\",\"shape\":[");
    for (int i = 0; i < t->rank; i++)
        sb_printf(b, i ? ",%lld" : "%lld", (long long)t->dims[i]);
    if (bin) {
        sb_printf(b, "],\"parameters\":{\"binary_data_size\":%zu}}", t->n_bytes);
        return EAI_OK;
    }
    sb_str(b, "],\"data\":[");
    /* reserve roughly once so the loop below rarely reallocates */
    sb_reserve(b, (size_t)numel * 12);
    for (int64_t i = 0; i < numel && !b->oom; i++) {
        if (i) sb_put(b, ",", 1);
        switch (t->dtype) {
        case EAI_F32:
            sb_double(b, ((const float *)t->data)[i], 9);
            break;
        case EAI_F64:
            sb_double(b, ((const double *)t->data)[i], 17);
            break;
        case EAI_F16:
            sb_double(b, eai_f16_to_f32(((const uint16_t *)t->data)[i]), 9);
            break;
        case EAI_BOOL:
            sb_str(b, ((const uint8_t *)t->data)[i] ? "true" : "false");
            break;
        case EAI_U8:
            sb_printf(b, "%u", ((const uint8_t *)t->data)[i]);
            break;
        case EAI_I8:
            sb_printf(b, "%d", ((const int8_t *)t->data)[i]);
            break;
        case EAI_U16:
            sb_printf(b, "%u", ((const uint16_t *)t->data)[i]);
            break;
        case EAI_I16:
            sb_printf(b, "%d", ((const int16_t *)t->data)[i]);
            break;
        case EAI_I32:
            sb_printf(b, "%d", ((const int32_t *)t->data)[i]);
            break;
        case EAI_I64:
            sb_printf(b, "%lld", (long long)((const int64_t *)t->data)[i]);
            break;
        default:
            break;
        }
    }
    sb_str(b, "]}");
    return EAI_OK;
}

/* Appends the binary tensors after the JSON, little-endian. */
static void put_binary(sbuf_t *b, const eai_kserve_tensor_t *ts, int n)
{
    for (int i = 0; i < n; i++) {
        if (!ts[i].binary) continue;
        size_t at = b->n, es = eai_dtype_size(ts[i].dtype);
        sb_put(b, ts[i].data, ts[i].n_bytes);
        if (!b->oom) eai__kserve_le(b->p + at, ts[i].n_bytes, es);
    }
}

static eai_status_t finish(sbuf_t *b, eai_status_t st, char **body, size_t *n)
{
    if (st == EAI_OK && b->oom) st = eai_fail(EAI_E_NOMEM, "kserve: out of memory writing body");
    if (st != EAI_OK) {
        free(b->p);
        return st;
    }
    *body = b->p;
    if (n) *n = b->n;
    return EAI_OK;
}

static bool any_binary(const eai_kserve_msg_t *m)
{
    for (int i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].binary) return true;
    return false;
}

/* header_len NULL: the plain-JSON entry points, which ignore the flags. */
static eai_status_t write_request(const eai_kserve_msg_t *m, char **body, size_t *n,
                                  size_t *header_len)
{
    if (!m || !body) return eai_fail(EAI_E_INVALID, "kserve: NULL argument");
    bool bin = header_len && any_binary(m);
    sbuf_t b = {0};
    eai_status_t st = EAI_OK;
    sb_str(&b, "{");
    if (m->id) {
        sb_str(&b, "\"id\":");
        sb_jstr(&b, m->id);
        sb_str(&b, ",");
    }
    if (header_len && m->binary_output) sb_str(&b, "\"parameters\":{\"binary_data_output\":true},");
    sb_str(&b, "\"inputs\":[");
    for (int i = 0; i < m->n_tensors && st == EAI_OK; i++) {
        if (i) sb_str(&b, ",");
        st = write_tensor(&b, &m->tensors[i], bin && m->tensors[i].binary);
    }
    sb_str(&b, "]");
    if (m->n_requested > 0) {
        sb_str(&b, ",\"outputs\":[");
        for (int i = 0; i < m->n_requested; i++) {
            sb_str(&b, i ? ",{\"name\":" : "{\"name\":");
            sb_jstr(&b, m->requested[i] ? m->requested[i] : "");
            if (header_len && m->requested_binary && m->requested_binary[i])
                sb_str(&b, ",\"parameters\":{\"binary_data\":true}");
            sb_str(&b, "}");
        }
        sb_str(&b, "]");
    }
    sb_str(&b, "}");
    if (header_len) *header_len = bin ? b.n : 0;
    if (bin) put_binary(&b, m->tensors, m->n_tensors);
    return finish(&b, st, body, n);
}

static eai_status_t write_response(const eai_kserve_msg_t *m, char **body, size_t *n,
                                   size_t *header_len)
{
    if (!m || !body) return eai_fail(EAI_E_INVALID, "kserve: NULL argument");
    bool bin = header_len && any_binary(m);
    sbuf_t b = {0};
    eai_status_t st = EAI_OK;
    sb_str(&b, "{\"model_name\":");
    sb_jstr(&b, m->model_name ? m->model_name : "");
    if (m->model_version) {
        sb_str(&b, ",\"model_version\":");
        sb_jstr(&b, m->model_version);
    }
    if (m->id) {
        sb_str(&b, ",\"id\":");
        sb_jstr(&b, m->id);
    }
    sb_str(&b, ",\"outputs\":[");
    for (int i = 0; i < m->n_tensors && st == EAI_OK; i++) {
        if (i) sb_str(&b, ",");
        st = write_tensor(&b, &m->tensors[i], bin && m->tensors[i].binary);
    }
    sb_str(&b, "]}");
    if (header_len) *header_len = bin ? b.n : 0;
    if (bin) put_binary(&b, m->tensors, m->n_tensors);
    return finish(&b, st, body, n);
}

eai_status_t eai_kserve_write_request(const eai_kserve_msg_t *m, char **body, size_t *n)
{
    return write_request(m, body, n, NULL);
}

eai_status_t eai_kserve_write_response(const eai_kserve_msg_t *m, char **body, size_t *n)
{
    return write_response(m, body, n, NULL);
}

eai_status_t eai_kserve_write_request_ex(const eai_kserve_msg_t *m, char **body, size_t *n,
                                         size_t *header_len)
{
    if (!header_len) return eai_fail(EAI_E_INVALID, "kserve: NULL header_len");
    return write_request(m, body, n, header_len);
}

eai_status_t eai_kserve_write_response_ex(const eai_kserve_msg_t *m, char **body, size_t *n,
                                          size_t *header_len)
{
    if (!header_len) return eai_fail(EAI_E_INVALID, "kserve: NULL header_len");
    return write_response(m, body, n, header_len);
}

eai_status_t eai_kserve_write_error(const char *sentence, char **body, size_t *n)
{
    if (!body) return eai_fail(EAI_E_INVALID, "kserve: NULL argument");
    sbuf_t b = {0};
    sb_str(&b, "{\"error\":");
    sb_jstr(&b, sentence ? sentence : "");
    sb_str(&b, "}");
    return finish(&b, EAI_OK, body, n);
}
