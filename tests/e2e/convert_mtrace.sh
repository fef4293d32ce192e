#!/bin/bash
# memsim convert --from mtrace on the glibc 2.36 log recorded on Debian
# (tests/data/mtrace-prog.c made it; docs/recording.md says how).
. "$ROOT/tests/lib.sh"
LOG="$ROOT/tests/data/mtrace-glibc2.36.log"

# By hand from the log: mallocs of 100, 100, 30, 200, 0 and (strdup) 6
# bytes = 6 allocations; 2 realloc pairs (to 5000, then in place to 50);
# one (nil) result skipped; 5 frees; the 0-byte block stays live.
# Live bytes peak after the 200-byte malloc: 5000 + 50 + 30 + 200 = 5280.
# Bytes requested = 100+100+30+200+0+6 (a) + 5000+50 (r) = 5486.
t_run convert --from mtrace "$LOG" "$T/m.trace"
t_is "convert: exit 0" "$T_STATUS" 0
t_is "convert: counts on stderr" "$T_ERR" "memsim: converted $LOG: 18 lines read, 6 allocations, 2 reallocs, 5 frees, 1 failed allocations skipped, 1 blocks live at the end"
t_run info --format json "$T/m.trace"
t_is "info: events" "$(jqv .events.alloc) $(jqv .events.resize) $(jqv .events.free)" "6 2 5"
t_is "info: peak live bytes" "$(jqv .peak_live_bytes)" 5280
t_is "info: bytes requested" "$(jqv .bytes_requested_total)" 5486
t_is "info: one block left" "$(jqv .final_live_objects) $(jqv .final_live_bytes)" "1 0"
t_is "metadata names the source" "$(jqv .metadata.source)" mtrace

# Straight to binary and to gzip text: the same trace.
t_run convert -q --from mtrace "$LOG" "$T/m.msb"
t_is "binary: exit 0" "$T_STATUS" 0
t_run info --format json "$T/m.msb"
t_is "binary: same peak" "$(jqv .peak_live_bytes)" 5280
t_run convert -q --from mtrace "$LOG" "$T/m.trace.gz"
t_is "gzip: magic bytes" "$(head -c 2 "$T/m.trace.gz" | od -An -tx1 | tr -d ' ')" 1f8b

# A free of an address never allocated: an error naming the line by
# default, a counted skip with --lenient.
printf '= Start\n@ ./p:[0x1] + 0x10 0x8\n@ ./p:[0x2] - 0x20\n@ ./p:[0x3] - 0x10\n= End\n' >"$T/bad.log"
t_run convert --from mtrace "$T/bad.log" "$T/bad.trace"
t_is "strict: exit 65" "$T_STATUS" 65
t_is "strict: message" "$T_ERR" "memsim: $T/bad.log:3: free of address 0x20 that is not allocated: \"@ ./p:[0x2] - 0x20\""
t_ok "strict: no output file" test ! -e "$T/bad.trace"
t_is "strict: no temporary left" "$(ls "$T" | grep -c mtrace)" 0
t_run convert --from mtrace --lenient "$T/bad.log" "$T/bad.trace"
t_is "lenient: exit 0" "$T_STATUS" 0
t_like "lenient: the skip is counted" "$T_ERR" "1 frees of unallocated addresses skipped"
t_run info --format json "$T/bad.trace"
t_is "lenient: one alloc, one free" "$(jqv .events.alloc) $(jqv .events.free)" "1 1"
t_run convert --lenient "$T/m.trace" "$T/x.trace"
t_is "--lenient without --from mtrace: exit 64" "$T_STATUS" 64
t_done
