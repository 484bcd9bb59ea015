/* Tests of the 'layout' op family: Concat, Split, Slice, Gather,
 * GatherElements, Transpose, Pad, plus Expand and Tile (which live in
 * shape.c). Expected arrays come from numpy 1.24 via /usr/bin/python3 (the
 * expression is in a comment next to each), or from a naive loop in the test
 * (Transpose).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/harness.h"
#include "runtime/harness_assert.h"

/* ---- Concat ---- */

static void test_concat_negative_axis(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    const float a[] = {1, 2, 3, 4}, b[] = {5, 6};
    int x = th_input(&t, "a", EAI_F32, 2, (int64_t[]){2, 2});
    int y = th_input(&t, "b", EAI_F32, 2, (int64_t[]){2, 1});
    int z = th_value(&t, "z");
    th_node(&t, "Concat", (int[]){x, y}, 2, (int[]){z}, 1);
    th_attr_int(&t, "axis", -1);
    th_output(&t, z);
    TH_RUN_OK(&t, ((const void *[]){a, b}));
    th_assert_dims(&t, 0, 2, (int64_t[]){2, 3});
    th_assert_f32_exact(th_out_f32(&t, 0), (const float[]){1, 2, 5, 3, 4, 6}, 6);
    th_end(&t);
}

static void test_concat_int64_fold(void **state)
{
    (void)state;
    /* constant inputs: evaluated while folding */
    th_t t;
    th_begin(&t, 13);
    int x = th_const(&t, "a", EAI_I64, 1, (int64_t[]){2}, (int64_t[]){7, -1});
    int y = th_const(&t, "b", EAI_I64, 1, (int64_t[]){1}, (int64_t[]){3});
    int z = th_value(&t, "z");
    th_node(&t, "Concat", (int[]){x, y}, 2, (int[]){z}, 1);
    th_attr_int(&t, "axis", 0);
    th_output(&t, z);
    TH_RUN_OK(&t, NULL);
    th_assert_i64(th_out_i64(&t, 0), (const int64_t[]){7, -1, 3}, 3);
    th_end(&t);
}

static void test_concat_mismatch_error(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "a", EAI_F32, 2, (int64_t[]){2, 2});
    int y = th_input(&t, "b", EAI_F32, 2, (int64_t[]){3, 1});
    int z = th_value(&t, "z");
    th_node(&t, "Concat", (int[]){x, y}, 2, (int[]){z}, 1);
    th_attr_int(&t, "axis", 1);
    th_output(&t, z);
    th_assert_error(&t, EAI_E_INVALID, "input 1 has dim 3 on axis 0");
    th_end(&t);
}

/* ---- Split ---- */

static void test_split_unequal_input(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    const float a[] = {0, 1, 2, 3, 4, 5, 6, 7};
    int x = th_input(&t, "x", EAI_F32, 2, (int64_t[]){4, 2});
    int s = th_const(&t, "split", EAI_I64, 1, (int64_t[]){2}, (int64_t[]){1, 3});
    int y0 = th_value(&t, "y0"), y1 = th_value(&t, "y1");
    th_node(&t, "Split", (int[]){x, s}, 2, (int[]){y0, y1}, 2);
    th_output(&t, y0);
    th_output(&t, y1);
    TH_RUN_OK(&t, ((const void *[]){a}));
    th_assert_dims(&t, 0, 2, (int64_t[]){1, 2});
    th_assert_dims(&t, 1, 2, (int64_t[]){3, 2});
    th_assert_f32_exact(th_out_f32(&t, 0), (const float[]){0, 1}, 2);
    th_assert_f32_exact(th_out_f32(&t, 1), (const float[]){2, 3, 4, 5, 6, 7}, 6);
    th_end(&t);
}

static void test_split_attr_axis1(void **state)
{
    (void)state;
    /* opset 11: split is an attribute */
    th_t t;
    th_begin(&t, 11);
    const float a[] = {0, 1, 2, 3, 4, 5, 6, 7};
    int x = th_input(&t, "x", EAI_F32, 2, (int64_t[]){2, 4});
    int y0 = th_value(&t, "y0"), y1 = th_value(&t, "y1"), y2 = th_value(&t, "y2");
    th_node(&t, "Split", (int[]){x}, 1, (int[]){y0, y1, y2}, 3);
    th_attr_int(&t, "axis", 1);
    th_attr_ints(&t, "split", (int64_t[]){2, 1, 1}, 3);
    th_output(&t, y0);
    th_output(&t, y1);
    th_output(&t, y2);
    TH_RUN_OK(&t, ((const void *[]){a}));
    th_assert_f32_exact(th_out_f32(&t, 0), (const float[]){0, 1, 4, 5}, 4);
    th_assert_f32_exact(th_out_f32(&t, 1), (const float[]){2, 6}, 2);
    th_assert_f32_exact(th_out_f32(&t, 2), (const float[]){3, 7}, 2);
    th_end(&t);
}

static void test_split_num_outputs(void **state)
{
    (void)state;
    /* opset 18: 7 into 3 chunks of ceil(7/3) = 3, 3, 1 */
    th_t t;
    th_begin(&t, 18);
    const float a[] = {0, 1, 2, 3, 4, 5, 6};
    int x = th_input(&t, "x", EAI_F32, 1, (int64_t[]){7});
    int y0 = th_value(&t, "y0"), y1 = th_value(&t, "y1"), y2 = th_value(&t, "y2");
    th_node(&t, "Split", (int[]){x}, 1, (int[]){y0, y1, y2}, 3);
    th_attr_int(&t, "num_outputs", 3);
    th_output(&t, y0);
    th_output(&t, y1);
    th_output(&t, y2);
    TH_RUN_OK(&t, ((const void *[]){a}));
    th_assert_dims(&t, 0, 1, (int64_t[]){3});
    th_assert_dims(&t, 2, 1, (int64_t[]){1});
    th_assert_f32_exact(th_out_f32(&t, 1), (const float[]){3, 4, 5}, 3);
    th_assert_f32_exact(th_out_f32(&t, 2), (const float[]){6}, 1);
    th_end(&t);
}

static void test_split_uneven_error(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 1, (int64_t[]){7});
    int y0 = th_value(&t, "y0"), y1 = th_value(&t, "y1");
    th_node(&t, "Split", (int[]){x}, 1, (int[]){y0, y1}, 2);
    th_output(&t, y0);
    th_output(&t, y1);
    th_assert_error(&t, EAI_E_INVALID, "not divisible into 2 equal outputs");
    th_end(&t);
}

/* ---- Slice ---- */

static void run_slice_1d(int64_t start, int64_t end, int64_t step, const float *want, int n_want)
{
    th_t t;
    th_begin(&t, 13);
    const float a[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    int x = th_input(&t, "x", EAI_F32, 1, (int64_t[]){10});
    int s = th_const(&t, "s", EAI_I64, 1, (int64_t[]){1}, &start);
    int e = th_const(&t, "e", EAI_I64, 1, (int64_t[]){1}, &end);
    int ax = th_const(&t, "ax", EAI_I64, 1, (int64_t[]){1}, (int64_t[]){0});
    int st = th_const(&t, "st", EAI_I64, 1, (int64_t[]){1}, &step);
    int y = th_value(&t, "y");
    th_node(&t, "Slice", (int[]){x, s, e, ax, st}, 5, (int[]){y}, 1);
    th_output(&t, y);
    TH_RUN_OK(&t, ((const void *[]){a}));
    th_assert_dims(&t, 0, 1, (int64_t[]){n_want});
    th_assert_f32_exact(th_out_f32(&t, 0), want, n_want);
    th_end(&t);
}

static void test_slice_1d(void **state)
{
    (void)state;
    /* np.arange(10)[8:2:-2] */
    run_slice_1d(8, 2, -2, (const float[]){8, 6, 4}, 3);
    /* np.arange(10)[::-1]: ONNX spells the open end INT64_MIN */
    run_slice_1d(-1, INT64_MIN, -1, (const float[]){9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, 10);
    /* np.arange(10)[1:1000]: end clamped */
    run_slice_1d(1, 1000, 1, (const float[]){1, 2, 3, 4, 5, 6, 7, 8, 9}, 9);
    /* INT64_MAX end, step 3: [2, 5, 8] */
    run_slice_1d(2, INT64_MAX, 3, (const float[]){2, 5, 8}, 3);
    /* start past the end: empty */
    run_slice_1d(12, 20, 1, NULL, 0);
}

static void test_slice_2d_negative_step_clamped(void **state)
{
    (void)state;
    /* a = np.arange(12).reshape(3, 4); a[0::2, 10:-10:-1] -> [3,2,1,0,11,10,9,8] */
    th_t t;
    th_begin(&t, 13);
    const float a[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    int x = th_input(&t, "x", EAI_F32, 2, (int64_t[]){3, 4});
    int s = th_const(&t, "s", EAI_I64, 1, (int64_t[]){2}, (int64_t[]){10, 0});
    int e = th_const(&t, "e", EAI_I64, 1, (int64_t[]){2}, (int64_t[]){-10, INT64_MAX});
    int ax = th_const(&t, "ax", EAI_I64, 1, (int64_t[]){2}, (int64_t[]){-1, 0});
    int st = th_const(&t, "st", EAI_I64, 1, (int64_t[]){2}, (int64_t[]){-1, 2});
    int y = th_value(&t, "y");
    th_node(&t, "Slice", (int[]){x, s, e, ax, st}, 5, (int[]){y}, 1);
    th_output(&t, y);
    TH_RUN_OK(&t, ((const void *[]){a}));
    th_assert_dims(&t, 0, 2, (int64_t[]){2, 4});
    th_assert_f32_exact(th_out_f32(&t, 0), (const float[]){3, 2, 1, 0, 11, 10, 9, 8}, 8);
    th_end(&t);
}

static void test_slice_opset9_attrs(void **state)
{
    (void)state;
    /* a[1:3, :] of np.arange(12).reshape(3, 4), uint8 */
    th_t t;
    th_begin(&t, 9);
    const uint8_t a[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    int x = th_input(&t, "x", EAI_U8, 2, (int64_t[]){3, 4});
    int y = th_value(&t, "y");
    th_node(&t, "Slice", (int[]){x}, 1, (int[]){y}, 1);
    th_attr_ints(&t, "starts", (int64_t[]){1}, 1);
    th_attr_ints(&t, "ends", (int64_t[]){3}, 1);
    th_output(&t, y);
    TH_RUN_OK(&t, ((const void *[]){a}));
    th_assert_dims(&t, 0, 2, (int64_t[]){2, 4});
    assert_memory_equal(t.out_data[0], a + 4, 8);
    th_end(&t);
}

static void test_slice_zero_step_error(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 1, (int64_t[]){4});
    int s = th_const(&t, "s", EAI_I64, 1, (int64_t[]){1}, (int64_t[]){0});
    int e = th_const(&t, "e", EAI_I64, 1, (int64_t[]){1}, (int64_t[]){4});
    int ax = th_value(&t, "");
    int st = th_const(&t, "st", EAI_I64, 1, (int64_t[]){1}, (int64_t[]){0});
    int y = th_value(&t, "y");
    th_node(&t, "Slice", (int[]){x, s, e, ax, st}, 5, (int[]){y}, 1);
    th_output(&t, y);
    th_assert_error(&t, EAI_E_INVALID, "steps[0] is 0");
    th_end(&t);
}

/* ---- Gather / GatherElements ---- */

static void test_gather_negative_indices(void **state)
{
    (void)state;
    /* g = np.arange(12).reshape(3, 4); np.take(g, [[-1, 0]], axis=1) -> [3,0,7,4,11,8] */
    th_t t;
    th_begin(&t, 13);
    const float g[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    const int32_t ix[] = {-1, 0};
    int x = th_input(&t, "g", EAI_F32, 2, (int64_t[]){3, 4});
    int i = th_input(&t, "i", EAI_I32, 2, (int64_t[]){1, 2});
    int y = th_value(&t, "y");
    th_node(&t, "Gather", (int[]){x, i}, 2, (int[]){y}, 1);
    th_attr_int(&t, "axis", 1);
    th_output(&t, y);
    TH_RUN_OK(&t, ((const void *[]){g, ix}));
    th_assert_dims(&t, 0, 3, (int64_t[]){3, 1, 2});
    th_assert_f32_exact(th_out_f32(&t, 0), (const float[]){3, 0, 7, 4, 11, 8}, 6);
    th_end(&t);
}

static void test_gather_int64_shape_fold(void **state)
{
    (void)state;
    /* shape[-2] as a scalar: the Shape -> Gather pattern, folded */
    th_t t;
    th_begin(&t, 13);
    int x = th_const(&t, "s", EAI_I64, 1, (int64_t[]){3}, (int64_t[]){2, 5, 7});
    int i = th_const(&t, "i", EAI_I64, 0, NULL, (int64_t[]){-2});
    int y = th_value(&t, "y");
    th_node(&t, "Gather", (int[]){x, i}, 2, (int[]){y}, 1);
    th_output(&t, y);
    TH_RUN_OK(&t, NULL);
    assert_int_equal(th_out_info(&t, 0)->rank, 0);
    assert_int_equal(th_out_i64(&t, 0)[0], 5);
    th_end(&t);
}

static void test_gather_out_of_range(void **state)
{
    (void)state;
    /* indices are a runtime input: the bad index surfaces at invoke */
    th_t t;
    th_begin(&t, 13);
    const float g[] = {0, 1, 2, 3, 4, 5};
    const int64_t ix[] = {2, 5};
    int x = th_input(&t, "g", EAI_F32, 2, (int64_t[]){3, 2});
    int i = th_input(&t, "i", EAI_I64, 1, (int64_t[]){2});
    int y = th_value(&t, "y");
    th_node(&t, "Gather", (int[]){x, i}, 2, (int[]){y}, 1);
    th_output(&t, y);
    th_assert_run_error(&t, (const void *[]){g, ix}, EAI_E_INVALID, "index 5 out of range [-3, 3)");
    th_end(&t);

    /* a constant bad index is caught when the model is prepared */
    th_begin(&t, 13);
    x = th_input(&t, "g", EAI_F32, 2, (int64_t[]){3, 2});
    i = th_const(&t, "i", EAI_I64, 1, (int64_t[]){1}, (int64_t[]){-4});
    y = th_value(&t, "y");
    th_node(&t, "Gather", (int[]){x, i}, 2, (int[]){y}, 1);
    th_output(&t, y);
    th_assert_error(&t, EAI_E_INVALID, "index -4 out of range [-3, 3)");
    th_end(&t);
}

static void test_gather_elements(void **state)
{
    (void)state;
    /* np.take_along_axis([[1,2],[3,4]], [[0,-1+2],[1,0]], axis=1) -> [[1,2],[4,3]] */
    th_t t;
    th_begin(&t, 13);
    const float d[] = {1, 2, 3, 4};
    const int64_t ix[] = {0, -1, 1, 0};
    int x = th_input(&t, "d", EAI_F32, 2, (int64_t[]){2, 2});
    int i = th_input(&t, "i", EAI_I64, 2, (int64_t[]){2, 2});
    int y = th_value(&t, "y");
    th_node(&t, "GatherElements", (int[]){x, i}, 2, (int[]){y}, 1);
    th_attr_int(&t, "axis", 1);
    th_output(&t, y);
    TH_RUN_OK(&t, ((const void *[]){d, ix}));
    th_assert_f32_exact(th_out_f32(&t, 0), (const float[]){1, 2, 4, 3}, 4);
    th_end(&t);
}

/* ---- Transpose: every output checked against a naive index formula ---- */

static void run_transpose(eai_dtype_t dt, int rank, const int64_t *dims, const int64_t *perm)
{
    const size_t es = eai_dtype_size(dt);
    int64_t n = 1, ist[8], odims[8];
    for (int k = rank - 1; k >= 0; k--) {
        ist[k] = n;
        n *= dims[k];
    }
    uint8_t *in = malloc((size_t)n * es), *want = malloc((size_t)n * es);
    for (int64_t i = 0; i < n * (int64_t)es; i++)
        in[i] = (uint8_t)(i * 7 + i / 251);
    for (int k = 0; k < rank; k++)
        odims[k] = dims[perm ? perm[k] : rank - 1 - k];
    for (int64_t o = 0; o < n; o++) {
        int64_t rem = o, src = 0;
        for (int k = rank - 1; k >= 0; k--) {
            src += (rem % odims[k]) * ist[perm ? perm[k] : rank - 1 - k];
            rem /= odims[k];
        }
        memcpy(want + o * (int64_t)es, in + src * (int64_t)es, es);
    }
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", dt, rank, dims);
    int y = th_value(&t, "y");
    th_node(&t, "Transpose", (int[]){x}, 1, (int[]){y}, 1);
    if (perm) th_attr_ints(&t, "perm", perm, rank);
    th_output(&t, y);
    TH_RUN_OK(&t, ((const void *[]){in}));
    th_assert_dims(&t, 0, rank, odims);
    assert_memory_equal(t.out_data[0], want, (size_t)n * es);
    th_end(&t);
    free(in);
    free(want);
}

static void test_transpose_perms(void **state)
{
    (void)state;
    const int64_t d4[] = {2, 33, 5, 40};
    run_transpose(EAI_F32, 4, d4, (int64_t[]){0, 2, 3, 1}); /* NCHW -> NHWC */
    run_transpose(EAI_F32, 4, d4, (int64_t[]){0, 3, 1, 2}); /* NHWC -> NCHW */
    run_transpose(EAI_F32, 4, d4, (int64_t[]){0, 1, 3, 2}); /* last two */
    run_transpose(EAI_U8, 4, d4, (int64_t[]){0, 2, 3, 1});
    run_transpose(EAI_I64, 4, d4, (int64_t[]){3, 1, 0, 2}); /* general */
    run_transpose(EAI_F16, 4, d4, (int64_t[]){2, 0, 3, 1});
    run_transpose(EAI_F32, 3, (int64_t[]){3, 4, 5}, NULL); /* default: reversed */
    run_transpose(EAI_F32, 3, (int64_t[]){3, 1, 5}, (int64_t[]){2, 1, 0});
    run_transpose(EAI_BOOL, 2, (int64_t[]){37, 70}, (int64_t[]){1, 0});
    run_transpose(EAI_F64, 5, (int64_t[]){2, 3, 1, 4, 5}, (int64_t[]){4, 0, 3, 2, 1});
    run_transpose(EAI_F32, 2, (int64_t[]){1, 9}, (int64_t[]){1, 0});
}

static void test_transpose_bad_perm(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 3, (int64_t[]){2, 3, 4});
    int y = th_value(&t, "y");
    th_node(&t, "Transpose", (int[]){x}, 1, (int[]){y}, 1);
    th_attr_ints(&t, "perm", (int64_t[]){0, 2, 2}, 3);
    th_output(&t, y);
    th_assert_error(&t, EAI_E_INVALID, "perm is not a permutation");
    th_end(&t);
}

/* ---- Pad ---- */

static void run_pad(const char *mode, const int64_t *pads, const float *value,
                    const int64_t *want_dims, const float *want)
{
    /* x = [[1, 2, 3], [4, 5, 6]] */
    const float a[] = {1, 2, 3, 4, 5, 6};
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 2, (int64_t[]){2, 3});
    int p = th_const(&t, "p", EAI_I64, 1, (int64_t[]){4}, pads);
    int v = value ? th_const(&t, "v", EAI_F32, 0, NULL, value) : th_value(&t, "");
    int y = th_value(&t, "y");
    th_node(&t, "Pad", (int[]){x, p, v}, 3, (int[]){y}, 1);
    th_attr_string(&t, "mode", mode);
    th_output(&t, y);
    TH_RUN_OK(&t, ((const void *[]){a}));
    th_assert_dims(&t, 0, 2, want_dims);
    th_assert_f32_exact(th_out_f32(&t, 0), want, (int)(want_dims[0] * want_dims[1]));
    th_end(&t);
}

static void test_pad_modes(void **state)
{
    (void)state;
    /* np.pad(x, ((0,0),(2,1)), 'reflect') */
    run_pad("reflect", (int64_t[]){0, 2, 0, 1}, NULL, (int64_t[]){2, 6},
            (const float[]){3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5});
    /* np.pad(x, ((1,0),(0,2)), 'edge') */
    run_pad("edge", (int64_t[]){1, 0, 0, 2}, NULL, (int64_t[]){3, 5},
            (const float[]){1, 2, 3, 3, 3, 1, 2, 3, 3, 3, 4, 5, 6, 6, 6});
    /* negative pad crops: np.pad(x[:, 1:], ((0,1),(0,1)), constant_values=9.5) */
    run_pad("constant", (int64_t[]){0, -1, 1, 1}, (const float[]){9.5f}, (int64_t[]){3, 3},
            (const float[]){2, 3, 9.5f, 5, 6, 9.5f, 9.5f, 9.5f, 9.5f});
    /* default value 0: np.pad(x, ((1,0),(0,0))) */
    run_pad("constant", (int64_t[]){1, 0, 0, 0}, NULL, (int64_t[]){3, 3},
            (const float[]){0, 0, 0, 1, 2, 3, 4, 5, 6});
}

static void test_pad_opset18_axes(void **state)
{
    (void)state;
    /* pads only the listed axis: np.pad(x, ((0,0),(1,2)), 'edge') */
    const float a[] = {1, 2, 3, 4, 5, 6};
    th_t t;
    th_begin(&t, 18);
    int x = th_input(&t, "x", EAI_F32, 2, (int64_t[]){2, 3});
    int p = th_const(&t, "p", EAI_I64, 1, (int64_t[]){2}, (int64_t[]){1, 2});
    int ax = th_const(&t, "ax", EAI_I64, 1, (int64_t[]){1}, (int64_t[]){-1});
    int y = th_value(&t, "y");
    th_node(&t, "Pad", (int[]){x, p, th_value(&t, ""), ax}, 4, (int[]){y}, 1);
    th_attr_string(&t, "mode", "edge");
    th_output(&t, y);
    TH_RUN_OK(&t, ((const void *[]){a}));
    th_assert_dims(&t, 0, 2, (int64_t[]){2, 6});
    th_assert_f32_exact(th_out_f32(&t, 0), (const float[]){1, 1, 2, 3, 3, 3, 4, 4, 5, 6, 6, 6}, 12);
    th_end(&t);
}

static void test_pad_bad_mode(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 1, (int64_t[]){3});
    int p = th_const(&t, "p", EAI_I64, 1, (int64_t[]){2}, (int64_t[]){1, 1});
    int y = th_value(&t, "y");
    th_node(&t, "Pad", (int[]){x, p}, 2, (int[]){y}, 1);
    th_attr_string(&t, "mode", "mirror");
    th_output(&t, y);
    th_assert_error(&t, EAI_E_UNSUPPORTED, "mode 'mirror' is not one of constant, reflect, edge");
    th_end(&t);
}

/* ---- Expand, Tile ---- */

static void test_expand(void **state)
{
    (void)state;
    /* np.broadcast_to([[1],[2],[3]], (2,3,4)) */
    th_t t;
    th_begin(&t, 13);
    const float a[] = {1, 2, 3};
    int x = th_input(&t, "x", EAI_F32, 2, (int64_t[]){3, 1});
    int s = th_const(&t, "s", EAI_I64, 1, (int64_t[]){3}, (int64_t[]){2, 1, 4});
    int y = th_value(&t, "y");
    th_node(&t, "Expand", (int[]){x, s}, 2, (int[]){y}, 1);
    th_output(&t, y);
    TH_RUN_OK(&t, ((const void *[]){a}));
    th_assert_dims(&t, 0, 3, (int64_t[]){2, 3, 4});
    float want[24];
    for (int i = 0; i < 24; i++)
        want[i] = (float)(1 + (i / 4) % 3);
    th_assert_f32_exact(th_out_f32(&t, 0), want, 24);
    th_end(&t);
}

static void test_tile(void **state)
{
    (void)state;
    /* np.tile(np.arange(6).reshape(2,3), (2,2)) */
    th_t t;
    th_begin(&t, 13);
    const int64_t a[] = {0, 1, 2, 3, 4, 5};
    int x = th_input(&t, "x", EAI_I64, 2, (int64_t[]){2, 3});
    int r = th_const(&t, "r", EAI_I64, 1, (int64_t[]){2}, (int64_t[]){2, 2});
    int y = th_value(&t, "y");
    th_node(&t, "Tile", (int[]){x, r}, 2, (int[]){y}, 1);
    th_output(&t, y);
    TH_RUN_OK(&t, ((const void *[]){a}));
    th_assert_dims(&t, 0, 2, (int64_t[]){4, 6});
    th_assert_i64(th_out_i64(&t, 0), (const int64_t[]){0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5,
                                                       0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5},
                  24);
    th_end(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concat_negative_axis),
        cmocka_unit_test(test_concat_int64_fold),
        cmocka_unit_test(test_concat_mismatch_error),
        cmocka_unit_test(test_split_unequal_input),
        cmocka_unit_test(test_split_attr_axis1),
        cmocka_unit_test(test_split_num_outputs),
        cmocka_unit_test(test_split_uneven_error),
        cmocka_unit_test(test_slice_1d),
        cmocka_unit_test(test_slice_2d_negative_step_clamped),
        cmocka_unit_test(test_slice_opset9_attrs),
        cmocka_unit_test(test_slice_zero_step_error),
        cmocka_unit_test(test_gather_negative_indices),
        cmocka_unit_test(test_gather_int64_shape_fold),
        cmocka_unit_test(test_gather_out_of_range),
        cmocka_unit_test(test_gather_elements),
        cmocka_unit_test(test_transpose_perms),
        cmocka_unit_test(test_transpose_bad_perm),
        cmocka_unit_test(test_pad_modes),
        cmocka_unit_test(test_pad_opset18_axes),
        cmocka_unit_test(test_pad_bad_mode),
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_tile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
