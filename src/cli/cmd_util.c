/*
** cmd_util.c — helpers shared by the commands: error printing, CPU count, flag parsing (the
** data flags run, compare, autopin and browse share are parsed here, once).
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

ld_status ld_arg_hw(const char *flag, const char *v, int *h, int *w) {
    char *end;
    long a = strtol(v, &end, 10), b = a;   /* "N" alone is NxN */
    if (*end == 'x' || *end == 'X') b = strtol(end + 1, &end, 10);
    if (*end || a < 1 || b < 1 || a > 65536 || b > 65536) return ld_error(LD_ERR_USAGE, "%s takes HxW (got '%s')", flag, v);
    *h = (int)a;
    *w = (int)b;
    return LD_OK;
}

ld_status ld_arg_floats(const char *flag, const char *v, float *out, int *n) {
    *n = 0;
    const char *p = v;
    while (*p && *n < 4) {
        char *end;
        out[(*n)++] = strtof(p, &end);
        if (end == p) return ld_error(LD_ERR_USAGE, "%s takes comma-separated numbers (got '%s')", flag, v);
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return ld_error(LD_ERR_USAGE, "%s takes comma-separated numbers (got '%s')", flag, v);
    }
    return LD_OK;
}

bool ld_arg_data(int argc, char **argv, int *i, const char *cmd, ld_input_opts *in, ld_data_opts *data,
                 ld_status *st) {
    const char *v = NULL;
    int64_t iv;
    assert(in->specs);
#define VAL(name) ld_arg_value(argc, argv, i, name, &v, st)
    if (VAL("--input")) {
        if (!*st && in->nspecs >= LD_MAX_INPUT_SPECS) *st = ld_usage_error(cmd, "too many --input options");
        if (!*st) in->specs[in->nspecs++] = v;
    } else if (VAL("--inputs")) in->inputs_file = v;
    else if (VAL("--val-range")) { if (!*st) *st = ld_parse_range(v, &in->lo, &in->hi); }
    else if (VAL("--seed")) { if (!*st && !(*st = ld_arg_int("--seed", v, 0, INT64_MAX, &iv))) in->seed = (uint64_t)iv; }
    else if (VAL("--batch")) {
        if (!*st) *st = ld_arg_int("--batch", v, 1, 1 << 20, &in->batch);
        data->batch = in->split = in->batch;       /* explicit: also cuts given arrays */
    } else if (VAL("--data")) data->path = v;
    else if (VAL("--max-samples")) { if (!*st) *st = ld_arg_int("--max-samples", v, 1, INT64_MAX, &data->max_samples); }
    else if (VAL("--resize")) { if (!*st) *st = ld_arg_hw("--resize", v, &data->resize_h, &data->resize_w); }
    else if (VAL("--center-crop")) { if (!*st) *st = ld_arg_hw("--center-crop", v, &data->crop_h, &data->crop_w); }
    else if (VAL("--mean")) { if (!*st) *st = ld_arg_floats("--mean", v, data->mean, &data->nmean); }
    else if (VAL("--std")) { if (!*st) *st = ld_arg_floats("--std", v, data->std, &data->nstd); }
    else if (ld_arg_flag(argv, *i, "--imagenet-norm")) data->imagenet_norm = true;
    else return false;
#undef VAL
    return true;
}

ld_status ld_arg_data_check(const char *cmd, const ld_input_opts *in, const ld_data_opts *data) {
    if (data->path && (in->inputs_file || in->nspecs)) return ld_usage_error(cmd, "--data excludes --input/--inputs");
    return LD_OK;
}
