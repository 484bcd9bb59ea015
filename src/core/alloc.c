/* Allocation through eai_allocator_t, with fault injection for OOM tests:
 * EAI_TEST_FAIL_ALLOC=n makes the n-th allocation of the process fail. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_impl.h"

static atomic_long alloc_count;
static atomic_long fail_at = -1; /* -1: environment not read yet */

static bool inject_failure(void)
{
    long at = atomic_load(&fail_at);
    if (at < 0) {
        const char *e = getenv("EAI_TEST_FAIL_ALLOC");
        at = e ? atol(e) : 0;
        atomic_store(&fail_at, at);
    }
    if (at <= 0) return false;
    return atomic_fetch_add(&alloc_count, 1) + 1 == at;
}

long eai__test_fail_alloc(long n)
{
    long done = atomic_exchange(&alloc_count, 0);
    atomic_store(&fail_at, n);
    return done;
}

static void *raw_realloc(const eai_allocator_t *a, void *p, size_t n)
{
    if (a && a->fn) return a->fn(a->ctx, p, n);
    if (n == 0) {
        free(p);
        return NULL;
    }
    return realloc(p, n);
}

void *eai__alloc(const eai_allocator_t *a, size_t n)
{
    if (inject_failure()) return NULL;
    return raw_realloc(a, NULL, n ? n : 1);
}

void *eai__calloc(const eai_allocator_t *a, size_t n, size_t size)
{
    size_t bytes;
    if (__builtin_mul_overflow(n, size, &bytes)) return NULL;
    void *p = eai__alloc(a, bytes);
    if (p) memset(p, 0, bytes ? bytes : 1);
    return p;
}

void *eai__realloc(const eai_allocator_t *a, void *p, size_t n)
{
    if (inject_failure()) return NULL;
    return raw_realloc(a, p, n ? n : 1);
}

void eai__free(const eai_allocator_t *a, void *p)
{
    if (p) raw_realloc(a, p, 0);
}

char *eai__strdup(const eai_allocator_t *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = eai__alloc(a, n);
    if (d) memcpy(d, s, n);
    return d;
}

/* Aligned blocks keep the raw pointer just before the aligned address, so any
 * realloc-style allocator can back them. */
void *eai__alloc_aligned(const eai_allocator_t *a, size_t n)
{
    if (n > SIZE_MAX - EAI_ALIGN - sizeof(void *)) return NULL;
    unsigned char *raw = eai__alloc(a, n + EAI_ALIGN + sizeof(void *));
    if (!raw) return NULL;
    uintptr_t p = ((uintptr_t)raw + sizeof(void *) + EAI_ALIGN - 1) & ~(uintptr_t)(EAI_ALIGN - 1);
    ((void **)p)[-1] = raw;
    return (void *)p;
}

void eai__free_aligned(const eai_allocator_t *a, void *p)
{
    if (p) eai__free(a, ((void **)p)[-1]);
}
