/* Op family 'gemm' (ref backend): eai__sgemm, the packed cache-blocked GEMM
 * that every matrix op of the ref backend runs on, and the MatMul and Gemm ops.
 *
 * The one idea (BLIS/GotoBLAS): B is packed into NR-wide column slivers of a
 * KC x NC block held on the stack (eval never allocates), A is read in place,
 * and an MR x NR register-blocked micro-kernel written as plain C loops does
 * the arithmetic. On x86 with GCC or clang the same C is compiled again for
 * AVX2+FMA and AVX-512 and the widest one the CPU runs is picked per call.
 */
#include "runtime/ref/conv_impl.h" /* eai__sgemm_bias */

/* ---- micro-kernels ---- */

#if defined(__clang__)
#define UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define UNROLL _Pragma("GCC unroll 32")
#else
#define UNROLL
#endif

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) &&                             \
    !defined(EAI_GEMM_GENERIC_ONLY)
#define GEMM_X86 1
#endif

/* c[MR x NR] = alpha * a[MR x kc] * b[kc x NR] + beta * c + bias[i] (beta 0:
 * c is not read; bias NULL: none). a(i, k) = a[i * rs_a + k * cs_a]; b is one packed sliver, NR
 * floats per k. The accumulators are a local array with constant bounds: fully unrolled, the
 * compiler keeps them in vector registers. (A fused activation is applied by gemm_block to the
 * finished panel: a clamp folded into this epilogue made GCC 12 stop keeping the accumulators in
 * vector registers, the whole kernel went scalar.) */
typedef void (*ukernel_fn)(int64_t kc, const float *a, int64_t rs_a, int64_t cs_a, const float *b,
                           float *c, int64_t ldc, float alpha, float beta, const float *bias);

#define MUL_ADD(x, y, z) ((x) * (y) + (z))

#define DEFINE_UKERNEL(name, MR, NR, ATTR, MADD)                                                   \
    ATTR static void name(int64_t kc, const float *a, int64_t rs_a, int64_t cs_a, const float *b,  \
                          float *c, int64_t ldc, float alpha, float beta, const float *bias)       \
    {                                                                                              \
        float acc[MR][NR];                                                                         \
        UNROLL for (int i = 0; i < MR; i++) UNROLL for (int j = 0; j < NR; j++) acc[i][j] = 0;     \
        for (int64_t k = 0; k < kc; k++, b += NR) {                                                \
            UNROLL for (int i = 0; i < MR; i++)                                                    \
            {                                                                                      \
                const float ai = a[i * rs_a + k * cs_a];                                           \
                UNROLL for (int j = 0; j < NR; j++) acc[i][j] = MADD(ai, b[j], acc[i][j]);         \
            }                                                                                      \
        }                                                                                          \
        float bv[MR];                                                                              \
        UNROLL for (int i = 0; i < MR; i++) bv[i] = bias ? bias[i] : 0.0f;                         \
        if (beta == 0.0f) {                                                                        \
            UNROLL for (int i = 0; i < MR; i++) UNROLL for (int j = 0; j < NR; j++)                \
                c[i * ldc + j] = alpha * acc[i][j] + bv[i];                                        \
        } else {                                                                                   \
            UNROLL for (int i = 0; i < MR; i++) UNROLL for (int j = 0; j < NR; j++)                \
                c[i * ldc + j] = alpha * acc[i][j] + beta * c[i * ldc + j] + bv[i];                \
        }                                                                                          \
    }

/* 4x16: 16 accumulators of 4 lanes (SSE2, NEON) or 8 of 8 (AVX2) leave
 * registers for the B row and the A broadcasts; measured best of 4x8, 6x8,
 * 6x16 with baseline x86-64 and AVX2 code. */
DEFINE_UKERNEL(ukernel_4x16, 4, 16, , MUL_ADD)
#if GEMM_X86
/* fmaf: ISO C mode (-std=c11) turns off GCC's contraction of a*b+c, and
 * fmaf is what a target with FMA vectorizes into vfmadd. (clang reaches
 * about half of GCC's speed on these kernels: it spills accumulators.) */
DEFINE_UKERNEL(ukernel_4x16_avx2, 4, 16, __attribute__((target("avx2,fma"))), fmaf)
/* 8x32: 16 zmm accumulators of 32 registers; 8x32 beat 6x16, 12x32, 14x16. */
DEFINE_UKERNEL(ukernel_8x32_avx512, 8, 32, __attribute__((target("avx512f,fma"))), fmaf)
#endif

#define MR_MAX 8
#define NR_MAX 32

typedef struct ukernel {
    int mr, nr;
    ukernel_fn fn;
} ukernel_t;

static ukernel_t pick_ukernel(void)
{
#if GEMM_X86
    /* __builtin_cpu_supports also checks that the OS saves the wide registers */
#ifndef EAI_GEMM_NO_AVX512
    if (__builtin_cpu_supports("avx512f")) return (ukernel_t){8, 32, ukernel_8x32_avx512};
#endif
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return (ukernel_t){4, 16, ukernel_4x16_avx2};
#endif
    return (ukernel_t){4, 16, ukernel_4x16};
}

/* ---- blocking ---- */

/* K block: a B sliver (KC x NR) plus an A sliver (MR x KC) stay in L1. */
#define KC 256
/* The packed B block (KC x NC) lives on the stack of each thread: 32 KiB
 * (NC 32 measured as fast as 64 and 128 on the MobileNet and 256^3 shapes). */
#define BP_FLOATS (KC * 32)
/* Below this many multiply-adds a job is not worth waking the pool for. */
#define PAR_MIN_MACS (1 << 18)

typedef struct gemm_args {
    ukernel_t uk;
    bool ta, tb;
    int64_t M, N, K;
    float alpha, beta;
    const float *A;
    int64_t lda;
    const float *B;
    int64_t ldb;
    float *C;
    int64_t ldc;
    const float *bias;     /* per row of C, or NULL */
    const eai__act_t *act; /* applied to each finished tile, or NULL */
    bool split_n;          /* threads take column ranges (else row ranges) */
} gemm_args_t;

/* Packs op(B)[pc:pc+kc, jc:jc+nc] into slivers of nr columns, zero-padding
 * the last sliver so the micro-kernel never branches. */
static void pack_b(const gemm_args_t *g, float *bp, int64_t pc, int64_t kc, int64_t jc, int64_t nc)
{
    const int nr = g->uk.nr;
    for (int64_t s = 0; s < nc; s += nr, bp += kc * nr) {
        const int64_t w = nc - s < nr ? nc - s : nr;
        if (!g->tb) {
            const float *src = g->B + pc * g->ldb + jc + s;
            if (w == nr && nr == 32) {
                /* constant sizes: inlined vector moves, not a libc call per row */
                for (int64_t k = 0; k < kc; k++, src += g->ldb)
                    memcpy(bp + k * 32, src, 32 * sizeof(float));
                continue;
            }
            if (w == nr && nr == 16) {
                for (int64_t k = 0; k < kc; k++, src += g->ldb)
                    memcpy(bp + k * 16, src, 16 * sizeof(float));
                continue;
            }
            for (int64_t k = 0; k < kc; k++, src += g->ldb) {
                memcpy(bp + k * nr, src, (size_t)w * sizeof(float));
                for (int64_t j = w; j < nr; j++)
                    bp[k * nr + j] = 0.0f;
            }
        } else {
            for (int64_t j = 0; j < nr; j++) {
                if (j >= w) {
                    for (int64_t k = 0; k < kc; k++)
                        bp[k * nr + j] = 0.0f;
                    continue;
                }
                const float *src = g->B + (jc + s + j) * g->ldb + pc;
                for (int64_t k = 0; k < kc; k++)
                    bp[k * nr + j] = src[k];
            }
        }
    }
}

/* C[m0:m1, n0:n1] on the calling thread. */
static void gemm_block(const gemm_args_t *g, int64_t m0, int64_t m1, int64_t n0, int64_t n1)
{
    _Alignas(64) float bp[BP_FLOATS];
    _Alignas(64) float apad[MR_MAX * KC];
    _Alignas(64) float ctmp[MR_MAX * NR_MAX];
    const int mr = g->uk.mr, nr = g->uk.nr;
    const int64_t nc_max = (BP_FLOATS / (KC * nr)) * nr;
    const int64_t rs_a = g->ta ? 1 : g->lda, cs_a = g->ta ? g->lda : 1;

    for (int64_t jc = n0; jc < n1; jc += nc_max) {
        const int64_t nc = n1 - jc < nc_max ? n1 - jc : nc_max;
        for (int64_t pc = 0; pc < g->K; pc += KC) {
            const int64_t kc = g->K - pc < KC ? g->K - pc : KC;
            pack_b(g, bp, pc, kc, jc, nc);
            /* beta and bias apply once; later K blocks accumulate into C;
             * the activation applies to the panel once its last K block is in */
            const float beta = pc == 0 ? g->beta : 1.0f;
            const eai__act_t *act = pc + kc >= g->K ? g->act : NULL;
            for (int64_t ir = m0; ir < m1; ir += mr) {
                const int64_t mh = m1 - ir < mr ? m1 - ir : mr;
                const float *a = g->A + ir * rs_a + pc * cs_a;
                int64_t ars = rs_a, acs = cs_a;
                if (mh < mr) {
                    /* last rows: a zero-padded copy keeps the kernel full-size */
                    for (int64_t i = 0; i < mr; i++)
                        for (int64_t k = 0; k < kc; k++)
                            apad[i * kc + k] = i < mh ? a[i * rs_a + k * cs_a] : 0.0f;
                    a = apad, ars = kc, acs = 1;
                }
                for (int64_t jr = 0; jr < nc; jr += nr) {
                    const int64_t nh = nc - jr < nr ? nc - jr : nr;
                    float *cp = g->C + ir * g->ldc + jc + jr;
                    const float *b = bp + jr * kc;
                    const float *bias = pc == 0 && g->bias ? g->bias + ir : NULL;
                    if (mh == mr && nh == nr) {
                        g->uk.fn(kc, a, ars, acs, b, cp, g->ldc, g->alpha, beta, bias);
                        continue;
                    }
                    g->uk.fn(kc, a, ars, acs, b, ctmp, nr, 1.0f, 0.0f, NULL);
                    for (int64_t i = 0; i < mh; i++)
                        for (int64_t j = 0; j < nh; j++) {
                            float v = g->alpha * ctmp[i * nr + j] + (bias ? bias[i] : 0.0f);
                            cp[i * g->ldc + j] = beta == 0.0f ? v : v + beta * cp[i * g->ldc + j];
                        }
                }
            }
            /* the finished panel, m1 - m0 rows of nc <= 32 columns, is still in L1
             * (one call per panel: per micro-tile the call cost more than it saved) */
            if (act) eai__act_apply_2d(act, g->C + m0 * g->ldc + jc, g->ldc, m1 - m0, nc);
        }
    }
}

static void gemm_task(void *ctx, int ith, int nth)
{
    const gemm_args_t *g = ctx;
    if (g->split_n) {
        const int64_t tiles = (g->N + g->uk.nr - 1) / g->uk.nr;
        int64_t n0 = tiles * ith / nth * g->uk.nr, n1 = tiles * (ith + 1) / nth * g->uk.nr;
        if (n1 > g->N) n1 = g->N;
        if (n0 < n1) gemm_block(g, 0, g->M, n0, n1);
    } else {
        const int64_t tiles = (g->M + g->uk.mr - 1) / g->uk.mr;
        int64_t m0 = tiles * ith / nth * g->uk.mr, m1 = tiles * (ith + 1) / nth * g->uk.mr;
        if (m1 > g->M) m1 = g->M;
        if (m0 < m1) gemm_block(g, m0, m1, 0, g->N);
    }
}

/* ---- matrix-vector (M == 1 or N == 1): memory-bound, packing would only
 * add traffic ---- */

typedef struct gemv_args {
    int64_t n, k;
    float alpha, beta;
    const float *x; /* k values, stride incx */
    int64_t incx;
    const float *p; /* P(k, j) = trans ? p[j * ldp + k] : p[k * ldp + j] */
    int64_t ldp;
    bool trans;
    float *y; /* n values, stride incy */
    int64_t incy;
} gemv_args_t;

#define LANES 16

static float dot_f32(const float *x, const float *y, int64_t n)
{
    /* LANES partial sums: a fixed-size inner loop vectorizes without
     * reassociation flags */
    float acc[LANES] = {0};
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int l = 0; l < LANES; l++)
            acc[l] += x[i + l] * y[i + l];
    float s = 0.0f;
    for (; i < n; i++)
        s += x[i] * y[i];
    for (int l = 0; l < LANES; l++)
        s += acc[l];
    return s;
}

/* y[0:n] += a * x[0:n] (restrict on parameters, which GCC honours). */
static void axpy(float *restrict y, const float *restrict x, float a, int64_t n)
{
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int l = 0; l < LANES; l++)
            y[i + l] += a * x[i + l];
    for (; i < n; i++)
        y[i] += a * x[i];
}

static void gemv_range(void *ctx, int64_t j0, int64_t j1)
{
    const gemv_args_t *g = ctx;
    if (g->trans) {
        for (int64_t j = j0; j < j1; j++) {
            const float *row = g->p + j * g->ldp;
            float s;
            if (g->incx == 1) {
                s = dot_f32(g->x, row, g->k);
            } else {
                s = 0.0f;
                for (int64_t k = 0; k < g->k; k++)
                    s += g->x[k * g->incx] * row[k];
            }
            float *y = g->y + j * g->incy;
            *y = g->beta == 0.0f ? g->alpha * s : g->alpha * s + g->beta * *y;
        }
        return;
    }
    /* rows of P stream once: y = beta*y, then y += (alpha*x_k) * P(k, :) */
    for (int64_t j = j0; j < j1; j++) {
        float *y = g->y + j * g->incy;
        *y = g->beta == 0.0f ? 0.0f : g->beta * *y;
    }
    for (int64_t k = 0; k < g->k; k++) {
        const float xk = g->alpha * g->x[k * g->incx];
        const float *row = g->p + k * g->ldp;
        if (g->incy != 1) {
            for (int64_t j = j0; j < j1; j++)
                g->y[j * g->incy] += xk * row[j];
            continue;
        }
        axpy(g->y + j0, row + j0, xk, j1 - j0);
    }
}

static void gemv(eai_threadpool_t *pool, const gemv_args_t *g)
{
    if (pool && g->n * g->k >= PAR_MIN_MACS && g->n >= 2 * LANES) {
        eai__parallel_for(pool, g->n, gemv_range, (void *)g);
        return;
    }
    gemv_range((void *)g, 0, g->n);
}

void eai__sgemm(eai_threadpool_t *pool, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                float alpha, const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                float *C, int64_t ldc)
{
    eai__sgemm_bias(pool, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, NULL, C, ldc);
}

/* C[i, :] += bias[i]: the rare shapes whose epilogue is not the kernel's. */
static void add_rows(float *C, int64_t ldc, int64_t M, int64_t N, const float *bias)
{
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++)
            C[i * ldc + j] += bias[i];
}

void eai__sgemm_bias(eai_threadpool_t *pool, bool trans_a, bool trans_b, int64_t M, int64_t N,
                     int64_t K, float alpha, const float *A, int64_t lda, const float *B,
                     int64_t ldb, float beta, const float *bias, float *C, int64_t ldc)
{
    eai__sgemm_act(pool, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, bias, NULL, C,
                   ldc);
}

void eai__sgemm_act(eai_threadpool_t *pool, bool trans_a, bool trans_b, int64_t M, int64_t N,
                    int64_t K, float alpha, const float *A, int64_t lda, const float *B,
                    int64_t ldb, float beta, const float *bias, const eai__act_t *act, float *C,
                    int64_t ldc)
{
    if (M <= 0 || N <= 0) return;
    if (act && act->kind == EAI__ACT_NONE) act = NULL;
    if (K <= 0 || alpha == 0.0f) {
        /* BLAS convention: beta 0 overwrites C (NaN included) */
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++)
                C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
        if (bias) add_rows(C, ldc, M, N, bias);
        if (act) eai__act_apply_2d(act, C, ldc, M, N);
        return;
    }
    if (M == 1) {
        gemv_args_t g = {N, K, alpha, beta, A, trans_a ? lda : 1, B, ldb, trans_b, C, 1};
        gemv(pool, &g);
        if (bias) add_rows(C, ldc, M, N, bias);
        if (act) eai__act_apply_2d(act, C, ldc, M, N);
        return;
    }
    if (N == 1) {
        /* C^T = op(B)^T op(A)^T: x is op(B)'s column, P(k, i) = op(A)(i, k) */
        gemv_args_t g = {M, K, alpha, beta, B, trans_b ? 1 : ldb, A, lda, !trans_a, C, ldc};
        gemv(pool, &g);
        if (bias) add_rows(C, ldc, M, N, bias);
        if (act) eai__act_apply_2d(act, C, ldc, M, N);
        return;
    }
    gemm_args_t g = {
        .uk = pick_ukernel(),
        .ta = trans_a,
        .tb = trans_b,
        .M = M,
        .N = N,
        .K = K,
        .alpha = alpha,
        .beta = beta,
        .A = A,
        .lda = lda,
        .B = B,
        .ldb = ldb,
        .C = C,
        .ldc = ldc,
        .bias = bias,
        .act = act,
    };
    int nth = eai_threadpool_size(pool);
    if (!pool || nth <= 1 || M * N * K < PAR_MIN_MACS) {
        gemm_block(&g, 0, M, 0, N);
        return;
    }
    /* Columns first: each thread then packs a disjoint part of B once. */
    const int64_t nt = (N + g.uk.nr - 1) / g.uk.nr, mt = (M + g.uk.mr - 1) / g.uk.mr;
    g.split_n = nt >= 4 * (int64_t)nth || nt >= mt;
    eai_threadpool_run(pool, gemm_task, &g);
}

/* ---- MatMul (opset 1/9/13: numpy matmul semantics) ---- */

typedef struct matmul_params {
    int64_t M, N, K;
    int nb; /* broadcast batch rank of the output */
    int64_t n_batch;
    int64_t bdims[EAI_MAX_RANK];
    int64_t sa[EAI_MAX_RANK], sb[EAI_MAX_RANK]; /* element strides, 0 = broadcast */
    bool fold_m; /* A's batch is contiguous and B has none: one GEMM of M * n_batch rows */
} matmul_params_t;
_Static_assert(sizeof(matmul_params_t) <= EAI__PARAMS_BYTES, "matmul params");

/* Element strides of a batch prefix `d[0:n]` (matrices of `mat` elements)
 * aligned to the right of an output batch of rank nb. */
static void batch_strides(const int64_t *d, int n, int64_t mat, const int64_t *bdims, int nb,
                          int64_t *s)
{
    int64_t st = mat;
    for (int i = nb - 1; i >= 0; i--) {
        int j = i - (nb - n);
        if (j < 0) {
            s[i] = 0;
            continue;
        }
        s[i] = (d[j] == 1 && bdims[i] != 1) ? 0 : st;
        st *= d[j];
    }
}

static eai_status_t matmul_infer(eai__opctx_t *c)
{
    EAI_TRY(eai__op_f32(c, 0));
    EAI_TRY(eai__op_f32(c, 1));
    const eai__shape_t *a = &c->in[0].shape, *b = &c->in[1].shape;
    if (a->rank < 1 || b->rank < 1)
        return eai__op_fail(c, EAI_E_FORMAT, "inputs have ranks %d and %d; MatMul needs >= 1",
                            a->rank, b->rank);
    matmul_params_t *p = c->params;
    /* numpy: a 1-D A is a row [1, K], a 1-D B a column [K, 1]; both extra
     * dims are dropped from the result */
    p->M = a->rank == 1 ? 1 : a->d[a->rank - 2];
    const int64_t ka = a->d[a->rank - 1];
    const int64_t kb = b->rank == 1 ? b->d[0] : b->d[b->rank - 2];
    p->N = b->rank == 1 ? 1 : b->d[b->rank - 1];
    if (ka != kb)
        return eai__op_fail(c, EAI_E_FORMAT,
                            "inner dimensions differ: A has K=%lld (last dim), B has K=%lld",
                            (long long)ka, (long long)kb);
    p->K = ka;
    eai__shape_t ba = {.rank = a->rank > 2 ? a->rank - 2 : 0};
    eai__shape_t bb = {.rank = b->rank > 2 ? b->rank - 2 : 0};
    memcpy(ba.d, a->d, sizeof(int64_t) * (size_t)ba.rank);
    memcpy(bb.d, b->d, sizeof(int64_t) * (size_t)bb.rank);
    eai__shape_t bo;
    EAI_TRY(eai__op_broadcast(c, &ba, &bb, &bo));
    p->nb = bo.rank;
    p->n_batch = 1;
    for (int i = 0; i < bo.rank; i++) {
        p->bdims[i] = bo.d[i];
        p->n_batch *= bo.d[i];
    }
    batch_strides(ba.d, ba.rank, p->M * p->K, p->bdims, p->nb, p->sa);
    batch_strides(bb.d, bb.rank, p->K * p->N, p->bdims, p->nb, p->sb);
    bool a_full = ba.rank == bo.rank, b_none = true;
    for (int i = 0; i < bo.rank; i++) {
        a_full &= ba.d[i] == bo.d[i];
        b_none &= p->sb[i] == 0;
    }
    p->fold_m = a_full && b_none;

    eai__shape_t *o = &c->out[0].shape;
    *o = bo;
    if (a->rank > 1) o->d[o->rank++] = p->M;
    if (b->rank > 1) o->d[o->rank++] = p->N;
    c->out[0].dtype = EAI_F32;
    return EAI_OK;
}

typedef struct matmul_job {
    const matmul_params_t *p;
    const float *a, *b;
    float *y;
    eai_threadpool_t *pool; /* for each GEMM; NULL when batches run in parallel */
} matmul_job_t;

static void matmul_batches(void *ctx, int64_t b0, int64_t b1)
{
    const matmul_job_t *j = ctx;
    const matmul_params_t *p = j->p;
    for (int64_t bi = b0; bi < b1; bi++) {
        int64_t oa = 0, ob = 0, rem = bi;
        for (int i = p->nb - 1; i >= 0; i--) {
            int64_t idx = rem % p->bdims[i];
            rem /= p->bdims[i];
            oa += idx * p->sa[i];
            ob += idx * p->sb[i];
        }
        eai__sgemm(j->pool, false, false, p->M, p->N, p->K, 1.0f, j->a + oa, p->K, j->b + ob, p->N,
                   0.0f, j->y + bi * p->M * p->N, p->N);
    }
}

static eai_status_t matmul_eval(eai__opctx_t *c)
{
    const matmul_params_t *p = c->params;
    matmul_job_t j = {p, c->in[0].data, c->in[1].data, c->out[0].data, c->pool};
    if (p->n_batch == 0 || p->M == 0 || p->N == 0) return EAI_OK;
    if (p->fold_m) {
        eai__sgemm(c->pool, false, false, p->M * p->n_batch, p->N, p->K, 1.0f, j.a, p->K, j.b, p->N,
                   0.0f, j.y, p->N);
        return EAI_OK;
    }
    /* many small products (attention heads): one whole GEMM per thread */
    if (c->pool && p->n_batch > 1 && p->M * p->N * p->K < PAR_MIN_MACS) {
        j.pool = NULL;
        eai__parallel_for(c->pool, p->n_batch, matmul_batches, &j);
        return EAI_OK;
    }
    matmul_batches(&j, 0, p->n_batch);
    return EAI_OK;
}

/* ---- Gemm (opset 11/13: C optional, unidirectional broadcast) ---- */

typedef struct gemm_params {
    int64_t M, N, K;
    bool ta, tb, has_c;
    float alpha, beta;
    int64_t cs_m, cs_n; /* C's element strides over Y's rows and columns (0 = broadcast) */
    eai__act_t act;     /* FusedGemm's activation (NONE for Gemm) */
} gemm_params_t;
_Static_assert(sizeof(gemm_params_t) <= EAI__PARAMS_BYTES, "gemm params");

eai_status_t eai__gemm_infer_act(eai__opctx_t *c, const eai__act_t *act)
{
    EAI_TRY(eai__op_f32(c, 0));
    EAI_TRY(eai__op_f32(c, 1));
    const eai__shape_t *a = &c->in[0].shape, *b = &c->in[1].shape;
    if (a->rank != 2 || b->rank != 2)
        return eai__op_fail(c, EAI_E_FORMAT, "A and B must be 2-D, got ranks %d and %d", a->rank,
                            b->rank);
    gemm_params_t *p = c->params;
    int64_t ta, tb;
    EAI_TRY(eai__op_int(c, "transA", 0, &ta));
    EAI_TRY(eai__op_int(c, "transB", 0, &tb));
    EAI_TRY(eai__op_float(c, "alpha", 1.0f, &p->alpha));
    EAI_TRY(eai__op_float(c, "beta", 1.0f, &p->beta));
    p->ta = ta != 0;
    p->tb = tb != 0;
    p->M = p->ta ? a->d[1] : a->d[0];
    p->K = p->ta ? a->d[0] : a->d[1];
    const int64_t kb = p->tb ? b->d[1] : b->d[0];
    p->N = p->tb ? b->d[0] : b->d[1];
    if (kb != p->K)
        return eai__op_fail(c, EAI_E_FORMAT,
                            "inner dimensions differ: op(A) is [%lld,%lld], op(B) is [%lld,%lld] "
                            "(transA=%d, transB=%d)",
                            (long long)p->M, (long long)p->K, (long long)kb, (long long)p->N,
                            (int)p->ta, (int)p->tb);
    p->has_c = eai__has_in(c, 2);
    if (p->has_c) {
        EAI_TRY(eai__op_f32(c, 2));
        const eai__shape_t *cs = &c->in[2].shape;
        /* unidirectional: C's dims, aligned right, are 1 or equal Y's */
        const int64_t ym[2] = {p->M, p->N};
        if (cs->rank > 2)
            return eai__op_fail(c, EAI_E_FORMAT, "C has rank %d, expected at most 2", cs->rank);
        int64_t st[2] = {0, 0}, s = 1;
        for (int i = 1; i >= 2 - cs->rank; i--) {
            int64_t d = cs->d[i - (2 - cs->rank)];
            if (d != 1 && d != ym[i])
                return eai__op_fail(
                    c, EAI_E_FORMAT, "C's shape does not broadcast to [%lld,%lld] (dim %d is %lld)",
                    (long long)p->M, (long long)p->N, i - (2 - cs->rank), (long long)d);
            st[i] = d == 1 ? 0 : s;
            s *= d;
        }
        p->cs_m = st[0];
        p->cs_n = st[1];
    }
    if (act) p->act = *act;
    c->out[0].dtype = EAI_F32;
    c->out[0].shape = (eai__shape_t){.rank = 2, .d = {p->M, p->N}};
    return EAI_OK;
}

static eai_status_t gemm_infer(eai__opctx_t *c)
{
    return eai__gemm_infer_act(c, NULL);
}

eai_status_t eai__gemm_eval(eai__opctx_t *c)
{
    const gemm_params_t *p = c->params;
    float *y = c->out[0].data;
    float beta = 0.0f;
    if (p->has_c && p->beta != 0.0f) {
        const float *cv = c->in[2].data;
        for (int64_t i = 0; i < p->M; i++)
            for (int64_t j = 0; j < p->N; j++)
                y[i * p->N + j] = cv[i * p->cs_m + j * p->cs_n];
        beta = p->beta;
    }
    const int64_t lda = p->ta ? p->M : p->K, ldb = p->tb ? p->K : p->N;
    eai__sgemm_act(c->pool, p->ta, p->tb, p->M, p->N, p->K, p->alpha, c->in[0].data, lda,
                   c->in[1].data, ldb, beta, NULL, &p->act, y, p->N);
    return EAI_OK;
}

const eai__op_def_t eai__ref_ops_gemm[] = {
    {"MatMul", 0, 2, 2, 1, 1, matmul_infer, matmul_eval},
    {"Gemm", 0, 2, 3, 1, 1, gemm_infer, eai__gemm_eval},
    {0},
};
