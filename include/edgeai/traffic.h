/* Signalised intersections: an intersection model read from SUMO's traffic-
 * light definition, signal controllers behind one interface (Webster fixed
 * time, max-pressure), waiting-time estimates, and a runner that drives a SUMO
 * scenario through TraCI (edgeai/traci.h) and reports what SUMO measured.
 *
 *   eai_tl_model_t *m;                                 // from SUMO ...
 *   EAI_TRY(eai_tl_model_from_traci(traci, "C", NULL, &m));
 *   eai_tl_controller_t *c;                            // ... or eai_tl_model_build
 *   EAI_TRY(eai_tl_controller_create(m, EAI_TL_MAXPRESSURE, NULL, &c));
 *   for (;;) {
 *       eai_tl_obs_t obs = {.t_s = t, .dt_s = 1, .queue = q, .n_veh = n,
 *                           .arrivals = arr, .departures = dep};
 *       eai_tl_out_t out;
 *       EAI_TRY(eai_tl_controller_step(c, &obs, &out));
 *       if (out.changed) eai_traci_tls_set_state(traci, "C", out.state);
 *       ... step SUMO, refill q/n/arr/dep ...
 *   }
 *   eai_tl_controller_destroy(c);
 *   eai_tl_model_destroy(m);
 *
 * One idea: a controller only chooses *which green stage* to serve and for
 * how long. The sequencer around it (shared by every controller, including
 * user-written ones through eai_tl_controller_vtable_t) enforces minimum
 * green, maximum green, yellow then all-red clearance before every change,
 * and the maximum-wait guard, so no policy can skip a clearance or starve an
 * approach.
 *
 * Stages: the green phases of the light's SUMO program (a phase with a 'G' or
 * 'g' and no 'y'/'Y'/'u'), duplicates removed, in program order. The yellow
 * time is the longest yellow phase of the program unless the options say.
 * Transition states are computed per signal: green -> 'y' for the yellow,
 * then 'r' for the all-red; signals green in both stages stay green.
 *
 * Counts: observations carry per-lane passages (arrivals into the detector
 * zone, departures over the stop line) from any source: SUMO detectors
 * (vehicle-id changes, see eai_tl_idcount_t), or a camera tracker through
 * eai_traffic_run_opts_t.count_hook.
 *
 * Threads: every handle is single-threaded; no hidden threads.
 */
#ifndef EDGEAI_TRAFFIC_H
#define EDGEAI_TRAFFIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgeai/model.h"
#include "edgeai/status.h"
#include "edgeai/traci.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EAI_TL_ID_MAX 96 /* SUMO ids longer than this are rejected (E_UNSUPPORTED) */

/* ---- intersection model ------------------------------------------------- */

/* An incoming (controlled) or outgoing lane of the intersection. */
typedef struct eai_tl_lane {
    char id[EAI_TL_ID_MAX];
    char edge[EAI_TL_ID_MAX]; /* SUMO edge id (lane id without "_<index>") */
    int approach;             /* incoming: index into approaches; outgoing: -1 */
    double length_m;          /* 0 if unknown */
    double speed_mps;         /* speed limit; 0 if unknown */
} eai_tl_lane_t;

/* One controlled link: a movement from an incoming lane to an outgoing lane,
 * switched by one signal (letter) of the state string. */
typedef struct eai_tl_link {
    int signal;   /* index into the state string */
    int in_lane;  /* index into model->in */
    int out_lane; /* index into model->out, -1 if none */
    char dir;     /* SUMO direction: 's','l','r','t','L','R'; '?' unknown */
} eai_tl_link_t;

/* An approach: the incoming lanes of one edge. */
typedef struct eai_tl_approach {
    char edge[EAI_TL_ID_MAX];
    int n_lanes;
} eai_tl_approach_t;

/* A green stage. */
typedef struct eai_tl_stage {
    char *state;         /* n_signals letters + NUL, as in the program */
    double duration_s;   /* the program's duration */
    double min_s, max_s; /* the program's minDur/maxDur (= duration when static) */
    int program_phase;   /* index of the phase in the source program */
} eai_tl_stage_t;

typedef struct eai_tl_model {
    char tls_id[EAI_TL_ID_MAX];
    int n_signals;
    int n_in, n_out, n_links, n_stages, n_approaches;
    eai_tl_lane_t *in, *out;
    eai_tl_link_t *links;
    eai_tl_stage_t *stages;
    eai_tl_approach_t *approaches;
    /* serves[s * n_in + l]: 2 when a link of in-lane l has priority green
     * ('G') in stage s, 1 when only permissive green ('g', yields), else 0. */
    uint8_t *serves;
    double yellow_s;        /* longest yellow phase in the program; 0 if none */
    double all_red_s;       /* longest all-red phase in the program; 0 if none */
    eai_allocator_t alloc_; /* private: the allocator it was built with */
    /* The junction box (optional, from SUMO's internal lanes): the internal
     * lanes of the controlled links (box[b].id; approach -1), the signal of
     * the link each belongs to, and conflict[i * n_signals + j] = 1 when a
     * movement of signal i crosses one of signal j inside the junction
     * (SUMO's internal foes). n_box 0 / conflict NULL: unknown. */
    int n_box;
    eai_tl_lane_t *box;
    int *box_signal;
    uint8_t *conflict;
} eai_tl_model_t;

/* Pure-data description to build a model from (tests, other simulators). */
typedef struct eai_tl_link_desc {
    int signal;
    const char *from_lane, *to_lane;      /* to_lane may be NULL or "" */
    char dir;                             /* 0: '?' */
    double from_length_m, from_speed_mps; /* 0: unknown */
} eai_tl_link_desc_t;

typedef struct eai_tl_phase_desc {
    const char *state;
    double duration_s, min_s, max_s; /* min/max 0: = duration */
} eai_tl_phase_desc_t;

typedef struct eai_tl_model_desc {
    const char *tls_id;
    int n_signals; /* 0: the state length of the first phase */
    int n_links;
    const eai_tl_link_desc_t *links;
    int n_phases;
    const eai_tl_phase_desc_t *phases;
    /* Optional junction box (see eai_tl_model_t): n_box lane ids with the
     * signal of each, and an n_signals x n_signals conflict matrix (nonzero:
     * the two signals' movements cross). All copied. */
    int n_box;
    const char *const *box_lanes;
    const int *box_signal;
    const uint8_t *conflict;
} eai_tl_model_desc_t;

/* Builds a model; `d` is copied. EAI_E_INVALID (signal index out of range,
 * state length mismatch, unknown state letter), EAI_E_UNSUPPORTED (no green
 * phase, id too long), EAI_E_NOMEM. `a` may be NULL (libc). Free with
 * eai_tl_model_destroy. */
EAI_API eai_status_t eai_tl_model_build(const eai_tl_model_desc_t *d, const eai_allocator_t *a,
                                        eai_tl_model_t **out);

/* Reads the light's controlled links, current program, lane lengths, speeds
 * and directions through TraCI and builds the model. The program used is the
 * one currently running. Errors of eai_tl_model_build and of TraCI. */
EAI_API eai_status_t eai_tl_model_from_traci(eai_traci_t *t, const char *tls_id,
                                             const eai_allocator_t *a, eai_tl_model_t **out);

/* Accepts NULL. */
EAI_API void eai_tl_model_destroy(eai_tl_model_t *m);

/* Index of the in-lane with this SUMO id, or -1. */
EAI_API int eai_tl_model_in_lane(const eai_tl_model_t *m, const char *lane_id);

/* ---- observations and decisions ----------------------------------------- */

/* What the detectors saw during the last step. Arrays have model->n_in
 * entries (out_queue: model->n_out) and are borrowed for the call. */
typedef struct eai_tl_obs {
    double t_s;              /* simulation time at the end of the step */
    double dt_s;             /* step length (> 0) */
    const double *queue;     /* halting vehicles per in-lane now */
    const int *n_veh;        /* vehicles in the lane's detector zone now (NULL: unknown) */
    const int *arrivals;     /* passages into the detector zone this step (NULL: none) */
    const int *departures;   /* passages over the stop line this step (NULL: none) */
    const double *out_queue; /* halting vehicles per out-lane (NULL: all 0) */
    const int *box_veh;      /* vehicles per model->box lane now (NULL: unknown) */
    const int *arriving;     /* per in-lane: vehicles near the stop line still at speed,
                              * that could not stop for a conflict in the box (NULL:
                              * unknown, taken as some) */
} eai_tl_obs_t;

typedef enum eai_tl_mode {
    EAI_TL_GREEN = 0,
    EAI_TL_YELLOW = 1,
    EAI_TL_ALL_RED = 2,
} eai_tl_mode_t;

/* The sequencer's output for one step. */
typedef struct eai_tl_out {
    const char *state; /* state string to show now; valid until the next step/destroy */
    bool changed;      /* differs from the previous step's state (first step: true) */
    eai_tl_mode_t mode;
    int stage;       /* green stage shown, or the stage being switched to */
    bool cycle_done; /* a cycle closed this step: estimates were refreshed */
    bool forced;     /* this change was forced by the max-wait guard or max green */
} eai_tl_out_t;

/* Sequencer state a controller may read (borrowed during the callback). */
typedef struct eai_tl_view {
    const eai_tl_model_t *model;
    double t_s;
    int stage;                /* current green stage */
    double green_s;           /* how long it has been green */
    bool must_change;         /* max green reached: decide must return another stage */
    const double *flow_vph;   /* per in-lane measured arrival flow (veh/h, smoothed) */
    const double *red_wait_s; /* per in-lane: seconds unserved while a vehicle waits */
    double yellow_s, all_red_s, min_green_s, max_green_s;
    double held_s; /* of green_s, seconds with a signal held by the clearance hold */
} eai_tl_view_t;

/* A controller policy. `self` is the pointer given at creation. */
typedef struct eai_tl_controller_vtable {
    const char *name;
    /* Every step, before any decision (update flows, plans). May be NULL. */
    void (*observe)(void *self, const eai_tl_view_t *v, const eai_tl_obs_t *obs);
    /* Asked each step while green once the minimum green has passed: the
     * stage to serve now. Returning v->stage holds the green (ignored when
     * v->must_change: the sequencer then takes the next stage in order). */
    int (*decide)(void *self, const eai_tl_view_t *v, const eai_tl_obs_t *obs);
    /* After a cycle closed (see eai_tl_controller_estimates). May be NULL. */
    void (*on_cycle)(void *self, const eai_tl_view_t *v, double cycle_s);
    void (*destroy)(void *self); /* may be NULL */
} eai_tl_controller_vtable_t;

typedef enum eai_tl_kind {
    EAI_TL_WEBSTER = 1,     /* fixed time, Webster's cycle and splits, re-planned */
    EAI_TL_MAXPRESSURE = 2, /* adaptive: stage with the largest queue pressure */
} eai_tl_kind_t;

/* Options; zero-init means the defaults in brackets. */
typedef struct eai_tl_opts {
    double min_green_s;  /* [5] */
    double max_green_s;  /* [60] */
    double yellow_s;     /* [the program's yellow, else 3] */
    double all_red_s;    /* [1]; negative: no all-red */
    double max_wait_s;   /* [30] max-wait guard: a lane with a vehicle halted and no
                          * priority green ('G') this long is served next */
    double sat_flow_vph; /* [1800] saturation flow per lane */
    /* Webster */
    double lost_per_stage_s;         /* [yellow + all-red]: lost time per stage (L = sum) */
    int replan_cycles;               /* [3] re-plan every N cycles from the flows measured */
    double min_cycle_s, max_cycle_s; /* [40, 120] */
    double initial_flow_vph;         /* [300] per lane, until flows are measured */
    /* Webster's flow measure: per lane, departures plus the growth of its
     * halting queue over the re-plan window, less what left under a
     * permissive-only green; smoothed across re-plans with this time
     * constant (a running mean over the first plans). */
    double plan_tau_s; /* [300] */
    /* false (default): each lane's saturation flow is measured (departures
     * per second of priority green with vehicles still queued, start-up
     * excluded) once 60 s of it are seen, else sat_flow_vph. true: always
     * sat_flow_vph. */
    bool sat_flow_fixed;
    /* max-pressure */
    double extend_s;             /* [0] hold a green chosen this long before re-deciding */
    double switch_margin;        /* [1] vehicles: another stage must beat the current by more */
    double pressure_weight_wait; /* [0.15] per second of red_wait added to a lane's weight */
    double flow_tau_s;           /* [300] time constant of the measured-flow average */
    /* Clearance hold: when a green starts, each newly green signal stays red
     * while a vehicle of a movement that is now red stands on an internal
     * lane crossing its movement (model->conflict, obs->box_veh; e.g. a left
     * turner that waited inside the box) and a vehicle arrives at speed on
     * its lane (obs->arriving); released per signal, at most this long into
     * the green. */
    double clear_hold_s; /* [6]; negative: no hold */
    /* false (default): the all-red runs only when, at the end of the
     * yellow, the clearance hold would hold a newly green signal (a foe in
     * the box, a vehicle at speed on its lane); else the green starts at
     * once. Always run when the hold is off or the box is unknown.
     * true: all-red after every yellow. */
    bool all_red_always;
    /* Also held, at most this long into the green: a newly green signal
     * crossing a turner stranded in the box (on an internal lane of a
     * movement that was permissive 'g' and is now red), even with nothing
     * at speed on its lane: the turner then clears before the stream starts
     * instead of forcing into it later. Appended 2026-11-27 (issue 7). */
    double turner_hold_s;  /* [1 max-pressure, off for Webster]; negative: off */
    eai_allocator_t alloc; /* zero: libc */
} eai_tl_opts_t;

typedef struct eai_tl_controller eai_tl_controller_t;

/* Creates a built-in controller over `m` (borrowed: must outlive the
 * controller). `o` may be NULL; copied. EAI_E_INVALID (bad kind, negative
 * durations, yellow 0 with no program yellow), EAI_E_NOMEM. */
EAI_API eai_status_t eai_tl_controller_create(const eai_tl_model_t *m, eai_tl_kind_t kind,
                                              const eai_tl_opts_t *o, eai_tl_controller_t **out);

/* Creates a controller around a user policy; `vt` must outlive the
 * controller, `self` is passed to it (vt->destroy(self) runs at destroy,
 * also when this call fails after taking it). */
EAI_API eai_status_t eai_tl_controller_create_custom(const eai_tl_model_t *m,
                                                     const eai_tl_controller_vtable_t *vt,
                                                     void *self, const eai_tl_opts_t *o,
                                                     eai_tl_controller_t **out);

/* One step: takes the observation, returns the state to show. Does not
 * allocate. EAI_E_INVALID (NULL arrays where required: queue; dt <= 0). */
EAI_API eai_status_t eai_tl_controller_step(eai_tl_controller_t *c, const eai_tl_obs_t *obs,
                                            eai_tl_out_t *out);

EAI_API const char *eai_tl_controller_name(const eai_tl_controller_t *c);

/* Accepts NULL. */
EAI_API void eai_tl_controller_destroy(eai_tl_controller_t *c);

/* Waiting-time estimates per approach (model->n_approaches entries), refreshed
 * when a cycle closes (every stage served once since the last close, or 300 s).
 * queue_s: queue model (Little's law: halting vehicle-seconds over vehicles
 * served); webster_s: Webster's delay formula on the cycle's flow, green and
 * cycle length. *_last: the last cycle; *_mean: vehicle-weighted over all
 * cycles. Counts: departures (stop-line passages) and arrivals per approach. */
typedef struct eai_tl_estimate {
    double queue_last_s, queue_mean_s;
    double webster_last_s, webster_mean_s;
    long departures, arrivals;
    double flow_vph;    /* last cycle's arrival flow */
    double green_ratio; /* last cycle's effective green / cycle */
} eai_tl_estimate_t;

/* Borrowed array of model->n_approaches estimates, valid until the next
 * step/destroy. *n_cycles (may be NULL): cycles closed so far. */
EAI_API const eai_tl_estimate_t *eai_tl_controller_estimates(const eai_tl_controller_t *c,
                                                             int *n_cycles);

/* Webster's current plan (for EAI_TL_WEBSTER; 0 cycle otherwise): cycle and
 * per-stage green in seconds (greens: model->n_stages entries, borrowed). */
EAI_API double eai_tl_controller_plan(const eai_tl_controller_t *c, const double **greens);

/* ---- pure formulas (exposed for tests and reports) ---------------------- */

/* Webster's optimum cycle C0 = (1.5 L + 5) / (1 - Y), clamped to
 * [min_c, max_c]; Y >= 0.95 gives max_c. Splits: effective green
 * g_i = (y_i / Y) (C0 - L), written to greens[n] (NULL allowed). Returns C0.
 * With Y = 0 every stage gets (C0 - L) / n. */
EAI_API double eai_tl_webster_plan(const double *y, int n, double lost_s, double min_c,
                                   double max_c, double *greens);

/* The cycle in [min_c, max_c] (0.5 s grid) that minimises the total
 * Webster delay sum_i q_i d(c, g_i, q_i, q_i / y_i) of the stages' critical
 * lanes (q: veh/s), with the same splits as eai_tl_webster_plan (written to
 * greens, NULL allowed). Y >= 0.95 gives max_c. Returns the cycle. */
EAI_API double eai_tl_webster_plan_min_delay(const double *y, const double *q, int n, double lost_s,
                                             double min_c, double max_c, double *greens);

/* Webster's mean delay per vehicle (s) for cycle c, effective green g,
 * arrival flow q and saturation flow s (both veh/s):
 * d = c(1-l)^2 / (2(1-l x)) + x^2 / (2 q (1-x)) - 0.65 (c/q^2)^(1/3) x^(2+5l),
 * l = g/c, x = q/(l s). x is capped at 0.98 (the formula diverges at 1);
 * q <= 0 gives the uniform term only. Never negative. */
EAI_API double eai_tl_webster_delay(double c, double g, double q, double s);

/* ---- passage counting from detector vehicle ids ------------------------- */

/* Counts passages on a detector from its vehicle-id list per step: an id
 * present now and absent last step is an arrival, absent now and present
 * last step a departure. Ids are kept as 64-bit hashes in a fixed table
 * (no allocation per step); at most `cap` vehicles per detector. */
typedef struct eai_tl_idcount eai_tl_idcount_t;

/* `n_det` detectors, up to `cap` vehicles each (0: 256). */
EAI_API eai_status_t eai_tl_idcount_create(int n_det, int cap, const eai_allocator_t *a,
                                           eai_tl_idcount_t **out);
/* Feeds detector `det`'s ids for this step (borrowed); returns the step's
 * arrivals and departures through the pointers (may be NULL). Ids beyond
 * cap are ignored (counted in eai_tl_idcount_overflow). */
EAI_API eai_status_t eai_tl_idcount_update(eai_tl_idcount_t *c, int det, const char *const *ids,
                                           int n, int *arrivals, int *departures);
/* Group form: the ids seen now on a group of lanes (one approach), each with
 * a tag (the lane's index, 0..n_tags-1). A new id counts as an arrival on its
 * tag; a vanished id as a departure on the tag it was last seen with; an id
 * that moved between tags (a lane change) counts as neither. arr/dep have
 * n_tags entries and are incremented (not cleared). */
EAI_API eai_status_t eai_tl_idcount_update_tagged(eai_tl_idcount_t *c, int det,
                                                  const char *const *ids, const int *tags, int n,
                                                  int n_tags, int *arr, int *dep);
EAI_API long eai_tl_idcount_total(const eai_tl_idcount_t *c, int det); /* arrivals so far */
EAI_API long eai_tl_idcount_overflow(const eai_tl_idcount_t *c);
EAI_API void eai_tl_idcount_destroy(eai_tl_idcount_t *c);

/* ---- running a SUMO scenario -------------------------------------------- */

typedef enum eai_traffic_ctl {
    EAI_TRAFFIC_WEBSTER = 1,
    EAI_TRAFFIC_MAXPRESSURE,
    EAI_TRAFFIC_SUMO_STATIC,   /* SUMO's own program, type static */
    EAI_TRAFFIC_SUMO_ACTUATED, /* the same phases, type actuated (gap-based) */
    EAI_TRAFFIC_SUMO_DELAY,    /* the same phases, type delay_based */
} eai_traffic_ctl_t;

/* "webster", "maxpressure", "sumo-static", "sumo-actuated", "sumo-delay";
 * false if unknown. */
EAI_API bool eai_traffic_ctl_parse(const char *s, eai_traffic_ctl_t *out);
EAI_API const char *eai_traffic_ctl_name(eai_traffic_ctl_t c);

/* Optional external count source (a camera path): called every step, for
 * every controlled light, after the detector counts were read, with
 * m->n_in-long arrays it may overwrite; the controllers then see these
 * counts. `t` is the live TraCI connection (the hook may read vehicles,
 * e.g. to render camera frames; it must not step the simulation or change
 * signals); `c` is the light's edgeai controller (NULL under SUMO's own
 * programs), for reading its plan and estimates. Return non-EAI_OK to stop
 * the run (the status is returned by eai_traffic_run). */
typedef eai_status_t (*eai_traffic_count_fn)(void *user, eai_traci_t *t, const eai_tl_model_t *m,
                                             const eai_tl_controller_t *c, double t_s,
                                             int *arrivals, int *departures, double *queue);

typedef struct eai_traffic_run_opts {
    const char *scenario;       /* .sumocfg (required) */
    const char *const *tls_ids; /* lights to control; n_tls 0: every signalised one */
    int n_tls;
    eai_traffic_ctl_t controller;
    double minutes; /* simulated minutes [60] */
    bool set_seed;
    long seed;
    eai_tl_opts_t tl;         /* controller options (edgeai controllers) */
    double detector_length_m; /* length of added lane-area detectors [150] */
    const char *work_dir;     /* where outputs go; NULL: a temp folder, removed */
    const char *sumo_binary;  /* NULL: $EAI_SUMO or "sumo" */
    eai_traffic_count_fn count_hook;
    void *count_user;
    eai_allocator_t alloc; /* zero: libc */
} eai_traffic_run_opts_t;

/* Per approach of a controlled light. */
typedef struct eai_traffic_approach_report {
    char tls[EAI_TL_ID_MAX], edge[EAI_TL_ID_MAX];
    long count;           /* passages counted (stop-line departures, from ids) */
    double est_queue_s;   /* queue-model estimate, vehicle-weighted mean (-1: none) */
    double est_webster_s; /* Webster estimate, vehicle-weighted mean (-1: none) */
    double meas_wait_s;   /* SUMO measured mean waiting time of vehicles that left
                             the approach edge (edgeData waitingTime / left); -1 none */
    long meas_left;
} eai_traffic_approach_report_t;

typedef struct eai_traffic_report {
    char controller[32];
    double sim_s; /* simulated seconds */
    int n_tls;
    long departed, arrived, running_end, waiting_insert_end;
    double mean_wait_s; /* over every vehicle that departed (tripinfo incl. unfinished) */
    double mean_trip_s; /* over arrived vehicles (tripinfo duration) */
    double mean_depart_delay_s;
    double throughput_vph; /* arrived per simulated hour */
    int max_queue;         /* largest halting count on one approach edge (controlled lanes) */
    double worst_movement_wait_s; /* largest mean wait of an origin-destination pair (>= 10 veh) */
    char worst_movement[2 * EAI_TL_ID_MAX + 4]; /* "from->to" edges */
    long teleports, emergency_brakes, emergency_stops, collisions;
    double decision_us_per_step; /* edgeai controllers' compute per step (all lights) */
    double observe_us_per_step;  /* TraCI reads of detectors per step */
    double sumo_step_us;         /* SUMO's simulation step (TraCI step round trip) */
    int n_approaches;
    eai_traffic_approach_report_t *approaches;
    int n_steps;
} eai_traffic_report_t;

/* Runs the scenario for opts->minutes under the chosen controller and fills
 * a report (free with eai_traffic_report_destroy). Starts sumo twice: once to
 * read the lights, then for the run with an added additional file (lane-area
 * detectors on controlled lanes that have none, edgeData for measured waits,
 * the SUMO baseline program). EAI_E_INVALID (options), EAI_E_UNAVAILABLE
 * (sumo missing), EAI_E_UNSUPPORTED (no signalised junction, or --tls id
 * unknown), TraCI errors, EAI_E_IO (outputs). */
EAI_API eai_status_t eai_traffic_run(const eai_traffic_run_opts_t *o, eai_traffic_report_t **out);

EAI_API void eai_traffic_report_destroy(eai_traffic_report_t *r);

#ifdef __cplusplus
}
#endif
#endif
