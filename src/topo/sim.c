/* The discrete-event simulator behind eai_topo_simulate. One binary heap of
 * events ordered by (time, sequence number), so equal times pop in push
 * order and a seed fixes every number. Node instances are k-server FIFO
 * queues; each child instance owns a full-duplex uplink whose FIFO is just a
 * "free at" time per direction (serialisation is in order, so no queue needs
 * storing). Jobs and events come from pools sized at setup that only double
 * when the in-flight high-water mark rises. */
#include <math.h>
#include <string.h>
#include <time.h>

#include "topo/topo_impl.h"

#define NONE      UINT32_MAX
#define HIST_N    2600 /* log bins of 1%: 1e-4 ms .. ~1.7e7 ms */
#define HIST_LO   1e-4
#define HIST_STEP 1.01

enum { EV_GEN = 0, EV_DONE, EV_ARRIVE, EV_RETX, EV_FL_ROUND };
enum { J_INFER = 0, J_FL };
enum { P_EDGE = 0, P_CLOUD, P_RETURN, P_FL_DOWN, P_FL_UP };

typedef struct ev {
    double t;
    uint64_t seq;
    uint32_t kind, a, b; /* a: job or instance; b: link instance | dir << 31 */
} ev_t;

typedef struct job {
    double t0;
    uint64_t bytes; /* payload of the next transmission */
    uint32_t origin, at, next, round;
    uint8_t kind, phase;
} job_t;

typedef struct sim {
    const eai_topo_t *t;
    eai_topo_arch_t arch;
    const eai_allocator_t *a;
    uint64_t rng[4];
    double now, t_gen_end, t_stop, offload;
    /* groups, possibly with the device count replaced */
    int64_t count[TOPO_MAX_GROUPS], base[TOPO_MAX_GROUPS];
    double svc_ms[TOPO_MAX_GROUPS], train_ms[TOPO_MAX_GROUPS], rate[TOPO_MAX_GROUPS];
    int64_t in_bytes[TOPO_MAX_GROUPS], out_bytes[TOPO_MAX_GROUPS]; /* of the group's model */
    bool used[TOPO_MAX_GROUPS];
    int fl_model;
    /* instances */
    uint32_t n_inst;
    int32_t *grp, *parent, *busy, *edge_of, *cloud_of, *agg_of;
    uint32_t *qhead, *qtail;
    double *busy_s, *up_free, *down_free, *up_busy, *down_busy;
    /* event heap and job pool */
    ev_t *heap;
    size_t n_ev, cap_ev;
    uint64_t seq;
    job_t *jobs;
    uint32_t cap_jobs, free_jobs;
    bool setup_done;
    /* FL */
    uint32_t *trainers, n_trainers;
    uint32_t *fl_left;
    double *fl_start;
    uint32_t n_rounds;
    /* results */
    uint32_t *hist;
    double lat_sum, lat_max;
    eai_topo_result_t *r;
} sim_t;

/* ---- RNG: xoshiro256** seeded by splitmix64 ---- */

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t next_u64(sim_t *s)
{
    uint64_t *q = s->rng, r = rotl(q[1] * 5, 7) * 9, t = q[1] << 17;
    q[2] ^= q[0];
    q[3] ^= q[1];
    q[1] ^= q[2];
    q[0] ^= q[3];
    q[2] ^= t;
    q[3] = rotl(q[3], 45);
    return r;
}

/* uniform in [0, 1) */
static double uni(sim_t *s)
{
    return (double)(next_u64(s) >> 11) * 0x1.0p-53;
}

static double expo(sim_t *s, double rate)
{
    return -log1p(-uni(s)) / rate;
}

/* ---- pools ---- */

static eai_status_t grow(sim_t *s, void **p, size_t elem, size_t *cap)
{
    size_t nc = *cap * 2;
    void *q = eai__realloc(s->a, *p, nc * elem);
    if (!q) return eai_fail(EAI_E_NOMEM, "topo: out of memory growing the simulator to %zu", nc);
    *p = q;
    *cap = nc;
    if (s->setup_done) s->r->n_pool_grows++;
    return EAI_OK;
}

static eai_status_t push(sim_t *s, double t, uint32_t kind, uint32_t a, uint32_t b)
{
    if (s->n_ev == s->cap_ev) EAI_TRY(grow(s, (void **)&s->heap, sizeof(ev_t), &s->cap_ev));
    ev_t e = {t, s->seq++, kind, a, b};
    size_t i = s->n_ev++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        const ev_t *q = &s->heap[p];
        if (q->t < e.t || (q->t == e.t && q->seq < e.seq)) break;
        s->heap[i] = *q;
        i = p;
    }
    s->heap[i] = e;
    return EAI_OK;
}

static ev_t pop(sim_t *s)
{
    ev_t top = s->heap[0], e = s->heap[--s->n_ev];
    size_t i = 0, n = s->n_ev;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && (s->heap[c + 1].t < s->heap[c].t || (s->heap[c + 1].t == s->heap[c].t &&
                                                              s->heap[c + 1].seq < s->heap[c].seq)))
            c++;
        if (e.t < s->heap[c].t || (e.t == s->heap[c].t && e.seq < s->heap[c].seq)) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n) s->heap[i] = e;
    return top;
}

static eai_status_t job_new(sim_t *s, uint32_t *out)
{
    if (s->free_jobs == NONE) {
        size_t cap = s->cap_jobs;
        EAI_TRY(grow(s, (void **)&s->jobs, sizeof(job_t), &cap));
        for (size_t i = s->cap_jobs; i < cap; i++)
            s->jobs[i].next = i + 1 < cap ? (uint32_t)(i + 1) : NONE;
        s->free_jobs = s->cap_jobs;
        s->cap_jobs = (uint32_t)cap;
    }
    *out = s->free_jobs;
    s->free_jobs = s->jobs[*out].next;
    s->jobs[*out].next = NONE;
    return EAI_OK;
}

static void job_free(sim_t *s, uint32_t j)
{
    s->jobs[j].next = s->free_jobs;
    s->free_jobs = j;
}

/* ---- links and nodes ---- */

static eai_status_t link_send(sim_t *s, uint32_t j, uint32_t c, int down)
{
    const eai_topo_t *t = s->t;
    int li = t->link_of[s->grp[c]];
    const eai_topo_link_t *L = &t->links[li];
    job_t *jb = &s->jobs[j];
    double *free_at = down ? &s->down_free[c] : &s->up_free[c];
    double start = *free_at > s->now ? *free_at : s->now;
    double tx = (double)jb->bytes * 8.0 / (L->bandwidth_mbps * 1e6);
    *free_at = start + tx;
    (down ? s->down_busy : s->up_busy)[c] += tx;
    eai_topo_link_stats_t *st = &s->r->links[li];
    if (down)
        st->bytes_down += jb->bytes;
    else
        st->bytes_up += jb->bytes;
    st->msgs++;
    if (jb->kind == J_FL) s->r->fl_bytes += jb->bytes;
    s->used[s->grp[c]] = s->used[s->grp[s->parent[c]]] = true;
    uint32_t b = c | (uint32_t)down << 31;
    if (L->loss > 0 && uni(s) < L->loss) {
        st->resends++;
        return push(s, start + tx + L->rto_ms * 1e-3, EV_RETX, j, b);
    }
    double lat = (L->latency_ms + (L->jitter_ms > 0 ? L->jitter_ms * uni(s) : 0)) * 1e-3;
    return push(s, start + tx + lat, EV_ARRIVE, j, b);
}

static double job_service_s(const sim_t *s, const job_t *jb, uint32_t node)
{
    int g = s->grp[node];
    return (jb->kind == J_FL ? s->train_ms[g] : s->svc_ms[g]) * 1e-3;
}

static eai_status_t start_service(sim_t *s, uint32_t j, uint32_t node)
{
    double d = job_service_s(s, &s->jobs[j], node);
    s->busy[node]++;
    s->busy_s[node] += d;
    return push(s, s->now + d, EV_DONE, j, node);
}

static eai_status_t compute(sim_t *s, uint32_t j, uint32_t node)
{
    s->used[s->grp[node]] = true;
    if (s->busy[node] < s->t->groups[s->grp[node]].hw.cores) return start_service(s, j, node);
    s->jobs[j].next = NONE; /* FIFO wait */
    if (s->qtail[node] == NONE)
        s->qhead[node] = j;
    else
        s->jobs[s->qtail[node]].next = j;
    s->qtail[node] = j;
    return EAI_OK;
}

static int64_t model_in(const sim_t *s, uint32_t node)
{
    return s->in_bytes[s->grp[node]];
}

static int64_t model_out(const sim_t *s, uint32_t node)
{
    return s->out_bytes[s->grp[node]];
}

/* The child of `at` on the way down to `dst` (dst is below at). */
static uint32_t child_toward(const sim_t *s, uint32_t at, uint32_t dst)
{
    uint32_t x = dst;
    while ((uint32_t)s->parent[x] != at)
        x = (uint32_t)s->parent[x];
    return x;
}

static void hist_add(sim_t *s, double ms)
{
    int i = ms <= HIST_LO ? 0 : (int)(log(ms / HIST_LO) / log(HIST_STEP));
    s->hist[i < HIST_N ? i : HIST_N - 1]++;
    s->lat_sum += ms;
    if (ms > s->lat_max) s->lat_max = ms;
}

static eai_status_t fl_update(sim_t *s, uint32_t j);

/* Moves job j one step: compute here, or send one hop up or down. */
static eai_status_t advance(sim_t *s, uint32_t j)
{
    job_t *jb = &s->jobs[j];
    uint32_t at = jb->at, o = jb->origin;
    switch (jb->phase) {
    case P_EDGE:
    case P_CLOUD: {
        uint32_t target = (uint32_t)(jb->phase == P_EDGE ? s->edge_of[o] : s->cloud_of[o]);
        if (at == target) return compute(s, j, at);
        return link_send(s, j, at, 0);
    }
    case P_RETURN:
        if (at == o) {
            hist_add(s, (s->now - jb->t0) * 1e3);
            s->r->n_done++;
            job_free(s, j);
            return EAI_OK;
        }
        return link_send(s, j, child_toward(s, at, o), 1);
    case P_FL_DOWN:
        if (at == o) return compute(s, j, at);
        return link_send(s, j, child_toward(s, at, o), 1);
    case P_FL_UP:
        if (at == (uint32_t)s->agg_of[o]) return fl_update(s, j);
        return link_send(s, j, at, 0);
    }
    return eai_fail(EAI_E_STATE, "topo: job in unknown phase %d", jb->phase);
}

static eai_status_t on_done(sim_t *s, uint32_t j, uint32_t node)
{
    s->busy[node]--;
    if (s->qhead[node] != NONE) { /* next waiting job takes the server */
        uint32_t w = s->qhead[node];
        s->qhead[node] = s->jobs[w].next;
        if (s->qhead[node] == NONE) s->qtail[node] = NONE;
        EAI_TRY(start_service(s, w, node));
    }
    job_t *jb = &s->jobs[j];
    if (jb->phase == P_FL_DOWN) {
        jb->phase = P_FL_UP; /* trained: the update goes back, same size */
    } else if (jb->phase == P_EDGE && s->arch == EAI_TOPO_HYBRID && s->offload > 0 &&
               (s->offload >= 1 || uni(s) < s->offload)) { /* 0 and 1 draw nothing */
        jb->phase = P_CLOUD;
        jb->bytes = (uint64_t)model_in(s, (uint32_t)s->cloud_of[jb->origin]);
        s->r->n_offloaded++;
    } else {
        if (jb->phase == P_CLOUD && s->arch == EAI_TOPO_CLOUD_ONLY) s->r->n_offloaded++;
        jb->phase = P_RETURN;
        jb->bytes = (uint64_t)model_out(s, node);
    }
    return advance(s, j);
}

static eai_status_t on_gen(sim_t *s, uint32_t sensor)
{
    uint32_t j;
    EAI_TRY(job_new(s, &j));
    job_t *jb = &s->jobs[j];
    jb->t0 = s->now;
    jb->kind = J_INFER;
    jb->origin = jb->at = sensor;
    jb->phase = s->arch == EAI_TOPO_CLOUD_ONLY ? P_CLOUD : P_EDGE;
    jb->bytes = (uint64_t)model_in(
        s, (uint32_t)(jb->phase == P_CLOUD ? s->cloud_of[sensor] : s->edge_of[sensor]));
    s->used[s->grp[sensor]] = true;
    s->r->n_samples++;
    double rate = s->rate[s->grp[sensor]];
    double next = s->now + (s->t->arrivals == TOPO_PERIODIC ? 1.0 / rate : expo(s, rate));
    if (next < s->t_gen_end) EAI_TRY(push(s, next, EV_GEN, sensor, 0));
    return advance(s, j);
}

static eai_status_t on_round(sim_t *s, uint32_t r)
{
    uint32_t k = (uint32_t)(s->t->fl_clients < s->n_trainers ? s->t->fl_clients : s->n_trainers);
    s->fl_left[r] = k;
    s->fl_start[r] = s->now;
    const eai_topo_model_t *m = &s->t->models[s->fl_model];
    for (uint32_t i = 0; i < k; i++) { /* partial Fisher-Yates: k distinct clients */
        uint32_t pick = i + (uint32_t)(uni(s) * (s->n_trainers - i));
        uint32_t c = s->trainers[pick];
        s->trainers[pick] = s->trainers[i];
        s->trainers[i] = c;
        uint32_t j;
        EAI_TRY(job_new(s, &j));
        job_t *jb = &s->jobs[j];
        jb->t0 = s->now;
        jb->kind = J_FL;
        jb->phase = P_FL_DOWN;
        jb->origin = c;
        jb->at = (uint32_t)s->agg_of[c];
        jb->round = r;
        jb->bytes = (uint64_t)m->bytes;
        s->used[s->grp[jb->at]] = true;
        EAI_TRY(advance(s, j));
    }
    if ((r + 1) < s->n_rounds) EAI_TRY(push(s, (r + 1) * s->t->fl_round_s, EV_FL_ROUND, r + 1, 0));
    return EAI_OK;
}

static eai_status_t fl_update(sim_t *s, uint32_t j)
{
    uint32_t r = s->jobs[j].round;
    job_free(s, j);
    if (--s->fl_left[r] == 0) { /* aggregation itself is not timed (a weighted mean) */
        s->r->fl_rounds++;
        s->r->fl_round_mean_s += s->now - s->fl_start[r];
    }
    return EAI_OK;
}

/* ---- setup ---- */

#define ALLOC(p, n)                                                                                \
    do {                                                                                           \
        if (!((p) = eai__calloc(s->a, (n) ? (n) : 1, sizeof *(p))))                                \
            return eai_fail(EAI_E_NOMEM, "topo: out of memory (%zu instances)", (size_t)(n));      \
    } while (0)

static eai_status_t check_arch(sim_t *s)
{
    const eai_topo_t *t = s->t;
    bool any = false;
    for (int g = 0; g < t->n_groups; g++) {
        if (!(t->groups[g].roles & EAI_TOPO_ROLE_SENSOR)) continue;
        any = true;
        uint32_t i = (uint32_t)s->base[g];
        const char *arch = eai_topo_arch_name(s->arch), *name = t->groups[g].name;
        bool need_edge = s->arch != EAI_TOPO_CLOUD_ONLY;
        bool need_cloud = s->arch == EAI_TOPO_CLOUD_ONLY || s->arch == EAI_TOPO_HYBRID;
        if (need_edge && s->edge_of[i] < 0)
            return eai_fail(EAI_E_INVALID,
                            "%s: sensor group '%s' has no inference node below the cloud tier on "
                            "its path (itself or a parent)",
                            arch, name);
        if (need_cloud && s->cloud_of[i] < 0)
            return eai_fail(EAI_E_INVALID, "%s: sensor group '%s' has no inference node above it",
                            arch, name);
        if (s->arch == EAI_TOPO_HYBRID && s->cloud_of[i] == s->edge_of[i])
            return eai_fail(EAI_E_INVALID,
                            "hybrid: sensor group '%s': the edge and the cloud model are the same "
                            "node (give a higher node the inference role)",
                            name);
    }
    if (!any) return eai_fail(EAI_E_INVALID, "topo: no node group has the sensor role");
    if (s->arch == EAI_TOPO_FEDERATED) {
        if (s->n_trainers == 0)
            return eai_fail(EAI_E_INVALID, "federated: no node with the training role has an "
                                           "aggregation node above it");
        if (s->fl_model < 0)
            return eai_fail(EAI_E_INVALID, "federated: no model to train (set federated.model or "
                                           "a model on the training nodes)");
    }
    return EAI_OK;
}

static eai_status_t setup(sim_t *s)
{
    const eai_topo_t *t = s->t;
    int64_t n = 0;
    for (int g = 0; g < t->n_groups; g++) {
        s->base[g] = n;
        n += s->count[g];
        const eai_hw_profile_t *hw = &t->groups[g].hw;
        int m = eai__topo_model_index(t, t->groups[g].model);
        s->svc_ms[g] = m >= 0 ? eai__topo_scale_ms(t, hw, t->models[m].host_ms) : 0;
        s->in_bytes[g] = m >= 0 ? t->models[m].input_bytes : 0;
        s->out_bytes[g] = m >= 0 ? t->models[m].output_bytes : 0;
        s->rate[g] = t->rate_hz[g] > 0 ? t->rate_hz[g] : t->rate_hz_default;
    }
    if (n >= (int64_t)(UINT32_MAX >> 1))
        return eai_fail(EAI_E_INVALID, "topo: %lld node instances, at most %u", (long long)n,
                        (UINT32_MAX >> 1) - 1);
    s->n_inst = (uint32_t)n;
    ALLOC(s->grp, n);
    ALLOC(s->parent, n);
    ALLOC(s->busy, n);
    ALLOC(s->edge_of, n);
    ALLOC(s->cloud_of, n);
    ALLOC(s->agg_of, n);
    ALLOC(s->qhead, n);
    ALLOC(s->qtail, n);
    ALLOC(s->busy_s, n);
    ALLOC(s->up_free, n);
    ALLOC(s->down_free, n);
    ALLOC(s->up_busy, n);
    ALLOC(s->down_busy, n);
    ALLOC(s->trainers, n);
    ALLOC(s->hist, HIST_N);
    for (int g = 0; g < t->n_groups; g++) {
        int p = t->groups[g].parent;
        for (int64_t i = 0; i < s->count[g]; i++) {
            uint32_t x = (uint32_t)(s->base[g] + i);
            s->grp[x] = g;
            s->qhead[x] = s->qtail[x] = NONE;
            /* instance i of n attaches to floor(i * m / n) of the parent's m */
            s->parent[x] = p < 0 ? -1 : (int32_t)(s->base[p] + i * s->count[p] / s->count[g]);
        }
    }
    /* nearest / farthest nodes with a role on each instance's upward path */
    s->fl_model = t->fl_model;
    for (uint32_t x = 0; x < s->n_inst; x++) {
        s->edge_of[x] = s->cloud_of[x] = s->agg_of[x] = -1;
        for (int32_t y = (int32_t)x; y >= 0; y = s->parent[y]) {
            const eai_topo_group_t *g = &t->groups[s->grp[y]];
            if (g->roles & EAI_TOPO_ROLE_INFERENCE) {
                if (s->edge_of[x] < 0 && g->tier != EAI_TOPO_CLOUD) s->edge_of[x] = y;
                s->cloud_of[x] = y;
            }
            if (y != (int32_t)x && s->agg_of[x] < 0 && (g->roles & EAI_TOPO_ROLE_AGGREGATION))
                s->agg_of[x] = y;
        }
        const eai_topo_group_t *g = &t->groups[s->grp[x]];
        if ((g->roles & EAI_TOPO_ROLE_TRAINING) && s->agg_of[x] >= 0) {
            s->trainers[s->n_trainers++] = x;
            if (s->fl_model < 0) s->fl_model = eai__topo_model_index(t, g->model);
        }
    }
    for (int g = 0; g < t->n_groups; g++)
        s->train_ms[g] =
            s->fl_model >= 0 ? eai__topo_train_ms(t, &t->groups[g].hw, s->fl_model) : 0;
    EAI_TRY(check_arch(s));

    size_t n_sensors = 0;
    for (int g = 0; g < t->n_groups; g++)
        if (t->groups[g].roles & EAI_TOPO_ROLE_SENSOR) n_sensors += (size_t)s->count[g];
    s->cap_ev = 2 * n_sensors + 1024;
    ALLOC(s->heap, s->cap_ev);
    size_t cap = 2 * n_sensors + 1024;
    ALLOC(s->jobs, cap);
    for (size_t i = 0; i < cap; i++)
        s->jobs[i].next = i + 1 < cap ? (uint32_t)(i + 1) : NONE;
    s->cap_jobs = (uint32_t)cap;
    s->free_jobs = 0;
    if (s->arch == EAI_TOPO_FEDERATED) {
        s->n_rounds = (uint32_t)ceil(s->t_gen_end / t->fl_round_s);
        ALLOC(s->fl_left, s->n_rounds);
        ALLOC(s->fl_start, s->n_rounds);
        if (s->n_rounds) EAI_TRY(push(s, 0.0, EV_FL_ROUND, 0, 0));
    }
    /* first arrival of every sensor: Poisson, or a random phase of the period */
    for (int g = 0; g < t->n_groups; g++) {
        if (!(t->groups[g].roles & EAI_TOPO_ROLE_SENSOR)) continue;
        for (int64_t i = 0; i < s->count[g]; i++) {
            double t0 = t->arrivals == TOPO_PERIODIC ? uni(s) / s->rate[g] : expo(s, s->rate[g]);
            if (t0 < s->t_gen_end) EAI_TRY(push(s, t0, EV_GEN, (uint32_t)(s->base[g] + i), 0));
        }
    }
    s->setup_done = true;
    return EAI_OK;
}

static void teardown(sim_t *s)
{
    void *ps[] = {s->grp,       s->parent,  s->busy,      s->edge_of,  s->cloud_of,
                  s->agg_of,    s->qhead,   s->qtail,     s->busy_s,   s->up_free,
                  s->down_free, s->up_busy, s->down_busy, s->trainers, s->hist,
                  s->heap,      s->jobs,    s->fl_left,   s->fl_start};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
        eai__free(s->a, ps[i]);
}

static double hist_q(const sim_t *s, uint64_t n, double q)
{
    if (!n) return 0;
    uint64_t rank = (uint64_t)ceil(q * (double)n), acc = 0;
    if (rank < 1) rank = 1;
    for (int i = 0; i < HIST_N; i++)
        if ((acc += s->hist[i]) >= rank) return HIST_LO * pow(HIST_STEP, i + 0.5);
    return s->lat_max;
}

/* Energy, cost, utilisation: after the run, from the per-instance books. */
static void finish(sim_t *s, double sim_s)
{
    const eai_topo_t *t = s->t;
    eai_topo_result_t *r = s->r;
    r->sim_s = sim_s;
    r->mean_ms = r->n_done ? s->lat_sum / (double)r->n_done : 0;
    r->p50_ms = hist_q(s, r->n_done, 0.50);
    r->p99_ms = hist_q(s, r->n_done, 0.99);
    r->max_ms = s->lat_max;
    r->throughput_per_s = sim_s > 0 ? (double)r->n_done / sim_s : 0;
    double max_util = 0, life_s = t->lifetime_years * 365.25 * 86400.0;
    double tier_busy[EAI_TOPO_N_TIERS] = {0}, tier_n[EAI_TOPO_N_TIERS] = {0};
    for (int g = 0; g < t->n_groups; g++) {
        if (!s->used[g]) continue;
        const eai_topo_group_t *gr = &t->groups[g];
        const eai_hw_profile_t *hw = &gr->hw;
        double e = 0;
        for (int64_t i = 0; i < s->count[g]; i++) {
            uint32_t x = (uint32_t)(s->base[g] + i);
            double u = s->busy_s[x] / hw->cores / sim_s;
            if (u > 1) u = 1;
            e += hw->idle_w * sim_s + (hw->load_w - hw->idle_w) * u * sim_s;
            tier_busy[gr->tier] += u;
            tier_n[gr->tier] += 1;
            if (u > max_util) max_util = u;
            if (s->parent[x] >= 0) {
                double lu =
                    (s->up_busy[x] > s->down_busy[x] ? s->up_busy[x] : s->down_busy[x]) / sim_s;
                eai_topo_link_stats_t *ls = &r->links[t->link_of[g]];
                if (lu > ls->max_util) ls->max_util = lu;
                if (lu > max_util) max_util = lu;
            }
        }
        r->energy_j += e;
        r->energy_j_tier[gr->tier] += e;
        double n = (double)s->count[g];
        r->cost_usd_parts[0] += n * hw->capex_usd * sim_s / life_s;
        r->cost_usd_parts[1] += n * hw->usd_per_hour * sim_s / 3600.0;
        if (hw->usd_per_hour == 0) /* rented capacity has its power in the price */
            r->cost_usd_parts[2] += e / 3.6e6 * t->usd_per_kwh;
    }
    for (int i = 0; i < t->n_links; i++)
        if (t->links[i].to == EAI_TOPO_CLOUD)
            r->cost_usd_parts[3] += (double)r->links[i].bytes_down / 1e9 * t->egress_usd_per_gb;
    for (int k = 0; k < 4; k++)
        r->cost_usd += r->cost_usd_parts[k];
    for (int i = 0; i < EAI_TOPO_N_TIERS; i++)
        r->busy_frac_tier[i] = tier_n[i] > 0 ? tier_busy[i] / tier_n[i] : 0;
    r->energy_per_inf_mj = r->n_done ? r->energy_j / (double)r->n_done * 1e3 : 0;
    r->cost_per_1m_usd = r->n_done ? r->cost_usd / (double)r->n_done * 1e6 : 0;
    /* utilisation law: the offered rate at which the busiest resource saturates */
    double offered = (double)r->n_samples / s->t_gen_end;
    r->capacity_per_s = max_util > 0 ? offered / max_util : 0;
    if (r->fl_rounds) r->fl_round_mean_s /= (double)r->fl_rounds;
}

static eai_status_t run(sim_t *s)
{
    EAI_TRY(setup(s));
    double last = 0;
    while (s->n_ev) {
        if (s->heap[0].t > s->t_stop) break;
        ev_t e = pop(s);
        s->now = last = e.t;
        s->r->n_events++;
        switch (e.kind) {
        case EV_GEN:
            EAI_TRY(on_gen(s, e.a));
            break;
        case EV_DONE:
            EAI_TRY(on_done(s, e.a, e.b));
            break;
        case EV_ARRIVE: {
            uint32_t c = e.b & 0x7fffffffu;
            s->jobs[e.a].at = (e.b >> 31) ? c : (uint32_t)s->parent[c];
            EAI_TRY(advance(s, e.a));
            break;
        }
        case EV_RETX:
            EAI_TRY(link_send(s, e.a, e.b & 0x7fffffffu, (int)(e.b >> 31)));
            break;
        case EV_FL_ROUND:
            EAI_TRY(on_round(s, e.a));
            break;
        }
    }
    finish(s, last > s->t_gen_end ? last : s->t_gen_end);
    return EAI_OK;
}

eai_status_t eai_topo_simulate(const eai_topo_t *t, eai_topo_arch_t arch,
                               const eai_topo_sim_opts_t *o, eai_topo_result_t *out)
{
    if (!t || !out) return eai_fail(EAI_E_INVALID, "eai_topo_simulate: NULL argument");
    if ((unsigned)arch >= EAI_TOPO_N_ARCH)
        return eai_fail(EAI_E_INVALID, "eai_topo_simulate: architecture %d out of range", arch);
    eai_topo_sim_opts_t opts = o ? *o : (eai_topo_sim_opts_t){0};
    if (opts.duration_s < 0 || !isfinite(opts.duration_s) ||
        (opts.set_offload && !(opts.offload >= 0 && opts.offload <= 1)) || opts.device_count < 0)
        return eai_fail(EAI_E_INVALID, "eai_topo_simulate: duration_s must be >= 0, offload in "
                                       "[0, 1], device_count >= 0");
    eai_topo_result_t r = {.arch = arch, .n_links = t->n_links};
    for (int i = 0; i < t->n_links; i++) {
        r.links[i].from = t->links[i].from;
        r.links[i].to = t->links[i].to;
    }
    sim_t s = {.t = t, .arch = arch, .a = opts.alloc ? opts.alloc : &t->alloc, .r = &r};
    uint64_t seed = opts.seed ? opts.seed : t->seed;
    for (int i = 0; i < 4; i++)
        s.rng[i] = splitmix(&seed);
    s.t_gen_end = opts.duration_s > 0 ? opts.duration_s : t->duration_s;
    /* drain: answers still in flight get as long again (at least 10 s) */
    s.t_stop = s.t_gen_end + (s.t_gen_end > 10 ? s.t_gen_end : 10);
    s.offload = opts.set_offload ? opts.offload : t->offload;
    for (int g = 0; g < t->n_groups; g++)
        s.count[g] = opts.device_count > 0 && t->groups[g].tier == EAI_TOPO_DEVICE
                         ? opts.device_count
                         : t->groups[g].count;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    eai_status_t st = run(&s);
    clock_gettime(CLOCK_MONOTONIC, &b);
    teardown(&s);
    if (st != EAI_OK) return st;
    r.wall_s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9;
    *out = r;
    return EAI_OK;
}

eai_status_t eai_topo_compare(const eai_topo_t *t, const eai_topo_sim_opts_t *o,
                              eai_topo_result_t out[EAI_TOPO_N_ARCH])
{
    for (int a = 0; a < EAI_TOPO_N_ARCH; a++)
        EAI_TRY(eai_topo_simulate(t, (eai_topo_arch_t)a, o, &out[a]));
    return EAI_OK;
}
