/*
** cmd.h — the command table entries and shared command-line helpers (cmd_util.c).
*/
#ifndef LD_CMD_H
#define LD_CMD_H

#include "ld_exec.h"

typedef struct ld_command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} ld_command;

int cmd_inspect(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_autopin(int argc, char **argv);
int cmd_browse(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_help(int argc, char **argv);

int ld_cpu_count(void);
/* Print "layerdiff: <prefix>: <message>" for status st and return st (for main's exit). */
int ld_report_error(ld_status st, const char *prefix);



/* Flag parsing: true if argv[*i] is `name` (value in the next arg) or `name=value`; the value
 * goes to *val and *i advances past what was consumed. A missing value is a usage error. */
bool ld_arg_value(int argc, char **argv, int *i, const char *name, const char **val, ld_status *st);
bool ld_arg_flag(char **argv, int i, const char *name);
ld_status ld_arg_int(const char *flag, const char *s, int64_t lo, int64_t hi, int64_t *out);
ld_status ld_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Summary statistics of a tensor (floats and ints as double). */
typedef struct ld_stats {
    double min, max, mean, std, absmax;
    int64_t count, nan, inf;
} ld_stats;
void ld_tensor_stats(const ld_tensor *t, ld_stats *s);
#endif
