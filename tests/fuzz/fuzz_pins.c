/*
** fuzz_pins.c — libFuzzer harness: a pin list file (--pin @FILE, what autopin writes) applied
** to a small fixed graph; the first line is also tried as a --pin spec of its own.
*/
#include "fuzz_util.h"
#include "ld_pins.h"

static const char *node_names[] = {"conv1", "/layer1/Relu", "Gemm_3", "", "a*b", "[x]"};
static const char *node_ops[] = {"Conv", "Relu", "Gemm", "Add", "Mul", "Softmax"};
#define NN ((int)(sizeof node_names / sizeof *node_names))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init();
    ld_node nodes[NN];
    memset(nodes, 0, sizeof nodes);
    for (int i = 0; i < NN; i++) {
        nodes[i].name = (char *)node_names[i];
        nodes[i].op_type = (char *)node_ops[i];
        nodes[i].domain = (char *)"";
    }
    ld_graph g = {.name = (char *)"g", .nodes = nodes, .nnodes = NN};
    bool pinned[NN];
    const char *path = fuzz_file("pins.txt", data, size);
    char spec[300];
    snprintf(spec, sizeof spec, "@%s", path);
    const char *specs[1] = {spec};
    memset(pinned, 0, sizeof pinned);
    (void)ld_pins_apply(&g, specs, 1, pinned);
    if (ld_pins_count(pinned, NN) > NN) abort();
    /* The first line as a spec on the command line. */
    size_t n = 0;
    while (n < size && n < 256 && data[n] != '\n' && data[n] != '\0') n++;
    char line[257];
    memcpy(line, data, n);
    line[n] = 0;
    if (line[0] != '@') {
        specs[0] = line;
        memset(pinned, 0, sizeof pinned);
        (void)ld_pins_apply(&g, specs, 1, pinned);
    }
    return 0;
}
