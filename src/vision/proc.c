/* Child processes for the ffmpeg video source and writer, on the shared
 * core/proc_impl.h: posix_spawnp (no shell, PATH search, safe from the
 * pipeline's worker threads; a missing program is reported to the parent
 * as "not installed"). Every pipe we make is O_CLOEXEC so that one child
 * never inherits another's pipe (an encoder would then never see EOF). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/proc_impl.h"
#include "vision_impl.h"

eai_status_t eai__proc_spawn(char *const argv[], int fd_in, int fd_out, int fd_err, pid_t *pid)
{
    eai__proc_t p;
    eai__proc_opts_t o = {
        .use_fds = true, .fd_in = fd_in, .fd_out = fd_out, .fd_err = fd_err, .search_path = true};
    EAI_TRY(eai__proc_start(&p, argv, &o));
    *pid = p.pid;
    return EAI_OK;
}

int eai__proc_reap(pid_t pid, int timeout_ms)
{
    if (pid <= 0) return -1;
    eai__proc_t p = {.pid = pid};
    if (eai__proc_wait(&p, timeout_ms) == EAI_OK) return p.status;
    (void)eai__proc_stop(&p, 2000); /* SIGTERM, 2 s, SIGKILL */
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
    int64_t deadline = eai__mono_ms() + timeout_ms;
    bool timed_out = false;
    for (;;) {
        int left = (int)(deadline - eai__mono_ms());
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
