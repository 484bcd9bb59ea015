/* Renyi-DP accountant for the Poisson-subsampled Gaussian mechanism
 * (Mironov, Talwar, Zhang 2019, "Renyi Differential Privacy of the Sampled
 * Gaussian Mechanism"): the computation of TF Privacy's compute_rdp and
 * Opacus's RDP accountant, in log space. One idea: RDP composes by addition,
 * so `steps` rounds cost steps * rdp(alpha); the (epsilon, delta) bound is the
 * best conversion over a fixed list of orders. */
#include <math.h>
#include <stdint.h>

#include "edgeai/fl.h"
#include "fl/rdp_impl.h"

#define LOG_PI  1.1447298858494002  /* log(pi) */
#define SQRT1_2 0.70710678118654752 /* 1/sqrt(2) */

/* Opacus's DEFAULT_ALPHAS: [1 + x / 10.0 for x in range(1, 100)] + range(12, 64),
 * computed with the same double operations so the orders match bit for bit. */
double eai__rdp_order_at(int k)
{
    return k < 99 ? 1.0 + (k + 1) / 10.0 : (double)(12 + (k - 99));
}

/* The fractional-order series converges polynomially (terms ~ i^-(alpha+2));
 * past this many terms the order is dropped, which only loosens the bound. */
#define MAX_SERIES_TERMS 2000000

/* log(exp(a) + exp(b)) without overflow. */
static double log_add(double a, double b)
{
    double lo = a < b ? a : b, hi = a < b ? b : a;
    if (lo == -INFINITY) return hi;
    return hi + log1p(exp(lo - hi));
}

/* log(exp(a) - exp(b)) for a >= b; -inf when equal. */
static double log_sub(double a, double b)
{
    if (b == -INFINITY) return a;
    if (a <= b) return -INFINITY; /* rounding: the true difference is ~0 */
    return a + log1p(-exp(b - a));
}

/* log(erfc(x)). erfc underflows near x = 26.5; beyond 25 use the Laurent
 * series at infinity (the same one TF Privacy falls back to), whose next
 * term is below 1e-13 there. */
static double log_erfc(double x)
{
    if (x < 25.0) return log(erfc(x));
    double x2 = x * x;
    return -0.5 * LOG_PI - log(x) - x2 - 0.5 / x2 + 0.625 / (x2 * x2) -
           37.0 / 24.0 / (x2 * x2 * x2) + 353.0 / 64.0 / (x2 * x2 * x2 * x2);
}

/* log(A_alpha) for integer alpha: the binomial expansion
 * A = sum_k C(alpha,k) (1-q)^(alpha-k) q^k exp((k^2 - k) / (2 sigma^2)). */
static double log_a_int(double q, double sigma, int alpha)
{
    double log_a = -INFINITY, log_binom = 0.0;
    double lq = log(q), l1q = log1p(-q), s2 = 2.0 * sigma * sigma;
    for (int k = 0; k <= alpha; k++) {
        if (k > 0) log_binom += log((double)(alpha - k + 1)) - log((double)k);
        double t = log_binom + k * lq + (alpha - k) * l1q + ((double)k * k - k) / s2;
        log_a = log_add(log_a, t);
    }
    return log_a;
}

/* log(A_alpha) for fractional alpha: the two-sided series of Mironov et al.
 * (Sec. 3.3), split at z0 = sigma^2 log(1/q - 1) + 1/2. Generalised binomial
 * coefficients are built by recurrence with their sign (no lgamma, which is
 * not thread-safe). NAN when the series does not converge. */
static double log_a_frac(double q, double sigma, double alpha)
{
    double log_a0 = -INFINITY, log_a1 = -INFINITY;
    double lq = log(q), l1q = log1p(-q), s2 = 2.0 * sigma * sigma;
    double z0 = sigma * sigma * log(1.0 / q - 1.0) + 0.5;
    double rs = SQRT1_2 / sigma;
    double log_c = 0.0; /* log |C(alpha, i)| */
    int sign = 1;
    for (int i = 0; i < MAX_SERIES_TERMS; i++) {
        double j = alpha - i;
        double log_t0 = log_c + i * lq + j * l1q;
        double log_t1 = log_c + j * lq + i * l1q;
        double log_e0 = log(0.5) + log_erfc((i - z0) * rs);
        double log_e1 = log(0.5) + log_erfc((z0 - j) * rs);
        double log_s0 = log_t0 + ((double)i * i - i) / s2 + log_e0;
        double log_s1 = log_t1 + (j * j - j) / s2 + log_e1;
        if (sign > 0) {
            log_a0 = log_add(log_a0, log_s0);
            log_a1 = log_add(log_a1, log_s1);
        } else {
            log_a0 = log_sub(log_a0, log_s0);
            log_a1 = log_sub(log_a1, log_s1);
        }
        if (fmax(log_s0, log_s1) < -30.0) return log_add(log_a0, log_a1);
        /* C(alpha, i+1) = C(alpha, i) (alpha - i) / (i + 1) */
        if (j < 0) sign = -sign;
        log_c += log(fabs(j)) - log((double)i + 1.0);
    }
    return NAN;
}

double eai__rdp_order(double q, double sigma, double alpha)
{
    if (!(q >= 0 && q <= 1) || !(sigma >= 0) || !(alpha > 1)) return NAN;
    if (q == 0) return 0.0;
    if (sigma == 0 || isinf(alpha)) return INFINITY;
    if (isinf(sigma)) return 0.0;
    if (q == 1) return alpha / (2.0 * sigma * sigma); /* the plain Gaussian mechanism */
    double log_a;
    if (alpha == floor(alpha) && alpha <= 1e6)
        log_a = log_a_int(q, sigma, (int)alpha);
    else
        log_a = log_a_frac(q, sigma, alpha);
    if (isnan(log_a)) return INFINITY;
    /* A_alpha >= 1 in exact arithmetic; clamp rounding below 0. */
    return log_a > 0 ? log_a / (alpha - 1.0) : 0.0;
}

double eai__rdp_epsilon_conv(double q, double sigma, int64_t steps, double delta,
                             eai__rdp_conv_t conv, double *best_order)
{
    if (best_order) *best_order = 0;
    if (!(q >= 0 && q <= 1) || !(sigma >= 0) || steps < 0 || !(delta > 0 && delta < 1)) return NAN;
    if (q == 0 || steps == 0) return 0.0;
    if (sigma == 0) return INFINITY;
    double best = INFINITY;
    for (int k = 0; k < EAI__RDP_N_ORDERS; k++) {
        double a = eai__rdp_order_at(k);
        double r = eai__rdp_order(q, sigma, a) * (double)steps;
        if (!(r < INFINITY)) continue;
        double eps;
        if (conv == EAI__RDP_CONV_CLASSIC) {
            eps = r - log(delta) / (a - 1.0);
        } else if (delta * delta + expm1(-r) > 0) {
            /* delta <= sqrt(1 - exp(-KL)) and KL <= rdp: already (0, delta)-DP
             * (TF Privacy's compute_eps). */
            eps = 0.0;
        } else if (a > 1.01) {
            eps = r + log1p(-1.0 / a) - log(delta * a) / (a - 1.0);
        } else {
            continue; /* the improved bound needs alpha bounded away from 1 */
        }
        if (eps < best) {
            best = eps;
            if (best_order) *best_order = a;
        }
    }
    return best < 0 ? 0.0 : best;
}

double eai_rdp_epsilon(double q, double sigma, int64_t steps, double delta)
{
    return eai__rdp_epsilon_conv(q, sigma, steps, delta, EAI__RDP_CONV_IMPROVED, NULL);
}

double eai_rdp_sigma_for(double q, int64_t steps, double delta, double epsilon)
{
    if (!(q >= 0 && q <= 1) || steps < 0 || !(delta > 0 && delta < 1) || !(epsilon > 0)) return NAN;
    if (q == 0 || steps == 0) return 0.0; /* nothing released: no noise needed */
    /* epsilon decreases in sigma (every order's RDP does), so bracket then
     * bisect, keeping hi on the side that meets the target. */
    double lo = 0.0, hi = 1.0;
    while (eai_rdp_epsilon(q, hi, steps, delta) > epsilon) {
        lo = hi;
        hi *= 2.0;
        if (hi > 1e9) return INFINITY; /* unreachable target */
    }
    while (hi - lo > 1e-7 * hi) {
        double mid = 0.5 * (lo + hi);
        if (eai_rdp_epsilon(q, mid, steps, delta) > epsilon)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}
