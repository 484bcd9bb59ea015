/* MOTChallenge text parsing and the metrics against sequences worked by
 * hand (the arithmetic is written next to each expected value). Boxes are
 * given as MOT rows "frame,id,x,y,w,h,conf,class,vis". */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "edgeai/mot.h"

#define NEAR(a, b) assert_true(fabs((double)(a) - (double)(b)) < 1e-9)

static eai_mot_t parse(const char *s)
{
    eai_mot_t m;
    eai_status_t st = eai_mot_parse(s, strlen(s), NULL, &m);
    if (st != EAI_OK) fprintf(stderr, "%s\n", eai_last_error());
    assert_int_equal(st, EAI_OK);
    return m;
}

static eai_mot_metrics_t eval2(const char *gt, const char *res, eai_mot_preproc_t pp)
{
    eai_mot_t g = parse(gt), r = parse(res);
    eai_mot_eval_opts_t o = {.preproc = pp};
    eai_mot_metrics_t m;
    eai_status_t st = eai_mot_eval(&g, &r, &o, &m);
    if (st != EAI_OK) fprintf(stderr, "%s\n", eai_last_error());
    assert_int_equal(st, EAI_OK);
    eai_mot_free(&g);
    eai_mot_free(&r);
    return m;
}

static void test_parse_columns(void **s)
{
    (void)s;
    /* 7, 9 and 10 columns, blanks after commas, CRLF, comments, a trailing
     * comma, space-separated; rows out of frame order are sorted stably */
    const char *t = "# comment\r\n"
                    "2,1,10,20,30,40,0.9\r\n"
                    "1, 5, 1.5, 2.5, 3, 4, 1, 1, 0.5\n"
                    "\n"
                    "1,-1,0,0,1,1,0.25,-1,-1,-1,\n"
                    "3 7 1 1 2 2 1 3 1\n";
    eai_mot_t m = parse(t);
    assert_int_equal(m.n_rows, 4);
    assert_int_equal(m.max_frame, 3);
    assert_int_equal(m.rows[0].frame, 1);
    assert_int_equal(m.rows[0].id, 5);
    NEAR(m.rows[0].x, 1.5);
    NEAR(m.rows[0].vis, 0.5);
    assert_int_equal(m.rows[0].cls, 1);
    assert_int_equal(m.rows[1].id, -1); /* stable: file order within frame 1 */
    NEAR(m.rows[1].conf, 0.25);
    assert_int_equal(m.rows[2].frame, 2);
    assert_int_equal(m.rows[2].cls, -1); /* 7 columns: no class */
    NEAR(m.rows[2].vis, -1);
    assert_int_equal(m.rows[3].cls, 3);
    int first;
    assert_int_equal(eai_mot_frame_rows(&m, 1, &first), 2);
    assert_int_equal(first, 0);
    assert_int_equal(eai_mot_frame_rows(&m, 2, &first), 1);
    assert_int_equal(first, 2);
    assert_int_equal(eai_mot_frame_rows(&m, 9, &first), 0);
    eai_box_t b = eai_mot_row_box(&m.rows[2]);
    assert_true(b.x1 == 10 && b.y1 == 20 && b.x2 == 40 && b.y2 == 60);
    eai_mot_free(&m);
    eai_mot_free(&m); /* twice is fine */
    eai_mot_t e = parse("");
    assert_int_equal(e.n_rows, 0);
    eai_mot_free(&e);
}

static void expect_bad(const char *t, const char *needle)
{
    eai_mot_t m = {0};
    eai_status_t st = eai_mot_parse(t, strlen(t), NULL, &m);
    assert_int_equal(st, EAI_E_FORMAT);
    if (!strstr(eai_last_error(), needle)) {
        fprintf(stderr, "message '%s' lacks '%s'\n", eai_last_error(), needle);
        fail();
    }
    assert_null(m.rows);
}

static void test_parse_errors(void **s)
{
    (void)s;
    expect_bad("1,1,0,0,1,1,1\n1,2,0,0,1,1\n", "line 2: 6 fields");
    expect_bad("1,1,0,0,1,1,1,1,1,1,1\n", "line 1: more than 10 fields");
    expect_bad("1,1,0,0,1,x,1\n", "line 1: column 6: 'x' is not a number");
    expect_bad("\n\n1,1,0,0,1,nan,1\n", "line 3: column 6: 'nan' is not finite");
    expect_bad("0,1,0,0,1,1,1\n", "line 1: frame 0");
    expect_bad("1.5,1,0,0,1,1,1\n", "line 1: frame 1.5");
    expect_bad("1,-2,0,0,1,1,1\n", "line 1: id -2");
    expect_bad("1,1,0,0,-1,1,1\n", "line 1: negative width");
    expect_bad("1,,0,0,1,1,1\n", "line 1: empty field");
    expect_bad("1,1,0,0,1,1,1e999\n", "not finite");
    char big[1200];
    memset(big, '1', sizeof big - 1);
    big[sizeof big - 1] = 0;
    expect_bad(big, "longer than");
    /* NUL inside a line */
    eai_mot_t m;
    const char nul[] = "1,1,0,0,1,\0,1\n";
    assert_int_equal(eai_mot_parse(nul, sizeof nul - 1, NULL, &m), EAI_E_FORMAT);
    assert_int_equal(eai_mot_parse(NULL, 3, NULL, &m), EAI_E_INVALID);
    assert_int_equal(eai_mot_load("/nonexistent/gt.txt", NULL, &m), EAI_E_IO);
}

static void test_save_load(void **s)
{
    (void)s;
    eai_mot_row_t r[2] = {{2, 7, 1.25, 2.5, 10, 20, 0.75, -1, -1}, {1, 3, 0, 0, 5, 5, 1, 1, 0.5}};
    char path[] = "/tmp/eai_mot_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(eai_mot_save(path, r, 2), EAI_OK);
    eai_mot_t m;
    assert_int_equal(eai_mot_load(path, NULL, &m), EAI_OK);
    unlink(path);
    assert_int_equal(m.n_rows, 2);
    assert_int_equal(m.rows[0].frame, 1); /* sorted on load */
    assert_int_equal(m.rows[1].id, 7);
    NEAR(m.rows[1].x, 1.25);
    NEAR(m.rows[1].conf, 0.75);
    assert_int_equal(m.rows[0].cls, 1);
    eai_mot_free(&m);
}

/* A: results equal to the gt boxes under other ids: everything perfect. */
static void test_perfect(void **s)
{
    (void)s;
    const char *gt = "1,1,0,0,10,10,1,1,1\n1,2,50,0,10,10,1,1,1\n"
                     "2,1,1,0,10,10,1,1,1\n2,2,51,0,10,10,1,1,1\n";
    const char *res = "1,8,0,0,10,10,1\n1,9,50,0,10,10,1\n"
                      "2,8,1,0,10,10,1\n2,9,51,0,10,10,1\n";
    eai_mot_metrics_t m = eval2(gt, res, EAI_MOT_PLAIN);
    NEAR(m.mota, 1);
    NEAR(m.motp, 1);
    NEAR(m.idf1, 1);
    NEAR(m.hota, 1);
    NEAR(m.deta, 1);
    NEAR(m.assa, 1);
    NEAR(m.loca, 1);
    assert_int_equal(m.tp, 4);
    assert_int_equal(m.mt, 2);
    assert_int_equal(m.n_gt_ids, 2);
    assert_int_equal(m.n_res_ids, 2);
}

/* B: two gt objects, A at x 0..10 and B at x 100..110, frames 1-4.
 * results: frames 1-2 id 1 on A, id 2 on B; frame 3 id 1 on A, id 3 on B
 * (switch); frame 4 id 1 on A, nothing on B (miss), id 4 at x 200 (false).
 * Every IoU is 1 or 0, so nothing depends on alpha.
 * CLEAR: TP = 2+2+2+1 = 7, FN = 1, FP = 1, IDSW = 1 (gt B: 2 -> 3);
 *   MOTA = (7 - 1 - 1) / 8 = 0.625, MOTP = 1; gt A 4/4 > 0.8 -> MT,
 *   gt B 3/4 -> PT; Frag: A one run, B one run -> 0.
 * Identity: counts gt A 4, B 4; ids 1:4, 2:2, 3:1, 4:1; overlaps (A,1) 4,
 *   (B,2) 2, (B,3) 1; best matching A-1, B-2: IDTP = 6, IDFN = 8 - 6 = 2,
 *   IDFP = 8 - 6 = 2; IDF1 = 6 / (6 + 1 + 1) = 0.75, IDP = IDR = 0.75.
 * HOTA: DetA = 7 / (7 + 1 + 1) = 7/9; AssA = sum mc * mc / (gc + tc - mc)
 *   / TP = (4*4/4 + 2*2/4 + 1*1/4) / 7 = 5.25 / 7 = 0.75;
 *   HOTA = sqrt(7/9 * 0.75); AssRe = (4*4/4 + 2*2/4 + 1*1/4) / 7 = 0.75;
 *   AssPr = (4*4/4 + 2*2/2 + 1*1/1) / 7 = 1; DetRe = DetPr = 7/8. */
static void test_switch_miss_fp(void **s)
{
    (void)s;
    const char *gt = "1,1,0,0,10,10,1,1,1\n1,2,100,0,10,10,1,1,1\n"
                     "2,1,0,0,10,10,1,1,1\n2,2,100,0,10,10,1,1,1\n"
                     "3,1,0,0,10,10,1,1,1\n3,2,100,0,10,10,1,1,1\n"
                     "4,1,0,0,10,10,1,1,1\n4,2,100,0,10,10,1,1,1\n";
    const char *res = "1,1,0,0,10,10,1\n1,2,100,0,10,10,1\n"
                      "2,1,0,0,10,10,1\n2,2,100,0,10,10,1\n"
                      "3,1,0,0,10,10,1\n3,3,100,0,10,10,1\n"
                      "4,1,0,0,10,10,1\n4,4,200,0,10,10,1\n";
    eai_mot_metrics_t m = eval2(gt, res, EAI_MOT_PLAIN);
    assert_int_equal(m.tp, 7);
    assert_int_equal(m.fn, 1);
    assert_int_equal(m.fp, 1);
    assert_int_equal(m.idsw, 1);
    assert_int_equal(m.frag, 0);
    assert_int_equal(m.mt, 1);
    assert_int_equal(m.pt, 1);
    assert_int_equal(m.ml, 0);
    NEAR(m.mota, 0.625);
    NEAR(m.motp, 1);
    assert_int_equal(m.idtp, 6);
    assert_int_equal(m.idfn, 2);
    assert_int_equal(m.idfp, 2);
    NEAR(m.idf1, 0.75);
    NEAR(m.idp, 0.75);
    NEAR(m.idr, 0.75);
    NEAR(m.deta, 7.0 / 9);
    NEAR(m.assa, 0.75);
    NEAR(m.hota, sqrt(7.0 / 9 * 0.75));
    NEAR(m.assa_re, 0.75);
    NEAR(m.assa_pr, 1);
    NEAR(m.deta_re, 7.0 / 8);
    NEAR(m.deta_pr, 7.0 / 8);
    NEAR(m.loca, 1);
    assert_int_equal(m.n_frames, 4);
}

/* C: one object, gt x 0..10 in frames 1-2; result id 1 exact in frame 1,
 * shifted to x 2..12 in frame 2: IoU = 8*10 / (100 + 100 - 80) = 2/3.
 * CLEAR: both >= 0.5: TP 2, MOTA 1, MOTP = (1 + 2/3) / 2 = 5/6.
 * HOTA: alphas 0.05..0.65 (13 of them) match both frames: DetA 1, AssA
 * 2*(2/(2+2-2))/2 = 1, HOTA 1, LocA 5/6; alphas 0.70..0.95 (6) only frame
 * 1: TP 1, FN 1, FP 1: DetA 1/3, AssA 1*(1/(2+2-1))/1 = 1/3, HOTA 1/3,
 * LocA 1. Means: HOTA = DetA = AssA = (13 + 6/3) / 19 = 15/19,
 * LocA = (13 * 5/6 + 6) / 19. */
static void test_alpha(void **s)
{
    (void)s;
    const char *gt = "1,1,0,0,10,10,1,1,1\n2,1,0,0,10,10,1,1,1\n";
    const char *res = "1,1,0,0,10,10,1\n2,1,2,0,10,10,1\n";
    eai_mot_metrics_t m = eval2(gt, res, EAI_MOT_PLAIN);
    NEAR(m.mota, 1);
    NEAR(m.motp, 5.0 / 6);
    NEAR(m.hota, 15.0 / 19);
    NEAR(m.deta, 15.0 / 19);
    NEAR(m.assa, 15.0 / 19);
    NEAR(m.loca, (13 * 5.0 / 6 + 6) / 19);
    NEAR(m.hota_alpha[12], 1);       /* alpha 0.65 */
    NEAR(m.hota_alpha[13], 1.0 / 3); /* alpha 0.70 */
    NEAR(m.idf1, 1);
}

/* D: CLEAR keeps the previous frame's match when it still has IoU >= 0.5,
 * even against a better box. Frame 1: gt 1 and result 1 at x 0..10.
 * Frame 2: gt 1 at x 0..10, result 1 at x 3..13 (IoU 70/130 = 0.538),
 * result 2 at x 0.5..10.5 (IoU 95/105 = 0.905). Score 1000 + 0.538 beats
 * 0.905: TP 2, FP 1, IDSW 0, MOTP = (1 + 7/13) / 2, MOTA = (2-1-0)/2.
 * Frag: frame 3 has gt 1 and an unrelated result (miss), frame 4 matched
 * again by id 1: gt 1 has 2 runs -> Frag 1, and IDSW stays 0 (same id).
 * Frame 5: gt 1 matched by id 2 -> IDSW 1.
 * Totals: gt 5 boxes, TP 4 (f1, f2, f4, f5), FN 1 (f3), FP 1 (f2) + 1
 * (f3) = 2, IDSW 1: MOTA = (4 - 2 - 1) / 5 = 0.2; matched 4/5 = 0.8 is
 * not > 0.8: PT. */
static void test_continuation(void **s)
{
    (void)s;
    const char *gt = "1,1,0,0,10,10,1,1,1\n2,1,0,0,10,10,1,1,1\n3,1,0,0,10,10,1,1,1\n"
                     "4,1,0,0,10,10,1,1,1\n5,1,0,0,10,10,1,1,1\n";
    const char *res = "1,1,0,0,10,10,1\n2,1,3,0,10,10,1\n2,2,0.5,0,10,10,1\n"
                      "3,3,300,0,10,10,1\n4,1,0,0,10,10,1\n5,2,0,0,10,10,1\n";
    eai_mot_metrics_t m = eval2(gt, res, EAI_MOT_PLAIN);
    assert_int_equal(m.tp, 4);
    assert_int_equal(m.fn, 1);
    assert_int_equal(m.fp, 2);
    assert_int_equal(m.idsw, 1);
    assert_int_equal(m.frag, 1);
    assert_int_equal(m.mt, 0);
    assert_int_equal(m.pt, 1);
    NEAR(m.mota, 0.2);
    NEAR(m.motp, (1 + 7.0 / 13 + 1 + 1) / 4);
    /* Identity: overlaps >= 0.5 per id pair: (1,1) f1 f2 f4 = 3,
     * (1,2) f2 f5 = 2: IDTP 3; gt boxes 5, result boxes 6:
     * IDF1 = 3 / (3 + 0.5 * 3 + 0.5 * 2) = 3 / 5.5 */
    assert_int_equal(m.idtp, 3);
    NEAR(m.idf1, 3 / 5.5);
}

/* E: MOT17 preprocessing. Frame 1: gt 1 pedestrian (class 1), gt 2 a
 * static person (class 7, distractor), gt 3 a pedestrian marked 0
 * (ignored). Results: one on each. The one on the distractor is removed,
 * the one on the zero-marked box is a false positive (TrackEval removes
 * only results matched to distractor classes). Plain mode: gt 1 and 2
 * count (class ignored), gt 3 does not. */
static void test_mot17(void **s)
{
    (void)s;
    const char *gt = "1,1,0,0,10,10,1,1,1\n1,2,50,0,10,10,1,7,1\n1,3,100,0,10,10,0,1,1\n";
    const char *res = "1,1,0,0,10,10,1\n1,2,50,0,10,10,1\n1,3,100,0,10,10,1\n";
    eai_mot_metrics_t m = eval2(gt, res, EAI_MOT_MOT17);
    assert_int_equal(m.n_gt_dets, 1);
    assert_int_equal(m.n_res_dets, 2);
    assert_int_equal(m.tp, 1);
    assert_int_equal(m.fp, 1);
    NEAR(m.mota, 0.0);
    eai_mot_metrics_t p = eval2(gt, res, EAI_MOT_PLAIN);
    assert_int_equal(p.n_gt_dets, 2);
    assert_int_equal(p.tp, 2);
    assert_int_equal(p.fp, 1);
    NEAR(p.mota, 0.5);
}

static void test_empty_and_bad(void **s)
{
    (void)s;
    eai_mot_metrics_t m = eval2("1,1,0,0,10,10,1,1,1\n2,1,0,0,10,10,1,1,1\n", "", EAI_MOT_PLAIN);
    assert_int_equal(m.fn, 2);
    assert_int_equal(m.ml, 1);
    NEAR(m.mota, 0);
    NEAR(m.hota, 0);
    m = eval2("", "1,1,0,0,10,10,1\n", EAI_MOT_PLAIN);
    assert_int_equal(m.fp, 1);
    /* the same id twice in a frame */
    eai_mot_t g = parse("1,1,0,0,10,10,1,1,1\n"), r = parse("1,4,0,0,1,1,1\n1,4,5,5,1,1,1\n");
    eai_mot_metrics_t x;
    assert_int_equal(eai_mot_eval(&g, &r, NULL, &x), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "id 4 more than once"));
    assert_int_equal(eai_mot_eval(NULL, &r, NULL, &x), EAI_E_INVALID);
    eai_mot_free(&g);
    eai_mot_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_columns),  cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_save_load),      cmocka_unit_test(test_perfect),
        cmocka_unit_test(test_switch_miss_fp), cmocka_unit_test(test_alpha),
        cmocka_unit_test(test_continuation),   cmocka_unit_test(test_mot17),
        cmocka_unit_test(test_empty_and_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
