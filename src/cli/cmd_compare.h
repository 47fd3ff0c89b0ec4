/*
** cmd_compare.h — what compare, autopin and browse (live mode) share: the parsed flags and a
** prepared session (model, samples, labels, pins, calibration) ready to compare.
*/
#ifndef LD_CMD_COMPARE_H
#define LD_CMD_COMPARE_H

#include "ld_autopin.h"
#include "ld_session.h"

#define LD_MAX_PIN_SPECS 4096

typedef bool (*compare_extra_fn)(int argc, char **argv, int *i, void *user, ld_status *st);

typedef struct compare_args {
    const char *model;
    ld_target target, fallback;
    bool accum_fp16;
    int block_size;              /* --block-size (0: the format's default) */
    const char *pins[LD_MAX_PIN_SPECS];
    int npins;
    ld_input_opts in;
    const char *specs[LD_MAX_INPUT_SPECS];
    ld_data_opts data;
    const char *labels, *class_names;
    int64_t inspect;
    const char *calib, *calib_cache, *write_calib_cache;
    ld_calib_method calib_method;
    double percentile;
    double atol, rtol, quantile, min_sqnr, min_cosine, max_sat;
    int stat;
    const char *against, *against_outputs;
    const char *float_model;     /* QDQ: float weights from the model before quantization */
    bool target_auto;            /* no --target: qdq when the model has quantizers */
    const char *report;
    ld_rows rows;
    int max_rows;
    bool isolated, force, quiet;
    compare_extra_fn extra;      /* command-specific flags (autopin, browse) */
    void *extra_user;
} compare_args;

ld_status ld_compare_parse(int argc, char **argv, const char *cmd, compare_args *a, bool *help,
                           compare_extra_fn extra, void *extra_user);
void ld_compare_args_tol(const compare_args *a, ld_tol *tol);

/* The workload the flags describe (pointers into a: a must outlive it). */
void ld_compare_args_workload(const compare_args *a, ld_workload *w);
extern const char ld_compare_usage[];

/* `layerdiff autopin` with its samples split over processes (layerdiff-mpi; cmd_autopin
** passes NULL, NULL, NULL, NULL, true): cdist splits the calibration, final_compare (NULL:
** ld_session_compare) makes the --report comparison; only the writer prints progress and
** writes files. */
int ld_autopin_main(int argc, char **argv, const ld_autopin_dist *dist, const ld_calib_dist *cdist,
                    ld_status (*final_compare)(ld_session *s, ld_compare *c, void *user), void *user, bool writer);

#endif
