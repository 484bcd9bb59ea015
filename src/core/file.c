/* Whole-file reads with clear errors. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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
