/* TF.js importer: the IR side. Constants known at import time, layouts
 * (tfjs_impl.h), materialising a tensor in the layout a consumer needs, and
 * the helpers tfjs_ops.c emits nodes and attributes with. */
#include <stdio.h>

#include "model/tfjs_impl.h"

/* ---- import-time constants and layouts ---- */

eai_status_t eai__tfjs_new_tconst(tfj_t *s, int ni, eai_dtype_t dt, const eai__shape_t *shape,
                                  tfj_const_t **out)
{
    if (s->n_owned == s->cap_owned) {
        int cap = s->cap_owned ? 2 * s->cap_owned : 64;
        tfj_const_t **o = eai__realloc(&s->g->alloc, s->owned, (size_t)cap * sizeof *o);
        if (!o) return eai__tfjs_fail(s, ni, EAI_E_NOMEM, "out of memory");
        s->owned = o;
        s->cap_owned = cap;
    }
    size_t bytes = (size_t)eai__shape_numel(shape) * eai_dtype_size(dt);
    tfj_const_t *c = eai__calloc(&s->g->alloc, 1, sizeof *c);
    void *buf = eai__alloc_aligned(&s->g->alloc, bytes + 8);
    if (!c || !buf) {
        eai__free(&s->g->alloc, c);
        eai__free_aligned(&s->g->alloc, buf);
        return eai__tfjs_fail(s, ni, EAI_E_NOMEM, "out of memory for %zu bytes", bytes);
    }
    memset(buf, 0, bytes + 8);
    c->dt = dt;
    c->shape = *shape;
    c->data = buf;
    s->owned[s->n_owned++] = c;
    *out = c;
    return EAI_OK;
}

static eai_status_t cache_put(tfj_port_t *p, const tfj_lay_t *lay, int v)
{
    if (p->n_cache < TFJ_N_CACHE) {
        p->cache_lay[p->n_cache] = *lay;
        p->cache_v[p->n_cache++] = v;
    }
    return EAI_OK;
}

/* The IR constant for a constant port in layout `want`, named `name` (or
 * after the Const node). */
static eai_status_t const_in_layout(tfj_t *s, int ni, tfj_port_t *p, const tfj_lay_t *want,
                                    const char *name, int *v)
{
    const tfj_const_t *c = p->c;
    const tfj_node_t *owner = &s->nodes[p->node];
    char buf[512];
    if (!name) {
        if (eai__perm_plain(want) && eai__strmap_get(&s->g->names, owner->name) < 0)
            snprintf(buf, sizeof buf, "%s", owner->name);
        else
            snprintf(buf, sizeof buf, "%s#t%d", owner->name, s->uniq++);
        name = buf;
    }
    eai__shape_t sh = c->shape;
    size_t es = eai_dtype_size(c->dt);
    void *data = eai__alloc_aligned(&s->g->alloc, (size_t)eai__shape_numel(&sh) * es + 8);
    if (!data) return eai__tfjs_fail(s, ni, EAI_E_NOMEM, "out of memory");
    if (eai__perm_plain(want)) {
        memcpy(data, c->data, (size_t)eai__shape_numel(&sh) * es);
    } else {
        if (sh.rank > want->rank) {
            eai__free_aligned(&s->g->alloc, data);
            return eai__tfjs_fail(s, ni, EAI_E_FORMAT,
                                  "constant '%s' has rank %d, more than the %d of its partner",
                                  owner->name, sh.rank, want->rank);
        }
        int pad = want->rank - sh.rank; /* numpy broadcasting aligns on the right */
        memmove(sh.d + pad, sh.d, (size_t)sh.rank * sizeof sh.d[0]);
        for (int i = 0; i < pad; i++)
            sh.d[i] = 1;
        sh.rank = want->rank;
        eai__permute(c->data, es, &sh, want->p, data);
        eai__shape_t out = {.rank = sh.rank};
        for (int i = 0; i < sh.rank; i++)
            out.d[i] = sh.d[want->p[i]];
        sh = out;
    }
    if (eai__strmap_get(&s->g->names, name) >= 0) {
        eai__free_aligned(&s->g->alloc, data);
        return eai__tfjs_fail(s, ni, EAI_E_FORMAT, "value name '%s' is used twice", name);
    }
    return eai__graph_add_const(s->g, name, c->dt, &sh, data, v);
}

static eai_status_t transpose_to(tfj_t *s, int ni, tfj_port_t *p, const tfj_lay_t *want,
                                 const char *name, int *v)
{
    const tfj_lay_t *L = &p->lay;
    int r = eai__perm_plain(want) ? L->rank : want->rank;
    if (!eai__perm_plain(L) && L->rank != r)
        return eai__tfjs_fail(s, ni, EAI_E_FORMAT,
                              "input '%s' has rank %d here but %d where it was made",
                              s->nodes[p->node].name, r, L->rank);
    int linv[EAI_MAX_RANK];
    int64_t q[EAI_MAX_RANK];
    for (int i = 0; i < r; i++)
        linv[eai__perm_plain(L) ? i : L->p[i]] = i;
    for (int i = 0; i < r; i++)
        q[i] = linv[eai__perm_plain(want) ? i : want->p[i]];
    int out;
    if (name)
        EAI_TRY(eai__graph_value(s->g, name, &out));
    else
        EAI_TRY(eai__tfjs_new_act(s, ni, -1, want, &out));
    EAI_TRY(eai__tfjs_emit(s, ni, "Transpose", &p->v, 1, &out, 1));
    EAI_TRY(eai__tfjs_set_ints(s, "perm", q, r));
    *v = out;
    return EAI_OK;
}

eai_status_t eai__tfjs_port_value(tfj_t *s, int ni, tfj_port_t *p, const tfj_lay_t *lay, int *v)
{
    tfj_lay_t want = lay ? *lay : (tfj_lay_t){0};
    eai__perm_norm(&want);
    if (p->v >= 0 && eai__perm_eq(&p->lay, &want)) {
        *v = p->v;
        return EAI_OK;
    }
    for (int i = 0; i < p->n_cache; i++)
        if (eai__perm_eq(&p->cache_lay[i], &want)) {
            *v = p->cache_v[i];
            return EAI_OK;
        }
    if (p->c) {
        EAI_TRY(const_in_layout(s, ni, p, &want, NULL, v));
        if (p->v < 0 && eai__perm_plain(&want)) {
            p->v = *v;
            p->lay = want;
            return EAI_OK;
        }
        return cache_put(p, &want, *v);
    }
    if (p->v < 0) /* an output the mapping does not produce (FusedBatchNorm's stats) */
        return eai__tfjs_fail(s, ni, EAI_E_UNSUPPORTED,
                              "reads an output of '%s' (%s) that the "
                              "TF.js importer does not produce",
                              s->nodes[p->node].name, s->nodes[p->node].op);
    EAI_TRY(transpose_to(s, ni, p, &want, NULL, v));
    return cache_put(p, &want, *v);
}

eai_status_t eai__tfjs_port_plain_named(tfj_t *s, int ni, tfj_port_t *p, const char *name, int *v)
{
    const tfj_lay_t plain = {0};
    if (p->v >= 0 && eai__perm_plain(&p->lay)) {
        *v = p->v;
        return EAI_OK;
    }
    for (int i = 0; i < p->n_cache; i++)
        if (eai__perm_plain(&p->cache_lay[i])) {
            *v = p->cache_v[i];
            return EAI_OK;
        }
    if (p->c)
        EAI_TRY(const_in_layout(s, ni, p, &plain, name, v));
    else if (p->v >= 0)
        EAI_TRY(transpose_to(s, ni, p, &plain, name, v));
    else
        return eai__tfjs_port_value(s, ni, p, NULL, v); /* fails with the message */
    return cache_put(p, &plain, *v);
}

tfj_port_t *eai__tfjs_in(const tfj_t *s, int ni, int k)
{
    const tfj_node_t *n = &s->nodes[ni];
    return &s->nodes[n->in_node[k]].ports[n->in_port[k]];
}

eai_status_t eai__tfjs_in_value(tfj_t *s, int ni, int k, const tfj_lay_t *lay, int *v)
{
    return eai__tfjs_port_value(s, ni, eai__tfjs_in(s, ni, k), lay, v);
}

eai_status_t eai__tfjs_in_const(const tfj_t *s, int ni, int k, const tfj_const_t **out)
{
    const tfj_port_t *p = eai__tfjs_in(s, ni, k);
    if (!p->c)
        return eai__tfjs_fail(s, ni, EAI_E_UNSUPPORTED,
                              "input %d ('%s') must be a constant for the TF.js importer", k,
                              s->nodes[p->node].name);
    *out = p->c;
    return EAI_OK;
}

eai_status_t eai__tfjs_in_ints(const tfj_t *s, int ni, int k, int64_t *v, int cap, int *n)
{
    const tfj_const_t *c;
    EAI_TRY(eai__tfjs_in_const(s, ni, k, &c));
    int64_t numel = eai__shape_numel(&c->shape);
    if (c->dt != EAI_I32 && c->dt != EAI_I64)
        return eai__tfjs_fail(s, ni, EAI_E_FORMAT, "input %d must hold integers, not %s", k,
                              eai_dtype_name(c->dt));
    if (numel > cap)
        return eai__tfjs_fail(s, ni, EAI_E_UNSUPPORTED, "input %d has %lld values, at most %d", k,
                              (long long)numel, cap);
    for (int64_t i = 0; i < numel; i++)
        v[i] = c->dt == EAI_I32 ? ((const int32_t *)c->data)[i] : ((const int64_t *)c->data)[i];
    *n = (int)numel;
    return EAI_OK;
}

/* ---- emitting IR ---- */

eai_status_t eai__tfjs_new_const(tfj_t *s, int ni, const char *what, bool weight, eai_dtype_t dt,
                                 int rank, const int64_t *dims, const void *data, int *v)
{
    char name[512];
    snprintf(name, sizeof name, "%s%s#%s%d", weight ? "" : "\001", s->nodes[ni].name, what,
             s->uniq++);
    eai__shape_t sh = {.rank = rank};
    for (int i = 0; i < rank; i++)
        sh.d[i] = dims[i];
    size_t bytes = (size_t)eai__shape_numel(&sh) * eai_dtype_size(dt);
    void *buf = eai__alloc_aligned(&s->g->alloc, bytes + 8);
    if (!buf) return eai__tfjs_fail(s, ni, EAI_E_NOMEM, "out of memory");
    if (bytes) memcpy(buf, data, bytes);
    return eai__graph_add_const(s->g, name, dt, &sh, buf, v);
}

eai_status_t eai__tfjs_i64_const(tfj_t *s, int ni, const char *what, int n, const int64_t *vals,
                                 bool scalar, int *v)
{
    int64_t d = n;
    return eai__tfjs_new_const(s, ni, what, false, EAI_I64, scalar ? 0 : 1, &d, vals, v);
}

eai_status_t eai__tfjs_new_act(tfj_t *s, int ni, int port, const tfj_lay_t *lay, int *v)
{
    const tfj_node_t *n = &s->nodes[ni];
    const char *on = port >= 0 ? n->ports[port].out_name : NULL;
    char name[512];
    if (port >= 0 && on && eai__perm_plain(lay))
        snprintf(name, sizeof name, "%s", on);
    else if (port > 0 && !on)
        snprintf(name, sizeof name, "%s:%d", n->name, port);
    else if (port == 0 && !on)
        snprintf(name, sizeof name, "%s", n->name);
    else
        snprintf(name, sizeof name, "%s#%d", n->name, s->uniq++);
    if (eai__strmap_get(&s->g->names, name) >= 0)
        return eai__tfjs_fail(s, ni, EAI_E_FORMAT, "value name '%s' is used twice", name);
    return eai__graph_value(s->g, name, v);
}

eai_status_t eai__tfjs_emit(tfj_t *s, int ni, const char *op, const int *in, int n_in,
                            const int *out, int n_out)
{
    tfj_node_t *n = &s->nodes[ni];
    char name[512];
    if (n->emitted)
        snprintf(name, sizeof name, "%s#%d", n->name, n->emitted);
    else
        snprintf(name, sizeof name, "%s", n->name);
    n->emitted++;
    return eai__graph_add_node(s->g, name, op, "", in, n_in, out, n_out, NULL);
}

static eai_status_t set_attr(tfj_t *s, const eai__attr_t *a)
{
    return eai__node_add_attr(s->g, s->g->n_nodes - 1, a);
}

eai_status_t eai__tfjs_set_int(tfj_t *s, const char *name, int64_t v)
{
    return set_attr(s,
                    &(eai__attr_t){.name = (char *)name, .type = EAI__A_INT, .i = v, .tensor = -1});
}

eai_status_t eai__tfjs_set_float(tfj_t *s, const char *name, float v)
{
    return set_attr(
        s, &(eai__attr_t){.name = (char *)name, .type = EAI__A_FLOAT, .f = v, .tensor = -1});
}

eai_status_t eai__tfjs_set_ints(tfj_t *s, const char *name, const int64_t *v, int n)
{
    return set_attr(
        s,
        &(eai__attr_t){
            .name = (char *)name, .type = EAI__A_INTS, .n = n, .ints = (int64_t *)v, .tensor = -1});
}

eai_status_t eai__tfjs_set_str(tfj_t *s, const char *name, const char *v)
{
    return set_attr(
        s,
        &(eai__attr_t){.name = (char *)name, .type = EAI__A_STRING, .s = (char *)v, .tensor = -1});
}

eai_status_t eai__tfjs_emit1(tfj_t *s, int ni, const char *op, const int *in, int n_in, int port,
                             const tfj_lay_t *lay, int *out)
{
    int o; /* `in` may point at *out: write it last */
    EAI_TRY(eai__tfjs_new_act(s, ni, port, lay, &o));
    EAI_TRY(eai__tfjs_emit(s, ni, op, in, n_in, &o, 1));
    *out = o;
    return EAI_OK;
}

eai_status_t eai__tfjs_set_port(tfj_t *s, int ni, int k, int v, const tfj_lay_t *lay,
                                eai_dtype_t dt)
{
    tfj_port_t *p = &s->nodes[ni].ports[k];
    p->v = v;
    p->lay = lay ? *lay : (tfj_lay_t){0};
    eai__perm_norm(&p->lay);
    p->dt = dt;
    return EAI_OK;
}
