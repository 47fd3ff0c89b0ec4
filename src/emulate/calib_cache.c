/*
** calib_cache.c — the TensorRT calibration cache text format.
**
**   TRT-8601-EntropyCalibration2
**   input: 3c010a14
**   /layer1/Relu_output_0: 3d7c6a0a
**
** The first line is a header (any text; TensorRT writes TRT-<version>-<algorithm>); a first
** line that does not start with "TRT-" but reads as an entry is taken as one (headerless
** file). Every other non-blank line is `name: hex`, split at the last ": " (names may hold
** ':'), hex being the IEEE-754 bits of the float32 INT8 scale, 1 to 8 hex digits; amax =
** scale * 127. Line endings may be CRLF; trailing blanks are ignored; a later line for the
** same name wins.
**
** Bit-exact scales: ld_calib keeps amax, not the scale, and the quantizer uses
** scale = amax / 127 in float. Reading takes amax = fl(scale * 127), which gives back the
** scale bits exactly whenever some float amax has fl(amax / 127) == scale (checked over a
** seventh of all float bit patterns; no other nearby amax ever does better), so caches whose
** scales were computed as amax / 127 in float — ours, and TensorRT's as far as we know —
** survive a read -> write round trip bit for bit, and the emulation quantizes with the
** cache's own scales. About 3% of float bit patterns are no float's amax / 127; such a scale
** comes back 1 ulp off (relative 6e-8).
*/
#include "ld_calib.h"
#include "ld_outfile.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CACHE_VERSION "8601"

const char *ld_calib_cache_header(ld_calib_method m) {
    switch (m) {
    case LD_CALIB_MINMAX: return "TRT-" CACHE_VERSION "-MinMaxCalibration";
    case LD_CALIB_PERCENTILE: return "TRT-" CACHE_VERSION "-PercentileCalibration";
    case LD_CALIB_MSE: return "TRT-" CACHE_VERSION "-MSECalibration";
    case LD_CALIB_ENTROPY:
    default: return "TRT-" CACHE_VERSION "-EntropyCalibration2";
    }
}

static uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

float ld_calib_amax_to_scale(float amax) { return amax / 127.0f; }

float ld_calib_scale_to_amax(float scale) { return (float)((double)scale * 127.0); }

/* "name: hex" -> name (malloc'ed) and scale. Returns false if the line is not an entry;
 * *why says what is wrong. */
static bool parse_entry(const char *line, size_t len, char **name, float *scale, const char **why) {
    size_t sep = len;
    for (size_t i = len; i-- > 0;)
        if (line[i] == ':' && i + 1 < len && line[i + 1] == ' ') { sep = i; break; }
    if (sep == len) { *why = "expected 'name: hexscale'"; return false; }
    if (sep == 0) { *why = "empty tensor name"; return false; }
    size_t h = sep + 2;
    while (h < len && line[h] == ' ') h++;
    size_t nd = len - h;
    if (nd == 0) { *why = "missing scale after ': '"; return false; }
    if (nd > 8) { *why = "scale has more than 8 hex digits"; return false; }
    uint32_t bits = 0;
    for (size_t i = h; i < len; i++) {
        char ch = line[i];
        int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
              : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
        if (d < 0) { *why = "scale is not hexadecimal"; return false; }
        bits = bits << 4 | (uint32_t)d;
    }
    float s = bits_f32(bits);
    if (!isfinite(s) || s < 0 || signbit(s)) { *why = "scale is not a finite non-negative float"; return false; }
    *scale = s;
    *name = ld_strndup(line, sep);
    if (!*name) { *why = "out of memory"; return false; }
    return true;
}

ld_status ld_calib_cache_read_ex(const char *path, ld_calib *out, char **header) {
    if (header) *header = NULL;
    uint8_t *buf;
    size_t len;
    LD_TRY(ld_err_prefix_path(ld_file_read(path, &buf, &len), path));
    if (memchr(buf, '\0', len)) {
        free(buf);
        return ld_error(LD_ERR_DATA, "%s: not a calibration cache (binary data)", path);
    }
    ld_calib res = {0};
    ld_status st = LD_OK;
    bool any_line = false;
    const char *p = (const char *)buf, *end = p + len;
    for (int lineno = 1; st == LD_OK && p < end; lineno++) {
        const char *nl = memchr(p, '\n', end - p);
        const char *le = nl ? nl : end;
        size_t n = le - p;
        while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
        const char *line = p;
        p = nl ? nl + 1 : end;
        if (lineno == 1) {
            any_line = true;
            char *name;
            float s;
            const char *why;
            bool trt = n >= 4 && !memcmp(line, "TRT-", 4);
            if (trt || !parse_entry(line, n, &name, &s, &why)) {
                if (header && !(*header = ld_strndup(line, n))) st = ld_oom();
                continue;
            }
            st = ld_calib_set(&res, name, ld_calib_scale_to_amax(s));
            free(name);
            continue;
        }
        if (n == 0) continue;
        char *name;
        float s;
        const char *why = "";
        if (!parse_entry(line, n, &name, &s, &why)) {
            st = ld_error(LD_ERR_DATA, "%s:%d: malformed calibration cache line '%.*s': %s", path, lineno,
                          (int)LD_MIN(n, (size_t)80), line, why);
            break;
        }
        if (ld_calib_get(&res, name) >= 0) ld_log(1, "%s:%d: '%s' given again; the later scale wins", path, lineno, name);
        st = ld_calib_set(&res, name, ld_calib_scale_to_amax(s));
        free(name);
    }
    free(buf);
    if (st == LD_OK && !any_line) st = ld_error(LD_ERR_DATA, "%s: empty calibration cache", path);
    for (int i = 0; st == LD_OK && i < res.n; i++) st = ld_calib_set(out, res.names[i], res.amax[i]);
    ld_calib_clear(&res);
    if (st != LD_OK && header) { free(*header); *header = NULL; }
    return st;
}

ld_status ld_calib_cache_read(const char *path, ld_calib *out) {
    return ld_calib_cache_read_ex(path, out, NULL);
}

ld_status ld_calib_cache_write_header(const char *path, const ld_calib *c, const char *header, bool force) {
    if (!header || strpbrk(header, "\r\n"))
        return ld_error(LD_ERR_USAGE, "calibration cache header must be one line");
    for (int i = 0; i < c->n; i++) {
        if (!c->names[i][0] || strpbrk(c->names[i], "\r\n"))
            return ld_error(LD_ERR_DATA, "tensor name '%s' cannot be written to a calibration cache", c->names[i]);
        if (!isfinite(c->amax[i]) || c->amax[i] < 0)
            return ld_error(LD_ERR_DATA, "amax %g of '%s' is not a finite non-negative number", (double)c->amax[i],
                            c->names[i]);
    }
    ld_outfile o;
    LD_TRY(ld_out_open(path, force ? LD_OUT_FORCE : 0, &o));
    fprintf(o.f, "%s\n", header);
    for (int i = 0; i < c->n; i++)
        fprintf(o.f, "%s: %08x\n", c->names[i], (unsigned)f32_bits(ld_calib_amax_to_scale(c->amax[i])));
    return ld_out_commit(&o);
}

ld_status ld_calib_cache_write_method(const char *path, const ld_calib *c, ld_calib_method m, bool force) {
    return ld_calib_cache_write_header(path, c, ld_calib_cache_header(m), force);
}

ld_status ld_calib_cache_write(const char *path, const ld_calib *c, bool force) {
    return ld_calib_cache_write_method(path, c, LD_CALIB_ENTROPY, force);
}
