/*
** layerdiff.h — the public C API of liblayerdiff: load an ONNX model, run it in FP32 with
** feeds, compare it with an emulated lower precision (or search the nodes to keep in FP32)
** over a workload of samples, and read the report as a cJSON tree or write it as JSON.
**
** This is the only header a library user includes (pkg-config --cflags --libs layerdiff);
** every other ld_*.h is internal and its symbols are hidden in liblayerdiff.so. All handles
** are opaque. Functions that can fail return a layerdiff status: LAYERDIFF_OK (0), or the
** code the CLI would exit with (64 usage, 65 bad data, 66 missing file, 69 unsupported, 70
** internal, 71 out of memory, 73 cannot create, 74 I/O); the message of the last error of
** the calling thread is layerdiff_errmsg(). Documented in layerdiff(3).
**
** Layer: api (see tests/tools/check_layers.sh).
*/
#ifndef LAYERDIFF_H
#define LAYERDIFF_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && defined(LAYERDIFF_BUILDING)
#define LAYERDIFF_API __attribute__((visibility("default")))
#else
#define LAYERDIFF_API
#endif

#define LAYERDIFF_API_VERSION 1   /* bumped with the soname's major on incompatible changes */

enum {
    LAYERDIFF_OK = 0,
    LAYERDIFF_ERR_USAGE = 64, LAYERDIFF_ERR_DATA = 65, LAYERDIFF_ERR_NOINPUT = 66,
    LAYERDIFF_ERR_UNSUPPORTED = 69, LAYERDIFF_ERR_INTERNAL = 70, LAYERDIFF_ERR_NOMEM = 71,
    LAYERDIFF_ERR_CANTCREAT = 73, LAYERDIFF_ERR_IO = 74
};

/* Element types: the ONNX TensorProto.DataType numbers. */
enum {
    LAYERDIFF_FLOAT = 1, LAYERDIFF_UINT8 = 2, LAYERDIFF_INT8 = 3, LAYERDIFF_UINT16 = 4,
    LAYERDIFF_INT16 = 5, LAYERDIFF_INT32 = 6, LAYERDIFF_INT64 = 7, LAYERDIFF_BOOL = 9,
    LAYERDIFF_FLOAT16 = 10, LAYERDIFF_DOUBLE = 11, LAYERDIFF_UINT32 = 12, LAYERDIFF_UINT64 = 13,
    LAYERDIFF_BFLOAT16 = 16
};

typedef struct layerdiff_model layerdiff_model;
typedef struct layerdiff_feeds layerdiff_feeds;
typedef struct layerdiff_workload layerdiff_workload;
typedef struct layerdiff_report layerdiff_report;
struct cJSON;

/* A view of one tensor of a feeds list; data stays owned by the list. */
typedef struct layerdiff_tensor {
    const char *name;
    int dtype;               /* LAYERDIFF_FLOAT, ... */
    int ndim;
    const int64_t *dims;
    void *data;              /* row-major, numel * element size bytes */
    size_t nbytes;
} layerdiff_tensor;

/* Progress: a step (total > 0: done of total) replaces the previous one; an event
** (total < 0) is a line worth keeping (one autopin try); msg NULL ends the steps. */
typedef void (*layerdiff_progress_fn)(void *user, const char *msg, int64_t done, int64_t total);

/* ---- library ---- */
LAYERDIFF_API const char *layerdiff_version(void);
/* Code and message of the last error of the calling thread. */
LAYERDIFF_API int layerdiff_errcode(void);
LAYERDIFF_API const char *layerdiff_errmsg(void);
/* Threads of the kernels (results are identical for any count); 0 = all cores. */
LAYERDIFF_API void layerdiff_set_threads(int n);
/* Free a string returned by the library. */
LAYERDIFF_API void layerdiff_free(void *p);

/* ---- models ---- */
LAYERDIFF_API int layerdiff_model_open(const char *path, layerdiff_model **out);
LAYERDIFF_API void layerdiff_model_close(layerdiff_model *m);
LAYERDIFF_API int layerdiff_model_ninputs(const layerdiff_model *m);
LAYERDIFF_API const char *layerdiff_model_input(const layerdiff_model *m, int i);
LAYERDIFF_API int layerdiff_model_noutputs(const layerdiff_model *m);
LAYERDIFF_API const char *layerdiff_model_output(const layerdiff_model *m, int i);
LAYERDIFF_API const char *layerdiff_model_path(const layerdiff_model *m);

/* ---- feeds: named tensors ---- */
LAYERDIFF_API layerdiff_feeds *layerdiff_feeds_new(void);
/* Append a tensor that borrows data (no copy): data must stay valid and unchanged while the
** feeds (and any workload they were added to) are used. */
LAYERDIFF_API int layerdiff_feeds_add(layerdiff_feeds *f, const char *name, int dtype, int ndim,
                                      const int64_t *dims, void *data);
LAYERDIFF_API int layerdiff_feeds_count(const layerdiff_feeds *f);
/* View of tensor i (0 <= i < count); LAYERDIFF_ERR_USAGE when out of range. */
LAYERDIFF_API int layerdiff_feeds_get(const layerdiff_feeds *f, int i, layerdiff_tensor *out);
LAYERDIFF_API void layerdiff_feeds_free(layerdiff_feeds *f);

/* Run m in FP32 on in (every runtime input). *out gets the graph outputs, and with mark_all
** also every intermediate tensor (in node order, before the outputs). */
LAYERDIFF_API int layerdiff_run(layerdiff_model *m, const layerdiff_feeds *in, int mark_all,
                                layerdiff_feeds **out);

/* ---- workloads: what to compare ---- */
/* target: fp16, bf16, fp8e4m3, fp8e5m2, int8, fp32 (names and aliases of the CLI). */
LAYERDIFF_API int layerdiff_workload_new(const char *model_path, const char *target,
                                         layerdiff_workload **out);
LAYERDIFF_API void layerdiff_workload_free(layerdiff_workload *w);
/* Any option of `layerdiff compare` / `layerdiff autopin` by its long name without the
** dashes, value as on the command line; flags take NULL or "1":
**   fallback accum pin input inputs data max-samples batch seed val-range resize center-crop
**   mean std imagenet-norm labels class-names calib calib-method percentile calib-cache
**   write-calib-cache atol rtol check-error-stat error-quantile min-sqnr min-cosine
**   max-saturation no-isolated force; autopin: goal strategy direction no-prune max-tries
**   time-limit. Repeatable options (pin, input, goal) add one value per call. */
LAYERDIFF_API int layerdiff_workload_set(layerdiff_workload *w, const char *option, const char *value);
/* Samples given in memory instead of input/inputs/data: one feed per call, borrowed (the
** feeds must outlive the workload's use and must not gain tensors after being added: the
** workload keeps their tensor list as it is then). calib: calibration samples instead. */
LAYERDIFF_API int layerdiff_workload_add_sample(layerdiff_workload *w, const layerdiff_feeds *f);
LAYERDIFF_API int layerdiff_workload_add_calib_sample(layerdiff_workload *w, const layerdiff_feeds *f);
/* Labels in sample order (copied). */
LAYERDIFF_API int layerdiff_workload_set_labels(layerdiff_workload *w, const int64_t *labels, int64_t n);
LAYERDIFF_API void layerdiff_workload_set_progress(layerdiff_workload *w, layerdiff_progress_fn fn, void *user);

/* Compare: the report (*out) also when the model diverges; passed tells which. */
LAYERDIFF_API int layerdiff_compare(layerdiff_workload *w, layerdiff_report **out);
/* Autopin: the report of the comparison with the pins found, plus layerdiff_report_autopin(). */
LAYERDIFF_API int layerdiff_autopin(layerdiff_workload *w, layerdiff_report **out);

/* ---- reports ---- */
/* 1 when no node failed (compare) / the goals hold (autopin), else 0. */
LAYERDIFF_API int layerdiff_report_passed(const layerdiff_report *r);
/* The layerdiff.report/1 tree (layerdiff-report(5)); owned by the report. */
LAYERDIFF_API const struct cJSON *layerdiff_report_json(const layerdiff_report *r);
/* Autopin's answer ({"met", "pinned": [names], "before", "after", "tries", ...}) or NULL. */
LAYERDIFF_API const struct cJSON *layerdiff_report_autopin(const layerdiff_report *r);
/* The report as JSON text (free with layerdiff_free). */
LAYERDIFF_API char *layerdiff_report_string(const layerdiff_report *r);
/* Write it; an existing file is replaced only with force; "-" = stdout. */
LAYERDIFF_API int layerdiff_report_write(const layerdiff_report *r, const char *path, int force);
LAYERDIFF_API void layerdiff_report_free(layerdiff_report *r);

#ifdef __cplusplus
}
#endif
#endif
