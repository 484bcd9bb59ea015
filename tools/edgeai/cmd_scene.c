/* `edgeai scene render`: a synthetic intersection sequence in MOTChallenge
 * layout (img1/NNNNNN.png, gt/gt.txt, seqinfo.ini), plus gt/world.txt with each
 * object's world position, approach and stop-line crossing, and an optional
 * Y4M video. Built on include/edgeai/scene.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "edgeai/scene.h"
#include "edgeai/vision.h"

#define CMD "scene"

static const char *const usage =
    "usage: edgeai scene render --seed S --frames N --out DIR [--width W] [--height H]\n"
    "         [--fps F] [--density D] [--lanes N] [--lane-width M] [--noise X]\n"
    "         [--no-pedestrians] [--no-static] [--min-vis V] [--class1] [--y4m] [--no-png]\n"
    "  gt/gt.txt rows: frame,id,x,y,w,h,1,class,visibility (x,y 1-based pixels;\n"
    "  class 1 car, 2 bus/truck, 3 bike, 4 person; --class1 writes 1 for all)";

static int mkdir_p(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++)
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
            buf[i] = c;
        }
    return 0;
}

/* RGB -> Y4M 4:2:0 (BT.601 full range, as ffmpeg's yuvj420p). */
static int write_y4m_frame(FILE *f, const eai_image_t *im, uint8_t *yuv)
{
    int w = im->width, h = im->height, cw = (w + 1) / 2, chh = (h + 1) / 2;
    uint8_t *Y = yuv, *U = yuv + (size_t)w * h, *V = U + (size_t)cw * chh;
    for (int j = 0; j < h; j++)
        for (int i = 0; i < w; i++) {
            const uint8_t *p = im->data + 3 * ((size_t)j * w + i);
            float y = 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
            Y[(size_t)j * w + i] = (uint8_t)fminf(255.0f, y + 0.5f);
        }
    for (int j = 0; j < chh; j++)
        for (int i = 0; i < cw; i++) {
            float r = 0, g = 0, b = 0;
            int k = 0;
            for (int dj = 0; dj < 2; dj++)
                for (int di = 0; di < 2; di++) {
                    int x = 2 * i + di, y = 2 * j + dj;
                    if (x >= w || y >= h) continue;
                    const uint8_t *p = im->data + 3 * ((size_t)y * w + x);
                    r += p[0], g += p[1], b += p[2], k++;
                }
            r /= k, g /= k, b /= k;
            float u = 128.0f - 0.168736f * r - 0.331264f * g + 0.5f * b;
            float v = 128.0f + 0.5f * r - 0.418688f * g - 0.081312f * b;
            U[(size_t)j * cw + i] = (uint8_t)fminf(255.0f, fmaxf(0.0f, u + 0.5f));
            V[(size_t)j * cw + i] = (uint8_t)fminf(255.0f, fmaxf(0.0f, v + 0.5f));
        }
    size_t n = (size_t)w * h + 2 * (size_t)cw * chh;
    return (fputs("FRAME\n", f) >= 0 && fwrite(yuv, 1, n, f) == n) ? 0 : -1;
}

static int render(int argc, char **argv)
{
    eai_scene_config_t cfg = {0};
    long seed = -1, frames = -1, n;
    const char *out = NULL;
    bool y4m = false, png = true, class1 = false;
    float min_vis = 0.0f;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = strcmp(a, "--y4m") && strcmp(a, "--no-png") && strcmp(a, "--class1") &&
                     strcmp(a, "--no-pedestrians") && strcmp(a, "--no-static");
        if (takes) {
            if (!v) return cli_fail_usage(CMD, "%s needs a value\n%s", a, usage);
            i++;
        }
        char *end = NULL;
        double d = v ? strtod(v, &end) : 0;
        bool num_ok = v && end && *end == '\0' && end != v && isfinite(d);
        if (!strcmp(a, "--seed")) {
            if (!cli_parse_int(CMD, a, v, 0, 2147483647L, &seed)) return 2;
        } else if (!strcmp(a, "--frames")) {
            if (!cli_parse_int(CMD, a, v, 1, 1000000L, &frames)) return 2;
        } else if (!strcmp(a, "--out")) {
            out = v;
        } else if (!strcmp(a, "--width")) {
            if (!cli_parse_int(CMD, a, v, 64, 4096, &n)) return 2;
            cfg.width = (int)n;
        } else if (!strcmp(a, "--height")) {
            if (!cli_parse_int(CMD, a, v, 64, 4096, &n)) return 2;
            cfg.height = (int)n;
        } else if (!strcmp(a, "--lanes")) {
            if (!cli_parse_int(CMD, a, v, 1, 3, &n)) return 2;
            cfg.lanes = (int)n;
        } else if (!strcmp(a, "--fps") || !strcmp(a, "--density") || !strcmp(a, "--noise") ||
                   !strcmp(a, "--lane-width") || !strcmp(a, "--min-vis")) {
            if (!num_ok) return cli_fail_usage(CMD, "%s '%s': expected a number", a, v);
            if (!strcmp(a, "--fps")) cfg.fps = (float)d;
            if (!strcmp(a, "--density")) cfg.density = (float)d;
            if (!strcmp(a, "--noise")) cfg.noise = d == 0 ? -1.0f : (float)d;
            if (!strcmp(a, "--lane-width")) cfg.lane_width = (float)d;
            if (!strcmp(a, "--min-vis")) min_vis = (float)d;
        } else if (!strcmp(a, "--y4m")) {
            y4m = true;
        } else if (!strcmp(a, "--no-png")) {
            png = false;
        } else if (!strcmp(a, "--class1")) {
            class1 = true;
        } else if (!strcmp(a, "--no-pedestrians")) {
            cfg.no_pedestrians = true;
        } else if (!strcmp(a, "--no-static")) {
            cfg.no_static = true;
        } else {
            return cli_fail_usage(CMD, "unknown option '%s'\n%s", a, usage);
        }
    }
    if (seed < 0 || frames < 0 || !out)
        return cli_fail_usage(CMD, "render needs --seed, --frames and --out\n%s", usage);
    if (cfg.density < 0)
        return cli_fail_usage(CMD, "--density must be > 0 for render (got %g)",
                              (double)cfg.density);
    cfg.seed = (uint64_t)seed;
    eai_scene_t *s = NULL;
    if (eai_scene_create(&cfg, &s) != EAI_OK) return cli_fail_status(CMD);
    int w = cfg.width ? cfg.width : 640, h = cfg.height ? cfg.height : 480;
    float fps = cfg.fps > 0 ? cfg.fps : 10.0f;
    char path[4200];
    int rc = 1;
    FILE *gt = NULL, *world = NULL, *yf = NULL, *ini = NULL;
    uint8_t *yuv = NULL;
    eai_image_t frame = {0};
    eai_scene_truth_t *truth = calloc(1024, sizeof *truth);
    snprintf(path, sizeof path, "%s/gt", out);
    if (!truth || mkdir_p(path) != 0) {
        fprintf(stderr, "edgeai scene: cannot create %s: %s\n", path, strerror(errno));
        goto done;
    }
    snprintf(path, sizeof path, "%s/img1", out);
    if (png && mkdir_p(path) != 0) {
        fprintf(stderr, "edgeai scene: cannot create %s: %s\n", path, strerror(errno));
        goto done;
    }
    snprintf(path, sizeof path, "%s/gt/gt.txt", out);
    gt = fopen(path, "w");
    snprintf(path, sizeof path, "%s/gt/world.txt", out);
    world = gt ? fopen(path, "w") : NULL;
    snprintf(path, sizeof path, "%s/seqinfo.ini", out);
    ini = world ? fopen(path, "w") : NULL;
    if (!ini) {
        fprintf(stderr, "edgeai scene: cannot write %s: %s\n", path, strerror(errno));
        goto done;
    }
    const char *base = strrchr(out, '/');
    base = (base && base[1]) ? base + 1 : out;
    fprintf(ini,
            "[Sequence]\nname=%s\nimDir=img1\nframeRate=%g\nseqLength=%ld\nimWidth=%d\n"
            "imHeight=%d\nimExt=.png\n; edgeai scene render --seed %ld (classes: 1 car, 2 "
            "bus/truck, 3 bike, 4 person)\n",
            base, (double)fps, frames, w, h, seed);
    fprintf(world, "# frame,id,class,x_m,y_m,heading_rad,speed_mps,approach,exit_arm,crossed,"
                   "visibility\n");
    if (y4m) {
        snprintf(path, sizeof path, "%s/%s.y4m", out, base);
        yf = fopen(path, "wb");
        yuv = malloc((size_t)w * h * 2);
        if (!yf || !yuv) {
            fprintf(stderr, "edgeai scene: cannot write %s\n", path);
            goto done;
        }
        fprintf(yf, "YUV4MPEG2 W%d H%d F%d:1 Ip A1:1 C420jpeg XCOLORRANGE=FULL\n", w, h,
                (int)lroundf(fps));
    }
    double t_render = 0, t0 = cli_now();
    long rows = 0;
    int max_id = 0;
    for (long f = 1; f <= frames; f++) {
        double a = cli_now();
        if (eai_scene_step(s) != EAI_OK || eai_scene_render(s, &frame) != EAI_OK) {
            cli_fail_status(CMD);
            goto done;
        }
        t_render += cli_now() - a;
        int nt = 0;
        if (eai_scene_truth(s, truth, 1024, &nt) != EAI_OK) {
            cli_fail_status(CMD);
            goto done;
        }
        if (nt > 1024) nt = 1024;
        for (int i = 0; i < nt; i++) {
            const eai_scene_truth_t *t = &truth[i];
            if (t->id > max_id) max_id = t->id;
            fprintf(world, "%ld,%d,%d,%.3f,%.3f,%.4f,%.3f,%d,%d,%d,%.4f\n", f, t->id, t->cls + 1,
                    (double)t->x, (double)t->y, (double)t->heading, (double)t->speed, t->approach,
                    t->exit_arm, t->crossed ? 1 : 0, (double)t->visibility);
            if (t->visibility < min_vis) continue;
            fprintf(gt, "%ld,%d,%.0f,%.0f,%.0f,%.0f,1,%d,%.4f\n", f, t->id, (double)t->box.x1 + 1,
                    (double)t->box.y1 + 1, (double)(t->box.x2 - t->box.x1),
                    (double)(t->box.y2 - t->box.y1), class1 ? 1 : t->cls + 1,
                    (double)t->visibility);
            rows++;
        }
        if (png) {
            snprintf(path, sizeof path, "%s/img1/%06ld.png", out, f);
            if (eai_image_save_png(&frame, path) != EAI_OK) {
                cli_fail_status(CMD);
                goto done;
            }
        }
        if (yf && write_y4m_frame(yf, &frame, yuv) != 0) {
            fprintf(stderr, "edgeai scene: write failed: %s\n", strerror(errno));
            goto done;
        }
    }
    printf("scene: %ld frames %dx%d -> %s: %ld gt rows, ids up to %d; render %.1f frames/s "
           "(%.2f ms/frame), total %.1f s\n",
           frames, w, h, out, rows, max_id, (double)frames / t_render,
           1000.0 * t_render / (double)frames, cli_now() - t0);
    rc = 0;
done:
    if (gt && fclose(gt) != 0) rc = 1;
    if (world && fclose(world) != 0) rc = 1;
    if (ini && fclose(ini) != 0) rc = 1;
    if (yf && fclose(yf) != 0) rc = 1;
    free(yuv);
    free(truth);
    eai_image_free(&frame);
    eai_scene_destroy(s);
    return rc;
}

int cmd_scene(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "render")) return render(argc, argv);
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        puts(usage);
        return 0;
    }
    return cli_fail_usage(CMD, "expected a subcommand\n%s", usage);
}
