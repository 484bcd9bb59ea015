/* The latency book: a ring of the most recent frames' per-stage timings
 * (compute, wait, overhead) plus end to end, and the percentiles read from it.
 * Everything is allocated at start; recording is a few stores. */
#include <math.h>
#include <stdlib.h>

#include "pipeline/pipeline_impl.h"

eai_status_t eai__pl_book_init(pl_book_t *b, const eai_allocator_t *a, int cap, int n_stages)
{
    memset(b, 0, sizeof *b);
    b->cap = cap;
    b->n_stages = n_stages;
    b->v = eai__calloc(a, (size_t)cap * (size_t)n_stages * 3, sizeof *b->v);
    b->ran = eai__calloc(a, (size_t)cap, sizeof *b->ran);
    b->done = eai__calloc(a, (size_t)cap, sizeof *b->done);
    b->e2e = eai__calloc(a, (size_t)cap, sizeof *b->e2e);
    b->ovh = eai__calloc(a, (size_t)cap, sizeof *b->ovh);
    b->scratch = eai__calloc(a, (size_t)cap, sizeof *b->scratch);
    if (!b->v || !b->ran || !b->done || !b->e2e || !b->ovh || !b->scratch) {
        eai__pl_book_free(b, a);
        return eai_fail(EAI_E_NOMEM, "pipeline: latency book of %d frames", cap);
    }
    return EAI_OK;
}

void eai__pl_book_free(pl_book_t *b, const eai_allocator_t *a)
{
    eai__free(a, b->v);
    eai__free(a, b->ran);
    eai__free(a, b->done);
    eai__free(a, b->e2e);
    eai__free(a, b->ovh);
    eai__free(a, b->scratch);
    memset(b, 0, sizeof *b);
}

void eai__pl_book_reset(pl_book_t *b)
{
    b->head = b->count = 0;
    b->n_frames = b->n_completed = b->n_failed = b->n_cancelled = 0;
    b->t_first = b->t_last = 0;
}

void eai__pl_book_record(pl_book_t *b, const pl_item_t *it)
{
    int e = b->head;
    b->head = (b->head + 1) % b->cap;
    if (b->count < b->cap) b->count++;
    float *v = b->v + (size_t)e * (size_t)b->n_stages * 3;
    int64_t ovh = 0;
    for (int s = 0; s < b->n_stages; s++) {
        if (!(it->ran & (1u << s))) continue;
        v[s * 3 + 0] = (float)it->t[s].compute * 1e-3f;
        v[s * 3 + 1] = (float)it->t[s].wait * 1e-3f;
        v[s * 3 + 2] = (float)it->t[s].overhead * 1e-3f;
        if (s > 0) ovh += it->t[s].overhead;
    }
    b->ran[e] = it->ran;
    b->done[e] = (it->flags & PL_DONE) != 0;
    b->e2e[e] = b->done[e] ? (float)(it->t_done - it->pub.t_source_ns) * 1e-3f : 0;
    b->ovh[e] = b->done[e] ? (float)ovh * 1e-3f : 0;
    b->n_frames++;
    if (it->flags & PL_DONE) b->n_completed++;
    if (it->flags & PL_FAILED) b->n_failed++;
    if (it->flags & PL_CANCELLED) b->n_cancelled++;
    if (b->t_first == 0 || it->pub.t_source_ns < b->t_first) b->t_first = it->pub.t_source_ns;
    if ((it->flags & PL_DONE) && it->t_done > b->t_last) b->t_last = it->t_done;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

double eai__pl_percentile(float *v, int n, double q)
{
    if (n <= 0) return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_float);
    /* nearest rank: the smallest value with at least q of the samples <= it */
    int k = (int)ceil(q * n - 1e-9);
    if (k < 1) k = 1;
    if (k > n) k = n;
    return v[k - 1];
}

/* Fills a latency summary (ms) from the first n values of scratch (us). */
static void summarise(float *us, int n, eai_latency_t *out)
{
    memset(out, 0, sizeof *out);
    if (n == 0) return;
    double sum = 0, mx = 0;
    for (int i = 0; i < n; i++) {
        sum += us[i];
        if (us[i] > mx) mx = us[i];
    }
    out->n = (uint64_t)n;
    out->mean_ms = sum / n * 1e-3;
    out->max_ms = mx * 1e-3;
    out->p50_ms = eai__pl_percentile(us, n, 0.50) * 1e-3;
    out->p99_ms = eai__pl_percentile(us, n, 0.99) * 1e-3;
}

void eai__pl_book_stats(pl_book_t *b, eai_pipeline_stats_t *out)
{
    /* entries 0..count-1 of the ring are all valid (order does not matter) */
    for (int s = 0; s < b->n_stages; s++) {
        eai_latency_t *dst[3] = {&out->stage[s].compute, &out->stage[s].wait,
                                 &out->stage[s].overhead};
        for (int k = 0; k < 3; k++) {
            int n = 0;
            for (int e = 0; e < b->count; e++)
                if (b->ran[e] & (1u << s))
                    b->scratch[n++] =
                        b->v[((size_t)e * (size_t)b->n_stages + (size_t)s) * 3 + (size_t)k];
            summarise(b->scratch, n, dst[k]);
        }
    }
    double sum_e2e = 0, sum_ovh = 0;
    int n = 0;
    for (int e = 0; e < b->count; e++)
        if (b->done[e]) {
            b->scratch[n++] = b->e2e[e];
            sum_e2e += b->e2e[e];
            sum_ovh += b->ovh[e];
        }
    summarise(b->scratch, n, &out->e2e);
    n = 0;
    for (int e = 0; e < b->count; e++)
        if (b->done[e]) b->scratch[n++] = b->ovh[e];
    summarise(b->scratch, n, &out->overhead);
    out->overhead_share = sum_e2e > 0 ? sum_ovh / sum_e2e : 0;
    out->n_completed = b->n_completed;
    out->n_failed = b->n_failed;
    out->n_cancelled = b->n_cancelled;
    out->elapsed_s = b->t_last > b->t_first ? (double)(b->t_last - b->t_first) * 1e-9 : 0;
    out->fps = out->elapsed_s > 0 ? (double)b->n_completed / out->elapsed_s : 0;
}
