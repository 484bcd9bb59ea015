/* MQTT transport against a real mosquitto on a free loopback port (started
 * by the broker helper; every test is skipped when the mosquitto executable
 * is absent): a multi-chunk FL update at QoS 1, a retained manifest for a late
 * joiner, the last will of a SIGKILLed child, a broker restart mid-stream
 * that loses nothing, and clean errors. Every wait is bounded. */
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "edgeai/broker.h"
#include "edgeai/flmsg.h"
#include "edgeai/transport.h"

static eai_broker_t *broker;

static int start_broker(void **state)
{
    eai_status_t st = eai_broker_start(NULL, &broker);
    if (st == EAI_E_UNAVAILABLE) {
        print_message("mosquitto not found: MQTT tests skipped (%s)\n", eai_last_error());
        broker = NULL;
        return 0;
    }
    if (st != EAI_OK) {
        print_error("broker: %s\n", eai_last_error());
        return -1;
    }
    return 0;
}

static int stop_broker(void **state)
{
    eai_broker_destroy(broker);
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static eai_transport_t *client(const char *name, const eai_transport_opts_t *base)
{
    eai_transport_opts_t o = base ? *base : (eai_transport_opts_t){0};
    char id[64];
    snprintf(id, sizeof id, "%s-%d", name, (int)getpid());
    o.client_id = id;
    o.reconnect_max_s = 2;
    eai_transport_t *t = NULL;
    eai_status_t st = eai_transport_mqtt("127.0.0.1", eai_broker_port(broker), &o, &t);
    if (st != EAI_OK) fail_msg("connect %s: %s", id, eai_last_error());
    return t;
}

#define NEED_BROKER()                                                                              \
    do {                                                                                           \
        if (!broker) skip();                                                                       \
    } while (0)

static void test_fl_update_roundtrip(void **state)
{
    NEED_BROKER();
    eai_transport_t *srv = client("srv", NULL), *cli = client("cli", NULL);
    assert_int_equal(eai_transport_subscribe(srv, "edgeai/fl/t1/update/+", 1), EAI_OK);
    /* 200000 floats in 64 KiB chunks: 13 frames */
    enum { N = 200000 };
    float *w = malloc(N * sizeof *w);
    for (int i = 0; i < N; i++)
        w[i] = (float)(i % 977) * 0.001f - 0.5f;
    eai_flmsg_hdr_t h = {.type = EAI_FLMSG_UPDATE_CHUNK,
                         .round = 2,
                         .client = 3,
                         .sender = 3,
                         .n_samples = 1234,
                         .local_steps = 39,
                         .train_loss = 0.75};
    size_t chunk = 64 * 1024, cap = EAI_FLMSG_HEADER_BYTES + chunk, len;
    uint8_t *buf = malloc(cap);
    uint32_t nc = eai_flmsg_chunk_count((uint64_t)N * 4, chunk);
    assert_int_equal(nc, 13);
    for (uint32_t i = 0; i < nc; i++) {
        assert_int_equal(eai_flmsg_encode_floats(&h, w, N, chunk, i, buf, cap, &len), EAI_OK);
        assert_int_equal(eai_transport_publish(cli, "edgeai/fl/t1/update/3", buf, len, 1, false),
                         EAI_OK);
    }
    assert_int_equal(eai_transport_flush(cli, 10000), EAI_OK);
    eai_flmsg_asm_t *a;
    assert_int_equal(eai_flmsg_asm_create(NULL, &a), EAI_OK);
    bool done = false;
    eai_flmsg_msg_t m;
    double t0 = now_s();
    while (!done && now_s() - t0 < 10) {
        eai_transport_msg_t tm;
        if (eai_transport_recv(srv, 1000, &tm) != EAI_OK) continue;
        assert_int_equal(tm.qos, 1);
        assert_int_equal(eai_flmsg_asm_add(a, tm.payload, tm.n_bytes, &m, &done), EAI_OK);
    }
    assert_true(done);
    assert_int_equal(m.n_bytes, (size_t)N * 4);
    assert_int_equal(m.hdr.n_samples, 1234);
    assert_int_equal(m.hdr.local_steps, 39);
    assert_true(m.hdr.train_loss == 0.75);
    float *back = malloc(N * sizeof *back);
    eai_flmsg_get_floats(m.data, N, back);
    for (int i = 0; i < N; i++)
        if (back[i] != (float)(i % 977) * 0.001f - 0.5f) fail_msg("float %d differs", i);
    free(back);
    eai_flmsg_asm_destroy(a);
    free(buf);
    free(w);
    assert_int_equal(eai_transport_disconnect(cli), EAI_OK);
    assert_int_equal(eai_transport_disconnect(srv), EAI_OK);
    eai_transport_destroy(cli);
    eai_transport_destroy(srv);
}

static void test_retained_manifest_late_joiner(void **state)
{
    NEED_BROKER();
    eai_transport_t *srv = client("srv2", NULL);
    eai_flmsg_hdr_t h = {
        .type = EAI_FLMSG_MODEL_MANIFEST, .round = 5, .client = EAI_FLMSG_BROADCAST};
    uint8_t frame[128];
    size_t len;
    assert_int_equal(eai_flmsg_encode(&h, "manifest", 8, 0, 0, frame, sizeof frame, &len), EAI_OK);
    assert_int_equal(eai_transport_publish(srv, "edgeai/fl/t2/model/manifest", frame, len, 1, true),
                     EAI_OK);
    assert_int_equal(eai_transport_flush(srv, 5000), EAI_OK);
    eai_transport_t *late = client("late", NULL);
    assert_int_equal(eai_transport_subscribe(late, "edgeai/fl/t2/model/#", 1), EAI_OK);
    eai_transport_msg_t m;
    assert_int_equal(eai_transport_recv(late, 5000, &m), EAI_OK);
    assert_string_equal(m.topic, "edgeai/fl/t2/model/manifest");
    assert_true(m.retain);
    eai_flmsg_hdr_t d;
    const uint8_t *pl;
    assert_int_equal(eai_flmsg_decode(m.payload, m.n_bytes, &d, &pl), EAI_OK);
    assert_int_equal(d.type, EAI_FLMSG_MODEL_MANIFEST);
    assert_int_equal(d.round, 5);
    assert_memory_equal(pl, "manifest", 8);
    /* clear it so the broker's store is as before */
    assert_int_equal(eai_transport_publish(srv, "edgeai/fl/t2/model/manifest", NULL, 0, 1, true),
                     EAI_OK);
    assert_int_equal(eai_transport_flush(srv, 5000), EAI_OK);
    eai_transport_disconnect(srv);
    eai_transport_disconnect(late);
    eai_transport_destroy(srv);
    eai_transport_destroy(late);
}

static void test_last_will_on_kill(void **state)
{
    NEED_BROKER();
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    /* fork before this process starts any network thread */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        alarm(30); /* never outlive the test */
        eai_transport_opts_t o = {.will_topic = "edgeai/fl/t3/status/7",
                                  .will_payload = "lost",
                                  .will_bytes = 4,
                                  .will_qos = 1};
        char id[64];
        snprintf(id, sizeof id, "child-%d", (int)getpid());
        o.client_id = id;
        eai_transport_t *t;
        if (eai_transport_mqtt("127.0.0.1", eai_broker_port(broker), &o, &t) != EAI_OK) _exit(1);
        if (write(ready[1], "R", 1) != 1) _exit(1);
        for (;;)
            pause();
    }
    close(ready[1]);
    eai_transport_t *srv = client("srv3", NULL);
    assert_int_equal(eai_transport_subscribe(srv, "edgeai/fl/t3/status/+", 1), EAI_OK);
    struct pollfd pfd = {ready[0], POLLIN, 0};
    assert_int_equal(poll(&pfd, 1, 10000), 1);
    char c = 0;
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(c, 'R');
    close(ready[0]);
    kill(pid, SIGKILL);
    int stat;
    assert_int_equal(waitpid(pid, &stat, 0), pid);
    assert_true(WIFSIGNALED(stat));
    eai_transport_msg_t m;
    assert_int_equal(eai_transport_recv(srv, 10000, &m), EAI_OK);
    assert_string_equal(m.topic, "edgeai/fl/t3/status/7");
    assert_int_equal(m.n_bytes, 4);
    assert_memory_equal(m.payload, "lost", 4);
    eai_transport_disconnect(srv);
    eai_transport_destroy(srv);
}

/* Publisher and subscriber with persistent sessions. The subscriber's queue
 * holds 4 messages, so while the test does not read, the broker keeps the
 * rest of the stream for it. The broker is restarted after 50 messages; 50
 * more are published while it is down. Every message must arrive. */
static void test_broker_restart_mid_stream(void **state)
{
    NEED_BROKER();
    eai_transport_opts_t small = {.max_queue = 4};
    eai_transport_t *sub = client("rsub", &small), *pub = client("rpub", NULL);
    assert_int_equal(eai_transport_subscribe(sub, "edgeai/fl/t4/stream", 1), EAI_OK);
    enum { N = 100 };
    for (uint32_t i = 0; i < N / 2; i++)
        assert_int_equal(eai_transport_publish(pub, "edgeai/fl/t4/stream", &i, 4, 1, false),
                         EAI_OK);
    assert_int_equal(eai_transport_flush(pub, 10000), EAI_OK);
    assert_int_equal(eai_broker_stop(broker), EAI_OK);
    /* published while the broker is down: libmosquitto keeps them */
    for (uint32_t i = N / 2; i < N; i++)
        assert_int_equal(eai_transport_publish(pub, "edgeai/fl/t4/stream", &i, 4, 1, false),
                         EAI_OK);
    assert_int_equal(eai_transport_flush(pub, 100), EAI_E_TIMEOUT);
    assert_int_equal(eai_broker_restart(broker), EAI_OK);
    assert_int_equal(eai_transport_flush(pub, 20000), EAI_OK);
    bool seen[N] = {0};
    int n_seen = 0, n_msgs = 0;
    double t0 = now_s();
    while (n_seen < N && now_s() - t0 < 30) {
        eai_transport_msg_t m;
        if (eai_transport_recv(sub, 500, &m) != EAI_OK) continue;
        uint32_t v;
        assert_int_equal(m.n_bytes, 4);
        memcpy(&v, m.payload, 4);
        assert_true(v < N);
        n_msgs++;
        if (!seen[v]) n_seen++;
        seen[v] = true;
    }
    for (int i = 0; i < N; i++)
        if (!seen[i])
            fail_msg("message %d lost across the broker restart (%d of %d seen)", i, n_seen, N);
    print_message("restart: %d distinct of %d delivered (%d duplicates)\n", n_seen, n_msgs,
                  n_msgs - n_seen);
    assert_true(eai_transport_connected(sub));
    eai_transport_disconnect(pub);
    eai_transport_disconnect(sub);
    eai_transport_destroy(pub);
    eai_transport_destroy(sub);
}

static void test_errors(void **state)
{
    NEED_BROKER();
    eai_transport_t *t = NULL;
    /* nothing listens on the port the broker had before a stop */
    eai_broker_opts_t bo = {0};
    eai_broker_t *b2;
    assert_int_equal(eai_broker_start(&bo, &b2), EAI_OK);
    int dead_port = eai_broker_port(b2);
    eai_broker_destroy(b2);
    eai_transport_opts_t o = {.client_id = "nobody", .connect_timeout_ms = 500};
    double t0 = now_s();
    assert_int_equal(eai_transport_mqtt("127.0.0.1", dead_port, &o, &t), EAI_E_UNAVAILABLE);
    assert_true(now_s() - t0 < 5);
    assert_null(t);
    assert_non_null(strstr(eai_last_error(), "not connected"));
    o.client_id = NULL; /* a persistent session needs an id */
    assert_int_equal(eai_transport_mqtt("127.0.0.1", eai_broker_port(broker), &o, &t),
                     EAI_E_INVALID);
    assert_int_equal(eai_transport_mqtt("127.0.0.1", 0, &o, &t), EAI_E_INVALID);
    eai_broker_opts_t missing = {.exe = "/nonexistent/mosquitto"};
    assert_int_equal(eai_broker_start(&missing, &b2), EAI_E_UNAVAILABLE);
    /* a clean session without an id is fine; bad topics are refused */
    o.clean_session = true;
    o.connect_timeout_ms = 5000;
    assert_int_equal(eai_transport_mqtt("127.0.0.1", eai_broker_port(broker), &o, &t), EAI_OK);
    assert_int_equal(eai_transport_publish(t, "a/#", "x", 1, 1, false), EAI_E_INVALID);
    assert_int_equal(eai_transport_subscribe(t, "a/#/b", 1), EAI_E_INVALID);
    eai_transport_msg_t m;
    assert_int_equal(eai_transport_recv(t, 10, &m), EAI_E_TIMEOUT);
    eai_transport_disconnect(t);
    assert_int_equal(eai_transport_publish(t, "a", "x", 1, 1, false), EAI_E_STATE);
    eai_transport_destroy(t);
}

/* extra_conf: a child broker bridged to the global `broker` carries "b/up"
 * upward and "b/down" downward, and nothing else; a bad line fails start. */
static void test_bridge_extra_conf(void **state)
{
    NEED_BROKER();
    char conf[256];
    snprintf(conf, sizeof conf,
             "connection test-bridge\naddress 127.0.0.1:%d\ntopic b/up out 1\n"
             "topic b/down in 1\ncleansession true\nrestart_timeout 1\n",
             eai_broker_port(broker));
    eai_broker_opts_t bo = {.extra_conf = conf};
    eai_broker_t *child;
    assert_int_equal(eai_broker_start(&bo, &child), EAI_OK);
    eai_transport_opts_t o = {.clean_session = true};
    eai_transport_t *top, *low;
    o.client_id = "bridge-top";
    assert_int_equal(eai_transport_mqtt("127.0.0.1", eai_broker_port(broker), &o, &top), EAI_OK);
    o.client_id = "bridge-low";
    assert_int_equal(eai_transport_mqtt("127.0.0.1", eai_broker_port(child), &o, &low), EAI_OK);
    assert_int_equal(eai_transport_subscribe(top, "b/#", 1), EAI_OK);
    assert_int_equal(eai_transport_subscribe(low, "b/down", 1), EAI_OK);
    /* the bridge connects a moment after the child starts: retry the probe */
    eai_transport_msg_t m;
    bool up = false;
    for (int k = 0; k < 50 && !up; k++) {
        assert_int_equal(eai_transport_publish(low, "b/up", "u", 1, 1, false), EAI_OK);
        up = eai_transport_recv(top, 200, &m) == EAI_OK;
    }
    assert_true(up);
    assert_string_equal(m.topic, "b/up");
    bool down = false;
    for (int k = 0; k < 50 && !down; k++) {
        assert_int_equal(eai_transport_publish(top, "b/down", "d", 1, 1, false), EAI_OK);
        down = eai_transport_recv(low, 200, &m) == EAI_OK;
    }
    assert_true(down);
    assert_string_equal(m.topic, "b/down");
    /* a topic the bridge does not name stays on the child */
    while (eai_transport_recv(top, 300, &m) == EAI_OK) {
    }
    assert_int_equal(eai_transport_publish(low, "b/other", "o", 1, 1, false), EAI_OK);
    assert_int_equal(eai_transport_recv(top, 500, &m), EAI_E_TIMEOUT);
    eai_transport_destroy(top);
    eai_transport_destroy(low);
    eai_broker_destroy(child);
    eai_broker_opts_t bad = {.extra_conf = "no_such_option 1"};
    assert_int_equal(eai_broker_start(&bad, &child), EAI_E_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fl_update_roundtrip),
        cmocka_unit_test(test_retained_manifest_late_joiner),
        cmocka_unit_test(test_last_will_on_kill),
        cmocka_unit_test(test_broker_restart_mid_stream),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_bridge_extra_conf),
    };
    return cmocka_run_group_tests(tests, start_broker, stop_broker);
}
