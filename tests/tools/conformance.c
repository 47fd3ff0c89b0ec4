/*
** conformance.c — runs ONNX backend test folders (model.onnx + test_data_set_N/input_K.pb,
** output_K.pb) through layerdiff's loader and executor and compares the outputs at the
** ONNX backend tolerances (rtol 1e-3, atol 1e-7; exact for integers, bools and strings).
**
** Each test runs in a forked child with a time limit, so a crash or hang is a failure of that
** test and not of the run. With --expect FILE, a test listed there (one name and a reason per
** line) must fail and every other must pass; the exit status says whether that held.
**
**   conformance [--expect FILE] [--tol FILE] [-v] DIR...   (DIR: a test folder or a suite folder)
*/
#include "ld_exec.h"

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static double g_rtol = 1e-3, g_atol = 1e-7;

typedef struct { char *name; char *reason; bool seen; } expect_ent;
static expect_ent *expects;
static int nexpects;
typedef struct { char *name; double rtol, atol; } tol_ent;
static tol_ent *tols;
static int ntols;

static void load_list(const char *path, bool is_tol) {
    FILE *f = fopen(path, "r");
    if (!f) { fprintf(stderr, "conformance: cannot open %s\n", path); exit(2); }
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '#' || *p == '\n' || !*p) continue;
        char *name = strtok(p, " \t\n");
        char *rest = strtok(NULL, "\n");
        if (!name) continue;
        if (is_tol) {
            tols = realloc(tols, sizeof *tols * (ntols + 1));
            tols[ntols].name = strdup(name);
            tols[ntols].rtol = g_rtol;
            tols[ntols].atol = g_atol;
            if (rest) sscanf(rest, "%lf %lf", &tols[ntols].rtol, &tols[ntols].atol);
            ntols++;
        } else {
            expects = realloc(expects, sizeof *expects * (nexpects + 1));
            expects[nexpects].name = strdup(name);
            expects[nexpects].reason = strdup(rest ? rest : "");
            expects[nexpects].seen = false;
            nexpects++;
        }
    }
    fclose(f);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted names of entries in dir starting with prefix. */
static int list_dir(const char *dir, const char *prefix, char ***out) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int n = 0;
    char **v = NULL;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, strlen(prefix))) continue;
        v = realloc(v, sizeof *v * (n + 1));
        v[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(v, n, sizeof *v, cmp_str);
    *out = v;
    return n;
}

static int idx_of(const char *fname) {   /* input_12.pb -> 12 */
    const char *u = strrchr(fname, '_');
    return u ? atoi(u + 1) : 0;
}

static bool close_enough(double got, double want, double rtol, double atol) {
    if (isnan(want)) return isnan(got);
    if (isinf(want)) return got == want;
    return fabs(got - want) <= atol + rtol * fabs(want);
}

static int compare(const ld_tensor *got, const ld_tensor *want, double rtol, double atol,
                   char *why, size_t n) {
    char a[128], b[128];
    if (got->kind != LD_KIND_TENSOR) { snprintf(why, n, "output is not a tensor"); return 1; }
    if (got->dtype != want->dtype) {
        snprintf(why, n, "dtype %s, expected %s", ld_dtype_name(got->dtype), ld_dtype_name(want->dtype));
        return 1;
    }
    if (!ld_shape_equal(got, want)) {
        snprintf(why, n, "shape %s, expected %s", ld_shape_str(got, a, sizeof a), ld_shape_str(want, b, sizeof b));
        return 1;
    }
    for (int64_t i = 0; i < want->numel; i++) {
        bool ok;
        if (want->dtype == LD_STRING)
            ok = !strcmp(((char **)got->data)[i], ((char **)want->data)[i]);
        else if (ld_dtype_is_float(want->dtype))
            ok = close_enough(ld_tensor_get_f64(got, i), ld_tensor_get_f64(want, i), rtol, atol);
        else
            ok = ld_tensor_get_i64(got, i) == ld_tensor_get_i64(want, i);
        if (!ok) {
            if (want->dtype == LD_STRING)
                snprintf(why, n, "element %lld: '%s', expected '%s'", (long long)i,
                         ((char **)got->data)[i], ((char **)want->data)[i]);
            else
                snprintf(why, n, "element %lld: %.9g, expected %.9g", (long long)i,
                         ld_tensor_get_f64(got, i), ld_tensor_get_f64(want, i));
            return 1;
        }
    }
    return 0;
}

/* Run one test folder; 0 = pass. Writes a reason to why. Runs in the child. */
static int run_test(const char *dir, double rtol, double atol, char *why, size_t wn) {
    char path[4096];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    ld_model *m;
    ld_status st = ld_model_load(path, &m);
    if (st != LD_OK) { snprintf(why, wn, "load: %s", ld_err_msg()); return 1; }
    char **sets;
    int nsets = list_dir(dir, "test_data_set_", &sets);
    if (!nsets) { snprintf(why, wn, "no test data"); return 1; }
    ld_graph *g = m->graph;
    for (int s = 0; s < nsets; s++) {
        char sdir[4096];
        snprintf(sdir, sizeof sdir, "%s/%s", dir, sets[s]);
        char **ins, **outs;
        int nin = list_dir(sdir, "input_", &ins), nout = list_dir(sdir, "output_", &outs);
        ld_tensor *inputs = calloc(nin + 1, sizeof(ld_tensor));
        ld_exec ex;
        if (ld_exec_init(&ex, g, NULL) != LD_OK) { snprintf(why, wn, "%s", ld_err_msg()); return 1; }
        for (int i = 0; i < nin; i++) {
            int k = idx_of(ins[i]);
            snprintf(path, sizeof path, "%s/%s", sdir, ins[i]);
            if (k >= g->ninputs) { snprintf(why, wn, "input %d beyond graph inputs", k); return 1; }
            st = ld_tensor_read_pb(path, &inputs[i], NULL);
            if (st != LD_OK) { snprintf(why, wn, "read input: %s", ld_err_msg()); return 1; }
            ex.vals[g->inputs[k]] = &inputs[i];
        }
        /* optional inputs not given: absent */
        static ld_tensor none = {.kind = LD_KIND_NONE};
        for (int k = 0; k < g->ninputs; k++) if (!ex.vals[g->inputs[k]]) ex.vals[g->inputs[k]] = &none;
        st = ld_exec_run(&ex);
        if (st != LD_OK) { snprintf(why, wn, "run: %s", ld_err_msg()); return 1; }
        for (int o = 0; o < nout; o++) {
            int k = idx_of(outs[o]);
            if (k >= g->noutputs) { snprintf(why, wn, "output %d beyond graph outputs", k); return 1; }
            ld_tensor want = {0};
            snprintf(path, sizeof path, "%s/%s", sdir, outs[o]);
            st = ld_tensor_read_pb(path, &want, NULL);
            if (st != LD_OK) { snprintf(why, wn, "read expected output: %s", ld_err_msg()); return 1; }
            const ld_tensor *got = ld_exec_value(&ex, g->outputs[k]);
            char w2[1024];
            if (!got) { snprintf(why, wn, "output %d not computed", k); return 1; }
            if (compare(got, &want, rtol, atol, w2, sizeof w2)) {
                snprintf(why, wn, "%s output %d ('%s'): %s", sets[s], k, g->values[g->outputs[k]].name, w2);
                return 1;
            }
            ld_tensor_clear(&want);
        }
        ld_exec_destroy(&ex);
        for (int i = 0; i < nin; i++) ld_tensor_clear(&inputs[i]);
        free(inputs);
    }
    ld_model_free(m);
    return 0;
}

static int npass, nfail, nxfail, nxpass, nunexpected;
static int verbose;

static void one(const char *dir, const char *name) {
    double rtol = g_rtol, atol = g_atol;
    for (int i = 0; i < ntols; i++)
        if (!strcmp(tols[i].name, name)) { rtol = tols[i].rtol; atol = tols[i].atol; }
    int fds[2];
    if (pipe(fds) != 0) { perror("pipe"); exit(2); }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        alarm(60);
        char why[2048] = "";
        int rc = run_test(dir, rtol, atol, why, sizeof why);
        if (write(fds[1], why, strlen(why))) {}
        _exit(rc);
    }
    close(fds[1]);
    char why[2048] = "";
    ssize_t r, tot = 0;
    while ((r = read(fds[0], why + tot, sizeof why - 1 - tot)) > 0) tot += r;
    why[tot > 0 ? tot : 0] = 0;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    bool pass = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (WIFSIGNALED(status))
        snprintf(why, sizeof why, "%s (signal %d)", WTERMSIG(status) == SIGALRM ? "timed out" : "crashed", WTERMSIG(status));
    expect_ent *ex = NULL;
    for (int i = 0; i < nexpects; i++) if (!strcmp(expects[i].name, name)) ex = &expects[i];
    if (ex) ex->seen = true;
    if (pass) npass++; else nfail++;
    if (pass && ex) { nxpass++; printf("UNEXPECTED PASS %s (listed: %s)\n", name, ex->reason); }
    else if (!pass && !ex) { nunexpected++; printf("FAIL %s: %s\n", name, why); }
    else if (!pass) { nxfail++; if (verbose) printf("xfail %s: %s\n", name, why); }
    else if (verbose) printf("ok %s\n", name);
}

int main(int argc, char **argv) {
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--expect") && i + 1 < argc) load_list(argv[++i], false);
        else if (!strcmp(argv[i], "--tol") && i + 1 < argc) load_list(argv[++i], true);
        else if (!strcmp(argv[i], "-v")) verbose = 1;
        else { fprintf(stderr, "usage: conformance [--expect FILE] [--tol FILE] [-v] DIR...\n"); return 2; }
    }
    ld_threads_set(1);
    for (; i < argc; i++) {
        char p[4096];
        struct stat stt;
        snprintf(p, sizeof p, "%s/model.onnx", argv[i]);
        const char *base = strrchr(argv[i], '/');
        base = base ? base + 1 : argv[i];
        if (stat(p, &stt) == 0) { one(argv[i], base); continue; }
        char **tests;
        int n = list_dir(argv[i], "test_", &tests);
        for (int t = 0; t < n; t++) {
            char d[4096];
            snprintf(d, sizeof d, "%s/%s", argv[i], tests[t]);
            one(d, tests[t]);
        }
    }
    int total = npass + nfail;
    printf("conformance: %d of %d tests pass (%.1f%%); %d expected failures, %d unexpected failures, %d unexpected passes\n",
           npass, total, total ? 100.0 * npass / total : 0.0, nxfail, nunexpected, nxpass);
    return (nunexpected || nxpass) ? 1 : 0;
}
