/* Op family 'fused' (ref backend, domain "com.edgeai"): FusedConv and
 * FusedGemm, the ONNX Conv / Gemm with an activation applied to each output
 * block by the kernel that writes it, while the block is in cache (conv.c,
 * gemm.c), as src/opt/fuse_act.c produces them. Also the activation helpers
 * of act_impl.h: the formulas of the unary ops (unary.c), so a fused graph
 * matches the unfused one to the bit.
 */
#include "runtime/ref/conv_impl.h"
#include "runtime/ref/elementwise_impl.h" /* ew_expf, ew_tanhf; vectoriser flags */

static const char *const act_names[EAI__ACT_COUNT] = {
    [EAI__ACT_NONE] = "",
    [EAI__ACT_RELU] = "Relu",
    [EAI__ACT_CLIP] = "Clip",
    [EAI__ACT_LEAKYRELU] = "LeakyRelu",
    [EAI__ACT_HARDSIGMOID] = "HardSigmoid",
    [EAI__ACT_HARDSWISH] = "HardSwish",
    [EAI__ACT_SIGMOID] = "Sigmoid",
    [EAI__ACT_SILU] = "SiLU",
    [EAI__ACT_TANH] = "Tanh",
};

const char *eai__act_name(eai__act_kind_t kind)
{
    return kind >= 0 && kind < EAI__ACT_COUNT ? act_names[kind] : "";
}

int eai__act_kind_of(const char *name)
{
    for (int k = 1; k < EAI__ACT_COUNT; k++)
        if (strcmp(act_names[k], name) == 0) return k;
    return -1;
}

int eai__act_n_params(eai__act_kind_t kind)
{
    switch (kind) {
    case EAI__ACT_CLIP:
    case EAI__ACT_HARDSIGMOID:
        return 2;
    case EAI__ACT_LEAKYRELU:
        return 1;
    default:
        return 0;
    }
}

eai_status_t eai__act_from_node(const eai__graph_t *g, const eai__node_t *n, eai__act_t *act)
{
    memset(act, 0, sizeof *act);
    const char *name;
    EAI_TRY(eai__attr_string(g, n, "activation", NULL, &name));
    if (!name) return EAI_OK;
    int kind = eai__act_kind_of(name);
    if (kind < 0)
        return eai_fail(EAI_E_FORMAT,
                        "%s: node %d '%s' (%s): activation '%s' is not one of Relu, Clip, "
                        "LeakyRelu, HardSigmoid, HardSwish, Sigmoid, SiLU, Tanh",
                        g->label, eai__node_index(g, n), n->name, n->op, name);
    act->kind = (eai__act_kind_t)kind;
    /* the ONNX ops' defaults when no params are given */
    switch (act->kind) {
    case EAI__ACT_CLIP:
        act->p0 = -INFINITY;
        act->p1 = INFINITY;
        break;
    case EAI__ACT_LEAKYRELU:
        act->p0 = 0.01f;
        break;
    case EAI__ACT_HARDSIGMOID:
        act->p0 = 0.2f;
        act->p1 = 0.5f;
        break;
    default:
        break;
    }
    const eai__attr_t *a = eai__node_attr(n, "activation_params");
    if (!a) return EAI_OK;
    const int want = eai__act_n_params(act->kind);
    if (a->type != EAI__A_FLOATS || a->n != want)
        return eai_fail(EAI_E_FORMAT,
                        "%s: node %d '%s' (%s): activation_params must be %d floats for %s",
                        g->label, eai__node_index(g, n), n->name, n->op, want, name);
    if (want > 0) act->p0 = a->floats[0];
    if (want > 1) act->p1 = a->floats[1];
    return EAI_OK;
}

static inline float clampf(float v, float lo, float hi)
{
    v = v < lo ? lo : v;
    return v > hi ? hi : v;
}

/* f over a rows x cols block (leading dimension ld): the switch runs once
 * per block, then a plain loop nest per kind that vectorises. The GEMM's
 * panels are 32 (or 16) columns wide: those get a constant inner trip
 * count, which compiles to straight vector code without peeling. */
#define ACT_ROWS(W, EXPR)                                                                          \
    for (int64_t r = 0; r < rows; r++) {                                                           \
        float *xr = x + r * ld;                                                                    \
        for (int64_t i = 0; i < (W); i++) {                                                        \
            const float v = xr[i];                                                                 \
            xr[i] = (EXPR);                                                                        \
        }                                                                                          \
    }
#define ACT_LOOP(EXPR)                                                                             \
    if (cols == 32) {                                                                              \
        ACT_ROWS(32, EXPR)                                                                         \
    } else if (cols == 16) {                                                                       \
        ACT_ROWS(16, EXPR)                                                                         \
    } else {                                                                                       \
        ACT_ROWS(cols, EXPR)                                                                       \
    }                                                                                              \
    return

/* One copy per ISA (as conv.c's depthwise kernels): the loops are compute
 * bound at SSE/NEON width, so AVX2 / AVX-512 copies make the fused
 * activation cost a fraction of the separate op's pass. No FMA contraction
 * in ISO C mode: every width gives the same bits. */
#define DEFINE_ACT2D(SFX, ATTR)                                                                    \
    ATTR static void act2d_##SFX(const eai__act_t *act, float *x, int64_t ld, int64_t rows,        \
                                 int64_t cols)                                                     \
    {                                                                                              \
        const float p0 = act->p0, p1 = act->p1;                                                    \
        switch (act->kind) {                                                                       \
        case EAI__ACT_NONE:                                                                        \
        case EAI__ACT_COUNT:                                                                       \
            return;                                                                                \
        case EAI__ACT_RELU:                                                                        \
            ACT_LOOP(v < 0.0f ? 0.0f : v);                                                         \
        case EAI__ACT_CLIP:                                                                        \
            ACT_LOOP(clampf(v, p0, p1));                                                           \
        case EAI__ACT_LEAKYRELU:                                                                   \
            ACT_LOOP(v < 0.0f ? v * p0 : v);                                                       \
        case EAI__ACT_HARDSIGMOID:                                                                 \
            ACT_LOOP(clampf(p0 *v + p1, 0.0f, 1.0f));                                              \
        case EAI__ACT_HARDSWISH:                                                                   \
            ACT_LOOP(v *clampf(v *(1.0f / 6.0f) + 0.5f, 0.0f, 1.0f));                              \
        case EAI__ACT_SIGMOID:                                                                     \
            ACT_LOOP(1.0f / (1.0f + ew_expf(-v)));                                                 \
        case EAI__ACT_SILU: /* the same two roundings as Mul(x, Sigmoid(x)) */                     \
            ACT_LOOP(v *(1.0f / (1.0f + ew_expf(-v))));                                            \
        case EAI__ACT_TANH:                                                                        \
            ACT_LOOP(ew_tanhf(v));                                                                 \
        }                                                                                          \
    }

DEFINE_ACT2D(generic, )
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define ACT_X86 1
DEFINE_ACT2D(avx2, __attribute__((target("avx2"))))
DEFINE_ACT2D(avx512, __attribute__((target("avx512f"))))
#endif

void eai__act_apply_2d(const eai__act_t *act, float *x, int64_t ld, int64_t rows, int64_t cols)
{
    if (act->kind == EAI__ACT_NONE || rows <= 0 || cols <= 0) return;
    if (ld == cols) { /* contiguous: one long row */
        cols *= rows;
        rows = 1;
    }
#if defined(ACT_X86)
    if (__builtin_cpu_supports("avx512f")) {
        act2d_avx512(act, x, ld, rows, cols);
        return;
    }
    if (__builtin_cpu_supports("avx2")) {
        act2d_avx2(act, x, ld, rows, cols);
        return;
    }
#endif
    act2d_generic(act, x, ld, rows, cols);
}

void eai__act_apply(const eai__act_t *act, float *x, int64_t n)
{
    eai__act_apply_2d(act, x, n, 1, n);
}

/* ---- FusedConv, FusedGemm: the ONNX op's checks, then the activation ---- */

static eai_status_t fused_conv_infer(eai__opctx_t *c)
{
    eai__act_t act;
    EAI_TRY(eai__act_from_node(c->g, c->node, &act));
    return eai__conv_infer_act(c, &act);
}

static eai_status_t fused_gemm_infer(eai__opctx_t *c)
{
    eai__act_t act;
    EAI_TRY(eai__act_from_node(c->g, c->node, &act));
    return eai__gemm_infer_act(c, &act);
}

const eai__op_def_t eai__ref_ops_fused[] = {
    {"FusedConv", 0, 2, 3, 1, 1, fused_conv_infer, eai__conv_eval},
    {"FusedGemm", 0, 2, 3, 1, 1, fused_gemm_infer, eai__gemm_eval},
    {0},
};
