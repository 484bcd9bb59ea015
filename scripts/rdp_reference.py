#!/usr/bin/env python3
"""Reference numbers for tests/fl/test_dp.c, computed independently of the C
code in src/fl/rdp.c and src/fl/dp.c.

RDP: the sampled Gaussian mechanism's A_alpha is computed by direct numerical
integration of its definition (Mironov, Talwar, Zhang 2019, Sec. 3),
    A_alpha = E_{z ~ N(0, s^2)} [ ((1 - q) + q exp((2z - 1) / (2 s^2)))^alpha ],
with mpmath at 40 digits, not by the series the C code sums. Integer orders are
cross-checked against the exact binomial expansion. epsilon is the minimum over
Opacus's default orders of either conversion:
    classic:  rdp - log(delta) / (alpha - 1)
    improved: rdp + log1p(-1/alpha) - (log(delta) + log(alpha)) / (alpha - 1)
Noise: the first draws of xoshiro256** (seeded by splitmix64) through the
Marsaglia polar method, from the algorithm's published description.

Usage: /usr/bin/python3 scripts/rdp_reference.py   (several minutes; prints the C
tables pasted into tests/fl/test_dp.c)
"""
import math

import mpmath as mp

mp.mp.dps = 40

ORDERS = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))


def log_a_integral(q, sigma, alpha):
    q, s, a = mp.mpf(q), mp.mpf(sigma), mp.mpf(alpha)

    def f(z):
        ratio = mp.exp((2 * z - 1) / (2 * s * s))
        return mp.npdf(z, 0, s) * ((1 - q) + q * ratio) ** a

    # The integrand peaks near 0 and, for large alpha, near z ~ alpha; give
    # quad the break points so it sees both bumps.
    pts = [-mp.inf, -10 * s, 0, 0.5, 1, a / 2, a, a + 10 * s, mp.inf]
    pts = sorted(set(pts), key=lambda v: float(v))
    return mp.log(mp.quad(f, pts))


def log_a_binomial(q, sigma, alpha):
    q, s = mp.mpf(q), mp.mpf(sigma)
    tot = mp.mpf(0)
    for k in range(alpha + 1):
        tot += mp.binomial(alpha, k) * (1 - q) ** (alpha - k) * q ** k * mp.exp(
            (k * k - k) / (2 * s * s))
    return mp.log(tot)


def rdp(q, sigma, alpha):
    if q == 1:
        return mp.mpf(alpha) / (2 * mp.mpf(sigma) ** 2)
    return log_a_integral(q, sigma, alpha) / (mp.mpf(alpha) - 1)


def epsilon(q, sigma, steps, delta, conv):
    best = mp.inf
    best_a = None
    for a in ORDERS:
        r = rdp(q, sigma, a) * steps
        am = mp.mpf(a)
        if conv == "classic":
            e = r - mp.log(delta) / (am - 1)
        else:
            e = r + mp.log1p(-1 / am) - (mp.log(delta) + mp.log(am)) / (am - 1)
        if e < best:
            best, best_a = e, a
    return max(best, 0), best_a


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return state, z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & 0xFFFFFFFFFFFFFFFF


class Xoshiro256ss:
    def __init__(self, seed):
        st = seed
        self.s = []
        for _ in range(4):
            st, z = splitmix64(st)
            self.s.append(z)

    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & 0xFFFFFFFFFFFFFFFF, 7) * 9) & 0xFFFFFFFFFFFFFFFF
        t = (s[1] << 17) & 0xFFFFFFFFFFFFFFFF
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result


def polar_normals(seed, n):
    g = Xoshiro256ss(seed)
    out = []
    while len(out) < n:
        u = (g.next() >> 11) * 2.0 ** -53 * 2.0 - 1.0
        v = (g.next() >> 11) * 2.0 ** -53 * 2.0 - 1.0
        s = u * u + v * v
        if s >= 1.0 or s == 0.0:
            continue
        f = math.sqrt(-2.0 * math.log(s) / s)
        out += [u * f, v * f]
    return out[:n]


def main():
    print("/* per-order RDP: q, sigma, alpha, rdp (numerical integral) */")
    print("static const order_ref_t order_ref[] = {")
    for q, sigma in [(0.01, 1.0), (0.1, 0.8), (256 / 60000, 1.1), (0.05, 3.0)]:
        for a in [1.1, 1.5, 2.0, 2.5, 3.7, 8.0, 10.5, 32.0, 63.0]:
            r = rdp(q, sigma, a)
            if float(a).is_integer():
                rb = log_a_binomial(q, sigma, int(a)) / (a - 1)
                assert abs(r - rb) <= 1e-20 * max(1, abs(rb)), (q, sigma, a, r, rb)
            print("    {%.17g, %.17g, %.17g, %.17g}," % (q, sigma, a, float(r)))
    print("};")
    print("/* epsilon: q, sigma, steps, delta, classic, improved */")
    print("static const eps_ref_t eps_ref[] = {")
    for q, sigma, steps, delta in [(256 / 60000, 1.1, 14063, 1e-5), (256 / 60000, 1.3, 3516, 1e-5),
                                   (256 / 60000, 0.7, 10547, 1e-5), (0.1, 1.0, 100, 1e-5),
                                   (0.01, 2.0, 1000, 1e-6), (0.3, 5.0, 50, 1e-5)]:
        ec, ac = epsilon(q, sigma, steps, delta, "classic")
        ei, ai = epsilon(q, sigma, steps, delta, "improved")
        print("    {%.17g, %.17g, %d, %.17g, %.17g, %.17g}, /* orders %g, %g */" %
              (q, sigma, steps, delta, float(ec), float(ei), ac, ai))
    print("};")
    print("/* N(0,1) from xoshiro256** + polar, seed 42 */")
    print("#define REF_NORMALS_SEED42 " + ", ".join("%.17g" % z for z in polar_normals(42, 8)))


if __name__ == "__main__":
    main()
