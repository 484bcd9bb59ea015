/* `edgeai topo up --config topo.json`: runs a topology's nodes as processes
 * over MQTT on this machine. One mosquitto per tier present (127.0.0.1, free
 * ports) bridged to the next tier up (eai_node_write_broker_conf), one
 * `edgeai topo node` process per node (or per chunk of a large group, capped
 * by --max-procs), optional scripted kill -9 + restart of named nodes, then
 * the per-node ledger summary. --inproc runs the same topology in this
 * process over the in-process bus instead (eai_node_run_inproc). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "core/proc_impl.h"
#include "edgeai/node.h"

#define MAX_KILLS 16
#define MAX_PROCS 4096

typedef struct proc {
    char *names; /* comma list */
    char first[64];
    eai_topo_tier_t tier;
    eai__proc_t proc;  /* proc.pid 0 while not running */
    double restart_at; /* > 0: start again then */
    int status;        /* exit status of the last run, -1 while running */
} proc_t;

static volatile sig_atomic_t g_up_stop;

static void on_up_signal(int sig)
{
    (void)sig;
    g_up_stop = 1;
}

static void usage(void)
{
    printf("usage: edgeai topo up --config TOPO.json [--seconds S] [--dir DIR] [--max-procs N]\n"
           "                      [--timeout S] [--kill NAME@T[:DOWN]]... [--emulate-links]\n"
           "                      [--resend-ms N] [--inproc]\n\n"
           "Starts one mosquitto per tier on 127.0.0.1 (free ports), each bridged to the next\n"
           "tier up, and one node process per node (`edgeai topo node`, same as `edgeai node`;\n"
           "a group larger than its share of --max-procs, default 32, runs several instances\n"
           "per process), waits until every node is done (or --timeout, default 4 x S + 60),\n"
           "stops everything and prints each node's ledger. --kill cam-1@2:1 kills the process\n"
           "of cam-1 with SIGKILL 2 s into the run and starts it again 1 s later (repeatable;\n"
           "the kill waits, up to 10 s more, until cam-1 has saved its state once).\n"
           "--dir keeps configs, logs, state and ledgers there (default: a temporary folder,\n"
           "removed). --inproc: every node in this process over the in-process bus instead.\n"
           "Exit 0 when every node finished and the root holds every sample exactly once.\n");
}

static bool find_mosquitto(char *out, size_t n)
{
    const char *env = getenv("EAI_MOSQUITTO");
    if (env && *env) {
        snprintf(out, n, "%s", env);
        return access(out, X_OK) == 0;
    }
    return eai__proc_which("mosquitto", "/usr/sbin:/usr/local/sbin", out, n);
}

/* Starts av with stdout and stderr appended to log; false (and a message
 * on stderr) when it cannot. */
static bool spawn_logged(eai__proc_t *p, char *const *av, const char *log)
{
    eai__proc_opts_t o = {.log_path = log};
    if (eai__proc_start(p, av, &o) == EAI_OK) return true;
    fprintf(stderr, "edgeai topo up: %s\n", eai_last_error());
    return false;
}

/* Prints one node's ledger header; returns its sample count (or -1). */
static int64_t print_ledger(const char *dir, const char *name, bool *done)
{
    char path[1024], l1[512] = "", l2[1024] = "";
    snprintf(path, sizeof path, "%s/%s.ledger", dir, name);
    FILE *f = fopen(path, "r");
    *done = false;
    if (!f) {
        printf("  %-14s (no ledger)\n", name);
        return -1;
    }
    if (!fgets(l1, sizeof l1, f) || !fgets(l2, sizeof l2, f)) l2[0] = '\0';
    fclose(f);
    char nm[128];
    long long samples = -1;
    double sum = 0;
    int d = 0;
    if (sscanf(l1, "# node %127s samples %lld sum %lf done %d", nm, &samples, &sum, &d) != 4)
        samples = -1;
    *done = d == 1;
    l2[strcspn(l2, "\n")] = '\0';
    printf("  %-14s %-8s samples %6lld  %s\n", name, d ? "done" : "NOT DONE", samples,
           l2[0] == '#' ? l2 + 2 : l2);
    return samples;
}

static int summary(const eai_topo_t *t, const char *ledger_dir, double seconds, bool procs_ok)
{
    int64_t n = eai_node_count(t), expected = 0, at_root = 0;
    bool all_done = true;
    printf("ledgers (%s):\n", ledger_dir);
    for (int64_t k = 0; k < n; k++) {
        char name[64];
        if (eai_node_name_at(t, k, name, sizeof name) != EAI_OK) return cli_fail_status("topo");
        int64_t e = eai_node_expected_samples(t, name, seconds);
        expected += e > 0 ? e : 0;
        bool done;
        int64_t s = print_ledger(ledger_dir, name, &done);
        all_done &= done;
        const char *dash = strrchr(name, '-');
        for (int g = 0; g < eai_topo_n_groups(t); g++) {
            const eai_topo_group_t *gr = eai_topo_group(t, g);
            if (gr->parent < 0 && strlen(gr->name) == (size_t)(dash - name) &&
                strncmp(gr->name, name, (size_t)(dash - name)) == 0)
                at_root += s > 0 ? s : 0;
        }
    }
    bool ok = all_done && procs_ok && at_root == expected;
    printf("root holds %" PRId64 " of %" PRId64 " samples%s\n", at_root, expected,
           ok ? "" : "  (INCOMPLETE)");
    return ok ? 0 : 3;
}

static int run_inproc(const eai_topo_t *t, double seconds, const char *ledger_dir,
                      eai_node_opts_t *no, const eai_node_fault_t *kills, int n_kills)
{
    eai_node_run_opts_t o = {.seconds = seconds,
                             .node = no,
                             .faults = kills,
                             .n_faults = n_kills,
                             .ledger_dir = ledger_dir};
    eai_node_report_t r;
    if (eai_node_run_inproc(t, &o, &r) != EAI_OK) return cli_fail_status("topo");
    printf("in-process: %" PRId64 " nodes, %.2f s virtual in %.3f s wall, %" PRIu64
           " messages, %" PRIu64 " resent, %" PRIu64 " duplicates ignored\n",
           r.n_nodes, r.sim_s, r.wall_s, r.messages, r.resent, r.duplicates);
    return summary(t, ledger_dir, seconds, r.complete);
}

typedef struct up {
    const char *config, *self;
    char dir[512], mosq[512];
    int port[EAI_TOPO_N_TIERS];
    eai__proc_t broker[EAI_TOPO_N_TIERS];
    proc_t *procs;
    int n_procs;
    double seconds, timeout;
    bool emulate;
    int resend_ms;
} up_t;

static bool start_node(up_t *u, proc_t *p)
{
    char mq[64], secs[32], tmo[32], sd[600], ld[600], log[700], rs[32];
    snprintf(mq, sizeof mq, "127.0.0.1:%d", u->port[p->tier]);
    snprintf(secs, sizeof secs, "%.6g", u->seconds);
    snprintf(tmo, sizeof tmo, "%.6g", u->timeout);
    snprintf(sd, sizeof sd, "%s/state", u->dir);
    snprintf(ld, sizeof ld, "%s/ledger", u->dir);
    snprintf(log, sizeof log, "%s/logs/%s.log", u->dir, p->first);
    snprintf(rs, sizeof rs, "%d", u->resend_ms);
    char *av[24];
    int k = 0;
    av[k++] = (char *)u->self;
    av[k++] = "topo";
    av[k++] = "node";
    av[k++] = "--config";
    av[k++] = (char *)u->config;
    av[k++] = "--mqtt";
    av[k++] = mq;
    av[k++] = "--state-dir";
    av[k++] = sd;
    av[k++] = "--ledger-dir";
    av[k++] = ld;
    if (u->seconds > 0) { /* else the node takes the workload's duration_s */
        av[k++] = "--seconds";
        av[k++] = secs;
    }
    av[k++] = "--timeout";
    av[k++] = tmo;
    av[k++] = "--name";
    av[k++] = p->names;
    if (u->resend_ms) {
        av[k++] = "--resend-ms";
        av[k++] = rs;
    }
    if (u->emulate) av[k++] = "--emulate-links";
    av[k] = NULL;
    p->status = -1;
    return spawn_logged(&p->proc, av, log);
}

static eai_status_t plan_procs(up_t *u, const eai_topo_t *t, int max_procs)
{
    int64_t n = eai_node_count(t);
    int64_t chunk = (n + max_procs - 1) / max_procs;
    int np = 0;
    for (int g = 0; g < eai_topo_n_groups(t); g++)
        np += (int)((eai_topo_group(t, g)->count + chunk - 1) / chunk);
    u->procs = calloc((size_t)np, sizeof *u->procs);
    if (!u->procs) return eai_fail(EAI_E_NOMEM, "topo up: %d processes", np);
    for (int g = 0; g < eai_topo_n_groups(t); g++) {
        const eai_topo_group_t *gr = eai_topo_group(t, g);
        for (int64_t i = 0; i < gr->count; i += chunk) {
            proc_t *p = &u->procs[u->n_procs++];
            int64_t e = i + chunk < gr->count ? i + chunk : gr->count;
            size_t cap = (size_t)(e - i) * (strlen(gr->name) + 24) + 1;
            p->names = malloc(cap);
            if (!p->names) return eai_fail(EAI_E_NOMEM, "topo up: names");
            size_t off = 0;
            for (int64_t j = i; j < e; j++)
                off += (size_t)snprintf(p->names + off, cap - off, "%s%s-%" PRId64,
                                        j > i ? "," : "", gr->name, j);
            snprintf(p->first, sizeof p->first, "%s-%" PRId64, gr->name, i);
            p->tier = gr->tier;
            p->status = -1;
        }
    }
    return EAI_OK;
}

/* The process running node `name` (exact name in its comma list). */
static proc_t *proc_of(up_t *u, const char *name)
{
    size_t ln = strlen(name);
    for (int i = 0; i < u->n_procs; i++)
        for (const char *s = u->procs[i].names; (s = strstr(s, name)); s += ln)
            if ((s == u->procs[i].names || s[-1] == ',') && (s[ln] == ',' || s[ln] == '\0'))
                return &u->procs[i];
    return NULL;
}

static int run_mqtt(up_t *u, const eai_topo_t *t, const eai_node_fault_t *kills, int n_kills)
{
    bool present[EAI_TOPO_N_TIERS] = {0};
    for (int g = 0; g < eai_topo_n_groups(t); g++)
        present[eai_topo_group(t, g)->tier] = true;
    for (int k = 0; k < n_kills; k++)
        if (!proc_of(u, kills[k].name))
            return cli_fail_usage("topo", "--kill: no node '%s' in the topology", kills[k].name);
    /* brokers top-down, so each bridge finds its parent listening */
    int parent_port = 0;
    for (int tier = EAI_TOPO_N_TIERS - 1; tier >= 0; tier--) {
        if (!present[tier]) continue;
        const char *tn = eai_topo_tier_name((eai_topo_tier_t)tier);
        char bdir[700], conf[700], log[700];
        snprintf(bdir, sizeof bdir, "%s/broker-%s", u->dir, tn);
        snprintf(conf, sizeof conf, "%s/broker-%s.conf", u->dir, tn);
        snprintf(log, sizeof log, "%s/logs/broker-%s.log", u->dir, tn);
        mkdir(bdir, 0755);
        bool up = false;
        /* a free port can be taken before mosquitto binds it: try others */
        for (int attempt = 0; attempt < 5 && !up; attempt++) {
            int port;
            if (eai__port_free(&port) != EAI_OK) break;
            if (eai_node_write_broker_conf(t, (eai_topo_tier_t)tier, NULL, port, parent_port, bdir,
                                           conf) != EAI_OK)
                return cli_fail_status("topo");
            char *av[] = {u->mosq, "-c", conf, NULL};
            eai__proc_t *b = &u->broker[tier];
            if (!spawn_logged(b, av, log)) break;
            up = eai__port_wait(port, 5000, b) == EAI_OK;
            if (up)
                u->port[tier] = port;
            else
                (void)eai__proc_stop(b, 1000);
        }
        if (!up) {
            fprintf(stderr, "edgeai topo up: the %s broker did not start (see %s)\n", tn, log);
            return 1;
        }
        printf("broker %-8s 127.0.0.1:%d%s\n", tn, u->port[tier],
               parent_port ? " (bridged up)" : "");
        parent_port = u->port[tier];
    }
    for (int i = 0; i < u->n_procs; i++)
        if (!start_node(u, &u->procs[i])) return 1;
    printf("started %d node processes\n", u->n_procs);
    fflush(stdout);

    bool *fired = calloc((size_t)(n_kills ? n_kills : 1), sizeof *fired);
    if (!fired) return cli_fail_usage("topo", "out of memory");
    double t0 = cli_now(), deadline = u->timeout + 10;
    int rc = 0;
    for (;;) {
        double now = cli_now() - t0;
        for (int k = 0; k < n_kills; k++) {
            if (fired[k] || now < kills[k].at_s) continue;
            proc_t *p = proc_of(u, kills[k].name);
            /* a kill is meant to test recovery from saved state: on a slow or
             * loaded machine the node may not have saved any yet, so wait for
             * its state file (at most 10 s past the planned time) */
            char sf[1200];
            snprintf(sf, sizeof sf, "%s/state/%s.state", u->dir, kills[k].name);
            if (access(sf, F_OK) != 0 && now < kills[k].at_s + 10) continue;
            fired[k] = true;
            if (p->proc.pid > 0) {
                (void)eai__proc_kill(&p->proc);
                p->restart_at = now + kills[k].down_s;
                printf("%.2f s: killed %s (SIGKILL), restart in %.2f s\n", now, p->first,
                       kills[k].down_s);
            } else {
                printf("%.2f s: %s already exited, not killed\n", now, p->first);
            }
            fflush(stdout);
        }
        bool running = false;
        for (int i = 0; i < u->n_procs; i++) {
            proc_t *p = &u->procs[i];
            if (p->proc.pid == 0 && p->restart_at > 0 && now >= p->restart_at) {
                p->restart_at = 0;
                if (!start_node(u, p)) rc = 1;
                printf("%.2f s: restarted %s\n", now, p->first);
                fflush(stdout);
            }
            if (p->proc.pid > 0) {
                if (eai__proc_alive(&p->proc))
                    running = true;
                else
                    p->status = eai__proc_exit_code(&p->proc);
            }
            if (p->restart_at > 0) running = true;
        }
        bool pending = false;
        for (int k = 0; k < n_kills; k++)
            pending |= !fired[k];
        if ((!running && !pending) || g_up_stop || now > deadline) {
            if (running) {
                fprintf(stderr, "edgeai topo up: %s; stopping the nodes\n",
                        g_up_stop ? "interrupted" : "deadline passed");
                rc = 3;
            }
            break;
        }
        eai__sleep_ms(20);
    }
    free(fired);
    for (int i = 0; i < u->n_procs; i++) {
        proc_t *p = &u->procs[i];
        if (p->proc.pid > 0) {
            (void)eai__proc_stop(&p->proc, 3000);
            p->status = eai__proc_exit_code(&p->proc);
        }
        if (p->status != 0) {
            fprintf(stderr, "edgeai topo up: %s exited with %d (log: %s/logs/%s.log)\n", p->first,
                    p->status, u->dir, p->first);
            rc = rc ? rc : 3;
        }
    }
    printf("all node processes ended after %.2f s\n", cli_now() - t0);
    return rc;
}

int cmd_topo_up(int argc, char **argv)
{
    const char *config = NULL, *dir = NULL;
    double seconds = 0, timeout = 0;
    long max_procs = 32, resend_ms = 0;
    bool inproc = false, emulate = false;
    eai_node_fault_t kills[MAX_KILLS];
    char kill_names[MAX_KILLS][64];
    int n_kills = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            return 0;
        }
        if (strcmp(a, "--inproc") == 0) {
            inproc = true;
            continue;
        }
        if (strcmp(a, "--emulate-links") == 0) {
            emulate = true;
            continue;
        }
        if (!v) return cli_fail_usage("topo up", "%s needs a value (see --help)", a);
        i++;
        if (strcmp(a, "--config") == 0)
            config = v;
        else if (strcmp(a, "--dir") == 0)
            dir = v;
        else if (strcmp(a, "--seconds") == 0) {
            if (!cli_parse_double(v, 1e-3, 1e7, &seconds))
                return cli_fail_usage("topo up", "--seconds: '%s' is not in [0.001, 1e7]", v);
        } else if (strcmp(a, "--timeout") == 0) {
            if (!cli_parse_double(v, 0.1, 1e7, &timeout))
                return cli_fail_usage("topo up", "--timeout: '%s' is not in [0.1, 1e7]", v);
        } else if (strcmp(a, "--max-procs") == 0) {
            if (!cli_parse_int("topo up", a, v, 1, MAX_PROCS, &max_procs)) return 2;
        } else if (strcmp(a, "--resend-ms") == 0) {
            if (!cli_parse_int("topo up", a, v, 1, 3600000, &resend_ms)) return 2;
        } else if (strcmp(a, "--kill") == 0) {
            char *at = strchr(v, '@');
            if (n_kills >= MAX_KILLS || !at || at == v || (size_t)(at - v) >= 64)
                return cli_fail_usage("topo up", "--kill: expected NAME@SECONDS[:DOWN], got '%s'",
                                      v);
            eai_node_fault_t *k = &kills[n_kills];
            snprintf(kill_names[n_kills], 64, "%.*s", (int)(at - v), v);
            k->name = kill_names[n_kills];
            char *end;
            k->at_s = strtod(at + 1, &end);
            k->down_s = 1;
            if (*end == ':') k->down_s = strtod(end + 1, &end);
            if (*end || !(k->at_s >= 0) || !(k->down_s >= 0))
                return cli_fail_usage("topo up", "--kill: bad time in '%s'", v);
            n_kills++;
        } else
            return cli_fail_usage("topo up", "unknown option '%s' (see --help)", a);
    }
    if (!config) return cli_fail_usage("topo up", "--config is required (see --help)");
    eai_topo_t *t = NULL;
    if (eai_topo_load(config, NULL, &t) != EAI_OK) return cli_fail_status("topo");
    up_t u = {
        .config = config, .seconds = seconds, .emulate = emulate, .resend_ms = (int)resend_ms};
    bool tmp = !dir;
    if (tmp) {
        snprintf(u.dir, sizeof u.dir, "/tmp/eai-topo-up-XXXXXX");
        if (!mkdtemp(u.dir)) {
            eai_topo_destroy(t);
            return cli_fail_usage("topo up", "mkdtemp: %s", strerror(errno));
        }
    } else {
        snprintf(u.dir, sizeof u.dir, "%s", dir);
        mkdir(u.dir, 0755);
    }
    char ld[600], sub[600];
    snprintf(ld, sizeof ld, "%s/ledger", u.dir);
    mkdir(ld, 0755);
    snprintf(sub, sizeof sub, "%s/state", u.dir);
    mkdir(sub, 0755);
    snprintf(sub, sizeof sub, "%s/logs", u.dir);
    mkdir(sub, 0755);
    int rc;
    eai_node_opts_t no = {.emulate_links = emulate, .resend_ms = (int)resend_ms};
    signal(SIGINT, on_up_signal);
    signal(SIGTERM, on_up_signal);
    if (inproc) {
        rc = run_inproc(t, seconds, ld, &no, kills, n_kills);
    } else {
        static char self[1024];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0 || !find_mosquitto(u.mosq, sizeof u.mosq)) {
            fprintf(stderr, "edgeai topo up: %s\n",
                    n <= 0 ? "cannot find this executable" : "mosquitto not found (or --inproc)");
            rc = 4;
        } else {
            self[n] = '\0';
            u.self = self;
            double s = seconds > 0 ? seconds : 60;
            u.timeout = timeout > 0 ? timeout : 4 * s + 60;
            if (plan_procs(&u, t, (int)max_procs) != EAI_OK) {
                rc = cli_fail_status("topo");
            } else {
                rc = run_mqtt(&u, t, kills, n_kills);
            }
            for (int tier = 0; tier < EAI_TOPO_N_TIERS; tier++)
                (void)eai__proc_stop(&u.broker[tier], 5000);
            int sr = summary(t, ld, seconds, rc == 0);
            if (rc == 0) rc = sr;
        }
        for (int i = 0; i < u.n_procs; i++)
            free(u.procs[i].names);
        free(u.procs);
    }
    eai_topo_destroy(t);
    if (tmp) {
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", u.dir);
        if (system(cmd) != 0) fprintf(stderr, "edgeai topo up: could not remove %s\n", u.dir);
    } else {
        printf("configs, logs, state and ledgers in %s\n", u.dir);
    }
    return rc;
}
