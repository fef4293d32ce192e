# tools/bench-decode.mk - build/$(BUILD)/tools/bench-decode, the decode-only
# loop of tools/bench.sh (links the simulator's library).
tools: $(O)/tools/bench-decode

$(O)/tools/bench-decode: tools/bench-decode.c $(O)/libmemsim.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isim -o $@ $< $(O)/libmemsim.a $(ALL_LDFLAGS) $(LIBS)
