/* Internals of the build step (src/build): the accuracy comparison is its own
 * function so tests can drive it with hand-made input sets. */
#ifndef EAI_BUILD_IMPL_H
#define EAI_BUILD_IMPL_H

#include "quant/quant_impl.h"

/* Runs `ref` (on the default backend) and `built` (on `backend`, NULL:
 * default) on every sample of `set` and fills rep->n_eval, max_abs_err,
 * mean_abs_err (over the elements of every float32 output) and top1_agree
 * (fraction of rows of output 0's last axis whose argmax agree; -1 when
 * output 0 is not float32 or its last axis is shorter than 2). Outputs whose
 * dtype or size differ between the two models are an error (EAI_E_FORMAT).
 * `o` may be NULL (no progress). */
eai_status_t eai__build_compare(const eai_model_t *ref, const eai_model_t *built,
                                const char *backend, const eai__inputset_t *set,
                                const eai_build_opts_t *o, eai_build_report_t *rep);

/* Random samples for the report when no eval/calibration set is given. */
#define EAI__BUILD_EVAL_RANDOM 4

#endif
