/* `edgeai pipeline` report: per-stage p50/p99 of compute and queue wait
 * against the seed's budget (detect 8 ms, classify 12 ms, track 5 ms, 25 ms
 * end to end), the pipeline's own overhead share, frames/s; as a table
 * (--show-stats) and as JSON (--json). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd_pipeline.h"

/* The seed's per-frame budget in ms (0: none). */
static double budget_ms(const char *stage)
{
    if (!strcmp(stage, "detect")) return 8;
    if (!strcmp(stage, "classify")) return 12;
    if (!strcmp(stage, "track")) return 5;
    return 0;
}
#define BUDGET_TOTAL_MS 25.0

static cJSON *lat_json(const eai_latency_t *l)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "n", (double)l->n);
    cJSON_AddNumberToObject(j, "p50", l->p50_ms);
    cJSON_AddNumberToObject(j, "p99", l->p99_ms);
    cJSON_AddNumberToObject(j, "mean", l->mean_ms);
    cJSON_AddNumberToObject(j, "max", l->max_ms);
    return j;
}

static void print_json(const app_summary_t *sum, const eai_pipeline_stats_t *st,
                       const pl_cli_opts_t *o)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "source", o->source);
    cJSON_AddStringToObject(j, "source_kind", sum->source_kind);
    cJSON_AddNumberToObject(j, "width", sum->w);
    cJSON_AddNumberToObject(j, "height", sum->h);
    cJSON_AddStringToObject(j, "detector", o->detector);
    cJSON_AddStringToObject(j, "detector_kind", sum->det_kind);
    if (o->classifier)
        cJSON_AddStringToObject(j, "classifier", o->classifier);
    else
        cJSON_AddNullToObject(j, "classifier");
    cJSON_AddStringToObject(j, "tracker", o->tracker);
    if (o->reid) {
        cJSON_AddStringToObject(j, "reid", o->reid);
        cJSON_AddNumberToObject(j, "emb_dim", sum->emb_dim);
    }
    if (sum->track_thresh > 0)
        cJSON_AddNumberToObject(j, "track_thresh", round(1e4 * sum->track_thresh) / 1e4);
    cJSON_AddNumberToObject(j, "conf", round(1e4 * sum->conf) / 1e4);
    cJSON_AddStringToObject(j, "policy", o->drop ? "drop" : "block");
    cJSON_AddNumberToObject(j, "frames", (double)st->n_frames);
    cJSON_AddNumberToObject(j, "completed", (double)st->n_completed);
    cJSON_AddNumberToObject(j, "dropped", (double)st->n_dropped);
    cJSON_AddNumberToObject(j, "failed", (double)st->n_failed);
    cJSON_AddNumberToObject(j, "fps", st->fps);
    cJSON_AddItemToObject(j, "e2e_ms", lat_json(&st->e2e));
    cJSON_AddItemToObject(j, "overhead_ms", lat_json(&st->overhead));
    cJSON_AddNumberToObject(j, "overhead_share", st->overhead_share);
    cJSON_AddNumberToObject(j, "budget_total_ms", BUDGET_TOTAL_MS);
    cJSON_AddNumberToObject(j, "detections", (double)sum->n_det);
    cJSON_AddNumberToObject(j, "classified", (double)sum->n_classified);
    cJSON_AddNumberToObject(j, "embedded", (double)sum->n_embedded);
    cJSON_AddNumberToObject(j, "track_boxes", (double)sum->n_trk_boxes);
    cJSON_AddNumberToObject(j, "track_ids", (double)sum->n_ids);
    if (sum->n_det_frames > 0) { /* the detect stage's compute, split (means) */
        cJSON *d = cJSON_AddObjectToObject(j, "detect_split_mean_ms");
        double n = (double)sum->n_det_frames;
        cJSON_AddNumberToObject(d, "preprocess", sum->det_pre_ms / n);
        cJSON_AddNumberToObject(d, "inference", sum->det_inf_ms / n);
        cJSON_AddNumberToObject(d, "decode", sum->det_dec_ms / n);
    }
    cJSON *arr = cJSON_AddArrayToObject(j, "stages");
    for (int s = 0; s < st->n_stages; s++) {
        const eai_pipeline_stage_stats_t *g = &st->stage[s];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", g->name);
        cJSON_AddNumberToObject(e, "workers", g->n_workers);
        cJSON_AddNumberToObject(e, "ok", (double)g->n_ok);
        cJSON_AddNumberToObject(e, "errors", (double)g->n_errors);
        cJSON_AddNumberToObject(e, "dropped", (double)g->n_dropped);
        cJSON_AddItemToObject(e, "compute_ms", lat_json(&g->compute));
        cJSON_AddItemToObject(e, "wait_ms", lat_json(&g->wait));
        cJSON_AddItemToObject(e, "overhead_ms", lat_json(&g->overhead));
        double b = budget_ms(g->name);
        if (b > 0)
            cJSON_AddNumberToObject(e, "budget_ms", b);
        else
            cJSON_AddNullToObject(e, "budget_ms");
        if (g->last_error[0]) cJSON_AddStringToObject(e, "last_error", g->last_error);
        cJSON_AddItemToArray(arr, e);
    }
    char *txt = cJSON_PrintUnformatted(j);
    if (txt) puts(txt);
    cJSON_free(txt);
    cJSON_Delete(j);
}

static void print_table(FILE *f, const app_summary_t *sum, const eai_pipeline_stats_t *st)
{
    fprintf(f, "%-9s %3s %9s %9s %9s %9s %9s %7s %6s %6s\n", "stage", "thr", "p50 ms", "p99 ms",
            "wait p50", "wait p99", "budget", "p99<=b", "errors", "drops");
    for (int s = 0; s < st->n_stages; s++) {
        const eai_pipeline_stage_stats_t *g = &st->stage[s];
        double b = budget_ms(g->name);
        char bs[16] = "-", ok[8] = "-";
        if (b > 0) {
            snprintf(bs, sizeof bs, "%.1f", b);
            snprintf(ok, sizeof ok, "%s", g->compute.p99_ms <= b ? "yes" : "NO");
        }
        fprintf(f, "%-9s %3d %9.3f %9.3f %9.3f %9.3f %9s %7s %6llu %6llu\n", g->name, g->n_workers,
                g->compute.p50_ms, g->compute.p99_ms, g->wait.p50_ms, g->wait.p99_ms, bs, ok,
                (unsigned long long)g->n_errors, (unsigned long long)g->n_dropped);
    }
    fprintf(f, "end to end p50 %.3f ms, p99 %.3f ms (budget %.0f ms: %s); %.2f frames/s\n",
            st->e2e.p50_ms, st->e2e.p99_ms, BUDGET_TOTAL_MS,
            st->e2e.p99_ms <= BUDGET_TOTAL_MS ? "within" : "over", st->fps);
    fprintf(f, "pipeline overhead per frame p50 %.4f ms, p99 %.4f ms: %.3f%% of end to end\n",
            st->overhead.p50_ms, st->overhead.p99_ms, 100 * st->overhead_share);
    fprintf(f,
            "frames %llu, completed %llu, dropped %llu, failed %llu; %ld detections, %ld "
            "classified, %ld embedded, %ld track boxes, %ld track ids\n",
            (unsigned long long)st->n_frames, (unsigned long long)st->n_completed,
            (unsigned long long)st->n_dropped, (unsigned long long)st->n_failed, sum->n_det,
            sum->n_classified, sum->n_embedded, sum->n_trk_boxes, sum->n_ids);
    if (sum->n_det_frames > 0) {
        double n = (double)sum->n_det_frames;
        fprintf(f, "detect mean split: preprocess %.3f ms, inference %.3f ms, decode %.3f ms\n",
                sum->det_pre_ms / n, sum->det_inf_ms / n, sum->det_dec_ms / n);
    }
}

void pl_cli_report(const app_summary_t *sum, const eai_pipeline_stats_t *st, const pl_cli_opts_t *o)
{
    if (o->json) {
        if (o->show_stats) print_table(stderr, sum, st); /* JSON owns stdout */
        print_json(sum, st, o);
    } else if (o->show_stats) {
        print_table(stdout, sum, st);
    } else {
        printf("%llu frames, %.2f frames/s, end to end p50 %.2f ms p99 %.2f ms, %ld track ids\n",
               (unsigned long long)st->n_completed, st->fps, st->e2e.p50_ms, st->e2e.p99_ms,
               sum->n_ids);
    }
}
