/* TensorFlow.js graph models (model.json + weight shards) -> graph IR.
 * model.json holds a TF GraphDef as JSON (modelTopology.node[], attributes
 * as TF AttrValue JSON with base64 strings) and a weightsManifest
 * (tfjs_weights.c). This file parses and checks the JSON, finds the inputs
 * and outputs (the signature's, else what TF.js picks), walks only the nodes
 * the outputs need, inputs first, and hands each to tfjs_ops.c; the layout
 * scheme is described in tfjs_impl.h.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "model/tfjs_impl.h"

/* ---- messages ---- */

eai_status_t eai__tfjs_fail(const tfj_t *s, int ni, eai_status_t st, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const tfj_node_t *n = &s->nodes[ni];
    return eai_fail(st, "%s: node %d '%s' (%s): %s", s->label, ni, n->name, n->op, msg);
}

/* ---- JSON helpers ---- */

const cJSON *eai__tfjs_item(const cJSON *o, const char *key)
{
    return o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

/* Protobuf JSON writes int64 as strings; accept numbers too. */
bool eai__tfjs_json_i64(const cJSON *j, int64_t *out)
{
    if (cJSON_IsString(j)) {
        char *end;
        errno = 0;
        long long v = strtoll(j->valuestring, &end, 10);
        if (end == j->valuestring || *end || errno) return false;
        *out = v;
        return true;
    }
    if (cJSON_IsNumber(j) && j->valuedouble == floor(j->valuedouble) &&
        fabs(j->valuedouble) < 9.0e15) {
        *out = (int64_t)j->valuedouble;
        return true;
    }
    return false;
}

/* Floats may be "NaN", "Infinity", "-Infinity" in protobuf JSON. */
bool eai__tfjs_json_f64(const cJSON *j, double *out)
{
    if (cJSON_IsNumber(j)) {
        *out = j->valuedouble;
        return true;
    }
    if (cJSON_IsString(j)) {
        char *end;
        double v = strtod(j->valuestring, &end);
        if (end == j->valuestring || *end) return false;
        *out = v;
        return true;
    }
    return false;
}

static int b64_val(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* Base64 (standard or URL alphabet, '=' padding optional) into a C string. */
static bool b64_decode(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (; *in && *in != '='; in++) {
        int v = b64_val((unsigned char)*in);
        if (v < 0) return false;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n + 1 >= cap) return false;
            out[n++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[n] = '\0';
    return true;
}

/* TF DataType (name or enum number) as the IR dtype TF.js computes in:
 * floats are float32, small ints int32 (TF.js has no other kinds); int64 is
 * kept so ONNX shape ops see their native type. */
static eai_dtype_t dtype_of(const cJSON *j)
{
    static const struct {
        const char *name;
        int num;
        eai_dtype_t dt;
    } map[] = {
        {"DT_FLOAT", 1, EAI_F32},   {"DT_DOUBLE", 2, EAI_F32}, {"DT_INT32", 3, EAI_I32},
        {"DT_UINT8", 4, EAI_I32},   {"DT_INT16", 5, EAI_I32},  {"DT_INT8", 6, EAI_I32},
        {"DT_INT64", 9, EAI_I64},   {"DT_BOOL", 10, EAI_BOOL}, {"DT_BFLOAT16", 14, EAI_F32},
        {"DT_UINT16", 17, EAI_I32}, {"DT_HALF", 19, EAI_F32},
    };
    int64_t num = -1;
    bool is_num = eai__tfjs_json_i64(j, &num) && !cJSON_IsString(j);
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if ((is_num && num == map[i].num) ||
            (cJSON_IsString(j) && strcmp(j->valuestring, map[i].name) == 0))
            return map[i].dt;
    return EAI_DTYPE_UNDEFINED;
}

/* ---- attributes ---- */

static const cJSON *attr(const tfj_t *s, int ni, const char *name, const char *field)
{
    return eai__tfjs_item(eai__tfjs_item(s->nodes[ni].attr, name), field);
}

static eai_status_t bad_attr(const tfj_t *s, int ni, const char *name, const char *want)
{
    return eai__tfjs_fail(s, ni, EAI_E_FORMAT, "attribute '%s' must be %s", name, want);
}

eai_status_t eai__tfjs_attr_int(const tfj_t *s, int ni, const char *name, int64_t def, int64_t *out)
{
    const cJSON *j = attr(s, ni, name, "i");
    *out = def;
    if (!eai__tfjs_item(s->nodes[ni].attr, name)) return EAI_OK;
    if (!j) /* proto3 JSON omits zero values: {"i": 0} may be {} */
        return eai__tfjs_item(eai__tfjs_item(s->nodes[ni].attr, name), "list")
                   ? bad_attr(s, ni, name, "an int")
                   : (*out = 0, EAI_OK);
    return eai__tfjs_json_i64(j, out) ? EAI_OK : bad_attr(s, ni, name, "an int");
}

eai_status_t eai__tfjs_attr_float(const tfj_t *s, int ni, const char *name, float def, float *out)
{
    const cJSON *a = eai__tfjs_item(s->nodes[ni].attr, name), *j = eai__tfjs_item(a, "f");
    double v = def;
    if (a && j && !eai__tfjs_json_f64(j, &v)) return bad_attr(s, ni, name, "a float");
    *out = a && !j ? 0.0f : (float)v;
    return EAI_OK;
}

eai_status_t eai__tfjs_attr_bool(const tfj_t *s, int ni, const char *name, bool def, bool *out)
{
    const cJSON *a = eai__tfjs_item(s->nodes[ni].attr, name), *j = eai__tfjs_item(a, "b");
    if (a && j && !cJSON_IsBool(j)) return bad_attr(s, ni, name, "a bool");
    *out = !a ? def : j ? cJSON_IsTrue(j) : false;
    return EAI_OK;
}

eai_status_t eai__tfjs_attr_str(const tfj_t *s, int ni, const char *name, const char *def,
                                char *buf, size_t cap)
{
    const cJSON *j = attr(s, ni, name, "s");
    if (!j) {
        snprintf(buf, cap, "%s", eai__tfjs_item(s->nodes[ni].attr, name) ? "" : def);
        return EAI_OK;
    }
    if (!cJSON_IsString(j) || !b64_decode(j->valuestring, buf, cap))
        return bad_attr(s, ni, name, "a base64 string");
    return EAI_OK;
}

eai_status_t eai__tfjs_attr_ints(const tfj_t *s, int ni, const char *name, int64_t *v, int cap,
                                 int *n)
{
    const cJSON *a = eai__tfjs_item(s->nodes[ni].attr, name);
    *n = -1;
    if (!a) return EAI_OK;
    const cJSON *l = eai__tfjs_item(a, "list");
    if (!l) return bad_attr(s, ni, name, "a list");
    const cJSON *is = eai__tfjs_item(l, "i");
    *n = 0;
    if (!is) return EAI_OK;
    if (!cJSON_IsArray(is) || cJSON_GetArraySize(is) > cap)
        return bad_attr(s, ni, name, "a short list of ints");
    const cJSON *e;
    cJSON_ArrayForEach(e, is)
    {
        if (!eai__tfjs_json_i64(e, &v[*n])) return bad_attr(s, ni, name, "a list of ints");
        (*n)++;
    }
    return EAI_OK;
}

eai_status_t eai__tfjs_attr_strs(const tfj_t *s, int ni, const char *name, int k, char *buf,
                                 size_t cap, int *n)
{
    const cJSON *l = eai__tfjs_item(attr(s, ni, name, "list"), "s");
    buf[0] = '\0';
    *n = cJSON_IsArray(l) ? cJSON_GetArraySize(l) : 0;
    if (k < 0 || k >= *n) return EAI_OK;
    const cJSON *e = cJSON_GetArrayItem(l, k);
    if (!cJSON_IsString(e) || !b64_decode(e->valuestring, buf, cap))
        return bad_attr(s, ni, name, "a list of base64 strings");
    return EAI_OK;
}

eai_status_t eai__tfjs_attr_type(const tfj_t *s, int ni, const char *name, eai_dtype_t def,
                                 eai_dtype_t *out)
{
    const cJSON *j = attr(s, ni, name, "type");
    *out = def;
    if (!j) return EAI_OK;
    *out = dtype_of(j);
    if (*out == EAI_DTYPE_UNDEFINED)
        return eai__tfjs_fail(s, ni, EAI_E_UNSUPPORTED, "attribute '%s': type %s is not supported",
                              name, cJSON_IsString(j) ? j->valuestring : "?");
    return EAI_OK;
}

/* TensorShapeProto JSON: {"dim":[{"size":"1"},{}]}; a missing size is 0. */
bool eai__tfjs_parse_shape(const cJSON *dims, eai__shape_t *sh)
{
    sh->rank = 0;
    if (!dims) return true;
    if (!cJSON_IsArray(dims) || cJSON_GetArraySize(dims) > EAI_MAX_RANK) return false;
    const cJSON *d;
    cJSON_ArrayForEach(d, dims)
    {
        const cJSON *sz = cJSON_IsObject(d) ? eai__tfjs_item(d, "size") : d;
        int64_t v = 0;
        if (sz && !eai__tfjs_json_i64(sz, &v)) return false;
        sh->d[sh->rank++] = v;
    }
    return true;
}

/* ---- the node table ---- */

/* "name", "name:k" or "^name" (a control edge: *port = -1). */
static bool split_input(const char *in, char *name, size_t cap, int *port)
{
    *port = 0;
    if (in[0] == '^') {
        *port = -1;
        return true;
    }
    const char *colon = strrchr(in, ':');
    size_t n = strlen(in);
    if (colon && colon[1]) {
        char *end;
        long k = strtol(colon + 1, &end, 10);
        if (!*end && k >= 0 && k < 100000) {
            *port = (int)k;
            n = (size_t)(colon - in);
        }
    }
    if (n + 1 > cap) return false;
    memcpy(name, in, n);
    name[n] = '\0';
    return true;
}

static eai_status_t build_nodes(tfj_t *s, const cJSON *list)
{
    if (!cJSON_IsArray(list))
        return eai_fail(EAI_E_FORMAT, "%s: modelTopology.node must be an array", s->label);
    int n = cJSON_GetArraySize(list);
    s->nodes = eai__calloc(&s->g->alloc, (size_t)n + 1, sizeof *s->nodes);
    if (!s->nodes) return eai_fail(EAI_E_NOMEM, "%s: out of memory", s->label);
    const cJSON *j;
    cJSON_ArrayForEach(j, list)
    {
        int ni = s->n_nodes;
        tfj_node_t *nd = &s->nodes[ni];
        const cJSON *name = eai__tfjs_item(j, "name"), *op = eai__tfjs_item(j, "op");
        if (!cJSON_IsString(name) || !cJSON_IsString(op) || !name->valuestring[0])
            return eai_fail(EAI_E_FORMAT, "%s: modelTopology.node[%d] needs a name and an op",
                            s->label, ni);
        nd->name = name->valuestring;
        nd->op = op->valuestring;
        nd->attr = eai__tfjs_item(j, "attr");
        if (nd->attr && !cJSON_IsObject(nd->attr))
            return eai_fail(EAI_E_FORMAT, "%s: node '%s': attr must be an object", s->label,
                            nd->name);
        if (eai__strmap_get(&s->by_name, nd->name) >= 0)
            return eai_fail(EAI_E_FORMAT, "%s: two nodes are named '%s'", s->label, nd->name);
        EAI_TRY(eai__strmap_put(&s->by_name, nd->name, ni));
        s->n_nodes++;
    }
    /* inputs, once every name is known */
    int ni = 0;
    cJSON_ArrayForEach(j, list)
    {
        tfj_node_t *nd = &s->nodes[ni];
        const cJSON *ins = eai__tfjs_item(j, "input"), *in;
        if (ins && !cJSON_IsArray(ins))
            return eai_fail(EAI_E_FORMAT, "%s: node '%s': input must be an array", s->label,
                            nd->name);
        int cap = ins ? cJSON_GetArraySize(ins) : 0;
        nd->in_node = eai__calloc(&s->g->alloc, (size_t)cap + 1, sizeof(int));
        nd->in_port = eai__calloc(&s->g->alloc, (size_t)cap + 1, sizeof(int));
        if (!nd->in_node || !nd->in_port)
            return eai_fail(EAI_E_NOMEM, "%s: out of memory", s->label);
        cJSON_ArrayForEach(in, ins)
        {
            char name[1024];
            int port;
            if (!cJSON_IsString(in) || !split_input(in->valuestring, name, sizeof name, &port))
                return eai_fail(EAI_E_FORMAT, "%s: node '%s': bad input entry", s->label, nd->name);
            if (port < 0) continue; /* control dependencies order side effects we do not have */
            int src = eai__strmap_get(&s->by_name, name);
            if (src < 0)
                return eai_fail(EAI_E_FORMAT, "%s: node '%s': input '%s' names no node", s->label,
                                nd->name, in->valuestring);
            nd->in_node[nd->n_in] = src;
            nd->in_port[nd->n_in++] = port;
        }
        ni++;
    }
    for (int i = 0; i < s->n_nodes; i++) {
        tfj_node_t *nd = &s->nodes[i];
        nd->n_ports = eai__tfjs_n_ports(s, i);
        nd->ports = eai__calloc(&s->g->alloc, (size_t)nd->n_ports + 1, sizeof *nd->ports);
        if (!nd->ports) return eai_fail(EAI_E_NOMEM, "%s: out of memory", s->label);
        for (int k = 0; k < nd->n_ports; k++) {
            nd->ports[k].node = i;
            nd->ports[k].v = -1;
        }
    }
    for (int i = 0; i < s->n_nodes; i++) {
        const tfj_node_t *nd = &s->nodes[i];
        for (int k = 0; k < nd->n_in; k++)
            if (nd->in_port[k] >= s->nodes[nd->in_node[k]].n_ports)
                return eai_fail(EAI_E_FORMAT,
                                "%s: node '%s': input %d reads output %d of '%s' "
                                "(%s), which has %d",
                                s->label, nd->name, k, nd->in_port[k],
                                s->nodes[nd->in_node[k]].name, s->nodes[nd->in_node[k]].op,
                                s->nodes[nd->in_node[k]].n_ports);
    }
    return EAI_OK;
}

/* ---- inputs, outputs, walk ---- */

typedef struct tensor_ref {
    int node, port;
    char name[512]; /* IR name: node name, plus ":k" for k > 0 */
} tensor_ref_t;

static eai_status_t resolve(const tfj_t *s, const char *what, const char *tname, tensor_ref_t *r)
{
    char name[1024];
    if (!split_input(tname, name, sizeof name, &r->port) || r->port < 0 ||
        (r->node = eai__strmap_get(&s->by_name, name)) < 0 || r->port >= s->nodes[r->node].n_ports)
        return eai_fail(EAI_E_FORMAT, "%s: signature %s '%s' names no node output", s->label, what,
                        tname);
    if (strlen(name) > sizeof r->name - 16)
        return eai_fail(EAI_E_UNSUPPORTED, "%s: %s name '%.80s...' is too long", s->label, what,
                        name);
    if (r->port)
        snprintf(r->name, sizeof r->name, "%.*s:%d", (int)sizeof r->name - 16, name, r->port);
    else
        snprintf(r->name, sizeof r->name, "%.*s", (int)sizeof r->name - 16, name);
    return EAI_OK;
}

/* Signature order when the file has one; else what TF.js picks: the
 * Placeholders, and the nodes nothing reads. */
static eai_status_t find_io(const tfj_t *s, const cJSON *sig, bool outputs, tensor_ref_t **refs,
                            int *n)
{
    const cJSON *list = eai__tfjs_item(sig, outputs ? "outputs" : "inputs"), *e;
    int cap = s->n_nodes + (list ? cJSON_GetArraySize(list) : 0);
    *refs = eai__calloc(&s->g->alloc, (size_t)cap + 1, sizeof **refs);
    *n = 0;
    if (!*refs) return eai_fail(EAI_E_NOMEM, "%s: out of memory", s->label);
    if (cJSON_IsObject(list) && cJSON_GetArraySize(list) > 0) {
        cJSON_ArrayForEach(e, list)
        {
            const cJSON *nm = eai__tfjs_item(e, "name");
            EAI_TRY(resolve(s, outputs ? "output" : "input",
                            cJSON_IsString(nm) ? nm->valuestring : e->string, &(*refs)[*n]));
            (*n)++;
        }
        return EAI_OK;
    }
    bool *used = eai__calloc(&s->g->alloc, (size_t)s->n_nodes + 1, 1);
    if (!used) return eai_fail(EAI_E_NOMEM, "%s: out of memory", s->label);
    for (int i = 0; i < s->n_nodes; i++)
        for (int k = 0; k < s->nodes[i].n_in; k++)
            used[s->nodes[i].in_node[k]] = true;
    for (int i = 0; i < s->n_nodes; i++) {
        const char *op = s->nodes[i].op;
        bool ph = strcmp(op, "Placeholder") == 0;
        bool take = outputs ? !used[i] && !ph && strcmp(op, "Const") && strcmp(op, "NoOp") : ph;
        if (take && strlen(s->nodes[i].name) >= sizeof(*refs)->name) {
            eai__free(&s->g->alloc, used);
            return eai_fail(EAI_E_UNSUPPORTED, "%s: node name '%.80s...' is too long", s->label,
                            s->nodes[i].name);
        }
        if (take) {
            tensor_ref_t *r = &(*refs)[(*n)++];
            r->node = i;
            r->port = 0;
            snprintf(r->name, sizeof r->name, "%s", s->nodes[i].name);
        }
    }
    eai__free(&s->g->alloc, used);
    return EAI_OK;
}

static eai_status_t add_input(tfj_t *s, int ni)
{
    tfj_node_t *nd = &s->nodes[ni];
    if (strcmp(nd->op, "Placeholder") != 0 && strcmp(nd->op, "PlaceholderWithDefault") != 0)
        return eai_fail(EAI_E_UNSUPPORTED, "%s: input '%s' is a %s, not a Placeholder", s->label,
                        nd->name, nd->op);
    eai_dtype_t dt;
    EAI_TRY(eai__tfjs_attr_type(s, ni, "dtype", EAI_F32, &dt));
    const cJSON *sh = attr(s, ni, "shape", "shape");
    if (cJSON_IsTrue(eai__tfjs_item(sh, "unknownRank")) || !sh)
        return eai__tfjs_fail(s, ni, EAI_E_UNSUPPORTED, "an input needs a known rank");
    int v;
    EAI_TRY(eai__graph_value(s->g, nd->name, &v));
    eai__value_t *val = &s->g->values[v];
    if (val->kind != EAI__V_ACT || val->producer >= 0)
        return eai__tfjs_fail(s, ni, EAI_E_FORMAT, "listed twice as an input");
    if (!eai__tfjs_parse_shape(eai__tfjs_item(sh, "dim"), &val->shape))
        return eai__tfjs_fail(s, ni, EAI_E_FORMAT, "bad shape attribute");
    val->kind = EAI__V_INPUT;
    val->dtype = dt;
    for (int d = 0; d < val->shape.rank; d++)
        if (val->shape.d[d] < 0) {
            val->shape.d[d] = -1;
            val->sym[d] = eai__strdup(&s->g->alloc, d == 0 ? "batch" : "?");
            if (!val->sym[d]) return eai_fail(EAI_E_NOMEM, "%s: out of memory", s->label);
        }
    int *ins = eai__realloc(&s->g->alloc, s->g->inputs, (size_t)(s->g->n_inputs + 1) * sizeof(int));
    if (!ins) return eai_fail(EAI_E_NOMEM, "%s: out of memory", s->label);
    s->g->inputs = ins;
    s->g->inputs[s->g->n_inputs++] = v;
    nd->mark = 2;
    return eai__tfjs_set_port(s, ni, 0, v, NULL, dt);
}

static eai_status_t visit(tfj_t *s, int ni)
{
    tfj_node_t *nd = &s->nodes[ni];
    if (strcmp(nd->op, "Placeholder") == 0 || strcmp(nd->op, "PlaceholderWithDefault") == 0)
        return add_input(s, ni);
    if (strcmp(nd->op, "Const") == 0) {
        tfj_const_t *c;
        EAI_TRY(eai__tfjs_decode_const(s, ni, &c));
        nd->ports[0].c = c;
        nd->ports[0].dt = c->dt;
        return EAI_OK;
    }
    return eai__tfjs_map_node(s, ni);
}

/* Depth-first from `root` with an explicit stack (graphs can be deep),
 * mapping each node after its inputs. */
static eai_status_t walk(tfj_t *s, int root, int *stack)
{
    if (s->nodes[root].mark == 2) return EAI_OK;
    int top = 0;
    stack[0] = root;
    s->nodes[root].mark = 1;
    s->nodes[root].emitted = 0; /* doubles as the child cursor until mapped */
    while (top >= 0) {
        tfj_node_t *nd = &s->nodes[stack[top]];
        int k = nd->emitted;
        if (k < nd->n_in) {
            nd->emitted++;
            int c = nd->in_node[k];
            if (s->nodes[c].mark == 1)
                return eai_fail(EAI_E_UNSUPPORTED,
                                "%s: node '%s' (%s) is in a cycle (control "
                                "flow is not supported)",
                                s->label, s->nodes[c].name, s->nodes[c].op);
            if (s->nodes[c].mark == 0) {
                s->nodes[c].mark = 1;
                s->nodes[c].emitted = 0;
                stack[++top] = c;
            }
            continue;
        }
        nd->emitted = 0;
        EAI_TRY(visit(s, stack[top]));
        nd->mark = 2;
        top--;
    }
    return EAI_OK;
}

static eai_status_t set_outputs(tfj_t *s, const tensor_ref_t *outs, int n_out)
{
    s->g->outputs = eai__calloc(&s->g->alloc, (size_t)n_out + 1, sizeof(int));
    if (!s->g->outputs) return eai_fail(EAI_E_NOMEM, "%s: out of memory", s->label);
    for (int i = 0; i < n_out; i++) {
        tfj_port_t *p = &s->nodes[outs[i].node].ports[outs[i].port];
        const char *want = outs[i].name;
        int v = -1;
        int ni = outs[i].node;
        if (p->v >= 0 && eai__perm_plain(&p->lay) && strcmp(s->g->values[p->v].name, want) == 0)
            v = p->v;
        for (int c = 0; c < p->n_cache && v < 0; c++)
            if (eai__perm_plain(&p->cache_lay[c]) &&
                strcmp(s->g->values[p->cache_v[c]].name, want) == 0)
                v = p->cache_v[c];
        if (v < 0 && eai__strmap_get(&s->g->names, want) >= 0)
            return eai_fail(EAI_E_FORMAT, "%s: output name '%s' is taken", s->label, want);
        if (v < 0) EAI_TRY(eai__tfjs_port_plain_named(s, ni, p, want, &v));
        if (strcmp(s->g->values[v].name, want) != 0) {
            /* a copy under the output's name (an input as output, one tensor
             * listed twice) */
            int src = v;
            EAI_TRY(eai__graph_value(s->g, want, &v));
            EAI_TRY(eai__tfjs_emit(s, ni, "Identity", &src, 1, &v, 1));
        }
        for (int j = 0; j < s->g->n_outputs; j++)
            if (s->g->outputs[j] == v)
                return eai_fail(EAI_E_FORMAT, "%s: output '%s' is listed twice", s->label, want);
        s->g->outputs[s->g->n_outputs++] = v;
        s->g->values[v].is_output = true;
    }
    return EAI_OK;
}

static eai_status_t import_json(tfj_t *s, const cJSON *root, const char *json_path)
{
    const cJSON *fmt = eai__tfjs_item(root, "format"),
                *topo = eai__tfjs_item(root, "modelTopology");
    if (cJSON_IsString(fmt) && strcmp(fmt->valuestring, "graph-model") != 0)
        return eai_fail(EAI_E_UNSUPPORTED,
                        "%s: format '%s' is not supported (only TF.js graph-model files)", s->label,
                        fmt->valuestring);
    if (!cJSON_IsObject(topo) || !eai__tfjs_item(topo, "node"))
        return eai_fail(EAI_E_FORMAT, "%s: no modelTopology.node: not a TF.js graph model",
                        s->label);
    if (cJSON_GetArraySize(eai__tfjs_item(eai__tfjs_item(topo, "library"), "function")) > 0)
        eai__log(EAI_LOG_WARN,
                 "tfjs: %s: function library ignored (control flow is not "
                 "supported)",
                 s->label);
    const cJSON *by = eai__tfjs_item(root, "convertedBy");
    char producer[256];
    snprintf(producer, sizeof producer, "%s",
             cJSON_IsString(by) ? by->valuestring : "TensorFlow.js");
    eai__free(&s->g->alloc, s->g->producer);
    s->g->producer = eai__strdup(&s->g->alloc, producer);
    if (!s->g->producer) return eai_fail(EAI_E_NOMEM, "%s: out of memory", s->label);
    s->g->opset = 13; /* the ONNX semantics tfjs_ops.c emits */
    EAI_TRY(build_nodes(s, eai__tfjs_item(topo, "node")));
    EAI_TRY(eai__tfjs_load_weights(s, eai__tfjs_item(root, "weightsManifest"), json_path));
    tensor_ref_t *ins = NULL, *outs = NULL;
    int n_in = 0, n_out = 0;
    int *stack = eai__calloc(&s->g->alloc, (size_t)s->n_nodes + 1, sizeof(int));
    eai_status_t st = stack ? EAI_OK : eai_fail(EAI_E_NOMEM, "%s: out of memory", s->label);
    if (st == EAI_OK) st = find_io(s, eai__tfjs_item(root, "signature"), false, &ins, &n_in);
    if (st == EAI_OK) st = find_io(s, eai__tfjs_item(root, "signature"), true, &outs, &n_out);
    if (st == EAI_OK && n_out == 0)
        st = eai_fail(EAI_E_FORMAT, "%s: the model has no outputs", s->label);
    /* name the tensors that become outputs through Identity chains */
    for (int i = 0; st == EAI_OK && i < n_out; i++) {
        int ni = outs[i].node, port = outs[i].port;
        while (strcmp(s->nodes[ni].op, "Identity") == 0 && s->nodes[ni].n_in == 1) {
            port = s->nodes[ni].in_port[0];
            ni = s->nodes[ni].in_node[0];
        }
        tfj_port_t *p = &s->nodes[ni].ports[port];
        if (!p->out_name && strcmp(s->nodes[ni].op, "Const") &&
            strcmp(s->nodes[ni].op, "Placeholder"))
            p->out_name = outs[i].name;
    }
    for (int i = 0; st == EAI_OK && i < n_in; i++)
        if (s->nodes[ins[i].node].mark != 2) st = add_input(s, ins[i].node);
    for (int i = 0; st == EAI_OK && i < n_out; i++)
        st = walk(s, outs[i].node, stack);
    if (st == EAI_OK) st = set_outputs(s, outs, n_out);
    eai__free(&s->g->alloc, stack);
    eai__free(&s->g->alloc, ins);
    eai__free(&s->g->alloc, outs);
    return st;
}

static void free_state(tfj_t *s)
{
    for (int i = 0; i < s->n_nodes; i++) {
        eai__free(&s->g->alloc, s->nodes[i].in_node);
        eai__free(&s->g->alloc, s->nodes[i].in_port);
        eai__free(&s->g->alloc, s->nodes[i].ports);
    }
    for (int i = 0; i < s->n_owned; i++) {
        eai__free_aligned(&s->g->alloc, s->owned[i]->data);
        eai__free(&s->g->alloc, s->owned[i]);
    }
    eai__free(&s->g->alloc, s->owned);
    eai__free(&s->g->alloc, s->nodes);
    eai__free(&s->g->alloc, s->specs);
    eai__free_aligned(&s->g->alloc, s->wdata);
    eai__strmap_free(&s->by_name);
    eai__strmap_free(&s->spec_by_name);
}

eai_status_t eai__tfjs_import(eai__graph_t *g, const char *json_path)
{
    tfj_t s = {.g = g, .label = g->label};
    void *text;
    size_t n;
    EAI_TRY(eai__read_file(&g->alloc, json_path, &text, &n));
    cJSON *root = cJSON_ParseWithLength(text, n);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = at && at >= (const char *)text && at <= (const char *)text + n
                         ? (size_t)(at - (const char *)text)
                         : 0;
        int line = 1;
        for (size_t i = 0; i < off; i++)
            line += ((const char *)text)[i] == '\n';
        eai__free_aligned(&g->alloc, text);
        return eai_fail(EAI_E_FORMAT, "%s: not valid JSON (parse error at byte %zu, line %d)",
                        g->label, off, line);
    }
    eai__free_aligned(&g->alloc, text);
    eai_status_t st = eai__strmap_init(&s.by_name, &g->alloc, 256);
    if (st == EAI_OK) st = eai__strmap_init(&s.spec_by_name, &g->alloc, 256);
    if (st == EAI_OK)
        st = cJSON_IsObject(root) ? import_json(&s, root, json_path)
                                  : eai_fail(EAI_E_FORMAT, "%s: not a JSON object", g->label);
    if (st == EAI_OK) st = eai__graph_finish(g);
    free_state(&s);
    cJSON_Delete(root);
    return st;
}
