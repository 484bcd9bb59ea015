/* libFuzzer target for the MOTChallenge text parser (eai_mot_parse) and,
 * on what it accepts, the metrics (eai_mot_eval of the file against itself
 * and against a shifted copy): any input must give a status, never a crash,
 * leak or sanitizer report; an accepted file must be sorted and in range.
 * Corpus: fuzz/corpus/mot. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edgeai/mot.h"
#include "fuzz_alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_metrics(const eai_mot_metrics_t *m)
{
    const double v[] = {m->mota, m->motp, m->idf1, m->hota, m->deta, m->assa, m->loca};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (!isfinite(v[i]) || v[i] > 1 + 1e-9) abort();
    if (m->tp < 0 || m->fp < 0 || m->fn < 0 || m->idtp < 0 || m->hota < 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    eai_allocator_t al = {fuzz_capped_alloc, NULL};
    eai_mot_t m;
    memset(&m, 0, sizeof m);
    if (eai_mot_parse((const char *)data, size, &al, &m) != EAI_OK) {
        if (m.rows || m.n_rows) abort(); /* *out untouched on failure */
        return 0;
    }
    for (int i = 0; i < m.n_rows; i++) {
        const eai_mot_row_t *r = &m.rows[i];
        if (r->frame < 1 || r->frame > m.max_frame || r->w < 0 || r->h < 0 || r->id < -1) abort();
        if (!isfinite(r->x) || !isfinite(r->y) || !isfinite(r->conf)) abort();
        if (i && m.rows[i - 1].frame > r->frame) abort();
    }
    if (m.n_rows <= 400) { /* the metrics are quadratic per frame: keep runs fast */
        eai_mot_eval_opts_t o = {.preproc = size % 2 ? EAI_MOT_MOT17 : EAI_MOT_PLAIN, .alloc = al};
        eai_mot_metrics_t x;
        if (eai_mot_eval(&m, &m, &o, &x) == EAI_OK) check_metrics(&x);
        eai_mot_t s = m;
        s.rows = malloc(sizeof *s.rows * (size_t)(m.n_rows + 1));
        if (s.rows) {
            for (int i = 0; i < m.n_rows; i++) {
                s.rows[i] = m.rows[i];
                s.rows[i].x += s.rows[i].w * 0.3;
                s.rows[i].id = m.rows[i].id ^ (i & 1);
            }
            if (eai_mot_eval(&m, &s, &o, &x) == EAI_OK) check_metrics(&x);
            free(s.rows);
        }
    }
    eai_mot_free(&m);
    return 0;
}
