/* Video frame sources and sinks behind one opaque handle each.
 *
 *   eai_video_t *v;
 *   EAI_TRY(eai_video_open("vtest.avi", NULL, &v));     // .y4m, a folder, or ffmpeg
 *   eai_image_t frame = {0};                            // reused for every frame
 *   bool eof = false;
 *   while (eai_video_read(v, &frame, &eof) == EAI_OK && !eof)
 *       use(&frame);
 *   eai_image_free(&frame);
 *   eai_video_close(v);                                 // reaps the ffmpeg child
 *
 *   eai_video_writer_t *w;                              // "out.mp4" encodes, "out/" PNGs
 *   EAI_TRY(eai_video_writer_open("out.mp4", 768, 576, NULL, &w));
 *   EAI_TRY(eai_video_writer_write(w, &frame));
 *   EAI_TRY(eai_video_writer_close(w));
 *
 * Sources:
 *   Y4M     (YUV4MPEG2, pure C) colour spaces 420jpeg, 420mpeg2, 420paldv, 420,
 *           422, 444 and mono, converted to RGB with BT.601 (limited range, or
 *           full range with the `XCOLORRANGE=FULL` extension ffmpeg writes).
 *           Chroma siting is treated as centred (sub-pixel difference only).
 *           Also readable from a memory buffer (eai_video_open_y4m_memory).
 *   folder  every *.jpg, *.jpeg, *.png (case-insensitive) in the folder, sorted
 *           by name (strcmp); all frames must have the first frame's size.
 *   ffmpeg  anything else: `ffprobe` gives size, fps and frame count, then an
 *           `ffmpeg -i PATH -f rawvideo -pix_fmt rgb24 -` child (fork/execvp, no
 *           shell) streams RGB frames through a pipe.
 * Frames are always 8-bit RGB, HWC (eai_image_t with channels 3).
 *
 * Handles are single-threaded (one thread at a time per handle). No hidden
 * threads; children are always reaped by close, even when closed early.
 */
#ifndef EDGEAI_VIDEO_H
#define EDGEAI_VIDEO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgeai/image.h"
#include "edgeai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eai_video eai_video_t;

typedef enum eai_video_kind {
    EAI_VIDEO_AUTO = 0, /* folder if a directory, Y4M if the file starts with
                           "YUV4MPEG2 ", else ffmpeg */
    EAI_VIDEO_Y4M,
    EAI_VIDEO_FOLDER,
    EAI_VIDEO_FFMPEG,
} eai_video_kind_t;

/* Plain data; zero-init means defaults. */
typedef struct eai_video_opts {
    eai_video_kind_t kind; /* force a reader; AUTO (0) guesses as above */
    const char *ffmpeg;    /* program name or path; NULL: "ffmpeg" (found via PATH) */
    const char *ffprobe;   /* NULL: "ffprobe" */
    int max_frames;        /* stop (eof) after this many frames; 0: all */
    double folder_fps;     /* fps reported for a folder of frames; 0: 25 */
} eai_video_opts_t;

/* Opens `path` (borrowed for the call; `opts` may be NULL and is copied).
 * EAI_E_IO: missing/unreadable path, or ffmpeg/ffprobe cannot be started
 * (EAI_E_UNAVAILABLE when the program is not installed); EAI_E_FORMAT: bad Y4M
 * header, ffprobe finds no video stream, empty folder; EAI_E_UNSUPPORTED: a
 * Y4M colour space not listed above; EAI_E_NOMEM. *out is set only on success. */
EAI_API eai_status_t eai_video_open(const char *path, const eai_video_opts_t *opts,
                                    eai_video_t **out);

/* Opens a Y4M stream held in memory. `data` is borrowed and must outlive the
 * handle (no copy). `name` labels error messages (may be NULL). Same statuses
 * as eai_video_open. Meant for fuzzing and tests. */
EAI_API eai_status_t eai_video_open_y4m_memory(const void *data, size_t n_bytes, const char *name,
                                               const eai_video_opts_t *opts, eai_video_t **out);

/* Reads the next frame into `frame`, reusing its buffer: when frame->data is
 * NULL or its width/height/channels differ from the video's, the buffer is
 * (re)allocated (free it with eai_image_free); otherwise no allocation happens.
 * At the end of the stream *eof becomes true, EAI_OK is returned and `frame`
 * is left as it was. EAI_E_FORMAT: truncated or malformed frame (Y4M), a
 * folder image of another size or undecodable; EAI_E_IO: read error or the
 * ffmpeg child died mid-frame; EAI_E_STATE: reading after an error. */
EAI_API eai_status_t eai_video_read(eai_video_t *v, eai_image_t *frame, bool *eof);

EAI_API int eai_video_width(const eai_video_t *v);
EAI_API int eai_video_height(const eai_video_t *v);
/* Frames per second (Y4M header, ffprobe's avg/r_frame_rate, opts.folder_fps);
 * 0 if unknown. */
EAI_API double eai_video_fps(const eai_video_t *v);
/* Total frames if known in advance (folder count, ffprobe nb_frames, a Y4M
 * file whose frames carry no parameters), capped by opts.max_frames; -1 if
 * unknown. */
EAI_API int64_t eai_video_n_frames(const eai_video_t *v);
/* Frames returned so far. */
EAI_API int64_t eai_video_position(const eai_video_t *v);
/* The reader actually used (never AUTO). */
EAI_API eai_video_kind_t eai_video_kind(const eai_video_t *v);

/* Closes the source; kills (SIGKILL: its output is not wanted) and reaps an
 * ffmpeg child that is still running. Accepts NULL. */
EAI_API void eai_video_close(eai_video_t *v);

/* ---- writer ---- */

typedef struct eai_video_writer eai_video_writer_t;

typedef struct eai_video_writer_opts {
    double fps;         /* encoded frame rate; 0: 25 */
    const char *codec;  /* ffmpeg encoder; NULL: "mpeg4" (always in Debian's ffmpeg) */
    int quality;        /* ffmpeg -q:v (1 best .. 31 worst); 0: 4 */
    const char *ffmpeg; /* NULL: "ffmpeg" */
    bool folder;        /* force PNG frames into the folder `path` */
} eai_video_writer_opts_t;

/* Opens a sink for width x height RGB frames. If `path` ends in .mp4, .avi,
 * .mkv, .mov or .webm (and opts->folder is false), frames are piped into an
 * `ffmpeg -f rawvideo -pix_fmt rgb24 ... -c:v CODEC -y PATH` child; otherwise
 * `path` is a folder (created if missing) that receives 000000.png,
 * 000001.png, ... `path` and `opts` are copied. EAI_E_INVALID (sizes),
 * EAI_E_IO (cannot create the folder / start ffmpeg), EAI_E_UNAVAILABLE
 * (ffmpeg not installed), EAI_E_NOMEM. */
EAI_API eai_status_t eai_video_writer_open(const char *path, int width, int height,
                                           const eai_video_writer_opts_t *opts,
                                           eai_video_writer_t **out);

/* Writes one frame (borrowed for the call; must be width x height x 3).
 * EAI_E_INVALID (size), EAI_E_IO (write failed / ffmpeg exited; no SIGPIPE is
 * raised). */
EAI_API eai_status_t eai_video_writer_write(eai_video_writer_t *w, const eai_image_t *frame);

/* Finishes the file (closes ffmpeg's input and waits for it) and frees the
 * handle, always. EAI_E_IO if ffmpeg exited with an error or an earlier write
 * failed. Accepts NULL (EAI_OK). */
EAI_API eai_status_t eai_video_writer_close(eai_video_writer_t *w);

/* Frames written so far. */
EAI_API int64_t eai_video_writer_count(const eai_video_writer_t *w);

#ifdef __cplusplus
}
#endif
#endif
