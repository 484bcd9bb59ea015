/* XNNPACK family 'elementwise' (float32, any layout, so both ONNX nodes and
 * the ones the layout pass moved to NHWC): unary ops as one contiguous
 * vector (Relu and Clip are XNNPACK's clamp), binary ops with numpy
 * broadcasting up to rank 6, PRelu with a per-channel slope on the last axis,
 * Softmax over the innermost axis.
 *
 * Constant operands of binary ops are copied into padded node buffers:
 * XNNPACK's vector loads may read 16 bytes past an input.
 */
#include <float.h>
#include <math.h>

#include "runtime/xnnpack/xnn_impl.h"

static bool f32_io(const eai__opctx_t *c, int n_in)
{
    if (c->n_out < 1 || c->out[0].dtype != EAI_F32 || eai__shape_numel(&c->out[0].shape) == 0)
        return false;
    for (int i = 0; i < n_in; i++)
        if (i >= c->n_in || c->in[i].dtype != EAI_F32 || eai__shape_numel(&c->in[i].shape) == 0)
            return false;
    return true;
}

static bool is_const(const eai__opctx_t *c, int i)
{
    return c->node->in[i] >= 0 && c->g->values[c->node->in[i]].kind == EAI__V_CONST;
}

static float float_attr(const eai__opctx_t *c, const char *name, float def)
{
    const eai__attr_t *a = eai__node_attr(c->node, name);
    return a && a->type == EAI__A_FLOAT ? a->f : def;
}

/* ---- unary ---- */

typedef enum un_kind {
    UN_CLAMP,
    UN_SIGMOID,
    UN_HARDSWISH,
    UN_LEAKYRELU,
    UN_ELU,
    UN_ABS,
    UN_NEG,
    UN_FLOOR,
    UN_CEIL,
    UN_SQRT,
    UN_ROUND,
    UN_HARDSIGMOID,
} un_kind_t;

static const struct {
    const char *name;
    un_kind_t kind;
} unary_ops[] = {
    {"Relu", UN_CLAMP},
    {"Clip", UN_CLAMP},
    {"Sigmoid", UN_SIGMOID},
    {"HardSwish", UN_HARDSWISH},
    {"LeakyRelu", UN_LEAKYRELU},
    {"Elu", UN_ELU},
    {"Abs", UN_ABS},
    {"Neg", UN_NEG},
    {"Floor", UN_FLOOR},
    {"Ceil", UN_CEIL},
    {"Sqrt", UN_SQRT},
    {"Round", UN_ROUND},
    {"HardSigmoid", UN_HARDSIGMOID},
};

static un_kind_t unary_kind(const eai__opctx_t *c)
{
    for (size_t i = 0; i < sizeof unary_ops / sizeof unary_ops[0]; i++)
        if (strcmp(unary_ops[i].name, c->node->op) == 0) return unary_ops[i].kind;
    return UN_CLAMP;
}

/* Clip's bounds: attributes before opset 11, optional constant inputs from
 * 11 on (false when an input bound is not constant). */
static bool clip_bounds(const eai__opctx_t *c, float *lo, float *hi)
{
    *lo = -INFINITY;
    *hi = INFINITY;
    if (strcmp(c->node->op, "Relu") == 0) {
        *lo = 0.0f;
        return true;
    }
    if (c->opset < 11) {
        *lo = float_attr(c, "min", -FLT_MAX);
        *hi = float_attr(c, "max", FLT_MAX);
        return *lo < *hi;
    }
    for (int i = 1; i < 3; i++) {
        if (!eai__has_in(c, i)) continue;
        if (!is_const(c, i) || c->in[i].dtype != EAI_F32 ||
            eai__shape_numel(&c->in[i].shape) != 1 || !c->in[i].data)
            return false;
        *(i == 1 ? lo : hi) = *(const float *)c->in[i].data;
    }
    return *lo < *hi; /* XNNPACK wants min strictly below max (and no NaN) */
}

static bool unary_supports(const eai__opctx_t *c)
{
    if (!f32_io(c, 1)) return false;
    float lo, hi;
    switch (unary_kind(c)) {
    case UN_CLAMP:
        return clip_bounds(c, &lo, &hi);
    case UN_ELU: {
        float a = float_attr(c, "alpha", 1.0f);
        return a > 0.0f && isnormal(a);
    }
    case UN_LEAKYRELU:
        return isfinite(float_attr(c, "alpha", 0.01f));
    default:
        return true;
    }
}

static eai_status_t unary_prepare(eai__opctx_t *c, eai__xnn_node_t *st)
{
    const size_t n = (size_t)eai__shape_numel(&c->out[0].shape);
    const float *x = c->in[0].data;
    float *y = c->out[0].data;
    xnn_operator_t op = NULL;
    enum xnn_status s;
    un_kind_t k = unary_kind(c);
    if (k == UN_HARDSIGMOID) {
        /* y = max(0, min(1, alpha * x + beta)): a scaled copy, then a
         * clamped add in place */
        const float ab[2] = {float_attr(c, "alpha", 0.2f), float_attr(c, "beta", 0.5f)};
        void *buf;
        EAI_TRY(eai__xnn_buffer(c, st, sizeof ab, ab, &buf));
        const float *kb = buf;
        EAI_TRY(eai__xnn_push_binary_flat(c, st, EAI__XNN_MUL, x, &kb[0], true, y, (int64_t)n,
                                          -INFINITY, INFINITY));
        return eai__xnn_push_binary_flat(c, st, EAI__XNN_ADD, y, &kb[1], true, y, (int64_t)n, 0.0f,
                                         1.0f);
    }
    switch (k) {
    case UN_CLAMP: {
        float lo, hi;
        clip_bounds(c, &lo, &hi);
        s = xnn_create_clamp_nc_f32(n, n, n, lo, hi, EAI__XNN_FLAGS, &op);
        break;
    }
    case UN_SIGMOID:
        s = xnn_create_sigmoid_nc_f32(n, n, n, EAI__XNN_FLAGS, &op);
        break;
    case UN_HARDSWISH:
        s = xnn_create_hardswish_nc_f32(n, n, n, EAI__XNN_FLAGS, &op);
        break;
    case UN_LEAKYRELU:
        s = xnn_create_leaky_relu_nc_f32(n, n, n, float_attr(c, "alpha", 0.01f), EAI__XNN_FLAGS,
                                         &op);
        break;
    case UN_ELU:
        s = xnn_create_elu_nc_f32(n, n, n, float_attr(c, "alpha", 1.0f), EAI__XNN_FLAGS, &op);
        break;
    case UN_ABS:
        s = xnn_create_abs_nc_f32(n, n, n, EAI__XNN_FLAGS, &op);
        break;
    case UN_NEG:
        s = xnn_create_negate_nc_f32(n, n, n, EAI__XNN_FLAGS, &op);
        break;
    case UN_FLOOR:
        s = xnn_create_floor_nc_f32(n, n, n, EAI__XNN_FLAGS, &op);
        break;
    case UN_CEIL:
        s = xnn_create_ceiling_nc_f32(n, n, n, EAI__XNN_FLAGS, &op);
        break;
    case UN_SQRT:
        s = xnn_create_square_root_nc_f32(n, n, n, EAI__XNN_FLAGS, &op);
        break;
    default: /* UN_ROUND: ONNX Round is half to even, as bankers rounding */
        s = xnn_create_bankers_rounding_nc_f32(n, n, n, EAI__XNN_FLAGS, &op);
        break;
    }
    EAI_TRY(eai__xnn_push(c, st, s, op, "create unary operator"));
    switch (k) {
    case UN_CLAMP:
        s = xnn_setup_clamp_nc_f32(op, 1, x, y, st->tp);
        break;
    case UN_SIGMOID:
        s = xnn_setup_sigmoid_nc_f32(op, 1, x, y, st->tp);
        break;
    case UN_HARDSWISH:
        s = xnn_setup_hardswish_nc_f32(op, 1, x, y, st->tp);
        break;
    case UN_LEAKYRELU:
        s = xnn_setup_leaky_relu_nc_f32(op, 1, x, y, st->tp);
        break;
    case UN_ELU:
        s = xnn_setup_elu_nc_f32(op, 1, x, y, st->tp);
        break;
    case UN_ABS:
        s = xnn_setup_abs_nc_f32(op, 1, x, y, st->tp);
        break;
    case UN_NEG:
        s = xnn_setup_negate_nc_f32(op, 1, x, y, st->tp);
        break;
    case UN_FLOOR:
        s = xnn_setup_floor_nc_f32(op, 1, x, y, st->tp);
        break;
    case UN_CEIL:
        s = xnn_setup_ceiling_nc_f32(op, 1, x, y, st->tp);
        break;
    case UN_SQRT:
        s = xnn_setup_square_root_nc_f32(op, 1, x, y, st->tp);
        break;
    default:
        s = xnn_setup_bankers_rounding_nc_f32(op, 1, x, y, st->tp);
        break;
    }
    return eai__xnn_check(c, s, "setup unary operator");
}

/* ---- binary ---- */

static bool binary_supports(const eai__opctx_t *c)
{
    if (c->n_in != 2 || !f32_io(c, 2)) return false;
    return c->in[0].shape.rank <= XNN_MAX_TENSOR_DIMS && c->in[1].shape.rank <= XNN_MAX_TENSOR_DIMS;
}

/* The operand's data, copied into a padded node buffer if it is constant. */
static eai_status_t operand(eai__opctx_t *c, eai__xnn_node_t *st, int i, const float **out)
{
    if (!is_const(c, i)) {
        *out = c->in[i].data;
        return EAI_OK;
    }
    void *b;
    EAI_TRY(eai__xnn_buffer(c, st, (size_t)eai__shape_numel(&c->in[i].shape) * sizeof(float),
                            c->in[i].data, &b));
    *out = b;
    return EAI_OK;
}

/* One binary operator on y = a op b with shapes da[ra], db[rb]. */
static eai_status_t binary_op(const eai__opctx_t *c, eai__xnn_node_t *st, eai__xnn_binary_t kind,
                              size_t ra, const size_t *da, size_t rb, const size_t *db,
                              const float *a, const float *b, float *y, float lo, float hi,
                              pthreadpool_t tp, bool owned_only, xnn_operator_t *out)
{
    xnn_operator_t op = NULL;
    enum xnn_status s;
    switch (kind) {
    case EAI__XNN_ADD:
        s = xnn_create_add_nd_f32(lo, hi, EAI__XNN_FLAGS, &op);
        break;
    case EAI__XNN_SUB:
        s = xnn_create_subtract_nd_f32(lo, hi, EAI__XNN_FLAGS, &op);
        break;
    case EAI__XNN_MUL:
        s = xnn_create_multiply_nd_f32(lo, hi, EAI__XNN_FLAGS, &op);
        break;
    case EAI__XNN_DIV:
        s = xnn_create_divide_nd_f32(lo, hi, EAI__XNN_FLAGS, &op);
        break;
    case EAI__XNN_MAX:
        s = xnn_create_maximum_nd_f32(EAI__XNN_FLAGS, &op);
        break;
    default:
        s = xnn_create_minimum_nd_f32(EAI__XNN_FLAGS, &op);
        break;
    }
    EAI_TRY(owned_only ? eai__xnn_push_owned(c, st, s, op, "create binary operator")
                       : eai__xnn_push(c, st, s, op, "create binary operator"));
    switch (kind) {
    case EAI__XNN_ADD:
        s = xnn_setup_add_nd_f32(op, ra, da, rb, db, a, b, y, tp);
        break;
    case EAI__XNN_SUB:
        s = xnn_setup_subtract_nd_f32(op, ra, da, rb, db, a, b, y, tp);
        break;
    case EAI__XNN_MUL:
        s = xnn_setup_multiply_nd_f32(op, ra, da, rb, db, a, b, y, tp);
        break;
    case EAI__XNN_DIV:
        s = xnn_setup_divide_nd_f32(op, ra, da, rb, db, a, b, y, tp);
        break;
    case EAI__XNN_MAX:
        s = xnn_setup_maximum_nd_f32(op, ra, da, rb, db, a, b, y, tp);
        break;
    default:
        s = xnn_setup_minimum_nd_f32(op, ra, da, rb, db, a, b, y, tp);
        break;
    }
    if (out) *out = op;
    return eai__xnn_check(c, s, "setup binary operator");
}

/* XNNPACK (2022) merges the dimensions of same-shape operands into one and
 * never splits that across threads: a large flat operation is cut into
 * parts here instead, one operator per part, run in parallel. */
#define FLAT_PART_MIN 16384

eai_status_t eai__xnn_push_binary_flat(const eai__opctx_t *c, eai__xnn_node_t *st,
                                       eai__xnn_binary_t kind, const float *a, const float *b,
                                       bool b_scalar, float *y, int64_t numel, float lo, float hi)
{
    int parts = 2 * (st->tp ? (int)pthreadpool_get_threads_count(st->tp) : 1);
    if (parts > numel / FLAT_PART_MIN) parts = (int)(numel / FLAT_PART_MIN);
    const size_t one = 1;
    if (parts <= 1) {
        const size_t n = (size_t)numel;
        return binary_op(c, st, kind, 1, &n, 1, b_scalar ? &one : &n, a, b, y, lo, hi, NULL, false,
                         NULL);
    }
    eai__xnn_parts_t *p;
    EAI_TRY(eai__xnn_parts_new(c, st, parts, &p));
    for (int i = 0; i < parts; i++) {
        const int64_t b0 = numel * i / parts, b1 = numel * (i + 1) / parts;
        const size_t n = (size_t)(b1 - b0);
        EAI_TRY(binary_op(c, st, kind, 1, &n, 1, b_scalar ? &one : &n, a + b0,
                          b_scalar ? b : b + b0, y + b0, lo, hi, NULL, true, &p->op[p->n]));
        p->n++;
    }
    return eai__xnn_push_parts(c, st, p);
}

static eai__xnn_binary_t binary_kind(const char *name)
{
    if (strcmp(name, "Add") == 0 || strcmp(name, "Sum") == 0) return EAI__XNN_ADD;
    if (strcmp(name, "Sub") == 0) return EAI__XNN_SUB;
    if (strcmp(name, "Mul") == 0) return EAI__XNN_MUL;
    if (strcmp(name, "Div") == 0) return EAI__XNN_DIV;
    if (strcmp(name, "Max") == 0) return EAI__XNN_MAX;
    return EAI__XNN_MIN;
}

static eai_status_t binary_prepare(eai__opctx_t *c, eai__xnn_node_t *st)
{
    const eai__xnn_binary_t kind = binary_kind(c->node->op);
    const float *a, *b;
    EAI_TRY(operand(c, st, 0, &a));
    EAI_TRY(operand(c, st, 1, &b));
    const eai__shape_t *sa = &c->in[0].shape, *sb = &c->in[1].shape;
    const int64_t na = eai__shape_numel(sa), nb = eai__shape_numel(sb);
    const int64_t ny = eai__shape_numel(&c->out[0].shape);
    float *y = c->out[0].data;
    /* no broadcasting but of a scalar: one flat operation */
    if (na == ny && (nb == ny || nb == 1))
        return eai__xnn_push_binary_flat(c, st, kind, a, b, nb == 1 && ny > 1, y, ny, -INFINITY,
                                         INFINITY);
    if (nb == ny && na == 1 && kind != EAI__XNN_SUB && kind != EAI__XNN_DIV)
        return eai__xnn_push_binary_flat(c, st, kind, b, a, true, y, ny, -INFINITY, INFINITY);
    size_t da[XNN_MAX_TENSOR_DIMS], db[XNN_MAX_TENSOR_DIMS];
    for (int i = 0; i < sa->rank; i++)
        da[i] = (size_t)sa->d[i];
    for (int i = 0; i < sb->rank; i++)
        db[i] = (size_t)sb->d[i];
    return binary_op(c, st, kind, (size_t)sa->rank, da, (size_t)sb->rank, db, a, b, y, -INFINITY,
                     INFINITY, st->tp, false, NULL);
}

/* ---- PRelu: slope constant, one value or one per channel of the last axis ---- */

static bool prelu_supports(const eai__opctx_t *c)
{
    if (c->n_in != 2 || !f32_io(c, 2) || !is_const(c, 1) || !c->in[1].data) return false;
    const eai__shape_t *x = &c->in[0].shape, *s = &c->in[1].shape;
    if (x->rank < 1 || s->rank > x->rank) return false;
    if (eai__shape_numel(s) == 1) return true;
    for (int i = 0; i < s->rank - 1; i++)
        if (s->d[i] != 1) return false;
    return s->d[s->rank - 1] == x->d[x->rank - 1];
}

static eai_status_t prelu_prepare(eai__opctx_t *c, eai__xnn_node_t *st)
{
    const eai__shape_t *x = &c->in[0].shape;
    const size_t ch = (size_t)x->d[x->rank - 1];
    const size_t batch = (size_t)eai__shape_numel(x) / ch;
    float *slope;
    EAI_TRY(eai__xnn_buffer(c, st, ch * sizeof(float), NULL, (void **)&slope));
    const float *src = c->in[1].data;
    const bool one = eai__shape_numel(&c->in[1].shape) == 1;
    for (size_t i = 0; i < ch; i++)
        slope[i] = src[one ? 0 : i];
    xnn_operator_t op = NULL;
    enum xnn_status s = xnn_create_prelu_nc_f32(ch, ch, ch, slope, EAI__XNN_FLAGS, &op);
    EAI_TRY(eai__xnn_push(c, st, s, op, "create prelu"));
    return eai__xnn_check(
        c, xnn_setup_prelu_nc_f32(op, batch, c->in[0].data, c->out[0].data, st->tp), "setup prelu");
}

/* ---- Softmax: innermost axis (opset 13), or the coerced 2-D form (< 13) ---- */

static bool softmax_split(const eai__opctx_t *c, size_t *batch, size_t *ch)
{
    const eai__shape_t *x = &c->in[0].shape;
    const eai__attr_t *a = eai__node_attr(c->node, "axis");
    int64_t axis = a && a->type == EAI__A_INT ? a->i : (c->opset >= 13 ? -1 : 1);
    if (axis < 0) axis += x->rank;
    if (axis < 0 || axis >= x->rank || x->rank == 0) return false;
    if (c->opset >= 13 && axis != x->rank - 1) return false;
    int64_t inner = 1;
    for (int i = (int)axis; i < x->rank; i++)
        inner *= x->d[i];
    *ch = (size_t)inner;
    *batch = (size_t)(eai__shape_numel(x) / inner);
    return true;
}

static bool softmax_supports(const eai__opctx_t *c)
{
    size_t b, ch;
    return f32_io(c, 1) && softmax_split(c, &b, &ch);
}

static eai_status_t softmax_prepare(eai__opctx_t *c, eai__xnn_node_t *st)
{
    size_t b, ch;
    softmax_split(c, &b, &ch);
    xnn_operator_t op = NULL;
    enum xnn_status s = xnn_create_softmax_nc_f32(ch, ch, ch, EAI__XNN_FLAGS, &op);
    EAI_TRY(eai__xnn_push(c, st, s, op, "create softmax"));
    return eai__xnn_check(c, xnn_setup_softmax_nc_f32(op, b, c->in[0].data, c->out[0].data, st->tp),
                          "setup softmax");
}

#define UNARY(n)                                                                                   \
    {                                                                                              \
        "", n, unary_supports, unary_prepare, NULL                                                 \
    }
#define BINARY(n)                                                                                  \
    {                                                                                              \
        "", n, binary_supports, binary_prepare, NULL                                               \
    }

const eai__xnn_op_t eai__xnn_ops_elementwise[] = {
    UNARY("Relu"),
    UNARY("Clip"),
    UNARY("Sigmoid"),
    UNARY("HardSwish"),
    UNARY("HardSigmoid"),
    UNARY("LeakyRelu"),
    UNARY("Elu"),
    UNARY("Abs"),
    UNARY("Neg"),
    UNARY("Floor"),
    UNARY("Ceil"),
    UNARY("Sqrt"),
    UNARY("Round"),
    BINARY("Add"),
    BINARY("Sum"),
    BINARY("Sub"),
    BINARY("Mul"),
    BINARY("Div"),
    BINARY("Max"),
    BINARY("Min"),
    {"", "PRelu", prelu_supports, prelu_prepare, NULL},
    {"", "Softmax", softmax_supports, softmax_prepare, NULL},
    {0},
};
