/* Temperature scaling (Guo et al., "On Calibration of Modern Neural
 * Networks", 2017): one scalar T > 0 divides the logits so that the softmax
 * confidence matches accuracy. The NLL is smooth and unimodal in log T, so a
 * golden-section search on log T needs no gradient and cannot diverge. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/core_impl.h"
#include "edgeai/router.h"

#define T_LO      0.05
#define T_HI      20.0
#define GOLD_ITER 60

static eai_status_t check(const float *logits, const int32_t *labels, int64_t n, int k,
                          const char *fn)
{
    if (!logits || !labels) return eai_fail(EAI_E_INVALID, "%s: NULL logits or labels", fn);
    if (n < 1) return eai_fail(EAI_E_INVALID, "%s: n = %lld, expected >= 1", fn, (long long)n);
    if (k < 2) return eai_fail(EAI_E_INVALID, "%s: k = %d classes, expected >= 2", fn, k);
    for (int64_t i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] >= k)
            return eai_fail(EAI_E_INVALID, "%s: label %lld is %d, expected 0..%d", fn, (long long)i,
                            (int)labels[i], k - 1);
        for (int j = 0; j < k; j++)
            if (!isfinite(logits[i * k + j]))
                return eai_fail(EAI_E_INVALID, "%s: logit [%lld, %d] is not finite", fn,
                                (long long)i, j);
    }
    return EAI_OK;
}

/* log-sum-exp of row / T and the row's largest entry, in double. */
static double row_lse(const float *row, int k, double inv_t, int *argmax)
{
    int am = 0;
    for (int j = 1; j < k; j++)
        if (row[j] > row[am]) am = j;
    double m = row[am] * inv_t, s = 0;
    for (int j = 0; j < k; j++)
        s += exp(row[j] * inv_t - m);
    if (argmax) *argmax = am;
    return m + log(s);
}

static double nll_at(const float *logits, const int32_t *labels, int64_t n, int k, double t)
{
    double inv_t = 1.0 / t, sum = 0;
    for (int64_t i = 0; i < n; i++) {
        const float *row = logits + i * k;
        sum += row_lse(row, k, inv_t, NULL) - row[labels[i]] * inv_t;
    }
    return sum / (double)n;
}

eai_status_t eai_calib_nll(const float *logits, const int32_t *labels, int64_t n, int k,
                           float temperature, double *nll)
{
    EAI_TRY(check(logits, labels, n, k, "calib nll"));
    if (!(temperature > 0) || !isfinite(temperature) || !nll)
        return eai_fail(EAI_E_INVALID, "calib nll: temperature %g, expected > 0",
                        (double)temperature);
    *nll = nll_at(logits, labels, n, k, temperature);
    return EAI_OK;
}

eai_status_t eai_calib_fit_temperature(const float *logits, const int32_t *labels, int64_t n, int k,
                                       float *temperature)
{
    EAI_TRY(check(logits, labels, n, k, "calib fit"));
    if (!temperature) return eai_fail(EAI_E_INVALID, "calib fit: NULL temperature");
    const double g = (sqrt(5.0) - 1) / 2;
    double a = log(T_LO), b = log(T_HI);
    double c = b - g * (b - a), d = a + g * (b - a);
    double fc = nll_at(logits, labels, n, k, exp(c)), fd = nll_at(logits, labels, n, k, exp(d));
    /* 60 iterations shrink the bracket by 0.618^60 ~ 3e-13: far below float. */
    for (int it = 0; it < GOLD_ITER; it++) {
        if (fc < fd) {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = nll_at(logits, labels, n, k, exp(c));
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = nll_at(logits, labels, n, k, exp(d));
        }
    }
    *temperature = (float)exp((a + b) / 2);
    return EAI_OK;
}

eai_status_t eai_calib_ece(const float *logits, const int32_t *labels, int64_t n, int k,
                           float temperature, int n_bins, float *ece)
{
    EAI_TRY(check(logits, labels, n, k, "calib ece"));
    if (!(temperature > 0) || !isfinite(temperature) || !ece)
        return eai_fail(EAI_E_INVALID, "calib ece: temperature %g, expected > 0",
                        (double)temperature);
    if (n_bins == 0) n_bins = 15;
    if (n_bins < 1 || n_bins > 10000)
        return eai_fail(EAI_E_INVALID, "calib ece: %d bins, expected 1..10000", n_bins);
    double *acc = eai__calloc(NULL, (size_t)n_bins * 3, sizeof(double));
    if (!acc) return eai_fail(EAI_E_NOMEM, "calib ece: out of memory");
    double *conf = acc + n_bins, *cnt = conf + n_bins;
    double inv_t = 1.0 / temperature;
    for (int64_t i = 0; i < n; i++) {
        int am;
        const float *row = logits + i * k;
        double lse = row_lse(row, k, inv_t, &am);
        double p = exp(row[am] * inv_t - lse);
        /* Bins are (lo, hi] as in Guo et al.; p = 0 cannot occur (p >= 1/k). */
        int bin = (int)ceil(p * n_bins) - 1;
        if (bin < 0) bin = 0;
        if (bin >= n_bins) bin = n_bins - 1;
        cnt[bin] += 1;
        conf[bin] += p;
        acc[bin] += am == labels[i];
    }
    double e = 0;
    for (int b = 0; b < n_bins; b++)
        if (cnt[b] > 0) e += fabs(acc[b] - conf[b]) / (double)n;
    eai__free(NULL, acc);
    *ece = (float)e;
    return EAI_OK;
}

eai_status_t eai_calib_save(const char *path, float temperature, float ece_before, float ece_after,
                            int64_t n)
{
    if (!path || !(temperature > 0) || !isfinite(temperature))
        return eai_fail(EAI_E_INVALID, "calib save: NULL path or temperature %g",
                        (double)temperature);
    size_t len = strlen(path);
    char *tmp = eai__alloc(NULL, len + 5);
    if (!tmp) return eai_fail(EAI_E_NOMEM, "calib save: out of memory");
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp", 5);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        eai_status_t st = eai_fail(EAI_E_IO, "calib save: %s: %s", tmp, strerror(errno));
        eai__free(NULL, tmp);
        return st;
    }
    fprintf(f, "{\"temperature\": %.9g, \"ece_before\": %.6g, \"ece_after\": %.6g, \"n\": %lld}\n",
            (double)temperature, (double)ece_before, (double)ece_after, (long long)n);
    bool ok = fflush(f) == 0 && !ferror(f);
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        eai_status_t st = eai_fail(EAI_E_IO, "calib save: %s: %s", path, strerror(errno));
        remove(tmp);
        eai__free(NULL, tmp);
        return st;
    }
    eai__free(NULL, tmp);
    return EAI_OK;
}

eai_status_t eai_calib_load(const char *path, float *temperature)
{
    if (!path || !temperature) return eai_fail(EAI_E_INVALID, "calib load: NULL argument");
    void *data;
    size_t n;
    EAI_TRY(eai__read_file(NULL, path, &data, &n));
    cJSON *root = cJSON_ParseWithLength(data, n);
    eai__free_aligned(NULL, data);
    if (!root) return eai_fail(EAI_E_FORMAT, "calib load: %s: not valid JSON", path);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "temperature");
    double v = cJSON_IsNumber(t) ? t->valuedouble : NAN;
    cJSON_Delete(root);
    if (!(v > 0) || !isfinite(v) || v > 1e6)
        return eai_fail(EAI_E_FORMAT, "calib load: %s: \"temperature\" missing or not > 0", path);
    *temperature = (float)v;
    return EAI_OK;
}
