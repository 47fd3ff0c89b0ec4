/*
** data_image.c — image datasets: PNG (libpng) and JPEG (libjpeg) decoding to 8-bit gray or
** RGB, and the preprocessing that turns one image into a float32 (C,H,W) sample:
**
**   channels   the model's channel count: 1 = ITU-R 601 luma (0.299 R + 0.587 G + 0.114 B,
**              not rounded), 3 = RGB (gray images are replicated); alpha is dropped, never
**              composited; PNG gamma/ICC chunks are ignored (as PIL does); 16-bit PNG
**              samples are scaled to 8 bits (png_set_scale_16).
**   resize     bilinear with half-pixel centres (align_corners=False, like PyTorch/OpenCV),
**              no antialiasing, values kept as float (not rounded back to 8 bits). Without
**              --resize and --center-crop, an image whose size differs from the model's fixed
**              H,W is resized to it.
**   crop       centre crop; the top/left offset is round((size - crop) / 2) with ties to even,
**              as torchvision's CenterCrop computes it (Python's round).
**   scale      pixel / 255, then (x - mean[c]) / std[c] when mean/std are given.
**
** Decoding errors never end the process: libpng reports through png_error -> longjmp and
** libjpeg through a custom error_exit -> longjmp; truncated or corrupt data (including the
** libjpeg warnings that mean "pixels are made up") become LD_ERR_DATA naming the file.
*/
#include "data_internal.h"

#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jerror.h>
#include <jpeglib.h>
#include <png.h>

#define DATA_MAX_PIXELS ((int64_t)1 << 28)   /* refuse larger images (and resize targets) */

/* ---- options ---- */

static ld_status prep_norm_pick(const float *v, int nv, float def, int c, const char *opt,
                                float *out) {
    if (nv != 0 && nv != 1 && nv != c)
        return ld_error(LD_ERR_USAGE, "%s takes 1 or %d values for a %d-channel input (got %d)", opt,
                        c, c, nv);
    for (int i = 0; i < c; i++) {
        out[i] = nv == 0 ? def : v[nv == 1 ? 0 : i];
        if (!isfinite(out[i])) return ld_error(LD_ERR_USAGE, "%s values must be finite", opt);
    }
    return LD_OK;
}

static ld_status prep_norm_init(const ld_data_opts *o, data_prep *p) {
    static const float in_mean[3] = {0.485f, 0.456f, 0.406f}, in_std[3] = {0.229f, 0.224f, 0.225f};
    int c = p->channels;
    if (o->imagenet_norm) {
        if (o->nmean || o->nstd)
            return ld_error(LD_ERR_USAGE, "--imagenet-norm cannot be combined with --mean/--std");
        if (c != 3)
            return ld_error(LD_ERR_USAGE, "--imagenet-norm needs a 3-channel input (this one has %d)", c);
        memcpy(p->mean, in_mean, sizeof in_mean);
        memcpy(p->std, in_std, sizeof in_std);
        p->nnorm = 3;
        return LD_OK;
    }
    if (!o->nmean && !o->nstd) return LD_OK;
    LD_TRY(prep_norm_pick(o->mean, o->nmean, 0.0f, c, "--mean", p->mean));
    LD_TRY(prep_norm_pick(o->std, o->nstd, 1.0f, c, "--std", p->std));
    for (int i = 0; i < c; i++)
        if (p->std[i] == 0.0f) return ld_error(LD_ERR_USAGE, "--std values must not be 0");
    p->nnorm = c;
    return LD_OK;
}

static ld_status prep_size_check(int h, int w, const char *opt) {
    if (h < 0 || w < 0 || (h == 0) != (w == 0))
        return ld_error(LD_ERR_USAGE, "%s takes HxW with both sizes positive (got %dx%d)", opt, h, w);
    if ((int64_t)h * w > DATA_MAX_PIXELS) return ld_error(LD_ERR_USAGE, "%s %dx%d is too large", opt, h, w);
    return LD_OK;
}

static int prep_dim(int64_t d) { return d > 0 && d <= INT32_MAX ? (int)d : 0; }

ld_status data_prep_init(const data_target *tg, const ld_data_opts *o, int default_channels,
                         data_prep *p) {
    memset(p, 0, sizeof *p);
    p->channels = default_channels;
    if (tg->rank == 4) {
        int64_t c = tg->dims[1];
        if (c >= 0 && c != 1 && c != 3)
            return ld_error(LD_ERR_UNSUPPORTED, "input '%s' declares %lld channels; image data is NCHW with 1 (gray) or 3 (RGB) channels",
                            tg->v->name, (long long)c);
        if (c >= 0) p->channels = (int)c;
        p->model_h = prep_dim(tg->dims[2]);
        p->model_w = prep_dim(tg->dims[3]);
    } else if (tg->rank == 3) {            /* (N,H,W): gray without a channel axis */
        p->channels = 1;
        p->model_h = prep_dim(tg->dims[1]);
        p->model_w = prep_dim(tg->dims[2]);
    }
    LD_TRY(prep_size_check(o->resize_h, o->resize_w, "--resize"));
    LD_TRY(prep_size_check(o->crop_h, o->crop_w, "--center-crop"));
    p->resize_h = o->resize_h;
    p->resize_w = o->resize_w;
    p->crop_h = o->crop_h;
    p->crop_w = o->crop_w;
    return prep_norm_init(o, p);
}

bool data_image_name_is(const char *name) {
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name) return false;
    return !strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg");
}

void data_image_free(data_image *img) {
    free(img->px);
    memset(img, 0, sizeof *img);
}

/* ---- PNG ---- */

typedef struct png_ctx {
    png_structp png;
    png_infop info;
    const uint8_t *buf;
    size_t len, pos;
    png_bytep *rows;
    data_image img;
    char msg[256];
} png_ctx;

static void png_on_error(png_structp png, png_const_charp msg) {
    png_ctx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg) { ld_log(2, "libpng: %s", msg); }

static void png_on_read(png_structp png, png_bytep out, size_t n) {
    png_ctx *c = png_get_io_ptr(png);
    if (n > c->len - c->pos) png_error(png, "file is truncated");
    memcpy(out, c->buf + c->pos, n);
    c->pos += n;
}

/* Every libpng call that can fail; errors longjmp back to png_run. */
static void png_read_all(png_ctx *c) {
    png_structp png = c->png;
    png_set_read_fn(png, c, png_on_read);
    png_read_info(png, c->info);
    png_uint_32 w = png_get_image_width(png, c->info), h = png_get_image_height(png, c->info);
    int ctype = png_get_color_type(png, c->info);
    if ((int64_t)w * h > DATA_MAX_PIXELS) png_error(png, "image is too large");
    png_set_scale_16(png);
    png_set_palette_to_rgb(png);
    png_set_expand_gray_1_2_4_to_8(png);
    png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, c->info);
    int ch = png_get_channels(png, c->info);
    int want = (ctype & PNG_COLOR_MASK_COLOR) ? 3 : 1;
    if (ch != want || png_get_bit_depth(png, c->info) != 8) png_error(png, "unexpected pixel layout after conversion");
    c->img.h = (int)h;
    c->img.w = (int)w;
    c->img.c = ch;
    c->img.px = malloc((size_t)w * h * ch);
    c->rows = malloc(sizeof *c->rows * (h ? h : 1));
    if (!c->img.px || !c->rows) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < h; y++) c->rows[y] = c->img.px + (size_t)y * w * ch;
    png_read_image(png, c->rows);
    png_read_end(png, NULL);
}

static ld_status png_run(png_ctx *c, const char *name) {
    if (setjmp(png_jmpbuf(c->png))) return ld_error(LD_ERR_DATA, "%s: corrupt PNG: %s", name, c->msg);
    png_read_all(c);
    return LD_OK;
}

static ld_status png_decode(const uint8_t *buf, size_t len, const char *name, data_image *img) {
    png_ctx *c = calloc(1, sizeof *c);
    if (!c) return ld_oom();
    c->buf = buf;
    c->len = len;
    c->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, c, png_on_error, png_on_warning);
    if (c->png) c->info = png_create_info_struct(c->png);
    ld_status st = c->info ? png_run(c, name) : ld_oom();
    if (c->png) png_destroy_read_struct(&c->png, c->info ? &c->info : NULL, NULL);
    free(c->rows);
    if (st == LD_OK) *img = c->img;
    else free(c->img.px);
    free(c);
    return st;
}

/* ---- JPEG ---- */

typedef struct jpeg_ctx {
    struct jpeg_error_mgr err;          /* first: cinfo->err points here */
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
    struct jpeg_decompress_struct d;
    data_image img;
} jpeg_ctx;

static void jpeg_on_error(j_common_ptr cinfo) {
    jpeg_ctx *c = (jpeg_ctx *)cinfo->err;
    cinfo->err->format_message(cinfo, c->msg);
    longjmp(c->jb, 1);
}

/* libjpeg only warns about corrupt or missing data and then invents pixels: make those fatal
 * (by code, and "bad ... code" by text as the arithmetic-coding code is not always declared). */
static void jpeg_on_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return;
    char msg[JMSG_LENGTH_MAX];
    cinfo->err->format_message(cinfo, msg);
    int code = cinfo->err->msg_code;
    if (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER || code == JWRN_HUFF_BAD_CODE ||
        code == JWRN_MUST_RESYNC || code == JWRN_NOT_SEQUENTIAL || !strncmp(msg, "Corrupt JPEG data: bad ", 23))
        jpeg_on_error(cinfo);
    ld_log(2, "libjpeg: %s", msg);
    cinfo->err->num_warnings++;
}

/* Every libjpeg call that can fail; errors longjmp back to jpeg_run. */
static void jpeg_read_all(jpeg_ctx *c, const uint8_t *buf, size_t len) {
    j_decompress_ptr d = &c->d;
    jpeg_mem_src(d, buf, (unsigned long)len);
    jpeg_read_header(d, TRUE);
    if (d->jpeg_color_space == JCS_CMYK || d->jpeg_color_space == JCS_YCCK) {
        snprintf(c->msg, sizeof c->msg, "CMYK JPEG images are not supported");
        longjmp(c->jb, 1);
    }
    d->out_color_space = d->jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : JCS_RGB;
    if ((int64_t)d->image_width * d->image_height > DATA_MAX_PIXELS) {
        snprintf(c->msg, sizeof c->msg, "image is too large");
        longjmp(c->jb, 1);
    }
    jpeg_start_decompress(d);
    int ch = d->output_components;
    c->img.h = (int)d->output_height;
    c->img.w = (int)d->output_width;
    c->img.c = ch;
    c->img.px = malloc((size_t)c->img.h * c->img.w * ch + 1);
    if (!c->img.px) {
        snprintf(c->msg, sizeof c->msg, "out of memory");
        longjmp(c->jb, 1);
    }
    while (d->output_scanline < d->output_height) {
        JSAMPROW row = c->img.px + (size_t)d->output_scanline * c->img.w * ch;
        jpeg_read_scanlines(d, &row, 1);
    }
    jpeg_finish_decompress(d);
}

static ld_status jpeg_run(jpeg_ctx *c, const uint8_t *buf, size_t len, const char *name) {
    if (setjmp(c->jb)) return ld_error(LD_ERR_DATA, "%s: corrupt JPEG: %s", name, c->msg);
    jpeg_create_decompress(&c->d);
    jpeg_read_all(c, buf, len);
    return LD_OK;
}

static ld_status jpeg_decode(const uint8_t *buf, size_t len, const char *name, data_image *img) {
    jpeg_ctx *c = calloc(1, sizeof *c);
    if (!c) return ld_oom();
    c->d.err = jpeg_std_error(&c->err);
    c->err.error_exit = jpeg_on_error;
    c->err.emit_message = jpeg_on_message;
    ld_status st = jpeg_run(c, buf, len, name);
    jpeg_destroy_decompress(&c->d);
    if (st == LD_OK) *img = c->img;
    else free(c->img.px);
    free(c);
    return st;
}

/* ---- decoding by content ---- */

ld_status data_image_decode(const uint8_t *buf, size_t len, const char *name, data_image *img) {
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memset(img, 0, sizeof *img);
    if (len >= 8 && !memcmp(buf, png_sig, 8)) return png_decode(buf, len, name, img);
    if (len >= 3 && buf[0] == 0xff && buf[1] == 0xd8 && buf[2] == 0xff) return jpeg_decode(buf, len, name, img);
    return ld_error(LD_ERR_DATA, "%s: not a PNG or JPEG image%s", name, len ? "" : " (empty file)");
}

ld_status data_image_read(const char *path, data_image *img) {
    uint8_t *buf;
    size_t len;
    ld_status st = ld_file_read(path, &buf, &len);
    if (st != LD_OK) return ld_err_prefix_path(st, path);
    st = data_image_decode(buf, len, path, img);
    free(buf);
    return st;
}

/* ---- preprocessing on float planes ---- */

typedef struct planes {
    int c, h, w;
    float *d;                           /* c planes of h*w */
} planes;

static ld_status planes_from_image(const data_image *img, int channels, planes *out) {
    size_t hw = (size_t)img->h * img->w;
    float *d = malloc(sizeof(float) * hw * channels + 1);
    if (!d) return ld_oom();
    const uint8_t *px = img->px;
    for (size_t i = 0; i < hw; i++) {
        if (img->c == 3 && channels == 1) {
            d[i] = 0.299f * px[3 * i] + 0.587f * px[3 * i + 1] + 0.114f * px[3 * i + 2];
        } else {
            for (int c = 0; c < channels; c++) d[c * hw + i] = px[img->c * i + (img->c == 1 ? 0 : c)];
        }
    }
    *out = (planes){channels, img->h, img->w, d};
    return LD_OK;
}

/* Source index and weight of the upper neighbour for each output position (half-pixel). */
static void resize_axis(int in, int out, int *i0, float *f) {
    double scale = (double)in / out;
    for (int o = 0; o < out; o++) {
        double s = (o + 0.5) * scale - 0.5;
        if (s < 0) s = 0;
        if (s > in - 1) s = in - 1;
        i0[o] = (int)s;
        f[o] = (float)(s - i0[o]);
    }
}

static ld_status planes_resize(planes *p, int oh, int ow) {
    if (p->h == oh && p->w == ow) return LD_OK;
    float *d = malloc(sizeof(float) * p->c * oh * ow + 1);
    int *y0 = malloc(sizeof(int) * oh), *x0 = malloc(sizeof(int) * ow);
    float *fy = malloc(sizeof(float) * oh), *fx = malloc(sizeof(float) * ow);
    ld_status st = d && y0 && x0 && fy && fx ? LD_OK : ld_oom();
    if (st == LD_OK) {
        resize_axis(p->h, oh, y0, fy);
        resize_axis(p->w, ow, x0, fx);
        for (int c = 0; c < p->c; c++) {
            const float *src = p->d + (size_t)c * p->h * p->w;
            float *dst = d + (size_t)c * oh * ow;
            for (int y = 0; y < oh; y++) {
                const float *r0 = src + (size_t)y0[y] * p->w;
                const float *r1 = src + (size_t)LD_MIN(y0[y] + 1, p->h - 1) * p->w;
                for (int x = 0; x < ow; x++) {
                    int xa = x0[x], xb = LD_MIN(xa + 1, p->w - 1);
                    float top = r0[xa] + fx[x] * (r0[xb] - r0[xa]);
                    float bot = r1[xa] + fx[x] * (r1[xb] - r1[xa]);
                    dst[(size_t)y * ow + x] = top + fy[y] * (bot - top);
                }
            }
        }
        free(p->d);
        p->d = d;
        p->h = oh;
        p->w = ow;
        d = NULL;
    }
    free(d);
    free(y0);
    free(x0);
    free(fy);
    free(fx);
    return st;
}

static ld_status planes_crop(planes *p, int ch, int cw, const char *name) {
    if (ch > p->h || cw > p->w)
        return ld_error(LD_ERR_DATA, "%s: image is %dx%d, smaller than the --center-crop %dx%d", name,
                        p->h, p->w, ch, cw);
    if (ch == p->h && cw == p->w) return LD_OK;
    int top = (int)nearbyint((p->h - ch) / 2.0), left = (int)nearbyint((p->w - cw) / 2.0);
    float *d = malloc(sizeof(float) * p->c * ch * cw + 1);
    if (!d) return ld_oom();
    for (int c = 0; c < p->c; c++)
        for (int y = 0; y < ch; y++)
            memcpy(d + ((size_t)c * ch + y) * cw, p->d + ((size_t)c * p->h + top + y) * p->w + left,
                   sizeof(float) * cw);
    free(p->d);
    *p = (planes){p->c, ch, cw, d};
    return LD_OK;
}

static ld_status planes_to_tensor(const planes *p, const data_prep *pr, ld_tensor **out) {
    int64_t dims[3] = {p->c, p->h, p->w};
    ld_tensor *t;
    LD_TRY(ld_tensor_create(&t, LD_F32, 3, dims));
    float *o = LD_F32P(t);
    size_t hw = (size_t)p->h * p->w;
    for (int c = 0; c < p->c; c++)
        for (size_t i = 0; i < hw; i++) {
            float x = p->d[c * hw + i] / 255.0f;
            o[c * hw + i] = pr->nnorm ? (x - pr->mean[c]) / pr->std[c] : x;
        }
    *out = t;
    return LD_OK;
}

ld_status data_image_prepare(const data_image *img, const data_prep *p, const char *name,
                             ld_tensor **out) {
    planes pl = {0};
    /* every image source (PNG, JPEG, IDX) comes through here: an empty or absurd size is a
     * data error before any pixel is read */
    if (img->h <= 0 || img->w <= 0 || (int64_t)img->h * img->w > DATA_MAX_PIXELS)
        return ld_error(LD_ERR_DATA, "%s: image is %dx%d; images must be between 1x1 and %lld pixels",
                        name, img->h, img->w, (long long)DATA_MAX_PIXELS);
    LD_TRY(planes_from_image(img, p->channels, &pl));
    int rh = p->resize_h, rw = p->resize_w;
    /* No --resize/--center-crop: fit the image to the model's fixed size when it differs. */
    if (!rh && !p->crop_h && p->model_h && p->model_w && (img->h != p->model_h || img->w != p->model_w)) {
        rh = p->model_h;
        rw = p->model_w;
        ld_log(2, "%s: resizing %dx%d to the model's %dx%d", name, img->h, img->w, rh, rw);
    }
    ld_status st = rh ? planes_resize(&pl, rh, rw) : LD_OK;
    if (st == LD_OK && p->crop_h) st = planes_crop(&pl, p->crop_h, p->crop_w, name);
    if (st == LD_OK && ((p->model_h && pl.h != p->model_h) || (p->model_w && pl.w != p->model_w)))
        st = ld_error(LD_ERR_DATA, "%s: image is %dx%d after preprocessing but the model input wants %dx%d (use --resize/--center-crop)",
                      name, pl.h, pl.w, p->model_h ? p->model_h : pl.h, p->model_w ? p->model_w : pl.w);
    if (st == LD_OK) st = planes_to_tensor(&pl, p, out);
    free(pl.d);
    return st;
}

ld_status data_images_load(char *const *paths, char *const *names, int n, const data_prep *p,
                           data_set *s) {
    for (int i = 0; i < n && !data_set_full(s); i++) {
        data_image img;
        LD_TRY(data_image_read(paths[i], &img));
        ld_tensor *t = NULL;
        ld_status st = data_image_prepare(&img, p, paths[i], &t);
        data_image_free(&img);
        if (st == LD_OK) st = data_set_add(s, t, names[i], paths[i]);
        if (st != LD_OK) return st;
    }
    return LD_OK;
}
