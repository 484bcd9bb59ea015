/* SecAgg (Bonawitz et al., CCS 2017, honest-but-curious variant) as client
 * and server objects that exchange plain byte messages, so that a networked
 * transport can carry the same messages later; eai_secagg_sum (secagg.c)
 * drives them in one process. Private to src/fl.
 *
 * Rounds, as in the paper (the signature and consistency-check round of the
 * active-adversary variant are left out):
 *   0 AdvertiseKeys   client -> server: c_pk || s_pk (64 bytes); the server
 *                     broadcasts every client's pair.
 *   1 ShareKeys       client u -> server: for each v != u, a crypto_box
 *                     (X25519 + XSalsa20-Poly1305, keys c_u, c_v) holding
 *                     u, v and v's Shamir shares of s_u's secret key and of
 *                     u's self-mask seed b_u; the server relays, unable to read.
 *   2 MaskedInput     client u -> server: y_u = q(x_u) + PRG(b_u)
 *                     + sum_{v>u} PRG(s_uv) - sum_{v<u} PRG(s_uv)  (mod 2^32).
 *   4 Unmasking       survivor v -> server: for each u that shared, its share
 *                     of b_u if u's y arrived, else of s_u's secret key (never
 *                     both for one u). The server rebuilds, removes masks.
 * s_uv = BLAKE2b(X25519(s_u, s_v^PK) || lower id's s^PK || higher id's s^PK);
 * PRG(k) = ChaCha20 keystream of k (nonce 0) read as little-endian uint32. */
#ifndef EAI_FL_SECAGG_IMPL_H
#define EAI_FL_SECAGG_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgeai/secagg.h"
#include "edgeai/status.h"

#define EAI__SA_KEY      32
#define EAI__SA_MAX_N    255                     /* Shamir over GF(2^8) */
#define EAI__SA_ADV      (2 * EAI__SA_KEY)       /* round 0 message */
#define EAI__SA_SHARE_PT (8 + 2 * EAI__SA_KEY)   /* u, v (LE32), s share, b share */
#define EAI__SA_SHARE_CT (EAI__SA_SHARE_PT + 16) /* + Poly1305 tag (crypto_box_MACBYTES) */

/* Protocol constants every party agrees on (defaults applied, checked). */
typedef struct eai__sa_params {
    int n, t;
    size_t len;
    double range; /* |x| <= range */
    int frac_bits;
    uint64_t seed; /* 0: keys and seeds from the OS RNG */
} eai__sa_params_t;

/* Applies o's defaults (o may be NULL) and checks them: 1 <= n <= 255,
 * 1 <= t <= n, 1 <= frac_bits <= 30, range > 0, and that n inputs of
 * |q| <= range * 2^frac_bits + 1/2 sum without wrapping the signed 32-bit
 * ring. EAI_E_INVALID with the reason. Calls sodium_init. */
eai_status_t eai__sa_params_init(eai__sa_params_t *p, int n, size_t len, const eai_secagg_opts_t *o,
                                 uint64_t seed);

/* ---- client ---- */

typedef struct eai__sa_client {
    eai__sa_params_t p;
    int id;                                       /* 0..n-1; its Shamir x is id + 1 */
    uint8_t c_pk[EAI__SA_KEY], c_sk[EAI__SA_KEY]; /* encryption between clients */
    uint8_t s_pk[EAI__SA_KEY], s_sk[EAI__SA_KEY]; /* mask agreement */
    uint8_t b[EAI__SA_KEY];                       /* self-mask seed */
    uint8_t *peer;    /* n * EAI__SA_ADV: every client's c_pk || s_pk (round 0 broadcast) */
    bool *advertised; /* n: U1 */
    uint8_t *share_s; /* n * 32: this client's share of client u's s_sk */
    uint8_t *share_b; /* n * 32: ... of b_u */
    bool *have;       /* n: a share from u arrived (U2 as seen by this client) */
    size_t bytes_sent;
} eai__sa_client_t;

/* Draws the key pairs and b (from the OS, or derived from p->seed and id). */
eai_status_t eai__sa_client_init(eai__sa_client_t *c, const eai__sa_params_t *p, int id);
/* Frees and wipes the secrets; accepts a zeroed or half-initialised client. */
void eai__sa_client_free(eai__sa_client_t *c);
/* Round 0: out = c_pk || s_pk. */
void eai__sa_client_advertise(eai__sa_client_t *c, uint8_t out[EAI__SA_ADV]);
/* Round 0 broadcast: keys[u * 64] for every u with advertised[u] (copied).
 * EAI_E_UNAVAILABLE if fewer than t advertised. */
eai_status_t eai__sa_client_set_peers(eai__sa_client_t *c, const uint8_t *keys,
                                      const bool *advertised);
/* Round 1: shares s_sk and b, writes the ciphertext for v at
 * ct[v * EAI__SA_SHARE_CT] for each advertised v != id. */
eai_status_t eai__sa_client_share(eai__sa_client_t *c, uint8_t *ct);
/* Round 1 delivery: the ciphertext client u addressed to this client.
 * EAI_E_FORMAT if it fails authentication or names the wrong pair. */
eai_status_t eai__sa_client_receive(eai__sa_client_t *c, int u, const uint8_t *ct);
/* Round 2: y[0..len) = the masked, quantised x. EAI_E_INVALID if some |x| >
 * range or x is not finite. Pairs with every v that shared (have[v]). */
eai_status_t eai__sa_client_mask(eai__sa_client_t *c, const float *x, uint32_t *y);
/* Round 4: given U3 (masked[u]: u's y reached the server), writes for every
 * u with have[u] its 32-byte share at out[u * 32]: of b_u if masked[u], else
 * of s_u's secret key. EAI_E_UNAVAILABLE if |U3| < t (the paper's abort). */
eai_status_t eai__sa_client_unmask(eai__sa_client_t *c, const bool *masked, uint8_t *out);

/* ---- server ---- */

typedef struct eai__sa_server {
    eai__sa_params_t p;
    uint8_t *keys;    /* n * EAI__SA_ADV: advertised public keys */
    bool *advertised; /* U1 */
    uint8_t *mailbox; /* n * n * EAI__SA_SHARE_CT: u -> v at [u * n + v]; opaque to the server */
    bool *shared;     /* U2 */
    bool *masked;     /* U3 */
    uint32_t *acc;    /* len: sum of the masked inputs received, mod 2^32 */
    uint8_t *resp;    /* n * n * 32: survivor v's share for client u at [v * n + u] */
    bool *resp_have;  /* n * n: [v * n + u] survivor v sent a share for u */
    bool *responded;  /* U4 */
} eai__sa_server_t;

eai_status_t eai__sa_server_init(eai__sa_server_t *s, const eai__sa_params_t *p);
void eai__sa_server_free(eai__sa_server_t *s);
void eai__sa_server_advertise(eai__sa_server_t *s, int u, const uint8_t msg[EAI__SA_ADV]);
/* Round 1: stores u's n ciphertexts for relaying. */
void eai__sa_server_share(eai__sa_server_t *s, int u, const uint8_t *ct);
/* The ciphertext u addressed to v (relay), or NULL if none. */
const uint8_t *eai__sa_server_mailbox(const eai__sa_server_t *s, int u, int v);
/* Round 2: adds y[0..len) into the running sum. EAI_E_STATE if u already sent. */
eai_status_t eai__sa_server_masked(eai__sa_server_t *s, int u, const uint32_t *y);
/* Round 4: stores survivor v's n shares (layout of eai__sa_client_unmask),
 * one for every u that shared. */
eai_status_t eai__sa_server_unmask(eai__sa_server_t *s, int v, const uint8_t *shares);
/* The same where present[u] says which u have a share (the wire's view). */
eai_status_t eai__sa_server_unmask_some(eai__sa_server_t *s, int v, const uint8_t *shares,
                                        const bool *present);
/* Rebuilds each secret from the first t responders holding a share of it, strips the masks and
 * writes sum[0..len) (dequantised). EAI_E_UNAVAILABLE below t survivors or responders; EAI_E_FORMAT
 * if a rebuilt key does not match its public key. */
eai_status_t eai__sa_server_finish(eai__sa_server_t *s, float *sum, eai_secagg_report_t *rep);

/* Fixed-point value of x (|x| <= range checked by the caller). */
static inline uint32_t eai__sa_quantise(float x, int frac_bits)
{
    double v = (double)x * (double)(1u << frac_bits);
    double r = v < 0 ? -(double)(int64_t)(-v + 0.5) : (double)(int64_t)(v + 0.5);
    return (uint32_t)(int64_t)r; /* two's complement mod 2^32 */
}

#endif
