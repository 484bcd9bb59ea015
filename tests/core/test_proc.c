/* core/proc_impl.h: free loopback ports, waiting for a port with a
 * deadline, starting children (posix_spawn and the fork path of
 * die_with_parent) with their output in a log, stopping them with SIGTERM
 * then SIGKILL, and the messages of a missing program. Every test ends with
 * no child of ours left (reaped: waitpid says ECHILD). Uses /bin/sh and
 * sleep only. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/proc_impl.h"

static void assert_no_children(void)
{
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void test_free_port_is_bindable(void **state)
{
    (void)state;
    int port = 0;
    assert_int_equal(eai__port_free(&port), EAI_OK);
    assert_true(port > 0 && port <= 65535);
    int fd = listen_on(port);
    assert_true(fd >= 0);
    /* listening now: a wait returns at once */
    int64_t t0 = eai__mono_ms();
    assert_int_equal(eai__port_wait(port, 2000, NULL), EAI_OK);
    assert_true(eai__mono_ms() - t0 < 1000);
    close(fd);
    assert_int_equal(eai__port_free(NULL), EAI_E_INVALID);
}

static void test_wait_closed_port_times_out(void **state)
{
    (void)state;
    int port = 0;
    assert_int_equal(eai__port_free(&port), EAI_OK); /* free: nobody listens there */
    int64_t t0 = eai__mono_ms();
    assert_int_equal(eai__port_wait(port, 200, NULL), EAI_E_TIMEOUT);
    int64_t took = eai__mono_ms() - t0;
    assert_true(took >= 200);
    assert_true(took < 1500); /* the deadline holds (slack for a loaded machine) */
    assert_non_null(strstr(eai_last_error(), "not accepting after 200 ms"));
    assert_int_equal(eai__port_wait(0, 100, NULL), EAI_E_INVALID);
    assert_int_equal(eai__port_wait(70000, 100, NULL), EAI_E_INVALID);
}

static void test_sleep_is_stopped_and_reaped(void **state)
{
    (void)state;
    char *argv[] = {"sleep", "30", NULL};
    eai__proc_t p;
    eai__proc_opts_t o = {.search_path = true};
    assert_int_equal(eai__proc_start(&p, argv, &o), EAI_OK);
    pid_t pid = p.pid;
    assert_true(pid > 0);
    assert_string_equal(p.name, "sleep");
    assert_true(eai__proc_alive(&p));
    /* same process group as ours unless asked */
    assert_int_equal(getpgid(pid), getpgrp());
    assert_int_equal(eai__proc_wait(&p, 0), EAI_E_TIMEOUT);
    assert_non_null(strstr(eai_last_error(), "still running"));
    int64_t t0 = eai__mono_ms();
    assert_int_equal(eai__proc_stop(&p, 5000), EAI_OK);
    assert_true(eai__mono_ms() - t0 < 2000); /* SIGTERM ends sleep at once */
    assert_int_equal(p.pid, 0);
    assert_int_equal(eai__proc_exit_code(&p), 128 + SIGTERM);
    char how[128];
    eai__proc_describe(&p, how, sizeof how);
    assert_non_null(strstr(how, "sleep was killed by signal 15"));
    assert_false(eai__proc_alive(&p));
    assert_int_equal(eai__proc_stop(&p, 100), EAI_OK); /* stopping again is a no-op */
    assert_int_equal(eai__proc_wait(&p, 100), EAI_OK);
    assert_int_equal(kill(pid, 0), -1); /* gone, not a zombie */
    assert_no_children();
}

/* A child that ignores SIGTERM is killed after term_ms and still reaped. */
static void test_stop_kills_after_deadline(void **state)
{
    (void)state;
    char *argv[] = {"/bin/sh", "-c", "trap '' TERM; exec sleep 30", NULL};
    eai__proc_t p;
    assert_int_equal(eai__proc_start(&p, argv, &(eai__proc_opts_t){.name = "stubborn"}), EAI_OK);
    eai__sleep_ms(100); /* let sh install the trap before exec */
    int64_t t0 = eai__mono_ms();
    assert_int_equal(eai__proc_stop(&p, 300), EAI_E_TIMEOUT);
    int64_t took = eai__mono_ms() - t0;
    assert_true(took >= 300 && took < 2000);
    assert_non_null(strstr(eai_last_error(), "stubborn: pid"));
    assert_non_null(strstr(eai_last_error(), "ignored SIGTERM for 300 ms (killed)"));
    assert_int_equal(p.pid, 0);
    assert_int_equal(eai__proc_exit_code(&p), 128 + SIGKILL);
    assert_no_children();
}

static void test_missing_program(void **state)
{
    (void)state;
    eai__proc_t p;
    char *exact[] = {"/nonexistent/eai-no-such-program", NULL};
    assert_int_equal(eai__proc_start(&p, exact, NULL), EAI_E_UNAVAILABLE);
    assert_string_equal(eai_last_error(),
                        "/nonexistent/eai-no-such-program: not installed (no such file)");
    assert_int_equal(p.pid, 0);
    char *named[] = {"eai-no-such-program", NULL};
    assert_int_equal(eai__proc_start(&p, named, &(eai__proc_opts_t){.search_path = true}),
                     EAI_E_UNAVAILABLE);
    assert_string_equal(eai_last_error(), "eai-no-such-program: not installed (not found on PATH)");
    /* the fork path reports it the same way, and reaps its child */
    eai__proc_opts_t f = {.name = "tool", .search_path = true, .die_with_parent = true};
    assert_int_equal(eai__proc_start(&p, named, &f), EAI_E_UNAVAILABLE);
    assert_string_equal(eai_last_error(),
                        "tool: eai-no-such-program: not installed (not found on PATH)");
    assert_int_equal(p.pid, 0);
    /* not executable */
    char *dir[] = {"/tmp", NULL};
    assert_int_equal(eai__proc_start(&p, dir, NULL), EAI_E_IO);
    assert_non_null(strstr(eai_last_error(), "/tmp: cannot start: "));
    /* bad arguments */
    char *empty[] = {NULL};
    assert_int_equal(eai__proc_start(&p, empty, NULL), EAI_E_INVALID);
    assert_int_equal(eai__proc_start(NULL, exact, NULL), EAI_E_INVALID);
    char *sh[] = {"/bin/sh", "-c", "exit 0", NULL};
    assert_int_equal(
        eai__proc_start(&p, sh, &(eai__proc_opts_t){.log_path = "/nonexistent/dir/x.log"}),
        EAI_E_IO);
    assert_non_null(strstr(eai_last_error(), "cannot open log /nonexistent/dir/x.log"));
    assert_no_children();
}

/* stdout and stderr go to the log, appended or emptied first; the exit code
 * comes back through wait. */
static void test_log_and_exit_code(void **state)
{
    (void)state;
    char log[] = "/tmp/eai-test-proc-XXXXXX";
    int fd = mkstemp(log);
    assert_true(fd >= 0);
    close(fd);
    char *argv[] = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL};
    for (int run = 0; run < 3; run++) {
        eai__proc_t p;
        /* run 2 empties the log first */
        eai__proc_opts_t o = {
            .name = "sh", .log_path = log, .log_truncate = run != 1, .die_with_parent = run == 2};
        assert_int_equal(eai__proc_start(&p, argv, &o), EAI_OK);
        assert_int_equal(eai__proc_wait(&p, 5000), EAI_OK);
        assert_int_equal(eai__proc_exit_code(&p), 3);
        char how[128];
        eai__proc_describe(&p, how, sizeof how);
        assert_string_equal(how, "sh exited with status 3");
        char buf[64];
        size_t n = eai__file_tail(log, buf, sizeof buf);
        assert_string_equal(buf, run == 1 ? "out\nerr\nout\nerr\n" : "out\nerr\n");
        assert_int_equal(n, strlen(buf));
        /* a tail shorter than the file keeps its end */
        assert_int_equal(eai__file_tail(log, buf, 5), 4);
        assert_string_equal(buf, "err\n");
    }
    unlink(log);
    char buf[8] = "x";
    assert_int_equal(eai__file_tail("/nonexistent/log", buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    assert_no_children();
}

/* A child that exits while we wait for its port ends the wait at once. */
static void test_port_wait_sees_exit(void **state)
{
    (void)state;
    int port = 0;
    assert_int_equal(eai__port_free(&port), EAI_OK);
    char *argv[] = {"/bin/sh", "-c", "exit 2", NULL};
    eai__proc_t p;
    assert_int_equal(eai__proc_start(&p, argv, &(eai__proc_opts_t){.name = "server"}), EAI_OK);
    int64_t t0 = eai__mono_ms();
    assert_int_equal(eai__port_wait(port, 10000, &p), EAI_E_UNAVAILABLE);
    assert_true(eai__mono_ms() - t0 < 3000);
    assert_non_null(
        strstr(eai_last_error(), "server exited with status 2 before listening on port"));
    assert_int_equal(p.pid, 0);
    assert_no_children();
}

/* SIGPIPE ignored here is back at its default in the child (on both start
 * paths), so a child writing into a closed pipe dies as usual. */
static void test_child_signal_defaults(void **state)
{
    (void)state;
    struct sigaction old, ign = {.sa_handler = SIG_IGN};
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old);
    char *argv[] = {"/bin/sh", "-c", "kill -PIPE $$; exit 0", NULL};
    for (int fork_path = 0; fork_path < 2; fork_path++) {
        eai__proc_t p;
        eai__proc_opts_t o = {.die_with_parent = fork_path == 1};
        assert_int_equal(eai__proc_start(&p, argv, &o), EAI_OK);
        assert_int_equal(eai__proc_wait(&p, 5000), EAI_OK);
        assert_int_equal(eai__proc_exit_code(&p), 128 + SIGPIPE);
    }
    sigaction(SIGPIPE, &old, NULL);
    assert_no_children();
}

static void test_new_group(void **state)
{
    (void)state;
    char *argv[] = {"sleep", "30", NULL};
    for (int fork_path = 0; fork_path < 2; fork_path++) {
        eai__proc_t p;
        eai__proc_opts_t o = {
            .search_path = true, .new_group = true, .die_with_parent = fork_path == 1};
        assert_int_equal(eai__proc_start(&p, argv, &o), EAI_OK);
        /* the fork path calls setpgid in the child: give it a moment */
        for (int i = 0; i < 100 && getpgid(p.pid) != p.pid; i++)
            eai__sleep_ms(10);
        assert_int_equal(getpgid(p.pid), p.pid);
        assert_int_equal(eai__proc_stop(&p, 5000), EAI_OK);
        assert_int_equal(eai__proc_exit_code(&p), 128 + SIGTERM);
    }
    /* a pid alone (as the vision code holds it) is enough to kill and reap */
    eai__proc_t q;
    assert_int_equal(eai__proc_start(&q, argv, &(eai__proc_opts_t){.search_path = true}), EAI_OK);
    eai__proc_t bare = {.pid = q.pid};
    assert_int_equal(eai__proc_kill(&bare), EAI_OK);
    assert_int_equal(eai__proc_exit_code(&bare), 128 + SIGKILL);
    assert_no_children();
}

static void test_which(void **state)
{
    (void)state;
    char out[512];
    assert_true(eai__proc_which("sh", NULL, out, sizeof out));
    assert_non_null(strstr(out, "/sh"));
    assert_true(eai__proc_which("/bin/sh", NULL, out, sizeof out));
    assert_string_equal(out, "/bin/sh");
    assert_false(eai__proc_which("eai-no-such-program", "/bin:/usr/bin", out, sizeof out));
    assert_false(eai__proc_which("/nonexistent/sh", NULL, out, sizeof out));
    /* extra folders are searched after PATH */
    const char *path = getenv("PATH");
    char saved[4096];
    snprintf(saved, sizeof saved, "%s", path ? path : "");
    setenv("PATH", "/nonexistent", 1);
    assert_true(eai__proc_which("sh", "/nonexistent2:/bin", out, sizeof out));
    assert_string_equal(out, "/bin/sh");
    assert_false(eai__proc_which("sh", NULL, out, sizeof out));
    setenv("PATH", saved, 1);
    assert_false(eai__proc_which("sh", NULL, out, 4)); /* does not fit */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_free_port_is_bindable),
        cmocka_unit_test(test_wait_closed_port_times_out),
        cmocka_unit_test(test_sleep_is_stopped_and_reaped),
        cmocka_unit_test(test_stop_kills_after_deadline),
        cmocka_unit_test(test_missing_program),
        cmocka_unit_test(test_log_and_exit_code),
        cmocka_unit_test(test_port_wait_sees_exit),
        cmocka_unit_test(test_child_signal_defaults),
        cmocka_unit_test(test_new_group),
        cmocka_unit_test(test_which),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
