/* libFuzzer target for the FL wire format (edgeai/flmsg.h): eai_flmsg_decode
 * and the reassembler. Input: one mode byte, then frames, each as a 2-byte
 * little-endian length and that many bytes (a short tail is one last frame).
 * Mode bit 0 set: recompute each frame's payload and header CRC-32C first,
 * so mutations get past the checksums and reach the field checks and the
 * reassembler; clear: frames go in as they are (what corruption looks like).
 * The reassembler runs with small caps (4 partial messages, 1 MiB) through
 * the capped allocator. Any input must give statuses, never a crash, leak or
 * sanitizer report, and a completed message must match its header
 * (including version 2's second block: flags 1, 1 <= n_block2 <= total / 4).
 * Completed secure-aggregation messages also go through eai_flmsg_sa_parse.
 * Corpus: fuzz/corpus/flmsg (fuzz/gen_flmsg_corpus.py). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edgeai/flmsg.h"
#include "fuzz_alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* CRC-32C (Castagnoli), bitwise: independent of the library's table/SSE4.2 code */
static uint32_t crc32c(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
    }
    return ~c;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A completed secure-aggregation message (types 8..14) must parse to a table
 * that lies inside its payload, and expand without reading past it. */
static void sa_check(const eai_flmsg_msg_t *m)
{
    eai_flmsg_sa_t t;
    if (m->hdr.type < 8 || m->hdr.type > 14) return;
    if (eai_flmsg_sa_parse(m->hdr.type, m->data, m->n_bytes, &t) != EAI_OK) return;
    if (t.n == 0 || t.n_rows > t.n || t.type != m->hdr.type) abort();
    if (t.type == EAI_FLMSG_SA_MASKED) {
        uint32_t *y = malloc(t.n_words ? t.n_words * sizeof *y : 1);
        if (y) eai_flmsg_sa_get_words(&t, y);
        free(y);
        return;
    }
    bool present[256];
    uint8_t *rows = t.row_bytes ? malloc((size_t)t.n * t.row_bytes) : NULL;
    if (t.row_bytes && !rows) return;
    eai_flmsg_sa_unpack(&t, present, rows);
    size_t k = 0;
    for (int i = 0; i < t.n; i++)
        k += present[i];
    if (k != t.n_rows) abort();
    free(rows);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int mode = data[0];
    data++;
    size--;
    eai_flmsg_asm_opts_t o = {.max_partial = 4, .max_bytes = 1 << 20};
    o.alloc.fn = fuzz_capped_alloc;
    eai_flmsg_asm_t *a;
    if (eai_flmsg_asm_create(&o, &a) != EAI_OK) return 0;
    uint8_t *frame = malloc(size ? size : 1);
    if (!frame) {
        eai_flmsg_asm_destroy(a);
        return 0;
    }
    while (size > 0) {
        size_t n = size;
        if (size >= 2) {
            size_t want = (size_t)data[0] | (size_t)data[1] << 8;
            data += 2;
            size -= 2;
            n = want < size ? want : size;
        }
        memcpy(frame, data, n);
        data += n;
        size -= n;
        if ((mode & 1) && n >= EAI_FLMSG_HEADER_BYTES) {
            put32(frame + 44, crc32c(frame + EAI_FLMSG_HEADER_BYTES, n - EAI_FLMSG_HEADER_BYTES));
            put32(frame + 76, crc32c(frame, 76));
        }
        eai_flmsg_hdr_t h;
        const uint8_t *pl;
        eai_status_t st = eai_flmsg_decode(frame, n, &h, &pl);
        if (st == EAI_OK) {
            if (h.chunk_bytes != n - EAI_FLMSG_HEADER_BYTES || h.chunk_index >= h.chunk_count ||
                h.total_bytes > EAI_FLMSG_MAX_TOTAL)
                abort();
            const bool b2 = h.flags == EAI_FLMSG_FLAG_BLOCK2;
            if (b2 != (h.version == EAI_FLMSG_VERSION_BLOCK2) || (b2 && h.n_block2 == 0) ||
                (!b2 && (h.flags || h.n_block2)) || h.n_block2 > h.total_bytes / 4)
                abort();
        } else if (pl || h.type || h.total_bytes) { /* the header promises a zeroed result */
            abort();
        }
        eai_flmsg_msg_t m;
        bool done = false;
        st = eai_flmsg_asm_add(a, frame, n, &m, &done);
        if (st == EAI_OK && done) {
            if (m.n_bytes != m.hdr.total_bytes || (m.n_bytes && !m.data) ||
                m.hdr.n_block2 > m.n_bytes / 4)
                abort();
            volatile uint8_t sum = 0; /* touch every byte so ASan checks the block */
            for (size_t i = 0; i < m.n_bytes; i++)
                sum += m.data[i];
            (void)sum;
            sa_check(&m);
        } else if (done) {
            abort();
        }
    }
    eai_flmsg_asm_stats_t s;
    eai_flmsg_asm_stats(a, &s);
    if (s.n_partial > 4 || s.buffered_bytes > (1u << 20)) abort();
    free(frame);
    eai_flmsg_asm_destroy(a);
    return 0;
}
