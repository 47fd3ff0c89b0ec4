"""layerdiff: per-layer numerical comparison of ONNX models in emulated lower precision.

A Python front end to liblayerdiff (ctypes; see layerdiff(3)). The numbers are the CLI's:
``layerdiff.compare(...)`` gives the same report as ``layerdiff compare ... --report`` for the
same samples.

    import numpy as np, layerdiff
    m = layerdiff.Model("model.onnx")
    out = m.run({"image": x})                       # {"logits": ndarray}
    r = layerdiff.compare(m, "int8", data=[{"image": x} for x in batches], labels=y)
    r.passed, r.first_divergent, r.classification, r.nodes[0]
    r.to_json("report.json")
    p = layerdiff.autopin(m, "fp16", data=..., goals=["sqnr>=30"])
    p.autopin["pinned"]

Errors raise :class:`LayerdiffError` with layerdiff's message and exit code (64 usage,
65 bad data, 66 missing file, 69 unsupported, ...).
"""
import ctypes
import json
import sys

import numpy as np

from . import _lib

__all__ = ["Model", "Report", "LayerdiffError", "compare", "autopin", "version", "set_threads"]
__version__ = _lib.version().decode()

# numpy dtype <-> ONNX TensorProto.DataType (the element types the library takes and returns)
_TO_ONNX = {np.dtype(np.float32): 1, np.dtype(np.uint8): 2, np.dtype(np.int8): 3, np.dtype(np.uint16): 4,
            np.dtype(np.int16): 5, np.dtype(np.int32): 6, np.dtype(np.int64): 7, np.dtype(np.bool_): 9,
            np.dtype(np.float16): 10, np.dtype(np.float64): 11, np.dtype(np.uint32): 12, np.dtype(np.uint64): 13}
_FROM_ONNX = {v: k for k, v in _TO_ONNX.items()}


class LayerdiffError(Exception):
    """An error from layerdiff: ``code`` is the CLI's exit code, ``message`` its message."""

    def __init__(self, code, message):
        super().__init__("%s (exit code %d)" % (message, code))
        self.code = code
        self.message = message


def _check(rc):
    if rc != 0:
        raise LayerdiffError(rc, _lib.errmsg().decode(errors="replace"))


def version():
    """The library's version string."""
    return __version__


def set_threads(n):
    """Threads of the kernels (0 = all cores). Results are identical for any count."""
    _lib.set_threads(int(n))


class _Feeds:
    """Named arrays handed to the library without copies: the arrays are kept alive here."""

    def __init__(self, feeds):
        self.h = _lib.feeds_new()
        if not self.h:
            raise MemoryError("layerdiff: out of memory")
        self.keep = []
        if not isinstance(feeds, dict):
            raise TypeError("a feed is a dict of input name -> array, got %s" % type(feeds).__name__)
        for name, a in feeds.items():
            a = np.asarray(a)
            if a.dtype not in _TO_ONNX:
                a = a.astype(np.float32)
            a = np.ascontiguousarray(a)          # no copy when already C-contiguous
            dims = (ctypes.c_int64 * max(a.ndim, 1))(*a.shape)
            self.keep.append((a, dims))
            _check(_lib.feeds_add(self.h, str(name).encode(), _TO_ONNX[a.dtype], a.ndim, dims,
                                  a.ctypes.data_as(ctypes.c_void_p)))

    def __del__(self):
        if getattr(self, "h", None):
            _lib.feeds_free(self.h)
            self.h = None


class _Owner:
    """Frees a feeds list of the library when the last array viewing it is gone."""

    def __init__(self, h):
        self.h = h

    def __del__(self):
        _lib.feeds_free(self.h)


def _arrays(h):
    """The tensors of a library feeds list as numpy arrays viewing the library's memory."""
    owner = _Owner(h)
    out = {}
    t = _lib.Tensor()
    for i in range(_lib.feeds_count(h)):
        _check(_lib.feeds_get(h, i, ctypes.byref(t)))
        dt = _FROM_ONNX.get(t.dtype)
        shape = tuple(t.dims[d] for d in range(t.ndim))
        name = t.name.decode()
        if dt is None:
            raise LayerdiffError(69, "output '%s': element type %d has no numpy equivalent" % (name, t.dtype))
        if t.nbytes == 0:
            out[name] = np.zeros(shape, dt)
            continue
        buf = (ctypes.c_char * t.nbytes).from_address(t.data)
        buf._owner = owner                         # the array keeps the library's buffer alive
        out[name] = np.frombuffer(buf, dtype=dt).reshape(shape)
    return out


class Model:
    """An ONNX model loaded by layerdiff.

    ``inputs`` and ``outputs`` list the runtime input and output names."""

    def __init__(self, path):
        self.path = str(path)
        h = ctypes.c_void_p()
        _check(_lib.model_open(self.path.encode(), ctypes.byref(h)))
        self.h = h
        self.inputs = [_lib.model_input(h, i).decode() for i in range(_lib.model_ninputs(h))]
        self.outputs = [_lib.model_output(h, i).decode() for i in range(_lib.model_noutputs(h))]

    def __del__(self):
        if getattr(self, "h", None):
            _lib.model_close(self.h)
            self.h = None

    def __repr__(self):
        return "layerdiff.Model(%r)" % self.path

    def run(self, feeds, mark_all=False):
        """Run the model in FP32 on feeds (dict of input name -> array).

        Returns a dict of output name -> numpy array (views of the library's memory, no
        copies; the memory lives as long as the arrays); with mark_all also every intermediate tensor, in node order."""
        f = _Feeds(feeds)
        out = ctypes.c_void_p()
        _check(_lib.run(self.h, f.h, 1 if mark_all else 0, ctypes.byref(out)))
        return _arrays(out)


class Report:
    """A layerdiff.report/1 report (layerdiff-report(5)) as Python objects.

    ``json`` is the whole report (dict); ``summary``, ``nodes``, ``first_divergent``
    (``{"isolated": ..., "propagated": ...}``, each None or a dict naming the node),
    ``classification`` (None unless the first output is (N, classes)), ``passed``;
    ``autopin`` holds autopin's answer (pinned node names, goals, before/after) or None."""

    def __init__(self, report, autopin=None, passed=None):
        self.json = report
        self.autopin = autopin
        self.passed = bool(report["summary"]["passed"] if passed is None else passed)

    @property
    def summary(self):
        return self.json["summary"]

    @property
    def nodes(self):
        return self.json["nodes"]

    @property
    def first_divergent(self):
        return self.json["summary"]["first_divergent"]

    @property
    def classification(self):
        return self.json["summary"].get("classification")

    def to_json(self, path=None, indent=1):
        """The report as JSON text; with path also written there."""
        text = json.dumps(self.json, indent=indent)
        if path is not None:
            with open(path, "w") as f:
                f.write(text + "\n")
        return text

    def __repr__(self):
        fd = self.first_divergent["isolated"]
        return "<layerdiff.Report %s, %d nodes, first divergent %s>" % (
            "passed" if self.passed else "DIVERGED", len(self.nodes), fd["node"] if fd else None)


def _tqdm_progress():
    """A progress callback drawing a tqdm bar, or writing to stderr without tqdm."""
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    state = {"bar": None}

    def cb(msg, done, total):
        if msg is None:
            if state["bar"] is not None:
                state["bar"].close()
                state["bar"] = None
            elif tqdm is None:
                sys.stderr.write("\n")
            return
        if total < 0:
            (tqdm.write if tqdm else lambda s: sys.stderr.write(s + "\n"))(msg)
            return
        if tqdm is None:
            sys.stderr.write("\r%s" % msg)
            return
        bar = state["bar"]
        if bar is None or bar.total != total:
            if bar is not None:
                bar.close()
            bar = state["bar"] = tqdm(total=total, leave=False)
        bar.set_description(msg, refresh=False)
        bar.n = done
        bar.refresh()
    return cb


def _workload(model, target, data, labels, pins, calib, progress, options):
    path = model.path if isinstance(model, Model) else str(model)
    h = ctypes.c_void_p()
    _check(_lib.workload_new(path.encode(), str(target).encode(), ctypes.byref(h)))
    keep = []          # feeds, labels and the callback must outlive the run
    w = _Workload(h, keep)

    def set_opt(k, v):
        _check(_lib.workload_set(h, k.encode(), None if v is None else str(v).encode()))

    if isinstance(data, (str, bytes)) or hasattr(data, "__fspath__"):
        set_opt("data", data)
    elif data is not None:
        for feed in data:
            f = _Feeds(feed)
            keep.append(f)
            _check(_lib.workload_add_sample(h, f.h))
    if isinstance(calib, (str, bytes)) or hasattr(calib, "__fspath__"):
        set_opt("calib", calib)
    elif calib is not None:
        for feed in calib:
            f = _Feeds(feed)
            keep.append(f)
            _check(_lib.workload_add_calib_sample(h, f.h))
    if isinstance(labels, (str, bytes)) or hasattr(labels, "__fspath__"):
        set_opt("labels", labels)
    elif labels is not None:
        lab = np.ascontiguousarray(np.asarray(labels).reshape(-1), dtype=np.int64)
        keep.append(lab)
        _check(_lib.workload_set_labels(h, lab.ctypes.data_as(_lib.c_int64_p), lab.size))
    for p in ([pins] if isinstance(pins, str) else pins or []):
        set_opt("pin", p)
    for k, v in options.items():
        k = k.replace("_", "-")
        if v is None or v is False:
            continue
        for one in (v if isinstance(v, (list, tuple)) else [v]):
            set_opt(k, None if one is True else one)
    if progress is True:
        progress = _tqdm_progress()
    if progress:
        errors = []

        def cb(user, msg, done, total):
            try:
                progress(None if msg is None else msg.decode(errors="replace"), done, total)
            except BaseException as e:      # raised again after the library returns (also Ctrl-C)
                errors.append(e)
        w.cb = _lib.PROGRESS(cb)
        w.cb_errors = errors
        _lib.workload_set_progress(h, w.cb, None)
    return w


class _Workload:
    def __init__(self, h, keep):
        self.h, self.keep, self.cb, self.cb_errors = h, keep, None, []

    def __del__(self):
        if getattr(self, "h", None):
            _lib.workload_free(self.h)
            self.h = None

    def go(self, fn):
        r = ctypes.c_void_p()
        rc = fn(self.h, ctypes.byref(r))
        if self.cb_errors:
            if r:
                _lib.report_free(r)
            raise self.cb_errors[0]
        _check(rc)
        try:
            s = _lib.report_string(r)
            report = json.loads(ctypes.string_at(s).decode())
            _lib.free(s)
            ap = None
            a = _lib.report_autopin(r)
            if a:
                s = _lib.cjson_print(a)
                ap = json.loads(ctypes.string_at(s).decode())
                _lib.cjson_free(s)
            return Report(report, ap, bool(_lib.report_passed(r)))
        finally:
            _lib.report_free(r)


def compare(model, target, data=None, labels=None, pins=None, calib=None, progress=None, **options):
    """Compare model (a Model or a path) in FP32 with the emulated target precision.

    target: fp16, bf16, fp8e4m3, fp8e5m2, int8 (or fp32).
    data: an iterable of feed dicts (input name -> array; one sample, or one batch, each), or a
      path as ``--data`` takes (images folder, IDX, .npy folder, .npz, Polygraphy .json);
      None: one generated sample (``seed``, ``val_range``, ``batch`` options).
    labels: integer labels in sample order (array-like) or a labels file.
    pins: node name globs / ``op:TYPE`` / ``@FILE`` to keep in FP32.
    calib: calibration samples (iterable of feed dicts, or a path) for int8/fp8.
    progress: a callable (msg, done, total) or True for a tqdm bar (stderr without tqdm).
    options: any other option of ``layerdiff compare`` by its long name with ``_`` for ``-``:
      atol, rtol, check_error_stat, error_quantile, min_sqnr, min_cosine, max_saturation,
      fallback, accum, calib_method, percentile, calib_cache, no_isolated=True, ...
    Returns a :class:`Report` (also when the model diverges: see ``passed``)."""
    w = _workload(model, target, data, labels, pins, calib, progress, options)
    return w.go(_lib.compare)


def autopin(model, target, data=None, labels=None, pins=None, calib=None, goals=None, progress=None, **options):
    """Find nodes to keep in FP32 so the outputs meet the goals (``layerdiff autopin``).

    goals: e.g. ["sqnr>=30", "top1>=99"] (default per target); options as in :func:`compare`
    plus strategy, direction, no_prune, max_tries, time_limit. Returns the :class:`Report` of
    the comparison with the pins found; ``report.autopin`` has ``pinned`` (node names),
    ``met``, ``before``/``after`` and the search's counts; ``report.passed`` = goals met."""
    if goals:
        options["goal"] = [goals] if isinstance(goals, str) else list(goals)
    w = _workload(model, target, data, labels, pins, calib, progress, options)
    return w.go(_lib.autopin)
