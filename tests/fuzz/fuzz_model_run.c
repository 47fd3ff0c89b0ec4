/*
** fuzz_model_run.c — libFuzzer harness: an ONNX model loaded from memory (strict, like `run`),
** then run in FP32 on a generated input. Guarded so one input stays small and quick: at most
** FUZZ_MAX_NODES nodes, every runtime input at most 4096 elements (symbolic dims -> 1), and
** every value at most 65536 elements by the plan's static shape inference; models with a
** value of unknown shape are refused too (its size could be anything). Refused inputs are not added
** to the corpus (return -1).
*/
#include "fuzz_model.h"
#include "ld_exec.h"
#include "ld_graph.h"
#include "ld_inputs.h"

#define FUZZ_MAX_NODES 64
#define FUZZ_MAX_INPUT 4096
#define FUZZ_MAX_VALUE 65536

static bool small_enough(const ld_graph *g) {
    if (g->nnodes > FUZZ_MAX_NODES) return false;
    for (int i = 0; i < g->ninputs; i++) {
        const ld_value *v = &g->values[g->inputs[i]];
        if (!v->has_decl || v->decl_ndim < 0) return false;
        int64_t n = 1;
        for (int d = 0; d < v->decl_ndim; d++) {
            int64_t k = v->decl_dims[d] >= 0 ? v->decl_dims[d] : 1;
            if (k > FUZZ_MAX_INPUT) return false;
            n *= k;
            if (n > FUZZ_MAX_INPUT) return false;
        }
    }
    for (int i = 0; i < g->nnodes; i++) {
        const ld_node *n = &g->nodes[i];
        if (n->folded) continue;
        for (int k = 0; k < n->nout; k++) {
            if (n->out[k] < 0) continue;
            const ld_value *v = &g->values[n->out[k]];
            if (!v->info_known || v->info.kind != LD_KIND_TENSOR) return false;
            if (v->info.numel < 0 || v->info.numel > FUZZ_MAX_VALUE) return false;
        }
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_model_init();
    if (fuzz_model_skip(data, size)) return -1;
    char path[128];
    snprintf(path, sizeof path, "%s/model.onnx", fuzz_dir());
    ld_model *m = NULL;
    if (ld_model_load_buffer(data, size, path, &m) != LD_OK) return 0;
    /* the plan's static shapes (as inspect and the comparison compute them), symbolic dims 1 */
    if (ld_graph_infer_shapes(m->graph, NULL, 1) != LD_OK || !small_enough(m->graph)) {
        ld_model_free(m);
        return -1;
    }
    ld_input_opts o;
    ld_input_opts_init(&o);
    ld_feed *samples = NULL;
    int ns = 0;
    if (ld_inputs_prepare(m->graph, &o, &samples, &ns) == LD_OK) {
        ld_exec ex;
        if (ld_exec_init(&ex, m->graph, NULL) == LD_OK) {
            ld_status st = LD_OK;
            for (int k = 0; st == LD_OK && k < samples[0].n; k++)
                st = ld_exec_set_input(&ex, samples[0].items[k].name, samples[0].items[k].t);
            if (st == LD_OK) (void)ld_exec_run(&ex);
            ld_exec_destroy(&ex);
        }
        ld_samples_free(samples, ns);
    }
    ld_model_free(m);
    return 0;
}
