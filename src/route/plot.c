/* A minimal line plot rasterised by hand into an RGB buffer and written with
 * stb_image_write (Debian's libstb): axes, ticks with their values, a light
 * grid, one polyline, and optional title and axis labels in vision's 5x7
 * font. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stb_image_write.h"

#include "core/core_impl.h"
#include "edgeai/router.h"
#include "edgeai/vision.h"

#define MARGIN 48
#define N_TICK 4 /* intervals: ticks at 0, 1/4, .., 1 of each range */

typedef struct canvas {
    unsigned char *px;
    int w, h;
} canvas_t;

static void put(canvas_t *c, int x, int y, const unsigned char rgb[3])
{
    if (x < 0 || y < 0 || x >= c->w || y >= c->h) return;
    memcpy(c->px + ((size_t)y * c->w + x) * 3, rgb, 3);
}

/* Bresenham, drawn `thick` pixels wide by stamping a small square. */
static void line(canvas_t *c, int x0, int y0, int x1, int y1, const unsigned char rgb[3], int thick)
{
    int dx = x1 > x0 ? x1 - x0 : x0 - x1, sx = x0 < x1 ? 1 : -1;
    int dy = y1 > y0 ? y0 - y1 : y1 - y0, sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    for (;;) {
        for (int oy = 0; oy < thick; oy++)
            for (int ox = 0; ox < thick; ox++)
                put(c, x0 + ox - thick / 2, y0 + oy - thick / 2, rgb);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            err += dx;
            y0 += sy;
        }
    }
}

static void range_of(const double *v, int n, double *lo, double *hi)
{
    if (*lo != *hi) return;
    *lo = *hi = v[0];
    for (int i = 1; i < n; i++) {
        if (v[i] < *lo) *lo = v[i];
        if (v[i] > *hi) *hi = v[i];
    }
    if (*lo == *hi) { /* a flat series still needs a non-empty range */
        *lo -= 0.5;
        *hi += 0.5;
    }
}

eai_status_t eai_plot_line_png(const char *path, const double *x, const double *y, int n,
                               const eai_plot_opts_t *opts)
{
    eai_plot_opts_t o = opts ? *opts : (eai_plot_opts_t){0};
    if (!path || !x || !y || n < 1) return eai_fail(EAI_E_INVALID, "plot: no path or no points");
    if (o.width == 0) o.width = 640;
    if (o.height == 0) o.height = 480;
    if (o.width < 2 * MARGIN + 10 || o.height < 2 * MARGIN + 10 || o.width > 8192 ||
        o.height > 8192)
        return eai_fail(EAI_E_INVALID, "plot: size %dx%d, expected %d..8192", o.width, o.height,
                        2 * MARGIN + 10);
    for (int i = 0; i < n; i++)
        if (!isfinite(x[i]) || !isfinite(y[i]))
            return eai_fail(EAI_E_INVALID, "plot: point %d is not finite", i);
    range_of(x, n, &o.x_min, &o.x_max);
    range_of(y, n, &o.y_min, &o.y_max);
    canvas_t c = {.w = o.width, .h = o.height};
    c.px = eai__alloc(NULL, (size_t)c.w * c.h * 3);
    if (!c.px) return eai_fail(EAI_E_NOMEM, "plot: out of memory");
    memset(c.px, 255, (size_t)c.w * c.h * 3);
    static const unsigned char grid[3] = {225, 225, 225}, axis[3] = {0, 0, 0},
                               ink[3] = {31, 119, 180};
    int x0 = MARGIN, x1 = c.w - MARGIN / 2, y0 = c.h - MARGIN, y1 = MARGIN / 2 + 4;
    for (int t = 0; t <= N_TICK; t++) {
        int gx = x0 + (x1 - x0) * t / N_TICK, gy = y0 + (y1 - y0) * t / N_TICK;
        line(&c, gx, y0, gx, y1, grid, 1);
        line(&c, x0, gy, x1, gy, grid, 1);
        line(&c, gx, y0, gx, y0 + 6, axis, 1); /* ticks outside the frame */
        line(&c, x0 - 6, gy, x0, gy, axis, 1);
    }
    line(&c, x0, y0, x1, y0, axis, 2);
    line(&c, x0, y0, x0, y1, axis, 2);
    /* tick values: x centred under its tick, y right-aligned left of it */
    eai_image_t img = {.width = c.w, .height = c.h, .channels = 3, .data = c.px};
    const eai_rgb_t txt = {0, 0, 0};
    char v[24];
    for (int t = 0; t <= N_TICK; t++) {
        int gx = x0 + (x1 - x0) * t / N_TICK, gy = y0 + (y1 - y0) * t / N_TICK;
        snprintf(v, sizeof v, "%.3g", o.x_min + (o.x_max - o.x_min) * t / N_TICK);
        eai_draw_text(&img, gx - (int)strlen(v) * 3, y0 + 9, v, txt, NULL, 1);
        snprintf(v, sizeof v, "%.3g", o.y_min + (o.y_max - o.y_min) * t / N_TICK);
        eai_draw_text(&img, x0 - 8 - (int)strlen(v) * 6, gy - 4, v, txt, NULL, 1);
    }
    if (o.x_label)
        eai_draw_text(&img, (x0 + x1) / 2 - (int)strlen(o.x_label) * 3, y0 + 24, o.x_label, txt,
                      NULL, 1);
    if (o.y_label) eai_draw_text(&img, 4, 4, o.y_label, txt, NULL, 1);
    if (o.title)
        eai_draw_text(&img, (x0 + x1) / 2 - (int)strlen(o.title) * 6, 2, o.title, txt, NULL, 2);
    int px = 0, py = 0;
    for (int i = 0; i < n; i++) {
        double fx = (x[i] - o.x_min) / (o.x_max - o.x_min);
        double fy = (y[i] - o.y_min) / (o.y_max - o.y_min);
        fx = fx < 0 ? 0 : fx > 1 ? 1 : fx; /* clip points outside a given range */
        fy = fy < 0 ? 0 : fy > 1 ? 1 : fy;
        int qx = x0 + (int)lround(fx * (x1 - x0)), qy = y0 + (int)lround(fy * (y1 - y0));
        if (i > 0) line(&c, px, py, qx, qy, ink, 2);
        px = qx;
        py = qy;
    }
    if (n == 1) line(&c, px, py, px, py, ink, 4);
    int ok = stbi_write_png(path, c.w, c.h, 3, c.px, c.w * 3);
    eai__free(NULL, c.px);
    if (!ok) return eai_fail(EAI_E_IO, "plot: cannot write %s", path);
    return EAI_OK;
}
