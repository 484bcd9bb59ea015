/* libFuzzer target for the KServe v2 request parser (eai_kserve_parse_request
 * and, for inputs starting with byte 0xB1, eai_kserve_parse_request_ex with
 * binary tensor data: the next two bytes are the JSON length, little-endian,
 * the rest the body): any input must give a status, never a crash, leak or
 * sanitizer report; an accepted request must be self-consistent and must
 * survive a write/parse round trip (binary tensors bit for bit). Corpus:
 * fuzz/corpus/kserve. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edgeai/kserve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* small limits keep every accepted tensor well under the fuzzer's RSS cap */
    eai_kserve_limits_t lim = {
        .max_body_bytes = 1 << 20, .max_tensors = 16, .max_elements = 1 << 16};
    eai_kserve_msg_t m;
    size_t hl = 0;
    if (size >= 3 && data[0] == 0xB1) {
        hl = (size_t)data[1] | (size_t)data[2] << 8;
        data += 3;
        size -= 3;
    }
    if (eai_kserve_parse_request_ex((const char *)data, size, hl, &lim, &m) != EAI_OK) {
        if (m.tensors || m.n_tensors || m.id || m.requested || m.n_requested)
            abort(); /* the header promises a zeroed result */
        return 0;
    }
    for (int i = 0; i < m.n_tensors; i++) {
        const eai_kserve_tensor_t *t = &m.tensors[i];
        size_t n = eai_dtype_size(t->dtype);
        if (!t->name || n == 0 || t->rank < 0 || t->rank > EAI_MAX_RANK || !t->data) abort();
        for (int d = 0; d < t->rank; d++) {
            if (t->dims[d] < 0) abort();
            n *= (size_t)t->dims[d];
        }
        if (n != t->n_bytes) abort();
        volatile uint8_t sum = 0; /* touch every byte so ASan checks the allocation */
        for (size_t k = 0; k < t->n_bytes; k++)
            sum += ((const uint8_t *)t->data)[k];
        (void)sum;
    }
    for (int i = 0; i < m.n_requested; i++)
        if (!m.requested[i]) abort();
    for (int i = 0; i < m.n_requested; i++)
        if (!m.requested_binary) abort();
    char *body;
    size_t n, rhl;
    if (eai_kserve_write_request_ex(&m, &body, &n, &rhl) == EAI_OK) {
        eai_kserve_limits_t big = {
            .max_body_bytes = (size_t)1 << 30, .max_tensors = 16, .max_elements = 1 << 16};
        eai_kserve_msg_t r;
        if (eai_kserve_parse_request_ex(body, n, rhl, &big, &r) != EAI_OK) abort();
        if (r.n_tensors != m.n_tensors || r.binary_output != m.binary_output) abort();
        for (int i = 0; i < r.n_tensors; i++) {
            if (r.tensors[i].n_bytes != m.tensors[i].n_bytes ||
                r.tensors[i].dtype != m.tensors[i].dtype ||
                r.tensors[i].binary != m.tensors[i].binary)
                abort();
            if (r.tensors[i].binary &&
                memcmp(r.tensors[i].data, m.tensors[i].data, r.tensors[i].n_bytes) != 0)
                abort();
        }
        eai_kserve_msg_free(&r);
        free(body);
    }
    eai_kserve_msg_free(&m);
    return 0;
}
