/* NHWC twins of the layout-bound ops, domain "com.edgeai.nhwc", made by the
 * layout pass (src/opt/layout.c): the same op name and attributes as the ONNX
 * (or "com.edgeai" fused, or "com.microsoft" QLinear*) op, but activation
 * input 0 and output 0 are 2-D
 * images in NHWC instead of NCHW. Weights keep their ONNX layouts (W stays
 * OIHW); the backend repacks them once at session creation.
 *
 * Backends that want NHWC (xnnpack) run these natively. The ref backend runs
 * them through the NCHW op: transpose the input into scratch, call the NCHW
 * kernel, transpose the result back. Slow, but a graph laid out for one
 * backend still runs on every machine (and the layout pass is testable
 * without XNNPACK).
 *
 * ToNHWC and ToNCHW are the layout changes the pass puts at the borders
 * (a Transpose with perm 0,2,3,1 or 0,3,1,2, blocked for cache and threads).
 */
#include "runtime/nhwc/nhwc_impl.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define NHWC_X86 1
#endif

/* Params block: a header naming the NCHW op, then the NCHW op's own params
 * (64-byte aligned like the block itself). */
typedef struct nhwc_hdr {
    const eai__op_def_t *inner;
    int64_t in_bytes, out_bytes; /* NCHW copies in scratch */
    size_t inner_scratch;        /* the NCHW op's own request, after the copies */
} nhwc_hdr_t;
#define HDR_BYTES 64
_Static_assert(sizeof(nhwc_hdr_t) <= HDR_BYTES, "nhwc header");

#define MAX_IO 10 /* QLinearConv takes 9 inputs, MaxPool has 2 outputs */

void eai__nhwc_to_nchw_shape(const eai__shape_t *nhwc, eai__shape_t *nchw)
{
    *nchw = *nhwc;
    nchw->d[1] = nhwc->d[3];
    nchw->d[2] = nhwc->d[1];
    nchw->d[3] = nhwc->d[2];
}

void eai__nchw_to_nhwc_shape(const eai__shape_t *nchw, eai__shape_t *nhwc)
{
    *nhwc = *nchw;
    nhwc->d[1] = nchw->d[2];
    nhwc->d[2] = nchw->d[3];
    nhwc->d[3] = nchw->d[1];
}

/* out[n][j][i] = in[n][i][j] for n < batch, i < rows, j < cols: both layout
 * changes are this with (rows, cols) = (C, HW) or (HW, C). Blocks of about
 * 1024 elements (all rows at once when there are few, as the 3 channels of
 * an image) keep both sides in L1 and give threads enough pieces. */
typedef eai__nhwc_tr_t tr_t;

#define TR_BLOCK(T)                                                                                \
    do {                                                                                           \
        const T *s = (const T *)(const void *)src;                                                 \
        T *d = (T *)(void *)dst;                                                                   \
        for (int64_t i = i0; i < i1; i++)                                                          \
            for (int64_t j = j0; j < j1; j++)                                                      \
                d[j * R + i] = s[i * C + j];                                                       \
    } while (0)

/* An image's few channels (R <= 4 rows to interleave, or C <= 4 columns to
 * split out) with R or C a constant, so the compiler vectorises the
 * interleaving: the generic tiles would run a 3-long inner loop. Float
 * images and the int8 ones of quantized graphs. */
#define TR_FEW(N, T, SUF)                                                                          \
    static void interleave_##N##SUF(T *d, const T *s, int64_t C, int64_t j0, int64_t j1)           \
    {                                                                                              \
        for (int64_t j = j0; j < j1; j++)                                                          \
            for (int i = 0; i < N; i++)                                                            \
                d[j * N + i] = s[i * C + j];                                                       \
    }                                                                                              \
    static void split_##N##SUF(T *d, const T *s, int64_t R, int64_t i0, int64_t i1)                \
    {                                                                                              \
        for (int j = 0; j < N; j++)                                                                \
            for (int64_t i = i0; i < i1; i++)                                                      \
                d[j * R + i] = s[i * N + j];                                                       \
    }
TR_FEW(2, float, _f32)
TR_FEW(3, float, _f32)
TR_FEW(4, float, _f32)
TR_FEW(2, uint8_t, _u8)
TR_FEW(3, uint8_t, _u8)
TR_FEW(4, uint8_t, _u8)

#define TR_FEW_CALL(SUF, T)                                                                        \
    do {                                                                                           \
        T *d = (T *)(void *)dst;                                                                   \
        const T *s = (const T *)(const void *)src;                                                 \
        if (R >= 2 && R <= 4) {                                                                    \
            (R == 2   ? interleave_2##SUF                                                          \
             : R == 3 ? interleave_3##SUF                                                          \
                      : interleave_4##SUF)(d, s, C, j0, j1);                                       \
            return true;                                                                           \
        }                                                                                          \
        if (C >= 2 && C <= 4) {                                                                    \
            (C == 2 ? split_2##SUF : C == 3 ? split_3##SUF : split_4##SUF)(d, s, R, i0, i1);       \
            return true;                                                                           \
        }                                                                                          \
    } while (0)

#if NHWC_X86
/* Three planes (an RGB image) interleaved by two-source permutes, a vector
 * of L pixels from each plane at a time: step 1 picks plane 0 (index k)
 * and plane 1 (L + k), step 2 keeps that (index p) or picks plane 2
 * (L + k). Output vector v, position p holds pixel k = (L v + p) / 3 of
 * plane (L v + p) % 3. GCC's vectoriser leaves the 3-way interleave
 * scalar (4 cycles a pixel; 0.1 ms of a 320x320 image). */
static void il3_index(int L, int v, int p, int *step1, int *step2)
{
    const int g = L * v + p, k = g / 3, plane = g % 3;
    *step1 = plane == 0 ? k : plane == 1 ? L + k : 0;
    *step2 = plane == 2 ? L + k : p;
}

__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static int64_t
il3_u8(uint8_t *d, const uint8_t *s, int64_t C, int64_t j0, int64_t j1)
{
    uint8_t ix[2][3][64];
    for (int v = 0; v < 3; v++)
        for (int p = 0; p < 64; p++) {
            int a, b;
            il3_index(64, v, p, &a, &b);
            ix[0][v][p] = (uint8_t)a, ix[1][v][p] = (uint8_t)b;
        }
    __m512i i1[3], i2[3];
    for (int v = 0; v < 3; v++)
        i1[v] = _mm512_loadu_si512(ix[0][v]), i2[v] = _mm512_loadu_si512(ix[1][v]);
    int64_t j = j0;
    for (; j + 64 <= j1; j += 64) {
        const __m512i a = _mm512_loadu_si512(s + j), b = _mm512_loadu_si512(s + C + j),
                      c = _mm512_loadu_si512(s + 2 * C + j);
        for (int v = 0; v < 3; v++)
            _mm512_storeu_si512(
                d + 3 * j + 64 * v,
                _mm512_permutex2var_epi8(_mm512_permutex2var_epi8(a, i1[v], b), i2[v], c));
    }
    return j;
}

__attribute__((target("avx512f"))) static int64_t il3_f32(float *d, const float *s, int64_t C,
                                                          int64_t j0, int64_t j1)
{
    int32_t ix[2][3][16];
    for (int v = 0; v < 3; v++)
        for (int p = 0; p < 16; p++) {
            int a, b;
            il3_index(16, v, p, &a, &b);
            ix[0][v][p] = a, ix[1][v][p] = b;
        }
    __m512i i1[3], i2[3];
    for (int v = 0; v < 3; v++)
        i1[v] = _mm512_loadu_si512(ix[0][v]), i2[v] = _mm512_loadu_si512(ix[1][v]);
    int64_t j = j0;
    for (; j + 16 <= j1; j += 16) {
        const __m512 a = _mm512_loadu_ps(s + j), b = _mm512_loadu_ps(s + C + j),
                     c = _mm512_loadu_ps(s + 2 * C + j);
        for (int v = 0; v < 3; v++)
            _mm512_storeu_ps(d + 3 * j + 16 * v,
                             _mm512_permutex2var_ps(_mm512_permutex2var_ps(a, i1[v], b), i2[v], c));
    }
    return j;
}
#endif

/* The SIMD part of a 3-plane interleave: returns the column it reached. */
static int64_t il3_simd(const tr_t *t, unsigned char *dst, const unsigned char *src, int64_t j0,
                        int64_t j1)
{
#if NHWC_X86
    if (t->es == 1 && __builtin_cpu_supports("avx512vbmi"))
        return il3_u8(dst, src, t->cols, j0, j1);
    if (t->es == 4 && __builtin_cpu_supports("avx512f"))
        return il3_f32((float *)(void *)dst, (const float *)(const void *)src, t->cols, j0, j1);
#else
    (void)t, (void)dst, (void)src, (void)j1;
#endif
    return j0;
}

static bool tr_few(const tr_t *t, const unsigned char *src, unsigned char *dst, int64_t i0,
                   int64_t i1, int64_t j0, int64_t j1)
{
    const int64_t R = t->rows, C = t->cols;
    if (R == 3) j0 = il3_simd(t, dst, src, j0, j1);
    if (t->es == 4) TR_FEW_CALL(_f32, float);
    if (t->es == 1) TR_FEW_CALL(_u8, uint8_t);
    return false;
}

/* A 4-byte block through a tile on the stack: each source row is read
 * whole, then each destination run of (i1 - i0) elements is written whole.
 * Written straight (d[j * R + i] = s[i * C + j], j innermost), the block
 * stores one element into each of bj rows of the output in turn; when R is a
 * multiple of 1024 those rows share an L1 set, the set overflows, and every
 * store misses (ToNCHW of 320x320x16: 4.1 ms, 1.6 GB/s). */
static void tr_block_f32(uint32_t *d, const uint32_t *s, int64_t R, int64_t C, int64_t i0,
                         int64_t i1, int64_t j0, int64_t j1)
{
    enum { TB = 32 };
    uint32_t tile[TB * TB];
    for (int64_t i = i0; i < i1; i += TB) {
        const int64_t ie = i + TB < i1 ? i + TB : i1;
        for (int64_t j = j0; j < j1; j += TB) {
            const int64_t je = j + TB < j1 ? j + TB : j1, ni = ie - i, nj = je - j;
            for (int64_t a = 0; a < ni; a++)
                memcpy(tile + a * TB, s + (i + a) * C + j, (size_t)nj * sizeof *s);
            for (int64_t b = 0; b < nj; b++) {
                uint32_t *o = d + (j + b) * R + i;
                for (int64_t a = 0; a < ni; a++)
                    o[a] = tile[a * TB + b];
            }
        }
    }
}

void eai__nhwc_tr_run(const eai__nhwc_tr_t *t, int64_t begin, int64_t end)
{
    const int64_t R = t->rows, C = t->cols, per = t->nbi * t->nbj;
    for (int64_t w = begin; w < end; w++) {
        const int64_t n = w / per, b = w % per;
        const int64_t i0 = b / t->nbj * t->bi, j0 = b % t->nbj * t->bj;
        const int64_t i1 = i0 + t->bi < R ? i0 + t->bi : R, j1 = j0 + t->bj < C ? j0 + t->bj : C;
        const unsigned char *src = t->in + (size_t)(n * R * C) * t->es;
        unsigned char *dst = t->out + (size_t)(n * R * C) * t->es;
        if (tr_few(t, src, dst, i0, i1, j0, j1)) continue;
        switch (t->es) {
        case 1:
            TR_BLOCK(uint8_t);
            break;
        case 2:
            TR_BLOCK(uint16_t);
            break;
        case 4:
            tr_block_f32((uint32_t *)(void *)dst, (const uint32_t *)(const void *)src, R, C, i0, i1,
                         j0, j1);
            break;
        case 8:
            TR_BLOCK(uint64_t);
            break;
        default:
            for (int64_t i = i0; i < i1; i++)
                for (int64_t j = j0; j < j1; j++)
                    memcpy(dst + (size_t)(j * R + i) * t->es, src + (size_t)(i * C + j) * t->es,
                           t->es);
        }
    }
}

int64_t eai__nhwc_tr_plan(eai__nhwc_tr_t *t, void *out, const void *in, int64_t batch, int64_t rows,
                          int64_t cols, size_t es)
{
    *t = (eai__nhwc_tr_t){in, out, rows, cols, 0, 0, 0, 0, es};
    if (batch * rows * cols == 0) return 0;
    t->bi = rows < 32 ? rows : 32;
    t->bj = rows <= 4 ? 1024 : 1024 / t->bi; /* few rows: whole SIMD vectors */
    if (cols <= 4) {                         /* split_N walks whole rows: blocks of many rows */
        t->bj = cols;
        t->bi = 4096;
    }
    t->nbi = (rows + t->bi - 1) / t->bi;
    t->nbj = (cols + t->bj - 1) / t->bj;
    return batch * t->nbi * t->nbj;
}

static void tr_range(void *ctx, int64_t begin, int64_t end)
{
    eai__nhwc_tr_run(ctx, begin, end);
}

static void transpose_2d(eai_threadpool_t *pool, void *out, const void *in, int64_t batch,
                         int64_t rows, int64_t cols, size_t es)
{
    tr_t t;
    int64_t n = eai__nhwc_tr_plan(&t, out, in, batch, rows, cols, es);
    eai__parallel_for(pool, n, tr_range, &t);
}

static eai_status_t nhwc_infer(eai__opctx_t *c)
{
    nhwc_hdr_t *h = c->params;
    /* the NCHW op: ONNX, edgeai's fused ops, or ONNX Runtime's QLinear* */
    const eai__op_def_t *inner = eai__op_find("", c->node->op);
    if (!inner) inner = eai__op_find("com.edgeai", c->node->op);
    if (!inner) inner = eai__op_find("com.microsoft", c->node->op);
    if (!inner || !inner->eval)
        return eai__op_fail(c, EAI_E_UNSUPPORTED, "no NCHW op '%s' to run the NHWC twin with",
                            c->node->op);
    if (c->n_in > MAX_IO || c->n_out > MAX_IO)
        return eai__op_fail(c, EAI_E_UNSUPPORTED, "too many inputs or outputs for an NHWC op");
    if (c->in[0].shape.rank != 4)
        return eai__op_fail(c, EAI_E_UNSUPPORTED,
                            "NHWC ops take 2-D images (rank 4), input 0 has rank %d",
                            c->in[0].shape.rank);
    for (int k = 1; k < c->n_out; k++)
        if (c->node->out[k] >= 0)
            return eai__op_fail(c, EAI_E_UNSUPPORTED,
                                "NHWC ops have one output (MaxPool's Indices stay NCHW)");
    eai__tview_t in[MAX_IO], out[MAX_IO];
    memcpy(in, c->in, sizeof *in * (size_t)c->n_in);
    memcpy(out, c->out, sizeof *out * (size_t)c->n_out);
    eai__nhwc_to_nchw_shape(&c->in[0].shape, &in[0].shape);
    eai__opctx_t ic = *c;
    ic.in = in;
    ic.out = out;
    ic.params = (char *)c->params + HDR_BYTES;
    ic.scratch_bytes = 0;
    EAI_TRY(inner->infer(&ic));
    if (out[0].shape.rank != 4)
        return eai__op_fail(c, EAI_E_UNSUPPORTED, "NHWC op output has rank %d, expected 4",
                            out[0].shape.rank);
    c->out[0].dtype = out[0].dtype;
    eai__nchw_to_nhwc_shape(&out[0].shape, &c->out[0].shape);
    h->inner = inner;
    const size_t es = eai_dtype_size(c->in[0].dtype);
    h->in_bytes = (int64_t)EAI_ALIGN_UP((size_t)eai__shape_numel(&c->in[0].shape) * es, EAI_ALIGN);
    h->out_bytes = (int64_t)EAI_ALIGN_UP(
        (size_t)eai__shape_numel(&c->out[0].shape) * eai_dtype_size(out[0].dtype), EAI_ALIGN);
    h->inner_scratch = ic.scratch_bytes;
    c->scratch_bytes = (size_t)(h->in_bytes + h->out_bytes) + ic.scratch_bytes;
    return EAI_OK;
}

static eai_status_t nhwc_eval(eai__opctx_t *c)
{
    const nhwc_hdr_t *h = c->params;
    eai__tview_t in[MAX_IO], out[MAX_IO];
    memcpy(in, c->in, sizeof *in * (size_t)c->n_in);
    memcpy(out, c->out, sizeof *out * (size_t)c->n_out);
    eai__nhwc_to_nchw_shape(&c->in[0].shape, &in[0].shape);
    eai__nhwc_to_nchw_shape(&c->out[0].shape, &out[0].shape);
    char *s = c->scratch;
    in[0].data = s;
    out[0].data = s + h->in_bytes;
    const eai__shape_t *x = &c->in[0].shape, *y = &c->out[0].shape;
    transpose_2d(c->pool, in[0].data, c->in[0].data, x->d[0], x->d[1] * x->d[2], x->d[3],
                 eai_dtype_size(c->in[0].dtype));
    eai__opctx_t ic = *c;
    ic.in = in;
    ic.out = out;
    ic.params = (char *)c->params + HDR_BYTES;
    ic.scratch = s + h->in_bytes + h->out_bytes;
    ic.scratch_bytes = h->inner_scratch; /* kernels may size their tiles by it */
    EAI_TRY(h->inner->eval(&ic));
    transpose_2d(c->pool, c->out[0].data, out[0].data, y->d[0], y->d[3], y->d[1] * y->d[2],
                 eai_dtype_size(c->out[0].dtype));
    return EAI_OK;
}

/* ---- ToNHWC / ToNCHW: the layout changes the pass places at the borders ---- */

static eai_status_t relayout_infer(eai__opctx_t *c, bool to_nhwc)
{
    const eai__shape_t *x = &c->in[0].shape;
    if (x->rank != 4)
        return eai__op_fail(c, EAI_E_FORMAT, "input has rank %d, expected 4", x->rank);
    if (eai_dtype_size(c->in[0].dtype) == 0)
        return eai__op_fail(c, EAI_E_UNSUPPORTED, "dtype %s is not supported",
                            eai_dtype_name(c->in[0].dtype));
    c->out[0].dtype = c->in[0].dtype;
    if (to_nhwc)
        eai__nchw_to_nhwc_shape(x, &c->out[0].shape);
    else
        eai__nhwc_to_nchw_shape(x, &c->out[0].shape);
    return EAI_OK;
}

static eai_status_t to_nhwc_infer(eai__opctx_t *c)
{
    return relayout_infer(c, true);
}

static eai_status_t to_nchw_infer(eai__opctx_t *c)
{
    return relayout_infer(c, false);
}

static eai_status_t to_nhwc_eval(eai__opctx_t *c)
{
    const eai__shape_t *x = &c->in[0].shape;
    transpose_2d(c->pool, c->out[0].data, c->in[0].data, x->d[0], x->d[1], x->d[2] * x->d[3],
                 eai_dtype_size(c->in[0].dtype));
    return EAI_OK;
}

static eai_status_t to_nchw_eval(eai__opctx_t *c)
{
    const eai__shape_t *x = &c->in[0].shape;
    transpose_2d(c->pool, c->out[0].data, c->in[0].data, x->d[0], x->d[1] * x->d[2], x->d[3],
                 eai_dtype_size(c->in[0].dtype));
    return EAI_OK;
}

const eai__op_def_t *eai__nhwc_inner(const eai__opctx_t *c)
{
    return ((const nhwc_hdr_t *)c->params)->inner;
}

const void *eai__nhwc_inner_params(const eai__opctx_t *c)
{
    return (const char *)c->params + HDR_BYTES;
}

/* Counts as in the NCHW ops; infer checks the rest through them. */
const eai__op_def_t eai__nhwc_ops[] = {
    {"Conv", 0, 2, 3, 1, 1, nhwc_infer, nhwc_eval},
    {"FusedConv", 0, 2, 3, 1, 1, nhwc_infer, nhwc_eval},
    {"ConvTranspose", 0, 2, 3, 1, 1, nhwc_infer, nhwc_eval},
    {"MaxPool", 0, 1, 1, 1, 2, nhwc_infer, nhwc_eval},
    {"AveragePool", 0, 1, 1, 1, 1, nhwc_infer, nhwc_eval},
    {"GlobalAveragePool", 0, 1, 1, 1, 1, nhwc_infer, nhwc_eval},
    {"GlobalMaxPool", 0, 1, 1, 1, 1, nhwc_infer, nhwc_eval},
    {"QLinearConv", 0, 8, 9, 1, 1, nhwc_infer, nhwc_eval},
    {"QLinearGlobalAveragePool", 0, 5, 5, 1, 1, nhwc_infer, nhwc_eval},
    {"ToNHWC", 0, 1, 1, 1, 1, to_nhwc_infer, to_nhwc_eval},
    {"ToNCHW", 0, 1, 1, 1, 1, to_nchw_infer, to_nchw_eval},
    {0},
};
