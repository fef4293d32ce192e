# tests/valgrind/valgrind.mk - `make valgrind`: the golden end-to-end tests
# with every memsim run under memcheck (tests/valgrind/memsim-vg). Passes
# only with zero errors and zero definite/indirect leaks: any memcheck
# report makes that run exit 99 (its test fails) and leaves a non-empty
# log in build/valgrind/.
#
# Left out: adversarial.sh (10^7-object traces, hours under memcheck) and
# resources.sh (its RLIMIT_AS guard and signal timing are not meaningful
# under valgrind). Both run under ASan in `make asan`. The binary is the
# release build (-O2 -g): memcheck on -O0 is several times slower.
VALGRIND_SKIP ?= adversarial.sh resources.sh
VALGRIND_SCRIPTS = $(filter-out $(VALGRIND_SKIP),$(notdir $(wildcard tests/e2e/*.sh)))

valgrind:
	@$(MAKE) --no-print-directory BUILD=release test-build
	@rm -rf build/valgrind && mkdir -p build/valgrind
	@fail=0; for s in $(VALGRIND_SCRIPTS); do \
		VG_MEMSIM=$(CURDIR)/bin/memsim VG_LOGDIR=$(CURDIR)/build/valgrind \
		MEMSIM=$(CURDIR)/tests/valgrind/memsim-vg UNIT_DIR=/nonexistent \
		TEST_FILTER=e2e/$$s sh tests/run.sh || fail=1; \
	done; \
	for l in build/valgrind/vg.*.log; do \
		[ -s "$$l" ] || continue; fail=1; echo "valgrind: $$l:"; head -40 "$$l"; \
	done; \
	if [ $$fail = 0 ]; then echo "valgrind: no errors, no leaks"; else echo "valgrind: FAILED"; exit 1; fi
