/*
** fuzz_util.h — shared by the libFuzzer harnesses in tests/fuzz/: quiet logging, one thread,
** and a private temporary folder for the entry points that only take a path (the fuzz input
** is written to a file with the name the parser expects, e.g. "in.npz", then read back).
*/
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include "ld_common.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Every harness's first action: no log output, no worker threads (libFuzzer wants each input
 * to behave the same, and both cores are shared). */
static inline void fuzz_init(void) {
    static int done;
    if (done) return;
    done = 1;
    ld_verbose = -1;
    ld_threads_set(1);
}

/* A folder of this process's own, removed at exit. */
static char fuzz_dir_buf[64];
static inline void fuzz_dir_remove(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir_buf);
    if (fuzz_dir_buf[0] && system(cmd) != 0) fprintf(stderr, "fuzz: could not remove %s\n", fuzz_dir_buf);
}
static inline const char *fuzz_dir(void) {
    if (!fuzz_dir_buf[0]) {
        /* tmpfs when there is one: truncating and rewriting a file on a disk file system
         * costs milliseconds, which would be most of an execution. FUZZ_TMPDIR overrides. */
        const char *t = getenv("FUZZ_TMPDIR");
        if (!t || !*t) t = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
        snprintf(fuzz_dir_buf, sizeof fuzz_dir_buf, "%.40s/ldfuzz.XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(fuzz_dir_buf)) { perror("fuzz: mkdtemp"); abort(); }
        atexit(fuzz_dir_remove);
    }
    return fuzz_dir_buf;
}

/* Write data to <fuzz_dir>/name and return the path (static buffer). Aborts on I/O failure:
 * that is the harness's problem, not the parser's. */
static inline const char *fuzz_file(const char *name, const uint8_t *data, size_t size) {
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) { perror(path); abort(); }
    for (size_t off = 0; off < size;) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) { perror(path); abort(); }
        off += (size_t)w;
    }
    close(fd);
    return path;
}

#endif
