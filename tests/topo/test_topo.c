/* Topology parsing (good and bad configs, with JSON paths in the errors) and
 * the simulator against hand-computed cases: one link's latency, an M/D/1
 * queue's mean response time (Pollaczek-Khinchine), energy and cost
 * arithmetic, offload fraction, FL bytes, loss and resends, determinism and
 * the linear growth of events with devices. */
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

#include "edgeai/topo.h"

/* A two-tier topology: `dev` sensors under one `top` node, host profiles
 * (service time = host_ms), one link. %s slots: device extra, top extra,
 * link extra, workload extra, top-level extra. */
static const char *g_dev_hw = "host"; /* the device group's profile */

static eai_topo_t *make(const char *dev_roles, const char *dev_extra, const char *top_roles,
                        const char *top_extra, const char *link_extra, const char *workload,
                        const char *extra)
{
    char buf[4096];
    snprintf(buf, sizeof buf,
             "{\"name\": \"t\", \"host\": {\"gops\": 100},"
             " \"models\": {\"small\": {\"host_ms\": 2, \"bytes\": 1000, \"input_bytes\": 1250,"
             "   \"output_bytes\": 125},"
             "  \"big\": {\"host_ms\": 5, \"bytes\": 5000, \"input_bytes\": 1250, "
             "\"output_bytes\": 125}},"
             " \"nodes\": ["
             "  {\"name\": \"dev\", \"tier\": \"device\", \"hardware\": \"%s\", \"roles\": [%s],"
             "   \"model\": \"small\", \"parent\": \"top\" %s},"
             "  {\"name\": \"top\", \"tier\": \"cloud\", \"hardware\": \"host\", \"roles\": [%s],"
             "   \"model\": \"big\" %s}],"
             " \"links\": [{\"from\": \"device\", \"to\": \"cloud\", \"latency_ms\": 10,"
             "   \"bandwidth_mbps\": 1 %s}],"
             " \"workload\": {\"seed\": 7 %s} %s}",
             g_dev_hw, dev_roles, dev_extra, top_roles, top_extra, link_extra, workload, extra);
    eai_topo_t *t = NULL;
    eai_status_t st = eai_topo_parse(buf, strlen(buf), NULL, &t);
    if (st != EAI_OK) fprintf(stderr, "parse failed: %s\n", eai_last_error());
    assert_int_equal(st, EAI_OK);
    return t;
}

static void expect_bad(const char *json, const char *needle)
{
    eai_topo_t *t = NULL;
    assert_int_equal(eai_topo_parse(json, strlen(json), NULL, &t), EAI_E_FORMAT);
    assert_null(t);
    if (!strstr(eai_last_error(), needle))
        fail_msg("error '%s' lacks '%s'", eai_last_error(), needle);
}

static void test_parse_example(void **state)
{
    (void)state;
    eai_topo_t *t;
    assert_int_equal(eai_topo_load("examples/topo/smart_city.json", NULL, &t), EAI_OK);
    assert_int_equal(eai_topo_n_groups(t), 4);
    const eai_topo_group_t *cam = eai_topo_group(t, 0);
    assert_string_equal(cam->name, "cam");
    assert_int_equal(cam->tier, EAI_TOPO_DEVICE);
    assert_int_equal(cam->count, 1000);
    assert_string_equal(cam->hw.name, "coral-dev-board");
    assert_int_equal(cam->roles,
                     EAI_TOPO_ROLE_SENSOR | EAI_TOPO_ROLE_INFERENCE | EAI_TOPO_ROLE_TRAINING);
    assert_int_equal(cam->parent, 1);
    assert_int_equal(eai_topo_group(t, 3)->parent, -1);
    assert_int_equal(eai_topo_n_links(t), 3);
    assert_true(eai_topo_link(t, 2)->latency_ms == 40.0);
    assert_true(eai_topo_link(t, 0)->rto_ms == 200.0); /* default */
    /* bytes from the real file when not given */
    const eai_topo_model_t *m = eai_topo_model(t, 0);
    assert_string_equal(m->name, "edge");
    FILE *f = fopen("models/hybrid/edge.onnx", "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    assert_int_equal(m->bytes, ftell(f));
    fclose(f);
    double lo, hi;
    eai_topo_tier_budget(t, EAI_TOPO_REGIONAL, &lo, &hi);
    assert_true(lo == 20 && hi == 100);
    eai_topo_destroy(t);
}

static void test_parse_bad(void **state)
{
    (void)state;
    expect_bad("{\"nodes\": [", "invalid JSON");
    expect_bad("[]", "$: must be an object");
    expect_bad("{\"nodez\": []}", "$.nodez: unknown key");
    expect_bad("{}", "nodes: required");
    const char *head = "{\"models\": {\"m\": {\"host_ms\": 1, \"bytes\": 10}}, \"nodes\": [";
    char b[1024];
#define BAD(nodes, links, needle)                                                                  \
    do {                                                                                           \
        snprintf(b, sizeof b, "%s%s], \"links\": [%s]}", head, nodes, links);                      \
        expect_bad(b, needle);                                                                     \
    } while (0)
    BAD("{\"name\": \"a\", \"tier\": \"device\", \"hardware\": \"jetsn\"}", "",
        "nodes[0].hardware: unknown profile 'jetsn' (known: raspberry-pi-5");
    BAD("{\"name\": \"a\", \"tier\": \"edge\", \"hardware\": \"host\"}", "",
        "nodes[0].tier: unknown tier 'edge'");
    BAD("{\"name\": \"a\", \"tier\": \"device\", \"hardware\": \"host\", \"count\": 0}", "",
        "nodes[0].count: must be in [1, 1e+07], got 0");
    BAD("{\"name\": \"a\", \"tier\": \"device\", \"hardware\": \"host\", \"count\": 1.5}", "",
        "nodes[0].count: must be an integer");
    BAD("{\"name\": \"a\", \"tier\": \"device\", \"hardware\": \"host\", \"roles\": [\"x\"]}", "",
        "nodes[0].roles[0]: unknown role");
    BAD("{\"name\": \"a\", \"tier\": \"device\", \"hardware\": \"host\", \"roles\": "
        "[\"inference\"]}",
        "", "nodes[0].model: required for the inference role");
    BAD("{\"name\": \"a\", \"tier\": \"device\", \"hardware\": \"host\", \"model\": \"q\"}", "",
        "nodes[0].model: 'q' is not in \"models\"");
    BAD("{\"name\": \"a\", \"tier\": \"device\", \"hardware\": \"host\", \"parent\": \"b\"},"
        "{\"name\": \"b\", \"tier\": \"cloud\", \"hardware\": \"host\"}",
        "", "nodes[0]: no entry in \"links\" from device to cloud");
    BAD("{\"name\": \"a\", \"tier\": \"cloud\", \"hardware\": \"host\", \"parent\": \"b\"},"
        "{\"name\": \"b\", \"tier\": \"device\", \"hardware\": \"host\"}",
        "", "nodes[0].parent: 'b' is in tier device, not above this node's cloud");
    BAD("{\"name\": \"a\", \"tier\": \"device\", \"hardware\": \"host\", \"parent\": \"zz\"}", "",
        "nodes[0].parent: no node group named 'zz'");
    BAD("{\"name\": \"a\", \"tier\": \"device\", \"hardware\": \"host\"},"
        "{\"name\": \"a\", \"tier\": \"cloud\", \"hardware\": \"host\"}",
        "", "nodes[1].name: 'a' repeats nodes[0]");
    BAD("{\"name\": \"a\", \"tier\": \"device\", \"hardware\": \"host\"}",
        "{\"from\": \"cloud\", \"to\": \"device\", \"latency_ms\": 1, \"bandwidth_mbps\": 1}",
        "links[0]: \"to\" (device) must be a higher tier");
    BAD("{\"name\": \"a\", \"tier\": \"device\", \"hardware\": \"host\"}",
        "{\"from\": \"device\", \"to\": \"cloud\", \"latency_ms\": 1}",
        "links[0].bandwidth_mbps: required");
    BAD("{\"name\": \"a\", \"tier\": \"device\", \"hardware\": \"host\"}",
        "{\"from\": \"device\", \"to\": \"cloud\", \"latency_ms\": 1, \"bandwidth_mbps\": 1, "
        "\"loss\": 1.5}",
        "links[0].loss: must be in [0, 0.99], got 1.5");
    expect_bad("{\"models\": {\"m\": {\"bytes\": 10}}, \"nodes\": []}",
               "models.m.host_ms: required");
    expect_bad("{\"models\": {\"m\": {\"host_ms\": 1}}, \"nodes\": []}",
               "models.m: give \"bytes\" or a readable \"path\"");
    expect_bad("{\"tiers\": {\"device\": {\"budget_ms\": [5, 1]}}, \"nodes\": []}",
               "tiers.device.budget_ms: need 0 <= lo < hi");
    /* a missing file is an I/O error naming the path */
    eai_topo_t *t = NULL;
    assert_int_equal(eai_topo_load("/nonexistent/topo.json", NULL, &t), EAI_E_IO);
    assert_non_null(strstr(eai_last_error(), "/nonexistent/topo.json"));
}

/* One sensor, cloud-only, slow periodic arrivals (no queueing, no jitter, no
 * loss): latency = 2 x 10 ms + 1250 B at 1 Mbit/s (10 ms) + 5 ms service +
 * 125 B back (1 ms) = 36 ms exactly, every time. */
static void test_single_link_latency(void **state)
{
    (void)state;
    eai_topo_t *t = make("\"sensor\"", "", "\"inference\"", "", "",
                         ", \"rate_hz\": 2, \"duration_s\": 20, \"arrivals\": \"periodic\"", "");
    eai_topo_result_t r;
    assert_int_equal(eai_topo_simulate(t, EAI_TOPO_CLOUD_ONLY, NULL, &r), EAI_OK);
    assert_true(r.n_samples >= 39 && r.n_samples <= 40);
    assert_int_equal(r.n_done, r.n_samples);
    assert_float_equal(r.mean_ms, 36.0, 1e-9);
    assert_float_equal(r.max_ms, 36.0, 1e-9);
    assert_float_equal(r.p50_ms, 36.0, 36.0 * 0.005); /* histogram bins: 0.5% */
    assert_int_equal(r.links[0].bytes_up, 1250 * r.n_samples);
    assert_int_equal(r.links[0].bytes_down, 125 * r.n_samples);
    assert_int_equal(r.n_offloaded, r.n_samples);
    eai_topo_destroy(t);
}

/* M/D/1: Poisson arrivals at lambda = 250/s on one server with a fixed 2 ms
 * service (rho = 0.5). Pollaczek-Khinchine: Wq =
 * lambda E[S^2] / (2 (1 - rho)) = 1 ms, so the mean response is 3 ms. 200 s simulated (50,000
 * samples). */
static void test_md1_mean_response(void **state)
{
    (void)state;
    eai_topo_t *t = make("\"sensor\", \"inference\"", "", "", "", "",
                         ", \"rate_hz\": 250, \"duration_s\": 200", "");
    eai_topo_result_t r;
    assert_int_equal(eai_topo_simulate(t, EAI_TOPO_EDGE_ONLY, NULL, &r), EAI_OK);
    assert_true(r.n_done > 49000 && r.n_done < 51000);
    if (fabs(r.mean_ms - 3.0) > 0.09) fail_msg("M/D/1 mean %.4f ms, formula 3.0", r.mean_ms);
    /* the server is busy rho of the time */
    if (fabs(r.busy_frac_tier[EAI_TOPO_DEVICE] - 0.5) > 0.02)
        fail_msg("utilisation %.4f, expected 0.5", r.busy_frac_tier[EAI_TOPO_DEVICE]);
    /* the utilisation law gives capacity ~ mu = 500/s */
    assert_float_equal(r.capacity_per_s, 500.0, 20.0);
    /* two servers (M/D/2) wait less than one */
    eai_topo_destroy(t);
    t = make("\"sensor\", \"inference\"", ", \"cores\": 2", "", "", "",
             ", \"rate_hz\": 250, \"duration_s\": 200", "");
    eai_topo_result_t r2;
    assert_int_equal(eai_topo_simulate(t, EAI_TOPO_EDGE_ONLY, NULL, &r2), EAI_OK);
    assert_true(r2.mean_ms < r.mean_ms && r2.mean_ms >= 2.0);
    eai_topo_destroy(t);
}

/* Energy = idle * T + (load - idle) * busy; cost = capex * T / lifetime +
 * energy * price (owned hardware). Host profile: idle 10 W, load 20 W. */
static void test_energy_cost(void **state)
{
    (void)state;
    eai_topo_t *t = make("\"sensor\", \"inference\"", ", \"count\": 3", "", "", "",
                         ", \"rate_hz\": 1, \"duration_s\": 100, \"arrivals\": \"periodic\"",
                         ", \"cost\": {\"usd_per_kwh\": 0.2, \"lifetime_years\": 2}");
    eai_topo_result_t r;
    assert_int_equal(eai_topo_simulate(t, EAI_TOPO_EDGE_ONLY, NULL, &r), EAI_OK);
    assert_int_equal(r.n_done, r.n_samples);
    /* only the device group is used: 3 x 10 W x T + 10 W x 2 ms per answer */
    double e = 3 * 10.0 * r.sim_s + 10.0 * 0.002 * (double)r.n_done;
    assert_float_equal(r.energy_j, e, 1e-6);
    assert_float_equal(r.energy_j_tier[EAI_TOPO_CLOUD], 0.0, 0);
    assert_float_equal(r.energy_per_inf_mj, e / (double)r.n_done * 1e3, 1e-6);
    assert_float_equal(r.cost_usd, e / 3.6e6 * 0.2, 1e-12); /* host: no capex */
    assert_float_equal(r.cost_per_1m_usd, r.cost_usd / (double)r.n_done * 1e6, 1e-9);
    eai_topo_destroy(t);
    /* with a priced profile (gops overridden so timing stays simple) */
    g_dev_hw = "raspberry-pi-5";
    t = make("\"sensor\", \"inference\"", "", "", "", "", ", \"rate_hz\": 1, \"duration_s\": 100",
             ", \"cost\": {\"lifetime_years\": 2}");
    g_dev_hw = "host";
    assert_int_equal(eai_topo_simulate(t, EAI_TOPO_EDGE_ONLY, NULL, &r), EAI_OK);
    double capex = 80.0 * r.sim_s / (2 * 365.25 * 86400);
    assert_float_equal(r.cost_usd_parts[0], capex, 1e-12);
    assert_float_equal(r.cost_usd_parts[1], 0.0, 0);
    assert_float_equal(r.cost_usd_parts[2], r.energy_j / 3.6e6 * 0.15, 1e-12);
    eai_topo_destroy(t);
}

static void test_hybrid_offload(void **state)
{
    (void)state;
    eai_topo_t *t =
        make("\"sensor\", \"inference\"", ", \"count\": 10", "\"inference\"", "", "",
             ", \"rate_hz\": 10, \"duration_s\": 100", ", \"hybrid\": {\"offload\": 0.3}");
    eai_topo_result_t r, e;
    assert_int_equal(eai_topo_simulate(t, EAI_TOPO_HYBRID, NULL, &r), EAI_OK);
    double f = (double)r.n_offloaded / (double)r.n_samples;
    if (fabs(f - 0.3) > 0.015) fail_msg("offload %.4f, configured 0.3", f);
    /* offload 0 is edge-only's latency; offload 1 sends everything up */
    eai_topo_sim_opts_t o = {.set_offload = true, .offload = 0};
    assert_int_equal(eai_topo_simulate(t, EAI_TOPO_HYBRID, &o, &r), EAI_OK);
    assert_int_equal(eai_topo_simulate(t, EAI_TOPO_EDGE_ONLY, &o, &e), EAI_OK);
    assert_int_equal(r.n_offloaded, 0);
    assert_float_equal(r.mean_ms, e.mean_ms, 1e-9);
    o.offload = 1;
    assert_int_equal(eai_topo_simulate(t, EAI_TOPO_HYBRID, &o, &r), EAI_OK);
    assert_int_equal(r.n_offloaded, r.n_samples);
    assert_true(r.p50_ms > 36.0); /* edge 2 ms + the 36 ms cloud round trip, plus queueing */
    eai_topo_destroy(t);
}

/* Each round: the global model (1,000 B) down to each client, the update up. */
static void test_federated_bytes(void **state)
{
    (void)state;
    eai_topo_t *t = make("\"sensor\", \"inference\", \"training\"", ", \"count\": 20",
                         "\"aggregation\"", "", "", ", \"rate_hz\": 1, \"duration_s\": 50",
                         ", \"federated\": {\"round_s\": 10, \"clients_per_round\": 5, "
                         "\"local_samples\": 10}");
    eai_topo_result_t r;
    assert_int_equal(eai_topo_simulate(t, EAI_TOPO_FEDERATED, NULL, &r), EAI_OK);
    assert_int_equal(r.fl_rounds, 5); /* rounds at 0, 10, 20, 30, 40 */
    assert_int_equal(r.links[0].bytes_down, 5 * 5 * 1000);
    assert_int_equal(r.links[0].bytes_up, 5 * 5 * 1000);
    assert_int_equal(r.fl_bytes, 2 * 5 * 5 * 1000);
    /* a round: 1,000 B down (8 ms) + 10 ms, train 3 x 2 ms x 10 = 60 ms, and back:
     * 2 x 18 + 60 = 96 ms when the links and the device are free */
    assert_true(r.fl_round_mean_s >= 0.096 - 1e-9 && r.fl_round_mean_s < 0.2);
    eai_topo_destroy(t);
}

static void test_loss_resends(void **state)
{
    (void)state;
    eai_topo_t *t = make("\"sensor\"", ", \"count\": 10", "\"inference\"", "", ", \"loss\": 0.2",
                         ", \"rate_hz\": 10, \"duration_s\": 100", "");
    eai_topo_result_t r;
    assert_int_equal(eai_topo_simulate(t, EAI_TOPO_CLOUD_ONLY, NULL, &r), EAI_OK);
    double p = (double)r.links[0].resends / (double)r.links[0].msgs;
    if (fabs(p - 0.2) > 0.01) fail_msg("resend fraction %.4f, loss 0.2", p);
    assert_int_equal(r.n_done, r.n_samples); /* nothing is lost for good */
    assert_true(r.max_ms >= 36.0 + 200.0);   /* some answers waited out an RTO */
    eai_topo_destroy(t);
}

static void test_deterministic_and_linear(void **state)
{
    (void)state;
    eai_topo_t *t;
    assert_int_equal(eai_topo_load("examples/topo/smart_city.json", NULL, &t), EAI_OK);
    eai_topo_sim_opts_t o = {.duration_s = 5, .device_count = 100};
    eai_topo_result_t a, b;
    assert_int_equal(eai_topo_simulate(t, EAI_TOPO_HYBRID, &o, &a), EAI_OK);
    assert_int_equal(eai_topo_simulate(t, EAI_TOPO_HYBRID, &o, &b), EAI_OK);
    assert_int_equal(a.n_events, b.n_events);
    assert_int_equal(a.n_offloaded, b.n_offloaded);
    assert_true(a.mean_ms == b.mean_ms && a.p99_ms == b.p99_ms && a.energy_j == b.energy_j);
    assert_int_equal(a.n_pool_grows, 0);
    o.seed = 99;
    assert_int_equal(eai_topo_simulate(t, EAI_TOPO_HYBRID, &o, &b), EAI_OK);
    assert_true(a.n_offloaded != b.n_offloaded || a.mean_ms != b.mean_ms);
    /* events grow linearly with devices (the per-device cost is flat) */
    o.seed = 0;
    o.device_count = 1000;
    assert_int_equal(eai_topo_simulate(t, EAI_TOPO_HYBRID, &o, &b), EAI_OK);
    double ratio = (double)b.n_events / (double)a.n_events;
    if (ratio < 9 || ratio > 11) fail_msg("events x%.2f for 10x devices", ratio);
    eai_topo_destroy(t);
}

static void test_arch_requirements(void **state)
{
    (void)state;
    /* no inference below the cloud: edge-only, hybrid and federated refuse */
    eai_topo_t *t = make("\"sensor\"", "", "\"inference\"", "", "", "", "");
    eai_topo_result_t r;
    assert_int_equal(eai_topo_simulate(t, EAI_TOPO_EDGE_ONLY, NULL, &r), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "edge-only: sensor group 'dev'"));
    assert_int_equal(eai_topo_simulate(t, EAI_TOPO_FEDERATED, NULL, &r), EAI_E_INVALID);
    eai_topo_sim_opts_t o = {.set_offload = true, .offload = 2};
    assert_int_equal(eai_topo_simulate(t, EAI_TOPO_CLOUD_ONLY, &o, &r), EAI_E_INVALID);
    eai_topo_arch_t a;
    assert_int_equal(eai_topo_arch_parse("edge_only", &a), EAI_OK);
    assert_int_equal(a, EAI_TOPO_EDGE_ONLY);
    assert_int_equal(eai_topo_arch_parse("fog", &a), EAI_E_INVALID);
    eai_topo_destroy(t);
}

/* Scaling rule: service = max(min_ms, host_ms * host_gops / (gops / cores)). */
static void test_service_scaling_and_file(void **state)
{
    (void)state;
    eai_topo_t *t;
    assert_int_equal(eai_topo_load("examples/topo/smart_city.json", NULL, &t), EAI_OK);
    /* regional x86-server: 4096 GOPS over 32 cores = 128 per core, host 100 */
    int reg = 2;
    assert_string_equal(eai_topo_group(t, reg)->name, "regional");
    assert_float_equal(eai_topo_service_ms(t, reg, "cloud"), 0.0849 * 100.0 / 128.0, 1e-12);
    /* coral: floored at min_ms */
    assert_float_equal(eai_topo_service_ms(t, 0, "edge"), 0.25, 1e-12);
    assert_true(eai_topo_service_ms(t, 0, "nope") < 0);
    char path[] = "/tmp/topo_svc_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *svc = "{\"host\": {\"gops\": 50}, \"models\": {\"cloud\": {\"host_ms\": 1.0}, "
                      "\"other\": {\"host_ms\": 3}}}";
    assert_int_equal(write(fd, svc, strlen(svc)), (ssize_t)strlen(svc));
    close(fd);
    assert_int_equal(eai_topo_apply_service(t, path), EAI_OK);
    assert_float_equal(eai_topo_service_ms(t, reg, "cloud"), 1.0 * 50.0 / 128.0, 1e-12);
    /* a bad file changes nothing */
    FILE *f = fopen(path, "w");
    fputs("{\"host\": {\"gops\": -1}, \"models\": {\"cloud\": {\"host_ms\": 9}}}", f);
    fclose(f);
    assert_int_equal(eai_topo_apply_service(t, path), EAI_E_FORMAT);
    assert_non_null(strstr(eai_last_error(), "host.gops"));
    assert_float_equal(eai_topo_service_ms(t, reg, "cloud"), 1.0 * 50.0 / 128.0, 1e-12);
    unlink(path);
    eai_topo_destroy(t);
}

static void test_reports(void **state)
{
    (void)state;
    eai_topo_t *t;
    assert_int_equal(eai_topo_load("examples/topo/smart_city.json", NULL, &t), EAI_OK);
    eai_topo_sim_opts_t o = {.duration_s = 2, .device_count = 50};
    eai_topo_result_t r[EAI_TOPO_N_ARCH];
    assert_int_equal(eai_topo_compare(t, &o, r), EAI_OK);
    char path[] = "/tmp/topo_plot_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(eai_topo_plot_png(path, r, EAI_TOPO_N_ARCH), EAI_OK);
    FILE *f = fopen(path, "rb");
    unsigned char sig[8];
    assert_int_equal(fread(sig, 1, 8, f), 8);
    fclose(f);
    assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
    f = fopen(path, "w+");
    assert_int_equal(eai_topo_write_csv(f, r, EAI_TOPO_N_ARCH), EAI_OK);
    rewind(f);
    char line[2048];
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(strstr(line, "arch,sim_s,n_samples,n_done,p50_ms,p99_ms"));
    assert_non_null(strstr(line, "regional_cloud_bytes_up"));
    int rows = 0;
    while (fgets(line, sizeof line, f))
        rows++;
    assert_int_equal(rows, 4);
    fclose(f);
    unlink(path);
    assert_int_equal(eai_topo_plot_png("/nonexistent/dir/x.png", r, 4), EAI_E_IO);
    assert_int_equal(eai_topo_plot_png(path, r, 0), EAI_E_INVALID);
    eai_topo_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_example),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_single_link_latency),
        cmocka_unit_test(test_md1_mean_response),
        cmocka_unit_test(test_energy_cost),
        cmocka_unit_test(test_hybrid_offload),
        cmocka_unit_test(test_federated_bytes),
        cmocka_unit_test(test_loss_resends),
        cmocka_unit_test(test_deterministic_and_linear),
        cmocka_unit_test(test_arch_requirements),
        cmocka_unit_test(test_service_scaling_and_file),
        cmocka_unit_test(test_reports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
