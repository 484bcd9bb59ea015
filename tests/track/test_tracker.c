/* Trackers on hand-made scenes: the Kalman channels against the full
 * matrix filter of deep_sort, SORT's reporting rules, ByteTrack's second
 * association, DeepSORT's appearance re-identification after an occlusion,
 * no allocation in update, bad input and failing allocations. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/core_impl.h"
#include "edgeai/track.h"
#include "track/track_impl.h"

static eai_box_t bx(float x, float y, float w, float h)
{
    return (eai_box_t){x, y, x + w, y + h};
}

static eai_det_t dt(eai_box_t b, float score)
{
    eai_det_t d;
    memset(&d, 0, sizeof d);
    d.box = b;
    d.score = score;
    d.cls = 2;
    return d;
}

static int upd(eai_tracker_t *t, int f, const eai_det_t *d, int n, eai_track_t *out)
{
    int k = -1;
    eai_status_t st = eai_tracker_update(t, f, d, n, out, 64, &k);
    if (st != EAI_OK) fprintf(stderr, "%s\n", eai_last_error());
    assert_int_equal(st, EAI_OK);
    return k;
}

/* ---- Kalman: channels vs deep_sort's 8x8 matrix form ---- */

static void matmul(const double *a, const double *b, double *c, int n, int m, int k, bool bt)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < k; j++) {
            double s = 0;
            for (int l = 0; l < m; l++)
                s += a[i * m + l] * (bt ? b[j * m + l] : b[l * k + j]);
            c[i * k + j] = s;
        }
}

static void test_kalman_blocks(void **s)
{
    (void)s;
    /* kalman_filter.py in full: x (8), P (8x8), F, H, Q, R as there */
    double x[8], P[64] = {0}, F[64] = {0}, H[32] = {0};
    for (int i = 0; i < 8; i++)
        F[i * 8 + i] = 1;
    for (int i = 0; i < 4; i++)
        F[i * 8 + i + 4] = 1, H[i * 8 + i] = 1;
    const double wp = 1.0 / 20, wv = 1.0 / 160;
    eai_box_t b0 = bx(100, 50, 30, 60);
    double z[4];
    eai__trk_box_to_xyah(b0, z);
    double h = z[3];
    double sd[8] = {2 * wp * h,  2 * wp * h,  1e-2, 2 * wp * h,
                    10 * wv * h, 10 * wv * h, 1e-5, 10 * wv * h};
    for (int i = 0; i < 4; i++)
        x[i] = z[i], x[i + 4] = 0;
    for (int i = 0; i < 8; i++)
        P[i * 9] = sd[i] * sd[i];
    trk_t k;
    memset(&k, 0, sizeof k);
    eai__kf_xyah_init(&k, b0);
    for (int step = 0; step < 12; step++) {
        /* predict */
        double hh = x[3],
               sp[8] = {wp * hh, wp * hh, 1e-2, wp * hh, wv * hh, wv * hh, 1e-5, wv * hh};
        double nx[8], T[64], FP[64];
        matmul(F, x, nx, 8, 8, 1, false);
        memcpy(x, nx, sizeof x);
        matmul(F, P, FP, 8, 8, 8, false);
        matmul(FP, F, T, 8, 8, 8, true);
        for (int i = 0; i < 8; i++)
            T[i * 9] += sp[i] * sp[i];
        memcpy(P, T, sizeof P);
        eai__kf_xyah_predict(&k);
        if (step % 4 == 3) continue; /* a missed frame */
        /* update with a box drifting right and growing */
        eai_box_t m = bx(100 + 3.0f * (float)step, 50 + 0.5f * (float)step, 30 + 0.2f * (float)step,
                         60 + 0.4f * (float)step);
        eai__trk_box_to_xyah(m, z);
        double r[4] = {wp * x[3], wp * x[3], 1e-1, wp * x[3]};
        double HP[32], S[16], PHt[32];
        matmul(H, P, HP, 4, 8, 8, false);
        matmul(HP, H, S, 4, 8, 4, true);
        for (int i = 0; i < 4; i++)
            S[i * 5] += r[i] * r[i];
        /* S is diagonal here (that is the claim), so K = P H' S^-1 */
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                if (i != j) assert_true(fabs(S[i * 4 + j]) < 1e-12);
        matmul(P, H, PHt, 8, 8, 4, true);
        double K[32];
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 4; j++)
                K[i * 4 + j] = PHt[i * 4 + j] / S[j * 5];
        double y[4];
        for (int i = 0; i < 4; i++)
            y[i] = z[i] - x[i];
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 4; j++)
                x[i] += K[i * 4 + j] * y[j];
        double KS[32], KSKt[64];
        matmul(K, S, KS, 8, 4, 4, false);
        matmul(KS, K, KSKt, 8, 4, 8, true);
        for (int i = 0; i < 64; i++)
            P[i] -= KSKt[i];
        eai__kf_xyah_update(&k, m);
        for (int i = 0; i < 4; i++) {
            assert_true(fabs(k.kf[i].p - x[i]) < 1e-9 * (1 + fabs(x[i])));
            assert_true(fabs(k.kf[i].v - x[i + 4]) < 1e-9 * (1 + fabs(x[i + 4])));
            assert_true(fabs(k.kf[i].a - P[i * 9]) < 1e-9 * (1 + P[i * 9]));
            assert_true(fabs(k.kf[i].b - P[i * 8 + i + 4]) < 1e-9 * (1 + fabs(P[i * 8 + i + 4])));
        }
    }
}

/* ---- SORT ---- */

static void test_sort(void **s)
{
    (void)s;
    eai_tracker_t *t;
    assert_int_equal(eai_tracker_create(EAI_TRACKER_SORT, NULL, &t), EAI_OK);
    eai_track_t o[64];
    /* objects A (moving right 5 px/frame) and B (static); C appears at frame
     * 5. Detections are listed B first so det indices are checked. */
    for (int f = 1; f <= 9; f++) {
        eai_det_t d[3];
        int n = 0;
        d[n++] = dt(bx(300, 100, 40, 80), 0.9f);
        d[n++] = dt(bx(10 + 5.0f * (float)f, 20, 40, 80), 0.8f);
        if (f >= 5) d[n++] = dt(bx(150, 300, 50, 50), 0.7f);
        int k = upd(t, f, d, n, o);
        /* frames 1-3: everything matched is reported (frame_count <=
         * n_init); C, created at 5, needs hit_streak 3: frames 6,7,8 */
        int want = (f >= 8) ? 3 : 2;
        assert_int_equal(k, want);
        assert_int_equal(o[0].id, 1); /* B was listed first, so got id 1 */
        assert_int_equal(o[0].det, 0);
        assert_int_equal(o[1].id, 2);
        assert_int_equal(o[1].det, 1);
        assert_int_equal(o[1].cls, 2);
        assert_true(fabsf(o[1].score - 0.8f) < 1e-6f);
        assert_int_equal(o[1].state, EAI_TRACK_CONFIRMED);
        if (want == 3) assert_int_equal(o[2].id, 3), assert_int_equal(o[2].det, 2);
        /* A's filtered box follows the detection closely */
        assert_true(fabsf(o[1].box.x1 - (10 + 5.0f * (float)f)) < 1.5f);
    }
    /* A vanishes for frames 10 and 11: max_age 1 drops it after 2 misses,
     * so its return at frame 12 gets a new id (4) */
    eai_det_t d2[2] = {dt(bx(300, 100, 40, 80), 0.9f), dt(bx(150, 300, 50, 50), 0.7f)};
    upd(t, 10, d2, 2, o);
    upd(t, 11, d2, 2, o);
    eai_det_t d3[3] = {d2[0], d2[1], dt(bx(10 + 5.0f * 12, 20, 40, 80), 0.8f)};
    int k = upd(t, 12, d3, 3, o);
    assert_int_equal(k, 2); /* the new track is tentative */
    eai_tracker_destroy(t);
}

/* ---- ByteTrack ---- */

static void test_bytetrack(void **s)
{
    (void)s;
    eai_tracker_t *t;
    assert_int_equal(eai_tracker_create(EAI_TRACKER_BYTETRACK, NULL, &t), EAI_OK);
    eai_track_t o[64];
    /* frame 1: a high (0.9) and a low (0.3) detection: only the high one
     * starts a track, confirmed at once (first frame) */
    eai_det_t d[2] = {dt(bx(0, 0, 20, 40), 0.9f), dt(bx(200, 0, 20, 40), 0.3f)};
    int k = upd(t, 1, d, 2, o);
    assert_int_equal(k, 1);
    assert_int_equal(o[0].id, 1);
    for (int f = 2; f <= 3; f++) {
        d[0].box = bx(2.0f * (float)(f - 1), 0, 20, 40);
        assert_int_equal(upd(t, f, d, 2, o), 1);
    }
    /* frame 4: the object's detection drops to 0.3 (occluded): the second
     * association keeps the track on it */
    d[0].box = bx(6, 0, 20, 40);
    d[0].score = 0.3f;
    k = upd(t, 4, d, 2, o);
    assert_int_equal(k, 1);
    assert_int_equal(o[0].id, 1);
    assert_int_equal(o[0].det, 0);
    /* frame 5: a new high detection elsewhere: tentative (not reported)
     * until matched again at frame 6 */
    eai_det_t e[2] = {dt(bx(8, 0, 20, 40), 0.9f), dt(bx(400, 100, 30, 30), 0.95f)};
    k = upd(t, 5, e, 2, o);
    assert_int_equal(k, 1);
    e[0].box = bx(10, 0, 20, 40);
    k = upd(t, 6, e, 2, o);
    assert_int_equal(k, 2);
    assert_int_equal(o[1].id, 2);
    assert_int_equal(o[1].det, 1);
    eai_tracker_destroy(t);
}

/* ---- DeepSORT ---- */

static void test_deepsort(void **s)
{
    (void)s;
    enum { D = 8 };
    float e1[D] = {1, 0, 0, 0, 0, 0, 0, 0}, e2[D] = {0, 1, 0, 0, 0, 0, 0, 0};
    for (int variant = 0; variant < 2; variant++) {
        eai_tracker_cfg_t c = {.emb_dim = D};
        eai_tracker_t *t;
        assert_int_equal(eai_tracker_create(EAI_TRACKER_DEEPSORT, &c, &t), EAI_OK);
        eai_track_t o[64];
        int k = 0;
        for (int f = 1; f <= 10; f++) {
            /* moves 4 px/frame; hidden in frames 5-7 */
            eai_det_t d = dt(bx(4.0f * (float)f, 10, 30, 60), 0.9f);
            d.emb = (f >= 8 && variant == 1) ? e2 : e1;
            d.emb_dim = D;
            k = upd(t, f, &d, (f >= 5 && f <= 7) ? 0 : 1, o);
            if (f <= 2) assert_int_equal(k, 0); /* tentative: n_init 3 */
            if (f == 3 || f == 4) assert_int_equal(o[0].id, 1);
        }
        /* after 3 missed frames only the appearance cascade can match:
         * the same embedding keeps id 1; an orthogonal one (cosine distance
         * 1 > 0.2) starts track 2 at frame 8, confirmed at frame 10 */
        assert_int_equal(k, 1);
        assert_int_equal(o[0].id, variant == 0 ? 1 : 2);
        eai_tracker_destroy(t);
    }
    /* no embeddings: the IoU stage alone keeps a smoothly moving track */
    eai_tracker_cfg_t c = {.emb_dim = D};
    eai_tracker_t *t;
    assert_int_equal(eai_tracker_create(EAI_TRACKER_DEEPSORT, &c, &t), EAI_OK);
    eai_track_t o[64];
    int k = 0;
    for (int f = 1; f <= 6; f++) {
        eai_det_t d = dt(bx(4.0f * (float)f, 10, 30, 60), 0.9f);
        k = upd(t, f, &d, 1, o);
    }
    assert_int_equal(k, 1);
    assert_int_equal(o[0].id, 1);
    /* wrong embedding length */
    float big[9] = {0};
    eai_det_t d = dt(bx(0, 0, 1, 1), 1);
    d.emb = big;
    d.emb_dim = 9;
    assert_int_equal(eai_tracker_update(t, 7, &d, 1, o, 64, &k), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "9-float embedding"));
    eai_tracker_destroy(t);
    assert_int_equal(eai_tracker_create(EAI_TRACKER_DEEPSORT, NULL, &t), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "emb_dim"));
}

/* ---- allocation, output modes, bad input ---- */

static long n_alloc;
static void *count_alloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    if (n == 0) {
        free(p);
        return NULL;
    }
    n_alloc++;
    return realloc(p, n);
}

static void test_no_alloc_in_update(void **s)
{
    (void)s;
    float emb[16][8];
    for (int kind = 0; kind < 3; kind++) {
        eai_tracker_cfg_t c = {.emb_dim = 8, .max_tracks = 64, .max_dets = 32};
        c.alloc.fn = count_alloc;
        eai_tracker_t *t;
        assert_int_equal(eai_tracker_create((eai_tracker_kind_t)kind, &c, &t), EAI_OK);
        long after_create = n_alloc;
        eai_track_t o[64];
        unsigned r = 7;
        for (int f = 1; f <= 200; f++) {
            eai_det_t d[16];
            int n = 0;
            for (int i = 0; i < 16; i++) {
                r = r * 1103515245u + 12345u;
                if ((r >> 16) % 10 == 0) continue; /* misses */
                d[n] = dt(bx(30.0f * (float)i + (float)f, 100, 20, 40), 0.3f + 0.04f * (float)i);
                for (int j = 0; j < 8; j++)
                    emb[n][j] = (j == i % 8) ? 1.0f : 0.1f;
                d[n].emb = emb[n];
                d[n].emb_dim = 8;
                n++;
            }
            int k;
            assert_int_equal(eai_tracker_update(t, f, d, n, o, 64, &k), EAI_OK);
        }
        assert_int_equal(n_alloc, after_create);
        eai_tracker_destroy(t);
    }
}

static void test_output_all_and_cap(void **s)
{
    (void)s;
    eai_tracker_cfg_t c = {.output = EAI_TRACK_OUT_ALL};
    eai_tracker_t *t;
    assert_int_equal(eai_tracker_create(EAI_TRACKER_SORT, &c, &t), EAI_OK);
    eai_det_t d[3] = {dt(bx(0, 0, 10, 10), 1), dt(bx(50, 0, 10, 10), 1), dt(bx(100, 0, 10, 10), 1)};
    eai_track_t o[8];
    int k;
    assert_int_equal(eai_tracker_update(t, 1, d, 3, o, 2, &k), EAI_OK);
    assert_int_equal(k, 3); /* full count; only 2 written */
    assert_int_equal(o[1].id, 2);
    /* frames 2, 3 without detection 2: lost, then removed (max_age 1) */
    eai_det_t d2[2] = {d[0], d[2]};
    assert_int_equal(eai_tracker_update(t, 2, d2, 2, o, 8, &k), EAI_OK);
    assert_int_equal(k, 3);
    assert_int_equal(o[1].state, EAI_TRACK_LOST);
    assert_int_equal(o[1].det, -1);
    assert_int_equal(eai_tracker_update(t, 3, d2, 2, o, 8, &k), EAI_OK);
    assert_int_equal(k, 3);
    assert_int_equal(o[1].id, 2);
    assert_int_equal(o[1].state, EAI_TRACK_REMOVED);
    assert_int_equal(eai_tracker_update(t, 4, d2, 2, o, 8, &k), EAI_OK);
    assert_int_equal(k, 2); /* reported once */
    /* bad input leaves the tracker as it was */
    assert_int_equal(eai_tracker_update(t, 9, d2, 2, o, 8, &k), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "frame 9 after frame 4"));
    assert_int_equal(eai_tracker_update(t, 5, d2, -1, o, 8, &k), EAI_E_INVALID);
    assert_int_equal(eai_tracker_update(t, 5, NULL, 2, o, 8, &k), EAI_E_INVALID);
    assert_int_equal(eai_tracker_update(t, 5, d2, 600, o, 8, &k), EAI_E_INVALID);
    /* degenerate boxes are ignored, not fatal */
    eai_det_t bad[2] = {dt(bx(0, 0, 0, 10), 1), dt((eai_box_t){NAN, 0, 1, 1}, 1)};
    assert_int_equal(eai_tracker_update(t, 5, bad, 2, o, 8, &k), EAI_OK);
    eai_tracker_reset(t);
    assert_int_equal(eai_tracker_update(t, 100, d, 1, o, 8, &k), EAI_OK);
    assert_int_equal(o[0].id, 1);
    eai_tracker_destroy(t);
    eai_tracker_destroy(NULL);
    eai_tracker_kind_t kd;
    assert_int_equal(eai_tracker_kind_parse("bytetrack", &kd), EAI_OK);
    assert_int_equal(kd, EAI_TRACKER_BYTETRACK);
    assert_int_equal(eai_tracker_kind_parse("kcf", &kd), EAI_E_INVALID);
    assert_string_equal(eai_tracker_kind_name(EAI_TRACKER_DEEPSORT), "deepsort");
    eai_tracker_cfg_t neg = {.n_init = -1};
    assert_int_equal(eai_tracker_create(EAI_TRACKER_SORT, &neg, &t), EAI_E_INVALID);
    assert_int_equal(eai_tracker_create((eai_tracker_kind_t)7, NULL, &t), EAI_E_INVALID);
}

static void test_oom(void **s)
{
    (void)s;
    eai_tracker_cfg_t c = {.emb_dim = 4, .max_tracks = 8, .max_dets = 8};
    for (long n = 1; n < 40; n++) {
        eai__test_fail_alloc(n);
        eai_tracker_t *t = NULL;
        eai_status_t st = eai_tracker_create(EAI_TRACKER_DEEPSORT, &c, &t);
        eai__test_fail_alloc(0);
        if (st == EAI_OK) {
            eai_tracker_destroy(t);
            assert_true(n > 10);
            return;
        }
        assert_int_equal(st, EAI_E_NOMEM);
        assert_null(t);
    }
    fail();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kalman_blocks),
        cmocka_unit_test(test_sort),
        cmocka_unit_test(test_bytetrack),
        cmocka_unit_test(test_deepsort),
        cmocka_unit_test(test_no_alloc_in_update),
        cmocka_unit_test(test_output_all_and_cap),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
