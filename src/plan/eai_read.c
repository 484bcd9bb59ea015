/* .eai plans: reading (stub until the format lands; see docs/eai-format.md). */
#include "runtime/runtime_impl.h"

bool eai__plan_probe(const void *data, size_t n)
{
    return false;
}

eai_status_t eai__plan_load_file(eai_model_t *m, const char *path)
{
    return eai_fail(EAI_E_UNSUPPORTED, "%s: .eai plans are not supported yet", path);
}

eai_status_t eai__plan_load_memory(eai_model_t *m, const void *data, size_t n)
{
    return eai_fail(EAI_E_UNSUPPORTED, ".eai plans are not supported yet");
}

void eai__plan_release(eai_model_t *m)
{
}
