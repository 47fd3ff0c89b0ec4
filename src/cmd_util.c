/*
** cmd_util.c — helpers shared by the commands: error printing, CPU count.
*/
#include "cmd.h"

#include <stdio.h>
#include <unistd.h>

int ld_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int ld_report_error(ld_status st, const char *prefix) {
    if (prefix && prefix[0]) fprintf(stderr, "layerdiff: %s: %s\n", prefix, ld_err_msg());
    else fprintf(stderr, "layerdiff: %s\n", ld_err_msg());
    return (int)st;
}
