/*
** ld_pins.h — choosing nodes by name: --pin NAME (shell glob on node names), op:TYPE (every
** node of that op type), @FILE (one spec per line, '#' comments) — the list format autopin
** writes. A spec that matches no node is an error, so a typo never silently pins nothing.
** With ld_pins_apply_bodies, names and globs also reach the nodes of control-flow bodies.
**
** Layer: emulate (see tests/tools/check_layers.sh).
*/
#ifndef LD_PINS_H
#define LD_PINS_H

#include "ld_graph.h"

/* Mark pinned[i] for every node of g matched by the specs (pinned has g->nnodes entries). */
ld_status ld_pins_apply(const ld_graph *g, const char *const *specs, int nspecs, bool *pinned);
/* Same, and specs also match the nodes of Loop/Scan/If bodies by their path
 * ("Loop_2/body/Add_1", nested bodies continue it): those go to *body (*nbody of them; the
 * caller frees the array). */
ld_status ld_pins_apply_bodies(const ld_graph *g, const char *const *specs, int nspecs, bool *pinned,
                               const ld_node ***body, int *nbody);
int ld_pins_count(const bool *pinned, int n);

#endif
