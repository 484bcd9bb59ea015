/* Tests for the .npy reader and writer: files written by numpy
 * (tests/data/fixtures/npy, made by gen_npy_fixtures.py there), round trips for
 * every dtype, numpy reading our files back, and every malformed header we could
 * think of, each of which must fail with the right status and a message. */
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "edgeai/edgeai.h"
#include "edgeai/npy.h"

#define FIX EAI_SOURCE_DIR "/tests/data/fixtures/npy/"

static char tmpdir[256];
static const char *self_exe;

static int make_tmpdir(void **state)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/eai_test_npy.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    DIR *d = opendir(tmpdir);
    if (d) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
                if (remove(p) != 0) rmdir(p);
            }
        closedir(d);
    }
    rmdir(tmpdir);
    return 0;
}

static const char *tmp_path(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    return p;
}

/* Fails the test unless status and message are as expected. */
static void expect_fail(eai_status_t got, eai_status_t want, const char *label, const char *what)
{
    if (got != want)
        fail_msg("%s: got %s, want %s (%s)", what, eai_status_str(got), eai_status_str(want),
                 eai_last_error());
    const char *msg = eai_last_error();
    if (!label || !strstr(msg, label))
        fail_msg("%s: message '%s' does not name '%s'", what, msg, label ? label : "(null)");
}

static void expect_shape(const eai_npy_t *a, eai_dtype_t dt, int rank, const int64_t *dims)
{
    assert_int_equal(a->dtype, dt);
    assert_int_equal(a->rank, rank);
    size_t n = eai_dtype_size(dt);
    for (int i = 0; i < rank; i++) {
        assert_int_equal(a->dims[i], dims[i]);
        n *= (size_t)dims[i];
    }
    assert_int_equal(a->n_bytes, n);
    assert_non_null(a->data);
}

static void read_ok(const char *name, eai_npy_t *a)
{
    char p[512];
    snprintf(p, sizeof p, FIX "%s", name);
    eai_status_t st = eai_npy_read(p, a);
    if (st != EAI_OK) fail_msg("%s: %s", name, eai_last_error());
}

/* Reads fixture `name` and checks its dtype, shape and bytes against `want`. */
static void expect_fixture(const char *name, eai_dtype_t dt, int rank, const int64_t *dims,
                           const void *want, size_t want_bytes)
{
    eai_npy_t a;
    read_ok(name, &a);
    expect_shape(&a, dt, rank, dims);
    assert_memory_equal(a.data, want, want_bytes);
    eai_npy_free(&a);
}

/* Expected values restate gen_npy_fixtures.py's literals. */
static void test_numpy_fixtures(void **state)
{
    eai_npy_t a;
    read_ok("f32_2x3.npy", &a);
    expect_shape(&a, EAI_F32, 2, (int64_t[]){2, 3});
    for (int i = 0; i < 6; i++)
        assert_true(((float *)a.data)[i] == (float)i * 0.5f - 1.0f);
    eai_npy_free(&a);

    const double f64[] = {1.5, -2.25, 1e300, 0.1};
    expect_fixture("f64_be.npy", EAI_F64, 1, (int64_t[]){4}, f64, sizeof f64);

    const int64_t i64[] = {-1, (int64_t)1 << 40, -((int64_t)1 << 62)};
    expect_fixture("i64.npy", EAI_I64, 1, (int64_t[]){3}, i64, sizeof i64);

    const int32_t i32[] = {1, -2, 65536, INT32_MIN};
    expect_fixture("i32_be_2x2.npy", EAI_I32, 2, (int64_t[]){2, 2}, i32, sizeof i32);

    const int16_t i16[] = {-32768, 0, 32767};
    expect_fixture("i16.npy", EAI_I16, 1, (int64_t[]){3}, i16, sizeof i16);

    const int8_t i8[] = {-128, -1, 0, 127};
    expect_fixture("i8.npy", EAI_I8, 1, (int64_t[]){4}, i8, sizeof i8);

    read_ok("u8_2x2x2.npy", &a);
    expect_shape(&a, EAI_U8, 3, (int64_t[]){2, 2, 2});
    for (int i = 0; i < 8; i++)
        assert_int_equal(((uint8_t *)a.data)[i], i * 30);
    eai_npy_free(&a);

    const uint16_t u16[] = {1, 65535};
    expect_fixture("u16_be.npy", EAI_U16, 1, (int64_t[]){2}, u16, sizeof u16);

    /* IEEE half bit patterns: 1.0 = 0x3c00, -0.5 = 0xb800, 65504 = 0x7bff, 2.0 = 0x4000 */
    const uint16_t f16[] = {0x3c00, 0xb800, 0x7bff};
    expect_fixture("f16.npy", EAI_F16, 1, (int64_t[]){3}, f16, sizeof f16);
    const uint16_t f16be[] = {0x3c00, 0x4000};
    expect_fixture("f16_be.npy", EAI_F16, 1, (int64_t[]){2}, f16be, sizeof f16be);

    const uint8_t b[] = {1, 0, 1, 1, 0};
    expect_fixture("bool.npy", EAI_BOOL, 1, (int64_t[]){5}, b, sizeof b);

    read_ok("scalar_f32.npy", &a);
    expect_shape(&a, EAI_F32, 0, NULL);
    assert_true(*(float *)a.data == 3.25f);
    eai_npy_free(&a);

    read_ok("empty_0x3.npy", &a);
    expect_shape(&a, EAI_F32, 2, (int64_t[]){0, 3});
    assert_int_equal(a.n_bytes, 0);
    eai_npy_free(&a);
    assert_null(a.data);

    const float v2[] = {1, 2, 3};
    expect_fixture("v2_f32.npy", EAI_F32, 1, (int64_t[]){3}, v2, sizeof v2);

    const int64_t v3[] = {7, -7};
    expect_fixture("v3_i64.npy", EAI_I64, 1, (int64_t[]){2}, v3, sizeof v3);
}

static void test_numpy_fixtures_rejected(void **state)
{
    static const char *names[] = {"fortran_2x3.npy", "structured.npy", "u32.npy", "c64.npy",
                                  "rank9.npy"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[512];
        snprintf(p, sizeof p, FIX "%s", names[i]);
        eai_npy_t a;
        memset(&a, 0xab, sizeof a);
        expect_fail(eai_npy_read(p, &a), EAI_E_UNSUPPORTED, names[i], names[i]);
        assert_null(a.data);
        assert_int_equal(a.rank, 0);
    }
}

/* An .npy image with the given version and header text, the length field and
 * the data appended. Returns its size. */
static size_t make_npy(unsigned char *buf, size_t cap, int major, const char *hdr, const void *data,
                       size_t n_data)
{
    size_t pre = major == 1 ? 10 : 12, hl = strlen(hdr);
    assert_true(pre + hl + n_data <= cap);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    for (size_t i = 0; i < pre - 8; i++)
        buf[8 + i] = (unsigned char)(hl >> (8 * i));
    memcpy(buf + pre, hdr, hl);
    if (n_data) memcpy(buf + pre + hl, data, n_data);
    return pre + hl + n_data;
}

static void test_header_variants(void **state)
{
    static const struct {
        const char *hdr;
        eai_dtype_t dt;
        int rank;
        int64_t d0, d1;
    } ok[] = {
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", EAI_F32, 2, 2, 3},
        {"{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}", EAI_F32, 2, 2, 3},
        {"  {  \"descr\":\"<i8\" ,\t'fortran_order' :False,'shape':(3,)}   \n", EAI_I64, 1, 3, 0},
        {"{'descr': '<i4', 'fortran_order': False, 'shape': (2L, 3L), }\n", EAI_I32, 2, 2, 3},
        {"{'descr': '|u1', 'fortran_order': False, 'shape': (2,3,)}\n", EAI_U8, 2, 2, 3},
        {"{'descr': '=i2', 'fortran_order': False, 'shape': ( 6 , )}\n", EAI_I16, 1, 6, 0},
        {"{'descr': 'f8', 'fortran_order': False, 'shape': ()}\r\n", EAI_F64, 0, 0, 0},
        {"{'descr':'|b1','fortran_order':False,'shape':(\n1,\n2\n)}", EAI_BOOL, 2, 1, 2},
    };
    unsigned char data[64] = {0}, buf[256];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        eai_npy_t a;
        size_t es = eai_dtype_size(ok[i].dt);
        size_t nd =
            es * (size_t)(ok[i].rank == 0 ? 1 : ok[i].d0 * (ok[i].rank == 2 ? ok[i].d1 : 1));
        size_t n = make_npy(buf, sizeof buf, i % 2 ? 2 : 1, ok[i].hdr, data, nd);
        if (eai_npy_parse(buf, n, "variant", &a) != EAI_OK)
            fail_msg("header %zu: %s", i, eai_last_error());
        assert_int_equal(a.dtype, ok[i].dt);
        assert_int_equal(a.rank, ok[i].rank);
        if (ok[i].rank > 0) assert_int_equal(a.dims[0], ok[i].d0);
        if (ok[i].rank > 1) assert_int_equal(a.dims[1], ok[i].d1);
        assert_int_equal(a.n_bytes, nd);
        eai_npy_free(&a);
    }
}

/* Big-endian data is swapped and non-canonical bools read as 0/1. */
static void test_byte_order_and_bools(void **state)
{
    unsigned char buf[256];
    /* 1.0f = 0x3f800000, -2.0f = 0xc0000000, written most significant byte first */
    const unsigned char be[] = {0x3f, 0x80, 0, 0, 0xc0, 0, 0, 0};
    size_t n = make_npy(buf, sizeof buf, 1,
                        "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }\n", be, 8);
    eai_npy_t a;
    assert_int_equal(eai_npy_parse(buf, n, NULL, &a), EAI_OK);
    assert_true(((float *)a.data)[0] == 1.0f && ((float *)a.data)[1] == -2.0f);
    eai_npy_free(&a);

    const unsigned char bytes[] = {0, 1, 2, 255};
    n = make_npy(buf, sizeof buf, 1, "{'descr': '|b1', 'fortran_order': False, 'shape': (4,)}",
                 bytes, 4);
    assert_int_equal(eai_npy_parse(buf, n, NULL, &a), EAI_OK);
    assert_memory_equal(a.data, ((uint8_t[]){0, 1, 1, 1}), 4);
    eai_npy_free(&a);
}

static const struct bad {
    const char *hdr;
    size_t n_data;
    eai_status_t st;
    const char *why; /* a word the message must contain */
} bad_headers[] = {
    {"", 0, EAI_E_FORMAT, "'{'"},
    {"descr", 0, EAI_E_FORMAT, "'{'"},
    {"{", 0, EAI_E_FORMAT, "end of the header"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", 4, EAI_E_FORMAT, "'}'"},
    {"{'descr': '<f4', 'fortran_order': False}", 4, EAI_E_FORMAT, "'shape'"},
    {"{'descr': '<f4', 'shape': (1,)}", 4, EAI_E_FORMAT, "'fortran_order'"},
    {"{'fortran_order': False, 'shape': (1,)}", 4, EAI_E_FORMAT, "'descr'"},
    {"{}", 0, EAI_E_FORMAT, "no 'descr'"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", 4, EAI_E_FORMAT,
     "unexpected key 'extra'"},
    {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", 4, EAI_E_FORMAT,
     "twice"},
    {"{'descr: '<f4', 'fortran_order': False, 'shape': (1,)}", 4, EAI_E_FORMAT, "unexpected key"},
    {"{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}", 4, EAI_E_FORMAT, "not a NumPy"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", 4, EAI_E_FORMAT, "padding"},
    {"{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}", 4, EAI_E_FORMAT, "','"},
    {"{'descr' '<f4', 'fortran_order': False, 'shape': (1,)}", 4, EAI_E_FORMAT, "':'"},
    {"{descr: '<f4', 'fortran_order': False, 'shape': (1,)}", 4, EAI_E_FORMAT, "quoted"},
    /* descr */
    {"{'descr': 4, 'fortran_order': False, 'shape': (1,)}", 4, EAI_E_FORMAT, "quoted"},
    {"{'descr': '', 'fortran_order': False, 'shape': (1,)}", 4, EAI_E_FORMAT, "not a NumPy"},
    {"{'descr': '<', 'fortran_order': False, 'shape': (1,)}", 4, EAI_E_FORMAT, "not a NumPy"},
    {"{'descr': 'float32', 'fortran_order': False, 'shape': (1,)}", 4, EAI_E_FORMAT, "not a NumPy"},
    {"{'descr': '<f4<f4<f4<f4<f4<f4<f4<f4<f4<f4', 'fortran_order': False, 'shape': (1,)}", 4,
     EAI_E_FORMAT, "not a NumPy"},
    {"{'descr': '<u4', 'fortran_order': False, 'shape': (1,)}", 4, EAI_E_UNSUPPORTED, "'<u4'"},
    {"{'descr': '<c8', 'fortran_order': False, 'shape': (1,)}", 8, EAI_E_UNSUPPORTED, "'<c8'"},
    {"{'descr': '|O', 'fortran_order': False, 'shape': (1,)}", 8, EAI_E_FORMAT, "not a NumPy"},
    {"{'descr': '|O8', 'fortran_order': False, 'shape': (1,)}", 8, EAI_E_UNSUPPORTED, "'|O8'"},
    {"{'descr': '<U3', 'fortran_order': False, 'shape': (1,)}", 12, EAI_E_UNSUPPORTED, "'<U3'"},
    {"{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (1,)}", 4, EAI_E_UNSUPPORTED,
     "structured"},
    /* fortran_order */
    {"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2)}", 16, EAI_E_UNSUPPORTED, "Fortran"},
    {"{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", 4, EAI_E_FORMAT, "True or False"},
    {"{'descr': '<f4', 'fortran_order': Falsey, 'shape': (1,)}", 4, EAI_E_FORMAT, "True or False"},
    {"{'descr': '<f4', 'fortran_order': 'False', 'shape': (1,)}", 4, EAI_E_FORMAT, "True or False"},
    /* shape */
    {"{'descr': '<f4', 'fortran_order': False, 'shape': 3}", 12, EAI_E_FORMAT, "'('"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': [3]}", 12, EAI_E_FORMAT, "'('"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (3)}", 12, EAI_E_FORMAT, "not a tuple"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", 4, EAI_E_FORMAT, "negative"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3)}", 4, EAI_E_FORMAT, "negative"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,,3)}", 24, EAI_E_FORMAT, "dimension"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2 3)}", 24, EAI_E_FORMAT, "','"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (,)}", 0, EAI_E_FORMAT, "dimension"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3", 24, EAI_E_FORMAT, "end"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,)}", 8, EAI_E_FORMAT, "','"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (0x10,)}", 64, EAI_E_FORMAT, "','"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (a,)}", 4, EAI_E_FORMAT, "dimension"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", 4, EAI_E_FORMAT,
     "64 bits"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775807,)}", 4, EAI_E_FORMAT,
     "memory"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", 4, EAI_E_FORMAT,
     "64 bits"},
    {"{'descr': '|u1', 'fortran_order': False, 'shape': (1099511627776,)}", 4, EAI_E_FORMAT,
     "truncated"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1)}", 4, EAI_E_UNSUPPORTED,
     "rank 9"},
    /* data size */
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", 23, EAI_E_FORMAT, "truncated"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", 25, EAI_E_FORMAT, "after"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': ()}", 0, EAI_E_FORMAT, "truncated"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (0,)}", 1, EAI_E_FORMAT, "after"},
};

static void test_malformed_headers(void **state)
{
    static unsigned char data[64], buf[512];
    for (size_t i = 0; i < sizeof bad_headers / sizeof bad_headers[0]; i++) {
        const struct bad *b = &bad_headers[i];
        size_t n = make_npy(buf, sizeof buf, 1, b->hdr, data, b->n_data);
        char label[32];
        snprintf(label, sizeof label, "bad%zu.npy", i);
        eai_npy_t a;
        memset(&a, 0xcd, sizeof a);
        eai_status_t st = eai_npy_parse(buf, n, label, &a);
        char what[300];
        snprintf(what, sizeof what, "case %zu %s", i, b->hdr);
        expect_fail(st, b->st, label, what);
        if (!strstr(eai_last_error(), b->why))
            fail_msg("%s: message '%s' lacks '%s'", what, eai_last_error(), b->why);
        assert_null(a.data);
        assert_int_equal(a.n_bytes, 0);
    }
}

static void test_malformed_preamble(void **state)
{
    unsigned char buf[256];
    const char *hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}";
    const float one = 1.0f;
    size_t n = make_npy(buf, sizeof buf, 1, hdr, &one, 4);
    eai_npy_t a;
    assert_int_equal(eai_npy_parse(buf, n, "good", &a), EAI_OK);
    eai_npy_free(&a);

    /* every prefix of a valid file is truncated somewhere */
    for (size_t k = 0; k < n; k++) {
        char what[64];
        snprintf(what, sizeof what, "prefix of %zu bytes", k);
        expect_fail(eai_npy_parse(buf, k, "prefix", &a), EAI_E_FORMAT, "prefix", what);
    }
    expect_fail(eai_npy_parse(NULL, 0, "nothing", &a), EAI_E_FORMAT, "nothing", "empty");
    assert_non_null(strstr(eai_last_error(), "empty"));

    unsigned char bad[256];
    memcpy(bad, buf, n);
    bad[0] = 0x92;
    expect_fail(eai_npy_parse(bad, n, "magic", &a), EAI_E_FORMAT, "magic", "magic");
    expect_fail(eai_npy_parse("PK\3\4", 4, "zip", &a), EAI_E_FORMAT, "zip", "zip magic");
    memcpy(bad, buf, n);
    bad[6] = 4;
    expect_fail(eai_npy_parse(bad, n, "v4", &a), EAI_E_UNSUPPORTED, "v4", "version 4.0");
    bad[6] = 0;
    expect_fail(eai_npy_parse(bad, n, "v0", &a), EAI_E_UNSUPPORTED, "v0", "version 0.0");
    bad[6] = 1;
    bad[7] = 1;
    expect_fail(eai_npy_parse(bad, n, "v1.1", &a), EAI_E_UNSUPPORTED, "v1.1", "version 1.1");
    /* a NUL in the padding (the header length covers it) */
    n = make_npy(buf, sizeof buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} X",
                 &one, 4);
    buf[10 + strlen(hdr) + 1] = '\0';
    expect_fail(eai_npy_parse(buf, n, "nul", &a), EAI_E_FORMAT, "nul", "NUL padding");
    assert_non_null(strstr(eai_last_error(), "padding"));
    n = make_npy(buf, sizeof buf, 1, hdr, &one, 4);
    /* header length past the end, and a v2 length of 4 GiB */
    memcpy(bad, buf, n);
    bad[8] = 0xff;
    bad[9] = 0xff;
    expect_fail(eai_npy_parse(bad, n, "hlen", &a), EAI_E_FORMAT, "hlen", "long header");
    n = make_npy(buf, sizeof buf, 2, hdr, &one, 4);
    buf[11] = 0xff;
    expect_fail(eai_npy_parse(buf, n, "hlen2", &a), EAI_E_FORMAT, "hlen2", "4 GiB header");
    assert_non_null(strstr(eai_last_error(), "implausibly"));
    /* the header length one short and one long */
    n = make_npy(buf, sizeof buf, 1, hdr, &one, 4);
    buf[8]--;
    expect_fail(eai_npy_parse(buf, n, "short", &a), EAI_E_FORMAT, "short", "hlen - 1");
    buf[8] += 2;
    expect_fail(eai_npy_parse(buf, n, "long", &a), EAI_E_FORMAT, "long", "hlen + 1");
}

static void test_bad_arguments(void **state)
{
    eai_npy_t a;
    assert_int_equal(eai_npy_parse("x", 1, "l", NULL), EAI_E_INVALID);
    assert_int_equal(eai_npy_parse(NULL, 5, "l", &a), EAI_E_INVALID);
    assert_int_equal(eai_npy_read(NULL, &a), EAI_E_INVALID);
    assert_int_equal(eai_npy_read(FIX "i8.npy", NULL), EAI_E_INVALID);
    eai_npy_free(NULL);
    memset(&a, 0, sizeof a);
    eai_npy_free(&a);

    const int64_t d[] = {2};
    const float x[2] = {0};
    const char *p = tmp_path("bad.npy");
    expect_fail(eai_npy_write(p, EAI_DTYPE_UNDEFINED, 1, d, x), EAI_E_INVALID, p, "dtype 0");
    expect_fail(eai_npy_write(p, (eai_dtype_t)99, 1, d, x), EAI_E_INVALID, p, "dtype 99");
    expect_fail(eai_npy_write(p, EAI_F32, 9, (int64_t[9]){1}, x), EAI_E_INVALID, p, "rank 9");
    expect_fail(eai_npy_write(p, EAI_F32, -1, d, x), EAI_E_INVALID, p, "rank -1");
    expect_fail(eai_npy_write(p, EAI_F32, 1, NULL, x), EAI_E_INVALID, p, "NULL dims");
    expect_fail(eai_npy_write(p, EAI_F32, 1, d, NULL), EAI_E_INVALID, p, "NULL data");
    expect_fail(eai_npy_write(p, EAI_F32, 1, (int64_t[]){-2}, x), EAI_E_INVALID, p, "neg dim");
    expect_fail(eai_npy_write(p, EAI_F32, 2, (int64_t[]){INT64_MAX, 2}, x), EAI_E_INVALID, p,
                "overflow");
    assert_int_equal(eai_npy_write(NULL, EAI_F32, 1, d, x), EAI_E_INVALID);
    assert_int_equal(access(p, F_OK), -1); /* nothing was created */
}

/* Files that aren't there or can't be what they claim, read from disk. */
static void test_read_file_errors(void **state)
{
    eai_npy_t a;
    const char *p = tmp_path("missing.npy");
    expect_fail(eai_npy_read(p, &a), EAI_E_IO, p, "missing");
    expect_fail(eai_npy_read(tmpdir, &a), EAI_E_IO, tmpdir, "directory");

    /* A header claiming 2^40 bytes on a small file: FORMAT, before allocating. */
    unsigned char buf[256];
    size_t n = make_npy(buf, sizeof buf, 1,
                        "{'descr': '|u1', 'fortran_order': False, 'shape': (1099511627776,)}\n",
                        "abcd", 4);
    char path[512];
    static const size_t cuts[] = {0, 3, 9, 20};
    snprintf(path, sizeof path, "%s", tmp_path("huge.npy"));
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, n, f), n);
    fclose(f);
    expect_fail(eai_npy_read(path, &a), EAI_E_FORMAT, path, "huge claim");
    assert_non_null(strstr(eai_last_error(), "truncated"));

    /* truncated files on disk: in the preamble, the length, the header, the data */
    const float v[3] = {1, 2, 3};
    assert_int_equal(eai_npy_write(path, EAI_F32, 1, (int64_t[]){3}, v), EAI_OK);
    f = fopen(path, "rb");
    assert_non_null(f);
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_int_equal(n, 128 + 12); /* 69 header bytes padded to 128, as numpy does */
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0] + 2; i++) {
        size_t k = i < 4 ? cuts[i] : (i == 4 ? n - 1 : n + 1);
        buf[n] = 0;
        f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(buf, 1, k, f), k);
        fclose(f);
        char what[64];
        snprintf(what, sizeof what, "file of %zu bytes", k);
        expect_fail(eai_npy_read(path, &a), EAI_E_FORMAT, path, what);
    }
}

static void count_tmp_files(int *n_tmp)
{
    DIR *d = opendir(tmpdir);
    assert_non_null(d);
    struct dirent *e;
    *n_tmp = 0;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".tmp.")) (*n_tmp)++;
    closedir(d);
}

/* Every dtype, several ranks: write, read back, compare bits; the data starts
 * on a 64-byte boundary as numpy writes it. */
static void test_roundtrip(void **state)
{
    static const eai_dtype_t types[] = {EAI_F32, EAI_F16, EAI_F64, EAI_I64, EAI_I32,
                                        EAI_I16, EAI_I8,  EAI_U8,  EAI_U16, EAI_BOOL};
    static const struct {
        int rank;
        int64_t dims[EAI_MAX_RANK];
    } shapes[] = {{0, {0}}, {1, {5}}, {2, {3, 4}}, {3, {0, 2, 2}}, {8, {1, 2, 1, 3, 1, 2, 1, 2}}};
    unsigned char src[8 * 64];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (unsigned char)(i * 37 + 11);
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            const char *p = tmp_path("rt.npy");
            unsigned char data[sizeof src];
            memcpy(data, src, sizeof src);
            if (types[t] == EAI_BOOL)
                for (size_t i = 0; i < sizeof data; i++)
                    data[i] &= 1;
            eai_status_t st = eai_npy_write(p, types[t], shapes[s].rank, shapes[s].dims, data);
            if (st != EAI_OK)
                fail_msg("write %s rank %d: %s", eai_dtype_name(types[t]), shapes[s].rank,
                         eai_last_error());
            eai_npy_t a;
            assert_int_equal(eai_npy_read(p, &a), EAI_OK);
            expect_shape(&a, types[t], shapes[s].rank, shapes[s].dims);
            if (a.n_bytes) assert_memory_equal(a.data, data, a.n_bytes);
            struct stat sb;
            assert_int_equal(stat(p, &sb), 0);
            assert_int_equal(((size_t)sb.st_size - a.n_bytes) % 64, 0);
            assert_int_equal(sb.st_mode & 0777, 0644);
            eai_npy_free(&a);
        }
    }
    int n_tmp;
    count_tmp_files(&n_tmp);
    assert_int_equal(n_tmp, 0);
}

/* Byte for byte what np.save wrote for the same array (numpy 1.24 fixture). */
static void test_same_bytes_as_numpy(void **state)
{
    float v[6];
    for (int i = 0; i < 6; i++)
        v[i] = (float)i * 0.5f - 1.0f;
    const char *p = tmp_path("same.npy");
    assert_int_equal(eai_npy_write(p, EAI_F32, 2, (int64_t[]){2, 3}, v), EAI_OK);
    unsigned char ours[512], theirs[512];
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    size_t n1 = fread(ours, 1, sizeof ours, f);
    fclose(f);
    f = fopen(FIX "f32_2x3.npy", "rb");
    assert_non_null(f);
    size_t n2 = fread(theirs, 1, sizeof theirs, f);
    fclose(f);
    assert_int_equal(n1, n2);
    assert_memory_equal(ours, theirs, n1);
}

/* Replacing a file goes through a temporary file; a failed write leaves the
 * destination alone and no temporary behind. */
static void test_atomic_write(void **state)
{
    const char *p = tmp_path("atomic.npy");
    char path[512];
    snprintf(path, sizeof path, "%s", p);
    const int32_t a1[] = {1, 2, 3}, a2[] = {4, 5};
    assert_int_equal(eai_npy_write(path, EAI_I32, 1, (int64_t[]){3}, a1), EAI_OK);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(eai_npy_write(path, EAI_I32, 1, (int64_t[]){2}, a2), EAI_OK);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600); /* kept the replaced file's mode */
    eai_npy_t a;
    assert_int_equal(eai_npy_read(path, &a), EAI_OK);
    assert_int_equal(a.dims[0], 2);
    assert_memory_equal(a.data, a2, sizeof a2);
    eai_npy_free(&a);

    /* rename over a non-empty directory fails after the data was written */
    char dir[512], inner[600];
    snprintf(dir, sizeof dir, "%s", tmp_path("adir"));
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(inner, sizeof inner, "%s/keep", dir);
    FILE *f = fopen(inner, "w");
    assert_non_null(f);
    fclose(f);
    expect_fail(eai_npy_write(dir, EAI_I32, 1, (int64_t[]){3}, a1), EAI_E_IO, dir, "onto dir");
    assert_non_null(strstr(eai_last_error(), "rename"));
    assert_int_equal(access(inner, F_OK), 0);
    int n_tmp;
    count_tmp_files(&n_tmp);
    assert_int_equal(n_tmp, 0);
    remove(inner);
    rmdir(dir);

    snprintf(dir, sizeof dir, "%s/no/such/dir/x.npy", tmpdir);
    expect_fail(eai_npy_write(dir, EAI_I32, 1, (int64_t[]){3}, a1), EAI_E_IO, dir, "no dir");
}

/* numpy reads what we write (needs /usr/bin/python3 with numpy; skipped otherwise). */
static void test_numpy_reads_ours(void **state)
{
    if (system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
        skip();
        return;
    }
    const float f32[] = {-1.5f, 0.25f, 3.0f, 1e-3f, 7.0f, -8.0f};
    const int64_t i64[] = {-3, (int64_t)1 << 50};
    const uint16_t f16[] = {0x3c00, 0xc000}; /* 1.0, -2.0 */
    const uint8_t b[] = {1, 0, 1};
    const int16_t i16 = -300;
    char p[4][512];
    snprintf(p[0], sizeof p[0], "%s", tmp_path("np_f32.npy"));
    snprintf(p[1], sizeof p[1], "%s", tmp_path("np_i64.npy"));
    snprintf(p[2], sizeof p[2], "%s", tmp_path("np_f16.npy"));
    snprintf(p[3], sizeof p[3], "%s", tmp_path("np_b.npy"));
    assert_int_equal(eai_npy_write(p[0], EAI_F32, 2, (int64_t[]){2, 3}, f32), EAI_OK);
    assert_int_equal(eai_npy_write(p[1], EAI_I64, 1, (int64_t[]){2}, i64), EAI_OK);
    assert_int_equal(eai_npy_write(p[2], EAI_F16, 2, (int64_t[]){1, 2}, f16), EAI_OK);
    assert_int_equal(eai_npy_write(p[3], EAI_BOOL, 1, (int64_t[]){3}, b), EAI_OK);
    assert_int_equal(eai_npy_write(tmp_path("np_i16.npy"), EAI_I16, 0, NULL, &i16), EAI_OK);
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"\n"
             "import numpy as np, sys\n"
             "d = sys.argv[1]\n"
             "def chk(n, want):\n"
             "    a = np.load(d + '/' + n, allow_pickle=False)\n"
             "    assert a.dtype == want.dtype and a.shape == want.shape, (n, a.dtype, a.shape)\n"
             "    assert (a == want).all(), (n, a, want)\n"
             "chk('np_f32.npy', np.array([[-1.5, 0.25, 3.0], [1e-3, 7.0, -8.0]], np.float32))\n"
             "chk('np_i64.npy', np.array([-3, 2**50], np.int64))\n"
             "chk('np_f16.npy', np.array([[1.0, -2.0]], np.float16))\n"
             "chk('np_b.npy', np.array([True, False, True]))\n"
             "chk('np_i16.npy', np.array(-300, np.int16))\n"
             "\" %s",
             tmpdir);
    assert_int_equal(system(cmd), 0);
}

/* EAI_TEST_FAIL_ALLOC=n fails the n-th allocation of a process, so each count
 * runs in a fresh child (this binary with --oom-child). Every failure must be
 * EAI_E_NOMEM with a message, never a crash. */
static int oom_child(void)
{
    eai_npy_t a;
    eai_status_t st = eai_npy_read(FIX "f32_2x3.npy", &a);
    if (st == EAI_OK) {
        eai_npy_free(&a);
        unsigned char buf[256];
        size_t n = make_npy(buf, sizeof buf, 1,
                            "{'descr': '<i2', 'fortran_order': False, 'shape': (1,)}", "ab", 2);
        st = eai_npy_parse(buf, n, "mem", &a);
        eai_npy_free(&a);
    }
    if (st == EAI_OK) {
        char p[] = "/tmp/eai_test_npy_oom.XXXXXX";
        int fd = mkstemp(p);
        if (fd < 0) return 3;
        close(fd);
        st = eai_npy_write(p, EAI_U8, 1, (int64_t[]){2}, "xy");
        remove(p);
    }
    if (st == EAI_OK) return 0;
    return st == EAI_E_NOMEM && eai_last_error()[0] ? 10 : 1;
}

static void test_out_of_memory(void **state)
{
    if (!self_exe) {
        skip();
        return;
    }
    int n_nomem = 0;
    for (int k = 1; k <= 8; k++) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "EAI_TEST_FAIL_ALLOC=%d '%s' --oom-child", k, self_exe);
        int rc = system(cmd);
        assert_true(WIFEXITED(rc));
        int code = WEXITSTATUS(rc);
        if (code != 0 && code != 10) fail_msg("allocation %d failing: child exit %d", k, code);
        n_nomem += code == 10;
        if (code == 0) break; /* past the last allocation */
    }
    assert_int_equal(n_nomem, 4); /* header text, data, parsed data, temp name */
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--oom-child")) return oom_child();
    static char exe[1024];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        self_exe = exe;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numpy_fixtures),    cmocka_unit_test(test_numpy_fixtures_rejected),
        cmocka_unit_test(test_header_variants),   cmocka_unit_test(test_byte_order_and_bools),
        cmocka_unit_test(test_malformed_headers), cmocka_unit_test(test_malformed_preamble),
        cmocka_unit_test(test_bad_arguments),     cmocka_unit_test(test_read_file_errors),
        cmocka_unit_test(test_roundtrip),         cmocka_unit_test(test_same_bytes_as_numpy),
        cmocka_unit_test(test_atomic_write),      cmocka_unit_test(test_numpy_reads_ours),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
