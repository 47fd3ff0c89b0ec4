/*
** fuzz_polygraphy.c — libFuzzer harness: a Polygraphy JSON file read both ways, as an inputs
** list (--inputs x.json, --data x.json) and as RunResults (--against), once taking the first
** runner and once looking one up by name.
*/
#include "fuzz_util.h"
#include "ld_io.h"

static void feeds_free(ld_feed *f, int n) {
    for (int i = 0; f && i < n; i++) ld_feed_clear(&f[i]);
    free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init();
    const char *path = fuzz_file("in.json", data, size);
    ld_feed *f = NULL;
    int n = 0;
    if (ld_pg_read_inputs(path, &f, &n) == LD_OK) feeds_free(f, n);
    char *runner = NULL;
    f = NULL; n = 0;
    if (ld_pg_read_results(path, NULL, &f, &n, &runner) == LD_OK) {
        if (!runner) abort();
        feeds_free(f, n);
    }
    free(runner);
    f = NULL; n = 0;
    if (ld_pg_read_results(path, "onnxrt", &f, &n, NULL) == LD_OK) feeds_free(f, n);
    return 0;
}
