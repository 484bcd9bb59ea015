/* Core: status sentences, string map, thread pool, half floats, allocation
 * failure injection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/core_impl.h"
#include "edgeai/edgeai.h"

static void test_status(void **state)
{
    eai_clear_error();
    assert_string_equal(eai_last_error(), "");
    assert_int_equal(eai_fail(EAI_E_FORMAT, "%s: node %d", "m.onnx", 3), EAI_E_FORMAT);
    assert_string_equal(eai_last_error(), "m.onnx: node 3");
    assert_string_equal(eai_status_str(EAI_E_NOMEM), "EAI_E_NOMEM");
    assert_string_equal(eai_status_str((eai_status_t)99), "EAI_E_UNKNOWN");
}

static void test_strmap(void **state)
{
    eai__strmap_t m;
    assert_int_equal(eai__strmap_init(&m, NULL, 2), EAI_OK);
    char keys[1000][16];
    for (int i = 0; i < 1000; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        assert_int_equal(eai__strmap_put(&m, keys[i], i * 3), EAI_OK);
    }
    for (int i = 0; i < 1000; i++)
        assert_int_equal(eai__strmap_get(&m, keys[i]), i * 3);
    assert_int_equal(eai__strmap_get(&m, "absent"), -1);
    assert_int_equal(eai__strmap_put(&m, keys[5], 7), EAI_OK); /* replace */
    assert_int_equal(eai__strmap_get(&m, keys[5]), 7);
    assert_int_equal((int)m.n, 1000);
    eai__strmap_free(&m);
}

typedef struct sum_job {
    long parts[64];
    int calls[64];
} sum_job_t;

static void sum_part(void *ctx, int ith, int nth)
{
    sum_job_t *j = ctx;
    long s = 0;
    for (long i = ith; i < 100000; i += nth)
        s += i;
    j->parts[ith] = s;
    j->calls[ith]++;
}

static void test_threadpool(void **state)
{
    for (int n = 1; n <= 4; n++) {
        eai_threadpool_t *tp;
        assert_int_equal(eai_threadpool_create(n, &tp), EAI_OK);
        assert_int_equal(eai_threadpool_size(tp), n);
        for (int rep = 0; rep < 200; rep++) { /* many short jobs back to back */
            sum_job_t j = {0};
            eai_threadpool_run(tp, sum_part, &j);
            long total = 0;
            for (int i = 0; i < n; i++) {
                assert_int_equal(j.calls[i], 1);
                total += j.parts[i];
            }
            assert_true(total == 100000L * 99999L / 2);
        }
        eai_threadpool_destroy(tp);
    }
    sum_job_t j = {0};
    eai_threadpool_run(NULL, sum_part, &j); /* NULL pool: caller's thread */
    assert_int_equal(j.calls[0], 1);
    assert_int_equal(eai_threadpool_size(NULL), 1);
    eai_threadpool_t *tp;
    assert_int_equal(eai_threadpool_create(1000, &tp), EAI_E_INVALID);
    eai_threadpool_destroy(NULL);
}

static void test_half(void **state)
{
    /* exact values and rounding cases, bit patterns from IEEE 754 binary16 */
    assert_int_equal(eai_f32_to_f16(1.0f), 0x3c00);
    assert_int_equal(eai_f32_to_f16(-2.0f), 0xc000);
    assert_int_equal(eai_f32_to_f16(65504.0f), 0x7bff);
    assert_int_equal(eai_f32_to_f16(1e6f), 0x7c00);                  /* overflow -> inf */
    assert_int_equal(eai_f32_to_f16(5.960464477539063e-8f), 0x0001); /* smallest subnormal */
    assert_int_equal(eai_f32_to_f16(1.0f + 1.0f / 2048), 0x3c00);    /* tie -> even */
    assert_int_equal(eai_f32_to_f16(1.0f + 3.0f / 2048), 0x3c02);    /* tie -> even (up) */
    assert_true(eai_f16_to_f32(0x3555) > 0.3332f && eai_f16_to_f32(0x3555) < 0.3334f);
    for (uint32_t h = 0; h < 0x7c00; h++) /* every finite positive half round-trips */
        assert_int_equal(eai_f32_to_f16(eai_f16_to_f32((uint16_t)h)), h);
    float nan = eai_f16_to_f32(0x7e00);
    assert_true(nan != nan);
}

static void test_aligned(void **state)
{
    for (size_t n = 1; n < 5000; n += 333) {
        void *p = eai__alloc_aligned(NULL, n);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % EAI_ALIGN, 0);
        memset(p, 0xab, n);
        eai__free_aligned(NULL, p);
    }
    assert_null(eai__alloc_aligned(NULL, SIZE_MAX - 8));
}

static void test_dtype(void **state)
{
    assert_int_equal(eai_dtype_size(EAI_F32), 4);
    assert_int_equal(eai_dtype_size(EAI_I64), 8);
    assert_int_equal(eai_dtype_size((eai_dtype_t)8), 0); /* strings are not stored */
    assert_string_equal(eai_dtype_name(EAI_F16), "float16");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status),     cmocka_unit_test(test_strmap),
        cmocka_unit_test(test_threadpool), cmocka_unit_test(test_half),
        cmocka_unit_test(test_aligned),    cmocka_unit_test(test_dtype),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
