# memsim - one Makefile for the simulator, its tools and its tests.
#
#   make            bin/memsim and the tools (release build)
#   make test       every test tier against the release build
#   make check      the tests against a debug build with validators on
#   make asan       the tests under AddressSanitizer + UBSan
#   make valgrind   golden tests under memcheck
#   make bench      throughput benchmark (docs/performance.md)
#   make clean
#
# BUILD selects the flavour; objects go to build/$(BUILD)/.

BUILD ?= release
O := build/$(BUILD)

CC ?= cc
PKG_CONFIG ?= pkg-config

DEPS_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcjson zlib libzstd 2>/dev/null)
DEPS_LIBS := $(shell $(PKG_CONFIG) --libs libcjson zlib libzstd 2>/dev/null || echo -lcjson -lz -lzstd)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wconversion -Wno-sign-conversion -Wformat=2 -Wundef -Wcast-align \
	-Wpointer-arith -Wvla
CSTD := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE

ifeq ($(BUILD),release)
MODE_CFLAGS := -O2 -g
else ifeq ($(BUILD),check)
MODE_CFLAGS := -O0 -g -DMEMSIM_DEBUG
else ifeq ($(BUILD),asan)
MODE_CFLAGS := -O1 -g -DMEMSIM_DEBUG -fsanitize=address,undefined \
	-fno-omit-frame-pointer -fno-sanitize-recover=all
MODE_LDFLAGS := -fsanitize=address,undefined
else ifeq ($(BUILD),tsan)
MODE_CFLAGS := -O1 -g -fsanitize=thread -fno-omit-frame-pointer
MODE_LDFLAGS := -fsanitize=thread
else ifeq ($(BUILD),coverage)
MODE_CFLAGS := -O0 -g --coverage
MODE_LDFLAGS := --coverage
else
$(error unknown BUILD '$(BUILD)': release, check, asan, tsan or coverage)
endif

ifeq ($(WERROR),1)
WARN += -Werror
endif

CFLAGS ?=
LDFLAGS ?=
ALL_CFLAGS := $(CSTD) $(WARN) $(MODE_CFLAGS) $(DEPS_CFLAGS) -MMD -MP $(CFLAGS)
ALL_LDFLAGS := $(MODE_LDFLAGS) $(LDFLAGS)
LIBS := $(DEPS_LIBS) -lm -lpthread

# The simulator: every sim/*.c is one module (ls sim/ is the architecture);
# main.c is the program, the rest is the library the tests link.
SIM_SRCS := $(sort $(wildcard sim/*.c))
LIB_SRCS := $(filter-out sim/main.c,$(SIM_SRCS))
LIB_OBJS := $(LIB_SRCS:%.c=$(O)/%.o)
MAIN_OBJ := $(O)/sim/main.o

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:%.c=$(O)/%)

ifeq ($(BUILD),release)
MEMSIM := bin/memsim
else
MEMSIM := $(O)/memsim
endif

.PHONY: all tools test check asan tsan valgrind bench clean test-build test-all report
all: $(MEMSIM) tools

$(MEMSIM): $(MAIN_OBJ) $(O)/libmemsim.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(O)/libmemsim.a: $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)/tests/unit/%: tests/unit/%.c $(O)/libmemsim.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isim -o $@ $< $(O)/libmemsim.a $(ALL_LDFLAGS) $(LIBS)

-include $(wildcard tools/*.mk tests/*/*.mk)

test-build: $(MEMSIM) $(UNIT_BINS) tools

test: test-build
	@MEMSIM=$(CURDIR)/$(MEMSIM) UNIT_DIR=$(CURDIR)/$(O)/tests/unit \
		BUILD=$(BUILD) sh tests/run.sh

check:
	@$(MAKE) --no-print-directory BUILD=check test

asan:
	@$(MAKE) --no-print-directory BUILD=asan test

# The replay's reading and simulation threads under ThreadSanitizer: the
# end-to-end scripts that replay with several policies and threads (all
# of tests/e2e takes ~10 minutes under TSan: `make BUILD=tsan TEST_FILTER=e2e/
# test`). Any report fails the test that triggered it.
TSAN_TESTS ?= jobs errors golden reports policies gc_cpython
tsan:
	@$(MAKE) --no-print-directory BUILD=tsan test-build
	@for t in $(TSAN_TESTS); do \
		TSAN_OPTIONS="halt_on_error=1 $${TSAN_OPTIONS:-}" \
		$(MAKE) --no-print-directory BUILD=tsan TEST_FILTER=e2e/$$t test || exit 1; \
	done

# Every test tier, as CI runs it (README's second command): fuzzers for a
# short bounded time, the golden tests under memcheck, the threaded replays
# under ThreadSanitizer, then the whole suite
# in the release build and under ASan + UBSan (whose closing
# "N passed, N failed" line ends the output). About 15 minutes here.
test-all:
	@$(MAKE) --no-print-directory fuzz-ci FUZZ_CI_SECONDS=30
	@$(MAKE) --no-print-directory valgrind
	@$(MAKE) --no-print-directory tsan
	@$(MAKE) --no-print-directory test
	@$(MAKE) --no-print-directory asan

# The main job on the bundled traces (README's first command): the table,
# JSON, CSV, plots (with gnuplot) and $(REPORT_DIR)/index.html.
REPORT_DIR ?= out
REPORT_POLICIES ?= -p cpython-2.4 -p cpython-2.7 -p cpython-3.11 -p cpython-3.13 \
	-p malloc -p cpython-2.7:freelists.mode=shared
REPORT_BASELINE ?= cpython-2.7
# With the bundled traces, seed scenario 1 (arenas never released) at
# 2^20 objects, generated into build/traces/ in binary: at its 10M
# (`make traces`) six policies take ~5 GB of memsim's memory and over a
# minute; 2^20 holds the same 66-vs-1 arenas story in 0.6 GB and ~3 s.
REPORT_TRACES = $(wildcard traces/*.trace traces/*.trace.gz) $(TRACES_DIR)/seed-arenas-1m.msb
report: all $(TRACES_DIR)/seed-arenas-1m.msb
	$(MEMSIM) replay -q --out $(REPORT_DIR) --baseline $(REPORT_BASELINE) \
		$(REPORT_POLICIES) $(REPORT_TRACES)
	@echo "report: $(REPORT_DIR)/index.html"

bench: all
	@MEMSIM=$(MEMSIM) GEN=$(O)/tools/gen-bench REAL=$(O)/tools/replay-real sh tools/bench.sh

clean:
	rm -rf build bin out

-include $(LIB_OBJS:.o=.d) $(MAIN_OBJ:.o=.d) $(UNIT_BINS:=.d)
