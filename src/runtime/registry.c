/* The table of op families compiled into the ref backend. Lookup is linear:
 * it runs once per node at load time, never in invoke. */
#include <string.h>

#include "edgeai/session.h"
#include "runtime/op_impl.h"

extern const eai__op_def_t eai__ref_ops_conv[];
extern const eai__op_def_t eai__ref_ops_gemm[];
extern const eai__op_def_t eai__ref_ops_pool[];
extern const eai__op_def_t eai__ref_ops_unary[];
extern const eai__op_def_t eai__ref_ops_binary[];
extern const eai__op_def_t eai__ref_ops_reduce[];
extern const eai__op_def_t eai__ref_ops_softmax[];
extern const eai__op_def_t eai__ref_ops_norm[];
extern const eai__op_def_t eai__ref_ops_shape[];
extern const eai__op_def_t eai__ref_ops_layout[];
extern const eai__op_def_t eai__ref_ops_resize[];
extern const eai__op_def_t eai__ref_ops_generate[];
extern const eai__op_def_t eai__ref_ops_topk[];
extern const eai__op_def_t eai__ref_ops_einsum[];
extern const eai__op_def_t eai__ref_ops_quant[]; /* also com.microsoft, com.edgeai QLinear* */
extern const eai__op_def_t eai__ref_ops_fused[]; /* domain com.edgeai, not listed below */
extern const eai__op_def_t eai__nhwc_ops[];      /* domain com.edgeai.nhwc (src/runtime/nhwc) */

static const eai__op_def_t *const families[] = {
    eai__ref_ops_conv,   eai__ref_ops_gemm,   eai__ref_ops_pool,    eai__ref_ops_unary,
    eai__ref_ops_binary, eai__ref_ops_reduce, eai__ref_ops_softmax, eai__ref_ops_norm,
    eai__ref_ops_shape,  eai__ref_ops_layout, eai__ref_ops_resize,  eai__ref_ops_generate,
    eai__ref_ops_topk,   eai__ref_ops_einsum, eai__ref_ops_quant,
};

const eai__op_def_t *eai__op_find(const char *domain, const char *name)
{
    /* the graph passes' fused ops (src/opt), in their own domain */
    if (domain && strcmp(domain, "com.edgeai") == 0)
        for (const eai__op_def_t *op = eai__ref_ops_fused; op->name; op++)
            if (strcmp(op->name, name) == 0) return op;
    /* NHWC twins made by the layout pass (src/opt/layout.c) */
    if (domain && strcmp(domain, "com.edgeai.nhwc") == 0)
        for (const eai__op_def_t *op = eai__nhwc_ops; op->name; op++)
            if (strcmp(op->name, name) == 0) return op;
    /* INT8 ops: ONNX Runtime's com.microsoft QLinear* and com.edgeai QLinearLut */
    if (domain && (strcmp(domain, "com.microsoft") == 0 || strcmp(domain, "com.edgeai") == 0))
        for (const eai__op_def_t *op = eai__ref_ops_quant; op->name; op++)
            if (strcmp(op->name, name) == 0) return op;
    /* ONNX's default domain is "" or "ai.onnx" */
    if (domain && domain[0] && strcmp(domain, "ai.onnx") != 0) return NULL;
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
        for (const eai__op_def_t *op = families[f]; op->name; op++)
            if (strcmp(op->name, name) == 0) return op;
    return NULL;
}

void eai__op_foreach(void (*fn)(const eai__op_def_t *op, void *user), void *user)
{
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
        for (const eai__op_def_t *op = families[f]; op->name; op++)
            fn(op, user);
}

typedef struct name_cb {
    void (*fn)(const char *op, void *user);
    void *user;
} name_cb_t;

static void call_name(const eai__op_def_t *op, void *user)
{
    name_cb_t *c = user;
    c->fn(op->name, c->user);
}

void eai_op_foreach(void (*fn)(const char *op, void *user), void *user)
{
    name_cb_t c = {fn, user};
    eai__op_foreach(call_name, &c);
}
