/* INT8 post-training static quantization: rewrites a float graph into the
 * INT8 form of docs/quantization.md from calibrated activation ranges.
 *
 * One walk in topological order decides each node: compute ops (Conv,
 * Gemm, Add, Mul, GlobalAveragePool, activations) become their QLinear form
 * with int8 activations (per tensor, asymmetric) and int8 weights (per
 * output channel, symmetric); ops that only move or select bytes (MaxPool,
 * Reshape, Flatten, Transpose, ...) keep their op and run on the int8 tensor
 * with its parameters unchanged. A value keeps its float version for float
 * consumers: QuantizeLinear is inserted where an int8 op reads a float value
 * and DequantizeLinear where a float op (or a graph output) reads an int8
 * one, so chains of int8 ops have no conversions between them. Relu and
 * Clip(min <= 0) after an int8 op are absorbed: the producer's output range
 * is the activation's, and int8 saturation is the activation.
 */
#include <math.h>
#include <stdio.h>

#include "model/graph_edit.h"
#include "quant/quant_impl.h"
#include "runtime/ref/act_impl.h"

typedef struct ptq {
    eai__graph_t *g;
    const eai__calib_t *cal;
    struct {
        eai_dtype_t dtype;
        eai__shape_t shape;
    } * vals; /* dtypes and shapes of g's original values (shape pass, batch 1) */
    int n_values0, n_nodes0;
    int *uses, *consumer; /* per value: use count, one consuming node */
    int *q;               /* per original value: its int8 version or -1 */
    float *qs;
    int32_t *qz;
    bool *replaced; /* the float producer is gone: float readers need a DQ */
    bool *need_float;
    bool *dead; /* per original node */
    int n_quantized;
} ptq_t;

/* ---- small graph builders ---- */

static eai_status_t add_const(ptq_t *p, const char *base, eai_dtype_t dt, int rank,
                              const int64_t *dims, void *data, int *out)
{
    char name[256];
    eai__graph_fresh_name(p->g, base, name, sizeof name);
    eai__shape_t s = {rank, {0}};
    for (int i = 0; i < rank; i++)
        s.d[i] = dims[i];
    return eai__graph_add_const(p->g, name, dt, &s, data, out);
}

static void *alloc_data(ptq_t *p, size_t n)
{
    void *d = eai__alloc_aligned(&p->g->alloc, n ? n : 1);
    if (!d) eai_fail(EAI_E_NOMEM, "%s: out of memory", p->g->label);
    return d;
}

/* Scalar scale (float32) and zero point (int8) constants. */
static eai_status_t add_qparams(ptq_t *p, const char *base, float s, int32_t z, int *is, int *iz)
{
    char nm[300];
    float *sd = alloc_data(p, sizeof(float));
    if (!sd) return EAI_E_NOMEM;
    *sd = s;
    snprintf(nm, sizeof nm, "%s_scale", base);
    EAI_TRY(add_const(p, nm, EAI_F32, 0, NULL, sd, is));
    int8_t *zd = alloc_data(p, 1);
    if (!zd) return EAI_E_NOMEM;
    *zd = (int8_t)z;
    snprintf(nm, sizeof nm, "%s_zero_point", base);
    return add_const(p, nm, EAI_I8, 0, NULL, zd, iz);
}

static eai_status_t new_value(ptq_t *p, const char *base, const char *suffix, int *out)
{
    char nm[300], name[256];
    snprintf(nm, sizeof nm, "%s%s", base, suffix);
    eai__graph_fresh_name(p->g, nm, name, sizeof name);
    EAI_TRY(eai__graph_value(p->g, name, out));
    p->g->values[*out].dtype = EAI_I8;
    return EAI_OK;
}

static eai_status_t add_node(ptq_t *p, const char *name, const char *op, const char *domain,
                             const int *in, int n_in, int out)
{
    return eai__graph_add_node(p->g, name, op, domain, in, n_in, &out, 1, NULL);
}

/* Copies node `from`'s attributes onto the last node, except `skip`. */
static eai_status_t copy_attrs(ptq_t *p, int from, const char *const *skip)
{
    const int to = p->g->n_nodes - 1;
    for (int a = 0; a < p->g->nodes[from].n_attr; a++) {
        const eai__attr_t *at = &p->g->nodes[from].attr[a];
        bool drop = false;
        for (const char *const *s = skip; *s; s++)
            drop |= strcmp(at->name, *s) == 0;
        if (!drop) EAI_TRY(eai__node_add_attr(p->g, to, at));
    }
    return EAI_OK;
}

/* ---- quantization parameters ---- */

/* Asymmetric int8 for a range containing 0: lo lands on -128, hi on 127. */
static void qparams(eai__qrange_t r, float *s, int32_t *z)
{
    *s = (r.hi - r.lo) / 255.0f;
    if (!(*s > 0.0f) || !isfinite(*s)) {
        *s = 1.0f;
        *z = 0;
        return;
    }
    *z = (int32_t)lrintf(-128.0f - r.lo / *s);
    *z = *z < -128 ? -128 : *z > 127 ? 127 : *z;
}

static bool is_f32_act(const ptq_t *p, int v)
{
    return v >= 0 && v < p->n_values0 && p->g->values[v].kind != EAI__V_CONST &&
           p->vals[v].dtype == EAI_F32 && p->cal->range[v].valid;
}

static bool is_const(const ptq_t *p, int v, eai_dtype_t dt)
{
    return v >= 0 && p->g->values[v].kind == EAI__V_CONST && p->g->values[v].dtype == dt &&
           p->g->values[v].data;
}

/* The int8 version of value v, inserting a QuantizeLinear if v only exists
 * in float so far. */
static eai_status_t get_q(ptq_t *p, int v, int *out)
{
    if (p->q[v] < 0) {
        float s;
        int32_t z;
        qparams(p->cal->range[v], &s, &z);
        int qv, is, iz;
        const char *nm = p->g->values[v].name;
        EAI_TRY(new_value(p, nm, "_q", &qv));
        EAI_TRY(add_qparams(p, nm, s, z, &is, &iz));
        char node[300];
        snprintf(node, sizeof node, "%s_quantize", nm);
        EAI_TRY(add_node(p, node, "QuantizeLinear", "", (const int[]){v, is, iz}, 3, qv));
        p->q[v] = qv, p->qs[v] = s, p->qz[v] = z;
    }
    *out = p->q[v];
    return EAI_OK;
}

/* A fresh int8 value that will hold v (the node producing v is replaced). */
static eai_status_t set_q(ptq_t *p, int v, float s, int32_t z, int *out)
{
    EAI_TRY(new_value(p, p->g->values[v].name, "_q", out));
    p->q[v] = *out, p->qs[v] = s, p->qz[v] = z;
    p->replaced[v] = true;
    return EAI_OK;
}

/* ---- activations ---- */

/* Standalone activation nodes as the fused-activation contract. */
static bool node_act(const ptq_t *p, const eai__node_t *n, eai__act_t *a)
{
    memset(a, 0, sizeof *a);
    if (n->domain[0]) return false;
    const eai__graph_t *g = p->g;
    float f;
    if (strcmp(n->op, "Relu") == 0) {
        a->kind = EAI__ACT_RELU;
    } else if (strcmp(n->op, "Clip") == 0) {
        a->kind = EAI__ACT_CLIP;
        a->p0 = -INFINITY, a->p1 = INFINITY;
        if (g->opset < 11) {
            if (eai__attr_float(g, n, "min", -INFINITY, &a->p0) != EAI_OK ||
                eai__attr_float(g, n, "max", INFINITY, &a->p1) != EAI_OK)
                return false;
        }
        for (int k = 1; k < 3 && k < n->n_in; k++) {
            if (n->in[k] < 0) continue;
            if (!is_const(p, n->in[k], EAI_F32)) return false;
            f = *(const float *)g->values[n->in[k]].data;
            if (k == 1)
                a->p0 = f;
            else
                a->p1 = f;
        }
    } else if (strcmp(n->op, "LeakyRelu") == 0) {
        a->kind = EAI__ACT_LEAKYRELU;
        if (eai__attr_float(g, n, "alpha", 0.01f, &a->p0) != EAI_OK) return false;
    } else if (strcmp(n->op, "HardSigmoid") == 0) {
        a->kind = EAI__ACT_HARDSIGMOID;
        if (eai__attr_float(g, n, "alpha", 0.2f, &a->p0) != EAI_OK ||
            eai__attr_float(g, n, "beta", 0.5f, &a->p1) != EAI_OK)
            return false;
    } else if (strcmp(n->op, "HardSwish") == 0) {
        a->kind = EAI__ACT_HARDSWISH;
    } else if (strcmp(n->op, "Sigmoid") == 0) {
        a->kind = EAI__ACT_SIGMOID;
    } else if (strcmp(n->op, "Tanh") == 0) {
        a->kind = EAI__ACT_TANH;
    } else {
        return false;
    }
    return true;
}

/* Relu and Clip with min <= 0 are what int8 saturation does to a range
 * calibrated after them. */
static bool absorbable(const eai__act_t *a)
{
    return a->kind == EAI__ACT_NONE || a->kind == EAI__ACT_RELU ||
           (a->kind == EAI__ACT_CLIP && a->p0 <= 0.0f);
}

/* QLinearLut from int8 value `in` (s_in, z_in) into `out` (s_out, z_out). */
static eai_status_t emit_lut(ptq_t *p, const char *name, const eai__act_t *act, int in, float s_in,
                             int32_t z_in, int out, float s_out, int32_t z_out)
{
    float x[256];
    for (int k = 0; k < 256; k++)
        x[k] = (float)(k - 128 - z_in) * s_in;
    eai__act_apply(act, x, 256);
    int8_t *t = alloc_data(p, 256);
    if (!t) return EAI_E_NOMEM;
    for (int k = 0; k < 256; k++) {
        long v = lrintf(x[k] / s_out) + z_out;
        t[k] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
    }
    char nm[300];
    snprintf(nm, sizeof nm, "%s_table", name);
    int it;
    EAI_TRY(add_const(p, nm, EAI_I8, 1, (const int64_t[]){256}, t, &it));
    return add_node(p, name, "QLinearLut", "com.edgeai", (const int[]){in, it}, 2, out);
}

/* If v's only reader is an absorbable Relu/Clip, that node (returned) is
 * folded into v's producer, which then writes the activation's output. */
static int absorb_next(ptq_t *p, int v)
{
    if (p->uses[v] != 1 || p->g->values[v].is_output) return -1;
    const int c = p->consumer[v];
    if (c < 0 || p->dead[c]) return -1;
    const eai__node_t *n = &p->g->nodes[c];
    eai__act_t a;
    if (!node_act(p, n, &a) || a.kind == EAI__ACT_NONE || !absorbable(&a) || n->in[0] != v)
        return -1;
    return is_f32_act(p, n->out[0]) ? c : -1;
}

/* Output of a quantized compute node `i` whose float result is v: the int8
 * value it writes, absorbing a following Relu/Clip. */
static eai_status_t compute_out(ptq_t *p, int i, int v, int *out, float *s, int32_t *z)
{
    const int c = absorb_next(p, v);
    if (c >= 0) {
        p->dead[c] = true;
        p->n_quantized++;
        v = p->g->nodes[c].out[0];
    }
    qparams(p->cal->range[v], s, z);
    (void)i;
    return set_q(p, v, *s, *z, out);
}

/* ---- weights ---- */

/* rows x cols float weights -> int8 per row, symmetric (zero point 0). */
static eai_status_t quant_rows(ptq_t *p, const float *w, int64_t rows, int64_t cols, bool transpose,
                               float mult, int8_t **q, float **scale)
{
    *q = alloc_data(p, (size_t)(rows * cols));
    *scale = alloc_data(p, (size_t)rows * sizeof(float));
    if (!*q || !*scale) return EAI_E_NOMEM;
    for (int64_t r = 0; r < rows; r++) {
        float amax = 0;
        for (int64_t k = 0; k < cols; k++) {
            const float x = mult * (transpose ? w[k * rows + r] : w[r * cols + k]);
            amax = fmaxf(amax, fabsf(x));
        }
        const float s = amax > 0 ? amax / 127.0f : 1.0f;
        (*scale)[r] = s;
        for (int64_t k = 0; k < cols; k++) {
            const float x = mult * (transpose ? w[k * rows + r] : w[r * cols + k]);
            long v = lrintf(x / s);
            (*q)[r * cols + k] = (int8_t)(v < -127 ? -127 : v > 127 ? 127 : v);
        }
    }
    return EAI_OK;
}

/* int32 bias in the accumulator's scale sx * sw[r]. */
static eai_status_t quant_bias(ptq_t *p, const float *b, int64_t n, float mult, float sx,
                               const float *sw, int32_t **out)
{
    *out = alloc_data(p, (size_t)n * sizeof(int32_t));
    if (!*out) return EAI_E_NOMEM;
    for (int64_t r = 0; r < n; r++) {
        const double v = b ? rint((double)mult * b[r] / ((double)sx * sw[r])) : 0;
        (*out)[r] = (int32_t)(v < -2147483647.0  ? -2147483647.0
                              : v > 2147483647.0 ? 2147483647.0
                                                 : v);
    }
    return EAI_OK;
}

/* ---- per-op rewrites ---- */

static const char *const conv_skip[] = {"activation", "activation_params", NULL};

static eai_status_t do_conv(ptq_t *p, int i, const eai__act_t *act)
{
    eai__node_t *n = &p->g->nodes[i];
    const int x = n->in[0], wv = n->in[1], bv = n->n_in > 2 ? n->in[2] : -1, y = n->out[0];
    const char *name = n->name;
    char nm[300];
    /* copies: adding values below may move g->values */
    const eai__shape_t wshape = p->g->values[wv].shape;
    const float *wdata = p->g->values[wv].data;
    const char *wname = p->g->values[wv].name;
    const int64_t M = wshape.d[0], K = eai__shape_numel(&wshape) / (M ? M : 1);
    int xq;
    EAI_TRY(get_q(p, x, &xq));
    int8_t *wq;
    float *ws;
    int32_t *bq;
    EAI_TRY(quant_rows(p, wdata, M, K, false, 1.0f, &wq, &ws));
    EAI_TRY(quant_bias(p, bv >= 0 ? p->g->values[bv].data : NULL, M, 1.0f, p->qs[x], ws, &bq));
    int iw, iws, iwz, ib, ixs, ixz, iys, iyz, yq;
    snprintf(nm, sizeof nm, "%s_w", wname);
    EAI_TRY(add_const(p, nm, EAI_I8, wshape.rank, wshape.d, wq, &iw));
    snprintf(nm, sizeof nm, "%s_w_scale", name);
    EAI_TRY(add_const(p, nm, EAI_F32, 1, &M, ws, &iws));
    int8_t *wz = alloc_data(p, (size_t)M);
    if (!wz) return EAI_E_NOMEM;
    memset(wz, 0, (size_t)M);
    snprintf(nm, sizeof nm, "%s_w_zero_point", name);
    EAI_TRY(add_const(p, nm, EAI_I8, 1, &M, wz, &iwz));
    snprintf(nm, sizeof nm, "%s_bias", name);
    EAI_TRY(add_const(p, nm, EAI_I32, 1, &M, bq, &ib));
    EAI_TRY(add_qparams(p, p->g->values[x].name, p->qs[x], p->qz[x], &ixs, &ixz));
    float sy;
    int32_t zy;
    int conv_out;
    if (absorbable(act)) {
        EAI_TRY(compute_out(p, i, y, &yq, &sy, &zy));
        conv_out = yq;
    } else {
        /* the activation runs as a table from the pre-activation range */
        qparams(p->cal->pre_range[i], &sy, &zy);
        EAI_TRY(new_value(p, p->g->values[y].name, "_preact_q", &conv_out));
    }
    EAI_TRY(add_qparams(p, name, sy, zy, &iys, &iyz));
    const int in[9] = {xq, ixs, ixz, iw, iws, iwz, iys, iyz, ib};
    EAI_TRY(add_node(p, p->g->nodes[i].name, "QLinearConv", "", in, 9, conv_out));
    EAI_TRY(copy_attrs(p, i, conv_skip));
    if (!absorbable(act)) {
        float so;
        int32_t zo;
        qparams(p->cal->range[y], &so, &zo);
        EAI_TRY(set_q(p, y, so, zo, &yq));
        snprintf(nm, sizeof nm, "%s_act", p->g->nodes[i].name);
        EAI_TRY(emit_lut(p, nm, act, conv_out, sy, zy, yq, so, zo));
    }
    return EAI_OK;
}

/* Gemm / FusedGemm (transA 0) and MatMul with a constant 2-D B: QGemm with
 * B as int8 rows [N, K] (transB 1), alpha and beta folded into B and C. */
static eai_status_t do_gemm(ptq_t *p, int i, const eai__act_t *act, bool matmul)
{
    eai__node_t *n = &p->g->nodes[i];
    const int x = n->in[0], bv = n->in[1], cv = n->n_in > 2 ? n->in[2] : -1, y = n->out[0];
    float alpha = 1, beta = 1;
    int64_t tb = 0;
    if (!matmul) {
        EAI_TRY(eai__attr_float(p->g, n, "alpha", 1.0f, &alpha));
        EAI_TRY(eai__attr_float(p->g, n, "beta", 1.0f, &beta));
        EAI_TRY(eai__attr_int(p->g, n, "transB", 0, &tb));
    }
    const eai__shape_t bshape = p->g->values[bv].shape;
    const float *bdata = p->g->values[bv].data;
    const char *bname = p->g->values[bv].name;
    const int64_t N = tb ? bshape.d[0] : bshape.d[1], K = tb ? bshape.d[1] : bshape.d[0];
    int xq;
    EAI_TRY(get_q(p, x, &xq));
    int8_t *wq;
    float *ws;
    int32_t *bq;
    EAI_TRY(quant_rows(p, bdata, N, K, !tb, alpha, &wq, &ws));
    EAI_TRY(quant_bias(p, cv >= 0 ? p->g->values[cv].data : NULL, N, beta, p->qs[x], ws, &bq));
    char nm[300];
    const char *name = p->g->nodes[i].name;
    int iw, iws, iwz, ic, ixs, ixz;
    snprintf(nm, sizeof nm, "%s_w", bname);
    EAI_TRY(add_const(p, nm, EAI_I8, 2, (const int64_t[]){N, K}, wq, &iw));
    snprintf(nm, sizeof nm, "%s_w_scale", name);
    EAI_TRY(add_const(p, nm, EAI_F32, 1, &N, ws, &iws));
    int8_t *wz = alloc_data(p, (size_t)N);
    if (!wz) return EAI_E_NOMEM;
    memset(wz, 0, (size_t)N);
    snprintf(nm, sizeof nm, "%s_w_zero_point", name);
    EAI_TRY(add_const(p, nm, EAI_I8, 1, &N, wz, &iwz));
    snprintf(nm, sizeof nm, "%s_bias", name);
    EAI_TRY(add_const(p, nm, EAI_I32, 1, &N, bq, &ic));
    EAI_TRY(add_qparams(p, p->g->values[x].name, p->qs[x], p->qz[x], &ixs, &ixz));
    int in[9] = {xq, ixs, ixz, iw, iws, iwz, ic, -1, -1};
    const bool float_out = act->kind == EAI__ACT_NONE && p->g->values[y].is_output;
    float sy = 1;
    int32_t zy = 0;
    int out;
    if (float_out) {
        /* a graph output (logits) straight from the accumulators: no
         * output rounding */
        out = y;
        EAI_TRY(add_node(p, p->g->nodes[i].name, "QGemm", "com.microsoft", in, 7, out));
    } else {
        if (absorbable(act)) {
            EAI_TRY(compute_out(p, i, y, &out, &sy, &zy));
        } else {
            qparams(p->cal->pre_range[i], &sy, &zy);
            EAI_TRY(new_value(p, p->g->values[y].name, "_preact_q", &out));
        }
        EAI_TRY(add_qparams(p, name, sy, zy, &in[7], &in[8]));
        EAI_TRY(add_node(p, p->g->nodes[i].name, "QGemm", "com.microsoft", in, 9, out));
    }
    EAI_TRY(eai__node_set_int(p->g, p->g->n_nodes - 1, "transB", 1));
    if (!float_out && !absorbable(act)) {
        float so;
        int32_t zo;
        int yq;
        qparams(p->cal->range[y], &so, &zo);
        EAI_TRY(set_q(p, y, so, zo, &yq));
        snprintf(nm, sizeof nm, "%s_act", p->g->nodes[i].name);
        EAI_TRY(emit_lut(p, nm, act, out, sy, zy, yq, so, zo));
    }
    return EAI_OK;
}

/* QLinearAdd / QLinearMul (com.microsoft) of two activations. */
static eai_status_t do_binary(ptq_t *p, int i, const char *op)
{
    const eai__node_t *n = &p->g->nodes[i];
    const int a = n->in[0], b = n->in[1], y = n->out[0];
    int aq, bq, as, az, bs, bz, ys, yz, yq;
    EAI_TRY(get_q(p, a, &aq));
    EAI_TRY(get_q(p, b, &bq));
    EAI_TRY(add_qparams(p, p->g->values[a].name, p->qs[a], p->qz[a], &as, &az));
    EAI_TRY(add_qparams(p, p->g->values[b].name, p->qs[b], p->qz[b], &bs, &bz));
    float sy;
    int32_t zy;
    EAI_TRY(compute_out(p, i, y, &yq, &sy, &zy));
    EAI_TRY(add_qparams(p, p->g->nodes[i].name, sy, zy, &ys, &yz));
    const int in[8] = {aq, as, az, bq, bs, bz, ys, yz};
    return add_node(p, p->g->nodes[i].name, op, "com.microsoft", in, 8, yq);
}

static eai_status_t do_gap(ptq_t *p, int i)
{
    const eai__node_t *n = &p->g->nodes[i];
    const int x = n->in[0], y = n->out[0];
    int xq, xs, xz, ys, yz, yq;
    EAI_TRY(get_q(p, x, &xq));
    EAI_TRY(add_qparams(p, p->g->values[x].name, p->qs[x], p->qz[x], &xs, &xz));
    float sy;
    int32_t zy;
    EAI_TRY(compute_out(p, i, y, &yq, &sy, &zy));
    EAI_TRY(add_qparams(p, p->g->nodes[i].name, sy, zy, &ys, &yz));
    const int in[5] = {xq, xs, xz, ys, yz};
    EAI_TRY(
        add_node(p, p->g->nodes[i].name, "QLinearGlobalAveragePool", "com.microsoft", in, 5, yq));
    return eai__node_set_int(p->g, p->g->n_nodes - 1, "channels_last", 0);
}

static eai_status_t do_concat(ptq_t *p, int i)
{
    const eai__node_t *n0 = &p->g->nodes[i];
    const int y = n0->out[0], n_in = n0->n_in; /* <= 64: visit checks */
    int in[2 + 3 * 64];
    float sy;
    int32_t zy;
    int yq;
    EAI_TRY(compute_out(p, i, y, &yq, &sy, &zy));
    EAI_TRY(add_qparams(p, p->g->nodes[i].name, sy, zy, &in[0], &in[1]));
    for (int k = 0; k < n_in; k++) {
        const int x = p->g->nodes[i].in[k];
        EAI_TRY(get_q(p, x, &in[2 + 3 * k]));
        EAI_TRY(add_qparams(p, p->g->values[x].name, p->qs[x], p->qz[x], &in[3 + 3 * k],
                            &in[4 + 3 * k]));
    }
    EAI_TRY(
        add_node(p, p->g->nodes[i].name, "QLinearConcat", "com.microsoft", in, 2 + 3 * n_in, yq));
    static const char *const none[] = {NULL};
    return copy_attrs(p, i, none);
}

static eai_status_t do_act(ptq_t *p, int i, const eai__act_t *act)
{
    const eai__node_t *n = &p->g->nodes[i];
    const int x = n->in[0], y = n->out[0];
    int xq, yq;
    EAI_TRY(get_q(p, x, &xq));
    float sy;
    int32_t zy;
    qparams(p->cal->range[y], &sy, &zy);
    EAI_TRY(set_q(p, y, sy, zy, &yq));
    return emit_lut(p, p->g->nodes[i].name, act, xq, p->qs[x], p->qz[x], yq, sy, zy);
}

/* Ops that move bytes: the original node, rewired to int8 in and out with
 * the input's parameters. */
static eai_status_t do_pass(ptq_t *p, int i)
{
    eai__node_t *n = &p->g->nodes[i];
    const int x = n->in[0], y = n->out[0];
    int yq;
    EAI_TRY(set_q(p, y, p->qs[x], p->qz[x], &yq));
    n = &p->g->nodes[i];
    n->in[0] = p->q[x];
    n->out[0] = yq;
    return EAI_OK;
}

/* ---- the walk ---- */

static bool is_op(const eai__node_t *n, const char *dom, const char *op)
{
    return strcmp(n->domain, dom) == 0 && strcmp(n->op, op) == 0;
}

static bool pass_op(const ptq_t *p, const eai__node_t *n)
{
    static const char *const ops[] = {"Flatten",  "Reshape", "Transpose", "Squeeze", "Unsqueeze",
                                      "Identity", "MaxPool", "Slice",     "Resize",  NULL};
    if (n->domain[0] || n->n_out < 1) return false;
    bool known = false;
    for (const char *const *o = ops; *o; o++)
        known |= strcmp(n->op, *o) == 0;
    if (!known) return false;
    for (int k = 1; k < n->n_out; k++)
        if (n->out[k] >= 0) return false; /* MaxPool's Indices */
    for (int k = 1; k < n->n_in; k++)
        if (n->in[k] >= 0 && p->g->values[n->in[k]].kind != EAI__V_CONST) return false;
    if (strcmp(n->op, "Resize") == 0) {
        const char *mode;
        if (eai__attr_string(p->g, n, "mode", "nearest", &mode) != EAI_OK ||
            strcmp(mode, "nearest") != 0)
            return false;
    }
    return true;
}

static eai_status_t visit(ptq_t *p, int i)
{
    const eai__node_t *n = &p->g->nodes[i];
    if (p->dead[i] || n->n_in < 1 || n->n_out < 1) return EAI_OK;
    const int x = n->in[0], y = n->out[0];
    if (!is_f32_act(p, x) || y < 0) return EAI_OK;
    const bool xq = p->q[x] >= 0;
    eai__act_t act = {0};
    const bool fused = strcmp(n->domain, "com.edgeai") == 0 && strncmp(n->op, "Fused", 5) == 0;
    if (fused && eai__act_from_node(p->g, n, &act) != EAI_OK) return EAI_OK;
    const bool act_ok = absorbable(&act) || p->cal->pre_range[i].valid;
    const bool conv = is_op(n, "", "Conv") || is_op(n, "com.edgeai", "FusedConv");
    const bool gemm = is_op(n, "", "Gemm") || is_op(n, "com.edgeai", "FusedGemm");
    eai_status_t st = EAI_OK;
    bool done = false;
    if (conv && act_ok && n->n_in >= 2 && is_const(p, n->in[1], EAI_F32) &&
        (n->n_in < 3 || n->in[2] < 0 || is_const(p, n->in[2], EAI_F32)) &&
        p->g->values[n->in[1]].shape.rank >= 3 && p->cal->range[y].valid) {
        st = do_conv(p, i, &act), done = true;
    } else if ((gemm || is_op(n, "", "MatMul")) && act_ok && n->n_in >= 2 &&
               is_const(p, n->in[1], EAI_F32) && p->g->values[n->in[1]].shape.rank == 2 &&
               p->vals[x].shape.rank == 2 && p->cal->range[y].valid) {
        int64_t ta = 0;
        const int cv = n->n_in > 2 ? n->in[2] : -1;
        if (gemm && eai__attr_int(p->g, n, "transA", 0, &ta) != EAI_OK) return EAI_OK;
        bool bias_ok = cv < 0;
        if (cv >= 0 && is_const(p, cv, EAI_F32)) {
            const eai__shape_t *cs = &p->g->values[cv].shape;
            const int64_t N = p->vals[y].shape.d[1];
            bias_ok = eai__shape_numel(cs) == N && (cs->rank == 1 || cs->d[0] == 1);
        }
        if (ta == 0 && bias_ok) st = do_gemm(p, i, &act, !gemm), done = true;
    } else if ((is_op(n, "", "Add") || is_op(n, "", "Mul")) && n->n_in == 2 &&
               is_f32_act(p, n->in[1]) && (xq || p->q[n->in[1]] >= 0) && p->cal->range[y].valid) {
        st = do_binary(p, i, n->op[0] == 'A' ? "QLinearAdd" : "QLinearMul"), done = true;
    } else if (is_op(n, "", "GlobalAveragePool") && xq && p->vals[x].shape.rank == 4 &&
               p->cal->range[y].valid) {
        st = do_gap(p, i), done = true;
    } else if (is_op(n, "", "Concat") && n->n_in <= 64 && p->cal->range[y].valid) {
        bool all = true;
        for (int k = 0; k < n->n_in; k++)
            all &= n->in[k] >= 0 && is_f32_act(p, n->in[k]) && p->q[n->in[k]] >= 0;
        if (all) st = do_concat(p, i), done = true;
    } else if (xq && pass_op(p, n)) {
        EAI_TRY(do_pass(p, i));
        p->n_quantized++;
        return EAI_OK;
    } else if (xq && node_act(p, n, &act) && p->cal->range[y].valid) {
        st = do_act(p, i, &act), done = true;
    }
    if (st != EAI_OK) return st;
    if (done) {
        p->dead[i] = true;
        p->n_quantized++;
    }
    return EAI_OK;
}

/* Float readers of values that now only exist in int8 get a DQ. */
static eai_status_t add_dequantize(ptq_t *p)
{
    for (int i = 0; i < p->n_nodes0; i++) {
        if (p->dead[i]) continue;
        const eai__node_t *n = &p->g->nodes[i];
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0 && n->in[k] < p->n_values0) p->need_float[n->in[k]] = true;
    }
    for (int k = 0; k < p->g->n_outputs; k++)
        p->need_float[p->g->outputs[k]] = true;
    for (int v = 0; v < p->n_values0; v++) {
        if (!p->need_float[v] || !p->replaced[v]) continue;
        int is, iz;
        const char *nm = p->g->values[v].name;
        EAI_TRY(add_qparams(p, nm, p->qs[v], p->qz[v], &is, &iz));
        char node[300];
        snprintf(node, sizeof node, "%s_dequantize", nm);
        EAI_TRY(add_node(p, node, "DequantizeLinear", "", (const int[]){p->q[v], is, iz}, 3, v));
    }
    return EAI_OK;
}

static void ptq_free(ptq_t *p)
{
    const eai_allocator_t *a = &p->g->alloc;
    eai__free(a, p->vals);
    eai__free(a, p->uses);
    eai__free(a, p->consumer);
    eai__free(a, p->q);
    eai__free(a, p->qs);
    eai__free(a, p->qz);
    eai__free(a, p->replaced);
    eai__free(a, p->need_float);
    eai__free(a, p->dead);
}

eai_status_t eai__quant_ptq(eai__graph_t *g, const eai_model_t *m, const eai__inputset_t *calib,
                            const eai_build_opts_t *o, eai_build_report_t *rep)
{
    (void)m;
    eai__calib_t cal;
    EAI_TRY(eai__quant_calibrate(g, calib, o, &cal));
    ptq_t p;
    memset(&p, 0, sizeof p);
    p.g = g;
    p.cal = &cal;
    p.n_values0 = g->n_values;
    p.n_nodes0 = g->n_nodes;
    const eai_allocator_t *a = &g->alloc;
    const size_t nv = (size_t)g->n_values + 1, nn = (size_t)g->n_nodes + 1;
    /* the shape pass's view of g, copied: the pass belongs to the graph as
     * it is now, and the rewrite adds values */
    eai__pass_t pass;
    eai_status_t st = eai__pass_run(&pass, g, a, 1);
    if (st == EAI_OK) {
        p.vals = eai__calloc(a, nv, sizeof *p.vals);
        if (!p.vals) st = eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
        for (int v = 0; st == EAI_OK && v < g->n_values; v++)
            p.vals[v].dtype = pass.vals[v].dtype, p.vals[v].shape = pass.vals[v].shape;
    }
    eai__pass_free(&pass);
    if (st == EAI_OK) st = eai__graph_use_counts(g, &p.uses);
    if (st == EAI_OK) {
        p.consumer = eai__calloc(a, nv, sizeof(int));
        p.q = eai__calloc(a, nv, sizeof(int));
        p.qs = eai__calloc(a, nv, sizeof(float));
        p.qz = eai__calloc(a, nv, sizeof(int32_t));
        p.replaced = eai__calloc(a, nv, sizeof(bool));
        p.need_float = eai__calloc(a, nv, sizeof(bool));
        p.dead = eai__calloc(a, nn, sizeof(bool));
        if (!p.consumer || !p.q || !p.qs || !p.qz || !p.replaced || !p.need_float || !p.dead)
            st = eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    }
    if (st == EAI_OK) {
        for (size_t v = 0; v < nv; v++)
            p.q[v] = p.consumer[v] = -1;
        for (int i = 0; i < g->n_nodes; i++)
            for (int k = 0; k < g->nodes[i].n_in; k++)
                if (g->nodes[i].in[k] >= 0) p.consumer[g->nodes[i].in[k]] = i;
    }
    /* a byte-moving op's input takes the hull of its own range and its
     * output's (walked backwards so chains propagate): MaxPool keeps the
     * largest values, so a clip chosen for the pool's input alone would cut
     * exactly what the pool passes on */
    for (int i = p.n_nodes0 - 1; i >= 0 && st == EAI_OK; i--) {
        const eai__node_t *n = &g->nodes[i];
        if (!pass_op(&p, n)) continue;
        eai__qrange_t *rx = &cal.range[n->in[0]];
        const eai__qrange_t *ry = &cal.range[n->out[0]];
        if (!rx->valid || !ry->valid) continue;
        rx->lo = fminf(rx->lo, ry->lo);
        rx->hi = fmaxf(rx->hi, ry->hi);
    }
    /* Concat inputs written only for the Concat take its range, so the
     * int8 Concat copies bytes instead of rescaling each input */
    for (int i = 0; i < p.n_nodes0 && st == EAI_OK; i++) {
        const eai__node_t *n = &g->nodes[i];
        if (n->domain[0] || strcmp(n->op, "Concat") != 0 || !cal.range[n->out[0]].valid) continue;
        for (int k = 0; k < n->n_in; k++) {
            const int v = n->in[k];
            if (v >= 0 && p.uses[v] == 1 && !g->values[v].is_output && cal.range[v].valid)
                cal.range[v] = cal.range[n->out[0]];
        }
    }
    for (int i = 0; i < p.n_nodes0 && st == EAI_OK; i++)
        st = visit(&p, i);
    if (st == EAI_OK) st = add_dequantize(&p);
    if (st == EAI_OK) {
        /* the dead array must cover the appended nodes too */
        bool *dead = eai__calloc(a, (size_t)g->n_nodes + 1, sizeof(bool));
        if (!dead) {
            st = eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
        } else {
            memcpy(dead, p.dead, (size_t)p.n_nodes0 * sizeof(bool));
            st = eai__graph_remove_nodes(g, dead);
            eai__free(a, dead);
        }
    }
    if (st == EAI_OK && rep) rep->quantized_nodes += p.n_quantized;
    ptq_free(&p);
    eai__calib_free(&cal);
    return st;
}
