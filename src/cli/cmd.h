/*
** cmd.h — the command table entries and shared command-line helpers (cmd_util.c).
*/
#ifndef LD_CMD_H
#define LD_CMD_H

#include "ld_data.h"
#include "ld_exec.h"
#include "ld_inputs.h"

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

/* The data flags run, compare, autopin and browse share: --input NAME=FILE (at most
 * LD_MAX_INPUT_SPECS, stored in in->specs, which must have room for them), --inputs,
 * --val-range, --seed, --batch (also the batch of --data, and, given explicitly, the size
 * --input/--inputs arrays are cut to), --data, --max-samples, --resize, --center-crop,
 * --mean, --std, --imagenet-norm. True if argv[*i] is one of them (then *st says whether it
 * parsed). in and data must have been initialised (ld_input_opts_init, ld_data_opts_init). */
#define LD_MAX_INPUT_SPECS 64
bool ld_arg_data(int argc, char **argv, int *i, const char *cmd, ld_input_opts *in, ld_data_opts *data,
                 ld_status *st);
/* After parsing: --data excludes --input/--inputs. */
ld_status ld_arg_data_check(const char *cmd, const ld_input_opts *in, const ld_data_opts *data);
/* Number parsers for flag values (usage errors name the flag). */
ld_status ld_arg_hw(const char *flag, const char *v, int *h, int *w);
ld_status ld_arg_floats(const char *flag, const char *v, float *out, int *n);

/* Summary statistics of a tensor (floats and ints as double). */
typedef struct ld_stats {
    double min, max, mean, std, absmax;
    int64_t count, nan, inf;
} ld_stats;
void ld_tensor_stats(const ld_tensor *t, ld_stats *s);
#endif
