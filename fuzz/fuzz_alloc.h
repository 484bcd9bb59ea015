/* Shared by the fuzz targets: a valid model may legitimately ask for
 * gigabytes (a folded constant of a huge shape); that must come back as
 * EAI_E_NOMEM, not trip libFuzzer's malloc limit. Allocations over 256 MiB
 * fail. */
#ifndef EAI_FUZZ_ALLOC_H
#define EAI_FUZZ_ALLOC_H

#include <stdlib.h>

static inline void *fuzz_capped_alloc(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    return size > ((size_t)256 << 20) ? NULL : realloc(ptr, size);
}

#endif
