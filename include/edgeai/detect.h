/* The one detection record shared by detector decoding (src/vision), the
 * trackers (src/track), the pipeline (src/pipeline), the synthetic scene
 * generator (src/scene) and traffic counting (src/traffic).
 *
 * Boxes are in pixels of the original frame, corners inclusive-exclusive
 * (x1 <= x < x2), never normalised: every consumer can compare them directly.
 */
#ifndef EDGEAI_DETECT_H
#define EDGEAI_DETECT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eai_box {
    float x1, y1, x2, y2;
} eai_box_t;

typedef struct eai_det {
    eai_box_t box;
    float score; /* detector confidence in [0, 1] */
    int cls;     /* class index into the detector's label list; -1 unknown */
    /* Optional appearance embedding (DeepSORT): `emb_dim` floats, borrowed
     * from the caller for the duration of the call that takes the
     * detection; NULL / 0 when the detection has none. */
    const float *emb;
    int emb_dim;
} eai_det_t;

static inline float eai_box_area(eai_box_t b)
{
    float w = b.x2 - b.x1, h = b.y2 - b.y1;
    return (w > 0 && h > 0) ? w * h : 0.0f;
}

/* Intersection over union; 0 for disjoint or empty boxes. */
static inline float eai_box_iou(eai_box_t a, eai_box_t b)
{
    float ix1 = a.x1 > b.x1 ? a.x1 : b.x1, iy1 = a.y1 > b.y1 ? a.y1 : b.y1;
    float ix2 = a.x2 < b.x2 ? a.x2 : b.x2, iy2 = a.y2 < b.y2 ? a.y2 : b.y2;
    eai_box_t i = {ix1, iy1, ix2, iy2};
    float inter = eai_box_area(i);
    float uni = eai_box_area(a) + eai_box_area(b) - inter;
    return uni > 0 ? inter / uni : 0.0f;
}

#ifdef __cplusplus
}
#endif
#endif
