/* Private: edgeai's float depthwise convolution on NHWC data (one filter
 * per channel, depth multiplier 1), any kernel size, strides, dilations and
 * pads, bias and a clamp.
 *
 * Why not XNNPACK's: its depthwise kernel (2022) loads a pointer per tap
 * and output pixel from an indirection buffer and is tuned for wide
 * channel counts; on MobileNet-v3's early layers (16 channels at 112x112,
 * 120 channels 5x5 at 28x28) it took 2.3-3.4x ONNX Runtime's time. Here
 * each output pixel keeps a block of 16 channels in one register across
 * its taps, reads the input directly (the window clipped to the image at
 * the borders: no padding copy, no pointers), and the weights are packed
 * [tap][channels rounded up to 16] so a tap's 16 weights are one load.
 *
 * x86-64 with AVX-512F only (checked at run time); elsewhere callers keep
 * XNNPACK's operator.
 */
#ifndef EAI_F32DW_IMPL_H
#define EAI_F32DW_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct eai__dwf32 {
    const float *x;  /* [n][h][w][c] */
    float *y;        /* [n][oh][ow][c] */
    const float *wp; /* eai__dwf32_pack's output */
    int64_t n, h, w, c, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl;
    float lo, hi;
    bool hswish; /* HardSwish after the clamp */
} eai__dwf32_t;

/* Whether the kernel runs on this CPU. */
bool eai__dwf32_available(void);

/* Bytes of packed weights and bias for c channels of kh x kw filters. */
size_t eai__dwf32_pack_bytes(int64_t c, int64_t kh, int64_t kw);

/* Packs w [c][1][kh][kw] (ONNX's depthwise OIHW) and bias [c] (NULL:
 * zeros) into dst (eai__dwf32_pack_bytes, 64-byte aligned). */
void eai__dwf32_pack(const float *w, const float *bias, int64_t c, int64_t kh, int64_t kw,
                     float *dst);

/* Computes output rows [row0, row0 + rows) of the n * oh rows. Rows are
 * independent, so threads may run any of them at once. */
void eai__dwf32_rows(const eai__dwf32_t *d, int64_t row0, int64_t rows);

#endif
