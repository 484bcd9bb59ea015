/* The build report's accuracy numbers: the original and the built model run
 * side by side on the same inputs, one session each, created once. */
#include <math.h>

#include "build/build_impl.h"

typedef struct acc {
    double max_err, sum_err;
    int64_t n_elems;
    int64_t rows, agree;
    bool top1; /* output 0 qualifies for top-1 */
} acc_t;

static int64_t argmax(const float *x, int64_t n)
{
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

static eai_status_t compare_output(const eai_session_t *sa, const eai_session_t *sb, int o,
                                   const char *label, acc_t *acc)
{
    const void *pa, *pb;
    eai_tensor_info_t ia, ib;
    EAI_TRY(eai_session_get_output(sa, o, &pa, &ia));
    EAI_TRY(eai_session_get_output(sb, o, &pb, &ib));
    int64_t n = eai_tensor_info_numel(&ia);
    if (ia.dtype != ib.dtype || n != eai_tensor_info_numel(&ib))
        return eai_fail(EAI_E_FORMAT,
                        "%s: output %d '%s' is %s x %lld in the original but %s x %lld after "
                        "the build",
                        label, o, ia.name, eai_dtype_name(ia.dtype), (long long)n,
                        eai_dtype_name(ib.dtype), (long long)eai_tensor_info_numel(&ib));
    if (ia.dtype != EAI_F32) return EAI_OK;
    const float *a = pa, *b = pb;
    for (int64_t i = 0; i < n; i++) {
        double e;
        if (isnan(a[i]) || isnan(b[i]))
            e = isnan(a[i]) && isnan(b[i]) ? 0 : INFINITY;
        else
            e = fabs((double)a[i] - (double)b[i]);
        if (e > acc->max_err) acc->max_err = e;
        acc->sum_err += e;
    }
    acc->n_elems += n;
    if (o == 0 && acc->top1) {
        int64_t last = ia.rank ? ia.dims[ia.rank - 1] : 1;
        for (int64_t r = 0; r + last <= n; r += last) {
            acc->agree += argmax(a + r, last) == argmax(b + r, last);
            acc->rows++;
        }
    }
    return EAI_OK;
}

eai_status_t eai__build_compare(const eai_model_t *ref, const eai_model_t *built,
                                const char *backend, const eai__inputset_t *set,
                                const eai_build_opts_t *o, eai_build_report_t *rep)
{
    const char *label = ref->g.label;
    if (set->n_inputs != eai_model_n_inputs(ref))
        return eai_fail(EAI_E_INVALID, "%s: %d inputs per sample, the model has %d", label,
                        set->n_inputs, eai_model_n_inputs(ref));
    eai_session_t *sa = NULL, *sb = NULL;
    eai_session_opts_t ob = {.backend = backend};
    eai_status_t st = eai_session_create(ref, NULL, &sa);
    if (st == EAI_OK) st = eai_session_create(built, &ob, &sb);
    acc_t acc = {0};
    if (st == EAI_OK && eai_session_n_outputs(sa) != eai_session_n_outputs(sb))
        st = eai_fail(EAI_E_FORMAT, "%s: %d outputs in the original, %d after the build", label,
                      eai_session_n_outputs(sa), eai_session_n_outputs(sb));
    if (st == EAI_OK) {
        eai_tensor_info_t i0;
        st = eai_session_output_info(sa, 0, &i0);
        acc.top1 = st == EAI_OK && i0.dtype == EAI_F32 && i0.rank > 0 && i0.dims[i0.rank - 1] >= 2;
    }
    for (int s = 0; s < set->n && st == EAI_OK; s++) {
        for (int i = 0; i < set->n_inputs && st == EAI_OK; i++) {
            const void *x = set->data[(size_t)s * (size_t)set->n_inputs + (size_t)i];
            st = eai_session_set_input(sa, i, x, set->bytes[i]);
            if (st == EAI_OK) st = eai_session_set_input(sb, i, x, set->bytes[i]);
        }
        if (st == EAI_OK) st = eai_session_invoke(sa);
        if (st == EAI_OK) st = eai_session_invoke(sb);
        for (int k = 0; k < eai_session_n_outputs(sa) && st == EAI_OK; k++)
            st = compare_output(sa, sb, k, label, &acc);
        if (st == EAI_OK && o && o->progress) o->progress("evaluate", s + 1, set->n, o->user);
    }
    eai_session_destroy(sa);
    eai_session_destroy(sb);
    if (st != EAI_OK) return st;
    rep->n_eval = set->n;
    rep->max_abs_err = acc.max_err;
    rep->mean_abs_err = acc.n_elems ? acc.sum_err / (double)acc.n_elems : 0;
    rep->top1_agree = acc.top1 && acc.rows ? (double)acc.agree / (double)acc.rows : -1;
    return EAI_OK;
}
