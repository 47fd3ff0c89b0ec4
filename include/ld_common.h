/*
** ld_common.h — status codes, error messages and small helpers shared by every layer.
**
** Every fallible function returns an ld_status. LD_OK is 0; errors use the BSD sysexits
** numbers so that main() can exit with the status unchanged. The human-readable message of
** the most recent error is kept in a per-thread buffer (ld_err_msg()); callers higher up add
** context in front of it with ld_err_prefix() ("node 'conv1' (Conv-11): ...").
**
** Layer: core (see tests/tools/check_layers.sh).
*/
#ifndef LD_COMMON_H
#define LD_COMMON_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef enum ld_status {
    LD_OK = 0,
    LD_DIVERGED = 1,        /* compare: divergence found (not an error) */
    LD_DYNAMIC = 2,         /* shape function: needs tensor data not known yet (plan time) */
    LD_ERR_USAGE = 64,      /* EX_USAGE: bad command line */
    LD_ERR_DATA = 65,       /* EX_DATAERR: malformed model / input data, wrong shapes */
    LD_ERR_NOINPUT = 66,    /* EX_NOINPUT: missing or unreadable file */
    LD_ERR_UNSUPPORTED = 69,/* EX_UNAVAILABLE: op/version/dtype layerdiff cannot run */
    LD_ERR_INTERNAL = 70,   /* EX_SOFTWARE: bug */
    LD_ERR_NOMEM = 71,      /* EX_OSERR: out of memory */
    LD_ERR_CANTCREAT = 73,  /* EX_CANTCREAT: cannot create output file */
    LD_ERR_IO = 74,         /* EX_IOERR */
} ld_status;

/* Set the error message (printf-style) and return st, so: return ld_error(LD_ERR_DATA, "..."). */
ld_status ld_error(ld_status st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Put "prefix: " in front of the current error message. Returns st unchanged. */
ld_status ld_err_prefix(ld_status st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefix with "path: " unless the message already starts with it. */
ld_status ld_err_prefix_path(ld_status st, const char *path);
/* The one out-of-memory error: sets "out of memory" and returns LD_ERR_NOMEM (exit 71). Callers
** with something useful to add (what was being allocated) use ld_error(LD_ERR_NOMEM, ...). */
ld_status ld_oom(void);
const char *ld_err_msg(void);
void ld_err_clear(void);

/* Verbosity (-v): 0 quiet, 1 info, 2 debug. */
extern int ld_verbose;
void ld_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Thread count used by kernels and OpenBLAS. */
extern int ld_nthreads;
void ld_threads_set(int n);

/* Checked allocation: NULL only on real out-of-memory. */
void *ld_malloc(size_t n);
void *ld_calloc(size_t n, size_t sz);
void *ld_realloc(void *p, size_t n);
char *ld_strdup(const char *s);
char *ld_strndup(const char *s, size_t n);

/* Propagate a non-OK status. */
#define LD_TRY(expr) do { ld_status ld__s = (expr); if (ld__s != LD_OK) return ld__s; } while (0)

#define LD_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define LD_MIN(a, b) ((a) < (b) ? (a) : (b))
#define LD_MAX(a, b) ((a) > (b) ? (a) : (b))

double ld_now_sec(void);   /* monotonic clock */

/* Progress of long work (a comparison, autopin's tries), reported to whoever runs it: the text
** front end prints it on stderr (ld_progress_stderr), the TUI shows it in its status line.
** A step (total > 0: done of total) replaces the previous step; an event (total < 0) is a line
** worth keeping, such as one autopin try; msg NULL ends the steps (clear the line). A NULL
** fn reports nothing. */
typedef struct ld_progress {
    void (*fn)(void *user, const char *msg, int64_t done, int64_t total);
    void *user;
} ld_progress;
void ld_progress_step(const ld_progress *p, int64_t done, int64_t total, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void ld_progress_event(const ld_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ld_progress_end(const ld_progress *p);
/* Text front end: steps as one rewritten line ("\r...\033[K"), events as lines, both on
** stderr; user is unused. */
void ld_progress_stderr(void *user, const char *msg, int64_t done, int64_t total);

/* s ends with suf (exactly / ignoring ASCII case): file-type checks by extension. */
bool ld_str_ends_with(const char *s, const char *suf);
bool ld_str_ends_with_ci(const char *s, const char *suf);

/* Read a whole file (NUL-terminated copy for convenience); LD_ERR_NOINPUT if missing. */
ld_status ld_file_read(const char *path, uint8_t **buf, size_t *len);

#endif
