/* Private to the XNNPACK backend (src/runtime/xnnpack/). One node maps to a
 * short chain of XNNPACK operators (operator API, not subgraphs): created
 * and set up in prepare with every pointer final (the session's arena,
 * scratch and constants never move), then eval only calls xnn_run_operator,
 * which never allocates. Families: conv.c (Conv, FusedConv, pools; NHWC
 * twins), elementwise.c (unary, binary, PRelu, Softmax), copy.c (Concat,
 * Split, bilinear Resize), gemm.c (Gemm, FusedGemm, MatMul with constant
 * weights), act.c (fused activations).
 */
#ifndef EAI_XNN_IMPL_H
#define EAI_XNN_IMPL_H

#include <xnnpack.h>

#include "runtime/backend_impl.h"
#include "runtime/nhwc/f32gemm_impl.h"
#include "runtime/nhwc/nhwc_impl.h"
#include "runtime/ref/act_impl.h"

/* Flags of every operator this backend creates, and of its own steps on the
 * pthreadpool: none. Without YIELD_WORKERS the workers spin between the
 * nodes of an invoke, so a node's hand-off costs a cache line, not a futex
 * wake-up (tens of microseconds in a VM, more than most MobileNet nodes
 * take); the backend's idle hook puts them to sleep at the end of an invoke
 * and before a large ref node (backend.c). */
#define EAI__XNN_FLAGS    0
#define EAI__XNN_PT_FLAGS 0

/* One step of a node: an XNNPACK operator, or edgeai's own code run on the
 * same pthreadpool (Winograd transforms). */
typedef struct eai__xnn_step {
    xnn_operator_t op;                             /* NULL: fn */
    bool owned_only;                               /* op run by another step's fn, not by eval */
    void (*fn)(const void *arg, pthreadpool_t tp); /* never allocates */
    const void *arg;
} eai__xnn_step_t;

/* Times kept per thread choice of a node (a ring: a recent minimum, robust
 * to one-off stalls yet following a machine that got busier). */
#define EAI__XNN_RECENT 4
/* The first 2 * PROBE evals alternate caller's thread and pool; after them
 * every EXPLORE-th eval runs the way not chosen, so its times stay current.
 * All nodes explore on the same invoke: one slow invoke in EXPLORE rather
 * than a little slowness in every one (p50 untouched). */
#define EAI__XNN_PROBE   EAI__XNN_RECENT
#define EAI__XNN_EXPLORE 32

/* A node's last times (ns) on the caller's thread [0] and with the pool [1]. */
typedef struct eai__xnn_times {
    int64_t ns[2][EAI__XNN_RECENT];
} eai__xnn_times_t;

/* Per-node state: the steps to run in order, and buffers they read (padded
 * copies of constants, step arguments) that must live as long as they do. */
typedef struct eai__xnn_node {
    eai_allocator_t alloc;
    pthreadpool_t tp; /* the session's (NULL: caller's thread) */
    int n_steps, cap_steps;
    eai__xnn_step_t *steps;
    int n_bufs;
    void *bufs[8];
    size_t bytes; /* packed weights etc., for eai_session_const_bytes */
    /* Run-time thread choice (backend.c pick_tp): a node set up for the pool
     * keeps its last few times with the pool [1] and on the caller's thread
     * [0], and runs the faster way. */
    bool adapt;
    struct eai__xnn_session *sess; /* the session's state (backend.c) */
    uint32_t evals;
    uint32_t next[2];
    eai__xnn_times_t recent;
} eai__xnn_node_t;

/* Whether the k-th eval of a node set up for the pool runs on it (1) or on
 * the caller's thread (0), given its last times each way (backend.c). */
int eai__xnn_pick_way(uint32_t k, const eai__xnn_times_t *t);

/* One op family entry: domain ("" = ONNX, "com.edgeai", the NHWC domain),
 * name, and the three per-node hooks. */
typedef struct eai__xnn_op {
    const char *domain;
    const char *name;
    bool (*supports)(const eai__opctx_t *c);
    eai_status_t (*prepare)(eai__opctx_t *c, eai__xnn_node_t *st);
    size_t (*scratch)(const eai__opctx_t *c); /* may be NULL */
} eai__xnn_op_t;

extern const eai__xnn_op_t eai__xnn_ops_conv[];
extern const eai__xnn_op_t eai__xnn_ops_elementwise[];
extern const eai__xnn_op_t eai__xnn_ops_gemm[];
extern const eai__xnn_op_t eai__xnn_ops_copy[];
extern const eai__xnn_op_t eai__xnn_ops_q8[]; /* xnn_q8.c: the INT8 graph form */

/* For the layout pass: whether a NCHW Conv / FusedConv / pool node would run
 * here as its NHWC twin (conv.c). */
bool eai__xnn_conv_wants_nhwc(const eai__opctx_t *c);
/* The same for QLinearConv, int8 MaxPool, QLinearGlobalAveragePool (xnn_q8.c). */
bool eai__xnn_q8_wants_nhwc(const eai__opctx_t *c);

/* Resize / Upsample in mode nearest (any dtype) as a gather step
 * (nearest.c; the copy family's table lists it). */
bool eai__xnn_nearest_supports(const eai__opctx_t *c);
eai_status_t eai__xnn_nearest_prepare(eai__opctx_t *c, eai__xnn_node_t *st);

/* Appends an operator to the node (created by the caller; deleted with the
 * node, also when this fails). */
eai_status_t eai__xnn_push(const eai__opctx_t *c, eai__xnn_node_t *st, enum xnn_status s,
                           xnn_operator_t op, const char *what);
/* Same, for an operator another step runs itself (deleted with the node). */
eai_status_t eai__xnn_push_owned(const eai__opctx_t *c, eai__xnn_node_t *st, enum xnn_status s,
                                 xnn_operator_t op, const char *what);
/* Appends a step of edgeai code: fn(arg, tp), arg borrowed (a node buffer). */
eai_status_t eai__xnn_push_fn(const eai__opctx_t *c, eai__xnn_node_t *st,
                              void (*fn)(const void *arg, pthreadpool_t tp), const void *arg);
/* Checks an xnn_setup_* status. */
eai_status_t eai__xnn_check(const eai__opctx_t *c, enum xnn_status s, const char *what);
/* A buffer owned by the node (freed with it), EAI__READ_PAD bytes longer
 * than asked; with `src` the first n bytes are copied from it. */
eai_status_t eai__xnn_buffer(const eai__opctx_t *c, eai__xnn_node_t *st, size_t n, const void *src,
                             void **out);
/* Operators of one node run side by side, one per pool job: parts that
 * XNNPACK would not split across threads itself (flat binary operations,
 * a conv's output-channel slices), each set up at prepare with its own
 * pointers. _new takes a node buffer for n of them, _add appends one (owned
 * by the node, as eai__xnn_push_owned), _push adds the step running them. */
typedef struct eai__xnn_parts {
    int n;
    xnn_operator_t op[];
} eai__xnn_parts_t;
eai_status_t eai__xnn_parts_new(const eai__opctx_t *c, eai__xnn_node_t *st, int n,
                                eai__xnn_parts_t **out);
eai_status_t eai__xnn_parts_add(const eai__opctx_t *c, eai__xnn_node_t *st, eai__xnn_parts_t *p,
                                enum xnn_status s, xnn_operator_t op, const char *what);
eai_status_t eai__xnn_push_parts(const eai__opctx_t *c, eai__xnn_node_t *st,
                                 const eai__xnn_parts_t *p);
/* XNNPACK's name for a status. */
const char *eai__xnn_status_name(enum xnn_status s);

/* y = a op b over numel floats (b one float when b_scalar), clamped to
 * [lo, hi] (add, subtract, multiply, divide; max and min ignore the clamp),
 * split across the session's threads when large (elementwise.c). */
typedef enum eai__xnn_binary {
    EAI__XNN_ADD,
    EAI__XNN_SUB,
    EAI__XNN_MUL,
    EAI__XNN_DIV,
    EAI__XNN_MAX,
    EAI__XNN_MIN,
} eai__xnn_binary_t;
eai_status_t eai__xnn_push_binary_flat(const eai__opctx_t *c, eai__xnn_node_t *st,
                                       eai__xnn_binary_t kind, const float *a, const float *b,
                                       bool b_scalar, float *y, int64_t numel, float lo, float hi);

/* Activation support of FusedConv / FusedGemm: whether `a` maps onto the
 * producer's output clamp plus at most two operators in place on its output
 * (SiLU needs numel floats of scratch). */
bool eai__xnn_act_ok(const eai__act_t *a);
void eai__xnn_act_clamp(const eai__act_t *a, float *lo, float *hi);
size_t eai__xnn_act_scratch(const eai__act_t *a, int64_t numel);
/* Adds the operators that apply `a` in place to y[numel] (after the clamp
 * eai__xnn_act_clamp folded into the producer). */
eai_status_t eai__xnn_act_push(eai__opctx_t *c, eai__xnn_node_t *st, const eai__act_t *a, float *y,
                               int64_t numel);

/* Winograd F(2x2, 3x3) (winograd.c) for 3x3 stride-1 ungrouped convs. */
typedef struct eai__xnn_wino_geom {
    int64_t n, c, h, w, m, oh, ow, pt, pl; /* NHWC input [n,h,w,c] -> [n,oh,ow,m] */
} eai__xnn_wino_geom_t;
/* Whether Winograd beats XNNPACK's direct convolution here (measured:
 * >= 64 channels each way; not when few tiles share large transformed
 * weights, which then stream from memory for little work). */
bool eai__xnn_winograd_ok(const eai__xnn_wino_geom_t *g, int64_t kh, int64_t kw, int64_t sh,
                          int64_t sw, int64_t dh, int64_t dw, int64_t group);
/* Scratch bytes the transforms use (U and M of one chunk of tiles, sized
 * for a session pool of `threads`). */
size_t eai__xnn_winograd_scratch(int64_t n, int64_t c, int64_t m, int64_t oh, int64_t ow,
                                 int threads);
/* Adds the steps computing conv input 0 * W (input 1, OIHW) + bias (input 2,
 * optional), clamped to [lo, hi], into output 0; c->scratch must be final. */
eai_status_t eai__xnn_winograd_prepare(eai__opctx_t *c, eai__xnn_node_t *st,
                                       const eai__xnn_wino_geom_t *g, float lo, float hi);

/* edgeai's float GEMM as this backend's steps (pointwise.c). */
/* Runs g's tasks, over the pool when tp is not NULL. */
void eai__xnn_sgemm_run(const eai__sgemm_t *g, pthreadpool_t tp);
/* Whether the GEMM runs on this CPU (EAI_XNN_NO_SGEMM set in the
 * environment: never, to compare with XNNPACK's). */
bool eai__xnn_sgemm_ok(void);
/* Whether a conv of this geometry (pads: the sum of all four) is a
 * pointwise product the GEMM takes. */
bool eai__xnn_pointwise_ok(int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t pads,
                           int64_t group);
/* Adds the step computing NHWC output 0 [pixels][co] = input 0 [pixels][ci]
 * x W (input 1, [co][ci][1][1]) + bias (input 2, optional), clamped, then
 * HardSwish when hswish. */
eai_status_t eai__xnn_pointwise_prepare(eai__opctx_t *c, eai__xnn_node_t *st, int64_t pixels,
                                        int64_t ci, int64_t co, float lo, float hi, bool hswish);

/* Ungrouped convolutions as the GEMM's indirect product (implicit GEMM):
 * NHWC input [n,h,w,c] -> [n,oh,ow,m]. */
typedef struct eai__xnn_igemm_geom {
    int64_t n, c, h, w, m, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl;
} eai__xnn_igemm_geom_t;
/* Whether the indirect product takes this conv (EAI_XNN_NO_IGEMM set in the
 * environment: never, to compare with XNNPACK's convolution). */
bool eai__xnn_igemm_ok(const eai__xnn_igemm_geom_t *g, int64_t group);
/* Adds the step computing output 0 = input 0 conv w (OHWI, [m][kh][kw][c])
 * + bias (input 2, optional), clamped to [lo, hi], then HardSwish when
 * hswish. */
eai_status_t eai__xnn_igemm_prepare(eai__opctx_t *c, eai__xnn_node_t *st,
                                    const eai__xnn_igemm_geom_t *g, const float *w, float lo,
                                    float hi, bool hswish);

/* Whether input i is a float32 constant with data. */
static inline bool eai__xnn_const_f32(const eai__opctx_t *c, int i)
{
    return i < c->n_in && c->in[i].dtype == EAI_F32 && c->in[i].data != NULL &&
           c->g->values[c->node->in[i]].kind == EAI__V_CONST;
}

#endif
