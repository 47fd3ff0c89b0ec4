/*
** io_npy.c — NumPy .npy format (versions 1-3): parse and serialise, all numeric dtypes,
** little- and big-endian, C and Fortran order. bfloat16 has no NumPy dtype and is written
** as float32; float8 types are written as uint8 bit patterns.
*/
#include "ld_io.h"
#include "ld_numeric.h"
#include "ld_outfile.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct { char kind; int size; ld_dtype dt; } npy_types[] = {
    {'f', 4, LD_F32}, {'f', 8, LD_F64}, {'f', 2, LD_F16}, {'i', 1, LD_I8}, {'i', 2, LD_I16},
    {'i', 4, LD_I32}, {'i', 8, LD_I64}, {'u', 1, LD_U8}, {'u', 2, LD_U16}, {'u', 4, LD_U32},
    {'u', 8, LD_U64}, {'b', 1, LD_BOOL}, {'c', 8, LD_C64}, {'c', 16, LD_C128},
};

/* Find `key` in the header dict and return a pointer just after "key':" (skipping spaces). */
static const char *dict_value(const char *h, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "'%s'", key);
    const char *p = strstr(h, pat);
    if (!p) { snprintf(pat, sizeof pat, "\"%s\"", key); p = strstr(h, pat); }
    if (!p) return NULL;
    p += strlen(pat);
    while (*p == ' ') p++;
    if (*p != ':') return NULL;
    p++;
    while (*p == ' ') p++;
    return p;
}

static void swap_bytes(uint8_t *d, size_t es, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        for (size_t a = 0, b = es - 1; a < b; a++, b--) {
            uint8_t t = d[i * es + a];
            d[i * es + a] = d[i * es + b];
            d[i * es + b] = t;
        }
}

/* Fortran order: element (i0..in) at sum(i_k * prod_{j<k} d_j); convert to C order. */
static void fortran_to_c(uint8_t *dst, const uint8_t *src, const ld_tensor *t, size_t es) {
    int64_t idx[LD_MAX_DIMS] = {0};
    for (int64_t c = 0; c < t->numel; c++) {
        int64_t f = 0, mul = 1;
        for (int k = 0; k < t->ndim; k++) { f += idx[k] * mul; mul *= t->dims[k]; }
        memcpy(dst + c * es, src + f * es, es);
        for (int k = t->ndim - 1; k >= 0; k--) {
            if (++idx[k] < t->dims[k]) break;
            idx[k] = 0;
        }
    }
}

ld_status ld_npy_parse(const uint8_t *buf, size_t len, ld_tensor *out) {
    memset(out, 0, sizeof *out);
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0)
        return ld_error(LD_ERR_DATA, "not a .npy file (bad magic)");
    int major = buf[6];
    size_t hlen, hstart;
    if (major == 1) { hlen = buf[8] | (buf[9] << 8); hstart = 10; }
    else if (major == 2 || major == 3) {
        if (len < 12) return ld_error(LD_ERR_DATA, "truncated .npy header");
        hlen = buf[8] | (buf[9] << 8) | ((size_t)buf[10] << 16) | ((size_t)buf[11] << 24);
        hstart = 12;
    } else return ld_error(LD_ERR_DATA, ".npy version %d is not supported", major);
    if (hlen > len - hstart) return ld_error(LD_ERR_DATA, "truncated .npy header");
    char *h = ld_strndup((const char *)buf + hstart, hlen);
    if (!h) return ld_oom();
    ld_status st = LD_OK;
    const char *d = dict_value(h, "descr"), *fo = dict_value(h, "fortran_order"), *sh = dict_value(h, "shape");
    if (!d || !fo || !sh || (*d != '\'' && *d != '"')) { st = ld_error(LD_ERR_DATA, "malformed .npy header"); goto out; }
    if (strlen(d) < 4) { st = ld_error(LD_ERR_DATA, "malformed .npy header (descr)"); goto out; }
    char endian = d[1], kind = d[2];
    int size = atoi(d + 3);
    if (endian != '<' && endian != '>' && endian != '|' && endian != '=') {
        kind = d[1]; size = atoi(d + 2); endian = '|';
    }
    ld_dtype dt = LD_UNDEFINED;
    for (size_t i = 0; i < LD_ARRAY_LEN(npy_types); i++)
        if (npy_types[i].kind == kind && npy_types[i].size == size) dt = npy_types[i].dt;
    if (kind == '?' ) dt = LD_BOOL;
    if (dt == LD_UNDEFINED) {
        const char *e = strpbrk(d + 1, "'\"");
        st = ld_error(LD_ERR_UNSUPPORTED, ".npy dtype %.*s is not supported", e ? (int)(e - d - 1) : 8, d + 1);
        goto out;
    }
    bool fortran = !strncmp(fo, "True", 4);
    if (*sh != '(') { st = ld_error(LD_ERR_DATA, "malformed .npy shape"); goto out; }
    int64_t dims[LD_MAX_DIMS];
    int nd = 0;
    const char *p = sh + 1;
    for (;;) {
        while (*p == ' ' || *p == ',') p++;
        if (*p == ')') break;
        if (!isdigit((unsigned char)*p)) { st = ld_error(LD_ERR_DATA, "malformed .npy shape"); goto out; }
        if (nd == LD_MAX_DIMS) { st = ld_error(LD_ERR_UNSUPPORTED, ".npy rank above %d", LD_MAX_DIMS); goto out; }
        errno = 0;
        char *end;
        long long v = strtoll(p, &end, 10);
        if (errno || v < 0) { st = ld_error(LD_ERR_DATA, "malformed .npy shape"); goto out; }
        dims[nd++] = v;
        p = end;
        while (*p == 'L') p++;
    }
    if ((st = ld_tensor_set_shape(out, dt, nd, dims)) != LD_OK) goto out;
    size_t es = ld_dtype_size(dt);
    size_t need = (size_t)out->numel * es;
    if (out->numel && need / es != (size_t)out->numel) { st = ld_error(LD_ERR_DATA, ".npy too large"); goto out; }
    if (len - hstart - hlen < need) {
        st = ld_error(LD_ERR_DATA, "truncated .npy data: shape needs %zu bytes, file has %zu", need, len - hstart - hlen);
        goto out;
    }
    if ((st = ld_tensor_alloc_data(out)) != LD_OK) goto out;
    const uint8_t *src = buf + hstart + hlen;
    if (fortran && nd > 1) fortran_to_c(out->data, src, out, es);
    else if (need) memcpy(out->data, src, need);
    if (endian == '>' && es > 1) swap_bytes(out->data, dt == LD_C64 || dt == LD_C128 ? es / 2 : es,
                                            dt == LD_C64 || dt == LD_C128 ? out->numel * 2 : out->numel);
out:
    free(h);
    if (st != LD_OK) ld_tensor_clear(out);
    return st;
}

static const char *npy_descr(ld_dtype dt) {
    switch (dt) {
    case LD_F32: return "<f4"; case LD_F64: return "<f8"; case LD_F16: return "<f2";
    case LD_I8: return "|i1"; case LD_I16: return "<i2"; case LD_I32: return "<i4"; case LD_I64: return "<i8";
    case LD_U8: return "|u1"; case LD_U16: return "<u2"; case LD_U32: return "<u4"; case LD_U64: return "<u8";
    case LD_BOOL: return "|b1"; case LD_C64: return "<c8"; case LD_C128: return "<c16";
    case LD_I4: case LD_I2: return "|i1";
    case LD_U4: case LD_U2: case LD_F8E4M3FN: case LD_F8E4M3FNUZ: case LD_F8E5M2: case LD_F8E5M2FNUZ:
    case LD_F4E2M1: case LD_F8E8M0: return "|u1";
    default: return NULL;
    }
}

ld_status ld_npy_serialize(const ld_tensor *t, uint8_t **buf, size_t *len) {
    ld_tensor conv = {0};
    if (t->kind != LD_KIND_TENSOR) return ld_error(LD_ERR_UNSUPPORTED, "only tensors can be saved as .npy");
    if (t->dtype == LD_BF16) {     /* no numpy bfloat16: widen */
        LD_TRY(ld_tensor_convert(&conv, t, LD_F32));
        t = &conv;
    }
    const char *descr = npy_descr(t->dtype);
    if (!descr) return ld_error(LD_ERR_UNSUPPORTED, "dtype %s cannot be saved as .npy", ld_dtype_name(t->dtype));
    char hdr[512], sh[256];
    size_t o = 0;
    o += snprintf(sh + o, sizeof sh - o, "(");
    for (int i = 0; i < t->ndim; i++) o += snprintf(sh + o, sizeof sh - o, "%lld,%s", (long long)t->dims[i], i + 1 < t->ndim ? " " : "");
    if (t->ndim > 1) o--;          /* "(2, 3)" not "(2, 3,)" */
    snprintf(sh + o, sizeof sh - o, ")");
    int hl = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, sh);
    int total = 10 + hl + 1;
    int pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)hl + pad + 1;
    *len = 10 + hlen + t->nbytes;
    *buf = malloc(*len);
    if (!*buf) { ld_tensor_clear(&conv); return ld_oom(); }
    memcpy(*buf, "\x93NUMPY\x01\x00", 8);
    (*buf)[8] = hlen & 0xff;
    (*buf)[9] = (hlen >> 8) & 0xff;
    memcpy(*buf + 10, hdr, hl);
    memset(*buf + 10 + hl, ' ', pad);
    (*buf)[10 + hl + pad] = '\n';
    if (t->nbytes) memcpy(*buf + 10 + hlen, t->data, t->nbytes);
    ld_tensor_clear(&conv);
    return LD_OK;
}


ld_status ld_npy_read(const char *path, ld_tensor *out) {
    uint8_t *buf;
    size_t len;
    LD_TRY(ld_file_read(path, &buf, &len));
    ld_status st = ld_npy_parse(buf, len, out);
    free(buf);
    if (st != LD_OK) return ld_err_prefix(st, "%s", path);
    return LD_OK;
}

ld_status ld_npy_write(const char *path, const ld_tensor *t, bool force) {
    uint8_t *buf;
    size_t len;
    LD_TRY(ld_out_check(path, force ? LD_OUT_FORCE : 0));
    LD_TRY(ld_npy_serialize(t, &buf, &len));
    ld_status st = ld_out_write_all(path, force ? LD_OUT_FORCE : 0, buf, len);
    free(buf);
    return st;
}
