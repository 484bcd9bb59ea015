/* Internal helpers shared by every module: allocation through eai_allocator_t,
 * checked size arithmetic, a string->int map, and debug checks.
 * Not part of the public API (eai__ prefix). */
#ifndef EAI_CORE_IMPL_H
#define EAI_CORE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "edgeai/model.h"
#include "edgeai/status.h"
#include "edgeai/tensor.h"

#ifndef NDEBUG
#include <assert.h>
#define EAI_DCHECK(c) assert(c)
/* "cannot happen" branches we still handle: assert in debug, recover in release */
#define EAI_NEVER(c) (assert(!(c)), (c))
#else
#define EAI_DCHECK(c) ((void)0)
#define EAI_NEVER(c)  (c)
#endif

#define EAI_ALIGN          64
#define EAI_ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((size_t)(a)-1))

/* Allocation through an allocator (NULL or zero-init: libc). Every call can be
 * made to fail by EAI_TEST_FAIL_ALLOC=n (the n-th allocation, 1-based, fails),
 * which the OOM tests use. */
void *eai__alloc(const eai_allocator_t *a, size_t n);
/* Tests: make the n-th allocation from now fail (0: none); returns how many
 * allocations were counted since the last call. */
long eai__test_fail_alloc(long n);
void *eai__calloc(const eai_allocator_t *a, size_t n, size_t size);
void *eai__realloc(const eai_allocator_t *a, void *p, size_t n);
void eai__free(const eai_allocator_t *a, void *p);
char *eai__strdup(const eai_allocator_t *a, const char *s);
/* 64-byte aligned block; free with eai__free_aligned. */
void *eai__alloc_aligned(const eai_allocator_t *a, size_t n);
void eai__free_aligned(const eai_allocator_t *a, void *p);

/* Overflow-checked arithmetic: false when the result does not fit. */
static inline bool eai__mul_ok(int64_t a, int64_t b, int64_t *r)
{
    return !__builtin_mul_overflow(a, b, r);
}
static inline bool eai__add_ok(int64_t a, int64_t b, int64_t *r)
{
    return !__builtin_add_overflow(a, b, r);
}

/* Largest tensor edgeai will plan or allocate (1 TiB): far above any edge
 * model, far below where byte counts could overflow. */
#define EAI_MAX_TENSOR_BYTES ((int64_t)1 << 40)

/* Byte size of a tensor of `rank` dims and element size `esize`; false when a
 * dim is negative or the size exceeds EAI_MAX_TENSOR_BYTES. */
static inline bool eai__tensor_bytes_ok(const int64_t *dims, int rank, size_t esize, int64_t *bytes)
{
    int64_t n = (int64_t)esize;
    for (int i = 0; i < rank; i++)
        if (dims[i] < 0 || !eai__mul_ok(n, dims[i], &n) || n > EAI_MAX_TENSOR_BYTES) return false;
    *bytes = n;
    return true;
}

/* Open-addressing map from borrowed C strings to int; keys must outlive it. */
typedef struct eai__strmap {
    const char **keys;
    int *vals;
    size_t cap, n;
    const eai_allocator_t *alloc;
} eai__strmap_t;
eai_status_t eai__strmap_init(eai__strmap_t *m, const eai_allocator_t *a, size_t hint);
void eai__strmap_free(eai__strmap_t *m);
/* Inserts or replaces. */
eai_status_t eai__strmap_put(eai__strmap_t *m, const char *key, int val);
/* Value for key, or -1. */
int eai__strmap_get(const eai__strmap_t *m, const char *key);

/* Reads a whole file into an aligned buffer (free with eai__free_aligned).
 * EAI_E_IO with the path and errno text on failure. */
eai_status_t eai__read_file(const eai_allocator_t *a, const char *path, void **data,
                            size_t *n_bytes);
/* Best effort after an atomic rename (temp file + rename): fsync the folder
 * so the rename itself is durable. */
void eai__sync_parent_dir(const char *path);

/* Crash-safe file replacement: write into a temporary file next to `path`,
 * then eai__afile_commit gives it the replaced file's mode (else 0644),
 * fsyncs, renames it over `path` and syncs the folder. A reader never sees a
 * half-written file. Every writer of model, plan and .npy files uses it.
 *
 *   eai__afile_t f;
 *   EAI_TRY(eai__afile_open(&f, a, path));
 *   int err = eai__write_all(f.fd, buf, n) ? 0 : errno;
 *   return eai__afile_commit(&f, err);   (removes the temp file on failure) */
typedef struct eai__afile {
    const eai_allocator_t *a;
    const char *path;
    char *tmp;
    int fd;
} eai__afile_t;
eai_status_t eai__afile_open(eai__afile_t *f, const eai_allocator_t *a, const char *path);
/* `write_err`: 0, or the errno of a failed write (the commit then fails
 * with it and removes the temporary file). */
eai_status_t eai__afile_commit(eai__afile_t *f, int write_err);
/* Removes the temporary file (after an error of the caller's own). */
void eai__afile_abort(eai__afile_t *f);
/* write(2) until done, retrying EINTR; false with errno set. */
bool eai__write_all(int fd, const void *p, size_t n);
/* One buffer, atomically (the common case of the above). */
eai_status_t eai__write_file_atomic(const eai_allocator_t *a, const char *path, const void *data,
                                    size_t n);

/* Logging (eai_log_* public API lives in edgeai/log.h). */
void eai__log(int level, const char *fmt, ...) EAI_PRINTF(2, 3);

#endif
