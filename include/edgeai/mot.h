/* MOTChallenge text files (det.txt, gt.txt, tracker results) and the
 * multi-object tracking metrics of TrackEval: CLEAR (MOTA, MOTP, ...),
 * Identity (IDF1, IDP, IDR) and HOTA (DetA, AssA, LocA).
 *
 *   eai_mot_t gt, res;
 *   EAI_TRY(eai_mot_load("gt.txt", NULL, &gt));
 *   EAI_TRY(eai_mot_load("result.txt", NULL, &res));
 *   eai_mot_metrics_t m;
 *   EAI_TRY(eai_mot_eval(&gt, &res, NULL, &m));
 *   printf("HOTA %.2f MOTA %.2f IDF1 %.2f\n", 100 * m.hota, 100 * m.mota, 100 * m.idf1);
 *   eai_mot_free(&gt);
 *   eai_mot_free(&res);
 *
 * One line per box: frame,id,x,y,w,h,conf[,class,visibility[,z]] with 7, 8, 9
 * or 10 comma-separated numbers (x, y = top-left corner, 1-based pixels as
 * MOTChallenge writes them; edgeai does not shift them). Detection files
 * carry id -1. Missing columns read as class -1, visibility -1.
 * The metric definitions and what edgeai does about MOT17's distractor
 * classes are in docs/mot-eval.md.
 */
#ifndef EDGEAI_MOT_H
#define EDGEAI_MOT_H

#include <stddef.h>
#include <stdio.h>

#include "edgeai/detect.h"
#include "edgeai/model.h"
#include "edgeai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eai_mot_row {
    int frame; /* >= 1 */
    int id;    /* track / object id; -1 in detection files */
    /* Doubles, as TrackEval reads them, so that IoUs at a threshold
     * (0.5 exactly is common with integer boxes) compare the same way. */
    double x, y, w, h; /* top-left corner, width, height (w, h >= 0) */
    double conf;       /* detections: score; gt: 0 = ignore this box, else consider
                          (truncated to an integer first, as TrackEval does) */
    int cls;           /* column 8, -1 when absent */
    double vis;        /* column 9, -1 when absent */
} eai_mot_row_t;

/* A parsed file: rows sorted by frame (stable: file order within a frame). */
typedef struct eai_mot {
    eai_mot_row_t *rows; /* owned: eai_mot_free */
    int n_rows;
    int max_frame; /* largest frame number, 0 when empty */
    eai_allocator_t alloc;
} eai_mot_t;

/* Parses MOT text from memory (`text`, `n` bytes, need not be NUL-ended).
 * Blank lines and lines starting with '#' are skipped; fields may be
 * separated by commas and/or spaces; '\r\n' accepted. `alloc` may be NULL.
 * EAI_E_FORMAT "line 12: ..." for a line with fewer than 7 or more than 10
 * fields, a non-numeric or non-finite field, a frame < 1 or > 10^7, an id
 * that is not an integer >= -1, or a negative width or height.
 * EAI_E_NOMEM. On failure *out is untouched. Thread-safe. */
EAI_API eai_status_t eai_mot_parse(const char *text, size_t n, const eai_allocator_t *alloc,
                                   eai_mot_t *out);
/* Reads and parses a file; EAI_E_IO with the path, or the parser's errors
 * prefixed by the path. */
EAI_API eai_status_t eai_mot_load(const char *path, const eai_allocator_t *alloc, eai_mot_t *out);
/* Frees rows; accepts NULL and a zeroed struct. */
EAI_API void eai_mot_free(eai_mot_t *m);

/* Rows of one frame: *first gets the index of its first row in m->rows and
 * the return value is the count (0 when the frame has none). */
EAI_API int eai_mot_frame_rows(const eai_mot_t *m, int frame, int *first);

/* Writes one row as MOTChallenge result text "frame,id,x,y,w,h,conf,-1,-1,-1\n"
 * (class and visibility written instead of -1 when >= 0). Returns false on a
 * write error (errno set). */
EAI_API int eai_mot_write_row(FILE *f, const eai_mot_row_t *r);
/* Writes rows to `path` atomically (temp file + rename). EAI_E_IO. */
EAI_API eai_status_t eai_mot_save(const char *path, const eai_mot_row_t *rows, int n);

/* Box conversions between MOT rows and eai_box_t (x2 = x + w, y2 = y + h). */
EAI_API eai_box_t eai_mot_row_box(const eai_mot_row_t *r);

/* ---------------------------------------------------------------- metrics */

typedef enum eai_mot_preproc {
    /* Every gt row with conf != 0 is a target, whatever its class; every
     * result row is kept. What edgeai's own benchmark uses. */
    EAI_MOT_PLAIN = 0,
    /* TrackEval's MOT17 preprocessing: result boxes matched (IoU >= 0.5,
     * Hungarian) to gt boxes of the distractor classes 2, 7, 8, 12 are
     * removed; then only gt with class 1 (pedestrian) and conf != 0 is
     * kept (docs/mot-eval.md). */
    EAI_MOT_MOT17,
} eai_mot_preproc_t;

typedef struct eai_mot_eval_opts {
    eai_mot_preproc_t preproc;
    float clear_iou;       /* CLEAR and Identity match threshold [0.5] */
    eai_allocator_t alloc; /* zero: libc */
} eai_mot_eval_opts_t;

/* Metrics of one sequence. Ratios are fractions in [0, 1] (MOTA can be
 * negative); multiply by 100 for the percentages TrackEval prints. */
typedef struct eai_mot_metrics {
    /* CLEAR */
    double mota, motp, moda;
    long tp, fp, fn, idsw, frag;
    long mt, pt, ml; /* mostly tracked (>= 80 %), partly, mostly lost (< 20 %) */
    double mtr, ptr, mlr;
    double clr_re, clr_pr;
    /* Identity */
    double idf1, idp, idr;
    long idtp, idfp, idfn;
    /* HOTA, averaged over alpha = 0.05, 0.10, ..., 0.95 */
    double hota, deta, assa, loca, deta_re, deta_pr, assa_re, assa_pr;
    double hota_alpha[19]; /* HOTA at each alpha */
    /* counts */
    long n_gt_dets, n_res_dets, n_gt_ids, n_res_ids, n_frames;
} eai_mot_metrics_t;

/* Evaluates `res` against `gt` (both borrowed). `opts` may be NULL.
 * Frames run from 1 to max(gt->max_frame, res->max_frame). EAI_E_INVALID
 * when a frame holds the same id twice in either file (TrackEval refuses
 * this too), EAI_E_NOMEM. Thread-safe. */
EAI_API eai_status_t eai_mot_eval(const eai_mot_t *gt, const eai_mot_t *res,
                                  const eai_mot_eval_opts_t *opts, eai_mot_metrics_t *out);

#ifdef __cplusplus
}
#endif
#endif
