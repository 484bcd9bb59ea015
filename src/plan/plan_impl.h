/* The .eai plan format (docs/eai-format.md is the byte-exact description):
 * constants shared by the writer (eai_write.c), the reader (eai_read.c,
 * plan_graph.c), `edgeai info` and the tests. Everything is little-endian;
 * the reader goes through the le*() helpers so no read is ever unaligned. */
#ifndef EAI_PLAN_IMPL_H
#define EAI_PLAN_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/runtime_impl.h"

/* "\x89EAI\r\n\x1a\n": PNG's trick, a non-ASCII first byte and the line-ending
 * bytes that a text-mode transfer would mangle. */
#define EAI__PLAN_MAGIC                                                                            \
    "\x89"                                                                                         \
    "EAI\r\n\x1a\n"
#define EAI__PLAN_MAGIC_BYTES   8
#define EAI__PLAN_VERSION       1
#define EAI__PLAN_HEADER_BYTES  64
#define EAI__PLAN_SECTION_BYTES 32
#define EAI__PLAN_ALIGN         64 /* weights section and every tensor in it */

/* Header flags (bits other than these make a v1 reader refuse the file). */
#define EAI__PLAN_F_FP16 0x1u /* some float32 weights are stored as IEEE half */
#define EAI__PLAN_F_INT8 0x2u /* the graph was quantized (informational) */

/* Section types; a section whose flags have EAI__PLAN_S_REQUIRED and whose
 * type the reader does not know makes it refuse the file, other unknown
 * sections are skipped (room for later additions). */
enum {
    EAI__PLAN_META = 1,
    EAI__PLAN_STRINGS = 2,
    EAI__PLAN_GRAPH = 3,
    EAI__PLAN_WEIGHTS = 4,
};
#define EAI__PLAN_S_REQUIRED 0x1u

/* Value record flags in the graph section. */
#define EAI__PLAN_V_OUTPUT 0x1u /* is_output */
#define EAI__PLAN_V_SYM    0x2u /* rank string ids of symbolic dim names follow */
#define EAI__PLAN_V_HALF   0x4u /* CONST float32 stored as IEEE half */

#define EAI__PLAN_NONE 0xffffffffu /* "no string" id */

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the iSCSI/ext4
 * checksum: hardware instructions on x86-64 (SSE4.2) and ARMv8 (CRC), a
 * slicing-by-8 table otherwise. Chainable like zlib's crc32(): start with 0,
 * pass the previous result to continue. crc32c("123456789") = 0xE3069283. */
uint32_t eai__crc32c(uint32_t crc, const void *data, size_t n);
/* The portable table version (tests compare it with the hardware path). */
uint32_t eai__crc32c_sw(uint32_t crc, const void *data, size_t n);

/* Whether a CONST value is stored as half in an FP16 plan: float32, at least
 * 64 elements (small tensors are scales, shapes and epsilons where half's
 * 11-bit mantissa would matter and the bytes do not), every value finite and
 * within half's range (|x| <= 65504). eai_build rounds exactly these tensors
 * to half and back, so a built model computes what its saved plan computes. */
bool eai__plan_f16_eligible(const eai__value_t *v);

/* What `edgeai info` prints about a plan: read from the header, the section
 * table and the META section only (no weights CRC). */
typedef struct eai__plan_info {
    uint32_t version, flags;
    uint64_t file_bytes;
    uint64_t meta_bytes, strings_bytes, graph_bytes, weights_bytes;
    char edgeai_version[32]; /* META "edgeai_version" */
    char backend[32];        /* META "backend" ("" = any) */
    char build[256];         /* META "build": the build options */
    char source[256];        /* META "source": the file the plan was built from */
    char producer[128];      /* META "producer" */
} eai__plan_info_t;

/* Fills `out` when `path` is a plan; EAI_E_FORMAT / EAI_E_IO otherwise. */
eai_status_t eai__plan_read_info(const char *path, eai__plan_info_t *out);

/* Decodes the graph section into `g` (an initialised, empty graph) with every
 * read bounds-checked; CONST data comes from `weights` (`n_weights` bytes):
 * pointed to when `borrow` (mmap), copied otherwise; half tensors are always
 * converted into owned float32 buffers. Ends with eai__graph_finish. */
eai_status_t eai__plan_decode_graph(eai__graph_t *g, const uint8_t *graph, size_t n_graph,
                                    const uint8_t *strings, size_t n_strings,
                                    const uint8_t *weights, size_t n_weights, bool borrow);

/* n IEEE halves (little-endian bytes at src, any alignment) to float32:
 * exact for every input (subnormals, inf, NaN payloads) and loop-friendly
 * for the vectoriser; equals eai_f16_to_f32 bit for bit. */
void eai__plan_half_to_float(float *dst, const uint8_t *src, size_t n);

/* Little-endian loads and stores (byte by byte: alignment- and host-order-free). */
static inline uint32_t eai__le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t eai__le64(const uint8_t *p)
{
    return (uint64_t)eai__le32(p) | (uint64_t)eai__le32(p + 4) << 32;
}
static inline void eai__put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static inline void eai__put_le64(uint8_t *p, uint64_t v)
{
    eai__put_le32(p, (uint32_t)v);
    eai__put_le32(p + 4, (uint32_t)(v >> 32));
}

/* Section name for messages ("weights"; "type N" for unknown ones). */
const char *eai__plan_section_name(uint32_t type, char *buf, size_t n);

#endif
