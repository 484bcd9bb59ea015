/* TFLite flatbuffer (.tflite) -> graph IR. Reads the Model table of
 * tensorflow/lite/schema/schema.fbs (version 3) through the bounds-checked
 * reader in tflite_fb.c: operator codes, buffers, subgraph 0's tensors
 * (shape, type, buffer, quantization), inputs, outputs and operators, which
 * the file already lists in execution order. Every index is range-checked
 * and every buffer's size is checked against its tensor's shape and type
 * before anything is mapped; tflite_ops.c then maps operator by operator.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "model/tflite_impl.h"

/* BuiltinOperator codes 0..161, for messages. */
/* clang-format off */
static const char *const op_names[] = {
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE",
    "DEQUANTIZE", "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED", "HASHTABLE_LOOKUP",
    "L2_NORMALIZATION", "L2_POOL_2D", "LOCAL_RESPONSE_NORMALIZATION", "LOGISTIC", "LSH_PROJECTION",
    "LSTM", "MAX_POOL_2D", "MUL", "RELU", "RELU_N1_TO_1", "RELU6", "RESHAPE", "RESIZE_BILINEAR",
    "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF", "TANH", "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL",
    "CUSTOM", "EMBEDDING_LOOKUP_SPARSE", "PAD", "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER",
    "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB", "DIV", "SQUEEZE",
    "UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP",
    "TOPK_V2", "SPLIT", "LOG_SOFTMAX", "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU",
    "MAXIMUM", "ARG_MAX", "MINIMUM", "LESS", "NEG", "PADV2", "GREATER", "GREATER_EQUAL",
    "LESS_EQUAL", "SELECT", "SLICE", "SIN", "TRANSPOSE_CONV", "SPARSE_TO_DENSE", "TILE",
    "EXPAND_DIMS", "EQUAL", "NOT_EQUAL", "LOG", "SUM", "SQRT", "RSQRT", "SHAPE", "POW", "ARG_MIN",
    "FAKE_QUANT", "REDUCE_PROD", "REDUCE_MAX", "PACK", "LOGICAL_OR", "ONE_HOT", "LOGICAL_AND",
    "LOGICAL_NOT", "UNPACK", "REDUCE_MIN", "FLOOR_DIV", "REDUCE_ANY", "SQUARE", "ZEROS_LIKE",
    "FILL", "FLOOR_MOD", "RANGE", "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE",
    "MIRROR_PAD", "ABS", "SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2", "ADD_N", "GATHER_ND", "COS",
    "WHERE", "RANK", "ELU", "REVERSE_SEQUENCE", "MATRIX_DIAG", "QUANTIZE", "MATRIX_SET_DIAG",
    "ROUND", "HARD_SWISH", "IF", "WHILE", "NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5",
    "SCATTER_ND", "SELECT_V2", "DENSIFY", "SEGMENT_SUM", "BATCH_MATMUL",
    "PLACEHOLDER_FOR_GREATER_OP_CODES", "CUMSUM", "CALL_ONCE", "BROADCAST_TO", "RFFT2D", "CONV_3D",
    "IMAG", "REAL", "COMPLEX_ABS", "HASHTABLE", "HASHTABLE_FIND", "HASHTABLE_IMPORT",
    "HASHTABLE_SIZE", "REDUCE_ALL", "CONV_3D_TRANSPOSE", "VAR_HANDLE", "READ_VARIABLE",
    "ASSIGN_VARIABLE", "BROADCAST_ARGS", "RANDOM_STANDARD_NORMAL", "BUCKETIZE", "RANDOM_UNIFORM",
    "MULTINOMIAL", "GELU", "DYNAMIC_UPDATE_SLICE", "RELU_0_TO_1", "UNSORTED_SEGMENT_PROD",
    "UNSORTED_SEGMENT_MAX", "UNSORTED_SEGMENT_SUM", "ATAN2", "UNSORTED_SEGMENT_MIN", "SIGN",
    "BITCAST", "BITWISE_XOR", "RIGHT_SHIFT",
};
/* clang-format on */

const char *eai__tfl_op_str(int code)
{
    return code >= 0 && code < (int)(sizeof op_names / sizeof op_names[0]) ? op_names[code] : NULL;
}

const char *eai__tfl_type_str(int type)
{
    static const char *const names[] = {
        "FLOAT32", "FLOAT16",  "INT32",     "UINT8",  "INT64",   "STRING",
        "BOOL",    "INT16",    "COMPLEX64", "INT8",   "FLOAT64", "COMPLEX128",
        "UINT64",  "RESOURCE", "VARIANT",   "UINT32", "UINT16",  "INT4",
    };
    return type >= 0 && type < (int)(sizeof names / sizeof names[0]) ? names[type] : "unknown";
}

/* TensorType -> IR dtype; UNDEFINED for types the runtime does not hold. */
static eai_dtype_t dtype_of(int type)
{
    switch (type) {
    case 0:
        return EAI_F32;
    case 1:
        return EAI_F16;
    case 2:
        return EAI_I32;
    case 3:
        return EAI_U8;
    case 4:
        return EAI_I64;
    case 6:
        return EAI_BOOL;
    case 7:
        return EAI_I16;
    case 9:
        return EAI_I8;
    case 10:
        return EAI_F64;
    case 16:
        return EAI_U16;
    default:
        return EAI_DTYPE_UNDEFINED;
    }
}

/* Limits on counts, far above real models, so a small file cannot make the
 * importer allocate gigabytes for aliased offsets. */
#define MAX_TENSORS   (1 << 20)
#define MAX_OPERATORS (1 << 20)
#define MAX_BUFFERS   (1 << 20)
#define MAX_CODES     (1 << 16)

eai_status_t eai__tfl_op_fail(const tfl_t *s, eai_status_t st, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (s->op < 0) /* making the graph outputs */
        return eai_fail(st, "%s: %s: %s", s->label, s->op_name, msg);
    return eai_fail(st, "%s: operator %d (%s): %s", s->label, s->op, s->op_name, msg);
}

/* A flatbuffer read failed: the context, then the reader's reason. */
static eai_status_t fb_fail(const tfl_t *s, const char *fmt, ...) EAI_PRINTF(2, 3);

static eai_status_t fb_fail(const tfl_t *s, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return eai_fail(EAI_E_FORMAT, "%s: %s: %s", s->label, what, s->fb.why);
}

static eai_status_t nomem(const tfl_t *s)
{
    return eai_fail(EAI_E_NOMEM, "%s: out of memory", s->label);
}

static bool rd_u8(tfl_t *s, const tfl_table_t *t, int idx, uint8_t def, uint8_t *out)
{
    return eai__tfl_fb_scalar(&s->fb, t, idx, 1, &def, out);
}

static bool rd_i32(tfl_t *s, const tfl_table_t *t, int idx, int32_t def, int32_t *out)
{
    return eai__tfl_fb_scalar(&s->fb, t, idx, 4, &def, out);
}

static bool rd_u64(tfl_t *s, const tfl_table_t *t, int idx, uint64_t *out)
{
    const uint64_t def = 0;
    return eai__tfl_fb_scalar(&s->fb, t, idx, 8, &def, out);
}

/* A vector of tables with at most `max` entries. */
static eai_status_t table_vec(tfl_t *s, const tfl_table_t *t, int idx, uint32_t max,
                              const char *what, tfl_vec_t *v)
{
    if (!eai__tfl_fb_vec(&s->fb, t, idx, 4, v)) return fb_fail(s, "%s", what);
    if (v->n > max)
        return eai_fail(EAI_E_UNSUPPORTED, "%s: %u %s, more than the %u edgeai reads", s->label,
                        v->n, what, max);
    return EAI_OK;
}

static eai_status_t read_codes(tfl_t *s, const tfl_table_t *model)
{
    tfl_vec_t v;
    EAI_TRY(table_vec(s, model, 1, MAX_CODES, "operator_codes", &v));
    s->codes = eai__calloc(&s->g->alloc, v.n ? v.n : 1, sizeof *s->codes);
    if (!s->codes) return nomem(s);
    s->n_codes = (int)v.n;
    for (uint32_t i = 0; i < v.n; i++) {
        tfl_table_t c;
        int8_t dep;
        const int8_t zero = 0;
        int32_t code;
        const char *custom;
        uint32_t len;
        if (!eai__tfl_fb_vec_table(&s->fb, &v, i, &c) ||
            !eai__tfl_fb_scalar(&s->fb, &c, 0, 1, &zero, &dep) ||
            !eai__tfl_fb_str(&s->fb, &c, 1, &custom, &len) || !rd_i32(s, &c, 3, 0, &code))
            return fb_fail(s, "operator code %u", i);
        /* Old writers fill only deprecated_builtin_code; new ones put
         * min(code, 127) there and the real code in builtin_code. */
        if (dep > code) code = dep;
        s->codes[i] = code == 32 /* CUSTOM */ ? -1 : code;
    }
    return EAI_OK;
}

static eai_status_t read_buffers(tfl_t *s, const tfl_table_t *model)
{
    tfl_vec_t v;
    EAI_TRY(table_vec(s, model, 4, MAX_BUFFERS, "buffers", &v));
    s->buf_data = eai__calloc(&s->g->alloc, v.n ? v.n : 1, sizeof *s->buf_data);
    s->buf_len = eai__calloc(&s->g->alloc, v.n ? v.n : 1, sizeof *s->buf_len);
    if (!s->buf_data || !s->buf_len) return nomem(s);
    s->n_buffers = (int)v.n;
    for (uint32_t i = 0; i < v.n; i++) {
        tfl_table_t b;
        tfl_vec_t data;
        uint64_t off, size;
        if (!eai__tfl_fb_vec_table(&s->fb, &v, i, &b) ||
            !eai__tfl_fb_vec(&s->fb, &b, 0, 1, &data) || !rd_u64(s, &b, 1, &off) ||
            !rd_u64(s, &b, 2, &size))
            return fb_fail(s, "buffer %u", i);
        /* offset/size (> 1) place the data outside the flatbuffer, for
         * models over 2 GB */
        if (off > 1 || size > 1)
            return eai_fail(EAI_E_UNSUPPORTED,
                            "%s: buffer %u keeps its data outside the flatbuffer (offset %llu, "
                            "size %llu): not supported",
                            s->label, i, (unsigned long long)off, (unsigned long long)size);
        s->buf_data[i] = data.n ? s->fb.p + data.pos : NULL;
        s->buf_len[i] = data.n;
    }
    return EAI_OK;
}

static eai_status_t read_quant(tfl_t *s, int ti, const tfl_table_t *qt)
{
    tfl_tensor_t *t = &s->t[ti];
    tfl_vec_t sc, zp;
    uint8_t details;
    int32_t axis;
    if (!eai__tfl_fb_vec(&s->fb, qt, 2, 4, &sc) || !eai__tfl_fb_vec(&s->fb, qt, 3, 8, &zp) ||
        !rd_u8(s, qt, 4, 0, &details) || !rd_i32(s, qt, 6, 0, &axis))
        return fb_fail(s, "tensor %d: quantization", ti);
    if (details != 0)
        return eai_fail(EAI_E_UNSUPPORTED,
                        "%s: tensor %d '%s': custom quantization details are not supported",
                        s->label, ti, t->name);
    if (sc.n == 0) return EAI_OK; /* min/max only: a float tensor */
    if (zp.n != 0 && zp.n != sc.n)
        return eai_fail(EAI_E_FORMAT, "%s: tensor %d '%s': %u scales but %u zero points", s->label,
                        ti, t->name, sc.n, zp.n);
    if (sc.n > 1 && (axis < 0 || axis >= t->shape.rank || t->shape.d[axis] != (int64_t)sc.n))
        return eai_fail(EAI_E_FORMAT,
                        "%s: tensor %d '%s': %u scales along dimension %d of a rank-%d tensor "
                        "that does not have that many entries there",
                        s->label, ti, t->name, sc.n, axis, t->shape.rank);
    t->q.scale = eai__calloc(&s->g->alloc, sc.n, sizeof(float));
    t->q.zp = eai__calloc(&s->g->alloc, sc.n, sizeof(int64_t));
    if (!t->q.scale || !t->q.zp) return nomem(s);
    t->q.n = (int)sc.n;
    t->q.axis = sc.n > 1 ? axis : 0;
    for (uint32_t i = 0; i < sc.n; i++) {
        t->q.scale[i] = tfl_vec_f32(&s->fb, &sc, i);
        t->q.zp[i] = zp.n ? tfl_vec_i64(&s->fb, &zp, i) : 0;
        if (!isfinite(t->q.scale[i]) || t->q.scale[i] < 0)
            return eai_fail(EAI_E_FORMAT, "%s: tensor %d '%s': scale %u is %g", s->label, ti,
                            t->name, i, (double)t->q.scale[i]);
    }
    return EAI_OK;
}

static eai_status_t read_tensor(tfl_t *s, const tfl_vec_t *tv, int ti)
{
    tfl_tensor_t *t = &s->t[ti];
    tfl_table_t tt, qt, sp;
    tfl_vec_t shape;
    int8_t type;
    const int8_t zero = 0;
    uint32_t buffer, name_len, ext;
    const uint32_t uzero = 0;
    uint8_t var;
    bool has_q, has_sp;
    t->v = -1;
    t->producer = -1;
    t->name = "";
    if (!eai__tfl_fb_vec_table(&s->fb, tv, (uint32_t)ti, &tt) ||
        !eai__tfl_fb_vec(&s->fb, &tt, 0, 4, &shape) ||
        !eai__tfl_fb_scalar(&s->fb, &tt, 1, 1, &zero, &type) ||
        !eai__tfl_fb_scalar(&s->fb, &tt, 2, 4, &uzero, &buffer) ||
        !eai__tfl_fb_str(&s->fb, &tt, 3, &t->name, &name_len) ||
        !eai__tfl_fb_table(&s->fb, &tt, 4, &qt, &has_q) || !rd_u8(s, &tt, 5, 0, &var) ||
        !eai__tfl_fb_table(&s->fb, &tt, 6, &sp, &has_sp) ||
        !eai__tfl_fb_scalar(&s->fb, &tt, 10, 4, &uzero, &ext))
        return fb_fail(s, "tensor %d", ti);
    if (!t->name) t->name = "";
    t->type = type;
    t->dt = dtype_of(type);
    if (shape.n > EAI_MAX_RANK)
        return eai_fail(EAI_E_UNSUPPORTED,
                        "%s: tensor %d '%s' has rank %u, edgeai holds at most %d", s->label, ti,
                        t->name, shape.n, EAI_MAX_RANK);
    t->shape.rank = (int)shape.n;
    for (uint32_t d = 0; d < shape.n; d++) {
        t->shape.d[d] = tfl_vec_i32(&s->fb, &shape, d);
        if (t->shape.d[d] < 0)
            return eai_fail(EAI_E_FORMAT, "%s: tensor %d '%s': dimension %u is %lld", s->label, ti,
                            t->name, d, (long long)t->shape.d[d]);
    }
    int64_t bytes;
    size_t es = t->dt ? eai_dtype_size(t->dt) : 1;
    if (!eai__tensor_bytes_ok(t->shape.d, t->shape.rank, es, &bytes))
        return eai_fail(EAI_E_FORMAT, "%s: tensor %d '%s' is too large", s->label, ti, t->name);
    if (buffer >= (uint32_t)s->n_buffers)
        return eai_fail(EAI_E_FORMAT, "%s: tensor %d '%s' refers to buffer %u of %d", s->label, ti,
                        t->name, buffer, s->n_buffers);
    if (var)
        return eai_fail(EAI_E_UNSUPPORTED,
                        "%s: tensor %d '%s' is a variable (state kept between runs): not "
                        "supported",
                        s->label, ti, t->name);
    if (has_sp)
        return eai_fail(EAI_E_UNSUPPORTED, "%s: tensor %d '%s' is sparse: not supported", s->label,
                        ti, t->name);
    if (ext)
        return eai_fail(EAI_E_UNSUPPORTED,
                        "%s: tensor %d '%s' uses an external buffer: not supported", s->label, ti,
                        t->name);
    if (s->buf_len[buffer]) {
        if (t->dt && (int64_t)s->buf_len[buffer] != bytes)
            return eai_fail(EAI_E_FORMAT,
                            "%s: tensor %d '%s': buffer %u holds %u bytes, but %lld elements of "
                            "%s need %lld",
                            s->label, ti, t->name, buffer, s->buf_len[buffer],
                            (long long)eai__shape_numel(&t->shape), eai__tfl_type_str(t->type),
                            (long long)bytes);
        t->data = s->buf_data[buffer];
    }
    return has_q ? read_quant(s, ti, &qt) : EAI_OK;
}

/* Reads a vector of tensor indices (subgraph inputs/outputs). */
static eai_status_t index_vec(tfl_t *s, const tfl_table_t *sg, int idx, const char *what,
                              tfl_vec_t *v)
{
    if (!eai__tfl_fb_vec(&s->fb, sg, idx, 4, v)) return fb_fail(s, "subgraph 0: %s", what);
    for (uint32_t i = 0; i < v->n; i++) {
        int32_t ti = tfl_vec_i32(&s->fb, v, i);
        if (ti < 0 || ti >= s->n_tensors)
            return eai_fail(EAI_E_FORMAT, "%s: subgraph 0: %s %u refers to tensor %d of %d",
                            s->label, what, i, ti, s->n_tensors);
    }
    return EAI_OK;
}

/* The tensor exists in the IR (or as import-time data) by now. */
static bool available(const tfl_tensor_t *t)
{
    return t->data || t->producer != -1;
}

/* Reads operator i's table into s->op... and checks its indices. */
static eai_status_t read_operator(tfl_t *s, const tfl_vec_t *ov, int i)
{
    tfl_table_t ot;
    uint32_t opcode;
    const uint32_t uzero = 0;
    tfl_vec_t in, out;
    uint8_t opt_type;
    s->op = i;
    s->op_name = "?";
    s->emitted = 0;
    if (!eai__tfl_fb_vec_table(&s->fb, ov, (uint32_t)i, &ot) ||
        !eai__tfl_fb_scalar(&s->fb, &ot, 0, 4, &uzero, &opcode) ||
        !eai__tfl_fb_vec(&s->fb, &ot, 1, 4, &in) || !eai__tfl_fb_vec(&s->fb, &ot, 2, 4, &out) ||
        !rd_u8(s, &ot, 3, 0, &opt_type) || !eai__tfl_fb_table(&s->fb, &ot, 4, &s->opt, &s->has_opt))
        return fb_fail(s, "operator %d", i);
    if (opcode >= (uint32_t)s->n_codes)
        return eai_fail(EAI_E_FORMAT, "%s: operator %d refers to operator code %u of %d", s->label,
                        i, opcode, s->n_codes);
    s->code = s->codes[opcode];
    const char *name = eai__tfl_op_str(s->code);
    s->op_name = s->code < 0 ? "CUSTOM" : name ? name : "builtin";
    s->opt_type = opt_type;
    if (in.n > TFL_MAX_IO || out.n > TFL_MAX_IO)
        return eai__tfl_op_fail(s, EAI_E_UNSUPPORTED, "%u inputs and %u outputs, at most %d each",
                                in.n, out.n, TFL_MAX_IO);
    s->n_in = (int)in.n;
    s->n_out = (int)out.n;
    for (int k = 0; k < s->n_in; k++) {
        int ti = tfl_vec_i32(&s->fb, &in, (uint32_t)k);
        s->in[k] = ti;
        if (ti == -1) continue; /* an optional input left out */
        if (ti < 0 || ti >= s->n_tensors)
            return eai__tfl_op_fail(s, EAI_E_FORMAT, "input %d refers to tensor %d of %d", k, ti,
                                    s->n_tensors);
        if (!available(&s->t[ti]))
            return eai__tfl_op_fail(s, EAI_E_FORMAT,
                                    "input %d (tensor %d '%s') has no data and is not computed "
                                    "by an earlier operator or given as a model input",
                                    k, ti, s->t[ti].name);
    }
    for (int k = 0; k < s->n_out; k++) {
        int ti = tfl_vec_i32(&s->fb, &out, (uint32_t)k);
        s->out[k] = ti;
        if (ti < 0 || ti >= s->n_tensors)
            return eai__tfl_op_fail(s, EAI_E_FORMAT, "output %d refers to tensor %d of %d", k, ti,
                                    s->n_tensors);
        if (available(&s->t[ti]))
            return eai__tfl_op_fail(s, EAI_E_FORMAT,
                                    "output %d (tensor %d '%s') is a constant, a model input or "
                                    "written before",
                                    k, ti, s->t[ti].name);
        for (int j = 0; j < k; j++)
            if (s->out[j] == ti)
                return eai__tfl_op_fail(s, EAI_E_FORMAT, "tensor %d is output %d and %d", ti, j, k);
    }
    if (s->code < 0)
        return eai__tfl_op_fail(s, EAI_E_UNSUPPORTED, "custom operators are not supported");
    return EAI_OK;
}

static eai_status_t import_model(tfl_t *s)
{
    tfl_table_t model, sg;
    uint32_t version;
    const uint32_t uzero = 0;
    tfl_vec_t sgs, tv, ins, outs, ov;
    const char *desc;
    uint32_t desc_len;
    bool ok = eai__tfl_fb_root(&s->fb, &model);
    if (!ok) return fb_fail(s, "model");
    if (!eai__tfl_fb_scalar(&s->fb, &model, 0, 4, &uzero, &version) ||
        !eai__tfl_fb_str(&s->fb, &model, 3, &desc, &desc_len))
        return fb_fail(s, "model");
    if (version != 3)
        return eai_fail(EAI_E_UNSUPPORTED, "%s: schema version %u (edgeai reads version 3)",
                        s->label, version);
    char producer[160];
    snprintf(producer, sizeof producer, "TFLite v3%s%.100s%s", desc ? " (" : "", desc ? desc : "",
             desc ? ")" : "");
    eai__free(&s->g->alloc, s->g->producer);
    s->g->producer = eai__strdup(&s->g->alloc, producer);
    if (!s->g->producer) return nomem(s);
    s->g->opset = 13; /* the ONNX semantics tflite_ops.c emits */
    EAI_TRY(read_codes(s, &model));
    EAI_TRY(read_buffers(s, &model));
    EAI_TRY(table_vec(s, &model, 2, 1 << 16, "subgraphs", &sgs));
    if (sgs.n == 0) return eai_fail(EAI_E_FORMAT, "%s: the model has no subgraphs", s->label);
    if (!eai__tfl_fb_vec_table(&s->fb, &sgs, 0, &sg)) return fb_fail(s, "subgraph 0");
    EAI_TRY(table_vec(s, &sg, 0, MAX_TENSORS, "tensors", &tv));
    s->t = eai__calloc(&s->g->alloc, tv.n ? tv.n : 1, sizeof *s->t);
    if (!s->t) return nomem(s);
    s->n_tensors = (int)tv.n;
    for (int i = 0; i < s->n_tensors; i++)
        EAI_TRY(read_tensor(s, &tv, i));
    EAI_TRY(index_vec(s, &sg, 1, "input", &ins));
    EAI_TRY(index_vec(s, &sg, 2, "output", &outs));
    EAI_TRY(table_vec(s, &sg, 3, MAX_OPERATORS, "operators", &ov));
    if (outs.n == 0) return eai_fail(EAI_E_FORMAT, "%s: the model has no outputs", s->label);
    for (uint32_t i = 0; i < outs.n; i++)
        s->t[tfl_vec_i32(&s->fb, &outs, i)].is_output = true;
    for (uint32_t i = 0; i < ins.n; i++)
        EAI_TRY(eai__tfl_add_input(s, tfl_vec_i32(&s->fb, &ins, i)));
    for (int i = 0; i < (int)ov.n; i++) {
        EAI_TRY(read_operator(s, &ov, i));
        EAI_TRY(eai__tfl_map_op(s));
        for (int k = 0; k < s->n_out; k++) {
            tfl_tensor_t *t = &s->t[s->out[k]];
            if (EAI_NEVER(t->v < 0 && !t->data))
                return eai__tfl_op_fail(s, EAI_E_UNSUPPORTED, "output %d was not mapped", k);
            t->producer = i;
        }
    }
    for (uint32_t i = 0; i < outs.n; i++) {
        int ti = tfl_vec_i32(&s->fb, &outs, i);
        if (!available(&s->t[ti]))
            return eai_fail(EAI_E_FORMAT,
                            "%s: output %u (tensor %d '%s') is not computed by any operator",
                            s->label, i, ti, s->t[ti].name);
        EAI_TRY(eai__tfl_add_output(s, ti));
    }
    return EAI_OK;
}

bool eai__tflite_probe(const void *data, size_t n_bytes)
{
    return n_bytes >= 8 && memcmp((const char *)data + 4, "TFL3", 4) == 0;
}

eai_status_t eai__tflite_import(eai__graph_t *g, const void *data, size_t n_bytes)
{
    tfl_t *s = eai__calloc(&g->alloc, 1, sizeof *s);
    if (!s) return eai_fail(EAI_E_NOMEM, "%s: out of memory", g->label);
    s->g = g;
    s->label = g->label;
    s->fb.p = data;
    s->fb.n = n_bytes;
    eai_status_t st = eai__tflite_probe(data, n_bytes)
                          ? import_model(s)
                          : eai_fail(EAI_E_FORMAT,
                                     "%s: no \"TFL3\" file identifier: not a TFLite "
                                     "model",
                                     g->label);
    if (st == EAI_OK) st = eai__graph_finish(g);
    eai__tfl_free_tensors(s);
    eai__free(&g->alloc, s->codes);
    eai__free(&g->alloc, s->buf_data);
    eai__free(&g->alloc, s->buf_len);
    eai__free(&g->alloc, s->t);
    eai__free(&g->alloc, s);
    return st;
}
