/* Typed TraCI getters and setters, one line each over the generic ones in
 * traci.c: the domain and variable codes are the whole content. Codes from
 * SUMO 1.15 tools/traci/constants.py. */
#include <string.h>
#include <unistd.h>

#include "core/core_impl.h"
#include "traffic/traci_impl.h"

#define I(name, dom, var)                                                                          \
    eai_status_t name(eai_traci_t *t, const char *id, int *n)                                      \
    {                                                                                              \
        return eai_traci_get_int(t, dom, var, id, n);                                              \
    }
#define D(name, dom, var)                                                                          \
    eai_status_t name(eai_traci_t *t, const char *id, double *v)                                   \
    {                                                                                              \
        return eai_traci_get_double(t, dom, var, id, v);                                           \
    }
#define S(name, dom, var)                                                                          \
    eai_status_t name(eai_traci_t *t, const char *id, const char **s)                              \
    {                                                                                              \
        return eai_traci_get_string(t, dom, var, id, s);                                           \
    }
#define L(name, dom, var)                                                                          \
    eai_status_t name(eai_traci_t *t, const char *id, eai_traci_strlist_t *out)                    \
    {                                                                                              \
        return eai_traci_get_strlist(t, dom, var, id, out);                                        \
    }
/* object id lists and simulation-wide values take no id */
#define IDS(name, dom)                                                                             \
    eai_status_t name(eai_traci_t *t, eai_traci_strlist_t *out)                                    \
    {                                                                                              \
        return eai_traci_get_strlist(t, dom, EAI_TRACI_VAR_ID_LIST, "", out);                      \
    }
#define SIM_I(name, var)                                                                           \
    eai_status_t name(eai_traci_t *t, int *n)                                                      \
    {                                                                                              \
        return eai_traci_get_int(t, EAI_TRACI_GET_SIM, var, "", n);                                \
    }
#define SIM_D(name, var)                                                                           \
    eai_status_t name(eai_traci_t *t, double *v)                                                   \
    {                                                                                              \
        return eai_traci_get_double(t, EAI_TRACI_GET_SIM, var, "", v);                             \
    }
#define SIM_L(name, var)                                                                           \
    eai_status_t name(eai_traci_t *t, eai_traci_strlist_t *out)                                    \
    {                                                                                              \
        return eai_traci_get_strlist(t, EAI_TRACI_GET_SIM, var, "", out);                          \
    }

enum {
    SIM = EAI_TRACI_GET_SIM,
    TL = EAI_TRACI_GET_TL,
    E1 = EAI_TRACI_GET_INDUCTIONLOOP,
    E2 = EAI_TRACI_GET_LANEAREA,
    LANE = EAI_TRACI_GET_LANE,
    EDGE = EAI_TRACI_GET_EDGE,
    VEH = EAI_TRACI_GET_VEHICLE,
    JUNC = EAI_TRACI_GET_JUNCTION,
};

/* simulation */
SIM_D(eai_traci_sim_time, EAI_TRACI_VAR_TIME)
SIM_D(eai_traci_sim_delta_t, EAI_TRACI_VAR_DELTA_T)
SIM_I(eai_traci_sim_min_expected, EAI_TRACI_VAR_MIN_EXPECTED_VEHICLES)
SIM_I(eai_traci_sim_departed_number, EAI_TRACI_VAR_DEPARTED_NUMBER)
SIM_I(eai_traci_sim_arrived_number, EAI_TRACI_VAR_ARRIVED_NUMBER)
SIM_L(eai_traci_sim_departed_ids, EAI_TRACI_VAR_DEPARTED_IDS)
SIM_L(eai_traci_sim_arrived_ids, EAI_TRACI_VAR_ARRIVED_IDS)
SIM_I(eai_traci_sim_teleport_starting_number, EAI_TRACI_VAR_TELEPORT_STARTING_NUMBER)
SIM_I(eai_traci_sim_teleport_ending_number, EAI_TRACI_VAR_TELEPORT_ENDING_NUMBER)
SIM_I(eai_traci_sim_colliding_number, EAI_TRACI_VAR_COLLIDING_NUMBER)
SIM_I(eai_traci_sim_emergency_stopping_number, EAI_TRACI_VAR_EMERGENCYSTOPPING_NUMBER)

/* traffic lights */
IDS(eai_traci_tls_ids, TL)
S(eai_traci_tls_get_state, TL, EAI_TRACI_VAR_TL_RYG_STATE)
I(eai_traci_tls_get_phase, TL, EAI_TRACI_VAR_TL_CURRENT_PHASE)
D(eai_traci_tls_get_phase_duration, TL, EAI_TRACI_VAR_TL_PHASE_DURATION)
S(eai_traci_tls_get_program, TL, EAI_TRACI_VAR_TL_CURRENT_PROGRAM)
D(eai_traci_tls_next_switch, TL, EAI_TRACI_VAR_TL_NEXT_SWITCH)
L(eai_traci_tls_controlled_lanes, TL, EAI_TRACI_VAR_TL_CONTROLLED_LANES)

eai_status_t eai_traci_tls_set_state(eai_traci_t *t, const char *id, const char *state)
{
    /* SUMO 1.15 does not answer a state of the wrong length with an error: it
     * quits the whole simulation ("Mismatching phase size"). One extra round
     * trip turns that into a clear error here. */
    const char *cur;
    if (!state)
        return eai_fail(EAI_E_INVALID, "traci: set state of '%s': NULL state", id ? id : "");
    EAI_TRY(eai_traci_tls_get_state(t, id, &cur));
    if (strlen(cur) != strlen(state))
        return eai_fail(EAI_E_INVALID,
                        "traci: set state of '%s': '%s' has %zu signals, the light has %zu", id,
                        state, strlen(state), strlen(cur));
    return eai_traci_set_string(t, EAI_TRACI_SET_TL, EAI_TRACI_VAR_TL_RYG_STATE, id, state);
}

eai_status_t eai_traci_tls_set_phase(eai_traci_t *t, const char *id, int phase)
{
    return eai_traci_set_int(t, EAI_TRACI_SET_TL, EAI_TRACI_VAR_TL_PHASE_INDEX, id, phase);
}

eai_status_t eai_traci_tls_set_phase_duration(eai_traci_t *t, const char *id, double s)
{
    return eai_traci_set_double(t, EAI_TRACI_SET_TL, EAI_TRACI_VAR_TL_PHASE_DURATION, id, s);
}

eai_status_t eai_traci_tls_set_program(eai_traci_t *t, const char *id, const char *prog)
{
    return eai_traci_set_string(t, EAI_TRACI_SET_TL, EAI_TRACI_VAR_TL_PROGRAM, id, prog);
}

eai_status_t eai_traci_tls_controlled_links(eai_traci_t *t, const char *id, eai_traci_links_t *out)
{
    eai__traci_value_t v;
    EAI_TRY(
        eai__traci_get_kind(t, TL, EAI_TRACI_VAR_TL_CONTROLLED_LINKS, id, EAI__TRACI_LINKS, &v));
    *out = v.links;
    return EAI_OK;
}

eai_status_t eai_traci_tls_get_logics(eai_traci_t *t, const char *id, eai_traci_logics_t *out)
{
    eai__traci_value_t v;
    EAI_TRY(eai__traci_get_kind(t, TL, EAI_TRACI_VAR_TL_COMPLETE_DEFINITION, id, EAI__TRACI_LOGICS,
                                &v));
    *out = v.logics;
    return EAI_OK;
}

/* induction loops */
IDS(eai_traci_e1_ids, E1)
I(eai_traci_e1_vehicle_number, E1, EAI_TRACI_VAR_LAST_STEP_VEHICLE_NUMBER)
L(eai_traci_e1_vehicle_ids, E1, EAI_TRACI_VAR_LAST_STEP_VEHICLE_ID_LIST)
D(eai_traci_e1_mean_speed, E1, EAI_TRACI_VAR_LAST_STEP_MEAN_SPEED)
D(eai_traci_e1_occupancy, E1, EAI_TRACI_VAR_LAST_STEP_OCCUPANCY)

/* lane-area detectors */
IDS(eai_traci_e2_ids, E2)
I(eai_traci_e2_vehicle_number, E2, EAI_TRACI_VAR_LAST_STEP_VEHICLE_NUMBER)
I(eai_traci_e2_halting_number, E2, EAI_TRACI_VAR_LAST_STEP_HALTING_NUMBER)
D(eai_traci_e2_jam_length_m, E2, EAI_TRACI_VAR_JAM_LENGTH_METERS)
I(eai_traci_e2_jam_length_veh, E2, EAI_TRACI_VAR_JAM_LENGTH_VEHICLE)
L(eai_traci_e2_vehicle_ids, E2, EAI_TRACI_VAR_LAST_STEP_VEHICLE_ID_LIST)
D(eai_traci_e2_mean_speed, E2, EAI_TRACI_VAR_LAST_STEP_MEAN_SPEED)
D(eai_traci_e2_occupancy, E2, EAI_TRACI_VAR_LAST_STEP_OCCUPANCY)
S(eai_traci_e2_lane, E2, EAI_TRACI_VAR_LANE_ID)
D(eai_traci_e2_length, E2, EAI_TRACI_VAR_LENGTH)

/* lanes and edges */
IDS(eai_traci_lane_ids, LANE)
D(eai_traci_lane_length, LANE, EAI_TRACI_VAR_LENGTH)
D(eai_traci_lane_max_speed, LANE, EAI_TRACI_VAR_MAXSPEED)
S(eai_traci_lane_edge, LANE, EAI_TRACI_VAR_LANE_EDGE_ID)
I(eai_traci_lane_vehicle_number, LANE, EAI_TRACI_VAR_LAST_STEP_VEHICLE_NUMBER)
I(eai_traci_lane_halting_number, LANE, EAI_TRACI_VAR_LAST_STEP_HALTING_NUMBER)
D(eai_traci_lane_waiting_time, LANE, EAI_TRACI_VAR_WAITING_TIME)
L(eai_traci_lane_vehicle_ids, LANE, EAI_TRACI_VAR_LAST_STEP_VEHICLE_ID_LIST)
IDS(eai_traci_edge_ids, EDGE)
D(eai_traci_edge_waiting_time, EDGE, EAI_TRACI_VAR_WAITING_TIME)
I(eai_traci_edge_vehicle_number, EDGE, EAI_TRACI_VAR_LAST_STEP_VEHICLE_NUMBER)
I(eai_traci_edge_halting_number, EDGE, EAI_TRACI_VAR_LAST_STEP_HALTING_NUMBER)
D(eai_traci_lane_width, LANE, EAI_TRACI_VAR_WIDTH)

eai_status_t eai_traci_lane_links(eai_traci_t *t, const char *id, eai_traci_lane_links_t *out)
{
    eai__traci_value_t v;
    EAI_TRY(eai__traci_get_kind(t, LANE, EAI_TRACI_VAR_LANE_LINKS, id, EAI__TRACI_LANE_LINKS, &v));
    *out = v.lane_links;
    return EAI_OK;
}

/* vehicles */
IDS(eai_traci_veh_ids, VEH)
D(eai_traci_veh_speed, VEH, EAI_TRACI_VAR_SPEED)
D(eai_traci_veh_angle, VEH, EAI_TRACI_VAR_ANGLE)
S(eai_traci_veh_lane, VEH, EAI_TRACI_VAR_LANE_ID)
D(eai_traci_veh_lane_position, VEH, EAI_TRACI_VAR_LANEPOSITION)
S(eai_traci_veh_road, VEH, EAI_TRACI_VAR_ROAD_ID)
D(eai_traci_veh_waiting_time, VEH, EAI_TRACI_VAR_WAITING_TIME)
D(eai_traci_veh_accumulated_waiting_time, VEH, EAI_TRACI_VAR_ACCUMULATED_WAITING_TIME)
S(eai_traci_veh_type, VEH, EAI_TRACI_VAR_TYPE)
S(eai_traci_veh_route, VEH, EAI_TRACI_VAR_ROUTE_ID)
D(eai_traci_veh_length, VEH, EAI_TRACI_VAR_LENGTH)
D(eai_traci_veh_width, VEH, EAI_TRACI_VAR_WIDTH)
S(eai_traci_veh_vclass, VEH, EAI_TRACI_VAR_VEHICLECLASS)

/* junctions */
IDS(eai_traci_junction_ids, JUNC)

eai_status_t eai_traci_junction_position(eai_traci_t *t, const char *id, double *x, double *y)
{
    return eai_traci_get_pos2d(t, JUNC, EAI_TRACI_VAR_POSITION, id, x, y);
}

eai_status_t eai_traci_veh_position(eai_traci_t *t, const char *id, double *x, double *y)
{
    return eai_traci_get_pos2d(t, VEH, EAI_TRACI_VAR_POSITION, id, x, y);
}

/* Lane shape: the generic decoder skips polygons, so this one request is
 * written and its reply read here. Reply: status, then the response command
 * [len][0xb3][var][id][0x06][count: ubyte, or 0 and int][count x (x, y)]. */
static eai_status_t shape_fail(eai_traci_t *t, eai_status_t st)
{
    if (st == EAI_E_FORMAT) { /* the stream is out of step: break the handle, as traci.c does */
        t->state = 2;
        if (t->fd >= 0) close(t->fd);
        t->fd = -1;
    }
    return st;
}

static eai_status_t shape_decode(eai__traci_rd_t *r, const char *id, double *xy, int cap, int *n)
{
    EAI_TRY(eai__traci_read_status(r, LANE));
    uint8_t l8 = 0, rid = 0, rvar = 0, c8 = 0;
    size_t start = r->off, len;
    EAI_TRY(eai__traci_rd_u8(r, &l8));
    len = l8;
    if (l8 == 0) {
        int32_t l32 = 0;
        EAI_TRY(eai__traci_rd_i32(r, &l32));
        if (l32 < 6) return eai_fail(EAI_E_FORMAT, "traci: lane shape '%s': bad length", id);
        len = (size_t)l32;
    }
    if (len > r->n - start)
        return eai_fail(EAI_E_FORMAT, "traci: lane shape '%s': reply cut short", id);
    r->n = start + len; /* the value must lie within its command */
    const uint8_t *s;
    size_t slen;
    EAI_TRY(eai__traci_rd_u8(r, &rid));
    EAI_TRY(eai__traci_rd_u8(r, &rvar));
    EAI_TRY(eai__traci_rd_strview(r, &s, &slen));
    if (rid != LANE + 0x10 || rvar != EAI_TRACI_VAR_SHAPE || slen != strlen(id) ||
        memcmp(s, id, slen) != 0)
        return eai_fail(EAI_E_FORMAT, "traci: lane shape '%s': reply to another request", id);
    EAI_TRY(eai__traci_rd_type(r, EAI_TRACI_TYPE_POLYGON));
    EAI_TRY(eai__traci_rd_u8(r, &c8));
    int32_t cnt = c8;
    if (c8 == 0) EAI_TRY(eai__traci_rd_i32(r, &cnt));
    if (cnt < 0 || (size_t)cnt * 16 > r->n - r->off)
        return eai_fail(EAI_E_FORMAT, "traci: lane shape '%s': %ld points do not fit the reply", id,
                        (long)cnt);
    for (int32_t i = 0; i < cnt; i++) {
        double x, y;
        EAI_TRY(eai__traci_rd_f64(r, &x));
        EAI_TRY(eai__traci_rd_f64(r, &y));
        if (i < cap) xy[2 * i] = x, xy[2 * i + 1] = y;
    }
    *n = (int)cnt;
    return EAI_OK;
}

eai_status_t eai_traci_lane_shape(eai_traci_t *t, const char *id, double *xy, int cap, int *n)
{
    if (!t || !id || !n || cap < 0 || (cap > 0 && !xy))
        return eai_fail(EAI_E_INVALID, "traci: lane shape: NULL argument or negative cap");
    t->w.len = 0;
    t->w.oom = false;
    eai__traci_wr_i32(&t->w, 0); /* total length, filled by the round trip */
    size_t c = eai__traci_wr_cmd_begin(&t->w, (uint8_t)LANE);
    eai__traci_wr_u8(&t->w, EAI_TRACI_VAR_SHAPE);
    eai__traci_wr_str(&t->w, id);
    eai__traci_wr_cmd_end(&t->w, c);
    EAI_TRY(eai__traci_roundtrip(t));
    eai__traci_rd_t r = {t->rbuf, t->rlen, 0, LANE, EAI_TRACI_VAR_SHAPE, id};
    return shape_fail(t, shape_decode(&r, id, xy, cap, n));
}

/* lane.getInternalFoes: VAR_FOES with an empty "to lane" parameter, which
 * SUMO answers with the internal lanes crossing this one (a get command with
 * a typed parameter, which the generic getters do not write). */
eai_status_t eai_traci_lane_internal_foes(eai_traci_t *t, const char *id, eai_traci_strlist_t *out)
{
    if (!t || !id || !out) return eai_fail(EAI_E_INVALID, "traci: internal foes: NULL argument");
    EAI_TRY(eai__traci_check_open(t));
    eai__traci_msg_begin(t);
    size_t c = eai__traci_wr_cmd_begin(&t->w, (uint8_t)LANE);
    eai__traci_wr_u8(&t->w, EAI_TRACI_VAR_FOES);
    eai__traci_wr_str(&t->w, id);
    eai__traci_wr_u8(&t->w, EAI_TRACI_TYPE_STRING);
    eai__traci_wr_str(&t->w, "");
    eai__traci_wr_cmd_end(&t->w, c);
    EAI_TRY(eai__traci_roundtrip(t));
    eai__traci_value_t v;
    EAI_TRY(eai__traci_check_parse(
        t, eai__traci_decode_get(t->rbuf, t->rlen, &t->arena, LANE, EAI_TRACI_VAR_FOES, id, &v)));
    if (v.kind != EAI__TRACI_STRLIST)
        return eai__traci_check_parse(
            t, eai_fail(EAI_E_FORMAT, "traci: internal foes of '%s': not a string list", id));
    *out = v.sl;
    return EAI_OK;
}
