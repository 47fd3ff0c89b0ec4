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
int cmd_help(int argc, char **argv);

int ld_cpu_count(void);
/* Print "layerdiff: <prefix>: <message>" for status st and return st (for main's exit). */
int ld_report_error(ld_status st, const char *prefix);

#endif
