/* `edgeai demo`: the main job (issue 8). See demo.h for the tiers; this file
 * holds the options, the resources (models, scenarios, the cloud server, the
 * transport), the rounds (traffic in parallel per site, then a federated
 * round), the live lines and the final summary. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "demo.h"

static const char *const k_scenarios[] = {"asymmetric", "balanced", "surge"};

typedef struct opts {
    int sites, rounds, jobs, epochs, cls_every, threads;
    double minutes, fps, live_every;
    float threshold, lr;
    long seed;
    bool mqtt, quiet;
    const char *out, *models, *scenarios;
} opts_t;

static void usage(void)
{
    printf("usage: edgeai demo [options]\n"
           "  every tier on one machine: SUMO intersections seen by a rendered pole camera,\n"
           "  detect -> classify -> track on the device, counts to the gateway's signal\n"
           "  controller, unsure crops to a cloud `edgeai serve` through the hybrid router,\n"
           "  federated rounds improving the edge classifier across intersections.\n"
           "  --sites N        intersections (1..%d) [3]\n"
           "  --rounds R       traffic rounds, each followed by a federated round [3]\n"
           "  --minutes M      simulated minutes per round [2]\n"
           "  --fps F          camera frames per simulated second [5]\n"
           "  --threshold T    edge answers when its confidence >= T [0.85]\n"
           "  --cls-every K    classify each track every K frames [5]\n"
           "  --epochs E --lr X   local training (Adam) per federated round [2, 0.001]\n"
           "  --jobs N         sites simulated at once [2]\n"
           "  --mqtt           carry every message over a real mosquitto broker on 127.0.0.1\n"
           "  --out DIR        report.json, dashboard.png, frames, models [edgeai-demo]\n"
           "  --models DIR     the bundled models [models/, else next to the binary]\n"
           "  --scenarios DIR  SUMO scenarios from scripts/make_scenarios.sh [build/scenarios]\n"
           "  --seed S         [42]   --quiet  no live lines\n",
           DEMO_MAX_SITES);
}

/* ---------------------------------------------------------------- small stores */

eai_status_t demo_crops_init(demo_crops_t *c, int64_t cap)
{
    memset(c, 0, sizeof *c);
    c->x = malloc((size_t)cap * DEMO_CROP_N * sizeof(float));
    c->y = malloc((size_t)cap * sizeof(int32_t));
    if (!c->x || !c->y) {
        demo_crops_free(c);
        return eai_fail(EAI_E_NOMEM, "demo: out of memory (%lld crops)", (long long)cap);
    }
    c->cap = cap;
    return EAI_OK;
}

void demo_crops_push(demo_crops_t *c, const float *x, int32_t y)
{
    if (c->n >= c->cap) {
        c->dropped++;
        return;
    }
    memcpy(c->x + c->n * DEMO_CROP_N, x, DEMO_CROP_N * sizeof(float));
    c->y[c->n++] = y;
}

void demo_crops_free(demo_crops_t *c)
{
    free(c->x);
    free(c->y);
    memset(c, 0, sizeof *c);
}

void demo_lat_push(demo_lat_t *l, double ms)
{
    if (l->n == l->cap) {
        int64_t cap = l->cap ? 2 * l->cap : 1024;
        double *v = realloc(l->v, (size_t)cap * sizeof(double));
        if (!v) {
            l->dropped++;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = ms;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double demo_lat_pct(demo_lat_t *l, double p)
{
    if (l->n == 0) return -1;
    qsort(l->v, (size_t)l->n, sizeof(double), cmp_d);
    int64_t k = (int64_t)(p * (double)(l->n - 1) + 0.5);
    return l->v[k];
}

void demo_lat_free(demo_lat_t *l)
{
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* ---------------------------------------------------------------- options */

static int parse(int argc, char **argv, opts_t *o)
{
    *o = (opts_t){.sites = 3,
                  .rounds = 3,
                  .jobs = 2,
                  .epochs = 2,
                  .cls_every = 5,
                  .threads = 1,
                  .minutes = 2,
                  .fps = 5,
                  .live_every = 30,
                  .threshold = 0.85f,
                  .lr = 0.001f,
                  .seed = 42,
                  .out = "edgeai-demo"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        double d;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage();
            return -1;
        } else if (!strcmp(a, "--mqtt")) {
            o->mqtt = true;
            continue;
        } else if (!strcmp(a, "--quiet")) {
            o->quiet = true;
            continue;
        }
        if (!v) return cli_fail_usage("demo", "%s needs a value (see --help)", a);
        i++;
        if (!strcmp(a, "--sites")) {
            if (!cli_parse_int("demo", a, v, 1, DEMO_MAX_SITES, &n)) return 2;
            o->sites = (int)n;
        } else if (!strcmp(a, "--rounds")) {
            if (!cli_parse_int("demo", a, v, 1, DEMO_MAX_ROUNDS, &n)) return 2;
            o->rounds = (int)n;
        } else if (!strcmp(a, "--jobs")) {
            if (!cli_parse_int("demo", a, v, 1, DEMO_MAX_SITES, &n)) return 2;
            o->jobs = (int)n;
        } else if (!strcmp(a, "--epochs")) {
            if (!cli_parse_int("demo", a, v, 1, 100, &n)) return 2;
            o->epochs = (int)n;
        } else if (!strcmp(a, "--cls-every")) {
            if (!cli_parse_int("demo", a, v, 1, 1000, &n)) return 2;
            o->cls_every = (int)n;
        } else if (!strcmp(a, "--threads")) {
            if (!cli_parse_int("demo", a, v, 1, 64, &n)) return 2;
            o->threads = (int)n;
        } else if (!strcmp(a, "--seed")) {
            if (!cli_parse_int("demo", a, v, 0, 1000000000, &n)) return 2;
            o->seed = n;
        } else if (!strcmp(a, "--minutes")) {
            if (!cli_parse_double(v, 0.1, 120, &o->minutes))
                return cli_fail_usage("demo", "--minutes: '%s' is not in 0.1..120", v);
        } else if (!strcmp(a, "--fps")) {
            if (!cli_parse_double(v, 1, 30, &o->fps))
                return cli_fail_usage("demo", "--fps: '%s' is not in 1..30", v);
        } else if (!strcmp(a, "--threshold")) {
            if (!cli_parse_double(v, 0, 1.01, &d))
                return cli_fail_usage("demo", "--threshold: '%s' is not in 0..1", v);
            o->threshold = (float)d;
        } else if (!strcmp(a, "--lr")) {
            if (!cli_parse_double(v, 1e-6, 10, &d))
                return cli_fail_usage("demo", "--lr: '%s' is not in 1e-6..10", v);
            o->lr = (float)d;
        } else if (!strcmp(a, "--out")) {
            o->out = v;
        } else if (!strcmp(a, "--models")) {
            o->models = v;
        } else if (!strcmp(a, "--scenarios")) {
            o->scenarios = v;
        } else {
            return cli_fail_usage("demo", "unknown option '%s' (see --help)", a);
        }
    }
    return 0;
}

static bool is_file(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* `rel` under `dir` when that file exists: into buf, true. */
static bool find_in(const char *dir, const char *rel, char *buf, size_t n)
{
    int k = snprintf(buf, n, "%s/%s", dir, rel);
    return k > 0 && (size_t)k < n && is_file(buf);
}

/* The models folder: --models, else ./models, else <binary dir>/../models
 * (the binary lives in build/). */
static eai_status_t models_dir(const opts_t *o, char *dir, size_t n)
{
    char probe[PATH_MAX];
    if (o->models) {
        snprintf(dir, n, "%s", o->models);
    } else if (find_in("models", "scene/scene_det.onnx", probe, sizeof probe)) {
        snprintf(dir, n, "models");
    } else {
        char exe[PATH_MAX];
        ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (k < 0) k = 0;
        exe[k] = 0;
        snprintf(dir, n, "%s/../models", dirname(exe));
    }
    if (!find_in(dir, "scene/scene_det.onnx", probe, sizeof probe))
        return eai_fail(EAI_E_IO,
                        "demo: %s: no models (scene/scene_det.onnx); pass --models DIR "
                        "(the repository's models/ folder)",
                        probe);
    return EAI_OK;
}

static eai_status_t scenarios_dir(const opts_t *o, char *dir, size_t n)
{
    char probe[PATH_MAX];
    if (o->scenarios) {
        snprintf(dir, n, "%s", o->scenarios);
    } else {
        char exe[PATH_MAX];
        ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (k < 0) k = 0;
        exe[k] = 0;
        if (find_in("build/scenarios", "asymmetric.sumocfg", probe, sizeof probe))
            snprintf(dir, n, "build/scenarios");
        else
            snprintf(dir, n, "%s/scenarios", dirname(exe));
    }
    for (size_t i = 0; i < sizeof k_scenarios / sizeof k_scenarios[0]; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "%s.sumocfg", k_scenarios[i]);
        if (!find_in(dir, rel, probe, sizeof probe))
            return eai_fail(EAI_E_IO,
                            "demo: %s is missing; make the scenarios with "
                            "`bash scripts/make_scenarios.sh %s` (or pass --scenarios DIR)",
                            probe, dir);
    }
    return EAI_OK;
}

/* ---------------------------------------------------------------- rounds */

typedef struct job {
    demo_site_cfg_t cfg;
    demo_site_t *site;
    demo_site_round_t *out;
    eai_status_t st;
    char err[512];
} job_t;

typedef struct pool {
    job_t *jobs;
    int n, next;
    pthread_mutex_t mu;
} pool_t;

static void *worker(void *arg)
{
    pool_t *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        int k = p->next < p->n ? p->next++ : -1;
        pthread_mutex_unlock(&p->mu);
        if (k < 0) return NULL;
        job_t *j = &p->jobs[k];
        j->st = demo_site_run(&j->cfg, j->site, j->out);
        if (j->st != EAI_OK) snprintf(j->err, sizeof j->err, "%s", eai_last_error());
    }
}

static eai_status_t run_sites(job_t *jobs, int n, int n_threads)
{
    pool_t p = {.jobs = jobs, .n = n};
    pthread_mutex_init(&p.mu, NULL);
    pthread_t th[DEMO_MAX_SITES];
    int started = 0;
    for (int i = 0; i < n_threads && i < n; i++)
        if (pthread_create(&th[i], NULL, worker, &p) == 0) started++;
    if (started == 0) worker(&p);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_destroy(&p.mu);
    for (int i = 0; i < n; i++)
        if (jobs[i].st != EAI_OK)
            return eai_fail(jobs[i].st, "%s: %s", jobs[i].site->name, jobs[i].err);
    return EAI_OK;
}

static void print_round(const demo_run_t *r, int k)
{
    printf("\n-- round %d of %d: %.1f simulated minutes per site\n", k + 1, r->n_rounds,
           r->minutes);
    printf("%-7s %-10s %7s %7s %8s %9s %8s %8s %8s %8s %8s\n", "site", "scenario", "wait s",
           "veh/h", "cam/det", "offload", "edge acc", "answer", "dev p99", "gw p99", "cloud p50");
    for (int i = 0; i < r->n_sites; i++) {
        const demo_site_round_t *s = &r->sites[i].rounds[k];
        double off = s->n_cls ? 100.0 * (double)(s->n_cloud + s->n_fallback) / s->n_cls : 0;
        printf("%-7s %-10s %7.1f %7.0f %4ld/%-4ld %8.1f%% %7.1f%% %7.1f%% %6.2fms %6.2fms "
               "%6.2fms\n",
               r->sites[i].name, r->sites[i].scenario, s->mean_wait_s, s->throughput_vph,
               s->cam_count, s->det_count, off,
               s->n_truth ? 100.0 * s->edge_correct / s->n_truth : 0,
               s->n_truth ? 100.0 * s->final_correct / s->n_truth : 0, s->dev_p99, s->gw_p99,
               s->cloud_p50);
    }
}

typedef struct res {
    eai_bus_t *bus;
    eai_broker_t *broker;                 /* --mqtt: the regional tier's broker */
    eai_broker_t *site_b[DEMO_MAX_SITES]; /* --mqtt: each site's gateway broker */
    eai_transport_t *dev[DEMO_MAX_SITES], *gw[DEMO_MAX_SITES], *flc[DEMO_MAX_SITES], *fls;
    eai_server_t *cloud;
    demo_fl_t *fl;
} res_t;

static void res_free(res_t *x)
{
    demo_fl_destroy(x->fl);
    for (int i = 0; i < DEMO_MAX_SITES; i++) {
        eai_transport_destroy(x->dev[i]);
        eai_transport_destroy(x->gw[i]);
        eai_transport_destroy(x->flc[i]);
    }
    eai_transport_destroy(x->fls);
    eai_server_destroy(x->cloud);
    eai_bus_destroy(x->bus);
    for (int i = 0; i < DEMO_MAX_SITES; i++)
        eai_broker_destroy(x->site_b[i]);
    eai_broker_destroy(x->broker);
}

/* An endpoint on site `site`'s broker (-1: the regional one), or on the bus. */
static eai_status_t endpoint(res_t *x, int site, const char *id, eai_transport_t **out)
{
    eai_transport_opts_t to = {.client_id = id, .clean_session = true};
    eai_broker_t *b = site >= 0 ? x->site_b[site] : x->broker;
    if (b) return eai_transport_mqtt("127.0.0.1", eai_broker_port(b), &to, out);
    return eai_transport_inproc(x->bus, &to, out);
}

/* --mqtt: a broker for the regional tier, then one per site (its gateway
 * tier) bridged to it: updates go up, the global model comes down. */
static eai_status_t start_brokers(const opts_t *o, res_t *x)
{
    eai_status_t st = eai_broker_start(NULL, &x->broker);
    if (st == EAI_E_UNAVAILABLE)
        return eai_fail(st, "demo: --mqtt needs mosquitto (scripts/install-deps.sh)");
    EAI_TRY(st);
    for (int i = 0; i < o->sites; i++) {
        char conf[512];
        snprintf(conf, sizeof conf,
                 "connection demo-site-%d\n"
                 "address 127.0.0.1:%d\n"
                 "topic edgeai/demo/fl/update out 1\n"
                 "topic edgeai/demo/fl/model in 1\n"
                 "cleansession true\n"
                 "restart_timeout 1\n",
                 i + 1, eai_broker_port(x->broker));
        eai_broker_opts_t bo = {.extra_conf = conf};
        EAI_TRY(eai_broker_start(&bo, &x->site_b[i]));
    }
    return EAI_OK;
}

/* --mqtt: waits until every site's bridge carries the regional broker's
 * messages down (a bridge connects a moment after its broker starts). The
 * probes are not flmsg frames: the federated receivers skip them. */
static eai_status_t wait_bridges(const opts_t *o, res_t *x)
{
    for (int i = 0; i < o->sites; i++) {
        bool ok = false;
        for (int k = 0; k < 100 && !ok; k++) {
            EAI_TRY(eai_transport_publish(x->fls, "edgeai/demo/fl/model", "probe", 5, 1, false));
            eai_transport_msg_t m;
            ok = eai_transport_recv(x->flc[i], 200, &m) == EAI_OK;
        }
        if (!ok)
            return eai_fail(EAI_E_TIMEOUT,
                            "demo: the bridge of site-%d to the regional broker "
                            "carried nothing within 20 s",
                            i + 1);
    }
    return EAI_OK;
}

static eai_status_t setup(const opts_t *o, const char *models, res_t *x, int *cloud_port)
{
    if (o->mqtt) {
        EAI_TRY(start_brokers(o, x));
    } else {
        EAI_TRY(eai_bus_create(NULL, &x->bus));
    }
    for (int i = 0; i < o->sites; i++) {
        char id[64];
        snprintf(id, sizeof id, "demo-dev-%d", i + 1);
        EAI_TRY(endpoint(x, i, id, &x->dev[i]));
        snprintf(id, sizeof id, "demo-gw-%d", i + 1);
        EAI_TRY(endpoint(x, i, id, &x->gw[i]));
        snprintf(id, sizeof id, "demo-fl-%d", i + 1);
        EAI_TRY(endpoint(x, i, id, &x->flc[i]));
    }
    EAI_TRY(endpoint(x, -1, "demo-regional", &x->fls));
    char cloud_path[PATH_MAX + 32];
    if (snprintf(cloud_path, sizeof cloud_path, "%s/scene/scene_cls_cloud.onnx", models) < 0)
        return eai_fail(EAI_E_INVALID, "demo: bad models path");
    eai_serve_model_t m = {.name = "scene_cls", .path = cloud_path};
    eai_server_opts_t so = {
        .models = &m, .n_models = 1, .max_batch = 8, .max_delay_us = 1000, .quiet = true};
    EAI_TRY(eai_server_create(&so, &x->cloud));
    EAI_TRY(eai_server_start(x->cloud));
    *cloud_port = eai_server_port(x->cloud);
    return EAI_OK;
}

static eai_status_t mkdir_p(const char *d)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", d);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0755) && errno != EEXIST)
            return eai_fail(EAI_E_IO, "%s: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0755) && errno != EEXIST)
        return eai_fail(EAI_E_IO, "%s: %s", buf, strerror(errno));
    return EAI_OK;
}

static eai_status_t demo(const opts_t *o)
{
    char models[PATH_MAX], scen[PATH_MAX];
    EAI_TRY(models_dir(o, models, sizeof models));
    EAI_TRY(scenarios_dir(o, scen, sizeof scen));
    EAI_TRY(mkdir_p(o->out));
    char det[PATH_MAX + 32], edge0[PATH_MAX + 32], calib[PATH_MAX + 32], cloud[PATH_MAX + 32];
    snprintf(det, sizeof det, "%s/scene/scene_det.onnx", models);
    snprintf(edge0, sizeof edge0, "%s/scene/scene_cls_edge.onnx", models);
    snprintf(calib, sizeof calib, "%s/scene/scene_cls_edge.calib.json", models);
    snprintf(cloud, sizeof cloud, "%s/scene/scene_cls_cloud.onnx", models);
    if (!is_file(edge0) || !is_file(cloud))
        return eai_fail(EAI_E_IO, "demo: %s or %s is missing", edge0, cloud);

    double t0 = cli_now();
    res_t x = {0};
    demo_site_t sites[DEMO_MAX_SITES];
    memset(sites, 0, sizeof sites);
    demo_run_t run = {.n_sites = o->sites,
                      .n_rounds = o->rounds,
                      .sites = sites,
                      .threshold = o->threshold,
                      .minutes = o->minutes,
                      .fps = o->fps,
                      .mqtt = o->mqtt,
                      .cloud_model_path = cloud,
                      .edge_model_path = edge0,
                      .det_model_path = det};
    eai_status_t st = setup(o, models, &x, &run.cloud_port);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", run.cloud_port);
    for (int i = 0; st == EAI_OK && i < o->sites; i++) {
        sites[i].index = i;
        snprintf(sites[i].name, sizeof sites[i].name, "site-%d", i + 1);
        snprintf(sites[i].scenario, sizeof sites[i].scenario, "%s", k_scenarios[i % 3]);
        st = demo_crops_init(&sites[i].train, 6000);
        if (st == EAI_OK) st = demo_crops_init(&sites[i].eval, 3000);
    }
    if (st == EAI_OK)
        st = demo_fl_create(edge0, o->sites, x.fls, x.flc, o->epochs, o->lr, (uint64_t)o->seed,
                            &x.fl);
    if (st == EAI_OK && o->mqtt) st = wait_bridges(o, &x);
    if (st == EAI_OK) {
        printf("== edgeai demo: %d intersections, %d rounds of %.1f simulated minutes, "
               "transport %s ==\n",
               o->sites, o->rounds, o->minutes,
               o->mqtt ? "MQTT (a mosquitto per site, bridged to a regional one)" : "in-process");
        printf("device:   rendered pole camera %.0f fps -> %s -> ByteTrack -> stop-line counts; "
               "edge classifier %s\n",
               o->fps, det, edge0);
        printf("gateway:  max-pressure signal controller on the device's count messages\n");
        printf("cloud:    edgeai serve (KServe v2) on %s with %s; threshold %.2f\n", url, cloud,
               o->threshold);
        printf("regional: FedAvg over the sites' cloud-labelled crops after every round\n");
        fflush(stdout);
    }
    char model_cur[PATH_MAX + 64], calib_cur[PATH_MAX + 64];
    snprintf(model_cur, sizeof model_cur, "%s", edge0);
    snprintf(calib_cur, sizeof calib_cur, "%s", is_file(calib) ? calib : "");
    for (int k = 0; st == EAI_OK && k < o->rounds; k++) {
        job_t jobs[DEMO_MAX_SITES];
        char frames[DEMO_MAX_SITES][PATH_MAX + 64];
        for (int i = 0; i < o->sites; i++) {
            char cfgp[PATH_MAX + 64];
            snprintf(cfgp, sizeof cfgp, "%s/%s.sumocfg", scen, sites[i].scenario);
            snprintf(frames[i], sizeof frames[i], "%s/%s_frame.png", o->out, sites[i].name);
            jobs[i] = (job_t){.site = &sites[i], .out = &sites[i].rounds[k]};
            jobs[i].cfg = (demo_site_cfg_t){.seed = o->seed + 1000L * k + i,
                                            .minutes = o->minutes,
                                            .fps = (float)o->fps,
                                            .cls_every = o->cls_every,
                                            .det_model = det,
                                            .edge_model = model_cur,
                                            .calib = calib_cur[0] ? calib_cur : NULL,
                                            .threshold = o->threshold,
                                            .cloud_url = url,
                                            .cloud_model = "scene_cls",
                                            .dev = x.dev[i],
                                            .gw = x.gw[i],
                                            .round = k,
                                            .live_every_s = o->quiet ? 0 : o->live_every,
                                            .frame_png = k == o->rounds - 1 ? frames[i] : NULL,
                                            .threads = o->threads};
            /* the path outlives the job: copied into a per-job buffer */
            jobs[i].cfg.scenario_path = strdup(cfgp);
        }
        st = run_sites(jobs, o->sites, o->jobs);
        for (int i = 0; i < o->sites; i++)
            free((char *)jobs[i].cfg.scenario_path);
        if (st != EAI_OK) break;
        print_round(&run, k);
        char next[PATH_MAX + 64];
        snprintf(next, sizeof next, "%s/scene_cls_edge_r%d.onnx", o->out, k + 1);
        demo_fl_round_t *f = &run.fl[k];
        char next_calib[PATH_MAX + 64];
        snprintf(next_calib, sizeof next_calib, "%s/scene_cls_edge_r%d.calib.json", o->out, k + 1);
        st = demo_fl_round(x.fl, sites, o->sites, k, next, next_calib, f);
        if (st != EAI_OK) break;
        run.n_fl = k + 1;
        printf("federated round %d: %d clients, %lld cloud-labelled crops, loss %.3f, "
               "held-out accuracy %.1f%% -> %.1f%% (local models alone: %.1f%%), "
               "temperature %.2f, %.1f s, %lld B up / %lld B down\n",
               k + 1, f->n_clients, (long long)f->n_samples, f->train_loss, 100 * f->start_acc,
               100 * f->global_acc, 100 * f->local_mean_acc, f->temperature, f->seconds,
               (long long)f->bytes_up, (long long)f->bytes_down);
        fflush(stdout);
        memcpy(model_cur, next, sizeof model_cur);
        memcpy(calib_cur, next_calib, sizeof calib_cur);
    }
    run.wall_s = cli_now() - t0;
    if (st == EAI_OK && run.n_fl == o->rounds) {
        char p[PATH_MAX + 32];
        snprintf(p, sizeof p, "%s/report.json", o->out);
        st = demo_report_json(&run, p);
        if (st == EAI_OK) {
            printf("\nreport: %s\n", p);
            snprintf(p, sizeof p, "%s/dashboard.png", o->out);
            st = demo_report_png(&run, p);
        }
        if (st == EAI_OK) {
            printf("dashboard: %s\n", p);
            for (int i = 0; i < o->sites; i++)
                if (sites[i].frame_png[0]) printf("camera frame: %s\n", sites[i].frame_png);
            printf("demo finished in %.0f s\n", run.wall_s);
        }
    }
    for (int i = 0; i < o->sites; i++) {
        demo_crops_free(&sites[i].train);
        demo_crops_free(&sites[i].eval);
    }
    res_free(&x);
    return st;
}

int cmd_demo(int argc, char **argv)
{
    opts_t o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    if (demo(&o) != EAI_OK) return cli_fail_status("demo");
    return 0;
}
