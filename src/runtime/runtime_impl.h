/* Runtime internals shared by model loading, the shape pass, the memory
 * planner and the session. */
#ifndef EAI_RUNTIME_IMPL_H
#define EAI_RUNTIME_IMPL_H

#include "edgeai/model.h"
#include "edgeai/session.h"
#include "runtime/backend_impl.h"
#include "runtime/op_impl.h"

struct eai_model {
    eai__graph_t g;
    eai_model_stats_t stats;
    /* A .eai plan loaded with mmap: CONST data points into the mapping
     * (src/plan). NULL otherwise. */
    void *map;
    size_t map_bytes;
    bool fp16_weights; /* eai_model_save stores float weights as half */
    char backend[16];  /* backend the plan was built for ("" = any) */
};

/* .eai plans (src/plan): whether bytes start like a plan; load from a file
 * (mmap, weights not copied) or from memory (copied); release the mapping. */
bool eai__plan_probe(const void *data, size_t n);
eai_status_t eai__plan_load_file(eai_model_t *m, const char *path);
eai_status_t eai__plan_load_memory(eai_model_t *m, const void *data, size_t n);
void eai__plan_release(eai_model_t *m);

/* Shape pass + stats after import (model.c); `optimize` runs the default
 * graph passes first. */
eai_status_t eai__model_finish_load(eai_model_t *m, const eai_model_opts_t *o, bool optimize);

/* A value's state in one shape pass / session. */
typedef struct eai__rvalue {
    eai_dtype_t dtype;
    eai__shape_t shape;
    void *data;     /* CONST or folded: the bytes; else arena pointer after planning */
    bool is_const;  /* known before invoke */
    bool owned;     /* data allocated by this pass (folded) */
    bool known;     /* produced by infer */
    int64_t offset; /* arena offset, -1 if not planned */
    int def, last;  /* kernel index of definition (-1: graph input) and last use */
} eai__rvalue_t;

/* A node that runs in invoke. */
typedef struct eai__kernel {
    int node;
    const eai__op_def_t *op;
    const eai__backend_t *backend;
    void *state;
    eai__opctx_t ctx; /* in/out views, params: fixed after planning */
} eai__kernel_t;

/* Result of the shape pass over a graph. */
typedef struct eai__pass {
    const eai__graph_t *g;
    eai_allocator_t alloc;
    eai__rvalue_t *vals; /* g->n_values */
    eai__kernel_t *kernels;
    int n_kernels;
    size_t scratch_bytes; /* max over kernels */
    size_t const_bytes;   /* folded constants */
    int64_t macs;
} eai__pass_t;

/* Binds symbolic dims of inputs to `bind` (values <= 0 mean 1), infers every
 * shape in topological order, folds nodes whose inputs are all constant and
 * records the others as kernels. Errors name the node. Free with
 * eai__pass_free (also on failure). */
eai_status_t eai__pass_run(eai__pass_t *p, const eai__graph_t *g, const eai_allocator_t *a,
                           int64_t bind);
void eai__pass_free(eai__pass_t *p);

/* Plans arena offsets of every non-constant value by liveness (greedy by
 * size); returns the arena size. */
eai_status_t eai__plan_arena(eai__pass_t *p, size_t *arena_bytes);

#endif
