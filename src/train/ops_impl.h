/* Shared helpers of the training op kernels (ops_*.c): error messages that
 * name the node, input checks, the op table entries, and the window geometry
 * that Conv and the pools share. Private to src/train.
 */
#ifndef EAI_TRAIN_OPS_IMPL_H
#define EAI_TRAIN_OPS_IMPL_H

#include "train/train_impl.h"

/* eai_fail with "<graph>: node <i> '<name>' (<op>): " in front. */
eai_status_t eai__top_fail(const eai__tnode_t *n, eai_status_t st, const char *fmt, ...)
    EAI_PRINTF(3, 4);

/* Checks n_in in [min_in, max_in], n_out >= 1 with out[0] present, and that
 * inputs 0..n_req-1 are present float tensors with data. */
eai_status_t eai__top_check_io(const eai__tnode_t *n, int min_in, int max_in, int n_req);

/* Input i is present (non-NULL and carries float data). */
static inline bool eai__top_has(const eai__tnode_t *n, int i)
{
    return i < n->n_in && n->in[i] && n->in[i]->data;
}

/* Allocates zeroed op state of `bytes` into n->state. */
eai_status_t eai__top_state(eai__tnode_t *n, const eai_allocator_t *a, size_t bytes);
/* Frees n->state (the common release). */
void eai__top_release(eai__tnode_t *n, const eai_allocator_t *a);

/* Defines fn_safe, the prepare that goes into the op table: on failure it
 * frees whatever state fn had allocated, so a failed prepare leaves nothing
 * for the caller to release. */
#define EAI__TOP_SAFE_PREPARE(fn)                                                                  \
    static eai_status_t fn##_safe(eai__tnode_t *n, const eai_allocator_t *a, size_t *scratch)      \
    {                                                                                              \
        eai_status_t st = fn(n, a, scratch);                                                       \
        if (st != EAI_OK) eai__top_release(n, a);                                                  \
        return st;                                                                                 \
    }

/* 2-D window geometry (NCHW) shared by Conv, MaxPool and AveragePool. */
typedef struct eai__twin {
    int kh, kw, sh, sw, dh, dw;
    int pt, pl, pb, pr; /* pads: top, left, bottom, right */
    int ih, iw, oh, ow;
} eai__twin_t;

/* Reads strides, dilations (if allow_dil), pads/auto_pad and ceil_mode (if
 * allow_ceil) for an input of ih x iw and a kernel kh x kw, and computes the
 * output size. Errors name the node. */
eai_status_t eai__top_window(const eai__tnode_t *n, int ih, int iw, int kh, int kw, bool allow_dil,
                             bool allow_ceil, eai__twin_t *w);

/* Direct Conv kernels (ops_conv_direct.c) for plain windows: stride 1,
 * dilation 1, no padding, one group; x is [N, C, ih, iw] with x_stride =
 * C*ih*iw floats per sample, w [m, k] with k = C*kh*kw, and offs[r] the
 * offset of tap r = (ci, ki, kj) in a sample: ci*ih*iw + ki*iw + kj.
 * Available only where the CPU runs them (AVX2+FMA on x86-64); elsewhere
 * the calls do nothing and available() is false. */
bool eai__conv_direct_available(void);
/* y[i] = bias + conv(x[i]) for samples [n0, n1); bias may be NULL. */
void eai__conv_direct_fwd(const eai__twin_t *g, int m, int64_t k, const int32_t *offs,
                          int64_t x_stride, const float *x, const float *w, const float *bias,
                          float *y, int64_t n0, int64_t n1);
/* dw[m, k] += sum over samples [n0, n1) of dy[i] (x) x[i]; acc is scratch
 * of m*k*8 floats. */
void eai__conv_direct_dw(const eai__twin_t *g, int m, int64_t k, const int32_t *offs,
                         int64_t x_stride, const float *x, const float *dy, float *acc, float *dw,
                         int64_t n0, int64_t n1);

/* The op table entries, one per op (defined in ops_*.c). */
extern const eai__top_t eai__top_gemm, eai__top_matmul;
extern const eai__top_t eai__top_conv;
extern const eai__top_t eai__top_maxpool, eai__top_avgpool, eai__top_gavgpool;
extern const eai__top_t eai__top_relu, eai__top_leakyrelu, eai__top_sigmoid, eai__top_tanh;
extern const eai__top_t eai__top_softmax, eai__top_logsoftmax;
extern const eai__top_t eai__top_flatten, eai__top_reshape, eai__top_concat;
extern const eai__top_t eai__top_transpose, eai__top_identity;
extern const eai__top_t eai__top_add, eai__top_sub, eai__top_mul;
extern const eai__top_t eai__top_batchnorm, eai__top_dropout;

#endif
