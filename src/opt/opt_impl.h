/* Graph passes: each rewrites an eai__graph_t in place, reports how many
 * rewrites it made in *n (may be NULL), and leaves the graph finished
 * (eai__graph_finish run again after edits). A pass that finds nothing to do
 * changes nothing. Each is unit-tested on its own (tests/opt/).
 *
 * Fused ops produced here live in the "com.edgeai" domain (FusedConv,
 * FusedGemm, ...: the ONNX op's attributes plus `activation` STRING and
 * `activation_params` FLOATS, as ONNX Runtime's com.microsoft FusedConv);
 * NHWC ops produced by the layout pass live in "com.edgeai.nhwc".
 */
#ifndef EAI_OPT_IMPL_H
#define EAI_OPT_IMPL_H

#include "edgeai/build.h"
#include "model/graph_edit.h"

#define EAI__DOMAIN_FUSED "com.edgeai"
#define EAI__DOMAIN_NHWC  "com.edgeai.nhwc"

struct eai__backend;

/* Folds nodes whose inputs are all constant (shape sub-graphs included, with
 * symbolic dims left symbolic) into initializers. */
eai_status_t eai__opt_fold_constants(eai__graph_t *g, int *n);
/* Removes Identity, Dropout (inference) and no-op Cast/Reshape. */
eai_status_t eai__opt_remove_identity(eai__graph_t *g, int *n);
/* BatchNormalization (inference) after Conv/ConvTranspose/Gemm folded into
 * the weights and bias. */
eai_status_t eai__opt_fold_bn(eai__graph_t *g, int *n);
/* Conv/Gemm/MatMul(+Add) followed by Relu, Clip, LeakyRelu, HardSwish,
 * HardSigmoid, Sigmoid or SiLU (x*sigmoid(x)) becomes one Fused* node. */
eai_status_t eai__opt_fuse_act(eai__graph_t *g, int *n);
/* Drops nodes whose outputs reach no graph output. */
eai_status_t eai__opt_dce(eai__graph_t *g, int *n);
/* NHWC layout for the nodes `be` runs, with Transposes at the boundaries
 * (cancelled where they meet). */
eai_status_t eai__opt_layout(eai__graph_t *g, const struct eai__backend *be, int *n);

/* The default pipeline run at load time and by eai_build: fold constants,
 * remove identities, fold BN, fuse activations, DCE. `rep` may be NULL. */
eai_status_t eai__opt_default(eai__graph_t *g, eai_build_report_t *rep);

#endif
