/* The signal sequencer shared by every controller: a policy picks the green
 * stage, the sequencer owns safety and fairness (minimum and maximum green,
 * yellow then all-red before every change, the maximum-wait guard) and the
 * per-cycle waiting-time estimates. Time advances only through observations,
 * so tests drive it step by step without SUMO. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/core_impl.h"
#include "traffic/traffic_impl.h"

#define LOST_STARTUP_S 2.0 /* start-up lost time per green (HCM) */
#define CYCLE_MAX_S    300.0

static bool green(char c)
{
    return c == 'G' || c == 'g';
}

void eai__tl_opts_resolve(const eai_tl_model_t *m, const eai_tl_opts_t *in, eai_tl_opts_t *o)
{
    static const eai_tl_opts_t zero;
    *o = in ? *in : zero;
    if (o->min_green_s <= 0) o->min_green_s = 5;
    if (o->max_green_s <= 0) o->max_green_s = 60;
    if (o->max_green_s < o->min_green_s) o->max_green_s = o->min_green_s;
    if (o->yellow_s <= 0) o->yellow_s = m->yellow_s > 0 ? m->yellow_s : 3;
    /* 1 s of all-red clears the box (no emergency braking in any benchmark
     * run) and costs less capacity than 2 s on every change: with 4 stages
     * and max-pressure's frequent changes, 2 s cost 20-30% more waiting
     * (bench/issue7.py). */
    if (o->all_red_s == 0) o->all_red_s = 1;
    if (o->all_red_s < 0) o->all_red_s = 0;
    /* 30 s bounds the worst movement (a light left turn) near SUMO
     * actuated's, and lowers the mean too (bench/issue7.py). */
    if (o->max_wait_s <= 0) o->max_wait_s = 30;
    if (o->sat_flow_vph <= 0) o->sat_flow_vph = 1800;
    if (o->lost_per_stage_s <= 0) o->lost_per_stage_s = o->yellow_s + o->all_red_s;
    if (o->replan_cycles <= 0) o->replan_cycles = 3;
    if (o->min_cycle_s <= 0) o->min_cycle_s = 40;
    if (o->max_cycle_s <= 0) o->max_cycle_s = 120;
    if (o->max_cycle_s < o->min_cycle_s) o->max_cycle_s = o->min_cycle_s;
    if (o->initial_flow_vph <= 0) o->initial_flow_vph = 300;
    if (o->extend_s < 0) o->extend_s = 0;
    if (o->switch_margin <= 0) o->switch_margin = 1;
    if (o->pressure_weight_wait <= 0) o->pressure_weight_wait = 0.15;
    if (o->flow_tau_s <= 0) o->flow_tau_s = 300;
    if (o->plan_tau_s <= 0) o->plan_tau_s = 300;
    /* a left turner that waited inside the box needs a few seconds to clear
     * once the opposing flow stops, a truck (10 m, 1.3 m/s^2) up to 6 s
     * (the braking left under a 3 s cap was behind trucks still clearing).
     * Longer holds would only wait out a jammed exit. */
    if (o->clear_hold_s == 0) o->clear_hold_s = 6;
    /* a stranded turner (eai__tl_turner_stranded) holds its foes one step
     * longer: a moving start for the turner, enough to end its braking events
     * (seeds 1-15); 2 s cost max-pressure +37% wait on surge, 1 s +12%
     * (docs/traffic.md) */
    if (o->turner_hold_s == 0) o->turner_hold_s = 1;
}

void eai_tl_controller_destroy(eai_tl_controller_t *c)
{
    if (!c) return;
    eai_allocator_t al = c->o.alloc;
    const eai_allocator_t *a = &al;
    if (c->vt && c->vt->destroy) c->vt->destroy(c->self);
    void *ptrs[] = {c->held,     c->state,        c->prev,     c->flow_vph, c->red_wait_s,
                    c->served,   c->green_lane_s, c->arr_lane, c->acc,      c->est,
                    c->est_q_vs, c->est_w_vs,     c->est_q_n,  c->est_w_n};
    for (size_t i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++)
        eai__free(a, ptrs[i]);
    eai__free(a, c);
}

eai_status_t eai_tl_controller_create_custom(const eai_tl_model_t *m,
                                             const eai_tl_controller_vtable_t *vt, void *self,
                                             const eai_tl_opts_t *o, eai_tl_controller_t **out)
{
    if (!m || !vt || !vt->decide || !out) {
        if (vt && vt->destroy) vt->destroy(self);
        return eai_fail(EAI_E_INVALID, "traffic: controller: NULL model, policy or out");
    }
    if (o && (o->min_green_s < 0 || o->max_green_s < 0 || o->yellow_s < 0 || o->max_wait_s < 0 ||
              o->sat_flow_vph < 0)) {
        if (vt->destroy) vt->destroy(self);
        return eai_fail(EAI_E_INVALID, "traffic: controller: negative duration or flow option");
    }
    const eai_allocator_t *a = o ? &o->alloc : NULL;
    eai_tl_controller_t *c = eai__calloc(a, 1, sizeof *c);
    if (!c) {
        if (vt->destroy) vt->destroy(self);
        return eai_fail(EAI_E_NOMEM, "traffic: out of memory for a controller");
    }
    eai__tl_opts_resolve(m, o, &c->o);
    c->m = m;
    c->vt = vt;
    c->self = self;
    size_t ni = (size_t)(m->n_in ? m->n_in : 1),
           na = (size_t)(m->n_approaches ? m->n_approaches : 1);
    c->state = eai__calloc(a, (size_t)m->n_signals + 1, 1);
    c->prev = eai__calloc(a, (size_t)m->n_signals + 1, 1);
    c->held = eai__calloc(a, (size_t)m->n_signals + 1, 1);
    c->flow_vph = eai__calloc(a, ni, sizeof *c->flow_vph);
    c->red_wait_s = eai__calloc(a, ni, sizeof *c->red_wait_s);
    c->served = eai__calloc(a, (size_t)m->n_stages, sizeof *c->served);
    c->green_lane_s = eai__calloc(a, ni, sizeof *c->green_lane_s);
    c->arr_lane = eai__calloc(a, ni, sizeof *c->arr_lane);
    c->acc = eai__calloc(a, na, sizeof *c->acc);
    c->est = eai__calloc(a, na, sizeof *c->est);
    c->est_q_vs = eai__calloc(a, na, sizeof *c->est_q_vs);
    c->est_w_vs = eai__calloc(a, na, sizeof *c->est_w_vs);
    c->est_q_n = eai__calloc(a, na, sizeof *c->est_q_n);
    c->est_w_n = eai__calloc(a, na, sizeof *c->est_w_n);
    if (!c->state || !c->prev || !c->held || !c->flow_vph || !c->red_wait_s || !c->served ||
        !c->green_lane_s || !c->arr_lane || !c->acc || !c->est || !c->est_q_vs || !c->est_w_vs ||
        !c->est_q_n || !c->est_w_n) {
        eai_tl_controller_destroy(c);
        return eai_fail(EAI_E_NOMEM, "traffic: out of memory for a controller");
    }
    for (int i = 0; i < m->n_approaches; i++)
        c->est[i].queue_last_s = c->est[i].queue_mean_s = c->est[i].webster_last_s =
            c->est[i].webster_mean_s = -1;
    *out = c;
    return EAI_OK;
}

eai_status_t eai_tl_controller_create(const eai_tl_model_t *m, eai_tl_kind_t kind,
                                      const eai_tl_opts_t *o, eai_tl_controller_t **out)
{
    if (!m || !out) return eai_fail(EAI_E_INVALID, "traffic: controller: NULL model or out");
    eai_tl_opts_t r;
    eai__tl_opts_resolve(m, o, &r);
    const eai_tl_controller_vtable_t *vt = NULL;
    void *self = NULL;
    if (kind == EAI_TL_WEBSTER)
        EAI_TRY(eai__tl_webster_new(m, &r, &vt, &self));
    else if (kind == EAI_TL_MAXPRESSURE)
        EAI_TRY(eai__tl_maxpressure_new(m, &r, &vt, &self));
    else
        return eai_fail(EAI_E_INVALID, "traffic: unknown controller kind %d", (int)kind);
    static const eai_tl_opts_t zero;
    eai_tl_opts_t oo = o ? *o : zero;
    /* Webster's default: no turner hold. Its plan skips the protected left
     * stage only when the maximum-wait guard jumps, and there the 1 s hold
     * was too short for a second turner in line (still 1 braking in 5 surge
     * runs and a new one on balanced) while its surge wait rose from 1.08x
     * to 1.20x SUMO actuated (docs/traffic.md) */
    if (kind == EAI_TL_WEBSTER && oo.turner_hold_s == 0) oo.turner_hold_s = -1;
    return eai_tl_controller_create_custom(m, vt, self, &oo, out);
}

const char *eai_tl_controller_name(const eai_tl_controller_t *c)
{
    return c && c->vt && c->vt->name ? c->vt->name : "?";
}

/* Clearance states from stage `from` to stage `to`: signals green in both
 * stay as they were; green only in `from` show yellow, then red. A
 * protected green that turns permissive ('G' to 'g') clears like an ending
 * one, as SUMO's own programs do: a turner that entered at speed under 'G'
 * would otherwise have to yield, braking hard, inside the box to the
 * opposing flow the new stage starts. */
static void transition_state(const eai_tl_controller_t *c, bool yellow, char *dst)
{
    const char *f = c->m->stages[c->stage].state, *t = c->m->stages[c->target].state;
    for (int k = 0; k < c->m->n_signals; k++) {
        if (yellow && dst[k] == 'r' && green(f[k]))
            dst[k] = 'r'; /* held by the clearance hold: never shown green */
        else if (green(f[k]) && green(t[k]) && !(f[k] == 'G' && t[k] == 'g'))
            dst[k] = f[k];
        else if (green(f[k]))
            dst[k] = yellow ? 'y' : 'r';
        else
            dst[k] = green(t[k]) ? 'r' : t[k];
    }
    dst[c->m->n_signals] = '\0';
}

static void view_of(const eai_tl_controller_t *c, bool must_change, eai_tl_view_t *v)
{
    *v = (eai_tl_view_t){.model = c->m,
                         .t_s = c->t_s,
                         .stage = c->stage,
                         .green_s = c->t_mode,
                         .must_change = must_change,
                         .flow_vph = c->flow_vph,
                         .red_wait_s = c->red_wait_s,
                         .yellow_s = c->o.yellow_s,
                         .all_red_s = c->o.all_red_s,
                         .min_green_s = c->o.min_green_s,
                         .max_green_s = c->o.max_green_s,
                         .held_s = c->held_s};
}

/* The stage that serves the longest-starved lane, or -1 when none is over
 * the limit. Prefers a stage giving it priority green ('G'). */
static int starved_stage(const eai_tl_controller_t *c)
{
    const eai_tl_model_t *m = c->m;
    int worst = -1;
    for (int l = 0; l < m->n_in; l++)
        if (c->red_wait_s[l] >= c->o.max_wait_s &&
            (worst < 0 || c->red_wait_s[l] > c->red_wait_s[worst]))
            worst = l;
    if (worst < 0) return -1;
    int best = -1, best_v = 0;
    for (int s = 0; s < m->n_stages; s++) {
        int v = m->serves[(size_t)s * (size_t)m->n_in + (size_t)worst];
        if (v > best_v) best = s, best_v = v;
    }
    return best;
}

/* Whether a vehicle arrives at speed on a lane switched by `signal`: one
 * that starts from the stop line sees the conflict and waits at no risk. */
static bool signal_arriving(const eai_tl_model_t *m, int signal, const int *arriving)
{
    if (!arriving) return true;
    for (int k = 0; k < m->n_links; k++)
        if (m->links[k].signal == signal && arriving[m->links[k].in_lane] > 0) return true;
    return false;
}

/* Whether signal j, turning green from state `from` to `to`, must wait:
 * a vehicle stands on an internal lane of a signal i that is not green in
 * `to` and whose movement crosses j's (a left turner that waited inside the
 * box for the opposing flow, a late through vehicle), while a vehicle
 * arrives at speed on j's lane. A vehicle that starts from the stop line
 * sees the conflict and waits at no risk; one at speed may have to brake
 * hard inside the box (SUMO's emergency braking). Signals green in both
 * stages had their conflicts settled under SUMO's rules already. */
bool eai__tl_signal_blocked(const eai_tl_model_t *m, const char *from, const char *to, int j,
                            const int *box_veh, const int *arriving)
{
    if (!box_veh || !m->conflict || m->n_box <= 0 || !green(to[j]) || green(from[j])) return false;
    if (!signal_arriving(m, j, arriving)) return false;
    size_t ns = (size_t)m->n_signals;
    for (int b = 0; b < m->n_box; b++) {
        int i = m->box_signal[b];
        if (box_veh[b] > 0 && !green(to[i]) && m->conflict[(size_t)i * ns + (size_t)j]) {
            return true;
        }
    }
    return false;
}

/* Whether a turner is stranded in the box across signal j's movement: a
 * vehicle on an internal lane of a signal i that was permissive ('g') in
 * `from`, is not green in `to` and crosses j, which turns green. It waited
 * for a gap in a flow that has stopped; if j's stream starts at once, it
 * stops again and, seconds later, takes a gap in front of a car that
 * started from j's queue and is at speed by then, or one that was beyond the
 * near detectors at the green's start (every emergency braking left in
 * bench/issue7.py seeds 1-15, docs/traffic.md). The arriving test of
 * eai__tl_signal_blocked cannot see either. */
bool eai__tl_turner_stranded(const eai_tl_model_t *m, const char *from, const char *to, int j,
                             const int *box_veh)
{
    if (!box_veh || !m->conflict || m->n_box <= 0 || !green(to[j]) || green(from[j])) return false;
    size_t ns = (size_t)m->n_signals;
    for (int b = 0; b < m->n_box; b++) {
        int i = m->box_signal[b];
        if (box_veh[b] > 0 && from[i] == 'g' && !green(to[i]) &&
            m->conflict[(size_t)i * ns + (size_t)j])
            return true;
    }
    return false;
}

bool eai__tl_all_red_needed(const eai_tl_model_t *m, const char *from, const char *to,
                            const int *box_veh, const int *arriving)
{
    if (!box_veh || !m->conflict || m->n_box <= 0) return true;
    for (int j = 0; j < m->n_signals; j++)
        if (eai__tl_signal_blocked(m, from, to, j, box_veh, arriving)) return true;
    return false;
}

/* All-red on demand: at the end of a yellow, the all-red runs only when the
 * clearance hold would hold some newly green signal (a crossing foe still in
 * the box and a vehicle at speed on the signal's lane); otherwise the next
 * green starts at once. Without the hold or the box there is no such test,
 * so every change gets it. Why: with max-pressure's short cycles the 1 s
 * all-red is a quarter of each change's clearance, and on surge demand an
 * all-red on every change cost 31% more waiting than on demand, with no
 * more emergency braking (docs/traffic.md, Benchmark). */
static bool all_red_needed(const eai_tl_controller_t *c, const eai_tl_obs_t *obs)
{
    if (c->o.all_red_always || c->o.clear_hold_s <= 0) return true;
    const eai_tl_model_t *m = c->m;
    return eai__tl_all_red_needed(m, m->stages[c->stage].state, m->stages[c->target].state,
                                  obs->box_veh, obs->arriving);
}

static void close_cycle(eai_tl_controller_t *c)
{
    const eai_tl_model_t *m = c->m;
    double C = c->t_s - c->cycle_start;
    if (C <= 0) return;
    double s_vps = c->o.sat_flow_vph / 3600.0;
    for (int a = 0; a < m->n_approaches; a++) {
        eai_tl_estimate_t *e = &c->est[a];
        eai__tl_acc_t *acc = &c->acc[a];
        double qsum = 0, dsum = 0, gsum = 0;
        int nl = 0;
        for (int l = 0; l < m->n_in; l++) {
            if (m->in[l].approach != a) continue;
            double q = (double)c->arr_lane[l] / C, g = c->green_lane_s[l];
            if (g > C) g = C;
            double d = eai_tl_webster_delay(C, g, q, s_vps);
            qsum += q;
            dsum += q * d;
            gsum += g;
            nl++;
        }
        e->webster_last_s = qsum > 0 ? dsum / qsum : -1;
        e->queue_last_s = acc->dep > 0 ? acc->halt_vs / (double)acc->dep : -1;
        e->flow_vph = qsum * 3600.0;
        e->green_ratio = nl ? gsum / nl / C : 0;
        e->departures += acc->dep;
        e->arrivals += acc->arr;
        if (acc->dep > 0) {
            c->est_q_vs[a] += acc->halt_vs;
            c->est_q_n[a] += acc->dep;
            e->queue_mean_s = c->est_q_vs[a] / (double)c->est_q_n[a];
        }
        if (qsum > 0 && acc->arr > 0) {
            c->est_w_vs[a] += e->webster_last_s * (double)acc->arr;
            c->est_w_n[a] += acc->arr;
            e->webster_mean_s = c->est_w_vs[a] / (double)c->est_w_n[a];
        }
        *acc = (eai__tl_acc_t){0};
    }
    for (int l = 0; l < m->n_in; l++)
        c->green_lane_s[l] = 0, c->arr_lane[l] = 0;
    for (int s = 0; s < m->n_stages; s++)
        c->served[s] = false;
    c->n_cycles++;
    if (c->vt->on_cycle) {
        eai_tl_view_t v;
        view_of(c, false, &v);
        c->vt->on_cycle(c->self, &v, C);
    }
    c->cycle_start = c->t_s;
}

/* Bookkeeping for the step just simulated under the state shown (c->state). */
static void account(eai_tl_controller_t *c, const eai_tl_obs_t *obs)
{
    const eai_tl_model_t *m = c->m;
    double dt = obs->dt_s, alpha = dt / c->o.flow_tau_s;
    if (alpha > 1) alpha = 1;
    for (int l = 0; l < m->n_in; l++) {
        /* permissive green ('g') moves the lane only when the opposing flow
         * leaves gaps: it counts as green time but not as service for the
         * max-wait guard, else heavy opposing traffic starves left turns */
        bool served = false, prio = false;
        for (int i = 0; i < m->n_links; i++)
            if (m->links[i].in_lane == l) {
                char ch = c->state[m->links[i].signal];
                served |= green(ch) || ch == 'y' || ch == 'Y';
                prio |= ch == 'G';
            }
        if (served) c->green_lane_s[l] += dt;
        if (prio) {
            c->red_wait_s[l] = 0;
        } else if (obs->queue[l] >= 0.5) {
            c->red_wait_s[l] += dt;
        } else {
            c->red_wait_s[l] = 0;
        }
        int arr = obs->arrivals ? obs->arrivals[l] : obs->departures ? obs->departures[l] : 0;
        c->flow_vph[l] += alpha * ((double)arr * 3600.0 / dt - c->flow_vph[l]);
        c->arr_lane[l] += arr;
        eai__tl_acc_t *acc = &c->acc[m->in[l].approach];
        acc->halt_vs += obs->queue[l] * dt;
        acc->arr += arr;
        acc->dep += obs->departures ? obs->departures[l] : 0;
    }
}

/* The clearance hold: newly green signals whose conflicts are still in the
 * box show red a little longer, each released on its own (the rest of the
 * stage starts at once). Called when a green starts (start = true) and on
 * every green step while a signal is held. */
static void clear_hold(eai_tl_controller_t *c, const eai_tl_obs_t *obs, bool start)
{
    const eai_tl_model_t *m = c->m;
    const char *from = m->stages[c->from].state, *to = m->stages[c->stage].state;
    bool any = false, expired = c->t_mode + 1e-9 >= c->o.clear_hold_s;
    for (int j = 0; j < m->n_signals; j++) {
        if (!start && !c->held[j]) continue;
        bool on = !expired && c->o.clear_hold_s > 0;
        bool h = on && (eai__tl_signal_blocked(m, from, to, j, obs->box_veh, obs->arriving) ||
                        (c->t_mode + 1e-9 < c->o.turner_hold_s &&
                         eai__tl_turner_stranded(m, from, to, j, obs->box_veh)));
        c->held[j] = h;
        c->state[j] = h ? 'r' : to[j];
        any |= h;
    }
    c->holding = any;
}

/* Starts a green. A cycle is a run of distinct stages: showing a stage again
 * closes the cycle first (so its lost time lands in the next one). */
static void clear_hold(eai_tl_controller_t *c, const eai_tl_obs_t *obs, bool start);

static bool enter_green(eai_tl_controller_t *c, int stage, const eai_tl_obs_t *obs)
{
    bool closed = false;
    c->from = c->stage;
    c->held_s = 0;
    if (c->served[stage]) {
        close_cycle(c);
        closed = true;
    }
    c->mode = EAI_TL_GREEN;
    c->stage = c->target = stage;
    c->t_mode = 0;
    c->served[stage] = true;
    /* start-up lost time is not effective green */
    for (int l = 0; l < c->m->n_in; l++)
        if (c->m->serves[(size_t)stage * (size_t)c->m->n_in + (size_t)l])
            c->green_lane_s[l] -= LOST_STARTUP_S;
    memcpy(c->state, c->m->stages[stage].state, (size_t)c->m->n_signals + 1);
    clear_hold(c, obs, true);
    return closed;
}

eai_status_t eai_tl_controller_step(eai_tl_controller_t *c, const eai_tl_obs_t *obs,
                                    eai_tl_out_t *out)
{
    if (!c || !obs || !out || !obs->queue || !(obs->dt_s > 0))
        return eai_fail(EAI_E_INVALID,
                        "traffic: controller step needs an observation with queues and dt > 0");
    const eai_tl_model_t *m = c->m;
    bool forced = false, cycle_done = false;
    memcpy(c->prev, c->state, (size_t)m->n_signals + 1);
    c->t_s = obs->t_s;
    if (!c->started) {
        c->started = true;
        c->cycle_start = obs->t_s;
        enter_green(c, 0, obs);
        if (c->vt->observe) {
            eai_tl_view_t v;
            view_of(c, false, &v);
            c->vt->observe(c->self, &v, obs);
        }
        *out = (eai_tl_out_t){.state = c->state, .changed = true, .mode = c->mode, .stage = 0};
        return EAI_OK;
    }
    account(c, obs);
    c->t_mode += obs->dt_s;
    eai_tl_view_t v;
    view_of(c, false, &v);
    if (c->vt->observe) c->vt->observe(c->self, &v, obs);
    const double eps = 1e-9;
    switch (c->mode) {
    case EAI_TL_GREEN:
        if (c->holding) {
            c->held_s += obs->dt_s;
            clear_hold(c, obs, false);
        }
        /* the minimum green counts from the hold's release: a green ended
         * while its signals were still held red would serve nothing and,
         * with turners stranded at most changes (surge), starve the stage */
        if (c->t_mode - c->held_s + eps >= c->o.min_green_s) {
            bool must = c->t_mode + eps >= c->o.max_green_s && m->n_stages > 1;
            int want = starved_stage(c);
            if (want >= 0 && want != c->stage) {
                forced = true;
            } else {
                view_of(c, must, &v);
                want = c->vt->decide(c->self, &v, obs);
                if (want < 0 || want >= m->n_stages) want = c->stage;
                if (must && want == c->stage) want = (c->stage + 1) % m->n_stages;
                forced = must;
            }
            if (want != c->stage) {
                c->target = want;
                c->mode = EAI_TL_YELLOW;
                c->t_mode = 0;
                transition_state(c, true, c->state);
            }
        }
        break;
    case EAI_TL_YELLOW:
        if (c->t_mode + eps >= c->o.yellow_s) {
            if (c->o.all_red_s > 0 && all_red_needed(c, obs)) {
                c->mode = EAI_TL_ALL_RED;
                c->t_mode = 0;
                transition_state(c, false, c->state);
            } else {
                cycle_done = enter_green(c, c->target, obs);
            }
        }
        break;
    case EAI_TL_ALL_RED:
        if (c->t_mode + eps >= c->o.all_red_s) cycle_done = enter_green(c, c->target, obs);
        break;
    }
    if (!cycle_done && c->t_s - c->cycle_start + eps >= CYCLE_MAX_S) {
        close_cycle(c); /* one stage held for long: publish anyway */
        for (int s = 0; s < m->n_stages; s++)
            c->served[s] = s == c->stage && c->mode == EAI_TL_GREEN;
        cycle_done = true;
    }
    *out = (eai_tl_out_t){.state = c->state,
                          .changed = strcmp(c->state, c->prev) != 0,
                          .mode = c->mode,
                          .stage = c->mode == EAI_TL_GREEN ? c->stage : c->target,
                          .cycle_done = cycle_done,
                          .forced = forced};
    return EAI_OK;
}

const eai_tl_estimate_t *eai_tl_controller_estimates(const eai_tl_controller_t *c, int *n_cycles)
{
    if (n_cycles) *n_cycles = c ? c->n_cycles : 0;
    return c ? c->est : NULL;
}
