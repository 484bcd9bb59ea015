/* NumPy .npy files: the on-disk form of single tensors.
 *
 *   eai_npy_t a;
 *   if (eai_npy_read("input.npy", &a) == EAI_OK) { use(a.data, a.n_bytes); eai_npy_free(&a); }
 *   eai_npy_write("out.npy", EAI_F32, 2, (int64_t[]){1, 1000}, logits);
 *
 * Reads format versions 1.0, 2.0 and 3.0 headers; little- or big-endian data
 * (big-endian converted); C order only (fortran_order True is rejected).
 * dtypes: float32, float16, float64, int64, int32, int16, int8, uint8, bool.
 */
#ifndef EDGEAI_NPY_H
#define EDGEAI_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "edgeai/status.h"
#include "edgeai/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eai_npy {
    eai_dtype_t dtype;
    int rank;
    int64_t dims[EAI_MAX_RANK];
    void *data; /* owned; native byte order; free with eai_npy_free */
    size_t n_bytes;
} eai_npy_t;

/* Reads `path`. EAI_E_IO (open/read), EAI_E_FORMAT (bad magic, header, sizes,
 * truncated data), EAI_E_UNSUPPORTED (dtype, fortran order, rank > 8),
 * EAI_E_NOMEM. On failure *out is zeroed. */
EAI_API eai_status_t eai_npy_read(const char *path, eai_npy_t *out);
/* Parses `n` bytes at `buf` (borrowed; data copied). `label` names the source in
 * messages (may be NULL). */
EAI_API eai_status_t eai_npy_parse(const void *buf, size_t n, const char *label, eai_npy_t *out);
/* Frees a's data and zeroes it. Accepts a zeroed struct. */
EAI_API void eai_npy_free(eai_npy_t *a);

/* Writes a v1.0 file (v2.0 if the header needs it) atomically: a temporary file
 * in the same folder renamed over `path`, so a failed write never destroys an
 * existing file. EAI_E_INVALID (dtype/rank), EAI_E_IO. */
EAI_API eai_status_t eai_npy_write(const char *path, eai_dtype_t dtype, int rank,
                                   const int64_t *dims, const void *data);

#ifdef __cplusplus
}
#endif
#endif
