/* Op family 'reduce' (ref backend): ReduceSum/Mean/Max/Min/Prod/L1/L2/
 * SumSquare/LogSum/LogSumExp and ArgMax/ArgMin.
 *
 * The one idea: infer merges the input's dims into alternating kept/reduced
 * groups. If the innermost group is reduced, each output element folds
 * contiguous rows (a horizontal reduce, 8 partial accumulators so it
 * vectorises); if it is kept, each output row accumulates input rows
 * elementwise (a vertical reduce, a plain vector loop). Either way the
 * memory is read in order.
 */
#include "runtime/ref/elementwise_impl.h"

enum { R_SUM, R_MEAN, R_MAX, R_MIN, R_PROD, R_L1, R_L2, R_SUMSQ, R_LOGSUM, R_LSE };

/* The fold behind each reduce: an accumulation (add/max/min/mul) of the
 * elements mapped by identity, abs or square. */
enum { F_ADD, F_ADD_ABS, F_ADD_SQ, F_MAX, F_MIN, F_MUL };

typedef struct rop {
    const char *name;
    int kind, fold;
    int axes_input_opset; /* opset from which axes moved to an input */
} rop_t;

static const rop_t rops[] = {
    {"ReduceSum", R_SUM, F_ADD, 13},       {"ReduceMean", R_MEAN, F_ADD, 18},
    {"ReduceMax", R_MAX, F_MAX, 18},       {"ReduceMin", R_MIN, F_MIN, 18},
    {"ReduceProd", R_PROD, F_MUL, 18},     {"ReduceL1", R_L1, F_ADD_ABS, 18},
    {"ReduceL2", R_L2, F_ADD_SQ, 18},      {"ReduceSumSquare", R_SUMSQ, F_ADD_SQ, 18},
    {"ReduceLogSum", R_LOGSUM, F_ADD, 18}, {"ReduceLogSumExp", R_LSE, F_MAX, 18},
};

/* Kernels of one (dtype, fold): fill a row with the identity, fold a row
 * into one accumulator (*acc = acc op fold(x[0..n))), fold a row into a row
 * (o[i] = o[i] op x[i]). */
typedef struct rkset {
    eai_dtype_t dt;
    int fold;
    void (*init)(void *o, int64_t n);
    void (*hred)(void *acc, const void *x, int64_t n);
    void (*vred)(void *o, const void *x, int64_t n);
} rkset_t;

#define ADD(a, b)  ((a) + (b))
#define MAXV(a, b) ((a) < (b) ? (b) : (a))
#define MINV(a, b) ((b) < (a) ? (b) : (a))
#define MUL(a, b)  ((a) * (b))
#define ID(x)      (x)
#define ABSF(x)    fabsf(x)
#define SQ(x)      ((x) * (x))

#define RK(name, T, INIT, MAP, COMB)                                                               \
    static void name##_init(void *o_, int64_t n)                                                   \
    {                                                                                              \
        T *o = o_;                                                                                 \
        for (int64_t i = 0; i < n; i++)                                                            \
            o[i] = INIT;                                                                           \
    }                                                                                              \
    static void name##_hred(void *acc_, const void *x_, int64_t n)                                 \
    {                                                                                              \
        const T *x = x_;                                                                           \
        T acc[8];                                                                                  \
        for (int j = 0; j < 8; j++)                                                                \
            acc[j] = INIT;                                                                         \
        int64_t i = 0;                                                                             \
        for (; i + 8 <= n; i += 8)                                                                 \
            for (int j = 0; j < 8; j++)                                                            \
                acc[j] = COMB(acc[j], MAP(x[i + j]));                                              \
        for (; i < n; i++)                                                                         \
            acc[0] = COMB(acc[0], MAP(x[i]));                                                      \
        T r = *(T *)acc_;                                                                          \
        for (int j = 0; j < 8; j++)                                                                \
            r = COMB(r, acc[j]);                                                                   \
        *(T *)acc_ = r;                                                                            \
    }                                                                                              \
    static void name##_vred(void *o_, const void *x_, int64_t n)                                   \
    {                                                                                              \
        T *o = o_;                                                                                 \
        const T *x = x_;                                                                           \
        for (int64_t i = 0; i < n; i++)                                                            \
            o[i] = COMB(o[i], MAP(x[i]));                                                          \
    }

RK(k_f32_add, float, 0.0f, ID, ADD)
RK(k_f32_addabs, float, 0.0f, ABSF, ADD)
RK(k_f32_addsq, float, 0.0f, SQ, ADD)
RK(k_f32_max, float, -INFINITY, ID, MAXV)
RK(k_f32_min, float, INFINITY, ID, MINV)
RK(k_f32_mul, float, 1.0f, ID, MUL)
/* integer sums wrap like the binary ops (unsigned arithmetic, no UB) */
#define ADDU64(a, b) ((int64_t)((uint64_t)(a) + (uint64_t)(b)))
#define MULU64(a, b) ((int64_t)((uint64_t)(a) * (uint64_t)(b)))
#define ADDU32(a, b) ((int32_t)((uint32_t)(a) + (uint32_t)(b)))
#define MULU32(a, b) ((int32_t)((uint32_t)(a) * (uint32_t)(b)))
RK(k_i64_add, int64_t, 0, ID, ADDU64)
RK(k_i64_max, int64_t, INT64_MIN, ID, MAXV)
RK(k_i64_min, int64_t, INT64_MAX, ID, MINV)
RK(k_i64_mul, int64_t, 1, ID, MULU64)
RK(k_i32_add, int32_t, 0, ID, ADDU32)
RK(k_i32_max, int32_t, INT32_MIN, ID, MAXV)
RK(k_i32_min, int32_t, INT32_MAX, ID, MINV)
RK(k_i32_mul, int32_t, 1, ID, MULU32)

#define RKS(dt, fold, name)                                                                        \
    {                                                                                              \
        dt, fold, name##_init, name##_hred, name##_vred                                            \
    }
static const rkset_t rkernels[] = {
    RKS(EAI_F32, F_ADD, k_f32_add),      RKS(EAI_F32, F_ADD_ABS, k_f32_addabs),
    RKS(EAI_F32, F_ADD_SQ, k_f32_addsq), RKS(EAI_F32, F_MAX, k_f32_max),
    RKS(EAI_F32, F_MIN, k_f32_min),      RKS(EAI_F32, F_MUL, k_f32_mul),
    RKS(EAI_I64, F_ADD, k_i64_add),      RKS(EAI_I64, F_MAX, k_i64_max),
    RKS(EAI_I64, F_MIN, k_i64_min),      RKS(EAI_I64, F_MUL, k_i64_mul),
    RKS(EAI_I32, F_ADD, k_i32_add),      RKS(EAI_I32, F_MAX, k_i32_max),
    RKS(EAI_I32, F_MIN, k_i32_min),      RKS(EAI_I32, F_MUL, k_i32_mul),
};
#define N_RKERNELS ((int)(sizeof rkernels / sizeof rkernels[0]))

/* Input dims merged into groups, outermost first; the innermost group is
 * described by inner_len/inner_red, the others split into kept (k_*) and
 * reduced (r_*) lists with their input element strides. */
typedef struct rparams {
    int kind, ki;
    bool copy;      /* noop_with_empty_axes and no axes: Identity */
    bool inner_red; /* innermost group reduced: horizontal folds */
    int n_k, n_r;
    int64_t k_d[EAI_MAX_RANK], k_s[EAI_MAX_RANK];
    int64_t r_d[EAI_MAX_RANK], r_s[EAI_MAX_RANK];
    int64_t inner_len;
    int64_t n_units;  /* product of k_d */
    int64_t n_combos; /* product of r_d */
    int64_t count;    /* elements folded into each output (Mean) */
} rparams_t;
_Static_assert(sizeof(rparams_t) <= EAI__PARAMS_BYTES, "rparams_t too big");

/* Parses axes (attribute, or input 1 from the opset that moved it there; both
 * accepted at any opset) into a mask. Returns the count via *n. */
static eai_status_t parse_axes(eai__opctx_t *c, int rank, bool *mask, int *n)
{
    int64_t axes[EAI_MAX_RANK];
    int na = -1;
    EAI_TRY(eai__op_ints(c, "axes", axes, EAI_MAX_RANK, &na));
    if (eai__has_in(c, 1)) {
        if (na >= 0)
            return eai__op_fail(c, EAI_E_FORMAT, "axes given both as attribute and as input");
        EAI_TRY(eai__op_const_ints(c, 1, axes, EAI_MAX_RANK, &na));
    }
    if (na < 0) na = 0;
    for (int i = 0; i < rank; i++)
        mask[i] = false;
    for (int i = 0; i < na; i++) {
        int ax;
        EAI_TRY(eai__op_axis(c, axes[i], rank, &ax));
        if (mask[ax]) return eai__op_fail(c, EAI_E_FORMAT, "axis %d appears twice in axes", ax);
        mask[ax] = true;
    }
    *n = na;
    return EAI_OK;
}

static const rop_t *rop_of(const char *name)
{
    for (size_t i = 0; i < sizeof rops / sizeof rops[0]; i++)
        if (strcmp(rops[i].name, name) == 0) return &rops[i];
    return NULL;
}

static eai_status_t reduce_infer(eai__opctx_t *c)
{
    rparams_t *p = c->params;
    const rop_t *op = rop_of(c->node->op);
    if (EAI_NEVER(!op)) return eai__op_fail(c, EAI_E_UNSUPPORTED, "not a reduce op");
    const eai__shape_t *in = &c->in[0].shape;
    eai_dtype_t dt = c->in[0].dtype;
    p->kind = op->kind;
    p->ki = -1;
    for (int i = 0; i < N_RKERNELS; i++)
        if (rkernels[i].dt == dt && rkernels[i].fold == op->fold) p->ki = i;
    bool int_ok = op->kind == R_SUM || op->kind == R_MAX || op->kind == R_MIN || op->kind == R_PROD;
    if (p->ki < 0 || (dt != EAI_F32 && !int_ok))
        return eai__op_fail(c, EAI_E_UNSUPPORTED, "input has dtype %s, supported: float32%s",
                            eai_dtype_name(dt), int_ok ? ", int64, int32" : "");

    int64_t keepdims, noop;
    EAI_TRY(eai__op_int(c, "keepdims", 1, &keepdims));
    EAI_TRY(eai__op_int(c, "noop_with_empty_axes", 0, &noop));
    bool red[EAI_MAX_RANK];
    int na = 0;
    EAI_TRY(parse_axes(c, in->rank, red, &na));
    if (na == 0) {
        /* no axes: reduce all, unless noop_with_empty_axes (opset 13/18) */
        p->copy = noop != 0;
        for (int i = 0; i < in->rank; i++)
            red[i] = !p->copy;
    }

    eai__shape_t out = {0};
    for (int i = 0; i < in->rank; i++) {
        if (!red[i])
            out.d[out.rank++] = in->d[i];
        else if (keepdims)
            out.d[out.rank++] = 1;
    }
    c->out[0].dtype = dt;
    c->out[0].shape = out;
    if (p->copy) return EAI_OK;

    /* groups, innermost first: drop size-1 dims, merge neighbours alike */
    int64_t gd[EAI_MAX_RANK], gs[EAI_MAX_RANK];
    bool gr[EAI_MAX_RANK];
    int ng = 0;
    int64_t stride = 1;
    p->count = 1;
    for (int i = in->rank - 1; i >= 0; i--) {
        int64_t d = in->d[i];
        if (red[i]) p->count *= d;
        if (d != 1) {
            if (ng > 0 && gr[ng - 1] == red[i]) {
                gd[ng - 1] *= d;
            } else {
                gd[ng] = d;
                gs[ng] = stride;
                gr[ng] = red[i];
                ng++;
            }
        }
        stride *= d;
    }
    if (ng == 0) { /* one element: a kept row of 1 */
        gd[0] = 1;
        gs[0] = 1;
        gr[0] = false;
        ng = 1;
    }
    p->inner_red = gr[0];
    p->inner_len = gd[0];
    p->n_k = p->n_r = 0;
    p->n_units = p->n_combos = 1;
    for (int g = ng - 1; g >= 1; g--) { /* outermost first */
        if (gr[g]) {
            p->r_d[p->n_r] = gd[g];
            p->r_s[p->n_r++] = gs[g];
            p->n_combos *= gd[g];
        } else {
            p->k_d[p->n_k] = gd[g];
            p->k_s[p->n_k++] = gs[g];
            p->n_units *= gd[g];
        }
    }
    /* LogSumExp over a kept inner row keeps its running sums beside out */
    if (p->kind == R_LSE && !p->inner_red)
        c->scratch_bytes = (size_t)eai__shape_numel(&out) * sizeof(float);
    return EAI_OK;
}

typedef struct rrun {
    const rparams_t *p;
    const rkset_t *ks;
    const char *x;
    char *o;
    int64_t es;
    float *lse_sum; /* LogSumExp, vertical case: running sums */
} rrun_t;

/* Chunk of an output row handled by one vertical work item. */
#define V_CHUNK 2048

static int64_t unit_base(const rparams_t *p, int64_t u)
{
    int64_t base = 0;
    for (int j = p->n_k - 1; j >= 0; j--) {
        base += (u % p->k_d[j]) * p->k_s[j];
        u /= p->k_d[j];
    }
    return base;
}

/* Calls fn on the input offset of every reduced-outer combination. */
#define FOR_COMBOS(p, base, off, BODY)                                                             \
    do {                                                                                           \
        int64_t co_[EAI_MAX_RANK] = {0};                                                           \
        int64_t off = (base);                                                                      \
        for (int64_t c_ = 0; c_ < (p)->n_combos; c_++) {                                           \
            BODY;                                                                                  \
            for (int j_ = (p)->n_r - 1; j_ >= 0; j_--) {                                           \
                off += (p)->r_s[j_];                                                               \
                if (++co_[j_] < (p)->r_d[j_]) break;                                               \
                off -= (p)->r_s[j_] * (p)->r_d[j_];                                                \
                co_[j_] = 0;                                                                       \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* Output element finalisation by kind (float32 only; ints have none). */
static inline float finish(int kind, float v, float count, float lse_sum)
{
    switch (kind) {
    case R_MEAN:
        return v / count;
    case R_L2:
        return sqrtf(v);
    case R_LOGSUM:
        return logf(v);
    case R_LSE:
        return v == -INFINITY ? v : v + logf(lse_sum);
    default:
        return v;
    }
}

/* Horizontal: units [b, e) are output elements. */
static void reduce_h(void *ctx, int64_t b, int64_t e)
{
    const rrun_t *r = ctx;
    const rparams_t *p = r->p;
    int64_t L = p->inner_len;
    for (int64_t u = b; u < e; u++) {
        char *o = r->o + u * r->es;
        int64_t base = unit_base(p, u);
        r->ks->init(o, 1);
        FOR_COMBOS(p, base, off, r->ks->hred(o, r->x + off * r->es, L));
        if (r->ks->dt != EAI_F32) continue;
        float *of = (float *)o, s = 0;
        if (p->kind == R_LSE && *of != -INFINITY)
            FOR_COMBOS(p, base, off, s += ew_sum_exp((const float *)r->x + off, L, *of));
        *of = finish(p->kind, *of, (float)p->count, s);
    }
}

/* Vertical: units [b, e) are (output row, chunk of V_CHUNK) pairs. */
static void reduce_v(void *ctx, int64_t b, int64_t e)
{
    const rrun_t *r = ctx;
    const rparams_t *p = r->p;
    int64_t L = p->inner_len, n_chunks = (L + V_CHUNK - 1) / V_CHUNK;
    for (int64_t w = b; w < e; w++) {
        int64_t u = w / n_chunks, c0 = (w % n_chunks) * V_CHUNK;
        int64_t n = L - c0 < V_CHUNK ? L - c0 : V_CHUNK;
        int64_t base = unit_base(p, u) + c0, oo = u * L + c0;
        char *o = r->o + oo * r->es;
        r->ks->init(o, n);
        FOR_COMBOS(p, base, off, r->ks->vred(o, r->x + off * r->es, n));
        if (r->ks->dt != EAI_F32) continue;
        float *of = (float *)o;
        if (p->kind == R_LSE) {
            float *s = r->lse_sum + oo;
            for (int64_t i = 0; i < n; i++)
                s[i] = 0;
            FOR_COMBOS(p, base, off, {
                const float *x = (const float *)r->x + off;
                for (int64_t i = 0; i < n; i++)
                    s[i] += ew_expf(x[i] - of[i]);
            });
            for (int64_t i = 0; i < n; i++)
                of[i] = finish(R_LSE, of[i], 0, s[i]);
        } else if (p->kind == R_MEAN || p->kind == R_L2 || p->kind == R_LOGSUM) {
            float cnt = (float)p->count;
            for (int64_t i = 0; i < n; i++)
                of[i] = finish(p->kind, of[i], cnt, 0);
        }
    }
}

static eai_status_t reduce_eval(eai__opctx_t *c)
{
    const rparams_t *p = c->params;
    int64_t es = (int64_t)eai_dtype_size(c->in[0].dtype);
    if (p->copy) {
        memcpy(c->out[0].data, c->in[0].data, (size_t)(eai__shape_numel(&c->in[0].shape) * es));
        return EAI_OK;
    }
    rrun_t r = {p, &rkernels[p->ki], c->in[0].data, c->out[0].data, es, c->scratch};
    int64_t work = p->n_combos * p->inner_len;
    if (p->inner_red) {
        ew_parallel_items(c->pool, p->n_units, work, reduce_h, &r);
    } else {
        int64_t n_chunks = (p->inner_len + V_CHUNK - 1) / V_CHUNK;
        ew_parallel_items(c->pool, p->n_units * n_chunks, p->n_combos * V_CHUNK, reduce_v, &r);
    }
    return EAI_OK;
}

/* ---- ArgMax / ArgMin (opset 1-13; select_last_index from 12) ---- */

typedef struct aparams {
    bool is_max, last;
    int64_t outer, len, inner; /* input viewed as [outer, len, inner] */
} aparams_t;
_Static_assert(sizeof(aparams_t) <= EAI__PARAMS_BYTES, "aparams_t too big");

static eai_status_t arg_infer(eai__opctx_t *c)
{
    aparams_t *p = c->params;
    static const eai_dtype_t ok[] = {EAI_F32, EAI_I64, EAI_I32, 0};
    EAI_TRY(eai__op_dtype(c, 0, ok));
    const eai__shape_t *in = &c->in[0].shape;
    int64_t axis, keepdims, last;
    EAI_TRY(eai__op_int(c, "axis", 0, &axis));
    EAI_TRY(eai__op_int(c, "keepdims", 1, &keepdims));
    EAI_TRY(eai__op_int(c, "select_last_index", 0, &last));
    int ax;
    EAI_TRY(eai__op_axis(c, axis, in->rank, &ax));
    p->is_max = strcmp(c->node->op, "ArgMax") == 0;
    p->last = last != 0;
    p->outer = p->inner = 1;
    for (int i = 0; i < ax; i++)
        p->outer *= in->d[i];
    for (int i = ax + 1; i < in->rank; i++)
        p->inner *= in->d[i];
    p->len = in->d[ax];
    if (p->len == 0)
        return eai__op_fail(c, EAI_E_INVALID, "axis %d has size 0: no index to return", ax);
    eai__shape_t out = {0};
    for (int i = 0; i < in->rank; i++) {
        if (i != ax)
            out.d[out.rank++] = in->d[i];
        else if (keepdims)
            out.d[out.rank++] = 1;
    }
    c->out[0].dtype = EAI_I64;
    c->out[0].shape = out;
    return EAI_OK;
}

typedef struct arun {
    const aparams_t *p;
    const void *x;
    int64_t *o;
    eai_dtype_t dt;
} arun_t;

/* Units are (outer, chunk of 256 inner positions); the best values of a
 * chunk live on the stack so every pass over len reads a contiguous row. */
#define A_CHUNK 256
#define ARG_BODY(T)                                                                                \
    do {                                                                                           \
        const T *x = (const T *)r->x + o * p->len * p->inner + i0;                                 \
        T best[A_CHUNK];                                                                           \
        for (int64_t i = 0; i < n; i++) {                                                          \
            best[i] = x[i];                                                                        \
            idx[i] = 0;                                                                            \
        }                                                                                          \
        for (int64_t a = 1; a < p->len; a++) {                                                     \
            const T *row = x + a * p->inner;                                                       \
            for (int64_t i = 0; i < n; i++) {                                                      \
                T v = row[i];                                                                      \
                bool take = p->is_max ? (p->last ? v >= best[i] : v > best[i])                     \
                                      : (p->last ? v <= best[i] : v < best[i]);                    \
                best[i] = take ? v : best[i];                                                      \
                idx[i] = take ? a : idx[i];                                                        \
            }                                                                                      \
        }                                                                                          \
    } while (0)

static void arg_range(void *ctx, int64_t b, int64_t e)
{
    const arun_t *r = ctx;
    const aparams_t *p = r->p;
    int64_t n_chunks = (p->inner + A_CHUNK - 1) / A_CHUNK;
    for (int64_t w = b; w < e; w++) {
        int64_t o = w / n_chunks, i0 = (w % n_chunks) * A_CHUNK;
        int64_t n = p->inner - i0 < A_CHUNK ? p->inner - i0 : A_CHUNK;
        int64_t *idx = r->o + o * p->inner + i0;
        switch (r->dt) {
        case EAI_F32:
            ARG_BODY(float);
            break;
        case EAI_I64:
            ARG_BODY(int64_t);
            break;
        default:
            ARG_BODY(int32_t);
            break;
        }
    }
}

static eai_status_t arg_eval(eai__opctx_t *c)
{
    const aparams_t *p = c->params;
    arun_t r = {p, c->in[0].data, c->out[0].data, c->in[0].dtype};
    int64_t n_chunks = (p->inner + A_CHUNK - 1) / A_CHUNK;
    ew_parallel_items(c->pool, p->outer * n_chunks, p->len * A_CHUNK, arg_range, &r);
    return EAI_OK;
}

#define REDUCE(name)                                                                               \
    {                                                                                              \
        name, 0, 1, 2, 1, 1, reduce_infer, reduce_eval                                             \
    }

const eai__op_def_t eai__ref_ops_reduce[] = {
    REDUCE("ReduceSum"),
    REDUCE("ReduceMean"),
    REDUCE("ReduceMax"),
    REDUCE("ReduceMin"),
    REDUCE("ReduceProd"),
    REDUCE("ReduceL1"),
    REDUCE("ReduceL2"),
    REDUCE("ReduceSumSquare"),
    REDUCE("ReduceLogSum"),
    REDUCE("ReduceLogSumExp"),
    {"ArgMax", 0, 1, 1, 1, 1, arg_infer, arg_eval},
    {"ArgMin", 0, 1, 1, 1, 1, arg_infer, arg_eval},
    {0},
};
