/*
** data_internal.h — pieces shared by the dataset loader's files: data.c (dispatch, array
** sources, batching), data_image.c (PNG/JPEG decoding and preprocessing), data_idx.c (gzip
** and IDX files) and data_labels.c (labels and class names). Not part of the public API.
*/
#ifndef LD_DATA_INTERNAL_H
#define LD_DATA_INTERNAL_H

#include "ld_data.h"

/* What the model's data input expects. */
typedef struct data_target {
    const ld_value *v;          /* the input */
    int rank;                   /* declared rank; -1 = unknown */
    const int64_t *dims;        /* declared dims (-1 = symbolic), valid when rank >= 0 */
    ld_dtype dtype;             /* declared dtype; LD_F32 when undeclared */
} data_target;

/* Samples collected before batching. Each tensor is one sample without the batch axis,
 * unless raw: then each is a whole feed tensor, passed on unchanged. */
typedef struct data_set {
    const data_target *tg;      /* samples are checked against it as they are added */
    ld_tensor **t;
    char **names;
    int64_t n, cap;
    int64_t max;                /* stop collecting at this many; 0 = no limit */
    bool raw;
} data_set;

/* Check t against the target (dtype: float kinds are converted, others must match; no
 * NaN/Inf; fixed dims), then append it. Takes t, even on failure. Errors name what. */
ld_status data_set_add(data_set *s, ld_tensor *t, const char *name, const char *what);
bool data_set_full(const data_set *s);
void data_set_clear(data_set *s);

/* Reject NaN/Inf in a floating-point tensor; the message names what. */
ld_status data_check_finite(const ld_tensor *t, const char *what);
/* "(N,1,28,28)" with symbolic dims by name ("?" when unnamed). */
const char *data_decl_str(const data_target *tg, char *buf, size_t n);

/* Image preprocessing, resolved against the model input and the options. */
typedef struct data_prep {
    int channels;               /* 1 (ITU-R 601 luma) or 3 (RGB) */
    int resize_h, resize_w;     /* --resize; 0 = none */
    int crop_h, crop_w;         /* --center-crop; 0 = none */
    int model_h, model_w;       /* fixed H, W of the input; 0 = symbolic */
    int nnorm;                  /* 0 = no mean/std, else = channels */
    float mean[3], std[3];
} data_prep;

/* A decoded 8-bit image: interleaved rows (HWC), c = 1 (gray) or 3 (RGB). */
typedef struct data_image {
    int h, w, c;
    uint8_t *px;
} data_image;

/* data_image.c */
ld_status data_prep_init(const data_target *tg, const ld_data_opts *o, int default_channels,
                         data_prep *p);
bool data_image_name_is(const char *name);       /* *.png, *.jpg, *.jpeg, any case */
ld_status data_image_decode(const uint8_t *buf, size_t len, const char *name, data_image *img);
ld_status data_image_read(const char *path, data_image *img);
void data_image_free(data_image *img);
/* Channels, resize, crop, /255, mean/std -> new float32 (C,H,W) tensor. */
ld_status data_image_prepare(const data_image *img, const data_prep *p, const char *name,
                             ld_tensor **out);
/* Load image files (paths, with names[i] their base names) into s. */
ld_status data_images_load(char *const *paths, char *const *names, int n, const data_prep *p,
                           data_set *s);

/* data_idx.c */
typedef struct data_idx {
    uint8_t type;               /* 0x08 = uint8 */
    int ndim;
    int64_t dims[4];
    const uint8_t *data;        /* points into buf */
    int64_t count;              /* product of dims */
    uint8_t *buf;               /* whole (decompressed) file, owned */
} data_idx;

/* Whole file, gunzipped when it is gzip (plain files pass through). */
ld_status data_gz_read(const char *path, uint8_t **buf, size_t *len);
bool data_is_idx(const char *path);
ld_status data_idx_read(const char *path, data_idx *idx);
void data_idx_free(data_idx *idx);
/* IDX images (magic 0x00000803) through the image pipeline, shaped for the target. */
ld_status data_idx_images_load(const char *path, const data_target *tg, const data_prep *p,
                               data_set *s);

#endif
