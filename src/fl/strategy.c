/* Server-side aggregation strategies: every algorithm turns the round's
 * updates into one pseudo-gradient D (a weighted mean of client - global) and
 * applies it, so they share one accumulation loop in double precision.
 * Buffers (BN running statistics, after n_trainable) are sample-weighted
 * means of the clients' buffers for every algorithm. */
#include <math.h>
#include <string.h>

#include "core/core_impl.h"
#include "edgeai/fl.h"

struct eai_fl_strategy {
    eai_fl_strategy_opts_t o; /* defaults resolved */
    size_t n_params, n_trainable;
    float *state; /* adaptive: m | v (2 * n_trainable); SCAFFOLD: c; else NULL */
    size_t n_state;
    double *acc;   /* n_params: the pseudo-gradient being accumulated */
    double *acc_c; /* SCAFFOLD: sum of control deltas (n_trainable) */
};

static const char *const algo_names[] = {"fedavg",     "fedprox",  "fedadam", "fedyogi",
                                         "fedadagrad", "scaffold", "fednova"};
#define N_ALGOS ((int)(sizeof algo_names / sizeof algo_names[0]))

eai_status_t eai_fl_algo_parse(const char *s, eai_fl_algo_t *out)
{
    if (!s || !out) return eai_fail(EAI_E_INVALID, "fl: algorithm: NULL argument");
    for (int i = 0; i < N_ALGOS; i++)
        if (strcmp(s, algo_names[i]) == 0) {
            *out = (eai_fl_algo_t)i;
            return EAI_OK;
        }
    return eai_fail(EAI_E_INVALID,
                    "fl: unknown strategy '%s' (expected fedavg, fedprox, fedadam, fedyogi, "
                    "fedadagrad, scaffold or fednova)",
                    s);
}

const char *eai_fl_algo_name(eai_fl_algo_t a)
{
    return ((int)a >= 0 && (int)a < N_ALGOS) ? algo_names[a] : "unknown";
}

static bool is_adaptive(eai_fl_algo_t a)
{
    return a == EAI_FL_FEDADAM || a == EAI_FL_FEDYOGI || a == EAI_FL_FEDADAGRAD;
}

eai_status_t eai_fl_strategy_create(const eai_fl_strategy_opts_t *o, size_t n_params,
                                    size_t n_trainable, eai_fl_strategy_t **out)
{
    if (!out) return eai_fail(EAI_E_INVALID, "fl strategy: out is NULL");
    eai_fl_strategy_opts_t r = o ? *o : (eai_fl_strategy_opts_t){0};
    if ((int)r.algo < 0 || (int)r.algo >= N_ALGOS)
        return eai_fail(EAI_E_INVALID, "fl strategy: unknown algorithm %d", (int)r.algo);
    if (n_params == 0 || n_trainable > n_params)
        return eai_fail(EAI_E_INVALID, "fl strategy: %zu trainable of %zu params", n_trainable,
                        n_params);
    if (r.mu < 0 || r.server_lr < 0 || r.beta1 < 0 || r.beta1 >= 1 || r.beta2 < 0 || r.beta2 >= 1 ||
        r.tau < 0 || r.population < 0 || r.local_momentum < 0 || r.local_momentum >= 1 ||
        !isfinite(r.server_lr) || !isfinite(r.mu))
        return eai_fail(EAI_E_INVALID,
                        "fl strategy: options out of range (mu, server_lr, tau >= 0; beta1, "
                        "beta2, local_momentum in [0, 1); population >= 0)");
    if (r.mu == 0) r.mu = 0.01f;
    if (r.server_lr == 0) r.server_lr = is_adaptive(r.algo) ? 0.01f : 1.0f;
    if (r.beta1 == 0) r.beta1 = 0.9f;
    if (r.beta2 == 0) r.beta2 = 0.99f;
    if (r.tau == 0) r.tau = 1e-3f;

    eai_fl_strategy_t *s = eai__calloc(NULL, 1, sizeof *s);
    if (!s) return eai_fail(EAI_E_NOMEM, "fl strategy: out of memory");
    s->o = r;
    s->n_params = n_params;
    s->n_trainable = n_trainable;
    s->n_state = is_adaptive(r.algo)         ? 2 * n_trainable
                 : r.algo == EAI_FL_SCAFFOLD ? n_trainable
                                             : 0;
    s->acc = eai__calloc(NULL, n_params, sizeof *s->acc);
    if (s->n_state) s->state = eai__calloc(NULL, s->n_state, sizeof *s->state);
    if (r.algo == EAI_FL_SCAFFOLD) s->acc_c = eai__calloc(NULL, n_trainable, sizeof *s->acc_c);
    if (!s->acc || (s->n_state && !s->state) || (r.algo == EAI_FL_SCAFFOLD && !s->acc_c)) {
        eai_fl_strategy_destroy(s);
        return eai_fail(EAI_E_NOMEM, "fl strategy: out of memory for %zu params", n_params);
    }
    /* Reddi et al. 2021, Algorithm 2 starts from m = 0 and v >= tau^2. */
    if (is_adaptive(r.algo))
        for (size_t j = 0; j < n_trainable; j++)
            s->state[n_trainable + j] = r.tau * r.tau;
    *out = s;
    return EAI_OK;
}

void eai_fl_strategy_destroy(eai_fl_strategy_t *s)
{
    if (!s) return;
    eai__free(NULL, s->acc);
    eai__free(NULL, s->acc_c);
    eai__free(NULL, s->state);
    eai__free(NULL, s);
}

const float *eai_fl_strategy_control(const eai_fl_strategy_t *s)
{
    return (s && s->o.algo == EAI_FL_SCAFFOLD) ? s->state : NULL;
}

size_t eai_fl_strategy_state_floats(const eai_fl_strategy_t *s)
{
    return s ? s->n_state : 0;
}

float *eai_fl_strategy_state(eai_fl_strategy_t *s)
{
    return s ? s->state : NULL;
}

/* FedNova's ||a_i||_1 (Wang et al. 2020, Sec. 4 and App. C): tau for plain
 * SGD; with momentum rho, a_i = [1-rho^tau, ..., 1-rho] / (1-rho), so
 * ||a_i||_1 = (tau - rho (1 - rho^tau) / (1 - rho)) / (1 - rho). */
static double nova_norm(int64_t tau, double rho)
{
    if (rho == 0) return (double)tau;
    return ((double)tau - rho * (1.0 - pow(rho, (double)tau)) / (1.0 - rho)) / (1.0 - rho);
}

static eai_status_t check_updates(const eai_fl_strategy_t *s, const eai_fl_update_t *u, int n)
{
    for (int i = 0; i < n; i++) {
        if (!u[i].params)
            return eai_fail(EAI_E_INVALID, "fl aggregate: update %d (client %u) has no params", i,
                            u[i].client);
        if (u[i].n_params && u[i].n_params != s->n_params)
            return eai_fail(EAI_E_INVALID,
                            "fl aggregate: update from client %u has %zu params (expected %zu)",
                            u[i].client, u[i].n_params, s->n_params);
        if (u[i].n_samples <= 0)
            return eai_fail(EAI_E_INVALID, "fl aggregate: client %u reports %lld samples",
                            u[i].client, (long long)u[i].n_samples);
        if (s->o.algo == EAI_FL_SCAFFOLD && !u[i].control_delta)
            return eai_fail(EAI_E_INVALID,
                            "fl aggregate: SCAFFOLD update from client %u has no "
                            "control_delta",
                            u[i].client);
        if (s->o.algo == EAI_FL_FEDNOVA && u[i].local_steps <= 0)
            return eai_fail(EAI_E_INVALID,
                            "fl aggregate: FedNova update from client %u reports "
                            "%lld local steps",
                            u[i].client, (long long)u[i].local_steps);
    }
    return EAI_OK;
}

eai_status_t eai_fl_strategy_aggregate(eai_fl_strategy_t *s, float *global,
                                       const eai_fl_update_t *u, int n)
{
    if (!s || !global || !u || n < 1)
        return eai_fail(EAI_E_INVALID,
                        "fl aggregate: needs a strategy, a global vector and "
                        ">= 1 update (got %d)",
                        n);
    EAI_TRY(check_updates(s, u, n));
    const size_t np = s->n_params, nt = s->n_trainable;
    const eai_fl_algo_t algo = s->o.algo;
    double total = 0;
    for (int i = 0; i < n; i++)
        total += (double)u[i].n_samples;

    /* Trainable part: D = sum_i w_i (x_i - x) with the algorithm's weights;
     * buffers: sum_i p_i b_i, p_i = n_i / sum n. */
    double tau_eff = 0;
    memset(s->acc, 0, np * sizeof *s->acc);
    if (s->acc_c) memset(s->acc_c, 0, nt * sizeof *s->acc_c);
    for (int i = 0; i < n; i++) {
        const double p = (double)u[i].n_samples / total;
        double w = p; /* FedAvg family, adaptive: sample-weighted */
        if (algo == EAI_FL_SCAFFOLD) {
            w = 1.0 / n; /* Karimireddy et al. 2020, Alg. 1: plain mean over S */
        } else if (algo == EAI_FL_FEDNOVA) {
            const double a = nova_norm(u[i].local_steps, s->o.local_momentum);
            tau_eff += p * a;
            w = p / a; /* p_i d_i with d_i = (x_i - x) / ||a_i||_1 */
        }
        const float *x = u[i].params;
        for (size_t j = 0; j < nt; j++)
            s->acc[j] += w * ((double)x[j] - (double)global[j]);
        for (size_t j = nt; j < np; j++)
            s->acc[j] += p * (double)x[j];
        if (s->acc_c) {
            const float *dc = u[i].control_delta;
            for (size_t j = 0; j < nt; j++)
                s->acc_c[j] += (double)dc[j];
        }
    }

    const double eta = s->o.server_lr;
    switch (algo) {
    case EAI_FL_FEDAVG:
    case EAI_FL_FEDPROX:
    case EAI_FL_SCAFFOLD:
        for (size_t j = 0; j < nt; j++)
            global[j] = (float)((double)global[j] + eta * s->acc[j]);
        if (algo == EAI_FL_SCAFFOLD) {
            /* c += |S|/N * mean dc = (1/N) sum dc (option II, Alg. 1 line 17) */
            const double N = s->o.population > 0 ? (double)s->o.population : (double)n;
            for (size_t j = 0; j < nt; j++)
                s->state[j] = (float)((double)s->state[j] + s->acc_c[j] / N);
        }
        break;
    case EAI_FL_FEDNOVA:
        /* x = x - eta * tau_eff * sum p_i d_i, with d_i pointing downhill;
         * acc holds sum p_i (x_i - x)/||a_i|| = -sum p_i d_i. */
        for (size_t j = 0; j < nt; j++)
            global[j] = (float)((double)global[j] + eta * tau_eff * s->acc[j]);
        break;
    case EAI_FL_FEDADAM:
    case EAI_FL_FEDYOGI:
    case EAI_FL_FEDADAGRAD: {
        /* Reddi et al. 2021, Algorithm 2 (no bias correction). */
        float *m = s->state, *v = s->state + nt;
        const double b1 = s->o.beta1, b2 = s->o.beta2, tau = s->o.tau;
        for (size_t j = 0; j < nt; j++) {
            const double d = s->acc[j], d2 = d * d;
            const double mj = b1 * m[j] + (1 - b1) * d;
            double vj = v[j];
            if (algo == EAI_FL_FEDADAGRAD)
                vj = vj + d2;
            else if (algo == EAI_FL_FEDADAM)
                vj = b2 * vj + (1 - b2) * d2;
            else /* Yogi: v - (1 - b2) d^2 sign(v - d^2) */
                vj = vj - (1 - b2) * d2 * (vj > d2 ? 1.0 : vj < d2 ? -1.0 : 0.0);
            m[j] = (float)mj;
            v[j] = (float)vj;
            global[j] = (float)((double)global[j] + eta * mj / (sqrt(vj) + tau));
        }
        break;
    }
    }
    for (size_t j = nt; j < np; j++)
        global[j] = (float)s->acc[j];
    return EAI_OK;
}
