/* eai_build / eai_model_save (stubs until the build step lands). */
#include "edgeai/build.h"

eai_status_t eai_build(const eai_model_t *m, const eai_build_opts_t *opts, eai_model_t **out,
                       eai_build_report_t *report)
{
    return eai_fail(EAI_E_UNSUPPORTED, "eai_build: not implemented yet");
}

eai_status_t eai_model_save(const eai_model_t *m, const char *path)
{
    return eai_fail(EAI_E_UNSUPPORTED, "eai_model_save: not implemented yet");
}
