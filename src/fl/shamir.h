/* Shamir secret sharing, t of n, byte by byte over GF(2^8) (the AES field,
 * x^8 + x^4 + x^3 + x + 1). A secret of len bytes gives n shares of len bytes
 * each; share j (0-based) is the polynomials evaluated at x = j + 1, so
 * n <= 255. Any t shares rebuild the secret by Lagrange interpolation at 0;
 * t - 1 shares are uniformly distributed whatever the secret (information-
 * theoretic hiding). Field arithmetic is branch- and table-free (no
 * secret-dependent memory access). Internal to edgeai (SecAgg uses it). */
#ifndef EAI_FL_SHAMIR_H
#define EAI_FL_SHAMIR_H

#include <stddef.h>
#include <stdint.h>

#include "edgeai/status.h"

#define EAI__SHAMIR_MAX_N 255

/* Splits secret[0..len) into shares[j * len .. (j + 1) * len) for j < n.
 * 1 <= t <= n <= 255. seed32 NULL: random coefficients from libsodium's
 * randombytes_buf (sodium_init must have succeeded); else 32 bytes keying a
 * ChaCha20 stream, so the same seed gives the same shares (tests,
 * simulation). secret and seed32 are borrowed for the call. EAI_E_INVALID on
 * bad counts. Never allocates. */
eai_status_t eai__shamir_split(const uint8_t *secret, size_t len, int t, int n,
                               const uint8_t *seed32, uint8_t *shares);

/* Rebuilds secret[0..len) from k shares: xs[i] (1..255, distinct) is share
 * i's x and ys[i] its len bytes (borrowed). Interpolates through the first t
 * shares; k < t, t < 1, x = 0 or a repeated x: EAI_E_INVALID. With fewer
 * than the real threshold's shares the output is a wrong, random-looking
 * value: the caller must know t. */
eai_status_t eai__shamir_combine(const uint8_t *xs, const uint8_t *const *ys, int k, int t,
                                 size_t len, uint8_t *secret);

/* GF(2^8) product and inverse (inv(0) = 0), exposed for tests. */
uint8_t eai__gf256_mul(uint8_t a, uint8_t b);
uint8_t eai__gf256_inv(uint8_t a);

#endif
