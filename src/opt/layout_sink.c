/* The layout pass's sinking rules: which layout-agnostic nodes may move to
 * NHWC once their activations have NHWC twins, and what changes with them.
 *   elementwise (unary, binary, variadic, Where): constant operands are
 *     broadcast to rank 4 and permuted ([C,1,1] becomes [1,1,1,C]); scalars
 *     stay as they are;
 *   Concat, Split, Softmax/LogSoftmax (opset >= 13): the axis is remapped;
 *   Resize (opset >= 10, no `axes`): roi, scales and sizes are permuted;
 *   Transpose: composed with the layout change (cancelled when the result
 *     is the identity);
 *   Reshape / Flatten of a value whose NCHW and NHWC bytes coincide (C == 1
 *     or H == W == 1): read the twin directly, no Transpose;
 *   Reshape [N,C,H,W] -> [N,A,B,H,W] read only by a Transpose (YOLO heads):
 *     reshape the twin to [N,H,W,A,B], compose the perm.
 *   QuantizeLinear / DequantizeLinear / QLinearAdd / QLinearMul with scalar
 *     scales and zero points: as elementwise ops.
 * A node is moved only when every activation it reads already has a twin,
 * so sinking never adds a Transpose.
 */
#include <stdio.h>

#include "opt/layout_impl.h"

/* NCHW axis a sits at NHWC axis AXIS_NHWC[a]; NHWC axis k is NCHW axis
 * FROM_NCHW[k]. */
static const int AXIS_NHWC[4] = {0, 3, 1, 2};
static const int FROM_NCHW[4] = {0, 2, 3, 1};

static const char *const UNARY[] = {
    "Relu",        "Clip",      "Sigmoid",
    "HardSigmoid", "HardSwish", "LeakyRelu",
    "Tanh",        "Elu",       "Selu",
    "Celu",        "Abs",       "Neg",
    "Exp",         "Log",       "Sqrt",
    "Erf",         "Softplus",  "Softsign",
    "Floor",       "Ceil",      "Round",
    "Reciprocal",  "Sign",      "Not",
    "Identity",    "Cast",      "ThresholdedRelu",
    "Sin",         "Cos",       "IsNaN",
    "IsInf",       "Mish",      "Gelu",
    NULL,
};
static const char *const BINARY[] = {
    "Add",   "Sub",  "Mul",     "Div",         "Pow",
    "Max",   "Min",  "Sum",     "Mean",        "PRelu",
    "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual",
    "And",   "Or",   "Xor",     "Mod",         "Where",
    NULL,
};

static bool in_list(const char *op, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(op, *list) == 0) return true;
    return false;
}

enum { OPND_TWIN, OPND_KEEP, OPND_CONST, OPND_BAD };

/* How an elementwise operand moves: through its twin, unchanged (absent or
 * a single element), as a permuted constant, or not at all. */
static int classify(const eai__lay_t *L, int v)
{
    if (v < 0) return OPND_KEEP;
    if (v >= L->n_vals || !L->known[v]) return OPND_BAD;
    if (eai__shape_numel(&L->shape[v]) == 1) return OPND_KEEP;
    if (L->nhwc[v] >= 0 && L->shape[v].rank == 4) return OPND_TWIN;
    const eai__value_t *val = &L->g->values[v];
    if (val->kind == EAI__V_CONST && val->data && val->shape.rank <= 4) return OPND_CONST;
    return OPND_BAD;
}

/* Constant v broadcast to rank 4 and permuted to NHWC (cached in nhwc[v]). */
static eai_status_t permute_const(eai__lay_t *L, int v, int *out)
{
    eai__graph_t *g = L->g;
    if (L->nhwc[v] >= 0) {
        *out = L->nhwc[v];
        return EAI_OK;
    }
    const eai__value_t *cv = &g->values[v];
    const int r = cv->shape.rank;
    int64_t d[4];
    for (int i = 0; i < 4; i++)
        d[i] = i < 4 - r ? 1 : cv->shape.d[i - (4 - r)];
    eai__shape_t ns = {.rank = 4, .d = {d[0], d[2], d[3], d[1]}};
    const size_t es = eai_dtype_size(cv->dtype);
    const int64_t numel = d[0] * d[1] * d[2] * d[3];
    unsigned char *dst = eai__alloc_aligned(&g->alloc, (size_t)numel * es + 1);
    if (!dst) return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    const unsigned char *src = cv->data;
    for (int64_t n = 0; n < d[0]; n++)
        for (int64_t c = 0; c < d[1]; c++)
            for (int64_t h = 0; h < d[2]; h++)
                for (int64_t w = 0; w < d[3]; w++)
                    memcpy(dst + (size_t)(((n * d[2] + h) * d[3] + w) * d[1] + c) * es,
                           src + (size_t)(((n * d[1] + c) * d[2] + h) * d[3] + w) * es, es);
    char name[256], base[200];
    snprintf(base, sizeof base, "%.180s_nhwc", cv->name);
    eai__graph_fresh_name(g, base, name, sizeof name);
    int id;
    eai_status_t st = eai__graph_add_const(g, name, cv->dtype, &ns, dst, &id);
    if (st != EAI_OK) return st; /* add_const adopted dst */
    L->nhwc[v] = id;
    *out = id;
    return EAI_OK;
}

/* Elementwise node: all operands movable, at least one twin. */
static eai_status_t sink_elementwise(eai__lay_t *L, int node)
{
    eai__graph_t *g = L->g;
    const eai__node_t *n = &g->nodes[node];
    if (n->n_out != 1 || !eai__lay_is4(L, n->out[0])) return EAI_OK;
    int twins = 0;
    for (int k = 0; k < n->n_in; k++) {
        int c = classify(L, n->in[k]);
        if (c == OPND_BAD) return EAI_OK;
        twins += c == OPND_TWIN;
    }
    if (!twins) return EAI_OK;
    for (int k = 0; k < g->nodes[node].n_in; k++) {
        int v = g->nodes[node].in[k], c = classify(L, v), t = v;
        if (c == OPND_TWIN)
            t = L->nhwc[v];
        else if (c == OPND_CONST)
            EAI_TRY(permute_const(L, v, &t));
        g->nodes[node].in[k] = t;
    }
    return eai__lay_twin_outputs(L, node);
}

/* Reads the node's `axis` (default def) as an NCHW axis; false if absent
 * and there is no default, or out of range. */
static bool read_axis(const eai__node_t *n, int64_t def, bool has_def, int *axis)
{
    const eai__attr_t *a = eai__node_attr(n, "axis");
    if (a && a->type != EAI__A_INT) return false;
    if (!a && !has_def) return false;
    int64_t v = a ? a->i : def;
    if (v < 0) v += 4;
    if (v < 0 || v > 3) return false;
    *axis = (int)v;
    return true;
}

/* Concat / Split / Softmax: every activation input a twin (Concat: or a
 * rank-4 constant), `axis` remapped. Split keeps input 1 (sizes). */
static eai_status_t sink_axis(eai__lay_t *L, int node, int64_t def, bool has_def, int n_act)
{
    eai__graph_t *g = L->g;
    const eai__node_t *n = &g->nodes[node];
    int axis;
    if (!read_axis(n, def, has_def, &axis)) return EAI_OK;
    int twins = 0;
    for (int k = 0; k < n->n_in && k < n_act; k++) {
        int v = n->in[k], c = classify(L, v);
        if (c == OPND_TWIN) {
            twins++;
        } else if (c != OPND_CONST || g->values[v].shape.rank != 4) {
            return EAI_OK;
        }
    }
    for (int k = 0; k < n->n_out; k++)
        if (n->out[k] >= 0 && !eai__lay_is4(L, n->out[k])) return EAI_OK;
    if (!twins) return EAI_OK;
    for (int k = 0; k < g->nodes[node].n_in && k < n_act; k++) {
        int v = g->nodes[node].in[k], t;
        if (classify(L, v) == OPND_TWIN)
            t = L->nhwc[v];
        else
            EAI_TRY(permute_const(L, v, &t));
        g->nodes[node].in[k] = t;
    }
    EAI_TRY(eai__node_set_int(g, node, "axis", AXIS_NHWC[axis]));
    return eai__lay_twin_outputs(L, node);
}

/* A constant 1-D vector of 4 (or 8 for roi: starts then ends) values per
 * NCHW axis, permuted to NHWC order into a new constant. */
static eai_status_t permute_vec(eai__lay_t *L, int v, int groups, int *out)
{
    eai__graph_t *g = L->g;
    const eai__value_t *cv = &g->values[v];
    const size_t es = eai_dtype_size(cv->dtype);
    unsigned char *dst = eai__alloc_aligned(&g->alloc, (size_t)(4 * groups) * es);
    if (!dst) return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    for (int gi = 0; gi < groups; gi++)
        for (int k = 0; k < 4; k++)
            memcpy(dst + (size_t)(gi * 4 + k) * es,
                   (const unsigned char *)cv->data + (size_t)(gi * 4 + FROM_NCHW[k]) * es, es);
    char name[256], base[200];
    snprintf(base, sizeof base, "%.180s_nhwc", cv->name);
    eai__graph_fresh_name(g, base, name, sizeof name);
    eai__shape_t s = {.rank = 1, .d = {4 * groups}};
    return eai__graph_add_const(g, name, cv->dtype, &s, dst, out);
}

static bool empty_or_vec(const eai__lay_t *L, int v, int len)
{
    if (v < 0) return true;
    const eai__value_t *cv = &L->g->values[v];
    if (cv->kind != EAI__V_CONST) return false;
    int64_t numel = eai__shape_numel(&cv->shape);
    return numel == 0 || (cv->data && cv->shape.rank == 1 && numel == len);
}

/* Resize-10 (X, scales) and Resize-11+ (X, roi, scales, sizes). */
static eai_status_t sink_resize(eai__lay_t *L, int node)
{
    eai__graph_t *g = L->g;
    const eai__node_t *n = &g->nodes[node];
    if (g->opset < 10 || eai__node_attr(n, "axes") || n->n_out != 1) return EAI_OK;
    if (classify(L, n->in[0]) != OPND_TWIN || !eai__lay_is4(L, n->out[0])) return EAI_OK;
    const bool v10 = g->opset < 11;
    for (int k = 1; k < n->n_in; k++)
        if (!empty_or_vec(L, n->in[k], !v10 && k == 1 ? 8 : 4)) return EAI_OK;
    g->nodes[node].in[0] = L->nhwc[g->nodes[node].in[0]];
    for (int k = 1; k < g->nodes[node].n_in; k++) {
        int v = g->nodes[node].in[k];
        if (v < 0 || eai__shape_numel(&g->values[v].shape) == 0) continue;
        int t;
        EAI_TRY(permute_vec(L, v, !v10 && k == 1 ? 2 : 1, &t));
        g->nodes[node].in[k] = t;
    }
    return eai__lay_twin_outputs(L, node);
}

/* An existing Transpose of a value with a twin reads the twin instead. */
static eai_status_t sink_transpose(eai__lay_t *L, int node)
{
    eai__graph_t *g = L->g;
    const eai__node_t *n = &g->nodes[node];
    if (classify(L, n->in[0]) != OPND_TWIN || n->n_out != 1) return EAI_OK;
    int64_t q[4] = {3, 2, 1, 0}; /* default: reversed */
    const eai__attr_t *a = eai__node_attr(n, "perm");
    if (a) {
        if (a->type != EAI__A_INTS || a->n != 4) return EAI_OK;
        for (int k = 0; k < 4; k++) {
            if (a->ints[k] < 0 || a->ints[k] > 3) return EAI_OK;
            q[k] = a->ints[k];
        }
    }
    int64_t r[4];
    bool identity = true;
    for (int k = 0; k < 4; k++) {
        r[k] = AXIS_NHWC[q[k]];
        identity &= r[k] == k;
    }
    const int y = n->out[0], xn = L->nhwc[n->in[0]];
    if (identity && !g->values[y].is_output) {
        eai__graph_replace_uses(g, y, xn);
        L->drop[node] = true;
        return EAI_OK;
    }
    g->nodes[node].in[0] = xn;
    return eai__node_set_ints(g, node, "perm", r, 4);
}

/* The one node reading value v, or -1 (none, several, or a graph output). */
static int single_reader(const eai__lay_t *L, int v)
{
    const eai__graph_t *g = L->g;
    if (g->values[v].is_output) return -1;
    int found = -1;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_in; k++)
            if (g->nodes[i].in[k] == v) {
                if (found >= 0 && found != i) return -1;
                found = i;
            }
    return found;
}

/* Reshape [N,C,H,W] -> [N,A,B,H,W] (C = A*B) read only by a Transpose, as
 * YOLO heads do: reshape the twin to [N,H,W,A,B] instead and fold the
 * layout into the Transpose's perm, so one copy of contiguous B-element rows
 * replaces two full transposes. */
static eai_status_t sink_split_channels(eai__lay_t *L, int node, const int64_t *t)
{
    eai__graph_t *g = L->g;
    const eai__node_t *n = &g->nodes[node];
    const int x = n->in[0], y = n->out[0];
    const eai__shape_t *s = &L->shape[x];
    const eai__attr_t *az = eai__node_attr(n, "allowzero");
    const bool allowzero = az && az->type == EAI__A_INT && az->i;
    if (!(t[0] == s->d[0] || t[0] == -1 || (t[0] == 0 && !allowzero)) || t[1] < 1 || t[2] < 1 ||
        t[1] * t[2] != s->d[1] || t[3] != s->d[2] || t[4] != s->d[3])
        return EAI_OK;
    const int tr = single_reader(L, y);
    if (tr < 0) return EAI_OK;
    const eai__node_t *tn = &g->nodes[tr];
    const eai__attr_t *pa = eai__node_attr(tn, "perm");
    if (strcmp(tn->op, "Transpose") != 0 || (tn->domain[0] && strcmp(tn->domain, "ai.onnx")) ||
        !pa || pa->type != EAI__A_INTS || pa->n != 5)
        return EAI_OK;
    static const int64_t P[5] = {0, 3, 4, 1, 2}; /* [N,A,B,H,W] axis -> [N,H,W,A,B] axis */
    int64_t r[5];
    for (int k = 0; k < 5; k++) {
        if (pa->ints[k] < 0 || pa->ints[k] > 4) return EAI_OK;
        r[k] = P[pa->ints[k]];
    }
    int64_t *nt = eai__alloc_aligned(&g->alloc, 5 * sizeof(int64_t));
    if (!nt) return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    const int64_t v[5] = {t[0], t[3], t[4], t[1], t[2]};
    memcpy(nt, v, sizeof v);
    char name[256], base[200];
    snprintf(base, sizeof base, "%.180s_nhwc", g->values[n->in[1]].name);
    eai__graph_fresh_name(g, base, name, sizeof name);
    eai__shape_t ss = {.rank = 1, .d = {5}};
    int sid;
    EAI_TRY(eai__graph_add_const(g, name, EAI_I64, &ss, nt, &sid));
    g->nodes[node].in[0] = L->nhwc[x];
    g->nodes[node].in[1] = sid;
    return eai__node_set_ints(g, tr, "perm", r, 5);
}

/* Reshape / Flatten read the twin when its bytes equal the NCHW value's and
 * the result's shape does not depend on the input's dims. */
static eai_status_t sink_reshape(eai__lay_t *L, int node, bool flatten)
{
    eai__graph_t *g = L->g;
    const eai__node_t *n = &g->nodes[node];
    const int x = n->in[0];
    if (classify(L, x) != OPND_TWIN) return EAI_OK;
    const eai__shape_t *s = &L->shape[x];
    if (!flatten && n->n_in >= 2 && n->in[1] >= 0) {
        const eai__value_t *sv = &g->values[n->in[1]];
        if (sv->kind == EAI__V_CONST && sv->data && sv->dtype == EAI_I64 && sv->shape.rank == 1 &&
            sv->shape.d[0] == 5)
            return sink_split_channels(L, node, sv->data);
    }
    if (!(s->d[1] == 1 || (s->d[2] == 1 && s->d[3] == 1))) return EAI_OK;
    if (flatten) {
        int64_t axis = 1;
        const eai__attr_t *a = eai__node_attr(n, "axis");
        if (a) {
            if (a->type != EAI__A_INT) return EAI_OK;
            axis = a->i < 0 ? a->i + 4 : a->i;
        }
        if (axis != 0 && axis != 1 && axis != 4) return EAI_OK;
    } else {
        if (n->n_in < 2 || n->in[1] < 0) return EAI_OK;
        const eai__value_t *sv = &g->values[n->in[1]];
        if (sv->kind != EAI__V_CONST || !sv->data || sv->dtype != EAI_I64 || sv->shape.rank != 1)
            return EAI_OK;
        const int64_t *d = sv->data;
        for (int64_t k = 1; k < sv->shape.d[0]; k++)
            if (d[k] == 0) return EAI_OK; /* would copy an input dim */
    }
    g->nodes[node].in[0] = L->nhwc[x];
    return EAI_OK;
}

/* Quantize/DequantizeLinear with per-tensor parameters are elementwise;
 * per-axis ones (1-D scales along `axis`) stay. */
static eai_status_t sink_quant(eai__lay_t *L, int node, unsigned tensors)
{
    const eai__node_t *n = &L->g->nodes[node];
    for (int k = 0; k < n->n_in; k++)
        if (!(tensors >> k & 1u) && n->in[k] >= 0 &&
            (n->in[k] >= L->n_vals || !L->known[n->in[k]] ||
             eai__shape_numel(&L->shape[n->in[k]]) != 1))
            return EAI_OK;
    return sink_elementwise(L, node);
}

/* edgeai's QLinearLut (com.edgeai): elementwise on X (input 0); the table
 * (input 1, [256]) is no tensor operand and stays as it is. */
static eai_status_t sink_lut(eai__lay_t *L, int node)
{
    eai__graph_t *g = L->g;
    const eai__node_t *n = &g->nodes[node];
    if (n->n_in != 2 || n->n_out != 1 || !eai__lay_is4(L, n->out[0])) return EAI_OK;
    const int x = n->in[0];
    if (classify(L, x) != OPND_TWIN) return EAI_OK;
    g->nodes[node].in[0] = L->nhwc[x];
    return eai__lay_twin_outputs(L, node);
}

/* ONNX Runtime's QLinearConcat: Y_scale, Y_zero_point, then (X, scale,
 * zero point) per input; scales and zero points are scalars, every X must be
 * a twin, `axis` is remapped as for Concat. */
static eai_status_t sink_qconcat(eai__lay_t *L, int node)
{
    eai__graph_t *g = L->g;
    const eai__node_t *n = &g->nodes[node];
    int axis;
    if (!read_axis(n, 0, false, &axis)) return EAI_OK;
    if (n->n_out != 1 || !eai__lay_is4(L, n->out[0]) || n->n_in < 5 || (n->n_in - 2) % 3)
        return EAI_OK;
    for (int k = 2; k < n->n_in; k += 3)
        if (classify(L, n->in[k]) != OPND_TWIN) return EAI_OK;
    for (int k = 2; k < g->nodes[node].n_in; k += 3)
        g->nodes[node].in[k] = L->nhwc[g->nodes[node].in[k]];
    EAI_TRY(eai__node_set_int(g, node, "axis", AXIS_NHWC[axis]));
    return eai__lay_twin_outputs(L, node);
}

eai_status_t eai__lay_sink(eai__lay_t *L, int node)
{
    const eai__node_t *n = &L->g->nodes[node];
    const char *op = n->op;
    if (strcmp(n->domain, "com.edgeai") == 0 && strcmp(op, "QLinearLut") == 0)
        return sink_lut(L, node);
    /* ONNX Runtime's int8 elementwise ops: scales and zero points are scalars */
    if (strcmp(n->domain, "com.microsoft") == 0 &&
        (strcmp(op, "QLinearAdd") == 0 || strcmp(op, "QLinearMul") == 0))
        return sink_quant(L, node, 1u << 0 | 1u << 3); /* A, B */
    if (strcmp(n->domain, "com.microsoft") == 0 && strcmp(op, "QLinearConcat") == 0)
        return sink_qconcat(L, node);
    if (n->domain[0] && strcmp(n->domain, "ai.onnx") != 0) return EAI_OK;
    if (strcmp(op, "QuantizeLinear") == 0 || strcmp(op, "DequantizeLinear") == 0)
        return sink_quant(L, node, 1u << 0);
    if (in_list(op, UNARY) || in_list(op, BINARY)) return sink_elementwise(L, node);
    if (strcmp(op, "Concat") == 0) return sink_axis(L, node, 0, false, n->n_in);
    if (strcmp(op, "Split") == 0) return sink_axis(L, node, 0, true, 1);
    if ((strcmp(op, "Softmax") == 0 || strcmp(op, "LogSoftmax") == 0) && L->g->opset >= 13)
        return sink_axis(L, node, -1, true, 1);
    if (strcmp(op, "Resize") == 0) return sink_resize(L, node);
    if (strcmp(op, "Transpose") == 0) return sink_transpose(L, node);
    if (strcmp(op, "Reshape") == 0) return sink_reshape(L, node, false);
    if (strcmp(op, "Flatten") == 0) return sink_reshape(L, node, true);
    return EAI_OK;
}
