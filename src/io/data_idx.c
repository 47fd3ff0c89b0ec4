/*
** data_idx.c — IDX files, the format of MNIST and Fashion-MNIST (plain or gzip-compressed,
** read through zlib's gzread, which passes uncompressed files through unchanged).
**
** Layout: two zero bytes, a type byte (0x08 = uint8), a rank byte, one big-endian uint32 per
** dimension, then the row-major data. Images are magic 0x00000803 (N x H x W), labels
** 0x00000801 (N). Only uint8 data is read, which is what those datasets use.
*/
#include "data_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

ld_status data_gz_read(const char *path, uint8_t **buf_out, size_t *len_out) {
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        return ld_error(errno == ENOENT ? LD_ERR_NOINPUT : LD_ERR_IO, "%s: %s", path,
                        errno ? strerror(errno) : "cannot open");
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    ld_status st = buf ? LD_OK : ld_oom();
    while (st == LD_OK) {
        if (cap - len < (1 << 16)) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) { st = ld_error(LD_ERR_NOMEM, "out of memory reading %s", path); break; }
            buf = nb;
            cap *= 2;
        }
        int n = gzread(gz, buf + len, (unsigned)(cap - len - 1));
        if (n <= 0) {
            int err = Z_OK;
            const char *msg = gzerror(gz, &err);
            /* A truncated gzip stream ends with Z_BUF_ERROR but gzread returns 0. */
            size_t pl = strlen(path);     /* zlib's message starts with "path: " */
            if (msg && !strncmp(msg, path, pl) && !strncmp(msg + pl, ": ", 2)) msg += pl + 2;
            if (n < 0 || (err != Z_OK && err != Z_STREAM_END))
                st = ld_error(LD_ERR_DATA, "%s: corrupt or truncated gzip data: %s", path, msg ? msg : "read error");
            break;
        }
        len += (size_t)n;
    }
    gzclose(gz);
    if (st != LD_OK) { free(buf); return st; }
    buf[len] = 0;
    *buf_out = buf;
    *len_out = len;
    return LD_OK;
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

bool data_is_idx(const char *path) {
    gzFile gz = gzopen(path, "rb");
    if (!gz) return false;
    uint8_t m[4] = {0};
    int n = gzread(gz, m, 4);
    gzclose(gz);
    return n == 4 && m[0] == 0 && m[1] == 0 && (m[2] == 0x08 || m[2] == 0x09 || m[2] >= 0x0b) &&
           m[2] <= 0x0e && m[3] >= 1 && m[3] <= 4;
}

static ld_status idx_parse(data_idx *x, size_t len, const char *path) {
    const uint8_t *b = x->buf;
    if (len < 4 || b[0] || b[1]) return ld_error(LD_ERR_DATA, "%s: not an IDX file", path);
    x->type = b[2];
    x->ndim = b[3];
    if (x->type != 0x08)
        return ld_error(LD_ERR_UNSUPPORTED, "%s: IDX data type 0x%02x is not supported (only uint8, 0x08)", path, x->type);
    if (x->ndim < 1 || x->ndim > 4) return ld_error(LD_ERR_DATA, "%s: IDX rank %d is not supported", path, x->ndim);
    size_t head = 4 + 4 * (size_t)x->ndim;
    if (len < head) return ld_error(LD_ERR_DATA, "%s: IDX header is truncated", path);
    x->count = 1;
    for (int i = 0; i < x->ndim; i++) {
        x->dims[i] = be32(b + 4 + 4 * i);
        if (x->dims[i] && x->count > INT64_MAX / 256 / x->dims[i])
            return ld_error(LD_ERR_DATA, "%s: IDX dimensions are too large", path);
        x->count *= x->dims[i];
    }
    if ((uint64_t)(len - head) < (uint64_t)x->count)
        return ld_error(LD_ERR_DATA, "%s: IDX file is truncated: header promises %lld bytes of data, the file holds %zu",
                        path, (long long)x->count, len - head);
    if ((uint64_t)(len - head) > (uint64_t)x->count)
        ld_log(1, "%s: ignoring %zu bytes after the IDX data", path, len - head - (size_t)x->count);
    x->data = b + head;
    return LD_OK;
}

ld_status data_idx_read(const char *path, data_idx *x) {
    memset(x, 0, sizeof *x);
    size_t len;
    LD_TRY(data_gz_read(path, &x->buf, &len));
    ld_status st = idx_parse(x, len, path);
    if (st != LD_OK) data_idx_free(x);
    return st;
}

void data_idx_free(data_idx *x) {
    free(x->buf);
    memset(x, 0, sizeof *x);
}

/* Per-sample shape the target wants for an HxW gray image: (1,H,W), (H,W) or (H*W). */
static ld_status idx_sample_shape(const data_target *tg, const char *path, int *ndim) {
    switch (tg->rank) {
    case -1: case 4: *ndim = 3; return LD_OK;
    case 3: *ndim = 2; return LD_OK;
    case 2: *ndim = 1; return LD_OK;
    default: {
        char d[256];
        return ld_error(LD_ERR_DATA, "%s: IDX images give (N,1,H,W), (N,H,W) or (N,H*W) but input '%s' is declared %s",
                        path, tg->v->name, data_decl_str(tg, d, sizeof d));
    }
    }
}

ld_status data_idx_images_load(const char *path, const data_target *tg, const data_prep *p,
                               data_set *s) {
    int ndim = 3;
    LD_TRY(idx_sample_shape(tg, path, &ndim));
    data_idx x;
    LD_TRY(data_idx_read(path, &x));
    if (x.ndim != 3) {
        data_idx_free(&x);
        return ld_error(LD_ERR_DATA, "%s: IDX images need magic 0x00000803 (uint8, N x H x W); this file has rank %d%s",
                        path, x.ndim, x.ndim == 1 ? " (a labels file?)" : "");
    }
    data_image img = {(int)x.dims[1], (int)x.dims[2], 1, NULL};
    size_t plane = (size_t)img.h * img.w;
    ld_status st = LD_OK;
    for (int64_t i = 0; i < x.dims[0] && st == LD_OK && !data_set_full(s); i++) {
        img.px = (uint8_t *)x.data + i * plane;
        char name[4200];
        snprintf(name, sizeof name, "%s (image %lld)", path, (long long)i);
        ld_tensor *t = NULL;
        st = data_image_prepare(&img, p, name, &t);
        if (st == LD_OK && ndim != 3) {     /* drop the channel axis, or flatten */
            int64_t d[2] = {t->dims[1], t->dims[2]};
            if (ndim == 1) d[0] *= d[1];
            st = ld_tensor_set_shape(t, LD_F32, ndim, d);
        }
        if (st == LD_OK) st = data_set_add(s, t, "", name);
        else ld_tensor_free(t);
    }
    data_idx_free(&x);
    return st;
}
