/*
** cmd_util.c — helpers shared by the commands: error printing, CPU count.
*/
#include "cmd.h"

#include <stdio.h>
#include <unistd.h>

int ld_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int ld_report_error(ld_status st, const char *prefix) {
    if (prefix && prefix[0]) fprintf(stderr, "layerdiff: %s: %s\n", prefix, ld_err_msg());
    else fprintf(stderr, "layerdiff: %s\n", ld_err_msg());
    return (int)st;
}

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

bool ld_arg_value(int argc, char **argv, int *i, const char *name, const char **val, ld_status *st) {
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n)) return false;
    if (a[n] == '=') { *val = a + n + 1; return true; }
    if (a[n]) return false;
    if (*i + 1 >= argc) {
        *st = ld_error(LD_ERR_USAGE, "option %s needs a value", name);
        *val = NULL;
        return true;
    }
    *val = argv[++*i];
    return true;
}

bool ld_arg_flag(char **argv, int i, const char *name) { return !strcmp(argv[i], name); }

ld_status ld_arg_int(const char *flag, const char *s, int64_t lo, int64_t hi, int64_t *out) {
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return ld_error(LD_ERR_USAGE, "%s takes a whole number from %lld to %lld (got '%s')", flag,
                        (long long)lo, (long long)hi, s);
    *out = v;
    return LD_OK;
}

ld_status ld_usage_error(const char *cmd, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return ld_error(LD_ERR_USAGE, "%s: %s (see 'layerdiff help %s')", cmd, buf, cmd);
}

void ld_tensor_stats(const ld_tensor *t, ld_stats *s) {
    memset(s, 0, sizeof *s);
    s->min = INFINITY;
    s->max = -INFINITY;
    if (t->kind != LD_KIND_TENSOR || t->dtype == LD_STRING || !t->data) return;
    double sum = 0, sq = 0;
    int64_t n = 0;
    const float *f = t->dtype == LD_F32 ? t->data : NULL;
    for (int64_t i = 0; i < t->numel; i++) {
        double v = f ? f[i] : ld_tensor_get_f64(t, i);
        if (isnan(v)) { s->nan++; continue; }
        if (isinf(v)) { s->inf++; continue; }
        if (v < s->min) s->min = v;
        if (v > s->max) s->max = v;
        if (fabs(v) > s->absmax) s->absmax = fabs(v);
        sum += v;
        sq += v * v;
        n++;
    }
    s->count = t->numel;
    if (n) {
        s->mean = sum / n;
        double var = sq / n - s->mean * s->mean;
        s->std = var > 0 ? sqrt(var) : 0;
    } else {
        s->min = s->max = NAN;
    }
}
