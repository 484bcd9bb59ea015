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

#ifdef __cplusplus
}
#endif

#endif
