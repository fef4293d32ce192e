# tools/tools.mk - small C tools built with the simulator.
TOOLS_BINS := $(O)/tools/gen-bench $(O)/tools/gen-scenario $(O)/tools/replay-real

tools: $(TOOLS_BINS) $(dir $(MEMSIM))replay-real

# The real: policies start replay-real from the directory of the memsim
# binary that runs them (sim/alloc_real.c), so it is copied there.
REAL_CHILD := $(dir $(MEMSIM))replay-real
$(REAL_CHILD): $(O)/tools/replay-real
	@mkdir -p $(dir $@)
	cp $< $@

# replay-real measures the real C library's malloc: it is built without
# sanitizers in every BUILD (ASan would replace malloc), like memrec.
$(O)/tools/replay-real: tools/replay-real.c sim/decimal.h sim/real_proto.h
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O2 -g $(CFLAGS) -Isim -o $@ $<

# Each links sim/units.o alone, so their counts read as memsim's do (64K, 0x...).
$(O)/tools/%: tools/%.c $(O)/sim/units.o
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(MODE_CFLAGS) $(CFLAGS) -Isim -o $@ $< $(O)/sim/units.o $(ALL_LDFLAGS)

# The large scenario traces are recipes, not files in git (traces/README.md):
# `make traces` writes them, gzipped, to build/traces/.
TRACES_DIR := build/traces
GEN_SCENARIO := $(O)/tools/gen-scenario
SCENARIO_TRACES := $(addprefix $(TRACES_DIR)/, seed-arenas.trace.gz pinning.trace.gz \
	server-clean.trace.gz server-pinned.trace.gz cycles-1m.trace.gz \
	gc-keep-3.11.trace.gz gc-keep-3.13.trace.gz int-then-float-1m.trace.gz)
.PHONY: traces
traces: $(SCENARIO_TRACES)

$(TRACES_DIR)/seed-arenas.trace.gz: $(GEN_SCENARIO)
	@mkdir -p $(dir $@)
	$(GEN_SCENARIO) arenas | gzip -1n > $@.tmp && mv $@.tmp $@
# make report's copy of scenario 1 (Makefile, REPORT_TRACES)
$(TRACES_DIR)/seed-arenas-1m.msb: $(GEN_SCENARIO) | $(MEMSIM)
	@mkdir -p $(dir $@)
	$(GEN_SCENARIO) arenas -n 1M | $(MEMSIM) convert -q - $@.tmp.msb && mv $@.tmp.msb $@
$(TRACES_DIR)/pinning.trace.gz: $(GEN_SCENARIO)
	@mkdir -p $(dir $@)
	$(GEN_SCENARIO) pinning -n 1000000 -f 500000 | gzip -9n > $@.tmp && mv $@.tmp $@
$(TRACES_DIR)/server-clean.trace.gz: $(GEN_SCENARIO)
	@mkdir -p $(dir $@)
	$(GEN_SCENARIO) server -n 1000 -k 0 | gzip -9n > $@.tmp && mv $@.tmp $@
$(TRACES_DIR)/server-pinned.trace.gz: $(GEN_SCENARIO)
	@mkdir -p $(dir $@)
	$(GEN_SCENARIO) server -n 1000 -k 1000 | gzip -9n > $@.tmp && mv $@.tmp $@
$(TRACES_DIR)/cycles-1m.trace.gz: $(GEN_SCENARIO)
	@mkdir -p $(dir $@)
	$(GEN_SCENARIO) cycles -n 1000000 | gzip -9n > $@.tmp && mv $@.tmp $@
$(TRACES_DIR)/gc-keep-%.trace.gz: tools/gen-gc-traces
	@mkdir -p $(dir $@)
	python3 tools/gen-gc-traces keep --version $* --startup 0 | gzip -9n > $@.tmp && mv $@.tmp $@
$(TRACES_DIR)/int-then-float-1m.trace.gz: tools/gen-freelist-scenarios
	@mkdir -p $(dir $@)
	python3 tools/gen-freelist-scenarios int-then-float -n 1000000 | gzip -9n > $@.tmp && mv $@.tmp $@
