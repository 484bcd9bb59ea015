/* Image decoding (stb_image from Debian's libstb) and resize + normalise into
 * float tensors. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgeai/image.h"
#include "stb_image.h"
#include "stb_image_write.h"

eai_status_t eai_image_load(const char *path, eai_image_t *out)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return eai_fail(EAI_E_IO, "%s: cannot open: %s", path, strerror(errno));
    int w, h, c;
    unsigned char *px = stbi_load_from_file(f, &w, &h, &c, 3);
    fclose(f);
    if (!px)
        return eai_fail(EAI_E_FORMAT, "%s: not a decodable image (%s)", path,
                        stbi_failure_reason());
    out->width = w;
    out->height = h;
    out->channels = 3;
    out->data = px;
    return EAI_OK;
}

/* stb's default allocator is libc, so stbi_image_free and free() are the same
 * call: images from stb and from eai_image_alloc share one free function. */
void eai_image_free(eai_image_t *img)
{
    if (img && img->data) stbi_image_free(img->data);
    if (img) memset(img, 0, sizeof *img);
}

eai_status_t eai_image_alloc(eai_image_t *img, int width, int height, int channels)
{
    if (!img || width <= 0 || height <= 0 || width > 32768 || height > 32768 ||
        (channels != 1 && channels != 3))
        return eai_fail(EAI_E_INVALID, "image_alloc: bad size %dx%dx%d", width, height, channels);
    size_t n = (size_t)width * (size_t)height * (size_t)channels;
    if (img->data && img->width == width && img->height == height && img->channels == channels) {
        memset(img->data, 0, n);
        return EAI_OK;
    }
    eai_image_free(img);
    img->data = calloc(n, 1);
    if (!img->data)
        return eai_fail(EAI_E_NOMEM, "image_alloc: %dx%dx%d: out of memory", width, height,
                        channels);
    img->width = width;
    img->height = height;
    img->channels = channels;
    return EAI_OK;
}

static eai_status_t check_save(const eai_image_t *img, const char *path)
{
    if (!img || !img->data || img->width <= 0 || img->height <= 0 ||
        (img->channels != 1 && img->channels != 3) || !path)
        return eai_fail(EAI_E_INVALID, "%s: cannot save an empty image", path ? path : "(null)");
    return EAI_OK;
}

eai_status_t eai_image_save_png(const eai_image_t *img, const char *path)
{
    EAI_TRY(check_save(img, path));
    if (!stbi_write_png(path, img->width, img->height, img->channels, img->data,
                        img->width * img->channels))
        return eai_fail(EAI_E_IO, "%s: cannot write PNG", path);
    return EAI_OK;
}

eai_status_t eai_image_save_jpg(const eai_image_t *img, const char *path, int quality)
{
    EAI_TRY(check_save(img, path));
    if (quality <= 0) quality = 90;
    if (quality > 100) quality = 100;
    if (!stbi_write_jpg(path, img->width, img->height, img->channels, img->data, quality))
        return eai_fail(EAI_E_IO, "%s: cannot write JPEG", path);
    return EAI_OK;
}

eai_status_t eai_image_to_tensor(const eai_image_t *img, int height, int width, const float *mean,
                                 const float *std, eai_layout_t layout, float *out)
{
    if (height <= 0 || width <= 0 || !img || !img->data || img->channels != 3)
        return eai_fail(EAI_E_INVALID, "image_to_tensor: bad image or size %dx%d", height, width);
    float sy = (float)img->height / (float)height, sx = (float)img->width / (float)width;
    for (int y = 0; y < height; y++) {
        float fy = ((float)y + 0.5f) * sy - 0.5f;
        if (fy < 0) fy = 0;
        int y0 = (int)fy;
        int y1 = y0 + 1 < img->height ? y0 + 1 : img->height - 1;
        float wy = fy - (float)y0;
        for (int x = 0; x < width; x++) {
            float fx = ((float)x + 0.5f) * sx - 0.5f;
            if (fx < 0) fx = 0;
            int x0 = (int)fx;
            int x1 = x0 + 1 < img->width ? x0 + 1 : img->width - 1;
            float wx = fx - (float)x0;
            for (int c = 0; c < 3; c++) {
                const uint8_t *p = img->data;
                int W = img->width;
                float v00 = p[(y0 * W + x0) * 3 + c], v01 = p[(y0 * W + x1) * 3 + c];
                float v10 = p[(y1 * W + x0) * 3 + c], v11 = p[(y1 * W + x1) * 3 + c];
                float v = (v00 * (1 - wx) + v01 * wx) * (1 - wy) + (v10 * (1 - wx) + v11 * wx) * wy;
                v = v / 255.0f;
                v = (v - (mean ? mean[c] : 0.0f)) / (std ? std[c] : 1.0f);
                size_t idx = layout == EAI_LAYOUT_NCHW
                                 ? ((size_t)c * height + (size_t)y) * width + (size_t)x
                                 : ((size_t)y * width + (size_t)x) * 3 + (size_t)c;
                out[idx] = v;
            }
        }
    }
    return EAI_OK;
}
