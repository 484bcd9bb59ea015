/* The default pipeline (src/opt/pipeline.c) as a whole: one graph with a
 * bit of everything (shape sub-graph, Identity, Dropout, Conv+BN+Relu,
 * SiLU, Gemm, a dead branch) keeps its outputs at batch 1 and 3; a second
 * run finds nothing; every allocation failing in turn gives EAI_E_NOMEM or
 * success, never a crash; and on the committed PyTorch export cnn_small
 * (Conv-BN-Relu, exported with BN kept) the load-time passes fold and fuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "opt_check.h"

static eai_status_t pipeline(eai__graph_t *g, int *n)
{
    eai_build_report_t rep = {0};
    eai_status_t st = eai__opt_default(g, &rep);
    *n = rep.consts_folded + rep.bn_folded + rep.act_fused + rep.nodes_removed;
    return st;
}

static void build(th_t *t)
{
    th_begin(t, 13);
    int x = th_input(t, "x", EAI_F32, 4, (int64_t[]){-1, 3, 8, 8});
    int w1 = oc_const_rand(t, "w1", 4, (int64_t[]){6, 3, 3, 3}, 1, -0.5f, 0.5f);
    int b1 = oc_const_rand(t, "b1", 1, (int64_t[]){6}, 2, -0.5f, 0.5f);
    int c1 = th_value(t, "c1");
    th_node(t, "Conv", (int[]){x, w1, b1}, 3, &c1, 1);
    th_attr_ints(t, "pads", (int64_t[]){1, 1, 1, 1}, 4);
    int bnv[4];
    for (int k = 0; k < 4; k++) {
        char nm[8];
        snprintf(nm, sizeof nm, "bn%d", k);
        bnv[k] = oc_const_rand(t, nm, 1, (int64_t[]){6}, 10 + (uint64_t)k, k == 3 ? 0.5f : -1, 1);
    }
    int n1 = th_value(t, "n1"), r1 = th_value(t, "r1"), i1 = th_value(t, "i1");
    th_node(t, "BatchNormalization", (int[]){c1, bnv[0], bnv[1], bnv[2], bnv[3]}, 5, &n1, 1);
    th_node(t, "Relu", &n1, 1, &r1, 1);
    th_node(t, "Identity", &r1, 1, &i1, 1);
    int w2 = oc_const_rand(t, "w2", 4, (int64_t[]){4, 6, 3, 3}, 3, -0.5f, 0.5f);
    int c2 = th_value(t, "c2"), s2 = th_value(t, "s2"), m2 = th_value(t, "m2");
    th_node(t, "Conv", (int[]){i1, w2}, 2, &c2, 1);
    th_attr_ints(t, "strides", (int64_t[]){2, 2}, 2);
    th_node(t, "Sigmoid", &c2, 1, &s2, 1);
    th_node(t, "Mul", (int[]){s2, c2}, 2, &m2, 1); /* [N, 4, 3, 3] */
    /* flatten by shape arithmetic: [Shape(m2)[0], C*H*W from constants] */
    int sh = th_value(t, "sh"), g0 = th_value(t, "g0"), u0 = th_value(t, "u0");
    int64_t zero = 0, ax0 = 0;
    int iz = th_const(t, "iz", EAI_I64, 0, NULL, &zero);
    int ax = th_const(t, "ax", EAI_I64, 1, (int64_t[]){1}, &ax0);
    th_node(t, "Shape", &m2, 1, &sh, 1);
    th_node(t, "Gather", (int[]){sh, iz}, 2, &g0, 1);
    th_node(t, "Unsqueeze", (int[]){g0, ax}, 2, &u0, 1);
    int64_t dims[3] = {4, 3, 3};
    int dc = th_const(t, "dims", EAI_I64, 1, (int64_t[]){3}, dims);
    int prod = th_value(t, "prod"), cat = th_value(t, "cat"), fl = th_value(t, "fl");
    th_node(t, "ReduceProd", &dc, 1, &prod, 1); /* [36], constants only */
    th_attr_int(t, "keepdims", 1);
    th_node(t, "Concat", (int[]){u0, prod}, 2, &cat, 1);
    th_attr_int(t, "axis", 0);
    th_node(t, "Reshape", (int[]){m2, cat}, 2, &fl, 1);
    int wg = oc_const_rand(t, "wg", 2, (int64_t[]){36, 5}, 4, -0.3f, 0.3f);
    int gm = th_value(t, "gm"), d = th_value(t, "d"), y = th_value(t, "y");
    th_node(t, "Gemm", (int[]){fl, wg}, 2, &gm, 1);
    th_node(t, "Dropout", &gm, 1, &d, 1);
    th_node(t, "Tanh", &d, 1, &y, 1);
    th_output(t, y);
    int dead = th_value(t, "dead");
    th_node(t, "Neg", &c1, 1, &dead, 1); /* a second reader of c1 until DCE runs */
}

static void test_everything(void **state)
{
    th_t t;
    build(&t);
    oc_t o;
    oc_apply(&t, pipeline, &o);
    /* the dead Neg goes before BN folding looks at c1's readers */
    assert_int_equal(oc_count(&o, "Neg"), 0);
    assert_int_equal(oc_count(&o, "BatchNormalization") + oc_count(&o, "Relu"), 0);
    assert_int_equal(oc_count(&o, "FusedConv"), 2);
    assert_int_equal(oc_count(&o, "Identity") + oc_count(&o, "Dropout"), 0);
    assert_int_equal(oc_count(&o, "ReduceProd"), 0);
    assert_int_equal(oc_count(&o, "Sigmoid") + oc_count(&o, "Mul"), 0);
    assert_int_equal(oc_count(&o, "Shape"), 1); /* the batch: not folded */
    assert_int_equal(oc_count(&o, "FusedGemm"), 1);
    assert_int_equal(oc_count(&o, "Tanh"), 0);
    int n = -1;
    assert_int_equal(pipeline(&o.after, &n), EAI_OK);
    assert_int_equal(n, 0);
    oc_equiv(&t, &o, 1e-5);
    oc_end(&t, &o);
}

static void test_out_of_memory(void **state)
{
    th_t t;
    build(&t);
    assert_int_equal(eai__graph_finish(&t.g), EAI_OK);
    int n_ok = 0;
    long k;
    for (k = 1; k < 5000 && n_ok < 3; k++) {
        eai__graph_t g;
        assert_int_equal(eai__graph_clone(&g, &t.g), EAI_OK);
        eai__test_fail_alloc(k);
        eai_status_t st = eai__opt_default(&g, NULL);
        eai__test_fail_alloc(0);
        if (st == EAI_OK)
            n_ok++;
        else if (st != EAI_E_NOMEM)
            fail_msg("allocation %ld: want EAI_E_NOMEM, got %s: %s", k, eai_status_str(st),
                     eai_last_error());
        eai__graph_free(&g);
    }
    assert_true(n_ok == 3);
    assert_true(k > 50); /* the passes did allocate, and each failure was survived */
    th_end(&t);
}

typedef struct hist {
    const char *op;
    int n;
} hist_t;

static void hist_cb(const char *op, int count, void *user)
{
    hist_t *h = user;
    if (strcmp(op, h->op) == 0) h->n = count;
}

static int n_op(const eai_model_t *m, const char *op)
{
    hist_t h = {op, 0};
    eai_model_op_histogram(m, hist_cb, &h);
    return h.n;
}

static void test_pytorch_export(void **state)
{
    eai_model_t *plain, *opt;
    eai_model_opts_t no = {.no_optimize = true};
    assert_int_equal(eai_model_load(EAI_SOURCE_DIR "/models/cnn_small.onnx", &no, &plain), EAI_OK);
    assert_int_equal(eai_model_load(EAI_SOURCE_DIR "/models/cnn_small.onnx", NULL, &opt), EAI_OK);
    assert_int_equal(n_op(plain, "BatchNormalization"), 1);
    assert_int_equal(n_op(opt, "BatchNormalization"), 0);
    assert_int_equal(n_op(opt, "Relu"), 0);
    assert_int_equal(n_op(opt, "FusedConv"), 1);
    eai_model_stats_t sp, so;
    eai_model_get_stats(plain, &sp);
    eai_model_get_stats(opt, &so);
    assert_int_equal(sp.n_nodes - so.n_nodes, 2);
    eai_model_destroy(plain);
    eai_model_destroy(opt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_everything),
        cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_pytorch_export),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
