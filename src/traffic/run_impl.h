/* Private to the scenario runner: file helpers (run_io.c) used by run.c. */
#ifndef EAI_TRAFFIC_RUN_IMPL_H
#define EAI_TRAFFIC_RUN_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "edgeai/traffic.h"

/* Value of attribute `name` in the element starting at `elem` (up to its
 * '>'), copied (truncated) into val; false if absent. */
bool eai__xml_attr(const char *elem, const char *name, char *val, size_t n);
double eai__xml_attr_d(const char *elem, const char *name, double dflt);
/* The .sumocfg's additional-files as a comma list of paths made absolute
 * (relative to the config's folder); "" when none. */
eai_status_t eai__traffic_cfg_additional(const char *cfg, char *out, size_t n);
/* Lines of a text file containing `needle` (0 if the file is missing). */
long eai__traffic_count_lines(const char *path, const char *needle);
/* Fill report fields from SUMO's outputs. */
eai_status_t eai__traffic_parse_stats(const char *path, eai_traffic_report_t *r);
eai_status_t eai__traffic_parse_tripinfo(const char *path, eai_traffic_report_t *r);
/* Needs r->approaches[].edge set; fills meas_wait_s / meas_left. */
eai_status_t eai__traffic_parse_edgedata(const char *path, eai_traffic_report_t *r);

#endif
