/* Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions with many channels
 * (ResNet's body): 16 multiplies per 2x2 output tile instead of 36, so the
 * GEMM work drops 2.25x. Lavin & Gray, "Fast Algorithms for Convolutional
 * Neural Networks" (2015):
 *   Y = A^T [ (G g G^T) .* (B^T d B) ] A
 * per 4x4 input tile d (overlapping by 2), per channel pair.
 *
 * Per chunk of tiles (sized so the chunk's U and M stay in L2), all on the
 * session's pthreadpool:
 *   1. input transform: the chunk's tiles of the NHWC input to U[16][tc][C];
 *   2. 16 products M[k] = U[k] * V[k]^T, where V[k] [M][C] is the
 *      transformed filter, packed once at prepare: edgeai's GEMM
 *      (pointwise.c) where the CPU has AVX-512F, else XNNPACK's fully
 *      connected operators;
 *   3. output transform: A^T M A per tile, plus bias, clamped, into NHWC.
 * U and M live in the session scratch (one chunk's worth per slot). The transforms only add,
 * subtract and halve, so results stay within a few ulps of the direct convolution relative to the
 * sum of |products|.
 */
#include <math.h>

#include "runtime/xnnpack/xnn_impl.h"

typedef struct wino {
    const float *x;
    float *y;
    float *u, *m;      /* scratch: U[16][T][C], M[16][T][M] */
    const float *bias; /* M floats (zeros without a bias) */
    const float *zero; /* C zeros: the padding */
    int64_t n, c, h, w, oc, oh, ow, pt, pl, th, tw, t;
    int64_t tc, n_chunks; /* tiles per chunk (what U and M hold), chunks */
    int n_slots;          /* chunks in flight at once, each in its own buffers */
    size_t slot_floats;   /* scratch floats per slot: U, then M at m - u */
    float lo, hi;
    xnn_operator_t *fc; /* [n_slots][16], set up on their slot's buffers */
    eai__sgemm_t *sg;   /* instead of fc: [n_slots][16], sharing one packed V */
    void (*in_fn)(const float *restrict src, const int64_t *off, float *restrict u, size_t stride,
                  int64_t kn);
    void (*out_fn)(const float *restrict m, size_t stride, const float *restrict bias, float lo,
                   float hi, float *restrict o0, float *restrict o1, float *restrict o2,
                   float *restrict o3, int64_t kn);
} wino_t;

static int64_t tiles(int64_t n, int64_t oh, int64_t ow);

bool eai__xnn_winograd_ok(const eai__xnn_wino_geom_t *g, int64_t kh, int64_t kw, int64_t sh,
                          int64_t sw, int64_t dh, int64_t dw, int64_t group)
{
    if (kh != 3 || kw != 3 || sh != 1 || sw != 1 || dh != 1 || dw != 1 || group != 1) return false;
    if (g->c < 64 || g->m < 64) return false; /* transforms cost more than they save */
    /* ResNet-18's 512-channel 7x7 layers: 16 tiles, 16 MB of transformed
     * weights: 1.38 ms direct, 1.54 ms Winograd; 10x10 (25 tiles) 3.2 vs 2.1 */
    const double v_bytes = 16.0 * (double)g->c * (double)g->m * sizeof(float);
    return tiles(g->n, g->oh, g->ow) >= 20 || v_bytes <= 8e6;
}

static int64_t tiles(int64_t n, int64_t oh, int64_t ow)
{
    return n * ((oh + 1) / 2) * ((ow + 1) / 2);
}

/* Tiles per chunk: U and M of a chunk within about 2 MiB (L2 and a bit;
 * measured on Zen 5 with 1 MiB of L2), at least 32 rows for the GEMMs,
 * chunks of equal size.
 * With a pool, chunks go to `slots` (one per thread): each slot transforms,
 * multiplies (its own 16 GEMMs, on the caller's thread) and transforms back
 * whole chunks on its own buffers, so a conv costs one hand-off to the
 * pool instead of 18 per chunk (64 channels at 56x56 on 2 threads: 0.68 ms
 * with per-chunk hand-offs). Each slot packs its own copy of the filters,
 * so slots are used while the copies stay under SLOT_WEIGHT_BYTES; edgeai's
 * GEMM shares one copy among them all. */
#define CHUNK_BYTES       ((size_t)2 << 20)
#define MAX_SLOTS         8
#define SLOT_WEIGHT_BYTES ((size_t)32 << 20)

static int slots_for(int threads, int64_t c, int64_t m)
{
    int n = threads < MAX_SLOTS ? threads : MAX_SLOTS;
    if (eai__xnn_sgemm_ok()) return n > 1 ? n : 1; /* one shared copy */
    const size_t v_bytes = 16 * (size_t)(c * m) * sizeof(float);
    return n > 1 && (size_t)n * v_bytes <= SLOT_WEIGHT_BYTES ? n : 1;
}

static void chunking(int64_t t, int64_t c, int64_t m, int slots, int64_t *tc, int64_t *n_chunks)
{
    int64_t max = (int64_t)(CHUNK_BYTES / (16 * (size_t)(c + m) * sizeof(float)));
    if (max < 32) max = 32;
    int64_t n = (t + max - 1) / max;
    n = (n + slots - 1) / slots * slots; /* every slot gets as many chunks */
    *n_chunks = n;
    *tc = (t + n - 1) / n;
}

static size_t slot_floats(int64_t tc, int64_t c, int64_t m)
{
    return EAI_ALIGN_UP(16 * (size_t)(tc * c) * sizeof(float), EAI_ALIGN) / sizeof(float) +
           EAI_ALIGN_UP(16 * (size_t)(tc * m) * sizeof(float), EAI_ALIGN) / sizeof(float);
}

size_t eai__xnn_winograd_scratch(int64_t n, int64_t c, int64_t m, int64_t oh, int64_t ow,
                                 int threads)
{
    int64_t tc, nc;
    const int slots = slots_for(threads, c, m);
    chunking(tiles(n, oh, ow), c, m, slots, &tc, &nc);
    return (size_t)slots * slot_floats(tc, c, m) * sizeof(float);
}

#define WINO_BLK 64 /* channels staged per block in the input transform */

/* The transforms, vectorised over channels: input tap i (row-major 4x4) of
 * channel k is src[off[i] + k]; U's 16 planes are `stride` floats apart.
 * Written out tap by tap (and staged through a local block, whose stores
 * cannot alias the input) so the compiler vectorises the channel loop;
 * compiled per ISA (plain, AVX2, AVX-512F) and picked once at prepare. */
#define WINO_INPUT(SFX, ATTR)                                                                      \
    ATTR static void input_tile_##SFX(const float *restrict src, const int64_t *off,               \
                                      float *restrict u, size_t stride, int64_t kn)                \
    {                                                                                              \
        const float *restrict s0 = src + off[0];                                                   \
        const float *restrict s1 = src + off[1];                                                   \
        const float *restrict s2 = src + off[2];                                                   \
        const float *restrict s3 = src + off[3];                                                   \
        const float *restrict s4 = src + off[4];                                                   \
        const float *restrict s5 = src + off[5];                                                   \
        const float *restrict s6 = src + off[6];                                                   \
        const float *restrict s7 = src + off[7];                                                   \
        const float *restrict s8 = src + off[8];                                                   \
        const float *restrict s9 = src + off[9];                                                   \
        const float *restrict s10 = src + off[10];                                                 \
        const float *restrict s11 = src + off[11];                                                 \
        const float *restrict s12 = src + off[12];                                                 \
        const float *restrict s13 = src + off[13];                                                 \
        const float *restrict s14 = src + off[14];                                                 \
        const float *restrict s15 = src + off[15];                                                 \
        float t[16][WINO_BLK];                                                                     \
        for (int64_t k0 = 0; k0 < kn; k0 += WINO_BLK) {                                            \
            const int64_t n = kn - k0 < WINO_BLK ? kn - k0 : WINO_BLK;                             \
            for (int64_t k = 0; k < n; k++) {                                                      \
                const float t00 = (s0[k0 + k] - s8[k0 + k]);                                       \
                const float t10 = (s4[k0 + k] + s8[k0 + k]);                                       \
                const float t20 = (s8[k0 + k] - s4[k0 + k]);                                       \
                const float t30 = (s4[k0 + k] - s12[k0 + k]);                                      \
                const float t01 = (s1[k0 + k] - s9[k0 + k]);                                       \
                const float t11 = (s5[k0 + k] + s9[k0 + k]);                                       \
                const float t21 = (s9[k0 + k] - s5[k0 + k]);                                       \
                const float t31 = (s5[k0 + k] - s13[k0 + k]);                                      \
                const float t02 = (s2[k0 + k] - s10[k0 + k]);                                      \
                const float t12 = (s6[k0 + k] + s10[k0 + k]);                                      \
                const float t22 = (s10[k0 + k] - s6[k0 + k]);                                      \
                const float t32 = (s6[k0 + k] - s14[k0 + k]);                                      \
                const float t03 = (s3[k0 + k] - s11[k0 + k]);                                      \
                const float t13 = (s7[k0 + k] + s11[k0 + k]);                                      \
                const float t23 = (s11[k0 + k] - s7[k0 + k]);                                      \
                const float t33 = (s7[k0 + k] - s15[k0 + k]);                                      \
                t[0][k] = (t00 - t02);                                                             \
                t[1][k] = (t01 + t02);                                                             \
                t[2][k] = (t02 - t01);                                                             \
                t[3][k] = (t01 - t03);                                                             \
                t[4][k] = (t10 - t12);                                                             \
                t[5][k] = (t11 + t12);                                                             \
                t[6][k] = (t12 - t11);                                                             \
                t[7][k] = (t11 - t13);                                                             \
                t[8][k] = (t20 - t22);                                                             \
                t[9][k] = (t21 + t22);                                                             \
                t[10][k] = (t22 - t21);                                                            \
                t[11][k] = (t21 - t23);                                                            \
                t[12][k] = (t30 - t32);                                                            \
                t[13][k] = (t31 + t32);                                                            \
                t[14][k] = (t32 - t31);                                                            \
                t[15][k] = (t31 - t33);                                                            \
            }                                                                                      \
            for (int i = 0; i < 16; i++)                                                           \
                memcpy(u + (size_t)i * stride + k0, t[i], (size_t)n * sizeof(float));              \
        }                                                                                          \
    }

/* A^T m A + bias, clamped, for kn output channels of one tile into the 2x2
 * outputs' rows o0..o3. */
#define WINO_OUTPUT(SFX, ATTR)                                                                     \
    ATTR static void output_tile_##SFX(const float *restrict m, size_t stride,                     \
                                       const float *restrict bias, float lo, float hi,             \
                                       float *restrict o0, float *restrict o1, float *restrict o2, \
                                       float *restrict o3, int64_t kn)                             \
    {                                                                                              \
        const float *restrict v0 = m + 0 * stride;                                                 \
        const float *restrict v1 = m + 1 * stride;                                                 \
        const float *restrict v2 = m + 2 * stride;                                                 \
        const float *restrict v3 = m + 3 * stride;                                                 \
        const float *restrict v4 = m + 4 * stride;                                                 \
        const float *restrict v5 = m + 5 * stride;                                                 \
        const float *restrict v6 = m + 6 * stride;                                                 \
        const float *restrict v7 = m + 7 * stride;                                                 \
        const float *restrict v8 = m + 8 * stride;                                                 \
        const float *restrict v9 = m + 9 * stride;                                                 \
        const float *restrict v10 = m + 10 * stride;                                               \
        const float *restrict v11 = m + 11 * stride;                                               \
        const float *restrict v12 = m + 12 * stride;                                               \
        const float *restrict v13 = m + 13 * stride;                                               \
        const float *restrict v14 = m + 14 * stride;                                               \
        const float *restrict v15 = m + 15 * stride;                                               \
        for (int64_t k = 0; k < kn; k++) {                                                         \
            const float a00 = v0[k] + v4[k] + v8[k];                                               \
            const float a10 = v4[k] - v8[k] - v12[k];                                              \
            const float a01 = v1[k] + v5[k] + v9[k];                                               \
            const float a11 = v5[k] - v9[k] - v13[k];                                              \
            const float a02 = v2[k] + v6[k] + v10[k];                                              \
            const float a12 = v6[k] - v10[k] - v14[k];                                             \
            const float a03 = v3[k] + v7[k] + v11[k];                                              \
            const float a13 = v7[k] - v11[k] - v15[k];                                             \
            const float b = bias[k];                                                               \
            float y0 = a00 + a01 + a02 + b;                                                        \
            float y1 = a01 - a02 - a03 + b;                                                        \
            float y2 = a10 + a11 + a12 + b;                                                        \
            float y3 = a11 - a12 - a13 + b;                                                        \
            y0 = y0 < lo ? lo : y0;                                                                \
            o0[k] = y0 > hi ? hi : y0;                                                             \
            y1 = y1 < lo ? lo : y1;                                                                \
            o1[k] = y1 > hi ? hi : y1;                                                             \
            y2 = y2 < lo ? lo : y2;                                                                \
            o2[k] = y2 > hi ? hi : y2;                                                             \
            y3 = y3 < lo ? lo : y3;                                                                \
            o3[k] = y3 > hi ? hi : y3;                                                             \
        }                                                                                          \
    }

WINO_INPUT(generic, )
WINO_OUTPUT(generic, )
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define WINO_X86 1
WINO_INPUT(avx2, __attribute__((target("avx2"))))
WINO_OUTPUT(avx2, __attribute__((target("avx2"))))
WINO_INPUT(avx512, __attribute__((target("avx512f"))))
WINO_OUTPUT(avx512, __attribute__((target("avx512f"))))
#endif

#define EDGE_CH 64 /* channels per chunk of an edge tile's zero-padded copy */

/* One chunk's transforms: tiles [t0, t0 + tc) of the image, rows of U/M. */
typedef struct chunk {
    const wino_t *a;
    int64_t t0;
    float *u, *m; /* the slot's U and M */
} chunk_t;

static void input_range(void *ctx, size_t begin, size_t count)
{
    const chunk_t *ch = ctx;
    const wino_t *a = ch->a;
    const size_t stride = (size_t)(a->tc * a->c); /* between the 16 planes of U */
    float patch[16 * EDGE_CH];
    for (size_t r = begin; r < begin + count; r++) {
        const int64_t t = ch->t0 + (int64_t)r;
        if (t >= a->t) break; /* the last chunk's spare rows: never read back */
        const int64_t tx = t % a->tw, ty = t / a->tw % a->th;
        const int64_t b = t / (a->tw * a->th);
        const int64_t iy = 2 * ty - a->pt, ix = 2 * tx - a->pl;
        float *u = ch->u + r * (size_t)a->c;
        int64_t off[16];
        if (iy >= 0 && ix >= 0 && iy + 4 <= a->h && ix + 4 <= a->w) {
            const float *base = a->x + ((b * a->h + iy) * a->w + ix) * a->c;
            for (int i = 0; i < 16; i++)
                off[i] = ((i / 4) * a->w + i % 4) * a->c;
            a->in_fn(base, off, u, stride, a->c);
            continue;
        }
        /* a tile over the padding: a zero-padded copy, EDGE_CH channels at a time */
        for (int i = 0; i < 16; i++)
            off[i] = i * EDGE_CH;
        for (int64_t k0 = 0; k0 < a->c; k0 += EDGE_CH) {
            const int64_t kn = a->c - k0 < EDGE_CH ? a->c - k0 : EDGE_CH;
            for (int i = 0; i < 16; i++) {
                const int64_t y = iy + i / 4, x = ix + i % 4;
                if (y >= 0 && y < a->h && x >= 0 && x < a->w)
                    memcpy(patch + i * EDGE_CH, a->x + ((b * a->h + y) * a->w + x) * a->c + k0,
                           (size_t)kn * sizeof(float));
                else
                    memset(patch + i * EDGE_CH, 0, (size_t)kn * sizeof(float));
            }
            a->in_fn(patch, off, u + k0, stride, kn);
        }
    }
}

static void output_range(void *ctx, size_t begin, size_t count)
{
    const chunk_t *ch = ctx;
    const wino_t *a = ch->a;
    const size_t stride = (size_t)(a->tc * a->oc);
    float edge[4][EDGE_CH]; /* an edge tile's outputs outside the image */
    for (size_t r = begin; r < begin + count; r++) {
        const int64_t t = ch->t0 + (int64_t)r;
        if (t >= a->t) break;
        const int64_t tx = t % a->tw, ty = t / a->tw % a->th;
        const int64_t b = t / (a->tw * a->th);
        const int64_t oy = 2 * ty, ox = 2 * tx;
        const bool in_y = oy + 1 < a->oh, in_x = ox + 1 < a->ow;
        float *row = a->y + ((b * a->oh + oy) * a->ow + ox) * a->oc;
        const float *m = ch->m + r * (size_t)a->oc;
        if (in_y && in_x) {
            a->out_fn(m, stride, a->bias, a->lo, a->hi, row, row + a->oc, row + a->ow * a->oc,
                      row + (a->ow + 1) * a->oc, a->oc);
            continue;
        }
        for (int64_t k0 = 0; k0 < a->oc; k0 += EDGE_CH) {
            const int64_t kn = a->oc - k0 < EDGE_CH ? a->oc - k0 : EDGE_CH;
            float *o1 = in_x ? row + a->oc + k0 : edge[1];
            float *o2 = in_y ? row + a->ow * a->oc + k0 : edge[2];
            float *o3 = in_y && in_x ? row + (a->ow + 1) * a->oc + k0 : edge[3];
            a->out_fn(m + k0, stride, a->bias + k0, a->lo, a->hi, row + k0, o1, o2, o3, kn);
        }
    }
}

/* The whole convolution, chunk by chunk, so U and M stay in cache between
 * the transforms and the 16 GEMMs (which XNNPACK runs on the same buffers
 * every chunk). One slot: each phase spread over the pool. */
static void run_one_slot(const wino_t *a, pthreadpool_t tp)
{
    for (int64_t k = 0; k < a->n_chunks; k++) {
        chunk_t ch = {a, k * a->tc, a->u, a->m};
        pthreadpool_parallelize_1d_tile_1d(tp, input_range, &ch, (size_t)a->tc, 4,
                                           EAI__XNN_PT_FLAGS);
        for (int i = 0; i < 16; i++) {
            if (a->sg)
                eai__xnn_sgemm_run(&a->sg[i], tp);
            else
                xnn_run_operator(a->fc[i], tp); /* set up at prepare: cannot fail */
        }
        pthreadpool_parallelize_1d_tile_1d(tp, output_range, &ch, (size_t)a->tc, 4,
                                           EAI__XNN_PT_FLAGS);
    }
}

/* Slot s does chunks s, s + n_slots, ... start to end on its own buffers. */
static void slot_task(void *ctx, size_t s)
{
    const wino_t *a = ctx;
    float *u = a->u + s * a->slot_floats;
    chunk_t ch = {a, 0, u, u + (a->m - a->u)};
    for (int64_t k = (int64_t)s; k < a->n_chunks; k += a->n_slots) {
        ch.t0 = k * a->tc;
        input_range(&ch, 0, (size_t)a->tc);
        for (size_t i = 0; i < 16; i++) {
            if (a->sg)
                eai__sgemm_run(&a->sg[s * 16 + i], 0, eai__sgemm_n_tasks(&a->sg[s * 16 + i]));
            else
                xnn_run_operator(a->fc[s * 16 + i], NULL);
        }
        output_range(&ch, 0, (size_t)a->tc);
    }
}

static void run_step(const void *arg, pthreadpool_t tp)
{
    const wino_t *a = arg;
    if (a->n_slots == 1)
        run_one_slot(a, tp);
    else
        pthreadpool_parallelize_1d(tp, slot_task, (void *)a, (size_t)a->n_slots, EAI__XNN_PT_FLAGS);
}

/* G g G^T for one 3x3 filter g into v[16] (stride between entries vs). */
static void filter_transform(const float *g, float *v, size_t vs)
{
    float t[12]; /* G g: 4 x 3 */
    for (int j = 0; j < 3; j++) {
        t[0 * 3 + j] = g[0 * 3 + j];
        t[1 * 3 + j] = 0.5f * (g[0 * 3 + j] + g[1 * 3 + j] + g[2 * 3 + j]);
        t[2 * 3 + j] = 0.5f * (g[0 * 3 + j] - g[1 * 3 + j] + g[2 * 3 + j]);
        t[3 * 3 + j] = g[2 * 3 + j];
    }
    for (int r = 0; r < 4; r++) {
        const float *q = t + r * 3;
        v[(size_t)(r * 4 + 0) * vs] = q[0];
        v[(size_t)(r * 4 + 1) * vs] = 0.5f * (q[0] + q[1] + q[2]);
        v[(size_t)(r * 4 + 2) * vs] = 0.5f * (q[0] - q[1] + q[2]);
        v[(size_t)(r * 4 + 3) * vs] = q[2];
    }
}

/* The 16 products per slot as edgeai's GEMM: one packed V for all slots. */
static eai_status_t gemms_own(eai__opctx_t *c, eai__xnn_node_t *st, wino_t *a, const float *v)
{
    const size_t mc = (size_t)(a->oc * a->c), pb = eai__sgemm_pack_bytes(a->c, a->oc);
    void *vp, *sg;
    EAI_TRY(eai__xnn_buffer(c, st, 16 * pb, NULL, &vp));
    EAI_TRY(eai__xnn_buffer(c, st, (size_t)a->n_slots * 16 * sizeof(eai__sgemm_t), NULL, &sg));
    a->sg = sg;
    for (int k = 0; k < 16; k++)
        eai__sgemm_pack(v + (size_t)k * mc, NULL, a->c, a->oc, (float *)((char *)vp + k * pb));
    for (int sl = 0; sl < a->n_slots; sl++) {
        float *u = a->u + (size_t)sl * a->slot_floats, *m = u + (a->m - a->u);
        for (int k = 0; k < 16; k++)
            eai__sgemm_init(&a->sg[sl * 16 + k], a->tc, a->c, a->oc,
                            u + (size_t)k * (size_t)(a->tc * a->c), (size_t)a->c,
                            m + (size_t)k * (size_t)(a->tc * a->oc), (size_t)a->oc,
                            (const float *)((const char *)vp + k * pb), -INFINITY, INFINITY);
    }
    return EAI_OK;
}

/* The 16 products per slot as XNNPACK fully connected operators, each slot
 * with its own (they are bound to the slot's buffers). The operators belong
 * to the node (deleted with it) but run inside run_step; with several slots
 * each runs on its slot's thread alone. */
static eai_status_t gemms_xnn(eai__opctx_t *c, eai__xnn_node_t *st, wino_t *a, const float *v)
{
    const size_t mc = (size_t)(a->oc * a->c);
    void *fc;
    EAI_TRY(eai__xnn_buffer(c, st, (size_t)a->n_slots * 16 * sizeof(xnn_operator_t), NULL, &fc));
    a->fc = fc;
    for (int sl = 0; sl < a->n_slots; sl++) {
        float *u = a->u + (size_t)sl * a->slot_floats, *m = u + (a->m - a->u);
        pthreadpool_t tp = a->n_slots == 1 ? st->tp : NULL;
        for (int k = 0; k < 16; k++) {
            xnn_operator_t op = NULL;
            enum xnn_status s = xnn_create_fully_connected_nc_f32(
                (size_t)a->c, (size_t)a->oc, (size_t)a->c, (size_t)a->oc, v + (size_t)k * mc, NULL,
                -INFINITY, INFINITY, EAI__XNN_FLAGS, &op);
            EAI_TRY(eai__xnn_push_owned(c, st, s, op, "create winograd gemm"));
            EAI_TRY(eai__xnn_check(c,
                                   xnn_setup_fully_connected_nc_f32(
                                       op, (size_t)a->tc, u + (size_t)k * (size_t)(a->tc * a->c),
                                       m + (size_t)k * (size_t)(a->tc * a->oc), tp),
                                   "setup winograd gemm"));
            a->fc[sl * 16 + k] = op;
        }
    }
    st->bytes += (size_t)a->n_slots * 16 * mc * sizeof(float);
    return EAI_OK;
}

eai_status_t eai__xnn_winograd_prepare(eai__opctx_t *c, eai__xnn_node_t *st,
                                       const eai__xnn_wino_geom_t *g, float lo, float hi)
{
    wino_t a = {0};
    a.x = c->in[0].data;
    a.y = c->out[0].data;
    a.n = g->n, a.c = g->c, a.h = g->h, a.w = g->w, a.oc = g->m, a.oh = g->oh, a.ow = g->ow;
    a.pt = g->pt, a.pl = g->pl;
    a.th = (a.oh + 1) / 2, a.tw = (a.ow + 1) / 2;
    a.t = tiles(a.n, a.oh, a.ow);
    a.lo = lo, a.hi = hi;
    a.in_fn = input_tile_generic;
    a.out_fn = output_tile_generic;
#if defined(WINO_X86)
    if (__builtin_cpu_supports("avx512f")) {
        a.in_fn = input_tile_avx512;
        a.out_fn = output_tile_avx512;
    } else if (__builtin_cpu_supports("avx2")) {
        a.in_fn = input_tile_avx2;
        a.out_fn = output_tile_avx2;
    }
#endif
    a.n_slots = slots_for(eai_threadpool_size(c->pool), a.c, a.oc);
    if (!st->tp) a.n_slots = 1;
    chunking(a.t, a.c, a.oc, a.n_slots, &a.tc, &a.n_chunks);
    a.slot_floats = slot_floats(a.tc, a.c, a.oc);
    a.u = c->scratch;
    a.m = a.u + EAI_ALIGN_UP(16 * (size_t)(a.tc * a.c) * sizeof(float), EAI_ALIGN) / sizeof(float);
    void *zero, *bias;
    EAI_TRY(eai__xnn_buffer(c, st, (size_t)a.c * sizeof(float), NULL, &zero));
    EAI_TRY(eai__xnn_buffer(c, st, (size_t)a.oc * sizeof(float),
                            eai__has_in(c, 2) ? c->in[2].data : NULL, &bias));
    a.zero = zero;
    a.bias = bias;
    /* V[16][M][C] from W [M][C][3][3] */
    const size_t mc = (size_t)(a.oc * a.c);
    float *v = eai__alloc_aligned(&st->alloc, 16 * mc * sizeof(float));
    if (!v) return eai__op_fail(c, EAI_E_NOMEM, "out of memory");
    const float *w = c->in[1].data;
    for (size_t i = 0; i < mc; i++)
        filter_transform(w + i * 9, v + i, mc);
    eai_status_t r = eai__xnn_sgemm_ok() ? gemms_own(c, st, &a, v) : gemms_xnn(c, st, &a, v);
    eai__free_aligned(&st->alloc, v);
    EAI_TRY(r);
    void *arg;
    EAI_TRY(eai__xnn_buffer(c, st, sizeof a, &a, &arg));
    return eai__xnn_push_fn(c, st, run_step, arg);
}
