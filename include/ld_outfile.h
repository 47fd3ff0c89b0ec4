/*
** ld_outfile.h — the one way layerdiff creates an output file.
**
** Every report, plot, calibration cache, model, tensor file and pin list goes through here, so
** the rules hold everywhere: the data goes to a temporary file in the same folder, and only
** ld_out_commit() publishes it under its name, atomically. Without LD_OUT_FORCE an existing
** file is never replaced (renameat2(RENAME_NOREPLACE), or link()+unlink() where the file
** system lacks it): the error is LD_ERR_CANTCREAT "PATH already exists (use --force to
** replace it)". With LD_OUT_FORCE the file is replaced by rename(), so readers see the old or
** the new content, never a half-written one. A target that exists and is not a regular file
** (directory, FIFO, device, socket) is refused even with LD_OUT_FORCE. With LD_OUT_STDOUT the
** name "-" means standard output. A failed or aborted write leaves no temporary file behind.
**
**     ld_outfile o;
**     LD_TRY(ld_out_open(path, force ? LD_OUT_FORCE : 0, &o));
**     fprintf(o.f, ...);
**     return ld_out_commit(&o);            (or ld_out_abort(&o) on an error of your own)
**
** Layer: core (see tests/tools/check_layers.sh).
*/
#ifndef LD_OUTFILE_H
#define LD_OUTFILE_H

#include "ld_common.h"

#include <stdio.h>

enum {
    LD_OUT_FORCE = 1u << 0,   /* replace an existing regular file (--force) */
    LD_OUT_STDOUT = 1u << 1,  /* "-" is standard output */
};

typedef struct ld_outfile {
    FILE *f;          /* where to write: the temporary file, or stdout; NULL after ld_out_open_path */
    char *path;       /* the name the file is published under */
    char *tmp;        /* the temporary file in the same folder (NULL for stdout) */
    unsigned flags;
    bool is_stdout;
} ld_outfile;

/* Check early (before a long computation) that path could be created with these flags: it
** must not exist (unless LD_OUT_FORCE) and must not be a non-regular file. Commit checks again. */
ld_status ld_out_check(const char *path, unsigned flags);
/* Create the temporary file and open o->f on it (binary mode). On error o is left empty. */
ld_status ld_out_open(const char *path, unsigned flags, ld_outfile *o);
/* Same, for writers that need a file name (libzip): o->tmp names an empty file to write by
** name and o->f is NULL. "-" is not accepted here. */
ld_status ld_out_open_path(const char *path, unsigned flags, ld_outfile *o);
/* Close o->f (reporting write errors), publish the temporary file under o->path, free o.
** On any error the temporary file is removed and nothing is published. */
ld_status ld_out_commit(ld_outfile *o);
/* Drop the temporary file and free o (safe on an empty or already finished o). */
void ld_out_abort(ld_outfile *o);
/* Open, write len bytes, commit: the whole dance for a buffer already in memory. */
ld_status ld_out_write_all(const char *path, unsigned flags, const void *buf, size_t len);

#endif
