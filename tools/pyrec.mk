# tools/pyrec.mk - bin/pyrec-embed, the CPython allocator recorder
# (tools/pyrec.c; run it through the tools/pyrec wrapper). It loads
# libpython at run time, so it needs only libdl and zlib to build. It is
# built the same way in every BUILD flavour: it produces the ground truth
# the tests judge memsim by, it is not itself the code under test.
tools: bin/pyrec-embed

bin/pyrec-embed: tools/pyrec.c tools/pyrec.mk
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O2 -g $(CFLAGS) -o $@ $< $(LDFLAGS) -ldl -lz
