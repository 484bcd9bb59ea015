/* Reads a light's intersection model through TraCI: controlled links, the
 * running program, lane lengths, speeds and link directions. TraCI strings
 * live until the next call, so everything is copied into one scratch block
 * first, then handed to eai_tl_model_build. */
#include <stdio.h>
#include <string.h>

#include "core/core_impl.h"
#include "edgeai/traffic.h"

typedef struct scratch {
    eai_tl_link_desc_t *links;
    eai_tl_phase_desc_t *phases;
    char (*lane_ids)[2][EAI_TL_ID_MAX]; /* per link: from, to */
    char (*states)[512];
    char (*via)[EAI_TL_ID_MAX]; /* per link: its first internal lane ("" if none) */
    char (*box)[EAI_TL_ID_MAX]; /* internal lanes of the links */
    const char **box_p;
    int *box_signal, n_box;
    uint8_t *conflict; /* n_signals x n_signals */
} scratch_t;

static eai_status_t cp(char *dst, const char *src)
{
    size_t n = strlen(src);
    if (n >= EAI_TL_ID_MAX)
        return eai_fail(EAI_E_UNSUPPORTED, "traffic: id '%.40s...' too long", src);
    memcpy(dst, src, n + 1);
    return EAI_OK;
}

static eai_status_t read_links(eai_traci_t *t, const char *id, const eai_allocator_t *a,
                               scratch_t *s, int *n_links, int *n_signals)
{
    eai_traci_links_t L;
    EAI_TRY(eai_traci_tls_controlled_links(t, id, &L));
    *n_signals = L.n_signals;
    int n = 0;
    s->links = eai__calloc(a, (size_t)(L.n ? L.n : 1), sizeof *s->links);
    s->lane_ids = eai__calloc(a, (size_t)(L.n ? L.n : 1), sizeof *s->lane_ids);
    s->via = eai__calloc(a, (size_t)(L.n ? L.n : 1), sizeof *s->via);
    if (!s->links || !s->lane_ids || !s->via)
        return eai_fail(EAI_E_NOMEM, "traffic: out of memory");
    for (int i = 0; i < L.n; i++) {
        const eai_traci_link_t *k = &L.items[i];
        if (!k->from_lane || !*k->from_lane) continue;
        EAI_TRY(cp(s->lane_ids[n][0], k->from_lane));
        EAI_TRY(cp(s->lane_ids[n][1], k->to_lane ? k->to_lane : ""));
        EAI_TRY(cp(s->via[n], k->via_lane ? k->via_lane : ""));
        s->links[n] = (eai_tl_link_desc_t){
            .signal = k->signal, .from_lane = s->lane_ids[n][0], .to_lane = s->lane_ids[n][1]};
        n++;
    }
    *n_links = n;
    /* lane lengths, speeds, directions (link arrays are copied already) */
    for (int i = 0; i < n; i++) {
        eai_tl_link_desc_t *k = &s->links[i];
        EAI_TRY(eai_traci_lane_length(t, k->from_lane, &k->from_length_m));
        EAI_TRY(eai_traci_lane_max_speed(t, k->from_lane, &k->from_speed_mps));
        eai_traci_lane_links_t ll;
        EAI_TRY(eai_traci_lane_links(t, k->from_lane, &ll));
        for (int j = 0; j < ll.n; j++)
            if (ll.items[j].to_lane && strcmp(ll.items[j].to_lane, k->to_lane) == 0)
                k->dir = ll.items[j].dir;
    }
    return EAI_OK;
}

#define BOX_CHAIN 4 /* internal lanes per link: SUMO splits a turn at most a few times */

static int box_find(const scratch_t *s, const char *id)
{
    for (int b = 0; b < s->n_box; b++)
        if (strcmp(s->box[b], id) == 0) return b;
    return -1;
}

/* The junction box: each link's internal lanes (its via lane, then the
 * internal lanes that follow it, e.g. a left turn's part after its waiting
 * point), and which signals' lanes cross (lane.getInternalFoes). A SUMO that
 * refuses the foe query leaves the conflicts unknown (no clearance hold). */
static eai_status_t read_box(eai_traci_t *t, const eai_allocator_t *a, scratch_t *s, int n_links,
                             int n_signals)
{
    size_t cap = (size_t)(n_links ? n_links : 1) * BOX_CHAIN;
    s->box = eai__calloc(a, cap, sizeof *s->box);
    s->box_p = eai__calloc(a, cap, sizeof *s->box_p);
    s->box_signal = eai__calloc(a, cap, sizeof *s->box_signal);
    if (!s->box || !s->box_p || !s->box_signal)
        return eai_fail(EAI_E_NOMEM, "traffic: out of memory");
    for (int i = 0; i < n_links; i++) {
        char cur[EAI_TL_ID_MAX];
        memcpy(cur, s->via[i], sizeof cur);
        for (int depth = 0; cur[0] == ':' && depth < BOX_CHAIN; depth++) {
            if (box_find(s, cur) >= 0 || (size_t)s->n_box >= cap) break;
            memcpy(s->box[s->n_box], cur, sizeof cur);
            s->box_p[s->n_box] = s->box[s->n_box];
            s->box_signal[s->n_box++] = s->links[i].signal;
            eai_traci_lane_links_t ll;
            EAI_TRY(eai_traci_lane_links(t, cur, &ll));
            cur[0] = '\0';
            for (int j = 0; j < ll.n; j++)
                if (ll.items[j].via_lane && ll.items[j].via_lane[0] == ':')
                    EAI_TRY(cp(cur, ll.items[j].via_lane));
        }
    }
    if (s->n_box == 0) return EAI_OK;
    s->conflict = eai__calloc(a, (size_t)n_signals * (size_t)n_signals, 1);
    if (!s->conflict) return eai_fail(EAI_E_NOMEM, "traffic: out of memory");
    for (int b = 0; b < s->n_box; b++) {
        eai_traci_strlist_t foes;
        eai_status_t st = eai_traci_lane_internal_foes(t, s->box[b], &foes);
        if (st == EAI_E_INVALID) { /* SUMO refused: conflicts unknown */
            eai__free(a, s->conflict);
            s->conflict = NULL;
            return EAI_OK;
        }
        EAI_TRY(st);
        int j = s->box_signal[b];
        for (int f = 0; f < foes.n; f++) {
            int o = box_find(s, foes.items[f]);
            if (o < 0 || s->box_signal[o] == j) continue;
            int i = s->box_signal[o];
            s->conflict[(size_t)i * (size_t)n_signals + (size_t)j] = 1;
            s->conflict[(size_t)j * (size_t)n_signals + (size_t)i] = 1;
        }
    }
    return EAI_OK;
}

static eai_status_t read_program(eai_traci_t *t, const char *id, const eai_allocator_t *a,
                                 scratch_t *s, int *n_phases)
{
    const char *prog;
    EAI_TRY(eai_traci_tls_get_program(t, id, &prog));
    char want[EAI_TL_ID_MAX];
    EAI_TRY(cp(want, prog));
    eai_traci_logics_t lg;
    EAI_TRY(eai_traci_tls_get_logics(t, id, &lg));
    const eai_traci_logic_t *cur = NULL;
    for (int i = 0; i < lg.n; i++)
        if (strcmp(lg.items[i].program_id, want) == 0) cur = &lg.items[i];
    if (!cur || cur->n_phases <= 0)
        return eai_fail(EAI_E_UNSUPPORTED, "traffic: light '%s': program '%s' not found", id, want);
    s->phases = eai__calloc(a, (size_t)cur->n_phases, sizeof *s->phases);
    s->states = eai__calloc(a, (size_t)cur->n_phases, sizeof *s->states);
    if (!s->phases || !s->states) return eai_fail(EAI_E_NOMEM, "traffic: out of memory");
    for (int p = 0; p < cur->n_phases; p++) {
        const eai_traci_phase_t *ph = &cur->phases[p];
        size_t n = strlen(ph->state);
        if (n >= sizeof s->states[p])
            return eai_fail(EAI_E_UNSUPPORTED, "traffic: light '%s': %zu signals", id, n);
        memcpy(s->states[p], ph->state, n + 1);
        s->phases[p] = (eai_tl_phase_desc_t){.state = s->states[p],
                                             .duration_s = ph->duration,
                                             .min_s = ph->min_dur > 0 ? ph->min_dur : 0,
                                             .max_s = ph->max_dur > 0 ? ph->max_dur : 0};
    }
    *n_phases = cur->n_phases;
    return EAI_OK;
}

eai_status_t eai_tl_model_from_traci(eai_traci_t *t, const char *tls_id, const eai_allocator_t *a,
                                     eai_tl_model_t **out)
{
    if (!t || !tls_id || !out)
        return eai_fail(EAI_E_INVALID, "traffic: model from TraCI: NULL argument");
    scratch_t s = {0};
    int n_links = 0, n_signals = 0, n_phases = 0;
    eai_status_t st = read_links(t, tls_id, a, &s, &n_links, &n_signals);
    if (st == EAI_OK) st = read_box(t, a, &s, n_links, n_signals);
    if (st == EAI_OK) st = read_program(t, tls_id, a, &s, &n_phases);
    if (st == EAI_OK) {
        eai_tl_model_desc_t d = {.tls_id = tls_id,
                                 .n_signals = n_signals,
                                 .n_links = n_links,
                                 .links = s.links,
                                 .n_phases = n_phases,
                                 .phases = s.phases,
                                 .n_box = s.n_box,
                                 .box_lanes = s.box_p,
                                 .box_signal = s.box_signal,
                                 .conflict = s.conflict};
        st = eai_tl_model_build(&d, a, out);
    }
    eai__free(a, s.links);
    eai__free(a, s.lane_ids);
    eai__free(a, s.phases);
    eai__free(a, s.states);
    eai__free(a, s.via);
    eai__free(a, s.box);
    eai__free(a, s.box_p);
    eai__free(a, s.box_signal);
    eai__free(a, s.conflict);
    return st;
}
