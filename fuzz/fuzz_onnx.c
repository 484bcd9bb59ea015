/* libFuzzer target for the ONNX importer (eai_model_load_memory): protobuf
 * decoding, graph checks and shape inference over arbitrary bytes. Any input
 * must give a status, never a crash, leak or sanitizer report. Corpus:
 * fuzz/corpus/onnx (tiny models from gen_onnx_corpus.py plus broken ones). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "edgeai/model.h"
#include "fuzz_alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    eai_model_opts_t fuzz_opts = {.alloc = {fuzz_capped_alloc, NULL}};
    eai_model_t *m = NULL;
    if (eai_model_load_memory(data, size, "fuzz.onnx", &fuzz_opts, &m) != EAI_OK) {
        if (m) /* on failure *out is untouched */
            abort();
        return 0;
    }
    /* walk what a loaded model reports, so the accessors see fuzzed graphs too */
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
