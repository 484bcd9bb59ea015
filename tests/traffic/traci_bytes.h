/* Byte builders for hand-made TraCI replies, shared by the wire and
 * subscription tests: big-endian integers and doubles, length-prefixed
 * strings, and a status response. Header-only (static inline):
 * tests/CMakeLists.txt builds one test_*.c per binary. */
#ifndef EAI_TESTS_TRACI_BYTES_H
#define EAI_TESTS_TRACI_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    uint8_t b[8192];
    size_t n;
} buf_t;

static inline void u8(buf_t *b, unsigned v)
{
    b->b[b->n++] = (uint8_t)v;
}
static inline void i32(buf_t *b, uint32_t v)
{
    for (int i = 3; i >= 0; i--)
        u8(b, (v >> (8 * i)) & 0xff);
}
static inline void f64(buf_t *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    for (int i = 7; i >= 0; i--)
        u8(b, (unsigned)(u >> (8 * i)) & 0xff);
}
static inline void str(buf_t *b, const char *s)
{
    i32(b, (uint32_t)strlen(s));
    memcpy(b->b + b->n, s, strlen(s));
    b->n += strlen(s);
}
/* A status response: length, command id, result code, description. */
static inline void status(buf_t *b, unsigned cmd, unsigned result, const char *desc)
{
    u8(b, (unsigned)(1 + 1 + 1 + 4 + strlen(desc)));
    u8(b, cmd);
    u8(b, result);
    str(b, desc);
}

#endif
