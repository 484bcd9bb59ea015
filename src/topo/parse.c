/* The JSON topology (cJSON) into an eai_topo_t. Every error names the JSON
 * path of the offending value ("nodes[2].count: must be >= 1, got 0"); unknown
 * keys are errors too, so a typo never silently falls back to a default. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "topo/topo_impl.h"

/* The seed's budgets: device < 5 ms, local 5-20, regional 20-100, cloud 100-500. */
static const double k_budget[EAI_TOPO_N_TIERS][2] = {{0, 5}, {5, 20}, {20, 100}, {100, 500}};

static eai_status_t bad(const char *path, const char *what)
{
    return eai_fail(EAI_E_FORMAT, "%s: %s", path, what);
}

/* Rejects keys not in `known` (NULL-terminated). */
static eai_status_t check_keys(const cJSON *o, const char *path, const char *const *known)
{
    if (!cJSON_IsObject(o)) return bad(path, "must be an object");
    for (const cJSON *c = o->child; c; c = c->next) {
        for (const cJSON *d = o->child; d != c; d = d->next)
            if (strcmp(c->string, d->string) == 0) /* cJSON would silently use the first */
                return eai_fail(EAI_E_FORMAT, "%s.%s: duplicate key", path, c->string);
        bool ok = false;
        for (int i = 0; known[i] && !ok; i++)
            ok = strcmp(c->string, known[i]) == 0;
        if (!ok) {
            char list[512] = "";
            for (int i = 0; known[i]; i++) {
                strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
                strncat(list, known[i], sizeof list - strlen(list) - 1);
            }
            return eai_fail(EAI_E_FORMAT, "%s.%s: unknown key (known: %s)", path, c->string, list);
        }
    }
    return EAI_OK;
}

/* Optional number in [lo, hi]; *v untouched when absent. */
static eai_status_t num(const cJSON *o, const char *path, const char *key, double lo, double hi,
                        double *v)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!j) return EAI_OK;
    if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble))
        return eai_fail(EAI_E_FORMAT, "%s.%s: must be a number", path, key);
    if (j->valuedouble < lo || j->valuedouble > hi)
        return eai_fail(EAI_E_FORMAT, "%s.%s: must be in [%g, %g], got %g", path, key, lo, hi,
                        j->valuedouble);
    *v = j->valuedouble;
    return EAI_OK;
}

static eai_status_t int64v(const cJSON *o, const char *path, const char *key, int64_t lo,
                           int64_t hi, int64_t *v)
{
    double d = (double)*v;
    EAI_TRY(num(o, path, key, (double)lo, (double)hi, &d));
    if (d != floor(d)) return eai_fail(EAI_E_FORMAT, "%s.%s: must be an integer", path, key);
    *v = (int64_t)d;
    return EAI_OK;
}

/* Optional string; *v untouched when absent. */
static eai_status_t str(const cJSON *o, const char *path, const char *key, const char **v)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!j) return EAI_OK;
    if (!cJSON_IsString(j) || !j->valuestring[0])
        return eai_fail(EAI_E_FORMAT, "%s.%s: must be a non-empty string", path, key);
    *v = j->valuestring;
    return EAI_OK;
}

static eai_status_t dup(eai_topo_t *t, const char *s, const char **out)
{
    if (!s) {
        *out = NULL;
        return EAI_OK;
    }
    char *d = eai__strdup(&t->alloc, s);
    if (!d) return eai_fail(EAI_E_NOMEM, "topo: out of memory");
    *out = d;
    return EAI_OK;
}

static eai_status_t tier_of(const char *s, const char *path, eai_topo_tier_t *out)
{
    for (int i = 0; i < EAI_TOPO_N_TIERS; i++)
        if (strcmp(s, eai_topo_tier_name((eai_topo_tier_t)i)) == 0) {
            *out = (eai_topo_tier_t)i;
            return EAI_OK;
        }
    return eai_fail(EAI_E_FORMAT, "%s: unknown tier '%s' (device, gateway, regional, cloud)", path,
                    s);
}

static eai_status_t parse_tiers(eai_topo_t *t, const cJSON *o)
{
    static const char *const keys[] = {"device", "gateway", "regional", "cloud", NULL};
    EAI_TRY(check_keys(o, "tiers", keys));
    for (int i = 0; i < EAI_TOPO_N_TIERS; i++) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, keys[i]);
        if (!e) continue;
        char path[64];
        snprintf(path, sizeof path, "tiers.%s", keys[i]);
        static const char *const ek[] = {"budget_ms", NULL};
        EAI_TRY(check_keys(e, path, ek));
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(e, "budget_ms");
        if (!b) continue;
        if (!cJSON_IsArray(b) || cJSON_GetArraySize(b) != 2 ||
            !cJSON_IsNumber(cJSON_GetArrayItem(b, 0)) || !cJSON_IsNumber(cJSON_GetArrayItem(b, 1)))
            return eai_fail(EAI_E_FORMAT, "%s.budget_ms: must be [lo, hi] in ms", path);
        double lo = cJSON_GetArrayItem(b, 0)->valuedouble,
               hi = cJSON_GetArrayItem(b, 1)->valuedouble;
        if (!(lo >= 0 && hi > lo))
            return eai_fail(EAI_E_FORMAT, "%s.budget_ms: need 0 <= lo < hi, got [%g, %g]", path, lo,
                            hi);
        t->budget_lo[i] = lo;
        t->budget_hi[i] = hi;
    }
    return EAI_OK;
}

static eai_status_t parse_models(eai_topo_t *t, const cJSON *o)
{
    if (!cJSON_IsObject(o)) return bad("models", "must be an object of name: {...}");
    for (const cJSON *m = o->child; m; m = m->next) {
        if (t->n_models == TOPO_MAX_MODELS)
            return eai_fail(EAI_E_FORMAT, "models: more than %d models", TOPO_MAX_MODELS);
        char path[160];
        snprintf(path, sizeof path, "models.%.100s", m->string);
        static const char *const keys[] = {"path",        "host_ms",      "train_ms", "bytes",
                                           "input_bytes", "output_bytes", NULL};
        EAI_TRY(check_keys(m, path, keys));
        eai_topo_model_t *md = &t->models[t->n_models];
        const char *p = NULL;
        EAI_TRY(str(m, path, "path", &p));
        md->host_ms = -1;
        md->bytes = -1;
        md->input_bytes = 0;
        md->output_bytes = 0;
        EAI_TRY(num(m, path, "host_ms", 0, 1e7, &md->host_ms));
        EAI_TRY(num(m, path, "train_ms", 0, 1e10, &md->train_ms));
        EAI_TRY(int64v(m, path, "bytes", 0, INT64_C(1) << 40, &md->bytes));
        EAI_TRY(int64v(m, path, "input_bytes", 0, INT64_C(1) << 32, &md->input_bytes));
        EAI_TRY(int64v(m, path, "output_bytes", 0, INT64_C(1) << 32, &md->output_bytes));
        if (md->host_ms < 0)
            return eai_fail(EAI_E_FORMAT,
                            "%s.host_ms: required (measured ms per inference; bench/issue8.py "
                            "writes a service file with it)",
                            path);
        if (md->bytes < 0) { /* the real file's size, so FL traffic is the real model's */
            struct stat st;
            if (!p || stat(p, &st) != 0)
                return eai_fail(EAI_E_FORMAT, "%s: give \"bytes\" or a readable \"path\"%s%s", path,
                                p ? " (cannot stat " : "", p ? p : "");
            md->bytes = (int64_t)st.st_size;
        }
        EAI_TRY(dup(t, m->string, &md->name));
        EAI_TRY(dup(t, p, &md->path));
        t->n_models++;
    }
    return EAI_OK;
}

static eai_status_t parse_roles(const cJSON *r, const char *path, unsigned *roles)
{
    static const char *const names[] = {"sensor", "inference", "aggregation", "training"};
    if (!cJSON_IsArray(r)) return eai_fail(EAI_E_FORMAT, "%s.roles: must be an array", path);
    *roles = 0;
    int i = 0;
    for (const cJSON *e = r->child; e; e = e->next, i++) {
        unsigned bit = 0;
        for (int k = 0; k < 4 && cJSON_IsString(e); k++)
            if (strcmp(e->valuestring, names[k]) == 0) bit = 1u << k;
        if (!bit)
            return eai_fail(EAI_E_FORMAT,
                            "%s.roles[%d]: unknown role (sensor, inference, aggregation, training)",
                            path, i);
        *roles |= bit;
    }
    return EAI_OK;
}

static eai_status_t parse_nodes(eai_topo_t *t, const cJSON *a, const char **parents)
{
    if (!cJSON_IsArray(a) || !a->child) return bad("nodes", "must be a non-empty array");
    int i = 0;
    for (const cJSON *n = a->child; n; n = n->next, i++) {
        if (i == TOPO_MAX_GROUPS)
            return eai_fail(EAI_E_FORMAT, "nodes: more than %d groups", TOPO_MAX_GROUPS);
        char path[32];
        snprintf(path, sizeof path, "nodes[%d]", i);
        static const char *const keys[] = {"name",   "tier",   "count",   "hardware", "roles",
                                           "model",  "parent", "rate_hz", "cores",    "gops",
                                           "idle_w", "load_w", "min_ms",  NULL};
        EAI_TRY(check_keys(n, path, keys));
        eai_topo_group_t *g = &t->groups[i];
        const char *name = NULL, *tier = NULL, *hw = NULL, *model = NULL;
        EAI_TRY(str(n, path, "name", &name));
        EAI_TRY(str(n, path, "tier", &tier));
        EAI_TRY(str(n, path, "hardware", &hw));
        EAI_TRY(str(n, path, "model", &model));
        EAI_TRY(str(n, path, "parent", &parents[i]));
        if (!name) return eai_fail(EAI_E_FORMAT, "%s.name: required", path);
        if (!tier) return eai_fail(EAI_E_FORMAT, "%s.tier: required", path);
        if (!hw) return eai_fail(EAI_E_FORMAT, "%s.hardware: required", path);
        for (int k = 0; k < i; k++)
            if (strcmp(t->groups[k].name, name) == 0)
                return eai_fail(EAI_E_FORMAT, "%s.name: '%s' repeats nodes[%d]", path, name, k);
        char tp[48];
        snprintf(tp, sizeof tp, "%s.tier", path);
        EAI_TRY(tier_of(tier, tp, &g->tier));
        const eai_hw_profile_t *p = eai_hw_profile_find(hw);
        if (!p) {
            char list[256] = "";
            for (int k = 0; k < eai_hw_profile_count(); k++) {
                strncat(list, k ? ", " : "", sizeof list - strlen(list) - 1);
                strncat(list, eai_hw_profile_at(k)->name, sizeof list - strlen(list) - 1);
            }
            return eai_fail(EAI_E_FORMAT, "%s.hardware: unknown profile '%s' (known: %s)", path, hw,
                            list);
        }
        g->hw = *p;
        g->count = 1;
        EAI_TRY(int64v(n, path, "count", 1, 10000000, &g->count));
        int64_t cores = p->cores;
        EAI_TRY(int64v(n, path, "cores", 1, 4096, &cores));
        g->hw.cores = (int)cores;
        EAI_TRY(num(n, path, "gops", 0, 1e9, &g->hw.gops));
        EAI_TRY(num(n, path, "idle_w", 0, 1e6, &g->hw.idle_w));
        EAI_TRY(num(n, path, "load_w", 0, 1e6, &g->hw.load_w));
        EAI_TRY(num(n, path, "min_ms", 0, 1e6, &g->hw.min_ms));
        if (g->hw.load_w < g->hw.idle_w)
            return eai_fail(EAI_E_FORMAT, "%s: load_w %g is below idle_w %g", path, g->hw.load_w,
                            g->hw.idle_w);
        t->rate_hz[i] = -1;
        EAI_TRY(num(n, path, "rate_hz", 0, 1e6, &t->rate_hz[i]));
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(n, "roles");
        g->roles = 0;
        if (r) EAI_TRY(parse_roles(r, path, &g->roles));
        if (model && eai__topo_model_index(t, model) < 0)
            return eai_fail(EAI_E_FORMAT, "%s.model: '%s' is not in \"models\"", path, model);
        if ((g->roles & EAI_TOPO_ROLE_INFERENCE) && !model)
            return eai_fail(EAI_E_FORMAT, "%s.model: required for the inference role", path);
        EAI_TRY(dup(t, name, &g->name));
        EAI_TRY(dup(t, model, &g->model));
        t->n_groups = i + 1;
    }
    return EAI_OK;
}

static eai_status_t parse_links(eai_topo_t *t, const cJSON *a)
{
    if (!cJSON_IsArray(a)) return bad("links", "must be an array");
    int i = 0;
    for (const cJSON *l = a->child; l; l = l->next, i++) {
        if (i == EAI_TOPO_MAX_LINKS)
            return eai_fail(EAI_E_FORMAT, "links: more than %d links", EAI_TOPO_MAX_LINKS);
        char path[32], tp[48];
        snprintf(path, sizeof path, "links[%d]", i);
        static const char *const keys[] = {"from",           "to",   "latency_ms", "jitter_ms",
                                           "bandwidth_mbps", "loss", "rto_ms",     NULL};
        EAI_TRY(check_keys(l, path, keys));
        eai_topo_link_t *k = &t->links[i];
        const char *from = NULL, *to = NULL;
        EAI_TRY(str(l, path, "from", &from));
        EAI_TRY(str(l, path, "to", &to));
        if (!from || !to)
            return eai_fail(EAI_E_FORMAT, "%s: \"from\" and \"to\" are required", path);
        snprintf(tp, sizeof tp, "%s.from", path);
        EAI_TRY(tier_of(from, tp, &k->from));
        snprintf(tp, sizeof tp, "%s.to", path);
        EAI_TRY(tier_of(to, tp, &k->to));
        if (k->to <= k->from)
            return eai_fail(EAI_E_FORMAT,
                            "%s: \"to\" (%s) must be a higher tier than \"from\" (%s)", path, to,
                            from);
        for (int j = 0; j < i; j++)
            if (t->links[j].from == k->from && t->links[j].to == k->to)
                return eai_fail(EAI_E_FORMAT, "%s: %s->%s repeats links[%d]", path, from, to, j);
        k->latency_ms = -1;
        k->bandwidth_mbps = -1;
        k->rto_ms = 200; /* Linux TCP_RTO_MIN */
        EAI_TRY(num(l, path, "latency_ms", 0, 1e6, &k->latency_ms));
        EAI_TRY(num(l, path, "jitter_ms", 0, 1e6, &k->jitter_ms));
        EAI_TRY(num(l, path, "bandwidth_mbps", 1e-6, 1e9, &k->bandwidth_mbps));
        EAI_TRY(num(l, path, "loss", 0, 0.99, &k->loss));
        EAI_TRY(num(l, path, "rto_ms", 0, 1e6, &k->rto_ms));
        if (k->latency_ms < 0) return eai_fail(EAI_E_FORMAT, "%s.latency_ms: required", path);
        if (k->bandwidth_mbps < 0)
            return eai_fail(EAI_E_FORMAT, "%s.bandwidth_mbps: required", path);
        t->n_links = i + 1;
    }
    return EAI_OK;
}

static eai_status_t resolve(eai_topo_t *t, const char **parents)
{
    for (int i = 0; i < t->n_groups; i++) {
        eai_topo_group_t *g = &t->groups[i];
        g->parent = -1;
        t->link_of[i] = -1;
        if (!parents[i]) continue;
        for (int k = 0; k < t->n_groups; k++)
            if (strcmp(t->groups[k].name, parents[i]) == 0) g->parent = k;
        if (g->parent < 0)
            return eai_fail(EAI_E_FORMAT, "nodes[%d].parent: no node group named '%s'", i,
                            parents[i]);
        const eai_topo_group_t *p = &t->groups[g->parent];
        /* strictly upward, which also rules out cycles */
        if (p->tier <= g->tier)
            return eai_fail(EAI_E_FORMAT,
                            "nodes[%d].parent: '%s' is in tier %s, not above this node's %s", i,
                            p->name, eai_topo_tier_name(p->tier), eai_topo_tier_name(g->tier));
        if (p->count > g->count)
            return eai_fail(EAI_E_FORMAT,
                            "nodes[%d].parent: '%s' has %lld nodes, more than this group's %lld "
                            "(some parents would have no children)",
                            i, p->name, (long long)p->count, (long long)g->count);
        for (int k = 0; k < t->n_links; k++)
            if (t->links[k].from == g->tier && t->links[k].to == p->tier) t->link_of[i] = k;
        if (t->link_of[i] < 0)
            return eai_fail(EAI_E_FORMAT, "nodes[%d]: no entry in \"links\" from %s to %s", i,
                            eai_topo_tier_name(g->tier), eai_topo_tier_name(p->tier));
    }
    return EAI_OK;
}

static eai_status_t parse_rest(eai_topo_t *t, const cJSON *root)
{
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(root, "workload");
    if (w) {
        static const char *const keys[] = {"rate_hz", "duration_s", "seed", "arrivals", NULL};
        EAI_TRY(check_keys(w, "workload", keys));
        EAI_TRY(num(w, "workload", "rate_hz", 1e-6, 1e6, &t->rate_hz_default));
        EAI_TRY(num(w, "workload", "duration_s", 1e-3, 1e7, &t->duration_s));
        int64_t seed = (int64_t)t->seed;
        EAI_TRY(int64v(w, "workload", "seed", 0, INT64_C(1) << 53, &seed));
        t->seed = (uint64_t)seed;
        const char *arr = NULL;
        EAI_TRY(str(w, "workload", "arrivals", &arr));
        if (arr && strcmp(arr, "poisson") == 0)
            t->arrivals = TOPO_POISSON;
        else if (arr && strcmp(arr, "periodic") == 0)
            t->arrivals = TOPO_PERIODIC;
        else if (arr)
            return bad("workload.arrivals", "must be \"poisson\" or \"periodic\"");
    }
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(root, "hybrid");
    if (h) {
        static const char *const keys[] = {"offload", "source", NULL};
        EAI_TRY(check_keys(h, "hybrid", keys));
        EAI_TRY(num(h, "hybrid", "offload", 0, 1, &t->offload));
    }
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, "federated");
    if (f) {
        static const char *const keys[] = {
            "round_s", "clients_per_round", "local_samples", "epochs", "model", NULL};
        EAI_TRY(check_keys(f, "federated", keys));
        EAI_TRY(num(f, "federated", "round_s", 1e-3, 1e7, &t->fl_round_s));
        EAI_TRY(int64v(f, "federated", "clients_per_round", 1, 10000000, &t->fl_clients));
        EAI_TRY(int64v(f, "federated", "local_samples", 1, INT64_C(1) << 32, &t->fl_local_samples));
        int64_t ep = t->fl_epochs;
        EAI_TRY(int64v(f, "federated", "epochs", 1, 10000, &ep));
        t->fl_epochs = (int)ep;
        const char *m = NULL;
        EAI_TRY(str(f, "federated", "model", &m));
        if (m && (t->fl_model = eai__topo_model_index(t, m)) < 0)
            return eai_fail(EAI_E_FORMAT, "federated.model: '%s' is not in \"models\"", m);
    }
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(root, "cost");
    if (c) {
        static const char *const keys[] = {"lifetime_years", "usd_per_kwh", "egress_usd_per_gb",
                                           NULL};
        EAI_TRY(check_keys(c, "cost", keys));
        EAI_TRY(num(c, "cost", "lifetime_years", 0.01, 100, &t->lifetime_years));
        EAI_TRY(num(c, "cost", "usd_per_kwh", 0, 100, &t->usd_per_kwh));
        EAI_TRY(num(c, "cost", "egress_usd_per_gb", 0, 100, &t->egress_usd_per_gb));
    }
    const cJSON *ho = cJSON_GetObjectItemCaseSensitive(root, "host");
    if (ho) {
        static const char *const keys[] = {"gops", "cpu", NULL};
        EAI_TRY(check_keys(ho, "host", keys));
        EAI_TRY(num(ho, "host", "gops", 1e-3, 1e9, &t->host_gops));
    }
    return EAI_OK;
}

static void defaults(eai_topo_t *t)
{
    for (int i = 0; i < EAI_TOPO_N_TIERS; i++) {
        t->budget_lo[i] = k_budget[i][0];
        t->budget_hi[i] = k_budget[i][1];
    }
    t->host_gops = 100; /* overridden by "host" or the service file; see docs/topo.md */
    t->rate_hz_default = 1;
    t->duration_s = 60;
    t->seed = 1;
    t->offload = 0.235; /* docs/hybrid.md: routed run at threshold 0.85, Fashion-MNIST */
    t->fl_round_s = 30;
    t->fl_clients = 10;
    t->fl_local_samples = 500;
    t->fl_epochs = 1;
    t->fl_model = -1;
    t->lifetime_years = 3;
    t->usd_per_kwh = 0.15;
    t->egress_usd_per_gb = 0.09;
}

static eai_status_t parse_root(eai_topo_t *t, const cJSON *root)
{
    static const char *const keys[] = {"name",      "tiers", "host",     "models",
                                       "nodes",     "links", "workload", "hybrid",
                                       "federated", "cost",  "comment",  NULL};
    EAI_TRY(check_keys(root, "$", keys));
    const char *name = "topology";
    EAI_TRY(str(root, "$", "name", &name));
    EAI_TRY(dup(t, name, (const char **)&t->name));
    const cJSON *j;
    if ((j = cJSON_GetObjectItemCaseSensitive(root, "tiers"))) EAI_TRY(parse_tiers(t, j));
    if ((j = cJSON_GetObjectItemCaseSensitive(root, "models"))) EAI_TRY(parse_models(t, j));
    const char *parents[TOPO_MAX_GROUPS] = {0};
    j = cJSON_GetObjectItemCaseSensitive(root, "nodes");
    if (!j) return bad("nodes", "required");
    const cJSON *links = cJSON_GetObjectItemCaseSensitive(root, "links");
    if (links) EAI_TRY(parse_links(t, links));
    EAI_TRY(parse_nodes(t, j, parents));
    EAI_TRY(resolve(t, parents));
    return parse_rest(t, root);
}

eai_status_t eai_topo_parse(const char *json, size_t n, const eai_allocator_t *alloc,
                            eai_topo_t **out)
{
    if (!json || !out) return eai_fail(EAI_E_INVALID, "eai_topo_parse: NULL argument");
    cJSON *root = cJSON_ParseWithLength(json, n);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        long off = at && at >= json && at <= json + n ? (long)(at - json) : -1;
        return eai_fail(EAI_E_FORMAT, "topology: invalid JSON near byte %ld", off);
    }
    eai_topo_t *t = eai__calloc(alloc, 1, sizeof *t);
    if (!t) {
        cJSON_Delete(root);
        return eai_fail(EAI_E_NOMEM, "topo: out of memory");
    }
    if (alloc) t->alloc = *alloc;
    defaults(t);
    eai_status_t st = cJSON_IsObject(root) ? parse_root(t, root) : bad("$", "must be an object");
    cJSON_Delete(root);
    if (st != EAI_OK) {
        eai_topo_destroy(t);
        return st;
    }
    *out = t;
    return EAI_OK;
}

eai_status_t eai_topo_load(const char *path, const eai_allocator_t *alloc, eai_topo_t **out)
{
    if (!path || !out) return eai_fail(EAI_E_INVALID, "eai_topo_load: NULL argument");
    void *buf;
    size_t n;
    EAI_TRY(eai__read_file(alloc, path, &buf, &n));
    eai_status_t st = eai_topo_parse(buf, n, alloc, out);
    eai__free_aligned(alloc, buf);
    if (st != EAI_OK && st != EAI_E_NOMEM) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", eai_last_error());
        return eai_fail(st, "%s: %s", path, msg);
    }
    return st;
}

void eai_topo_destroy(eai_topo_t *t)
{
    if (!t) return;
    const eai_allocator_t *a = &t->alloc;
    eai__free(a, t->name);
    for (int i = 0; i < t->n_groups; i++) {
        eai__free(a, (void *)t->groups[i].name);
        eai__free(a, (void *)t->groups[i].model);
    }
    for (int i = 0; i < t->n_models; i++) {
        eai__free(a, (void *)t->models[i].name);
        eai__free(a, (void *)t->models[i].path);
    }
    eai__free(a, t);
}

eai_status_t eai_topo_apply_service(eai_topo_t *t, const char *path)
{
    if (!t || !path) return eai_fail(EAI_E_INVALID, "eai_topo_apply_service: NULL argument");
    void *buf;
    size_t n;
    EAI_TRY(eai__read_file(&t->alloc, path, &buf, &n));
    cJSON *root = cJSON_ParseWithLength(buf, n);
    eai__free_aligned(&t->alloc, buf);
    if (!root) return eai_fail(EAI_E_FORMAT, "%s: invalid JSON", path);
    eai_status_t st = EAI_OK;
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(root, "host");
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(root, "models");
    double gops = t->host_gops;
    if (!cJSON_IsObject(root))
        st = eai_fail(EAI_E_FORMAT, "%s: $: must be an object", path);
    else if (h && !cJSON_IsObject(h))
        st = eai_fail(EAI_E_FORMAT, "%s: host: must be an object", path);
    else if (h && (st = num(h, "host", "gops", 1e-3, 1e9, &gops)) != EAI_OK) {
    } else if (ms && !cJSON_IsObject(ms))
        st = eai_fail(EAI_E_FORMAT, "%s: models: must be an object", path);
    /* validate everything before changing anything */
    double host_ms[TOPO_MAX_MODELS], train_ms[TOPO_MAX_MODELS];
    int64_t bytes[TOPO_MAX_MODELS];
    for (int i = 0; i < t->n_models; i++) {
        host_ms[i] = t->models[i].host_ms;
        train_ms[i] = t->models[i].train_ms;
        bytes[i] = t->models[i].bytes;
    }
    for (const cJSON *m = ms ? ms->child : NULL; st == EAI_OK && m; m = m->next) {
        int k = eai__topo_model_index(t, m->string);
        if (k < 0) continue;
        char mp[160];
        snprintf(mp, sizeof mp, "models.%.100s", m->string);
        if (!cJSON_IsObject(m))
            st = eai_fail(EAI_E_FORMAT, "%s: %s: must be an object", path, mp);
        else if ((st = num(m, mp, "host_ms", 0, 1e7, &host_ms[k])) == EAI_OK &&
                 (st = num(m, mp, "train_ms", 0, 1e10, &train_ms[k])) == EAI_OK)
            st = int64v(m, mp, "bytes", 0, INT64_C(1) << 40, &bytes[k]);
    }
    cJSON_Delete(root);
    if (st != EAI_OK) return st;
    t->host_gops = gops;
    for (int i = 0; i < t->n_models; i++) {
        t->models[i].host_ms = host_ms[i];
        t->models[i].train_ms = train_ms[i];
        t->models[i].bytes = bytes[i];
    }
    return EAI_OK;
}

/* ---- read-only views ---- */

int eai_topo_n_groups(const eai_topo_t *t)
{
    return t ? t->n_groups : 0;
}
const eai_topo_group_t *eai_topo_group(const eai_topo_t *t, int i)
{
    return t && i >= 0 && i < t->n_groups ? &t->groups[i] : NULL;
}
int eai_topo_n_links(const eai_topo_t *t)
{
    return t ? t->n_links : 0;
}
const eai_topo_link_t *eai_topo_link(const eai_topo_t *t, int i)
{
    return t && i >= 0 && i < t->n_links ? &t->links[i] : NULL;
}
int eai_topo_n_models(const eai_topo_t *t)
{
    return t ? t->n_models : 0;
}
const eai_topo_model_t *eai_topo_model(const eai_topo_t *t, int i)
{
    return t && i >= 0 && i < t->n_models ? &t->models[i] : NULL;
}
void eai_topo_tier_budget(const eai_topo_t *t, eai_topo_tier_t tier, double *lo_ms, double *hi_ms)
{
    unsigned k = (unsigned)tier < EAI_TOPO_N_TIERS ? (unsigned)tier : 0;
    if (lo_ms) *lo_ms = t->budget_lo[k];
    if (hi_ms) *hi_ms = t->budget_hi[k];
}
const char *eai_topo_name(const eai_topo_t *t)
{
    return t ? t->name : "";
}
double eai_topo_group_rate_hz(const eai_topo_t *t, int g)
{
    if (!t || g < 0 || g >= t->n_groups) return 0;
    return t->rate_hz[g] > 0 ? t->rate_hz[g] : t->rate_hz_default;
}
double eai_topo_duration_s(const eai_topo_t *t)
{
    return t ? t->duration_s : 0;
}
uint64_t eai_topo_seed(const eai_topo_t *t)
{
    return t ? t->seed : 0;
}
double eai_topo_service_ms(const eai_topo_t *t, int g, const char *model)
{
    int m = t ? eai__topo_model_index(t, model) : -1;
    if (m < 0 || g < 0 || g >= t->n_groups) return -1;
    return eai__topo_scale_ms(t, &t->groups[g].hw, t->models[m].host_ms);
}
