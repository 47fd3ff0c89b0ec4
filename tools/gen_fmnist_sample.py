#!/usr/bin/python3
"""Writes fixtures/fmnist/: the first 512 images and labels of the Fashion-MNIST test set as
gzipped IDX files (the dataset's own format and file names), for clones of layerdiff on
machines without Debian's dataset-fashion-mnist package.

Source: /usr/share/datasets/fashion-mnist/t10k-{images-idx3,labels-idx1}-ubyte.gz
(Debian package dataset-fashion-mnist). Fashion-MNIST is by Zalando Research, MIT licence.

    /usr/bin/python3 tools/gen_fmnist_sample.py [COUNT]      (from the repository root)
"""
import gzip
import os
import struct
import sys

SRC = "/usr/share/datasets/fashion-mnist"
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "fixtures", "fmnist")


def idx_head(data, path):
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 8:
        sys.exit(f"{path}: not a uint8 IDX file")
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return ndim, dims, 4 + 4 * ndim


def first(name, count):
    path = os.path.join(SRC, name)
    if not os.path.exists(path):
        sys.exit(f"{path} is missing: apt-get install dataset-fashion-mnist")
    data = gzip.decompress(open(path, "rb").read())
    ndim, dims, head = idx_head(data, path)
    if dims[0] < count:
        sys.exit(f"{path}: holds only {dims[0]} items")
    per = 1
    for d in dims[1:]:
        per *= d
    out = struct.pack(">BBBB", 0, 0, 8, ndim) + struct.pack(">" + "I" * ndim, count, *dims[1:])
    return out + data[head:head + per * count]


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 512
    os.makedirs(OUT, exist_ok=True)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(gzip.compress(first(name, count), compresslevel=9, mtime=0))
    print(f"wrote the first {count} test images and labels to {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
