/* `edgeai track run|eval|perturb`: trackers over MOTChallenge detection
 * files, MOT metrics, and ground truth turned into noisy detections at known
 * rates for benchmarks. Built on include/edgeai/track.h and mot.h. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "edgeai/mot.h"
#include "edgeai/track.h"
#include "edgeai/video.h"
#include "edgeai/vision.h"

#define CMD "track"

static const char *const usage =
    "usage: edgeai track run --tracker sort|bytetrack|deepsort --det DET.txt -o RESULT.txt\n"
    "         [--frames DIR|VIDEO --reid MODEL [--reid-mean a,b,c --reid-std a,b,c]]\n"
    "         [--no-appearance] [--max-age N] [--n-init N] [--min-score S]\n"
    "         [--high S] [--low S] [--max-cosine D] [--gate CHI2] [--budget N]\n"
    "       edgeai track eval GT.txt RESULT.txt [--json] [--mot17]\n"
    "       edgeai track perturb GT.txt --miss P --fp P --jitter F --seed S -o DET.txt";

/* ---------------------------------------------------------------- run */

typedef struct {
    eai_model_t *m;
    eai_session_t *s;
    eai_preproc_t pre;
    float *in;
    size_t in_n;
    int dim;
} reid_t;

static void reid_free(reid_t *r)
{
    eai_session_destroy(r->s);
    eai_model_destroy(r->m);
    free(r->in);
}

static eai_status_t reid_open(reid_t *r, const char *path, const float *mean, const float *std)
{
    EAI_TRY(eai_model_load(path, NULL, &r->m));
    EAI_TRY(eai_session_create(r->m, NULL, &r->s));
    eai_tensor_info_t ti, to;
    EAI_TRY(eai_session_input_info(r->s, 0, &ti));
    EAI_TRY(eai_session_output_info(r->s, 0, &to));
    memset(&r->pre, 0, sizeof r->pre);
    if (ti.rank == 4 && ti.dims[1] == 3) {
        r->pre.layout = EAI_LAYOUT_NCHW;
        r->pre.height = (int)ti.dims[2], r->pre.width = (int)ti.dims[3];
    } else if (ti.rank == 4 && ti.dims[3] == 3) {
        r->pre.layout = EAI_LAYOUT_NHWC;
        r->pre.height = (int)ti.dims[1], r->pre.width = (int)ti.dims[2];
    } else {
        return eai_fail(EAI_E_UNSUPPORTED, "%s: input 0 is not a 1x3xHxW or 1xHxWx3 image", path);
    }
    if (ti.dtype != EAI_F32 || to.dtype != EAI_F32 || ti.dims[0] != 1)
        return eai_fail(EAI_E_UNSUPPORTED, "%s: re-id model must take and give float32, batch 1",
                        path);
    int64_t d = eai_tensor_info_numel(&to);
    if (d < 2 || d > 4096)
        return eai_fail(EAI_E_UNSUPPORTED, "%s: output 0 has %lld values, expected an embedding",
                        path, (long long)d);
    r->dim = (int)d;
    for (int c = 0; c < 3; c++)
        r->pre.mean[c] = mean[c], r->pre.std[c] = std[c];
    r->in_n = (size_t)r->pre.width * (size_t)r->pre.height * 3;
    r->in = calloc(r->in_n, sizeof(float));
    if (!r->in) return eai_fail(EAI_E_NOMEM, "re-id input buffer");
    return EAI_OK;
}

/* Embeds det boxes of one frame into emb (n x dim). */
static eai_status_t reid_run(reid_t *r, const eai_image_t *img, eai_det_t *d, int n, float *emb)
{
    for (int i = 0; i < n; i++) {
        /* MOTChallenge boxes are 1-based pixels, the image's are 0-based */
        eai_box_t b = {d[i].box.x1 - 1, d[i].box.y1 - 1, d[i].box.x2 - 1, d[i].box.y2 - 1};
        if (!(b.x2 > b.x1 && b.y2 > b.y1)) continue; /* the tracker ignores it anyway */
        EAI_TRY(eai_preprocess_crop(img, b, &r->pre, r->in, NULL));
        EAI_TRY(eai_session_set_input(r->s, 0, r->in, r->in_n * sizeof(float)));
        EAI_TRY(eai_session_invoke(r->s));
        const void *y;
        EAI_TRY(eai_session_get_output(r->s, 0, &y, NULL));
        memcpy(emb + (size_t)i * (size_t)r->dim, y, sizeof(float) * (size_t)r->dim);
        d[i].emb = emb + (size_t)i * (size_t)r->dim;
        d[i].emb_dim = r->dim;
    }
    return EAI_OK;
}

typedef struct {
    const char *tracker, *det, *out, *frames, *reid;
    bool no_app;
    float mean[3], std[3];
    eai_tracker_cfg_t cfg;
} run_opts_t;

static eai_status_t run_tracker(const run_opts_t *o, long *n_rows, long *n_ids, double *ms)
{
    eai_tracker_kind_t kind;
    EAI_TRY(eai_tracker_kind_parse(o->tracker, &kind));
    eai_mot_t dets = {0};
    EAI_TRY(eai_mot_load(o->det, NULL, &dets));
    eai_status_t st = EAI_OK;
    reid_t r = {0};
    eai_video_t *v = NULL;
    eai_tracker_t *t = NULL;
    eai_det_t *d = NULL;
    eai_track_t *trk = NULL;
    float *emb = NULL;
    eai_mot_row_t *rows = NULL;
    eai_image_t img = {0};
    int max_n = 1;
    for (int i = 0; i < dets.n_rows;) {
        int k = eai_mot_frame_rows(&dets, dets.rows[i].frame, NULL);
        if (k > max_n) max_n = k;
        i += k;
    }
    eai_tracker_cfg_t cfg = o->cfg;
    cfg.max_dets = max_n;
    cfg.max_tracks = max_n * 4 > 256 ? max_n * 4 : 256;
    if (kind == EAI_TRACKER_DEEPSORT) {
        if (o->reid) {
            if ((st = reid_open(&r, o->reid, o->mean, o->std)) != EAI_OK) goto done;
            /* a folder of images, or a .y4m / video file */
            eai_video_opts_t vo = {.kind = EAI_VIDEO_AUTO};
            if ((st = eai_video_open(o->frames, &vo, &v)) != EAI_OK) goto done;
            cfg.emb_dim = r.dim;
            emb = calloc((size_t)max_n * (size_t)r.dim, sizeof(float));
        } else {
            cfg.emb_dim = 1; /* --no-appearance: the IoU stage only */
        }
    }
    d = calloc((size_t)max_n, sizeof *d);
    trk = calloc((size_t)cfg.max_tracks, sizeof *trk);
    size_t cap_rows = (size_t)dets.n_rows + 16;
    rows = calloc(cap_rows, sizeof *rows);
    if (!d || !trk || !rows || (r.dim && !emb)) {
        st = eai_fail(EAI_E_NOMEM, "track run: out of memory");
        goto done;
    }
    if ((st = eai_tracker_create(kind, &cfg, &t)) != EAI_OK) goto done;
    long nr = 0;
    int max_id = 0;
    double t_upd = 0;
    for (int f = 1; f <= dets.max_frame; f++) {
        int first, n = eai_mot_frame_rows(&dets, f, &first);
        for (int i = 0; i < n; i++) {
            const eai_mot_row_t *m = &dets.rows[first + i];
            memset(&d[i], 0, sizeof d[i]);
            d[i].box = eai_mot_row_box(m);
            d[i].score = (float)m->conf;
            d[i].cls = m->cls;
        }
        if (v) {
            bool eof = false;
            eai_image_free(&img);
            if ((st = eai_video_read(v, &img, &eof)) != EAI_OK) goto done;
            if (eof) {
                st = eai_fail(EAI_E_FORMAT, "%s: %d frames, but %s has detections in frame %d",
                              o->frames, f - 1, o->det, f);
                goto done;
            }
            if ((st = reid_run(&r, &img, d, n, emb)) != EAI_OK) goto done;
        }
        int k;
        double t0 = cli_now();
        if ((st = eai_tracker_update(t, f, d, n, trk, cfg.max_tracks, &k)) != EAI_OK) goto done;
        t_upd += cli_now() - t0;
        if (k > cfg.max_tracks) k = cfg.max_tracks;
        for (int i = 0; i < k; i++) {
            if ((size_t)nr == cap_rows) {
                cap_rows *= 2;
                eai_mot_row_t *p = realloc(rows, cap_rows * sizeof *rows);
                if (!p) {
                    st = eai_fail(EAI_E_NOMEM, "track run: out of memory");
                    goto done;
                }
                rows = p;
            }
            eai_box_t b = trk[i].box;
            /* MOTChallenge results: class and visibility columns -1 (TrackEval
             * refuses classes > 1 in MOT17 result files) */
            rows[nr++] = (eai_mot_row_t){f,           trk[i].id,    b.x1, b.y1, b.x2 - b.x1,
                                         b.y2 - b.y1, trk[i].score, -1,   -1};
            if (trk[i].id > max_id) max_id = trk[i].id;
        }
    }
    st = eai_mot_save(o->out, rows, (int)nr);
    *n_rows = nr;
    *n_ids = max_id;
    *ms = dets.max_frame ? 1e3 * t_upd / dets.max_frame : 0;
done:
    eai_image_free(&img);
    eai_tracker_destroy(t);
    eai_video_close(v);
    reid_free(&r);
    free(d);
    free(trk);
    free(emb);
    free(rows);
    eai_mot_free(&dets);
    return st;
}

static bool parse_f(const char *opt, const char *s, float *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v)) {
        cli_fail_usage(CMD, "%s '%s': expected a number", opt, s);
        return false;
    }
    *out = (float)v;
    return true;
}

static int track_run(int argc, char **argv)
{
    run_opts_t o = {.mean = {0, 0, 0}, .std = {1, 1, 1}};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long l;
        if (!strcmp(a, "--no-appearance")) {
            o.no_app = true;
            continue;
        }
        if (!v) return cli_fail_usage(CMD, "%s needs a value\n%s", a, usage);
        i++;
        if (!strcmp(a, "--tracker"))
            o.tracker = v;
        else if (!strcmp(a, "--det"))
            o.det = v;
        else if (!strcmp(a, "-o"))
            o.out = v;
        else if (!strcmp(a, "--frames"))
            o.frames = v;
        else if (!strcmp(a, "--reid"))
            o.reid = v;
        else if (!strcmp(a, "--reid-mean")) {
            if (!cli_parse_floats(v, o.mean, 3)) return cli_fail_usage(CMD, "--reid-mean a,b,c");
        } else if (!strcmp(a, "--reid-std")) {
            if (!cli_parse_floats(v, o.std, 3)) return cli_fail_usage(CMD, "--reid-std a,b,c");
        } else if (!strcmp(a, "--max-age")) {
            if (!cli_parse_int(CMD, a, v, 1, 100000, &l)) return 2;
            o.cfg.max_age = (int)l;
        } else if (!strcmp(a, "--n-init")) {
            if (!cli_parse_int(CMD, a, v, 1, 1000, &l)) return 2;
            o.cfg.n_init = (int)l;
        } else if (!strcmp(a, "--min-score")) {
            if (!parse_f(a, v, &o.cfg.min_score)) return 2;
        } else if (!strcmp(a, "--high")) {
            if (!parse_f(a, v, &o.cfg.high_thresh)) return 2;
            o.cfg.new_track_thresh = o.cfg.high_thresh + 0.1f;
        } else if (!strcmp(a, "--low")) {
            if (!parse_f(a, v, &o.cfg.low_thresh)) return 2;
        } else if (!strcmp(a, "--max-cosine")) { /* DeepSORT: per re-id model */
            if (!parse_f(a, v, &o.cfg.max_cosine)) return 2;
            if (!(o.cfg.max_cosine > 0) || o.cfg.max_cosine > 2)
                return cli_fail_usage(CMD, "--max-cosine '%s': expected a distance in (0, 2]", v);
        } else if (!strcmp(a, "--gate")) {
            if (!parse_f(a, v, &o.cfg.gate_chi2)) return 2;
            if (!(o.cfg.gate_chi2 > 0))
                return cli_fail_usage(CMD, "--gate '%s': expected a positive chi-square", v);
        } else if (!strcmp(a, "--budget")) {
            if (!cli_parse_int(CMD, a, v, 1, 10000, &l)) return 2;
            o.cfg.budget = (int)l;
        } else
            return cli_fail_usage(CMD, "unknown option '%s'\n%s", a, usage);
    }
    if (!o.tracker || !o.det || !o.out)
        return cli_fail_usage(CMD, "run needs --tracker, --det and -o\n%s", usage);
    eai_tracker_kind_t kind;
    if (eai_tracker_kind_parse(o.tracker, &kind) != EAI_OK)
        return cli_fail_usage(CMD, "%s", eai_last_error());
    if (kind == EAI_TRACKER_DEEPSORT && !o.no_app && (!o.reid || !o.frames))
        return cli_fail_usage(CMD, "deepsort needs --reid MODEL and --frames DIR for appearance "
                                   "embeddings (or --no-appearance: IoU matching only)");
    if (o.reid && !o.frames) return cli_fail_usage(CMD, "--reid needs --frames DIR");
    if (o.no_app) o.reid = NULL;
    long nr = 0, nid = 0;
    double ms = 0;
    if (run_tracker(&o, &nr, &nid, &ms) != EAI_OK) return cli_fail_status(CMD);
    fprintf(stderr, "%s: %ld boxes, %ld ids, %.4f ms/frame in update -> %s\n", o.tracker, nr, nid,
            ms, o.out);
    return 0;
}

/* ---------------------------------------------------------------- eval */

static void print_json(const eai_mot_metrics_t *m)
{
    cJSON *j = cJSON_CreateObject();
#define P(name, v) cJSON_AddNumberToObject(j, name, (double)(v))
    P("HOTA", 100 * m->hota), P("DetA", 100 * m->deta), P("AssA", 100 * m->assa);
    P("DetRe", 100 * m->deta_re), P("DetPr", 100 * m->deta_pr);
    P("AssRe", 100 * m->assa_re), P("AssPr", 100 * m->assa_pr), P("LocA", 100 * m->loca);
    P("MOTA", 100 * m->mota), P("MOTP", 100 * m->motp), P("MODA", 100 * m->moda);
    P("CLR_Re", 100 * m->clr_re), P("CLR_Pr", 100 * m->clr_pr);
    P("MTR", 100 * m->mtr), P("PTR", 100 * m->ptr), P("MLR", 100 * m->mlr);
    P("CLR_TP", m->tp), P("CLR_FN", m->fn), P("CLR_FP", m->fp), P("IDSW", m->idsw);
    P("MT", m->mt), P("PT", m->pt), P("ML", m->ml), P("Frag", m->frag);
    P("IDF1", 100 * m->idf1), P("IDR", 100 * m->idr), P("IDP", 100 * m->idp);
    P("IDTP", m->idtp), P("IDFN", m->idfn), P("IDFP", m->idfp);
    P("GT_Dets", m->n_gt_dets), P("Dets", m->n_res_dets), P("GT_IDs", m->n_gt_ids);
    P("IDs", m->n_res_ids), P("Frames", m->n_frames);
#undef P
    char *s = cJSON_Print(j);
    if (s) puts(s);
    free(s);
    cJSON_Delete(j);
}

static int track_eval(int argc, char **argv)
{
    const char *files[2] = {NULL, NULL};
    bool json = false;
    eai_mot_eval_opts_t o = {0};
    int nf = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else if (!strcmp(argv[i], "--mot17"))
            o.preproc = EAI_MOT_MOT17;
        else if (argv[i][0] == '-' && argv[i][1])
            return cli_fail_usage(CMD, "unknown option '%s'\n%s", argv[i], usage);
        else if (nf < 2)
            files[nf++] = argv[i];
        else
            return cli_fail_usage(CMD, "eval takes GT.txt RESULT.txt\n%s", usage);
    }
    if (nf != 2) return cli_fail_usage(CMD, "eval takes GT.txt RESULT.txt\n%s", usage);
    eai_mot_t gt = {0}, res = {0};
    eai_mot_metrics_t m;
    eai_status_t st = eai_mot_load(files[0], NULL, &gt);
    if (st == EAI_OK) st = eai_mot_load(files[1], NULL, &res);
    if (st == EAI_OK) st = eai_mot_eval(&gt, &res, &o, &m);
    eai_mot_free(&gt);
    eai_mot_free(&res);
    if (st != EAI_OK) return cli_fail_status(CMD);
    if (json) {
        print_json(&m);
        return 0;
    }
    printf("HOTA %.3f  DetA %.3f  AssA %.3f  LocA %.3f\n", 100 * m.hota, 100 * m.deta, 100 * m.assa,
           100 * m.loca);
    printf("MOTA %.3f  MOTP %.3f  IDF1 %.3f  IDP %.3f  IDR %.3f\n", 100 * m.mota, 100 * m.motp,
           100 * m.idf1, 100 * m.idp, 100 * m.idr);
    printf("TP %ld  FP %ld  FN %ld  IDsw %ld  Frag %ld  MT %ld  PT %ld  ML %ld\n", m.tp, m.fp, m.fn,
           m.idsw, m.frag, m.mt, m.pt, m.ml);
    printf("gt %ld boxes / %ld ids, result %ld boxes / %ld ids, %ld frames\n", m.n_gt_dets,
           m.n_gt_ids, m.n_res_dets, m.n_res_ids, m.n_frames);
    return 0;
}

/* ---------------------------------------------------------------- perturb */

static uint64_t rng_next(uint64_t *s) /* splitmix64 */
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double uni(uint64_t *s)
{
    return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

static double gauss(uint64_t *s)
{
    double u = uni(s), v = uni(s);
    if (u < 1e-300) u = 1e-300;
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

static int track_perturb(int argc, char **argv)
{
    const char *gtp = NULL, *out = NULL;
    float miss = 0, fp = 0, jit = 0;
    long seed = 1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-') {
            if (gtp) return cli_fail_usage(CMD, "perturb takes one GT.txt\n%s", usage);
            gtp = a;
            continue;
        }
        if (i + 1 >= argc) return cli_fail_usage(CMD, "%s needs a value\n%s", a, usage);
        const char *v = argv[++i];
        if (!strcmp(a, "--miss")) {
            if (!parse_f(a, v, &miss)) return 2;
        } else if (!strcmp(a, "--fp")) {
            if (!parse_f(a, v, &fp)) return 2;
        } else if (!strcmp(a, "--jitter")) {
            if (!parse_f(a, v, &jit)) return 2;
        } else if (!strcmp(a, "--seed")) {
            if (!cli_parse_int(CMD, a, v, 0, INT32_MAX, &seed)) return 2;
        } else if (!strcmp(a, "-o")) {
            out = v;
        } else
            return cli_fail_usage(CMD, "unknown option '%s'\n%s", a, usage);
    }
    if (!gtp || !out) return cli_fail_usage(CMD, "perturb needs GT.txt and -o\n%s", usage);
    if (miss < 0 || miss > 1 || fp < 0 || fp > 10 || jit < 0 || jit > 1)
        return cli_fail_usage(CMD, "--miss in [0,1], --fp in [0,10], --jitter in [0,1]");
    eai_mot_t gt;
    if (eai_mot_load(gtp, NULL, &gt) != EAI_OK) return cli_fail_status(CMD);
    /* the extent of all gt boxes bounds where false positives appear */
    double x0 = 1e30, y0 = 1e30, x1 = -1e30, y1 = -1e30;
    for (int i = 0; i < gt.n_rows; i++) {
        const eai_mot_row_t *r = &gt.rows[i];
        x0 = fmin(x0, r->x), y0 = fmin(y0, r->y);
        x1 = fmax(x1, r->x + r->w), y1 = fmax(y1, r->y + r->h);
    }
    size_t cap = (size_t)gt.n_rows * (size_t)(2 + (int)ceil(fp)) + 16;
    eai_mot_row_t *rows = calloc(cap, sizeof *rows);
    if (!rows) {
        eai_mot_free(&gt);
        return cli_fail_usage(CMD, "out of memory");
    }
    uint64_t s = (uint64_t)seed * 0x2545F4914F6CDD1Dull + 1;
    size_t n = 0;
    long n_true = 0, n_miss = 0, n_fp = 0;
    for (int i = 0; i < gt.n_rows; i++) {
        const eai_mot_row_t *r = &gt.rows[i];
        if (!(fabs(r->conf) >= 1)) continue; /* ignored gt boxes (TrackEval's zero_marked) */
        n_true++;
        /* one draw per gt box for each event, so rates are exact in expectation */
        double u_miss = uni(&s), u_fp = uni(&s);
        if (u_miss >= miss) {
            double w = r->w * (1 + jit * gauss(&s)), h = r->h * (1 + jit * gauss(&s));
            double cx = r->x + r->w / 2 + jit * r->w * gauss(&s);
            double cy = r->y + r->h / 2 + jit * r->h * gauss(&s);
            if (w < 1) w = 1;
            if (h < 1) h = 1;
            /* true detections score 0.4..1, lower when less visible */
            double vis = r->vis >= 0 ? fmin(1.0, r->vis) : 1.0;
            double sc = 0.4 + 0.6 * uni(&s) * (0.5 + 0.5 * vis);
            rows[n++] = (eai_mot_row_t){r->frame, -1, cx - w / 2, cy - h / 2, w, h, sc, -1, -1};
        } else {
            n_miss++;
        }
        /* --fp above 1: the integer part always, the fraction by chance */
        int k = (int)fp + (u_fp < fp - floor(fp) ? 1 : 0);
        for (int q = 0; q < k && n < cap; q++) {
            const eai_mot_row_t *o = &gt.rows[(size_t)(uni(&s) * gt.n_rows) % (size_t)gt.n_rows];
            double w = o->w, h = o->h;
            double x = x0 + uni(&s) * fmax(1, x1 - x0 - w), y = y0 + uni(&s) * fmax(1, y1 - y0 - h);
            rows[n++] = (eai_mot_row_t){r->frame, -1, x, y, w, h, 0.1 + 0.6 * uni(&s), -1, -1};
            n_fp++;
        }
    }
    eai_status_t st = eai_mot_save(out, rows, (int)n);
    free(rows);
    eai_mot_free(&gt);
    if (st != EAI_OK) return cli_fail_status(CMD);
    fprintf(stderr, "perturb: %ld gt boxes, %ld missed (%.3f), %ld false positives (%.3f) -> %s\n",
            n_true, n_miss, n_true ? (double)n_miss / n_true : 0.0, n_fp,
            n_true ? (double)n_fp / n_true : 0.0, out);
    return 0;
}

int cmd_track(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        puts(usage);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "run")) return track_run(argc, argv);
    if (!strcmp(argv[1], "eval")) return track_eval(argc, argv);
    if (!strcmp(argv[1], "perturb")) return track_perturb(argc, argv);
    return cli_fail_usage(CMD, "unknown subcommand '%s'\n%s", argv[1], usage);
}
