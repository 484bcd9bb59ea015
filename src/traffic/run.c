/* eai_traffic_run: one scenario under one controller. Pass 1 starts SUMO to
 * read the lights (models, existing lane-area detectors, programs) and
 * writes an additional file; pass 2 runs with it, observing detectors every
 * step, letting edgeai's controllers set the signal state (or SUMO's own
 * program run), then reads SUMO's outputs into the report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/core_impl.h"
#include "traffic/run_impl.h"

#define MAX_IDS 2048 /* vehicles per approach zone per step */
/* Arrivals at speed for the clearance hold: a vehicle faster than NEAR_MPS
 * within NEAR_M of the stop line cannot wait comfortably for a conflict in
 * the box (13.9 m/s braking at 4.5 m/s^2 needs 21 m). */
#define NEAR_M   40.0
#define NEAR_MPS 6.0

static const char *const ctl_names[] = {NULL,          "webster",       "maxpressure",
                                        "sumo-static", "sumo-actuated", "sumo-delay"};

bool eai_traffic_ctl_parse(const char *s, eai_traffic_ctl_t *out)
{
    for (int i = 1; s && i <= EAI_TRAFFIC_SUMO_DELAY; i++)
        if (strcmp(s, ctl_names[i]) == 0) {
            *out = (eai_traffic_ctl_t)i;
            return true;
        }
    return false;
}

const char *eai_traffic_ctl_name(eai_traffic_ctl_t c)
{
    return c >= EAI_TRAFFIC_WEBSTER && c <= EAI_TRAFFIC_SUMO_DELAY ? ctl_names[c] : "?";
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

typedef struct light {
    eai_tl_model_t *m;
    eai_tl_controller_t *c;
    char (*det)[EAI_TL_ID_MAX]; /* per in-lane: E2 id */
    bool *det_added;            /* per in-lane: we add it */
    double *queue, *out_queue;
    const double **out_src; /* per out-lane: the queue measuring it, or NULL */
    int *n_veh, *arr, *dep;
    int *box_veh;                /* per model box lane: vehicles on it now */
    char (*near)[EAI_TL_ID_MAX]; /* per in-lane: E2 over the last NEAR_M, or "" */
    int *arriving;               /* per in-lane: vehicles on it faster than NEAR_MPS */
    eai_tl_idcount_t *cnt;       /* one detector group per approach */
    long *count;                 /* per approach: departures */
} light_t;

typedef struct run {
    const eai_traffic_run_opts_t *o;
    eai_allocator_t a;
    light_t *L;
    int n_l;
    char work[4096], add[4200], addl[8400];
    bool own_work;
    /* id scratch: copies of one approach's ids for one step */
    char (*ids)[EAI_TL_ID_MAX];
    const char **idp;
    int *tags;
} run_t;

static void light_free(const eai_allocator_t *a, light_t *l)
{
    eai_tl_controller_destroy(l->c);
    eai_tl_idcount_destroy(l->cnt);
    void *p[] = {l->det, l->det_added, l->queue, l->out_queue, l->out_src, l->n_veh,
                 l->arr, l->dep,       l->count, l->box_veh,   l->near,    l->arriving};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
        eai__free(a, p[i]);
    eai_tl_model_destroy(l->m);
}

static eai_status_t light_alloc(run_t *r, light_t *l)
{
    const eai_allocator_t *a = &r->a;
    size_t ni = (size_t)(l->m->n_in ? l->m->n_in : 1), no = (size_t)(l->m->n_out ? l->m->n_out : 1);
    l->det = eai__calloc(a, ni, sizeof *l->det);
    l->det_added = eai__calloc(a, ni, sizeof *l->det_added);
    l->queue = eai__calloc(a, ni, sizeof *l->queue);
    l->out_queue = eai__calloc(a, no, sizeof *l->out_queue);
    l->out_src = eai__calloc(a, no, sizeof *l->out_src);
    l->n_veh = eai__calloc(a, ni, sizeof *l->n_veh);
    l->arr = eai__calloc(a, ni, sizeof *l->arr);
    l->dep = eai__calloc(a, ni, sizeof *l->dep);
    l->count =
        eai__calloc(a, (size_t)(l->m->n_approaches ? l->m->n_approaches : 1), sizeof *l->count);
    l->box_veh = eai__calloc(a, (size_t)(l->m->n_box ? l->m->n_box : 1), sizeof *l->box_veh);
    l->near = eai__calloc(a, ni, sizeof *l->near);
    l->arriving = eai__calloc(a, ni, sizeof *l->arriving);
    if (!l->det || !l->det_added || !l->queue || !l->out_queue || !l->out_src || !l->n_veh ||
        !l->arr || !l->dep || !l->count || !l->box_veh || !l->near || !l->arriving)
        return eai_fail(EAI_E_NOMEM, "traffic: out of memory");
    return eai_tl_idcount_create(l->m->n_approaches ? l->m->n_approaches : 1, MAX_IDS, a, &l->cnt);
}

static bool wanted(const eai_traffic_run_opts_t *o, const char *id)
{
    if (o->n_tls <= 0) return true;
    for (int i = 0; i < o->n_tls; i++)
        if (strcmp(o->tls_ids[i], id) == 0) return true;
    return false;
}

/* SUMO's program written back as a static / actuated / delay_based program.
 * A static source program has no min/max: greens get SUMO's netconvert
 * defaults (5 s .. 50 s). */
static void write_program(FILE *f, eai_traci_t *t, const char *id, const eai_traci_logic_t *lg,
                          eai_traffic_ctl_t kind)
{
    (void)t;
    const char *type = kind == EAI_TRAFFIC_SUMO_STATIC     ? "static"
                       : kind == EAI_TRAFFIC_SUMO_ACTUATED ? "actuated"
                                                           : "delay_based";
    fprintf(f, "  <tlLogic id=\"%s\" type=\"%s\" programID=\"eai_base\" offset=\"0\">\n", id, type);
    for (int p = 0; p < lg->n_phases; p++) {
        const eai_traci_phase_t *ph = &lg->phases[p];
        bool green = strpbrk(ph->state, "Gg") && !strpbrk(ph->state, "yYu");
        double mn = ph->min_dur, mx = ph->max_dur;
        if (!(mn > 0 && mx > mn)) {
            mn = green ? (ph->duration < 5 ? ph->duration : 5) : ph->duration;
            mx = green ? (ph->duration > 50 ? ph->duration : 50) : ph->duration;
        }
        if (kind == EAI_TRAFFIC_SUMO_STATIC)
            fprintf(f, "    <phase duration=\"%g\" state=\"%s\"/>\n", ph->duration, ph->state);
        else
            fprintf(f, "    <phase duration=\"%g\" minDur=\"%g\" maxDur=\"%g\" state=\"%s\"/>\n",
                    ph->duration, mn, mx, ph->state);
    }
    fprintf(f, "  </tlLogic>\n");
}

/* Pass 1: models, detectors to add, the additional file. */
static eai_status_t pass1(run_t *r, eai_traci_t *t, FILE *f)
{
    const eai_traffic_run_opts_t *o = r->o;
    eai_traci_strlist_t ids;
    EAI_TRY(eai_traci_tls_ids(t, &ids));
    int n = ids.n;
    char(*tls)[EAI_TL_ID_MAX] = eai__calloc(&r->a, (size_t)(n ? n : 1), sizeof *tls);
    if (!tls) return eai_fail(EAI_E_NOMEM, "traffic: out of memory");
    int k = 0;
    for (int i = 0; i < n; i++)
        if (wanted(o, ids.items[i]) && strlen(ids.items[i]) < EAI_TL_ID_MAX)
            snprintf(tls[k++], EAI_TL_ID_MAX, "%s", ids.items[i]);
    for (int i = 0; i < o->n_tls; i++) {
        bool found = false;
        for (int j = 0; j < k; j++)
            found |= strcmp(tls[j], o->tls_ids[i]) == 0;
        if (!found) {
            eai__free(&r->a, tls);
            return eai_fail(EAI_E_UNSUPPORTED, "traffic: %s has no traffic light '%s'", o->scenario,
                            o->tls_ids[i]);
        }
    }
    if (k == 0) {
        eai__free(&r->a, tls);
        return eai_fail(EAI_E_UNSUPPORTED, "traffic: %s has no signalised junction", o->scenario);
    }
    r->L = eai__calloc(&r->a, (size_t)k, sizeof *r->L);
    if (!r->L) {
        eai__free(&r->a, tls);
        return eai_fail(EAI_E_NOMEM, "traffic: out of memory");
    }
    eai_status_t st = EAI_OK;
    for (int i = 0; i < k && st == EAI_OK; i++) {
        st = eai_tl_model_from_traci(t, tls[i], &r->a, &r->L[i].m);
        if (st == EAI_OK) r->n_l++, st = light_alloc(r, &r->L[i]);
    }
    /* existing lane-area detectors by lane */
    eai_traci_strlist_t e2;
    if (st == EAI_OK) st = eai_traci_e2_ids(t, &e2);
    int n_e2 = st == EAI_OK ? e2.n : 0;
    char(*e2id)[EAI_TL_ID_MAX] = eai__calloc(&r->a, (size_t)(n_e2 ? n_e2 : 1), sizeof *e2id);
    if (!e2id && st == EAI_OK) st = eai_fail(EAI_E_NOMEM, "traffic: out of memory");
    for (int i = 0; i < n_e2 && st == EAI_OK; i++)
        snprintf(e2id[i], EAI_TL_ID_MAX, "%s", e2.items[i]);
    for (int i = 0; i < n_e2 && st == EAI_OK; i++) {
        const char *lane;
        st = eai_traci_e2_lane(t, e2id[i], &lane);
        for (int j = 0; st == EAI_OK && j < r->n_l; j++) {
            int l = eai_tl_model_in_lane(r->L[j].m, lane);
            if (l >= 0 && !r->L[j].det[l][0])
                snprintf(r->L[j].det[l], EAI_TL_ID_MAX, "%s", e2id[i]);
        }
    }
    fprintf(f, "<additional>\n");
    double dl = o->detector_length_m > 0 ? o->detector_length_m : 250;
    for (int j = 0; st == EAI_OK && j < r->n_l; j++) {
        light_t *L = &r->L[j];
        for (int l = 0; l < L->m->n_in; l++) {
            if (L->det[l][0]) continue;
            snprintf(L->det[l], EAI_TL_ID_MAX, "eai_%d_%d", j, l);
            L->det_added[l] = true;
            double len = L->m->in[l].length_m, pos = len > dl ? len - dl : 0;
            /* halting as SUMO counts waiting time: below 0.1 m/s, at once */
            fprintf(f,
                    "  <laneAreaDetector id=\"%s\" lane=\"%s\" pos=\"%.2f\" endPos=\"%.2f\" "
                    "freq=\"86400\" file=\"NUL\" timeThreshold=\"0\" speedThreshold=\"0.1\"/>\n",
                    L->det[l], L->m->in[l].id, pos, len);
        }
        /* arrivals at speed near the stop line, for the clearance hold:
         * "halting" below NEAR_MPS, so vehicles - halting = the fast ones */
        for (int l = 0;
             L->m->conflict && o->controller <= EAI_TRAFFIC_MAXPRESSURE && l < L->m->n_in; l++) {
            double len = L->m->in[l].length_m;
            snprintf(L->near[l], EAI_TL_ID_MAX, "eai_near_%d_%d", j, l);
            fprintf(f,
                    "  <laneAreaDetector id=\"%s\" lane=\"%s\" pos=\"%.2f\" endPos=\"%.2f\" "
                    "freq=\"86400\" file=\"NUL\" timeThreshold=\"0\" speedThreshold=\"%g\"/>\n",
                    L->near[l], L->m->in[l].id, len > NEAR_M ? len - NEAR_M : 0, len, NEAR_MPS);
        }
        if (o->controller >= EAI_TRAFFIC_SUMO_STATIC) {
            eai_traci_logics_t lg;
            const char *prog;
            char want[EAI_TL_ID_MAX];
            st = eai_traci_tls_get_program(t, L->m->tls_id, &prog);
            if (st != EAI_OK) break;
            snprintf(want, sizeof want, "%s", prog);
            st = eai_traci_tls_get_logics(t, L->m->tls_id, &lg);
            for (int i = 0; st == EAI_OK && i < lg.n; i++)
                if (strcmp(lg.items[i].program_id, want) == 0)
                    write_program(f, t, L->m->tls_id, &lg.items[i], o->controller);
        }
    }
    fprintf(f, "  <edgeData id=\"eai_wait\" file=\"%s/edgedata.xml\" freq=\"86400\"/>\n", r->work);
    fprintf(f, "</additional>\n");
    eai__free(&r->a, e2id);
    eai__free(&r->a, tls);
    if (st != EAI_OK) return st;
    /* exits measured by another controlled light's detectors (grids) */
    for (int j = 0; j < r->n_l; j++)
        for (int x = 0; x < r->L[j].m->n_out; x++)
            for (int i = 0; i < r->n_l; i++) {
                int l = eai_tl_model_in_lane(r->L[i].m, r->L[j].m->out[x].id);
                if (l >= 0) r->L[j].out_src[x] = &r->L[i].queue[l];
            }
    return EAI_OK;
}

/* The detector readings observe() needs: subscribed, SUMO appends them to
 * every step's reply, so reading them costs no round trip. */
static const int E2_VARS[] = {EAI_TRACI_VAR_LAST_STEP_HALTING_NUMBER,
                              EAI_TRACI_VAR_LAST_STEP_VEHICLE_ID_LIST};
#define SUB_E2 EAI_TRACI_SUB_LANEAREA

static eai_status_t subscribe_detectors(run_t *r, eai_traci_t *t)
{
    for (int j = 0; j < r->n_l; j++)
        for (int l = 0; l < r->L[j].m->n_in; l++) {
            int a = r->L[j].m->in[l].approach;
            if (a < 0 || a >= r->L[j].m->n_approaches) continue; /* observe() skips it */
            eai_status_t st = eai_traci_subscribe(t, SUB_E2, r->L[j].det[l], E2_VARS, 2);
            /* SUMO's refusal (no such detector): observe()'s getter reports it as before */
            if (st != EAI_OK && st != EAI_E_INVALID) return st;
        }
    static const int NEAR_VARS[] = {EAI_TRACI_VAR_LAST_STEP_VEHICLE_NUMBER,
                                    EAI_TRACI_VAR_LAST_STEP_HALTING_NUMBER};
    for (int j = 0; j < r->n_l; j++)
        for (int l = 0; l < r->L[j].m->n_in; l++)
            if (r->L[j].near[l][0]) {
                eai_status_t st = eai_traci_subscribe(t, SUB_E2, r->L[j].near[l], NEAR_VARS, 2);
                if (st != EAI_OK && st != EAI_E_INVALID) return st;
            }
    /* the junction box's internal lanes, for the clearance hold */
    static const int LANE_VARS[] = {EAI_TRACI_VAR_LAST_STEP_VEHICLE_NUMBER};
    for (int j = 0; j < r->n_l; j++)
        for (int b = 0; r->L[j].m->conflict && b < r->L[j].m->n_box; b++) {
            eai_status_t st =
                eai_traci_subscribe(t, EAI_TRACI_SUB_LANE, r->L[j].m->box[b].id, LANE_VARS, 1);
            if (st != EAI_OK && st != EAI_E_INVALID) return st;
        }
    return EAI_OK;
}

/* Reads every light's detectors for the step just simulated: from the
 * subscription results, or by a getter where there are none. */
static eai_status_t observe(run_t *r, eai_traci_t *t, eai_traffic_report_t *rep)
{
    for (int j = 0; j < r->n_l; j++) {
        light_t *L = &r->L[j];
        const eai_tl_model_t *m = L->m;
        memset(L->arr, 0, (size_t)m->n_in * sizeof *L->arr);
        memset(L->dep, 0, (size_t)m->n_in * sizeof *L->dep);
        for (int a = 0; a < m->n_approaches; a++) {
            int nid = 0;
            double qa = 0;
            for (int l = 0; l < m->n_in; l++) {
                if (m->in[l].approach != a) continue;
                int h;
                eai_status_t st = eai_traci_sub_int(t, SUB_E2, L->det[l],
                                                    EAI_TRACI_VAR_LAST_STEP_HALTING_NUMBER, &h);
                if (st == EAI_E_UNAVAILABLE) st = eai_traci_e2_halting_number(t, L->det[l], &h);
                EAI_TRY(st);
                L->queue[l] = h;
                qa += h;
                eai_traci_strlist_t v;
                st = eai_traci_sub_strlist(t, SUB_E2, L->det[l],
                                           EAI_TRACI_VAR_LAST_STEP_VEHICLE_ID_LIST, &v);
                if (st == EAI_E_UNAVAILABLE) st = eai_traci_e2_vehicle_ids(t, L->det[l], &v);
                EAI_TRY(st);
                L->n_veh[l] = v.n;
                for (int i = 0; i < v.n && nid < MAX_IDS; i++) {
                    snprintf(r->ids[nid], EAI_TL_ID_MAX, "%s", v.items[i]);
                    r->idp[nid] = r->ids[nid];
                    r->tags[nid++] = l;
                }
            }
            EAI_TRY(eai_tl_idcount_update_tagged(L->cnt, a, r->idp, r->tags, nid, m->n_in, L->arr,
                                                 L->dep));
            if ((int)qa > rep->max_queue) rep->max_queue = (int)qa;
        }
        for (int l = 0; l < m->n_in; l++)
            L->count[m->in[l].approach] += L->dep[l];
        for (int b = 0; m->conflict && b < m->n_box; b++) {
            eai_status_t st =
                eai_traci_sub_int(t, EAI_TRACI_SUB_LANE, m->box[b].id,
                                  EAI_TRACI_VAR_LAST_STEP_VEHICLE_NUMBER, &L->box_veh[b]);
            if (st == EAI_E_UNAVAILABLE)
                st = eai_traci_lane_vehicle_number(t, m->box[b].id, &L->box_veh[b]);
            EAI_TRY(st);
        }
        for (int l = 0; l < m->n_in; l++) {
            if (!L->near[l][0]) continue;
            int n, h;
            eai_status_t st = eai_traci_sub_int(t, SUB_E2, L->near[l],
                                                EAI_TRACI_VAR_LAST_STEP_VEHICLE_NUMBER, &n);
            if (st == EAI_E_UNAVAILABLE) st = eai_traci_e2_vehicle_number(t, L->near[l], &n);
            EAI_TRY(st);
            st = eai_traci_sub_int(t, SUB_E2, L->near[l], EAI_TRACI_VAR_LAST_STEP_HALTING_NUMBER,
                                   &h);
            if (st == EAI_E_UNAVAILABLE) st = eai_traci_e2_halting_number(t, L->near[l], &h);
            EAI_TRY(st);
            /* a slower vehicle near the line (queued, braking) stops the
             * fast ones behind it before the box */
            L->arriving[l] = h > 0 ? 0 : n - h;
        }
    }
    for (int j = 0; j < r->n_l; j++)
        for (int x = 0; x < r->L[j].m->n_out; x++)
            r->L[j].out_queue[x] = r->L[j].out_src[x] ? *r->L[j].out_src[x] : 0;
    return EAI_OK;
}

static eai_status_t start(run_t *r, bool with_add, eai_sumo_t **s)
{
    const eai_traffic_run_opts_t *o = r->o;
    char trip[4200], stat[4200], log[4200];
    snprintf(trip, sizeof trip, "%s/tripinfo.xml", r->work);
    snprintf(stat, sizeof stat, "%s/statistics.xml", r->work);
    snprintf(log, sizeof log, "%s/sumo%d.log", r->work, with_add ? 2 : 1);
    const char *extra[] = {"--tripinfo-output.write-unfinished", "true"};
    eai_sumo_opts_t so = {.binary = o->sumo_binary,
                          .config = o->scenario,
                          .set_seed = o->set_seed,
                          .seed = o->seed,
                          .log_path = log,
                          .alloc = r->a};
    if (with_add) {
        so.additional_files = r->addl;
        so.tripinfo_output = trip;
        so.statistic_output = stat;
        so.extra_args = extra;
        so.n_extra_args = 2;
        so.end = o->minutes * 60.0 + 60.0;
    }
    return eai_sumo_start(&so, s);
}

static eai_status_t pass2(run_t *r, eai_traci_t *t, eai_traffic_report_t *rep)
{
    const eai_traffic_run_opts_t *o = r->o;
    double dt;
    EAI_TRY(eai_traci_sim_delta_t(t, &dt));
    if (!(dt > 0)) return eai_fail(EAI_E_FORMAT, "traffic: SUMO step length %g", dt);
    bool ours = o->controller <= EAI_TRAFFIC_MAXPRESSURE;
    for (int j = 0; j < r->n_l; j++) {
        if (ours)
            EAI_TRY(eai_tl_controller_create(
                r->L[j].m,
                o->controller == EAI_TRAFFIC_WEBSTER ? EAI_TL_WEBSTER : EAI_TL_MAXPRESSURE, &o->tl,
                &r->L[j].c));
        else
            EAI_TRY(eai_traci_tls_set_program(t, r->L[j].m->tls_id, "eai_base"));
    }
    EAI_TRY(subscribe_detectors(r, t));
    int n_steps = (int)(o->minutes * 60.0 / dt + 0.5);
    double sumo_us = 0, dec_us = 0, obs_us = 0, t_s;
    EAI_TRY(eai_traci_sim_time(t, &t_s));
    for (int k = 0; k < n_steps; k++) {
        double t0 = now_us();
        EAI_TRY(eai_traci_step(t, 0));
        double t1 = now_us();
        sumo_us += t1 - t0;
        t_s += dt;
        EAI_TRY(observe(r, t, rep));
        for (int j = 0; o->count_hook && j < r->n_l; j++)
            EAI_TRY(o->count_hook(o->count_user, t, r->L[j].m, r->L[j].c, t_s, r->L[j].arr,
                                  r->L[j].dep, r->L[j].queue));
        double t2 = now_us();
        obs_us += t2 - t1;
        if (!ours) continue;
        for (int j = 0; j < r->n_l; j++) {
            light_t *L = &r->L[j];
            eai_tl_obs_t ob = {.t_s = t_s,
                               .dt_s = dt,
                               .queue = L->queue,
                               .n_veh = L->n_veh,
                               .arrivals = L->arr,
                               .departures = L->dep,
                               .out_queue = L->out_queue,
                               .box_veh = L->m->conflict ? L->box_veh : NULL,
                               .arriving = L->near[0][0] ? L->arriving : NULL};
            eai_tl_out_t out;
            double d0 = now_us();
            EAI_TRY(eai_tl_controller_step(L->c, &ob, &out));
            dec_us += now_us() - d0;
            if (out.changed) EAI_TRY(eai_traci_tls_set_state(t, L->m->tls_id, out.state));
        }
    }
    rep->n_steps = n_steps;
    rep->sim_s = n_steps * dt;
    rep->sumo_step_us = n_steps ? sumo_us / n_steps : 0;
    rep->observe_us_per_step = n_steps ? obs_us / n_steps : 0;
    rep->decision_us_per_step = n_steps ? dec_us / n_steps : 0;
    return EAI_OK;
}

void eai_traffic_report_destroy(eai_traffic_report_t *r)
{
    if (!r) return;
    free(r->approaches);
    free(r);
}

static eai_status_t report_approaches(run_t *r, eai_traffic_report_t *rep)
{
    int n = 0;
    for (int j = 0; j < r->n_l; j++)
        n += r->L[j].m->n_approaches;
    rep->approaches = calloc((size_t)(n ? n : 1), sizeof *rep->approaches);
    if (!rep->approaches) return eai_fail(EAI_E_NOMEM, "traffic: out of memory");
    for (int j = 0; j < r->n_l; j++) {
        const eai_tl_estimate_t *e =
            r->L[j].c ? eai_tl_controller_estimates(r->L[j].c, NULL) : NULL;
        for (int a = 0; a < r->L[j].m->n_approaches; a++) {
            eai_traffic_approach_report_t *x = &rep->approaches[rep->n_approaches++];
            memcpy(x->tls, r->L[j].m->tls_id, sizeof x->tls);
            memcpy(x->edge, r->L[j].m->approaches[a].edge, sizeof x->edge);
            x->count = r->L[j].count[a];
            x->est_queue_s = e ? e[a].queue_mean_s : -1;
            x->est_webster_s = e ? e[a].webster_mean_s : -1;
            x->meas_wait_s = -1;
        }
    }
    return EAI_OK;
}

static void rm_work(run_t *r)
{
    const char *files[] = {"tripinfo.xml", "statistics.xml", "sumo1.log",
                           "sumo2.log",    "edgedata.xml",   "eai_add.xml"};
    char p[4300];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", r->work, files[i]);
        unlink(p);
    }
    rmdir(r->work);
}

static eai_status_t run(run_t *r, eai_traffic_report_t *rep)
{
    const eai_traffic_run_opts_t *o = r->o;
    char cfg_add[4096];
    EAI_TRY(eai__traffic_cfg_additional(o->scenario, cfg_add, sizeof cfg_add));
    snprintf(r->add, sizeof r->add, "%s/eai_add.xml", r->work);
    int w = snprintf(r->addl, sizeof r->addl, "%s%s%s", cfg_add, *cfg_add ? "," : "", r->add);
    if (w < 0 || (size_t)w >= sizeof r->addl)
        return eai_fail(EAI_E_UNSUPPORTED, "traffic: additional file list too long");
    eai_sumo_t *s = NULL;
    EAI_TRY(start(r, false, &s));
    FILE *f = fopen(r->add, "w");
    eai_status_t st =
        f ? pass1(r, eai_sumo_traci(s), f) : eai_fail(EAI_E_IO, "traffic: cannot write %s", r->add);
    if (f && fclose(f) != 0 && st == EAI_OK)
        st = eai_fail(EAI_E_IO, "traffic: cannot write %s", r->add);
    eai_sumo_destroy(s);
    s = NULL;
    if (st != EAI_OK) return st;
    EAI_TRY(start(r, true, &s));
    st = pass2(r, eai_sumo_traci(s), rep);
    int code = 0;
    eai_status_t st2 = eai_sumo_stop(s, &code);
    eai_sumo_destroy(s);
    EAI_TRY(st);
    EAI_TRY(st2);
    char p[4300];
    snprintf(p, sizeof p, "%s/tripinfo.xml", r->work);
    EAI_TRY(eai__traffic_parse_tripinfo(p, rep));
    snprintf(p, sizeof p, "%s/statistics.xml", r->work);
    EAI_TRY(eai__traffic_parse_stats(p, rep));
    snprintf(p, sizeof p, "%s/sumo2.log", r->work);
    rep->emergency_brakes = eai__traffic_count_lines(p, "emergency braking");
    EAI_TRY(report_approaches(r, rep));
    snprintf(p, sizeof p, "%s/edgedata.xml", r->work);
    EAI_TRY(eai__traffic_parse_edgedata(p, rep));
    rep->throughput_vph = rep->sim_s > 0 ? (double)rep->arrived * 3600.0 / rep->sim_s : 0;
    rep->n_tls = r->n_l;
    snprintf(rep->controller, sizeof rep->controller, "%s", eai_traffic_ctl_name(o->controller));
    return EAI_OK;
}

eai_status_t eai_traffic_run(const eai_traffic_run_opts_t *o, eai_traffic_report_t **out)
{
    if (!o || !out || !o->scenario || o->n_tls < 0 || (o->n_tls > 0 && !o->tls_ids) ||
        o->minutes < 0 || o->controller < EAI_TRAFFIC_WEBSTER ||
        o->controller > EAI_TRAFFIC_SUMO_DELAY)
        return eai_fail(EAI_E_INVALID, "traffic: run needs a scenario and a known controller");
    struct stat sb;
    if (stat(o->scenario, &sb) != 0)
        return eai_fail(EAI_E_INVALID, "traffic: scenario %s does not exist", o->scenario);
    eai_traffic_run_opts_t oo = *o;
    if (oo.minutes == 0) oo.minutes = 60;
    run_t r = {.o = &oo, .a = o->alloc};
    if (o->work_dir) {
        snprintf(r.work, sizeof r.work, "%s", o->work_dir);
        mkdir(r.work, 0755);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(r.work, sizeof r.work, "%s/eai_traffic_XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(r.work)) return eai_fail(EAI_E_IO, "traffic: cannot make a temp folder");
        r.own_work = true;
    }
    eai_traffic_report_t *rep = calloc(1, sizeof *rep);
    r.ids = eai__calloc(&r.a, MAX_IDS, sizeof *r.ids);
    r.idp = eai__calloc(&r.a, MAX_IDS, sizeof *r.idp);
    r.tags = eai__calloc(&r.a, MAX_IDS, sizeof *r.tags);
    eai_status_t st = rep && r.ids && r.idp && r.tags
                          ? run(&r, rep)
                          : eai_fail(EAI_E_NOMEM, "traffic: out of memory");
    for (int j = 0; j < r.n_l; j++)
        light_free(&r.a, &r.L[j]);
    eai__free(&r.a, r.L);
    eai__free(&r.a, r.ids);
    eai__free(&r.a, r.idp);
    eai__free(&r.a, r.tags);
    if (r.own_work) rm_work(&r);
    if (st != EAI_OK) {
        eai_traffic_report_destroy(rep);
        return st;
    }
    *out = rep;
    return EAI_OK;
}
