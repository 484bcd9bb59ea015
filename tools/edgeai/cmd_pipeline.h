/* Shared by the `edgeai pipeline` files (cmd_pipeline*.c): options and the
 * report summary. Video, detection, crops, drawing (include/edgeai/video.h,
 * vision.h), tracking and MOT text (track.h, mot.h) come from the library. */
#ifndef EAI_CMD_PIPELINE_H
#define EAI_CMD_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "edgeai/detect.h"
#include "edgeai/pipeline.h"
#include "edgeai/vision.h"

#define PL_MAX_DET     100
#define PL_MAX_CLASSES 1024 /* class indices --classes can name */

typedef struct pl_cli_opts {
    const char *detector, *classifier, *tracker, *source, *mot_out, *annotate;
    const char *det_out;     /* raw detections as MOTChallenge det.txt (1-based x, y) */
    const char *reid;        /* DeepSORT's embedding model */
    eai_det_kind_t det_kind; /* AUTO: from the detector's output shapes */
    long frames;             /* 0: all */
    int show_stats, json, drop;
    float conf;                   /* detector score threshold; 0: 0.1 for bytetrack, else 0.35 */
    float iou;                    /* NMS */
    float track_thresh;           /* ByteTrack's track_thresh; 0: 0.3 (NanoDet's score scale) */
    bool classes[PL_MAX_CLASSES]; /* detector classes kept */
    bool classes_given;           /* --classes was given (else: road users for COCO models) */
    int det_workers, cls_workers, max_crops;
    int cls_h, cls_w; /* 0: the classifier's input size */
    float cls_mean[3], cls_std[3];
    float reid_mean[3], reid_std[3];
    float pace_fps; /* 0: as fast as the stages go */
} pl_cli_opts_t;

void pl_cli_defaults(pl_cli_opts_t *o);
/* "all", or comma-separated class indices or COCO-80 names ("person,car,2") */
bool pl_cli_parse_classes(const char *s, pl_cli_opts_t *o);
int pl_cli_run(const pl_cli_opts_t *o);

/* What the sink saw, for the report. */
typedef struct app_summary {
    long n_det, n_classified, n_embedded, n_trk_boxes, n_ids;
    int w, h;
    const char *det_kind, *source_kind;
    int emb_dim;              /* DeepSORT embedding length, 0 without --reid */
    float conf, track_thresh; /* in effect (track_thresh 0: not bytetrack) */
    /* sums over frames of eai_detector_last_timing, for the detect split */
    double det_pre_ms, det_inf_ms, det_dec_ms;
    long n_det_frames;
} app_summary_t;

/* Prints the table (--show-stats) and/or the JSON (--json) (cmd_pipeline_report.c). */
void pl_cli_report(const app_summary_t *sum, const eai_pipeline_stats_t *st,
                   const pl_cli_opts_t *o);

#endif
