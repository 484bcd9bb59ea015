/* A bounds-checked flatbuffers reader for the TFLite importer.
 * Format (google/flatbuffers docs/source/Internals.md): little-endian; a
 * uoffset (u32) points forward from its own position; a table starts with an
 * soffset (i32) to its vtable (vtable = table - soffset); the vtable is u16
 * [vtable bytes, inline object bytes, field offsets...] where 0 or a slot
 * past the vtable means "absent, use the default"; vectors are a u32 count
 * followed by the elements; strings are byte vectors with a trailing NUL.
 * Every position is checked before it is read, loads go through memcpy (no
 * alignment assumptions), and every table and vector read is charged to a
 * budget so offsets that alias each other cannot blow up the work.
 */
#include <stdarg.h>
#include <stdio.h>

#include "model/tflite_impl.h"

static bool bad(tfl_fb_t *fb, const char *fmt, ...) EAI_PRINTF(2, 3);

static bool bad(tfl_fb_t *fb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fb->why, sizeof fb->why, fmt, ap);
    va_end(ap);
    return false;
}

static uint32_t rd_u32(const tfl_fb_t *fb, uint64_t pos)
{
    uint32_t x;
    memcpy(&x, fb->p + pos, 4);
    return x;
}

static uint16_t rd_u16(const tfl_fb_t *fb, uint64_t pos)
{
    uint16_t x;
    memcpy(&x, fb->p + pos, 2);
    return x;
}

/* [pos, pos + len) inside the file; 64-bit sums cannot wrap for 32-bit inputs. */
static bool in_file(const tfl_fb_t *fb, uint64_t pos, uint64_t len)
{
    return pos <= fb->n && len <= fb->n - pos;
}

static bool charge(tfl_fb_t *fb, uint64_t bytes)
{
    if (bytes > fb->budget)
        return bad(fb, "offsets revisit the same bytes too often (aliased tables or vectors)");
    fb->budget -= bytes;
    return true;
}

/* The table at byte pos and its vtable. */
static bool table_at(tfl_fb_t *fb, uint64_t pos, tfl_table_t *t)
{
    if (!in_file(fb, pos, 4))
        return bad(fb, "table at byte %llu is outside the file (%zu bytes)",
                   (unsigned long long)pos, fb->n);
    int32_t so;
    uint32_t u = rd_u32(fb, pos);
    memcpy(&so, &u, 4);
    int64_t vt = (int64_t)pos - so;
    if (vt < 0 || !in_file(fb, (uint64_t)vt, 4))
        return bad(fb, "table at byte %llu: vtable at byte %lld is outside the file (%zu bytes)",
                   (unsigned long long)pos, (long long)vt, fb->n);
    uint16_t vt_bytes = rd_u16(fb, (uint64_t)vt), obj_bytes = rd_u16(fb, (uint64_t)vt + 2);
    if (vt_bytes < 4 || vt_bytes % 2 || !in_file(fb, (uint64_t)vt, vt_bytes))
        return bad(fb, "table at byte %llu: vtable at byte %lld has a bad size %u",
                   (unsigned long long)pos, (long long)vt, vt_bytes);
    if (obj_bytes < 4 || !in_file(fb, pos, obj_bytes))
        return bad(fb, "table at byte %llu: its %u bytes run past the end of the file (%zu bytes)",
                   (unsigned long long)pos, obj_bytes, fb->n);
    if (!charge(fb, (uint64_t)vt_bytes + obj_bytes)) return false;
    *t = (tfl_table_t){
        .pos = (uint32_t)pos, .vt = (uint32_t)vt, .vt_bytes = vt_bytes, .obj_bytes = obj_bytes};
    return true;
}

bool eai__tfl_fb_root(tfl_fb_t *fb, tfl_table_t *root)
{
    if (fb->n < 8) return bad(fb, "%zu bytes is too short for a flatbuffer", fb->n);
    if (fb->n > 0x7fffffffu) /* flatbuffers' own limit: offsets are 32-bit */
        return bad(fb, "%zu bytes is over the 2 GiB flatbuffer limit", fb->n);
    fb->budget = 8 * (uint64_t)fb->n + 65536;
    return table_at(fb, rd_u32(fb, 0), root);
}

/* Position of field idx (size bytes), 0 when absent. */
static bool field(tfl_fb_t *fb, const tfl_table_t *t, int idx, uint32_t size, uint32_t *pos)
{
    uint32_t slot = 4 + 2 * (uint32_t)idx;
    *pos = 0;
    if (slot + 2 > t->vt_bytes) return true; /* written by an older schema */
    uint16_t off = rd_u16(fb, (uint64_t)t->vt + slot);
    if (off == 0) return true;
    if (off < 4 || (uint32_t)off + size > t->obj_bytes)
        return bad(fb, "table at byte %u: field %d at offset %u is outside the table (%u bytes)",
                   t->pos, idx, off, t->obj_bytes);
    *pos = t->pos + off;
    return true;
}

bool eai__tfl_fb_scalar(tfl_fb_t *fb, const tfl_table_t *t, int idx, uint32_t size, const void *def,
                        void *out)
{
    uint32_t pos;
    if (!field(fb, t, idx, size, &pos)) return false;
    memcpy(out, pos ? fb->p + pos : def, size);
    return true;
}

/* Follows the uoffset stored at pos; the target must leave `need` bytes. */
static bool follow(tfl_fb_t *fb, uint32_t pos, uint32_t need, uint64_t *target)
{
    uint64_t to = (uint64_t)pos + rd_u32(fb, pos);
    if (!in_file(fb, to, need))
        return bad(fb, "offset at byte %u points to byte %llu, outside the file (%zu bytes)", pos,
                   (unsigned long long)to, fb->n);
    *target = to;
    return true;
}

bool eai__tfl_fb_table(tfl_fb_t *fb, const tfl_table_t *t, int idx, tfl_table_t *out, bool *present)
{
    uint32_t pos;
    uint64_t to = 0;
    memset(out, 0, sizeof *out);
    *present = false;
    if (!field(fb, t, idx, 4, &pos)) return false;
    if (!pos) return true;
    if (!follow(fb, pos, 4, &to) || !table_at(fb, to, out)) return false;
    *present = true;
    return true;
}

static bool vec_at(tfl_fb_t *fb, uint32_t pos, uint32_t esize, tfl_vec_t *out)
{
    uint64_t to = 0;
    if (!follow(fb, pos, 4, &to)) return false;
    uint32_t n = rd_u32(fb, to);
    uint64_t bytes = (uint64_t)n * esize; /* n, esize < 2^32: no overflow */
    if (!in_file(fb, to + 4, bytes))
        return bad(fb, "vector at byte %llu: %u elements of %u bytes run past the end (%zu bytes)",
                   (unsigned long long)to, n, esize, fb->n);
    if (!charge(fb, 4 + bytes)) return false;
    *out = (tfl_vec_t){.pos = (uint32_t)(to + 4), .n = n, .esize = esize};
    return true;
}

bool eai__tfl_fb_vec(tfl_fb_t *fb, const tfl_table_t *t, int idx, uint32_t esize, tfl_vec_t *out)
{
    uint32_t pos;
    *out = (tfl_vec_t){.esize = esize};
    if (!field(fb, t, idx, 4, &pos)) return false;
    return pos ? vec_at(fb, pos, esize, out) : true;
}

bool eai__tfl_fb_str(tfl_fb_t *fb, const tfl_table_t *t, int idx, const char **s, uint32_t *len)
{
    tfl_vec_t v;
    uint32_t pos;
    *s = NULL;
    *len = 0;
    if (!field(fb, t, idx, 4, &pos)) return false;
    if (!pos) return true;
    if (!vec_at(fb, pos, 1, &v)) return false;
    if (!in_file(fb, v.pos, (uint64_t)v.n + 1) || fb->p[v.pos + v.n] != 0)
        return bad(fb, "string at byte %u is not NUL-terminated", v.pos - 4);
    *s = (const char *)fb->p + v.pos;
    *len = v.n;
    return true;
}

bool eai__tfl_fb_vec_table(tfl_fb_t *fb, const tfl_vec_t *v, uint32_t i, tfl_table_t *out)
{
    uint64_t to = 0;
    if (EAI_NEVER(i >= v->n || v->esize != 4))
        return bad(fb, "vector element %u of %u read out of range", i, v->n);
    return follow(fb, v->pos + 4 * i, 4, &to) && table_at(fb, to, out);
}
