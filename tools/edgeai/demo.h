/* `edgeai demo` (issue 8's main job): every tier of the seed's hierarchy in
 * one process on real parts.
 *
 *   device   per intersection: SUMO's vehicles rendered by the pole camera
 *            (src/scene) -> detector -> tracker -> stop-line counts
 *            (eai_trafcam), and an edge classifier on the tracked crops;
 *   gateway  per intersection: the signal controller (max-pressure), fed by
 *            the device's count messages over the transport;
 *   cloud    `edgeai serve` (KServe v2 over HTTP on 127.0.0.1) with the big
 *            classifier, asked by the hybrid router when the edge is unsure;
 *   regional the federated server: after every traffic round the sites
 *            train the edge classifier on the crops their cloud labelled and
 *            the server averages the updates (FedAvg over eai_flmsg frames).
 *
 * Files: cmd_demo.c (options, rounds, live lines), demo_site.c (one
 * intersection's round), demo_fl.c (one federated round), demo_report.c
 * (report.json and dashboard.png).
 */
#ifndef EAI_CLI_DEMO_H
#define EAI_CLI_DEMO_H

#include <stdbool.h>
#include <stdint.h>

#include "edgeai/edgeai.h"

#define DEMO_CROP       32                          /* classifier input: 3 x 32 x 32 */
#define DEMO_CROP_N     (3 * DEMO_CROP * DEMO_CROP) /* floats per crop */
#define DEMO_MAX_SITES  8
#define DEMO_MAX_ROUNDS 16

/* A bounded store of crops with labels (capacity fixed at init). */
typedef struct demo_crops {
    float *x;   /* n * DEMO_CROP_N */
    int32_t *y; /* n labels */
    int64_t n, cap;
    int64_t dropped; /* pushes refused because the store was full */
} demo_crops_t;

eai_status_t demo_crops_init(demo_crops_t *c, int64_t cap);
void demo_crops_push(demo_crops_t *c, const float *x, int32_t y);
void demo_crops_free(demo_crops_t *c);

/* Latency samples (ms) of one stage; grows by doubling outside hot loops
 * (a push that cannot grow drops the sample and counts it). */
typedef struct demo_lat {
    double *v;
    int64_t n, cap, dropped;
} demo_lat_t;
void demo_lat_push(demo_lat_t *l, double ms);
/* p in [0, 1]; -1 when empty. Sorts a copy-free view: call after the run. */
double demo_lat_pct(demo_lat_t *l, double p);
void demo_lat_free(demo_lat_t *l);

/* What one intersection did in one traffic round. */
typedef struct demo_site_round {
    /* SUMO's measurements under the edgeai controller fed by the camera */
    double mean_wait_s, mean_trip_s, throughput_vph;
    long departed, arrived, teleports, emergency_brakes;
    int max_queue;
    double worst_movement_wait_s;
    /* counting: stop-line passages by the camera vs SUMO's detectors */
    long cam_count, det_count;
    /* classification of tracked crops through the router */
    int64_t n_cls, n_edge, n_cloud, n_fallback;
    int64_t n_truth, edge_correct, final_correct; /* crops matched to a true object */
    int64_t n_train, n_eval;                      /* crops stored this round */
    int64_t bytes_to_cloud;
    /* per-tier latency, ms: device = detect + track + count + classify per
     * frame; gateway = count message transit + controller decision;
     * cloud = the router's cloud round trip of one crop */
    double det_p50, det_p99, trk_p50, cls_p50, dev_p50, dev_p99;
    double gw_p50, gw_p99, cloud_p50, cloud_p99;
    int64_t frames;
    double sim_s, wall_s;
    double est_wait_s; /* the controller's waiting-time estimate (queue model, veh-weighted) */
} demo_site_round_t;

/* One intersection, alive across rounds. */
typedef struct demo_site {
    int index;
    char name[32];      /* "site-1" */
    char scenario[64];  /* "asymmetric" */
    demo_crops_t train; /* crops the cloud labelled (even track ids): FL data */
    demo_crops_t eval;  /* crops of odd track ids with their true class: held out */
    demo_site_round_t rounds[DEMO_MAX_ROUNDS];
    char frame_png[512]; /* an annotated camera frame written in the last round */
} demo_site_t;

/* Everything a site round needs (borrowed). */
typedef struct demo_site_cfg {
    const char *scenario_path; /* .sumocfg */
    long seed;
    double minutes;
    float fps;
    int cls_every;         /* classify a track every N frames */
    const char *det_model; /* models/scene/scene_det.onnx */
    const char *edge_model;
    const char *calib; /* temperature JSON of the edge model (may be NULL) */
    float threshold;
    const char *cloud_url, *cloud_model;
    eai_transport_t *dev, *gw; /* this site's device and gateway endpoints */
    int round;
    double live_every_s;   /* simulated seconds between live lines; 0: none */
    const char *frame_png; /* write one annotated frame here (NULL: none) */
    int threads;
} demo_site_cfg_t;

eai_status_t demo_site_run(const demo_site_cfg_t *cfg, demo_site_t *site, demo_site_round_t *out);

/* One federated round's figures. */
typedef struct demo_fl_round {
    int round, n_clients;
    int64_t n_samples;
    double train_loss;
    double global_acc;     /* the new global model on every site's held-out crops */
    double start_acc;      /* the model before the round, same crops */
    double local_mean_acc; /* each client's own update alone, same crops, mean */
    int64_t n_eval;
    int64_t bytes_up, bytes_down; /* flmsg frames published by clients / the server */
    double temperature;           /* federated calibration of the new model */
    double seconds;
} demo_fl_round_t;

typedef struct demo_fl demo_fl_t;
/* A federated server plus one client endpoint per site over the given
 * transports (server: the regional tier; clients[i]: site i's gateway). */
eai_status_t demo_fl_create(const char *edge_model, int n_sites, eai_transport_t *server,
                            eai_transport_t *const *clients, int epochs, float lr, uint64_t seed,
                            demo_fl_t **out);
/* Runs one round over the sites' stores, writes the new global model to
 * out_model (ONNX) and its federated temperature to out_calib (may be NULL). */
eai_status_t demo_fl_round(demo_fl_t *f, demo_site_t *sites, int n_sites, int round,
                           const char *out_model, const char *out_calib, demo_fl_round_t *rep);
void demo_fl_destroy(demo_fl_t *f);

/* The whole run, for the report. */
typedef struct demo_run {
    int n_sites, n_rounds;
    demo_site_t *sites;
    demo_fl_round_t fl[DEMO_MAX_ROUNDS];
    int n_fl;
    float threshold;
    double minutes, fps;
    bool mqtt;
    double wall_s;
    int cloud_port;
    const char *cloud_model_path, *edge_model_path, *det_model_path;
} demo_run_t;

eai_status_t demo_report_json(const demo_run_t *r, const char *path);
eai_status_t demo_report_png(const demo_run_t *r, const char *path);

#endif
