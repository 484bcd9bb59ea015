/* Single-op graph harness for tests (see harness.h). Failures while building
 * the graph are programming errors in the test itself: they abort loudly. */
#include "runtime/harness.h"

#include <stdio.h>
#include <stdlib.h>

eai_status_t eai__model_from_graph(eai__graph_t *g, eai_model_t **out);

static void must(eai_status_t st)
{
    if (st != EAI_OK) {
        fprintf(stderr, "harness: %s\n", eai_last_error());
        abort();
    }
}

void th_begin(th_t *t, int opset)
{
    memset(t, 0, sizeof *t);
    must(eai__graph_init(&t->g, NULL, "test"));
    t->g.opset = opset;
}

int th_input(th_t *t, const char *name, eai_dtype_t dt, int rank, const int64_t *dims)
{
    int v;
    must(eai__graph_value(&t->g, name, &v));
    eai__value_t *val = &t->g.values[v];
    val->kind = EAI__V_INPUT;
    val->dtype = dt;
    val->shape.rank = rank;
    for (int i = 0; i < rank; i++) {
        val->shape.d[i] = dims[i];
        if (dims[i] < 0) val->sym[i] = eai__strdup(NULL, "N");
    }
    t->g.inputs = realloc(t->g.inputs, (size_t)(t->g.n_inputs + 1) * sizeof(int));
    t->g.inputs[t->g.n_inputs++] = v;
    return v;
}

int th_const(th_t *t, const char *name, eai_dtype_t dt, int rank, const int64_t *dims,
             const void *data)
{
    eai__shape_t s = {.rank = rank};
    for (int i = 0; i < rank; i++)
        s.d[i] = dims[i];
    size_t bytes = (size_t)eai__shape_numel(&s) * eai_dtype_size(dt);
    void *buf = eai__alloc_aligned(NULL, bytes ? bytes : 1);
    if (bytes) memcpy(buf, data, bytes);
    int v;
    must(eai__graph_add_const(&t->g, name, dt, &s, buf, &v));
    return v;
}

int th_value(th_t *t, const char *name)
{
    if (!name[0]) return -1;
    int v;
    must(eai__graph_value(&t->g, name, &v));
    return v;
}

void th_node(th_t *t, const char *op, const int *in, int n_in, const int *out, int n_out)
{
    char name[32];
    snprintf(name, sizeof name, "n%d", t->g.n_nodes);
    must(eai__graph_add_node(&t->g, name, op, "", in, n_in, out, n_out, NULL));
}

static void add_attr(th_t *t, const eai__attr_t *a)
{
    must(eai__node_add_attr(&t->g, t->g.n_nodes - 1, a));
}

void th_attr_int(th_t *t, const char *name, int64_t v)
{
    eai__attr_t a = {.name = (char *)name, .type = EAI__A_INT, .i = v, .tensor = -1};
    add_attr(t, &a);
}

void th_attr_float(th_t *t, const char *name, float v)
{
    eai__attr_t a = {.name = (char *)name, .type = EAI__A_FLOAT, .f = v, .tensor = -1};
    add_attr(t, &a);
}

void th_attr_ints(th_t *t, const char *name, const int64_t *v, int n)
{
    eai__attr_t a = {
        .name = (char *)name, .type = EAI__A_INTS, .ints = (int64_t *)v, .n = n, .tensor = -1};
    add_attr(t, &a);
}

void th_attr_floats(th_t *t, const char *name, const float *v, int n)
{
    eai__attr_t a = {
        .name = (char *)name, .type = EAI__A_FLOATS, .floats = (float *)v, .n = n, .tensor = -1};
    add_attr(t, &a);
}

void th_attr_string(th_t *t, const char *name, const char *s)
{
    eai__attr_t a = {.name = (char *)name, .type = EAI__A_STRING, .s = (char *)s, .tensor = -1};
    add_attr(t, &a);
}

void th_output(th_t *t, int value)
{
    t->g.outputs = realloc(t->g.outputs, (size_t)(t->g.n_outputs + 1) * sizeof(int));
    t->g.outputs[t->g.n_outputs++] = value;
    t->g.values[value].is_output = true;
}

const char *th_backend(void)
{
    const char *b = getenv("EAI_TEST_BACKEND");
    return b && b[0] ? b : "ref";
}

eai_status_t th_prepare(th_t *t)
{
    if (!t->model) EAI_TRY(eai__model_from_graph(&t->g, &t->model));
    eai_session_opts_t o = {.backend = th_backend()};
    if (!t->sess) EAI_TRY(eai_session_create(t->model, &o, &t->sess));
    return EAI_OK;
}

eai_status_t th_run(th_t *t, const void *const *inputs)
{
    EAI_TRY(th_prepare(t));
    for (int i = 0; i < eai_session_n_inputs(t->sess); i++) {
        eai_tensor_info_t info;
        EAI_TRY(eai_session_input_info(t->sess, i, &info));
        size_t bytes = (size_t)eai_tensor_info_numel(&info) * eai_dtype_size(info.dtype);
        EAI_TRY(eai_session_set_input(t->sess, i, inputs[i], bytes));
    }
    EAI_TRY(eai_session_invoke(t->sess));
    t->n_out = eai_session_n_outputs(t->sess);
    for (int i = 0; i < t->n_out && i < 8; i++)
        EAI_TRY(eai_session_get_output(t->sess, i, &t->out_data[i], &t->out_info[i]));
    return EAI_OK;
}

const eai_tensor_info_t *th_out_info(th_t *t, int i)
{
    return &t->out_info[i];
}

const float *th_out_f32(th_t *t, int i)
{
    return t->out_data[i];
}

const int64_t *th_out_i64(th_t *t, int i)
{
    return t->out_data[i];
}

void th_end(th_t *t)
{
    eai_session_destroy(t->sess);
    eai_model_destroy(t->model);
    if (!t->model) eai__graph_free(&t->g); /* never handed over */
    memset(t, 0, sizeof *t);
}
