/* Training kernels for Add, Sub and Mul with numpy broadcasting. Each input
 * gets strides over the output's index space (0 along broadcast axes), so
 * backward's `dA[offset(i)] += ...` over every output element i sums over
 * the broadcast axes by itself.
 */
#include "train/ops_impl.h"

enum { OP_ADD, OP_SUB, OP_MUL };

typedef struct elem_state {
    int kind;
    int rank;
    int64_t d[EAI_MAX_RANK];     /* output dims */
    int64_t st[2][EAI_MAX_RANK]; /* per input: stride along each output axis */
    bool flat;                   /* both inputs have the output's shape */
} elem_state_t;

static eai_status_t elem_infer(eai__tnode_t *n)
{
    elem_state_t *s = n->state;
    const eai__shape_t *a = &n->in[0]->shape, *b = &n->in[1]->shape;
    int r = a->rank > b->rank ? a->rank : b->rank;
    s->rank = r;
    s->flat = a->rank == b->rank;
    for (int k = 0; k < r; k++) {
        int ia = k - (r - a->rank), ib = k - (r - b->rank);
        int64_t da = ia >= 0 ? a->d[ia] : 1, db = ib >= 0 ? b->d[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return eai__top_fail(n, EAI_E_FORMAT,
                                 "shapes do not broadcast at axis %d (%lld vs %lld)", k,
                                 (long long)da, (long long)db);
        s->d[k] = da > db ? da : db;
        if (da == 0 || db == 0) s->d[k] = 0;
        s->flat = s->flat && da == db;
    }
    for (int i = 0; i < 2; i++) {
        const eai__shape_t *x = i ? b : a;
        int64_t acc = 1;
        for (int k = r - 1; k >= 0; k--) {
            int ix = k - (r - x->rank);
            int64_t dx = ix >= 0 ? x->d[ix] : 1;
            s->st[i][k] = dx == 1 ? 0 : acc;
            acc *= dx;
        }
    }
    eai__shape_t *y = &n->out[0]->shape;
    y->rank = r;
    for (int k = 0; k < r; k++)
        y->d[k] = s->d[k];
    return EAI_OK;
}

static eai_status_t elem_prepare(eai__tnode_t *n, const eai_allocator_t *al, int kind)
{
    EAI_TRY(eai__top_check_io(n, 2, 2, 2));
    EAI_TRY(eai__top_state(n, al, sizeof(elem_state_t)));
    ((elem_state_t *)n->state)->kind = kind;
    return elem_infer(n);
}

static eai_status_t add_prepare(eai__tnode_t *n, const eai_allocator_t *a, size_t *scratch)
{
    *scratch = 0;
    return elem_prepare(n, a, OP_ADD);
}
static eai_status_t sub_prepare(eai__tnode_t *n, const eai_allocator_t *a, size_t *scratch)
{
    *scratch = 0;
    return elem_prepare(n, a, OP_SUB);
}
static eai_status_t mul_prepare(eai__tnode_t *n, const eai_allocator_t *a, size_t *scratch)
{
    *scratch = 0;
    return elem_prepare(n, a, OP_MUL);
}

static inline float apply(int kind, float a, float b)
{
    return kind == OP_ADD ? a + b : kind == OP_SUB ? a - b : a * b;
}

/* Calls the row kernel for every run of the innermost axis with the two
 * inputs' offsets. */
#define FOR_ROWS(s, body)                                                                          \
    do {                                                                                           \
        int r_ = (s)->rank;                                                                        \
        int64_t inner = r_ ? (s)->d[r_ - 1] : 1, rows = 1, idx_[EAI_MAX_RANK] = {0};               \
        int64_t ia = r_ ? (s)->st[0][r_ - 1] : 0, ib = r_ ? (s)->st[1][r_ - 1] : 0;                \
        for (int k_ = 0; k_ < r_ - 1; k_++)                                                        \
            rows *= (s)->d[k_];                                                                    \
        int64_t oa = 0, ob = 0;                                                                    \
        for (int64_t row = 0; row < rows && inner > 0; row++) {                                    \
            int64_t oy = row * inner;                                                              \
            body;                                                                                  \
            for (int k_ = r_ - 2; k_ >= 0; k_--) {                                                 \
                oa += (s)->st[0][k_], ob += (s)->st[1][k_];                                        \
                if (++idx_[k_] < (s)->d[k_]) break;                                                \
                oa -= (s)->st[0][k_] * (s)->d[k_], ob -= (s)->st[1][k_] * (s)->d[k_];              \
                idx_[k_] = 0;                                                                      \
            }                                                                                      \
        }                                                                                          \
    } while (0)

static eai_status_t elem_forward(eai__tnode_t *n, eai__tctx_t *c)
{
    const elem_state_t *s = n->state;
    const float *a = n->in[0]->data, *b = n->in[1]->data;
    float *y = n->out[0]->data;
    int kind = s->kind;
    if (s->flat) {
        int64_t total = 1;
        for (int k = 0; k < s->rank; k++)
            total *= s->d[k];
        for (int64_t i = 0; i < total; i++)
            y[i] = apply(kind, a[i], b[i]);
        return EAI_OK;
    }
    FOR_ROWS(s, {
        for (int64_t j = 0; j < inner; j++)
            y[oy + j] = apply(kind, a[oa + j * ia], b[ob + j * ib]);
    });
    return EAI_OK;
}

static eai_status_t elem_backward(eai__tnode_t *n, eai__tctx_t *c)
{
    const elem_state_t *s = n->state;
    const float *dy = n->out[0]->grad;
    if (!dy) return EAI_OK;
    const float *a = n->in[0]->data, *b = n->in[1]->data;
    float *da = n->in[0]->grad, *db = n->in[1]->grad;
    bool mul = s->kind == OP_MUL;
    float sb = s->kind == OP_SUB ? -1.0f : 1.0f;
    if (da)
        FOR_ROWS(s, {
            for (int64_t j = 0; j < inner; j++)
                da[oa + j * ia] += mul ? dy[oy + j] * b[ob + j * ib] : dy[oy + j];
        });
    if (db)
        FOR_ROWS(s, {
            for (int64_t j = 0; j < inner; j++)
                db[ob + j * ib] += mul ? dy[oy + j] * a[oa + j * ia] : sb * dy[oy + j];
        });
    return EAI_OK;
}

EAI__TOP_SAFE_PREPARE(add_prepare)
const eai__top_t eai__top_add = {"Add",         add_prepare_safe, elem_infer, elem_forward,
                                 elem_backward, eai__top_release, 0};
EAI__TOP_SAFE_PREPARE(sub_prepare)
const eai__top_t eai__top_sub = {"Sub",         sub_prepare_safe, elem_infer, elem_forward,
                                 elem_backward, eai__top_release, 0};
EAI__TOP_SAFE_PREPARE(mul_prepare)
const eai__top_t eai__top_mul = {"Mul",         mul_prepare_safe, elem_infer, elem_forward,
                                 elem_backward, eai__top_release, 0};
