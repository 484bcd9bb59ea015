/* Every node of a topology in one process over the in-process bus, on a
 * virtual clock (deterministic: fixed node order, seeded values, no sleeps),
 * with scripted drop-outs; and the mosquitto.conf writer for one broker per
 * tier bridged to the next tier up. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "edgeai/log.h"
#include "node/node_impl.h"

typedef struct slot {
    char name[NODE_NAME_MAX];
    eai_transport_t *tr;
    eai_node_t *node;
    double down_until; /* > now: dropped out */
    bool root;
} slot_t;

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static eai_status_t start_slot(const eai_topo_t *t, eai_bus_t *bus, const eai_node_opts_t *tmpl,
                               slot_t *s)
{
    /* a big receive queue: one thread drives every node, so a QoS 1 publish
     * to a full queue would only wait for itself */
    eai_transport_opts_t to = {.client_id = s->name, .max_queue = 1u << 20, .op_timeout_ms = 1};
    EAI_TRY(eai_transport_inproc(bus, &to, &s->tr));
    eai_node_opts_t o = *tmpl;
    o.name = s->name;
    eai_status_t st = eai_node_create(t, s->tr, &o, &s->node);
    if (st != EAI_OK) {
        eai_transport_destroy(s->tr);
        s->tr = NULL;
    }
    return st;
}

static void stop_slot(slot_t *s, bool crash)
{
    eai_node_destroy(s->node, crash);
    if (s->tr && !crash) eai_transport_disconnect(s->tr);
    eai_transport_destroy(s->tr);
    s->node = NULL;
    s->tr = NULL;
}

static void rm_state_dir(const char *dir, slot_t *slots, int64_t n)
{
    char p[600];
    for (int64_t i = 0; i < n; i++) {
        snprintf(p, sizeof p, "%s/%s.state", dir, slots[i].name);
        unlink(p);
    }
    rmdir(dir);
}

static eai_status_t write_ledgers(const char *dir, slot_t *slots, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        if (!slots[i].node) continue;
        char p[600];
        snprintf(p, sizeof p, "%s/%s.ledger", dir, slots[i].name);
        FILE *f = fopen(p, "w");
        if (!f) return eai_fail(EAI_E_IO, "%s: %s", p, strerror(errno));
        eai_status_t st = eai_node_write_ledger(slots[i].node, f);
        if (fclose(f) != 0 && st == EAI_OK) st = eai_fail(EAI_E_IO, "%s: write failed", p);
        EAI_TRY(st);
    }
    return EAI_OK;
}

static eai_status_t run(const eai_topo_t *t, const eai_node_run_opts_t *o, eai_node_opts_t *tmpl,
                        slot_t *slots, int64_t n, eai_bus_t *bus, eai_node_report_t *r)
{
    double tick = (o->tick_ms > 0 ? o->tick_ms : 5) / 1000.0;
    double limit = o->limit_s > 0 ? o->limit_s : 10 * tmpl->seconds + 60;
    for (int64_t i = 0; i < n; i++) {
        EAI_TRY(eai_node_name_at(t, i, slots[i].name, sizeof slots[i].name));
        int g;
        int64_t idx;
        EAI_TRY(eai__node_parse_name(t, slots[i].name, &g, &idx));
        slots[i].root = eai_topo_group(t, g)->parent < 0;
        int64_t e = eai_node_expected_samples(t, slots[i].name, tmpl->seconds);
        r->expected += (uint64_t)e;
        for (int64_t k = 0; k < e; k++)
            r->expected_sum += eai_node_sample_value(tmpl->seed, slots[i].name, (uint64_t)k);
    }
    for (int f = 0; f < o->n_faults; f++) {
        const eai_node_fault_t *ft = &o->faults[f];
        int g;
        int64_t idx;
        if (!ft->name || eai__node_parse_name(t, ft->name, &g, &idx) != EAI_OK)
            return eai_fail(EAI_E_INVALID, "fault %d: %s", f, eai_last_error());
        if (!(ft->at_s >= 0) || !(ft->down_s >= 0))
            return eai_fail(EAI_E_INVALID, "fault %d (%s): at_s and down_s must be >= 0", f,
                            ft->name);
    }
    for (int64_t i = 0; i < n; i++)
        EAI_TRY(start_slot(t, bus, tmpl, &slots[i]));

    bool *fired = NULL;
    if (o->n_faults) {
        fired = eai__calloc(NULL, (size_t)o->n_faults, sizeof *fired);
        if (!fired) return eai_fail(EAI_E_NOMEM, "node run: faults");
    }
    eai_status_t st = EAI_OK;
    double now = 0;
    for (;;) {
        for (int f = 0; f < o->n_faults; f++) {
            if (fired[f] || now < o->faults[f].at_s) continue;
            fired[f] = true;
            for (int64_t i = 0; i < n; i++)
                if (strcmp(slots[i].name, o->faults[f].name) == 0 && slots[i].node) {
                    stop_slot(&slots[i], true);
                    slots[i].down_until = now + o->faults[f].down_s;
                }
        }
        bool all_done = true;
        for (int64_t i = 0; i < n && st == EAI_OK; i++) {
            slot_t *s = &slots[i];
            if (!s->node) {
                if (now < s->down_until) {
                    all_done = false;
                    continue;
                }
                if ((st = start_slot(t, bus, tmpl, s)) != EAI_OK) break;
            }
            st = eai_node_step(s->node, now, 0);
            if (!eai_node_done(s->node)) all_done = false;
        }
        if (st != EAI_OK) break;
        bool pending = false;
        for (int f = 0; f < o->n_faults; f++)
            pending |= !fired[f];
        if ((all_done && !pending) || now >= limit) {
            r->complete = all_done && !pending;
            break;
        }
        now += tick;
    }
    eai__free(NULL, fired);
    r->sim_s = now;
    if (st == EAI_OK && o->ledger_dir) st = write_ledgers(o->ledger_dir, slots, n);
    for (int64_t i = 0; i < n; i++) {
        if (!slots[i].node) continue;
        eai_node_ledger_t l;
        eai_node_get_ledger(slots[i].node, &l);
        r->generated += l.generated;
        r->sample_dups += l.sample_dups;
        r->duplicates += l.duplicates;
        r->resent += l.resent;
        r->messages += l.sent + l.resent + l.acks_sent;
        r->emu_dropped += l.emu_dropped;
        if (slots[i].root) {
            if (r->at_root == 0 && r->root_sum == 0) r->root = l;
            r->at_root += eai__node_set_count(&slots[i].node->set);
            r->root_sum += l.sum;
        }
    }
    return st;
}

eai_status_t eai_node_run_inproc(const eai_topo_t *t, const eai_node_run_opts_t *o,
                                 eai_node_report_t *report)
{
    if (!t || !report) return eai_fail(EAI_E_INVALID, "node run: NULL argument");
    eai_node_run_opts_t def = {0};
    if (!o) o = &def;
    if (o->seconds < 0 || o->limit_s < 0 || o->tick_ms < 0 || o->n_faults < 0 ||
        (o->n_faults && !o->faults))
        return eai_fail(EAI_E_INVALID, "node run: negative seconds, limit, tick or faults");
    eai_node_opts_t tmpl = o->node ? *o->node : (eai_node_opts_t){0};
    tmpl.seconds = o->seconds > 0     ? o->seconds
                   : tmpl.seconds > 0 ? tmpl.seconds
                                      : eai_topo_duration_s(t);
    tmpl.seed = o->seed ? o->seed : tmpl.seed ? tmpl.seed : eai_topo_seed(t);
    memset(report, 0, sizeof *report);
    double w0 = wall_now();
    int64_t n = eai_node_count(t);
    report->n_nodes = n;
    /* restarts need somewhere to restore from: a private state folder */
    char tmpdir[64] = "";
    if (o->n_faults && !tmpl.state_dir) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/eai-node-XXXXXX");
        if (!mkdtemp(tmpdir)) return eai_fail(EAI_E_IO, "node run: mkdtemp: %s", strerror(errno));
        tmpl.state_dir = tmpdir;
    }
    slot_t *slots = eai__calloc(NULL, (size_t)n, sizeof *slots);
    eai_bus_t *bus = NULL;
    eai_status_t st = slots ? eai_bus_create(NULL, &bus)
                            : eai_fail(EAI_E_NOMEM, "node run: %" PRId64 " nodes", n);
    if (st == EAI_OK) st = run(t, o, &tmpl, slots, n, bus, report);
    for (int64_t i = 0; slots && i < n; i++)
        if (slots[i].tr) stop_slot(&slots[i], false);
    eai_bus_destroy(bus);
    if (tmpdir[0]) rm_state_dir(tmpdir, slots, slots ? n : 0);
    eai__free(NULL, slots);
    report->wall_s = wall_now() - w0;
    return st;
}

/* ---- brokers per tier ---- */

eai_status_t eai_node_write_broker_conf(const eai_topo_t *t, eai_topo_tier_t tier,
                                        const char *prefix, int port, int parent_port,
                                        const char *dir, const char *path)
{
    if (!t || !dir || !path || port <= 0 || port > 65535 || parent_port < 0 ||
        parent_port > 65535 || (int)tier < 0 || tier >= EAI_TOPO_N_TIERS)
        return eai_fail(EAI_E_INVALID, "broker conf: bad argument (port %d, parent %d)", port,
                        parent_port);
    char pre[160];
    if (prefix)
        snprintf(pre, sizeof pre, "%s", prefix);
    else
        EAI_TRY(eai_node_default_prefix(t, pre, sizeof pre));
    FILE *f = fopen(path, "w");
    if (!f) return eai_fail(EAI_E_IO, "%s: %s", path, strerror(errno));
    const char *tn = eai_topo_tier_name(tier);
    fprintf(f,
            "# edgeai topo up: the %s tier's broker\n"
            "listener %d 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            "persistence_location %s/\n"
            "persistence_file %s.db\n"
            "max_queued_messages 100000\n"
            "max_inflight_messages 100\n",
            tn, port, dir, tn);
    if (getuid() == 0) fprintf(f, "user root\n"); /* mosquitto drops to 'mosquitto' otherwise */
    if (parent_port > 0) {
        /* Data goes up, acknowledgements come down; a topic names the tier
         * of its receiver, so each direction is bridged exactly once per hop
         * and nothing loops. */
        fprintf(f,
                "\nconnection %s-up\n"
                "address 127.0.0.1:%d\n"
                "clientid edgeai-bridge-%s-%d\n"
                "cleansession false\n"
                "bridge_protocol_version mqttv311\n"
                "notifications false\n"
                "try_private true\n"
                "restart_timeout 1 4\n"
                "keepalive_interval 10\n",
                tn, parent_port, tn, port);
        for (int u = (int)tier + 1; u < EAI_TOPO_N_TIERS; u++)
            fprintf(f, "topic %s/%s/up/# out 1\n", pre, eai_topo_tier_name((eai_topo_tier_t)u));
        for (int d = 0; d <= (int)tier; d++)
            fprintf(f, "topic %s/%s/ack/# in 1\n", pre, eai_topo_tier_name((eai_topo_tier_t)d));
    }
    if (fclose(f) != 0) return eai_fail(EAI_E_IO, "%s: write failed", path);
    return EAI_OK;
}
