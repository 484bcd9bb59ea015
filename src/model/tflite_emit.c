/* TFLite importer: the IR side. A tensor's IR value in the layout and form
 * (stored or real-valued) a consumer needs: constants are permuted and
 * converted at import, activations get one Transpose / DequantizeLinear per
 * tensor and form (cached); quantized outputs get a QuantizeLinear. Also the
 * helpers tflite_ops.c emits nodes, attributes and constants with, and the
 * graph inputs and outputs.
 */
#include <stdio.h>

#include "model/tflite_impl.h"

/* ---- names and nodes ---- */

static eai_status_t nomem(const tfl_t *s)
{
    return eai_fail(EAI_E_NOMEM, "%s: out of memory", s->label);
}

/* The name operator outputs and nodes are called after. */
static void op_base(const tfl_t *s, char *buf, size_t cap)
{
    const char *n = s->n_out > 0 ? s->t[s->out[0]].name : "";
    if (n[0] && n[0] != '\001')
        snprintf(buf, cap, "%.500s", n);
    else if (s->op >= 0)
        snprintf(buf, cap, "op%d", s->op);
    else
        snprintf(buf, cap, "outputs");
}

/* A new value called `want`, or want#N when that is taken. */
static eai_status_t fresh_value(tfl_t *s, const char *want, int *v)
{
    char name[600];
    snprintf(name, sizeof name, "%s", want);
    while (eai__strmap_get(&s->g->names, name) >= 0)
        snprintf(name, sizeof name, "%.500s#%d", want, s->uniq++);
    return eai__graph_value(s->g, name, v);
}

eai_status_t eai__tfl_new_act(tfl_t *s, const char *what, int *v)
{
    char base[520], name[560];
    op_base(s, base, sizeof base);
    snprintf(name, sizeof name, "%s#%s", base, what ? what : "t");
    return fresh_value(s, name, v);
}

eai_status_t eai__tfl_emit(tfl_t *s, const char *op, const int *in, int n_in, const int *out,
                           int n_out)
{
    char base[520], name[560];
    op_base(s, base, sizeof base);
    if (s->emitted)
        snprintf(name, sizeof name, "%s#%d", base, s->emitted);
    else
        snprintf(name, sizeof name, "%s", base);
    s->emitted++;
    return eai__graph_add_node(s->g, name, op, "", in, n_in, out, n_out, NULL);
}

eai_status_t eai__tfl_emit1(tfl_t *s, const char *op, const int *in, int n_in, int *out)
{
    int o; /* `in` may point at *out: write it last */
    EAI_TRY(eai__tfl_new_act(s, NULL, &o));
    EAI_TRY(eai__tfl_emit(s, op, in, n_in, &o, 1));
    *out = o;
    return EAI_OK;
}

static void out_name(const tfl_t *s, int ti, const tfl_lay_t *lay, char *buf, size_t cap);

eai_status_t eai__tfl_step(tfl_t *s, const char *op, const int *in, int n_in, int last,
                           const tfl_lay_t *lay, int *out)
{
    const tfl_tensor_t *t = &s->t[s->out[0]];
    int o;
    if (last == 2 || (last == 1 && !eai__tfl_is_quant(t) && t->dt != EAI_F16)) {
        char name[520];
        out_name(s, s->out[0], lay, name, sizeof name);
        EAI_TRY(fresh_value(s, name, &o));
    } else {
        EAI_TRY(eai__tfl_new_act(s, NULL, &o));
    }
    EAI_TRY(eai__tfl_emit(s, op, in, n_in, &o, 1));
    *out = o;
    return EAI_OK;
}

static eai_status_t set_attr(tfl_t *s, const eai__attr_t *a)
{
    return eai__node_add_attr(s->g, s->g->n_nodes - 1, a);
}

eai_status_t eai__tfl_set_int(tfl_t *s, const char *name, int64_t v)
{
    return set_attr(s,
                    &(eai__attr_t){.name = (char *)name, .type = EAI__A_INT, .i = v, .tensor = -1});
}

eai_status_t eai__tfl_set_float(tfl_t *s, const char *name, float v)
{
    return set_attr(
        s, &(eai__attr_t){.name = (char *)name, .type = EAI__A_FLOAT, .f = v, .tensor = -1});
}

eai_status_t eai__tfl_set_ints(tfl_t *s, const char *name, const int64_t *v, int n)
{
    return set_attr(
        s,
        &(eai__attr_t){
            .name = (char *)name, .type = EAI__A_INTS, .n = n, .ints = (int64_t *)v, .tensor = -1});
}

/* A new constant; data copied. Helpers get a leading \001 so they are not
 * counted as parameters. */
/* A new constant adopting `buf` (eai__alloc_aligned; freed on failure).
 * Helpers get a leading \001 so they are not counted as parameters. */
static eai_status_t adopt_const(tfl_t *s, const char *name, bool helper, eai_dtype_t dt,
                                const eai__shape_t *sh, void *buf, int *v)
{
    char full[600];
    snprintf(full, sizeof full, "%s%.560s", helper ? "\001" : "", name);
    int tmp;
    eai_status_t st = fresh_value(s, full, &tmp);
    if (st != EAI_OK) {
        eai__free_aligned(&s->g->alloc, buf);
        return st;
    }
    return eai__graph_add_const(s->g, s->g->values[tmp].name, dt, sh, buf, v);
}

/* Same with the data copied. */
static eai_status_t new_const(tfl_t *s, const char *name, bool helper, eai_dtype_t dt,
                              const eai__shape_t *sh, const void *data, int *v)
{
    size_t bytes = (size_t)eai__shape_numel(sh) * eai_dtype_size(dt);
    void *buf = eai__alloc_aligned(&s->g->alloc, bytes ? bytes : 1);
    if (!buf) return nomem(s);
    if (bytes) memcpy(buf, data, bytes);
    return adopt_const(s, name, helper, dt, sh, buf, v);
}

static eai_status_t helper_const(tfl_t *s, const char *what, eai_dtype_t dt, const eai__shape_t *sh,
                                 const void *data, int *v)
{
    char base[520], name[560];
    op_base(s, base, sizeof base);
    snprintf(name, sizeof name, "%s#%s", base, what);
    return new_const(s, name, true, dt, sh, data, v);
}

eai_status_t eai__tfl_f32_scalar(tfl_t *s, float x, int *v)
{
    const eai__shape_t sh = {0};
    return helper_const(s, "c", EAI_F32, &sh, &x, v);
}

eai_status_t eai__tfl_i64_const(tfl_t *s, const int64_t *x, int n, int *v)
{
    const eai__shape_t sh = {.rank = 1, .d = {n}};
    return helper_const(s, "c", EAI_I64, &sh, x, v);
}

/* ---- quantization ---- */

bool eai__tfl_is_quant(const tfl_tensor_t *t)
{
    return t->q.n > 0 &&
           (t->dt == EAI_I8 || t->dt == EAI_U8 || t->dt == EAI_I16 || t->dt == EAI_I32);
}

/* Scale and zero-point constants of tensor ti (zero points in its own type,
 * as ONNX QuantizeLinear/DequantizeLinear-13 want them). */
static eai_status_t quant_params(tfl_t *s, int ti, int *scale, int *zp)
{
    const tfl_tensor_t *t = &s->t[ti];
    int64_t lo = t->dt == EAI_I8 ? -128 : t->dt == EAI_U8 ? 0 : INT32_MIN;
    int64_t hi = t->dt == EAI_I8 ? 127 : t->dt == EAI_U8 ? 255 : INT32_MAX;
    if (t->dt == EAI_I16)
        return eai__tfl_op_fail(s, EAI_E_UNSUPPORTED,
                                "tensor %d '%s': 16-bit quantization is not supported", ti,
                                t->name);
    uint8_t zbuf[4 * 256], *zdata = zbuf;
    size_t es = eai_dtype_size(t->dt);
    if ((size_t)t->q.n * es > sizeof zbuf) {
        zdata = eai__alloc(&s->g->alloc, (size_t)t->q.n * es);
        if (!zdata) return nomem(s);
    }
    eai_status_t st = EAI_OK;
    for (int i = 0; i < t->q.n && st == EAI_OK; i++) {
        int64_t z = t->q.zp[i];
        if (z < lo || z > hi) {
            st =
                eai__tfl_op_fail(s, EAI_E_FORMAT, "tensor %d '%s': zero point %lld does not fit %s",
                                 ti, t->name, (long long)z, eai__tfl_type_str(t->type));
            break;
        }
        int8_t z8 = (int8_t)z;
        uint8_t zu8 = (uint8_t)z;
        int32_t z32 = (int32_t)z;
        memcpy(zdata + (size_t)i * es,
               t->dt == EAI_I8   ? (void *)&z8
               : t->dt == EAI_U8 ? (void *)&zu8
                                 : (void *)&z32,
               es);
    }
    eai__shape_t sh = {.rank = t->q.n > 1 ? 1 : 0, .d = {t->q.n}};
    if (st == EAI_OK) st = helper_const(s, "scale", EAI_F32, &sh, t->q.scale, scale);
    if (st == EAI_OK) st = helper_const(s, "zero_point", t->dt, &sh, zdata, zp);
    if (zdata != zbuf) eai__free(&s->g->alloc, zdata);
    return st;
}

/* out = DequantizeLinear(v) with ti's parameters; axis: the IR axis of the
 * quantized dimension. */
static eai_status_t dequantize(tfl_t *s, int ti, int v, int axis, int *out)
{
    int in[3] = {v};
    EAI_TRY(quant_params(s, ti, &in[1], &in[2]));
    EAI_TRY(eai__tfl_emit1(s, "DequantizeLinear", in, 3, out));
    if (s->t[ti].q.n > 1) EAI_TRY(eai__tfl_set_int(s, "axis", axis));
    return EAI_OK;
}

/* ---- tensors as IR values ---- */

static eai_status_t cache_put(tfl_tensor_t *t, const tfl_lay_t *lay, bool deq, int v)
{
    if (t->n_cache < TFL_N_CACHE) { /* beyond that, later uses just emit again */
        t->cache[t->n_cache].lay = *lay;
        t->cache[t->n_cache].deq = deq;
        t->cache[t->n_cache++].v = v;
    }
    return EAI_OK;
}

static int cache_get(const tfl_tensor_t *t, const tfl_lay_t *lay, bool deq)
{
    if (!deq && t->v >= 0 && eai__perm_eq(&t->lay, lay)) return t->v;
    for (int i = 0; i < t->n_cache; i++)
        if (t->cache[i].deq == deq && eai__perm_eq(&t->cache[i].lay, lay)) return t->cache[i].v;
    return -1;
}

static eai_status_t type_check(tfl_t *s, int ti)
{
    const tfl_tensor_t *t = &s->t[ti];
    if (!t->dt)
        return eai__tfl_op_fail(s, EAI_E_UNSUPPORTED, "tensor %d '%s' has type %s: not supported",
                                ti, t->name, eai__tfl_type_str(t->type));
    return EAI_OK;
}

/* The constant of tensor ti in layout `want` (stored type; float16 widened
 * when `real`), then dequantized when `real` and quantized. */
static eai_status_t const_value(tfl_t *s, int ti, const tfl_lay_t *want, bool real, int *v)
{
    tfl_tensor_t *t = &s->t[ti];
    eai__shape_t sh = t->shape;
    size_t es = eai_dtype_size(t->dt);
    size_t n = (size_t)eai__shape_numel(&sh);
    bool widen = real && t->dt == EAI_F16;
    eai_dtype_t dt = widen ? EAI_F32 : t->dt;
    int qaxis = t->q.axis;
    const int *perm = NULL;
    if (!eai__perm_plain(want)) {
        if (sh.rank > want->rank)
            return eai__tfl_op_fail(s, EAI_E_UNSUPPORTED,
                                    "constant tensor %d '%s' has rank %d, more than the %d of its "
                                    "partner",
                                    ti, t->name, sh.rank, want->rank);
        int pad = want->rank - sh.rank; /* broadcasting aligns on the right */
        memmove(sh.d + pad, sh.d, (size_t)sh.rank * sizeof sh.d[0]);
        for (int i = 0; i < pad; i++)
            sh.d[i] = 1;
        sh.rank = want->rank;
        qaxis += pad;
        perm = want->p;
    }
    /* one pass from the file's (possibly unaligned) bytes where possible:
     * permute (memcpy per element) into the result, or into a temporary
     * when float16 is widened afterwards */
    void *out = eai__alloc_aligned(&s->g->alloc, n * eai_dtype_size(dt) + 1);
    void *tmp = perm && widen ? eai__alloc(&s->g->alloc, n * es + 1) : NULL;
    if (!out || (perm && widen && !tmp)) {
        eai__free_aligned(&s->g->alloc, out);
        return nomem(s);
    }
    const void *src = t->data;
    if (perm) {
        eai__permute(src, es, &sh, perm, widen ? tmp : out);
        src = tmp;
        eai__shape_t o = {.rank = sh.rank};
        int new_axis = 0;
        for (int i = 0; i < sh.rank; i++) {
            o.d[i] = sh.d[perm[i]];
            if (perm[i] == qaxis) new_axis = i; /* where the quantized dim went */
        }
        qaxis = new_axis;
        sh = o;
    }
    if (widen) {
        float *f = out;
        for (size_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, (const char *)src + 2 * i, 2);
            f[i] = eai_f16_to_f32(h);
        }
    } else if (!perm) {
        memcpy(out, src, n * es);
    }
    eai__free(&s->g->alloc, tmp);
    const char *nm = t->name[0] ? t->name : "const";
    char name[560];
    snprintf(name, sizeof name, "%.500s%s", nm, eai__perm_plain(want) && !widen ? "" : "#t");
    eai_status_t st = adopt_const(s, name, false, dt, &sh, out, v);
    if (st == EAI_OK && real && eai__tfl_is_quant(t)) st = dequantize(s, ti, *v, qaxis, v);
    return st;
}

/* Activation ti in layout `want`, stored type; `name` for a new Transpose's
 * output (NULL: a helper name). */
static eai_status_t act_in_layout(tfl_t *s, int ti, const tfl_lay_t *want, const char *name, int *v)
{
    tfl_tensor_t *t = &s->t[ti];
    int got = cache_get(t, want, false);
    if (got >= 0) {
        *v = got;
        return EAI_OK;
    }
    int r = eai__perm_plain(want) ? t->lay.rank : want->rank;
    if (r != t->shape.rank && !(eai__perm_plain(want) && eai__perm_plain(&t->lay)))
        return eai__tfl_op_fail(s, EAI_E_UNSUPPORTED,
                                "tensor %d '%s' (rank %d) is needed in a rank-%d layout", ti,
                                t->name, t->shape.rank, r);
    int linv[EAI_MAX_RANK];
    int64_t q[EAI_MAX_RANK];
    for (int i = 0; i < r; i++)
        linv[eai__perm_plain(&t->lay) ? i : t->lay.p[i]] = i;
    for (int i = 0; i < r; i++)
        q[i] = linv[eai__perm_plain(want) ? i : want->p[i]];
    int out;
    if (name)
        EAI_TRY(fresh_value(s, name, &out));
    else
        EAI_TRY(eai__tfl_new_act(s, "transpose", &out));
    EAI_TRY(eai__tfl_emit(s, "Transpose", &t->v, 1, &out, 1));
    EAI_TRY(eai__tfl_set_ints(s, "perm", q, r));
    *v = out;
    return cache_put(t, want, false, out);
}

eai_status_t eai__tfl_tensor_value(tfl_t *s, int ti, const tfl_lay_t *lay, bool real, int *v)
{
    tfl_lay_t want = lay ? *lay : (tfl_lay_t){0};
    eai__perm_norm(&want);
    tfl_tensor_t *t = &s->t[ti];
    EAI_TRY(type_check(s, ti));
    bool deq = real && (eai__tfl_is_quant(t) || t->dt == EAI_F16);
    int got = cache_get(t, &want, deq);
    if (got >= 0) {
        *v = got;
        return EAI_OK;
    }
    if (t->v < 0) { /* import-time data */
        if (EAI_NEVER(!t->data))
            return eai__tfl_op_fail(s, EAI_E_FORMAT, "tensor %d has no value", ti);
        EAI_TRY(const_value(s, ti, &want, real, v));
        return cache_put(t, &want, deq, *v);
    }
    int x;
    EAI_TRY(act_in_layout(s, ti, &want, NULL, &x));
    if (!deq) {
        *v = x;
        return EAI_OK;
    }
    if (t->dt == EAI_F16) {
        EAI_TRY(eai__tfl_emit1(s, "Cast", &x, 1, v));
        EAI_TRY(eai__tfl_set_int(s, "to", EAI_F32));
    } else {
        if (t->q.n > 1)
            return eai__tfl_op_fail(s, EAI_E_UNSUPPORTED,
                                    "tensor %d '%s' is computed but quantized per channel", ti,
                                    t->name);
        EAI_TRY(dequantize(s, ti, x, 0, v));
    }
    return cache_put(t, &want, deq, *v);
}

eai_status_t eai__tfl_in_tensor(tfl_t *s, int k, tfl_tensor_t **t)
{
    int ti = tfl_in_index(s, k);
    if (ti < 0) return eai__tfl_op_fail(s, EAI_E_FORMAT, "input %d is required", k);
    *t = &s->t[ti];
    return EAI_OK;
}

eai_status_t eai__tfl_in_value(tfl_t *s, int k, const tfl_lay_t *lay, bool real, int *v)
{
    tfl_tensor_t *t = NULL;
    EAI_TRY(eai__tfl_in_tensor(s, k, &t));
    return eai__tfl_tensor_value(s, (int)(t - s->t), lay, real, v);
}

eai_status_t eai__tfl_in_ints(tfl_t *s, int k, int64_t *v, int cap, int *n)
{
    tfl_tensor_t *t = NULL;
    EAI_TRY(eai__tfl_in_tensor(s, k, &t));
    if (!t->data || t->v >= 0)
        return eai__tfl_op_fail(s, EAI_E_UNSUPPORTED,
                                "input %d (tensor '%s') must be a constant for the TFLite importer",
                                k, t->name);
    if (t->dt != EAI_I32 && t->dt != EAI_I64)
        return eai__tfl_op_fail(s, EAI_E_FORMAT,
                                "input %d (tensor '%s') must hold integers, not %s", k, t->name,
                                eai__tfl_type_str(t->type));
    int64_t numel = eai__shape_numel(&t->shape);
    if (numel > cap)
        return eai__tfl_op_fail(s, EAI_E_UNSUPPORTED, "input %d has %lld values, at most %d", k,
                                (long long)numel, cap);
    for (int64_t i = 0; i < numel; i++) {
        if (t->dt == EAI_I32) {
            int32_t x;
            memcpy(&x, t->data + 4 * i, 4);
            v[i] = x;
        } else {
            memcpy(&v[i], t->data + 8 * i, 8);
        }
    }
    *n = (int)numel;
    return EAI_OK;
}

/* ---- operator outputs ---- */

static eai_status_t record(tfl_t *s, int ti, int v, const tfl_lay_t *lay)
{
    tfl_tensor_t *t = &s->t[ti];
    t->v = v;
    t->lay = lay ? *lay : (tfl_lay_t){0};
    eai__perm_norm(&t->lay);
    if (t->lay.rank && t->lay.rank != t->shape.rank)
        return eai__tfl_op_fail(s, EAI_E_FORMAT,
                                "output tensor %d '%s' has rank %d, the operator gives rank %d", ti,
                                t->name, t->shape.rank, t->lay.rank);
    return EAI_OK;
}

/* The name tensor ti's own IR value gets: the tensor's name unless it is a
 * graph output held in another layout (the plain copy takes the name). */
static void out_name(const tfl_t *s, int ti, const tfl_lay_t *lay, char *buf, size_t cap)
{
    const tfl_tensor_t *t = &s->t[ti];
    const char *n = t->name[0] ? t->name : "t";
    tfl_lay_t l = lay ? *lay : (tfl_lay_t){0};
    eai__perm_norm(&l);
    bool plain = eai__perm_plain(&l);
    snprintf(buf, cap, "%.500s%s", n, t->is_output && !plain ? "#nchw" : "");
}

eai_status_t eai__tfl_set_out(tfl_t *s, int k, int v, const tfl_lay_t *lay)
{
    int ti = s->out[k];
    tfl_tensor_t *t = &s->t[ti];
    EAI_TRY(type_check(s, ti));
    char name[520];
    out_name(s, ti, lay, name, sizeof name);
    int out;
    if (eai__tfl_is_quant(t)) {
        if (t->q.n != 1 || t->q.scale[0] <= 0)
            return eai__tfl_op_fail(s, EAI_E_UNSUPPORTED,
                                    "output %d '%s' needs one positive scale to quantize to, "
                                    "not %d (first %g)",
                                    k, t->name, t->q.n, (double)t->q.scale[0]);
        int in[3] = {v};
        EAI_TRY(quant_params(s, ti, &in[1], &in[2]));
        EAI_TRY(fresh_value(s, name, &out));
        EAI_TRY(eai__tfl_emit(s, "QuantizeLinear", in, 3, &out, 1));
    } else if (t->dt == EAI_F16) {
        EAI_TRY(fresh_value(s, name, &out));
        EAI_TRY(eai__tfl_emit(s, "Cast", &v, 1, &out, 1));
        EAI_TRY(eai__tfl_set_int(s, "to", EAI_F16));
    } else {
        out = v;
    }
    return record(s, ti, out, lay);
}

eai_status_t eai__tfl_alias_out(tfl_t *s, int k, int v, const tfl_lay_t *lay)
{
    EAI_TRY(type_check(s, s->out[k]));
    return record(s, s->out[k], v, lay);
}

eai_status_t eai__tfl_const_out(tfl_t *s, int k, void *data)
{
    tfl_tensor_t *t = &s->t[s->out[k]];
    t->data = data;
    t->owned = true;
    return EAI_OK;
}

/* ---- graph inputs and outputs ---- */

static eai_status_t append(tfl_t *s, int **list, int *n, int v)
{
    int *l = eai__realloc(&s->g->alloc, *list, (size_t)(*n + 1) * sizeof(int));
    if (!l) return nomem(s);
    *list = l;
    l[(*n)++] = v;
    return EAI_OK;
}

eai_status_t eai__tfl_add_input(tfl_t *s, int ti)
{
    tfl_tensor_t *t = &s->t[ti];
    if (t->producer == -2)
        return eai_fail(EAI_E_FORMAT, "%s: tensor %d '%s' is listed twice as an input", s->label,
                        ti, t->name);
    if (t->data)
        return eai_fail(EAI_E_FORMAT, "%s: input tensor %d '%s' is a constant", s->label, ti,
                        t->name);
    if (!t->dt)
        return eai_fail(EAI_E_UNSUPPORTED, "%s: input tensor %d '%s' has type %s: not supported",
                        s->label, ti, t->name, eai__tfl_type_str(t->type));
    int v;
    EAI_TRY(fresh_value(s, t->name[0] ? t->name : "input", &v));
    eai__value_t *val = &s->g->values[v];
    val->kind = EAI__V_INPUT;
    val->dtype = t->dt;
    val->shape = t->shape;
    EAI_TRY(append(s, &s->g->inputs, &s->g->n_inputs, v));
    t->producer = -2;
    t->v = v;
    t->lay.rank = 0;
    return EAI_OK;
}

eai_status_t eai__tfl_add_output(tfl_t *s, int ti)
{
    tfl_tensor_t *t = &s->t[ti];
    const tfl_lay_t plain = {0};
    s->op = -1;
    s->op_name = "outputs";
    s->n_out = 0;
    EAI_TRY(type_check(s, ti));
    const char *want = t->name[0] ? t->name : "output";
    int v = -1;
    if (t->v >= 0 && !eai__perm_plain(&t->lay) && cache_get(t, &plain, false) < 0)
        EAI_TRY(act_in_layout(s, ti, &plain, want, &v));
    else
        EAI_TRY(eai__tfl_tensor_value(s, ti, NULL, false, &v));
    eai__value_t *val = &s->g->values[v];
    bool taken = false;
    for (int j = 0; j < s->g->n_outputs; j++)
        taken |= s->g->outputs[j] == v;
    if (val->kind != EAI__V_ACT || taken || strcmp(val->name, want) != 0) {
        /* a copy under the tensor's name (an input or constant as output, a
         * tensor listed twice, a name used by another tensor) */
        int src = v;
        EAI_TRY(fresh_value(s, want, &v));
        EAI_TRY(eai__tfl_emit(s, "Identity", &src, 1, &v, 1));
    }
    EAI_TRY(append(s, &s->g->outputs, &s->g->n_outputs, v));
    s->g->values[v].is_output = true;
    return EAI_OK;
}

void eai__tfl_free_tensors(tfl_t *s)
{
    if (!s->t) return;
    for (int i = 0; i < s->n_tensors; i++) {
        tfl_tensor_t *t = &s->t[i];
        eai__free(&s->g->alloc, t->q.scale);
        eai__free(&s->g->alloc, t->q.zp);
        if (t->owned) eai__free(&s->g->alloc, (void *)t->data);
    }
}
