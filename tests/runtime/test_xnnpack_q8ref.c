/* QLinearConcat and QLinearLut as steps of the XNNPACK backend
 * (src/runtime/xnnpack/xnn_q8.c): on a 2-thread pool, large concats that
 * requantise are cut into parts along an outer axis and the ref kernel
 * runs on each part; the others (and every LUT) run whole.
 * Outputs must equal the ref backend's bit for bit (float in ->
 * QuantizeLinear -> node -> DequantizeLinear -> float out), for concats
 * along the last axis (NHWC channels: cut along H), along axis 1 with a
 * batch of 2 (cut along N), along axis 0 (not cut), with inputs that keep
 * the output's scale (copies) and ones that requantise, and for the LUT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "runtime/xnn_cmp.h"

static int quantize(th_t *t, int x, int s, int z, const char *name)
{
    int q = th_value(t, name);
    th_node(t, "QuantizeLinear", (int[]){x, s, z}, 3, &q, 1);
    return q;
}

/* x0 [d0] and x1 [d1] concatenated on `axis`; x1 quantised with its own
 * scale when requant. */
static void concat_case(const int64_t *d0, const int64_t *d1, int axis, bool requant,
                        eai_threadpool_t *pool)
{
    th_t t;
    th_begin(&t, 13);
    int x0 = th_input(&t, "x0", EAI_F32, 4, d0);
    int x1 = th_input(&t, "x1", EAI_F32, 4, d1);
    const float sy = 0.02f, s1 = 0.013f;
    const int8_t zy = -3, z1 = 5;
    int SY = th_const(&t, "sy", EAI_F32, 0, NULL, &sy);
    int ZY = th_const(&t, "zy", EAI_I8, 0, NULL, &zy);
    int S1 = th_const(&t, "s1", EAI_F32, 0, NULL, &s1);
    int Z1 = th_const(&t, "z1", EAI_I8, 0, NULL, &z1);
    int q0 = quantize(&t, x0, SY, ZY, "q0");
    int q1 = requant ? quantize(&t, x1, S1, Z1, "q1") : quantize(&t, x1, SY, ZY, "q1");
    int y = th_value(&t, "y");
    if (requant)
        th_node(&t, "QLinearConcat", (int[]){SY, ZY, q0, SY, ZY, q1, S1, Z1}, 8, &y, 1);
    else
        th_node(&t, "QLinearConcat", (int[]){SY, ZY, q0, SY, ZY, q1, SY, ZY}, 8, &y, 1);
    xc_domain(&t, "com.microsoft");
    th_attr_int(&t, "axis", axis);
    int yf = th_value(&t, "yf");
    th_node(&t, "DequantizeLinear", (int[]){y, SY, ZY}, 3, &yf, 1);
    th_output(&t, yf);
    /* both quantizes, the concat, the dequantize */
    assert_int_equal(xc_compare_tol(&t, 4, 0.0f, 0.0f, pool), 4);
    th_end(&t);
}

static void test_concat(void **state)
{
    (void)state;
    XC_REQUIRE_XNNPACK();
    eai_threadpool_t *pool;
    assert_int_equal(eai_threadpool_create(2, &pool), EAI_OK);
    for (int threads = 1; threads <= 2; threads++) {
        eai_threadpool_t *p = threads == 2 ? pool : NULL;
        for (int rq = 0; rq < 2; rq++) {
            /* NHWC channels: 61 x 67 x 24 outputs, cut along H unevenly */
            concat_case((int64_t[]){1, 61, 67, 16}, (int64_t[]){1, 61, 67, 8}, 3, rq, p);
            concat_case((int64_t[]){1, 61, 67, 16}, (int64_t[]){1, 61, 67, 8}, -1, rq, p);
            /* NCHW channels with a batch of 2: cut along N */
            concat_case((int64_t[]){2, 16, 48, 48}, (int64_t[]){2, 8, 48, 48}, 1, rq, p);
            /* axis 0: nothing before it to cut */
            concat_case((int64_t[]){2, 16, 32, 32}, (int64_t[]){1, 16, 32, 32}, 0, rq, p);
            /* small: stays whole */
            concat_case((int64_t[]){1, 3, 5, 4}, (int64_t[]){1, 3, 5, 2}, 3, rq, p);
        }
    }
    eai_threadpool_destroy(pool);
}

static void lut_case(const int64_t *d, eai_threadpool_t *pool)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 4, d);
    const float s = 0.03f;
    const int8_t z = 2;
    int8_t tab[256];
    uint32_t r = 12345;
    for (int i = 0; i < 256; i++) {
        r = r * 1664525u + 1013904223u;
        tab[i] = (int8_t)(r >> 24);
    }
    int S = th_const(&t, "s", EAI_F32, 0, NULL, &s);
    int Z = th_const(&t, "z", EAI_I8, 0, NULL, &z);
    int T = th_const(&t, "table", EAI_I8, 1, (int64_t[]){256}, tab);
    int q = quantize(&t, x, S, Z, "q");
    int y = th_value(&t, "y");
    th_node(&t, "QLinearLut", (int[]){q, T}, 2, &y, 1);
    xc_domain(&t, "com.edgeai");
    int yf = th_value(&t, "yf");
    th_node(&t, "DequantizeLinear", (int[]){y, S, Z}, 3, &yf, 1);
    th_output(&t, yf);
    assert_int_equal(xc_compare_tol(&t, 3, 0.0f, 0.0f, pool), 3);
    th_end(&t);
}

static void test_lut(void **state)
{
    (void)state;
    XC_REQUIRE_XNNPACK();
    eai_threadpool_t *pool;
    assert_int_equal(eai_threadpool_create(2, &pool), EAI_OK);
    lut_case((int64_t[]){1, 64, 64, 16}, NULL);
    lut_case((int64_t[]){1, 64, 64, 16}, pool);
    lut_case((int64_t[]){1, 61, 67, 9}, pool); /* parts of uneven length */
    lut_case((int64_t[]){1, 2, 3, 5}, pool);   /* small: stays whole */
    eai_threadpool_destroy(pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concat),
        cmocka_unit_test(test_lut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
