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
    eai_plot_opts_t o = {
        .width = 200, .height = 160, .x_min = 0, .x_max = 1, .y_min = 0, .y_max = 1};
    assert_int_equal(eai_plot_line_png(path, x, y, 2, &o), EAI_OK);
    int w, h, c;
    unsigned char *img = stbi_load(path, &w, &h, &c, 3);
    assert_non_null(img);
    assert_int_equal(w, 200);
    assert_int_equal(h, 160);
    /* Plot frame: x from 40 to 180, y from 120 (bottom) to 20 (top); the
     * diagonal's midpoint is (110, 70), drawn in the ink colour. */
    const unsigned char *m = px(img, w, 110, 70);
    assert_int_equal(m[0], 31);
    assert_int_equal(m[1], 119);
    assert_int_equal(m[2], 180);
    /* Top-left inside the frame is off the line and off the grid: white. */
    const unsigned char *tl = px(img, w, 50, 30);
    assert_true(tl[0] == 255 && tl[1] == 255 && tl[2] == 255);
    /* The x axis is black at the bottom of the frame. */
    const unsigned char *ax = px(img, w, 100, 120);
    assert_true(ax[0] == 0 && ax[1] == 0 && ax[2] == 0);
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
