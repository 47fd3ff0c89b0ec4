/*
** ld_qdq.h — the QDQ plan of an explicitly quantized model (compare --target qdq): its
** quantizers, found once at session open.
**
** A quantizer is either an activation pair (QuantizeLinear whose output only DequantizeLinear
** nodes read, then such a DequantizeLinear: the comparison's reference side makes it an
** identity, the target side runs it as written) or a weight (a DequantizeLinear of a constant:
** folded at load; both sides read the dequantized values unless a float original is known,
** from the model itself (a Q->DQ of a float initializer) or from --float-model, which the
** reference side then reads). Pinning the DequantizeLinear node of a quantizer disables it:
** the target side reads the float value instead (autopin's search space on QDQ models).
**
** Layer: compare (see tests/tools/check_layers.sh).
*/
#ifndef LD_QDQ_H
#define LD_QDQ_H

#include "ld_precision.h"

typedef struct ld_qdq_pair {
    int dq;                  /* DequantizeLinear node index */
    int q;                   /* QuantizeLinear node index; -1 for a weight stored quantized */
    int src;                 /* value the quantizer quantizes: activation or float weight; -1 */
    int out;                 /* the DequantizeLinear's output value */
    int consumer;            /* first node reading out (-1: none) */
    bool weight;             /* constant input (folded) */
    ld_tensor *float_w;      /* weights: float original (borrowed from a graph), or NULL */
    /* the quantizer's parameters */
    ld_dtype qdtype;         /* integer or float8/float4 type of the quantized values */
    double qmin, qmax;       /* range of qdtype (float types: -max, max) */
    int axis, block_size;    /* axis -1 with one scale: per tensor */
    int64_t nscale;
    double scale_min, scale_max, zero_point;   /* zero point: the first one */
    int64_t scale_zero;      /* scales that are 0 (block scale underflow) */
    const ld_tensor *zp_t;   /* the zero point tensor (a graph constant; NULL: none) */
    /* measured at the Q on the reference input (activations) or on the float weights */
    int64_t total, clipped, nonzero, zeroed;
    double xmin, xmax;
    bool measured;
} ld_qdq_pair;

typedef struct ld_qdq {
    int npairs;
    ld_qdq_pair *pairs;
    int *of_node;            /* per node: the pair whose DequantizeLinear it is, else -1 */
    int *of_value;           /* per value: the pair whose output it is, else -1 */
    int nweights, nweights_float;
    const char *float_model; /* --float-model path, or NULL */
} ld_qdq;

/* Find the quantizers of g (none: npairs 0) and extend the last use of each activation
 * pair's input to its DequantizeLinear (the reference side reads it there). */
ld_status ld_qdq_plan(ld_graph *g, ld_qdq *q);
/* Float originals of the weights from the model before quantization: initializers matched by
 * name (W for W, W_quantized, W_DequantizeLinear_Output), then by consumer node name and
 * input position. fm must outlive q. */
ld_status ld_qdq_float_model(ld_qdq *q, const ld_graph *g, const ld_graph *fm, const char *path);
void ld_qdq_free(ld_qdq *q);

/* Quantizer statistics of one batch: x the float input, qv the quantized values (Q's output),
 * dq their dequantized values (same element count). */
void ld_qdq_measure(ld_qdq_pair *p, const ld_tensor *x, const ld_tensor *qv, const ld_tensor *dq);
/* The quantizer's own account of its error, e.g. "quantizer 'x_QuantizeLinear' clips 30.1% of
 * its input (scale 0.0047 covers [-0.60, 0.60] of [-0.81, 2.02])"; "" when nothing stands out. */
void ld_qdq_reason(const ld_qdq_pair *p, const ld_graph *g, char *buf, size_t n);
/* Name of the quantizer: the Q node (activations) or the DequantizeLinear (weights). */
const char *ld_qdq_name(const ld_qdq_pair *p, const ld_graph *g);

#endif
