/* Scene camera (pinhole, world frame of scene.h), class names and the SUMO
 * conversion helpers. The formulas are the ones documented in scene.h. */
#include <math.h>
#include <string.h>

#include "core/core_impl.h"
#include "scene_impl.h"

#define DEG2RAD 0.017453292519943295f

const char *eai_scene_class_name(int cls)
{
    static const char *const names[EAI_SCENE_N_CLASSES] = {"car", "truck", "bike", "person"};
    return (cls >= 0 && cls < EAI_SCENE_N_CLASSES) ? names[cls] : "?";
}

eai_scene_camera_t eai_scene_camera_default(int width, int height)
{
    eai_scene_camera_t c = {.x = -16.0f,
                            .y = -16.0f,
                            .z = 10.0f,
                            .yaw_deg = 45.0f,
                            .pitch_deg = 28.0f,
                            .hfov_deg = 75.0f,
                            .width = width,
                            .height = height};
    return c;
}

eai_status_t eai__scene_cam_init(scn_cam_t *k, const eai_scene_camera_t *c)
{
    if (!c) return eai_fail(EAI_E_INVALID, "scene camera: NULL");
    if (!(isfinite(c->x) && isfinite(c->y) && isfinite(c->z) && isfinite(c->yaw_deg)))
        return eai_fail(EAI_E_INVALID, "scene camera: position and yaw must be finite");
    if (!(c->pitch_deg > 0.0f && c->pitch_deg < 90.0f))
        return eai_fail(EAI_E_INVALID, "scene camera: pitch_deg %g is outside (0, 90)",
                        (double)c->pitch_deg);
    if (!(c->hfov_deg > 10.0f && c->hfov_deg < 150.0f))
        return eai_fail(EAI_E_INVALID, "scene camera: hfov_deg %g is outside (10, 150)",
                        (double)c->hfov_deg);
    if (c->width < 1 || c->height < 1 || c->width > 4096 || c->height > 4096)
        return eai_fail(EAI_E_INVALID, "scene camera: size %dx%d is outside 1..4096", c->width,
                        c->height);
    if (!(c->z > 0.0f)) return eai_fail(EAI_E_INVALID, "scene camera: height z must be > 0");
    k->c = *c;
    float yaw = c->yaw_deg * DEG2RAD, pitch = c->pitch_deg * DEG2RAD;
    k->f[0] = cosf(yaw) * cosf(pitch);
    k->f[1] = sinf(yaw) * cosf(pitch);
    k->f[2] = -sinf(pitch);
    k->r[0] = sinf(yaw);
    k->r[1] = -cosf(yaw);
    k->r[2] = 0.0f;
    /* u = r x f */
    k->u[0] = k->r[1] * k->f[2] - k->r[2] * k->f[1];
    k->u[1] = k->r[2] * k->f[0] - k->r[0] * k->f[2];
    k->u[2] = k->r[0] * k->f[1] - k->r[1] * k->f[0];
    k->focal = 0.5f * (float)c->width / tanf(0.5f * c->hfov_deg * DEG2RAD);
    k->cx = 0.5f * (float)c->width;
    k->cy = 0.5f * (float)c->height;
    return EAI_OK;
}

eai_status_t eai_scene_project(const eai_scene_camera_t *cam, float x, float y, float z, float *u,
                               float *v, float *depth)
{
    scn_cam_t k;
    EAI_TRY(eai__scene_cam_init(&k, cam));
    if (!u || !v) return eai_fail(EAI_E_INVALID, "eai_scene_project: NULL output");
    float p[3] = {x, y, z}, q[3];
    scn_to_cam(&k, p, q);
    if (!(q[2] >= 0.05f))
        return eai_fail(EAI_E_INVALID,
                        "eai_scene_project: point (%g, %g, %g) is not in front of the camera",
                        (double)x, (double)y, (double)z);
    *u = k.cx + k.focal * q[0] / q[2];
    *v = k.cy - k.focal * q[1] / q[2];
    if (depth) *depth = q[2];
    return EAI_OK;
}

eai_status_t eai_scene_unproject(const eai_scene_camera_t *cam, float u, float v, float z, float *x,
                                 float *y)
{
    scn_cam_t k;
    EAI_TRY(eai__scene_cam_init(&k, cam));
    if (!x || !y) return eai_fail(EAI_E_INVALID, "eai_scene_unproject: NULL output");
    float xn = (u - k.cx) / k.focal, yn = -(v - k.cy) / k.focal;
    float dir[3];
    for (int i = 0; i < 3; i++)
        dir[i] = k.f[i] + xn * k.r[i] + yn * k.u[i];
    /* C + t dir meets height z at t = (z - Cz) / dir_z; it must lie ahead */
    if (!(fabsf(dir[2]) > 1e-9f))
        return eai_fail(EAI_E_INVALID, "eai_scene_unproject: ray is parallel to the plane");
    float t = (z - k.c.z) / dir[2];
    if (!(t > 0.0f) || !isfinite(t))
        return eai_fail(EAI_E_INVALID,
                        "eai_scene_unproject: pixel (%g, %g) does not see the plane z = %g",
                        (double)u, (double)v, (double)z);
    *x = k.c.x + t * dir[0];
    *y = k.c.y + t * dir[1];
    return EAI_OK;
}

eai_scene_class_t eai_scene_class_from_sumo(const char *vclass)
{
    if (!vclass) return EAI_SCENE_CAR;
    static const char *const trucks[] = {"truck", "bus", "coach", "trailer"};
    static const char *const bikes[] = {"motorcycle", "moped", "bicycle"};
    for (size_t i = 0; i < sizeof trucks / sizeof *trucks; i++)
        if (!strcmp(vclass, trucks[i])) return EAI_SCENE_TRUCK;
    for (size_t i = 0; i < sizeof bikes / sizeof *bikes; i++)
        if (!strcmp(vclass, bikes[i])) return EAI_SCENE_BIKE;
    if (!strcmp(vclass, "pedestrian")) return EAI_SCENE_PERSON;
    return EAI_SCENE_CAR;
}

eai_scene_object_t eai_scene_object_from_sumo(int id, eai_scene_class_t cls, double sumo_x,
                                              double sumo_y, double angle_deg, double length,
                                              double width, double jx, double jy,
                                              uint32_t look_seed)
{
    eai_scene_object_t o = {0};
    double h = (90.0 - angle_deg) * 0.017453292519943295;
    double len = length > 0 ? length : 0.0;
    o.id = id;
    o.cls = cls;
    o.heading = (float)h;
    o.x = (float)(sumo_x - jx - 0.5 * len * cos(h));
    o.y = (float)(sumo_y - jy - 0.5 * len * sin(h));
    o.length = (float)len;
    o.width = width > 0 ? (float)width : 0.0f;
    uint64_t st = ((uint64_t)look_seed << 32) ^ (uint64_t)(uint32_t)id;
    o.look = (uint32_t)scn_next(&st);
    return o;
}
