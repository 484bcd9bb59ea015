/* `edgeai node --config topo.json --name X --mqtt HOST:PORT`: one or more
 * nodes of a topology (edgeai/node.h) in this process, each with its own
 * MQTT connection (persistent session, client id from the node's name), run
 * until they are done. Killed with -9 and started again with the same
 * --state-dir, a node resumes where its saved state left it. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "edgeai/node.h"

#define MAX_NAMES 4096

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void usage(void)
{
    printf("usage: edgeai node --config TOPO.json --name NAME[,NAME...] --mqtt HOST:PORT\n"
           "                   [--state-dir DIR] [--ledger-dir DIR] [--seconds S] [--seed N]\n"
           "                   [--timeout S] [--resend-ms N] [--batch-ms N] [--emulate-links]\n"
           "                   [--prefix TOPIC]\n\n"
           "Runs nodes of a topology (NAME is GROUP-INDEX, e.g. gw-0; --name repeats) over\n"
           "MQTT until each is done: sensors make round(S x rate) samples, aggregators forward\n"
           "summaries, the root collects. --state-dir keeps each node's state (outbox,\n"
           "de-duplication, seq) so a killed process started again resumes; --ledger-dir\n"
           "(default: the state dir) gets NAME.ledger (the sample ids held, with counters).\n"
           "--timeout (default 4 x S + 60) bounds the run: exit 3 if not done by then.\n"
           "When done, the process lingers 2 x --resend-ms (default 1000) to ack resends.\n"
           "--emulate-links delays and drops messages per the topology's links.\n"
           "See docs/topo.md, \"Running a topology\".\n");
}

static int add_names(char *list, const char **names, int *n)
{
    for (char *sv, *tok = strtok_r(list, ",", &sv); tok; tok = strtok_r(NULL, ",", &sv)) {
        if (*n >= MAX_NAMES) return cli_fail_usage("node", "more than %d names", MAX_NAMES);
        names[(*n)++] = tok;
    }
    return 0;
}

static eai_status_t write_ledger(const char *dir, eai_node_t *n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.ledger", dir, eai_node_name(n));
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return eai_fail(EAI_E_IO, "%s: cannot write", tmp);
    eai_status_t st = eai_node_write_ledger(n, f);
    if (fclose(f) != 0 && st == EAI_OK) st = eai_fail(EAI_E_IO, "%s: write failed", tmp);
    if (st == EAI_OK && rename(tmp, path) != 0) st = eai_fail(EAI_E_IO, "%s: rename failed", path);
    return st;
}

int cmd_node(int argc, char **argv)
{
    const char *config = NULL, *mqtt = NULL, *state_dir = NULL, *ledger_dir = NULL;
    static const char *names[MAX_NAMES];
    int n_names = 0;
    eai_node_opts_t no = {0};
    double timeout = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long l;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            return 0;
        }
        if (strcmp(a, "--emulate-links") == 0) {
            no.emulate_links = true;
            continue;
        }
        if (!v) return cli_fail_usage("node", "%s needs a value (see --help)", a);
        i++;
        if (strcmp(a, "--config") == 0)
            config = v;
        else if (strcmp(a, "--name") == 0) {
            if (add_names(argv[i], names, &n_names)) return 2;
        } else if (strcmp(a, "--mqtt") == 0)
            mqtt = v;
        else if (strcmp(a, "--state-dir") == 0)
            state_dir = v;
        else if (strcmp(a, "--ledger-dir") == 0)
            ledger_dir = v;
        else if (strcmp(a, "--prefix") == 0)
            no.prefix = v;
        else if (strcmp(a, "--seconds") == 0) {
            if (!cli_parse_double(v, 1e-3, 1e7, &no.seconds))
                return cli_fail_usage("node", "--seconds: '%s' is not a number in [0.001, 1e7]", v);
        } else if (strcmp(a, "--timeout") == 0) {
            if (!cli_parse_double(v, 0.1, 1e7, &timeout))
                return cli_fail_usage("node", "--timeout: '%s' is not a number in [0.1, 1e7]", v);
        } else if (strcmp(a, "--seed") == 0) {
            if (!cli_parse_int("node", a, v, 1, 0x7fffffffL, &l)) return 2;
            no.seed = (uint64_t)l;
        } else if (strcmp(a, "--resend-ms") == 0) {
            if (!cli_parse_int("node", a, v, 1, 3600000, &l)) return 2;
            no.resend_ms = (int)l;
        } else if (strcmp(a, "--batch-ms") == 0) {
            if (!cli_parse_int("node", a, v, 1, 3600000, &l)) return 2;
            no.batch_ms = (int)l;
        } else
            return cli_fail_usage("node", "unknown option '%s' (see --help)", a);
    }
    if (!config || !n_names || !mqtt)
        return cli_fail_usage("node", "--config, --name and --mqtt are required (see --help)");
    char host[256];
    long port;
    const char *colon = strrchr(mqtt, ':');
    if (!colon || colon == mqtt || (size_t)(colon - mqtt) >= sizeof host)
        return cli_fail_usage("node", "--mqtt: expected HOST:PORT, got '%s'", mqtt);
    snprintf(host, sizeof host, "%.*s", (int)(colon - mqtt), mqtt);
    if (!cli_parse_int("node", "--mqtt port", colon + 1, 1, 65535, &port)) return 2;
    if (!ledger_dir) ledger_dir = state_dir;
    if (state_dir) mkdir(state_dir, 0755);
    if (ledger_dir) mkdir(ledger_dir, 0755);
    no.state_dir = state_dir;

    eai_topo_t *t = NULL;
    if (eai_topo_load(config, NULL, &t) != EAI_OK) return cli_fail_status("node");
    double secs = no.seconds;
    if (timeout == 0) {
        double s = secs > 0 ? secs : 60;
        timeout = 4 * s + 60;
    }
    eai_transport_t **tr = calloc((size_t)n_names, sizeof *tr);
    eai_node_t **nodes = calloc((size_t)n_names, sizeof *nodes);
    eai_status_t st = tr && nodes ? EAI_OK : eai_fail(EAI_E_NOMEM, "node: %d names", n_names);
    /* names first: a typo should not wait for a broker */
    for (int i = 0; i < n_names && st == EAI_OK; i++)
        if (eai_node_expected_samples(t, names[i], 0) < 0) st = EAI_E_INVALID;
    char prefix[160] = "";
    if (st == EAI_OK) st = eai_node_default_prefix(t, prefix, sizeof prefix);
    for (int i = 0; i < n_names && st == EAI_OK; i++) {
        char cid[256];
        /* one persistent session per node: the broker keeps its messages
         * while the process is down (kill -9) and hands them over after */
        snprintf(cid, sizeof cid, "edgeai-%s-%s", no.prefix ? no.prefix : prefix, names[i]);
        for (char *p = cid; *p; p++)
            if (*p == '/') *p = '-';
        eai_transport_opts_t to = {.client_id = cid,
                                   .clean_session = false,
                                   .connect_timeout_ms = 10000,
                                   .reconnect_max_s = 2};
        st = eai_transport_mqtt(host, (int)port, &to, &tr[i]);
        if (st != EAI_OK) break;
        no.name = names[i];
        st = eai_node_create(t, tr[i], &no, &nodes[i]);
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    double t0 = cli_now(), now = 0;
    bool all_done = false;
    int wait_ms = n_names > 10 ? 1 : 10 / n_names;
    /* After the last node is done, linger for 2 x resend_ms: a child whose
     * final ack was lost resends, and only a live parent can ack it again
     * (the duplicate is ignored, the ack repeated). */
    double linger = 2 * (no.resend_ms > 0 ? no.resend_ms : 1000) / 1000.0, done_at = -1;
    while (st == EAI_OK && !g_stop && now < timeout) {
        now = cli_now() - t0;
        all_done = true;
        for (int i = 0; i < n_names && st == EAI_OK; i++) {
            st = eai_node_step(nodes[i], now, wait_ms);
            if (!eai_node_done(nodes[i])) all_done = false;
        }
        if (!all_done)
            done_at = -1;
        else if (done_at < 0)
            done_at = now;
        if (all_done && now - done_at >= linger) break;
    }
    /* the last acks must reach the broker before this process goes */
    for (int i = 0; i < n_names && tr && tr[i]; i++)
        eai_transport_flush(tr[i], 3000);
    for (int i = 0; i < n_names && nodes && nodes[i]; i++) {
        eai_node_ledger_t l;
        eai_node_get_ledger(nodes[i], &l);
        printf("node %-12s %s samples %llu generated %llu sent %llu resent %llu acked %llu "
               "received %llu duplicates %llu sample_dups %llu restarts %llu\n",
               eai_node_name(nodes[i]), eai_node_done(nodes[i]) ? "done" : "NOT DONE",
               (unsigned long long)l.samples, (unsigned long long)l.generated,
               (unsigned long long)l.sent, (unsigned long long)l.resent,
               (unsigned long long)l.acked, (unsigned long long)l.received,
               (unsigned long long)l.duplicates, (unsigned long long)l.sample_dups,
               (unsigned long long)l.restarts);
        if (ledger_dir && st == EAI_OK) st = write_ledger(ledger_dir, nodes[i]);
    }
    fflush(stdout);
    for (int i = 0; i < n_names; i++) {
        if (nodes) eai_node_destroy(nodes[i], false);
        if (tr && tr[i]) {
            eai_transport_disconnect(tr[i]);
            eai_transport_destroy(tr[i]);
        }
    }
    free(nodes);
    free(tr);
    eai_topo_destroy(t);
    if (st != EAI_OK) return cli_fail_status("node");
    if (!all_done) {
        fprintf(stderr, "edgeai node: %s after %.1f s\n",
                g_stop ? "stopped by a signal" : "not done before --timeout", now);
        return 3;
    }
    return 0;
}
