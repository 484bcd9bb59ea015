/* libFuzzer target for the TraCI reply decoder (eai__traci_decode_get): any
 * bytes must give a status, never a crash, leak or sanitizer report, and a
 * decoded value must point inside the arena. The first input byte picks the
 * request (and so the decoder: plain typed value, traffic-light logics,
 * controlled links, lane links); the rest is the reply after its 4-byte
 * total length. The same bytes then go through the subscription-result
 * decoders (a simulationStep reply and a subscribe reply) and every decoded
 * string is checked to lie in the table. Corpus: fuzz/corpus/traci (replies
 * as SUMO 1.15 sends them; sub_*.bin: steps with subscription results). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/traffic/traci_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
    int get, var;
    const char *id;
} reqs[] = {
    {EAI_TRACI_GET_TL, EAI_TRACI_VAR_TL_COMPLETE_DEFINITION, NULL},
    {EAI_TRACI_GET_TL, EAI_TRACI_VAR_TL_CONTROLLED_LINKS, NULL},
    {EAI_TRACI_GET_LANE, EAI_TRACI_VAR_LANE_LINKS, NULL},
    {EAI_TRACI_GET_TL, EAI_TRACI_VAR_TL_RYG_STATE, NULL},
    {EAI_TRACI_GET_VEHICLE, EAI_TRACI_VAR_ID_LIST, NULL},
    {EAI_TRACI_GET_VEHICLE, EAI_TRACI_VAR_POSITION, NULL},
    {EAI_TRACI_GET_SIM, EAI_TRACI_VAR_TIME, NULL},
    {EAI_TRACI_GET_LANEAREA, EAI_TRACI_VAR_LAST_STEP_VEHICLE_NUMBER, NULL},
};

static void touch(const char *s)
{
    if (!s) abort();
    volatile size_t n = strlen(s); /* ASan checks the string lies in the arena */
    (void)n;
}

/* Every decoded object and value must point inside the table, and finding
 * an object by its own key must succeed. */
static void subs_walk(const eai__traci_subs_t *s)
{
    for (int i = 0; i < s->n_objs; i++) {
        const eai__traci_subobj_t *o = &s->objs[i];
        if (o->v0 < 0 || o->nv < 0 || o->v0 + o->nv > s->n_vals) abort();
        if (o->id_off >= s->pool_len) abort();
        touch(s->pool + o->id_off);
        if (o->ctx_off != UINT32_MAX) touch(s->pool + o->ctx_off);
        for (int k = o->v0; k < o->v0 + o->nv; k++) {
            const eai__traci_subval_t *v = &s->vals[k];
            if (v->kind == EAI__TRACI_STRING || v->kind == EAI__TRACI_SUB_ERR)
                touch(s->pool + v->off);
            if (v->kind == EAI__TRACI_STRLIST) {
                const char *p = s->pool + v->off;
                for (uint32_t j = 0; j < v->n; j++, p += strlen(p) + 1)
                    touch(p);
            }
        }
        if (o->domain && !eai__traci_subs_find(s, o->domain, s->pool + o->id_off, -1, NULL))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t k = data[0] % (sizeof reqs / sizeof reqs[0]);
    eai_allocator_t al = {0};
    eai__traci_arena_t a = {.alloc = &al};
    eai__traci_value_t v;
    eai_status_t st =
        eai__traci_decode_get(data + 1, size - 1, &a, reqs[k].get, reqs[k].var, reqs[k].id, &v);
    if (st == EAI_OK) {
        switch (v.kind) {
        case EAI__TRACI_STRING:
            touch(v.s);
            break;
        case EAI__TRACI_STRLIST:
            for (int i = 0; i < v.sl.n; i++)
                touch(v.sl.items[i]);
            break;
        case EAI__TRACI_LOGICS:
            for (int i = 0; i < v.logics.n; i++) {
                const eai_traci_logic_t *l = &v.logics.items[i];
                touch(l->program_id);
                for (int p = 0; p < l->n_phases; p++) {
                    touch(l->phases[p].state);
                    touch(l->phases[p].name);
                    for (int q = 0; q < l->phases[p].n_next; q++)
                        if (l->phases[p].next[q] == 0x7fffffff) touch("");
                }
                for (int p = 0; p < 2 * l->n_params; p++)
                    touch(l->params[p]);
            }
            break;
        case EAI__TRACI_LINKS:
            if (v.links.n < 0 || v.links.n_signals < 0) abort();
            for (int i = 0; i < v.links.n; i++) {
                if (v.links.items[i].signal >= v.links.n_signals) abort();
                touch(v.links.items[i].from_lane);
                touch(v.links.items[i].to_lane);
                touch(v.links.items[i].via_lane);
            }
            break;
        case EAI__TRACI_LANE_LINKS:
            for (int i = 0; i < v.lane_links.n; i++) {
                touch(v.lane_links.items[i].to_lane);
                touch(v.lane_links.items[i].via_lane);
            }
            break;
        default:
            break;
        }
    }
    /* the status reader alone, as simulationStep uses it */
    eai__traci_rd_t r = {data + 1, size - 1, 0, EAI_TRACI_CMD_SIMSTEP, -1, NULL};
    (void)eai__traci_read_status(&r, EAI_TRACI_CMD_SIMSTEP);
    eai__traci_arena_free(&a);
    /* the same bytes as a simulationStep reply with subscription results, and
     * as the reply to a vehicle subscription (appending to that table) */
    eai__traci_subs_t subs = {.alloc = &al};
    (void)eai__traci_decode_step(data + 1, size - 1, &subs);
    (void)eai__traci_decode_subscribe(data + 1, size - 1, &subs, EAI_TRACI_SUB_VEHICLE, "ns.1");
    subs_walk(&subs);
    eai__traci_subs_free(&subs);
    return 0;
}
