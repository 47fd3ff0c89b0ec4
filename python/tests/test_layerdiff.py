"""pytest tests of the layerdiff Python module: results equal the CLI's for the same inputs.

Run from the repository root after `make layerdiff lib`:
    LAYERDIFF_LIB=build/lib/liblayerdiff.so.0 python3 -m pytest python/tests
(tests/e2e/test_python.sh does this and also checks `pip install ./python`.)
"""
import json
import os
import subprocess

import numpy as np
import pytest

import layerdiff

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLI = os.environ.get("LAYERDIFF", os.path.join(ROOT, "layerdiff"))
if not os.path.isabs(CLI):
    CLI = os.path.join(ROOT, CLI)
RESNET = os.path.join(ROOT, "fixtures", "models", "fmnist_resnet.onnx")
N = 4


@pytest.fixture(scope="module")
def images():
    return np.random.RandomState(7).rand(N, 1, 28, 28).astype(np.float32)


@pytest.fixture(scope="module")
def model():
    return layerdiff.Model(RESNET)


def cli(*args, rc=(0, 1)):
    p = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True)
    assert p.returncode in rc, p.stderr
    return p


def comparable(report):
    """The report without what legitimately differs: wall time and the data description."""
    r = json.loads(json.dumps(report))
    r["summary"].pop("seconds")
    r["settings"].pop("data")
    return r


def test_model_io(model):
    assert model.inputs == ["image"] and model.outputs == ["logits"]


def test_run_equals_cli(model, images, tmp_path):
    np.save(tmp_path / "x.npy", images)
    cli("run", RESNET, "--input", "image=%s" % (tmp_path / "x.npy"), "--save-outputs", tmp_path / "o.npz")
    want = np.load(tmp_path / "o.npz")["logits"]
    got = model.run({"image": images})["logits"]
    assert got.shape == (N, 10) and got.dtype == np.float32
    assert np.array_equal(got, want)


def test_run_outputs_are_views(model, images):
    out = model.run({"image": images})["logits"]
    assert not out.flags.owndata           # a view of the library's buffer, not a copy
    del model                              # the array keeps its buffer alive
    assert np.isfinite(out).all()


def test_run_mark_all(model, images, tmp_path):
    out = model.run({"image": images[:1]}, mark_all=True)
    assert len(out) > 10 and "logits" in out
    np.save(tmp_path / "x.npy", images[:1])
    cli("run", RESNET, "--input", "image=%s" % (tmp_path / "x.npy"), "--mark-all", "--save-outputs", tmp_path / "all.npz")
    want = np.load(tmp_path / "all.npz")
    assert set(want.files) == set(out)
    for k in want.files:
        assert np.array_equal(want[k], out[k]), k


@pytest.mark.parametrize("target,method", [("fp16", None), ("int8", "entropy"), ("fp8e4m3", "minmax")])
def test_compare_equals_cli(model, images, tmp_path, target, method):
    labels = np.array([0, 3, 9, 1])
    extra = ["--calib-method", method] if method else []
    np.save(tmp_path / "x.npy", images)
    np.save(tmp_path / "y.npy", labels)
    cli("compare", RESNET, "--target", target, "--input", "image=%s" % (tmp_path / "x.npy"), "--batch", 1,
        "--labels", tmp_path / "y.npy", "--report", tmp_path / "r.json", "-q", *extra)
    want = json.load(open(tmp_path / "r.json"))
    got = layerdiff.compare(model, target, data=({"image": images[i:i + 1]} for i in range(N)), labels=labels,
                            calib_method=method)
    assert got.json["settings"]["samples"] == N
    assert comparable(got.json) == comparable(want)
    assert got.passed == want["summary"]["passed"]
    assert got.first_divergent == want["summary"]["first_divergent"]
    assert got.classification["ref_top1"] is not None        # labelled
    assert json.loads(got.to_json())["nodes"] == got.nodes


def test_compare_tolerances_and_pins(model, images, tmp_path):
    np.save(tmp_path / "x.npy", images)
    cli("compare", RESNET, "--target", "int8", "--input", "image=%s" % (tmp_path / "x.npy"), "--batch", 1,
        "--min-sqnr", 25, "--atol", 0.05, "--pin", "op:Gemm", "--calib-method", "minmax",
        "--report", tmp_path / "r.json", "-q")
    want = json.load(open(tmp_path / "r.json"))
    got = layerdiff.compare(RESNET, "int8", data=[{"image": images[i:i + 1]} for i in range(N)],
                            pins=["op:Gemm"], min_sqnr=25, atol=0.05, calib_method="minmax")
    assert comparable(got.json) == comparable(want)
    assert got.summary["pinned_nodes"] >= 1


def test_compare_calib_samples(model, images, tmp_path):
    np.save(tmp_path / "x.npy", images)
    np.save(tmp_path / "c.npy", images[::-1] * 0.5)
    cli("compare", RESNET, "--target", "int8", "--input", "image=%s" % (tmp_path / "x.npy"), "--batch", 1,
        "--calib", tmp_path / "c.npy", "--calib-method", "percentile", "--report", tmp_path / "r.json", "-q")
    want = json.load(open(tmp_path / "r.json"))
    got = layerdiff.compare(model, "int8", data=[{"image": images[i:i + 1]} for i in range(N)],
                            calib=[{"image": images[::-1] * 0.5}], calib_method="percentile")
    w, g = comparable(want), comparable(got.json)
    w["settings"].pop("calibration"), g["settings"].pop("calibration")
    assert g == w


def test_autopin_equals_cli(model, images, tmp_path):
    np.save(tmp_path / "x.npy", images)
    cli("autopin", RESNET, "--target", "int8", "--input", "image=%s" % (tmp_path / "x.npy"), "--batch", 1,
        "--goal", "sqnr>=38", "--max-tries", 4, "--calib-method", "minmax", "--report", tmp_path / "r.json", "-o", tmp_path / "pins.txt", "--quiet")
    want = json.load(open(tmp_path / "r.json"))
    pins = [l for l in open(tmp_path / "pins.txt").read().splitlines() if l and not l.startswith("#")]
    got = layerdiff.autopin(model, "int8", data=[{"image": images[i:i + 1]} for i in range(N)],
                            goals=["sqnr>=38"], max_tries=4, calib_method="minmax")
    assert pins and got.autopin["pinned"] == pins          # the goal needed pins
    assert got.autopin["goals"] == ["sqnr>=38"]
    assert comparable(got.json) == comparable(want)


def test_progress_callback(model, images):
    seen = []
    layerdiff.compare(model, "fp16", data=[{"image": images[:1]}], progress=lambda *a: seen.append(a))
    steps = [s for s in seen if s[0] is not None and s[2] > 0]
    assert steps and all(0 <= d <= t for _, d, t in steps)
    assert seen[-1][0] is None                 # the steps end


def test_progress_tqdm(model, images):
    pytest.importorskip("tqdm")
    r = layerdiff.compare(model, "fp16", data=[{"image": images[:1]}], progress=True)
    assert r.passed in (True, False)


def test_progress_exception_propagates(model, images):
    def boom(*a):
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        layerdiff.compare(model, "fp16", data=[{"image": images[:1]}], progress=boom)


def test_errors_carry_code_and_message(model, images):
    with pytest.raises(layerdiff.LayerdiffError) as e:
        layerdiff.Model("/nonexistent/m.onnx")
    assert e.value.code == 66 and "m.onnx" in e.value.message
    with pytest.raises(layerdiff.LayerdiffError) as e:
        layerdiff.compare(model, "fp7", data=[{"image": images[:1]}])
    assert e.value.code == 64 and "fp7" in e.value.message
    with pytest.raises(layerdiff.LayerdiffError) as e:
        layerdiff.compare(model, "fp16", data=[{"image": images[:1]}], not_an_option=1)
    assert e.value.code == 64
    with pytest.raises(layerdiff.LayerdiffError) as e:
        model.run({"image": np.zeros((1, 2, 3), np.float32)})
    assert e.value.code == 65 and "image" in e.value.message
    with pytest.raises(layerdiff.LayerdiffError) as e:
        model.run({"wrong": images[:1]})
    assert e.value.code >= 64 and "wrong" in e.value.message
