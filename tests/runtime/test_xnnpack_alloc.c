/* invoke never allocates, XNNPACK and pthreadpool included: this binary
 * replaces the C allocator for the whole process (libXNNPACK.so and
 * libpthreadpool.so resolve malloc to these definitions, which link-time
 * --wrap cannot reach) and counts calls while a network with convolutions,
 * pooling, elementwise ops, Concat and Gemm runs on xnnpack with 2 threads.
 * Sanitizer builds replace the allocator themselves: the test skips there. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>

#include <cmocka.h>

#include "runtime/xnn_cmp.h"

#if defined(__SANITIZE_ADDRESS__)
#define XA_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XA_SANITIZER 1
#endif
#endif

static atomic_long n_allocs;

#ifndef XA_SANITIZER
/* glibc's own entry points (exported for exactly this kind of hook) */
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t s);
void *__libc_realloc(void *p, size_t n);
void *__libc_memalign(size_t align, size_t n);
void __libc_free(void *p);

void *malloc(size_t n)
{
    atomic_fetch_add(&n_allocs, 1);
    return __libc_malloc(n);
}
void *calloc(size_t n, size_t s)
{
    atomic_fetch_add(&n_allocs, 1);
    return __libc_calloc(n, s);
}
void *realloc(void *p, size_t n)
{
    atomic_fetch_add(&n_allocs, 1);
    return __libc_realloc(p, n);
}
void free(void *p)
{
    __libc_free(p);
}
void *memalign(size_t align, size_t n)
{
    atomic_fetch_add(&n_allocs, 1);
    return __libc_memalign(align, n);
}
void *aligned_alloc(size_t align, size_t n)
{
    atomic_fetch_add(&n_allocs, 1);
    return __libc_memalign(align, n);
}
int posix_memalign(void **out, size_t align, size_t n)
{
    atomic_fetch_add(&n_allocs, 1);
    void *p = __libc_memalign(align, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
#endif

static void test_invoke_never_allocates(void **state)
{
    (void)state;
#ifdef XA_SANITIZER
    skip();
#endif
    XC_REQUIRE_XNNPACK();
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){1, 3, 32, 32});
    float *w1 = th_randv(8 * 3 * 9, 1), *w2 = th_randv(8 * 9, 2), *fw = th_randv(16 * 4, 3);
    int W1 = th_const(&t, "w1", EAI_F32, 4, (int64_t[]){8, 3, 3, 3}, w1);
    int W2 = th_const(&t, "w2", EAI_F32, 4, (int64_t[]){8, 1, 3, 3}, w2);
    int FW = th_const(&t, "fw", EAI_F32, 2, (int64_t[]){16, 4}, fw);
    int c1 = th_value(&t, "c1"), r1 = th_value(&t, "r1"), c2 = th_value(&t, "c2");
    int p = th_value(&t, "p"), cat = th_value(&t, "cat"), s = th_value(&t, "s");
    int g = th_value(&t, "g"), f = th_value(&t, "f"), y = th_value(&t, "y");
    th_node(&t, "Conv", (int[]){x, W1}, 2, &c1, 1);
    th_attr_ints(&t, "pads", (int64_t[]){1, 1, 1, 1}, 4);
    th_node(&t, "HardSwish", &c1, 1, &r1, 1);
    th_node(&t, "Conv", (int[]){r1, W2}, 2, &c2, 1);
    th_attr_ints(&t, "pads", (int64_t[]){1, 1, 1, 1}, 4);
    th_attr_int(&t, "group", 8);
    th_node(&t, "Concat", (int[]){r1, c2}, 2, &cat, 1);
    th_attr_int(&t, "axis", 1);
    th_node(&t, "MaxPool", &cat, 1, &p, 1);
    th_attr_ints(&t, "kernel_shape", (int64_t[]){2, 2}, 2);
    th_attr_ints(&t, "strides", (int64_t[]){2, 2}, 2);
    th_node(&t, "Sigmoid", &p, 1, &s, 1);
    th_node(&t, "GlobalAveragePool", &s, 1, &g, 1);
    th_node(&t, "Flatten", &g, 1, &f, 1);
    th_node(&t, "MatMul", (int[]){f, FW}, 2, &y, 1);
    th_output(&t, y);
    eai_threadpool_t *pool;
    assert_int_equal(eai_threadpool_create(2, &pool), EAI_OK);
    float *in = th_randv(3 * 32 * 32, 4);
    assert_int_equal(th_run_pool(&t, pool, (const void *[]){in}), EAI_OK);
    assert_true(eai__session_n_on(t.sess, "xnnpack") >= 8);
    long before = atomic_load(&n_allocs);
    for (int r = 0; r < 20; r++)
        assert_int_equal(eai_session_invoke(t.sess), EAI_OK);
    assert_int_equal(atomic_load(&n_allocs) - before, 0);
    /* and the counter does count: creating a session allocates */
    eai_session_t *s2;
    eai_session_opts_t o = {.backend = "xnnpack"};
    assert_int_equal(eai_session_create(t.model, &o, &s2), EAI_OK);
    assert_true(atomic_load(&n_allocs) - before > 0);
    eai_session_destroy(s2);
    th_end(&t);
    eai_threadpool_destroy(pool);
    free(w1);
    free(w2);
    free(fw);
    free(in);
}

int main(void)
{
    /* th_prepare / th_run_pool sessions run on this backend */
    setenv("EAI_TEST_BACKEND", "xnnpack", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invoke_never_allocates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
