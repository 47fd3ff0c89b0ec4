/*
** plot_svg.h — a report's error per node as a standalone SVG (`layerdiff plot`): isolated and
** propagated metric along the topological order, tolerance line, first divergent node marked
** and labelled, pinned nodes shaded, failing nodes marked, tooltips per point.
*/
#ifndef LD_PLOT_SVG_H
#define LD_PLOT_SVG_H

#include <stdio.h>
#include "tui_model.h"

typedef struct plot_opts {
    tui_metric metric;
    int width, height;        /* pixels; 0 = default 1200 x 560 */
} plot_opts;

ld_status plot_svg_write(FILE *f, const tui_report *r, const plot_opts *o);

#endif
