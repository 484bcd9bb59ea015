/* FL wire format (edgeai/flmsg.h): frame encode/decode with every header
 * field checked, and a reassembler with bounded memory. A frame is trusted
 * only after decode; the reassembler then checks it against its message's
 * earlier frames, so a message is either exactly what was sent or an error. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/core_impl.h"
#include "edgeai/flmsg.h"
#include "plan/plan_impl.h"

#define RECENT 64 /* completed message keys remembered for late duplicates */

const char *eai_flmsg_type_name(int type)
{
    static const char *const names[] = {
        "?",         "model_manifest", "model_chunk", "update_chunk",  "join",
        "ack",       "round_open",     "round_close", "sa_advertise",  "sa_peers",
        "sa_shares", "sa_bundle",      "sa_masked",   "sa_unmask_req", "sa_unmask"};
    return type >= 1 && type <= EAI_FLMSG_TYPE_MAX ? names[type] : names[0];
}

static bool is_float_type(int t)
{
    return t == EAI_FLMSG_MODEL_CHUNK || t == EAI_FLMSG_UPDATE_CHUNK;
}

/* Types whose payload is whole 4-byte words and may span chunks. */
static bool is_word_type(int t)
{
    return is_float_type(t) || t == EAI_FLMSG_SA_MASKED;
}

static bool is_sa_table(int t)
{
    return t >= EAI_FLMSG_SA_ADVERTISE && t <= EAI_FLMSG_SA_UNMASK && t != EAI_FLMSG_SA_MASKED;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

uint32_t eai_flmsg_chunk_count(uint64_t total, size_t chunk)
{
    if (chunk == 0) chunk = EAI_FLMSG_DEFAULT_CHUNK;
    if (total > EAI_FLMSG_MAX_TOTAL) return 0;
    if (total == 0) return 1;
    uint64_t n = (total + chunk - 1) / chunk;
    return n > UINT32_MAX ? 0 : (uint32_t)n;
}

/* Payload bytes of chunk i, or -1 for an impossible geometry. */
static int64_t chunk_len(uint64_t total, uint32_t stride, uint32_t count, uint32_t i)
{
    if (total == 0) return count == 1 && i == 0 ? 0 : -1;
    if (stride == 0 || i >= count) return -1;
    if ((total + stride - 1) / stride != count) return -1;
    uint64_t off = (uint64_t)i * stride;
    uint64_t left = total - off;
    return (int64_t)(left < stride ? left : stride);
}

eai_status_t eai_flmsg_encode(const eai_flmsg_hdr_t *h, const void *data, uint64_t total,
                              size_t chunk, uint32_t index, uint8_t *out, size_t cap, size_t *n_out)
{
    if (!h || !out || !n_out || (total && !data))
        return eai_fail(EAI_E_INVALID, "flmsg encode: NULL argument");
    if (chunk == 0) chunk = EAI_FLMSG_DEFAULT_CHUNK;
    if (h->type < 1 || h->type > EAI_FLMSG_TYPE_MAX)
        return eai_fail(EAI_E_INVALID, "flmsg encode: type %d", h->type);
    if (chunk > EAI_FLMSG_MAX_CHUNK)
        return eai_fail(EAI_E_INVALID, "flmsg encode: chunk of %zu bytes (max %u)", chunk,
                        EAI_FLMSG_MAX_CHUNK);
    if (is_word_type(h->type) && (chunk % 4 || total % 4))
        return eai_fail(EAI_E_INVALID,
                        "flmsg encode: %s needs whole words (total %llu, chunk %zu bytes)",
                        eai_flmsg_type_name(h->type), (unsigned long long)total, chunk);
    uint32_t count = eai_flmsg_chunk_count(total, chunk);
    if (count == 0)
        return eai_fail(EAI_E_INVALID, "flmsg encode: %llu bytes exceed the format's limit",
                        (unsigned long long)total);
    if (!is_word_type(h->type) && count != 1)
        return eai_fail(EAI_E_INVALID, "flmsg encode: %s must fit one chunk (%llu bytes)",
                        eai_flmsg_type_name(h->type), (unsigned long long)total);
    if (index >= count)
        return eai_fail(EAI_E_INVALID, "flmsg encode: chunk %u of %u", index, count);
    const bool block2 = h->flags == EAI_FLMSG_FLAG_BLOCK2;
    if (h->flags != 0 && !block2)
        return eai_fail(EAI_E_INVALID, "flmsg encode: flags %#x (0 or %#x)", h->flags,
                        EAI_FLMSG_FLAG_BLOCK2);
    if (block2 && (!is_float_type(h->type) || h->n_block2 == 0 || h->n_block2 > total / 4))
        return eai_fail(EAI_E_INVALID,
                        "flmsg encode: %s: a second block of %u floats in %llu bytes (a float "
                        "type, 1 to total / 4 floats)",
                        eai_flmsg_type_name(h->type), h->n_block2, (unsigned long long)total);
    if (h->n_samples < 0 || h->local_steps < 0 || !isfinite(h->train_loss))
        return eai_fail(EAI_E_INVALID, "flmsg encode: n_samples %lld, local_steps %lld, loss %g",
                        (long long)h->n_samples, (long long)h->local_steps, h->train_loss);
    if (is_sa_table(h->type)) { /* never send what decoders would refuse */
        eai_flmsg_sa_t sa;
        if (eai_flmsg_sa_parse(h->type, data, (size_t)total, &sa) != EAI_OK) {
            char why[256]; /* eai_fail writes the buffer eai_last_error reads */
            snprintf(why, sizeof why, "%s", eai_last_error());
            return eai_fail(EAI_E_INVALID, "flmsg encode: %s", why);
        }
    }
    if (h->type == EAI_FLMSG_SA_MASKED && total < EAI_FLMSG_SA_HEADER)
        return eai_fail(EAI_E_INVALID, "flmsg encode: sa_masked of %llu bytes (head is %d)",
                        (unsigned long long)total, EAI_FLMSG_SA_HEADER);
    uint32_t stride = (uint32_t)chunk;
    size_t len = (size_t)chunk_len(total, stride, count, index);
    if (cap < EAI_FLMSG_HEADER_BYTES + len)
        return eai_fail(EAI_E_INVALID, "flmsg encode: buffer of %zu bytes, need %zu", cap,
                        EAI_FLMSG_HEADER_BYTES + len);
    const uint8_t *src = (const uint8_t *)data + (uint64_t)index * stride;
    uint8_t *p = out;
    memcpy(p, "EAFL", 4);
    /* version 1 whenever it suffices, so version-1 peers read it */
    put16(p + 4, block2 ? EAI_FLMSG_VERSION_BLOCK2 : EAI_FLMSG_VERSION);
    p[6] = h->type;
    p[7] = block2 ? (uint8_t)EAI_FLMSG_FLAG_BLOCK2 : 0;
    put32(p + 8, h->round);
    put32(p + 12, h->client);
    put32(p + 16, h->sender);
    put32(p + 20, index);
    put32(p + 24, count);
    put32(p + 28, stride);
    put64(p + 32, total);
    put32(p + 40, (uint32_t)len);
    if (len) memcpy(p + EAI_FLMSG_HEADER_BYTES, src, len);
    put32(p + 44, eai__crc32c(0, p + EAI_FLMSG_HEADER_BYTES, len));
    put64(p + 48, (uint64_t)h->n_samples);
    put64(p + 56, (uint64_t)h->local_steps);
    uint64_t lb;
    memcpy(&lb, &h->train_loss, 8);
    put64(p + 64, lb);
    put32(p + 72, block2 ? h->n_block2 : 0);
    put32(p + 76, eai__crc32c(0, p, 76));
    *n_out = EAI_FLMSG_HEADER_BYTES + len;
    return EAI_OK;
}

static bool host_le(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

eai_status_t eai_flmsg_encode_floats(const eai_flmsg_hdr_t *h, const float *v, size_t n,
                                     size_t chunk, uint32_t index, uint8_t *out, size_t cap,
                                     size_t *n_out)
{
    if (n > EAI_FLMSG_MAX_TOTAL / 4)
        return eai_fail(EAI_E_INVALID, "flmsg encode: %zu floats exceed the format's limit", n);
    EAI_TRY(eai_flmsg_encode(h, v, (uint64_t)n * 4, chunk, index, out, cap, n_out));
    if (!host_le()) /* the payload was copied in host order; make it little-endian */
        for (size_t i = EAI_FLMSG_HEADER_BYTES; i + 4 <= *n_out; i += 4) {
            uint8_t t0 = out[i], t1 = out[i + 1];
            out[i] = out[i + 3];
            out[i + 1] = out[i + 2];
            out[i + 2] = t1;
            out[i + 3] = t0;
        }
    return EAI_OK;
}

void eai_flmsg_get_floats(const uint8_t *b, size_t n, float *v)
{
    if (host_le()) {
        memcpy(v, b, n * 4);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t u = get32(b + 4 * i);
        memcpy(&v[i], &u, 4);
    }
}

eai_status_t eai_flmsg_decode(const uint8_t *buf, size_t n, eai_flmsg_hdr_t *h,
                              const uint8_t **payload)
{
    if (!buf || !h || !payload) return eai_fail(EAI_E_INVALID, "flmsg decode: NULL argument");
    memset(h, 0, sizeof *h);
    *payload = NULL;
    if (n < EAI_FLMSG_HEADER_BYTES)
        return eai_fail(EAI_E_FORMAT, "flmsg: frame of %zu bytes, shorter than the %d-byte header",
                        n, EAI_FLMSG_HEADER_BYTES);
    if (memcmp(buf, "EAFL", 4) != 0)
        return eai_fail(EAI_E_FORMAT, "flmsg: bad magic %02x %02x %02x %02x (expected \"EAFL\")",
                        buf[0], buf[1], buf[2], buf[3]);
    uint16_t ver = get16(buf + 4);
    if (ver != EAI_FLMSG_VERSION && ver != EAI_FLMSG_VERSION_BLOCK2)
        return eai_fail(EAI_E_FORMAT, "flmsg: version %u (this build reads %d and %d)", ver,
                        EAI_FLMSG_VERSION, EAI_FLMSG_VERSION_BLOCK2);
    uint32_t hcrc = get32(buf + 76), want = eai__crc32c(0, buf, 76);
    if (hcrc != want)
        return eai_fail(EAI_E_FORMAT, "flmsg: header CRC-32C %08x, computed %08x", hcrc, want);
    eai_flmsg_hdr_t d;
    d.version = ver;
    d.type = buf[6];
    d.flags = buf[7];
    d.round = get32(buf + 8);
    d.client = get32(buf + 12);
    d.sender = get32(buf + 16);
    d.chunk_index = get32(buf + 20);
    d.chunk_count = get32(buf + 24);
    d.chunk_stride = get32(buf + 28);
    d.total_bytes = get64(buf + 32);
    d.chunk_bytes = get32(buf + 40);
    d.crc = get32(buf + 44);
    d.n_samples = (int64_t)get64(buf + 48);
    d.local_steps = (int64_t)get64(buf + 56);
    uint64_t lb = get64(buf + 64);
    memcpy(&d.train_loss, &lb, 8);
    if (d.type < 1 || d.type > EAI_FLMSG_TYPE_MAX)
        return eai_fail(EAI_E_FORMAT, "flmsg: unknown type %u", d.type);
    const char *tn = eai_flmsg_type_name(d.type);
    const uint32_t w72 = get32(buf + 72);
    if (ver == EAI_FLMSG_VERSION) {
        if (d.flags != 0)
            return eai_fail(EAI_E_FORMAT, "flmsg: %s: flags %#x (expected 0)", tn, d.flags);
        if (w72 != 0)
            return eai_fail(EAI_E_FORMAT, "flmsg: %s: reserved field %#x (expected 0)", tn, w72);
        d.n_block2 = 0;
    } else {
        /* version 2 exists only to carry the second block */
        if (d.flags != EAI_FLMSG_FLAG_BLOCK2 || !is_float_type(d.type))
            return eai_fail(EAI_E_FORMAT,
                            "flmsg: %s: version 2 with flags %#x (expected a float type "
                            "with flags %#x)",
                            tn, d.flags, EAI_FLMSG_FLAG_BLOCK2);
        d.n_block2 = w72;
    }
    if (d.total_bytes > EAI_FLMSG_MAX_TOTAL)
        return eai_fail(EAI_E_FORMAT, "flmsg: %s: total of %llu bytes (max %llu)", tn,
                        (unsigned long long)d.total_bytes, (unsigned long long)EAI_FLMSG_MAX_TOTAL);
    if (d.chunk_stride > EAI_FLMSG_MAX_CHUNK)
        return eai_fail(EAI_E_FORMAT, "flmsg: %s: chunk stride %u (max %u)", tn, d.chunk_stride,
                        EAI_FLMSG_MAX_CHUNK);
    if (d.total_bytes && d.chunk_stride == 0)
        return eai_fail(EAI_E_FORMAT, "flmsg: %s: chunk stride 0 for %llu bytes", tn,
                        (unsigned long long)d.total_bytes);
    if (is_word_type(d.type) && (d.total_bytes % 4 || d.chunk_stride % 4))
        return eai_fail(EAI_E_FORMAT, "flmsg: %s: total %llu / stride %u not whole words", tn,
                        (unsigned long long)d.total_bytes, d.chunk_stride);
    if (ver == EAI_FLMSG_VERSION_BLOCK2 && (d.n_block2 == 0 || d.n_block2 > d.total_bytes / 4))
        return eai_fail(EAI_E_FORMAT, "flmsg: %s: second block of %u floats in %llu bytes", tn,
                        d.n_block2, (unsigned long long)d.total_bytes);
    uint64_t want_count = d.total_bytes ? (d.total_bytes + d.chunk_stride - 1) / d.chunk_stride : 1;
    if (d.chunk_count != want_count)
        return eai_fail(EAI_E_FORMAT,
                        "flmsg: %s: chunk count %u, expected %llu for %llu bytes "
                        "in chunks of %u",
                        tn, d.chunk_count, (unsigned long long)want_count,
                        (unsigned long long)d.total_bytes, d.chunk_stride);
    if (d.type == EAI_FLMSG_SA_MASKED && d.total_bytes < EAI_FLMSG_SA_HEADER)
        return eai_fail(EAI_E_FORMAT, "flmsg: %s: %llu bytes, shorter than its %d-byte head", tn,
                        (unsigned long long)d.total_bytes, EAI_FLMSG_SA_HEADER);
    if (!is_word_type(d.type) && d.chunk_count != 1)
        return eai_fail(EAI_E_FORMAT, "flmsg: %s: %u chunks (a control message is one)", tn,
                        d.chunk_count);
    if (d.chunk_index >= d.chunk_count)
        return eai_fail(EAI_E_FORMAT, "flmsg: %s: chunk index %u of %u", tn, d.chunk_index,
                        d.chunk_count);
    int64_t len = chunk_len(d.total_bytes, d.chunk_stride, d.chunk_count, d.chunk_index);
    if (len < 0 || d.chunk_bytes != (uint64_t)len)
        return eai_fail(EAI_E_FORMAT, "flmsg: %s: chunk %u holds %u bytes, expected %lld", tn,
                        d.chunk_index, d.chunk_bytes, (long long)len);
    if (n - EAI_FLMSG_HEADER_BYTES != d.chunk_bytes)
        return eai_fail(EAI_E_FORMAT, "flmsg: %s: frame has %zu payload bytes, header says %u", tn,
                        n - EAI_FLMSG_HEADER_BYTES, d.chunk_bytes);
    uint32_t pcrc = eai__crc32c(0, buf + EAI_FLMSG_HEADER_BYTES, d.chunk_bytes);
    if (pcrc != d.crc)
        return eai_fail(EAI_E_FORMAT, "flmsg: %s: chunk %u payload CRC-32C %08x, computed %08x", tn,
                        d.chunk_index, d.crc, pcrc);
    if (d.n_samples < 0 || d.local_steps < 0)
        return eai_fail(EAI_E_FORMAT, "flmsg: %s: n_samples %lld, local_steps %lld", tn,
                        (long long)d.n_samples, (long long)d.local_steps);
    if (!isfinite(d.train_loss))
        return eai_fail(EAI_E_FORMAT, "flmsg: %s: train loss %g is not finite", tn, d.train_loss);
    if (is_sa_table(d.type)) { /* one chunk: the whole table is here, check it now */
        eai_flmsg_sa_t sa;
        EAI_TRY(eai_flmsg_sa_parse(d.type, buf + EAI_FLMSG_HEADER_BYTES, d.chunk_bytes, &sa));
    }
    *h = d;
    *payload = d.chunk_bytes ? buf + EAI_FLMSG_HEADER_BYTES : NULL;
    return EAI_OK;
}

/* ---- secure aggregation payloads ---- */

size_t eai_flmsg_sa_row_bytes(int type)
{
    switch (type) {
    case EAI_FLMSG_SA_ADVERTISE:
    case EAI_FLMSG_SA_PEERS:
        return 64;
    case EAI_FLMSG_SA_SHARES:
    case EAI_FLMSG_SA_BUNDLE:
        return 88;
    case EAI_FLMSG_SA_UNMASK:
        return 32;
    default:
        return 0;
    }
}

size_t eai_flmsg_sa_bytes(int type, int n, size_t n_rows)
{
    if (type == EAI_FLMSG_SA_MASKED)
        return n_rows > (SIZE_MAX - EAI_FLMSG_SA_HEADER) / 4 ? 0 : EAI_FLMSG_SA_HEADER + 4 * n_rows;
    if (!is_sa_table(type) || n < 1 || n > 255 || n_rows > (size_t)n) return 0;
    return EAI_FLMSG_SA_HEADER + (size_t)n + n_rows * eai_flmsg_sa_row_bytes(type);
}

/* Broadcast tables carry no index; every other one names a party. */
static bool sa_index_ok(int type, unsigned index, int n)
{
    if (type == EAI_FLMSG_SA_PEERS || type == EAI_FLMSG_SA_UNMASK_REQ)
        return index == EAI_FLMSG_SA_NOINDEX;
    return index < (unsigned)n;
}

static void sa_head(uint8_t *p, uint32_t attempt, int n, unsigned index)
{
    put32(p, attempt);
    put16(p + 4, (uint16_t)n);
    put16(p + 6, (uint16_t)index);
}

eai_status_t eai_flmsg_sa_pack(int type, uint32_t attempt, int n, unsigned index,
                               const bool *present, const uint8_t *rows, uint8_t *out, size_t cap,
                               size_t *n_out)
{
    const size_t rb = eai_flmsg_sa_row_bytes(type);
    if (!is_sa_table(type))
        return eai_fail(EAI_E_INVALID, "flmsg sa: %s is not a table type",
                        eai_flmsg_type_name(type));
    if (!present || !out || !n_out || (rb && !rows))
        return eai_fail(EAI_E_INVALID, "flmsg sa: NULL argument");
    if (n < 1 || n > 255 || !sa_index_ok(type, index, n))
        return eai_fail(EAI_E_INVALID, "flmsg sa: %s: %d parties, index %u",
                        eai_flmsg_type_name(type), n, index);
    size_t k = 0;
    for (int i = 0; i < n; i++)
        k += present[i];
    const size_t need = eai_flmsg_sa_bytes(type, n, k);
    if (cap < need)
        return eai_fail(EAI_E_INVALID, "flmsg sa: buffer of %zu bytes, need %zu", cap, need);
    sa_head(out, attempt, n, index);
    uint8_t *r = out + EAI_FLMSG_SA_HEADER + n;
    for (int i = 0; i < n; i++) {
        out[EAI_FLMSG_SA_HEADER + i] = present[i] ? 1 : 0;
        if (!present[i] || !rb) continue;
        memcpy(r, rows + (size_t)i * rb, rb);
        r += rb;
    }
    *n_out = need;
    return EAI_OK;
}

eai_status_t eai_flmsg_sa_pack_masked(uint32_t attempt, int n, unsigned index, const uint32_t *y,
                                      size_t len, uint8_t *out, size_t cap, size_t *n_out)
{
    if (!out || !n_out || (len && !y)) return eai_fail(EAI_E_INVALID, "flmsg sa: NULL argument");
    if (n < 1 || n > 255 || index >= (unsigned)n)
        return eai_fail(EAI_E_INVALID, "flmsg sa: sa_masked: %d parties, index %u", n, index);
    const size_t need = eai_flmsg_sa_bytes(EAI_FLMSG_SA_MASKED, n, len);
    if (need == 0 || cap < need)
        return eai_fail(EAI_E_INVALID, "flmsg sa: buffer of %zu bytes, need %zu", cap, need);
    sa_head(out, attempt, n, index);
    for (size_t i = 0; i < len; i++)
        put32(out + EAI_FLMSG_SA_HEADER + 4 * i, y[i]);
    *n_out = need;
    return EAI_OK;
}

eai_status_t eai_flmsg_sa_parse(int type, const uint8_t *p, size_t nb, eai_flmsg_sa_t *m)
{
    if (!m || (nb && !p)) return eai_fail(EAI_E_INVALID, "flmsg sa: NULL argument");
    memset(m, 0, sizeof *m);
    const char *tn = eai_flmsg_type_name(type);
    if (!is_sa_table(type) && type != EAI_FLMSG_SA_MASKED)
        return eai_fail(EAI_E_FORMAT, "flmsg sa: %s is not a secure-aggregation type", tn);
    if (nb < EAI_FLMSG_SA_HEADER)
        return eai_fail(EAI_E_FORMAT, "flmsg sa: %s: %zu bytes, shorter than the %d-byte head", tn,
                        nb, EAI_FLMSG_SA_HEADER);
    eai_flmsg_sa_t d = {.type = (uint8_t)type,
                        .attempt = get32(p),
                        .n = get16(p + 4),
                        .index = get16(p + 6),
                        .row_bytes = eai_flmsg_sa_row_bytes(type)};
    if (d.n < 1 || d.n > 255)
        return eai_fail(EAI_E_FORMAT, "flmsg sa: %s: %u parties (1..255)", tn, d.n);
    if (!sa_index_ok(type, d.index, d.n))
        return eai_fail(EAI_E_FORMAT, "flmsg sa: %s: index %u for %u parties", tn, d.index, d.n);
    if (type == EAI_FLMSG_SA_MASKED) {
        if ((nb - EAI_FLMSG_SA_HEADER) % 4)
            return eai_fail(EAI_E_FORMAT, "flmsg sa: %s: %zu bytes of words, not whole", tn,
                            nb - EAI_FLMSG_SA_HEADER);
        d.words = p + EAI_FLMSG_SA_HEADER;
        d.n_words = (nb - EAI_FLMSG_SA_HEADER) / 4;
        *m = d;
        return EAI_OK;
    }
    if (nb < EAI_FLMSG_SA_HEADER + (size_t)d.n)
        return eai_fail(EAI_E_FORMAT, "flmsg sa: %s: %zu bytes, too short for %u presence flags",
                        tn, nb, d.n);
    d.present = p + EAI_FLMSG_SA_HEADER;
    for (unsigned i = 0; i < d.n; i++) {
        if (d.present[i] > 1)
            return eai_fail(EAI_E_FORMAT, "flmsg sa: %s: presence flag %u is %u (0 or 1)", tn, i,
                            d.present[i]);
        d.n_rows += d.present[i];
    }
    const size_t want = EAI_FLMSG_SA_HEADER + d.n + d.n_rows * d.row_bytes;
    if (nb != want)
        return eai_fail(EAI_E_FORMAT,
                        "flmsg sa: %s: %zu bytes, expected %zu for %zu rows of %zu bytes", tn, nb,
                        want, d.n_rows, d.row_bytes);
    d.rows = p + EAI_FLMSG_SA_HEADER + d.n;
    *m = d;
    return EAI_OK;
}

void eai_flmsg_sa_unpack(const eai_flmsg_sa_t *m, bool *present, uint8_t *rows)
{
    const uint8_t *r = m->rows;
    for (unsigned i = 0; i < m->n; i++) {
        present[i] = m->present && m->present[i];
        if (!m->row_bytes || !rows) continue;
        if (present[i]) {
            memcpy(rows + (size_t)i * m->row_bytes, r, m->row_bytes);
            r += m->row_bytes;
        } else {
            memset(rows + (size_t)i * m->row_bytes, 0, m->row_bytes);
        }
    }
}

void eai_flmsg_sa_get_words(const eai_flmsg_sa_t *m, uint32_t *y)
{
    for (size_t i = 0; i < m->n_words; i++)
        y[i] = get32(m->words + 4 * i);
}

/* ---- reassembly ---- */

typedef struct partial {
    bool used;
    eai_flmsg_hdr_t hdr; /* first frame's */
    uint8_t *data;       /* total_bytes, 64-byte aligned */
    uint8_t *have;       /* chunk_count bits */
    uint32_t n_have;
    uint64_t cost; /* bytes counted against max_bytes */
} partial_t;

typedef struct key {
    uint8_t type;
    uint32_t round, client;
} key_t;

struct eai_flmsg_asm {
    eai_allocator_t alloc;
    int max_partial;
    uint64_t max_bytes, buffered;
    partial_t *slots;
    key_t recent[RECENT];
    int n_recent, recent_next;
    uint8_t *done; /* the last completed message, freed at the next call */
    eai_flmsg_asm_stats_t st;
};

eai_status_t eai_flmsg_asm_create(const eai_flmsg_asm_opts_t *o, eai_flmsg_asm_t **out)
{
    if (!out) return eai_fail(EAI_E_INVALID, "flmsg reassembler: NULL out");
    eai_flmsg_asm_opts_t d = {0};
    if (!o) o = &d;
    if (o->max_partial < 0 || o->max_partial > 1 << 16)
        return eai_fail(EAI_E_INVALID, "flmsg reassembler: max_partial %d", o->max_partial);
    eai_flmsg_asm_t *a = eai__calloc(&o->alloc, 1, sizeof *a);
    if (!a) return eai_fail(EAI_E_NOMEM, "flmsg reassembler: out of memory");
    a->alloc = o->alloc;
    a->max_partial = o->max_partial ? o->max_partial : 16;
    a->max_bytes = o->max_bytes ? o->max_bytes : (uint64_t)512 << 20;
    a->slots = eai__calloc(&a->alloc, (size_t)a->max_partial, sizeof *a->slots);
    if (!a->slots) {
        eai__free(&o->alloc, a);
        return eai_fail(EAI_E_NOMEM, "flmsg reassembler: out of memory");
    }
    *out = a;
    return EAI_OK;
}

static void slot_free(eai_flmsg_asm_t *a, partial_t *p)
{
    eai__free_aligned(&a->alloc, p->data);
    eai__free(&a->alloc, p->have);
    a->buffered -= p->cost;
    memset(p, 0, sizeof *p);
}

void eai_flmsg_asm_destroy(eai_flmsg_asm_t *a)
{
    if (!a) return;
    for (int i = 0; i < a->max_partial; i++)
        if (a->slots[i].used) slot_free(a, &a->slots[i]);
    eai__free_aligned(&a->alloc, a->done);
    eai__free(&a->alloc, a->slots);
    eai_allocator_t al = a->alloc;
    eai__free(&al, a);
}

static bool same_key(const eai_flmsg_hdr_t *h, uint8_t type, uint32_t round, uint32_t client)
{
    return h->type == type && h->round == round && h->client == client;
}

static bool recently_done(const eai_flmsg_asm_t *a, const eai_flmsg_hdr_t *h)
{
    for (int i = 0; i < a->n_recent; i++)
        if (a->recent[i].type == h->type && a->recent[i].round == h->round &&
            a->recent[i].client == h->client)
            return true;
    return false;
}

static eai_status_t reject(eai_flmsg_asm_t *a, eai_status_t st)
{
    a->st.rejected++;
    return st;
}

eai_status_t eai_flmsg_asm_add(eai_flmsg_asm_t *a, const uint8_t *frame, size_t n,
                               eai_flmsg_msg_t *out, bool *complete)
{
    if (!a || !frame || !out || !complete)
        return eai_fail(EAI_E_INVALID, "flmsg reassembler: NULL argument");
    *complete = false;
    eai__free_aligned(&a->alloc, a->done);
    a->done = NULL;
    a->st.frames++;
    eai_flmsg_hdr_t h;
    const uint8_t *pl;
    eai_status_t st = eai_flmsg_decode(frame, n, &h, &pl);
    if (st != EAI_OK) return reject(a, st);
    const char *tn = eai_flmsg_type_name(h.type);

    partial_t *p = NULL, *freeslot = NULL;
    for (int i = 0; i < a->max_partial; i++) {
        partial_t *s = &a->slots[i];
        if (!s->used) {
            if (!freeslot) freeslot = s;
        } else if (same_key(&s->hdr, h.type, h.round, h.client)) {
            p = s;
        }
    }
    if (!p && recently_done(a, &h)) {
        a->st.duplicates++;
        return EAI_OK;
    }
    if (p) {
        const eai_flmsg_hdr_t *f = &p->hdr;
        if (f->total_bytes != h.total_bytes || f->chunk_count != h.chunk_count ||
            f->chunk_stride != h.chunk_stride || f->sender != h.sender ||
            f->n_samples != h.n_samples || f->local_steps != h.local_steps ||
            memcmp(&f->train_loss, &h.train_loss, sizeof h.train_loss) != 0 ||
            f->flags != h.flags || f->n_block2 != h.n_block2)
            return reject(
                a, eai_fail(EAI_E_FORMAT,
                            "flmsg: %s round %u client %u: chunk %u disagrees with "
                            "earlier chunks (total %llu/%llu, count %u/%u, stride "
                            "%u/%u, sender %u/%u, or n_samples/steps/loss/block2)",
                            tn, h.round, h.client, h.chunk_index, (unsigned long long)h.total_bytes,
                            (unsigned long long)f->total_bytes, h.chunk_count, f->chunk_count,
                            h.chunk_stride, f->chunk_stride, h.sender, f->sender));
        if ((p->have[h.chunk_index >> 3] >> (h.chunk_index & 7)) & 1) {
            a->st.duplicates++;
            return EAI_OK;
        }
    } else {
        uint64_t bitmap = ((uint64_t)h.chunk_count + 7) / 8;
        uint64_t cost = h.total_bytes + bitmap;
        if (!freeslot)
            return reject(a, eai_fail(EAI_E_NOMEM,
                                      "flmsg: %s round %u client %u: %d messages already being "
                                      "assembled (max_partial)",
                                      tn, h.round, h.client, a->max_partial));
        if (cost > a->max_bytes - a->buffered)
            return reject(a, eai_fail(EAI_E_NOMEM,
                                      "flmsg: %s round %u client %u: %llu more bytes would exceed "
                                      "the reassembler's cap (%llu of %llu buffered)",
                                      tn, h.round, h.client, (unsigned long long)cost,
                                      (unsigned long long)a->buffered,
                                      (unsigned long long)a->max_bytes));
        p = freeslot;
        p->data = eai__alloc_aligned(&a->alloc, (size_t)h.total_bytes);
        p->have = eai__calloc(&a->alloc, (size_t)bitmap, 1);
        if (!p->data || !p->have) {
            eai__free_aligned(&a->alloc, p->data);
            eai__free(&a->alloc, p->have);
            p->data = NULL;
            p->have = NULL;
            return reject(a, eai_fail(EAI_E_NOMEM, "flmsg: %s: %llu bytes", tn,
                                      (unsigned long long)h.total_bytes));
        }
        p->used = true;
        p->hdr = h;
        p->n_have = 0;
        p->cost = cost;
        a->buffered += cost;
    }
    if (h.chunk_bytes)
        memcpy(p->data + (uint64_t)h.chunk_index * h.chunk_stride, pl, h.chunk_bytes);
    p->have[h.chunk_index >> 3] |= (uint8_t)(1u << (h.chunk_index & 7));
    p->n_have++;
    if (p->n_have < p->hdr.chunk_count) return EAI_OK;

    /* complete: hand the buffer out, remember the key for late duplicates */
    out->hdr = p->hdr;
    out->hdr.chunk_index = 0;
    out->hdr.chunk_bytes = (uint32_t)(h.total_bytes > UINT32_MAX ? UINT32_MAX : h.total_bytes);
    out->data = p->data;
    out->n_bytes = (size_t)p->hdr.total_bytes;
    a->done = p->data;
    p->data = NULL;
    a->recent[a->recent_next] = (key_t){p->hdr.type, p->hdr.round, p->hdr.client};
    a->recent_next = (a->recent_next + 1) % RECENT;
    if (a->n_recent < RECENT) a->n_recent++;
    slot_free(a, p);
    a->st.completed++;
    *complete = true;
    return EAI_OK;
}

int eai_flmsg_asm_drop_before(eai_flmsg_asm_t *a, uint32_t round)
{
    if (!a) return 0;
    int n = 0;
    for (int i = 0; i < a->max_partial; i++)
        if (a->slots[i].used && a->slots[i].hdr.round < round) {
            slot_free(a, &a->slots[i]);
            n++;
        }
    return n;
}

void eai_flmsg_asm_stats(const eai_flmsg_asm_t *a, eai_flmsg_asm_stats_t *s)
{
    if (!a || !s) return;
    *s = a->st;
    s->n_partial = 0;
    for (int i = 0; i < a->max_partial; i++)
        s->n_partial += a->slots[i].used;
    s->buffered_bytes = a->buffered;
}
