/* Differential privacy primitives for DP-FedAvg: L2 clipping of a client's
 * update and seeded Gaussian noise. The one idea: the noise stream is
 * xoshiro256** (seeded by splitmix64) through Marsaglia's polar method, so a
 * seed gives the same draws everywhere (only sqrt and log are used; sqrt is
 * exact in IEEE 754, log is glibc's correctly rounded one in practice). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "edgeai/fl.h"
#include "fl/fl_impl.h"

double eai_dp_clip(float *v, size_t n, float clip)
{
    double ss = 0.0;
    for (size_t i = 0; i < n; i++)
        ss += (double)v[i] * (double)v[i];
    double norm = sqrt(ss);
    if (!isfinite(norm) || !(clip > 0)) {
        /* A non-finite update has no bounded sensitivity, and clip <= 0 (or
         * NaN) admits only the zero vector: either way zero is the one
         * output that keeps the DP guarantee. */
        if (!(norm <= clip)) /* leaves an already-zero v (norm 0, clip 0) alone */
            for (size_t i = 0; i < n; i++)
                v[i] = 0.0f;
        return norm;
    }
    if (norm <= clip) return norm;
    /* Shrink by 2^-22 more than clip/norm: each float rounding adds at most
     * 2^-24 relative, so the stored vector's norm stays <= clip. */
    double scale = (double)clip / norm * (1.0 - 0x1p-22);
    for (size_t i = 0; i < n; i++)
        v[i] = (float)((double)v[i] * scale);
    return norm;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** 1.0 (Blackman and Vigna 2018). */
static inline uint64_t xoshiro_next(uint64_t s[4])
{
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

/* Uniform in [-1, 1) on the 2^-52 grid. */
static inline double uniform_pm1(uint64_t s[4])
{
    return (double)(xoshiro_next(s) >> 11) * 0x1.0p-53 * 2.0 - 1.0;
}

void eai_dp_gaussian(float *v, size_t n, double sigma, uint64_t seed)
{
    if (n == 0 || sigma == 0) return;
    if (!(sigma > 0) || !isfinite(sigma)) {
        /* A caller bug must not silently release un-noised data: poison the
         * vector so the failure shows downstream. */
        for (size_t i = 0; i < n; i++)
            v[i] = NAN;
        return;
    }
    uint64_t sm = seed, s[4];
    for (int k = 0; k < 4; k++)
        s[k] = splitmix64(&sm);
    size_t i = 0;
    while (i < n) {
        double a = uniform_pm1(s), b = uniform_pm1(s), r2 = a * a + b * b;
        if (r2 >= 1.0 || r2 == 0.0) continue; /* rejection keeps (a, b) uniform on the disc */
        double f = sqrt(-2.0 * log(r2) / r2);
        v[i] = (float)((double)v[i] + sigma * a * f);
        i++;
        if (i < n) {
            v[i] = (float)((double)v[i] + sigma * b * f);
            i++;
        }
    }
}

void eai__fl_dp_row(const float *g, const float *x, size_t n, double clip, float *row)
{
    for (size_t j = 0; j < n; j++)
        row[j] = (float)((double)x[j] - (double)g[j]);
    eai_dp_clip(row, n, (float)clip);
}

void eai__fl_dp_model(const float *g, const float *sum, size_t n, int m, double sigma, double clip,
                      uint64_t seed, float *x)
{
    /* fixed denominator: the expected number of clients, m = q N */
    const double denom = (double)m;
    for (size_t j = 0; j < n; j++)
        x[j] = (float)((double)sum[j] / denom);
    eai_dp_gaussian(x, n, sigma * clip / denom, seed);
    for (size_t j = 0; j < n; j++)
        x[j] = (float)((double)g[j] + (double)x[j]);
}
