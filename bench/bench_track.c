/* Tracker cost: per-frame eai_tracker_update time at N objects (default 50)
 * for SORT, ByteTrack and DeepSORT on one core, over a synthetic scene of
 * boxes moving at constant velocity (bouncing off the frame edges) with
 * detection jitter, misses, low scores and false positives. DeepSORT gets a
 * 128-float embedding per detection (the object's own unit vector plus
 * noise). The named peer, bench/sort_reference.py (numpy + scipy SORT), runs
 * on the same detections written by --write-det; bench/issue6_track.py runs
 * both and prints the ratio.
 *
 * Run: build/bench_track [--objects 50] [--frames 2000] [--warmup 100]
 *        [--emb 128] [--seed 1] [--write-det FILE] [--json]
 * EAI_BENCH_SPIKES=1 prints every frame slower than 1 ms (on a loaded
 * machine they come in scheduler ticks of ~4 ms: preemption, not work).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgeai/mot.h"
#include "edgeai/track.h"

typedef struct {
    double x, y, w, h, vx, vy;
} obj_t;

static uint64_t rs;
static double uni(void)
{
    uint64_t z = (rs += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (double)((z ^ (z >> 31)) >> 11) * (1.0 / 9007199254740992.0);
}
static double gauss(void)
{
    double u = uni(), v = uni();
    return sqrt(-2 * log(u > 1e-300 ? u : 1e-300)) * cos(6.283185307179586 * v);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, int n, double q)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    int k = (int)(q * n + 0.999999);
    if (k < 1) k = 1;
    if (k > n) k = n;
    return v[k - 1];
}

int main(int argc, char **argv)
{
    int n_obj = 50, n_frames = 2000, warm = 100, emb_dim = 128;
    long seed = 1;
    const char *write_det = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(a, "--json")) {
            json = 1;
            continue;
        }
        i++;
        if (!strcmp(a, "--objects"))
            n_obj = atoi(v);
        else if (!strcmp(a, "--frames"))
            n_frames = atoi(v);
        else if (!strcmp(a, "--warmup"))
            warm = atoi(v);
        else if (!strcmp(a, "--emb"))
            emb_dim = atoi(v);
        else if (!strcmp(a, "--seed"))
            seed = atol(v);
        else if (!strcmp(a, "--write-det"))
            write_det = v;
        else {
            fprintf(stderr, "bench_track: unknown option %s\n", a);
            return 2;
        }
    }
    if (n_obj < 1 || n_obj > 4000 || n_frames < 1 || warm < 0 || emb_dim < 1 || emb_dim > 4096) {
        fprintf(stderr, "bench_track: bad sizes\n");
        return 2;
    }
    int total = warm + n_frames, max_det = n_obj + n_obj / 10 + 2;
    rs = (uint64_t)seed;
    /* the scene: detections of every frame, generated up front */
    obj_t *o = calloc((size_t)n_obj, sizeof *o);
    eai_det_t *dets = calloc((size_t)total * (size_t)max_det, sizeof *dets);
    int *nd = calloc((size_t)total, sizeof *nd);
    float *base = calloc((size_t)n_obj * (size_t)emb_dim, sizeof(float));
    float *emb = calloc((size_t)total * (size_t)max_det * (size_t)emb_dim, sizeof(float));
    if (!o || !dets || !nd || !base || !emb) {
        fprintf(stderr, "bench_track: out of memory\n");
        return 1;
    }
    const double W = 1920, H = 1080;
    for (int i = 0; i < n_obj; i++) {
        o[i].w = 30 + 60 * uni(), o[i].h = 2 * o[i].w;
        o[i].x = uni() * (W - o[i].w), o[i].y = uni() * (H - o[i].h);
        o[i].vx = 6 * uni() - 3, o[i].vy = 4 * uni() - 2;
        for (int k = 0; k < emb_dim; k++)
            base[(size_t)i * emb_dim + k] = (float)gauss();
    }
    for (int f = 0; f < total; f++) {
        eai_det_t *d = dets + (size_t)f * max_det;
        int n = 0;
        for (int i = 0; i < n_obj; i++) {
            obj_t *b = &o[i];
            b->x += b->vx, b->y += b->vy;
            if (b->x < 0 || b->x + b->w > W) b->vx = -b->vx;
            if (b->y < 0 || b->y + b->h > H) b->vy = -b->vy;
            if (uni() < 0.05) continue; /* missed */
            double jx = 1.5 * gauss(), jy = 1.5 * gauss(), jw = 1.5 * gauss();
            d[n].box = (eai_box_t){(float)(b->x + jx), (float)(b->y + jy),
                                   (float)(b->x + jx + b->w + jw), (float)(b->y + jy + b->h + jw)};
            d[n].score = (float)(0.3 + 0.7 * uni());
            d[n].cls = 0;
            float *e = emb + ((size_t)f * max_det + (size_t)n) * emb_dim;
            for (int k = 0; k < emb_dim; k++)
                e[k] = base[(size_t)i * emb_dim + k] + 0.3f * (float)gauss();
            n++;
        }
        for (int q = 0; q < n_obj / 25 && n < max_det; q++) { /* false positives */
            double w = 30 + 60 * uni(), x = uni() * (W - w), y = uni() * (H - 2 * w);
            d[n].box = (eai_box_t){(float)x, (float)y, (float)(x + w), (float)(y + 2 * w)};
            d[n].score = (float)(0.1 + 0.5 * uni());
            float *e = emb + ((size_t)f * max_det + (size_t)n) * emb_dim;
            for (int k = 0; k < emb_dim; k++)
                e[k] = (float)gauss();
            n++;
        }
        for (int j = 0; j < n; j++) {
            d[j].emb = emb + ((size_t)f * max_det + (size_t)j) * emb_dim;
            d[j].emb_dim = emb_dim;
        }
        nd[f] = n;
    }
    if (write_det) { /* MOT det file of the timed frames (after warm-up too) */
        FILE *fo = fopen(write_det, "w");
        if (!fo) {
            perror(write_det);
            return 1;
        }
        for (int f = 0; f < total; f++)
            for (int j = 0; j < nd[f]; j++) {
                eai_box_t b = dets[(size_t)f * max_det + j].box;
                eai_mot_row_t r = {f + 1,
                                   -1,
                                   b.x1,
                                   b.y1,
                                   b.x2 - b.x1,
                                   b.y2 - b.y1,
                                   dets[(size_t)f * max_det + j].score,
                                   -1,
                                   -1};
                eai_mot_write_row(fo, &r);
            }
        fclose(fo);
    }

    static const eai_tracker_kind_t kinds[3] = {EAI_TRACKER_SORT, EAI_TRACKER_BYTETRACK,
                                                EAI_TRACKER_DEEPSORT};
    double *ms = calloc((size_t)n_frames, sizeof(double));
    eai_track_t *out = calloc((size_t)4 * max_det + 256, sizeof *out);
    if (json)
        printf("{\"objects\": %d, \"frames\": %d, \"emb\": %d, \"trackers\": {", n_obj, n_frames,
               emb_dim);
    for (int k = 0; k < 3; k++) {
        eai_tracker_cfg_t c = {
            .max_dets = max_det, .max_tracks = 4 * max_det + 256, .emb_dim = emb_dim};
        eai_tracker_t *t;
        if (eai_tracker_create(kinds[k], &c, &t) != EAI_OK) {
            fprintf(stderr, "bench_track: %s\n", eai_last_error());
            return 1;
        }
        long reported = 0;
        for (int f = 0; f < total; f++) {
            int n_out;
            double t0 = now_s();
            eai_status_t st = eai_tracker_update(t, f + 1, dets + (size_t)f * max_det, nd[f], out,
                                                 c.max_tracks, &n_out);
            double dt = now_s() - t0;
            if (st != EAI_OK) {
                fprintf(stderr, "bench_track: %s\n", eai_last_error());
                return 1;
            }
            if (f >= warm) ms[f - warm] = 1e3 * dt, reported += n_out;
            if (getenv("EAI_BENCH_SPIKES") && 1e3 * dt > 1)
                fprintf(stderr, "%s frame %d: %.2f ms (%d dets)\n", eai_tracker_kind_name(kinds[k]),
                        f + 1, 1e3 * dt, nd[f]);
        }
        double sum = 0;
        for (int i = 0; i < n_frames; i++)
            sum += ms[i];
        double mean = sum / n_frames, p50 = pct(ms, n_frames, 0.5), p99 = pct(ms, n_frames, 0.99);
        const char *name = eai_tracker_kind_name(kinds[k]);
        if (json)
            printf("%s\"%s\": {\"p50_ms\": %.5f, \"p99_ms\": %.5f, \"mean_ms\": %.5f, "
                   "\"tracks_per_frame\": %.2f}",
                   k ? ", " : "", name, p50, p99, mean, (double)reported / n_frames);
        else
            printf("%-10s %d objects: p50 %.4f ms  p99 %.4f ms  mean %.4f ms per frame "
                   "(%.1f tracks reported per frame)\n",
                   name, n_obj, p50, p99, mean, (double)reported / n_frames);
        eai_tracker_destroy(t);
    }
    if (json) printf("}}\n");
    free(o);
    free(dets);
    free(nd);
    free(base);
    free(emb);
    free(ms);
    free(out);
    return 0;
}
