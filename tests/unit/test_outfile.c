/*
** test_outfile.c — ld_outfile.h: an existing file is kept (content and all) without force and
** replaced with it, non-regular targets (FIFO, directory) are refused even with force, "-" is
** stdout only where allowed, and no temporary file is left behind after a commit, an abort or
** a failure. Every case runs in a fresh folder so "left behind" can be checked by listing it.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ld_outfile.h"
#include "ld_io.h"

static char dir[64];

static int setup(void **st) {
    snprintf(dir, sizeof dir, "/tmp/ld_outfile_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **st) {
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (remove(p) != 0) rmdir(p);
    }
    if (d) closedir(d);
    rmdir(dir);
    return 0;
}

/* number of entries in the folder; *hidden counts the ones starting with '.' (temporaries) */
static int entries(int *hidden) {
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    *hidden = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        n++;
        if (e->d_name[0] == '.') (*hidden)++;
    }
    closedir(d);
    return n;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

static void put(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_create_and_exists(void **st) {
    char p[128];
    int hidden;
    snprintf(p, sizeof p, "%s/a.txt", dir);
    ld_outfile o;
    assert_int_equal(ld_out_open(p, 0, &o), LD_OK);
    assert_non_null(o.f);
    fputs("first", o.f);
    assert_null(slurp(p));                              /* nothing visible before the commit */
    assert_int_equal(ld_out_commit(&o), LD_OK);
    assert_string_equal(slurp(p), "first");
    assert_int_equal(entries(&hidden), 1);
    assert_int_equal(hidden, 0);
    /* exists, no force: refused at open, content kept */
    assert_int_equal(ld_out_open(p, 0, &o), LD_ERR_CANTCREAT);
    assert_non_null(strstr(ld_err_msg(), "already exists"));
    assert_non_null(strstr(ld_err_msg(), "use --force to replace"));
    assert_non_null(strstr(ld_err_msg(), p));
    assert_int_equal(ld_out_write_all(p, 0, "second", 6), LD_ERR_CANTCREAT);
    assert_string_equal(slurp(p), "first");
    assert_int_equal(entries(&hidden), 1);
    assert_int_equal(hidden, 0);
}

/* the file appears between open and commit: commit must not replace it (no check-then-write window) */
static void test_race_keeps_other_file(void **st) {
    char p[128];
    int hidden;
    snprintf(p, sizeof p, "%s/race.txt", dir);
    ld_outfile o;
    assert_int_equal(ld_out_open(p, 0, &o), LD_OK);
    fputs("mine", o.f);
    put(p, "theirs");
    assert_int_equal(ld_out_commit(&o), LD_ERR_CANTCREAT);
    assert_non_null(strstr(ld_err_msg(), "already exists"));
    assert_string_equal(slurp(p), "theirs");
    assert_int_equal(entries(&hidden), 1);
    assert_int_equal(hidden, 0);
}

static void test_force_replaces(void **st) {
    char p[128];
    int hidden;
    snprintf(p, sizeof p, "%s/b.txt", dir);
    put(p, "old content that is longer");
    assert_int_equal(chmod(p, 0640), 0);
    assert_int_equal(ld_out_write_all(p, LD_OUT_FORCE, "new", 3), LD_OK);
    assert_string_equal(slurp(p), "new");
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0640);                 /* the replaced file keeps its permissions */
    /* force on a file that does not exist yet simply creates it */
    char q[128];
    snprintf(q, sizeof q, "%s/c.txt", dir);
    assert_int_equal(ld_out_write_all(q, LD_OUT_FORCE, "c", 1), LD_OK);
    assert_string_equal(slurp(q), "c");
    assert_int_equal(entries(&hidden), 2);
    assert_int_equal(hidden, 0);
}

static void test_non_regular_refused(void **st) {
    char p[128];
    int hidden;
    snprintf(p, sizeof p, "%s/fifo", dir);
    assert_int_equal(mkfifo(p, 0600), 0);
    ld_outfile o;
    assert_int_equal(ld_out_open(p, LD_OUT_FORCE, &o), LD_ERR_CANTCREAT);   /* would hang or clobber */
    assert_non_null(strstr(ld_err_msg(), "FIFO"));
    assert_int_equal(ld_out_open(p, 0, &o), LD_ERR_CANTCREAT);
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    assert_true(S_ISFIFO(sb.st_mode));
    snprintf(p, sizeof p, "%s/sub", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    assert_int_equal(ld_out_write_all(p, LD_OUT_FORCE, "x", 1), LD_ERR_CANTCREAT);
    assert_non_null(strstr(ld_err_msg(), "directory"));
    assert_int_equal(ld_out_check("/dev/null", LD_OUT_FORCE), LD_ERR_CANTCREAT);
    assert_non_null(strstr(ld_err_msg(), "device"));
    assert_int_equal(entries(&hidden), 2);
    assert_int_equal(hidden, 0);
}

static void test_abort_and_failure_leave_nothing(void **st) {
    char p[128];
    int hidden;
    snprintf(p, sizeof p, "%s/d.txt", dir);
    ld_outfile o;
    assert_int_equal(ld_out_open(p, 0, &o), LD_OK);
    fputs("half", o.f);
    assert_int_equal(entries(&hidden), 1);      /* the temporary, hidden */
    assert_int_equal(hidden, 1);
    ld_out_abort(&o);
    ld_out_abort(&o);                           /* twice is harmless */
    assert_int_equal(entries(&hidden), 0);
    /* by name (libzip's way): the temporary exists, empty, until commit or abort */
    assert_int_equal(ld_out_open_path(p, 0, &o), LD_OK);
    assert_null(o.f);
    assert_non_null(o.tmp);
    put(o.tmp, "by name");
    assert_int_equal(ld_out_commit(&o), LD_OK);
    assert_string_equal(slurp(p), "by name");
    assert_int_equal(ld_out_open_path("-", LD_OUT_STDOUT, &o), LD_ERR_USAGE);
    /* the .npz writer (libzip writes by name into the temporary): refused without force, the old file kept */
    char z[128];
    snprintf(z, sizeof z, "%s/e.npz", dir);
    put(z, "precious");
    ld_feed f = {0};
    int64_t d[1] = {2};
    ld_tensor *t = ld_tensor_new(LD_F32, 1, d);
    LD_F32P(t)[0] = 1; LD_F32P(t)[1] = 2;
    assert_int_equal(ld_feed_add(&f, "t", t), LD_OK);
    assert_int_equal(ld_npz_write(z, &f, false), LD_ERR_CANTCREAT);
    assert_string_equal(slurp(z), "precious");
    assert_int_equal(ld_npz_write(z, &f, true), LD_OK);
    ld_feed g = {0};
    assert_int_equal(ld_npz_read(z, &g), LD_OK);
    assert_int_equal(g.n, 1);
    assert_memory_equal(ld_feed_get(&g, "t")->data, t->data, 8);
    ld_feed_clear(&g);
    ld_feed_clear(&f);
    /* no folder to write in: a clean error, nothing created */
    char nope[160];
    snprintf(nope, sizeof nope, "%s/no/such/dir/x", dir);
    assert_int_equal(ld_out_open(nope, LD_OUT_FORCE, &o), LD_ERR_CANTCREAT);
    assert_int_equal(entries(&hidden), 2);
    assert_int_equal(hidden, 0);
}

static void test_stdout(void **st) {
    ld_outfile o;
    assert_int_equal(ld_out_open("-", LD_OUT_STDOUT, &o), LD_OK);
    assert_ptr_equal(o.f, stdout);
    assert_int_equal(ld_out_commit(&o), LD_OK);
    /* without LD_OUT_STDOUT, "-" is an ordinary name (here relative to the folder) */
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(ld_out_write_all("-", 0, "dash", 4), LD_OK);
    assert_string_equal(slurp("-"), "dash");
    assert_int_equal(unlink("-"), 0);
    assert_int_equal(chdir(cwd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_and_exists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_race_keeps_other_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_force_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_regular_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_and_failure_leave_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stdout, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
