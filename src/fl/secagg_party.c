/* Secure aggregation one party per object (edgeai/secagg.h): the public
 * client and server handles over the internal objects of secagg_impl.h, the
 * same code eai_secagg_sum runs, plus what a network adds: argument and
 * phase checks with clear errors, duplicate detection, and tables with
 * presence flags instead of shared arrays. */
#include <sodium.h>
#include <string.h>

#include "core/core_impl.h"
#include "edgeai/secagg.h"
#include "fl/secagg_impl.h"

_Static_assert(EAI_SECAGG_ADV_BYTES == EAI__SA_ADV, "advertise size");
_Static_assert(EAI_SECAGG_BOX_BYTES == EAI__SA_SHARE_CT, "box size");
_Static_assert(EAI_SECAGG_SHARE_BYTES == EAI__SA_KEY, "share size");
_Static_assert(EAI_SECAGG_MAX_CLIENTS == EAI__SA_MAX_N, "max clients");

/* Client phases: each call moves one step; receive stays in SHARED. */
enum { C_NEW, C_ADVERTISED, C_SHARED, C_MASKED, C_DONE };
/* Server phases: round r's messages are taken while phase == r; the call
 * that produces round r's broadcast closes it. */
enum { S_KEYS, S_SHARES, S_MASKED, S_UNMASK, S_DONE };

struct eai_secagg_client {
    eai__sa_client_t c;
    int phase;
};

struct eai_secagg_server {
    eai__sa_server_t s;
    int phase;
};

eai_status_t eai_secagg_client_create(int id, int n, size_t len, const eai_secagg_opts_t *o,
                                      uint64_t seed, eai_secagg_client_t **out)
{
    if (!out) return eai_fail(EAI_E_INVALID, "secagg client: NULL out");
    eai__sa_params_t p;
    EAI_TRY(eai__sa_params_init(&p, n, len, o, seed));
    if (id < 0 || id >= n)
        return eai_fail(EAI_E_INVALID, "secagg client: id %d outside 0..%d", id, n - 1);
    eai_secagg_client_t *c = eai__calloc(NULL, 1, sizeof *c);
    if (!c) return eai_fail(EAI_E_NOMEM, "secagg client: out of memory");
    eai_status_t st = eai__sa_client_init(&c->c, &p, id);
    if (st != EAI_OK) {
        eai__free(NULL, c);
        return st;
    }
    *out = c;
    return EAI_OK;
}

void eai_secagg_client_destroy(eai_secagg_client_t *c)
{
    if (!c) return;
    eai__sa_client_free(&c->c);
    eai__free(NULL, c);
}

static eai_status_t client_phase(const eai_secagg_client_t *c, int want, const char *what)
{
    static const char *const names[] = {"created", "advertised", "shared", "masked", "unmasked"};
    if (c->phase != want)
        return eai_fail(EAI_E_STATE, "secagg client %d: %s called when %s (expected %s)", c->c.id,
                        what, names[c->phase], names[want]);
    return EAI_OK;
}

eai_status_t eai_secagg_client_advertise(eai_secagg_client_t *c, uint8_t out[EAI_SECAGG_ADV_BYTES])
{
    if (!c || !out) return eai_fail(EAI_E_INVALID, "secagg client: NULL argument");
    EAI_TRY(client_phase(c, C_NEW, "advertise"));
    eai__sa_client_advertise(&c->c, out);
    c->phase = C_ADVERTISED;
    return EAI_OK;
}

eai_status_t eai_secagg_client_share(eai_secagg_client_t *c, const uint8_t *keys,
                                     const bool *advertised, uint8_t *boxes, bool *addressed)
{
    if (!c || !keys || !advertised || !boxes)
        return eai_fail(EAI_E_INVALID, "secagg client: NULL argument");
    EAI_TRY(client_phase(c, C_ADVERTISED, "share"));
    EAI_TRY(eai__sa_client_set_peers(&c->c, keys, advertised));
    const int n = c->c.p.n;
    /* boxes for non-addressed slots stay zero: they are never sent */
    memset(boxes, 0, (size_t)n * EAI_SECAGG_BOX_BYTES);
    EAI_TRY(eai__sa_client_share(&c->c, boxes));
    if (addressed)
        for (int v = 0; v < n; v++)
            addressed[v] = advertised[v] && v != c->c.id;
    c->phase = C_SHARED;
    return EAI_OK;
}

eai_status_t eai_secagg_client_receive(eai_secagg_client_t *c, int from,
                                       const uint8_t box[EAI_SECAGG_BOX_BYTES])
{
    if (!c || !box) return eai_fail(EAI_E_INVALID, "secagg client: NULL argument");
    EAI_TRY(client_phase(c, C_SHARED, "receive"));
    if (from < 0 || from >= c->c.p.n)
        return eai_fail(EAI_E_INVALID, "secagg client %d: box from client %d outside 0..%d",
                        c->c.id, from, c->c.p.n - 1);
    if (from != c->c.id && c->c.have[from])
        return eai_fail(EAI_E_STATE, "secagg client %d: second box from client %d", c->c.id, from);
    return eai__sa_client_receive(&c->c, from, box);
}

eai_status_t eai_secagg_client_mask(eai_secagg_client_t *c, const float *x, uint32_t *y)
{
    if (!c || (c->c.p.len && (!x || !y)))
        return eai_fail(EAI_E_INVALID, "secagg client: NULL argument");
    EAI_TRY(client_phase(c, C_SHARED, "mask"));
    EAI_TRY(eai__sa_client_mask(&c->c, x, y));
    c->phase = C_MASKED;
    return EAI_OK;
}

eai_status_t eai_secagg_client_unmask(eai_secagg_client_t *c, const bool *alive, uint8_t *shares,
                                      bool *present)
{
    if (!c || !alive || !shares || !present)
        return eai_fail(EAI_E_INVALID, "secagg client: NULL argument");
    EAI_TRY(client_phase(c, C_MASKED, "unmask"));
    if (!alive[c->c.id])
        return eai_fail(EAI_E_STATE,
                        "secagg client %d: unmasking request that does not list it as alive",
                        c->c.id);
    const int n = c->c.p.n;
    memset(shares, 0, (size_t)n * EAI_SECAGG_SHARE_BYTES);
    EAI_TRY(eai__sa_client_unmask(&c->c, alive, shares));
    for (int u = 0; u < n; u++)
        present[u] = c->c.have[u];
    /* answered: a second request could ask for the other secret of a client */
    c->phase = C_DONE;
    return EAI_OK;
}

/* ---- server ---- */

eai_status_t eai_secagg_server_create(int n, size_t len, const eai_secagg_opts_t *o,
                                      eai_secagg_server_t **out)
{
    if (!out) return eai_fail(EAI_E_INVALID, "secagg server: NULL out");
    eai__sa_params_t p;
    EAI_TRY(eai__sa_params_init(&p, n, len, o, 0));
    eai_secagg_server_t *s = eai__calloc(NULL, 1, sizeof *s);
    if (!s) return eai_fail(EAI_E_NOMEM, "secagg server: out of memory");
    eai_status_t st = eai__sa_server_init(&s->s, &p);
    if (st != EAI_OK) {
        eai__free(NULL, s);
        return st;
    }
    *out = s;
    return EAI_OK;
}

void eai_secagg_server_destroy(eai_secagg_server_t *s)
{
    if (!s) return;
    eai__sa_server_free(&s->s);
    eai__free(NULL, s);
}

int eai_secagg_server_threshold(const eai_secagg_server_t *s)
{
    return s ? s->s.p.t : 0;
}

static int count(const bool *b, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        k += b[i];
    return k;
}

void eai_secagg_server_counts(const eai_secagg_server_t *s, int *n_advertised, int *n_shared,
                              int *n_masked, int *n_unmasked)
{
    const int n = s ? s->s.p.n : 0;
    if (n_advertised) *n_advertised = n ? count(s->s.advertised, n) : 0;
    if (n_shared) *n_shared = n ? count(s->s.shared, n) : 0;
    if (n_masked) *n_masked = n ? count(s->s.masked, n) : 0;
    if (n_unmasked) *n_unmasked = n ? count(s->s.responded, n) : 0;
}

/* Checks the party id and that round `want`'s messages are being taken. */
static eai_status_t server_take(const eai_secagg_server_t *s, int u, int want, const char *what)
{
    static const char *const names[] = {"keys", "shares", "masked inputs", "unmasking shares",
                                        "finished"};
    if (u < 0 || u >= s->s.p.n)
        return eai_fail(EAI_E_INVALID, "secagg server: %s from client %d outside 0..%d", what, u,
                        s->s.p.n - 1);
    if (s->phase != want)
        return eai_fail(EAI_E_STATE,
                        "secagg server: %s from client %d while collecting %s (late or early)",
                        what, u, names[s->phase]);
    return EAI_OK;
}

/* Closes round `from` (moving to from + 1) if it is open and at least t of
 * `set` are in; a later phase is fine (the call is repeated). */
static eai_status_t server_close(eai_secagg_server_t *s, int from, const bool *set,
                                 const char *what)
{
    if (s->phase < from)
        return eai_fail(EAI_E_STATE, "secagg server: %s asked before that round opened", what);
    if (s->phase > from) return EAI_OK;
    const int k = count(set, s->s.p.n);
    if (k < s->s.p.t)
        return eai_fail(EAI_E_UNAVAILABLE, "secagg server: %d of %d clients sent %s, threshold %d",
                        k, s->s.p.n, what, s->s.p.t);
    s->phase = from + 1;
    return EAI_OK;
}

eai_status_t eai_secagg_server_advertise(eai_secagg_server_t *s, int u,
                                         const uint8_t keys[EAI_SECAGG_ADV_BYTES])
{
    if (!s || !keys) return eai_fail(EAI_E_INVALID, "secagg server: NULL argument");
    EAI_TRY(server_take(s, u, S_KEYS, "keys"));
    if (s->s.advertised[u])
        return eai_fail(EAI_E_STATE, "secagg server: client %d advertised keys twice", u);
    eai__sa_server_advertise(&s->s, u, keys);
    return EAI_OK;
}

eai_status_t eai_secagg_server_peers(eai_secagg_server_t *s, uint8_t *keys, bool *advertised)
{
    if (!s || !keys || !advertised) return eai_fail(EAI_E_INVALID, "secagg server: NULL argument");
    EAI_TRY(server_close(s, S_KEYS, s->s.advertised, "keys"));
    memcpy(keys, s->s.keys, (size_t)s->s.p.n * EAI_SECAGG_ADV_BYTES);
    memcpy(advertised, s->s.advertised, (size_t)s->s.p.n * sizeof(bool));
    return EAI_OK;
}

eai_status_t eai_secagg_server_share(eai_secagg_server_t *s, int u, const uint8_t *boxes,
                                     const bool *addressed)
{
    if (!s || !boxes) return eai_fail(EAI_E_INVALID, "secagg server: NULL argument");
    EAI_TRY(server_take(s, u, S_SHARES, "shares"));
    if (!s->s.advertised[u])
        return eai_fail(EAI_E_STATE, "secagg server: shares from client %d, which sent no keys", u);
    if (s->s.shared[u])
        return eai_fail(EAI_E_STATE, "secagg server: client %d sent its shares twice", u);
    if (addressed)
        for (int v = 0; v < s->s.p.n; v++)
            if (addressed[v] != (s->s.advertised[v] && v != u))
                return eai_fail(EAI_E_FORMAT,
                                "secagg server: client %d's shares %s client %d (must address "
                                "exactly the other clients that advertised keys)",
                                u, addressed[v] ? "address" : "omit", v);
    eai__sa_server_share(&s->s, u, boxes);
    return EAI_OK;
}

eai_status_t eai_secagg_server_mailbox(eai_secagg_server_t *s, int v, uint8_t *boxes, bool *from)
{
    if (!s || !boxes || !from) return eai_fail(EAI_E_INVALID, "secagg server: NULL argument");
    if (v < 0 || v >= s->s.p.n)
        return eai_fail(EAI_E_INVALID, "secagg server: mailbox of client %d outside 0..%d", v,
                        s->s.p.n - 1);
    EAI_TRY(server_close(s, S_SHARES, s->s.shared, "shares"));
    if (!s->s.shared[v])
        return eai_fail(EAI_E_STATE, "secagg server: client %d sent no shares: it has no mailbox",
                        v);
    for (int u = 0; u < s->s.p.n; u++) {
        const uint8_t *ct = eai__sa_server_mailbox(&s->s, u, v);
        from[u] = ct != NULL;
        if (ct)
            memcpy(boxes + (size_t)u * EAI_SECAGG_BOX_BYTES, ct, EAI_SECAGG_BOX_BYTES);
        else
            memset(boxes + (size_t)u * EAI_SECAGG_BOX_BYTES, 0, EAI_SECAGG_BOX_BYTES);
    }
    return EAI_OK;
}

eai_status_t eai_secagg_server_masked(eai_secagg_server_t *s, int u, const uint32_t *y)
{
    if (!s || (s->s.p.len && !y)) return eai_fail(EAI_E_INVALID, "secagg server: NULL argument");
    EAI_TRY(server_take(s, u, S_MASKED, "masked input"));
    return eai__sa_server_masked(&s->s, u, y);
}

eai_status_t eai_secagg_server_survivors(eai_secagg_server_t *s, bool *alive)
{
    if (!s || !alive) return eai_fail(EAI_E_INVALID, "secagg server: NULL argument");
    EAI_TRY(server_close(s, S_MASKED, s->s.masked, "masked inputs"));
    memcpy(alive, s->s.masked, (size_t)s->s.p.n * sizeof(bool));
    return EAI_OK;
}

eai_status_t eai_secagg_server_unmask(eai_secagg_server_t *s, int v, const uint8_t *shares,
                                      const bool *present)
{
    if (!s || !shares || !present) return eai_fail(EAI_E_INVALID, "secagg server: NULL argument");
    EAI_TRY(server_take(s, v, S_UNMASK, "unmasking shares"));
    if (s->s.responded[v])
        return eai_fail(EAI_E_STATE, "secagg server: client %d sent unmasking shares twice", v);
    for (int u = 0; u < s->s.p.n; u++)
        if (present[u] && !s->s.shared[u])
            return eai_fail(EAI_E_FORMAT,
                            "secagg server: client %d sent a share of client %d, which never "
                            "shared",
                            v, u);
    return eai__sa_server_unmask_some(&s->s, v, shares, present);
}

eai_status_t eai_secagg_server_finish(eai_secagg_server_t *s, float *sum, eai_secagg_report_t *rep)
{
    if (!s || (s->s.p.len && !sum)) return eai_fail(EAI_E_INVALID, "secagg server: NULL argument");
    if (s->phase != S_UNMASK)
        return eai_fail(EAI_E_STATE, "secagg server: finish %s",
                        s->phase < S_UNMASK ? "before the survivors were announced"
                                            : "after finish");
    /* Every check that can fail without touching the accumulator first, so
     * that a finish refused for lack of answers can be retried when more
     * arrive; once masks are being removed there is no way back. */
    const int n = s->s.p.n, t = s->s.p.t;
    const int n4 = count(s->s.responded, n);
    if (n4 < t)
        return eai_fail(EAI_E_UNAVAILABLE,
                        "secagg server: %d survivors sent unmasking shares, threshold is %d", n4,
                        t);
    for (int u = 0; u < n; u++) {
        if (!s->s.shared[u]) continue;
        int k = 0;
        for (int v = 0; v < n; v++)
            k += s->s.responded[v] && s->s.resp_have[(size_t)v * (size_t)n + (size_t)u];
        if (k < t)
            return eai_fail(EAI_E_UNAVAILABLE,
                            "secagg server: %d shares of client %d's secret arrived, threshold "
                            "is %d",
                            k, u, t);
    }
    s->phase = S_DONE; /* the accumulator is being unmasked: no second try */
    EAI_TRY(eai__sa_server_finish(&s->s, sum, rep));
    if (rep) rep->bytes_per_client = 0;
    return EAI_OK;
}
