/* Secure aggregation (Bonawitz et al., CCS 2017) in process: the client and
 * server objects of secagg_impl.h and eai_secagg_sum, which runs one round of
 * the protocol between them. The one idea: pairwise masks cancel in the sum,
 * self masks and the masks of dropped clients are removed from t Shamir
 * shares, and the server never learns both secrets of any one client. */
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_impl.h"
#include "edgeai/secagg.h"
#include "fl/secagg_impl.h"
#include "fl/shamir.h"

/* PRG output is produced in blocks of this many bytes (a multiple of
 * ChaCha20's 64-byte block) so no vector-sized scratch is needed. */
#define PRG_CHUNK 4096

static const uint8_t zeros[PRG_CHUNK];

_Static_assert(EAI__SA_SHARE_CT == EAI__SA_SHARE_PT + crypto_box_MACBYTES, "share box size");
_Static_assert(EAI__SA_KEY == crypto_box_SECRETKEYBYTES && EAI__SA_KEY == crypto_scalarmult_BYTES,
               "X25519 key size");

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* acc[i] += sign * PRG(key)[i], mod 2^32. */
static void prg_apply(uint32_t *acc, size_t len, const uint8_t key[EAI__SA_KEY], int sign)
{
    static const uint8_t nonce[crypto_stream_chacha20_NONCEBYTES] = {0};
    uint8_t buf[PRG_CHUNK];
    for (size_t off = 0; off < len; off += PRG_CHUNK / 4) {
        size_t m = len - off < PRG_CHUNK / 4 ? len - off : PRG_CHUNK / 4;
        crypto_stream_chacha20_xor_ic(buf, zeros, m * 4, nonce, (uint64_t)(off * 4 / 64), key);
        if (sign > 0)
            for (size_t i = 0; i < m; i++)
                acc[off + i] += get_le32(buf + 4 * i);
        else
            for (size_t i = 0; i < m; i++)
                acc[off + i] -= get_le32(buf + 4 * i);
    }
    sodium_memzero(buf, sizeof buf);
}

/* 32 bytes from (seed, id, tag): reproducible key material for seeded runs. */
static void derive(uint64_t seed, int id, uint8_t tag, uint8_t out[EAI__SA_KEY])
{
    static const char label[] = "edgeai-secagg-v1";
    uint8_t in[sizeof label + 8 + 4 + 1];
    memcpy(in, label, sizeof label);
    for (int i = 0; i < 8; i++)
        in[sizeof label + i] = (uint8_t)(seed >> (8 * i));
    put_le32(in + sizeof label + 8, (uint32_t)id);
    in[sizeof label + 12] = tag;
    crypto_generichash(out, EAI__SA_KEY, in, sizeof in, NULL, 0);
}

/* crypto_box nonce for the message u -> v. The c key pairs are fresh for
 * every protocol instance and each ordered pair sends once, so (u, v) never
 * repeats under one key. */
static void box_nonce(int u, int v, uint8_t nonce[crypto_box_NONCEBYTES])
{
    memset(nonce, 0, crypto_box_NONCEBYTES);
    put_le32(nonce, (uint32_t)u);
    put_le32(nonce + 4, (uint32_t)v);
}

/* s_uv from u's secret key and v's public key; symmetric in (u, v). */
static eai_status_t agree(const uint8_t sk[EAI__SA_KEY], const uint8_t *pk_u, int u,
                          const uint8_t *pk_v, int v, uint8_t out[EAI__SA_KEY])
{
    uint8_t q[crypto_scalarmult_BYTES];
    if (crypto_scalarmult(q, sk, pk_v) != 0)
        return eai_fail(EAI_E_FORMAT, "secagg: client %d's mask key is a low-order point", v);
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, EAI__SA_KEY);
    crypto_generichash_update(&h, q, sizeof q);
    crypto_generichash_update(&h, u < v ? pk_u : pk_v, EAI__SA_KEY);
    crypto_generichash_update(&h, u < v ? pk_v : pk_u, EAI__SA_KEY);
    crypto_generichash_final(&h, out, EAI__SA_KEY);
    sodium_memzero(q, sizeof q);
    return EAI_OK;
}

eai_status_t eai__sa_params_init(eai__sa_params_t *p, int n, size_t len, const eai_secagg_opts_t *o,
                                 uint64_t seed)
{
    if (sodium_init() < 0) return eai_fail(EAI_E_UNAVAILABLE, "secagg: sodium_init failed");
    eai_secagg_opts_t d = {0};
    if (!o) o = &d;
    if (n < 1 || n > EAI__SA_MAX_N)
        return eai_fail(EAI_E_INVALID,
                        "secagg: %d clients; 1..255 supported (Shamir shares over GF(256))", n);
    int t = o->threshold ? o->threshold : n / 2 + 1;
    if (t < 1 || t > n)
        return eai_fail(EAI_E_INVALID, "secagg: threshold %d outside 1..%d", o->threshold, n);
    int f = o->frac_bits ? o->frac_bits : 16;
    if (f < 1 || f > 30)
        return eai_fail(EAI_E_INVALID, "secagg: frac_bits %d outside 1..30", o->frac_bits);
    double range = o->range != 0 ? o->range : 16.0;
    if (!(range > 0) || !isfinite(range))
        return eai_fail(EAI_E_INVALID, "secagg: range %g must be positive and finite", o->range);
    if (len > SIZE_MAX / 4) return eai_fail(EAI_E_INVALID, "secagg: vector of %zu too long", len);
    /* The sum lives in Z / 2^32 read as signed: n terms of magnitude at most
     * range * 2^f + 1/2 (rounding) must stay below 2^31. */
    double bound = (double)n * (range * ldexp(1.0, f) + 0.5);
    if (!(bound < 2147483648.0))
        return eai_fail(EAI_E_INVALID,
                        "secagg: %d clients x range %g x 2^%d = %.4g overflows the 2^32 modulus "
                        "(signed sums need < 2^31); lower range or frac_bits",
                        n, range, f, bound);
    *p = (eai__sa_params_t){
        .n = n, .t = t, .len = len, .range = range, .frac_bits = f, .seed = seed};
    return EAI_OK;
}

/* ---- client ---- */

eai_status_t eai__sa_client_init(eai__sa_client_t *c, const eai__sa_params_t *p, int id)
{
    memset(c, 0, sizeof *c);
    c->p = *p;
    c->id = id;
    size_t n = (size_t)p->n;
    c->peer = eai__calloc(NULL, n, EAI__SA_ADV);
    c->advertised = eai__calloc(NULL, n, sizeof(bool));
    c->share_s = eai__calloc(NULL, n, EAI__SA_KEY);
    c->share_b = eai__calloc(NULL, n, EAI__SA_KEY);
    c->have = eai__calloc(NULL, n, sizeof(bool));
    if (!c->peer || !c->advertised || !c->share_s || !c->share_b || !c->have) {
        eai__sa_client_free(c);
        return eai_fail(EAI_E_NOMEM, "secagg: client %d: out of memory", id);
    }
    if (p->seed) {
        uint8_t ks[EAI__SA_KEY];
        derive(p->seed, id, 'c', ks);
        crypto_box_seed_keypair(c->c_pk, c->c_sk, ks);
        derive(p->seed, id, 's', ks);
        crypto_box_seed_keypair(c->s_pk, c->s_sk, ks);
        derive(p->seed, id, 'b', c->b);
        sodium_memzero(ks, sizeof ks);
    } else {
        crypto_box_keypair(c->c_pk, c->c_sk);
        crypto_box_keypair(c->s_pk, c->s_sk);
        randombytes_buf(c->b, sizeof c->b);
    }
    return EAI_OK;
}

void eai__sa_client_free(eai__sa_client_t *c)
{
    if (!c) return;
    size_t n = (size_t)c->p.n;
    if (c->share_s) sodium_memzero(c->share_s, n * EAI__SA_KEY);
    if (c->share_b) sodium_memzero(c->share_b, n * EAI__SA_KEY);
    eai__free(NULL, c->peer);
    eai__free(NULL, c->advertised);
    eai__free(NULL, c->share_s);
    eai__free(NULL, c->share_b);
    eai__free(NULL, c->have);
    sodium_memzero(c, sizeof *c);
}

void eai__sa_client_advertise(eai__sa_client_t *c, uint8_t out[EAI__SA_ADV])
{
    memcpy(out, c->c_pk, EAI__SA_KEY);
    memcpy(out + EAI__SA_KEY, c->s_pk, EAI__SA_KEY);
    c->bytes_sent += EAI__SA_ADV;
}

eai_status_t eai__sa_client_set_peers(eai__sa_client_t *c, const uint8_t *keys,
                                      const bool *advertised)
{
    int n1 = 0;
    for (int u = 0; u < c->p.n; u++)
        n1 += advertised[u];
    if (n1 < c->p.t)
        return eai_fail(EAI_E_UNAVAILABLE, "secagg: %d clients advertised keys, threshold is %d",
                        n1, c->p.t);
    if (!advertised[c->id] ||
        memcmp(keys + (size_t)c->id * EAI__SA_ADV + EAI__SA_KEY, c->s_pk, EAI__SA_KEY) != 0)
        return eai_fail(EAI_E_FORMAT, "secagg: client %d: broadcast lacks its own keys", c->id);
    memcpy(c->peer, keys, (size_t)c->p.n * EAI__SA_ADV);
    memcpy(c->advertised, advertised, (size_t)c->p.n * sizeof(bool));
    return EAI_OK;
}

eai_status_t eai__sa_client_share(eai__sa_client_t *c, uint8_t *ct)
{
    int n = c->p.n;
    uint8_t *sh_s = eai__alloc(NULL, (size_t)n * 2 * EAI__SA_KEY);
    if (!sh_s) return eai_fail(EAI_E_NOMEM, "secagg: client %d: out of memory", c->id);
    uint8_t *sh_b = sh_s + (size_t)n * EAI__SA_KEY;
    uint8_t seed_s[EAI__SA_KEY], seed_b[EAI__SA_KEY];
    if (c->p.seed) {
        derive(c->p.seed, c->id, 'S', seed_s);
        derive(c->p.seed, c->id, 'B', seed_b);
    }
    eai_status_t st =
        eai__shamir_split(c->s_sk, EAI__SA_KEY, c->p.t, n, c->p.seed ? seed_s : NULL, sh_s);
    if (st == EAI_OK)
        st = eai__shamir_split(c->b, EAI__SA_KEY, c->p.t, n, c->p.seed ? seed_b : NULL, sh_b);
    for (int v = 0; st == EAI_OK && v < n; v++) {
        if (!c->advertised[v]) continue;
        if (v == c->id) { /* our own share stays with us */
            memcpy(c->share_s + (size_t)v * EAI__SA_KEY, sh_s + (size_t)v * EAI__SA_KEY,
                   EAI__SA_KEY);
            memcpy(c->share_b + (size_t)v * EAI__SA_KEY, sh_b + (size_t)v * EAI__SA_KEY,
                   EAI__SA_KEY);
            c->have[v] = true;
            continue;
        }
        uint8_t pt[EAI__SA_SHARE_PT], nonce[crypto_box_NONCEBYTES];
        put_le32(pt, (uint32_t)c->id);
        put_le32(pt + 4, (uint32_t)v);
        memcpy(pt + 8, sh_s + (size_t)v * EAI__SA_KEY, EAI__SA_KEY);
        memcpy(pt + 8 + EAI__SA_KEY, sh_b + (size_t)v * EAI__SA_KEY, EAI__SA_KEY);
        box_nonce(c->id, v, nonce);
        if (crypto_box_easy(ct + (size_t)v * EAI__SA_SHARE_CT, pt, sizeof pt, nonce,
                            c->peer + (size_t)v * EAI__SA_ADV, c->c_sk) != 0)
            st = eai_fail(EAI_E_FORMAT, "secagg: client %d: cannot encrypt to client %d", c->id, v);
        sodium_memzero(pt, sizeof pt);
        c->bytes_sent += EAI__SA_SHARE_CT;
    }
    sodium_memzero(sh_s, (size_t)n * 2 * EAI__SA_KEY);
    sodium_memzero(seed_s, sizeof seed_s);
    sodium_memzero(seed_b, sizeof seed_b);
    eai__free(NULL, sh_s);
    return st;
}

eai_status_t eai__sa_client_receive(eai__sa_client_t *c, int u, const uint8_t *ct)
{
    if (u < 0 || u >= c->p.n || u == c->id || !c->advertised[u])
        return eai_fail(EAI_E_FORMAT, "secagg: client %d: share from unexpected client %d", c->id,
                        u);
    uint8_t pt[EAI__SA_SHARE_PT], nonce[crypto_box_NONCEBYTES];
    box_nonce(u, c->id, nonce);
    if (crypto_box_open_easy(pt, ct, EAI__SA_SHARE_CT, nonce, c->peer + (size_t)u * EAI__SA_ADV,
                             c->c_sk) != 0)
        return eai_fail(EAI_E_FORMAT,
                        "secagg: client %d: share from client %d fails authentication", c->id, u);
    eai_status_t st = EAI_OK;
    if (get_le32(pt) != (uint32_t)u || get_le32(pt + 4) != (uint32_t)c->id) {
        st = eai_fail(EAI_E_FORMAT, "secagg: client %d: share from client %d names pair %u->%u",
                      c->id, u, get_le32(pt), get_le32(pt + 4));
    } else {
        memcpy(c->share_s + (size_t)u * EAI__SA_KEY, pt + 8, EAI__SA_KEY);
        memcpy(c->share_b + (size_t)u * EAI__SA_KEY, pt + 8 + EAI__SA_KEY, EAI__SA_KEY);
        c->have[u] = true;
    }
    sodium_memzero(pt, sizeof pt);
    return st;
}

eai_status_t eai__sa_client_mask(eai__sa_client_t *c, const float *x, uint32_t *y)
{
    size_t len = c->p.len;
    for (size_t i = 0; i < len; i++) {
        /* |x| <= range in float: a float just above a double range is out. */
        if (!((double)fabsf(x[i]) <= c->p.range))
            return eai_fail(EAI_E_INVALID,
                            "secagg: client %d: x[%zu] = %g outside [-%g, %g] (opts.range)", c->id,
                            i, (double)x[i], c->p.range, c->p.range);
        y[i] = eai__sa_quantise(x[i], c->p.frac_bits);
    }
    prg_apply(y, len, c->b, +1);
    const uint8_t *my_pk = c->s_pk;
    for (int v = 0; v < c->p.n; v++) {
        if (v == c->id || !c->have[v]) continue;
        uint8_t k[EAI__SA_KEY];
        EAI_TRY(
            agree(c->s_sk, my_pk, c->id, c->peer + (size_t)v * EAI__SA_ADV + EAI__SA_KEY, v, k));
        prg_apply(y, len, k, v > c->id ? +1 : -1);
        sodium_memzero(k, sizeof k);
    }
    c->bytes_sent += len * 4;
    return EAI_OK;
}

eai_status_t eai__sa_client_unmask(eai__sa_client_t *c, const bool *masked, uint8_t *out)
{
    int n3 = 0;
    for (int u = 0; u < c->p.n; u++)
        n3 += masked[u] && c->have[u];
    if (n3 < c->p.t)
        return eai_fail(EAI_E_UNAVAILABLE,
                        "secagg: %d clients' masked inputs arrived, threshold is %d: aborting", n3,
                        c->p.t);
    for (int u = 0; u < c->p.n; u++) {
        if (!c->have[u]) continue;
        /* b_u for survivors, s_u's key for the dropped, never both. */
        const uint8_t *src = masked[u] ? c->share_b : c->share_s;
        memcpy(out + (size_t)u * EAI__SA_KEY, src + (size_t)u * EAI__SA_KEY, EAI__SA_KEY);
        c->bytes_sent += EAI__SA_KEY;
    }
    return EAI_OK;
}

/* ---- server ---- */

eai_status_t eai__sa_server_init(eai__sa_server_t *s, const eai__sa_params_t *p)
{
    memset(s, 0, sizeof *s);
    s->p = *p;
    size_t n = (size_t)p->n;
    s->keys = eai__calloc(NULL, n, EAI__SA_ADV);
    s->advertised = eai__calloc(NULL, n, sizeof(bool));
    s->mailbox = eai__calloc(NULL, n * n, EAI__SA_SHARE_CT);
    s->shared = eai__calloc(NULL, n, sizeof(bool));
    s->masked = eai__calloc(NULL, n, sizeof(bool));
    s->acc = eai__calloc(NULL, p->len ? p->len : 1, sizeof(uint32_t));
    s->resp = eai__calloc(NULL, n * n, EAI__SA_KEY);
    s->resp_have = eai__calloc(NULL, n * n, sizeof(bool));
    s->responded = eai__calloc(NULL, n, sizeof(bool));
    if (!s->keys || !s->advertised || !s->mailbox || !s->shared || !s->masked || !s->acc ||
        !s->resp || !s->resp_have || !s->responded) {
        eai__sa_server_free(s);
        return eai_fail(EAI_E_NOMEM, "secagg: server: out of memory (%d clients, %zu values)", p->n,
                        p->len);
    }
    return EAI_OK;
}

void eai__sa_server_free(eai__sa_server_t *s)
{
    if (!s) return;
    size_t n = (size_t)s->p.n;
    if (s->resp) sodium_memzero(s->resp, n * n * EAI__SA_KEY);
    eai__free(NULL, s->keys);
    eai__free(NULL, s->advertised);
    eai__free(NULL, s->mailbox);
    eai__free(NULL, s->shared);
    eai__free(NULL, s->masked);
    eai__free(NULL, s->acc);
    eai__free(NULL, s->resp);
    eai__free(NULL, s->resp_have);
    eai__free(NULL, s->responded);
    memset(s, 0, sizeof *s);
}

void eai__sa_server_advertise(eai__sa_server_t *s, int u, const uint8_t msg[EAI__SA_ADV])
{
    memcpy(s->keys + (size_t)u * EAI__SA_ADV, msg, EAI__SA_ADV);
    s->advertised[u] = true;
}

void eai__sa_server_share(eai__sa_server_t *s, int u, const uint8_t *ct)
{
    memcpy(s->mailbox + (size_t)u * (size_t)s->p.n * EAI__SA_SHARE_CT, ct,
           (size_t)s->p.n * EAI__SA_SHARE_CT);
    s->shared[u] = true;
}

const uint8_t *eai__sa_server_mailbox(const eai__sa_server_t *s, int u, int v)
{
    if (!s->shared[u] || !s->advertised[v] || u == v) return NULL;
    return s->mailbox + ((size_t)u * (size_t)s->p.n + (size_t)v) * EAI__SA_SHARE_CT;
}

eai_status_t eai__sa_server_masked(eai__sa_server_t *s, int u, const uint32_t *y)
{
    if (!s->shared[u])
        return eai_fail(EAI_E_STATE, "secagg: masked input from client %d, which shared no keys",
                        u);
    if (s->masked[u]) return eai_fail(EAI_E_STATE, "secagg: second masked input from client %d", u);
    for (size_t i = 0; i < s->p.len; i++)
        s->acc[i] += y[i];
    s->masked[u] = true;
    return EAI_OK;
}

eai_status_t eai__sa_server_unmask(eai__sa_server_t *s, int v, const uint8_t *shares)
{
    return eai__sa_server_unmask_some(s, v, shares, s->shared);
}

eai_status_t eai__sa_server_unmask_some(eai__sa_server_t *s, int v, const uint8_t *shares,
                                        const bool *present)
{
    if (!s->masked[v])
        return eai_fail(EAI_E_STATE, "secagg: unmasking shares from client %d, not a survivor", v);
    const size_t n = (size_t)s->p.n;
    for (size_t u = 0; u < n; u++) {
        s->resp_have[(size_t)v * n + u] = present[u] && s->shared[u];
        if (s->resp_have[(size_t)v * n + u])
            memcpy(s->resp + ((size_t)v * n + u) * EAI__SA_KEY, shares + u * EAI__SA_KEY,
                   EAI__SA_KEY);
    }
    s->responded[v] = true;
    return EAI_OK;
}

/* Secret u rebuilt from the first t responders holding a share of it. */
static eai_status_t rebuild(const eai__sa_server_t *s, int u, uint8_t out[EAI__SA_KEY])
{
    uint8_t xs[EAI__SA_MAX_N];
    const uint8_t *ys[EAI__SA_MAX_N];
    int k = 0;
    const size_t n = (size_t)s->p.n;
    for (size_t v = 0; v < n && k < s->p.t; v++) {
        if (!s->responded[v] || !s->resp_have[v * n + (size_t)u]) continue;
        xs[k] = (uint8_t)(v + 1);
        ys[k] = s->resp + (v * n + (size_t)u) * EAI__SA_KEY;
        k++;
    }
    if (k < s->p.t)
        return eai_fail(EAI_E_UNAVAILABLE,
                        "secagg: %d shares of client %d's secret arrived, threshold is %d", k, u,
                        s->p.t);
    return eai__shamir_combine(xs, ys, k, s->p.t, EAI__SA_KEY, out);
}

eai_status_t eai__sa_server_finish(eai__sa_server_t *s, float *sum, eai_secagg_report_t *rep)
{
    int n = s->p.n, n3 = 0, n4 = 0;
    for (int u = 0; u < n; u++) {
        n3 += s->masked[u];
        n4 += s->responded[u];
    }
    if (n3 < s->p.t)
        return eai_fail(EAI_E_UNAVAILABLE, "secagg: %d of %d clients survived, threshold is %d", n3,
                        n, s->p.t);
    if (n4 < s->p.t)
        return eai_fail(EAI_E_UNAVAILABLE,
                        "secagg: %d survivors sent unmasking shares, threshold is %d", n4, s->p.t);
    uint8_t key[EAI__SA_KEY], pk[EAI__SA_KEY], k[EAI__SA_KEY];
    eai_status_t st = EAI_OK;
    for (int u = 0; u < n && st == EAI_OK; u++) {
        if (!s->shared[u]) continue;
        if ((st = rebuild(s, u, key)) != EAI_OK) break;
        if (s->masked[u]) { /* survivor: strip its self mask */
            prg_apply(s->acc, s->p.len, key, -1);
            continue;
        }
        /* Dropped after sharing: its pairwise masks with every survivor v
         * stay in y_v (sign +1 when u > v); rebuild s_u's key and undo them. */
        const uint8_t *pk_u = s->keys + (size_t)u * EAI__SA_ADV + EAI__SA_KEY;
        crypto_scalarmult_base(pk, key);
        if (sodium_memcmp(pk, pk_u, EAI__SA_KEY) != 0) {
            st = eai_fail(EAI_E_FORMAT,
                          "secagg: client %d's rebuilt mask key does not match its public key "
                          "(corrupt shares)",
                          u);
            break;
        }
        for (int v = 0; v < n && st == EAI_OK; v++) {
            if (!s->masked[v]) continue;
            st = agree(key, pk_u, u, s->keys + (size_t)v * EAI__SA_ADV + EAI__SA_KEY, v, k);
            if (st == EAI_OK) prg_apply(s->acc, s->p.len, k, u > v ? -1 : +1);
        }
    }
    sodium_memzero(key, sizeof key);
    sodium_memzero(k, sizeof k);
    if (st != EAI_OK) return st;
    double scale = ldexp(1.0, -s->p.frac_bits);
    for (size_t i = 0; i < s->p.len; i++) {
        uint32_t a = s->acc[i];
        int64_t v = a >= 0x80000000u ? (int64_t)a - ((int64_t)1 << 32) : (int64_t)a;
        sum[i] = (float)((double)v * scale);
    }
    if (rep) {
        rep->n_clients = n;
        rep->n_dropped = n - n3;
        /* n3 roundings of at most half a step, plus the float cast of a sum
         * of magnitude <= n3 * range (half an ulp, 2^-24 relative). */
        rep->max_quant_error = n3 * ldexp(0.5, -s->p.frac_bits) + n3 * s->p.range * 0x1p-24;
    }
    return EAI_OK;
}

/* ---- one round in process ---- */

eai_status_t eai_secagg_sum(const float *const *x, int n, size_t len, const bool *dropped,
                            const eai_secagg_opts_t *o, uint64_t seed, float *sum,
                            eai_secagg_report_t *rep)
{
    if (!x || !sum) return eai_fail(EAI_E_INVALID, "secagg: NULL inputs or sum");
    eai__sa_params_t p;
    EAI_TRY(eai__sa_params_init(&p, n, len, o, seed));
    int n_alive = 0;
    for (int i = 0; i < n; i++) {
        if (dropped && dropped[i]) continue;
        if (!x[i]) return eai_fail(EAI_E_INVALID, "secagg: client %d has no input", i);
        n_alive++;
    }
    if (n_alive < p.t)
        return eai_fail(EAI_E_UNAVAILABLE,
                        "secagg: %d of %d clients survive, threshold is %d: the masks cannot be "
                        "removed",
                        n_alive, n, p.t);

    eai__sa_server_t srv;
    eai__sa_client_t *cl = eai__calloc(NULL, (size_t)n, sizeof *cl);
    uint8_t *msg = eai__alloc(NULL, (size_t)n * EAI__SA_SHARE_CT);
    uint32_t *y = eai__alloc(NULL, (len ? len : 1) * sizeof(uint32_t));
    eai_status_t st = (cl && msg && y)
                          ? EAI_OK
                          : eai_fail(EAI_E_NOMEM, "secagg: out of memory (%d x %zu)", n, len);
    bool srv_up = false;
    if (st == EAI_OK) srv_up = (st = eai__sa_server_init(&srv, &p)) == EAI_OK;
    int n_init = 0;
    for (; st == EAI_OK && n_init < n; n_init++)
        st = eai__sa_client_init(&cl[n_init], &p, n_init);
    /* Round 0: keys. */
    for (int u = 0; st == EAI_OK && u < n; u++) {
        eai__sa_client_advertise(&cl[u], msg);
        eai__sa_server_advertise(&srv, u, msg);
    }
    for (int u = 0; st == EAI_OK && u < n; u++)
        st = eai__sa_client_set_peers(&cl[u], srv.keys, srv.advertised);
    /* Round 1: encrypted shares, relayed by the server. */
    for (int u = 0; st == EAI_OK && u < n; u++)
        if ((st = eai__sa_client_share(&cl[u], msg)) == EAI_OK) eai__sa_server_share(&srv, u, msg);
    for (int v = 0; st == EAI_OK && v < n; v++)
        for (int u = 0; st == EAI_OK && u < n; u++) {
            const uint8_t *ct = eai__sa_server_mailbox(&srv, u, v);
            if (ct) st = eai__sa_client_receive(&cl[v], u, ct);
        }
    /* Round 2: masked inputs; dropped clients fall silent from here on. */
    for (int u = 0; st == EAI_OK && u < n; u++) {
        if (dropped && dropped[u]) continue;
        if ((st = eai__sa_client_mask(&cl[u], x[u], y)) == EAI_OK)
            st = eai__sa_server_masked(&srv, u, y);
    }
    /* Round 4: unmasking shares from the survivors. */
    for (int v = 0; st == EAI_OK && v < n; v++) {
        if (!srv.masked[v]) continue;
        if ((st = eai__sa_client_unmask(&cl[v], srv.masked, msg)) == EAI_OK)
            st = eai__sa_server_unmask(&srv, v, msg);
    }
    if (st == EAI_OK) st = eai__sa_server_finish(&srv, sum, rep);
    if (st == EAI_OK && rep) {
        size_t most = 0;
        for (int u = 0; u < n; u++)
            if (cl[u].bytes_sent > most) most = cl[u].bytes_sent;
        rep->bytes_per_client = most;
    }
    for (int u = 0; u < n_init; u++)
        eai__sa_client_free(&cl[u]);
    if (srv_up) eai__sa_server_free(&srv);
    eai__free(NULL, cl);
    eai__free(NULL, msg);
    if (y) sodium_memzero(y, (len ? len : 1) * sizeof(uint32_t));
    eai__free(NULL, y);
    return st;
}
