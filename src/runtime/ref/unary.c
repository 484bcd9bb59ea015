/* Op family 'unary' (ref backend): elementwise ops of one input whose output
 * has the input's shape and dtype (activations, math functions, Clip, Not).
 * One kernel per (op, dtype) found by table lookup at infer; eval runs it
 * over contiguous blocks, split across the pool for big tensors.
 */
#include <stdio.h>

#include "runtime/ref/elementwise_impl.h"

typedef struct uargs {
    float alpha, beta; /* op attributes; Clip float bounds */
    int64_t ilo, ihi;  /* Clip integer bounds */
} uargs_t;

typedef void (*ukern_t)(void *o, const void *a, int64_t n, const uargs_t *u);

/* Kernel over n elements; EXPR reads x (the element), alpha, beta. */
#define UK(name, T, TO, EXPR)                                                                      \
    static void name(void *o_, const void *a_, int64_t n, const uargs_t *u)                        \
    {                                                                                              \
        TO *o = o_;                                                                                \
        const T *a = a_;                                                                           \
        const float alpha = u->alpha, beta = u->beta;                                              \
        (void)alpha;                                                                               \
        (void)beta;                                                                                \
        for (int64_t i = 0; i < n; i++) {                                                          \
            T x = a[i];                                                                            \
            o[i] = (TO)(EXPR);                                                                     \
        }                                                                                          \
    }

static inline float clampf(float v, float lo, float hi)
{
    v = v < lo ? lo : v;
    return v > hi ? hi : v;
}

/* float32 */
UK(k_f32_relu, float, float, x < 0.0f ? 0.0f : x)
UK(k_f32_leakyrelu, float, float, x < 0.0f ? x * alpha : x)
UK(k_f32_sigmoid, float, float, 1.0f / (1.0f + ew_expf(-x)))
UK(k_f32_hardsigmoid, float, float, clampf(alpha *x + beta, 0.0f, 1.0f))
UK(k_f32_hardswish, float, float, x *clampf(x *(1.0f / 6.0f) + 0.5f, 0.0f, 1.0f))
UK(k_f32_tanh, float, float, ew_tanhf(x))
UK(k_f32_erf, float, float, erff(x))
UK(k_f32_sqrt, float, float, sqrtf(x))
UK(k_f32_exp, float, float, ew_expf(x))
UK(k_f32_log, float, float, logf(x))
UK(k_f32_neg, float, float, -x)
UK(k_f32_abs, float, float, fabsf(x))
UK(k_f32_sign, float, float, x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : x))
UK(k_f32_reciprocal, float, float, 1.0f / x)
UK(k_f32_floor, float, float, floorf(x))
UK(k_f32_ceil, float, float, ceilf(x))
/* Round (opset 11): half to even, which rintf gives in the default mode */
UK(k_f32_round, float, float, rintf(x))
/* expm1f keeps precision near 0, where exp(x) - 1 cancels */
UK(k_f32_elu, float, float, x < 0.0f ? alpha * expm1f(x) : x)
UK(k_f32_selu, float, float, x <= 0.0f ? beta * alpha * expm1f(x) : beta * x)
UK(k_f32_celu, float, float, x < 0.0f ? alpha * expm1f(x / alpha) : x)
/* log(1 + e^x) without overflow for large x */
UK(k_f32_softplus, float, float, x > 0.0f ? x + log1pf(expf(-x)) : log1pf(expf(x)))
UK(k_f32_softsign, float, float, x / (1.0f + fabsf(x)))
UK(k_f32_thresholdedrelu, float, float, x > alpha ? x : 0.0f)
UK(k_f32_sin, float, float, sinf(x))
UK(k_f32_cos, float, float, cosf(x))
UK(k_f32_tan, float, float, tanf(x))
UK(k_f32_asin, float, float, asinf(x))
UK(k_f32_acos, float, float, acosf(x))
UK(k_f32_atan, float, float, atanf(x))
UK(k_f32_sinh, float, float, sinhf(x))
UK(k_f32_cosh, float, float, coshf(x))
UK(k_f32_asinh, float, float, asinhf(x))
UK(k_f32_acosh, float, float, acoshf(x))
UK(k_f32_atanh, float, float, atanhf(x))
UK(k_f32_clip, float, float, clampf(x, alpha, beta))

/* integers: negation through unsigned so INT_MIN wraps instead of being UB */
UK(k_i64_relu, int64_t, int64_t, x < 0 ? 0 : x)
UK(k_i32_relu, int32_t, int32_t, x < 0 ? 0 : x)
UK(k_i64_neg, int64_t, int64_t, (int64_t)(0u - (uint64_t)x))
UK(k_i32_neg, int32_t, int32_t, (int32_t)(0u - (uint32_t)x))
UK(k_i64_abs, int64_t, int64_t, x < 0 ? (int64_t)(0u - (uint64_t)x) : x)
UK(k_i32_abs, int32_t, int32_t, x < 0 ? (int32_t)(0u - (uint32_t)x) : x)
UK(k_i64_sign, int64_t, int64_t, (x > 0) - (x < 0))
UK(k_i32_sign, int32_t, int32_t, (x > 0) - (x < 0))
UK(k_b_not, uint8_t, uint8_t, x == 0)

#define UK_CLIP(name, T)                                                                           \
    static void name(void *o_, const void *a_, int64_t n, const uargs_t *u)                        \
    {                                                                                              \
        T *o = o_;                                                                                 \
        const T *a = a_;                                                                           \
        const T lo = (T)u->ilo, hi = (T)u->ihi;                                                    \
        for (int64_t i = 0; i < n; i++) {                                                          \
            T v = a[i] < lo ? lo : a[i];                                                           \
            o[i] = v > hi ? hi : v;                                                                \
        }                                                                                          \
    }
UK_CLIP(k_i64_clip, int64_t)
UK_CLIP(k_i32_clip, int32_t)
UK_CLIP(k_i8_clip, int8_t)
UK_CLIP(k_u8_clip, uint8_t)

/* Attribute defaults per op (ONNX operator spec, opset 6-17). */
typedef struct uop {
    const char *name;
    const char *a_name, *b_name; /* attributes read into alpha, beta (NULL: none) */
    float a_def, b_def;
} uop_t;

enum {
    U_CLIP = 0, /* first: it is the one with inputs beyond X */
    U_RELU,
    U_LEAKYRELU,
    U_SIGMOID,
    U_HARDSIGMOID,
    U_HARDSWISH,
    U_TANH,
    U_ERF,
    U_SQRT,
    U_EXP,
    U_LOG,
    U_NEG,
    U_ABS,
    U_SIGN,
    U_RECIPROCAL,
    U_FLOOR,
    U_CEIL,
    U_ROUND,
    U_ELU,
    U_SELU,
    U_CELU,
    U_SOFTPLUS,
    U_SOFTSIGN,
    U_THRESHOLDEDRELU,
    U_SIN,
    U_COS,
    U_TAN,
    U_ASIN,
    U_ACOS,
    U_ATAN,
    U_SINH,
    U_COSH,
    U_ASINH,
    U_ACOSH,
    U_ATANH,
    U_NOT,
    U_COUNT
};

static const uop_t uops[U_COUNT] = {
    [U_CLIP] = {"Clip", "min", "max", -INFINITY, INFINITY},
    [U_RELU] = {"Relu", 0, 0, 0, 0},
    [U_LEAKYRELU] = {"LeakyRelu", "alpha", 0, 0.01f, 0},
    [U_SIGMOID] = {"Sigmoid", 0, 0, 0, 0},
    [U_HARDSIGMOID] = {"HardSigmoid", "alpha", "beta", 0.2f, 0.5f},
    [U_HARDSWISH] = {"HardSwish", 0, 0, 0, 0},
    [U_TANH] = {"Tanh", 0, 0, 0, 0},
    [U_ERF] = {"Erf", 0, 0, 0, 0},
    [U_SQRT] = {"Sqrt", 0, 0, 0, 0},
    [U_EXP] = {"Exp", 0, 0, 0, 0},
    [U_LOG] = {"Log", 0, 0, 0, 0},
    [U_NEG] = {"Neg", 0, 0, 0, 0},
    [U_ABS] = {"Abs", 0, 0, 0, 0},
    [U_SIGN] = {"Sign", 0, 0, 0, 0},
    [U_RECIPROCAL] = {"Reciprocal", 0, 0, 0, 0},
    [U_FLOOR] = {"Floor", 0, 0, 0, 0},
    [U_CEIL] = {"Ceil", 0, 0, 0, 0},
    [U_ROUND] = {"Round", 0, 0, 0, 0},
    [U_ELU] = {"Elu", "alpha", 0, 1.0f, 0},
    [U_SELU] = {"Selu", "alpha", "gamma", 1.67326319217681884765625f, 1.05070102214813232421875f},
    [U_CELU] = {"Celu", "alpha", 0, 1.0f, 0},
    [U_SOFTPLUS] = {"Softplus", 0, 0, 0, 0},
    [U_SOFTSIGN] = {"Softsign", 0, 0, 0, 0},
    [U_THRESHOLDEDRELU] = {"ThresholdedRelu", "alpha", 0, 1.0f, 0},
    [U_SIN] = {"Sin", 0, 0, 0, 0},
    [U_COS] = {"Cos", 0, 0, 0, 0},
    [U_TAN] = {"Tan", 0, 0, 0, 0},
    [U_ASIN] = {"Asin", 0, 0, 0, 0},
    [U_ACOS] = {"Acos", 0, 0, 0, 0},
    [U_ATAN] = {"Atan", 0, 0, 0, 0},
    [U_SINH] = {"Sinh", 0, 0, 0, 0},
    [U_COSH] = {"Cosh", 0, 0, 0, 0},
    [U_ASINH] = {"Asinh", 0, 0, 0, 0},
    [U_ACOSH] = {"Acosh", 0, 0, 0, 0},
    [U_ATANH] = {"Atanh", 0, 0, 0, 0},
    [U_NOT] = {"Not", 0, 0, 0, 0},
};

typedef struct ukentry {
    int op;
    eai_dtype_t dt;
    ukern_t k;
} ukentry_t;

static const ukentry_t kernels[] = {
    {U_CLIP, EAI_F32, k_f32_clip},
    {U_CLIP, EAI_I64, k_i64_clip},
    {U_CLIP, EAI_I32, k_i32_clip},
    {U_CLIP, EAI_I8, k_i8_clip},
    {U_CLIP, EAI_U8, k_u8_clip},
    {U_RELU, EAI_F32, k_f32_relu},
    {U_RELU, EAI_I64, k_i64_relu},
    {U_RELU, EAI_I32, k_i32_relu},
    {U_LEAKYRELU, EAI_F32, k_f32_leakyrelu},
    {U_SIGMOID, EAI_F32, k_f32_sigmoid},
    {U_HARDSIGMOID, EAI_F32, k_f32_hardsigmoid},
    {U_HARDSWISH, EAI_F32, k_f32_hardswish},
    {U_TANH, EAI_F32, k_f32_tanh},
    {U_ERF, EAI_F32, k_f32_erf},
    {U_SQRT, EAI_F32, k_f32_sqrt},
    {U_EXP, EAI_F32, k_f32_exp},
    {U_LOG, EAI_F32, k_f32_log},
    {U_NEG, EAI_F32, k_f32_neg},
    {U_NEG, EAI_I64, k_i64_neg},
    {U_NEG, EAI_I32, k_i32_neg},
    {U_ABS, EAI_F32, k_f32_abs},
    {U_ABS, EAI_I64, k_i64_abs},
    {U_ABS, EAI_I32, k_i32_abs},
    {U_SIGN, EAI_F32, k_f32_sign},
    {U_SIGN, EAI_I64, k_i64_sign},
    {U_SIGN, EAI_I32, k_i32_sign},
    {U_RECIPROCAL, EAI_F32, k_f32_reciprocal},
    {U_FLOOR, EAI_F32, k_f32_floor},
    {U_CEIL, EAI_F32, k_f32_ceil},
    {U_ROUND, EAI_F32, k_f32_round},
    {U_ELU, EAI_F32, k_f32_elu},
    {U_SELU, EAI_F32, k_f32_selu},
    {U_CELU, EAI_F32, k_f32_celu},
    {U_SOFTPLUS, EAI_F32, k_f32_softplus},
    {U_SOFTSIGN, EAI_F32, k_f32_softsign},
    {U_THRESHOLDEDRELU, EAI_F32, k_f32_thresholdedrelu},
    {U_SIN, EAI_F32, k_f32_sin},
    {U_COS, EAI_F32, k_f32_cos},
    {U_TAN, EAI_F32, k_f32_tan},
    {U_ASIN, EAI_F32, k_f32_asin},
    {U_ACOS, EAI_F32, k_f32_acos},
    {U_ATAN, EAI_F32, k_f32_atan},
    {U_SINH, EAI_F32, k_f32_sinh},
    {U_COSH, EAI_F32, k_f32_cosh},
    {U_ASINH, EAI_F32, k_f32_asinh},
    {U_ACOSH, EAI_F32, k_f32_acosh},
    {U_ATANH, EAI_F32, k_f32_atanh},
    {U_NOT, EAI_BOOL, k_b_not},
};
#define N_KERNELS ((int)(sizeof kernels / sizeof kernels[0]))

typedef struct uparams {
    int ki;       /* index into kernels[] */
    bool clip_in; /* Clip >= 11: bounds come from inputs 1 and 2 at eval */
    uargs_t args;
} uparams_t;
_Static_assert(sizeof(uparams_t) <= EAI__PARAMS_BYTES, "uparams_t too big");

static int uop_of(const char *name)
{
    for (int i = 0; i < U_COUNT; i++)
        if (strcmp(uops[i].name, name) == 0) return i;
    return -1;
}

/* Clip >= 11: min/max inputs are optional scalars of X's dtype. */
static eai_status_t clip_bound_check(eai__opctx_t *c, int i)
{
    if (!eai__has_in(c, i)) return EAI_OK;
    if (c->in[i].dtype != c->in[0].dtype)
        return eai__op_fail(c, EAI_E_FORMAT, "%s has dtype %s, expected X's %s",
                            i == 1 ? "min" : "max", eai_dtype_name(c->in[i].dtype),
                            eai_dtype_name(c->in[0].dtype));
    if (eai__shape_numel(&c->in[i].shape) != 1)
        return eai__op_fail(c, EAI_E_FORMAT, "%s must be a scalar, it has %lld elements",
                            i == 1 ? "min" : "max", (long long)eai__shape_numel(&c->in[i].shape));
    return EAI_OK;
}

static eai_status_t unary_infer(eai__opctx_t *c)
{
    uparams_t *p = c->params;
    int op = uop_of(c->node->op);
    if (EAI_NEVER(op < 0)) return eai__op_fail(c, EAI_E_UNSUPPORTED, "not a unary op");
    eai_dtype_t dt = c->in[0].dtype;
    p->ki = -1;
    for (int i = 0; i < N_KERNELS; i++)
        if (kernels[i].op == op && kernels[i].dt == dt) p->ki = i;
    if (p->ki < 0) {
        char list[96] = "";
        size_t len = 0;
        for (int i = 0; i < N_KERNELS; i++)
            if (kernels[i].op == op && len < sizeof list)
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", len ? ", " : "",
                                        eai_dtype_name(kernels[i].dt));
        return eai__op_fail(c, EAI_E_UNSUPPORTED, "input X has dtype %s, supported: %s",
                            eai_dtype_name(dt), list);
    }
    const uop_t *u = &uops[op];
    p->args.alpha = u->a_def;
    p->args.beta = u->b_def;
    if (op == U_CLIP && c->opset >= 11) {
        /* Clip-11 moved min/max from attributes to optional inputs */
        EAI_TRY(clip_bound_check(c, 1));
        EAI_TRY(clip_bound_check(c, 2));
        p->clip_in = true;
    } else {
        if (op == U_CLIP && c->n_in > 1)
            return eai__op_fail(c, EAI_E_FORMAT,
                                "Clip before opset 11 takes min/max as attributes, not inputs");
        if (u->a_name) EAI_TRY(eai__op_float(c, u->a_name, u->a_def, &p->args.alpha));
        if (u->b_name) EAI_TRY(eai__op_float(c, u->b_name, u->b_def, &p->args.beta));
        if (op == U_CLIP && dt != EAI_F32)
            return eai__op_fail(c, EAI_E_FORMAT, "Clip before opset 11 is float-only");
    }
    if (op == U_CELU && p->args.alpha == 0.0f)
        return eai__op_fail(c, EAI_E_FORMAT, "Celu alpha must be non-zero");
    /* full range for integer Clip without bounds */
    p->args.ilo = INT64_MIN;
    p->args.ihi = INT64_MAX;
    if (dt == EAI_I32) {
        p->args.ilo = INT32_MIN;
        p->args.ihi = INT32_MAX;
    } else if (dt == EAI_I8) {
        p->args.ilo = INT8_MIN;
        p->args.ihi = INT8_MAX;
    } else if (dt == EAI_U8) {
        p->args.ilo = 0;
        p->args.ihi = UINT8_MAX;
    }
    c->out[0].dtype = dt;
    c->out[0].shape = c->in[0].shape;
    return EAI_OK;
}

typedef struct urun {
    ukern_t k;
    char *o;
    const char *a;
    size_t es;
    uargs_t args;
} urun_t;

static void urun_range(void *ctx, int64_t b, int64_t e)
{
    const urun_t *r = ctx;
    r->k(r->o + b * (int64_t)r->es, r->a + b * (int64_t)r->es, e - b, &r->args);
}

/* Reads a Clip bound input (a scalar of X's dtype) into args. */
static void clip_bound(const eai__tview_t *t, bool is_min, uargs_t *a)
{
    const void *d = t->data;
    float f = 0;
    int64_t v = 0;
    switch (t->dtype) {
    case EAI_F32:
        f = *(const float *)d;
        break;
    case EAI_I64:
        v = *(const int64_t *)d;
        break;
    case EAI_I32:
        v = *(const int32_t *)d;
        break;
    case EAI_I8:
        v = *(const int8_t *)d;
        break;
    case EAI_U8:
        v = *(const uint8_t *)d;
        break;
    default:
        return;
    }
    if (is_min) {
        a->alpha = f;
        a->ilo = v;
    } else {
        a->beta = f;
        a->ihi = v;
    }
}

static eai_status_t unary_eval(eai__opctx_t *c)
{
    const uparams_t *p = c->params;
    urun_t r = {kernels[p->ki].k, c->out[0].data, c->in[0].data, eai_dtype_size(c->in[0].dtype),
                p->args};
    if (p->clip_in) {
        if (eai__has_in(c, 1)) clip_bound(&c->in[1], true, &r.args);
        if (eai__has_in(c, 2)) clip_bound(&c->in[2], false, &r.args);
    }
    ew_parallel(c->pool, eai__shape_numel(&c->out[0].shape), urun_range, &r);
    return EAI_OK;
}

#define UNARY(name)                                                                                \
    {                                                                                              \
        name, 0, 1, 1, 1, 1, unary_infer, unary_eval                                               \
    }

const eai__op_def_t eai__ref_ops_unary[] = {
    {"Clip", 0, 1, 3, 1, 1, unary_infer, unary_eval},
    UNARY("Relu"),
    UNARY("LeakyRelu"),
    UNARY("Sigmoid"),
    UNARY("HardSigmoid"),
    UNARY("HardSwish"),
    UNARY("Tanh"),
    UNARY("Erf"),
    UNARY("Sqrt"),
    UNARY("Exp"),
    UNARY("Log"),
    UNARY("Neg"),
    UNARY("Abs"),
    UNARY("Sign"),
    UNARY("Reciprocal"),
    UNARY("Floor"),
    UNARY("Ceil"),
    UNARY("Round"),
    UNARY("Elu"),
    UNARY("Selu"),
    UNARY("Celu"),
    UNARY("Softplus"),
    UNARY("Softsign"),
    UNARY("ThresholdedRelu"),
    UNARY("Sin"),
    UNARY("Cos"),
    UNARY("Tan"),
    UNARY("Asin"),
    UNARY("Acos"),
    UNARY("Atan"),
    UNARY("Sinh"),
    UNARY("Cosh"),
    UNARY("Asinh"),
    UNARY("Acosh"),
    UNARY("Atanh"),
    UNARY("Not"),
    {0},
};
