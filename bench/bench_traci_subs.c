/* Cost of the per-step vehicle reads the camera path (trafcam) makes, with
 * TraCI getters (one round trip per vehicle and variable, as before issue 7's
 * subscriptions) against subscriptions (values arrive with the step's reply),
 * on the same scenario and seed in the same process: two sumo runs, one per
 * mode, identical simulations (a checksum of every value read must match).
 *
 * Per step and mode: the simulationStep round trip (which carries the
 * subscription results in "sub" mode), then the reads: the vehicle id list
 * and every running vehicle's position and angle (getters: 1 + 2n round
 * trips; subscriptions: table reads plus one subscribe per new vehicle).
 * Reported: p50 / p99 / mean of reads, step, and step + reads, in us.
 *
 * Run: build/bench_traci_subs --scenario build-traffic/scenarios/asymmetric.sumocfg
 *        [--steps 600] [--warmup 120] [--seed 42] [--json]
 * (scripts/make_scenarios.sh builds the scenarios.)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgeai/status.h"
#include "edgeai/traci.h"

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + 1e-3 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(const double *v, int n, double q)
{
    double *s = malloc((size_t)n * sizeof *s);
    if (!s) return NAN;
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_d);
    int k = (int)(q * n + 0.999999);
    if (k < 1) k = 1;
    double r = s[k - 1];
    free(s);
    return r;
}

static double mean(const double *v, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += v[i];
    return n ? s / n : 0;
}

typedef struct {
    double *read, *step, *both;
    double checksum;
    long veh_steps;
    int64_t rt;
} res_t;

#define MAX_IDS 4096
static char g_ids[MAX_IDS][64];

static const int VEH_VARS[] = {EAI_TRACI_VAR_POSITION, EAI_TRACI_VAR_ANGLE};
static const int ID_LIST[] = {EAI_TRACI_VAR_ID_LIST};

/* One step's reads; *n_out vehicles. */
static eai_status_t reads(eai_traci_t *t, bool sub, double *sum, int *n_out)
{
    const int V = EAI_TRACI_SUB_VEHICLE;
    eai_traci_strlist_t ids;
    if (sub) {
        if (!eai_traci_sub_has(t, V, "")) {
            eai_status_t st = eai_traci_subscribe(t, V, "", ID_LIST, 1);
            if (st) return st;
        }
        eai_status_t st = eai_traci_sub_strlist(t, V, "", EAI_TRACI_VAR_ID_LIST, &ids);
        if (st) return st;
    } else {
        eai_status_t st = eai_traci_veh_ids(t, &ids);
        if (st) return st;
    }
    int n = ids.n < MAX_IDS ? ids.n : MAX_IDS;
    for (int i = 0; i < n; i++) /* copy: the next call reuses the memory */
        snprintf(g_ids[i], sizeof g_ids[i], "%s", ids.items[i]);
    for (int i = 0; i < n; i++) {
        double x, y, a;
        eai_status_t st;
        if (sub) {
            if (!eai_traci_sub_has(t, V, g_ids[i]) &&
                (st = eai_traci_subscribe(t, V, g_ids[i], VEH_VARS, 2)) != EAI_OK)
                return st;
            if ((st = eai_traci_sub_pos2d(t, V, g_ids[i], EAI_TRACI_VAR_POSITION, &x, &y)) ||
                (st = eai_traci_sub_double(t, V, g_ids[i], EAI_TRACI_VAR_ANGLE, &a)))
                return st;
        } else {
            if ((st = eai_traci_veh_position(t, g_ids[i], &x, &y)) ||
                (st = eai_traci_veh_angle(t, g_ids[i], &a)))
                return st;
        }
        *sum += x + 2 * y + 3 * a;
    }
    *n_out = n;
    return EAI_OK;
}

static int run(const char *cfg, long seed, int warmup, int steps, bool sub, res_t *r)
{
    eai_sumo_t *s = NULL;
    eai_sumo_opts_t o = {.config = cfg, .set_seed = true, .seed = seed};
    if (eai_sumo_start(&o, &s) != EAI_OK) {
        fprintf(stderr, "bench_traci_subs: %s\n", eai_last_error());
        return 1;
    }
    eai_traci_t *t = eai_sumo_traci(s);
    int rc = 0;
    for (int k = 0; k < warmup + steps && rc == 0; k++) {
        double t0 = now_us();
        if (eai_traci_step(t, 0) != EAI_OK) {
            rc = 1;
            break;
        }
        double t1 = now_us();
        int n = 0;
        if (reads(t, sub, &r->checksum, &n) != EAI_OK) {
            rc = 1;
            break;
        }
        double t2 = now_us();
        if (k < warmup) continue;
        int i = k - warmup;
        r->step[i] = t1 - t0, r->read[i] = t2 - t1, r->both[i] = t2 - t0;
        r->veh_steps += n;
    }
    if (rc) fprintf(stderr, "bench_traci_subs: %s\n", eai_last_error());
    eai_traci_stats(t, NULL, &r->rt);
    eai_sumo_destroy(s);
    return rc;
}

int main(int argc, char **argv)
{
    const char *cfg = NULL;
    int steps = 600, warmup = 120;
    long seed = 42;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--scenario") && i + 1 < argc)
            cfg = argv[++i];
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc)
            warmup = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = atol(argv[++i]);
        else if (!strcmp(argv[i], "--json"))
            json = true;
        else {
            fprintf(stderr,
                    "usage: %s --scenario FILE.sumocfg [--steps N] [--warmup N] "
                    "[--seed N] [--json]\n",
                    argv[0]);
            return 2;
        }
    }
    if (!cfg || steps < 1 || warmup < 0) {
        fprintf(stderr, "bench_traci_subs: --scenario FILE.sumocfg is required\n");
        return 2;
    }
    res_t r[2];
    for (int m = 0; m < 2; m++) {
        memset(&r[m], 0, sizeof r[m]);
        r[m].read = calloc((size_t)steps, sizeof(double));
        r[m].step = calloc((size_t)steps, sizeof(double));
        r[m].both = calloc((size_t)steps, sizeof(double));
        if (!r[m].read || !r[m].step || !r[m].both) return 1;
        if (run(cfg, seed, warmup, steps, m == 1, &r[m])) return 1;
    }
    static const char *names[] = {"getters", "subscriptions"};
    bool same = r[0].checksum == r[1].checksum && r[0].veh_steps == r[1].veh_steps;
    if (json) {
        printf("{\"scenario\": \"%s\", \"seed\": %ld, \"steps\": %d, \"warmup\": %d, "
               "\"same_values\": %s",
               cfg, seed, steps, warmup, same ? "true" : "false");
        for (int m = 0; m < 2; m++)
            printf(", \"%s\": {\"read_p50_us\": %.1f, \"read_p99_us\": %.1f, \"read_mean_us\": "
                   "%.1f, \"step_p50_us\": %.1f, \"step_p99_us\": %.1f, \"total_p50_us\": %.1f, "
                   "\"total_p99_us\": %.1f, \"total_mean_us\": %.1f, \"vehicles_per_step\": "
                   "%.1f, \"roundtrips\": %lld}",
                   names[m], pct(r[m].read, steps, .5), pct(r[m].read, steps, .99),
                   mean(r[m].read, steps), pct(r[m].step, steps, .5), pct(r[m].step, steps, .99),
                   pct(r[m].both, steps, .5), pct(r[m].both, steps, .99), mean(r[m].both, steps),
                   (double)r[m].veh_steps / steps, (long long)r[m].rt);
        printf("}\n");
    } else {
        printf("%s, seed %ld, %d steps after %d warm-up; %.1f vehicles per step\n", cfg, seed,
               steps, warmup, (double)r[0].veh_steps / steps);
        printf("%-14s %10s %10s %10s %10s %10s %10s %10s %10s\n", "mode (us)", "read p50",
               "read p99", "read mean", "step p50", "step p99", "total p50", "total p99",
               "roundtrips");
        for (int m = 0; m < 2; m++)
            printf("%-14s %10.1f %10.1f %10.1f %10.1f %10.1f %10.1f %10.1f %10lld\n", names[m],
                   pct(r[m].read, steps, .5), pct(r[m].read, steps, .99), mean(r[m].read, steps),
                   pct(r[m].step, steps, .5), pct(r[m].step, steps, .99), pct(r[m].both, steps, .5),
                   pct(r[m].both, steps, .99), (long long)r[m].rt);
        printf("read p50 ratio getters/subscriptions: %.1fx; step+read p50 ratio: %.1fx; "
               "same values in both runs: %s\n",
               pct(r[0].read, steps, .5) / pct(r[1].read, steps, .5),
               pct(r[0].both, steps, .5) / pct(r[1].both, steps, .5), same ? "yes" : "NO");
    }
    for (int m = 0; m < 2; m++)
        free(r[m].read), free(r[m].step), free(r[m].both);
    return same ? 0 : 1;
}
