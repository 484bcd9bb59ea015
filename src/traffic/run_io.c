/* Files around a scenario run: the .sumocfg's additional files, the added
 * additional file (lane-area detectors, edgeData, baseline programs), and
 * SUMO's outputs (tripinfo, statistics, edgeData, the log). SUMO writes
 * these files itself in a fixed layout, so a small attribute scanner is
 * enough: one element per line, attributes as name="value". */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_impl.h"
#include "traffic/run_impl.h"

static eai_status_t slurp(const char *path, char **out, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return eai_fail(EAI_E_IO, "traffic: %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + len, 1, cap - len - 1, f);
        len += r;
        if (r == 0) break;
        if (cap - len < 2) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) return eai_fail(EAI_E_NOMEM, "traffic: out of memory reading %s", path);
    buf[len] = '\0';
    *out = buf;
    if (n) *n = len;
    return EAI_OK;
}

bool eai__xml_attr(const char *elem, const char *name, char *val, size_t n)
{
    const char *end = strchr(elem, '>');
    size_t nl = strlen(name);
    for (const char *p = elem; p && (!end || p < end); p++) {
        p = strstr(p, name);
        if (!p || (end && p >= end)) return false;
        if ((p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n') && p[nl] == '=' && p[nl + 1] == '"') {
            const char *v = p + nl + 2, *q = strchr(v, '"');
            if (!q) return false;
            size_t k = (size_t)(q - v);
            if (k >= n) k = n - 1;
            memcpy(val, v, k);
            val[k] = '\0';
            return true;
        }
    }
    return false;
}

double eai__xml_attr_d(const char *elem, const char *name, double dflt)
{
    char v[64];
    if (!eai__xml_attr(elem, name, v, sizeof v)) return dflt;
    char *e;
    double d = strtod(v, &e);
    return e != v ? d : dflt;
}

eai_status_t eai__traffic_cfg_additional(const char *cfg, char *out, size_t n)
{
    char *text;
    EAI_TRY(slurp(cfg, &text, NULL));
    out[0] = '\0';
    const char *p = strstr(text, "<additional-files");
    char val[4096];
    if (!p || !eai__xml_attr(p, "value", val, sizeof val)) {
        free(text);
        return EAI_OK;
    }
    free(text);
    /* relative paths are relative to the configuration's folder */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", cfg);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    size_t len = 0;
    char *save = NULL;
    for (char *tok = strtok_r(val, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        int w = tok[0] == '/' ? snprintf(out + len, n - len, "%s%s", len ? "," : "", tok)
                              : snprintf(out + len, n - len, "%s%s/%s", len ? "," : "", dir, tok);
        if (w < 0 || (size_t)w >= n - len)
            return eai_fail(EAI_E_UNSUPPORTED, "traffic: %s: additional-files list too long", cfg);
        len += (size_t)w;
    }
    return EAI_OK;
}

long eai__traffic_count_lines(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[4096];
    long n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

eai_status_t eai__traffic_parse_stats(const char *path, eai_traffic_report_t *r)
{
    char *t;
    EAI_TRY(slurp(path, &t, NULL));
    const char *p;
    if ((p = strstr(t, "<vehicles "))) {
        r->running_end = (long)eai__xml_attr_d(p, "running", 0);
        r->waiting_insert_end = (long)eai__xml_attr_d(p, "waiting", 0);
    }
    if ((p = strstr(t, "<teleports "))) r->teleports = (long)eai__xml_attr_d(p, "total", 0);
    if ((p = strstr(t, "<safety "))) {
        r->collisions = (long)eai__xml_attr_d(p, "collisions", 0);
        r->emergency_stops = (long)eai__xml_attr_d(p, "emergencyStops", 0);
    }
    free(t);
    return EAI_OK;
}

static void edge_of(const char *lane, char *edge, size_t n)
{
    snprintf(edge, n, "%s", lane);
    char *us = strrchr(edge, '_');
    if (us && us != edge) *us = '\0';
}

typedef struct od {
    char key[2 * EAI_TL_ID_MAX + 4];
    double sum;
    long n;
} od_t;

eai_status_t eai__traffic_parse_tripinfo(const char *path, eai_traffic_report_t *r)
{
    char *t;
    EAI_TRY(slurp(path, &t, NULL));
    od_t *ods = NULL;
    int n_od = 0, cap_od = 0;
    double wait = 0, trip = 0, delay = 0;
    long dep = 0, arr = 0;
    eai_status_t st = EAI_OK;
    for (const char *p = strstr(t, "<tripinfo "); p; p = strstr(p + 1, "<tripinfo ")) {
        double w = eai__xml_attr_d(p, "waitingTime", 0), a = eai__xml_attr_d(p, "arrival", -1);
        dep++;
        wait += w;
        delay += eai__xml_attr_d(p, "departDelay", 0);
        char fl[EAI_TL_ID_MAX * 2] = "", tl[EAI_TL_ID_MAX * 2] = "", fe[EAI_TL_ID_MAX],
                                te[EAI_TL_ID_MAX] = "?";
        eai__xml_attr(p, "departLane", fl, sizeof fl);
        edge_of(fl, fe, sizeof fe);
        if (a >= 0) {
            arr++;
            trip += eai__xml_attr_d(p, "duration", 0);
            if (eai__xml_attr(p, "arrivalLane", tl, sizeof tl)) edge_of(tl, te, sizeof te);
        }
        char key[sizeof ods->key];
        snprintf(key, sizeof key, "%s->%s", fe, te);
        int k = 0;
        while (k < n_od && strcmp(ods[k].key, key) != 0)
            k++;
        if (k == n_od) {
            if (n_od == cap_od) {
                int nc = cap_od ? cap_od * 2 : 64;
                od_t *no = realloc(ods, (size_t)nc * sizeof *no);
                if (!no) {
                    st = eai_fail(EAI_E_NOMEM, "traffic: out of memory reading %s", path);
                    break;
                }
                ods = no;
                cap_od = nc;
            }
            memset(&ods[n_od], 0, sizeof ods[n_od]);
            memcpy(ods[n_od].key, key, sizeof key);
            n_od++;
        }
        ods[k].sum += w;
        ods[k].n++;
    }
    r->departed = dep;
    r->arrived = arr;
    r->mean_wait_s = dep ? wait / (double)dep : 0;
    r->mean_depart_delay_s = dep ? delay / (double)dep : 0;
    r->mean_trip_s = arr ? trip / (double)arr : 0;
    r->worst_movement_wait_s = 0;
    r->worst_movement[0] = '\0';
    /* movements with fewer than 10 vehicles are noise (one unlucky car) */
    for (int k = 0; k < n_od; k++) {
        double m = ods[k].sum / (double)ods[k].n;
        if (ods[k].n >= 10 && m > r->worst_movement_wait_s) {
            r->worst_movement_wait_s = m;
            snprintf(r->worst_movement, sizeof r->worst_movement, "%s", ods[k].key);
        }
    }
    free(ods);
    free(t);
    return st;
}

eai_status_t eai__traffic_parse_edgedata(const char *path, eai_traffic_report_t *r)
{
    char *t;
    EAI_TRY(slurp(path, &t, NULL));
    for (int i = 0; i < r->n_approaches; i++) {
        eai_traffic_approach_report_t *a = &r->approaches[i];
        double w = 0;
        long left = 0;
        char want[EAI_TL_ID_MAX + 16];
        snprintf(want, sizeof want, "<edge id=\"%s\"", a->edge);
        for (const char *p = strstr(t, want); p; p = strstr(p + 1, want)) {
            w += eai__xml_attr_d(p, "waitingTime", 0);
            left += (long)eai__xml_attr_d(p, "left", 0);
        }
        a->meas_left = left;
        a->meas_wait_s = left > 0 ? w / (double)left : -1;
    }
    free(t);
    return EAI_OK;
}
