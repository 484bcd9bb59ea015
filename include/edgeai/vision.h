/* Vision building blocks: preprocessing (resize, letterbox, crop, NCHW/NHWC,
 * normalisation), detector output decoding (YOLOv5, YOLOv8, SSD, NanoDet,
 * CenterNet), NMS, a one-call detector object and drawing.
 *
 *   eai_detector_opts_t o = {.model_path = "nanodet.json"};   // kind from output shapes
 *   eai_detector_t *d;
 *   EAI_TRY(eai_detector_create(&o, &d));
 *   eai_det_t dets[100];
 *   int n;
 *   EAI_TRY(eai_detector_run(d, &frame, dets, 100, &n));      // boxes in frame pixels
 *   for (int i = 0; i < n; i++)
 *       printf("%s %.2f\n", eai_coco80_label(dets[i].cls), dets[i].score);
 *   eai_draw_dets(&frame, dets, n, eai_detector_labels(d), 80);
 *   eai_image_save_png(&frame, "out.png");
 *   eai_detector_destroy(d);
 *
 * Coordinates: "tensor pixels" are pixels of the network input (e.g. 416x416),
 * "source pixels" those of the frame. An eai_xform_t, returned by every
 * preprocessing call, maps the first to the second. Boxes are x1,y1,x2,y2
 * (eai_box_t, include/edgeai/detect.h).
 */
#ifndef EDGEAI_VISION_H
#define EDGEAI_VISION_H

#include <stdbool.h>
#include <stdint.h>

#include "edgeai/detect.h"
#include "edgeai/image.h"
#include "edgeai/status.h"
#include "edgeai/tensor.h"
#include "edgeai/threadpool.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- preprocess */

typedef enum eai_fit {
    EAI_FIT_STRETCH = 0, /* resize to the tensor size, aspect ratio not kept */
    EAI_FIT_LETTERBOX,   /* keep aspect, centre, pad the border with `pad` */
} eai_fit_t;

typedef enum eai_resize {
    EAI_RESIZE_BILINEAR = 0, /* half-pixel centres (OpenCV, PIL, ONNX half_pixel) */
    EAI_RESIZE_BILINEAR_TF,  /* tf.image.resizeBilinear default: src = dst * in/out
                                (asymmetric), as @vladmandic/human feeds its models */
    EAI_RESIZE_NEAREST,      /* floor((dst + 0.5) * in/out) */
} eai_resize_t;

/* How an image becomes a float tensor. Plain data; zero-init gives a
 * stretched, half-pixel bilinear, NCHW tensor of pixels / 255, RGB. Each
 * channel value is  (pixel * scale - mean[c]) / std[c]. */
typedef struct eai_preproc {
    int width, height;   /* tensor spatial size (required, > 0) */
    eai_layout_t layout; /* NCHW (0) or NHWC */
    eai_fit_t fit;
    eai_resize_t resize;
    float pad;     /* letterbox border, in pixel units 0..255 (YOLO uses 114);
                      normalised like a pixel */
    float scale;   /* 0 means 1/255 */
    float mean[3]; /* in scaled units; zero: 0 */
    float std[3];  /* zero entries mean 1 */
    bool bgr;      /* write channels as B,G,R */
} eai_preproc_t;

/* Maps tensor pixels to source pixels: src = (t - off) / scale. */
typedef struct eai_xform {
    float scale_x, scale_y; /* tensor pixels per source pixel */
    float off_x, off_y;     /* tensor position of source pixel 0 (letterbox pad) */
    int src_w, src_h;       /* source frame size, for clipping */
} eai_xform_t;

/* Fills `out` (width*height*3 floats in p->layout, borrowed) from the whole
 * image: stretched or letterboxed as p->fit says. `xf` (may be NULL) gets the
 * mapping back. Allocates nothing. EAI_E_INVALID: image not 3-channel RGB
 * (or 1-channel: replicated), sizes <= 0. Thread-safe (no state). */
EAI_API eai_status_t eai_preprocess(const eai_image_t *img, const eai_preproc_t *p, float *out,
                                    eai_xform_t *xf);

/* Same for the region `box` of the image (source pixels; parts outside the
 * image repeat the edge pixels), e.g. a detection fed to a classifier or a
 * re-identification net. p->fit applies to the box's aspect. EAI_E_INVALID
 * also for an empty box. */
EAI_API eai_status_t eai_preprocess_crop(const eai_image_t *img, eai_box_t box,
                                         const eai_preproc_t *p, float *out, eai_xform_t *xf);

/* Tensor pixels -> source pixels, clipped to [0, src_w] x [0, src_h] (no
 * clipping along an axis whose size is <= 0). */
EAI_API eai_box_t eai_xform_box(const eai_xform_t *xf, eai_box_t b);
/* Applies eai_xform_box to dets[0..n). */
EAI_API void eai_xform_dets(const eai_xform_t *xf, eai_det_t *dets, int n);

/* ---------------------------------------------------------------- decoders */

typedef enum eai_det_kind {
    EAI_DET_AUTO = 0,  /* guess from the output shapes (eai_det_kind_guess) */
    EAI_DET_YOLOV5,    /* one output [1,N,5+C]: cx,cy,w,h, objectness, C class scores;
                          score = obj * cls */
    EAI_DET_YOLOV8,    /* one output [1,4+C,N] (or [1,N,4+C], told by the smaller dim):
                          cx,cy,w,h, C class scores */
    EAI_DET_SSD,       /* boxes [1,N,4] + scores [1,N,C] (either order) */
    EAI_DET_NANODET,   /* per stride (8,16,32): class scores [1,HW,C] (sigmoid applied)
                          and box distance bins [1,HW,4*B] (GFL: softmax expectation
                          over B bins x stride = left, top, right, bottom distance) */
    EAI_DET_CENTERNET, /* built-in detections [1,K,6]: x1,y1,x2,y2 (tensor pixels),
                          score, class (0-based) */
} eai_det_kind_t;

/* Decoder settings. Plain data; zero-init means the defaults in brackets. */
typedef struct eai_decode_opts {
    float conf;    /* keep candidates with score >= conf [0.25] */
    float iou;     /* NMS: suppress overlaps with IoU > iou [0.45]; < 0: no NMS */
    bool agnostic; /* NMS across classes (else only within a class) */
    int top_k;     /* keep at most this many after NMS [all that fit] */
    int n_classes; /* C; 0: inferred from the shapes (NanoDet: 80) */
    /* Box coordinates (YOLO, SSD) are in [0,1] of the tensor size, not pixels. */
    bool normalised;
    /* SSD: boxes are cx,cy,w,h (else corners); yx: TF order y1,x1,y2,x2 /
     * cy,cx,h,w; background: score column 0 is background, skipped (class
     * index c reported as c-1); sigmoid: scores are logits. */
    bool ssd_center, ssd_yx, ssd_background, sigmoid;
    /* NanoDet anchor centres sit at (i + 0.5) * stride (as human's JS); true
     * puts them at i * stride. 0.5 is the right one for human's nanodet.json:
     * on vtest.avi, boxes found in a mirrored frame and mirrored back agree
     * with the unmirrored ones to 0.8 px with 0.5, but are 13 px off with 0. */
    bool nanodet_grid_origin;
} eai_decode_opts_t;

/* One raw network output handed to a decoder (borrowed for the call). */
typedef struct eai_det_output {
    const float *data;
    eai_tensor_info_t info; /* rank and dims are read; dtype must be float32 */
} eai_det_output_t;

/* Guesses the layout from the output shapes (only `info` is read): a [1,K,6]
 * output beside others -> CENTERNET; an even number (>= 4) of rank-2/3
 * outputs -> NANODET (pairs [1,HW,C] + [1,HW,4B]); two outputs [1,N,4] and
 * [1,N,C] -> SSD; one rank-3 output whose middle dim is the smaller ->
 * YOLOV8, else YOLOV5 (so a YOLOv5 table needs N > 5 + C, true of real
 * exports). EAI_E_UNSUPPORTED (naming the shapes) if none fits. */
EAI_API eai_status_t eai_det_kind_guess(const eai_det_output_t *outs, int n_outs,
                                        eai_det_kind_t *kind);
EAI_API const char *eai_det_kind_name(eai_det_kind_t kind);

/* Decodes raw outputs into candidates in *tensor pixels* (in_w x in_h is the
 * network input size, used for normalised coordinates and NanoDet strides):
 * score >= conf, best class per anchor, no NMS. When more than `cap`
 * candidates pass, the `cap` best are kept. Allocates nothing.
 * EAI_E_INVALID (arguments), EAI_E_FORMAT (shapes do not fit `kind`, with the
 * shapes). Thread-safe. */
EAI_API eai_status_t eai_det_decode_raw(eai_det_kind_t kind, const eai_det_output_t *outs,
                                        int n_outs, int in_w, int in_h, const eai_decode_opts_t *o,
                                        eai_det_t *cand, int cap, int *n);

/* Greedy NMS in place: sorts dets[0..n) by score (descending, stable by
 * index), drops every box whose IoU with a kept box of the same class (any
 * class if `agnostic`) exceeds `iou`, keeps at most top_k (<= 0: all).
 * *n_keep gets the survivors, now dets[0..*n_keep). Allocates nothing. */
EAI_API void eai_nms(eai_det_t *dets, int n, float iou, bool agnostic, int top_k, int *n_keep);

/* The full decode: eai_det_decode_raw into `cand` (scratch, cand_cap entries),
 * NMS and top-k, mapping through `xf` (NULL: stay in tensor pixels), and the
 * best min(cap, survivors) copied into `out`, best first. */
EAI_API eai_status_t eai_det_decode(eai_det_kind_t kind, const eai_det_output_t *outs, int n_outs,
                                    int in_w, int in_h, const eai_decode_opts_t *o,
                                    const eai_xform_t *xf, eai_det_t *cand, int cand_cap,
                                    eai_det_t *out, int cap, int *n);

/* COCO-80 class names in the order of @vladmandic/human's labels.ts (0:
 * person, 1: bicycle, 2: car, ...), the class indices NanoDet and CenterNet
 * report. Out of range: "?". eai_coco80_labels() returns the 80-entry array
 * (static). */
#define EAI_COCO80_N 80
EAI_API const char *eai_coco80_label(int cls);
EAI_API const char *const *eai_coco80_labels(void);

/* ---------------------------------------------------------------- detector */

typedef struct eai_detector eai_detector_t;

typedef struct eai_detector_opts {
    const char *model_path; /* ONNX, .eai, .tflite or TF.js model.json (copied) */
    eai_det_kind_t kind;    /* AUTO: from the session's output shapes */
    /* Network input size; 0: from the model's input shape (required if that
     * is symbolic). */
    int input_w, input_h;
    /* Preprocessing; NULL: the kind's default. YOLO: letterbox pad 114, /255;
     * SSD: stretch, /255; NanoDet: stretch, TF bilinear, /255 (as human);
     * CenterNet: stretch, TF bilinear, pixels 0..255 (as human). The layout
     * always follows the input shape (channel dim 3 at 1: NCHW, at 3: NHWC).
     * Copied. */
    const eai_preproc_t *pre;
    eai_decode_opts_t decode; /* zero: defaults (conf 0.25, iou 0.45) */
    int max_candidates;       /* pre-NMS candidates kept; 0: 1000 */
    const char *backend;      /* session backend ("ref", "xnnpack"); NULL: best */
    int threads;              /* 0 or 1: caller's thread; n > 1: own pool of n */
    eai_threadpool_t *pool;   /* borrowed, must outlive; overrides threads */
} eai_detector_opts_t;

/* Wall time of the parts of the last eai_detector_run, milliseconds. */
typedef struct eai_detector_timing {
    double preprocess_ms, inference_ms, decode_ms, total_ms;
} eai_detector_timing_t;

/* Loads the model, creates the session, picks the kind and allocates every
 * buffer (input tensor, candidates). EAI_E_INVALID (no model_path, sizes),
 * the loader's statuses (EAI_E_IO, EAI_E_FORMAT, EAI_E_UNSUPPORTED), EAI_E_UNSUPPORTED
 * (outputs fit no kind), EAI_E_NOMEM. */
EAI_API eai_status_t eai_detector_create(const eai_detector_opts_t *opts, eai_detector_t **out);
EAI_API void eai_detector_destroy(eai_detector_t *d);

/* Preprocess `frame` (borrowed, RGB), run the session, decode, NMS and map
 * boxes to frame pixels; at most `cap` detections, best first, into `out`
 * (*n of them). No allocation. EAI_E_INVALID (frame), the session's
 * statuses. Single-threaded per detector; different detectors may run
 * concurrently. */
EAI_API eai_status_t eai_detector_run(eai_detector_t *d, const eai_image_t *frame, eai_det_t *out,
                                      int cap, int *n);

EAI_API void eai_detector_last_timing(const eai_detector_t *d, eai_detector_timing_t *t);
EAI_API eai_det_kind_t eai_detector_kind(const eai_detector_t *d);
EAI_API void eai_detector_input_size(const eai_detector_t *d, int *w, int *h);
/* Labels (COCO-80 for NanoDet/CenterNet and any 80-class model; NULL when the
 * model has another class count). Static. */
EAI_API const char *const *eai_detector_labels(const eai_detector_t *d);
EAI_API int eai_detector_n_classes(const eai_detector_t *d);
/* The session, for inspection (borrowed; owned by the detector). */
struct eai_session;
EAI_API struct eai_session *eai_detector_session(eai_detector_t *d);

/* ---------------------------------------------------------------- drawing */

typedef struct eai_rgb {
    uint8_t r, g, b;
} eai_rgb_t;

/* A distinct, stable colour per id (class or track id); negative ids grey. */
EAI_API eai_rgb_t eai_color_for(int id);

/* Draws a rectangle outline `thickness` pixels wide (inside the box),
 * clipped to the image. 3-channel images; anything else is ignored. */
EAI_API void eai_draw_rect(eai_image_t *img, eai_box_t box, eai_rgb_t color, int thickness);
EAI_API void eai_fill_rect(eai_image_t *img, eai_box_t box, eai_rgb_t color);

/* Draws `text` with the built-in 5x7 font (cell 6x8 pixels, times `scale`,
 * >= 1) with its top-left corner at (x, y), clipped. Digits, letters (lower
 * case drawn as upper case), space and - . : # / _ ( ) % = + ; other bytes
 * are drawn as a hollow box. `bg` NULL: no background. Returns the width
 * drawn in pixels. */
EAI_API int eai_draw_text(eai_image_t *img, int x, int y, const char *text, eai_rgb_t fg,
                          const eai_rgb_t *bg, int scale);

/* Boxes plus "label score" tags coloured by class. labels may be NULL (class
 * numbers are printed). */
EAI_API void eai_draw_dets(eai_image_t *img, const eai_det_t *dets, int n,
                           const char *const *labels, int n_labels);

#ifdef __cplusplus
}
#endif
#endif
