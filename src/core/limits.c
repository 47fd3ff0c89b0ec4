/*
** limits.c — the resource limits of ld_limits.h: defaults, flag parsing, the live tensor
** byte count checked before every tensor allocation, the Loop/Scan iteration check, and
** warnings printed once per node.
*/
#include "ld_limits.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GiB ((int64_t)1 << 30)

#define LIMIT_DEFAULTS {                                                                        \
    .max_iterations = 1000000,                                                                  \
    .max_tensor_bytes = 16 * GiB,                                                               \
    .max_memory = 0,   /* 0: the machine's physical memory */                                   \
    .max_depth = 64,                                                                            \
    .max_string_bytes = 16 << 20,                                                               \
    .fold_max_bytes = 64 << 20,                                                                 \
    .allow_external_outside = false,                                                            \
}

static const ld_limits defaults = LIMIT_DEFAULTS;
ld_limits ld_limit = LIMIT_DEFAULTS;   /* C (and clang) want a constant initializer here */

static size_t live_bytes;   /* accessed with __atomic builtins */

void ld_limits_reset(void) { ld_limit = defaults; }

static const struct {
    const char *flag;
    int64_t *field;
    bool size;   /* accepts K/M/G/T */
} flags[] = {
    {"--max-iterations", &ld_limit.max_iterations, false},
    {"--max-tensor-bytes", &ld_limit.max_tensor_bytes, true},
    {"--max-memory", &ld_limit.max_memory, true},
    {"--max-depth", &ld_limit.max_depth, false},
    {"--max-string-bytes", &ld_limit.max_string_bytes, true},
};

bool ld_limit_is_flag(const char *flag, bool *takes_value) {
    *takes_value = false;
    if (!strcmp(flag, "--allow-external-outside")) return true;
    *takes_value = true;
    for (size_t i = 0; i < LD_ARRAY_LEN(flags); i++)
        if (!strcmp(flag, flags[i].flag)) return true;
    return false;
}

/* "123", "64K", "8G" -> bytes; false if malformed, below 1 or overflowing. */
static bool parse_count(const char *s, bool size, int64_t *out) {
    char *end;
    if (!s || !*s || *s == '-' || *s == '+') return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s) return false;
    int shift = 0;
    if (size && *end) {
        const char *u = "KMGT", *p = strchr(u, *end & ~0x20);
        if (!p || !*p) return false;
        shift = 10 * (int)(p - u + 1);
        end++;
        if (*end == 'B' || *end == 'b') end++;
    }
    if (*end || v < 1 || v > (unsigned long long)(INT64_MAX >> shift)) return false;
    *out = (int64_t)(v << shift);
    return true;
}

ld_status ld_limit_set(const char *flag, const char *value) {
    if (!strcmp(flag, "--allow-external-outside")) {
        ld_limit.allow_external_outside = true;
        return LD_OK;
    }
    for (size_t i = 0; i < LD_ARRAY_LEN(flags); i++) {
        if (strcmp(flag, flags[i].flag)) continue;
        if (!parse_count(value, flags[i].size, flags[i].field))
            return ld_error(LD_ERR_USAGE, "%s takes a positive whole number%s, got '%s'", flag,
                            flags[i].size ? " of bytes (suffix K, M, G or T allowed)" : "",
                            value ? value : "");
        return LD_OK;
    }
    return ld_error(LD_ERR_USAGE, "unknown limit flag '%s'", flag);
}

static int64_t max_memory(void) {
    if (ld_limit.max_memory > 0) return ld_limit.max_memory;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (int64_t)pages * page : INT64_MAX;
}

ld_status ld_limit_acquire(size_t bytes) {
    if ((uint64_t)bytes > (uint64_t)ld_limit.max_tensor_bytes)
        return ld_error(LD_ERR_DATA, "a tensor of %zu bytes exceeds the limit of %lld bytes per tensor "
                        "(raise it with --max-tensor-bytes)", bytes, (long long)ld_limit.max_tensor_bytes);
    size_t now = __atomic_add_fetch(&live_bytes, bytes, __ATOMIC_RELAXED);
    int64_t cap = max_memory();
    if ((uint64_t)now > (uint64_t)cap) {
        __atomic_sub_fetch(&live_bytes, bytes, __ATOMIC_RELAXED);
        return ld_error(LD_ERR_DATA, "allocating a tensor of %zu bytes with %zu bytes of tensors alive "
                        "exceeds the memory limit of %lld bytes (raise it with --max-memory)",
                        bytes, now - bytes, (long long)cap);
    }
    return LD_OK;
}

void ld_limit_release(size_t bytes) {
    size_t cur = __atomic_load_n(&live_bytes, __ATOMIC_RELAXED);
    /* never below zero, whatever a caller gets wrong */
    while (!__atomic_compare_exchange_n(&live_bytes, &cur, cur > bytes ? cur - bytes : 0, false,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
}

size_t ld_limit_live_bytes(void) { return __atomic_load_n(&live_bytes, __ATOMIC_RELAXED); }

ld_status ld_limit_iteration(const char *op, int64_t it) {
    if (it < ld_limit.max_iterations) return LD_OK;
    return ld_error(LD_ERR_DATA, "%s runs more than %lld iterations (raise the limit with --max-iterations)",
                    op, (long long)ld_limit.max_iterations);
}

/* ---- warnings once per key ---- */

#define WARN_KEYS 256
static const void *warned[WARN_KEYS];
static int nwarned;
static bool overflowed;
static pthread_mutex_t warn_lock = PTHREAD_MUTEX_INITIALIZER;

void ld_warn_once(const void *key, const char *fmt, ...) {
    pthread_mutex_lock(&warn_lock);
    bool seen = false, full = false;
    for (int i = 0; i < nwarned && !seen; i++) seen = warned[i] == key;
    if (!seen && nwarned < WARN_KEYS) warned[nwarned++] = key;
    else if (!seen && !overflowed) full = overflowed = true;   /* say so once, then stay quiet */
    else seen = true;
    pthread_mutex_unlock(&warn_lock);
    if (full) fprintf(stderr, "layerdiff: warning: more than %d warnings; the rest are not shown\n", WARN_KEYS);
    if (seen || full) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("layerdiff: warning: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}
