/* Shared pieces of the `edgeai` command line: one file per subcommand, each
 * exporting `int cmd_<name>(int argc, char **argv)` (argv[0] is the
 * subcommand). Errors print one line on stderr and return non-zero. */
#ifndef EAI_CLI_H
#define EAI_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "edgeai/edgeai.h"

int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_ops(int argc, char **argv);
int cmd_build(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_data(int argc, char **argv);
/* `edgeai fl simulate` (cmd_fl.c) dispatches `fl server` and `fl client`
 * (cmd_fl_net.c) to these. */
int cmd_fl(int argc, char **argv);
int cmd_fl_server(int argc, char **argv);
int cmd_fl_client(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_route(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_track(int argc, char **argv);
int cmd_pipeline(int argc, char **argv);
int cmd_scene(int argc, char **argv);
int cmd_traffic(int argc, char **argv);
int cmd_topo(int argc, char **argv);
/* `edgeai topo up` (cmd_topo_up.c), reached through cmd_topo. */
int cmd_topo_up(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_node(int argc, char **argv);

/* Prints "edgeai <cmd>: <eai_last_error()>" and returns 1. */
int cli_fail_status(const char *cmd);
/* Prints "edgeai <cmd>: <message>" and returns 2 (usage errors). */
int cli_fail_usage(const char *cmd, const char *fmt, ...) EAI_PRINTF(2, 3);
/* Parses a positive integer option value; false with a message on error. */
bool cli_parse_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out);
/* A finite number in [lo, hi] (the whole string); false otherwise. */
bool cli_parse_double(const char *s, double lo, double hi, double *out);
/* cli_parse_double with cli_parse_int's messages: "OPT needs a value",
 * "OPT: 'S' is not a number in [LO, HI]" (printed for CMD). */
bool cli_parse_real(const char *cmd, const char *opt, const char *s, double lo, double hi,
                    double *out);
/* Peak resident set size of this process in bytes (0 if unknown). */
int64_t cli_peak_rss(void);
/* Monotonic clock in seconds. */
double cli_now(void);
/* `n` comma-separated finite numbers ("0.485,0.456,0.406"); false if s is
 * NULL, a number is malformed or the count differs. */
bool cli_parse_floats(const char *s, float *v, int n);
/* EAI_E_INVALID "PATH: is f32 1x3, input 'x' takes f32 1x4<hint>" unless the
 * .npy array has the input's dtype and shape; EAI_OK when it matches. */
eai_status_t cli_npy_fits(const char *path, const eai_npy_t *a, const eai_tensor_info_t *t,
                          const char *hint);
/* Publishes v[0..n) as eai_flmsg frames of type h->type at QoS 1 (cmd_fl_net.c):
 * retained, one topic per chunk ("<base>/<i>", a model), or all on `base`
 * (an update). buf[0..cap) is the frame scratch (header + chunk bytes). */
eai_status_t cli_fl_publish_floats(eai_transport_t *t, const char *base, bool per_chunk,
                                   const eai_flmsg_hdr_t *h, const float *v, size_t n, size_t chunk,
                                   uint8_t *buf, size_t cap);
/* "1x3x224x224" */
void cli_format_dims(const eai_tensor_info_t *t, char *buf, size_t n);

#endif
