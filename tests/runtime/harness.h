/* Test harness for single-op (and small multi-op) graphs built in C, run
 * through the real model checks and session (ref backend unless
 * $EAI_TEST_BACKEND names another).
 *
 *   th_t t; th_begin(&t, 13);
 *   int x = th_input(&t, "x", EAI_F32, 4, (int64_t[]){1, 1, 3, 3});
 *   int w = th_const(&t, "w", EAI_F32, 4, (int64_t[]){1, 1, 2, 2}, wdata);
 *   int y = th_value(&t, "y");
 *   th_node(&t, "Conv", (int[]){x, w}, 2, (int[]){y}, 1);
 *   th_attr_ints(&t, "pads", (int64_t[]){0, 0, 1, 1}, 4);   // last node
 *   th_output(&t, y);
 *   assert_int_equal(th_run(&t, (const void *[]){xdata}), EAI_OK);
 *   const float *out = th_out_f32(&t, 0); // th_out_info(&t, 0)->dims ...
 *   th_end(&t);
 */
#ifndef EAI_TEST_HARNESS_H
#define EAI_TEST_HARNESS_H

#include <stdint.h>

#include "edgeai/edgeai.h"
#include "model/graph.h"

typedef struct th {
    eai__graph_t g;
    eai_model_t *model;
    eai_session_t *sess;
    eai_tensor_info_t out_info[8];
    const void *out_data[8];
    int n_out;
} th_t;

void th_begin(th_t *t, int opset);
/* Graph input with fixed dims (-1 for a symbolic dim bound to batch=1). */
int th_input(th_t *t, const char *name, eai_dtype_t dt, int rank, const int64_t *dims);
/* Constant (initializer); data copied. */
int th_const(th_t *t, const char *name, eai_dtype_t dt, int rank, const int64_t *dims,
             const void *data);
/* A value name for a node output (or "" for an absent optional input: returns -1). */
int th_value(th_t *t, const char *name);
/* Appends a node; attributes below apply to the last node. */
void th_node(th_t *t, const char *op, const int *in, int n_in, const int *out, int n_out);
void th_attr_int(th_t *t, const char *name, int64_t v);
void th_attr_float(th_t *t, const char *name, float v);
void th_attr_ints(th_t *t, const char *name, const int64_t *v, int n);
void th_attr_floats(th_t *t, const char *name, const float *v, int n);
void th_attr_string(th_t *t, const char *name, const char *s);
void th_output(th_t *t, int value);

/* Loads the graph as a model (all load-time checks), creates a session, sets
 * the inputs in declaration order and invokes. Returns the first failing status
 * (eai_last_error() has the message). */
eai_status_t th_run(th_t *t, const void *const *inputs);
/* Only the load + session-create part (for tests of error messages). */
/* The backend single-op tests run on: $EAI_TEST_BACKEND, else "ref" (these
 * tests check the portable kernels; backends have their own tests). */
const char *th_backend(void);
eai_status_t th_prepare(th_t *t);
const eai_tensor_info_t *th_out_info(th_t *t, int i);
const float *th_out_f32(th_t *t, int i);
const int64_t *th_out_i64(th_t *t, int i);
void th_end(th_t *t);

#endif
