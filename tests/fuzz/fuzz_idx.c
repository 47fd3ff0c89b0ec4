/*
** fuzz_idx.c — libFuzzer harness: an IDX file (MNIST / Fashion-MNIST format, gzip or plain)
** given as `--data` for models with the input shapes IDX images fit, and as `--labels`.
*/
#include "fuzz_data.h"
#include "data_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init();
    const char *path = fuzz_file("images-idx3-ubyte", data, size);
    int variant = (int)(size % 4), k = (int)(size / 4 % 8);
    fuzz_graph fg;
    fuzz_graph_init(&fg, variant);
    ld_data_opts o;
    fuzz_data_opts(&o, path, variant, k);
    ld_feed *feeds = NULL;
    char **names = NULL;
    int nfeeds = 0;
    int64_t ns = 0;
    if (ld_data_load(&fg.g, &o, &feeds, &nfeeds, &names, &ns) == LD_OK)
        ld_data_free(feeds, nfeeds, names, ns);
    int64_t *labels = NULL, nl = 0;
    if (ld_labels_load(path, NULL, 0, &labels, &nl) == LD_OK) free(labels);
    return 0;
}
