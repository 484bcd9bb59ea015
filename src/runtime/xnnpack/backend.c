/* The XNNPACK backend (Debian's libxnnpack, snapshot 2022-02-16): the vtable,
 * the process-wide xnn_initialize, the per-session pthreadpool, and the
 * per-node operator chains the op families build.
 *
 * XNNPACK takes only a pthreadpool_t, so a session whose eai_threadpool has
 * n > 1 threads gets its own pthreadpool of n threads (caller included, as
 * eai_threadpool counts). Nodes that fall back to ref still use the
 * eai_threadpool. pthreadpool's workers spin between operators (cheap
 * hand-offs within an invoke) and are put to sleep at the end of each invoke
 * and before large ref nodes (idle), so they do not hold the cores the
 * eai_threadpool or other processes need; small
 * elementwise nodes run on the caller's thread alone. The other nodes time
 * themselves both ways and take the pool only while it is faster for them
 * (pick_tp): how much a second thread helps depends on the machine and on
 * what else runs on it, which no static threshold knows.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "runtime/xnnpack/xnn_impl.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static enum xnn_status init_status = xnn_status_uninitialized;

static void init_xnnpack(void)
{
    init_status = xnn_initialize(NULL);
}

/* Whether XNNPACK initialised (it fails on CPUs it has no kernels for; then
 * every node runs on ref). */
static bool xnn_ready(void)
{
    pthread_once(&init_once, init_xnnpack);
    return init_status == xnn_status_success;
}

const char *eai__xnn_status_name(enum xnn_status s)
{
    switch (s) {
    case xnn_status_success:
        return "success";
    case xnn_status_uninitialized:
        return "uninitialized";
    case xnn_status_invalid_parameter:
        return "invalid parameter";
    case xnn_status_invalid_state:
        return "invalid state";
    case xnn_status_unsupported_parameter:
        return "unsupported parameter";
    case xnn_status_unsupported_hardware:
        return "unsupported hardware";
    case xnn_status_out_of_memory:
        return "out of memory";
    }
    return "unknown status";
}

eai_status_t eai__xnn_check(const eai__opctx_t *c, enum xnn_status s, const char *what)
{
    if (s == xnn_status_success) return EAI_OK;
    return eai__op_fail(c, s == xnn_status_out_of_memory ? EAI_E_NOMEM : EAI_E_UNSUPPORTED,
                        "xnnpack: %s: %s", what, eai__xnn_status_name(s));
}

static eai_status_t push_step(const eai__opctx_t *c, eai__xnn_node_t *st,
                              const eai__xnn_step_t *step)
{
    if (st->n_steps == st->cap_steps) {
        int cap = st->cap_steps ? 2 * st->cap_steps : 4;
        eai__xnn_step_t *s = eai__realloc(&st->alloc, st->steps, (size_t)cap * sizeof *s);
        if (!s) return eai__op_fail(c, EAI_E_NOMEM, "out of memory");
        st->steps = s;
        st->cap_steps = cap;
    }
    st->steps[st->n_steps++] = *step;
    return EAI_OK;
}

eai_status_t eai__xnn_push(const eai__opctx_t *c, eai__xnn_node_t *st, enum xnn_status s,
                           xnn_operator_t op, const char *what)
{
    if (s != xnn_status_success) {
        if (op) xnn_delete_operator(op);
        return eai__xnn_check(c, s, what);
    }
    eai__xnn_step_t step = {.op = op};
    eai_status_t r = push_step(c, st, &step);
    if (r != EAI_OK) xnn_delete_operator(op);
    return r;
}

eai_status_t eai__xnn_push_owned(const eai__opctx_t *c, eai__xnn_node_t *st, enum xnn_status s,
                                 xnn_operator_t op, const char *what)
{
    if (s != xnn_status_success) {
        if (op) xnn_delete_operator(op);
        return eai__xnn_check(c, s, what);
    }
    eai__xnn_step_t step = {.op = op, .owned_only = true};
    eai_status_t r = push_step(c, st, &step);
    if (r != EAI_OK) xnn_delete_operator(op);
    return r;
}

eai_status_t eai__xnn_push_fn(const eai__opctx_t *c, eai__xnn_node_t *st,
                              void (*fn)(const void *arg, pthreadpool_t tp), const void *arg)
{
    eai__xnn_step_t step = {.fn = fn, .arg = arg};
    return push_step(c, st, &step);
}

static void part_run(void *ctx, size_t i)
{
    const eai__xnn_parts_t *p = ctx;
    xnn_run_operator(p->op[i], NULL); /* set up at prepare: cannot fail */
}

static void parts_step(const void *arg, pthreadpool_t tp)
{
    const eai__xnn_parts_t *p = arg;
    pthreadpool_parallelize_1d(tp, part_run, (void *)p, (size_t)p->n, EAI__XNN_PT_FLAGS);
}

eai_status_t eai__xnn_parts_new(const eai__opctx_t *c, eai__xnn_node_t *st, int n,
                                eai__xnn_parts_t **out)
{
    EAI_TRY(eai__xnn_buffer(c, st, sizeof **out + (size_t)n * sizeof(xnn_operator_t), NULL,
                            (void **)out));
    (*out)->n = 0;
    return EAI_OK;
}

eai_status_t eai__xnn_parts_add(const eai__opctx_t *c, eai__xnn_node_t *st, eai__xnn_parts_t *p,
                                enum xnn_status s, xnn_operator_t op, const char *what)
{
    EAI_TRY(eai__xnn_push_owned(c, st, s, op, what));
    p->op[p->n++] = op;
    return EAI_OK;
}

eai_status_t eai__xnn_push_parts(const eai__opctx_t *c, eai__xnn_node_t *st,
                                 const eai__xnn_parts_t *p)
{
    return eai__xnn_push_fn(c, st, parts_step, p);
}

eai_status_t eai__xnn_buffer(const eai__opctx_t *c, eai__xnn_node_t *st, size_t n, const void *src,
                             void **out)
{
    if (st->n_bufs == (int)(sizeof st->bufs / sizeof st->bufs[0]))
        return eai__op_fail(c, EAI_E_UNSUPPORTED, "xnnpack: too many buffers for one node");
    void *b = eai__alloc_aligned(&st->alloc, n + EAI__READ_PAD);
    if (!b) return eai__op_fail(c, EAI_E_NOMEM, "out of memory");
    memset(b, 0, n + EAI__READ_PAD);
    if (src && n) memcpy(b, src, n);
    st->bufs[st->n_bufs++] = b;
    st->bytes += n;
    *out = b;
    return EAI_OK;
}

/* ---- op table ---- */

static const eai__xnn_op_t *const families[] = {
    eai__xnn_ops_conv, eai__xnn_ops_elementwise, eai__xnn_ops_gemm,
    eai__xnn_ops_copy, eai__xnn_ops_q8,
};

/* The first entry for the node's (domain, op) whose supports() takes it:
 * several families may map one op name (float and int8 MaxPool). */
static const eai__xnn_op_t *find(const eai__opctx_t *c)
{
    const char *dom = c->node->domain;
    if (strcmp(dom, "ai.onnx") == 0) dom = "";
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
        for (const eai__xnn_op_t *o = families[f]; o->name; o++)
            if (strcmp(o->name, c->node->op) == 0 && strcmp(o->domain, dom) == 0 && o->supports(c))
                return o;
    return NULL;
}

/* ---- vtable ---- */

typedef struct eai__xnn_session {
    pthreadpool_t tp;
    bool adapt; /* nodes choose pool or caller's thread by their times */
    bool awake; /* a node ran on the pool since the workers last slept */
    /* The invoke-level choice (xnn_begin): this invoke runs every node on
     * the caller's thread (solo), from the recent invoke times each way. */
    bool solo;
    int way;
    uint32_t invokes;
    uint32_t next[2];
    eai__xnn_times_t recent;
    int64_t t0;
    eai_allocator_t alloc;
} xnn_session_t;

static eai_status_t xnn_session_init(eai_threadpool_t *pool, const eai_allocator_t *alloc,
                                     void **ctx)
{
    xnn_session_t *s = eai__calloc(alloc, 1, sizeof *s);
    if (!s) return eai_fail(EAI_E_NOMEM, "out of memory");
    s->alloc = *alloc;
    int n = eai_threadpool_size(pool);
    /* EAI_XNN_FIXED_THREADS=1: every pool node always takes the pool (A/B
     * benchmarks of the run-time choice) */
    const char *fixed = getenv("EAI_XNN_FIXED_THREADS");
    s->adapt = !(fixed && fixed[0] == '1');
    if (n > 1 && xnn_ready()) {
        s->tp = pthreadpool_create((size_t)n);
        if (!s->tp) {
            eai__free(alloc, s);
            return eai_fail(EAI_E_UNAVAILABLE, "xnnpack: cannot start a pool of %d threads", n);
        }
    }
    *ctx = s;
    return EAI_OK;
}

static void xnn_session_fini(void *ctx)
{
    xnn_session_t *s = ctx;
    if (!s) return;
    if (s->tp) pthreadpool_destroy(s->tp);
    eai_allocator_t a = s->alloc;
    eai__free(&a, s);
}

static bool xnn_wants_nhwc(const eai__opctx_t *c, const eai__op_def_t *op)
{
    return xnn_ready() && (eai__xnn_conv_wants_nhwc(c) || eai__xnn_q8_wants_nhwc(c));
}

static bool xnn_supports(const eai__opctx_t *c, const eai__op_def_t *op)
{
    if (!xnn_ready()) return false;
    return find(c) != NULL;
}

static size_t xnn_scratch(const eai__opctx_t *c, const eai__op_def_t *op)
{
    const eai__xnn_op_t *o = find(c);
    return o && o->scratch ? o->scratch(c) : 0;
}

/* Nodes with little work per output element (elementwise, copies, pools):
 * with fewer than SMALL outputs they run on the caller's thread, where
 * handing work to the pool's workers costs more than it saves. */
#define SMALL 8192

/* Convolutions and GEMMs below about 4 us of single-threaded float work:
 * their threads spend as long meeting as computing, even with the workers
 * spinning (with a futex wake-up per node, 1M: a YOLO head's 1x1 convs ran
 * slower on 2 threads than on 1). Larger nodes still choose at run time. */
#define SMALL_MACS 250000

static int64_t outputs(const eai__opctx_t *c)
{
    int64_t n = 0;
    for (int i = 0; i < c->n_out; i++)
        if (eai__has_out(c, i)) n += eai__shape_numel(&c->out[i].shape);
    return n;
}

/* Multiply-adds of a node with weights (its first constant input of rank
 * >= 2: W, or QLinearConv's w): outputs times the weights per output
 * channel (the output's last axis, NHWC or [M, N]). */
static int64_t macs(const eai__opctx_t *c)
{
    const eai__shape_t *y = &c->out[0].shape;
    if (y->rank < 1 || y->d[y->rank - 1] <= 0) return SMALL_MACS;
    for (int i = 1; i < c->n_in; i++) {
        const int v = c->node->in[i];
        if (v >= 0 && c->g->values[v].kind == EAI__V_CONST && c->in[i].shape.rank >= 2)
            return outputs(c) * (eai__shape_numel(&c->in[i].shape) / y->d[y->rank - 1]);
    }
    return SMALL_MACS;
}

static bool is_light(const eai__opctx_t *c)
{
    static const char *const heavy[] = {"Conv",   "FusedConv",   "Gemm", "FusedGemm",
                                        "MatMul", "QLinearConv", "QGemm"};
    for (size_t i = 0; i < sizeof heavy / sizeof heavy[0]; i++)
        if (strcmp(c->node->op, heavy[i]) == 0) return false;
    return true;
}

static void xnn_release(void *state)
{
    eai__xnn_node_t *st = state;
    if (!st) return;
    for (int i = 0; i < st->n_steps; i++)
        if (st->steps[i].op) xnn_delete_operator(st->steps[i].op);
    for (int i = 0; i < st->n_bufs; i++)
        eai__free_aligned(&st->alloc, st->bufs[i]);
    eai_allocator_t a = st->alloc;
    eai__free(&a, st->steps);
    eai__free(&a, st);
}

static eai_status_t xnn_prepare(eai__opctx_t *c, const eai__op_def_t *op, void *ctx, void **state,
                                size_t *bytes)
{
    const eai__xnn_op_t *o = find(c);
    if (EAI_NEVER(!o)) return eai__op_fail(c, EAI_E_STATE, "xnnpack: no mapping for this node");
    xnn_session_t *s = ctx;
    eai__xnn_node_t *st = eai__calloc(&s->alloc, 1, sizeof *st);
    if (!st) return eai__op_fail(c, EAI_E_NOMEM, "out of memory");
    st->alloc = s->alloc;
    st->tp = s->tp;
    if (is_light(c) ? outputs(c) < SMALL : macs(c) < SMALL_MACS) st->tp = NULL;
    st->adapt = st->tp && s->adapt;
    st->sess = s;
    eai_status_t r = o->prepare(c, st);
    if (r != EAI_OK) {
        xnn_release(st);
        return r;
    }
    *state = st;
    *bytes = st->bytes;
    return EAI_OK;
}

static void noop(void *ctx, size_t i)
{
}

/* Nothing for XNNPACK for a while (the invoke ended, or a large ref node
 * runs on the session's eai_threadpool): one empty job with YIELD_WORKERS,
 * so the workers sleep instead of spinning (pthreadpool spins a million
 * pauses) and leave the cores to the others. */
static void park(pthreadpool_t tp)
{
    pthreadpool_parallelize_1d(tp, noop, NULL, pthreadpool_get_threads_count(tp),
                               PTHREADPOOL_FLAG_YIELD_WORKERS);
}

static void xnn_idle(void *ctx)
{
    xnn_session_t *s = ctx;
    if (s && s->tp && s->awake) {
        park(s->tp);
        s->awake = false;
    }
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t recent_min(const int64_t *r)
{
    int64_t m = r[0];
    for (int i = 1; i < EAI__XNN_RECENT; i++)
        if (r[i] < m) m = r[i];
    return m;
}

/* Whether the k-th eval of a pool node takes the pool (1) or the caller's
 * thread (0), from its recent times each way. Handing work to the pool's workers pays off only when
 * they are awake and have a core: on a busy machine (or a paravirtual one whose wake-ups are slow)
 * a 2-thread convolution can take longer than one thread's. The node was set up for the pool; on
 * the caller's thread XNNPACK runs the same tiles in turn, so the output is the same bytes. */
int eai__xnn_pick_way(uint32_t k, const eai__xnn_times_t *t)
{
    if (k < 2 * EAI__XNN_PROBE) return (int)(k & 1);
    /* the caller's thread only when clearly faster (by a quarter): a node
     * left inline lets the workers fall asleep, and the next pool node then
     * pays their wake-up, so near-ties would drift to the caller's thread
     * on an idle machine (mobilenet_v2 2 threads 4.25 -> 4.78 ms) */
    const int best = !(4 * recent_min(t->ns[0]) < 3 * recent_min(t->ns[1]));
    return k % EAI__XNN_EXPLORE == EAI__XNN_EXPLORE - 1 ? !best : best;
}

/* The invoke-level choice. Between the pool nodes of an invoke the workers
 * spin (no YIELD_WORKERS), so a hand-off is cheap on an idle machine; on a
 * busy one the spinning spends the workers' share of the cores, the
 * scheduler runs them late, and every pool node waits for them
 * (mobilenet_v2 at 2 threads beside two busy loops: 11-26 ms, against 4.2
 * on one thread). Per-node times cannot see that cost (it lands on the
 * nodes after), the time of the whole invoke does: invokes choose between
 * the pool and the caller's thread alone as nodes do (eai__xnn_pick_way:
 * probes both ways, keeps the pool unless the caller's thread is a quarter
 * faster, tries the other way every 32nd invoke). */
static void xnn_begin(void *ctx)
{
    xnn_session_t *s = ctx;
    if (!s || !s->tp || !s->adapt) return;
    s->way = eai__xnn_pick_way(s->invokes++, &s->recent);
    s->solo = !s->way;
    s->t0 = now_ns();
}

static void xnn_end(void *ctx)
{
    xnn_session_t *s = ctx;
    xnn_idle(ctx);
    if (!s || !s->tp || !s->adapt) return;
    s->recent.ns[s->way][s->next[s->way]++ % EAI__XNN_RECENT] = now_ns() - s->t0;
    s->solo = false;
}

static eai_status_t xnn_eval(eai__opctx_t *c, const eai__op_def_t *op, void *state)
{
    eai__xnn_node_t *st = state;
    xnn_session_t *ss = st->sess;
    const bool adapt = st->adapt && !ss->solo; /* a solo invoke: no pool, no times */
    const int way = ss->solo ? 0 : adapt ? eai__xnn_pick_way(st->evals++, &st->recent) : 1;
    pthreadpool_t tp = way ? st->tp : NULL;
    /* A node that chose the caller's thread (the pool was slower) first puts
     * spinning workers to sleep: they would take the core it needs. */
    if (adapt && !way && ss->awake) xnn_idle(ss);
    if (tp) ss->awake = true;
    const int64_t t0 = adapt ? now_ns() : 0;
    for (int i = 0; i < st->n_steps; i++) {
        const eai__xnn_step_t *step = &st->steps[i];
        if (!step->op) {
            step->fn(step->arg, tp);
            continue;
        }
        if (step->owned_only) continue;
        enum xnn_status s = xnn_run_operator(step->op, tp);
        if (s != xnn_status_success) return eai__xnn_check(c, s, "run");
    }
    if (adapt) st->recent.ns[way][st->next[way]++ % EAI__XNN_RECENT] = now_ns() - t0;
    return EAI_OK;
}

const eai__backend_t eai__backend_xnnpack = {
    .name = "xnnpack",
    .session_init = xnn_session_init,
    .session_fini = xnn_session_fini,
    .wants_nhwc = xnn_wants_nhwc,
    .supports = xnn_supports,
    .scratch = xnn_scratch,
    .prepare = xnn_prepare,
    .eval = xnn_eval,
    .release = xnn_release,
    .idle = xnn_idle,
    .begin = xnn_begin,
    .end = xnn_end,
};
