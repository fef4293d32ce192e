# tools/pyrec.mk - bin/pyrec-embed, the CPython allocator recorder
# (tools/pyrec.c; run it through the tools/pyrec wrapper). It loads
# libpython at run time, so it needs only libdl, zlib and cJSON to build;
# the trace writers (sim/tracetext.c for text, sim/tracebin.c for -o
# FILE.msb, and what they use) are compiled in. It is built the same way
# in every BUILD flavour: it produces the ground truth the tests judge
# memsim by, it is not itself the code under test.
PYREC_SIM := sim/tracebin.c sim/tracetext.c sim/trace.c sim/event.c sim/sink.c sim/typetab.c \
	sim/xalloc.c sim/error.c

tools: bin/pyrec-embed

bin/pyrec-embed: tools/pyrec.c tools/pyrec.mk $(PYREC_SIM) $(PYREC_SIM:.c=.h) sim/decimal.h
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O2 -g $(DEPS_CFLAGS) -Isim $(CFLAGS) -o $@ $< $(PYREC_SIM) $(LDFLAGS) -ldl $(DEPS_LIBS)
