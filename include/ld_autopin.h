/*
** ld_autopin.h — finding a small set of nodes to keep in FP32 so that the model's outputs
** meet a goal in the target precision, with incremental re-execution (only the nodes after
** the earliest changed pin are recomputed), and exporting the answer for real engines.
**
** Layer: compare (see tests/tools/check_layers.sh).
*/
#ifndef LD_AUTOPIN_H
#define LD_AUTOPIN_H

#include "ld_session.h"

typedef enum { LD_GOAL_SQNR, LD_GOAL_COSINE, LD_GOAL_TOP1, LD_GOAL_ACC_DELTA, LD_GOAL_MAXREL } ld_goal_kind;

typedef struct ld_goal {
    ld_goal_kind kind;
    double value;            /* sqnr>=DB, cosine>=X, top1>=PCT, acc_delta>=-PP, maxrel<=X */
} ld_goal;

ld_status ld_goal_parse(const char *s, ld_goal *out);
const char *ld_goal_str(const ld_goal *g, char *buf, size_t n);
/* Defaults per target (see layerdiff-autopin(1)). */
int ld_goal_defaults(ld_target t, bool classifier, ld_goal *out, int max);

typedef struct ld_goal_eval {
    double sqnr, cosine, top1, acc_delta, maxrel;
    bool finite;             /* no new NaN/Inf in the outputs */
    bool labelled;
    bool met;
} ld_goal_eval;

typedef enum { LD_STRAT_GREEDY, LD_STRAT_BISECT, LD_STRAT_LINEAR } ld_strategy;

/* Samples split over processes (layerdiff-mpi): this process runs the samples k with
** k % nranks == rank. allgather gets the byte blobs of this process's samples (mine[j]: its
** j-th sample, in increasing order) and gives every process the blobs of all nsamples
** samples in sample order (all[k], malloc'ed, freed by the caller). Every process then
** evaluates the same figures and takes the same search path; the result equals the
** single-process one. A process that failed calls allgather with nmine = -status (and no
** blobs): every process must then get an error back, so that none waits for the others. */
typedef struct ld_autopin_dist {
    int rank, nranks;
    ld_status (*allgather)(void *user, uint8_t *const *mine, const size_t *mine_len, int nmine, int nsamples,
                           uint8_t **all, size_t *lens);
    void *user;
} ld_autopin_dist;

typedef struct ld_autopin_opts {
    ld_goal goals[16];
    int ngoals;
    ld_strategy strategy;
    bool reverse;            /* bisect/linear: pin a suffix of the topological order */
    bool prune;              /* try to unpin each chosen node again (default true) */
    int max_tries;           /* 0 = unlimited */
    double time_limit;       /* seconds, 0 = unlimited */
    ld_progress progress;    /* events: one per try */
    const ld_autopin_dist *dist;   /* NULL: every sample in this process */
} ld_autopin_opts;

typedef struct ld_autopin_result {
    bool *pinned;            /* per node: the best pin set found */
    int npinned;
    ld_goal_eval before, after;
    bool met;
    int tries;
    double seconds;
    double fp32_flops_share, fp32_params_share;   /* of the model's total, in [0, 1] */
    int candidates;          /* nodes considered (float compute that the target changes) */
    const char *stopped;     /* NULL, "max-tries", "time-limit" */
    const ld_qdq *qdq;       /* QDQ model: its quantizers (borrowed from the session); pins are
                                disabled quantizers, exported as ModelOpt quantizer names and
                                ONNX Runtime nodes_to_exclude */
} ld_autopin_result;

ld_status ld_autopin_run(ld_session *s, const ld_autopin_opts *o, ld_autopin_result *r);
void ld_autopin_result_free(ld_autopin_result *r);

/* Export formats. */
typedef enum { LD_FMT_LIST, LD_FMT_JSON, LD_FMT_POLYGRAPHY, LD_FMT_TRTEXEC, LD_FMT_ORT, LD_FMT_MODELOPT, LD_FMT_COUNT } ld_pin_format;
ld_status ld_pin_format_parse(const char *s, ld_pin_format *out);
const char *ld_pin_format_ext(ld_pin_format f);
/* Text of the pins in format f (malloc'ed). */
char *ld_pins_export(ld_pin_format f, const ld_model *m, const ld_autopin_result *r,
                     const ld_autopin_opts *o, ld_target target);

/* FP16/BF16 ONNX model with the pinned nodes in FP32 and Cast nodes at the boundaries. */
ld_status ld_write_mixed_model(const char *in_path, const ld_model *m, const bool *pinned,
                               ld_target target, const char *out_path, bool force);

/* QDQ model without the disabled quantizers (pins on their DequantizeLinear nodes): activation
 * pairs removed, disabled weights replaced by their float originals (qdq_model.c). */
ld_status ld_write_qdq_model(const char *in_path, const ld_model *m, const ld_qdq *q, const bool *pinned,
                             const char *out_path, bool force);

#endif
