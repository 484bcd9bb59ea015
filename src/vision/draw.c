/* Drawing into RGB images: rectangles and a built-in 5x7 bitmap font, enough
 * to label boxes with class names, track ids and scores. Each glyph is 7
 * rows of 5 bits (bit 4 = leftmost column). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "edgeai/vision.h"

typedef struct glyph {
    char c;
    uint8_t rows[7];
} glyph_t;

static const glyph_t font[] = {
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}},
    {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}},
    {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}},
    {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}},
    {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}},
    {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'A', {0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11}},
    {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    {'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}},
    {'D', {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}},
    {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}},
    {'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}},
    {'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}},
    {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
    {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}},
    {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
    {'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}},
    {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
    {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    {'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}},
    {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
    {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}},
    {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}},
    {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}},
    {'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}},
    {'Y', {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}},
    {'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}},
    {' ', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
    {'-', {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}},
    {':', {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}},
    {'#', {0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A}},
    {'/', {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00}},
    {'_', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F}},
    {'(', {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}},
    {')', {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}},
    {'%', {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}},
    {'=', {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00}},
    {'+', {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00}},
};

static const uint8_t unknown_glyph[7] = {0x1F, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1F};

static const uint8_t *glyph_rows(char c)
{
    if (c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
    for (size_t i = 0; i < sizeof font / sizeof font[0]; i++)
        if (font[i].c == c) return font[i].rows;
    return unknown_glyph;
}

static inline bool drawable(const eai_image_t *img)
{
    return img && img->data && img->channels == 3 && img->width > 0 && img->height > 0;
}

static inline void put(eai_image_t *img, int x, int y, eai_rgb_t c)
{
    if (x < 0 || y < 0 || x >= img->width || y >= img->height) return;
    uint8_t *p = img->data + ((size_t)y * img->width + x) * 3;
    p[0] = c.r, p[1] = c.g, p[2] = c.b;
}

/* Pixel range [lo, hi) covered by box edge coordinates a..b, clipped. */
static bool span(float a, float b, int n, int *lo, int *hi)
{
    if (!(a == a) || !(b == b)) return false; /* NaN */
    float fa = fmaxf(floorf(a), 0.0f), fb = fminf(ceilf(b), (float)n);
    if (!(fb > fa)) return false;
    *lo = (int)fa;
    *hi = (int)fb;
    return true;
}

void eai_fill_rect(eai_image_t *img, eai_box_t b, eai_rgb_t color)
{
    int x0, x1, y0, y1;
    if (!drawable(img) || !span(b.x1, b.x2, img->width, &x0, &x1) ||
        !span(b.y1, b.y2, img->height, &y0, &y1))
        return;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            put(img, x, y, color);
}

void eai_draw_rect(eai_image_t *img, eai_box_t b, eai_rgb_t color, int t)
{
    if (!drawable(img)) return;
    if (t < 1) t = 1;
    float ft = (float)t;
    /* the outline lies inside the box: four filled bands of width t */
    eai_fill_rect(img, (eai_box_t){b.x1, b.y1, b.x2, fminf(b.y1 + ft, b.y2)}, color);
    eai_fill_rect(img, (eai_box_t){b.x1, fmaxf(b.y2 - ft, b.y1), b.x2, b.y2}, color);
    eai_fill_rect(img, (eai_box_t){b.x1, b.y1, fminf(b.x1 + ft, b.x2), b.y2}, color);
    eai_fill_rect(img, (eai_box_t){fmaxf(b.x2 - ft, b.x1), b.y1, b.x2, b.y2}, color);
}

int eai_draw_text(eai_image_t *img, int x, int y, const char *text, eai_rgb_t fg,
                  const eai_rgb_t *bg, int scale)
{
    if (!drawable(img) || !text) return 0;
    if (scale < 1) scale = 1;
    int n = (int)strlen(text), cw = 6 * scale, chh = 8 * scale;
    if (bg)
        eai_fill_rect(
            img,
            (eai_box_t){(float)x, (float)y, (float)(x + n * cw + scale), (float)(y + chh + scale)},
            *bg);
    for (int i = 0; i < n; i++) {
        const uint8_t *rows = glyph_rows(text[i]);
        int gx = x + i * cw + scale;
        for (int r = 0; r < 7; r++)
            for (int col = 0; col < 5; col++)
                if (rows[r] & (0x10 >> col))
                    for (int dy = 0; dy < scale; dy++)
                        for (int dx = 0; dx < scale; dx++)
                            put(img, gx + col * scale + dx, y + scale + r * scale + dy, fg);
    }
    return n * cw + scale;
}

eai_rgb_t eai_color_for(int id)
{
    static const eai_rgb_t pal[] = {
        {230, 25, 75},   {60, 180, 75},   {255, 225, 25},  {0, 130, 200},   {245, 130, 48},
        {145, 30, 180},  {70, 240, 240},  {240, 50, 230},  {210, 245, 60},  {250, 190, 212},
        {0, 128, 128},   {220, 190, 255}, {170, 110, 40},  {255, 250, 200}, {128, 0, 0},
        {170, 255, 195}, {128, 128, 0},   {255, 215, 180}, {0, 0, 128},     {255, 255, 255},
    };
    if (id < 0) return (eai_rgb_t){128, 128, 128};
    return pal[id % (int)(sizeof pal / sizeof pal[0])];
}

void eai_draw_dets(eai_image_t *img, const eai_det_t *dets, int n, const char *const *labels,
                   int n_labels)
{
    if (!drawable(img) || !dets) return;
    int th = img->width >= 1000 ? 3 : 2, sc = img->width >= 1000 ? 2 : 1;
    for (int i = 0; i < n; i++) {
        const eai_det_t *d = &dets[i];
        eai_rgb_t c = eai_color_for(d->cls);
        eai_draw_rect(img, d->box, c, th);
        char tag[64];
        if (labels && d->cls >= 0 && d->cls < n_labels && labels[d->cls])
            snprintf(tag, sizeof tag, "%s %.2f", labels[d->cls], (double)d->score);
        else
            snprintf(tag, sizeof tag, "%d %.2f", d->cls, (double)d->score);
        /* clamp before converting: a wild float -> int cast is undefined */
        float fx = fminf(fmaxf(d->box.x1, -1e6f), 1e6f), fy = fminf(fmaxf(d->box.y1, -1e6f), 1e6f);
        if (!(fx == fx) || !(fy == fy)) continue;
        int ty = (int)fy - 8 * sc - sc;
        if (ty < 0) ty = (int)fy;
        eai_rgb_t black = {0, 0, 0};
        eai_draw_text(img, (int)fx, ty, tag, black, &c, sc);
    }
}
