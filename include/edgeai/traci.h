/* A C client for SUMO's TraCI TCP protocol and helpers that run `sumo` as a
 * child process on 127.0.0.1.
 *
 *   eai_sumo_t *sumo;
 *   EAI_TRY(eai_sumo_start(&(eai_sumo_opts_t){.config = "x.sumocfg", .seed = 7,
 *                                             .set_seed = true}, &sumo));
 *   eai_traci_t *t = eai_sumo_traci(sumo);          // borrowed, owned by sumo
 *   eai_traci_strlist_t tls;
 *   EAI_TRY(eai_traci_tls_ids(t, &tls));            // valid until the next call on t
 *   char id[64];
 *   snprintf(id, sizeof id, "%s", tls.items[0]);    // copy what must outlive it
 *   for (int k = 0; k < 3600; k++) {
 *       EAI_TRY(eai_traci_step(t, 0));              // one step
 *       int n;
 *       EAI_TRY(eai_traci_e2_vehicle_number(t, "det0", &n));
 *       if (k % 30 == 0) EAI_TRY(eai_traci_tls_set_phase(t, id, 2));
 *   }
 *   eai_sumo_destroy(sumo);                          // TraCI close, wait, kill, reap
 *
 * Memory: every string or array a getter returns points into the handle's
 * reply arena and stays valid until the next call on the same handle (any
 * eai_traci_* call that talks to SUMO). Copy what you keep. After warm-up the
 * arena does not grow, so steady-state getters do not allocate.
 *
 * Errors: SUMO's error status for a command (unknown id, bad value) returns
 * EAI_E_INVALID with SUMO's own sentence in eai_last_error(); the connection
 * stays usable. A transport failure breaks the handle for good: SUMO closed
 * the socket or exited (EAI_E_UNAVAILABLE, with sumo's exit status and last
 * error line when started by eai_sumo_start), a reply that does not parse
 * (EAI_E_FORMAT), no reply within timeout_ms (EAI_E_TIMEOUT). Later calls on
 * a broken handle return EAI_E_STATE. Every read and write is bounded by
 * poll(); nothing blocks forever.
 *
 * Threads: a handle is single-threaded. Different handles may be used from
 * different threads. No hidden threads.
 *
 * Wire format (TraCI, SUMO 1.15, API version 20): big-endian; a message is a
 * 4-byte total length then commands; a command is a 1-byte length (or 0 and a
 * 4-byte length when longer than 255 bytes), a command id, its content. The
 * codes below come from SUMO's tools/traci/constants.py (the C++ header cannot
 * be included from C).
 */
#ifndef EDGEAI_TRACI_H
#define EDGEAI_TRACI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgeai/model.h"
#include "edgeai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- protocol codes (for the generic getters/setters) ------------------ */
#define EAI_TRACI_CMD_GETVERSION 0x00
#define EAI_TRACI_CMD_SIMSTEP    0x02
#define EAI_TRACI_CMD_SETORDER   0x03
#define EAI_TRACI_CMD_CLOSE      0x7F
/* get commands; the matching set command is get + 0x20, a get's reply id is
 * get + 0x10, a variable subscription is get + 0x30 (reply get + 0x40) */
#define EAI_TRACI_GET_INDUCTIONLOOP 0xa0 /* E1 */
#define EAI_TRACI_GET_TL            0xa2
#define EAI_TRACI_GET_LANE          0xa3
#define EAI_TRACI_GET_VEHICLE       0xa4
#define EAI_TRACI_GET_JUNCTION      0xa9
#define EAI_TRACI_GET_EDGE          0xaa
#define EAI_TRACI_GET_SIM           0xab
#define EAI_TRACI_GET_LANEAREA      0xad /* E2 */
#define EAI_TRACI_SET_TL            0xc2
#define EAI_TRACI_SET_LANE          0xc3
#define EAI_TRACI_SET_VEHICLE       0xc4
#define EAI_TRACI_SET_SIM           0xcb

/* value types */
#define EAI_TRACI_TYPE_POSITION2D 0x01
#define EAI_TRACI_TYPE_POSITION3D 0x03
#define EAI_TRACI_TYPE_POLYGON    0x06
#define EAI_TRACI_TYPE_UBYTE      0x07
#define EAI_TRACI_TYPE_BYTE       0x08
#define EAI_TRACI_TYPE_INTEGER    0x09
#define EAI_TRACI_TYPE_DOUBLE     0x0B
#define EAI_TRACI_TYPE_STRING     0x0C
#define EAI_TRACI_TYPE_STRINGLIST 0x0E
#define EAI_TRACI_TYPE_COMPOUND   0x0F
#define EAI_TRACI_TYPE_DOUBLELIST 0x10
#define EAI_TRACI_TYPE_COLOR      0x11

/* variables (meaning depends on the domain; see the typed getters) */
#define EAI_TRACI_VAR_ID_LIST                   0x00
#define EAI_TRACI_VAR_ID_COUNT                  0x01
#define EAI_TRACI_VAR_LAST_STEP_VEHICLE_NUMBER  0x10
#define EAI_TRACI_VAR_LAST_STEP_MEAN_SPEED      0x11
#define EAI_TRACI_VAR_LAST_STEP_VEHICLE_ID_LIST 0x12
#define EAI_TRACI_VAR_LAST_STEP_OCCUPANCY       0x13
#define EAI_TRACI_VAR_LAST_STEP_HALTING_NUMBER  0x14
#define EAI_TRACI_VAR_JAM_LENGTH_VEHICLE        0x18
#define EAI_TRACI_VAR_JAM_LENGTH_METERS         0x19
#define EAI_TRACI_VAR_TL_RYG_STATE              0x20
#define EAI_TRACI_VAR_TL_PHASE_INDEX            0x22 /* set */
#define EAI_TRACI_VAR_TL_PROGRAM                0x23 /* set */
#define EAI_TRACI_VAR_TL_PHASE_DURATION         0x24
#define EAI_TRACI_VAR_TL_CONTROLLED_LANES       0x26
#define EAI_TRACI_VAR_TL_CONTROLLED_LINKS       0x27
#define EAI_TRACI_VAR_TL_CURRENT_PHASE          0x28 /* get */
#define EAI_TRACI_VAR_TL_CURRENT_PROGRAM        0x29 /* get */
#define EAI_TRACI_VAR_TL_COMPLETE_DEFINITION    0x2b /* get */
#define EAI_TRACI_VAR_TL_COMPLETE_PROGRAM       0x2c /* set */
#define EAI_TRACI_VAR_TL_NEXT_SWITCH            0x2d
#define EAI_TRACI_VAR_LANE_EDGE_ID              0x31
#define EAI_TRACI_VAR_LANE_LINKS                0x33
#define EAI_TRACI_VAR_FOES                      0x37 /* lane; takes a "to lane" string */
#define EAI_TRACI_VAR_SPEED                     0x40
#define EAI_TRACI_VAR_MAXSPEED                  0x41
#define EAI_TRACI_VAR_POSITION                  0x42
#define EAI_TRACI_VAR_ANGLE                     0x43
#define EAI_TRACI_VAR_LENGTH                    0x44
#define EAI_TRACI_VAR_VEHICLECLASS              0x49
#define EAI_TRACI_VAR_WIDTH                     0x4d
#define EAI_TRACI_VAR_SHAPE                     0x4e
#define EAI_TRACI_VAR_TYPE                      0x4f
#define EAI_TRACI_VAR_ROAD_ID                   0x50
#define EAI_TRACI_VAR_LANE_ID                   0x51
#define EAI_TRACI_VAR_ROUTE_ID                  0x53
#define EAI_TRACI_VAR_LANEPOSITION              0x56
#define EAI_TRACI_VAR_TIME                      0x66 /* sim: seconds, double */
#define EAI_TRACI_VAR_WAITING_TIME              0x7a
#define EAI_TRACI_VAR_ACCUMULATED_WAITING_TIME  0x87
#define EAI_TRACI_VAR_DEPARTED_NUMBER           0x73
#define EAI_TRACI_VAR_DEPARTED_IDS              0x74
#define EAI_TRACI_VAR_TELEPORT_STARTING_NUMBER  0x75
#define EAI_TRACI_VAR_TELEPORT_ENDING_NUMBER    0x77
#define EAI_TRACI_VAR_ARRIVED_NUMBER            0x79
#define EAI_TRACI_VAR_ARRIVED_IDS               0x7a
#define EAI_TRACI_VAR_DELTA_T                   0x7b
#define EAI_TRACI_VAR_MIN_EXPECTED_VEHICLES     0x7d
#define EAI_TRACI_VAR_COLLIDING_NUMBER          0x80
#define EAI_TRACI_VAR_EMERGENCYSTOPPING_NUMBER  0x89

typedef struct eai_traci eai_traci_t;

/* Options; zero-init means the defaults. */
typedef struct eai_traci_opts {
    /* Bound on waiting for each reply (and each send); 0 means 60000 ms.
     * A SUMO step on a big net can take long: size it to the slowest step. */
    int timeout_ms;
    /* eai_traci_connect keeps retrying a refused connection until this many
     * ms have passed (SUMO opens its port only after loading the net);
     * 0 means a single attempt. */
    int connect_timeout_ms;
    eai_allocator_t alloc; /* zero: libc */
} eai_traci_opts_t;

/* A list of strings in the handle's reply arena (valid until the next call
 * on the handle). items[i] are NUL-terminated; TraCI strings are Latin-1
 * bytes and may contain no NUL (SUMO ids cannot). */
typedef struct eai_traci_strlist {
    int n;
    const char *const *items;
} eai_traci_strlist_t;

/* One phase of a traffic-light program. */
typedef struct eai_traci_phase {
    double duration, min_dur, max_dur; /* s; min/max are -1 or = duration for static */
    const char *state;                 /* one of "rRyYgGuoOs" per controlled link */
    int n_next;                        /* explicit successor phases (usually 0) */
    const int *next;
    const char *name;
} eai_traci_phase_t;

/* A traffic-light program ("logic"). type: 0 static, 3 actuated, 4 NEMA,
 * 5 delay_based (SUMO's TrafficLightType numbering). */
typedef struct eai_traci_logic {
    const char *program_id;
    int type;
    int current_phase;
    int n_phases;
    const eai_traci_phase_t *phases;
    int n_params; /* key/value pairs: params[2i], params[2i+1] */
    const char *const *params;
} eai_traci_logic_t;

typedef struct eai_traci_logics {
    int n;
    const eai_traci_logic_t *items;
} eai_traci_logics_t;

/* One controlled link (connection) of a traffic light. signal is the index
 * into the red-yellow-green state string; several links may share a signal
 * and a signal may have no link (then it appears in no entry). */
typedef struct eai_traci_link {
    int signal;
    const char *from_lane, *to_lane, *via_lane;
} eai_traci_link_t;

typedef struct eai_traci_links {
    int n_signals; /* = length of the state string */
    int n;
    const eai_traci_link_t *items;
} eai_traci_links_t;

/* One outgoing link of a lane (lane.getLinks). state: SUMO's link state
 * letter ('G','g','r','y','o','O','=','-','s','w','m','M'); dir: 's','t','l',
 * 'r','L','R' or 'invalid' first letter. */
typedef struct eai_traci_lane_link {
    const char *to_lane, *via_lane;
    bool has_prio, is_open, has_foe;
    char state, dir;
    double length;
} eai_traci_lane_link_t;

typedef struct eai_traci_lane_links {
    int n;
    const eai_traci_lane_link_t *items;
} eai_traci_lane_links_t;

/* ---- connection -------------------------------------------------------- */

/* Connects to a TraCI server at host:port (numeric IPv4/IPv6 or a name).
 * `o` may be NULL (defaults), borrowed for the call. EAI_E_INVALID (args),
 * EAI_E_UNAVAILABLE (refused until the deadline), EAI_E_TIMEOUT, EAI_E_NOMEM.
 * Free with eai_traci_destroy. */
EAI_API eai_status_t eai_traci_connect(const char *host, int port, const eai_traci_opts_t *o,
                                       eai_traci_t **out);

/* Sends CMD_CLOSE (SUMO then ends the simulation and writes its outputs),
 * waits for the acknowledgement and closes the socket. The handle must still
 * be destroyed. EAI_E_STATE if already closed or broken. */
EAI_API eai_status_t eai_traci_close(eai_traci_t *t);

/* Closes the socket (without CMD_CLOSE if close was not called) and frees.
 * Accepts NULL. Do not call on the handle returned by eai_sumo_traci. */
EAI_API void eai_traci_destroy(eai_traci_t *t);

/* Whether the handle can still talk to SUMO (not closed, not broken). */
EAI_API bool eai_traci_ok(const eai_traci_t *t);

/* TraCI API version (20 for SUMO 1.15) and SUMO's identifier string
 * ("SUMO 1.15.0"); *ident may be NULL. */
EAI_API eai_status_t eai_traci_get_version(eai_traci_t *t, int *api, const char **ident);

/* Runs the simulation until `target_s` (simulation seconds); 0 means exactly
 * one step. A target at or before the current time does nothing. The table
 * of subscription results (see below) is replaced by the step's. */
EAI_API eai_status_t eai_traci_step(eai_traci_t *t, double target_s);

/* Client order for multi-client runs (--num-clients); call first. */
EAI_API eai_status_t eai_traci_set_order(eai_traci_t *t, int order);

/* Microseconds spent waiting for SUMO's replies since connect, and the
 * number of round trips (for cost accounting). */
EAI_API void eai_traci_stats(const eai_traci_t *t, int64_t *wait_us, int64_t *n_roundtrips);

/* ---- generic get/set ---------------------------------------------------- */
/* `get` is a EAI_TRACI_GET_* domain, `set` a EAI_TRACI_SET_* domain, `var` a
 * variable code, `id` the object id ("" for the simulation domain), all
 * borrowed for the call. A reply of another type than asked is EAI_E_FORMAT.
 * get_int also accepts a ubyte/byte reply. */
EAI_API eai_status_t eai_traci_get_int(eai_traci_t *t, int get, int var, const char *id, int *out);
EAI_API eai_status_t eai_traci_get_double(eai_traci_t *t, int get, int var, const char *id,
                                          double *out);
EAI_API eai_status_t eai_traci_get_string(eai_traci_t *t, int get, int var, const char *id,
                                          const char **out);
EAI_API eai_status_t eai_traci_get_strlist(eai_traci_t *t, int get, int var, const char *id,
                                           eai_traci_strlist_t *out);
EAI_API eai_status_t eai_traci_get_pos2d(eai_traci_t *t, int get, int var, const char *id,
                                         double *x, double *y);
EAI_API eai_status_t eai_traci_set_int(eai_traci_t *t, int set, int var, const char *id, int v);
EAI_API eai_status_t eai_traci_set_double(eai_traci_t *t, int set, int var, const char *id,
                                          double v);
EAI_API eai_status_t eai_traci_set_string(eai_traci_t *t, int set, int var, const char *id,
                                          const char *v);

/* ---- simulation --------------------------------------------------------- */
EAI_API eai_status_t eai_traci_sim_time(eai_traci_t *t, double *s);
EAI_API eai_status_t eai_traci_sim_delta_t(eai_traci_t *t, double *s);
/* Vehicles loaded or running that still have to finish; 0 means done. */
EAI_API eai_status_t eai_traci_sim_min_expected(eai_traci_t *t, int *n);
/* Counts for the last step. */
EAI_API eai_status_t eai_traci_sim_departed_number(eai_traci_t *t, int *n);
EAI_API eai_status_t eai_traci_sim_arrived_number(eai_traci_t *t, int *n);
EAI_API eai_status_t eai_traci_sim_departed_ids(eai_traci_t *t, eai_traci_strlist_t *out);
EAI_API eai_status_t eai_traci_sim_arrived_ids(eai_traci_t *t, eai_traci_strlist_t *out);
EAI_API eai_status_t eai_traci_sim_teleport_starting_number(eai_traci_t *t, int *n);
EAI_API eai_status_t eai_traci_sim_teleport_ending_number(eai_traci_t *t, int *n);
EAI_API eai_status_t eai_traci_sim_colliding_number(eai_traci_t *t, int *n);
EAI_API eai_status_t eai_traci_sim_emergency_stopping_number(eai_traci_t *t, int *n);

/* ---- traffic lights ----------------------------------------------------- */
EAI_API eai_status_t eai_traci_tls_ids(eai_traci_t *t, eai_traci_strlist_t *out);
/* Current red-yellow-green state, one letter per signal index. */
EAI_API eai_status_t eai_traci_tls_get_state(eai_traci_t *t, const char *id, const char **state);
/* Sets the state directly (SUMO switches to a one-phase "online" program
 * until set_program/set_phase); the length must match the signal count. */
EAI_API eai_status_t eai_traci_tls_set_state(eai_traci_t *t, const char *id, const char *state);
EAI_API eai_status_t eai_traci_tls_get_phase(eai_traci_t *t, const char *id, int *phase);
/* Switches to `phase` of the current program now; its duration restarts. */
EAI_API eai_status_t eai_traci_tls_set_phase(eai_traci_t *t, const char *id, int phase);
/* Duration of the current phase (s) as defined in the program. */
EAI_API eai_status_t eai_traci_tls_get_phase_duration(eai_traci_t *t, const char *id, double *s);
/* Remaining duration of the current phase from now (s). */
EAI_API eai_status_t eai_traci_tls_set_phase_duration(eai_traci_t *t, const char *id, double s);
EAI_API eai_status_t eai_traci_tls_get_program(eai_traci_t *t, const char *id, const char **prog);
EAI_API eai_status_t eai_traci_tls_set_program(eai_traci_t *t, const char *id, const char *prog);
/* Absolute simulation time (s) of the next phase switch. */
EAI_API eai_status_t eai_traci_tls_next_switch(eai_traci_t *t, const char *id, double *s);
/* Incoming lanes per signal index (a lane repeats once per link). */
EAI_API eai_status_t eai_traci_tls_controlled_lanes(eai_traci_t *t, const char *id,
                                                    eai_traci_strlist_t *out);
EAI_API eai_status_t eai_traci_tls_controlled_links(eai_traci_t *t, const char *id,
                                                    eai_traci_links_t *out);
/* All programs of the light (getAllProgramLogics). */
EAI_API eai_status_t eai_traci_tls_get_logics(eai_traci_t *t, const char *id,
                                              eai_traci_logics_t *out);
/* Adds or replaces program `logic->program_id` and switches to it
 * (setProgramLogic). `logic` borrowed for the call. */
EAI_API eai_status_t eai_traci_tls_set_logic(eai_traci_t *t, const char *id,
                                             const eai_traci_logic_t *logic);

/* ---- induction loops (E1) ----------------------------------------------- */
EAI_API eai_status_t eai_traci_e1_ids(eai_traci_t *t, eai_traci_strlist_t *out);
/* Vehicles on the loop during the last step. A slow vehicle is counted on
 * every step it covers the loop: count passages from id changes. */
EAI_API eai_status_t eai_traci_e1_vehicle_number(eai_traci_t *t, const char *id, int *n);
EAI_API eai_status_t eai_traci_e1_vehicle_ids(eai_traci_t *t, const char *id,
                                              eai_traci_strlist_t *out);
/* Mean speed (m/s) of the last step's vehicles; -1 if none. */
EAI_API eai_status_t eai_traci_e1_mean_speed(eai_traci_t *t, const char *id, double *v);
EAI_API eai_status_t eai_traci_e1_occupancy(eai_traci_t *t, const char *id, double *pct);

/* ---- lane-area detectors (E2) ------------------------------------------- */
EAI_API eai_status_t eai_traci_e2_ids(eai_traci_t *t, eai_traci_strlist_t *out);
EAI_API eai_status_t eai_traci_e2_vehicle_number(eai_traci_t *t, const char *id, int *n);
/* Vehicles below the halting speed (0.1 m/s by default). */
EAI_API eai_status_t eai_traci_e2_halting_number(eai_traci_t *t, const char *id, int *n);
EAI_API eai_status_t eai_traci_e2_jam_length_m(eai_traci_t *t, const char *id, double *m);
EAI_API eai_status_t eai_traci_e2_jam_length_veh(eai_traci_t *t, const char *id, int *n);
EAI_API eai_status_t eai_traci_e2_vehicle_ids(eai_traci_t *t, const char *id,
                                              eai_traci_strlist_t *out);
EAI_API eai_status_t eai_traci_e2_mean_speed(eai_traci_t *t, const char *id, double *v);
EAI_API eai_status_t eai_traci_e2_occupancy(eai_traci_t *t, const char *id, double *pct);
EAI_API eai_status_t eai_traci_e2_lane(eai_traci_t *t, const char *id, const char **lane);
EAI_API eai_status_t eai_traci_e2_length(eai_traci_t *t, const char *id, double *m);

/* ---- lanes and edges ---------------------------------------------------- */
EAI_API eai_status_t eai_traci_lane_ids(eai_traci_t *t, eai_traci_strlist_t *out);
EAI_API eai_status_t eai_traci_lane_length(eai_traci_t *t, const char *id, double *m);
EAI_API eai_status_t eai_traci_lane_max_speed(eai_traci_t *t, const char *id, double *v);
EAI_API eai_status_t eai_traci_lane_edge(eai_traci_t *t, const char *id, const char **edge);
EAI_API eai_status_t eai_traci_lane_vehicle_number(eai_traci_t *t, const char *id, int *n);
EAI_API eai_status_t eai_traci_lane_halting_number(eai_traci_t *t, const char *id, int *n);
/* Sum of the waiting times (s) of the vehicles on the lane. */
EAI_API eai_status_t eai_traci_lane_waiting_time(eai_traci_t *t, const char *id, double *s);
EAI_API eai_status_t eai_traci_lane_vehicle_ids(eai_traci_t *t, const char *id,
                                                eai_traci_strlist_t *out);
EAI_API eai_status_t eai_traci_lane_links(eai_traci_t *t, const char *id,
                                          eai_traci_lane_links_t *out);
/* lane.getInternalFoes: the internal (junction) lanes that cross internal
 * lane `id` (SUMO's foe relation inside the junction box; empty for a lane
 * that is not internal). EAI_E_INVALID (NULL arguments, SUMO's error). */
EAI_API eai_status_t eai_traci_lane_internal_foes(eai_traci_t *t, const char *id,
                                                  eai_traci_strlist_t *out);
/* Lane width (m). */
EAI_API eai_status_t eai_traci_lane_width(eai_traci_t *t, const char *id, double *m);
/* The lane's centre line (net coordinates, m), in driving direction: up to
 * `cap` points into xy[0..2 cap) as x, y pairs; *n gets the full count (the
 * first cap are written when it is larger). EAI_E_INVALID (NULL arguments,
 * cap < 0, SUMO's error), EAI_E_FORMAT (a reply that is not a shape). */
EAI_API eai_status_t eai_traci_lane_shape(eai_traci_t *t, const char *id, double *xy, int cap,
                                          int *n);
EAI_API eai_status_t eai_traci_edge_ids(eai_traci_t *t, eai_traci_strlist_t *out);
EAI_API eai_status_t eai_traci_edge_waiting_time(eai_traci_t *t, const char *id, double *s);
EAI_API eai_status_t eai_traci_edge_vehicle_number(eai_traci_t *t, const char *id, int *n);
EAI_API eai_status_t eai_traci_edge_halting_number(eai_traci_t *t, const char *id, int *n);

/* ---- vehicles ----------------------------------------------------------- */
EAI_API eai_status_t eai_traci_veh_ids(eai_traci_t *t, eai_traci_strlist_t *out);
/* Front-bumper position (m, net coordinates). */
EAI_API eai_status_t eai_traci_veh_position(eai_traci_t *t, const char *id, double *x, double *y);
EAI_API eai_status_t eai_traci_veh_speed(eai_traci_t *t, const char *id, double *v);
/* Degrees, 0 = north, clockwise. */
EAI_API eai_status_t eai_traci_veh_angle(eai_traci_t *t, const char *id, double *deg);
EAI_API eai_status_t eai_traci_veh_lane(eai_traci_t *t, const char *id, const char **lane);
EAI_API eai_status_t eai_traci_veh_lane_position(eai_traci_t *t, const char *id, double *m);
EAI_API eai_status_t eai_traci_veh_road(eai_traci_t *t, const char *id, const char **edge);
/* Seconds standing (speed < 0.1 m/s) since the vehicle last moved. */
EAI_API eai_status_t eai_traci_veh_waiting_time(eai_traci_t *t, const char *id, double *s);
/* Waiting time summed over the last --waiting-time-memory seconds (100). */
EAI_API eai_status_t eai_traci_veh_accumulated_waiting_time(eai_traci_t *t, const char *id,
                                                            double *s);
EAI_API eai_status_t eai_traci_veh_type(eai_traci_t *t, const char *id, const char **type);
EAI_API eai_status_t eai_traci_veh_route(eai_traci_t *t, const char *id, const char **route);
EAI_API eai_status_t eai_traci_veh_length(eai_traci_t *t, const char *id, double *m);
EAI_API eai_status_t eai_traci_veh_width(eai_traci_t *t, const char *id, double *m);
/* SUMO vehicle class ("passenger", "truck", "bus", "motorcycle", ...). */
EAI_API eai_status_t eai_traci_veh_vclass(eai_traci_t *t, const char *id, const char **vclass);

/* ---- junctions ---------------------------------------------------------- */
EAI_API eai_status_t eai_traci_junction_ids(eai_traci_t *t, eai_traci_strlist_t *out);
/* The junction's centre (net coordinates, m). */
EAI_API eai_status_t eai_traci_junction_position(eai_traci_t *t, const char *id, double *x,
                                                 double *y);

/* ---- subscriptions ------------------------------------------------------ */
/* A subscription asks SUMO to append chosen variables of an object to every
 * simulationStep reply, so reading them costs no round trip. eai_traci_step
 * replaces the handle's table of results with the step's; eai_traci_sub_*
 * read it. An object is in the table when the last step (or the subscribe
 * call since) reported it: SUMO ends a vehicle's subscription when the
 * vehicle leaves, and an object the step did not report is gone from the
 * table (eai_traci_sub_has is false, the getters return EAI_E_UNAVAILABLE).
 * Strings from the table stay valid until the next eai_traci_step or
 * (un)subscribe on the handle; getters and sets in between do not touch
 * them. The table grows to the largest step seen and is then reused.
 *
 *   const int vars[] = {EAI_TRACI_VAR_POSITION, EAI_TRACI_VAR_SPEED};
 *   EAI_TRY(eai_traci_subscribe(t, EAI_TRACI_SUB_VEHICLE, "veh0", vars, 2));
 *   EAI_TRY(eai_traci_step(t, 0));
 *   double x, y;
 *   if (eai_traci_sub_pos2d(t, EAI_TRACI_SUB_VEHICLE, "veh0", EAI_TRACI_VAR_POSITION, &x, &y)
 *       == EAI_E_UNAVAILABLE) { ... veh0 has left ... }
 *
 * Variable subscriptions: the get domain + 0x30 (SUMO's
 * CMD_SUBSCRIBE_*_VARIABLE); the results come back as domain + 0x10. */
#define EAI_TRACI_SUB_INDUCTIONLOOP 0xd0
#define EAI_TRACI_SUB_TL            0xd2
#define EAI_TRACI_SUB_LANE          0xd3
#define EAI_TRACI_SUB_VEHICLE       0xd4
#define EAI_TRACI_SUB_JUNCTION      0xd9
#define EAI_TRACI_SUB_EDGE          0xda
#define EAI_TRACI_SUB_SIM           0xdb
#define EAI_TRACI_SUB_LANEAREA      0xdd
/* Context subscriptions: the objects of a get domain within a range of an
 * object of this domain (SUMO's CMD_SUBSCRIBE_*_CONTEXT = get - 0x20). */
#define EAI_TRACI_CTX_INDUCTIONLOOP 0x80
#define EAI_TRACI_CTX_LANE          0x83
#define EAI_TRACI_CTX_VEHICLE       0x84
#define EAI_TRACI_CTX_JUNCTION      0x89
#define EAI_TRACI_CTX_EDGE          0x8a
#define EAI_TRACI_CTX_LANEAREA      0x8d
/* SUMO's INVALID_DOUBLE_VALUE: as begin, "from now"; as end, "never". */
#define EAI_TRACI_SUB_DEFAULT_TIME (-1073741824.0)

/* Subscribes `vars` (n_vars of 1..255 variable codes, copied) of object `id`
 * ("" for the simulation domain; "" with EAI_TRACI_VAR_ID_LIST subscribes a
 * domain's id list) in `domain` (EAI_TRACI_SUB_*), for the whole run. The
 * reply's current values go into the table at once. Subscribing an object
 * again replaces its entry. EAI_E_INVALID (arguments; SUMO's error, e.g. an
 * unknown id, with its sentence: the handle stays usable), transport errors
 * as for any call. Variables that need parameters are not supported. */
EAI_API eai_status_t eai_traci_subscribe(eai_traci_t *t, int domain, const char *id,
                                         const int *vars, int n_vars);
/* The same, limited to simulation times [begin_s, end_s]
 * (EAI_TRACI_SUB_DEFAULT_TIME: from now / no end). */
EAI_API eai_status_t eai_traci_subscribe_range(eai_traci_t *t, int domain, const char *id,
                                               const int *vars, int n_vars, double begin_s,
                                               double end_s);
/* Ends the subscription of `id` in `domain` and drops it from the table. */
EAI_API eai_status_t eai_traci_unsubscribe(eai_traci_t *t, int domain, const char *id);

/* Context subscription: every object of `get_domain` (EAI_TRACI_GET_*,
 * e.g. vehicles) within `range_m` of object `id` of context domain `ctx`
 * (EAI_TRACI_CTX_*, e.g. a junction), with `vars` of each (n_vars 0..255;
 * 0 reports only the ids). Results are read with ctx as the domain and the
 * found object's id (eai_traci_sub_double(t, EAI_TRACI_CTX_JUNCTION,
 * "veh3", ...)); eai_traci_sub_next with ctx_id lists one context's objects.
 * An object in several contexts of the same domain reads from any one of
 * them (all hold the same step's values). */
EAI_API eai_status_t eai_traci_subscribe_context(eai_traci_t *t, int ctx, const char *id,
                                                 int get_domain, double range_m, const int *vars,
                                                 int n_vars);
EAI_API eai_status_t eai_traci_unsubscribe_context(eai_traci_t *t, int ctx, const char *id,
                                                   int get_domain, double range_m);

/* Whether `id` of `domain` (EAI_TRACI_SUB_* or EAI_TRACI_CTX_*) is in the
 * latest results. */
EAI_API bool eai_traci_sub_has(const eai_traci_t *t, int domain, const char *id);
/* Latest value of `var` of `id`, no round trip. EAI_E_UNAVAILABLE: the
 * object or variable is not in the latest results (not subscribed, ended,
 * or the vehicle left). EAI_E_INVALID: NULL arguments, a value of another
 * type (sub_int accepts int and (u)byte; sub_pos2d 2D and 3D positions), or
 * SUMO reported an error for this variable (its sentence is the message). */
EAI_API eai_status_t eai_traci_sub_int(const eai_traci_t *t, int domain, const char *id, int var,
                                       int *out);
EAI_API eai_status_t eai_traci_sub_double(const eai_traci_t *t, int domain, const char *id, int var,
                                          double *out);
EAI_API eai_status_t eai_traci_sub_pos2d(const eai_traci_t *t, int domain, const char *id, int var,
                                         double *x, double *y);
/* *out valid until the next step or (un)subscribe on t. */
EAI_API eai_status_t eai_traci_sub_string(const eai_traci_t *t, int domain, const char *id, int var,
                                          const char **out);
/* out->items valid until the next step, (un)subscribe or sub_strlist on t. */
EAI_API eai_status_t eai_traci_sub_strlist(eai_traci_t *t, int domain, const char *id, int var,
                                           eai_traci_strlist_t *out);
/* Iterates the objects of `domain` in the latest results, in SUMO's order:
 * start with *pos = 0; each call sets *id (valid as for sub_string) and
 * returns true, false at the end. ctx_id (context domains only; NULL: all
 * contexts) keeps the objects found around that context object. */
EAI_API bool eai_traci_sub_next(const eai_traci_t *t, int domain, const char *ctx_id, int *pos,
                                const char **id);

/* ---- SUMO as a child process -------------------------------------------- */

typedef struct eai_sumo eai_sumo_t;

/* Options; zero-init means defaults. All strings borrowed for the call. */
typedef struct eai_sumo_opts {
    const char *binary;           /* NULL: $EAI_SUMO, else "sumo" from PATH */
    const char *config;           /* -c FILE.sumocfg; or give net_file (+ routes) */
    const char *net_file;         /* -n */
    const char *route_files;      /* -r, comma-separated */
    const char *additional_files; /* -a, comma-separated */
    bool set_seed;                /* pass --seed `seed` */
    long seed;
    double step_length; /* --step-length; 0: SUMO's (the config's or 1 s) */
    double begin, end;  /* -b / -e when > 0 */
    /* --no-step-log and --duration-log.disable unless verbose; warnings are
     * kept (they go to the log file). */
    bool verbose;
    bool statistics;              /* --duration-log.statistics */
    const char *tripinfo_output;  /* --tripinfo-output FILE */
    const char *statistic_output; /* --statistic-output FILE */
    /* Further arguments passed as they are (e.g. "--time-to-teleport", "-1"). */
    const char *const *extra_args;
    int n_extra_args;
    /* sumo's stdout and stderr go here (appended to nothing: truncated);
     * NULL: a temporary file removed by eai_sumo_destroy. */
    const char *log_path;
    /* Port to use; 0: a free one on 127.0.0.1 (retried if taken meanwhile). */
    int port;
    /* How long start waits for SUMO to accept (it loads the net first);
     * 0 means 30000 ms. */
    int start_timeout_ms;
    /* Per-reply bound on the TraCI handle; 0 means 60000 ms. */
    int timeout_ms;
    eai_allocator_t alloc; /* zero: libc */
} eai_sumo_opts_t;

/* Starts sumo with --remote-port on 127.0.0.1 and connects. On failure no
 * child is left running (killed and reaped) and eai_last_error() quotes
 * sumo's own "Error:" line from its log when there is one. EAI_E_INVALID
 * (neither config nor net_file), EAI_E_UNAVAILABLE (sumo missing, exited,
 * refused), EAI_E_TIMEOUT, EAI_E_IO, EAI_E_NOMEM. */
EAI_API eai_status_t eai_sumo_start(const eai_sumo_opts_t *o, eai_sumo_t **out);

/* The connection, owned by `s` (do not destroy it); valid until
 * eai_sumo_stop/destroy. */
EAI_API eai_traci_t *eai_sumo_traci(eai_sumo_t *s);
EAI_API int eai_sumo_port(const eai_sumo_t *s);
EAI_API int eai_sumo_pid(const eai_sumo_t *s); /* -1 once reaped */
EAI_API const char *eai_sumo_log_path(const eai_sumo_t *s);

/* Ends the run: TraCI close (SUMO writes tripinfo/statistics outputs), waits
 * up to 10 s for the exit, then SIGTERM, then SIGKILL, and reaps the child.
 * *exit_code (may be NULL): sumo's exit status, or 128+signal if killed.
 * Idempotent. EAI_OK also when close failed because SUMO had already quit
 * (the code tells). */
EAI_API eai_status_t eai_sumo_stop(eai_sumo_t *s, int *exit_code);

/* Stops if still running, removes the temporary log and frees. Accepts NULL. */
EAI_API void eai_sumo_destroy(eai_sumo_t *s);

/* Whether a sumo binary can be run ($EAI_SUMO or PATH); for tests to skip. */
EAI_API bool eai_sumo_available(void);

#ifdef __cplusplus
}
#endif
#endif
