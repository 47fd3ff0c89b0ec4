/*
** fuzz_calib.c — libFuzzer harness: a TensorRT calibration cache (--calib-cache). A cache
** that reads must write back and read again to the same entries (names and scale bits).
*/
#include "fuzz_util.h"
#include "ld_calib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init();
    const char *path = fuzz_file("calib.cache", data, size);
    ld_calib c = {0};
    char *header = NULL;
    if (ld_calib_cache_read_ex(path, &c, &header) == LD_OK) {
        char out[256];
        snprintf(out, sizeof out, "%s/out.cache", fuzz_dir());
        if (ld_calib_cache_write(out, &c, true) == LD_OK) {
            ld_calib d = {0};
            if (ld_calib_cache_read(out, &d) != LD_OK) abort();
            for (int i = 0; i < c.n; i++) {
                float a = ld_calib_get(&d, c.names[i]);
                if (a < 0) abort();
                if (ld_calib_amax_to_scale(c.amax[i]) != ld_calib_amax_to_scale(a)) abort();
            }
            ld_calib_clear(&d);
        }
    }
    free(header);
    ld_calib_clear(&c);
    return 0;
}
