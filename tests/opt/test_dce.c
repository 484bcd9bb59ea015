/* Dead-node elimination (src/opt/dce.c): nodes reaching no graph output go,
 * a multi-output node with one used output stays, initializers only dead
 * nodes read release their bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "opt_check.h"

static void test_dead_branch(void **state)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 2, (int64_t[]){-1, 6});
    int k = oc_const_rand(&t, "k", 1, (int64_t[]){6}, 1, -1, 1);
    int r = th_value(&t, "r"), s = th_value(&t, "s"), u = th_value(&t, "u");
    th_node(&t, "Relu", &x, 1, &r, 1);
    th_output(&t, r);
    th_node(&t, "Add", (int[]){x, k}, 2, &s, 1); /* only dead nodes read k */
    th_node(&t, "Tanh", &s, 1, &u, 1);
    /* Split: one output used, one not: the node stays */
    int64_t sp[2] = {2, 4};
    int spc = th_const(&t, "sp", EAI_I64, 1, (int64_t[]){2}, sp);
    int a = th_value(&t, "a"), b = th_value(&t, "b");
    th_node(&t, "Split", (int[]){x, spc}, 2, (int[]){a, b}, 2);
    th_attr_int(&t, "axis", 1);
    th_output(&t, a);
    oc_t o;
    oc_apply(&t, eai__opt_dce, &o);
    assert_int_equal(o.n, 2);
    assert_int_equal(oc_nodes(&o), 2);
    assert_int_equal(oc_count(&o, "Split"), 1);
    /* k is released: no bytes held for a constant nothing reads */
    int kv = eai__strmap_get(&o.after.names, "k");
    assert_true(o.after.values[kv].kind != EAI__V_CONST);
    assert_null(o.after.values[kv].data);
    /* the Split sizes are still there */
    int sv = eai__strmap_get(&o.after.names, "sp");
    assert_int_equal(o.after.values[sv].kind, EAI__V_CONST);
    oc_equiv(&t, &o, 0);
    oc_end(&t, &o);
}

static void test_nothing_dead(void **state)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 2, (int64_t[]){-1, 6});
    int r = th_value(&t, "r"), y = th_value(&t, "y");
    th_node(&t, "Relu", &x, 1, &r, 1);
    th_node(&t, "Neg", &r, 1, &y, 1);
    th_output(&t, r);
    th_output(&t, y);
    oc_t o;
    oc_apply(&t, eai__opt_dce, &o);
    assert_int_equal(o.n, 0);
    assert_int_equal(oc_nodes(&o), 2);
    oc_equiv(&t, &o, 0);
    oc_end(&t, &o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dead_branch),
        cmocka_unit_test(test_nothing_dead),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
