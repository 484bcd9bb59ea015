/* Calibration: observe every float activation of a graph on a set of
 * samples, without changing the runtime. The graph is cloned, fused
 * activations (com.edgeai Fused*) are split back into the base op and the
 * activation so the value between them can be seen, every activation is
 * made a graph output, and one ordinary session runs each sample. Pass 1
 * records min/max; the percentile and entropy methods take a second pass
 * that fills a histogram of |x| over [0, max |x|] per value.
 */
#include <math.h>
#include <stdio.h>

#include "edgeai/log.h"
#include "model/graph_edit.h"
#include "quant/quant_impl.h"
#include "runtime/ref/act_impl.h"

#define N_BINS 2048

typedef struct obs {
    float lo, hi;
    uint32_t *hist; /* pass 2 only: |x| of x > 0, then of x < 0, N_BINS each */
    bool seen;
} obs_t;

static eai_status_t add_scalar(eai__graph_t *g, const char *base, float v, int *out)
{
    char name[256];
    eai__graph_fresh_name(g, base, name, sizeof name);
    float *d = eai__alloc_aligned(&g->alloc, sizeof(float));
    if (!d) return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    *d = v;
    eai__shape_t s = {0, {0}};
    return eai__graph_add_const(g, name, EAI_F32, &s, d, out);
}

/* Node `i` of the clone computes act(op(x)) into `out`: it becomes op(x)
 * into a new value *pre, followed by the activation as ONNX nodes. */
static eai_status_t unfuse(eai__graph_t *g, int i, const eai__act_t *act, int *pre)
{
    eai__node_t *n = &g->nodes[i];
    char name[256], nm[300];
    const int out = n->out[0];
    eai__graph_fresh_name(g, g->values[out].name, name, sizeof name);
    snprintf(nm, sizeof nm, "%s_preact", name);
    eai__graph_fresh_name(g, nm, name, sizeof name);
    EAI_TRY(eai__graph_value(g, name, pre));
    n = &g->nodes[i];
    /* "FusedConv" -> "Conv": the base op reads the attributes it knows and
     * ignores `activation` */
    char *base = eai__strdup(&g->alloc, n->op + 5);
    char *dom = eai__strdup(&g->alloc, "");
    if (!base || !dom) {
        eai__free(&g->alloc, base);
        eai__free(&g->alloc, dom);
        return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    }
    eai__free(&g->alloc, n->op);
    eai__free(&g->alloc, n->domain);
    n->op = base;
    n->domain = dom;
    n->out[0] = *pre;
    const char *nn = "calib_act";
    int in2[3] = {*pre, -1, -1};
    switch (act->kind) {
    case EAI__ACT_RELU:
        return eai__graph_add_node(g, nn, "Relu", "", in2, 1, &out, 1, NULL);
    case EAI__ACT_CLIP:
        EAI_TRY(add_scalar(g, "calib_min", act->p0, &in2[1]));
        EAI_TRY(add_scalar(g, "calib_max", act->p1, &in2[2]));
        if (g->opset >= 11) return eai__graph_add_node(g, nn, "Clip", "", in2, 3, &out, 1, NULL);
        EAI_TRY(eai__graph_add_node(g, nn, "Clip", "", in2, 1, &out, 1, NULL));
        EAI_TRY(eai__node_set_float(g, g->n_nodes - 1, "min", act->p0));
        return eai__node_set_float(g, g->n_nodes - 1, "max", act->p1);
    case EAI__ACT_LEAKYRELU:
        EAI_TRY(eai__graph_add_node(g, nn, "LeakyRelu", "", in2, 1, &out, 1, NULL));
        return eai__node_set_float(g, g->n_nodes - 1, "alpha", act->p0);
    case EAI__ACT_HARDSIGMOID:
        EAI_TRY(eai__graph_add_node(g, nn, "HardSigmoid", "", in2, 1, &out, 1, NULL));
        EAI_TRY(eai__node_set_float(g, g->n_nodes - 1, "alpha", act->p0));
        return eai__node_set_float(g, g->n_nodes - 1, "beta", act->p1);
    case EAI__ACT_HARDSWISH:
        return eai__graph_add_node(g, nn, "HardSwish", "", in2, 1, &out, 1, NULL);
    case EAI__ACT_SIGMOID:
        return eai__graph_add_node(g, nn, "Sigmoid", "", in2, 1, &out, 1, NULL);
    case EAI__ACT_TANH:
        return eai__graph_add_node(g, nn, "Tanh", "", in2, 1, &out, 1, NULL);
    case EAI__ACT_SILU: {
        int sig;
        snprintf(nm, sizeof nm, "%s_sigmoid", name);
        eai__graph_fresh_name(g, nm, name, sizeof name);
        EAI_TRY(eai__graph_value(g, name, &sig));
        EAI_TRY(eai__graph_add_node(g, nn, "Sigmoid", "", in2, 1, &sig, 1, NULL));
        const int mul_in[2] = {*pre, sig};
        return eai__graph_add_node(g, nn, "Mul", "", mul_in, 2, &out, 1, NULL);
    }
    default:
        return eai_fail(EAI_E_UNSUPPORTED, "%s: node %d: activation %d cannot be calibrated",
                        g->label, i, (int)act->kind);
    }
}

/* The calibration model: g's clone with fused activations split (pre[i]:
 * the value before node i's activation, -1 if none) and every produced
 * value an output. */
static eai_status_t make_observer(const eai__graph_t *g, int *pre, eai_model_t **out)
{
    eai_model_t *cm = eai__calloc(&g->alloc, 1, sizeof *cm);
    if (!cm) return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    eai_status_t st = eai__graph_clone(&cm->g, g);
    if (st != EAI_OK) {
        eai__free(&g->alloc, cm);
        return st;
    }
    eai__graph_t *cg = &cm->g;
    for (int i = 0; i < g->n_nodes && st == EAI_OK; i++) {
        pre[i] = -1;
        const eai__node_t *n = &g->nodes[i];
        if (strcmp(n->domain, "com.edgeai") != 0 || strncmp(n->op, "Fused", 5) != 0) continue;
        eai__act_t act;
        st = eai__act_from_node(g, n, &act);
        if (st == EAI_OK && act.kind != EAI__ACT_NONE) st = unfuse(cg, i, &act, &pre[i]);
    }
    if (st == EAI_OK) st = eai__graph_finish(cg);
    int *outs = NULL;
    if (st == EAI_OK) {
        outs = eai__calloc(&cg->alloc, (size_t)cg->n_values + 1, sizeof(int));
        if (!outs) st = eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    }
    if (st == EAI_OK) {
        int n = 0;
        for (int v = 0; v < cg->n_values; v++)
            if (cg->values[v].kind == EAI__V_ACT && cg->values[v].producer >= 0) {
                outs[n++] = v;
                cg->values[v].is_output = true;
            }
        eai__free(&cg->alloc, cg->outputs);
        cg->outputs = outs;
        cg->n_outputs = n;
        st = eai__model_finish_load(cm, NULL, false);
    }
    if (st != EAI_OK) {
        eai_model_destroy(cm);
        return st;
    }
    *out = cm;
    return EAI_OK;
}

static void observe(obs_t *ob, const float *x, int64_t n, bool hist_pass)
{
    if (!hist_pass) {
        float lo = ob->seen ? ob->lo : INFINITY, hi = ob->seen ? ob->hi : -INFINITY;
        for (int64_t i = 0; i < n; i++) {
            /* NaN and inf would poison the range; they are left out */
            if (!isfinite(x[i])) continue;
            lo = x[i] < lo ? x[i] : lo;
            hi = x[i] > hi ? x[i] : hi;
        }
        if (lo <= hi) {
            ob->lo = lo, ob->hi = hi;
            ob->seen = true;
        }
        return;
    }
    if (!ob->hist) return;
    const float fp = ob->hi > 0 ? (float)N_BINS / ob->hi : 0;
    const float fn = ob->lo < 0 ? (float)N_BINS / -ob->lo : 0;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) continue;
        const bool neg = x[i] < 0;
        int b = (int)(neg ? -x[i] * fn : x[i] * fp);
        ob->hist[(neg ? N_BINS : 0) + (b < N_BINS ? b : N_BINS - 1)]++;
    }
}

/* One pass over the set: inputs straight from the samples, activations
 * from the session's outputs. */
static eai_status_t run_pass(eai_session_t *s, const eai_model_t *cm, const eai__inputset_t *set,
                             obs_t *ob, bool hist_pass, const eai_build_opts_t *o, int done0,
                             int total)
{
    const eai__graph_t *cg = &cm->g;
    for (int k = 0; k < set->n; k++) {
        for (int i = 0; i < set->n_inputs; i++) {
            const void *d = set->data[k * set->n_inputs + i];
            EAI_TRY(eai_session_set_input(s, i, d, set->bytes[i]));
            const eai__value_t *v = &cg->values[cg->inputs[i]];
            if (v->dtype == EAI_F32)
                observe(&ob[cg->inputs[i]], d, (int64_t)(set->bytes[i] / sizeof(float)), hist_pass);
        }
        eai_status_t st = eai_session_invoke(s);
        if (st != EAI_OK) {
            char why[512];
            snprintf(why, sizeof why, "%s", eai_last_error());
            return eai_fail(st, "calibration sample %s: %s", set->source[k], why);
        }
        for (int j = 0; j < cg->n_outputs; j++) {
            const void *d;
            eai_tensor_info_t info;
            EAI_TRY(eai_session_get_output(s, j, &d, &info));
            if (info.dtype == EAI_F32)
                observe(&ob[cg->outputs[j]], d, eai_tensor_info_numel(&info), hist_pass);
        }
        if (o && o->progress) o->progress("calibration", done0 + k + 1, total, o->user);
    }
    return EAI_OK;
}

static eai__qrange_t pick_range(const obs_t *ob, const eai_build_opts_t *o)
{
    if (!ob->seen) return (eai__qrange_t){0};
    if (!ob->hist || !o || o->calib_method == EAI_CALIB_MINMAX)
        return eai__calib_minmax(ob->lo, ob->hi);
    /* each side gets the levels its extent earns of the 256 */
    const float hi = fmaxf(ob->hi, 0), nlo = fmaxf(-ob->lo, 0);
    const int lv_hi = hi + nlo > 0 ? (int)(255.0f * hi / (hi + nlo)) : 0;
    const int lv_lo = 255 - lv_hi;
    float t_hi = hi, t_lo = nlo;
    if (o->calib_method == EAI_CALIB_PERCENTILE) {
        const double pct = o->percentile > 0 ? o->percentile : 99.99;
        if (hi > 0) t_hi = eai__calib_percentile(ob->hist, N_BINS, hi, pct);
        if (nlo > 0) t_lo = eai__calib_percentile(ob->hist + N_BINS, N_BINS, nlo, pct);
    } else {
        if (hi > 0 && lv_hi >= 16) t_hi = eai__calib_entropy(ob->hist, N_BINS, hi, lv_hi);
        if (nlo > 0 && lv_lo >= 16)
            t_lo = eai__calib_entropy(ob->hist + N_BINS, N_BINS, nlo, lv_lo);
    }
    return eai__calib_minmax(-fminf(t_lo, nlo), fminf(t_hi, hi));
}

void eai__calib_free(eai__calib_t *c)
{
    if (!c) return;
    eai__free(&c->alloc, c->range);
    eai__free(&c->alloc, c->pre_range);
    memset(c, 0, sizeof *c);
}

eai_status_t eai__quant_calibrate(const eai__graph_t *g, const eai__inputset_t *set,
                                  const eai_build_opts_t *o, eai__calib_t *out)
{
    if (!set || set->n < 1)
        return eai_fail(EAI_E_INVALID, "%s: calibration needs at least one sample", g->label);
    if (set->n_inputs != g->n_inputs)
        return eai_fail(EAI_E_INVALID,
                        "%s: the calibration set has %d inputs per sample, the "
                        "graph %d",
                        g->label, set->n_inputs, g->n_inputs);
    const eai_allocator_t *a = &g->alloc;
    int *pre = eai__calloc(a, (size_t)g->n_nodes + 1, sizeof(int));
    if (!pre) return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    eai_model_t *cm = NULL;
    eai_session_t *s = NULL;
    obs_t *ob = NULL;
    eai__calib_t c = {.n_values = g->n_values, .n_nodes = g->n_nodes, .n_samples = set->n};
    c.alloc = g->alloc;
    eai_status_t st = make_observer(g, pre, &cm);
    /* the ref backend: the values it computes are the ONNX graph's, in
     * NCHW, with no layout pass between the observer and them */
    const eai_session_opts_t so = {.backend = "ref"};
    if (st == EAI_OK) st = eai_session_create(cm, &so, &s);
    if (st == EAI_OK) {
        ob = eai__calloc(a, (size_t)cm->g.n_values + 1, sizeof *ob);
        c.range = eai__calloc(a, (size_t)g->n_values + 1, sizeof *c.range);
        c.pre_range = eai__calloc(a, (size_t)g->n_nodes + 1, sizeof *c.pre_range);
        if (!ob || !c.range || !c.pre_range)
            st = eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    }
    const bool hist = o && o->calib_method != EAI_CALIB_MINMAX;
    const int total = set->n * (hist ? 2 : 1);
    if (st == EAI_OK) st = run_pass(s, cm, set, ob, false, o, 0, total);
    if (st == EAI_OK && hist) {
        for (int v = 0; v < cm->g.n_values && st == EAI_OK; v++)
            if (ob[v].seen && fmaxf(fabsf(ob[v].lo), fabsf(ob[v].hi)) > 0) {
                ob[v].hist = eai__calloc(a, 2 * N_BINS, sizeof(uint32_t));
                if (!ob[v].hist) st = eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
            }
        if (st == EAI_OK) st = run_pass(s, cm, set, ob, true, o, set->n, total);
    }
    if (st == EAI_OK) {
        for (int v = 0; v < g->n_values; v++) {
            c.range[v] = pick_range(&ob[v], o);
            if (ob[v].seen)
                eai__log(EAI_LOG_DEBUG, "calibration: %s: seen [%g, %g], range [%g, %g]",
                         g->values[v].name, ob[v].lo, ob[v].hi, c.range[v].lo, c.range[v].hi);
        }
        for (int i = 0; i < g->n_nodes; i++)
            if (pre[i] >= 0) c.pre_range[i] = pick_range(&ob[pre[i]], o);
    }
    if (ob)
        for (int v = 0; v < cm->g.n_values; v++)
            eai__free(a, ob[v].hist);
    eai__free(a, ob);
    eai__free(a, pre);
    eai_session_destroy(s);
    eai_model_destroy(cm);
    if (st != EAI_OK) {
        eai__calib_free(&c);
        return st;
    }
    *out = c;
    return EAI_OK;
}
