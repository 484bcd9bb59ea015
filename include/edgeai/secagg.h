/* Secure aggregation (Bonawitz et al., CCS 2017): the server learns the sum of
 * the clients' vectors and nothing about any single one, even when some
 * clients drop out after sending.
 *
 * Each client agrees pairwise masks with every other client through X25519
 * (libsodium), adds them (they cancel in the sum) plus a self mask, and
 * Shamir-shares its mask secrets among its peers, encrypted to each. When a
 * client drops, t of the survivors' shares rebuild what the server needs to
 * remove the dropped client's pairwise masks; for survivors, their self masks.
 * Vectors are quantised to fixed point and summed modulo 2^32.
 */
#ifndef EDGEAI_SECAGG_H
#define EDGEAI_SECAGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgeai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eai_secagg_opts {
    int threshold; /* shares needed to rebuild a secret; 0 means n/2 + 1 */
    double range;  /* inputs must satisfy |x| <= range; 0 means 16 */
    int frac_bits; /* fixed-point fraction bits; 0 means 16 */
} eai_secagg_opts_t;

typedef struct eai_secagg_report {
    int n_clients, n_dropped;
    double max_quant_error;  /* largest |sum - exact sum| bound from quantisation */
    size_t bytes_per_client; /* keys + encrypted shares + masked vector sent */
} eai_secagg_report_t;

/* One round of the protocol in process (the simulator's path): client i holds
 * x[i][0..len); dropped[i] (may be NULL) marks clients whose masked input never
 * reaches the server. Writes sum[0..len) = the sum over surviving clients.
 * seed 0 draws keys from the OS; otherwise keys are derived from it
 * (reproducible tests). EAI_E_INVALID if an input exceeds range;
 * EAI_E_UNAVAILABLE if fewer than threshold clients survive. */
EAI_API eai_status_t eai_secagg_sum(const float *const *x, int n, size_t len, const bool *dropped,
                                    const eai_secagg_opts_t *o, uint64_t seed, float *sum,
                                    eai_secagg_report_t *rep);

/* ---- one party each: the protocol across processes ----
 *
 * The same protocol as eai_secagg_sum, one object per party, for transports
 * that carry its messages between processes (`edgeai fl server/client
 * --secure-agg` over MQTT, edgeai/flmsg.h's EAI_FLMSG_SA_* frames). Parties
 * are numbered 0..n-1; every party must be created with the same n, len and
 * opts. The messages, in order:
 *
 *   client u                                   server
 *   advertise(keys_u)            ------->      advertise(u, keys_u)
 *                                <-------      peers(keys[n], advertised[n])
 *   share(keys, adv, boxes_u)    ------->      share(u, boxes_u, addressed)
 *                                <-------      mailbox(v, boxes_to_v, from)
 *   receive(w, box) for each w
 *   mask(x, y_u)                 ------->      masked(u, y_u)
 *                                <-------      survivors(alive[n])
 *   unmask(alive, shares_u)      ------->      unmask(u, shares_u, present)
 *                                              finish(sum)   = sum of x over alive
 *
 * A client that stops after share() is dropped: its pairwise masks are
 * removed from t other clients' shares of its key. One that stops after
 * mask() is still summed: its self mask comes from t others' shares. Each
 * server step closes the previous phase: a message for a closed phase is
 * EAI_E_STATE, a repeated one EAI_E_STATE, a party id outside 0..n-1 or a
 * malformed table EAI_E_INVALID / EAI_E_FORMAT. A client answers one
 * unmasking request only (two could reveal both secrets of one client).
 *
 *   eai_secagg_client_t *c;  eai_secagg_client_create(id, n, len, &o, 0, &c);
 *   uint8_t adv[EAI_SECAGG_ADV_BYTES];  eai_secagg_client_advertise(c, adv);  send(adv);
 *   ...
 *
 * Handles are single-threaded; different handles may be used from different
 * threads. seed 0 draws keys from the OS (what a deployment must do: a
 * known seed lets anyone derive the masks); a nonzero seed derives them
 * (tests). The result does not depend on the keys: masks cancel exactly in
 * Z / 2^32, so the sum is the fixed-point sum of the survivors' inputs. */

#define EAI_SECAGG_MAX_CLIENTS 255 /* Shamir shares over GF(256) */
#define EAI_SECAGG_ADV_BYTES   64  /* advertised keys: encryption pk || mask pk */
#define EAI_SECAGG_BOX_BYTES   88  /* one encrypted share pair u -> v (crypto_box) */
#define EAI_SECAGG_SHARE_BYTES 32  /* one unmasking share */

typedef struct eai_secagg_client eai_secagg_client_t;
typedef struct eai_secagg_server eai_secagg_server_t;

/* Client `id` of n for vectors of len values. o (may be NULL) is copied.
 * EAI_E_INVALID (id, n, opts: see eai_secagg_opts_t), EAI_E_NOMEM. Free with
 * eai_secagg_client_destroy (accepts NULL; wipes the secrets). */
EAI_API eai_status_t eai_secagg_client_create(int id, int n, size_t len, const eai_secagg_opts_t *o,
                                              uint64_t seed, eai_secagg_client_t **out);
EAI_API void eai_secagg_client_destroy(eai_secagg_client_t *c);
/* Round 0: writes the client's two public keys. EAI_E_STATE if called twice. */
EAI_API eai_status_t eai_secagg_client_advertise(eai_secagg_client_t *c,
                                                 uint8_t out[EAI_SECAGG_ADV_BYTES]);
/* Round 1: takes every client's keys (keys[u * 64] for u with advertised[u],
 * borrowed) and writes the encrypted shares of this client's secrets:
 * boxes[v * EAI_SECAGG_BOX_BYTES] for every advertised v != id, and
 * addressed[v] (may be NULL) true exactly for those. EAI_E_UNAVAILABLE if
 * fewer than threshold advertised; EAI_E_FORMAT if the table lacks this
 * client's own keys or a key is invalid; EAI_E_STATE out of order. */
EAI_API eai_status_t eai_secagg_client_share(eai_secagg_client_t *c, const uint8_t *keys,
                                             const bool *advertised, uint8_t *boxes,
                                             bool *addressed);
/* Round 1 delivery: the box client `from` addressed to this one (borrowed).
 * EAI_E_FORMAT if it fails authentication, names another pair or comes from
 * a client that did not advertise; EAI_E_STATE if one from `from` was
 * already taken or the client has masked. */
EAI_API eai_status_t eai_secagg_client_receive(eai_secagg_client_t *c, int from,
                                               const uint8_t box[EAI_SECAGG_BOX_BYTES]);
/* Round 2: y[0..len) = x quantised and masked (pairwise masks with every
 * client whose box arrived, and the self mask). EAI_E_INVALID if some |x| >
 * range or x is not finite; EAI_E_STATE before share or when called twice. */
EAI_API eai_status_t eai_secagg_client_mask(eai_secagg_client_t *c, const float *x, uint32_t *y);
/* Round 3: alive[u] (n, borrowed) marks the clients whose masked input the
 * server has. For every client u whose box this client holds, writes
 * shares[u * 32] (its share of u's self-mask seed if alive[u], else of u's
 * mask key, never both) and present[u] = true; other present[u] = false.
 * Answers once: EAI_E_STATE on a second call, before mask, or if alive[id]
 * is false; EAI_E_UNAVAILABLE if fewer than threshold alive clients are
 * known to it (the paper's abort). */
EAI_API eai_status_t eai_secagg_client_unmask(eai_secagg_client_t *c, const bool *alive,
                                              uint8_t *shares, bool *present);

/* The server of n clients for vectors of len values; o copied. Errors as
 * eai_secagg_client_create. Memory: about n^2 * 120 bytes + 4 * len. */
EAI_API eai_status_t eai_secagg_server_create(int n, size_t len, const eai_secagg_opts_t *o,
                                              eai_secagg_server_t **out);
EAI_API void eai_secagg_server_destroy(eai_secagg_server_t *s);
/* The threshold t in use (opts.threshold or n / 2 + 1). */
EAI_API int eai_secagg_server_threshold(const eai_secagg_server_t *s);
/* Counts of clients that advertised, shared, sent a masked input and sent
 * unmasking shares (any pointer may be NULL). */
EAI_API void eai_secagg_server_counts(const eai_secagg_server_t *s, int *n_advertised,
                                      int *n_shared, int *n_masked, int *n_unmasked);
/* Round 0: client u's keys (copied). EAI_E_INVALID (u), EAI_E_STATE
 * (duplicate, or round 0 closed). */
EAI_API eai_status_t eai_secagg_server_advertise(eai_secagg_server_t *s, int u,
                                                 const uint8_t keys[EAI_SECAGG_ADV_BYTES]);
/* Closes round 0 and writes the broadcast: keys[u * 64] and advertised[u]
 * for every u (n entries each). EAI_E_UNAVAILABLE below threshold. May be
 * called again (same answer). */
EAI_API eai_status_t eai_secagg_server_peers(eai_secagg_server_t *s, uint8_t *keys,
                                             bool *advertised);
/* Round 1: client u's boxes (layout of eai_secagg_client_share, copied);
 * addressed (may be NULL: every advertised v != u) must be exactly the
 * advertised clients other than u: EAI_E_FORMAT otherwise. EAI_E_STATE
 * (u did not advertise, duplicate, or round 1 closed). */
EAI_API eai_status_t eai_secagg_server_share(eai_secagg_server_t *s, int u, const uint8_t *boxes,
                                             const bool *addressed);
/* Closes round 1 (first call) and writes the boxes addressed to client v:
 * boxes[u * 88] with from[u] true for every u that shared, u != v.
 * EAI_E_UNAVAILABLE if fewer than threshold shared; EAI_E_STATE if v did
 * not share (it is out of the protocol). */
EAI_API eai_status_t eai_secagg_server_mailbox(eai_secagg_server_t *s, int v, uint8_t *boxes,
                                               bool *from);
/* Round 2: client u's masked input y[0..len) (added, not kept). EAI_E_STATE
 * (u did not share, duplicate, round 2 not open or closed). */
EAI_API eai_status_t eai_secagg_server_masked(eai_secagg_server_t *s, int u, const uint32_t *y);
/* Closes round 2 and writes alive[u] (n): the masked inputs it holds.
 * EAI_E_UNAVAILABLE below threshold. May be called again. */
EAI_API eai_status_t eai_secagg_server_survivors(eai_secagg_server_t *s, bool *alive);
/* Round 3: client v's answer (layout of eai_secagg_client_unmask, copied).
 * EAI_E_STATE (v not alive, duplicate, round 3 not open); EAI_E_FORMAT if
 * present names a client that never shared. */
EAI_API eai_status_t eai_secagg_server_unmask(eai_secagg_server_t *s, int v, const uint8_t *shares,
                                              const bool *present);
/* Rebuilds the secrets and writes sum[0..len) = the sum of the alive
 * clients' x (within rep->max_quant_error). EAI_E_UNAVAILABLE if fewer than
 * threshold answered round 3 (or hold a share of some client's secret);
 * EAI_E_FORMAT if a rebuilt key does not match its public key; EAI_E_STATE
 * before survivors or after a successful finish. rep may be NULL
 * (bytes_per_client is 0 here: the transport knows what it sent). */
EAI_API eai_status_t eai_secagg_server_finish(eai_secagg_server_t *s, float *sum,
                                              eai_secagg_report_t *rep);

#ifdef __cplusplus
}
#endif

#endif
