/* Resize / Upsample in mode nearest, any dtype, as a gather step of this
 * backend (the YOLO necks' 2x upsample: on ref it was one memcpy call per
 * element on one thread, 10-15% of the detector's latency).
 *
 * Which input element each output element reads is not worked out here:
 * at prepare, the ref kernel runs once on an int32 "iota" input (element i
 * holds i), so its output is the gather map, by construction the ref's for
 * every coordinate transform and nearest_mode. Nearest is separable, so the
 * map is kept as one index table per axis (checked against the full map).
 * Run time copies: the trailing axes that the resize leaves alone (NHWC:
 * the channels) are one block, gathered along the last resized axis, and
 * an output row that reads the same input row as the row above it (a
 * vertical upsample) is one memcpy of that row. Rows are split across the
 * session's threads. Outputs are byte-identical to ref's.
 */
#include <stdlib.h>

#include "runtime/xnnpack/xnn_impl.h"

/* tf_crop_and_resize may write extrapolation_value (not a gather). */
static bool nearest_ok(const eai__opctx_t *c)
{
    const char *op = c->node->op;
    if (strcmp(op, "Resize") != 0 && strcmp(op, "Upsample") != 0) return false;
    const eai__attr_t *m = eai__node_attr(c->node, "mode");
    if (m && (m->type != EAI__A_STRING || strcmp(m->s, "nearest") != 0)) return false;
    const eai__attr_t *ct = eai__node_attr(c->node, "coordinate_transformation_mode");
    if (ct && (ct->type != EAI__A_STRING || strcmp(ct->s, "tf_crop_and_resize") == 0)) return false;
    const eai__shape_t *x = &c->in[0].shape, *y = &c->out[0].shape;
    const size_t es = eai_dtype_size(c->in[0].dtype);
    if (es == 0 || x->rank < 1 || x->rank != y->rank) return false;
    const int64_t nx = eai__shape_numel(x), ny = eai__shape_numel(y);
    return nx > 0 && ny > 0 && nx < INT32_MAX && ny < INT32_MAX;
}

/* EAI_XNN_NO_NEAREST=1 leaves these nodes to ref (A/B benchmarks). */
bool eai__xnn_nearest_supports(const eai__opctx_t *c)
{
    const char *off = getenv("EAI_XNN_NO_NEAREST");
    return !(off && off[0] == '1') && nearest_ok(c);
}

typedef struct nearest {
    const uint8_t *x;
    uint8_t *y;
    int rank;
    int lax;      /* the last axis gathered; axes after it are one block */
    size_t blk;   /* bytes of that block */
    int64_t rows; /* product of the output dims before lax */
    int64_t ow;   /* output dim of lax */
    int64_t od[EAI_MAX_RANK], ist[EAI_MAX_RANK];
    int64_t *map[EAI_MAX_RANK]; /* per axis: source coordinate of each output coordinate */
} nearest_t;

/* Output rows [begin, end): a row is one coordinate of the axes before
 * lax; it is ow blocks. */
static void nearest_rows(void *ctx, size_t begin, size_t count)
{
    const nearest_t *p = ctx;
    const int l = p->lax;
    const size_t row_bytes = (size_t)p->ow * p->blk;
    int64_t idx[EAI_MAX_RANK] = {0};
    int64_t r = (int64_t)begin;
    for (int k = l - 1; k >= 0; k--) {
        idx[k] = r % p->od[k];
        r /= p->od[k];
    }
    for (size_t i = 0; i < count; i++) {
        const int64_t row = (int64_t)(begin + i);
        uint8_t *dst = p->y + (size_t)row * row_bytes;
        /* the row above (same outer coordinates) read the same input row */
        if (i > 0 && l > 0 && idx[l - 1] > 0 &&
            p->map[l - 1][idx[l - 1]] == p->map[l - 1][idx[l - 1] - 1]) {
            memcpy(dst, dst - row_bytes, row_bytes);
        } else {
            int64_t off = 0;
            for (int k = 0; k < l; k++)
                off += p->map[k][idx[k]] * p->ist[k];
            const uint8_t *src = p->x + off;
            const int64_t *m = p->map[l], s = p->ist[l];
            if (p->blk == 1) {
                for (int64_t o = 0; o < p->ow; o++)
                    dst[o] = src[m[o] * s];
            } else if (p->blk == 4) {
                for (int64_t o = 0; o < p->ow; o++)
                    memcpy(dst + 4 * o, src + m[o] * s, 4);
            } else {
                for (int64_t o = 0; o < p->ow; o++)
                    memcpy(dst + (size_t)o * p->blk, src + m[o] * s, p->blk);
            }
        }
        for (int k = l - 1; k >= 0; k--) {
            if (++idx[k] < p->od[k]) break;
            idx[k] = 0;
        }
    }
}

static void nearest_step(const void *arg, pthreadpool_t tp)
{
    const nearest_t *p = arg;
    /* about 16 KiB of output per range: small ones are not worth a thread */
    const size_t row_bytes = (size_t)p->ow * p->blk;
    size_t tile = (16384 + row_bytes - 1) / row_bytes;
    pthreadpool_parallelize_1d_tile_1d(tp, nearest_rows, (void *)p, (size_t)p->rows, tile,
                                       EAI__XNN_PT_FLAGS);
}

/* Runs the ref kernel on an iota input: map[o] = the input index output
 * element o copies. */
static eai_status_t probe(eai__opctx_t *c, int32_t *iota, int32_t *map, void *taps)
{
    const eai__op_def_t *def = eai__op_find("", c->node->op);
    if (EAI_NEVER(!def || !def->eval))
        return eai__op_fail(c, EAI_E_STATE, "xnnpack: no ref kernel for %s", c->node->op);
    eai__tview_t in[8], out[1];
    if (EAI_NEVER(c->n_in > 8 || c->n_out < 1))
        return eai__op_fail(c, EAI_E_STATE, "xnnpack: unexpected Resize arity");
    memcpy(in, c->in, sizeof(eai__tview_t) * (size_t)c->n_in);
    out[0] = c->out[0];
    in[0].dtype = out[0].dtype = EAI_I32;
    in[0].data = iota;
    out[0].data = map;
    eai__opctx_t pc = *c;
    pc.in = in;
    pc.out = out;
    pc.n_out = 1;
    pc.scratch = taps;
    pc.pool = NULL;
    const int64_t nx = eai__shape_numel(&c->in[0].shape);
    for (int64_t i = 0; i < nx; i++)
        iota[i] = (int32_t)i;
    return def->eval(&pc);
}

/* The per-axis tables of a separable map; false if map is not one. */
static bool split_map(nearest_t *p, const eai__shape_t *x, const int32_t *map, int64_t ny)
{
    const int r = x->rank;
    int64_t ost[EAI_MAX_RANK], xst[EAI_MAX_RANK];
    ost[r - 1] = xst[r - 1] = 1;
    for (int k = r - 2; k >= 0; k--) {
        ost[k] = ost[k + 1] * p->od[k + 1];
        xst[k] = xst[k + 1] * x->d[k + 1];
    }
    /* output element 0's source, split into coordinates */
    int64_t c0[EAI_MAX_RANK], rem = map[0];
    for (int k = 0; k < r; k++) {
        c0[k] = rem / xst[k];
        rem %= xst[k];
    }
    for (int k = 0; k < r; k++)
        for (int64_t o = 0; o < p->od[k]; o++) {
            const int64_t d = (int64_t)map[o * ost[k]] - (int64_t)map[0];
            p->map[k][o] = c0[k] + d / xst[k];
            if (d % xst[k] != 0 || p->map[k][o] < 0 || p->map[k][o] >= x->d[k]) return false;
        }
    /* every element as the tables say */
    int64_t idx[EAI_MAX_RANK] = {0};
    for (int64_t e = 0; e < ny; e++) {
        int64_t s = 0;
        for (int k = 0; k < r; k++)
            s += p->map[k][idx[k]] * xst[k];
        if (s != map[e]) return false;
        for (int k = r - 1; k >= 0; k--) {
            if (++idx[k] < p->od[k]) break;
            idx[k] = 0;
        }
    }
    return true;
}

eai_status_t eai__xnn_nearest_prepare(eai__opctx_t *c, eai__xnn_node_t *st)
{
    if (EAI_NEVER(!nearest_ok(c)))
        return eai__op_fail(c, EAI_E_STATE, "xnnpack: Resize (nearest) no longer maps");
    const eai__shape_t *x = &c->in[0].shape, *y = &c->out[0].shape;
    const int r = x->rank;
    const int64_t nx = eai__shape_numel(x), ny = eai__shape_numel(y);
    const size_t es = eai_dtype_size(c->in[0].dtype);
    int64_t n_tab = 0;
    for (int k = 0; k < r; k++)
        n_tab += y->d[k];
    void *pb, *tb;
    EAI_TRY(eai__xnn_buffer(c, st, sizeof(nearest_t), NULL, &pb));
    EAI_TRY(eai__xnn_buffer(c, st, (size_t)n_tab * sizeof(int64_t), NULL, &tb));
    nearest_t *p = pb;
    p->x = c->in[0].data;
    p->y = c->out[0].data;
    p->rank = r;
    int64_t *t = tb;
    for (int k = 0; k < r; k++) {
        p->od[k] = y->d[k];
        p->map[k] = t;
        t += y->d[k];
    }
    /* the probe's buffers live only for this call */
    int32_t *iota = eai__alloc_aligned(&st->alloc, (size_t)nx * 4 + EAI__READ_PAD);
    int32_t *map = eai__alloc_aligned(&st->alloc, (size_t)ny * 4 + EAI__READ_PAD);
    void *taps = eai__alloc_aligned(&st->alloc, c->scratch_bytes + EAI__READ_PAD);
    eai_status_t s = EAI_OK;
    if (!iota || !map || !taps)
        s = eai__op_fail(c, EAI_E_NOMEM, "out of memory");
    else
        s = probe(c, iota, map, taps);
    if (s == EAI_OK && EAI_NEVER(!split_map(p, x, map, ny)))
        s = eai__op_fail(c, EAI_E_STATE, "xnnpack: Resize (nearest) map is not separable");
    eai__free_aligned(&st->alloc, iota);
    eai__free_aligned(&st->alloc, map);
    eai__free_aligned(&st->alloc, taps);
    EAI_TRY(s);
    /* trailing axes the resize leaves alone are one contiguous block */
    int lax = r - 1;
    size_t blk = es;
    while (lax > 0 && x->d[lax] == y->d[lax]) {
        bool id = true;
        for (int64_t o = 0; o < y->d[lax] && id; o++)
            id = p->map[lax][o] == o;
        if (!id) break;
        blk *= (size_t)y->d[lax];
        lax--;
    }
    p->lax = lax;
    p->blk = blk;
    p->ow = y->d[lax];
    p->rows = 1;
    for (int k = 0; k < lax; k++)
        p->rows *= y->d[k];
    /* byte strides of the input along the gathered axes */
    int64_t st_b = (int64_t)blk;
    for (int k = lax; k >= 0; k--) {
        p->ist[k] = st_b;
        st_b *= x->d[k];
    }
    return eai__xnn_push_fn(c, st, nearest_step, p);
}
