/* TraCI wire format without sockets: big-endian reader and writer, command
 * framing (short and extended length), status parsing and the decoders of
 * typed values, traffic-light logics and links. Everything here takes bytes
 * from the peer as untrusted: every count is checked against the bytes left
 * before anything is reserved. */
#include <stdio.h>
#include <string.h>

#include "core/core_impl.h"
#include "traffic/traci_impl.h"

/* ---- arena ---------------------------------------------------------------- */

eai_status_t eai__traci_arena_reserve(eai__traci_arena_t *a, size_t reply_bytes)
{
    /* Worst case per wire byte: a string list entry is 4 wire bytes for an
     * empty string and costs an 8-byte pointer + 1 NUL + 7 alignment; a
     * phase's `next` int is 5 wire bytes for 4 arena bytes. 8x + slack
     * covers every decoder; take_() still checks. */
    size_t need = reply_bytes * 8 + 1024;
    if (need > a->cap) {
        uint8_t *nb = eai__realloc(a->alloc, a->buf, need);
        if (!nb) return eai_fail(EAI_E_NOMEM, "traci: no memory for a %zu-byte reply", reply_bytes);
        a->buf = nb;
        a->cap = need;
    }
    a->used = 0;
    return EAI_OK;
}

void eai__traci_arena_free(eai__traci_arena_t *a)
{
    eai__free(a->alloc, a->buf);
    a->buf = NULL;
    a->cap = a->used = 0;
}

static void *take_(eai__traci_arena_t *a, size_t n)
{
    size_t off = EAI_ALIGN_UP(a->used, 8);
    if (off > a->cap || n > a->cap - off) return NULL;
    a->used = off + n;
    return a->buf + off;
}

/* ---- reader ------------------------------------------------------------- */

static const char *domain_name(int cmd)
{
    switch (cmd & 0xef) { /* get 0xa_ and its reply 0xb_ share a name */
    case 0xa0:
        return "inductionloop";
    case 0xa1:
        return "multientryexit";
    case 0xa2:
        return "trafficlight";
    case 0xa3:
        return "lane";
    case 0xa4:
        return "vehicle";
    case 0xa9:
        return "junction";
    case 0xaa:
        return "edge";
    case 0xab:
        return "simulation";
    case 0xad:
        return "lanearea";
    default:
        break;
    }
    switch (cmd) {
    case 0xc0:
        return "set inductionloop";
    case 0xc2:
        return "set trafficlight";
    case 0xc3:
        return "set lane";
    case 0xc4:
        return "set vehicle";
    case 0xcb:
        return "set simulation";
    case 0xcd:
        return "set lanearea";
    case EAI_TRACI_CMD_GETVERSION:
        return "getVersion";
    case EAI_TRACI_CMD_SIMSTEP:
        return "simulationStep";
    case EAI_TRACI_CMD_SETORDER:
        return "setOrder";
    case EAI_TRACI_CMD_CLOSE:
        return "close";
    default:
        return "command";
    }
}

const char *eai__traci_what(const eai__traci_rd_t *r, char *buf, size_t n)
{
    const char *dom = domain_name(r->cmd);
    const char *get = (r->cmd & 0xe0) == 0xa0 ? "get " : "";
    if (r->cmd >= 0xd0 && r->cmd <= 0xef) /* variable subscription and its results */
        dom = domain_name(0xa0 | (r->cmd & 0x0f)), get = "subscribe ";
    else if (r->cmd >= 0x80 && r->cmd <= 0x9f) /* context subscription and its results */
        dom = domain_name(0xa0 | (r->cmd & 0x0f)), get = "context subscribe ";
    if (r->var >= 0 && r->id)
        snprintf(buf, n, "%s%s 0x%02x '%s'", get, dom, r->var, r->id);
    else if (r->var >= 0)
        snprintf(buf, n, "%s%s 0x%02x", get, dom, r->var);
    else if (r->id)
        snprintf(buf, n, "%s%s (0x%02x) '%s'", get, dom, r->cmd, r->id);
    else
        snprintf(buf, n, "%s%s (0x%02x)", get, dom, r->cmd);
    return buf;
}

/* Bytes left; 0 if a caller ever moved off past n (never by these readers). */
static size_t left_(const eai__traci_rd_t *r)
{
    return r->off < r->n ? r->n - r->off : 0;
}

static eai_status_t short_(const eai__traci_rd_t *r, size_t need)
{
    char w[160];
    return eai_fail(EAI_E_FORMAT, "traci: %s: reply truncated: need %zu bytes at offset %zu of %zu",
                    eai__traci_what(r, w, sizeof w), need, r->off, r->n);
}

eai_status_t eai__traci_rd_u8(eai__traci_rd_t *r, uint8_t *v)
{
    if (left_(r) < 1) return short_(r, 1);
    *v = r->p[r->off++];
    return EAI_OK;
}

eai_status_t eai__traci_rd_i32(eai__traci_rd_t *r, int32_t *v)
{
    if (left_(r) < 4) return short_(r, 4);
    const uint8_t *p = r->p + r->off;
    *v = (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
    r->off += 4;
    return EAI_OK;
}

eai_status_t eai__traci_rd_f64(eai__traci_rd_t *r, double *v)
{
    if (left_(r) < 8) return short_(r, 8);
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = u << 8 | r->p[r->off + i];
    memcpy(v, &u, 8);
    r->off += 8;
    return EAI_OK;
}

static eai_status_t bad_(const eai__traci_rd_t *r, const char *fmt, long a, long b)
{
    char w[160], m[160];
    snprintf(m, sizeof m, fmt, a, b);
    return eai_fail(EAI_E_FORMAT, "traci: %s: %s (offset %zu of %zu)",
                    eai__traci_what(r, w, sizeof w), m, r->off, r->n);
}

/* A count that announces `n` items of at least `min_bytes` each. */
static eai_status_t count_(eai__traci_rd_t *r, int32_t *n, size_t min_bytes)
{
    EAI_TRY(eai__traci_rd_i32(r, n));
    if (*n < 0) return bad_(r, "negative count %ld%.0ld", *n, 0);
    if ((size_t)*n > (left_(r)) / min_bytes)
        return bad_(r, "count %ld needs more than the %ld bytes left", *n, (long)(left_(r)));
    return EAI_OK;
}

eai_status_t eai__traci_rd_strview(eai__traci_rd_t *r, const uint8_t **s, size_t *len)
{
    int32_t n = 0;
    EAI_TRY(count_(r, &n, 1));
    *s = r->p + r->off;
    *len = (size_t)n;
    r->off += (size_t)n;
    return EAI_OK;
}

eai_status_t eai__traci_rd_type(eai__traci_rd_t *r, uint8_t want)
{
    uint8_t t = 0;
    EAI_TRY(eai__traci_rd_u8(r, &t));
    if (t != want) {
        r->off--;
        return bad_(r, "value type 0x%02lx where 0x%02lx was expected", t, want);
    }
    return EAI_OK;
}

/* ---- typed values into the arena ------------------------------------------ */

static eai_status_t nomem_(const eai__traci_rd_t *r)
{
    return bad_(r, "decoded reply exceeds its reserved room%.0ld%.0ld", 0, 0);
}

static eai_status_t str_(eai__traci_rd_t *r, eai__traci_arena_t *a, const char **out)
{
    const uint8_t *s = NULL;
    size_t n = 0;
    EAI_TRY(eai__traci_rd_strview(r, &s, &n));
    char *d = take_(a, n + 1);
    if (!d) return nomem_(r);
    memcpy(d, s, n);
    d[n] = 0;
    *out = d;
    return EAI_OK;
}

static eai_status_t tstr_(eai__traci_rd_t *r, eai__traci_arena_t *a, const char **out)
{
    EAI_TRY(eai__traci_rd_type(r, EAI_TRACI_TYPE_STRING));
    return str_(r, a, out);
}

static eai_status_t strlist_(eai__traci_rd_t *r, eai__traci_arena_t *a, eai_traci_strlist_t *out)
{
    int32_t n = 0;
    EAI_TRY(count_(r, &n, 4));
    const char **items = take_(a, (size_t)n * sizeof *items + 1);
    if (!items) return nomem_(r);
    for (int32_t i = 0; i < n; i++)
        EAI_TRY(str_(r, a, &items[i]));
    out->n = n;
    out->items = items;
    return EAI_OK;
}

static eai_status_t tint_(eai__traci_rd_t *r, int32_t *v)
{
    EAI_TRY(eai__traci_rd_type(r, EAI_TRACI_TYPE_INTEGER));
    return eai__traci_rd_i32(r, v);
}

static eai_status_t tdouble_(eai__traci_rd_t *r, double *v)
{
    EAI_TRY(eai__traci_rd_type(r, EAI_TRACI_TYPE_DOUBLE));
    return eai__traci_rd_f64(r, v);
}

/* Compound header: type byte + item count; `want` >= 0 demands that count. */
static eai_status_t compound_(eai__traci_rd_t *r, int32_t want, int32_t *n, size_t min_item)
{
    EAI_TRY(eai__traci_rd_type(r, EAI_TRACI_TYPE_COMPOUND));
    EAI_TRY(count_(r, n, min_item));
    if (want >= 0 && *n != want)
        return bad_(r, "compound of %ld items where %ld were expected", *n, want);
    return EAI_OK;
}

static eai_status_t byteflag_(eai__traci_rd_t *r, bool *v)
{
    uint8_t t = 0, b = 0;
    EAI_TRY(eai__traci_rd_u8(r, &t));
    if (t != EAI_TRACI_TYPE_UBYTE && t != EAI_TRACI_TYPE_BYTE)
        return bad_(r, "value type 0x%02lx where a byte was expected%.0ld", t, 0);
    EAI_TRY(eai__traci_rd_u8(r, &b));
    *v = b != 0;
    return EAI_OK;
}

/* TL_COMPLETE_DEFINITION_RYG: int count, then per logic compound(5):
 * program, type, current phase, compound(phases: compound(6): duration,
 * state, minDur, maxDur, compound(next ints), name), compound(params:
 * stringlist of 2). (SUMO 1.15 TraCIServerAPI_TrafficLight.cpp.) */
static eai_status_t logics_(eai__traci_rd_t *r, eai__traci_arena_t *a, eai_traci_logics_t *out)
{
    int32_t n_logics = 0;
    EAI_TRY(count_(r, &n_logics, 5));
    eai_traci_logic_t *ls = take_(a, (size_t)n_logics * sizeof *ls + 1);
    if (!ls) return nomem_(r);
    for (int32_t i = 0; i < n_logics; i++) {
        eai_traci_logic_t *l = &ls[i];
        int32_t k = 0, n_ph = 0, n_par = 0;
        EAI_TRY(compound_(r, 5, &k, 1));
        EAI_TRY(tstr_(r, a, &l->program_id));
        EAI_TRY(tint_(r, &l->type));
        EAI_TRY(tint_(r, &l->current_phase));
        EAI_TRY(compound_(r, -1, &n_ph, 5));
        eai_traci_phase_t *ph = take_(a, (size_t)n_ph * sizeof *ph + 1);
        if (!ph) return nomem_(r);
        for (int32_t j = 0; j < n_ph; j++) {
            int32_t n_next = 0;
            EAI_TRY(compound_(r, 6, &k, 1));
            EAI_TRY(tdouble_(r, &ph[j].duration));
            EAI_TRY(tstr_(r, a, &ph[j].state));
            EAI_TRY(tdouble_(r, &ph[j].min_dur));
            EAI_TRY(tdouble_(r, &ph[j].max_dur));
            EAI_TRY(compound_(r, -1, &n_next, 5));
            int *next = take_(a, (size_t)n_next * sizeof *next + 1);
            if (!next) return nomem_(r);
            for (int32_t q = 0; q < n_next; q++)
                EAI_TRY(tint_(r, &next[q]));
            ph[j].n_next = n_next;
            ph[j].next = next;
            EAI_TRY(tstr_(r, a, &ph[j].name));
        }
        l->n_phases = n_ph;
        l->phases = ph;
        EAI_TRY(compound_(r, -1, &n_par, 5));
        const char **par = take_(a, (size_t)n_par * 2 * sizeof *par + 1);
        if (!par) return nomem_(r);
        for (int32_t j = 0; j < n_par; j++) {
            eai_traci_strlist_t kv;
            EAI_TRY(eai__traci_rd_type(r, EAI_TRACI_TYPE_STRINGLIST));
            EAI_TRY(strlist_(r, a, &kv));
            if (kv.n != 2) return bad_(r, "logic parameter of %ld strings, expected %ld", kv.n, 2);
            par[2 * j] = kv.items[0];
            par[2 * j + 1] = kv.items[1];
        }
        l->n_params = n_par;
        l->params = par;
    }
    out->n = n_logics;
    out->items = ls;
    return EAI_OK;
}

/* TL_CONTROLLED_LINKS: compound(int n_signals, then per signal int n_links
 * and n_links stringlists [from, to, via]). */
static eai_status_t links_(eai__traci_rd_t *r, eai__traci_arena_t *a, eai_traci_links_t *out)
{
    int32_t k = 0, n_sig = 0;
    EAI_TRY(count_(r, &k, 1));
    EAI_TRY(eai__traci_rd_type(r, EAI_TRACI_TYPE_INTEGER));
    EAI_TRY(count_(r, &n_sig, 5));
    /* links are at least 17 wire bytes (type, count, 3 empty strings) */
    size_t max_links = (left_(r)) / 17;
    eai_traci_link_t *ls = take_(a, max_links * sizeof *ls + 1);
    if (!ls) return nomem_(r);
    int n = 0;
    for (int32_t s = 0; s < n_sig; s++) {
        int32_t n_links = 0;
        EAI_TRY(tint_(r, &n_links));
        if (n_links < 0 || (size_t)n_links > max_links - (size_t)n)
            return bad_(r, "signal %ld: bad link count %ld", s, n_links);
        for (int32_t j = 0; j < n_links; j++) {
            eai_traci_strlist_t sl;
            EAI_TRY(eai__traci_rd_type(r, EAI_TRACI_TYPE_STRINGLIST));
            EAI_TRY(strlist_(r, a, &sl));
            if (sl.n != 3) return bad_(r, "link of %ld lanes, expected %ld", sl.n, 3);
            ls[n++] = (eai_traci_link_t){s, sl.items[0], sl.items[1], sl.items[2]};
        }
    }
    out->n_signals = n_sig;
    out->n = n;
    out->items = ls;
    return EAI_OK;
}

/* LANE_LINKS: compound(int n, then per link: to lane, via lane, has_prio,
 * is_open, has_foe (ubytes), state, direction (strings), length). */
static eai_status_t lane_links_(eai__traci_rd_t *r, eai__traci_arena_t *a,
                                eai_traci_lane_links_t *out)
{
    int32_t k = 0, n = 0;
    EAI_TRY(count_(r, &k, 1));
    EAI_TRY(eai__traci_rd_type(r, EAI_TRACI_TYPE_INTEGER));
    EAI_TRY(count_(r, &n, 30));
    eai_traci_lane_link_t *ls = take_(a, (size_t)n * sizeof *ls + 1);
    if (!ls) return nomem_(r);
    for (int32_t i = 0; i < n; i++) {
        eai_traci_lane_link_t *l = &ls[i];
        const char *st, *dir;
        EAI_TRY(tstr_(r, a, &l->to_lane));
        EAI_TRY(tstr_(r, a, &l->via_lane));
        EAI_TRY(byteflag_(r, &l->has_prio));
        EAI_TRY(byteflag_(r, &l->is_open));
        EAI_TRY(byteflag_(r, &l->has_foe));
        EAI_TRY(tstr_(r, a, &st));
        EAI_TRY(tstr_(r, a, &dir));
        EAI_TRY(tdouble_(r, &l->length));
        l->state = st[0];
        l->dir = dir[0];
    }
    out->n = n;
    out->items = ls;
    return EAI_OK;
}

/* Skips a value of type `t` (recursing into compounds, depth-limited). */
static eai_status_t skip_(eai__traci_rd_t *r, uint8_t t, int depth)
{
    const uint8_t *s = NULL;
    size_t len = 0;
    int32_t n = 0;
    uint8_t u = 0;
    double d = 0;
    if (depth > 16) return bad_(r, "compound nesting deeper than %ld%.0ld", 16, 0);
    switch (t) {
    case EAI_TRACI_TYPE_POSITION2D:
        return left_(r) >= 16 ? (r->off += 16, EAI_OK) : short_(r, 16);
    case EAI_TRACI_TYPE_POSITION3D:
        return left_(r) >= 24 ? (r->off += 24, EAI_OK) : short_(r, 24);
    case EAI_TRACI_TYPE_UBYTE:
    case EAI_TRACI_TYPE_BYTE:
        return eai__traci_rd_u8(r, &u);
    case EAI_TRACI_TYPE_INTEGER:
        return eai__traci_rd_i32(r, &n);
    case EAI_TRACI_TYPE_DOUBLE:
        return eai__traci_rd_f64(r, &d);
    case EAI_TRACI_TYPE_STRING:
        return eai__traci_rd_strview(r, &s, &len);
    case EAI_TRACI_TYPE_COLOR:
        return left_(r) >= 4 ? (r->off += 4, EAI_OK) : short_(r, 4);
    case EAI_TRACI_TYPE_STRINGLIST:
        EAI_TRY(count_(r, &n, 4));
        for (int32_t i = 0; i < n; i++)
            EAI_TRY(eai__traci_rd_strview(r, &s, &len));
        return EAI_OK;
    case EAI_TRACI_TYPE_DOUBLELIST:
        EAI_TRY(count_(r, &n, 8));
        r->off += (size_t)n * 8;
        return EAI_OK;
    case EAI_TRACI_TYPE_POLYGON: {
        EAI_TRY(eai__traci_rd_u8(r, &u));
        size_t np = u;
        if (u == 0) {
            EAI_TRY(count_(r, &n, 16));
            np = (size_t)n;
        } else if (np > (left_(r)) / 16)
            return short_(r, np * 16);
        r->off += np * 16;
        return EAI_OK;
    }
    case EAI_TRACI_TYPE_COMPOUND:
        EAI_TRY(count_(r, &n, 2));
        for (int32_t i = 0; i < n; i++) {
            EAI_TRY(eai__traci_rd_u8(r, &u));
            EAI_TRY(skip_(r, u, depth + 1));
        }
        return EAI_OK;
    default:
        r->off--;
        return bad_(r, "unknown value type 0x%02lx%.0ld", t, 0);
    }
}

eai_status_t eai__traci_read_value(eai__traci_rd_t *r, eai__traci_arena_t *a, int get, int var,
                                   eai__traci_value_t *v)
{
    uint8_t t = 0, u = 0;
    int32_t i = 0;
    memset(v, 0, sizeof *v);
    EAI_TRY(eai__traci_rd_u8(r, &t));
    if (t == EAI_TRACI_TYPE_COMPOUND && get == EAI_TRACI_GET_TL) {
        if (var == EAI_TRACI_VAR_TL_COMPLETE_DEFINITION) {
            v->kind = EAI__TRACI_LOGICS;
            return logics_(r, a, &v->logics);
        }
        if (var == EAI_TRACI_VAR_TL_CONTROLLED_LINKS) {
            v->kind = EAI__TRACI_LINKS;
            return links_(r, a, &v->links);
        }
    }
    if (t == EAI_TRACI_TYPE_COMPOUND && get == EAI_TRACI_GET_LANE &&
        var == EAI_TRACI_VAR_LANE_LINKS) {
        v->kind = EAI__TRACI_LANE_LINKS;
        return lane_links_(r, a, &v->lane_links);
    }
    switch (t) {
    case EAI_TRACI_TYPE_UBYTE:
        EAI_TRY(eai__traci_rd_u8(r, &u));
        v->kind = EAI__TRACI_INT;
        v->i = u;
        return EAI_OK;
    case EAI_TRACI_TYPE_BYTE:
        EAI_TRY(eai__traci_rd_u8(r, &u));
        v->kind = EAI__TRACI_INT;
        v->i = (int8_t)u;
        return EAI_OK;
    case EAI_TRACI_TYPE_INTEGER:
        EAI_TRY(eai__traci_rd_i32(r, &i));
        v->kind = EAI__TRACI_INT;
        v->i = i;
        return EAI_OK;
    case EAI_TRACI_TYPE_DOUBLE:
        v->kind = EAI__TRACI_DOUBLE;
        return eai__traci_rd_f64(r, &v->d);
    case EAI_TRACI_TYPE_STRING:
        v->kind = EAI__TRACI_STRING;
        return str_(r, a, &v->s);
    case EAI_TRACI_TYPE_STRINGLIST:
        v->kind = EAI__TRACI_STRLIST;
        return strlist_(r, a, &v->sl);
    case EAI_TRACI_TYPE_POSITION2D:
    case EAI_TRACI_TYPE_POSITION3D:
        v->kind = EAI__TRACI_POS2D;
        EAI_TRY(eai__traci_rd_f64(r, &v->x));
        EAI_TRY(eai__traci_rd_f64(r, &v->y));
        if (t == EAI_TRACI_TYPE_POSITION3D) EAI_TRY(eai__traci_rd_f64(r, &v->d));
        return EAI_OK;
    default:
        v->kind = EAI__TRACI_OTHER;
        return skip_(r, t, 0);
    }
}

/* ---- status and reply headers ----------------------------------------------- */

/* Reads a command length (1 byte, or 0 + 4 bytes) and returns the end offset
 * of the command it announces. */
static eai_status_t cmd_len_(eai__traci_rd_t *r, size_t *end)
{
    size_t start = r->off;
    uint8_t l8 = 0;
    EAI_TRY(eai__traci_rd_u8(r, &l8));
    size_t len = l8;
    if (l8 == 0) {
        int32_t l32 = 0;
        EAI_TRY(eai__traci_rd_i32(r, &l32));
        if (l32 < 6) return bad_(r, "extended command length %ld is too small%.0ld", l32, 0);
        len = (size_t)l32;
    } else if (l8 < 2)
        return bad_(r, "command length %ld is too small%.0ld", l8, 0);
    if (len > r->n - start) return short_(r, len);
    *end = start + len;
    return EAI_OK;
}

eai_status_t eai__traci_read_status(eai__traci_rd_t *r, int cmd)
{
    size_t end = 0;
    uint8_t id = 0, result = 0;
    EAI_TRY(cmd_len_(r, &end));
    EAI_TRY(eai__traci_rd_u8(r, &id));
    EAI_TRY(eai__traci_rd_u8(r, &result));
    const uint8_t *s = NULL;
    size_t len = 0;
    EAI_TRY(eai__traci_rd_strview(r, &s, &len));
    if (r->off != end)
        return bad_(r, "status ends at offset %ld, its length says %ld", (long)r->off, (long)end);
    if (id != (uint8_t)cmd) return bad_(r, "status for command 0x%02lx, sent 0x%02lx", id, cmd);
    if (result != 0) {
        char w[160];
        int shown = len > 2000 ? 2000 : (int)len;
        return eai_fail(EAI_E_INVALID, "traci: %s: SUMO %s: %.*s", eai__traci_what(r, w, sizeof w),
                        result == 1 ? "does not implement it" : "error", shown, (const char *)s);
    }
    return EAI_OK;
}

eai_status_t eai__traci_rd_cmd_len(eai__traci_rd_t *r, size_t *end)
{
    return cmd_len_(r, end);
}

eai_status_t eai__traci_skip_value(eai__traci_rd_t *r, uint8_t t)
{
    return skip_(r, t, 0);
}

eai_status_t eai__traci_decode_get(const uint8_t *msg, size_t n, eai__traci_arena_t *a, int get,
                                   int var, const char *id, eai__traci_value_t *v)
{
    eai__traci_rd_t r = {msg, n, 0, get, var, id};
    memset(v, 0, sizeof *v);
    EAI_TRY(eai__traci_arena_reserve(a, n));
    EAI_TRY(eai__traci_read_status(&r, get));
    size_t end = 0;
    uint8_t rid = 0, rvar = 0;
    const uint8_t *s = NULL;
    size_t len = 0;
    EAI_TRY(cmd_len_(&r, &end));
    EAI_TRY(eai__traci_rd_u8(&r, &rid));
    EAI_TRY(eai__traci_rd_u8(&r, &rvar));
    EAI_TRY(eai__traci_rd_strview(&r, &s, &len));
    if (rid != (uint8_t)(get + 0x10) || rvar != (uint8_t)var)
        return bad_(&r, "response 0x%02lx/var 0x%02lx does not match the request", rid, rvar);
    if (id && (len != strlen(id) || memcmp(s, id, len) != 0))
        return bad_(&r, "response for another object (id of %ld bytes)%.0ld", (long)len, 0);
    if (r.off > end) return bad_(&r, "response header overruns its length %ld%.0ld", (long)end, 0);
    eai__traci_rd_t body = r;
    body.n = end; /* the value must lie within its command */
    EAI_TRY(eai__traci_read_value(&body, a, get, var, v));
    return EAI_OK;
}

/* ---- writer ----------------------------------------------------------------- */

static uint8_t *grow_(eai__traci_wr_t *w, size_t n)
{
    if (w->oom) return NULL;
    if (w->cap - w->len < n) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap - w->len < n)
            cap *= 2;
        uint8_t *nb = eai__realloc(w->alloc, w->buf, cap);
        if (!nb) {
            w->oom = true;
            return NULL;
        }
        w->buf = nb;
        w->cap = cap;
    }
    uint8_t *p = w->buf + w->len;
    w->len += n;
    return p;
}

static void put32_(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void eai__traci_wr_u8(eai__traci_wr_t *w, uint8_t v)
{
    uint8_t *p = grow_(w, 1);
    if (p) *p = v;
}

void eai__traci_wr_i32(eai__traci_wr_t *w, int32_t v)
{
    uint8_t *p = grow_(w, 4);
    if (p) put32_(p, (uint32_t)v);
}

void eai__traci_wr_f64(eai__traci_wr_t *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    uint8_t *p = grow_(w, 8);
    if (!p) return;
    put32_(p, (uint32_t)(u >> 32));
    put32_(p + 4, (uint32_t)u);
}

void eai__traci_wr_str(eai__traci_wr_t *w, const char *s)
{
    size_t n = strlen(s);
    eai__traci_wr_i32(w, (int32_t)n);
    uint8_t *p = grow_(w, n);
    if (p) memcpy(p, s, n);
}

size_t eai__traci_wr_cmd_begin(eai__traci_wr_t *w, uint8_t cmd)
{
    size_t start = w->len;
    uint8_t *p = grow_(w, 6); /* room for the extended form: 0, int length, id */
    if (p) p[5] = cmd;
    return start;
}

void eai__traci_wr_cmd_end(eai__traci_wr_t *w, size_t start)
{
    if (w->oom) return;
    size_t body = w->len - start - 5; /* id + content */
    if (body + 1 <= 255) {
        /* short form: 1-byte length counting itself; close the 4-byte gap */
        w->buf[start] = (uint8_t)(body + 1);
        memmove(w->buf + start + 1, w->buf + start + 5, body);
        w->len -= 4;
    } else {
        w->buf[start] = 0;
        put32_(w->buf + start + 1, (uint32_t)(body + 5)); /* counts 0 and itself */
    }
}

void eai__traci_wr_free(eai__traci_wr_t *w)
{
    eai__free(w->alloc, w->buf);
    w->buf = NULL;
    w->cap = w->len = 0;
}
