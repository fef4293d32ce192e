# tools/tools.mk - small C tools built with the simulator.
TOOLS_BINS := $(O)/tools/gen-bench $(O)/tools/gen-scenario $(O)/tools/replay-real

tools: $(TOOLS_BINS)

$(O)/tools/%: tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(MODE_CFLAGS) $(CFLAGS) -o $@ $< $(ALL_LDFLAGS)
