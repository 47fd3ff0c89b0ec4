/*
** common.c — error message buffer, logging, checked allocation, thread count, clock.
*/
#include "ld_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static _Thread_local char err_buf[4096];

ld_status ld_error(ld_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_buf, sizeof err_buf, fmt, ap);
    va_end(ap);
    return st;
}

ld_status ld_oom(void) {
    return ld_error(LD_ERR_NOMEM, "out of memory");
}

ld_status ld_err_prefix(ld_status st, const char *fmt, ...) {
    char pre[1024], old[sizeof err_buf];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    snprintf(old, sizeof old, "%s", err_buf);
    snprintf(err_buf, sizeof err_buf, "%.1000s: %.3000s", pre, old);
    return st;
}

const char *ld_err_msg(void) { return err_buf[0] ? err_buf : "unknown error"; }
void ld_err_clear(void) { err_buf[0] = 0; }

int ld_verbose = 0;

void ld_log(int level, const char *fmt, ...) {
    if (level > ld_verbose) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("layerdiff: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int ld_nthreads = 1;

void ld_threads_set(int n) {
    if (n < 1) n = 1;
    ld_nthreads = n;
    openblas_set_num_threads(n);
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
}

void *ld_malloc(size_t n) { return malloc(n ? n : 1); }
void *ld_calloc(size_t n, size_t sz) { return calloc(n ? n : 1, sz ? sz : 1); }
void *ld_realloc(void *p, size_t n) { return realloc(p, n ? n : 1); }

char *ld_strdup(const char *s) { return s ? strdup(s) : NULL; }

char *ld_strndup(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (!p) return NULL;
    if (n) memcpy(p, s, n);
    p[n] = 0;
    return p;
}

double ld_now_sec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void progress_v(const ld_progress *p, int64_t done, int64_t total, const char *fmt, va_list ap) {
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    p->fn(p->user, msg, done, total);
}

void ld_progress_step(const ld_progress *p, int64_t done, int64_t total, const char *fmt, ...) {
    if (!p || !p->fn) return;
    assert(total > 0 && done >= 0);
    va_list ap;
    va_start(ap, fmt);
    progress_v(p, done, total, fmt, ap);
    va_end(ap);
}

void ld_progress_event(const ld_progress *p, const char *fmt, ...) {
    if (!p || !p->fn) return;
    va_list ap;
    va_start(ap, fmt);
    progress_v(p, 0, -1, fmt, ap);
    va_end(ap);
}

void ld_progress_end(const ld_progress *p) {
    if (p && p->fn) p->fn(p->user, NULL, 0, 0);
}

void ld_progress_stderr(void *user, const char *msg, int64_t done, int64_t total) {
    (void)user;
    (void)done;
    if (!msg) fputs("\r\033[K", stderr);
    else if (total < 0) fprintf(stderr, "%s\n", msg);
    else fprintf(stderr, "\r%s\033[K", msg);
    fflush(stderr);
}

ld_status ld_err_prefix_path(ld_status st, const char *path) {
    size_t n = strlen(path);
    if (!strncmp(err_buf, path, n) && err_buf[n] == ':') return st;
    return ld_err_prefix(st, "%s", path);
}

bool ld_str_ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

bool ld_str_ends_with_ci(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcasecmp(s + a - b, suf);
}
