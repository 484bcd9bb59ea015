/* Fused activations (FusedConv / FusedGemm, src/runtime/ref/act_impl.h) on
 * XNNPACK: Relu and Clip become the producer's output clamp; the others run
 * in place on its output right after it, while the tile is still warm:
 *   LeakyRelu, HardSwish, Sigmoid   one operator
 *   SiLU                            sigmoid into scratch, then y *= scratch
 *   HardSigmoid                     y *= alpha, then y += beta clamped to [0, 1]
 * Tanh has no float XNNPACK operator in this snapshot: such nodes run on ref.
 */
#include <math.h>

#include "runtime/xnnpack/xnn_impl.h"

bool eai__xnn_act_ok(const eai__act_t *a)
{
    switch (a->kind) {
    case EAI__ACT_NONE:
    case EAI__ACT_RELU:
    case EAI__ACT_LEAKYRELU:
    case EAI__ACT_HARDSWISH:
    case EAI__ACT_SIGMOID:
    case EAI__ACT_SILU:
    case EAI__ACT_HARDSIGMOID:
        return true;
    case EAI__ACT_CLIP: /* XNNPACK wants min strictly below max */
        return a->p0 < a->p1;
    default:
        return false;
    }
}

void eai__xnn_act_clamp(const eai__act_t *a, float *lo, float *hi)
{
    *lo = -INFINITY;
    *hi = INFINITY;
    if (a->kind == EAI__ACT_RELU) *lo = 0.0f;
    if (a->kind == EAI__ACT_CLIP) {
        *lo = a->p0;
        *hi = a->p1;
    }
}

size_t eai__xnn_act_scratch(const eai__act_t *a, int64_t numel)
{
    return a->kind == EAI__ACT_SILU ? (size_t)numel * sizeof(float) : 0;
}

eai_status_t eai__xnn_act_push(eai__opctx_t *c, eai__xnn_node_t *st, const eai__act_t *a, float *y,
                               int64_t numel)
{
    const size_t n = (size_t)numel;
    xnn_operator_t op = NULL;
    enum xnn_status r;
    switch (a->kind) {
    case EAI__ACT_LEAKYRELU:
        r = xnn_create_leaky_relu_nc_f32(n, n, n, a->p0, EAI__XNN_FLAGS, &op);
        EAI_TRY(eai__xnn_push(c, st, r, op, "create leaky relu"));
        return eai__xnn_check(c, xnn_setup_leaky_relu_nc_f32(op, 1, y, y, st->tp), "setup");
    case EAI__ACT_HARDSWISH:
        r = xnn_create_hardswish_nc_f32(n, n, n, EAI__XNN_FLAGS, &op);
        EAI_TRY(eai__xnn_push(c, st, r, op, "create hardswish"));
        return eai__xnn_check(c, xnn_setup_hardswish_nc_f32(op, 1, y, y, st->tp), "setup");
    case EAI__ACT_SIGMOID:
        r = xnn_create_sigmoid_nc_f32(n, n, n, EAI__XNN_FLAGS, &op);
        EAI_TRY(eai__xnn_push(c, st, r, op, "create sigmoid"));
        return eai__xnn_check(c, xnn_setup_sigmoid_nc_f32(op, 1, y, y, st->tp), "setup");
    case EAI__ACT_SILU: {
        float *s = c->scratch;
        r = xnn_create_sigmoid_nc_f32(n, n, n, EAI__XNN_FLAGS, &op);
        EAI_TRY(eai__xnn_push(c, st, r, op, "create sigmoid"));
        EAI_TRY(eai__xnn_check(c, xnn_setup_sigmoid_nc_f32(op, 1, y, s, st->tp), "setup"));
        return eai__xnn_push_binary_flat(c, st, EAI__XNN_MUL, y, s, false, y, numel, -INFINITY,
                                         INFINITY);
    }
    case EAI__ACT_HARDSIGMOID: {
        float ab[2] = {a->p0, a->p1};
        void *buf;
        EAI_TRY(eai__xnn_buffer(c, st, sizeof ab, ab, &buf));
        const float *k = buf;
        EAI_TRY(eai__xnn_push_binary_flat(c, st, EAI__XNN_MUL, y, &k[0], true, y, numel, -INFINITY,
                                          INFINITY));
        return eai__xnn_push_binary_flat(c, st, EAI__XNN_ADD, y, &k[1], true, y, numel, 0.0f, 1.0f);
    }
    default:
        return EAI_OK; /* none, or folded into the clamp */
    }
}
