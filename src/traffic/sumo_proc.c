/* SUMO as a child process: start `sumo --remote-port P` with its output in
 * a log file, connect with retries until a deadline, and stop it by TraCI
 * close, wait, SIGTERM, SIGKILL (core/proc_impl.h). The child dies with us
 * (die_with_parent) and is always reaped, so no run leaves a stray sumo or a
 * zombie. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core_impl.h"
#include "core/proc_impl.h"
#include "traffic/traci_impl.h"

struct eai_sumo {
    eai_allocator_t alloc;
    eai__proc_t proc; /* proc.pid 0 once reaped, proc.status then set */
    int port;
    bool tmp_log;
    char log_path[512];
    eai_traci_t *traci;
};

static const char *sumo_binary(const eai_sumo_opts_t *o)
{
    if (o && o->binary) return o->binary;
    const char *e = getenv("EAI_SUMO");
    return e && *e ? e : "sumo";
}

bool eai_sumo_available(void)
{
    char path[4096];
    return eai__proc_which(sumo_binary(NULL), NULL, path, sizeof path);
}

/* The most useful line of sumo's log: its last "Error:" line, else the last
 * non-empty one. */
static void log_hint(const char *path, char *out, size_t n)
{
    out[0] = 0;
    char buf[8192];
    eai__file_tail(path, buf, sizeof buf);
    const char *err = NULL, *last = NULL;
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        if (line[strspn(line, " \r\t")]) last = line;
        if (strncmp(line, "Error:", 6) == 0) err = line;
        line = nl ? nl + 1 : NULL;
    }
    const char *pick = err ? err : last;
    if (pick) snprintf(out, n, "%.*s", (int)(n - 1), pick);
    size_t m = strlen(out);
    while (m && (out[m - 1] == '\r' || out[m - 1] == ' '))
        out[--m] = 0;
}

/* peer_hint for the TraCI handle: why did SUMO go away? */
static void sumo_hint(void *user, char *buf, size_t n)
{
    eai_sumo_t *s = user;
    char ex[128], lg[400];
    (void)eai__proc_wait(&s->proc, 500); /* a message here is overwritten by the caller's */
    eai__proc_describe(&s->proc, ex, sizeof ex);
    log_hint(s->log_path, lg, sizeof lg);
    snprintf(buf, n, "%s%s%s (log %s)", ex, lg[0] ? ": " : "", lg, s->log_path);
}

#define MAX_ARGS 64

static void fmt_num(char *buf, size_t n, double v)
{
    snprintf(buf, n, "%.17g", v);
}

/* Builds argv into `argv` (pointers into `o` and `nums`). */
static int build_argv(const eai_sumo_opts_t *o, int port, const char **argv, char nums[][32],
                      int max)
{
    int n = 0, k = 0;
#define ADD(x)                                                                                     \
    do {                                                                                           \
        if (n >= max - 1) return -1;                                                               \
        argv[n++] = (x);                                                                           \
    } while (0)
#define ADD2(x, y)                                                                                 \
    do {                                                                                           \
        ADD(x);                                                                                    \
        ADD(y);                                                                                    \
    } while (0)
    ADD(sumo_binary(o));
    if (o->config) ADD2("-c", o->config);
    if (o->net_file) ADD2("-n", o->net_file);
    if (o->route_files) ADD2("-r", o->route_files);
    if (o->additional_files) ADD2("-a", o->additional_files);
    snprintf(nums[k], 32, "%d", port);
    ADD2("--remote-port", nums[k++]);
    if (o->set_seed) {
        snprintf(nums[k], 32, "%ld", o->seed);
        ADD2("--seed", nums[k++]);
    }
    if (o->step_length > 0) {
        fmt_num(nums[k], 32, o->step_length);
        ADD2("--step-length", nums[k++]);
    }
    if (o->begin > 0) {
        fmt_num(nums[k], 32, o->begin);
        ADD2("-b", nums[k++]);
    }
    if (o->end > 0) {
        fmt_num(nums[k], 32, o->end);
        ADD2("-e", nums[k++]);
    }
    if (!o->verbose) {
        ADD2("--no-step-log", "true");
        ADD2("--duration-log.disable", "true");
    }
    if (o->statistics) ADD2("--duration-log.statistics", "true");
    if (o->tripinfo_output) ADD2("--tripinfo-output", o->tripinfo_output);
    if (o->statistic_output) ADD2("--statistic-output", o->statistic_output);
    for (int i = 0; i < o->n_extra_args; i++)
        ADD(o->extra_args[i]);
    argv[n] = NULL;
    return n;
#undef ADD
#undef ADD2
}

eai_status_t eai_sumo_start(const eai_sumo_opts_t *o, eai_sumo_t **out)
{
    if (!o || !out) return eai_fail(EAI_E_INVALID, "sumo: NULL options or output");
    *out = NULL;
    if (!o->config && !o->net_file)
        return eai_fail(EAI_E_INVALID, "sumo: give a .sumocfg (config) or a net_file");
    if (o->n_extra_args < 0 || (o->n_extra_args && !o->extra_args) || o->port < 0 ||
        o->port > 65535 || o->start_timeout_ms < 0 || o->timeout_ms < 0)
        return eai_fail(EAI_E_INVALID, "sumo: bad extra_args, port or timeouts");
    if (o->config && access(o->config, R_OK) != 0)
        return eai_fail(EAI_E_IO, "sumo: cannot read %s: %s", o->config, strerror(errno));
    if (o->net_file && access(o->net_file, R_OK) != 0)
        return eai_fail(EAI_E_IO, "sumo: cannot read %s: %s", o->net_file, strerror(errno));

    eai_sumo_t *s = eai__calloc(&o->alloc, 1, sizeof *s);
    if (!s) return eai_fail(EAI_E_NOMEM, "sumo: no memory");
    s->alloc = o->alloc;
    /* the log is opened (and emptied) by each start below; a temporary one
     * is made here for its unique name */
    int log_fd = 0;
    if (o->log_path) {
        snprintf(s->log_path, sizeof s->log_path, "%s", o->log_path);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(s->log_path, sizeof s->log_path, "%s/eai-sumo-XXXXXX.log",
                 tmp && *tmp ? tmp : "/tmp");
        log_fd = mkstemps(s->log_path, 4);
        s->tmp_log = log_fd >= 0;
        if (log_fd >= 0) close(log_fd);
    }
    if (log_fd < 0) {
        eai_status_t st =
            eai_fail(EAI_E_IO, "sumo: cannot create log %s: %s", s->log_path, strerror(errno));
        eai__free(&s->alloc, s);
        return st;
    }
    eai__proc_opts_t po = {.name = "sumo",
                           .log_path = s->log_path,
                           .log_truncate = true,
                           .search_path = true,
                           .die_with_parent = true};

    int timeout = o->start_timeout_ms ? o->start_timeout_ms : 30000;
    int64_t deadline = eai__mono_ms() + timeout;
    eai_status_t st = EAI_E_UNAVAILABLE;
    /* An auto-picked port can be taken between our probe and sumo's bind:
     * then sumo exits with "Could not bind" and we try another. */
    for (int attempt = 0; attempt < 4; attempt++) {
        s->port = o->port;
        if (!s->port && (st = eai__port_free(&s->port)) != EAI_OK) break;
        const char *argv[MAX_ARGS + 1];
        char nums[8][32];
        if (build_argv(o, s->port, argv, nums, MAX_ARGS) < 0) {
            st = eai_fail(EAI_E_INVALID, "sumo: more than %d arguments", MAX_ARGS);
            break;
        }
        if ((st = eai__proc_start(&s->proc, (char *const *)argv, &po)) != EAI_OK) break;
        /* connect with retries while sumo loads; stop early if it exits */
        st = EAI_E_TIMEOUT;
        eai_traci_opts_t to = {.timeout_ms = o->timeout_ms, .alloc = o->alloc};
        while (eai__mono_ms() < deadline) {
            to.connect_timeout_ms = 0;
            st = eai_traci_connect("127.0.0.1", s->port, &to, &s->traci);
            if (st == EAI_OK || st == EAI_E_NOMEM) break;
            if (!eai__proc_alive(&s->proc)) break;
            eai__sleep_ms(25);
        }
        if (st == EAI_OK || st == EAI_E_NOMEM) break;
        char lg[400] = "", ex[128] = "";
        log_hint(s->log_path, lg, sizeof lg);
        if (s->proc.pid == 0) { /* exited */
            eai__proc_describe(&s->proc, ex, sizeof ex);
            if (!o->port && strstr(lg, "bind") && attempt < 3) continue;
            st = eai_fail(EAI_E_UNAVAILABLE, "sumo: %s before accepting TraCI%s%s (log %s)", ex,
                          lg[0] ? ": " : "", lg, s->log_path);
        } else {
            (void)eai__proc_stop(&s->proc, 2000);
            st = eai_fail(EAI_E_TIMEOUT, "sumo: no TraCI connection on port %d within %d ms%s%s",
                          s->port, timeout, lg[0] ? "; log: " : "", lg);
        }
        break;
    }
    if (st == EAI_OK) {
        /* SUMO 1.15 accepts the connection before it loads the network, so a
         * bad scenario shows only at the first command: handshake here, with
         * the hint that quotes sumo's exit status and error line. */
        s->traci->peer_hint = sumo_hint;
        s->traci->peer_user = s;
        int api = 0;
        st = eai_traci_get_version(s->traci, &api, NULL);
        if (st == EAI_OK && api < 20) /* 20 = SUMO 1.13+, the layouts decoded here */
            st = eai_fail(EAI_E_UNSUPPORTED, "sumo: TraCI API version %d, need 20 or newer", api);
    }
    if (st != EAI_OK) {
        eai_traci_destroy(s->traci);
        s->traci = NULL;
        char keep[600];
        snprintf(keep, sizeof keep, "%s", eai_last_error());
        (void)eai__proc_stop(&s->proc, 2000);
        eai_sumo_destroy(s);
        return eai_fail(st, "%s", keep); /* destroy must not clobber the message */
    }
    *out = s;
    return EAI_OK;
}

eai_traci_t *eai_sumo_traci(eai_sumo_t *s)
{
    return s ? s->traci : NULL;
}

int eai_sumo_port(const eai_sumo_t *s)
{
    return s ? s->port : -1;
}

int eai_sumo_pid(const eai_sumo_t *s)
{
    return s && s->proc.pid > 0 ? (int)s->proc.pid : -1;
}

const char *eai_sumo_log_path(const eai_sumo_t *s)
{
    return s ? s->log_path : "";
}

eai_status_t eai_sumo_stop(eai_sumo_t *s, int *exit_code)
{
    if (!s) return eai_fail(EAI_E_INVALID, "sumo: NULL handle");
    if (s->traci && eai_traci_ok(s->traci)) {
        /* close makes SUMO finish its outputs; its failure means SUMO is gone,
         * which the exit status below tells */
        s->traci->peer_hint = NULL;
        (void)eai_traci_close(s->traci);
    }
    if (eai__proc_wait(&s->proc, 10000) != EAI_OK) (void)eai__proc_stop(&s->proc, 2000);
    if (exit_code) *exit_code = eai__proc_exit_code(&s->proc);
    return EAI_OK;
}

void eai_sumo_destroy(eai_sumo_t *s)
{
    if (!s) return;
    if (s->proc.pid > 0) (void)eai_sumo_stop(s, NULL);
    eai_traci_destroy(s->traci);
    if (s->tmp_log) unlink(s->log_path);
    eai__free(&s->alloc, s);
}
