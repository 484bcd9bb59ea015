/* TopK (ONNX opset 10/11): the k largest (or smallest) values along an axis
 * and their int64 indices. K must be a constant since it fixes the output
 * shape. Ties go to the lower index, as ONNX's reference does, so results are
 * deterministic. A bounded heap per slice: O(n log k). */
#include "runtime/op_impl.h"

typedef struct topk_params {
    int axis;
    int64_t k;
    bool largest;
    int64_t outer, n, inner; /* input viewed as [outer, n, inner] */
} topk_params_t;
_Static_assert(sizeof(topk_params_t) <= EAI__PARAMS_BYTES, "params too large");

static eai_status_t topk_infer(eai__opctx_t *c)
{
    topk_params_t *p = c->params;
    EAI_TRY(eai__op_f32(c, 0));
    int64_t axis, largest, sorted;
    EAI_TRY(eai__op_int(c, "axis", -1, &axis));
    EAI_TRY(eai__op_int(c, "largest", 1, &largest));
    EAI_TRY(eai__op_int(c, "sorted", 1, &sorted));
    const eai__shape_t *x = &c->in[0].shape;
    if (x->rank == 0) return eai__op_fail(c, EAI_E_INVALID, "input must have rank >= 1");
    int ax;
    EAI_TRY(eai__op_axis(c, axis, x->rank, &ax));
    int64_t k;
    if (c->opset < 10) {
        EAI_TRY(eai__op_int(c, "k", -1, &k));
    } else {
        int n;
        EAI_TRY(eai__op_const_ints(c, 1, &k, 1, &n));
        if (n != 1) return eai__op_fail(c, EAI_E_INVALID, "K must hold one value, has %d", n);
    }
    if (k < 0 || k > x->d[ax])
        return eai__op_fail(c, EAI_E_INVALID, "K = %lld is outside [0, %lld] for axis %d",
                            (long long)k, (long long)x->d[ax], ax);
    p->axis = ax;
    p->k = k;
    p->largest = largest != 0;
    p->outer = p->inner = 1;
    for (int i = 0; i < ax; i++)
        p->outer *= x->d[i];
    for (int i = ax + 1; i < x->rank; i++)
        p->inner *= x->d[i];
    p->n = x->d[ax];
    eai__shape_t o = *x;
    o.d[ax] = k;
    c->out[0].dtype = EAI_F32;
    c->out[0].shape = o;
    if (c->n_out > 1) {
        c->out[1].dtype = EAI_I64;
        c->out[1].shape = o;
    }
    c->scratch_bytes = (size_t)(k + 1) * (sizeof(float) + sizeof(int64_t));
    return EAI_OK;
}

/* a ranks before b in the output */
static inline bool before(float va, int64_t ia, float vb, int64_t ib, bool largest)
{
    if (va != vb) return largest ? va > vb : va < vb;
    return ia < ib;
}

/* Heap whose root is the worst of the kept elements. */
static void sift_down(float *v, int64_t *ix, int64_t n, int64_t i, bool largest)
{
    for (;;) {
        int64_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && before(v[w], ix[w], v[l], ix[l], largest)) w = l;
        if (r < n && before(v[w], ix[w], v[r], ix[r], largest)) w = r;
        if (w == i) return;
        float tv = v[i];
        v[i] = v[w];
        v[w] = tv;
        int64_t ti = ix[i];
        ix[i] = ix[w];
        ix[w] = ti;
        i = w;
    }
}

static eai_status_t topk_eval(eai__opctx_t *c)
{
    const topk_params_t *p = c->params;
    const float *x = c->in[0].data;
    float *vo = c->out[0].data;
    int64_t *io = c->n_out > 1 && c->out[1].data ? c->out[1].data : NULL;
    float *hv = c->scratch;
    int64_t *hi = (int64_t *)(void *)((char *)c->scratch +
                                      EAI_ALIGN_UP((size_t)(p->k + 1) * sizeof(float), 8));
    int64_t k = p->k;
    if (k == 0) return EAI_OK;
    for (int64_t o = 0; o < p->outer; o++)
        for (int64_t in = 0; in < p->inner; in++) {
            const float *s = x + o * p->n * p->inner + in;
            int64_t m = 0;
            for (int64_t j = 0; j < p->n; j++) {
                float v = s[j * p->inner];
                if (m < k) { /* fill, then heapify once full */
                    hv[m] = v;
                    hi[m] = j;
                    if (++m == k)
                        for (int64_t h = k / 2 - 1; h >= 0; h--)
                            sift_down(hv, hi, k, h, p->largest);
                } else if (before(v, j, hv[0], hi[0], p->largest)) {
                    hv[0] = v;
                    hi[0] = j;
                    sift_down(hv, hi, k, 0, p->largest);
                }
            }
            /* pop worst-first into the output from the back: sorted best-first */
            for (int64_t r = k - 1; r >= 0; r--) {
                int64_t dst = (o * k + r) * p->inner + in;
                vo[dst] = hv[0];
                if (io) io[dst] = hi[0];
                hv[0] = hv[r];
                hi[0] = hi[r];
                sift_down(hv, hi, r, 0, p->largest);
            }
        }
    return EAI_OK;
}

const eai__op_def_t eai__ref_ops_topk[] = {
    {"TopK", 0, 1, 2, 1, 2, topk_infer, topk_eval},
    {0},
};
