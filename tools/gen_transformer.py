#!/usr/bin/python3
"""GPT-2-shaped decoder fixtures with random weights, for the transformer realism tests
(tests/e2e/test_transformer.sh). Never commit the output: it is generated in the test.

  gen_transformer.py full OUTDIR [--layers 12 --d 768 --heads 12 --seq 128 --vocab 50257 --ctx 1024]
      the whole sequence at once: input_ids (1,S) -> logits (1,S,V); causal mask, pre-LN blocks
      (LayerNormalization), GELU (Erf), tied embedding/output weights (Gemm transB). Defaults are
      GPT-2 small: 124M parameters. Weights go to external data (decoder.bin).
  gen_transformer.py step OUTDIR [same sizes, --past P]
      one decoding step with a KV cache: input_ids (1,1), attention_mask (1,P+1) int64,
      past_key_L/past_value_L (1,H,P,D/H) -> logits (1,1,V), present_key_L/present_value_L
      (1,H,P+1,D/H); masked positions get -1e4 before the softmax.
  --plant-overflow L   in layer L, q gets a bias of 40 per element and k is 40 everywhere, so the
      attention scores QK^T (computed before the 1/sqrt(d) scale, as exported GPT-2 does) are
      1600 * d/heads plus a per-query term, the same for every key: about 1e5 at GPT-2 sizes,
      beyond FP16's 65504 at the MatMul 'h{L}/attn/qk'; the softmax over equal scores is uniform.

Writes decoder.onnx (+ decoder.bin), inputs.npz (one entry per graph input) and meta.json
(parameters, weight bytes, the largest live set in bytes: the biggest sum of activations any
node reads and writes plus the residual stream it keeps alive)."""
import argparse, json, os, sys
import numpy as np
from onnx import helper, TensorProto as TP

ap = argparse.ArgumentParser()
ap.add_argument('mode', choices=['full', 'step'])
ap.add_argument('out')
for k, v in (('layers', 12), ('d', 768), ('heads', 12), ('seq', 128), ('vocab', 50257), ('ctx', 1024), ('past', 16),
             ('seed', 1)):
    ap.add_argument('--' + k, type=int, default=v)
ap.add_argument('--plant-overflow', type=int, default=-1)
a = ap.parse_args()
D, H, V, L = a.d, a.heads, a.vocab, a.layers
Dh = D // H
S = a.seq if a.mode == 'full' else 1
P = a.past if a.mode == 'step' else 0
rng = np.random.default_rng(a.seed)
F = TP.FLOAT

binpath = os.path.join(a.out, 'decoder.bin')
bin_f = open(binpath, 'wb')
inits, nodes, nparams = [], [], 0


def ext(name, arr, param=True):
    """An initializer whose data goes to decoder.bin (64-byte aligned), without copies."""
    global nparams
    arr = np.ascontiguousarray(arr, dtype=np.float32) if arr.dtype != np.int64 else arr
    pad = (-bin_f.tell()) % 64
    bin_f.write(b'\0' * pad)
    off = bin_f.tell()
    arr.tofile(bin_f)
    t = TP()
    t.name = name
    t.data_type = TP.INT64 if arr.dtype == np.int64 else F
    t.dims.extend(arr.shape)
    t.data_location = TP.EXTERNAL
    for k, v in (('location', 'decoder.bin'), ('offset', str(off)), ('length', str(arr.nbytes))):
        e = t.external_data.add()
        e.key, e.value = k, v
    inits.append(t)
    if param:
        nparams += arr.size
    return name


def small(name, arr):
    """A small constant stored inline."""
    inits.append(helper.make_tensor(name, TP.INT64 if arr.dtype == np.int64 else F, arr.shape,
                                    arr.flatten().tolist()))
    return name


def w(name, *shape, std=0.02):
    return ext(name, (rng.standard_normal(shape, dtype=np.float32) * std))


def node(op, ins, name, nout=1, **attrs):
    outs = [name] if nout == 1 else [f'{name}:{i}' for i in range(nout)]
    nodes.append(helper.make_node(op, ins, outs, name=name, **attrs))
    return outs[0] if nout == 1 else outs


# shared constants
small('shape_heads', np.array([0, 0, H, Dh], np.int64))
small('shape_model', np.array([0, 0, D], np.int64))
small('shape_2d', np.array([-1, D], np.int64))
small('shape_logits', np.array([1, S, V], np.int64))
small('split3', np.array([D, D, D], np.int64))
small('sqrt_dh', np.array(np.sqrt(Dh), np.float32))
small('half', np.array(0.5, np.float32))
small('one', np.array(1.0, np.float32))
small('sqrt2', np.array(np.sqrt(2.0), np.float32))
small('neg_big', np.array(-1e4, np.float32))

wte = w('wte', V, D)
wpe = w('wpe', a.ctx, D, std=0.01)
ids = 'input_ids'
if a.mode == 'full':
    small('positions', np.arange(S, dtype=np.int64).reshape(1, S))
    tri = np.triu(np.full((S, S), -1e4, np.float32), 1).reshape(1, 1, S, S)
    mask_add = ext('causal_mask', tri, param=False)
else:
    small('positions', np.array([[P]], np.int64))
    mf = node('Cast', ['attention_mask'], 'mask/float', to=F)
    inv = node('Sub', ['one', mf], 'mask/inverted')
    m4 = node('Mul', [inv, 'neg_big'], 'mask/additive')          # (1, P+1)
    small('mask_axes', np.array([1, 2], np.int64))
    mask_add = node('Unsqueeze', [m4, 'mask_axes'], 'mask/b11')   # (1,1,1,P+1)
x = node('Add', [node('Gather', [wte, ids], 'embed/tokens'), node('Gather', [wpe, 'positions'], 'embed/positions')],
         'embed/sum')
present = []
for l in range(L):
    p = f'h{l}'
    ln1 = node('LayerNormalization', [x, ext(f'{p}.ln1.g', np.ones(D, np.float32)), ext(f'{p}.ln1.b', np.zeros(D, np.float32))],
               f'{p}/ln1', axis=-1, epsilon=1e-5)
    qkv_b, w_qkv = np.zeros(3 * D, np.float32), rng.standard_normal((D, 3 * D), dtype=np.float32) * 0.02
    if l == a.plant_overflow:   # q = 40 + noise, k = 40: scores 1600 * Dh + 40 * sum(q noise), the same for every key
        qkv_b[:2 * D] = 40.0
        w_qkv[:, D:2 * D] = 0.0
    qkv = node('Add', [node('MatMul', [ln1, ext(f'{p}.attn.w_qkv', w_qkv)], f'{p}/attn/qkv_mm'), ext(f'{p}.attn.b_qkv', qkv_b)],
               f'{p}/attn/qkv')
    q, k, v = node('Split', [qkv, 'split3'], f'{p}/attn/split', nout=3, axis=-1)
    heads = lambda t, nm: node('Reshape', [t, 'shape_heads'], f'{p}/attn/{nm}_heads')
    q = node('Transpose', [heads(q, 'q')], f'{p}/attn/q_t', perm=[0, 2, 1, 3])    # (1,H,S,Dh)
    k = node('Transpose', [heads(k, 'k')], f'{p}/attn/k_t', perm=[0, 2, 1, 3])
    v = node('Transpose', [heads(v, 'v')], f'{p}/attn/v_t', perm=[0, 2, 1, 3])
    if a.mode == 'step':
        k = node('Concat', [f'past_key_{l}', k], f'present_key_{l}', axis=2)
        v = node('Concat', [f'past_value_{l}', v], f'present_value_{l}', axis=2)
        present += [k, v]
    kt = node('Transpose', [k], f'{p}/attn/k_T', perm=[0, 1, 3, 2])
    sc = node('MatMul', [q, kt], f'{p}/attn/qk')                    # QK^T before the scale
    sc = node('Div', [sc, 'sqrt_dh'], f'{p}/attn/scale')
    sc = node('Add', [sc, mask_add], f'{p}/attn/mask')
    pr = node('Softmax', [sc], f'{p}/attn/softmax', axis=-1)
    o = node('MatMul', [pr, v], f'{p}/attn/pv')
    o = node('Reshape', [node('Transpose', [o], f'{p}/attn/o_t', perm=[0, 2, 1, 3]), 'shape_model'], f'{p}/attn/merge')
    o = node('Add', [node('MatMul', [o, w(f'{p}.attn.w_o', D, D)], f'{p}/attn/proj_mm'), ext(f'{p}.attn.b_o', np.zeros(D, np.float32))],
             f'{p}/attn/proj')
    x = node('Add', [x, o], f'{p}/res1')
    ln2 = node('LayerNormalization', [x, ext(f'{p}.ln2.g', np.ones(D, np.float32)), ext(f'{p}.ln2.b', np.zeros(D, np.float32))],
               f'{p}/ln2', axis=-1, epsilon=1e-5)
    hdn = node('Add', [node('MatMul', [ln2, w(f'{p}.mlp.w_fc', D, 4 * D)], f'{p}/mlp/fc_mm'),
                       ext(f'{p}.mlp.b_fc', np.zeros(4 * D, np.float32))], f'{p}/mlp/fc')
    erf = node('Erf', [node('Div', [hdn, 'sqrt2'], f'{p}/mlp/gelu_div')], f'{p}/mlp/gelu_erf')
    g = node('Mul', [node('Mul', [hdn, node('Add', [erf, 'one'], f'{p}/mlp/gelu_add')], f'{p}/mlp/gelu_mul'), 'half'],
             f'{p}/mlp/gelu')
    o = node('Add', [node('MatMul', [g, w(f'{p}.mlp.w_proj', 4 * D, D)], f'{p}/mlp/proj_mm'),
                     ext(f'{p}.mlp.b_proj', np.zeros(D, np.float32))], f'{p}/mlp/proj')
    x = node('Add', [x, o], f'{p}/res2')
x = node('LayerNormalization', [x, ext('ln_f.g', np.ones(D, np.float32)), ext('ln_f.b', np.zeros(D, np.float32))], 'ln_f',
         axis=-1, epsilon=1e-5)
x = node('Reshape', [x, 'shape_2d'], 'head/flatten')
lg = node('Gemm', [x, wte], 'head/logits_2d', transB=1)              # tied to the embedding
nodes.append(helper.make_node('Reshape', [lg, 'shape_logits'], ['logits'], name='head/logits'))
bin_f.close()

ins = [helper.make_tensor_value_info('input_ids', TP.INT64, [1, S])]
outs = [helper.make_tensor_value_info('logits', F, [1, S, V])]
feeds = {'input_ids': rng.integers(0, V, (1, S), dtype=np.int64)}
if a.mode == 'step':
    ins.append(helper.make_tensor_value_info('attention_mask', TP.INT64, [1, P + 1]))
    mask = np.ones((1, P + 1), np.int64)
    mask[0, :3] = 0                                                    # left padding
    feeds['attention_mask'] = mask
    for l in range(L):
        for kind in ('key', 'value'):
            ins.append(helper.make_tensor_value_info(f'past_{kind}_{l}', F, [1, H, P, Dh]))
            outs.append(helper.make_tensor_value_info(f'present_{kind}_{l}', F, [1, H, P + 1, Dh]))
            feeds[f'past_{kind}_{l}'] = rng.standard_normal((1, H, P, Dh), dtype=np.float32)
g = helper.make_graph(nodes, 'decoder', ins, outs, inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)], producer_name='layerdiff-gen-transformer')
m.ir_version = 8
open(os.path.join(a.out, 'decoder.onnx'), 'wb').write(m.SerializeToString())
np.savez(os.path.join(a.out, 'inputs.npz'), **feeds)
T = S + P
live = 4 * max(S * D + S * V,                      # final Gemm: hidden in, logits out
               S * D + 2 * S * 4 * D,              # MLP: hidden, fc out, GELU temporaries
               S * D + 2 * H * S * T)              # attention scores and probabilities
live += 4 * S * D                                  # the residual stream kept alive
json.dump({'parameters': int(nparams), 'weight_bytes': os.path.getsize(binpath), 'live_bytes': int(live),
           'layers': L, 'd': D, 'heads': H, 'seq': S, 'past': P, 'vocab': V}, open(os.path.join(a.out, 'meta.json'), 'w'))
print(f'{a.mode}: {nparams / 1e6:.1f}M parameters, {os.path.getsize(binpath) / 1e6:.0f} MB of weights, {len(nodes)} nodes')
