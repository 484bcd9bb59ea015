/* Op family 'quant' (ref backend): the int8 dot-product kernel and the
 * matrix ops on it: QLinearMatMul and MatMulInteger (ONNX opset 10) and
 * com.microsoft QGemm (ONNX Runtime's quantized Gemm, per-column B scales).
 *
 * The one idea: every int8 product is a dot product along K of a row of
 * int8 weights and a row of uint8 activations (int8 activations are shifted
 * by +128, and the shift is taken back with the weight row's sum). That is
 * the form x86 VNNI (vpdpbusd) and ARM dot-product instructions compute, and
 * plain C that GCC vectorises into them. Shapes other than the fast one
 * (weights int8 with zero point 0) take a plain int32 loop.
 */
#include "runtime/ref/quant_impl.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define QDOT_X86 1
#endif

/* ---- kernel ---- */

/* 4 weight rows x 4 activation rows per pass: 16 independent reductions
 * along k, each one vector accumulator after vectorisation. */
#define DEFINE_QDOT(name, ATTR)                                                                    \
    ATTR static void name(int64_t m, int64_t n, int64_t k, const int8_t *w, int64_t ldw,           \
                          const uint8_t *x, int64_t ldx, int32_t *acc, int64_t ldc)                \
    {                                                                                              \
        int64_t i = 0;                                                                             \
        for (; i + 4 <= m; i += 4) {                                                               \
            const int8_t *restrict w0 = w + i * ldw, *restrict w1 = w0 + ldw,                      \
                                   *restrict w2 = w1 + ldw, *restrict w3 = w2 + ldw;               \
            int64_t j = 0;                                                                         \
            for (; j + 4 <= n; j += 4) {                                                           \
                const uint8_t *restrict x0 = x + j * ldx, *restrict x1 = x0 + ldx,                 \
                                        *restrict x2 = x1 + ldx, *restrict x3 = x2 + ldx;          \
                int32_t s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;    \
                int32_t s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;    \
                for (int64_t t = 0; t < k; t++) {                                                  \
                    const int32_t a0 = w0[t], a1 = w1[t], a2 = w2[t], a3 = w3[t];                  \
                    const int32_t b0 = x0[t], b1 = x1[t], b2 = x2[t], b3 = x3[t];                  \
                    s00 += a0 * b0, s01 += a0 * b1, s02 += a0 * b2, s03 += a0 * b3;                \
                    s10 += a1 * b0, s11 += a1 * b1, s12 += a1 * b2, s13 += a1 * b3;                \
                    s20 += a2 * b0, s21 += a2 * b1, s22 += a2 * b2, s23 += a2 * b3;                \
                    s30 += a3 * b0, s31 += a3 * b1, s32 += a3 * b2, s33 += a3 * b3;                \
                }                                                                                  \
                int32_t *c0 = acc + i * ldc + j;                                                   \
                c0[0] = s00, c0[1] = s01, c0[2] = s02, c0[3] = s03;                                \
                c0 += ldc;                                                                         \
                c0[0] = s10, c0[1] = s11, c0[2] = s12, c0[3] = s13;                                \
                c0 += ldc;                                                                         \
                c0[0] = s20, c0[1] = s21, c0[2] = s22, c0[3] = s23;                                \
                c0 += ldc;                                                                         \
                c0[0] = s30, c0[1] = s31, c0[2] = s32, c0[3] = s33;                                \
            }                                                                                      \
            for (; j < n; j++) {                                                                   \
                const uint8_t *restrict x0 = x + j * ldx;                                          \
                int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;                                            \
                for (int64_t t = 0; t < k; t++) {                                                  \
                    const int32_t b = x0[t];                                                       \
                    s0 += w0[t] * b, s1 += w1[t] * b, s2 += w2[t] * b, s3 += w3[t] * b;            \
                }                                                                                  \
                acc[i * ldc + j] = s0, acc[(i + 1) * ldc + j] = s1;                                \
                acc[(i + 2) * ldc + j] = s2, acc[(i + 3) * ldc + j] = s3;                          \
            }                                                                                      \
        }                                                                                          \
        for (; i < m; i++) {                                                                       \
            const int8_t *restrict w0 = w + i * ldw;                                               \
            for (int64_t j = 0; j < n; j++) {                                                      \
                const uint8_t *restrict x0 = x + j * ldx;                                          \
                int32_t s = 0;                                                                     \
                for (int64_t t = 0; t < k; t++)                                                    \
                    s += w0[t] * (int32_t)x0[t];                                                   \
                acc[i * ldc + j] = s;                                                              \
            }                                                                                      \
        }                                                                                          \
    }

typedef void (*qdot_fn)(int64_t m, int64_t n, int64_t k, const int8_t *w, int64_t ldw,
                        const uint8_t *x, int64_t ldx, int32_t *acc, int64_t ldc);

DEFINE_QDOT(qdot_generic, )
#if QDOT_X86
DEFINE_QDOT(qdot_avx2, __attribute__((target("avx2"))))
DEFINE_QDOT(qdot_vnni, __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"))))
#endif

void eai__q_dot_u8s8(int64_t m, int64_t n, int64_t k, const int8_t *w, int64_t ldw,
                     const uint8_t *x, int64_t ldx, int32_t *acc, int64_t ldc)
{
    qdot_fn fn = qdot_generic;
#if QDOT_X86
    /* __builtin_cpu_supports also checks that the OS saves the wide registers */
    if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw"))
        fn = qdot_vnni;
    else if (__builtin_cpu_supports("avx2"))
        fn = qdot_avx2;
#endif
    fn(m, n, k, w, ldw, x, ldx, acc, ldc);
}

EAI_Q_CLONES
void eai__q_requant_row(const int32_t *acc, int64_t n, int32_t add, float mult, int32_t zp,
                        bool is_signed, void *y)
{
    /* clamp in float first: the clamped value is in int8 range, so the
     * magic-number rounding is exact and the conversion cannot overflow */
    const float lo = (float)((is_signed ? -128 : 0) - zp),
                hi = (float)((is_signed ? 127 : 255) - zp);
    if (is_signed) {
        int8_t *o = y;
        for (int64_t j = 0; j < n; j++) {
            float v = (float)(acc[j] + add) * mult;
            v = v < lo ? lo : v > hi ? hi : v;
            o[j] = (int8_t)((int32_t)eai__q_round(v) + zp);
        }
    } else {
        uint8_t *o = y;
        for (int64_t j = 0; j < n; j++) {
            float v = (float)(acc[j] + add) * mult;
            v = v < lo ? lo : v > hi ? hi : v;
            o[j] = (uint8_t)((int32_t)eai__q_round(v) + zp);
        }
    }
}

/* ---- batched matmul geometry (QLinearMatMul, MatMulInteger) ---- */

typedef struct qmm_params {
    int64_t M, N, K, batch;
    int rank;                                   /* output rank */
    int64_t out_b[EAI_MAX_RANK];                /* output batch dims */
    int64_t sa[EAI_MAX_RANK], sb[EAI_MAX_RANK]; /* batch strides (matrices) of A and B */
} qmm_params_t;
_Static_assert(sizeof(qmm_params_t) <= EAI__PARAMS_BYTES, "qmm params");

/* numpy matmul shapes for rank >= 2 operands with broadcast batch dims. */
static eai_status_t qmm_shapes(eai__opctx_t *c, int ia, int ib, qmm_params_t *p)
{
    const eai__shape_t *a = &c->in[ia].shape, *b = &c->in[ib].shape;
    if (a->rank < 2 || b->rank < 2)
        return eai__op_fail(c, EAI_E_UNSUPPORTED,
                            "A has rank %d and B rank %d; both need rank >= 2", a->rank, b->rank);
    p->M = a->d[a->rank - 2];
    p->K = a->d[a->rank - 1];
    p->N = b->d[b->rank - 1];
    if (b->d[b->rank - 2] != p->K)
        return eai__op_fail(c, EAI_E_FORMAT, "A is [.., %lld, %lld] but B is [.., %lld, %lld]",
                            (long long)p->M, (long long)p->K, (long long)b->d[b->rank - 2],
                            (long long)p->N);
    eai__shape_t ab = {a->rank - 2, {0}}, bb = {b->rank - 2, {0}}, ob;
    memcpy(ab.d, a->d, sizeof(int64_t) * (size_t)ab.rank);
    memcpy(bb.d, b->d, sizeof(int64_t) * (size_t)bb.rank);
    EAI_TRY(eai__op_broadcast(c, &ab, &bb, &ob));
    eai__bcast_strides(&ab, &ob, p->sa);
    eai__bcast_strides(&bb, &ob, p->sb);
    p->rank = ob.rank + 2;
    p->batch = eai__shape_numel(&ob);
    memcpy(p->out_b, ob.d, sizeof(int64_t) * (size_t)ob.rank);
    eai__shape_t *o = &c->out[0].shape;
    o->rank = p->rank;
    memcpy(o->d, ob.d, sizeof(int64_t) * (size_t)ob.rank);
    o->d[ob.rank] = p->M;
    o->d[ob.rank + 1] = p->N;
    return EAI_OK;
}

/* Matrix index of A and B for output batch index bi. */
static void qmm_batch(const qmm_params_t *p, int64_t bi, int64_t *ia, int64_t *ib)
{
    int64_t a = 0, b = 0;
    for (int d = p->rank - 3; d >= 0; d--) {
        const int64_t i = bi % p->out_b[d];
        bi /= p->out_b[d];
        a += i * p->sa[d];
        b += i * p->sb[d];
    }
    *ia = a;
    *ib = b;
}

static inline int32_t load8(const void *p, eai_dtype_t dt, int64_t i)
{
    return dt == EAI_I8 ? ((const int8_t *)p)[i] : ((const uint8_t *)p)[i];
}

/* acc[M x N] = sum_k (A[m,k] - za) * (B[k,n] - zb[n]) for one matrix pair;
 * the plain loop the conformance-sized and uint8-weight cases take. */
static void qmm_plain(const qmm_params_t *p, const void *a, eai_dtype_t adt, int32_t za,
                      const void *b, eai_dtype_t bdt, const eai__tview_t *zb, int32_t *acc)
{
    for (int64_t m = 0; m < p->M; m++)
        for (int64_t n = 0; n < p->N; n++) {
            const int32_t z = eai__q_zp(zb, n);
            int32_t s = 0;
            for (int64_t k = 0; k < p->K; k++)
                s += (load8(a, adt, m * p->K + k) - za) * (load8(b, bdt, k * p->N + n) - z);
            acc[m * p->N + n] = s;
        }
}

eai_status_t eai__q_matmul_infer(eai__opctx_t *c)
{
    /* a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp */
    EAI_TRY(eai__q_check_8bit(c, 0));
    EAI_TRY(eai__q_check_8bit(c, 3));
    EAI_TRY(eai__q_check_8bit(c, 7));
    qmm_params_t *p = c->params;
    EAI_TRY(qmm_shapes(c, 0, 3, p));
    EAI_TRY(eai__q_check_params(c, 1, 2, c->in[0].dtype, 0, "a"));
    EAI_TRY(eai__q_check_params(c, 4, 5, c->in[3].dtype, p->N, "b"));
    EAI_TRY(eai__q_check_params(c, 6, 7, c->in[7].dtype, 0, "y"));
    c->out[0].dtype = c->in[7].dtype;
    c->scratch_bytes = (size_t)(p->M * p->N) * sizeof(int32_t);
    return EAI_OK;
}

eai_status_t eai__q_matmul_eval(eai__opctx_t *c)
{
    const qmm_params_t *p = c->params;
    int32_t *acc = c->scratch;
    const eai_dtype_t adt = c->in[0].dtype, bdt = c->in[3].dtype, ydt = c->out[0].dtype;
    const size_t ea = 1, mat_a = (size_t)(p->M * p->K) * ea, mat_b = (size_t)(p->K * p->N);
    const float sa = eai__q_scale(&c->in[1], 0), sy = eai__q_scale(&c->in[6], 0);
    const int32_t za = eai__q_zp(&c->in[2], 0), zy = eai__q_zp(&c->in[7], 0);
    for (int64_t bi = 0; bi < p->batch; bi++) {
        int64_t ia, ib;
        qmm_batch(p, bi, &ia, &ib);
        qmm_plain(p, (const uint8_t *)c->in[0].data + (size_t)ia * mat_a, adt, za,
                  (const uint8_t *)c->in[3].data + (size_t)ib * mat_b, bdt, &c->in[5], acc);
        uint8_t *y = (uint8_t *)c->out[0].data + (size_t)(bi * p->M * p->N);
        for (int64_t m = 0; m < p->M; m++)
            for (int64_t n = 0; n < p->N; n++)
                eai__q_requant_row(acc + m * p->N + n, 1, 0, sa * eai__q_scale(&c->in[4], n) / sy,
                                   zy, ydt == EAI_I8, y + m * p->N + n);
    }
    return EAI_OK;
}

eai_status_t eai__q_matmulint_infer(eai__opctx_t *c)
{
    /* A, B, a_zero_point (scalar or per row of A), b_zero_point (per column) */
    EAI_TRY(eai__q_check_8bit(c, 0));
    EAI_TRY(eai__q_check_8bit(c, 1));
    qmm_params_t *p = c->params;
    EAI_TRY(qmm_shapes(c, 0, 1, p));
    for (int i = 2; i < 4; i++) {
        if (!eai__has_in(c, i)) continue;
        const int64_t n = eai__shape_numel(&c->in[i].shape);
        if (c->in[i].dtype != c->in[i - 2].dtype || n != 1)
            return eai__op_fail(c, EAI_E_UNSUPPORTED,
                                "input %d: a %s zero point with %lld values; one value of the "
                                "operand's type is supported",
                                i, eai_dtype_name(c->in[i].dtype), (long long)n);
    }
    c->out[0].dtype = EAI_I32;
    return EAI_OK;
}

eai_status_t eai__q_matmulint_eval(eai__opctx_t *c)
{
    const qmm_params_t *p = c->params;
    const size_t mat_a = (size_t)(p->M * p->K), mat_b = (size_t)(p->K * p->N);
    const int32_t za = eai__has_in(c, 2) ? eai__q_zp(&c->in[2], 0) : 0;
    const eai__tview_t none = {0};
    for (int64_t bi = 0; bi < p->batch; bi++) {
        int64_t ia, ib;
        qmm_batch(p, bi, &ia, &ib);
        qmm_plain(p, (const uint8_t *)c->in[0].data + (size_t)ia * mat_a, c->in[0].dtype, za,
                  (const uint8_t *)c->in[1].data + (size_t)ib * mat_b, c->in[1].dtype,
                  eai__has_in(c, 3) ? &c->in[3] : &none,
                  (int32_t *)c->out[0].data + (size_t)(bi * p->M * p->N));
    }
    return EAI_OK;
}

/* ---- QGemm (com.microsoft) ---- */

typedef struct qgemm_params {
    int64_t M, N, K;
    bool ta, tb, fast, quant_out;
    float alpha;
    int64_t c_rs, c_cs; /* bias strides over rows and columns (0: broadcast) */
} qgemm_params_t;
_Static_assert(sizeof(qgemm_params_t) <= EAI__PARAMS_BYTES, "qgemm params");

eai_status_t eai__q_gemm_infer(eai__opctx_t *c)
{
    /* A, a_scale, a_zp, B, b_scale, b_zp, C (int32), y_scale, y_zp */
    qgemm_params_t *p = c->params;
    EAI_TRY(eai__q_check_8bit(c, 0));
    EAI_TRY(eai__q_check_8bit(c, 3));
    int64_t ta, tb;
    EAI_TRY(eai__op_int(c, "transA", 0, &ta));
    EAI_TRY(eai__op_int(c, "transB", 0, &tb));
    EAI_TRY(eai__op_float(c, "alpha", 1.0f, &p->alpha));
    p->ta = ta != 0;
    p->tb = tb != 0;
    const eai__shape_t *a = &c->in[0].shape, *b = &c->in[3].shape;
    if (a->rank != 2 || b->rank != 2)
        return eai__op_fail(c, EAI_E_FORMAT, "A and B must be 2-D (ranks %d and %d)", a->rank,
                            b->rank);
    p->M = p->ta ? a->d[1] : a->d[0];
    p->K = p->ta ? a->d[0] : a->d[1];
    p->N = p->tb ? b->d[0] : b->d[1];
    if ((p->tb ? b->d[1] : b->d[0]) != p->K)
        return eai__op_fail(c, EAI_E_FORMAT, "op(A) is %lldx%lld but op(B) is %lldx%lld",
                            (long long)p->M, (long long)p->K,
                            (long long)(p->tb ? b->d[1] : b->d[0]), (long long)p->N);
    EAI_TRY(eai__q_check_params(c, 1, 2, c->in[0].dtype, 0, "A"));
    EAI_TRY(eai__q_check_params(c, 4, 5, c->in[3].dtype, p->N, "B"));
    p->c_rs = p->c_cs = 0;
    if (eai__has_in(c, 6)) {
        const eai__shape_t *cs = &c->in[6].shape;
        if (c->in[6].dtype != EAI_I32 || cs->rank > 2)
            return eai__op_fail(c, EAI_E_FORMAT, "C must be int32 of rank <= 2 (%s, rank %d)",
                                eai_dtype_name(c->in[6].dtype), cs->rank);
        const int64_t cn = cs->rank >= 1 ? cs->d[cs->rank - 1] : 1;
        const int64_t cm = cs->rank == 2 ? cs->d[0] : 1;
        if ((cn != 1 && cn != p->N) || (cm != 1 && cm != p->M))
            return eai__op_fail(c, EAI_E_FORMAT, "C does not broadcast to [%lld, %lld]",
                                (long long)p->M, (long long)p->N);
        p->c_cs = cn == 1 ? 0 : 1;
        p->c_rs = cm == 1 ? 0 : cn;
    }
    p->quant_out = eai__has_in(c, 7);
    if (p->quant_out) {
        eai_dtype_t ydt = eai__has_in(c, 8) ? c->in[8].dtype : EAI_U8;
        if (ydt != EAI_I8 && ydt != EAI_U8)
            return eai__op_fail(c, EAI_E_FORMAT, "y_zero_point must be int8 or uint8");
        EAI_TRY(eai__q_check_params(c, 7, 8, ydt, 0, "Y"));
        c->out[0].dtype = ydt;
    } else {
        c->out[0].dtype = EAI_F32;
    }
    c->out[0].shape.rank = 2;
    c->out[0].shape.d[0] = p->M;
    c->out[0].shape.d[1] = p->N;
    /* fast: rows of B are int8 weights with zero point 0, rows of A are K
     * contiguous bytes */
    bool zero_zb = c->in[3].dtype == EAI_I8;
    if (zero_zb && eai__has_in(c, 5)) {
        if (!c->in[5].data)
            zero_zb = false;
        else
            for (int64_t n = 0; n < eai__shape_numel(&c->in[5].shape); n++)
                zero_zb &= ((const int8_t *)c->in[5].data)[n] == 0;
    }
    p->fast = zero_zb && p->tb && !p->ta;
    /* A as uint8 (M x K) and the accumulators (N x M) */
    c->scratch_bytes = (size_t)(p->M * p->K) + (size_t)(p->M * p->N) * sizeof(int32_t) + 64;
    return EAI_OK;
}

typedef struct qgemm_job {
    const qgemm_params_t *p;
    const eai__opctx_t *c;
    const uint8_t *au; /* A shifted to uint8 */
    int32_t off;       /* uint8 code of A's real zero */
    int32_t *acc;      /* N x M */
} qgemm_job_t;

/* Output columns [n0, n1): dot products, zero-point correction, bias,
 * scales, and the store. */
static void qgemm_cols(void *ctx, int64_t n0, int64_t n1)
{
    const qgemm_job_t *j = ctx;
    const qgemm_params_t *p = j->p;
    const eai__opctx_t *c = j->c;
    const int8_t *b = c->in[3].data;
    int32_t *acc = j->acc + n0 * p->M;
    eai__q_dot_u8s8(n1 - n0, p->M, p->K, b + n0 * p->K, p->K, j->au, p->K, acc, p->M);
    const float sa = eai__q_scale(&c->in[1], 0);
    const float sy = p->quant_out ? eai__q_scale(&c->in[7], 0) : 1.0f;
    const int32_t zy = p->quant_out && eai__has_in(c, 8) ? eai__q_zp(&c->in[8], 0) : 0;
    const bool s8 = c->out[0].dtype == EAI_I8;
    const int32_t *bias = eai__has_in(c, 6) ? c->in[6].data : NULL;
    for (int64_t n = n0; n < n1; n++, acc += p->M) {
        int32_t rs = 0;
        for (int64_t k = 0; k < p->K; k++)
            rs += b[n * p->K + k];
        const float mult = p->alpha * sa * eai__q_scale(&c->in[4], n) / sy;
        for (int64_t m = 0; m < p->M; m++) {
            const int32_t v = acc[m] - j->off * rs + (bias ? bias[m * p->c_rs + n * p->c_cs] : 0);
            if (!p->quant_out)
                ((float *)c->out[0].data)[m * p->N + n] = (float)v * mult;
            else
                eai__q_requant_row(&v, 1, 0, mult, zy, s8,
                                   (uint8_t *)c->out[0].data + m * p->N + n);
        }
    }
}

eai_status_t eai__q_gemm_eval(eai__opctx_t *c)
{
    const qgemm_params_t *p = c->params;
    const eai_dtype_t adt = c->in[0].dtype, bdt = c->in[3].dtype;
    const int32_t za = eai__q_zp(&c->in[2], 0);
    int32_t *acc = (int32_t *)((uint8_t *)c->scratch + EAI_ALIGN_UP((size_t)(p->M * p->K), 64));
    if (p->fast) {
        uint8_t *au = c->scratch;
        const uint8_t *a = c->in[0].data;
        const uint8_t flip = adt == EAI_I8 ? 0x80 : 0;
        for (int64_t i = 0; i < p->M * p->K; i++)
            au[i] = a[i] ^ flip;
        qgemm_job_t j = {p, c, au, za + (adt == EAI_I8 ? 128 : 0), acc};
        /* blocks of 16 output columns keep the pool's shares coarse */
        if (p->M * p->N * p->K < (1 << 16)) {
            qgemm_cols(&j, 0, p->N);
        } else {
            eai__parallel_for(c->pool, p->N, qgemm_cols, &j);
        }
        return EAI_OK;
    }
    const float sa = eai__q_scale(&c->in[1], 0);
    const float sy = p->quant_out ? eai__q_scale(&c->in[7], 0) : 1.0f;
    const int32_t zy = p->quant_out && eai__has_in(c, 8) ? eai__q_zp(&c->in[8], 0) : 0;
    const int32_t *bias = eai__has_in(c, 6) ? c->in[6].data : NULL;
    for (int64_t m = 0; m < p->M; m++)
        for (int64_t n = 0; n < p->N; n++) {
            const int32_t zb = eai__q_zp(&c->in[5], n);
            int32_t s = 0;
            for (int64_t k = 0; k < p->K; k++) {
                const int64_t ai = p->ta ? k * p->M + m : m * p->K + k;
                const int64_t bi = p->tb ? n * p->K + k : k * p->N + n;
                s += (load8(c->in[0].data, adt, ai) - za) * (load8(c->in[3].data, bdt, bi) - zb);
            }
            s += bias ? bias[m * p->c_rs + n * p->c_cs] : 0;
            const float mult = p->alpha * sa * eai__q_scale(&c->in[4], n) / sy;
            if (!p->quant_out)
                ((float *)c->out[0].data)[m * p->N + n] = (float)s * mult;
            else
                eai__q_requant_row(&s, 1, 0, mult, zy, c->out[0].dtype == EAI_I8,
                                   (uint8_t *)c->out[0].data + m * p->N + n);
        }
    return EAI_OK;
}
