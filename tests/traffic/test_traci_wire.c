/* TraCI without SUMO: exact bytes of the short and extended command forms,
 * decoding of hand-built replies (big-endian values, logics, links), every
 * truncation of a reply, and a fault-injection server thread that sends
 * garbage, closes, stalls or answers with an error status: each must give a
 * clear error within the timeout, never a hang or crash. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "edgeai/traci.h"
#include "traci_bytes.h"
#include "traffic/traci_impl.h"

/* ---- writer ------------------------------------------------------------------ */

static void test_writer_short_and_extended(void **state)
{
    (void)state;
    eai_allocator_t al = {0};
    eai__traci_wr_t w = {.alloc = &al};
    size_t c = eai__traci_wr_cmd_begin(&w, 0xa4);
    eai__traci_wr_u8(&w, 0x40);
    eai__traci_wr_str(&w, "v0");
    eai__traci_wr_cmd_end(&w, c);
    /* len 1+1+1+4+2 = 9: 09 a4 40 00000002 'v' '0' */
    static const uint8_t want[] = {9, 0xa4, 0x40, 0, 0, 0, 2, 'v', '0'};
    assert_int_equal(w.len, sizeof want);
    assert_memory_equal(w.buf, want, sizeof want);

    /* a 300-byte id: 0, int total (1+4+1+1+4+300 = 311), id, ... */
    char id[301];
    memset(id, 'x', 300);
    id[300] = 0;
    w.len = 0;
    c = eai__traci_wr_cmd_begin(&w, 0xa4);
    eai__traci_wr_u8(&w, 0x40);
    eai__traci_wr_str(&w, id);
    eai__traci_wr_cmd_end(&w, c);
    assert_int_equal(w.len, 311);
    static const uint8_t head[] = {0, 0, 0, 0x01, 0x37, 0xa4, 0x40, 0, 0, 0x01, 0x2c};
    assert_memory_equal(w.buf, head, sizeof head);

    /* 249 bytes of content makes 255 in total: still the short form */
    w.len = 0;
    c = eai__traci_wr_cmd_begin(&w, 0xc2);
    for (int i = 0; i < 253; i++)
        eai__traci_wr_u8(&w, 1);
    eai__traci_wr_cmd_end(&w, c);
    assert_int_equal(w.len, 255);
    assert_int_equal(w.buf[0], 255);
    w.len = 0;
    c = eai__traci_wr_cmd_begin(&w, 0xc2);
    for (int i = 0; i < 254; i++)
        eai__traci_wr_u8(&w, 1);
    eai__traci_wr_cmd_end(&w, c);
    assert_int_equal(w.len, 260);
    assert_int_equal(w.buf[0], 0);
    assert_int_equal(w.buf[4], 4); /* 0x00000104 = 260 */
    eai__traci_wr_f64(&w, 1.5);    /* 0x3ff8000000000000 big-endian */
    assert_int_equal(w.buf[260], 0x3f);
    assert_int_equal(w.buf[261], 0xf8);
    eai__traci_wr_free(&w);
}

/* ---- decoding ----------------------------------------------------------------- */

/* A get reply: status, then [len][get+0x10][var][id][value...]. */
static void get_reply(buf_t *b, unsigned get, unsigned var, const char *id, const buf_t *value)
{
    status(b, get, 0, "");
    size_t len = 1 + 1 + 1 + 4 + strlen(id) + value->n;
    if (len <= 255) {
        u8(b, (unsigned)len);
    } else {
        u8(b, 0);
        i32(b, (uint32_t)(len + 4));
    }
    u8(b, get + 0x10);
    u8(b, var);
    str(b, id);
    memcpy(b->b + b->n, value->b, value->n);
    b->n += value->n;
}

static void logics_value(buf_t *v)
{
    u8(v, 0x0F);
    i32(v, 1); /* one logic */
    u8(v, 0x0F);
    i32(v, 5);
    u8(v, 0x0C);
    str(v, "0");
    u8(v, 0x09);
    i32(v, 0);
    u8(v, 0x09);
    i32(v, 1);
    u8(v, 0x0F);
    i32(v, 2);
    const char *states[] = {"GGrr", "yyrr"};
    for (int p = 0; p < 2; p++) {
        u8(v, 0x0F);
        i32(v, 6);
        u8(v, 0x0B);
        f64(v, p ? 3.0 : 42.0);
        u8(v, 0x0C);
        str(v, states[p]);
        u8(v, 0x0B);
        f64(v, -1);
        u8(v, 0x0B);
        f64(v, 50.25);
        u8(v, 0x0F);
        i32(v, p); /* phase 1 has one explicit successor */
        if (p) u8(v, 0x09), i32(v, 0);
        u8(v, 0x0C);
        str(v, p ? "yellow" : "");
    }
    u8(v, 0x0F);
    i32(v, 1);
    u8(v, 0x0E);
    i32(v, 2);
    str(v, "key");
    str(v, "val");
}

static void test_decode_values(void **state)
{
    (void)state;
    eai_allocator_t al = {0};
    eai__traci_arena_t a = {.alloc = &al};
    eai__traci_value_t val;
    buf_t v = {0}, m = {0};

    /* double: 13.89 big-endian */
    u8(&v, 0x0B);
    f64(&v, 13.89);
    get_reply(&m, 0xa4, 0x40, "veh0", &v);
    assert_int_equal(eai__traci_decode_get(m.b, m.n, &a, 0xa4, 0x40, "veh0", &val), EAI_OK);
    assert_int_equal(val.kind, EAI__TRACI_DOUBLE);
    assert_true(val.d == 13.89);
    /* a reply for another object is refused */
    assert_int_equal(eai__traci_decode_get(m.b, m.n, &a, 0xa4, 0x40, "veh1", &val), EAI_E_FORMAT);

    /* string list */
    v.n = m.n = 0;
    u8(&v, 0x0E);
    i32(&v, 3);
    str(&v, "a");
    str(&v, "");
    str(&v, "ccc");
    get_reply(&m, 0xa2, 0x00, "", &v);
    assert_int_equal(eai__traci_decode_get(m.b, m.n, &a, 0xa2, 0x00, "", &val), EAI_OK);
    assert_int_equal(val.kind, EAI__TRACI_STRLIST);
    assert_int_equal(val.sl.n, 3);
    assert_string_equal(val.sl.items[0], "a");
    assert_string_equal(val.sl.items[1], "");
    assert_string_equal(val.sl.items[2], "ccc");

    /* logics */
    v.n = m.n = 0;
    logics_value(&v);
    get_reply(&m, 0xa2, 0x2b, "C", &v);
    assert_int_equal(eai__traci_decode_get(m.b, m.n, &a, 0xa2, 0x2b, "C", &val), EAI_OK);
    assert_int_equal(val.kind, EAI__TRACI_LOGICS);
    assert_int_equal(val.logics.n, 1);
    const eai_traci_logic_t *l = &val.logics.items[0];
    assert_string_equal(l->program_id, "0");
    assert_int_equal(l->current_phase, 1);
    assert_int_equal(l->n_phases, 2);
    assert_true(l->phases[0].duration == 42.0 && l->phases[1].duration == 3.0);
    assert_true(l->phases[0].min_dur == -1 && l->phases[1].max_dur == 50.25);
    assert_string_equal(l->phases[1].state, "yyrr");
    assert_int_equal(l->phases[1].n_next, 1);
    assert_int_equal(l->phases[1].next[0], 0);
    assert_string_equal(l->phases[1].name, "yellow");
    assert_int_equal(l->n_params, 1);
    assert_string_equal(l->params[1], "val");

    /* every truncation of that reply fails cleanly (ASan checks the reads) */
    for (size_t n = 0; n < m.n; n++)
        assert_int_not_equal(eai__traci_decode_get(m.b, n, &a, 0xa2, 0x2b, "C", &val), EAI_OK);

    /* controlled links: compound, int n_signals, per signal int count and
     * stringlists of [from, to, via] */
    v.n = m.n = 0;
    u8(&v, 0x0F);
    i32(&v, 3);
    u8(&v, 0x09);
    i32(&v, 2);
    u8(&v, 0x09);
    i32(&v, 1);
    u8(&v, 0x0E);
    i32(&v, 3);
    str(&v, "NC_0");
    str(&v, "CS_0");
    str(&v, ":C_0_0");
    u8(&v, 0x09);
    i32(&v, 0);
    get_reply(&m, 0xa2, 0x27, "C", &v);
    assert_int_equal(eai__traci_decode_get(m.b, m.n, &a, 0xa2, 0x27, "C", &val), EAI_OK);
    assert_int_equal(val.links.n_signals, 2);
    assert_int_equal(val.links.n, 1);
    assert_int_equal(val.links.items[0].signal, 0);
    assert_string_equal(val.links.items[0].via_lane, ":C_0_0");

    /* a string list whose count promises more than the reply holds */
    v.n = m.n = 0;
    u8(&v, 0x0E);
    i32(&v, 0x7fffffff);
    get_reply(&m, 0xa4, 0x00, "", &v);
    assert_int_equal(eai__traci_decode_get(m.b, m.n, &a, 0xa4, 0x00, "", &val), EAI_E_FORMAT);
    assert_non_null(strstr(eai_last_error(), "count"));

    /* an error status carries SUMO's sentence */
    m.n = 0;
    status(&m, 0xa2, 0xff, "Traffic light 'nope' is not known");
    assert_int_equal(eai__traci_decode_get(m.b, m.n, &a, 0xa2, 0x20, "nope", &val), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "is not known"));
    assert_non_null(strstr(eai_last_error(), "trafficlight"));
    eai__traci_arena_free(&a);
}

/* ---- fault injection ----------------------------------------------------------- */

enum { F_GARBAGE, F_CLOSE, F_STALL, F_HALF, F_WRONG_CMD, F_ERROR_STATUS };

typedef struct {
    int lfd, port, mode;
} server_t;

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *serve(void *arg)
{
    server_t *s = arg;
    int fd = accept(s->lfd, NULL, NULL);
    if (fd < 0) return NULL;
    uint8_t in[512];
    /* F_ERROR_STATUS answers two commands: an error, then a good step */
    for (int round = 0; round < (s->mode == F_ERROR_STATUS ? 2 : 1); round++) {
        if (recv(fd, in, sizeof in, 0) <= 0) break;
        buf_t b = {0};
        switch (s->mode) {
        case F_GARBAGE: {
            static const char g[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
            send(fd, g, sizeof g - 1, MSG_NOSIGNAL);
            break;
        }
        case F_CLOSE:
            break;
        case F_STALL:
            nap_ms(1500);
            break;
        case F_HALF:
            i32(&b, 100);
            u8(&b, 7);
            send(fd, b.b, b.n, MSG_NOSIGNAL);
            break;
        case F_WRONG_CMD:
            i32(&b, 4 + 7);
            status(&b, 0x7e, 0, "");
            send(fd, b.b, b.n, MSG_NOSIGNAL);
            break;
        case F_ERROR_STATUS:
            i32(&b, 0);
            if (round == 0) {
                status(&b, 0xa2, 0xff, "Traffic light 'x' is not known");
            } else {
                status(&b, 0x02, 0, "");
                i32(&b, 0); /* no subscriptions */
            }
            b.b[3] = (uint8_t)b.n;
            send(fd, b.b, b.n, MSG_NOSIGNAL);
            break;
        }
    }
    if (s->mode == F_STALL) nap_ms(200);
    close(fd);
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void start_server(server_t *s, pthread_t *th)
{
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->lfd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->lfd, 1), 0);
    assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &len), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(th, NULL, serve, s), 0);
}

static void run_fault(int mode, eai_status_t want, const char *needle)
{
    server_t s = {.mode = mode};
    pthread_t th;
    start_server(&s, &th);
    eai_traci_t *t = NULL;
    eai_traci_opts_t o = {.timeout_ms = 400};
    assert_int_equal(eai_traci_connect("127.0.0.1", s.port, &o, &t), EAI_OK);
    double t0 = now_s();
    eai_status_t st;
    const char *state;
    if (mode == F_ERROR_STATUS) {
        st = eai_traci_tls_get_state(t, "x", &state);
    } else {
        st = eai_traci_step(t, 0);
    }
    double dt = now_s() - t0;
    if (st != want)
        fail_msg("mode %d: got %s (%s), want %s", mode, eai_status_str(st), eai_last_error(),
                 eai_status_str(want));
    if (!strstr(eai_last_error(), needle))
        fail_msg("mode %d: message '%s' lacks '%s'", mode, eai_last_error(), needle);
    assert_true(dt < 1.2); /* bounded by timeout_ms, not by the peer */
    if (mode == F_ERROR_STATUS) {
        assert_true(eai_traci_ok(t)); /* SUMO's error status keeps the connection */
        assert_int_equal(eai_traci_step(t, 0), EAI_OK);
    } else {
        assert_false(eai_traci_ok(t));
        assert_int_equal(eai_traci_step(t, 0), EAI_E_STATE);
    }
    eai_traci_destroy(t);
    pthread_join(th, NULL);
    close(s.lfd);
}

static void test_fault_garbage(void **state)
{
    (void)state;
    run_fault(F_GARBAGE, EAI_E_FORMAT, "not a TraCI message");
}
static void test_fault_close(void **state)
{
    (void)state;
    run_fault(F_CLOSE, EAI_E_UNAVAILABLE, "closed the connection");
}
static void test_fault_stall(void **state)
{
    (void)state;
    run_fault(F_STALL, EAI_E_TIMEOUT, "no reply from SUMO within 400 ms");
}
static void test_fault_half_reply(void **state)
{
    (void)state;
    run_fault(F_HALF, EAI_E_UNAVAILABLE, "middle of a reply");
}
static void test_fault_wrong_command(void **state)
{
    (void)state;
    run_fault(F_WRONG_CMD, EAI_E_FORMAT, "status for command 0x7e");
}
static void test_fault_error_status(void **state)
{
    (void)state;
    run_fault(F_ERROR_STATUS, EAI_E_INVALID, "Traffic light 'x' is not known");
}

static void test_connect_refused_and_args(void **state)
{
    (void)state;
    /* a port nobody listens on: bind, read, close */
    server_t s = {0};
    s.lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(s.lfd, (struct sockaddr *)&a, sizeof a), 0);
    getsockname(s.lfd, (struct sockaddr *)&a, &len);
    close(s.lfd);
    eai_traci_t *t = NULL;
    eai_traci_opts_t o = {.connect_timeout_ms = 200};
    double t0 = now_s();
    assert_int_equal(eai_traci_connect("127.0.0.1", ntohs(a.sin_port), &o, &t), EAI_E_UNAVAILABLE);
    assert_true(now_s() - t0 < 1.5);
    assert_null(t);
    assert_non_null(strstr(eai_last_error(), "refused"));
    assert_int_equal(eai_traci_connect("127.0.0.1", 0, NULL, &t), EAI_E_INVALID);
    assert_int_equal(eai_traci_connect(NULL, 80, NULL, &t), EAI_E_INVALID);
    eai_traci_destroy(NULL);
    assert_false(eai_traci_ok(NULL));
    eai_sumo_t *sumo = NULL;
    assert_int_equal(eai_sumo_start(&(eai_sumo_opts_t){0}, &sumo), EAI_E_INVALID);
    assert_int_equal(eai_sumo_start(&(eai_sumo_opts_t){.config = "/nonexistent.sumocfg"}, &sumo),
                     EAI_E_IO);
    assert_null(sumo);
    eai_sumo_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer_short_and_extended),
        cmocka_unit_test(test_decode_values),
        cmocka_unit_test(test_fault_garbage),
        cmocka_unit_test(test_fault_close),
        cmocka_unit_test(test_fault_stall),
        cmocka_unit_test(test_fault_half_reply),
        cmocka_unit_test(test_fault_wrong_command),
        cmocka_unit_test(test_fault_error_status),
        cmocka_unit_test(test_connect_refused_and_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
