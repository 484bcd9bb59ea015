/* INT8 post-training quantization and the input sets it calibrates on.
 * Used by eai_build (src/build). */
#ifndef EAI_QUANT_IMPL_H
#define EAI_QUANT_IMPL_H

#include "edgeai/build.h"
#include "runtime/runtime_impl.h"

/* Samples for calibration or evaluation, already shaped and typed for the
 * model's inputs (images resized and normalised). */
typedef struct eai__inputset {
    int n;          /* samples */
    int n_inputs;   /* model inputs per sample */
    void **data;    /* data[s * n_inputs + i]: input i of sample s (aligned) */
    size_t *bytes;  /* bytes[i]: size of input i */
    char **source;  /* source[s]: file the sample came from (messages) */
    eai_allocator_t alloc;
} eai__inputset_t;

/* Loads `spec` (a folder of .npy/.png/.jpg, or a text file listing paths)
 * for model `m` (batch 1), at most `max` samples (0: all), images normalised
 * with o->mean/o->std. Errors name the offending file. */
eai_status_t eai__inputset_load(const eai_model_t *m, const char *spec, int max,
                                const eai_build_opts_t *o, eai__inputset_t *out);
/* `n` reproducible samples from a normal distribution (seeded): the fallback
 * when no inputs are given. */
eai_status_t eai__inputset_random(const eai_model_t *m, int n, uint64_t seed,
                                  eai__inputset_t *out);
void eai__inputset_free(eai__inputset_t *s);

/* Calibrates `m` on `calib` and rewrites `g` (a copy of m's graph, already
 * through the default passes) into its INT8 form. Counts quantized nodes in
 * rep->quantized_nodes. */
eai_status_t eai__quant_ptq(eai__graph_t *g, const eai_model_t *m, const eai__inputset_t *calib,
                            const eai_build_opts_t *o, eai_build_report_t *rep);

#endif
