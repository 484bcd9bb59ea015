/* libFuzzer target for the TFLite importer (eai_model_load_memory on
 * flatbuffers): the bounds-checked reader, the index and size checks, the
 * op mappings and the shape pass over arbitrary bytes. Bytes 4..7 are forced
 * to the "TFL3" identifier so mutations stay on the TFLite path instead of
 * falling through to the ONNX importer. Any input must give a status, never
 * a crash, leak or sanitizer report. Corpus: fuzz/corpus/tflite (the small
 * fixtures of scripts/make_tflite_fixtures.py, valid and malformed, plus
 * what fuzzing added). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edgeai/model.h"
#include "fuzz_alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    if (size) memcpy(buf, data, size);
    if (size >= 8) memcpy(buf + 4, "TFL3", 4);
    eai_model_opts_t fuzz_opts = {.alloc = {fuzz_capped_alloc, NULL}};
    eai_model_t *m = NULL;
    if (eai_model_load_memory(buf, size, "fuzz.tflite", &fuzz_opts, &m) != EAI_OK) {
        free(buf);
        if (m) /* on failure *out is untouched */
            abort();
        return 0;
    }
    free(buf); /* the model must not keep pointers into the file */
    for (int i = 0; i < eai_model_n_inputs(m); i++) {
        eai_tensor_info_t t;
        if (eai_model_input_info(m, i, &t) != EAI_OK || t.rank < 0 || t.rank > EAI_MAX_RANK)
            abort();
    }
    for (int i = 0; i < eai_model_n_outputs(m); i++) {
        eai_tensor_info_t t;
        if (eai_model_output_info(m, i, &t) != EAI_OK || t.rank < 0 || t.rank > EAI_MAX_RANK)
            abort();
    }
    eai_model_stats_t st;
    eai_model_get_stats(m, &st);
    eai_model_destroy(m);
    return 0;
}
