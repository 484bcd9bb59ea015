/* A staged, threaded pipeline with bounded queues and a latency book.
 *
 * An application builds its own chain: one source stage that produces frames,
 * any number of processing stages (each with its own worker threads and a
 * bounded input queue), and the last stage, the sink. Frames travel in
 * preallocated slots (a ring made once at start: no allocation per frame);
 * only pointers move between threads, nothing is copied.
 *
 *   static eai_status_t grab(void *user, int worker, eai_pipeline_item_t *it)
 *   {
 *       my_frame_t *f = it->payload;          // opts.payload_bytes, reused per slot
 *       if (!read_next(user, f)) it->end_of_stream = 1;
 *       return EAI_OK;
 *   }
 *   ...
 *   eai_pipeline_opts_t o = {.payload_bytes = sizeof(my_frame_t), .in_order = 1};
 *   eai_pipeline_t *p;
 *   EAI_TRY(eai_pipeline_create(&o, &p));
 *   eai_pipeline_stage_desc_t src = {.name = "source", .kind = EAI_STAGE_SOURCE, .fn = grab};
 *   eai_pipeline_stage_desc_t det = {.name = "detect", .fn = detect, .user = &d,
 *                                    .n_workers = 2, .queue_capacity = 4};
 *   eai_pipeline_stage_desc_t out = {.name = "sink", .kind = EAI_STAGE_SINK, .fn = write};
 *   eai_pipeline_add_stage(p, &src); eai_pipeline_add_stage(p, &det);
 *   eai_pipeline_add_stage(p, &out);
 *   EAI_TRY(eai_pipeline_start(p));
 *   eai_pipeline_wait(p, -1);                 // until the source ends and all drained
 *   eai_pipeline_stats_t st; eai_pipeline_get_stats(p, &st);
 *   eai_pipeline_destroy(p);
 *
 * Failure of one frame never stops the stream: a stage callback that returns
 * an error has its frame counted (per stage) and skipped by the stages after
 * it; the next frame proceeds normally.
 *
 * Timing model (the latency book). For every frame and stage the pipeline
 * records three durations that add up exactly to the frame's life:
 *   compute   the stage callback's run time;
 *   wait      time the frame waited because the stage was busy: behind other
 *             frames in the input queue, blocked upstream by a full queue
 *             (BLOCK), or, with in_order, behind an earlier frame;
 *   overhead  everything else between the previous stage's end and this
 *             stage's start: queue push/pop, locking and waking an idle
 *             worker. This is the pipeline's own cost (there are no copies).
 * End to end = source start -> sink end = sum over stages of the three.
 * The source's compute runs from item->t_source_ns to the end of its call,
 * its `wait` is the time it waited for a free slot (not part of end to end),
 * and its overhead is 0.
 */
#ifndef EDGEAI_PIPELINE_H
#define EDGEAI_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "edgeai/model.h"
#include "edgeai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Most stages in one pipeline (source and sink included). */
#define EAI_PIPELINE_MAX_STAGES 16
/* Most worker threads in one stage. */
#define EAI_PIPELINE_MAX_WORKERS 64

typedef struct eai_pipeline eai_pipeline_t;

/* One frame in flight. The pipeline owns the slot; callbacks may read and
 * write it (and its payload) only during the call that receives it. The same
 * slot (and payload pointer) is reused for later frames. */
typedef struct eai_pipeline_item {
    uint64_t seq;      /* frame number in source order, 0, 1, 2, ... (set before the
                          source call; a source call that ends the stream uses none) */
    void *payload;     /* opts.payload_bytes of 64-byte aligned memory, zeroed once at
                          start; NULL when payload_bytes is 0. Not cleared between frames */
    int slot;          /* index of this slot in [0, n_slots): stable, for side arrays */
    int end_of_stream; /* a SOURCE callback sets 1 when there are no more frames: this
                          call then carries no frame; the pipeline drains and ends */
    /* Birth of the frame, CLOCK_MONOTONIC ns (eai_pipeline_now_ns): set to the
     * start of the source call; a source that first waits for its next frame
     * (a paced camera) may set it to the capture time, within the call, so
     * that end to end and the source's compute exclude that wait. */
    int64_t t_source_ns;
} eai_pipeline_item_t;

/* A stage callback. `user` is the stage's desc.user; `worker` is the calling
 * thread's index in [0, n_workers) so that a stage can keep one model session
 * per worker (sessions are single-threaded). Return EAI_OK, or a failure
 * status (after eai_fail): the frame is counted as an error of this stage and
 * skipped by later stages. A SOURCE callback fills a new frame or sets
 * item->end_of_stream; a source error counts and skips the frame, and the
 * source is called again (set end_of_stream too to end the stream). */
typedef eai_status_t (*eai_pipeline_fn)(void *user, int worker, eai_pipeline_item_t *item);

/* Called once per slot at start (init) and once at destroy (fini), from the
 * calling thread, e.g. to allocate per-slot image buffers once. init failing
 * fails eai_pipeline_start (fini is then called for the slots already made). */
typedef eai_status_t (*eai_pipeline_slot_init_fn)(void *user, int slot, void *payload);
typedef void (*eai_pipeline_slot_fini_fn)(void *user, int slot, void *payload);

typedef enum eai_stage_kind {
    EAI_STAGE_PROCESS = 0, /* middle stage: input queue, n_workers threads */
    EAI_STAGE_SOURCE,      /* first stage: exactly one, one thread, no input queue */
    EAI_STAGE_SINK,        /* last stage (optional; otherwise the last PROCESS stage is the
                              sink): one thread */
} eai_stage_kind_t;

typedef enum eai_backpressure {
    /* A full input queue blocks the upstream stage: no frame is ever dropped. */
    EAI_BACKPRESSURE_BLOCK = 0,
    /* A full input queue drops its oldest frame (counted in n_dropped) to make
     * room: for live sources where fresh frames matter more than every frame. */
    EAI_BACKPRESSURE_DROP_OLDEST,
} eai_backpressure_t;

/* A stage. Zero-init fields mean defaults. The pipeline copies the struct and
 * the name; `user` is borrowed and must outlive the pipeline's threads
 * (until eai_pipeline_wait succeeds or eai_pipeline_destroy returns). */
typedef struct eai_pipeline_stage_desc {
    const char *name; /* for stats and messages; NULL: "stage<i>". Copied (<= 31 chars kept) */
    eai_stage_kind_t kind;
    eai_pipeline_fn fn; /* required */
    void *user;
    int n_workers;      /* threads for a PROCESS stage; 0: 1. SOURCE and SINK: must be 0 or 1 */
    int queue_capacity; /* input queue length; 0: 4. Ignored for SOURCE, and for the last
                           stage with in_order (its queue is the reorder window: n_slots) */
    eai_backpressure_t policy; /* what a full input queue does; ignored for SOURCE */
    /* 1: this stage takes frames in source order (a tracker after a
     * multi-worker detector): its queue becomes a reorder window of n_slots
     * (queue_capacity and policy ignored) and a dropped or failed frame keeps
     * its slot until its turn passes. Needs one worker; not for the SOURCE. */
    int in_order;
} eai_pipeline_stage_desc_t;

typedef struct eai_pipeline_opts {
    eai_allocator_t alloc; /* zero: libc */
    size_t payload_bytes;  /* per-slot user payload (item->payload); 0: none */
    /* Frame slots in the ring. 0: enough that no stage ever waits for a slot
     * (1 + the sum over stages of queue_capacity + n_workers). Smaller values
     * are allowed (>= 1) and limit how many frames are in flight. */
    int n_slots;
    /* 1: the last stage (the sink) receives frames in source order, as if its
     * desc had in_order set (multi-worker stages may finish frames out of
     * order). 0: it takes frames as they come. Requires a single-threaded
     * last stage. */
    int in_order;
    /* Frames kept in the latency book for percentiles (the most recent ones);
     * 0: 4096. Counters (frames, errors, drops) always cover the whole run. */
    int book_capacity;
    eai_pipeline_slot_init_fn slot_init; /* optional */
    eai_pipeline_slot_fini_fn slot_fini; /* optional */
    void *slot_user;                     /* passed to slot_init / slot_fini */
} eai_pipeline_opts_t;

/* How a stop ends the stream. */
typedef enum eai_pipeline_stop_mode {
    /* The source is not called again; frames already in flight finish. */
    EAI_PIPELINE_DRAIN = 0,
    /* As DRAIN, and frames in flight skip the stages they have not reached
     * (callbacks already running finish their call; counted in n_cancelled). */
    EAI_PIPELINE_CANCEL,
} eai_pipeline_stop_mode_t;

/* Percentiles over the frames in the book, in milliseconds. */
typedef struct eai_latency {
    uint64_t n; /* samples */
    double p50_ms, p99_ms, mean_ms, max_ms;
} eai_latency_t;

typedef struct eai_pipeline_stage_stats {
    char name[32];
    int n_workers;
    uint64_t n_ok;      /* callbacks that returned EAI_OK (for the source: frames made) */
    uint64_t n_errors;  /* callbacks that failed: those frames were skipped */
    uint64_t n_dropped; /* frames dropped from this stage's input queue (DROP_OLDEST) */
    eai_latency_t compute, wait, overhead;
    char last_error[160]; /* the newest failure sentence of this stage ("" if none) */
} eai_pipeline_stage_stats_t;

typedef struct eai_pipeline_stats {
    int n_stages;
    eai_pipeline_stage_stats_t stage[EAI_PIPELINE_MAX_STAGES];
    uint64_t n_frames;      /* frames the source produced */
    uint64_t n_completed;   /* frames the sink finished */
    uint64_t n_dropped;     /* sum of the stages' n_dropped */
    uint64_t n_failed;      /* frames skipped because a stage failed */
    uint64_t n_cancelled;   /* frames cut short by EAI_PIPELINE_CANCEL */
    eai_latency_t e2e;      /* source start -> sink end, completed frames */
    eai_latency_t overhead; /* per completed frame: sum of the stages' overhead */
    /* sum(overhead) / sum(end to end) over the completed frames in the book */
    double overhead_share;
    /* completed frames / seconds from the first source call to the last sink end */
    double fps;
    double elapsed_s;
} eai_pipeline_stats_t;

/* Creates an empty pipeline (no threads yet). `opts` NULL or zero: defaults;
 * copied. EAI_E_INVALID for negative sizes, EAI_E_NOMEM. */
EAI_API eai_status_t eai_pipeline_create(const eai_pipeline_opts_t *opts, eai_pipeline_t **out);

/* Appends a stage (before start). `desc` is copied. EAI_E_INVALID (no fn, bad
 * counts, a SOURCE not first, a stage after the SINK, too many stages or
 * workers), EAI_E_STATE after start. */
EAI_API eai_status_t eai_pipeline_add_stage(eai_pipeline_t *p,
                                            const eai_pipeline_stage_desc_t *desc);

/* Allocates the slots and book, then starts every stage's threads. Needs a
 * SOURCE and at least one stage after it. EAI_E_INVALID (missing source,
 * in_order with a multi-worker last stage), EAI_E_STATE (started already),
 * EAI_E_NOMEM, EAI_E_UNAVAILABLE (a thread could not be started; the ones
 * started are stopped and joined before returning). */
EAI_API eai_status_t eai_pipeline_start(eai_pipeline_t *p);

/* Asks the stream to end (see eai_pipeline_stop_mode_t) and returns at once;
 * eai_pipeline_wait then waits. Thread-safe; callable from a callback. A
 * CANCEL after a DRAIN upgrades it. EAI_E_STATE if never started. */
EAI_API eai_status_t eai_pipeline_stop(eai_pipeline_t *p, eai_pipeline_stop_mode_t mode);

/* Waits until every thread has finished (the source ended or a stop, then all
 * frames drained) and joins them. timeout_ms < 0 waits forever. EAI_OK (all
 * joined), EAI_E_TIMEOUT (still running: call again, or stop and call again),
 * EAI_E_STATE if never started. Not thread-safe against itself. */
EAI_API eai_status_t eai_pipeline_wait(eai_pipeline_t *p, int timeout_ms);

/* Snapshot of counters and percentiles; callable while running (thread-safe)
 * and after wait. `out` is filled on EAI_OK. EAI_E_INVALID for NULL. */
EAI_API eai_status_t eai_pipeline_get_stats(eai_pipeline_t *p, eai_pipeline_stats_t *out);

/* Empties the latency book and zeroes the counters (e.g. after a warm-up).
 * Thread-safe. Frames in flight at the call are still counted when they end. */
EAI_API void eai_pipeline_reset_stats(eai_pipeline_t *p);

/* Stops with CANCEL, waits for the threads (a callback that never returns
 * blocks here; use eai_pipeline_wait with a timeout first to detect it), calls
 * slot_fini per slot and frees everything. Accepts NULL. */
EAI_API void eai_pipeline_destroy(eai_pipeline_t *p);

/* Monotonic clock in nanoseconds (the clock the book uses). */
EAI_API int64_t eai_pipeline_now_ns(void);

#ifdef __cplusplus
}
#endif
#endif
