/* INT8 post-training quantization and the input sets it calibrates on.
 * Used by eai_build (src/build). */
#ifndef EAI_QUANT_IMPL_H
#define EAI_QUANT_IMPL_H

#include "edgeai/build.h"
#include "runtime/runtime_impl.h"

/* Samples for calibration or evaluation, already shaped and typed for the
 * model's inputs (images resized and normalised). */
typedef struct eai__inputset {
    int n;         /* samples */
    int n_inputs;  /* model inputs per sample */
    void **data;   /* data[s * n_inputs + i]: input i of sample s (aligned) */
    size_t *bytes; /* bytes[i]: size of input i */
    char **source; /* source[s]: file the sample came from (messages) */
    eai_allocator_t alloc;
} eai__inputset_t;

/* Loads `spec` (a folder of .npy/.png/.jpg, or a text file listing paths)
 * for model `m` (batch 1), at most `max` samples (0: all), images normalised
 * with o->mean/o->std. Errors name the offending file. */
eai_status_t eai__inputset_load(const eai_model_t *m, const char *spec, int max,
                                const eai_build_opts_t *o, eai__inputset_t *out);
/* `n` reproducible samples from a normal distribution (seeded): the fallback
 * when no inputs are given. */
eai_status_t eai__inputset_random(const eai_model_t *m, int n, uint64_t seed, eai__inputset_t *out);
void eai__inputset_free(eai__inputset_t *s);

/* Calibrates `m` on `calib` and rewrites `g` (a copy of m's graph, already
 * through the default passes) into its INT8 form. Counts quantized nodes in
 * rep->quantized_nodes. */
eai_status_t eai__quant_ptq(eai__graph_t *g, const eai_model_t *m, const eai__inputset_t *calib,
                            const eai_build_opts_t *o, eai_build_report_t *rep);

/* ---- internals of src/quant (calibration and the rewrite) ---- */

/* A calibrated real range [lo, hi] (always containing 0 once `valid`). */
typedef struct eai__qrange {
    float lo, hi;
    bool valid;
} eai__qrange_t;

/* Calibration results for a graph g: one range per value of g (float32
 * activations only), and for fused nodes (com.edgeai Fused*, whose
 * activation hides the pre-activation values) the range before the
 * activation. */
typedef struct eai__calib {
    int n_values, n_nodes;
    eai__qrange_t *range;     /* [n_values] */
    eai__qrange_t *pre_range; /* [n_nodes]: valid only for fused nodes */
    int n_samples;
    eai_allocator_t alloc;
} eai__calib_t;

/* Runs g (cloned, fused activations split off, every activation made an
 * output) on each sample of `set` and turns what it saw into ranges with
 * o->calib_method. */
eai_status_t eai__quant_calibrate(const eai__graph_t *g, const eai__inputset_t *set,
                                  const eai_build_opts_t *o, eai__calib_t *out);
void eai__calib_free(eai__calib_t *c);

/* The range-selection methods (calib_range.c). Min-max keeps what was
 * seen (plus 0); the others pick a threshold for each side of zero from a
 * histogram of that side's magnitudes over [0, amax] in n_bins bins. */
eai__qrange_t eai__calib_minmax(float lo, float hi);
/* Smallest T with `pct` percent of the histogram's mass at or below it. */
float eai__calib_percentile(const uint32_t *hist, int n_bins, float amax, double pct);
/* TensorRT's KL-divergence threshold for `levels` quantization levels;
 * exact zeros (bin 0) are left out, as int8 represents them exactly. */
float eai__calib_entropy(const uint32_t *hist, int n_bins, float amax, int levels);

#endif
