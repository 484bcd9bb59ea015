/* Private to src/topo: the parsed topology (eai_topo_t) and helpers shared
 * by the parser, the simulator and the reports. Strings are owned copies. */
#ifndef EAI_TOPO_IMPL_H
#define EAI_TOPO_IMPL_H

#include "core/core_impl.h"
#include "edgeai/topo.h"

#define TOPO_MAX_GROUPS 64
#define TOPO_MAX_MODELS 16

typedef enum topo_arrivals { TOPO_POISSON = 0, TOPO_PERIODIC } topo_arrivals_t;

struct eai_topo {
    eai_allocator_t alloc;
    char *name;
    double budget_lo[EAI_TOPO_N_TIERS], budget_hi[EAI_TOPO_N_TIERS];
    double host_gops; /* throughput of the machine that measured host_ms */

    int n_groups;
    eai_topo_group_t groups[TOPO_MAX_GROUPS];
    double rate_hz[TOPO_MAX_GROUPS]; /* per-sensor sample rate */
    int link_of[TOPO_MAX_GROUPS];    /* index into links of the group's uplink, -1 for roots */

    int n_links;
    eai_topo_link_t links[EAI_TOPO_MAX_LINKS];

    int n_models;
    eai_topo_model_t models[TOPO_MAX_MODELS];

    /* workload */
    double rate_hz_default, duration_s;
    uint64_t seed;
    topo_arrivals_t arrivals;
    /* hybrid */
    double offload;
    /* federated */
    double fl_round_s;
    int64_t fl_clients;       /* per round */
    int64_t fl_local_samples; /* per client per round (for the default train time) */
    int fl_epochs;
    int fl_model; /* model index trained, -1: the edge node's model */
    /* cost */
    double lifetime_years, usd_per_kwh, egress_usd_per_gb;
};

/* Model index by name, -1 if absent. */
int eai__topo_model_index(const eai_topo_t *t, const char *name);
/* Host-measured ms scaled to a profile (the rule in topo.h). */
double eai__topo_scale_ms(const eai_topo_t *t, const eai_hw_profile_t *hw, double host_ms);
/* Local training time of `m` on `hw`, ms. */
double eai__topo_train_ms(const eai_topo_t *t, const eai_hw_profile_t *hw, int m);

#endif
