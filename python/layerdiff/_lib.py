"""ctypes bindings of liblayerdiff (include/layerdiff.h) and how the library is found.

The shared library is looked up, in order: the LAYERDIFF_LIB environment variable (a path),
a copy installed inside this package (``pip install`` puts one there when it was built), the
build tree of a source checkout (``build/lib`` next to ``python/``), then the system loader
(``liblayerdiff.so.<major>`` installed by ``make install``).
"""
import ctypes
import ctypes.util
import os

SOMAJOR = 0

c_int64_p = ctypes.POINTER(ctypes.c_int64)

PROGRESS = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int64, ctypes.c_int64)


class Tensor(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int), ("ndim", ctypes.c_int),
                ("dims", c_int64_p), ("data", ctypes.c_void_p), ("nbytes", ctypes.c_size_t)]


def _candidates():
    env = os.environ.get("LAYERDIFF_LIB")
    if env:
        yield env
        return
    here = os.path.dirname(os.path.abspath(__file__))
    name = "liblayerdiff.so.%d" % SOMAJOR
    yield os.path.join(here, name)
    yield os.path.join(here, "..", "..", "build", "lib", name)
    yield name
    found = ctypes.util.find_library("layerdiff")
    if found:
        yield found


def _load():
    errors = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            errors.append("%s: not found" % path)
            continue
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            errors.append(str(e))
    raise ImportError("layerdiff: cannot load liblayerdiff (set LAYERDIFF_LIB to its path, or run "
                      "`make install`):\n  " + "\n  ".join(errors))


lib = _load()
P = ctypes.c_void_p


def _fn(name, res, *args):
    f = getattr(lib, name)
    f.restype = res
    f.argtypes = list(args)
    return f


version = _fn("layerdiff_version", ctypes.c_char_p)
errcode = _fn("layerdiff_errcode", ctypes.c_int)
errmsg = _fn("layerdiff_errmsg", ctypes.c_char_p)
set_threads = _fn("layerdiff_set_threads", None, ctypes.c_int)
free = _fn("layerdiff_free", None, P)
model_open = _fn("layerdiff_model_open", ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(P))
model_close = _fn("layerdiff_model_close", None, P)
model_ninputs = _fn("layerdiff_model_ninputs", ctypes.c_int, P)
model_input = _fn("layerdiff_model_input", ctypes.c_char_p, P, ctypes.c_int)
model_noutputs = _fn("layerdiff_model_noutputs", ctypes.c_int, P)
model_output = _fn("layerdiff_model_output", ctypes.c_char_p, P, ctypes.c_int)
feeds_new = _fn("layerdiff_feeds_new", P)
feeds_add = _fn("layerdiff_feeds_add", ctypes.c_int, P, ctypes.c_char_p, ctypes.c_int, ctypes.c_int, c_int64_p, P)
feeds_count = _fn("layerdiff_feeds_count", ctypes.c_int, P)
feeds_get = _fn("layerdiff_feeds_get", ctypes.c_int, P, ctypes.c_int, ctypes.POINTER(Tensor))
feeds_free = _fn("layerdiff_feeds_free", None, P)
run = _fn("layerdiff_run", ctypes.c_int, P, P, ctypes.c_int, ctypes.POINTER(P))
workload_new = _fn("layerdiff_workload_new", ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(P))
workload_free = _fn("layerdiff_workload_free", None, P)
workload_set = _fn("layerdiff_workload_set", ctypes.c_int, P, ctypes.c_char_p, ctypes.c_char_p)
workload_add_sample = _fn("layerdiff_workload_add_sample", ctypes.c_int, P, P)
workload_add_calib_sample = _fn("layerdiff_workload_add_calib_sample", ctypes.c_int, P, P)
workload_set_labels = _fn("layerdiff_workload_set_labels", ctypes.c_int, P, c_int64_p, ctypes.c_int64)
workload_set_progress = _fn("layerdiff_workload_set_progress", None, P, PROGRESS, P)
compare = _fn("layerdiff_compare", ctypes.c_int, P, ctypes.POINTER(P))
autopin = _fn("layerdiff_autopin", ctypes.c_int, P, ctypes.POINTER(P))
report_passed = _fn("layerdiff_report_passed", ctypes.c_int, P)
report_autopin = _fn("layerdiff_report_autopin", P, P)
report_string = _fn("layerdiff_report_string", P, P)
report_free = _fn("layerdiff_report_free", None, P)

# The autopin tree is a cJSON object: print it with the cJSON the library links.
_cjson = ctypes.CDLL("libcjson.so.1")
cjson_print = _cjson.cJSON_PrintUnformatted
cjson_print.restype = P
cjson_print.argtypes = [P]
cjson_free = _cjson.cJSON_free
cjson_free.restype = None
cjson_free.argtypes = [P]
