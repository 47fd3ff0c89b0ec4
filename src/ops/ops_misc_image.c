/*
** ops_misc_image.c — ImageDecoder (opset 20): decode an encoded image held in a uint8 tensor
** into a (H, W, 3) RGB or BGR, or (H, W, 1) Grayscale uint8 tensor.
**
** Formats: JPEG (libjpeg, RGB output with libjpeg's default islow IDCT and fancy upsampling,
** as Pillow uses), PNG (libpng; any bit depth, palette or interlacing; 16-bit samples keep
** their high byte and alpha is dropped, not composited, as Pillow does), BMP (uncompressed
** 1/4/8/24/32-bit), binary/ASCII PNM (P2, P3, P5, P6) and baseline uncompressed 8-bit gray or
** RGB TIFF. WebP, JPEG 2000, GIF and compressed TIFF are recognised and refused with
** LD_ERR_UNSUPPORTED (no decoder library is linked for them).
** Grayscale output uses Pillow's ITU-R 601-2 luma, L = (19595 R + 38470 G + 7471 B + 2^15) >> 16,
** applied to the decoded RGB. Corrupt data gives an LD_ERR_DATA error: libjpeg and libpng
** errors return through setjmp/longjmp, never exit().
*/
#include "ops_misc.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdio.h>
#include <jpeglib.h>
#include <jerror.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#define IMG_MAX_PIXELS ((int64_t)1 << 28)

typedef struct rgb_img { int64_t h, w; uint8_t *px; } rgb_img;   // (h, w, 3) RGB

static ld_status img_alloc(rgb_img *im, int64_t h, int64_t w) {
    if (h < 1 || w < 1 || h > IMG_MAX_PIXELS / w)
        return ld_error(LD_ERR_DATA, "ImageDecoder: bad image size %lld x %lld", (long long)w, (long long)h);
    im->h = h;
    im->w = w;
    im->px = malloc((size_t)(h * w * 3));
    return im->px ? LD_OK : ld_oom();
}

/* ---- JPEG ---- */

typedef struct jpeg_err {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
    bool truncated;          // libjpeg only warns (and pads with gray) at a premature end
} jpeg_err;

static void jpeg_err_exit(j_common_ptr c) {
    jpeg_err *e = (jpeg_err *)c->err;
    c->err->format_message(c, e->msg);
    longjmp(e->jb, 1);
}

static void jpeg_err_note(j_common_ptr c, int level) {
    if (level < 0 && c->err->msg_code == JWRN_JPEG_EOF) ((jpeg_err *)c->err)->truncated = true;
}

static ld_status jpeg_decode(const uint8_t *buf, size_t len, rgb_img *out) {
    struct jpeg_decompress_struct ci;
    jpeg_err err;
    uint8_t *volatile px = NULL;
    ci.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = jpeg_err_exit;
    err.pub.emit_message = jpeg_err_note;
    err.truncated = false;
    if (setjmp(err.jb)) {
        jpeg_destroy_decompress(&ci);
        free(px);
        return ld_error(LD_ERR_DATA, "ImageDecoder: corrupt JPEG data: %s", err.msg);
    }
    jpeg_create_decompress(&ci);
    jpeg_mem_src(&ci, buf, (unsigned long)len);
    jpeg_read_header(&ci, TRUE);
    if (ci.jpeg_color_space == JCS_CMYK || ci.jpeg_color_space == JCS_YCCK) {
        jpeg_destroy_decompress(&ci);
        return ld_error(LD_ERR_UNSUPPORTED, "ImageDecoder: CMYK JPEG images are not supported");
    }
    ci.out_color_space = JCS_RGB;
    jpeg_start_decompress(&ci);
    rgb_img im = {0};
    ld_status st = img_alloc(&im, ci.output_height, ci.output_width);
    if (st != LD_OK) { jpeg_destroy_decompress(&ci); return st; }
    px = im.px;
    while (ci.output_scanline < ci.output_height) {
        JSAMPROW row = px + (size_t)ci.output_scanline * im.w * 3;
        jpeg_read_scanlines(&ci, &row, 1);
    }
    jpeg_finish_decompress(&ci);
    jpeg_destroy_decompress(&ci);
    if (err.truncated) {
        free(px);
        return ld_error(LD_ERR_DATA, "ImageDecoder: truncated JPEG data");
    }
    *out = im;
    return LD_OK;
}

/* ---- PNG ---- */

typedef struct png_src { const uint8_t *p; size_t len, pos; char msg[160]; } png_src;

static void png_read_mem(png_structp png, png_bytep out, png_size_t n) {
    png_src *s = png_get_io_ptr(png);
    if (n > s->len - s->pos) png_error(png, "truncated data");
    memcpy(out, s->p + s->pos, n);
    s->pos += n;
}

static void png_err(png_structp png, png_const_charp msg) {
    png_src *s = png_get_error_ptr(png);
    snprintf(s->msg, sizeof s->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_warn(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

/* Normalise any PNG to 8-bit RGB the way Pillow reads it: 16-bit samples keep their high
 * byte, palettes and low bit depths expand, alpha (and tRNS) is dropped, gray replicates. */
static void png_to_rgb8(png_structp png, png_infop info) {
    int ct = png_get_color_type(png, info);
    if (png_get_bit_depth(png, info) == 16) png_set_strip_16(png);
    if (ct == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (ct == PNG_COLOR_TYPE_GRAY || ct == PNG_COLOR_TYPE_GRAY_ALPHA) {
        png_set_expand_gray_1_2_4_to_8(png);
        png_set_gray_to_rgb(png);
    }
    if ((ct & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS)) png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
}

static ld_status png_decode(const uint8_t *buf, size_t len, rgb_img *out) {
    png_src src = {buf, len, 0, ""};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, png_err, png_warn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    uint8_t *volatile px = NULL;
    png_bytep *volatile rows = NULL;
    if (!png || !info) {
        png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
        return ld_oom();
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(px);
        free(rows);
        return ld_error(LD_ERR_DATA, "ImageDecoder: corrupt PNG data: %s", src.msg);
    }
    png_set_read_fn(png, &src, png_read_mem);
    png_read_info(png, info);
    png_to_rgb8(png, info);
    rgb_img im = {0};
    ld_status st = img_alloc(&im, png_get_image_height(png, info), png_get_image_width(png, info));
    if (st == LD_OK && png_get_rowbytes(png, info) != (size_t)im.w * 3)
        st = ld_error(LD_ERR_INTERNAL, "ImageDecoder: unexpected PNG row size");
    px = im.px;
    rows = st == LD_OK ? malloc(sizeof(png_bytep) * im.h) : NULL;
    if (st == LD_OK && !rows) st = ld_oom();
    if (st == LD_OK) {
        for (int64_t y = 0; y < im.h; y++) rows[y] = px + y * im.w * 3;
        png_read_image(png, rows);
        png_read_end(png, NULL);
    }
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    if (st != LD_OK) { free(px); return st; }
    *out = im;
    return LD_OK;
}

/* ---- BMP ---- */

static uint32_t rd_u32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd_u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static ld_status bmp_decode(const uint8_t *buf, size_t len, rgb_img *out) {
    if (len < 54) return ld_error(LD_ERR_DATA, "ImageDecoder: truncated BMP header");
    uint32_t off = rd_u32(buf + 10), hsz = rd_u32(buf + 14);
    int32_t w = (int32_t)rd_u32(buf + 18), h = (int32_t)rd_u32(buf + 22);
    int bpp = rd_u16(buf + 28);
    uint32_t comp = rd_u32(buf + 30), ncol = rd_u32(buf + 46);
    if (hsz < 40) return ld_error(LD_ERR_UNSUPPORTED, "ImageDecoder: old-style BMP headers are not supported");
    if (comp != 0 && !(comp == 3 && bpp == 32))
        return ld_error(LD_ERR_UNSUPPORTED, "ImageDecoder: compressed BMP images are not supported");
    if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 24 && bpp != 32)
        return ld_error(LD_ERR_UNSUPPORTED, "ImageDecoder: %d-bit BMP images are not supported", bpp);
    bool top_down = h < 0;
    int64_t H = top_down ? -(int64_t)h : h, W = w;
    const uint8_t *pal = buf + 14 + hsz;
    if (bpp <= 8 && ncol == 0) ncol = 1u << bpp;
    if (bpp <= 8 && (ncol > 256 || (size_t)(pal - buf) + 4 * (size_t)ncol > len))
        return ld_error(LD_ERR_DATA, "ImageDecoder: truncated BMP palette");
    rgb_img im = {0};
    LD_TRY(img_alloc(&im, H, W));
    size_t stride = (size_t)((W * bpp + 31) / 32) * 4;
    if (off > len || (size_t)H * stride > len - off) {
        free(im.px);
        return ld_error(LD_ERR_DATA, "ImageDecoder: truncated BMP pixel data");
    }
    for (int64_t y = 0; y < H; y++) {
        const uint8_t *row = buf + off + (size_t)(top_down ? y : H - 1 - y) * stride;
        uint8_t *o = im.px + y * W * 3;
        for (int64_t x = 0; x < W; x++, o += 3) {
            const uint8_t *bgr;
            if (bpp >= 24) {
                bgr = row + x * (bpp / 8);
            } else {
                int64_t bit = x * bpp;
                uint32_t idx = (row[bit / 8] >> (8 - bpp - bit % 8)) & ((1u << bpp) - 1);
                bgr = pal + 4 * (idx < ncol ? idx : 0);
            }
            o[0] = bgr[2]; o[1] = bgr[1]; o[2] = bgr[0];
        }
    }
    *out = im;
    return LD_OK;
}

/* ---- PNM ---- */

/* Next header integer (skipping whitespace and # comments); -1 if none. */
static int64_t pnm_int(const uint8_t *buf, size_t len, size_t *pos) {
    for (;;) {
        while (*pos < len && isspace(buf[*pos])) (*pos)++;
        if (*pos < len && buf[*pos] == '#') { while (*pos < len && buf[*pos] != '\n') (*pos)++; continue; }
        break;
    }
    if (*pos >= len || !isdigit(buf[*pos])) return -1;
    int64_t v = 0;
    while (*pos < len && isdigit(buf[*pos]) && v < ((int64_t)1 << 40)) v = v * 10 + (buf[(*pos)++] - '0');
    return v;
}

static ld_status pnm_decode(const uint8_t *buf, size_t len, rgb_img *out) {
    char kind = (char)buf[1];
    if (kind != '2' && kind != '3' && kind != '5' && kind != '6')
        return ld_error(LD_ERR_UNSUPPORTED, "ImageDecoder: PNM type P%c is not supported", kind);
    size_t pos = 2;
    int64_t w = pnm_int(buf, len, &pos), h = pnm_int(buf, len, &pos), maxv = pnm_int(buf, len, &pos);
    if (w < 1 || h < 1 || maxv < 1 || maxv > 65535)
        return ld_error(LD_ERR_DATA, "ImageDecoder: bad PNM header");
    pos++;   // the single whitespace byte after maxval
    int ch = kind == '3' || kind == '6' ? 3 : 1, bps = maxv > 255 ? 2 : 1;
    bool ascii = kind == '2' || kind == '3';
    rgb_img im = {0};
    LD_TRY(img_alloc(&im, h, w));
    int64_t n = h * w * ch;
    if (!ascii && (pos > len || (size_t)(n * bps) > len - pos)) {
        free(im.px);
        return ld_error(LD_ERR_DATA, "ImageDecoder: truncated PNM pixel data");
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t v = ascii ? pnm_int(buf, len, &pos)
                  : bps == 2 ? buf[pos + 2 * i] << 8 | buf[pos + 2 * i + 1] : buf[pos + i];
        if (v < 0 || v > maxv) {
            free(im.px);
            return ld_error(LD_ERR_DATA, "ImageDecoder: bad or truncated PNM sample");
        }
        uint8_t s = (uint8_t)(maxv == 255 ? v : (v * 255 + maxv / 2) / maxv);
        if (ch == 3) im.px[i] = s;
        else im.px[3 * i] = im.px[3 * i + 1] = im.px[3 * i + 2] = s;
    }
    *out = im;
    return LD_OK;
}

/* ---- TIFF (baseline, uncompressed) ---- */

typedef struct tiff_buf { const uint8_t *p; size_t len; bool be; } tiff_buf;

static uint32_t tiff_u(const tiff_buf *t, size_t off, int bytes) {
    if (off > t->len || (size_t)bytes > t->len - off) return 0;
    const uint8_t *q = t->p + off;
    if (bytes == 2) return t->be ? (uint32_t)(q[0] << 8 | q[1]) : rd_u16(q);
    return t->be ? (uint32_t)q[0] << 24 | q[1] << 16 | q[2] << 8 | q[3] : rd_u32(q);
}

/* Value i of IFD entry e (types SHORT or LONG; inline when they fit in 4 bytes). */
static uint32_t tiff_val(const tiff_buf *t, size_t e, uint32_t i) {
    int type = (int)tiff_u(t, e + 2, 2), sz = type == 3 ? 2 : 4;
    uint32_t cnt = tiff_u(t, e + 4, 4);
    size_t at = cnt * (uint64_t)sz <= 4 ? e + 8 : tiff_u(t, e + 8, 4);
    return i < cnt ? tiff_u(t, at + (size_t)i * sz, sz) : 0;
}

typedef struct tiff_info {
    uint32_t w, h, bps, comp, photo, spp, rps, planar, nstrips;
    size_t offs, counts;   // IFD entries of StripOffsets / StripByteCounts
} tiff_info;

static ld_status tiff_read_ifd(const tiff_buf *t, tiff_info *ti) {
    size_t ifd = tiff_u(t, 4, 4);
    uint32_t n = tiff_u(t, ifd, 2);
    memset(ti, 0, sizeof *ti);
    ti->comp = ti->spp = ti->planar = 1;
    ti->rps = UINT32_MAX;
    ti->bps = 1;
    for (uint32_t i = 0; i < n; i++) {
        size_t e = ifd + 2 + 12 * (size_t)i;
        switch (tiff_u(t, e, 2)) {
        case 256: ti->w = tiff_val(t, e, 0); break;
        case 257: ti->h = tiff_val(t, e, 0); break;
        case 258: ti->bps = tiff_val(t, e, 0); break;
        case 259: ti->comp = tiff_val(t, e, 0); break;
        case 262: ti->photo = tiff_val(t, e, 0); break;
        case 273: ti->offs = e; ti->nstrips = tiff_u(t, e + 4, 4); break;
        case 277: ti->spp = tiff_val(t, e, 0); break;
        case 278: ti->rps = tiff_val(t, e, 0); break;
        case 279: ti->counts = e; break;
        case 284: ti->planar = tiff_val(t, e, 0); break;
        default: break;
        }
    }
    if (ti->comp != 1) return ld_error(LD_ERR_UNSUPPORTED, "ImageDecoder: compressed TIFF images are not supported");
    if (ti->bps != 8 || ti->planar != 1 || !(ti->photo <= 2) || (ti->photo == 2 ? ti->spp < 3 : ti->spp < 1))
        return ld_error(LD_ERR_UNSUPPORTED, "ImageDecoder: only 8-bit chunky gray or RGB TIFF images are supported");
    if (!ti->offs || !ti->w || !ti->h) return ld_error(LD_ERR_DATA, "ImageDecoder: bad TIFF header");
    return LD_OK;
}

static ld_status tiff_decode(const uint8_t *buf, size_t len, rgb_img *out) {
    tiff_buf t = {buf, len, buf[0] == 'M'};
    tiff_info ti;
    LD_TRY(tiff_read_ifd(&t, &ti));
    rgb_img im = {0};
    LD_TRY(img_alloc(&im, ti.h, ti.w));
    size_t row = (size_t)ti.w * ti.spp;
    uint32_t rps = LD_MIN(ti.rps, ti.h);
    for (uint32_t y = 0; y < ti.h; y++) {
        uint32_t strip = y / rps;
        size_t off = (size_t)tiff_val(&t, ti.offs, strip) + (size_t)(y % rps) * row;
        if (strip >= ti.nstrips || off > len || row > len - off) {
            free(im.px);
            return ld_error(LD_ERR_DATA, "ImageDecoder: truncated TIFF pixel data");
        }
        const uint8_t *src = buf + off;
        uint8_t *o = im.px + (size_t)y * ti.w * 3;
        for (uint32_t x = 0; x < ti.w; x++, src += ti.spp, o += 3) {
            if (ti.photo == 2) { memcpy(o, src, 3); continue; }
            uint8_t g = ti.photo == 0 ? (uint8_t)(255 - src[0]) : src[0];   // 0 = WhiteIsZero
            o[0] = o[1] = o[2] = g;
        }
    }
    *out = im;
    return LD_OK;
}

/* ---- dispatch ---- */

static ld_status img_decode(const uint8_t *b, size_t n, rgb_img *im) {
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    if (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff) return jpeg_decode(b, n, im);
    if (n >= 8 && !memcmp(b, png_sig, 8)) return png_decode(b, n, im);
    if (n >= 2 && b[0] == 'B' && b[1] == 'M') return bmp_decode(b, n, im);
    if (n >= 3 && b[0] == 'P' && b[1] >= '1' && b[1] <= '7' && isspace(b[2])) return pnm_decode(b, n, im);
    if (n >= 8 && (!memcmp(b, "II*\0", 4) || !memcmp(b, "MM\0*", 4))) return tiff_decode(b, n, im);
    const char *fmt = NULL;
    if (n >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4)) fmt = "WebP";
    else if (n >= 12 && (!memcmp(b + 4, "jP  ", 4) || (b[0] == 0xff && b[1] == 0x4f))) fmt = "JPEG 2000";
    else if (n >= 4 && !memcmp(b, "GIF8", 4)) fmt = "GIF";
    if (fmt) return ld_error(LD_ERR_UNSUPPORTED, "ImageDecoder: %s images are not supported "
                             "(JPEG, PNG, BMP, PNM and uncompressed TIFF are)", fmt);
    return ld_error(LD_ERR_DATA, "ImageDecoder: unrecognised image format");
}

ld_status ld_misc_imgdec_shape(ld_kctx *k) { return LD_DYNAMIC; }

ld_status ld_misc_imgdec_compute(ld_kctx *k) {
    LD_TRY(ld_misc_need(k, 1));
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_U8)));
    const char *fmt = ld_attr_str(k->node, "pixel_format", "RGB");
    int mode = !strcmp(fmt, "RGB") ? 0 : !strcmp(fmt, "BGR") ? 1 : !strcmp(fmt, "Grayscale") ? 2 : -1;
    if (mode < 0)
        return ld_error(LD_ERR_DATA, "ImageDecoder: pixel_format must be RGB, BGR or Grayscale, got '%s'", fmt);
    rgb_img im = {0};
    LD_TRY(img_decode(k->in[0]->data, (size_t)k->in[0]->numel, &im));
    int64_t od[3] = {im.h, im.w, mode == 2 ? 1 : 3};   // (H, W, C)
    ld_status st = ld_tensor_alloc(k->out[0], LD_U8, 3, od);
    uint8_t *y = st == LD_OK ? k->out[0]->data : NULL;
    for (int64_t i = 0; y && i < im.h * im.w; i++) {
        const uint8_t *p = im.px + 3 * i;
        if (mode == 0) memcpy(y + 3 * i, p, 3);
        else if (mode == 1) { y[3 * i] = p[2]; y[3 * i + 1] = p[1]; y[3 * i + 2] = p[0]; }
        else y[i] = (uint8_t)((19595u * p[0] + 38470u * p[1] + 7471u * p[2] + 0x8000u) >> 16);
    }
    free(im.px);
    return st;
}
