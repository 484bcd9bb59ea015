/* eai_build: a deep copy of the model's graph goes through the graph passes,
 * the layout for the target backend, INT8 quantization and FP16 rounding,
 * then the copy and the original run side by side for the accuracy report.
 * FP16 weights are rounded to half and back here, exactly as the saved plan
 * will store them, so the built model in memory computes what its .eai file
 * computes. (eai_model_save lives in src/plan/eai_write.c.) */
#include <stdio.h>

#include "build/build_impl.h"
#include "edgeai/log.h"
#include "opt/opt_impl.h"
#include "plan/plan_impl.h"

/* CONST data the clone borrowed becomes the copy's own: the caller may
 * destroy the source model (and unmap its plan) right after eai_build. */
static eai_status_t own_consts(eai__graph_t *g)
{
    for (int i = 0; i < g->n_values; i++) {
        eai__value_t *v = &g->values[i];
        if (v->kind != EAI__V_CONST || v->owns_data || !v->data) continue;
        int64_t bytes;
        if (!eai__tensor_bytes_ok(v->shape.d, v->shape.rank, eai_dtype_size(v->dtype), &bytes))
            return eai_fail(EAI_E_FORMAT, "%s: constant '%s' has an impossible size", g->label,
                            v->name);
        void *p = eai__alloc_aligned(&g->alloc, (size_t)bytes + 1);
        if (!p)
            return eai_fail(EAI_E_NOMEM, "%s: out of memory copying '%s' (%lld bytes)", g->label,
                            v->name, (long long)bytes);
        memcpy(p, v->data, (size_t)bytes);
        v->data = p;
        v->owns_data = true;
    }
    return EAI_OK;
}

static void round_fp16(eai__graph_t *g)
{
    for (int i = 0; i < g->n_values; i++) {
        eai__value_t *v = &g->values[i];
        if (!v->owns_data || !eai__plan_f16_eligible(v)) continue;
        float *x = v->data;
        for (int64_t k = 0, n = eai__shape_numel(&v->shape); k < n; k++)
            x[k] = eai_f16_to_f32(eai_f32_to_f16(x[k]));
    }
}

static eai_status_t check_opts(const eai_model_t *m, const eai_build_opts_t *o)
{
    if (o->backend && o->backend[0] && !eai__backend_find(o->backend)) {
        char names[128] = "";
        size_t at = 0;
        for (const char *const *n = eai_backend_names(); *n && at < sizeof names; n++)
            at += (size_t)snprintf(names + at, sizeof names - at, "%s%s", at ? ", " : "", *n);
        return eai_fail(EAI_E_INVALID, "unknown backend '%s' (compiled in: %s)", o->backend, names);
    }
    if (o->backend && strlen(o->backend) >= sizeof m->backend)
        return eai_fail(EAI_E_INVALID, "backend name '%s' is too long", o->backend);
    if (o->int8 && (!o->calib || !o->calib[0]))
        return eai_fail(EAI_E_INVALID,
                        "%s: INT8 quantization needs calibration inputs (opts.calib: a folder or "
                        "a list of .npy/.png/.jpg files)",
                        m->g.label);
    if (o->calib_max < 0 || o->percentile < 0 || o->percentile > 100)
        return eai_fail(EAI_E_INVALID, "calib_max must be >= 0 and percentile in [0, 100]");
    return EAI_OK;
}

/* The passes, layout, INT8 and FP16 on `b` (a fresh copy of m's graph). */
static eai_status_t transform(const eai_model_t *m, eai_model_t *b, const eai_build_opts_t *o,
                              eai_build_report_t *rep, eai__inputset_t *calib, bool *have_calib)
{
    EAI_TRY(own_consts(&b->g));
    EAI_TRY(eai__graph_finish(&b->g));
    EAI_TRY(eai__opt_default(&b->g, rep));
    /* INT8 first: the quantizer matches NCHW patterns; layout then moves
     * the int8 ops to NHWC with the rest */
    if (o->int8) {
        EAI_TRY(eai__inputset_load(m, o->calib, o->calib_max, o, calib));
        *have_calib = true;
        EAI_TRY(eai__quant_ptq(&b->g, m, calib, o, rep));
    }
    if (o->backend && o->backend[0]) {
        int n = 0;
        EAI_TRY(eai__opt_layout(&b->g, eai__backend_find(o->backend), &n));
        rep->layout_transposes = n;
        snprintf(b->backend, sizeof b->backend, "%s", o->backend);
    }
    if (o->fp16) {
        round_fp16(&b->g);
        b->fp16_weights = true;
    }
    /* ownership again: a pass may have added constants that borrow */
    EAI_TRY(own_consts(&b->g));
    return eai__model_finish_load(b, NULL, false);
}

/* The accuracy report on the eval set, else the calibration set, else random
 * inputs. Only an eval set the caller named is an error when it cannot be
 * loaded; without one the report is skipped (n_eval 0) with a warning. */
static eai_status_t report(const eai_model_t *m, const eai_model_t *b, const eai_build_opts_t *o,
                           eai_build_report_t *rep, const eai__inputset_t *calib, bool have_calib)
{
    eai__inputset_t own;
    memset(&own, 0, sizeof own);
    const eai__inputset_t *set = NULL;
    if (o->eval && o->eval[0]) {
        EAI_TRY(eai__inputset_load(m, o->eval, 0, o, &own));
        set = &own;
    } else if (have_calib) {
        set = calib;
    } else if (eai__inputset_random(m, EAI__BUILD_EVAL_RANDOM, 1234, &own) == EAI_OK) {
        set = &own;
    } else {
        eai__log(EAI_LOG_WARN, "build: %s: no accuracy report: %s", m->g.label, eai_last_error());
        eai_clear_error();
        return EAI_OK;
    }
    eai_status_t st = eai__build_compare(m, b, o->backend, set, o, rep);
    if (set == &own) eai__inputset_free(&own);
    return st;
}

eai_status_t eai_build(const eai_model_t *m, const eai_build_opts_t *opts, eai_model_t **out,
                       eai_build_report_t *report_out)
{
    if (!m || !out) return eai_fail(EAI_E_INVALID, "eai_build: model and out must not be NULL");
    eai_build_opts_t o;
    if (opts)
        o = *opts;
    else
        memset(&o, 0, sizeof o);
    EAI_TRY(check_opts(m, &o));
    eai_build_report_t rep;
    memset(&rep, 0, sizeof rep);
    rep.nodes_before = m->g.n_nodes;
    rep.top1_agree = -1;

    eai_model_t *b = eai__calloc(&m->g.alloc, 1, sizeof *b);
    if (!b) return eai_fail(EAI_E_NOMEM, "%s: out of memory", m->g.label);
    eai_status_t st = eai__graph_clone(&b->g, &m->g);
    if (st != EAI_OK) {
        eai__free(&m->g.alloc, b);
        return st;
    }
    eai__inputset_t calib;
    memset(&calib, 0, sizeof calib);
    bool have_calib = false;
    st = transform(m, b, &o, &rep, &calib, &have_calib);
    rep.nodes_after = b->g.n_nodes;
    if (st == EAI_OK) st = report(m, b, &o, &rep, &calib, have_calib);
    if (have_calib) eai__inputset_free(&calib);
    if (st != EAI_OK) {
        eai_model_destroy(b);
        return st;
    }
    if (report_out) *report_out = rep;
    *out = b;
    return EAI_OK;
}
