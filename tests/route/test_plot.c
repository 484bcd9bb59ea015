/* The PNG line plot: decoded back with stb_image, the line's pixels are
 * where the maths puts them, the background is white, and bad arguments
 * fail with a message. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <stb/stb_image.h>

#include "edgeai/router.h"

static const unsigned char *px(const unsigned char *img, int w, int x, int y)
{
    return img + ((size_t)y * w + x) * 3;
}

static void test_diagonal(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/tmp/eai_plot_%d.png", (int)getpid());
    const double x[2] = {0, 1}, y[2] = {0, 1};
    eai_plot_opts_t o = {.width = 200,
                         .height = 160,
                         .x_min = 0,
                         .x_max = 1,
                         .y_min = 0,
                         .y_max = 1,
                         .x_label = "OFFLOAD"};
    assert_int_equal(eai_plot_line_png(path, x, y, 2, &o), EAI_OK);
    int w, h, c;
    unsigned char *img = stbi_load(path, &w, &h, &c, 3);
    assert_non_null(img);
    assert_int_equal(w, 200);
    assert_int_equal(h, 160);
    /* Plot frame (margin 48): x from 48 to 176, y from 112 (bottom) to 28
     * (top); the diagonal's midpoint is (112, 70), drawn in the ink colour. */
    const unsigned char *m = px(img, w, 112, 70);
    assert_int_equal(m[0], 31);
    assert_int_equal(m[1], 119);
    assert_int_equal(m[2], 180);
    /* Top-left inside the frame is off the line and off the grid: white. */
    const unsigned char *tl = px(img, w, 58, 38);
    assert_true(tl[0] == 255 && tl[1] == 255 && tl[2] == 255);
    /* The x axis is black at the bottom of the frame. */
    const unsigned char *ax = px(img, w, 100, 112);
    assert_true(ax[0] == 0 && ax[1] == 0 && ax[2] == 0);
    /* Text: the x tick values sit in rows 121..128 and the 7-letter x label,
     * centred at 112, in rows 136..143; both rows hold black pixels there
     * and nowhere right of the label. */
    int tick_ink = 0, label_ink = 0, stray = 0;
    for (int yy = 121; yy < 129; yy++)
        for (int xx = 40; xx < 60; xx++)
            tick_ink += px(img, w, xx, yy)[0] == 0;
    for (int yy = 136; yy < 144; yy++)
        for (int xx = 0; xx < w; xx++) {
            int dark = px(img, w, xx, yy)[0] == 0;
            if (xx >= 112 - 21 && xx < 112 + 21)
                label_ink += dark;
            else
                stray += dark;
        }
    assert_true(tick_ink > 5);
    assert_true(label_ink > 20);
    assert_int_equal(stray, 0);
    stbi_image_free(img);
    remove(path);
}

static void test_bad_args(void **state)
{
    (void)state;
    const double x[2] = {0, 1}, y[2] = {0, NAN};
    assert_int_equal(eai_plot_line_png("/tmp/x.png", x, y, 0, NULL), EAI_E_INVALID);
    assert_int_equal(eai_plot_line_png("/tmp/x.png", x, y, 2, NULL), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "point 1"));
    eai_plot_opts_t tiny = {.width = 20, .height = 20};
    assert_int_equal(eai_plot_line_png("/tmp/x.png", x, x, 2, &tiny), EAI_E_INVALID);
    assert_int_equal(eai_plot_line_png("/nonexistent/dir/x.png", x, x, 2, NULL), EAI_E_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diagonal),
        cmocka_unit_test(test_bad_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
