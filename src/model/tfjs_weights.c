/* TF.js importer: the weightsManifest. Every shard of every group is read
 * and concatenated in order, and the specs are laid back to back over it,
 * exactly as TF.js io_utils.decodeWeights() reads them; each Const is then
 * decoded on first use (uint8/uint16 affine dequantisation, float16
 * widening, int64 declared in the graph widened from TF.js's int32).
 */
#include <math.h>
#include <stdio.h>

#include "model/tfjs_impl.h"

typedef enum { Q_NONE, Q_U8, Q_U16, Q_F16 } qkind_t;

/* One weightsManifest entry, located in the concatenated shards. */
typedef struct tfj_spec {
    const char *name; /* in the cJSON tree */
    eai_dtype_t dt;   /* F32, I32 or BOOL; UNDEFINED: string/complex (skipped) */
    eai__shape_t shape;
    qkind_t q;
    double scale, min;
    size_t offset, n_bytes;
} tfj_spec_t;

/* ---- weights ---- */

static eai_status_t parse_spec(tfj_t *s, const cJSON *w, tfj_spec_t *sp, size_t *offset)
{
    const cJSON *name = eai__tfjs_item(w, "name"), *dt = eai__tfjs_item(w, "dtype"),
                *q = eai__tfjs_item(w, "quantization");
    if (!cJSON_IsString(name))
        return eai_fail(EAI_E_FORMAT, "%s: weightsManifest: a weight has no name", s->label);
    sp->name = name->valuestring;
    const char *dts = cJSON_IsString(dt) ? dt->valuestring : "";
    size_t esize;
    if (strcmp(dts, "float32") == 0)
        sp->dt = EAI_F32, esize = 4;
    else if (strcmp(dts, "int32") == 0)
        sp->dt = EAI_I32, esize = 4;
    else if (strcmp(dts, "bool") == 0)
        sp->dt = EAI_BOOL, esize = 1;
    else if (strcmp(dts, "complex64") == 0)
        sp->dt = EAI_DTYPE_UNDEFINED, esize = 8;
    else if (strcmp(dts, "string") == 0)
        sp->dt = EAI_DTYPE_UNDEFINED, esize = 0;
    else
        return eai_fail(EAI_E_UNSUPPORTED, "%s: weight '%s': dtype '%s' is not supported", s->label,
                        sp->name, dts);
    if (!eai__tfjs_parse_shape(eai__tfjs_item(w, "shape"), &sp->shape))
        return eai_fail(EAI_E_FORMAT, "%s: weight '%s': bad shape", s->label, sp->name);
    int64_t numel = 1;
    for (int i = 0; i < sp->shape.rank; i++)
        if (sp->shape.d[i] < 0 || !eai__mul_ok(numel, sp->shape.d[i], &numel) ||
            numel > ((int64_t)1 << 40))
            return eai_fail(EAI_E_FORMAT, "%s: weight '%s': bad or huge shape", s->label, sp->name);
    sp->q = Q_NONE;
    if (q) {
        const cJSON *qd = eai__tfjs_item(q, "dtype");
        const char *qs = cJSON_IsString(qd) ? qd->valuestring : "";
        if (strcmp(qs, "uint8") == 0)
            sp->q = Q_U8, esize = 1;
        else if (strcmp(qs, "uint16") == 0)
            sp->q = Q_U16, esize = 2;
        else if (strcmp(qs, "float16") == 0 && sp->dt == EAI_F32)
            sp->q = Q_F16, esize = 2;
        else
            return eai_fail(EAI_E_UNSUPPORTED,
                            "%s: weight '%s': quantization '%s' of %s is not supported (TF.js "
                            "reads uint8, uint16, and float16 for float32)",
                            s->label, sp->name, qs, dts);
        if ((sp->q == Q_U8 || sp->q == Q_U16) &&
            (sp->dt == EAI_BOOL || !eai__tfjs_json_f64(eai__tfjs_item(q, "scale"), &sp->scale) ||
             !eai__tfjs_json_f64(eai__tfjs_item(q, "min"), &sp->min)))
            return eai_fail(EAI_E_FORMAT,
                            "%s: weight '%s': %s quantization needs numeric scale and min",
                            s->label, sp->name, qs);
    }
    sp->offset = *offset;
    if (esize == 0) {
        /* strings: each a uint32 length then bytes; walk them to find the end */
        size_t o = *offset;
        for (int64_t i = 0; i < numel; i++) {
            uint32_t len;
            if (o + 4 > s->wbytes) goto short_shards;
            memcpy(&len, s->wdata + o, 4);
            if (len > s->wbytes - o - 4) goto short_shards;
            o += 4 + (size_t)len;
        }
        sp->n_bytes = o - *offset;
    } else {
        sp->n_bytes = (size_t)numel * esize;
    }
    if (sp->n_bytes > s->wbytes || *offset > s->wbytes - sp->n_bytes) goto short_shards;
    *offset += sp->n_bytes;
    return EAI_OK;
short_shards:
    return eai_fail(EAI_E_FORMAT,
                    "%s: weight '%s' needs bytes from offset %zu on, but the weight shards hold "
                    "only %zu bytes (missing or truncated .bin?)",
                    s->label, sp->name, *offset, s->wbytes);
}

/* Shard paths are relative to model.json's folder; absolute paths and '..'
 * are refused so a model file cannot make us read arbitrary files. */
static eai_status_t read_shards(tfj_t *s, const cJSON *manifest, const char *json_path)
{
    const char *slash = strrchr(json_path, '/');
    size_t dir_len = slash ? (size_t)(slash - json_path) + 1 : 0;
    const cJSON *grp;
    size_t total = 0;
    for (int pass = 0; pass < 2; pass++) {
        int gi = 0;
        cJSON_ArrayForEach(grp, manifest)
        {
            const cJSON *paths = eai__tfjs_item(grp, "paths"), *p;
            if (!cJSON_IsArray(paths) || !cJSON_IsArray(eai__tfjs_item(grp, "weights")))
                return eai_fail(EAI_E_FORMAT,
                                "%s: weightsManifest[%d] needs 'paths' and 'weights' arrays",
                                s->label, gi);
            cJSON_ArrayForEach(p, paths)
            {
                if (!cJSON_IsString(p) || !p->valuestring[0] || p->valuestring[0] == '/' ||
                    strstr(p->valuestring, ".."))
                    return eai_fail(EAI_E_FORMAT,
                                    "%s: weightsManifest[%d]: shard path '%s' must be a relative "
                                    "path without '..'",
                                    s->label, gi, cJSON_IsString(p) ? p->valuestring : "?");
                char path[4096];
                int len =
                    snprintf(path, sizeof path, "%.*s%s", (int)dir_len, json_path, p->valuestring);
                if (len < 0 || (size_t)len >= sizeof path)
                    return eai_fail(EAI_E_INVALID, "%s: shard path too long", s->label);
                void *data;
                size_t n;
                eai_status_t st = eai__read_file(&s->g->alloc, path, &data, &n);
                if (st != EAI_OK) {
                    char why[512];
                    snprintf(why, sizeof why, "%s", eai_last_error());
                    return eai_fail(st, "%s: weightsManifest[%d]: weight shard: %s", s->label, gi,
                                    why);
                }
                if (pass == 0) {
                    total += n;
                } else {
                    if (n > s->wbytes - total) { /* the file grew between the passes */
                        eai__free_aligned(&s->g->alloc, data);
                        return eai_fail(EAI_E_IO, "%s: %s changed while loading", s->label, path);
                    }
                    memcpy(s->wdata + total, data, n);
                    total += n;
                }
                eai__free_aligned(&s->g->alloc, data);
            }
            gi++;
        }
        if (pass == 0) {
            s->wdata = eai__alloc_aligned(&s->g->alloc, total ? total : 1);
            if (!s->wdata)
                return eai_fail(EAI_E_NOMEM, "%s: out of memory for %zu bytes of weights", s->label,
                                total);
            s->wbytes = total;
            total = 0;
        }
    }
    return EAI_OK;
}

eai_status_t eai__tfjs_load_weights(tfj_t *s, const cJSON *manifest, const char *json_path)
{
    if (!manifest) return EAI_OK;
    if (!cJSON_IsArray(manifest))
        return eai_fail(EAI_E_FORMAT, "%s: weightsManifest must be an array", s->label);
    EAI_TRY(read_shards(s, manifest, json_path));
    const cJSON *grp, *w;
    int n = 0;
    cJSON_ArrayForEach(grp, manifest) n += cJSON_GetArraySize(eai__tfjs_item(grp, "weights"));
    s->specs = eai__calloc(&s->g->alloc, (size_t)n + 1, sizeof *s->specs);
    if (!s->specs) return eai_fail(EAI_E_NOMEM, "%s: out of memory", s->label);
    size_t offset = 0;
    cJSON_ArrayForEach(grp, manifest)
    {
        cJSON_ArrayForEach(w, eai__tfjs_item(grp, "weights"))
        {
            tfj_spec_t *sp = &s->specs[s->n_specs];
            EAI_TRY(parse_spec(s, w, sp, &offset));
            EAI_TRY(eai__strmap_put(&s->spec_by_name, sp->name, s->n_specs++));
        }
    }
    if (offset != s->wbytes)
        eai__log(EAI_LOG_WARN, "tfjs: %s: %zu bytes of the weight shards are not used", s->label,
                 s->wbytes - offset);
    return EAI_OK;
}

/* Const node -> import-time data, decoded as TF.js decodeWeight() does. */
eai_status_t eai__tfjs_decode_const(tfj_t *s, int ni, tfj_const_t **out)
{
    tfj_node_t *n = &s->nodes[ni];
    int si = eai__strmap_get(&s->spec_by_name, n->name);
    if (si < 0)
        return eai__tfjs_fail(s, ni, EAI_E_FORMAT, "no weight of this name in weightsManifest");
    const tfj_spec_t *sp = &s->specs[si];
    if (sp->dt == EAI_DTYPE_UNDEFINED)
        return eai__tfjs_fail(s, ni, EAI_E_UNSUPPORTED,
                              "string and complex weights are not "
                              "supported");
    eai_dtype_t want;
    EAI_TRY(eai__tfjs_attr_type(s, ni, "dtype", sp->dt, &want));
    if (want != sp->dt && !(want == EAI_I64 && sp->dt == EAI_I32))
        return eai__tfjs_fail(s, ni, EAI_E_FORMAT, "node dtype %s does not match the weight's %s",
                              eai_dtype_name(want), eai_dtype_name(sp->dt));
    int64_t numel = eai__shape_numel(&sp->shape);
    tfj_const_t *c;
    EAI_TRY(eai__tfjs_new_tconst(s, ni, want, &sp->shape, &c));
    void *buf = c->data;
    const uint8_t *src = s->wdata + sp->offset;
    for (int64_t i = 0; i < numel; i++) {
        double v;
        switch (sp->q) {
        case Q_U8:
            v = src[i] * sp->scale + sp->min;
            break;
        case Q_U16: {
            uint16_t q;
            memcpy(&q, src + 2 * i, 2);
            v = q * sp->scale + sp->min;
            break;
        }
        case Q_F16: {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            v = eai_f16_to_f32(h);
            break;
        }
        default:
            if (sp->dt == EAI_F32) {
                float f;
                memcpy(&f, src + 4 * i, 4);
                v = f;
            } else if (sp->dt == EAI_I32) {
                int32_t k;
                memcpy(&k, src + 4 * i, 4);
                v = k;
            } else {
                v = src[i] != 0;
            }
            break;
        }
        /* TF.js: Float32Array stores round the double; int32 weights Math.round */
        if (want == EAI_F32)
            ((float *)buf)[i] = (float)v;
        else if (want == EAI_I32)
            ((int32_t *)buf)[i] = (int32_t)(sp->q == Q_NONE ? v : floor(v + 0.5));
        else if (want == EAI_I64)
            ((int64_t *)buf)[i] = (int64_t)(sp->q == Q_NONE ? v : floor(v + 0.5));
        else
            ((uint8_t *)buf)[i] = v != 0;
    }
    *out = c;
    return EAI_OK;
}
