/* Simulator scaling: wall time and events/s of eai_topo_simulate at 100,
 * 1,000 and 10,000 devices (every device group's count replaced), median of
 * N runs after a warm-up, against the named peer: the 100-device run's
 * per-device cost. A flat ratio means the cost grows linearly with devices.
 *
 *   bench_topo [--config examples/topo/smart_city.json] [--arch hybrid]
 *              [--duration 20] [--runs 3] [--devices 100,1000,10000] [--json] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgeai/topo.h"

#define MAX_SIZES 8

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    const char *config = "examples/topo/smart_city.json", *arch_s = "hybrid";
    const char *sizes_s = "100,1000,10000";
    double duration = 20;
    int runs = 3;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--json") == 0)
            json = 1;
        else if (v && strcmp(o, "--config") == 0)
            config = argv[++i];
        else if (v && strcmp(o, "--arch") == 0)
            arch_s = argv[++i];
        else if (v && strcmp(o, "--devices") == 0)
            sizes_s = argv[++i];
        else if (v && strcmp(o, "--duration") == 0)
            duration = atof(argv[++i]);
        else if (v && strcmp(o, "--runs") == 0)
            runs = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_topo [--config F] [--arch A] [--duration S] "
                            "[--runs N] [--devices A,B,..] [--json]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > 50 || duration <= 0) {
        fprintf(stderr, "bench_topo: --runs in 1..50, --duration > 0\n");
        return 2;
    }
    long sizes[MAX_SIZES];
    int n_sizes = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", sizes_s);
    for (char *sv, *tok = strtok_r(buf, ",", &sv); tok && n_sizes < MAX_SIZES;
         tok = strtok_r(NULL, ",", &sv))
        if ((sizes[n_sizes] = atol(tok)) > 0) n_sizes++;
    eai_topo_arch_t arch;
    eai_topo_t *t;
    if (eai_topo_arch_parse(arch_s, &arch) != EAI_OK || eai_topo_load(config, NULL, &t) != EAI_OK) {
        fprintf(stderr, "bench_topo: %s\n", eai_last_error());
        return 1;
    }
    double wall[MAX_SIZES], per_dev[MAX_SIZES], evps[MAX_SIZES];
    eai_topo_result_t last[MAX_SIZES];
    for (int k = 0; k < n_sizes; k++) {
        eai_topo_sim_opts_t o = {.duration_s = duration, .device_count = sizes[k]};
        double w[50];
        for (int r = -1; r < runs; r++) { /* r = -1: warm-up */
            if (eai_topo_simulate(t, arch, &o, &last[k]) != EAI_OK) {
                fprintf(stderr, "bench_topo: %s\n", eai_last_error());
                eai_topo_destroy(t);
                return 1;
            }
            if (r >= 0) w[r] = last[k].wall_s;
        }
        qsort(w, (size_t)runs, sizeof w[0], cmp);
        wall[k] = w[runs / 2];
        per_dev[k] = wall[k] / (double)sizes[k];
        evps[k] = (double)last[k].n_events / wall[k];
    }
    if (json)
        printf("{\"config\": \"%s\", \"arch\": \"%s\", \"duration_s\": %g, \"runs\": %d, "
               "\"sizes\": [",
               config, eai_topo_arch_name(arch), duration, runs);
    else
        printf("%-8s %10s %12s %12s %14s %12s %10s\n", "devices", "wall_s", "events", "events/s",
               "us/device",
               "ratio_vs_"
               "100",
               "samples");
    for (int k = 0; k < n_sizes; k++) {
        double ratio = per_dev[k] / per_dev[0];
        if (json)
            printf("%s{\"devices\": %ld, \"wall_s\": %.6f, \"events\": %llu, \"events_per_s\": "
                   "%.1f, \"us_per_device\": %.3f, \"per_device_ratio\": %.4f, \"samples\": %llu, "
                   "\"pool_grows\": %llu}",
                   k ? ", " : "", sizes[k], wall[k], (unsigned long long)last[k].n_events, evps[k],
                   per_dev[k] * 1e6, ratio, (unsigned long long)last[k].n_samples,
                   (unsigned long long)last[k].n_pool_grows);
        else
            printf("%-8ld %10.4f %12llu %12.0f %14.3f %12.3f %10llu\n", sizes[k], wall[k],
                   (unsigned long long)last[k].n_events, evps[k], per_dev[k] * 1e6, ratio,
                   (unsigned long long)last[k].n_samples);
    }
    if (json)
        printf("], \"peer\": \"per-device cost at %ld devices\"}\n", sizes[0]);
    else
        printf("peer: per-device wall time at %ld devices (ratio 1.0 = linear)\n", sizes[0]);
    eai_topo_destroy(t);
    return 0;
}
