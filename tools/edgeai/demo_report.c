/* The demo's final report: report.json (every figure of every round and
 * site) and dashboard.png (four panels drawn with the vision module's
 * rectangles and 5x7 font: the federated rounds' accuracy, the offload rate,
 * per-tier latency against the seed's budgets, and mean waiting time). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

static void num(cJSON *o, const char *k, double v)
{
    cJSON_AddNumberToObject(o, k, isfinite(v) ? v : -1);
}

static cJSON *site_round_json(const demo_site_round_t *s, int round)
{
    cJSON *o = cJSON_CreateObject();
    num(o, "round", round);
    cJSON *tr = cJSON_AddObjectToObject(o, "traffic");
    num(tr, "mean_wait_s", s->mean_wait_s);
    num(tr, "mean_trip_s", s->mean_trip_s);
    num(tr, "throughput_vph", s->throughput_vph);
    num(tr, "departed", (double)s->departed);
    num(tr, "arrived", (double)s->arrived);
    num(tr, "teleports", (double)s->teleports);
    num(tr, "emergency_brakes", (double)s->emergency_brakes);
    num(tr, "max_queue", s->max_queue);
    num(tr, "worst_movement_wait_s", s->worst_movement_wait_s);
    num(tr, "estimated_wait_s", s->est_wait_s);
    num(tr, "camera_count", (double)s->cam_count);
    num(tr, "detector_count", (double)s->det_count);
    cJSON *c = cJSON_AddObjectToObject(o, "classification");
    num(c, "crops", (double)s->n_cls);
    num(c, "edge", (double)s->n_edge);
    num(c, "cloud", (double)s->n_cloud);
    num(c, "edge_fallback", (double)s->n_fallback);
    num(c, "offload_rate", s->n_cls ? (double)(s->n_cloud + s->n_fallback) / s->n_cls : 0);
    num(c, "with_truth", (double)s->n_truth);
    num(c, "edge_accuracy", s->n_truth ? (double)s->edge_correct / s->n_truth : -1);
    num(c, "answer_accuracy", s->n_truth ? (double)s->final_correct / s->n_truth : -1);
    num(c, "bytes_to_cloud", (double)s->bytes_to_cloud);
    num(c, "stored_for_training", (double)s->n_train);
    num(c, "stored_held_out", (double)s->n_eval);
    cJSON *l = cJSON_AddObjectToObject(o, "latency_ms");
    num(l, "detect_p50", s->det_p50);
    num(l, "detect_p99", s->det_p99);
    num(l, "track_p50", s->trk_p50);
    num(l, "classify_edge_p50", s->cls_p50);
    num(l, "device_p50", s->dev_p50);
    num(l, "device_p99", s->dev_p99);
    num(l, "gateway_p50", s->gw_p50);
    num(l, "gateway_p99", s->gw_p99);
    num(l, "cloud_p50", s->cloud_p50);
    num(l, "cloud_p99", s->cloud_p99);
    num(o, "frames", (double)s->frames);
    num(o, "sim_s", s->sim_s);
    num(o, "wall_s", s->wall_s);
    return o;
}

eai_status_t demo_report_json(const demo_run_t *r, const char *path)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) return eai_fail(EAI_E_NOMEM, "demo: out of memory");
    num(root, "sites", r->n_sites);
    num(root, "rounds", r->n_rounds);
    num(root, "minutes_per_round", r->minutes);
    num(root, "camera_fps", r->fps);
    num(root, "threshold", r->threshold);
    cJSON_AddStringToObject(root, "transport", r->mqtt ? "mqtt" : "inproc");
    num(root, "wall_s", r->wall_s);
    cJSON *m = cJSON_AddObjectToObject(root, "models");
    cJSON_AddStringToObject(m, "detector", r->det_model_path);
    cJSON_AddStringToObject(m, "edge_classifier", r->edge_model_path);
    cJSON_AddStringToObject(m, "cloud_classifier", r->cloud_model_path);
    cJSON *b = cJSON_AddObjectToObject(root, "tier_budget_ms");
    cJSON_AddStringToObject(b, "device", "<5 (seed)");
    cJSON_AddStringToObject(b, "gateway", "5-20");
    cJSON_AddStringToObject(b, "regional", "20-100");
    cJSON_AddStringToObject(b, "cloud", "100-500");
    cJSON *sites = cJSON_AddArrayToObject(root, "site");
    for (int i = 0; i < r->n_sites; i++) {
        const demo_site_t *s = &r->sites[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", s->name);
        cJSON_AddStringToObject(o, "scenario", s->scenario);
        cJSON_AddStringToObject(o, "frame_png", s->frame_png);
        cJSON *rs = cJSON_AddArrayToObject(o, "rounds");
        for (int k = 0; k < r->n_rounds; k++)
            cJSON_AddItemToArray(rs, site_round_json(&s->rounds[k], k));
        cJSON_AddItemToArray(sites, o);
    }
    cJSON *fl = cJSON_AddArrayToObject(root, "federated");
    for (int k = 0; k < r->n_fl; k++) {
        const demo_fl_round_t *f = &r->fl[k];
        cJSON *o = cJSON_CreateObject();
        num(o, "round", f->round);
        num(o, "clients", f->n_clients);
        num(o, "samples", (double)f->n_samples);
        num(o, "train_loss", f->train_loss);
        num(o, "held_out_crops", (double)f->n_eval);
        num(o, "accuracy_before", f->start_acc);
        num(o, "global_accuracy", f->global_acc);
        num(o, "local_mean_accuracy", f->local_mean_acc);
        num(o, "bytes_up", (double)f->bytes_up);
        num(o, "bytes_down", (double)f->bytes_down);
        num(o, "temperature", f->temperature);
        num(o, "seconds", f->seconds);
        cJSON_AddItemToArray(fl, o);
    }
    char *txt = cJSON_Print(root);
    cJSON_Delete(root);
    if (!txt) return eai_fail(EAI_E_NOMEM, "demo: out of memory");
    FILE *fp = fopen(path, "w");
    if (!fp) {
        free(txt);
        return eai_fail(EAI_E_IO, "%s: cannot write the report", path);
    }
    int bad = fputs(txt, fp) < 0;
    bad |= fclose(fp) != 0;
    free(txt);
    return bad ? eai_fail(EAI_E_IO, "%s: write failed", path) : EAI_OK;
}

/* ---------------------------------------------------------------- PNG */

#define W       1200
#define H       800
#define PANEL_W (W / 2)
#define PANEL_H (H / 2)

static const eai_rgb_t k_ink = {40, 40, 40}, k_grid = {225, 225, 225}, k_bg = {255, 255, 255};

static void bar(eai_image_t *img, float x0, float y0, float x1, float y1, eai_rgb_t c)
{
    eai_fill_rect(img, (eai_box_t){x0, y0, x1, y1}, c);
}

/* A panel frame: title, y axis from 0 to ymax with 4 grid lines; returns
 * the plot area. */
typedef struct area {
    float x0, y0, x1, y1, ymax;
} area_t;

static area_t panel(eai_image_t *img, int px, int py, const char *title, double ymax,
                    const char *unit)
{
    area_t a = {px + 70.f, py + 40.f, px + PANEL_W - 20.f, py + PANEL_H - 50.f, (float)ymax};
    eai_draw_text(img, px + 20, py + 12, title, k_ink, NULL, 2);
    for (int g = 0; g <= 4; g++) {
        float y = a.y1 - (a.y1 - a.y0) * g / 4.f;
        bar(img, a.x0, y, a.x1, y + 1, k_grid);
        char lab[32];
        snprintf(lab, sizeof lab, "%.3g", ymax * g / 4);
        eai_draw_text(img, px + 8, (int)y - 4, lab, k_ink, NULL, 1);
    }
    eai_draw_text(img, px + 20 + (int)strlen(title) * 12 + 16, py + 18, unit, k_ink, NULL, 1);
    bar(img, a.x0, a.y0, a.x0 + 1, a.y1, k_ink);
    bar(img, a.x0, a.y1, a.x1, a.y1 + 1, k_ink);
    return a;
}

static float ymap(const area_t *a, double v)
{
    if (!(v > 0)) v = 0;
    if (v > a->ymax) v = a->ymax;
    return a->y1 - (float)(v / a->ymax) * (a->y1 - a->y0);
}

/* Grouped bars: n_groups groups (one per round or tier) of n_series bars. */
static void bars(eai_image_t *img, const area_t *a, const double *v, int n_groups, int n_series,
                 const char *const *group_labels)
{
    float gw = (a->x1 - a->x0) / (float)n_groups;
    float bw = gw * 0.8f / (float)n_series;
    for (int g = 0; g < n_groups; g++) {
        for (int s = 0; s < n_series; s++) {
            double x = v[g * n_series + s];
            if (!(x >= 0)) continue;
            float x0 = a->x0 + g * gw + gw * 0.1f + s * bw;
            bar(img, x0, ymap(a, x), x0 + bw - 2, a->y1, eai_color_for(s));
        }
        eai_draw_text(img, (int)(a->x0 + g * gw + gw * 0.1f), (int)a->y1 + 8, group_labels[g],
                      k_ink, NULL, 1);
    }
}

static void legend(eai_image_t *img, const area_t *a, const char *const *names, int n)
{
    int x = (int)a->x0 + 10;
    for (int s = 0; s < n; s++) {
        bar(img, (float)x, a->y1 + 24, (float)x + 10, a->y1 + 34, eai_color_for(s));
        x += 14 + eai_draw_text(img, x + 14, (int)a->y1 + 26, names[s], k_ink, NULL, 1) + 16;
    }
}

static double max_of(const double *v, int n, double floor_v)
{
    double m = floor_v;
    for (int i = 0; i < n; i++)
        if (v[i] > m) m = v[i];
    return m;
}

eai_status_t demo_report_png(const demo_run_t *r, const char *path)
{
    eai_image_t img = {0};
    EAI_TRY(eai_image_alloc(&img, W, H, 3));
    eai_fill_rect(&img, (eai_box_t){0, 0, W, H}, k_bg);
    int nr = r->n_rounds, ns = r->n_sites;
    char labs[DEMO_MAX_ROUNDS][16];
    const char *lab_ptr[DEMO_MAX_ROUNDS] = {0};
    for (int k = 0; k < nr; k++) {
        snprintf(labs[k], sizeof labs[k], "round %d", k + 1);
        lab_ptr[k] = labs[k];
    }
    double v[DEMO_MAX_ROUNDS * DEMO_MAX_SITES * 3] = {0};

    /* 1: edge accuracy per round (live crops vs truth) and the FL global
     * model's held-out accuracy after the round */
    for (int k = 0; k < nr; k++) {
        int64_t t = 0, e = 0;
        for (int i = 0; i < ns; i++) {
            t += r->sites[i].rounds[k].n_truth;
            e += r->sites[i].rounds[k].edge_correct;
        }
        v[k * 3 + 0] = t ? 100.0 * e / t : -1;
        v[k * 3 + 1] = k < r->n_fl ? 100.0 * r->fl[k].local_mean_acc : -1;
        v[k * 3 + 2] = k < r->n_fl ? 100.0 * r->fl[k].global_acc : -1;
    }
    area_t a = panel(&img, 0, 0, "EDGE CLASSIFIER ACCURACY", 100, "%");
    bars(&img, &a, v, nr, 3, lab_ptr);
    legend(&img, &a, (const char *const[]){"edge live", "fl local mean", "fl global"}, 3);

    /* 2: offload rate per round and site */
    for (int k = 0; k < nr; k++)
        for (int i = 0; i < ns; i++) {
            const demo_site_round_t *s = &r->sites[i].rounds[k];
            v[k * ns + i] = s->n_cls ? 100.0 * (double)(s->n_cloud + s->n_fallback) / s->n_cls : -1;
        }
    a = panel(&img, PANEL_W, 0, "OFFLOAD TO CLOUD", max_of(v, nr * ns, 10), "% of crops");
    bars(&img, &a, v, nr, ns, lab_ptr);
    const char *site_names[DEMO_MAX_SITES] = {0};
    for (int i = 0; i < ns; i++)
        site_names[i] = r->sites[i].name;
    legend(&img, &a, site_names, ns);

    /* 3: per-tier latency p50 / p99 of the last round, all sites pooled by max */
    const char *tiers[3] = {"device (seed: under 5)", "gateway (5-20)", "cloud (100-500)"};
    double lt[6] = {0};
    for (int k = 0; k < nr; k++)
        for (int i = 0; i < ns; i++) {
            const demo_site_round_t *s = &r->sites[i].rounds[k];
            double p[6] = {s->dev_p50, s->dev_p99,   s->gw_p50,
                           s->gw_p99,  s->cloud_p50, s->cloud_p99};
            for (int j = 0; j < 6; j++)
                if (p[j] > lt[j]) lt[j] = p[j];
        }
    a = panel(&img, 0, PANEL_H, "LATENCY PER TIER", max_of(lt, 6, 1), "ms: worst site and round");
    bars(&img, &a, lt, 3, 2, tiers);
    legend(&img, &a, (const char *const[]){"p50", "p99"}, 2);

    /* 4: mean waiting time per round and site */
    for (int k = 0; k < nr; k++)
        for (int i = 0; i < ns; i++)
            v[k * ns + i] = r->sites[i].rounds[k].mean_wait_s;
    a = panel(&img, PANEL_W, PANEL_H, "MEAN WAIT (SUMO: MAX-PRESSURE)", max_of(v, nr * ns, 1),
              "s per vehicle");
    bars(&img, &a, v, nr, ns, lab_ptr);
    legend(&img, &a, site_names, ns);

    eai_status_t st = eai_image_save_png(&img, path);
    eai_image_free(&img);
    return st;
}
