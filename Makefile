# layerdiff — build, test, bench, demo, install.
# `make deps` installs the Debian packages; `make check` runs every test suite.

BUILD ?= build
BIN ?= layerdiff
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man

CC ?= cc
PKGS = libprotobuf-c libcjson ncursesw libzip
# OpenBLAS: the OpenMP build when installed (make deps installs it), so its threads and
# layerdiff's own OpenMP loops share one pool instead of two pools fighting over the cores;
# otherwise whatever pkg-config's openblas is.
MULTIARCH := $(shell gcc -print-multiarch 2>/dev/null)
OPENBLAS_OMP = /usr/lib/$(MULTIARCH)/openblas-openmp
ifneq ($(wildcard $(OPENBLAS_OMP)/libopenblas.so),)
BLAS_CFLAGS = -I/usr/include/$(MULTIARCH)/openblas-openmp
BLAS_LIBS = -L$(OPENBLAS_OMP) -Wl,-rpath,$(OPENBLAS_OMP) -lopenblas
else
BLAS_CFLAGS := $(shell pkg-config --cflags openblas 2>/dev/null)
BLAS_LIBS := $(shell pkg-config --libs openblas 2>/dev/null)
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(BLAS_CFLAGS)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) $(BLAS_LIBS)
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.1.0)
NPROC := $(shell nproc 2>/dev/null || echo 2)

OPT ?= -O2
CFLAGS ?= $(OPT) -g
WARN = -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Wshadow -Wstrict-prototypes
# src/ holds one folder per pipeline stage, lowest first; a file may include headers of its
# own stage and of the stages before it (tests/tools/check_layers.sh enforces that).
LAYERS = core io ops emulate compare present api cli
SRC_INC = $(addprefix -Isrc/,$(LAYERS))
ALL_CFLAGS = -std=gnu11 $(WARN) -fopenmp -fno-trapping-math -Iinclude $(SRC_INC) -I$(BUILD)/gen $(PKG_CFLAGS) \
             -DLD_VERSION='"$(VERSION)"' $(CFLAGS)
LDLIBS = $(PKG_LIBS) -lpng -ljpeg -lz -lm -fopenmp

# src/cli/main_mpi.c is layerdiff-mpi's main (make MPI=1), not part of the normal build.
SRC := $(filter-out src/cli/main_mpi.c,$(sort $(wildcard $(addsuffix /*.c,$(addprefix src/,$(LAYERS))))))
GEN_C = $(BUILD)/gen/onnx.pb-c.c
GEN_H = $(BUILD)/gen/onnx.pb-c.h
OBJ := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(SRC)) $(BUILD)/obj/onnx.pb-c.o
LIBOBJ := $(filter-out $(BUILD)/obj/cli/main.o,$(OBJ))
ASAN_OBJ := $(patsubst $(BUILD)/obj/%,$(BUILD)/asan/%,$(OBJ))
ASAN_LIBOBJ := $(filter-out $(BUILD)/asan/cli/main.o,$(ASAN_OBJ))
ASAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
UNIT_ASAN := $(patsubst tests/unit/%.c,$(BUILD)/tests-asan/%,$(UNIT_SRC))

.PHONY: all deps check check-unit check-conformance check-asan check-e2e check-docs bench demo \
        install uninstall clean lint-man

all: $(BIN) lib
ifeq ($(MPI),1)
all: $(BIN)-mpi
endif

# layerdiff-mpi (make MPI=1; Open MPI): compare and autopin with the samples split over MPI
# ranks. make check builds it when mpicc is installed (tests/e2e/test_mpi.sh).
MPICC ?= mpicc
MPI_BIN := $(if $(shell command -v $(MPICC) 2>/dev/null),$(BIN)-mpi)
$(BIN)-mpi: $(BUILD)/mpi/main_mpi.o $(BUILD)/libld.a
	$(MPICC) -o $@ $(BUILD)/mpi/main_mpi.o $(BUILD)/libld.a $(LDLIBS)
$(BUILD)/mpi/main_mpi.o: src/cli/main_mpi.c | $(GEN_H)
	@mkdir -p $(BUILD)/mpi
	$(MPICC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<
-include $(BUILD)/mpi/main_mpi.d

# liblayerdiff (layerdiff.h; layerdiff(3)): the stages up to compare plus api, without the
# TUI and the CLI. The shared library is built from its own -fPIC objects compiled with
# -fvisibility=hidden, so only the LAYERDIFF_API functions of layerdiff.h are exported.
SOMAJOR := $(firstword $(subst ., ,$(VERSION)))
SONAME = liblayerdiff.so.$(SOMAJOR)
LIBDIR = $(PREFIX)/lib
INCDIR = $(PREFIX)/include
PUB_LAYERS = core io ops emulate compare api
PUB_SRC := $(sort $(wildcard $(addsuffix /*.c,$(addprefix src/,$(PUB_LAYERS)))))
PUB_OBJ := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(PUB_SRC)) $(BUILD)/obj/onnx.pb-c.o
PIC_OBJ := $(patsubst src/%.c,$(BUILD)/pic/%.o,$(PUB_SRC)) $(BUILD)/pic/onnx.pb-c.o
LIB_SO = $(BUILD)/lib/liblayerdiff.so.$(VERSION)
LIB_A = $(BUILD)/lib/liblayerdiff.a
LIB_LIBS = $(shell pkg-config --libs libprotobuf-c libcjson libzip 2>/dev/null) $(BLAS_LIBS) -lpng -ljpeg -lz -lm -fopenmp
.PHONY: lib examples
lib: $(LIB_SO) $(LIB_A) $(BUILD)/lib/layerdiff.pc
$(LIB_SO): $(PIC_OBJ) src/api/liblayerdiff.map
	@mkdir -p $(BUILD)/lib
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,-z,defs -Wl,--as-needed -Wl,--version-script=src/api/liblayerdiff.map -o $@ $(PIC_OBJ) $(LIB_LIBS)
	ln -sf liblayerdiff.so.$(VERSION) $(BUILD)/lib/$(SONAME)
	ln -sf $(SONAME) $(BUILD)/lib/liblayerdiff.so
$(LIB_A): $(PUB_OBJ)
	@mkdir -p $(BUILD)/lib
	rm -f $@ && ar rcs $@ $(PUB_OBJ)
$(BUILD)/lib/layerdiff.pc: layerdiff.pc.in VERSION
	@mkdir -p $(BUILD)/lib
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@LIBS_PRIVATE@|$(BLAS_LIBS) -lpng -ljpeg -lz -lm -fopenmp|' $< > $@
$(BUILD)/pic/%.o: src/%.c | $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -MMD -MP -c -o $@ $<
$(BUILD)/pic/onnx.pb-c.o: $(GEN_C)
	@mkdir -p $(BUILD)/pic
	$(CC) -std=gnu11 -O2 -g -fPIC -fvisibility=hidden -I$(BUILD)/gen $(PKG_CFLAGS) -c -o $@ $<
-include $(PIC_OBJ:.o=.d)
# examples/ built against the build tree's shared library
examples: $(BUILD)/examples/compare_example
$(BUILD)/examples/%: examples/%.c include/layerdiff.h $(LIB_SO)
	@mkdir -p $(BUILD)/examples
	$(CC) -std=gnu11 $(WARN) -O2 -Iinclude $(shell pkg-config --cflags libcjson) -o $@ $< \
		-L$(BUILD)/lib -Wl,-rpath,$(abspath $(BUILD)/lib) -llayerdiff $(shell pkg-config --libs libcjson)

# The library archive lets each test binary link only the objects it uses.
$(BUILD)/libld.a: $(LIBOBJ)
	rm -f $@ && ar rcs $@ $(LIBOBJ)
$(BUILD)/libld-asan.a: $(ASAN_LIBOBJ)
	rm -f $@ && ar rcs $@ $(ASAN_LIBOBJ)

$(BIN): $(BUILD)/obj/cli/main.o $(BUILD)/libld.a
	$(CC) -o $@ $(BUILD)/obj/cli/main.o $(BUILD)/libld.a $(LDLIBS)

$(BIN)-asan: $(BUILD)/asan/cli/main.o $(BUILD)/libld-asan.a
	$(CC) $(ASAN_FLAGS) -o $@ $(BUILD)/asan/cli/main.o $(BUILD)/libld-asan.a $(LDLIBS)

# The ONNX C bindings are generated from Debian's onnx.proto, never committed.
$(GEN_C) $(GEN_H) &: /usr/include/onnx/onnx.proto
	@mkdir -p $(BUILD)/gen
	cp /usr/include/onnx/onnx.proto $(BUILD)/gen/onnx.proto
	cd $(BUILD)/gen && protoc-c --c_out=. onnx.proto

$(BUILD)/obj/onnx.pb-c.o: $(GEN_C)
	@mkdir -p $(BUILD)/obj
	$(CC) -std=gnu11 -O2 -g -I$(BUILD)/gen $(PKG_CFLAGS) -c -o $@ $<
$(BUILD)/asan/onnx.pb-c.o: $(GEN_C)
	@mkdir -p $(BUILD)/asan
	$(CC) -std=gnu11 -O1 -g $(ASAN_FLAGS) -I$(BUILD)/gen $(PKG_CFLAGS) -c -o $@ $<

# Each object depends on the headers it includes (-MMD -MP writes the .d files read below);
# the generated ONNX header comes first because load*.c include it.
$(BUILD)/obj/compare/metrics.o $(BUILD)/pic/compare/metrics.o: CFLAGS += -O3 -fno-signed-zeros -fassociative-math
# ops_gemm.c promises one fused multiply-add chain per element: no contraction of its own.
$(BUILD)/obj/ops/ops_gemm.o $(BUILD)/asan/ops/ops_gemm.o $(BUILD)/pic/ops/ops_gemm.o: CFLAGS += -ffp-contract=off
$(BUILD)/obj/%.o: src/%.c | $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<
$(BUILD)/asan/%.o: src/%.c | $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O1 $(ASAN_FLAGS) -MMD -MP -c -o $@ $<
-include $(OBJ:.o=.d) $(ASAN_OBJ:.o=.d)

# libFuzzer harnesses: make fuzz, fuzz-build.
include tests/fuzz/fuzz.mk

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libld.a
	@mkdir -p $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libld.a $(LDLIBS) -lcmocka
$(BUILD)/tests-asan/%: tests/unit/%.c $(BUILD)/libld-asan.a
	@mkdir -p $(BUILD)/tests-asan
	$(CC) $(ALL_CFLAGS) -O1 $(ASAN_FLAGS) -o $@ $< $(BUILD)/libld-asan.a $(LDLIBS) -lcmocka

deps:
	@bash tools/deps.sh

# The whole test run: unit, conformance, end-to-end, docs, sanitizers, fuzz replay. The last line is the
# total "N passed, N failed".
check: deps
	@$(MAKE) --no-print-directory -j$(NPROC) layerdiff lib examples $(MPI_BIN) layerdiff-asan $(UNIT_BIN) $(UNIT_ASAN) \
		$(BUILD)/conformance $(BUILD)/conformance-asan $(FUZZ_BIN)
	@bash tests/run_all.sh

check-unit: $(UNIT_BIN)
	@bash tests/run_all.sh unit
check-conformance: layerdiff $(BUILD)/conformance
	@bash tests/run_all.sh conformance
check-e2e: layerdiff
	@bash tests/run_all.sh e2e
check-asan: layerdiff-asan $(UNIT_ASAN) $(BUILD)/conformance-asan
	@bash tests/run_all.sh asan

bench: deps layerdiff
	@bash tools/bench.sh

demo: deps
	@$(MAKE) --no-print-directory -j$(NPROC) layerdiff
	@bash tools/demo.sh

lint-man:
	mandoc -T lint -W warning man/*.[1-9]

install: layerdiff lib
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR)
	install -m 755 layerdiff $(DESTDIR)$(BINDIR)/layerdiff
	if [ -e layerdiff-mpi ]; then install -m 755 layerdiff-mpi $(DESTDIR)$(BINDIR)/layerdiff-mpi; fi
	install -m 644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	if ls man/*.3 >/dev/null 2>&1; then install -m 644 man/*.3 $(DESTDIR)$(MANDIR)/man3/; fi
	if ls man/*.5 >/dev/null 2>&1; then install -m 644 man/*.5 $(DESTDIR)$(MANDIR)/man5/; fi
	install -m 755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf liblayerdiff.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/liblayerdiff.so
	install -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	install -m 644 include/layerdiff.h $(DESTDIR)$(INCDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@LIBS_PRIVATE@|$(BLAS_LIBS) -lpng -ljpeg -lz -lm -fopenmp|' \
		layerdiff.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/layerdiff.pc

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/layerdiff $(DESTDIR)$(BINDIR)/layerdiff-mpi
	for f in man/*.1; do rm -f $(DESTDIR)$(MANDIR)/man1/$$(basename $$f); done
	for f in man/*.3; do [ -e "$$f" ] && rm -f $(DESTDIR)$(MANDIR)/man3/$$(basename $$f); done; true
	for f in man/*.5; do [ -e "$$f" ] && rm -f $(DESTDIR)$(MANDIR)/man5/$$(basename $$f); done; true
	rm -f $(DESTDIR)$(LIBDIR)/liblayerdiff.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/liblayerdiff.so \
		$(DESTDIR)$(LIBDIR)/liblayerdiff.a $(DESTDIR)$(INCDIR)/layerdiff.h $(DESTDIR)$(LIBDIR)/pkgconfig/layerdiff.pc

clean:
	rm -rf build layerdiff layerdiff-asan layerdiff-mpi

$(BUILD)/conformance: tests/tools/conformance.c $(LIBOBJ)
	@mkdir -p build
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBOBJ) $(LDLIBS)
$(BUILD)/conformance-asan: tests/tools/conformance.c $(ASAN_LIBOBJ)
	@mkdir -p build
	$(CC) $(ALL_CFLAGS) -O1 $(ASAN_FLAGS) -o $@ $< $(ASAN_LIBOBJ) $(LDLIBS)
