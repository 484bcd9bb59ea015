/* eai_model_*: import a file into the graph IR, then run the shape pass once
 * with symbolic dims bound, so unknown ops, bad attributes and impossible
 * shapes are reported at load time, naming the node. */
#include <stdio.h>

#include "opt/opt_impl.h"
#include "runtime/runtime_impl.h"

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

eai_status_t eai__model_finish_load(eai_model_t *m, const eai_model_opts_t *o, bool optimize)
{
    if (optimize && !(o && o->no_optimize)) EAI_TRY(eai__opt_default(&m->g, NULL));
    eai__pass_t p;
    eai_status_t st = eai__pass_run(&p, &m->g, &m->g.alloc, o ? o->default_dim : 1);
    if (st == EAI_OK) {
        m->stats.macs = p.macs;
        m->stats.n_nodes = m->g.n_nodes;
        m->stats.opset = m->g.opset;
        m->stats.producer = m->g.producer;
        int64_t n_params = 0;
        for (int i = 0; i < m->g.n_values; i++) {
            const eai__value_t *v = &m->g.values[i];
            if (v->kind == EAI__V_CONST &&
                (v->dtype == EAI_F32 || v->dtype == EAI_F16 || v->dtype == EAI_F64) &&
                v->name[0] != '\001')
                n_params += eai__shape_numel(&v->shape);
        }
        m->stats.n_params = n_params;
    }
    eai__pass_free(&p);
    return st;
}

typedef enum { FMT_ONNX, FMT_PLAN, FMT_TFLITE, FMT_TFJS } fmt_t;

static fmt_t sniff(const char *path, const void *data, size_t n)
{
    size_t len = path ? strlen(path) : 0;
    if (len >= 5 && strcmp(path + len - 5, ".json") == 0) return FMT_TFJS;
    if (data && eai__plan_probe(data, n)) return FMT_PLAN;
    if (data && eai__tflite_probe(data, n)) return FMT_TFLITE;
    return FMT_ONNX;
}

static eai_status_t new_model(const eai_model_opts_t *opts, const char *name, eai_model_t **out)
{
    const eai_allocator_t *a = opts ? &opts->alloc : NULL;
    eai_model_t *m = eai__calloc(a, 1, sizeof *m);
    if (!m) return eai_fail(EAI_E_NOMEM, "%s: out of memory", name);
    eai_status_t st = eai__graph_init(&m->g, a, name);
    if (st != EAI_OK) {
        eai__free(a, m);
        return st;
    }
    *out = m;
    return EAI_OK;
}

static eai_status_t done(eai_model_t *m, eai_status_t st, eai_model_t **out)
{
    if (st != EAI_OK) {
        eai_model_destroy(m);
        return st;
    }
    *out = m;
    return EAI_OK;
}

eai_status_t eai_model_load_memory(const void *data, size_t n_bytes, const char *name,
                                   const eai_model_opts_t *opts, eai_model_t **out)
{
    if (!data || !out)
        return eai_fail(EAI_E_INVALID, "eai_model_load_memory: data and out must not be NULL");
    eai_model_t *m;
    EAI_TRY(new_model(opts, name ? name : "model", &m));
    eai_status_t st;
    switch (sniff(NULL, data, n_bytes)) {
    case FMT_PLAN:
        st = eai__plan_load_memory(m, data, n_bytes);
        if (st == EAI_OK) st = eai__model_finish_load(m, opts, false);
        break;
    case FMT_TFLITE:
        st = eai__tflite_import(&m->g, data, n_bytes);
        if (st == EAI_OK) st = eai__model_finish_load(m, opts, true);
        break;
    default:
        st = eai__onnx_import(&m->g, data, n_bytes);
        if (st == EAI_OK) st = eai__model_finish_load(m, opts, true);
        break;
    }
    return done(m, st, out);
}

eai_status_t eai_model_load(const char *path, const eai_model_opts_t *opts, eai_model_t **out)
{
    if (!path || !out)
        return eai_fail(EAI_E_INVALID, "eai_model_load: path and out must not be NULL");
    const eai_allocator_t *a = opts ? &opts->alloc : NULL;
    if (sniff(path, NULL, 0) == FMT_TFJS) {
        /* TF.js graph model: model.json plus the weight shards beside it */
        eai_model_t *m;
        EAI_TRY(new_model(opts, base_name(path), &m));
        eai_status_t st = eai__tfjs_import(&m->g, path);
        if (st == EAI_OK) st = eai__model_finish_load(m, opts, true);
        return done(m, st, out);
    }
    /* Plans are mapped, not read: peek at the header first. */
    unsigned char head[64];
    size_t n_head = 0;
    FILE *f = fopen(path, "rb");
    if (f) {
        n_head = fread(head, 1, sizeof head, f);
        fclose(f);
    }
    if (n_head && eai__plan_probe(head, n_head)) {
        eai_model_t *m;
        EAI_TRY(new_model(opts, base_name(path), &m));
        eai_status_t st = eai__plan_load_file(m, path);
        if (st == EAI_OK) st = eai__model_finish_load(m, opts, false);
        return done(m, st, out);
    }
    void *data;
    size_t n;
    EAI_TRY(eai__read_file(a, path, &data, &n));
    eai_status_t st = eai_model_load_memory(data, n, base_name(path), opts, out);
    eai__free_aligned(a, data);
    return st;
}

/* Used by tests that build graphs in C: adopts `g` (also on failure). */
eai_status_t eai__model_from_graph(eai__graph_t *g, eai_model_t **out)
{
    eai_model_t *m = eai__calloc(&g->alloc, 1, sizeof *m);
    if (!m) {
        eai__graph_free(g);
        return eai_fail(EAI_E_NOMEM, "out of memory");
    }
    m->g = *g;
    m->g.names.alloc = &m->g.alloc; /* the map pointed at the caller's copy */
    memset(g, 0, sizeof *g);
    eai_status_t st = eai__graph_finish(&m->g);
    if (st == EAI_OK) st = eai__model_finish_load(m, NULL, false);
    if (st != EAI_OK) {
        eai_model_destroy(m);
        return st;
    }
    *out = m;
    return EAI_OK;
}

void eai_model_destroy(eai_model_t *m)
{
    if (!m) return;
    eai_allocator_t a = m->g.alloc;
    eai__graph_free(&m->g);
    if (m->map) eai__plan_release(m);
    eai__free(&a, m);
}

int eai_model_n_inputs(const eai_model_t *m)
{
    return m->g.n_inputs;
}

int eai_model_n_outputs(const eai_model_t *m)
{
    return m->g.n_outputs;
}

static void value_info(const eai__value_t *v, eai_tensor_info_t *out)
{
    memset(out, 0, sizeof *out);
    out->name = v->name;
    out->dtype = v->dtype;
    out->rank = v->shape.rank;
    for (int i = 0; i < v->shape.rank; i++)
        out->dims[i] = v->shape.d[i];
}

eai_status_t eai_model_input_info(const eai_model_t *m, int i, eai_tensor_info_t *out)
{
    if (i < 0 || i >= m->g.n_inputs)
        return eai_fail(EAI_E_INVALID, "%s: input %d out of range [0, %d)", m->g.label, i,
                        m->g.n_inputs);
    value_info(&m->g.values[m->g.inputs[i]], out);
    return EAI_OK;
}

eai_status_t eai_model_output_info(const eai_model_t *m, int i, eai_tensor_info_t *out)
{
    if (i < 0 || i >= m->g.n_outputs)
        return eai_fail(EAI_E_INVALID, "%s: output %d out of range [0, %d)", m->g.label, i,
                        m->g.n_outputs);
    /* Output shapes are known only after inference. Run it with symbolic dims
     * bound to 1 and to 2: dims that differ depend on the batch and read -1. */
    const eai__value_t *v = &m->g.values[m->g.outputs[i]];
    value_info(v, out);
    if (v->kind == EAI__V_ACT) {
        eai__pass_t p1, p2;
        eai_status_t s1 = eai__pass_run(&p1, &m->g, &m->g.alloc, 1);
        eai_status_t s2 = s1 == EAI_OK ? eai__pass_run(&p2, &m->g, &m->g.alloc, 2) : s1;
        if (s1 == EAI_OK) {
            const eai__rvalue_t *r = &p1.vals[m->g.outputs[i]];
            const eai__rvalue_t *r2 = s2 == EAI_OK ? &p2.vals[m->g.outputs[i]] : r;
            out->dtype = r->dtype;
            out->rank = r->shape.rank;
            for (int d = 0; d < r->shape.rank; d++)
                out->dims[d] = r2->shape.rank == r->shape.rank && r2->shape.d[d] != r->shape.d[d]
                                   ? -1
                                   : r->shape.d[d];
        }
        eai__pass_free(&p1);
        if (s1 == EAI_OK) eai__pass_free(&p2);
    }
    return EAI_OK;
}

void eai_model_get_stats(const eai_model_t *m, eai_model_stats_t *out)
{
    *out = m->stats;
}

void eai_model_op_histogram(const eai_model_t *m, void (*fn)(const char *op, int count, void *user),
                            void *user)
{
    for (int i = 0; i < m->g.n_nodes; i++) {
        const char *op = m->g.nodes[i].op;
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = strcmp(m->g.nodes[j].op, op) == 0;
        if (seen) continue;
        int count = 0;
        for (int j = i; j < m->g.n_nodes; j++)
            count += strcmp(m->g.nodes[j].op, op) == 0;
        fn(op, count, user);
    }
}
