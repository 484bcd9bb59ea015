/* Child processes and loopback ports (see proc_impl.h). posix_spawn by
 * default: libc does the fork and exec without running our code in the
 * child, which is what a multi-threaded caller needs (a hand-written fork
 * must not touch locks or the heap before exec), and it reports a missing
 * program to the parent. die_with_parent needs a call posix_spawn cannot
 * make (prctl), so that case forks itself and sends exec's errno back over a
 * close-on-exec pipe to keep the same error reporting. Every fd opened here
 * is O_CLOEXEC, so one child never inherits another's log or pipe. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "core/proc_impl.h"

extern char **environ;

/* Reaping gives up this long after SIGKILL (a process in uninterruptible
 * sleep); SIGKILL itself cannot be ignored. */
#define KILL_WAIT_MS 2000

int64_t eai__mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void eai__sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static const char *pname(const eai__proc_t *p)
{
    return p->name[0] ? p->name : "child";
}

/* Opens path as fd >= 3 (close-on-exec), so that placing the child's fds
 * 0..2 never overwrites another of them; -1 with errno on failure. */
static int open_high(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC, 0644);
    if (fd < 0 || fd > 2) return fd;
    int hi = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    int e = errno;
    close(fd);
    errno = e;
    return hi;
}

static eai_status_t exec_error(const eai__proc_t *p, const char *prog, bool searched, int err)
{
    bool same = strcmp(pname(p), prog) == 0;
    if (err == ENOENT)
        return eai_fail(EAI_E_UNAVAILABLE, "%s%s%s: not installed (%s)", pname(p), same ? "" : ": ",
                        same ? "" : prog,
                        searched && !strchr(prog, '/') ? "not found on PATH" : "no such file");
    return eai_fail(EAI_E_IO, "%s: cannot start%s%s: %s", pname(p), same ? "" : " ",
                    same ? "" : prog, strerror(err));
}

static eai_status_t spawn(eai__proc_t *p, char *const argv[], const int fds[3],
                          const eai__proc_opts_t *o)
{
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0)
        return eai_fail(EAI_E_NOMEM, "%s: cannot start (spawn actions)", pname(p));
    posix_spawnattr_t at;
    if (posix_spawnattr_init(&at) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return eai_fail(EAI_E_NOMEM, "%s: cannot start (spawn attributes)", pname(p));
    }
    /* fds opened here are >= 3; fds[i] == i only for a caller's own std fd
     * (e.g. our stderr), which is not close-on-exec and so stays as it is */
    for (int i = 0; i < 3; i++)
        posix_spawn_file_actions_adddup2(&fa, fds[i], i);
    /* the child starts with default SIGPIPE handling even if we ignore it,
     * and with no signal blocked even if this thread blocks some */
    sigset_t def, none;
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setsigmask(&at, &none);
    short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
    if (o->new_group) {
        posix_spawnattr_setpgroup(&at, 0);
        flags |= POSIX_SPAWN_SETPGROUP;
    }
    posix_spawnattr_setflags(&at, flags);
    pid_t pid;
    int rc = o->search_path ? posix_spawnp(&pid, argv[0], &fa, &at, argv, environ)
                            : posix_spawn(&pid, argv[0], &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc != 0) return exec_error(p, argv[0], o->search_path, rc);
    p->pid = pid;
    return EAI_OK;
}

#ifdef __linux__
static eai_status_t fork_exec(eai__proc_t *p, char *const argv[], const int fds[3],
                              const eai__proc_opts_t *o)
{
    int ep[2];
    if (pipe2(ep, O_CLOEXEC) != 0)
        return eai_fail(EAI_E_IO, "%s: cannot start: pipe: %s", pname(p), strerror(errno));
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* child: only async-signal-safe calls until exec */
        if (o->die_with_parent) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) _exit(127); /* the parent died before prctl */
        }
        if (o->new_group) setpgid(0, 0);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_DFL;
        sigaction(SIGPIPE, &sa, NULL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int i = 0; i < 3; i++) {
            if (fds[i] != i)
                dup2(fds[i], i);
            else
                fcntl(i, F_SETFD, 0);
        }
        if (o->search_path)
            execvp(argv[0], argv);
        else
            execv(argv[0], argv);
        int e = errno;
        ssize_t w = write(ep[1], &e, sizeof e);
        (void)w;
        _exit(127);
    }
    int fork_err = errno;
    close(ep[1]);
    if (pid < 0) {
        close(ep[0]);
        return eai_fail(EAI_E_IO, "%s: cannot start: fork: %s", pname(p), strerror(fork_err));
    }
    /* EOF: exec succeeded (the pipe closed on exec); an int: exec's errno */
    int e = 0;
    ssize_t r;
    while ((r = read(ep[0], &e, sizeof e)) < 0 && errno == EINTR) {
    }
    close(ep[0]);
    if (r == (ssize_t)sizeof e) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        return exec_error(p, argv[0], o->search_path, e);
    }
    p->pid = pid;
    return EAI_OK;
}
#endif

eai_status_t eai__proc_start(eai__proc_t *p, char *const argv[], const eai__proc_opts_t *o)
{
    if (!p || !argv || !argv[0] || !argv[0][0])
        return eai_fail(EAI_E_INVALID, "eai__proc_start: NULL process or empty argv");
    eai__proc_opts_t def = {0};
    if (!o) o = &def;
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", o->name ? o->name : argv[0]);
    p->group = o->new_group;
#ifndef __linux__
    if (o->die_with_parent)
        return eai_fail(EAI_E_UNSUPPORTED, "%s: die_with_parent needs Linux", pname(p));
#endif
    /* fds[] are what the child gets as 0, 1, 2; owned[] those opened here */
    int fds[3] = {-1, -1, -1};
    bool owned[3] = {false, false, false};
    eai_status_t st = EAI_OK;
    if (o->use_fds) {
        int want[3] = {o->fd_in, o->fd_out, o->fd_err};
        for (int i = 0; i < 3; i++)
            fds[i] = want[i];
    } else if (o->log_path) {
        int fl = O_WRONLY | O_CREAT | (o->log_truncate ? O_TRUNC : O_APPEND);
        fds[1] = open_high(o->log_path, fl);
        if (fds[1] < 0)
            return eai_fail(EAI_E_IO, "%s: cannot open log %s: %s", pname(p), o->log_path,
                            strerror(errno));
        owned[1] = true;
        fds[2] = fds[1];
    }
    for (int i = 0; i < 3 && st == EAI_OK; i++) {
        if (fds[i] >= 0) continue;
        fds[i] = open_high("/dev/null", i == 0 ? O_RDONLY : O_WRONLY);
        owned[i] = fds[i] >= 0;
        if (fds[i] < 0)
            st = eai_fail(EAI_E_IO, "%s: cannot open /dev/null: %s", pname(p), strerror(errno));
    }
    if (st == EAI_OK) {
#ifdef __linux__
        if (o->die_with_parent)
            st = fork_exec(p, argv, fds, o);
        else
#endif
            st = spawn(p, argv, fds, o);
    }
    for (int i = 0; i < 3; i++)
        if (owned[i]) close(fds[i]);
    return st;
}

/* One waitpid; true once reaped (or not our child any more). */
static bool try_reap(eai__proc_t *p, int flags)
{
    int st = 0;
    pid_t r;
    while ((r = waitpid(p->pid, &st, flags)) < 0 && errno == EINTR) {
    }
    if (r == p->pid || (r < 0 && errno == ECHILD)) {
        p->status = r == p->pid ? st : 0;
        p->pid = 0;
        return true;
    }
    return false;
}

eai_status_t eai__proc_wait(eai__proc_t *p, int timeout_ms)
{
    if (!p) return eai_fail(EAI_E_INVALID, "eai__proc_wait: NULL process");
    if (p->pid <= 0) return EAI_OK;
    if (timeout_ms < 0) {
        try_reap(p, 0);
        return EAI_OK;
    }
    int64_t end = eai__mono_ms() + timeout_ms;
    for (;;) {
        if (try_reap(p, WNOHANG)) return EAI_OK;
        int64_t left = end - eai__mono_ms();
        if (left <= 0)
            return eai_fail(EAI_E_TIMEOUT, "%s: pid %d still running after %d ms", pname(p),
                            (int)p->pid, timeout_ms);
        eai__sleep_ms(left < 10 ? (int)left : 10);
    }
}

bool eai__proc_alive(eai__proc_t *p)
{
    return p && p->pid > 0 && !try_reap(p, WNOHANG);
}

static void send_signal(const eai__proc_t *p, int sig)
{
    /* the whole group (the child's own children too); the child alone if it
     * has left its group */
    if (!p->group || kill(-p->pid, sig) != 0) kill(p->pid, sig);
}

eai_status_t eai__proc_kill(eai__proc_t *p)
{
    if (!p) return eai_fail(EAI_E_INVALID, "eai__proc_kill: NULL process");
    if (p->pid <= 0) return EAI_OK;
    pid_t pid = p->pid;
    send_signal(p, SIGKILL);
    if (eai__proc_wait(p, KILL_WAIT_MS) == EAI_OK) return EAI_OK;
    return eai_fail(EAI_E_TIMEOUT, "%s: pid %d does not exit", pname(p), (int)pid);
}

eai_status_t eai__proc_stop(eai__proc_t *p, int term_ms)
{
    if (!p) return eai_fail(EAI_E_INVALID, "eai__proc_stop: NULL process");
    if (p->pid <= 0) return EAI_OK;
    pid_t pid = p->pid;
    send_signal(p, SIGTERM);
    if (eai__proc_wait(p, term_ms > 0 ? term_ms : 0) == EAI_OK) return EAI_OK;
    EAI_TRY(eai__proc_kill(p));
    return eai_fail(EAI_E_TIMEOUT, "%s: pid %d ignored SIGTERM for %d ms (killed)", pname(p),
                    (int)pid, term_ms);
}

int eai__proc_exit_code(const eai__proc_t *p)
{
    if (!p) return -1;
    if (WIFEXITED(p->status)) return WEXITSTATUS(p->status);
    if (WIFSIGNALED(p->status)) return 128 + WTERMSIG(p->status);
    return -1;
}

void eai__proc_describe(const eai__proc_t *p, char *buf, size_t n)
{
    if (!p || !n) return;
    if (p->pid > 0)
        snprintf(buf, n, "%s is still running", pname(p));
    else if (WIFEXITED(p->status))
        snprintf(buf, n, "%s exited with status %d", pname(p), WEXITSTATUS(p->status));
    else if (WIFSIGNALED(p->status))
        snprintf(buf, n, "%s was killed by signal %d (%s)", pname(p), WTERMSIG(p->status),
                 strsignal(WTERMSIG(p->status)));
    else
        snprintf(buf, n, "%s ended (status 0x%x)", pname(p), (unsigned)p->status);
}

static bool is_exe(const char *path)
{
    return path[0] && access(path, X_OK) == 0;
}

/* Looks prog up in one ':' list of folders. */
static bool which_in(const char *prog, const char *dirs, char *out, size_t n)
{
    for (const char *s = dirs; s && *s;) {
        size_t len = strcspn(s, ":");
        if (len > 0 && len + strlen(prog) + 2 <= n) {
            snprintf(out, n, "%.*s/%s", (int)len, s, prog);
            if (is_exe(out)) return true;
        }
        s += len + (s[len] == ':');
    }
    return false;
}

bool eai__proc_which(const char *prog, const char *extra_dirs, char *out, size_t n)
{
    if (!prog || !prog[0] || !out || n == 0) return false;
    if (strchr(prog, '/')) {
        if (strlen(prog) >= n || !is_exe(prog)) return false;
        snprintf(out, n, "%s", prog);
        return true;
    }
    return which_in(prog, getenv("PATH"), out, n) || which_in(prog, extra_dirs, out, n);
}

static void loopback(struct sockaddr_in *a, int port)
{
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

eai_status_t eai__port_free(int *port)
{
    if (!port) return eai_fail(EAI_E_INVALID, "eai__port_free: NULL port");
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return eai_fail(EAI_E_IO, "no free TCP port on 127.0.0.1: socket: %s", strerror(errno));
    struct sockaddr_in a;
    loopback(&a, 0);
    socklen_t len = sizeof a;
    eai_status_t st = EAI_OK;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0 || ntohs(a.sin_port) == 0)
        st = eai_fail(EAI_E_IO, "no free TCP port on 127.0.0.1: %s", strerror(errno));
    else
        *port = ntohs(a.sin_port);
    close(fd);
    return st;
}

static bool port_accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    struct sockaddr_in a;
    loopback(&a, port);
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

eai_status_t eai__port_wait(int port, int timeout_ms, eai__proc_t *watch)
{
    if (port <= 0 || port > 65535)
        return eai_fail(EAI_E_INVALID, "eai__port_wait: port %d out of range", port);
    const char *who = watch ? pname(watch) : "127.0.0.1";
    int64_t end = eai__mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        if (port_accepts(port)) return EAI_OK;
        if (watch && !eai__proc_alive(watch)) {
            char how[160];
            eai__proc_describe(watch, how, sizeof how);
            return eai_fail(EAI_E_UNAVAILABLE, "%s before listening on port %d", how, port);
        }
        if (eai__mono_ms() >= end)
            return eai_fail(EAI_E_TIMEOUT, "%s: port %d not accepting after %d ms", who, port,
                            timeout_ms);
        eai__sleep_ms(10);
    }
}

size_t eai__file_tail(const char *path, char *buf, size_t n)
{
    if (!buf || n == 0) return 0;
    buf[0] = '\0';
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f) return 0;
    size_t got = 0;
    if (fseek(f, 0, SEEK_END) == 0) {
        long sz = ftell(f);
        long from = sz > (long)n - 1 ? sz - (long)n + 1 : 0;
        if (sz >= 0 && fseek(f, from, SEEK_SET) == 0) got = fread(buf, 1, n - 1, f);
    }
    fclose(f);
    buf[got] = '\0';
    return got;
}
