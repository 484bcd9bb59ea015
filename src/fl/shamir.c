/* Shamir secret sharing over GF(2^8), byte-wise (see shamir.h). The one
 * idea: each secret byte is the constant term of its own random polynomial of
 * degree t - 1; shares are evaluations at x = 1..n. */
#include <sodium.h>
#include <string.h>

#include "fl/shamir.h"

/* Secrets are processed in chunks of this many bytes so that the random
 * coefficients fit on the stack: (t - 1) * CHUNK <= 254 * 32 bytes. */
#define CHUNK 32

uint8_t eai__gf256_mul(uint8_t a, uint8_t b)
{
    /* Russian-peasant multiplication with masks instead of branches. */
    unsigned p = 0, x = a, y = b;
    for (int i = 0; i < 8; i++) {
        p ^= x & (0u - (y & 1u));
        unsigned hi = 0u - ((x >> 7) & 1u);
        x = ((x << 1) ^ (0x1Bu & hi)) & 0xFFu;
        y >>= 1;
    }
    return (uint8_t)p;
}

uint8_t eai__gf256_inv(uint8_t a)
{
    /* a^254 = a^-1 in GF(2^8)* (and 0 -> 0), by a fixed square-and-multiply. */
    uint8_t r = 1, base = a;
    for (int e = 254; e; e >>= 1) {
        if (e & 1) r = eai__gf256_mul(r, base);
        base = eai__gf256_mul(base, base);
    }
    return r;
}

eai_status_t eai__shamir_split(const uint8_t *secret, size_t len, int t, int n,
                               const uint8_t *seed32, uint8_t *shares)
{
    if (n < 1 || n > EAI__SHAMIR_MAX_N)
        return eai_fail(EAI_E_INVALID, "shamir: %d shares requested, GF(256) allows 1..255", n);
    if (t < 1 || t > n) return eai_fail(EAI_E_INVALID, "shamir: threshold %d outside 1..%d", t, n);
    if (!secret || !shares) return eai_fail(EAI_E_INVALID, "shamir: NULL secret or shares");
    uint8_t coef[(EAI__SHAMIR_MAX_N - 1) * CHUNK]; /* coef[(d - 1) * CHUNK + b]: degree d */
    size_t n_coef = (size_t)(t - 1) * CHUNK;
    for (size_t off = 0; off < len; off += CHUNK) {
        size_t m = len - off < CHUNK ? len - off : CHUNK;
        if (n_coef) {
            if (seed32) {
                /* One ChaCha20 nonce per chunk: independent streams. */
                uint8_t nonce[crypto_stream_chacha20_NONCEBYTES] = {0};
                uint64_t c = off / CHUNK;
                for (int i = 0; i < 8; i++)
                    nonce[i] = (uint8_t)(c >> (8 * i));
                crypto_stream_chacha20(coef, n_coef, nonce, seed32);
            } else {
                randombytes_buf(coef, n_coef);
            }
        }
        for (int j = 0; j < n; j++) {
            uint8_t x = (uint8_t)(j + 1);
            uint8_t *out = shares + (size_t)j * len + off;
            for (size_t b = 0; b < m; b++) {
                /* Horner from the highest degree down to the secret. */
                uint8_t y = 0;
                for (int d = t - 1; d >= 1; d--)
                    y = eai__gf256_mul(y, x) ^ coef[(size_t)(d - 1) * CHUNK + b];
                out[b] = eai__gf256_mul(y, x) ^ secret[off + b];
            }
        }
    }
    sodium_memzero(coef, sizeof coef);
    return EAI_OK;
}

eai_status_t eai__shamir_combine(const uint8_t *xs, const uint8_t *const *ys, int k, int t,
                                 size_t len, uint8_t *secret)
{
    if (t < 1 || t > EAI__SHAMIR_MAX_N)
        return eai_fail(EAI_E_INVALID, "shamir: threshold %d outside 1..255", t);
    if (k < t) return eai_fail(EAI_E_INVALID, "shamir: %d shares given, threshold is %d", k, t);
    if (!xs || !ys || !secret) return eai_fail(EAI_E_INVALID, "shamir: NULL shares or secret");
    for (int i = 0; i < t; i++) {
        if (xs[i] == 0) return eai_fail(EAI_E_INVALID, "shamir: share %d has x = 0", i);
        if (!ys[i]) return eai_fail(EAI_E_INVALID, "shamir: share %d has no data", i);
        for (int j = 0; j < i; j++)
            if (xs[i] == xs[j])
                return eai_fail(EAI_E_INVALID, "shamir: shares %d and %d both have x = %u", j, i,
                                xs[i]);
    }
    /* Lagrange basis at 0: l_i = prod_{m != i} x_m / (x_m - x_i); minus is xor. */
    uint8_t l[EAI__SHAMIR_MAX_N];
    for (int i = 0; i < t; i++) {
        uint8_t num = 1, den = 1;
        for (int m = 0; m < t; m++) {
            if (m == i) continue;
            num = eai__gf256_mul(num, xs[m]);
            den = eai__gf256_mul(den, xs[m] ^ xs[i]);
        }
        l[i] = eai__gf256_mul(num, eai__gf256_inv(den));
    }
    for (size_t b = 0; b < len; b++) {
        uint8_t s = 0;
        for (int i = 0; i < t; i++)
            s ^= eai__gf256_mul(l[i], ys[i][b]);
        secret[b] = s;
    }
    return EAI_OK;
}
