/* Appearance: every object is built from its class and a 32-bit look seed
 * (body colour from a realistic palette, so many identities share a colour
 * and differ only in proportions, roof, stripes and lights), in its own
 * frame (x forward, y left, z up). Sizes are fractions of length/width/height
 * so SUMO's lengths reshape the same look. */
#include <math.h>

#include "scene_impl.h"

typedef struct {
    float p;
    uint8_t r, g, b;
} swatch_t;

/* Car colour shares roughly as reported for the European fleet: white,
 * black, grey and silver dominate, so colour alone rarely tells cars apart. */
static const swatch_t car_pal[] = {
    {0.21f, 228, 228, 224}, {0.17f, 24, 24, 28},   {0.15f, 160, 163, 168}, {0.13f, 96, 98, 102},
    {0.10f, 30, 60, 140},   {0.09f, 165, 25, 30},  {0.04f, 30, 80, 50},    {0.04f, 200, 190, 160},
    {0.03f, 110, 70, 40},   {0.02f, 230, 190, 30}, {0.02f, 230, 110, 20},
};
static const swatch_t heavy_pal[] = {
    {0.30f, 235, 235, 230}, {0.15f, 240, 200, 30}, {0.15f, 180, 30, 30},
    {0.15f, 40, 80, 160},   {0.10f, 40, 120, 70},  {0.15f, 120, 120, 125},
};
static const swatch_t cloth_pal[] = {
    {0.2f, 30, 30, 35},    {0.15f, 40, 50, 90},   {0.1f, 200, 200, 200},
    {0.1f, 170, 40, 40},   {0.1f, 60, 110, 170},  {0.1f, 90, 130, 60},
    {0.1f, 200, 170, 120}, {0.08f, 230, 200, 40}, {0.07f, 150, 80, 160},
};

static void pick(uint64_t *st, const swatch_t *pal, int n, uint8_t out[3])
{
    float u = scn_unif(st), acc = 0;
    int i = 0;
    for (; i < n - 1; i++) {
        acc += pal[i].p;
        if (u < acc) break;
    }
    /* small per-identity jitter: same swatch, not the same pixel value */
    int base[3] = {pal[i].r, pal[i].g, pal[i].b};
    int j = (int)scn_range(st, -12.0f, 12.0f);
    for (int c = 0; c < 3; c++) {
        int v = base[c] + j + (int)scn_range(st, -6.0f, 6.0f);
        out[c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
}

static void rgb_of(uint32_t x, uint8_t out[3])
{
    out[0] = (uint8_t)(x >> 16);
    out[1] = (uint8_t)(x >> 8);
    out[2] = (uint8_t)x;
}

void eai__scene_default_size(int cls, uint32_t look, float *len, float *wid, float *hgt)
{
    uint64_t st = (uint64_t)look * 0x2545F4914F6CDD1Dull + 11;
    switch (cls) {
    case EAI_SCENE_TRUCK:
        if (scn_unif(&st) < 0.5f) { /* bus */
            *len = scn_range(&st, 9.0f, 12.0f);
            *wid = 2.5f;
            *hgt = scn_range(&st, 2.9f, 3.3f);
        } else {
            *len = scn_range(&st, 6.5f, 9.0f);
            *wid = scn_range(&st, 2.3f, 2.5f);
            *hgt = scn_range(&st, 3.0f, 3.8f);
        }
        break;
    case EAI_SCENE_BIKE:
        *len = scn_range(&st, 1.7f, 2.1f);
        *wid = scn_range(&st, 0.6f, 0.8f);
        *hgt = scn_range(&st, 1.6f, 1.8f);
        break;
    case EAI_SCENE_PERSON:
        *len = scn_range(&st, 0.3f, 0.4f);
        *wid = scn_range(&st, 0.45f, 0.55f);
        *hgt = scn_range(&st, 1.55f, 1.9f);
        break;
    default: {
        float kind = scn_unif(&st);
        *len = scn_range(&st, 3.8f, 4.9f);
        *wid = scn_range(&st, 1.7f, 1.9f);
        *hgt = kind < 0.6f   ? scn_range(&st, 1.4f, 1.5f)
               : kind < 0.9f ? scn_range(&st, 1.6f, 1.75f)
                             : scn_range(&st, 1.9f, 2.1f);
    }
    }
}

static scn_part_t *add_part(scn_shape_t *sh, float x0, float x1, float y0, float y1, float z0,
                            float z1, const uint8_t rgb[3])
{
    if (sh->n_parts >= SCN_MAX_PARTS) return NULL;
    scn_part_t *p = &sh->part[sh->n_parts++];
    *p = (scn_part_t){x0, x1, y0, y1, z0, z1, {rgb[0], rgb[1], rgb[2]}};
    return p;
}

static void add_decal(scn_shape_t *sh, int part, int face, float a0, float a1, float b0, float b1,
                      const uint8_t rgb[3])
{
    if (sh->n_decals >= SCN_MAX_DECALS || part < 0) return;
    sh->decal[sh->n_decals++] =
        (scn_decal_t){(uint8_t)part, (uint8_t)face, a0, a1, b0, b1, {rgb[0], rgb[1], rgb[2]}};
}

static void car_shape(const scn_item_t *it, uint64_t *st, const uint8_t body[3], scn_shape_t *sh)
{
    const uint8_t tyre[3] = {22, 22, 24}, glass0[3] = {38, 48, 60}, head[3] = {235, 230, 200},
                  tail[3] = {190, 20, 25};
    float L = it->len, W = it->wid, H = it->hgt, hl = L / 2, hw = W / 2;
    bool tall = H > 1.8f; /* van: cabin over the whole length */
    float body_top = tall ? 0.55f * H : 0.58f * H;
    float front = tall ? 0.12f * L : scn_range(st, 0.22f, 0.32f) * L;
    float rear = tall ? 0.03f * L : scn_range(st, 0.04f, 0.2f) * L;
    uint8_t glass[3] = {glass0[0], glass0[1], glass0[2]};
    if (scn_unif(st) < 0.3f) glass[2] = 85; /* blue tint */
    add_part(sh, -hl + 0.5f, hl - 0.5f, -hw + 0.05f, hw - 0.05f, 0.0f, 0.33f, tyre);
    int b = sh->n_parts;
    add_part(sh, -hl, hl, -hw, hw, 0.25f, body_top, body);
    int c = sh->n_parts;
    add_part(sh, -hl + rear, hl - front, -hw + 0.1f, hw - 0.1f, body_top, H, glass);
    uint8_t roof[3] = {body[0], body[1], body[2]};
    if (scn_unif(st) < 0.12f) roof[0] = roof[1] = roof[2] = 20; /* black roof */
    add_decal(sh, c, 4, -hl + rear + 0.1f, hl - front - 0.1f, -hw + 0.15f, hw - 0.15f, roof);
    /* B-pillar in body colour splits the side windows */
    float px = 0.5f * ((-hl + rear) + (hl - front));
    for (int f = 2; f <= 3; f++)
        add_decal(sh, c, f, px - 0.08f, px + 0.08f, body_top, H, roof);
    add_decal(sh, b, 0, -hw + 0.1f, -hw + 0.4f, body_top - 0.2f, body_top - 0.05f, head);
    add_decal(sh, b, 0, hw - 0.4f, hw - 0.1f, body_top - 0.2f, body_top - 0.05f, head);
    add_decal(sh, b, 1, -hw + 0.1f, -hw + 0.35f, body_top - 0.2f, body_top - 0.05f, tail);
    add_decal(sh, b, 1, hw - 0.35f, hw - 0.1f, body_top - 0.2f, body_top - 0.05f, tail);
    if (scn_unif(st) < 0.2f) { /* racing / company stripe along both sides */
        uint8_t s[3] = {(uint8_t)(255 - body[0]), (uint8_t)(255 - body[1]),
                        (uint8_t)(scn_unif(st) < 0.5f ? 40 : 255 - body[2])};
        float z = scn_range(st, 0.4f, body_top - 0.15f);
        add_decal(sh, b, 2, -hl, hl, z, z + 0.12f, s);
        add_decal(sh, b, 3, -hl, hl, z, z + 0.12f, s);
    }
}

static void heavy_shape(const scn_item_t *it, uint64_t *st, const uint8_t body[3], scn_shape_t *sh)
{
    const uint8_t tyre[3] = {22, 22, 24}, glass[3] = {35, 45, 55};
    float L = it->len, W = it->wid, H = it->hgt, hl = L / 2, hw = W / 2;
    add_part(sh, -hl + 0.8f, hl - 0.8f, -hw + 0.1f, hw - 0.1f, 0.0f, 0.5f, tyre);
    if (L >= 9.0f && scn_unif(st) < 0.9f) { /* bus: one long box with a window band */
        int b = sh->n_parts;
        add_part(sh, -hl, hl, -hw, hw, 0.35f, H, body);
        add_decal(sh, b, 2, -hl + 0.4f, hl - 1.2f, 0.52f * H, 0.85f * H, glass);
        add_decal(sh, b, 3, -hl + 0.4f, hl - 0.4f, 0.52f * H, 0.85f * H, glass);
        add_decal(sh, b, 0, -hw + 0.1f, hw - 0.1f, 0.45f * H, 0.88f * H, glass);
        uint8_t roof[3] = {200, 200, 200};
        add_decal(sh, b, 4, -hl + 0.2f, hl - 0.2f, -hw + 0.2f, hw - 0.2f, roof);
        if (scn_unif(st) < 0.6f) {
            uint8_t s[3];
            pick(st, heavy_pal, 6, s);
            add_decal(sh, b, 2, -hl, hl, 0.28f * H, 0.38f * H, s);
            add_decal(sh, b, 3, -hl, hl, 0.28f * H, 0.38f * H, s);
        }
    } else { /* truck: cab in front, cargo box behind */
        float cab = scn_range(st, 1.9f, 2.4f);
        int c = sh->n_parts;
        add_part(sh, hl - cab, hl, -hw, hw, 0.4f, 0.78f * H, body);
        add_decal(sh, c, 0, -hw + 0.15f, hw - 0.15f, 0.5f * 0.78f * H + 0.3f, 0.74f * H, glass);
        uint8_t cargo[3] = {235, 235, 232};
        if (scn_unif(st) < 0.45f) pick(st, heavy_pal, 6, cargo);
        int g = sh->n_parts;
        add_part(sh, -hl, hl - cab - 0.15f, -hw, hw, 0.6f, H, cargo);
        if (scn_unif(st) < 0.7f) { /* logo panel */
            uint8_t s[3];
            pick(st, cloth_pal, 9, s);
            float a = scn_range(st, -hl + 0.3f, 0.0f), len = scn_range(st, 1.0f, 3.0f);
            float z = scn_range(st, 1.0f, H - 1.0f);
            add_decal(sh, g, 2, a, a + len, z, z + 0.8f, s);
            add_decal(sh, g, 3, a, a + len, z, z + 0.8f, s);
        }
    }
}

static void rider_shape(const scn_item_t *it, uint64_t *st, const uint8_t body[3], scn_shape_t *sh)
{
    float L = it->len, H = it->hgt, hl = L / 2;
    bool motor = scn_unif(st) < 0.6f;
    float fw = motor ? 0.22f : 0.07f;
    uint8_t frame[3] = {body[0], body[1], body[2]}, jacket[3], pants[3], helm[3];
    if (!motor) frame[0] = frame[1] = frame[2] = 40;
    pick(st, cloth_pal, 9, jacket);
    pick(st, cloth_pal, 9, pants);
    if (motor)
        pick(st, car_pal, 11, helm);
    else
        helm[0] = 60, helm[1] = 45, helm[2] = 35;
    add_part(sh, -hl, hl, -fw, fw, 0.0f, 0.52f * H, frame);
    add_part(sh, -0.25f, 0.2f, -0.2f, 0.2f, 0.3f * H, 0.52f * H, pants);
    add_part(sh, -0.3f, 0.12f, -0.22f, 0.22f, 0.52f * H, 0.86f * H, jacket);
    add_part(sh, -0.17f, 0.07f, -0.12f, 0.12f, 0.86f * H, H, helm);
}

static void person_shape(const scn_item_t *it, uint64_t *st, scn_shape_t *sh)
{
    float hl = it->len / 2, hw = it->wid / 2, H = it->hgt;
    uint8_t shirt[3], pants[3], skin[3], hair[3];
    pick(st, cloth_pal, 9, shirt);
    pick(st, cloth_pal, 9, pants);
    static const uint8_t skins[4][3] = {
        {235, 200, 170}, {200, 150, 110}, {150, 100, 70}, {95, 65, 45}};
    int k = (int)(scn_unif(st) * 4) & 3;
    for (int c = 0; c < 3; c++)
        skin[c] = skins[k][c];
    hair[0] = hair[1] = hair[2] = (uint8_t)scn_range(st, 20, 120);
    add_part(sh, -hl * 0.8f, hl * 0.8f, -hw * 0.8f, hw * 0.8f, 0.0f, 0.5f * H, pants);
    add_part(sh, -hl, hl, -hw, hw, 0.5f * H, 0.86f * H, shirt);
    int h = sh->n_parts;
    add_part(sh, -0.11f, 0.11f, -0.1f, 0.1f, 0.86f * H, H, skin);
    add_decal(sh, h, 4, -0.11f, 0.11f, -0.1f, 0.1f, hair);
    add_decal(sh, h, 1, -0.1f, 0.1f, 0.9f * H, H, hair);
}

void eai__scene_shape(const scn_item_t *it, scn_shape_t *sh)
{
    uint64_t st = (uint64_t)it->look * 0x9E3779B97F4A7C15ull + 0x1234567ull;
    uint8_t body[3];
    sh->n_parts = sh->n_decals = 0;
    if (it->cls == EAI_SCENE_TRUCK)
        pick(&st, heavy_pal, 6, body);
    else
        pick(&st, car_pal, 11, body);
    if (it->use_rgb) rgb_of(it->rgb, body);
    switch (it->cls) {
    case EAI_SCENE_TRUCK:
        heavy_shape(it, &st, body, sh);
        break;
    case EAI_SCENE_BIKE:
        rider_shape(it, &st, body, sh);
        break;
    case EAI_SCENE_PERSON:
        person_shape(it, &st, sh);
        break;
    default:
        car_shape(it, &st, body, sh);
    }
}
