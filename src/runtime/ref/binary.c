/* Op family 'binary' (ref backend): elementwise ops of two or more inputs with
 * numpy broadcasting (arithmetic, Pow, PRelu, comparisons, logic, Where, the
 * variadic Max/Min/Sum/Mean).
 *
 * The one idea: eval collapses the broadcast into a few dims whose innermost
 * one is contiguous (stride 1) or broadcast (stride 0) for every input, then
 * runs one of three plain loops per row: vector-vector, vector-scalar or
 * scalar-vector. Same-shape, scalar and per-channel ([N,C,H,W] + [C,1,1])
 * operands thereby all reach long contiguous rows; other shapes walk rows.
 */
#include <stdio.h>

#include "runtime/ref/elementwise_impl.h"

typedef void (*bkern_t)(void *o, const void *a, const void *b, int64_t n);

/* One (op, dtypes) implementation: rows where both inputs advance, only a
 * advances (b broadcast) and only b advances. */
typedef struct bkset {
    int op;
    eai_dtype_t ta, tb;
    bkern_t vv, vs, sv;
} bkset_t;

#define BK(name, TA, TB, TO, EXPR)                                                                 \
    static void name##_vv(void *o_, const void *a_, const void *b_, int64_t n)                     \
    {                                                                                              \
        TO *o = o_;                                                                                \
        const TA *a = a_;                                                                          \
        const TB *b = b_;                                                                          \
        for (int64_t i = 0; i < n; i++) {                                                          \
            TA x = a[i];                                                                           \
            TB y = b[i];                                                                           \
            o[i] = (TO)(EXPR);                                                                     \
        }                                                                                          \
    }                                                                                              \
    static void name##_vs(void *o_, const void *a_, const void *b_, int64_t n)                     \
    {                                                                                              \
        TO *o = o_;                                                                                \
        const TA *a = a_;                                                                          \
        const TB y = *(const TB *)b_;                                                              \
        for (int64_t i = 0; i < n; i++) {                                                          \
            TA x = a[i];                                                                           \
            o[i] = (TO)(EXPR);                                                                     \
        }                                                                                          \
    }                                                                                              \
    static void name##_sv(void *o_, const void *a_, const void *b_, int64_t n)                     \
    {                                                                                              \
        TO *o = o_;                                                                                \
        const TA x = *(const TA *)a_;                                                              \
        const TB *b = b_;                                                                          \
        for (int64_t i = 0; i < n; i++) {                                                          \
            TB y = b[i];                                                                           \
            o[i] = (TO)(EXPR);                                                                     \
        }                                                                                          \
    }

/* Integer division and remainder: ONNX leaves x/0 undefined, C makes it (and
 * INT_MIN / -1) a trap, so both give 0 / wrap here instead of killing the
 * process on bad input. Division truncates toward zero like C. */
#define IDIV(T, UT)                                                                                \
    static inline T idiv_##T(T x, T y)                                                             \
    {                                                                                              \
        if (y == 0) return 0;                                                                      \
        if (y == -1) return (T)(0u - (UT)x);                                                       \
        return x / y;                                                                              \
    }                                                                                              \
    static inline T irem_##T(T x, T y)                                                             \
    {                                                                                              \
        return (y == 0 || y == -1) ? 0 : x % y;                                                    \
    }                                                                                              \
    /* Mod with fmod=0 (opset 10): the result takes the divisor's sign */                          \
    static inline T imod_##T(T x, T y)                                                             \
    {                                                                                              \
        T r = irem_##T(x, y);                                                                      \
        return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r;                                       \
    }
IDIV(int64_t, uint64_t)
IDIV(int32_t, uint32_t)

static inline float fmod_py(float x, float y)
{
    float r = fmodf(x, y);
    return (r != 0.0f && ((r < 0.0f) != (y < 0.0f))) ? r + y : r;
}

/* double -> int64 without UB for NaN or out-of-range results (0 / saturated) */
static inline int64_t ipow_cast(double v)
{
    if (!(v == v)) return 0;
    if (v >= 9.2233720368547758e18) return INT64_MAX;
    if (v <= -9.2233720368547758e18) return INT64_MIN;
    return (int64_t)v;
}

/* Wrapping integer add/sub/mul: overflow is UB in C, modular in ONNX runtimes. */
#define WRAP(T, UT, OP) ((T)((UT)x OP(UT) y))

enum {
    B_ADD,
    B_SUB,
    B_MUL,
    B_DIV,
    B_POW,
    B_PRELU,
    B_MOD,
    B_FMOD,
    B_MAX,
    B_MIN,
    B_EQ,
    B_LT,
    B_GT,
    B_LE,
    B_GE,
    B_AND,
    B_OR,
    B_XOR,
};

BK(k_f32_add, float, float, float, x + y)
BK(k_f32_sub, float, float, float, x - y)
BK(k_f32_mul, float, float, float, x *y)
BK(k_f32_div, float, float, float, x / y)
BK(k_i64_add, int64_t, int64_t, int64_t, WRAP(int64_t, uint64_t, +))
BK(k_i64_sub, int64_t, int64_t, int64_t, WRAP(int64_t, uint64_t, -))
BK(k_i64_mul, int64_t, int64_t, int64_t, WRAP(int64_t, uint64_t, *))
BK(k_i64_div, int64_t, int64_t, int64_t, idiv_int64_t(x, y))
BK(k_i32_add, int32_t, int32_t, int32_t, WRAP(int32_t, uint32_t, +))
BK(k_i32_sub, int32_t, int32_t, int32_t, WRAP(int32_t, uint32_t, -))
BK(k_i32_mul, int32_t, int32_t, int32_t, WRAP(int32_t, uint32_t, *))
BK(k_i32_div, int32_t, int32_t, int32_t, idiv_int32_t(x, y))
/* uint8 wraps modulo 256 by C's conversion rules; x/0 gives 0 as above */
BK(k_u8_add, uint8_t, uint8_t, uint8_t, x + y)
BK(k_u8_sub, uint8_t, uint8_t, uint8_t, x - y)
BK(k_u8_mul, uint8_t, uint8_t, uint8_t, x *y)
BK(k_u8_div, uint8_t, uint8_t, uint8_t, y ? x / y : 0)

BK(k_f32_powf, float, float, float, powf(x, y))
BK(k_f32_powi64, float, int64_t, float, powf(x, (float)y))
BK(k_f32_powi32, float, int32_t, float, powf(x, (float)y))
/* Pow-12 integer bases: the result has the base's type; pow in double is
 * exact while it fits 2^53 */
BK(k_i64_powi64, int64_t, int64_t, int64_t, ipow_cast(pow((double)x, (double)y)))
BK(k_i64_powf32, int64_t, float, int64_t, ipow_cast(pow((double)x, (double)y)))
BK(k_i32_powi32, int32_t, int32_t, int32_t, ipow_cast(pow((double)x, (double)y)))
BK(k_i32_powf32, int32_t, float, int32_t, ipow_cast(pow((double)x, (double)y)))
/* x^2 is the common scalar exponent (decomposed LayerNorm, variance):
 * a multiply, exact like powf's correctly rounded result */
static void k_f32_powf_vs_fast(void *o_, const void *a_, const void *b_, int64_t n)
{
    float *o = o_;
    const float *a = a_;
    if (*(const float *)b_ != 2.0f) {
        k_f32_powf_vs(o_, a_, b_, n);
        return;
    }
    for (int64_t i = 0; i < n; i++)
        o[i] = a[i] * a[i];
}
BK(k_f32_prelu, float, float, float, x < 0.0f ? x * y : x)

BK(k_f32_mod, float, float, float, fmod_py(x, y))
BK(k_f32_fmod, float, float, float, fmodf(x, y))
BK(k_i64_mod, int64_t, int64_t, int64_t, imod_int64_t(x, y))
BK(k_i64_fmod, int64_t, int64_t, int64_t, irem_int64_t(x, y))
BK(k_i32_mod, int32_t, int32_t, int32_t, imod_int32_t(x, y))
BK(k_i32_fmod, int32_t, int32_t, int32_t, irem_int32_t(x, y))

BK(k_f32_max, float, float, float, x < y ? y : x)
BK(k_f32_min, float, float, float, y < x ? y : x)
BK(k_i64_max, int64_t, int64_t, int64_t, x < y ? y : x)
BK(k_i64_min, int64_t, int64_t, int64_t, y < x ? y : x)
BK(k_i32_max, int32_t, int32_t, int32_t, x < y ? y : x)
BK(k_i32_min, int32_t, int32_t, int32_t, y < x ? y : x)
BK(k_u8_max, uint8_t, uint8_t, uint8_t, x < y ? y : x)
BK(k_u8_min, uint8_t, uint8_t, uint8_t, y < x ? y : x)
BK(k_i8_max, int8_t, int8_t, int8_t, x < y ? y : x)
BK(k_i8_min, int8_t, int8_t, int8_t, y < x ? y : x)

#define CMP(T, tn)                                                                                 \
    BK(k_##tn##_eq, T, T, uint8_t, x == y)                                                         \
    BK(k_##tn##_lt, T, T, uint8_t, x < y)                                                          \
    BK(k_##tn##_gt, T, T, uint8_t, x > y)                                                          \
    BK(k_##tn##_le, T, T, uint8_t, x <= y)                                                         \
    BK(k_##tn##_ge, T, T, uint8_t, x >= y)
CMP(float, f32)
CMP(int64_t, i64)
CMP(int32_t, i32)
/* bools are bytes 0/1; compare truth values so a stray 2 still counts as true */
BK(k_b_eq, uint8_t, uint8_t, uint8_t, (x != 0) == (y != 0))
BK(k_b_and, uint8_t, uint8_t, uint8_t, (x != 0) & (y != 0))
BK(k_b_or, uint8_t, uint8_t, uint8_t, (x != 0) | (y != 0))
BK(k_b_xor, uint8_t, uint8_t, uint8_t, (x != 0) ^ (y != 0))

#define KS(op, ta, tb, name)                                                                       \
    {                                                                                              \
        op, ta, tb, name##_vv, name##_vs, name##_sv                                                \
    }

static const bkset_t kernels[] = {
    KS(B_ADD, EAI_F32, EAI_F32, k_f32_add),
    KS(B_ADD, EAI_I64, EAI_I64, k_i64_add),
    KS(B_ADD, EAI_I32, EAI_I32, k_i32_add),
    KS(B_SUB, EAI_F32, EAI_F32, k_f32_sub),
    KS(B_SUB, EAI_I64, EAI_I64, k_i64_sub),
    KS(B_SUB, EAI_I32, EAI_I32, k_i32_sub),
    KS(B_MUL, EAI_F32, EAI_F32, k_f32_mul),
    KS(B_MUL, EAI_I64, EAI_I64, k_i64_mul),
    KS(B_MUL, EAI_I32, EAI_I32, k_i32_mul),
    KS(B_DIV, EAI_F32, EAI_F32, k_f32_div),
    KS(B_DIV, EAI_I64, EAI_I64, k_i64_div),
    KS(B_DIV, EAI_I32, EAI_I32, k_i32_div),
    KS(B_ADD, EAI_U8, EAI_U8, k_u8_add),
    KS(B_SUB, EAI_U8, EAI_U8, k_u8_sub),
    KS(B_MUL, EAI_U8, EAI_U8, k_u8_mul),
    KS(B_DIV, EAI_U8, EAI_U8, k_u8_div),
    {B_POW, EAI_F32, EAI_F32, k_f32_powf_vv, k_f32_powf_vs_fast, k_f32_powf_sv},
    KS(B_POW, EAI_F32, EAI_I64, k_f32_powi64),
    KS(B_POW, EAI_F32, EAI_I32, k_f32_powi32),
    KS(B_POW, EAI_I64, EAI_I64, k_i64_powi64),
    KS(B_POW, EAI_I64, EAI_F32, k_i64_powf32),
    KS(B_POW, EAI_I32, EAI_I32, k_i32_powi32),
    KS(B_POW, EAI_I32, EAI_F32, k_i32_powf32),
    KS(B_PRELU, EAI_F32, EAI_F32, k_f32_prelu),
    KS(B_MOD, EAI_F32, EAI_F32, k_f32_mod),
    KS(B_MOD, EAI_I64, EAI_I64, k_i64_mod),
    KS(B_MOD, EAI_I32, EAI_I32, k_i32_mod),
    KS(B_FMOD, EAI_F32, EAI_F32, k_f32_fmod),
    KS(B_FMOD, EAI_I64, EAI_I64, k_i64_fmod),
    KS(B_FMOD, EAI_I32, EAI_I32, k_i32_fmod),
    KS(B_MAX, EAI_F32, EAI_F32, k_f32_max),
    KS(B_MAX, EAI_I64, EAI_I64, k_i64_max),
    KS(B_MAX, EAI_I32, EAI_I32, k_i32_max),
    KS(B_MIN, EAI_F32, EAI_F32, k_f32_min),
    KS(B_MIN, EAI_I64, EAI_I64, k_i64_min),
    KS(B_MIN, EAI_I32, EAI_I32, k_i32_min),
    KS(B_MAX, EAI_U8, EAI_U8, k_u8_max),
    KS(B_MIN, EAI_U8, EAI_U8, k_u8_min),
    KS(B_MAX, EAI_I8, EAI_I8, k_i8_max),
    KS(B_MIN, EAI_I8, EAI_I8, k_i8_min),
    KS(B_EQ, EAI_F32, EAI_F32, k_f32_eq),
    KS(B_EQ, EAI_I64, EAI_I64, k_i64_eq),
    KS(B_EQ, EAI_I32, EAI_I32, k_i32_eq),
    KS(B_EQ, EAI_BOOL, EAI_BOOL, k_b_eq),
    KS(B_LT, EAI_F32, EAI_F32, k_f32_lt),
    KS(B_LT, EAI_I64, EAI_I64, k_i64_lt),
    KS(B_LT, EAI_I32, EAI_I32, k_i32_lt),
    KS(B_GT, EAI_F32, EAI_F32, k_f32_gt),
    KS(B_GT, EAI_I64, EAI_I64, k_i64_gt),
    KS(B_GT, EAI_I32, EAI_I32, k_i32_gt),
    KS(B_LE, EAI_F32, EAI_F32, k_f32_le),
    KS(B_LE, EAI_I64, EAI_I64, k_i64_le),
    KS(B_LE, EAI_I32, EAI_I32, k_i32_le),
    KS(B_GE, EAI_F32, EAI_F32, k_f32_ge),
    KS(B_GE, EAI_I64, EAI_I64, k_i64_ge),
    KS(B_GE, EAI_I32, EAI_I32, k_i32_ge),
    KS(B_AND, EAI_BOOL, EAI_BOOL, k_b_and),
    KS(B_OR, EAI_BOOL, EAI_BOOL, k_b_or),
    KS(B_XOR, EAI_BOOL, EAI_BOOL, k_b_xor),
};
#define N_KERNELS ((int)(sizeof kernels / sizeof kernels[0]))

/* ---- broadcast plan and row walker ---- */

/* The output shape collapsed: dims of size 1 dropped, neighbours merged
 * where every input is contiguous across them (or broadcast across both).
 * s[k][j] is input k's element stride along dim j; the last dim's is 0 or 1. */
typedef struct bplan {
    int rank;
    int64_t d[EAI_MAX_RANK];
    int64_t s[3][EAI_MAX_RANK];
} bplan_t;

static void bplan_init(bplan_t *p, const eai__shape_t *out, int n_in, const eai__shape_t *const *in)
{
    int64_t st[3][EAI_MAX_RANK];
    for (int k = 0; k < n_in; k++)
        eai__bcast_strides(in[k], out, st[k]);
    /* build from the innermost dim outwards, reversed */
    int64_t d[EAI_MAX_RANK], s[3][EAI_MAX_RANK];
    int r = 0;
    for (int i = out->rank - 1; i >= 0; i--) {
        if (out->d[i] == 1) continue;
        bool merge = r > 0;
        for (int k = 0; k < n_in && merge; k++)
            merge = st[k][i] == s[k][r - 1] * d[r - 1];
        if (merge) {
            d[r - 1] *= out->d[i];
            continue;
        }
        d[r] = out->d[i];
        for (int k = 0; k < n_in; k++)
            s[k][r] = st[k][i];
        r++;
    }
    if (r == 0) { /* a single element */
        d[0] = 1;
        for (int k = 0; k < n_in; k++)
            s[k][0] = 0;
        r = 1;
    }
    p->rank = r;
    for (int j = 0; j < r; j++) {
        p->d[j] = d[r - 1 - j];
        for (int k = 0; k < n_in; k++)
            p->s[k][j] = s[k][r - 1 - j];
    }
}

typedef struct brun brun_t;
/* One row of n output elements; src[k] points at input k's first element and
 * inner[k] is 1 if it advances along the row, 0 if it is broadcast. */
typedef void (*brow_t)(const brun_t *r, char *o, const char *const *src, const int *inner,
                       int64_t n);

struct brun {
    bplan_t plan;
    int n_in;
    char *o;
    const char *in[3];
    int64_t es_o, es[3]; /* element sizes in bytes */
    brow_t row;
    const bkset_t *ks; /* binary ops */
};

/* Walks output elements [begin, end) row by row (a parallel_for range). */
static void bwalk(void *ctx, int64_t begin, int64_t end)
{
    const brun_t *r = ctx;
    const bplan_t *p = &r->plan;
    int R = p->rank;
    int64_t L = p->d[R - 1];
    int64_t row = begin / L, off = begin % L;
    int64_t co[EAI_MAX_RANK] = {0}, base[3] = {0, 0, 0};
    for (int j = R - 2; j >= 0; j--) {
        co[j] = row % p->d[j];
        row /= p->d[j];
        for (int k = 0; k < r->n_in; k++)
            base[k] += co[j] * p->s[k][j];
    }
    int inner[3] = {0, 0, 0};
    for (int k = 0; k < r->n_in; k++)
        inner[k] = p->s[k][R - 1] != 0;
    for (int64_t pos = begin; pos < end;) {
        int64_t n = L - off < end - pos ? L - off : end - pos;
        const char *src[3] = {0, 0, 0};
        for (int k = 0; k < r->n_in; k++)
            src[k] = r->in[k] + (base[k] + off * inner[k]) * r->es[k];
        r->row(r, r->o + pos * r->es_o, src, inner, n);
        pos += n;
        off = 0;
        for (int j = R - 2; j >= 0; j--) { /* odometer over the outer dims */
            for (int k = 0; k < r->n_in; k++)
                base[k] += p->s[k][j];
            if (++co[j] < p->d[j]) break;
            for (int k = 0; k < r->n_in; k++)
                base[k] -= p->s[k][j] * p->d[j];
            co[j] = 0;
        }
    }
}

static void fill_row(char *o, int64_t es, int64_t n)
{
    for (int64_t i = 1; i < n; i++)
        memcpy(o + i * es, o, (size_t)es);
}

static void binary_row(const brun_t *r, char *o, const char *const *src, const int *inner,
                       int64_t n)
{
    const bkset_t *ks = r->ks;
    if (inner[0] && inner[1])
        ks->vv(o, src[0], src[1], n);
    else if (inner[0])
        ks->vs(o, src[0], src[1], n);
    else if (inner[1])
        ks->sv(o, src[0], src[1], n);
    else { /* both broadcast along this row (variadic ops): one value */
        ks->vv(o, src[0], src[1], 1);
        fill_row(o, r->es_o, n);
    }
}

/* out = a op b over out's shape (a and/or b broadcast into it). */
static void run_binary(eai_threadpool_t *pool, const bkset_t *ks, eai__tview_t *out,
                       const eai__tview_t *a, const eai__tview_t *b)
{
    brun_t r = {.n_in = 2, .o = out->data, .row = binary_row, .ks = ks};
    const eai__shape_t *shapes[2] = {&a->shape, &b->shape};
    bplan_init(&r.plan, &out->shape, 2, shapes);
    r.in[0] = a->data;
    r.in[1] = b->data;
    r.es_o = (int64_t)eai_dtype_size(out->dtype);
    r.es[0] = (int64_t)eai_dtype_size(a->dtype);
    r.es[1] = (int64_t)eai_dtype_size(b->dtype);
    ew_parallel(pool, eai__shape_numel(&out->shape), bwalk, &r);
}

/* ---- op descriptions ---- */

typedef struct bop {
    const char *name;
    int op;
    bool bool_out; /* comparisons and logic write EAI_BOOL */
    bool variadic; /* Max/Min/Sum/Mean: 1..n inputs */
    bool mean;     /* Mean: Sum then divide */
} bop_t;

static const bop_t bops[] = {
    {"Add", B_ADD, 0, 0, 0},    {"Sub", B_SUB, 0, 0, 0},        {"Mul", B_MUL, 0, 0, 0},
    {"Div", B_DIV, 0, 0, 0},    {"Pow", B_POW, 0, 0, 0},        {"PRelu", B_PRELU, 0, 0, 0},
    {"Mod", B_MOD, 0, 0, 0},    {"Equal", B_EQ, 1, 0, 0},       {"Less", B_LT, 1, 0, 0},
    {"Greater", B_GT, 1, 0, 0}, {"LessOrEqual", B_LE, 1, 0, 0}, {"GreaterOrEqual", B_GE, 1, 0, 0},
    {"And", B_AND, 1, 0, 0},    {"Or", B_OR, 1, 0, 0},          {"Xor", B_XOR, 1, 0, 0},
    {"Max", B_MAX, 0, 1, 0},    {"Min", B_MIN, 0, 1, 0},        {"Sum", B_ADD, 0, 1, 0},
    {"Mean", B_ADD, 0, 1, 1},
};

typedef struct bparams {
    int ki; /* kernels[] index */
    bool variadic, mean;
} bparams_t;
_Static_assert(sizeof(bparams_t) <= EAI__PARAMS_BYTES, "bparams_t too big");

static const bop_t *bop_of(const char *name)
{
    for (size_t i = 0; i < sizeof bops / sizeof bops[0]; i++)
        if (strcmp(bops[i].name, name) == 0) return &bops[i];
    return NULL;
}

static eai_status_t find_kernel(eai__opctx_t *c, int op, eai_dtype_t ta, eai_dtype_t tb, int *ki)
{
    for (int i = 0; i < N_KERNELS; i++)
        if (kernels[i].op == op && kernels[i].ta == ta && kernels[i].tb == tb) {
            *ki = i;
            return EAI_OK;
        }
    char list[160] = "";
    size_t len = 0;
    for (int i = 0; i < N_KERNELS; i++) {
        if (kernels[i].op != op || len >= sizeof list) continue;
        if (kernels[i].ta == kernels[i].tb)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", len ? ", " : "",
                                    eai_dtype_name(kernels[i].ta));
        else
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s^%s", len ? ", " : "",
                                    eai_dtype_name(kernels[i].ta), eai_dtype_name(kernels[i].tb));
    }
    if (ta == tb)
        return eai__op_fail(c, EAI_E_UNSUPPORTED, "inputs have dtype %s, supported: %s",
                            eai_dtype_name(ta), list);
    return eai__op_fail(c, EAI_E_UNSUPPORTED, "input dtypes %s and %s, supported: %s",
                        eai_dtype_name(ta), eai_dtype_name(tb), list);
}

static eai_status_t binary_infer(eai__opctx_t *c)
{
    bparams_t *p = c->params;
    const bop_t *b = bop_of(c->node->op);
    if (EAI_NEVER(!b)) return eai__op_fail(c, EAI_E_UNSUPPORTED, "not a binary op");
    /* Add/Sub/Mul/Div before opset 7 broadcast along 'axis'; numpy rules since */
    if (eai__node_attr(c->node, "axis") && b->op != B_MOD)
        return eai__op_fail(c, EAI_E_UNSUPPORTED,
                            "legacy broadcasting (the 'axis' attribute of opset < 7) is not "
                            "supported; re-export with opset >= 7");
    for (int i = 0; i < c->n_in; i++)
        if (!eai__has_in(c, i)) return eai__op_fail(c, EAI_E_FORMAT, "input %d is absent", i);
    eai_dtype_t ta = c->in[0].dtype, tb = c->n_in > 1 ? c->in[1].dtype : ta;
    if (b->op != B_POW)
        for (int i = 1; i < c->n_in; i++)
            if (c->in[i].dtype != ta)
                return eai__op_fail(c, EAI_E_FORMAT, "input %d has dtype %s, input 0 has %s", i,
                                    eai_dtype_name(c->in[i].dtype), eai_dtype_name(ta));
    int op = b->op;
    if (op == B_MOD) {
        int64_t fm;
        EAI_TRY(eai__op_int(c, "fmod", 0, &fm));
        op = fm ? B_FMOD : B_MOD;
    }
    EAI_TRY(find_kernel(c, op, ta, tb, &p->ki));
    p->variadic = b->variadic;
    p->mean = b->mean;
    if (b->mean && ta != EAI_F32)
        return eai__op_fail(c, EAI_E_UNSUPPORTED, "Mean supports float32 only, got %s",
                            eai_dtype_name(ta));

    eai__shape_t s = c->in[0].shape;
    for (int i = 1; i < c->n_in; i++)
        EAI_TRY(eai__op_broadcast(c, &s, &c->in[i].shape, &s));
    if (op == B_PRELU) {
        /* PRelu (opset 7+): slope broadcasts to X, never X to slope */
        const eai__shape_t *x = &c->in[0].shape;
        bool same = s.rank == x->rank;
        for (int i = 0; same && i < s.rank; i++)
            same = s.d[i] == x->d[i];
        if (!same)
            return eai__op_fail(c, EAI_E_INVALID,
                                "slope (rank %d, %lld elements) does not broadcast to X (rank %d)",
                                c->in[1].shape.rank, (long long)eai__shape_numel(&c->in[1].shape),
                                x->rank);
    }
    c->out[0].dtype = b->bool_out ? EAI_BOOL : ta;
    c->out[0].shape = s;
    return EAI_OK;
}

typedef struct scale_run {
    float *o;
    float k;
} scale_run_t;

static void scale_range(void *ctx, int64_t b, int64_t e)
{
    const scale_run_t *r = ctx;
    float *o = r->o;
    const float k = r->k;
    for (int64_t i = b; i < e; i++)
        o[i] *= k;
}

static eai_status_t binary_eval(eai__opctx_t *c)
{
    const bparams_t *p = c->params;
    const bkset_t *ks = &kernels[p->ki];
    eai__tview_t *out = &c->out[0];
    if (!p->variadic) {
        run_binary(c->pool, ks, out, &c->in[0], &c->in[1]);
        return EAI_OK;
    }
    int64_t n = eai__shape_numel(&out->shape);
    if (c->n_in == 1) { /* shapes equal: a copy */
        memcpy(out->data, c->in[0].data, (size_t)n * eai_dtype_size(out->dtype));
    } else {
        /* fold left in place: out = in0 op in1, then out = out op in_k */
        run_binary(c->pool, ks, out, &c->in[0], &c->in[1]);
        for (int i = 2; i < c->n_in; i++)
            run_binary(c->pool, ks, out, out, &c->in[i]);
    }
    if (p->mean) {
        scale_run_t r = {out->data, 1.0f / (float)c->n_in};
        ew_parallel(c->pool, n, scale_range, &r);
    }
    return EAI_OK;
}

/* ---- Where (opset 9/16): out = cond ? x : y, three-way broadcast ---- */

#define WHERE_ROW(T)                                                                               \
    do {                                                                                           \
        T *o = (T *)o_;                                                                            \
        const uint8_t *cd = (const uint8_t *)src[0];                                               \
        const T *x = (const T *)src[1], *y = (const T *)src[2];                                    \
        if (inner[0] && inner[1] && inner[2]) {                                                    \
            for (int64_t i = 0; i < n; i++)                                                        \
                o[i] = cd[i] ? x[i] : y[i];                                                        \
        } else {                                                                                   \
            int64_t sc = inner[0], sx = inner[1], sy = inner[2];                                   \
            for (int64_t i = 0; i < n; i++)                                                        \
                o[i] = cd[i * sc] ? x[i * sx] : y[i * sy];                                         \
        }                                                                                          \
    } while (0)

static void where_row(const brun_t *r, char *o_, const char *const *src, const int *inner,
                      int64_t n)
{
    switch (r->es_o) {
    case 1:
        WHERE_ROW(uint8_t);
        break;
    case 2:
        WHERE_ROW(uint16_t);
        break;
    case 4:
        WHERE_ROW(uint32_t);
        break;
    default:
        WHERE_ROW(uint64_t);
        break;
    }
}

static eai_status_t where_infer(eai__opctx_t *c)
{
    static const eai_dtype_t cond_ok[] = {EAI_BOOL, 0};
    EAI_TRY(eai__op_dtype(c, 0, cond_ok));
    eai_dtype_t dt = c->in[1].dtype;
    if (c->in[2].dtype != dt)
        return eai__op_fail(c, EAI_E_FORMAT, "X has dtype %s but Y has %s", eai_dtype_name(dt),
                            eai_dtype_name(c->in[2].dtype));
    size_t es = eai_dtype_size(dt);
    if (es != 1 && es != 2 && es != 4 && es != 8)
        return eai__op_fail(c, EAI_E_UNSUPPORTED, "X and Y have dtype %s", eai_dtype_name(dt));
    eai__shape_t s;
    EAI_TRY(eai__op_broadcast(c, &c->in[0].shape, &c->in[1].shape, &s));
    EAI_TRY(eai__op_broadcast(c, &s, &c->in[2].shape, &s));
    c->out[0].dtype = dt;
    c->out[0].shape = s;
    return EAI_OK;
}

static eai_status_t where_eval(eai__opctx_t *c)
{
    brun_t r = {.n_in = 3, .o = c->out[0].data, .row = where_row};
    const eai__shape_t *shapes[3] = {&c->in[0].shape, &c->in[1].shape, &c->in[2].shape};
    bplan_init(&r.plan, &c->out[0].shape, 3, shapes);
    for (int k = 0; k < 3; k++) {
        r.in[k] = c->in[k].data;
        r.es[k] = (int64_t)eai_dtype_size(c->in[k].dtype);
    }
    r.es_o = r.es[1];
    ew_parallel(c->pool, eai__shape_numel(&c->out[0].shape), bwalk, &r);
    return EAI_OK;
}

#define BINARY(name)                                                                               \
    {                                                                                              \
        name, 0, 2, 2, 1, 1, binary_infer, binary_eval                                             \
    }
#define VARIADIC(name)                                                                             \
    {                                                                                              \
        name, 0, 1, -1, 1, 1, binary_infer, binary_eval                                            \
    }

const eai__op_def_t eai__ref_ops_binary[] = {
    BINARY("Add"),
    BINARY("Sub"),
    BINARY("Mul"),
    BINARY("Div"),
    BINARY("Pow"),
    BINARY("PRelu"),
    BINARY("Mod"),
    BINARY("Equal"),
    BINARY("Less"),
    BINARY("Greater"),
    BINARY("LessOrEqual"),
    BINARY("GreaterOrEqual"),
    BINARY("And"),
    BINARY("Or"),
    BINARY("Xor"),
    VARIADIC("Max"),
    VARIADIC("Min"),
    VARIADIC("Sum"),
    VARIADIC("Mean"),
    {"Where", 0, 3, 3, 1, 1, where_infer, where_eval},
    {0},
};
