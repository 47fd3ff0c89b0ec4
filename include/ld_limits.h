/*
** ld_limits.h — resource limits against hostile or broken inputs, in one place: Loop/Scan
** iterations, bytes of one tensor, bytes of all live tensors, subgraph nesting depth, the
** length of one string in a model, how large
** a constant folding result may be, and whether external data may live outside the model's
** folder. Every limit has a generous default and a command-line flag (cli/main.c); hitting one
** is a data error (exit 65) whose message names the limit and the flag that raises it.
**
** Layer: core (see tests/tools/check_layers.sh).
*/
#ifndef LD_LIMITS_H
#define LD_LIMITS_H

#include "ld_common.h"

typedef struct ld_limits {
    int64_t max_iterations;      /* --max-iterations: iterations of one Loop or Scan run */
    int64_t max_tensor_bytes;    /* --max-tensor-bytes: one tensor's buffer */
    int64_t max_memory;          /* --max-memory: all tensor buffers alive at once; 0 = the
                                    machine's physical memory */
    int64_t max_depth;           /* --max-depth: nesting of subgraphs (If/Loop/Scan bodies) */
    int64_t max_string_bytes;    /* --max-string-bytes: one string in a model (a name, an
                                    attribute string, a string tensor element) */
    int64_t fold_max_bytes;      /* constant folding leaves larger results to run time */
    bool allow_external_outside; /* --allow-external-outside: external data anywhere */
} ld_limits;

/* The limits in force (defaults until a flag changes them). */
extern ld_limits ld_limit;

/* Restore the defaults (tests). */
void ld_limits_reset(void);

/* Set the limit of a command-line flag ("--max-memory", ...) from its value ("8G", "1000");
 * LD_ERR_USAGE naming the flag for an unknown flag or a bad value. Sizes take K/M/G/T
 * (powers of 1024). *takes_value says whether the flag consumes a value. */
bool ld_limit_is_flag(const char *flag, bool *takes_value);
ld_status ld_limit_set(const char *flag, const char *value);

/* Before allocating a tensor buffer of `bytes`: error if it exceeds --max-tensor-bytes or
 * would take the live total past --max-memory; on success the bytes count as live until
 * ld_limit_release. Thread-safe. */
ld_status ld_limit_acquire(size_t bytes);
void ld_limit_release(size_t bytes);
/* Bytes of tensor buffers alive now (acquired and not released). */
size_t ld_limit_live_bytes(void);

/* Iteration `it` (0-based) of a Loop/Scan node: error naming the op and --max-iterations once
 * it reaches the limit (the executor puts the node's name in front). */
ld_status ld_limit_iteration(const char *op, int64_t it);

/* Print "layerdiff: warning: ..." on stderr the first time `key` (e.g. a node) is seen;
 * later calls with the same key print nothing. Thread-safe. */
void ld_warn_once(const void *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
