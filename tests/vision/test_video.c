/* Video sources and writers: hand-built Y4M streams (every colour space, full
 * range, bad headers and truncation), Y4M files, folders of frames, the
 * ffmpeg source on OpenCV's vtest.avi (skipped if missing) and the PNG and
 * ffmpeg writers. Children must be reaped: no zombies after close. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "edgeai/video.h"
#include "edgeai/vision.h"

#define VTEST "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

/* BT.601 limited range in doubles: the reference for the fixed-point code. */
static void ref_rgb(int y, int u, int v, int out[3])
{
    double c = y - 16, d = u - 128, e = v - 128;
    double r = 1.164383 * c + 1.596027 * e, g = 1.164383 * c - 0.391762 * d - 0.812968 * e,
           b = 1.164383 * c + 2.017232 * d;
    double f[3] = {r, g, b};
    for (int i = 0; i < 3; i++)
        out[i] = (int)lround(f[i] < 0 ? 0 : f[i] > 255 ? 255 : f[i]);
}

static void assert_px(const eai_image_t *img, int x, int y, const int want[3])
{
    const uint8_t *p = img->data + ((size_t)y * img->width + x) * 3;
    for (int c = 0; c < 3; c++)
        assert_true(abs((int)p[c] - want[c]) <= 1);
}

/* Appends a frame of planes to buf. */
static size_t frame(uint8_t *buf, size_t off, const uint8_t *planes, size_t n)
{
    memcpy(buf + off, "FRAME\n", 6);
    memcpy(buf + off + 6, planes, n);
    return off + 6 + n;
}

static void test_y4m_444(void **state)
{
    (void)state;
    uint8_t buf[512];
    const char *hdr = "YUV4MPEG2 W2 H1 F25:1 Ip A1:1 C444\n";
    size_t off = strlen(hdr);
    memcpy(buf, hdr, off);
    /* frame 0: gray 126 and BT.601 red (81, 90, 240); frame 1: black, white */
    const uint8_t f0[6] = {126, 81, 128, 90, 128, 240};
    const uint8_t f1[6] = {16, 235, 128, 128, 128, 128};
    off = frame(buf, off, f0, 6);
    off = frame(buf, off, f1, 6);
    eai_video_t *v;
    assert_int_equal(eai_video_open_y4m_memory(buf, off, "t.y4m", NULL, &v), EAI_OK);
    assert_int_equal(eai_video_width(v), 2);
    assert_int_equal(eai_video_height(v), 1);
    assert_true(fabs(eai_video_fps(v) - 25.0) < 1e-9);
    assert_int_equal(eai_video_n_frames(v), 2);
    assert_int_equal(eai_video_kind(v), EAI_VIDEO_Y4M);
    eai_image_t img = {0};
    bool eof;
    int want[3];
    assert_int_equal(eai_video_read(v, &img, &eof), EAI_OK);
    assert_false(eof);
    ref_rgb(126, 128, 128, want); /* (128, 128, 128) */
    assert_int_equal(want[0], 128);
    assert_px(&img, 0, 0, want);
    ref_rgb(81, 90, 240, want); /* (254, 0, 0) */
    assert_true(want[0] >= 254 && want[1] == 0 && want[2] == 0);
    assert_px(&img, 1, 0, want);
    uint8_t *before = img.data;
    assert_int_equal(eai_video_read(v, &img, &eof), EAI_OK);
    assert_ptr_equal(img.data, before); /* buffer reused */
    assert_int_equal(img.data[0], 0);
    assert_int_equal(img.data[3], 255);
    assert_int_equal(eai_video_read(v, &img, &eof), EAI_OK);
    assert_true(eof);
    assert_int_equal(eai_video_position(v), 2);
    eai_video_close(v);
    eai_image_free(&img);
}

static void test_y4m_420_odd_mono_full(void **state)
{
    (void)state;
    /* 3x3 4:2:0: chroma 2x2; pixel (2, 2) reads chroma (1, 1) */
    uint8_t buf[256];
    const char *hdr = "YUV4MPEG2 W3 H3 F30000:1001 C420mpeg2 XYSCSS=420MPEG2\n";
    size_t off = strlen(hdr);
    memcpy(buf, hdr, off);
    uint8_t pl[9 + 4 + 4];
    memset(pl, 100, 9);
    const uint8_t u[4] = {128, 128, 128, 60}, vv[4] = {128, 128, 128, 200};
    memcpy(pl + 9, u, 4);
    memcpy(pl + 13, vv, 4);
    off = frame(buf, off, pl, sizeof pl);
    eai_video_t *v;
    assert_int_equal(eai_video_open_y4m_memory(buf, off, NULL, NULL, &v), EAI_OK);
    assert_true(fabs(eai_video_fps(v) - 29.97) < 0.01);
    eai_image_t img = {0};
    bool eof;
    assert_int_equal(eai_video_read(v, &img, &eof), EAI_OK);
    int want[3];
    ref_rgb(100, 128, 128, want);
    assert_px(&img, 0, 0, want);
    assert_px(&img, 1, 1, want);
    ref_rgb(100, 60, 200, want);
    assert_px(&img, 2, 2, want);
    eai_video_close(v);

    /* mono, full range: Y passes through */
    static const char mh[] = "YUV4MPEG2 W2 H1 Cmono XCOLORRANGE=FULL\nFRAME\n\x00\xff";
    assert_int_equal(eai_video_open_y4m_memory(mh, sizeof mh - 1, NULL, NULL, &v), EAI_OK);
    assert_int_equal(eai_video_n_frames(v), 1);
    assert_int_equal(eai_video_read(v, &img, &eof), EAI_OK);
    assert_int_equal(img.width, 2);
    const uint8_t wantm[6] = {0, 0, 0, 255, 255, 255};
    assert_memory_equal(img.data, wantm, 6);
    eai_video_close(v);

    /* 4:2:2 full range, frame header with parameters; count unknown then */
    static const char h422[] =
        "YUV4MPEG2 W2 H1 C422 XCOLORRANGE=FULL\nFRAME Ixyz\n\x80\x80\x80\xff";
    assert_int_equal(eai_video_open_y4m_memory(h422, sizeof h422 - 1, NULL, NULL, &v), EAI_OK);
    assert_int_equal(eai_video_n_frames(v), -1);
    assert_int_equal(eai_video_read(v, &img, &eof), EAI_OK);
    /* full range: R = 128 + 1.402 * 127 = 306 -> 255, B = 128 + 1.772 * 0 = 128 */
    assert_int_equal(img.data[0], 255);
    assert_int_equal(img.data[2], 128);
    eai_video_close(v);
    eai_image_free(&img);
}

static char first_error[512];

/* Opens and reads one frame; first_error keeps the first failure's message. */
static eai_status_t open_str(const char *s, size_t n)
{
    first_error[0] = '\0';
    eai_video_t *v = NULL;
    eai_status_t st = eai_video_open_y4m_memory(s, n, "bad.y4m", NULL, &v);
    if (st != EAI_OK) snprintf(first_error, sizeof first_error, "%s", eai_last_error());
    if (st == EAI_OK) {
        eai_image_t img = {0};
        bool eof;
        st = eai_video_read(v, &img, &eof);
        if (st == EAI_OK && eof) st = EAI_E_STATE + 100; /* no frame: not what tests want */
        snprintf(first_error, sizeof first_error, "%s", eai_last_error());
        /* after an error, reads stay refused */
        if (st != EAI_OK && st != EAI_E_STATE + 100)
            assert_int_equal(eai_video_read(v, &img, &eof), EAI_E_STATE);
        eai_image_free(&img);
        eai_video_close(v);
    }
    return st;
}

static void test_y4m_bad(void **state)
{
    (void)state;
#define BAD(s, want)                                                                               \
    do {                                                                                           \
        assert_int_equal(open_str(s, strlen(s)), want);                                            \
        assert_true(strlen(first_error) > 0);                                                      \
    } while (0)
    BAD("", EAI_E_FORMAT);
    BAD("RIFF....AVI LIST", EAI_E_FORMAT);
    BAD("YUV4MPEG2 W0 H2\n", EAI_E_FORMAT);
    BAD("YUV4MPEG2 W2\n", EAI_E_FORMAT);
    BAD("YUV4MPEG2 W99999 H2\n", EAI_E_FORMAT);
    BAD("YUV4MPEG2 W2 H2 F25\n", EAI_E_FORMAT);
    BAD("YUV4MPEG2 W2 H2 Q7\n", EAI_E_FORMAT);
    BAD("YUV4MPEG2 W2 H2 W-4\n", EAI_E_FORMAT);
    BAD("YUV4MPEG2 W2 H2", EAI_E_FORMAT); /* no newline */
    BAD("YUV4MPEG2 W2 H2 C420p10\n", EAI_E_UNSUPPORTED);
    assert_non_null(strstr(first_error, "420p10"));
    BAD("YUV4MPEG2 W8192 H8192 C444alpha\n", EAI_E_UNSUPPORTED);
    BAD("YUV4MPEG2 W2 H1 Cmono\nFRAMX\n\x01\x02", EAI_E_FORMAT);
    BAD("YUV4MPEG2 W2 H1 Cmono\nFRAME\n\x01", EAI_E_FORMAT); /* truncated plane */
    assert_non_null(strstr(first_error, "truncated"));
    BAD("YUV4MPEG2 W2 H1 Cmono\nFRAME", EAI_E_FORMAT); /* truncated frame line */
    BAD("YUV4MPEG2 W2 H1 Cmono\n", EAI_E_STATE + 100); /* valid, no frames */
    eai_video_t *v;
    assert_int_equal(eai_video_open_y4m_memory(NULL, 5, NULL, NULL, &v), EAI_E_INVALID);
#undef BAD
}

static char *tmpdir(void)
{
    static char path[64];
    strcpy(path, "/tmp/eai_vision_XXXXXX");
    assert_non_null(mkdtemp(path));
    return path;
}

static void rm_rf(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.') continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static void test_y4m_file_and_max_frames(void **state)
{
    (void)state;
    char *dir = tmpdir();
    char path[256];
    snprintf(path, sizeof path, "%s/clip.y4m", dir);
    FILE *f = fopen(path, "wb");
    fputs("YUV4MPEG2 W2 H2 F10:1 Cmono\n", f);
    for (int i = 0; i < 5; i++) {
        fputs("FRAME\n", f);
        for (int k = 0; k < 4; k++)
            fputc(16 + i, f);
    }
    fclose(f);
    eai_video_opts_t o = {.max_frames = 3};
    eai_video_t *v;
    assert_int_equal(eai_video_open(path, &o, &v), EAI_OK); /* AUTO finds the magic */
    assert_int_equal(eai_video_kind(v), EAI_VIDEO_Y4M);
    assert_int_equal(eai_video_n_frames(v), 3);
    eai_image_t img = {0};
    bool eof = false;
    int n = 0;
    while (eai_video_read(v, &img, &eof) == EAI_OK && !eof)
        n++;
    assert_true(eof);
    assert_int_equal(n, 3);
    eai_video_close(v);
    /* truncated file */
    assert_int_equal(truncate(path, 28 + 10 + 3), 0);
    assert_int_equal(eai_video_open(path, NULL, &v), EAI_OK);
    assert_int_equal(eai_video_read(v, &img, &eof), EAI_OK);
    assert_int_equal(eai_video_read(v, &img, &eof), EAI_E_FORMAT);
    eai_video_close(v);
    eai_image_free(&img);
    rm_rf(dir);
}

static void test_folder_source_and_png_writer(void **state)
{
    (void)state;
    char *dir = tmpdir();
    char frames[300];
    snprintf(frames, sizeof frames, "%s/frames", dir);
    /* write 3 frames with the PNG writer: red value = 10 * index */
    eai_video_writer_t *w;
    assert_int_equal(eai_video_writer_open(frames, 4, 3, NULL, &w), EAI_OK);
    eai_image_t img = {0};
    assert_int_equal(eai_image_alloc(&img, 4, 3, 3), EAI_OK);
    for (int i = 0; i < 3; i++) {
        memset(img.data, 10 * i, 4 * 3 * 3);
        assert_int_equal(eai_video_writer_write(w, &img), EAI_OK);
    }
    assert_int_equal(eai_video_writer_count(w), 3);
    eai_image_t wrong = {0};
    assert_int_equal(eai_image_alloc(&wrong, 5, 3, 3), EAI_OK);
    assert_int_equal(eai_video_writer_write(w, &wrong), EAI_E_INVALID);
    assert_int_equal(eai_video_writer_close(w), EAI_OK);
    /* a file that is not a frame is ignored */
    char p[400];
    snprintf(p, sizeof p, "%s/notes.txt", frames);
    FILE *f = fopen(p, "w");
    fputs("x", f);
    fclose(f);
    eai_video_t *v;
    assert_int_equal(eai_video_open(frames, NULL, &v), EAI_OK);
    assert_int_equal(eai_video_kind(v), EAI_VIDEO_FOLDER);
    assert_int_equal(eai_video_n_frames(v), 3);
    assert_int_equal(eai_video_width(v), 4);
    assert_true(fabs(eai_video_fps(v) - 25) < 1e-9);
    eai_image_t got = {0};
    bool eof;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(eai_video_read(v, &got, &eof), EAI_OK);
        assert_false(eof);
        assert_int_equal(got.data[0], 10 * i); /* sorted by name */
    }
    assert_int_equal(eai_video_read(v, &got, &eof), EAI_OK);
    assert_true(eof);
    eai_video_close(v);
    /* a frame of another size */
    snprintf(p, sizeof p, "%s/000009.png", frames);
    assert_int_equal(eai_image_save_png(&wrong, p), EAI_OK);
    assert_int_equal(eai_video_open(frames, NULL, &v), EAI_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(eai_video_read(v, &got, &eof), EAI_OK);
    assert_int_equal(eai_video_read(v, &got, &eof), EAI_E_FORMAT);
    assert_non_null(strstr(eai_last_error(), "5x3"));
    eai_video_close(v);
    rm_rf(frames);
    /* empty folder, missing path */
    mkdir(frames, 0755);
    assert_int_equal(eai_video_open(frames, NULL, &v), EAI_E_FORMAT);
    assert_int_equal(eai_video_open("/nonexistent/clip.avi", NULL, &v), EAI_E_IO);
    rm_rf(frames);
    eai_image_free(&img);
    eai_image_free(&wrong);
    eai_image_free(&got);
    rm_rf(dir);
}

static bool have(const char *prog)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
    return system(cmd) == 0;
}

static void assert_no_children(void)
{
    errno = 0;
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

static void test_ffmpeg_vtest(void **state)
{
    (void)state;
    if (access(VTEST, R_OK) != 0 || !have("ffmpeg") || !have("ffprobe")) {
        skip();
        return;
    }
    eai_video_t *v;
    assert_int_equal(eai_video_open(VTEST, NULL, &v), EAI_OK);
    assert_int_equal(eai_video_kind(v), EAI_VIDEO_FFMPEG);
    assert_int_equal(eai_video_width(v), 768);
    assert_int_equal(eai_video_height(v), 576);
    assert_int_equal(eai_video_n_frames(v), 795);
    assert_true(eai_video_fps(v) > 0);
    eai_image_t img = {0};
    bool eof;
    uint8_t *buf = NULL;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(eai_video_read(v, &img, &eof), EAI_OK);
        assert_false(eof);
        if (i == 0) buf = img.data;
        assert_ptr_equal(img.data, buf);
    }
    /* a street scene: not a flat image */
    int lo = 255, hi = 0;
    for (int i = 0; i < 768 * 576 * 3; i += 97) {
        lo = img.data[i] < lo ? img.data[i] : lo;
        hi = img.data[i] > hi ? img.data[i] : hi;
    }
    assert_true(hi - lo > 100);
    eai_video_close(v); /* early: 792 frames left; the child must be reaped */
    assert_no_children();
    eai_image_free(&img);
}

static void test_ffmpeg_errors_and_writer(void **state)
{
    (void)state;
    if (!have("ffmpeg") || !have("ffprobe")) {
        skip();
        return;
    }
    char *dir = tmpdir();
    char path[300];
    /* not a video */
    snprintf(path, sizeof path, "%s/junk.avi", dir);
    FILE *f = fopen(path, "w");
    fputs("this is not a video", f);
    fclose(f);
    eai_video_t *v;
    assert_int_equal(eai_video_open(path, NULL, &v), EAI_E_FORMAT);
    assert_non_null(strstr(eai_last_error(), "ffprobe"));
    /* a missing program */
    eai_video_opts_t o = {.ffprobe = "edgeai-no-such-ffprobe"};
    assert_int_equal(eai_video_open(path, &o, &v), EAI_E_UNAVAILABLE);
    assert_no_children();
    /* encode 10 frames of a colour ramp, decode them again */
    snprintf(path, sizeof path, "%s/out.avi", dir);
    eai_video_writer_opts_t wo = {.fps = 5, .quality = 2};
    eai_video_writer_t *w;
    assert_int_equal(eai_video_writer_open(path, 64, 48, &wo, &w), EAI_OK);
    eai_image_t img = {0};
    assert_int_equal(eai_image_alloc(&img, 64, 48, 3), EAI_OK);
    for (int i = 0; i < 10; i++) {
        for (int p = 0; p < 64 * 48; p++) {
            img.data[p * 3] = (uint8_t)(20 * i);
            img.data[p * 3 + 1] = 100;
            img.data[p * 3 + 2] = (uint8_t)(200 - 10 * i);
        }
        assert_int_equal(eai_video_writer_write(w, &img), EAI_OK);
    }
    assert_int_equal(eai_video_writer_close(w), EAI_OK);
    assert_no_children();
    assert_int_equal(eai_video_open(path, NULL, &v), EAI_OK);
    assert_int_equal(eai_video_width(v), 64);
    assert_int_equal(eai_video_height(v), 48);
    bool eof = false;
    int n = 0;
    while (eai_video_read(v, &img, &eof) == EAI_OK && !eof) {
        const uint8_t *c = img.data + (24 * 64 + 32) * 3; /* centre pixel, lossy codec */
        assert_true(abs((int)c[0] - 20 * n) <= 12);
        assert_true(abs((int)c[1] - 100) <= 12);
        assert_true(abs((int)c[2] - (200 - 10 * n)) <= 12);
        n++;
    }
    assert_true(eof);
    assert_int_equal(n, 10);
    eai_video_close(v);
    assert_no_children();
    /* the encoder dies: writes fail with EAI_E_IO, no SIGPIPE */
    snprintf(path, sizeof path, "%s/nodir/out.mp4", dir);
    assert_int_equal(eai_video_writer_open(path, 64, 48, NULL, &w), EAI_OK);
    eai_status_t st = EAI_OK;
    for (int i = 0; i < 200 && st == EAI_OK; i++)
        st = eai_video_writer_write(w, &img);
    assert_int_equal(eai_video_writer_close(w), EAI_E_IO);
    assert_no_children();
    eai_image_free(&img);
    rm_rf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_y4m_444),
        cmocka_unit_test(test_y4m_420_odd_mono_full),
        cmocka_unit_test(test_y4m_bad),
        cmocka_unit_test(test_y4m_file_and_max_frames),
        cmocka_unit_test(test_folder_source_and_png_writer),
        cmocka_unit_test(test_ffmpeg_vtest),
        cmocka_unit_test(test_ffmpeg_errors_and_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
