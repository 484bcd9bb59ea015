/* Private to the conv family (conv.c, conv_transpose.c, gemm.c for
 * eai__sgemm_bias, fused.c for the Fused* ops): the attributes Conv and
 * ConvTranspose share, parsed once, and the geometry both normalise to three
 * spatial dims (a 1-D conv is a 1x1xW one), so one loop nest serves every
 * rank.
 */
#ifndef EAI_REF_CONV_IMPL_H
#define EAI_REF_CONV_IMPL_H

#include "runtime/ref/act_impl.h"

#define EAI__CONV_SP 3 /* spatial dims after normalisation */

typedef enum eai__autopad {
    EAI__AUTOPAD_NOTSET = 0,
    EAI__AUTOPAD_SAME_UPPER,
    EAI__AUTOPAD_SAME_LOWER,
    EAI__AUTOPAD_VALID,
} eai__autopad_t;

/* Geometry normalised to 3 spatial dims: the leading 3 - nsp dims have size
 * 1, kernel 1, stride 1, dilation 1 and no padding. */
typedef struct eai__conv_geom {
    int nsp;                       /* spatial dims in the model (1..3) */
    int64_t n, c, m, group;        /* batch, input and output channels, groups */
    int64_t in[EAI__CONV_SP];      /* input spatial dims */
    int64_t out[EAI__CONV_SP];     /* output spatial dims */
    int64_t k[EAI__CONV_SP];       /* kernel */
    int64_t s[EAI__CONV_SP];       /* strides */
    int64_t d[EAI__CONV_SP];       /* dilations */
    int64_t pb[EAI__CONV_SP];      /* padding before (may be < 0 for ConvTranspose) */
    int64_t pe[EAI__CONV_SP];      /* padding after */
    int64_t out_pad[EAI__CONV_SP]; /* ConvTranspose output_padding */
    eai__autopad_t auto_pad;
} eai__conv_geom_t;

/* Checks X (input 0) and W (input 1) are float32 of equal rank 3..5, then
 * parses group, kernel_shape (checked against W's spatial dims), strides,
 * dilations, pads and auto_pad into g (in, k, s, d, pb, pe, auto_pad, n, c,
 * group, nsp). Errors name the attribute. */
/* Optional bias input 2: float32, 1-D with m values. */
eai_status_t eai__conv_bias(eai__opctx_t *c, int64_t m, bool *has_bias);
eai_status_t eai__conv_parse(eai__opctx_t *c, eai__conv_geom_t *g);

/* Output positions o in [0, n_out) for which o * s + off lies in [0, n_in):
 * the range [*lo, *hi) (empty when *lo == *hi). */
static inline void eai__conv_valid(int64_t n_in, int64_t n_out, int64_t s, int64_t off, int64_t *lo,
                                   int64_t *hi)
{
    int64_t l = off >= 0 ? 0 : (-off + s - 1) / s;
    int64_t h = n_in - 1 - off < 0 ? 0 : (n_in - 1 - off) / s + 1;
    if (h > n_out) h = n_out;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* Largest im2col/col2im buffer eval may use; bigger images are tiled. */
#define EAI__CONV_SCRATCH_CAP ((size_t)4 << 20)

/* eai__sgemm that also adds bias[i] to row i of C (bias may be NULL) in the
 * micro-kernel's epilogue, so a conv output is written once. (gemm.c) */
void eai__sgemm_bias(eai_threadpool_t *pool, bool trans_a, bool trans_b, int64_t M, int64_t N,
                     int64_t K, float alpha, const float *A, int64_t lda, const float *B,
                     int64_t ldb, float beta, const float *bias, float *C, int64_t ldc);

/* Same, with `act` (may be NULL: none) applied to each finished panel of C
 * (a thread's rows times at most 32 columns) while it is still in cache, so
 * a fused activation costs no second pass over C in memory. (gemm.c) */
void eai__sgemm_act(eai_threadpool_t *pool, bool trans_a, bool trans_b, int64_t M, int64_t N,
                    int64_t K, float alpha, const float *A, int64_t lda, const float *B,
                    int64_t ldb, float beta, const float *bias, const eai__act_t *act, float *C,
                    int64_t ldc);

/* Conv (conv.c) and Gemm (gemm.c) with an activation on their output: the
 * ONNX op's infer with `act` recorded in the params, and the shared eval.
 * FusedConv / FusedGemm (fused.c) parse `act` from the node. */
eai_status_t eai__conv_infer_act(eai__opctx_t *c, const eai__act_t *act);
eai_status_t eai__conv_eval(eai__opctx_t *c);
eai_status_t eai__gemm_infer_act(eai__opctx_t *c, const eai__act_t *act);
eai_status_t eai__gemm_eval(eai__opctx_t *c);

eai_status_t eai__conv_transpose_infer(eai__opctx_t *c);
eai_status_t eai__conv_transpose_eval(eai__opctx_t *c);

#endif
