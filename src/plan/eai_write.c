/* eai_model_save: serializes a model's graph as a .eai plan (layout in
 * docs/eai-format.md). The small sections (meta, strings, graph) are built in
 * memory; the weights stream to a temporary file next to the target, which is
 * renamed over it only once everything is written and synced, so a failed
 * save never leaves a half file (and never destroys the old one). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edgeai/build.h"
#include "edgeai/edgeai.h"
#include "plan/plan_impl.h"

/* A growable byte buffer; the first failed allocation sets `oom` and later
 * writes do nothing, so callers check once at the end. */
typedef struct wbuf {
    uint8_t *p;
    size_t n, cap;
    const eai_allocator_t *a;
    bool oom;
} wbuf_t;

static void put(wbuf_t *b, const void *src, size_t n)
{
    if (b->oom) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n)
            cap *= 2;
        uint8_t *p = eai__realloc(b->a, b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void put_u8(wbuf_t *b, unsigned v)
{
    uint8_t x = (uint8_t)v;
    put(b, &x, 1);
}
static void put_u32(wbuf_t *b, uint32_t v)
{
    uint8_t x[4];
    eai__put_le32(x, v);
    put(b, x, 4);
}
static void put_u64(wbuf_t *b, uint64_t v)
{
    uint8_t x[8];
    eai__put_le64(x, v);
    put(b, x, 8);
}
static void put_str(wbuf_t *b, const char *s)
{
    size_t n = strlen(s);
    put_u32(b, (uint32_t)n);
    put(b, s, n);
}

bool eai__plan_f16_eligible(const eai__value_t *v)
{
    if (v->kind != EAI__V_CONST || v->dtype != EAI_F32 || !v->data) return false;
    int64_t n = eai__shape_numel(&v->shape);
    if (n < 64) return false;
    const float *x = v->data;
    for (int64_t i = 0; i < n; i++)
        if (!(fabsf(x[i]) <= 65504.0f)) return false; /* also false for NaN */
    return true;
}

/* The string table: each distinct string once, ids in order of first use. */
typedef struct strtab {
    eai__strmap_t map; /* borrows the graph's strings */
    wbuf_t buf;
    uint32_t n;
    bool oom;
} strtab_t;

static uint32_t sid(strtab_t *t, const char *s)
{
    if (!s) return EAI__PLAN_NONE;
    int i = eai__strmap_get(&t->map, s);
    if (i >= 0) return (uint32_t)i;
    if (eai__strmap_put(&t->map, s, (int)t->n) != EAI_OK) {
        t->oom = true;
        return EAI__PLAN_NONE;
    }
    size_t len = strlen(s);
    put_u32(&t->buf, (uint32_t)len);
    put(&t->buf, s, len + 1); /* with the NUL, so the reader can hand out C strings */
    return t->n++;
}

/* What is written: values no node, attribute or graph input/output refers
 * to are left out (an INT8 graph keeps its float weights unused; ONNX files
 * carry stray initializers), so value indices are renumbered by `remap`. */
typedef struct layout {
    int *remap; /* value index -> index in the plan, -1: left out */
    int n_kept, n_values;
    uint64_t *offset, *bytes; /* per value (CONST only), within the weights section */
    bool *half;
    uint64_t total;
} layout_t;

/* A value index as stored: renumbered; out-of-range ones (only a broken
 * graph has them) unchanged, so the reader reports them. */
static uint32_t vidx(const layout_t *l, int v)
{
    return (uint32_t)(v >= 0 && v < l->n_values ? l->remap[v] : v);
}

static void mark(const layout_t *l, int v)
{
    if (v >= 0 && v < l->n_values) l->remap[v] = 0;
}

static void renumber(const eai__graph_t *g, layout_t *l)
{
    for (int i = 0; i < g->n_values; i++)
        l->remap[i] = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const eai__node_t *n = &g->nodes[i];
        for (int k = 0; k < n->n_in; k++)
            mark(l, n->in[k]);
        for (int k = 0; k < n->n_out; k++)
            mark(l, n->out[k]);
        for (int k = 0; k < n->n_attr; k++)
            if (n->attr[k].type == EAI__A_TENSOR) mark(l, n->attr[k].tensor);
    }
    for (int i = 0; i < g->n_inputs; i++)
        mark(l, g->inputs[i]);
    for (int i = 0; i < g->n_outputs; i++)
        mark(l, g->outputs[i]);
    for (int i = 0; i < g->n_values; i++)
        if (l->remap[i] == 0) l->remap[i] = l->n_kept++;
}

static eai_status_t plan_weights(const eai_model_t *m, layout_t *l)
{
    const eai__graph_t *g = &m->g;
    size_t n = (size_t)g->n_values + 1;
    l->offset = eai__calloc(&g->alloc, n, sizeof *l->offset);
    l->bytes = eai__calloc(&g->alloc, n, sizeof *l->bytes);
    l->half = eai__calloc(&g->alloc, n, sizeof *l->half);
    l->remap = eai__calloc(&g->alloc, n, sizeof *l->remap);
    if (!l->offset || !l->bytes || !l->half || !l->remap)
        return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    l->n_values = g->n_values;
    renumber(g, l);
    uint64_t at = 0;
    for (int i = 0; i < g->n_values; i++) {
        const eai__value_t *v = &g->values[i];
        if (v->kind != EAI__V_CONST || l->remap[i] < 0) continue;
        int64_t bytes;
        size_t es = eai_dtype_size(v->dtype);
        if (!es || !eai__tensor_bytes_ok(v->shape.d, v->shape.rank, es, &bytes))
            return eai_fail(EAI_E_INVALID, "%s: constant '%s' (%s) cannot be stored", g->label,
                            v->name, eai_dtype_name(v->dtype));
        if (bytes && !v->data)
            return eai_fail(EAI_E_INVALID, "%s: constant '%s' has no data", g->label, v->name);
        l->half[i] = m->fp16_weights && eai__plan_f16_eligible(v);
        if (l->half[i]) bytes /= 2;
        at = EAI_ALIGN_UP(at, EAI__PLAN_ALIGN);
        l->offset[i] = at;
        l->bytes[i] = (uint64_t)bytes;
        at += (uint64_t)bytes;
    }
    l->total = at;
    return EAI_OK;
}

static void put_attr(wbuf_t *b, strtab_t *t, const layout_t *l, const eai__attr_t *a)
{
    put_u32(b, sid(t, a->name));
    put_u32(b, (uint32_t)a->type);
    switch (a->type) {
    case EAI__A_FLOAT: {
        uint32_t bits;
        memcpy(&bits, &a->f, 4);
        put_u32(b, bits);
        break;
    }
    case EAI__A_INT:
        put_u64(b, (uint64_t)a->i);
        break;
    case EAI__A_STRING:
        put_u32(b, sid(t, a->s));
        break;
    case EAI__A_TENSOR:
        put_u32(b, vidx(l, a->tensor));
        break;
    case EAI__A_FLOATS: {
        int n = a->floats && a->n > 0 ? a->n : 0;
        put_u32(b, (uint32_t)n);
        for (int k = 0; k < n; k++) {
            uint32_t bits;
            memcpy(&bits, &a->floats[k], 4);
            put_u32(b, bits);
        }
        break;
    }
    case EAI__A_INTS: {
        int n = a->ints && a->n > 0 ? a->n : 0;
        put_u32(b, (uint32_t)n);
        for (int k = 0; k < n; k++)
            put_u64(b, (uint64_t)a->ints[k]);
        break;
    }
    case EAI__A_STRINGS: /* the IR keeps only the count (no op reads the strings) */
        put_u32(b, (uint32_t)(a->n > 0 ? a->n : 0));
        break;
    default: /* EAI__A_OTHER: the type alone, so ops can reject it by name */
        break;
    }
}

static void put_graph(wbuf_t *b, strtab_t *t, const eai__graph_t *g, const layout_t *l)
{
    put_u32(b, (uint32_t)g->opset);
    put_u32(b, sid(t, g->producer));
    put_u32(b, (uint32_t)l->n_kept);
    put_u32(b, (uint32_t)g->n_nodes);
    put_u32(b, (uint32_t)g->n_inputs);
    put_u32(b, (uint32_t)g->n_outputs);
    for (int i = 0; i < g->n_values; i++) {
        const eai__value_t *v = &g->values[i];
        if (l->remap[i] < 0) continue;
        bool sym = false;
        for (int d = 0; d < v->shape.rank; d++)
            sym |= v->sym[d] != NULL;
        put_u32(b, sid(t, v->name));
        put_u8(b, (unsigned)v->kind);
        put_u8(b, (unsigned)v->dtype);
        put_u8(b, (unsigned)v->shape.rank);
        put_u8(b, (v->is_output ? EAI__PLAN_V_OUTPUT : 0) | (sym ? EAI__PLAN_V_SYM : 0) |
                      (l->half[i] ? EAI__PLAN_V_HALF : 0));
        for (int d = 0; d < v->shape.rank; d++)
            put_u64(b, (uint64_t)v->shape.d[d]);
        if (sym)
            for (int d = 0; d < v->shape.rank; d++)
                put_u32(b, sid(t, v->sym[d]));
        if (v->kind == EAI__V_CONST) {
            put_u64(b, l->offset[i]);
            put_u64(b, l->bytes[i]);
        }
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const eai__node_t *n = &g->nodes[i];
        put_u32(b, sid(t, n->name));
        put_u32(b, sid(t, n->op));
        put_u32(b, sid(t, n->domain));
        put_u32(b, (uint32_t)n->n_in);
        put_u32(b, (uint32_t)n->n_out);
        put_u32(b, (uint32_t)n->n_attr);
        for (int k = 0; k < n->n_in; k++)
            put_u32(b, vidx(l, n->in[k]));
        for (int k = 0; k < n->n_out; k++)
            put_u32(b, vidx(l, n->out[k]));
        for (int k = 0; k < n->n_attr; k++)
            put_attr(b, t, l, &n->attr[k]);
    }
    for (int i = 0; i < g->n_inputs; i++)
        put_u32(b, vidx(l, g->inputs[i]));
    for (int i = 0; i < g->n_outputs; i++)
        put_u32(b, vidx(l, g->outputs[i]));
}

/* Whether the graph carries quantized ops (for the header's INT8 flag). */
static bool is_quantized(const eai__graph_t *g)
{
    for (int i = 0; i < g->n_nodes; i++) {
        const char *op = g->nodes[i].op;
        size_t n = strlen(op);
        if (strstr(op, "Quantize") || strncmp(op, "QLinear", 7) == 0 ||
            (n > 7 && strcmp(op + n - 7, "Integer") == 0))
            return true;
    }
    return false;
}

static void put_meta(wbuf_t *b, const eai_model_t *m, bool int8)
{
    char build[160];
    snprintf(build, sizeof build, "%s%s%s%s", m->fp16_weights ? "fp16 " : "", int8 ? "int8 " : "",
             m->backend[0] ? "backend=" : "", m->backend);
    size_t n = strlen(build);
    if (n && build[n - 1] == ' ') build[n - 1] = '\0';
    const char *kv[][2] = {
        {"edgeai_version", EAI_VERSION_STRING},
        {"producer", m->g.producer ? m->g.producer : ""},
        {"backend", m->backend},
        {"build", build[0] ? build : "fp32"},
        {"source", m->g.label ? m->g.label : ""},
    };
    put_u32(b, (uint32_t)(sizeof kv / sizeof kv[0]));
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        put_str(b, kv[i][0]);
        put_str(b, kv[i][1]);
    }
}

/* Buffered writes to the temporary file with a running CRC; the first error
 * sticks (errno saved), later writes do nothing. */
typedef struct wfile {
    int fd;
    uint8_t *buf;
    size_t n, cap;
    uint32_t crc;
    int err;
} wfile_t;

static void wf_flush(wfile_t *f)
{
    size_t off = 0;
    while (!f->err && off < f->n) {
        ssize_t w = write(f->fd, f->buf + off, f->n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            f->err = w < 0 ? errno : EIO;
            break;
        }
        off += (size_t)w;
    }
    f->n = 0;
}

static void wf_put(wfile_t *f, const void *src, size_t n)
{
    const uint8_t *p = src;
    f->crc = eai__crc32c(f->crc, p, n);
    while (n && !f->err) {
        size_t k = f->cap - f->n < n ? f->cap - f->n : n;
        memcpy(f->buf + f->n, p, k);
        f->n += k;
        p += k;
        n -= k;
        if (f->n == f->cap) wf_flush(f);
    }
}

static void wf_zeros(wfile_t *f, size_t n)
{
    static const uint8_t zero[EAI__PLAN_ALIGN];
    while (n) {
        size_t k = n < sizeof zero ? n : sizeof zero;
        wf_put(f, zero, k);
        n -= k;
    }
}

static void write_weights(wfile_t *f, const eai__graph_t *g, const layout_t *l)
{
    uint64_t at = 0;
    uint16_t half[2048];
    for (int i = 0; i < g->n_values && !f->err; i++) {
        const eai__value_t *v = &g->values[i];
        if (v->kind != EAI__V_CONST || l->remap[i] < 0) continue;
        wf_zeros(f, (size_t)(l->offset[i] - at));
        if (l->half[i]) {
            const float *x = v->data;
            size_t n = (size_t)(l->bytes[i] / 2);
            for (size_t s = 0; s < n; s += 2048) {
                size_t k = n - s < 2048 ? n - s : 2048;
                for (size_t j = 0; j < k; j++) {
                    uint16_t h = eai_f32_to_f16(x[s + j]);
                    uint8_t *hb = (uint8_t *)&half[j];
                    hb[0] = (uint8_t)h; /* little-endian on any host */
                    hb[1] = (uint8_t)(h >> 8);
                }
                wf_put(f, half, k * 2);
            }
        } else if (l->bytes[i]) {
            wf_put(f, v->data, (size_t)l->bytes[i]);
        }
        at = l->offset[i] + l->bytes[i];
    }
}

static bool pwrite_all(int fd, const uint8_t *p, size_t n, off_t off)
{
    while (n) {
        ssize_t w = pwrite(fd, p, n, off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= (size_t)w;
        off += w;
    }
    return true;
}

#define N_SECTIONS 4

/* Writes the file; `sec` holds meta, strings, graph (CRC and size filled here). */
static eai_status_t write_file(const char *path, eai__afile_t *af, const eai__graph_t *g,
                               const wbuf_t *small[3], const layout_t *l, uint32_t flags)
{
    uint8_t head[EAI__PLAN_HEADER_BYTES + N_SECTIONS * EAI__PLAN_SECTION_BYTES];
    memset(head, 0, sizeof head);
    wfile_t f = {.fd = af->fd, .cap = 1 << 20};
    f.buf = eai__alloc(&g->alloc, f.cap);
    if (!f.buf) {
        eai__afile_abort(af);
        return eai_fail(EAI_E_NOMEM, "%s: out of memory", path);
    }
    static const uint32_t types[N_SECTIONS] = {EAI__PLAN_META, EAI__PLAN_STRINGS, EAI__PLAN_GRAPH,
                                               EAI__PLAN_WEIGHTS};
    uint64_t off[N_SECTIONS], size[N_SECTIONS];
    uint32_t crc[N_SECTIONS];
    wf_zeros(&f, sizeof head); /* rewritten at the end, once the CRCs are known */
    uint64_t at = sizeof head;
    for (int s = 0; s < 3; s++) {
        f.crc = 0;
        wf_put(&f, small[s]->p, small[s]->n);
        off[s] = at;
        size[s] = small[s]->n;
        crc[s] = f.crc;
        at += small[s]->n;
    }
    uint64_t wstart = EAI_ALIGN_UP(at, EAI__PLAN_ALIGN);
    wf_zeros(&f, (size_t)(wstart - at));
    f.crc = 0;
    write_weights(&f, g, l);
    off[3] = wstart;
    size[3] = l->total;
    crc[3] = f.crc;
    wf_flush(&f);
    eai__free(&g->alloc, f.buf);

    uint8_t *t = head + EAI__PLAN_HEADER_BYTES;
    for (int s = 0; s < N_SECTIONS; s++) {
        uint8_t *e = t + s * EAI__PLAN_SECTION_BYTES;
        eai__put_le32(e, types[s]);
        eai__put_le32(e + 4, EAI__PLAN_S_REQUIRED);
        eai__put_le64(e + 8, off[s]);
        eai__put_le64(e + 16, size[s]);
        eai__put_le32(e + 24, crc[s]);
    }
    memcpy(head, EAI__PLAN_MAGIC, EAI__PLAN_MAGIC_BYTES);
    eai__put_le32(head + 8, EAI__PLAN_VERSION);
    eai__put_le32(head + 12, EAI__PLAN_HEADER_BYTES);
    eai__put_le32(head + 16, flags);
    eai__put_le32(head + 20, N_SECTIONS);
    eai__put_le64(head + 24, wstart + l->total);
    eai__put_le64(head + 32, EAI__PLAN_HEADER_BYTES);
    eai__put_le32(head + 40, eai__crc32c(0, t, N_SECTIONS * EAI__PLAN_SECTION_BYTES));
    eai__put_le32(head + 60, eai__crc32c(0, head, 60));

    int err = f.err;
    if (!err && !pwrite_all(af->fd, head, sizeof head, 0)) err = errno ? errno : EIO;
    return eai__afile_commit(af, err);
}

eai_status_t eai_model_save(const eai_model_t *m, const char *path)
{
    if (!m || !path) return eai_fail(EAI_E_INVALID, "eai_model_save: model and path are required");
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return eai_fail(EAI_E_UNSUPPORTED, "%s: plans are little-endian; this host is big-endian",
                    path);
#endif
    const eai__graph_t *g = &m->g;
    const eai_allocator_t *a = &g->alloc;
    layout_t l = {0};
    strtab_t t = {.buf = {.a = a}};
    wbuf_t meta = {.a = a}, graph = {.a = a}, strings = {.a = a};
    eai_status_t st = plan_weights(m, &l);
    if (st == EAI_OK) st = eai__strmap_init(&t.map, a, (size_t)g->n_values * 2 + 64);
    if (st == EAI_OK) {
        bool int8 = is_quantized(g);
        put_meta(&meta, m, int8);
        put_graph(&graph, &t, g, &l);
        put_u32(&strings, t.n);
        put(&strings, t.buf.p, t.buf.n);
        if (meta.oom || graph.oom || strings.oom || t.oom || t.buf.oom)
            st = eai_fail(EAI_E_NOMEM, "%s: out of memory serializing the graph", path);
        eai__afile_t af;
        if (st == EAI_OK) st = eai__afile_open(&af, a, path);
        if (st == EAI_OK) {
            uint32_t flags =
                (m->fp16_weights ? EAI__PLAN_F_FP16 : 0) | (int8 ? EAI__PLAN_F_INT8 : 0);
            const wbuf_t *small[3] = {&meta, &strings, &graph};
            st = write_file(path, &af, g, small, &l, flags);
        }
    }
    eai__free(a, meta.p);
    eai__free(a, graph.p);
    eai__free(a, strings.p);
    eai__free(a, t.buf.p);
    eai__strmap_free(&t.map);
    eai__free(a, l.offset);
    eai__free(a, l.bytes);
    eai__free(a, l.half);
    eai__free(a, l.remap);
    return st;
}
