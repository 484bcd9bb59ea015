/* The staged pipeline engine: in-order delivery through a reordering
 * multi-worker stage, BLOCK never drops, DROP_OLDEST drops and counts, a
 * failing frame is skipped alone, stop (drain and cancel) mid-stream, the
 * latency book's accounting identity and loose bounds against known sleeps,
 * bad arguments and failing allocations. No timing is asserted tightly. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "edgeai/pipeline.h"

#define MAX_FRAMES 4096

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* Test state shared by all callbacks of one run. */
typedef struct run {
    long n_frames;       /* source ends after this many (<0: never) */
    long made;           /* source calls that made a frame */
    long source_fail_at; /* this call index fails (-1: none) */
    long source_calls;
    long source_pace_us;     /* sleep in the source per frame */
    long work_us;            /* sleep in the work stage */
    int work_jitter;         /* 1: sleep seeded 0..work_us per frame, so workers reorder */
    long fail_mod, fail_rem; /* work fails when seq % fail_mod == fail_rem */
    long sink_us;
    pthread_mutex_t mu;
    long n_sunk;
    uint64_t sunk[MAX_FRAMES];
    int worker_seen[64];
    int order_ok; /* sink saw strictly increasing seqs */
    long long last_seq;
} run_t;

typedef struct frame {
    uint64_t seq_copy;
    int touched;
} frame_t;

static void run_init(run_t *r)
{
    memset(r, 0, sizeof *r);
    r->source_fail_at = -1;
    r->fail_mod = 0;
    r->order_ok = 1;
    r->last_seq = -1;
    pthread_mutex_init(&r->mu, NULL);
}

static eai_status_t src_fn(void *user, int worker, eai_pipeline_item_t *it)
{
    run_t *r = user;
    assert_int_equal(worker, 0);
    long call = r->source_calls++;
    if (r->n_frames >= 0 && r->made >= r->n_frames) {
        it->end_of_stream = 1;
        return EAI_OK;
    }
    if (call == r->source_fail_at) return eai_fail(EAI_E_IO, "test: camera hiccup");
    if (r->source_pace_us) sleep_us(r->source_pace_us);
    frame_t *f = it->payload;
    f->seq_copy = it->seq;
    f->touched = 0;
    r->made++;
    return EAI_OK;
}

static eai_status_t work_fn(void *user, int worker, eai_pipeline_item_t *it)
{
    run_t *r = user;
    frame_t *f = it->payload;
    assert_int_equal(f->seq_copy, it->seq); /* the payload travels with its frame */
    pthread_mutex_lock(&r->mu);
    r->worker_seen[worker] = 1;
    pthread_mutex_unlock(&r->mu);
    if (r->work_us) {
        long us = r->work_us;
        if (r->work_jitter) us = (long)((it->seq * 2654435761u) % (uint64_t)r->work_us);
        sleep_us(us);
    }
    if (r->fail_mod && (long)(it->seq % (uint64_t)r->fail_mod) == r->fail_rem)
        return eai_fail(EAI_E_FORMAT, "test: frame %llu is corrupt", (unsigned long long)it->seq);
    f->touched = 1;
    return EAI_OK;
}

static eai_status_t sink_fn(void *user, int worker, eai_pipeline_item_t *it)
{
    run_t *r = user;
    assert_int_equal(worker, 0);
    frame_t *f = it->payload;
    assert_int_equal(f->touched, 1);
    if (r->sink_us) sleep_us(r->sink_us);
    pthread_mutex_lock(&r->mu);
    if ((long long)it->seq <= r->last_seq) r->order_ok = 0;
    r->last_seq = (long long)it->seq;
    if (r->n_sunk < MAX_FRAMES) r->sunk[r->n_sunk] = it->seq;
    r->n_sunk++;
    pthread_mutex_unlock(&r->mu);
    return EAI_OK;
}

/* source -> work (n_workers, cap, policy) -> sink */
static eai_pipeline_t *build(run_t *r, int in_order, int n_workers, int cap,
                             eai_backpressure_t policy)
{
    eai_pipeline_opts_t o = {.payload_bytes = sizeof(frame_t), .in_order = in_order};
    eai_pipeline_t *p = NULL;
    assert_int_equal(eai_pipeline_create(&o, &p), EAI_OK);
    eai_pipeline_stage_desc_t s0 = {
        .name = "source", .kind = EAI_STAGE_SOURCE, .fn = src_fn, .user = r};
    eai_pipeline_stage_desc_t s1 = {.name = "work",
                                    .fn = work_fn,
                                    .user = r,
                                    .n_workers = n_workers,
                                    .queue_capacity = cap,
                                    .policy = policy};
    eai_pipeline_stage_desc_t s2 = {
        .name = "sink", .kind = EAI_STAGE_SINK, .fn = sink_fn, .user = r};
    assert_int_equal(eai_pipeline_add_stage(p, &s0), EAI_OK);
    assert_int_equal(eai_pipeline_add_stage(p, &s1), EAI_OK);
    assert_int_equal(eai_pipeline_add_stage(p, &s2), EAI_OK);
    return p;
}

static void run_to_end(eai_pipeline_t *p)
{
    assert_int_equal(eai_pipeline_start(p), EAI_OK);
    eai_status_t st = eai_pipeline_wait(p, 20000);
    if (st != EAI_OK) fail_msg("wait: %s", eai_last_error());
}

static void test_in_order_through_reordering_workers(void **state)
{
    (void)state;
    run_t r;
    run_init(&r);
    r.n_frames = 300;
    r.work_us = 400;
    r.work_jitter = 1;
    eai_pipeline_t *p = build(&r, 1, 4, 4, EAI_BACKPRESSURE_BLOCK);
    run_to_end(p);
    assert_int_equal(r.n_sunk, 300);
    assert_true(r.order_ok);
    for (long i = 0; i < r.n_sunk; i++)
        assert_int_equal(r.sunk[i], (uint64_t)i);
    eai_pipeline_stats_t st;
    assert_int_equal(eai_pipeline_get_stats(p, &st), EAI_OK);
    assert_int_equal(st.n_frames, 300);
    assert_int_equal(st.n_completed, 300);
    assert_int_equal(st.n_dropped, 0);
    assert_int_equal(st.stage[1].n_ok, 300);
    assert_string_equal(st.stage[1].name, "work");
    assert_int_equal(st.stage[1].n_workers, 4);
    eai_pipeline_destroy(p);
}

static void test_unordered_delivers_every_frame(void **state)
{
    (void)state;
    run_t r;
    run_init(&r);
    r.n_frames = 200;
    r.work_us = 300;
    r.work_jitter = 1;
    eai_pipeline_t *p = build(&r, 0, 4, 4, EAI_BACKPRESSURE_BLOCK);
    run_to_end(p);
    assert_int_equal(r.n_sunk, 200);
    /* every seq exactly once, whatever the order */
    static int seen[200];
    memset(seen, 0, sizeof seen);
    for (long i = 0; i < r.n_sunk; i++) {
        assert_true(r.sunk[i] < 200);
        seen[r.sunk[i]]++;
    }
    for (int i = 0; i < 200; i++)
        assert_int_equal(seen[i], 1);
    int workers = 0;
    for (int w = 0; w < 64; w++)
        workers += r.worker_seen[w];
    assert_true(workers >= 2); /* 200 sleeping frames over 4 workers */
    for (int w = 4; w < 64; w++)
        assert_int_equal(r.worker_seen[w], 0);
    eai_pipeline_destroy(p);
}

static void test_block_never_drops(void **state)
{
    (void)state;
    run_t r;
    run_init(&r);
    r.n_frames = 80;
    r.work_us = 1000; /* slow stage, unpaced source, queue of 2 */
    eai_pipeline_t *p = build(&r, 0, 1, 2, EAI_BACKPRESSURE_BLOCK);
    run_to_end(p);
    assert_int_equal(r.n_sunk, 80);
    assert_true(r.order_ok); /* one worker: FIFO order */
    eai_pipeline_stats_t st;
    eai_pipeline_get_stats(p, &st);
    assert_int_equal(st.n_dropped, 0);
    assert_int_equal(st.n_completed, 80);
    /* frames queued behind a 1 ms stage: their wait is recorded as wait */
    assert_true(st.stage[1].wait.p99_ms >= 0.9);
    eai_pipeline_destroy(p);
}

static void check_drop(int in_order)
{
    run_t r;
    run_init(&r);
    r.n_frames = 200;
    r.work_us = 2000; /* ~400 ms of work for frames made in far less */
    eai_pipeline_t *p = build(&r, in_order, 1, 2, EAI_BACKPRESSURE_DROP_OLDEST);
    run_to_end(p);
    eai_pipeline_stats_t st;
    eai_pipeline_get_stats(p, &st);
    assert_int_equal(st.n_frames, 200);
    assert_true(st.n_dropped > 0);
    assert_int_equal(st.stage[1].n_dropped, st.n_dropped);
    assert_int_equal((long)st.n_completed, r.n_sunk);
    assert_int_equal(st.n_completed + st.n_dropped, 200);
    assert_true(r.order_ok); /* one worker, FIFO: drops leave gaps, never reorder */
    /* the newest frame is never the one dropped */
    assert_int_equal(r.last_seq, 199);
    eai_pipeline_destroy(p);
}

static void test_drop_oldest_counts(void **state)
{
    (void)state;
    check_drop(0);
}

static void test_drop_oldest_in_order(void **state)
{
    (void)state;
    check_drop(1);
}

static void test_error_skips_only_that_frame(void **state)
{
    (void)state;
    for (int in_order = 0; in_order < 2; in_order++) {
        run_t r;
        run_init(&r);
        r.n_frames = 100;
        r.fail_mod = 7;
        r.fail_rem = 3;       /* seqs 3, 10, ..., 94: 14 frames */
        r.source_fail_at = 5; /* one failed source call: no frame, no seq used */
        r.work_us = 100;
        r.work_jitter = 1;
        eai_pipeline_t *p = build(&r, in_order, 3, 4, EAI_BACKPRESSURE_BLOCK);
        run_to_end(p);
        assert_int_equal(r.n_sunk, 100 - 14);
        for (long i = 0; i < r.n_sunk; i++)
            assert_int_not_equal(r.sunk[i] % 7, 3);
        if (in_order) assert_true(r.order_ok);
        eai_pipeline_stats_t st;
        eai_pipeline_get_stats(p, &st);
        assert_int_equal(st.n_frames, 100);
        assert_int_equal(st.stage[0].n_errors, 1);
        assert_int_equal(st.stage[1].n_errors, 14);
        assert_int_equal(st.stage[1].n_ok, 86);
        assert_int_equal(st.stage[2].n_ok, 86);
        assert_int_equal(st.n_failed, 14);
        assert_int_equal(st.n_completed, 86);
        assert_non_null(strstr(st.stage[1].last_error, "is corrupt"));
        assert_non_null(strstr(st.stage[0].last_error, "camera hiccup"));
        eai_pipeline_destroy(p);
    }
}

/* An in-order middle stage (a tracker) after a reordering multi-worker
 * stage, with failures and drops before it: it sees increasing seqs, and
 * every frame is accounted for. */
typedef struct order_check {
    pthread_mutex_t mu;
    long long last;
    int ok;
    long n;
} order_check_t;

static eai_status_t ordered_fn(void *user, int worker, eai_pipeline_item_t *it)
{
    order_check_t *c = user;
    assert_int_equal(worker, 0);
    pthread_mutex_lock(&c->mu);
    if ((long long)it->seq <= c->last) c->ok = 0;
    c->last = (long long)it->seq;
    c->n++;
    pthread_mutex_unlock(&c->mu);
    return EAI_OK;
}

static void test_in_order_middle_stage(void **state)
{
    (void)state;
    for (int drop = 0; drop < 2; drop++) {
        run_t r;
        run_init(&r);
        r.n_frames = 200;
        r.work_us = 600;
        r.work_jitter = 1;
        r.fail_mod = 11;
        r.fail_rem = 4; /* 4, 15, ..., 191: 18 frames */
        order_check_t c = {.last = -1, .ok = 1};
        pthread_mutex_init(&c.mu, NULL);
        eai_pipeline_opts_t o = {.payload_bytes = sizeof(frame_t)};
        eai_pipeline_t *p;
        assert_int_equal(eai_pipeline_create(&o, &p), EAI_OK);
        eai_pipeline_stage_desc_t d[4] = {
            {.name = "source", .kind = EAI_STAGE_SOURCE, .fn = src_fn, .user = &r},
            {.name = "work",
             .fn = work_fn,
             .user = &r,
             .n_workers = 4,
             .queue_capacity = 2,
             .policy = drop ? EAI_BACKPRESSURE_DROP_OLDEST : EAI_BACKPRESSURE_BLOCK},
            {.name = "track", .fn = ordered_fn, .user = &c, .in_order = 1},
            {.name = "sink", .kind = EAI_STAGE_SINK, .fn = sink_fn, .user = &r},
        };
        for (int i = 0; i < 4; i++)
            assert_int_equal(eai_pipeline_add_stage(p, &d[i]), EAI_OK);
        run_to_end(p);
        eai_pipeline_stats_t st;
        eai_pipeline_get_stats(p, &st);
        assert_true(c.ok);
        assert_int_equal(st.n_frames, 200);
        /* a frame dropped before `work` cannot fail there */
        assert_int_equal(st.stage[1].n_errors, st.n_failed);
        assert_true(st.n_failed <= 18);
        assert_int_equal((long)st.stage[2].n_ok, c.n);
        assert_int_equal(st.n_completed + st.n_failed + st.n_dropped, 200);
        assert_int_equal((long)st.n_completed, r.n_sunk);
        if (!drop) {
            assert_int_equal(st.n_dropped, 0);
            assert_int_equal(st.n_completed, 200 - 18);
            assert_int_equal(st.n_failed, 18);
        }
        eai_pipeline_destroy(p);
        pthread_mutex_destroy(&c.mu);
    }
}

static long sunk(run_t *r)
{
    pthread_mutex_lock(&r->mu);
    long n = r->n_sunk;
    pthread_mutex_unlock(&r->mu);
    return n;
}

static void test_stop_drain_mid_stream(void **state)
{
    (void)state;
    run_t r;
    run_init(&r);
    r.n_frames = -1; /* endless */
    r.source_pace_us = 200;
    r.work_us = 300;
    eai_pipeline_t *p = build(&r, 1, 2, 4, EAI_BACKPRESSURE_BLOCK);
    assert_int_equal(eai_pipeline_start(p), EAI_OK);
    /* a running pipeline does not finish on its own */
    assert_int_equal(eai_pipeline_wait(p, 50), EAI_E_TIMEOUT);
    for (int i = 0; i < 2000 && sunk(&r) < 30; i++)
        sleep_us(1000);
    assert_true(sunk(&r) >= 30);
    assert_int_equal(eai_pipeline_stop(p, EAI_PIPELINE_DRAIN), EAI_OK);
    assert_int_equal(eai_pipeline_wait(p, 10000), EAI_OK);
    eai_pipeline_stats_t st;
    eai_pipeline_get_stats(p, &st);
    /* drain: every frame made was finished, in order, none lost */
    assert_int_equal(st.n_completed, st.n_frames);
    assert_int_equal(r.n_sunk, (long)st.n_frames);
    assert_int_equal(st.n_cancelled, 0);
    assert_true(r.order_ok);
    eai_pipeline_destroy(p);
}

static void test_stop_cancel_mid_stream(void **state)
{
    (void)state;
    run_t r;
    run_init(&r);
    r.n_frames = -1;
    r.work_us = 2000; /* queues full of waiting frames when we cancel */
    eai_pipeline_t *p = build(&r, 0, 1, 8, EAI_BACKPRESSURE_BLOCK);
    assert_int_equal(eai_pipeline_start(p), EAI_OK);
    for (int i = 0; i < 2000 && sunk(&r) < 5; i++)
        sleep_us(1000);
    assert_int_equal(eai_pipeline_stop(p, EAI_PIPELINE_CANCEL), EAI_OK);
    assert_int_equal(eai_pipeline_wait(p, 10000), EAI_OK);
    eai_pipeline_stats_t st;
    eai_pipeline_get_stats(p, &st);
    assert_true(st.n_cancelled > 0);
    assert_int_equal(st.n_completed + st.n_cancelled, st.n_frames);
    /* stop again and destroy after the end are harmless */
    assert_int_equal(eai_pipeline_stop(p, EAI_PIPELINE_CANCEL), EAI_OK);
    assert_int_equal(eai_pipeline_wait(p, 0), EAI_OK);
    eai_pipeline_destroy(p);
}

static void test_destroy_while_running(void **state)
{
    (void)state;
    run_t r;
    run_init(&r);
    r.n_frames = -1;
    r.work_us = 500;
    eai_pipeline_t *p = build(&r, 1, 3, 2, EAI_BACKPRESSURE_DROP_OLDEST);
    assert_int_equal(eai_pipeline_start(p), EAI_OK);
    sleep_us(20000);
    eai_pipeline_destroy(p); /* cancels, joins, frees: ASan checks the rest */
}

/* Per frame, compute + wait + overhead over the stages is end to end, so the
 * means add up whatever the timings were. Sleeps give loose lower bounds. */
static void test_latency_book(void **state)
{
    (void)state;
    run_t r;
    run_init(&r);
    r.n_frames = 40;
    r.source_pace_us = 6000; /* slower than the work: no queueing */
    r.work_us = 2000;
    r.sink_us = 1000;
    eai_pipeline_t *p = build(&r, 0, 1, 4, EAI_BACKPRESSURE_BLOCK);
    run_to_end(p);
    eai_pipeline_stats_t st;
    assert_int_equal(eai_pipeline_get_stats(p, &st), EAI_OK);
    assert_int_equal(st.e2e.n, 40);
    assert_int_equal(st.stage[1].compute.n, 40);
    double sum = 0;
    for (int s = 0; s < 3; s++) {
        sum += st.stage[s].compute.mean_ms;
        if (s > 0) sum += st.stage[s].wait.mean_ms + st.stage[s].overhead.mean_ms;
    }
    assert_float_equal(sum, st.e2e.mean_ms, 1e-3 * st.e2e.mean_ms + 1e-3);
    double ovh = st.stage[1].overhead.mean_ms + st.stage[2].overhead.mean_ms;
    assert_float_equal(ovh, st.overhead.mean_ms, 1e-3 * ovh + 1e-4);
    assert_true(st.stage[0].compute.p50_ms >= 5.9);
    assert_true(st.stage[1].compute.p50_ms >= 1.9);
    assert_true(st.stage[2].compute.p50_ms >= 0.9);
    assert_true(st.e2e.p50_ms >= 8.8);
    assert_true(st.e2e.p99_ms >= st.e2e.p50_ms);
    assert_true(st.e2e.max_ms >= st.e2e.p99_ms);
    assert_true(st.overhead_share >= 0 && st.overhead_share < 1);
    assert_true(st.fps > 0 && st.fps < 1000.0 / 5.9);
    assert_true(st.elapsed_s > 0.2);
    eai_pipeline_reset_stats(p);
    assert_int_equal(eai_pipeline_get_stats(p, &st), EAI_OK);
    assert_int_equal(st.e2e.n, 0);
    assert_int_equal(st.n_completed, 0);
    eai_pipeline_destroy(p);
}

static eai_status_t noop(void *u, int w, eai_pipeline_item_t *it)
{
    (void)u;
    (void)w;
    (void)it;
    return EAI_OK;
}

static void test_bad_arguments(void **state)
{
    (void)state;
    eai_pipeline_t *p = NULL;
    eai_pipeline_opts_t bad = {.n_slots = -1};
    assert_int_equal(eai_pipeline_create(&bad, &p), EAI_E_INVALID);
    assert_null(p);
    assert_int_equal(eai_pipeline_create(NULL, NULL), EAI_E_INVALID);
    assert_int_equal(eai_pipeline_create(NULL, &p), EAI_OK);
    assert_int_equal(eai_pipeline_start(p), EAI_E_INVALID); /* no stages */
    assert_int_equal(eai_pipeline_stop(p, EAI_PIPELINE_DRAIN), EAI_E_STATE);
    assert_int_equal(eai_pipeline_wait(p, 0), EAI_E_STATE);
    eai_pipeline_stage_desc_t d = {.name = "x", .fn = noop};
    assert_int_equal(eai_pipeline_add_stage(p, &d), EAI_E_INVALID); /* not a source */
    assert_non_null(strstr(eai_last_error(), "SOURCE"));
    eai_pipeline_stage_desc_t nofn = {.name = "nofn", .kind = EAI_STAGE_SOURCE};
    assert_int_equal(eai_pipeline_add_stage(p, &nofn), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "nofn"));
    eai_pipeline_stage_desc_t src = {.kind = EAI_STAGE_SOURCE, .fn = noop, .n_workers = 2};
    assert_int_equal(eai_pipeline_add_stage(p, &src), EAI_E_INVALID); /* 2 source threads */
    src.n_workers = 0;
    assert_int_equal(eai_pipeline_add_stage(p, &src), EAI_OK);
    assert_int_equal(eai_pipeline_add_stage(p, &src), EAI_E_INVALID); /* second source */
    d.n_workers = -1;
    assert_int_equal(eai_pipeline_add_stage(p, &d), EAI_E_INVALID);
    d.n_workers = 1;
    d.queue_capacity = -3;
    assert_int_equal(eai_pipeline_add_stage(p, &d), EAI_E_INVALID);
    d.queue_capacity = 1;
    d.policy = (eai_backpressure_t)9;
    assert_int_equal(eai_pipeline_add_stage(p, &d), EAI_E_INVALID);
    d.policy = EAI_BACKPRESSURE_BLOCK;
    eai_pipeline_stage_desc_t sink = {.kind = EAI_STAGE_SINK, .fn = noop, .n_workers = 3};
    assert_int_equal(eai_pipeline_add_stage(p, &sink), EAI_E_INVALID);
    sink.n_workers = 1;
    assert_int_equal(eai_pipeline_add_stage(p, &sink), EAI_OK);
    assert_int_equal(eai_pipeline_add_stage(p, &d), EAI_E_INVALID); /* after the sink */
    assert_non_null(strstr(eai_last_error(), "after the sink"));
    eai_pipeline_destroy(p);

    /* in_order needs a single-threaded last stage */
    eai_pipeline_opts_t o = {.in_order = 1};
    assert_int_equal(eai_pipeline_create(&o, &p), EAI_OK);
    assert_int_equal(eai_pipeline_add_stage(p, &src), EAI_OK);
    d.n_workers = 4;
    assert_int_equal(eai_pipeline_add_stage(p, &d), EAI_OK);
    assert_int_equal(eai_pipeline_start(p), EAI_E_INVALID);
    eai_pipeline_destroy(p);
    eai_pipeline_destroy(NULL);
    assert_int_equal(eai_pipeline_get_stats(NULL, NULL), EAI_E_INVALID);
}

static eai_status_t one_frame(void *u, int w, eai_pipeline_item_t *it)
{
    (void)w;
    int *n = u;
    if ((*n)++ >= 3) it->end_of_stream = 1;
    return EAI_OK;
}

static void test_start_twice_and_source_only_end(void **state)
{
    (void)state;
    int n = 0;
    eai_pipeline_t *p;
    assert_int_equal(eai_pipeline_create(NULL, &p), EAI_OK);
    eai_pipeline_stage_desc_t src = {.kind = EAI_STAGE_SOURCE, .fn = one_frame, .user = &n};
    eai_pipeline_stage_desc_t d = {.fn = noop};
    assert_int_equal(eai_pipeline_add_stage(p, &src), EAI_OK);
    assert_int_equal(eai_pipeline_add_stage(p, &d), EAI_OK);
    assert_int_equal(eai_pipeline_start(p), EAI_OK);
    assert_int_equal(eai_pipeline_start(p), EAI_E_STATE);
    assert_int_equal(eai_pipeline_add_stage(p, &d), EAI_E_STATE);
    assert_int_equal(eai_pipeline_wait(p, 10000), EAI_OK);
    eai_pipeline_stats_t st;
    eai_pipeline_get_stats(p, &st);
    assert_int_equal(st.n_completed, 3);
    assert_string_equal(st.stage[1].name, "stage1");
    eai_pipeline_destroy(p);
}

/* ---- slot callbacks and failing allocations ---- */

typedef struct slots {
    int inited, finied, fail_at;
} slots_t;

static eai_status_t s_init(void *u, int slot, void *payload)
{
    slots_t *s = u;
    if (slot == s->fail_at) return eai_fail(EAI_E_NOMEM, "test: slot %d buffer", slot);
    *(void **)payload = malloc(64);
    s->inited++;
    return EAI_OK;
}

static void s_fini(void *u, int slot, void *payload)
{
    (void)slot;
    slots_t *s = u;
    free(*(void **)payload);
    s->finied++;
}

static void test_slot_callbacks(void **state)
{
    (void)state;
    for (int fail = 0; fail < 2; fail++) {
        slots_t s = {.fail_at = fail ? 3 : -1};
        int n = 0;
        eai_pipeline_opts_t o = {.payload_bytes = sizeof(void *),
                                 .n_slots = 6,
                                 .slot_init = s_init,
                                 .slot_fini = s_fini,
                                 .slot_user = &s};
        eai_pipeline_t *p;
        assert_int_equal(eai_pipeline_create(&o, &p), EAI_OK);
        eai_pipeline_stage_desc_t src = {.kind = EAI_STAGE_SOURCE, .fn = one_frame, .user = &n};
        eai_pipeline_stage_desc_t d = {.fn = noop};
        eai_pipeline_add_stage(p, &src);
        eai_pipeline_add_stage(p, &d);
        if (fail) {
            assert_int_equal(eai_pipeline_start(p), EAI_E_NOMEM);
            assert_int_equal(s.inited, 3);
            assert_int_equal(s.finied, 3); /* the ones made are undone at once */
        } else {
            assert_int_equal(eai_pipeline_start(p), EAI_OK);
            assert_int_equal(eai_pipeline_wait(p, 10000), EAI_OK);
            assert_int_equal(s.inited, 6);
        }
        eai_pipeline_destroy(p);
        assert_int_equal(s.finied, s.inited);
    }
}

typedef struct failing {
    long left; /* allocations allowed before failing */
} failing_t;

static void *fail_alloc(void *ctx, void *ptr, size_t size)
{
    failing_t *f = ctx;
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    if (f->left-- <= 0) return NULL;
    return realloc(ptr, size);
}

static void test_failing_allocations(void **state)
{
    (void)state;
    int ok = 0;
    for (long k = 0; k < 64 && !ok; k++) {
        failing_t f = {.left = k};
        eai_pipeline_opts_t o = {
            .alloc = {.fn = fail_alloc, .ctx = &f}, .payload_bytes = 16, .in_order = 1};
        eai_pipeline_t *p = NULL;
        eai_status_t st = eai_pipeline_create(&o, &p);
        if (st != EAI_OK) {
            assert_int_equal(st, EAI_E_NOMEM);
            continue;
        }
        int n = 0;
        eai_pipeline_stage_desc_t src = {.kind = EAI_STAGE_SOURCE, .fn = one_frame, .user = &n};
        eai_pipeline_stage_desc_t d = {.fn = noop, .n_workers = 2};
        eai_pipeline_stage_desc_t sk = {.kind = EAI_STAGE_SINK, .fn = noop};
        eai_pipeline_add_stage(p, &src);
        eai_pipeline_add_stage(p, &d);
        eai_pipeline_add_stage(p, &sk);
        st = eai_pipeline_start(p);
        if (st == EAI_OK) {
            ok = 1;
            assert_int_equal(eai_pipeline_wait(p, 10000), EAI_OK);
        } else {
            assert_int_equal(st, EAI_E_NOMEM);
        }
        eai_pipeline_destroy(p);
    }
    assert_true(ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order_through_reordering_workers),
        cmocka_unit_test(test_unordered_delivers_every_frame),
        cmocka_unit_test(test_block_never_drops),
        cmocka_unit_test(test_drop_oldest_counts),
        cmocka_unit_test(test_drop_oldest_in_order),
        cmocka_unit_test(test_error_skips_only_that_frame),
        cmocka_unit_test(test_in_order_middle_stage),
        cmocka_unit_test(test_stop_drain_mid_stream),
        cmocka_unit_test(test_stop_cancel_mid_stream),
        cmocka_unit_test(test_destroy_while_running),
        cmocka_unit_test(test_latency_book),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_start_twice_and_source_only_end),
        cmocka_unit_test(test_slot_callbacks),
        cmocka_unit_test(test_failing_allocations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
