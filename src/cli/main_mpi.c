/*
** main_mpi.c — layerdiff-mpi, `mpirun -n K layerdiff-mpi compare|autopin MODEL ...`: the
** samples of a comparison or of autopin's tries split over K MPI ranks. Built only with
** `make MPI=1` (mpicc; the normal build leaves this file out). Same flags and output as
** `layerdiff compare` / `autopin`; rank 0 prints and writes the files, and the report equals
** the single-process report (compare_merge.c).
**
** Sample i runs on rank i % K in a comparison of its own; rank 0 merges the packed results
** in sample order. Sample 0 runs first on rank 0 and its results go to every rank, whose
** later samples take their value-histogram ranges from it. Every rank opens the whole
** session (model, samples, labels); INT8/FP8 calibration runs each rank's share of the
** samples and combines maxima and histograms (ld_calib_dist, mpi_allreduce). autopin: each
** rank keeps the runs of its samples and recomputes them per try; the outputs are exchanged
** (mpi_allgather) so that every rank evaluates the same goal figures in sample order and
** takes the same search path (autopin.c, ld_autopin_dist).
*/
#include "cmd.h"
#include "cmd_compare.h"
#include "ld_report.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TAG_SAMPLE = 1 };

static int rank, nranks;

/* A packet: int32 status, then the packed comparison (status 0) or the error message. */
static uint8_t *packet(ld_status st, const uint8_t *payload, size_t n, size_t *len) {
    const char *msg = ld_err_msg();
    if (st != LD_OK) { payload = (const uint8_t *)msg; n = strlen(msg) + 1; }
    uint8_t *p = malloc(4 + n);
    if (!p) { fprintf(stderr, "layerdiff-mpi: rank %d: out of memory\n", rank); MPI_Abort(MPI_COMM_WORLD, LD_ERR_NOMEM); }
    int32_t s = (int32_t)st;
    memcpy(p, &s, 4);
    memcpy(p + 4, payload, n);
    *len = 4 + n;
    return p;
}

/* Run sample i in a comparison of its own and pack it. */
static uint8_t *run_sample(ld_session *s, const ld_compare *first, int i, size_t *len) {
    ld_compare one;
    uint8_t *buf = NULL;
    size_t n = 0;
    ld_status st = ld_compare_init(&one, s->model, &s->opts);
    if (st == LD_OK && first) ld_compare_preset_ranges(&one, first);
    if (st == LD_OK) st = ld_compare_add_sample(&one, &s->samples[i]);
    if (st != LD_OK && s->nsamples > 1) ld_err_prefix(st, "sample %d", i);
    if (st == LD_OK) st = ld_compare_pack(&one, &buf, &n);
    ld_compare_free(&one);
    uint8_t *p = packet(st, buf, n, len);
    free(buf);
    return p;
}

/* Merge a packet into c; an error packet ends the run (every rank) with its code. */
static void merge(ld_compare *c, const uint8_t *p, size_t len) {
    int32_t st;
    memcpy(&st, p, 4);
    ld_status m = st ? (ld_status)st : ld_compare_merge_packed(c, p + 4, len - 4);
    if (m != LD_OK) {
        fprintf(stderr, "layerdiff: %s\n", st ? (const char *)p + 4 : ld_err_msg());
        MPI_Abort(MPI_COMM_WORLD, (int)m);
    }
}

/* What the per-sample packets (ld_compare_pack) do not carry yet: the QDQ quantizer
** statistics and the measurements inside Loop/Scan/If bodies. Refused rather than reported
** without them. */
static ld_status mpi_supported(const ld_session *s) {
    if (s->opts.qdq) return ld_usage_error("compare", "QDQ models (--target qdq) are not distributed yet: run layerdiff compare");
    const ld_graph *g = s->model->graph;
    for (int i = 0; i < g->nnodes; i++)
        for (int a = 0; a < g->nodes[i].nattr; a++)
            if (g->nodes[i].attrs[a].g || (g->nodes[i].attrs[a].graphs && g->nodes[i].attrs[a].n))
                return ld_usage_error("compare", "node '%s' (%s) has a subgraph, whose layers are not distributed yet: run layerdiff compare",
                                      g->nodes[i].name, g->nodes[i].op_type);
    return LD_OK;
}

/* The comparison of s's samples over the ranks; rank 0 gets it merged and finished in *total,
** the others an empty one (every rank frees it with ld_compare_free). */
static ld_status mpi_compare(ld_session *s, ld_compare *total, void *user) {
    (void)user;
    memset(total, 0, sizeof *total);
    LD_TRY(mpi_supported(s));   /* the same answer on every rank */
    LD_TRY(ld_compare_init(total, s->model, &s->opts));
    if (!s->nsamples) return ld_error(LD_ERR_DATA, "no samples");
    /* sample 0 on rank 0, its results to every rank */
    size_t len = 0;
    uint8_t *p = rank ? NULL : run_sample(s, NULL, 0, &len);
    uint64_t len64 = len;
    MPI_Bcast(&len64, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    if (rank) p = malloc(len64 ? len64 : 1);
    if (!p) MPI_Abort(MPI_COMM_WORLD, LD_ERR_NOMEM);
    MPI_Bcast(p, (int)len64, MPI_BYTE, 0, MPI_COMM_WORLD);
    ld_compare first;
    if (ld_compare_init(&first, s->model, &s->opts) != LD_OK) MPI_Abort(MPI_COMM_WORLD, LD_ERR_NOMEM);
    merge(&first, p, len64);
    if (!rank) merge(total, p, len64);
    free(p);
    /* the others round-robin; rank 0 merges in sample order (messages from one rank arrive in
    ** the order sent, and each rank sends its samples in increasing order) */
    for (int i = 1; i < s->nsamples; i++) {
        int owner = i % nranks;
        if (owner == rank) {
            p = run_sample(s, &first, i, &len);
            if (rank) MPI_Send(p, (int)len, MPI_BYTE, 0, TAG_SAMPLE, MPI_COMM_WORLD);
            else merge(total, p, len);
            free(p);
        } else if (!rank) {
            MPI_Status ms;
            int n;
            MPI_Probe(owner, TAG_SAMPLE, MPI_COMM_WORLD, &ms);
            MPI_Get_count(&ms, MPI_BYTE, &n);
            p = malloc(n ? n : 1);
            if (!p) MPI_Abort(MPI_COMM_WORLD, LD_ERR_NOMEM);
            MPI_Recv(p, n, MPI_BYTE, owner, TAG_SAMPLE, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            merge(total, p, (size_t)n);
            free(p);
        }
    }
    ld_compare_free(&first);
    return rank ? LD_OK : ld_compare_finish(total, s->labels, s->nlabels);
}

/* Calibration's exchange (ld_calib_dist): maxima and sums in place on every rank. */
static ld_status mpi_allreduce(void *user, void *buf, int n, ld_reduce_op op) {
    (void)user;
    MPI_Datatype t = op == LD_RED_MAX_F64 ? MPI_DOUBLE : op == LD_RED_SUM_U64 ? MPI_UINT64_T : MPI_INT64_T;
    MPI_Op o = op == LD_RED_MAX_F64 || op == LD_RED_MAX_I64 ? MPI_MAX : MPI_SUM;
    if (n > 0) MPI_Allreduce(MPI_IN_PLACE, buf, n, t, o, MPI_COMM_WORLD);
    return LD_OK;
}

static ld_calib_dist calib_dist_of(void) { return (ld_calib_dist){rank, nranks, mpi_allreduce, NULL}; }

static int compare_mpi(int argc, char **argv) {
    compare_args a;
    bool help = false;
    ld_status st = ld_compare_parse(argc, argv, "compare", &a, &help, NULL, NULL);
    if (help) { if (!rank) fputs(ld_compare_usage, stdout); return 0; }
    if (st == LD_OK && (a.against || a.against_outputs)) st = ld_usage_error("compare", "--against is not distributed: run layerdiff compare");
    if (st == LD_OK && a.inspect) st = ld_usage_error("compare", "--inspect is not distributed: run layerdiff compare");
    if (st != LD_OK) return rank ? (int)st : ld_report_error(st, NULL);
    ld_workload w;
    ld_compare_args_workload(&a, &w);
    if (rank) w.write_calib_cache = NULL;   /* rank 0 writes files */
    ld_calib_dist cd = calib_dist_of();
    w.calib_dist = &cd;
    ld_session s;
    st = ld_session_open(&s, &w);
    if (st == LD_OK) st = mpi_supported(&s);
    int worst = st;   /* every rank opens the same session: agree on failure */
    MPI_Allreduce(MPI_IN_PLACE, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (worst != LD_OK) {
        int rc = st != LD_OK && !rank ? ld_report_error(st, NULL) : worst;
        ld_session_close(&s);
        return rc;
    }
    ld_compare total;
    st = mpi_compare(&s, &total, NULL);
    int rc = 0;
    if (!rank) {   /* as cmd_compare does */
        ld_report_meta meta;
        ld_session_meta(&s, &meta);
        bool to_stdout = a.report && !strcmp(a.report, "-");
        if (st == LD_OK && !a.quiet) ld_report_print(to_stdout ? stderr : stdout, &total, &meta, a.rows, a.max_rows);
        if (st == LD_OK && a.report) st = ld_report_write(a.report, &total, &meta, a.force);
        if (st == LD_OK && a.report && strcmp(a.report, "-") && !a.quiet) printf("report written to %s\n", a.report);
        if (!a.quiet) fprintf(stderr, "layerdiff-mpi: %d samples over %d ranks\n", s.nsamples, nranks);
        rc = st != LD_OK ? ld_report_error(st, NULL) : total.passed ? 0 : 1;
    }
    ld_compare_free(&total);
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    ld_session_close(&s);
    return rc;
}

/* autopin's exchange: every rank's per-sample blobs to every rank, in sample order (sample
** k is the (k / nranks)-th of rank k % nranks). nmine < 0: this rank failed. */
static ld_status mpi_allgather(void *user, uint8_t *const *mine, const size_t *mine_len, int nmine, int nsamples,
                               uint8_t **all, size_t *lens) {
    (void)user;
    int bad = nmine < 0 ? -nmine : 0;
    MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (bad) return nmine < 0 ? (ld_status)-nmine : ld_error((ld_status)bad, "another MPI rank failed");
    int *cnt = calloc(nranks, sizeof(int)), *disp = calloc(nranks, sizeof(int));
    uint64_t *ml = calloc(nmine + 1, sizeof *ml), *al = calloc(nsamples + 1, sizeof *al);
    if (!cnt || !disp || !ml || !al) MPI_Abort(MPI_COMM_WORLD, LD_ERR_NOMEM);
    /* lengths: rank r holds samples r, r + K, ... */
    for (int r = 0, at = 0; r < nranks; r++) {
        cnt[r] = nsamples > r ? (nsamples - r + nranks - 1) / nranks : 0;
        disp[r] = at;
        at += cnt[r];
    }
    for (int j = 0; j < nmine; j++) ml[j] = mine_len[j];
    MPI_Allgatherv(ml, nmine, MPI_UINT64_T, al, cnt, disp, MPI_UINT64_T, MPI_COMM_WORLD);
    /* bytes: each rank's blobs concatenated */
    size_t total = 0, mytotal = 0;
    for (int k = 0; k < nsamples; k++) total += al[k];
    for (int j = 0; j < nmine; j++) mytotal += ml[j];
    if (total > (size_t)INT32_MAX) MPI_Abort(MPI_COMM_WORLD, LD_ERR_UNSUPPORTED);
    uint8_t *mb = malloc(mytotal + 1), *ab = malloc(total + 1);
    if (!mb || !ab) MPI_Abort(MPI_COMM_WORLD, LD_ERR_NOMEM);
    for (int j = 0, at = 0; j < nmine; j++) { memcpy(mb + at, mine[j], ml[j]); at += (int)ml[j]; }
    for (int r = 0, at = 0; r < nranks; r++) {
        int bytes = 0;
        for (int j = 0; j < cnt[r]; j++) bytes += (int)al[disp[r] + j];
        disp[r] = at;   /* reused: byte displacements */
        at += bytes;
        cnt[r] = bytes;
    }
    MPI_Allgatherv(mb, (int)mytotal, MPI_BYTE, ab, cnt, disp, MPI_BYTE, MPI_COMM_WORLD);
    /* back into sample order: rank r's j-th blob is sample r + j K */
    size_t at = 0;
    for (int r = 0, idx = 0; r < nranks; r++)
        for (int k = r; k < nsamples; k += nranks, idx++) {
            lens[k] = al[idx];
            all[k] = malloc(al[idx] + 1);
            if (!all[k]) MPI_Abort(MPI_COMM_WORLD, LD_ERR_NOMEM);
            memcpy(all[k], ab + at, al[idx]);
            at += al[idx];
        }
    free(cnt); free(disp); free(ml); free(al); free(mb); free(ab);
    return LD_OK;
}

static int autopin_mpi(int argc, char **argv) {
    ld_autopin_dist d = {rank, nranks, mpi_allgather, NULL};
    ld_calib_dist cd = calib_dist_of();
    int rc = ld_autopin_main(argc, argv, &d, &cd, mpi_compare, NULL, rank == 0);
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return rc;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    int threads = 1, i = 1, rc;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-v")) ld_verbose++;
        else break;
    }
    if (threads < 1 || threads > 1024) threads = 1;
    ld_threads_set(threads);
    if (rank && !freopen("/dev/null", "w", stdout)) MPI_Abort(MPI_COMM_WORLD, LD_ERR_IO);   /* rank 0 prints */
    if (i < argc && !strcmp(argv[i], "compare")) {
        rc = compare_mpi(argc - i, argv + i);
    } else if (i < argc && !strcmp(argv[i], "autopin")) {
        rc = autopin_mpi(argc - i, argv + i);
    } else {
        if (!rank) fprintf(stderr, "usage: mpirun -n K layerdiff-mpi [--threads N] [-v] compare|autopin MODEL --target T [options]\n");
        rc = LD_ERR_USAGE;
    }
    fflush(stdout);
    MPI_Finalize();
    return rc;
}
