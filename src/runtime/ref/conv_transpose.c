/* ConvTranspose (ONNX ConvTranspose-11) for the conv family: float32, 1-D to
 * 3-D, groups, strides, dilations, pads, output_padding, output_shape and
 * auto_pad. Correctness first: per image-group, col = W_g^T * X_g (one GEMM
 * over a tile of input positions) and col2im scatters col into Y.
 */
#include "runtime/ref/conv_impl.h"

typedef struct convt_params {
    eai__conv_geom_t g;
    bool has_bias;
    int64_t tile; /* input positions per GEMM + col2im step */
} convt_params_t;
_Static_assert(sizeof(convt_params_t) <= EAI__PARAMS_BYTES, "convtranspose params");

/* Python's total // 2 (floor), which the spec's pad split uses: with an
 * output_shape larger than the natural one the total is negative. */
static int64_t half_floor(int64_t t)
{
    return t >= 0 ? t / 2 : -((-t + 1) / 2);
}

eai_status_t eai__conv_transpose_infer(eai__opctx_t *c)
{
    convt_params_t *p = c->params;
    eai__conv_geom_t *g = &p->g;
    EAI_TRY(eai__conv_parse(c, g));
    const eai__shape_t *w = &c->in[1].shape;
    /* W is [C, M / group, k...] */
    if (w->d[0] != g->c)
        return eai__op_fail(c, EAI_E_FORMAT, "W has %lld input channels (dim 0) but X has %lld",
                            (long long)w->d[0], (long long)g->c);
    if (g->c % g->group != 0)
        return eai__op_fail(c, EAI_E_FORMAT, "X's %lld channels are not a multiple of group %lld",
                            (long long)g->c, (long long)g->group);
    g->m = w->d[1] * g->group;
    EAI_TRY(eai__conv_bias(c, g->m, &p->has_bias));

    const int nsp = g->nsp, off = EAI__CONV_SP - nsp;
    int64_t v[EAI_MAX_RANK];
    int n;
    EAI_TRY(eai__op_ints(c, "output_padding", v, EAI_MAX_RANK, &n));
    if (n >= 0 && n != nsp)
        return eai__op_fail(c, EAI_E_FORMAT, "output_padding has %d values, expected %d", n, nsp);
    for (int i = 0; i < nsp; i++) {
        g->out_pad[off + i] = n < 0 ? 0 : v[i];
        if (g->out_pad[off + i] < 0)
            return eai__op_fail(c, EAI_E_FORMAT, "output_padding[%d] is %lld, expected >= 0", i,
                                (long long)v[i]);
    }
    int64_t os[EAI_MAX_RANK];
    int n_os;
    EAI_TRY(eai__op_ints(c, "output_shape", os, EAI_MAX_RANK, &n_os));
    if (n_os >= 0 && n_os != nsp && n_os != nsp + 2)
        return eai__op_fail(c, EAI_E_FORMAT, "output_shape has %d values, expected %d", n_os, nsp);
    const int64_t *osp = n_os == nsp + 2 ? os + 2 : os; /* full shapes: spatial part */

    eai__shape_t *o = &c->out[0].shape;
    o->rank = 2 + nsp;
    o->d[0] = g->n;
    o->d[1] = g->m;
    for (int i = off; i < EAI__CONV_SP; i++) {
        const int64_t ek = (g->k[i] - 1) * g->d[i] + 1;
        const int64_t natural = g->s[i] * (g->in[i] - 1) + g->out_pad[i] + ek;
        const bool same =
            g->auto_pad == EAI__AUTOPAD_SAME_UPPER || g->auto_pad == EAI__AUTOPAD_SAME_LOWER;
        if (n_os >= 0 || same) {
            /* ConvTranspose-11: pads follow from the requested output; the
             * odd one goes at the start unless SAME_UPPER */
            g->out[i] = n_os >= 0 ? osp[i - off] : g->in[i] * g->s[i];
            if (g->out[i] < 0)
                return eai__op_fail(c, EAI_E_FORMAT, "output_shape[%d] is %lld", i - off,
                                    (long long)g->out[i]);
            const int64_t total = natural - g->out[i];
            const int64_t h = half_floor(total);
            g->pb[i] = g->auto_pad == EAI__AUTOPAD_SAME_UPPER ? h : total - h;
            g->pe[i] = total - g->pb[i];
        } else {
            if (g->auto_pad == EAI__AUTOPAD_VALID) g->pb[i] = g->pe[i] = 0;
            g->out[i] = natural - g->pb[i] - g->pe[i];
            if (g->out[i] < 1)
                return eai__op_fail(
                    c, EAI_E_FORMAT, "spatial dim %d: pads %lld+%lld leave no output (%lld)",
                    i - off, (long long)g->pb[i], (long long)g->pe[i], (long long)g->out[i]);
        }
        o->d[2 + i - off] = g->out[i];
    }
    c->out[0].dtype = EAI_F32;

    const int64_t rows = (g->m / g->group) * g->k[0] * g->k[1] * g->k[2];
    const int64_t isz = g->in[0] * g->in[1] * g->in[2];
    int64_t tile = (int64_t)(EAI__CONV_SCRATCH_CAP / sizeof(float)) / (rows ? rows : 1);
    if (tile < 1) tile = 1;
    if (tile > isz) tile = isz;
    p->tile = tile;
    c->scratch_bytes = (size_t)rows * (size_t)tile * sizeof(float);
    return EAI_OK;
}

typedef struct convt_job {
    const convt_params_t *p;
    const float *col;
    float *yg; /* the group's first output plane */
    int64_t t0, nt, kp;
} convt_job_t;

/* Scatters the col rows of output channels [m0, m1) of the group into Y:
 * input position i under tap (kd, kh, kw) lands on i * s - pb + k * d. */
static void col2im_channels(void *ctx, int64_t m0, int64_t m1)
{
    const convt_job_t *j = ctx;
    const eai__conv_geom_t *g = &j->p->g;
    const int64_t i1 = g->in[1], i2 = g->in[2];
    const int64_t osz = g->out[0] * g->out[1] * g->out[2];
    for (int64_t m = m0; m < m1; m++) {
        float *ym = j->yg + m * osz;
        for (int64_t kk = 0; kk < j->kp; kk++) {
            const int64_t kd = kk / (g->k[1] * g->k[2]), kh = (kk / g->k[2]) % g->k[1],
                          kw = kk % g->k[2];
            const float *src = j->col + (m * j->kp + kk) * j->nt;
            const int64_t woff = kw * g->d[2] - g->pb[2];
            int64_t lo, hi; /* input columns that land inside the output row */
            eai__conv_valid(g->out[2], i2, g->s[2], woff, &lo, &hi);
            int64_t q = j->t0, id = q / (i1 * i2), ih = (q / i2) % i1, iw = q % i2;
            while (q < j->t0 + j->nt) {
                const int64_t seg = i2 - iw < j->t0 + j->nt - q ? i2 - iw : j->t0 + j->nt - q;
                const int64_t od = id * g->s[0] - g->pb[0] + kd * g->d[0];
                const int64_t oh = ih * g->s[1] - g->pb[1] + kh * g->d[1];
                if (od >= 0 && od < g->out[0] && oh >= 0 && oh < g->out[1]) {
                    float *yrow = ym + (od * g->out[1] + oh) * g->out[2];
                    const int64_t a = lo < iw ? iw : lo, b = hi > iw + seg ? iw + seg : hi;
                    for (int64_t x = a; x < b; x++)
                        yrow[x * g->s[2] + woff] += src[x - iw];
                }
                src += seg;
                q += seg;
                iw = 0;
                if (++ih == i1) ih = 0, id++;
            }
        }
    }
}

eai_status_t eai__conv_transpose_eval(eai__opctx_t *c)
{
    const convt_params_t *p = c->params;
    const eai__conv_geom_t *g = &p->g;
    const float *x = c->in[0].data, *w = c->in[1].data;
    const float *bias = p->has_bias ? c->in[2].data : NULL;
    float *y = c->out[0].data, *col = c->scratch;
    const int64_t cg = g->c / g->group, mg = g->m / g->group;
    const int64_t kp = g->k[0] * g->k[1] * g->k[2], rows = mg * kp;
    const int64_t isz = g->in[0] * g->in[1] * g->in[2];
    const int64_t osz = g->out[0] * g->out[1] * g->out[2];
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t m = 0; m < g->m; m++) {
            float *ym = y + (n * g->m + m) * osz;
            const float b = bias ? bias[m] : 0.0f;
            for (int64_t i = 0; i < osz; i++)
                ym[i] = b;
        }
    if (isz == 0 || rows == 0) return EAI_OK;
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t gi = 0; gi < g->group; gi++) {
            const float *xg = x + (n * g->c + gi * cg) * isz;
            convt_job_t j = {p, col, y + (n * g->m + gi * mg) * osz, 0, 0, kp};
            for (j.t0 = 0; j.t0 < isz; j.t0 += p->tile) {
                j.nt = isz - j.t0 < p->tile ? isz - j.t0 : p->tile;
                /* W_g is [Cg, Mg * kp]: col[Mg * kp, nt] = W_g^T * X_g[:, tile] */
                eai__sgemm(c->pool, true, false, rows, j.nt, cg, 1.0f, w + gi * cg * rows, rows,
                           xg + j.t0, isz, 0.0f, col, j.nt);
                eai__parallel_for(c->pool, mg, col2im_channels, &j);
            }
        }
    return EAI_OK;
}
