/*
** ld_session.h — the workload of a comparison and the session prepared from it.
**
** A workload says what to compare: the model, the target precision, the samples (data folder,
** IDX, arrays, Polygraphy inputs, or generated), labels, pins, calibration and tolerances. It
** is plain data, filled by a front end (the CLI's flag parser, a library caller); nothing in it
** refers to command-line flags. ld_session_open() loads everything the workload names and
** calibrates when the target needs it; compare, autopin and the live browser all start from
** the session.
**
** Ownership: the session copies the workload struct but not the strings it points to; they
** must outlive the session.
**
** Layer: compare (see tests/tools/check_layers.sh).
*/
#ifndef LD_SESSION_H
#define LD_SESSION_H

#include "ld_branches.h"
#include "ld_calib.h"
#include "ld_compare.h"
#include "ld_data.h"
#include "ld_inputs.h"
#include "ld_report.h"

typedef struct ld_workload {
    const char *model;                 /* ONNX file */
    ld_target target, fallback;        /* fallback: nodes the target cannot run (LD_TARGET_COUNT: FP32) */
    bool accum_fp16;                   /* emulate FP16 accumulation in FP16 GEMMs */
    int block_size;                    /* block-scaled targets with a free block size (0: default) */
    const char *const *pins;           /* pin specs (ld_pins_apply syntax) */
    int npins;
    ld_input_opts in;                  /* --input/--inputs/generated samples */
    ld_data_opts data;                 /* data.path set: samples from a dataset */
    const char *labels, *class_names;  /* optional files */
    const char *calib;                 /* calibration samples (NULL: the compared samples) */
    const char *calib_cache;           /* TensorRT calibration cache to read instead */
    const char *write_calib_cache;     /* write the calibration here */
    ld_calib_method calib_method;
    double percentile;
    ld_tol tol;                        /* pass/fail thresholds */
    bool isolated;                     /* compute isolated errors (compare's default) */
    bool force;                        /* replace existing output files */
    const char *against, *against_outputs;   /* compare with another model / saved outputs */
    const char *float_model;           /* QDQ: the model before quantization (float weights) */
    bool target_auto;                  /* no target given: QDQ if the model has quantizers */
    /* A library caller's samples in memory (borrowed; used instead of in and data.path), its
    ** calibration samples (instead of calib) and labels (instead of the labels file). */
    const ld_feed *feeds, *calib_feeds;
    int nfeeds, ncalib_feeds;
    const int64_t *label_values;
    int64_t nlabel_values;
    const ld_calib_dist *calib_dist;   /* calibration split over processes (NULL: not) */
} ld_workload;

typedef struct ld_session {
    ld_workload w;
    ld_model *model;
    ld_feed *samples;            /* feeds (batches) */
    int nsamples;
    char **names;                /* per sample (images) */
    int64_t nnames;
    int64_t *labels;
    int64_t nlabels;
    char **class_names;
    int nclass_names;
    bool *pinned;                /* per node */
    const ld_node **body_pins;   /* pinned nodes inside control-flow bodies */
    int nbody_pins;
    ld_calib calib;
    char calib_desc[256];
    char data_desc[512];
    ld_compare_opts opts;
    ld_qdq qdq;                  /* --target qdq: the quantizers */
    ld_model *float_model;       /* --float-model */
    ld_branch_counts branches;   /* data-dependent Ifs: runs per branch, inlined or not */
} ld_session;

/* Load the model, data, labels, pins; calibrate when the target needs it. An If whose
 * condition is the same for every feed is inlined (ld_branches_resolve) when the comparison
 * emulates a precision without separate --calib data. */
ld_status ld_session_open(ld_session *s, const ld_workload *w);
void ld_session_close(ld_session *s);
/* Run the comparison over every sample into c (initialised here). */
ld_status ld_session_compare(ld_session *s, ld_compare *c);
/* Compare with another model (w.against) or saved outputs (w.against_outputs) instead of an
** emulated target: tensors matched by name, propagated errors only. matched_per_sample: how
** many tensors matched in each sample. */
ld_status ld_session_against(ld_session *s, ld_compare *c, int *matched_per_sample);
void ld_session_meta(const ld_session *s, ld_report_meta *m);

#endif
