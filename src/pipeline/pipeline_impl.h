/* Private to src/pipeline: the frame slot, the bounded queue (FIFO or
 * reorder window) and the latency book. One idea: a frame's life is cut into
 * per-stage compute / wait / overhead pieces that add up exactly, so the
 * pipeline's own cost is measured, not guessed. */
#ifndef EAI_PIPELINE_IMPL_H
#define EAI_PIPELINE_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/core_impl.h"
#include "edgeai/pipeline.h"

/* item flags */
#define PL_SKIP      1u /* later stages do not run it (failed, dropped or cancelled) */
#define PL_FAILED    2u
#define PL_DROPPED   4u
#define PL_CANCELLED 8u
#define PL_DONE      16u /* the sink finished it */

/* Per stage and frame, in ns. */
typedef struct pl_timing {
    int64_t compute, wait, overhead;
} pl_timing_t;

typedef struct pl_item {
    eai_pipeline_item_t pub; /* first: callbacks get &pub */
    unsigned flags;
    uint32_t ran;   /* bit s: stage s ran the callback (its timing is valid) */
    int64_t t_rdy;  /* end of the previous stage's callback (start of this hop) */
    int64_t t_enq;  /* put into the current queue */
    int64_t t_elig; /* could be taken (reorder window: when its turn came) */
    int64_t block;  /* ns the pusher was blocked by a full queue on this hop */
    int64_t t_done; /* sink end */
    pl_timing_t *t; /* n_stages entries */
} pl_item_t;

typedef struct pl_queue {
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    pl_item_t **ring; /* FIFO of cap entries */
    int cap, head, count;
    /* in_order: reorder[seq % n_slots] holds frame seq; next_seq is the turn */
    pl_item_t **reorder;
    int n_window;
    uint64_t next_seq;
    int producers_left; /* upstream threads still running */
    eai_backpressure_t policy;
    bool inited;
} pl_queue_t;

struct eai_pipeline;

typedef struct pl_worker {
    struct pl_stage *st;
    int idx;
    pthread_t th;
    bool started;
} pl_worker_t;

typedef struct pl_stage {
    eai_pipeline_stage_desc_t d;
    char name[32];
    int index;
    struct eai_pipeline *p;
    pl_queue_t q; /* input (unused for the source) */
    pl_worker_t *w;
    bool ordered; /* input is a reorder window (desc.in_order, or opts.in_order at the end) */
    atomic_uint_fast64_t n_ok, n_errors, n_dropped;
    char last_error[160]; /* under book mutex */
} pl_stage_t;

/* The latency book: the last `cap` recycled frames, in microseconds (float
 * keeps 4096 frames x 16 stages x 3 small and is exact to well under 1 us for
 * the durations involved). */
typedef struct pl_book {
    int cap, head, count, n_stages;
    float *v;       /* cap * n_stages * 3: compute, wait, overhead */
    uint32_t *ran;  /* cap */
    uint8_t *done;  /* cap: completed frames carry e2e and overhead */
    float *e2e;     /* cap */
    float *ovh;     /* cap: sum of the stages' overhead */
    float *scratch; /* cap: sorting space for percentiles */
    uint64_t n_frames, n_completed, n_failed, n_cancelled;
    int64_t t_first, t_last;
} pl_book_t;

enum { PL_CREATED = 0, PL_RUNNING, PL_JOINED };

struct eai_pipeline {
    eai_pipeline_opts_t o;
    int n_stages;
    pl_stage_t st[EAI_PIPELINE_MAX_STAGES];
    int state;
    int n_slots;
    pl_item_t *items;
    void *payload;
    pl_timing_t *timings;
    /* free slots (a stack) and the book share one mutex: a frame is recycled
     * and recorded in one critical section */
    pthread_mutex_t book_mu;
    pthread_cond_t free_cv;
    int *free_stack;
    int n_free;
    pl_book_t book;
    int n_slot_inited;
    /* thread bookkeeping: wait() sleeps on done_cv */
    pthread_mutex_t mu;
    pthread_cond_t done_cv;
    int n_threads, n_threads_done;
    atomic_int stop_src, cancel;
    bool sync_inited;
};

int64_t eai__pl_now(void);

/* queue.c */
eai_status_t eai__pl_queue_init(pl_queue_t *q, const eai_allocator_t *a, int cap, int n_window,
                                eai_backpressure_t policy, int producers);
void eai__pl_queue_free(pl_queue_t *q, const eai_allocator_t *a);
/* Puts `it` in. BLOCK waits for room (time into it->block); DROP_OLDEST may
 * hand back the evicted frame in *victim (the caller routes it). A reorder
 * window never waits. */
void eai__pl_queue_push(pl_queue_t *q, pl_item_t *it, pl_item_t **victim);
/* Takes the next frame, or NULL once the queue is empty and every producer has
 * ended. Fills *t_free: when this worker became free (entry time). */
pl_item_t *eai__pl_queue_pop(pl_queue_t *q, int64_t *t_free);
/* One producer ended (a thread of the previous stage exited). */
void eai__pl_queue_producer_done(pl_queue_t *q, int n);

/* book.c */
eai_status_t eai__pl_book_init(pl_book_t *b, const eai_allocator_t *a, int cap, int n_stages);
void eai__pl_book_free(pl_book_t *b, const eai_allocator_t *a);
/* Records a recycled frame (caller holds the book mutex). */
void eai__pl_book_record(pl_book_t *b, const pl_item_t *it);
void eai__pl_book_reset(pl_book_t *b);
/* Percentiles of the book (caller holds the book mutex). */
void eai__pl_book_stats(pl_book_t *b, eai_pipeline_stats_t *out);
/* Nearest-rank percentile of v[0..n) (sorted in place), in the units of v. */
double eai__pl_percentile(float *v, int n, double q);

#endif
