/*
** fuzz_model_load.c — libFuzzer harness: an ONNX ModelProto, loaded and planned the way
** `inspect` does (lenient: nodes without a kernel are kept), through ld_model_load_ex on a
** file in a private folder (external data resolves there), then the static shape inference
** inspect prints. Load must fail with a message or succeed; never crash, leak or trip a
** sanitizer.
*/
#include "fuzz_model.h"
#include "ld_graph.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_model_init();
    if (fuzz_model_skip(data, size)) return -1;
    const char *path = fuzz_file("model.onnx", data, size);
    ld_model *m = NULL;
    ld_status st = ld_model_load_ex(path, LD_LOAD_LENIENT, &m);
    if (st == LD_OK) {
        /* inspect's shape column: static inference with symbolic dims 1 */
        (void)ld_graph_infer_shapes(m->graph, NULL, 1);
        /* Walk what the loader built, as inspect would print it. */
        for (int i = 0; i < m->graph->nnodes; i++) {
            const ld_node *n = &m->graph->nodes[i];
            if (!n->name || !n->op_type) abort();
            for (int k = 0; k < n->nin; k++)
                if (n->in[k] < -1 || n->in[k] >= m->graph->nvalues) abort();
            for (int k = 0; k < n->nout; k++)
                if (n->out[k] < -1 || n->out[k] >= m->graph->nvalues) abort();
        }
        ld_model_free(m);
    } else if (m) abort();   /* nothing handed out on failure */
    return 0;
}
