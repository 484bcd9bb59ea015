/* The staged pipeline (engine): one thread for the source, n_workers threads per
 * stage, bounded queues between them, frame slots recycled through a free
 * stack. A frame that fails, is dropped or is cancelled becomes a "skip":
 * it returns to the free stack at once, or, with in_order, travels to the
 * sink's reorder window so the sink's turn can pass it. Shutdown cascades:
 * a stage's threads exit when their queue is empty and every upstream thread
 * has exited, so no thread is ever left waiting. */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "pipeline/pipeline_impl.h"

int64_t eai_pipeline_now_ns(void)
{
    return eai__pl_now();
}

eai_status_t eai_pipeline_create(const eai_pipeline_opts_t *opts, eai_pipeline_t **out)
{
    eai_pipeline_opts_t o = {0};
    if (opts) o = *opts;
    if (!out) return eai_fail(EAI_E_INVALID, "pipeline: out is NULL");
    if (o.n_slots < 0 || o.book_capacity < 0)
        return eai_fail(EAI_E_INVALID, "pipeline: n_slots %d and book_capacity %d must be >= 0",
                        o.n_slots, o.book_capacity);
    if (o.n_slots > (1 << 20) || o.book_capacity > (1 << 24))
        return eai_fail(EAI_E_INVALID, "pipeline: n_slots %d or book_capacity %d too large",
                        o.n_slots, o.book_capacity);
    if (o.book_capacity == 0) o.book_capacity = 4096;
    eai_pipeline_t *p = eai__calloc(&o.alloc, 1, sizeof *p);
    if (!p) return eai_fail(EAI_E_NOMEM, "pipeline: out of memory");
    p->o = o;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->done_cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&p->book_mu, NULL);
    pthread_cond_init(&p->free_cv, NULL);
    p->sync_inited = true;
    *out = p;
    return EAI_OK;
}

eai_status_t eai_pipeline_add_stage(eai_pipeline_t *p, const eai_pipeline_stage_desc_t *desc)
{
    if (!p || !desc) return eai_fail(EAI_E_INVALID, "pipeline: NULL pipeline or stage");
    if (p->state != PL_CREATED)
        return eai_fail(EAI_E_STATE, "pipeline: stages must be added before start");
    eai_pipeline_stage_desc_t d = *desc;
    char name[32];
    if (d.name)
        snprintf(name, sizeof name, "%s", d.name);
    else
        snprintf(name, sizeof name, "stage%d", p->n_stages);
    if (!d.fn) return eai_fail(EAI_E_INVALID, "pipeline: stage '%s' has no callback", name);
    if (p->n_stages == EAI_PIPELINE_MAX_STAGES)
        return eai_fail(EAI_E_INVALID, "pipeline: stage '%s': more than %d stages", name,
                        EAI_PIPELINE_MAX_STAGES);
    if (d.kind != EAI_STAGE_PROCESS && d.kind != EAI_STAGE_SOURCE && d.kind != EAI_STAGE_SINK)
        return eai_fail(EAI_E_INVALID, "pipeline: stage '%s': unknown kind %d", name, (int)d.kind);
    if (d.kind == EAI_STAGE_SOURCE && p->n_stages != 0)
        return eai_fail(EAI_E_INVALID, "pipeline: source '%s' must be the first stage", name);
    if (p->n_stages == 0 && d.kind != EAI_STAGE_SOURCE)
        return eai_fail(EAI_E_INVALID, "pipeline: the first stage ('%s') must be a SOURCE", name);
    if (p->n_stages > 0 && p->st[p->n_stages - 1].d.kind == EAI_STAGE_SINK)
        return eai_fail(EAI_E_INVALID, "pipeline: stage '%s' added after the sink '%s'", name,
                        p->st[p->n_stages - 1].name);
    if (d.n_workers < 0 || d.n_workers > EAI_PIPELINE_MAX_WORKERS)
        return eai_fail(EAI_E_INVALID, "pipeline: stage '%s': n_workers %d not in [0, %d]", name,
                        d.n_workers, EAI_PIPELINE_MAX_WORKERS);
    if (d.kind != EAI_STAGE_PROCESS && d.n_workers > 1)
        return eai_fail(EAI_E_INVALID, "pipeline: %s '%s' runs on one thread (n_workers %d)",
                        d.kind == EAI_STAGE_SOURCE ? "source" : "sink", name, d.n_workers);
    if (d.queue_capacity < 0 || d.queue_capacity > (1 << 20))
        return eai_fail(EAI_E_INVALID, "pipeline: stage '%s': queue_capacity %d", name,
                        d.queue_capacity);
    if (d.policy != EAI_BACKPRESSURE_BLOCK && d.policy != EAI_BACKPRESSURE_DROP_OLDEST)
        return eai_fail(EAI_E_INVALID, "pipeline: stage '%s': unknown policy %d", name,
                        (int)d.policy);
    if (d.in_order && d.kind == EAI_STAGE_SOURCE)
        return eai_fail(EAI_E_INVALID, "pipeline: in_order is for stages after the source ('%s')",
                        name);
    if (d.in_order && d.n_workers > 1)
        return eai_fail(EAI_E_INVALID, "pipeline: in-order stage '%s' needs one worker (has %d)",
                        name, d.n_workers);
    if (d.n_workers == 0) d.n_workers = 1;
    if (d.queue_capacity == 0) d.queue_capacity = 4;
    pl_stage_t *st = &p->st[p->n_stages];
    memset(st, 0, sizeof *st);
    memcpy(st->name, name, sizeof name);
    d.name = st->name;
    st->d = d;
    st->index = p->n_stages;
    st->p = p;
    p->n_stages++;
    return EAI_OK;
}

/* ---- slots ---------------------------------------------------------------- */

static void recycle(eai_pipeline_t *p, pl_item_t *it, bool record)
{
    pthread_mutex_lock(&p->book_mu);
    if (record) eai__pl_book_record(&p->book, it);
    p->free_stack[p->n_free++] = it->pub.slot;
    pthread_cond_signal(&p->free_cv);
    pthread_mutex_unlock(&p->book_mu);
}

static pl_item_t *acquire(eai_pipeline_t *p)
{
    pl_item_t *it = NULL;
    pthread_mutex_lock(&p->book_mu);
    while (p->n_free == 0 && !atomic_load(&p->stop_src))
        pthread_cond_wait(&p->free_cv, &p->book_mu);
    if (!atomic_load(&p->stop_src)) it = &p->items[p->free_stack[--p->n_free]];
    pthread_mutex_unlock(&p->book_mu);
    return it;
}

static void note_error(eai_pipeline_t *p, pl_stage_t *st)
{
    atomic_fetch_add(&st->n_errors, 1);
    pthread_mutex_lock(&p->book_mu);
    snprintf(st->last_error, sizeof st->last_error, "%s", eai_last_error());
    pthread_mutex_unlock(&p->book_mu);
}

/* A frame that will not run the stages after `s`. Every in-order stage
 * downstream must still see its seq pass, so it goes to the first of them
 * (which forwards it to the next when its turn comes), else straight back to
 * the free stack. */
static void route_skip(eai_pipeline_t *p, int s, pl_item_t *it)
{
    for (int o = s + 1; o < p->n_stages; o++) {
        if (!p->st[o].ordered) continue;
        pl_item_t *back;
        eai__pl_queue_push(&p->st[o].q, it, &back);
        if (back) recycle(p, back, true);
        return;
    }
    recycle(p, it, true);
}

/* Pushes into stage s's queue and routes a frame evicted by DROP_OLDEST. */
static void hand_off(eai_pipeline_t *p, int s, pl_item_t *it)
{
    pl_item_t *victim;
    eai__pl_queue_push(&p->st[s].q, it, &victim);
    if (!victim) return;
    if (victim == it) { /* window collision (cannot happen): keep the slot */
        recycle(p, it, true);
        return;
    }
    atomic_fetch_add(&p->st[s].n_dropped, 1);
    victim->flags |= PL_SKIP | PL_DROPPED;
    route_skip(p, s, victim);
}

/* ---- threads -------------------------------------------------------------- */

static void run_source(pl_stage_t *st)
{
    eai_pipeline_t *p = st->p;
    uint64_t seq = 0;
    while (!atomic_load(&p->stop_src)) {
        int64_t t0 = eai__pl_now();
        pl_item_t *it = acquire(p);
        if (!it) break;
        int64_t t1 = eai__pl_now();
        it->flags = 0;
        it->ran = 0;
        it->pub.seq = seq;
        it->pub.end_of_stream = 0;
        it->pub.t_source_ns = t1;
        eai_status_t rc = st->d.fn(st->d.user, 0, &it->pub);
        int64_t t2 = eai__pl_now();
        if (rc != EAI_OK) note_error(p, st);
        if (rc != EAI_OK || it->pub.end_of_stream) {
            /* no frame: the seq is not used, so in-order turns stay dense */
            bool eos = it->pub.end_of_stream != 0;
            recycle(p, it, false);
            if (eos) break;
            continue;
        }
        seq++;
        atomic_fetch_add(&st->n_ok, 1);
        /* the source may move the frame's birth to its capture time */
        if (it->pub.t_source_ns < t1 || it->pub.t_source_ns > t2) it->pub.t_source_ns = t1;
        it->t[0].compute = t2 - it->pub.t_source_ns;
        it->t[0].wait = t1 - t0;
        it->t[0].overhead = 0;
        it->ran = 1;
        it->t_rdy = t2;
        hand_off(p, 1, it);
    }
}

static void run_stage(pl_stage_t *st, int worker)
{
    eai_pipeline_t *p = st->p;
    int s = st->index, last = p->n_stages - 1;
    for (;;) {
        int64_t t_free;
        pl_item_t *it = eai__pl_queue_pop(&st->q, &t_free);
        if (!it) break;
        if (it->flags & PL_SKIP) { /* parked in the in-order window: its turn passed */
            route_skip(p, s, it);
            continue;
        }
        if (atomic_load(&p->cancel)) {
            it->flags |= PL_SKIP | PL_CANCELLED;
            route_skip(p, s, it);
            continue;
        }
        int64_t t_start = eai__pl_now();
        /* waiting = blocked upstream + in the queue until a worker was free
         * and it was this frame's turn; the rest of the hop is overhead */
        int64_t avail = t_free > it->t_elig ? t_free : it->t_elig;
        int64_t wait = it->block + (avail > it->t_enq ? avail - it->t_enq : 0);
        int64_t ovh = (t_start - it->t_rdy) - wait;
        eai_status_t rc = st->d.fn(st->d.user, worker, &it->pub);
        int64_t t_end = eai__pl_now();
        it->t[s].compute = t_end - t_start;
        it->t[s].wait = wait;
        it->t[s].overhead = ovh > 0 ? ovh : 0;
        it->ran |= 1u << s;
        if (rc != EAI_OK) {
            note_error(p, st);
            it->flags |= PL_SKIP | PL_FAILED;
            route_skip(p, s, it);
            continue;
        }
        atomic_fetch_add(&st->n_ok, 1);
        if (s == last) {
            it->flags |= PL_DONE;
            it->t_done = t_end;
            recycle(p, it, true);
        } else {
            it->t_rdy = t_end;
            hand_off(p, s + 1, it);
        }
    }
}

static void *worker_main(void *arg)
{
    pl_worker_t *w = arg;
    pl_stage_t *st = w->st;
    eai_pipeline_t *p = st->p;
    if (st->index == 0)
        run_source(st);
    else
        run_stage(st, w->idx);
    if (st->index + 1 < p->n_stages) eai__pl_queue_producer_done(&p->st[st->index + 1].q, 1);
    pthread_mutex_lock(&p->mu);
    p->n_threads_done++;
    pthread_cond_broadcast(&p->done_cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- lifecycle ------------------------------------------------------------ */

static void free_run_state(eai_pipeline_t *p)
{
    const eai_allocator_t *a = &p->o.alloc;
    if (p->o.slot_fini && p->items)
        for (int i = 0; i < p->n_slot_inited; i++)
            p->o.slot_fini(p->o.slot_user, i, p->items[i].pub.payload);
    p->n_slot_inited = 0;
    for (int s = 0; s < p->n_stages; s++) {
        eai__pl_queue_free(&p->st[s].q, a);
        eai__free(a, p->st[s].w);
        p->st[s].w = NULL;
    }
    eai__pl_book_free(&p->book, a);
    eai__free(a, p->items);
    eai__free(a, p->timings);
    eai__free_aligned(a, p->payload);
    eai__free(a, p->free_stack);
    p->items = NULL;
    p->timings = NULL;
    p->payload = NULL;
    p->free_stack = NULL;
}

static eai_status_t alloc_run_state(eai_pipeline_t *p)
{
    const eai_allocator_t *a = &p->o.alloc;
    int last = p->n_stages - 1;
    int64_t n = p->o.n_slots;
    if (n == 0) {
        n = 1;
        for (int s = 1; s < p->n_stages; s++)
            n += p->st[s].d.queue_capacity + p->st[s].d.n_workers;
    }
    p->n_slots = (int)n;
    size_t pay = EAI_ALIGN_UP(p->o.payload_bytes, EAI_ALIGN);
    int64_t pay_total;
    if (!eai__mul_ok((int64_t)pay, n, &pay_total) || pay_total > EAI_MAX_TENSOR_BYTES)
        return eai_fail(EAI_E_INVALID, "pipeline: %d slots of %zu payload bytes is too much",
                        p->n_slots, p->o.payload_bytes);
    p->items = eai__calloc(a, (size_t)n, sizeof *p->items);
    p->timings = eai__calloc(a, (size_t)n * (size_t)p->n_stages, sizeof *p->timings);
    p->free_stack = eai__calloc(a, (size_t)n, sizeof *p->free_stack);
    if (pay_total > 0) {
        p->payload = eai__alloc_aligned(a, (size_t)pay_total);
        if (p->payload) memset(p->payload, 0, (size_t)pay_total);
    }
    if (!p->items || !p->timings || !p->free_stack || (pay_total > 0 && !p->payload))
        return eai_fail(EAI_E_NOMEM, "pipeline: %d frame slots", p->n_slots);
    EAI_TRY(eai__pl_book_init(&p->book, a, p->o.book_capacity, p->n_stages));
    for (int s = 0; s < p->n_stages; s++) {
        pl_stage_t *st = &p->st[s];
        st->w = eai__calloc(a, (size_t)st->d.n_workers, sizeof *st->w);
        if (!st->w) return eai_fail(EAI_E_NOMEM, "pipeline: stage '%s' workers", st->name);
        for (int i = 0; i < st->d.n_workers; i++) {
            st->w[i].st = st;
            st->w[i].idx = i;
        }
        if (s == 0) continue;
        st->ordered = st->d.in_order || (p->o.in_order && s == last);
        int window = st->ordered ? p->n_slots : 0;
        EAI_TRY(eai__pl_queue_init(&st->q, a, st->d.queue_capacity, window, st->d.policy,
                                   p->st[s - 1].d.n_workers));
    }
    for (int i = 0; i < p->n_slots; i++) {
        pl_item_t *it = &p->items[i];
        it->pub.slot = i;
        it->pub.payload = pay ? (char *)p->payload + (size_t)i * pay : NULL;
        it->t = p->timings + (size_t)i * (size_t)p->n_stages;
        p->free_stack[i] = p->n_slots - 1 - i;
    }
    p->n_free = p->n_slots;
    if (p->o.slot_init)
        for (int i = 0; i < p->n_slots; i++) {
            EAI_TRY(p->o.slot_init(p->o.slot_user, i, p->items[i].pub.payload));
            p->n_slot_inited = i + 1;
        }
    else
        p->n_slot_inited = p->n_slots;
    return EAI_OK;
}

eai_status_t eai_pipeline_start(eai_pipeline_t *p)
{
    if (!p) return eai_fail(EAI_E_INVALID, "pipeline: NULL pipeline");
    if (p->state != PL_CREATED) return eai_fail(EAI_E_STATE, "pipeline: already started");
    if (p->n_stages < 2)
        return eai_fail(EAI_E_INVALID, "pipeline: needs a source and at least one more stage");
    int last = p->n_stages - 1;
    if (p->o.in_order && p->st[last].d.n_workers > 1)
        return eai_fail(EAI_E_INVALID,
                        "pipeline: in_order needs a single-threaded last stage ('%s' has %d)",
                        p->st[last].name, p->st[last].d.n_workers);
    eai_status_t rc = alloc_run_state(p);
    if (rc != EAI_OK) {
        free_run_state(p);
        return rc;
    }
    p->state = PL_RUNNING;
    /* start from the sink back to the source, so a failure leaves only
     * downstream threads, which then see no producers and exit */
    for (int s = last; s >= 0; s--) {
        pl_stage_t *st = &p->st[s];
        for (int i = 0; i < st->d.n_workers; i++) {
            if (pthread_create(&st->w[i].th, NULL, worker_main, &st->w[i]) != 0) {
                atomic_store(&p->stop_src, 1);
                atomic_store(&p->cancel, 1);
                if (s < last) eai__pl_queue_producer_done(&p->st[s + 1].q, st->d.n_workers - i);
                if (s > 0) eai__pl_queue_producer_done(&st->q, p->st[s - 1].d.n_workers);
                eai_pipeline_wait(p, -1);
                return eai_fail(EAI_E_UNAVAILABLE, "pipeline: cannot start a thread for '%s'",
                                st->name);
            }
            st->w[i].started = true;
            pthread_mutex_lock(&p->mu);
            p->n_threads++;
            pthread_mutex_unlock(&p->mu);
        }
    }
    return EAI_OK;
}

eai_status_t eai_pipeline_stop(eai_pipeline_t *p, eai_pipeline_stop_mode_t mode)
{
    if (!p) return eai_fail(EAI_E_INVALID, "pipeline: NULL pipeline");
    if (p->state == PL_CREATED) return eai_fail(EAI_E_STATE, "pipeline: not started");
    if (mode == EAI_PIPELINE_CANCEL) atomic_store(&p->cancel, 1);
    atomic_store(&p->stop_src, 1);
    /* wake a source waiting for a free slot */
    pthread_mutex_lock(&p->book_mu);
    pthread_cond_broadcast(&p->free_cv);
    pthread_mutex_unlock(&p->book_mu);
    return EAI_OK;
}

eai_status_t eai_pipeline_wait(eai_pipeline_t *p, int timeout_ms)
{
    if (!p) return eai_fail(EAI_E_INVALID, "pipeline: NULL pipeline");
    if (p->state == PL_CREATED) return eai_fail(EAI_E_STATE, "pipeline: not started");
    if (p->state == PL_JOINED) return EAI_OK;
    pthread_mutex_lock(&p->mu);
    if (timeout_ms < 0) {
        while (p->n_threads_done < p->n_threads)
            pthread_cond_wait(&p->done_cv, &p->mu);
    } else {
        int64_t dl = eai__pl_now() + (int64_t)timeout_ms * 1000000;
        struct timespec ts = {(time_t)(dl / 1000000000), (long)(dl % 1000000000)};
        while (p->n_threads_done < p->n_threads) {
            if (pthread_cond_timedwait(&p->done_cv, &p->mu, &ts) == ETIMEDOUT &&
                p->n_threads_done < p->n_threads) {
                int left = p->n_threads - p->n_threads_done;
                pthread_mutex_unlock(&p->mu);
                return eai_fail(EAI_E_TIMEOUT, "pipeline: %d thread(s) still running after %d ms",
                                left, timeout_ms);
            }
        }
    }
    pthread_mutex_unlock(&p->mu);
    /* every thread has left its loop: these joins return at once */
    for (int s = 0; s < p->n_stages; s++)
        for (int i = 0; i < p->st[s].d.n_workers; i++)
            if (p->st[s].w && p->st[s].w[i].started) {
                pthread_join(p->st[s].w[i].th, NULL);
                p->st[s].w[i].started = false;
            }
    p->state = PL_JOINED;
    return EAI_OK;
}

eai_status_t eai_pipeline_get_stats(eai_pipeline_t *p, eai_pipeline_stats_t *out)
{
    if (!p || !out) return eai_fail(EAI_E_INVALID, "pipeline: NULL pipeline or stats");
    memset(out, 0, sizeof *out);
    out->n_stages = p->n_stages;
    pthread_mutex_lock(&p->book_mu);
    for (int s = 0; s < p->n_stages; s++) {
        pl_stage_t *st = &p->st[s];
        eai_pipeline_stage_stats_t *o = &out->stage[s];
        memcpy(o->name, st->name, sizeof o->name);
        o->n_workers = st->d.n_workers;
        o->n_ok = atomic_load(&st->n_ok);
        o->n_errors = atomic_load(&st->n_errors);
        o->n_dropped = atomic_load(&st->n_dropped);
        out->n_dropped += o->n_dropped;
        memcpy(o->last_error, st->last_error, sizeof o->last_error);
    }
    if (p->book.cap > 0) eai__pl_book_stats(&p->book, out);
    pthread_mutex_unlock(&p->book_mu);
    out->n_frames = p->n_stages > 0 ? out->stage[0].n_ok : 0;
    return EAI_OK;
}

void eai_pipeline_reset_stats(eai_pipeline_t *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->book_mu);
    eai__pl_book_reset(&p->book);
    for (int s = 0; s < p->n_stages; s++) {
        atomic_store(&p->st[s].n_ok, 0);
        atomic_store(&p->st[s].n_errors, 0);
        atomic_store(&p->st[s].n_dropped, 0);
        p->st[s].last_error[0] = 0;
    }
    pthread_mutex_unlock(&p->book_mu);
}

void eai_pipeline_destroy(eai_pipeline_t *p)
{
    if (!p) return;
    if (p->state == PL_RUNNING) {
        eai_pipeline_stop(p, EAI_PIPELINE_CANCEL);
        eai_pipeline_wait(p, -1);
    }
    free_run_state(p);
    if (p->sync_inited) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->done_cv);
        pthread_mutex_destroy(&p->book_mu);
        pthread_cond_destroy(&p->free_cv);
    }
    eai_allocator_t a = p->o.alloc;
    eai__free(&a, p);
}
