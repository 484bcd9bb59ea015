/* libFuzzer target for the Y4M parser (eai_video_open_y4m_memory +
 * eai_video_read): any input must give a status, never a crash, leak or
 * sanitizer report; frames that are read must have the header's size.
 * Corpus: fuzz/corpus/y4m. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "edgeai/video.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    eai_video_t *v = NULL;
    if (eai_video_open_y4m_memory(data, size, "fuzz.y4m", NULL, &v) != EAI_OK) {
        if (v) abort(); /* *out is set only on success */
        return 0;
    }
    int w = eai_video_width(v), h = eai_video_height(v);
    if (w <= 0 || h <= 0) abort();
    /* a frame's planes must fit in the input, so a large header alone only
     * costs an allocation of the RGB frame: skip those to keep runs fast */
    if ((size_t)w * (size_t)h > size + 4096) {
        eai_video_close(v);
        return 0;
    }
    eai_image_t img = {0};
    bool eof = false;
    for (int i = 0; i < 64 && !eof; i++) {
        eai_status_t st = eai_video_read(v, &img, &eof);
        if (st != EAI_OK) {
            if (eai_video_read(v, &img, &eof) != EAI_E_STATE) abort();
            break;
        }
        if (!eof && (img.width != w || img.height != h || img.channels != 3 || !img.data)) abort();
    }
    eai_image_free(&img);
    eai_video_close(v);
    return 0;
}
