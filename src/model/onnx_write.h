/* Writing ONNX back: the original ModelProto bytes with some float tensors
 * replaced (trained parameters), packed and written atomically. */
#ifndef EAI_ONNX_WRITE_H
#define EAI_ONNX_WRITE_H

#include <stddef.h>

#include "core/core_impl.h"

/* A float tensor to store under `name` (an initializer, or the value of a
 * Constant node whose output is `name`); data borrowed for the call. */
typedef struct eai__onnx_update {
    const char *name;
    const float *data;
    size_t count;
} eai__onnx_update_t;

/* Decodes the ModelProto in onnx[0..n_bytes), replaces each named tensor's
 * data by updates[i].data (as raw_data, other data fields cleared) and writes
 * the result to `path` through a temporary file and rename, so a failure
 * leaves `path` as it was. Every update must name a float32 tensor with
 * `count` elements: EAI_E_INVALID otherwise. `label` names the model in
 * messages. EAI_E_FORMAT (undecodable bytes), EAI_E_IO, EAI_E_NOMEM. */
eai_status_t eai__onnx_write_updated(const eai_allocator_t *a, const void *onnx, size_t n_bytes,
                                     const char *label, const eai__onnx_update_t *updates,
                                     int n_updates, const char *path);

#endif
