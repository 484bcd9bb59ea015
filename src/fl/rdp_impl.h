/* Internals of the Renyi-DP accountant (rdp.c), exposed for tests and for
 * callers that want one order or the classic conversion. Private to edgeai. */
#ifndef EAI_FL_RDP_IMPL_H
#define EAI_FL_RDP_IMPL_H

#include <stdint.h>

/* The orders eai_rdp_epsilon minimises over (Opacus's default alphas):
 * 1 + x/10 for x = 1..99, then 12..63. */
#define EAI__RDP_N_ORDERS 151
double eai__rdp_order_at(int k); /* 0 <= k < EAI__RDP_N_ORDERS */

/* RDP of one step of the Poisson-subsampled Gaussian mechanism at order
 * alpha > 1 (Mironov, Talwar, Zhang 2019): log(A_alpha) / (alpha - 1).
 * INFINITY when unbounded or when the fractional series fails to converge
 * (dropping an order is conservative); NaN for invalid arguments. */
double eai__rdp_order(double q, double sigma, double alpha);

typedef enum eai__rdp_conv {
    /* eps = rdp - log(delta)/(alpha-1) (Mironov 2017, Prop. 3): what TF
     * Privacy's published tables used. */
    EAI__RDP_CONV_CLASSIC = 0,
    /* eps = rdp + log1p(-1/alpha) - (log(delta) + log(alpha))/(alpha-1)
     * (Balle et al. 2020, Prop. 12; Opacus and TF Privacy now): tighter. */
    EAI__RDP_CONV_IMPROVED = 1,
} eai__rdp_conv_t;

/* eai_rdp_epsilon with a chosen conversion; *best_order (may be NULL) gets
 * the order that attained the minimum (0 when none did). */
double eai__rdp_epsilon_conv(double q, double sigma, int64_t steps, double delta,
                             eai__rdp_conv_t conv, double *best_order);

#endif
