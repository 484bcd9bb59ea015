/* Fixed thread pool: the caller runs share 0 of every job, workers run the
 * others. Workers spin briefly on the job generation before sleeping, since
 * a model invoke posts hundreds of short jobs back to back. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/core_impl.h"
#include "edgeai/threadpool.h"

#define SPIN_ITERS 20000

struct eai_threadpool {
    int n_threads;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    pthread_cond_t done;
    atomic_uint generation; /* bumped for every job */
    atomic_int pending;     /* worker shares not finished */
    atomic_bool stop;
    eai_task_fn fn;
    void *ctx;
};

typedef struct worker_arg {
    eai_threadpool_t *tp;
    int ith;
} worker_arg_t;

static void *worker_main(void *p)
{
    worker_arg_t *wa = p;
    eai_threadpool_t *tp = wa->tp;
    int ith = wa->ith;
    free(wa);
    /* jobs may be posted before this thread first runs: start from 0, the
     * generation at creation, never from a later read */
    unsigned seen = 0;
    for (;;) {
        int spins = 0;
        while (atomic_load_explicit(&tp->generation, memory_order_acquire) == seen &&
               !atomic_load(&tp->stop) && spins < SPIN_ITERS)
            spins++;
        if (atomic_load_explicit(&tp->generation, memory_order_acquire) == seen &&
            !atomic_load(&tp->stop)) {
            pthread_mutex_lock(&tp->mu);
            while (atomic_load(&tp->generation) == seen && !atomic_load(&tp->stop))
                pthread_cond_wait(&tp->wake, &tp->mu);
            pthread_mutex_unlock(&tp->mu);
        }
        if (atomic_load(&tp->stop)) return NULL;
        seen = atomic_load(&tp->generation);
        tp->fn(tp->ctx, ith, tp->n_threads);
        if (atomic_fetch_sub_explicit(&tp->pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&tp->mu);
            /* broadcast, not signal: glibc 2.36's condvar can lose a signal to
             * a stale waiter (sourceware bug 25847); seen here as a hang after
             * ~1M jobs. There is only one waiter, so it costs nothing. */
            pthread_cond_broadcast(&tp->done);
            pthread_mutex_unlock(&tp->mu);
        }
    }
}

eai_status_t eai_threadpool_create(int n_threads, eai_threadpool_t **out)
{
    if (n_threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        n_threads = n > 0 ? (int)n : 1;
    }
    if (n_threads > 256)
        return eai_fail(EAI_E_INVALID, "threadpool: %d threads requested, at most 256", n_threads);
    eai_threadpool_t *tp = calloc(1, sizeof *tp);
    if (!tp) return eai_fail(EAI_E_NOMEM, "threadpool: out of memory");
    tp->n_threads = n_threads;
    pthread_mutex_init(&tp->mu, NULL);
    pthread_cond_init(&tp->wake, NULL);
    pthread_cond_init(&tp->done, NULL);
    tp->threads = calloc((size_t)n_threads, sizeof *tp->threads);
    if (!tp->threads) {
        eai_threadpool_destroy(tp);
        return eai_fail(EAI_E_NOMEM, "threadpool: out of memory");
    }
    for (int i = 1; i < n_threads; i++) {
        worker_arg_t *wa = malloc(sizeof *wa);
        if (!wa) {
            tp->n_threads = i;
            eai_threadpool_destroy(tp);
            return eai_fail(EAI_E_NOMEM, "threadpool: out of memory");
        }
        wa->tp = tp;
        wa->ith = i;
        int rc = pthread_create(&tp->threads[i], NULL, worker_main, wa);
        if (rc != 0) {
            free(wa);
            tp->n_threads = i; /* join only the started ones */
            eai_threadpool_destroy(tp);
            return eai_fail(EAI_E_UNAVAILABLE, "threadpool: cannot start thread %d: %s", i,
                            strerror(rc));
        }
    }
    *out = tp;
    return EAI_OK;
}

void eai_threadpool_destroy(eai_threadpool_t *tp)
{
    if (!tp) return;
    pthread_mutex_lock(&tp->mu);
    atomic_store(&tp->stop, true);
    pthread_cond_broadcast(&tp->wake);
    pthread_mutex_unlock(&tp->mu);
    for (int i = 1; i < tp->n_threads && tp->threads; i++)
        pthread_join(tp->threads[i], NULL);
    pthread_mutex_destroy(&tp->mu);
    pthread_cond_destroy(&tp->wake);
    pthread_cond_destroy(&tp->done);
    free(tp->threads);
    free(tp);
}

int eai_threadpool_size(const eai_threadpool_t *tp)
{
    return tp ? tp->n_threads : 1;
}

void eai_threadpool_run(eai_threadpool_t *tp, eai_task_fn fn, void *ctx)
{
    if (!tp || tp->n_threads == 1) {
        fn(ctx, 0, 1);
        return;
    }
    tp->fn = fn;
    tp->ctx = ctx;
    atomic_store(&tp->pending, tp->n_threads - 1);
    pthread_mutex_lock(&tp->mu);
    atomic_fetch_add_explicit(&tp->generation, 1, memory_order_release);
    pthread_cond_broadcast(&tp->wake);
    pthread_mutex_unlock(&tp->mu);

    fn(ctx, 0, tp->n_threads);

    int spins = 0;
    while (atomic_load_explicit(&tp->pending, memory_order_acquire) > 0 && spins < SPIN_ITERS)
        spins++;
    if (atomic_load(&tp->pending) > 0) {
        pthread_mutex_lock(&tp->mu);
        while (atomic_load(&tp->pending) > 0)
            pthread_cond_wait(&tp->done, &tp->mu);
        pthread_mutex_unlock(&tp->mu);
    }
}
