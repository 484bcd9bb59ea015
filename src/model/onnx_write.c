/* ONNX writer for trained models: rather than re-serialising the graph IR
 * (which drops value_info, metadata and doc strings), it decodes the file the
 * model came from with protobuf-c, swaps the data of the updated tensors, and
 * packs it again, so everything else survives byte for byte. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/onnx_write.h"
#include "onnx/onnx.pb-c.h"

typedef struct pb_ctx {
    const eai_allocator_t *alloc;
    bool oom;
} pb_ctx_t;

static void *pb_alloc(void *ctx, size_t n)
{
    pb_ctx_t *c = ctx;
    void *p = eai__alloc(c->alloc, n);
    if (!p) c->oom = true;
    return p;
}
static void pb_free(void *ctx, void *p)
{
    eai__free(((pb_ctx_t *)ctx)->alloc, p);
}

/* What a swapped tensor held, to put back before protobuf-c frees it. */
typedef struct saved {
    Onnx__TensorProto *t;
    ProtobufCBinaryData raw;
    protobuf_c_boolean has_raw;
    size_t n_float;
} saved_t;

static Onnx__TensorProto *find_tensor(Onnx__GraphProto *g, const char *name)
{
    for (size_t i = 0; i < g->n_initializer; i++)
        if (g->initializer[i]->name && strcmp(g->initializer[i]->name, name) == 0)
            return g->initializer[i];
    for (size_t i = 0; i < g->n_node; i++) {
        Onnx__NodeProto *np = g->node[i];
        if (!np->op_type || strcmp(np->op_type, "Constant") != 0 || np->n_output < 1 ||
            strcmp(np->output[0], name) != 0)
            continue;
        for (size_t k = 0; k < np->n_attribute; k++)
            if (np->attribute[k]->name && strcmp(np->attribute[k]->name, "value") == 0)
                return np->attribute[k]->t;
    }
    return NULL;
}

static eai_status_t swap_in(Onnx__GraphProto *g, const char *label, const eai__onnx_update_t *u,
                            saved_t *sv)
{
    Onnx__TensorProto *t = find_tensor(g, u->name);
    if (!t)
        return eai_fail(EAI_E_INVALID, "%s: no initializer or Constant named '%s' to update", label,
                        u->name);
    size_t numel = 1;
    for (size_t d = 0; d < t->n_dims; d++)
        numel *= (size_t)t->dims[d];
    if (t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT || numel != u->count)
        return eai_fail(EAI_E_INVALID,
                        "%s: tensor '%s' is not float32 with %zu elements (type %d, %zu elements)",
                        label, u->name, u->count, (int)t->data_type, numel);
    if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return eai_fail(EAI_E_UNSUPPORTED, "%s: tensor '%s' is stored externally", label, u->name);
    sv->t = t;
    sv->raw = t->raw_data;
    sv->has_raw = t->has_raw_data;
    sv->n_float = t->n_float_data;
    /* ONNX raw_data is little-endian, as float is on every target edgeai builds for */
    t->raw_data.data = (uint8_t *)u->data;
    t->raw_data.len = u->count * sizeof(float);
    t->has_raw_data = 1;
    t->n_float_data = 0;
    return EAI_OK;
}

eai_status_t eai__onnx_write_updated(const eai_allocator_t *a, const void *onnx, size_t n_bytes,
                                     const char *label, const eai__onnx_update_t *updates,
                                     int n_updates, const char *path)
{
    if (!onnx || !path || (n_updates > 0 && !updates))
        return eai_fail(EAI_E_INVALID, "eai__onnx_write_updated: NULL argument");
    {
        const uint16_t one = 1;
        if (*(const uint8_t *)&one != 1)
            return eai_fail(EAI_E_UNSUPPORTED, "%s: writing ONNX needs a little-endian host",
                            label);
    }
    pb_ctx_t ctx = {a, false};
    ProtobufCAllocator pa = {pb_alloc, pb_free, &ctx};
    Onnx__ModelProto *mp = onnx__model_proto__unpack(&pa, n_bytes, onnx);
    if (!mp && ctx.oom) return eai_fail(EAI_E_NOMEM, "%s: out of memory decoding", label);
    if (!mp || !mp->graph) {
        if (mp) onnx__model_proto__free_unpacked(mp, &pa);
        return eai_fail(EAI_E_FORMAT, "%s: not a valid ONNX model", label);
    }
    saved_t *sv = eai__calloc(a, (size_t)(n_updates > 0 ? n_updates : 1), sizeof *sv);
    eai_status_t s = sv ? EAI_OK : eai_fail(EAI_E_NOMEM, "%s: out of memory", label);
    int n_swapped = 0;
    for (int i = 0; i < n_updates && s == EAI_OK; i++) {
        s = swap_in(mp->graph, label, &updates[i], &sv[i]);
        if (s == EAI_OK) n_swapped++;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    if (s == EAI_OK) {
        len = onnx__model_proto__get_packed_size(mp);
        buf = eai__alloc(a, len ? len : 1);
        if (!buf) s = eai_fail(EAI_E_NOMEM, "%s: out of memory for %zu bytes", label, len);
    }
    if (s == EAI_OK) {
        size_t packed = onnx__model_proto__pack(mp, buf);
        if (EAI_NEVER(packed != len))
            s = eai_fail(EAI_E_FORMAT, "%s: packed %zu bytes, expected %zu", label, packed, len);
    }
    /* put back what protobuf-c owns before it frees the message */
    for (int i = n_swapped - 1; i >= 0; i--) {
        sv[i].t->raw_data = sv[i].raw;
        sv[i].t->has_raw_data = sv[i].has_raw;
        sv[i].t->n_float_data = sv[i].n_float;
    }
    onnx__model_proto__free_unpacked(mp, &pa);
    eai__free(a, sv);
    if (s == EAI_OK) s = eai__write_file_atomic(a, path, buf, len);
    eai__free(a, buf);
    return s;
}
