/*
** fuzz_npz.c — libFuzzer harness: a .npz archive (zip of .npy members, read with libzip by
** ld_npz_read), as given to --inputs or --data. What reads must save again through
** ld_feed_save (io_feed.c) as .npz and as Polygraphy RunResults .json, and read back with the
** same members.
*/
#include "fuzz_util.h"
#include "ld_io.h"

static void same(const ld_feed *a, const ld_feed *b) {
    if (a->n != b->n) abort();
    for (int i = 0; i < a->n; i++) {
        const ld_tensor *t = ld_feed_get(b, a->items[i].name);
        if (!t || !ld_shape_equal(t, a->items[i].t)) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init();
    const char *path = fuzz_file("in.npz", data, size);
    ld_feed f = {0};
    if (ld_npz_read(path, &f) == LD_OK) {
        bool names_ok = true, savable = true;
        for (int i = 0; i < f.n; i++) {
            if (!f.items[i].name || !f.items[i].t) abort();
            for (int j = 0; j < i; j++) names_ok &= strcmp(f.items[i].name, f.items[j].name) != 0;
            savable &= f.items[i].t->dtype != LD_STRING;
        }
        char out[256];
        snprintf(out, sizeof out, "%s/out.npz", fuzz_dir());
        if (names_ok && savable && ld_feed_save(out, &f, true) == LD_OK) {
            ld_feed g = {0};
            if (ld_npz_read(out, &g) != LD_OK) abort();
            same(&f, &g);
            ld_feed_clear(&g);
        }
        snprintf(out, sizeof out, "%s/out.json", fuzz_dir());
        if (names_ok && savable && ld_feed_save(out, &f, true) == LD_OK) {
            ld_feed *it = NULL;
            int n = 0;
            if (ld_pg_read_results(out, NULL, &it, &n, NULL) != LD_OK || n != 1) abort();
            same(&f, &it[0]);
            ld_feed_clear(&it[0]);
            free(it);
        }
    }
    ld_feed_clear(&f);
    return 0;
}
