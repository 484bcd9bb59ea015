/* KServe v2 bodies, the parsing half: the JSON goes through cJSON (bounded
 * by the limits checked before and during the walk); binary tensor data
 * after it is claimed tensor by tensor. Writing is in kserve_write.c. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/core_impl.h"
#include "edgeai/kserve.h"
#include "serve/serve_impl.h"

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
    free(m->requested_binary);
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

void eai__kserve_le(void *data, size_t n_bytes, size_t es)
{
    const uint16_t one = 1;
    if (*(const uint8_t *)&one == 1 || es < 2) return;
    uint8_t *p = data;
    for (size_t i = 0; i + es <= n_bytes; i += es)
        for (size_t a = 0, b = es - 1; a < b; a++, b--) {
            uint8_t x = p[i + a];
            p[i + a] = p[i + b];
            p[i + b] = x;
        }
}

/* The binary part of a body: tensors claim their bytes in order. */
typedef struct {
    const uint8_t *p;
    size_t n, at;
    bool present; /* the body has a header length, so binary data may follow */
} bin_t;

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
        /* JSON numbers arrive as doubles: past 2^53 the value may already be
         * rounded, so refuse it rather than pass on a different integer */
        if (t->dtype == EAI_I64 && fabs(d) > 9007199254740992.0)
            return eai_fail(EAI_E_FORMAT,
                            "kserve: %s \"%s\": data[%lld] = %.17g is beyond 2^53, where JSON "
                            "numbers lose precision; send INT64 this large as binary data",
                            f->where, t->name, (long long)i, d);
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

/* A tensor sent as binary data: its bytes are the next binary_data_size of
 * the body's binary part. */
static eai_status_t take_binary(const cJSON *jb, const char *where, int64_t numel, bin_t *bin,
                                eai_kserve_tensor_t *t)
{
    const char *nm = t->name;
    if (!bin->present)
        return eai_fail(EAI_E_FORMAT,
                        "kserve: %s \"%s\": binary_data_size without an "
                        "Inference-Header-Content-Length header",
                        where, nm);
    if (!cJSON_IsNumber(jb) || jb->valuedouble < 0 || jb->valuedouble != floor(jb->valuedouble))
        return eai_fail(EAI_E_FORMAT,
                        "kserve: %s \"%s\": binary_data_size is not a non-negative integer", where,
                        nm);
    size_t es = eai_dtype_size(t->dtype), want = (size_t)numel * es;
    if (jb->valuedouble != (double)want)
        return eai_fail(EAI_E_FORMAT,
                        "kserve: %s \"%s\": binary_data_size is %.0f, shape and datatype say %zu",
                        where, nm, jb->valuedouble, want);
    if (bin->n - bin->at < want)
        return eai_fail(EAI_E_FORMAT,
                        "kserve: %s \"%s\": the body ends %zu bytes into its %zu bytes of binary "
                        "data",
                        where, nm, bin->n - bin->at, want);
    t->n_bytes = want;
    if (!(t->data = malloc(want ? want : 1)))
        return eai_fail(EAI_E_NOMEM, "kserve: %s \"%s\": out of memory", where, nm);
    memcpy(t->data, bin->p + bin->at, want);
    bin->at += want;
    t->binary = true;
    if (t->dtype == EAI_BOOL)
        for (size_t i = 0; i < want; i++)
            if (((const uint8_t *)t->data)[i] > 1)
                return eai_fail(EAI_E_FORMAT,
                                "kserve: %s \"%s\": binary BOOL byte %zu is %u (must be 0 or 1)",
                                where, nm, i, ((const uint8_t *)t->data)[i]);
    eai__kserve_le(t->data, want, es);
    return EAI_OK;
}

static eai_status_t parse_tensor(const cJSON *o, int idx, const char *where, const lims_t *L,
                                 bin_t *bin, eai_kserve_tensor_t *t)
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
    const cJSON *jp = cJSON_GetObjectItemCaseSensitive(o, "parameters");
    if (jp && !cJSON_IsObject(jp) && !cJSON_IsNull(jp))
        return eai_fail(EAI_E_FORMAT, "kserve: %s \"%s\": \"parameters\" is not an object", where,
                        nm);
    const cJSON *jb =
        cJSON_IsObject(jp) ? cJSON_GetObjectItemCaseSensitive(jp, "binary_data_size") : NULL;
    if (jb) {
        if (ja)
            return eai_fail(EAI_E_FORMAT,
                            "kserve: %s \"%s\": both \"data\" and binary_data_size are given",
                            where, nm);
        return take_binary(jb, where, numel, bin, t);
    }
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

static eai_status_t parse_tensors(const cJSON *arr, const char *where, const lims_t *L, bin_t *bin,
                                  eai_kserve_msg_t *m)
{
    int n = cJSON_GetArraySize(arr);
    if (n > L->max_tensors)
        return eai_fail(EAI_E_INVALID, "kserve: %d %ss (limit %d)", n, where, L->max_tensors);
    if (n == 0 && bin->at != bin->n)
        return eai_fail(EAI_E_FORMAT, "kserve: %zu bytes of binary data but no %ss", bin->n, where);
    if (n == 0) return EAI_OK;
    m->tensors = calloc((size_t)n, sizeof *m->tensors);
    if (!m->tensors) return eai_fail(EAI_E_NOMEM, "kserve: out of memory");
    int i = 0;
    for (const cJSON *c = arr->child; c; c = c->next, i++) {
        m->n_tensors = i + 1;
        EAI_TRY(parse_tensor(c, i, where, L, bin, &m->tensors[i]));
        for (int j = 0; j < i; j++)
            if (strcmp(m->tensors[j].name, m->tensors[i].name) == 0)
                return eai_fail(EAI_E_FORMAT, "kserve: %s \"%s\" appears twice", where,
                                m->tensors[i].name);
    }
    if (bin->at != bin->n)
        return eai_fail(EAI_E_FORMAT, "kserve: %zu bytes of binary data that no %s claims",
                        bin->n - bin->at, where);
    return EAI_OK;
}

/* An optional boolean member of an optional "parameters" object. */
static eai_status_t opt_param_bool(const cJSON *o, const char *key, const char *what, bool *out)
{
    const cJSON *jp = cJSON_GetObjectItemCaseSensitive(o, "parameters");
    if (!jp || cJSON_IsNull(jp)) return EAI_OK;
    if (!cJSON_IsObject(jp))
        return eai_fail(EAI_E_FORMAT, "kserve: %s: \"parameters\" is not an object", what);
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(jp, key);
    if (!j) return EAI_OK;
    if (!cJSON_IsBool(j))
        return eai_fail(EAI_E_FORMAT, "kserve: %s: parameter %s is not a boolean", what, key);
    *out = cJSON_IsTrue(j);
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

static eai_status_t parse_root(const char *body, size_t n, size_t header_len, const lims_t *L,
                               cJSON **root, bin_t *bin)
{
    *root = NULL;
    if (!body) return eai_fail(EAI_E_INVALID, "kserve: NULL body");
    if (n > L->max_body)
        return eai_fail(EAI_E_INVALID, "kserve: body of %zu bytes exceeds the limit of %zu", n,
                        L->max_body);
    if (header_len > n)
        return eai_fail(EAI_E_FORMAT,
                        "kserve: Inference-Header-Content-Length %zu exceeds the "
                        "body's %zu bytes",
                        header_len, n);
    *bin = (bin_t){.p = (const uint8_t *)body + header_len,
                   .n = header_len ? n - header_len : 0,
                   .present = header_len > 0};
    if (header_len) n = header_len;
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

static eai_status_t parse_request(const cJSON *root, const lims_t *L, bin_t *bin,
                                  eai_kserve_msg_t *m)
{
    EAI_TRY(opt_string(root, "id", &m->id));
    EAI_TRY(opt_param_bool(root, "binary_data_output", "request", &m->binary_output));
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(root, "inputs");
    if (!cJSON_IsArray(in))
        return eai_fail(EAI_E_FORMAT, "kserve: \"inputs\" is missing or not an array");
    EAI_TRY(parse_tensors(in, "input", L, bin, m));
    const cJSON *out = cJSON_GetObjectItemCaseSensitive(root, "outputs");
    if (!out || cJSON_IsNull(out)) return EAI_OK;
    if (!cJSON_IsArray(out)) return eai_fail(EAI_E_FORMAT, "kserve: \"outputs\" is not an array");
    int k = cJSON_GetArraySize(out);
    if (k > L->max_tensors)
        return eai_fail(EAI_E_INVALID, "kserve: %d requested outputs (limit %d)", k,
                        L->max_tensors);
    if (k == 0) return EAI_OK;
    if (!(m->requested = calloc((size_t)k, sizeof *m->requested)) ||
        !(m->requested_binary = calloc((size_t)k, sizeof *m->requested_binary)))
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
        EAI_TRY(opt_param_bool(c, "binary_data", "outputs[]", &m->requested_binary[i]));
    }
    return EAI_OK;
}

/* Requests and responses share the envelope: JSON (plus binary tail), a body
 * parser for the document's kind, and a message left empty on any error. */
typedef eai_status_t (*body_parser_t)(const cJSON *, const lims_t *, bin_t *, eai_kserve_msg_t *);
static eai_status_t parse_response(const cJSON *root, const lims_t *L, bin_t *bin,
                                   eai_kserve_msg_t *m);

static eai_status_t parse_message(const char *body, size_t n, size_t header_len,
                                  const eai_kserve_limits_t *lim, body_parser_t parse,
                                  eai_kserve_msg_t *out)
{
    if (!out) return eai_fail(EAI_E_INVALID, "kserve: NULL output");
    memset(out, 0, sizeof *out);
    lims_t L = lims_of(lim);
    cJSON *root;
    bin_t bin;
    EAI_TRY(parse_root(body, n, header_len, &L, &root, &bin));
    eai_status_t st = parse(root, &L, &bin, out);
    cJSON_Delete(root);
    if (st != EAI_OK) eai_kserve_msg_free(out);
    return st;
}

eai_status_t eai_kserve_parse_request_ex(const char *body, size_t n, size_t header_len,
                                         const eai_kserve_limits_t *lim, eai_kserve_msg_t *out)
{
    return parse_message(body, n, header_len, lim, parse_request, out);
}

eai_status_t eai_kserve_parse_request(const char *body, size_t n, const eai_kserve_limits_t *lim,
                                      eai_kserve_msg_t *out)
{
    return eai_kserve_parse_request_ex(body, n, 0, lim, out);
}

static eai_status_t parse_response(const cJSON *root, const lims_t *L, bin_t *bin,
                                   eai_kserve_msg_t *m)
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
    return parse_tensors(o, "output", L, bin, m);
}

eai_status_t eai_kserve_parse_response_ex(const char *body, size_t n, size_t header_len,
                                          const eai_kserve_limits_t *lim, eai_kserve_msg_t *out)
{
    return parse_message(body, n, header_len, lim, parse_response, out);
}

eai_status_t eai_kserve_parse_response(const char *body, size_t n, const eai_kserve_limits_t *lim,
                                       eai_kserve_msg_t *out)
{
    return eai_kserve_parse_response_ex(body, n, 0, lim, out);
}
