/*
** report_qdq.c — the QDQ part of the report (--target qdq): per quantizer its parameters
** (scales, zero point, axis, block size, quantized type) and what it did to its input (clip %,
** zero %, input range), and where the weights of the reference side came from; in the JSON
** report ("qdq", layerdiff-report(5)) and as lines of the terminal summary.
*/
#include "ld_report.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>

static void fnum(cJSON *o, const char *k, double v) {
    if (isfinite(v)) cJSON_AddNumberToObject(o, k, v);
    else cJSON_AddNullToObject(o, k);
}

static void weights_note(const ld_compare *c, char *buf, size_t n) {
    const ld_qdq *q = c->opts.qdq;
    if (!q->nweights) snprintf(buf, n, "no quantized weights");
    else if (q->nweights_float == q->nweights)
        snprintf(buf, n, "float originals on the reference side (%s)", q->float_model ? q->float_model : "in the model");
    else if (q->nweights_float)
        snprintf(buf, n, "float originals for %d of %d on the reference side (%s), the rest kept dequantized on both sides",
                 q->nweights_float, q->nweights, q->float_model ? q->float_model : "in the model");
    else
        snprintf(buf, n, "kept dequantized on both sides (no --float-model: their quantization error is not measured)");
}

cJSON *ld_report_qdq_json(const ld_compare *c) {
    const ld_qdq *q = c->opts.qdq;
    const ld_graph *g = c->model->graph;
    cJSON *r = cJSON_CreateObject();
    char note[256];
    weights_note(c, note, sizeof note);
    cJSON_AddNumberToObject(r, "activation_quantizers", q->npairs - q->nweights);
    cJSON_AddNumberToObject(r, "weight_quantizers", q->nweights);
    cJSON_AddNumberToObject(r, "float_weights", q->nweights_float);
    if (q->float_model) cJSON_AddStringToObject(r, "float_model", q->float_model);
    else cJSON_AddNullToObject(r, "float_model");
    cJSON_AddStringToObject(r, "weights", note);
    cJSON *arr = cJSON_AddArrayToObject(r, "quantizers");
    for (int i = 0; i < c->nquant; i++) {
        const ld_qdq_pair *p = &c->quant[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", ld_qdq_name(p, g));
        cJSON_AddStringToObject(o, "kind", p->weight ? "weight" : "activation");
        cJSON_AddStringToObject(o, "dequantize_node", g->nodes[p->dq].name);
        if (p->q >= 0) cJSON_AddStringToObject(o, "quantize_node", g->nodes[p->q].name);
        else cJSON_AddNullToObject(o, "quantize_node");
        cJSON_AddStringToObject(o, "input", p->src >= 0 ? g->values[p->src].name : g->values[g->nodes[p->dq].in[0]].name);
        cJSON_AddStringToObject(o, "output", g->values[p->out].name);
        if (p->consumer >= 0) cJSON_AddStringToObject(o, "consumer", g->nodes[p->consumer].name);
        else cJSON_AddNullToObject(o, "consumer");
        cJSON_AddStringToObject(o, "dtype", ld_dtype_name(p->qdtype));
        cJSON *s = cJSON_AddObjectToObject(o, "scale");
        cJSON_AddNumberToObject(s, "count", (double)p->nscale);
        fnum(s, "min", p->scale_min);
        fnum(s, "max", p->scale_max);
        cJSON_AddNumberToObject(s, "zeros", (double)p->scale_zero);
        fnum(o, "zero_point", p->zero_point);
        if (p->axis >= 0) cJSON_AddNumberToObject(o, "axis", p->axis);
        else cJSON_AddNullToObject(o, "axis");
        if (p->block_size > 0) cJSON_AddNumberToObject(o, "block_size", p->block_size);
        else cJSON_AddNullToObject(o, "block_size");
        cJSON_AddBoolToObject(o, "disabled", c->opts.policy.pinned && c->opts.policy.pinned[p->dq]);
        cJSON_AddBoolToObject(o, "measured", p->measured && p->total > 0);
        if (p->measured && p->total > 0) {
            cJSON_AddNumberToObject(o, "elements", (double)p->total);
            cJSON_AddNumberToObject(o, "clip_pct", 100.0 * p->clipped / p->total);
            cJSON_AddNumberToObject(o, "zero_pct", p->nonzero ? 100.0 * p->zeroed / p->nonzero : 0.0);
            fnum(o, "input_min", p->xmin);
            fnum(o, "input_max", p->xmax);
        } else {
            cJSON_AddNullToObject(o, "clip_pct");
            cJSON_AddNullToObject(o, "zero_pct");
        }
        cJSON_AddItemToArray(arr, o);
    }
    return r;
}

void ld_report_qdq_print(FILE *f, const ld_compare *c) {
    const ld_qdq *q = c->opts.qdq;
    char note[256];
    weights_note(c, note, sizeof note);
    fprintf(f, "QDQ model: %d activation quantizers (identities on the FP32 side), %d weight quantizers: %s\n",
            q->npairs - q->nweights, q->nweights, note);
}
