# tests/fuzz/fuzz.mk - libFuzzer harnesses (docs/testing.md, "Fuzzing").
#
#   make fuzz              each harness for FUZZ_SECONDS (default 300) s
#   make fuzz-ci           each harness for FUZZ_CI_SECONDS (default 30) s
#   make fuzz-build        only build them (build/fuzz/fuzz_*)
#
# Harnesses are built with clang -fsanitize=fuzzer,address,undefined over
# their own copy of the library (build/fuzz/libmemsim.a, debug checks on).
# Each runs on its checked-in seed corpus tests/fuzz/corpus/NAME/ plus a
# working corpus build/fuzz/corpus/NAME/ that keeps what it discovers;
# anything found is written to build/fuzz/findings/NAME-* and fails the
# target. A finding becomes a file under tests/fuzz/regressions/NAME/,
# which tests/e2e/fuzz-regressions.sh replays in every test run.
#
# Harnesses that need a module not on this branch are left out with a
# note: policy and replay need sim/presets.c, mtrace needs sim/mtrace.c.

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 300
FUZZ_CI_SECONDS ?= 30
FUZZ_O := build/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := $(CSTD) -g -O1 -fno-omit-frame-pointer -DMEMSIM_DEBUG \
	$(FUZZ_SAN) -fsanitize=fuzzer-no-link $(DEPS_CFLAGS)
# -max_len: traces and policies of up to 64 KiB; -timeout: a single input
# slower than 10 s is a finding (memsim is linear in its input).
FUZZ_FLAGS ?= -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1

FUZZ_NAMES := trace binary
ifneq ($(wildcard sim/presets.c),)
FUZZ_NAMES += policy replay
else
FUZZ_MISSING += policy replay (need sim/presets.c)
endif
ifneq ($(wildcard tests/fuzz/fuzz_mtrace.c),)
FUZZ_NAMES += mtrace
endif
FUZZ_NAMES += heaptrack
FUZZ_BINS := $(FUZZ_NAMES:%=$(FUZZ_O)/fuzz_%)
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_O)/%.o)

.PHONY: fuzz fuzz-ci fuzz-build
fuzz-build: $(FUZZ_BINS)
ifneq ($(FUZZ_MISSING),)
	@echo "fuzz: skipped: $(FUZZ_MISSING)"
endif

$(FUZZ_O)/sim/%.o: sim/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_O)/libmemsim.a: $(FUZZ_LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_O)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_io.h tests/fuzz/fuzz_passes.h $(FUZZ_O)/libmemsim.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -D_GNU_SOURCE -Isim -fsanitize=fuzzer -o $@ $< \
		$(FUZZ_O)/libmemsim.a $(DEPS_LIBS) -lm

# fuzz_run SECONDS: every harness in turn; stops at the first finding.
define fuzz_run
	@set -e; for n in $(FUZZ_NAMES); do \
		mkdir -p $(FUZZ_O)/corpus/$$n $(FUZZ_O)/findings; \
		echo "fuzz: $$n for $(1) s"; \
		dict=; [ -f tests/fuzz/$$n.dict ] && dict=-dict=tests/fuzz/$$n.dict; \
		if ! $(FUZZ_O)/fuzz_$$n $(FUZZ_FLAGS) $$dict -max_total_time=$(1) \
			-artifact_prefix=$(FUZZ_O)/findings/$$n- \
			$(FUZZ_O)/corpus/$$n tests/fuzz/corpus/$$n \
			>$(FUZZ_O)/$$n.log 2>&1; then \
			tail -60 $(FUZZ_O)/$$n.log; \
			echo "fuzz: $$n FAILED: finding in $(FUZZ_O)/findings/ (log $(FUZZ_O)/$$n.log)"; \
			exit 1; \
		fi; \
		grep -E '^stat::number_of_executed_units|^Done' $(FUZZ_O)/$$n.log | tr '\n' ' '; echo; \
	done
endef

fuzz: fuzz-build
	$(call fuzz_run,$(FUZZ_SECONDS))

fuzz-ci: fuzz-build
	$(call fuzz_run,$(FUZZ_CI_SECONDS))

-include $(FUZZ_LIB_OBJS:.o=.d)
