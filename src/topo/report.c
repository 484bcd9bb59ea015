/* The comparison as a text table, CSV and JSON. Numbers are printed as the
 * simulator produced them; nothing here computes a figure. */
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "topo/topo_impl.h"

static const char *const k_cost_parts[4] = {"capex_usd", "rental_usd", "energy_usd", "egress_usd"};

static eai_status_t io_check(FILE *f)
{
    if (fflush(f) != 0 || ferror(f)) return eai_fail(EAI_E_IO, "topo: write failed");
    return EAI_OK;
}

static double offload_frac(const eai_topo_result_t *r)
{
    return r->n_samples ? (double)r->n_offloaded / (double)r->n_samples : 0;
}

eai_status_t eai_topo_write_table(FILE *f, const eai_topo_t *t, const eai_topo_result_t *r, int n)
{
    if (!f || (!r && n)) return eai_fail(EAI_E_INVALID, "eai_topo_write_table: NULL argument");
    if (t) {
        int64_t devices = 0;
        for (int g = 0; g < t->n_groups; g++)
            if (t->groups[g].tier == EAI_TOPO_DEVICE) devices += t->groups[g].count;
        fprintf(f, "topology %s: %d node groups, %lld devices, host %.1f GOPS\n", t->name,
                t->n_groups, (long long)devices, t->host_gops);
    }
    fprintf(f, "%-11s %9s %9s %9s %10s %10s %8s %11s %11s %6s\n", "arch", "p50_ms", "p99_ms",
            "mean_ms", "thr/s", "cap/s", "offload", "mJ/inf", "usd/1M", "rounds");
    for (int i = 0; i < n; i++)
        fprintf(f, "%-11s %9.3f %9.3f %9.3f %10.1f %10.1f %7.1f%% %11.3f %11.4f %6llu\n",
                eai_topo_arch_name(r[i].arch), r[i].p50_ms, r[i].p99_ms, r[i].mean_ms,
                r[i].throughput_per_s, r[i].capacity_per_s, 100 * offload_frac(&r[i]),
                r[i].energy_per_inf_mj, r[i].cost_per_1m_usd, (unsigned long long)r[i].fl_rounds);
    fprintf(f, "bytes per link (up / down, MB over the run; busiest instance utilisation):\n");
    for (int i = 0; i < n; i++) {
        fprintf(f, "  %-11s", eai_topo_arch_name(r[i].arch));
        for (int k = 0; k < r[i].n_links; k++) {
            const eai_topo_link_stats_t *l = &r[i].links[k];
            fprintf(f, "  %s-%s %.3f/%.3f (%.1f%%)", eai_topo_tier_name(l->from),
                    eai_topo_tier_name(l->to), (double)l->bytes_up / 1e6,
                    (double)l->bytes_down / 1e6, 100 * l->max_util);
        }
        fputc('\n', f);
    }
    return io_check(f);
}

eai_status_t eai_topo_write_csv(FILE *f, const eai_topo_result_t *r, int n)
{
    if (!f || (!r && n)) return eai_fail(EAI_E_INVALID, "eai_topo_write_csv: NULL argument");
    fprintf(f, "arch,sim_s,n_samples,n_done,p50_ms,p99_ms,mean_ms,max_ms,throughput_per_s,"
               "capacity_per_s,offload_frac,energy_j,energy_per_inf_mj,cost_usd,cost_per_1m_usd");
    for (int k = 0; k < 4; k++)
        fprintf(f, ",%s", k_cost_parts[k]);
    fprintf(f, ",fl_rounds,fl_bytes,fl_round_mean_s,events,wall_s");
    if (n > 0)
        for (int k = 0; k < r[0].n_links; k++) {
            const char *a = eai_topo_tier_name(r[0].links[k].from),
                       *b = eai_topo_tier_name(r[0].links[k].to);
            fprintf(f, ",%s_%s_bytes_up,%s_%s_bytes_down,%s_%s_max_util", a, b, a, b, a, b);
        }
    fputc('\n', f);
    for (int i = 0; i < n; i++) {
        const eai_topo_result_t *x = &r[i];
        fprintf(f, "%s,%.3f,%llu,%llu,%.6f,%.6f,%.6f,%.6f,%.3f,%.3f,%.6f,%.6f,%.6f,%.8f,%.6f",
                eai_topo_arch_name(x->arch), x->sim_s, (unsigned long long)x->n_samples,
                (unsigned long long)x->n_done, x->p50_ms, x->p99_ms, x->mean_ms, x->max_ms,
                x->throughput_per_s, x->capacity_per_s, offload_frac(x), x->energy_j,
                x->energy_per_inf_mj, x->cost_usd, x->cost_per_1m_usd);
        for (int k = 0; k < 4; k++)
            fprintf(f, ",%.8f", x->cost_usd_parts[k]);
        fprintf(f, ",%llu,%llu,%.6f,%llu,%.6f", (unsigned long long)x->fl_rounds,
                (unsigned long long)x->fl_bytes, x->fl_round_mean_s,
                (unsigned long long)x->n_events, x->wall_s);
        for (int k = 0; k < x->n_links; k++)
            fprintf(f, ",%llu,%llu,%.6f", (unsigned long long)x->links[k].bytes_up,
                    (unsigned long long)x->links[k].bytes_down, x->links[k].max_util);
        fputc('\n', f);
    }
    return io_check(f);
}

static cJSON *result_json(const eai_topo_result_t *x)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "arch", eai_topo_arch_name(x->arch));
    cJSON_AddNumberToObject(o, "sim_s", x->sim_s);
    cJSON_AddNumberToObject(o, "n_samples", (double)x->n_samples);
    cJSON_AddNumberToObject(o, "n_done", (double)x->n_done);
    cJSON_AddNumberToObject(o, "n_offloaded", (double)x->n_offloaded);
    cJSON_AddNumberToObject(o, "offload_frac", offload_frac(x));
    cJSON_AddNumberToObject(o, "p50_ms", x->p50_ms);
    cJSON_AddNumberToObject(o, "p99_ms", x->p99_ms);
    cJSON_AddNumberToObject(o, "mean_ms", x->mean_ms);
    cJSON_AddNumberToObject(o, "max_ms", x->max_ms);
    cJSON_AddNumberToObject(o, "throughput_per_s", x->throughput_per_s);
    cJSON_AddNumberToObject(o, "capacity_per_s", x->capacity_per_s);
    cJSON_AddNumberToObject(o, "energy_j", x->energy_j);
    cJSON_AddNumberToObject(o, "energy_per_inf_mj", x->energy_per_inf_mj);
    cJSON *et = cJSON_AddObjectToObject(o, "energy_j_tier");
    cJSON *bt = cJSON_AddObjectToObject(o, "busy_frac_tier");
    for (int i = 0; et && bt && i < EAI_TOPO_N_TIERS; i++) {
        cJSON_AddNumberToObject(et, eai_topo_tier_name((eai_topo_tier_t)i), x->energy_j_tier[i]);
        cJSON_AddNumberToObject(bt, eai_topo_tier_name((eai_topo_tier_t)i), x->busy_frac_tier[i]);
    }
    cJSON_AddNumberToObject(o, "cost_usd", x->cost_usd);
    cJSON_AddNumberToObject(o, "cost_per_1m_usd", x->cost_per_1m_usd);
    cJSON *cp = cJSON_AddObjectToObject(o, "cost_parts");
    for (int k = 0; cp && k < 4; k++)
        cJSON_AddNumberToObject(cp, k_cost_parts[k], x->cost_usd_parts[k]);
    cJSON *ls = cJSON_AddArrayToObject(o, "links");
    for (int k = 0; ls && k < x->n_links; k++) {
        cJSON *l = cJSON_CreateObject();
        if (!l) break;
        cJSON_AddStringToObject(l, "from", eai_topo_tier_name(x->links[k].from));
        cJSON_AddStringToObject(l, "to", eai_topo_tier_name(x->links[k].to));
        cJSON_AddNumberToObject(l, "bytes_up", (double)x->links[k].bytes_up);
        cJSON_AddNumberToObject(l, "bytes_down", (double)x->links[k].bytes_down);
        cJSON_AddNumberToObject(l, "msgs", (double)x->links[k].msgs);
        cJSON_AddNumberToObject(l, "resends", (double)x->links[k].resends);
        cJSON_AddNumberToObject(l, "max_util", x->links[k].max_util);
        cJSON_AddItemToArray(ls, l);
    }
    cJSON_AddNumberToObject(o, "fl_rounds", (double)x->fl_rounds);
    cJSON_AddNumberToObject(o, "fl_bytes", (double)x->fl_bytes);
    cJSON_AddNumberToObject(o, "fl_round_mean_s", x->fl_round_mean_s);
    cJSON_AddNumberToObject(o, "events", (double)x->n_events);
    cJSON_AddNumberToObject(o, "pool_grows", (double)x->n_pool_grows);
    cJSON_AddNumberToObject(o, "wall_s", x->wall_s);
    return o;
}

eai_status_t eai_topo_write_json(FILE *f, const eai_topo_t *t, const eai_topo_result_t *r, int n)
{
    if (!f || (!r && n)) return eai_fail(EAI_E_INVALID, "eai_topo_write_json: NULL argument");
    cJSON *root = cJSON_CreateObject();
    if (!root) return eai_fail(EAI_E_NOMEM, "topo: out of memory");
    if (t) {
        cJSON *tp = cJSON_AddObjectToObject(root, "topology");
        if (tp) {
            cJSON_AddStringToObject(tp, "name", t->name);
            cJSON_AddNumberToObject(tp, "host_gops", t->host_gops);
            cJSON_AddNumberToObject(tp, "offload", t->offload);
            cJSON *gs = cJSON_AddArrayToObject(tp, "nodes");
            for (int g = 0; gs && g < t->n_groups; g++) {
                cJSON *o = cJSON_CreateObject();
                if (!o) break;
                cJSON_AddStringToObject(o, "name", t->groups[g].name);
                cJSON_AddStringToObject(o, "tier", eai_topo_tier_name(t->groups[g].tier));
                cJSON_AddNumberToObject(o, "count", (double)t->groups[g].count);
                cJSON_AddStringToObject(o, "hardware", t->groups[g].hw.name);
                double ms = t->groups[g].model ? eai_topo_service_ms(t, g, t->groups[g].model) : 0;
                cJSON_AddNumberToObject(o, "service_ms", ms);
                cJSON_AddItemToArray(gs, o);
            }
        }
    }
    cJSON *as = cJSON_AddArrayToObject(root, "architectures");
    for (int i = 0; as && i < n; i++) {
        cJSON *o = result_json(&r[i]);
        if (o) cJSON_AddItemToArray(as, o);
    }
    char *s = cJSON_Print(root);
    cJSON_Delete(root);
    if (!s) return eai_fail(EAI_E_NOMEM, "topo: out of memory printing JSON");
    fputs(s, f);
    fputc('\n', f);
    free(s);
    return io_check(f);
}
