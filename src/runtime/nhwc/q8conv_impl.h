/* INT8 convolutions on NHWC images (q8conv.c): int8 activations (per-tensor
 * scale and zero point), int8 weights (per-output-channel scales, zero point
 * 0), int32 bias, int8 output, the form QLinearConv takes in edgeai's INT8
 * graphs (docs/quantization.md). Two shapes:
 *   dense      group 1, any kernel, stride, dilation and padding: a GEMM over
 *              the taps (1x1 convs are one tap), input rows read in place
 *              (NHWC: a tap's channels are contiguous), so no im2col;
 *   depthwise  group == C == M (multiplier 1), any kernel: 64 channels at a
 *              time, the kernel's rows taken four at a time.
 * Weights are packed once (eai__q8c_init) with the zero-point compensation
 * folded into the bias; run never allocates and splits its work into tasks
 * that any thread may run.
 *
 * Each shape has a portable C kernel and an x86 AVX512-VNNI one (vpdpbusd:
 * activations shifted to uint8 by XOR 0x80, the shift taken back in the
 * bias; for depthwise, four rows of an input column are interleaved so one
 * vpdpbusd adds four taps of 16 channels), chosen when the kernel
 * is initialised (eai__q8c_simd_available). Both compute the same int32 sums
 * and the same float requantisation (round half to even), so their outputs
 * are bit-identical, and equal to the ref QLinearConv's.
 */
#ifndef EAI_Q8CONV_IMPL_H
#define EAI_Q8CONV_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Output pixels per dense tile and output channels per dense block. */
#define EAI__Q8C_MR 6
#define EAI__Q8C_NB 64
/* Depthwise: channels per block; kernel rows per row group (one vpdpbusd);
 * row groups the SIMD path takes (kernels up to 8 rows). */
#define EAI__Q8C_DB     64
#define EAI__Q8C_DW_RG  4
#define EAI__Q8C_DW_NRG 2

typedef struct eai__q8c_geom {
    int64_t n, ih, iw, c; /* input [n, ih, iw, c] */
    int64_t oh, ow, m;    /* output [n, oh, ow, m] */
    int64_t kh, kw, sh, sw, dh, dw;
    int64_t pt, pl; /* padding top and left (bottom/right follow from oh, ow) */
    bool depthwise; /* c == m, one filter per channel; else dense (group 1) */
} eai__q8c_geom_t;

typedef struct eai__q8c {
    eai__q8c_geom_t g;
    int64_t taps;    /* kh * kw */
    int64_t n_pt;    /* dense: packed taps (kh * kw, or kh with row taps) */
    int64_t kc;      /* dense: bytes per packed tap (c, or kw * c, rounded up to 4) */
    int64_t mp;      /* m rounded up to the block (64) */
    int64_t n_blk;   /* channel blocks */
    int64_t n_rg;    /* depthwise: row groups (kh / 4 rounded up) */
    int64_t n_tile;  /* dense: tiles of MR output pixels; depthwise: output rows */
    int8_t *w;       /* packed weights */
    int32_t *bias;   /* [mp]: bias with the zero-point compensation folded in
                      * (depthwise: in the lane order of q8conv.c's dw_lane) */
    float *mult;     /* [mp]: s_x * s_w[m] / s_y (same order) */
    int8_t *zero;    /* a pixel of the input zero point (padded taps read it) */
    int8_t *xp;      /* dense with row taps: the input padded left/right, or NULL */
    int64_t iwp;     /* its width */
    bool xflip;      /* xp and zero hold x XOR 0x80 (the SIMD kernel reads uint8) */
    int32_t zy;      /* output zero point */
    bool simd;       /* run the AVX512-VNNI kernels */
    bool gemm;       /* dense 1x1, stride 1, no padding: input rows are GEMM rows */
    const int8_t *x; /* NHWC input, fixed when the node is prepared */
    int8_t *y;       /* NHWC output */
    /* Set after init for a float output instead (QGemm's logits): y = (float)
     * acc * mult, no zero point, no clamp (dense only; y unused). */
    float *yf;
} eai__q8c_t;

/* Whether the SIMD kernels run on this CPU (x86-64 with AVX512-VNNI and BW,
 * checked with cpuid through __builtin_cpu_supports). */
bool eai__q8c_simd_available(void);

/* Bytes of memory eai__q8c_init needs for geometry g (64-byte aligned). */
size_t eai__q8c_mem_bytes(const eai__q8c_geom_t *g);

/* Packs the weights into `mem` (eai__q8c_mem_bytes, 64-byte aligned, owned
 * by the caller, must outlive k). w: dense [m][c][kh][kw] (OIHW),
 * depthwise [m][1][kh][kw]; bias [m] or NULL; wscale [m]; the input's
 * (sx, zx) and the output's (sy, zy) parameters. x and y are the NHWC input
 * and output buffers (stay borrowed; each must stay readable 64 bytes past
 * its end, as edgeai's arena is). simd picks the kernels (only when
 * eai__q8c_simd_available()). */
void eai__q8c_init(eai__q8c_t *k, const eai__q8c_geom_t *g, const int8_t *w, const int32_t *bias,
                   const float *wscale, float sx, int8_t zx, float sy, int8_t zy, const int8_t *x,
                   int8_t *y, bool simd, void *mem);

/* Once per run, before the tasks: refreshes the padded input copy that
 * dense convs with few input channels read (a no-op for the others). */
void eai__q8c_begin(const eai__q8c_t *k);

/* Number of tasks of one run; eai__q8c_run does tasks [begin, end). Tasks
 * write disjoint outputs, so threads may run any of them concurrently. */
int64_t eai__q8c_n_tasks(const eai__q8c_t *k);
void eai__q8c_run(const eai__q8c_t *k, int64_t begin, int64_t end);

#endif
