/* The build step: optimize a loaded model (graph passes, layout for a target
 * backend, FP16 weights, INT8 post-training quantization) and save it as a
 * compiled `.eai` plan that eai_model_load maps without copying.
 *
 *   eai_model_t *m, *built;
 *   eai_build_opts_t o = {.backend = "xnnpack", .fp16 = true};
 *   eai_build_report_t rep;
 *   if (eai_model_load("mobilenet_v2.onnx", NULL, &m) != EAI_OK ||
 *       eai_build(m, &o, &built, &rep) != EAI_OK ||
 *       eai_model_save(built, "mobilenet_v2.eai") != EAI_OK)
 *       fprintf(stderr, "%s\n", eai_last_error());
 */
#ifndef EDGEAI_BUILD_H
#define EDGEAI_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgeai/model.h"
#include "edgeai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum eai_calib_method {
    EAI_CALIB_MINMAX = 0, /* activation range = observed min..max */
    EAI_CALIB_PERCENTILE, /* clip to the `percentile` of |x| */
    EAI_CALIB_ENTROPY,    /* KL-divergence threshold (TensorRT style) */
} eai_calib_method_t;

typedef struct eai_build_opts {
    const char *backend; /* target backend (layout is chosen for it); NULL: default */
    bool fp16;           /* store floating-point weights as IEEE half */
    bool int8;           /* post-training static quantization (needs calib) */
    /* INT8 calibration: a folder of .npy/.png/.jpg files, or a text file
     * listing one path per line. Images are resized to the model input and
     * normalised with mean/std (per channel; zero std means 1). */
    const char *calib;
    eai_calib_method_t calib_method;
    float percentile; /* EAI_CALIB_PERCENTILE; 0 means 99.99 */
    int calib_max;    /* at most this many calibration inputs; 0: all */
    float mean[3], std[3];
    /* Inputs held out for the accuracy report (same forms as calib); NULL:
     * the report uses the calibration set (and says so). */
    const char *eval;
    /* Progress of long stages (calibration, evaluation); may be NULL. */
    void (*progress)(const char *stage, int done, int total, void *user);
    void *user;
} eai_build_opts_t;

typedef struct eai_build_report {
    int nodes_before, nodes_after;
    int consts_folded, bn_folded, act_fused, nodes_removed, layout_transposes;
    int quantized_nodes;
    /* Accuracy of the built model against the FP32 original on `n_eval`
     * inputs: max / mean absolute output error, and top-1 agreement of the
     * first output's last axis (classifiers; -1 when not computed). */
    int n_eval;
    double max_abs_err, mean_abs_err;
    double top1_agree;
} eai_build_report_t;

/* Builds an optimized copy of `m` (which is left untouched). `opts` may be
 * NULL (FP32, default backend). `report` may be NULL. */
EAI_API eai_status_t eai_build(const eai_model_t *m, const eai_build_opts_t *opts,
                               eai_model_t **out, eai_build_report_t *report);

/* Writes `m` as a `.eai` plan (see docs/eai-format.md): atomically (temp
 * file + rename), weights 64-byte aligned, FP16 where the model was built
 * with fp16. */
EAI_API eai_status_t eai_model_save(const eai_model_t *m, const char *path);

#ifdef __cplusplus
}
#endif
#endif
