/*
** ld_io.h — reading and writing tensors in the formats users bring: .npy, .npz (libzip),
** ONNX TensorProto .pb, Polygraphy JSON (inputs lists and RunResults), directories of .npy.
**
** A "feed" is an ordered list of named tensors; a list of feeds is a list of samples
** (Polygraphy's inputs JSON holds one feed per iteration).
**
** Layer: io (see tests/tools/check_layers.sh).
*/
#ifndef LD_IO_H
#define LD_IO_H

#include "ld_tensor.h"

typedef struct ld_named {
    char *name;
    ld_tensor *t;
} ld_named;

typedef struct ld_feed {
    ld_named *items;
    int n;
} ld_feed;

/* Append (takes ownership of t; copies name). */
ld_status ld_feed_add(ld_feed *f, const char *name, ld_tensor *t);
ld_tensor *ld_feed_get(const ld_feed *f, const char *name);
void ld_feed_clear(ld_feed *f);

/* .npy */
ld_status ld_npy_parse(const uint8_t *buf, size_t len, ld_tensor *out);
ld_status ld_npy_serialize(const ld_tensor *t, uint8_t **buf, size_t *len);
ld_status ld_npy_read(const char *path, ld_tensor *out);
/* Writers create files through ld_outfile.h: an existing file is replaced only with force. */
ld_status ld_npy_write(const char *path, const ld_tensor *t, bool force);

/* .npz: every member array, in archive order, keyed by member name without ".npy". */
ld_status ld_npz_read(const char *path, ld_feed *out);
ld_status ld_npz_write(const char *path, const ld_feed *f, bool force);

/* Polygraphy: inputs JSON (list of feed dicts) -> samples; RunResults JSON. */
ld_status ld_pg_read_inputs(const char *path, ld_feed **samples, int *nsamples);
/* RunResults: each iteration's outputs of the first runner (or the runner named). */
ld_status ld_pg_read_results(const char *path, const char *runner, ld_feed **iters, int *niters,
                             char **runner_name);
ld_status ld_pg_write_results(const char *path, const char *runner_name, const ld_feed *iters,
                              int niters, const double *runtimes, bool force);
ld_status ld_pg_write_inputs(const char *path, const ld_feed *samples, int nsamples, bool force);

/* Directory of .npy files (name sanitised: '/' and other unsafe characters -> '_') plus an
 * index.json mapping file names to tensor names; files in it are replaced only with force. */
ld_status ld_npydir_write(const char *dir, const ld_feed *f, bool force);

/* Base64 (RFC 4648) used by the JSON formats. */
char *ld_base64_encode(const uint8_t *data, size_t len);
ld_status ld_base64_decode(const char *s, uint8_t **out, size_t *len);

/* Save a feed by path: .npz, .json (Polygraphy RunResults), else a directory of .npy.
 * Refuses to overwrite an existing file unless force. */
ld_status ld_feed_save(const char *path, const ld_feed *f, bool force);

#endif
