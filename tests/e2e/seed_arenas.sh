#!/bin/bash
# Seed scenario 1: "arenas are never released" (Python <= 2.4) against
# "empty arenas are freed" (2.5+). N 16-byte objects are allocated, all
# freed, then a working set of 1000 kept objects and 100 rounds of 1000
# short-lived ones runs. N is 10 x 1024 x 1024 (the seed's figure); the
# slow tiers (t_slow: asan, valgrind) use 1024 x 1024 to stay quick, with the same formulas.
. "$ROOT/tests/lib.sh"
GEN="$ROOT/build/${BUILD:-release}/tools/gen-scenario"
N=$((10 * 1024 * 1024))
t_slow && N=$((1024 * 1024))

# Hand derivation (docs/policies.md, pymalloc and glibc):
# - 2.x pymalloc: 4 KiB pools with a 48-byte header hold (4096-48)/16 = 253
#   16-byte blocks; arenas are malloc(256 KiB). glibc serves that with a
#   private mapping of round_up(262144 + 8 rounded to 16 + 8, 4096) =
#   266240 bytes (65 pages, counted resident at once); the arena starts 16
#   bytes into it, not pool-aligned, so it holds 63 pools, not 64.
# - pools = ceil(N / 253), arenas = ceil(pools / 63), and at the peak the
#   footprint and RSS are arenas * 266240 bytes, plus glibc's brk heap,
#   which its first malloc made for its 656-byte tcache struct
#   (ALIGN_UP(656 + 131072 + 32, 4096) = 135168 bytes, one page resident);
#   live = N * 16.
pools=$(( (N + 252) / 253 ))
arenas=$(( (pools + 62) / 63 ))
peak=$(( arenas * 266240 + 135168 ))
peak_rss=$(( arenas * 266240 + 4096 ))

"$GEN" arenas -n "$N" | "$MEMSIM" replay -q --format json -p cpython-2.4 -p cpython-2.5 - >"$T/.out" 2>"$T/.err"
t_is "replay succeeds" "$?" 0
for i in 0 1; do
	p=".traces[0].policies[$i]"
	name=$(jqv "$p.name")
	t_is "$name: peak live = N * 16" "$(jqv "$p.peak_live_bytes")" $((N * 16))
	t_is "$name: arenas at the peak" "$(jqv "$p.pymalloc.arenas_highwater")" "$arenas"
	t_is "$name: peak footprint = arenas * 266240 + brk heap" "$(jqv "$p.peak_footprint_bytes")" "$peak"
	t_is "$name: peak RSS = arenas * 266240 + 1 page" "$(jqv "$p.peak_rss_bytes")" "$peak_rss"
	t_is "$name: final live = 1000 kept * 16" "$(jqv "$p.final_live_bytes")" 16000
done

# 2.4 never frees an arena: its empty pools go to one global free list
# and the working set reuses them, so it holds its peak to the end.
p=".traces[0].policies[0]"
t_is "2.4: final RSS = peak" "$(jqv "$p.final_rss_bytes")" "$peak_rss"
t_is "2.4: final footprint = peak" "$(jqv "$p.final_footprint_bytes")" "$peak"
t_is "2.4: no arena reclaimed" "$(jqv "$p.pymalloc.arenas_reclaimed")" 0
t_is "2.4: every arena still allocated" "$(jqv "$p.pymalloc.arenas_allocated_current")" "$arenas"

# 2.5 frees each arena as it empties: all of them. Freeing a 266240-byte
# mapped chunk raises glibc's dynamic mmap threshold to 266240, so the
# working set's one new arena (malloc(262144): chunk 262160) comes from the
# brk heap, after the 656-byte tcache chunk: top (135168 - 656 = 134512)
# is too small, brk grows by round_up(262160 + 128 KiB top pad + 32 -
# 134512, 4096) = 262144 to 397312 bytes, of which the pages up to top's
# header are touched: ceil((656 + 262160 + 16) / 4096) = 65 pages =
# 266240 bytes resident.
p=".traces[0].policies[1]"
t_is "2.5: every arena reclaimed" "$(jqv "$p.pymalloc.arenas_reclaimed")" "$arenas"
t_is "2.5: one arena for the working set" "$(jqv "$p.pymalloc.arenas_allocated_current")" 1
t_is "2.5: arenas allocated in all" "$(jqv "$p.pymalloc.arenas_allocated_total")" $((arenas + 1))
t_is "2.5: final footprint (brk heap)" "$(jqv "$p.final_footprint_bytes")" 397312
t_is "2.5: final RSS" "$(jqv "$p.final_rss_bytes")" 266240
t_done
