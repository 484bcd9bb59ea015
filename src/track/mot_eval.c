/* MOT metrics with TrackEval's definitions (JonathonLuiten/TrackEval,
 * metrics/clear.py, identity.py, hota.py, datasets/mot_challenge_2d_box.py):
 * same IoU formula in doubles, same thresholds and epsilons, same per-frame
 * matching objectives. Each "Hungarian over the full matrix, then drop weak
 * pairs" of TrackEval is solved here as the equivalent gated problem
 * (eai__assign_d), and the id-pair tables are sparse (a hash of the pairs
 * that ever overlap) instead of dense num_gt_ids x num_tracker_ids arrays. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edgeai/mot.h"
#include "track/track_impl.h"

#define EPS    DBL_EPSILON
#define NALPHA 19

typedef struct {
    int frame, id; /* id: contiguous index after relabelling */
    double x1, y1, x2, y2, w, h;
    int cls, zero; /* raw class; zero_marked = (int)conf */
} ebox_t;

typedef struct {
    int64_t key; /* g * n_res_ids + r, -1 empty */
    double pm_hota;
    long pm_id;
    long mc[NALPHA];
} pair_t;

typedef struct {
    const eai_allocator_t *a;
    pair_t *p;
    size_t cap, n;
} pmap_t;

static size_t hash64(int64_t k)
{
    uint64_t x = (uint64_t)k * 0x9E3779B97F4A7C15ull;
    return (size_t)(x ^ (x >> 29));
}

static eai_status_t pmap_grow(pmap_t *m)
{
    size_t nc = m->cap ? m->cap * 2 : 1024;
    pair_t *np = eai__calloc(m->a, nc, sizeof *np);
    if (!np) return eai_fail(EAI_E_NOMEM, "mot eval: out of memory for %zu id pairs", nc);
    for (size_t i = 0; i < nc; i++)
        np[i].key = -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->p[i].key < 0) continue;
        size_t h = hash64(m->p[i].key) & (nc - 1);
        while (np[h].key >= 0)
            h = (h + 1) & (nc - 1);
        np[h] = m->p[i];
    }
    eai__free(m->a, m->p);
    m->p = np, m->cap = nc;
    return EAI_OK;
}

/* The pair's slot, created on demand (create = false: NULL when absent). */
static eai_status_t pmap_get(pmap_t *m, int64_t key, bool create, pair_t **out)
{
    *out = NULL;
    if (create && (m->n + 1) * 2 > m->cap) EAI_TRY(pmap_grow(m));
    if (!m->cap) return EAI_OK;
    size_t h = hash64(key) & (m->cap - 1);
    while (m->p[h].key >= 0) {
        if (m->p[h].key == key) {
            *out = &m->p[h];
            return EAI_OK;
        }
        h = (h + 1) & (m->cap - 1);
    }
    if (!create) return EAI_OK;
    memset(&m->p[h], 0, sizeof m->p[h]);
    m->p[h].key = key;
    m->n++;
    *out = &m->p[h];
    return EAI_OK;
}

/* _calculate_box_ious(box_format='xywh') for one pair, term by term. */
static double iou_tv(const ebox_t *a, const ebox_t *b)
{
    double ix = fmin(a->x2, b->x2) - fmax(a->x1, b->x1);
    double iy = fmin(a->y2, b->y2) - fmax(a->y1, b->y1);
    double inter = fmax(ix, 0) * fmax(iy, 0);
    double a1 = (a->x2 - a->x1) * (a->y2 - a->y1), a2 = (b->x2 - b->x1) * (b->y2 - b->y1);
    double uni = a1 + a2 - inter;
    if (a1 <= EPS || a2 <= EPS || uni <= EPS) return 0;
    return inter / uni;
}

static ebox_t to_ebox(const eai_mot_row_t *r)
{
    ebox_t e;
    e.frame = r->frame;
    e.id = r->id;
    e.x1 = r->x, e.y1 = r->y;
    e.x2 = r->x + r->w, e.y2 = r->y + r->h; /* TrackEval: x2 = x + w */
    e.w = r->w, e.h = r->h;
    e.cls = r->cls;
    e.zero = fabs(r->conf) >= 1; /* astype(int) != 0, without overflowing an int */
    return e;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* EAI_E_INVALID when a frame holds an id twice (_check_unique_ids). */
static eai_status_t check_unique(const eai_mot_t *m, const char *what, int *scratch)
{
    for (int i = 0; i < m->n_rows;) {
        int f = m->rows[i].frame, e = i;
        while (e < m->n_rows && m->rows[e].frame == f)
            scratch[e - i] = m->rows[e].id, e++;
        qsort(scratch, (size_t)(e - i), sizeof(int), cmp_int);
        for (int k = 1; k < e - i; k++)
            if (scratch[k] == scratch[k - 1])
                return eai_fail(EAI_E_INVALID, "mot eval: %s frame %d has id %d more than once",
                                what, f, scratch[k]);
        i = e;
    }
    return EAI_OK;
}

/* Replaces ids by their rank among the distinct ids; returns the count. */
static int relabel(ebox_t *b, int n, int *scratch)
{
    for (int i = 0; i < n; i++)
        scratch[i] = b[i].id;
    qsort(scratch, (size_t)n, sizeof(int), cmp_int);
    int u = 0;
    for (int i = 0; i < n; i++)
        if (!u || scratch[u - 1] != scratch[i]) scratch[u++] = scratch[i];
    for (int i = 0; i < n; i++) {
        int *p = bsearch(&b[i].id, scratch, (size_t)u, sizeof(int), cmp_int);
        b[i].id = (int)(p - scratch);
    }
    return u;
}

typedef struct {
    const eai_allocator_t *a;
    ebox_t *g, *r;
    int ng, nr, n_gid, n_rid;
    double *sim, *cost;
    int *rm, *cm;
    void *work;
    int max_g, max_r; /* largest per-frame counts */
    long *g_cnt, *r_cnt, *g_matched, *frag;
    int *prev_id, *prev_ts;
    pmap_t pm;
} ev_t;

static void frame_sim(ev_t *e, const ebox_t *g, int ng, const ebox_t *r, int nr)
{
    for (int i = 0; i < ng; i++)
        for (int j = 0; j < nr; j++)
            e->sim[(size_t)i * (size_t)nr + (size_t)j] = iou_tv(&g[i], &r[j]);
}

/* MOT17 step 2: drop result boxes matched (IoU >= 0.5) to distractor gt. */
static int mot17_filter(ev_t *e, const ebox_t *g, int ng, ebox_t *r, int nr)
{
    if (!ng || !nr) return nr;
    frame_sim(e, g, ng, r, nr);
    for (size_t k = 0; k < (size_t)ng * (size_t)nr; k++) {
        double s = e->sim[k];
        e->cost[k] = s < 0.5 - EPS ? 0 : -s;
    }
    eai__assign_d(e->cost, ng, nr, -EPS, e->rm, e->cm, e->work);
    int w = 0;
    for (int j = 0; j < nr; j++) {
        int i = e->cm[j];
        bool distractor =
            i >= 0 && (g[i].cls == 2 || g[i].cls == 7 || g[i].cls == 8 || g[i].cls == 12);
        if (!distractor) r[w++] = r[j];
    }
    return w;
}

static eai_status_t preprocess(ev_t *e, const eai_mot_t *gt, const eai_mot_t *res,
                               const eai_mot_eval_opts_t *o)
{
    /* raw boxes, then per frame: filter results (MOT17), filter gt */
    ebox_t *graw = eai__calloc(e->a, (size_t)gt->n_rows + 1, sizeof *graw);
    e->g = eai__calloc(e->a, (size_t)gt->n_rows + 1, sizeof *e->g);
    e->r = eai__calloc(e->a, (size_t)res->n_rows + 1, sizeof *e->r);
    if (!graw || !e->g || !e->r) {
        eai__free(e->a, graw);
        return eai_fail(EAI_E_NOMEM, "mot eval: out of memory");
    }
    for (int i = 0; i < gt->n_rows; i++)
        graw[i] = to_ebox(&gt->rows[i]);
    for (int i = 0; i < res->n_rows; i++)
        e->r[i] = to_ebox(&res->rows[i]);
    int gi = 0, ri = 0, rw = 0;
    e->ng = 0;
    while (gi < gt->n_rows || ri < res->n_rows) {
        int f = INT32_MAX;
        if (gi < gt->n_rows) f = graw[gi].frame;
        if (ri < res->n_rows && e->r[ri].frame < f) f = e->r[ri].frame;
        int g0 = gi, r0 = ri;
        while (gi < gt->n_rows && graw[gi].frame == f)
            gi++;
        while (ri < res->n_rows && e->r[ri].frame == f)
            ri++;
        int nr = ri - r0;
        memmove(&e->r[rw], &e->r[r0], sizeof(ebox_t) * (size_t)nr);
        if (o->preproc == EAI_MOT_MOT17) nr = mot17_filter(e, &graw[g0], gi - g0, &e->r[rw], nr);
        rw += nr;
        for (int k = g0; k < gi; k++) {
            bool keep = graw[k].zero != 0;
            if (o->preproc == EAI_MOT_MOT17) keep = keep && graw[k].cls == 1;
            if (keep) e->g[e->ng++] = graw[k];
        }
    }
    e->nr = rw;
    eai__free(e->a, graw);
    return EAI_OK;
}

/* Walks the frames present in the kept boxes (frames with neither
 * contribute nothing to any metric). */
typedef struct {
    int gi, ri;
} fit_t;

static bool next_frame(const ev_t *e, fit_t *it, const ebox_t **g, int *ng, const ebox_t **r,
                       int *nr)
{
    if (it->gi >= e->ng && it->ri >= e->nr) return false;
    int f = INT32_MAX;
    if (it->gi < e->ng) f = e->g[it->gi].frame;
    if (it->ri < e->nr && e->r[it->ri].frame < f) f = e->r[it->ri].frame;
    *g = &e->g[it->gi], *r = &e->r[it->ri];
    *ng = *nr = 0;
    while (it->gi < e->ng && e->g[it->gi].frame == f)
        it->gi++, (*ng)++;
    while (it->ri < e->nr && e->r[it->ri].frame == f)
        it->ri++, (*nr)++;
    return true;
}

/* Pass 1: id counts, Identity potential matches, HOTA's soft alignment. */
static eai_status_t pass1(ev_t *e)
{
    eai_status_t st = EAI_OK;
    fit_t it = {0, 0};
    const ebox_t *g, *r;
    int ng, nr;
    while (next_frame(e, &it, &g, &ng, &r, &nr)) {
        for (int i = 0; i < ng; i++)
            e->g_cnt[g[i].id]++;
        for (int j = 0; j < nr; j++)
            e->r_cnt[r[j].id]++;
        if (ng && nr) {
            frame_sim(e, g, ng, r, nr);
            /* sim_iou = sim / (column sum + row sum - sim) */
            double *rs = e->cost, *cs = e->cost + ng;
            for (int i = 0; i < ng; i++)
                rs[i] = 0;
            for (int j = 0; j < nr; j++)
                cs[j] = 0;
            for (int i = 0; i < ng; i++)
                for (int j = 0; j < nr; j++) {
                    double s = e->sim[(size_t)i * (size_t)nr + (size_t)j];
                    rs[i] += s, cs[j] += s;
                }
            for (int i = 0; i < ng && st == EAI_OK; i++)
                for (int j = 0; j < nr; j++) {
                    double s = e->sim[(size_t)i * (size_t)nr + (size_t)j];
                    if (!(s > 0)) continue;
                    pair_t *p;
                    int64_t key = (int64_t)g[i].id * e->n_rid + r[j].id;
                    if ((st = pmap_get(&e->pm, key, true, &p)) != EAI_OK) break;
                    double den = cs[j] + rs[i] - s;
                    if (den > EPS) p->pm_hota += s / den;
                    if (s >= 0.5) p->pm_id++;
                }
        }
        if (st != EAI_OK) return st;
    }
    return EAI_OK;
}

static double gas(ev_t *e, int g, int r)
{
    pair_t *p;
    pmap_get(&e->pm, (int64_t)g * e->n_rid + r, false, &p);
    if (!p) return 0;
    return p->pm_hota / ((double)e->g_cnt[g] + (double)e->r_cnt[r] - p->pm_hota);
}

/* Pass 2: CLEAR and HOTA per-frame matching. */
static void pass2(ev_t *e, eai_mot_metrics_t *m, const double *alpha, double *tp, double *fn,
                  double *fp, double *loca, double clear_thr)
{
    double motp_sum = 0;
    fit_t it = {0, 0};
    const ebox_t *g, *r;
    int ng, nr;
    while (next_frame(e, &it, &g, &ng, &r, &nr)) {
        if (!ng) {
            m->fp += nr;
            for (int a = 0; a < NALPHA; a++)
                fp[a] += nr;
            continue;
        }
        if (!nr) {
            m->fn += ng; /* and prev_ts is left as is, as clear.py's `continue` does */
            for (int a = 0; a < NALPHA; a++)
                fn[a] += ng;
            continue;
        }
        frame_sim(e, g, ng, r, nr);
        /* CLEAR: continuing the previous frame's match first, then IoU */
        for (int i = 0; i < ng; i++)
            for (int j = 0; j < nr; j++) {
                size_t k = (size_t)i * (size_t)nr + (size_t)j;
                double s = e->sim[k];
                double sc = 1000.0 * (r[j].id == e->prev_ts[g[i].id]) + s;
                if (s < clear_thr - EPS) sc = 0;
                e->cost[k] = -sc;
            }
        eai__assign_d(e->cost, ng, nr, -EPS, e->rm, e->cm, e->work);
        int nm = 0;
        for (int i = 0; i < ng; i++) {
            int j = e->rm[i], gid = g[i].id;
            if (j < 0) continue;
            nm++;
            int rid = r[j].id;
            if (e->prev_id[gid] >= 0 && e->prev_id[gid] != rid) m->idsw++;
            e->g_matched[gid]++;
            motp_sum += e->sim[(size_t)i * (size_t)nr + (size_t)j];
        }
        /* Frag: a gt id tracked now but not in the previous processed frame */
        for (int i = 0; i < ng; i++) {
            int j = e->rm[i], gid = g[i].id;
            if (j < 0) continue;
            if (e->prev_ts[gid] < 0) e->frag[gid]++;
        }
        /* prev_timestep_tracker_id[:] = nan, then the matched ones */
        for (int q = 0; q < e->n_gid; q++)
            e->prev_ts[q] = -1;
        for (int i = 0; i < ng; i++) {
            int j = e->rm[i];
            if (j < 0) continue;
            e->prev_id[g[i].id] = r[j].id;
            e->prev_ts[g[i].id] = r[j].id;
        }
        m->tp += nm;
        m->fn += ng - nm;
        m->fp += nr - nm;

        /* HOTA: one matching by global alignment x IoU, thresholded per alpha */
        for (int i = 0; i < ng; i++)
            for (int j = 0; j < nr; j++) {
                size_t k = (size_t)i * (size_t)nr + (size_t)j;
                e->cost[k] = -(gas(e, g[i].id, r[j].id) * e->sim[k]);
            }
        eai__assign_d(e->cost, ng, nr, 0.0, e->rm, e->cm, e->work);
        for (int a = 0; a < NALPHA; a++) {
            int na = 0;
            for (int i = 0; i < ng; i++) {
                int j = e->rm[i];
                if (j < 0) continue;
                double s = e->sim[(size_t)i * (size_t)nr + (size_t)j];
                if (!(s >= alpha[a] - EPS)) continue;
                na++;
                loca[a] += s;
                pair_t *p;
                pmap_get(&e->pm, (int64_t)g[i].id * e->n_rid + r[j].id, false, &p);
                if (p) p->mc[a]++;
            }
            tp[a] += na;
            fn[a] += ng - na;
            fp[a] += nr - na;
        }
    }
    m->motp = motp_sum / fmax(1.0, (double)m->tp);
}

/* IDTP: the maximum-weight matching of gt ids to result ids on the counts
 * of frames where they overlap with IoU >= threshold (identity.py minimises
 * IDFN + IDFP over an extended matrix, which is the same optimum). Solved
 * per connected component of the id pairs with a count. */
static eai_status_t id_matching(ev_t *e, long *idtp)
{
    int G = e->n_gid, R = e->n_rid, N = G + R;
    int *parent = eai__calloc(e->a, (size_t)N + 1, sizeof(int));
    int *head = eai__calloc(e->a, (size_t)N + 1, sizeof(int));
    int *next = eai__calloc(e->a, (size_t)N + 1, sizeof(int));
    int *local = eai__calloc(e->a, (size_t)N + 1, sizeof(int));
    double *cost = NULL;
    void *work = NULL;
    int *rm = NULL;
    eai_status_t st = EAI_OK;
    if (!parent || !head || !next || !local) {
        st = eai_fail(EAI_E_NOMEM, "mot eval: out of memory");
        goto done;
    }
    for (int x = 0; x < N; x++)
        parent[x] = x, head[x] = -1;
    for (size_t k = 0; k < e->pm.cap; k++) {
        pair_t *p = &e->pm.p[k];
        if (p->key < 0 || p->pm_id <= 0) continue;
        int a = (int)(p->key / R), b = G + (int)(p->key % R);
        while (parent[a] != a)
            a = parent[a] = parent[parent[a]];
        while (parent[b] != b)
            b = parent[b] = parent[parent[b]];
        if (a != b) parent[a] = b;
    }
    for (int x = N - 1; x >= 0; x--) {
        int r = x;
        while (parent[r] != r)
            r = parent[r];
        next[x] = head[r];
        head[r] = x;
    }
    *idtp = 0;
    for (int root = 0; root < N; root++) {
        int ng = 0, nr = 0;
        for (int x = head[root]; x >= 0; x = next[x])
            local[x] = x < G ? ng++ : nr++;
        if (!ng || !nr) continue;
        eai__free(e->a, cost);
        eai__free(e->a, work);
        eai__free(e->a, rm);
        cost = eai__calloc(e->a, (size_t)ng * (size_t)nr, sizeof(double));
        work = eai__alloc(e->a, eai__assign_work_bytes(ng, nr));
        rm = eai__calloc(e->a, (size_t)ng, sizeof(int));
        if (!cost || !work || !rm) {
            st = eai_fail(EAI_E_NOMEM, "mot eval: out of memory for a %d x %d id matching", ng, nr);
            goto done;
        }
        for (int x = head[root]; x >= 0; x = next[x]) {
            if (x >= G) continue;
            for (int y = head[root]; y >= 0; y = next[y]) {
                if (y < G) continue;
                pair_t *p;
                pmap_get(&e->pm, (int64_t)x * R + (y - G), false, &p);
                cost[(size_t)local[x] * (size_t)nr + (size_t)local[y]] =
                    p ? -(double)p->pm_id : 0.0;
            }
        }
        eai__assign_d(cost, ng, nr, 0.0, rm, NULL, work);
        for (int i = 0; i < ng; i++)
            if (rm[i] >= 0) *idtp -= (long)cost[(size_t)i * (size_t)nr + (size_t)rm[i]];
    }
done:
    eai__free(e->a, parent);
    eai__free(e->a, head);
    eai__free(e->a, next);
    eai__free(e->a, local);
    eai__free(e->a, cost);
    eai__free(e->a, work);
    eai__free(e->a, rm);
    return st;
}

static void ev_free(ev_t *e)
{
    eai__free(e->a, e->g);
    eai__free(e->a, e->r);
    eai__free(e->a, e->sim);
    eai__free(e->a, e->cost);
    eai__free(e->a, e->rm);
    eai__free(e->a, e->cm);
    eai__free(e->a, e->work);
    eai__free(e->a, e->g_cnt);
    eai__free(e->a, e->r_cnt);
    eai__free(e->a, e->g_matched);
    eai__free(e->a, e->frag);
    eai__free(e->a, e->prev_id);
    eai__free(e->a, e->prev_ts);
    eai__free(e->a, e->pm.p);
}

static eai_status_t evaluate(ev_t *e, const eai_mot_t *gt, const eai_mot_t *res,
                             const eai_mot_eval_opts_t *o, eai_mot_metrics_t *m)
{
    int maxn = gt->n_rows > res->n_rows ? gt->n_rows : res->n_rows;
    int *scratch = eai__calloc(e->a, (size_t)maxn + 1, sizeof(int));
    if (!scratch) return eai_fail(EAI_E_NOMEM, "mot eval: out of memory");
    eai_status_t st = check_unique(gt, "gt", scratch);
    if (st == EAI_OK) st = check_unique(res, "result", scratch);
    /* per-frame scratch sized by the largest raw frames */
    e->max_g = e->max_r = 0;
    for (int i = 0; i < gt->n_rows && st == EAI_OK;) {
        int k = eai_mot_frame_rows(gt, gt->rows[i].frame, NULL);
        if (k > e->max_g) e->max_g = k;
        i += k;
    }
    for (int i = 0; i < res->n_rows && st == EAI_OK;) {
        int k = eai_mot_frame_rows(res, res->rows[i].frame, NULL);
        if (k > e->max_r) e->max_r = k;
        i += k;
    }
    size_t cells = (size_t)e->max_g * (size_t)e->max_r;
    if (st == EAI_OK) {
        e->sim = eai__calloc(e->a, cells + 1, sizeof(double));
        e->cost =
            eai__calloc(e->a, cells + (size_t)e->max_g + (size_t)e->max_r + 1, sizeof(double));
        e->rm = eai__calloc(e->a, (size_t)e->max_g + 1, sizeof(int));
        e->cm = eai__calloc(e->a, (size_t)e->max_r + 1, sizeof(int));
        e->work = eai__alloc(e->a, eai__assign_work_bytes(e->max_g, e->max_r));
        if (!e->sim || !e->cost || !e->rm || !e->cm || !e->work)
            st = eai_fail(EAI_E_NOMEM, "mot eval: out of memory for %d x %d boxes per frame",
                          e->max_g, e->max_r);
    }
    if (st == EAI_OK) st = preprocess(e, gt, res, o);
    if (st == EAI_OK) {
        e->n_gid = relabel(e->g, e->ng, scratch);
        e->n_rid = relabel(e->r, e->nr, scratch);
    }
    eai__free(e->a, scratch);
    EAI_TRY(st);
    size_t G = (size_t)e->n_gid + 1, R = (size_t)e->n_rid + 1;
    e->g_cnt = eai__calloc(e->a, G, sizeof(long));
    e->r_cnt = eai__calloc(e->a, R, sizeof(long));
    e->g_matched = eai__calloc(e->a, G, sizeof(long));
    e->frag = eai__calloc(e->a, G, sizeof(long));
    e->prev_id = eai__calloc(e->a, G, sizeof(int));
    e->prev_ts = eai__calloc(e->a, G, sizeof(int));
    if (!e->g_cnt || !e->r_cnt || !e->g_matched || !e->frag || !e->prev_id || !e->prev_ts)
        return eai_fail(EAI_E_NOMEM, "mot eval: out of memory for %d ids", e->n_gid + e->n_rid);
    for (int i = 0; i < e->n_gid; i++)
        e->prev_id[i] = e->prev_ts[i] = -1;

    m->n_gt_dets = e->ng, m->n_res_dets = e->nr;
    m->n_gt_ids = e->n_gid, m->n_res_ids = e->n_rid;
    m->n_frames = gt->max_frame > res->max_frame ? gt->max_frame : res->max_frame;
    if (e->nr == 0 || e->ng == 0) { /* TrackEval's early returns */
        m->fn = e->ng, m->fp = e->nr, m->ml = e->n_gid;
        m->idfn = e->ng, m->idfp = e->nr;
        m->loca = 1;
        m->mlr = e->n_gid ? 1 : 0;
        m->mota = m->moda = -(double)m->fp / fmax(1.0, (double)m->fn);
        return EAI_OK;
    }
    EAI_TRY(pass1(e));
    double alpha[NALPHA], tp[NALPHA] = {0}, fn[NALPHA] = {0}, fp[NALPHA] = {0}, loca[NALPHA] = {0};
    alpha[0] = 0.05, alpha[1] = 0.05 + 0.05; /* np.arange(0.05, 0.99, 0.05) */
    for (int a = 2; a < NALPHA; a++)
        alpha[a] = alpha[0] + a * (alpha[1] - alpha[0]);
    pass2(e, m, alpha, tp, fn, fp, loca, o->clear_iou);

    /* CLEAR */
    for (int g = 0; g < e->n_gid; g++) {
        if (e->g_cnt[g] > 0) {
            double ratio = (double)e->g_matched[g] / (double)e->g_cnt[g];
            if (ratio > 0.8)
                m->mt++;
            else if (ratio >= 0.2)
                m->pt++;
        }
        if (e->frag[g] > 0) m->frag += e->frag[g] - 1;
    }
    m->ml = e->n_gid - m->mt - m->pt;
    double ng = fmax(1.0, (double)e->n_gid), tpfn = fmax(1.0, (double)(m->tp + m->fn));
    m->mtr = m->mt / ng, m->ptr = m->pt / ng, m->mlr = m->ml / ng;
    m->clr_re = m->tp / tpfn;
    m->clr_pr = m->tp / fmax(1.0, (double)(m->tp + m->fp));
    m->moda = (double)(m->tp - m->fp) / tpfn;
    m->mota = (double)(m->tp - m->fp - m->idsw) / tpfn;

    /* Identity */
    long sum_g = 0, sum_r = 0;
    for (int g = 0; g < e->n_gid; g++)
        sum_g += e->g_cnt[g];
    for (int r = 0; r < e->n_rid; r++)
        sum_r += e->r_cnt[r];
    EAI_TRY(id_matching(e, &m->idtp));
    m->idfn = sum_g - m->idtp, m->idfp = sum_r - m->idtp;
    m->idr = m->idtp / fmax(1.0, (double)(m->idtp + m->idfn));
    m->idp = m->idtp / fmax(1.0, (double)(m->idtp + m->idfp));
    m->idf1 = m->idtp / fmax(1.0, m->idtp + 0.5 * m->idfp + 0.5 * m->idfn);

    /* HOTA */
    for (int a = 0; a < NALPHA; a++) {
        double ass = 0, are = 0, apr = 0;
        for (size_t k = 0; k < e->pm.cap; k++) {
            const pair_t *p = &e->pm.p[k];
            if (p->key < 0 || !p->mc[a]) continue;
            double mc = (double)p->mc[a];
            double gc = (double)e->g_cnt[p->key / e->n_rid],
                   rc = (double)e->r_cnt[p->key % e->n_rid];
            ass += mc * (mc / fmax(1.0, gc + rc - mc));
            are += mc * (mc / fmax(1.0, gc));
            apr += mc * (mc / fmax(1.0, rc));
        }
        double t = fmax(1.0, tp[a]);
        double assa = ass / t, assre = are / t, asspr = apr / t;
        double deta = tp[a] / fmax(1.0, tp[a] + fn[a] + fp[a]);
        double h = sqrt(deta * assa);
        m->hota_alpha[a] = h;
        m->hota += h / NALPHA;
        m->deta += deta / NALPHA;
        m->assa += assa / NALPHA;
        m->assa_re += assre / NALPHA;
        m->assa_pr += asspr / NALPHA;
        m->deta_re += tp[a] / fmax(1.0, tp[a] + fn[a]) / NALPHA;
        m->deta_pr += tp[a] / fmax(1.0, tp[a] + fp[a]) / NALPHA;
        m->loca += fmax(1e-10, loca[a]) / fmax(1e-10, tp[a]) / NALPHA;
    }
    return EAI_OK;
}

eai_status_t eai_mot_eval(const eai_mot_t *gt, const eai_mot_t *res,
                          const eai_mot_eval_opts_t *opts, eai_mot_metrics_t *out)
{
    if (!gt || !res || !out) return eai_fail(EAI_E_INVALID, "eai_mot_eval: NULL argument");
    eai_mot_eval_opts_t o;
    if (opts)
        o = *opts;
    else
        memset(&o, 0, sizeof o);
    if (!(o.clear_iou > 0)) o.clear_iou = 0.5f;
    if (o.preproc != EAI_MOT_PLAIN && o.preproc != EAI_MOT_MOT17)
        return eai_fail(EAI_E_INVALID, "eai_mot_eval: unknown preprocessing %d", (int)o.preproc);
    ev_t e;
    memset(&e, 0, sizeof e);
    e.a = &o.alloc;
    e.pm.a = &o.alloc;
    eai_mot_metrics_t m;
    memset(&m, 0, sizeof m);
    eai_status_t st = evaluate(&e, gt, res, &o, &m);
    ev_free(&e);
    if (st == EAI_OK) *out = m;
    return st;
}
