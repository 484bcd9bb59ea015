/* edgeai's own float GEMM (runtime/nhwc/f32gemm.c) as steps of this
 * backend: the pointwise (1x1, stride 1, unpadded, ungrouped) convolutions,
 * which on NHWC data are one product [pixels][C] x [C][M], and Winograd's
 * per-tap products. Where the CPU lacks AVX-512F, callers keep XNNPACK's
 * operators. */
#include <stdlib.h>

#include "runtime/xnnpack/xnn_impl.h"

static void sgemm_range(void *ctx, size_t begin, size_t count)
{
    eai__sgemm_run(ctx, (int64_t)begin, (int64_t)(begin + count));
}

void eai__xnn_sgemm_run(const eai__sgemm_t *g, pthreadpool_t tp)
{
    const int64_t n = eai__sgemm_n_tasks(g);
    const size_t nth = tp ? pthreadpool_get_threads_count(tp) : 1;
    if (nth <= 1 || n < 2) {
        eai__sgemm_run(g, 0, n);
        return;
    }
    /* tasks go panel by panel, so a contiguous range keeps its panels' weights
     * in its core's L2; a few ranges per thread let the pool even out */
    const size_t tile = (size_t)n / (4 * nth);
    pthreadpool_parallelize_1d_tile_1d(tp, sgemm_range, (void *)(uintptr_t)g, (size_t)n,
                                       tile ? tile : 1, EAI__XNN_PT_FLAGS);
}

/* Packs w [n][k] and bias [n] (NULL: zeros) into a node buffer. */
static eai_status_t sgemm_pack(const eai__opctx_t *c, eai__xnn_node_t *st, const float *w,
                               const float *bias, int64_t k, int64_t n, const float **out)
{
    void *bp;
    EAI_TRY(eai__xnn_buffer(c, st, eai__sgemm_pack_bytes(k, n), NULL, &bp));
    eai__sgemm_pack(w, bias, k, n, bp);
    *out = bp;
    return EAI_OK;
}

static void pointwise_step(const void *arg, pthreadpool_t tp)
{
    eai__xnn_sgemm_run(arg, tp);
}

bool eai__xnn_sgemm_ok(void)
{
    if (getenv("EAI_XNN_NO_SGEMM")) return false; /* A/B against XNNPACK's GEMM */
    return eai__sgemm_available();
}

bool eai__xnn_pointwise_ok(int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t pads,
                           int64_t group)
{
    return kh == 1 && kw == 1 && sh == 1 && sw == 1 && pads == 0 && group == 1 &&
           eai__xnn_sgemm_ok();
}

eai_status_t eai__xnn_pointwise_prepare(eai__opctx_t *c, eai__xnn_node_t *st, int64_t pixels,
                                        int64_t ci, int64_t co, float lo, float hi)
{
    const float *bp;
    EAI_TRY(
        sgemm_pack(c, st, c->in[1].data, eai__has_in(c, 2) ? c->in[2].data : NULL, ci, co, &bp));
    eai__sgemm_t g;
    eai__sgemm_init(&g, pixels, ci, co, c->in[0].data, (size_t)ci, c->out[0].data, (size_t)co, bp,
                    lo, hi);
    void *arg;
    EAI_TRY(eai__xnn_buffer(c, st, sizeof g, &g, &arg));
    return eai__xnn_push_fn(c, st, pointwise_step, arg);
}
