/* Node runtime: every sample of a 4-sensor topology reaches the cloud exactly
 * once over the in-process bus (also with drop-outs and lossy emulated
 * links), copies of a message are ignored, a restarted sensor replays only
 * its unacknowledged outbox, and bad input is refused. Messages the tests
 * inject are encoded here by hand from the wire format in node_impl.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <math.h>

#include "edgeai/node.h"

#define TINY EAI_SOURCE_DIR "/tests/node/tiny.json"

static eai_topo_t *load_text(const char *from, const char *to)
{
    FILE *f = fopen(TINY, "rb");
    assert_non_null(f);
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (from) { /* one textual edit of the topology */
        char *p = strstr(buf, from);
        assert_non_null(p);
        char tmp[8192];
        snprintf(tmp, sizeof tmp, "%.*s%s%s", (int)(p - buf), buf, to, p + strlen(from));
        snprintf(buf, sizeof buf, "%s", tmp);
    }
    eai_topo_t *t = NULL;
    eai_status_t st = eai_topo_parse(buf, strlen(buf), NULL, &t);
    if (st != EAI_OK) fprintf(stderr, "%s\n", eai_last_error());
    assert_int_equal(st, EAI_OK);
    return t;
}

/* Reads a ledger file without its header line. */
static void read_ledger(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[256];
    buf[0] = '\0';
    while (fgets(line, sizeof line, f))
        if (line[0] != '#') strncat(buf, line, cap - strlen(buf) - 1);
    fclose(f);
}

static char *mkdir_tmp(char *buf)
{
    strcpy(buf, "/tmp/eai-node-test-XXXXXX");
    assert_non_null(mkdtemp(buf));
    return buf;
}

static void rm_dir(const char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* 4 sensors x 5 Hz x 2 s = 40 samples, cam-i seq 0..9, each at the cloud once. */
static const char k_all[] = "cam-0 0 9\ncam-1 0 9\ncam-2 0 9\ncam-3 0 9\n";

static void check_run(const eai_node_report_t *r)
{
    assert_true(r->complete);
    assert_int_equal(r->n_nodes, 8);
    assert_int_equal(r->expected, 40);
    assert_int_equal(r->generated, 40);
    assert_int_equal(r->at_root, 40);
    assert_int_equal(r->sample_dups, 0);
    assert_int_equal(r->root.samples, 40);
    assert_true(r->root_sum > 0);
    assert_true(fabs(r->root_sum - r->expected_sum) < 1e-9);
}

static void test_inproc_exactly_once(void **state)
{
    (void)state;
    eai_topo_t *t = load_text(NULL, NULL);
    char dir[64];
    mkdir_tmp(dir);
    eai_node_report_t r;
    eai_node_run_opts_t o = {.ledger_dir = dir};
    assert_int_equal(eai_node_run_inproc(t, &o, &r), EAI_OK);
    check_run(&r);
    assert_int_equal(r.resent, 0);
    assert_int_equal(r.duplicates, 0);
    /* hand-computed: the sum of the 40 values, each recomputed here */
    double sum = 0;
    for (int c = 0; c < 4; c++)
        for (int s = 0; s < 10; s++) {
            char nm[16];
            snprintf(nm, sizeof nm, "cam-%d", c);
            double v = eai_node_sample_value(3, nm, (uint64_t)s);
            assert_true(v >= 0 && v < 1);
            sum += v;
        }
    assert_true(fabs(r.expected_sum - sum) < 1e-12);
    char path[128], got[1024];
    snprintf(path, sizeof path, "%s/cloud-0.ledger", dir);
    read_ledger(path, got, sizeof got);
    assert_string_equal(got, k_all);
    /* gw-0 holds cam-0 and cam-1 (instance i of 4 under floor(i * 2 / 4)) */
    snprintf(path, sizeof path, "%s/gw-0.ledger", dir);
    read_ledger(path, got, sizeof got);
    assert_string_equal(got, "cam-0 0 9\ncam-1 0 9\n");
    rm_dir(dir);

    /* deterministic: a second run sends exactly the same messages */
    eai_node_report_t r2;
    assert_int_equal(eai_node_run_inproc(t, NULL, &r2), EAI_OK);
    assert_int_equal(r2.messages, r.messages);
    assert_true(r2.sim_s == r.sim_s);
    eai_topo_destroy(t);
}

static void test_inproc_dropouts(void **state)
{
    (void)state;
    eai_topo_t *t = load_text(NULL, NULL);
    char dir[64];
    mkdir_tmp(dir);
    eai_node_fault_t f[] = {{"gw-0", 0.5, 0.7}, {"cam-1", 1.0, 0.5}, {"regional-0", 1.5, 1.0}};
    eai_node_run_opts_t o = {.faults = f, .n_faults = 3, .ledger_dir = dir};
    eai_node_report_t r;
    assert_int_equal(eai_node_run_inproc(t, &o, &r), EAI_OK);
    check_run(&r);
    assert_true(r.resent > 0); /* messages sent into the outages came again */
    char path[128], got[1024];
    snprintf(path, sizeof path, "%s/cloud-0.ledger", dir);
    read_ledger(path, got, sizeof got);
    assert_string_equal(got, k_all);
    rm_dir(dir);
    eai_topo_destroy(t);
}

static void test_inproc_lossy_links(void **state)
{
    (void)state;
    /* 20% of the messages on the device->gateway link (both ways) are lost */
    eai_topo_t *t = load_text("\"bandwidth_mbps\": 100,  \"loss\": 0.0",
                              "\"bandwidth_mbps\": 100,  \"loss\": 0.2");
    eai_node_opts_t no = {.emulate_links = true, .resend_ms = 300};
    eai_node_run_opts_t o = {.node = &no};
    eai_node_report_t r;
    assert_int_equal(eai_node_run_inproc(t, &o, &r), EAI_OK);
    check_run(&r);
    assert_true(r.emu_dropped > 0);
    assert_true(r.resent > 0);
    /* the last sample (1.8 s) needs the uplink latencies there and back */
    assert_true(r.sim_s > 1.89);
    eai_topo_destroy(t);
}

/* ---- hand-encoded messages ---- */

typedef struct wbuf {
    uint8_t p[512];
    size_t n;
} wbuf_t;

static void w_le(wbuf_t *b, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        b->p[b->n++] = (uint8_t)(v >> (8 * i));
}
static void w_str(wbuf_t *b, const char *s)
{
    w_le(b, strlen(s), 2);
    memcpy(b->p + b->n, s, strlen(s));
    b->n += strlen(s);
}
static void w_f64(wbuf_t *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    w_le(b, u, 8);
}

/* A one-sample data message from `sender` (final 0), value v. */
static void data_msg(wbuf_t *b, const char *sender, uint64_t seq, double v)
{
    b->n = 0;
    memcpy(b->p, "EN1D", 4);
    b->n = 4;
    w_str(b, sender);
    w_le(b, seq, 8);
    w_le(b, 0, 8);
    w_le(b, 12345, 8);
    w_le(b, 1, 8);
    w_f64(b, v);
    w_f64(b, v);
    w_f64(b, v);
    w_le(b, 1, 4);
    w_str(b, sender);
    w_le(b, seq, 8);
    w_le(b, seq, 8);
    w_le(b, 3, 4);
    memcpy(b->p + b->n, "abc", 3);
    b->n += 3;
}

static void ack_msg(wbuf_t *b, const char *sender, const uint64_t *seqs, int k)
{
    b->n = 0;
    memcpy(b->p, "EN1A", 4);
    b->n = 4;
    w_str(b, sender);
    w_le(b, (uint64_t)k, 4);
    for (int i = 0; i < k; i++)
        w_le(b, seqs[i], 8);
}

static uint64_t r_le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* The seq of a data message (after magic and the sender string). */
static uint64_t data_seq(const eai_transport_msg_t *m)
{
    size_t sl = r_le(m->payload + 4, 2);
    return r_le(m->payload + 6 + sl, 8);
}

static void test_duplicates_ignored(void **state)
{
    (void)state;
    eai_topo_t *t = load_text(NULL, NULL);
    eai_bus_t *bus;
    eai_transport_t *ntr, *cam;
    assert_int_equal(eai_bus_create(NULL, &bus), EAI_OK);
    assert_int_equal(eai_transport_inproc(bus, &(eai_transport_opts_t){.client_id = "gw"}, &ntr),
                     EAI_OK);
    assert_int_equal(eai_transport_inproc(bus, &(eai_transport_opts_t){.client_id = "c"}, &cam),
                     EAI_OK);
    assert_int_equal(eai_transport_subscribe(cam, "edgeai/node/tiny/device/ack/cam-0", 1), EAI_OK);
    eai_node_t *gw;
    assert_int_equal(eai_node_create(t, ntr, &(eai_node_opts_t){.name = "gw-0"}, &gw), EAI_OK);
    assert_int_equal(eai_node_n_children(gw), 2);
    wbuf_t b;
    data_msg(&b, "cam-0", 0, 0.25);
    const char *up = "edgeai/node/tiny/gateway/up/gw-0";
    for (int i = 0; i < 3; i++) /* QoS 1 redelivery: the same message three times */
        assert_int_equal(eai_transport_publish(cam, up, b.p, b.n, 1, false), EAI_OK);
    data_msg(&b, "cam-0", 1, 0.5);
    assert_int_equal(eai_transport_publish(cam, up, b.p, b.n, 1, false), EAI_OK);
    /* not a child of gw-0, and garbage: both dropped */
    data_msg(&b, "cam-3", 0, 0.75);
    assert_int_equal(eai_transport_publish(cam, up, b.p, b.n, 1, false), EAI_OK);
    assert_int_equal(eai_transport_publish(cam, up, "EN1Dxx", 6, 1, false), EAI_OK);
    data_msg(&b, "cam-1", 0, 0.5);
    b.n -= 2; /* truncated payload */
    assert_int_equal(eai_transport_publish(cam, up, b.p, b.n, 1, false), EAI_OK);
    assert_int_equal(eai_node_step(gw, 0.01, 0), EAI_OK);

    eai_node_ledger_t l;
    eai_node_get_ledger(gw, &l);
    assert_int_equal(l.received, 2);
    assert_int_equal(l.duplicates, 2);
    assert_int_equal(l.samples, 2);
    assert_int_equal(l.sample_dups, 0);
    assert_true(fabs(l.sum - 0.75) < 1e-15);
    assert_true(eai_node_has_sample(gw, "cam-0", 0));
    assert_true(eai_node_has_sample(gw, "cam-0", 1));
    assert_false(eai_node_has_sample(gw, "cam-3", 0));
    assert_false(eai_node_has_sample(gw, "cam-1", 0));
    /* every copy is acknowledged (one ack message listing 0, 0, 0, 1) */
    eai_transport_msg_t m;
    assert_int_equal(eai_transport_recv(cam, 0, &m), EAI_OK);
    assert_memory_equal(m.payload, "EN1A", 4);
    assert_int_equal(r_le(m.payload + 4 + 2 + 4, 4), 4);
    assert_int_equal(r_le(m.payload + 14 + 24, 8), 1);
    assert_int_equal(eai_transport_recv(cam, 0, &m), EAI_E_TIMEOUT);
    assert_false(eai_node_done(gw));

    eai_node_destroy(gw, true);
    eai_transport_destroy(ntr);
    eai_transport_destroy(cam);
    eai_bus_destroy(bus);
    eai_topo_destroy(t);
}

static void test_custom_prefix(void **state)
{
    (void)state;
    eai_topo_t *t = load_text(NULL, NULL);
    eai_bus_t *bus;
    eai_transport_t *ntr, *cam;
    assert_int_equal(eai_bus_create(NULL, &bus), EAI_OK);
    assert_int_equal(eai_transport_inproc(bus, NULL, &ntr), EAI_OK);
    assert_int_equal(eai_transport_inproc(bus, NULL, &cam), EAI_OK);
    eai_node_t *gw = NULL;
    assert_int_equal(
        eai_node_create(t, ntr, &(eai_node_opts_t){.name = "gw-1", .prefix = "a/#"}, &gw),
        EAI_E_INVALID);
    assert_int_equal(
        eai_node_create(t, ntr, &(eai_node_opts_t){.name = "gw-1", .prefix = "site/7"}, &gw),
        EAI_OK);
    wbuf_t b;
    data_msg(&b, "cam-2", 0, 0.5);
    assert_int_equal(
        eai_transport_publish(cam, "edgeai/node/tiny/gateway/up/gw-1", b.p, b.n, 1, false), EAI_OK);
    assert_int_equal(eai_transport_publish(cam, "site/7/gateway/up/gw-1", b.p, b.n, 1, false),
                     EAI_OK);
    assert_int_equal(eai_node_step(gw, 0, 0), EAI_OK);
    eai_node_ledger_t l;
    eai_node_get_ledger(gw, &l);
    assert_int_equal(l.received, 1); /* only the message under its own prefix */
    eai_node_destroy(gw, true);
    eai_transport_destroy(ntr);
    eai_transport_destroy(cam);
    eai_bus_destroy(bus);
    eai_topo_destroy(t);
}

static void test_restart_replays_unacked(void **state)
{
    (void)state;
    eai_topo_t *t = load_text(NULL, NULL);
    char dir[64];
    mkdir_tmp(dir);
    eai_bus_t *bus;
    eai_transport_t *ntr, *gw;
    assert_int_equal(eai_bus_create(NULL, &bus), EAI_OK);
    assert_int_equal(eai_transport_inproc(bus, &(eai_transport_opts_t){.client_id = "gw"}, &gw),
                     EAI_OK);
    assert_int_equal(eai_transport_subscribe(gw, "edgeai/node/tiny/gateway/up/gw-0", 1), EAI_OK);
    assert_int_equal(eai_transport_inproc(bus, &(eai_transport_opts_t){.client_id = "c0"}, &ntr),
                     EAI_OK);
    eai_node_opts_t no = {.name = "cam-0", .state_dir = dir, .resend_ms = 10000};
    eai_node_t *cam;
    assert_int_equal(eai_node_create(t, ntr, &no, &cam), EAI_OK);
    /* 5 Hz: samples at 0, 0.2, 0.4 */
    assert_int_equal(eai_node_step(cam, 0.0, 0), EAI_OK);
    assert_int_equal(eai_node_step(cam, 0.2, 0), EAI_OK);
    assert_int_equal(eai_node_step(cam, 0.4, 0), EAI_OK);
    eai_transport_msg_t m;
    for (uint64_t s = 0; s < 3; s++) {
        assert_int_equal(eai_transport_recv(gw, 0, &m), EAI_OK);
        assert_int_equal(data_seq(&m), s);
    }
    assert_int_equal(eai_transport_recv(gw, 0, &m), EAI_E_TIMEOUT);
    wbuf_t b;
    uint64_t acked[] = {0, 1};
    ack_msg(&b, "gw-0", acked, 2);
    assert_int_equal(
        eai_transport_publish(gw, "edgeai/node/tiny/device/ack/cam-0", b.p, b.n, 1, false), EAI_OK);
    assert_int_equal(eai_node_step(cam, 0.41, 0), EAI_OK);
    eai_node_ledger_t l;
    eai_node_get_ledger(cam, &l);
    assert_int_equal(l.acked, 2);
    assert_int_equal(l.delivered, 2);
    /* kill -9 */
    eai_node_destroy(cam, true);
    eai_transport_destroy(ntr);

    assert_int_equal(eai_transport_inproc(bus, &(eai_transport_opts_t){.client_id = "c0"}, &ntr),
                     EAI_OK);
    assert_int_equal(eai_node_create(t, ntr, &no, &cam), EAI_OK);
    assert_int_equal(eai_node_step(cam, 5.0, 0), EAI_OK);
    /* only seq 2 comes again, then the next new sample, seq 3 (not 0) */
    assert_int_equal(eai_transport_recv(gw, 0, &m), EAI_OK);
    assert_int_equal(data_seq(&m), 2);
    assert_int_equal(eai_transport_recv(gw, 0, &m), EAI_OK);
    assert_int_equal(data_seq(&m), 3);
    assert_int_equal(eai_transport_recv(gw, 0, &m), EAI_E_TIMEOUT);
    eai_node_get_ledger(cam, &l);
    assert_int_equal(l.restarts, 1);
    assert_int_equal(l.generated, 4);
    assert_int_equal(l.acked, 2);
    assert_int_equal(l.resent, 1);
    eai_node_destroy(cam, false);
    eai_transport_destroy(ntr);

    /* a corrupt state file is refused with a clear error */
    char path[128];
    snprintf(path, sizeof path, "%s/cam-0.state", dir);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 20, SEEK_SET);
    fputc('X', f);
    fclose(f);
    assert_int_equal(truncate(path, 60), 0);
    assert_int_equal(eai_transport_inproc(bus, &(eai_transport_opts_t){.client_id = "c0"}, &ntr),
                     EAI_OK);
    assert_int_equal(eai_node_create(t, ntr, &no, &cam), EAI_E_FORMAT);
    assert_non_null(strstr(eai_last_error(), "corrupt node state"));
    eai_transport_destroy(ntr);

    eai_transport_destroy(gw);
    eai_bus_destroy(bus);
    rm_dir(dir);
    eai_topo_destroy(t);
}

static void test_bad_input(void **state)
{
    (void)state;
    eai_topo_t *t = load_text(NULL, NULL);
    eai_bus_t *bus;
    eai_transport_t *tr;
    assert_int_equal(eai_bus_create(NULL, &bus), EAI_OK);
    assert_int_equal(eai_transport_inproc(bus, NULL, &tr), EAI_OK);
    eai_node_t *n = NULL;
    const char *bad[] = {"nope-0", "gw-2", "gw-x", "gw-01", "gw", "-0", "gw-"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(eai_node_create(t, tr, &(eai_node_opts_t){.name = bad[i]}, &n),
                         EAI_E_INVALID);
        assert_null(n);
    }
    assert_non_null(strstr(eai_last_error(), "gw-"));
    assert_int_equal(eai_node_create(t, tr, &(eai_node_opts_t){.name = "nope-0"}, &n),
                     EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "groups: cam, gw, regional, cloud"));
    assert_int_equal(eai_node_create(t, tr, &(eai_node_opts_t){0}, &n), EAI_E_INVALID);
    assert_int_equal(
        eai_node_create(t, tr, &(eai_node_opts_t){.name = "gw-0", .outbox_max = 5000}, &n),
        EAI_E_INVALID);
    assert_int_equal(
        eai_node_create(t, tr, &(eai_node_opts_t){.name = "cam-0", .state_dir = "/nonexistent/x"},
                        &n),
        EAI_OK);
    /* a state folder that does not exist fails at the first save */
    assert_int_equal(eai_node_step(n, 0, 0), EAI_E_IO);
    eai_node_destroy(n, true);
    eai_node_fault_t f = {"gw-7", 1, 1};
    eai_node_report_t r;
    assert_int_equal(
        eai_node_run_inproc(t, &(eai_node_run_opts_t){.faults = &f, .n_faults = 1}, &r),
        EAI_E_INVALID);
    assert_int_equal(eai_node_expected_samples(t, "cam-3", 0), 10);
    assert_int_equal(eai_node_expected_samples(t, "gw-1", 0), 0);
    assert_int_equal(eai_node_expected_samples(t, "cam-4", 0), -1);
    char nm[16];
    assert_int_equal(eai_node_count(t), 8);
    assert_int_equal(eai_node_name_at(t, 5, nm, sizeof nm), EAI_OK);
    assert_string_equal(nm, "gw-1");
    assert_int_equal(eai_node_name_at(t, 8, nm, sizeof nm), EAI_E_INVALID);
    assert_int_equal(eai_node_name_at(t, 0, nm, 3), EAI_E_INVALID);
    eai_transport_destroy(tr);
    eai_bus_destroy(bus);
    eai_topo_destroy(t);
}

static bool file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

static void test_broker_conf(void **state)
{
    (void)state;
    eai_topo_t *t = load_text(NULL, NULL);
    char dir[64], path[128];
    mkdir_tmp(dir);
    snprintf(path, sizeof path, "%s/device.conf", dir);
    assert_int_equal(eai_node_write_broker_conf(t, EAI_TOPO_DEVICE, NULL, 20001, 20002, dir, path),
                     EAI_OK);
    assert_true(file_has(path, "listener 20001 127.0.0.1\n"));
    assert_true(file_has(path, "address 127.0.0.1:20002\n"));
    assert_true(file_has(path, "topic edgeai/node/tiny/gateway/up/# out 1\n"));
    assert_true(file_has(path, "topic edgeai/node/tiny/cloud/up/# out 1\n"));
    assert_true(file_has(path, "topic edgeai/node/tiny/device/ack/# in 1\n"));
    assert_false(file_has(path, "device/up"));
    assert_false(file_has(path, "gateway/ack"));
    snprintf(path, sizeof path, "%s/cloud.conf", dir);
    assert_int_equal(eai_node_write_broker_conf(t, EAI_TOPO_CLOUD, "p/q", 20004, 0, dir, path),
                     EAI_OK);
    assert_false(file_has(path, "connection"));
    assert_int_equal(eai_node_write_broker_conf(t, EAI_TOPO_CLOUD, NULL, 0, 0, dir, path),
                     EAI_E_INVALID);
    char pre[64];
    assert_int_equal(eai_node_default_prefix(t, pre, sizeof pre), EAI_OK);
    assert_string_equal(pre, "edgeai/node/tiny");
    assert_int_equal(eai_node_default_prefix(t, pre, 8), EAI_E_INVALID);
    rm_dir(dir);
    eai_topo_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inproc_exactly_once),     cmocka_unit_test(test_inproc_dropouts),
        cmocka_unit_test(test_inproc_lossy_links),      cmocka_unit_test(test_duplicates_ignored),
        cmocka_unit_test(test_restart_replays_unacked), cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_custom_prefix),           cmocka_unit_test(test_broker_conf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
