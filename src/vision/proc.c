/* Child processes for the ffmpeg video source and writer. posix_spawnp
 * (fork + execvp without a shell, done by libc) because the pipeline calls
 * this from worker threads, where a hand-written fork must not touch locks
 * or the heap before exec; posix_spawnp also reports a missing program as
 * ENOENT to the parent. Every pipe we make is O_CLOEXEC so that one child
 * never inherits another's pipe (an encoder would then never see EOF). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vision_impl.h"

extern char **environ;

eai_status_t eai__proc_spawn(char *const argv[], int fd_in, int fd_out, int fd_err, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0)
        return eai_fail(EAI_E_NOMEM, "%s: cannot start (spawn actions)", argv[0]);
    int fds[3] = {fd_in, fd_out, fd_err};
    for (int i = 0; i < 3; i++) {
        if (fds[i] >= 0)
            posix_spawn_file_actions_adddup2(&fa, fds[i], i);
        else
            posix_spawn_file_actions_addopen(&fa, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
    }
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    /* the child starts with default SIGPIPE handling even if we ignore it */
    sigset_t def;
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    posix_spawnattr_setsigdefault(&at, &def);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    int rc = posix_spawnp(pid, argv[0], &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc == ENOENT)
        return eai_fail(EAI_E_UNAVAILABLE, "%s: not installed (not found on PATH)", argv[0]);
    if (rc != 0) return eai_fail(EAI_E_IO, "%s: cannot start: %s", argv[0], strerror(rc));
    return EAI_OK;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* waitpid with a deadline: true when reaped. */
static bool wait_until(pid_t pid, int64_t deadline, int *status)
{
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR)) return true;
        if (deadline >= 0 && now_ms() >= deadline) return false;
        struct timespec d = {0, 5 * 1000000};
        nanosleep(&d, NULL);
    }
}

int eai__proc_reap(pid_t pid, int timeout_ms)
{
    int status = 0;
    if (pid <= 0) return -1;
    if (timeout_ms < 0) {
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        return status;
    }
    if (wait_until(pid, now_ms() + timeout_ms, &status)) return status;
    kill(pid, SIGTERM);
    if (wait_until(pid, now_ms() + 2000, &status)) return -1;
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return -1;
}

ssize_t eai__read_full(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

eai_status_t eai__proc_capture(char *const argv[], char *buf, size_t cap, int timeout_ms,
                               int *exit_code)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return eai_fail(EAI_E_IO, "%s: pipe: %s", argv[0], strerror(errno));
    pid_t pid;
    eai_status_t st = eai__proc_spawn(argv, -1, p[1], p[1], &pid);
    close(p[1]);
    if (st != EAI_OK) {
        close(p[0]);
        return st;
    }
    size_t n = 0;
    int64_t deadline = now_ms() + timeout_ms;
    bool timed_out = false;
    for (;;) {
        int left = (int)(deadline - now_ms());
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd pf = {p[0], POLLIN, 0};
        int pr = poll(&pf, 1, left);
        if (pr < 0 && errno == EINTR) continue;
        if (pr <= 0) {
            timed_out = pr == 0;
            break;
        }
        char tmp[4096];
        ssize_t r = read(p[0], tmp, sizeof tmp);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        size_t k = (size_t)r;
        if (cap == 0)
            k = 0;
        else if (n + k > cap - 1)
            k = cap - 1 - n;
        memcpy(buf + n, tmp, k);
        n += k;
    }
    if (cap > 0) buf[n] = '\0';
    close(p[0]);
    int status = eai__proc_reap(pid, timed_out ? 0 : 5000);
    if (timed_out)
        return eai_fail(EAI_E_TIMEOUT, "%s: no answer within %d ms", argv[0], timeout_ms);
    *exit_code = (status >= 0 && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
    return EAI_OK;
}
