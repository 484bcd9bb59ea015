/* Range selection for activations from what calibration observed: min-max,
 * a percentile, or the KL-divergence threshold of TensorRT's entropy
 * calibrator (Migacz, "8-bit Inference with TensorRT", GTC 2017). The
 * clipping methods work on each side of zero separately (an activation's
 * negative and positive tails differ: images, ReLU6, HardSwish), each with
 * its share of the 256 int8 levels.
 */
#include <math.h>

#include "quant/quant_impl.h"

eai__qrange_t eai__calib_minmax(float lo, float hi)
{
    /* zero must be exact (padding, ReLU), so the range always contains it */
    eai__qrange_t r = {lo < 0.0f ? lo : 0.0f, hi > 0.0f ? hi : 0.0f, true};
    return r;
}

float eai__calib_percentile(const uint32_t *hist, int n_bins, float amax, double pct)
{
    double total = 0;
    for (int b = 0; b < n_bins; b++)
        total += hist[b];
    if (total <= 0 || amax <= 0) return amax;
    const double want = total * pct / 100.0;
    double cum = 0;
    int b = 0;
    for (; b < n_bins - 1; b++) {
        cum += hist[b];
        if (cum >= want) break;
    }
    return amax * (float)(b + 1) / (float)n_bins;
}

/* KL(P || Q) of two unnormalised distributions of n bins; bins where P is
 * zero contribute nothing, and an empty Q bin under a non-empty P bin gets
 * a tiny mass instead of an infinite divergence. */
static double kl(const double *p, const double *q, int n)
{
    double sp = 0, sq = 0;
    for (int i = 0; i < n; i++)
        sp += p[i], sq += q[i];
    if (sp <= 0 || sq <= 0) return INFINITY;
    double d = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] <= 0) continue;
        const double pi = p[i] / sp, qi = q[i] > 0 ? q[i] / sq : 1e-12;
        d += pi * log(pi / qi);
    }
    return d;
}

float eai__calib_entropy(const uint32_t *hist, int n_bins, float amax, int levels)
{
    const int nq = levels;
    if (amax <= 0 || n_bins <= nq) return amax;
    double *p = eai__calloc(NULL, (size_t)n_bins * 2, sizeof(double));
    if (!p) return amax; /* best effort: no clipping */
    double *q = p + n_bins;
    double best = INFINITY;
    int best_i = n_bins;
    double tail = 0;
    for (int b = nq; b < n_bins; b++)
        tail += hist[b];
        /* bin 0 holds the exact zeros (ReLU, padding): a spike that would
         * dominate the divergence, and that every candidate represents exactly */
#define H(b) ((b) == 0 ? 0.0 : (double)hist[b])
    for (int i = nq; i <= n_bins; i++) {
        /* P: the first i bins with everything beyond folded into the last */
        for (int b = 0; b < i; b++)
            p[b] = H(b);
        p[i - 1] += tail;
        if (i < n_bins) tail -= hist[i];
        /* Q: the first i bins merged into nq levels, each level's mass
         * spread back over its non-empty bins */
        for (int j = 0; j < nq; j++) {
            const int s = (int)((int64_t)j * i / nq), e = (int)((int64_t)(j + 1) * i / nq);
            double sum = 0;
            int nz = 0;
            for (int b = s; b < e; b++) {
                sum += H(b);
                nz += H(b) != 0;
            }
            for (int b = s; b < e; b++)
                q[b] = H(b) != 0 ? sum / nz : 0;
        }
        const double d = kl(p, q, i);
        if (d < best) best = d, best_i = i;
    }
#undef H
    eai__free(NULL, p);
    return amax * ((float)best_i + 0.5f) / (float)n_bins;
}
