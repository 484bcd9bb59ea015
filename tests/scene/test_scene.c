/* Scene generator: determinism, ground-truth boxes against the rendered
 * pixels, occlusion-aware visibility, the camera model against hand-computed
 * projections, SUMO conversion, traffic behaviour, no allocation per frame,
 * and bad input. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/core_impl.h"
#include "edgeai/scene.h"
#include "edgeai/vision.h"

static eai_scene_config_t quiet_cfg(void)
{
    /* no noise, no lighting drift, no poles/tree, no built-in traffic */
    eai_scene_config_t c = {.seed = 3,
                            .width = 320,
                            .height = 240,
                            .noise = -1,
                            .lighting = -1,
                            .density = -1,
                            .no_static = true};
    return c;
}

static void test_determinism(void **state)
{
    (void)state;
    eai_scene_config_t c = {.seed = 11, .width = 256, .height = 192, .warmup_s = 20};
    eai_scene_t *a, *b, *d;
    assert_int_equal(eai_scene_create(&c, &a), EAI_OK);
    assert_int_equal(eai_scene_create(&c, &b), EAI_OK);
    c.seed = 12;
    assert_int_equal(eai_scene_create(&c, &d), EAI_OK);
    eai_image_t fa = {0}, fb = {0}, fd = {0};
    eai_scene_truth_t ta[128], tb[128];
    int n_diff_pixels = 0, n_objects = 0;
    for (int f = 0; f < 5; f++) {
        assert_int_equal(eai_scene_step(a), EAI_OK);
        assert_int_equal(eai_scene_step(b), EAI_OK);
        assert_int_equal(eai_scene_step(d), EAI_OK);
        assert_int_equal(eai_scene_render(a, &fa), EAI_OK);
        assert_int_equal(eai_scene_render(b, &fb), EAI_OK);
        assert_int_equal(eai_scene_render(d, &fd), EAI_OK);
        assert_memory_equal(fa.data, fb.data, (size_t)256 * 192 * 3);
        for (size_t i = 0; i < (size_t)256 * 192 * 3; i++)
            n_diff_pixels += fa.data[i] != fd.data[i];
        int na, nb;
        assert_int_equal(eai_scene_truth(a, ta, 128, &na), EAI_OK);
        assert_int_equal(eai_scene_truth(b, tb, 128, &nb), EAI_OK);
        assert_int_equal(na, nb);
        assert_memory_equal(ta, tb, sizeof ta[0] * (size_t)na);
        n_objects += na;
    }
    assert_true(n_objects > 0);                     /* the warm-up filled the roads */
    assert_true(n_diff_pixels > 256 * 192 * 3 / 2); /* another seed: other noise and traffic */
    eai_image_free(&fa);
    eai_image_free(&fb);
    eai_image_free(&fd);
    eai_scene_destroy(a);
    eai_scene_destroy(b);
    eai_scene_destroy(d);
}

static bool magenta(const uint8_t *p)
{
    return p[0] > p[1] + 50 && p[2] > p[1] + 50 && abs((int)p[0] - (int)p[2]) < 40;
}

/* A magenta car alone: every magenta pixel lies in its truth box, a 3-pixel
 * ring outside the box holds none, the box sits inside the projection of the
 * car's bounding cuboid (computed here with eai_scene_project), and it is
 * fully visible. */
static void test_box_matches_pixels(void **state)
{
    (void)state;
    eai_scene_config_t c = quiet_cfg();
    eai_scene_t *s;
    assert_int_equal(eai_scene_create(&c, &s), EAI_OK);
    eai_scene_object_t o = {.id = 5,
                            .cls = EAI_SCENE_CAR,
                            .x = 1.75f,
                            .y = 2.0f,
                            .heading = 1.5707963f,
                            .length = 4.5f,
                            .width = 1.8f,
                            .height = 1.5f,
                            .look = 99,
                            .rgb = 0xFF00FF,
                            .use_rgb = true};
    eai_image_t fr = {0};
    assert_int_equal(eai_scene_render_objects(s, &o, 1, 0, &fr), EAI_OK);
    eai_scene_truth_t t[4];
    int n;
    assert_int_equal(eai_scene_truth(s, t, 4, &n), EAI_OK);
    assert_int_equal(n, 1);
    assert_int_equal(t[0].id, 5);
    assert_int_equal(t[0].cls, EAI_SCENE_CAR);
    assert_float_equal(t[0].visibility, 1.0f, 1e-6);
    int x1 = (int)t[0].box.x1, y1 = (int)t[0].box.y1, x2 = (int)t[0].box.x2, y2 = (int)t[0].box.y2;
    int inside = 0;
    for (int j = 0; j < fr.height; j++)
        for (int i = 0; i < fr.width; i++) {
            const uint8_t *p = fr.data + 3 * ((size_t)j * fr.width + i);
            if (!magenta(p)) continue;
            bool in = i >= x1 && i < x2 && j >= y1 && j < y2;
            assert_true(in);
            inside++;
        }
    assert_true(inside > 200);
    /* projection of the cuboid's 8 corners */
    eai_scene_camera_t cam = eai_scene_get_camera(s);
    float umin = 1e9f, umax = -1e9f, vmin = 1e9f, vmax = -1e9f;
    for (int k = 0; k < 8; k++) {
        float lx = (k & 1) ? 2.25f : -2.25f, ly = (k & 2) ? 0.9f : -0.9f, z = (k & 4) ? 1.5f : 0;
        float u, v;
        /* heading +90 degrees: object x (forward) is world +y */
        assert_int_equal(eai_scene_project(&cam, 1.75f - ly, 2.0f + lx, z, &u, &v, NULL), EAI_OK);
        umin = fminf(umin, u), umax = fmaxf(umax, u), vmin = fminf(vmin, v), vmax = fmaxf(vmax, v);
    }
    assert_true(t[0].box.x1 >= floorf(umin) - 1 && t[0].box.x2 <= ceilf(umax) + 1);
    assert_true(t[0].box.y1 >= floorf(vmin) - 1 && t[0].box.y2 <= ceilf(vmax) + 1);
    eai_box_t proj = {umin, vmin, umax, vmax};
    assert_true(eai_box_iou(proj, t[0].box) > 0.8f);
    /* the rest of the frame is untouched background: a ring 3 px outside
     * the box has no magenta (checked above) and the frame without the car
     * differs only inside the box or in its shadow (darker, never magenta) */
    eai_image_t empty = {0};
    assert_int_equal(eai_scene_render_objects(s, NULL, 0, 0, &empty), EAI_OK);
    for (int j = 0; j < fr.height; j++)
        for (int i = 0; i < fr.width; i++) {
            size_t q = 3 * ((size_t)j * fr.width + i);
            bool in = i >= x1 - 3 && i < x2 + 3 && j >= y1 - 3 && j < y2 + 3;
            if (in) continue;
            for (int ch = 0; ch < 3; ch++)
                assert_true(fr.data[q + ch] <= empty.data[q + ch]);
        }
    assert_int_equal(eai_scene_truth(s, t, 4, &n), EAI_OK);
    assert_int_equal(n, 0);
    eai_image_free(&fr);
    eai_image_free(&empty);
    eai_scene_destroy(s);
}

/* A truck between the camera and a car lowers the car's visibility; the
 * car's (full) box does not change. */
static void test_occlusion(void **state)
{
    (void)state;
    eai_scene_config_t c = quiet_cfg();
    eai_scene_t *s;
    assert_int_equal(eai_scene_create(&c, &s), EAI_OK);
    eai_scene_object_t car = {.id = 1,
                              .cls = EAI_SCENE_CAR,
                              .x = 6,
                              .y = 6,
                              .heading = 0,
                              .length = 4.4f,
                              .width = 1.8f,
                              .height = 1.45f,
                              .look = 1};
    eai_scene_object_t objs[2] = {car, car};
    eai_image_t fr = {0};
    eai_scene_truth_t t[4];
    int n;
    assert_int_equal(eai_scene_render_objects(s, objs, 1, 0, &fr), EAI_OK);
    assert_int_equal(eai_scene_truth(s, t, 4, &n), EAI_OK);
    assert_int_equal(n, 1);
    assert_float_equal(t[0].visibility, 1.0f, 1e-6);
    eai_box_t alone = t[0].box;
    float last = 1.0f;
    /* a 3.5 m truck on the camera ray, 6 m before the car: the ray to the
     * car's roof passes it at about 3 m height, so it hides most of the car */
    objs[1] = (eai_scene_object_t){.id = 2,
                                   .cls = EAI_SCENE_TRUCK,
                                   .x = 1.5f,
                                   .y = 1.5f,
                                   .heading = 0.785f,
                                   .length = 6,
                                   .width = 2.5f,
                                   .height = 3.5f,
                                   .look = 2};
    assert_int_equal(eai_scene_render_objects(s, objs, 2, 0, &fr), EAI_OK);
    assert_int_equal(eai_scene_truth(s, t, 4, &n), EAI_OK);
    assert_int_equal(n, 2);
    assert_int_equal(t[0].id, 1);
    assert_true(t[0].visibility < 0.6f);
    assert_true(t[0].visibility < last);
    assert_float_equal(t[0].box.x1, alone.x1, 0);
    assert_float_equal(t[0].box.y2, alone.y2, 0);
    assert_float_equal(t[1].visibility, 1.0f, 1e-6); /* the truck is in front */
    /* behind the car instead: the car is whole again */
    objs[1].x = 10, objs[1].y = 10;
    assert_int_equal(eai_scene_render_objects(s, objs, 2, 0, &fr), EAI_OK);
    assert_int_equal(eai_scene_truth(s, t, 4, &n), EAI_OK);
    assert_float_equal(t[0].visibility, 1.0f, 1e-6);
    assert_true(t[1].visibility < 1.0f);
    eai_image_free(&fr);
    eai_scene_destroy(s);
}

/* Camera at (0,0,10) looking north (yaw 90), 45 degrees down, hfov 90 on a
 * 640x480 frame: focal 320, so (0,10,0) is the image centre and (10,10,0)
 * is at u = 320 + 320 * 10 / (10 * sqrt 2) = 546.27, v = 240 (by hand). */
static void test_camera(void **state)
{
    (void)state;
    eai_scene_camera_t cam = {0, 0, 10, 90, 45, 90, 640, 480};
    float u, v, d;
    assert_int_equal(eai_scene_project(&cam, 0, 10, 0, &u, &v, &d), EAI_OK);
    assert_float_equal(u, 320.0f, 1e-3);
    assert_float_equal(v, 240.0f, 1e-3);
    assert_float_equal(d, 14.1421f, 1e-3);
    assert_int_equal(eai_scene_project(&cam, 10, 10, 0, &u, &v, NULL), EAI_OK);
    assert_float_equal(u, 546.274f, 1e-2);
    assert_float_equal(v, 240.0f, 1e-3);
    /* a point above the optical axis: (0, 10, 5) -> d = (0,10,-5);
     * d.f = 15/sqrt2, d.u = 5/sqrt2 -> v = 240 - 320/3 */
    assert_int_equal(eai_scene_project(&cam, 0, 10, 5, &u, &v, NULL), EAI_OK);
    assert_float_equal(v, 240.0f - 320.0f / 3.0f, 1e-2);
    /* round trip on the default camera */
    eai_scene_camera_t dc = eai_scene_camera_default(640, 480);
    for (float y = -5; y <= 40; y += 5)
        for (float x = -5; x <= 40; x += 7) {
            float x2, y2;
            if (eai_scene_project(&dc, x, y, 0, &u, &v, NULL) != EAI_OK) continue;
            assert_int_equal(eai_scene_unproject(&dc, u, v, 0, &x2, &y2), EAI_OK);
            assert_float_equal(x2, x, 2e-3 * (1 + fabsf(x)));
            assert_float_equal(y2, y, 2e-3 * (1 + fabsf(y)));
            /* and at car-roof height */
            assert_int_equal(eai_scene_project(&dc, x, y, 1.5f, &u, &v, NULL), EAI_OK);
            assert_int_equal(eai_scene_unproject(&dc, u, v, 1.5f, &x2, &y2), EAI_OK);
            assert_float_equal(x2, x, 2e-3 * (1 + fabsf(x)));
        }
    /* behind the camera, and a sky pixel */
    assert_int_equal(eai_scene_project(&cam, 0, -10, 0, &u, &v, NULL), EAI_E_INVALID);
    assert_int_equal(eai_scene_unproject(&dc, 320, 0, 0, &u, &v), EAI_E_INVALID);
    cam.pitch_deg = 95;
    assert_int_equal(eai_scene_project(&cam, 0, 10, 0, &u, &v, NULL), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "pitch"));
}

static void test_sumo(void **state)
{
    (void)state;
    /* front bumper at (110, 205), heading east, 5 m long, junction (100, 200) */
    eai_scene_object_t o =
        eai_scene_object_from_sumo(7, EAI_SCENE_CAR, 110, 205, 90, 5, 1.8, 100, 200, 1);
    assert_float_equal(o.x, 7.5f, 1e-5);
    assert_float_equal(o.y, 5.0f, 1e-5);
    assert_float_equal(o.heading, 0.0f, 1e-6);
    assert_int_equal(o.id, 7);
    o = eai_scene_object_from_sumo(7, EAI_SCENE_CAR, 110, 205, 0, 5, 1.8, 100, 200, 1);
    assert_float_equal(o.x, 10.0f, 1e-5);
    assert_float_equal(o.y, 2.5f, 1e-5);
    assert_float_equal(o.heading, 1.5707963f, 1e-6);
    eai_scene_object_t o2 =
        eai_scene_object_from_sumo(7, EAI_SCENE_CAR, 0, 0, 0, 5, 1.8, 100, 200, 1);
    assert_int_equal(o.look, o2.look); /* same id: same look */
    assert_int_equal(eai_scene_class_from_sumo("bus"), EAI_SCENE_TRUCK);
    assert_int_equal(eai_scene_class_from_sumo("bicycle"), EAI_SCENE_BIKE);
    assert_int_equal(eai_scene_class_from_sumo("pedestrian"), EAI_SCENE_PERSON);
    assert_int_equal(eai_scene_class_from_sumo("passenger"), EAI_SCENE_CAR);
    assert_int_equal(eai_scene_class_from_sumo(NULL), EAI_SCENE_CAR);
    assert_string_equal(eai_scene_class_name(1), "truck");
    assert_string_equal(eai_scene_class_name(9), "?");
}

/* Two minutes of traffic: vehicles wait at red lights, every arm
 * discharges, identities come and go. */
static void test_traffic(void **state)
{
    (void)state;
    eai_scene_config_t c = {.seed = 5, .width = 160, .height = 120, .warmup_s = -1};
    eai_scene_t *s;
    assert_int_equal(eai_scene_create(&c, &s), EAI_OK);
    eai_image_t fr = {0};
    eai_scene_truth_t t[128];
    int n, stopped_waiting = 0, first_ids[128], n_first = 0;
    for (int f = 1; f <= 1200; f++) {
        assert_int_equal(eai_scene_step(s), EAI_OK);
        if (f % 50) continue;
        assert_int_equal(eai_scene_render(s, &fr), EAI_OK);
        assert_int_equal(eai_scene_truth(s, t, 128, &n), EAI_OK);
        for (int i = 0; i < n; i++) {
            if (t[i].cls != EAI_SCENE_PERSON && !t[i].crossed && t[i].speed < 0.1f &&
                t[i].approach != eai_scene_green_arm(s))
                stopped_waiting++;
            assert_true(t[i].visibility >= 0 && t[i].visibility <= 1);
            assert_true(t[i].box.x1 >= 0 && t[i].box.x2 <= 160 && t[i].box.x1 < t[i].box.x2);
        }
        if (f == 300)
            for (int i = 0; i < n; i++)
                first_ids[n_first++] = t[i].id;
    }
    assert_true(stopped_waiting > 0);
    int64_t cnt[4];
    eai_scene_crossings(s, cnt);
    /* 6 arrivals per minute per arm over 2 minutes: about 12 each */
    for (int a = 0; a < 4; a++) {
        assert_true(cnt[a] >= 3);
        assert_true(cnt[a] <= 30);
    }
    int still = 0;
    for (int i = 0; i < n_first; i++)
        for (int k = 0; k < n; k++)
            still += t[k].id == first_ids[i];
    assert_true(n_first > 0);
    assert_true(still < n_first); /* someone left the view */
    assert_float_equal(eai_scene_time(s), 120.0, 1e-3);
    assert_int_equal(eai_scene_frame_index(s), 1200);
    eai_image_free(&fr);
    eai_scene_destroy(s);
}

static long n_allocs;
static void *count_alloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    if (n == 0) {
        free(p);
        return NULL;
    }
    n_allocs++;
    return realloc(p, n);
}

static void test_no_alloc_per_frame(void **state)
{
    (void)state;
    eai_allocator_t al = {.ctx = NULL, .fn = count_alloc};
    eai_scene_config_t c = {.seed = 2, .width = 128, .height = 96, .alloc = &al};
    eai_scene_t *s;
    assert_int_equal(eai_scene_create(&c, &s), EAI_OK);
    long after_create = n_allocs;
    assert_true(after_create > 0); /* the allocator is used */
    eai_image_t fr = {0};
    assert_int_equal(eai_scene_render(s, &fr), EAI_OK);
    uint8_t *data = fr.data;
    for (int f = 0; f < 30; f++) {
        assert_int_equal(eai_scene_step(s), EAI_OK);
        assert_int_equal(eai_scene_render(s, &fr), EAI_OK);
    }
    assert_ptr_equal(fr.data, data);
    assert_int_equal(n_allocs, after_create);
    eai_image_free(&fr);
    eai_scene_destroy(s);
}

static void test_oom(void **state)
{
    (void)state;
    eai_scene_config_t c = {.seed = 2, .width = 64, .height = 64, .warmup_s = -1};
    int failures = 0;
    for (long k = 1; k <= 12; k++) {
        eai__test_fail_alloc(k);
        eai_scene_t *s = NULL;
        eai_status_t st = eai_scene_create(&c, &s);
        eai__test_fail_alloc(0);
        if (st == EAI_OK) {
            eai_scene_destroy(s);
            continue;
        }
        assert_int_equal(st, EAI_E_NOMEM);
        assert_null(s);
        failures++;
    }
    assert_int_equal(failures, 9); /* the scene and its 8 buffers */
}

static void test_bad_input(void **state)
{
    (void)state;
    eai_scene_t *s = NULL;
    eai_scene_config_t c = {.width = 10};
    assert_int_equal(eai_scene_create(&c, &s), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "width"));
    assert_null(s);
    c = (eai_scene_config_t){.density = 50};
    assert_int_equal(eai_scene_create(&c, &s), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "density"));
    c = (eai_scene_config_t){.lanes = 4};
    assert_int_equal(eai_scene_create(&c, &s), EAI_E_INVALID);
    c = (eai_scene_config_t){.fps = NAN};
    assert_int_equal(eai_scene_create(&c, &s), EAI_E_INVALID);
    eai_scene_camera_t cam = eai_scene_camera_default(320, 240);
    c = (eai_scene_config_t){.camera = &cam}; /* 640x480 frame, 320x240 camera */
    assert_int_equal(eai_scene_create(&c, &s), EAI_E_INVALID);
    assert_int_equal(eai_scene_create(NULL, &s), EAI_E_INVALID);

    c = quiet_cfg();
    c.max_objects = 2;
    assert_int_equal(eai_scene_create(&c, &s), EAI_OK);
    eai_scene_truth_t t[2];
    int n;
    assert_int_equal(eai_scene_truth(s, t, 2, &n), EAI_E_STATE);
    assert_int_equal(eai_scene_step(s), EAI_E_STATE);
    eai_scene_object_t o[3] = {{.id = 1}, {.id = 2}, {.id = 3}};
    eai_image_t fr = {0};
    assert_int_equal(eai_scene_render_objects(s, o, 3, 0, &fr), EAI_E_INVALID);
    o[0].cls = (eai_scene_class_t)7;
    assert_int_equal(eai_scene_render_objects(s, o, 1, 0, &fr), EAI_E_INVALID);
    o[0].cls = EAI_SCENE_CAR;
    o[0].x = NAN;
    assert_int_equal(eai_scene_render_objects(s, o, 1, 0, &fr), EAI_E_INVALID);
    o[0].x = 0;
    o[0].id = -1;
    assert_int_equal(eai_scene_render_objects(s, o, 1, 0, &fr), EAI_E_INVALID);
    o[0].id = 1;
    assert_int_equal(eai_scene_render_objects(s, o, 1, -1, &fr), EAI_E_INVALID);
    assert_int_equal(eai_scene_render_objects(s, o, 1, 0, NULL), EAI_E_INVALID);
    /* an object far behind the camera is simply not in the truth */
    o[0].x = -500, o[0].y = -500;
    assert_int_equal(eai_scene_render_objects(s, o, 1, 0, &fr), EAI_OK);
    assert_int_equal(eai_scene_truth(s, t, 2, &n), EAI_OK);
    assert_int_equal(n, 0);
    eai_image_free(&fr);
    eai_scene_destroy(s);
    eai_scene_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_box_matches_pixels),
        cmocka_unit_test(test_occlusion),
        cmocka_unit_test(test_camera),
        cmocka_unit_test(test_sumo),
        cmocka_unit_test(test_traffic),
        cmocka_unit_test(test_no_alloc_per_frame),
        cmocka_unit_test(test_oom),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
