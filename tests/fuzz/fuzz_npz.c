/*
** fuzz_npz.c — libFuzzer harness: a .npz archive (zip of .npy members, read with libzip by
** ld_npz_read), as given to --inputs or --data.
*/
#include "fuzz_util.h"
#include "ld_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init();
    const char *path = fuzz_file("in.npz", data, size);
    ld_feed f = {0};
    if (ld_npz_read(path, &f) == LD_OK) {
        for (int i = 0; i < f.n; i++)
            if (!f.items[i].name || !f.items[i].t) abort();
    }
    ld_feed_clear(&f);
    return 0;
}
