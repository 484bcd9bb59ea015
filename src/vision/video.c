/* eai_video_t: one handle over three frame sources (Y4M, a folder of
 * images, an ffmpeg child decoding to raw RGB). Every buffer a source needs is
 * made at open; reads fill the caller's image in place. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stb_image.h"
#include "vision_impl.h"

struct eai_video {
    eai_video_kind_t kind;
    int w, h;
    double fps;
    int64_t n_frames, pos, max_frames;
    bool failed, ended;
    char *path;
    eai__y4m_t y4m;
    /* folder */
    char **files;
    int n_files;
    /* ffmpeg */
    pid_t pid;
    int fd;
};

static void video_free(eai_video_t *v)
{
    if (!v) return;
    eai__y4m_close(&v->y4m);
    for (int i = 0; i < v->n_files; i++)
        free(v->files[i]);
    free(v->files);
    if (v->pid > 0) {
        /* Early close: ffmpeg is still decoding frames nobody wants. SIGKILL
         * before closing the pipe, so it neither finishes the file nor prints
         * "Broken pipe" errors; a killed decoder loses nothing. */
        kill(v->pid, SIGKILL);
        eai__proc_reap(v->pid, -1);
    }
    if (v->fd >= 0) close(v->fd);
    free(v->path);
    free(v);
}

static eai_video_t *video_new(const char *path, const eai_video_opts_t *o)
{
    eai_video_t *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->fd = -1;
    v->n_frames = -1;
    v->max_frames = o->max_frames > 0 ? o->max_frames : 0;
    v->path = strdup(path ? path : "(memory)");
    if (!v->path) {
        free(v);
        return NULL;
    }
    return v;
}

/* ---------------------------------------------------------------- folder */

static bool is_frame_file(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot || name[0] == '.') return false;
    return strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0 ||
           strcasecmp(dot, ".png") == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static eai_status_t open_folder(eai_video_t *v, const eai_video_opts_t *o)
{
    DIR *d = opendir(v->path);
    if (!d) return eai_fail(EAI_E_IO, "%s: cannot open folder: %s", v->path, strerror(errno));
    int cap = 0;
    eai_status_t st = EAI_OK;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!is_frame_file(e->d_name)) continue;
        if (v->n_files == cap) {
            cap = cap ? cap * 2 : 64;
            char **nf = realloc(v->files, (size_t)cap * sizeof *nf);
            if (!nf) {
                st = eai_fail(EAI_E_NOMEM, "%s: frame list", v->path);
                break;
            }
            v->files = nf;
        }
        size_t n = strlen(v->path) + strlen(e->d_name) + 2;
        char *p = malloc(n);
        if (!p) {
            st = eai_fail(EAI_E_NOMEM, "%s: frame list", v->path);
            break;
        }
        snprintf(p, n, "%s/%s", v->path, e->d_name);
        v->files[v->n_files++] = p;
    }
    closedir(d);
    if (st != EAI_OK) return st;
    if (v->n_files == 0)
        return eai_fail(EAI_E_FORMAT, "%s: no *.jpg, *.jpeg or *.png frames in the folder",
                        v->path);
    qsort(v->files, (size_t)v->n_files, sizeof *v->files, cmp_str);
    int c;
    if (!stbi_info(v->files[0], &v->w, &v->h, &c))
        return eai_fail(EAI_E_FORMAT, "%s: not a decodable image (%s)", v->files[0],
                        stbi_failure_reason());
    v->fps = o->folder_fps > 0 ? o->folder_fps : 25.0;
    v->n_frames = v->n_files;
    v->kind = EAI_VIDEO_FOLDER;
    return EAI_OK;
}

static eai_status_t read_folder(eai_video_t *v, eai_image_t *frame, bool *eof)
{
    if (v->pos >= v->n_files) {
        *eof = true;
        return EAI_OK;
    }
    const char *p = v->files[v->pos];
    int w, h, c;
    /* stb decodes into its own buffer; copied into the caller's below */
    unsigned char *px = stbi_load(p, &w, &h, &c, 3);
    if (!px)
        return eai_fail(EAI_E_FORMAT, "%s: not a decodable image (%s)", p, stbi_failure_reason());
    if (w != v->w || h != v->h) {
        stbi_image_free(px);
        return eai_fail(EAI_E_FORMAT, "%s: frame is %dx%d, the folder's first frame %dx%d", p, w, h,
                        v->w, v->h);
    }
    memcpy(frame->data, px, (size_t)w * (size_t)h * 3);
    stbi_image_free(px);
    return EAI_OK;
}

/* ---------------------------------------------------------------- ffmpeg */

static double parse_rate(const char *s)
{
    double n = 0, d = 1;
    if (sscanf(s, "%lf/%lf", &n, &d) >= 1 && d > 0 && n > 0) return n / d;
    return 0;
}

static eai_status_t probe(eai_video_t *v, const eai_video_opts_t *o)
{
    char *argv[] = {(char *)(o->ffprobe ? o->ffprobe : "ffprobe"),
                    "-v",
                    "error",
                    "-select_streams",
                    "v:0",
                    "-show_entries",
                    "stream=width,height,avg_frame_rate,r_frame_rate,nb_frames",
                    "-of",
                    "default=noprint_wrappers=1",
                    "--",
                    v->path,
                    NULL};
    char out[4096];
    int code;
    EAI_TRY(eai__proc_capture(argv, out, sizeof out, 30000, &code));
    double avg = 0, rfr = 0;
    for (char *save = NULL, *ln = strtok_r(out, "\n", &save); ln;
         ln = strtok_r(NULL, "\n", &save)) {
        if (strncmp(ln, "width=", 6) == 0) v->w = atoi(ln + 6);
        if (strncmp(ln, "height=", 7) == 0) v->h = atoi(ln + 7);
        if (strncmp(ln, "avg_frame_rate=", 15) == 0) avg = parse_rate(ln + 15);
        if (strncmp(ln, "r_frame_rate=", 13) == 0) rfr = parse_rate(ln + 13);
        if (strncmp(ln, "nb_frames=", 10) == 0 && isdigit((unsigned char)ln[10]))
            v->n_frames = atoll(ln + 10);
    }
    if (code != 0 || v->w <= 0 || v->h <= 0 || v->w > 16384 || v->h > 16384) {
        /* ffprobe's own message (first line) says why */
        char *nl = strchr(out, '\n');
        if (nl) *nl = '\0';
        return eai_fail(EAI_E_FORMAT, "%s: ffprobe finds no video stream%s%s", v->path,
                        out[0] ? ": " : "", out);
    }
    v->fps = avg > 0 ? avg : rfr;
    return EAI_OK;
}

static eai_status_t open_ffmpeg(eai_video_t *v, const eai_video_opts_t *o)
{
    EAI_TRY(probe(v, o));
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return eai_fail(EAI_E_IO, "%s: pipe: %s", v->path, strerror(errno));
    char *argv[] = {(char *)(o->ffmpeg ? o->ffmpeg : "ffmpeg"),
                    "-nostdin",
                    "-hide_banner",
                    "-loglevel",
                    "error",
                    "-i",
                    v->path,
                    "-map",
                    "0:v:0",
                    "-f",
                    "rawvideo",
                    "-pix_fmt",
                    "rgb24",
                    "-",
                    NULL};
    /* ffmpeg's errors go to our stderr: the user sees why decoding failed */
    eai_status_t st = eai__proc_spawn(argv, -1, p[1], STDERR_FILENO, &v->pid);
    close(p[1]);
    if (st != EAI_OK) {
        close(p[0]);
        return st;
    }
    v->fd = p[0];
    v->kind = EAI_VIDEO_FFMPEG;
    return EAI_OK;
}

static eai_status_t read_ffmpeg(eai_video_t *v, eai_image_t *frame, bool *eof)
{
    size_t n = (size_t)v->w * (size_t)v->h * 3;
    ssize_t got = eai__read_full(v->fd, frame->data, n);
    if (got == (ssize_t)n) return EAI_OK;
    int err = errno;
    close(v->fd);
    v->fd = -1;
    int status = eai__proc_reap(v->pid, 10000);
    v->pid = 0;
    if (got < 0) return eai_fail(EAI_E_IO, "%s: reading from ffmpeg: %s", v->path, strerror(err));
    if (got > 0)
        return eai_fail(EAI_E_IO, "%s: ffmpeg stopped mid-frame %lld (%zd of %zu bytes)", v->path,
                        (long long)v->pos, got, n);
    if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return eai_fail(EAI_E_IO, "%s: ffmpeg failed after %lld frames (exit status %d)", v->path,
                        (long long)v->pos,
                        status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    *eof = true;
    return EAI_OK;
}

/* ---------------------------------------------------------------- API */

static eai_status_t finish_open(eai_video_t *v, eai_status_t st, eai_video_t **out)
{
    if (st != EAI_OK) {
        video_free(v);
        return st;
    }
    if (v->max_frames > 0 && v->n_frames > v->max_frames) v->n_frames = v->max_frames;
    *out = v;
    return EAI_OK;
}

eai_status_t eai_video_open(const char *path, const eai_video_opts_t *opts, eai_video_t **out)
{
    eai_video_opts_t def = {0};
    const eai_video_opts_t *o = opts ? opts : &def;
    if (!path || !out) return eai_fail(EAI_E_INVALID, "video_open: no path");
    eai_video_t *v = video_new(path, o);
    if (!v) return eai_fail(EAI_E_NOMEM, "video_open: %s", path);
    eai_video_kind_t kind = o->kind;
    struct stat sb;
    bool exists = stat(path, &sb) == 0;
    if (kind == EAI_VIDEO_AUTO) {
        if (!exists && strstr(path, "://") == NULL)
            return finish_open(v, eai_fail(EAI_E_IO, "%s: %s", path, strerror(errno)), out);
        kind = EAI_VIDEO_FFMPEG;
        if (exists && S_ISDIR(sb.st_mode)) kind = EAI_VIDEO_FOLDER;
        if (exists && S_ISREG(sb.st_mode)) {
            char magic[10] = {0};
            FILE *f = fopen(path, "rb");
            if (!f)
                return finish_open(
                    v, eai_fail(EAI_E_IO, "%s: cannot open: %s", path, strerror(errno)), out);
            size_t got = fread(magic, 1, sizeof magic, f);
            fclose(f);
            if (got == sizeof magic && memcmp(magic, "YUV4MPEG2 ", 10) == 0) kind = EAI_VIDEO_Y4M;
        }
    }
    eai_status_t st;
    switch (kind) {
    case EAI_VIDEO_Y4M:
        v->y4m.name = v->path;
        v->y4m.f = fopen(path, "rb");
        if (!v->y4m.f) {
            st = eai_fail(EAI_E_IO, "%s: cannot open: %s", path, strerror(errno));
            break;
        }
        st = eai__y4m_open(&v->y4m);
        v->w = v->y4m.w, v->h = v->y4m.h, v->fps = v->y4m.fps, v->n_frames = v->y4m.n_frames;
        v->kind = EAI_VIDEO_Y4M;
        break;
    case EAI_VIDEO_FOLDER:
        st = open_folder(v, o);
        break;
    default:
        st = open_ffmpeg(v, o);
        break;
    }
    return finish_open(v, st, out);
}

eai_status_t eai_video_open_y4m_memory(const void *data, size_t n_bytes, const char *name,
                                       const eai_video_opts_t *opts, eai_video_t **out)
{
    eai_video_opts_t def = {0};
    const eai_video_opts_t *o = opts ? opts : &def;
    if ((!data && n_bytes) || !out)
        return eai_fail(EAI_E_INVALID, "video_open_y4m_memory: no data");
    eai_video_t *v = video_new(name ? name : "(memory)", o);
    if (!v) return eai_fail(EAI_E_NOMEM, "video_open_y4m_memory");
    v->y4m.name = v->path;
    v->y4m.mem = data;
    v->y4m.mem_n = n_bytes;
    eai_status_t st = eai__y4m_open(&v->y4m);
    v->w = v->y4m.w, v->h = v->y4m.h, v->fps = v->y4m.fps, v->n_frames = v->y4m.n_frames;
    v->kind = EAI_VIDEO_Y4M;
    return finish_open(v, st, out);
}

eai_status_t eai_video_read(eai_video_t *v, eai_image_t *frame, bool *eof)
{
    if (!v || !frame || !eof) return eai_fail(EAI_E_INVALID, "video_read: NULL argument");
    *eof = false;
    if (v->failed) return eai_fail(EAI_E_STATE, "%s: reading after an earlier error", v->path);
    if (v->ended || (v->max_frames > 0 && v->pos >= v->max_frames)) {
        *eof = true;
        return EAI_OK;
    }
    if (!frame->data || frame->width != v->w || frame->height != v->h || frame->channels != 3)
        EAI_TRY(eai_image_alloc(frame, v->w, v->h, 3));
    eai_status_t st;
    switch (v->kind) {
    case EAI_VIDEO_Y4M:
        st = eai__y4m_read(&v->y4m, frame->data, v->pos, eof);
        break;
    case EAI_VIDEO_FOLDER:
        st = read_folder(v, frame, eof);
        break;
    default:
        st = read_ffmpeg(v, frame, eof);
        break;
    }
    if (st != EAI_OK) {
        v->failed = true;
        return st;
    }
    if (*eof)
        v->ended = true;
    else
        v->pos++;
    return EAI_OK;
}

int eai_video_width(const eai_video_t *v)
{
    return v ? v->w : 0;
}
int eai_video_height(const eai_video_t *v)
{
    return v ? v->h : 0;
}
double eai_video_fps(const eai_video_t *v)
{
    return v ? v->fps : 0;
}
int64_t eai_video_n_frames(const eai_video_t *v)
{
    return v ? v->n_frames : -1;
}
int64_t eai_video_position(const eai_video_t *v)
{
    return v ? v->pos : 0;
}
eai_video_kind_t eai_video_kind(const eai_video_t *v)
{
    return v ? v->kind : EAI_VIDEO_AUTO;
}

void eai_video_close(eai_video_t *v)
{
    video_free(v);
}
