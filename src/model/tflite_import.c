/* TFLite flatbuffer import (stub until the importer lands). */
#include "model/graph.h"

bool eai__tflite_probe(const void *data, size_t n_bytes)
{
    return n_bytes >= 8 && memcmp((const char *)data + 4, "TFL3", 4) == 0;
}

eai_status_t eai__tflite_import(eai__graph_t *g, const void *data, size_t n_bytes)
{
    return eai_fail(EAI_E_UNSUPPORTED, "%s: TFLite models are not supported yet", g->label);
}
