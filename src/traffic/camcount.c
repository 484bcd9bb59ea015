/* Camera counting geometry (edgeai/trafcam.h): tracked ground points against
 * the approach zones of a light's incoming lanes. Passages come from id
 * changes, as eai_tl_idcount does for detectors, with two camera-specific
 * rules: a track seen past the stop line departed even if it is still
 * visible, and a track that broke up (the tracker lost it and started a new
 * id nearby, or found it again) is neither a departure nor a new arrival. Allocation at create
 * only. */
#include <math.h>
#include <string.h>

#include "core/core_impl.h"
#include "edgeai/trafcam.h"

#define N_RECENT 256
#define RECENT_S 2.0f /* a lost track may come back as a new id this long */
#define RECENT_M 6.0f /* ... this close to where it was predicted */
#define GRACE_S  1.0f /* an id absent this long is gone (vanishing rule) */
#define FORGET_S 10.0f
#define PAST_M   30.0f /* "past the stop line" means within the junction, not anywhere */

typedef struct slot {
    int id;      /* 0: free */
    int lane;    /* last zone lane, -1 never in a zone */
    float along; /* upstream of that lane's stop line, when last in it */
    float x, y, vx, vy, speed;
    long last; /* frame last seen */
    bool arrived, departed, gone, have_v;
} slot_t;

/* A track lost in a zone. If no new id takes it up within RECENT_S, it is
 * gone for good: one lost within near_m of the stop line departed then. */
typedef struct recent {
    float x, y, vx, vy;
    long frame;
    int approach; /* -1: unused */
    int lane, id;
    bool near;
} recent_t;

struct eai_trafcam_counter {
    eai_allocator_t a;
    eai_trafcam_lane_t *lanes;
    int n_lanes;
    float zone, near, halt, fps;
    int cap;
    long frame;
    slot_t *s;
    recent_t recent[N_RECENT];
    int recent_next;
};

eai_status_t eai_trafcam_counter_create(const eai_trafcam_lane_t *lanes, int n_lanes,
                                        const eai_trafcam_counter_opts_t *o,
                                        eai_trafcam_counter_t **out)
{
    if (!out || !lanes || n_lanes < 1)
        return eai_fail(EAI_E_INVALID, "trafcam counter: needs at least one lane");
    eai_trafcam_counter_opts_t d = {0};
    if (!o) o = &d;
    float zone = o->zone_m > 0 ? o->zone_m : 40, near = o->near_m > 0 ? o->near_m : 8;
    float halt = o->halt_mps > 0 ? o->halt_mps : 1.5f, fps = o->fps > 0 ? o->fps : 5;
    if (o->zone_m < 0 || o->near_m < 0 || o->halt_mps < 0 || o->fps < 0 || o->max_ids < 0 ||
        !isfinite(zone) || !isfinite(near) || !isfinite(halt) || !isfinite(fps) || fps > 1000)
        return eai_fail(EAI_E_INVALID, "trafcam counter: zone, near, halt, fps and max_ids must "
                                       "be finite and >= 0");
    for (int l = 0; l < n_lanes; l++) {
        const eai_trafcam_lane_t *L = &lanes[l];
        float norm = sqrtf(L->ux * L->ux + L->uy * L->uy);
        if (!(L->width_m > 0) || !isfinite(L->px) || !isfinite(L->py) || fabsf(norm - 1) > 1e-3f)
            return eai_fail(EAI_E_INVALID,
                            "trafcam counter: lane %d needs a width > 0, a finite stop point and "
                            "a unit direction (|u| = %g)",
                            l, (double)norm);
    }
    eai_allocator_t a = o->alloc;
    eai_trafcam_counter_t *c = eai__calloc(&a, 1, sizeof *c);
    if (!c) return eai_fail(EAI_E_NOMEM, "trafcam counter: out of memory");
    c->a = a;
    c->cap = o->max_ids > 0 ? o->max_ids : 512;
    c->lanes = eai__calloc(&a, (size_t)n_lanes, sizeof *c->lanes);
    c->s = eai__calloc(&a, (size_t)c->cap, sizeof *c->s);
    if (!c->lanes || !c->s) {
        eai_trafcam_counter_destroy(c);
        return eai_fail(EAI_E_NOMEM, "trafcam counter: out of memory");
    }
    memcpy(c->lanes, lanes, (size_t)n_lanes * sizeof *lanes);
    c->n_lanes = n_lanes;
    c->zone = zone, c->near = near, c->halt = halt, c->fps = fps;
    for (int i = 0; i < N_RECENT; i++)
        c->recent[i].approach = -1;
    *out = c;
    return EAI_OK;
}

void eai_trafcam_counter_destroy(eai_trafcam_counter_t *c)
{
    if (!c) return;
    eai_allocator_t a = c->a;
    eai__free(&a, c->lanes);
    eai__free(&a, c->s);
    eai__free(&a, c);
}

/* Distance upstream of lane l's stop line and lateral offset of (x, y). */
static void lane_coords(const eai_trafcam_lane_t *L, float x, float y, float *along, float *lat)
{
    float dx = L->px - x, dy = L->py - y;
    *along = dx * L->ux + dy * L->uy;
    *lat = dx * L->uy - dy * L->ux;
}

int eai_trafcam_counter_lane(const eai_trafcam_counter_t *c, float x, float y, float *along)
{
    if (!c) return -1;
    int best = -1;
    float best_lat = 0, best_al = 0;
    for (int l = 0; l < c->n_lanes; l++) {
        float al, lat;
        lane_coords(&c->lanes[l], x, y, &al, &lat);
        lat = fabsf(lat);
        /* lanes do not overlap, but a point on a shared edge goes to the
         * nearer centre line */
        if (al >= 0 && al <= c->zone && lat <= 0.5f * c->lanes[l].width_m &&
            (best < 0 || lat < best_lat))
            best = l, best_lat = lat, best_al = al;
    }
    if (along) *along = best >= 0 ? best_al : 0;
    return best;
}

static slot_t *find(eai_trafcam_counter_t *c, int id, bool create)
{
    slot_t *free_s = NULL;
    for (int i = 0; i < c->cap; i++) {
        if (c->s[i].id == id) return &c->s[i];
        if (!c->s[i].id && !free_s) free_s = &c->s[i];
    }
    if (!create || !free_s) return NULL;
    memset(free_s, 0, sizeof *free_s);
    free_s->id = id;
    free_s->lane = -1;
    free_s->last = c->frame;
    return free_s;
}

/* A new id in approach `ap` at (x, y): the continuation of a track lost
 * there a moment ago? Consumes the match. */
static int continues_lost(eai_trafcam_counter_t *c, int ap, float x, float y)
{
    int best = -1;
    float best_d = RECENT_M;
    for (int i = 0; i < N_RECENT; i++) {
        const recent_t *r = &c->recent[i];
        float dt = (float)(c->frame - r->frame) / c->fps;
        if (r->approach != ap || dt > RECENT_S) continue;
        float px = r->x + r->vx * dt, py = r->y + r->vy * dt;
        float d = hypotf(px - x, py - y);
        /* a vehicle may also have stopped since: accept its last position */
        float d0 = hypotf(r->x - x, r->y - y);
        if (d0 < d) d = d0;
        if (d < best_d) best = i, best_d = d;
    }
    if (best < 0) return -1;
    c->recent[best].approach = -1;
    return best;
}

/* Lost tracks nobody took up: those lost at the stop line departed. */
static void settle(eai_trafcam_counter_t *c, recent_t *r, int *dep, bool force)
{
    if (r->approach < 0) return;
    if (!force && (float)(c->frame - r->frame) / c->fps <= RECENT_S) return;
    if (r->near) {
        dep[r->lane]++;
        slot_t *s = find(c, r->id, false);
        if (s) s->departed = true; /* should the id come back: counted already */
    }
    r->approach = -1;
}

/* Ids absent for GRACE_S are gone: the vanishing rule, then the recent list. */
static void expire(eai_trafcam_counter_t *c, int *dep)
{
    long grace = (long)ceilf(GRACE_S * c->fps), forget = (long)ceilf(FORGET_S * c->fps);
    if (grace < 1) grace = 1;
    for (int i = 0; i < c->cap; i++) {
        slot_t *s = &c->s[i];
        if (!s->id) continue;
        long absent = c->frame - s->last;
        if (absent >= forget) {
            s->id = 0;
            continue;
        }
        if (absent < grace || s->gone) continue;
        s->gone = true;
        if (s->lane < 0 || s->departed) continue;
        recent_t *r = &c->recent[c->recent_next];
        c->recent_next = (c->recent_next + 1) % N_RECENT;
        settle(c, r, dep, true); /* the ring is full: decide the oldest now */
        /* positions predicted from the frame it was last seen */
        *r = (recent_t){s->x,    s->y,    s->vx,
                        s->vy,   s->last, c->lanes[s->lane].approach,
                        s->lane, s->id,   s->along <= c->near};
    }
    for (int i = 0; i < N_RECENT; i++)
        settle(c, &c->recent[i], dep, false);
}

eai_status_t eai_trafcam_counter_frame(eai_trafcam_counter_t *c, const int *ids, const float *x,
                                       const float *y, int n, int *arr, int *dep, int *queue,
                                       int *lane_of)
{
    if (!c || n < 0 || (n > 0 && (!ids || !x || !y)) || !arr || !dep)
        return eai_fail(EAI_E_INVALID, "trafcam counter: NULL arrays or n < 0");
    c->frame++;
    if (queue) memset(queue, 0, (size_t)c->n_lanes * sizeof *queue);
    for (int i = 0; i < n; i++) {
        if (lane_of) lane_of[i] = -1;
        if (ids[i] <= 0 || !isfinite(x[i]) || !isfinite(y[i])) continue;
        slot_t *s = find(c, ids[i], true);
        if (!s) continue; /* table full: ignored (documented) */
        float al;
        int l = eai_trafcam_counter_lane(c, x[i], y[i], &al);
        if (s->last < c->frame && s->arrived) {
            /* speed in the ground plane, smoothed: box jitter is metres far away */
            float dt = (float)(c->frame - s->last) / c->fps;
            float vx = (x[i] - s->x) / dt, vy = (y[i] - s->y) / dt;
            float k = s->have_v ? 0.3f : 1.0f; /* the first measurement starts the average */
            s->vx += k * (vx - s->vx);
            s->vy += k * (vy - s->vy);
            s->have_v = true;
            s->speed = hypotf(s->vx, s->vy);
        }
        s->x = x[i], s->y = y[i], s->last = c->frame;
        if (s->gone) { /* found again (late re-identification): undo its loss */
            for (int r = 0; r < N_RECENT; r++)
                if (c->recent[r].approach >= 0 && c->recent[r].id == s->id)
                    c->recent[r].approach = -1;
            s->gone = false;
        }
        if (l >= 0) {
            if (!s->arrived) {
                s->arrived = true;
                s->speed = c->halt * 2; /* unknown until it moved: not queued yet */
                if (continues_lost(c, c->lanes[l].approach, x[i], y[i]) < 0) arr[l]++;
            }
            s->lane = l, s->along = al;
            if (lane_of) lane_of[i] = l;
            if (queue && s->speed < c->halt && !s->departed) queue[l]++;
            continue;
        }
        if (!s->arrived) {
            s->arrived = true; /* first seen outside every zone: never an arrival */
            s->speed = c->halt * 2;
        }
        if (s->lane >= 0 && !s->departed) {
            float al2, lat;
            lane_coords(&c->lanes[s->lane], x[i], y[i], &al2, &lat);
            if (al2 < 0 && al2 > -PAST_M) {
                dep[s->lane]++;
                s->departed = true;
            }
        }
    }
    expire(c, dep);
    return EAI_OK;
}
