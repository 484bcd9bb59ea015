/* Private to the traffic module (not TraCI): the controller's sequencer
 * state and the built-in policies, so the tests can reach the pieces. */
#ifndef EAI_TRAFFIC_IMPL_H
#define EAI_TRAFFIC_IMPL_H

#include "edgeai/traffic.h"

/* Defaults resolved from eai_tl_opts_t. */
void eai__tl_opts_resolve(const eai_tl_model_t *m, const eai_tl_opts_t *in, eai_tl_opts_t *out);

/* The clearance hold's test for signal j turning green between states
 * `from` and `to` (box_veh per model->box lane, arriving per in-lane; see
 * eai_tl_opts_t.clear_hold_s). */
bool eai__tl_signal_blocked(const eai_tl_model_t *m, const char *from, const char *to, int j,
                            const int *box_veh, const int *arriving);

/* Whether a turner stands in the box across signal j turning green (see
 * eai_tl_opts_t.turner_hold_s). */
bool eai__tl_turner_stranded(const eai_tl_model_t *m, const char *from, const char *to, int j,
                             const int *box_veh);

/* Whether a change from state `from` to `to` needs its all-red: true when
 * the clearance hold would hold some signal (eai__tl_signal_blocked), or
 * when the box is unknown (box_veh NULL, no conflict matrix). */
bool eai__tl_all_red_needed(const eai_tl_model_t *m, const char *from, const char *to,
                            const int *box_veh, const int *arriving);

/* Webster's estimators (exposed for the tests).
 * Demand a lane's priority green must serve over a window: arrivals, less
 * departures under permissive-only green, plus the queue's growth (halting
 * at the end minus at the start); never negative. */
double eai__tl_lane_demand(double arr, long dep_perm, double q_start, double q_end);
/* Exponential smoothing of x into prev over a window of window_s seconds
 * with time constant tau_s (weight 1 - exp(-window/tau)), but at least
 * 1 / (n_prev + 1) (a running mean over the first plans); n_prev 0: x. */
double eai__tl_smooth(double prev, double x, double window_s, double tau_s, int n_prev);
/* Saturation flow (veh/h) from dep departures in secs seconds of saturated
 * green: fallback_vph until 60 s are measured (or no departure). */
double eai__tl_sat_flow(double dep, double secs, double fallback_vph);

/* Built-in policies: allocate their state for `m` and return the vtable. */
eai_status_t eai__tl_webster_new(const eai_tl_model_t *m, const eai_tl_opts_t *o,
                                 const eai_tl_controller_vtable_t **vt, void **self);
eai_status_t eai__tl_maxpressure_new(const eai_tl_model_t *m, const eai_tl_opts_t *o,
                                     const eai_tl_controller_vtable_t **vt, void **self);

/* Per-approach accumulators of the current cycle. */
typedef struct eai__tl_acc {
    double halt_vs; /* halting vehicle-seconds */
    long dep, arr;
} eai__tl_acc_t;

struct eai_tl_controller {
    const eai_tl_model_t *m;
    eai_tl_opts_t o; /* resolved */
    const eai_tl_controller_vtable_t *vt;
    void *self;
    bool started;
    eai_tl_mode_t mode;
    int stage, target;
    int from;      /* the stage before the current green */
    bool holding;  /* some signal of the green is held by the clearance hold */
    uint8_t *held; /* per signal: held red by the clearance hold */
    double held_s; /* seconds of the current green with a signal held */
    double t_mode; /* seconds shown in the current mode */
    double t_s;
    char *state;                   /* shown now (n_signals + 1) */
    char *prev;                    /* shown at the previous step */
    double *flow_vph, *red_wait_s; /* per in-lane */
    /* cycle bookkeeping */
    double cycle_start;
    bool *served;                /* per stage, since the cycle began */
    double *green_lane_s;        /* per in-lane effective green this cycle */
    long *arr_lane;              /* per in-lane arrivals this cycle */
    eai__tl_acc_t *acc;          /* per approach */
    eai_tl_estimate_t *est;      /* per approach */
    double *est_q_vs, *est_w_vs; /* running vehicle-weighted sums */
    long *est_q_n, *est_w_n;
    int n_cycles;
};

#endif
