# tools/pyrec.mk - bin/pyrec-embed, the CPython allocator recorder
# (tools/pyrec.c; run it through the tools/pyrec wrapper). It loads
# libpython at run time, so it needs only libdl and zlib to build.
tools: bin/pyrec-embed

bin/pyrec-embed: tools/pyrec.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(MODE_CFLAGS) $(DEPS_CFLAGS) $(CFLAGS) -o $@ $< \
		$(ALL_LDFLAGS) -ldl -lz
