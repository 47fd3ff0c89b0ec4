/*
** tui_model.h — a comparison report as the browser and the plot see it: the nodes in
** topological order with their outputs, statistics and error metrics, producers and
** consumers, loaded from a "layerdiff.report/1" JSON file (validated field by field) or built
** from a comparison in memory; the metric columns and compact number formatting.
*/
#ifndef LD_TUI_MODEL_H
#define LD_TUI_MODEL_H

#include "ld_report.h"

#define TUI_HIST_BINS 64
#define TUI_MAX_DIMS 16

typedef struct tui_stats {
    bool present;
    double min, max, mean, std, absmax;     /* NAN when null */
    double count, nan, inf;
    double hlo, hhi;                        /* value histogram: linear bins over [hlo, hhi] */
    double hist[TUI_HIST_BINS];
    int nhist;
} tui_stats;

typedef struct tui_err {
    bool present, pass;
    char *reason;                           /* NULL when it passes */
    double count, max_abs, mean_abs, median_abs, p99_abs;
    double max_rel, mean_rel, median_rel, p99_rel;
    double rmse, nmse, sqnr_db, cosine, max_ulp;   /* sqnr_db = +INFINITY when exact (null) */
    double new_nan, new_inf, overflow, underflow, subnormal, saturated, elem_fail, zero_abs;
    int nhist;                              /* |error| histogram: [log2 lower edge, count] pairs */
    double *hist_edge, *hist_count;
    int nch;                                /* per-channel worst absolute error */
    double *ch_max;
} tui_err;

typedef struct tui_tensor {
    char *name, *dtype;
    int ndim;
    int64_t dims[TUI_MAX_DIMS];
    bool measured;
    tui_stats ref, tgt;
    tui_err iso, prop;
    unsigned flags;                         /* LD_FLAG_* */
} tui_tensor;

typedef struct tui_node {
    int index;                              /* node index in the model graph */
    char *name, *op, *domain;
    bool pinned, quantized;
    int quant;                              /* QDQ: the quantizer whose DequantizeLinear this is, -1 */
    int nin;
    char **inputs;
    int *producer;                          /* per input: position in nodes[], -1 = graph input/weight */
    int nout;
    tui_tensor *outs;
    int main_out;                           /* the output shown in the list (the worst one) */
    int ncons;
    int *consumers;                         /* positions in nodes[] */
} tui_node;

/* A quantizer of a QDQ model (the report's "qdq" section; --target qdq). */
typedef struct tui_quant {
    char *name, *kind, *dq_node, *consumer, *dtype;
    int dq_pos, consumer_pos;               /* positions in nodes[], -1: not a listed node (folded weight) */
    double scale_count, scale_min, scale_max, scale_zeros, zero_point;   /* NAN when absent */
    double axis, block_size;                /* NAN: per tensor / no blocks */
    double clip_pct, zero_pct, in_min, in_max;   /* NAN when not measured */
    bool disabled;                          /* its DequantizeLinear was pinned in this run */
} tui_quant;

typedef struct tui_report {
    char *source;                           /* file name, or "live" */
    char *version, *model_path, *producer, *mode, *target, *fallback, *accumulation;
    char *data, *calibration, *against;
    double samples;
    int npins;
    char **pins;
    double min_sqnr, min_cosine, max_sat, atol, rtol;   /* NAN when absent */
    bool isolated, passed;
    int first_iso, first_prop;              /* positions in nodes[], -1 = none */
    char *first_iso_reason, *first_prop_reason;
    int failing;                            /* failing tensors (summary) */
    int nnodes;
    tui_node *nodes;
    int nquant;                             /* QDQ models: the quantizers */
    tui_quant *quant;
    char *qdq_weights;                      /* where the reference side's weights came from */
} tui_report;

/* Read and validate a report file: LD_ERR_NOINPUT when unreadable, LD_ERR_DATA with a message
 * naming the problem (not JSON, another schema version, field of the wrong type). */
ld_status tui_report_load(const char *path, tui_report **out);
/* Build from parsed JSON; `source` names it in messages. */
struct cJSON;
ld_status tui_report_from_json(const struct cJSON *root, const char *source, tui_report **out);
/* Build from a comparison in memory (live mode), through the same JSON. */
ld_status tui_report_from_compare(const ld_compare *c, const ld_report_meta *meta, tui_report **out);
void tui_report_free(tui_report *r);
/* QDQ: does quantizer q feed node position i (its consumer, or a node reading its output)? */
bool tui_quant_feeds(const tui_report *r, int q, int i);
/* Position in nodes[] of the node with this name, or -1. */
int tui_report_find(const tui_report *r, const char *name);

/* ---- metrics ---- */

typedef enum tui_metric {
    TUI_M_SQNR, TUI_M_MAXREL, TUI_M_MAXABS, TUI_M_MEANABS, TUI_M_COSINE, TUI_M_MAXULP, TUI_M_NMSE,
    TUI_M_COUNT
} tui_metric;

const char *tui_metric_label(tui_metric m);      /* "SQNR dB", "max rel", ... */
const char *tui_metric_key(tui_metric m);        /* "sqnr", "maxrel", ... (command line) */
ld_status tui_metric_parse(const char *s, tui_metric *out);
/* The metric of a comparison; NAN when it was not measured. */
double tui_metric_value(const tui_err *e, tui_metric m);
/* Larger is worse, comparable across nodes: -SQNR, log10(1 - cosine), log10(value); -INFINITY
 * for no error at all; NAN when not measured. */
double tui_metric_badness(tui_metric m, double v);
/* Format v into at most `width` characters ("exact", "-" for NAN, compact exponents). */
void tui_metric_format(tui_metric m, double v, char *buf, int width);
/* Compact %g that fits width characters. */
void tui_num_format(double v, char *buf, int width);

/* ---- severity ---- */

typedef enum tui_sev { TUI_SEV_NONE, TUI_SEV_OK, TUI_SEV_WARN, TUI_SEV_PROP, TUI_SEV_ISO } tui_sev;
/* ISO: the node's own (isolated) comparison fails; PROP: only the propagated one fails; WARN:
 * NaN/Inf/overflow/underflow/saturation flags or SQNR within 6 dB of the tolerance. */
tui_sev tui_node_severity(const tui_report *r, const tui_node *n);
/* "NIOUSs" letters of the flags (see layerdiff-compare(1)). */
const char *tui_flags_str(unsigned flags, char *buf, size_t n);
/* The headline output of node i (NULL when it has none). */
const tui_tensor *tui_node_main(const tui_report *r, int i);
/* Shape as "[8,64,17]" ("[]" for scalars). */
const char *tui_shape_str(const tui_tensor *t, char *buf, size_t n);

#endif
