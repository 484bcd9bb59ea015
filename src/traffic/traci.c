/* TraCI connection: TCP socket to SUMO, one command per message, every read
 * and write bounded by poll() against a per-reply deadline. A transport or
 * framing failure breaks the handle for good (the byte stream can no longer
 * be trusted); SUMO's own error status leaves it usable. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/core_impl.h"
#include "traffic/traci_impl.h"

enum { ST_OPEN = 0, ST_CLOSED = 1, ST_BROKEN = 2 };

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- connect ---------------------------------------------------------------- */

/* One non-blocking connect attempt bounded by `ms`; returns fd or -1 with errno. */
static int try_connect(const struct addrinfo *ai, int ms)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) return fd;
    if (errno == EINPROGRESS) {
        struct pollfd pfd = {fd, POLLOUT, 0};
        int rc;
        do
            rc = poll(&pfd, 1, ms);
        while (rc < 0 && errno == EINTR);
        if (rc == 0) {
            close(fd);
            errno = ETIMEDOUT;
            return -1;
        }
        int err = 0;
        socklen_t len = sizeof err;
        if (rc > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) return fd;
        close(fd);
        errno = err ? err : EIO;
        return -1;
    }
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

eai_status_t eai_traci_connect(const char *host, int port, const eai_traci_opts_t *o,
                               eai_traci_t **out)
{
    static const eai_traci_opts_t defaults = {0};
    if (!o) o = &defaults;
    if (!out || !host || !*host || port <= 0 || port > 65535 || o->timeout_ms < 0 ||
        o->connect_timeout_ms < 0)
        return eai_fail(EAI_E_INVALID, "traci: connect: bad host, port %d or timeouts", port);
    *out = NULL;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, ps, &hints, &res);
    if (gai != 0)
        return eai_fail(EAI_E_UNAVAILABLE, "traci: cannot resolve '%s': %s", host,
                        gai_strerror(gai));

    int64_t deadline = now_us() + (int64_t)o->connect_timeout_ms * 1000;
    int fd = -1, err = 0;
    for (;;) {
        for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
            int64_t left = (deadline - now_us()) / 1000;
            fd = try_connect(ai, left > 1000 ? (int)left : 1000);
            if (fd < 0) err = errno;
        }
        if (fd >= 0 || now_us() >= deadline || (err != ECONNREFUSED && err != EAGAIN)) break;
        sleep_ms(20); /* SUMO opens its port only after loading the network */
    }
    freeaddrinfo(res);
    if (fd < 0)
        return eai_fail(err == ETIMEDOUT ? EAI_E_TIMEOUT : EAI_E_UNAVAILABLE,
                        "traci: cannot connect to %s:%d: %s", host, port, strerror(err));
    /* one small command per message: Nagle would add 40 ms per round trip */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    eai_traci_t *t = eai__calloc(&o->alloc, 1, sizeof *t);
    if (!t) {
        close(fd);
        return eai_fail(EAI_E_NOMEM, "traci: no memory for the handle");
    }
    t->alloc = o->alloc;
    t->fd = fd;
    t->timeout_ms = o->timeout_ms ? o->timeout_ms : 60000;
    t->w.alloc = &t->alloc;
    t->arena.alloc = &t->alloc;
    t->subs.alloc = &t->alloc;
    *out = t;
    return EAI_OK;
}

void eai_traci_destroy(eai_traci_t *t)
{
    if (!t) return;
    if (t->fd >= 0) close(t->fd);
    eai__traci_wr_free(&t->w);
    eai__free(&t->alloc, t->rbuf);
    eai__traci_arena_free(&t->arena);
    eai__traci_subs_free(&t->subs);
    eai__free(&t->alloc, t);
}

bool eai_traci_ok(const eai_traci_t *t)
{
    return t && t->state == ST_OPEN;
}

void eai_traci_stats(const eai_traci_t *t, int64_t *wait_us, int64_t *n_roundtrips)
{
    if (wait_us) *wait_us = t ? t->wait_us : 0;
    if (n_roundtrips) *n_roundtrips = t ? t->n_rt : 0;
}

/* ---- round trip ------------------------------------------------------------- */

static eai_status_t broken(eai_traci_t *t, eai_status_t st, const char *fmt, const char *detail)
{
    char hint[600] = "";
    t->state = ST_BROKEN;
    if (t->fd >= 0) {
        close(t->fd);
        t->fd = -1;
    }
    if (t->peer_hint) t->peer_hint(t->peer_user, hint, sizeof hint);
    char msg[400];
    snprintf(msg, sizeof msg, fmt, detail);
    return eai_fail(st, "traci: %s%s%s", msg, hint[0] ? "; " : "", hint);
}

/* Waits until fd is ready for `ev` or the deadline; 1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short ev, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_us();
        if (left <= 0) return 0;
        struct pollfd p = {fd, ev, 0};
        int rc = poll(&p, 1, (int)((left + 999) / 1000));
        if (rc > 0) return 1;
        if (rc == 0) continue; /* re-check the clock */
        if (errno != EINTR) return -1;
    }
}

static eai_status_t send_all(eai_traci_t *t, const uint8_t *p, size_t n, int64_t deadline)
{
    while (n > 0) {
        ssize_t k = send(t->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k > 0) {
            p += k;
            n -= (size_t)k;
            continue;
        }
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int w = wait_fd(t->fd, POLLOUT, deadline);
            if (w == 0) return broken(t, EAI_E_TIMEOUT, "%s", "SUMO does not read its socket");
            if (w < 0) return broken(t, EAI_E_IO, "poll: %s", strerror(errno));
            continue;
        }
        if (errno == EPIPE || errno == ECONNRESET)
            return broken(t, EAI_E_UNAVAILABLE, "SUMO closed the connection (%s)", strerror(errno));
        return broken(t, EAI_E_IO, "send: %s", strerror(errno));
    }
    return EAI_OK;
}

static eai_status_t recv_all(eai_traci_t *t, uint8_t *p, size_t n, int64_t deadline, bool first)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = recv(t->fd, p + got, n - got, MSG_DONTWAIT);
        if (k > 0) {
            got += (size_t)k;
            continue;
        }
        if (k == 0) {
            if (first && got == 0)
                return broken(t, EAI_E_UNAVAILABLE, "%s", "SUMO closed the connection");
            return broken(t, EAI_E_UNAVAILABLE, "%s",
                          "SUMO closed the connection in the middle of a reply");
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int w = wait_fd(t->fd, POLLIN, deadline);
            if (w == 0) {
                char d[64];
                snprintf(d, sizeof d, "%d ms", t->timeout_ms);
                return broken(t, EAI_E_TIMEOUT, "no reply from SUMO within %s", d);
            }
            if (w < 0) return broken(t, EAI_E_IO, "poll: %s", strerror(errno));
            continue;
        }
        if (errno == ECONNRESET)
            return broken(t, EAI_E_UNAVAILABLE, "SUMO reset the connection (%s)", strerror(errno));
        return broken(t, EAI_E_IO, "recv: %s", strerror(errno));
    }
    return EAI_OK;
}

static eai_status_t check_open(const eai_traci_t *t)
{
    if (!t) return eai_fail(EAI_E_INVALID, "traci: NULL handle");
    if (t->state == ST_CLOSED) return eai_fail(EAI_E_STATE, "traci: connection already closed");
    if (t->state == ST_BROKEN)
        return eai_fail(EAI_E_STATE, "traci: connection broken by an earlier error");
    return EAI_OK;
}

/* Starts a message in t->w: room for the 4-byte total length. */
static void msg_begin(eai_traci_t *t)
{
    t->w.len = 0;
    t->w.oom = false;
    eai__traci_wr_i32(&t->w, 0);
}

eai_status_t eai__traci_roundtrip(eai_traci_t *t)
{
    EAI_TRY(check_open(t));
    if (t->w.oom) return eai_fail(EAI_E_NOMEM, "traci: no memory for a command");
    if (t->w.len > INT32_MAX) return eai_fail(EAI_E_INVALID, "traci: command too long");
    uint8_t *b = t->w.buf;
    uint32_t total = (uint32_t)t->w.len;
    b[0] = (uint8_t)(total >> 24), b[1] = (uint8_t)(total >> 16), b[2] = (uint8_t)(total >> 8);
    b[3] = (uint8_t)total;
    int64_t t0 = now_us();
    int64_t deadline = t0 + (int64_t)t->timeout_ms * 1000;
    EAI_TRY(send_all(t, b, t->w.len, deadline));
    uint8_t hdr[4];
    EAI_TRY(recv_all(t, hdr, 4, deadline, true));
    uint32_t len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
    if (len < 4 || len - 4 > EAI_TRACI_MAX_REPLY) {
        char d[64];
        snprintf(d, sizeof d, "%u", len);
        return broken(t, EAI_E_FORMAT, "reply length %s is not a TraCI message (garbage?)", d);
    }
    size_t n = len - 4;
    if (n > t->rcap) {
        uint8_t *nb = eai__realloc(&t->alloc, t->rbuf, n);
        if (!nb) return broken(t, EAI_E_NOMEM, "no memory for a %s reply", "large");
        t->rbuf = nb;
        t->rcap = n;
    }
    EAI_TRY(recv_all(t, t->rbuf, n, deadline, false));
    t->rlen = n;
    t->wait_us += now_us() - t0;
    t->n_rt++;
    return EAI_OK;
}

/* A reply that does not parse: the peer is not speaking TraCI as we know it. */
static eai_status_t check_parse(eai_traci_t *t, eai_status_t st)
{
    if (st == EAI_E_FORMAT) {
        t->state = ST_BROKEN;
        if (t->fd >= 0) close(t->fd);
        t->fd = -1;
    }
    return st;
}

/* Sends a message holding one command with no content beyond `cmd`'s own
 * bytes already written by `fill` and reads its status. */
static eai_status_t simple_cmd(eai_traci_t *t, int cmd, eai__traci_rd_t *r)
{
    EAI_TRY(eai__traci_roundtrip(t));
    *r = (eai__traci_rd_t){t->rbuf, t->rlen, 0, cmd, -1, NULL};
    return check_parse(t, eai__traci_read_status(r, cmd));
}

eai_status_t eai__traci_check_open(const eai_traci_t *t)
{
    return check_open(t);
}

eai_status_t eai__traci_check_parse(eai_traci_t *t, eai_status_t st)
{
    return check_parse(t, st);
}

void eai__traci_msg_begin(eai_traci_t *t)
{
    msg_begin(t);
}

eai_status_t eai_traci_get_version(eai_traci_t *t, int *api, const char **ident)
{
    EAI_TRY(check_open(t));
    msg_begin(t);
    eai__traci_wr_cmd_end(&t->w, eai__traci_wr_cmd_begin(&t->w, EAI_TRACI_CMD_GETVERSION));
    eai__traci_rd_t r;
    EAI_TRY(simple_cmd(t, EAI_TRACI_CMD_GETVERSION, &r));
    /* [len][0x00][int api][string ident] */
    uint8_t l8, id;
    int32_t v, l32;
    const uint8_t *s;
    size_t n;
    eai_status_t st = eai__traci_rd_u8(&r, &l8);
    if (st == EAI_OK && l8 == 0) st = eai__traci_rd_i32(&r, &l32);
    if (st == EAI_OK) st = eai__traci_rd_u8(&r, &id);
    if (st == EAI_OK && id != EAI_TRACI_CMD_GETVERSION)
        st = eai_fail(EAI_E_FORMAT, "traci: getVersion: response id 0x%02x", id);
    if (st == EAI_OK) st = eai__traci_rd_i32(&r, &v);
    if (st == EAI_OK) st = eai__traci_rd_strview(&r, &s, &n);
    if (st == EAI_OK) st = eai__traci_arena_reserve(&t->arena, n);
    EAI_TRY(check_parse(t, st));
    char *d = (char *)t->arena.buf;
    memcpy(d, s, n);
    d[n] = 0;
    if (api) *api = v;
    if (ident) *ident = d;
    return EAI_OK;
}

eai_status_t eai_traci_step(eai_traci_t *t, double target_s)
{
    EAI_TRY(check_open(t));
    msg_begin(t);
    size_t c = eai__traci_wr_cmd_begin(&t->w, EAI_TRACI_CMD_SIMSTEP);
    eai__traci_wr_f64(&t->w, target_s); /* raw double, no type byte */
    eai__traci_wr_cmd_end(&t->w, c);
    EAI_TRY(eai__traci_roundtrip(t));
    /* status, then the subscription results, which replace the table */
    return check_parse(t, eai__traci_decode_step(t->rbuf, t->rlen, &t->subs));
}

eai_status_t eai_traci_set_order(eai_traci_t *t, int order)
{
    EAI_TRY(check_open(t));
    msg_begin(t);
    size_t c = eai__traci_wr_cmd_begin(&t->w, EAI_TRACI_CMD_SETORDER);
    eai__traci_wr_i32(&t->w, order);
    eai__traci_wr_cmd_end(&t->w, c);
    eai__traci_rd_t r;
    return simple_cmd(t, EAI_TRACI_CMD_SETORDER, &r);
}

eai_status_t eai_traci_close(eai_traci_t *t)
{
    EAI_TRY(check_open(t));
    msg_begin(t);
    eai__traci_wr_cmd_end(&t->w, eai__traci_wr_cmd_begin(&t->w, EAI_TRACI_CMD_CLOSE));
    eai__traci_rd_t r;
    eai_status_t st = simple_cmd(t, EAI_TRACI_CMD_CLOSE, &r);
    if (t->fd >= 0) close(t->fd);
    t->fd = -1;
    if (t->state == ST_OPEN) t->state = ST_CLOSED;
    return st;
}

/* ---- generic get/set ----------------------------------------------------- */

static eai_status_t get_value(eai_traci_t *t, int get, int var, const char *id,
                              eai__traci_value_t *v)
{
    EAI_TRY(check_open(t));
    if (!id) return eai_fail(EAI_E_INVALID, "traci: get 0x%02x/0x%02x: NULL id", get, var);
    msg_begin(t);
    size_t c = eai__traci_wr_cmd_begin(&t->w, (uint8_t)get);
    eai__traci_wr_u8(&t->w, (uint8_t)var);
    eai__traci_wr_str(&t->w, id);
    eai__traci_wr_cmd_end(&t->w, c);
    EAI_TRY(eai__traci_roundtrip(t));
    return check_parse(t, eai__traci_decode_get(t->rbuf, t->rlen, &t->arena, get, var, id, v));
}

static eai_status_t want(eai_traci_t *t, const eai__traci_value_t *v, eai__traci_kind_t k, int get,
                         int var, const char *id)
{
    static const char *names[] = {"none",     "int",    "double", "string",     "string list",
                                  "position", "logics", "links",  "lane links", "other"};
    if (v->kind == k) return EAI_OK;
    eai__traci_rd_t r = {NULL, 0, 0, get, var, id};
    char w[160];
    return check_parse(t,
                       eai_fail(EAI_E_FORMAT, "traci: %s: SUMO sent a %s where a %s was expected",
                                eai__traci_what(&r, w, sizeof w), names[v->kind], names[k]));
}

#define GET_BODY(kind, assign)                                                                     \
    eai__traci_value_t v;                                                                          \
    if (!out) return eai_fail(EAI_E_INVALID, "traci: NULL output");                                \
    EAI_TRY(get_value(t, get, var, id, &v));                                                       \
    EAI_TRY(want(t, &v, kind, get, var, id));                                                      \
    assign;                                                                                        \
    return EAI_OK

eai_status_t eai_traci_get_int(eai_traci_t *t, int get, int var, const char *id, int *out)
{
    GET_BODY(EAI__TRACI_INT, *out = v.i);
}

eai_status_t eai_traci_get_double(eai_traci_t *t, int get, int var, const char *id, double *out)
{
    GET_BODY(EAI__TRACI_DOUBLE, *out = v.d);
}

eai_status_t eai_traci_get_string(eai_traci_t *t, int get, int var, const char *id,
                                  const char **out)
{
    GET_BODY(EAI__TRACI_STRING, *out = v.s);
}

eai_status_t eai_traci_get_strlist(eai_traci_t *t, int get, int var, const char *id,
                                   eai_traci_strlist_t *out)
{
    GET_BODY(EAI__TRACI_STRLIST, *out = v.sl);
}

eai_status_t eai_traci_get_pos2d(eai_traci_t *t, int get, int var, const char *id, double *x,
                                 double *y)
{
    eai__traci_value_t v;
    if (!x || !y) return eai_fail(EAI_E_INVALID, "traci: NULL output");
    EAI_TRY(get_value(t, get, var, id, &v));
    EAI_TRY(want(t, &v, EAI__TRACI_POS2D, get, var, id));
    *x = v.x;
    *y = v.y;
    return EAI_OK;
}

eai_status_t eai__traci_get_kind(eai_traci_t *t, int get, int var, const char *id,
                                 eai__traci_kind_t kind, eai__traci_value_t *v)
{
    EAI_TRY(get_value(t, get, var, id, v));
    return want(t, v, kind, get, var, id);
}

/* Set command: [set][var][id][typed value written by the caller] + status. */
static size_t set_begin(eai_traci_t *t, int set, int var, const char *id)
{
    msg_begin(t);
    size_t c = eai__traci_wr_cmd_begin(&t->w, (uint8_t)set);
    eai__traci_wr_u8(&t->w, (uint8_t)var);
    eai__traci_wr_str(&t->w, id);
    return c;
}

static eai_status_t set_end(eai_traci_t *t, size_t c, int set, int var, const char *id)
{
    eai__traci_wr_cmd_end(&t->w, c);
    EAI_TRY(eai__traci_roundtrip(t));
    eai__traci_rd_t r = {t->rbuf, t->rlen, 0, set, var, id};
    return check_parse(t, eai__traci_read_status(&r, set));
}

#define SET_CHECK()                                                                                \
    EAI_TRY(check_open(t));                                                                        \
    if (!id) return eai_fail(EAI_E_INVALID, "traci: set 0x%02x/0x%02x: NULL id", set, var)

eai_status_t eai_traci_set_int(eai_traci_t *t, int set, int var, const char *id, int v)
{
    SET_CHECK();
    size_t c = set_begin(t, set, var, id);
    eai__traci_wr_u8(&t->w, EAI_TRACI_TYPE_INTEGER);
    eai__traci_wr_i32(&t->w, v);
    return set_end(t, c, set, var, id);
}

eai_status_t eai_traci_set_double(eai_traci_t *t, int set, int var, const char *id, double v)
{
    SET_CHECK();
    size_t c = set_begin(t, set, var, id);
    eai__traci_wr_u8(&t->w, EAI_TRACI_TYPE_DOUBLE);
    eai__traci_wr_f64(&t->w, v);
    return set_end(t, c, set, var, id);
}

eai_status_t eai_traci_set_string(eai_traci_t *t, int set, int var, const char *id, const char *v)
{
    SET_CHECK();
    if (!v) return eai_fail(EAI_E_INVALID, "traci: set 0x%02x/0x%02x: NULL value", set, var);
    size_t c = set_begin(t, set, var, id);
    eai__traci_wr_u8(&t->w, EAI_TRACI_TYPE_STRING);
    eai__traci_wr_str(&t->w, v);
    return set_end(t, c, set, var, id);
}

eai_status_t eai_traci_tls_set_logic(eai_traci_t *t, const char *id, const eai_traci_logic_t *l)
{
    const int set = EAI_TRACI_SET_TL, var = EAI_TRACI_VAR_TL_COMPLETE_PROGRAM;
    SET_CHECK();
    if (!l || !l->program_id || l->n_phases < 0 || (l->n_phases && !l->phases) || l->n_params < 0 ||
        (l->n_params && !l->params))
        return eai_fail(EAI_E_INVALID, "traci: set logic of '%s': bad logic", id);
    for (int i = 0; i < l->n_phases; i++)
        if (!l->phases[i].state || l->phases[i].n_next < 0 ||
            (l->phases[i].n_next && !l->phases[i].next))
            return eai_fail(EAI_E_INVALID, "traci: set logic of '%s': phase %d has no state", id,
                            i);
    eai__traci_wr_t *w = &t->w;
    size_t c = set_begin(t, set, var, id);
    eai__traci_wr_u8(w, EAI_TRACI_TYPE_COMPOUND);
    eai__traci_wr_i32(w, 5);
    eai__traci_wr_u8(w, EAI_TRACI_TYPE_STRING);
    eai__traci_wr_str(w, l->program_id);
    eai__traci_wr_u8(w, EAI_TRACI_TYPE_INTEGER);
    eai__traci_wr_i32(w, l->type);
    eai__traci_wr_u8(w, EAI_TRACI_TYPE_INTEGER);
    eai__traci_wr_i32(w, l->current_phase);
    eai__traci_wr_u8(w, EAI_TRACI_TYPE_COMPOUND);
    eai__traci_wr_i32(w, l->n_phases);
    for (int i = 0; i < l->n_phases; i++) {
        const eai_traci_phase_t *p = &l->phases[i];
        eai__traci_wr_u8(w, EAI_TRACI_TYPE_COMPOUND);
        eai__traci_wr_i32(w, 6);
        eai__traci_wr_u8(w, EAI_TRACI_TYPE_DOUBLE);
        eai__traci_wr_f64(w, p->duration);
        eai__traci_wr_u8(w, EAI_TRACI_TYPE_STRING);
        eai__traci_wr_str(w, p->state);
        eai__traci_wr_u8(w, EAI_TRACI_TYPE_DOUBLE);
        eai__traci_wr_f64(w, p->min_dur);
        eai__traci_wr_u8(w, EAI_TRACI_TYPE_DOUBLE);
        eai__traci_wr_f64(w, p->max_dur);
        eai__traci_wr_u8(w, EAI_TRACI_TYPE_COMPOUND);
        eai__traci_wr_i32(w, p->n_next);
        for (int j = 0; j < p->n_next; j++) {
            eai__traci_wr_u8(w, EAI_TRACI_TYPE_INTEGER);
            eai__traci_wr_i32(w, p->next[j]);
        }
        eai__traci_wr_u8(w, EAI_TRACI_TYPE_STRING);
        eai__traci_wr_str(w, p->name ? p->name : "");
    }
    eai__traci_wr_u8(w, EAI_TRACI_TYPE_COMPOUND);
    eai__traci_wr_i32(w, l->n_params);
    for (int i = 0; i < l->n_params; i++) {
        eai__traci_wr_u8(w, EAI_TRACI_TYPE_STRINGLIST);
        eai__traci_wr_i32(w, 2);
        eai__traci_wr_str(w, l->params[2 * i] ? l->params[2 * i] : "");
        eai__traci_wr_str(w, l->params[2 * i + 1] ? l->params[2 * i + 1] : "");
    }
    return set_end(t, c, set, var, id);
}
