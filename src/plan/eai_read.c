/* .eai plans: the container (header, section table, CRCs) and loading. A file
 * is mapped read-only and float32/int weights are used in place: CONST values
 * point into the mapping (owns_data false), so loading copies no weights and
 * parses no protobuf. Every byte of the file is accounted for: the header and
 * table carry CRCs, each section carries one, and gaps between sections must
 * be zero, so a flipped bit anywhere is reported. Checks run in the order of
 * docs/eai-format.md, each with its own sentence. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan/plan_impl.h"

#define MAX_SECTIONS 64

typedef struct section {
    const uint8_t *p;
    size_t n;
    bool present;
} section_t;

/* Known sections by type (index = type). */
typedef struct container {
    section_t s[EAI__PLAN_WEIGHTS + 1];
    uint32_t flags;
} container_t;

const char *eai__plan_section_name(uint32_t type, char *buf, size_t n)
{
    switch (type) {
    case EAI__PLAN_META:
        return "meta";
    case EAI__PLAN_STRINGS:
        return "strings";
    case EAI__PLAN_GRAPH:
        return "graph";
    case EAI__PLAN_WEIGHTS:
        return "weights";
    default:
        snprintf(buf, n, "type %u", (unsigned)type);
        return buf;
    }
}

bool eai__plan_probe(const void *data, size_t n)
{
    /* four bytes suffice: "\x89EAI" starts no ONNX protobuf (field 17 is not
     * in ModelProto) nor TFLite file, and a plan cut after them should be
     * reported as a truncated plan, not as a broken ONNX file */
    if (!data || n < 4) return false;
    size_t k = n < EAI__PLAN_MAGIC_BYTES ? n : EAI__PLAN_MAGIC_BYTES;
    return memcmp(data, EAI__PLAN_MAGIC, k) == 0;
}

/* The header and section table; with `check_crc` also every section's CRC
 * (eai__plan_read_info skips those to stay cheap). */
static eai_status_t parse_container(const uint8_t *d, size_t n, const char *label, bool check_crc,
                                    container_t *c)
{
    memset(c, 0, sizeof *c);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return eai_fail(EAI_E_UNSUPPORTED, "%s: plans are little-endian; this host is big-endian",
                    label);
#endif
    size_t k = n < EAI__PLAN_MAGIC_BYTES ? n : EAI__PLAN_MAGIC_BYTES;
    if (n < 4 || memcmp(d, EAI__PLAN_MAGIC, k) != 0)
        return eai_fail(EAI_E_FORMAT, "%s: not an edgeai plan (bad magic)", label);
    if (n < EAI__PLAN_HEADER_BYTES)
        return eai_fail(EAI_E_FORMAT,
                        "%s: truncated: %zu bytes, less than the %d-byte plan header "
                        "(incomplete copy?)",
                        label, n, EAI__PLAN_HEADER_BYTES);
    uint32_t version = eai__le32(d + 8);
    if (version != EAI__PLAN_VERSION)
        return eai_fail(EAI_E_UNSUPPORTED,
                        "%s: format version %u, this build reads %d (rebuild the plan with "
                        "this edgeai)",
                        label, (unsigned)version, EAI__PLAN_VERSION);
    if (eai__le32(d + 60) != eai__crc32c(0, d, 60))
        return eai_fail(EAI_E_FORMAT, "%s: header CRC mismatch (file corrupted?)", label);
    uint64_t file_bytes = eai__le64(d + 24);
    if (file_bytes > n)
        return eai_fail(EAI_E_FORMAT, "%s: truncated: %zu of %llu bytes (incomplete copy?)", label,
                        n, (unsigned long long)file_bytes);
    if (file_bytes < n)
        return eai_fail(EAI_E_FORMAT, "%s: %zu bytes, but the header says %llu (data appended?)",
                        label, n, (unsigned long long)file_bytes);
    c->flags = eai__le32(d + 16);
    uint32_t n_sec = eai__le32(d + 20);
    bool reserved_zero = true;
    for (int i = 44; i < 60; i++)
        reserved_zero &= d[i] == 0;
    if (eai__le32(d + 12) != EAI__PLAN_HEADER_BYTES ||
        eai__le64(d + 32) != EAI__PLAN_HEADER_BYTES || !reserved_zero || n_sec == 0 ||
        n_sec > MAX_SECTIONS)
        return eai_fail(EAI_E_FORMAT, "%s: malformed header (%u sections)", label, (unsigned)n_sec);
    if (c->flags & ~(EAI__PLAN_F_FP16 | EAI__PLAN_F_INT8))
        return eai_fail(EAI_E_UNSUPPORTED, "%s: unknown header flags 0x%x (newer edgeai?)", label,
                        (unsigned)c->flags);
    size_t table_end = EAI__PLAN_HEADER_BYTES + (size_t)n_sec * EAI__PLAN_SECTION_BYTES;
    if (table_end > n) return eai_fail(EAI_E_FORMAT, "%s: truncated in the section table", label);
    const uint8_t *t = d + EAI__PLAN_HEADER_BYTES;
    if (eai__le32(d + 40) != eai__crc32c(0, t, table_end - EAI__PLAN_HEADER_BYTES))
        return eai_fail(EAI_E_FORMAT, "%s: section table CRC mismatch (file corrupted?)", label);
    size_t at = table_end;
    char nb[32];
    for (uint32_t i = 0; i < n_sec; i++) {
        const uint8_t *e = t + (size_t)i * EAI__PLAN_SECTION_BYTES;
        uint32_t type = eai__le32(e), sflags = eai__le32(e + 4);
        uint64_t off = eai__le64(e + 8), size = eai__le64(e + 16);
        const char *name = eai__plan_section_name(type, nb, sizeof nb);
        if (off < at || off > n || size > n - off)
            return eai_fail(EAI_E_FORMAT,
                            "%s: section '%s' at %llu (+%llu bytes) lies outside the file or "
                            "overlaps another",
                            label, name, (unsigned long long)off, (unsigned long long)size);
        for (size_t b = at; b < off; b++)
            if (d[b])
                return eai_fail(EAI_E_FORMAT,
                                "%s: nonzero byte at %zu between sections (file corrupted?)", label,
                                b);
        if (check_crc && eai__le32(e + 24) != eai__crc32c(0, d + off, (size_t)size))
            return eai_fail(EAI_E_FORMAT, "%s: section '%s' CRC mismatch (file corrupted?)", label,
                            name);
        at = (size_t)(off + size);
        if (type >= EAI__PLAN_META && type <= EAI__PLAN_WEIGHTS) {
            if (c->s[type].present)
                return eai_fail(EAI_E_FORMAT, "%s: section '%s' appears twice", label, name);
            if (type == EAI__PLAN_WEIGHTS && off % EAI__PLAN_ALIGN)
                return eai_fail(EAI_E_FORMAT, "%s: weights at offset %llu, not %d-byte aligned",
                                label, (unsigned long long)off, EAI__PLAN_ALIGN);
            c->s[type] = (section_t){d + off, (size_t)size, true};
        } else if (sflags & EAI__PLAN_S_REQUIRED) {
            return eai_fail(EAI_E_UNSUPPORTED,
                            "%s: required section type %u is unknown to this build (newer "
                            "edgeai?)",
                            label, (unsigned)type);
        }
    }
    if (at != n)
        return eai_fail(EAI_E_FORMAT, "%s: %zu bytes after the last section", label, n - at);
    for (uint32_t type = EAI__PLAN_META; type <= EAI__PLAN_WEIGHTS; type++)
        if (!c->s[type].present)
            return eai_fail(EAI_E_FORMAT, "%s: no '%s' section", label,
                            eai__plan_section_name(type, nb, sizeof nb));
    return EAI_OK;
}

/* META: u32 count, then count x (u32 len, key bytes, u32 len, value bytes).
 * Copies the value of `key` (truncated to fit) into buf; "" when absent. */
static eai_status_t meta_get(const section_t *s, const char *label, const char *key, char *buf,
                             size_t n)
{
    buf[0] = '\0';
    size_t at = 4;
    if (s->n < 4) return eai_fail(EAI_E_FORMAT, "%s: section 'meta' is too short", label);
    uint32_t count = eai__le32(s->p);
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *kv[2];
        uint32_t len[2];
        for (int j = 0; j < 2; j++) {
            if (s->n - at < 4) goto bad;
            len[j] = eai__le32(s->p + at);
            at += 4;
            if (s->n - at < len[j]) goto bad;
            kv[j] = s->p + at;
            at += len[j];
        }
        if (len[0] == strlen(key) && memcmp(kv[0], key, len[0]) == 0) {
            size_t k = len[1] < n - 1 ? len[1] : n - 1;
            memcpy(buf, kv[1], k);
            buf[k] = '\0';
            for (size_t b = 0; b < k; b++) /* for printing: no control bytes */
                if ((unsigned char)buf[b] < 32) buf[b] = '?';
        }
    }
    return EAI_OK;
bad:
    return eai_fail(EAI_E_FORMAT, "%s: section 'meta' ends inside an entry", label);
}

static eai_status_t load(eai_model_t *m, const uint8_t *d, size_t n, bool borrow)
{
    const char *label = m->g.label;
    container_t c;
    EAI_TRY(parse_container(d, n, label, true, &c));
    char backend[sizeof m->backend];
    EAI_TRY(meta_get(&c.s[EAI__PLAN_META], label, "backend", backend, sizeof backend));
    memcpy(m->backend, backend, sizeof backend);
    m->fp16_weights = (c.flags & EAI__PLAN_F_FP16) != 0;
    const section_t *st = &c.s[EAI__PLAN_STRINGS], *gr = &c.s[EAI__PLAN_GRAPH],
                    *w = &c.s[EAI__PLAN_WEIGHTS];
    return eai__plan_decode_graph(&m->g, gr->p, gr->n, st->p, st->n, w->p, w->n, borrow);
}

eai_status_t eai__plan_load_memory(eai_model_t *m, const void *data, size_t n)
{
    /* the caller's buffer is only borrowed for the call: weights are copied */
    return load(m, data, n, false);
}

eai_status_t eai__plan_load_file(eai_model_t *m, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return eai_fail(EAI_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return eai_fail(EAI_E_IO, "%s: not a regular file", path);
    }
    if (sb.st_size < EAI__PLAN_HEADER_BYTES || (uint64_t)sb.st_size > SIZE_MAX) {
        /* too short to map usefully: read it for the container's message */
        uint8_t head[EAI__PLAN_HEADER_BYTES];
        ssize_t got = read(fd, head, sizeof head);
        close(fd);
        container_t c;
        return parse_container(head, got > 0 ? (size_t)got : 0, m->g.label, true, &c);
    }
    size_t n = (size_t)sb.st_size;
    /* Every page is read at once by the CRC check, so ask for them up front
     * (one fault-in pass instead of one fault per page). */
    int mflags = MAP_PRIVATE;
#ifdef MAP_POPULATE
    mflags |= MAP_POPULATE;
#endif
    void *p = mmap(NULL, n, PROT_READ, mflags, fd, 0);
    int err = errno;
    close(fd);
    if (p == MAP_FAILED) return eai_fail(EAI_E_IO, "%s: cannot map: %s", path, strerror(err));
    /* owned by the model from here: eai_model_destroy unmaps it on any error */
    m->map = p;
    m->map_bytes = n;
    return load(m, p, n, true);
}

void eai__plan_release(eai_model_t *m)
{
    if (m->map) munmap(m->map, m->map_bytes);
    m->map = NULL;
    m->map_bytes = 0;
}

eai_status_t eai__plan_read_info(const char *path, eai__plan_info_t *out)
{
    memset(out, 0, sizeof *out);
    /* most files given to `edgeai info` are not plans: look before reading */
    uint8_t head[EAI__PLAN_MAGIC_BYTES];
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(head, 1, sizeof head, f) : 0;
    if (f) fclose(f);
    if (!eai__plan_probe(head, got)) return eai_fail(EAI_E_FORMAT, "%s: not a plan", path);
    void *data;
    size_t n;
    /* info is not a hot path: read the file rather than map it */
    EAI_TRY(eai__read_file(NULL, path, &data, &n));
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    container_t c;
    eai_status_t st = parse_container(data, n, base, false, &c);
    if (st == EAI_OK) {
        const section_t *meta = &c.s[EAI__PLAN_META];
        out->version = eai__le32((const uint8_t *)data + 8);
        out->flags = c.flags;
        out->file_bytes = n;
        out->meta_bytes = meta->n;
        out->strings_bytes = c.s[EAI__PLAN_STRINGS].n;
        out->graph_bytes = c.s[EAI__PLAN_GRAPH].n;
        out->weights_bytes = c.s[EAI__PLAN_WEIGHTS].n;
        struct {
            const char *key;
            char *buf;
            size_t n;
        } keys[] = {
            {"edgeai_version", out->edgeai_version, sizeof out->edgeai_version},
            {"backend", out->backend, sizeof out->backend},
            {"build", out->build, sizeof out->build},
            {"source", out->source, sizeof out->source},
            {"producer", out->producer, sizeof out->producer},
        };
        for (size_t i = 0; i < sizeof keys / sizeof keys[0] && st == EAI_OK; i++)
            st = meta_get(meta, base, keys[i].key, keys[i].buf, keys[i].n);
    }
    eai__free_aligned(NULL, data);
    return st;
}
