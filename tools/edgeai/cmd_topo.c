/* `edgeai topo compare --config topo.json`: simulates the topology under the
 * four architectures (edgeai/topo.h) and prints the comparison as a table,
 * CSV or JSON, optionally with a PNG bar chart. `edgeai topo profiles` lists
 * the built-in hardware profiles. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "edgeai/topo.h"

static void usage(void)
{
    printf("usage: edgeai topo compare --config TOPO.json [--service FILE.json]\n"
           "                           [--arch LIST] [--duration S] [--seed N] [--offload F]\n"
           "                           [--devices N] [--csv | --json] [-o FILE] [--plot FILE.png]\n"
           "       edgeai topo profiles\n"
           "       edgeai topo up --config TOPO.json [--seconds S] [--kill NAME@T[:DOWN]] ...\n"
           "       edgeai topo node --config TOPO.json --name NAME --mqtt HOST:PORT ...\n\n"
           "compare: a discrete-event simulation of the topology for each architecture\n"
           "(cloud-only, edge-only, hybrid, federated; --arch picks a comma list): latency\n"
           "p50/p99, throughput and capacity, bytes per link, energy per inference and cost\n"
           "per million answers. --service applies measured ms per inference and the host's\n"
           "GOPS (bench/issue8.py writes it). --offload overrides hybrid.offload, --devices\n"
           "every device group's count. Output goes to stdout or -o. See docs/topo.md.\n"
           "profiles: the hardware table (name, GOPS, cores, memory, power, price, source).\n"
           "up: runs the nodes as processes over per-tier mosquitto brokers (or --inproc);\n"
           "node: one node process (also `edgeai node`). `edgeai topo up --help` has more.\n");
}

static int profiles(void)
{
    printf("%-18s %10s %5s %7s %7s %7s %7s %9s %7s  %s\n", "name", "gops", "cores", "mem_gb",
           "idle_w", "load_w", "min_ms", "capex_usd", "usd/h", "title");
    for (int i = 0; i < eai_hw_profile_count(); i++) {
        const eai_hw_profile_t *p = eai_hw_profile_at(i);
        printf("%-18s %10.1f %5d %7.1f %7.1f %7.1f %7.3f %9.2f %7.3f  %s [%s]\n", p->name, p->gops,
               p->cores, p->mem_gb, p->idle_w, p->load_w, p->min_ms, p->capex_usd, p->usd_per_hour,
               p->title, p->source);
    }
    return 0;
}

static bool parse_archs(const char *s, bool on[EAI_TOPO_N_ARCH])
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    memset(on, 0, EAI_TOPO_N_ARCH * sizeof on[0]);
    for (char *sv, *tok = strtok_r(buf, ",", &sv); tok; tok = strtok_r(NULL, ",", &sv)) {
        eai_topo_arch_t a;
        if (eai_topo_arch_parse(tok, &a) != EAI_OK) return false;
        on[a] = true;
    }
    return true;
}

static int compare(int argc, char **argv)
{
    const char *config = NULL, *service = NULL, *out = NULL, *plot = NULL, *archs = NULL;
    bool csv = false, json = false;
    eai_topo_sim_opts_t o = {0};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0) {
            usage();
            return 0;
        }
        if (strcmp(a, "--csv") == 0) {
            csv = true;
            continue;
        }
        if (strcmp(a, "--json") == 0) {
            json = true;
            continue;
        }
        if (!v) return cli_fail_usage("topo", "%s needs a value", a);
        i++;
        long n;
        if (strcmp(a, "--config") == 0)
            config = v;
        else if (strcmp(a, "--service") == 0)
            service = v;
        else if (strcmp(a, "-o") == 0)
            out = v;
        else if (strcmp(a, "--plot") == 0)
            plot = v;
        else if (strcmp(a, "--arch") == 0)
            archs = v;
        else if (strcmp(a, "--duration") == 0) {
            if (!cli_parse_double(v, 1e-3, 1e7, &o.duration_s))
                return cli_fail_usage("topo", "--duration: a number of seconds in [0.001, 1e7]");
        } else if (strcmp(a, "--offload") == 0) {
            if (!cli_parse_double(v, 0, 1, &o.offload))
                return cli_fail_usage("topo", "--offload: a fraction in [0, 1]");
            o.set_offload = true;
        } else if (strcmp(a, "--seed") == 0) {
            if (!cli_parse_int("topo", a, v, 1, 1L << 53, &n)) return 2;
            o.seed = (uint64_t)n;
        } else if (strcmp(a, "--devices") == 0) {
            if (!cli_parse_int("topo", a, v, 1, 10000000, &n)) return 2;
            o.device_count = n;
        } else
            return cli_fail_usage("topo", "unknown option '%s' (see edgeai topo --help)", a);
    }
    if (!config) return cli_fail_usage("topo", "compare needs --config TOPO.json");
    if (csv && json) return cli_fail_usage("topo", "--csv and --json exclude each other");
    bool on[EAI_TOPO_N_ARCH] = {true, true, true, true};
    if (archs && !parse_archs(archs, on)) return cli_fail_status("topo");

    eai_topo_t *t;
    if (eai_topo_load(config, NULL, &t) != EAI_OK) return cli_fail_status("topo");
    if (service && eai_topo_apply_service(t, service) != EAI_OK) {
        eai_topo_destroy(t);
        return cli_fail_status("topo");
    }
    eai_topo_result_t r[EAI_TOPO_N_ARCH];
    int n = 0;
    for (int a = 0; a < EAI_TOPO_N_ARCH; a++) {
        if (!on[a]) continue;
        if (eai_topo_simulate(t, (eai_topo_arch_t)a, &o, &r[n]) != EAI_OK) {
            eai_topo_destroy(t);
            return cli_fail_status("topo");
        }
        n++;
    }
    FILE *f = out ? fopen(out, "w") : stdout;
    if (!f) {
        eai_topo_destroy(t);
        return cli_fail_usage("topo", "%s: cannot open for writing", out);
    }
    eai_status_t st = csv    ? eai_topo_write_csv(f, r, n)
                      : json ? eai_topo_write_json(f, t, r, n)
                             : eai_topo_write_table(f, t, r, n);
    if (out && fclose(f) != 0 && st == EAI_OK) st = eai_fail(EAI_E_IO, "%s: write failed", out);
    if (st == EAI_OK && plot) st = eai_topo_plot_png(plot, r, n);
    eai_topo_destroy(t);
    return st == EAI_OK ? 0 : cli_fail_status("topo");
}

int cmd_topo(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage();
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "compare") == 0) return compare(argc, argv);
    if (strcmp(argv[1], "profiles") == 0) return profiles();
    /* the node runtime (cmd_topo_up.c, cmd_node.c): `topo node` is `edgeai node` */
    if (strcmp(argv[1], "up") == 0) return cmd_topo_up(argc - 1, argv + 1);
    if (strcmp(argv[1], "node") == 0) return cmd_node(argc - 1, argv + 1);
    return cli_fail_usage("topo", "unknown subcommand '%s' (compare, profiles, up, node)", argv[1]);
}
