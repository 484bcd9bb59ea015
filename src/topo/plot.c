/* The comparison as a PNG bar chart: one panel per metric, one bar per
 * architecture, value labels above bars. Text uses a built-in 5x7 bitmap
 * font (no font library is linked); stb_image_write writes the file. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "stb_image_write.h"

#include "topo/topo_impl.h"

/* 5x7 glyphs, one byte per row, bit 4 = leftmost column. */
static const struct {
    char c;
    unsigned char row[7];
} k_font[] = {
    {'0', {14, 17, 19, 21, 25, 17, 14}}, {'1', {4, 12, 4, 4, 4, 4, 14}},
    {'2', {14, 17, 1, 2, 4, 8, 31}},     {'3', {31, 2, 4, 2, 1, 17, 14}},
    {'4', {2, 6, 10, 18, 31, 2, 2}},     {'5', {31, 16, 30, 1, 1, 17, 14}},
    {'6', {6, 8, 16, 30, 17, 17, 14}},   {'7', {31, 1, 2, 4, 8, 8, 8}},
    {'8', {14, 17, 17, 14, 17, 17, 14}}, {'9', {14, 17, 17, 15, 1, 2, 12}},
    {'A', {14, 17, 17, 31, 17, 17, 17}}, {'B', {30, 17, 17, 30, 17, 17, 30}},
    {'C', {14, 17, 16, 16, 16, 17, 14}}, {'D', {28, 18, 17, 17, 17, 18, 28}},
    {'E', {31, 16, 16, 30, 16, 16, 31}}, {'F', {31, 16, 16, 30, 16, 16, 16}},
    {'G', {14, 17, 16, 23, 17, 17, 15}}, {'H', {17, 17, 17, 31, 17, 17, 17}},
    {'I', {14, 4, 4, 4, 4, 4, 14}},      {'J', {7, 2, 2, 2, 2, 18, 12}},
    {'K', {17, 18, 20, 24, 20, 18, 17}}, {'L', {16, 16, 16, 16, 16, 16, 31}},
    {'M', {17, 27, 21, 21, 17, 17, 17}}, {'N', {17, 17, 25, 21, 19, 17, 17}},
    {'O', {14, 17, 17, 17, 17, 17, 14}}, {'P', {30, 17, 17, 30, 16, 16, 16}},
    {'Q', {14, 17, 17, 17, 21, 18, 13}}, {'R', {30, 17, 17, 30, 20, 18, 17}},
    {'S', {15, 16, 16, 14, 1, 1, 30}},   {'T', {31, 4, 4, 4, 4, 4, 4}},
    {'U', {17, 17, 17, 17, 17, 17, 14}}, {'V', {17, 17, 17, 17, 17, 10, 4}},
    {'W', {17, 17, 17, 21, 21, 21, 10}}, {'X', {17, 17, 10, 4, 10, 17, 17}},
    {'Y', {17, 17, 10, 4, 4, 4, 4}},     {'Z', {31, 1, 2, 4, 8, 16, 31}},
    {'.', {0, 0, 0, 0, 0, 12, 12}},      {'-', {0, 0, 0, 31, 0, 0, 0}},
    {'/', {1, 1, 2, 4, 8, 16, 16}},      {'%', {24, 25, 2, 4, 8, 19, 3}},
    {'+', {0, 4, 4, 31, 4, 4, 0}},       {'(', {2, 4, 8, 8, 8, 4, 2}},
    {')', {8, 4, 2, 2, 2, 4, 8}},        {'$', {4, 15, 20, 14, 5, 30, 4}},
};

typedef struct canvas {
    unsigned char *px;
    int w, h;
} canvas_t;

static void fill(canvas_t *c, int x0, int y0, int x1, int y1, const unsigned char rgb[3])
{
    for (int y = y0 < 0 ? 0 : y0; y < y1 && y < c->h; y++)
        for (int x = x0 < 0 ? 0 : x0; x < x1 && x < c->w; x++)
            memcpy(c->px + ((size_t)y * c->w + x) * 3, rgb, 3);
}

/* Draws s at (x, y) (top-left), each font pixel `sc` screen pixels; returns the width. */
static int text(canvas_t *c, int x, int y, const char *s, int sc, const unsigned char rgb[3])
{
    int x0 = x;
    for (; *s; s++, x += 6 * sc) {
        char ch = (char)toupper((unsigned char)*s);
        for (size_t g = 0; g < sizeof k_font / sizeof k_font[0]; g++) {
            if (k_font[g].c != ch) continue;
            for (int r = 0; r < 7; r++)
                for (int b = 0; b < 5; b++)
                    if (k_font[g].row[r] & (16 >> b))
                        fill(c, x + b * sc, y + r * sc, x + (b + 1) * sc, y + (r + 1) * sc, rgb);
        }
    }
    return x - x0;
}

static int text_w(const char *s, int sc)
{
    return (int)strlen(s) * 6 * sc;
}

eai_status_t eai_topo_plot_png(const char *path, const eai_topo_result_t *r, int n)
{
    if (!path || !r || n <= 0 || n > EAI_TOPO_N_ARCH)
        return eai_fail(EAI_E_INVALID, "eai_topo_plot_png: need a path and 1..%d results",
                        EAI_TOPO_N_ARCH);
    enum { N_PANEL = 5, PW = 230, W = N_PANEL * PW + 20, H = 380, TOP = 50, BOT = 300 };
    static const char *const titles[N_PANEL] = {"P50 MS", "P99 MS", "CAPACITY/S", "MJ/INFERENCE",
                                                "USD PER 1M"};
    static const unsigned char colors[EAI_TOPO_N_ARCH][3] = {
        {66, 133, 244}, {52, 168, 83}, {251, 188, 5}, {234, 67, 53}};
    static const unsigned char white[3] = {255, 255, 255}, black[3] = {0, 0, 0},
                               grey[3] = {200, 200, 200};
    canvas_t c = {eai__alloc(NULL, (size_t)W * H * 3), W, H};
    if (!c.px) return eai_fail(EAI_E_NOMEM, "topo: out of memory for a %dx%d plot", W, H);
    fill(&c, 0, 0, W, H, white);
    for (int p = 0; p < N_PANEL; p++) {
        int x0 = 10 + p * PW;
        double v[EAI_TOPO_N_ARCH], vmax = 0;
        for (int i = 0; i < n; i++) {
            const eai_topo_result_t *x = &r[i];
            v[i] = p == 0   ? x->p50_ms
                   : p == 1 ? x->p99_ms
                   : p == 2 ? x->capacity_per_s
                   : p == 3 ? x->energy_per_inf_mj
                            : x->cost_per_1m_usd;
            if (v[i] > vmax) vmax = v[i];
        }
        text(&c, x0 + (PW - text_w(titles[p], 2)) / 2, 12, titles[p], 2, black);
        fill(&c, x0 + 10, BOT, x0 + PW - 10, BOT + 2, black);
        fill(&c, x0 + 10, TOP, x0 + 11, BOT, grey);
        int bw = (PW - 40) / n;
        for (int i = 0; i < n; i++) {
            int h = vmax > 0 ? (int)((BOT - TOP - 20) * v[i] / vmax + 0.5) : 0;
            if (v[i] > 0 && h < 1) h = 1; /* a non-zero value stays visible */
            int bx = x0 + 20 + i * bw;
            fill(&c, bx + 4, BOT - h, bx + bw - 4, BOT, colors[r[i].arch]);
            char lab[32];
            snprintf(lab, sizeof lab, v[i] >= 1000 ? "%.0f" : "%.3g", v[i]);
            int tw = text_w(lab, 1);
            text(&c, bx + (bw - tw) / 2, BOT - h - 10, lab, 1, black);
        }
    }
    int lx = 20;
    for (int i = 0; i < n; i++) { /* legend */
        fill(&c, lx, BOT + 40, lx + 16, BOT + 56, colors[r[i].arch]);
        lx += 24 + text(&c, lx + 24, BOT + 41, eai_topo_arch_name(r[i].arch), 2, black) + 20;
    }
    int ok = stbi_write_png(path, W, H, 3, c.px, W * 3);
    eai__free(NULL, c.px);
    if (!ok) return eai_fail(EAI_E_IO, "%s: cannot write PNG", path);
    return EAI_OK;
}
