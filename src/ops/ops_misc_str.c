/*
** ops_misc_str.c — string kernels: StringNormalizer (opset 10), StringConcat, StringSplit
** and RegexFullMatch (opset 20).
**
** Strings are UTF-8, NUL-terminated char* elements of LD_STRING tensors.
**
** StringNormalizer removes the elements equal to a stop word (case-insensitively unless
** is_case_sensitive), then changes case. Case mapping is Unicode-aware through the
** thread-safe towupper_l/towlower_l of a UTF-8 locale (the `locale` attribute, else C.UTF-8;
** plain ASCII mapping if no UTF-8 locale exists). Unlike the onnx reference it does not strip
** accents (NFKD) from non-ASCII input.
**
** RegexFullMatch runs POSIX extended regular expressions (regcomp with REG_EXTENDED, byte
** oriented, C locale) after translating the common RE2 syntax: \d \w \s \D \W \S (also inside
** brackets), escaped punctuation inside brackets, (?: groups, \b \B (glibc extensions). RE2
** features with no POSIX equivalent give an LD_ERR_UNSUPPORTED error: lazy quantifiers
** (*? +? ??), inline flags (?i), named groups, \pN / \p{..} classes, \A \z, \x{...} escapes,
** and `.` matches one byte rather than one UTF-8 character.
*/
#include "ops_misc.h"

#include <ctype.h>
#include <locale.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wctype.h>

/* ---- growable byte buffer ---- */

typedef struct sbuf { char *p; size_t n, cap; bool oom; } sbuf;

static void sbuf_put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->n + n + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p) { b->oom = true; return; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void sbuf_puts(sbuf *b, const char *s) { sbuf_put(b, s, strlen(s)); }
static void sbuf_putc(sbuf *b, char c) { sbuf_put(b, &c, 1); }

/* ---- StringNormalizer ---- */

/* Decode one UTF-8 code point at s (advances *len); invalid bytes decode as themselves. */
static wint_t utf8_decode(const unsigned char *s, int *len) {
    int n = s[0] < 0x80 ? 1 : (s[0] >> 5) == 6 ? 2 : (s[0] >> 4) == 14 ? 3 : (s[0] >> 3) == 30 ? 4 : 1;
    wint_t c = n == 1 ? s[0] : s[0] & (0x3f >> (n - 1));
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) { *len = 1; return s[0]; }
        c = (c << 6) | (s[i] & 0x3f);
    }
    *len = n;
    return c;
}

static int utf8_encode(wint_t c, char *o) {
    if (c < 0x80) { o[0] = (char)c; return 1; }
    if (c < 0x800) { o[0] = (char)(0xc0 | (c >> 6)); o[1] = (char)(0x80 | (c & 0x3f)); return 2; }
    if (c < 0x10000) {
        o[0] = (char)(0xe0 | (c >> 12)); o[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        o[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (c >> 18)); o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3f)); o[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

/* Case-map s (mode 'U' upper, 'L' lower) into a new string; loc may be (locale_t)0. */
static char *str_case(const char *s, char mode, locale_t loc) {
    sbuf b = {0};
    sbuf_put(&b, "", 0);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        int len;
        wint_t c = utf8_decode(p, &len);
        bool raw = c == p[0] && p[0] >= 0x80;   // undecodable byte: keep
        char out[4];
        if (raw) { sbuf_put(&b, (const char *)p, 1); p += len; continue; }
        if (loc) c = mode == 'U' ? towupper_l(c, loc) : towlower_l(c, loc);
        else if (c < 0x80) c = mode == 'U' ? (wint_t)toupper((int)c) : (wint_t)tolower((int)c);
        sbuf_put(&b, out, utf8_encode(c, out));
        p += len;
    }
    if (b.oom) { free(b.p); return NULL; }
    return b.p;
}

static locale_t strnorm_locale(const char *name) {
    char buf[128];
    locale_t loc = (locale_t)0;
    if (name && *name && strlen(name) < 100) {
        snprintf(buf, sizeof buf, "%s.UTF-8", name);
        loc = newlocale(LC_CTYPE_MASK, buf, (locale_t)0);
        if (!loc && strchr(name, '.')) loc = newlocale(LC_CTYPE_MASK, name, (locale_t)0);
    }
    if (!loc) loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    return loc;
}

/* Whether s is one of the stop words (sw are pre-lowered when !cs). */
static bool strnorm_is_stop(const char *s, char **sw, int nsw, bool cs, locale_t loc) {
    if (!nsw) return false;
    char *low = cs ? NULL : str_case(s, 'L', loc);
    const char *cmp = cs ? s : low ? low : s;
    bool hit = false;
    for (int i = 0; i < nsw && !hit; i++) hit = !strcmp(cmp, sw[i]);
    free(low);
    return hit;
}

ld_status ld_misc_strnorm_shape(ld_kctx *k) { return LD_DYNAMIC; }

typedef struct strnorm_cfg { char mode; bool cs; char **sw; int nsw; locale_t loc; } strnorm_cfg;

static ld_status strnorm_cfg_read(ld_kctx *k, strnorm_cfg *c) {
    const char *act = ld_attr_str(k->node, "case_change_action", "NONE");
    c->mode = !strcmp(act, "UPPER") ? 'U' : !strcmp(act, "LOWER") ? 'L' : !strcmp(act, "NONE") ? 0 : '?';
    if (c->mode == '?')
        return ld_error(LD_ERR_DATA, "StringNormalizer: unknown case_change_action '%s'", act);
    c->cs = ld_attr_int(k->node, "is_case_sensitive", 0) != 0;
    c->loc = strnorm_locale(ld_attr_str(k->node, "locale", NULL));
    const ld_attr *a = ld_node_attr(k->node, "stopwords");
    c->nsw = a && a->type == LD_ATTR_STRINGS ? a->n : 0;
    c->sw = calloc(c->nsw + 1, sizeof(char *));
    if (!c->sw) return ld_oom();
    for (int i = 0; i < c->nsw; i++) {
        c->sw[i] = c->cs ? ld_strdup(a->strings[i]) : str_case(a->strings[i], 'L', c->loc);
        if (!c->sw[i]) return ld_oom();
    }
    return LD_OK;
}

static void strnorm_cfg_free(strnorm_cfg *c) {
    for (int i = 0; c->sw && i < c->nsw; i++) free(c->sw[i]);
    free(c->sw);
    if (c->loc) freelocale(c->loc);
}

static ld_status strnorm_run(ld_kctx *k, const strnorm_cfg *c) {
    const ld_tensor *x = k->in[0];
    int64_t n = x->numel, kept = 0;
    int64_t *keep = malloc(sizeof(int64_t) * (n ? n : 1));
    if (!keep) return ld_oom();
    for (int64_t i = 0; i < n; i++)
        if (!strnorm_is_stop(ld_misc_str_at(x, i), c->sw, c->nsw, c->cs, c->loc)) keep[kept++] = i;
    int64_t od[2] = {1, kept ? kept : 1};   // everything removed: a single empty string
    ld_status st = x->ndim == 2 ? ld_tensor_alloc(k->out[0], LD_STRING, 2, od)
                                : ld_tensor_alloc(k->out[0], LD_STRING, 1, od + 1);
    for (int64_t i = 0; st == LD_OK && i < od[1]; i++) {
        const char *s = kept ? ld_misc_str_at(x, keep[i]) : "";
        char *v = c->mode ? str_case(s, c->mode, c->loc) : ld_strdup(s);
        if (!v) st = ld_oom();
        else ((char **)k->out[0]->data)[i] = v;
    }
    free(keep);
    return st;
}

ld_status ld_misc_strnorm_compute(ld_kctx *k) {
    LD_TRY(ld_misc_need(k, 1));
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_STRING)));
    const ld_tensor *x = k->in[0];
    if (!(x->ndim == 1 || (x->ndim == 2 && x->dims[0] == 1)))
        return ld_error(LD_ERR_DATA, "StringNormalizer: input must be (C) or (1, C)");
    strnorm_cfg c = {0};
    ld_status st = strnorm_cfg_read(k, &c);
    if (st == LD_OK) st = strnorm_run(k, &c);
    strnorm_cfg_free(&c);
    return st;
}

/* ---- StringConcat ---- */

ld_status ld_misc_strconcat_shape(ld_kctx *k) {
    LD_TRY(ld_misc_need(k, 2));
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_STRING)));
    LD_TRY(ld_check_dtype(k, 1, LD_DT(LD_STRING)));
    int nd;
    int64_t od[LD_MAX_DIMS];
    LD_TRY(ld_broadcast_dims(k->in[0]->ndim, k->in[0]->dims, k->in[1]->ndim, k->in[1]->dims, &nd, od));
    return ld_tensor_set_shape(k->out[0], LD_STRING, nd, od);
}

ld_status ld_misc_strconcat_compute(ld_kctx *k) {
    ld_tensor *y = k->out[0];
    int nd = y->ndim;
    int64_t sa[LD_MAX_DIMS], sb[LD_MAX_DIMS], idx[LD_MAX_DIMS] = {0};
    ld_broadcast_strides(k->in[0], nd, y->dims, sa);
    ld_broadcast_strides(k->in[1], nd, y->dims, sb);
    int64_t ia = 0, ib = 0;
    for (int64_t i = 0; i < y->numel; i++) {
        const char *a = ld_misc_str_at(k->in[0], ia), *b = ld_misc_str_at(k->in[1], ib);
        size_t la = strlen(a), lb = strlen(b);
        char *s = malloc(la + lb + 1);
        if (!s) return ld_oom();
        memcpy(s, a, la);
        memcpy(s + la, b, lb + 1);
        ((char **)y->data)[i] = s;
        for (int d = nd - 1; d >= 0; d--) {   // advance the multi-index (odometer)
            ia += sa[d];
            ib += sb[d];
            if (++idx[d] < y->dims[d]) break;
            ia -= sa[d] * y->dims[d];
            ib -= sb[d] * y->dims[d];
            idx[d] = 0;
        }
    }
    return LD_OK;
}

/* ---- StringSplit ---- */

ld_status ld_misc_strsplit_shape(ld_kctx *k) { return LD_DYNAMIC; }

/* Python str.split whitespace (ASCII part). */
static bool py_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f); }

/* Pieces of s split like Python's str.split(sep or None, maxsplit): start/length pairs
 * appended to *parts (grown as needed). Returns the count, or -1 on out of memory. */
static int64_t split_one(const char *s, const char *sep, int64_t maxsplit, int64_t **parts, int64_t *cap) {
    int64_t n = 0;
    size_t len = strlen(s), ls = sep ? strlen(sep) : 0;
    size_t pos = 0;
    for (;;) {
        if (2 * n + 2 > *cap) {
            int64_t c = *cap * 2 + 16, *p = realloc(*parts, sizeof(int64_t) * c);
            if (!p) return -1;
            *parts = p;
            *cap = c;
        }
        if (!sep) {
            while (pos < len && py_space((unsigned char)s[pos])) pos++;
            if (pos >= len) return n;
            size_t e = pos;
            if (maxsplit >= 0 && n >= maxsplit) e = len;   // the rest, trailing spaces kept
            else while (e < len && !py_space((unsigned char)s[e])) e++;
            (*parts)[2 * n] = (int64_t)pos;
            (*parts)[2 * n + 1] = (int64_t)(e - pos);
            n++;
            pos = e;
            continue;
        }
        const char *hit = (maxsplit >= 0 && n >= maxsplit) ? NULL : strstr(s + pos, sep);
        size_t e = hit ? (size_t)(hit - s) : len;
        (*parts)[2 * n] = (int64_t)pos;
        (*parts)[2 * n + 1] = (int64_t)(e - pos);
        n++;
        if (!hit) return n;
        pos = e + ls;
    }
}

typedef struct split_res { int64_t *parts, *count, *first; int64_t total, width; } split_res;

static ld_status split_all(const ld_tensor *x, const char *sep, int64_t maxsplit, split_res *r) {
    int64_t cap = 0;
    r->count = malloc(sizeof(int64_t) * (x->numel + 1));
    r->first = malloc(sizeof(int64_t) * (x->numel + 1));
    if (!r->count || !r->first) return ld_oom();
    for (int64_t i = 0; i < x->numel; i++) {
        int64_t *tmp = NULL, tcap = 0;
        int64_t c = split_one(ld_misc_str_at(x, i), sep, maxsplit, &tmp, &tcap);
        if (c < 0) { free(tmp); return ld_oom(); }
        if (2 * (r->total + c) > cap) {
            int64_t nc = 2 * (r->total + c) * 2 + 16, *p = realloc(r->parts, sizeof(int64_t) * nc);
            if (!p) { free(tmp); return ld_oom(); }
            r->parts = p;
            cap = nc;
        }
        if (c) memcpy(r->parts + 2 * r->total, tmp, sizeof(int64_t) * 2 * c);
        free(tmp);
        r->first[i] = r->total;
        r->count[i] = c;
        r->total += c;
        r->width = LD_MAX(r->width, c);
    }
    return LD_OK;
}

static ld_status split_write(ld_kctx *k, const split_res *r) {
    const ld_tensor *x = k->in[0];
    if (x->ndim + 1 > LD_MAX_DIMS) return ld_error(LD_ERR_UNSUPPORTED, "StringSplit: rank too large");
    int64_t od[LD_MAX_DIMS];
    memcpy(od, x->dims, sizeof(int64_t) * x->ndim);
    od[x->ndim] = r->width;   // X.shape + (max pieces,)
    LD_TRY(ld_tensor_alloc(k->out[0], LD_STRING, x->ndim + 1, od));
    char **y = k->out[0]->data;
    for (int64_t i = 0; i < x->numel; i++) {
        const char *s = ld_misc_str_at(x, i);
        for (int64_t j = 0; j < r->width; j++) {
            const int64_t *p = r->parts + 2 * (r->first[i] + j);
            y[i * r->width + j] = j < r->count[i] ? ld_strndup(s + p[0], (size_t)p[1]) : ld_strdup("");
            if (!y[i * r->width + j]) return ld_oom();
        }
    }
    if (LD_HAS_OUT(k, 1)) {
        LD_TRY(ld_tensor_alloc(k->out[1], LD_I64, x->ndim, x->dims));
        if (x->numel) memcpy(k->out[1]->data, r->count, sizeof(int64_t) * x->numel);
    }
    return LD_OK;
}

ld_status ld_misc_strsplit_compute(ld_kctx *k) {
    LD_TRY(ld_misc_need(k, 1));
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_STRING)));
    const char *sep = ld_attr_str(k->node, "delimiter", NULL);
    if (sep && !*sep) sep = NULL;   // empty delimiter: split on runs of whitespace
    const ld_attr *ms = ld_node_attr(k->node, "maxsplit");
    int64_t maxsplit = ms ? ms->i : -1;
    split_res r = {0};
    ld_status st = split_all(k->in[0], sep, maxsplit, &r);
    if (st == LD_OK) st = split_write(k, &r);
    free(r.parts);
    free(r.count);
    free(r.first);
    return st;
}

/* ---- RegexFullMatch ---- */

static const char *re_class(char c, bool *neg) {
    *neg = c == 'D' || c == 'W' || c == 'S';
    switch (tolower((unsigned char)c)) {
    case 'd': return "[:digit:]";
    case 'w': return "[:alnum:]_";
    case 's': return "[:space:]";
    default: return NULL;
    }
}

/* Translate a bracket expression starting at p[i] == '['; appends to b, returns the index
 * after the closing ']', or -1 with *st set. */
static int re_bracket(const char *p, int i, sbuf *b, ld_status *st) {
    sbuf items = {0};
    bool dash = false, close = false, caret = false;
    sbuf_put(&items, "", 0);
    i++;
    bool neg_set = p[i] == '^';
    if (neg_set) i++;
    for (bool first = true; p[i] && (first || p[i] != ']'); first = false) {
        char c = p[i];
        if (c == '\\' && p[i + 1]) {
            bool neg;
            const char *cls = re_class(p[i + 1], &neg);
            if (cls && neg) {
                free(items.p);
                *st = ld_error(LD_ERR_UNSUPPORTED, "RegexFullMatch: negated class \\%c inside [...] "
                               "is not supported", p[i + 1]);
                return -1;
            }
            if (cls) sbuf_puts(&items, cls);
            else if (p[i + 1] == '-') dash = true;
            else if (p[i + 1] == ']') close = true;
            else if (p[i + 1] == '^') caret = true;
            else if (strchr("nrtfv", p[i + 1])) sbuf_putc(&items, "\n\r\t\f\v"[strchr("nrtfv", p[i + 1]) - "nrtfv"]);
            else if (isalnum((unsigned char)p[i + 1])) {
                free(items.p);
                *st = ld_error(LD_ERR_UNSUPPORTED, "RegexFullMatch: escape \\%c inside [...] is not "
                               "supported", p[i + 1]);
                return -1;
            }
            else sbuf_putc(&items, p[i + 1]);
            i += 2;
        } else if (c == '[' && p[i + 1] == ':') {
            const char *e = strstr(p + i, ":]");
            if (!e) break;
            sbuf_put(&items, p + i, (size_t)(e + 2 - (p + i)));
            i = (int)(e + 2 - p);
        } else {
            if (c == ']') close = true;
            else if (c == '-' && (first || p[i + 1] == ']')) dash = true;
            else if (c == '^') caret = true;
            else sbuf_putc(&items, c);
            i++;
        }
    }
    if (p[i] != ']') {
        free(items.p);
        *st = ld_error(LD_ERR_DATA, "RegexFullMatch: unterminated [ in pattern");
        return -1;
    }
    // POSIX placement: ']' first, '^' not first, '-' last
    sbuf_puts(b, neg_set ? "[^" : "[");
    if (close) sbuf_putc(b, ']');
    sbuf_puts(b, items.p ? items.p : "");
    if (caret) sbuf_putc(b, '^');
    if (dash) sbuf_putc(b, '-');
    sbuf_putc(b, ']');
    bool oom = items.oom;
    free(items.p);
    if (oom) { *st = ld_oom(); return -1; }
    return i + 1;
}

/* Translate one backslash escape at p[i] (p[i] == '\\'); returns the next index, or -1 with
 * *st set. */
static int re_escape(const char *p, int i, sbuf *b, ld_status *st) {
    char c = p[i + 1];
    bool neg;
    const char *cls = re_class(c, &neg);
    if (!c) { *st = ld_error(LD_ERR_DATA, "RegexFullMatch: pattern ends with a backslash"); return -1; }
    if (cls) {
        sbuf_puts(b, neg ? "[^" : "[");
        sbuf_puts(b, cls);
        sbuf_putc(b, ']');
    } else if (c == 'b' || c == 'B') {
        sbuf_putc(b, '\\');
        sbuf_putc(b, c);
    } else if (strchr("nrtfv", c)) {
        sbuf_putc(b, "\n\r\t\f\v"[strchr("nrtfv", c) - "nrtfv"]);
    } else if (isalnum((unsigned char)c)) {
        *st = ld_error(LD_ERR_UNSUPPORTED, "RegexFullMatch: RE2 escape \\%c has no POSIX equivalent", c);
        return -1;
    } else {
        sbuf_putc(b, '\\');
        sbuf_putc(b, c);
    }
    return i + 2;
}

/* RE2 pattern -> anchored POSIX ERE "^(...)$" (caller frees *out). */
static ld_status re_translate(const char *p, char **out) {
    sbuf b = {0};
    sbuf_puts(&b, "^(");
    ld_status st = LD_OK;
    for (int i = 0; p[i];) {
        char c = p[i];
        int next;
        if (c == '\\') next = re_escape(p, i, &b, &st);
        else if (c == '[') next = re_bracket(p, i, &b, &st);
        else if (c == '(' && p[i + 1] == '?') {
            if (p[i + 2] != ':') {
                free(b.p);
                return ld_error(LD_ERR_UNSUPPORTED, "RegexFullMatch: RE2 group syntax '(?%c' is not "
                                "supported", p[i + 2]);
            }
            sbuf_putc(&b, '(');
            next = i + 3;
        } else if ((c == '*' || c == '+' || c == '?' || c == '}') && p[i + 1] == '?') {
            free(b.p);
            return ld_error(LD_ERR_UNSUPPORTED, "RegexFullMatch: lazy quantifiers are not supported");
        } else {
            sbuf_putc(&b, c);
            next = i + 1;
        }
        if (next < 0) { free(b.p); return st; }
        i = next;
    }
    sbuf_puts(&b, ")$");
    if (b.oom) { free(b.p); return ld_oom(); }
    *out = b.p;
    return LD_OK;
}

static ld_status regex_compile(ld_kctx *k, regex_t *re) {
    const char *pat = ld_attr_str(k->node, "pattern", NULL);
    if (!pat) return ld_error(LD_ERR_DATA, "RegexFullMatch: missing 'pattern' attribute");
    char *ere = NULL;
    LD_TRY(re_translate(pat, &ere));
    int rc = regcomp(re, ere, REG_EXTENDED | REG_NOSUB);
    free(ere);
    if (rc) {
        char msg[256];
        regerror(rc, re, msg, sizeof msg);
        return ld_error(LD_ERR_DATA, "RegexFullMatch: cannot compile pattern '%s': %s", pat, msg);
    }
    return LD_OK;
}

ld_status ld_misc_regex_shape(ld_kctx *k) {
    LD_TRY(ld_misc_need(k, 1));
    LD_TRY(ld_check_dtype(k, 0, LD_DT(LD_STRING)));
    return ld_tensor_set_shape(k->out[0], LD_BOOL, k->in[0]->ndim, k->in[0]->dims);
}

ld_status ld_misc_regex_compute(ld_kctx *k) {
    regex_t re;
    LD_TRY(regex_compile(k, &re));
    const ld_tensor *x = k->in[0];
    uint8_t *y = k->out[0]->data;
    for (int64_t i = 0; i < x->numel; i++) y[i] = regexec(&re, ld_misc_str_at(x, i), 0, NULL, 0) == 0;
    regfree(&re);
    return LD_OK;
}
