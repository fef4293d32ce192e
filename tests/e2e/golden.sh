#!/bin/bash
# Golden text report: the spec's cycle trace (traces/cycle.trace, 7
# events) under PYTHONMALLOC=malloc and under 3.11's pymalloc, collector
# off, compared byte for byte with tests/golden/cycle-malloc-3.11.txt.
# Every number in that file was derived by hand first:
#
# Both: live 56 B after event 1, 112 B (2 objects) from event 2 to the
# end (no collector, so the cycle stays); no free-list hit, 2 misses (two
# `list` creations, nothing parked); collector off: 0 pauses, MMU 100%,
# run time 7 events x 15 ns = 105 ns (0.000 ms).
#
# [1] malloc (glibc model): a 56-byte request takes a chunk of
#   max(32, round_up(56 + 8, 16)) = 64 bytes; the first malloc first
#   allocates glibc's tcache struct (640 bytes: a 656-byte chunk), which
#   grows brk by round_up(656 + 131072 (top pad) + 32 - 0, 4096) = 135168
#   = 132.00 KiB, the footprint from event 1 on; all three chunks lie in
#   the first page: RSS 4 KiB. Allocated 2 x 64 = 128 B (the tcache
#   struct is no block of the program). mallinfo2: arena 135168, ordblks
#   1 (top), uordblks 656 + 128 = 784, fordblks = keepcost = 135168 - 784
#   = 134384, no fast, tcache or mmapped chunks; max_system_mem 135168;
#   thresholds at their defaults (131072).
#   jw1 = 7 x 135168 / (56 + 6 x 112) - 1 = 946176 / 728 - 1 = 1298.6923
#   (129869.23%); jw2 = (135168 - 112) / 112 = 1205.8571 (120585.71%);
#   jw3 = (135168 - 56) / 56 = 2412.7143 (241271.43%); jw4 = jw2.
# [2] cpython-3.11: 56 bytes -> the 64-byte class; one 1 MiB arena from
#   mmap, not pool-aligned, so 64 - 1 = 63 usable 16 KiB pools, one in
#   use: 62 unused (1015808 B), 16384 B lost to alignment; the pool holds
#   (16384 - 48) / 64 = 255 blocks, 2 used (128 B), 253 available
#   (16192 B), (16384 - 48) mod 64 = 16 B of quantization, 48 B of header:
#   128 + 16192 + 1015808 + 48 + 16 + 16384 = 1048576 = total. The header
#   and both blocks lie in the pool's first page: RSS 4 KiB.
#   jw1 = 7 x 1048576 / 728 - 1 = 10081.4615 (1008146.15%);
#   jw2 = (1048576 - 112) / 112 (936128.57%); jw3 = (1048576 - 56) / 56
#   (1872357.14%); jw4 = jw2.
#   Below it, the glibc model holds the arena as one 1 MiB mapping ("all
#   mappings") and no brk heap.
# The text shows values to three significant digits: 135168 B = 132 KiB,
# free = top 134384 B = 131.2 KiB -> "131 KiB", 16192 B = 15.8 KiB,
# 1015808 B = 992 KiB; run time 105 ns. The mean live bytes (jw1's denominator) are
# 728 / 7 = 104 B, the live bytes at the peak footprint (event 1) 56 B:
# every ratio's live bytes are below the 1 MiB floor, so all four are
# "n/a" with the note. Rows zero or absent under both policies are
# hidden: free lists' peak held, held at end, hits, blocked (4) and the
# list type's hits, blocked, held, blocks, blocks freed (5); 17 of the
# collector's 18 rows, all but the run time (its four MMU rows are idle at
# 100%; the collector "none" has no generations, so no rows by
# generation); glibc's fastbin chunks and bytes, mmapped chunks and
# bytes, tcache chunks and bytes (6); pymalloc's arenas released (1):
# 4 + 5 + 17 + 6 + 1 = 33. Under cpython-3.11 the glibc model below
# pymalloc has no brk heap: arena 0, ordblks 1 (the empty top, as
# int_mallinfo counts it), its thresholds at their defaults.
. "$ROOT/tests/lib.sh"
# Run from the tree so the report names the trace as traces/cycle.trace.
cd "$ROOT" || exit 1
t_run replay -p malloc:gc.policy=none -p cpython-3.11:gc.policy=none traces/cycle.trace
t_is "golden: exit 0" "$T_STATUS" 0
printf '%s\n' "$T_OUT" >"$T/got.txt"
if diff -u "$ROOT/tests/golden/cycle-malloc-3.11.txt" "$T/got.txt" >"$T/diff"; then
	t_pass "golden: text report byte for byte"
else
	t_fail "golden: text report byte for byte"
	sed 's/^/# /' "$T/diff" | head -40
fi
t_is "golden: fits 80 columns" "$(awk 'length > 79' "$T/got.txt" | wc -l | tr -d ' ')" 0
t_done
