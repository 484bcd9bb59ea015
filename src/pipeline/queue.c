/* The bounded queue between two stages: a FIFO ring of frame pointers with a
 * back-pressure policy, or (for an in-order sink) a reorder window indexed by
 * seq % n_slots that releases frames only in source order. It never allocates
 * after init. */
#include <time.h>

#include "pipeline/pipeline_impl.h"

int64_t eai__pl_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

eai_status_t eai__pl_queue_init(pl_queue_t *q, const eai_allocator_t *a, int cap, int n_window,
                                eai_backpressure_t policy, int producers)
{
    memset(q, 0, sizeof *q);
    q->cap = cap;
    q->n_window = n_window;
    q->policy = policy;
    q->producers_left = producers;
    if (n_window > 0) {
        q->reorder = eai__calloc(a, (size_t)n_window, sizeof *q->reorder);
        if (!q->reorder) return eai_fail(EAI_E_NOMEM, "pipeline: reorder window of %d", n_window);
    } else {
        q->ring = eai__calloc(a, (size_t)cap, sizeof *q->ring);
        if (!q->ring) return eai_fail(EAI_E_NOMEM, "pipeline: queue of %d", cap);
    }
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    pthread_cond_init(&q->not_full, NULL);
    q->inited = true;
    return EAI_OK;
}

void eai__pl_queue_free(pl_queue_t *q, const eai_allocator_t *a)
{
    if (q->inited) {
        pthread_mutex_destroy(&q->mu);
        pthread_cond_destroy(&q->not_empty);
        pthread_cond_destroy(&q->not_full);
    }
    eai__free(a, q->ring);
    eai__free(a, q->reorder);
    memset(q, 0, sizeof *q);
}

void eai__pl_queue_push(pl_queue_t *q, pl_item_t *it, pl_item_t **victim)
{
    *victim = NULL;
    it->block = 0;
    pthread_mutex_lock(&q->mu);
    if (q->reorder) {
        /* At most n_slots frames are alive and none leaves the window before
         * its turn, so seq % n_window is free (see pipeline.c). */
        int i = (int)(it->pub.seq % (uint64_t)q->n_window);
        if (EAI_NEVER(q->reorder[i] != NULL)) {
            /* recover: hand the newcomer back as if dropped */
            pthread_mutex_unlock(&q->mu);
            *victim = it;
            return;
        }
        q->reorder[i] = it;
        it->t_enq = it->t_elig = eai__pl_now();
        if (it->pub.seq == q->next_seq) pthread_cond_signal(&q->not_empty);
        pthread_mutex_unlock(&q->mu);
        return;
    }
    if (q->count == q->cap) {
        if (q->policy == EAI_BACKPRESSURE_DROP_OLDEST) {
            *victim = q->ring[q->head];
            q->head = (q->head + 1) % q->cap;
            q->count--;
        } else {
            int64_t t0 = eai__pl_now();
            while (q->count == q->cap)
                pthread_cond_wait(&q->not_full, &q->mu);
            it->block = eai__pl_now() - t0;
        }
    }
    q->ring[(q->head + q->count) % q->cap] = it;
    q->count++;
    it->t_enq = it->t_elig = eai__pl_now();
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->mu);
}

/* In-order queue: the frame whose turn it is, or NULL. */
static pl_item_t *take_in_turn(pl_queue_t *q)
{
    int i = (int)(q->next_seq % (uint64_t)q->n_window);
    pl_item_t *it = q->reorder[i];
    if (!it || it->pub.seq != q->next_seq) return NULL;
    q->reorder[i] = NULL;
    q->next_seq++;
    pl_item_t *nx = q->reorder[q->next_seq % (uint64_t)q->n_window];
    if (nx && nx->pub.seq == q->next_seq) {
        /* the next frame was waiting for this one: its turn starts now */
        int64_t now = eai__pl_now();
        nx->t_elig = now > nx->t_enq ? now : nx->t_enq;
    }
    return it;
}

/* All producers ended yet frames remain in the window behind a gap: cannot
 * happen (every frame reaches the sink, alive or skipped), but never strand a
 * slot: skip the turn forward to the oldest remaining frame. */
static pl_item_t *take_stranded(pl_queue_t *q)
{
    pl_item_t *best = NULL;
    for (int i = 0; i < q->n_window; i++)
        if (q->reorder[i] && (!best || q->reorder[i]->pub.seq < best->pub.seq))
            best = q->reorder[i];
    if (!best) return NULL;
    q->next_seq = best->pub.seq;
    return take_in_turn(q);
}

pl_item_t *eai__pl_queue_pop(pl_queue_t *q, int64_t *t_free)
{
    *t_free = eai__pl_now();
    pl_item_t *it = NULL;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        if (q->reorder) {
            it = take_in_turn(q);
            if (it) break;
        } else if (q->count > 0) {
            it = q->ring[q->head];
            q->head = (q->head + 1) % q->cap;
            q->count--;
            pthread_cond_signal(&q->not_full);
            break;
        }
        if (q->producers_left <= 0) {
            if (q->reorder) it = take_stranded(q);
            EAI_DCHECK(it == NULL);
            break;
        }
        pthread_cond_wait(&q->not_empty, &q->mu);
    }
    pthread_mutex_unlock(&q->mu);
    return it;
}

void eai__pl_queue_producer_done(pl_queue_t *q, int n)
{
    pthread_mutex_lock(&q->mu);
    q->producers_left -= n;
    pthread_cond_broadcast(&q->not_empty);
    pthread_mutex_unlock(&q->mu);
}
