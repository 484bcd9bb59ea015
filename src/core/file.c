/* Whole-file reads and crash-safe whole-file writes, with clear errors. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core_impl.h"

eai_status_t eai__read_file(const eai_allocator_t *a, const char *path, void **data,
                            size_t *n_bytes)
{
    FILE *f = fopen(path, "rb");
    if (!f) return eai_fail(EAI_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return eai_fail(EAI_E_IO, "%s: not a regular file", path);
    }
    size_t n = (size_t)st.st_size;
    void *buf = eai__alloc_aligned(a, n ? n : 1);
    if (!buf) {
        fclose(f);
        return eai_fail(EAI_E_NOMEM, "%s: out of memory reading %zu bytes", path, n);
    }
    size_t got = n ? fread(buf, 1, n, f) : 0;
    int err = ferror(f);
    fclose(f);
    if (got != n || err) {
        eai__free_aligned(a, buf);
        return eai_fail(EAI_E_IO, "%s: short read (%zu of %zu bytes)", path, got, n);
    }
    *data = buf;
    *n_bytes = n;
    return EAI_OK;
}

void eai__sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else if ((size_t)(slash - path) < sizeof dir)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else
        return;
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

bool eai__write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (w == 0) errno = EIO;
            return false;
        }
        c += w;
        n -= (size_t)w;
    }
    return true;
}

eai_status_t eai__afile_open(eai__afile_t *f, const eai_allocator_t *a, const char *path)
{
    static const char suffix[] = ".tmp.XXXXXX";
    size_t plen = strlen(path);
    *f = (eai__afile_t){.a = a, .path = path, .fd = -1};
    f->tmp = eai__alloc(a, plen + sizeof suffix);
    if (!f->tmp) return eai_fail(EAI_E_NOMEM, "%s: out of memory", path);
    memcpy(f->tmp, path, plen);
    memcpy(f->tmp + plen, suffix, sizeof suffix);
    f->fd = mkstemp(f->tmp);
    if (f->fd < 0) {
        eai_status_t s = eai_fail(EAI_E_IO, "%s: cannot create a temporary file next to it: %s",
                                  path, strerror(errno));
        eai__free(a, f->tmp);
        f->tmp = NULL;
        return s;
    }
    return EAI_OK;
}

void eai__afile_abort(eai__afile_t *f)
{
    if (!f->tmp) return;
    if (f->fd >= 0) close(f->fd);
    unlink(f->tmp);
    eai__free(f->a, f->tmp);
    f->tmp = NULL;
    f->fd = -1;
}

eai_status_t eai__afile_commit(eai__afile_t *f, int write_err)
{
    /* mkstemp makes 0600; give the file the mode of the one it replaces, or
     * the usual 0644 (reading the umask is not thread-safe). */
    struct stat old;
    mode_t mode = stat(f->path, &old) == 0 && S_ISREG(old.st_mode) ? (old.st_mode & 07777) : 0644;
    const char *step = NULL;
    int err = write_err;
    if (err)
        step = "write";
    else if (fchmod(f->fd, mode) != 0)
        step = "chmod";
    else if (fsync(f->fd) != 0)
        step = "fsync";
    if (step && !err) err = errno;
    if (close(f->fd) != 0 && !step) {
        err = errno;
        step = "close";
    }
    f->fd = -1;
    if (!step && rename(f->tmp, f->path) != 0) {
        err = errno;
        step = "rename";
    }
    eai_status_t s = EAI_OK;
    if (step) {
        s = eai_fail(EAI_E_IO, "%s: %s of the temporary file %s failed: %s", f->path, step, f->tmp,
                     strerror(err));
        unlink(f->tmp);
    } else {
        eai__sync_parent_dir(f->path);
    }
    eai__free(f->a, f->tmp);
    f->tmp = NULL;
    return s;
}

eai_status_t eai__write_file_atomic(const eai_allocator_t *a, const char *path, const void *data,
                                    size_t n)
{
    eai__afile_t f;
    EAI_TRY(eai__afile_open(&f, a, path));
    return eai__afile_commit(&f, eai__write_all(f.fd, data, n) ? 0 : errno);
}
