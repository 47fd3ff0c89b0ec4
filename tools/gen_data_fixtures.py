#!/usr/bin/python3
"""Writes the small dataset fixtures under fixtures/data/ that tests/unit/test_data.c reads.

PNG files are written here with zlib + struct (no PIL needed); JPEG files are encoded with
libjpeg through a tiny C helper compiled on the fly (cc + libjpeg-dev, which the build needs
anyway). Every value is fixed, so the files come out the same on every run.

    /usr/bin/python3 tools/gen_data_fixtures.py      (from the repository root)
"""
import gzip
import os
import shutil
import struct
import subprocess
import tempfile
import zipfile
import zlib

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "fixtures", "data")

# ---- PNG ----


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(width, height, color_type, bit_depth, rows, palette=None, trns=None):
    """rows: list of bytes objects, one per scanline (already packed); filter type 0."""
    raw = b"".join(b"\x00" + r for r in rows)
    out = b"\x89PNG\r\n\x1a\n"
    out += png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0))
    if palette is not None:
        out += png_chunk(b"PLTE", b"".join(bytes(c) for c in palette))
    if trns is not None:
        out += png_chunk(b"tRNS", trns)
    out += png_chunk(b"IDAT", zlib.compress(raw, 9))
    out += png_chunk(b"IEND", b"")
    return out


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def gray4():
    """4x4 gray values, row-major (the tests hold the same table)."""
    return np.array([[0, 10, 20, 30], [40, 50, 60, 70], [80, 90, 100, 110], [120, 130, 140, 255]], np.uint8)


def rgb4():
    i = np.arange(16).reshape(4, 4)
    r = 10 * i
    g = 255 - 10 * i
    b = 60 * (i % 4) + 7 * (i // 4)
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def write_pngs(d):
    g = gray4()
    write(os.path.join(d, "a_gray.png"), png_bytes(4, 4, 0, 8, [bytes(r) for r in g]))
    c = rgb4()
    write(os.path.join(d, "b_rgb.png"), png_bytes(4, 4, 2, 8, [r.tobytes() for r in c]))
    alpha = np.array([0, 64, 128, 255] * 4, np.uint8).reshape(4, 4, 1)
    rgba = np.concatenate([c, alpha], axis=-1)
    write(os.path.join(d, "c_rgba.png"), png_bytes(4, 4, 6, 8, [r.tobytes() for r in rgba]))
    # 4-bit palette image with a tRNS chunk (transparency is ignored like alpha)
    palette = [(17 * k, 255 - 17 * k, (53 * k) % 256) for k in range(16)]
    idx = np.arange(16).reshape(4, 4)[::-1]
    rows = [bytes([(int(r[0]) << 4) | int(r[1]), (int(r[2]) << 4) | int(r[3])]) for r in idx]
    write(os.path.join(d, "D_PAL.PNG"), png_bytes(4, 4, 3, 4, rows, palette=palette, trns=b"\x00\x80"))
    # 16-bit gray: 0x1111 * k scales exactly to 17 * k in 8 bits
    g16 = (np.arange(16).reshape(4, 4) * 0x1111).astype(">u2")
    write(os.path.join(d, "e_gray16.png"), png_bytes(4, 4, 0, 16, [r.tobytes() for r in g16]))
    write(os.path.join(d, "notes.txt"), b"not an image; the loader skips it\n")
    write(os.path.join(d, ".hidden.png"), b"hidden files are skipped\n")


# ---- JPEG through libjpeg ----

JPEG_HELPER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <jpeglib.h>
/* jpegw OUT W H COMPONENTS QUALITY < raw interleaved pixels; 4:4:4 sampling */
int main(int argc, char **argv) {
    if (argc != 6) return 2;
    int w = atoi(argv[2]), h = atoi(argv[3]), c = atoi(argv[4]), q = atoi(argv[5]);
    unsigned char *px = malloc((size_t)w * h * c);
    if (fread(px, 1, (size_t)w * h * c, stdin) != (size_t)w * h * c) return 3;
    FILE *f = fopen(argv[1], "wb");
    if (!f) return 4;
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr err;
    ci.err = jpeg_std_error(&err);
    jpeg_create_compress(&ci);
    jpeg_stdio_dest(&ci, f);
    ci.image_width = w;
    ci.image_height = h;
    ci.input_components = c;
    ci.in_color_space = c == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, q, TRUE);
    for (int i = 0; i < ci.num_components; i++) ci.comp_info[i].h_samp_factor = ci.comp_info[i].v_samp_factor = 1;
    jpeg_start_compress(&ci, TRUE);
    while (ci.next_scanline < ci.image_height) {
        JSAMPROW row = px + (size_t)ci.next_scanline * w * c;
        jpeg_write_scanlines(&ci, &row, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    fclose(f);
    free(px);
    return 0;
}
"""


def jpeg_tool(tmp):
    src = os.path.join(tmp, "jpegw.c")
    exe = os.path.join(tmp, "jpegw")
    with open(src, "w") as f:
        f.write(JPEG_HELPER)
    subprocess.run(["cc", "-O2", "-o", exe, src, "-ljpeg"], check=True)
    return exe


def write_jpeg(tool, path, pixels, quality=100):
    h, w = pixels.shape[:2]
    c = 1 if pixels.ndim == 2 else pixels.shape[2]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    subprocess.run([tool, path, str(w), str(h), str(c), str(quality)], input=pixels.astype(np.uint8).tobytes(), check=True)


def quadrants(values):
    """16x16 image whose four 8x8 quadrants (TL, TR, BL, BR) hold the given values."""
    a = np.zeros((16, 16) + np.shape(values[0]), np.uint8)
    a[:8, :8], a[:8, 8:], a[8:, :8], a[8:, 8:] = values
    return a


def write_jpegs(tool, d):
    write_jpeg(tool, os.path.join(d, "g_gray.jpg"), quadrants([30, 100, 200, 250]))
    write_jpeg(tool, os.path.join(d, "h_rgb.jpeg"), quadrants([(200, 40, 90), (10, 220, 30), (128, 128, 128), (250, 250, 5)]))


# ---- corrupt files ----


def write_bad(d, tool, tmp):
    good_png = png_bytes(4, 4, 0, 8, [bytes(r) for r in gray4()])
    write(os.path.join(d, "truncated.png"), good_png[: len(good_png) - 30])
    crc = bytearray(good_png)
    crc[good_png.index(b"IDAT") + 6] ^= 0x55                 # flip a data byte: CRC mismatch
    write(os.path.join(d, "badcrc.png"), bytes(crc))
    jp = os.path.join(tmp, "full.jpg")
    write_jpeg(tool, jp, quadrants([30, 100, 200, 250]))
    data = open(jp, "rb").read()
    write(os.path.join(d, "truncated.jpg"), data[: int(len(data) * 0.7)])
    write(os.path.join(d, "header_only.jpg"), data[:20])
    write(os.path.join(d, "notimage.png"), b"this is text, not a PNG\n")
    write(os.path.join(d, "empty.jpg"), b"")


# ---- IDX ----


def idx_bytes(arr):
    arr = np.asarray(arr, np.uint8)
    return struct.pack(">BBBB", 0, 0, 8, arr.ndim) + b"".join(struct.pack(">I", n) for n in arr.shape) + arr.tobytes()


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def tiny_images():
    """5 images of 3 rows x 4 columns: image k, pixel (y, x) = 50*k + 4*y + x."""
    k, y, x = np.meshgrid(np.arange(5), np.arange(3), np.arange(4), indexing="ij")
    return (50 * k + 4 * y + x).astype(np.uint8)


def write_idx(d):
    imgs = idx_bytes(tiny_images())
    labs = idx_bytes([3, 1, 4, 1, 5])
    write(os.path.join(d, "tiny-images-idx3-ubyte.gz"), gz(imgs))
    write(os.path.join(d, "tiny-images-idx3-ubyte"), imgs)
    write(os.path.join(d, "tiny-labels-idx1-ubyte.gz"), gz(labs))
    write(os.path.join(d, "tiny-labels-idx1-ubyte"), labs)
    write(os.path.join(d, "short-images-idx3-ubyte.gz"), gz(imgs[:-12]))   # header says 5, holds 4
    whole = gz(imgs)
    write(os.path.join(d, "cut-images-idx3-ubyte.gz"), whole[: len(whole) // 2])  # gzip stream cut


# ---- labels, arrays ----


def write_labels(d):
    # image folder order: D_PAL.PNG, a_gray.png, b_rgb.png, c_rgba.png, e_gray16.png
    write(os.path.join(d, "png.csv"),
          b"filename,label\n"
          b"c_rgba.png,2\r\n"
          b"\"some/dir/b_rgb.png\",7\n"
          b"a_gray.png, 0\n"
          b"\n"
          b"D_PAL.PNG,9\n"
          b"e_gray16.png,4\n"
          b"unused.png,1\n")
    write(os.path.join(d, "png_noheader.csv"), b"a_gray.png,0\nb_rgb.png,7\nc_rgba.png,2\nD_PAL.PNG,9\ne_gray16.png,4\n")
    write(os.path.join(d, "png_missing.csv"), b"filename,label\na_gray.png,0\nb_rgb.png,7\nD_PAL.PNG,9\ne_gray16.png,4\n")
    write(os.path.join(d, "png_conflict.csv"), b"a_gray.png,0\nb_rgb.png,7\nc_rgba.png,2\nD_PAL.PNG,9\ne_gray16.png,4\na_gray.png,1\n")
    write(os.path.join(d, "labels.txt"), b"3\n1\n4\n1\n5\n\n")
    write(os.path.join(d, "labels_blank.txt"), b"3\n1\n\n4\n1\n5\n")
    write(os.path.join(d, "labels_short.txt"), b"3\n1\n4\n")
    write(os.path.join(d, "labels_bad.txt"), b"3\n1\nfour\n1\n5\n")
    np.save(os.path.join(d, "labels.npy"), np.array([3, 1, 4, 1, 5], np.int64))
    np.save(os.path.join(d, "labels_frac.npy"), np.array([3, 1, 4.5, 1, 5], np.float32))
    write(os.path.join(d, "classes.txt"), "T-shirt/top\r\nTrouser\nPullover\nAnkle boot  \n\n".encode())


def npz_write(path, arrays):
    """np.savez with fixed member timestamps, so the file is reproducible."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name, a in arrays:
            tmp = tempfile.TemporaryFile()
            np.lib.format.write_array(tmp, np.ascontiguousarray(a))
            tmp.seek(0)
            z.writestr(zipfile.ZipInfo(name + ".npy", date_time=(2020, 1, 1, 0, 0, 0)), tmp.read())


def sample(k, shape):
    return (np.arange(int(np.prod(shape))).reshape(shape) * 0.25 + k).astype(np.float32)


def write_arrays(d):
    npy = os.path.join(d, "npy")
    os.makedirs(npy, exist_ok=True)
    np.save(os.path.join(npy, "s0.npy"), sample(0, (1, 4, 4)))                       # one sample
    np.save(os.path.join(npy, "s1.npy"), np.stack([sample(1, (1, 4, 4)), sample(2, (1, 4, 4))]))  # a batch of 2
    np.save(os.path.join(npy, "s2.npy"), sample(3, (1, 4, 4)).astype(np.float64))    # float64: converted
    nan = sample(0, (1, 4, 4))
    nan[0, 2, 1] = np.nan
    os.makedirs(os.path.join(d, "npy_nan"), exist_ok=True)
    np.save(os.path.join(d, "npy_nan", "x.npy"), nan)
    os.makedirs(os.path.join(d, "npy_shape"), exist_ok=True)
    np.save(os.path.join(d, "npy_shape", "x.npy"), sample(0, (1, 5, 4)))
    npz_write(os.path.join(d, "arrays.npz"),
              [("first", sample(4, (1, 4, 4))), ("second", np.stack([sample(5 + i, (1, 4, 4)) for i in range(3)]))])


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    with tempfile.TemporaryDirectory() as tmp:
        tool = jpeg_tool(tmp)
        write_pngs(os.path.join(OUT, "png"))
        write_jpegs(tool, os.path.join(OUT, "jpeg"))
        write_bad(os.path.join(OUT, "bad"), tool, tmp)
        jp = os.path.join(tmp, "j.jpg")
        write_jpeg(tool, jp, quadrants([30, 100, 200, 250]))
        write(os.path.join(OUT, "misc", "really_jpeg.png"), open(jp, "rb").read())
    write_idx(os.path.join(OUT, "idx"))
    write_labels(os.path.join(OUT, "labels"))
    write_arrays(OUT)
    print("wrote", os.path.relpath(OUT, ROOT))


if __name__ == "__main__":
    main()
