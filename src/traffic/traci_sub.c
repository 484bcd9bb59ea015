/* TraCI subscriptions: the subscribe commands, the decoder of the results
 * SUMO appends to every simulationStep reply (and to a subscribe reply), and
 * the table the eai_traci_sub_* readers look values up in without a round
 * trip. The table is rebuilt on every step in arrays that grow to the
 * largest step seen: after warm-up a step decodes without allocating.
 *
 * A result is [len][response][object id][(context: domain)][n vars] and then
 * per variable [var][status][typed value] (a variable subscription), or a
 * context's [int n objects] and per object [id] and its variables. A status
 * other than 0 carries SUMO's error as a typed string instead of a value. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/core_impl.h"
#include "traffic/traci_impl.h"

#define NO_CTX UINT32_MAX

/* ---- table ----------------------------------------------------------------- */

static uint64_t key_hash(int domain, const char *id, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a of the id, then the domain */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)id[i]) * 1099511628211ull;
    return (h ^ (uint64_t)domain) * 1099511628211ull;
}

void eai__traci_subs_clear(eai__traci_subs_t *s)
{
    s->n_objs = s->n_vals = 0;
    s->pool_len = 0;
    if (s->buckets) memset(s->buckets, 0xff, (size_t)s->n_buckets * sizeof *s->buckets);
}

void eai__traci_subs_free(eai__traci_subs_t *s)
{
    eai__free(s->alloc, s->objs);
    eai__free(s->alloc, s->vals);
    eai__free(s->alloc, s->pool);
    eai__free(s->alloc, s->buckets);
    eai__free(s->alloc, (void *)s->items);
    const eai_allocator_t *a = s->alloc;
    memset(s, 0, sizeof *s);
    s->alloc = a;
}

static eai_status_t nomem(void)
{
    return eai_fail(EAI_E_NOMEM, "traci: no memory for subscription results");
}

/* Grows an array of `size`-byte items to hold `need` (doubling). */
static eai_status_t grow(const eai_allocator_t *a, void **p, int *cap, int need, size_t size)
{
    if (need <= *cap) return EAI_OK;
    int c = *cap ? *cap : 64;
    while (c < need) {
        if (c > INT32_MAX / 2) return nomem();
        c *= 2;
    }
    void *nb = eai__realloc(a, *p, (size_t)c * size);
    if (!nb) return nomem();
    *p = nb;
    *cap = c;
    return EAI_OK;
}

/* Copies n bytes + NUL into the pool; *off gets where. */
static eai_status_t pool_add(eai__traci_subs_t *s, const uint8_t *b, size_t n, uint32_t *off)
{
    if (n + 1 > s->pool_cap - s->pool_len) {
        size_t c = s->pool_cap ? s->pool_cap : 4096;
        while (c - s->pool_len < n + 1)
            c *= 2;
        if (c >= NO_CTX) return nomem();
        char *nb = eai__realloc(s->alloc, s->pool, c);
        if (!nb) return nomem();
        s->pool = nb;
        s->pool_cap = c;
    }
    *off = (uint32_t)s->pool_len;
    if (n) memcpy(s->pool + s->pool_len, b, n);
    s->pool[s->pool_len + n] = 0;
    s->pool_len += n + 1;
    return EAI_OK;
}

static void link_obj(eai__traci_subs_t *s, int32_t i)
{
    size_t b = (size_t)(s->objs[i].h & (uint64_t)(s->n_buckets - 1));
    s->objs[i].next = s->buckets[b];
    s->buckets[b] = i;
}

/* Appends an object; its variables follow in vals. */
static eai_status_t add_obj(eai__traci_subs_t *s, int domain, const uint8_t *id, size_t n,
                            uint32_t ctx_off)
{
    EAI_TRY(grow(s->alloc, (void **)&s->objs, &s->cap_objs, s->n_objs + 1, sizeof *s->objs));
    if (2 * (s->n_objs + 1) > s->n_buckets) { /* keep chains short: rehash into twice as many */
        int nb = s->n_buckets ? 2 * s->n_buckets : 256;
        int32_t *b = eai__realloc(s->alloc, s->buckets, (size_t)nb * sizeof *b);
        if (!b) return nomem();
        s->buckets = b;
        s->n_buckets = nb;
        memset(b, 0xff, (size_t)nb * sizeof *b);
        for (int32_t i = 0; i < s->n_objs; i++)
            link_obj(s, i);
    }
    eai__traci_subobj_t *o = &s->objs[s->n_objs];
    memset(o, 0, sizeof *o);
    EAI_TRY(pool_add(s, id, n, &o->id_off));
    /* keyed by the C string the readers are given: up to a NUL, if any */
    const uint8_t *nul = n ? memchr(id, 0, n) : NULL;
    o->h = key_hash(domain, (const char *)id, nul ? (size_t)(nul - id) : n);
    o->domain = domain;
    o->ctx_off = ctx_off;
    o->v0 = s->n_vals;
    link_obj(s, s->n_objs++);
    return EAI_OK;
}

void eai__traci_subs_drop(eai__traci_subs_t *s, int domain, const char *id)
{
    bool ctx = domain >= 0x80 && domain <= 0x8f;
    for (int i = 0; i < s->n_objs; i++) {
        eai__traci_subobj_t *o = &s->objs[i];
        if (o->domain != domain) continue;
        const char *k =
            ctx ? (o->ctx_off == NO_CTX ? NULL : s->pool + o->ctx_off) : s->pool + o->id_off;
        if (k && strcmp(k, id) == 0) o->domain = 0; /* stays in its chain, never matches */
    }
}

const eai__traci_subobj_t *eai__traci_subs_find(const eai__traci_subs_t *s, int domain,
                                                const char *id, int var,
                                                const eai__traci_subval_t **val)
{
    if (!s->n_buckets || !id || domain == 0) return NULL; /* 0 marks dropped objects */
    uint64_t h = key_hash(domain, id, strlen(id));
    for (int32_t i = s->buckets[h & (uint64_t)(s->n_buckets - 1)]; i >= 0; i = s->objs[i].next) {
        const eai__traci_subobj_t *o = &s->objs[i];
        if (o->h != h || o->domain != domain || strcmp(s->pool + o->id_off, id) != 0) continue;
        if (var < 0) return o;
        for (int32_t k = o->v0; k < o->v0 + o->nv; k++)
            if (s->vals[k].var == var) {
                if (val) *val = &s->vals[k];
                return o;
            }
    }
    return NULL;
}

/* ---- decoder ---------------------------------------------------------------- */

static size_t left(const eai__traci_rd_t *r)
{
    return r->off < r->n ? r->n - r->off : 0;
}

static eai_status_t bad(const eai__traci_rd_t *r, const char *what, long a)
{
    char w[160], m[160];
    snprintf(m, sizeof m, what, a);
    return eai_fail(EAI_E_FORMAT, "traci: %s: %s (offset %zu of %zu)",
                    eai__traci_what(r, w, sizeof w), m, r->off, r->n);
}

static eai_status_t pool_str(eai__traci_rd_t *r, eai__traci_subs_t *s, uint32_t *off)
{
    const uint8_t *p = NULL;
    size_t n = 0;
    EAI_TRY(eai__traci_rd_strview(r, &p, &n));
    return pool_add(s, p, n, off);
}

/* One [var][status][typed value] into vals. */
static eai_status_t var_value(eai__traci_rd_t *r, eai__traci_subs_t *s)
{
    EAI_TRY(grow(s->alloc, (void **)&s->vals, &s->cap_vals, s->n_vals + 1, sizeof *s->vals));
    eai__traci_subval_t *v = &s->vals[s->n_vals];
    memset(v, 0, sizeof *v);
    uint8_t var = 0, status = 0, t = 0, u = 0;
    EAI_TRY(eai__traci_rd_u8(r, &var));
    EAI_TRY(eai__traci_rd_u8(r, &status));
    v->var = var;
    r->var = var;
    if (status != 0) { /* SUMO could not read this variable: its sentence instead */
        EAI_TRY(eai__traci_rd_type(r, EAI_TRACI_TYPE_STRING));
        EAI_TRY(pool_str(r, s, &v->off));
        v->kind = EAI__TRACI_SUB_ERR;
        s->n_vals++;
        return EAI_OK;
    }
    EAI_TRY(eai__traci_rd_u8(r, &t));
    switch (t) {
    case EAI_TRACI_TYPE_UBYTE:
    case EAI_TRACI_TYPE_BYTE:
        EAI_TRY(eai__traci_rd_u8(r, &u));
        v->kind = EAI__TRACI_INT;
        v->i = t == EAI_TRACI_TYPE_BYTE ? (int8_t)u : u;
        break;
    case EAI_TRACI_TYPE_INTEGER:
        v->kind = EAI__TRACI_INT;
        EAI_TRY(eai__traci_rd_i32(r, &v->i));
        break;
    case EAI_TRACI_TYPE_DOUBLE:
        v->kind = EAI__TRACI_DOUBLE;
        EAI_TRY(eai__traci_rd_f64(r, &v->d));
        break;
    case EAI_TRACI_TYPE_STRING:
        v->kind = EAI__TRACI_STRING;
        EAI_TRY(pool_str(r, s, &v->off));
        break;
    case EAI_TRACI_TYPE_STRINGLIST: {
        int32_t n = 0;
        EAI_TRY(eai__traci_rd_i32(r, &n));
        if (n < 0 || (size_t)n > left(r) / 4) return bad(r, "string list of %ld strings", n);
        v->kind = EAI__TRACI_STRLIST;
        v->n = (uint32_t)n;
        v->off = (uint32_t)s->pool_len;
        for (int32_t i = 0; i < n; i++) {
            uint32_t o;
            EAI_TRY(pool_str(r, s, &o));
        }
        break;
    }
    case EAI_TRACI_TYPE_POSITION2D:
    case EAI_TRACI_TYPE_POSITION3D:
        v->kind = EAI__TRACI_POS2D;
        EAI_TRY(eai__traci_rd_f64(r, &v->x));
        EAI_TRY(eai__traci_rd_f64(r, &v->y));
        if (t == EAI_TRACI_TYPE_POSITION3D) EAI_TRY(eai__traci_rd_f64(r, &v->d));
        break;
    default:
        v->kind = EAI__TRACI_OTHER;
        EAI_TRY(eai__traci_skip_value(r, t));
        break;
    }
    s->n_vals++;
    return EAI_OK;
}

/* One subscription result command. want_resp >= 0: it must answer that
 * subscription of want_id (a subscribe reply). */
static eai_status_t result(eai__traci_rd_t *r, eai__traci_subs_t *s, int want_resp,
                           const char *want_id)
{
    size_t end = 0;
    EAI_TRY(eai__traci_rd_cmd_len(r, &end));
    eai__traci_rd_t c = *r;
    c.n = end; /* everything must lie within the command */
    uint8_t resp = 0, dom = 0, nv = 0;
    EAI_TRY(eai__traci_rd_u8(&c, &resp));
    bool var_sub = resp >= 0xe0 && resp <= 0xef, ctx = resp >= 0x90 && resp <= 0x9f;
    if (!var_sub && !ctx) {
        c.off--;
        return bad(&c, "response 0x%02lx is not a subscription result", resp);
    }
    c.cmd = resp;
    c.var = -1;
    const uint8_t *id = NULL;
    size_t n = 0;
    EAI_TRY(eai__traci_rd_strview(&c, &id, &n));
    if (want_resp >= 0 &&
        (resp != want_resp || !want_id || n != strlen(want_id) || memcmp(id, want_id, n) != 0))
        return bad(&c, "result 0x%02lx answers another subscription", resp);
    int domain = resp - 0x10; /* keyed by the subscribe command */
    if (ctx) EAI_TRY(eai__traci_rd_u8(&c, &dom));
    EAI_TRY(eai__traci_rd_u8(&c, &nv));
    if (var_sub) {
        EAI_TRY(add_obj(s, domain, id, n, NO_CTX));
        for (int k = 0; k < nv; k++)
            EAI_TRY(var_value(&c, s));
        s->objs[s->n_objs - 1].nv = nv;
    } else {
        int32_t n_obj = 0;
        uint32_t ctx_off = 0;
        EAI_TRY(eai__traci_rd_i32(&c, &n_obj));
        /* each object: an id (4+ bytes) and per variable at least 4 bytes */
        if (n_obj < 0 || (size_t)n_obj > left(&c) / (4 + 4 * (size_t)nv))
            return bad(&c, "context result of %ld objects", n_obj);
        EAI_TRY(pool_add(s, id, n, &ctx_off));
        for (int32_t i = 0; i < n_obj; i++) {
            const uint8_t *oid = NULL;
            size_t on = 0;
            c.var = -1;
            EAI_TRY(eai__traci_rd_strview(&c, &oid, &on));
            EAI_TRY(add_obj(s, domain, oid, on, ctx_off));
            for (int k = 0; k < nv; k++)
                EAI_TRY(var_value(&c, s));
            s->objs[s->n_objs - 1].nv = nv;
        }
    }
    c.var = -1;
    if (c.off != end)
        return bad(&c, "result ends %ld bytes before its length says", (long)(end - c.off));
    r->off = end;
    return EAI_OK;
}

eai_status_t eai__traci_decode_step(const uint8_t *msg, size_t n, eai__traci_subs_t *s)
{
    eai__traci_rd_t r = {msg, n, 0, EAI_TRACI_CMD_SIMSTEP, -1, NULL};
    eai__traci_subs_clear(s);
    EAI_TRY(eai__traci_read_status(&r, EAI_TRACI_CMD_SIMSTEP));
    int32_t k = 0;
    EAI_TRY(eai__traci_rd_i32(&r, &k));
    /* a result is at least 7 bytes: length, response, empty id, var count */
    if (k < 0 || (size_t)k > left(&r) / 7) return bad(&r, "%ld subscription results", k);
    for (int32_t i = 0; i < k; i++)
        EAI_TRY(result(&r, s, -1, NULL));
    if (r.off != n) return bad(&r, "%ld bytes after the subscription results", (long)left(&r));
    return EAI_OK;
}

eai_status_t eai__traci_decode_subscribe(const uint8_t *msg, size_t n, eai__traci_subs_t *s,
                                         int cmd, const char *id)
{
    eai__traci_rd_t r = {msg, n, 0, cmd, -1, id};
    EAI_TRY(eai__traci_read_status(&r, cmd));
    if (r.off == n) return EAI_OK; /* unsubscribed, or a subscription that starts later */
    eai__traci_subs_drop(s, cmd, id);
    EAI_TRY(result(&r, s, cmd + 0x10, id));
    if (r.off != n) return bad(&r, "%ld bytes after the subscription result", (long)left(&r));
    return EAI_OK;
}

/* ---- commands --------------------------------------------------------------- */

static bool var_domain(int d)
{
    return d >= 0xd0 && d <= 0xdf;
}

static bool ctx_domain(int d)
{
    return d >= 0x80 && d <= 0x8f;
}

static eai_status_t check_vars(const int *vars, int n_vars, int min)
{
    if (n_vars < min || n_vars > 255 || (n_vars > 0 && !vars))
        return eai_fail(EAI_E_INVALID, "traci: subscribe: %d variables (%d..255)", n_vars, min);
    for (int i = 0; i < n_vars; i++)
        if (vars[i] < 0 || vars[i] > 255)
            return eai_fail(EAI_E_INVALID, "traci: subscribe: variable %d is not a byte", vars[i]);
    return EAI_OK;
}

/* [cmd][begin][end][id]([get domain][range])[n vars][vars], then the reply. */
static eai_status_t send_sub(eai_traci_t *t, int cmd, const char *id, int get, double range,
                             const int *vars, int n_vars, double begin, double end)
{
    EAI_TRY(eai__traci_check_open(t));
    eai__traci_wr_t *w = &t->w;
    eai__traci_msg_begin(t);
    size_t c = eai__traci_wr_cmd_begin(w, (uint8_t)cmd);
    eai__traci_wr_f64(w, begin);
    eai__traci_wr_f64(w, end);
    eai__traci_wr_str(w, id);
    if (get >= 0) {
        eai__traci_wr_u8(w, (uint8_t)get);
        eai__traci_wr_f64(w, range);
    }
    eai__traci_wr_u8(w, (uint8_t)n_vars);
    for (int i = 0; i < n_vars; i++)
        eai__traci_wr_u8(w, (uint8_t)vars[i]);
    eai__traci_wr_cmd_end(w, c);
    EAI_TRY(eai__traci_roundtrip(t));
    return eai__traci_check_parse(t,
                                  eai__traci_decode_subscribe(t->rbuf, t->rlen, &t->subs, cmd, id));
}

eai_status_t eai_traci_subscribe_range(eai_traci_t *t, int domain, const char *id, const int *vars,
                                       int n_vars, double begin_s, double end_s)
{
    if (!id || !var_domain(domain))
        return eai_fail(EAI_E_INVALID, "traci: subscribe: domain 0x%02x or NULL id", domain);
    EAI_TRY(check_vars(vars, n_vars, 1));
    if (!isfinite(begin_s) || !isfinite(end_s))
        return eai_fail(EAI_E_INVALID, "traci: subscribe: begin/end not finite");
    return send_sub(t, domain, id, -1, 0, vars, n_vars, begin_s, end_s);
}

eai_status_t eai_traci_subscribe(eai_traci_t *t, int domain, const char *id, const int *vars,
                                 int n_vars)
{
    return eai_traci_subscribe_range(t, domain, id, vars, n_vars, EAI_TRACI_SUB_DEFAULT_TIME,
                                     EAI_TRACI_SUB_DEFAULT_TIME);
}

eai_status_t eai_traci_unsubscribe(eai_traci_t *t, int domain, const char *id)
{
    if (!id || !var_domain(domain))
        return eai_fail(EAI_E_INVALID, "traci: unsubscribe: domain 0x%02x or NULL id", domain);
    EAI_TRY(send_sub(t, domain, id, -1, 0, NULL, 0, EAI_TRACI_SUB_DEFAULT_TIME,
                     EAI_TRACI_SUB_DEFAULT_TIME));
    eai__traci_subs_drop(&t->subs, domain, id);
    return EAI_OK;
}

static eai_status_t check_ctx(int ctx, const char *id, int get, double range)
{
    if (!id || !ctx_domain(ctx) || get < 0xa0 || get > 0xaf || !isfinite(range) || range < 0)
        return eai_fail(EAI_E_INVALID,
                        "traci: context subscribe: context 0x%02x, domain 0x%02x, range %g or "
                        "NULL id",
                        ctx, get, range);
    return EAI_OK;
}

eai_status_t eai_traci_subscribe_context(eai_traci_t *t, int ctx, const char *id, int get_domain,
                                         double range_m, const int *vars, int n_vars)
{
    EAI_TRY(check_ctx(ctx, id, get_domain, range_m));
    EAI_TRY(check_vars(vars, n_vars, 0));
    return send_sub(t, ctx, id, get_domain, range_m, vars, n_vars, EAI_TRACI_SUB_DEFAULT_TIME,
                    EAI_TRACI_SUB_DEFAULT_TIME);
}

eai_status_t eai_traci_unsubscribe_context(eai_traci_t *t, int ctx, const char *id, int get_domain,
                                           double range_m)
{
    EAI_TRY(check_ctx(ctx, id, get_domain, range_m));
    /* SUMO matches the subscription by context, id and domain; no variables ends it */
    EAI_TRY(send_sub(t, ctx, id, get_domain, range_m, NULL, 0, EAI_TRACI_SUB_DEFAULT_TIME,
                     EAI_TRACI_SUB_DEFAULT_TIME));
    eai__traci_subs_drop(&t->subs, ctx, id);
    return EAI_OK;
}

/* ---- readers ---------------------------------------------------------------- */

static eai_status_t lookup(const eai_traci_t *t, int domain, const char *id, int var,
                           eai__traci_kind_t kind, const eai__traci_subval_t **out)
{
    static const char *names[] = {"none",     "int",    "double", "string",     "string list",
                                  "position", "logics", "links",  "lane links", "other"};
    if (!t || !id) return eai_fail(EAI_E_INVALID, "traci: subscription results: NULL argument");
    const eai__traci_subval_t *v = NULL;
    if (!eai__traci_subs_find(&t->subs, domain, id, var, &v))
        return eai_fail(EAI_E_UNAVAILABLE,
                        "traci: subscription results: no variable 0x%02x of '%s' in domain 0x%02x "
                        "(not subscribed, ended, or the object left)",
                        var, id, domain);
    if (v->kind == EAI__TRACI_SUB_ERR)
        return eai_fail(EAI_E_INVALID,
                        "traci: subscription 0x%02x of '%s' variable 0x%02x: SUMO "
                        "error: %s",
                        domain, id, var, t->subs.pool + v->off);
    if (v->kind != kind)
        return eai_fail(EAI_E_INVALID,
                        "traci: subscription 0x%02x of '%s' variable 0x%02x is a %s, not a %s",
                        domain, id, var, names[v->kind], names[kind]);
    *out = v;
    return EAI_OK;
}

bool eai_traci_sub_has(const eai_traci_t *t, int domain, const char *id)
{
    return t && id && eai__traci_subs_find(&t->subs, domain, id, -1, NULL) != NULL;
}

eai_status_t eai_traci_sub_int(const eai_traci_t *t, int domain, const char *id, int var, int *out)
{
    const eai__traci_subval_t *v;
    if (!out) return eai_fail(EAI_E_INVALID, "traci: subscription results: NULL output");
    EAI_TRY(lookup(t, domain, id, var, EAI__TRACI_INT, &v));
    *out = v->i;
    return EAI_OK;
}

eai_status_t eai_traci_sub_double(const eai_traci_t *t, int domain, const char *id, int var,
                                  double *out)
{
    const eai__traci_subval_t *v;
    if (!out) return eai_fail(EAI_E_INVALID, "traci: subscription results: NULL output");
    EAI_TRY(lookup(t, domain, id, var, EAI__TRACI_DOUBLE, &v));
    *out = v->d;
    return EAI_OK;
}

eai_status_t eai_traci_sub_pos2d(const eai_traci_t *t, int domain, const char *id, int var,
                                 double *x, double *y)
{
    const eai__traci_subval_t *v;
    if (!x || !y) return eai_fail(EAI_E_INVALID, "traci: subscription results: NULL output");
    EAI_TRY(lookup(t, domain, id, var, EAI__TRACI_POS2D, &v));
    *x = v->x;
    *y = v->y;
    return EAI_OK;
}

eai_status_t eai_traci_sub_string(const eai_traci_t *t, int domain, const char *id, int var,
                                  const char **out)
{
    const eai__traci_subval_t *v;
    if (!out) return eai_fail(EAI_E_INVALID, "traci: subscription results: NULL output");
    EAI_TRY(lookup(t, domain, id, var, EAI__TRACI_STRING, &v));
    *out = t->subs.pool + v->off;
    return EAI_OK;
}

eai_status_t eai_traci_sub_strlist(eai_traci_t *t, int domain, const char *id, int var,
                                   eai_traci_strlist_t *out)
{
    const eai__traci_subval_t *v;
    if (!out) return eai_fail(EAI_E_INVALID, "traci: subscription results: NULL output");
    EAI_TRY(lookup(t, domain, id, var, EAI__TRACI_STRLIST, &v));
    eai__traci_subs_t *s = &t->subs;
    int n = (int)v->n;
    if (grow(s->alloc, (void **)&s->items, &s->cap_items, n + 1, sizeof *s->items) != EAI_OK)
        return nomem();
    const char *p = n ? s->pool + v->off : NULL;
    for (int i = 0; i < n; i++, p += strlen(p) + 1)
        s->items[i] = p;
    out->n = n;
    out->items = s->items;
    return EAI_OK;
}

bool eai_traci_sub_next(const eai_traci_t *t, int domain, const char *ctx_id, int *pos,
                        const char **id)
{
    if (!t || !pos || !id || *pos < 0) return false;
    const eai__traci_subs_t *s = &t->subs;
    for (int i = *pos; i < s->n_objs; i++) {
        const eai__traci_subobj_t *o = &s->objs[i];
        if (o->domain != domain || domain == 0) continue;
        if (ctx_id && (o->ctx_off == NO_CTX || strcmp(s->pool + o->ctx_off, ctx_id) != 0)) continue;
        *pos = i + 1;
        *id = s->pool + o->id_off;
        return true;
    }
    *pos = s->n_objs;
    return false;
}
