/* Detector decoders and NMS against hand-computed cases: every layout
 * (YOLOv5, YOLOv8 both orientations, SSD, NanoDet, CenterNet), class-aware vs
 * agnostic NMS, top-k, the candidate heap, mapping back through a letterbox,
 * and bad shapes. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "edgeai/vision.h"

#define NEAR(a, b) assert_true(fabsf((float)(a) - (float)(b)) < 1e-4f)

static eai_det_output_t out3(const float *d, int64_t a, int64_t b, int64_t c)
{
    eai_det_output_t o;
    memset(&o, 0, sizeof o);
    o.data = d;
    o.info.dtype = EAI_F32;
    o.info.rank = 3;
    o.info.dims[0] = a, o.info.dims[1] = b, o.info.dims[2] = c;
    return o;
}

static void assert_box(eai_box_t b, float x1, float y1, float x2, float y2)
{
    NEAR(b.x1, x1);
    NEAR(b.y1, y1);
    NEAR(b.x2, x2);
    NEAR(b.y2, y2);
}

/* rows: cx cy w h obj c0 c1; 8 rows (the last 4 empty) so that N > 5 + C as
 * in real exports, which is how the guess tells v5 from v8 */
static const float yolo5[8 * 7] = {
    100, 100, 40, 20, 0.9f, 0.8f, 0.1f, /* 0.72 class 0, box [80,90,120,110] */
    102, 100, 40, 20, 0.8f, 0.5f, 0.2f, /* 0.40 class 0, IoU 0.905 with row 0 */
    300, 300, 10, 10, 0.2f, 0.9f, 0.9f, /* obj below conf */
    102, 100, 40, 20, 0.9f, 0.1f, 0.7f, /* 0.63 class 1, same place */
};

static void test_yolov5_class_aware(void **state)
{
    (void)state;
    eai_det_output_t o = out3(yolo5, 1, 8, 7);
    eai_det_kind_t k;
    assert_int_equal(eai_det_kind_guess(&o, 1, &k), EAI_OK);
    assert_int_equal(k, EAI_DET_YOLOV5);
    eai_det_t cand[8], out[8];
    int n;
    eai_decode_opts_t opt = {.conf = 0.25f, .iou = 0.5f};
    assert_int_equal(eai_det_decode(EAI_DET_AUTO, &o, 1, 640, 640, &opt, NULL, cand, 8, out, 8, &n),
                     EAI_OK);
    assert_int_equal(n, 2);
    NEAR(out[0].score, 0.72f);
    assert_int_equal(out[0].cls, 0);
    assert_box(out[0].box, 80, 90, 120, 110);
    NEAR(out[1].score, 0.63f);
    assert_int_equal(out[1].cls, 1);
    assert_box(out[1].box, 82, 90, 122, 110);
    assert_null(out[0].emb);

    opt.agnostic = true;
    assert_int_equal(
        eai_det_decode(EAI_DET_YOLOV5, &o, 1, 640, 640, &opt, NULL, cand, 8, out, 8, &n), EAI_OK);
    assert_int_equal(n, 1);
    NEAR(out[0].score, 0.72f);

    /* raw: three candidates pass (0.72, 0.40, 0.63), no NMS */
    assert_int_equal(eai_det_decode_raw(EAI_DET_YOLOV5, &o, 1, 640, 640, &opt, cand, 8, &n),
                     EAI_OK);
    assert_int_equal(n, 3);
}

static void test_yolov5_normalised_sigmoid(void **state)
{
    (void)state;
    /* logits: obj 0 -> 0.5, class ln 3 -> 0.75: score 0.375; coords in [0,1] */
    const float d[7] = {0.5f, 0.25f, 0.1f, 0.2f, 0.0f, logf(3.0f), -5.0f};
    eai_det_output_t o = out3(d, 1, 1, 7);
    eai_decode_opts_t opt = {.sigmoid = true, .normalised = true};
    eai_det_t c[2];
    int n;
    assert_int_equal(eai_det_decode_raw(EAI_DET_YOLOV5, &o, 1, 200, 100, &opt, c, 2, &n), EAI_OK);
    assert_int_equal(n, 1);
    NEAR(c[0].score, 0.375f);
    assert_box(c[0].box, 100 - 10, 25 - 10, 100 + 10, 25 + 10);
}

static void test_yolov8_both_orientations(void **state)
{
    (void)state;
    /* 8 anchors x (4 + 2 classes), fields-major [1,6,8]: anchor 5 holds the box */
    float t[6 * 8] = {0};
    const float a5[6] = {50, 60, 20, 10, 0.1f, 0.9f};
    for (int k = 0; k < 6; k++)
        t[k * 8 + 5] = a5[k];
    eai_det_output_t o = out3(t, 1, 6, 8);
    eai_det_kind_t k;
    assert_int_equal(eai_det_kind_guess(&o, 1, &k), EAI_OK);
    assert_int_equal(k, EAI_DET_YOLOV8);
    eai_det_t c[8];
    int n;
    assert_int_equal(eai_det_decode_raw(EAI_DET_YOLOV8, &o, 1, 100, 100, NULL, c, 8, &n), EAI_OK);
    assert_int_equal(n, 1);
    assert_int_equal(c[0].cls, 1);
    NEAR(c[0].score, 0.9f);
    assert_box(c[0].box, 40, 55, 60, 65);

    /* the same anchors rows-major [1,8,6] */
    float r[8 * 6] = {0};
    memcpy(r + 5 * 6, a5, sizeof a5);
    o = out3(r, 1, 8, 6);
    assert_int_equal(eai_det_decode_raw(EAI_DET_YOLOV8, &o, 1, 100, 100, NULL, c, 8, &n), EAI_OK);
    assert_int_equal(n, 1);
    assert_box(c[0].box, 40, 55, 60, 65);
}

static void test_ssd_corner_yx_background(void **state)
{
    (void)state;
    const float boxes[2 * 4] = {0.1f, 0.2f, 0.5f, 0.6f, 0, 0, 1, 1};
    const float scores[2 * 3] = {0.1f, 0.7f, 0.2f, 0.9f, 0.05f, 0.05f}; /* 2nd: background */
    eai_det_output_t o[2] = {out3(boxes, 1, 2, 4), out3(scores, 1, 2, 3)};
    eai_det_kind_t k;
    assert_int_equal(eai_det_kind_guess(o, 2, &k), EAI_OK);
    assert_int_equal(k, EAI_DET_SSD);
    eai_decode_opts_t opt = {.normalised = true, .ssd_yx = true, .ssd_background = true};
    eai_det_t c[4];
    int n;
    assert_int_equal(eai_det_decode_raw(EAI_DET_SSD, o, 2, 400, 200, &opt, c, 4, &n), EAI_OK);
    assert_int_equal(n, 1);
    assert_int_equal(c[0].cls, 0); /* column 1 minus background */
    NEAR(c[0].score, 0.7f);
    assert_box(c[0].box, 80, 20, 240, 100);

    /* outputs in the other order, centre format in pixels, no background */
    const float b2[4] = {50, 60, 20, 10};
    const float s2[2] = {0.3f, 0.6f};
    eai_det_output_t p[2] = {out3(s2, 1, 1, 2), out3(b2, 1, 1, 4)};
    eai_decode_opts_t o2 = {.ssd_center = true};
    assert_int_equal(eai_det_decode_raw(EAI_DET_SSD, p, 2, 100, 100, &o2, c, 4, &n), EAI_OK);
    assert_int_equal(n, 1);
    assert_int_equal(c[0].cls, 1);
    assert_box(c[0].box, 40, 55, 60, 65);
}

static void test_nanodet(void **state)
{
    (void)state;
    /* 16x16 input, 2 classes, 2 bins: stride 8 (2x2 cells) and stride 16 (1 cell) */
    float cls8[4 * 2] = {0}, reg8[4 * 8] = {0}, cls16[2] = {0.6f, 0.1f}, reg16[8] = {0};
    cls8[3 * 2 + 0] = 0.1f;
    cls8[3 * 2 + 1] = 0.9f; /* cell 3 = (x 1, y 1), class 1 */
    const float l3 = logf(3.0f);
    /* sides l, t, r, b: bins [0,0] -> E = 0.5; [0,ln3] -> 0.75; [ln3,0] -> 0.25 */
    const float bins[8] = {0, 0, 0, l3, l3, 0, 0, 0};
    memcpy(reg8 + 3 * 8, bins, sizeof bins);
    eai_det_output_t o[4] = {out3(cls8, 1, 4, 2), out3(reg16, 1, 1, 8), out3(reg8, 1, 4, 8),
                             out3(cls16, 1, 1, 2)};
    eai_det_kind_t k;
    assert_int_equal(eai_det_kind_guess(o, 4, &k), EAI_OK);
    assert_int_equal(k, EAI_DET_NANODET);
    eai_decode_opts_t opt = {.n_classes = 2, .conf = 0.5f, .nanodet_grid_origin = true};
    eai_det_t c[8], out[8];
    int n;
    assert_int_equal(eai_det_decode(EAI_DET_NANODET, o, 4, 16, 16, &opt, NULL, c, 8, out, 8, &n),
                     EAI_OK);
    assert_int_equal(n, 2);
    /* centre (8, 8); l = 0.5*8 = 4, t = 0.75*8 = 6, r = 0.25*8 = 2, b = 4 */
    assert_int_equal(out[0].cls, 1);
    NEAR(out[0].score, 0.9f);
    assert_box(out[0].box, 4, 2, 10, 12);
    /* stride 16 cell at (0, 0): every side 0.5 * 16 = 8 */
    assert_int_equal(out[1].cls, 0);
    assert_box(out[1].box, -8, -8, 8, 8);

    opt.nanodet_grid_origin = false; /* default: centres half a stride further */
    assert_int_equal(eai_det_decode(EAI_DET_NANODET, o, 4, 16, 16, &opt, NULL, c, 8, out, 8, &n),
                     EAI_OK);
    assert_box(out[0].box, 8, 6, 14, 16);

    /* a level whose cell count fits no stride */
    eai_det_output_t bad[2] = {out3(cls8, 1, 3, 2), out3(reg8, 1, 3, 8)};
    assert_int_equal(eai_det_decode_raw(EAI_DET_NANODET, bad, 2, 16, 16, &opt, c, 8, &n),
                     EAI_E_FORMAT);
    assert_non_null(strstr(eai_last_error(), "stride"));
}

static void test_centernet(void **state)
{
    (void)state;
    const float det[4 * 6] = {
        10, 20, 50, 80, 0.9f, 2,   /* kept */
        0,  0,  1,  1,  0.1f, 0,   /* below conf */
        12, 22, 52, 82, 0.5f, 2,   /* IoU 0.849 with the first: suppressed */
        5,  5,  9,  9,  0.8f, NAN, /* no class: skipped */
    };
    float wh[4] = {0};
    eai_det_output_t o[2] = {out3(wh, 1, 1, 4), out3(det, 1, 4, 6)};
    o[0].info.rank = 4; /* like [1,128,128,4] */
    o[0].info.dims[3] = 1;
    eai_det_kind_t k;
    assert_int_equal(eai_det_kind_guess(o, 2, &k), EAI_OK);
    assert_int_equal(k, EAI_DET_CENTERNET);
    eai_det_t c[8], out[8];
    int n;
    /* letterbox back-mapping: tensor = src * 0.5 + (0, 10) */
    eai_xform_t xf = {0.5f, 0.5f, 0.0f, 10.0f, 1000, 1000};
    assert_int_equal(eai_det_decode(EAI_DET_CENTERNET, o, 2, 512, 512, NULL, &xf, c, 8, out, 8, &n),
                     EAI_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].cls, 2);
    assert_box(out[0].box, 20, 20, 100, 140);
}

static void test_nms(void **state)
{
    (void)state;
    /* a and b overlap with IoU 50/150 = 1/3; c is b's class-1 twin */
    eai_det_t d[3] = {{{0, 0, 10, 10}, 0.9f, 0, NULL, 0},
                      {{5, 0, 15, 10}, 0.8f, 0, NULL, 0},
                      {{5, 0, 15, 10}, 0.7f, 1, NULL, 0}};
    eai_det_t w[3];
    int n;
    memcpy(w, d, sizeof d);
    eai_nms(w, 3, 0.3f, false, 0, &n); /* 1/3 > 0.3: b goes, c is another class */
    assert_int_equal(n, 2);
    NEAR(w[0].score, 0.9f);
    NEAR(w[1].score, 0.7f);
    memcpy(w, d, sizeof d);
    eai_nms(w, 3, 0.34f, false, 0, &n); /* 1/3 < 0.34: all stay */
    assert_int_equal(n, 3);
    memcpy(w, d, sizeof d);
    eai_nms(w, 3, 0.3f, true, 0, &n); /* agnostic: b and c both go */
    assert_int_equal(n, 1);
    memcpy(w, d, sizeof d);
    eai_nms(w, 3, 0.99f, false, 2, &n); /* top-k */
    assert_int_equal(n, 2);
    NEAR(w[1].score, 0.8f);
    /* order: unsorted input comes out best first */
    eai_det_t u[3] = {d[2], d[0], d[1]};
    eai_nms(u, 3, 0.99f, false, 0, &n);
    NEAR(u[0].score, 0.9f);
    NEAR(u[2].score, 0.7f);
    eai_nms(NULL, 0, 0.5f, false, 0, &n);
    assert_int_equal(n, 0);
}

static void test_candidate_cap_keeps_best(void **state)
{
    (void)state;
    /* 6 far-apart YOLOv8 anchors with scores 0.3..0.8; room for 3 candidates */
    float t[5 * 6] = {0};
    for (int i = 0; i < 6; i++) {
        t[0 * 6 + i] = 50.0f * (float)i + 10;
        t[1 * 6 + i] = 10;
        t[2 * 6 + i] = 10;
        t[3 * 6 + i] = 10;
        t[4 * 6 + i] = 0.3f + 0.1f * (float)((i * 5) % 6); /* 0.3, 0.8, 0.7, ... */
    }
    eai_det_output_t o = out3(t, 1, 5, 6);
    eai_det_t c[3], out[2];
    int n;
    assert_int_equal(eai_det_decode(EAI_DET_YOLOV8, &o, 1, 320, 320, NULL, NULL, c, 3, out, 2, &n),
                     EAI_OK);
    assert_int_equal(n, 2);
    NEAR(out[0].score, 0.8f);
    NEAR(out[1].score, 0.7f);
}

static void test_bad_inputs(void **state)
{
    (void)state;
    eai_det_t c[4];
    int n = 7;
    eai_det_output_t o = out3(yolo5, 1, 8, 7);
    eai_decode_opts_t opt = {.n_classes = 3}; /* 5 + 3 != 7 */
    assert_int_equal(eai_det_decode_raw(EAI_DET_YOLOV5, &o, 1, 64, 64, &opt, c, 4, &n),
                     EAI_E_FORMAT);
    assert_non_null(strstr(eai_last_error(), "[1,8,7]"));
    assert_int_equal(eai_det_decode_raw(EAI_DET_YOLOV5, NULL, 1, 64, 64, NULL, c, 4, &n),
                     EAI_E_INVALID);
    assert_int_equal(eai_det_decode_raw(EAI_DET_YOLOV5, &o, 1, 0, 64, NULL, c, 4, &n),
                     EAI_E_INVALID);
    o.info.dtype = EAI_I32;
    assert_int_equal(eai_det_decode_raw(EAI_DET_YOLOV5, &o, 1, 64, 64, NULL, c, 4, &n),
                     EAI_E_INVALID);
    eai_det_output_t r5;
    memset(&r5, 0, sizeof r5);
    r5.data = yolo5;
    r5.info.dtype = EAI_F32;
    r5.info.rank = 5;
    for (int i = 0; i < 5; i++)
        r5.info.dims[i] = 2;
    eai_det_kind_t k;
    assert_int_equal(eai_det_kind_guess(&r5, 1, &k), EAI_E_UNSUPPORTED);
    assert_non_null(strstr(eai_last_error(), "[2,2,2,2,2]"));
    assert_int_equal(eai_det_decode_raw(EAI_DET_CENTERNET, &r5, 1, 64, 64, NULL, c, 4, &n),
                     EAI_E_FORMAT);
    /* SSD with mismatched anchor counts */
    const float b[8] = {0}, s[3] = {0};
    eai_det_output_t p[2] = {out3(b, 1, 2, 4), out3(s, 1, 3, 1)};
    assert_int_equal(eai_det_decode_raw(EAI_DET_SSD, p, 2, 64, 64, NULL, c, 4, &n), EAI_E_FORMAT);
}

/* COCO-80 names match @vladmandic/human's labels.ts when it is installed. */
static void test_coco_labels(void **state)
{
    (void)state;
    assert_string_equal(eai_coco80_label(0), "person");
    assert_string_equal(eai_coco80_label(2), "car");
    assert_string_equal(eai_coco80_label(79), "toothbrush");
    assert_string_equal(eai_coco80_label(80), "?");
    assert_string_equal(eai_coco80_label(-1), "?");
    FILE *f = fopen(
        EAI_SOURCE_DIR "/third_party/npm/node_modules/@vladmandic/human/src/object/labels.ts", "r");
    if (!f) {
        skip();
        return;
    }
    char line[256];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        int cls;
        char name[64];
        if (sscanf(line, " { class: %d, label: '%63[^']' }", &cls, name) == 2) {
            assert_true(cls >= 1 && cls <= 80);
            assert_string_equal(eai_coco80_labels()[cls - 1], name);
            found++;
        }
    }
    fclose(f);
    assert_int_equal(found, 80);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yolov5_class_aware),
        cmocka_unit_test(test_yolov5_normalised_sigmoid),
        cmocka_unit_test(test_yolov8_both_orientations),
        cmocka_unit_test(test_ssd_corner_yx_background),
        cmocka_unit_test(test_nanodet),
        cmocka_unit_test(test_centernet),
        cmocka_unit_test(test_nms),
        cmocka_unit_test(test_candidate_cap_keeps_best),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_coco_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
