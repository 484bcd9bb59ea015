/* libFuzzer target for the .npy parser (eai_npy_parse): any input must give a
 * status, never a crash, leak or sanitizer report; an accepted array must be
 * self-consistent. Corpus: fuzz/corpus/npy, dictionary: fuzz/npy.dict. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "edgeai/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    eai_npy_t a;
    if (eai_npy_parse(data, size, "fuzz.npy", &a) != EAI_OK) {
        if (a.data || a.n_bytes || a.rank) /* the header promises a zeroed result */
            abort();
        return 0;
    }
    size_t n = eai_dtype_size(a.dtype);
    if (n == 0 || a.rank < 0 || a.rank > EAI_MAX_RANK || !a.data) abort();
    for (int i = 0; i < a.rank; i++) {
        if (a.dims[i] < 0) abort();
        n *= (size_t)a.dims[i];
    }
    if (n != a.n_bytes || a.n_bytes > size) abort();
    /* touch every byte so ASan checks the whole allocation */
    volatile uint8_t sum = 0;
    for (size_t i = 0; i < a.n_bytes; i++)
        sum += ((const uint8_t *)a.data)[i];
    (void)sum;
    eai_npy_free(&a);
    return 0;
}
