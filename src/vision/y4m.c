/* YUV4MPEG2 (Y4M) reader, pure C. A stream is one header line
 * "YUV4MPEG2 W<w> H<h> F<n>:<d> I<i> A<n>:<d> C<space> X<ext>\n" and then
 * frames "FRAME[ params]\n" + planes Y, U, V (8-bit, no padding). The memory
 * source converts straight from the caller's buffer; the file source reads
 * one frame into a buffer made at open. Every length is checked before use
 * because this parser is fuzzed. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vision_impl.h"

#define MAX_LINE 4096
#define MAX_SIDE 16384
/* Largest frame we allocate for (8K x 8K 4:4:4): keeps a corrupt header from
 * asking for gigabytes. */
#define MAX_FRAME_BYTES ((size_t)8192 * 8192 * 3)

/* Reads one '\n'-terminated line (without the '\n') into buf. Returns 1 for a
 * line, 0 for EOF before any byte, -1 for EOF mid-line or a line too long. */
static int read_line(eai__y4m_t *y, char *buf, size_t cap, size_t *len)
{
    size_t n = 0;
    for (;;) {
        int c;
        if (y->f) {
            c = getc(y->f);
        } else {
            c = y->mem_off < y->mem_n ? y->mem[y->mem_off++] : EOF;
        }
        if (c == EOF) return n == 0 ? 0 : -1;
        if (c == '\n') break;
        if (n + 1 >= cap) return -1;
        buf[n++] = (char)c;
    }
    buf[n] = '\0';
    *len = n;
    return 1;
}

static bool parse_int(const char *s, int lo, int hi, int *out)
{
    if (*s < '0' || *s > '9') return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end != '\0' || v < lo || v > hi) return false;
    *out = (int)v;
    return true;
}

/* "n:d" with n, d > 0 (F and A tokens). */
static bool parse_ratio(const char *s, int *n, int *d)
{
    char tmp[64];
    size_t len = strlen(s);
    if (len == 0 || len >= sizeof tmp) return false;
    memcpy(tmp, s, len + 1);
    char *colon = strchr(tmp, ':');
    if (!colon) return false;
    *colon = '\0';
    return parse_int(tmp, 0, 1 << 30, n) && parse_int(colon + 1, 0, 1 << 30, d);
}

static eai_status_t bad(const eai__y4m_t *y, const char *what, const char *tok)
{
    return eai_fail(EAI_E_FORMAT, "%s: Y4M header: %s%s%s%s", y->name, what, tok ? " ('" : "",
                    tok ? tok : "", tok ? "')" : "");
}

eai_status_t eai__y4m_open(eai__y4m_t *y)
{
    char line[MAX_LINE];
    size_t len;
    int r = read_line(y, line, sizeof line, &len);
    if (r <= 0 || strncmp(line, "YUV4MPEG2", 9) != 0 || (line[9] != ' ' && line[9] != '\0'))
        return eai_fail(EAI_E_FORMAT, "%s: not a Y4M stream (no 'YUV4MPEG2 ' header line)",
                        y->name);
    size_t header_bytes = len + 1;
    y->w = y->h = 0;
    y->fps = 0;
    const char *cs = "420jpeg";
    char csbuf[32] = "420jpeg";
    y->full_range = false;
    for (char *save = NULL, *tok = strtok_r(line + 9, " ", &save); tok;
         tok = strtok_r(NULL, " ", &save)) {
        switch (tok[0]) {
        case 'W':
            if (!parse_int(tok + 1, 1, MAX_SIDE, &y->w)) return bad(y, "bad width", tok);
            break;
        case 'H':
            if (!parse_int(tok + 1, 1, MAX_SIDE, &y->h)) return bad(y, "bad height", tok);
            break;
        case 'F': {
            int n, d;
            if (!parse_ratio(tok + 1, &n, &d)) return bad(y, "bad frame rate", tok);
            y->fps = d > 0 ? (double)n / d : 0;
            break;
        }
        case 'C':
            if (strlen(tok + 1) >= sizeof csbuf) return bad(y, "unknown colour space", tok);
            strcpy(csbuf, tok + 1);
            cs = csbuf;
            break;
        case 'X':
            if (strcmp(tok, "XCOLORRANGE=FULL") == 0) y->full_range = true;
            break;
        case 'I':
        case 'A':
            break; /* interlacing and pixel aspect do not change the planes */
        default:
            return bad(y, "unknown parameter", tok);
        }
    }
    if (y->w == 0 || y->h == 0) return bad(y, "missing W or H", NULL);
    y->alpha = 0;
    if (strcmp(cs, "420jpeg") == 0 || strcmp(cs, "420mpeg2") == 0 || strcmp(cs, "420paldv") == 0 ||
        strcmp(cs, "420") == 0) {
        y->cw = (y->w + 1) / 2;
        y->ch = (y->h + 1) / 2;
    } else if (strcmp(cs, "422") == 0) {
        y->cw = (y->w + 1) / 2;
        y->ch = y->h;
    } else if (strcmp(cs, "444") == 0 || strcmp(cs, "444alpha") == 0) {
        y->cw = y->w;
        y->ch = y->h;
        y->alpha = cs[3] == 'a';
    } else if (strcmp(cs, "mono") == 0) {
        y->cw = y->ch = 0;
    } else {
        return eai_fail(EAI_E_UNSUPPORTED,
                        "%s: Y4M colour space '%s' is not supported (420jpeg, 420mpeg2, "
                        "420paldv, 420, 422, 444, 444alpha, mono)",
                        y->name, cs);
    }
    size_t luma = (size_t)y->w * (size_t)y->h;
    y->frame_bytes = luma * (1 + (size_t)y->alpha) + 2 * (size_t)y->cw * (size_t)y->ch;
    if (y->frame_bytes > MAX_FRAME_BYTES)
        return eai_fail(EAI_E_UNSUPPORTED, "%s: Y4M frame %dx%d is too large", y->name, y->w, y->h);
    /* Frame count: exact when every frame header is the bare "FRAME\n". */
    y->n_frames = -1;
    size_t total = 0;
    if (y->f) {
        struct stat sb;
        if (fstat(fileno(y->f), &sb) == 0 && S_ISREG(sb.st_mode)) total = (size_t)sb.st_size;
    } else {
        total = y->mem_n;
    }
    if (total >= header_bytes && (total - header_bytes) % (y->frame_bytes + 6) == 0)
        y->n_frames = (int64_t)((total - header_bytes) / (y->frame_bytes + 6));
    if (y->f) {
        y->buf = malloc(y->frame_bytes);
        if (!y->buf)
            return eai_fail(EAI_E_NOMEM, "%s: Y4M frame buffer (%zu bytes)", y->name,
                            y->frame_bytes);
    }
    return EAI_OK;
}

eai_status_t eai__y4m_read(eai__y4m_t *y, uint8_t *rgb, int64_t index, bool *eof)
{
    char line[MAX_LINE];
    size_t len;
    *eof = false;
    int r = read_line(y, line, sizeof line, &len);
    if (r == 0) {
        *eof = true;
        return EAI_OK;
    }
    if (r < 0 || strncmp(line, "FRAME", 5) != 0 || (line[5] != '\0' && line[5] != ' '))
        return eai_fail(EAI_E_FORMAT, "%s: Y4M frame %lld: bad or truncated 'FRAME' line", y->name,
                        (long long)index);
    const uint8_t *planes;
    if (y->f) {
        size_t got = fread(y->buf, 1, y->frame_bytes, y->f);
        if (got != y->frame_bytes)
            return eai_fail(ferror(y->f) ? EAI_E_IO : EAI_E_FORMAT,
                            "%s: Y4M frame %lld: truncated (%zu of %zu bytes)", y->name,
                            (long long)index, got, y->frame_bytes);
        planes = y->buf;
    } else {
        if (y->mem_n - y->mem_off < y->frame_bytes)
            return eai_fail(EAI_E_FORMAT, "%s: Y4M frame %lld: truncated (%zu of %zu bytes)",
                            y->name, (long long)index, y->mem_n - y->mem_off, y->frame_bytes);
        planes = y->mem + y->mem_off;
        y->mem_off += y->frame_bytes;
    }
    size_t luma = (size_t)y->w * (size_t)y->h, chroma = (size_t)y->cw * (size_t)y->ch;
    const uint8_t *u = y->cw ? planes + luma : NULL, *v = y->cw ? planes + luma + chroma : NULL;
    eai__yuv_to_rgb(planes, u, v, y->w, y->h, y->cw, y->ch, y->full_range, rgb);
    return EAI_OK;
}

void eai__y4m_close(eai__y4m_t *y)
{
    if (y->f) fclose(y->f);
    free(y->buf);
    y->f = NULL;
    y->buf = NULL;
}

static inline uint8_t clip8(int v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* BT.601 in 16.16 fixed point. Limited range (Rec. 601 studio swing):
 * R = 1.164 (Y-16) + 1.596 (V-128), G = 1.164 (Y-16) - 0.392 (U-128) - 0.813 (V-128),
 * B = 1.164 (Y-16) + 2.017 (U-128). Full range (JFIF): R = Y + 1.402 (V-128),
 * G = Y - 0.344136 (U-128) - 0.714136 (V-128), B = Y + 1.772 (U-128).
 * A bias keeps the shifted value non-negative (no implementation-defined >>). */
void eai__yuv_to_rgb(const uint8_t *yp, const uint8_t *up, const uint8_t *vp, int w, int h, int cw,
                     int ch, bool full_range, uint8_t *rgb)
{
    const int ky = full_range ? 65536 : 76309, y0 = full_range ? 0 : 16;
    const int krv = full_range ? 91881 : 104597, kgu = full_range ? 22554 : 25675;
    const int kgv = full_range ? 46802 : 53279, kbu = full_range ? 116130 : 132201;
    const int bias = 1 << 25, half = 1 << 15;
    for (int j = 0; j < h; j++) {
        int cj = (up && ch > 0) ? (int)((int64_t)j * ch / h) : 0;
        for (int i = 0; i < w; i++) {
            int yy = (yp[(size_t)j * w + i] - y0) * ky;
            int d = 0, e = 0;
            if (up) {
                int ci = (int)((int64_t)i * cw / w);
                d = up[(size_t)cj * cw + ci] - 128;
                e = vp[(size_t)cj * cw + ci] - 128;
            }
            uint8_t *o = rgb + ((size_t)j * w + i) * 3;
            o[0] = clip8(((yy + krv * e + half + bias) >> 16) - (bias >> 16));
            o[1] = clip8(((yy - kgu * d - kgv * e + half + bias) >> 16) - (bias >> 16));
            o[2] = clip8(((yy + kbu * d + half + bias) >> 16) - (bias >> 16));
        }
    }
}
