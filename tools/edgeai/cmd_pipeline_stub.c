/* Stand-ins used by `edgeai pipeline` until the vision and tracking modules
 * (include/edgeai/vision.h, video.h, track.h, issue 6) land: an ffmpeg
 * decoder and encoder, NanoDet / CenterNet decoding with class-wise NMS, and
 * a greedy-IoU tracker with constant-velocity prediction. Deliberately small:
 * they are replaced, not extended. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stb/stb_image_write.h>

#include "cmd_pipeline.h"

/* ---- ffmpeg decoder ---- */

struct pl_video {
    FILE *f;
    int w, h;
};

static bool shell_safe(const char *s)
{
    return strchr(s, '\'') == NULL;
}

eai_status_t pl_video_open(const char *path, long max_frames, pl_video_t **out, int *w, int *h)
{
    struct stat sb;
    if (stat(path, &sb) != 0) return eai_fail(EAI_E_IO, "%s: %s", path, strerror(errno));
    if (!shell_safe(path)) return eai_fail(EAI_E_INVALID, "%s: quote in the path", path);
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0 "
             "'%s' 2>/dev/null",
             path);
    FILE *pr = popen(cmd, "r");
    if (!pr) return eai_fail(EAI_E_UNAVAILABLE, "cannot run ffprobe");
    int ww = 0, hh = 0;
    int got = fscanf(pr, "%d,%d", &ww, &hh);
    int rc = pclose(pr);
    if (got != 2 || rc != 0 || ww <= 0 || hh <= 0 || ww > 16384 || hh > 16384)
        return eai_fail(EAI_E_FORMAT, "%s: ffprobe finds no video stream (is ffmpeg installed?)",
                        path);
    char lim[64] = "";
    if (max_frames > 0) snprintf(lim, sizeof lim, "-frames:v %ld", max_frames);
    snprintf(cmd, sizeof cmd,
             "ffmpeg -nostdin -v error -i '%s' %s -f rawvideo -pix_fmt rgb24 - </dev/null", path,
             lim);
    pl_video_t *v = calloc(1, sizeof *v);
    if (!v) return eai_fail(EAI_E_NOMEM, "video");
    v->f = popen(cmd, "r");
    if (!v->f) {
        free(v);
        return eai_fail(EAI_E_UNAVAILABLE, "cannot run ffmpeg");
    }
    v->w = ww;
    v->h = hh;
    *w = ww;
    *h = hh;
    *out = v;
    return EAI_OK;
}

eai_status_t pl_video_read(pl_video_t *v, uint8_t *rgb, int *eof)
{
    size_t n = (size_t)v->w * (size_t)v->h * 3;
    size_t got = fread(rgb, 1, n, v->f);
    *eof = 0;
    if (got == n) return EAI_OK;
    *eof = 1;
    if (got == 0) return EAI_OK;
    return eai_fail(EAI_E_FORMAT, "video: truncated frame (%zu of %zu bytes)", got, n);
}

void pl_video_close(pl_video_t *v)
{
    if (!v) return;
    if (v->f) pclose(v->f);
    free(v);
}

/* ---- annotated output ---- */

struct pl_writer {
    FILE *pipe;
    char dir[3072];
    int w, h;
};

static bool is_video_name(const char *p)
{
    const char *d = strrchr(p, '.');
    return d && (!strcmp(d, ".mp4") || !strcmp(d, ".avi") || !strcmp(d, ".mkv"));
}

eai_status_t pl_writer_open(const char *path, int w, int h, float fps, pl_writer_t **out)
{
    if (!shell_safe(path)) return eai_fail(EAI_E_INVALID, "%s: quote in the path", path);
    pl_writer_t *wr = calloc(1, sizeof *wr);
    if (!wr) return eai_fail(EAI_E_NOMEM, "writer");
    wr->w = w;
    wr->h = h;
    if (is_video_name(path)) {
        char cmd[4096];
        snprintf(cmd, sizeof cmd,
                 "ffmpeg -nostdin -y -v error -f rawvideo -pix_fmt rgb24 -s %dx%d -r %g -i - "
                 "-pix_fmt yuv420p '%s'",
                 w, h, fps > 0 ? fps : 10.0, path);
        wr->pipe = popen(cmd, "w");
        if (!wr->pipe) {
            free(wr);
            return eai_fail(EAI_E_UNAVAILABLE, "cannot run ffmpeg to write %s", path);
        }
    } else {
        if (mkdir(path, 0777) != 0 && errno != EEXIST) {
            free(wr);
            return eai_fail(EAI_E_IO, "%s: %s", path, strerror(errno));
        }
        snprintf(wr->dir, sizeof wr->dir, "%s", path);
    }
    *out = wr;
    return EAI_OK;
}

eai_status_t pl_writer_put(pl_writer_t *wr, const uint8_t *rgb, long frame)
{
    if (wr->pipe) {
        size_t n = (size_t)wr->w * (size_t)wr->h * 3;
        if (fwrite(rgb, 1, n, wr->pipe) != n) return eai_fail(EAI_E_IO, "ffmpeg encoder closed");
        return EAI_OK;
    }
    char p[3200];
    snprintf(p, sizeof p, "%s/%06ld.png", wr->dir, frame);
    if (!stbi_write_png(p, wr->w, wr->h, 3, rgb, wr->w * 3))
        return eai_fail(EAI_E_IO, "%s: cannot write", p);
    return EAI_OK;
}

eai_status_t pl_writer_close(pl_writer_t *wr)
{
    if (!wr) return EAI_OK;
    int rc = wr->pipe ? pclose(wr->pipe) : 0;
    free(wr);
    return rc == 0 ? EAI_OK : eai_fail(EAI_E_IO, "ffmpeg encoder exited with %d", rc);
}

static void color_of(int id, uint8_t c[3])
{
    uint32_t x = (uint32_t)id * 2654435761u;
    c[0] = (uint8_t)(64 + (x & 0x7f) + 64 * ((x >> 7) & 1));
    c[1] = (uint8_t)(64 + ((x >> 8) & 0x7f) + 64 * ((x >> 15) & 1));
    c[2] = (uint8_t)(64 + ((x >> 16) & 0x7f) + 64 * ((x >> 23) & 1));
}

static void fill(uint8_t *rgb, int w, int h, int x1, int y1, int x2, int y2, const uint8_t c[3])
{
    if (x1 < 0) x1 = 0;
    if (y1 < 0) y1 = 0;
    if (x2 > w) x2 = w;
    if (y2 > h) y2 = h;
    for (int y = y1; y < y2; y++)
        for (int x = x1; x < x2; x++)
            memcpy(rgb + ((size_t)y * (size_t)w + (size_t)x) * 3, c, 3);
}

void pl_draw_box(uint8_t *rgb, int w, int h, eai_box_t b, int id)
{
    uint8_t c[3];
    color_of(id, c);
    int x1 = (int)b.x1, y1 = (int)b.y1, x2 = (int)b.x2, y2 = (int)b.y2;
    fill(rgb, w, h, x1, y1, x2, y1 + 2, c);
    fill(rgb, w, h, x1, y2 - 2, x2, y2, c);
    fill(rgb, w, h, x1, y1, x1 + 2, y2, c);
    fill(rgb, w, h, x2 - 2, y1, x2, y2, c);
    /* the id as a row of 4x6 bars, one per decimal digit value + 1 */
    int tx = x1 + 3, ty = y1 + 3;
    for (int v = id; v > 0 && tx < x2 - 4; v /= 10) {
        fill(rgb, w, h, tx, ty, tx + 4, ty + 2 + 2 * (v % 10), c);
        tx += 6;
    }
}

/* ---- detector decoding ---- */

static int cmp_score(const void *a, const void *b)
{
    float x = ((const eai_det_t *)a)->score, y = ((const eai_det_t *)b)->score;
    return (x < y) - (x > y);
}

/* Greedy class-wise NMS of d[0..n) (sorted in place) into out[0..max). */
static int nms(eai_det_t *d, int n, float thr, eai_det_t *out, int max)
{
    qsort(d, (size_t)n, sizeof *d, cmp_score);
    int k = 0;
    for (int i = 0; i < n && k < max; i++) {
        bool keep = true;
        for (int j = 0; j < k && keep; j++)
            if (out[j].cls == d[i].cls && eai_box_iou(out[j].box, d[i].box) > thr) keep = false;
        if (keep) out[k++] = d[i];
    }
    return k;
}

#define PL_CAND 1024

int pl_decode(pl_det_kind_t kind, const float *const *out, const int64_t *out_rows, int n_out,
              int in_w, int in_h, int fw, int fh, float conf, const bool *keep, eai_det_t *dets,
              int max)
{
    eai_det_t cand[PL_CAND];
    int n = 0;
    float sx = (float)fw / (float)in_w, sy = (float)fh / (float)in_h;
    if (kind == PL_DET_CENTERNET) {
        /* the model's own detections [1, 100, 6]: x1 y1 x2 y2 score class (input pixels) */
        for (int i = 0; i < out_rows[0] && n < PL_CAND; i++) {
            const float *r = out[0] + i * 6;
            int c = (int)lrintf(r[5]);
            if (r[4] < conf || c < 0 || c >= PL_N_COCO || !keep[c]) continue;
            eai_det_t d = {{r[0] * sx, r[1] * sy, r[2] * sx, r[3] * sy}, r[4], c, NULL, 0};
            cand[n++] = d;
        }
        return nms(cand, n, 0.5f, dets, max);
    }
    /* NanoDet (GFL head): per stride, sigmoid scores [g*g, 80] and 4 x 11
     * distance-bin logits [g*g, 44]; distance = softmax expectation x stride */
    static const int strides[3] = {8, 16, 32};
    for (int si = 0; si < 3; si++) {
        int s = strides[si], g = in_w / s;
        const float *cls = NULL, *reg = NULL;
        for (int o = 0; o < n_out; o++) {
            if (out_rows[2 * o] != (int64_t)g * (in_h / s)) continue;
            if (out_rows[2 * o + 1] == 80) cls = out[o];
            if (out_rows[2 * o + 1] == 44) reg = out[o];
        }
        if (!cls || !reg) continue;
        for (int i = 0; i < g * (in_h / s) && n < PL_CAND; i++) {
            int best = 0;
            for (int c = 1; c < 80; c++)
                if (cls[i * 80 + c] > cls[i * 80 + best]) best = c;
            float sc = cls[i * 80 + best];
            if (sc < conf || !keep[best]) continue;
            float dist[4];
            for (int side = 0; side < 4; side++) {
                const float *l = reg + i * 44 + side * 11;
                float m = l[0], sum = 0, ex = 0;
                for (int k = 1; k < 11; k++)
                    m = l[k] > m ? l[k] : m;
                for (int k = 0; k < 11; k++) {
                    float e = expf(l[k] - m);
                    sum += e;
                    ex += e * (float)k;
                }
                dist[side] = ex / sum * (float)s;
            }
            float cx = (float)((i % g) * s), cy = (float)((i / g) * s);
            eai_det_t d = {{(cx - dist[0]) * sx, (cy - dist[1]) * sy, (cx + dist[2]) * sx,
                            (cy + dist[3]) * sy},
                           sc,
                           best,
                           NULL,
                           0};
            cand[n++] = d;
        }
    }
    return nms(cand, n, 0.5f, dets, max);
}

/* ---- greedy IoU tracker ---- */

#define PL_MAX_TRK 256

typedef struct {
    int id, hits, miss;
    eai_box_t box;
    float vx, vy; /* centre velocity, px per frame */
    int cls;
    float score;
} trk_t;

struct pl_tracker {
    trk_t t[PL_MAX_TRK];
    int n, next_id;
};

eai_status_t pl_tracker_create(const char *kind, pl_tracker_t **out)
{
    (void)kind; /* one stand-in for all three until track.h lands */
    pl_tracker_t *t = calloc(1, sizeof *t);
    if (!t) return eai_fail(EAI_E_NOMEM, "tracker");
    t->next_id = 1;
    *out = t;
    return EAI_OK;
}

void pl_tracker_destroy(pl_tracker_t *t)
{
    free(t);
}

int pl_tracker_update(pl_tracker_t *t, const eai_det_t *dets, int n, pl_track_t *tracks, int max)
{
    bool used[PL_MAX_DET] = {0};
    for (int i = 0; i < t->n; i++) { /* predict */
        t->t[i].box.x1 += t->t[i].vx;
        t->t[i].box.x2 += t->t[i].vx;
        t->t[i].box.y1 += t->t[i].vy;
        t->t[i].box.y2 += t->t[i].vy;
    }
    int k = 0;
    for (int i = 0; i < t->n; i++) {
        trk_t *tr = &t->t[i];
        int best = -1;
        float bi = 0.3f;
        for (int j = 0; j < n && j < PL_MAX_DET; j++) {
            if (used[j]) continue;
            float iou = eai_box_iou(tr->box, dets[j].box);
            if (iou > bi) {
                bi = iou;
                best = j;
            }
        }
        if (best < 0) {
            tr->miss++;
            continue;
        }
        used[best] = true;
        eai_box_t b = dets[best].box;
        float ncx = (b.x1 + b.x2) / 2, ncy = (b.y1 + b.y2) / 2;
        float ocx = (tr->box.x1 + tr->box.x2) / 2 - tr->vx,
              ocy = (tr->box.y1 + tr->box.y2) / 2 - tr->vy;
        tr->vx = 0.5f * tr->vx + 0.5f * (ncx - ocx);
        tr->vy = 0.5f * tr->vy + 0.5f * (ncy - ocy);
        tr->box = b;
        tr->hits++;
        tr->miss = 0;
        tr->score = dets[best].score;
        tr->cls = dets[best].cls;
        if (tr->hits >= 2 && k < max) {
            pl_track_t o = {tr->id, b, tr->score, tr->cls};
            tracks[k++] = o;
        }
    }
    int w = 0; /* forget tracks lost for 10 frames */
    for (int i = 0; i < t->n; i++)
        if (t->t[i].miss <= 10) t->t[w++] = t->t[i];
    t->n = w;
    for (int j = 0; j < n && j < PL_MAX_DET && t->n < PL_MAX_TRK; j++) {
        if (used[j]) continue;
        trk_t nt = {t->next_id++, 1, 0, dets[j].box, 0, 0, dets[j].cls, dets[j].score};
        t->t[t->n++] = nt;
    }
    return k;
}
