/* The operator contract of the runtime: one eai__op_def_t per ONNX op, with
 * infer (check attributes, dtypes and shapes; write output shapes; parse
 * parameters once) and eval (compute). The same infer runs at model load, at
 * session creation and during constant folding, so a check written once
 * guards every path.
 *
 * Op families live one per file under src/runtime/ref/ and export a table
 * `const eai__op_def_t eai__ref_ops_<family>[]` terminated by {0}.
 */
#ifndef EAI_OP_IMPL_H
#define EAI_OP_IMPL_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/core_impl.h"
#include "edgeai/threadpool.h"
#include "model/graph.h"

/* A tensor as a kernel sees it. dtype EAI_DTYPE_UNDEFINED marks an absent
 * optional input (or output). */
typedef struct eai__tview {
    void *data; /* infer: non-NULL only for constants; eval: always set */
    eai_dtype_t dtype;
    eai__shape_t shape;
} eai__tview_t;

/* Bytes of per-node parameters that infer parses and eval reads. */
#define EAI__PARAMS_BYTES 768

typedef struct eai__opctx {
    const eai__graph_t *g; /* attributes, messages */
    const eai__node_t *node;
    int opset; /* default-domain opset of the model */
    int n_in, n_out;
    eai__tview_t *in;
    eai__tview_t *out;
    /* EAI__PARAMS_BYTES, 64-byte aligned, zeroed before infer; infer writes,
     * eval reads (never writes: eval may run on several threads' sessions). */
    void *params;
    /* infer may request scratch for eval; eval gets it in `scratch`
     * (64-byte aligned, shared by all nodes, not preserved between nodes). */
    size_t scratch_bytes;
    void *scratch;
    eai_threadpool_t *pool; /* eval: may be NULL (caller's thread) */
} eai__opctx_t;

enum {
    /* eval reads only the inputs' shapes (Shape, Size): fold whenever the
     * input shapes are known, constant or not */
    EAI__OP_SHAPE_ONLY = 1u << 0,
};

typedef struct eai__op_def {
    const char *name;
    unsigned flags;
    int min_in, max_in; /* counts accepted (max -1: variadic) */
    int min_out, max_out;
    eai_status_t (*infer)(eai__opctx_t *c);
    eai_status_t (*eval)(eai__opctx_t *c);
} eai__op_def_t;

/* Lookup in the compiled-in op tables; NULL if unknown. */
const eai__op_def_t *eai__op_find(const char *domain, const char *name);
/* NULL-terminated list of every op name (for docs and the conformance report). */
void eai__op_foreach(void (*fn)(const eai__op_def_t *op, void *user), void *user);

/* Failure with the node prefix: "<file>: node 12 'conv1' (Conv): <message>". */
eai_status_t eai__op_fail(const eai__opctx_t *c, eai_status_t st, const char *fmt, ...)
    EAI_PRINTF(3, 4);

/* Attribute getters bound to the context's node. */
static inline eai_status_t eai__op_int(const eai__opctx_t *c, const char *name, int64_t def,
                                       int64_t *out)
{
    return eai__attr_int(c->g, c->node, name, def, out);
}
static inline eai_status_t eai__op_float(const eai__opctx_t *c, const char *name, float def,
                                         float *out)
{
    return eai__attr_float(c->g, c->node, name, def, out);
}
static inline eai_status_t eai__op_ints(const eai__opctx_t *c, const char *name, int64_t *vals,
                                        int cap, int *n)
{
    return eai__attr_ints(c->g, c->node, name, vals, cap, n);
}
static inline eai_status_t eai__op_string(const eai__opctx_t *c, const char *name, const char *def,
                                          const char **out)
{
    return eai__attr_string(c->g, c->node, name, def, out);
}

static inline bool eai__has_in(const eai__opctx_t *c, int i)
{
    return i < c->n_in && c->in[i].dtype != EAI_DTYPE_UNDEFINED;
}
static inline bool eai__has_out(const eai__opctx_t *c, int i)
{
    return i < c->n_out && c->out[i].dtype != EAI_DTYPE_UNDEFINED;
}

/* ---- helpers shared by op families (src/runtime/ref/common.c) ---- */

/* Normalises a possibly negative axis into [0, rank); error names the node. */
eai_status_t eai__op_axis(const eai__opctx_t *c, int64_t axis, int rank, int *out);

/* Reads a constant integer input (int64 or int32, rank 0 or 1) into vals.
 * EAI_E_UNSUPPORTED if the input is not constant ("shape input must be
 * constant"), EAI_E_INVALID if more than cap values. */
eai_status_t eai__op_const_ints(const eai__opctx_t *c, int idx, int64_t *vals, int cap, int *n);
/* Same for one float scalar/vector input (float32/float16/float64). */
eai_status_t eai__op_const_floats(const eai__opctx_t *c, int idx, float *vals, int cap, int *n);

/* An INTS attribute of exactly `want` values, each >= min (strides, pads,
 * dilations, kernel_shape). Absent: EAI_E_FORMAT if required, else every
 * value is `def`. */
eai_status_t eai__op_dims_attr(const eai__opctx_t *c, const char *name, int want, bool required,
                               int64_t def, int64_t min, int64_t *out);

/* Requires input i to have one of the dtypes in `ok` (terminated by 0). */
eai_status_t eai__op_dtype(const eai__opctx_t *c, int i, const eai_dtype_t *ok);
/* Requires input i to be float32. */
eai_status_t eai__op_f32(const eai__opctx_t *c, int i);

/* Numpy-style multidirectional broadcast of a and b into out. */
eai_status_t eai__op_broadcast(const eai__opctx_t *c, const eai__shape_t *a, const eai__shape_t *b,
                               eai__shape_t *out);
/* Element strides (0 on broadcast dims) of `in` aligned to `out`'s rank. */
void eai__bcast_strides(const eai__shape_t *in, const eai__shape_t *out, int64_t *strides);

/* Splits [0, n) across the pool: fn(ctx, begin, end) per thread share.
 * n small or pool NULL: runs inline. */
typedef void (*eai__range_fn)(void *ctx, int64_t begin, int64_t end);
void eai__parallel_for(eai_threadpool_t *pool, int64_t n, eai__range_fn fn, void *ctx);

/* C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C, row-major with leading
 * dimensions in elements; trans_a/trans_b select op(X)=X^T. Threads split the
 * work when pool is non-NULL. (src/runtime/ref/gemm.c) */
void eai__sgemm(eai_threadpool_t *pool, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                float alpha, const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                float *C, int64_t ldc);

#endif
