/* The built-in policies: Webster's fixed-time plan re-planned from measured
 * flows, and max-pressure (the stage whose served lanes hold the most
 * vehicles net of their exits), plus Webster's two formulas. */
#include <math.h>
#include <string.h>

#include "core/core_impl.h"
#include "traffic/traffic_impl.h"

double eai_tl_webster_plan(const double *y, int n, double lost_s, double min_c, double max_c,
                           double *greens)
{
    double Y = 0;
    for (int i = 0; i < n; i++)
        Y += y[i] > 0 ? y[i] : 0;
    double c0 = Y >= 0.95 ? max_c : (1.5 * lost_s + 5.0) / (1.0 - Y);
    if (c0 < min_c) c0 = min_c;
    if (c0 > max_c) c0 = max_c;
    double eff = c0 - lost_s;
    if (eff < 0) eff = 0;
    for (int i = 0; greens && i < n; i++)
        greens[i] = Y > 0 ? (y[i] > 0 ? y[i] : 0) / Y * eff : eff / n;
    return c0;
}

double eai_tl_webster_plan_min_delay(const double *y, const double *q, int n, double lost_s,
                                     double min_c, double max_c, double *greens)
{
    double Y = 0;
    for (int i = 0; i < n; i++)
        Y += y[i] > 0 ? y[i] : 0;
    if (max_c < min_c) max_c = min_c;
    double best_c = Y >= 0.95 ? max_c : min_c, best_d = INFINITY;
    /* the delay is smooth and unimodal in c between the bounds: a 0.5 s
     * scan costs a few hundred formula calls, once per re-plan */
    for (double c = min_c; Y < 0.95 && c <= max_c + 1e-9; c += 0.5) {
        double eff = c - lost_s, tot = 0;
        if (eff <= 0) continue;
        for (int i = 0; i < n; i++) {
            if (!(y[i] > 0) || !(q[i] > 0)) continue;
            tot += q[i] * eai_tl_webster_delay(c, y[i] / Y * eff, q[i], q[i] / y[i]);
        }
        if (tot < best_d - 1e-12) best_d = tot, best_c = c;
    }
    double eff = best_c - lost_s;
    if (eff < 0) eff = 0;
    for (int i = 0; greens && i < n; i++)
        greens[i] = Y > 0 ? (y[i] > 0 ? y[i] : 0) / Y * eff : eff / n;
    return best_c;
}

double eai_tl_webster_delay(double c, double g, double q, double s)
{
    if (!(c > 0) || !(s > 0)) return 0;
    if (g < 0) g = 0;
    if (g > c) g = c;
    double l = g / c;
    if (!(q > 0)) return c * (1 - l) * (1 - l) / 2.0;
    double x = l > 0 ? q / (l * s) : 1.0;
    if (x > 0.98) x = 0.98;
    double d1 = c * (1 - l) * (1 - l) / (2.0 * (1 - l * x));
    double d2 = x * x / (2.0 * q * (1 - x));
    double d3 = 0.65 * cbrt(c / (q * q)) * pow(x, 2 + 5 * l);
    double d = d1 + d2 - d3;
    return d > 0 ? d : 0;
}

/* ---- Webster ------------------------------------------------------------ */

#define SAT_MIN_S     60.0 /* seconds of saturated green before a measured s is used */
#define SAT_STARTUP_S 2.0  /* start-up seconds left out of the saturation measure */

double eai__tl_lane_demand(double arr, long dep_perm, double q_start, double q_end)
{
    double d = arr - (double)dep_perm + (q_end - q_start);
    return d > 0 ? d : 0;
}

double eai__tl_smooth(double prev, double x, double window_s, double tau_s, int n_prev)
{
    if (n_prev <= 0) return x;
    double al = tau_s > 0 ? 1.0 - exp(-window_s / tau_s) : 1.0;
    /* a running mean while fewer plans than the time constant spans: the
     * first plans follow the measurements, not the guessed start */
    if (al < 1.0 / (n_prev + 1)) al = 1.0 / (n_prev + 1);
    return prev + al * (x - prev);
}

double eai__tl_sat_flow(double dep, double secs, double fallback_vph)
{
    return secs >= SAT_MIN_S && dep > 0 ? dep / secs * 3600.0 : fallback_vph;
}

typedef struct webster {
    const eai_tl_model_t *m;
    eai_tl_opts_t o;
    double *greens;          /* per stage, displayed green */
    double *y;               /* scratch per stage: flow ratio */
    double *qc;              /* scratch per stage: the critical lane's flow (veh/s) */
    long *count;             /* arrivals per in-lane since the last plan */
    long *dep;               /* departures per in-lane since the last plan */
    long *dep_perm;          /* of dep: under a permissive-only ('g') stage */
    double *q0, *q_last;     /* halting per in-lane when the window began / now */
    double *dem;             /* smoothed demand per in-lane (veh/h) */
    double *sat_dep, *sat_s; /* departures and seconds of saturated priority green */
    int last_stage;
    bool seen;    /* an observation came: q0 holds the window's first queue */
    bool ending;  /* decide asked for the next stage: clearance until it starts */
    double since; /* seconds since the last plan */
    int cycles, n_plans;
    bool planned; /* a plan from measured flows exists */
    double cycle;
    eai_allocator_t a;
} webster_t;

/* Flow ratio of each stage: the largest q/s over lanes that get priority
 * green in it (a lane green in k stages counts 1/k in each; lanes green in
 * every stage need no time). */
static void webster_replan(webster_t *w, const double *q_vph)
{
    const eai_tl_model_t *m = w->m;
    for (int s = 0; s < m->n_stages; s++)
        w->y[s] = w->qc[s] = 0;
    for (int l = 0; l < m->n_in; l++) {
        int k = 0;
        for (int s = 0; s < m->n_stages; s++)
            k += m->serves[(size_t)s * (size_t)m->n_in + (size_t)l] == 2;
        if (k == 0 || k == m->n_stages) continue;
        double sat = w->o.sat_flow_fixed
                         ? w->o.sat_flow_vph
                         : eai__tl_sat_flow(w->sat_dep[l], w->sat_s[l], w->o.sat_flow_vph);
        double r = q_vph[l] / (sat * k);
        for (int s = 0; s < m->n_stages; s++)
            if (m->serves[(size_t)s * (size_t)m->n_in + (size_t)l] == 2 && r > w->y[s])
                w->y[s] = r, w->qc[s] = q_vph[l] / k / 3600.0;
    }
    double L = w->o.lost_per_stage_s * m->n_stages;
    /* the closed-form C0: eai_tl_webster_plan_min_delay's numeric optimum
     * was no better in control (balanced, 3 seeds: 15.3 s vs 14.6 s) */
    w->cycle =
        eai_tl_webster_plan(w->y, m->n_stages, L, w->o.min_cycle_s, w->o.max_cycle_s, w->greens);
    for (int s = 0; s < m->n_stages; s++) {
        if (w->greens[s] < w->o.min_green_s) w->greens[s] = w->o.min_green_s;
        if (w->greens[s] > w->o.max_green_s) w->greens[s] = w->o.max_green_s;
    }
}

/* Counts per lane: departures (and those under a permissive-only stage),
 * the halting queue, and the saturation measure: departures per second of
 * the lane's priority green while vehicles still stood queued (the previous
 * step's halting >= 2), past the start-up seconds, up to the step the
 * policy asked for the next stage (the clearance after it is not green). */
static void webster_observe(void *self, const eai_tl_view_t *v, const eai_tl_obs_t *obs)
{
    webster_t *w = self;
    const eai_tl_model_t *m = w->m;
    if (v->stage != w->last_stage) w->ending = false;
    for (int l = 0; l < m->n_in; l++) {
        int d = obs->departures ? obs->departures[l] : 0;
        int sv = m->serves[(size_t)v->stage * (size_t)m->n_in + (size_t)l];
        w->count[l] += obs->arrivals ? obs->arrivals[l] : d;
        w->dep[l] += d;
        if (sv == 1) w->dep_perm[l] += d;
        if (!w->ending && v->stage == w->last_stage && sv == 2 &&
            v->green_s > SAT_STARTUP_S + 1e-9 && w->q_last[l] >= 2)
            w->sat_dep[l] += d, w->sat_s[l] += obs->dt_s;
        w->q_last[l] = obs->queue[l];
        if (!w->seen) w->q0[l] = obs->queue[l];
    }
    w->seen = true;
    w->last_stage = v->stage;
}

static int webster_decide(void *self, const eai_tl_view_t *v, const eai_tl_obs_t *obs)
{
    webster_t *w = self;
    (void)obs;
    /* a fixed plan's green is the time its lanes actually had: the
     * clearance hold's seconds do not count (else under saturation the
     * held seconds are lost capacity every cycle) */
    if (v->green_s - v->held_s + 1e-9 < w->greens[v->stage]) return v->stage;
    w->ending = true;
    return (v->stage + 1) % w->m->n_stages;
}

/* Re-plans every replan_cycles cycles (the first after one cycle: the
 * start plan runs on a guessed flow). The demand of a lane over the window
 * is what priority green must serve: arrivals into the detector zone,
 * plus the growth of its halting queue (a queue that spills past the zone
 * caps the arrivals it sees: growth weighs in again; bench/issue7.py: surge
 * 1.12 -> 1.08, grid 1.11 -> 1.05 of actuated's wait against departures +
 * growth), less the departures under permissive green (left turners served in the
 * opposing through stage's gaps need no time of their own). */
static void webster_on_cycle(void *self, const eai_tl_view_t *v, double cycle_s)
{
    webster_t *w = self;
    (void)v;
    w->since += cycle_s;
    if ((++w->cycles < w->o.replan_cycles && w->planned) || w->since <= 0) return;
    w->planned = true;
    double q[256];
    const eai_tl_model_t *m = w->m;
    if (m->n_in > 256) return;
    /* An arrival counts on the lane a vehicle entered the detector zone
     * on; turners then change into their pocket. Departures count on the
     * lane it left from: split each approach's arrivals like its departures. */
    for (int l = 0; l < m->n_in; l++)
        q[l] = (double)w->count[l];
    for (int a = 0; a < m->n_approaches; a++) {
        long A = 0, D = 0;
        for (int l = 0; l < m->n_in; l++)
            if (m->in[l].approach == a) A += w->count[l], D += w->dep[l];
        for (int l = 0; D > 0 && l < m->n_in; l++)
            if (m->in[l].approach == a) q[l] = (double)w->dep[l] * (double)A / (double)D;
    }
    for (int l = 0; l < m->n_in; l++) {
        double d = eai__tl_lane_demand(q[l], w->dep_perm[l], w->q0[l], w->q_last[l]);
        w->dem[l] =
            eai__tl_smooth(w->dem[l], d * 3600.0 / w->since, w->since, w->o.plan_tau_s, w->n_plans);
        q[l] = w->dem[l];
        w->count[l] = w->dep[l] = w->dep_perm[l] = 0;
        w->q0[l] = w->q_last[l];
    }
    w->n_plans++;
    webster_replan(w, q);
    w->cycles = 0;
    w->since = 0;
}

static void webster_destroy(void *self)
{
    webster_t *w = self;
    if (!w) return;
    eai_allocator_t a = w->a;
    void *ptrs[] = {w->greens, w->y,      w->qc,  w->count,   w->dep,  w->dep_perm,
                    w->q0,     w->q_last, w->dem, w->sat_dep, w->sat_s};
    for (size_t i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++)
        eai__free(&a, ptrs[i]);
    eai__free(&a, w);
}

static const eai_tl_controller_vtable_t webster_vt = {
    .name = "webster",
    .observe = webster_observe,
    .decide = webster_decide,
    .on_cycle = webster_on_cycle,
    .destroy = webster_destroy,
};

eai_status_t eai__tl_webster_new(const eai_tl_model_t *m, const eai_tl_opts_t *o,
                                 const eai_tl_controller_vtable_t **vt, void **self)
{
    if (m->n_in > 256)
        return eai_fail(EAI_E_UNSUPPORTED, "traffic: light '%s': %d lanes, Webster takes <= 256",
                        m->tls_id, m->n_in);
    const eai_allocator_t *a = &o->alloc;
    webster_t *w = eai__calloc(a, 1, sizeof *w);
    if (!w) return eai_fail(EAI_E_NOMEM, "traffic: out of memory");
    w->a = o->alloc;
    w->m = m;
    w->o = *o;
    size_t ni = (size_t)(m->n_in ? m->n_in : 1);
    w->greens = eai__calloc(a, (size_t)m->n_stages, sizeof *w->greens);
    w->y = eai__calloc(a, (size_t)m->n_stages, sizeof *w->y);
    w->qc = eai__calloc(a, (size_t)m->n_stages, sizeof *w->qc);
    w->count = eai__calloc(a, ni, sizeof *w->count);
    w->dep = eai__calloc(a, ni, sizeof *w->dep);
    w->dep_perm = eai__calloc(a, ni, sizeof *w->dep_perm);
    w->q0 = eai__calloc(a, ni, sizeof *w->q0);
    w->q_last = eai__calloc(a, ni, sizeof *w->q_last);
    w->dem = eai__calloc(a, ni, sizeof *w->dem);
    w->sat_dep = eai__calloc(a, ni, sizeof *w->sat_dep);
    w->sat_s = eai__calloc(a, ni, sizeof *w->sat_s);
    if (!w->greens || !w->y || !w->qc || !w->count || !w->dep || !w->dep_perm || !w->q0 ||
        !w->q_last || !w->dem || !w->sat_dep || !w->sat_s) {
        webster_destroy(w);
        return eai_fail(EAI_E_NOMEM, "traffic: out of memory");
    }
    double q[256];
    for (int l = 0; l < m->n_in; l++)
        q[l] = o->initial_flow_vph;
    webster_replan(w, q);
    *vt = &webster_vt;
    *self = w;
    return EAI_OK;
}

double eai_tl_controller_plan(const eai_tl_controller_t *c, const double **greens)
{
    if (greens) *greens = NULL;
    if (!c || c->vt != &webster_vt) return 0;
    const webster_t *w = c->self;
    if (greens) *greens = w->greens;
    return w->cycle;
}

/* ---- max-pressure ------------------------------------------------------- */

typedef struct maxp {
    const eai_tl_model_t *m;
    eai_tl_opts_t o;
    double hold_until;
    double *out_mean; /* scratch per in-lane: mean queue of its exits */
    eai_allocator_t a;
} maxp_t;

/* Pressure of stage s: over its served in-lanes, vehicles waiting to go
 * (queue, or all vehicles in the zone when known) minus what stands on their
 * exits, weighted 1 for priority green and 0.5 for permissive, plus a bonus
 * for how long the lane has waited (keeps the worst movement bounded). */
static double pressure(const maxp_t *p, const eai_tl_view_t *v, const eai_tl_obs_t *obs, int s)
{
    const eai_tl_model_t *m = p->m;
    double sum = 0;
    for (int l = 0; l < m->n_in; l++) {
        int sv = m->serves[(size_t)s * (size_t)m->n_in + (size_t)l];
        if (!sv) continue;
        double n = obs->queue[l];
        if (obs->n_veh && obs->n_veh[l] > n) n = 0.5 * (n + obs->n_veh[l]);
        double w = n - p->out_mean[l] + p->o.pressure_weight_wait * v->red_wait_s[l];
        sum += (sv == 2 ? 1.0 : 0.5) * w;
    }
    return sum;
}

static int maxp_decide(void *self, const eai_tl_view_t *v, const eai_tl_obs_t *obs)
{
    maxp_t *p = self;
    const eai_tl_model_t *m = p->m;
    if (v->t_s + 1e-9 < p->hold_until && !v->must_change) return v->stage;
    for (int l = 0; l < m->n_in; l++) {
        double s = 0;
        int n = 0;
        for (int i = 0; obs->out_queue && i < m->n_links; i++)
            if (m->links[i].in_lane == l && m->links[i].out_lane >= 0)
                s += obs->out_queue[m->links[i].out_lane], n++;
        p->out_mean[l] = n ? s / n : 0;
    }
    double cur = pressure(p, v, obs, v->stage);
    int best = -1;
    double best_p = -1e300;
    for (int s = 0; s < m->n_stages; s++) {
        if (s == v->stage) continue;
        double ps = pressure(p, v, obs, s);
        if (ps > best_p) best_p = ps, best = s;
    }
    /* switching costs yellow + all-red of lost capacity: only when another
     * stage clearly wins (or the current one has nothing left to serve) */
    if (best >= 0 &&
        (v->must_change || best_p > cur + p->o.switch_margin || (cur <= 0 && best_p > 0))) {
        p->hold_until = 0;
        return best;
    }
    p->hold_until = v->t_s + p->o.extend_s;
    return v->stage;
}

static void maxp_destroy(void *self)
{
    maxp_t *p = self;
    if (!p) return;
    eai_allocator_t a = p->a;
    eai__free(&a, p->out_mean);
    eai__free(&a, p);
}

static const eai_tl_controller_vtable_t maxp_vt = {
    .name = "maxpressure",
    .decide = maxp_decide,
    .destroy = maxp_destroy,
};

eai_status_t eai__tl_maxpressure_new(const eai_tl_model_t *m, const eai_tl_opts_t *o,
                                     const eai_tl_controller_vtable_t **vt, void **self)
{
    const eai_allocator_t *a = &o->alloc;
    maxp_t *p = eai__calloc(a, 1, sizeof *p);
    if (!p) return eai_fail(EAI_E_NOMEM, "traffic: out of memory");
    p->a = o->alloc;
    p->m = m;
    p->o = *o;
    p->out_mean = eai__calloc(a, (size_t)(m->n_in ? m->n_in : 1), sizeof *p->out_mean);
    if (!p->out_mean) {
        maxp_destroy(p);
        return eai_fail(EAI_E_NOMEM, "traffic: out of memory");
    }
    *vt = &maxp_vt;
    *self = p;
    return EAI_OK;
}
