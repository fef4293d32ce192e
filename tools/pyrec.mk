# tools/pyrec.mk - bin/pyrec-embed, the CPython recorder (tools/pyrec.c and
# its modules tools/pyrec_*.c; run it through the tools/pyrec wrapper). It
# loads libpython at run time, so it needs only libdl, zlib and cJSON to
# build; the trace writer (sim/tracewrite.c with its text form
# sim/tracetext.c and its binary form sim/tracebin.c, and what they use)
# is compiled in. It is built the same way in
# every BUILD flavour: it produces the ground truth the tests judge memsim
# by, it is not itself the code under test.
PYREC_SIM := sim/tracewrite.c sim/tracebin.c sim/tracetext.c sim/tracerules.c sim/sitetab.c \
	sim/stable.c sim/event.c sim/sink.c sim/typetab.c sim/xalloc.c sim/error.c
PYREC_MODS := tools/pyrec_blocks.c tools/pyrec_types.c tools/pyrec_watch.c

tools: bin/pyrec-embed

bin/pyrec-embed: tools/pyrec.c tools/pyrec.mk $(PYREC_MODS) $(PYREC_MODS:.c=.h) $(PYREC_SIM) \
		$(PYREC_SIM:.c=.h) sim/decimal.h
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O2 -g $(DEPS_CFLAGS) -Isim $(CFLAGS) -o $@ $< $(PYREC_MODS) \
		$(PYREC_SIM) $(LDFLAGS) -ldl $(DEPS_LIBS)

# Unit tests of pyrec's modules, in the flavour being tested.
$(O)/tests/unit/test_pyrec_blocks: tests/unit/test_pyrec_blocks.c tools/pyrec_blocks.c \
		tools/pyrec_blocks.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< tools/pyrec_blocks.c $(ALL_LDFLAGS)
