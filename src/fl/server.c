/* The federated server's round protocol, independent of transport:
 * begin_round samples clients (a pure function of seed, round and retry), submit
 * checks and copies updates, finish_round aggregates them in client-id order
 * and checkpoints. The checkpoint is the whole server state between rounds, so
 * a resumed server computes bit for bit what an uninterrupted one would. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core_impl.h"
#include "edgeai/log.h"
#include "fl/fl_impl.h"
#include "plan/plan_impl.h"

/* Checkpoint file, little-endian as written by the host (x86-64/ARM64):
 *   char magic[8] "EAIFLCK\0" | u32 version | u32 round (next to run)
 *   u32 algo | u32 reserved | u64 n_params | u64 n_trainable | u64 n_state
 *   f32 global[n_params] | f32 state[n_state] | u32 crc32c of all before
 * Version 2 (written only when the driver registered extra state, e.g. the
 * simulator's SCAFFOLD c_i) adds u64 n_extra | u8 extra[n_extra] before the
 * CRC; version 1 files read as before. */
#define CKPT_MAGIC         "EAIFLCK"
#define CKPT_VERSION       1u
#define CKPT_VERSION_EXTRA 2u
#define CKPT_HEADER        48

struct eai_fl_server {
    eai_fl_server_opts_t o; /* defaults resolved; checkpoint points at ckpt_path */
    char *ckpt_path;
    size_t n_params, n_trainable;
    eai_fl_strategy_t *strategy;
    float *global;
    uint32_t round, attempt; /* attempt: retries of this round after a failed quorum */
    bool open;
    int max_sampled, n_sampled, quorum;
    uint32_t *sampled;              /* this round's ids, ascending */
    uint8_t *is_sampled, *received; /* per client id */
    int n_received, n_rejected;
    float *slot_params;  /* max_sampled * n_params */
    float *slot_control; /* SCAFFOLD: max_sampled * n_trainable */
    eai_fl_update_t *slots, *sorted;
    uint32_t *perm; /* population-sized scratch for sampling */
    /* DP mode: noise multiplier, clip, sampling rate, delta; row, sum and
     * the noised model (n_params each) */
    double dp_sigma, dp_clip, dp_q, dp_delta;
    float *dp_row, *dp_sum, *dp_x;
    /* checkpoint extra state: the writer, and what the resumed file held */
    eai__fl_ckpt_extra_fn extra_fn;
    void *extra_user;
    void *extra;
    size_t n_extra;
};

static int sample_size(const eai_fl_server_opts_t *o)
{
    /* ceil(fraction * N); the epsilon keeps 0.1f * 100 (= 10.0000001) at 10 */
    int m = (int)ceil((double)o->fraction * o->n_clients - 1e-6);
    if (m < o->min_clients) m = o->min_clients;
    if (m > o->n_clients) m = o->n_clients;
    return m < 1 ? 1 : m;
}

static eai_status_t ckpt_write(const eai_fl_server_t *s)
{
    const char *path = s->ckpt_path;
    size_t n_state = eai_fl_strategy_state_floats(s->strategy);
    const float *state = eai_fl_strategy_state(s->strategy);
    uint8_t h[CKPT_HEADER] = {0};
    const void *extra = NULL;
    size_t n_extra = 0;
    if (s->extra_fn) EAI_TRY(s->extra_fn(s->extra_user, &extra, &n_extra));
    const uint64_t n_extra64 = n_extra;
    uint32_t u32[4] = {s->extra_fn ? CKPT_VERSION_EXTRA : CKPT_VERSION, s->round,
                       (uint32_t)s->o.strategy.algo, 0};
    uint64_t u64[3] = {s->n_params, s->n_trainable, n_state};
    memcpy(h, CKPT_MAGIC, 8);
    memcpy(h + 8, u32, sizeof u32);
    memcpy(h + 24, u64, sizeof u64);
    uint32_t crc = eai__crc32c(0, h, sizeof h);
    crc = eai__crc32c(crc, s->global, s->n_params * sizeof(float));
    if (n_state) crc = eai__crc32c(crc, state, n_state * sizeof(float));
    if (s->extra_fn) {
        crc = eai__crc32c(crc, &n_extra64, 8);
        if (n_extra) crc = eai__crc32c(crc, extra, n_extra);
    }

    size_t plen = strlen(path);
    char *tmp = eai__alloc(NULL, plen + 5);
    if (!tmp) return eai_fail(EAI_E_NOMEM, "fl checkpoint: out of memory");
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        eai_status_t st = eai_fail(EAI_E_IO, "fl checkpoint: %s: %s", tmp, strerror(errno));
        eai__free(NULL, tmp);
        return st;
    }
    bool ok = fwrite(h, 1, sizeof h, f) == sizeof h &&
              fwrite(s->global, sizeof(float), s->n_params, f) == s->n_params &&
              (!n_state || fwrite(state, sizeof(float), n_state, f) == n_state) &&
              (!s->extra_fn || fwrite(&n_extra64, 8, 1, f) == 1) &&
              (!n_extra || fwrite(extra, 1, n_extra, f) == n_extra) &&
              fwrite(&crc, sizeof crc, 1, f) == 1 && fflush(f) == 0 && fsync(fileno(f)) == 0;
    int err = errno;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        if (ok) err = errno;
        remove(tmp);
        eai__free(NULL, tmp);
        return eai_fail(EAI_E_IO, "fl checkpoint: writing %s: %s", path, strerror(err));
    }
    eai__free(NULL, tmp);
    eai__sync_parent_dir(path);
    return EAI_OK;
}

/* Loads the checkpoint into s; *found false when the file does not exist. */
static eai_status_t ckpt_read(eai_fl_server_t *s, bool *found)
{
    const char *path = s->ckpt_path;
    struct stat sb;
    *found = false;
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT) return EAI_OK;
        return eai_fail(EAI_E_IO, "fl checkpoint: %s: %s", path, strerror(errno));
    }
    void *data;
    size_t n;
    EAI_TRY(eai__read_file(NULL, path, &data, &n));
    const uint8_t *b = data;
    eai_status_t st = EAI_OK;
    uint32_t u32[4];
    uint64_t u64[3];
    size_t n_state = eai_fl_strategy_state_floats(s->strategy);
    if (n < CKPT_HEADER + 4 || memcmp(b, CKPT_MAGIC, 8) != 0) {
        st = eai_fail(EAI_E_FORMAT, "fl checkpoint: %s: not an edgeai FL checkpoint (%zu bytes)",
                      path, n);
        goto done;
    }
    memcpy(u32, b + 8, sizeof u32);
    memcpy(u64, b + 24, sizeof u64);
    if (u32[0] != CKPT_VERSION && u32[0] != CKPT_VERSION_EXTRA) {
        st = eai_fail(EAI_E_FORMAT, "fl checkpoint: %s: version %u (this build reads %u and %u)",
                      path, u32[0], CKPT_VERSION, CKPT_VERSION_EXTRA);
        goto done;
    }
    /* sizes before the CRC so a truncated file says so rather than "bad CRC" */
    const bool v2 = u32[0] == CKPT_VERSION_EXTRA;
    uint64_t n_extra = 0;
    const uint64_t fixed =
        u64[0] <= (SIZE_MAX - CKPT_HEADER) / 8 && u64[2] <= (SIZE_MAX - CKPT_HEADER) / 8
            ? CKPT_HEADER + (u64[0] + u64[2]) * sizeof(float) + 4
            : UINT64_MAX;
    if (v2 && fixed <= n && n - fixed >= 8) {
        memcpy(&n_extra, b + fixed - 4, 8);
        if (n_extra != n - fixed - 8) n_extra = UINT64_MAX;
    }
    if (fixed == UINT64_MAX || (v2 && (n_extra == UINT64_MAX || fixed > n || n - fixed < 8)) ||
        (!v2 && n != fixed)) {
        st = eai_fail(EAI_E_FORMAT,
                      "fl checkpoint: %s: %zu bytes, header promises %llu params "
                      "and %llu state floats (truncated or corrupted)",
                      path, n, (unsigned long long)u64[0], (unsigned long long)u64[2]);
        goto done;
    }
    uint32_t crc, want = eai__crc32c(0, b, n - 4);
    memcpy(&crc, b + n - 4, 4);
    if (crc != want) {
        st = eai_fail(EAI_E_FORMAT,
                      "fl checkpoint: %s: CRC-32C mismatch (stored %08x, computed "
                      "%08x): corrupted",
                      path, crc, want);
        goto done;
    }
    if (u64[0] != s->n_params || u64[1] != s->n_trainable || u64[2] != n_state ||
        u32[2] != (uint32_t)s->o.strategy.algo) {
        st = eai_fail(EAI_E_INVALID,
                      "fl checkpoint: %s: written for %llu params (%llu "
                      "trainable), strategy %s; this server has %zu (%zu), %s",
                      path, (unsigned long long)u64[0], (unsigned long long)u64[1],
                      eai_fl_algo_name((eai_fl_algo_t)u32[2]), s->n_params, s->n_trainable,
                      eai_fl_algo_name(s->o.strategy.algo));
        goto done;
    }
    memcpy(s->global, b + CKPT_HEADER, s->n_params * sizeof(float));
    if (n_state)
        memcpy(eai_fl_strategy_state(s->strategy), b + CKPT_HEADER + s->n_params * sizeof(float),
               n_state * sizeof(float));
    if (v2) {
        eai__free(NULL, s->extra);
        s->extra = eai__alloc(NULL, n_extra ? (size_t)n_extra : 1);
        if (!s->extra) {
            st = eai_fail(EAI_E_NOMEM, "fl checkpoint: out of memory");
            goto done;
        }
        if (n_extra) memcpy(s->extra, b + fixed + 4, (size_t)n_extra);
        s->n_extra = (size_t)n_extra;
    }
    s->round = u32[1];
    *found = true;
done:
    eai__free_aligned(NULL, data);
    return st;
}

eai_status_t eai_fl_server_create(const eai_fl_server_opts_t *o, const float *init, size_t n_params,
                                  size_t n_trainable, eai_fl_server_t **out)
{
    if (!o || !init || !out) return eai_fail(EAI_E_INVALID, "fl server: NULL argument");
    eai_fl_server_opts_t r = *o;
    if (r.n_clients < 1 || r.fraction < 0 || r.fraction > 1 || r.min_clients < 0 || r.quorum < 0 ||
        r.round_timeout_s < 0 || !isfinite(r.fraction))
        return eai_fail(EAI_E_INVALID,
                        "fl server: n_clients %d must be >= 1, fraction %g in "
                        "[0, 1], min_clients %d and quorum %d >= 0",
                        r.n_clients, (double)r.fraction, r.min_clients, r.quorum);
    if (!(r.dp_epsilon >= 0) || r.dp_delta < 0 || r.dp_delta >= 1 || r.dp_clip < 0 ||
        (r.dp_epsilon > 0 && r.dp_rounds < 1))
        return eai_fail(EAI_E_INVALID,
                        "fl server: dp_epsilon %g and dp_clip %g must be >= 0, dp_delta %g in "
                        "[0, 1), dp_rounds %d >= 1 with DP",
                        (double)r.dp_epsilon, (double)r.dp_clip, r.dp_delta, r.dp_rounds);
    if (r.dp_epsilon > 0 &&
        (r.strategy.algo == EAI_FL_SCAFFOLD || r.strategy.algo == EAI_FL_FEDNOVA))
        return eai_fail(EAI_E_UNSUPPORTED,
                        "fl server: %s needs each client's update; DP gives the strategy only "
                        "the noised mean (use fedavg, fedprox or fedadam/yogi/adagrad)",
                        eai_fl_algo_name(r.strategy.algo));
    if (r.fraction == 0) r.fraction = 1;
    if (r.min_clients == 0) r.min_clients = 1;
    if (r.strategy.population == 0) r.strategy.population = r.n_clients;

    eai_fl_server_t *s = eai__calloc(NULL, 1, sizeof *s);
    if (!s) return eai_fail(EAI_E_NOMEM, "fl server: out of memory");
    s->n_params = n_params;
    s->n_trainable = n_trainable;
    s->max_sampled = sample_size(&r);
    s->quorum = r.quorum == 0 || r.quorum > s->max_sampled ? s->max_sampled : r.quorum;
    eai_status_t st = eai_fl_strategy_create(&r.strategy, n_params, n_trainable, &s->strategy);
    if (st != EAI_OK) {
        eai_fl_server_destroy(s);
        return st;
    }
    const size_t m = (size_t)s->max_sampled, N = (size_t)r.n_clients;
    if (r.checkpoint) s->ckpt_path = eai__strdup(NULL, r.checkpoint);
    r.checkpoint = s->ckpt_path;
    s->o = r;
    s->global = eai__alloc(NULL, n_params * sizeof(float));
    s->sampled = eai__calloc(NULL, m, sizeof *s->sampled);
    s->perm = eai__calloc(NULL, N, sizeof *s->perm);
    s->is_sampled = eai__calloc(NULL, N, 1);
    s->received = eai__calloc(NULL, N, 1);
    s->slots = eai__calloc(NULL, m, sizeof *s->slots);
    s->sorted = eai__calloc(NULL, m, sizeof *s->sorted);
    s->slot_params = eai__calloc(NULL, m * n_params, sizeof(float));
    if (r.strategy.algo == EAI_FL_SCAFFOLD)
        s->slot_control = eai__calloc(NULL, m * (n_trainable ? n_trainable : 1), sizeof(float));
    if (!s->global || !s->sampled || !s->perm || !s->is_sampled || !s->received || !s->slots ||
        !s->sorted || !s->slot_params || (r.strategy.algo == EAI_FL_SCAFFOLD && !s->slot_control) ||
        (r.checkpoint && !s->ckpt_path)) {
        eai_fl_server_destroy(s);
        return eai_fail(EAI_E_NOMEM, "fl server: out of memory (%zu clients x %zu params)", m,
                        n_params);
    }
    memcpy(s->global, init, n_params * sizeof(float));
    if (r.dp_epsilon > 0) {
        s->dp_q = (double)s->max_sampled / r.n_clients;
        s->dp_delta = r.dp_delta > 0 ? r.dp_delta : 1e-5;
        s->dp_clip = r.dp_clip > 0 ? r.dp_clip : 1.0;
        s->dp_sigma = eai_rdp_sigma_for(s->dp_q, r.dp_rounds, s->dp_delta, r.dp_epsilon);
        s->dp_row = eai__alloc(NULL, (n_params ? n_params : 1) * sizeof(float));
        s->dp_sum = eai__alloc(NULL, (n_params ? n_params : 1) * sizeof(float));
        s->dp_x = eai__alloc(NULL, (n_params ? n_params : 1) * sizeof(float));
        if (!s->dp_row || !s->dp_sum || !s->dp_x) {
            eai_fl_server_destroy(s);
            return eai_fail(EAI_E_NOMEM, "fl server: out of memory for DP");
        }
        if (!(s->dp_sigma > 0) || !isfinite(s->dp_sigma)) {
            eai_fl_server_destroy(s);
            return eai_fail(EAI_E_INVALID,
                            "fl server: no noise multiplier reaches epsilon %g at delta %g "
                            "over %d rounds (q %.3f)",
                            (double)r.dp_epsilon, r.dp_delta > 0 ? r.dp_delta : 1e-5, r.dp_rounds,
                            (double)s->max_sampled / r.n_clients);
        }
    }
    if (s->ckpt_path) {
        bool found;
        st = ckpt_read(s, &found);
        if (st != EAI_OK) {
            eai_fl_server_destroy(s);
            return st;
        }
        if (found)
            eai__log(EAI_LOG_INFO, "fl server: resumed from %s at round %u", s->ckpt_path,
                     s->round);
    }
    *out = s;
    return EAI_OK;
}

void eai_fl_server_destroy(eai_fl_server_t *s)
{
    if (!s) return;
    eai_fl_strategy_destroy(s->strategy);
    eai__free(NULL, s->ckpt_path);
    eai__free(NULL, s->global);
    eai__free(NULL, s->sampled);
    eai__free(NULL, s->perm);
    eai__free(NULL, s->is_sampled);
    eai__free(NULL, s->received);
    eai__free(NULL, s->slots);
    eai__free(NULL, s->sorted);
    eai__free(NULL, s->slot_params);
    eai__free(NULL, s->slot_control);
    eai__free(NULL, s->dp_row);
    eai__free(NULL, s->dp_sum);
    eai__free(NULL, s->dp_x);
    eai__free(NULL, s->extra);
    eai__free(NULL, s);
}

uint32_t eai_fl_server_round(const eai_fl_server_t *s)
{
    return s ? s->round : 0;
}

const float *eai_fl_server_global(const eai_fl_server_t *s)
{
    return s ? s->global : NULL;
}

const eai_fl_strategy_t *eai_fl_server_strategy(const eai_fl_server_t *s)
{
    return s ? s->strategy : NULL;
}

eai_status_t eai__fl_server_set_global(eai_fl_server_t *s, const float *global)
{
    if (s->open) return eai_fail(EAI_E_STATE, "fl server: round %u is open", s->round);
    memcpy(s->global, global, s->n_params * sizeof(float));
    return EAI_OK;
}

int eai__fl_server_n_sample(const eai_fl_server_t *s)
{
    return s->max_sampled;
}

void eai__fl_server_set_ckpt_extra(eai_fl_server_t *s, eai__fl_ckpt_extra_fn fn, void *user)
{
    s->extra_fn = fn;
    s->extra_user = user;
}

const void *eai__fl_server_ckpt_extra(const eai_fl_server_t *s, size_t *n)
{
    *n = s->n_extra;
    return s->extra;
}

double eai_fl_server_dp_sigma(const eai_fl_server_t *s)
{
    return s ? s->dp_sigma : 0;
}

double eai_fl_server_dp_epsilon(const eai_fl_server_t *s)
{
    if (!s || !(s->dp_sigma > 0) || s->round == 0) return 0;
    return eai_rdp_epsilon(s->dp_q, s->dp_sigma, (int64_t)s->round, s->dp_delta);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

eai_status_t eai_fl_server_begin_round(eai_fl_server_t *s, uint32_t *ids, int *n)
{
    if (!s || !ids || !n) return eai_fail(EAI_E_INVALID, "fl server: begin_round: NULL argument");
    if (s->open) return eai_fail(EAI_E_STATE, "fl server: round %u is already open", s->round);
    const int N = s->o.n_clients, m = s->max_sampled;
    /* partial Fisher-Yates: the first m of a seeded permutation */
    uint64_t rng = eai__fl_seed(s->o.seed, 0x53414d50 /* SAMP */, s->round, s->attempt);
    for (int i = 0; i < N; i++)
        s->perm[i] = (uint32_t)i;
    for (int i = 0; i < m; i++) {
        int j = i + (int)(eai__fl_mix(&rng) % (uint64_t)(N - i));
        uint32_t t = s->perm[i];
        s->perm[i] = s->perm[j];
        s->perm[j] = t;
    }
    memcpy(s->sampled, s->perm, (size_t)m * sizeof *s->sampled);
    qsort(s->sampled, (size_t)m, sizeof *s->sampled, cmp_u32);
    memset(s->is_sampled, 0, (size_t)N);
    memset(s->received, 0, (size_t)N);
    for (int i = 0; i < m; i++)
        s->is_sampled[s->sampled[i]] = 1;
    s->n_sampled = m;
    s->n_received = 0;
    s->open = true;
    memcpy(ids, s->sampled, (size_t)m * sizeof *ids);
    *n = m;
    return EAI_OK;
}

static eai_status_t reject(eai_fl_server_t *s, eai_status_t st, const char *fmt, uint32_t client,
                           uint32_t round)
{
    s->n_rejected++;
    return eai_fail(st, fmt, client, round, s->round);
}

eai_status_t eai_fl_server_submit(eai_fl_server_t *s, const eai_fl_update_t *u)
{
    if (!s || !u) return eai_fail(EAI_E_INVALID, "fl server: submit: NULL argument");
    if (!s->open)
        return reject(s, EAI_E_STATE,
                      "fl server: update from client %u for round %u rejected: no round open "
                      "(next is %u)",
                      u->client, u->round);
    if (u->round < s->round)
        return reject(s, EAI_E_STATE,
                      "fl server: update from client %u for round %u rejected: late (round %u "
                      "is open)",
                      u->client, u->round);
    if (u->round > s->round)
        return reject(s, EAI_E_STATE,
                      "fl server: update from client %u for round %u rejected: round %u is "
                      "open",
                      u->client, u->round);
    if (u->client >= (uint32_t)s->o.n_clients || !s->is_sampled[u->client])
        return reject(s, EAI_E_INVALID,
                      "fl server: update from client %u for round %u rejected: not sampled in "
                      "round %u",
                      u->client, u->round);
    if (s->received[u->client])
        return reject(s, EAI_E_STATE,
                      "fl server: update from client %u for round %u rejected: duplicate (round "
                      "%u)",
                      u->client, u->round);
    if ((u->n_params && u->n_params != s->n_params) || !u->params)
        return reject(s, EAI_E_INVALID,
                      "fl server: update from client %u for round %u rejected: wrong size "
                      "(round %u)",
                      u->client, u->round);
    if (u->n_samples <= 0 || u->local_steps < 0)
        return reject(s, EAI_E_INVALID,
                      "fl server: update from client %u for round %u rejected: sample or step "
                      "count not positive (round %u)",
                      u->client, u->round);
    if (s->slot_control && !u->control_delta)
        return reject(s, EAI_E_INVALID,
                      "fl server: update from client %u for round %u rejected: SCAFFOLD needs "
                      "control_delta (round %u)",
                      u->client, u->round);
    /* one NaN would poison the global model for every client */
    for (size_t j = 0; j < s->n_params; j++)
        if (!isfinite(u->params[j]))
            return reject(s, EAI_E_INVALID,
                          "fl server: update from client %u for round %u rejected: non-finite "
                          "parameter (round %u)",
                          u->client, u->round);

    const int k = s->n_received;
    float *p = s->slot_params + (size_t)k * s->n_params;
    memcpy(p, u->params, s->n_params * sizeof(float));
    s->slots[k] = *u;
    s->slots[k].params = p;
    s->slots[k].n_params = s->n_params;
    if (s->slot_control) {
        float *c = s->slot_control + (size_t)k * s->n_trainable;
        memcpy(c, u->control_delta, s->n_trainable * sizeof(float));
        s->slots[k].control_delta = c;
    } else {
        s->slots[k].control_delta = NULL;
    }
    s->received[u->client] = 1;
    s->n_received++;
    return EAI_OK;
}

int eai_fl_server_n_received(const eai_fl_server_t *s)
{
    return s ? s->n_received : 0;
}

bool eai_fl_server_quorum(const eai_fl_server_t *s)
{
    return s && s->open && s->n_received >= s->quorum;
}

static int cmp_update(const void *a, const void *b)
{
    uint32_t x = ((const eai_fl_update_t *)a)->client, y = ((const eai_fl_update_t *)b)->client;
    return (x > y) - (x < y);
}

/* DP mode: the strategy sees one update, the noised mean of the clipped
 * deltas (in client-id order, as the simulator sums its rows), exactly as
 * the simulator's private path submits it. */
static eai_status_t dp_aggregate(eai_fl_server_t *s, int n)
{
    const size_t np = s->n_params;
    int64_t n_samples = 0, steps = 0;
    memset(s->dp_sum, 0, np * sizeof(float));
    for (int i = 0; i < n; i++) {
        eai__fl_dp_row(s->global, s->sorted[i].params, np, s->dp_clip, s->dp_row);
        for (size_t j = 0; j < np; j++)
            s->dp_sum[j] += s->dp_row[j];
        n_samples += s->sorted[i].n_samples;
        steps += s->sorted[i].local_steps;
    }
    eai__fl_dp_model(s->global, s->dp_sum, np, s->n_sampled, s->dp_sigma, s->dp_clip,
                     eai__fl_dp_noise_seed(s->o.seed, s->round, 0, s->attempt), s->dp_x);
    eai_fl_update_t up = {.round = s->round,
                          .client = s->sampled[0],
                          .n_samples = n_samples,
                          .local_steps = steps / n,
                          .params = s->dp_x,
                          .n_params = np};
    return eai_fl_strategy_aggregate(s->strategy, s->global, &up, 1);
}

eai_status_t eai_fl_server_finish_round(eai_fl_server_t *s, eai_fl_round_report_t *rep)
{
    if (!s) return eai_fail(EAI_E_INVALID, "fl server: finish_round: NULL server");
    if (!s->open) return eai_fail(EAI_E_STATE, "fl server: finish_round: no round open");
    eai_fl_round_report_t r = {.round = s->round,
                               .n_sampled = s->n_sampled,
                               .n_accepted = s->n_received,
                               .n_rejected = s->n_rejected};
    if (s->n_received < s->quorum || s->n_received == 0) {
        s->open = false;
        s->attempt++;
        s->n_rejected = 0;
        if (rep) *rep = r;
        return eai_fail(EAI_E_UNAVAILABLE,
                        "fl server: round %u: %d of %d sampled clients "
                        "answered, quorum is %d; global unchanged, round will be retried",
                        s->round, s->n_received, s->n_sampled, s->quorum);
    }
    const int n = s->n_received;
    memcpy(s->sorted, s->slots, (size_t)n * sizeof *s->sorted);
    qsort(s->sorted, (size_t)n, sizeof *s->sorted, cmp_update);
    for (int i = 0; i < n; i++) {
        r.mean_train_loss += s->sorted[i].train_loss / n;
        r.mean_train_acc += s->sorted[i].train_acc / n;
    }
    /* aggregate into a copy? No: the strategy checks everything it needs
     * before writing, and submit has vetted every update already. */
    if (s->dp_sigma > 0)
        EAI_TRY(dp_aggregate(s, n));
    else
        EAI_TRY(eai_fl_strategy_aggregate(s->strategy, s->global, s->sorted, n));
    s->open = false;
    s->round++;
    s->attempt = 0;
    s->n_rejected = 0;
    if (rep) *rep = r;
    if (s->ckpt_path) EAI_TRY(ckpt_write(s));
    return EAI_OK;
}
