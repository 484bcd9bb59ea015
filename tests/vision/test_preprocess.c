/* Preprocessing (resize modes, letterbox, crop, layouts, normalisation) and
 * drawing, against hand-computed pixels; the letterbox round trip; PNG save
 * and reload; bad arguments. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "edgeai/vision.h"

#define NEAR(a, b) assert_true(fabsf((float)(a) - (float)(b)) < 1e-4f)

static eai_image_t make(int w, int h)
{
    eai_image_t img = {0};
    assert_int_equal(eai_image_alloc(&img, w, h, 3), EAI_OK);
    return img;
}

static void setpx(eai_image_t *img, int x, int y, int r, int g, int b)
{
    uint8_t *p = img->data + ((size_t)y * img->width + x) * 3;
    p[0] = (uint8_t)r, p[1] = (uint8_t)g, p[2] = (uint8_t)b;
}

static void test_resize_modes(void **state)
{
    (void)state;
    /* one row, red channel 0, 100, 200, 250 -> 2x1 */
    eai_image_t img = make(4, 1);
    const int v[4] = {0, 100, 200, 250};
    for (int x = 0; x < 4; x++)
        setpx(&img, x, 0, v[x], 0, 0);
    eai_preproc_t p = {.width = 2, .height = 1, .scale = 1.0f};
    float out[6];
    eai_xform_t xf;
    /* half-pixel: source x = (d + 0.5) * 2 - 0.5 = 0.5, 2.5 -> 50, 225 */
    assert_int_equal(eai_preprocess(&img, &p, out, &xf), EAI_OK);
    NEAR(out[0], 50);
    NEAR(out[1], 225);
    NEAR(out[2], 0); /* green plane (NCHW) */
    NEAR(xf.scale_x, 0.5f);
    NEAR(xf.scale_y, 1.0f);
    /* TF asymmetric: x = d * 2 = 0, 2 -> 0, 200 */
    p.resize = EAI_RESIZE_BILINEAR_TF;
    assert_int_equal(eai_preprocess(&img, &p, out, NULL), EAI_OK);
    NEAR(out[0], 0);
    NEAR(out[1], 200);
    /* nearest: floor((d + 0.5) * 2) = 1, 3 */
    p.resize = EAI_RESIZE_NEAREST;
    assert_int_equal(eai_preprocess(&img, &p, out, NULL), EAI_OK);
    NEAR(out[0], 100);
    NEAR(out[1], 250);
    /* identity size: exact pixels / 255 (default scale) */
    eai_preproc_t id = {.width = 4, .height = 1};
    float o4[12];
    assert_int_equal(eai_preprocess(&img, &id, o4, NULL), EAI_OK);
    for (int x = 0; x < 4; x++)
        NEAR(o4[x], (float)v[x] / 255.0f);
    eai_image_free(&img);
}

static void test_layout_norm_bgr(void **state)
{
    (void)state;
    eai_image_t img = make(1, 1);
    setpx(&img, 0, 0, 10, 20, 30);
    eai_preproc_t p = {.width = 2,
                       .height = 1,
                       .layout = EAI_LAYOUT_NHWC,
                       .scale = 1.0f,
                       .mean = {1, 2, 3},
                       .std = {2, 2, 2},
                       .bgr = true};
    float out[6];
    assert_int_equal(eai_preprocess(&img, &p, out, NULL), EAI_OK);
    /* B, G, R = 30, 20, 10; minus mean 1, 2, 3; over 2 */
    const float want[3] = {14.5f, 9.0f, 3.5f};
    for (int i = 0; i < 6; i++)
        NEAR(out[i], want[i % 3]);
    p.layout = EAI_LAYOUT_NCHW; /* planes: 14.5 14.5 | 9 9 | 3.5 3.5 */
    assert_int_equal(eai_preprocess(&img, &p, out, NULL), EAI_OK);
    for (int i = 0; i < 6; i++)
        NEAR(out[i], want[i / 2]);
    eai_image_free(&img);
}

static void test_letterbox_round_trip(void **state)
{
    (void)state;
    /* 200x100 into 100x100: scale 0.5, 100x50 image centred, 25 pad rows */
    eai_image_t img = make(200, 100);
    memset(img.data, 0, 200 * 100 * 3);
    for (int y = 0; y < 100; y++)
        for (int x = 0; x < 200; x++)
            setpx(&img, x, y, 10, 20, 30);
    eai_preproc_t p = {
        .width = 100, .height = 100, .fit = EAI_FIT_LETTERBOX, .pad = 114, .scale = 1.0f};
    float *out = malloc(100 * 100 * 3 * sizeof(float));
    eai_xform_t xf;
    assert_int_equal(eai_preprocess(&img, &p, out, &xf), EAI_OK);
    NEAR(xf.scale_x, 0.5f);
    NEAR(xf.scale_y, 0.5f);
    NEAR(xf.off_x, 0.0f);
    NEAR(xf.off_y, 25.0f);
    NEAR(out[0 * 100 + 50], 114);             /* row 0: pad */
    NEAR(out[24 * 100 + 50], 114);            /* row 24: pad */
    NEAR(out[25 * 100 + 50], 10);             /* row 25: image */
    NEAR(out[74 * 100 + 99], 10);             /* row 74: image */
    NEAR(out[75 * 100 + 0], 114);             /* row 75: pad */
    NEAR(out[2 * 10000 + 50 * 100 + 50], 30); /* blue plane */
    /* a box in source pixels -> tensor pixels -> back */
    eai_box_t src = {20, 10, 60, 50};
    eai_box_t t = {src.x1 * xf.scale_x + xf.off_x, src.y1 * xf.scale_y + xf.off_y,
                   src.x2 * xf.scale_x + xf.off_x, src.y2 * xf.scale_y + xf.off_y};
    NEAR(t.y1, 30);
    eai_box_t back = eai_xform_box(&xf, t);
    NEAR(back.x1, 20);
    NEAR(back.y1, 10);
    NEAR(back.x2, 60);
    NEAR(back.y2, 50);
    /* boxes reaching into the padding are clipped to the frame */
    eai_det_t d = {{-5, 0, 120, 100}, 0.5f, 0, NULL, 0};
    eai_xform_dets(&xf, &d, 1);
    NEAR(d.box.x1, 0);
    NEAR(d.box.y1, 0);
    NEAR(d.box.x2, 200);
    NEAR(d.box.y2, 100);
    /* portrait: 100x200 into 100x100: pad columns instead */
    eai_image_t tall = make(100, 200);
    assert_int_equal(eai_preprocess(&tall, &p, out, &xf), EAI_OK);
    NEAR(xf.off_x, 25.0f);
    NEAR(xf.off_y, 0.0f);
    NEAR(out[50 * 100 + 10], 114);
    NEAR(out[50 * 100 + 30], 0);
    free(out);
    eai_image_free(&img);
    eai_image_free(&tall);
}

static void test_crop(void **state)
{
    (void)state;
    /* red = 10 * x on a 10x10 image; crop x 2..4 to a 2x1 tensor, nearest */
    eai_image_t img = make(10, 10);
    for (int y = 0; y < 10; y++)
        for (int x = 0; x < 10; x++)
            setpx(&img, x, y, 10 * x, 0, 0);
    eai_preproc_t p = {.width = 2, .height = 1, .resize = EAI_RESIZE_NEAREST, .scale = 1.0f};
    float out[6];
    eai_xform_t xf;
    eai_box_t box = {2, 0, 4, 10};
    assert_int_equal(eai_preprocess_crop(&img, box, &p, out, &xf), EAI_OK);
    NEAR(out[0], 20); /* x = 2 + 0.5 -> 2 */
    NEAR(out[1], 30); /* x = 2 + 1.5 -> 3 */
    NEAR(xf.off_x, -2.0f);
    eai_box_t back = eai_xform_box(&xf, (eai_box_t){0, 0, 2, 1});
    NEAR(back.x1, 2);
    NEAR(back.x2, 4);
    NEAR(back.y2, 10);
    /* a crop hanging off the right edge repeats the edge pixel (90) */
    eai_box_t off = {7, 0, 11, 10}; /* x = 7 + (d + 0.5) * 2 = 8, 10 -> 9 */
    assert_int_equal(eai_preprocess_crop(&img, off, &p, out, NULL), EAI_OK);
    NEAR(out[0], 80);
    NEAR(out[1], 90);
    /* bad: empty box, NaN box */
    assert_int_equal(eai_preprocess_crop(&img, (eai_box_t){5, 5, 5, 9}, &p, out, NULL),
                     EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "empty box"));
    assert_int_equal(eai_preprocess_crop(&img, (eai_box_t){NAN, 0, 3, 3}, &p, out, NULL),
                     EAI_E_INVALID);
    eai_image_free(&img);
}

static void test_bad_args(void **state)
{
    (void)state;
    float out[3];
    eai_image_t empty = {0};
    eai_preproc_t p = {.width = 1, .height = 1};
    assert_int_equal(eai_preprocess(&empty, &p, out, NULL), EAI_E_INVALID);
    eai_image_t img = make(2, 2);
    eai_preproc_t z = {0};
    assert_int_equal(eai_preprocess(&img, &z, out, NULL), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "0x0"));
    assert_int_equal(eai_preprocess(&img, &p, NULL, NULL), EAI_E_INVALID);
    assert_int_equal(eai_image_alloc(&img, 0, 5, 3), EAI_E_INVALID);
    assert_int_equal(eai_image_alloc(&img, 5, 5, 2), EAI_E_INVALID);
    eai_image_free(&img);
    eai_image_free(NULL);
}

static int count_color(const eai_image_t *img, eai_rgb_t c)
{
    int n = 0;
    for (int i = 0; i < img->width * img->height; i++) {
        const uint8_t *p = img->data + i * 3;
        n += p[0] == c.r && p[1] == c.g && p[2] == c.b;
    }
    return n;
}

static void test_draw_and_png(void **state)
{
    (void)state;
    eai_image_t img = make(20, 20);
    eai_rgb_t red = {255, 0, 0};
    /* a 10x10 box with a 2-pixel outline: 100 - 6*6 = 64 pixels */
    eai_draw_rect(&img, (eai_box_t){5, 5, 15, 15}, red, 2);
    assert_int_equal(count_color(&img, red), 64);
    assert_int_equal(img.data[(10 * 20 + 10) * 3], 0); /* inside stays black */
    /* clipped: a box hanging off the image draws only inside it */
    eai_image_t c2 = make(4, 4);
    eai_draw_rect(&c2, (eai_box_t){-10, -10, 2, 2}, red, 1);
    assert_int_equal(count_color(&c2, red), 3); /* (1,0) (1,1) (0,1) */
    eai_draw_rect(&c2, (eai_box_t){NAN, 0, 2, 2}, red, 1);
    /* '1' of the 5x7 font: 0x04,0x0C,0x04,0x04,0x04,0x04,0x0E = 1+2+1+1+1+1+3 = 10 pixels */
    eai_image_t t = make(8, 10);
    eai_rgb_t white = {255, 255, 255};
    int w = eai_draw_text(&t, 0, 0, "1", white, NULL, 1);
    assert_int_equal(w, 7);
    assert_int_equal(count_color(&t, white), 10);
    /* top of the '1' stem: glyph origin (1, 1), column 2 */
    assert_int_equal(t.data[(1 * 8 + 3) * 3], 255);
    /* scale 2 quadruples the pixels; lower case draws as upper case */
    eai_image_t t2 = make(16, 20), t3 = make(16, 20);
    eai_draw_text(&t2, 0, 0, "1", white, NULL, 2);
    assert_int_equal(count_color(&t2, white), 40);
    eai_draw_text(&t2, 0, 0, "a", white, NULL, 1);
    eai_draw_text(&t3, 0, 0, "A", white, NULL, 1);
    eai_image_t t4 = make(16, 20);
    eai_draw_text(&t4, 0, 0, "a", white, NULL, 1);
    eai_image_t t5 = make(16, 20);
    eai_draw_text(&t5, 0, 0, "A", white, NULL, 1);
    assert_memory_equal(t4.data, t5.data, 16 * 20 * 3);
    /* detections with labels, then a PNG round trip is lossless */
    eai_image_t big = make(64, 48);
    eai_det_t d = {{10, 20, 40, 45}, 0.87f, 0, NULL, 0};
    eai_draw_dets(&big, &d, 1, eai_coco80_labels(), EAI_COCO80_N);
    assert_true(count_color(&big, eai_color_for(0)) > 40);
    char path[] = "/tmp/eai_vision_png_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(eai_image_save_png(&big, path), EAI_OK);
    eai_image_t back;
    assert_int_equal(eai_image_load(path, &back), EAI_OK);
    assert_int_equal(back.width, 64);
    assert_int_equal(back.height, 48);
    assert_memory_equal(back.data, big.data, 64 * 48 * 3);
    eai_image_free(&back);
    unlink(path);
    eai_image_t none = {0};
    assert_int_equal(eai_image_save_png(&none, path), EAI_E_INVALID);
    assert_int_equal(eai_image_save_png(&big, "/nonexistent-dir/x.png"), EAI_E_IO);
    eai_image_t *all[] = {&img, &c2, &t, &t2, &t3, &t4, &t5, &big};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        eai_image_free(all[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resize_modes),
        cmocka_unit_test(test_layout_norm_bgr),
        cmocka_unit_test(test_letterbox_round_trip),
        cmocka_unit_test(test_crop),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_draw_and_png),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
