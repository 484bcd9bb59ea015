/* The trainer: turns an inference graph into a tape of training ops, owns the
 * flat parameter state, runs forward + loss + backward + update per step.
 *
 * Everything is sized at create for opts.batch (activations, gradients,
 * scratch, optimizer moments, the fit buffers), so step and eval never
 * allocate: a smaller batch only shrinks the shapes the ops see. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>

#include "model/onnx_write.h"
#include "runtime/runtime_impl.h"
#include "train/trainer_impl.h"

static bool is_default_domain(const char *d)
{
    return !d || !d[0] || strcmp(d, "ai.onnx") == 0;
}

static bool name_frozen(const char *name, const eai_trainer_opts_t *o)
{
    for (int i = 0; i < o->n_frozen; i++) {
        const char *p = o->frozen[i];
        if (!p) continue;
        size_t n = strlen(p);
        if (n && p[n - 1] == '*') {
            if (strncmp(name, p, n - 1) == 0) return true;
        } else if (strcmp(name, p) == 0) {
            return true;
        }
    }
    return false;
}

/* A float CONST becomes part of the state unless it is a scalar (Dropout's
 * ratio, Constant-node hyper-parameters) or an attribute tensor. */
static bool is_state_const(const eai__value_t *v)
{
    return v->kind == EAI__V_CONST && v->dtype == EAI_F32 && v->shape.rank > 0 &&
           v->name[0] != '\001' && v->data;
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void free_trainer(eai_trainer_t *t)
{
    const eai_allocator_t *a = &t->alloc;
    if (t->nodes) {
        for (int i = 0; i < t->n_nodes; i++) {
            eai__tnode_t *n = &t->nodes[i];
            if (n->op && n->op->release && n->state) n->op->release(n, a);
            /* activations: each output owns its data (+ grad) block */
            for (int j = 0; j < n->n_out; j++)
                if (n->out[j]) eai__free_aligned(a, n->out[j]->data);
        }
    }
    eai__free(a, t->nodes);
    eai__free(a, t->links);
    eai__free(a, t->vals);
    eai__free_aligned(a, t->state);
    eai__free_aligned(a, t->grads);
    eai__free(a, t->params);
    eai__free_aligned(a, t->ctx.scratch);
    eai__free_aligned(a, t->xbuf);
    eai__free_aligned(a, t->ybuf);
    eai__optim_free(t);
    eai__free_aligned(a, t->onnx);
    eai_model_destroy(t->owned);
    eai_threadpool_destroy(t->own_pool);
    eai_allocator_t copy = *a;
    eai__free(&copy, t);
}

void eai_trainer_destroy(eai_trainer_t *t)
{
    if (t) free_trainer(t);
}

/* Finds the node producing value v (-1: none). */
static int producer_of(const eai__graph_t *g, int v)
{
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_out; j++)
            if (g->nodes[i].out[j] == v) return i;
    return -1;
}

static bool consumed(const eai__graph_t *g, int v)
{
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++)
            if (g->nodes[i].in[j] == v) return true;
    return false;
}

/* A trailing Softmax over the last axis whose output nothing else reads. */
static bool foldable_softmax(const eai__graph_t *g, int node)
{
    const eai__node_t *n = &g->nodes[node];
    if (strcmp(n->op, "Softmax") != 0 || !is_default_domain(n->domain) || n->n_in < 1 ||
        n->in[0] < 0 || consumed(g, n->out[0]))
        return false;
    int64_t axis = -1;
    const eai__attr_t *a = eai__node_attr(n, "axis");
    if (a && a->type == EAI__A_INT)
        axis = a->i;
    else if (g->opset < 13)
        axis = 1; /* Softmax-1/11: flattened from axis 1, same as last axis for rank 2 */
    int rank = g->values[n->out[0]].shape.rank;
    return axis == -1 || (rank > 0 && axis == rank - 1) || (rank <= 0 && axis == 1);
}

/* State tensors: which consts are parameters, which of them are buffers
 * (an op reads them at a buffer_inputs position) and which are frozen. */
static eai_status_t plan_params(eai_trainer_t *t, const eai_trainer_opts_t *o)
{
    const eai__graph_t *g = t->g;
    int n = 0;
    for (int v = 0; v < g->n_values; v++)
        n += is_state_const(&g->values[v]);
    t->params = eai__calloc(&t->alloc, (size_t)(n ? n : 1), sizeof *t->params);
    if (!t->params) return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    bool *buffer = eai__calloc(&t->alloc, (size_t)g->n_values, sizeof *buffer);
    if (!buffer) return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    for (int i = 0; i < t->n_nodes; i++) {
        const eai__tnode_t *tn = &t->nodes[i];
        for (int j = 0; j < tn->node->n_in && j < 32; j++)
            if ((tn->op->buffer_inputs >> j) & 1u && tn->node->in[j] >= 0)
                buffer[tn->node->in[j]] = true;
    }
    /* two passes: trainable tensors first, then frozen ones and buffers */
    size_t off = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int v = 0; v < g->n_values; v++) {
            const eai__value_t *val = &g->values[v];
            if (!is_state_const(val)) continue;
            bool trainable = !buffer[v] && !name_frozen(val->name, o);
            if (trainable != (pass == 0)) continue;
            eai__tparam_t *p = &t->params[t->n_params++];
            p->name = val->name;
            p->value = v;
            p->offset = off;
            p->count = (size_t)eai__shape_numel(&val->shape);
            p->trainable = trainable;
            off += p->count;
        }
        if (pass == 0) t->n_train = off;
    }
    t->n_state = off;
    eai__free(&t->alloc, buffer);
    t->state = eai__alloc_aligned(&t->alloc, (t->n_state ? t->n_state : 1) * sizeof(float));
    t->grads = eai__alloc_aligned(&t->alloc, (t->n_train ? t->n_train : 1) * sizeof(float));
    if (!t->state || !t->grads) return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    memset(t->grads, 0, (t->n_train ? t->n_train : 1) * sizeof(float));
    for (int i = 0; i < t->n_params; i++) {
        const eai__tparam_t *p = &t->params[i];
        eai__tval_t *tv = &t->vals[p->value];
        memcpy(t->state + p->offset, g->values[p->value].data, p->count * sizeof(float));
        tv->data = t->state + p->offset;
        tv->grad = p->trainable ? t->grads + p->offset : NULL;
        tv->cap = p->count;
        tv->is_param = true;
    }
    return EAI_OK;
}

static void add_name(const char *name, void *user)
{
    char *buf = user; /* 768 bytes: the list is ~20 short names */
    size_t n = strlen(buf);
    snprintf(buf + n, 768 - n, "%s%s", n ? " " : "", name);
}

static const char *op_list(char *buf, size_t n)
{
    (void)n;
    buf[0] = '\0';
    eai__top_foreach(add_name, buf);
    return buf;
}

/* Links every non-folded node to its op and its tvals. */
static eai_status_t build_nodes(eai_trainer_t *t)
{
    const eai__graph_t *g = t->g;
    int n_links = 0;
    for (int i = 0; i < g->n_nodes; i++)
        n_links += g->nodes[i].n_in + g->nodes[i].n_out;
    t->nodes = eai__calloc(&t->alloc, (size_t)(g->n_nodes ? g->n_nodes : 1), sizeof *t->nodes);
    t->links = eai__calloc(&t->alloc, (size_t)(n_links ? n_links : 1), sizeof *t->links);
    if (!t->nodes || !t->links) return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    int k = 0;
    eai__tval_t **l = t->links;
    for (int i = 0; i < g->n_nodes; i++) {
        const eai__node_t *node = &g->nodes[i];
        if (t->softmax_folded && node->out[0] == t->out_val) continue;
        const eai__top_t *op = is_default_domain(node->domain) ? eai__top_find(node->op) : NULL;
        char list[768];
        if (!op)
            return eai_fail(EAI_E_UNSUPPORTED,
                            "%s: node %d '%s' (%s%s%s): no gradient for this op, cannot train "
                            "(trainable ops: %s)",
                            g->label, i, node->name, node->domain[0] ? node->domain : "",
                            node->domain[0] ? "." : "", node->op, op_list(list, sizeof list));
        eai__tnode_t *tn = &t->nodes[k++];
        tn->g = g;
        tn->node = node;
        tn->op = op;
        tn->n_in = node->n_in;
        tn->n_out = node->n_out;
        tn->in = l;
        for (int j = 0; j < node->n_in; j++)
            *l++ = node->in[j] >= 0 ? &t->vals[node->in[j]] : NULL;
        tn->out = l;
        for (int j = 0; j < node->n_out; j++)
            *l++ = node->out[j] >= 0 ? &t->vals[node->out[j]] : NULL;
    }
    t->n_nodes = k;
    return EAI_OK;
}

/* Which activations need a gradient: those downstream of a trainable
 * parameter (the data input and frozen-only paths need none). */
static void mark_grads(const eai_trainer_t *t, bool *req)
{
    const eai__graph_t *g = t->g;
    for (int v = 0; v < g->n_values; v++)
        req[v] = t->vals[v].is_param && t->vals[v].grad;
    for (int i = 0; i < t->n_nodes; i++) {
        const eai__node_t *node = t->nodes[i].node;
        bool any = false;
        for (int j = 0; j < node->n_in; j++)
            any |= node->in[j] >= 0 && req[node->in[j]];
        for (int j = 0; j < node->n_out; j++)
            if (node->out[j] >= 0) req[node->out[j]] = any;
    }
}

/* Prepares every node at the largest batch and gives each output its data
 * (and gradient, right after it, when one flows) before the next node's
 * prepare looks at it. */
static eai_status_t plan_activations(eai_trainer_t *t, const bool *req)
{
    const eai__graph_t *g = t->g;
    size_t scratch = 0;
    for (int i = 0; i < t->n_nodes; i++) {
        eai__tnode_t *tn = &t->nodes[i];
        size_t s = 0;
        EAI_TRY(tn->op->prepare(tn, &t->alloc, &s));
        if (s > scratch) scratch = s;
        EAI_TRY(tn->op->infer(tn));
        for (int j = 0; j < tn->n_out; j++) {
            eai__tval_t *tv = tn->out[j];
            if (!tv) continue;
            int64_t n = eai__shape_numel(&tv->shape);
            if (tv->shape.rank < 0 || n < 0 || n > EAI_MAX_TENSOR_BYTES / 8)
                return eai_fail(EAI_E_UNSUPPORTED,
                                "%s: node %d '%s' (%s): output '%s' has no "
                                "concrete shape",
                                g->label, eai__node_index(g, tn->node), tn->node->name,
                                tn->node->op, tv->v->name);
            size_t padded = EAI_ALIGN_UP((size_t)(n ? n : 1), 16);
            bool grad = req[tv - t->vals];
            tv->data = eai__alloc_aligned(&t->alloc, padded * (grad ? 2 : 1) * sizeof(float));
            if (!tv->data)
                return eai_fail(EAI_E_NOMEM, "%s: out of memory for activation '%s'", g->label,
                                tv->v->name);
            tv->cap = (size_t)n;
            tv->grad = grad ? tv->data + padded : NULL;
        }
    }
    /* one slice per thread, each on its own cache lines */
    t->ctx.scratch_bytes = scratch;
    t->ctx.scratch_stride = EAI_ALIGN_UP(scratch, 64);
    if (scratch) {
        size_t total = t->ctx.scratch_stride * (size_t)t->ctx.threads;
        t->ctx.scratch = eai__alloc_aligned(&t->alloc, total);
        if (!t->ctx.scratch)
            return eai_fail(EAI_E_NOMEM, "%s: out of memory for %zu scratch bytes", g->label,
                            total);
    }
    return EAI_OK;
}

static eai_status_t check_io(eai_trainer_t *t)
{
    const eai__graph_t *g = t->g;
    if (g->n_inputs < 1 || g->n_outputs < 1)
        return eai_fail(EAI_E_UNSUPPORTED, "%s: a trainable model needs an input and an output",
                        g->label);
    if (g->n_inputs > 1)
        return eai_fail(EAI_E_UNSUPPORTED, "%s: %d graph inputs; the trainer feeds exactly one",
                        g->label, g->n_inputs);
    t->in_val = g->inputs[0];
    t->out_val = g->outputs[0];
    const eai__value_t *in = &g->values[t->in_val];
    if (in->dtype != EAI_F32 || in->shape.rank < 1)
        return eai_fail(EAI_E_UNSUPPORTED, "%s: input '%s' must be float32 with a batch axis",
                        g->label, in->name);
    int64_t numel = 1;
    for (int d = 1; d < in->shape.rank; d++) {
        if (in->shape.d[d] <= 0)
            return eai_fail(EAI_E_UNSUPPORTED,
                            "%s: input '%s' dim %d is symbolic; only the batch axis may be",
                            g->label, in->name, d);
        numel *= in->shape.d[d];
    }
    t->sample_numel = numel;
    int prod = producer_of(g, t->out_val);
    if (prod < 0 || g->values[t->out_val].kind != EAI__V_ACT)
        return eai_fail(EAI_E_UNSUPPORTED, "%s: output '%s' is not computed by a node", g->label,
                        g->values[t->out_val].name);
    t->softmax_folded = t->loss == EAI_LOSS_XENT && foldable_softmax(g, prod);
    t->logit_val = t->softmax_folded ? g->nodes[prod].in[0] : t->out_val;
    return EAI_OK;
}

static eai_status_t create(const eai_model_t *m, const eai_trainer_opts_t *o, eai_trainer_t *t)
{
    const eai__graph_t *g = &m->g;
    t->g = g;
    t->loss = o->loss;
    t->batch = o->batch > 0 ? o->batch : 32;
    if (o->loss != EAI_LOSS_XENT && o->loss != EAI_LOSS_MSE)
        return eai_fail(EAI_E_INVALID, "%s: unknown loss %d", g->label, (int)o->loss);
    if (o->n_frozen < 0 || (o->n_frozen > 0 && !o->frozen))
        return eai_fail(EAI_E_INVALID, "%s: frozen list is NULL with n_frozen %d", g->label,
                        o->n_frozen);
    for (int i = 0; i < g->n_nodes; i++)
        if (!is_default_domain(g->nodes[i].domain) && strcmp(g->nodes[i].domain, "com.edgeai") == 0)
            return eai_fail(EAI_E_INVALID,
                            "%s: node %d (%s) is a fused inference op: load the model with "
                            "no_optimize to train it",
                            g->label, i, g->nodes[i].op);
    EAI_TRY(check_io(t));
    if (o->threads < 0) return eai_fail(EAI_E_INVALID, "%s: threads %d < 0", g->label, o->threads);
    t->ctx.pool = o->pool;
    if (!t->ctx.pool && o->threads > 1) {
        EAI_TRY(eai_threadpool_create(o->threads, &t->own_pool));
        t->ctx.pool = t->own_pool;
    }
    t->ctx.threads = eai_threadpool_size(t->ctx.pool);
    t->vals = eai__calloc(&t->alloc, (size_t)g->n_values, sizeof *t->vals);
    if (!t->vals) return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    for (int v = 0; v < g->n_values; v++) {
        const eai__value_t *val = &g->values[v];
        eai__tval_t *tv = &t->vals[v];
        tv->v = val;
        tv->shape = val->shape;
        if (val->kind == EAI__V_CONST && val->dtype == EAI_F32) tv->data = val->data;
        if (val->kind == EAI__V_CONST) tv->cap = (size_t)eai__shape_numel(&val->shape);
    }
    EAI_TRY(build_nodes(t));
    EAI_TRY(plan_params(t, o));
    /* the sample batch: the input's shape with dim 0 = batch */
    eai__tval_t *in = &t->vals[t->in_val];
    in->shape.d[0] = t->batch;
    in->cap = (size_t)(t->batch * t->sample_numel);
    t->xbuf = eai__alloc_aligned(&t->alloc, in->cap * sizeof(float));
    if (!t->xbuf) return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    in->data = t->xbuf;
    bool *req = eai__calloc(&t->alloc, (size_t)g->n_values, sizeof *req);
    if (!req) return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    mark_grads(t, req);
    eai_status_t st = plan_activations(t, req);
    eai__free(&t->alloc, req);
    EAI_TRY(st);
    const eai__tval_t *lo = &t->vals[t->logit_val];
    if (lo->shape.rank < 1 || lo->shape.d[0] != t->batch)
        return eai_fail(EAI_E_UNSUPPORTED,
                        "%s: output '%s' does not keep the batch on its first axis", g->label,
                        lo->v->name);
    t->out_numel = eai__shape_numel(&lo->shape) / t->batch;
    size_t ybytes =
        (size_t)t->batch * (o->loss == EAI_LOSS_XENT ? sizeof(int32_t) : (size_t)t->out_numel * 4);
    t->ybuf = eai__alloc_aligned(&t->alloc, ybytes);
    if (!t->ybuf) return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    EAI_TRY(eai__optim_init(t, &o->optim));
    uint64_t s = o->seed;
    for (int i = 0; i < 4; i++)
        t->rng[i] = splitmix64(&s);
    t->ctx.rng = t->rng;
    /* the kernels split work themselves (eai__train_par); OpenBLAS's own
     * threads cost more than they give on these GEMMs and would fight ours */
    openblas_set_num_threads(1);
    return EAI_OK;
}

eai_status_t eai_trainer_create(const eai_model_t *m, const eai_trainer_opts_t *opts,
                                eai_trainer_t **out)
{
    if (!m || !out) return eai_fail(EAI_E_INVALID, "eai_trainer_create: model and out are NULL");
    eai_trainer_opts_t zero = {0};
    const eai_trainer_opts_t *o = opts ? opts : &zero;
    eai_trainer_t *t = eai__calloc(&o->alloc, 1, sizeof *t);
    if (!t) return eai_fail(EAI_E_NOMEM, "%s: out of memory", m->g.label);
    t->alloc = o->alloc;
    eai_status_t st = create(m, o, t);
    if (st != EAI_OK) {
        free_trainer(t);
        return st;
    }
    *out = t;
    return EAI_OK;
}

eai_status_t eai_trainer_load(const char *path, const eai_trainer_opts_t *opts, eai_trainer_t **out)
{
    if (!path || !out) return eai_fail(EAI_E_INVALID, "eai_trainer_load: path and out are NULL");
    eai_trainer_opts_t zero = {0};
    const eai_trainer_opts_t *o = opts ? opts : &zero;
    void *bytes;
    size_t n;
    EAI_TRY(eai__read_file(&o->alloc, path, &bytes, &n));
    const char *base = strrchr(path, '/');
    eai_model_opts_t mo = {.alloc = o->alloc, .no_optimize = true};
    eai_model_t *m;
    eai_status_t st = eai_model_load_memory(bytes, n, base ? base + 1 : path, &mo, &m);
    if (st != EAI_OK) {
        eai__free_aligned(&o->alloc, bytes);
        return st;
    }
    eai_trainer_t *t;
    st = eai_trainer_create(m, o, &t);
    if (st != EAI_OK) {
        eai_model_destroy(m);
        eai__free_aligned(&o->alloc, bytes);
        return st;
    }
    t->owned = m;
    t->onnx = bytes;
    t->onnx_bytes = n;
    *out = t;
    return EAI_OK;
}

/* ---- one step ---- */

static eai_status_t forward(eai_trainer_t *t, const float *x, int n, bool training)
{
    eai__tval_t *in = &t->vals[t->in_val];
    in->shape.d[0] = n;
    /* fit gathers straight into the input buffer */
    if (x != in->data) memcpy(in->data, x, (size_t)n * (size_t)t->sample_numel * sizeof(float));
    t->ctx.training = training;
    for (int i = 0; i < t->n_nodes; i++) {
        eai__tnode_t *tn = &t->nodes[i];
        EAI_TRY(tn->op->infer(tn));
        EAI_TRY(tn->op->forward(tn, &t->ctx));
    }
    return EAI_OK;
}

/* Loss over logits z [n, C]; writes dL/dz into dz when non-NULL. The
 * softmax is computed shifted by the row max so exp never overflows. */
static eai_status_t loss_xent(eai_trainer_t *t, const float *z, const int32_t *y, int n, float *dz,
                              eai_step_result_t *res)
{
    int64_t c = t->out_numel;
    double sum = 0;
    int64_t correct = 0;
    for (int i = 0; i < n; i++) {
        if (y[i] < 0 || y[i] >= c)
            return eai_fail(EAI_E_INVALID, "%s: label %d of sample %d is outside [0, %lld)",
                            t->g->label, (int)y[i], i, (long long)c);
        const float *zi = z + (int64_t)i * c;
        int64_t arg = 0;
        for (int64_t k = 1; k < c; k++)
            if (zi[k] > zi[arg]) arg = k;
        float mx = zi[arg];
        double se = 0;
        for (int64_t k = 0; k < c; k++)
            se += exp((double)zi[k] - mx);
        double lse = mx + log(se);
        sum += lse - zi[y[i]];
        correct += arg == y[i];
        if (dz) {
            float *di = dz + (int64_t)i * c;
            for (int64_t k = 0; k < c; k++)
                di[k] = (float)(exp((double)zi[k] - lse) / n);
            di[y[i]] -= 1.0f / (float)n;
        }
    }
    res->loss = sum / n;
    res->correct = correct;
    res->n = n;
    return EAI_OK;
}

/* PyTorch's MSELoss (reduction "mean" over every element). */
static void loss_mse(eai_trainer_t *t, const float *z, const float *y, int n, float *dz,
                     eai_step_result_t *res)
{
    int64_t m = (int64_t)n * t->out_numel;
    double sum = 0;
    for (int64_t i = 0; i < m; i++) {
        double d = (double)z[i] - y[i];
        sum += d * d;
        if (dz) dz[i] = (float)(2.0 * d / (double)m);
    }
    res->loss = sum / (double)m;
    res->correct = 0;
    res->n = n;
}

static eai_status_t check_batch(const eai_trainer_t *t, const char *fn, const float *x,
                                const void *y, int n, bool need_y)
{
    if (!t || !x || (need_y && !y))
        return eai_fail(EAI_E_INVALID, "%s: trainer, x and y must not be NULL", fn);
    if (n < 1 || n > t->batch)
        return eai_fail(EAI_E_INVALID, "%s: %d samples, expected 1..%d (opts.batch)", fn, n,
                        t->batch);
    return EAI_OK;
}

static void zero_range(float *p, int64_t n, int ith, int nth)
{
    int64_t lo, hi;
    eai__train_split(n, ith, nth, 16, &lo, &hi);
    if (hi > lo) memset(p + lo, 0, (size_t)(hi - lo) * sizeof(float));
}

/* Share ith of nth of zeroing the parameter and activation gradients. */
static void zero_grads(void *p, int ith, int nth)
{
    eai_trainer_t *t = p;
    zero_range(t->grads, (int64_t)t->n_train, ith, nth);
    for (int i = 0; i < t->n_nodes; i++)
        for (int j = 0; j < t->nodes[i].n_out; j++) {
            eai__tval_t *o = t->nodes[i].out[j];
            if (o && o->grad) zero_range(o->grad, eai__shape_numel(&o->shape), ith, nth);
        }
}

eai_status_t eai_trainer_step(eai_trainer_t *t, const float *x, const void *y, int n,
                              eai_step_result_t *res)
{
    EAI_TRY(check_batch(t, "eai_trainer_step", x, y, n, true));
    EAI_TRY(forward(t, x, n, true));
    /* zero every gradient (megabytes of activation gradients: split over
     * the threads), then seed the loss's */
    int64_t floats = (int64_t)t->n_train;
    for (int i = 0; i < t->n_nodes; i++)
        for (int j = 0; j < t->nodes[i].n_out; j++) {
            const eai__tval_t *o = t->nodes[i].out[j];
            if (o && o->grad) floats += eai__shape_numel(&o->shape);
        }
    eai__train_par(&t->ctx, floats, zero_grads, t);
    eai__tval_t *lo = &t->vals[t->logit_val];
    eai_step_result_t r;
    if (t->loss == EAI_LOSS_XENT)
        EAI_TRY(loss_xent(t, lo->data, y, n, lo->grad, &r));
    else
        loss_mse(t, lo->data, y, n, lo->grad, &r);
    if (!isfinite(r.loss))
        return eai_fail(EAI_E_STATE, "%s: loss is %g (diverged: lower the learning rate)",
                        t->g->label, r.loss);
    if (lo->grad) {
        for (int i = t->n_nodes - 1; i >= 0; i--) {
            eai__tnode_t *tn = &t->nodes[i];
            bool any = false;
            for (int j = 0; j < tn->n_out; j++)
                any |= tn->out[j] && tn->out[j]->grad;
            if (any) EAI_TRY(tn->op->backward(tn, &t->ctx));
        }
        if (t->hook) t->hook(t->hook_user, t->state, t->grads, t->n_train);
        eai__optim_update(t);
    }
    if (res) *res = r;
    return EAI_OK;
}

eai_status_t eai_trainer_eval(eai_trainer_t *t, const float *x, const void *y, int n,
                              eai_step_result_t *res, float *out)
{
    EAI_TRY(check_batch(t, "eai_trainer_eval", x, y, n, false));
    EAI_TRY(forward(t, x, n, false));
    const eai__tval_t *lo = &t->vals[t->logit_val];
    eai_step_result_t r = {.n = n};
    if (y) {
        if (t->loss == EAI_LOSS_XENT)
            EAI_TRY(loss_xent(t, lo->data, y, n, NULL, &r));
        else
            loss_mse(t, lo->data, y, n, NULL, &r);
    }
    if (out) {
        int64_t c = t->out_numel;
        if (!t->softmax_folded) {
            memcpy(out, lo->data, (size_t)(n * c) * sizeof(float));
        } else {
            /* the folded Softmax, so `out` is what the model outputs */
            for (int i = 0; i < n; i++) {
                const float *zi = lo->data + i * c;
                float *oi = out + i * c;
                float mx = zi[0];
                for (int64_t k = 1; k < c; k++)
                    mx = zi[k] > mx ? zi[k] : mx;
                double se = 0;
                for (int64_t k = 0; k < c; k++)
                    se += exp((double)zi[k] - mx);
                for (int64_t k = 0; k < c; k++)
                    oi[k] = (float)(exp((double)zi[k] - mx) / se);
            }
        }
    }
    if (res) *res = r;
    return EAI_OK;
}

/* ---- state access ---- */

size_t eai_trainer_n_params(const eai_trainer_t *t)
{
    return t->n_state;
}

size_t eai_trainer_n_trainable(const eai_trainer_t *t)
{
    return t->n_train;
}

float *eai_trainer_params(eai_trainer_t *t)
{
    return t->state;
}

void eai_trainer_get_params(const eai_trainer_t *t, float *dst)
{
    if (t->n_state) memcpy(dst, t->state, t->n_state * sizeof(float));
}

void eai_trainer_set_params(eai_trainer_t *t, const float *src)
{
    if (t->n_state) memcpy(t->state, src, t->n_state * sizeof(float));
}

int eai_trainer_n_tensors(const eai_trainer_t *t)
{
    return t->n_params;
}

eai_status_t eai_trainer_tensor_info(const eai_trainer_t *t, int i, eai_param_info_t *out)
{
    if (!t || !out || i < 0 || i >= t->n_params)
        return eai_fail(EAI_E_INVALID, "eai_trainer_tensor_info: tensor %d out of range [0, %d)", i,
                        t ? t->n_params : 0);
    const eai__tparam_t *p = &t->params[i];
    out->name = p->name;
    out->offset = p->offset;
    out->count = p->count;
    out->trainable = p->trainable;
    return EAI_OK;
}

void eai_trainer_set_grad_hook(eai_trainer_t *t, eai_grad_hook_fn fn, void *user)
{
    t->hook = fn;
    t->hook_user = user;
}

void eai_trainer_set_progress(eai_trainer_t *t, void (*fn)(const eai_fit_progress_t *p, void *user),
                              void *user)
{
    t->progress = fn;
    t->progress_user = user;
}

eai_status_t eai_trainer_save_onnx(const eai_trainer_t *t, const char *path)
{
    if (!t || !path) return eai_fail(EAI_E_INVALID, "eai_trainer_save_onnx: NULL argument");
    if (!t->onnx)
        return eai_fail(EAI_E_UNSUPPORTED,
                        "%s: save_onnx rewrites the file the trainer was loaded from; this "
                        "trainer was made by eai_trainer_create (use eai_trainer_load)",
                        t->g->label);
    eai__onnx_update_t *u =
        eai__calloc(&t->alloc, (size_t)(t->n_params ? t->n_params : 1), sizeof *u);
    if (!u) return eai_fail(EAI_E_NOMEM, "%s: out of memory", t->g->label);
    for (int i = 0; i < t->n_params; i++) {
        u[i].name = t->params[i].name;
        u[i].data = t->state + t->params[i].offset;
        u[i].count = t->params[i].count;
    }
    eai_status_t s = eai__onnx_write_updated(&t->alloc, t->onnx, t->onnx_bytes, t->g->label, u,
                                             t->n_params, path);
    eai__free(&t->alloc, u);
    return s;
}
