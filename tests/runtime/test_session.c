/* Session: arena planning by liveness, batch binding, input/output errors,
 * and the promise that invoke never allocates (this binary wraps malloc,
 * calloc, realloc and free at link time and counts them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "runtime/harness.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t s);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
static long n_allocs;
void *__wrap_malloc(size_t n)
{
    n_allocs++;
    return __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t s)
{
    n_allocs++;
    return __real_calloc(n, s);
}
void *__wrap_realloc(void *p, size_t n)
{
    n_allocs++;
    return __real_realloc(p, n);
}
void __wrap_free(void *p)
{
    __real_free(p);
}

/* x[N,64] -> Relu -> Add w -> Relu -> Add w -> Relu -> y: a chain of five
 * activations of which only two are ever live at once. */
static void build_chain(th_t *t)
{
    th_begin(t, 13);
    int x = th_input(t, "x", EAI_F32, 2, (int64_t[]){-1, 64});
    float w[64];
    for (int i = 0; i < 64; i++)
        w[i] = (float)i - 32.0f;
    int wv = th_const(t, "w", EAI_F32, 1, (int64_t[]){64}, w);
    int a = th_value(t, "a"), b = th_value(t, "b"), c = th_value(t, "c"), d = th_value(t, "d");
    int y = th_value(t, "y");
    th_node(t, "Relu", (int[]){x}, 1, (int[]){a}, 1);
    th_node(t, "Add", (int[]){a, wv}, 2, (int[]){b}, 1);
    th_node(t, "Relu", (int[]){b}, 1, (int[]){c}, 1);
    th_node(t, "Add", (int[]){c, wv}, 2, (int[]){d}, 1);
    th_node(t, "Relu", (int[]){d}, 1, (int[]){y}, 1);
    th_output(t, y);
}

static void test_invoke_never_allocates(void **state)
{
    th_t t;
    build_chain(&t);
    float x[64];
    for (int i = 0; i < 64; i++)
        x[i] = (float)(i % 7) - 3.0f;
    assert_int_equal(th_run(&t, (const void *[]){x}), EAI_OK);
    long before = n_allocs;
    for (int r = 0; r < 10; r++)
        assert_int_equal(eai_session_invoke(t.sess), EAI_OK);
    assert_int_equal(n_allocs - before, 0);
    const float *y = th_out_f32(&t, 0);
    for (int i = 0; i < 64; i++) {
        float v = x[i] > 0 ? x[i] : 0;
        v = v + (float)i - 32.0f;
        v = v > 0 ? v : 0;
        v = v + (float)i - 32.0f;
        assert_float_equal(y[i], v > 0 ? v : 0, 0);
    }
    /* 6 values of 256 bytes (x, a..d, y); liveness lets them share: the
     * input and output stay live throughout, the rest alternate in two slots */
    size_t arena = eai_session_arena_bytes(t.sess);
    assert_true(arena <= 4 * 256);
    assert_true(arena >= 3 * 256);
    th_end(&t);
}

/* x[1,64] -> Relu -> a -> Reshape [8,8] -> r -> ReduceSum(axis 1) -> y[8,1].
 * The Reshape is a's last reader, so r takes a's bytes (a view, plan.c):
 * the arena holds x, a = r and y (576 bytes) where a copy would need x, a
 * and r at once (768). */
static void test_reshape_is_a_view(void **state)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 2, (int64_t[]){1, 64});
    int sv = th_const(&t, "s", EAI_I64, 1, (int64_t[]){2}, (int64_t[]){8, 8});
    int av = th_const(&t, "axes", EAI_I64, 1, (int64_t[]){1}, (int64_t[]){1});
    int a = th_value(&t, "a"), r = th_value(&t, "r"), y = th_value(&t, "y");
    th_node(&t, "Relu", (int[]){x}, 1, (int[]){a}, 1);
    th_node(&t, "Reshape", (int[]){a, sv}, 2, (int[]){r}, 1);
    th_node(&t, "ReduceSum", (int[]){r, av}, 2, (int[]){y}, 1);
    th_output(&t, y);
    float xin[64];
    for (int i = 0; i < 64; i++)
        xin[i] = (float)(i % 5) - 2.0f;
    assert_int_equal(th_run(&t, (const void *[]){xin}), EAI_OK);
    for (int k = 0; k < 2; k++) { /* twice: the view holds across invokes */
        const float *yo = th_out_f32(&t, 0);
        for (int row = 0; row < 8; row++) {
            float want = 0;
            for (int i = 8 * row; i < 8 * row + 8; i++)
                want += xin[i] > 0 ? xin[i] : 0;
            assert_float_equal(yo[row], want, 0);
        }
        assert_int_equal(eai_session_invoke(t.sess), EAI_OK);
    }
    assert_true(eai_session_arena_bytes(t.sess) < 3 * 256);
    th_end(&t);
}

static void test_batch_and_errors(void **state)
{
    th_t t;
    build_chain(&t);
    assert_int_equal(th_prepare(&t), EAI_OK);
    eai_session_opts_t o = {.batch = 5};
    eai_session_t *s;
    assert_int_equal(eai_session_create(t.model, &o, &s), EAI_OK);
    eai_tensor_info_t info;
    assert_int_equal(eai_session_input_info(s, 0, &info), EAI_OK);
    assert_int_equal(info.dims[0], 5);
    assert_int_equal(eai_session_output_info(s, 0, &info), EAI_OK);
    assert_int_equal(info.dims[0], 5);
    assert_int_equal(eai_model_output_info(t.model, 0, &info), EAI_OK);
    assert_int_equal(info.dims[0], -1); /* symbolic in the model */
    assert_int_equal(eai_session_invoke(s), EAI_E_STATE);
    assert_non_null(strstr(eai_last_error(), "input 'x' was never set"));
    float small[3] = {0};
    assert_int_equal(eai_session_set_input(s, 0, small, sizeof small), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "takes 1280 bytes"));
    assert_int_equal(eai_session_set_input(s, 3, small, sizeof small), EAI_E_INVALID);
    assert_int_equal(eai_session_input_index(s, "x"), 0);
    assert_int_equal(eai_session_input_index(s, "nope"), -1);
    assert_int_equal(eai_session_output_index(s, "y"), 0);
    eai_session_destroy(s);
    eai_session_opts_t bad = {.backend = "tpu"};
    assert_int_equal(eai_session_create(t.model, &bad, &s), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "unknown backend 'tpu'"));
    th_end(&t);
}

static void test_folding(void **state)
{
    /* Shape -> Gather -> Unsqueeze -> Concat -> Reshape, PyTorch's flatten:
     * all folded at session creation, one kernel (Reshape) remains */
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){-1, 2, 3, 4});
    int shp = th_value(&t, "shp"), n = th_value(&t, "n"), n1 = th_value(&t, "n1");
    int cat = th_value(&t, "cat"), y = th_value(&t, "y");
    int64_t zero = 0, minus1[1] = {-1}, ax0[1] = {0};
    int idx = th_const(&t, "idx", EAI_I64, 0, NULL, &zero);
    int m1 = th_const(&t, "m1", EAI_I64, 1, (int64_t[]){1}, minus1);
    int axes = th_const(&t, "axes", EAI_I64, 1, (int64_t[]){1}, ax0);
    th_node(&t, "Shape", (int[]){x}, 1, (int[]){shp}, 1);
    th_node(&t, "Gather", (int[]){shp, idx}, 2, (int[]){n}, 1);
    th_attr_int(&t, "axis", 0);
    th_node(&t, "Unsqueeze", (int[]){n, axes}, 2, (int[]){n1}, 1);
    th_node(&t, "Concat", (int[]){n1, m1}, 2, (int[]){cat}, 1);
    th_attr_int(&t, "axis", 0);
    th_node(&t, "Reshape", (int[]){x, cat}, 2, (int[]){y}, 1);
    th_output(&t, y);
    float xd[24];
    for (int i = 0; i < 24; i++)
        xd[i] = (float)i;
    assert_int_equal(th_run(&t, (const void *[]){xd}), EAI_OK);
    assert_int_equal(eai_session_n_kernels(t.sess), 1);
    const eai_tensor_info_t *info = th_out_info(&t, 0);
    assert_int_equal(info->rank, 2);
    assert_int_equal(info->dims[0], 1);
    assert_int_equal(info->dims[1], 24);
    assert_float_equal(th_out_f32(&t, 0)[23], 23.0f, 0);
    th_end(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invoke_never_allocates),
        cmocka_unit_test(test_reshape_is_a_view),
        cmocka_unit_test(test_batch_and_errors),
        cmocka_unit_test(test_folding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
