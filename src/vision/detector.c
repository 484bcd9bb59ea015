/* eai_detector_t: model + session + preprocessing + decoding in one call.
 * Everything a run needs (input tensor, candidate buffer, output table) is
 * allocated at create, so eai_detector_run never allocates. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgeai/model.h"
#include "edgeai/session.h"
#include "edgeai/vision.h"

#define MAX_OUTS 16

struct eai_detector {
    eai_model_t *model;
    eai_session_t *sess;
    eai_threadpool_t *own_pool;
    eai_det_kind_t kind;
    int in_w, in_h, n_classes;
    eai_preproc_t pre;
    eai_decode_opts_t dec;
    float *input;
    size_t input_bytes;
    int n_outs;
    eai_det_output_t outs[MAX_OUTS];
    eai_det_t *cand;
    int cand_cap;
    eai_detector_timing_t timing;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

void eai_detector_destroy(eai_detector_t *d)
{
    if (!d) return;
    eai_session_destroy(d->sess);
    eai_model_destroy(d->model);
    eai_threadpool_destroy(d->own_pool);
    free(d->input);
    free(d->cand);
    free(d);
}

static void default_preproc(eai_det_kind_t kind, eai_preproc_t *p)
{
    memset(p, 0, sizeof *p);
    switch (kind) {
    case EAI_DET_YOLOV5:
    case EAI_DET_YOLOV8:
        p->fit = EAI_FIT_LETTERBOX;
        p->pad = 114.0f;
        break;
    case EAI_DET_NANODET:
        p->resize = EAI_RESIZE_BILINEAR_TF;
        break;
    case EAI_DET_CENTERNET:
        p->resize = EAI_RESIZE_BILINEAR_TF;
        p->scale = 1.0f; /* human feeds CenterNet raw 0..255 pixels */
        break;
    default:
        break;
    }
}

static int classes_of(eai_det_kind_t kind, const eai_det_output_t *outs, int n,
                      const eai_decode_opts_t *o)
{
    if (o->n_classes > 0) return o->n_classes;
    const eai_tensor_info_t *t = &outs[0].info;
    int64_t a = t->rank == 3 ? t->dims[1] : 0, b = t->rank == 3 ? t->dims[2] : 0;
    switch (kind) {
    case EAI_DET_YOLOV5:
        return (int)(b - 5);
    case EAI_DET_YOLOV8:
        return (int)((a < b ? a : b) - 4);
    case EAI_DET_SSD: {
        int64_t c = b == 4 && n > 1 ? outs[1].info.dims[outs[1].info.rank - 1] : b;
        return (int)(c - (o->ssd_background ? 1 : 0));
    }
    default:
        return 80;
    }
}

eai_status_t eai_detector_create(const eai_detector_opts_t *o, eai_detector_t **out)
{
    if (!o || !o->model_path || !out)
        return eai_fail(EAI_E_INVALID, "detector_create: no model_path");
    if (o->input_w < 0 || o->input_h < 0 || o->max_candidates < 0 || o->threads < 0)
        return eai_fail(EAI_E_INVALID, "detector_create: negative size or count");
    eai_detector_t *d = calloc(1, sizeof *d);
    if (!d) return eai_fail(EAI_E_NOMEM, "detector_create");
    eai_status_t st = eai_model_load(o->model_path, NULL, &d->model);
    if (st != EAI_OK) goto fail;
    eai_session_opts_t so = {0};
    so.backend = o->backend;
    so.pool = o->pool;
    if (!so.pool && o->threads > 1) {
        if ((st = eai_threadpool_create(o->threads, &d->own_pool)) != EAI_OK) goto fail;
        so.pool = d->own_pool;
    }
    if ((st = eai_session_create(d->model, &so, &d->sess)) != EAI_OK) goto fail;
    eai_tensor_info_t in;
    if (eai_session_n_inputs(d->sess) < 1) {
        st = eai_fail(EAI_E_UNSUPPORTED, "%s: the model has no input", o->model_path);
        goto fail;
    }
    eai_session_input_info(d->sess, 0, &in);
    bool nchw = in.rank == 4 && in.dims[1] == 3, nhwc = in.rank == 4 && in.dims[3] == 3;
    if (in.dtype != EAI_F32 || (!nchw && !nhwc) || in.dims[0] != 1) {
        st = eai_fail(EAI_E_UNSUPPORTED,
                      "%s: input '%s' must be float32 [1,3,H,W] or [1,H,W,3] (rank %d)",
                      o->model_path, in.name ? in.name : "?", in.rank);
        goto fail;
    }
    d->in_h = (int)(nchw ? in.dims[2] : in.dims[1]);
    d->in_w = (int)(nchw ? in.dims[3] : in.dims[2]);
    if ((o->input_w && o->input_w != d->in_w) || (o->input_h && o->input_h != d->in_h)) {
        st = eai_fail(EAI_E_INVALID, "%s: input_w/h %dx%d differ from the model's %dx%d",
                      o->model_path, o->input_w, o->input_h, d->in_w, d->in_h);
        goto fail;
    }
    d->n_outs = eai_session_n_outputs(d->sess);
    if (d->n_outs < 1 || d->n_outs > MAX_OUTS) {
        st = eai_fail(EAI_E_UNSUPPORTED, "%s: %d outputs (1..%d supported)", o->model_path,
                      d->n_outs, MAX_OUTS);
        goto fail;
    }
    for (int i = 0; i < d->n_outs; i++)
        eai_session_output_info(d->sess, i, &d->outs[i].info);
    d->kind = o->kind;
    if (d->kind == EAI_DET_AUTO &&
        (st = eai_det_kind_guess(d->outs, d->n_outs, &d->kind)) != EAI_OK)
        goto fail;
    d->dec = o->decode;
    d->n_classes = classes_of(d->kind, d->outs, d->n_outs, &d->dec);
    if (o->pre)
        d->pre = *o->pre;
    else
        default_preproc(d->kind, &d->pre);
    d->pre.width = d->in_w;
    d->pre.height = d->in_h;
    d->pre.layout = nchw ? EAI_LAYOUT_NCHW : EAI_LAYOUT_NHWC;
    d->input_bytes = (size_t)d->in_w * (size_t)d->in_h * 3 * sizeof(float);
    d->cand_cap = o->max_candidates > 0 ? o->max_candidates : 1000;
    d->input = malloc(d->input_bytes);
    d->cand = malloc((size_t)d->cand_cap * sizeof *d->cand);
    if (!d->input || !d->cand) {
        st = eai_fail(EAI_E_NOMEM, "%s: detector buffers", o->model_path);
        goto fail;
    }
    *out = d;
    return EAI_OK;
fail:
    eai_detector_destroy(d);
    return st;
}

eai_status_t eai_detector_run(eai_detector_t *d, const eai_image_t *frame, eai_det_t *out, int cap,
                              int *n)
{
    if (!d || !out || cap < 0 || !n) return eai_fail(EAI_E_INVALID, "detector_run: NULL argument");
    *n = 0;
    double t0 = now_ms();
    eai_xform_t xf;
    EAI_TRY(eai_preprocess(frame, &d->pre, d->input, &xf));
    EAI_TRY(eai_session_set_input(d->sess, 0, d->input, d->input_bytes));
    double t1 = now_ms();
    EAI_TRY(eai_session_invoke(d->sess));
    double t2 = now_ms();
    for (int i = 0; i < d->n_outs; i++)
        EAI_TRY(eai_session_get_output(d->sess, i, (const void **)&d->outs[i].data, NULL));
    EAI_TRY(eai_det_decode(d->kind, d->outs, d->n_outs, d->in_w, d->in_h, &d->dec, &xf, d->cand,
                           d->cand_cap, out, cap, n));
    double t3 = now_ms();
    d->timing.preprocess_ms = t1 - t0;
    d->timing.inference_ms = t2 - t1;
    d->timing.decode_ms = t3 - t2;
    d->timing.total_ms = t3 - t0;
    return EAI_OK;
}

void eai_detector_last_timing(const eai_detector_t *d, eai_detector_timing_t *t)
{
    if (d && t) *t = d->timing;
}

eai_det_kind_t eai_detector_kind(const eai_detector_t *d)
{
    return d ? d->kind : EAI_DET_AUTO;
}

void eai_detector_input_size(const eai_detector_t *d, int *w, int *h)
{
    if (w) *w = d ? d->in_w : 0;
    if (h) *h = d ? d->in_h : 0;
}

const char *const *eai_detector_labels(const eai_detector_t *d)
{
    return d && d->n_classes == EAI_COCO80_N ? eai_coco80_labels() : NULL;
}

int eai_detector_n_classes(const eai_detector_t *d)
{
    return d ? d->n_classes : 0;
}

struct eai_session *eai_detector_session(eai_detector_t *d)
{
    return d ? d->sess : NULL;
}
