/* A SCAFFOLD simulation checkpointed after round 2 and resumed for round 3
 * ends bit-identical to the uninterrupted 3-round run (the final models,
 * written with out_model, are equal byte for byte), because the checkpoint
 * carries every client's c_i. Control: the same checkpoint with its c_i
 * block emptied (CRC fixed) resumes to a different model, so the c_i are
 * what makes it exact; a damaged block is EAI_E_FORMAT. Fashion-MNIST subset
 * (1,000 train / 300 test), 5 clients, 3 of 5 sampled per round; and the
 * same with two gateways (HierFAVG), whose cloud sync the resume redoes.
 * Skips without the data set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "edgeai/fl.h"
#include "plan/plan_impl.h"

#define MODEL EAI_SOURCE_DIR "/models/train/cnn_fmnist.onnx"

static bool have_data(void)
{
    const char *d = getenv("EAI_FASHION_MNIST_DIR");
    char p[512];
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte.gz",
             d ? d : "/usr/share/datasets/fashion-mnist");
    return access(p, R_OK) == 0 && access(MODEL, R_OK) == 0;
}

static eai_fl_sim_opts_t base(void)
{
    eai_fl_sim_opts_t o = {
        .model = MODEL,
        .partition = {.kind = EAI_PART_IID, .n_clients = 5, .seed = 3},
        .rounds = 3,
        .epochs = 1,
        .batch = 32,
        .optim = {.kind = EAI_OPT_SGD, .lr = 0.05f, .momentum = 0.5f},
        .seed = 3,
        .max_train_samples = 1000,
        .max_test_samples = 300,
    };
    o.server.strategy.algo = EAI_FL_SCAFFOLD;
    o.server.fraction = 0.6f;
    o.server.seed = 3;
    return o;
}

static void *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *b = malloc((size_t)len + 1);
    *n = fread(b, 1, (size_t)len, f);
    fclose(f);
    return b;
}

static void spit(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

static void run(eai_fl_sim_opts_t *o, int rounds, const char *ckpt, const char *out)
{
    o->rounds = rounds;
    o->server.checkpoint = ckpt;
    o->out_model = out;
    eai_fl_sim_result_t r;
    if (eai_fl_simulate(o, &r) != EAI_OK) fail_msg("%s", eai_last_error());
}

static bool same_file(const char *a, const char *b)
{
    size_t na, nb;
    void *x = slurp(a, &na), *y = slurp(b, &nb);
    bool same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

static void test_scaffold_resume_exact(void **state)
{
    (void)state;
    if (!have_data()) skip();
    char dir[] = "/tmp/eai_fl_resume_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char full[128], part[128], ckpt[128], ck2[128], zero[128], copy[160];
    snprintf(full, sizeof full, "%s/full.onnx", dir);
    snprintf(part, sizeof part, "%s/resumed.onnx", dir);
    snprintf(zero, sizeof zero, "%s/zeroed.onnx", dir);
    snprintf(ckpt, sizeof ckpt, "%s/run.ckpt", dir);
    snprintf(ck2, sizeof ck2, "%s/zero.ckpt", dir);
    snprintf(copy, sizeof copy, "%s/round2.ckpt", dir);

    eai_fl_sim_opts_t o = base();
    run(&o, 3, NULL, full);
    o = base();
    run(&o, 2, ckpt, NULL); /* "crash" after round 2 */
    size_t n;
    uint8_t *b = slurp(ckpt, &n);
    assert_non_null(b);
    spit(copy, b, n);
    o = base();
    run(&o, 3, ckpt, part); /* resumes at round 2 */
    assert_true(same_file(full, part));

    /* version 2 with the c_i block: header, floats, u64 n_extra, extra, CRC */
    uint32_t ver;
    uint64_t np, ns, n_extra;
    memcpy(&ver, b + 8, 4);
    memcpy(&np, b + 24, 8);
    memcpy(&ns, b + 40, 8);
    assert_int_equal(ver, 2);
    const size_t at = 48 + (size_t)(np + ns) * 4;
    memcpy(&n_extra, b + at, 8);
    assert_int_equal(at + 8 + n_extra + 4, n);
    uint32_t count;
    memcpy(&count, b + at + 8, 4);
    /* 2 rounds x 3 of 5 sampled: at least 3 clients have a c_i */
    assert_true(count >= 3 && count <= 5);
    uint64_t nt;
    memcpy(&nt, b + 32, 8);
    assert_int_equal(n_extra, 4 + count * (4 + 4 * nt)); /* per client: id, nt floats */

    /* control: no c_i in the checkpoint -> a different model */
    uint8_t *z = malloc(at + 8 + 4 + 4);
    memcpy(z, b, at);
    const uint64_t four = 4;
    const uint32_t none = 0;
    memcpy(z + at, &four, 8);
    memcpy(z + at + 8, &none, 4);
    uint32_t crc = eai__crc32c(0, z, at + 12);
    memcpy(z + at + 12, &crc, 4);
    spit(ck2, z, at + 16);
    o = base();
    run(&o, 3, ck2, zero);
    assert_false(same_file(full, zero));

    /* damage: a count the block cannot hold (CRC fixed) */
    uint32_t big = 6;
    memcpy(b + at + 8, &big, 4);
    crc = eai__crc32c(0, b, n - 4);
    memcpy(b + n - 4, &crc, 4);
    spit(ckpt, b, n);
    o = base();
    o.rounds = 3;
    o.server.checkpoint = ckpt;
    eai_fl_sim_result_t r;
    assert_int_equal(eai_fl_simulate(&o, &r), EAI_E_FORMAT);
    assert_non_null(strstr(eai_last_error(), "c_i"));

    free(z);
    free(b);
    unlink(full);
    unlink(part);
    unlink(zero);
    unlink(ckpt);
    unlink(ck2);
    unlink(copy);
    rmdir(dir);
}

/* Two gateways synced by the cloud every 2 rounds: the checkpoint after
 * round 2 is written before that round's sync, which the resumed run must
 * redo (each gateway keeps its own file, FILE.g0 and FILE.g1). */
static void test_hier_scaffold_resume_exact(void **state)
{
    (void)state;
    if (!have_data()) skip();
    char dir[] = "/tmp/eai_fl_hresume_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char full[128], part[128], ckpt[128], g[160];
    snprintf(full, sizeof full, "%s/full.onnx", dir);
    snprintf(part, sizeof part, "%s/resumed.onnx", dir);
    snprintf(ckpt, sizeof ckpt, "%s/run.ckpt", dir);
    eai_fl_sim_opts_t o = base();
    o.n_tiers = 1;
    o.fanout[0] = 2;
    o.every[0] = 2;
    o.server.fraction = 0.5f;
    const eai_fl_sim_opts_t h = o;
    run(&o, 3, NULL, full);
    o = h;
    run(&o, 2, ckpt, NULL);
    o = h;
    run(&o, 3, ckpt, part);
    assert_true(same_file(full, part));
    unlink(full);
    unlink(part);
    for (int k = 0; k < 2; k++) {
        snprintf(g, sizeof g, "%s.g%d", ckpt, k);
        assert_int_equal(unlink(g), 0);
    }
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scaffold_resume_exact),
        cmocka_unit_test(test_hier_scaffold_resume_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
