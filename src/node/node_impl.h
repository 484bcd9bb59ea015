/* Private to src/node: the node state (what eai_node_t holds and what its
 * state file saves), the wire format and the sample-id sets. The one idea:
 * everything a node must not lose lives in `struct eai_node` fields that
 * node_state.c saves, and nothing derived from them is published before they
 * are saved. */
#ifndef EAI_NODE_IMPL_H
#define EAI_NODE_IMPL_H

#include "core/core_impl.h"
#include "edgeai/node.h"
#include "edgeai/topo.h"

#define NODE_NAME_MAX  64
#define NODE_TOPIC_MAX 256
/* De-duplication window per child (seqs above the watermark it can track);
 * the sender's outbox never holds more unacknowledged messages than this. */
#define NODE_WIN         1024
#define NODE_MAX_OUT     NODE_WIN
#define NODE_MAX_PAYLOAD (1 << 20)

/* A growable byte buffer; `oom` sticks after a failed growth. */
typedef struct node_buf {
    uint8_t *p;
    size_t n, cap;
    const eai_allocator_t *a;
    bool oom;
} node_buf_t;

void eai__node_buf_put(node_buf_t *b, const void *p, size_t n);
void eai__node_buf_u16(node_buf_t *b, uint16_t v);
void eai__node_buf_u32(node_buf_t *b, uint32_t v);
void eai__node_buf_u64(node_buf_t *b, uint64_t v);
void eai__node_buf_f64(node_buf_t *b, double v);
void eai__node_buf_str(node_buf_t *b, const char *s);
void eai__node_buf_free(node_buf_t *b);

/* A bounds-checked reader: any short read sets `bad` and yields zeros. */
typedef struct node_rd {
    const uint8_t *p;
    size_t n, off;
    bool bad;
} node_rd_t;
uint16_t eai__node_rd_u16(node_rd_t *r);
uint32_t eai__node_rd_u32(node_rd_t *r);
uint64_t eai__node_rd_u64(node_rd_t *r);
double eai__node_rd_f64(node_rd_t *r);
/* Copies a length-prefixed string into buf (cap bytes, NUL-terminated); bad
 * when it does not fit, is empty or contains NUL or '/' '+' '#'. */
void eai__node_rd_str(node_rd_t *r, char *buf, size_t cap);
const uint8_t *eai__node_rd_bytes(node_rd_t *r, size_t n);

/* ---- sample-id sets: sorted disjoint ranges per origin ---- */

typedef struct node_range {
    uint64_t lo, hi; /* inclusive */
} node_range_t;

typedef struct node_origin {
    char *name;
    node_range_t *r;
    size_t n, cap;
} node_origin_t;

typedef struct node_set {
    node_origin_t *o;
    size_t n, cap;
    eai__strmap_t map; /* name -> index into o */
    const eai_allocator_t *a;
} node_set_t;

eai_status_t eai__node_set_init(node_set_t *s, const eai_allocator_t *a);
void eai__node_set_free(node_set_t *s);
/* Index of origin `name`, added when absent (-1 on NOMEM with eai_fail). */
int eai__node_set_origin(node_set_t *s, const char *name);
/* Adds [lo, hi] to origin i; *dups (may be NULL) gets how many were already in. */
eai_status_t eai__node_set_add(node_set_t *s, int i, uint64_t lo, uint64_t hi, uint64_t *dups);
bool eai__node_set_has(const node_set_t *s, const char *name, uint64_t seq);
uint64_t eai__node_set_count(const node_set_t *s);

/* ---- wire format (little-endian) ----
 * data: "EN1D" sender:str seq:u64 final:u64 t_us:u64 count:u64 sum min max:f64
 *       n_ranges:u32 {origin:str lo:u64 hi:u64}* payload_len:u32 payload
 * ack:  "EN1A" sender:str n:u32 seq:u64*
 * str:  len:u16 bytes (no NUL) */
#define NODE_MAGIC_DATA    0x44314e45u /* "EN1D" as little-endian u32 */
#define NODE_MAGIC_ACK     0x41314e45u /* "EN1A" */
#define NODE_MAGIC_STATE   0x53314e45u /* "EN1S" */
#define NODE_STATE_VERSION 1u

/* A range inside a pending summary: origin index into the node's set. */
typedef struct node_prange {
    int origin;
    uint64_t lo, hi;
} node_prange_t;

/* One unacknowledged message of the outbox. */
typedef struct node_out {
    uint64_t seq;
    uint64_t n_samples;
    uint8_t *bytes;
    size_t n;
    double last_sent; /* < 0: not sent since creation or restart */
    bool sent_once;   /* by this process (restored entries count as resends) */
} node_out_t;

typedef struct node_child {
    char name[NODE_NAME_MAX];
    char ack_topic[NODE_TOPIC_MAX];
    uint64_t wm;                  /* every seq < wm accepted */
    uint64_t bits[NODE_WIN / 64]; /* bit s % NODE_WIN: seq s in [wm, wm + NODE_WIN) accepted */
    uint64_t final;               /* total messages, 0 unknown */
    double lat_ms, jit_ms, loss;  /* emulated link to this child */
    uint64_t *acks;               /* seqs to acknowledge at the next publish */
    size_t n_acks, cap_acks;
} node_child_t;

/* A message held by link emulation until `at`. */
typedef struct node_emu {
    double at;
    char *topic;
    uint8_t *bytes;
    size_t n;
} node_emu_t;

struct eai_node {
    eai_allocator_t alloc;
    const eai_topo_t *t;
    eai_transport_t *tr;
    eai_node_opts_t o; /* strings below are owned copies */
    char name[NODE_NAME_MAX];
    char *state_dir;
    char prefix[160];
    int group;
    int64_t index;
    eai_topo_tier_t tier;
    bool sensor, has_parent;
    char parent[NODE_NAME_MAX];
    eai_topo_tier_t parent_tier;
    char up_topic[NODE_TOPIC_MAX];        /* where this node publishes data */
    char in_topic[NODE_TOPIC_MAX];        /* where its children publish */
    char ack_topic[NODE_TOPIC_MAX];       /* where its parent acknowledges */
    double up_lat_ms, up_jit_ms, up_loss; /* emulated uplink */
    int payload_bytes;

    /* children */
    node_child_t *ch;
    int n_ch;
    eai__strmap_t ch_map;

    /* saved state */
    uint64_t next_seq;  /* next own message seq */
    uint64_t final;     /* own total once known, else 0 */
    uint64_t gen_next;  /* next sample seq (sensors) */
    int64_t n_expected; /* samples to make */
    node_out_t *out;    /* outbox, seq order */
    int n_out;
    node_prange_t *pend; /* pending summary */
    size_t n_pend, cap_pend;
    uint64_t pend_count;
    double pend_sum, pend_min, pend_max;
    node_set_t set; /* sample ids held */
    eai_node_ledger_t led;

    /* volatile */
    double rate, gen_t0, now, pend_t0;
    uint64_t gen_base;
    bool dirty, was_connected, started, saved_once;
    uint64_t rng;
    node_emu_t *emu;
    size_t n_emu, cap_emu;
    node_buf_t scratch;
    uint64_t bad_msgs;
};

/* Encodes the state into b. */
void eai__node_state_encode(const eai_node_t *n, node_buf_t *b);
/* Restores from a state buffer; EAI_E_FORMAT with the path in the message. */
eai_status_t eai__node_state_decode(eai_node_t *n, const uint8_t *p, size_t len, const char *path);
/* Saves to <state_dir>/<name>.state if a state_dir is set. */
eai_status_t eai__node_state_save(eai_node_t *n);
/* Loads it; *found false when there is no file. */
eai_status_t eai__node_state_load(eai_node_t *n, bool *found);

/* Group and instance of "group-i"; EAI_E_INVALID with the known groups. */
eai_status_t eai__node_parse_name(const eai_topo_t *t, const char *name, int *group,
                                  int64_t *index);
/* Workload rate of group g, samples/s. */
double eai__node_group_rate(const eai_topo_t *t, int g);
/* splitmix64 step. */
uint64_t eai__node_mix(uint64_t x);
uint64_t eai__node_fnv(const char *s);

#endif
