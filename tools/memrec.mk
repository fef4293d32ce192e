# tools/memrec.mk - the malloc recorder's preload library (included by the
# top Makefile). tools/memrec is the script that runs a program under it.
#
# Always built optimised and without sanitizers, whatever BUILD is: it is
# loaded into other programs, where ASan's runtime cannot come first.
MEMREC_SO := bin/libmemrec.so

tools: $(MEMREC_SO)

# -fvisibility=hidden: only the interposed functions are exported.
# -Isim: only for the header-only sim/decimal.h; nothing of libmemsim is
# linked in (it allocates, which memrec may not do inside malloc).
$(MEMREC_SO): tools/memrec.c sim/decimal.h
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O2 -g -fPIC -shared -fvisibility=hidden \
		$(DEPS_CFLAGS) -Isim -o $@ $< -lz -ldl -lpthread
