/* The node runtime: the nodes of a topology (edgeai/topo.h) exchanging real
 * messages over a transport (edgeai/transport.h), in one process over the
 * in-process bus or one process per node over MQTT brokers bridged per tier.
 *
 *   // every node of a topology in this process, virtual clock, deterministic:
 *   eai_node_report_t r;
 *   EAI_TRY(eai_node_run_inproc(topo, &(eai_node_run_opts_t){.seconds = 10}, &r));
 *   printf("%llu of %llu samples at the cloud\n", r.at_root, r.expected);
 *
 *   // one node driven by its own loop (what `edgeai node` does):
 *   eai_transport_t *tr;   // eai_transport_mqtt(..., {.client_id = "gw-0"}) or inproc
 *   eai_node_t *n;
 *   EAI_TRY(eai_node_create(topo, tr, &(eai_node_opts_t){.name = "gw-0",
 *                                                     .state_dir = "state"}, &n));
 *   while (!eai_node_done(n)) EAI_TRY(eai_node_step(n, seconds_since_start(), 50));
 *   eai_node_destroy(n);
 *
 * Names. Instance i of node group "gw" is the node "gw-i" (0-based). Its
 * parent is instance floor(i * m / n) of the parent group (topo.h).
 *
 * Roles. A node of a group with the sensor role makes samples: record
 * (origin, seq, timestamp, value, payload bytes), N = round(seconds x rate)
 * of them, seq 0..N-1, paced at the group's rate. value is a deterministic
 * function of (seed, origin, seq) in [0, 1). Any other node with a parent
 * aggregates: it accepts what its children send, keeps counts and a summary
 * (count, sum, min, max of the values) and forwards summaries upward, each
 * closed once it covers batch_max samples or after batch_ms. A summary
 * names the samples it covers as ranges (origin, seq_lo, seq_hi), so the
 * root (a node without parent: the cloud) collects the exact set of sample
 * ids that reached it: its ledger.
 *
 * Delivery protocol (docs/topo.md, "running a topology"). Hop by hop, with
 * custody transfer:
 *  - Every message a node sends up has the id (sender, seq), seq 0, 1, 2...
 *    per sender, and sits in the sender's outbox (bounded: outbox_max) until
 *    the parent acknowledges it. Unacknowledged messages are sent again after
 *    resend_ms, and all of them at once after the transport reconnects or
 *    the node restarts.
 *  - A receiver de-duplicates by (sender, seq) (a watermark plus a window
 *    per child) and ignores copies (it acknowledges them again).
 *  - A receiver first makes the message durable (its state: de-duplication,
 *    the samples now pending in its own outbox), then acknowledges it
 *    (acknowledgements flow downward, one message may ack many seqs). So a
 *    sample is always owned by at least one node's durable state; a crash
 *    between the two steps only causes a resend, which the de-duplication
 *    absorbs. Hence: delivered once, nothing lost.
 *  - The last message a node sends carries its total (final_count); a node
 *    is done when its own last message is acknowledged and, for aggregators,
 *    every child has delivered its last message. The whole tree drains and
 *    stops by itself.
 * State is written (temporary file + rename) to <state_dir>/<name>.state
 * before any message that depends on it is published, so a killed process
 * (kill -9) restarted with the same state_dir resumes: it replays only the
 * unacknowledged outbox and continues its seq. Without state_dir the state
 * lives in memory only (eai_node_run_inproc gives nodes a temporary state
 * folder when it scripts drop-outs). Durable
 * against process crashes; against power loss only with opts.fsync.
 *
 * Topics: <prefix>/<parent tier>/up/<parent name> (data, QoS 1) and
 * <prefix>/<child tier>/ack/<child name> (acks, QoS 1); prefix defaults to
 * "edgeai/node/<topology name>" (characters outside [A-Za-z0-9_-] -> '_').
 * The tier in the topic lets one broker per tier bridge exactly the topics
 * that cross it (eai_node_write_broker_conf).
 *
 * Link emulation (opts.emulate_links): no netem (it needs root or a network
 * namespace); instead each message a node publishes waits in the node for the
 * topology link's latency + U(0, jitter) and is dropped with its loss
 * probability (the resend timer recovers it). Over the in-process bus on the
 * virtual clock this makes delivery times follow the topology.
 *
 * Threads: a node is single-threaded (its transport's rules). Different
 * nodes may run in different threads. eai_node_run_inproc uses the calling
 * thread only.
 */
#ifndef EDGEAI_NODE_H
#define EDGEAI_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "edgeai/model.h"
#include "edgeai/status.h"
#include "edgeai/topo.h"
#include "edgeai/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eai_node eai_node_t;

/* Zero-init means the defaults. */
typedef struct eai_node_opts {
    const char *name;      /* "group-i"; required. Copied. */
    const char *state_dir; /* NULL: state in memory only. Must exist. Copied. */
    const char *prefix;    /* topic prefix; NULL: "edgeai/node/<topology name>". Copied. */
    double seconds;        /* workload length: each sensor makes round(seconds x rate)
                              samples; 0: the topology's workload.duration_s */
    uint64_t seed;         /* sample values; 0: the topology's workload.seed */
    int payload_bytes;     /* per sample; 0: the group model's input_bytes (32 without a
                              model); < 0: none. At most 1 MiB. */
    int outbox_max;        /* unacknowledged messages kept; 0: 256. A full outbox stops
                              sampling (sensors) or accepting from children (aggregators) */
    int batch_max;         /* samples per summary; 0: 64 */
    int batch_ms;          /* a non-empty summary is sent after this long; 0: 100 */
    int resend_ms;         /* resend an unacknowledged message after this; 0: 1000 */
    bool emulate_links;    /* delay/drop per the topology's links (see above) */
    bool fsync;            /* fsync state files (durable against power loss; slower) */
    eai_allocator_t alloc; /* zero: libc */
} eai_node_opts_t;

/* What one node did. Counts are totals since its first start (kept in its
 * state across restarts), except `restarts`. */
typedef struct eai_node_ledger {
    uint64_t generated;   /* samples made (sensors) */
    uint64_t sent;        /* messages made for the parent (each published at least once) */
    uint64_t resent;      /* publishes of them beyond the first (timer, reconnect, restart) */
    uint64_t acked;       /* own messages the parent acknowledged */
    uint64_t received;    /* messages accepted from children (first copies) */
    uint64_t duplicates;  /* copies of messages already accepted, ignored */
    uint64_t refused;     /* messages not accepted for lack of room (resent later) */
    uint64_t acks_sent;   /* ack messages published */
    uint64_t samples;     /* distinct samples covered by accepted messages (sensors:
                             their own samples) */
    uint64_t sample_dups; /* samples that arrived twice in accepted messages (must be 0) */
    uint64_t delivered;   /* samples in own messages the parent acknowledged */
    uint64_t emu_dropped; /* messages dropped by link emulation */
    double sum, min, max; /* summary of the values of `samples` (min/max 0 when none) */
    uint64_t restarts;    /* times this node was restored from saved state */
} eai_node_ledger_t;

/* Creates node o->name of topology `t` on transport `tr`: subscribes to its
 * topics and restores its state from o->state_dir (or starts fresh when
 * there is none). `t` and `tr` are borrowed and must outlive the node; use
 * a persistent session (clean_session false, client_id = the node's name)
 * over MQTT so the broker keeps messages while the process is down.
 * EAI_E_INVALID (unknown or malformed name, with the known groups; bad
 * option), EAI_E_FORMAT (a corrupt state file), EAI_E_IO, EAI_E_NOMEM, or
 * the transport's status for the subscription. */
EAI_API eai_status_t eai_node_create(const eai_topo_t *t, eai_transport_t *tr,
                                     const eai_node_opts_t *o, eai_node_t **out);

/* One round of work at time now_s (seconds on the caller's clock, never
 * decreasing; a virtual clock is fine): takes the received messages (waits
 * up to wait_ms for the first one; 0 polls), makes the samples that are due,
 * closes summaries, saves the state if it changed, then publishes acks, new
 * messages, resends and emulated-link messages whose time has come.
 * Malformed messages are counted and dropped (a warning is logged). Errors:
 * EAI_E_IO (state file), EAI_E_NOMEM. A failed publish is not an error: the
 * message stays in the outbox and is resent. */
EAI_API eai_status_t eai_node_step(eai_node_t *n, double now_s, int wait_ms);

/* Whether the node has finished: its last message is acknowledged, (for
 * aggregators and the root) every child has delivered its last message, and
 * nothing waits in link emulation. A process should still answer for a
 * while after (`edgeai node` lingers 2 x resend_ms): if the last ack to a
 * child is lost, the child's resend needs someone to ack it again. */
EAI_API bool eai_node_done(const eai_node_t *n);

/* The node's name ("gw-0"), tier, and number of children. */
EAI_API const char *eai_node_name(const eai_node_t *n);
EAI_API eai_topo_tier_t eai_node_tier(const eai_node_t *n);
EAI_API int eai_node_n_children(const eai_node_t *n);

/* Copies the node's ledger into *out. */
EAI_API void eai_node_get_ledger(const eai_node_t *n, eai_node_ledger_t *out);

/* Writes the set of sample ids this node holds (sensors: made; others:
 * accepted from children) as text: header lines starting with '#' ("# node
 * NAME samples N sum S done 0|1", then the ledger's counters as "# generated
 * G sent S ..."), then one line "ORIGIN LO HI" per range, sorted by origin
 * then seq. Two runs that delivered the same samples write the same lines
 * after the header. EAI_E_IO. */
EAI_API eai_status_t eai_node_write_ledger(const eai_node_t *n, FILE *f);

/* Whether sample (origin, seq) is in the node's set. */
EAI_API bool eai_node_has_sample(const eai_node_t *n, const char *origin, uint64_t seq);

/* Ends the node. `crash` true: as a killed process would (nothing more is
 * published or saved; the state saved so far stays for a restart); false:
 * the same, the state is saved first. The transport is not touched.
 * Accepts NULL. */
EAI_API void eai_node_destroy(eai_node_t *n, bool crash);

/* The value of sample (origin, seq) under `seed` (what a sensor puts in it),
 * in [0, 1): a splitmix64 hash of seed, FNV-1a(origin) and seq. */
EAI_API double eai_node_sample_value(uint64_t seed, const char *origin, uint64_t seq);

/* Number of samples sensor node `name` makes in `seconds` (0: workload's),
 * round(seconds x rate), or 0 when it is not a sensor. -1 for an unknown
 * name (eai_last_error says why). */
EAI_API int64_t eai_node_expected_samples(const eai_topo_t *t, const char *name, double seconds);

/* Node name helpers: instance count of the whole topology (sum of counts),
 * and the k-th name in group order (group 0's instances first) into buf.
 * EAI_E_INVALID when k is out of range or buf too small. */
EAI_API int64_t eai_node_count(const eai_topo_t *t);
EAI_API eai_status_t eai_node_name_at(const eai_topo_t *t, int64_t k, char *buf, size_t n);

/* ---- every node in one process ---- */

/* A node that drops out: destroyed like a crash at at_s, recreated from its
 * state after down_s (virtual seconds). Messages sent to it meanwhile are
 * lost on the in-process bus (no broker keeps them): the senders resend. */
typedef struct eai_node_fault {
    const char *name;
    double at_s, down_s;
} eai_node_fault_t;

typedef struct eai_node_run_opts {
    double seconds;              /* workload (eai_node_opts_t.seconds); 0: workload's */
    uint64_t seed;               /* 0: workload.seed */
    double limit_s;              /* virtual time limit; 0: 10 x seconds + 60 */
    double tick_ms;              /* virtual clock step; 0: 5 */
    const eai_node_opts_t *node; /* template for every node (name ignored); NULL: defaults */
    const eai_node_fault_t *faults;
    int n_faults;
    const char *ledger_dir; /* non-NULL: writes <dir>/<name>.ledger for every node */
} eai_node_run_opts_t;

typedef struct eai_node_report {
    int64_t n_nodes;
    bool complete;          /* every node done before limit_s */
    double sim_s;           /* virtual time when the run ended */
    double wall_s;          /* wall time */
    uint64_t expected;      /* samples the sensors were to make (sum of expected_samples) */
    uint64_t generated;     /* samples made */
    uint64_t at_root;       /* distinct samples in the root nodes' sets */
    uint64_t sample_dups;   /* over all nodes (0 unless the protocol is broken) */
    uint64_t duplicates;    /* duplicate messages ignored, all nodes */
    uint64_t resent;        /* resends, all nodes */
    uint64_t messages;      /* messages published (data + acks), all nodes */
    uint64_t emu_dropped;   /* dropped by link emulation */
    double expected_sum;    /* sum of the values of every expected sample */
    double root_sum;        /* sum reported by the roots' summaries */
    eai_node_ledger_t root; /* the (first) root's ledger */
} eai_node_report_t;

/* Runs every node of `t` in this thread over one in-process bus on a virtual
 * clock (tick by tick, nodes in name order), until every node is done or
 * limit_s. Deterministic for a seed. `o` may be NULL. EAI_E_INVALID (bad
 * option or fault name), EAI_E_NOMEM, EAI_E_IO (state or ledger files).
 * Not finishing in time is not an error: report->complete says. */
EAI_API eai_status_t eai_node_run_inproc(const eai_topo_t *t, const eai_node_run_opts_t *o,
                                         eai_node_report_t *report);

/* ---- brokers per tier ---- */

/* Writes a mosquitto.conf for the broker of `tier` listening on
 * 127.0.0.1:port with persistence under `dir`; when parent_port > 0, a
 * bridge section (QoS 1, cleansession false) to 127.0.0.1:parent_port, the
 * broker of the next tier up, that sends out <prefix>/<T>/up/# for every
 * tier T above `tier` and brings in <prefix>/<T>/ack/# for `tier` and every
 * tier below it. `prefix` NULL: the default. `path`, `dir` borrowed.
 * EAI_E_IO, EAI_E_INVALID. */
EAI_API eai_status_t eai_node_write_broker_conf(const eai_topo_t *t, eai_topo_tier_t tier,
                                                const char *prefix, int port, int parent_port,
                                                const char *dir, const char *path);

/* The default topic prefix of a topology into buf ("edgeai/node/smart-city").
 * EAI_E_INVALID when buf is too small. */
EAI_API eai_status_t eai_node_default_prefix(const eai_topo_t *t, char *buf, size_t n);

#ifdef __cplusplus
}
#endif

#endif
