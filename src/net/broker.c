/* A private mosquitto for tests and local runs: a minimal config in a fresh
 * temporary folder (loopback listener, anonymous, persistence), spawned with
 * posix_spawn, ready when its port accepts a TCP connection, stopped with
 * SIGTERM (which makes mosquitto save its state) and waitpid with a timeout;
 * the child-process and port parts are core/proc_impl.h. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core_impl.h"
#include "core/proc_impl.h"
#include "edgeai/broker.h"

struct eai_broker {
    char exe[512];
    char dir[256];
    int port;
    eai__proc_t proc; /* proc.pid 0 while stopped */
    int start_ms, stop_ms;
    char *extra_conf; /* appended to the config; NULL: none */
};

static bool find_exe(const char *want, char *out, size_t n)
{
    /* given (or $EAI_MOSQUITTO set), it is the only candidate, so
     * EAI_MOSQUITTO=/nonexistent forces the "not installed" path that tests
     * skip on; a relative path is taken as is, not looked up */
    const char *only = want;
    if (!only) {
        const char *env = getenv("EAI_MOSQUITTO");
        if (env && env[0]) only = env;
    }
    if (only) {
        if (!only[0] || access(only, X_OK) != 0) return false;
        snprintf(out, n, "%s", only);
        return true;
    }
    return eai__proc_which("mosquitto", "/usr/sbin:/usr/local/sbin", out, n);
}

/* Last ~300 bytes of the broker log on one line, for error messages. */
static void log_tail(const eai_broker_t *b, char *buf, size_t n)
{
    char path[300];
    snprintf(path, sizeof path, "%s/mosquitto.log", b->dir);
    eai__file_tail(path, buf, n);
    for (char *p = buf; *p; p++)
        if (*p == '\n') *p = ' ';
}

static eai_status_t write_config(const eai_broker_t *b)
{
    char path[300];
    snprintf(path, sizeof path, "%s/mosquitto.conf", b->dir);
    FILE *f = fopen(path, "w");
    if (!f) return eai_fail(EAI_E_IO, "broker: %s: %s", path, strerror(errno));
    fprintf(f,
            "listener %d 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            "persistence_location %s/\n"
            "persistence_file mosquitto.db\n"
            "autosave_interval 60\n"
            /* FL updates are hundreds of chunks: keep them all for an offline
             * persistent client instead of mosquitto's default 1000 */
            "max_queued_messages 100000\n"
            "log_dest file %s/mosquitto.log\n"
            "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n",
            b->port, b->dir, b->dir);
    /* as root mosquitto 2 switches to user "mosquitto", which cannot write
     * the private folder; "user root" keeps it as is */
    if (geteuid() == 0) fprintf(f, "user root\n");
    if (b->extra_conf) fprintf(f, "%s\n", b->extra_conf);
    if (fclose(f) != 0) return eai_fail(EAI_E_IO, "broker: %s: %s", path, strerror(errno));
    return EAI_OK;
}

/* One attempt: spawn on b->port, wait until it accepts or exits. */
static eai_status_t spawn_once(eai_broker_t *b)
{
    EAI_TRY(write_config(b));
    char conf[300];
    snprintf(conf, sizeof conf, "%s/mosquitto.conf", b->dir);
    /* the log goes to the file; keep the broker off our terminal (all three
     * fds on /dev/null, the default) */
    char *argv[] = {b->exe, "-c", conf, NULL};
    EAI_TRY(eai__proc_start(&b->proc, argv, &(eai__proc_opts_t){.name = "broker"}));
    eai_status_t st = eai__port_wait(b->port, b->start_ms, &b->proc);
    if (st == EAI_OK) return EAI_OK;
    if (b->proc.pid == 0) {
        char tail[320];
        log_tail(b, tail, sizeof tail);
        return eai_fail(EAI_E_IO, "broker: %s exited (status %d) before listening on %d: %s",
                        b->exe, eai__proc_exit_code(&b->proc), b->port, tail);
    }
    eai_broker_stop(b);
    return eai_fail(EAI_E_IO, "broker: port %d not accepting after %d ms", b->port, b->start_ms);
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[600];
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

eai_status_t eai_broker_start(const eai_broker_opts_t *o, eai_broker_t **out)
{
    if (!out) return eai_fail(EAI_E_INVALID, "eai_broker_start: NULL out");
    eai_broker_opts_t def = {0};
    if (!o) o = &def;
    if (o->port < 0 || o->port > 65535) return eai_fail(EAI_E_INVALID, "broker: port %d", o->port);
    eai_broker_t *b = calloc(1, sizeof *b);
    if (!b) return eai_fail(EAI_E_NOMEM, "broker: out of memory");
    if (!find_exe(o->exe, b->exe, sizeof b->exe)) {
        free(b);
        return eai_fail(EAI_E_UNAVAILABLE, "broker: mosquitto executable not found (%s)",
                        o->exe ? o->exe : "$EAI_MOSQUITTO, PATH, /usr/sbin");
    }
    if (o->extra_conf && !(b->extra_conf = strdup(o->extra_conf))) {
        free(b);
        return eai_fail(EAI_E_NOMEM, "broker: out of memory");
    }
    b->start_ms = o->start_timeout_ms > 0 ? o->start_timeout_ms : 5000;
    b->stop_ms = o->stop_timeout_ms > 0 ? o->stop_timeout_ms : 5000;
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !tmp[0] || strlen(tmp) > 200) tmp = "/tmp";
    snprintf(b->dir, sizeof b->dir, "%s/eai-broker-XXXXXX", tmp);
    if (!mkdtemp(b->dir)) {
        eai_status_t st = eai_fail(EAI_E_IO, "broker: mkdtemp %s: %s", b->dir, strerror(errno));
        free(b->extra_conf);
        free(b);
        return st;
    }
    eai_status_t st = EAI_E_IO;
    /* a kernel-chosen port can be taken between our probe and the broker's
     * bind: try a few */
    for (int attempt = 0; attempt < (o->port ? 1 : 4) && st != EAI_OK; attempt++) {
        b->port = o->port;
        if (!b->port && (st = eai__port_free(&b->port)) != EAI_OK) break;
        st = spawn_once(b);
    }
    if (st != EAI_OK) {
        remove_dir(b->dir);
        free(b->extra_conf);
        free(b);
        return st;
    }
    *out = b;
    return EAI_OK;
}

int eai_broker_port(const eai_broker_t *b)
{
    return b ? b->port : 0;
}

int eai_broker_pid(const eai_broker_t *b)
{
    return b ? (int)b->proc.pid : 0;
}

eai_status_t eai_broker_stop(eai_broker_t *b)
{
    if (!b) return eai_fail(EAI_E_INVALID, "eai_broker_stop: NULL broker");
    /* SIGTERM makes mosquitto save its state; EAI_E_TIMEOUT when it had to
     * be killed */
    return eai__proc_stop(&b->proc, b->stop_ms);
}

eai_status_t eai_broker_restart(eai_broker_t *b)
{
    if (!b) return eai_fail(EAI_E_INVALID, "eai_broker_restart: NULL broker");
    EAI_TRY(eai_broker_stop(b));
    /* the old listening socket may linger briefly; mosquitto sets SO_REUSEADDR
     * but retry a few times anyway */
    eai_status_t st = EAI_E_IO;
    for (int attempt = 0; attempt < 3 && st != EAI_OK; attempt++) {
        if (attempt) eai__sleep_ms(200);
        st = spawn_once(b);
    }
    return st;
}

void eai_broker_destroy(eai_broker_t *b)
{
    if (!b) return;
    eai_broker_stop(b);
    remove_dir(b->dir);
    free(b->extra_conf);
    free(b);
}
