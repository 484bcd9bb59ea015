/* The planned arena of each fixture model must not grow more than 5% over
 * the recorded baseline (tests/runtime/arena_baseline.txt), the TFLM
 * memory-threshold idea: a planner regression fails here, not in the field.
 * When the planner improves, record the smaller figure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edgeai/edgeai.h"

static void test_arena_baseline(void **state)
{
    FILE *f = fopen(EAI_SOURCE_DIR "/tests/runtime/arena_baseline.txt", "r");
    assert_non_null(f);
    char line[512];
    int n_models = 0, n_bad = 0;
    while (fgets(line, sizeof line, f)) {
        char path[256];
        long batch;
        unsigned long long baseline;
        if (line[0] == '#' || sscanf(line, "%255s %ld %llu", path, &batch, &baseline) != 3)
            continue;
        char full[600];
        snprintf(full, sizeof full, "%s/%s", EAI_SOURCE_DIR, path);
        eai_model_t *m;
        eai_session_t *s;
        if (eai_model_load(full, NULL, &m) != EAI_OK) fail_msg("%s", eai_last_error());
        eai_session_opts_t o = {.batch = batch};
        if (eai_session_create(m, &o, &s) != EAI_OK) fail_msg("%s", eai_last_error());
        size_t arena = eai_session_arena_bytes(s);
        double ratio = (double)arena / (double)baseline;
        printf("%-40s batch %-3ld arena %9zu baseline %9llu (%.3fx)%s\n", path, batch, arena,
               baseline, ratio,
               ratio > 1.05   ? "  GREW"
               : ratio < 0.95 ? "  (shrank: update)"
                              : "");
        n_bad += ratio > 1.05;
        n_models++;
        eai_session_destroy(s);
        eai_model_destroy(m);
    }
    fclose(f);
    assert_true(n_models > 0);
    assert_int_equal(n_bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_arena_baseline)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
