/* Private to the TF.js importer: tfjs_import.c (JSON, attributes, the node
 * walk), tfjs_weights.c (manifest and shards), tfjs_emit.c (IR values,
 * layouts), tfjs_ops.c + tfjs_ops_nn.c (one mapping per TF op).
 * The one idea: every TF tensor is held
 * as an IR value plus a layout `lay` saying how the IR value is permuted
 * relative to the TF tensor (IR = Transpose(TF, lay.p)). Convolutions want
 * NCHW while TF graphs are NHWC, so conv outputs are tagged [0,3,1,2] and
 * elementwise ops, pads, concats and reductions carry the tag through; a
 * Transpose is emitted only where an op needs TF's own layout (reshape,
 * slicing, graph outputs). TF Transpose ops become a change of tag.
 */
#ifndef EAI_TFJS_IMPL_H
#define EAI_TFJS_IMPL_H

#include <cjson/cJSON.h>

#include "edgeai/log.h"
#include "model/axis_perm.h"
#include "model/graph.h"

/* IR value = Transpose(TF tensor, p). rank 0: identity (plain), any rank. */
typedef eai__perm_t tfj_lay_t;

/* A constant known at import time (weights and small int tensors). */
typedef struct tfj_const {
    eai_dtype_t dt;
    eai__shape_t shape;
    void *data; /* aligned, owned by the importer */
} tfj_const_t;

#define TFJ_N_CACHE 3

/* One output of a TF node. */
typedef struct tfj_port {
    int node; /* owner */
    int v;    /* IR value in layout `lay`; -1 while only `c` is known */
    tfj_lay_t lay;
    eai_dtype_t dt;       /* TF dtype as the IR holds it; UNDEFINED if unknown */
    tfj_const_t *c;       /* import-time data, or NULL */
    const char *out_name; /* graph output this tensor becomes, or NULL */
    /* values of this tensor already materialised in other layouts */
    int n_cache;
    tfj_lay_t cache_lay[TFJ_N_CACHE];
    int cache_v[TFJ_N_CACHE];
} tfj_port_t;

typedef struct tfj_node {
    const cJSON *attr; /* may be NULL */
    const char *name, *op;
    int n_in;
    int *in_node, *in_port;
    int n_ports;
    tfj_port_t *ports;
    int mark;    /* DFS: 0 new, 1 on stack, 2 done */
    int emitted; /* IR nodes emitted for it so far (names the helpers) */
} tfj_node_t;

typedef struct tfj {
    eai__graph_t *g;
    const char *label;
    int n_nodes;
    tfj_node_t *nodes;
    eai__strmap_t by_name; /* TF node name -> index (keys in the cJSON tree) */
    /* weights: every shard of every group, concatenated (as TF.js does) */
    uint8_t *wdata;
    size_t wbytes;
    int n_specs;
    struct tfj_spec *specs;
    eai__strmap_t spec_by_name;
    int uniq;            /* counter for helper value names */
    tfj_const_t **owned; /* every tfj_const_t, freed at the end */
    int n_owned, cap_owned;
} tfj_t;

/* The entry point (to be declared in graph.h): imports json_path and the
 * weight shards next to it into the initialised graph g. */
eai_status_t eai__tfjs_import(eai__graph_t *g, const char *json_path);

/* ---- tfjs_import.c: JSON and attributes ---- */

const cJSON *eai__tfjs_item(const cJSON *o, const char *key); /* NULL-safe lookup */
/* int64 as protobuf JSON writes it (a string) or a number. */
bool eai__tfjs_json_i64(const cJSON *j, int64_t *out);
/* A number or "NaN"/"Infinity"/"-Infinity". */
bool eai__tfjs_json_f64(const cJSON *j, double *out);
/* TensorShapeProto.dim JSON ([{"size":"3"}, {}]; missing size = 0). */
bool eai__tfjs_parse_shape(const cJSON *dims, eai__shape_t *sh);

/* ---- tfjs_weights.c ---- */

/* Reads the shards (relative to json_path's folder) and locates every spec. */
eai_status_t eai__tfjs_load_weights(tfj_t *s, const cJSON *manifest, const char *json_path);
/* Decodes Const node ni's weight (names it in errors). */
eai_status_t eai__tfjs_decode_const(tfj_t *s, int ni, tfj_const_t **out);

/* ---- services for the op mappings ---- */

eai_status_t eai__tfjs_fail(const tfj_t *s, int ni, eai_status_t st, const char *fmt, ...)
    EAI_PRINTF(4, 5);

/* Attributes (TF AttrValue JSON). Absent: default. Wrong type: EAI_E_FORMAT. */
eai_status_t eai__tfjs_attr_int(const tfj_t *s, int ni, const char *name, int64_t def,
                                int64_t *out);
eai_status_t eai__tfjs_attr_float(const tfj_t *s, int ni, const char *name, float def, float *out);
eai_status_t eai__tfjs_attr_bool(const tfj_t *s, int ni, const char *name, bool def, bool *out);
/* `s` (base64 in the file) decoded into buf; def when absent. */
eai_status_t eai__tfjs_attr_str(const tfj_t *s, int ni, const char *name, const char *def,
                                char *buf, size_t cap);
/* list.i; *n = -1 when absent. */
eai_status_t eai__tfjs_attr_ints(const tfj_t *s, int ni, const char *name, int64_t *v, int cap,
                                 int *n);
/* list.s entry k decoded (NULL list or k out of range: *n = count, buf = ""). */
eai_status_t eai__tfjs_attr_strs(const tfj_t *s, int ni, const char *name, int k, char *buf,
                                 size_t cap, int *n);
/* `type` as an IR dtype (DT_FLOAT -> F32 ...); def when absent. */
eai_status_t eai__tfjs_attr_type(const tfj_t *s, int ni, const char *name, eai_dtype_t def,
                                 eai_dtype_t *out);

/* Input k of node ni (its producer's port); inputs are checked to exist. */
tfj_port_t *eai__tfjs_in(const tfj_t *s, int ni, int k);
/* Input k as an import-time constant; EAI_E_UNSUPPORTED naming it if not. */
eai_status_t eai__tfjs_in_const(const tfj_t *s, int ni, int k, const tfj_const_t **out);
/* Integer constant input k (int32/int64, any rank) into v. */
eai_status_t eai__tfjs_in_ints(const tfj_t *s, int ni, int k, int64_t *v, int cap, int *n);
/* Input k as an IR value in layout `lay` (NULL: plain), emitting a Transpose
 * (activation) or permuting the data (constant) once per layout. */
eai_status_t eai__tfjs_in_value(tfj_t *s, int ni, int k, const tfj_lay_t *lay, int *v);
/* Same for any port. A constant port of lower rank than `lay` is padded on
 * the left with 1s first (the broadcast partner of a laid-out tensor). */
eai_status_t eai__tfjs_port_value(tfj_t *s, int ni, tfj_port_t *p, const tfj_lay_t *lay, int *v);
/* New import-time constant of dt and shape (zeroed data), owned by s. */
eai_status_t eai__tfjs_new_tconst(tfj_t *s, int ni, eai_dtype_t dt, const eai__shape_t *shape,
                                  tfj_const_t **out);

/* New IR constant (data copied) named after node ni; `weight`: counted as a
 * model parameter (a re-laid-out weight), else a helper (axes, bounds). */
eai_status_t eai__tfjs_new_const(tfj_t *s, int ni, const char *what, bool weight, eai_dtype_t dt,
                                 int rank, const int64_t *dims, const void *data, int *v);
eai_status_t eai__tfjs_i64_const(tfj_t *s, int ni, const char *what, int n, const int64_t *vals,
                                 bool scalar, int *v);
/* New activation value: port k's final name when `port` >= 0 and lay is plain
 * (the graph output name if it is one), else a helper name. */
eai_status_t eai__tfjs_new_act(tfj_t *s, int ni, int port, const tfj_lay_t *lay, int *v);
/* Appends an IR node named after ni. Attribute calls below add to it. */
eai_status_t eai__tfjs_emit(tfj_t *s, int ni, const char *op, const int *in, int n_in,
                            const int *out, int n_out);
eai_status_t eai__tfjs_set_int(tfj_t *s, const char *name, int64_t v);
eai_status_t eai__tfjs_set_float(tfj_t *s, const char *name, float v);
eai_status_t eai__tfjs_set_ints(tfj_t *s, const char *name, const int64_t *v, int n);
eai_status_t eai__tfjs_set_str(tfj_t *s, const char *name, const char *v);
/* Emits op on `in` into a new value (helper unless port >= 0). */
eai_status_t eai__tfjs_emit1(tfj_t *s, int ni, const char *op, const int *in, int n_in, int port,
                             const tfj_lay_t *lay, int *out);
/* Sets port k of ni: IR value v in layout lay (NULL plain), dtype dt. */
eai_status_t eai__tfjs_set_port(tfj_t *s, int ni, int k, int v, const tfj_lay_t *lay,
                                eai_dtype_t dt);

/* Plain value of port p; a Transpose or constant it has to create is named
 * `name` (the graph output's). */
eai_status_t eai__tfjs_port_plain_named(tfj_t *s, int ni, tfj_port_t *p, const char *name, int *v);

/* ---- layouts ---- */

/* ---- tfjs_ops.c ---- */
/* Maps node ni; its inputs are already mapped. EAI_E_UNSUPPORTED for an op
 * with no mapping, naming the node. */
eai_status_t eai__tfjs_map_node(tfj_t *s, int ni);
/* Output port count of node ni (Split's num_split, TopK's 2, ...). */
int eai__tfjs_n_ports(const tfj_t *s, int ni);

#endif
