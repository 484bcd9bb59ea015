/* Placeholders until quantization lands; delete entries as they are
 * implemented in their own files. */
#include "quant/quant_impl.h"

eai_status_t eai__inputset_load(const eai_model_t *m, const char *spec, int max,
                                const eai_build_opts_t *o, eai__inputset_t *out)
{
    return eai_fail(EAI_E_UNSUPPORTED, "%s: input sets are not implemented yet", spec);
}

eai_status_t eai__inputset_random(const eai_model_t *m, int n, uint64_t seed,
                                  eai__inputset_t *out)
{
    return eai_fail(EAI_E_UNSUPPORTED, "random input sets are not implemented yet");
}

void eai__inputset_free(eai__inputset_t *s)
{
}

eai_status_t eai__quant_ptq(eai__graph_t *g, const eai_model_t *m, const eai__inputset_t *calib,
                            const eai_build_opts_t *o, eai_build_report_t *rep)
{
    return eai_fail(EAI_E_UNSUPPORTED, "INT8 quantization is not implemented yet");
}
