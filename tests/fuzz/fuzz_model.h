/*
** fuzz_model.h — for the model harnesses (fuzz_model_load.c, fuzz_model_run.c): settings and
** a guard that keep one execution quick, nothing that hides a finding. Every finding of issue
** 12 is fixed and replayed from tests/fuzz/regressions/, so no op or value is filtered.
**   - Loop/Scan: --max-iterations is 1000 here (the default is generous; an endless Loop
**     still ends in the same error, a thousand times sooner).
**   - Graphs over FUZZ_MAX_GRAPH_NODES nodes (in any subgraph) are not run: planning is
**     linear, but a mutated 100000-node model costs seconds per execution under ASan, and the
**     chain length says nothing the 2000-node ones do not (tools/gen_chain.py + the bench row
**     cover long graphs).
** The guard reads the ModelProto with the same generated protobuf-c code the loader uses.
*/
#ifndef FUZZ_MODEL_H
#define FUZZ_MODEL_H

#include "fuzz_util.h"
#include "ld_limits.h"
#include "onnx.pb-c.h"

#define FUZZ_MAX_GRAPH_NODES 2000

static inline void fuzz_model_init(void) {
    fuzz_init();
    ld_limit.max_iterations = 1000;
}

static inline bool fuzz_graph_big(const Onnx__GraphProto *g, int depth) {
    if (!g || depth > 64) return false;     /* deeper nesting: the loader's --max-depth refuses it */
    if (g->n_node > FUZZ_MAX_GRAPH_NODES) return true;
    for (size_t i = 0; i < g->n_node; i++)
        for (size_t k = 0; k < g->node[i]->n_attribute; k++) {
            const Onnx__AttributeProto *a = g->node[i]->attribute[k];
            if (fuzz_graph_big(a->g, depth + 1)) return true;
            for (size_t j = 0; j < a->n_graphs; j++)
                if (fuzz_graph_big(a->graphs[j], depth + 1)) return true;
        }
    return false;
}

/* True when the model is too big to be worth an execution (see above). */
static inline bool fuzz_model_skip(const uint8_t *data, size_t size) {
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, data);
    if (!m) return false;
    bool big = fuzz_graph_big(m->graph, 0);
    onnx__model_proto__free_unpacked(m, NULL);
    return big;
}

#endif
