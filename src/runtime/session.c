/* The interpreter session: the shape pass for this batch, a backend per
 * kernel, one planned arena, then invoke walks the kernels with every pointer
 * fixed in advance. Nothing is allocated after eai_session_create.
 *
 * A backend that wants NHWC (xnnpack) gets its own clone of the graph with
 * the layout pass applied, unless the model is a plan already laid out; the
 * model itself is never modified, so sessions of different backends share it.
 */
#include <stdio.h>
#include <time.h>

#include "opt/opt_impl.h"
#include "runtime/runtime_impl.h"

struct eai_session {
    const eai_model_t *model;
    const eai__graph_t *g; /* &model->g, or &own_g when laid out for the backend */
    eai__graph_t own_g;
    bool has_own_g;
    eai_allocator_t alloc;
    const eai__backend_t *backend;
    void *backend_ctx; /* backend->session_init's state */
    eai_threadpool_t *pool;
    eai__pass_t pass;
    void *arena;
    size_t arena_bytes;
    void *scratch;
    size_t state_bytes;
    bool *input_set;
    /* kernel k is a large ref node right after nodes of the preferred
     * backend: call its idle first (backend_impl.h) */
    bool *idle_before;
    /* opts.profile: ms per kernel summed over prof_runs invokes; NULL when off */
    double *prof_ms;
    int64_t prof_runs;
};

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* Outputs from which a ref node is worth the session pool's threads (and
 * the preferred backend's pool should stop spinning for it); smaller ref
 * nodes in a session whose backend has its own spinning workers run on the
 * caller's thread (plan_idle). */
#define IDLE_MIN_OUTPUTS 32768

/* Ops that only move bytes: in a session whose backend has its own
 * spinning workers they run on the caller's thread at any size. A second
 * thread does not make a copy faster here (memory bound) but the hand-off
 * costs a wake-up of the session pool and the backend's workers parked:
 * yolo_tiny_640's INT8 head (Concat, Split, Reshape, Transpose) took 1.2
 * ms on one thread and 2.7 on two. */
static bool moves_bytes(const char *op)
{
    static const char *const ops[] = {"Concat",   "Split",     "Reshape",   "Flatten",
                                      "Squeeze",  "Unsqueeze", "Transpose", "Slice",
                                      "Identity", "Expand",    "Tile",      "Pad"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(op, ops[i]) == 0) return true;
    return false;
}

static bool has_nhwc_nodes(const eai__graph_t *g)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].domain, EAI__DOMAIN_NHWC) == 0) return true;
    return false;
}

/* The graph this session runs: the model's, or a clone laid out for `be`. */
static eai_status_t pick_graph(eai_session_t *s)
{
    const eai__graph_t *g = &s->model->g;
    s->g = g;
    if (!s->backend->wants_nhwc || has_nhwc_nodes(g)) return EAI_OK;
    EAI_TRY(eai__graph_clone(&s->own_g, g));
    s->has_own_g = true;
    int n = 0;
    eai_status_t st = eai__graph_finish(&s->own_g);
    if (st == EAI_OK) st = eai__opt_layout(&s->own_g, s->backend, &n);
    if (st != EAI_OK || n == 0) {
        /* nothing to lay out: run the model's graph and free the clone */
        eai__graph_free(&s->own_g);
        s->has_own_g = false;
        return st;
    }
    s->g = &s->own_g;
    return EAI_OK;
}

static size_t backend_scratch(const eai__kernel_t *kr)
{
    if (kr->backend == &eai__backend_ref) return kr->ctx.scratch_bytes;
    return kr->backend->scratch ? kr->backend->scratch(&kr->ctx, kr->op) : 0;
}

static eai_status_t plan_idle(eai_session_t *s)
{
    s->idle_before = eai__calloc(&s->alloc, (size_t)s->pass.n_kernels + 1, sizeof(bool));
    if (!s->idle_before) return eai_fail(EAI_E_NOMEM, "out of memory");
    const eai__backend_t *be = s->backend;
    for (int k = 0; be->idle && s->pool && k < s->pass.n_kernels; k++) {
        eai__kernel_t *kr = &s->pass.kernels[k];
        if (kr->backend == be) continue;
        int64_t n = 0;
        for (int i = 0; i < kr->ctx.n_out; i++)
            if (eai__has_out(&kr->ctx, i)) n += eai__shape_numel(&kr->ctx.out[i].shape);
        /* The backend's own workers spin between its nodes and hold the
         * other cores: a small fallback node runs on the caller's thread
         * alone (its pool's workers would wait for a core), a large one
         * first puts them to sleep (when they may be spinning). */
        if (n < IDLE_MIN_OUTPUTS || moves_bytes(kr->ctx.node->op))
            kr->ctx.pool = NULL;
        else
            s->idle_before[k] = k > 0 && s->pass.kernels[k - 1].backend == be;
    }
    return EAI_OK;
}

eai_status_t eai_session_create(const eai_model_t *m, const eai_session_opts_t *opts,
                                eai_session_t **out)
{
    if (!m || !out)
        return eai_fail(EAI_E_INVALID, "eai_session_create: model and out must not be NULL");
    eai_session_opts_t o = {0};
    if (opts) o = *opts;
    const eai__backend_t *be = eai__backend_find(o.backend);
    if (!be) {
        char names[128] = "";
        for (const char *const *nm = eai_backend_names(); *nm; nm++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                     nm == eai_backend_names() ? "" : ", ", *nm);
        return eai_fail(EAI_E_INVALID, "unknown backend '%s' (compiled in: %s)", o.backend, names);
    }
    eai_session_t *s = eai__calloc(&o.alloc, 1, sizeof *s);
    if (!s) return eai_fail(EAI_E_NOMEM, "out of memory");
    s->model = m;
    s->g = &m->g;
    s->alloc = o.alloc;
    s->backend = be;
    s->pool = o.pool;
    eai_status_t st = EAI_OK;
    if (be->session_init) st = be->session_init(s->pool, &s->alloc, &s->backend_ctx);
    if (st == EAI_OK) st = pick_graph(s);
    const eai__graph_t *g = s->g;
    if (st == EAI_OK) st = eai__pass_run(&s->pass, g, &s->alloc, o.batch);
    if (st == EAI_OK) st = eai__plan_arena(&s->pass, &s->arena_bytes);
    if (st == EAI_OK) {
        /* padded: a backend's vector loads may read a little past a value */
        s->arena = eai__alloc_aligned(&s->alloc, s->arena_bytes + EAI__READ_PAD);
        s->input_set = eai__calloc(&s->alloc, (size_t)g->n_inputs + 1, sizeof(bool));
        if (!s->arena || !s->input_set)
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
    size_t scratch_bytes = 0;
    for (int k = 0; k < s->pass.n_kernels; k++) {
        eai__kernel_t *kr = &s->pass.kernels[k];
        const eai__node_t *n = &g->nodes[kr->node];
        eai__opctx_t *c = &kr->ctx;
        for (int i = 0; i < n->n_in; i++)
            if (n->in[i] >= 0) c->in[i].data = vals[n->in[i]].data;
        for (int i = 0; i < n->n_out; i++)
            if (n->out[i] >= 0) c->out[i].data = vals[n->out[i]].data;
        c->pool = s->pool;
        kr->backend = be->supports(c, kr->op) ? be : &eai__backend_ref;
        size_t b = backend_scratch(kr);
        if (b > scratch_bytes) scratch_bytes = b;
    }
    if (scratch_bytes) {
        s->scratch = eai__alloc_aligned(&s->alloc, scratch_bytes + EAI__READ_PAD);
        if (!s->scratch)
            st = eai_fail(EAI_E_NOMEM, "%s: out of memory for %zu bytes of scratch", g->label,
                          scratch_bytes);
    }
    for (int k = 0; k < s->pass.n_kernels && st == EAI_OK; k++) {
        eai__kernel_t *kr = &s->pass.kernels[k];
        kr->ctx.scratch = s->scratch;
        if (kr->backend->prepare) {
            size_t bytes = 0;
            st = kr->backend->prepare(&kr->ctx, kr->op, s->backend_ctx, &kr->state, &bytes);
            s->state_bytes += bytes;
        }
    }
    if (st == EAI_OK) st = plan_idle(s);
    if (st == EAI_OK && o.profile) {
        s->prof_ms = eai__calloc(&s->alloc, (size_t)s->pass.n_kernels + 1, sizeof(double));
        if (!s->prof_ms) st = eai_fail(EAI_E_NOMEM, "out of memory");
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
    eai__pass_free(&s->pass); /* releases the kernels' backend state */
    if (s->backend->session_fini) s->backend->session_fini(s->backend_ctx);
    if (s->has_own_g) eai__graph_free(&s->own_g);
    eai__free_aligned(&a, s->arena);
    eai__free_aligned(&a, s->scratch);
    eai__free(&a, s->input_set);
    eai__free(&a, s->idle_before);
    eai__free(&a, s->prof_ms);
    eai__free(&a, s);
}

int eai_session_n_inputs(const eai_session_t *s)
{
    return s->g->n_inputs;
}

int eai_session_n_outputs(const eai_session_t *s)
{
    return s->g->n_outputs;
}

static void rvalue_info(const eai_session_t *s, int v, eai_tensor_info_t *out)
{
    const eai__rvalue_t *r = &s->pass.vals[v];
    memset(out, 0, sizeof *out);
    /* graph inputs and outputs keep their indices in a laid-out clone: name
     * them from the model, which outlives the session */
    const eai__graph_t *mg = &s->model->g;
    out->name = v < mg->n_values ? mg->values[v].name : s->g->values[v].name;
    out->dtype = r->dtype;
    out->rank = r->shape.rank;
    for (int i = 0; i < r->shape.rank; i++)
        out->dims[i] = r->shape.d[i];
}

eai_status_t eai_session_input_info(const eai_session_t *s, int i, eai_tensor_info_t *out)
{
    const eai__graph_t *g = s->g;
    if (i < 0 || i >= g->n_inputs)
        return eai_fail(EAI_E_INVALID, "%s: input %d out of range [0, %d)", g->label, i,
                        g->n_inputs);
    rvalue_info(s, g->inputs[i], out);
    return EAI_OK;
}

eai_status_t eai_session_output_info(const eai_session_t *s, int i, eai_tensor_info_t *out)
{
    const eai__graph_t *g = s->g;
    if (i < 0 || i >= g->n_outputs)
        return eai_fail(EAI_E_INVALID, "%s: output %d out of range [0, %d)", g->label, i,
                        g->n_outputs);
    rvalue_info(s, g->outputs[i], out);
    return EAI_OK;
}

int eai_session_input_index(const eai_session_t *s, const char *name)
{
    const eai__graph_t *g = s->g;
    for (int i = 0; i < g->n_inputs; i++)
        if (strcmp(g->values[g->inputs[i]].name, name) == 0) return i;
    return -1;
}

int eai_session_output_index(const eai_session_t *s, const char *name)
{
    const eai__graph_t *g = s->g;
    for (int i = 0; i < g->n_outputs; i++)
        if (strcmp(g->values[g->outputs[i]].name, name) == 0) return i;
    return -1;
}

eai_status_t eai_session_set_input(eai_session_t *s, int i, const void *data, size_t n_bytes)
{
    const eai__graph_t *g = s->g;
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
    const eai__graph_t *g = s->g;
    for (int i = 0; i < g->n_inputs; i++)
        if (!s->input_set[i])
            return eai_fail(EAI_E_STATE, "%s: input '%s' was never set", g->label,
                            g->values[g->inputs[i]].name);
    const eai__backend_t *be = s->backend;
    eai_status_t st = EAI_OK;
    if (be->begin) be->begin(s->backend_ctx);
    if (s->prof_ms) {
        /* a separate loop, so sessions without a profile pay nothing */
        for (int k = 0; k < s->pass.n_kernels && st == EAI_OK; k++) {
            eai__kernel_t *kr = &s->pass.kernels[k];
            if (s->idle_before[k]) be->idle(s->backend_ctx);
            const double t0 = now_ms();
            st = kr->backend->eval(&kr->ctx, kr->op, kr->state);
            s->prof_ms[k] += now_ms() - t0;
        }
        s->prof_runs++;
    } else {
        for (int k = 0; k < s->pass.n_kernels && st == EAI_OK; k++) {
            eai__kernel_t *kr = &s->pass.kernels[k];
            if (s->idle_before[k]) be->idle(s->backend_ctx);
            st = kr->backend->eval(&kr->ctx, kr->op, kr->state);
        }
    }
    if (be->end)
        be->end(s->backend_ctx);
    else if (be->idle)
        be->idle(s->backend_ctx);
    return st;
}

eai_status_t eai_session_profile(const eai_session_t *s, int k, eai_kernel_profile_t *out)
{
    if (!s || !out) return eai_fail(EAI_E_INVALID, "eai_session_profile: NULL argument");
    if (!s->prof_ms)
        return eai_fail(EAI_E_STATE, "%s: the session was created without opts.profile",
                        s->g->label);
    if (k < 0 || k >= s->pass.n_kernels)
        return eai_fail(EAI_E_INVALID, "%s: kernel %d out of range [0, %d)", s->g->label, k,
                        s->pass.n_kernels);
    const eai__kernel_t *kr = &s->pass.kernels[k];
    const eai__node_t *n = &s->g->nodes[kr->node];
    out->op = n->op;
    out->domain = n->domain ? n->domain : "";
    out->name = n->name ? n->name : "";
    out->backend = kr->backend->name;
    out->ms = s->prof_ms[k];
    return EAI_OK;
}

int64_t eai_session_profile_runs(const eai_session_t *s)
{
    return s && s->prof_ms ? s->prof_runs : 0;
}

void eai_session_profile_reset(eai_session_t *s)
{
    if (!s || !s->prof_ms) return;
    memset(s->prof_ms, 0, sizeof(double) * (size_t)s->pass.n_kernels);
    s->prof_runs = 0;
}

eai_status_t eai_session_get_output(const eai_session_t *s, int i, const void **data,
                                    eai_tensor_info_t *info)
{
    const eai__graph_t *g = s->g;
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

eai_status_t eai__session_invoke_timed(eai_session_t *s, double *ms)
{
    for (int k = 0; k < s->pass.n_kernels; k++) {
        eai__kernel_t *kr = &s->pass.kernels[k];
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        EAI_TRY(kr->backend->eval(&kr->ctx, kr->op, kr->state));
        clock_gettime(CLOCK_MONOTONIC, &b);
        ms[k] += (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) * 1e-6;
    }
    return EAI_OK;
}

const eai__node_t *eai__session_kernel(const eai_session_t *s, int k, const char **backend,
                                       const eai__opctx_t **ctx)
{
    const eai__kernel_t *kr = &s->pass.kernels[k];
    if (backend) *backend = kr->backend->name;
    if (ctx) *ctx = &kr->ctx;
    return &s->g->nodes[kr->node];
}

int eai__session_n_on(const eai_session_t *s, const char *name)
{
    int n = 0;
    for (int k = 0; k < s->pass.n_kernels; k++)
        n += strcmp(s->pass.kernels[k].backend->name, name) == 0;
    return n;
}

const char *eai_session_backend(const eai_session_t *s)
{
    return s->backend->name;
}
