/*
** ld_inputs.h — turning command-line input options into model feeds: --input NAME=FILE
** (.npy or TensorProto .pb), --inputs FILE (.npz or Polygraphy inputs JSON, one feed per
** sample), and generated values for inputs not given (--val-range, --seed, --batch); an
** explicit --batch N splits given arrays into batches of N.
**
** Layer: io (see tests/tools/check_layers.sh).
*/
#ifndef LD_INPUTS_H
#define LD_INPUTS_H

#include "ld_graph.h"
#include "ld_io.h"

typedef struct ld_input_opts {
    const char **specs;      /* "NAME=FILE" */
    int nspecs;
    const char *inputs_file; /* .npz or .json */
    double lo, hi;           /* generated value range [lo, hi) (default 0, 1) */
    uint64_t seed;           /* default 1 */
    int64_t batch;           /* value for symbolic batch dims (default 1) */
    int64_t split;           /* --batch given explicitly: given arrays whose batch dimension
                                (dim 0 of an input declared with a symbolic dim 0, or one fixed to
                                split) exceeds it are cut into feeds of this many (0 = never) */
} ld_input_opts;

void ld_input_opts_init(ld_input_opts *o);
/* Build one feed per sample covering every runtime input of g. With o->split, a feed whose
** batch arrays hold more than o->split rows becomes several feeds of o->split rows (the last
** may be smaller; with a batch dimension fixed to o->split the leftover rows are dropped with
** a warning, as --data does); inputs without that batch dimension are copied into each. */
ld_status ld_inputs_prepare(const ld_graph *g, const ld_input_opts *o, ld_feed **samples,
                            int *nsamples);
void ld_samples_free(ld_feed *samples, int n);
/* Parse "LO,HI". */
ld_status ld_parse_range(const char *s, double *lo, double *hi);

/* Deterministic generator (splitmix64) used for generated inputs. */
typedef struct ld_rng { uint64_t s; } ld_rng;
uint64_t ld_rng_next(ld_rng *r);
double ld_rng_uniform(ld_rng *r);   /* [0, 1) */

#endif
