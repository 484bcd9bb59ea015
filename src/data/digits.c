/* OpenCV's digits.png (opencv-doc: samples/data/digits.png, used by OpenCV's
 * digits.py and k-NN/SVM tutorials): one 2000x1000 grayscale sheet of 5,000
 * handwritten digits in 20x20 cells, 50 rows of 100; rows 5c..5c+4 are all
 * digit c. Samples come out row by row, left to right, as [1, 20, 20]. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "data/data_impl.h"
#include "stb_image.h"

#define DIGITS_PKG "Debian package opencv-doc ships it"
#define CELL       20
#define N_CLASSES  10

eai_status_t eai__digits_load(const char *path, const eai_dataset_opts_t *o, const char *spec,
                              eai_dataset_t **out)
{
    FILE *f = fopen(path, "rb");
    if (!f) return eai__fail_missing(path, errno, DIGITS_PKG);
    int w, h, c;
    unsigned char *px = stbi_load_from_file(f, &w, &h, &c, 1);
    fclose(f);
    if (!px)
        return eai_fail(EAI_E_FORMAT, "%s: not a decodable image (%s)", path,
                        stbi_failure_reason());
    /* The layout is the whole contract: whole cells, and equal bands per class. */
    if (w % CELL != 0 || h % (CELL * N_CLASSES) != 0 || w == 0 || h == 0) {
        stbi_image_free(px);
        return eai_fail(EAI_E_FORMAT,
                        "%s: %dx%d is not a sheet of 20x20 digits in 10 equal bands of rows "
                        "(digits.png is 2000x1000)",
                        path, w, h);
    }
    int cols = w / CELL, rows = h / CELL, rows_per_class = rows / N_CLASSES;
    int64_t n = (int64_t)cols * rows;
    if (o->max_samples > 0 && o->max_samples < n) n = o->max_samples;
    int64_t dims[3] = {1, CELL, CELL};
    eai_dataset_t *ds;
    eai_status_t st = eai__dataset_new(&o->alloc, spec, n, 3, dims, &ds);
    if (st != EAI_OK) {
        stbi_image_free(px);
        return st;
    }
    float lut[256];
    eai__pixel_lut(o, lut);
    for (int64_t i = 0; i < n; i++) {
        int r = (int)(i / cols), col = (int)(i % cols);
        float *dst = ds->x + i * CELL * CELL;
        for (int y = 0; y < CELL; y++)
            for (int x = 0; x < CELL; x++)
                dst[y * CELL + x] = lut[px[(size_t)(r * CELL + y) * (size_t)w + col * CELL + x]];
        ds->y[i] = r / rows_per_class;
    }
    stbi_image_free(px);
    ds->n_classes = N_CLASSES;
    *out = ds;
    return EAI_OK;
}
