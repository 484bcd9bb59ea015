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
    if (!s->links || !s->lane_ids) return eai_fail(EAI_E_NOMEM, "traffic: out of memory");
    for (int i = 0; i < L.n; i++) {
        const eai_traci_link_t *k = &L.items[i];
        if (!k->from_lane || !*k->from_lane) continue;
        EAI_TRY(cp(s->lane_ids[n][0], k->from_lane));
        EAI_TRY(cp(s->lane_ids[n][1], k->to_lane ? k->to_lane : ""));
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
    if (st == EAI_OK) st = read_program(t, tls_id, a, &s, &n_phases);
    if (st == EAI_OK) {
        eai_tl_model_desc_t d = {.tls_id = tls_id,
                                 .n_signals = n_signals,
                                 .n_links = n_links,
                                 .links = s.links,
                                 .n_phases = n_phases,
                                 .phases = s.phases};
        st = eai_tl_model_build(&d, a, out);
    }
    eai__free(a, s.links);
    eai__free(a, s.lane_ids);
    eai__free(a, s.phases);
    eai__free(a, s.states);
    return st;
}
