/* Hierarchical deployments (device -> gateway -> regional -> cloud) and the
 * architecture comparison: a JSON topology, a discrete-event simulator over
 * it for cloud-only, edge-only, hybrid and federated, and the report.
 *
 *   eai_topo_t *t;
 *   EAI_TRY(eai_topo_load("examples/topo/smart_city.json", NULL, &t));
 *   EAI_TRY(eai_topo_apply_service(t, "bench/results/issue8_service.json")); // optional
 *   eai_topo_result_t r[EAI_TOPO_N_ARCH];
 *   EAI_TRY(eai_topo_compare(t, NULL, r));        // all four architectures
 *   printf("hybrid p99 %.2f ms\n", r[EAI_TOPO_HYBRID].p99_ms);
 *   eai_topo_destroy(t);
 *
 * The topology (full schema in docs/topo.md): "tiers" (latency budgets),
 * "nodes" (groups of identical nodes: tier, count, hardware profile by name
 * from the built-in table, roles, model, parent group), "links" (per pair of
 * tiers: latency, jitter, bandwidth, loss), "models" (host-measured ms per
 * inference, byte sizes), "workload", "hybrid", "federated", "cost".
 * Instance i of a group of n nodes whose parent group has m nodes attaches to
 * parent instance floor(i * m / n), so 10,000 devices are one line.
 *
 * Simulator: one binary-heap event queue, a seeded RNG (xoshiro256**), node
 * instances as k-server FIFO queues (k = the profile's cores), one full-duplex
 * link per child instance (FIFO serialisation at bandwidth, then latency +
 * uniform jitter; a lost transmission is resent after rto_ms). Jobs and events
 * live in pools sized at setup that only grow (doubling) when the in-flight
 * high-water mark rises: no allocation per event. Same seed, same numbers.
 *
 * Service time of model M on profile P = max(P.min_ms, M.host_ms * host_gops /
 * (P.gops / P.cores)): the one-thread host measurement scaled by the ratio
 * of per-server throughputs (docs/topo.md: why, and where it is an estimate).
 *
 * Thread safety: a topology is read-only after load/apply_service; several
 * threads may simulate the same topology at once. Results are plain data.
 */
#ifndef EDGEAI_TOPO_H
#define EDGEAI_TOPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "edgeai/model.h"
#include "edgeai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eai_topo eai_topo_t;

/* The four tiers of the seed's hierarchy, bottom up. */
typedef enum eai_topo_tier {
    EAI_TOPO_DEVICE = 0,
    EAI_TOPO_GATEWAY,
    EAI_TOPO_REGIONAL,
    EAI_TOPO_CLOUD,
} eai_topo_tier_t;
#define EAI_TOPO_N_TIERS 4

/* The architectures of the seed's comparison table. */
typedef enum eai_topo_arch {
    EAI_TOPO_CLOUD_ONLY = 0, /* every sample goes up to the cloud model */
    EAI_TOPO_EDGE_ONLY,      /* the lowest inference node answers */
    EAI_TOPO_HYBRID,         /* edge answers; a fraction `offload` also goes to the cloud */
    EAI_TOPO_FEDERATED,      /* edge-only inference + periodic FL rounds (model down/up) */
} eai_topo_arch_t;
#define EAI_TOPO_N_ARCH 4

/* Node roles (bit set). */
#define EAI_TOPO_ROLE_SENSOR      1u /* produces samples at workload rate */
#define EAI_TOPO_ROLE_INFERENCE   2u /* runs its model on samples */
#define EAI_TOPO_ROLE_AGGREGATION 4u /* FL server: sends the global model, collects updates */
#define EAI_TOPO_ROLE_TRAINING    8u /* FL client: trains locally each round it is picked */

/* "device", "gateway", "regional", "cloud"; "cloud-only", "edge-only",
 * "hybrid", "federated". Never NULL ("?" when out of range). */
EAI_API const char *eai_topo_tier_name(eai_topo_tier_t t);
EAI_API const char *eai_topo_arch_name(eai_topo_arch_t a);
/* Inverse of the above (also accepts "cloud_only", "edge_only"). EAI_E_INVALID. */
EAI_API eai_status_t eai_topo_arch_parse(const char *s, eai_topo_arch_t *out);

/* ---- hardware profiles ---- */

/* One hardware profile. The built-in table cites public spec sheets (the
 * `source` key is expanded in docs/topo.md); figures marked there as
 * estimates are estimates. */
typedef struct eai_hw_profile {
    const char *name;    /* table key, e.g. "jetson-orin-nano" */
    const char *title;   /* "NVIDIA Jetson Orin Nano 8GB (developer kit)" */
    double gops;         /* whole device, 1e9 ops/s, in the precision it runs a model at;
                            each of the `cores` servers gets gops / cores; 0: the host */
    int cores;           /* concurrent inferences (servers of the node's queue) */
    double mem_gb;       /* memory */
    double idle_w;       /* power at idle */
    double load_w;       /* power with every server busy */
    double min_ms;       /* per-inference floor: dispatch/accelerator overhead (estimate) */
    double capex_usd;    /* purchase price (0 for rented capacity) */
    double usd_per_hour; /* rental price (0 for owned hardware) */
    const char *source;  /* citation key in docs/topo.md */
} eai_hw_profile_t;

/* Built-in table: count, i-th entry (NULL out of range), lookup by name (NULL
 * if unknown). Entries are static; thread-safe. */
EAI_API int eai_hw_profile_count(void);
EAI_API const eai_hw_profile_t *eai_hw_profile_at(int i);
EAI_API const eai_hw_profile_t *eai_hw_profile_find(const char *name);

/* ---- the topology ---- */

/* A group of identical nodes (one "nodes" entry). Strings borrowed from the
 * topology. `hw` is the named profile with the entry's overrides applied. */
typedef struct eai_topo_group {
    const char *name;
    eai_topo_tier_t tier;
    int64_t count;
    eai_hw_profile_t hw;
    unsigned roles;    /* EAI_TOPO_ROLE_* */
    const char *model; /* name in "models", or NULL */
    int parent;        /* group index, -1 for a root */
} eai_topo_group_t;

/* The link between a child tier and its parent tier (one per child instance). */
typedef struct eai_topo_link {
    eai_topo_tier_t from, to; /* child tier, parent tier */
    double latency_ms;        /* one-way propagation */
    double jitter_ms;         /* uniform extra delay in [0, jitter_ms] */
    double bandwidth_mbps;    /* each direction */
    double loss;              /* probability a transmission is lost and resent */
    double rto_ms;            /* resend delay after a loss; default 200 (Linux TCP_RTO_MIN) */
} eai_topo_link_t;

/* A model: host-measured latency and byte sizes. */
typedef struct eai_topo_model {
    const char *name;
    const char *path;     /* may be NULL */
    double host_ms;       /* measured ms per inference on the host (edgeai bench p50) */
    double train_ms;      /* ms per local-training round on the host; 0: 3 x host_ms x samples */
    int64_t bytes;        /* model size (file size of `path` when not given) */
    int64_t input_bytes;  /* one sample sent up */
    int64_t output_bytes; /* one answer sent down */
} eai_topo_model_t;

/* Reads and validates a topology. Errors are EAI_E_IO (file) or EAI_E_FORMAT
 * with the JSON path ("nodes[2].hardware: unknown profile 'jetsn' (known:
 * ...)"). `alloc` may be NULL; the path is borrowed for the call. */
EAI_API eai_status_t eai_topo_load(const char *path, const eai_allocator_t *alloc,
                                   eai_topo_t **out);
/* Same from a buffer of n bytes (need not be NUL-terminated). */
EAI_API eai_status_t eai_topo_parse(const char *json, size_t n, const eai_allocator_t *alloc,
                                    eai_topo_t **out);
/* Accepts NULL. */
EAI_API void eai_topo_destroy(eai_topo_t *t);

/* Overrides model timings and the host throughput from a service file
 * written by bench/issue8.py:
 *   {"host": {"gops": 95.1, "cpu": "..."},
 *    "models": {"edge": {"host_ms": 0.011, "bytes": 81234}, ...}}
 * Models not in the topology are ignored. Not thread-safe with simulations
 * of the same topology. EAI_E_IO, EAI_E_FORMAT (with the JSON path). */
EAI_API eai_status_t eai_topo_apply_service(eai_topo_t *t, const char *path);

/* Read-only views; the pointers live as long as the topology. */
EAI_API int eai_topo_n_groups(const eai_topo_t *t);
EAI_API const eai_topo_group_t *eai_topo_group(const eai_topo_t *t, int i);
EAI_API int eai_topo_n_links(const eai_topo_t *t);
EAI_API const eai_topo_link_t *eai_topo_link(const eai_topo_t *t, int i);
EAI_API int eai_topo_n_models(const eai_topo_t *t);
EAI_API const eai_topo_model_t *eai_topo_model(const eai_topo_t *t, int i);
/* Latency budget of a tier, ms (the seed's defaults unless "tiers" overrides). */
EAI_API void eai_topo_tier_budget(const eai_topo_t *t, eai_topo_tier_t tier, double *lo_ms,
                                  double *hi_ms);
EAI_API const char *eai_topo_name(const eai_topo_t *t);
/* The workload: each sensor of group g samples at this rate (Hz; the
 * workload's default when the group sets none; 0 for a bad g), for this
 * many seconds, from this seed. */
EAI_API double eai_topo_group_rate_hz(const eai_topo_t *t, int g);
EAI_API double eai_topo_duration_s(const eai_topo_t *t);
EAI_API uint64_t eai_topo_seed(const eai_topo_t *t);
/* Service time (ms) of `model` on group `g`'s hardware; < 0 if unknown model. */
EAI_API double eai_topo_service_ms(const eai_topo_t *t, int g, const char *model);

/* ---- simulation ---- */

/* Zero-init: the topology's own values. */
typedef struct eai_topo_sim_opts {
    double duration_s;            /* simulated seconds; 0: workload.duration_s */
    uint64_t seed;                /* 0: workload.seed */
    bool set_offload;             /* use `offload` instead of hybrid.offload */
    double offload;               /* hybrid offload fraction in [0, 1] */
    int64_t device_count;         /* > 0: replaces every device-tier group's count (scaling runs) */
    const eai_allocator_t *alloc; /* NULL: the topology's */
} eai_topo_sim_opts_t;

#define EAI_TOPO_MAX_LINKS 8

/* Traffic on one tier pair, summed over its instances. */
typedef struct eai_topo_link_stats {
    eai_topo_tier_t from, to;
    uint64_t bytes_up, bytes_down; /* delivered payload bytes (resends counted once more each) */
    uint64_t msgs, resends;
    double max_util; /* busiest instance: transmit time / simulated time, either direction */
} eai_topo_link_stats_t;

/* One architecture's figures. Latency is sample creation -> answer back at
 * the sensor; energy counts every node the architecture uses (see docs). */
typedef struct eai_topo_result {
    eai_topo_arch_t arch;
    double sim_s;                           /* simulated time */
    uint64_t n_samples, n_done;             /* created, answered within sim_s */
    uint64_t n_offloaded;                   /* samples sent to the cloud model */
    double mean_ms, p50_ms, p99_ms, max_ms; /* quantiles from a log histogram (<0.5% error) */
    double throughput_per_s;                /* n_done / sim_s */
    double capacity_per_s;    /* bottleneck bound: min over used nodes of servers/load */
    double energy_j;          /* all used nodes: idle * sim_s + (load - idle) * busy */
    double energy_per_inf_mj; /* energy_j / n_done, millijoules */
    double energy_j_tier[EAI_TOPO_N_TIERS];
    double cost_usd;                         /* cost model over sim_s (docs/topo.md) */
    double cost_per_1m_usd;                  /* per million answered samples */
    double cost_usd_parts[4];                /* capex, rental, energy, egress */
    double busy_frac_tier[EAI_TOPO_N_TIERS]; /* mean server utilisation of used nodes */
    int n_links;
    eai_topo_link_stats_t links[EAI_TOPO_MAX_LINKS];
    uint64_t fl_rounds;     /* FL rounds completed (federated) */
    uint64_t fl_bytes;      /* model bytes moved by FL */
    double fl_round_mean_s; /* start -> last update aggregated */
    uint64_t n_events;      /* events processed */
    uint64_t n_pool_grows;  /* pool growths after setup (0 in steady state) */
    double wall_s;          /* wall time of the simulation */
} eai_topo_result_t;

/* Simulates one architecture. `o` may be NULL. EAI_E_INVALID (the topology
 * lacks what the architecture needs: e.g. edge-only without an inference
 * node below the cloud, federated without aggregation/training roles, with a
 * sentence), EAI_E_NOMEM. Thread-safe for distinct `out`. */
EAI_API eai_status_t eai_topo_simulate(const eai_topo_t *t, eai_topo_arch_t arch,
                                       const eai_topo_sim_opts_t *o, eai_topo_result_t *out);
/* All four architectures, out[arch]; stops at the first failure. */
EAI_API eai_status_t eai_topo_compare(const eai_topo_t *t, const eai_topo_sim_opts_t *o,
                                      eai_topo_result_t out[EAI_TOPO_N_ARCH]);

/* ---- reports ---- */

/* The comparison as a text table, CSV (header + one row per result) or JSON
 * (an object with "topology" and "architectures"). EAI_E_IO on write errors. */
EAI_API eai_status_t eai_topo_write_table(FILE *f, const eai_topo_t *t, const eai_topo_result_t *r,
                                          int n);
EAI_API eai_status_t eai_topo_write_csv(FILE *f, const eai_topo_result_t *r, int n);
EAI_API eai_status_t eai_topo_write_json(FILE *f, const eai_topo_t *t, const eai_topo_result_t *r,
                                         int n);
/* A PNG bar chart: one panel per metric (p50, p99, capacity, energy per
 * inference, cost per 1M), one bar per architecture, labelled with a
 * built-in 5x7 font. EAI_E_IO, EAI_E_NOMEM. */
EAI_API eai_status_t eai_topo_plot_png(const char *path, const eai_topo_result_t *r, int n);

#ifdef __cplusplus
}
#endif

#endif
