/* TraCI subscriptions. Without SUMO: hand-built big-endian simulationStep and
 * subscribe replies (variable and context results, every value type, SUMO's
 * per-variable error, extended lengths) decoded into the table and read back
 * through the public readers; every truncation and a set of garbage replies
 * give EAI_E_FORMAT, never a crash; a second step decodes without
 * allocating; a failing allocator gives EAI_E_NOMEM. With the real sumo (the
 * 4-way junction of test_traci_sumo.c): subscribed positions, speeds, angles,
 * the vehicle id list, departed/arrived ids, a lane-area detector and a
 * junction context equal the direct getters' values at the same step;
 * vehicles that leave drop out; begin/end, unsubscribe and SUMO's error for
 * an unknown id. Skips the SUMO part when sumo or netconvert is missing. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "edgeai/traci.h"
#include "traffic/traci_impl.h"

#include "sumo_fixture.h"
#include "traci_bytes.h"

/* A command: opens with a 1-byte length (or the extended form); end_cmd
 * fills it in. */
static size_t begin_cmd(buf_t *b, bool extended)
{
    size_t at = b->n;
    u8(b, 0);
    if (extended) i32(b, 0);
    return at;
}
static void end_cmd(buf_t *b, size_t at, bool extended)
{
    size_t len = b->n - at;
    if (extended) {
        for (int i = 0; i < 4; i++)
            b->b[at + 1 + i] = (uint8_t)(len >> (8 * (3 - i)));
    } else {
        assert_true(len <= 255);
        b->b[at] = (uint8_t)len;
    }
}

/* A handle that only holds a table: the readers touch nothing else. */
static eai_allocator_t g_al;
static eai_traci_t *fake(void)
{
    eai_traci_t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->subs.alloc = &g_al;
    return t;
}
static void fake_free(eai_traci_t *t)
{
    eai__traci_subs_free(&t->subs);
    free(t);
}

/* The step reply used by several tests: vehicle "v0" with a 2D position,
 * speed, a string, an int, a ubyte, a byte, a 3D position and a color (an
 * unread type); the simulation's departed/arrived ids; a junction context
 * with two vehicles and their speeds. */
static void step_reply(buf_t *b, bool with_v0)
{
    status(b, 0x02, 0, "");
    i32(b, with_v0 ? 3 : 2);
    size_t c;
    if (with_v0) {
        c = begin_cmd(b, false);
        u8(b, 0xe4);
        str(b, "v0");
        u8(b, 8);
        u8(b, 0x42), u8(b, 0), u8(b, 0x01), f64(b, 12.5), f64(b, -3.25);
        u8(b, 0x40), u8(b, 0), u8(b, 0x0b), f64(b, 13.9);
        u8(b, 0x4f), u8(b, 0), u8(b, 0x0c), str(b, "car");
        u8(b, 0x52), u8(b, 0), u8(b, 0x09), i32(b, (uint32_t)-7);
        u8(b, 0x99), u8(b, 0), u8(b, 0x07), u8(b, 200);
        u8(b, 0x98), u8(b, 0), u8(b, 0x08), u8(b, 0xfe); /* byte -2 */
        u8(b, 0x39), u8(b, 0), u8(b, 0x03), f64(b, 1), f64(b, 2), f64(b, 3);
        u8(b, 0x45), u8(b, 0), u8(b, 0x11), u8(b, 1), u8(b, 2), u8(b, 3), u8(b, 4);
        end_cmd(b, c, false);
    }
    c = begin_cmd(b, false);
    u8(b, 0xeb);
    str(b, "");
    u8(b, 2);
    u8(b, 0x74), u8(b, 0), u8(b, 0x0e), i32(b, 2), str(b, "a"), str(b, "bb");
    u8(b, 0x7a), u8(b, 0), u8(b, 0x0e), i32(b, 0);
    end_cmd(b, c, false);
    c = begin_cmd(b, false);
    u8(b, 0x99);
    str(b, "C");
    u8(b, 0xa4);
    u8(b, 1);
    i32(b, 2);
    str(b, "x1"), u8(b, 0x40), u8(b, 0), u8(b, 0x0b), f64(b, 1.0);
    str(b, "x2"), u8(b, 0x40), u8(b, 0), u8(b, 0x0b), f64(b, 2.0);
    end_cmd(b, c, false);
}

static void test_decode_values(void **state)
{
    (void)state;
    buf_t b = {0};
    step_reply(&b, true);
    eai_traci_t *t = fake();
    assert_int_equal(eai__traci_decode_step(b.b, b.n, &t->subs), EAI_OK);
    const int V = EAI_TRACI_SUB_VEHICLE;
    double x = 0, y = 0, d = 0;
    int i = 0;
    const char *s = NULL;
    assert_true(eai_traci_sub_has(t, V, "v0"));
    assert_int_equal(eai_traci_sub_pos2d(t, V, "v0", 0x42, &x, &y), EAI_OK);
    assert_true(x == 12.5 && y == -3.25);
    assert_int_equal(eai_traci_sub_double(t, V, "v0", 0x40, &d), EAI_OK);
    assert_true(d == 13.9);
    assert_int_equal(eai_traci_sub_string(t, V, "v0", 0x4f, &s), EAI_OK);
    assert_string_equal(s, "car");
    assert_int_equal(eai_traci_sub_int(t, V, "v0", 0x52, &i), EAI_OK);
    assert_int_equal(i, -7);
    assert_int_equal(eai_traci_sub_int(t, V, "v0", 0x99, &i), EAI_OK);
    assert_int_equal(i, 200);
    assert_int_equal(eai_traci_sub_int(t, V, "v0", 0x98, &i), EAI_OK);
    assert_int_equal(i, -2);
    assert_int_equal(eai_traci_sub_pos2d(t, V, "v0", 0x39, &x, &y), EAI_OK);
    assert_true(x == 1 && y == 2);
    /* the color was skipped: present, but not readable as a number */
    assert_int_equal(eai_traci_sub_double(t, V, "v0", 0x45, &d), EAI_E_INVALID);
    /* wrong type asked */
    assert_int_equal(eai_traci_sub_double(t, V, "v0", 0x4f, &d), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "is a string, not a double"));
    /* not subscribed */
    assert_int_equal(eai_traci_sub_double(t, V, "v0", 0x41, &d), EAI_E_UNAVAILABLE);
    assert_int_equal(eai_traci_sub_double(t, V, "v9", 0x40, &d), EAI_E_UNAVAILABLE);
    assert_int_equal(eai_traci_sub_double(t, EAI_TRACI_SUB_LANE, "v0", 0x40, &d),
                     EAI_E_UNAVAILABLE);
    assert_int_equal(eai_traci_sub_double(t, V, "v0", 0x40, NULL), EAI_E_INVALID);
    assert_int_equal(eai_traci_sub_double(t, V, NULL, 0x40, &d), EAI_E_INVALID);

    eai_traci_strlist_t sl;
    assert_int_equal(eai_traci_sub_strlist(t, EAI_TRACI_SUB_SIM, "", 0x74, &sl), EAI_OK);
    assert_int_equal(sl.n, 2);
    assert_string_equal(sl.items[0], "a");
    assert_string_equal(sl.items[1], "bb");
    assert_int_equal(eai_traci_sub_strlist(t, EAI_TRACI_SUB_SIM, "", 0x7a, &sl), EAI_OK);
    assert_int_equal(sl.n, 0);

    /* context: objects under the context domain, by their own id */
    const int J = EAI_TRACI_CTX_JUNCTION;
    assert_int_equal(eai_traci_sub_double(t, J, "x2", 0x40, &d), EAI_OK);
    assert_true(d == 2.0);
    int pos = 0, n = 0;
    const char *id;
    while (eai_traci_sub_next(t, J, "C", &pos, &id))
        assert_string_equal(id, n++ ? "x2" : "x1");
    assert_int_equal(n, 2);
    pos = 0;
    assert_false(eai_traci_sub_next(t, J, "D", &pos, &id));
    pos = 0, n = 0;
    while (eai_traci_sub_next(t, V, NULL, &pos, &id))
        n++;
    assert_int_equal(n, 1);

    /* the next step without v0: it left, so it is gone */
    b.n = 0;
    step_reply(&b, false);
    assert_int_equal(eai__traci_decode_step(b.b, b.n, &t->subs), EAI_OK);
    assert_false(eai_traci_sub_has(t, V, "v0"));
    assert_int_equal(eai_traci_sub_pos2d(t, V, "v0", 0x42, &x, &y), EAI_E_UNAVAILABLE);
    assert_true(eai_traci_sub_has(t, J, "x1"));
    fake_free(t);
}

/* The same bytes spelled out by hand (big-endian on the wire). */
static void test_literal_bytes(void **state)
{
    (void)state;
    static const uint8_t msg[] = {
        7,    0x02, 0,    0,    0,    0,    0,               /* status OK, empty text */
        0,    0,    0,    1,                                 /* one result */
        19,   0xe4, 0,    0,    0,    1,    'v', 1,          /* len 19: vehicle 'v', 1 var */
        0x40, 0,    0x0b, 0x40, 0x2b, 0x80, 0,   0, 0, 0, 0, /* speed 13.75 */
    };
    eai_traci_t *t = fake();
    assert_int_equal(eai__traci_decode_step(msg, sizeof msg, &t->subs), EAI_OK);
    double d = 0;
    assert_int_equal(eai_traci_sub_double(t, EAI_TRACI_SUB_VEHICLE, "v", 0x40, &d), EAI_OK);
    assert_true(d == 13.75);
    fake_free(t);
}

static void test_var_error_and_extended(void **state)
{
    (void)state;
    buf_t b = {0};
    status(&b, 0x02, 0, "");
    i32(&b, 2);
    size_t c = begin_cmd(&b, false);
    u8(&b, 0xe3), str(&b, "L0"), u8(&b, 1);
    u8(&b, 0x12), u8(&b, 0xff), u8(&b, 0x0c), str(&b, "no such variable");
    end_cmd(&b, c, false);
    /* a result over 255 bytes uses the extended length */
    c = begin_cmd(&b, true);
    u8(&b, 0xed), str(&b, "det"), u8(&b, 1);
    u8(&b, 0x12), u8(&b, 0), u8(&b, 0x0e), i32(&b, 40);
    char id[16];
    for (int i = 0; i < 40; i++) {
        snprintf(id, sizeof id, "vehicle.%03d", i);
        str(&b, id);
    }
    end_cmd(&b, c, true);
    eai_traci_t *t = fake();
    assert_int_equal(eai__traci_decode_step(b.b, b.n, &t->subs), EAI_OK);
    eai_traci_strlist_t sl;
    assert_int_equal(eai_traci_sub_strlist(t, EAI_TRACI_SUB_LANE, "L0", 0x12, &sl), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "SUMO error: no such variable"));
    assert_int_equal(eai_traci_sub_strlist(t, EAI_TRACI_SUB_LANEAREA, "det", 0x12, &sl), EAI_OK);
    assert_int_equal(sl.n, 40);
    assert_string_equal(sl.items[0], "vehicle.000");
    assert_string_equal(sl.items[39], "vehicle.039");
    fake_free(t);
}

static void test_subscribe_reply(void **state)
{
    (void)state;
    eai_traci_t *t = fake();
    buf_t b = {0};
    status(&b, 0xd4, 0, "");
    size_t c = begin_cmd(&b, false);
    u8(&b, 0xe4), str(&b, "v1"), u8(&b, 1);
    u8(&b, 0x40), u8(&b, 0), u8(&b, 0x0b), f64(&b, 4.0);
    end_cmd(&b, c, false);
    assert_int_equal(eai__traci_decode_subscribe(b.b, b.n, &t->subs, 0xd4, "v1"), EAI_OK);
    /* subscribing again replaces the entry */
    b.b[b.n - 8] = 0x40, b.b[b.n - 7] = 0x20; /* 8.0 */
    assert_int_equal(eai__traci_decode_subscribe(b.b, b.n, &t->subs, 0xd4, "v1"), EAI_OK);
    double d = 0;
    assert_int_equal(eai_traci_sub_double(t, EAI_TRACI_SUB_VEHICLE, "v1", 0x40, &d), EAI_OK);
    assert_true(d == 8.0);
    int pos = 0, n = 0;
    const char *id;
    while (eai_traci_sub_next(t, EAI_TRACI_SUB_VEHICLE, NULL, &pos, &id))
        n++;
    assert_int_equal(n, 1);
    /* the reply answers another object: the stream is out of step */
    assert_int_equal(eai__traci_decode_subscribe(b.b, b.n, &t->subs, 0xd4, "v2"), EAI_E_FORMAT);
    assert_int_equal(eai__traci_decode_subscribe(b.b, b.n, &t->subs, 0xd3, "v1"), EAI_E_FORMAT);
    /* status only (unsubscribe) */
    buf_t u = {0};
    status(&u, 0xd4, 0, "");
    assert_int_equal(eai__traci_decode_subscribe(u.b, u.n, &t->subs, 0xd4, "v1"), EAI_OK);
    /* SUMO's error */
    u.n = 0;
    status(&u, 0xd4, 0xff, "Vehicle 'nope' is not known");
    assert_int_equal(eai__traci_decode_subscribe(u.b, u.n, &t->subs, 0xd4, "nope"), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "Vehicle 'nope' is not known"));
    assert_non_null(strstr(eai_last_error(), "subscribe vehicle"));
    fake_free(t);
}

static void test_truncated_and_garbage(void **state)
{
    (void)state;
    buf_t b = {0};
    step_reply(&b, true);
    eai_traci_t *t = fake();
    for (size_t n = 0; n < b.n; n++) /* every prefix is an error, none a crash */
        assert_int_equal(eai__traci_decode_step(b.b, n, &t->subs), EAI_E_FORMAT);
    /* trailing byte */
    b.b[b.n] = 0;
    assert_int_equal(eai__traci_decode_step(b.b, b.n + 1, &t->subs), EAI_E_FORMAT);
    assert_non_null(strstr(eai_last_error(), "after the subscription results"));

    buf_t g;
    /* a response that is not a subscription result */
    g = (buf_t){0};
    status(&g, 0x02, 0, ""), i32(&g, 1), u8(&g, 7), u8(&g, 0xb4), str(&g, ""), u8(&g, 0);
    assert_int_equal(eai__traci_decode_step(g.b, g.n, &t->subs), EAI_E_FORMAT);
    assert_non_null(strstr(eai_last_error(), "not a subscription result"));
    /* negative and huge result counts */
    g = (buf_t){0};
    status(&g, 0x02, 0, ""), i32(&g, (uint32_t)-1);
    assert_int_equal(eai__traci_decode_step(g.b, g.n, &t->subs), EAI_E_FORMAT);
    g = (buf_t){0};
    status(&g, 0x02, 0, ""), i32(&g, 0x7fffffff);
    assert_int_equal(eai__traci_decode_step(g.b, g.n, &t->subs), EAI_E_FORMAT);
    /* a context announcing 2^31-1 objects */
    g = (buf_t){0};
    status(&g, 0x02, 0, ""), i32(&g, 1);
    size_t c = begin_cmd(&g, false);
    u8(&g, 0x99), str(&g, "C"), u8(&g, 0xa4), u8(&g, 1), i32(&g, 0x7fffffff);
    end_cmd(&g, c, false);
    assert_int_equal(eai__traci_decode_step(g.b, g.n, &t->subs), EAI_E_FORMAT);
    /* a string list longer than the reply */
    g = (buf_t){0};
    status(&g, 0x02, 0, ""), i32(&g, 1);
    c = begin_cmd(&g, false);
    u8(&g, 0xe4), str(&g, "v"), u8(&g, 1), u8(&g, 0x12), u8(&g, 0), u8(&g, 0x0e), i32(&g, 1000000);
    end_cmd(&g, c, false);
    assert_int_equal(eai__traci_decode_step(g.b, g.n, &t->subs), EAI_E_FORMAT);
    /* an unknown value type */
    g = (buf_t){0};
    status(&g, 0x02, 0, ""), i32(&g, 1);
    c = begin_cmd(&g, false);
    u8(&g, 0xe4), str(&g, "v"), u8(&g, 1), u8(&g, 0x40), u8(&g, 0), u8(&g, 0x77), u8(&g, 0);
    end_cmd(&g, c, false);
    assert_int_equal(eai__traci_decode_step(g.b, g.n, &t->subs), EAI_E_FORMAT);
    assert_non_null(strstr(eai_last_error(), "unknown value type 0x77"));
    /* an error status whose text is not a string */
    g = (buf_t){0};
    status(&g, 0x02, 0, ""), i32(&g, 1);
    c = begin_cmd(&g, false);
    u8(&g, 0xe4), str(&g, "v"), u8(&g, 1), u8(&g, 0x40), u8(&g, 0xff), u8(&g, 0x0b), f64(&g, 1);
    end_cmd(&g, c, false);
    assert_int_equal(eai__traci_decode_step(g.b, g.n, &t->subs), EAI_E_FORMAT);
    /* a value running past its command's length */
    g = (buf_t){0};
    status(&g, 0x02, 0, ""), i32(&g, 1);
    c = begin_cmd(&g, false);
    u8(&g, 0xe4), str(&g, "v"), u8(&g, 1), u8(&g, 0x40), u8(&g, 0), u8(&g, 0x0b), f64(&g, 1);
    end_cmd(&g, c, false);
    g.b[c] -= 4;
    assert_int_equal(eai__traci_decode_step(g.b, g.n, &t->subs), EAI_E_FORMAT);
    /* a result shorter than its length says */
    g = (buf_t){0};
    status(&g, 0x02, 0, ""), i32(&g, 1);
    c = begin_cmd(&g, false);
    u8(&g, 0xe4), str(&g, "v"), u8(&g, 0), u8(&g, 0), u8(&g, 0);
    end_cmd(&g, c, false);
    assert_int_equal(eai__traci_decode_step(g.b, g.n, &t->subs), EAI_E_FORMAT);
    /* SUMO's error status for the step: EAI_E_INVALID, table empty */
    g = (buf_t){0};
    status(&g, 0x02, 0xff, "simulation ended");
    assert_int_equal(eai__traci_decode_step(g.b, g.n, &t->subs), EAI_E_INVALID);
    assert_int_equal(t->subs.n_objs, 0);
    /* pseudo-random garbage after a valid header never crashes */
    srand(7);
    for (int k = 0; k < 2000; k++) {
        g = (buf_t){0};
        status(&g, 0x02, 0, ""), i32(&g, (uint32_t)(rand() % 4));
        int len = rand() % 64;
        for (int i = 0; i < len; i++)
            u8(&g, (unsigned)(rand() & 0xff));
        eai_status_t st = eai__traci_decode_step(g.b, g.n, &t->subs);
        assert_true(st == EAI_OK || st == EAI_E_FORMAT);
    }
    fake_free(t);
}

/* Counting allocator: a second decode of the same step allocates nothing;
 * failing the k-th allocation gives EAI_E_NOMEM. */
static int g_allocs, g_fail_at;
static void *count_fn(void *ctx, void *p, size_t n)
{
    (void)ctx;
    if (n == 0) {
        free(p);
        return NULL;
    }
    if (g_fail_at > 0 && ++g_allocs == g_fail_at) return NULL;
    if (g_fail_at == 0) g_allocs++;
    return realloc(p, n);
}

static void test_no_alloc_steady_and_nomem(void **state)
{
    (void)state;
    buf_t b = {0};
    step_reply(&b, true);
    eai_allocator_t al = {count_fn, NULL};
    eai__traci_subs_t s = {.alloc = &al};
    g_allocs = 0, g_fail_at = 0;
    assert_int_equal(eai__traci_decode_step(b.b, b.n, &s), EAI_OK);
    int first = g_allocs;
    assert_true(first > 0);
    for (int k = 0; k < 5; k++)
        assert_int_equal(eai__traci_decode_step(b.b, b.n, &s), EAI_OK);
    assert_int_equal(g_allocs, first);
    eai__traci_subs_free(&s);
    for (int k = 1; k <= first; k++) {
        eai__traci_subs_t f = {.alloc = &al};
        g_allocs = 0, g_fail_at = k;
        assert_int_equal(eai__traci_decode_step(b.b, b.n, &f), EAI_E_NOMEM);
        eai__traci_subs_free(&f);
    }
    g_fail_at = 0;
}

/* Replies captured from SUMO 1.15 (fuzz/corpus/traci/sub_*.bin: a selector
 * byte, then the reply after its total length): a step with simulation,
 * vehicle id list, junction context and lane results, and the reply to a
 * vehicle subscription of ns.1. */
static size_t read_bin(const char *path, uint8_t *b, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(b, 1, cap, f);
    fclose(f);
    return n;
}

static void test_captured_replies(void **state)
{
    (void)state;
    uint8_t b[4096];
    size_t n = read_bin(EAI_SOURCE_DIR "/fuzz/corpus/traci/sub_step.bin", b, sizeof b);
    assert_true(n > 1);
    eai_traci_t *t = fake();
    assert_int_equal(eai__traci_decode_step(b + 1, n - 1, &t->subs), EAI_OK);
    eai_traci_strlist_t sl;
    assert_int_equal(
        eai_traci_sub_strlist(t, EAI_TRACI_SUB_VEHICLE, "", EAI_TRACI_VAR_ID_LIST, &sl), EAI_OK);
    assert_true(sl.n > 0);
    assert_int_equal(
        eai_traci_sub_strlist(t, EAI_TRACI_SUB_SIM, "", EAI_TRACI_VAR_DEPARTED_IDS, &sl), EAI_OK);
    assert_int_equal(eai_traci_sub_strlist(t, EAI_TRACI_SUB_LANE, "NC_0",
                                           EAI_TRACI_VAR_LAST_STEP_VEHICLE_ID_LIST, &sl),
                     EAI_OK);
    int nv = -1;
    assert_int_equal(eai_traci_sub_int(t, EAI_TRACI_SUB_LANE, "NC_0",
                                       EAI_TRACI_VAR_LAST_STEP_VEHICLE_NUMBER, &nv),
                     EAI_OK);
    assert_int_equal(nv, sl.n);
    int pos = 0, k = 0;
    const char *id;
    while (eai_traci_sub_next(t, EAI_TRACI_CTX_JUNCTION, "C", &pos, &id)) {
        double x, y, v;
        assert_int_equal(
            eai_traci_sub_pos2d(t, EAI_TRACI_CTX_JUNCTION, id, EAI_TRACI_VAR_POSITION, &x, &y),
            EAI_OK);
        assert_int_equal(
            eai_traci_sub_double(t, EAI_TRACI_CTX_JUNCTION, id, EAI_TRACI_VAR_SPEED, &v), EAI_OK);
        assert_true(v >= 0 && v < 20);
        k++;
    }
    assert_true(k > 0);
    n = read_bin(EAI_SOURCE_DIR "/fuzz/corpus/traci/sub_subscribe.bin", b, sizeof b);
    assert_true(n > 1);
    assert_int_equal(eai__traci_decode_subscribe(b + 1, n - 1, &t->subs, 0xd4, "ns.1"), EAI_OK);
    const char *s = NULL;
    assert_int_equal(
        eai_traci_sub_string(t, EAI_TRACI_SUB_VEHICLE, "ns.1", EAI_TRACI_VAR_ROAD_ID, &s), EAI_OK);
    assert_true(strlen(s) > 0);
    fake_free(t);
}

/* ---- against sumo ---------------------------------------------------------- */

static sumo_fixture_t g_fx;

/* The scenario of test_traci_sumo.c (without its long-id vehicle), with a
 * lane-area detector on the north arm. */
static int setup(void **state)
{
    (void)state;
    return sumo_fixture_setup(&g_fx, "eai-subs", "<routes>\n" SUMO_FIXTURE_FLOWS_5S "</routes>\n",
                              "<additional>\n"
                              "  <laneAreaDetector id=\"e2N\" lane=\"NC_0\" pos=\"90\" "
                              "endPos=\"-1\" freq=\"60\" file=\"NUL\"/>\n"
                              "</additional>\n");
}

static int teardown(void **state)
{
    (void)state;
    return sumo_fixture_teardown(&g_fx);
}

static eai_traci_t *start(void)
{
    eai_sumo_opts_t o = {.timeout_ms = 20000};
    return eai_sumo_traci(sumo_fixture_start(&g_fx, &o, 42));
}

static const int VEH_VARS[] = {EAI_TRACI_VAR_POSITION, EAI_TRACI_VAR_SPEED, EAI_TRACI_VAR_ANGLE};

static void test_sumo_vehicles(void **state)
{
    (void)state;
    eai_traci_t *t = start();
    const int V = EAI_TRACI_SUB_VEHICLE, SIM = EAI_TRACI_SUB_SIM;
    const int sim_vars[] = {EAI_TRACI_VAR_DEPARTED_IDS, EAI_TRACI_VAR_ARRIVED_IDS};
    const int id_list[] = {EAI_TRACI_VAR_ID_LIST};
    assert_int_equal(eai_traci_subscribe(t, SIM, "", sim_vars, 2), EAI_OK);
    assert_int_equal(eai_traci_subscribe(t, V, "", id_list, 1), EAI_OK);
    const int e2_vars[] = {EAI_TRACI_VAR_LAST_STEP_HALTING_NUMBER,
                           EAI_TRACI_VAR_LAST_STEP_VEHICLE_ID_LIST};
    assert_int_equal(eai_traci_subscribe(t, EAI_TRACI_SUB_LANEAREA, "e2N", e2_vars, 2), EAI_OK);
    /* SUMO's error for an unknown vehicle: clear, and the handle lives on */
    assert_int_equal(eai_traci_subscribe(t, V, "nope", VEH_VARS, 3), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "nope"));
    assert_true(eai_traci_ok(t));

    int n_checked = 0, n_arrived = 0, n_halting_steps = 0;
    char gone[64][64];
    int n_gone = 0;
    for (int k = 0; k < 150; k++) {
        assert_int_equal(eai_traci_step(t, 0), EAI_OK);
        /* subscribe each vehicle as it departs (copy: the list is in the table) */
        eai_traci_strlist_t dep;
        assert_int_equal(eai_traci_sub_strlist(t, SIM, "", EAI_TRACI_VAR_DEPARTED_IDS, &dep),
                         EAI_OK);
        char ids[16][64];
        int nd = dep.n < 16 ? dep.n : 16;
        for (int i = 0; i < nd; i++)
            snprintf(ids[i], sizeof ids[i], "%s", dep.items[i]);
        for (int i = 0; i < nd; i++)
            assert_int_equal(eai_traci_subscribe(t, V, ids[i], VEH_VARS, 3), EAI_OK);
        eai_traci_strlist_t arr;
        assert_int_equal(eai_traci_sub_strlist(t, SIM, "", EAI_TRACI_VAR_ARRIVED_IDS, &arr),
                         EAI_OK);
        for (int i = 0; i < arr.n && n_gone < 64; i++, n_arrived++)
            snprintf(gone[n_gone++], sizeof gone[0], "%s", arr.items[i]);
        for (int i = 0; i < n_gone; i++) /* SUMO ended their subscriptions */
            assert_false(eai_traci_sub_has(t, V, gone[i]));
        /* the subscribed id list equals the getter's */
        eai_traci_strlist_t sl;
        assert_int_equal(eai_traci_sub_strlist(t, V, "", EAI_TRACI_VAR_ID_LIST, &sl), EAI_OK);
        char sub_ids[128][64];
        int n = sl.n;
        assert_true(n <= 128);
        for (int i = 0; i < n; i++)
            snprintf(sub_ids[i], sizeof sub_ids[i], "%s", sl.items[i]);
        eai_traci_strlist_t ids_get;
        assert_int_equal(eai_traci_veh_ids(t, &ids_get), EAI_OK);
        assert_int_equal(ids_get.n, n);
        for (int i = 0; i < n; i++)
            assert_string_equal(ids_get.items[i], sub_ids[i]);
        /* every running vehicle: subscribed values == getters, bit for bit */
        for (int i = 0; i < n; i++) {
            const char *id = sub_ids[i];
            double sx, sy, gx, gy, sv, gv, sa, ga;
            assert_int_equal(eai_traci_sub_pos2d(t, V, id, EAI_TRACI_VAR_POSITION, &sx, &sy),
                             EAI_OK);
            assert_int_equal(eai_traci_sub_double(t, V, id, EAI_TRACI_VAR_SPEED, &sv), EAI_OK);
            assert_int_equal(eai_traci_sub_double(t, V, id, EAI_TRACI_VAR_ANGLE, &sa), EAI_OK);
            assert_int_equal(eai_traci_veh_position(t, id, &gx, &gy), EAI_OK);
            assert_int_equal(eai_traci_veh_speed(t, id, &gv), EAI_OK);
            assert_int_equal(eai_traci_veh_angle(t, id, &ga), EAI_OK);
            assert_true(sx == gx && sy == gy && sv == gv && sa == ga);
            n_checked++;
        }
        /* the detector */
        int sh = -1, gh = -2;
        assert_int_equal(eai_traci_sub_int(t, EAI_TRACI_SUB_LANEAREA, "e2N",
                                           EAI_TRACI_VAR_LAST_STEP_HALTING_NUMBER, &sh),
                         EAI_OK);
        assert_int_equal(eai_traci_e2_halting_number(t, "e2N", &gh), EAI_OK);
        assert_int_equal(sh, gh);
        if (sh > 0) n_halting_steps++;
        eai_traci_strlist_t dv;
        assert_int_equal(eai_traci_sub_strlist(t, EAI_TRACI_SUB_LANEAREA, "e2N",
                                               EAI_TRACI_VAR_LAST_STEP_VEHICLE_ID_LIST, &dv),
                         EAI_OK);
        int dn = dv.n;
        char first[64] = "";
        if (dn) snprintf(first, sizeof first, "%s", dv.items[0]);
        assert_int_equal(eai_traci_e2_vehicle_ids(t, "e2N", &dv), EAI_OK);
        assert_int_equal(dv.n, dn);
        if (dn) assert_string_equal(dv.items[0], first);
    }
    print_message("subs: %d vehicle-steps compared, %d arrivals, %d halting steps\n", n_checked,
                  n_arrived, n_halting_steps);
    assert_true(n_checked > 500);
    assert_true(n_arrived > 10);
    assert_true(n_halting_steps > 0);
}

static void test_sumo_context_range_unsubscribe(void **state)
{
    (void)state;
    eai_traci_t *t = start();
    const int J = EAI_TRACI_CTX_JUNCTION, V = EAI_TRACI_SUB_VEHICLE;
    double jx, jy;
    assert_int_equal(eai_traci_junction_position(t, "C", &jx, &jy), EAI_OK);
    const int pos_var[] = {EAI_TRACI_VAR_POSITION};
    assert_int_equal(
        eai_traci_subscribe_context(t, J, "C", EAI_TRACI_GET_VEHICLE, 60.0, pos_var, 1), EAI_OK);
    assert_int_equal(eai_traci_step(t, 20), EAI_OK);
    /* vehicle ns.1 for 5 s only (from now to now + 5) */
    double now;
    assert_int_equal(eai_traci_sim_time(t, &now), EAI_OK);
    assert_int_equal(eai_traci_subscribe_range(t, V, "ns.1", VEH_VARS, 3, now, now + 5), EAI_OK);
    int n_in = 0, n_steps_ns1 = 0;
    for (int k = 0; k < 40; k++) {
        assert_int_equal(eai_traci_step(t, 0), EAI_OK);
        if (eai_traci_sub_has(t, V, "ns.1")) n_steps_ns1++;
        /* context objects are within range; vehicles well inside are all there */
        int pos = 0, n = 0;
        const char *id;
        while (eai_traci_sub_next(t, J, "C", &pos, &id)) {
            double x, y;
            assert_int_equal(eai_traci_sub_pos2d(t, J, id, EAI_TRACI_VAR_POSITION, &x, &y), EAI_OK);
            double gx, gy;
            assert_int_equal(eai_traci_veh_position(t, id, &gx, &gy), EAI_OK);
            assert_true(x == gx && y == gy);
            /* SUMO measures from the junction's shape: allow its extent */
            assert_true(hypot(x - jx, y - jy) <= 60.0 + 15.0);
            n++;
        }
        eai_traci_strlist_t ids;
        assert_int_equal(eai_traci_veh_ids(t, &ids), EAI_OK);
        for (int i = 0; i < ids.n; i++) {
            char id2[64];
            snprintf(id2, sizeof id2, "%s", ids.items[i]);
            double gx, gy;
            assert_int_equal(eai_traci_veh_position(t, id2, &gx, &gy), EAI_OK);
            if (hypot(gx - jx, gy - jy) < 55.0) assert_true(eai_traci_sub_has(t, J, id2));
            assert_int_equal(eai_traci_veh_ids(t, &ids), EAI_OK); /* the getter reused the arena */
        }
        n_in += n;
    }
    print_message("subs: %d context objects over 40 steps; ns.1 reported %d steps\n", n_in,
                  n_steps_ns1);
    assert_true(n_in > 20);
    /* the end time stops the reports: 5 s of 1 s steps, within one step either way */
    assert_true(n_steps_ns1 >= 4 && n_steps_ns1 <= 6);
    /* unsubscribing drops the results at once and for the next steps */
    assert_int_equal(eai_traci_unsubscribe_context(t, J, "C", EAI_TRACI_GET_VEHICLE, 60.0), EAI_OK);
    int pos = 0;
    const char *id;
    assert_false(eai_traci_sub_next(t, J, "C", &pos, &id));
    assert_int_equal(eai_traci_step(t, 0), EAI_OK);
    pos = 0;
    assert_false(eai_traci_sub_next(t, J, NULL, &pos, &id));
    eai_traci_strlist_t run;
    assert_int_equal(eai_traci_veh_ids(t, &run), EAI_OK);
    assert_true(run.n > 0);
    char vid[64];
    snprintf(vid, sizeof vid, "%s", run.items[run.n - 1]);
    assert_int_equal(eai_traci_subscribe(t, V, vid, VEH_VARS, 3), EAI_OK);
    assert_true(eai_traci_sub_has(t, V, vid));
    assert_int_equal(eai_traci_unsubscribe(t, V, vid), EAI_OK);
    assert_false(eai_traci_sub_has(t, V, vid));
    assert_int_equal(eai_traci_step(t, 0), EAI_OK);
    assert_false(eai_traci_sub_has(t, V, vid));
    /* bad arguments */
    assert_int_equal(eai_traci_subscribe(t, V, "ns.5", VEH_VARS, 0), EAI_E_INVALID);
    assert_int_equal(eai_traci_subscribe(t, 0xa4, "ns.5", VEH_VARS, 3), EAI_E_INVALID);
    assert_int_equal(eai_traci_subscribe(t, V, NULL, VEH_VARS, 3), EAI_E_INVALID);
    const int bad_var[] = {256};
    assert_int_equal(eai_traci_subscribe(t, V, "ns.5", bad_var, 1), EAI_E_INVALID);
    assert_int_equal(eai_traci_subscribe_context(t, J, "C", 0x12, 10, pos_var, 1), EAI_E_INVALID);
    assert_int_equal(eai_traci_subscribe_context(t, J, "C", EAI_TRACI_GET_VEHICLE, NAN, pos_var, 1),
                     EAI_E_INVALID);
    assert_true(eai_traci_ok(t));
}

int main(void)
{
    const struct CMUnitTest wire[] = {
        cmocka_unit_test(test_decode_values),
        cmocka_unit_test(test_literal_bytes),
        cmocka_unit_test(test_var_error_and_extended),
        cmocka_unit_test(test_subscribe_reply),
        cmocka_unit_test(test_truncated_and_garbage),
        cmocka_unit_test(test_no_alloc_steady_and_nomem),
        cmocka_unit_test(test_captured_replies),
    };
    const struct CMUnitTest live[] = {
        cmocka_unit_test(test_sumo_vehicles),
        cmocka_unit_test(test_sumo_context_range_unsubscribe),
    };
    int rc = cmocka_run_group_tests_name("traci_subs_wire", wire, NULL, NULL);
    rc |= cmocka_run_group_tests_name("traci_subs_sumo", live, setup, teardown);
    return rc;
}
