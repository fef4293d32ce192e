#!/bin/bash
# Seed scenario 6: one million long-lived containers (docs/scenarios.md).
# `tools/gen-gc-traces keep --startup 0`: keep = []; for i in range(N):
# keep.append([i]), without the interpreter's start-up objects (the trace
# still begins with one `c`, which finds nothing). The lists never die, so
# only the collector's bookkeeping matters; these are hand-derived counts,
# not CPython's (tests/e2e/gc_cpython.sh compares with the interpreters).
# One trace serves both policies: 3.11 and 3.13 grow lists alike (3.9+).
# The slow tiers (t_slow: asan, valgrind) use N = 100,000.
. "$ROOT/tests/lib.sh"
scenario_setup 1000000 100000
# Counted allocations: the keep list + N lists = N + 1 (ints are
# untracked, item arrays untyped). 3.11 collects at every 701st
# allocation: C = floor((N + 1) / 701); 3.13 (threshold 2000, deferred to
# the `s` that ends the same iteration) at every 2001st.
#
# Selection, everything survives: a gen-1 collection every 12th (count1
# > 10); gen 2 when count2 > 10 unless long_lived_pending <
# long_lived_total / 4, with pending = survivors of gen-1 collections
# since the last full one and total = survivors of the last full one.
# Between two gen-1 collections 12 collections' worth of objects arrive
# (u = 701 or 2001 each), so eleven gen-1 collections bring pending = 132u.
# 3.11 (u = 701): full collections at 133 (total 0), 266, 399, 532 (pending
# 132u = 92532 >= total / 4: 23308, 46616, 69924); at 665 pending 92532 <
# (701 * 532 - 1) / 4 = 93232, skipped until the next gen-1 collection
# adds 12u = 8412: full at 677; then pending must reach 118644 (k = 4 more
# gen-1 collections, full at 858), 150364 (k = 7, 1075), 188393 (k = 12,
# 1352). C = floor(1000001 / 701) = 1426: gen 2 at 133, 266, 399, 532,
# 677, 858, 1075, 1352 = 8; gen 1: 11 in each of the first four periods,
# 12, 15, 18, 23 in the next four, 6 after 1352 (1364 .. 1424) = 118;
# gen 0: 1426 - 118 - 8 = 1300. With N = 100000: C = 142 -> gen 2 at 133,
# gen 1 at 12 .. 132 = 11, gen 0 130.
# 3.13 (u = 2001): C = floor(1000001 / 2001) = 499; full at 133, 266, 399
# (pending 132u >= 133u / 4, 266u / 4); gen 1 11 + 11 + 11 + 8 (411 ..
# 495) = 41; gen 0 455. N = 100000: C = 49 -> gen 1 at 12, 24, 36, 48 = 4,
# gen 0 45, gen 2 0.
# Every count above gets one more gen-2 collection: the trace's `c`.
if [ "$N" -eq 1000000 ]; then
	want311="[1300, 118, 9]" want313="[455, 41, 4]"
else
	want311="[130, 11, 2]" want313="[45, 4, 1]"
fi
t_is "3.11 total = floor((N + 1) / 701)" $(( (N + 1) / 701 )) "$(python3 -c "import json; print(sum(json.loads('$want311')) - 1)")"
t_is "3.13 total = floor((N + 1) / 2001)" $(( (N + 1) / 2001 )) "$(python3 -c "import json; print(sum(json.loads('$want313')) - 1)")"

python3 "$ROOT/tools/gen-gc-traces" keep --version 3.11 --startup 0 -n "$N" >"$T/keep.trace"
scenario_replay "$T/keep.trace" cpython-3.11 cpython-3.13
t_is "replay succeeds" "$T_STATUS" 0
t_is "3.11: collections" "$(gens 0 collections)" "$want311"
t_is "3.13: collections" "$(gens 1 collections)" "$want313"
t_is "3.11: nothing collected" "$(gens 0 collected)" "[0, 0, 0]"
t_is "3.13: nothing collected" "$(gens 1 collected)" "[0, 0, 0]"
# Live at the end: the keep list, its item array, N lists with their N
# item arrays, and the N - 257 ints i > 256 that the lists hold (smaller
# ones are cached, not traced): 3N - 255.
t_is "3.11: final live objects = 3N - 255" "$(pol 0 final_live_objects)" $(( 3 * N - 255 ))
t_done
