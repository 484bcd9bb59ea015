/* Identity removal pass (src/opt/identity.c): Identity, inference Dropout,
 * no-op Cast and same-shape Reshape/Flatten go; graph output names survive;
 * nodes that are not no-ops for every batch stay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "opt_check.h"

static void test_chain(void **state)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 2, (int64_t[]){-1, 6});
    int r = th_value(&t, "r"), i = th_value(&t, "i"), d = th_value(&t, "d");
    int mask = th_value(&t, "mask"), y = th_value(&t, "y");
    th_node(&t, "Relu", &x, 1, &r, 1);
    th_node(&t, "Identity", &r, 1, &i, 1);
    th_node(&t, "Dropout", &i, 1, (int[]){d, mask}, 2); /* mask named, never read */
    th_node(&t, "Sigmoid", &d, 1, &y, 1);
    th_output(&t, y);
    oc_t o;
    oc_apply(&t, eai__opt_remove_identity, &o);
    assert_int_equal(o.n, 2);
    assert_int_equal(oc_nodes(&o), 2);
    assert_int_equal(oc_count(&o, "Identity") + oc_count(&o, "Dropout"), 0);
    oc_equiv(&t, &o, 0);
    oc_end(&t, &o);
}

/* Identity writing a graph output: its input's producer writes the output. */
static void test_graph_output_name(void **state)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 2, (int64_t[]){-1, 6});
    int r = th_value(&t, "r"), y = th_value(&t, "y"), z = th_value(&t, "z");
    th_node(&t, "Relu", &x, 1, &r, 1);
    th_node(&t, "Identity", &r, 1, &y, 1);
    th_node(&t, "Neg", &r, 1, &z, 1); /* another reader of r */
    th_output(&t, y);
    th_output(&t, z);
    oc_t o;
    oc_apply(&t, eai__opt_remove_identity, &o);
    assert_int_equal(o.n, 1);
    assert_int_equal(oc_count(&o, "Identity"), 0);
    assert_string_equal(oc_out_name(&o, oc_node(&o, "Relu"), 0), "y");
    oc_equiv(&t, &o, 0);
    oc_end(&t, &o);
}

/* Nothing to rename: input -> Identity -> output, and an output that is
 * already an output stay. */
static void test_kept(void **state)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 2, (int64_t[]){-1, 6});
    int y = th_value(&t, "y"), r = th_value(&t, "r"), z = th_value(&t, "z");
    th_node(&t, "Identity", &x, 1, &y, 1);
    th_output(&t, y);
    th_node(&t, "Relu", &x, 1, &r, 1);
    th_output(&t, r);
    th_node(&t, "Identity", &r, 1, &z, 1);
    th_output(&t, z);
    oc_t o;
    oc_apply(&t, eai__opt_remove_identity, &o);
    assert_int_equal(o.n, 0);
    assert_int_equal(oc_count(&o, "Identity"), 2);
    oc_equiv(&t, &o, 0);
    oc_end(&t, &o);
}

/* Dropout-12: training_mode false goes; a read mask keeps the node; so does
 * training_mode true (with ratio 0, which the runtime accepts). */
static void test_dropout(void **state)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 2, (int64_t[]){-1, 6});
    uint8_t f = 0, tr = 1;
    int ratio = oc_scalar(&t, "ratio", 0.0f);
    int no = th_const(&t, "no", EAI_BOOL, 0, NULL, &f);
    int yes = th_const(&t, "yes", EAI_BOOL, 0, NULL, &tr);
    int a = th_value(&t, "a"), b = th_value(&t, "b"), bm = th_value(&t, "bm");
    int c = th_value(&t, "c");
    th_node(&t, "Dropout", (int[]){x, ratio, no}, 3, &a, 1);
    th_node(&t, "Dropout", &a, 1, (int[]){b, bm}, 2);
    th_node(&t, "Dropout", (int[]){b, ratio, yes}, 3, &c, 1);
    int y = th_value(&t, "y");
    th_node(&t, "Relu", &c, 1, &y, 1);
    th_output(&t, y);
    th_output(&t, bm);
    oc_t o;
    oc_apply(&t, eai__opt_remove_identity, &o);
    assert_int_equal(o.n, 1);
    assert_int_equal(oc_count(&o, "Dropout"), 2);
    oc_equiv(&t, &o, 0);
    oc_end(&t, &o);
}

/* Cast to the input's dtype goes; a real conversion stays. Reshape and
 * Flatten to the same shape for every batch go; a real reshape stays. */
static void test_cast_reshape(void **state)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 2, (int64_t[]){-1, 6});
    int c = th_value(&t, "c"), d = th_value(&t, "d"), e = th_value(&t, "e");
    th_node(&t, "Cast", &x, 1, &c, 1);
    th_attr_int(&t, "to", EAI_F32);
    th_node(&t, "Cast", &c, 1, &d, 1);
    th_attr_int(&t, "to", EAI_F64);
    th_node(&t, "Cast", &d, 1, &e, 1);
    th_attr_int(&t, "to", EAI_F32);
    int64_t s1[2] = {-1, 6}, s2[2] = {0, 6}, s3[3] = {0, 2, 3};
    int k1 = th_const(&t, "k1", EAI_I64, 1, (int64_t[]){2}, s1);
    int k2 = th_const(&t, "k2", EAI_I64, 1, (int64_t[]){2}, s2);
    int k3 = th_const(&t, "k3", EAI_I64, 1, (int64_t[]){3}, s3);
    int r1 = th_value(&t, "r1"), r2 = th_value(&t, "r2"), f = th_value(&t, "f");
    int r3 = th_value(&t, "r3");
    th_node(&t, "Reshape", (int[]){e, k1}, 2, &r1, 1);
    th_node(&t, "Reshape", (int[]){r1, k2}, 2, &r2, 1);
    th_node(&t, "Flatten", &r2, 1, &f, 1);
    th_node(&t, "Reshape", (int[]){f, k3}, 2, &r3, 1);
    th_output(&t, r3);
    oc_t o;
    oc_apply(&t, eai__opt_remove_identity, &o);
    assert_int_equal(o.n, 4); /* first Cast, two Reshapes, Flatten */
    assert_int_equal(oc_count(&o, "Cast"), 2);
    assert_int_equal(oc_count(&o, "Reshape"), 1);
    assert_int_equal(oc_count(&o, "Flatten"), 0);
    oc_equiv(&t, &o, 0);
    oc_end(&t, &o);
}

/* A reshape that is a no-op only at batch 1 ([N, 6] -> [1, 6]) is kept. */
static void test_reshape_batch_one(void **state)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 2, (int64_t[]){-1, 6});
    int64_t s[2] = {1, 6};
    int k = th_const(&t, "k", EAI_I64, 1, (int64_t[]){2}, s);
    int r = th_value(&t, "r"), y = th_value(&t, "y");
    th_node(&t, "Reshape", (int[]){x, k}, 2, &r, 1);
    th_node(&t, "Relu", &r, 1, &y, 1);
    th_output(&t, y);
    oc_t o;
    oc_apply(&t, eai__opt_remove_identity, &o);
    assert_int_equal(o.n, 0);
    assert_int_equal(oc_count(&o, "Reshape"), 1);
    oc_equiv_batch(&t, &o, 1, 0);
    oc_end(&t, &o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain),        cmocka_unit_test(test_graph_output_name),
        cmocka_unit_test(test_kept),         cmocka_unit_test(test_dropout),
        cmocka_unit_test(test_cast_reshape), cmocka_unit_test(test_reshape_batch_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
