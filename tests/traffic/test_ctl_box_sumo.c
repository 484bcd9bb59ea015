/* The junction box read from a real SUMO (skipped without sumo/netconvert):
 * lane.getInternalFoes through eai_traci_lane_internal_foes, and the model's
 * box lanes and signal conflicts on the fixture's one-lane 4-way junction:
 * the two straight movements of a street do not cross, a straight movement
 * and the cross street's straight one do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "edgeai/traffic.h"
#include "sumo_fixture.h"

static sumo_fixture_t g_fx;

static int setup(void **state)
{
    (void)state;
    return sumo_fixture_setup(&g_fx, "eai-box", "<routes>\n" SUMO_FIXTURE_FLOWS_5S "</routes>\n",
                              NULL);
}

static int teardown(void **state)
{
    (void)state;
    return sumo_fixture_teardown(&g_fx);
}

/* The signal of the link from lane `from` to lane `to`, or -1. */
static int signal_of(const eai_tl_model_t *m, const char *from, const char *to)
{
    for (int i = 0; i < m->n_links; i++)
        if (strcmp(m->in[m->links[i].in_lane].id, from) == 0 && m->links[i].out_lane >= 0 &&
            strcmp(m->out[m->links[i].out_lane].id, to) == 0)
            return m->links[i].signal;
    return -1;
}

static void test_box_from_sumo(void **state)
{
    (void)state;
    eai_sumo_t *s = sumo_fixture_start(&g_fx, &(eai_sumo_opts_t){0}, 42);
    eai_traci_t *t = eai_sumo_traci(s);
    eai_tl_model_t *m = NULL;
    assert_int_equal(eai_tl_model_from_traci(t, "C", NULL, &m), EAI_OK);
    assert_true(m->n_box >= m->n_links);
    assert_non_null(m->conflict);
    for (int b = 0; b < m->n_box; b++)
        assert_int_equal(m->box[b].id[0], ':');
    size_t ns = (size_t)m->n_signals;
    for (size_t i = 0; i < ns; i++)
        for (size_t j = 0; j < ns; j++)
            assert_int_equal(m->conflict[i * ns + j], m->conflict[j * ns + i]);
    int ns_s = signal_of(m, "NC_0", "CS_0"), sn_s = signal_of(m, "SC_0", "CN_0"),
        we_s = signal_of(m, "WC_0", "CE_0");
    assert_true(ns_s >= 0 && sn_s >= 0 && we_s >= 0);
    assert_int_equal(m->conflict[(size_t)ns_s * ns + (size_t)sn_s], 0);
    assert_int_equal(m->conflict[(size_t)ns_s * ns + (size_t)we_s], 1);

    /* the getter itself: a box lane has foes, and they are box lanes */
    eai_traci_strlist_t foes;
    assert_int_equal(eai_traci_lane_internal_foes(t, m->box[0].id, &foes), EAI_OK);
    assert_true(foes.n > 0);
    assert_int_equal(foes.items[0][0], ':');
    assert_int_equal(eai_traci_lane_internal_foes(t, NULL, &foes), EAI_E_INVALID);
    assert_int_equal(eai_traci_lane_internal_foes(t, "no_such_lane", &foes), EAI_E_INVALID);
    /* the connection survives SUMO's error */
    assert_int_equal(eai_traci_lane_internal_foes(t, m->box[0].id, &foes), EAI_OK);
    eai_tl_model_destroy(m);
    sumo_fixture_end(&g_fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_box_from_sumo),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
