# tests/fuzz/fuzz.mk — libFuzzer harnesses (clang, -fsanitize=fuzzer,address,undefined), included
# by the top Makefile. The library is compiled a third time, with clang and coverage
# instrumentation, into $(BUILD)/fuzz/; each tests/fuzz/fuzz_NAME.c links against it.
#   make fuzz FUZZ_SECONDS=N    build, then run every harness for N seconds (one job each)
#   make fuzz-build             just build them
# tests/run_all.sh fuzz replays the corpora and regressions and runs each harness briefly.

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# -Wno-unknown-warning-option and friends: gcc-only flags in WARN are harmless to clang.
FUZZ_CFLAGS = $(filter-out $(CFLAGS),$(ALL_CFLAGS)) -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
              -Wno-unknown-warning-option -Wno-pass-failed -DLD_FUZZ=1
FUZZ_OBJ := $(patsubst $(BUILD)/obj/%,$(BUILD)/fuzz/obj/%,$(LIBOBJ))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))

.PHONY: fuzz fuzz-build

fuzz-build: $(FUZZ_BIN)

fuzz: deps
	@$(MAKE) --no-print-directory -j$(NPROC) fuzz-build
	@bash tests/fuzz/run.sh campaign $(FUZZ_SECONDS)

$(BUILD)/fuzz/obj/onnx.pb-c.o: $(GEN_C)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link -I$(BUILD)/gen $(PKG_CFLAGS) -c -o $@ $<
$(BUILD)/fuzz/obj/%.o: src/%.c | $(GEN_H)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<
-include $(FUZZ_OBJ:.o=.d)

$(BUILD)/libld-fuzz.a: $(FUZZ_OBJ)
	rm -f $@ && ar rcs $@ $(FUZZ_OBJ)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(BUILD)/libld-fuzz.a
	@mkdir -p $(BUILD)/fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/libld-fuzz.a $(LDLIBS)
