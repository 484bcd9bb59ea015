/* The federated-learning wire format: every FL message is one or more frames
 * of an 80-byte little-endian header followed by a payload chunk. A model or
 * an update (a float vector) is split into chunks of at most 256 KiB (so one
 * frame fits an MQTT packet and a slow link makes progress); a reassembler
 * takes frames in any order, drops duplicates (QoS 1 is at-least-once) and
 * rejects anything inconsistent.
 *
 *   // sender
 *   eai_flmsg_hdr_t h = {.type = EAI_FLMSG_UPDATE_CHUNK, .round = r, .client = id,
 *                        .sender = id, .n_samples = n};
 *   uint32_t nc = eai_flmsg_chunk_count(n_floats * 4, 0);
 *   for (uint32_t i = 0; i < nc; i++) {
 *       EAI_TRY(eai_flmsg_encode_floats(&h, w, n_floats, 0, i, buf, cap, &len));
 *       publish(buf, len);
 *   }
 *   // receiver
 *   eai_flmsg_asm_t *a;  eai_flmsg_asm_create(NULL, &a);
 *   eai_flmsg_msg_t m;   bool done;
 *   if (eai_flmsg_asm_add(a, frame, len, &m, &done) == EAI_OK && done) use(m);
 *
 * Header (all integers little-endian, offsets in bytes):
 *    0  4  magic "EAFL"            40  4  chunk_bytes (payload of this frame)
 *    4  2  version (1 or 2)        44  4  CRC-32C of this frame's payload
 *    6  1  type (eai_flmsg_type_t) 48  8  n_samples (int64, >= 0)
 *    7  1  flags (v1: 0; v2: 1)    56  8  local_steps (int64, >= 0)
 *    8  4  round                   64  8  train_loss (IEEE-754 binary64, finite)
 *   12  4  client                  72  4  v1: reserved (0); v2: n_block2
 *   16  4  sender                  76  4  CRC-32C of header bytes 0..75
 *   20  4  chunk_index
 *   24  4  chunk_count = ceil(total_bytes / chunk_stride) (1 when total is 0)
 *   28  4  chunk_stride (bytes per chunk but the last; multiple of 4 for floats)
 *   32  8  total_bytes (the whole message's payload)
 * Chunk i carries payload bytes [i*stride, min((i+1)*stride, total)). Float
 * vectors are IEEE-754 binary32 little-endian. Control messages (JOIN, ACK,
 * ROUND_OPEN, ROUND_CLOSE, MODEL_MANIFEST) are one chunk with an
 * application-defined payload.
 *
 * Version 2 (a float message carrying a second vector, e.g. SCAFFOLD's
 * control variate with the model) differs from version 1 only in flags =
 * EAI_FLMSG_FLAG_BLOCK2 and bytes 72..75 = n_block2 (1 <= n_block2 <=
 * total_bytes / 4): the payload is two float blocks, the first
 * total_bytes / 4 - n_block2 floats, then n_block2 floats, chunked and CRC'd
 * as one payload. Encoders write version 1 whenever flags is 0, so every
 * message without a second block is byte-identical to what version-1 peers
 * send and read; decoders read both versions.
 *
 * Secure aggregation (edgeai/secagg.h) adds types 8..14, version 1 frames
 * (peers built before them reject them as an unknown type). All but
 * SA_MASKED are one chunk whose payload is a table of the round's n parties:
 *    0  4  attempt (the round's attempt: a retried round is a new protocol)
 *    4  2  n (1..255)
 *    6  2  index: the sender's party index (client messages), the
 *          recipient's (SA_BUNDLE), 0xffff (SA_PEERS, SA_UNMASK_REQ)
 *    8  n  present[i] (0 or 1)
 *  8+n     one row of row_bytes per present i, in index order
 * with row_bytes 64 (ADVERTISE, PEERS: public keys), 88 (SHARES, BUNDLE:
 * encrypted share boxes), 0 (UNMASK_REQ: present = the survivors), 32
 * (UNMASK: unmasking shares). SA_MASKED is chunked like a float vector: the
 * same 8 bytes (attempt, n, index), then the masked input as little-endian
 * uint32 words. eai_flmsg_decode checks a one-chunk table completely, so a
 * decoded SA frame's table can be read without further bounds checks.
 */
#ifndef EDGEAI_FLMSG_H
#define EDGEAI_FLMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgeai/model.h"
#include "edgeai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EAI_FLMSG_VERSION        1  /* frames without a second block */
#define EAI_FLMSG_VERSION_BLOCK2 2  /* frames with flags = EAI_FLMSG_FLAG_BLOCK2 */
#define EAI_FLMSG_FLAG_BLOCK2    1u /* float payload = first block, then n_block2 floats */
#define EAI_FLMSG_HEADER_BYTES   80
#define EAI_FLMSG_DEFAULT_CHUNK  (256u * 1024u)
#define EAI_FLMSG_MAX_CHUNK      (64u << 20)         /* largest stride a decoder accepts */
#define EAI_FLMSG_MAX_TOTAL      ((uint64_t)4 << 30) /* largest message */
#define EAI_FLMSG_BROADCAST      0xffffffffu         /* client id of server-to-all messages */

typedef enum eai_flmsg_type {
    EAI_FLMSG_MODEL_MANIFEST = 1, /* announces the round's global model (retained) */
    EAI_FLMSG_MODEL_CHUNK = 2,    /* global model floats */
    EAI_FLMSG_UPDATE_CHUNK = 3,   /* a client's new weights */
    EAI_FLMSG_JOIN = 4,
    EAI_FLMSG_ACK = 5,
    EAI_FLMSG_ROUND_OPEN = 6,
    EAI_FLMSG_ROUND_CLOSE = 7,
    EAI_FLMSG_SA_ADVERTISE = 8,   /* secagg, client -> server: its public keys */
    EAI_FLMSG_SA_PEERS = 9,       /* server -> all: every advertised client's keys */
    EAI_FLMSG_SA_SHARES = 10,     /* client -> server: its share boxes, one per peer */
    EAI_FLMSG_SA_BUNDLE = 11,     /* server -> one client: the boxes addressed to it */
    EAI_FLMSG_SA_MASKED = 12,     /* client -> server: its masked input (chunked words) */
    EAI_FLMSG_SA_UNMASK_REQ = 13, /* server -> all: the survivors */
    EAI_FLMSG_SA_UNMASK = 14,     /* client -> server: its unmasking shares */
} eai_flmsg_type_t;

#define EAI_FLMSG_TYPE_MAX   14
#define EAI_FLMSG_SA_HEADER  8       /* attempt, n, index */
#define EAI_FLMSG_SA_NOINDEX 0xffffu /* index of a broadcast table */

/* "model_manifest", "model_chunk", ...; "?" for an unknown value. */
EAI_API const char *eai_flmsg_type_name(int type);

/* A decoded header. For encoding, only type, flags, n_block2, round,
 * client, sender, n_samples, local_steps and train_loss are read; the chunk
 * fields and the version are computed. */
typedef struct eai_flmsg_hdr {
    uint16_t version;
    uint8_t type, flags;
    uint32_t round, client, sender;
    uint32_t chunk_index, chunk_count, chunk_stride, chunk_bytes, crc;
    uint64_t total_bytes;
    int64_t n_samples, local_steps;
    double train_loss;
    uint32_t n_block2; /* flags & EAI_FLMSG_FLAG_BLOCK2: floats in the second block; else 0 */
} eai_flmsg_hdr_t;

/* Frames needed for total_bytes in chunks of chunk_bytes (0: the default);
 * 0 when that exceeds EAI_FLMSG_MAX_TOTAL or UINT32_MAX frames. */
EAI_API uint32_t eai_flmsg_chunk_count(uint64_t total_bytes, size_t chunk_bytes);

/* Writes frame `index` of the message whose payload is data[0..total_bytes)
 * (borrowed) into out[0..cap); *n_out = its length (at most
 * EAI_FLMSG_HEADER_BYTES + chunk_bytes). chunk_bytes 0: the default.
 * EAI_E_INVALID (type, index, sizes, cap too small, negative counts,
 * non-finite loss, stride not a multiple of 4 for float types, flags other
 * than 0 or EAI_FLMSG_FLAG_BLOCK2, a second block on a non-float type or of
 * 0 or more than total_bytes / 4 floats). */
EAI_API eai_status_t eai_flmsg_encode(const eai_flmsg_hdr_t *h, const void *data,
                                      uint64_t total_bytes, size_t chunk_bytes, uint32_t index,
                                      uint8_t *out, size_t cap, size_t *n_out);
/* The same for n floats (written little-endian whatever the host). With
 * h->flags = EAI_FLMSG_FLAG_BLOCK2, v holds both blocks back to back
 * (n includes h->n_block2). */
EAI_API eai_status_t eai_flmsg_encode_floats(const eai_flmsg_hdr_t *h, const float *v, size_t n,
                                             size_t chunk_bytes, uint32_t index, uint8_t *out,
                                             size_t cap, size_t *n_out);

/* Checks one frame completely (magic, version, header CRC, type, flags,
 * chunk geometry, frame length, payload CRC, counts, loss) and decodes its
 * header; *payload points into buf. EAI_E_FORMAT with the field and values. */
EAI_API eai_status_t eai_flmsg_decode(const uint8_t *buf, size_t n, eai_flmsg_hdr_t *h,
                                      const uint8_t **payload);

/* Copies n little-endian binary32 values from bytes into v (any alignment). */
EAI_API void eai_flmsg_get_floats(const uint8_t *bytes, size_t n, float *v);

/* ---- secure aggregation payloads (types 8..14) ---- */

/* A parsed SA payload; pointers borrow from the payload. */
typedef struct eai_flmsg_sa {
    uint8_t type;
    uint32_t attempt;
    uint16_t n, index;
    const uint8_t *present; /* n bytes, each 0 or 1; NULL for SA_MASKED */
    const uint8_t *rows;    /* n_rows rows of row_bytes, in index order */
    size_t n_rows, row_bytes;
    const uint8_t *words; /* SA_MASKED: n_words little-endian uint32 */
    size_t n_words;
} eai_flmsg_sa_t;

/* Row size of an SA table type (64, 64, 88, 88, 0, 32); 0 for others. */
EAI_API size_t eai_flmsg_sa_row_bytes(int type);
/* Payload bytes of a table of n parties with n_rows present (for
 * SA_MASKED: n_rows words); 0 for a bad type. */
EAI_API size_t eai_flmsg_sa_bytes(int type, int n, size_t n_rows);
/* Writes the table payload: rows[i * row_bytes] (dense, borrowed) for every
 * i with present[i]. EAI_E_INVALID (type, n outside 1..255, index >= n and
 * not EAI_FLMSG_SA_NOINDEX, cap too small). *n_out = bytes written. */
EAI_API eai_status_t eai_flmsg_sa_pack(int type, uint32_t attempt, int n, unsigned index,
                                       const bool *present, const uint8_t *rows, uint8_t *out,
                                       size_t cap, size_t *n_out);
/* Writes SA_MASKED's payload: the 8-byte head and y[0..len) little-endian. */
EAI_API eai_status_t eai_flmsg_sa_pack_masked(uint32_t attempt, int n, unsigned index,
                                              const uint32_t *y, size_t len, uint8_t *out,
                                              size_t cap, size_t *n_out);
/* Parses and checks an SA payload of the given type (borrowed): n in
 * 1..255, index < n (or EAI_FLMSG_SA_NOINDEX where the type allows it),
 * presence bytes 0/1, the length exactly 8 + n + rows * row_bytes (SA_MASKED:
 * 8 + 4 * words). EAI_E_FORMAT with the field. */
EAI_API eai_status_t eai_flmsg_sa_parse(int type, const uint8_t *payload, size_t n_bytes,
                                        eai_flmsg_sa_t *out);
/* Expands a parsed table: present[i] for i < n, and dense rows[i * row_bytes]
 * (zero where absent; may be NULL when row_bytes is 0). */
EAI_API void eai_flmsg_sa_unpack(const eai_flmsg_sa_t *m, bool *present, uint8_t *rows);
/* Copies SA_MASKED's words in host order into y[0..m->n_words). */
EAI_API void eai_flmsg_sa_get_words(const eai_flmsg_sa_t *m, uint32_t *y);

/* ---- reassembly ---- */

typedef struct eai_flmsg_asm eai_flmsg_asm_t;

typedef struct eai_flmsg_asm_opts {
    int max_partial;       /* messages being assembled at once; 0 means 16 */
    uint64_t max_bytes;    /* payload bytes buffered in them; 0 means 512 MiB */
    eai_allocator_t alloc; /* zero: libc */
} eai_flmsg_asm_opts_t;

/* A completed message. data (64-byte aligned, n_bytes) is borrowed from the
 * reassembler until its next add or destroy. hdr is the first frame's, with
 * chunk_index 0 and chunk_bytes = total_bytes. */
typedef struct eai_flmsg_msg {
    eai_flmsg_hdr_t hdr;
    const uint8_t *data;
    size_t n_bytes;
} eai_flmsg_msg_t;

typedef struct eai_flmsg_asm_stats {
    uint64_t frames, completed, duplicates, rejected;
    int n_partial;
    uint64_t buffered_bytes;
} eai_flmsg_asm_stats_t;

EAI_API eai_status_t eai_flmsg_asm_create(const eai_flmsg_asm_opts_t *o, eai_flmsg_asm_t **out);
EAI_API void eai_flmsg_asm_destroy(eai_flmsg_asm_t *a);
/* Offers one frame (borrowed for the call). Messages are keyed by (type,
 * round, client); a frame already held, or of a message completed recently,
 * is a duplicate: EAI_OK, *complete false. When the frame completes its
 * message: EAI_OK, *complete true, *out filled. Errors leave the state as it
 * was: EAI_E_FORMAT (bad frame, or one that disagrees with earlier frames of
 * its message: total, count, stride, sender, n_samples, local_steps, loss),
 * EAI_E_NOMEM (the message would exceed max_partial or max_bytes, or
 * allocation failed). */
EAI_API eai_status_t eai_flmsg_asm_add(eai_flmsg_asm_t *a, const uint8_t *frame, size_t n,
                                       eai_flmsg_msg_t *out, bool *complete);
/* Drops partial messages of rounds before `round` (a closed round's
 * stragglers); returns how many. */
EAI_API int eai_flmsg_asm_drop_before(eai_flmsg_asm_t *a, uint32_t round);
EAI_API void eai_flmsg_asm_stats(const eai_flmsg_asm_t *a, eai_flmsg_asm_stats_t *s);

#ifdef __cplusplus
}
#endif

#endif
