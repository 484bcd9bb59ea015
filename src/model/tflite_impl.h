/* Private to the TFLite importer: tflite_fb.c (a bounds-checked flatbuffer
 * reader), tflite_import.c (the model walk: buffers, tensors, operators),
 * tflite_emit.c (IR values, layouts, quantization) and tflite_ops.c (one
 * mapping per builtin operator).
 * The one idea, as in the TF.js importer: TFLite activations are NHWC while
 * the IR's convolutions are NCHW, so every tensor is held as an IR value plus
 * a layout tag `lay` (IR value = Transpose(TFLite tensor, lay.p)). Conv and
 * pool outputs are tagged [0,3,1,2]; elementwise ops, concatenation, pad,
 * mean and softmax carry the tag; a Transpose is emitted only where element
 * order matters (reshape, fully connected, graph outputs).
 */
#ifndef EAI_TFLITE_IMPL_H
#define EAI_TFLITE_IMPL_H

#include "model/axis_perm.h"
#include "model/graph.h"

/* ---- tflite_fb.c: flatbuffers ---- */

/* The file being read. Every accessor checks its offsets against `n` and
 * charges what it reads to `budget`, so aliased offsets (vectors pointing at
 * each other) cannot make a small file cost more than a few passes over its
 * bytes. On failure the accessors return false with the reason in `why`. */
typedef struct tfl_fb {
    const uint8_t *p;
    size_t n;
    uint64_t budget;
    char why[200];
} tfl_fb_t;

/* A table at byte `pos` with its vtable at `vt`. */
typedef struct tfl_table {
    uint32_t pos, vt;
    uint16_t vt_bytes, obj_bytes;
} tfl_table_t;

/* A vector: `n` elements of `esize` bytes from byte `pos` (after the count). */
typedef struct tfl_vec {
    uint32_t pos, n, esize;
} tfl_vec_t;

/* Checks the size and finds the root table. */
bool eai__tfl_fb_root(tfl_fb_t *fb, tfl_table_t *root);
/* Scalar field `idx` (absent: `def`), `size` bytes copied into out. */
bool eai__tfl_fb_scalar(tfl_fb_t *fb, const tfl_table_t *t, int idx, uint32_t size, const void *def,
                        void *out);
/* Table field: *present false (and out zeroed) when the field is absent. */
bool eai__tfl_fb_table(tfl_fb_t *fb, const tfl_table_t *t, int idx, tfl_table_t *out,
                       bool *present);
/* Vector field of scalars (`esize` 1/2/4/8) or of offsets (esize 4, use
 * eai__tfl_fb_vec_table); absent: n = 0. */
bool eai__tfl_fb_vec(tfl_fb_t *fb, const tfl_table_t *t, int idx, uint32_t esize, tfl_vec_t *out);
/* String field (NUL-terminated in the file, checked); absent: *s = NULL. */
bool eai__tfl_fb_str(tfl_fb_t *fb, const tfl_table_t *t, int idx, const char **s, uint32_t *len);
/* Element i of a vector of tables. */
bool eai__tfl_fb_vec_table(tfl_fb_t *fb, const tfl_vec_t *v, uint32_t i, tfl_table_t *out);

/* Element i of a checked scalar vector (i < v->n). */
static inline int32_t tfl_vec_i32(const tfl_fb_t *fb, const tfl_vec_t *v, uint32_t i)
{
    int32_t x;
    memcpy(&x, fb->p + v->pos + (size_t)i * 4, 4);
    return x;
}
static inline int64_t tfl_vec_i64(const tfl_fb_t *fb, const tfl_vec_t *v, uint32_t i)
{
    int64_t x;
    memcpy(&x, fb->p + v->pos + (size_t)i * 8, 8);
    return x;
}
static inline float tfl_vec_f32(const tfl_fb_t *fb, const tfl_vec_t *v, uint32_t i)
{
    float x;
    memcpy(&x, fb->p + v->pos + (size_t)i * 4, 4);
    return x;
}

/* ---- the importer's state ---- */

/* IR value = Transpose(TFLite tensor, p); rank 0 means identity. */
typedef eai__perm_t tfl_lay_t;

/* Quantization of a tensor: real = scale * (q - zero_point), per tensor
 * (n == 1) or along `axis` (n == dims[axis]). n == 0: not quantized. */
typedef struct tfl_quant {
    int n;
    int axis;
    float *scale;
    int64_t *zp;
} tfl_quant_t;

#define TFL_N_CACHE 4

typedef struct tfl_tensor {
    const char *name; /* the file's name (NUL-terminated there), never NULL */
    int type;         /* TFLite TensorType */
    eai_dtype_t dt;   /* UNDEFINED for types edgeai does not hold */
    eai__shape_t shape;
    tfl_quant_t q;
    /* constant data: the buffer in the file (unaligned, `dt` bytes), or an
     * owned aligned copy after folding (DEQUANTIZE of float16) */
    const uint8_t *data;
    bool owned;
    bool is_output; /* a graph output */
    int producer;   /* operator writing it, -2 graph input, -1 none yet */
    /* the IR value, once it exists (-1 before), in layout `lay`, dtype dt */
    int v;
    tfl_lay_t lay;
    /* other forms already made: layout + dequantized */
    int n_cache;
    struct {
        tfl_lay_t lay;
        bool deq;
        int v;
    } cache[TFL_N_CACHE];
} tfl_tensor_t;

#define TFL_MAX_IO 1024

typedef struct tfl {
    eai__graph_t *g;
    const char *label;
    tfl_fb_t fb;
    int n_codes;
    int32_t *codes; /* BuiltinOperator per operator code; -1 for custom */
    int n_buffers;
    const uint8_t **buf_data;
    uint32_t *buf_len;
    int n_tensors;
    tfl_tensor_t *t;
    /* the operator being mapped */
    int op;
    int code;
    const char *op_name;
    tfl_table_t opt;
    bool has_opt;
    int opt_type;
    int n_in, n_out;
    int in[TFL_MAX_IO], out[TFL_MAX_IO];
    int emitted; /* IR nodes emitted for this operator so far */
    int uniq;    /* counter for helper names */
} tfl_t;

/* ---- tflite_import.c ---- */

/* "label: operator 12 (CONV_2D): <msg>" */
eai_status_t eai__tfl_op_fail(const tfl_t *s, eai_status_t st, const char *fmt, ...)
    EAI_PRINTF(3, 4);
/* Name of a BuiltinOperator code ("CONV_2D"), or NULL for codes edgeai does
 * not name. */
const char *eai__tfl_op_str(int code);
/* Name of a TensorType ("INT8"). */
const char *eai__tfl_type_str(int type);

/* ---- tflite_emit.c: tensors as IR values ---- */

/* Tensor index of operator input k; -1 for an absent optional input. Checked
 * against the op's input count by the caller. */
static inline int tfl_in_index(const tfl_t *s, int k)
{
    return k < s->n_in ? s->in[k] : -1;
}
/* The tensor of input k, failing with a message when it is absent. */
eai_status_t eai__tfl_in_tensor(tfl_t *s, int k, tfl_tensor_t **t);
/* Whether tensor t is quantized (integer data with a scale). */
bool eai__tfl_is_quant(const tfl_tensor_t *t);
/* Input k as an IR value in layout `lay` (NULL: plain). `real`: a quantized
 * tensor is dequantized (DequantizeLinear, per axis where the file says so)
 * and float16 becomes float32, so float ops see real numbers. Constants are
 * permuted at import; activations get one Transpose per tensor and layout. */
eai_status_t eai__tfl_in_value(tfl_t *s, int k, const tfl_lay_t *lay, bool real, int *v);
/* Same for tensor index ti. A constant of lower rank than `lay` is padded on
 * the left with 1s first (a broadcast partner of a laid-out tensor). */
eai_status_t eai__tfl_tensor_value(tfl_t *s, int ti, const tfl_lay_t *lay, bool real, int *v);
/* Integer constant of input k (INT32/INT64, any rank) into v[cap]. */
eai_status_t eai__tfl_in_ints(tfl_t *s, int k, int64_t *v, int cap, int *n);
/* Output k of the operator gets the real-valued IR value `v` in layout lay:
 * quantized outputs get a QuantizeLinear to the tensor's type first. */
eai_status_t eai__tfl_set_out(tfl_t *s, int k, int v, const tfl_lay_t *lay);
/* Output k becomes IR value v as is (same dtype; an alias or a layout change). */
eai_status_t eai__tfl_alias_out(tfl_t *s, int k, int v, const tfl_lay_t *lay);
/* Output k becomes an import-time constant (owned data of t->dt, shape as
 * the tensor's). */
eai_status_t eai__tfl_const_out(tfl_t *s, int k, void *data);
/* New float32 activation named after output k (helpers get a suffix). */
eai_status_t eai__tfl_new_act(tfl_t *s, const char *what, int *v);
/* Appends an IR node named after the operator's first output. */
eai_status_t eai__tfl_emit(tfl_t *s, const char *op, const int *in, int n_in, const int *out,
                           int n_out);
/* Emits op on `in` into a new value: last 0, a helper; last 1, the real
 * value of output 0 (named after it when eai__tfl_set_out will not convert
 * it); last 2, output 0 in its stored type (eai__tfl_alias_out follows). */
eai_status_t eai__tfl_step(tfl_t *s, const char *op, const int *in, int n_in, int last,
                           const tfl_lay_t *lay, int *out);
/* Emits op on `in` into a new activation. */
eai_status_t eai__tfl_emit1(tfl_t *s, const char *op, const int *in, int n_in, int *out);
/* Attributes of the node emitted last. */
eai_status_t eai__tfl_set_int(tfl_t *s, const char *name, int64_t v);
eai_status_t eai__tfl_set_float(tfl_t *s, const char *name, float v);
eai_status_t eai__tfl_set_ints(tfl_t *s, const char *name, const int64_t *v, int n);
/* Helper constants (not counted as parameters). */
eai_status_t eai__tfl_f32_scalar(tfl_t *s, float x, int *v);
eai_status_t eai__tfl_i64_const(tfl_t *s, const int64_t *x, int n, int *v);
/* Graph input for tensor ti (plain layout). */
eai_status_t eai__tfl_add_input(tfl_t *s, int ti);
/* Graph output for tensor ti: plain, named after the tensor. */
eai_status_t eai__tfl_add_output(tfl_t *s, int ti);
/* Frees the importer's own copies (folded constants, quantization). */
void eai__tfl_free_tensors(tfl_t *s);

/* ---- tflite_ops.c ---- */

/* Maps operator s->op (inputs, outputs and options already read and
 * checked). EAI_E_UNSUPPORTED for builtin codes without a mapping. */
eai_status_t eai__tfl_map_op(tfl_t *s);

#endif
