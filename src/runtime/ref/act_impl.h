/* Activations fused into an op's output (FusedConv, FusedGemm of the
 * "com.edgeai" domain, made by src/opt/fuse_act.c): the node's `activation`
 * STRING and `activation_params` FLOATS parsed once into an eai__act_t, and
 * applied by the producing kernel to each output tile while it is still in
 * cache. Any backend may include this header to read the same contract.
 *
 *   activation     activation_params   y = f(x)
 *   Relu           -                   max(x, 0)
 *   Clip           [min, max]          min(max(x, min), max)
 *   LeakyRelu      [alpha]             x < 0 ? alpha * x : x
 *   HardSigmoid    [alpha, beta]       clamp(alpha * x + beta, 0, 1)
 *   HardSwish      -                   x * clamp(x / 6 + 1/2, 0, 1)
 *   Sigmoid        -                   1 / (1 + exp(-x))
 *   SiLU           -                   x * sigmoid(x)
 *   Tanh           -                   tanh(x)
 * Absent params take the ONNX op's defaults (Clip: -inf, +inf; LeakyRelu
 * 0.01; HardSigmoid 0.2, 0.5).
 */
#ifndef EAI_REF_ACT_IMPL_H
#define EAI_REF_ACT_IMPL_H

#include "runtime/op_impl.h"

typedef enum eai__act_kind {
    EAI__ACT_NONE = 0,
    EAI__ACT_RELU,
    EAI__ACT_CLIP,
    EAI__ACT_LEAKYRELU,
    EAI__ACT_HARDSIGMOID,
    EAI__ACT_HARDSWISH,
    EAI__ACT_SIGMOID,
    EAI__ACT_SILU,
    EAI__ACT_TANH,
    EAI__ACT_COUNT
} eai__act_kind_t;

/* kind plus up to two parameters: Clip (min, max), LeakyRelu (alpha),
 * HardSigmoid (alpha, beta); zero-initialised means no activation. */
typedef struct eai__act {
    eai__act_kind_t kind;
    float p0, p1;
} eai__act_t;

/* The contract's name of a kind ("Relu", ...; "" for NONE). */
const char *eai__act_name(eai__act_kind_t kind);
/* The kind called `name`, or -1. */
int eai__act_kind_of(const char *name);
/* Number of activation_params a kind takes (Clip 2, LeakyRelu 1,
 * HardSigmoid 2, others 0). */
int eai__act_n_params(eai__act_kind_t kind);

/* Parses node n's `activation` / `activation_params` (act->kind NONE when
 * `activation` is absent). EAI_E_FORMAT naming the node for an unknown
 * activation, a wrong attribute type or a wrong parameter count. */
eai_status_t eai__act_from_node(const eai__graph_t *g, const eai__node_t *n, eai__act_t *act);

/* x[i] = f(x[i]) for i < n, and for a rows x cols block with leading
 * dimension ld (the GEMM's output tiles). NONE leaves x untouched. */
void eai__act_apply(const eai__act_t *act, float *x, int64_t n);
void eai__act_apply_2d(const eai__act_t *act, float *x, int64_t ld, int64_t rows, int64_t cols);

#endif
