/* Image input: decode JPEG/PNG into 8-bit RGB and turn it into a normalised
 * float tensor.
 *
 *   eai_image_t img;
 *   EAI_TRY(eai_image_load("dog.jpg", &img));
 *   float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
 *   eai_image_to_tensor(&img, 224, 224, mean, std, EAI_LAYOUT_NCHW, tensor);
 *   eai_image_free(&img);
 */
#ifndef EDGEAI_IMAGE_H
#define EDGEAI_IMAGE_H

#include <stdint.h>

#include "edgeai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eai_image {
    int width, height;
    int channels;  /* always 3 (RGB) from eai_image_load */
    uint8_t *data; /* HWC, row-major; owned: free with eai_image_free */
} eai_image_t;

typedef enum eai_layout { EAI_LAYOUT_NCHW = 0, EAI_LAYOUT_NHWC = 1 } eai_layout_t;

/* Decodes a JPEG, PNG, BMP or PPM file as RGB. EAI_E_IO (unreadable),
 * EAI_E_FORMAT (not a decodable image, with the decoder's reason). */
EAI_API eai_status_t eai_image_load(const char *path, eai_image_t *out);
/* Frees img->data (from eai_image_load, eai_image_alloc or a video reader)
 * and zeroes *img. Accepts NULL and an all-zero image. */
EAI_API void eai_image_free(eai_image_t *img);

/* Makes `img` a width x height x channels image (zero pixels). An existing
 * buffer of exactly that size is reused (and cleared); any other is freed
 * first. channels is 1 or 3. EAI_E_INVALID (sizes; at most 32768 per side),
 * EAI_E_NOMEM (img is then all-zero). */
EAI_API eai_status_t eai_image_alloc(eai_image_t *img, int width, int height, int channels);

/* Writes `img` (borrowed) as PNG / JPEG (quality 1..100, 0 means 90) via
 * stb_image_write. EAI_E_INVALID (empty image), EAI_E_IO (cannot write). */
EAI_API eai_status_t eai_image_save_png(const eai_image_t *img, const char *path);
EAI_API eai_status_t eai_image_save_jpg(const eai_image_t *img, const char *path, int quality);

/* Bilinear resize (half-pixel centres) to height x width, then per channel
 * (v / 255 - mean[c]) / std[c] into `out` (height*width*3 floats, borrowed).
 * mean/std NULL mean 0 and 1. EAI_E_INVALID for non-positive sizes. */
EAI_API eai_status_t eai_image_to_tensor(const eai_image_t *img, int height, int width,
                                         const float *mean, const float *std, eai_layout_t layout,
                                         float *out);

#ifdef __cplusplus
}
#endif
#endif
