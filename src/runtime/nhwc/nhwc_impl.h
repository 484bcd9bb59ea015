/* The NHWC twins of layout-bound ops (domain "com.edgeai.nhwc", nhwc.c):
 * shared by the layout pass (src/opt/layout.c), which makes them, and the
 * backends that run them. */
#ifndef EAI_NHWC_IMPL_H
#define EAI_NHWC_IMPL_H

#include "runtime/op_impl.h"

#define EAI__NHWC_DOMAIN "com.edgeai.nhwc"

/* Rank-4 shape permutations: NHWC [N,H,W,C] <-> NCHW [N,C,H,W]. */
void eai__nhwc_to_nchw_shape(const eai__shape_t *nhwc, eai__shape_t *nchw);
void eai__nchw_to_nhwc_shape(const eai__shape_t *nchw, eai__shape_t *nhwc);

/* For an inferred NHWC node: the NCHW op it wraps, and that op's params
 * (parsed by its own infer on the NCHW shapes). */
const eai__op_def_t *eai__nhwc_inner(const eai__opctx_t *c);
const void *eai__nhwc_inner_params(const eai__opctx_t *c);

/* A batched 2-D transpose out[n][j][i] = in[n][i][j] (n < batch, i < rows,
 * j < cols) cut into cache blocks; ToNHWC is (rows, cols) = (C, H*W),
 * ToNCHW (H*W, C). _plan returns the number of blocks, _run does blocks
 * [begin, end) (any thread; blocks write disjoint bytes). */
typedef struct eai__nhwc_tr {
    const unsigned char *in;
    unsigned char *out;
    int64_t rows, cols, bi, bj, nbi, nbj;
    size_t es;
} eai__nhwc_tr_t;
int64_t eai__nhwc_tr_plan(eai__nhwc_tr_t *t, void *out, const void *in, int64_t batch, int64_t rows,
                          int64_t cols, size_t es);
void eai__nhwc_tr_run(const eai__nhwc_tr_t *t, int64_t begin, int64_t end);

#endif
