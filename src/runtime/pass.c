/* The shape pass: one walk over the sorted graph that infers every shape,
 * folds constant sub-graphs (PyTorch's Shape->Gather->Concat->Reshape chains
 * become constants once the batch is bound) and keeps the rest as kernels.
 * Model loading and session creation both run it, so a model that loads
 * creates sessions for the same inputs. */
#include <stdio.h>

#include "runtime/runtime_impl.h"

void eai__pass_free(eai__pass_t *p)
{
    if (p->vals && p->g)
        for (int i = 0; i < p->g->n_values; i++)
            if (p->vals[i].owned) eai__free_aligned(&p->alloc, p->vals[i].data);
    if (p->kernels) {
        for (int k = 0; k < p->n_kernels; k++) {
            eai__kernel_t *kr = &p->kernels[k];
            if (kr->backend && kr->backend->release && kr->state) kr->backend->release(kr->state);
            eai__free(&p->alloc, kr->ctx.in);
            eai__free(&p->alloc, kr->ctx.out);
            eai__free_aligned(&p->alloc, kr->ctx.params);
        }
    }
    eai__free(&p->alloc, p->vals);
    eai__free(&p->alloc, p->kernels);
    memset(p, 0, sizeof *p);
}

static eai_status_t node_fail(const eai__graph_t *g, int i, eai_status_t st, const char *msg)
{
    const eai__node_t *n = &g->nodes[i];
    return eai_fail(st, "%s: node %d '%s' (%s): %s", g->label, i, n->name, n->op, msg);
}

static int64_t node_macs(const eai__node_t *n, const eai__opctx_t *c)
{
    if (!c->n_out || c->out[0].dtype == EAI_DTYPE_UNDEFINED) return 0;
    int64_t out = eai__shape_numel(&c->out[0].shape);
    /* fused and NHWC variants (src/opt) count like the op they stand for */
    bool conv = strcmp(n->op, "Conv") == 0 || strcmp(n->op, "FusedConv") == 0;
    bool gemm = strcmp(n->op, "Gemm") == 0 || strcmp(n->op, "FusedGemm") == 0;
    if (conv && c->n_in >= 2) {
        const eai__shape_t *w = &c->in[1].shape;
        int64_t k = 1;
        for (int i = 1; i < w->rank; i++)
            k *= w->d[i];
        return out * k;
    }
    if (strcmp(n->op, "ConvTranspose") == 0 && c->n_in >= 2) {
        const eai__shape_t *w = &c->in[1].shape;
        int64_t k = 1;
        for (int i = 1; i < w->rank; i++)
            k *= w->d[i];
        return eai__shape_numel(&c->in[0].shape) * k;
    }
    if ((strcmp(n->op, "MatMul") == 0 || gemm) && c->n_in >= 2) {
        const eai__shape_t *a = &c->in[0].shape;
        int64_t k = a->rank ? a->d[a->rank - 1] : 1;
        if (gemm) {
            const eai__attr_t *ta = eai__node_attr(n, "transA");
            if (ta && ta->type == EAI__A_INT && ta->i && a->rank == 2) k = a->d[0];
        }
        return out * k;
    }
    return 0;
}

eai_status_t eai__pass_run(eai__pass_t *p, const eai__graph_t *g, const eai_allocator_t *a,
                           int64_t bind)
{
    memset(p, 0, sizeof *p);
    p->g = g;
    if (a) p->alloc = *a;
    if (bind <= 0) bind = 1;
    p->vals = eai__calloc(&p->alloc, (size_t)g->n_values + 1, sizeof *p->vals);
    p->kernels = eai__calloc(&p->alloc, (size_t)g->n_nodes + 1, sizeof *p->kernels);
    if (!p->vals || !p->kernels) return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    for (int i = 0; i < g->n_values; i++) {
        const eai__value_t *v = &g->values[i];
        eai__rvalue_t *r = &p->vals[i];
        r->offset = -1;
        r->def = -1;
        r->last = -1;
        if (v->kind == EAI__V_CONST) {
            r->dtype = v->dtype;
            r->shape = v->shape;
            r->data = v->data;
            r->is_const = r->known = true;
        } else if (v->kind == EAI__V_INPUT) {
            r->dtype = v->dtype;
            r->shape = v->shape;
            for (int d = 0; d < r->shape.rank; d++)
                if (r->shape.d[d] < 0) r->shape.d[d] = bind;
            r->known = true;
            int64_t bytes;
            if (!eai__tensor_bytes_ok(r->shape.d, r->shape.rank, eai_dtype_size(r->dtype), &bytes))
                return eai_fail(EAI_E_UNSUPPORTED,
                                "%s: input '%s' is larger than 1 TiB with batch %lld", g->label,
                                v->name, (long long)bind);
        }
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const eai__node_t *n = &g->nodes[i];
        const eai__op_def_t *op = eai__op_find(n->domain, n->op);
        if (!op) {
            char msg[200];
            snprintf(msg, sizeof msg, "op '%s'%s%s is not supported", n->op,
                     n->domain[0] ? " of domain " : "", n->domain);
            return node_fail(g, i, EAI_E_UNSUPPORTED, msg);
        }
        if (n->n_in < op->min_in || (op->max_in >= 0 && n->n_in > op->max_in) ||
            n->n_out < op->min_out || (op->max_out >= 0 && n->n_out > op->max_out)) {
            char msg[200];
            snprintf(msg, sizeof msg, "has %d inputs and %d outputs; %s takes %d-%d and %d-%d",
                     n->n_in, n->n_out, n->op, op->min_in, op->max_in, op->min_out, op->max_out);
            return node_fail(g, i, EAI_E_FORMAT, msg);
        }
        for (int k = 0; k < op->min_out; k++)
            if (n->out[k] < 0) /* kernels write required outputs unconditionally */
                return node_fail(g, i, EAI_E_FORMAT, "a required output has no name");
        eai__kernel_t *kr = &p->kernels[p->n_kernels];
        memset(kr, 0, sizeof *kr);
        eai__opctx_t *c = &kr->ctx;
        c->g = g;
        c->node = n;
        c->opset = g->opset;
        c->n_in = n->n_in;
        c->n_out = n->n_out;
        c->in = eai__calloc(&p->alloc, (size_t)n->n_in + 1, sizeof *c->in);
        c->out = eai__calloc(&p->alloc, (size_t)n->n_out + 1, sizeof *c->out);
        c->params = eai__alloc_aligned(&p->alloc, EAI__PARAMS_BYTES);
        kr->node = i;
        kr->op = op;
        p->n_kernels++; /* owned by the pass from here, freed on any failure */
        if (!c->in || !c->out || !c->params)
            return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
        memset(c->params, 0, EAI__PARAMS_BYTES);
        bool all_const = true;
        for (int k = 0; k < n->n_in; k++) {
            int v = n->in[k];
            if (v < 0) continue;
            eai__rvalue_t *r = &p->vals[v];
            if (EAI_NEVER(!r->known))
                return node_fail(g, i, EAI_E_FORMAT, "input used before it is computed");
            c->in[k].dtype = r->dtype;
            c->in[k].shape = r->shape;
            c->in[k].data = r->is_const ? r->data : NULL;
            all_const &= r->is_const;
        }
        for (int k = 0; k < n->n_out; k++)
            c->out[k].dtype = EAI_DTYPE_UNDEFINED;
        EAI_TRY(op->infer(c));
        for (int k = 0; k < n->n_out; k++) {
            int v = n->out[k];
            if (v < 0) continue;
            if (c->out[k].dtype == EAI_DTYPE_UNDEFINED)
                return node_fail(g, i, EAI_E_UNSUPPORTED, "optional output is not supported");
            int64_t bytes;
            if (!eai__tensor_bytes_ok(c->out[k].shape.d, c->out[k].shape.rank,
                                      eai_dtype_size(c->out[k].dtype), &bytes))
                return node_fail(g, i, EAI_E_UNSUPPORTED,
                                 "output shape is negative or larger than 1 TiB");
            eai__rvalue_t *r = &p->vals[v];
            r->dtype = c->out[k].dtype;
            r->shape = c->out[k].shape;
            r->known = true;
        }
        p->macs += node_macs(n, c);
        if (!(all_const || (op->flags & EAI__OP_SHAPE_ONLY))) continue; /* stays a kernel */
        /* fold: run the node now, outputs become constants owned by the pass */
        for (int k = 0; k < n->n_out; k++) {
            int v = n->out[k];
            if (v < 0) continue;
            eai__rvalue_t *r = &p->vals[v];
            size_t bytes = (size_t)eai__shape_numel(&r->shape) * eai_dtype_size(r->dtype);
            r->data = eai__alloc_aligned(&p->alloc, bytes ? bytes : 1);
            if (!r->data)
                return eai_fail(EAI_E_NOMEM, "%s: out of memory folding node %d", g->label, i);
            r->owned = true;
            r->is_const = true;
            c->out[k].data = r->data;
            p->const_bytes += bytes;
        }
        void *scratch = NULL;
        if (c->scratch_bytes) {
            scratch = eai__alloc_aligned(&p->alloc, c->scratch_bytes);
            if (!scratch)
                return eai_fail(EAI_E_NOMEM, "%s: out of memory folding node %d", g->label, i);
        }
        c->scratch = scratch;
        c->pool = NULL;
        eai_status_t st = op->eval(c);
        eai__free_aligned(&p->alloc, scratch);
        c->scratch = NULL;
        if (st != EAI_OK) return st;
        /* the node is gone: release its kernel slot */
        p->n_kernels--;
        eai__free(&p->alloc, c->in);
        eai__free(&p->alloc, c->out);
        eai__free_aligned(&p->alloc, c->params);
        memset(kr, 0, sizeof *kr);
    }
    for (int k = 0; k < p->n_kernels; k++)
        if (p->kernels[k].ctx.scratch_bytes > p->scratch_bytes)
            p->scratch_bytes = p->kernels[k].ctx.scratch_bytes;
    return EAI_OK;
}
