/* In-process transport: pub/sub, MQTT topic matching (the spec's examples,
 * MQTT 3.1.1 §4.7), retained messages for late subscribers, the last will on
 * destroy without disconnect, queue bounds, and a producer thread. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "edgeai/transport.h"

static eai_transport_t *ep(eai_bus_t *b, const char *id)
{
    eai_transport_t *t = NULL;
    eai_transport_opts_t o = {.client_id = id};
    assert_int_equal(eai_transport_inproc(b, &o, &t), EAI_OK);
    return t;
}

static void expect_msg(eai_transport_t *t, const char *topic, const char *payload, bool retain)
{
    eai_transport_msg_t m;
    eai_status_t st = eai_transport_recv(t, 1000, &m);
    if (st != EAI_OK) fail_msg("expected %s: %s", topic, eai_last_error());
    assert_string_equal(m.topic, topic);
    assert_int_equal(m.n_bytes, strlen(payload));
    if (m.n_bytes) assert_memory_equal(m.payload, payload, m.n_bytes);
    assert_int_equal(m.retain, retain);
}

static void expect_none(eai_transport_t *t)
{
    eai_transport_msg_t m;
    eai_status_t st = eai_transport_recv(t, 0, &m);
    if (st != EAI_E_TIMEOUT) fail_msg("unexpected message on %s", st == EAI_OK ? m.topic : "?");
}

static void test_topic_match(void **state)
{
    static const struct {
        const char *f, *t;
        bool m;
    } c[] = {
        {"sport/tennis/player1/#", "sport/tennis/player1", true}, /* §4.7.1.2 */
        {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
        {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
        {"sport/#", "sport", true},
        {"#", "a/b/c", true},
        {"sport/tennis/+", "sport/tennis/player1", true}, /* §4.7.1.3 */
        {"sport/tennis/+", "sport/tennis/player1/ranking", false},
        {"sport/+", "sport", false},
        {"sport/+", "sport/", true},
        {"+/+", "/finance", true},
        {"/+", "/finance", true},
        {"+", "/finance", false},
        {"#", "$SYS/x", false}, /* §4.7.2 */
        {"+/monitor/Clients", "$SYS/monitor/Clients", false},
        {"$SYS/#", "$SYS/x", true},
        {"a/b", "a/b", true},
        {"a/b", "a/bc", false},
        {"a/bc", "a/b", false},
        {"a/b", "a/b/c", false},
        {"edgeai/fl/+/update/+", "edgeai/fl/run1/update/7", true},
        {"edgeai/fl/+/update/+", "edgeai/fl/run1/model/7", false},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        if (eai_topic_match(c[i].f, c[i].t) != c[i].m)
            fail_msg("\"%s\" vs \"%s\": expected %d", c[i].f, c[i].t, c[i].m);
    static const char *const bad_filters[] = {"", "a/#/b", "a#", "a/b+", "+a", "##"};
    for (size_t i = 0; i < sizeof bad_filters / sizeof bad_filters[0]; i++)
        assert_false(eai_topic_filter_valid(bad_filters[i]));
    assert_true(eai_topic_filter_valid("+/a/#"));
    assert_true(eai_topic_name_valid("a/b"));
    assert_false(eai_topic_name_valid("a/+"));
    assert_false(eai_topic_name_valid(""));
}

static void test_pubsub(void **state)
{
    eai_bus_t *b;
    assert_int_equal(eai_bus_create(NULL, &b), EAI_OK);
    eai_transport_t *a = ep(b, "a"), *c = ep(b, "c"), *d = ep(b, "d");
    assert_int_equal(eai_transport_subscribe(a, "x/+/z", 1), EAI_OK);
    assert_int_equal(eai_transport_subscribe(c, "x/#", 0), EAI_OK);
    assert_int_equal(eai_transport_publish(d, "x/y/z", "hello", 5, 1, false), EAI_OK);
    assert_int_equal(eai_transport_publish(d, "x/q", "w", 1, 1, false), EAI_OK);
    assert_int_equal(eai_transport_publish(d, "other", "n", 1, 1, false), EAI_OK);
    expect_msg(a, "x/y/z", "hello", false);
    expect_none(a);
    eai_transport_msg_t m;
    assert_int_equal(eai_transport_recv(c, 100, &m), EAI_OK);
    assert_int_equal(m.qos, 0); /* min(publish 1, subscription 0) */
    expect_msg(c, "x/q", "w", false);
    expect_none(c);
    expect_none(d);
    /* a subscribed publisher receives its own message; an empty payload */
    assert_int_equal(eai_transport_subscribe(d, "self", 1), EAI_OK);
    assert_int_equal(eai_transport_publish(d, "self", NULL, 0, 1, false), EAI_OK);
    assert_int_equal(eai_transport_recv(d, 100, &m), EAI_OK);
    assert_int_equal(m.n_bytes, 0);
    assert_null(m.payload);
    /* bad input: clear errors */
    assert_int_equal(eai_transport_publish(d, "a/+", "x", 1, 1, false), EAI_E_INVALID);
    assert_int_equal(eai_transport_publish(d, "", "x", 1, 1, false), EAI_E_INVALID);
    assert_int_equal(eai_transport_publish(d, "a", "x", 1, 2, false), EAI_E_INVALID);
    assert_int_equal(eai_transport_publish(d, "a", NULL, 1, 1, false), EAI_E_INVALID);
    assert_int_equal(eai_transport_subscribe(d, "a/#/b", 1), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "a/#/b"));
    assert_int_equal(eai_transport_recv(d, 20, &m), EAI_E_TIMEOUT);
    assert_int_equal(eai_transport_recv(NULL, 0, &m), EAI_E_INVALID);
    /* disconnected: publish refused, will dropped */
    assert_int_equal(eai_transport_disconnect(d), EAI_OK);
    assert_int_equal(eai_transport_publish(d, "x/y/z", "late", 4, 1, false), EAI_E_STATE);
    assert_false(eai_transport_connected(d));
    eai_transport_destroy(a);
    eai_transport_destroy(c);
    eai_transport_destroy(d);
    eai_bus_destroy(b);
}

static void test_retained(void **state)
{
    eai_bus_t *b;
    assert_int_equal(eai_bus_create(NULL, &b), EAI_OK);
    eai_transport_t *s = ep(b, "server");
    assert_int_equal(eai_transport_publish(s, "run/model", "v1", 2, 1, true), EAI_OK);
    assert_int_equal(eai_transport_publish(s, "run/model", "v2", 2, 1, true),
                     EAI_OK); /* replaces */
    assert_int_equal(eai_transport_publish(s, "run/gone", "g", 1, 1, true), EAI_OK);
    assert_int_equal(eai_transport_publish(s, "run/gone", NULL, 0, 1, true), EAI_OK); /* deletes */
    assert_int_equal(eai_transport_publish(s, "run/plain", "p", 1, 1, false), EAI_OK);
    /* a late joiner gets only the current retained message, flagged retained */
    eai_transport_t *late = ep(b, "late");
    assert_int_equal(eai_transport_subscribe(late, "run/#", 1), EAI_OK);
    expect_msg(late, "run/model", "v2", true);
    expect_none(late);
    /* live messages to a subscriber are not flagged, even when retained */
    assert_int_equal(eai_transport_publish(s, "run/model", "v3", 2, 1, true), EAI_OK);
    expect_msg(late, "run/model", "v3", false);
    eai_transport_destroy(late);
    eai_transport_destroy(s);
    eai_bus_destroy(b);
}

static void test_last_will(void **state)
{
    eai_bus_t *b;
    assert_int_equal(eai_bus_create(NULL, &b), EAI_OK);
    eai_transport_t *srv = ep(b, "server");
    assert_int_equal(eai_transport_subscribe(srv, "status/+", 1), EAI_OK);
    eai_transport_opts_t o = {.client_id = "c1",
                              .will_topic = "status/c1",
                              .will_payload = "dead",
                              .will_bytes = 4,
                              .will_qos = 1,
                              .will_retain = true};
    eai_transport_t *c1, *c2;
    assert_int_equal(eai_transport_inproc(b, &o, &c1), EAI_OK);
    o.client_id = "c2";
    o.will_topic = "status/c2";
    assert_int_equal(eai_transport_inproc(b, &o, &c2), EAI_OK);
    eai_transport_destroy(c1); /* "crash": no disconnect */
    expect_msg(srv, "status/c1", "dead", false);
    assert_int_equal(eai_transport_disconnect(c2), EAI_OK);
    eai_transport_destroy(c2); /* clean: no will */
    expect_none(srv);
    /* the will was retained: a later watcher learns c1 is gone */
    eai_transport_t *w = ep(b, "watcher");
    assert_int_equal(eai_transport_subscribe(w, "status/#", 1), EAI_OK);
    expect_msg(w, "status/c1", "dead", true);
    expect_none(w);
    eai_transport_destroy(w);
    eai_transport_destroy(srv);
    /* a bad will topic is refused at creation */
    o.will_topic = "status/#";
    eai_transport_t *bad = NULL;
    assert_int_equal(eai_transport_inproc(b, &o, &bad), EAI_E_INVALID);
    assert_null(bad);
    eai_bus_destroy(b);
}

static void test_queue_bounds(void **state)
{
    eai_bus_t *b;
    assert_int_equal(eai_bus_create(NULL, &b), EAI_OK);
    eai_transport_opts_t o = {.client_id = "small", .max_queue = 2, .op_timeout_ms = 50};
    eai_transport_t *r, *p = ep(b, "p");
    assert_int_equal(eai_transport_inproc(b, &o, &r), EAI_OK);
    assert_int_equal(eai_transport_subscribe(r, "q0", 0), EAI_OK);
    assert_int_equal(eai_transport_subscribe(r, "q1", 1), EAI_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(eai_transport_publish(p, "q0", "x", 1, 0, false), EAI_OK);
    assert_int_equal(eai_transport_dropped(r), 1); /* QoS 0: dropped when full */
    assert_int_equal(eai_transport_publish(p, "q1", "y", 1, 1, false), EAI_E_TIMEOUT);
    assert_non_null(strstr(eai_last_error(), "small"));
    expect_msg(r, "q0", "x", false);
    assert_int_equal(eai_transport_publish(p, "q1", "y", 1, 1, false), EAI_OK);
    expect_msg(r, "q0", "x", false);
    expect_msg(r, "q1", "y", false);
    expect_none(r);
    eai_transport_destroy(r);
    eai_transport_destroy(p);
    eai_bus_destroy(b);
}

enum { N_MSG = 2000 };

static void *producer(void *arg)
{
    eai_transport_t *p = arg;
    for (uint32_t i = 0; i < N_MSG; i++)
        if (eai_transport_publish(p, "seq", &i, sizeof i, 1, false) != EAI_OK) return (void *)1;
    return NULL;
}

static void test_threads_in_order(void **state)
{
    eai_bus_t *b;
    assert_int_equal(eai_bus_create(NULL, &b), EAI_OK);
    /* a queue far smaller than the stream: the producer waits for room */
    eai_transport_opts_t o = {.client_id = "r", .max_queue = 8};
    eai_transport_t *r, *p = ep(b, "p");
    assert_int_equal(eai_transport_inproc(b, &o, &r), EAI_OK);
    assert_int_equal(eai_transport_subscribe(r, "seq", 1), EAI_OK);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, producer, p), 0);
    for (uint32_t i = 0; i < N_MSG; i++) {
        eai_transport_msg_t m;
        assert_int_equal(eai_transport_recv(r, 5000, &m), EAI_OK);
        uint32_t v;
        assert_int_equal(m.n_bytes, 4);
        memcpy(&v, m.payload, 4);
        assert_int_equal(v, i);
    }
    void *rc;
    pthread_join(th, &rc);
    assert_null(rc);
    eai_transport_destroy(r);
    eai_transport_destroy(p);
    eai_bus_destroy(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topic_match),  cmocka_unit_test(test_pubsub),
        cmocka_unit_test(test_retained),     cmocka_unit_test(test_last_will),
        cmocka_unit_test(test_queue_bounds), cmocka_unit_test(test_threads_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
