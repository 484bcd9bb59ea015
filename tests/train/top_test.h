/* Test helper for the training op kernels (src/train/ops_*.c): builds one
 * node with the runtime test harness (tests/runtime/harness.h), wraps its
 * values in tvals with malloc'd data and gradients, and runs the op's
 * prepare/infer/forward/backward directly (no trainer engine). Also:
 * central-difference gradient checks and a comparison of the forward
 * result with the inference runtime (ref backend) on the same graph.
 *
 *   tt_t t; tt_begin(&t, 13);
 *   int x = th_input(&t.th, "x", EAI_F32, 4, (int64_t[]){3, 2, 5, 5});
 *   int w = tt_weight(&t, "w", 4, (int64_t[]){4, 2, 3, 3});
 *   int y = th_value(&t.th, "y");
 *   th_node(&t.th, "Conv", (int[]){x, w}, 2, (int[]){y}, 1);
 *   th_output(&t.th, y);
 *   tt_prepare_ok(&t);           // prepared at the graph input's batch (3)
 *   tt_gradcheck(&t, 2);         // smaller batch, then
 *   tt_gradcheck(&t, 3);
 *   tt_ref(&t, 1e-5, 1e-5);      // forward vs the runtime at batch 3
 *   tt_end(&t);
 *
 * Static inline throughout: each test file uses part of it.
 */
#ifndef EAI_TESTS_TOP_TEST_H
#define EAI_TESTS_TOP_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/harness.h"
#include "train/train_impl.h"

#define TT_MAXV 16

typedef struct tt {
    th_t th;
    eai__tval_t v[TT_MAXV];
    int vi[TT_MAXV]; /* graph value index per slot */
    int nv;
    eai__tval_t *in[8], *out[4];
    eai__tnode_t n;
    eai__tctx_t c;
    uint64_t rng, seed;
    unsigned nograd; /* inputs (bits) given no gradient */
    float *scratch;
    bool prepared, released;
    double h, rtol, atol; /* gradient check step and tolerances */
    int max_checks;       /* elements checked per input */
    int64_t prep_batch;   /* > 0: prepare graph inputs at this batch, not their dim 0 */
} tt_t;

/* Deterministic uniform in [-1, 1). */
static inline float tt_rand(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((*s >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

static inline void tt_begin(tt_t *t, int opset)
{
    memset(t, 0, sizeof *t);
    th_begin(&t->th, opset);
    t->rng = 12345;
    t->seed = 777;
    t->h = 1e-2, t->rtol = 2e-2, t->atol = 2e-3;
    t->max_checks = 40;
}

/* A float constant (parameter) with random data in [-1, 1) * scale. */
static inline int tt_weight_scaled(tt_t *t, const char *name, int rank, const int64_t *dims,
                                   float scale)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    float *d = malloc((size_t)(n ? n : 1) * sizeof(float));
    for (int64_t i = 0; i < n; i++)
        d[i] = tt_rand(&t->rng) * scale;
    int v = th_const(&t->th, name, EAI_F32, rank, dims, d);
    free(d);
    return v;
}

static inline int tt_weight(tt_t *t, const char *name, int rank, const int64_t *dims)
{
    return tt_weight_scaled(t, name, rank, dims, 1.0f);
}

static inline int tt_i64(tt_t *t, const char *name, int n, const int64_t *vals)
{
    return th_const(&t->th, name, EAI_I64, 1, (int64_t[]){n}, vals);
}

static inline eai__tval_t *tt_slot(tt_t *t, int vidx)
{
    for (int i = 0; i < t->nv; i++)
        if (t->vi[i] == vidx) return &t->v[i];
    eai__tval_t *tv = &t->v[t->nv];
    t->vi[t->nv++] = vidx;
    const eai__value_t *v = &t->th.g.values[vidx];
    tv->v = v;
    tv->shape = v->shape;
    if (v->kind == EAI__V_INPUT && t->prep_batch > 0 && tv->shape.rank > 0)
        tv->shape.d[0] = t->prep_batch;
    if (v->dtype == EAI_F32 && v->kind != EAI__V_ACT) {
        int64_t n = eai__shape_numel(&tv->shape);
        tv->cap = (size_t)(n ? n : 1);
        tv->data = calloc(tv->cap, sizeof(float));
        tv->grad = calloc(tv->cap, sizeof(float));
        if (v->kind == EAI__V_CONST)
            memcpy(tv->data, v->data, (size_t)n * sizeof(float));
        else
            for (int64_t i = 0; i < n; i++)
                tv->data[i] = tt_rand(&t->rng);
        tv->is_param = v->kind == EAI__V_CONST;
    }
    return tv;
}

/* Wraps the graph's last node and calls the op's prepare; outputs get
 * buffers sized by the shapes prepare inferred. */
static inline eai_status_t tt_prepare(tt_t *t)
{
    eai__graph_t *g = &t->th.g;
    const eai__node_t *node = &g->nodes[g->n_nodes - 1];
    t->n.g = g;
    t->n.node = node;
    t->n.op = eai__top_find(node->op);
    if (!t->n.op) return eai_fail(EAI_E_UNSUPPORTED, "no training op %s", node->op);
    t->n.n_in = node->n_in, t->n.n_out = node->n_out;
    t->n.in = t->in, t->n.out = t->out;
    for (int i = 0; i < node->n_in; i++) {
        t->in[i] = node->in[i] < 0 ? NULL : tt_slot(t, node->in[i]);
        unsigned nog = t->nograd | t->n.op->buffer_inputs;
        if (t->in[i] && (nog >> i & 1u)) {
            free(t->in[i]->grad);
            t->in[i]->grad = NULL;
        }
    }
    for (int i = 0; i < node->n_out; i++)
        t->out[i] = tt_slot(t, node->out[i]);
    size_t scratch = 0;
    eai_status_t st = t->n.op->prepare(&t->n, NULL, &scratch);
    if (st != EAI_OK) return st;
    t->prepared = true;
    t->scratch = malloc(scratch ? scratch : 1);
    t->c.scratch = t->scratch, t->c.scratch_bytes = scratch;
    t->c.rng = &t->rng;
    t->c.threads = 1;
    t->c.training = true;
    for (int i = 0; i < node->n_out; i++) {
        eai__tval_t *o = t->out[i];
        int64_t n = eai__shape_numel(&o->shape);
        o->cap = (size_t)(n ? n : 1);
        o->data = calloc(o->cap, sizeof(float));
        o->grad = calloc(o->cap, sizeof(float));
    }
    return EAI_OK;
}

#define tt_prepare_ok(t)                                                                           \
    do {                                                                                           \
        eai_status_t tt_st_ = tt_prepare(t);                                                       \
        if (tt_st_ != EAI_OK)                                                                      \
            fail_msg("prepare: %s: %s", eai_status_str(tt_st_), eai_last_error());                 \
    } while (0)

/* prepare fails with `want` and a message containing the node's name and op
 * and `needle`. */
static inline void tt_prepare_fails(tt_t *t, eai_status_t want, const char *needle)
{
    eai_status_t st = tt_prepare(t);
    const char *msg = eai_last_error();
    char who[96];
    const eai__node_t *node = &t->th.g.nodes[t->th.g.n_nodes - 1];
    snprintf(who, sizeof who, "'%s' (%s)", node->name, node->op);
    if (st != want || !strstr(msg, who) || !strstr(msg, needle))
        fail_msg("got %s '%s', want %s naming %s and containing '%s'", eai_status_str(st), msg,
                 eai_status_str(want), who, needle);
}

/* Sets the batch (dim 0 of the graph's first input) and infers. */
static inline void tt_batch(tt_t *t, int64_t n)
{
    tt_slot(t, t->th.g.inputs[0])->shape.d[0] = n;
    eai_status_t st = t->n.op->infer(&t->n);
    if (st != EAI_OK) fail_msg("infer: %s", eai_last_error());
}

static inline void tt_forward(tt_t *t)
{
    t->rng = t->seed; /* same Dropout mask on every call */
    eai_status_t st = t->n.op->forward(&t->n, &t->c);
    if (st != EAI_OK) fail_msg("forward: %s", eai_last_error());
}

static inline double tt_loss(tt_t *t, const float *r)
{
    tt_forward(t);
    double l = 0.0;
    const eai__tval_t *o = t->out[0];
    for (int64_t i = 0, e = eai__shape_numel(&o->shape); i < e; i++)
        l += (double)r[i] * o->data[i];
    return l;
}

/* Central-difference check of every input gradient at batch n, loss
 * L = sum(r * out) with fixed random r. Gradients start at 0.25 to check
 * that backward accumulates. */
static inline void tt_gradcheck(tt_t *t, int64_t n)
{
    tt_batch(t, n);
    eai__tval_t *o = t->out[0];
    int64_t no = eai__shape_numel(&o->shape);
    float *r = malloc((size_t)(no ? no : 1) * sizeof(float));
    uint64_t rs = 99 + (uint64_t)n;
    for (int64_t i = 0; i < no; i++)
        r[i] = tt_rand(&rs);
    tt_forward(t);
    memcpy(o->grad, r, (size_t)no * sizeof(float));
    for (int i = 0; i < t->n.n_in; i++)
        if (t->in[i] && t->in[i]->grad)
            for (int64_t k = 0, e = eai__shape_numel(&t->in[i]->shape); k < e; k++)
                t->in[i]->grad[k] = 0.25f;
    eai_status_t st = t->n.op->backward(&t->n, &t->c);
    if (st != EAI_OK) fail_msg("backward: %s", eai_last_error());
    int checked = 0;
    for (int i = 0; i < t->n.n_in; i++) {
        eai__tval_t *x = t->in[i];
        if (!x || !x->grad) continue;
        bool dup = false; /* the same value twice: checked once, gradient summed */
        for (int j = 0; j < i; j++)
            dup = dup || t->in[j] == x;
        if (dup) continue;
        int64_t e = eai__shape_numel(&x->shape);
        int64_t step = e > t->max_checks ? e / t->max_checks : 1;
        for (int64_t k = (int64_t)(rs % (uint64_t)step); k < e; k += step) {
            float x0 = x->data[k];
            x->data[k] = x0 + (float)t->h;
            double lp = tt_loss(t, r);
            x->data[k] = x0 - (float)t->h;
            double lm = tt_loss(t, r);
            x->data[k] = x0;
            double num = (lp - lm) / (2.0 * t->h), ana = (double)x->grad[k] - 0.25;
            if (!(fabs(num - ana) <= t->atol + t->rtol * fabs(num)))
                fail_msg("%s batch %lld: d/d input %d [%lld]: backward %.6g, finite difference "
                         "%.6g",
                         t->n.node->op, (long long)n, i, (long long)k, ana, num);
            checked++;
        }
    }
    assert_true(checked > 0);
    free(r);
}

static inline void tt_release(tt_t *t)
{
    if (t->prepared && !t->released && t->n.op->release) t->n.op->release(&t->n, NULL);
    t->released = true;
}

/* Forward at the graph input's batch equals the inference runtime's output
 * (ref backend) within atol + rtol * |want|. Ends the kernel's use of the
 * graph (the runtime takes it over). */
static inline void tt_ref(tt_t *t, double atol, double rtol)
{
    eai__graph_t *g = &t->th.g;
    const void *inputs[4] = {0};
    for (int i = 0; i < g->n_inputs && i < 4; i++)
        inputs[i] = tt_slot(t, g->inputs[i])->data;
    if (g->n_inputs > 0) tt_batch(t, g->values[g->inputs[0]].shape.d[0]);
    tt_forward(t);
    eai__tval_t *o = t->out[0];
    int64_t no = eai__shape_numel(&o->shape);
    eai__shape_t oshape = o->shape;
    float *mine = malloc((size_t)(no ? no : 1) * sizeof(float));
    memcpy(mine, o->data, (size_t)no * sizeof(float));
    tt_release(t);
    eai_status_t st = th_run(&t->th, inputs);
    if (st != EAI_OK) fail_msg("runtime: %s: %s", eai_status_str(st), eai_last_error());
    const eai_tensor_info_t *info = th_out_info(&t->th, 0);
    assert_int_equal(info->rank, oshape.rank);
    for (int k = 0; k < oshape.rank; k++)
        assert_int_equal(info->dims[k], oshape.d[k]);
    const float *want = th_out_f32(&t->th, 0);
    for (int64_t i = 0; i < no; i++)
        if (!(fabs((double)mine[i] - want[i]) <= atol + rtol * fabs((double)want[i])))
            fail_msg("%s: element %lld: trainer %.7g, runtime %.7g", t->n.node->op, (long long)i,
                     mine[i], want[i]);
    free(mine);
}

static inline void tt_end(tt_t *t)
{
    tt_release(t);
    for (int i = 0; i < t->nv; i++) {
        free(t->v[i].data);
        free(t->v[i].grad);
    }
    free(t->scratch);
    th_end(&t->th);
}

#endif
