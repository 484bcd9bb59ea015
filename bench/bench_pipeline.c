/* Pipeline overhead: the same three stage functions (synthetic CPU work shaped
 * like the seed's detect 8 ms / classify 12 ms / track 5 ms, scaled by
 * --scale) run on the same frames
 *   (a) in a plain sequential loop (the named peer),
 *   (b) through eai_pipeline, one worker per stage, source paced so frames
 *       never queue: end-to-end latency vs the loop, and the book's overhead,
 *   (c) through eai_pipeline unpaced: frames/s vs the loop (stages overlap).
 * Then, with --cli, runs the real `edgeai pipeline` on a video and prints its
 * JSON (stage latencies against the seed's budget); --classifier, --tracker
 * and --video-fps are passed on to it.
 *
 * Run: build/bench/bench_pipeline [--frames 100] [--scale 0.25] [--json]
 *        [--cli build/edgeai --video /usr/share/doc/opencv-doc/examples/data/vtest.avi
 *         --video-frames 200 [--classifier M.onnx] [--tracker T] [--video-fps F]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgeai/pipeline.h"

typedef struct work {
    long iters[3]; /* detect, classify, track */
    long pace_ns;  /* source period (0: unpaced) */
    int n_frames, made;
    int64_t next_ns;
} work_t;

typedef struct frame {
    double acc;
} frame_t;

/* Deterministic CPU work: `n` dependent multiply-adds. */
static double spin(long n, double x)
{
    for (long i = 0; i < n; i++)
        x = x * 1.0000001 + 1e-9;
    return x;
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

static void sleep_until(int64_t t)
{
    struct timespec ts = {(time_t)(t / 1000000000), (long)(t % 1000000000)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static eai_status_t src(void *u, int w, eai_pipeline_item_t *it)
{
    (void)w;
    work_t *k = u;
    if (k->made >= k->n_frames) {
        it->end_of_stream = 1;
        return EAI_OK;
    }
    if (k->pace_ns) {
        if (k->next_ns == 0) k->next_ns = eai_pipeline_now_ns();
        sleep_until(k->next_ns);
        k->next_ns += k->pace_ns;
        it->t_source_ns = eai_pipeline_now_ns(); /* frame captured now */
    }
    ((frame_t *)it->payload)->acc = (double)it->seq;
    k->made++;
    return EAI_OK;
}

#define STAGE_FN(name, idx)                                                                        \
    static eai_status_t name(void *u, int w, eai_pipeline_item_t *it)                              \
    {                                                                                              \
        (void)w;                                                                                   \
        work_t *k = u;                                                                             \
        frame_t *f = it->payload;                                                                  \
        f->acc = spin(k->iters[idx], f->acc);                                                      \
        return EAI_OK;                                                                             \
    }
STAGE_FN(detect, 0)
STAGE_FN(classify, 1)
STAGE_FN(track, 2)

static eai_status_t sink(void *u, int w, eai_pipeline_item_t *it)
{
    (void)u;
    (void)w;
    volatile double keep = ((frame_t *)it->payload)->acc;
    (void)keep;
    return EAI_OK;
}

static int run_pipeline(work_t *k, eai_pipeline_stats_t *st)
{
    eai_pipeline_opts_t o = {.payload_bytes = sizeof(frame_t), .in_order = 1};
    eai_pipeline_t *p;
    if (eai_pipeline_create(&o, &p) != EAI_OK) return 1;
    eai_pipeline_stage_desc_t d[5] = {
        {.name = "source", .kind = EAI_STAGE_SOURCE, .fn = src, .user = k},
        {.name = "detect", .fn = detect, .user = k},
        {.name = "classify", .fn = classify, .user = k},
        {.name = "track", .fn = track, .user = k},
        {.name = "sink", .kind = EAI_STAGE_SINK, .fn = sink, .user = k},
    };
    for (int i = 0; i < 5; i++)
        if (eai_pipeline_add_stage(p, &d[i]) != EAI_OK) return 1;
    k->made = 0;
    k->next_ns = 0;
    if (eai_pipeline_start(p) != EAI_OK || eai_pipeline_wait(p, -1) != EAI_OK) {
        fprintf(stderr, "bench_pipeline: %s\n", eai_last_error());
        eai_pipeline_destroy(p);
        return 1;
    }
    eai_pipeline_get_stats(p, st);
    eai_pipeline_destroy(p);
    return 0;
}

int main(int argc, char **argv)
{
    int n = 100, json = 0, video_frames = 200;
    double scale = 0.25;
    const char *cli = NULL, *video = NULL, *classifier = NULL, *tracker = NULL;
    double video_fps = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--frames") && i + 1 < argc)
            n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--scale") && i + 1 < argc)
            scale = atof(argv[++i]);
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--cli") && i + 1 < argc)
            cli = argv[++i];
        else if (!strcmp(argv[i], "--video") && i + 1 < argc)
            video = argv[++i];
        else if (!strcmp(argv[i], "--video-frames") && i + 1 < argc)
            video_frames = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--classifier") && i + 1 < argc)
            classifier = argv[++i];
        else if (!strcmp(argv[i], "--tracker") && i + 1 < argc)
            tracker = argv[++i];
        else if (!strcmp(argv[i], "--video-fps") && i + 1 < argc)
            video_fps = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_pipeline [--frames N] [--scale S] [--json] [--cli EDGEAI "
                            "--video FILE [--video-frames N] [--classifier M] [--tracker T] "
                            "[--video-fps F]]\n");
            return 2;
        }
    }
    if (n < 10 || n > 100000 || scale <= 0 || scale > 10) {
        fprintf(stderr, "bench_pipeline: --frames in [10, 100000], --scale in (0, 10]\n");
        return 2;
    }

    /* calibrate the spin to the seed's budget: 8 / 12 / 5 ms times scale */
    int64_t t0 = eai_pipeline_now_ns();
    volatile double sink_v = spin(20000000, 1.0);
    (void)sink_v;
    double ns_per_iter = (double)(eai_pipeline_now_ns() - t0) / 20000000.0;
    const double budget_ms[3] = {8, 12, 5};
    work_t k = {.n_frames = n};
    for (int s = 0; s < 3; s++)
        k.iters[s] = (long)(budget_ms[s] * scale * 1e6 / ns_per_iter);

    /* (a) the plain loop: warm-up 5, then n frames */
    double *seq_ms = calloc((size_t)n, sizeof *seq_ms);
    if (!seq_ms) return 1;
    frame_t f = {0};
    for (int i = -5; i < n; i++) {
        int64_t a = eai_pipeline_now_ns();
        f.acc = (double)i;
        f.acc = spin(k.iters[0], f.acc);
        f.acc = spin(k.iters[1], f.acc);
        f.acc = spin(k.iters[2], f.acc);
        volatile double keep = f.acc;
        (void)keep;
        if (i >= 0) seq_ms[i] = (double)(eai_pipeline_now_ns() - a) * 1e-6;
    }
    double seq_sum = 0;
    for (int i = 0; i < n; i++)
        seq_sum += seq_ms[i];
    double seq_fps = 1000.0 * n / seq_sum;
    double seq_p50 = pct(seq_ms, n, 0.5), seq_p99 = pct(seq_ms, n, 0.99);

    /* (b) paced: each frame alone in the pipeline, so e2e - compute is overhead */
    eai_pipeline_stats_t lat, thr;
    k.pace_ns = (long)(seq_p50 * 1.5e6);
    if (run_pipeline(&k, &lat)) return 1;
    /* (c) unpaced: stages overlap */
    k.pace_ns = 0;
    if (run_pipeline(&k, &thr)) return 1;

    const char *names[3] = {"detect", "classify", "track"};
    if (json) {
        printf("{\"frames\": %d, \"scale\": %g, \"loop_p50_ms\": %.4f, \"loop_p99_ms\": %.4f, "
               "\"loop_fps\": %.2f, \"pipeline_e2e_p50_ms\": %.4f, \"pipeline_e2e_p99_ms\": %.4f, "
               "\"e2e_ratio_p50\": %.4f, \"overhead_p50_ms\": %.4f, \"overhead_p99_ms\": %.4f, "
               "\"overhead_share\": %.5f, \"pipeline_fps\": %.2f, \"fps_ratio\": %.3f, "
               "\"throughput_overhead_share\": %.5f}\n",
               n, scale, seq_p50, seq_p99, seq_fps, lat.e2e.p50_ms, lat.e2e.p99_ms,
               lat.e2e.p50_ms / seq_p50, lat.overhead.p50_ms, lat.overhead.p99_ms,
               lat.overhead_share, thr.fps, thr.fps / seq_fps, thr.overhead_share);
    } else {
        printf("synthetic stages (budget x %.2f): ", scale);
        for (int s = 0; s < 3; s++)
            printf("%s %.2f ms%s", names[s], budget_ms[s] * scale, s < 2 ? ", " : "\n");
        printf("%-34s %10s %10s %10s\n", "", "p50 ms", "p99 ms", "frames/s");
        printf("%-34s %10.3f %10.3f %10.1f\n", "plain loop (peer)", seq_p50, seq_p99, seq_fps);
        printf("%-34s %10.3f %10.3f %10s\n", "pipeline, paced (latency)", lat.e2e.p50_ms,
               lat.e2e.p99_ms, "-");
        printf("%-34s %10s %10s %10.1f\n", "pipeline, unpaced (throughput)", "-", "-", thr.fps);
        printf("latency ratio pipeline/loop (p50): %.4f\n", lat.e2e.p50_ms / seq_p50);
        printf("pipeline overhead per frame: p50 %.4f ms, p99 %.4f ms, share of e2e %.3f%%\n",
               lat.overhead.p50_ms, lat.overhead.p99_ms, 100 * lat.overhead_share);
        printf("throughput ratio pipeline/loop: %.3f (overhead share under load %.3f%%)\n",
               thr.fps / seq_fps, 100 * thr.overhead_share);
        for (int s = 1; s <= 3; s++)
            printf("  %-9s compute p50 %.3f p99 %.3f ms  overhead p50 %.4f p99 %.4f ms\n",
                   lat.stage[s].name, lat.stage[s].compute.p50_ms, lat.stage[s].compute.p99_ms,
                   lat.stage[s].overhead.p50_ms, lat.stage[s].overhead.p99_ms);
    }
    free(seq_ms);

    if (cli && video) {
        char cmd[8192];
        int len = snprintf(cmd, sizeof cmd, "'%s' pipeline --source '%s' --frames %d --json", cli,
                           video, video_frames);
        if (classifier && len > 0 && (size_t)len < sizeof cmd)
            len += snprintf(cmd + len, sizeof cmd - (size_t)len, " --classifier '%s'", classifier);
        if (tracker && len > 0 && (size_t)len < sizeof cmd)
            len += snprintf(cmd + len, sizeof cmd - (size_t)len, " --tracker '%s'", tracker);
        if (video_fps > 0 && len > 0 && (size_t)len < sizeof cmd)
            snprintf(cmd + len, sizeof cmd - (size_t)len, " --fps %g", video_fps);
        fprintf(stderr, "bench_pipeline: %s\n", cmd);
        fflush(stdout);
        int rc = system(cmd);
        if (rc != 0) {
            fprintf(stderr, "bench_pipeline: the CLI run failed (%d)\n", rc);
            return 1;
        }
    }
    return 0;
}
