/* The built-in hardware profiles and small name tables. Figures come from
 * public spec sheets where one exists (docs/topo.md lists each source and
 * which figures are estimates); `gops` is the whole device in the precision
 * it would run an edge model at (INT8 on the Edge TPU and Orin, FP16 tensor
 * cores on the T4, FP32 NEON/AVX on CPUs), split evenly over `cores`. */
#include <math.h>
#include <string.h>

#include "topo/topo_impl.h"

static const eai_hw_profile_t k_profiles[] = {
    /* name, title, gops, cores, mem_gb, idle_w, load_w, min_ms, capex, $/h, source */
    {"raspberry-pi-5", "Raspberry Pi 5 8GB (4x Cortex-A76 2.4 GHz)", 153.6, 4, 8, 3.0, 8.0, 0.0,
     80.0, 0.0, "rpi5"},
    {"coral-dev-board", "Google Coral Dev Board (Edge TPU, i.MX 8M)", 4000.0, 1, 1, 3.0, 5.0, 0.25,
     149.99, 0.0, "coral"},
    {"jetson-orin-nano", "NVIDIA Jetson Orin Nano 8GB dev kit, 15 W mode", 20000.0, 1, 8, 5.0, 15.0,
     0.1, 249.0, 0.0, "orin"},
    {"x86-server", "2-socket x86 server, 32 cores AVX-512 2.0 GHz (estimate)", 4096.0, 32, 256,
     100.0, 400.0, 0.0, 8000.0, 0.0, "server"},
    {"cloud-gpu-t4", "Cloud GPU instance, NVIDIA T4 (AWS g4dn.xlarge)", 65000.0, 4, 16, 10.0, 70.0,
     0.1, 0.0, 0.526, "t4"},
    /* gops 0: the measuring host itself (service time = host_ms); for tests
     * and for checking the scaling rule against a direct measurement. */
    {"host", "The machine that measured host_ms (one core)", 0.0, 1, 8, 10.0, 20.0, 0.0, 0.0, 0.0,
     "host"},
};
#define N_PROFILES ((int)(sizeof k_profiles / sizeof k_profiles[0]))

int eai_hw_profile_count(void)
{
    return N_PROFILES;
}

const eai_hw_profile_t *eai_hw_profile_at(int i)
{
    return i >= 0 && i < N_PROFILES ? &k_profiles[i] : NULL;
}

const eai_hw_profile_t *eai_hw_profile_find(const char *name)
{
    if (!name) return NULL;
    for (int i = 0; i < N_PROFILES; i++)
        if (strcmp(k_profiles[i].name, name) == 0) return &k_profiles[i];
    return NULL;
}

static const char *const k_tiers[EAI_TOPO_N_TIERS] = {"device", "gateway", "regional", "cloud"};
static const char *const k_archs[EAI_TOPO_N_ARCH] = {"cloud-only", "edge-only", "hybrid",
                                                     "federated"};

const char *eai_topo_tier_name(eai_topo_tier_t t)
{
    return (unsigned)t < EAI_TOPO_N_TIERS ? k_tiers[t] : "?";
}

const char *eai_topo_arch_name(eai_topo_arch_t a)
{
    return (unsigned)a < EAI_TOPO_N_ARCH ? k_archs[a] : "?";
}

eai_status_t eai_topo_arch_parse(const char *s, eai_topo_arch_t *out)
{
    static const char *const alt[EAI_TOPO_N_ARCH] = {"cloud_only", "edge_only", "hybrid",
                                                     "federated"};
    for (int i = 0; s && i < EAI_TOPO_N_ARCH; i++)
        if (strcmp(s, k_archs[i]) == 0 || strcmp(s, alt[i]) == 0) {
            *out = (eai_topo_arch_t)i;
            return EAI_OK;
        }
    return eai_fail(EAI_E_INVALID,
                    "unknown architecture '%s' (cloud-only, edge-only, hybrid, federated)",
                    s ? s : "(null)");
}

/* Per-server throughput ratio: the host measured with one thread, so one
 * host core is compared with one of the profile's servers. */
double eai__topo_scale_ms(const eai_topo_t *t, const eai_hw_profile_t *hw, double host_ms)
{
    double per_server = hw->gops > 0 ? hw->gops / (hw->cores > 0 ? hw->cores : 1) : t->host_gops;
    double ms = host_ms * t->host_gops / per_server;
    return ms > hw->min_ms ? ms : hw->min_ms;
}

double eai__topo_train_ms(const eai_topo_t *t, const eai_hw_profile_t *hw, int m)
{
    const eai_topo_model_t *md = &t->models[m];
    /* forward + backward ~ 3 forward passes per sample (backward costs about
     * twice the forward); only used when the model gives no train_ms */
    double host = md->train_ms > 0
                      ? md->train_ms
                      : 3.0 * md->host_ms * (double)t->fl_local_samples * (double)t->fl_epochs;
    double per_server = hw->gops > 0 ? hw->gops / (hw->cores > 0 ? hw->cores : 1) : t->host_gops;
    return host * t->host_gops / per_server; /* no floor: one long batch job */
}

int eai__topo_model_index(const eai_topo_t *t, const char *name)
{
    for (int i = 0; name && i < t->n_models; i++)
        if (strcmp(t->models[i].name, name) == 0) return i;
    return -1;
}
