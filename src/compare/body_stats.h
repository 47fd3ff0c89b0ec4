/*
** body_stats.h — private to the comparison pass (compare.c, incremental.c): per-body-node
** errors of control-flow nodes over all their runs (body_stats.c).
*/
#ifndef LD_BODY_STATS_H
#define LD_BODY_STATS_H

#include "ld_compare.h"

#include <stdio.h>

typedef struct body_run body_run;

/* Start measuring the bodies of main-graph node `owner` into nr (results accumulate over
 * samples); runs below min_sqnr dB fail; policy tells which body nodes are pinned. */
ld_status body_run_open(body_run **out, ld_node_result *nr, const ld_graph *top, const ld_node *owner, double min_sqnr,
                        const ld_policy *policy);
/* The runner the target side's body nodes really run with (NULL: ld_node_run, FP32). */
void body_run_set_target(body_run *b, ld_node_runner fn, void *user);
/* The runner body nodes' isolated runs use: on the reference side's inputs (NULL: none). */
void body_run_set_isolated(body_run *b, ld_node_runner fn, void *user);
/* Executor runners (user = the body_run): the reference side records, the target side
 * runs and measures against the recording. */
ld_status body_ref_runner(ld_exec *ex, const ld_node *node, ld_tensor **in, ld_tensor **out, void *user);
ld_status body_tgt_runner(ld_exec *ex, const ld_node *node, ld_tensor **in, ld_tensor **out, void *user);
/* Add the iteration count to nr and free the recordings. */
void body_run_close(body_run *b);
/* Drop nr's body results (re-runs start over; the comparison's end). */
void body_results_free(ld_node_result *nr);

/* The report's "iterations" and "body" members of a node row, and the text lines under it. */
struct cJSON;
void body_results_json(struct cJSON *nj, const ld_node_result *nr);
void body_results_print(FILE *f, const ld_node_result *nr, const ld_node *owner);
/* Index in nr->body of the body node whose isolated error fails first, -1 if none. */
int body_first_iso_fail(const ld_node_result *nr);

#endif
