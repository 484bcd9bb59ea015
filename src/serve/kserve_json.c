/* KServe v2 JSON bodies: parsing goes through cJSON (bounded by the limits
 * checked before and during the walk); writing is done by hand into a growing
 * buffer because a tensor of a million floats would otherwise become a
 * million cJSON nodes. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/core_impl.h"
#include "edgeai/kserve.h"

#define DEF_MAX_BODY     ((size_t)64 << 20)
#define DEF_MAX_TENSORS  64
#define DEF_MAX_ELEMENTS ((int64_t)1 << 26)

static const struct {
    const char *name;
    eai_dtype_t t;
} k_types[] = {
    {"BOOL", EAI_BOOL}, {"UINT8", EAI_U8},  {"INT8", EAI_I8},   {"UINT16", EAI_U16},
    {"INT16", EAI_I16}, {"INT32", EAI_I32}, {"INT64", EAI_I64}, {"FP16", EAI_F16},
    {"FP32", EAI_F32},  {"FP64", EAI_F64},
};

const char *eai_kserve_dtype_name(eai_dtype_t t)
{
    for (size_t i = 0; i < sizeof k_types / sizeof k_types[0]; i++)
        if (k_types[i].t == t) return k_types[i].name;
    return NULL;
}

eai_status_t eai_kserve_dtype_parse(const char *s, eai_dtype_t *out)
{
    if (!s || !out) return eai_fail(EAI_E_INVALID, "kserve: datatype: NULL argument");
    for (size_t i = 0; i < sizeof k_types / sizeof k_types[0]; i++)
        if (strcmp(k_types[i].name, s) == 0) {
            *out = k_types[i].t;
            return EAI_OK;
        }
    if (strcmp(s, "BYTES") == 0)
        return eai_fail(EAI_E_UNSUPPORTED, "kserve: datatype BYTES is not supported");
    return eai_fail(EAI_E_FORMAT, "kserve: unknown datatype \"%.32s\"", s);
}

void eai_kserve_msg_free(eai_kserve_msg_t *m)
{
    if (!m) return;
    for (int i = 0; i < m->n_tensors; i++) {
        free(m->tensors[i].name);
        free(m->tensors[i].data);
    }
    free(m->tensors);
    for (int i = 0; i < m->n_requested; i++)
        free(m->requested[i]);
    free(m->requested);
    free(m->id);
    free(m->model_name);
    free(m->model_version);
    memset(m, 0, sizeof *m);
}

/* ---- parsing ---- */

typedef struct {
    size_t max_body;
    int max_tensors;
    int64_t max_elems;
} lims_t;

static lims_t lims_of(const eai_kserve_limits_t *l)
{
    lims_t r = {DEF_MAX_BODY, DEF_MAX_TENSORS, DEF_MAX_ELEMENTS};
    if (l && l->max_body_bytes) r.max_body = l->max_body_bytes;
    if (l && l->max_tensors > 0) r.max_tensors = l->max_tensors;
    if (l && l->max_elements > 0) r.max_elems = l->max_elements;
    return r;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

/* Counts the leaves of a (possibly nested) data array; false on a non-array
 * non-leaf or when the count passes `cap` (stops early so a hostile body
 * cannot make us walk forever). */
static bool count_leaves(const cJSON *a, int64_t cap, int64_t *n, int depth)
{
    if (depth > EAI_MAX_RANK + 1) return false;
    for (const cJSON *c = a->child; c; c = c->next) {
        if (cJSON_IsArray(c)) {
            if (!count_leaves(c, cap, n, depth + 1)) return false;
        } else if (++*n > cap) {
            return false;
        }
    }
    return true;
}

typedef struct {
    eai_kserve_tensor_t *t;
    int64_t i;
    const char *where; /* "input" / "output" */
} fill_t;

static eai_status_t put_value(fill_t *f, const cJSON *v)
{
    eai_kserve_tensor_t *t = f->t;
    int64_t i = f->i;
    if (t->dtype == EAI_BOOL) {
        if (cJSON_IsBool(v)) {
            ((uint8_t *)t->data)[i] = cJSON_IsTrue(v) ? 1 : 0;
        } else if (cJSON_IsNumber(v) && (v->valuedouble == 0 || v->valuedouble == 1)) {
            ((uint8_t *)t->data)[i] = (uint8_t)v->valuedouble;
        } else {
            return eai_fail(EAI_E_FORMAT,
                            "kserve: %s \"%s\": data[%lld] is not a boolean (BOOL tensor)",
                            f->where, t->name, (long long)i);
        }
        f->i++;
        return EAI_OK;
    }
    bool is_float = t->dtype == EAI_F32 || t->dtype == EAI_F64 || t->dtype == EAI_F16;
    double d;
    if (cJSON_IsNumber(v)) {
        d = v->valuedouble;
    } else if (is_float && cJSON_IsNull(v)) {
        d = NAN; /* our writer's spelling of NaN (JSON has none) */
    } else {
        return eai_fail(EAI_E_FORMAT, "kserve: %s \"%s\": data[%lld] is not a number", f->where,
                        t->name, (long long)i);
    }
    if (!is_float) {
        double lo, hi;
        switch (t->dtype) {
        case EAI_U8:
            lo = 0, hi = 255;
            break;
        case EAI_I8:
            lo = -128, hi = 127;
            break;
        case EAI_U16:
            lo = 0, hi = 65535;
            break;
        case EAI_I16:
            lo = -32768, hi = 32767;
            break;
        case EAI_I32:
            lo = -2147483648.0, hi = 2147483647.0;
            break;
        default:
            lo = -9223372036854775808.0, hi = 9223372036854775807.0;
            break;
        }
        /* hi for INT64 rounds up to 2^63, which must stay excluded */
        if (!(d >= lo && (t->dtype == EAI_I64 ? d < hi : d <= hi)) || d != floor(d))
            return eai_fail(EAI_E_FORMAT,
                            "kserve: %s \"%s\": data[%lld] = %.17g is out of range for %s",
                            f->where, t->name, (long long)i, d, eai_kserve_dtype_name(t->dtype));
    }
    switch (t->dtype) {
    case EAI_F32:
        if (isfinite(d) && isinf((float)d)) /* rounds past FLT_MAX */
            return eai_fail(EAI_E_FORMAT,
                            "kserve: %s \"%s\": data[%lld] = %.17g is out of range for FP32",
                            f->where, t->name, (long long)i, d);
        ((float *)t->data)[i] = (float)d;
        break;
    case EAI_F64:
        ((double *)t->data)[i] = d;
        break;
    case EAI_F16:
        ((uint16_t *)t->data)[i] = eai_f32_to_f16((float)d);
        break;
    case EAI_U8:
        ((uint8_t *)t->data)[i] = (uint8_t)d;
        break;
    case EAI_I8:
        ((int8_t *)t->data)[i] = (int8_t)d;
        break;
    case EAI_U16:
        ((uint16_t *)t->data)[i] = (uint16_t)d;
        break;
    case EAI_I16:
        ((int16_t *)t->data)[i] = (int16_t)d;
        break;
    case EAI_I32:
        ((int32_t *)t->data)[i] = (int32_t)d;
        break;
    case EAI_I64:
        ((int64_t *)t->data)[i] = (int64_t)d;
        break;
    default:
        return eai_fail(EAI_E_FORMAT, "kserve: bad dtype");
    }
    f->i++;
    return EAI_OK;
}

static eai_status_t fill(fill_t *f, const cJSON *a)
{
    for (const cJSON *c = a->child; c; c = c->next) {
        if (cJSON_IsArray(c))
            EAI_TRY(fill(f, c));
        else
            EAI_TRY(put_value(f, c));
    }
    return EAI_OK;
}

static eai_status_t parse_tensor(const cJSON *o, int idx, const char *where, const lims_t *L,
                                 eai_kserve_tensor_t *t)
{
    if (!cJSON_IsObject(o))
        return eai_fail(EAI_E_FORMAT, "kserve: %ss[%d] is not an object", where, idx);
    const cJSON *jn = cJSON_GetObjectItemCaseSensitive(o, "name");
    if (!cJSON_IsString(jn) || !jn->valuestring[0])
        return eai_fail(EAI_E_FORMAT, "kserve: %ss[%d]: \"name\" is missing or not a string", where,
                        idx);
    if (!(t->name = dup_str(jn->valuestring)))
        return eai_fail(EAI_E_NOMEM, "kserve: out of memory");
    const char *nm = t->name;
    const cJSON *jd = cJSON_GetObjectItemCaseSensitive(o, "datatype");
    if (!cJSON_IsString(jd))
        return eai_fail(EAI_E_FORMAT, "kserve: %s \"%s\": \"datatype\" is missing or not a string",
                        where, nm);
    eai_status_t st = eai_kserve_dtype_parse(jd->valuestring, &t->dtype);
    if (st != EAI_OK)
        return eai_fail(st, "kserve: %s \"%s\": datatype \"%.32s\" is %s", where, nm,
                        jd->valuestring, st == EAI_E_UNSUPPORTED ? "not supported" : "unknown");
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(o, "shape");
    if (!cJSON_IsArray(js))
        return eai_fail(EAI_E_FORMAT, "kserve: %s \"%s\": \"shape\" is missing or not an array",
                        where, nm);
    int rank = cJSON_GetArraySize(js);
    if (rank > EAI_MAX_RANK)
        return eai_fail(EAI_E_FORMAT, "kserve: %s \"%s\": shape has rank %d (max %d)", where, nm,
                        rank, EAI_MAX_RANK);
    t->rank = rank;
    int64_t numel = 1;
    int k = 0;
    for (const cJSON *c = js->child; c; c = c->next, k++) {
        if (!cJSON_IsNumber(c) || c->valuedouble < 0 || c->valuedouble != floor(c->valuedouble) ||
            c->valuedouble > 9.0e15)
            return eai_fail(EAI_E_FORMAT,
                            "kserve: %s \"%s\": shape[%d] is not a non-negative integer", where, nm,
                            k);
        t->dims[k] = (int64_t)c->valuedouble;
        if (!eai__mul_ok(numel, t->dims[k], &numel) || numel > L->max_elems)
            return eai_fail(EAI_E_INVALID, "kserve: %s \"%s\": more than %lld elements", where, nm,
                            (long long)L->max_elems);
    }
    const cJSON *ja = cJSON_GetObjectItemCaseSensitive(o, "data");
    if (!ja) return eai_fail(EAI_E_FORMAT, "kserve: %s \"%s\": \"data\" is missing", where, nm);
    if (!cJSON_IsArray(ja)) {
        if (cJSON_IsObject(ja) || cJSON_IsString(ja))
            return eai_fail(EAI_E_FORMAT, "kserve: %s \"%s\": \"data\" is not an array", where, nm);
        /* a bare scalar for a one-element tensor */
    }
    int64_t n = 0;
    if (cJSON_IsArray(ja)) {
        if (!count_leaves(ja, numel, &n, 0))
            return eai_fail(EAI_E_FORMAT,
                            "kserve: %s \"%s\": \"data\" has more values than shape's %lld "
                            "(or nests too deep)",
                            where, nm, (long long)numel);
    } else {
        n = 1;
    }
    if (n != numel)
        return eai_fail(EAI_E_FORMAT,
                        "kserve: %s \"%s\": \"data\" has %lld values, shape says %lld", where, nm,
                        (long long)n, (long long)numel);
    size_t es = eai_dtype_size(t->dtype);
    t->n_bytes = (size_t)numel * es;
    t->data = malloc(t->n_bytes ? t->n_bytes : 1);
    if (!t->data) return eai_fail(EAI_E_NOMEM, "kserve: %s \"%s\": out of memory", where, nm);
    fill_t f = {t, 0, where};
    return cJSON_IsArray(ja) ? fill(&f, ja) : put_value(&f, ja);
}

static eai_status_t parse_tensors(const cJSON *arr, const char *where, const lims_t *L,
                                  eai_kserve_msg_t *m)
{
    int n = cJSON_GetArraySize(arr);
    if (n > L->max_tensors)
        return eai_fail(EAI_E_INVALID, "kserve: %d %ss (limit %d)", n, where, L->max_tensors);
    if (n == 0) return EAI_OK;
    m->tensors = calloc((size_t)n, sizeof *m->tensors);
    if (!m->tensors) return eai_fail(EAI_E_NOMEM, "kserve: out of memory");
    int i = 0;
    for (const cJSON *c = arr->child; c; c = c->next, i++) {
        m->n_tensors = i + 1;
        EAI_TRY(parse_tensor(c, i, where, L, &m->tensors[i]));
        for (int j = 0; j < i; j++)
            if (strcmp(m->tensors[j].name, m->tensors[i].name) == 0)
                return eai_fail(EAI_E_FORMAT, "kserve: %s \"%s\" appears twice", where,
                                m->tensors[i].name);
    }
    return EAI_OK;
}

static eai_status_t opt_string(const cJSON *root, const char *key, char **out)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!j || cJSON_IsNull(j)) return EAI_OK;
    if (!cJSON_IsString(j)) return eai_fail(EAI_E_FORMAT, "kserve: \"%s\" is not a string", key);
    if (!(*out = dup_str(j->valuestring))) return eai_fail(EAI_E_NOMEM, "kserve: out of memory");
    return EAI_OK;
}

static eai_status_t parse_root(const char *body, size_t n, const lims_t *L, cJSON **root)
{
    *root = NULL;
    if (!body) return eai_fail(EAI_E_INVALID, "kserve: NULL body");
    if (n > L->max_body)
        return eai_fail(EAI_E_INVALID, "kserve: body of %zu bytes exceeds the limit of %zu", n,
                        L->max_body);
    const char *end = NULL;
    cJSON *r = cJSON_ParseWithLengthOpts(body, n, &end, false);
    if (!r) {
        size_t at = end && end >= body ? (size_t)(end - body) : 0;
        return eai_fail(EAI_E_FORMAT, "kserve: malformed JSON near byte %zu", at);
    }
    if (!cJSON_IsObject(r)) {
        cJSON_Delete(r);
        return eai_fail(EAI_E_FORMAT, "kserve: body is not a JSON object");
    }
    *root = r;
    return EAI_OK;
}

static eai_status_t parse_request(const cJSON *root, const lims_t *L, eai_kserve_msg_t *m)
{
    EAI_TRY(opt_string(root, "id", &m->id));
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(root, "inputs");
    if (!cJSON_IsArray(in))
        return eai_fail(EAI_E_FORMAT, "kserve: \"inputs\" is missing or not an array");
    EAI_TRY(parse_tensors(in, "input", L, m));
    const cJSON *out = cJSON_GetObjectItemCaseSensitive(root, "outputs");
    if (!out || cJSON_IsNull(out)) return EAI_OK;
    if (!cJSON_IsArray(out)) return eai_fail(EAI_E_FORMAT, "kserve: \"outputs\" is not an array");
    int k = cJSON_GetArraySize(out);
    if (k > L->max_tensors)
        return eai_fail(EAI_E_INVALID, "kserve: %d requested outputs (limit %d)", k,
                        L->max_tensors);
    if (k == 0) return EAI_OK;
    if (!(m->requested = calloc((size_t)k, sizeof *m->requested)))
        return eai_fail(EAI_E_NOMEM, "kserve: out of memory");
    int i = 0;
    for (const cJSON *c = out->child; c; c = c->next, i++) {
        const cJSON *jn = cJSON_IsObject(c) ? cJSON_GetObjectItemCaseSensitive(c, "name") : NULL;
        if (!cJSON_IsString(jn))
            return eai_fail(EAI_E_FORMAT,
                            "kserve: outputs[%d]: \"name\" is missing or not a string", i);
        if (!(m->requested[i] = dup_str(jn->valuestring)))
            return eai_fail(EAI_E_NOMEM, "kserve: out of memory");
        m->n_requested = i + 1;
    }
    return EAI_OK;
}

eai_status_t eai_kserve_parse_request(const char *body, size_t n, const eai_kserve_limits_t *lim,
                                      eai_kserve_msg_t *out)
{
    if (!out) return eai_fail(EAI_E_INVALID, "kserve: NULL output");
    memset(out, 0, sizeof *out);
    lims_t L = lims_of(lim);
    cJSON *root;
    EAI_TRY(parse_root(body, n, &L, &root));
    eai_status_t st = parse_request(root, &L, out);
    cJSON_Delete(root);
    if (st != EAI_OK) eai_kserve_msg_free(out);
    return st;
}

static eai_status_t parse_response(const cJSON *root, const lims_t *L, eai_kserve_msg_t *m)
{
    const cJSON *je = cJSON_GetObjectItemCaseSensitive(root, "error");
    if (je) {
        const char *s = cJSON_IsString(je) ? je->valuestring : "(error without a sentence)";
        return eai_fail(EAI_E_UNAVAILABLE, "%s", s);
    }
    EAI_TRY(opt_string(root, "id", &m->id));
    EAI_TRY(opt_string(root, "model_name", &m->model_name));
    EAI_TRY(opt_string(root, "model_version", &m->model_version));
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, "outputs");
    if (!cJSON_IsArray(o))
        return eai_fail(EAI_E_FORMAT, "kserve: \"outputs\" is missing or not an array");
    return parse_tensors(o, "output", L, m);
}

eai_status_t eai_kserve_parse_response(const char *body, size_t n, const eai_kserve_limits_t *lim,
                                       eai_kserve_msg_t *out)
{
    if (!out) return eai_fail(EAI_E_INVALID, "kserve: NULL output");
    memset(out, 0, sizeof *out);
    lims_t L = lims_of(lim);
    cJSON *root;
    EAI_TRY(parse_root(body, n, &L, &root));
    eai_status_t st = parse_response(root, &L, out);
    cJSON_Delete(root);
    if (st != EAI_OK) eai_kserve_msg_free(out);
    return st;
}

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

static eai_status_t write_tensor(sbuf_t *b, const eai_kserve_tensor_t *t)
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

eai_status_t eai_kserve_write_request(const eai_kserve_msg_t *m, char **body, size_t *n)
{
    if (!m || !body) return eai_fail(EAI_E_INVALID, "kserve: NULL argument");
    sbuf_t b = {0};
    eai_status_t st = EAI_OK;
    sb_str(&b, "{");
    if (m->id) {
        sb_str(&b, "\"id\":");
        sb_jstr(&b, m->id);
        sb_str(&b, ",");
    }
    sb_str(&b, "\"inputs\":[");
    for (int i = 0; i < m->n_tensors && st == EAI_OK; i++) {
        if (i) sb_str(&b, ",");
        st = write_tensor(&b, &m->tensors[i]);
    }
    sb_str(&b, "]");
    if (m->n_requested > 0) {
        sb_str(&b, ",\"outputs\":[");
        for (int i = 0; i < m->n_requested; i++) {
            sb_str(&b, i ? ",{\"name\":" : "{\"name\":");
            sb_jstr(&b, m->requested[i] ? m->requested[i] : "");
            sb_str(&b, "}");
        }
        sb_str(&b, "]");
    }
    sb_str(&b, "}");
    return finish(&b, st, body, n);
}

eai_status_t eai_kserve_write_response(const eai_kserve_msg_t *m, char **body, size_t *n)
{
    if (!m || !body) return eai_fail(EAI_E_INVALID, "kserve: NULL argument");
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
        st = write_tensor(&b, &m->tensors[i]);
    }
    sb_str(&b, "]}");
    return finish(&b, st, body, n);
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
