/* Shared by the two op-mapping files of the TF.js importer (tfjs_ops.c,
 * tfjs_ops_nn.c). */
#ifndef EAI_TFJS_OPS_IMPL_H
#define EAI_TFJS_OPS_IMPL_H

#include "model/tfjs_impl.h"

/* One TF op: `onnx` is the ONNX op for the simple 1:1 cases. */
typedef struct tfj_map {
    const char *tf;
    eai_status_t (*fn)(tfj_t *s, int ni, const char *onnx);
    const char *onnx;
} tfj_map_t;

extern const tfj_map_t eai__tfjs_nn_ops[]; /* tfjs_ops_nn.c, {NULL}-terminated */

/* The port's current layout (NULL for a constant not yet in the IR). */
const tfj_lay_t *eai__tfjs_cur(const tfj_port_t *p);
/* Output dtype: attribute T, else input 0's. */
eai_dtype_t eai__tfjs_out_dt(const tfj_t *s, int ni);
/* Input count in [lo, hi] (hi -1: no limit), else EAI_E_FORMAT. */
eai_status_t eai__tfjs_need_inputs(const tfj_t *s, int ni, int lo, int hi);
/* Layout for an elementwise op over inputs [lo, hi). */
void eai__tfjs_common_lay(const tfj_t *s, int ni, int lo, int hi, tfj_lay_t *L);
/* A scalar helper constant. */
eai_status_t eai__tfjs_scalar(tfj_t *s, int ni, eai_dtype_t dt, double v, int *out);
/* Applies a TF activation by name (Relu, Relu6, Elu, Sigmoid, Tanh,
 * LeakyRelu with attribute leakyrelu_alpha, Prelu with input alpha_in). */
eai_status_t eai__tfjs_activation(tfj_t *s, int ni, const char *act, int x, const tfj_lay_t *L,
                                  int alpha_in, int port, int *out);
/* Makes node ni's output 0 the same tensor as its input 0 (Identity). */
eai_status_t eai__tfjs_alias(tfj_t *s, int ni);
/* Input k as an int64 IR value. */
eai_status_t eai__tfjs_in_i64(tfj_t *s, int ni, int k, int *v);

#endif
