/* scripts/fl_reference.py --batch-order edgeai rebuilds the permutations
 * edgeai's FL clients draw (bench/issue4.py's side-by-side runs depend on
 * it): its Python xoshiro256** / splitmix64 / Fisher-Yates must give the
 * very order eai_shuffle_i32(idx, n, eai__fl_seed(seed, round, client,
 * epoch)) gives. Runs the script's functions with /usr/bin/python3 (Debian's
 * python3-torch, which the script imports); skips without them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "data/data_impl.h"
#include "edgeai/dataset.h"
#include "fl/fl_impl.h"

#define N 1000

static void check(uint64_t seed, uint64_t round, uint64_t client, uint64_t epoch)
{
    int32_t want[N];
    for (int i = 0; i < N; i++)
        want[i] = i;
    eai_shuffle_i32(want, N, eai__fl_seed(seed, round, client, epoch));
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import importlib.util as u; "
             "s = u.spec_from_file_location('r', 'scripts/fl_reference.py'); "
             "m = u.module_from_spec(s); s.loader.exec_module(m); "
             "print(*m.eai_shuffle(range(%d), m.fl_seed(%llu, %llu, %llu, %llu)))\" 2>/dev/null",
             N, (unsigned long long)seed, (unsigned long long)round, (unsigned long long)client,
             (unsigned long long)epoch);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    int got[N], n = 0;
    while (n < N && fscanf(p, "%d", &got[n]) == 1)
        n++;
    pclose(p);
    assert_int_equal(n, N);
    for (int i = 0; i < N; i++)
        assert_int_equal(got[i], want[i]);
}

static void test_same_permutations(void **state)
{
    (void)state;
    /* only a missing interpreter or torch skips; a script that fails fails */
    if (access("/usr/bin/python3", X_OK) != 0 ||
        system("/usr/bin/python3 -c 'import torch, onnx, numpy' > /dev/null 2>&1") != 0)
        skip();
    check(1, 0, 0, 0);
    check(7, 3, 2, 1);
    check(0xFFFFFFFFull, 49, 9, 9); /* large seed: 64-bit wrap-around in Python */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_permutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
