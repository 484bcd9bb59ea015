/* Training kernels for activations, Softmax/LogSoftmax, the shape ops,
 * Add/Sub/Mul, BatchNormalization and Dropout: central-difference gradient
 * checks at the prepared batch and a smaller one, forward against the
 * inference runtime (ref backend) or hand-computed values, bad inputs, and
 * the op table itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "train/top_test.h"

/* One-input node on x of the given dims; attributes added by `attrs`. */
static void unary_case(const char *op, int opset, int rank, const int64_t *dims,
                       void (*attrs)(th_t *), bool avoid_zero)
{
    tt_t t;
    tt_begin(&t, opset);
    int x = th_input(&t.th, "x", EAI_F32, rank, dims);
    int y = th_value(&t.th, "y");
    th_node(&t.th, op, (int[]){x}, 1, (int[]){y}, 1);
    if (attrs) attrs(&t.th);
    th_output(&t.th, y);
    tt_prepare_ok(&t);
    if (avoid_zero) /* keep inputs off the kink by more than the step */
        for (int64_t i = 0, e = eai__shape_numel(&t.in[0]->shape); i < e; i++)
            if (fabsf(t.in[0]->data[i]) < 0.05f) t.in[0]->data[i] += 0.1f;
    tt_gradcheck(&t, dims[0] - 1);
    tt_gradcheck(&t, dims[0]);
    tt_ref(&t, 1e-6, 1e-5);
    tt_end(&t);
}

static void leaky_alpha(th_t *th)
{
    th_attr_float(th, "alpha", 0.2f);
}
static void axis_1(th_t *th)
{
    th_attr_int(th, "axis", 1);
}
static void axis_2(th_t *th)
{
    th_attr_int(th, "axis", 2);
}
static void axis_m2(th_t *th)
{
    th_attr_int(th, "axis", -2);
}
static void perm_0231(th_t *th)
{
    th_attr_ints(th, "perm", (int64_t[]){0, 2, 3, 1}, 4);
}

static void test_activations(void **state)
{
    const int64_t d[3] = {3, 4, 5};
    unary_case("Relu", 13, 3, d, NULL, true);
    unary_case("LeakyRelu", 13, 3, d, leaky_alpha, true);
    unary_case("LeakyRelu", 13, 3, d, NULL, true); /* default alpha 0.01 */
    unary_case("Sigmoid", 13, 3, d, NULL, false);
    unary_case("Tanh", 13, 3, d, NULL, false);
    unary_case("Identity", 13, 3, d, NULL, false);
}

static void test_softmax(void **state)
{
    const int64_t d[3] = {3, 4, 5};
    unary_case("Softmax", 13, 3, d, NULL, false);
    unary_case("LogSoftmax", 13, 3, d, NULL, false);
    unary_case("Softmax", 13, 3, d, axis_1, false);
    unary_case("LogSoftmax", 13, 3, d, axis_m2, false);
    unary_case("Softmax", 11, 3, d, axis_1, false); /* opset 11: flattened at axis 1 */
    unary_case("LogSoftmax", 11, 3, d, NULL, false);
}

static void test_flatten_transpose(void **state)
{
    const int64_t d[4] = {3, 2, 3, 4};
    unary_case("Flatten", 13, 4, d, NULL, false);
    unary_case("Flatten", 13, 4, d, axis_2, false);
    unary_case("Flatten", 13, 4, d, axis_m2, false);
    unary_case("Transpose", 13, 4, d, perm_0231, false);
    unary_case("Transpose", 13, 4, d, NULL, false); /* reversed */
}

/* Reshape of x (graph input dims gdims, prepared at prep_batch) by `shape`;
 * at batch n the output must be `want` (rank wr). */
static void reshape_case(const int64_t *gdims, int64_t prep_batch, const int64_t *shape, int ns,
                         int64_t n, const int64_t *want, int wr)
{
    tt_t t;
    tt_begin(&t, 13);
    t.prep_batch = prep_batch;
    int x = th_input(&t.th, "x", EAI_F32, 4, gdims);
    int s = tt_i64(&t, "s", ns, shape);
    int y = th_value(&t.th, "y");
    th_node(&t.th, "Reshape", (int[]){x, s}, 2, (int[]){y}, 1);
    th_output(&t.th, y);
    tt_prepare_ok(&t);
    tt_gradcheck(&t, n);
    tt_forward(&t); /* the check left the last perturbed output */
    assert_int_equal(t.out[0]->shape.rank, wr);
    for (int i = 0; i < wr; i++)
        assert_int_equal(t.out[0]->shape.d[i], want[i]);
    for (int64_t i = 0, e = eai__shape_numel(&t.in[0]->shape); i < e; i++)
        assert_float_equal(t.out[0]->data[i], t.in[0]->data[i], 0.0f);
    tt_ref(&t, 0.0, 0.0);
    tt_end(&t);
}

static void test_reshape(void **state)
{
    const int64_t g3[4] = {3, 2, 3, 4}, g1[4] = {1, 2, 3, 4};
    /* exported at batch 3 as [3, -1]: the 3 follows the batch */
    reshape_case(g3, 0, (int64_t[]){3, -1}, 2, 2, (int64_t[]){2, 24}, 2);
    reshape_case(g3, 0, (int64_t[]){3, -1}, 2, 3, (int64_t[]){3, 24}, 2);
    /* exported at batch 1 as [1, -1], trained at batch 4 then 3 */
    reshape_case(g1, 4, (int64_t[]){1, -1}, 2, 3, (int64_t[]){3, 24}, 2);
    reshape_case(g1, 4, (int64_t[]){1, 4, 6}, 3, 2, (int64_t[]){2, 4, 6}, 3);
    /* 0 copies a dim, -1 infers; a literal that is not the batch stays */
    reshape_case(g3, 0, (int64_t[]){0, 6, -1}, 3, 2, (int64_t[]){2, 6, 4}, 3);
    reshape_case(g3, 0, (int64_t[]){-1, 8}, 2, 2, (int64_t[]){6, 8}, 2);
    reshape_case(g3, 0, (int64_t[]){2, -1}, 2, 2, (int64_t[]){2, 24}, 2);
}

static void test_concat(void **state)
{
    /* the same value twice along axis 1 (gradients add up) */
    tt_t t;
    tt_begin(&t, 13);
    int x = th_input(&t.th, "x", EAI_F32, 3, (int64_t[]){3, 2, 4});
    int y = th_value(&t.th, "y");
    th_node(&t.th, "Concat", (int[]){x, x}, 2, (int[]){y}, 1);
    th_attr_int(&t.th, "axis", 1);
    th_output(&t.th, y);
    tt_prepare_ok(&t);
    tt_gradcheck(&t, 2);
    tt_gradcheck(&t, 3);
    tt_ref(&t, 0.0, 0.0);
    tt_end(&t);
    /* input and two parameters along the last axis, and along axis 0 */
    for (int axis = -1; axis <= 0; axis++) {
        tt_begin(&t, 13);
        x = th_input(&t.th, "x", EAI_F32, 3, (int64_t[]){3, 2, 4});
        int w = tt_weight(&t, "w", 3, axis ? (int64_t[]){3, 2, 1} : (int64_t[]){2, 2, 4});
        int v = tt_weight(&t, "v", 3, axis ? (int64_t[]){3, 2, 3} : (int64_t[]){1, 2, 4});
        y = th_value(&t.th, "y");
        th_node(&t.th, "Concat", (int[]){x, w, v}, 3, (int[]){y}, 1);
        th_attr_int(&t.th, "axis", axis);
        th_output(&t.th, y);
        tt_prepare_ok(&t);
        tt_gradcheck(&t, 3);
        tt_ref(&t, 0.0, 0.0);
        tt_end(&t);
    }
}

/* Binary op on input x and parameter w (w first when w_left). */
static void binary_case(const char *op, int rx, const int64_t *dx, int rw, const int64_t *dw,
                        bool w_left, bool small_batch)
{
    tt_t t;
    tt_begin(&t, 13);
    int x = th_input(&t.th, "x", EAI_F32, rx, dx);
    int w = tt_weight(&t, "w", rw, dw);
    int y = th_value(&t.th, "y");
    th_node(&t.th, op, w_left ? (int[]){w, x} : (int[]){x, w}, 2, (int[]){y}, 1);
    th_output(&t.th, y);
    tt_prepare_ok(&t);
    if (small_batch) tt_gradcheck(&t, dx[0] - 1);
    tt_gradcheck(&t, dx[0]);
    tt_ref(&t, 1e-6, 1e-6);
    tt_end(&t);
}

static void test_binary(void **state)
{
    static const char *const ops[] = {"Add", "Sub", "Mul"};
    const int64_t x3[3] = {3, 4, 5}, x4[4] = {3, 2, 3, 3};
    for (int i = 0; i < 3; i++) {
        for (int left = 0; left <= 1; left++) {
            binary_case(ops[i], 3, x3, 3, x3, left, false); /* same shape */
            binary_case(ops[i], 3, x3, 2, (int64_t[]){4, 1}, left, true);
            binary_case(ops[i], 3, x3, 1, (int64_t[]){5}, left, true);
            binary_case(ops[i], 3, x3, 3, (int64_t[]){1, 4, 5}, left, true);
            binary_case(ops[i], 3, x3, 0, (int64_t[]){1}, left, true); /* scalar */
            binary_case(ops[i], 4, x4, 3, (int64_t[]){2, 1, 1}, left, true);
            binary_case(ops[i], 2, (int64_t[]){3, 1}, 2, (int64_t[]){1, 4}, left, true);
        }
    }
    /* x * x: one value consumed twice gets both gradients */
    tt_t t;
    tt_begin(&t, 13);
    int x = th_input(&t.th, "x", EAI_F32, 2, (int64_t[]){3, 4});
    int y = th_value(&t.th, "y");
    th_node(&t.th, "Mul", (int[]){x, x}, 2, (int[]){y}, 1);
    th_output(&t.th, y);
    tt_prepare_ok(&t);
    tt_gradcheck(&t, 2);
    tt_ref(&t, 1e-6, 1e-6);
    tt_end(&t);
}

/* ---- BatchNormalization ---- */

static void build_bn(tt_t *t, int rank, const int64_t *dx)
{
    int64_t c = dx[1];
    int x = th_input(&t->th, "x", EAI_F32, rank, dx);
    int sc = tt_weight(t, "scale", 1, (int64_t[]){c});
    int b = tt_weight(t, "bias", 1, (int64_t[]){c});
    int mean = tt_weight_scaled(t, "mean", 1, (int64_t[]){c}, 0.5f);
    float var[8];
    for (int i = 0; i < c; i++)
        var[i] = 0.5f + 0.25f * (float)i;
    int v = th_const(&t->th, "var", EAI_F32, 1, (int64_t[]){c}, var);
    int y = th_value(&t->th, "y");
    th_node(&t->th, "BatchNormalization", (int[]){x, sc, b, mean, v}, 5, (int[]){y}, 1);
    th_attr_float(&t->th, "epsilon", 1e-3f);
    th_output(&t->th, y);
}

static void test_batchnorm_grad(void **state)
{
    static const int64_t d4[4] = {3, 4, 3, 2}, d2[2] = {5, 3};
    for (int training = 0; training <= 1; training++)
        for (int r = 0; r < 2; r++) {
            tt_t t;
            tt_begin(&t, 13);
            build_bn(&t, r ? 2 : 4, r ? d2 : d4);
            tt_prepare_ok(&t);
            assert_null(t.in[3]->grad); /* buffers: no gradient */
            assert_null(t.in[4]->grad);
            t.c.training = training;
            tt_gradcheck(&t, (r ? d2 : d4)[0] - 1);
            tt_gradcheck(&t, (r ? d2 : d4)[0]);
            if (!training) tt_ref(&t, 1e-5, 1e-5); /* the runtime is inference mode */
            tt_end(&t);
        }
}

/* Training forward against batch statistics computed here in double, and
 * the running statistics' update (momentum 0.9, unbiased variance). */
static void test_batchnorm_training_forward(void **state)
{
    static const int64_t d[4] = {3, 2, 2, 3};
    tt_t t;
    tt_begin(&t, 13);
    build_bn(&t, 4, d);
    tt_prepare_ok(&t);
    for (int64_t i = 0; i < 36; i++) /* a large mean: cancellation would show */
        t.in[0]->data[i] = 100.0f + t.in[0]->data[i];
    float rm0[2], rv0[2];
    memcpy(rm0, t.in[3]->data, sizeof rm0);
    memcpy(rv0, t.in[4]->data, sizeof rv0);
    tt_batch(&t, 2); /* smaller batch than prepared: m = 2 * 6 */
    tt_forward(&t);
    for (int c = 0; c < 2; c++) {
        double s = 0, sq = 0;
        for (int b = 0; b < 2; b++)
            for (int i = 0; i < 6; i++)
                s += t.in[0]->data[(b * 2 + c) * 6 + i];
        double mu = s / 12;
        for (int b = 0; b < 2; b++)
            for (int i = 0; i < 6; i++) {
                double e = t.in[0]->data[(b * 2 + c) * 6 + i] - mu;
                sq += e * e;
            }
        double var = sq / 12;
        for (int b = 0; b < 2; b++)
            for (int i = 0; i < 6; i++) {
                int k = (b * 2 + c) * 6 + i;
                double want = (t.in[0]->data[k] - mu) / sqrt(var + 1e-3) * t.in[1]->data[c] +
                              t.in[2]->data[c];
                assert_float_equal(t.out[0]->data[k], want, 2e-4);
            }
        assert_float_equal(t.in[3]->data[c], 0.9 * rm0[c] + 0.1 * mu, 1e-4);
        assert_float_equal(t.in[4]->data[c], 0.9 * rv0[c] + 0.1 * var * 12 / 11, 1e-5);
    }
    /* eval: running statistics, left unchanged */
    float rm1[2];
    memcpy(rm1, t.in[3]->data, sizeof rm1);
    t.c.training = false;
    tt_forward(&t);
    assert_memory_equal(rm1, t.in[3]->data, sizeof rm1);
    double want0 = (t.in[0]->data[0] - rm1[0]) / sqrt(t.in[4]->data[0] + 1e-3) * t.in[1]->data[0] +
                   t.in[2]->data[0];
    assert_float_equal(t.out[0]->data[0], want0, 1e-3);
    tt_end(&t);
}

/* ---- Dropout ---- */

static void test_dropout(void **state)
{
    for (int as_input = 0; as_input <= 1; as_input++) {
        tt_t t;
        tt_begin(&t, as_input ? 13 : 11);
        int x = th_input(&t.th, "x", EAI_F32, 3, (int64_t[]){3, 10, 10});
        int y = th_value(&t.th, "y");
        if (as_input) {
            float r = 0.3f;
            int rv = th_const(&t.th, "ratio", EAI_F32, 0, NULL, &r);
            th_node(&t.th, "Dropout", (int[]){x, rv}, 2, (int[]){y}, 1);
        } else {
            th_node(&t.th, "Dropout", (int[]){x}, 1, (int[]){y}, 1);
            th_attr_float(&t.th, "ratio", 0.3f);
        }
        th_output(&t.th, y);
        tt_prepare_ok(&t);
        if (as_input) assert_null(t.in[1]->grad); /* the ratio is not trained */
        tt_forward(&t);
        int zeros = 0;
        for (int i = 0; i < 300; i++) {
            float v = t.out[0]->data[i], xi = t.in[0]->data[i];
            if (v == 0.0f)
                zeros++;
            else
                assert_float_equal(v, xi / 0.7f, 1e-6);
        }
        assert_in_range(zeros, 60, 120); /* 90 expected */
        t.max_checks = 60;
        tt_gradcheck(&t, 2); /* same mask per call: the helper reseeds */
        tt_gradcheck(&t, 3);
        t.c.training = false; /* eval: identity, like the runtime */
        tt_gradcheck(&t, 3);
        tt_ref(&t, 0.0, 0.0);
        tt_end(&t);
    }
}

/* ---- bad inputs, op table, generator ---- */

static void one_bad(const char *op, int rank, const int64_t *dims, int n_extra, const int *extra,
                    void (*attrs)(th_t *), eai_status_t want, const char *needle, tt_t *t)
{
    int x = th_input(&t->th, "x", EAI_F32, rank, dims);
    int in[6] = {x};
    for (int i = 0; i < n_extra; i++)
        in[1 + i] = extra[i];
    int y = th_value(&t->th, "y");
    th_node(&t->th, op, in, 1 + n_extra, (int[]){y}, 1);
    if (attrs) attrs(&t->th);
    tt_prepare_fails(t, want, needle);
    tt_end(t);
}

static void axis_5(th_t *th)
{
    th_attr_int(th, "axis", 5);
}
static void perm_bad(th_t *th)
{
    th_attr_ints(th, "perm", (int64_t[]){0, 0, 1}, 3);
}
static void ratio_bad(th_t *th)
{
    th_attr_float(th, "ratio", 1.5f);
}

static void test_bad_inputs(void **state)
{
    const int64_t d3[3] = {2, 3, 4};
    tt_t t;
    tt_begin(&t, 13);
    one_bad("Softmax", 3, d3, 0, NULL, axis_5, EAI_E_FORMAT, "axis 5", &t);
    tt_begin(&t, 13);
    one_bad("Relu", 3, d3, 1, (int[]){tt_weight(&t, "w", 1, (int64_t[]){2})}, NULL, EAI_E_FORMAT,
            "inputs", &t);
    tt_begin(&t, 13);
    one_bad("Flatten", 3, d3, 0, NULL, axis_5, EAI_E_FORMAT, "axis 5", &t);
    tt_begin(&t, 13);
    one_bad("Transpose", 3, d3, 0, NULL, perm_bad, EAI_E_FORMAT, "permutation", &t);
    tt_begin(&t, 13);
    one_bad("Reshape", 3, d3, 1, (int[]){tt_i64(&t, "s", 2, (int64_t[]){7, -1})}, NULL,
            EAI_E_FORMAT, "does not fit", &t);
    tt_begin(&t, 13);
    one_bad("Reshape", 3, d3, 1, (int[]){tt_weight(&t, "s", 1, (int64_t[]){2})}, NULL,
            EAI_E_UNSUPPORTED, "int64", &t);
    tt_begin(&t, 13);
    one_bad("Concat", 3, d3, 1, (int[]){tt_weight(&t, "w", 2, (int64_t[]){3, 4})}, axis_1,
            EAI_E_FORMAT, "does not match", &t);
    tt_begin(&t, 13);
    one_bad("Concat", 3, d3, 0, NULL, NULL, EAI_E_FORMAT, "axis", &t);
    tt_begin(&t, 13);
    one_bad("Add", 3, d3, 1, (int[]){tt_weight(&t, "w", 1, (int64_t[]){5})}, NULL, EAI_E_FORMAT,
            "broadcast", &t);
    tt_begin(&t, 13);
    int w4 = tt_weight(&t, "w", 1, (int64_t[]){4});
    one_bad("BatchNormalization", 3, d3, 4, (int[]){w4, w4, w4, w4}, NULL, EAI_E_FORMAT,
            "must be [3]", &t);
    tt_begin(&t, 11);
    one_bad("Dropout", 3, d3, 0, NULL, ratio_bad, EAI_E_FORMAT, "ratio", &t);
}

static void count_op(const char *name, void *user)
{
    assert_non_null(eai__top_find(name));
    ++*(int *)user;
}

static void test_registry_and_rand(void **state)
{
    static const char *const want[] = {"Gemm",      "MatMul",      "Conv",
                                       "MaxPool",   "AveragePool", "GlobalAveragePool",
                                       "Relu",      "LeakyRelu",   "Sigmoid",
                                       "Tanh",      "Softmax",     "LogSoftmax",
                                       "Flatten",   "Reshape",     "Concat",
                                       "Transpose", "Identity",    "Add",
                                       "Sub",       "Mul",         "BatchNormalization",
                                       "Dropout"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const eai__top_t *op = eai__top_find(want[i]);
        assert_non_null(op);
        assert_string_equal(op->name, want[i]);
    }
    assert_null(eai__top_find("Einsum"));
    assert_null(eai__top_find(NULL));
    int n = 0;
    eai__top_foreach(count_op, &n);
    assert_int_equal(n, (int)(sizeof want / sizeof want[0]));
    assert_int_equal(eai__top_find("BatchNormalization")->buffer_inputs, (1u << 3) | (1u << 4));
    uint64_t s = 1;
    double sum = 0;
    for (int i = 0; i < 100000; i++) {
        float r = eai__train_rand(&s);
        assert_true(r >= 0.0f && r < 1.0f);
        sum += r;
    }
    assert_float_equal(sum / 100000, 0.5, 0.01);
    /* gemm: transposed A and B, beta 1 accumulates */
    const float a[6] = {1, 2, 3, 4, 5, 6}; /* A^T stored as [3 x 2] */
    const float b[6] = {1, 0, 2, 1, 1, 0}; /* B^T stored as [2 x 3] */
    float c[4] = {1, 1, 1, 1};
    eai__train_gemm(true, true, 2, 2, 3, 1.0f, a, 2, b, 3, 1.0f, c, 2);
    /* A = [[1,3,5],[2,4,6]], B = [[1,1],[0,1],[2,0]]: AB = [[11,4],[14,6]] */
    static const float want_c[4] = {12, 5, 15, 7};
    for (int i = 0; i < 4; i++)
        assert_float_equal(c[i], want_c[i], 0.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_activations),
        cmocka_unit_test(test_softmax),
        cmocka_unit_test(test_flatten_transpose),
        cmocka_unit_test(test_reshape),
        cmocka_unit_test(test_concat),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_batchnorm_grad),
        cmocka_unit_test(test_batchnorm_training_forward),
        cmocka_unit_test(test_dropout),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_registry_and_rand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
