/* Built-in traffic: Poisson arrivals per approach, the intelligent driver
 * model (IDM) for car following, a split-phase signal (one arm green at a
 * time, so no movements conflict inside the junction) and pedestrians on the
 * sidewalks. Routes are polylines built once in arm 0's frame (approach from
 * the south, driving north) and rotated by 90 degrees per arm. */
#include <math.h>

#include "scene_impl.h"

#define YELLOW_S  3.0
#define ALLRED_S  1.0
#define SUBSTEP_S 0.05f

static void rot(int arm, float x, float y, float *ox, float *oy)
{
    static const float c[4] = {1, 0, -1, 0}, sn[4] = {0, 1, 0, -1};
    *ox = x * c[arm] - y * sn[arm];
    *oy = x * sn[arm] + y * c[arm];
}

static void push(scn_route_t *r, int arm, float x, float y)
{
    if (r->n >= SCN_ROUTE_PTS) return;
    rot(arm, x, y, &r->px[r->n], &r->py[r->n]);
    if (r->n == 0)
        r->cs[0] = 0;
    else
        r->cs[r->n] =
            r->cs[r->n - 1] + hypotf(r->px[r->n] - r->px[r->n - 1], r->py[r->n] - r->py[r->n - 1]);
    r->n++;
}

eai_status_t eai__scene_routes_build(eai_scene_t *s)
{
    float lw = s->cfg.lane_width, S = s->stop_d, L = SCN_WORLD_LEN, W = s->road_half;
    int lanes = s->cfg.lanes, n = 0;
    for (int arm = 0; arm < 4; arm++)
        for (int lane = 0; lane < lanes; lane++)
            for (int move = 0; move < 3; move++) {
                if (move == 1 && lane != lanes - 1) continue; /* right turns: kerb lane */
                if (move == 2 && lane != 0) continue;         /* left turns: inner lane */
                scn_route_t *r = &s->routes[n++];
                r->n = 0;
                float o = ((float)lane + 0.5f) * lw;
                push(r, arm, o, -L);
                push(r, arm, o, -S);
                r->stop_s = r->cs[1];
                /* exit point and a Bezier control point where the lane lines cross */
                float ex, ey, kx, ky;
                if (move == 0)
                    ex = o, ey = S, kx = o, ky = 0;
                else if (move == 1)
                    ex = S, ey = -o, kx = o, ky = -o;
                else
                    ex = -S, ey = o, kx = o, ky = o;
                for (int i = 1; i <= 12; i++) {
                    float t = (float)i / 12.0f, a = (1 - t) * (1 - t), b = 2 * (1 - t) * t,
                          c = t * t;
                    push(r, arm, a * o + b * kx + c * ex, a * -S + b * ky + c * ey);
                }
                float fx = move == 0 ? o : move == 1 ? L : -L;
                float fy = move == 0 ? L : move == 1 ? -o : o;
                push(r, arm, fx, fy);
                r->len = r->cs[r->n - 1];
                r->arm = arm;
                r->exit_arm = (arm + (move == 0 ? 2 : move == 1 ? 1 : 3)) % 4;
                r->lane = lane;
                r->move = move;
            }
    for (int arm = 0; arm < 4; arm++) /* sidewalks: both sides, both ways */
        for (int side = 0; side < 2; side++)
            for (int dir = 0; dir < 2; dir++) {
                scn_route_t *r = &s->routes[n++];
                r->n = 0;
                float x = (side ? 1.0f : -1.0f) * (W + 1.75f);
                float y0 = dir ? -SCN_PED_LEN : -(W + 1.75f),
                      y1 = dir ? -(W + 1.75f) : -SCN_PED_LEN;
                push(r, arm, x, y0);
                push(r, arm, x, y1);
                r->len = r->cs[1];
                r->stop_s = -1;
                r->arm = r->exit_arm = -1;
                r->lane = 0;
                r->move = 3;
            }
    s->n_routes = n;
    return EAI_OK;
}

void eai__scene_route_at(const scn_route_t *r, float sd, float *x, float *y, float *heading)
{
    int i = 0;
    while (i < r->n - 2 && r->cs[i + 1] < sd)
        i++;
    float seg = r->cs[i + 1] - r->cs[i];
    float t = seg > 0 ? (sd - r->cs[i]) / seg : 0;
    float dx = r->px[i + 1] - r->px[i], dy = r->py[i + 1] - r->py[i];
    *x = r->px[i] + t * dx;
    *y = r->py[i] + t * dy;
    *heading = atan2f(dy, dx);
}

int eai__scene_green(const eai_scene_t *s, double t, int *yellow_arm)
{
    double phase = s->cfg.cycle_s / 4.0, g = phase - YELLOW_S - ALLRED_S;
    double tc = fmod(t, s->cfg.cycle_s);
    if (tc < 0) tc += s->cfg.cycle_s;
    int arm = (int)(tc / phase);
    double in = tc - arm * phase;
    if (yellow_arm) *yellow_arm = (in >= g && in < g + YELLOW_S) ? (arm & 3) : -1;
    return in < g ? (arm & 3) : -1;
}

static void place(eai_scene_t *s, scn_agent_t *a)
{
    const scn_route_t *r = &s->routes[a->route];
    eai__scene_route_at(r, a->s, &a->x, &a->y, &a->heading);
    if (a->lat != 0) {
        a->x += -sinf(a->heading) * a->lat;
        a->y += cosf(a->heading) * a->lat;
    }
}

static scn_agent_t *free_agent(eai_scene_t *s)
{
    for (int i = 0; i < s->cfg.max_objects; i++)
        if (!s->agents[i].active) return &s->agents[i];
    return NULL;
}

/* True when nothing of class `ped` occupies the first `room` metres of any
 * route starting on the same road as route `ri`. */
static bool entry_free(const eai_scene_t *s, int ri, float room)
{
    const scn_route_t *r = &s->routes[ri];
    for (int i = 0; i < s->cfg.max_objects; i++) {
        const scn_agent_t *a = &s->agents[i];
        if (!a->active) continue;
        const scn_route_t *q = &s->routes[a->route];
        if (hypotf(q->px[0] - r->px[0], q->py[0] - r->py[0]) < 0.5f && a->s < room + a->len)
            return false;
    }
    return true;
}

static void spawn(eai_scene_t *s, int arm, bool ped)
{
    uint64_t *st = &s->rng;
    int ri;
    if (ped) {
        int nveh = s->n_routes - 16;
        ri = nveh + arm * 4 + (int)(scn_unif(st) * 4.0f) % 4;
    } else {
        float u = scn_unif(st);
        int move = u < 0.6f ? 0 : u < 0.8f ? 1 : 2;
        int lane = move == 1   ? s->cfg.lanes - 1
                   : move == 2 ? 0
                               : (int)(scn_unif(st) * s->cfg.lanes) % s->cfg.lanes;
        ri = -1;
        for (int i = 0; i < s->n_routes; i++)
            if (s->routes[i].arm == arm && s->routes[i].lane == lane && s->routes[i].move == move)
                ri = i;
        if (ri < 0) return;
    }
    if (!entry_free(s, ri, ped ? 1.0f : 8.0f)) return;
    scn_agent_t *a = free_agent(s);
    if (!a) return;
    *a = (scn_agent_t){0};
    a->active = true;
    a->is_ped = ped;
    a->route = ri;
    a->id = s->next_id++;
    a->look = (uint32_t)scn_next(st);
    if (ped) {
        a->cls = EAI_SCENE_PERSON;
        a->v0 = scn_range(st, 1.0f, 1.7f);
        a->lat = scn_range(st, -1.0f, 1.0f);
    } else {
        float u = scn_unif(st);
        a->cls = u < 0.78f ? EAI_SCENE_CAR : u < 0.89f ? EAI_SCENE_TRUCK : EAI_SCENE_BIKE;
        a->v0 = a->cls == EAI_SCENE_TRUCK  ? scn_range(st, 7, 11)
                : a->cls == EAI_SCENE_BIKE ? scn_range(st, 4, 12)
                                           : scn_range(st, 8, 14);
    }
    eai__scene_default_size(a->cls, a->look, &a->len, &a->wid, &a->hgt);
    a->s = 0.5f * a->len;
    a->v = 0.7f * a->v0;
    place(s, a);
    if (!ped) s->pending[arm]--;
}

/* IDM acceleration towards a leader `gap` metres ahead moving at `vl`. */
static float idm(const scn_agent_t *a, float v0, float gap, float vl)
{
    const float amax = a->cls == EAI_SCENE_TRUCK ? 0.9f : a->cls == EAI_SCENE_BIKE ? 2.0f : 1.5f;
    const float b = 2.5f, s0 = 2.0f, T = 1.2f;
    float acc = 1.0f - powf(a->v / v0, 4.0f);
    if (gap < 1e8f) {
        float ss = s0 + fmaxf(0.0f, a->v * T + a->v * (a->v - vl) / (2.0f * sqrtf(amax * b)));
        float g = fmaxf(gap, 0.1f);
        acc -= (ss / g) * (ss / g);
    }
    acc *= amax;
    return acc < -6.0f ? -6.0f : acc;
}

static void move_agent(eai_scene_t *s, scn_agent_t *a, float dt, int green, int yellow)
{
    const scn_route_t *r = &s->routes[a->route];
    float gap = 1e9f, vl = 0;
    float ch = cosf(a->heading), sn = sinf(a->heading);
    float lat_max = a->is_ped ? 0.5f : fmaxf(1.2f, 0.45f * s->cfg.lane_width);
    for (int i = 0; i < s->cfg.max_objects; i++) {
        const scn_agent_t *b = &s->agents[i];
        if (!b->active || b == a || b->is_ped != a->is_ped) continue;
        float dx = b->x - a->x, dy = b->y - a->y;
        float d = dx * ch + dy * sn, lat = fabsf(-dx * sn + dy * ch);
        /* ignore head-on neighbours: they are in the other direction's lane */
        if (d <= 0 || d > 60 || lat > lat_max || cosf(b->heading - a->heading) < 0) continue;
        float g = d - 0.5f * (a->len + b->len);
        if (g < gap) gap = g, vl = b->v;
    }
    float v0 = a->v0;
    if (!a->is_ped) {
        bool go = green == r->arm;
        float to_line = r->stop_s - (a->s + 0.5f * a->len);
        /* on yellow, drivers who could not stop comfortably (3 m/s^2) go on */
        if (!go && yellow == r->arm && to_line < a->v * a->v / 6.0f) go = true;
        if (!a->crossed && !go && to_line > -0.5f && to_line < gap) gap = to_line, vl = 0;
        if (r->move != 0 && a->s > r->stop_s - 25.0f && a->s < r->stop_s + 20.0f)
            v0 = fminf(v0, r->move == 1 ? 4.5f : 6.0f); /* slow for the turn */
    }
    float acc =
        a->is_ped ? (a->v0 - a->v) * 2.0f - (gap < 1.0f ? 5.0f : 0.0f) : idm(a, v0, gap, vl);
    a->v = fmaxf(0.0f, a->v + acc * dt);
    a->s += a->v * dt;
    if (!a->is_ped && !a->crossed && a->s + 0.5f * a->len > r->stop_s) {
        a->crossed = true;
        if (s->warm) s->crossings[r->arm]++;
    }
    if (a->s - 0.5f * a->len > r->len) {
        a->active = false;
        return;
    }
    place(s, a);
}

void eai__scene_sim_step(eai_scene_t *s, float dt)
{
    float rate = 6.0f * s->cfg.density / 60.0f; /* arrivals per second per approach */
    int n_sub = (int)ceilf(dt / SUBSTEP_S);
    float h = dt / (float)n_sub;
    for (int k = 0; k < n_sub; k++) {
        for (int arm = 0; arm < 4; arm++) {
            if (scn_unif(&s->rng) < rate * h && s->pending[arm] < 30) s->pending[arm]++;
            if (s->pending[arm] > 0) spawn(s, arm, false);
            if (!s->cfg.no_pedestrians && scn_unif(&s->rng) < 0.05f * s->cfg.density * h)
                spawn(s, arm, true);
        }
        int yellow;
        int green = eai__scene_green(s, s->sim_t, &yellow);
        for (int i = 0; i < s->cfg.max_objects; i++)
            if (s->agents[i].active) move_agent(s, &s->agents[i], h, green, yellow);
        s->sim_t += h;
    }
}
