/* Private: edgeai's own float GEMM for NHWC pointwise work (1x1 convs,
 * Winograd's per-tap products): C[m][n] = clamp(A[m][k] * B[k][n] + bias).
 *
 * Why not XNNPACK's: its AVX-512 f32 kernel computes 7 rows x 16 columns per
 * pass over k, so each packed weight is loaded once per 7 output pixels and
 * 16 columns need 7 broadcasts of A. MobileNet's projection convs (k 576 or
 * 960, n 96-320, 49-196 pixels) are limited by those loads, 15-35% slower
 * than ONNX Runtime's MLAS. Here a register tile of 12 rows x 32 columns (24
 * of the 32 zmm registers) does 24 FMAs per 2 weight loads and 12
 * broadcasts. B is packed once, at prepare, into panels of 32 columns, k
 * rows each, so a panel streams linearly.
 *
 * x86-64 with AVX-512F only (checked at run time); elsewhere callers keep
 * XNNPACK's operators.
 */
#ifndef EAI_F32GEMM_IMPL_H
#define EAI_F32GEMM_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EAI__SG_NR  32 /* columns per packed panel */
#define EAI__SG_MR  12 /* rows per register tile */
#define EAI__SG_IMR 8  /* rows per register tile of an indirect product */

typedef struct eai__sgemm {
    int64_t m, k, n;
    const float *a; /* rows lda floats apart; fixed at init (the arena never moves) */
    size_t lda;
    float *c;
    size_t ldc;
    const float *bp; /* eai__sgemm_pack's output */
    float lo, hi;
    bool hswish; /* HardSwish after the clamp (set after init; false by default) */
    int64_t n_panels;
    int64_t row_tiles; /* tiles of `mr` or `mr - 1` rows, the longer first */
    int64_t mr, long_tiles;
    /* indirect products (eai__sgemm_init_indirect); ind NULL otherwise */
    const float *const *ind;
    int64_t taps, kc;
} eai__sgemm_t;

/* Whether the kernels run on this CPU. */
bool eai__sgemm_available(void);

/* Bytes of packed weights and bias for a k x n product (64-byte multiple). */
size_t eai__sgemm_pack_bytes(int64_t k, int64_t n);

/* Packs w [n][k] (a conv's OI weights, row o = output channel o) and bias
 * [n] (NULL: zeros) into dst (eai__sgemm_pack_bytes, 64-byte aligned). */
void eai__sgemm_pack(const float *w, const float *bias, int64_t k, int64_t n, float *dst);

/* Describes one product; a, c and bp must outlive g. Every A row must stay
 * readable up to a + (m - 1) * lda + k (no reads past it). */
void eai__sgemm_init(eai__sgemm_t *g, int64_t m, int64_t k, int64_t n, const float *a, size_t lda,
                     float *c, size_t ldc, const float *bp, float lo, float hi);

/* An indirect product, the implicit-GEMM form of a convolution: row r of A
 * is the concatenation, tap by tap, of ind[t * m + r][0 .. kc) for t in
 * [0, taps), so k = taps * kc and B is packed from w [n][taps * kc] (a
 * conv's OHWI weights). A row's pointer per tap is an input pixel, or a
 * buffer of kc zeros where the tap falls on the padding: no copy of the
 * input is made (XNNPACK's IGEMM does the same with a 7 x 16 tile). ind
 * must outlive g. Register tiles have at most EAI__SG_IMR rows: every row
 * needs its own pointer, and 12 do not fit the general registers. */
void eai__sgemm_init_indirect(eai__sgemm_t *g, int64_t m, int64_t n, int64_t taps, int64_t kc,
                              const float *const *ind, float *c, size_t ldc, const float *bp,
                              float lo, float hi);

/* Tasks of one product; eai__sgemm_run computes tasks [begin, end). Tasks
 * write disjoint parts of C, so threads may run any of them at once. */
int64_t eai__sgemm_n_tasks(const eai__sgemm_t *g);
void eai__sgemm_run(const eai__sgemm_t *g, int64_t begin, int64_t end);

#endif
