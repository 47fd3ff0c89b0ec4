/*
** tui.c — terminal setup and teardown for the browser, and the view loop.
**
** The terminal is restored on every way out: tui_stop() on the normal path, an atexit
** handler, and handlers for SIGINT/SIGTERM/SIGHUP/SIGQUIT and crashes that call endwin(),
** put stderr back and re-raise the signal with its default action. While the screen is ours,
** stderr goes to an unlinked temporary file (library warnings would scribble over the screen);
** what was written is printed after the screen is given back. Background jobs report progress
** through tui_progress() (tui_widget.c), not stderr.
*/
#include "tui.h"

#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t active;     /* the screen is ours */
static int saved_stderr = -1;            /* the real stderr while it is captured */
static int capture_fd = -1;
static SCREEN *screen;
static bool atexit_done;
static const int fatal_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGFPE, SIGABRT, SIGILL};
static struct sigaction old_actions[LD_ARRAY_LEN(fatal_signals)];

/* Give the terminal and stderr back. Called from signal handlers too: endwin() is what every
 * curses program does there; dup2 and sigaction are async-signal-safe. */
static void restore_terminal(void) {
    if (active) {
        active = 0;
        endwin();
    }
    if (saved_stderr >= 0) {
        dup2(saved_stderr, 2);
    }
}

static void on_signal(int sig) {
    restore_terminal();
    for (size_t i = 0; i < LD_ARRAY_LEN(fatal_signals); i++)
        if (fatal_signals[i] == sig) sigaction(sig, &old_actions[i], NULL);
    raise(sig);
}

static void on_exit_restore(void) { restore_terminal(); }

static void capture_start(void) {
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/layerdiff-browse-XXXXXX", dir && *dir ? dir : "/tmp");
    fflush(stderr);
    int fd = mkstemp(path);
    if (fd < 0) return;                  /* not fatal: stderr simply stays where it is */
    unlink(path);
    saved_stderr = dup(2);
    if (saved_stderr < 0 || dup2(fd, 2) < 0) {
        if (saved_stderr >= 0) close(saved_stderr);
        saved_stderr = -1;
        close(fd);
        return;
    }
    capture_fd = fd;
}

/* Print what was captured, as a terminal would have shown it (the text after the last \r of
 * each line). */
static void capture_flush(void) {
    if (capture_fd < 0) return;
    off_t end = lseek(capture_fd, 0, SEEK_END);
    char *buf = end > 0 && end < (64 << 20) ? malloc((size_t)end + 1) : NULL;
    ssize_t n = buf ? pread(capture_fd, buf, (size_t)end, 0) : 0;
    if (buf && n > 0) {
        buf[n] = 0;
        for (char *line = buf, *nl; line && *line; line = nl) {
            nl = strchr(line, '\n');
            if (nl) *nl++ = 0;
            char *cr = strrchr(line, '\r');
            if (cr) line = cr + 1;
            char *esc = strstr(line, "\033[K");
            if (esc) *esc = 0;
            if (!*line) continue;
            fprintf(stderr, "%s\n", line);
        }
    }
    free(buf);
    close(capture_fd);
    capture_fd = -1;
}

static void colors_init(tui_app *a, bool mono) {
    a->color = !mono && has_colors();
    if (!a->color) return;
    start_color();
    use_default_colors();
    init_pair(1, COLOR_BLACK, COLOR_CYAN);    /* title */
    init_pair(2, COLOR_RED, -1);              /* isolated fail */
    init_pair(3, COLOR_MAGENTA, -1);          /* propagated fail */
    init_pair(4, COLOR_YELLOW, -1);           /* warning */
    init_pair(5, COLOR_GREEN, -1);            /* ok */
    init_pair(6, COLOR_CYAN, -1);             /* links, keys */
    init_pair(7, COLOR_WHITE, COLOR_RED);     /* errors */
}

int tui_attr(const tui_app *a, tui_role r) {
    if (!a->color) {
        static const int mono[TUI_R_COUNT] = {
            [TUI_R_TITLE] = A_REVERSE, [TUI_R_HEAD] = A_BOLD | A_UNDERLINE, [TUI_R_ISO] = A_BOLD,
            [TUI_R_PROP] = A_UNDERLINE, [TUI_R_NONE] = A_DIM, [TUI_R_SEL] = A_REVERSE, [TUI_R_KEY] = A_BOLD,
            [TUI_R_ERR] = A_BOLD | A_REVERSE, [TUI_R_FIRST] = A_BOLD, [TUI_R_LINK] = A_UNDERLINE,
        };
        return mono[r];
    }
    switch (r) {
    case TUI_R_TITLE: return COLOR_PAIR(1);
    case TUI_R_HEAD: return A_BOLD;
    case TUI_R_ISO: return COLOR_PAIR(2) | A_BOLD;
    case TUI_R_PROP: return COLOR_PAIR(3);
    case TUI_R_WARN: return COLOR_PAIR(4);
    case TUI_R_OK: return COLOR_PAIR(5);
    case TUI_R_NONE: return A_DIM;
    case TUI_R_SEL: return A_REVERSE;
    case TUI_R_KEY: return COLOR_PAIR(6) | A_BOLD;
    case TUI_R_ERR: return COLOR_PAIR(7) | A_BOLD;
    case TUI_R_FIRST: return A_BOLD;
    case TUI_R_LINK: return COLOR_PAIR(6);
    default: return A_NORMAL;
    }
}

ld_status tui_start(tui_app *a, const tui_opts *o) {
    if (!isatty(0) || !isatty(1))
        return ld_error(LD_ERR_USAGE, "browse needs a terminal on stdin and stdout ('layerdiff compare' prints a table, "
                                      "'layerdiff plot' draws an SVG)");
    setlocale(LC_CTYPE, "");
    a->utf8 = !o->ascii && !strcmp(nl_langinfo(CODESET), "UTF-8");
    const char *nc = getenv("NO_COLOR");
    bool mono = o->mono || (nc && *nc);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < LD_ARRAY_LEN(fatal_signals); i++) {
        sigaction(fatal_signals[i], NULL, &old_actions[i]);
        if (old_actions[i].sa_handler != SIG_IGN) sigaction(fatal_signals[i], &sa, NULL);
    }
    if (!atexit_done) atexit_done = atexit(on_exit_restore) == 0;
    capture_start();
    screen = newterm(NULL, stdout, stdin);
    if (!screen) {
        tui_stop();
        const char *term = getenv("TERM");
        return ld_error(LD_ERR_UNSUPPORTED, "cannot drive this terminal (TERM=%s)", term ? term : "unset");
    }
    active = 1;
    set_escdelay(25);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    curs_set(0);
    colors_init(a, mono);
    getmaxyx(stdscr, a->height, a->width);
    return LD_OK;
}

void tui_stop(void) {
    restore_terminal();
    if (screen) {
        delscreen(screen);
        screen = NULL;
    }
    fflush(stderr);
    if (saved_stderr >= 0) {
        close(saved_stderr);
        saved_stderr = -1;
    }
    capture_flush();
    for (size_t i = 0; i < LD_ARRAY_LEN(fatal_signals); i++) sigaction(fatal_signals[i], &old_actions[i], NULL);
}

void tui_message(tui_app *a, tui_role role, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->msg, sizeof a->msg, fmt, ap);
    va_end(ap);
    a->msg_role = role;
}

void tui_push(tui_app *a, const tui_view *v) {
    if (a->depth < TUI_MAX_VIEWS) a->stack[a->depth++] = v;
}

void tui_pop(tui_app *a) {
    if (a->depth > 1) a->depth--;
    else a->quit = true;
}

#define MIN_W 40
#define MIN_H 10

void tui_redraw(tui_app *a) {
    getmaxyx(stdscr, a->height, a->width);
    erase();
    if (a->width < MIN_W || a->height < MIN_H) {
        attrset(A_NORMAL);
        mvprintw(0, 0, "terminal too small");
        mvprintw(1, 0, "(%dx%d; need %dx%d)", a->width, a->height, MIN_W, MIN_H);
        mvprintw(2, 0, "q quits");
    } else if (a->depth > 0) {
        a->stack[a->depth - 1]->draw(a);
    }
    wnoutrefresh(stdscr);
    doupdate();
}

void tui_loop(tui_app *a) {
    while (!a->quit && a->depth > 0) {
        tui_redraw(a);
        int ch = getch();
        if (ch == ERR || ch == KEY_RESIZE) continue;   /* redrawn at the new size */
        if (ch == 12) { clearok(curscr, TRUE); continue; }   /* Ctrl-L */
        if (a->width < MIN_W || a->height < MIN_H) {
            if (ch == 'q') a->quit = true;
            continue;
        }
        a->msg[0] = 0;   /* a message lasts until the next key */
        a->stack[a->depth - 1]->key(a, ch);
    }
}

/* ---- help ---- */

static const char *const help_common[] = {
    "List",
    "  j k  Down Up       move           PgDn PgUp  a screen",
    "  g G  Home End      first / last row",
    "  f                  first divergent node (again: the propagated one)",
    "  n N                next / previous failing node",
    "  /                  search names: substring or glob (* ? [); Enter on an",
    "                     empty search finds the next match",
    "  :                  go to a node index",
    "  o                  filter by op type   F  failing/flagged only   Esc  all",
    "  s                  sort: topological, isolated error, propagated error",
    "  m M                metric column: SQNR, max rel, max abs, mean abs,",
    "                     cosine, max ulp, NMSE",
    "  Enter              node details        q  quit",
    "Details",
    "  j k PgDn PgUp g G  scroll              [ ]  previous / next node",
    "  Tab, Shift-Tab     choose an input producer or a consumer; Enter goes",
    "  Backspace          back to the node before   q Esc  back to the list",
};
static const char *const help_live[] = {
    "Live mode",
    "  Space              pin / unpin the node (runs in FP32)",
    "  r                  re-run the comparison with the pins",
    "  a                  autopin: find pins that meet the default goal",
    "  w                  write the pin list and the report",
};
static const char *const help_legend[] = {
    "Rows",
    "  X  isolated comparison fails (the error starts here)",
    "  x  only the propagated comparison fails (inherited error)",
    "  !  warning: NaN/Inf/overflow/underflow/saturation, or SQNR within",
    "     6 dB of the tolerance        >  first divergent node",
    "  *  pinned to FP32   +  pinned at the next re-run   -  unpinned then",
    "  flags: N new NaN, I new Inf, O overflow, U underflow, S saturation,",
    "         s subnormal",
};

static int help_scroll;

static int help_lines(const tui_app *a, const char **out, int max) {
    int n = 0;
    for (size_t i = 0; i < LD_ARRAY_LEN(help_common) && n < max; i++) out[n++] = help_common[i];
    if (a->ops)
        for (size_t i = 0; i < LD_ARRAY_LEN(help_live) && n < max; i++) out[n++] = help_live[i];
    for (size_t i = 0; i < LD_ARRAY_LEN(help_legend) && n < max; i++) out[n++] = help_legend[i];
    return n;
}

static void help_draw(tui_app *a) {
    const char *lines[64];
    int n = help_lines(a, lines, 64), body = a->height - 2;
    if (help_scroll > n - body) help_scroll = n - body;
    if (help_scroll < 0) help_scroll = 0;
    attrset(tui_attr(a, TUI_R_TITLE));
    tui_put(a, 0, 0, a->width, a->ops ? " layerdiff browse: keys (live mode)" : " layerdiff browse: keys (report, read-only)", true);
    for (int i = 0; i < body && help_scroll + i < n; i++) {
        const char *l = lines[help_scroll + i];
        attrset(l[0] != ' ' ? tui_attr(a, TUI_R_HEAD) : A_NORMAL);
        tui_put(a, 1 + i, 0, a->width, l, false);
    }
    attrset(tui_attr(a, TUI_R_TITLE));
    tui_put(a, a->height - 1, 0, a->width, n > body ? " j/k scroll, any other key returns" : " any key returns", true);
    attrset(A_NORMAL);
}

static void help_key(tui_app *a, int ch) {
    if (ch == 'j' || ch == KEY_DOWN) help_scroll++;
    else if (ch == 'k' || ch == KEY_UP) help_scroll--;
    else if (ch == KEY_NPAGE) help_scroll += a->height - 3;
    else if (ch == KEY_PPAGE) help_scroll -= a->height - 3;
    else { help_scroll = 0; tui_pop(a); }
}

const tui_view tui_view_help = {"help", help_draw, help_key};
