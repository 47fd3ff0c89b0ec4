/*
** ld_calib.h — INT8/FP8 calibration: activation ranges (amax) of the tensors the target
** quantizes, from FP32 runs over calibration data, by one of TensorRT's methods; and the
** TensorRT calibration cache text format (header line, then `name: <hex bits of the float32
** scale>` with scale = amax / 127).
**
** Layer: emulate (see tests/tools/check_layers.sh).
*/
#ifndef LD_CALIB_H
#define LD_CALIB_H

#include "ld_io.h"
#include "ld_precision.h"

#define LD_CALIB_BINS 2048

typedef enum ld_calib_method {
    LD_CALIB_ENTROPY,     /* TensorRT EntropyCalibrator2: KL divergence, 2048 bins, from 128 */
    LD_CALIB_MINMAX,      /* max |x| */
    LD_CALIB_PERCENTILE,  /* percentile of |x| (default 99.99) */
    LD_CALIB_MSE,         /* threshold minimising the quantization MSE over the histogram */
} ld_calib_method;

ld_status ld_calib_method_parse(const char *s, ld_calib_method *out);
const char *ld_calib_method_name(ld_calib_method m);

/* Threshold from a histogram of |x| with nbins bins of width `width` starting at 0. */
double ld_calib_entropy(const uint64_t *hist, int nbins, double width);
double ld_calib_percentile(const uint64_t *hist, int nbins, double width, double pct);
double ld_calib_mse(const uint64_t *hist, int nbins, double width, int qmax);

/* Calibrate every activation the policy quantizes (inputs 0 and 1 of quantized, unpinned
 * nodes that are not constants) over the samples, two FP32 passes (max |x|, then histograms).
 * percentile <= 0 means 99.99 (used by LD_CALIB_PERCENTILE only). Results are added to *out
 * (existing names overwritten); *out is untouched on error. */
ld_status ld_calibrate(ld_model *m, const ld_policy *p, const ld_feed *samples, int nsamples,
                       ld_calib_method method, double percentile, ld_calib *out);

/* Calibration with the samples split over processes (layerdiff-mpi): this process runs the
** samples k with k % nranks == rank, and allreduce combines every process's figures in place
** on all of them (maxima, counts and histogram counts: the result does not depend on the
** split, it equals ld_calibrate's). allreduce also carries each process's status first
** (LD_RED_MAX_I64 of one value), so that an error on one process stops all of them. */
typedef enum { LD_RED_MAX_F64, LD_RED_MAX_I64, LD_RED_SUM_I64, LD_RED_SUM_U64 } ld_reduce_op;
typedef struct ld_calib_dist {
    int rank, nranks;
    ld_status (*allreduce)(void *user, void *buf, int n, ld_reduce_op op);
    void *user;
} ld_calib_dist;
ld_status ld_calibrate_dist(ld_model *m, const ld_policy *p, const ld_feed *samples, int nsamples,
                            ld_calib_method method, double percentile, const ld_calib_dist *d, ld_calib *out);

ld_status ld_calib_cache_read(const char *path, ld_calib *out);
/* Refuses to overwrite unless force. */
ld_status ld_calib_cache_write(const char *path, const ld_calib *c, bool force);

/* Additions (calib_cache.c). Entries read are added to *out (a name already there is
 * overwritten); *out is untouched on error. header (may be NULL) receives the header line,
 * malloc'ed, or NULL when the file has none. */
ld_status ld_calib_cache_read_ex(const char *path, ld_calib *out, char **header);
/* "TRT-8601-EntropyCalibration2", "TRT-8601-MinMaxCalibration" (TensorRT's names for its
 * entropy and minmax calibrators), "TRT-8601-PercentileCalibration", "TRT-8601-MSECalibration". */
const char *ld_calib_cache_header(ld_calib_method m);
/* ld_calib_cache_write (which writes the entropy header) with another header. */
ld_status ld_calib_cache_write_method(const char *path, const ld_calib *c, ld_calib_method m, bool force);
ld_status ld_calib_cache_write_header(const char *path, const ld_calib *c, const char *header, bool force);
/* The INT8 scale of an amax (amax / 127 in float) and back (scale * 127 in float, which
 * gives back the same scale bits whenever some float amax has this scale; so cache scales
 * survive a read/write bit for bit). */
float ld_calib_amax_to_scale(float amax);
float ld_calib_scale_to_amax(float scale);

#endif
