/* Detector output decoding: raw network outputs -> candidate boxes in tensor
 * pixels, then greedy NMS. Candidates are collected in a min-heap of `cap`
 * entries, so a decoder never allocates and keeps the best `cap` when more
 * anchors pass the threshold (YOLO's max_nms does the same). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgeai/vision.h"

#define DEF_CONF 0.25f
#define DEF_IOU  0.45f

/* ---------------------------------------------------------------- heap */

typedef struct cand_heap {
    eai_det_t *d;
    int n, cap;
} cand_heap_t;

static void heap_swap(eai_det_t *a, eai_det_t *b)
{
    eai_det_t t = *a;
    *a = *b;
    *b = t;
}

static void heap_push(cand_heap_t *h, float x1, float y1, float x2, float y2, float score, int cls)
{
    eai_det_t d = {{x1, y1, x2, y2}, score, cls, NULL, 0};
    if (h->n < h->cap) {
        int i = h->n++;
        h->d[i] = d;
        while (i > 0 && h->d[(i - 1) / 2].score > h->d[i].score) {
            heap_swap(&h->d[(i - 1) / 2], &h->d[i]);
            i = (i - 1) / 2;
        }
        return;
    }
    if (h->cap == 0 || score <= h->d[0].score) return;
    h->d[0] = d;
    for (int i = 0;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && h->d[l].score < h->d[m].score) m = l;
        if (r < h->n && h->d[r].score < h->d[m].score) m = r;
        if (m == i) break;
        heap_swap(&h->d[i], &h->d[m]);
        i = m;
    }
}

static inline float sigmoidf(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

/* (rows, cols) of a [1,R,C] or [R,C] output; false otherwise. */
static bool rows_cols(const eai_tensor_info_t *t, int64_t *r, int64_t *c)
{
    if (t->rank == 3 && t->dims[0] == 1) {
        *r = t->dims[1];
        *c = t->dims[2];
    } else if (t->rank == 2) {
        *r = t->dims[0];
        *c = t->dims[1];
    } else {
        return false;
    }
    return *r > 0 && *c > 0;
}

static const char *shape_str(const eai_tensor_info_t *t, char *buf, size_t n)
{
    size_t k = 0;
    buf[0] = '\0';
    k += (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < t->rank && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? "," : "", (long long)t->dims[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
    return buf;
}

static eai_status_t bad_shape(const char *kind, const eai_det_output_t *o, const char *want)
{
    char s[96];
    return eai_fail(EAI_E_FORMAT, "decode %s: output '%s' has shape %s, expected %s", kind,
                    o->info.name ? o->info.name : "?", shape_str(&o->info, s, sizeof s), want);
}

/* ---------------------------------------------------------------- YOLO */

/* Element (row i, field k) of a [N, F] table stored rows-major, or fields-major
 * when `tr` ([F, N]). */
static inline float at(const float *d, bool tr, int64_t n, int64_t f, int64_t i, int64_t k)
{
    return tr ? d[k * n + i] : d[i * f + k];
}

static eai_status_t decode_yolo(bool v8, const eai_det_output_t *out, int in_w, int in_h,
                                const eai_decode_opts_t *o, float conf, cand_heap_t *h)
{
    const char *kind = v8 ? "yolov8" : "yolov5";
    int64_t r, c;
    if (!rows_cols(&out->info, &r, &c)) return bad_shape(kind, out, v8 ? "[1,4+C,N]" : "[1,N,5+C]");
    bool tr = v8 && r < c; /* v8 exports [1,4+C,N]: fields first */
    int64_t n = tr ? c : r, f = tr ? r : c;
    int head = v8 ? 4 : 5;
    int64_t n_cls = f - head;
    if (n_cls < 1 || (o->n_classes > 0 && n_cls != o->n_classes))
        return bad_shape(kind, out, v8 ? "[1,4+C,N] with C classes" : "[1,N,5+C] with C classes");
    float sx = o->normalised ? (float)in_w : 1.0f, sy = o->normalised ? (float)in_h : 1.0f;
    const float *d = out->data;
    for (int64_t i = 0; i < n; i++) {
        float obj = 1.0f;
        if (!v8) {
            obj = at(d, tr, n, f, i, 4);
            if (o->sigmoid) obj = sigmoidf(obj);
            if (!(obj >= conf)) continue; /* obj * cls <= obj for probabilities */
        }
        int best = 0;
        float bs = at(d, tr, n, f, i, head);
        for (int64_t k = 1; k < n_cls; k++) {
            float v = at(d, tr, n, f, i, head + k);
            if (v > bs) bs = v, best = (int)k;
        }
        if (o->sigmoid) bs = sigmoidf(bs);
        float score = obj * bs;
        if (!(score >= conf)) continue;
        float cx = at(d, tr, n, f, i, 0) * sx, cy = at(d, tr, n, f, i, 1) * sy;
        float w = at(d, tr, n, f, i, 2) * sx, hh = at(d, tr, n, f, i, 3) * sy;
        heap_push(h, cx - w / 2, cy - hh / 2, cx + w / 2, cy + hh / 2, score, best);
    }
    return EAI_OK;
}

/* ---------------------------------------------------------------- SSD */

static eai_status_t decode_ssd(const eai_det_output_t *outs, int n_outs, int in_w, int in_h,
                               const eai_decode_opts_t *o, float conf, cand_heap_t *h)
{
    if (n_outs != 2)
        return eai_fail(EAI_E_FORMAT, "decode ssd: expected 2 outputs (boxes, scores), got %d",
                        n_outs);
    int64_t r0, c0, r1, c1;
    if (!rows_cols(&outs[0].info, &r0, &c0)) return bad_shape("ssd", &outs[0], "[1,N,4]");
    if (!rows_cols(&outs[1].info, &r1, &c1)) return bad_shape("ssd", &outs[1], "[1,N,C]");
    /* boxes are the output with 4 columns; outs[0] when both have 4 */
    const eai_det_output_t *bx = &outs[0], *sc = &outs[1];
    int64_t n = r0, n_cls = c1;
    if (c0 != 4 && c1 == 4) bx = &outs[1], sc = &outs[0], n_cls = c0;
    if (bx->info.dims[bx->info.rank - 1] != 4) return bad_shape("ssd", bx, "[1,N,4] boxes");
    if (r0 != r1) return bad_shape("ssd", sc, "[1,N,C] with the boxes' N");
    int first = o->ssd_background ? 1 : 0;
    if (n_cls - first < 1 || (o->n_classes > 0 && n_cls - first != o->n_classes))
        return bad_shape("ssd", sc, "[1,N,C] with C classes");
    float sx = o->normalised ? (float)in_w : 1.0f, sy = o->normalised ? (float)in_h : 1.0f;
    for (int64_t i = 0; i < n; i++) {
        const float *s = sc->data + i * n_cls;
        int best = first;
        float bs = s[first];
        for (int64_t k = first + 1; k < n_cls; k++)
            if (s[k] > bs) bs = s[k], best = (int)k;
        if (o->sigmoid) bs = sigmoidf(bs);
        if (!(bs >= conf)) continue;
        const float *b = bx->data + i * 4;
        float v0 = b[0], v1 = b[1], v2 = b[2], v3 = b[3];
        if (o->ssd_yx) { /* y1,x1,y2,x2 or cy,cx,h,w */
            float t = v0;
            v0 = v1, v1 = t;
            t = v2;
            v2 = v3, v3 = t;
        }
        float x1, y1, x2, y2;
        if (o->ssd_center) {
            x1 = v0 - v2 / 2, y1 = v1 - v3 / 2, x2 = v0 + v2 / 2, y2 = v1 + v3 / 2;
        } else {
            x1 = v0, y1 = v1, x2 = v2, y2 = v3;
        }
        heap_push(h, x1 * sx, y1 * sy, x2 * sx, y2 * sy, bs, best - first);
    }
    return EAI_OK;
}

/* ---------------------------------------------------------------- NanoDet */

/* Expected value of bin index under softmax(logits[0..nb)). */
static float dfl_expect(const float *l, int nb)
{
    float m = l[0];
    for (int k = 1; k < nb; k++)
        m = fmaxf(m, l[k]);
    float sum = 0, ex = 0;
    for (int k = 0; k < nb; k++) {
        float e = expf(l[k] - m);
        sum += e;
        ex += e * (float)k;
    }
    return ex / sum;
}

static eai_status_t decode_nanodet(const eai_det_output_t *outs, int n_outs, int in_w, int in_h,
                                   const eai_decode_opts_t *o, float conf, cand_heap_t *h)
{
    int64_t n_cls = o->n_classes > 0 ? o->n_classes : 80;
    int levels = 0;
    for (int i = 0; i < n_outs; i++) {
        int64_t hw, ci;
        if (!rows_cols(&outs[i].info, &hw, &ci)) return bad_shape("nanodet", &outs[i], "[1,HW,C]");
        if (ci != n_cls) continue;
        /* its box partner: same HW, 4*B columns */
        const eai_det_output_t *reg = NULL;
        int64_t cr = 0;
        for (int j = 0; j < n_outs; j++) {
            int64_t hw2, c2;
            if (j != i && rows_cols(&outs[j].info, &hw2, &c2) && hw2 == hw && c2 != n_cls &&
                c2 % 4 == 0) {
                reg = &outs[j];
                cr = c2;
            }
        }
        if (!reg) return bad_shape("nanodet", &outs[i], "a partner [1,HW,4*B] box output");
        int stride = 0, gw = 0;
        for (int s = 4; s <= 128 && !stride; s *= 2) {
            int w = (in_w + s - 1) / s, hh = (in_h + s - 1) / s;
            if ((int64_t)w * hh == hw) stride = s, gw = w;
        }
        if (!stride) {
            char buf[64];
            return eai_fail(EAI_E_FORMAT,
                            "decode nanodet: output '%s' %s: %lld cells match no stride 4..128 of "
                            "a %dx%d input",
                            outs[i].info.name ? outs[i].info.name : "?",
                            shape_str(&outs[i].info, buf, sizeof buf), (long long)hw, in_w, in_h);
        }
        int nb = (int)(cr / 4);
        const float off = o->nanodet_grid_origin ? 0.0f : 0.5f;
        for (int64_t a = 0; a < hw; a++) {
            const float *s = outs[i].data + a * n_cls;
            int best = 0;
            float bs = s[0];
            for (int64_t k = 1; k < n_cls; k++)
                if (s[k] > bs) bs = s[k], best = (int)k;
            if (o->sigmoid) bs = sigmoidf(bs);
            if (!(bs >= conf)) continue;
            const float *r = reg->data + a * cr;
            float cx = ((float)(a % gw) + off) * (float)stride;
            float cy = ((float)(a / gw) + off) * (float)stride;
            float l = dfl_expect(r, nb) * (float)stride, t = dfl_expect(r + nb, nb) * (float)stride;
            float rr = dfl_expect(r + 2 * nb, nb) * (float)stride;
            float b = dfl_expect(r + 3 * nb, nb) * (float)stride;
            heap_push(h, cx - l, cy - t, cx + rr, cy + b, bs, best);
        }
        levels++;
    }
    if (!levels)
        return eai_fail(EAI_E_FORMAT, "decode nanodet: no [1,HW,%lld] class-score output among %d",
                        (long long)n_cls, n_outs);
    return EAI_OK;
}

/* ---------------------------------------------------------------- CenterNet */

static eai_status_t decode_centernet(const eai_det_output_t *outs, int n_outs,
                                     const eai_decode_opts_t *o, float conf, cand_heap_t *h)
{
    const eai_det_output_t *det = NULL;
    for (int i = 0; i < n_outs; i++) {
        int64_t r, c;
        if (rows_cols(&outs[i].info, &r, &c) && c == 6) det = &outs[i];
    }
    if (!det)
        return eai_fail(EAI_E_FORMAT,
                        "decode centernet: no [1,K,6] detections output among %d outputs "
                        "(the heatmap + size form is not decoded)",
                        n_outs);
    int64_t k = 0, c = 0;
    rows_cols(&det->info, &k, &c);
    for (int64_t i = 0; i < k; i++) {
        const float *r = det->data + i * 6;
        float score = o->sigmoid ? sigmoidf(r[4]) : r[4];
        if (!(score >= conf) || !isfinite(r[5])) continue;
        int cls = (int)lroundf(r[5]);
        if (o->n_classes > 0 && (cls < 0 || cls >= o->n_classes)) continue;
        heap_push(h, r[0], r[1], r[2], r[3], score, cls);
    }
    return EAI_OK;
}

/* ---------------------------------------------------------------- API */

const char *eai_det_kind_name(eai_det_kind_t kind)
{
    switch (kind) {
    case EAI_DET_AUTO:
        return "auto";
    case EAI_DET_YOLOV5:
        return "yolov5";
    case EAI_DET_YOLOV8:
        return "yolov8";
    case EAI_DET_SSD:
        return "ssd";
    case EAI_DET_NANODET:
        return "nanodet";
    case EAI_DET_CENTERNET:
        return "centernet";
    }
    return "?";
}

eai_status_t eai_det_kind_guess(const eai_det_output_t *outs, int n_outs, eai_det_kind_t *kind)
{
    if (!outs || n_outs <= 0 || !kind) return eai_fail(EAI_E_INVALID, "det_kind_guess: no outputs");
    int64_t r[16], c[16];
    int n_ok = 0;
    for (int i = 0; i < n_outs && i < 16; i++)
        if (rows_cols(&outs[i].info, &r[i], &c[i])) n_ok++;
    for (int i = 0; i < n_outs && i < 16; i++)
        if (outs[i].info.rank == 3 && outs[i].info.dims[2] == 6 && n_outs > 1) {
            *kind = EAI_DET_CENTERNET;
            return EAI_OK;
        }
    if (n_ok == n_outs && n_outs >= 2 && n_outs % 2 == 0 && n_outs <= 16 && n_outs != 2) {
        *kind = EAI_DET_NANODET;
        return EAI_OK;
    }
    if (n_ok == 2 && n_outs == 2 && r[0] == r[1] && (c[0] == 4 || c[1] == 4)) {
        *kind = EAI_DET_SSD;
        return EAI_OK;
    }
    if (n_ok == 1 && n_outs == 1 && outs[0].info.rank == 3) {
        *kind = r[0] < c[0] ? EAI_DET_YOLOV8 : EAI_DET_YOLOV5;
        return EAI_OK;
    }
    char buf[256];
    size_t k = 0;
    buf[0] = '\0';
    for (int i = 0; i < n_outs && k < sizeof buf - 40; i++) {
        char s[96];
        k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%s", i ? " " : "",
                              shape_str(&outs[i].info, s, sizeof s));
    }
    return eai_fail(EAI_E_UNSUPPORTED,
                    "detector outputs %s fit no known layout (yolov5 [1,N,5+C], yolov8 "
                    "[1,4+C,N], ssd [1,N,4]+[1,N,C], nanodet, centernet [1,K,6])",
                    buf);
}

eai_status_t eai_det_decode_raw(eai_det_kind_t kind, const eai_det_output_t *outs, int n_outs,
                                int in_w, int in_h, const eai_decode_opts_t *o, eai_det_t *cand,
                                int cap, int *n)
{
    eai_decode_opts_t def = {0};
    if (!o) o = &def;
    if (!outs || n_outs <= 0 || !cand || cap < 0 || !n || in_w <= 0 || in_h <= 0)
        return eai_fail(EAI_E_INVALID, "det_decode: bad arguments (%d outputs, input %dx%d)",
                        n_outs, in_w, in_h);
    *n = 0;
    for (int i = 0; i < n_outs; i++)
        if (!outs[i].data || outs[i].info.dtype != EAI_F32)
            return eai_fail(EAI_E_INVALID, "det_decode: output %d is not float32 data", i);
    if (kind == EAI_DET_AUTO) EAI_TRY(eai_det_kind_guess(outs, n_outs, &kind));
    float conf = o->conf > 0.0f ? o->conf : DEF_CONF;
    cand_heap_t h = {cand, 0, cap};
    eai_status_t st;
    switch (kind) {
    case EAI_DET_YOLOV5:
    case EAI_DET_YOLOV8:
        if (n_outs != 1)
            return eai_fail(EAI_E_FORMAT, "decode %s: expected 1 output, got %d",
                            eai_det_kind_name(kind), n_outs);
        st = decode_yolo(kind == EAI_DET_YOLOV8, outs, in_w, in_h, o, conf, &h);
        break;
    case EAI_DET_SSD:
        st = decode_ssd(outs, n_outs, in_w, in_h, o, conf, &h);
        break;
    case EAI_DET_NANODET:
        st = decode_nanodet(outs, n_outs, in_w, in_h, o, conf, &h);
        break;
    case EAI_DET_CENTERNET:
        st = decode_centernet(outs, n_outs, o, conf, &h);
        break;
    default:
        return eai_fail(EAI_E_INVALID, "det_decode: unknown kind %d", (int)kind);
    }
    if (st != EAI_OK) return st;
    *n = h.n;
    return EAI_OK;
}

/* Best first; ties broken by class then box so the order is deterministic. */
static int cmp_det(const void *pa, const void *pb)
{
    const eai_det_t *a = pa, *b = pb;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    if (a->cls != b->cls) return a->cls < b->cls ? -1 : 1;
    if (a->box.x1 != b->box.x1) return a->box.x1 < b->box.x1 ? -1 : 1;
    if (a->box.y1 != b->box.y1) return a->box.y1 < b->box.y1 ? -1 : 1;
    if (a->box.x2 != b->box.x2) return a->box.x2 < b->box.x2 ? -1 : 1;
    if (a->box.y2 != b->box.y2) return a->box.y2 < b->box.y2 ? -1 : 1;
    return 0;
}

void eai_nms(eai_det_t *dets, int n, float iou, bool agnostic, int top_k, int *n_keep)
{
    if (!dets || n <= 0) {
        if (n_keep) *n_keep = 0;
        return;
    }
    qsort(dets, (size_t)n, sizeof *dets, cmp_det);
    int k = 0;
    for (int i = 0; i < n && (top_k <= 0 || k < top_k); i++) {
        bool drop = false;
        /* greedy NMS: a box is removed only by a better box that was kept */
        for (int j = 0; j < k && !drop; j++)
            if ((agnostic || dets[j].cls == dets[i].cls) &&
                eai_box_iou(dets[j].box, dets[i].box) > iou)
                drop = true;
        if (!drop) dets[k++] = dets[i];
    }
    if (n_keep) *n_keep = k;
}

eai_status_t eai_det_decode(eai_det_kind_t kind, const eai_det_output_t *outs, int n_outs, int in_w,
                            int in_h, const eai_decode_opts_t *o, const eai_xform_t *xf,
                            eai_det_t *cand, int cand_cap, eai_det_t *out, int cap, int *n)
{
    eai_decode_opts_t def = {0};
    if (!o) o = &def;
    if (!out || cap < 0 || !n) return eai_fail(EAI_E_INVALID, "det_decode: no output buffer");
    *n = 0;
    int nc;
    EAI_TRY(eai_det_decode_raw(kind, outs, n_outs, in_w, in_h, o, cand, cand_cap, &nc));
    float iou = o->iou != 0.0f ? o->iou : DEF_IOU;
    int keep = nc;
    if (iou >= 0.0f) {
        eai_nms(cand, nc, iou, o->agnostic, o->top_k, &keep);
    } else {
        qsort(cand, (size_t)nc, sizeof *cand, cmp_det);
        if (o->top_k > 0 && keep > o->top_k) keep = o->top_k;
    }
    if (keep > cap) keep = cap;
    memcpy(out, cand, (size_t)keep * sizeof *out);
    if (xf) eai_xform_dets(xf, out, keep);
    *n = keep;
    return EAI_OK;
}

static const char *const coco80[EAI_COCO80_N] = {
    "person",        "bicycle",      "car",
    "motorcycle",    "airplane",     "bus",
    "train",         "truck",        "boat",
    "traffic light", "fire hydrant", "stop sign",
    "parking meter", "bench",        "bird",
    "cat",           "dog",          "horse",
    "sheep",         "cow",          "elephant",
    "bear",          "zebra",        "giraffe",
    "backpack",      "umbrella",     "handbag",
    "tie",           "suitcase",     "frisbee",
    "skis",          "snowboard",    "sports ball",
    "kite",          "baseball bat", "baseball glove",
    "skateboard",    "surfboard",    "tennis racket",
    "bottle",        "wine glass",   "cup",
    "fork",          "knife",        "spoon",
    "bowl",          "banana",       "apple",
    "sandwich",      "orange",       "broccoli",
    "carrot",        "hot dog",      "pizza",
    "donut",         "cake",         "chair",
    "couch",         "potted plant", "bed",
    "dining table",  "toilet",       "tv",
    "laptop",        "mouse",        "remote",
    "keyboard",      "cell phone",   "microwave",
    "oven",          "toaster",      "sink",
    "refrigerator",  "book",         "clock",
    "vase",          "scissors",     "teddy bear",
    "hair drier",    "toothbrush",
};

const char *eai_coco80_label(int cls)
{
    return cls >= 0 && cls < EAI_COCO80_N ? coco80[cls] : "?";
}

const char *const *eai_coco80_labels(void)
{
    return coco80;
}
