/* A fixed pool of worker threads for data-parallel kernels.
 *
 *   eai_threadpool_t *tp;
 *   eai_threadpool_create(4, &tp);          // 4 = caller + 3 workers
 *   eai_threadpool_run(tp, fn, ctx);        // fn(ctx, ith, nth) on every thread
 *   eai_threadpool_destroy(tp);
 *
 * There are no hidden threads in edgeai: a session uses the pool it is given,
 * and a NULL pool means "run on the caller's thread".
 */
#ifndef EDGEAI_THREADPOOL_H
#define EDGEAI_THREADPOOL_H

#include "edgeai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eai_threadpool eai_threadpool_t;

/* One share of a parallel job: thread `ith` of `nth` splits the work itself. */
typedef void (*eai_task_fn)(void *ctx, int ith, int nth);

/* Creates a pool that runs jobs on `n_threads` threads in all, the caller's
 * thread included (so n_threads - 1 workers are started). n_threads <= 0 means
 * the number of online CPUs. Returns EAI_E_INVALID for n_threads > 256,
 * EAI_E_NOMEM or EAI_E_UNAVAILABLE when threads cannot be started. */
EAI_API eai_status_t eai_threadpool_create(int n_threads, eai_threadpool_t **out);

/* Stops and joins the workers. Accepts NULL. */
EAI_API void eai_threadpool_destroy(eai_threadpool_t *tp);

/* Threads the pool runs jobs on (1 for a NULL pool). */
EAI_API int eai_threadpool_size(const eai_threadpool_t *tp);

/* Runs fn(ctx, ith, nth) once for every ith in [0, nth) and returns when all
 * have finished. tp may be NULL (then nth = 1 on the caller). `ctx` is
 * borrowed for the call. Not re-entrant: one job at a time per pool; call it
 * from one thread only. */
EAI_API void eai_threadpool_run(eai_threadpool_t *tp, eai_task_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif
#endif
