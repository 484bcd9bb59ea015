/* Private to src/vision: child processes (ffmpeg, ffprobe) and the Y4M parser
 * behind eai_video_t. */
#ifndef EAI_VISION_IMPL_H
#define EAI_VISION_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "edgeai/status.h"
#include "edgeai/video.h"

/* Starts argv[0] (PATH search, no shell) with the given fds as its stdin,
 * stdout, stderr (-1: /dev/null). EAI_E_UNAVAILABLE when the program is not
 * installed, EAI_E_IO otherwise. */
eai_status_t eai__proc_spawn(char *const argv[], int fd_in, int fd_out, int fd_err, pid_t *pid);
/* Waits for `pid` up to `timeout_ms` (< 0: forever), then SIGTERM, 2 s more,
 * then SIGKILL; always reaps. Returns the exit status as waitpid gives it, or
 * -1 when it had to be killed. */
int eai__proc_reap(pid_t pid, int timeout_ms);
/* Runs argv to completion, stdout and stderr into buf (NUL-terminated,
 * truncated to cap-1), killing it after timeout_ms. *exit_code: exit code, or
 * -1 if killed by a signal. */
eai_status_t eai__proc_capture(char *const argv[], char *buf, size_t cap, int timeout_ms,
                               int *exit_code);
/* read(2) exactly n bytes, retrying EINTR. Returns bytes read (< n only at EOF),
 * or -1 with errno. */
ssize_t eai__read_full(int fd, void *buf, size_t n);

/* Y4M (YUV4MPEG2) parser over a FILE or a memory buffer. */
typedef struct eai__y4m {
    FILE *f;            /* file source, or NULL */
    const uint8_t *mem; /* memory source */
    size_t mem_n, mem_off;
    const char *name; /* for messages; borrowed */
    int w, h, cw, ch; /* luma and chroma plane sizes (cw = 0: mono) */
    int alpha;        /* 444alpha: an alpha plane follows, skipped */
    bool full_range;
    double fps;
    int64_t n_frames; /* -1 unknown */
    size_t frame_bytes;
    uint8_t *buf; /* file source: one frame of planes */
} eai__y4m_t;

/* Parses the stream header; on success y->w/h/... are set. Allocates y->buf
 * for a file source. */
eai_status_t eai__y4m_open(eai__y4m_t *y);
/* Next frame as RGB into rgb (w*h*3). *eof at a clean end. */
eai_status_t eai__y4m_read(eai__y4m_t *y, uint8_t *rgb, int64_t index, bool *eof);
void eai__y4m_close(eai__y4m_t *y);

/* YUV 8-bit planes -> RGB, BT.601 (limited or full range). Chroma planes are
 * cw x ch and sampled at (x * cw / w, y * ch / h); u/v NULL: gray. */
void eai__yuv_to_rgb(const uint8_t *yp, const uint8_t *up, const uint8_t *vp, int w, int h, int cw,
                     int ch, bool full_range, uint8_t *rgb);

#endif
