/* One node of a topology: sensors make samples, aggregators accept their
 * children's messages and forward summaries, the root collects. The delivery
 * protocol (outbox + resend, de-duplication, save-then-acknowledge) is
 * described in edgeai/node.h; eai_node_step is its one loop: take messages,
 * make samples, close summaries, SAVE, then publish. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgeai/log.h"
#include "node/node_impl.h"

#define RECV_MAX_PER_STEP 4096

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static double rng_unit(eai_node_t *n)
{
    n->rng = eai__node_mix(n->rng);
    return (double)(n->rng >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- publishing (through link emulation when enabled) ---- */

static void send_msg(eai_node_t *n, const char *topic, const uint8_t *p, size_t len, double lat,
                     double jit, double loss)
{
    if (!n->o.emulate_links) {
        /* a failed publish is recovered by the resend timer (data) or by the
         * re-ack of the duplicate it causes (acks) */
        if (eai_transport_publish(n->tr, topic, p, len, 1, false) != EAI_OK)
            eai__log(EAI_LOG_DEBUG, "node %s: publish %s: %s", n->name, topic, eai_last_error());
        return;
    }
    if (loss > 0 && rng_unit(n) < loss) {
        n->led.emu_dropped++;
        return;
    }
    if (n->n_emu == n->cap_emu) {
        size_t cap = n->cap_emu ? n->cap_emu * 2 : 16;
        node_emu_t *q = eai__realloc(&n->alloc, n->emu, cap * sizeof *q);
        if (!q) return; /* as if lost on the link: resent */
        n->emu = q;
        n->cap_emu = cap;
    }
    node_emu_t *e = &n->emu[n->n_emu];
    e->at = n->now + (lat + (jit > 0 ? rng_unit(n) * jit : 0)) / 1000.0;
    e->topic = eai__strdup(&n->alloc, topic);
    e->bytes = eai__alloc(&n->alloc, len ? len : 1);
    if (!e->topic || !e->bytes) {
        eai__free(&n->alloc, e->topic);
        eai__free(&n->alloc, e->bytes);
        return;
    }
    memcpy(e->bytes, p, len);
    e->n = len;
    n->n_emu++;
}

static void release_emu(eai_node_t *n)
{
    size_t k = 0;
    for (size_t i = 0; i < n->n_emu; i++) {
        node_emu_t *e = &n->emu[i];
        if (e->at <= n->now) {
            if (eai_transport_publish(n->tr, e->topic, e->bytes, e->n, 1, false) != EAI_OK)
                eai__log(EAI_LOG_DEBUG, "node %s: publish %s: %s", n->name, e->topic,
                         eai_last_error());
            eai__free(&n->alloc, e->topic);
            eai__free(&n->alloc, e->bytes);
        } else {
            n->emu[k++] = *e;
        }
    }
    n->n_emu = k;
}

/* ---- building messages ---- */

static eai_status_t outbox_push(eai_node_t *n, node_buf_t *b, uint64_t n_samples)
{
    if (b->oom) {
        b->oom = false;
        return eai_fail(EAI_E_NOMEM, "node %s: message buffer", n->name);
    }
    if (EAI_NEVER(n->n_out >= n->o.outbox_max))
        return eai_fail(EAI_E_STATE, "node %s: outbox full", n->name);
    uint8_t *p = eai__alloc(&n->alloc, b->n);
    if (!p) return eai_fail(EAI_E_NOMEM, "node %s: %zu-byte message", n->name, b->n);
    memcpy(p, b->p, b->n);
    n->out[n->n_out++] = (node_out_t){
        .seq = n->next_seq, .n_samples = n_samples, .bytes = p, .n = b->n, .last_sent = -1};
    n->next_seq++;
    n->led.sent++; /* counted with the message, which the next save makes durable */
    n->dirty = true;
    return EAI_OK;
}

static void put_header(eai_node_t *n, node_buf_t *b, uint64_t final, uint64_t count, double sum,
                       double mn, double mx)
{
    b->n = 0;
    eai__node_buf_u32(b, NODE_MAGIC_DATA);
    eai__node_buf_str(b, n->name);
    eai__node_buf_u64(b, n->next_seq);
    eai__node_buf_u64(b, final);
    eai__node_buf_u64(b, now_us());
    eai__node_buf_u64(b, count);
    eai__node_buf_f64(b, sum);
    eai__node_buf_f64(b, mn);
    eai__node_buf_f64(b, mx);
}

/* Adds samples [lo, hi] of origin oi (count values summing to sum) to the
 * pending summary. */
static eai_status_t pend_add(eai_node_t *n, int oi, uint64_t lo, uint64_t hi)
{
    if (n->n_pend) {
        node_prange_t *l = &n->pend[n->n_pend - 1];
        if (l->origin == oi && l->hi + 1 == lo) {
            l->hi = hi;
            return EAI_OK;
        }
    }
    if (n->n_pend == n->cap_pend) {
        size_t cap = n->cap_pend ? n->cap_pend * 2 : 16;
        node_prange_t *q = eai__realloc(&n->alloc, n->pend, cap * sizeof *q);
        if (!q) return eai_fail(EAI_E_NOMEM, "node %s: pending summary", n->name);
        n->pend = q;
        n->cap_pend = cap;
    }
    n->pend[n->n_pend++] = (node_prange_t){oi, lo, hi};
    return EAI_OK;
}

static void pend_summary(eai_node_t *n, uint64_t count, double sum, double mn, double mx)
{
    if (n->pend_count == 0) {
        n->pend_min = mn;
        n->pend_max = mx;
        n->pend_t0 = n->now;
    } else {
        if (mn < n->pend_min) n->pend_min = mn;
        if (mx > n->pend_max) n->pend_max = mx;
    }
    n->pend_count += count;
    n->pend_sum += sum;
}

static void ledger_summary(eai_node_t *n, uint64_t count, double sum, double mn, double mx)
{
    if (count == 0) return;
    if (n->led.sum == 0 && n->led.min == 0 && n->led.max == 0) { /* first values */
        n->led.min = mn;
        n->led.max = mx;
    } else {
        if (mn < n->led.min) n->led.min = mn;
        if (mx > n->led.max) n->led.max = mx;
    }
    n->led.sum += sum;
}

/* Makes sample gen_next. */
static eai_status_t make_sample(eai_node_t *n)
{
    uint64_t seq = n->gen_next;
    double v = eai_node_sample_value(n->o.seed, n->name, seq);
    int oi = eai__node_set_origin(&n->set, n->name);
    if (oi < 0) return EAI_E_NOMEM;
    uint64_t dups;
    EAI_TRY(eai__node_set_add(&n->set, oi, seq, seq, &dups));
    n->led.generated++;
    n->led.samples++;
    ledger_summary(n, 1, v, v, v);
    n->gen_next++;
    n->dirty = true;
    if (n->n_ch > 0 || !n->has_parent) { /* goes into this node's own summaries */
        if (n->has_parent) {
            EAI_TRY(pend_add(n, oi, seq, seq));
            pend_summary(n, 1, v, v, v);
        }
        return EAI_OK;
    }
    /* a pure sensor: one message per sample, message seq = sample seq */
    node_buf_t *b = &n->scratch;
    n->final = (uint64_t)n->n_expected;
    put_header(n, b, n->final, 1, v, v, v);
    eai__node_buf_u32(b, 1);
    eai__node_buf_str(b, n->name);
    eai__node_buf_u64(b, seq);
    eai__node_buf_u64(b, seq);
    eai__node_buf_u32(b, (uint32_t)n->payload_bytes);
    uint64_t r = eai__node_mix(n->o.seed ^ eai__node_fnv(n->name) ^ (seq * 0x9e3779b97f4a7c15ull));
    for (int i = 0; i < n->payload_bytes; i++) {
        if ((i & 7) == 0) r = eai__node_mix(r);
        uint8_t byte = (uint8_t)(r >> (8 * (i & 7)));
        eai__node_buf_put(b, &byte, 1);
    }
    return outbox_push(n, b, 1);
}

/* Closes the pending summary into one message (final: the last one). */
static eai_status_t close_batch(eai_node_t *n, bool final)
{
    node_buf_t *b = &n->scratch;
    uint64_t fin = final ? n->next_seq + 1 : 0;
    put_header(n, b, fin, n->pend_count, n->pend_sum, n->pend_min, n->pend_max);
    eai__node_buf_u32(b, (uint32_t)n->n_pend);
    for (size_t i = 0; i < n->n_pend; i++) {
        eai__node_buf_str(b, n->set.o[n->pend[i].origin].name);
        eai__node_buf_u64(b, n->pend[i].lo);
        eai__node_buf_u64(b, n->pend[i].hi);
    }
    eai__node_buf_u32(b, 0);
    EAI_TRY(outbox_push(n, b, n->pend_count));
    if (final) n->final = fin;
    n->n_pend = 0;
    n->pend_count = 0;
    n->pend_sum = n->pend_min = n->pend_max = 0;
    return EAI_OK;
}

/* ---- receiving ---- */

static bool child_has(const node_child_t *c, uint64_t s)
{
    return s < c->wm || (s - c->wm < NODE_WIN && (c->bits[(s % NODE_WIN) / 64] >> (s % 64)) & 1);
}

static void child_mark(node_child_t *c, uint64_t s)
{
    c->bits[(s % NODE_WIN) / 64] |= 1ull << (s % 64);
    while ((c->bits[(c->wm % NODE_WIN) / 64] >> (c->wm % 64)) & 1) {
        c->bits[(c->wm % NODE_WIN) / 64] &= ~(1ull << (c->wm % 64));
        c->wm++;
    }
}

static eai_status_t queue_ack(eai_node_t *n, node_child_t *c, uint64_t seq)
{
    if (c->n_acks == c->cap_acks) {
        size_t cap = c->cap_acks ? c->cap_acks * 2 : 16;
        uint64_t *q = eai__realloc(&n->alloc, c->acks, cap * sizeof *q);
        if (!q) return eai_fail(EAI_E_NOMEM, "node %s: ack list", n->name);
        c->acks = q;
        c->cap_acks = cap;
    }
    c->acks[c->n_acks++] = seq;
    return EAI_OK;
}

static void bad_msg(eai_node_t *n, const char *topic, const char *why)
{
    n->bad_msgs++;
    eai__log(EAI_LOG_WARN, "node %s: dropped a malformed message on %s: %s", n->name, topic, why);
}

static eai_status_t on_data(eai_node_t *n, const eai_transport_msg_t *m)
{
    node_rd_t r = {.p = m->payload, .n = m->n_bytes};
    char sender[NODE_NAME_MAX];
    if (eai__node_rd_u32(&r) != NODE_MAGIC_DATA) return bad_msg(n, m->topic, "magic"), EAI_OK;
    eai__node_rd_str(&r, sender, sizeof sender);
    uint64_t seq = eai__node_rd_u64(&r), fin = eai__node_rd_u64(&r);
    (void)eai__node_rd_u64(&r); /* timestamp: informational */
    uint64_t count = eai__node_rd_u64(&r);
    double sum = eai__node_rd_f64(&r), mn = eai__node_rd_f64(&r), mx = eai__node_rd_f64(&r);
    uint32_t n_ranges = eai__node_rd_u32(&r);
    if (r.bad) return bad_msg(n, m->topic, "truncated header"), EAI_OK;
    int ci = eai__strmap_get(&n->ch_map, sender);
    if (ci < 0) return bad_msg(n, m->topic, "sender is not a child"), EAI_OK;
    if (fin > 0 && seq >= fin) return bad_msg(n, m->topic, "seq past final count"), EAI_OK;
    if (!isfinite(sum) || !isfinite(mn) || !isfinite(mx))
        return bad_msg(n, m->topic, "summary not finite"), EAI_OK;
    /* validate every range before changing anything */
    size_t ranges_at = r.off;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n_ranges && !r.bad; i++) {
        char on[NODE_NAME_MAX];
        eai__node_rd_str(&r, on, sizeof on);
        uint64_t lo = eai__node_rd_u64(&r), hi = eai__node_rd_u64(&r);
        if (lo > hi || hi >= (UINT64_C(1) << 62)) r.bad = true;
        total += hi - lo + 1;
    }
    uint32_t pl = eai__node_rd_u32(&r);
    (void)eai__node_rd_bytes(&r, pl);
    if (r.bad || r.off != r.n) return bad_msg(n, m->topic, "ranges or payload"), EAI_OK;
    if (total != count) return bad_msg(n, m->topic, "count differs from ranges"), EAI_OK;

    node_child_t *c = &n->ch[ci];
    if (child_has(c, seq)) {
        n->led.duplicates++;
        return queue_ack(n, c, seq);
    }
    /* a burst from many children: close full summaries as they fill, so
     * only a full outbox (the parent not acknowledging) refuses */
    if (n->has_parent && n->pend_count >= (uint64_t)n->o.batch_max && n->n_out < n->o.outbox_max)
        EAI_TRY(close_batch(n, false));
    if (seq - c->wm >= NODE_WIN || (n->has_parent && n->pend_count >= 4u * n->o.batch_max)) {
        n->led.refused++; /* no ack: the child sends it again later */
        return EAI_OK;
    }
    child_mark(c, seq);
    if (fin) c->final = fin;
    r.off = ranges_at;
    for (uint32_t i = 0; i < n_ranges; i++) {
        char on[NODE_NAME_MAX];
        eai__node_rd_str(&r, on, sizeof on);
        uint64_t lo = eai__node_rd_u64(&r), hi = eai__node_rd_u64(&r), dups;
        int oi = eai__node_set_origin(&n->set, on);
        if (oi < 0) return EAI_E_NOMEM;
        EAI_TRY(eai__node_set_add(&n->set, oi, lo, hi, &dups));
        n->led.sample_dups += dups;
        n->led.samples += hi - lo + 1 - dups;
        if (n->has_parent) EAI_TRY(pend_add(n, oi, lo, hi));
    }
    ledger_summary(n, count, sum, mn, mx);
    if (n->has_parent && count) pend_summary(n, count, sum, mn, mx);
    n->led.received++;
    n->dirty = true;
    return queue_ack(n, c, seq);
}

static void on_ack(eai_node_t *n, const eai_transport_msg_t *m)
{
    node_rd_t r = {.p = m->payload, .n = m->n_bytes};
    char sender[NODE_NAME_MAX];
    if (eai__node_rd_u32(&r) != NODE_MAGIC_ACK) {
        bad_msg(n, m->topic, "magic");
        return;
    }
    eai__node_rd_str(&r, sender, sizeof sender);
    uint32_t k = eai__node_rd_u32(&r);
    if (r.bad || strcmp(sender, n->parent) != 0 || (size_t)k * 8 != r.n - r.off) {
        bad_msg(n, m->topic, "ack header");
        return;
    }
    for (uint32_t i = 0; i < k; i++) {
        uint64_t s = eai__node_rd_u64(&r);
        int a = 0, b = n->n_out;
        while (a < b) {
            int mid = (a + b) / 2;
            if (n->out[mid].seq < s)
                a = mid + 1;
            else
                b = mid;
        }
        if (a >= n->n_out || n->out[a].seq != s) continue; /* acknowledged before */
        n->led.acked++;
        n->led.delivered += n->out[a].n_samples;
        eai__free(&n->alloc, n->out[a].bytes);
        memmove(n->out + a, n->out + a + 1, (size_t)(n->n_out - a - 1) * sizeof *n->out);
        n->n_out--;
        n->dirty = true;
    }
}

/* ---- the loop ---- */

static bool children_complete(const eai_node_t *n)
{
    for (int i = 0; i < n->n_ch; i++)
        if (n->ch[i].final == 0 || n->ch[i].wm < n->ch[i].final) return false;
    return true;
}

bool eai_node_done(const eai_node_t *n)
{
    /* messages held by link emulation (the last acks, often) are not out yet */
    if (n->n_emu || !children_complete(n)) return false;
    if (n->sensor && n->gen_next < (uint64_t)n->n_expected) return false;
    if (n->has_parent) return n->final > 0 && n->next_seq >= n->final && n->n_out == 0;
    return true;
}

static eai_status_t produce(eai_node_t *n)
{
    bool pure = n->n_ch == 0 && n->has_parent;
    while (n->sensor && n->gen_next < (uint64_t)n->n_expected) {
        double due = n->gen_t0 + (double)(n->gen_next - n->gen_base) / n->rate;
        if (due > n->now) break;
        if (pure && n->n_out >= n->o.outbox_max) break;
        if (!pure && n->has_parent && n->pend_count >= 4u * n->o.batch_max) break;
        EAI_TRY(make_sample(n));
    }
    if (!n->has_parent || n->final) return EAI_OK;
    if (pure) {
        /* a sensor with nothing to send still ends its stream */
        if (n->n_expected == 0 && n->n_out < n->o.outbox_max) {
            n->pend_count = 0;
            return close_batch(n, true);
        }
        return EAI_OK;
    }
    bool last = children_complete(n) && (!n->sensor || n->gen_next >= (uint64_t)n->n_expected);
    while (n->n_out < n->o.outbox_max) {
        if (last) return close_batch(n, true);
        bool full = n->pend_count >= (uint64_t)n->o.batch_max;
        bool old = n->pend_count > 0 && n->now - n->pend_t0 >= n->o.batch_ms / 1000.0;
        if (!full && !old) break;
        EAI_TRY(close_batch(n, false));
    }
    return EAI_OK;
}

static void publish(eai_node_t *n)
{
    node_buf_t *b = &n->scratch;
    for (int i = 0; i < n->n_ch; i++) {
        node_child_t *c = &n->ch[i];
        if (!c->n_acks) continue;
        b->n = 0;
        eai__node_buf_u32(b, NODE_MAGIC_ACK);
        eai__node_buf_str(b, n->name);
        eai__node_buf_u32(b, (uint32_t)c->n_acks);
        for (size_t k = 0; k < c->n_acks; k++)
            eai__node_buf_u64(b, c->acks[k]);
        if (b->oom) {
            b->oom = false;
            continue; /* the child resends; the duplicate is acked then */
        }
        send_msg(n, c->ack_topic, b->p, b->n, c->lat_ms, c->jit_ms, c->loss);
        n->led.acks_sent++;
        c->n_acks = 0;
    }
    double resend = n->o.resend_ms / 1000.0;
    for (int i = 0; i < n->n_out; i++) {
        node_out_t *o = &n->out[i];
        if (o->last_sent >= 0 && n->now - o->last_sent < resend) continue;
        if (o->sent_once || o->last_sent >= 0) n->led.resent++;
        send_msg(n, n->up_topic, o->bytes, o->n, n->up_lat_ms, n->up_jit_ms, n->up_loss);
        o->last_sent = n->now;
        o->sent_once = true;
    }
    release_emu(n);
}

eai_status_t eai_node_step(eai_node_t *n, double now_s, int wait_ms)
{
    if (!n->started) {
        n->started = true;
        n->gen_t0 = now_s;
        n->gen_base = n->gen_next;
        n->pend_t0 = now_s;
    }
    if (now_s > n->now) n->now = now_s;
    bool up = eai_transport_connected(n->tr);
    if (up && !n->was_connected)
        for (int i = 0; i < n->n_out; i++) /* reconnected: resend everything now */
            n->out[i].last_sent = -1;
    n->was_connected = up;

    eai_transport_msg_t m;
    for (int k = 0; k < RECV_MAX_PER_STEP; k++) {
        if (eai_transport_recv(n->tr, k == 0 ? wait_ms : 0, &m) != EAI_OK) break;
        if (n->has_parent && strcmp(m.topic, n->ack_topic) == 0)
            on_ack(n, &m);
        else if (n->n_ch && strcmp(m.topic, n->in_topic) == 0)
            EAI_TRY(on_data(n, &m));
        else
            bad_msg(n, m.topic, "unexpected topic");
    }
    EAI_TRY(produce(n));
    if (n->dirty) {
        /* save before publishing anything that depends on this state: an ack
         * promises the sample is held, a new seq must never be reused */
        EAI_TRY(eai__node_state_save(n));
        n->dirty = false;
    }
    publish(n);
    return EAI_OK;
}

/* ---- accessors ---- */

const char *eai_node_name(const eai_node_t *n)
{
    return n->name;
}
eai_topo_tier_t eai_node_tier(const eai_node_t *n)
{
    return n->tier;
}
int eai_node_n_children(const eai_node_t *n)
{
    return n->n_ch;
}
void eai_node_get_ledger(const eai_node_t *n, eai_node_ledger_t *out)
{
    *out = n->led;
}
bool eai_node_has_sample(const eai_node_t *n, const char *origin, uint64_t seq)
{
    return eai__node_set_has(&n->set, origin, seq);
}

static int cmp_origin(const void *a, const void *b)
{
    return strcmp((*(const node_origin_t *const *)a)->name,
                  (*(const node_origin_t *const *)b)->name);
}

eai_status_t eai_node_write_ledger(const eai_node_t *n, FILE *f)
{
    const node_origin_t **v = eai__alloc(&n->alloc, (n->set.n ? n->set.n : 1) * sizeof *v);
    if (!v) return eai_fail(EAI_E_NOMEM, "node %s: ledger", n->name);
    for (size_t i = 0; i < n->set.n; i++)
        v[i] = &n->set.o[i];
    qsort(v, n->set.n, sizeof *v, cmp_origin);
    const eai_node_ledger_t *l = &n->led;
    fprintf(f, "# node %s samples %" PRIu64 " sum %.9g done %d\n", n->name,
            eai__node_set_count(&n->set), l->sum, eai_node_done(n));
    fprintf(f,
            "# generated %" PRIu64 " sent %" PRIu64 " resent %" PRIu64 " acked %" PRIu64
            " delivered %" PRIu64 " received %" PRIu64 " duplicates %" PRIu64 " refused %" PRIu64
            " acks_sent %" PRIu64 " sample_dups %" PRIu64 " emu_dropped %" PRIu64
            " restarts %" PRIu64 "\n",
            l->generated, l->sent, l->resent, l->acked, l->delivered, l->received, l->duplicates,
            l->refused, l->acks_sent, l->sample_dups, l->emu_dropped, l->restarts);
    for (size_t i = 0; i < n->set.n; i++)
        for (size_t k = 0; k < v[i]->n; k++)
            fprintf(f, "%s %" PRIu64 " %" PRIu64 "\n", v[i]->name, v[i]->r[k].lo, v[i]->r[k].hi);
    eai__free(&n->alloc, v);
    return ferror(f) ? eai_fail(EAI_E_IO, "node %s: writing the ledger failed", n->name) : EAI_OK;
}
