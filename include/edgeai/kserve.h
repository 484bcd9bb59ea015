/* KServe v2 / Open Inference Protocol JSON bodies (the REST API NVIDIA Triton
 * and KServe speak): parse and write inference requests and responses.
 *
 *   {"id": "42", "inputs": [{"name": "image", "shape": [1, 1, 28, 28],
 *    "datatype": "FP32", "data": [0.0, 0.1, ...]}], "outputs": [{"name": "logits"}]}
 *
 * "data" may be flat or nested (row-major), as the protocol allows. Tensors
 * are held in native layout, one buffer each, owned by the message.
 * Supported datatypes: BOOL, UINT8, INT8, INT16, INT32, INT64, FP16 (as
 * numbers), FP32, FP64; BYTES is rejected with EAI_E_UNSUPPORTED (no model
 * edgeai runs takes strings).
 *
 * Binary tensor data (the extension NVIDIA Triton's clients use by default):
 * the body is the JSON object followed by raw little-endian tensor bytes; the
 * HTTP header Inference-Header-Content-Length gives the JSON's length (the
 * `header_len` below). A tensor sent that way carries
 * "parameters": {"binary_data_size": N} instead of "data"; a request asks
 * for binary outputs with "parameters": {"binary_data_output": true} or per
 * output with {"name": ..., "parameters": {"binary_data": true}}. Binary
 * data is exact for every dtype (JSON numbers go through double, so INT64
 * values beyond +-2^53 are refused in JSON rather than rounded).
 */
#ifndef EDGEAI_KSERVE_H
#define EDGEAI_KSERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgeai/status.h"
#include "edgeai/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eai_kserve_tensor {
    char *name;
    eai_dtype_t dtype;
    int rank;
    int64_t dims[EAI_MAX_RANK];
    void *data; /* numel * eai_dtype_size(dtype) bytes, native order */
    size_t n_bytes;
    bool binary; /* parsed: it came as binary data; written: write it so */
} eai_kserve_tensor_t;

/* A request (tensors = inputs, requested = the "outputs" names asked for) or
 * a response (tensors = outputs, model_name/version set). All owned. */
typedef struct eai_kserve_msg {
    char *id;            /* NULL when absent */
    char *model_name;    /* responses */
    char *model_version; /* responses; NULL when absent */
    int n_tensors;
    eai_kserve_tensor_t *tensors;
    int n_requested;
    char **requested;
    bool binary_output;     /* request: parameters.binary_data_output */
    bool *requested_binary; /* request: n_requested flags, outputs[i].parameters.binary_data */
} eai_kserve_msg_t;

typedef struct eai_kserve_limits {
    size_t max_body_bytes; /* 0 means 64 MiB */
    int max_tensors;       /* 0 means 64 */
    int64_t max_elements;  /* per tensor; 0 means 1 << 26 */
} eai_kserve_limits_t;

/* Parses an inference request body (n bytes, need not be NUL-terminated).
 * EAI_E_FORMAT for malformed JSON or a field of the wrong type, a shape that
 * does not match the data count, a value out of the datatype's range (the
 * message names the tensor and the field); EAI_E_UNSUPPORTED for BYTES;
 * EAI_E_INVALID when a limit is exceeded. `lim` may be NULL. On failure *out
 * is zeroed and owns nothing. */
EAI_API eai_status_t eai_kserve_parse_request(const char *body, size_t n,
                                              const eai_kserve_limits_t *lim,
                                              eai_kserve_msg_t *out);
/* Same for a response body ("model_name", "outputs"); an {"error": "..."}
 * body comes back as EAI_E_UNAVAILABLE with the server's sentence. */
EAI_API eai_status_t eai_kserve_parse_response(const char *body, size_t n,
                                               const eai_kserve_limits_t *lim,
                                               eai_kserve_msg_t *out);
EAI_API void eai_kserve_msg_free(eai_kserve_msg_t *m);

/* The same with binary tensor data: body[0, header_len) is the JSON, the
 * rest the tensors flagged with binary_data_size, in order; header_len 0
 * means the whole body is JSON (then binary_data_size is an error). The
 * binary part must be consumed exactly. */
EAI_API eai_status_t eai_kserve_parse_request_ex(const char *body, size_t n, size_t header_len,
                                                 const eai_kserve_limits_t *lim,
                                                 eai_kserve_msg_t *out);
EAI_API eai_status_t eai_kserve_parse_response_ex(const char *body, size_t n, size_t header_len,
                                                  const eai_kserve_limits_t *lim,
                                                  eai_kserve_msg_t *out);

/* Writes a request / response body; *body is NUL-terminated, free() it.
 * Floats are written with enough digits to round-trip exactly. */
EAI_API eai_status_t eai_kserve_write_request(const eai_kserve_msg_t *m, char **body, size_t *n);
EAI_API eai_status_t eai_kserve_write_response(const eai_kserve_msg_t *m, char **body, size_t *n);
/* The same, writing tensors whose `binary` flag is set as binary data after
 * the JSON; *header_len is the JSON's length (send it as
 * Inference-Header-Content-Length), 0 when no tensor is binary. A request
 * written this way also asks for binary outputs when m->binary_output is set. */
EAI_API eai_status_t eai_kserve_write_request_ex(const eai_kserve_msg_t *m, char **body, size_t *n,
                                                 size_t *header_len);
EAI_API eai_status_t eai_kserve_write_response_ex(const eai_kserve_msg_t *m, char **body, size_t *n,
                                                  size_t *header_len);
/* {"error": "<sentence>"} with JSON escaping. */
EAI_API eai_status_t eai_kserve_write_error(const char *sentence, char **body, size_t *n);

/* "FP32" <-> EAI_F32 and so on. Unknown: NULL / EAI_E_FORMAT. */
EAI_API const char *eai_kserve_dtype_name(eai_dtype_t t);
EAI_API eai_status_t eai_kserve_dtype_parse(const char *s, eai_dtype_t *out);

#ifdef __cplusplus
}
#endif

#endif
