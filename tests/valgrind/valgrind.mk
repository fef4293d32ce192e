# tests/valgrind/valgrind.mk - `make valgrind`: the unit test binaries and
# the golden end-to-end scripts with every memsim run under memcheck
# (tests/valgrind/vg). Passes only with zero errors and zero
# definite/indirect leaks: any memcheck report makes that process exit 99
# (its test fails) and leaves a non-empty log in build/valgrind/. The
# scripts see MEMSIM_VALGRIND=1, so t_slow (tests/lib.sh) scales their
# generated traces down as under ASan. VALGRIND_JOBS scripts run at once.
#
# adversarial.sh runs at its reduced sizes (t_slow: 10^6-object chains and
# cycles, a 3-million-event stream), about 40 s. Left out
# (docs/testing.md): resources.sh (its RLIMIT_AS guard and signal timing are
# not meaningful under valgrind), cpython_pymalloc.sh and memrec.sh (real
# interpreters recorded and compared, ~100 memsim runs on large recordings;
# they judge the model, not memory safety), glibc_exact.sh (needs
# replay-real from the unit build's tools directory, which this tier does
# not pass, and judges the model against the real glibc; a script whose
# every test is skipped fails tests/run.sh), examples.sh (every documented
# example verbatim on the bundled traces, 400,000-event replays: it checks
# the documentation; the commands it runs are the paths reports.sh and
# the golden scripts cover). All run under ASan in `make asan`. The
# binary is the release build (-O2 -g): memcheck on -O0 is several times
# slower.
VALGRIND_SKIP ?= resources.sh cpython_pymalloc.sh cpython_mimalloc.sh memrec.sh glibc_exact.sh examples.sh
VALGRIND_JOBS ?= 2
VALGRIND_SCRIPTS = $(filter-out $(VALGRIND_SKIP),$(notdir $(wildcard tests/e2e/*.sh)))
VALGRIND_UNITS = $(notdir $(UNIT_SRCS:.c=))
VG_DIR := $(CURDIR)/build/valgrind
VG_ENV = VG_LOGDIR=$(VG_DIR) MEMSIM_VALGRIND=1

# vg-e2e/NAME and vg-unit/NAME are never files, so they always run (a
# pattern rule would not apply to a .PHONY target).
.PHONY: valgrind vg-run
valgrind:
	@$(MAKE) --no-print-directory BUILD=release test-build
	@rm -rf build/valgrind && mkdir -p build/valgrind
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory -k -j$(VALGRIND_JOBS) vg-run; \
	fail=0; ls build/valgrind/*.rc >/dev/null 2>&1 || fail=1; for r in build/valgrind/*.rc; do [ "$$(cat $$r)" = 0 ] || fail=1; done; \
	for l in build/valgrind/vg.*.log; do \
		[ -s "$$l" ] || continue; fail=1; echo "valgrind: $$l:"; head -40 "$$l"; \
	done; \
	echo "valgrind: $$(($$(date +%s) - start)) s"; \
	if [ $$fail = 0 ]; then echo "valgrind: no errors, no leaks"; else echo "valgrind: FAILED"; exit 1; fi

# Slowest first (measured), so that the jobs finish close together.
VALGRIND_FIRST = convert.sh cli.sh gc_cpython.sh errors.sh fuzz-regressions.sh \
	reports.sh policies.sh seed_arenas.sh info.sh
VG_ORDER = $(foreach s,$(VALGRIND_FIRST),$(filter $(s),$(VALGRIND_SCRIPTS))) \
	$(filter-out $(VALGRIND_FIRST),$(VALGRIND_SCRIPTS))
VG_UNITS_FIRST = test_heap test_gc_cpython
VG_UNITS_REST = $(filter-out $(VG_UNITS_FIRST),$(VALGRIND_UNITS))
vg-run: $(VG_UNITS_FIRST:%=vg-unit/%) $(VG_ORDER:%=vg-e2e/%) $(VG_UNITS_REST:%=vg-unit/%)

vg-e2e/%:
	@$(VG_ENV) VG_MEMSIM=$(CURDIR)/bin/memsim MEMSIM=$(CURDIR)/tests/valgrind/memsim-vg \
		UNIT_DIR=/nonexistent TEST_FILTER=e2e/$* sh tests/run.sh \
		>build/valgrind/$*.out 2>&1; echo $$? >build/valgrind/$*.rc; \
		grep -v 'passed, .* failed' build/valgrind/$*.out || true

# run.sh takes a directory of unit binaries: one directory per binary.
vg-unit/%:
	@mkdir -p build/valgrind/unit/$* && \
	printf '#!/bin/sh\nexec %s %s "$$@"\n' $(CURDIR)/tests/valgrind/vg \
		$(CURDIR)/build/release/tests/unit/$* >build/valgrind/unit/$*/$* && \
	chmod +x build/valgrind/unit/$*/$* && \
	$(VG_ENV) UNIT_DIR=$(VG_DIR)/unit/$* TEST_FILTER=unit/ sh tests/run.sh \
		>build/valgrind/$*.out 2>&1; echo $$? >build/valgrind/$*.rc; \
		grep -v 'passed, .* failed' build/valgrind/$*.out || true
