/* eai_video_writer_t: frames out as numbered PNGs in a folder, or piped as raw
 * RGB into an ffmpeg encoder child. The pipe is a socketpair so writes can use
 * MSG_NOSIGNAL: an encoder that dies gives EAI_E_IO, never a SIGPIPE that
 * would kill the caller's process. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vision_impl.h"

struct eai_video_writer {
    char *path;
    char *name; /* folder mode: room for "<path>/<number>.png", made at open */
    int w, h;
    int64_t count;
    bool failed;
    pid_t pid; /* 0: folder of PNGs */
    int fd;
};

static bool is_video_name(const char *p)
{
    static const char *const ext[] = {".mp4", ".avi", ".mkv", ".mov", ".webm"};
    const char *dot = strrchr(p, '.');
    if (!dot) return false;
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        if (strcasecmp(dot, ext[i]) == 0) return true;
    return false;
}

static void writer_free(eai_video_writer_t *w)
{
    if (w->fd >= 0) close(w->fd);
    free(w->name);
    free(w->path);
    free(w);
}

eai_status_t eai_video_writer_open(const char *path, int width, int height,
                                   const eai_video_writer_opts_t *opts, eai_video_writer_t **out)
{
    eai_video_writer_opts_t def = {0};
    const eai_video_writer_opts_t *o = opts ? opts : &def;
    if (!path || !out || width <= 0 || height <= 0 || width > 16384 || height > 16384)
        return eai_fail(EAI_E_INVALID, "video_writer_open: bad path or size %dx%d", width, height);
    eai_video_writer_t *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(path))) {
        free(w);
        return eai_fail(EAI_E_NOMEM, "video_writer_open: %s", path);
    }
    w->w = width;
    w->h = height;
    w->fd = -1;
    if (o->folder || !is_video_name(path)) {
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            eai_status_t st =
                eai_fail(EAI_E_IO, "%s: cannot create folder: %s", path, strerror(errno));
            writer_free(w);
            return st;
        }
        w->name = malloc(strlen(path) + 32);
        if (!w->name) {
            writer_free(w);
            return eai_fail(EAI_E_NOMEM, "video_writer_open: %s", path);
        }
        *out = w;
        return EAI_OK;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        eai_status_t st = eai_fail(EAI_E_IO, "%s: socketpair: %s", path, strerror(errno));
        writer_free(w);
        return st;
    }
    char size[32], fps[32], q[16];
    snprintf(size, sizeof size, "%dx%d", width, height);
    snprintf(fps, sizeof fps, "%g", o->fps > 0 ? o->fps : 25.0);
    snprintf(q, sizeof q, "%d", o->quality > 0 ? o->quality : 4);
    char *argv[] = {(char *)(o->ffmpeg ? o->ffmpeg : "ffmpeg"),
                    "-hide_banner",
                    "-loglevel",
                    "error",
                    "-y",
                    "-f",
                    "rawvideo",
                    "-pix_fmt",
                    "rgb24",
                    "-s",
                    size,
                    "-r",
                    fps,
                    "-i",
                    "-",
                    "-c:v",
                    (char *)(o->codec ? o->codec : "mpeg4"),
                    "-q:v",
                    q,
                    "-pix_fmt",
                    "yuv420p",
                    w->path,
                    NULL};
    eai_status_t st = eai__proc_spawn(argv, sv[1], -1, STDERR_FILENO, &w->pid);
    close(sv[1]);
    if (st != EAI_OK) {
        close(sv[0]);
        writer_free(w);
        return st;
    }
    w->fd = sv[0];
    *out = w;
    return EAI_OK;
}

eai_status_t eai_video_writer_write(eai_video_writer_t *w, const eai_image_t *f)
{
    if (!w || !f || !f->data || f->width != w->w || f->height != w->h || f->channels != 3)
        return eai_fail(EAI_E_INVALID, "video_writer: frame must be %dx%d RGB", w ? w->w : 0,
                        w ? w->h : 0);
    if (w->failed) return eai_fail(EAI_E_STATE, "%s: writing after an earlier error", w->path);
    if (w->pid == 0) {
        snprintf(w->name, strlen(w->path) + 32, "%s/%06lld.png", w->path, (long long)w->count);
        EAI_TRY(eai_image_save_png(f, w->name));
        w->count++;
        return EAI_OK;
    }
    const uint8_t *p = f->data;
    size_t left = (size_t)f->width * (size_t)f->height * 3;
    while (left > 0) {
        ssize_t r = send(w->fd, p, left, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            w->failed = true;
            return eai_fail(EAI_E_IO, "%s: ffmpeg stopped taking frames (%s)", w->path,
                            strerror(errno));
        }
        p += r;
        left -= (size_t)r;
    }
    w->count++;
    return EAI_OK;
}

eai_status_t eai_video_writer_close(eai_video_writer_t *w)
{
    if (!w) return EAI_OK;
    eai_status_t st = EAI_OK;
    if (w->pid > 0) {
        close(w->fd); /* EOF tells ffmpeg to finish the file */
        w->fd = -1;
        int status = eai__proc_reap(w->pid, 60000);
        if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            st = eai_fail(EAI_E_IO, "%s: ffmpeg failed to encode (exit status %d)", w->path,
                          status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        else if (w->failed)
            st = eai_fail(EAI_E_IO, "%s: an earlier frame was not written", w->path);
    }
    writer_free(w);
    return st;
}

int64_t eai_video_writer_count(const eai_video_writer_t *w)
{
    return w ? w->count : 0;
}
