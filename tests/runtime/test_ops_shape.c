/* Tests of the 'shape' op family (Reshape, Flatten, Squeeze, Unsqueeze,
 * Shape, Size, Identity, Dropout; its Expand and Tile are tested in
 * test_ops_layout.c) and of 'generate' (Cast, Range, ConstantOfShape,
 * EyeLike, NonZero, GatherND, ScatterND). Expected values are by hand, from
 * the ONNX spec's examples, or from numpy 1.24 via /usr/bin/python3 (the
 * expression is in a comment).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/harness.h"
#include "runtime/harness_assert.h"

static float g_x24[24];

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < 24; i++)
        g_x24[i] = (float)i * 0.5f - 3;
    return 0;
}

/* Reshape of a [2, 3, 4] input by a constant shape. */
static void run_reshape(const int64_t *shape, int n, int rank, const int64_t *want)
{
    th_t t;
    th_begin(&t, 14);
    int x = th_input(&t, "x", EAI_F32, 3, (int64_t[]){2, 3, 4});
    int s = th_const(&t, "s", EAI_I64, 1, (int64_t[]){n}, shape);
    int y = th_value(&t, "y");
    th_node(&t, "Reshape", (int[]){x, s}, 2, (int[]){y}, 1);
    th_output(&t, y);
    TH_RUN_OK(&t, ((const void *[]){g_x24}));
    th_assert_dims(&t, 0, rank, want);
    th_assert_f32_exact(th_out_f32(&t, 0), g_x24, 24);
    th_end(&t);
}

static void test_reshape_zero_and_minus_one(void **state)
{
    (void)state;
    run_reshape((int64_t[]){0, -1}, 2, 2, (int64_t[]){2, 12});
    run_reshape((int64_t[]){-1, 0, 2}, 3, 3, (int64_t[]){4, 3, 2});
    run_reshape((int64_t[]){0, 0, 0}, 3, 3, (int64_t[]){2, 3, 4});
    run_reshape((int64_t[]){-1}, 1, 1, (int64_t[]){24});
}

static void test_reshape_errors(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 14);
    int x = th_input(&t, "x", EAI_F32, 3, (int64_t[]){2, 3, 4});
    int s = th_const(&t, "s", EAI_I64, 1, (int64_t[]){2}, (int64_t[]){5, 5});
    int y = th_value(&t, "y");
    th_node(&t, "Reshape", (int[]){x, s}, 2, (int[]){y}, 1);
    th_output(&t, y);
    th_assert_error(&t, EAI_E_INVALID,
                    "cannot reshape 24 elements [2, 3, 4] into [5, 5] (25 elements)");
    th_end(&t);

    /* allowzero = 1: the 0 is a real zero-size dim, so 24 elements cannot fit */
    th_begin(&t, 14);
    x = th_input(&t, "x", EAI_F32, 3, (int64_t[]){2, 3, 4});
    s = th_const(&t, "s", EAI_I64, 1, (int64_t[]){3}, (int64_t[]){0, 3, 4});
    y = th_value(&t, "y");
    th_node(&t, "Reshape", (int[]){x, s}, 2, (int[]){y}, 1);
    th_attr_int(&t, "allowzero", 1);
    th_output(&t, y);
    th_assert_error(&t, EAI_E_INVALID, "(0 elements)");
    th_end(&t);

    /* the shape must be known when the session is planned */
    th_begin(&t, 14);
    x = th_input(&t, "x", EAI_F32, 1, (int64_t[]){4});
    s = th_input(&t, "s", EAI_I64, 1, (int64_t[]){2});
    y = th_value(&t, "y");
    th_node(&t, "Reshape", (int[]){x, s}, 2, (int[]){y}, 1);
    th_output(&t, y);
    th_assert_error(&t, EAI_E_UNSUPPORTED, "must be constant");
    th_end(&t);
}

static void test_pytorch_shape_chain(void **state)
{
    (void)state;
    /* x.view(x.size(0), -1) as PyTorch exports it:
     * Shape -> Gather(0) -> Unsqueeze -> Concat(-1) -> Reshape */
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 3, (int64_t[]){2, 3, 4});
    int shp = th_value(&t, "shp"), n = th_value(&t, "n"), n1 = th_value(&t, "n1");
    int cat = th_value(&t, "cat"), y = th_value(&t, "y");
    int zero = th_const(&t, "zero", EAI_I64, 0, NULL, (int64_t[]){0});
    int ax0 = th_const(&t, "ax0", EAI_I64, 1, (int64_t[]){1}, (int64_t[]){0});
    int m1 = th_const(&t, "m1", EAI_I64, 1, (int64_t[]){1}, (int64_t[]){-1});
    th_node(&t, "Shape", (int[]){x}, 1, (int[]){shp}, 1);
    th_node(&t, "Gather", (int[]){shp, zero}, 2, (int[]){n}, 1);
    th_attr_int(&t, "axis", 0);
    th_node(&t, "Unsqueeze", (int[]){n, ax0}, 2, (int[]){n1}, 1);
    th_node(&t, "Concat", (int[]){n1, m1}, 2, (int[]){cat}, 1);
    th_attr_int(&t, "axis", 0);
    th_node(&t, "Reshape", (int[]){x, cat}, 2, (int[]){y}, 1);
    th_output(&t, y);
    th_output(&t, cat);
    TH_RUN_OK(&t, ((const void *[]){g_x24}));
    th_assert_dims(&t, 0, 2, (int64_t[]){2, 12});
    th_assert_f32_exact(th_out_f32(&t, 0), g_x24, 24);
    th_assert_i64(th_out_i64(&t, 1), (const int64_t[]){2, -1}, 2);
    th_end(&t);
}

static void test_shape_start_end_and_size(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 15);
    float buf[120] = {0};
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){2, 3, 4, 5});
    int s = th_value(&t, "s"), s2 = th_value(&t, "s2"), n = th_value(&t, "n");
    th_node(&t, "Shape", (int[]){x}, 1, (int[]){s}, 1);
    th_attr_int(&t, "start", 1);
    th_attr_int(&t, "end", -1);
    th_node(&t, "Shape", (int[]){x}, 1, (int[]){s2}, 1);
    th_attr_int(&t, "start", -10); /* clamped to 0 */
    th_node(&t, "Size", (int[]){x}, 1, (int[]){n}, 1);
    th_output(&t, s);
    th_output(&t, s2);
    th_output(&t, n);
    TH_RUN_OK(&t, ((const void *[]){buf}));
    th_assert_dims(&t, 0, 1, (int64_t[]){2});
    th_assert_i64(th_out_i64(&t, 0), (const int64_t[]){3, 4}, 2);
    th_assert_i64(th_out_i64(&t, 1), (const int64_t[]){2, 3, 4, 5}, 4);
    assert_int_equal(th_out_info(&t, 2)->rank, 0);
    assert_int_equal(th_out_i64(&t, 2)[0], 120);
    th_end(&t);
}

static void test_flatten_squeeze_unsqueeze(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 3, (int64_t[]){2, 3, 4});
    int f = th_value(&t, "f"), f0 = th_value(&t, "f0"), u = th_value(&t, "u");
    int q = th_value(&t, "q");
    th_node(&t, "Flatten", (int[]){x}, 1, (int[]){f}, 1);
    th_attr_int(&t, "axis", -1);
    th_node(&t, "Flatten", (int[]){x}, 1, (int[]){f0}, 1);
    th_attr_int(&t, "axis", 0);
    int axes = th_const(&t, "axes", EAI_I64, 1, (int64_t[]){2}, (int64_t[]){-1, 0});
    th_node(&t, "Unsqueeze", (int[]){x, axes}, 2, (int[]){u}, 1);
    th_node(&t, "Squeeze", (int[]){u}, 1, (int[]){q}, 1); /* no axes: all 1-dims */
    th_output(&t, f);
    th_output(&t, f0);
    th_output(&t, u);
    th_output(&t, q);
    TH_RUN_OK(&t, ((const void *[]){g_x24}));
    th_assert_dims(&t, 0, 2, (int64_t[]){6, 4});
    th_assert_dims(&t, 1, 2, (int64_t[]){1, 24});
    th_assert_dims(&t, 2, 5, (int64_t[]){1, 2, 3, 4, 1});
    th_assert_dims(&t, 3, 3, (int64_t[]){2, 3, 4});
    th_assert_f32_exact(th_out_f32(&t, 3), g_x24, 24);
    th_end(&t);
}

static void test_squeeze_opset11_attr_and_error(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 11);
    const float a[] = {1, 2, 3};
    int x = th_input(&t, "x", EAI_F32, 3, (int64_t[]){1, 3, 1});
    int y = th_value(&t, "y");
    th_node(&t, "Squeeze", (int[]){x}, 1, (int[]){y}, 1);
    th_attr_ints(&t, "axes", (int64_t[]){0}, 1);
    th_output(&t, y);
    TH_RUN_OK(&t, ((const void *[]){a}));
    th_assert_dims(&t, 0, 2, (int64_t[]){3, 1});
    th_end(&t);

    th_begin(&t, 11);
    x = th_input(&t, "x", EAI_F32, 3, (int64_t[]){1, 3, 1});
    y = th_value(&t, "y");
    th_node(&t, "Squeeze", (int[]){x}, 1, (int[]){y}, 1);
    th_attr_ints(&t, "axes", (int64_t[]){1}, 1);
    th_output(&t, y);
    th_assert_error(&t, EAI_E_INVALID, "cannot squeeze axis 1 of size 3");
    th_end(&t);
}

static void test_dropout(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    const float a[] = {1, -2, 3};
    int x = th_input(&t, "x", EAI_F32, 1, (int64_t[]){3});
    int y = th_value(&t, "y"), m = th_value(&t, "m");
    th_node(&t, "Dropout", (int[]){x}, 1, (int[]){y, m}, 2);
    th_output(&t, y);
    th_output(&t, m);
    TH_RUN_OK(&t, ((const void *[]){a}));
    th_assert_f32_exact(th_out_f32(&t, 0), a, 3);
    assert_int_equal(th_out_info(&t, 1)->dtype, EAI_BOOL);
    assert_memory_equal(t.out_data[1], ((const uint8_t[]){1, 1, 1}), 3);
    th_end(&t);

    th_begin(&t, 13);
    x = th_input(&t, "x", EAI_F32, 1, (int64_t[]){3});
    int r = th_const(&t, "r", EAI_F32, 0, NULL, (const float[]){0.25f});
    int tm = th_const(&t, "tm", EAI_BOOL, 0, NULL, (const uint8_t[]){1});
    y = th_value(&t, "y");
    th_node(&t, "Dropout", (int[]){x, r, tm}, 3, (int[]){y}, 1);
    th_output(&t, y);
    th_assert_error(&t, EAI_E_UNSUPPORTED, "training_mode = true");
    th_end(&t);
}

/* ---- generate.c: Cast, Range, ConstantOfShape, EyeLike, NonZero ---- */

static void test_cast(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    /* np.array([-2.7,-0.5,0.5,2.9,1e3], np.float32).astype(np.int64) */
    const float f[] = {-2.7f, -0.5f, 0.5f, 2.9f, 1e3f};
    const int32_t q[] = {0, 5, -1, 0};
    /* np.array([300, -129]).astype(np.int8) -> [44, 127] */
    const int64_t big[] = {300, -129};
    int x = th_input(&t, "f", EAI_F32, 1, (int64_t[]){5});
    int xi = th_input(&t, "q", EAI_I32, 1, (int64_t[]){4});
    int xb = th_input(&t, "big", EAI_I64, 1, (int64_t[]){2});
    int y = th_value(&t, "y"), b = th_value(&t, "b"), h = th_value(&t, "h"), w = th_value(&t, "w");
    th_node(&t, "Cast", (int[]){x}, 1, (int[]){y}, 1);
    th_attr_int(&t, "to", EAI_I64);
    th_node(&t, "Cast", (int[]){xi}, 1, (int[]){b}, 1);
    th_attr_int(&t, "to", EAI_BOOL);
    th_node(&t, "Cast", (int[]){x}, 1, (int[]){h}, 1);
    th_attr_int(&t, "to", EAI_F16);
    th_node(&t, "Cast", (int[]){xb}, 1, (int[]){w}, 1);
    th_attr_int(&t, "to", EAI_I8);
    th_output(&t, y);
    th_output(&t, b);
    th_output(&t, h);
    th_output(&t, w);
    TH_RUN_OK(&t, ((const void *[]){f, q, big}));
    assert_int_equal(th_out_info(&t, 0)->dtype, EAI_I64);
    th_assert_i64(th_out_i64(&t, 0), (const int64_t[]){-2, 0, 0, 2, 1000}, 5);
    assert_memory_equal(t.out_data[1], ((const uint8_t[]){0, 1, 1, 0}), 4);
    /* np.float16([-2.7, -0.5, 0.5, 2.9, 1e3]).view(np.uint16) */
    const uint16_t *hh = t.out_data[2];
    assert_int_equal(hh[1], 0xb800);
    assert_int_equal(hh[2], 0x3800);
    assert_int_equal(hh[4], 0x63d0);
    assert_memory_equal(t.out_data[3], ((const int8_t[]){44, 127}), 2);
    th_end(&t);

    th_begin(&t, 13);
    x = th_input(&t, "f", EAI_F32, 1, (int64_t[]){5});
    y = th_value(&t, "y");
    th_node(&t, "Cast", (int[]){x}, 1, (int[]){y}, 1);
    th_attr_int(&t, "to", 8); /* STRING */
    th_output(&t, y);
    th_assert_error(&t, EAI_E_UNSUPPORTED, "target dtype");
    th_end(&t);
}

static void test_range(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 11);
    /* np.arange(10, 1, -3) */
    int s = th_const(&t, "s", EAI_I64, 0, NULL, (int64_t[]){10});
    int l = th_const(&t, "l", EAI_I64, 0, NULL, (int64_t[]){1});
    int d = th_const(&t, "d", EAI_I64, 0, NULL, (int64_t[]){-3});
    /* ONNX Range-11: output[i] = start + i * delta in float32, i.e.
     * np.float32(1) + np.float32(i) * np.float32(0.3) (np.arange's own fill
     * differs in the last bit: it derives delta from its first two values) */
    int fs = th_const(&t, "fs", EAI_F32, 0, NULL, (const float[]){1.0f});
    int fl = th_const(&t, "fl", EAI_F32, 0, NULL, (const float[]){2.0f});
    int fd = th_const(&t, "fd", EAI_F32, 0, NULL, (const float[]){0.3f});
    int y = th_value(&t, "y"), z = th_value(&t, "z");
    th_node(&t, "Range", (int[]){s, l, d}, 3, (int[]){y}, 1);
    th_node(&t, "Range", (int[]){fs, fl, fd}, 3, (int[]){z}, 1);
    th_output(&t, y);
    th_output(&t, z);
    TH_RUN_OK(&t, NULL);
    th_assert_dims(&t, 0, 1, (int64_t[]){3});
    th_assert_i64(th_out_i64(&t, 0), (const int64_t[]){10, 7, 4}, 3);
    th_assert_dims(&t, 1, 1, (int64_t[]){4});
    th_assert_f32_exact(th_out_f32(&t, 1),
                        (const float[]){1.0f, 1.299999952f, 1.600000024f, 1.900000095f}, 4);
    th_end(&t);

    th_begin(&t, 11);
    s = th_input(&t, "s", EAI_I64, 0, NULL);
    l = th_const(&t, "l", EAI_I64, 0, NULL, (int64_t[]){1});
    d = th_const(&t, "d", EAI_I64, 0, NULL, (int64_t[]){0});
    y = th_value(&t, "y");
    th_node(&t, "Range", (int[]){s, l, d}, 3, (int[]){y}, 1);
    th_output(&t, y);
    th_assert_error(&t, EAI_E_UNSUPPORTED, "start must be constant");
    th_end(&t);
}

static void test_constant_of_shape(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    int s = th_const(&t, "s", EAI_I64, 1, (int64_t[]){2}, (int64_t[]){2, 3});
    int v = th_const(&t, "v", EAI_I64, 1, (int64_t[]){1}, (int64_t[]){7});
    int y = th_value(&t, "y"), z = th_value(&t, "z");
    th_node(&t, "ConstantOfShape", (int[]){s}, 1, (int[]){y}, 1);
    eai__attr_t a = {.name = "value", .type = EAI__A_TENSOR, .tensor = v};
    assert_int_equal(eai__node_add_attr(&t.g, t.g.n_nodes - 1, &a), EAI_OK);
    th_node(&t, "ConstantOfShape", (int[]){s}, 1, (int[]){z}, 1);
    th_output(&t, y);
    th_output(&t, z);
    TH_RUN_OK(&t, NULL);
    th_assert_dims(&t, 0, 2, (int64_t[]){2, 3});
    th_assert_i64(th_out_i64(&t, 0), (const int64_t[]){7, 7, 7, 7, 7, 7}, 6);
    assert_int_equal(th_out_info(&t, 1)->dtype, EAI_F32);
    th_assert_f32_exact(th_out_f32(&t, 1), (const float[]){0, 0, 0, 0, 0, 0}, 6);
    th_end(&t);
}

static void test_eyelike_nonzero(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    float z12[12] = {0};
    /* np.array(np.nonzero([[0,1.5],[2,0],[0,-3]])) -> [[0,1,2],[1,0,1]] */
    int c = th_const(&t, "c", EAI_F32, 2, (int64_t[]){3, 2}, (const float[]){0, 1.5f, 2, 0, 0, -3});
    int x = th_input(&t, "x", EAI_F32, 2, (int64_t[]){3, 4});
    int e = th_value(&t, "e"), nz = th_value(&t, "nz");
    th_node(&t, "EyeLike", (int[]){x}, 1, (int[]){e}, 1);
    th_attr_int(&t, "k", 1);
    th_node(&t, "NonZero", (int[]){c}, 1, (int[]){nz}, 1);
    th_output(&t, e);
    th_output(&t, nz);
    TH_RUN_OK(&t, ((const void *[]){z12}));
    /* np.eye(3, 4, k=1) */
    th_assert_f32_exact(th_out_f32(&t, 0), (const float[]){0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}, 12);
    th_assert_dims(&t, 1, 2, (int64_t[]){2, 3});
    th_assert_i64(th_out_i64(&t, 1), (const int64_t[]){0, 1, 2, 1, 0, 1}, 6);
    th_end(&t);

    th_begin(&t, 13);
    x = th_input(&t, "x", EAI_F32, 1, (int64_t[]){4});
    nz = th_value(&t, "nz");
    th_node(&t, "NonZero", (int[]){x}, 1, (int[]){nz}, 1);
    th_output(&t, nz);
    th_assert_error(&t, EAI_E_UNSUPPORTED, "depends on the input values");
    th_end(&t);
}

static void test_gathernd_scatternd(void **state)
{
    (void)state;
    th_t t;
    th_begin(&t, 13);
    /* ONNX GatherND spec example 5 (batch_dims = 1):
     * data [[[0,1],[2,3]],[[4,5],[6,7]]], indices [[1],[0]] -> [[2,3],[4,5]] */
    const float d[] = {0, 1, 2, 3, 4, 5, 6, 7};
    const int64_t gi[] = {1, 0};
    /* ONNX ScatterND spec example 1: data [1..8], indices [[4],[3],[1],[7]],
     * updates [9,10,11,12] -> [1,11,3,10,9,6,7,12] */
    const float sd[] = {1, 2, 3, 4, 5, 6, 7, 8};
    const int64_t si[] = {4, 3, 1, 7};
    const float su[] = {9, 10, 11, 12};
    int x = th_input(&t, "d", EAI_F32, 3, (int64_t[]){2, 2, 2});
    int i = th_input(&t, "gi", EAI_I64, 2, (int64_t[]){2, 1});
    int xs = th_input(&t, "sd", EAI_F32, 1, (int64_t[]){8});
    int is = th_input(&t, "si", EAI_I64, 2, (int64_t[]){4, 1});
    int us = th_input(&t, "su", EAI_F32, 1, (int64_t[]){4});
    int g = th_value(&t, "g"), sc = th_value(&t, "sc");
    th_node(&t, "GatherND", (int[]){x, i}, 2, (int[]){g}, 1);
    th_attr_int(&t, "batch_dims", 1);
    th_node(&t, "ScatterND", (int[]){xs, is, us}, 3, (int[]){sc}, 1);
    th_output(&t, g);
    th_output(&t, sc);
    TH_RUN_OK(&t, ((const void *[]){d, gi, sd, si, su}));
    th_assert_dims(&t, 0, 2, (int64_t[]){2, 2});
    th_assert_f32_exact(th_out_f32(&t, 0), (const float[]){2, 3, 4, 5}, 4);
    th_assert_f32_exact(th_out_f32(&t, 1), (const float[]){1, 11, 3, 10, 9, 6, 7, 12}, 8);
    th_end(&t);

    /* a runtime index past the end fails the invoke with the index */
    th_begin(&t, 13);
    const int64_t bad[] = {4, 3, 8, 7};
    xs = th_input(&t, "sd", EAI_F32, 1, (int64_t[]){8});
    is = th_input(&t, "si", EAI_I64, 2, (int64_t[]){4, 1});
    us = th_input(&t, "su", EAI_F32, 1, (int64_t[]){4});
    sc = th_value(&t, "sc");
    th_node(&t, "ScatterND", (int[]){xs, is, us}, 3, (int[]){sc}, 1);
    th_output(&t, sc);
    th_assert_run_error(&t, (const void *[]){sd, bad, su}, EAI_E_INVALID,
                        "index 8 out of range [-8, 8)");
    th_end(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reshape_zero_and_minus_one),
        cmocka_unit_test(test_reshape_errors),
        cmocka_unit_test(test_pytorch_shape_chain),
        cmocka_unit_test(test_shape_start_end_and_size),
        cmocka_unit_test(test_flatten_squeeze_unsqueeze),
        cmocka_unit_test(test_squeeze_opset11_attr_and_error),
        cmocka_unit_test(test_dropout),
        cmocka_unit_test(test_cast),
        cmocka_unit_test(test_range),
        cmocka_unit_test(test_constant_of_shape),
        cmocka_unit_test(test_eyelike_nonzero),
        cmocka_unit_test(test_gathernd_scatternd),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
