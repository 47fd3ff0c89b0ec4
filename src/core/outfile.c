/*
** outfile.c — exclusive or forced creation of output files through a temporary file in the
** same folder, published atomically (ld_outfile.h has the rules).
**
** Why a temporary file: "check, then fopen" leaves a window in which another process creates
** the file, and fopen(path, "w") truncates the old content before the new one is complete, so
** a failed run (full disk, out of memory, a bad tensor) would destroy the file it was asked
** not to touch. Writing elsewhere and renaming closes both holes.
*/
#define _GNU_SOURCE
#include "ld_outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *kind_of(mode_t m) {
    if (S_ISDIR(m)) return "a directory";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISCHR(m) || S_ISBLK(m)) return "a device";
    if (S_ISSOCK(m)) return "a socket";
    return "not a regular file";
}

static ld_status exists_error(const char *path) {
    return ld_error(LD_ERR_CANTCREAT, "%s already exists (use --force to replace it)", path);
}

ld_status ld_out_check(const char *path, unsigned flags) {
    assert(path);
    if ((flags & LD_OUT_STDOUT) && !strcmp(path, "-")) return LD_OK;
    if (!path[0]) return ld_error(LD_ERR_CANTCREAT, "empty output file name");
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT) {
            struct stat lst;   /* a dangling symlink: rename would replace the link, not follow it */
            if (lstat(path, &lst) == 0 && !(flags & LD_OUT_FORCE)) return exists_error(path);
            return LD_OK;
        }
        return ld_error(LD_ERR_CANTCREAT, "%s: %s", path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode))
        return ld_error(LD_ERR_CANTCREAT, "%s is %s: layerdiff writes only regular files, even with --force", path,
                        kind_of(st.st_mode));
    if (!(flags & LD_OUT_FORCE)) return exists_error(path);
    return LD_OK;
}

/* "<dir>/.<base>.<pid>-<n>.tmp": hidden, in the same folder (rename cannot cross file systems). */
static ld_status make_temp(const char *path, char **tmp_out, int *fd_out) {
    static unsigned counter;
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path + 1) : 0;
    const char *base = slash ? slash + 1 : path;
    if (!*base) return ld_error(LD_ERR_CANTCREAT, "%s: names a folder, not a file", path);
    size_t n = strlen(path) + 64;
    char *tmp = malloc(n);
    if (!tmp) return ld_oom();
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned r = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) * 2654435761u ^ (unsigned)time(NULL);
        snprintf(tmp, n, "%.*s.%s.%ld-%08x.tmp", (int)dlen, path, base, (long)getpid(), r);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);   /* mode honours the umask */
        if (fd >= 0) { *tmp_out = tmp; *fd_out = fd; return LD_OK; }
        if (errno != EEXIST) {
            int e = errno;
            free(tmp);
            return ld_error(LD_ERR_CANTCREAT, "%s: cannot create a file in its folder: %s", path, strerror(e));
        }
    }
    free(tmp);
    return ld_error(LD_ERR_CANTCREAT, "%s: no free temporary name in its folder", path);
}

static ld_status open_common(const char *path, unsigned flags, ld_outfile *o, bool by_name) {
    assert(path && o);
    memset(o, 0, sizeof *o);
    o->flags = flags;
    if ((flags & LD_OUT_STDOUT) && !strcmp(path, "-")) {
        if (by_name) return ld_error(LD_ERR_USAGE, "this output cannot go to standard output ('-')");
        o->is_stdout = true;
        o->f = stdout;
        return LD_OK;
    }
    LD_TRY(ld_out_check(path, flags));
    o->path = strdup(path);
    if (!o->path) return ld_oom();
    int fd = -1;
    ld_status st = make_temp(path, &o->tmp, &fd);
    if (st != LD_OK) { free(o->path); memset(o, 0, sizeof *o); return st; }
    struct stat old;   /* a replaced file keeps its permissions */
    if ((flags & LD_OUT_FORCE) && stat(path, &old) == 0 && S_ISREG(old.st_mode)) (void)fchmod(fd, old.st_mode & 07777);
    if (by_name) { close(fd); return LD_OK; }
    o->f = fdopen(fd, "wb");
    if (!o->f) {
        close(fd);
        ld_out_abort(o);
        return ld_oom();
    }
    return LD_OK;
}

ld_status ld_out_open(const char *path, unsigned flags, ld_outfile *o) {
    return open_common(path, flags, o, false);
}

ld_status ld_out_open_path(const char *path, unsigned flags, ld_outfile *o) {
    return open_common(path, flags, o, true);
}

void ld_out_abort(ld_outfile *o) {
    if (!o) return;
    if (o->f && !o->is_stdout) fclose(o->f);
    if (o->tmp) unlink(o->tmp);
    free(o->tmp);
    free(o->path);
    memset(o, 0, sizeof *o);
}

/* Publish tmp as path without ever replacing an existing file. */
static int publish_noreplace(const char *tmp, const char *path) {
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) return -1;
    /* the file system cannot do RENAME_NOREPLACE: link() fails with EEXIST just the same */
    if (link(tmp, path) == 0) { unlink(tmp); return 0; }
    if (errno != EPERM && errno != ENOTSUP && errno != ENOSYS) return -1;
    /* nor hard links (FAT and the like): claim the name exclusively, then rename over our own claim */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) return -1;
    close(fd);
    if (rename(tmp, path) == 0) return 0;
    int e = errno;
    unlink(path);
    errno = e;
    return -1;
}

ld_status ld_out_commit(ld_outfile *o) {
    assert(o);
    if (o->is_stdout) {
        bool bad = fflush(stdout) != 0 || ferror(stdout);
        memset(o, 0, sizeof *o);
        return bad ? ld_error(LD_ERR_IO, "standard output: write failed: %s", strerror(errno)) : LD_OK;
    }
    assert(o->path && o->tmp);
    if (o->f) {
        bool bad = ferror(o->f) != 0;
        int e = errno;
        if (fclose(o->f) != 0) { bad = true; e = errno; }
        o->f = NULL;
        if (bad) {
            ld_status st = ld_error(LD_ERR_IO, "%s: write failed: %s", o->path, strerror(e));
            ld_out_abort(o);
            return st;
        }
    }
    ld_status st = LD_OK;
    if (o->flags & LD_OUT_FORCE) {
        struct stat sb;   /* something non-regular may have appeared since ld_out_open */
        if (stat(o->path, &sb) == 0 && !S_ISREG(sb.st_mode)) st = ld_out_check(o->path, o->flags);
        else if (rename(o->tmp, o->path) != 0)
            st = ld_error(LD_ERR_CANTCREAT, "%s: cannot replace: %s", o->path, strerror(errno));
    } else if (publish_noreplace(o->tmp, o->path) != 0) {
        st = errno == EEXIST ? exists_error(o->path)
                             : ld_error(LD_ERR_CANTCREAT, "%s: cannot create: %s", o->path, strerror(errno));
    }
    if (st == LD_OK) { free(o->tmp); o->tmp = NULL; }   /* published: nothing to remove */
    ld_out_abort(o);
    return st;
}

ld_status ld_out_write_all(const char *path, unsigned flags, const void *buf, size_t len) {
    ld_outfile o;
    LD_TRY(ld_out_open(path, flags, &o));
    if (len && fwrite(buf, 1, len, o.f) != len) {
        ld_status st = ld_error(LD_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        ld_out_abort(&o);
        return st;
    }
    return ld_out_commit(&o);
}
