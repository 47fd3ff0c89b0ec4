/*
** ld_data.h — datasets for compare/autopin: `--data PATH` as a folder of PNG/JPEG images
** (decoded by libpng/libjpeg, resized, centre-cropped, normalised, NCHW float32), a folder or
** .npz of arrays, a Polygraphy inputs JSON, or IDX files (the Fashion-MNIST format, .gz too);
** labels (`--labels`) and class names (`--class-names`).
**
** Layer: io (see tests/tools/check_layers.sh).
*/
#ifndef LD_DATA_H
#define LD_DATA_H

#include "ld_graph.h"
#include "ld_io.h"

typedef struct ld_data_opts {
    const char *path;          /* --data */
    int64_t max_samples;       /* 0 = all */
    int64_t batch;             /* samples stacked per feed along axis 0 (default 1) */
    int resize_h, resize_w;    /* --resize HxW (bilinear; 0 = keep) */
    int crop_h, crop_w;        /* --center-crop HxW (0 = none) */
    float mean[4], std[4];     /* --mean/--std per channel, applied after scaling to [0,1] */
    int nmean, nstd;
    bool imagenet_norm;        /* mean 0.485,0.456,0.406 std 0.229,0.224,0.225 */
} ld_data_opts;

void ld_data_opts_init(ld_data_opts *o);

/* Load the dataset for the (single) image input of g, in batches of o->batch samples.
 * names[i] (optional out) is each sample's file name (images) or "" — for CSV labels.
 * (.npy files and .npz members are named too: "x.npy", or "x.npy[k]" inside a batch.)
 * An input with a fixed batch dimension B gets batches of B (o->batch must be 1 or B);
 * leftover samples are dropped with a warning. A Polygraphy .json keeps its feeds as they
 * are (any number of inputs; o->batch is not used; --max-samples counts whole feeds).
 * Free with ld_data_free (or ld_samples_free + ld_strings_free). */
ld_status ld_data_load(const ld_graph *g, const ld_data_opts *o, ld_feed **feeds, int *nfeeds,
                       char ***names, int64_t *nsamples);
void ld_data_free(ld_feed *feeds, int nfeeds, char **names, int64_t nsamples);

/* Labels in sample order: CSV "filename,label" (matched against names), .npy of ints,
 * IDX labels (.gz too), or a text file with one label per line. With nsamples > 0 the file
 * must hold at least nsamples labels and exactly nsamples are returned; with nsamples <= 0
 * (names unused) every label in the file is. */
ld_status ld_labels_load(const char *path, char *const *names, int64_t nsamples, int64_t **labels,
                         int64_t *nlabels);
/* One class name per line. */
ld_status ld_class_names_load(const char *path, char ***names, int *n);
void ld_strings_free(char **s, int64_t n);

#endif
