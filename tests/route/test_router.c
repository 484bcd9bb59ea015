/* The router against a real cloud: an in-process KServe v2 server
 * (edgeai/serve.h) on a free loopback port. The edge is the trained Fashion
 * CNN, the "cloud" the untrained cnn_fmnist, so a cloud answer is told apart
 * from an edge answer by comparing with each model run locally. Then the
 * server is stopped and restarted under an injected clock to walk the
 * breaker through closed -> open -> half_open -> closed, and a socket that
 * never answers shows the timeout bound. */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "edgeai/dataset.h"
#include "edgeai/router.h"
#include "edgeai/serve.h"
#include "edgeai/session.h"

#define EDGE  EAI_SOURCE_DIR "/models/fashion/fashion_cnn.onnx"
#define CLOUD EAI_SOURCE_DIR "/models/train/cnn_fmnist.onnx"
#define DATA                                                                                       \
    "npy:" EAI_SOURCE_DIR "/models/fashion/test_batch.npy," EAI_SOURCE_DIR                         \
    "/models/fashion/test_labels.npy"
#define N_SAMPLES 64

long eai__test_fail_alloc(long n); /* src/core/alloc.c */

typedef struct fix {
    eai_server_t *srv;
    int port;
    char url[64];
    eai_dataset_t *ds;
    int edge_cls[N_SAMPLES], cloud_cls[N_SAMPLES];
    float edge_conf[N_SAMPLES];
} fix_t;

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t n = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &n) != 0)
        return -1;
    close(fd);
    return ntohs(a.sin_port);
}

/* Argmax and softmax max of every sample under `path`, run locally. */
static void local_answers(const char *path, eai_dataset_t *ds, int *cls, float *conf)
{
    eai_model_t *m;
    eai_session_t *s;
    assert_int_equal(eai_model_load(path, NULL, &m), EAI_OK);
    assert_int_equal(eai_session_create(m, NULL, &s), EAI_OK);
    for (int i = 0; i < N_SAMPLES; i++) {
        const float *o;
        assert_int_equal(eai_session_set_input(s, 0, eai_dataset_x(ds, i), 784 * sizeof(float)),
                         EAI_OK);
        assert_int_equal(eai_session_invoke(s), EAI_OK);
        assert_int_equal(eai_session_get_output(s, 0, (const void **)&o, NULL), EAI_OK);
        int am = 0;
        for (int j = 1; j < 10; j++)
            if (o[j] > o[am]) am = j;
        double sum = 0;
        for (int j = 0; j < 10; j++)
            sum += exp((double)o[j] - o[am]);
        cls[i] = am;
        if (conf) conf[i] = (float)(1 / sum);
    }
    eai_session_destroy(s);
    eai_model_destroy(m);
}

static int setup(void **state)
{
    static fix_t f;
    memset(&f, 0, sizeof f);
    eai_dataset_opts_t dopts = {.max_samples = N_SAMPLES};
    if (eai_dataset_load(DATA, &dopts, &f.ds) != EAI_OK) return -1;
    local_answers(EDGE, f.ds, f.edge_cls, f.edge_conf);
    local_answers(CLOUD, f.ds, f.cloud_cls, NULL);
    f.port = free_port();
    eai_serve_model_t m = {.name = "cloud", .path = CLOUD};
    eai_server_opts_t o = {.port = f.port, .models = &m, .n_models = 1, .quiet = true};
    if (f.port <= 0 || eai_server_create(&o, &f.srv) != EAI_OK ||
        eai_server_start(f.srv) != EAI_OK) {
        fprintf(stderr, "setup: %s\n", eai_last_error());
        return -1;
    }
    snprintf(f.url, sizeof f.url, "http://127.0.0.1:%d", f.port);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fix_t *f = *state;
    eai_server_destroy(f->srv);
    eai_dataset_destroy(f->ds);
    return 0;
}

static eai_router_opts_t base_opts(const fix_t *f)
{
    return (eai_router_opts_t){
        .edge_path = EDGE,
        .cloud_url = f->url,
        .cloud_model = "cloud",
        .cloud_input_name = "input", /* cnn_fmnist's names differ from the edge's */
        .cloud_output_name = "output",
        .timeout_ms = 2000, /* generous: this machine is shared; failures are tested below */
    };
}

/* Both wire formats (binary tensor data, the default, and plain JSON) give
 * the same answers; binary sends fewer bytes. */
static void test_confident_edge_else_cloud(void **state)
{
    fix_t *f = *state;
    int64_t sent[2] = {0, 0};
    for (int wire = 0; wire < 2; wire++) {
        eai_router_opts_t o = base_opts(f);
        o.threshold = 0.99f;
        o.json_wire = wire == 1;
        eai_router_t *r;
        assert_int_equal(eai_router_create(&o, &r), EAI_OK);
        int n_edge = 0, n_cloud = 0;
        for (int i = 0; i < N_SAMPLES; i++) {
            eai_route_result_t res;
            assert_int_equal(eai_router_infer(r, eai_dataset_x(f->ds, i), 784, &res), EAI_OK);
            assert_int_equal(res.edge_cls, f->edge_cls[i]);
            assert_float_equal(res.edge_confidence, f->edge_conf[i], 1e-4f);
            assert_true(res.edge_us > 0);
            assert_int_equal(res.breaker, EAI_BREAKER_CLOSED);
            if (f->edge_conf[i] >= 0.99f) {
                assert_int_equal(res.tier, EAI_ROUTE_EDGE);
                assert_int_equal(res.cls, f->edge_cls[i]);
                assert_int_equal(res.cloud_attempts, 0);
                assert_int_equal(res.bytes_sent, 0);
                n_edge++;
            } else {
                assert_int_equal(res.tier, EAI_ROUTE_CLOUD);
                assert_int_equal(res.cls, f->cloud_cls[i]);
                assert_int_equal(res.cloud_cls, f->cloud_cls[i]);
                assert_int_equal(res.cloud_attempts, 1);
                assert_int_equal(res.cloud_status, EAI_OK);
                /* 784 floats: 3,136 bytes as binary data plus a short JSON
                 * header, or several kB of JSON text; a short answer back */
                assert_true(res.bytes_sent > 784 * 4);
                if (!o.json_wire) assert_true(res.bytes_sent < 784 * 4 + 1024);
                assert_true(res.bytes_received > 50);
                assert_true(res.cloud_us > 0);
                sent[wire] += res.bytes_sent;
                n_cloud++;
            }
        }
        /* The test batch has both kinds at 0.99, else the test proves nothing. */
        assert_true(n_edge > 0 && n_cloud > 0);
        /* The cloud model disagrees with the edge on some sample it answered. */
        int differ = 0;
        for (int i = 0; i < N_SAMPLES; i++)
            differ += f->edge_conf[i] < 0.99f && f->edge_cls[i] != f->cloud_cls[i];
        assert_true(differ > 0);
        eai_route_result_t c;
        assert_int_equal(eai_router_cloud_only(r, eai_dataset_x(f->ds, 0), 784, &c), EAI_OK);
        assert_int_equal(c.cls, f->cloud_cls[0]);
        eai_router_destroy(r);
    }
    assert_true(sent[0] < sent[1]);
}

typedef struct log_rec {
    int n;
    eai_breaker_state_t from[16], to[16];
    int64_t t[16];
} log_rec_t;

static void rec(void *user, const eai_breaker_event_t *ev)
{
    log_rec_t *l = user;
    if (l->n < 16) {
        l->from[l->n] = ev->from;
        l->to[l->n] = ev->to;
        l->t[l->n] = ev->t_us;
    }
    l->n++;
}

static int64_t fake_now;
static int64_t fake_clock(void *u)
{
    (void)u;
    return fake_now;
}

static void test_cloud_down_fallback_and_recovery(void **state)
{
    fix_t *f = *state;
    log_rec_t l = {0};
    eai_router_opts_t o = base_opts(f);
    o.threshold = 2.0f; /* always offload */
    o.timeout_ms = 500;
    o.breaker_failures = 2;
    o.breaker_cooldown_ms = 1000; /* on the fake clock */
    o.on_breaker = rec;
    o.user = &l;
    o.clock_us = fake_clock;
    fake_now = 1000000;
    eai_router_t *r;
    assert_int_equal(eai_router_create(&o, &r), EAI_OK);
    const float *x = eai_dataset_x(f->ds, 3);
    eai_route_result_t res;
    assert_int_equal(eai_router_infer(r, x, 784, &res), EAI_OK);
    assert_int_equal(res.tier, EAI_ROUTE_CLOUD);
    assert_int_equal(res.cls, f->cloud_cls[3]);

    eai_server_stop(f->srv);
    /* Refused connections: fallback with the edge answer, 1 + 1 retry attempts. */
    for (int k = 0; k < 2; k++) {
        fake_now += 1000;
        assert_int_equal(eai_router_infer(r, x, 784, &res), EAI_OK);
        assert_int_equal(res.tier, EAI_ROUTE_EDGE_FALLBACK);
        assert_int_equal(res.cls, f->edge_cls[3]);
        assert_int_equal(res.cloud_attempts, 2);
        assert_int_not_equal(res.cloud_status, EAI_OK);
        assert_true(res.cloud_us < 2 * 500000 + 10000 + 500000); /* bounded */
    }
    assert_int_equal(res.breaker, EAI_BREAKER_OPEN);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.to[0], EAI_BREAKER_OPEN);
    assert_int_equal(l.t[0], fake_now);
    /* Open: no attempt at all during the cool-down. */
    fake_now += 999000;
    assert_int_equal(eai_router_infer(r, x, 784, &res), EAI_OK);
    assert_int_equal(res.tier, EAI_ROUTE_EDGE_FALLBACK);
    assert_int_equal(res.cloud_attempts, 0);
    assert_int_equal(res.cloud_us, 0);

    /* Cool-down over but the cloud still down: the probe fails (one attempt,
     * no retry) and the breaker re-opens. */
    fake_now += 1000;
    assert_int_equal(eai_router_infer(r, x, 784, &res), EAI_OK);
    assert_int_equal(res.tier, EAI_ROUTE_EDGE_FALLBACK);
    assert_int_equal(res.cloud_attempts, 1);
    assert_int_equal(res.breaker, EAI_BREAKER_OPEN);
    assert_int_equal(l.n, 3);

    /* Cloud back, next cool-down over: the probe succeeds and closes it. */
    assert_int_equal(eai_server_start(f->srv), EAI_OK);
    assert_int_equal(eai_server_port(f->srv), f->port);
    fake_now += 1000000;
    assert_int_equal(eai_router_infer(r, x, 784, &res), EAI_OK);
    assert_int_equal(res.tier, EAI_ROUTE_CLOUD);
    assert_int_equal(res.cls, f->cloud_cls[3]);
    assert_int_equal(res.breaker, EAI_BREAKER_CLOSED);
    const eai_breaker_state_t want[][2] = {
        {EAI_BREAKER_CLOSED, EAI_BREAKER_OPEN},      {EAI_BREAKER_OPEN, EAI_BREAKER_HALF_OPEN},
        {EAI_BREAKER_HALF_OPEN, EAI_BREAKER_OPEN},   {EAI_BREAKER_OPEN, EAI_BREAKER_HALF_OPEN},
        {EAI_BREAKER_HALF_OPEN, EAI_BREAKER_CLOSED},
    };
    assert_int_equal(l.n, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(l.from[i], want[i][0]);
        assert_int_equal(l.to[i], want[i][1]);
    }
    assert_int_equal(l.t[4], fake_now);
    eai_router_destroy(r);
}

/* A socket that listens but never accepts: the kernel completes the TCP
 * handshake, the request goes out, no answer ever comes. */
static void test_timeout_bounded(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t n = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &n), 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(a.sin_port));
    eai_router_opts_t o = {.edge_path = EDGE,
                           .cloud_url = url,
                           .threshold = 2.0f,
                           .timeout_ms = 100,
                           .backoff_ms = 20};
    eai_router_t *r;
    assert_int_equal(eai_router_create(&o, &r), EAI_OK);
    eai_dataset_t *ds = ((fix_t *)*state)->ds;
    eai_route_result_t res;
    assert_int_equal(eai_router_infer(r, eai_dataset_x(ds, 0), 784, &res), EAI_OK);
    assert_int_equal(res.tier, EAI_ROUTE_EDGE_FALLBACK);
    assert_int_equal(res.cloud_status, EAI_E_TIMEOUT);
    assert_int_equal(res.cloud_attempts, 2);
    /* Two 100 ms attempts and a 20 ms backoff: at least 220 ms, and well
     * under a second even on a loaded machine. */
    assert_true(res.cloud_us >= 215000);
    assert_true(res.cloud_us < 1000000);
    assert_true(res.bytes_sent > 784 * 2);
    assert_int_equal(res.bytes_received, 0);
    eai_router_destroy(r);
    close(fd);
}

static void test_bad_inputs(void **state)
{
    fix_t *f = *state;
    eai_router_t *r = (eai_router_t *)0x1;
    eai_router_opts_t o = base_opts(f);
    assert_int_equal(eai_router_create(NULL, &r), EAI_E_INVALID);
    eai_router_opts_t none = {0};
    assert_int_equal(eai_router_create(&none, &r), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "no edge model"));
    o.cloud_url = "ftp://x";
    assert_int_equal(eai_router_create(&o, &r), EAI_E_INVALID);
    o = base_opts(f);
    o.output_name = "nope";
    assert_int_equal(eai_router_create(&o, &r), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "nope"));
    o = base_opts(f);
    o.edge_path = "/nonexistent.onnx";
    assert_int_equal(eai_router_create(&o, &r), EAI_E_IO);
    o = base_opts(f);
    o.calib_path = "/nonexistent.calib.json";
    assert_int_equal(eai_router_create(&o, &r), EAI_E_IO);
    assert_true(r == (eai_router_t *)0x1); /* untouched on failure */

    /* Wrong size input; a model the server does not have: 404, not retried. */
    o = base_opts(f);
    o.cloud_model = "missing";
    o.threshold = 2.0f;
    assert_int_equal(eai_router_create(&o, &r), EAI_OK);
    eai_route_result_t res;
    const float *x = eai_dataset_x(f->ds, 0);
    assert_int_equal(eai_router_infer(r, x, 783, &res), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "783"));
    assert_int_equal(eai_router_infer(r, x, 784, &res), EAI_OK);
    assert_int_equal(res.tier, EAI_ROUTE_EDGE_FALLBACK);
    assert_int_equal(res.cloud_attempts, 1);
    assert_int_equal(eai_router_cloud_only(r, x, 784, &res), EAI_E_UNAVAILABLE);
    assert_non_null(strstr(eai_last_error(), "HTTP 404"));
    eai_router_destroy(r);
    eai_router_destroy(NULL);
}

/* Every allocation of create fails in turn (the edge model borrowed, so the
 * session and the router's own): a clean EAI_E_NOMEM each time, leak-free
 * under ASan. */
static void test_create_oom(void **state)
{
    fix_t *f = *state;
    eai_model_t *m;
    assert_int_equal(eai_model_load(EDGE, NULL, &m), EAI_OK);
    eai_router_opts_t o = base_opts(f);
    o.edge_path = NULL;
    o.edge_model = m;
    int n_ok = 0;
    for (long k = 1; k < 1000 && n_ok < 3; k++) {
        eai_router_t *r = NULL;
        eai__test_fail_alloc(k);
        eai_status_t st = eai_router_create(&o, &r);
        eai__test_fail_alloc(0);
        if (st == EAI_OK)
            n_ok++;
        else if (st != EAI_E_NOMEM)
            fail_msg("allocation %ld: want EAI_E_NOMEM, got %s: %s", k, eai_status_str(st),
                     eai_last_error());
        eai_router_destroy(r);
    }
    assert_int_equal(n_ok, 3);
    eai_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_confident_edge_else_cloud),
        cmocka_unit_test(test_cloud_down_fallback_and_recovery),
        cmocka_unit_test(test_timeout_bounded),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_create_oom),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
