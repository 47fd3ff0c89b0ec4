/*
** io_npz.c — NumPy .npz archives through libzip (stored or deflated members), and the
** name-keyed feed list they become.
*/
#include "ld_io.h"
#include "ld_outfile.h"

#include <stdlib.h>
#include <string.h>
#include <zip.h>

ld_status ld_feed_add(ld_feed *f, const char *name, ld_tensor *t) {
    ld_named *ni = realloc(f->items, sizeof *ni * (f->n + 1));
    if (!ni) return ld_oom();
    f->items = ni;
    f->items[f->n].name = ld_strdup(name);
    f->items[f->n].t = t;
    if (!f->items[f->n].name) return ld_oom();
    f->n++;
    return LD_OK;
}

ld_tensor *ld_feed_get(const ld_feed *f, const char *name) {
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->items[i].name, name)) return f->items[i].t;
    return NULL;
}

void ld_feed_clear(ld_feed *f) {
    for (int i = 0; i < f->n; i++) {
        free(f->items[i].name);
        ld_tensor_free(f->items[i].t);
    }
    free(f->items);
    f->items = NULL;
    f->n = 0;
}

ld_status ld_npz_read(const char *path, ld_feed *out) {
    memset(out, 0, sizeof *out);
    int err = 0;
    zip_t *z = zip_open(path, ZIP_RDONLY, &err);
    if (!z) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, err);
        ld_status st = ld_error(err == ZIP_ER_NOENT || err == ZIP_ER_OPEN ? LD_ERR_NOINPUT : LD_ERR_DATA,
                                "%s: %s", path, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return st;
    }
    ld_status st = LD_OK;
    zip_int64_t n = zip_get_num_entries(z, 0);
    for (zip_int64_t i = 0; i < n && st == LD_OK; i++) {
        zip_stat_t zs;
        if (zip_stat_index(z, i, 0, &zs) != 0) { st = ld_error(LD_ERR_DATA, "%s: bad member %lld", path, (long long)i); break; }
        size_t nl = strlen(zs.name);
        if (nl < 4 || strcmp(zs.name + nl - 4, ".npy")) continue;
        if (zs.size > ((zip_uint64_t)1 << 36)) { st = ld_error(LD_ERR_DATA, "%s: member '%s' is too large", path, zs.name); break; }
        uint8_t *buf = malloc(zs.size + 1);
        zip_file_t *zf = buf ? zip_fopen_index(z, i, 0) : NULL;
        zip_int64_t got = zf ? zip_fread(zf, buf, zs.size) : -1;
        if (zf) zip_fclose(zf);
        if (got < 0 || (zip_uint64_t)got != zs.size) {
            free(buf);
            st = ld_error(LD_ERR_DATA, "%s: cannot read member '%s'", path, zs.name);
            break;
        }
        ld_tensor *t = calloc(1, sizeof *t);
        st = t ? ld_npy_parse(buf, zs.size, t) : ld_oom();
        free(buf);
        if (st != LD_OK) { free(t); ld_err_prefix(st, "%s: member '%s'", path, zs.name); break; }
        char *name = ld_strndup(zs.name, nl - 4);
        st = ld_feed_add(out, name, t);
        free(name);
    }
    zip_close(z);
    if (st != LD_OK) ld_feed_clear(out);
    return st;
}

/* libzip writes no file at all for an archive without members, so an empty feed would "save"
 * nothing; write what numpy.savez writes then: only the end-of-central-directory record. */
ld_status ld_npz_write(const char *path, const ld_feed *f, bool force) {
    static const uint8_t eocd[22] = {'P', 'K', 5, 6};
    if (f->n == 0) return ld_out_write_all(path, force ? LD_OUT_FORCE : 0, eocd, sizeof eocd);
    int err = 0;
    ld_outfile of;
    LD_TRY(ld_out_open_path(path, force ? LD_OUT_FORCE : 0, &of));
    zip_t *z = zip_open(of.tmp, ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!z) { ld_out_abort(&of); return ld_error(LD_ERR_CANTCREAT, "%s: cannot create archive", path); }
    ld_status st = LD_OK;
    for (int i = 0; i < f->n && st == LD_OK; i++) {
        uint8_t *buf;
        size_t len;
        st = ld_npy_serialize(f->items[i].t, &buf, &len);
        if (st != LD_OK) { ld_err_prefix(st, "tensor '%s'", f->items[i].name); break; }
        zip_source_t *src = zip_source_buffer(z, buf, len, 1);   /* libzip frees buf */
        if (!src) { free(buf); st = ld_error(LD_ERR_IO, "%s: libzip error", path); break; }
        size_t nl = strlen(f->items[i].name);
        char *mname = malloc(nl + 5);
        if (!mname) { zip_source_free(src); st = ld_oom(); break; }
        memcpy(mname, f->items[i].name, nl);
        memcpy(mname + nl, ".npy", 5);
        if (zip_file_add(z, mname, src, ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8) < 0) {
            zip_source_free(src);
            st = ld_error(LD_ERR_IO, "%s: %s", path, zip_strerror(z));
        }
        free(mname);
    }
    if (st != LD_OK) { zip_discard(z); ld_out_abort(&of); return st; }
    if (zip_close(z) != 0) {
        st = ld_error(LD_ERR_IO, "%s: %s", path, zip_strerror(z));
        zip_discard(z);
        ld_out_abort(&of);
        return st;
    }
    return ld_out_commit(&of);
}
