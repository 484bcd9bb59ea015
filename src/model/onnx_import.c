/* ONNX ModelProto -> graph IR, through the protobuf-c code generated at build
 * time from the system's onnx.proto. The decoder is protobuf-c's; this file
 * checks what the schema cannot say (sizes agree, names resolve, dims sane)
 * and turns Constant nodes and attribute tensors into CONST values. */
#include <stdio.h>

#include "model/graph.h"
#include "onnx/onnx.pb-c.h"

/* Opsets whose operator semantics edgeai implements (tested: 11-17). */
#define OPSET_MIN 7
#define OPSET_MAX 18

/* protobuf-c reports every failure as NULL; remember whether it was memory. */
typedef struct pb_ctx {
    const eai_allocator_t *alloc;
    bool oom;
} pb_ctx_t;

static void *pb_alloc(void *ctx, size_t n)
{
    pb_ctx_t *c = ctx;
    void *p = eai__alloc(c->alloc, n);
    if (!p) c->oom = true;
    return p;
}
static void pb_free(void *ctx, void *p)
{
    eai__free(((pb_ctx_t *)ctx)->alloc, p);
}

static eai_status_t tensor_from_proto(const eai_allocator_t *a, const char *label,
                                      const Onnx__TensorProto *t, const char *what,
                                      eai_dtype_t *dtype, eai__shape_t *shape, void **data)
{
    if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return eai_fail(EAI_E_UNSUPPORTED,
                        "%s: %s: tensor data stored in an external file is not supported", label,
                        what);
    eai_dtype_t dt = (eai_dtype_t)t->data_type;
    size_t esize = eai_dtype_size(dt);
    if (!t->has_data_type || esize == 0)
        return eai_fail(EAI_E_UNSUPPORTED, "%s: %s: tensor element type %d is not supported", label,
                        what, (int)t->data_type);
    if (t->n_dims > EAI_MAX_RANK)
        return eai_fail(EAI_E_UNSUPPORTED, "%s: %s: rank %zu exceeds the maximum of %d", label,
                        what, t->n_dims, EAI_MAX_RANK);
    eai__shape_t s = {.rank = (int)t->n_dims};
    int64_t numel = 1;
    for (size_t i = 0; i < t->n_dims; i++) {
        if (t->dims[i] < 0)
            return eai_fail(EAI_E_FORMAT, "%s: %s: negative dimension %lld", label, what,
                            (long long)t->dims[i]);
        s.d[i] = t->dims[i];
        if (!eai__mul_ok(numel, t->dims[i], &numel) ||
            numel > EAI_MAX_TENSOR_BYTES / (int64_t)esize)
            return eai_fail(EAI_E_FORMAT, "%s: %s: element count overflows", label, what);
    }
    /* count what the file carries before allocating what the dims claim, so
     * a 1 KB file cannot ask for gigabytes */
    size_t have;
    if (t->has_raw_data)
        have = t->raw_data.len % esize ? SIZE_MAX : t->raw_data.len / esize;
    else if (dt == EAI_F32)
        have = t->n_float_data;
    else if (dt == EAI_I64)
        have = t->n_int64_data;
    else if (dt == EAI_F64)
        have = t->n_double_data;
    else /* int32, int16, int8, uint16, uint8, bool, float16 go in int32_data */
        have = t->n_int32_data;
    if (have != (size_t)numel) {
        if (have == SIZE_MAX)
            return eai_fail(EAI_E_FORMAT,
                            "%s: %s: raw_data of %zu bytes is not a whole number "
                            "of %zu-byte elements",
                            label, what, t->raw_data.len, esize);
        return eai_fail(EAI_E_FORMAT, "%s: %s: holds %zu elements, its shape needs %lld", label,
                        what, have, (long long)numel);
    }
    size_t bytes = (size_t)numel * esize;
    void *buf = eai__alloc_aligned(a, bytes ? bytes : 1);
    if (!buf)
        return eai_fail(EAI_E_NOMEM, "%s: %s: out of memory for %zu bytes", label, what, bytes);
    if (t->has_raw_data) {
        /* raw_data is little-endian: the host's order on every target we build for */
        if (bytes) memcpy(buf, t->raw_data.data, bytes);
    } else if (dt == EAI_F32) {
        if (bytes) memcpy(buf, t->float_data, bytes);
    } else if (dt == EAI_I64) {
        if (bytes) memcpy(buf, t->int64_data, bytes);
    } else if (dt == EAI_F64) {
        if (bytes) memcpy(buf, t->double_data, bytes);
    } else {
        for (int64_t i = 0; i < numel; i++) {
            int32_t v = t->int32_data[i];
            switch (esize) {
            case 1:
                ((uint8_t *)buf)[i] = (uint8_t)v;
                break;
            case 2:
                ((uint16_t *)buf)[i] = (uint16_t)v;
                break;
            default:
                ((int32_t *)buf)[i] = v;
                break;
            }
        }
    }
    *dtype = dt;
    *shape = s;
    *data = buf;
    return EAI_OK;
}

eai_status_t eai__onnx_tensor_decode(const eai_allocator_t *a, const void *buf, size_t n,
                                     const char *label, eai_dtype_t *dtype, eai__shape_t *shape,
                                     void **data)
{
    pb_ctx_t ctx = {a, false};
    ProtobufCAllocator pa = {pb_alloc, pb_free, &ctx};
    Onnx__TensorProto *t = onnx__tensor_proto__unpack(&pa, n, buf);
    if (!t && ctx.oom) return eai_fail(EAI_E_NOMEM, "%s: out of memory decoding a tensor", label);
    if (!t) return eai_fail(EAI_E_FORMAT, "%s: not a valid ONNX TensorProto", label);
    eai_status_t st = tensor_from_proto(a, label, t, "tensor", dtype, shape, data);
    onnx__tensor_proto__free_unpacked(t, &pa);
    return st;
}

static eai_status_t add_tensor(eai__graph_t *g, const char *name, const Onnx__TensorProto *t,
                               const char *what, int *out)
{
    eai_dtype_t dt;
    eai__shape_t s;
    void *data;
    EAI_TRY(tensor_from_proto(&g->alloc, g->label, t, what, &dt, &s, &data));
    return eai__graph_add_const(g, name, dt, &s, data, out);
}

static eai_status_t add_input(eai__graph_t *g, const Onnx__ValueInfoProto *vi)
{
    if (!vi->name || !vi->name[0] || vi->name[0] == '\001')
        return eai_fail(EAI_E_FORMAT, "%s: a graph input has no name or a reserved one", g->label);
    int idx = eai__strmap_get(&g->names, vi->name);
    if (idx >= 0 && g->values[idx].kind == EAI__V_CONST)
        return EAI_OK; /* input with an initializer: a constant (IR < 4 style) */
    if (idx >= 0)
        return eai_fail(EAI_E_FORMAT, "%s: graph input '%s' is listed twice", g->label, vi->name);
    const Onnx__TypeProto *tp = vi->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
        return eai_fail(EAI_E_UNSUPPORTED, "%s: graph input '%s' is not a tensor", g->label,
                        vi->name);
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    eai_dtype_t dt = (eai_dtype_t)tt->elem_type;
    if (eai_dtype_size(dt) == 0)
        return eai_fail(EAI_E_UNSUPPORTED, "%s: graph input '%s' has unsupported element type %d",
                        g->label, vi->name, (int)tt->elem_type);
    if (!tt->shape)
        return eai_fail(EAI_E_UNSUPPORTED, "%s: graph input '%s' has no shape", g->label, vi->name);
    if (tt->shape->n_dim > EAI_MAX_RANK)
        return eai_fail(EAI_E_UNSUPPORTED, "%s: graph input '%s' has rank %zu, at most %d",
                        g->label, vi->name, tt->shape->n_dim, EAI_MAX_RANK);
    EAI_TRY(eai__graph_value(g, vi->name, &idx));
    eai__value_t *v = &g->values[idx];
    v->kind = EAI__V_INPUT;
    v->dtype = dt;
    v->shape.rank = (int)tt->shape->n_dim;
    for (size_t i = 0; i < tt->shape->n_dim; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
            d->dim_value >= 0) {
            v->shape.d[i] = d->dim_value;
        } else {
            v->shape.d[i] = -1;
            const char *sym = d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                                  ? d->dim_param
                                  : "?";
            v->sym[i] = eai__strdup(&g->alloc, sym ? sym : "?");
            if (!v->sym[i]) return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
        }
    }
    int *ins = eai__realloc(&g->alloc, g->inputs, (size_t)(g->n_inputs + 1) * sizeof(int));
    if (!ins) return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    g->inputs = ins;
    g->inputs[g->n_inputs++] = idx;
    return EAI_OK;
}

/* Constant (opset 1-13): exactly one of value, value_float(s), value_int(s). */
static eai_status_t add_constant_node(eai__graph_t *g, int index, const Onnx__NodeProto *np)
{
    if (np->n_output != 1 || !np->output[0][0])
        return eai_fail(EAI_E_FORMAT, "%s: node %d '%s' (Constant): needs one output", g->label,
                        index, np->name ? np->name : "");
    const char *out = np->output[0];
    if (eai__strmap_get(&g->names, out) >= 0)
        return eai_fail(EAI_E_FORMAT, "%s: node %d (Constant): output '%s' is already defined",
                        g->label, index, out);
    if (np->n_attribute != 1)
        return eai_fail(EAI_E_FORMAT, "%s: node %d (Constant): needs exactly one attribute",
                        g->label, index);
    const Onnx__AttributeProto *at = np->attribute[0];
    const char *aname = at->name ? at->name : "";
    int v;
    char what[160];
    snprintf(what, sizeof what, "node %d (Constant) '%s'", index, out);
    if (strcmp(aname, "value") == 0 && at->t) return add_tensor(g, out, at->t, what, &v);
    eai__shape_t s = {0};
    eai_dtype_t dt;
    size_t n = 1;
    const void *src;
    if (strcmp(aname, "value_float") == 0) {
        dt = EAI_F32;
        src = &at->f;
    } else if (strcmp(aname, "value_int") == 0) {
        dt = EAI_I64;
        src = &at->i;
    } else if (strcmp(aname, "value_floats") == 0) {
        dt = EAI_F32;
        s.rank = 1;
        s.d[0] = (int64_t)at->n_floats;
        n = at->n_floats;
        src = at->floats;
    } else if (strcmp(aname, "value_ints") == 0) {
        dt = EAI_I64;
        s.rank = 1;
        s.d[0] = (int64_t)at->n_ints;
        n = at->n_ints;
        src = at->ints;
    } else {
        return eai_fail(EAI_E_UNSUPPORTED, "%s: node %d (Constant): attribute '%s' not supported",
                        g->label, index, aname);
    }
    void *buf = eai__alloc_aligned(&g->alloc, n * eai_dtype_size(dt) + 1);
    if (!buf) return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    if (n) memcpy(buf, src, n * eai_dtype_size(dt));
    return eai__graph_add_const(g, out, dt, &s, buf, &v);
}

static eai_status_t add_node(eai__graph_t *g, int index, const Onnx__NodeProto *np)
{
    const char *name = np->name ? np->name : "";
    if (!np->op_type || !np->op_type[0])
        return eai_fail(EAI_E_FORMAT, "%s: node %d '%s' has no op_type", g->label, index, name);
    if ((!np->domain || !np->domain[0] || strcmp(np->domain, "ai.onnx") == 0) &&
        strcmp(np->op_type, "Constant") == 0)
        return add_constant_node(g, index, np);
    if (np->n_input > 64 || np->n_output > 64)
        return eai_fail(EAI_E_UNSUPPORTED, "%s: node %d '%s' (%s): more than 64 inputs or outputs",
                        g->label, index, name, np->op_type);
    int in[64], out[64];
    for (size_t i = 0; i < np->n_input + np->n_output; i++) {
        const char *vn = i < np->n_input ? np->input[i] : np->output[i - np->n_input];
        if (vn[0] == '\001') /* reserved for attribute tensors */
            return eai_fail(EAI_E_FORMAT, "%s: node %d '%s' (%s): value name starts with byte 1",
                            g->label, index, name, np->op_type);
    }
    for (size_t i = 0; i < np->n_input; i++) {
        in[i] = -1;
        if (np->input[i][0]) EAI_TRY(eai__graph_value(g, np->input[i], &in[i]));
    }
    for (size_t i = 0; i < np->n_output; i++) {
        out[i] = -1;
        if (np->output[i][0]) EAI_TRY(eai__graph_value(g, np->output[i], &out[i]));
    }
    EAI_TRY(eai__graph_add_node(g, name, np->op_type, np->domain, in, (int)np->n_input, out,
                                (int)np->n_output, NULL));
    int ni = g->n_nodes - 1;
    for (size_t k = 0; k < np->n_attribute; k++) {
        const Onnx__AttributeProto *ap = np->attribute[k];
        eai__attr_t a = {.name = ap->name ? ap->name : "", .tensor = -1};
        char sbuf[1024];
        switch (ap->type) {
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
            a.type = EAI__A_FLOAT;
            a.f = ap->f;
            break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
            a.type = EAI__A_INT;
            a.i = ap->i;
            break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: {
            a.type = EAI__A_STRING;
            size_t n = ap->s.len < sizeof sbuf - 1 ? ap->s.len : sizeof sbuf - 1;
            if (n) memcpy(sbuf, ap->s.data, n);
            sbuf[n] = '\0';
            a.s = sbuf;
            break;
        }
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
            a.type = EAI__A_FLOATS;
            a.n = (int)ap->n_floats;
            a.floats = ap->floats;
            break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
            a.type = EAI__A_INTS;
            a.n = (int)ap->n_ints;
            a.ints = ap->ints;
            break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: {
            if (!ap->t)
                return eai_fail(EAI_E_FORMAT, "%s: node %d '%s' (%s): attribute '%s' has no tensor",
                                g->label, index, name, np->op_type, a.name);
            /* a name no file can collide with: values only grow, so the
             * count is unique; names from the file never start with \001 */
            char vname[64];
            snprintf(vname, sizeof vname, "\001attr/%d", g->n_values);
            if (eai__strmap_get(&g->names, vname) >= 0)
                return eai_fail(EAI_E_FORMAT, "%s: node %d '%s' (%s): value name clash", g->label,
                                index, name, np->op_type);
            char what[160];
            snprintf(what, sizeof what, "node %d (%s) attribute '%s'", index, np->op_type, a.name);
            a.type = EAI__A_TENSOR;
            EAI_TRY(add_tensor(g, vname, ap->t, what, &a.tensor));
            break;
        }
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS:
            a.type = EAI__A_STRINGS;
            a.n = (int)ap->n_strings;
            break;
        default:
            a.type = EAI__A_OTHER;
            break;
        }
        EAI_TRY(eai__node_add_attr(g, ni, &a));
    }
    return EAI_OK;
}

static eai_status_t import_model(eai__graph_t *g, const Onnx__ModelProto *mp)
{
    if (!mp->graph) return eai_fail(EAI_E_FORMAT, "%s: the model has no graph", g->label);
    g->opset = -1;
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *os = mp->opset_import[i];
        if (!os->domain || !os->domain[0] || strcmp(os->domain, "ai.onnx") == 0)
            g->opset = (int)os->version;
    }
    if (g->opset < 0) {
        if (mp->n_opset_import) /* e.g. only ai.onnx.preview.training */
            return eai_fail(
                EAI_E_UNSUPPORTED, "%s: imports no opset of the default ONNX domain (first: '%s')",
                g->label, mp->opset_import[0]->domain ? mp->opset_import[0]->domain : "");
        g->opset = 1; /* IR v1-2 models without opset_import */
    }
    if (g->opset < OPSET_MIN || g->opset > OPSET_MAX)
        return eai_fail(EAI_E_UNSUPPORTED, "%s: opset %d is not supported (edgeai runs %d-%d)",
                        g->label, g->opset, OPSET_MIN, OPSET_MAX);
    if (mp->producer_name) {
        char *p = eai__strdup(&g->alloc, mp->producer_name);
        if (!p) return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
        eai__free(&g->alloc, g->producer);
        g->producer = p;
    }
    const Onnx__GraphProto *gp = mp->graph;
    if (!gp) return eai_fail(EAI_E_FORMAT, "%s: the model has no graph", g->label);
    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *t = gp->initializer[i];
        if (!t->name || !t->name[0])
            return eai_fail(EAI_E_FORMAT, "%s: initializer %zu has no name", g->label, i);
        char what[300];
        snprintf(what, sizeof what, "initializer '%.200s'", t->name);
        int v;
        EAI_TRY(add_tensor(g, t->name, t, what, &v));
    }
    if (gp->n_sparse_initializer)
        return eai_fail(EAI_E_UNSUPPORTED, "%s: sparse initializers are not supported", g->label);
    for (size_t i = 0; i < gp->n_input; i++)
        EAI_TRY(add_input(g, gp->input[i]));
    for (size_t i = 0; i < gp->n_node; i++)
        EAI_TRY(add_node(g, (int)i, gp->node[i]));
    if (gp->n_output == 0) return eai_fail(EAI_E_FORMAT, "%s: the graph has no outputs", g->label);
    g->outputs = eai__calloc(&g->alloc, gp->n_output, sizeof(int));
    if (!g->outputs) return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    for (size_t i = 0; i < gp->n_output; i++) {
        const char *name = gp->output[i]->name;
        int v = name ? eai__strmap_get(&g->names, name) : -1;
        if (v < 0)
            return eai_fail(EAI_E_FORMAT, "%s: graph output '%s' is not produced by any node",
                            g->label, name ? name : "");
        g->outputs[g->n_outputs++] = v;
        g->values[v].is_output = true;
    }
    return eai__graph_finish(g);
}

eai_status_t eai__onnx_import(eai__graph_t *g, const void *data, size_t n_bytes)
{
    pb_ctx_t ctx = {&g->alloc, false};
    ProtobufCAllocator pa = {pb_alloc, pb_free, &ctx};
    Onnx__ModelProto *mp = onnx__model_proto__unpack(&pa, n_bytes, data);
    if (!mp && ctx.oom)
        return eai_fail(EAI_E_NOMEM, "%s: out of memory decoding the model", g->label);
    if (!mp)
        return eai_fail(EAI_E_FORMAT, "%s: not a valid ONNX model (protobuf decoding failed)",
                        g->label);
    eai_status_t st = import_model(g, mp);
    onnx__model_proto__free_unpacked(mp, &pa);
    return st;
}
