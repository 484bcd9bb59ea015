/* Shared by the graph-pass tests (tests/opt/test_*.c): build a graph with
 * the single-op harness (tests/runtime/harness.h), run one pass on a clone,
 * then check the structure of the result and that it computes the same
 * outputs as the original graph on the same random inputs, through real
 * sessions (several batch sizes, with and without a thread pool).
 *
 *   th_t t; th_begin(&t, 13); ...build...
 *   oc_t o; oc_apply(&t, eai__opt_fuse_act, &o);
 *   assert_int_equal(oc_count(&o, "FusedConv"), 1);
 *   oc_equiv(&t, &o, 1e-5);
 *   oc_end(&t, &o);
 *
 * oc_apply also proves the pass never wrote a constant's bytes in place.
 */
#ifndef EAI_TEST_OPT_CHECK_H
#define EAI_TEST_OPT_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "model/graph_edit.h"
#include "opt/opt_impl.h"
#include "runtime/harness.h"

eai_status_t eai__model_from_graph(eai__graph_t *g, eai_model_t **out);

typedef eai_status_t (*oc_pass_fn)(eai__graph_t *g, int *n);

typedef struct oc {
    eai__graph_t after; /* the rewritten clone (until oc_equiv adopts it) */
    int n;              /* rewrites the pass reported */
    eai_model_t *m_ref, *m_opt;
} oc_t;

/* Runs `pass` on a clone of t's graph (t's graph stays as built). */
static inline void oc_apply(th_t *t, oc_pass_fn pass, oc_t *o)
{
    memset(o, 0, sizeof *o);
    /* the harness graph is not finished yet: passes expect a sorted graph */
    assert_int_equal(eai__graph_finish(&t->g), EAI_OK);
    /* snapshot every constant's bytes: a pass must never write them */
    int nv = t->g.n_values;
    void **snap = calloc((size_t)nv + 1, sizeof(void *));
    for (int v = 0; v < nv; v++) {
        const eai__value_t *val = &t->g.values[v];
        if (val->kind != EAI__V_CONST || !val->data) continue;
        size_t bytes = (size_t)eai__shape_numel(&val->shape) * eai_dtype_size(val->dtype);
        snap[v] = malloc(bytes + 1);
        memcpy(snap[v], val->data, bytes);
    }
    assert_int_equal(eai__graph_clone(&o->after, &t->g), EAI_OK);
    eai_status_t st = pass(&o->after, &o->n);
    if (st != EAI_OK) fail_msg("pass failed: %s", eai_last_error());
    for (int v = 0; v < nv; v++) {
        if (!snap[v]) continue;
        const eai__value_t *val = &t->g.values[v];
        size_t bytes = (size_t)eai__shape_numel(&val->shape) * eai_dtype_size(val->dtype);
        if (memcmp(snap[v], val->data, bytes) != 0)
            fail_msg("constant '%s' was modified in place", val->name);
        free(snap[v]);
    }
    free(snap);
}

/* Nodes of op `op` in the rewritten graph (before oc_equiv). */
static inline int oc_count(const oc_t *o, const char *op)
{
    const eai__graph_t *g = o->m_opt ? NULL : &o->after;
    assert_non_null(g);
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++)
        n += strcmp(g->nodes[i].op, op) == 0;
    return n;
}

static inline int oc_nodes(const oc_t *o)
{
    return o->after.n_nodes;
}

/* The first node of op `op` in the rewritten graph (fails if none). */
static inline const eai__node_t *oc_node(const oc_t *o, const char *op)
{
    for (int i = 0; i < o->after.n_nodes; i++)
        if (strcmp(o->after.nodes[i].op, op) == 0) return &o->after.nodes[i];
    fail_msg("no %s node", op);
    return NULL;
}

/* Name of the value node `nd` writes at output k. */
static inline const char *oc_out_name(const oc_t *o, const eai__node_t *nd, int k)
{
    return o->after.values[nd->out[k]].name;
}

static inline void oc_fill(void *data, eai_dtype_t dt, int64_t n, uint64_t *seed)
{
    for (int64_t i = 0; i < n; i++) {
        *seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(*seed >> 11) / 9007199254740992.0;
        if (dt == EAI_F32)
            ((float *)data)[i] = (float)(u * 6 - 3); /* both sides of every activation's knees */
        else
            memset((char *)data + (size_t)i * eai_dtype_size(dt), 0, eai_dtype_size(dt));
    }
}

/* Runs a session of `m` on the inputs derived from `seed`; copies outputs. */
static inline void oc_run(eai_model_t *m, int64_t batch, eai_threadpool_t *pool, uint64_t seed,
                          float **outs, eai_tensor_info_t *infos, int *n_out)
{
    eai_session_opts_t so = {.batch = batch, .pool = pool, .backend = "ref"};
    eai_session_t *s;
    if (eai_session_create(m, &so, &s) != EAI_OK) fail_msg("session: %s", eai_last_error());
    for (int i = 0; i < eai_session_n_inputs(s); i++) {
        eai_tensor_info_t info;
        assert_int_equal(eai_session_input_info(s, i, &info), EAI_OK);
        size_t n = (size_t)eai_tensor_info_numel(&info);
        void *buf = malloc(n * eai_dtype_size(info.dtype) + 1);
        oc_fill(buf, info.dtype, (int64_t)n, &seed);
        assert_int_equal(eai_session_set_input(s, i, buf, n * eai_dtype_size(info.dtype)), EAI_OK);
        free(buf);
    }
    if (eai_session_invoke(s) != EAI_OK) fail_msg("invoke: %s", eai_last_error());
    *n_out = eai_session_n_outputs(s);
    for (int i = 0; i < *n_out && i < 8; i++) {
        const void *d;
        assert_int_equal(eai_session_get_output(s, i, &d, &infos[i]), EAI_OK);
        size_t bytes = (size_t)eai_tensor_info_numel(&infos[i]) * eai_dtype_size(infos[i].dtype);
        outs[i] = malloc(bytes + 1);
        memcpy(outs[i], d, bytes);
    }
    eai_session_destroy(s);
}

/* Loads both graphs as models (once) and compares every output at `batch`:
 * float32 within tol * max(1, max|reference|), other dtypes exactly. The
 * rewritten graph also runs on a 3-thread pool. */
static inline void oc_equiv_batch(th_t *t, oc_t *o, int64_t batch, double tol)
{
    if (!o->m_ref) {
        if (eai__model_from_graph(&t->g, &o->m_ref) != EAI_OK)
            fail_msg("reference model: %s", eai_last_error());
        t->model = o->m_ref; /* th_end destroys it */
        if (eai__model_from_graph(&o->after, &o->m_opt) != EAI_OK)
            fail_msg("rewritten model: %s", eai_last_error());
    }
    eai_threadpool_t *pool;
    assert_int_equal(eai_threadpool_create(3, &pool), EAI_OK);
    for (int variant = 0; variant < 2; variant++) {
        float *ro[8] = {0}, *oo[8] = {0};
        eai_tensor_info_t ri[8], oi[8];
        int nr, no;
        oc_run(o->m_ref, batch, NULL, 1234 + (uint64_t)batch, ro, ri, &nr);
        oc_run(o->m_opt, batch, variant ? pool : NULL, 1234 + (uint64_t)batch, oo, oi, &no);
        assert_int_equal(nr, no);
        for (int i = 0; i < nr && i < 8; i++) {
            assert_string_equal(ri[i].name, oi[i].name);
            assert_int_equal(ri[i].dtype, oi[i].dtype);
            assert_int_equal(ri[i].rank, oi[i].rank);
            for (int d = 0; d < ri[i].rank; d++)
                assert_int_equal(ri[i].dims[d], oi[i].dims[d]);
            int64_t n = eai_tensor_info_numel(&ri[i]);
            if (ri[i].dtype != EAI_F32) {
                assert_memory_equal(ro[i], oo[i], (size_t)n * eai_dtype_size(ri[i].dtype));
                continue;
            }
            double mx = 1.0, worst = 0.0;
            for (int64_t k = 0; k < n; k++)
                if (fabs(ro[i][k]) > mx) mx = fabs(ro[i][k]);
            for (int64_t k = 0; k < n; k++) {
                double d = fabs((double)ro[i][k] - oo[i][k]);
                if (!(d <= worst)) worst = d; /* NaN counts as worst */
            }
            if (!(worst <= tol * mx))
                fail_msg("output '%s' batch %lld%s: max |diff| %g > %g", ri[i].name,
                         (long long)batch, variant ? " (pool)" : "", worst, tol * mx);
        }
        for (int i = 0; i < 8; i++) {
            free(ro[i]);
            free(oo[i]);
        }
    }
    eai_threadpool_destroy(pool);
}

/* Batch 1 and 3 (graphs with a symbolic dim run both). */
static inline void oc_equiv(th_t *t, oc_t *o, double tol)
{
    oc_equiv_batch(t, o, 1, tol);
    oc_equiv_batch(t, o, 3, tol);
}

static inline void oc_end(th_t *t, oc_t *o)
{
    /* the rewritten model borrows the reference's constants: it goes first */
    eai_model_destroy(o->m_opt);
    if (!o->m_opt) eai__graph_free(&o->after);
    th_end(t);
    memset(o, 0, sizeof *o);
}

/* Harness helpers for the tests' small graphs. */
static inline float *oc_rand(int64_t n, uint64_t seed)
{
    float *v = malloc((size_t)n * sizeof(float) + 1);
    oc_fill(v, EAI_F32, n, &seed);
    return v;
}

/* A float32 constant of random values in [lo, hi). */
static inline int oc_const_rand(th_t *t, const char *name, int rank, const int64_t *dims,
                                uint64_t seed, float lo, float hi)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    float *v = oc_rand(n, seed);
    for (int64_t i = 0; i < n; i++)
        v[i] = lo + (v[i] + 3.0f) / 6.0f * (hi - lo);
    int id = th_const(t, name, EAI_F32, rank, dims, v);
    free(v);
    return id;
}

static inline int oc_scalar(th_t *t, const char *name, float v)
{
    return th_const(t, name, EAI_F32, 0, NULL, &v);
}

#endif
