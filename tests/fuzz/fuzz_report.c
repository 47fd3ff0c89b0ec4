/*
** fuzz_report.c — libFuzzer harness: a layerdiff.report/1 JSON file as `browse` and `plot`
** read it (tui_report_load), then everything the browser derives from it: each node's
** headline output, severity, flags and shape strings, lookup by name, metric formatting.
*/
#include "fuzz_util.h"
#include "tui_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init();
    const char *path = fuzz_file("report.json", data, size);
    tui_report *r = NULL;
    if (tui_report_load(path, &r) != LD_OK) {
        if (r) abort();
        return 0;
    }
    char buf[256];
    for (int i = 0; i < r->nnodes; i++) {
        const tui_node *n = &r->nodes[i];
        (void)tui_node_severity(r, n);
        if (tui_report_find(r, n->name) < 0) abort();
        for (int k = 0; k < n->nin; k++)
            if (n->producer[k] < -1 || n->producer[k] >= r->nnodes) abort();
        for (int k = 0; k < n->ncons; k++)
            if (n->consumers[k] < 0 || n->consumers[k] >= r->nnodes) abort();
        const tui_tensor *t = tui_node_main(r, i);
        if (!t) continue;
        tui_shape_str(t, buf, sizeof buf);
        tui_flags_str(t->flags, buf, sizeof buf);
        for (int m = 0; m < TUI_M_COUNT; m++) {
            double v = tui_metric_value(&t->iso, (tui_metric)m);
            (void)tui_metric_badness((tui_metric)m, v);
            tui_metric_format((tui_metric)m, v, buf, 9);
            v = tui_metric_value(&t->prop, (tui_metric)m);
            tui_metric_format((tui_metric)m, v, buf, 6);
        }
    }
    tui_report_free(r);
    return 0;
}
