#!/usr/bin/python3
"""make_seeds.py — (re)build the seed corpora in tests/fuzz/corpus/<harness>/ from the
fixtures plus a few hand-made inputs, keeping every file small (the committed corpora stay
well under a few MB). Deterministic: the same fixtures give the same seeds.
    python3 tests/fuzz/make_seeds.py [--report REPORT.json]
"""
import hashlib, io, json, os, shutil, subprocess, sys, zipfile, base64
import numpy as np
import onnx
from onnx import helper, TensorProto

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")

def put(h, data, name=None):
    d = os.path.join(OUT, h)
    os.makedirs(d, exist_ok=True)
    name = name or hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

def rd(p):
    with open(os.path.join(ROOT, p), "rb") as f:
        return f.read()

def models():
    """One small model per op of the ONNX node tests (the first test of each op)."""
    node = os.path.join(ROOT, "fixtures/onnx-tests/node")
    seen = {}
    for t in sorted(os.listdir(node)):
        p = os.path.join(node, t, "model.onnx")
        if not os.path.exists(p) or os.path.getsize(p) > 1500:
            continue
        try:
            m = onnx.load(p)
        except Exception:
            continue
        ops = tuple(sorted({n.op_type for n in m.graph.node}))
        if ops in seen:
            continue
        seen[ops] = p
    return sorted(seen.values())

def npy_bytes(a):
    b = io.BytesIO()
    np.save(b, a, allow_pickle=False)
    return b.getvalue()

def main():
    report = sys.argv[sys.argv.index("--report") + 1] if "--report" in sys.argv else None
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    ms = models()
    for p in ms:
        put("fuzz_model_load", open(p, "rb").read())
    # model_run: only what runs on a generated input (declared, small inputs) — the harness
    # refuses the rest anyway; keep the same set, it is cheap.
    for p in ms:
        put("fuzz_model_run", open(p, "rb").read())
    # TensorProto .pb: one input of each dtype found among the node tests
    node = os.path.join(ROOT, "fixtures/onnx-tests/node")
    dts = {}
    for t in sorted(os.listdir(node)):
        ds = os.path.join(node, t, "test_data_set_0")
        if not os.path.isdir(ds):
            continue
        for f in sorted(os.listdir(ds)):
            p = os.path.join(ds, f)
            if os.path.getsize(p) > 600:
                continue
            tp = onnx.TensorProto()
            try:
                tp.ParseFromString(open(p, "rb").read())
            except Exception:
                continue
            key = (tp.data_type, len(tp.dims) > 0, tp.HasField("raw_data") if hasattr(tp, "HasField") else 0)
            if dts.setdefault(key, p) == p:
                put("fuzz_pb", open(p, "rb").read())
    t = helper.make_tensor("s", TensorProto.STRING, [2], [b"ab", b""])
    put("fuzz_pb", t.SerializeToString())
    t = helper.make_tensor("f", TensorProto.FLOAT, [2, 2], [1, 2, 3, 4])
    put("fuzz_pb", t.SerializeToString())
    t = helper.make_tensor("h", TensorProto.FLOAT16, [3], np.array([1, 2, 3], np.float16).tobytes(), raw=True)
    put("fuzz_pb", t.SerializeToString())
    # .npy
    for p in ["fixtures/data/npy/s0.npy", "fixtures/data/npy_shape/x.npy", "fixtures/data/npy_nan/x.npy",
              "fixtures/data/labels/labels.npy", "fixtures/data/labels/labels_frac.npy"]:
        put("fuzz_npy", rd(p))
    for a in [np.arange(6, dtype=np.float16).reshape(2, 3), np.array(3.5, dtype=np.float64),
              np.zeros((0, 4), np.int8), np.array([True, False]), np.arange(4, dtype=">f4"),
              np.asfortranarray(np.arange(6, dtype=np.int64).reshape(2, 3)), np.arange(3, dtype=np.uint16),
              np.arange(2, dtype=np.complex64)]:
        put("fuzz_npy", npy_bytes(a))
    # .npz
    put("fuzz_npz", rd("fixtures/data/arrays.npz"))
    for compress in (False, True):
        b = io.BytesIO()
        (np.savez_compressed if compress else np.savez)(b, x=np.arange(4, dtype=np.float32), y=np.ones((2, 2), np.int32))
        put("fuzz_npz", b.getvalue())
    # Polygraphy: inputs list and RunResults
    def nd(a):
        return {"array": base64.b64encode(npy_bytes(a)).decode(), "polygraphy_class": "ndarray"}
    x = np.arange(4, dtype=np.float32).reshape(1, 4)
    put("fuzz_polygraphy", json.dumps([{"x": nd(x)}, {"x": nd(x + 1)}]).encode())
    put("fuzz_polygraphy", json.dumps({"lst": [{"x": nd(x)}], "polygraphy_class": "list"}).encode())
    rr = {"lst": [["onnxrt-runner-N0", [{"outputs": {"y": nd(x)}, "runtime": 0.1, "runner_name": "onnxrt-runner-N0",
                                          "polygraphy_class": "IterationResult"}]]], "polygraphy_class": "RunResults"}
    put("fuzz_polygraphy", json.dumps(rr).encode())
    lazy = {"lst": [["trt-runner", [{"y": {"values": nd(x), "polygraphy_class": "LazyArray"}}]]]}
    put("fuzz_polygraphy", json.dumps(lazy).encode())
    # report
    if report:
        put("fuzz_report", open(report, "rb").read())
    put("fuzz_report", rd("tests/golden/autopin/overflow.json"))
    # calibration cache
    put("fuzz_calib", b"TRT-8601-EntropyCalibration2\ninput: 3c010a14\nconv1_out: 3d8a1f2b\n/layer1/Relu_output_0: 0\n")
    put("fuzz_calib", b"TRT-8601-MinMaxCalibration\r\nx: 3F800000\r\n\r\n")
    put("fuzz_calib", b"a: b: 3c000000\n")
    # pin lists
    put("fuzz_pins", b"# autopin list\nconv1\nop:Softmax\n/layer1/*\n")
    put("fuzz_pins", b"Gemm_?\n  [x]  \n\\[x\\]\n@nested\n")
    put("fuzz_pins", rd("tests/golden/autopin/overflow.list"))
    # IDX
    for f in sorted(os.listdir(os.path.join(ROOT, "fixtures/data/idx"))):
        put("fuzz_idx", rd("fixtures/data/idx/" + f))
    # images
    for d in ["fixtures/data/png", "fixtures/data/jpeg", "fixtures/data/bad", "fixtures/data/misc"]:
        for f in sorted(os.listdir(os.path.join(ROOT, d))):
            if os.path.getsize(os.path.join(ROOT, d, f)) <= 4096:
                put("fuzz_image", rd(d + "/" + f))
    # labels and class names
    for f in sorted(os.listdir(os.path.join(ROOT, "fixtures/data/labels"))):
        if not f.endswith(".npy"):
            put("fuzz_labels", rd("fixtures/data/labels/" + f))

main()

# ---- dictionaries (tests/fuzz/dict/<harness without fuzz_>.dict) ----
import re

def dict_write(name, entries):
    d = os.path.join(ROOT, "tests", "fuzz", "dict")
    os.makedirs(d, exist_ok=True)
    def esc(b):
        return "".join(chr(c) if 32 <= c < 127 and c not in (34, 92) else "\\x%02x" % c for c in b)
    with open(os.path.join(d, name + ".dict"), "w") as f:
        f.write("# libFuzzer dictionary, generated by tests/fuzz/make_seeds.py\n")
        for i, e in enumerate(dict.fromkeys(entries)):
            f.write('k%d="%s"\n' % (i, esc(e if isinstance(e, bytes) else e.encode())))

def tag(field, wire):
    k = field << 3 | wire
    out = b""
    while True:
        b = k & 0x7f
        k >>= 7
        out += bytes([b | (0x80 if k else 0)])
        if not k:
            return out

# protobuf field keys of onnx.proto messages the loader reads (field number, wire type)
PB = {
    "model": [(1, 0), (8, 2), (2, 2), (3, 2), (4, 2), (5, 0), (6, 2), (7, 2), (14, 2), (25, 2)],
    "graph": [(1, 2), (2, 2), (5, 2), (15, 2), (10, 2), (11, 2), (12, 2), (13, 2), (14, 2)],
    "node": [(1, 2), (2, 2), (3, 2), (4, 2), (5, 2), (6, 2), (7, 2)],
    "attr": [(1, 2), (21, 2), (2, 5), (3, 0), (4, 2), (5, 2), (6, 2), (22, 2), (14, 2), (7, 5), (7, 2),
             (8, 0), (8, 2), (9, 2), (10, 2), (11, 2), (23, 2), (15, 2), (20, 0)],
    "tensor": [(1, 0), (1, 2), (2, 0), (3, 2), (4, 5), (4, 2), (5, 0), (5, 2), (6, 2), (7, 0), (7, 2), (8, 2),
               (12, 2), (9, 2), (13, 2), (14, 0), (10, 1), (10, 2), (11, 0), (11, 2)],
    "type": [(1, 2), (4, 2), (5, 2), (9, 2), (8, 2), (6, 2), (1, 0), (2, 2), (1, 2), (1, 0), (2, 2), (3, 2)],
}
tags = [tag(f, w) for v in PB.values() for f, w in v]
ops = sorted(set(re.findall(r'\{"[^"]*", "([A-Za-z0-9_]+)", \d+', open(os.path.join(ROOT, "src/core/op_arity.c")).read())))
attrs = ["axis", "axes", "keepdims", "perm", "kernel_shape", "strides", "pads", "dilations", "group", "value",
         "to", "alpha", "beta", "epsilon", "mode", "auto_pad", "then_branch", "else_branch", "body", "k",
         "ai.onnx", "ai.onnx.ml", "com.microsoft", "location", "offset", "length", "model.onnx"]
dict_write("model_load", tags + ops + attrs)
dict_write("model_run", tags + ops + attrs)
dict_write("pb", [tag(f, w) for f, w in PB["tensor"]] + ["location", "offset", "length"])
npy = [b"\x93NUMPY\x01\x00", b"\x93NUMPY\x02\x00", b"\x93NUMPY\x03\x00", "'descr': ", "'fortran_order': ",
       "'shape': ", "False", "True", "()", "(0,)", "<f4", "<f2", "<f8", ">f4", "|b1", "|u1", "|i1", "<i2",
       "<i4", "<i8", "<u2", "<u4", "<u8", "<c8", "|S4", "<U3", "|O", "<V2"]
dict_write("npy", npy)
dict_write("npz", npy + [b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06", ".npy", b"PK\x06\x06", b"PK\x06\x07"])
dict_write("polygraphy", ['"lst"', '"polygraphy_class"', '"ndarray"', '"LazyArray"', '"values"', '"array"',
                          '"outputs"', '"RunResults"', '"IterationResult"', '"runtime"', '"runner_name"',
                          '"k1NVTVBZAQB2AHsn', "onnxrt", "[", "]", "{", "}", ":", ",", "null", "true", "1e308"])
s = json.load(open(os.path.join(ROOT, "schemas/layerdiff.report-1.schema.json")))
keys = set()
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "properties" and isinstance(v, dict):
                keys.update(v.keys())
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(s)
dict_write("report", ['"%s"' % k for k in sorted(keys)] + ['"layerdiff.report/1"', "null", "true", "false",
                                                           "-1", "1e308", "NaN", "Infinity", "[]", "{}"])
dict_write("calib", ["TRT-8601-EntropyCalibration2", "TRT-8601-MinMaxCalibration", ": ", "3c010a14", "7f800000",
                     "ffffffff", "\r\n"])
dict_write("pins", ["op:", "@", "#", "*", "?", "[", "]", "[!", "\\", "conv1", "Softmax"])
dict_write("idx", [b"\x00\x00\x08\x03", b"\x00\x00\x08\x01", b"\x00\x00\x08\x02", b"\x00\x00\x08\x04",
                   b"\x1f\x8b\x08\x00", b"\x00\x00\x00\x1c", b"\x00\x00\x00\x00", b"\xff\xff\xff\xff"])
dict_write("image", [b"\x89PNG\r\n\x1a\n", b"IHDR", b"IDAT", b"IEND", b"PLTE", b"tRNS", b"gAMA",
                     b"\xff\xd8\xff", b"\xff\xc0", b"\xff\xc2", b"\xff\xc4", b"\xff\xdb", b"\xff\xda", b"\xff\xd9",
                     b"\xff\xdd", b"\xff\xe0", b"JFIF\x00"])
dict_write("labels", ["filename,label", ",", "\n", "\r\n", "\xef\xbb\xbf", "-1", "9223372036854775807",
                      "a.png", "b.jpg", "c.png", "1.5", " "])
