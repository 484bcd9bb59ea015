/* Decoding a plan's strings and graph sections into the graph IR. The CRCs
 * have passed by now, but a plan may still be hostile (the fuzzer crafts
 * valid CRCs), so every read is bounds-checked, every count is checked
 * against the bytes left before anything is allocated for it, every index is
 * range-checked, and the result goes through eai__graph_finish (producers,
 * cycles) and then the shape pass like any imported model. */
#define _DEFAULT_SOURCE /* madvise (Linux, BSDs) */
#include <limits.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "plan/plan_impl.h"

/* A cursor over one section; the first short read sets `bad` and every later
 * read returns 0, so a record is checked once after it is read. */
typedef struct rd {
    const uint8_t *p;
    size_t n, at;
    bool bad;
} rd_t;

static bool take(rd_t *r, size_t k)
{
    if (r->bad || r->n - r->at < k) {
        r->bad = true;
        return false;
    }
    return true;
}
static uint8_t u8(rd_t *r)
{
    return take(r, 1) ? r->p[r->at++] : 0;
}
static uint32_t u32(rd_t *r)
{
    if (!take(r, 4)) return 0;
    uint32_t v = eai__le32(r->p + r->at);
    r->at += 4;
    return v;
}
static uint64_t u64(rd_t *r)
{
    if (!take(r, 8)) return 0;
    uint64_t v = eai__le64(r->p + r->at);
    r->at += 8;
    return v;
}
static size_t left(const rd_t *r)
{
    return r->n - r->at;
}

typedef struct dec {
    eai__graph_t *g;
    const char *label;
    rd_t r;
    const char **str; /* string id -> C string inside the strings section */
    uint32_t n_str;
    const uint8_t *w;
    size_t n_w;
    bool borrow;
    int n_values;
} dec_t;

static eai_status_t early(const dec_t *d)
{
    return eai_fail(EAI_E_FORMAT, "%s: section 'graph' ends early at byte %zu (malformed plan)",
                    d->label, d->r.n);
}

static eai_status_t bad(const dec_t *d, const char *what, long long v)
{
    return eai_fail(EAI_E_FORMAT, "%s: malformed plan: %s (%lld) at byte %zu of section 'graph'",
                    d->label, what, v, d->r.at);
}

/* String id -> string; NONE gives NULL when allowed. */
static eai_status_t str(const dec_t *d, uint32_t id, bool optional, const char **out)
{
    if (id == EAI__PLAN_NONE && optional) {
        *out = NULL;
        return EAI_OK;
    }
    if (id >= d->n_str) return bad(d, "string id out of range", id);
    *out = d->str[id];
    return EAI_OK;
}

/* strings: u32 count, then count x (u32 len, len bytes, NUL). */
static eai_status_t read_strings(dec_t *d, const uint8_t *p, size_t n)
{
    rd_t r = {p, n, 0, false};
    uint32_t count = u32(&r);
    if (r.bad || count > left(&r) / 5) /* 5: the smallest entry (empty string) */
        return eai_fail(EAI_E_FORMAT, "%s: section 'strings' is malformed (count %u)", d->label,
                        (unsigned)count);
    d->str = eai__calloc(&d->g->alloc, (size_t)count + 1, sizeof *d->str);
    if (!d->str) return eai_fail(EAI_E_NOMEM, "%s: out of memory", d->label);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t len = u32(&r);
        if (!take(&r, (size_t)len + 1) || p[r.at + len] != 0 || memchr(p + r.at, 0, len))
            return eai_fail(EAI_E_FORMAT, "%s: section 'strings': string %u is malformed", d->label,
                            (unsigned)i);
        d->str[i] = (const char *)p + r.at;
        r.at += (size_t)len + 1;
    }
    if (r.at != n)
        return eai_fail(EAI_E_FORMAT, "%s: section 'strings': %zu bytes after the last string",
                        d->label, n - r.at);
    d->n_str = count;
    return EAI_OK;
}

void eai__plan_half_to_float(float *dst, const uint8_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t h = (uint32_t)src[2 * i] | (uint32_t)src[2 * i + 1] << 8;
        uint32_t em = h & 0x7fffu, bits = em << 13;
        float f;
        memcpy(&f, &bits, 4);
        /* exponent and mantissa moved into float's fields read as 2^-112 of
         * the value (subnormal halves included: the product is exact) */
        f *= 0x1p112f;
        memcpy(&bits, &f, 4);
        if (em >= 0x7c00u) bits = 0x7f800000u | (em & 0x3ffu) << 13; /* inf, NaN */
        bits |= (h & 0x8000u) << 16;
        memcpy(&dst[i], &bits, 4);
    }
}

/* The mapped half bytes are read once, at load: give their pages back so an
 * FP16 plan's resident size ends at its float32 copy, not both. */
static void drop_pages(const uint8_t *p, size_t n)
{
#ifdef MADV_DONTNEED
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0) return;
    uintptr_t lo = ((uintptr_t)p + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    uintptr_t hi = ((uintptr_t)p + n) & ~((uintptr_t)page - 1);
    if (hi > lo) madvise((void *)lo, hi - lo, MADV_DONTNEED); /* advice: failure is harmless */
#else
    (void)p;
    (void)n;
#endif
}

static eai_status_t const_data(dec_t *d, eai__value_t *v, uint8_t flags, uint64_t off,
                               uint64_t bytes)
{
    const eai_allocator_t *a = &d->g->alloc;
    size_t es = eai_dtype_size(v->dtype);
    bool half = flags & EAI__PLAN_V_HALF;
    int64_t want;
    if (!es || !eai__tensor_bytes_ok(v->shape.d, v->shape.rank, half ? 2 : es, &want) ||
        (uint64_t)want != bytes)
        return bad(d, "constant size does not match its shape", (long long)bytes);
    if (off % EAI__PLAN_ALIGN || off > d->n_w || bytes > d->n_w - off)
        return bad(d, "constant outside the weights section or unaligned", (long long)off);
    const uint8_t *src = d->w + off;
    if (half) {
        size_t n = (size_t)(bytes / 2);
        float *x = eai__alloc_aligned(a, n * sizeof(float) + 1);
        if (!x) return eai_fail(EAI_E_NOMEM, "%s: out of memory for '%s'", d->label, v->name);
        /* no FP16 kernels (x86 has none): half weights become float32 here */
        eai__plan_half_to_float(x, src, n);
        v->data = x;
        v->owns_data = true;
        if (d->borrow) drop_pages(src, (size_t)bytes);
    } else if (d->borrow && bytes) {
        v->data = (void *)src; /* read-only mapping: CONST data is never written */
        v->owns_data = false;
    } else {
        void *x = eai__alloc_aligned(a, (size_t)bytes + 1);
        if (!x) return eai_fail(EAI_E_NOMEM, "%s: out of memory for '%s'", d->label, v->name);
        if (bytes) memcpy(x, src, (size_t)bytes);
        v->data = x;
        v->owns_data = true;
    }
    return EAI_OK;
}

/* u32 name, u8 kind, u8 dtype, u8 rank, u8 flags, i64 dims[rank],
 * [u32 sym[rank]], CONST: u64 offset, u64 bytes. */
static eai_status_t read_value(dec_t *d, int i)
{
    rd_t *r = &d->r;
    uint32_t name_id = u32(r);
    uint8_t kind = u8(r), dtype = u8(r), rank = u8(r), flags = u8(r);
    if (r->bad) return early(d);
    if (kind > EAI__V_CONST) return bad(d, "value kind", kind);
    if (rank > EAI_MAX_RANK) return bad(d, "value rank", rank);
    if (flags & ~(EAI__PLAN_V_OUTPUT | EAI__PLAN_V_SYM | EAI__PLAN_V_HALF))
        return bad(d, "value flags", flags);
    if ((flags & EAI__PLAN_V_HALF) && (kind != EAI__V_CONST || dtype != EAI_F32))
        return bad(d, "half storage of a non-float32 constant", dtype);
    if (dtype && !eai_dtype_size((eai_dtype_t)dtype)) return bad(d, "value dtype", dtype);
    if (!dtype && kind != EAI__V_ACT) return bad(d, "undefined dtype of an input/constant", 0);
    const char *name = NULL;
    EAI_TRY(str(d, name_id, false, &name));
    int id;
    EAI_TRY(eai__graph_value(d->g, name, &id));
    if (id != i) return bad(d, "duplicate value name", id);
    eai__value_t *v = &d->g->values[i];
    v->kind = (eai__vkind_t)kind;
    v->dtype = (eai_dtype_t)dtype;
    v->is_output = flags & EAI__PLAN_V_OUTPUT;
    v->shape.rank = rank;
    for (int k = 0; k < rank; k++) {
        int64_t dim = (int64_t)u64(r);
        if (r->bad) return early(d);
        if (dim < (kind == EAI__V_CONST ? 0 : -1)) return bad(d, "dimension", dim);
        v->shape.d[k] = dim;
    }
    if (flags & EAI__PLAN_V_SYM)
        for (int k = 0; k < rank; k++) {
            const char *s = NULL;
            uint32_t sid = u32(r);
            if (r->bad) return early(d);
            EAI_TRY(str(d, sid, true, &s));
            if (s && !(v->sym[k] = eai__strdup(&d->g->alloc, s)))
                return eai_fail(EAI_E_NOMEM, "%s: out of memory", d->label);
        }
    if (kind == EAI__V_CONST) {
        uint64_t off = u64(r), bytes = u64(r);
        if (r->bad) return early(d);
        EAI_TRY(const_data(d, v, flags, off, bytes));
    }
    return EAI_OK;
}

/* u32 name, u32 type, then FLOAT f32 | INT i64 | STRING u32 | TENSOR i32 |
 * FLOATS u32 n + f32[n] | INTS u32 n + i64[n] | STRINGS u32 n | OTHER -. */
static eai_status_t read_attr(dec_t *d, int node)
{
    rd_t *r = &d->r;
    const eai_allocator_t *al = &d->g->alloc;
    uint32_t name_id = u32(r), type = u32(r);
    if (r->bad) return early(d);
    eai__attr_t a = {.type = (eai__atype_t)type, .tensor = -1};
    EAI_TRY(str(d, name_id, false, (const char **)&a.name));
    void *scratch = NULL;
    switch (type) {
    case EAI__A_FLOAT: {
        uint32_t bits = u32(r);
        memcpy(&a.f, &bits, 4);
        break;
    }
    case EAI__A_INT:
        a.i = (int64_t)u64(r);
        break;
    case EAI__A_STRING: {
        const char *s = NULL;
        uint32_t sid = u32(r);
        if (r->bad) return early(d);
        EAI_TRY(str(d, sid, true, &s));
        a.s = (char *)(s ? s : ""); /* ops read STRING attributes without NULL checks */
        break;
    }
    case EAI__A_TENSOR: {
        int32_t t = (int32_t)u32(r);
        if (r->bad) return early(d);
        if (t < 0 || t >= d->n_values || d->g->values[t].kind != EAI__V_CONST)
            return bad(d, "tensor attribute is not a constant", t);
        a.tensor = t;
        break;
    }
    case EAI__A_FLOATS:
    case EAI__A_INTS: {
        size_t es = type == EAI__A_FLOATS ? 4 : 8;
        uint32_t n = u32(r);
        if (r->bad) return early(d);
        if (n > left(r) / es || n > INT_MAX) return bad(d, "attribute list length", n);
        scratch = eai__alloc(al, (size_t)n * es + 1);
        if (!scratch) return eai_fail(EAI_E_NOMEM, "%s: out of memory", d->label);
        for (uint32_t k = 0; k < n; k++) {
            if (es == 4) {
                uint32_t bits = u32(r);
                memcpy((float *)scratch + k, &bits, 4);
            } else {
                ((int64_t *)scratch)[k] = (int64_t)u64(r);
            }
        }
        a.n = (int)n;
        if (es == 4)
            a.floats = scratch;
        else
            a.ints = scratch;
        break;
    }
    case EAI__A_STRINGS: {
        uint32_t n = u32(r);
        if (n > INT_MAX) return bad(d, "attribute list length", n);
        a.n = (int)n;
        break;
    }
    case EAI__A_OTHER:
        break;
    default:
        return bad(d, "attribute type", type);
    }
    eai_status_t st = r->bad ? early(d) : eai__node_add_attr(d->g, node, &a);
    eai__free(al, scratch);
    return st;
}

/* u32 name, op, domain; u32 n_in, n_out, n_attr; i32 in[], out[]; attrs. */
static eai_status_t read_node(dec_t *d, int i)
{
    rd_t *r = &d->r;
    uint32_t ids[3];
    const char *s[3] = {NULL, NULL, NULL};
    for (int k = 0; k < 3; k++)
        ids[k] = u32(r);
    uint32_t n_in = u32(r), n_out = u32(r), n_attr = u32(r);
    if (r->bad) return early(d);
    for (int k = 0; k < 3; k++)
        EAI_TRY(str(d, ids[k], false, &s[k]));
    /* counts against the bytes left, so garbage cannot ask for a huge buffer */
    if ((uint64_t)n_in + n_out > left(r) / 4) return bad(d, "node input/output count", n_in);
    if (n_attr > left(r) / 8 || n_attr > INT_MAX) return bad(d, "node attribute count", n_attr);
    int *io = eai__alloc(&d->g->alloc, ((size_t)n_in + n_out + 1) * sizeof(int));
    if (!io) return eai_fail(EAI_E_NOMEM, "%s: out of memory", d->label);
    eai_status_t st = EAI_OK;
    for (size_t k = 0; k < (size_t)n_in + n_out && st == EAI_OK; k++) {
        int32_t v = (int32_t)u32(r);
        if (v < -1 || v >= d->n_values) st = bad(d, "value index out of range", v);
        io[k] = v;
    }
    if (st == EAI_OK)
        st =
            eai__graph_add_node(d->g, s[0], s[1], s[2], io, (int)n_in, io + n_in, (int)n_out, NULL);
    eai__free(&d->g->alloc, io);
    for (uint32_t k = 0; k < n_attr && st == EAI_OK; k++)
        st = read_attr(d, i);
    return st;
}

static eai_status_t read_io(dec_t *d, uint32_t n, bool inputs, int **out)
{
    int *x = eai__calloc(&d->g->alloc, (size_t)n + 1, sizeof(int));
    if (!x) return eai_fail(EAI_E_NOMEM, "%s: out of memory", d->label);
    *out = x;
    for (uint32_t k = 0; k < n; k++) {
        int32_t v = (int32_t)u32(&d->r);
        if (d->r.bad) return early(d);
        if (v < 0 || v >= d->n_values) return bad(d, "graph input/output index out of range", v);
        if (inputs && d->g->values[v].kind != EAI__V_INPUT)
            return bad(d, "graph input is not an input value", v);
        x[k] = v;
    }
    return EAI_OK;
}

static eai_status_t decode(dec_t *d, const uint8_t *strings, size_t n_strings)
{
    eai__graph_t *g = d->g;
    EAI_TRY(read_strings(d, strings, n_strings));
    rd_t *r = &d->r;
    uint32_t opset = u32(r), producer = u32(r), nv = u32(r), nn = u32(r), ni = u32(r), no = u32(r);
    if (r->bad) return early(d);
    /* the ONNX importer's range (onnx_import.c): ops follow c->opset */
    if (opset < 7 || opset > 18) return bad(d, "opset", opset);
    /* smallest records: value 8 bytes, node 24, input/output 4 */
    if ((uint64_t)nv * 8 + (uint64_t)nn * 24 + ((uint64_t)ni + no) * 4 > left(r))
        return bad(d, "counts exceed the section", nv);
    const char *prod = NULL;
    EAI_TRY(str(d, producer, false, &prod));
    char *p = eai__strdup(&g->alloc, prod);
    if (!p) return eai_fail(EAI_E_NOMEM, "%s: out of memory", d->label);
    eai__free(&g->alloc, g->producer);
    g->producer = p;
    g->opset = (int)opset;
    d->n_values = (int)nv;
    for (int i = 0; i < (int)nv; i++)
        EAI_TRY(read_value(d, i));
    for (int i = 0; i < (int)nn; i++)
        EAI_TRY(read_node(d, i));
    EAI_TRY(read_io(d, ni, true, &g->inputs));
    g->n_inputs = (int)ni;
    EAI_TRY(read_io(d, no, false, &g->outputs));
    g->n_outputs = (int)no;
    if (r->at != r->n) return bad(d, "bytes after the graph", (long long)(r->n - r->at));
    return eai__graph_finish(g);
}

eai_status_t eai__plan_decode_graph(eai__graph_t *g, const uint8_t *graph, size_t n_graph,
                                    const uint8_t *strings, size_t n_strings,
                                    const uint8_t *weights, size_t n_weights, bool borrow)
{
    dec_t d = {.g = g,
               .label = g->label,
               .r = {graph, n_graph, 0, false},
               .w = weights,
               .n_w = n_weights,
               .borrow = borrow};
    eai_status_t st = decode(&d, strings, n_strings);
    eai__free(&g->alloc, d.str);
    return st;
}
