/*
** io_feed.c — saving a set of named tensors by destination: .npz, Polygraphy .json, or a
** directory of .npy files with an index; never overwriting an existing file unless forced.
*/
#include "ld_io.h"
#include "ld_outfile.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

ld_status ld_npydir_write(const char *dir, const ld_feed *f, bool force) {
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return ld_error(LD_ERR_CANTCREAT, "%s: %s", dir, strerror(errno));
    cJSON *index = cJSON_CreateObject();
    ld_status st = LD_OK;
    for (int i = 0; i < f->n && st == LD_OK; i++) {
        char fname[300], path[4400];
        size_t o = 0;
        for (const char *p = f->items[i].name; *p && o < 240; p++) {
            char c = *p;
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '-' || c == '_';
            fname[o++] = ok ? c : '_';
        }
        if (o == 0 || fname[0] == '.') fname[o++] = 't';
        snprintf(fname + o, sizeof fname - o, "%s.npy", cJSON_GetObjectItemCaseSensitive(index, fname) ? "_dup" : "");
        for (int k = 2; cJSON_GetObjectItemCaseSensitive(index, fname); k++)
            snprintf(fname + o, sizeof fname - o, "_%d.npy", k);
        snprintf(path, sizeof path, "%s/%s", dir, fname);
        st = ld_npy_write(path, f->items[i].t, force);
        cJSON_AddStringToObject(index, fname, f->items[i].name);
    }
    if (st == LD_OK) {
        char path[4200];
        snprintf(path, sizeof path, "%s/index.json", dir);
        char *txt = cJSON_Print(index);
        if (!txt) st = ld_oom();
        else {
            size_t n = strlen(txt);
            txt[n] = '\n';   /* replaces the NUL */
            st = ld_out_write_all(path, force ? LD_OUT_FORCE : 0, txt, n + 1);
        }
        free(txt);
    }
    cJSON_Delete(index);
    return st;
}

ld_status ld_feed_save(const char *path, const ld_feed *f, bool force) {
    struct stat st;
    bool is_npz = ld_str_ends_with(path, ".npz"), is_json = ld_str_ends_with(path, ".json");
    if (is_npz) return ld_npz_write(path, f, force);
    if (is_json) return ld_pg_write_results(path, "layerdiff-fp32", f, 1, NULL, force);
    bool exists = stat(path, &st) == 0;
    if (exists && !S_ISDIR(st.st_mode))
        return force ? ld_error(LD_ERR_CANTCREAT, "%s is not a folder (a name without .npz or .json saves a folder of .npy files)", path)
                     : ld_error(LD_ERR_CANTCREAT, "%s already exists (use --force to replace it)", path);
    if (exists && !force) {
        char idx[4200];
        snprintf(idx, sizeof idx, "%s/index.json", path);
        if (stat(idx, &st) == 0)
            return ld_error(LD_ERR_CANTCREAT, "%s already holds saved tensors (use --force to replace them)", path);
    }
    return ld_npydir_write(path, f, force);
}
