/* dtype tables and IEEE half conversions. */
#include <string.h>

#include "edgeai/tensor.h"

size_t eai_dtype_size(eai_dtype_t t)
{
    switch (t) {
    case EAI_F32:
        return 4;
    case EAI_U8:
        return 1;
    case EAI_I8:
        return 1;
    case EAI_U16:
        return 2;
    case EAI_I16:
        return 2;
    case EAI_I32:
        return 4;
    case EAI_I64:
        return 8;
    case EAI_BOOL:
        return 1;
    case EAI_F16:
        return 2;
    case EAI_F64:
        return 8;
    default:
        return 0;
    }
}

const char *eai_dtype_name(eai_dtype_t t)
{
    switch (t) {
    case EAI_F32:
        return "float32";
    case EAI_U8:
        return "uint8";
    case EAI_I8:
        return "int8";
    case EAI_U16:
        return "uint16";
    case EAI_I16:
        return "int16";
    case EAI_I32:
        return "int32";
    case EAI_I64:
        return "int64";
    case EAI_BOOL:
        return "bool";
    case EAI_F16:
        return "float16";
    case EAI_F64:
        return "float64";
    default:
        return "undefined";
    }
}

int64_t eai_tensor_info_numel(const eai_tensor_info_t *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++)
        n *= t->dims[i];
    return n;
}

float eai_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ff;
    uint32_t bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            int e = -1;
            do {
                e++;
                man <<= 1;
            } while (!(man & 0x400));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ff) << 13);
        }
    } else if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t eai_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    uint32_t exp = (x >> 23) & 0xff;
    uint32_t man = x & 0x7fffff;
    if (exp == 0xff) /* inf or nan (keep a quiet nan bit) */
        return (uint16_t)(sign | 0x7c00 | (man ? 0x200 | (man >> 13) : 0));
    int32_t e = (int32_t)exp - 127 + 15;
    if (e >= 0x1f) return (uint16_t)(sign | 0x7c00);
    if (e <= 0) {
        if (e < -10) return (uint16_t)sign;
        man |= 0x800000;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = man >> shift;
        uint32_t rem = man & ((1u << shift) - 1);
        uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)e << 10) | (man >> 13);
    uint32_t rem = man & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1)))
        half++; /* may carry into the exponent, which is correct rounding */
    return (uint16_t)half;
}
