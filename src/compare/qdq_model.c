/*
** qdq_model.c — autopin's --write-model on a QDQ model: the model as written minus the
** disabled quantizers. A disabled activation quantizer's DequantizeLinear goes and its readers
** read the QuantizeLinear's float input (the QuantizeLinear goes too when nothing else reads
** it); a disabled weight quantizer's DequantizeLinear is replaced by a float initializer of
** the same name holding the float original (--float-model). Works on the original protobuf
** (protobuf-c), so everything else is written back unchanged.
*/
#include "ld_autopin.h"
#include "ld_outfile.h"
#include "load_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int find_producer(const Onnx__GraphProto *gp, const char *out) {
    for (size_t i = 0; i < gp->n_node; i++)
        for (size_t k = 0; k < gp->node[i]->n_output; k++)
            if (!strcmp(gp->node[i]->output[k], out)) return (int)i;
    return -1;
}

static bool is_read(const Onnx__GraphProto *gp, const char *name, const bool *gone) {
    for (size_t i = 0; i < gp->n_node; i++)
        for (size_t k = 0; !gone[i] && k < gp->node[i]->n_input; k++)
            if (!strcmp(gp->node[i]->input[k], name)) return true;
    for (size_t o = 0; o < gp->n_output; o++)
        if (!strcmp(gp->output[o]->name, name)) return true;
    return false;
}

/* Readers of `from` read `to` instead (graph outputs keep their names: an Identity is not
 * needed because a quantizer output that is a graph output is not a pair, see ld_qdq_plan). */
static ld_status rewire(Onnx__GraphProto *gp, const char *from, const char *to) {
    for (size_t i = 0; i < gp->n_node; i++)
        for (size_t k = 0; k < gp->node[i]->n_input; k++)
            if (!strcmp(gp->node[i]->input[k], from)) {
                char *s = ld_strdup(to);
                if (!s) return ld_oom();
                free(gp->node[i]->input[k]);
                gp->node[i]->input[k] = s;
            }
    return LD_OK;
}

static ld_status add_float_init(Onnx__GraphProto *gp, const char *name, const ld_tensor *t) {
    Onnx__TensorProto *tp = calloc(1, sizeof *tp);
    if (!tp) return ld_oom();
    onnx__tensor_proto__init(tp);
    tp->name = ld_strdup(name);
    tp->data_type = 1;   /* FLOAT */
    tp->dims = malloc(sizeof(int64_t) * (t->ndim + 1));
    tp->raw_data.data = malloc((size_t)t->numel * sizeof(float) + 1);
    Onnx__TensorProto **ni = realloc(gp->initializer, sizeof *ni * (gp->n_initializer + 1));
    if (ni) gp->initializer = ni;
    if (!tp->name || !tp->dims || !tp->raw_data.data || !ni) { onnx__tensor_proto__free_unpacked(tp, NULL); return ld_oom(); }
    tp->n_dims = t->ndim;
    memcpy(tp->dims, t->dims, sizeof(int64_t) * t->ndim);
    memcpy(tp->raw_data.data, t->data, (size_t)t->numel * sizeof(float));   /* little-endian hosts */
    tp->raw_data.len = (size_t)t->numel * sizeof(float);
    tp->has_raw_data = 1;
    tp->has_data_type = 1;
    gp->initializer[gp->n_initializer++] = tp;
    return LD_OK;
}

ld_status ld_write_qdq_model(const char *in_path, const ld_model *m, const ld_qdq *q, const bool *pinned,
                             const char *out_path, bool force) {
    const ld_graph *g = m->graph;
    for (int p = 0; p < q->npairs; p++)
        if (pinned[q->pairs[p].dq] && q->pairs[p].weight && !q->pairs[p].float_w)
            return ld_error(LD_ERR_USAGE, "--write-model: weight quantizer '%s' is disabled but its float original is unknown (give --float-model)",
                            g->nodes[q->pairs[p].dq].name);
    LD_TRY(ld_out_check(out_path, force ? LD_OUT_FORCE : 0));
    uint8_t *buf;
    size_t len;
    LD_TRY(ld_file_read(in_path, &buf, &len));
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, buf);
    free(buf);
    if (!mp || !mp->graph) { if (mp) onnx__model_proto__free_unpacked(mp, NULL); return ld_error(LD_ERR_DATA, "%s: cannot re-read the model", in_path); }
    Onnx__GraphProto *gp = mp->graph;
    bool *gone = calloc(gp->n_node + 1, sizeof(bool));
    ld_status st = gone ? LD_OK : ld_oom();
    for (int p = 0; st == LD_OK && p < q->npairs; p++) {
        const ld_qdq_pair *qp = &q->pairs[p];
        if (!pinned[qp->dq]) continue;
        const char *out = g->values[qp->out].name;
        int dq = find_producer(gp, out);
        if (dq < 0) { st = ld_error(LD_ERR_INTERNAL, "--write-model: no node writes '%s' in %s", out, in_path); break; }
        gone[dq] = true;
        if (!qp->weight) {
            st = rewire(gp, out, g->values[qp->src].name);
            const char *qout = g->values[g->nodes[qp->dq].in[0]].name;
            int qn = find_producer(gp, qout);
            if (st == LD_OK && qn >= 0 && !is_read(gp, qout, gone)) gone[qn] = true;
        } else {
            st = add_float_init(gp, out, qp->float_w);
        }
    }
    if (st == LD_OK) {   /* drop the removed nodes; value_info of removed values goes stale */
        size_t w = 0;
        for (size_t i = 0; i < gp->n_node; i++) {
            if (gone[i]) onnx__node_proto__free_unpacked(gp->node[i], NULL);
            else gp->node[w++] = gp->node[i];
        }
        gp->n_node = w;
        for (size_t i = 0; i < gp->n_value_info; i++) onnx__value_info_proto__free_unpacked(gp->value_info[i], NULL);
        free(gp->value_info);
        gp->value_info = NULL;
        gp->n_value_info = 0;
    }
    if (st == LD_OK) {
        size_t n = onnx__model_proto__get_packed_size(mp);
        uint8_t *o = malloc(n + 1);
        if (!o) st = ld_oom();
        else {
            onnx__model_proto__pack(mp, o);
            st = ld_out_write_all(out_path, force ? LD_OUT_FORCE : 0, o, n);
        }
        free(o);
    }
    free(gone);
    onnx__model_proto__free_unpacked(mp, NULL);
    return st;
}
