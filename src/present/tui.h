/*
** tui.h — the terminal browser (`layerdiff browse`): the application state, views as structs
** of draw/key functions (list, detail, help, like tig/htop), terminal setup and teardown that
** never leaves the terminal broken (atexit and signal paths restore it), colours with a
** monochrome fallback, ASCII glyphs outside UTF-8 locales, prompts, menus and background jobs
** with progress (live mode).
*/
#ifndef LD_TUI_H
#define LD_TUI_H

#include "tui_model.h"

typedef struct tui_app tui_app;

typedef struct tui_view {
    const char *name;
    void (*draw)(tui_app *a);
    void (*key)(tui_app *a, int ch);
} tui_view;

/* Screen roles: a colour pair, or attributes on a monochrome terminal. */
typedef enum tui_role {
    TUI_R_NORMAL, TUI_R_TITLE, TUI_R_HEAD, TUI_R_ISO, TUI_R_PROP, TUI_R_WARN, TUI_R_OK, TUI_R_NONE,
    TUI_R_SEL, TUI_R_KEY, TUI_R_ERR, TUI_R_FIRST, TUI_R_LINK, TUI_R_BAR, TUI_R_COUNT
} tui_role;

typedef enum tui_sort { TUI_SORT_TOPO, TUI_SORT_ISO, TUI_SORT_PROP, TUI_SORT_COUNT } tui_sort;

/* Live mode: what the keys space, r, a and w do (cmd_browse.c). */
typedef struct tui_live_ops {
    void (*rerun)(tui_app *a);
    void (*autopin)(tui_app *a);
    void (*write)(tui_app *a);
} tui_live_ops;

#define TUI_MAX_VIEWS 8
#define TUI_HISTORY 64

struct tui_app {
    tui_report *rep;
    /* list view */
    int *rows, nrows;               /* positions in rep->nodes, in display order */
    int cur, top;                   /* cursor row, first row on screen */
    tui_sort sort;
    tui_metric metric;
    char *op_filter;                /* NULL = every op */
    bool failing_only;
    char search[256];
    int first_toggle;               /* f alternates isolated / propagated first divergent */
    /* detail view */
    int det_node, det_scroll, det_link;
    int history[TUI_HISTORY], nhistory;
    /* views */
    const tui_view *stack[TUI_MAX_VIEWS];
    int depth;
    bool quit;
    /* terminal */
    bool utf8, color;
    int width, height;
    char msg[512];
    tui_role msg_role;
    /* live mode (ops NULL when browsing a report file) */
    const tui_live_ops *ops;
    void *live;
    bool *pins;                     /* per position in rep->nodes: wanted pin state */
    bool *qpins;                    /* QDQ: per quantizer, wanted disabled state (tui_qdq.c) */
    char live_desc[256];            /* "MODEL, fp16, generated data" */
};

/* ---- tui_qdq.c: quantizers of a QDQ model ---- */
void tui_qpins_reset(tui_app *a);                          /* qpins from the report's state */
int tui_row_quants(const tui_report *r, int pos, int *out, int max);   /* the row's quantizers */
char tui_quant_col(const tui_app *a, int pos);             /* Q column: 'Q', 'q', '.' or ' ' */
bool tui_quant_mark(const tui_app *a, int pos, char *mark); /* pin mark of a quantized row */
bool tui_quant_toggle(tui_app *a, int pos);                /* false: the row has no quantizer */
int tui_quant_lines(const tui_app *a, int q, char lines[][256], int max);   /* detail text */

extern const tui_view tui_view_list, tui_view_detail, tui_view_help;

/* ---- tui.c: terminal ---- */
typedef struct tui_opts {
    bool ascii;                     /* force ASCII glyphs */
    bool mono;                      /* no colours (also NO_COLOR in the environment) */
} tui_opts;
/* Set the locale's character type, take over the terminal, capture stderr (so library
 * messages do not scribble over the screen; they are printed after tui_stop). */
ld_status tui_start(tui_app *a, const tui_opts *o);
void tui_stop(void);
/* Run the views until quit. */
void tui_loop(tui_app *a);
void tui_push(tui_app *a, const tui_view *v);
void tui_pop(tui_app *a);
void tui_redraw(tui_app *a);
void tui_message(tui_app *a, tui_role role, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- tui_widget.c: drawing helpers, prompt, menu, jobs ---- */
int tui_attr(const tui_app *a, tui_role r);
/* Put text at (y, x) in at most w columns, padding with blanks when pad. */
void tui_put(const tui_app *a, int y, int x, int w, const char *s, bool pad);
/* Columns of s (UTF-8 continuation bytes take none). */
int tui_strcols(const char *s);
/* A node name in w columns: without the leading '/' and repeated module names ("/enc/enc.0/m/m.2/
 * MatMul" -> "enc.0/m.2/MatMul"), then the first path part and the tail ("enc.0~/MatMul_1"). */
void tui_abbrev(const tui_app *a, const char *s, int w, char *out, size_t n);
/* Sparkline glyph for level 0 (blank) .. 8. */
const char *tui_glyph(const tui_app *a, int level);
/* A line editor in the footer. on_change (may be NULL) sees the text after every edit.
 * True on Enter, false on Esc. */
bool tui_prompt(tui_app *a, const char *label, char *buf, size_t n,
                void (*on_change)(tui_app *a, const char *text));
/* A pop-up list; returns the chosen index or -1. */
int tui_menu(tui_app *a, const char *title, const char *const *items, int n, int sel);
/* Run fn(arg) on a worker thread, showing `label` and the progress the worker reports through
 * tui_progress() until it returns. The worker's error message is carried back. */
ld_status tui_job(tui_app *a, const char *label, ld_status (*fn)(void *arg), void *arg);
/* The progress sink of tui_job's worker (give it to ld_compare_opts / ld_autopin_opts). */
ld_progress tui_progress(tui_app *a);

/* ---- tui_main.c: the list ---- */
/* Rebuild the visible rows (filter, sort) keeping the cursor on the same node if possible. */
void tui_list_rebuild(tui_app *a);
/* Put the cursor on node position pos (clears filters that hide it). */
void tui_list_goto(tui_app *a, int pos);
/* Cursor on the first divergent node, if any. */
void tui_list_start(tui_app *a);
/* Replace the report (live re-run), keeping the selection. Takes ownership of r. */
void tui_app_set_report(tui_app *a, tui_report *r);
void tui_app_free(tui_app *a);
/* The pin marker of node position i: '*' pinned, '+' to be pinned, '-' to be unpinned. */
char tui_pin_mark(const tui_app *a, int i);

/* ---- tui_detail.c ---- */
void tui_detail_open(tui_app *a, int pos);
/* Free the detail view's text (at exit). */
void tui_detail_reset(void);

#endif
