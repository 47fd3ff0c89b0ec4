/*
** load_tensor.c — ONNX TensorProto -> ld_tensor, in every encoding the spec allows:
** raw_data (little-endian), the typed repeated fields, packed 4-bit/2-bit types, strings, and
** external data (location/offset/length relative to the model's folder, mmap'ed, not copied).
** Every size the file claims is checked against what it really holds.
*/
#include "load_internal.h"
#include "ld_numeric.h"
#include "ld_limits.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_packed_subbyte(ld_dtype t) {
    return t == LD_U4 || t == LD_I4 || t == LD_F4E2M1 || t == LD_U2 || t == LD_I2;
}
static int subbyte_bits(ld_dtype t) { return (t == LD_U2 || t == LD_I2) ? 2 : 4; }

/* Unpack sub-byte elements (low bits first) into one byte per element. */
static void unpack_subbyte(ld_tensor *t, const uint8_t *src) {
    int bits = subbyte_bits(t->dtype), per = 8 / bits;
    uint8_t mask = (uint8_t)((1u << bits) - 1);
    uint8_t *d = t->data;
    for (int64_t i = 0; i < t->numel; i++) {
        uint8_t v = (src[i / per] >> ((i % per) * bits)) & mask;
        if ((t->dtype == LD_I4 || t->dtype == LD_I2) && (v & (1u << (bits - 1)))) v |= (uint8_t)~mask;
        d[i] = v;
    }
}

static size_t packed_bytes(ld_dtype t, int64_t numel) {
    int per = 8 / subbyte_bits(t);
    return (size_t)((numel + per - 1) / per);
}

/* Whether a relative path has a ".." component ("a/../b", ".."), unlike a name such as
 * "a..b.bin" that merely contains two dots. */
static bool has_dotdot(const char *rel) {
    for (const char *p = rel; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.') return true;
        p += n;
        while (*p == '/') p++;
    }
    return false;
}

/* The external data file `rel` of model m, checked and opened: only a regular file (a FIFO or
 * device would block or never end), and, unless --allow-external-outside, only inside the
 * model's folder: no absolute path, no ".." component, no symbolic link leading out. */
static ld_status open_external(const ld_model *m, const char *rel, char *path, size_t pathlen, int *fd) {
    bool outside_ok = ld_limit.allow_external_outside;
    if (!outside_ok && (rel[0] == '/' || has_dotdot(rel)))
        return ld_error(LD_ERR_DATA, "external data location '%s' leaves the model's folder "
                        "(allow it with --allow-external-outside)", rel);
    if (rel[0] == '/') snprintf(path, pathlen, "%s", rel);
    else snprintf(path, pathlen, "%s/%s", m->dir, rel);
    if (!outside_ok) {
        char *real = realpath(path, NULL);
        int err = errno;
        char *dir = realpath(m->dir, NULL);
        bool inside = real && dir && !strncmp(real, dir, strlen(dir)) &&
                      (real[strlen(dir)] == '/' || !strcmp(dir, "/"));
        free(real);
        free(dir);
        if (!real && err == ENOENT) return ld_error(LD_ERR_NOINPUT, "external data '%s': %s", path, strerror(err));
        if (!inside)
            return ld_error(LD_ERR_DATA, "external data '%s' resolves (through a symbolic link) outside the "
                            "model's folder (allow it with --allow-external-outside)", path);
    }
    /* O_NONBLOCK: opening a FIFO with no writer must not wait */
    *fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (*fd < 0) return ld_error(LD_ERR_NOINPUT, "external data '%s': %s", path, strerror(errno));
    return LD_OK;
}

/* Map an external data file once per model (tensors sharing a file share the mapping);
 * returns the base address and length. */
static ld_status map_external(ld_model *m, const char *rel, const uint8_t **base, size_t *len) {
    if (!m) return ld_error(LD_ERR_DATA, "external data '%s' outside a model", rel);
    char path[4096];
    int fd = -1;
    LD_TRY(open_external(m, rel, path, sizeof path, &fd));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ld_error(LD_ERR_DATA, "external data '%s' is not a regular file", path);
    }
    for (int i = 0; i < m->nmaps; i++)
        if (m->maps[i].dev == (uint64_t)st.st_dev && m->maps[i].ino == (uint64_t)st.st_ino) {
            close(fd);
            *base = m->maps[i].addr;
            *len = m->maps[i].len;
            return LD_OK;
        }
    void *addr = NULL;
    if (st.st_size > 0) {
        addr = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (addr == MAP_FAILED) {
            close(fd);
            return ld_error(LD_ERR_IO, "external data '%s': mmap: %s", path, strerror(errno));
        }
    }
    close(fd);
    ld_mapping *nm = realloc(m->maps, sizeof *nm * (m->nmaps + 1));
    if (!nm) { if (addr) munmap(addr, st.st_size); return ld_oom(); }
    m->maps = nm;
    m->maps[m->nmaps] = (ld_mapping){addr, (size_t)st.st_size, (uint64_t)st.st_dev, (uint64_t)st.st_ino};
    m->nmaps++;
    *base = addr;
    *len = (size_t)st.st_size;
    return LD_OK;
}

static ld_status load_external(ld_model *m, const Onnx__TensorProto *tp, ld_tensor *t) {
    const char *loc = NULL;
    int64_t offset = 0, length = -1;
    for (size_t i = 0; i < tp->n_external_data; i++) {
        const Onnx__StringStringEntryProto *kv = tp->external_data[i];
        if (!kv->key || !kv->value) continue;
        char *end;
        if (!strcmp(kv->key, "location")) loc = kv->value;
        else if (!strcmp(kv->key, "offset")) offset = strtoll(kv->value, &end, 10);
        else if (!strcmp(kv->key, "length")) length = strtoll(kv->value, &end, 10);
    }
    if (!loc) return ld_error(LD_ERR_DATA, "external data without a location");
    const uint8_t *base;
    size_t flen;
    LD_TRY(map_external(m, loc, &base, &flen));
    size_t need = is_packed_subbyte(t->dtype) ? packed_bytes(t->dtype, t->numel) : t->nbytes;
    if (length < 0) length = (int64_t)need;
    if (offset < 0 || (uint64_t)length != need || (uint64_t)offset > flen ||
        (uint64_t)length > flen - (uint64_t)offset)
        return ld_error(LD_ERR_DATA,
                        "external data '%s': needs %zu bytes at offset %lld, file has %zu",
                        loc, need, (long long)offset, flen);
    const uint8_t *src = base + offset;
    if (is_packed_subbyte(t->dtype)) {
        LD_TRY(ld_tensor_alloc_data(t));
        unpack_subbyte(t, src);
    } else if (((uintptr_t)src % 16) == 0) {
        t->data = (void *)src;      /* borrowed from the mapping */
        t->owns = false;
    } else {
        LD_TRY(ld_tensor_alloc_data(t));
        memcpy(t->data, src, t->nbytes);
    }
    return LD_OK;
}

#define CHECK_COUNT(n) do { if ((int64_t)(n) != t->numel) \
    return ld_error(LD_ERR_DATA, "tensor '%s' declares %lld elements but holds %zu", \
                    tp->name ? tp->name : "", (long long)t->numel, (size_t)(n)); } while (0)

ld_status ld_tensor_from_proto(ld_model *m, const Onnx__TensorProto *tp, ld_tensor *t) {
    memset(t, 0, sizeof *t);
    ld_dtype dt = tp->has_data_type ? (ld_dtype)tp->data_type : LD_UNDEFINED;
    if ((unsigned)dt >= LD_DTYPE_COUNT || dt == LD_UNDEFINED || !ld_dtype_size(dt))
        return ld_error(LD_ERR_UNSUPPORTED, "tensor '%s' has unsupported data type %d",
                        tp->name ? tp->name : "", (int)tp->data_type);
    if (tp->n_dims > LD_MAX_DIMS)
        return ld_error(LD_ERR_UNSUPPORTED, "tensor '%s' has rank %zu (max %d)",
                        tp->name ? tp->name : "", tp->n_dims, LD_MAX_DIMS);
    if (tp->segment) return ld_error(LD_ERR_UNSUPPORTED, "segmented tensors are not supported");
    LD_TRY(ld_tensor_set_shape(t, dt, (int)tp->n_dims, tp->dims));
    if ((uint64_t)t->numel > (1ull << 40)) return ld_error(LD_ERR_DATA, "tensor is too large");
    t->nbytes = (size_t)t->numel * ld_dtype_size(dt);

    if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
        if (dt == LD_STRING) return ld_error(LD_ERR_DATA, "string tensors cannot be external");
        return load_external(m, tp, t);
    }
    if (dt == LD_STRING) {
        CHECK_COUNT(tp->n_string_data);
        LD_TRY(ld_tensor_alloc_data(t));
        char **s = t->data;
        for (int64_t i = 0; i < t->numel; i++) {
            s[i] = ld_strndup((const char *)tp->string_data[i].data, tp->string_data[i].len);
            if (!s[i]) return ld_oom();
        }
        return LD_OK;
    }
    if (tp->has_raw_data) {
        size_t need = is_packed_subbyte(dt) ? packed_bytes(dt, t->numel) : t->nbytes;
        if (tp->raw_data.len != need)
            return ld_error(LD_ERR_DATA, "tensor '%s' claims %zu bytes of raw data but holds %zu",
                            tp->name ? tp->name : "", need, tp->raw_data.len);
        LD_TRY(ld_tensor_alloc_data(t));
        if (is_packed_subbyte(dt)) unpack_subbyte(t, tp->raw_data.data);
        else if (t->nbytes) memcpy(t->data, tp->raw_data.data, t->nbytes);
        return LD_OK;
    }
    LD_TRY(ld_tensor_alloc_data(t));
    int64_t n = t->numel;
    switch (dt) {
    case LD_F32:
        CHECK_COUNT(tp->n_float_data);
        if (n) memcpy(t->data, tp->float_data, n * 4);
        break;
    case LD_C64:
        if ((int64_t)tp->n_float_data != 2 * n)
            return ld_error(LD_ERR_DATA, "tensor '%s' declares %lld complex elements but holds %zu floats",
                            tp->name ? tp->name : "", (long long)n, tp->n_float_data);
        if (n) memcpy(t->data, tp->float_data, n * 8);
        break;
    case LD_F64:
        CHECK_COUNT(tp->n_double_data);
        if (n) memcpy(t->data, tp->double_data, n * 8);
        break;
    case LD_C128:
        if ((int64_t)tp->n_double_data != 2 * n)
            return ld_error(LD_ERR_DATA, "tensor '%s' declares %lld complex elements but holds %zu doubles",
                            tp->name ? tp->name : "", (long long)n, tp->n_double_data);
        if (n) memcpy(t->data, tp->double_data, n * 16);
        break;
    case LD_I64:
        CHECK_COUNT(tp->n_int64_data);
        if (n) memcpy(t->data, tp->int64_data, n * 8);
        break;
    case LD_U32: case LD_U64:
        CHECK_COUNT(tp->n_uint64_data);
        for (int64_t i = 0; i < n; i++) {
            if (dt == LD_U32) ((uint32_t *)t->data)[i] = (uint32_t)tp->uint64_data[i];
            else ((uint64_t *)t->data)[i] = tp->uint64_data[i];
        }
        break;
    default:
        if (is_packed_subbyte(dt)) {
            /* int32_data holds packed bytes (one byte per int32) */
            size_t nb = packed_bytes(dt, n);
            if (tp->n_int32_data != nb && (int64_t)tp->n_int32_data != n) CHECK_COUNT(tp->n_int32_data);
            if (tp->n_int32_data == nb) {
                uint8_t *tmp = malloc(nb ? nb : 1);
                if (!tmp) return ld_oom();
                for (size_t i = 0; i < nb; i++) tmp[i] = (uint8_t)tp->int32_data[i];
                unpack_subbyte(t, tmp);
                free(tmp);
            } else {
                for (int64_t i = 0; i < n; i++) ((uint8_t *)t->data)[i] = (uint8_t)tp->int32_data[i];
            }
            break;
        }
        /* int32_data carries int32, int16, int8, uint16, uint8, bool, float16, bfloat16, fp8 */
        CHECK_COUNT(tp->n_int32_data);
        for (int64_t i = 0; i < n; i++) {
            int32_t v = tp->int32_data[i];
            switch (ld_dtype_size(dt)) {
            case 1: ((uint8_t *)t->data)[i] = (uint8_t)v; break;
            case 2: ((uint16_t *)t->data)[i] = (uint16_t)v; break;
            case 4: ((int32_t *)t->data)[i] = v; break;
            default: return ld_error(LD_ERR_UNSUPPORTED, "unsupported int32_data type %d", dt);
            }
        }
        break;
    }
    return LD_OK;
}

ld_status ld_tensor_from_pb_buffer(const uint8_t *buf, size_t len, ld_tensor *out, char **name_out) {
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, buf);
    if (!tp) return ld_error(LD_ERR_DATA, "not a valid ONNX TensorProto");
    ld_status st = ld_proto_check_strings(&tp->base);
    if (st == LD_OK) st = ld_tensor_from_proto(NULL, tp, out);
    if (st == LD_OK && name_out) *name_out = ld_strdup(tp->name ? tp->name : "");
    onnx__tensor_proto__free_unpacked(tp, NULL);
    if (st != LD_OK) ld_tensor_clear(out);
    return st;
}

ld_status ld_file_read(const char *path, uint8_t **buf, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return ld_error(LD_ERR_NOINPUT, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || S_ISDIR(st.st_mode)) {
        fclose(f);
        return ld_error(LD_ERR_NOINPUT, "%s: not a regular file", path);
    }
    size_t cap = st.st_size > 0 ? (size_t)st.st_size : 4096, n = 0;
    uint8_t *b = malloc(cap + 1);
    if (!b) { fclose(f); return ld_error(LD_ERR_NOMEM, "%s: out of memory", path); }
    for (;;) {
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (n < cap) break;
        uint8_t *nb = realloc(b, cap * 2 + 1);
        if (!nb) { free(b); fclose(f); return ld_oom(); }
        b = nb;
        cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (err) { free(b); return ld_error(LD_ERR_IO, "%s: read error", path); }
    b[n] = 0;
    *buf = b;
    *len = n;
    return LD_OK;
}

ld_status ld_tensor_read_pb(const char *path, ld_tensor *out, char **name_out) {
    uint8_t *buf;
    size_t len;
    LD_TRY(ld_file_read(path, &buf, &len));
    ld_status st = ld_tensor_from_pb_buffer(buf, len, out, name_out);
    free(buf);
    if (st != LD_OK) return ld_err_prefix(st, "%s", path);
    return LD_OK;
}
