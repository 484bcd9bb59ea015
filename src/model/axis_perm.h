/* Axis permutations shared by the TensorFlow importers (TFLite, TF.js): both
 * describe an IR value as Transpose(source tensor, p) so NHWC sources become
 * NCHW IR without copying activations, and permute constants at import.
 */
#ifndef EAI_MODEL_AXIS_PERM_H
#define EAI_MODEL_AXIS_PERM_H

#include <stdbool.h>
#include <stddef.h>

#include "model/graph.h"

/* IR value = Transpose(source tensor, p); rank 0 means identity (plain). */
typedef struct eai__perm {
    int rank;
    int p[EAI_MAX_RANK];
} eai__perm_t;

extern const eai__perm_t eai__perm_nchw; /* [0,3,1,2]: the NCHW IR of an NHWC tensor */

static inline bool eai__perm_plain(const eai__perm_t *l)
{
    return !l || l->rank == 0;
}
/* Normalises: identity permutations become rank 0. */
void eai__perm_norm(eai__perm_t *l);
bool eai__perm_eq(const eai__perm_t *a, const eai__perm_t *b);
/* IR axis holding source axis `axis` under l (axis in [0, rank)). */
int eai__perm_find(const eai__perm_t *l, int axis);
/* dst = Transpose(src, perm) of C-order data of shape `in`. */
void eai__permute(const void *src, size_t esize, const eai__shape_t *in, const int *perm,
                  void *dst);

#endif
