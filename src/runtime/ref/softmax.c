/* Op family 'softmax' (ref backend): Softmax and LogSoftmax.
 *
 * The axis semantics changed at opset 13: before, the input is coerced to
 * 2-D [prod(d[:axis]), prod(d[axis:])] (default axis 1) and normalised over
 * the whole second dim; from 13 only dim `axis` (default -1) is normalised.
 * Both become a [outer, len, inner] view here. Max-subtraction keeps exp()
 * in range (numerically stable for any input magnitude).
 */
#include "runtime/ref/elementwise_impl.h"

typedef struct sparams {
    bool log;
    int64_t outer, len, inner;
} sparams_t;
_Static_assert(sizeof(sparams_t) <= EAI__PARAMS_BYTES, "sparams_t too big");

static eai_status_t softmax_infer(eai__opctx_t *c)
{
    sparams_t *p = c->params;
    EAI_TRY(eai__op_f32(c, 0));
    const eai__shape_t *in = &c->in[0].shape;
    bool v13 = c->opset >= 13;
    int64_t axis;
    EAI_TRY(eai__op_int(c, "axis", v13 ? -1 : 1, &axis));
    int ax = 0;
    if (in->rank == 0) {
        /* a scalar normalises to itself (length-1 softmax) */
        if (axis != 0 && axis != -1)
            return eai__op_fail(c, EAI_E_FORMAT, "axis %lld is out of range for a scalar",
                                (long long)axis);
    } else {
        EAI_TRY(eai__op_axis(c, axis, in->rank, &ax));
    }
    p->log = strcmp(c->node->op, "LogSoftmax") == 0;
    p->outer = p->len = p->inner = 1;
    for (int i = 0; i < ax; i++)
        p->outer *= in->d[i];
    for (int i = ax; i < in->rank; i++) {
        if (v13 && i > ax)
            p->inner *= in->d[i];
        else if (!v13 || i == ax)
            p->len *= in->d[i];
    }
    c->out[0].dtype = EAI_F32;
    c->out[0].shape = *in;
    return EAI_OK;
}

static float row_max(const float *x, int64_t n)
{
    float acc[8];
    for (int j = 0; j < 8; j++)
        acc[j] = -INFINITY;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            acc[j] = x[i + j] > acc[j] ? x[i + j] : acc[j];
    for (; i < n; i++)
        acc[0] = x[i] > acc[0] ? x[i] : acc[0];
    float m = acc[0];
    for (int j = 1; j < 8; j++)
        m = acc[j] > m ? acc[j] : m;
    return m;
}

static float sum8(const float *acc)
{
    float s = 0;
    for (int j = 0; j < 8; j++)
        s += acc[j];
    return s;
}

/* o[i] = exp(x[i] - m); returns the sum. */
static float row_exp(float *o, const float *x, int64_t n, float m)
{
    for (int64_t i = 0; i < n; i++)
        o[i] = ew_expf(x[i] - m);
    float acc[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            acc[j] += o[i + j];
    for (; i < n; i++)
        acc[0] += o[i];
    return sum8(acc);
}

typedef struct srun {
    const sparams_t *p;
    const float *x;
    float *o;
} srun_t;

/* inner == 1: units are rows */
static void softmax_rows(void *ctx, int64_t b, int64_t e)
{
    const srun_t *r = ctx;
    int64_t n = r->p->len;
    for (int64_t u = b; u < e; u++) {
        const float *x = r->x + u * n;
        float *o = r->o + u * n;
        float m = row_max(x, n);
        if (m == -INFINITY) /* all -inf: ONNX reference gives NaN too, avoid inf - inf */
            m = 0;
        if (r->p->log) {
            float k = m + logf(ew_sum_exp(x, n, m));
            for (int64_t i = 0; i < n; i++)
                o[i] = x[i] - k;
        } else {
            float k = 1.0f / row_exp(o, x, n, m);
            for (int64_t i = 0; i < n; i++)
                o[i] *= k;
        }
    }
}

/* inner > 1: units are (outer, chunk of S_CHUNK inner positions); the
 * running max and sum of a chunk stay on the stack and every pass reads
 * contiguous rows of the [len, inner] block. */
#define S_CHUNK 256

static void softmax_cols(void *ctx, int64_t b, int64_t e)
{
    const srun_t *r = ctx;
    const sparams_t *p = r->p;
    int64_t n_chunks = (p->inner + S_CHUNK - 1) / S_CHUNK;
    float m[S_CHUNK], s[S_CHUNK];
    for (int64_t w = b; w < e; w++) {
        int64_t ou = w / n_chunks, i0 = (w % n_chunks) * S_CHUNK;
        int64_t n = p->inner - i0 < S_CHUNK ? p->inner - i0 : S_CHUNK;
        const float *x = r->x + ou * p->len * p->inner + i0;
        float *o = r->o + ou * p->len * p->inner + i0;
        for (int64_t i = 0; i < n; i++) {
            m[i] = -INFINITY;
            s[i] = 0;
        }
        for (int64_t a = 0; a < p->len; a++) {
            const float *row = x + a * p->inner;
            for (int64_t i = 0; i < n; i++)
                m[i] = row[i] > m[i] ? row[i] : m[i];
        }
        for (int64_t i = 0; i < n; i++)
            m[i] = m[i] == -INFINITY ? 0 : m[i];
        if (p->log) {
            /* sums only: x is read again below, and o may be x (in place) */
            for (int64_t a = 0; a < p->len; a++) {
                const float *row = x + a * p->inner;
                for (int64_t i = 0; i < n; i++)
                    s[i] += ew_expf(row[i] - m[i]);
            }
            for (int64_t i = 0; i < n; i++)
                s[i] = m[i] + logf(s[i]);
            for (int64_t a = 0; a < p->len; a++) {
                const float *row = x + a * p->inner;
                float *orow = o + a * p->inner;
                for (int64_t i = 0; i < n; i++)
                    orow[i] = row[i] - s[i];
            }
        } else {
            for (int64_t a = 0; a < p->len; a++) {
                const float *row = x + a * p->inner;
                float *orow = o + a * p->inner;
                for (int64_t i = 0; i < n; i++) {
                    orow[i] = ew_expf(row[i] - m[i]);
                    s[i] += orow[i];
                }
            }
            for (int64_t i = 0; i < n; i++)
                s[i] = 1.0f / s[i];
            for (int64_t a = 0; a < p->len; a++) {
                float *orow = o + a * p->inner;
                for (int64_t i = 0; i < n; i++)
                    orow[i] *= s[i];
            }
        }
    }
}

static eai_status_t softmax_eval(eai__opctx_t *c)
{
    const sparams_t *p = c->params;
    srun_t r = {p, c->in[0].data, c->out[0].data};
    if (p->len == 0) return EAI_OK;
    if (p->inner == 1) {
        ew_parallel_items(c->pool, p->outer, p->len, softmax_rows, &r);
    } else {
        int64_t n_chunks = (p->inner + S_CHUNK - 1) / S_CHUNK;
        ew_parallel_items(c->pool, p->outer * n_chunks, p->len * S_CHUNK, softmax_cols, &r);
    }
    return EAI_OK;
}

const eai__op_def_t eai__ref_ops_softmax[] = {
    {"Softmax", 0, 1, 1, 1, 1, softmax_infer, softmax_eval},
    {"LogSoftmax", 0, 1, 1, 1, 1, softmax_infer, softmax_eval},
    {0},
};
