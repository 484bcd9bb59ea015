/* Shared by the byte-moving op families (shape.c, layout.c, resize.c,
 * generate.c): an N-d strided copy that every view-like op (Transpose, Slice,
 * Expand, Tile, Pad) reduces to, and scalar conversions between dtypes.
 * Private to src/runtime/ref/.
 */
#ifndef EAI_LAYOUT_IMPL_H
#define EAI_LAYOUT_IMPL_H

#include "runtime/op_impl.h"

/* Rank the strided copy accepts: Tile views each axis as (repeat, dim). */
#define EAI__LAYOUT_MAX_RANK (2 * EAI_MAX_RANK)

/* dst[i] = src[i] over the index space `dims` (rank <= EAI__LAYOUT_MAX_RANK),
 * both sides addressed by byte strides (a source stride may be 0 to broadcast
 * or negative to walk backwards). Elements are `es` bytes. Runs of dims that
 * are contiguous on both sides are merged first, so a plain copy is one
 * memcpy. Does not allocate. */
void eai__layout_copy_nd(void *dst, const int64_t *dst_strides, const void *src,
                         const int64_t *src_strides, int rank, const int64_t *dims, size_t es);

/* Fills n elements of es bytes with the element at `val`. */
void eai__layout_fill(void *dst, int64_t n, const void *val, size_t es);

/* C-order element strides of a shape. */
static inline void eai__layout_strides(const eai__shape_t *s, int64_t *strides)
{
    int64_t st = 1;
    for (int i = s->rank - 1; i >= 0; i--) {
        strides[i] = st;
        st *= s->d[i];
    }
}

/* Byte strides of a contiguous C-order shape of es-byte elements. */
static inline void eai__layout_byte_strides(const eai__shape_t *s, size_t es, int64_t *strides)
{
    eai__layout_strides(s, strides);
    for (int i = 0; i < s->rank; i++)
        strides[i] *= (int64_t)es;
}

/* Reads element i of a numeric tensor as double / int64 (bool reads 0/1). */
double eai__layout_get_f64(eai_dtype_t dt, const void *p, int64_t i);
int64_t eai__layout_get_i64(eai_dtype_t dt, const void *p, int64_t i);
/* Writes v into element 0 of `out` in dtype dt (float->int truncates toward
 * zero and saturates; to bool: nonzero). */
void eai__layout_put_f64(eai_dtype_t dt, void *out, double v);

static inline bool eai__layout_is_float(eai_dtype_t dt)
{
    return dt == EAI_F32 || dt == EAI_F16 || dt == EAI_F64;
}

#endif
