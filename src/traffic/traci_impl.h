/* Private to the TraCI client: the handle, the byte reader and writer, the
 * reply arena and the pure reply decoders (no socket), so that the fuzzer and
 * the tests can feed them bytes. One idea: a reply is decoded into an arena
 * reserved up front for the reply's size, so pointers handed out during one
 * decode never move. */
#ifndef EAI_TRACI_IMPL_H
#define EAI_TRACI_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgeai/traci.h"

/* Replies larger than this are garbage (a real 1.15 reply for a whole
 * city's vehicle id list is a few MB). */
#define EAI_TRACI_MAX_REPLY ((size_t)64 << 20)

/* Bump arena for decoded values; reset before each decode. */
typedef struct eai__traci_arena {
    const eai_allocator_t *alloc;
    uint8_t *buf;
    size_t cap, used;
} eai__traci_arena_t;

/* Ensures room for decoding a reply of `reply_bytes` (every decoded byte is
 * bounded by a fixed multiple of the wire bytes it came from) and resets. */
eai_status_t eai__traci_arena_reserve(eai__traci_arena_t *a, size_t reply_bytes);
void eai__traci_arena_free(eai__traci_arena_t *a);

/* Bounds-checked big-endian reader over one reply. cmd, var and id name
 * the request in error messages (var < 0: none; id may be NULL). */
typedef struct eai__traci_rd {
    const uint8_t *p;
    size_t n, off;
    int cmd, var;
    const char *id;
} eai__traci_rd_t;

/* "get trafficlight 0x20 'J1'" style name of the request, for messages. */
const char *eai__traci_what(const eai__traci_rd_t *r, char *buf, size_t n);

eai_status_t eai__traci_rd_u8(eai__traci_rd_t *r, uint8_t *v);
eai_status_t eai__traci_rd_i32(eai__traci_rd_t *r, int32_t *v);
eai_status_t eai__traci_rd_f64(eai__traci_rd_t *r, double *v);
/* Raw string (int length + bytes) as a view; no copy, not NUL-terminated. */
eai_status_t eai__traci_rd_strview(eai__traci_rd_t *r, const uint8_t **s, size_t *len);
/* Expects the given type byte. */
eai_status_t eai__traci_rd_type(eai__traci_rd_t *r, uint8_t want);

/* A decoded value. */
typedef enum eai__traci_kind {
    EAI__TRACI_NONE = 0,
    EAI__TRACI_INT,
    EAI__TRACI_DOUBLE,
    EAI__TRACI_STRING,
    EAI__TRACI_STRLIST,
    EAI__TRACI_POS2D,
    EAI__TRACI_LOGICS,
    EAI__TRACI_LINKS,
    EAI__TRACI_LANE_LINKS,
    EAI__TRACI_OTHER, /* a known type skipped (color, polygon, ...) */
} eai__traci_kind_t;

typedef struct eai__traci_value {
    eai__traci_kind_t kind;
    int i;
    double d, x, y;
    const char *s;
    eai_traci_strlist_t sl;
    eai_traci_logics_t logics;
    eai_traci_links_t links;
    eai_traci_lane_links_t lane_links;
} eai__traci_value_t;

/* Reads the status part of a reply for command `cmd`: EAI_OK when SUMO says
 * OK, EAI_E_INVALID with SUMO's description on an error result, EAI_E_FORMAT
 * when the bytes are not a status for `cmd`. */
eai_status_t eai__traci_read_status(eai__traci_rd_t *r, int cmd);

/* Reads one typed value; `get`/`var` select the structured decoders
 * (logics, controlled links, lane links) that Python's client also special-
 * cases; otherwise the type byte decides. Strings land in the arena. */
eai_status_t eai__traci_read_value(eai__traci_rd_t *r, eai__traci_arena_t *a, int get, int var,
                                   eai__traci_value_t *v);

/* Decodes a whole reply message (after the 4-byte total length) to a get
 * command (get, var, id): status, response header, value. */
eai_status_t eai__traci_decode_get(const uint8_t *msg, size_t n, eai__traci_arena_t *a, int get,
                                   int var, const char *id, eai__traci_value_t *v);

/* Reads a command length (1 byte, or 0 + 4 bytes) and sets *end to the
 * offset where the command it announces ends (within the reply). */
eai_status_t eai__traci_rd_cmd_len(eai__traci_rd_t *r, size_t *end);
/* Skips a value of type `t` (its type byte already read). */
eai_status_t eai__traci_skip_value(eai__traci_rd_t *r, uint8_t t);

/* ---- subscription results (traci_sub.c) ---------------------------------- */

/* One variable of one object: the value, or SUMO's error for it. Strings
 * live in the pool by offset (the pool may move while results are added). */
typedef struct eai__traci_subval {
    uint8_t var, kind; /* kind: eai__traci_kind_t, or EAI__TRACI_SUB_ERR */
    int32_t i;
    double d, x, y;
    uint32_t off, n; /* string / error: pool offset; string list: first string, count */
} eai__traci_subval_t;

#define EAI__TRACI_SUB_ERR 0xff

/* One reported object: a variable subscription's object, or one object
 * found by a context subscription. */
typedef struct eai__traci_subobj {
    uint64_t h;      /* hash of (domain, id) */
    int domain;      /* the subscribe command (0xd4, 0x89, ...); 0: dropped */
    uint32_t id_off; /* pool offsets; ctx_off: the context object, or UINT32_MAX */
    uint32_t ctx_off;
    int32_t v0, nv; /* its variables: vals[v0 .. v0 + nv) */
    int32_t next;   /* hash chain */
} eai__traci_subobj_t;

/* The table of the latest results. Arrays grow to the largest step seen. */
typedef struct eai__traci_subs {
    const eai_allocator_t *alloc;
    eai__traci_subobj_t *objs;
    int n_objs, cap_objs;
    eai__traci_subval_t *vals;
    int n_vals, cap_vals;
    char *pool;
    size_t pool_len, pool_cap;
    int32_t *buckets; /* n_buckets (a power of two) chain heads, -1: empty */
    int n_buckets;
    const char **items; /* sub_strlist's pointer array */
    int cap_items;
} eai__traci_subs_t;

void eai__traci_subs_clear(eai__traci_subs_t *s);
void eai__traci_subs_free(eai__traci_subs_t *s);
/* Decodes a simulationStep reply (after the 4-byte total length): status,
 * the result count and every subscription result, replacing the table. */
eai_status_t eai__traci_decode_step(const uint8_t *msg, size_t n, eai__traci_subs_t *s);
/* Decodes the reply to a subscribe command `cmd` for `id`: status, then (if
 * any) the current values, added to the table. */
eai_status_t eai__traci_decode_subscribe(const uint8_t *msg, size_t n, eai__traci_subs_t *s,
                                         int cmd, const char *id);
/* Drops (domain, id) from the table (and, for a context, ctx_id's objects). */
void eai__traci_subs_drop(eai__traci_subs_t *s, int domain, const char *id);
/* First object (domain, id) having `var` (var < 0: any); NULL if none. */
const eai__traci_subobj_t *eai__traci_subs_find(const eai__traci_subs_t *s, int domain,
                                                const char *id, int var,
                                                const eai__traci_subval_t **val);

/* Growable big-endian writer. */
typedef struct eai__traci_wr {
    const eai_allocator_t *alloc;
    uint8_t *buf;
    size_t cap, len;
    bool oom;
} eai__traci_wr_t;

void eai__traci_wr_u8(eai__traci_wr_t *w, uint8_t v);
void eai__traci_wr_i32(eai__traci_wr_t *w, int32_t v);
void eai__traci_wr_f64(eai__traci_wr_t *w, double v);
void eai__traci_wr_str(eai__traci_wr_t *w, const char *s); /* int length + bytes */
/* Starts a command: reserves the extended header; finish writes the length in
 * the short (<= 255) or extended form, moving the body if needed. */
size_t eai__traci_wr_cmd_begin(eai__traci_wr_t *w, uint8_t cmd);
void eai__traci_wr_cmd_end(eai__traci_wr_t *w, size_t start);
void eai__traci_wr_free(eai__traci_wr_t *w);

/* The connection handle. */
struct eai_traci {
    eai_allocator_t alloc;
    int fd;
    int timeout_ms;
    int state; /* 0 open, 1 closed, 2 broken */
    eai__traci_wr_t w;
    uint8_t *rbuf; /* last reply (after the 4-byte length) */
    size_t rcap, rlen;
    eai__traci_arena_t arena;
    eai__traci_subs_t subs; /* latest subscription results */
    int64_t wait_us, n_rt;
    /* Set by eai_sumo_*: appends why the peer went away (exit status, log
     * line) to transport errors. */
    void (*peer_hint)(void *user, char *buf, size_t n);
    void *peer_user;
};

/* Sends the message in t->w (prefixing the total length) and reads one reply
 * into t->rbuf. Transport errors break the handle. */
eai_status_t eai__traci_roundtrip(eai_traci_t *t);

/* For traci_sub.c: the checks and message start traci.c uses. check_parse
 * breaks the handle on EAI_E_FORMAT (the stream is out of step) and passes
 * `st` through. */
eai_status_t eai__traci_check_open(const eai_traci_t *t);
eai_status_t eai__traci_check_parse(eai_traci_t *t, eai_status_t st);
void eai__traci_msg_begin(eai_traci_t *t);

/* A get command whose reply must decode to `kind` (the structured getters). */
eai_status_t eai__traci_get_kind(eai_traci_t *t, int get, int var, const char *id,
                                 eai__traci_kind_t kind, eai__traci_value_t *v);

#endif
