/*
** ld_report.h — the versioned JSON report of a comparison ("layerdiff.report/1", documented
** field by field in layerdiff-report(5), JSON Schema in schemas/) and the terminal table.
**
** Layer: compare (see tests/tools/check_layers.sh).
*/
#ifndef LD_REPORT_H
#define LD_REPORT_H

#include <stdio.h>
#include "ld_compare.h"

#define LD_REPORT_SCHEMA "layerdiff.report/1"

typedef struct ld_report_meta {
    const char *model_path;
    const char *mode;              /* "emulate", "against-model", "against-outputs" */
    const char *against;           /* second model or outputs file */
    const char *data;              /* data description */
    const char *calib_desc;        /* "entropy over 64 samples", "cache FILE", ... */
    const char *const *pins;       /* pin specs as given */
    int npins;
    const char *const *class_names;
    int nclass_names;
    const struct ld_branch_counts *branches;   /* data-dependent Ifs (NULL or empty: none) */
} ld_report_meta;

struct cJSON;
struct cJSON *ld_report_json(const ld_compare *c, const ld_report_meta *meta);
/* Write the report; refuses to overwrite an existing file unless force. "-" = stdout. */
ld_status ld_report_write(const char *path, const ld_compare *c, const ld_report_meta *meta, bool force);

/* QDQ models (report_qdq.c): the "qdq" object and the summary line of the terminal table. */
struct cJSON *ld_report_qdq_json(const ld_compare *c);
void ld_report_qdq_print(FILE *f, const ld_compare *c);

typedef enum { LD_ROWS_ALL, LD_ROWS_FAILING, LD_ROWS_FLAGGED } ld_rows;
/* The terminal table and the first-divergent summary. */
void ld_report_print(FILE *f, const ld_compare *c, const ld_report_meta *meta, ld_rows rows, int max_rows);

#endif
