/*
** fuzz_image.c — libFuzzer harness: a PNG or JPEG image (decoded by libpng / libjpeg through
** src/io/data_image.c) loaded as `--data` the way a folder of images is, into models of
** gray or RGB NCHW inputs, with and without --resize, --center-crop and --imagenet-norm.
*/
#include "fuzz_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init();
    bool png = size >= 1 && data[0] == 0x89;
    /* a folder of one image: the folder path goes through dir_list and data_images_load */
    char dir[200];
    snprintf(dir, sizeof dir, "%s/images", fuzz_dir());
    mkdir(dir, 0700);
    char name[64];
    snprintf(name, sizeof name, "images/%s", png ? "a.png" : "a.jpg");
    const char *path = fuzz_file(name, data, size);
    int variant = size % 2 ? 4 : 0, k = (int)(size / 2 % 16);
    fuzz_graph fg;
    fuzz_graph_init(&fg, variant);
    ld_data_opts o;
    fuzz_data_opts(&o, k & 1 ? path : dir, variant, k & ~1);
    ld_feed *feeds = NULL;
    char **names = NULL;
    int nfeeds = 0;
    int64_t ns = 0;
    if (ld_data_load(&fg.g, &o, &feeds, &nfeeds, &names, &ns) == LD_OK)
        ld_data_free(feeds, nfeeds, names, ns);
    return 0;
}
