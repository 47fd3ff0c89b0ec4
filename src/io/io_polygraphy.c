/*
** io_polygraphy.c — Polygraphy's JSON formats (cJSON): inputs lists written by
** `--save-inputs` and RunResults written by `--save-outputs`. Arrays are base64 of .npy
** bytes in {"array": ..., "polygraphy_class": "ndarray"}, wrapped in a "LazyArray" in newer
** RunResults. What we write, Polygraphy 0.49 reads back with RunResults.load().
*/
#include "ld_io.h"
#include "ld_outfile.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- base64 ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *ld_base64_encode(const uint8_t *d, size_t n) {
    size_t olen = 4 * ((n + 2) / 3);
    char *o = malloc(olen + 1), *p = o;
    if (!o) return NULL;
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
        *p++ = b64[v >> 18]; *p++ = b64[(v >> 12) & 63]; *p++ = b64[(v >> 6) & 63]; *p++ = b64[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0);
        *p++ = b64[v >> 18];
        *p++ = b64[(v >> 12) & 63];
        *p++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        *p++ = '=';
    }
    *p = 0;
    return o;
}

ld_status ld_base64_decode(const char *s, uint8_t **out, size_t *len) {
    static int8_t rev[256];
    static bool init;
    if (!init) {
        memset(rev, -1, sizeof rev);
        for (int i = 0; i < 64; i++) rev[(uint8_t)b64[i]] = (int8_t)i;
        rev['-'] = 62; rev['_'] = 63;   /* url-safe too */
        init = true;
    }
    size_t n = strlen(s);
    uint8_t *o = malloc(n / 4 * 3 + 4);
    if (!o) return ld_oom();
    uint32_t acc = 0;
    int bits = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '=' ) break;
        if (c == '\n' || c == '\r' || c == ' ') continue;
        if (rev[c] < 0) { free(o); return ld_error(LD_ERR_DATA, "invalid base64 data"); }
        acc = (acc << 6) | (uint32_t)rev[c];
        bits += 6;
        if (bits >= 8) { bits -= 8; o[k++] = (uint8_t)(acc >> bits); }
    }
    *out = o;
    *len = k;
    return LD_OK;
}

/* ---- JSON helpers ---- */

static ld_status json_load(const char *path, cJSON **root) {
    uint8_t *buf;
    size_t len;
    LD_TRY(ld_file_read(path, &buf, &len));
    *root = cJSON_ParseWithLength((const char *)buf, len);
    free(buf);
    if (!*root) return ld_error(LD_ERR_DATA, "%s: not valid JSON", path);
    return LD_OK;
}

/* {"array": b64, "polygraphy_class": "ndarray"} or a LazyArray around it -> tensor. */
static ld_status json_array(const cJSON *o, ld_tensor **out) {
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(o, "polygraphy_class");
    if (cJSON_IsString(cls) && !strcmp(cls->valuestring, "LazyArray")) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "values");
        if (!cJSON_IsObject(v)) return ld_error(LD_ERR_DATA, "LazyArray without values");
        return json_array(v, out);
    }
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "array");
    if (!cJSON_IsString(arr)) return ld_error(LD_ERR_DATA, "expected an encoded ndarray");
    uint8_t *raw;
    size_t n;
    LD_TRY(ld_base64_decode(arr->valuestring, &raw, &n));
    ld_tensor *t = calloc(1, sizeof *t);
    ld_status st = t ? ld_npy_parse(raw, n, t) : ld_oom();
    free(raw);
    if (st != LD_OK) { free(t); return st; }
    *out = t;
    return LD_OK;
}

static ld_status json_feed(const cJSON *dict, ld_feed *f) {
    memset(f, 0, sizeof *f);
    if (!cJSON_IsObject(dict)) return ld_error(LD_ERR_DATA, "expected a dict of name -> array");
    const cJSON *it;
    cJSON_ArrayForEach(it, dict) {
        if (!strcmp(it->string, "polygraphy_class")) continue;
        ld_tensor *t = NULL;
        ld_status st = json_array(it, &t);
        if (st == LD_OK) st = ld_feed_add(f, it->string, t);
        if (st != LD_OK) { ld_feed_clear(f); return ld_err_prefix(st, "tensor '%s'", it->string); }
    }
    return LD_OK;
}

ld_status ld_pg_read_inputs(const char *path, ld_feed **samples, int *nsamples) {
    cJSON *root;
    LD_TRY(json_load(path, &root));
    const cJSON *lst = root;
    if (cJSON_IsObject(root)) lst = cJSON_GetObjectItemCaseSensitive(root, "lst");
    ld_status st = LD_OK;
    if (!cJSON_IsArray(lst)) st = ld_error(LD_ERR_DATA, "%s: not a Polygraphy inputs list", path);
    int n = st == LD_OK ? cJSON_GetArraySize(lst) : 0;
    ld_feed *s = calloc(n + 1, sizeof *s);
    if (!s && st == LD_OK) st = ld_oom();
    for (int i = 0; i < n && st == LD_OK; i++) {
        st = json_feed(cJSON_GetArrayItem(lst, i), &s[i]);
        if (st != LD_OK) ld_err_prefix(st, "%s: feed %d", path, i);
    }
    cJSON_Delete(root);
    if (st != LD_OK) {
        for (int i = 0; s && i < n; i++) ld_feed_clear(&s[i]);
        free(s);
        return st;
    }
    *samples = s;
    *nsamples = n;
    return LD_OK;
}

ld_status ld_pg_read_results(const char *path, const char *runner, ld_feed **iters, int *niters,
                             char **runner_name) {
    cJSON *root;
    LD_TRY(json_load(path, &root));
    ld_status st = LD_OK;
    const cJSON *lst = cJSON_GetObjectItemCaseSensitive(root, "lst"), *pick = NULL;
    if (!cJSON_IsArray(lst)) st = ld_error(LD_ERR_DATA, "%s: not a Polygraphy RunResults file", path);
    const cJSON *pair;
    if (st == LD_OK) cJSON_ArrayForEach(pair, lst) {
        const cJSON *nm = cJSON_GetArrayItem(pair, 0);
        if (!cJSON_IsString(nm)) continue;
        if (!runner || strstr(nm->valuestring, runner)) { pick = pair; break; }
    }
    if (st == LD_OK && !pick) st = ld_error(LD_ERR_DATA, "%s: no runner%s%s in RunResults", path, runner ? " matching " : "", runner ? runner : "");
    const cJSON *its = pick ? cJSON_GetArrayItem(pick, 1) : NULL;
    int n = cJSON_IsArray(its) ? cJSON_GetArraySize(its) : 0;
    ld_feed *f = calloc(n + 1, sizeof *f);
    if (st == LD_OK && !f) st = ld_oom();
    for (int i = 0; i < n && st == LD_OK; i++) {
        const cJSON *ir = cJSON_GetArrayItem(its, i);
        const cJSON *outs = cJSON_GetObjectItemCaseSensitive(ir, "outputs");
        st = json_feed(outs ? outs : ir, &f[i]);
        if (st != LD_OK) ld_err_prefix(st, "%s: iteration %d", path, i);
    }
    if (st == LD_OK && runner_name) *runner_name = ld_strdup(cJSON_GetArrayItem(pick, 0)->valuestring);
    cJSON_Delete(root);
    if (st != LD_OK) {
        for (int i = 0; f && i < n; i++) ld_feed_clear(&f[i]);
        free(f);
        return st;
    }
    *iters = f;
    *niters = n;
    return LD_OK;
}

static cJSON *json_ndarray(const ld_tensor *t, ld_status *st) {
    uint8_t *buf;
    size_t len;
    *st = ld_npy_serialize(t, &buf, &len);
    if (*st != LD_OK) return NULL;
    char *enc = ld_base64_encode(buf, len);
    free(buf);
    if (!enc) { *st = ld_oom(); return NULL; }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "array", cJSON_CreateString(enc));
    cJSON_AddStringToObject(o, "polygraphy_class", "ndarray");
    free(enc);
    return o;
}

static ld_status json_write(const char *path, cJSON *root, bool force) {
    char *txt = cJSON_Print(root);
    cJSON_Delete(root);
    if (!txt) return ld_oom();
    ld_status st = ld_out_write_all(path, force ? LD_OUT_FORCE : 0, txt, strlen(txt));
    free(txt);
    return st;
}

ld_status ld_pg_write_results(const char *path, const char *runner_name, const ld_feed *iters,
                              int niters, const double *runtimes, bool force) {
    LD_TRY(ld_out_check(path, force ? LD_OUT_FORCE : 0));   /* before the work of encoding */
    cJSON *root = cJSON_CreateObject(), *lst = cJSON_CreateArray(), *pair = cJSON_CreateArray(),
          *its = cJSON_CreateArray();
    ld_status st = LD_OK;
    for (int i = 0; i < niters && st == LD_OK; i++) {
        cJSON *ir = cJSON_CreateObject(), *outs = cJSON_CreateObject();
        for (int k = 0; k < iters[i].n && st == LD_OK; k++) {
            cJSON *nd = json_ndarray(iters[i].items[k].t, &st);
            if (!nd) { ld_err_prefix(st, "tensor '%s'", iters[i].items[k].name); break; }
            cJSON *lazy = cJSON_CreateObject();
            cJSON_AddItemToObject(lazy, "values", nd);
            cJSON_AddStringToObject(lazy, "polygraphy_class", "LazyArray");
            cJSON_AddItemToObject(outs, iters[i].items[k].name, lazy);
        }
        cJSON_AddItemToObject(ir, "outputs", outs);
        cJSON_AddNumberToObject(ir, "runtime", runtimes ? runtimes[i] : 0.0);
        cJSON_AddStringToObject(ir, "runner_name", runner_name);
        cJSON_AddStringToObject(ir, "polygraphy_class", "IterationResult");
        cJSON_AddItemToArray(its, ir);
    }
    cJSON_AddItemToArray(pair, cJSON_CreateString(runner_name));
    cJSON_AddItemToArray(pair, its);
    cJSON_AddItemToArray(lst, pair);
    cJSON_AddItemToObject(root, "lst", lst);
    cJSON_AddStringToObject(root, "polygraphy_class", "RunResults");
    if (st != LD_OK) { cJSON_Delete(root); return st; }
    return json_write(path, root, force);
}

ld_status ld_pg_write_inputs(const char *path, const ld_feed *samples, int nsamples, bool force) {
    LD_TRY(ld_out_check(path, force ? LD_OUT_FORCE : 0));
    cJSON *root = cJSON_CreateArray();
    ld_status st = LD_OK;
    for (int i = 0; i < nsamples && st == LD_OK; i++) {
        cJSON *d = cJSON_CreateObject();
        for (int k = 0; k < samples[i].n && st == LD_OK; k++) {
            cJSON *nd = json_ndarray(samples[i].items[k].t, &st);
            if (nd) cJSON_AddItemToObject(d, samples[i].items[k].name, nd);
        }
        cJSON_AddItemToArray(root, d);
    }
    if (st != LD_OK) { cJSON_Delete(root); return st; }
    return json_write(path, root, force);
}
