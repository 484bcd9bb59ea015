/* Training kernels for the data-movement ops: Flatten, Reshape, Concat,
 * Transpose, Identity. Outputs are copies (the trainer gives every value its
 * own buffer); backward adds the output gradient back in input order.
 *
 * Reshape's batch rule: exporters trace at a fixed batch E and may bake it
 * into the shape constant ([1, -1] from x.view(1, -1) or a folded
 * x.view(x.size(0), -1)). A positive leading entry equal to E follows the
 * data input's current dim 0 instead, where E is the data input's static
 * dim 0 if the graph knows it, else the first graph input's static dim 0, else
 * 1 (symbolic batch: exporters trace with 1). When the shape so obtained does
 * not hold the input's elements, the literal shape is tried before failing.
 */
#include <string.h>

#include "train/ops_impl.h"

static eai_status_t copy_forward(eai__tnode_t *n, eai__tctx_t *c)
{
    memcpy(n->out[0]->data, n->in[0]->data,
           (size_t)eai__shape_numel(&n->in[0]->shape) * sizeof(float));
    return EAI_OK;
}

static eai_status_t add_backward(eai__tnode_t *n, eai__tctx_t *c)
{
    const float *dy = n->out[0]->grad;
    float *dx = n->in[0]->grad;
    if (!dy || !dx) return EAI_OK;
    for (int64_t i = 0, e = eai__shape_numel(&n->in[0]->shape); i < e; i++)
        dx[i] += dy[i];
    return EAI_OK;
}

/* ---- Identity ---- */

static eai_status_t identity_infer(eai__tnode_t *n)
{
    n->out[0]->shape = n->in[0]->shape;
    return EAI_OK;
}

static eai_status_t identity_prepare(eai__tnode_t *n, const eai_allocator_t *a, size_t *scratch)
{
    EAI_TRY(eai__top_check_io(n, 1, 1, 1));
    *scratch = 0;
    return identity_infer(n);
}

const eai__top_t eai__top_identity = {
    "Identity", identity_prepare, identity_infer, copy_forward, add_backward, NULL, 0};

/* ---- Flatten ---- */

typedef struct shape_state {
    int axis;
    int rank; /* Reshape: entries of target */
    int64_t target[EAI_MAX_RANK];
    int64_t batch0;         /* Reshape: export batch E (see the file comment) */
    bool follow;            /* Reshape: target[0] follows the batch */
    int perm[EAI_MAX_RANK]; /* Transpose */
    int raxis;              /* Concat: axis resolved against the rank */
} shape_state_t;

static eai_status_t flatten_infer(eai__tnode_t *n)
{
    const shape_state_t *s = n->state;
    const eai__shape_t *x = &n->in[0]->shape;
    int axis = s->axis < 0 ? s->axis + x->rank : s->axis;
    if (axis < 0 || axis > x->rank)
        return eai__top_fail(n, EAI_E_FORMAT, "axis %d out of range for rank %d", s->axis, x->rank);
    eai__shape_t *y = &n->out[0]->shape;
    y->rank = 2, y->d[0] = y->d[1] = 1;
    for (int i = 0; i < x->rank; i++)
        y->d[i < axis ? 0 : 1] *= x->d[i];
    return EAI_OK;
}

static eai_status_t flatten_prepare(eai__tnode_t *n, const eai_allocator_t *a, size_t *scratch)
{
    EAI_TRY(eai__top_check_io(n, 1, 1, 1));
    int64_t axis;
    EAI_TRY(eai__attr_int(n->g, n->node, "axis", 1, &axis));
    if (axis < -EAI_MAX_RANK || axis > EAI_MAX_RANK)
        return eai__top_fail(n, EAI_E_FORMAT, "axis %lld out of range", (long long)axis);
    EAI_TRY(eai__top_state(n, a, sizeof(shape_state_t)));
    ((shape_state_t *)n->state)->axis = (int)axis;
    *scratch = 0;
    return flatten_infer(n);
}

EAI__TOP_SAFE_PREPARE(flatten_prepare)
const eai__top_t eai__top_flatten = {
    "Flatten", flatten_prepare_safe, flatten_infer, copy_forward, add_backward, eai__top_release,
    0};

/* ---- Reshape ---- */

/* Resolves target (0: copy, -1: infer) against x; false when it cannot hold
 * x's elements. */
static bool resolve(const shape_state_t *s, const eai__shape_t *x, bool follow, eai__shape_t *y)
{
    int64_t known = 1, total = eai__shape_numel(x);
    int infer = -1;
    y->rank = s->rank;
    for (int i = 0; i < s->rank; i++) {
        int64_t v = s->target[i];
        if (i == 0 && follow)
            v = x->d[0];
        else if (v == 0) {
            if (i >= x->rank) return false;
            v = x->d[i];
        } else if (v == -1) {
            if (infer >= 0) return false;
            infer = i;
            continue;
        }
        if (v < 0) return false;
        y->d[i] = v;
        known *= v;
    }
    if (infer >= 0) {
        if (known == 0 || total % known) return false;
        y->d[infer] = total / known;
        known = total;
    }
    return known == total;
}

static eai_status_t reshape_infer(eai__tnode_t *n)
{
    const shape_state_t *s = n->state;
    const eai__shape_t *x = &n->in[0]->shape;
    eai__shape_t *y = &n->out[0]->shape;
    if (s->follow && x->rank > 0 && resolve(s, x, true, y)) return EAI_OK;
    if (resolve(s, x, false, y)) return EAI_OK;
    return eai__top_fail(n, EAI_E_FORMAT, "shape does not fit the %lld elements of the input",
                         (long long)eai__shape_numel(x));
}

static eai_status_t reshape_prepare(eai__tnode_t *n, const eai_allocator_t *a, size_t *scratch)
{
    EAI_TRY(eai__top_check_io(n, 2, 2, 1));
    const eai__tval_t *sh = n->in[1];
    if (!sh || !sh->v || sh->v->kind != EAI__V_CONST || sh->v->dtype != EAI_I64 || !sh->v->data)
        return eai__top_fail(n, EAI_E_UNSUPPORTED, "the shape must be a constant int64 tensor");
    if (sh->v->shape.rank != 1 || sh->v->shape.d[0] > EAI_MAX_RANK)
        return eai__top_fail(n, EAI_E_FORMAT, "the shape must be 1-D with at most %d entries",
                             EAI_MAX_RANK);
    int64_t allowzero;
    EAI_TRY(eai__attr_int(n->g, n->node, "allowzero", 0, &allowzero));
    const int64_t *t = sh->v->data;
    EAI_TRY(eai__top_state(n, a, sizeof(shape_state_t)));
    shape_state_t *s = n->state;
    s->rank = (int)sh->v->shape.d[0];
    for (int i = 0; i < s->rank; i++) {
        if (t[i] < -1 || (t[i] == 0 && allowzero))
            return eai__top_fail(n, EAI_E_UNSUPPORTED, "shape entry %d is %lld", i,
                                 (long long)t[i]);
        s->target[i] = t[i];
    }
    const eai__value_t *xv = n->in[0]->v;
    int64_t e = 1;
    if (xv && xv->shape.rank > 0 && xv->shape.d[0] > 0) {
        e = xv->shape.d[0];
    } else if (n->g->n_inputs > 0) {
        const eai__value_t *gi = &n->g->values[n->g->inputs[0]];
        if (gi->shape.rank > 0 && gi->shape.d[0] > 0) e = gi->shape.d[0];
    }
    s->batch0 = e;
    s->follow = s->rank > 0 && s->target[0] == e && !(xv && xv->kind == EAI__V_CONST);
    *scratch = 0;
    return reshape_infer(n);
}

EAI__TOP_SAFE_PREPARE(reshape_prepare)
const eai__top_t eai__top_reshape = {
    "Reshape", reshape_prepare_safe, reshape_infer, copy_forward, add_backward, eai__top_release,
    0};

/* ---- Concat ---- */

static eai_status_t concat_infer(eai__tnode_t *n)
{
    shape_state_t *s = n->state;
    const eai__shape_t *x0 = &n->in[0]->shape;
    int axis = s->axis < 0 ? s->axis + x0->rank : s->axis;
    if (axis < 0 || axis >= x0->rank)
        return eai__top_fail(n, EAI_E_FORMAT, "axis %d out of range for rank %d", s->axis,
                             x0->rank);
    eai__shape_t y = *x0;
    for (int i = 1; i < n->n_in; i++) {
        const eai__shape_t *xi = &n->in[i]->shape;
        bool ok = xi->rank == x0->rank;
        for (int k = 0; ok && k < x0->rank; k++)
            ok = k == axis || xi->d[k] == x0->d[k];
        if (!ok)
            return eai__top_fail(n, EAI_E_FORMAT, "input %d's shape does not match input 0's", i);
        y.d[axis] += xi->d[axis];
    }
    s->raxis = axis;
    n->out[0]->shape = y;
    return EAI_OK;
}

static eai_status_t concat_prepare(eai__tnode_t *n, const eai_allocator_t *a, size_t *scratch)
{
    EAI_TRY(eai__top_check_io(n, 1, 64, n->n_in));
    if (!eai__node_attr(n->node, "axis"))
        return eai__top_fail(n, EAI_E_FORMAT, "the 'axis' attribute is required");
    int64_t axis;
    EAI_TRY(eai__attr_int(n->g, n->node, "axis", 0, &axis));
    if (axis < -EAI_MAX_RANK || axis >= EAI_MAX_RANK)
        return eai__top_fail(n, EAI_E_FORMAT, "axis %lld out of range", (long long)axis);
    EAI_TRY(eai__top_state(n, a, sizeof(shape_state_t)));
    ((shape_state_t *)n->state)->axis = (int)axis;
    *scratch = 0;
    return concat_infer(n);
}

/* Copies each input's block per outer index (back: adds the blocks back). */
static void concat_run(eai__tnode_t *n, bool back)
{
    const shape_state_t *s = n->state;
    const eai__shape_t *y = &n->out[0]->shape;
    int axis = s->raxis;
    int64_t outer = 1, inner = 1;
    for (int k = 0; k < axis; k++)
        outer *= y->d[k];
    for (int k = axis + 1; k < y->rank; k++)
        inner *= y->d[k];
    int64_t row = y->d[axis] * inner, off = 0;
    for (int i = 0; i < n->n_in; i++) {
        int64_t blk = n->in[i]->shape.d[axis] * inner;
        float *dx = n->in[i]->grad;
        if (back && !dx) {
            off += blk;
            continue;
        }
        for (int64_t o = 0; o < outer; o++) {
            if (!back) {
                memcpy(n->out[0]->data + o * row + off, n->in[i]->data + o * blk,
                       (size_t)blk * sizeof(float));
                continue;
            }
            const float *dy = n->out[0]->grad + o * row + off;
            for (int64_t k = 0; k < blk; k++)
                dx[o * blk + k] += dy[k];
        }
        off += blk;
    }
}

static eai_status_t concat_forward(eai__tnode_t *n, eai__tctx_t *c)
{
    concat_run(n, false);
    return EAI_OK;
}

static eai_status_t concat_backward(eai__tnode_t *n, eai__tctx_t *c)
{
    if (n->out[0]->grad) concat_run(n, true);
    return EAI_OK;
}

EAI__TOP_SAFE_PREPARE(concat_prepare)
const eai__top_t eai__top_concat = {
    "Concat", concat_prepare_safe, concat_infer, concat_forward, concat_backward, eai__top_release,
    0};

/* ---- Transpose ---- */

static eai_status_t transpose_infer(eai__tnode_t *n)
{
    shape_state_t *s = n->state;
    const eai__shape_t *x = &n->in[0]->shape;
    if (x->rank != s->rank)
        return eai__top_fail(n, EAI_E_FORMAT, "input has rank %d, perm has %d entries", x->rank,
                             s->rank);
    eai__shape_t *y = &n->out[0]->shape;
    y->rank = x->rank;
    for (int i = 0; i < x->rank; i++)
        y->d[i] = x->d[s->perm[i]];
    return EAI_OK;
}

static eai_status_t transpose_prepare(eai__tnode_t *n, const eai_allocator_t *a, size_t *scratch)
{
    EAI_TRY(eai__top_check_io(n, 1, 1, 1));
    int rank = n->in[0]->shape.rank;
    int64_t p[EAI_MAX_RANK];
    int np;
    EAI_TRY(eai__attr_ints(n->g, n->node, "perm", p, EAI_MAX_RANK, &np));
    if (np < 0) {
        np = rank;
        for (int i = 0; i < rank; i++)
            p[i] = rank - 1 - i;
    }
    if (np != rank)
        return eai__top_fail(n, EAI_E_FORMAT, "perm has %d entries for rank %d", np, rank);
    unsigned seen = 0;
    for (int i = 0; i < np; i++) {
        if (p[i] < 0 || p[i] >= np || (seen >> p[i] & 1u))
            return eai__top_fail(n, EAI_E_FORMAT, "perm is not a permutation");
        seen |= 1u << p[i];
    }
    EAI_TRY(eai__top_state(n, a, sizeof(shape_state_t)));
    shape_state_t *s = n->state;
    s->rank = np;
    for (int i = 0; i < np; i++)
        s->perm[i] = (int)p[i];
    *scratch = 0;
    return transpose_infer(n);
}

/* Walks the output in order; input offset from permuted strides. */
static void transpose_run(eai__tnode_t *n, bool back)
{
    const shape_state_t *s = n->state;
    const eai__shape_t *x = &n->in[0]->shape, *y = &n->out[0]->shape;
    int r = x->rank;
    int64_t xs[EAI_MAX_RANK], st[EAI_MAX_RANK], idx[EAI_MAX_RANK] = {0};
    int64_t acc = 1;
    for (int i = r - 1; i >= 0; i--)
        xs[i] = acc, acc *= x->d[i];
    for (int i = 0; i < r; i++)
        st[i] = xs[s->perm[i]];
    int64_t total = eai__shape_numel(y), off = 0;
    const float *src = back ? n->out[0]->grad : n->in[0]->data;
    float *dst = back ? n->in[0]->grad : n->out[0]->data;
    for (int64_t i = 0; i < total; i++) {
        if (back)
            dst[off] += src[i];
        else
            dst[i] = src[off];
        for (int k = r - 1; k >= 0; k--) {
            off += st[k];
            if (++idx[k] < y->d[k]) break;
            off -= st[k] * y->d[k];
            idx[k] = 0;
        }
    }
}

static eai_status_t transpose_forward(eai__tnode_t *n, eai__tctx_t *c)
{
    transpose_run(n, false);
    return EAI_OK;
}

static eai_status_t transpose_backward(eai__tnode_t *n, eai__tctx_t *c)
{
    if (n->out[0]->grad && n->in[0]->grad) transpose_run(n, true);
    return EAI_OK;
}

EAI__TOP_SAFE_PREPARE(transpose_prepare)
const eai__top_t eai__top_transpose = {"Transpose",
                                       transpose_prepare_safe,
                                       transpose_infer,
                                       transpose_forward,
                                       transpose_backward,
                                       eai__top_release,
                                       0};
