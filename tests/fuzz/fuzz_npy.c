/*
** fuzz_npy.c — libFuzzer harness: a .npy file (ld_npy_parse, what --input x.npy, .npz members
** and Polygraphy's base64 arrays all go through). An array that parses must serialize and
** parse back to the same dtype, shape and bytes.
*/
#include "fuzz_util.h"
#include "ld_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init();
    ld_tensor t = {0};
    if (ld_npy_parse(data, size, &t) != LD_OK) return 0;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (t.dtype != LD_STRING && ld_npy_serialize(&t, &buf, &len) == LD_OK) {
        ld_tensor u = {0};
        if (ld_npy_parse(buf, len, &u) != LD_OK) abort();
        if (!ld_shape_equal(&t, &u) || t.dtype != u.dtype) abort();
        size_t es = ld_dtype_size(t.dtype);
        if (es && t.numel && memcmp(t.data, u.data, es * (size_t)t.numel)) abort();
        ld_tensor_clear(&u);
        free(buf);
    }
    ld_tensor_clear(&t);
    return 0;
}
