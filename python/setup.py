"""setup.py — `pip install ./python` for the layerdiff Python module (ctypes over liblayerdiff).

Works offline with Debian's python3-setuptools (`pip install --no-build-isolation ./python`).
When a built shared library is found (LAYERDIFF_LIB, or ../build/lib of the source tree: run
`make lib` first), a copy goes into the package so the install is self-contained; otherwise
the module finds the library at import time (LAYERDIFF_LIB, or `make install`'s copy).
"""
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
VERSION = open(os.path.join(HERE, "..", "VERSION")).read().strip() if os.path.exists(
    os.path.join(HERE, "..", "VERSION")) else "0.1.0"
SONAME = "liblayerdiff.so.%s" % VERSION.split(".")[0]


class build_py_with_lib(build_py):
    def run(self):
        super().run()
        src = os.environ.get("LAYERDIFF_LIB") or os.path.join(HERE, "..", "build", "lib", SONAME)
        if os.path.exists(src):
            dst = os.path.join(self.build_lib, "layerdiff", SONAME)
            shutil.copyfile(os.path.realpath(src), dst)
            os.chmod(dst, 0o755)


setup(
    name="layerdiff",
    version=VERSION,
    description="Per-layer numerical comparison of ONNX models in emulated lower precision",
    packages=["layerdiff"],
    python_requires=">=3.9",
    install_requires=["numpy"],
    cmdclass={"build_py": build_py_with_lib},
    zip_safe=False,
)
