/* `edgeai track perturb | run | eval` end to end on a small hand-made
 * sequence (the CLI binary comes from EAI_CLI, set by CTest; skipped
 * without it). Two objects 100 px apart moving 2 px per frame for 12
 * frames: with exact detections (perturb at zero noise) SORT reports every
 * box (frames 1-3 by its start-up rule, then with a streak >= 3), so TP =
 * 24, FP = FN = IDSW = 0: MOTA = IDF1 = 100. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[64];
static const char *cli;

static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

static double json_num(const char *js, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(js, k);
    assert_non_null(p);
    return strtod(p + strlen(k), NULL);
}

static int setup(void **s)
{
    (void)s;
    cli = getenv("EAI_CLI");
    snprintf(dir, sizeof dir, "/tmp/eai_track_cli_XXXXXX");
    if (!mkdtemp(dir)) return -1;
    char p[128];
    snprintf(p, sizeof p, "%s/gt.txt", dir);
    FILE *f = fopen(p, "w");
    if (!f) return -1;
    for (int fr = 1; fr <= 12; fr++) {
        fprintf(f, "%d,1,%d,50,30,60,1,1,1\n", fr, 10 + 2 * fr);
        fprintf(f, "%d,2,%d,50,30,60,1,1,1\n", fr, 110 + 2 * fr);
    }
    fclose(f);
    return 0;
}

static int teardown(void **s)
{
    (void)s;
    sh("rm -rf '%s'", dir);
    return 0;
}

static void test_perturb_run_eval(void **s)
{
    (void)s;
    if (!cli) skip();
    assert_int_equal(sh("%s track perturb %s/gt.txt --miss 0 --fp 0 --jitter 0 --seed 1 -o "
                        "%s/det.txt 2>/dev/null",
                        cli, dir, dir),
                     0);
    assert_int_equal(
        sh("%s track run --tracker sort --det %s/det.txt -o %s/res.txt 2>/dev/null", cli, dir, dir),
        0);
    assert_int_equal(
        sh("%s track eval %s/gt.txt %s/res.txt --json > %s/m.json", cli, dir, dir, dir), 0);
    char p[128];
    snprintf(p, sizeof p, "%s/m.json", dir);
    const char *js = slurp(p);
    assert_non_null(js);
    assert_true(json_num(js, "CLR_TP") == 24);
    assert_true(json_num(js, "IDSW") == 0);
    assert_true(json_num(js, "MOTA") > 99.999);
    assert_true(json_num(js, "IDF1") > 99.999);
    /* a 50 % miss rate at a fixed seed is reproducible */
    assert_int_equal(sh("%s track perturb %s/gt.txt --miss 0.5 --fp 0.5 --jitter 0.1 --seed 7 -o "
                        "%s/a.txt 2>/dev/null && %s track perturb %s/gt.txt --miss 0.5 --fp 0.5 "
                        "--jitter 0.1 --seed 7 -o %s/b.txt 2>/dev/null && cmp -s %s/a.txt %s/b.txt",
                        cli, dir, dir, cli, dir, dir, dir, dir),
                     0);
}

static void test_bad_input(void **s)
{
    (void)s;
    if (!cli) skip();
    assert_int_equal(sh("printf '1,1,0,0,5,5\\n' > %s/bad.txt", dir), 0);
    assert_int_equal(sh("%s track eval %s/bad.txt %s/bad.txt 2> %s/err.txt", cli, dir, dir, dir),
                     1);
    char p[128];
    snprintf(p, sizeof p, "%s/err.txt", dir);
    const char *e = slurp(p);
    assert_non_null(e);
    assert_non_null(strstr(e, "line 1: 6 fields"));
    assert_int_equal(
        sh("%s track run --tracker kcf --det %s/gt.txt -o %s/x.txt 2>/dev/null", cli, dir, dir), 2);
    assert_int_equal(sh("%s track run --tracker deepsort --det %s/gt.txt -o %s/x.txt 2>/dev/null",
                        cli, dir, dir),
                     2);
    assert_int_equal(sh("%s track bogus 2>/dev/null", cli), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_perturb_run_eval),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
