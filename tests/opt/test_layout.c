/* NHWC layout pass (src/opt/layout.c, layout_sink.c) with a stand-in backend
 * that wants Conv, MaxPool and GlobalAveragePool in NHWC, so it runs without
 * XNNPACK: the structure after the pass (which nodes moved, how many
 * Transposes are left, remapped axes and constants) and, through oc_equiv,
 * that the laid-out graph computes the same outputs on ref (the NHWC twins
 * run through their transposing ref fallback), at batch 1 and 3. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "opt_check.h"
#include "runtime/backend_impl.h"

static bool fake_wants(const eai__opctx_t *c, const eai__op_def_t *op)
{
    const char *o = c->node->op;
    if (strcmp(o, "MaxPool") == 0 && c->n_out > 1 && c->node->out[1] >= 0) return false;
    return strcmp(o, "Conv") == 0 || strcmp(o, "MaxPool") == 0 ||
           strcmp(o, "GlobalAveragePool") == 0;
}

static bool fake_supports(const eai__opctx_t *c, const eai__op_def_t *op)
{
    return false;
}

static const eai__backend_t fake = {
    .name = "fake-nhwc", .wants_nhwc = fake_wants, .supports = fake_supports};
static const eai__backend_t plain = {.name = "plain", .supports = fake_supports};

static eai_status_t layout_fake(eai__graph_t *g, int *n)
{
    return eai__opt_layout(g, &fake, n);
}

static eai_status_t layout_plain(eai__graph_t *g, int *n)
{
    return eai__opt_layout(g, &plain, n);
}

static int count_domain(const oc_t *o, const char *domain)
{
    int n = 0;
    for (int i = 0; i < o->after.n_nodes; i++)
        n += strcmp(o->after.nodes[i].domain, domain) == 0;
    return n;
}

static int64_t node_int(const eai__node_t *n, const char *name)
{
    const eai__attr_t *a = eai__node_attr(n, name);
    assert_non_null(a);
    return a->i;
}

static int conv(th_t *t, const char *name, int x, int c_in, int c_out, int k, int stride,
                uint64_t seed)
{
    char wn[64], yn[64];
    snprintf(wn, sizeof wn, "%s_w", name);
    snprintf(yn, sizeof yn, "%s_y", name);
    int w = oc_const_rand(t, wn, 4, (int64_t[]){c_out, c_in, k, k}, seed, -0.5f, 0.5f);
    int y = th_value(t, yn);
    th_node(t, "Conv", (int[]){x, w}, 2, &y, 1);
    th_attr_ints(t, "pads", (int64_t[]){k / 2, k / 2, k / 2, k / 2}, 4);
    th_attr_ints(t, "strides", (int64_t[]){stride, stride}, 2);
    return y;
}

/* A ResNet-style block: NHWC from the input ToNHWC to the end; Flatten
 * reads GlobalAveragePool's NHWC output (same bytes at 1x1), so the only
 * layout change left is the input's. */
static void test_resnet_block(void **state)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){-1, 3, 16, 16});
    int c1 = conv(&t, "c1", x, 3, 8, 3, 1, 1);
    int r1 = th_value(&t, "r1"), a = th_value(&t, "a"), r2 = th_value(&t, "r2");
    int p = th_value(&t, "p"), g = th_value(&t, "g"), f = th_value(&t, "f");
    int y = th_value(&t, "y");
    th_node(&t, "Relu", &c1, 1, &r1, 1);
    int c2 = conv(&t, "c2", r1, 8, 8, 3, 1, 2);
    th_node(&t, "Add", (int[]){r1, c2}, 2, &a, 1);
    th_node(&t, "Relu", &a, 1, &r2, 1);
    th_node(&t, "MaxPool", &r2, 1, &p, 1);
    th_attr_ints(&t, "kernel_shape", (int64_t[]){2, 2}, 2);
    th_attr_ints(&t, "strides", (int64_t[]){2, 2}, 2);
    th_node(&t, "GlobalAveragePool", &p, 1, &g, 1);
    th_node(&t, "Flatten", &g, 1, &f, 1);
    int w = oc_const_rand(&t, "fc_w", 2, (int64_t[]){8, 5}, 3, -1, 1);
    th_node(&t, "MatMul", (int[]){f, w}, 2, &y, 1);
    th_output(&t, y);
    oc_t o;
    oc_apply(&t, layout_fake, &o);
    assert_int_equal(o.n, 1);
    assert_int_equal(oc_count(&o, "ToNHWC"), 1);
    assert_int_equal(oc_count(&o, "ToNCHW"), 0);
    /* 2 Conv, MaxPool, GAP and the ToNHWC */
    assert_int_equal(count_domain(&o, EAI__DOMAIN_NHWC), 5);
    const eai__node_t *tr = oc_node(&o, "ToNHWC");
    assert_string_equal(o.after.values[tr->in[0]].name, "x");
    oc_equiv(&t, &o, 1e-5);
    oc_end(&t, &o);
}

/* Concat's axis follows the channels (1 -> 3); a per-channel constant
 * [C,1,1] becomes [1,1,1,C]; scalars stay; a graph output gets its NCHW
 * ToNCHW. */
static void test_concat_and_constants(void **state)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){-1, 4, 9, 7});
    int a = conv(&t, "a", x, 4, 6, 3, 2, 1), b = conv(&t, "b", x, 4, 10, 1, 2, 2);
    int cat = th_value(&t, "cat"), m = th_value(&t, "m"), s = th_value(&t, "s");
    th_node(&t, "Concat", (int[]){a, b}, 2, &cat, 1);
    th_attr_int(&t, "axis", 1);
    int k = oc_const_rand(&t, "k", 3, (int64_t[]){16, 1, 1}, 4, 0.5f, 2);
    th_node(&t, "Mul", (int[]){cat, k}, 2, &m, 1);
    th_node(&t, "Add", (int[]){m, oc_scalar(&t, "one", 1.0f)}, 2, &s, 1);
    int y = conv(&t, "out", s, 16, 3, 3, 1, 5);
    th_output(&t, y);
    oc_t o;
    oc_apply(&t, layout_fake, &o);
    assert_int_equal(o.n, 2);
    assert_int_equal(oc_count(&o, "ToNHWC") + oc_count(&o, "ToNCHW"), 2);
    assert_int_equal(node_int(oc_node(&o, "Concat"), "axis"), 3);
    const eai__node_t *mul = oc_node(&o, "Mul");
    const eai__value_t *kv = &o.after.values[mul->in[1]];
    assert_int_equal(kv->kind, EAI__V_CONST);
    assert_int_equal(kv->shape.rank, 4);
    assert_int_equal(kv->shape.d[1], 1);
    assert_int_equal(kv->shape.d[3], 16);
    const eai__node_t *add = oc_node(&o, "Add");
    assert_string_equal(o.after.values[add->in[1]].name, "one");
    oc_equiv(&t, &o, 1e-5);
    oc_end(&t, &o);
}

/* A layout-bound op the rules do not know (Softmax before opset 13, over
 * the channels) reads the NCHW value through a ToNCHW. */
static void test_blocked(void **state)
{
    th_t t;
    th_begin(&t, 11);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){1, 3, 6, 6});
    int c = conv(&t, "c", x, 3, 5, 3, 1, 1);
    int y = th_value(&t, "y");
    th_node(&t, "Softmax", &c, 1, &y, 1);
    th_attr_int(&t, "axis", 1);
    th_output(&t, y);
    oc_t o;
    oc_apply(&t, layout_fake, &o);
    assert_int_equal(o.n, 2);
    const eai__node_t *sm = oc_node(&o, "Softmax");
    assert_string_equal(sm->domain, "");
    assert_string_equal(o.after.values[sm->in[0]].name, "c_y");
    oc_equiv(&t, &o, 1e-5);
    oc_end(&t, &o);
}

/* Softmax at opset 13 over the channels sinks with its axis remapped. */
static void test_softmax_axis(void **state)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){1, 3, 6, 6});
    int c = conv(&t, "c", x, 3, 5, 3, 1, 1);
    int y = th_value(&t, "y");
    th_node(&t, "Softmax", &c, 1, &y, 1);
    th_attr_int(&t, "axis", 1);
    th_output(&t, y);
    oc_t o;
    oc_apply(&t, layout_fake, &o);
    assert_int_equal(o.n, 2);
    assert_int_equal(node_int(oc_node(&o, "Softmax"), "axis"), 3);
    oc_equiv(&t, &o, 1e-5);
    oc_end(&t, &o);
}

/* A model's own Transpose to NHWC cancels against the pass's layout: it is
 * dropped and its readers take the NHWC twin directly. */
static void test_existing_transpose_cancels(void **state)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){1, 3, 6, 5});
    int c = conv(&t, "c", x, 3, 4, 3, 1, 1);
    int tr = th_value(&t, "tr"), y = th_value(&t, "y"), z = th_value(&t, "z");
    th_node(&t, "Transpose", &c, 1, &tr, 1);
    th_attr_ints(&t, "perm", (int64_t[]){0, 2, 3, 1}, 4);
    th_node(&t, "Sigmoid", &tr, 1, &y, 1);
    th_node(&t, "Transpose", &c, 1, &z, 1); /* another order: composed */
    th_attr_ints(&t, "perm", (int64_t[]){0, 3, 2, 1}, 4);
    th_output(&t, y);
    th_output(&t, z);
    oc_t o;
    oc_apply(&t, layout_fake, &o);
    assert_int_equal(o.n, 1); /* the input's ToNHWC */
    assert_int_equal(oc_count(&o, "ToNCHW"), 0);
    assert_int_equal(oc_count(&o, "Transpose"), 1); /* the composed one */
    oc_equiv(&t, &o, 1e-6);
    oc_end(&t, &o);
}

/* Resize (nearest, as YOLO's upsampling) and Split sink: scales permuted,
 * split axis remapped. */
static void test_resize_split(void **state)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){-1, 2, 5, 6});
    int c = conv(&t, "c", x, 2, 6, 3, 1, 1);
    int up = th_value(&t, "up"), s0 = th_value(&t, "s0"), s1 = th_value(&t, "s1");
    int sum = th_value(&t, "sum");
    float sc[4] = {1, 1, 2, 2};
    int scales = th_const(&t, "scales", EAI_F32, 1, (int64_t[]){4}, sc);
    th_node(&t, "Resize", (int[]){c, th_value(&t, ""), scales}, 3, &up, 1);
    th_attr_string(&t, "mode", "nearest");
    int sizes = th_const(&t, "sizes", EAI_I64, 1, (int64_t[]){2}, (int64_t[]){2, 4});
    th_node(&t, "Split", (int[]){up, sizes}, 2, (int[]){s0, s1}, 2);
    th_attr_int(&t, "axis", 1);
    int a = conv(&t, "a", s0, 2, 3, 1, 1, 2), b = conv(&t, "b", s1, 4, 3, 3, 1, 3);
    th_node(&t, "Add", (int[]){a, b}, 2, &sum, 1);
    th_output(&t, sum);
    oc_t o;
    oc_apply(&t, layout_fake, &o);
    assert_int_equal(o.n, 2);
    assert_int_equal(node_int(oc_node(&o, "Split"), "axis"), 3);
    const eai__node_t *rs = oc_node(&o, "Resize");
    const float *ns = o.after.values[rs->in[2]].data;
    assert_true(ns[0] == 1 && ns[1] == 2 && ns[2] == 2 && ns[3] == 1);
    oc_equiv(&t, &o, 1e-5);
    oc_end(&t, &o);
}

/* A YOLO head: Conv -> Reshape [N,A*B,H,W] to [N,A,B,H,W] -> Transpose
 * (0,1,3,4,2): the Reshape reads the conv's NHWC twin as [N,H,W,A,B] and
 * the one Transpose left composes both layout changes. */
static void test_yolo_head(void **state)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){-1, 4, 5, 6});
    int c = conv(&t, "c", x, 4, 3 * 7, 1, 1, 1);
    int64_t shape[5] = {-1, 3, 7, 5, 6};
    int k = th_const(&t, "shape", EAI_I64, 1, (int64_t[]){5}, shape);
    int r = th_value(&t, "r"), y = th_value(&t, "y");
    th_node(&t, "Reshape", (int[]){c, k}, 2, &r, 1);
    th_node(&t, "Transpose", &r, 1, &y, 1);
    th_attr_ints(&t, "perm", (int64_t[]){0, 1, 3, 4, 2}, 5);
    th_output(&t, y);
    oc_t o;
    oc_apply(&t, layout_fake, &o);
    assert_int_equal(o.n, 1); /* the input's: no ToNCHW after the conv */
    assert_int_equal(oc_count(&o, "ToNCHW"), 0);
    assert_int_equal(oc_count(&o, "Transpose"), 1);
    const eai__attr_t *p = eai__node_attr(oc_node(&o, "Reshape") + 0, "allowzero");
    assert_null(p);
    oc_equiv(&t, &o, 1e-5);
    oc_end(&t, &o);
}

/* A conv output that is also a graph output, read by a node that stays NCHW
 * and by another conv: one ToNCHW serves both NCHW readers. */
static void test_shared_output(void **state)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){1, 3, 8, 8});
    int c = conv(&t, "c", x, 3, 4, 3, 1, 1);
    int r = th_value(&t, "r");
    th_node(&t, "ReduceMean", &c, 1, &r, 1);
    th_attr_ints(&t, "axes", (int64_t[]){2, 3}, 2);
    int d = conv(&t, "d", c, 4, 2, 1, 1, 2);
    th_output(&t, c);
    th_output(&t, r);
    th_output(&t, d);
    oc_t o;
    oc_apply(&t, layout_fake, &o);
    assert_int_equal(o.n, 3); /* input, c back, d back */
    oc_equiv(&t, &o, 1e-5);
    oc_end(&t, &o);
}

/* Nothing to do: a backend without wants_nhwc, or no node it wants. */
static void test_nothing_to_do(void **state)
{
    th_t t;
    th_begin(&t, 13);
    int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){1, 3, 8, 8});
    int c = conv(&t, "c", x, 3, 4, 3, 1, 1);
    th_output(&t, c);
    oc_t o;
    oc_apply(&t, layout_plain, &o);
    assert_int_equal(o.n, 0);
    assert_int_equal(oc_nodes(&o), 1);
    assert_string_equal(oc_node(&o, "Conv")->domain, "");
    oc_end(&t, &o);

    th_begin(&t, 13);
    x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){1, 3, 8, 8});
    int y = th_value(&t, "y");
    th_node(&t, "Relu", &x, 1, &y, 1);
    th_output(&t, y);
    oc_apply(&t, layout_fake, &o);
    assert_int_equal(o.n, 0);
    assert_int_equal(oc_nodes(&o), 1);
    oc_end(&t, &o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resnet_block),
        cmocka_unit_test(test_concat_and_constants),
        cmocka_unit_test(test_blocked),
        cmocka_unit_test(test_softmax_axis),
        cmocka_unit_test(test_existing_transpose_cancels),
        cmocka_unit_test(test_resize_split),
        cmocka_unit_test(test_yolo_head),
        cmocka_unit_test(test_shared_output),
        cmocka_unit_test(test_nothing_to_do),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
