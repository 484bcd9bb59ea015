/* Constant folding pass (src/opt/fold_const.c): shape sub-graphs fold only
 * where the result is the same for every batch, constant-only sub-graphs
 * always, names of graph outputs survive, and the folded graph computes the
 * same outputs at batch 1 and 3. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "opt_check.h"

/* Reshape(x, Concat(head, Unsqueeze(Gather(Shape(x), idx)), [-1])) with head
 * [0] (copy dim 0) when `lead`, none otherwise. Values are named <tag>0..6,
 * the shape fed to Reshape is <tag>5. */
static int reshape_by_dim(th_t *t, int x, const char *tag, int64_t idx, bool lead)
{
    char nm[8][32];
    for (int i = 0; i < 8; i++)
        snprintf(nm[i], sizeof nm[i], "%s%d", tag, i);
    int shp = th_value(t, nm[0]);
    th_node(t, "Shape", &x, 1, &shp, 1);
    int ix = th_const(t, nm[1], EAI_I64, 0, NULL, &idx);
    int gth = th_value(t, nm[2]);
    th_node(t, "Gather", (int[]){shp, ix}, 2, &gth, 1);
    int64_t zero = 0, m1 = -1;
    int ax = th_const(t, nm[3], EAI_I64, 1, (int64_t[]){1}, &zero);
    int un = th_value(t, nm[4]);
    th_node(t, "Unsqueeze", (int[]){gth, ax}, 2, &un, 1);
    int tail = th_const(t, nm[6], EAI_I64, 1, (int64_t[]){1}, &m1);
    int cat = th_value(t, nm[5]);
    if (lead) {
        char hn[40];
        snprintf(hn, sizeof hn, "%s_head", tag);
        int head = th_const(t, hn, EAI_I64, 1, (int64_t[]){1}, &zero);
        th_node(t, "Concat", (int[]){head, un, tail}, 3, &cat, 1);
    } else {
        th_node(t, "Concat", (int[]){un, tail}, 2, &cat, 1);
    }
    th_attr_int(t, "axis", 0);
    int y = th_value(t, nm[7]);
    th_node(t, "Reshape", (int[]){x, cat}, 2, &y, 1);
    th_output(t, y);
    return y;
}

/* Shape(x)[1] (channels) folds; Shape(x)[0] (the batch) must not. */
static void test_shape_subgraph(void **state)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){-1, 3, 4, 4});
    /* a: [0, C, -1] = [N, 3, 16]; b: [N, -1] = [N, 48] */
    reshape_by_dim(&t, x, "a", 1, true);
    reshape_by_dim(&t, x, "b", 0, false);
    oc_t o;
    oc_apply(&t, eai__opt_fold_constants, &o);
    assert_int_equal(o.n, 3); /* Gather, Unsqueeze, Concat of branch a */
    assert_int_equal(oc_count(&o, "Gather"), 1);
    assert_int_equal(oc_count(&o, "Concat"), 1);
    assert_int_equal(oc_count(&o, "Reshape"), 2);
    /* branch a's Shape is dead now, for DCE; branch b's stays */
    assert_int_equal(oc_count(&o, "Shape"), 2);
    /* the baked shape keeps its name and holds [0, 3, -1] */
    int v = eai__strmap_get(&o.after.names, "a5");
    assert_true(v >= 0);
    assert_int_equal(o.after.values[v].kind, EAI__V_CONST);
    const int64_t *d = o.after.values[v].data;
    assert_int_equal(eai__shape_numel(&o.after.values[v].shape), 3);
    assert_int_equal(d[0], 0);
    assert_int_equal(d[1], 3);
    assert_int_equal(d[2], -1);
    int dce;
    assert_int_equal(eai__opt_dce(&o.after, &dce), EAI_OK);
    assert_int_equal(dce, 1);
    assert_int_equal(oc_count(&o, "Shape"), 1);
    oc_equiv(&t, &o, 0); /* batch 1 and 3: a baked batch would break batch 3 */
    oc_end(&t, &o);
}

/* Constant-only chains fold whatever the inputs; a graph output that is a
 * constant keeps its name. */
static void test_pure_constants(void **state)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 2, (int64_t[]){-1, 5});
    int w = oc_const_rand(&t, "w", 2, (int64_t[]){4, 5}, 7, -1, 1);
    int wt = th_value(&t, "wt");
    th_node(&t, "Transpose", &w, 1, &wt, 1); /* [5, 4] */
    int y = th_value(&t, "y");
    th_node(&t, "MatMul", (int[]){x, wt}, 2, &y, 1);
    th_output(&t, y);
    int a = oc_scalar(&t, "a", 2.0f), b = oc_scalar(&t, "b", 0.5f);
    int s = th_value(&t, "s");
    th_node(&t, "Add", (int[]){a, b}, 2, &s, 1);
    th_output(&t, s);
    oc_t o;
    oc_apply(&t, eai__opt_fold_constants, &o);
    assert_int_equal(o.n, 2);
    assert_int_equal(oc_nodes(&o), 1);
    assert_int_equal(oc_count(&o, "MatMul"), 1);
    int sv = eai__strmap_get(&o.after.names, "s");
    assert_int_equal(o.after.values[sv].kind, EAI__V_CONST);
    assert_float_equal(*(const float *)o.after.values[sv].data, 2.5f, 0);
    oc_equiv(&t, &o, 0);
    oc_end(&t, &o);
}

/* A graph that only works at batch 1: the second probe fails, so only
 * constant-only values are baked, not the Shape-derived one. */
static void test_batch_one_only(void **state)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 2, (int64_t[]){-1, 4});
    int64_t s14[2] = {1, 4};
    int sc = th_const(&t, "s14", EAI_I64, 1, (int64_t[]){2}, s14);
    int r = th_value(&t, "r");
    th_node(&t, "Reshape", (int[]){x, sc}, 2, &r, 1); /* fails for N > 1 */
    int a = oc_scalar(&t, "a", 1.5f), b = oc_scalar(&t, "b", -0.25f);
    int ab = th_value(&t, "ab");
    th_node(&t, "Mul", (int[]){a, b}, 2, &ab, 1);
    int y = th_value(&t, "y");
    th_node(&t, "Mul", (int[]){r, ab}, 2, &y, 1);
    th_output(&t, y);
    reshape_by_dim(&t, x, "c", 0, false);
    oc_t o;
    oc_apply(&t, eai__opt_fold_constants, &o);
    assert_int_equal(o.n, 1); /* Mul(a, b) only */
    assert_int_equal(oc_count(&o, "Mul"), 1);
    assert_int_equal(oc_count(&o, "Gather"), 1);
    oc_equiv_batch(&t, &o, 1, 0);
    oc_end(&t, &o);
}

/* Without symbolic dims every shape is fixed: Shape(x)[0] folds too. */
static void test_fixed_shapes(void **state)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){2, 3, 4, 4});
    reshape_by_dim(&t, x, "b", 0, false);
    oc_t o;
    oc_apply(&t, eai__opt_fold_constants, &o);
    assert_int_equal(o.n, 4); /* Shape, Gather, Unsqueeze, Concat */
    assert_int_equal(oc_nodes(&o), 1);
    oc_equiv(&t, &o, 0);
    oc_end(&t, &o);
}

/* A graph the runtime cannot infer is left alone (the load reports it). */
static void test_unsupported_left_alone(void **state)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 1, (int64_t[]){4});
    int a = oc_scalar(&t, "a", 1.0f);
    int y = th_value(&t, "y");
    th_node(&t, "NoSuchOp", (int[]){x, a}, 2, &y, 1);
    th_output(&t, y);
    assert_int_equal(eai__graph_finish(&t.g), EAI_OK);
    int n = -1;
    assert_int_equal(eai__opt_fold_constants(&t.g, &n), EAI_OK);
    assert_int_equal(n, 0);
    assert_int_equal(t.g.n_nodes, 1);
    th_end(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape_subgraph),         cmocka_unit_test(test_pure_constants),
        cmocka_unit_test(test_batch_one_only),         cmocka_unit_test(test_fixed_shapes),
        cmocka_unit_test(test_unsupported_left_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
