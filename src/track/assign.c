/* Rectangular assignment with a cost ceiling: the Hungarian method (shortest
 * augmenting paths with dual potentials, O(n^2 m)) run per connected
 * component of the gated bipartite graph. Tracking costs are sparse (a track
 * overlaps one or two detections), so most components are 1x1 and solved
 * without the dense method at all; the result is still the exact optimum. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "track/track_impl.h"

typedef struct {
    double *sub, *u, *v, *minv;
    int *parent, *next, *head, *rlist, *clist, *p, *way;
    unsigned char *used;
} work_t;

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

size_t eai__assign_work_bytes(int rows, int cols)
{
    if (rows < 0 || cols < 0) return 0;
    size_t r = (size_t)rows, c = (size_t)cols, m = (r > c ? r : c) + 1;
    size_t b = align8(sizeof(double) * (r * c + 3 * m));
    b += align8(sizeof(int) * (3 * (r + c) + r + c + 2 * m));
    b += align8(m);
    return b;
}

static work_t carve(void *w, int rows, int cols)
{
    size_t r = (size_t)rows, c = (size_t)cols, m = (r > c ? r : c) + 1;
    work_t k;
    double *d = w;
    k.sub = d, d += r * c;
    k.u = d, d += m;
    k.v = d, d += m;
    k.minv = d, d += m;
    int *i = (int *)((char *)w + align8(sizeof(double) * (r * c + 3 * m)));
    k.parent = i, i += r + c;
    k.next = i, i += r + c;
    k.head = i, i += r + c;
    k.rlist = i, i += r;
    k.clist = i, i += c;
    k.p = i, i += m;
    k.way = i, i += m;
    k.used = (unsigned char *)i;
    return k;
}

static int find(int *parent, int x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

/* Dense Hungarian on a (n x m, n <= m) row-major matrix `a`: minimises the
 * sum over a full assignment of the rows. Afterwards k->p[j] (j = 1..m) is
 * the 1-based row assigned to column j - 1, or 0. */
static void hungarian(const double *a, int n, int m, work_t *k)
{
    double *u = k->u, *v = k->v, *minv = k->minv;
    int *p = k->p, *way = k->way;
    unsigned char *used = k->used;
    for (int j = 0; j <= m; j++)
        v[j] = 0, p[j] = 0, way[j] = 0;
    for (int i = 0; i <= n; i++)
        u[i] = 0;
    for (int i = 1; i <= n; i++) {
        p[0] = i;
        int j0 = 0;
        for (int j = 0; j <= m; j++)
            minv[j] = INFINITY, used[j] = 0;
        do {
            used[j0] = 1;
            int i0 = p[j0], j1 = 0;
            double delta = INFINITY;
            const double *row = a + (size_t)(i0 - 1) * (size_t)m;
            for (int j = 1; j <= m; j++) {
                if (used[j]) continue;
                double cur = row[j - 1] - u[i0] - v[j];
                if (cur < minv[j]) minv[j] = cur, way[j] = j0;
                if (minv[j] < delta) delta = minv[j], j1 = j;
            }
            if (EAI_NEVER(j1 == 0)) return; /* only with non-finite costs, excluded above */
            for (int j = 0; j <= m; j++) {
                if (used[j])
                    u[p[j]] += delta, v[j] -= delta;
                else
                    minv[j] -= delta;
            }
            j0 = j1;
        } while (p[j0] != 0);
        do {
            int j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        } while (j0);
    }
}

void eai__assign_d(const double *cost, int rows, int cols, double limit, int *row_match,
                   int *col_match, void *work)
{
    for (int i = 0; i < rows; i++)
        if (row_match) row_match[i] = -1;
    for (int j = 0; j < cols; j++)
        if (col_match) col_match[j] = -1;
    if (rows == 0 || cols == 0) return;
    work_t k = carve(work, rows, cols);
    int nn = rows + cols;
    for (int x = 0; x < nn; x++)
        k.parent[x] = x;
    /* components of the graph of allowed pairs; rows are 0..rows-1, columns
     * rows..rows+cols-1 */
    for (int i = 0; i < rows; i++) {
        const double *c = cost + (size_t)i * (size_t)cols;
        for (int j = 0; j < cols; j++) {
            if (!(c[j] < limit)) continue; /* NaN fails too */
            int a = find(k.parent, i), b = find(k.parent, rows + j);
            if (a != b) k.parent[a] = b;
        }
    }
    for (int x = 0; x < nn; x++)
        k.head[x] = -1;
    for (int x = nn - 1; x >= 0; x--) { /* lists in index order */
        int r = find(k.parent, x);
        k.next[x] = k.head[r];
        k.head[r] = x;
    }
    for (int r = 0; r < nn; r++) {
        if (k.head[r] < 0) continue;
        int nr = 0, nc = 0;
        for (int x = k.head[r]; x >= 0; x = k.next[x]) {
            if (x < rows)
                k.rlist[nr++] = x;
            else
                k.clist[nc++] = x - rows;
        }
        if (nr == 0 || nc == 0) continue; /* an isolated node: unmatched */
        if (nr == 1 && nc == 1) {         /* one allowed pair */
            if (row_match) row_match[k.rlist[0]] = k.clist[0];
            if (col_match) col_match[k.clist[0]] = k.rlist[0];
            continue;
        }
        /* Dense sub-problem, rows <= cols (transpose otherwise). Unallowed
         * pairs cost 0 = the price of leaving both unmatched, allowed ones
         * cost - limit < 0: a full assignment of this matrix is an optimal
         * partial one of the original once zero-cost pairs are dropped. */
        bool tr = nr > nc;
        int n = tr ? nc : nr, m = tr ? nr : nc;
        for (int a = 0; a < nr; a++) {
            const double *c = cost + (size_t)k.rlist[a] * (size_t)cols;
            for (int b = 0; b < nc; b++) {
                double v = c[k.clist[b]];
                v = v < limit ? v - limit : 0.0;
                if (tr)
                    k.sub[(size_t)b * (size_t)m + (size_t)a] = v;
                else
                    k.sub[(size_t)a * (size_t)m + (size_t)b] = v;
            }
        }
        hungarian(k.sub, n, m, &k);
        for (int j = 1; j <= m; j++) {
            int i = k.p[j];
            if (!i) continue;
            int a = tr ? j - 1 : i - 1, b = tr ? i - 1 : j - 1; /* a: row in rlist, b: col */
            int ri = k.rlist[a], cj = k.clist[b];
            if (!(cost[(size_t)ri * (size_t)cols + (size_t)cj] < limit)) continue;
            if (row_match) row_match[ri] = cj;
            if (col_match) col_match[cj] = ri;
        }
    }
}

size_t eai_assign_work_bytes(int rows, int cols)
{
    size_t b = eai__assign_work_bytes(rows, cols);
    /* plus the double copy of the cost matrix */
    return b +
           align8(sizeof(double) * (size_t)(rows > 0 ? rows : 0) * (size_t)(cols > 0 ? cols : 0));
}

eai_status_t eai_assign(const float *cost, int rows, int cols, float limit, int *row_match,
                        int *col_match, void *work)
{
    if (rows < 0 || cols < 0)
        return eai_fail(EAI_E_INVALID, "eai_assign: negative size %d x %d", rows, cols);
    if ((!cost || !work) && (int64_t)rows * cols > 0)
        return eai_fail(EAI_E_INVALID, "eai_assign: NULL cost or work for %d x %d", rows, cols);
    if (rows == 0 || cols == 0) {
        for (int i = 0; i < rows; i++)
            if (row_match) row_match[i] = -1;
        for (int j = 0; j < cols; j++)
            if (col_match) col_match[j] = -1;
        return EAI_OK;
    }
    double *d = work;
    size_t n = (size_t)rows * (size_t)cols;
    for (size_t i = 0; i < n; i++)
        d[i] = cost[i]; /* NaN stays NaN: never allowed */
    void *w = (char *)work + align8(sizeof(double) * n);
    eai__assign_d(d, rows, cols, (double)limit, row_match, col_match, w);
    return EAI_OK;
}
