/* Element types and tensor descriptions shared by every module.
 *
 * Type codes equal ONNX's TensorProto.DataType numbers, so files and the wire
 * carry them unchanged.
 */
#ifndef EDGEAI_TENSOR_H
#define EDGEAI_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "edgeai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EAI_MAX_RANK 8

typedef enum eai_dtype {
    EAI_DTYPE_UNDEFINED = 0,
    EAI_F32 = 1,
    EAI_U8 = 2,
    EAI_I8 = 3,
    EAI_U16 = 4,
    EAI_I16 = 5,
    EAI_I32 = 6,
    EAI_I64 = 7,
    EAI_BOOL = 9,
    EAI_F16 = 10,
    EAI_F64 = 11,
} eai_dtype_t;

/* Bytes per element, 0 for types edgeai does not store. */
EAI_API size_t eai_dtype_size(eai_dtype_t t);
/* Lower-case name ("float32", "int64"); "undefined" for unknown codes. */
EAI_API const char *eai_dtype_name(eai_dtype_t t);

/* A tensor's metadata: plain data, zero-init means rank 0 float32 scalar. */
typedef struct eai_tensor_info {
    const char *name; /* borrowed from the model; valid while the model lives */
    eai_dtype_t dtype;
    int rank;
    int64_t dims[EAI_MAX_RANK];
} eai_tensor_info_t;

/* Product of dims (1 for rank 0). */
EAI_API int64_t eai_tensor_info_numel(const eai_tensor_info_t *t);

/* IEEE half <-> float conversions (round to nearest even). */
EAI_API float eai_f16_to_f32(uint16_t h);
EAI_API uint16_t eai_f32_to_f16(float f);

#ifdef __cplusplus
}
#endif
#endif
