/* Axis permutations of the TensorFlow importers (see axis_perm.h). */
#include <string.h>

#include "model/axis_perm.h"

const eai__perm_t eai__perm_nchw = {4, {0, 3, 1, 2}};

void eai__perm_norm(eai__perm_t *l)
{
    for (int i = 0; i < l->rank; i++)
        if (l->p[i] != i) return;
    l->rank = 0;
}

bool eai__perm_eq(const eai__perm_t *a, const eai__perm_t *b)
{
    if (eai__perm_plain(a) || eai__perm_plain(b)) return eai__perm_plain(a) && eai__perm_plain(b);
    return a->rank == b->rank && memcmp(a->p, b->p, (size_t)a->rank * sizeof a->p[0]) == 0;
}

int eai__perm_find(const eai__perm_t *l, int axis)
{
    if (eai__perm_plain(l)) return axis;
    for (int i = 0; i < l->rank; i++)
        if (l->p[i] == axis) return i;
    return axis;
}

void eai__permute(const void *src, size_t esize, const eai__shape_t *in, const int *perm, void *dst)
{
    int64_t stride[EAI_MAX_RANK], idx[EAI_MAX_RANK] = {0}, n = eai__shape_numel(in);
    int r = in->rank;
    int64_t acc = 1;
    for (int i = r - 1; i >= 0; i--) {
        stride[i] = acc;
        acc *= in->d[i];
    }
    for (int64_t o = 0; o < n; o++) {
        int64_t off = 0;
        for (int i = 0; i < r; i++)
            off += idx[i] * stride[perm[i]];
        memcpy((char *)dst + (size_t)o * esize, (const char *)src + (size_t)off * esize, esize);
        for (int i = r - 1; i >= 0; i--) { /* odometer over the output dims */
            if (++idx[i] < in->d[perm[i]]) break;
            idx[i] = 0;
        }
    }
}
