# tests/coverage/coverage.mk - `make coverage`: every test tier against the
# gcov build (BUILD=coverage), then line and branch coverage of sim/ per
# file and in total (tests/coverage/summary.sh, plain gcov; no gcovr).
# docs/testing.md records the figure. Fails if a test failed.
.PHONY: coverage
coverage:
	@find build/coverage -name '*.gcda' -delete 2>/dev/null || true
	@status=0; $(MAKE) --no-print-directory BUILD=coverage test || status=$$?; \
	sh tests/coverage/summary.sh build/coverage/sim | tee build/coverage/summary.txt; \
	exit $$status
