/* The edge-cloud confidence cascade: answer on the edge when the small
 * model is confident, else ask the cloud's bigger model over KServe v2 REST,
 * and keep answering (on the edge) when the cloud is slow or gone.
 *
 *   eai_router_opts_t o = {.edge_path = "small.onnx",
 *                          .cloud_url = "http://127.0.0.1:8000", .cloud_model = "big"};
 *   eai_router_t *r;
 *   EAI_TRY(eai_router_create(&o, &r));
 *   eai_route_result_t res;
 *   EAI_TRY(eai_router_infer(r, pixels, 784, &res));
 *   printf("%s says class %d (p=%.2f)\n", eai_route_tier_name(res.tier), res.cls,
 *          res.confidence);
 *   eai_router_destroy(r);
 *
 * Policy: the edge model always runs; its confidence is the largest
 * softmax(logits / T) probability (T from calibration). At or above the
 * threshold the edge answers. Below it the cloud is asked (bounded timeout,
 * retries with exponential backoff) unless the circuit breaker is open; when
 * the cloud fails or the breaker refuses, the edge answer is returned as
 * EDGE_FALLBACK. A cloud failure is never an error of eai_router_infer.
 *
 * Breaker: CLOSED -> OPEN after `breaker_failures` consecutive failed cloud
 * requests (each after its retries); OPEN -> HALF_OPEN once `breaker_cooldown_ms`
 * passed, letting one probe request (no retries) through; the probe's success
 * closes it, its failure re-opens it for another cool-down.
 *
 * Also here: temperature scaling (eai_calib_*) and a small PNG line plot.
 */
#ifndef EDGEAI_ROUTER_H
#define EDGEAI_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgeai/model.h"
#include "edgeai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum eai_route_tier {
    EAI_ROUTE_EDGE = 0,      /* the edge was confident */
    EAI_ROUTE_CLOUD,         /* the cloud answered */
    EAI_ROUTE_EDGE_FALLBACK, /* the cloud was needed but failed, or the breaker is open */
} eai_route_tier_t;

typedef enum eai_breaker_state {
    EAI_BREAKER_CLOSED = 0,
    EAI_BREAKER_OPEN,
    EAI_BREAKER_HALF_OPEN,
} eai_breaker_state_t;

/* "edge", "cloud", "edge_fallback"; "closed", "open", "half_open". Never NULL. */
EAI_API const char *eai_route_tier_name(eai_route_tier_t t);
EAI_API const char *eai_breaker_state_name(eai_breaker_state_t s);

/* One breaker transition. `reason` is valid during the callback only. */
typedef struct eai_breaker_event {
    eai_breaker_state_t from, to;
    int64_t t_us;       /* the router clock (microseconds) when it happened */
    int n_failures;     /* consecutive failures counted at that moment */
    const char *reason; /* e.g. the cloud error sentence, "cool-down over" */
} eai_breaker_event_t;
typedef void (*eai_breaker_log_fn)(void *user, const eai_breaker_event_t *ev);

typedef struct eai_router_opts {
    /* The edge model: borrowed (must outlive the router), or NULL to load
     * `edge_path` (borrowed for the call). */
    const eai_model_t *edge_model;
    const char *edge_path;
    const char *backend; /* edge session backend; NULL: best available */
    /* Cloud base URL ("http://127.0.0.1:8000", no trailing path) and the model
     * name on the server; requests go to BASE/v2/models/NAME/infer. NULL
     * cloud_url: edge only (every unconfident answer is EDGE_FALLBACK). */
    const char *cloud_url;
    const char *cloud_model; /* NULL: "cloud" */
    /* Tensor names: the edge input/output (by name, else index 0) and the
     * names sent to / requested from the cloud. NULL: the edge model's input 0
     * and output 0 names. Outputs are logits of shape [1, K]. */
    const char *input_name, *output_name;
    const char *cloud_input_name, *cloud_output_name;
    /* Edge answers when confidence >= threshold. 0 means 0.85; negative
     * means never offload; above 1 means always offload. */
    float threshold;
    /* Softmax temperature for the edge confidence. 0: read `calib_path`
     * (written by eai_calib_save / `edgeai calibrate`) when given, else 1. */
    float temperature;
    const char *calib_path;
    int timeout_ms;          /* per cloud attempt (connect + transfer); 0 means 200 */
    int retries;             /* extra attempts after a failure; 0 means 1, negative none */
    int backoff_ms;          /* wait before retry i is backoff_ms * 2^i; 0 means 10 */
    int breaker_failures;    /* 0 means 3 */
    int breaker_cooldown_ms; /* 0 means 1000 */
    /* Wire format of cloud calls: false sends the input and asks for the
     * output as binary tensor data (Triton's extension, which `edgeai serve`,
     * Triton and KServe speak: ~3x fewer bytes, exact floats); true sends
     * plain JSON for servers without the extension. */
    bool json_wire;
    eai_breaker_log_fn on_breaker; /* may be NULL; called on the infer thread */
    void *user;
    /* Clock in microseconds (monotonic). NULL: CLOCK_MONOTONIC. Tests inject
     * their own to make the breaker deterministic. */
    int64_t (*clock_us)(void *clock_user);
    void *clock_user;
} eai_router_opts_t;

typedef struct eai_route_result {
    eai_route_tier_t tier;
    int cls;          /* the answer */
    float confidence; /* of the answering tier (cloud: its softmax max, T = 1) */
    int edge_cls;
    float edge_confidence;  /* calibrated (softmax of logits / T) */
    int cloud_cls;          /* -1 when the cloud did not answer */
    int64_t edge_us;        /* edge inference time */
    int64_t cloud_us;       /* time spent on the cloud (all attempts + backoff); 0 if not asked */
    int64_t bytes_sent;     /* HTTP request bytes (headers + body) over all attempts */
    int64_t bytes_received; /* HTTP response bytes (headers + body) */
    int cloud_attempts;     /* HTTP requests made for this input */
    eai_status_t cloud_status;   /* EAI_OK, or why the cloud failed (last attempt) */
    eai_breaker_state_t breaker; /* state after this request */
} eai_route_result_t;

typedef struct eai_router eai_router_t;

/* Creates a router: loads the edge model (when a path), plans one session,
 * opens one HTTP handle (kept alive between requests). `opts` is copied,
 * its strings too. EAI_E_INVALID (no model, a name that is not in the
 * model, non-float input, bad URL), EAI_E_IO / EAI_E_FORMAT (model or
 * calibration file), EAI_E_NOMEM. Does not contact the cloud. */
EAI_API eai_status_t eai_router_create(const eai_router_opts_t *opts, eai_router_t **out);
/* Accepts NULL. */
EAI_API void eai_router_destroy(eai_router_t *r);
/* Routes one sample: `x` holds n floats (borrowed for the call; n must equal
 * the edge input's element count, batch 1). Fills *res. Returns EAI_OK even
 * when the cloud fails (res->tier says EDGE_FALLBACK); EAI_E_INVALID for a
 * bad argument, or the edge model's own error. Not thread-safe. */
EAI_API eai_status_t eai_router_infer(eai_router_t *r, const float *x, int64_t n,
                                      eai_route_result_t *res);
/* Only the cloud: sends x, returns its class and confidence (and the same
 * accounting as eai_router_infer in *res, tier CLOUD). Bypasses the breaker
 * and the retries; the cloud's failure is returned (EAI_E_UNAVAILABLE,
 * EAI_E_TIMEOUT, EAI_E_FORMAT). Used by `edgeai route --sweep`. */
EAI_API eai_status_t eai_router_cloud_only(eai_router_t *r, const float *x, int64_t n,
                                           eai_route_result_t *res);
EAI_API eai_breaker_state_t eai_router_breaker_state(const eai_router_t *r);
/* The temperature and threshold in use. */
EAI_API float eai_router_temperature(const eai_router_t *r);
EAI_API float eai_router_threshold(const eai_router_t *r);

/* ---- temperature scaling (Guo et al. 2017) ----
 * logits: n rows of k floats; labels: n ints in [0, k). */

/* Fits T > 0 minimising the mean NLL of softmax(logits / T) by golden-section
 * search on log T in [0.05, 20]. EAI_E_INVALID (n < 1, k < 2, a label out of
 * range, a non-finite logit). */
EAI_API eai_status_t eai_calib_fit_temperature(const float *logits, const int32_t *labels,
                                               int64_t n, int k, float *temperature);
/* Expected calibration error of softmax(logits / T): n_bins equal-width
 * confidence bins on [0, 1] (0 means 15), sum over bins of
 * |bin| / n * |accuracy(bin) - mean confidence(bin)|. */
EAI_API eai_status_t eai_calib_ece(const float *logits, const int32_t *labels, int64_t n, int k,
                                   float temperature, int n_bins, float *ece);
/* Mean NLL of softmax(logits / T) (natural log). */
EAI_API eai_status_t eai_calib_nll(const float *logits, const int32_t *labels, int64_t n, int k,
                                   float temperature, double *nll);
/* {"temperature": T, "ece_before": .., "ece_after": .., "n": n}, written to a
 * temporary file then renamed. EAI_E_IO. */
EAI_API eai_status_t eai_calib_save(const char *path, float temperature, float ece_before,
                                    float ece_after, int64_t n);
/* Reads "temperature" (> 0, finite) from such a file. EAI_E_IO, EAI_E_FORMAT. */
EAI_API eai_status_t eai_calib_load(const char *path, float *temperature);

/* ---- plot ----
 * A line plot written as an RGB PNG: axes with ticks at 0, 0.25, .., 1 of
 * each range, a light grid, and the polyline through (x[i], y[i]) in order.
 * Ranges are [x_min, x_max] x [y_min, y_max] (equal ends: taken from the data).
 * width/height 0 mean 640x480. No text (no font is linked): put the axis
 * names and ranges in the file name or next to it. EAI_E_INVALID, EAI_E_IO. */
typedef struct eai_plot_opts {
    int width, height;
    double x_min, x_max, y_min, y_max;
    /* Optional text in the built-in 5x7 font (upper case): a title above the
     * plot, the x label under the axis, the y label above it. Tick values
     * are always printed. */
    const char *title, *x_label, *y_label;
} eai_plot_opts_t;
EAI_API eai_status_t eai_plot_line_png(const char *path, const double *x, const double *y, int n,
                                       const eai_plot_opts_t *opts);

#ifdef __cplusplus
}
#endif

#endif
