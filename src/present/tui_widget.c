/*
** tui_widget.c — the browser's drawing helpers (clipped text that is safe in any locale, name
** abbreviation, sparkline glyphs with an ASCII fallback), the footer prompt, the pop-up menu
** and background jobs with a progress line.
*/
#include "tui.h"

#include <curses.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool utf8_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

int tui_strcols(const char *s) {
    int n = 0;
    for (; *s; s++) n += !utf8_cont((unsigned char)*s);
    return n;
}


void tui_put(const tui_app *a, int y, int x, int w, const char *s, bool pad) {
    char buf[2048];
    size_t b = 0;
    int cols = 0;
    const unsigned char *p = (const unsigned char *)s;
    if (w <= 0) return;
    while (*p && cols < w && b + 8 < sizeof buf) {
        if (*p < 0x80) {
            buf[b++] = *p < 0x20 || *p == 0x7f ? '?' : (char)*p;
            p++;
        } else {
            int len = *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC0 ? 2 : 1;
            bool ok = len > 1 && a->utf8;
            for (int k = 1; ok && k < len; k++) ok = utf8_cont(p[k]);
            if (ok) {
                memcpy(buf + b, p, (size_t)len);
                b += (size_t)len;
                p += len;
            } else {
                buf[b++] = '?';
                p++;
                while (utf8_cont(*p)) p++;
            }
        }
        cols++;
    }
    while (pad && cols < w && b + 1 < sizeof buf) { buf[b++] = ' '; cols++; }
    buf[b] = 0;
    mvaddstr(y, x, buf);
}

/* The last w columns of s. */
static const char *tail_cols(const char *s, int w) {
    const char *p = s + strlen(s);
    while (p > s && w > 0) {
        p--;
        if (!utf8_cont((unsigned char)*p)) w--;
    }
    return p;
}

/* PyTorch exports repeat a module's name in its children ("/enc/enc.0/m/m.2/MatMul"): drop a
 * path component when the next one extends it ("enc.0/m.2/MatMul"). */
static void squeeze_path(const char *s, char *out, size_t n) {
    size_t o = 0;
    const char *p = s;
    while (*p == '/') p++;
    while (*p && o + 1 < n) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        const char *nx = e ? e + 1 : NULL;
        bool redundant = nx && len > 0 && !strncmp(nx, p, len) && (nx[len] == '.' || nx[len] == '_');
        if (!redundant) {
            if (o && o + 1 < n) out[o++] = '/';
            for (size_t k = 0; k < len && o + 1 < n; k++) out[o++] = p[k];
        }
        if (!e) break;
        p = e + 1;
    }
    out[o] = 0;
}

void tui_abbrev(const tui_app *a, const char *s, int w, char *out, size_t n) {
    const char *ell = a->utf8 ? "\xe2\x80\xa6" : "~";
    char sq[1024];
    if (n == 0) return;
    squeeze_path(s, sq, sizeof sq);
    if (!sq[0]) snprintf(sq, sizeof sq, "%s", s);
    if (tui_strcols(sq) <= w) { snprintf(out, n, "%s", sq); return; }
    if (w < 2) { snprintf(out, n, "%s", tail_cols(sq, w)); return; }
    /* keep the first path component ("blocks.0") when it leaves room for a useful tail */
    const char *slash = strchr(sq, '/');
    int head = slash ? (int)(slash - sq) : 0;
    if (head > 0 && head <= w / 2 && w - head - 1 >= 8) {
        snprintf(out, n, "%.*s%s%s", head, sq, ell, tail_cols(sq, w - head - 1));
        return;
    }
    snprintf(out, n, "%s%s", ell, tail_cols(sq, w - 1));
}

const char *tui_glyph(const tui_app *a, int level) {
    static const char *const uni[] = {" ", "\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
                                      "\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88"};
    static const char *const asc[] = {" ", "_", ".", "-", ":", "=", "+", "*", "#"};
    if (level < 0) level = 0;
    if (level > 8) level = 8;
    return a->utf8 ? uni[level] : asc[level];
}

/* ---- prompt ---- */

static bool is_enter(int ch) { return ch == '\n' || ch == '\r' || ch == KEY_ENTER; }

bool tui_prompt(tui_app *a, const char *label, char *buf, size_t n,
                void (*on_change)(tui_app *a, const char *text)) {
    size_t len = strlen(buf);
    bool done = false, ok = false;
    curs_set(1);
    while (!done) {
        tui_redraw(a);
        int y = a->height - 1, lw = tui_strcols(label);
        attrset(A_NORMAL);
        move(y, 0);
        clrtoeol();
        tui_put(a, y, 0, a->width, label, false);
        /* the end of the text when it is longer than the line */
        int room = a->width - lw - 1;
        const char *shown = tui_strcols(buf) > room ? tail_cols(buf, room) : buf;
        tui_put(a, y, lw, room, shown, false);
        move(y, lw + tui_strcols(shown));
        refresh();
        int ch = getch();
        if (ch == ERR || ch == KEY_RESIZE) continue;
        if (is_enter(ch)) { ok = done = true; }
        else if (ch == 27 || ch == 7) { done = true; }   /* Esc, Ctrl-G */
        else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
            if (len == 0) { done = true; continue; }  /* backspace on empty cancels, like less */
            do len--; while (len > 0 && utf8_cont((unsigned char)buf[len]));
            buf[len] = 0;
        } else if (ch == 21) { len = 0; buf[0] = 0; }   /* Ctrl-U */
        else if (ch == 23) {                              /* Ctrl-W */
            while (len > 0 && buf[len - 1] == ' ') len--;
            while (len > 0 && buf[len - 1] != ' ' && buf[len - 1] != '/') len--;
            buf[len] = 0;
        } else if (ch >= 32 && ch < 256 && ch != 127 && len + 1 < n) {
            buf[len++] = (char)ch;
            buf[len] = 0;
        } else continue;
        if (!done && on_change) on_change(a, buf);
    }
    curs_set(0);
    return ok;
}

/* ---- menu ---- */

int tui_menu(tui_app *a, const char *title, const char *const *items, int n, int sel) {
    int top = 0;
    if (n <= 0) return -1;
    if (sel < 0 || sel >= n) sel = 0;
    for (;;) {
        tui_redraw(a);
        int w = tui_strcols(title) + 4;
        for (int i = 0; i < n; i++) w = LD_MAX(w, tui_strcols(items[i]) + 4);
        w = LD_MIN(w, a->width - 4);
        int h = LD_MIN(n, a->height - 6) + 2;
        int y0 = (a->height - h) / 2, x0 = (a->width - w) / 2, body = h - 2;
        if (sel < top) top = sel;
        if (sel >= top + body) top = sel - body + 1;
        attrset(A_NORMAL);
        for (int y = y0; y < y0 + h; y++) mvhline(y, x0, ' ', w);
        mvhline(y0, x0 + 1, ACS_HLINE, w - 2);
        mvhline(y0 + h - 1, x0 + 1, ACS_HLINE, w - 2);
        mvvline(y0 + 1, x0, ACS_VLINE, h - 2);
        mvvline(y0 + 1, x0 + w - 1, ACS_VLINE, h - 2);
        mvaddch(y0, x0, ACS_ULCORNER);
        mvaddch(y0, x0 + w - 1, ACS_URCORNER);
        mvaddch(y0 + h - 1, x0, ACS_LLCORNER);
        mvaddch(y0 + h - 1, x0 + w - 1, ACS_LRCORNER);
        attrset(tui_attr(a, TUI_R_HEAD));
        tui_put(a, y0, x0 + 2, w - 4, title, false);
        for (int i = 0; i < body && top + i < n; i++) {
            attrset(top + i == sel ? tui_attr(a, TUI_R_SEL) : A_NORMAL);
            tui_put(a, y0 + 1 + i, x0 + 1, w - 2, "", true);
            tui_put(a, y0 + 1 + i, x0 + 2, w - 4, items[top + i], true);
        }
        attrset(A_NORMAL);
        refresh();
        int ch = getch();
        if (ch == 'j' || ch == KEY_DOWN) sel = LD_MIN(sel + 1, n - 1);
        else if (ch == 'k' || ch == KEY_UP) sel = LD_MAX(sel - 1, 0);
        else if (ch == KEY_NPAGE) sel = LD_MIN(sel + body, n - 1);
        else if (ch == KEY_PPAGE) sel = LD_MAX(sel - body, 0);
        else if (ch == 'g' || ch == KEY_HOME) sel = 0;
        else if (ch == 'G' || ch == KEY_END) sel = n - 1;
        else if (is_enter(ch)) return sel;
        else if (ch == 27 || ch == 'q') return -1;
        else if (ch > ' ' && ch < 127) {   /* jump to the next item starting with that letter */
            for (int k = 1; k <= n; k++) {
                const char *it = items[(sel + k) % n];
                if ((it[0] | 32) == (ch | 32)) { sel = (sel + k) % n; break; }
            }
        }
    }
}

/* ---- background jobs ---- */

typedef struct job {
    ld_status (*fn)(void *arg);
    void *arg;
    ld_status st;
    char msg[4096];
    int done;
} job;

static void *job_main(void *p) {
    job *j = p;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);   /* signals go to the screen thread */
    ld_threads_set(ld_nthreads);              /* OpenMP thread counts are per thread */
    j->st = j->fn(j->arg);
    if (j->st != LD_OK) snprintf(j->msg, sizeof j->msg, "%s", ld_err_msg());
    __atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* The running job's progress (one job at a time): written by the worker through
 * tui_progress(), read by the screen thread. */
static struct {
    pthread_mutex_t mu;
    char msg[512];
    double frac;    /* done/total of the last step, or -1 */
} prog = {PTHREAD_MUTEX_INITIALIZER, "", -1};

static void progress_fn(void *user, const char *msg, int64_t done, int64_t total) {
    (void)user;
    pthread_mutex_lock(&prog.mu);
    snprintf(prog.msg, sizeof prog.msg, "%s", msg ? msg : "");
    prog.frac = msg && total > 0 ? (double)done / (double)total : -1;
    pthread_mutex_unlock(&prog.mu);
}

ld_progress tui_progress(tui_app *a) {
    return (ld_progress){progress_fn, a};
}

ld_status tui_job(tui_app *a, const char *label, ld_status (*fn)(void *arg), void *arg) {
    job *j = calloc(1, sizeof *j);
    if (!j) return ld_oom();
    j->fn = fn;
    j->arg = arg;
    pthread_t th;
    progress_fn(NULL, NULL, 0, 0);   /* forget the last job's progress */
    if (pthread_create(&th, NULL, job_main, j) != 0) {
        ld_status st = fn(arg);   /* no thread: run here without progress */
        free(j);
        return st;
    }
    double t0 = ld_now_sec();
    static const char spin[] = "|/-\\";
    int tick = 0;
    timeout(100);
    while (!__atomic_load_n(&j->done, __ATOMIC_ACQUIRE)) {
        char shown[512];
        pthread_mutex_lock(&prog.mu);
        snprintf(shown, sizeof shown, "%s", prog.msg);
        double f = prog.frac;
        pthread_mutex_unlock(&prog.mu);
        tui_redraw(a);
        char line[1024];
        int y = a->height - 1;
        char bar[64] = "";
        if (f >= 0) {
            int filled = (int)(f * 20 + 0.5);
            snprintf(bar, sizeof bar, "[%.*s%.*s] ", filled, "####################", 20 - filled, "....................");
        }
        /* "layerdiff: sample 1: node 50/313", "autopin: try 5: ..." without the program's prefix */
        const char *txt = shown;
        if (!strncmp(txt, "layerdiff: ", 11)) txt += 11;
        else if (!strncmp(txt, "autopin: ", 9)) txt += 9;
        snprintf(line, sizeof line, " %c %s (%.0f s) %s%s", spin[tick++ % 4], label, ld_now_sec() - t0, bar, txt);
        attrset(tui_attr(a, TUI_R_TITLE));
        tui_put(a, y, 0, a->width, line, true);
        attrset(A_NORMAL);
        refresh();
        getch();   /* keys wait; resizes redraw on the next turn */
    }
    timeout(-1);
    pthread_join(th, NULL);
    flushinp();
    ld_status st = j->st;
    if (st != LD_OK) ld_error(st, "%s", j->msg);
    free(j);
    return st;
}
