/* `edgeai pipeline`: video -> detect -> classify crops -> track -> sink
 * (MOT text, annotated frames), built on eai_pipeline (include/edgeai/
 * pipeline.h). This file parses the options; cmd_pipeline_run.c builds and
 * runs the stages, cmd_pipeline_report.c prints the latency book. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cmd_pipeline.h"
#include "edgeai/detect.h"
#include "edgeai/pipeline.h"
#include "edgeai/vision.h"

#define CMD "pipeline"

static const char *const usage =
    "usage: edgeai pipeline [--detector MODEL] [--det-kind KIND] [--classifier MODEL]\n"
    "         [--tracker sort|bytetrack|deepsort [--reid MODEL]] [--track-thresh X]\n"
    "         --source VIDEO|FILE.y4m|DIR [--frames N]\n"
    "         [--show-stats] [--json] [--mot-out FILE] [--det-out FILE]\n"
    "         [--annotate DIR|FILE.mp4]\n"
    "         [--policy block|drop] [--conf X] [--iou X] [--classes all|LIST]\n"
    "         [--det-workers N] [--cls-workers N] [--max-crops N] [--cls-size HxW]\n"
    "         [--cls-mean a,b,c] [--cls-std a,b,c] [--reid-mean a,b,c] [--reid-std a,b,c]\n"
    "         [--fps F]";

int cmd_pipeline(int argc, char **argv)
{
    pl_cli_opts_t o;
    pl_cli_defaults(&o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
#define NEED_VALUE                                                                                 \
    do {                                                                                           \
        if (!v) return cli_fail_usage(CMD, "%s needs a value", a);                                 \
        i++;                                                                                       \
    } while (0)
        if (!strcmp(a, "--detector")) {
            NEED_VALUE;
            o.detector = v;
        } else if (!strcmp(a, "--det-kind")) {
            NEED_VALUE;
            static const eai_det_kind_t kinds[] = {EAI_DET_AUTO,    EAI_DET_YOLOV5,
                                                   EAI_DET_YOLOV8,  EAI_DET_SSD,
                                                   EAI_DET_NANODET, EAI_DET_CENTERNET};
            size_t k = 0;
            while (k < sizeof kinds / sizeof kinds[0] && strcmp(v, eai_det_kind_name(kinds[k])))
                k++;
            if (k == sizeof kinds / sizeof kinds[0])
                return cli_fail_usage(
                    CMD,
                    "--det-kind '%s': expected auto, yolov5, yolov8, ssd, nanodet or centernet", v);
            o.det_kind = kinds[k];
        } else if (!strcmp(a, "--classifier")) {
            NEED_VALUE;
            o.classifier = v;
        } else if (!strcmp(a, "--tracker")) {
            NEED_VALUE;
            if (strcmp(v, "sort") && strcmp(v, "bytetrack") && strcmp(v, "deepsort"))
                return cli_fail_usage(CMD, "--tracker '%s': expected sort, bytetrack or deepsort",
                                      v);
            o.tracker = v;
        } else if (!strcmp(a, "--track-thresh")) {
            NEED_VALUE;
            if (!cli_parse_floats(v, &o.track_thresh, 1) || !(o.track_thresh > 0) ||
                o.track_thresh >= 0.9f)
                return cli_fail_usage(CMD, "--track-thresh '%s': expected a number in (0, 0.9)", v);
        } else if (!strcmp(a, "--reid")) {
            NEED_VALUE;
            o.reid = v;
        } else if (!strcmp(a, "--reid-mean")) {
            NEED_VALUE;
            if (!cli_parse_floats(v, o.reid_mean, 3))
                return cli_fail_usage(CMD, "--reid-mean '%s': expected three numbers", v);
        } else if (!strcmp(a, "--reid-std")) {
            NEED_VALUE;
            if (!cli_parse_floats(v, o.reid_std, 3) || !(o.reid_std[0] > 0) ||
                !(o.reid_std[1] > 0) || !(o.reid_std[2] > 0))
                return cli_fail_usage(CMD, "--reid-std '%s': expected three positive numbers", v);
        } else if (!strcmp(a, "--source")) {
            NEED_VALUE;
            o.source = v;
        } else if (!strcmp(a, "--frames")) {
            NEED_VALUE;
            if (!cli_parse_int(CMD, a, v, 1, 100000000, &n)) return 2;
            o.frames = n;
        } else if (!strcmp(a, "--show-stats")) {
            o.show_stats = 1;
        } else if (!strcmp(a, "--json")) {
            o.json = 1;
        } else if (!strcmp(a, "--mot-out")) {
            NEED_VALUE;
            o.mot_out = v;
        } else if (!strcmp(a, "--det-out")) {
            NEED_VALUE;
            o.det_out = v;
        } else if (!strcmp(a, "--annotate")) {
            NEED_VALUE;
            o.annotate = v;
        } else if (!strcmp(a, "--policy")) {
            NEED_VALUE;
            if (!strcmp(v, "block"))
                o.drop = 0;
            else if (!strcmp(v, "drop"))
                o.drop = 1;
            else
                return cli_fail_usage(CMD, "--policy '%s': expected block or drop", v);
        } else if (!strcmp(a, "--conf")) {
            NEED_VALUE;
            if (!cli_parse_floats(v, &o.conf, 1) || !(o.conf > 0) || o.conf >= 1)
                return cli_fail_usage(CMD, "--conf '%s': expected a number in (0, 1)", v);
        } else if (!strcmp(a, "--iou")) {
            NEED_VALUE;
            if (!cli_parse_floats(v, &o.iou, 1) || !(o.iou > 0) || o.iou > 1)
                return cli_fail_usage(CMD, "--iou '%s': expected a number in (0, 1]", v);
        } else if (!strcmp(a, "--classes")) {
            NEED_VALUE;
            if (!pl_cli_parse_classes(v, &o)) return cli_fail_usage(CMD, "--classes '%s'", v);
        } else if (!strcmp(a, "--det-workers")) {
            NEED_VALUE;
            if (!cli_parse_int(CMD, a, v, 1, 16, &n)) return 2;
            o.det_workers = (int)n;
        } else if (!strcmp(a, "--cls-workers")) {
            NEED_VALUE;
            if (!cli_parse_int(CMD, a, v, 1, 16, &n)) return 2;
            o.cls_workers = (int)n;
        } else if (!strcmp(a, "--max-crops")) {
            NEED_VALUE;
            if (!cli_parse_int(CMD, a, v, 1, PL_MAX_DET, &n)) return 2;
            o.max_crops = (int)n;
        } else if (!strcmp(a, "--cls-size")) {
            NEED_VALUE;
            if (sscanf(v, "%dx%d", &o.cls_h, &o.cls_w) != 2 || o.cls_h < 1 || o.cls_w < 1 ||
                o.cls_h > 4096 || o.cls_w > 4096)
                return cli_fail_usage(CMD, "--cls-size '%s': expected HxW", v);
        } else if (!strcmp(a, "--cls-mean")) {
            NEED_VALUE;
            if (!cli_parse_floats(v, o.cls_mean, 3))
                return cli_fail_usage(CMD, "--cls-mean '%s': expected three numbers", v);
        } else if (!strcmp(a, "--cls-std")) {
            NEED_VALUE;
            if (!cli_parse_floats(v, o.cls_std, 3) || !(o.cls_std[0] > 0) || !(o.cls_std[1] > 0) ||
                !(o.cls_std[2] > 0))
                return cli_fail_usage(CMD, "--cls-std '%s': expected three positive numbers", v);
        } else if (!strcmp(a, "--fps")) {
            NEED_VALUE;
            if (!cli_parse_floats(v, &o.pace_fps, 1) || !(o.pace_fps > 0) || o.pace_fps > 10000)
                return cli_fail_usage(CMD, "--fps '%s': expected a positive rate", v);
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            puts(usage);
            return 0;
        } else {
            return cli_fail_usage(CMD, "unknown option '%s'\n%s", a, usage);
        }
#undef NEED_VALUE
    }
    if (!o.source) return cli_fail_usage(CMD, "--source is required\n%s", usage);
    /* DeepSORT without appearance is SORT with a cascade: refuse rather than
     * silently measure something else */
    if (!strcmp(o.tracker, "deepsort") && !o.reid)
        return cli_fail_usage(CMD, "--tracker deepsort needs --reid MODEL (an embedding network "
                                   "run on each detection's crop)");
    if (o.track_thresh > 0 && strcmp(o.tracker, "bytetrack"))
        return cli_fail_usage(CMD, "--track-thresh is only used by --tracker bytetrack");
    if (o.reid && strcmp(o.tracker, "deepsort"))
        return cli_fail_usage(CMD, "--reid is only used by --tracker deepsort");
    return pl_cli_run(&o);
}
