/* The interpreter session: the shape pass for this batch, a backend per
 * kernel, one planned arena, then invoke walks the kernels with every pointer
 * fixed in advance. Nothing is allocated after eai_session_create. */
#include <stdio.h>

#include "runtime/runtime_impl.h"

struct eai_session {
    const eai_model_t *model;
    eai_allocator_t alloc;
    const eai__backend_t *backend;
    eai_threadpool_t *pool;
    eai__pass_t pass;
    void *arena;
    size_t arena_bytes;
    void *scratch;
    size_t state_bytes;
    bool *input_set;
};

eai_status_t eai_session_create(const eai_model_t *m, const eai_session_opts_t *opts,
                                eai_session_t **out)
{
    if (!m || !out)
        return eai_fail(EAI_E_INVALID, "eai_session_create: model and out must not be NULL");
    eai_session_opts_t o = {0};
    if (opts) o = *opts;
    const eai__backend_t *be = eai__backend_find(o.backend);
    if (!be) return eai_fail(EAI_E_INVALID, "unknown backend '%s' (compiled in: ref)", o.backend);
    eai_session_t *s = eai__calloc(&o.alloc, 1, sizeof *s);
    if (!s) return eai_fail(EAI_E_NOMEM, "out of memory");
    s->model = m;
    s->alloc = o.alloc;
    s->backend = be;
    s->pool = o.pool;
    const eai__graph_t *g = &m->g;
    eai_status_t st = eai__pass_run(&s->pass, g, &s->alloc, o.batch);
    if (st == EAI_OK) st = eai__plan_arena(&s->pass, &s->arena_bytes);
    if (st == EAI_OK) {
        s->arena = eai__alloc_aligned(&s->alloc, s->arena_bytes ? s->arena_bytes : 1);
        s->scratch =
            s->pass.scratch_bytes ? eai__alloc_aligned(&s->alloc, s->pass.scratch_bytes) : NULL;
        s->input_set = eai__calloc(&s->alloc, (size_t)g->n_inputs + 1, sizeof(bool));
        if (!s->arena || (s->pass.scratch_bytes && !s->scratch) || !s->input_set)
            st = eai_fail(EAI_E_NOMEM, "%s: out of memory for a %zu-byte arena", g->label,
                          s->arena_bytes);
    }
    if (st != EAI_OK) {
        eai_session_destroy(s);
        return st;
    }
    eai__rvalue_t *vals = s->pass.vals;
    for (int v = 0; v < g->n_values; v++)
        if (vals[v].offset >= 0) vals[v].data = (char *)s->arena + vals[v].offset;
    for (int k = 0; k < s->pass.n_kernels && st == EAI_OK; k++) {
        eai__kernel_t *kr = &s->pass.kernels[k];
        const eai__node_t *n = &g->nodes[kr->node];
        eai__opctx_t *c = &kr->ctx;
        for (int i = 0; i < n->n_in; i++)
            if (n->in[i] >= 0) c->in[i].data = vals[n->in[i]].data;
        for (int i = 0; i < n->n_out; i++)
            if (n->out[i] >= 0) c->out[i].data = vals[n->out[i]].data;
        c->scratch = s->scratch;
        c->pool = s->pool;
        kr->backend = be->supports(c, kr->op) ? be : &eai__backend_ref;
        if (kr->backend->prepare) {
            size_t bytes = 0;
            st = kr->backend->prepare(c, kr->op, &kr->state, &bytes);
            s->state_bytes += bytes;
        }
    }
    if (st != EAI_OK) {
        eai_session_destroy(s);
        return st;
    }
    *out = s;
    return EAI_OK;
}

void eai_session_destroy(eai_session_t *s)
{
    if (!s) return;
    eai_allocator_t a = s->alloc;
    eai__pass_free(&s->pass);
    eai__free_aligned(&a, s->arena);
    eai__free_aligned(&a, s->scratch);
    eai__free(&a, s->input_set);
    eai__free(&a, s);
}

int eai_session_n_inputs(const eai_session_t *s)
{
    return s->model->g.n_inputs;
}

int eai_session_n_outputs(const eai_session_t *s)
{
    return s->model->g.n_outputs;
}

static void rvalue_info(const eai_session_t *s, int v, eai_tensor_info_t *out)
{
    const eai__rvalue_t *r = &s->pass.vals[v];
    memset(out, 0, sizeof *out);
    out->name = s->model->g.values[v].name;
    out->dtype = r->dtype;
    out->rank = r->shape.rank;
    for (int i = 0; i < r->shape.rank; i++)
        out->dims[i] = r->shape.d[i];
}

eai_status_t eai_session_input_info(const eai_session_t *s, int i, eai_tensor_info_t *out)
{
    const eai__graph_t *g = &s->model->g;
    if (i < 0 || i >= g->n_inputs)
        return eai_fail(EAI_E_INVALID, "%s: input %d out of range [0, %d)", g->label, i,
                        g->n_inputs);
    rvalue_info(s, g->inputs[i], out);
    return EAI_OK;
}

eai_status_t eai_session_output_info(const eai_session_t *s, int i, eai_tensor_info_t *out)
{
    const eai__graph_t *g = &s->model->g;
    if (i < 0 || i >= g->n_outputs)
        return eai_fail(EAI_E_INVALID, "%s: output %d out of range [0, %d)", g->label, i,
                        g->n_outputs);
    rvalue_info(s, g->outputs[i], out);
    return EAI_OK;
}

int eai_session_input_index(const eai_session_t *s, const char *name)
{
    const eai__graph_t *g = &s->model->g;
    for (int i = 0; i < g->n_inputs; i++)
        if (strcmp(g->values[g->inputs[i]].name, name) == 0) return i;
    return -1;
}

int eai_session_output_index(const eai_session_t *s, const char *name)
{
    const eai__graph_t *g = &s->model->g;
    for (int i = 0; i < g->n_outputs; i++)
        if (strcmp(g->values[g->outputs[i]].name, name) == 0) return i;
    return -1;
}

eai_status_t eai_session_set_input(eai_session_t *s, int i, const void *data, size_t n_bytes)
{
    const eai__graph_t *g = &s->model->g;
    if (i < 0 || i >= g->n_inputs)
        return eai_fail(EAI_E_INVALID, "%s: input %d out of range [0, %d)", g->label, i,
                        g->n_inputs);
    const eai__rvalue_t *r = &s->pass.vals[g->inputs[i]];
    size_t want = (size_t)eai__shape_numel(&r->shape) * eai_dtype_size(r->dtype);
    if (n_bytes != want)
        return eai_fail(EAI_E_INVALID, "%s: input '%s' takes %zu bytes (%s), got %zu", g->label,
                        g->values[g->inputs[i]].name, want, eai_dtype_name(r->dtype), n_bytes);
    if (!data && want)
        return eai_fail(EAI_E_INVALID, "%s: input '%s': data is NULL", g->label,
                        g->values[g->inputs[i]].name);
    if (want) memcpy(r->data, data, want);
    s->input_set[i] = true;
    return EAI_OK;
}

eai_status_t eai_session_invoke(eai_session_t *s)
{
    const eai__graph_t *g = &s->model->g;
    for (int i = 0; i < g->n_inputs; i++)
        if (!s->input_set[i])
            return eai_fail(EAI_E_STATE, "%s: input '%s' was never set", g->label,
                            g->values[g->inputs[i]].name);
    for (int k = 0; k < s->pass.n_kernels; k++) {
        eai__kernel_t *kr = &s->pass.kernels[k];
        EAI_TRY(kr->backend->eval(&kr->ctx, kr->op, kr->state));
    }
    return EAI_OK;
}

eai_status_t eai_session_get_output(const eai_session_t *s, int i, const void **data,
                                    eai_tensor_info_t *info)
{
    const eai__graph_t *g = &s->model->g;
    if (i < 0 || i >= g->n_outputs)
        return eai_fail(EAI_E_INVALID, "%s: output %d out of range [0, %d)", g->label, i,
                        g->n_outputs);
    int v = g->outputs[i];
    if (data) *data = s->pass.vals[v].data;
    if (info) rvalue_info(s, v, info);
    return EAI_OK;
}

size_t eai_session_arena_bytes(const eai_session_t *s)
{
    return s->arena_bytes;
}

size_t eai_session_const_bytes(const eai_session_t *s)
{
    return s->pass.const_bytes + s->state_bytes;
}

int eai_session_n_kernels(const eai_session_t *s)
{
    return s->pass.n_kernels;
}

const char *eai_session_backend(const eai_session_t *s)
{
    return s->backend->name;
}
