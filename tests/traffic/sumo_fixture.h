/* The scenario the SUMO tests share: a 4-way signalised junction built at
 * test time with netconvert (C at the origin, N, S, E, W arms of 200 m, one
 * lane each, 13.9 m/s; netconvert shifts the net by (200, 200)), the test's
 * own routes and optional additionals, in a fresh /tmp folder; plus the sumo
 * the running test started, so that a failed assert (which longjmps out of
 * the test) leaves nothing running for the next start or the teardown.
 * Header-only (static inline): tests/CMakeLists.txt builds one test_*.c per
 * binary. Include after <cmocka.h>.
 *
 *   static sumo_fixture_t g_fx;
 *   static int setup(void **s) { return sumo_fixture_setup(&g_fx, "eai-x", ROUTES, NULL); }
 *   static int teardown(void **s) { return sumo_fixture_teardown(&g_fx); }
 *   eai_sumo_t *s = sumo_fixture_start(&g_fx, &(eai_sumo_opts_t){0}, 42);  // skips without sumo
 */
#ifndef EAI_TESTS_SUMO_FIXTURE_H
#define EAI_TESTS_SUMO_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgeai/traci.h"

/* Routes body for the TraCI tests: 5 m cars, one flow per arm going
 * straight, 20 vehicles each, one every 5 s from t = 0. Wrap it as
 * "<routes>\n" SUMO_FIXTURE_FLOWS_5S "</routes>\n" (plus any vehicles). */
#define SUMO_FIXTURE_FLOWS_5S                                                                      \
    "  <vType id=\"car\" length=\"5\" width=\"1.8\" maxSpeed=\"20\"/>\n"                           \
    "  <flow id=\"ns\" type=\"car\" from=\"NC\" to=\"CS\" begin=\"0\" end=\"100\" "                \
    "period=\"5\"/>\n"                                                                             \
    "  <flow id=\"sn\" type=\"car\" from=\"SC\" to=\"CN\" begin=\"0\" end=\"100\" "                \
    "period=\"5\"/>\n"                                                                             \
    "  <flow id=\"we\" type=\"car\" from=\"WC\" to=\"CE\" begin=\"0\" end=\"100\" "                \
    "period=\"5\"/>\n"                                                                             \
    "  <flow id=\"ew\" type=\"car\" from=\"EC\" to=\"CW\" begin=\"0\" end=\"100\" "                \
    "period=\"5\"/>\n"

typedef struct sumo_fixture {
    char dir[256];    /* "" when sumo or netconvert is missing: tests skip */
    char cfg[300];    /* <dir>/x.sumocfg */
    eai_sumo_t *live; /* the running test's sumo, or NULL */
} sumo_fixture_t;

/* Writes <dir>/name (fails the test when it cannot). */
static inline void sumo_fixture_write(const sumo_fixture_t *f, const char *name, const char *text)
{
    char p[400];
    snprintf(p, sizeof p, "%s/%s", f->dir, name);
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* Builds the junction with `routes` as r.rou.xml and `additional` (NULL:
 * none) as d.add.xml, in /tmp/<tag>-XXXXXX. 0 also when sumo or netconvert
 * is missing (dir stays "", and start skips); -1 on failure. */
static inline int sumo_fixture_setup(sumo_fixture_t *f, const char *tag, const char *routes,
                                     const char *additional)
{
    memset(f, 0, sizeof *f);
    if (!eai_sumo_available() || system("netconvert --version > /dev/null 2>&1") != 0) return 0;
    snprintf(f->dir, sizeof f->dir, "/tmp/%s-XXXXXX", tag);
    if (!mkdtemp(f->dir)) {
        f->dir[0] = '\0';
        return -1;
    }
    sumo_fixture_write(f, "n.nod.xml",
                       "<nodes>\n"
                       "  <node id=\"C\" x=\"0\" y=\"0\" type=\"traffic_light\"/>\n"
                       "  <node id=\"N\" x=\"0\" y=\"200\"/><node id=\"S\" x=\"0\" y=\"-200\"/>\n"
                       "  <node id=\"E\" x=\"200\" y=\"0\"/><node id=\"W\" x=\"-200\" y=\"0\"/>\n"
                       "</nodes>\n");
    sumo_fixture_write(f, "n.edg.xml",
                       "<edges>\n"
                       "  <edge id=\"NC\" from=\"N\" to=\"C\" numLanes=\"1\" speed=\"13.9\"/>\n"
                       "  <edge id=\"CN\" from=\"C\" to=\"N\" numLanes=\"1\" speed=\"13.9\"/>\n"
                       "  <edge id=\"SC\" from=\"S\" to=\"C\" numLanes=\"1\" speed=\"13.9\"/>\n"
                       "  <edge id=\"CS\" from=\"C\" to=\"S\" numLanes=\"1\" speed=\"13.9\"/>\n"
                       "  <edge id=\"EC\" from=\"E\" to=\"C\" numLanes=\"1\" speed=\"13.9\"/>\n"
                       "  <edge id=\"CE\" from=\"C\" to=\"E\" numLanes=\"1\" speed=\"13.9\"/>\n"
                       "  <edge id=\"WC\" from=\"W\" to=\"C\" numLanes=\"1\" speed=\"13.9\"/>\n"
                       "  <edge id=\"CW\" from=\"C\" to=\"W\" numLanes=\"1\" speed=\"13.9\"/>\n"
                       "</edges>\n");
    sumo_fixture_write(f, "r.rou.xml", routes);
    if (additional) sumo_fixture_write(f, "d.add.xml", additional);
    sumo_fixture_write(f, "x.sumocfg",
                       additional ? "<configuration>\n"
                                    "  <input><net-file value=\"net.xml\"/><route-files "
                                    "value=\"r.rou.xml\"/><additional-files "
                                    "value=\"d.add.xml\"/></input>\n"
                                    "</configuration>\n"
                                  : "<configuration>\n"
                                    "  <input><net-file value=\"net.xml\"/><route-files "
                                    "value=\"r.rou.xml\"/></input>\n"
                                    "</configuration>\n");
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "cd %s && netconvert --node-files n.nod.xml --edge-files n.edg.xml -o net.xml "
             "--no-turnarounds true > netconvert.log 2>&1",
             f->dir);
    if (system(cmd) != 0) return -1;
    snprintf(f->cfg, sizeof f->cfg, "%s/x.sumocfg", f->dir);
    return 0;
}

/* Stops and frees the running test's sumo, if any. */
static inline void sumo_fixture_end(sumo_fixture_t *f)
{
    eai_sumo_destroy(f->live);
    f->live = NULL;
}

/* Starts sumo on the junction with `o` (NULL: defaults; its config, set_seed
 * and seed are overwritten) and remembers it as the running one, after
 * stopping the previous. Skips the test without sumo; fails it with
 * eai_last_error() when sumo does not start. */
static inline eai_sumo_t *sumo_fixture_start(sumo_fixture_t *f, eai_sumo_opts_t *o, long seed)
{
    if (!f->dir[0]) skip();
    sumo_fixture_end(f);
    eai_sumo_opts_t def = {0};
    if (!o) o = &def;
    o->config = f->cfg;
    o->set_seed = true;
    o->seed = seed;
    eai_sumo_t *s = NULL;
    if (eai_sumo_start(o, &s) != EAI_OK) fail_msg("sumo start: %s", eai_last_error());
    f->live = s;
    return s;
}

/* Stops what is running and removes the folder. */
static inline int sumo_fixture_teardown(sumo_fixture_t *f)
{
    sumo_fixture_end(f);
    if (f->dir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
        if (system(cmd) != 0) return -1;
    }
    return 0;
}

#endif
