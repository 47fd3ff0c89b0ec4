/*
** api_internal.h — the structs behind layerdiff.h's opaque handles, shared by the files of
** the api stage (api.c: models, feeds, run, reports; api_workload.c: workloads, compare,
** autopin). Nothing here is exported from liblayerdiff.so.
*/
#ifndef LD_API_INTERNAL_H
#define LD_API_INTERNAL_H

#define LAYERDIFF_BUILDING 1
#include "layerdiff.h"
#include "ld_autopin.h"
#include "ld_session.h"

struct layerdiff_model {
    ld_model *m;
    char *path;
};

struct layerdiff_feeds {
    ld_feed f;               /* tensors borrow the caller's data (added) or own it (run outputs) */
};

struct layerdiff_report {
    struct cJSON *json;      /* layerdiff.report/1 */
    struct cJSON *autopin;   /* NULL unless from layerdiff_autopin */
    int passed;
};

/* Remember st as the thread's last error code and return it. */
int ld_api_status(ld_status st);

#endif
