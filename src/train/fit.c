/* Epoch loops over a data set: gather a batch into the trainer's input
 * buffer, step (or eval), report progress. The index list is the only
 * allocation, once per call; batches reuse buffers sized at create. */
#include <cblas.h>
#include <time.h>

#include "train/trainer_impl.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static eai_status_t check_ds(const eai_trainer_t *t, const char *fn, const eai_dataset_t *ds,
                             const int32_t *idx, int64_t n)
{
    if (!t || !ds) return eai_fail(EAI_E_INVALID, "%s: trainer and data set must not be NULL", fn);
    if (eai_dataset_sample_numel(ds) != t->sample_numel)
        return eai_fail(
            EAI_E_INVALID, "%s: %s: samples have %lld floats, the model's input takes %lld", fn,
            t->g->label, (long long)eai_dataset_sample_numel(ds), (long long)t->sample_numel);
    if (idx && n < 0)
        return eai_fail(EAI_E_INVALID, "%s: negative sample count %lld", fn, (long long)n);
    if (t->loss == EAI_LOSS_XENT && eai_dataset_n_classes(ds) > t->out_numel)
        return eai_fail(EAI_E_INVALID, "%s: %s: data set has %d classes, the model outputs %lld",
                        fn, t->g->label, eai_dataset_n_classes(ds), (long long)t->out_numel);
    return EAI_OK;
}

/* The labels of a batch in the loss's form: int32 as is (XENT) or one-hot
 * float targets (MSE). */
static const void *targets(eai_trainer_t *t, int n)
{
    if (t->loss == EAI_LOSS_XENT) return t->ybuf;
    /* gathered labels sit at the start of ybuf; expand back to front so no
     * label is overwritten before it is read */
    const int32_t *lab = t->ybuf;
    float *y = t->ybuf;
    int64_t c = t->out_numel;
    for (int i = n - 1; i >= 0; i--) {
        int32_t l = lab[i];
        for (int64_t k = c - 1; k >= 0; k--)
            y[i * c + k] = k == l ? 1.0f : 0.0f;
    }
    return y;
}

static eai_status_t make_order(eai_trainer_t *t, const eai_dataset_t *ds, const int32_t *idx,
                               int64_t *n, int32_t **order)
{
    if (!idx) *n = eai_dataset_n(ds);
    *order = eai__alloc(&t->alloc, (size_t)(*n ? *n : 1) * sizeof(int32_t));
    if (!*order) return eai_fail(EAI_E_NOMEM, "%s: out of memory", t->g->label);
    for (int64_t i = 0; i < *n; i++)
        (*order)[i] = idx ? idx[i] : (int32_t)i;
    return EAI_OK;
}

eai_status_t eai_trainer_fit(eai_trainer_t *t, const eai_dataset_t *ds, const int32_t *idx,
                             int64_t n, int epochs, uint64_t seed, eai_train_stats_t *st)
{
    EAI_TRY(check_ds(t, "eai_trainer_fit", ds, idx, n));
    if (epochs < 0) return eai_fail(EAI_E_INVALID, "eai_trainer_fit: epochs %d < 0", epochs);
    int32_t *order;
    EAI_TRY(make_order(t, ds, idx, &n, &order));
    openblas_set_num_threads(1); /* see create: the kernels thread */
    eai_status_t s = EAI_OK;
    eai_train_stats_t last = {0};
    int64_t steps = (n + t->batch - 1) / t->batch;
    for (int e = 0; e < epochs && s == EAI_OK; e++) {
        /* a different permutation per epoch, reproducible from `seed` */
        eai_shuffle_i32(order, n, seed + (uint64_t)e);
        double t0 = now_s(), sum = 0;
        int64_t correct = 0, seen = 0;
        for (int64_t k = 0; k < steps; k++) {
            int b = (int)(n - k * t->batch < t->batch ? n - k * t->batch : t->batch);
            s = eai_dataset_gather(ds, order + k * t->batch, b, t->xbuf, t->ybuf);
            eai_step_result_t r;
            if (s == EAI_OK) s = eai_trainer_step(t, t->xbuf, targets(t, b), b, &r);
            if (s != EAI_OK) break;
            sum += r.loss * (double)b;
            correct += r.correct;
            seen += b;
            if (t->progress) {
                eai_fit_progress_t p = {e + 1,
                                        epochs,
                                        k + 1,
                                        steps,
                                        sum / (double)seen,
                                        (double)correct / (double)seen};
                t->progress(&p, t->progress_user);
            }
        }
        last.loss = seen ? sum / (double)seen : 0;
        last.accuracy = seen && t->loss == EAI_LOSS_XENT ? (double)correct / (double)seen : 0;
        last.n_samples = seen;
        last.n_steps = steps;
        last.seconds = now_s() - t0;
    }
    eai__free(&t->alloc, order);
    if (s == EAI_OK && st) *st = last;
    return s;
}

eai_status_t eai_trainer_evaluate(eai_trainer_t *t, const eai_dataset_t *ds, const int32_t *idx,
                                  int64_t n, eai_train_stats_t *st)
{
    EAI_TRY(check_ds(t, "eai_trainer_evaluate", ds, idx, n));
    int32_t *order;
    EAI_TRY(make_order(t, ds, idx, &n, &order));
    openblas_set_num_threads(1); /* see create: the kernels thread */
    eai_status_t s = EAI_OK;
    double t0 = now_s(), sum = 0;
    int64_t correct = 0, steps = 0;
    for (int64_t k = 0; k < n; k += t->batch) {
        int b = (int)(n - k < t->batch ? n - k : t->batch);
        s = eai_dataset_gather(ds, order + k, b, t->xbuf, t->ybuf);
        eai_step_result_t r;
        if (s == EAI_OK) s = eai_trainer_eval(t, t->xbuf, targets(t, b), b, &r, NULL);
        if (s != EAI_OK) break;
        sum += r.loss * (double)b;
        correct += r.correct;
        steps++;
    }
    eai__free(&t->alloc, order);
    if (s == EAI_OK && st) {
        st->loss = n ? sum / (double)n : 0;
        st->accuracy = n && t->loss == EAI_LOSS_XENT ? (double)correct / (double)n : 0;
        st->n_samples = n;
        st->n_steps = steps;
        st->seconds = now_s() - t0;
    }
    return s;
}
