/* Byte buffers and bounds-checked readers for the node wire format, the
 * sample-id range sets, and the node's state file (save/load). The state
 * file is written to a temporary name and renamed, so a kill -9 at any point
 * leaves either the old or the new state, never half of one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/node_impl.h"

/* ---- buffers ---- */

void eai__node_buf_put(node_buf_t *b, const void *p, size_t n)
{
    if (b->oom) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n)
            cap *= 2;
        uint8_t *q = eai__realloc(b->a, b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, p, n);
    b->n += n;
}

/* Explicit little-endian so state files and messages move between hosts. */
static void put_le(node_buf_t *b, uint64_t v, int bytes)
{
    uint8_t t[8];
    for (int i = 0; i < bytes; i++)
        t[i] = (uint8_t)(v >> (8 * i));
    eai__node_buf_put(b, t, (size_t)bytes);
}

void eai__node_buf_u16(node_buf_t *b, uint16_t v)
{
    put_le(b, v, 2);
}
void eai__node_buf_u32(node_buf_t *b, uint32_t v)
{
    put_le(b, v, 4);
}
void eai__node_buf_u64(node_buf_t *b, uint64_t v)
{
    put_le(b, v, 8);
}
void eai__node_buf_f64(node_buf_t *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    put_le(b, u, 8);
}
void eai__node_buf_str(node_buf_t *b, const char *s)
{
    size_t n = strlen(s);
    if (n > 0xffff) n = 0xffff;
    eai__node_buf_u16(b, (uint16_t)n);
    eai__node_buf_put(b, s, n);
}
void eai__node_buf_free(node_buf_t *b)
{
    eai__free(b->a, b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

const uint8_t *eai__node_rd_bytes(node_rd_t *r, size_t n)
{
    if (r->bad || n > r->n - r->off) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *p = r->p + r->off;
    r->off += n;
    return p;
}

static uint64_t get_le(node_rd_t *r, int bytes)
{
    const uint8_t *p = eai__node_rd_bytes(r, (size_t)bytes);
    uint64_t v = 0;
    if (!p) return 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

uint16_t eai__node_rd_u16(node_rd_t *r)
{
    return (uint16_t)get_le(r, 2);
}
uint32_t eai__node_rd_u32(node_rd_t *r)
{
    return (uint32_t)get_le(r, 4);
}
uint64_t eai__node_rd_u64(node_rd_t *r)
{
    return get_le(r, 8);
}
double eai__node_rd_f64(node_rd_t *r)
{
    uint64_t u = get_le(r, 8);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

void eai__node_rd_str(node_rd_t *r, char *buf, size_t cap)
{
    buf[0] = '\0';
    size_t n = eai__node_rd_u16(r);
    const uint8_t *p = eai__node_rd_bytes(r, n);
    if (!p || n == 0 || n >= cap) {
        r->bad = true;
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (p[i] == 0 || p[i] == '/' || p[i] == '+' || p[i] == '#' || p[i] <= ' ') {
            r->bad = true;
            return;
        }
    memcpy(buf, p, n);
    buf[n] = '\0';
}

/* ---- hashing ---- */

uint64_t eai__node_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

uint64_t eai__node_fnv(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

double eai_node_sample_value(uint64_t seed, const char *origin, uint64_t seq)
{
    uint64_t h = eai__node_mix(eai__node_mix(seed ^ eai__node_fnv(origin)) ^ seq);
    return (double)(h >> 11) * (1.0 / 9007199254740992.0); /* 53 bits -> [0, 1) */
}

/* ---- sample-id sets ---- */

eai_status_t eai__node_set_init(node_set_t *s, const eai_allocator_t *a)
{
    memset(s, 0, sizeof *s);
    s->a = a;
    return eai__strmap_init(&s->map, a, 16);
}

void eai__node_set_free(node_set_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        eai__free(s->a, s->o[i].name);
        eai__free(s->a, s->o[i].r);
    }
    eai__free(s->a, s->o);
    eai__strmap_free(&s->map);
    memset(s, 0, sizeof *s);
}

int eai__node_set_origin(node_set_t *s, const char *name)
{
    int i = eai__strmap_get(&s->map, name);
    if (i >= 0) return i;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        node_origin_t *o = eai__realloc(s->a, s->o, cap * sizeof *o);
        if (!o) return eai_fail(EAI_E_NOMEM, "node: origin table of %zu", cap), -1;
        s->o = o;
        s->cap = cap;
    }
    node_origin_t *o = &s->o[s->n];
    memset(o, 0, sizeof *o);
    o->name = eai__strdup(s->a, name);
    /* the map borrows the key: each name is its own allocation, so growing
     * the origin array never moves it */
    if (!o->name || eai__strmap_put(&s->map, o->name, (int)s->n) != EAI_OK) {
        eai__free(s->a, o->name);
        return eai_fail(EAI_E_NOMEM, "node: origin '%s'", name), -1;
    }
    return (int)s->n++;
}

eai_status_t eai__node_set_add(node_set_t *s, int oi, uint64_t lo, uint64_t hi, uint64_t *dups)
{
    node_origin_t *o = &s->o[oi];
    uint64_t d = 0;
    /* first range that touches or follows [lo, hi]: r.hi + 1 >= lo */
    size_t a = 0, b = o->n;
    while (a < b) {
        size_t m = (a + b) / 2;
        if (o->r[m].hi + 1 < lo)
            a = m + 1;
        else
            b = m;
    }
    size_t i = a, j = a;
    uint64_t nlo = lo, nhi = hi;
    while (j < o->n && o->r[j].lo <= hi + 1) {
        uint64_t ol = o->r[j].lo > lo ? o->r[j].lo : lo;
        uint64_t oh = o->r[j].hi < hi ? o->r[j].hi : hi;
        if (ol <= oh) d += oh - ol + 1;
        if (o->r[j].lo < nlo) nlo = o->r[j].lo;
        if (o->r[j].hi > nhi) nhi = o->r[j].hi;
        j++;
    }
    if (j == i) { /* insert a new range at i */
        if (o->n == o->cap) {
            size_t cap = o->cap ? o->cap * 2 : 4;
            node_range_t *r = eai__realloc(s->a, o->r, cap * sizeof *r);
            if (!r) return eai_fail(EAI_E_NOMEM, "node: ranges of '%s'", o->name);
            o->r = r;
            o->cap = cap;
        }
        memmove(o->r + i + 1, o->r + i, (o->n - i) * sizeof *o->r);
        o->n++;
    } else if (j > i + 1) { /* ranges i..j-1 merge into one */
        memmove(o->r + i + 1, o->r + j, (o->n - j) * sizeof *o->r);
        o->n -= j - i - 1;
    }
    o->r[i].lo = nlo;
    o->r[i].hi = nhi;
    if (dups) *dups = d;
    return EAI_OK;
}

bool eai__node_set_has(const node_set_t *s, const char *name, uint64_t seq)
{
    int i = eai__strmap_get(&s->map, name);
    if (i < 0) return false;
    const node_origin_t *o = &s->o[i];
    size_t a = 0, b = o->n;
    while (a < b) {
        size_t m = (a + b) / 2;
        if (o->r[m].hi < seq)
            a = m + 1;
        else
            b = m;
    }
    return a < o->n && o->r[a].lo <= seq;
}

uint64_t eai__node_set_count(const node_set_t *s)
{
    uint64_t c = 0;
    for (size_t i = 0; i < s->n; i++)
        for (size_t k = 0; k < s->o[i].n; k++)
            c += s->o[i].r[k].hi - s->o[i].r[k].lo + 1;
    return c;
}

/* ---- state file ---- */

static void put_ledger(node_buf_t *b, const eai_node_ledger_t *l)
{
    const uint64_t u[] = {l->generated,  l->sent,        l->resent,    l->acked,   l->received,
                          l->duplicates, l->refused,     l->acks_sent, l->samples, l->sample_dups,
                          l->delivered,  l->emu_dropped, l->restarts};
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++)
        eai__node_buf_u64(b, u[i]);
    eai__node_buf_f64(b, l->sum);
    eai__node_buf_f64(b, l->min);
    eai__node_buf_f64(b, l->max);
}

static void get_ledger(node_rd_t *r, eai_node_ledger_t *l)
{
    uint64_t *u[] = {&l->generated,  &l->sent,        &l->resent,    &l->acked,   &l->received,
                     &l->duplicates, &l->refused,     &l->acks_sent, &l->samples, &l->sample_dups,
                     &l->delivered,  &l->emu_dropped, &l->restarts};
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++)
        *u[i] = eai__node_rd_u64(r);
    l->sum = eai__node_rd_f64(r);
    l->min = eai__node_rd_f64(r);
    l->max = eai__node_rd_f64(r);
}

void eai__node_state_encode(const eai_node_t *n, node_buf_t *b)
{
    b->n = 0;
    eai__node_buf_u32(b, NODE_MAGIC_STATE);
    eai__node_buf_u32(b, NODE_STATE_VERSION);
    eai__node_buf_str(b, n->name);
    eai__node_buf_u64(b, n->next_seq);
    eai__node_buf_u64(b, n->final);
    eai__node_buf_u64(b, n->gen_next);
    put_ledger(b, &n->led);
    eai__node_buf_u32(b, (uint32_t)n->n_ch);
    for (int i = 0; i < n->n_ch; i++) {
        const node_child_t *c = &n->ch[i];
        eai__node_buf_u64(b, c->wm);
        eai__node_buf_u64(b, c->final);
        for (int k = 0; k < NODE_WIN / 64; k++)
            eai__node_buf_u64(b, c->bits[k]);
    }
    eai__node_buf_u32(b, (uint32_t)n->n_out);
    for (int i = 0; i < n->n_out; i++) {
        eai__node_buf_u64(b, n->out[i].seq);
        eai__node_buf_u64(b, n->out[i].n_samples);
        eai__node_buf_u32(b, (uint32_t)n->out[i].n);
        eai__node_buf_put(b, n->out[i].bytes, n->out[i].n);
    }
    eai__node_buf_u64(b, n->pend_count);
    eai__node_buf_f64(b, n->pend_sum);
    eai__node_buf_f64(b, n->pend_min);
    eai__node_buf_f64(b, n->pend_max);
    eai__node_buf_u32(b, (uint32_t)n->n_pend);
    for (size_t i = 0; i < n->n_pend; i++) {
        eai__node_buf_str(b, n->set.o[n->pend[i].origin].name);
        eai__node_buf_u64(b, n->pend[i].lo);
        eai__node_buf_u64(b, n->pend[i].hi);
    }
    eai__node_buf_u32(b, (uint32_t)n->set.n);
    for (size_t i = 0; i < n->set.n; i++) {
        const node_origin_t *o = &n->set.o[i];
        eai__node_buf_str(b, o->name);
        eai__node_buf_u32(b, (uint32_t)o->n);
        for (size_t k = 0; k < o->n; k++) {
            eai__node_buf_u64(b, o->r[k].lo);
            eai__node_buf_u64(b, o->r[k].hi);
        }
    }
}

#define BAD(what) return eai_fail(EAI_E_FORMAT, "%s: corrupt node state (%s)", path, what)

eai_status_t eai__node_state_decode(eai_node_t *n, const uint8_t *p, size_t len, const char *path)
{
    node_rd_t r = {.p = p, .n = len};
    char name[NODE_NAME_MAX];
    if (eai__node_rd_u32(&r) != NODE_MAGIC_STATE) BAD("magic");
    if (eai__node_rd_u32(&r) != NODE_STATE_VERSION) BAD("version");
    eai__node_rd_str(&r, name, sizeof name);
    if (r.bad || strcmp(name, n->name) != 0) BAD("node name");
    n->next_seq = eai__node_rd_u64(&r);
    n->final = eai__node_rd_u64(&r);
    n->gen_next = eai__node_rd_u64(&r);
    get_ledger(&r, &n->led);
    if ((int)eai__node_rd_u32(&r) != n->n_ch) BAD("number of children");
    for (int i = 0; i < n->n_ch && !r.bad; i++) {
        node_child_t *c = &n->ch[i];
        c->wm = eai__node_rd_u64(&r);
        c->final = eai__node_rd_u64(&r);
        for (int k = 0; k < NODE_WIN / 64; k++)
            c->bits[k] = eai__node_rd_u64(&r);
    }
    uint32_t n_out = eai__node_rd_u32(&r);
    if (r.bad || n_out > (uint32_t)n->o.outbox_max) BAD("outbox size");
    for (uint32_t i = 0; i < n_out; i++) {
        node_out_t *o = &n->out[n->n_out];
        o->seq = eai__node_rd_u64(&r);
        o->n_samples = eai__node_rd_u64(&r);
        uint32_t nb = eai__node_rd_u32(&r);
        const uint8_t *q = eai__node_rd_bytes(&r, nb);
        if (!q) BAD("outbox entry");
        o->bytes = eai__alloc(&n->alloc, nb ? nb : 1);
        if (!o->bytes) return eai_fail(EAI_E_NOMEM, "%s: outbox entry of %u bytes", path, nb);
        memcpy(o->bytes, q, nb);
        o->n = nb;
        o->last_sent = -1;
        o->sent_once = true; /* may have been sent before the restart: counts as a resend */
        n->n_out++;
    }
    n->pend_count = eai__node_rd_u64(&r);
    n->pend_sum = eai__node_rd_f64(&r);
    n->pend_min = eai__node_rd_f64(&r);
    n->pend_max = eai__node_rd_f64(&r);
    uint32_t n_pend = eai__node_rd_u32(&r);
    if (r.bad || n_pend > (uint32_t)(len / 16)) BAD("pending ranges");
    for (uint32_t i = 0; i < n_pend; i++) {
        char on[NODE_NAME_MAX];
        eai__node_rd_str(&r, on, sizeof on);
        uint64_t lo = eai__node_rd_u64(&r), hi = eai__node_rd_u64(&r);
        if (r.bad || lo > hi) BAD("pending range");
        int oi = eai__node_set_origin(&n->set, on);
        if (oi < 0) return EAI_E_NOMEM;
        if (n->n_pend == n->cap_pend) {
            size_t cap = n->cap_pend ? n->cap_pend * 2 : 16;
            node_prange_t *q = eai__realloc(&n->alloc, n->pend, cap * sizeof *q);
            if (!q) return eai_fail(EAI_E_NOMEM, "%s: pending ranges", path);
            n->pend = q;
            n->cap_pend = cap;
        }
        n->pend[n->n_pend++] = (node_prange_t){oi, lo, hi};
    }
    uint32_t n_orig = eai__node_rd_u32(&r);
    if (r.bad || n_orig > (uint32_t)(len / 4)) BAD("origins");
    for (uint32_t i = 0; i < n_orig; i++) {
        char on[NODE_NAME_MAX];
        eai__node_rd_str(&r, on, sizeof on);
        uint32_t nr = eai__node_rd_u32(&r);
        if (r.bad || nr > (uint32_t)(len / 16)) BAD("origin ranges");
        int oi = eai__node_set_origin(&n->set, on);
        if (oi < 0) return EAI_E_NOMEM;
        for (uint32_t k = 0; k < nr; k++) {
            uint64_t lo = eai__node_rd_u64(&r), hi = eai__node_rd_u64(&r);
            if (r.bad || lo > hi) BAD("range");
            EAI_TRY(eai__node_set_add(&n->set, oi, lo, hi, NULL));
        }
    }
    if (r.bad) BAD("truncated");
    if (r.off != r.n) BAD("trailing bytes");
    return EAI_OK;
}

static void state_path(const eai_node_t *n, char *buf, size_t cap, const char *suffix)
{
    snprintf(buf, cap, "%s/%s.state%s", n->state_dir, n->name, suffix);
}

eai_status_t eai__node_state_save(eai_node_t *n)
{
    if (!n->state_dir) return EAI_OK;
    eai__node_state_encode(n, &n->scratch);
    if (n->scratch.oom) {
        n->scratch.oom = false;
        return eai_fail(EAI_E_NOMEM, "node %s: state buffer", n->name);
    }
    char path[512], tmp[520];
    state_path(n, path, sizeof path, "");
    state_path(n, tmp, sizeof tmp, ".tmp");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return eai_fail(EAI_E_IO, "%s: %s", tmp, strerror(errno));
    bool ok = eai__write_all(fd, n->scratch.p, n->scratch.n);
    int err = errno;
    if (ok && n->o.fsync && fsync(fd) != 0) {
        ok = false;
        err = errno;
    }
    close(fd);
    if (!ok || rename(tmp, path) != 0) {
        if (ok) err = errno;
        unlink(tmp);
        return eai_fail(EAI_E_IO, "%s: %s", path, strerror(err));
    }
    if (n->o.fsync) eai__sync_parent_dir(path);
    return EAI_OK;
}

eai_status_t eai__node_state_load(eai_node_t *n, bool *found)
{
    *found = false;
    if (!n->state_dir) return EAI_OK;
    char path[512];
    state_path(n, path, sizeof path, "");
    if (access(path, F_OK) != 0) return EAI_OK;
    void *data;
    size_t len;
    EAI_TRY(eai__read_file(&n->alloc, path, &data, &len));
    eai_status_t st = eai__node_state_decode(n, data, len, path);
    eai__free_aligned(&n->alloc, data);
    *found = st == EAI_OK;
    return st;
}
