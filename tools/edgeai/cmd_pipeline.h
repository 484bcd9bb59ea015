/* Shared by the `edgeai pipeline` files (cmd_pipeline*.c): options, the
 * per-frame payload, and the temporary stand-ins for the video source,
 * detector decoding and tracker until vision.h / video.h / track.h land. */
#ifndef EAI_CMD_PIPELINE_H
#define EAI_CMD_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "edgeai/detect.h"
#include "edgeai/pipeline.h"

#define PL_MAX_DET 100
#define PL_N_COCO  80

typedef struct pl_cli_opts {
    const char *detector, *classifier, *tracker, *source, *mot_out, *annotate;
    long frames; /* 0: all */
    int show_stats, json, drop;
    float conf;
    bool classes[PL_N_COCO]; /* detector classes kept */
    int det_workers, cls_workers, max_crops;
    int cls_h, cls_w; /* 0: the classifier's input size */
    float cls_mean[3], cls_std[3];
    float pace_fps; /* 0: as fast as the stages go */
} pl_cli_opts_t;

void pl_cli_defaults(pl_cli_opts_t *o);
/* "all", or comma-separated COCO indices or names ("person,car,2") */
bool pl_cli_parse_classes(const char *s, pl_cli_opts_t *o);
int pl_cli_run(const pl_cli_opts_t *o);
const char *pl_coco_name(int cls);

/* What the sink saw, for the report. */
typedef struct app_summary {
    long n_det, n_classified, n_trk_boxes, n_ids;
    int w, h;
    const char *det_kind;
} app_summary_t;

/* Prints the table (--show-stats) and/or the JSON (--json) (cmd_pipeline_report.c). */
void pl_cli_report(const app_summary_t *sum, const eai_pipeline_stats_t *st,
                   const pl_cli_opts_t *o);

/* One tracked object in a frame's output. */
typedef struct pl_track {
    int id;
    eai_box_t box;
    float score;
    int cls;
} pl_track_t;

/* ---- stand-ins (cmd_pipeline_stub.c) ---- */

typedef struct pl_video pl_video_t;
/* Decodes PATH with the ffmpeg program into RGB24 frames. */
eai_status_t pl_video_open(const char *path, long max_frames, pl_video_t **out, int *w, int *h);
/* Next frame into rgb (w*h*3); *eof = 1 at the end. */
eai_status_t pl_video_read(pl_video_t *v, uint8_t *rgb, int *eof);
void pl_video_close(pl_video_t *v);

/* Encoder for annotated frames: FILE.mp4/.avi/.mkv through ffmpeg, else a
 * folder of PNGs. */
typedef struct pl_writer pl_writer_t;
eai_status_t pl_writer_open(const char *path, int w, int h, float fps, pl_writer_t **out);
eai_status_t pl_writer_put(pl_writer_t *wr, const uint8_t *rgb, long frame);
eai_status_t pl_writer_close(pl_writer_t *wr);
/* Draws a box outline (2 px) and a small id tag into rgb. */
void pl_draw_box(uint8_t *rgb, int w, int h, eai_box_t b, int id);

typedef enum { PL_DET_NANODET, PL_DET_CENTERNET } pl_det_kind_t;
/* Detections from the raw outputs of a session (kind from its outputs),
 * boxes scaled to the frame (fw x fh), classes filtered, class-wise NMS.
 * Returns the count (<= max). */
int pl_decode(pl_det_kind_t kind, const float *const *out, const int64_t *out_rows, int n_out,
              int in_w, int in_h, int fw, int fh, float conf, const bool *keep, eai_det_t *dets,
              int max);

typedef struct pl_tracker pl_tracker_t;
eai_status_t pl_tracker_create(const char *kind, pl_tracker_t **out);
/* Associates this frame's detections; fills tracks (confirmed, matched). */
int pl_tracker_update(pl_tracker_t *t, const eai_det_t *dets, int n, pl_track_t *tracks, int max);
void pl_tracker_destroy(pl_tracker_t *t);

#endif
