/* Child processes and loopback ports, shared by everything that runs a
 * helper program: the private mosquitto (src/net/broker.c), SUMO
 * (src/traffic/sumo_proc.c), the ffmpeg pipes (src/vision/proc.c) and
 * `edgeai topo up`. Internal (eai__ prefix), POSIX; no globals, so any number
 * of children can be driven from any thread, one eai__proc_t per child.
 *
 *   eai__proc_t p;
 *   eai__proc_opts_t o = {.name = "broker", .log_path = "/tmp/x/broker.log"};
 *   int port;
 *   EAI_TRY(eai__port_free(&port));
 *   EAI_TRY(eai__proc_start(&p, argv, &o));
 *   if (eai__port_wait(port, 5000, &p) != EAI_OK) ...   // exited, or timed out
 *   eai__proc_stop(&p, 5000);                           // SIGTERM, wait, SIGKILL
 */
#ifndef EAI_CORE_PROC_IMPL_H
#define EAI_CORE_PROC_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "edgeai/status.h"

/* One child. Plain data: a caller that only has a pid may fill `pid` alone
 * (zero-init the rest) and use wait/stop/kill on it. */
typedef struct eai__proc {
    pid_t pid;     /* > 0 from start until reaped, then 0 */
    int status;    /* waitpid status of the reaped run (0 before) */
    bool group;    /* leads its own process group: signals go to the group */
    char name[64]; /* first word of every message; "" reads "child" */
} eai__proc_t;

/* Zero-init: stdin, stdout and stderr on /dev/null, argv[0] an exact path,
 * same process group, posix_spawn. */
typedef struct eai__proc_opts {
    const char *name;     /* message prefix (copied); NULL: argv[0] */
    const char *log_path; /* stdout and stderr into this file (created 0644,
                             appended); NULL: /dev/null */
    bool log_truncate;    /* empty the log first instead of appending */
    /* Use these fds (-1: /dev/null) as stdin, stdout, stderr instead of the
     * above; they stay open in the parent (borrowed for the call). */
    bool use_fds;
    int fd_in, fd_out, fd_err;
    bool search_path; /* an argv[0] without '/' is looked up on $PATH */
    bool new_group;   /* own process group, so stop/kill reach its children too */
    /* Linux: the child gets SIGKILL when this process dies, so a crash leaves
     * no stray child. posix_spawn cannot ask for that, so this uses fork and
     * exec (only async-signal-safe calls between them). */
    bool die_with_parent;
} eai__proc_opts_t;

/* Starts argv (argv[0] the program, NULL-terminated; borrowed for the call)
 * with SIGPIPE at its default and no signal blocked, whatever this process
 * has set. On success p->pid > 0. EAI_E_UNAVAILABLE when the program does not
 * exist, EAI_E_IO for a log that cannot be opened or another exec failure,
 * EAI_E_INVALID for bad arguments. On failure nothing is left running and p
 * holds no pid. */
eai_status_t eai__proc_start(eai__proc_t *p, char *const argv[], const eai__proc_opts_t *o);

/* Waits up to timeout_ms (< 0: forever, 0: just look) for the child to end.
 * EAI_OK once reaped (p->pid 0, p->status set; also when it was reaped
 * before), EAI_E_TIMEOUT while it still runs. */
eai_status_t eai__proc_wait(eai__proc_t *p, int timeout_ms);

/* True while the child runs; reaps it (p->pid 0, p->status set) once ended. */
bool eai__proc_alive(eai__proc_t *p);

/* SIGTERM, up to term_ms for it to end, then SIGKILL; reaps. EAI_OK when it
 * ended within term_ms (or was not running); EAI_E_TIMEOUT when SIGKILL was
 * needed (then reaped all the same, p->pid 0) or, after 2 s more, it still
 * has not ended (p->pid kept). */
eai_status_t eai__proc_stop(eai__proc_t *p, int term_ms);

/* SIGKILL and reap (as kill -9 would). EAI_OK, or EAI_E_TIMEOUT as above. */
eai_status_t eai__proc_kill(eai__proc_t *p);

/* The reaped child's exit code, 128 + signal when a signal ended it (as a
 * shell reports it), -1 otherwise. */
int eai__proc_exit_code(const eai__proc_t *p);

/* "sumo exited with status 1", "sumo was killed by signal 9 (Killed)". */
void eai__proc_describe(const eai__proc_t *p, char *buf, size_t n);

/* Finds an executable: `prog` as given when it holds a '/', else the first
 * <dir>/prog for dir in $PATH, then in `extra_dirs` (a ':' list, NULL: none).
 * True with the path in out. */
bool eai__proc_which(const char *prog, const char *extra_dirs, char *out, size_t n);

/* A TCP port that 127.0.0.1 has free right now (bind port 0, read it back,
 * close). Another process may take it before the child binds it: callers
 * retry with a new port when the child fails to bind. EAI_E_IO on failure. */
eai_status_t eai__port_free(int *port);

/* Waits until 127.0.0.1:port accepts a TCP connection, at most timeout_ms.
 * `watch` (NULL: none) is the child meant to listen there: if it ends first
 * this returns EAI_E_UNAVAILABLE at once (watch reaped, its status set).
 * EAI_E_TIMEOUT when the deadline passes. The probe connection is closed at
 * once, so do not use it on a server that takes a single client (SUMO). */
eai_status_t eai__port_wait(int port, int timeout_ms, eai__proc_t *watch);

/* The last n-1 bytes (or fewer) of a file, NUL-terminated, for quoting a
 * child's log in an error message; "" when it cannot be read. Returns the
 * length. */
size_t eai__file_tail(const char *path, char *buf, size_t n);

/* Monotonic clock in milliseconds, and a sleep that ignores signals. */
int64_t eai__mono_ms(void);
void eai__sleep_ms(int ms);

#endif
