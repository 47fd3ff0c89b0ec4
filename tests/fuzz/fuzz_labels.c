/*
** fuzz_labels.c — libFuzzer harness: a `--labels` file as text (one label per line) and as
** CSV "filename,label" matched against sample names, and a `--class-names` file.
*/
#include "fuzz_util.h"
#include "ld_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init();
    char *const names[3] = {(char *)"a.png", (char *)"b.jpg", (char *)"c.png"};
    int64_t *labels = NULL, nl = 0;
    const char *path = fuzz_file("labels.csv", data, size);
    if (ld_labels_load(path, names, 3, &labels, &nl) == LD_OK) {
        if (nl != 3) abort();
        free(labels);
    }
    path = fuzz_file("labels.txt", data, size);
    labels = NULL;
    if (ld_labels_load(path, NULL, 0, &labels, &nl) == LD_OK) free(labels);
    char **cls = NULL;
    int nc = 0;
    if (ld_class_names_load(path, &cls, &nc) == LD_OK) ld_strings_free(cls, nc);
    return 0;
}
