/*
** conformance.c — runs ONNX backend test folders (model.onnx + test_data_set_N/input_K.pb,
** output_K.pb) through layerdiff's loader and executor and compares the outputs at the
** ONNX backend tolerances (rtol 1e-3, atol 1e-7; exact for integers, bools and strings).
**
** Each test runs in a forked child with a time limit, so a crash or hang is a failure of that
** test and not of the run. With --expect FILE, a test listed there (one name and a reason per
** line) must fail and every other must pass; the exit status says whether that held.
**
** Inputs and outputs whose graph type is a sequence or an optional are stored as SequenceProto /
** OptionalProto (onnx-data.proto, which Debian does not ship); a small wire-format reader below
** decodes those two messages and hands the embedded TensorProtos to ld_tensor_from_pb_buffer.
**
**   conformance [--expect FILE] [--tol FILE] [-v] DIR...   (DIR: a test folder or a suite folder)
*/
#include "ld_exec.h"
#include "onnx.pb-c.h"

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
    if (n) qsort(v, n, sizeof *v, cmp_str);
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

/* ---- SequenceProto / OptionalProto test data ---- */

/* Which message a .pb file holds, from the graph input/output type it belongs to. */
typedef enum { PB_TENSOR, PB_SEQUENCE, PB_OPTIONAL } pb_kind;

typedef struct { const uint8_t *p, *end; } pb_reader;

static bool pb_varint(pb_reader *r, uint64_t *v) {
    *v = 0;
    for (int shift = 0; r->p < r->end && shift < 64; shift += 7) {
        uint8_t b = *r->p++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return true;
    }
    return false;
}

/* Next field: number, and for length-delimited fields the payload; others are skipped. */
static bool pb_next(pb_reader *r, uint32_t *field, const uint8_t **data, size_t *len) {
    uint64_t key, v;
    if (!pb_varint(r, &key)) return false;
    *field = (uint32_t)(key >> 3);
    *data = NULL;
    *len = 0;
    switch (key & 7) {
    case 0: return pb_varint(r, &v);
    case 1: if (r->end - r->p < 8) return false; r->p += 8; return true;
    case 5: if (r->end - r->p < 4) return false; r->p += 4; return true;
    case 2:
        if (!pb_varint(r, &v) || v > (uint64_t)(r->end - r->p)) return false;
        *data = r->p;
        *len = (size_t)v;
        r->p += v;
        return true;
    default: return false;
    }
}

static ld_status pb_read_value(const uint8_t *buf, size_t len, pb_kind kind, ld_tensor *out);

/* SequenceProto: 3 = tensor_values, 5 = sequence_values (4, 6, 7 not supported). */
static ld_status pb_read_sequence(const uint8_t *buf, size_t len, ld_tensor *out) {
    pb_reader r = {buf, buf + len};
    out->kind = LD_KIND_SEQUENCE;
    uint32_t f;
    const uint8_t *d;
    size_t n;
    while (r.p < r.end) {
        if (!pb_next(&r, &f, &d, &n)) return ld_error(LD_ERR_DATA, "malformed SequenceProto");
        if (f == 4 || f == 6 || f == 7)
            return ld_error(LD_ERR_UNSUPPORTED, "SequenceProto field %u is not supported", f);
        if ((f != 3 && f != 5) || !d) continue;
        ld_tensor **seq = realloc(out->seq, sizeof *seq * (out->seq_len + 1));
        if (!seq) return ld_oom();
        out->seq = seq;
        if (!(seq[out->seq_len] = calloc(1, sizeof(ld_tensor)))) return ld_oom();
        ld_tensor *e = seq[out->seq_len++];
        LD_TRY(pb_read_value(d, n, f == 3 ? PB_TENSOR : PB_SEQUENCE, e));
        if (e->kind == LD_KIND_TENSOR) out->seq_dtype = e->dtype;
    }
    return LD_OK;
}

/* OptionalProto: 3 = tensor_value, 5 = sequence_value; neither = empty optional. */
static ld_status pb_read_optional(const uint8_t *buf, size_t len, ld_tensor *out) {
    pb_reader r = {buf, buf + len};
    out->kind = LD_KIND_NONE;
    uint32_t f;
    const uint8_t *d;
    size_t n;
    while (r.p < r.end) {
        if (!pb_next(&r, &f, &d, &n)) return ld_error(LD_ERR_DATA, "malformed OptionalProto");
        if (f == 4 || f == 6 || f == 7)
            return ld_error(LD_ERR_UNSUPPORTED, "OptionalProto field %u is not supported", f);
        if ((f == 3 || f == 5) && d) {
            ld_tensor_clear(out);
            LD_TRY(pb_read_value(d, n, f == 3 ? PB_TENSOR : PB_SEQUENCE, out));
        }
    }
    return LD_OK;
}

static ld_status pb_read_value(const uint8_t *buf, size_t len, pb_kind kind, ld_tensor *out) {
    if (kind == PB_SEQUENCE) return pb_read_sequence(buf, len, out);
    if (kind == PB_OPTIONAL) return pb_read_optional(buf, len, out);
    return ld_tensor_from_pb_buffer(buf, len, out, NULL);
}

/* Element dtype of a sequence type (optional<sequence<tensor>> too), for empty sequences. */
static ld_dtype type_seq_dtype(const Onnx__TypeProto *t) {
    if (t && t->value_case == ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE && t->optional_type)
        t = t->optional_type->elem_type;
    if (!t || t->value_case != ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE || !t->sequence_type) return LD_UNDEFINED;
    t = t->sequence_type->elem_type;
    if (!t || t->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !t->tensor_type) return LD_UNDEFINED;
    return (ld_dtype)t->tensor_type->elem_type;
}

/* Type of the top-level graph input (or output) called name; NULL if not declared. */
static const Onnx__TypeProto *graph_type(const Onnx__ModelProto *mp, const char *name, bool output) {
    if (!mp || !mp->graph) return NULL;
    size_t n = output ? mp->graph->n_output : mp->graph->n_input;
    Onnx__ValueInfoProto **vi = output ? mp->graph->output : mp->graph->input;
    for (size_t i = 0; i < n; i++)
        if (vi[i]->name && !strcmp(vi[i]->name, name)) return vi[i]->type;
    return NULL;
}

/* Read a test .pb file as the message its graph type says (TensorProto if unknown). */
static ld_status read_test_value(const char *path, const Onnx__TypeProto *t, ld_tensor *out) {
    pb_kind kind = PB_TENSOR;
    if (t && t->value_case == ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE) kind = PB_SEQUENCE;
    if (t && t->value_case == ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE) kind = PB_OPTIONAL;
    if (kind == PB_TENSOR) return ld_tensor_read_pb(path, out, NULL);
    uint8_t *buf;
    size_t len;
    LD_TRY(ld_file_read(path, &buf, &len));
    ld_status st = pb_read_value(buf, len, kind, out);
    free(buf);
    if (st == LD_OK && out->kind == LD_KIND_SEQUENCE && !out->seq_len) out->seq_dtype = type_seq_dtype(t);
    return st != LD_OK ? ld_err_prefix(st, "%s", path) : LD_OK;
}

/* compare() extended to sequences (element by element) and optionals. */
static int compare_value(const ld_tensor *got, const ld_tensor *want, double rtol, double atol,
                         char *why, size_t n) {
    if (want->kind == LD_KIND_NONE || got->kind == LD_KIND_NONE) {
        if (want->kind == got->kind) return 0;
        snprintf(why, n, want->kind == LD_KIND_NONE ? "expected an empty optional" : "got an empty optional");
        return 1;
    }
    if (want->kind != LD_KIND_SEQUENCE) return compare(got, want, rtol, atol, why, n);
    if (got->kind != LD_KIND_SEQUENCE) { snprintf(why, n, "output is not a sequence"); return 1; }
    if (got->seq_len != want->seq_len) {
        snprintf(why, n, "sequence of %d elements, expected %d", got->seq_len, want->seq_len);
        return 1;
    }
    for (int i = 0; i < want->seq_len; i++) {
        char w2[1024];
        if (compare_value(got->seq[i], want->seq[i], rtol, atol, w2, sizeof w2)) {
            snprintf(why, n, "sequence element %d: %.900s", i, w2);
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
    uint8_t *mbuf = NULL;   /* the model proto again, for the sequence/optional types */
    size_t mlen = 0;
    Onnx__ModelProto *mp = NULL;
    if (ld_file_read(path, &mbuf, &mlen) == LD_OK) mp = onnx__model_proto__unpack(NULL, mlen, mbuf);
    free(mbuf);
    for (int s = 0; s < nsets; s++) {
        char sdir[3072];
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
            st = read_test_value(path, graph_type(mp, g->values[g->inputs[k]].name, false), &inputs[i]);
            if (st != LD_OK) { snprintf(why, wn, "read input: %s", ld_err_msg()); return 1; }
            ld_exec_put(&ex, g->inputs[k], &inputs[i], false);
        }
        /* optional inputs not given: absent */
        static ld_tensor none = {.kind = LD_KIND_NONE};
        for (int k = 0; k < g->ninputs; k++) if (!ld_exec_value(&ex, g->inputs[k])) ld_exec_put(&ex, g->inputs[k], &none, false);
        st = ld_exec_run(&ex);
        if (st != LD_OK) { snprintf(why, wn, "run: %s", ld_err_msg()); return 1; }
        for (int o = 0; o < nout; o++) {
            int k = idx_of(outs[o]);
            if (k >= g->noutputs) { snprintf(why, wn, "output %d beyond graph outputs", k); return 1; }
            ld_tensor want = {0};
            snprintf(path, sizeof path, "%s/%s", sdir, outs[o]);
            st = read_test_value(path, graph_type(mp, g->values[g->outputs[k]].name, true), &want);
            if (st != LD_OK) { snprintf(why, wn, "read expected output: %s", ld_err_msg()); return 1; }
            const ld_tensor *got = ld_exec_value(&ex, g->outputs[k]);
            char w2[1024];
            if (!got) { snprintf(why, wn, "output %d not computed", k); return 1; }
            if (compare_value(got, &want, rtol, atol, w2, sizeof w2)) {
                snprintf(why, wn, "%s output %d ('%s'): %s", sets[s], k, g->values[g->outputs[k]].name, w2);
                return 1;
            }
            ld_tensor_clear(&want);
        }
        ld_exec_destroy(&ex);
        for (int i = 0; i < nin; i++) ld_tensor_clear(&inputs[i]);
        free(inputs);
    }
    if (mp) onnx__model_proto__free_unpacked(mp, NULL);
    ld_model_free(m);
    return 0;
}

/* light/ models: input arange(n).reshape(shape)/n (dims without a value count as 1),
 * expected output in <name>_output_0.pb beside the model. */
static int run_light(const char *model, double rtol, double atol, char *why, size_t wn) {
    ld_model *m;
    if (ld_model_load(model, &m) != LD_OK) { snprintf(why, wn, "load: %s", ld_err_msg()); return 1; }
    ld_graph *g = m->graph;
    ld_exec ex;
    ld_tensor *inputs = calloc(g->ninputs + 1, sizeof(ld_tensor));
    if (ld_exec_init(&ex, g, NULL) != LD_OK) { snprintf(why, wn, "%s", ld_err_msg()); return 1; }
    for (int i = 0; i < g->ninputs; i++) {
        const ld_value *v = &g->values[g->inputs[i]];
        int64_t dims[LD_MAX_DIMS];
        for (int d = 0; d < v->decl_ndim; d++) dims[d] = v->decl_dims[d] >= 0 ? v->decl_dims[d] : 1;
        ld_tensor_alloc(&inputs[i], LD_F32, v->decl_ndim, dims);
        for (int64_t k = 0; k < inputs[i].numel; k++)
            LD_F32P(&inputs[i])[k] = (float)((double)k / (double)inputs[i].numel);
        ld_exec_put(&ex, g->inputs[i], &inputs[i], false);
    }
    if (ld_exec_run(&ex) != LD_OK) { snprintf(why, wn, "run: %s", ld_err_msg()); return 1; }
    char path[4096];
    snprintf(path, sizeof path, "%.*s_output_0.pb", (int)(strlen(model) - 5), model);
    ld_tensor want = {0};
    if (ld_tensor_read_pb(path, &want, NULL) != LD_OK) { snprintf(why, wn, "read expected: %s", ld_err_msg()); return 1; }
    char w2[1024];
    if (compare(ld_exec_value(&ex, g->outputs[0]), &want, rtol, atol, w2, sizeof w2)) {
        snprintf(why, wn, "output 0: %s", w2);
        return 1;
    }
    return 0;
}

static int npass, nfail, nxfail, nxpass, nunexpected;
static int verbose, strict_list;

static void one(const char *dir, const char *name, bool light) {
    double rtol = g_rtol, atol = g_atol;
    for (int i = 0; i < ntols; i++)
        if (!strcmp(tols[i].name, name)) { rtol = tols[i].rtol; atol = tols[i].atol; }
    int fds[2];
    if (pipe(fds) != 0) { perror("pipe"); exit(2); }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        alarm(120);
        char why[2048] = "";
        int rc = light ? run_light(dir, rtol, atol, why, sizeof why) : run_test(dir, rtol, atol, why, sizeof why);
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
        else if (!strcmp(argv[i], "--strict")) strict_list = 1;
        else if (!strcmp(argv[i], "--light")) break;
        else { fprintf(stderr, "usage: conformance [--expect FILE] [--tol FILE] [-v] DIR...\n"); return 2; }
    }
    ld_threads_set(1);
    for (; i < argc; i++) {
        char p[4096];
        struct stat stt;
        snprintf(p, sizeof p, "%s/model.onnx", argv[i]);
        const char *base = strrchr(argv[i], '/');
        base = base ? base + 1 : argv[i];
        if (!strcmp(argv[i], "--light") && i + 1 < argc) {
            char **ms;
            const char *ld = argv[++i];
            int n = list_dir(ld, "light_", &ms);
            for (int t = 0; t < n; t++) {
                size_t l = strlen(ms[t]);
                if (l < 5 || strcmp(ms[t] + l - 5, ".onnx")) continue;
                char d[4096], nm[512];
                snprintf(d, sizeof d, "%s/%s", ld, ms[t]);
                snprintf(nm, sizeof nm, "%.*s", (int)(l - 5), ms[t]);
                one(d, nm, true);
            }
            continue;
        }
        if (stat(p, &stt) == 0) { one(argv[i], base, false); continue; }
        char **tests;
        int n = list_dir(argv[i], "test_", &tests);
        for (int t = 0; t < n; t++) {
            char d[4096];
            snprintf(d, sizeof d, "%s/%s", argv[i], tests[t]);
            one(d, tests[t], false);
        }
    }
    int total = npass + nfail;
    printf("conformance: %d of %d tests pass (%.1f%%); %d expected failures, %d unexpected failures, %d unexpected passes\n",
           npass, total, total ? 100.0 * npass / total : 0.0, nxfail, nunexpected, nxpass);
    int bad = nunexpected + nxpass;
    for (int k = 0; k < nexpects; k++)
        if (!expects[k].seen && strict_list) { printf("STALE expected-failure entry %s (no such test ran)\n", expects[k].name); bad++; }
    printf("%d passed, %d failed\n", total - nunexpected - nxpass, bad);
    return bad ? 1 : 0;
}
