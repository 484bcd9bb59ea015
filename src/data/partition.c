/* Partitioners that deal a data set's sample indices out to simulated clients,
 * the splits federated-learning papers use: IID, FedAvg's label shards
 * (McMahan et al. 2017, §3), NIID-Bench's per-class Dirichlet (Li et al. 2021,
 * "Federated Learning on Non-IID Data Silos", §4.1) and one label per client.
 * Clients are stored CSR-style: one index array, client k owns
 * idx[off[k]..off[k+1]). Every draw comes from one seeded xoshiro256**. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_impl.h"

/* NIID-Bench redraws until every client has min_samples, with no limit; we
 * stop after this many draws and say why. */
#define MAX_DIRICHLET_DRAWS 1000

struct eai_partition {
    eai_allocator_t alloc;
    int n_clients;
    int64_t n_dropped;
    int64_t *off; /* n_clients + 1 */
    int32_t *idx; /* off[n_clients] entries */
};

void eai_partition_destroy(eai_partition_t *p)
{
    if (!p) return;
    eai_allocator_t a = p->alloc;
    eai__free(&a, p->off);
    eai__free(&a, p->idx);
    eai__free(&a, p);
}

/* Indices 0..n-1 grouped by label (stable in `order`), with per-class offsets
 * cls[0..n_classes]. */
static void bucket_by_label(const eai_dataset_t *ds, const int32_t *order, int64_t n, int32_t *out,
                            int64_t *cls)
{
    int nc = ds->n_classes;
    memset(cls, 0, (size_t)(nc + 1) * sizeof *cls);
    for (int64_t i = 0; i < n; i++)
        cls[ds->y[order[i]] + 1]++;
    for (int c = 0; c < nc; c++)
        cls[c + 1] += cls[c];
    int64_t *fill = cls + nc + 1; /* caller gave 2 * (nc + 1) slots */
    memcpy(fill, cls, (size_t)(nc + 1) * sizeof *cls);
    for (int64_t i = 0; i < n; i++)
        out[fill[ds->y[order[i]]]++] = order[i];
}

static eai_status_t part_iid(eai_partition_t *p, eai__rng_t *r, int32_t *all, int64_t n)
{
    int K = p->n_clients;
    eai__rng_shuffle(r, all, n);
    int64_t per = n / K;
    p->n_dropped = n - per * K;
    for (int k = 0; k <= K; k++)
        p->off[k] = per * k;
    memcpy(p->idx, all, (size_t)(per * K) * sizeof *all);
    return EAI_OK;
}

static eai_status_t part_shards(eai_partition_t *p, const eai_dataset_t *ds,
                                const eai_partition_opts_t *o, eai__rng_t *r, int32_t *all,
                                int32_t *tmp, int64_t *cls)
{
    int K = p->n_clients, spc = o->shards_per_client ? o->shards_per_client : 2;
    int64_t n = ds->n, n_shards;
    if (spc < 0 || !eai__mul_ok(K, spc, &n_shards) || n_shards > n)
        return eai_fail(EAI_E_INVALID,
                        "partition shards: %d clients x %d shards does not fit %lld samples", K,
                        spc, (long long)n);
    int64_t size = n / n_shards, kept = n_shards * size;
    /* Drop the remainder at random (not the tail of the sorted order, which
     * would take it all from the last class), then sort by label. */
    eai__rng_shuffle(r, all, n);
    p->n_dropped = n - kept;
    bucket_by_label(ds, all, kept, tmp, cls);
    int32_t *perm = all; /* reuse: n_shards <= n */
    for (int64_t s = 0; s < n_shards; s++)
        perm[s] = (int32_t)s;
    eai__rng_shuffle(r, perm, n_shards);
    int64_t at = 0;
    for (int k = 0; k < K; k++) {
        p->off[k] = at;
        for (int j = 0; j < spc; j++) {
            int64_t s = perm[(int64_t)k * spc + j];
            memcpy(p->idx + at, tmp + s * size, (size_t)size * sizeof *tmp);
            at += size;
        }
    }
    p->off[K] = at;
    return EAI_OK;
}

/* Standard normal by Box-Muller (u1 in (0, 1], so the log is finite). */
static double normal(eai__rng_t *r)
{
    double u1 = 1.0 - eai__rng_uniform(r), u2 = eai__rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* log of a Gamma(a, 1) draw: Marsaglia & Tsang (2000) for a >= 1, and for
 * a < 1 their boost G(a) = G(a + 1) * U^(1/a), kept in logs because U^(1/a)
 * underflows for the small alphas that make partitions skewed. */
static double log_gamma_draw(eai__rng_t *r, double a)
{
    double boost = 0;
    if (a < 1) {
        boost = log(1.0 - eai__rng_uniform(r)) / a;
        a += 1;
    }
    double d = a - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x = normal(r), v = 1 + c * x;
        if (v <= 0) continue;
        v = v * v * v;
        double u = 1.0 - eai__rng_uniform(r);
        if (log(u) < 0.5 * x * x + d - d * v + d * log(v)) return log(d * v) + boost;
    }
}

static void dirichlet(eai__rng_t *r, double alpha, int K, double *p)
{
    double mx = -INFINITY, sum = 0;
    for (int k = 0; k < K; k++) {
        p[k] = log_gamma_draw(r, alpha);
        if (p[k] > mx) mx = p[k];
    }
    for (int k = 0; k < K; k++)
        sum += (p[k] = exp(p[k] - mx));
    for (int k = 0; k < K; k++)
        p[k] /= sum;
}

/* NIID-Bench's partition_data(..., 'noniid-labeldir'): per class, shares from
 * Dirichlet(alpha), zeroed for clients already holding N/K samples, cut at
 * floor(cumsum * n_class); redrawn until the smallest client has min_samples;
 * each client's list shuffled. */
static eai_status_t part_dirichlet(eai_partition_t *p, const eai_dataset_t *ds,
                                   const eai_partition_opts_t *o, eai__rng_t *r, int32_t *all,
                                   int32_t *tmp, int64_t *cls)
{
    int K = p->n_clients, nc = ds->n_classes;
    int64_t n = ds->n, min_samples = o->min_samples ? o->min_samples : 10;
    double alpha = o->alpha != 0.0f ? o->alpha : 0.5;
    if (!(alpha > 0) || !isfinite(alpha) || min_samples < 0)
        return eai_fail(EAI_E_INVALID,
                        "partition dirichlet: alpha %g and min_samples %lld must "
                        "be positive",
                        alpha, (long long)min_samples);
    if (min_samples > n / K)
        return eai_fail(EAI_E_INVALID,
                        "partition dirichlet: %d clients x %lld min_samples exceeds %lld samples",
                        K, (long long)min_samples, (long long)n);
    double *prop = eai__alloc(&p->alloc, (size_t)K * sizeof *prop);
    int64_t *cnt = eai__alloc(&p->alloc, (size_t)K * sizeof *cnt);
    int32_t *own = eai__alloc(&p->alloc, (size_t)n * sizeof *own);
    eai_status_t st = EAI_OK;
    if (!prop || !cnt || !own) st = eai_fail(EAI_E_NOMEM, "partition: out of memory");
    bucket_by_label(ds, all, n, tmp, cls); /* all is 0..n-1 here */
    int draw = 0;
    for (; st == EAI_OK && draw < MAX_DIRICHLET_DRAWS; draw++) {
        memset(cnt, 0, (size_t)K * sizeof *cnt);
        for (int c = 0; c < nc; c++) {
            int64_t lo = cls[c], m = cls[c + 1] - lo;
            eai__rng_shuffle(r, tmp + lo, m);
            dirichlet(r, alpha, K, prop);
            double sum = 0, cum = 0;
            for (int k = 0; k < K; k++)
                sum += (prop[k] *= (double)cnt[k] < (double)n / K ? 1.0 : 0.0);
            if (EAI_NEVER(sum <= 0)) /* impossible while samples remain; be safe */
                for (int k = 0; k < K; k++)
                    sum += (prop[k] = 1.0);
            int64_t start = 0;
            for (int k = 0; k < K; k++) {
                cum += prop[k] / sum;
                int64_t end = k == K - 1 ? m : (int64_t)(cum * (double)m);
                if (end > m) end = m;
                if (end < start) end = start;
                for (int64_t i = start; i < end; i++)
                    own[lo + i] = k;
                cnt[k] += end - start;
                start = end;
            }
        }
        int64_t mn = n;
        for (int k = 0; k < K; k++)
            if (cnt[k] < mn) mn = cnt[k];
        if (mn >= min_samples) break;
    }
    if (st == EAI_OK && draw == MAX_DIRICHLET_DRAWS)
        st = eai_fail(EAI_E_INVALID,
                      "partition dirichlet: no draw in %d gave every one of %d clients %lld "
                      "samples (alpha %g); raise alpha or lower min_samples",
                      MAX_DIRICHLET_DRAWS, K, (long long)min_samples, alpha);
    if (st == EAI_OK) { /* counting sort by owner */
        memset(p->off, 0, (size_t)(K + 1) * sizeof *p->off);
        for (int64_t i = 0; i < n; i++)
            p->off[own[i] + 1]++;
        for (int k = 0; k < K; k++)
            p->off[k + 1] += p->off[k];
        memcpy(cnt, p->off, (size_t)K * sizeof *cnt);
        for (int64_t i = 0; i < n; i++)
            p->idx[cnt[own[i]]++] = tmp[i];
        /* NIID-Bench shuffles each party's list at the end, so a client's
         * samples are not grouped by class. */
        for (int k = 0; k < K; k++)
            eai__rng_shuffle(r, p->idx + p->off[k], p->off[k + 1] - p->off[k]);
        p->n_dropped = 0;
    }
    eai__free(&p->alloc, prop);
    eai__free(&p->alloc, cnt);
    eai__free(&p->alloc, own);
    return st;
}

/* Client k gets label L[k mod |L|] (L: labels that have samples); a label's
 * samples are split evenly among its clients. Labels no client draws are
 * dropped. */
static eai_status_t part_one_label(eai_partition_t *p, const eai_dataset_t *ds, eai__rng_t *r,
                                   int32_t *all, int32_t *tmp, int64_t *cls)
{
    int K = p->n_clients, nc = ds->n_classes, nl = 0;
    eai__rng_shuffle(r, all, ds->n);
    bucket_by_label(ds, all, ds->n, tmp, cls);
    int32_t *present = all; /* reuse: nc <= n */
    for (int c = 0; c < nc; c++)
        if (cls[c + 1] > cls[c]) present[nl++] = c;
    int64_t at = 0, kept = 0;
    for (int k = 0; k < K; k++) {
        int c = present[k % nl];
        int64_t m = cls[c + 1] - cls[c];
        int64_t share = K / nl + (k % nl < K % nl ? 1 : 0); /* clients holding label c */
        int64_t j = k / nl;                                 /* this client's place among them */
        int64_t lo = m * j / share, hi = m * (j + 1) / share;
        if (hi == lo)
            return eai_fail(EAI_E_INVALID,
                            "partition one-label: label %d has %lld samples for %lld clients", c,
                            (long long)m, (long long)share);
        p->off[k] = at;
        memcpy(p->idx + at, tmp + cls[c] + lo, (size_t)(hi - lo) * sizeof *tmp);
        at += hi - lo;
    }
    p->off[K] = at;
    for (int i = 0; i < nl && i < K; i++)
        kept += cls[present[i] + 1] - cls[present[i]];
    p->n_dropped = ds->n - kept;
    return EAI_OK;
}

eai_status_t eai_partition_create(const eai_dataset_t *ds, const eai_partition_opts_t *opts,
                                  eai_partition_t **out)
{
    if (!ds || !opts || !out) return eai_fail(EAI_E_INVALID, "partition: NULL argument");
    int K = opts->n_clients;
    if (K <= 0) return eai_fail(EAI_E_INVALID, "partition: n_clients is %d (must be >= 1)", K);
    if (K > ds->n)
        return eai_fail(EAI_E_INVALID,
                        "partition: %d clients for %lld samples (need at least "
                        "one sample per client)",
                        K, (long long)ds->n);
    if (ds->n > INT32_MAX)
        return eai_fail(EAI_E_UNSUPPORTED, "partition: %lld samples exceed int32 indices",
                        (long long)ds->n);
    if (opts->kind < EAI_PART_IID || opts->kind > EAI_PART_ONE_LABEL)
        return eai_fail(EAI_E_INVALID, "partition: unknown kind %d", (int)opts->kind);
    const eai_allocator_t *a = &ds->alloc;
    int64_t n = ds->n;
    eai_partition_t *p = eai__calloc(a, 1, sizeof *p);
    int32_t *all = eai__alloc(a, (size_t)n * sizeof *all);
    int32_t *tmp = eai__alloc(a, (size_t)n * sizeof *tmp);
    int64_t *cls = eai__alloc(a, (size_t)(2 * (ds->n_classes + 1)) * sizeof *cls);
    eai_status_t st = EAI_OK;
    if (p) {
        p->alloc = *a;
        p->n_clients = K;
        p->off = eai__calloc(a, (size_t)K + 1, sizeof *p->off);
        p->idx = eai__alloc(a, (size_t)n * sizeof *p->idx);
    }
    if (!p || !all || !tmp || !cls || !p->off || !p->idx)
        st = eai_fail(EAI_E_NOMEM, "partition: out of memory for %lld samples", (long long)n);
    eai__rng_t r;
    eai__rng_seed(&r, opts->seed);
    for (int64_t i = 0; st == EAI_OK && i < n; i++)
        all[i] = (int32_t)i;
    if (st == EAI_OK) {
        switch (opts->kind) {
        case EAI_PART_IID:
            st = part_iid(p, &r, all, n);
            break;
        case EAI_PART_SHARDS:
            st = part_shards(p, ds, opts, &r, all, tmp, cls);
            break;
        case EAI_PART_DIRICHLET:
            st = part_dirichlet(p, ds, opts, &r, all, tmp, cls);
            break;
        case EAI_PART_ONE_LABEL:
            st = part_one_label(p, ds, &r, all, tmp, cls);
            break;
        }
    }
    eai__free(a, all);
    eai__free(a, tmp);
    eai__free(a, cls);
    if (st != EAI_OK) {
        eai_partition_destroy(p);
        return st;
    }
    *out = p;
    return EAI_OK;
}

int eai_partition_n_clients(const eai_partition_t *p)
{
    return p ? p->n_clients : 0;
}

int64_t eai_partition_n_dropped(const eai_partition_t *p)
{
    return p ? p->n_dropped : 0;
}

eai_status_t eai_partition_client(const eai_partition_t *p, int k, const int32_t **idx, int64_t *n)
{
    if (!p || !idx || !n || k < 0 || k >= p->n_clients)
        return eai_fail(EAI_E_INVALID, "partition: client %d outside [0, %d)", k,
                        p ? p->n_clients : 0);
    *idx = p->idx + p->off[k];
    *n = p->off[k + 1] - p->off[k];
    return EAI_OK;
}

eai_status_t eai_partition_histogram(const eai_partition_t *p, const eai_dataset_t *ds, int k,
                                     int64_t *counts)
{
    const int32_t *idx;
    int64_t n;
    if (!ds || !counts) return eai_fail(EAI_E_INVALID, "partition_histogram: NULL argument");
    EAI_TRY(eai_partition_client(p, k, &idx, &n));
    memset(counts, 0, (size_t)ds->n_classes * sizeof *counts);
    for (int64_t i = 0; i < n; i++) {
        if (idx[i] < 0 || idx[i] >= ds->n)
            return eai_fail(EAI_E_INVALID,
                            "partition_histogram: index %d is not in this data "
                            "set (%lld samples)",
                            (int)idx[i], (long long)ds->n);
        counts[ds->y[idx[i]]]++;
    }
    return EAI_OK;
}

eai_status_t eai_partition_parse(const char *s, eai_partition_opts_t *o)
{
    if (!s || !o) return eai_fail(EAI_E_INVALID, "partition_parse: NULL argument");
    const char *colon = strchr(s, ':');
    size_t len = colon ? (size_t)(colon - s) : strlen(s);
    const char *arg = colon ? colon + 1 : NULL;
#define IS(w) (len == strlen(w) && strncmp(s, w, len) == 0)
    if (IS("iid") && !arg) {
        o->kind = EAI_PART_IID;
    } else if (IS("one-label") && !arg) {
        o->kind = EAI_PART_ONE_LABEL;
    } else if (IS("shards")) {
        o->kind = EAI_PART_SHARDS;
        if (arg) {
            char *end;
            long v = strtol(arg, &end, 10);
            if (end == arg || *end || v < 1 || v > 1000000)
                return eai_fail(EAI_E_INVALID,
                                "partition '%s': shards per client must be a "
                                "positive integer",
                                s);
            o->shards_per_client = (int)v;
        }
    } else if (IS("dirichlet")) {
        o->kind = EAI_PART_DIRICHLET;
        if (arg) {
            char *end;
            double v = strtod(arg, &end);
            if (end == arg || *end || !(v > 0) || !isfinite(v) || v > 1e30)
                return eai_fail(EAI_E_INVALID, "partition '%s': alpha must be a positive number",
                                s);
            o->alpha = (float)v;
        }
    } else {
        return eai_fail(EAI_E_INVALID,
                        "partition '%s': expected iid, shards[:K], "
                        "dirichlet[:ALPHA] or one-label",
                        s);
    }
#undef IS
    return EAI_OK;
}
