/* Creating a node from the topology (name -> group and instance, parent,
 * children, topics, emulated links) and restoring its saved state; the name
 * helpers of node.h. The instance arithmetic is topo.h's: instance i of a
 * group of n under a parent group of m hangs under parent floor(i * m / n). */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "edgeai/log.h"
#include "node/node_impl.h"

double eai__node_group_rate(const eai_topo_t *t, int g)
{
    return eai_topo_group_rate_hz(t, g);
}

eai_status_t eai__node_parse_name(const eai_topo_t *t, const char *name, int *group, int64_t *index)
{
    const char *dash = name ? strrchr(name, '-') : NULL;
    if (!dash || dash == name || !dash[1] || strlen(name) >= NODE_NAME_MAX)
        return eai_fail(EAI_E_INVALID, "node name '%s': expected GROUP-INDEX, e.g. gw-0",
                        name ? name : "(null)");
    for (const char *p = dash + 1; *p; p++)
        if (!isdigit((unsigned char)*p))
            return eai_fail(EAI_E_INVALID, "node name '%s': index is not a number", name);
    if (dash[1] == '0' && dash[2])
        return eai_fail(EAI_E_INVALID, "node name '%s': index has a leading zero", name);
    char *end;
    long long idx = strtoll(dash + 1, &end, 10);
    size_t glen = (size_t)(dash - name);
    char known[256] = "";
    size_t off = 0;
    for (int g = 0; g < eai_topo_n_groups(t); g++) {
        const eai_topo_group_t *gr = eai_topo_group(t, g);
        if (strlen(gr->name) == glen && memcmp(gr->name, name, glen) == 0) {
            if (idx < 0 || idx >= gr->count)
                return eai_fail(EAI_E_INVALID,
                                "node name '%s': group '%s' has %" PRId64 " nodes (0..%" PRId64 ")",
                                name, gr->name, gr->count, gr->count - 1);
            *group = g;
            *index = idx;
            return EAI_OK;
        }
        if (off < sizeof known)
            off +=
                (size_t)snprintf(known + off, sizeof known - off, "%s%s", g ? ", " : "", gr->name);
    }
    return eai_fail(EAI_E_INVALID, "node name '%s': no node group '%.*s' (groups: %s)", name,
                    (int)glen, name, known);
}

int64_t eai_node_count(const eai_topo_t *t)
{
    int64_t c = 0;
    for (int g = 0; g < eai_topo_n_groups(t); g++)
        c += eai_topo_group(t, g)->count;
    return c;
}

eai_status_t eai_node_name_at(const eai_topo_t *t, int64_t k, char *buf, size_t n)
{
    int64_t k0 = k;
    for (int g = 0; g < eai_topo_n_groups(t) && k >= 0; g++) {
        const eai_topo_group_t *gr = eai_topo_group(t, g);
        if (k < gr->count) {
            int w = snprintf(buf, n, "%s-%" PRId64, gr->name, k);
            if (w < 0 || (size_t)w >= n)
                return eai_fail(EAI_E_INVALID, "node name buffer of %zu bytes too small", n);
            return EAI_OK;
        }
        k -= gr->count;
    }
    return eai_fail(EAI_E_INVALID, "node %" PRId64 ": the topology has %" PRId64 " nodes", k0,
                    eai_node_count(t));
}

int64_t eai_node_expected_samples(const eai_topo_t *t, const char *name, double seconds)
{
    int g;
    int64_t idx;
    if (eai__node_parse_name(t, name, &g, &idx) != EAI_OK) return -1;
    if (!(eai_topo_group(t, g)->roles & EAI_TOPO_ROLE_SENSOR)) return 0;
    if (seconds <= 0) seconds = eai_topo_duration_s(t);
    return (int64_t)llround(seconds * eai__node_group_rate(t, g));
}

eai_status_t eai_node_default_prefix(const eai_topo_t *t, char *buf, size_t n)
{
    const char *nm = eai_topo_name(t);
    int w = snprintf(buf, n, "edgeai/node/%s", nm && *nm ? nm : "topology");
    if (w < 0 || (size_t)w >= n)
        return eai_fail(EAI_E_INVALID, "topic prefix buffer of %zu bytes too small", n);
    for (char *p = buf + strlen("edgeai/node/"); *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') *p = '_';
    return EAI_OK;
}

static const eai_topo_link_t *find_link(const eai_topo_t *t, eai_topo_tier_t from,
                                        eai_topo_tier_t to)
{
    for (int i = 0; i < eai_topo_n_links(t); i++) {
        const eai_topo_link_t *l = eai_topo_link(t, i);
        if (l->from == from && l->to == to) return l;
    }
    return NULL;
}

static eai_status_t add_child(eai_node_t *n, const char *name, eai_topo_tier_t tier)
{
    node_child_t *c = &n->ch[n->n_ch];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->ack_topic, sizeof c->ack_topic, "%s/%s/ack/%s", n->prefix, eai_topo_tier_name(tier),
             name);
    const eai_topo_link_t *l = find_link(n->t, tier, n->tier);
    if (l) {
        c->lat_ms = l->latency_ms;
        c->jit_ms = l->jitter_ms;
        c->loss = l->loss;
    }
    if (eai__strmap_put(&n->ch_map, c->name, n->n_ch) != EAI_OK)
        return eai_fail(EAI_E_NOMEM, "node %s: child map", n->name);
    n->n_ch++;
    return EAI_OK;
}

/* The children of group g instance j: for every group c whose parent is g,
 * instances ceil(j*cn/m) .. ceil((j+1)*cn/m)-1 (inverse of floor(i*m/cn)). */
static eai_status_t find_children(eai_node_t *n)
{
    const eai_topo_t *t = n->t;
    int64_t m = eai_topo_group(t, n->group)->count, j = n->index, total = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int g = 0; g < eai_topo_n_groups(t); g++) {
            const eai_topo_group_t *c = eai_topo_group(t, g);
            if (c->parent != n->group) continue;
            int64_t lo = (j * c->count + m - 1) / m, hi = ((j + 1) * c->count + m - 1) / m;
            if (pass == 0) {
                total += hi - lo;
                continue;
            }
            for (int64_t i = lo; i < hi; i++) {
                char nm[NODE_NAME_MAX];
                snprintf(nm, sizeof nm, "%s-%" PRId64, c->name, i);
                EAI_TRY(add_child(n, nm, c->tier));
            }
        }
        if (pass == 0) {
            if (total > INT32_MAX / 2)
                return eai_fail(EAI_E_INVALID, "node %s: %" PRId64 " children", n->name, total);
            n->ch = eai__calloc(&n->alloc, (size_t)(total ? total : 1), sizeof *n->ch);
            if (!n->ch)
                return eai_fail(EAI_E_NOMEM, "node %s: %" PRId64 " children", n->name, total);
            EAI_TRY(eai__strmap_init(&n->ch_map, &n->alloc, (size_t)total + 1));
        }
    }
    return EAI_OK;
}

static eai_status_t check_opts(eai_node_opts_t *o)
{
    if (!o->name) return eai_fail(EAI_E_INVALID, "node: opts.name is required");
    if (o->seconds < 0 || !isfinite(o->seconds))
        return eai_fail(EAI_E_INVALID, "node %s: seconds must be >= 0", o->name);
    if (o->payload_bytes > NODE_MAX_PAYLOAD)
        return eai_fail(EAI_E_INVALID, "node %s: payload_bytes %d > %d", o->name, o->payload_bytes,
                        NODE_MAX_PAYLOAD);
    if (o->outbox_max < 0 || o->outbox_max > NODE_MAX_OUT)
        return eai_fail(EAI_E_INVALID, "node %s: outbox_max must be in [1, %d]", o->name,
                        NODE_MAX_OUT);
    if (o->batch_max < 0 || o->batch_ms < 0 || o->resend_ms < 0)
        return eai_fail(EAI_E_INVALID, "node %s: batch_max, batch_ms, resend_ms must be >= 0",
                        o->name);
    if (!o->outbox_max) o->outbox_max = 256;
    if (!o->batch_max) o->batch_max = 64;
    if (!o->batch_ms) o->batch_ms = 100;
    if (!o->resend_ms) o->resend_ms = 1000;
    return EAI_OK;
}

static eai_status_t setup(eai_node_t *n)
{
    const eai_topo_t *t = n->t;
    EAI_TRY(eai__node_parse_name(t, n->o.name, &n->group, &n->index));
    snprintf(n->name, sizeof n->name, "%s", n->o.name);
    const eai_topo_group_t *g = eai_topo_group(t, n->group);
    n->tier = g->tier;
    n->sensor = (g->roles & EAI_TOPO_ROLE_SENSOR) != 0;
    if (n->o.prefix) {
        if (strlen(n->o.prefix) >= sizeof n->prefix || !eai_topic_name_valid(n->o.prefix))
            return eai_fail(EAI_E_INVALID, "node %s: bad topic prefix '%s'", n->name, n->o.prefix);
        snprintf(n->prefix, sizeof n->prefix, "%s", n->o.prefix);
    } else {
        EAI_TRY(eai_node_default_prefix(t, n->prefix, sizeof n->prefix));
    }
    const char *tn = eai_topo_tier_name(n->tier);
    snprintf(n->in_topic, sizeof n->in_topic, "%s/%s/up/%s", n->prefix, tn, n->name);
    snprintf(n->ack_topic, sizeof n->ack_topic, "%s/%s/ack/%s", n->prefix, tn, n->name);
    if (g->parent >= 0) {
        const eai_topo_group_t *p = eai_topo_group(t, g->parent);
        n->has_parent = true;
        n->parent_tier = p->tier;
        snprintf(n->parent, sizeof n->parent, "%s-%" PRId64, p->name,
                 n->index * p->count / g->count);
        snprintf(n->up_topic, sizeof n->up_topic, "%s/%s/up/%s", n->prefix,
                 eai_topo_tier_name(p->tier), n->parent);
        const eai_topo_link_t *l = find_link(t, n->tier, p->tier);
        if (l) {
            n->up_lat_ms = l->latency_ms;
            n->up_jit_ms = l->jitter_ms;
            n->up_loss = l->loss;
        }
    }
    EAI_TRY(find_children(n));
    if (n->sensor) {
        n->rate = eai__node_group_rate(t, n->group);
        n->n_expected = (int64_t)llround(n->o.seconds * n->rate);
    }
    if (n->o.payload_bytes == 0) {
        int64_t ib = 32;
        for (int mi = 0; g->model && mi < eai_topo_n_models(t); mi++)
            if (strcmp(eai_topo_model(t, mi)->name, g->model) == 0)
                ib = eai_topo_model(t, mi)->input_bytes;
        n->payload_bytes = (int)(ib > NODE_MAX_PAYLOAD ? NODE_MAX_PAYLOAD : ib > 0 ? ib : 32);
    } else {
        n->payload_bytes = n->o.payload_bytes < 0 ? 0 : n->o.payload_bytes;
    }
    n->out = eai__calloc(&n->alloc, (size_t)n->o.outbox_max, sizeof *n->out);
    if (!n->out) return eai_fail(EAI_E_NOMEM, "node %s: outbox", n->name);
    EAI_TRY(eai__node_set_init(&n->set, &n->alloc));
    n->rng = eai__node_mix(n->o.seed ^ eai__node_fnv(n->name) ^ 0x5eedull);
    bool found;
    EAI_TRY(eai__node_state_load(n, &found));
    if (found) {
        n->led.restarts++;
        n->dirty = true;
        eai__log(EAI_LOG_INFO, "node %s: restored: seq %" PRIu64 ", %d unacknowledged", n->name,
                 n->next_seq, n->n_out);
    }
    if (n->has_parent) EAI_TRY(eai_transport_subscribe(n->tr, n->ack_topic, 1));
    if (n->n_ch) EAI_TRY(eai_transport_subscribe(n->tr, n->in_topic, 1));
    return EAI_OK;
}

eai_status_t eai_node_create(const eai_topo_t *t, eai_transport_t *tr, const eai_node_opts_t *o,
                             eai_node_t **out)
{
    if (!t || !tr || !o || !out) return eai_fail(EAI_E_INVALID, "node: NULL argument");
    eai_node_opts_t opts = *o;
    EAI_TRY(check_opts(&opts));
    if (opts.seconds == 0) opts.seconds = eai_topo_duration_s(t);
    if (opts.seed == 0) opts.seed = eai_topo_seed(t);
    eai_node_t *n = eai__calloc(&opts.alloc, 1, sizeof *n);
    if (!n) return eai_fail(EAI_E_NOMEM, "node: handle");
    n->alloc = opts.alloc;
    n->t = t;
    n->tr = tr;
    n->o = opts;
    n->scratch.a = &n->alloc;
    eai_status_t st = EAI_OK;
    if (opts.state_dir && !(n->state_dir = eai__strdup(&n->alloc, opts.state_dir)))
        st = eai_fail(EAI_E_NOMEM, "node: state_dir");
    n->o.state_dir = NULL; /* copies live in n; name and prefix only during setup */
    if (st == EAI_OK) st = setup(n);
    n->o.name = n->o.prefix = NULL;
    if (st != EAI_OK) {
        eai_node_destroy(n, true);
        return st;
    }
    *out = n;
    return EAI_OK;
}

void eai_node_destroy(eai_node_t *n, bool crash)
{
    if (!n) return;
    if (!crash && n->started && eai__node_state_save(n) != EAI_OK)
        eai__log(EAI_LOG_WARN, "node %s: saving state: %s", n->name, eai_last_error());
    for (int i = 0; i < n->n_out; i++)
        eai__free(&n->alloc, n->out[i].bytes);
    eai__free(&n->alloc, n->out);
    for (int i = 0; i < n->n_ch; i++)
        eai__free(&n->alloc, n->ch[i].acks);
    eai__free(&n->alloc, n->ch);
    if (n->ch_map.keys) eai__strmap_free(&n->ch_map);
    for (size_t i = 0; i < n->n_emu; i++) {
        eai__free(&n->alloc, n->emu[i].topic);
        eai__free(&n->alloc, n->emu[i].bytes);
    }
    eai__free(&n->alloc, n->emu);
    eai__free(&n->alloc, n->pend);
    eai__node_set_free(&n->set);
    eai__node_buf_free(&n->scratch);
    eai__free(&n->alloc, n->state_dir);
    eai_allocator_t a = n->alloc;
    eai__free(&a, n);
}
