/* A private mosquitto for tests and local runs: a minimal config in a fresh
 * temporary folder (loopback listener, anonymous, persistence), spawned with
 * posix_spawn, ready when its port accepts a TCP connection, stopped with
 * SIGTERM (which makes mosquitto save its state) and waitpid with a timeout. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/core_impl.h"
#include "edgeai/broker.h"

extern char **environ;

struct eai_broker {
    char exe[512];
    char dir[256];
    int port;
    pid_t pid;
    int start_ms, stop_ms;
    char *extra_conf; /* appended to the config; NULL: none */
};

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static bool executable(const char *p)
{
    return p && p[0] && access(p, X_OK) == 0;
}

static bool find_exe(const char *want, char *out, size_t n)
{
    if (want) {
        if (!executable(want)) return false;
        snprintf(out, n, "%s", want);
        return true;
    }
    /* set, it is the only candidate (so EAI_MOSQUITTO=/nonexistent forces the
     * "not installed" path that tests skip on) */
    const char *env = getenv("EAI_MOSQUITTO");
    if (env && env[0]) {
        if (!executable(env)) return false;
        snprintf(out, n, "%s", env);
        return true;
    }
    const char *path = getenv("PATH");
    if (path) {
        const char *s = path;
        while (*s) {
            const char *e = strchr(s, ':');
            size_t len = e ? (size_t)(e - s) : strlen(s);
            if (len > 0 && len < n - 16) {
                snprintf(out, n, "%.*s/mosquitto", (int)len, s);
                if (executable(out)) return true;
            }
            s += len + (e ? 1 : 0);
        }
    }
    static const char *const fixed[] = {"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (executable(fixed[i])) {
            snprintf(out, n, "%s", fixed[i]);
            return true;
        }
    return false;
}

/* A port the kernel reports free right now (the broker binds it a moment
 * later; start retries with another port if that loses a race). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static bool port_accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* Last ~300 bytes of the broker log, for error messages. */
static void log_tail(const eai_broker_t *b, char *buf, size_t n)
{
    char path[300];
    snprintf(path, sizeof path, "%s/mosquitto.log", b->dir);
    buf[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f) return;
    if (fseek(f, 0, SEEK_END) == 0) {
        long sz = ftell(f);
        long from = sz > (long)n - 1 ? sz - (long)n + 1 : 0;
        fseek(f, from, SEEK_SET);
        size_t got = fread(buf, 1, n - 1, f);
        buf[got] = '\0';
        for (char *p = buf; *p; p++)
            if (*p == '\n') *p = ' ';
    }
    fclose(f);
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

static eai_status_t wait_exit(eai_broker_t *b, int timeout_ms)
{
    int64_t waited = 0;
    for (;;) {
        int stat;
        pid_t r = waitpid(b->pid, &stat, WNOHANG);
        if (r == b->pid || (r < 0 && errno == ECHILD)) {
            b->pid = 0;
            return EAI_OK;
        }
        if (waited >= timeout_ms) return EAI_E_TIMEOUT;
        sleep_ms(10);
        waited += 10;
    }
}

/* One attempt: spawn on b->port, wait until it accepts or exits. */
static eai_status_t spawn_once(eai_broker_t *b)
{
    EAI_TRY(write_config(b));
    char conf[300];
    snprintf(conf, sizeof conf, "%s/mosquitto.conf", b->dir);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    /* the log goes to the file; keep the broker off our terminal */
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    char *argv[] = {b->exe, "-c", conf, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, b->exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return eai_fail(EAI_E_IO, "broker: spawn %s: %s", b->exe, strerror(rc));
    b->pid = pid;
    for (int waited = 0; waited < b->start_ms; waited += 10) {
        if (port_accepts(b->port)) return EAI_OK;
        int stat;
        if (waitpid(pid, &stat, WNOHANG) == pid) {
            b->pid = 0;
            char tail[320];
            log_tail(b, tail, sizeof tail);
            return eai_fail(EAI_E_IO, "broker: %s exited (status %d) before listening on %d: %s",
                            b->exe, WIFEXITED(stat) ? WEXITSTATUS(stat) : -1, b->port, tail);
        }
        sleep_ms(10);
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
        b->port = o->port ? o->port : free_port();
        if (b->port <= 0) {
            st = eai_fail(EAI_E_IO, "broker: no free port: %s", strerror(errno));
            break;
        }
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
    return b ? (int)b->pid : 0;
}

eai_status_t eai_broker_stop(eai_broker_t *b)
{
    if (!b) return eai_fail(EAI_E_INVALID, "eai_broker_stop: NULL broker");
    if (b->pid <= 0) return EAI_OK;
    kill(b->pid, SIGTERM);
    if (wait_exit(b, b->stop_ms) == EAI_OK) return EAI_OK;
    kill(b->pid, SIGKILL);
    if (wait_exit(b, 2000) == EAI_OK)
        return eai_fail(EAI_E_TIMEOUT, "broker: pid %d ignored SIGTERM for %d ms (killed)",
                        (int)b->pid, b->stop_ms);
    return eai_fail(EAI_E_TIMEOUT, "broker: pid %d does not exit", (int)b->pid);
}

eai_status_t eai_broker_restart(eai_broker_t *b)
{
    if (!b) return eai_fail(EAI_E_INVALID, "eai_broker_restart: NULL broker");
    EAI_TRY(eai_broker_stop(b));
    /* the old listening socket may linger briefly; mosquitto sets SO_REUSEADDR
     * but retry a few times anyway */
    eai_status_t st = EAI_E_IO;
    for (int attempt = 0; attempt < 3 && st != EAI_OK; attempt++) {
        if (attempt) sleep_ms(200);
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
