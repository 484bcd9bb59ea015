/* libFuzzer target for the .eai plan reader (eai_model_load_memory on plan
 * bytes): container checks, graph decoding, eai__graph_finish and the shape
 * pass. Any input must give a status, never a crash, leak or sanitizer
 * report. The first byte selects a mode: bit 0 set recomputes every CRC
 * (header, table, sections) before loading, so mutations get past the
 * checksums and reach the graph decoder; clear, the bytes load as they are
 * (what a corrupted file looks like). Corpus: fuzz/corpus/plan (real plans of
 * the models/ fixtures, FP32 and FP16, in both modes, plus cut and flipped copies). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edgeai/model.h"
#include "fuzz_alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* CRC-32C, bit by bit: independent of the library's implementation. */
static uint32_t crc32c(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    }
    return ~c;
}

/* Layout from docs/eai-format.md: 64-byte header (n_sections at 20, table
 * CRC at 40, header CRC at 60), then 32-byte entries (offset at 8, size at
 * 16, CRC at 24). */
static void fix_crcs(uint8_t *p, size_t n)
{
    if (n < 64) return;
    uint32_t n_sec = le32(p + 20);
    if (n_sec > 64 || 64 + (size_t)n_sec * 32 > n) return;
    for (uint32_t i = 0; i < n_sec; i++) {
        uint8_t *e = p + 64 + (size_t)i * 32;
        uint64_t off = le64(e + 8), sz = le64(e + 16);
        if (off <= n && sz <= n - off) put32(e + 24, crc32c(p + off, (size_t)sz));
    }
    put32(p + 40, crc32c(p + 64, (size_t)n_sec * 32));
    put32(p + 60, crc32c(p, 60));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* plans only: other bytes would exercise the ONNX importer (fuzz_onnx) */
    if (size < 5 || memcmp(data + 1,
                           "\x89"
                           "EAI",
                           4) != 0)
        return 0;
    size_t n = size - 1;
    uint8_t *buf = malloc(n);
    if (!buf) return 0;
    memcpy(buf, data + 1, n);
    if (data[0] & 1) fix_crcs(buf, n);
    eai_model_t *m = NULL;
    eai_model_opts_t o = {.alloc = {fuzz_capped_alloc, NULL}};
    eai_status_t st = eai_model_load_memory(buf, n, "fuzz.eai", &o, &m);
    free(buf); /* a loaded model must not borrow the buffer (ASan checks) */
    if (st != EAI_OK) {
        if (m) /* on failure *out is untouched */
            abort();
        return 0;
    }
    for (int i = 0; i < eai_model_n_inputs(m); i++) {
        eai_tensor_info_t t;
        if (eai_model_input_info(m, i, &t) != EAI_OK || t.rank < 0 || t.rank > EAI_MAX_RANK)
            abort();
    }
    for (int i = 0; i < eai_model_n_outputs(m); i++) {
        eai_tensor_info_t t;
        if (eai_model_output_info(m, i, &t) != EAI_OK || t.rank < 0 || t.rank > EAI_MAX_RANK)
            abort();
    }
    eai_model_stats_t st2;
    eai_model_get_stats(m, &st2);
    eai_model_destroy(m);
    return 0;
}
