/* String -> int map with open addressing (FNV-1a, linear probing). Used for
 * value names while importing graphs; never on a hot path. */
#include "core/core_impl.h"

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

eai_status_t eai__strmap_init(eai__strmap_t *m, const eai_allocator_t *a, size_t hint)
{
    size_t cap = 16;
    while (cap < hint * 2)
        cap *= 2;
    memset(m, 0, sizeof *m);
    m->alloc = a;
    m->keys = eai__calloc(a, cap, sizeof *m->keys);
    m->vals = eai__calloc(a, cap, sizeof *m->vals);
    if (!m->keys || !m->vals) {
        eai__strmap_free(m);
        return eai_fail(EAI_E_NOMEM, "out of memory for a name table of %zu entries", cap);
    }
    m->cap = cap;
    return EAI_OK;
}

void eai__strmap_free(eai__strmap_t *m)
{
    eai__free(m->alloc, m->keys);
    eai__free(m->alloc, m->vals);
    m->keys = NULL;
    m->vals = NULL;
    m->cap = m->n = 0;
}

static eai_status_t grow(eai__strmap_t *m)
{
    eai__strmap_t bigger;
    EAI_TRY(eai__strmap_init(&bigger, m->alloc, m->cap));
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i]) eai__strmap_put(&bigger, m->keys[i], m->vals[i]);
    eai__strmap_free(m);
    *m = bigger;
    return EAI_OK;
}

eai_status_t eai__strmap_put(eai__strmap_t *m, const char *key, int val)
{
    if ((m->n + 1) * 2 > m->cap) EAI_TRY(grow(m));
    size_t i = hash(key) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], key) != 0)
        i = (i + 1) & (m->cap - 1);
    if (!m->keys[i]) {
        m->keys[i] = key;
        m->n++;
    }
    m->vals[i] = val;
    return EAI_OK;
}

int eai__strmap_get(const eai__strmap_t *m, const char *key)
{
    if (!m->cap) return -1;
    size_t i = hash(key) & (m->cap - 1);
    while (m->keys[i]) {
        if (strcmp(m->keys[i], key) == 0) return m->vals[i];
        i = (i + 1) & (m->cap - 1);
    }
    return -1;
}
