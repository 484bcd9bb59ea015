/* The blocked transpose behind ToNHWC / ToNCHW (src/runtime/nhwc/nhwc.c)
 * against the definition out[n][j][i] = in[n][i][j], for every element
 * size, few rows (the RGB image's 3 planes take a SIMD interleave on
 * AVX-512 CPUs, 64 bytes or 16 floats at a time, the rest scalar), few
 * columns, and tiled shapes; widths around the vector and block sizes;
 * batches; blocks run in reverse order one at a time (as threads may) give
 * the same bytes; nothing past the output changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/nhwc/nhwc_impl.h"

#define GUARD 64

static void one(size_t es, int64_t batch, int64_t rows, int64_t cols)
{
    const size_t n = (size_t)(batch * rows * cols) * es;
    unsigned char *in = malloc(n + 1), *out = malloc(n + GUARD), *want = malloc(n + 1);
    assert_non_null(in);
    assert_non_null(out);
    assert_non_null(want);
    for (size_t i = 0; i < n; i++)
        in[i] = (unsigned char)(i * 131u + i / 7u);
    for (int64_t b = 0; b < batch; b++)
        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < cols; j++)
                memcpy(want + ((size_t)((b * cols + j) * rows + i)) * es,
                       in + ((size_t)((b * rows + i) * cols + j)) * es, es);
    memset(out, 0xA5, n + GUARD);
    eai__nhwc_tr_t t;
    const int64_t blocks = eai__nhwc_tr_plan(&t, out, in, batch, rows, cols, es);
    for (int64_t k = blocks - 1; k >= 0; k--) /* reverse order, one at a time */
        eai__nhwc_tr_run(&t, k, k + 1);
    if (memcmp(out, want, n) != 0) {
        size_t at = 0;
        while (out[at] == want[at])
            at++;
        fail_msg("es %zu batch %ld rows %ld cols %ld: first wrong byte %zu", es, (long)batch,
                 (long)rows, (long)cols, at);
    }
    for (size_t i = n; i < n + GUARD; i++)
        assert_int_equal(out[i], 0xA5);
    free(in);
    free(out);
    free(want);
}

static void test_shapes(void **state)
{
    (void)state;
    static const size_t sizes[] = {1, 2, 4, 8};
    static const int64_t rows[] = {1, 2, 3, 4, 5, 16, 33};
    static const int64_t cols[] = {1, 2, 3, 4, 15, 16, 17, 63, 64, 65, 130, 1023, 1024, 1025, 3001};
    for (size_t e = 0; e < sizeof sizes / sizeof *sizes; e++)
        for (size_t r = 0; r < sizeof rows / sizeof *rows; r++)
            for (size_t c = 0; c < sizeof cols / sizeof *cols; c++)
                one(sizes[e], 1, rows[r], cols[c]);
}

static void test_batches(void **state)
{
    (void)state;
    one(1, 2, 3, 320 * 7 + 5); /* quantized RGB, batch 2 */
    one(4, 3, 3, 224 * 5 + 9); /* float RGB, batch 3 */
    one(4, 2, 100, 3);         /* ToNCHW of a 3-channel image */
    one(1, 2, 40, 24);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
