/* Passage counting from detector vehicle-id lists. SUMO's per-step vehicle
 * number counts a slow vehicle on every step it stands on a loop; comparing
 * the id sets of consecutive steps counts each vehicle once. Ids are kept as
 * 64-bit FNV-1a hashes with a tag in two fixed tables per detector (last
 * step, this step): no allocation per step. Linear search: a detector holds
 * tens of vehicles. */
#include <string.h>

#include "core/core_impl.h"
#include "edgeai/traffic.h"

typedef struct ent {
    uint64_t h;
    int tag;
} ent_t;

struct eai_tl_idcount {
    eai_allocator_t alloc;
    int n_det, cap;
    ent_t *prev, *cur; /* n_det * cap each */
    int *n_prev;
    long *total;
    long overflow;
};

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

void eai_tl_idcount_destroy(eai_tl_idcount_t *c)
{
    if (!c) return;
    eai_allocator_t a = c->alloc;
    eai__free(&a, c->prev);
    eai__free(&a, c->cur);
    eai__free(&a, c->n_prev);
    eai__free(&a, c->total);
    eai__free(&a, c);
}

eai_status_t eai_tl_idcount_create(int n_det, int cap, const eai_allocator_t *a,
                                   eai_tl_idcount_t **out)
{
    if (!out || n_det <= 0 || cap < 0 || n_det > (1 << 20) || cap > (1 << 16))
        return eai_fail(EAI_E_INVALID, "traffic: id counter: %d detectors x %d ids out of range",
                        n_det, cap);
    if (cap == 0) cap = 256;
    eai_tl_idcount_t *c = eai__calloc(a, 1, sizeof *c);
    if (!c) return eai_fail(EAI_E_NOMEM, "traffic: out of memory");
    if (a) c->alloc = *a;
    c->n_det = n_det;
    c->cap = cap;
    size_t n = (size_t)n_det * (size_t)cap;
    c->prev = eai__calloc(a, n, sizeof *c->prev);
    c->cur = eai__calloc(a, n, sizeof *c->cur);
    c->n_prev = eai__calloc(a, (size_t)n_det, sizeof *c->n_prev);
    c->total = eai__calloc(a, (size_t)n_det, sizeof *c->total);
    if (!c->prev || !c->cur || !c->n_prev || !c->total) {
        eai_tl_idcount_destroy(c);
        return eai_fail(EAI_E_NOMEM, "traffic: out of memory for %d detectors", n_det);
    }
    *out = c;
    return EAI_OK;
}

static int find(const ent_t *v, int n, uint64_t h)
{
    for (int i = 0; i < n; i++)
        if (v[i].h == h) return i;
    return -1;
}

eai_status_t eai_tl_idcount_update_tagged(eai_tl_idcount_t *c, int det, const char *const *ids,
                                          const int *tags, int n, int n_tags, int *arr, int *dep)
{
    if (!c || det < 0 || det >= c->n_det || n < 0 || (n > 0 && !ids) || n_tags <= 0)
        return eai_fail(EAI_E_INVALID, "traffic: id counter: bad detector %d or list", det);
    ent_t *prev = c->prev + (size_t)det * (size_t)c->cap;
    ent_t *cur = c->cur + (size_t)det * (size_t)c->cap;
    int nc = 0;
    for (int i = 0; i < n; i++) {
        if (!ids[i]) return eai_fail(EAI_E_INVALID, "traffic: id counter: NULL id %d", i);
        int tag = tags ? tags[i] : 0;
        if (tag < 0 || tag >= n_tags)
            return eai_fail(EAI_E_INVALID, "traffic: id counter: tag %d outside 0..%d", tag,
                            n_tags - 1);
        uint64_t h = fnv(ids[i]);
        if (find(cur, nc, h) >= 0) continue; /* listed twice */
        if (nc == c->cap) {
            c->overflow++;
            continue;
        }
        cur[nc++] = (ent_t){h, tag};
        if (find(prev, c->n_prev[det], h) < 0) {
            if (arr) arr[tag]++;
            c->total[det]++;
        }
    }
    for (int i = 0; i < c->n_prev[det]; i++)
        if (find(cur, nc, prev[i].h) < 0 && dep) dep[prev[i].tag]++;
    /* this step becomes the last step */
    memcpy(prev, cur, (size_t)nc * sizeof *cur);
    c->n_prev[det] = nc;
    return EAI_OK;
}

eai_status_t eai_tl_idcount_update(eai_tl_idcount_t *c, int det, const char *const *ids, int n,
                                   int *arrivals, int *departures)
{
    int a = 0, d = 0;
    EAI_TRY(eai_tl_idcount_update_tagged(c, det, ids, NULL, n, 1, &a, &d));
    if (arrivals) *arrivals = a;
    if (departures) *departures = d;
    return EAI_OK;
}

long eai_tl_idcount_total(const eai_tl_idcount_t *c, int det)
{
    return c && det >= 0 && det < c->n_det ? c->total[det] : 0;
}

long eai_tl_idcount_overflow(const eai_tl_idcount_t *c)
{
    return c ? c->overflow : 0;
}
