/* The intersection model: controlled links grouped into incoming lanes,
 * approaches (edges) and outgoing lanes, and the program's green phases as
 * stages with the lanes each one serves. Built from plain data, so tests and
 * the TraCI reader share one checked path. */
#include <stdio.h>
#include <string.h>

#include "core/core_impl.h"
#include "traffic/traffic_impl.h"

static bool is_green(char c)
{
    return c == 'G' || c == 'g';
}

static bool is_yellow(char c)
{
    return c == 'y' || c == 'Y' || c == 'u';
}

static bool valid_letter(char c)
{
    return strchr("rRyYgGuoOs", c) != NULL && c != '\0';
}

static eai_status_t copy_id(char *dst, const char *src, const char *what)
{
    size_t n = strlen(src);
    if (n >= EAI_TL_ID_MAX)
        return eai_fail(EAI_E_UNSUPPORTED, "traffic: %s id '%.40s...' longer than %d bytes", what,
                        src, EAI_TL_ID_MAX - 1);
    memcpy(dst, src, n + 1);
    return EAI_OK;
}

/* SUMO lane ids are "<edge>_<index>". */
static void edge_of(const char *lane, char *edge)
{
    const char *us = strrchr(lane, '_');
    size_t n = us && us != lane ? (size_t)(us - lane) : strlen(lane);
    memcpy(edge, lane, n);
    edge[n] = '\0';
}

static int find_lane(const eai_tl_lane_t *v, int n, const char *id)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v[i].id, id) == 0) return i;
    return -1;
}

int eai_tl_model_in_lane(const eai_tl_model_t *m, const char *lane_id)
{
    return m && lane_id ? find_lane(m->in, m->n_in, lane_id) : -1;
}

void eai_tl_model_destroy(eai_tl_model_t *m)
{
    if (!m) return;
    const eai_allocator_t *a = &m->alloc_;
    for (int s = 0; s < m->n_stages; s++)
        eai__free(a, m->stages[s].state);
    eai__free(a, m->in);
    eai__free(a, m->out);
    eai__free(a, m->links);
    eai__free(a, m->stages);
    eai__free(a, m->approaches);
    eai__free(a, m->serves);
    eai__free(a, m->box);
    eai__free(a, m->box_signal);
    eai__free(a, m->conflict);
    eai__free(a, m);
}

static eai_status_t check_desc(const eai_tl_model_desc_t *d, int *n_signals)
{
    if (!d || !d->tls_id || d->n_links < 0 || d->n_phases <= 0 || !d->phases ||
        (d->n_links > 0 && !d->links))
        return eai_fail(EAI_E_INVALID, "traffic: model description needs an id and phases");
    int ns = d->n_signals;
    if (ns <= 0) ns = d->phases[0].state ? (int)strlen(d->phases[0].state) : 0;
    if (ns <= 0) return eai_fail(EAI_E_INVALID, "traffic: light '%s': empty state", d->tls_id);
    for (int p = 0; p < d->n_phases; p++) {
        const char *st = d->phases[p].state;
        if (!st || (int)strlen(st) != ns)
            return eai_fail(EAI_E_INVALID,
                            "traffic: light '%s' phase %d: state '%s' has %d signals, expected %d",
                            d->tls_id, p, st ? st : "(null)", st ? (int)strlen(st) : 0, ns);
        for (int k = 0; k < ns; k++)
            if (!valid_letter(st[k]))
                return eai_fail(EAI_E_INVALID,
                                "traffic: light '%s' phase %d: bad state letter '%c' at %d",
                                d->tls_id, p, st[k], k);
        if (!(d->phases[p].duration_s >= 0))
            return eai_fail(EAI_E_INVALID, "traffic: light '%s' phase %d: negative duration",
                            d->tls_id, p);
    }
    for (int i = 0; i < d->n_links; i++) {
        const eai_tl_link_desc_t *l = &d->links[i];
        if (l->signal < 0 || l->signal >= ns || !l->from_lane || !*l->from_lane)
            return eai_fail(EAI_E_INVALID,
                            "traffic: light '%s' link %d: signal %d outside 0..%d or no lane",
                            d->tls_id, i, l->signal, ns - 1);
    }
    if (d->n_box < 0 || (d->n_box > 0 && (!d->box_lanes || !d->box_signal)))
        return eai_fail(EAI_E_INVALID, "traffic: light '%s': box lanes without ids or signals",
                        d->tls_id);
    for (int b = 0; b < d->n_box; b++)
        if (!d->box_lanes[b] || !*d->box_lanes[b] || d->box_signal[b] < 0 || d->box_signal[b] >= ns)
            return eai_fail(EAI_E_INVALID,
                            "traffic: light '%s' box lane %d: no id or signal %d outside 0..%d",
                            d->tls_id, b, d->box_signal[b], ns - 1);
    *n_signals = ns;
    return EAI_OK;
}

/* The optional junction box: internal lanes and the signal conflicts. */
static eai_status_t build_box(const eai_tl_model_desc_t *d, eai_tl_model_t *m)
{
    const eai_allocator_t *a = &m->alloc_;
    size_t ns = (size_t)m->n_signals;
    if (d->n_box > 0) {
        m->box = eai__calloc(a, (size_t)d->n_box, sizeof *m->box);
        m->box_signal = eai__calloc(a, (size_t)d->n_box, sizeof *m->box_signal);
        if (!m->box || !m->box_signal) return eai_fail(EAI_E_NOMEM, "traffic: out of memory");
        for (int b = 0; b < d->n_box; b++) {
            EAI_TRY(copy_id(m->box[b].id, d->box_lanes[b], "lane"));
            edge_of(m->box[b].id, m->box[b].edge);
            m->box[b].approach = -1;
            m->box_signal[b] = d->box_signal[b];
        }
        m->n_box = d->n_box;
    }
    if (d->conflict) {
        m->conflict = eai__calloc(a, ns * ns, 1);
        if (!m->conflict) return eai_fail(EAI_E_NOMEM, "traffic: out of memory");
        for (size_t i = 0; i < ns * ns; i++)
            m->conflict[i] = d->conflict[i] != 0;
    }
    return EAI_OK;
}

static eai_status_t build(const eai_tl_model_desc_t *d, int ns, eai_tl_model_t *m)
{
    const eai_allocator_t *a = &m->alloc_;
    int nl = d->n_links > 0 ? d->n_links : 1;
    m->n_signals = ns;
    m->in = eai__calloc(a, (size_t)nl, sizeof *m->in);
    m->out = eai__calloc(a, (size_t)nl, sizeof *m->out);
    m->links = eai__calloc(a, (size_t)nl, sizeof *m->links);
    m->approaches = eai__calloc(a, (size_t)nl, sizeof *m->approaches);
    m->stages = eai__calloc(a, (size_t)d->n_phases, sizeof *m->stages);
    if (!m->in || !m->out || !m->links || !m->approaches || !m->stages)
        return eai_fail(EAI_E_NOMEM, "traffic: out of memory for light '%s'", d->tls_id);
    for (int i = 0; i < d->n_links; i++) {
        const eai_tl_link_desc_t *l = &d->links[i];
        int li = find_lane(m->in, m->n_in, l->from_lane);
        if (li < 0) {
            eai_tl_lane_t *ln = &m->in[m->n_in];
            EAI_TRY(copy_id(ln->id, l->from_lane, "lane"));
            edge_of(ln->id, ln->edge);
            ln->length_m = l->from_length_m;
            ln->speed_mps = l->from_speed_mps;
            int ap = -1;
            for (int k = 0; k < m->n_approaches; k++)
                if (strcmp(m->approaches[k].edge, ln->edge) == 0) ap = k;
            if (ap < 0) {
                ap = m->n_approaches++;
                memcpy(m->approaches[ap].edge, ln->edge, sizeof ln->edge);
            }
            m->approaches[ap].n_lanes++;
            ln->approach = ap;
            li = m->n_in++;
        }
        int lo = -1;
        if (l->to_lane && *l->to_lane) {
            lo = find_lane(m->out, m->n_out, l->to_lane);
            if (lo < 0) {
                eai_tl_lane_t *ln = &m->out[m->n_out];
                EAI_TRY(copy_id(ln->id, l->to_lane, "lane"));
                edge_of(ln->id, ln->edge);
                ln->approach = -1;
                lo = m->n_out++;
            }
        }
        m->links[m->n_links++] = (eai_tl_link_t){
            .signal = l->signal, .in_lane = li, .out_lane = lo, .dir = l->dir ? l->dir : '?'};
    }
    /* stages: green phases without yellow, deduplicated; clearance lengths */
    for (int p = 0; p < d->n_phases; p++) {
        const eai_tl_phase_desc_t *ph = &d->phases[p];
        bool green = false, yellow = false;
        for (int k = 0; k < ns; k++) {
            green |= is_green(ph->state[k]);
            yellow |= is_yellow(ph->state[k]);
        }
        if (yellow) {
            if (ph->duration_s > m->yellow_s) m->yellow_s = ph->duration_s;
            continue;
        }
        if (!green) {
            if (ph->duration_s > m->all_red_s) m->all_red_s = ph->duration_s;
            continue;
        }
        bool dup = false;
        for (int s = 0; s < m->n_stages; s++)
            dup |= strcmp(m->stages[s].state, ph->state) == 0;
        if (dup) continue;
        eai_tl_stage_t *st = &m->stages[m->n_stages];
        st->state = eai__strdup(a, ph->state);
        if (!st->state) return eai_fail(EAI_E_NOMEM, "traffic: out of memory");
        st->duration_s = ph->duration_s;
        st->min_s = ph->min_s > 0 ? ph->min_s : ph->duration_s;
        st->max_s = ph->max_s > 0 ? ph->max_s : ph->duration_s;
        st->program_phase = p;
        m->n_stages++;
    }
    if (m->n_stages == 0)
        return eai_fail(EAI_E_UNSUPPORTED, "traffic: light '%s': its program has no green phase",
                        d->tls_id);
    m->serves = eai__calloc(a, (size_t)m->n_stages * (size_t)(m->n_in ? m->n_in : 1), 1);
    if (!m->serves) return eai_fail(EAI_E_NOMEM, "traffic: out of memory");
    for (int s = 0; s < m->n_stages; s++)
        for (int i = 0; i < m->n_links; i++) {
            char c = m->stages[s].state[m->links[i].signal];
            uint8_t v = c == 'G' ? 2 : c == 'g' ? 1 : 0;
            uint8_t *dst = &m->serves[(size_t)s * (size_t)m->n_in + (size_t)m->links[i].in_lane];
            if (v > *dst) *dst = v;
        }
    return EAI_OK;
}

eai_status_t eai_tl_model_build(const eai_tl_model_desc_t *d, const eai_allocator_t *a,
                                eai_tl_model_t **out)
{
    int ns = 0;
    if (!out) return eai_fail(EAI_E_INVALID, "traffic: model build: NULL out");
    EAI_TRY(check_desc(d, &ns));
    eai_tl_model_t *m = eai__calloc(a, 1, sizeof *m);
    if (!m) return eai_fail(EAI_E_NOMEM, "traffic: out of memory");
    if (a) m->alloc_ = *a;
    eai_status_t st = copy_id(m->tls_id, d->tls_id, "light");
    if (st == EAI_OK) st = build(d, ns, m);
    if (st == EAI_OK) st = build_box(d, m);
    if (st != EAI_OK) {
        eai_tl_model_destroy(m);
        return st;
    }
    *out = m;
    return EAI_OK;
}
