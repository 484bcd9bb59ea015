/* Op family 'einsum' (ref backend): ONNX Einsum (opset 12).
 *
 * The one idea: infer parses the equation once into a plan of axes (the
 * output's, then the summed ones) with, per operand, an element stride per
 * axis (0 when the operand lacks the label; repeated labels add their strides,
 * which is the diagonal). Eval walks that plan. Two float32 operands whose
 * labels sort into batch / M / N / K groups with unit inner strides run as one
 * eai__sgemm per batch instead.
 */
#include <assert.h>

#include "runtime/op_impl.h"

/* Plan capacity: the 768-byte parameter block bounds it. */
#define MAX_OPS    8
#define MAX_AXES   16
#define MAX_TERM   16
#define N_LETTERS  52
#define ELL_LABEL  N_LETTERS /* ellipsis dims get labels 52..52+EAI_MAX_RANK-1 */
#define N_LABELS   (N_LETTERS + EAI_MAX_RANK)
#define LABEL_NONE (-1)

typedef struct einsum_params {
    int32_t n_ops, n_out, n_red;
    int32_t gemm;                      /* 1: the sgemm route below applies */
    int64_t red_total;                 /* product of the summed dims (0: output is all zeros) */
    int64_t dim[MAX_AXES];             /* output axes in output order, then summed axes */
    int32_t stride[MAX_OPS][MAX_AXES]; /* element strides; 0: operand lacks the axis */
    /* sgemm route: C = X * Y per batch, X/Y are operand 0/1 or 1/0 (swap) */
    int64_t M, N, K, ldx, ldy, ldc;
    int8_t trans_x, trans_y, swap, n_batch;
    int8_t batch[EAI_MAX_RANK]; /* output axes looped around the sgemm */
} einsum_params_t;
static_assert(sizeof(einsum_params_t) <= EAI__PARAMS_BYTES, "params");

/* One term of the equation: its letter labels and where '...' sits among them. */
typedef struct term {
    int n;
    int ell; /* index in lab before which '...' stands; -1: none */
    int8_t lab[MAX_TERM];
} term_t;

static int letter_label(char ch)
{
    if (ch >= 'a' && ch <= 'z') return ch - 'a';
    if (ch >= 'A' && ch <= 'Z') return 26 + ch - 'A';
    return LABEL_NONE;
}

static char label_char(int l)
{
    return l < 26 ? (char)('a' + l) : (char)('A' + l - 26);
}

/* Splits the equation into terms (inputs, then the output when '->' is
 * present). Spaces are allowed anywhere (ONNX test data uses "bij, bjk -> bik"). */
static eai_status_t parse(const eai__opctx_t *c, const char *eq, term_t *t, int *n_terms,
                          bool *explicit_out)
{
    int k = 0;
    *explicit_out = false;
    memset(t, 0, sizeof(term_t) * (MAX_OPS + 1));
    for (int i = 0; i <= MAX_OPS; i++)
        t[i].ell = -1;
    for (const char *p = eq; *p; p++) {
        char ch = *p;
        if (ch == ' ' || ch == '\t') continue;
        if (ch == ',') {
            if (*explicit_out)
                return eai__op_fail(c, EAI_E_INVALID, "equation '%s': ',' after '->'", eq);
            if (++k >= MAX_OPS)
                return eai__op_fail(c, EAI_E_UNSUPPORTED, "equation '%s': more than %d operands",
                                    eq, MAX_OPS);
            continue;
        }
        if (ch == '-') {
            if (p[1] != '>')
                return eai__op_fail(c, EAI_E_INVALID, "equation '%s': '-' not followed by '>'", eq);
            if (*explicit_out)
                return eai__op_fail(c, EAI_E_INVALID, "equation '%s': more than one '->'", eq);
            *explicit_out = true;
            k++;
            p++;
            continue;
        }
        term_t *cur = &t[k];
        if (ch == '.') {
            if (p[1] != '.' || p[2] != '.')
                return eai__op_fail(c, EAI_E_INVALID, "equation '%s': '.' outside '...'", eq);
            if (cur->ell >= 0)
                return eai__op_fail(c, EAI_E_INVALID, "equation '%s': two '...' in one term", eq);
            cur->ell = cur->n;
            p += 2;
            continue;
        }
        int l = letter_label(ch);
        if (l == LABEL_NONE)
            return eai__op_fail(c, EAI_E_INVALID,
                                "equation '%s': character '%c' is not a letter, ',', '->' or "
                                "'...'",
                                eq, ch);
        if (cur->n >= MAX_TERM)
            return eai__op_fail(c, EAI_E_INVALID, "equation '%s': term %d has over %d labels", eq,
                                k, MAX_TERM);
        cur->lab[cur->n++] = (int8_t)l;
    }
    *n_terms = k + 1;
    return EAI_OK;
}

/* Label of axis `ax` of an operand of rank r described by term t, with ne
 * ellipsis dims in the whole equation (an operand's own ellipsis dims align
 * to the right of them, as in numpy broadcasting). */
static int axis_label(const term_t *t, int r, int ne, int ax)
{
    if (t->ell < 0 || ax < t->ell) return t->lab[ax];
    int k = r - t->n; /* this operand's ellipsis dims */
    if (ax < t->ell + k) return ELL_LABEL + (ne - k) + (ax - t->ell);
    return t->lab[ax - k];
}

/* Row/column strides of a matrix operand -> (trans, leading dim) for sgemm;
 * false when neither layout has a unit stride. Dims of size 1 take any stride. */
static bool mat_layout(int64_t rows, int64_t cols, int64_t rs, int64_t cs, int8_t *trans,
                       int64_t *ld)
{
    if (cols <= 1 || cs == 1) {
        *trans = 0;
        *ld = rows <= 1 ? (cols > 1 ? cols : 1) : rs;
        return *ld >= cols;
    }
    if (rows <= 1 || rs == 1) {
        *trans = 1;
        *ld = cols <= 1 ? (rows > 1 ? rows : 1) : cs;
        return *ld >= rows;
    }
    return false;
}

/* Merges the axes ax[0..n) (outer to inner) into one dimension when, for both
 * stride tables, each outer stride is the inner stride times the inner size. */
static bool merge_group(const einsum_params_t *p, const int *ax, int n, const int64_t *s1,
                        const int64_t *s2, int64_t *d, int64_t *st1, int64_t *st2)
{
    *d = 1, *st1 = 0, *st2 = 0;
    if (n == 0) return true;
    *d = p->dim[ax[n - 1]], *st1 = s1[ax[n - 1]], *st2 = s2[ax[n - 1]];
    for (int i = n - 2; i >= 0; i--) {
        if (s1[ax[i]] != *st1 * *d || s2[ax[i]] != *st2 * *d) return false;
        *d *= p->dim[ax[i]];
    }
    return true;
}

/* Fills the sgemm fields of p when two float32 operands fit the pattern
 * C[batch, M, N] = sum_K A[batch, M, K] * B[batch, K, N] in any axis order. */
static void plan_gemm(einsum_params_t *p, const int64_t *out_stride)
{
    int m_ax[MAX_AXES], n_ax[MAX_AXES], k_ax[MAX_AXES], nm = 0, nn = 0, nk = 0, nb = 0;
    int64_t sa[MAX_AXES], sb[MAX_AXES], sc[MAX_AXES];
    for (int a = 0; a < p->n_out + p->n_red; a++) {
        sa[a] = p->stride[0][a], sb[a] = p->stride[1][a];
        sc[a] = a < p->n_out ? out_stride[a] : 0;
        if (p->dim[a] == 1) continue; /* size-1 axes fit anywhere */
        bool ia = sa[a] != 0, ib = sb[a] != 0;
        if (a < p->n_out) {
            if (ia && ib)
                p->batch[nb++] = (int8_t)a;
            else if (ia)
                m_ax[nm++] = a;
            else if (ib)
                n_ax[nn++] = a;
            else
                return;
        } else {
            if (!(ia && ib)) return; /* a sum over one operand only: not a matmul */
            k_ax[nk++] = a;
        }
    }
    /* K axes come in label order; put them in A's memory order (outer first) */
    for (int i = 1; i < nk; i++)
        for (int j = i; j > 0 && sa[k_ax[j - 1]] < sa[k_ax[j]]; j--) {
            int tmp = k_ax[j];
            k_ax[j] = k_ax[j - 1], k_ax[j - 1] = tmp;
        }
    int64_t M, N, K, am, cm, bn, cn, ak, bk;
    if (!merge_group(p, m_ax, nm, sa, sc, &M, &am, &cm) ||
        !merge_group(p, n_ax, nn, sb, sc, &N, &bn, &cn) ||
        !merge_group(p, k_ax, nk, sa, sb, &K, &ak, &bk))
        return;
    /* C must be row-major in (M, N); if it is in (N, M), compute C^T = B^T A^T */
    int8_t tc;
    if (mat_layout(M, N, cm, cn, &tc, &p->ldc) && !tc) {
        p->swap = 0;
        if (!mat_layout(M, K, am, ak, &p->trans_x, &p->ldx) ||
            !mat_layout(K, N, bk, bn, &p->trans_y, &p->ldy))
            return;
        p->M = M, p->N = N;
    } else if (mat_layout(N, M, cn, cm, &tc, &p->ldc) && !tc) {
        p->swap = 1;
        if (!mat_layout(N, K, bn, bk, &p->trans_x, &p->ldx) ||
            !mat_layout(K, M, ak, am, &p->trans_y, &p->ldy))
            return;
        p->M = N, p->N = M;
    } else {
        return;
    }
    p->K = K;
    p->n_batch = (int8_t)nb;
    p->gemm = 1;
}

static eai_status_t einsum_infer(eai__opctx_t *c)
{
    einsum_params_t *p = c->params;
    const char *eq;
    EAI_TRY(eai__op_string(c, "equation", NULL, &eq));
    if (!eq) return eai__op_fail(c, EAI_E_INVALID, "missing attribute 'equation'");
    static const eai_dtype_t ok[] = {EAI_F32, EAI_F64, EAI_I64, EAI_I32, 0};
    for (int i = 0; i < c->n_in; i++) {
        EAI_TRY(eai__op_dtype(c, i, ok));
        if (c->in[i].dtype != c->in[0].dtype)
            return eai__op_fail(c, EAI_E_INVALID, "input %d is %s but input 0 is %s", i,
                                eai_dtype_name(c->in[i].dtype), eai_dtype_name(c->in[0].dtype));
    }
    term_t t[MAX_OPS + 1];
    int n_terms = 0;
    bool explicit_out;
    EAI_TRY(parse(c, eq, t, &n_terms, &explicit_out));
    int n_ops = explicit_out ? n_terms - 1 : n_terms;
    if (n_ops != c->n_in)
        return eai__op_fail(c, EAI_E_INVALID,
                            "equation '%s' has %d input terms but the node has "
                            "%d inputs",
                            eq, n_ops, c->n_in);

    /* ellipsis width: the widest operand's (numpy aligns the others right) */
    int ne = 0;
    for (int i = 0; i < n_ops; i++) {
        int r = c->in[i].shape.rank;
        if (t[i].ell < 0 ? t[i].n != r : t[i].n > r)
            return eai__op_fail(c, EAI_E_INVALID,
                                "equation '%s': term %d has %d labels%s but input %d has rank %d",
                                eq, i, t[i].n, t[i].ell < 0 ? "" : " and '...'", i, r);
        if (t[i].ell >= 0 && r - t[i].n > ne) ne = r - t[i].n;
    }

    /* size of each label; -2: unseen, -1: unknown */
    int64_t dim[N_LABELS];
    int count[N_LABELS] = {0}, first[N_LABELS];
    for (int l = 0; l < N_LABELS; l++)
        dim[l] = -2;
    for (int i = 0; i < n_ops; i++) {
        const eai__shape_t *s = &c->in[i].shape;
        for (int ax = 0; ax < s->rank; ax++) {
            int l = axis_label(&t[i], s->rank, ne, ax);
            int64_t d = s->d[ax];
            if (l < N_LETTERS) count[l]++;
            if (dim[l] == -2) {
                dim[l] = d, first[l] = i;
            } else if (l >= ELL_LABEL) {
                /* ellipsis dims broadcast (ONNX Einsum-12 follows numpy) */
                if (dim[l] == 1)
                    dim[l] = d;
                else if (d == 1 || d < 0)
                    continue;
                else if (dim[l] < 0)
                    dim[l] = d;
                else if (d != dim[l])
                    return eai__op_fail(c, EAI_E_INVALID,
                                        "equation '%s': '...' dims do not broadcast: input %d "
                                        "dim %d is %lld, input %d has %lld",
                                        eq, i, ax, (long long)d, first[l], (long long)dim[l]);
            } else if (dim[l] < 0) {
                dim[l] = d;
            } else if (d >= 0 && d != dim[l]) {
                return eai__op_fail(c, EAI_E_INVALID,
                                    "equation '%s': label '%c' has size %lld in input %d but "
                                    "%lld in input %d",
                                    eq, label_char(l), (long long)dim[l], first[l], (long long)d,
                                    i);
            }
        }
    }

    /* output labels: explicit after '->', else '...' then the letters seen
     * once, in ASCII order (uppercase first, as numpy.einsum does) */
    int out_lab[N_LABELS], n_outl = 0;
    bool in_out[N_LABELS] = {false};
    if (explicit_out) {
        const term_t *o = &t[n_terms - 1];
        if (ne > 0 && o->ell < 0)
            return eai__op_fail(c, EAI_E_INVALID,
                                "equation '%s': inputs have '...' dims but the output has no "
                                "'...'",
                                eq);
        for (int j = 0; j <= o->n; j++) {
            if (j == o->ell)
                for (int e = 0; e < ne; e++)
                    out_lab[n_outl++] = ELL_LABEL + e;
            if (j == o->n) break;
            int l = o->lab[j];
            if (dim[l] == -2)
                return eai__op_fail(c, EAI_E_INVALID,
                                    "equation '%s': output label '%c' is in no input", eq,
                                    label_char(l));
            for (int q = 0; q < j; q++)
                if (o->lab[q] == l)
                    return eai__op_fail(c, EAI_E_INVALID,
                                        "equation '%s': output label '%c' appears twice", eq,
                                        label_char(l));
            out_lab[n_outl++] = l;
        }
    } else {
        for (int e = 0; e < ne; e++)
            out_lab[n_outl++] = ELL_LABEL + e;
        for (int q = 0; q < N_LETTERS; q++) {
            int l = (q + 26) % N_LETTERS; /* 'A'..'Z' then 'a'..'z' */
            if (count[l] == 1) out_lab[n_outl++] = l;
        }
    }
    if (n_outl > EAI_MAX_RANK)
        return eai__op_fail(c, EAI_E_UNSUPPORTED, "equation '%s': output rank %d exceeds %d", eq,
                            n_outl, EAI_MAX_RANK);

    /* plan axes: output labels, then the summed ones */
    int axis_of[N_LABELS];
    for (int l = 0; l < N_LABELS; l++)
        axis_of[l] = -1;
    int n_axes = 0;
    for (int j = 0; j < n_outl; j++) {
        in_out[out_lab[j]] = true;
        axis_of[out_lab[j]] = n_axes++;
    }
    for (int l = 0; l < N_LABELS; l++)
        if (dim[l] != -2 && !in_out[l]) {
            if (n_axes >= MAX_AXES)
                return eai__op_fail(c, EAI_E_UNSUPPORTED, "equation '%s': more than %d labels", eq,
                                    MAX_AXES);
            axis_of[l] = n_axes++;
        }
    memset(p, 0, sizeof *p);
    p->n_ops = n_ops, p->n_out = n_outl, p->n_red = n_axes - n_outl;
    bool known = true;
    for (int l = 0; l < N_LABELS; l++)
        if (axis_of[l] >= 0) {
            p->dim[axis_of[l]] = dim[l];
            known &= dim[l] >= 0;
        }

    c->out[0].dtype = c->in[0].dtype;
    c->out[0].shape.rank = n_outl;
    for (int j = 0; j < n_outl; j++)
        c->out[0].shape.d[j] = p->dim[j];
    if (!known) return EAI_OK; /* symbolic dims: planned again with the real shapes */

    /* strides; 32-bit keeps the plan within the parameter block */
    for (int i = 0; i <= n_ops; i++) {
        const eai__shape_t *s = i < n_ops ? &c->in[i].shape : &c->out[0].shape;
        if (eai__shape_numel(s) > INT32_MAX)
            return eai__op_fail(c, EAI_E_UNSUPPORTED, "%s %d has over 2^31 elements",
                                i < n_ops ? "input" : "output", i < n_ops ? i : 0);
    }
    for (int i = 0; i < n_ops; i++) {
        const eai__shape_t *s = &c->in[i].shape;
        int64_t st = 1;
        for (int ax = s->rank - 1; ax >= 0; ax--) {
            int l = axis_label(&t[i], s->rank, ne, ax);
            if (s->d[ax] != 1) p->stride[i][axis_of[l]] += (int32_t)st;
            st *= s->d[ax];
        }
    }
    p->red_total = 1;
    for (int a = p->n_out; a < n_axes; a++)
        p->red_total *= p->dim[a];
    if (n_ops == 2 && c->in[0].dtype == EAI_F32 && p->red_total > 0) {
        int64_t out_stride[MAX_AXES], st = 1;
        for (int a = n_outl - 1; a >= 0; a--) {
            out_stride[a] = st;
            st *= p->dim[a];
        }
        if (st > 0) plan_gemm(p, out_stride);
    }
    return EAI_OK;
}

typedef struct run {
    const einsum_params_t *p;
    const void *in[MAX_OPS];
    void *out;
} run_t;

/* Output elements [begin, end): each is the sum over the summed axes of the
 * product of the operands; odometers step the offsets, no divisions inside. */
#define DEFINE_GENERIC(NAME, T, ACC)                                                               \
    static void NAME(void *ctx, int64_t begin, int64_t end)                                        \
    {                                                                                              \
        const run_t *r = ctx;                                                                      \
        const einsum_params_t *p = r->p;                                                           \
        const T *x[MAX_OPS];                                                                       \
        const int nk = p->n_ops, no = p->n_out, nr = p->n_red, last = no + nr - 1;                 \
        for (int k = 0; k < nk; k++)                                                               \
            x[k] = r->in[k];                                                                       \
        T *y = r->out;                                                                             \
        int64_t idx[MAX_AXES], base[MAX_OPS] = {0}, rem = begin;                                   \
        for (int a = no - 1; a >= 0; a--) {                                                        \
            idx[a] = rem % p->dim[a], rem /= p->dim[a];                                            \
            for (int k = 0; k < nk; k++)                                                           \
                base[k] += idx[a] * p->stride[k][a];                                               \
        }                                                                                          \
        const int64_t n_in = nr ? p->dim[last] : 1;                                                \
        for (int64_t o = begin; o < end; o++) {                                                    \
            ACC acc = 0;                                                                           \
            int64_t off[MAX_OPS], ridx[MAX_AXES] = {0};                                            \
            for (int k = 0; k < nk; k++)                                                           \
                off[k] = base[k];                                                                  \
            while (p->red_total > 0) {                                                             \
                if (nk == 2 && nr > 0) {                                                           \
                    const T *a0 = x[0] + off[0], *a1 = x[1] + off[1];                              \
                    const int64_t s0 = p->stride[0][last], s1 = p->stride[1][last];                \
                    for (int64_t i = 0; i < n_in; i++)                                             \
                        acc += (ACC)a0[i * s0] * (ACC)a1[i * s1];                                  \
                } else {                                                                           \
                    for (int64_t i = 0; i < n_in; i++) {                                           \
                        ACC prod = 1;                                                              \
                        for (int k = 0; k < nk; k++)                                               \
                            prod *= (ACC)x[k][off[k] + (nr ? i * p->stride[k][last] : 0)];         \
                        acc += prod;                                                               \
                    }                                                                              \
                }                                                                                  \
                int a = nr - 2;                                                                    \
                for (; a >= 0; a--) {                                                              \
                    const int ax = no + a;                                                         \
                    for (int k = 0; k < nk; k++)                                                   \
                        off[k] += p->stride[k][ax];                                                \
                    if (++ridx[a] < p->dim[ax]) break;                                             \
                    for (int k = 0; k < nk; k++)                                                   \
                        off[k] -= p->stride[k][ax] * p->dim[ax];                                   \
                    ridx[a] = 0;                                                                   \
                }                                                                                  \
                if (a < 0) break;                                                                  \
            }                                                                                      \
            y[o] = (T)acc;                                                                         \
            for (int a = no - 1; a >= 0; a--) {                                                    \
                for (int k = 0; k < nk; k++)                                                       \
                    base[k] += p->stride[k][a];                                                    \
                if (++idx[a] < p->dim[a]) break;                                                   \
                for (int k = 0; k < nk; k++)                                                       \
                    base[k] -= p->stride[k][a] * p->dim[a];                                        \
                idx[a] = 0;                                                                        \
            }                                                                                      \
        }                                                                                          \
    }

/* float32 sums in double: the generic path is the accurate fallback */
DEFINE_GENERIC(eai__k_f32_einsum_generic, float, double)
DEFINE_GENERIC(eai__k_f64_einsum_generic, double, double)
DEFINE_GENERIC(eai__k_i64_einsum_generic, int64_t, int64_t)
DEFINE_GENERIC(eai__k_i32_einsum_generic, int32_t, int64_t)

/* The output offset of batch b and the operands' offsets. */
static void batch_offsets(const einsum_params_t *p, int64_t b, int64_t *o0, int64_t *o1,
                          int64_t *oc)
{
    *o0 = *o1 = *oc = 0;
    for (int i = p->n_batch - 1; i >= 0; i--) {
        int a = p->batch[i];
        int64_t d = p->dim[a], q = b % d;
        b /= d;
        *o0 += q * p->stride[0][a];
        *o1 += q * p->stride[1][a];
        int64_t sc = 1; /* output is contiguous: stride of axis a */
        for (int j = a + 1; j < p->n_out; j++)
            sc *= p->dim[j];
        *oc += q * sc;
    }
}

typedef struct gemm_run {
    const einsum_params_t *p;
    const float *a, *b;
    float *c;
    eai_threadpool_t *pool;
} gemm_run_t;

static void gemm_range(void *ctx, int64_t begin, int64_t end)
{
    const gemm_run_t *g = ctx;
    const einsum_params_t *p = g->p;
    for (int64_t bi = begin; bi < end; bi++) {
        int64_t o0, o1, oc;
        batch_offsets(p, bi, &o0, &o1, &oc);
        const float *x = p->swap ? g->b + o1 : g->a + o0;
        const float *y = p->swap ? g->a + o0 : g->b + o1;
        eai__sgemm(g->pool, p->trans_x, p->trans_y, p->M, p->N, p->K, 1.0f, x, p->ldx, y, p->ldy,
                   0.0f, g->c + oc, p->ldc);
    }
}

static eai_status_t einsum_eval(eai__opctx_t *c)
{
    const einsum_params_t *p = c->params;
    int64_t n_out = eai__shape_numel(&c->out[0].shape);
    if (n_out == 0) return EAI_OK;
    if (p->gemm) {
        int64_t n_b = 1;
        for (int i = 0; i < p->n_batch; i++)
            n_b *= p->dim[p->batch[i]];
        gemm_run_t g = {p, c->in[0].data, c->in[1].data, c->out[0].data, c->pool};
        int nth = c->pool ? eai_threadpool_size(c->pool) : 1;
        /* many small products (attention heads): one thread per batch slice;
         * a few big ones: sgemm splits each */
        if (nth > 1 && n_b >= nth && p->M * p->N * p->K < ((int64_t)1 << 21)) {
            g.pool = NULL;
            eai__parallel_for(c->pool, n_b, gemm_range, &g);
        } else {
            gemm_range(&g, 0, n_b);
        }
        return EAI_OK;
    }
    run_t r = {.p = p, .out = c->out[0].data};
    for (int k = 0; k < p->n_ops; k++)
        r.in[k] = c->in[k].data;
    eai__range_fn fn;
    switch (c->in[0].dtype) {
    case EAI_F32:
        fn = eai__k_f32_einsum_generic;
        break;
    case EAI_F64:
        fn = eai__k_f64_einsum_generic;
        break;
    case EAI_I64:
        fn = eai__k_i64_einsum_generic;
        break;
    case EAI_I32:
        fn = eai__k_i32_einsum_generic;
        break;
    default:
        return eai__op_fail(c, EAI_E_UNSUPPORTED, "dtype %s", eai_dtype_name(c->in[0].dtype));
    }
    if (n_out * (p->red_total + 1) * p->n_ops >= ((int64_t)1 << 16))
        eai__parallel_for(c->pool, n_out, fn, &r);
    else
        fn(&r, 0, n_out);
    return EAI_OK;
}

/* ONNX Einsum-12: one output, any number of inputs. */
const eai__op_def_t eai__ref_ops_einsum[] = {
    {"Einsum", 0, 1, -1, 1, 1, einsum_infer, einsum_eval},
    {0},
};
